"""The AST seen through the symbol table's eyes: one preorder pass yielding scope slots and name sites.

The pass numbers nodes exactly like ``syntax.walk_ast`` (same preorder, same skipped singletons), so
every ``ast_node_id`` it emits is the id of a ``py_ast_nodes`` row, without building that table.
Besides numbering, it tracks which symbol table CPython 3.13's ``symtable.c`` records each name in:

- a def's defaults, keyword defaults and decorators belong to the enclosing scope; with type
  parameters, the TYPE_PARAMETERS scope holds the type parameters, the argument/return annotations
  and (for a class) the bases and keywords; parameters and body belong to the FUNCTION scope;
- a comprehension's first iterable belongs to the enclosing scope, everything else to the
  comprehension (``symtable_handle_comprehension``); list/set/dict comprehensions are inlined in 3.13
  (PEP 709) and have no table: the alignment step (``anchors.py``) finds out which ones;
- a TypeVar's bound/constraints and default each get a TYPE_VARIABLE scope; a type alias's value a
  TYPE_ALIAS scope;
- under ``from __future__ import annotations`` annotations are not visited at all (they become
  strings); without it, annotations of local variables in a function are visited but never
  evaluated by the compiler;
- private names are mangled (``__x`` -> ``_C__x``) inside a class, and in a generic class's
  type-parameter scope only the type parameter names are (``ste_mangled_names``).

A *slot* is an expected symbol table; a *site* is one name occurrence. Nothing here reads symtable.
"""

import ast
import re
from dataclasses import dataclass, field

from codeintel_assets.extract.spans import LineIndex
from codeintel_assets.extract.syntax import child_fields

_SKIP = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_COMP_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp", ast.DictComp: "dictcomp", ast.GeneratorExp: "genexpr"}

# Annotation states of a context.
ANN_NONE, ANN_EVALUATED, ANN_STRINGIZED, ANN_UNEVALUATED = 0, 1, 2, 3


@dataclass(eq=False, slots=True)
class Slot:
    """A symbol table the AST predicts: type, table name, lineno, and the node that owns it."""

    scope_type: str
    name: str
    lineno: int
    owner: int  # AST ordinal of the owning construct (def, class, lambda, comprehension, alias, TypeVar)
    anchor: int  # AST ordinal of the node whose span is the scope's (bound expr for TYPE_VARIABLE)
    anchor_kind: str  # how the anchor relates to the scope (see anchors.py)
    span: tuple[int | None, int | None]
    parent: "Slot | None"
    order: int  # creation order among all slots of the file
    may_inline: bool = False
    unevaluated: bool = False  # inside an annotation the compiler never evaluates
    children: list["Slot"] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # symbol names recorded directly in this table
    comp_bound: set[str] = field(default_factory=set)  # comprehension iteration targets
    scope: object = None  # the aligned symtable Scope (anchors.py)
    inlined: bool = False  # a comprehension with no table of its own (PEP 709)


@dataclass(slots=True)
class NameSite:
    ordinal: int
    k: int
    ast_kind: str
    name: str
    symbol_name: str
    role: str  # def | use | kill | decl
    site_kind: str
    start: int | None
    end: int | None
    span_is_name: bool
    slot: Slot
    in_annotation: bool
    is_evaluated: bool
    is_implicit: bool = False


@dataclass
class AstScopes:
    root: Slot
    slots: list[Slot]
    sites: list[NameSite]
    node_count: int
    future_annotations: bool


class _Ctx:
    """Where a node's names go: slot, mangling state, annotation state, and a per-construct mode."""

    __slots__ = ("slot", "private", "mangle", "ann", "mode", "extra")

    def __init__(self, slot, private, mangle, ann, mode=None, extra=None):
        self.slot, self.private, self.mangle, self.ann, self.mode, self.extra = slot, private, mangle, ann, mode, extra

    def but(self, **kw) -> "_Ctx":
        c = _Ctx(self.slot, self.private, self.mangle, self.ann, None, None)
        for k, v in kw.items():
            setattr(c, k, v)
        return c


class _PerIndex:
    __slots__ = ("first", "rest")

    def __init__(self, first, rest):
        self.first, self.rest = first, rest


def mangle(private: str | None, name: str, restrict: frozenset | None = None) -> str:
    """CPython's _Py_MaybeMangle: ``__x`` -> ``_Class__x`` inside a class body (3.13 rules)."""
    if private is None or not name.startswith("__") or name.endswith("__") or "." in name:
        return name
    if restrict is not None and name not in restrict:
        return name
    stripped = private.lstrip("_")
    if not stripped:
        return name
    return f"_{stripped}{name}"


_WS = rb"(?:[ \t\f]|\\\r?\n|\\\r)+"
_DEF_KW = re.compile(rb"(?:async" + _WS + rb")?(?:def|class)" + _WS)
_IDENT_BYTE = re.compile(rb"[A-Za-z0-9_\x80-\xff]")


def has_future_annotations(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            if any(a.name == "annotations" for a in stmt.names):
                return True
            continue
        break
    return False


class _Walker:
    def __init__(self, utf8: bytes, lines: LineIndex):
        self.utf8 = utf8
        self.lines = lines
        self.offset = lines.offset
        self.line_starts = lines.line_starts
        self.slots: list[Slot] = []
        self.sites: list[NameSite] = []

    # -- helpers ----------------------------------------------------------------------------

    def span(self, node) -> tuple[int | None, int | None]:
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return None, None
        a = self.offset(lineno, node.col_offset)
        b = self.offset(node.end_lineno, node.end_col_offset)
        if a is None or b is None or b < a:
            return None, None
        return a, b

    def new_slot(self, scope_type, name, lineno, owner, anchor, anchor_kind, span, ctx: _Ctx, may_inline=False) -> Slot:
        parent = ctx.slot
        sl = Slot(scope_type, name, lineno, owner, anchor, anchor_kind, span, parent, len(self.slots), may_inline,
                  ctx.ann == ANN_UNEVALUATED or (parent is not None and parent.unevaluated))
        self.slots.append(sl)
        if parent is not None:
            parent.children.append(sl)
        return sl

    def site(self, o, k, node, name, role, kind, ctx: _Ctx, span=None, span_is_name=True, implicit=False,
             symbol_name=None) -> NameSite:
        if span is None:
            span = self.span(node)
        ann = ctx.ann
        sym = symbol_name if symbol_name is not None else mangle(ctx.private, name, ctx.mangle)
        s = NameSite(o, k, type(node).__name__, name, sym, role, kind, span[0], span[1], span_is_name, ctx.slot,
                     ann != ANN_NONE, ann in (ANN_NONE, ANN_EVALUATED), implicit)
        self.sites.append(s)
        if ann != ANN_STRINGIZED:
            ctx.slot.names.add(sym)
        return s

    def name_span(self, start: int | None, end: int | None, name: str, where: str) -> tuple[tuple, bool]:
        """Byte span of the identifier ``name`` inside [start, end): at the start, the end, or the first match."""
        if start is None:
            return (None, None), False
        nb = name.encode("utf-8")
        data = self.utf8
        if where == "start":
            if data.startswith(nb, start):
                return (start, start + len(nb)), True
        elif where == "end":
            if end is not None and data[end - len(nb):end] == nb:
                return (end - len(nb), end), True
        else:
            i = start
            stop = end if end is not None else len(data)
            while True:
                i = data.find(nb, i, stop)
                if i < 0:
                    break
                j = i + len(nb)
                if (i == 0 or not _IDENT_BYTE.match(data, i - 1)) and (j >= len(data) or not _IDENT_BYTE.match(data, j)):
                    return (i, j), True
                i = j
        return (start, end), False

    # -- the walk ---------------------------------------------------------------------------

    def walk(self, tree: ast.Module, future_annotations: bool) -> AstScopes:
        module_span = (0, self.lines.n_bytes)
        root = Slot("MODULE", "top", 0, 0, 0, "module", module_span, None, 0)
        self.slots.append(root)
        self.future = future_annotations
        stack = [(tree, _Ctx(root, None, None, ANN_NONE))]
        pop, push = stack.pop, stack.append
        counter = 0
        handlers = _NODE_HANDLERS
        name_t, load_t = ast.Name, ast.Load
        stringized = ANN_STRINGIZED
        while stack:
            node, ctx = pop()
            o = counter
            counter += 1
            t = type(node)
            mode = ctx.mode
            if t is name_t and mode is None and ctx.ann != stringized and type(node.ctx) is load_t \
                    and node.id != "super":
                self._load(o, node, ctx)  # the common case, without the handler dispatch
                continue
            if mode == "tv_anchor" and ctx.extra.anchor < 0:
                ctx.extra.anchor = o  # the root of a TypeVar bound/default: the TYPE_VARIABLE scope's node
            spec = child_fields(t)
            if ctx.ann == stringized:
                # symtable never visits a stringized annotation: names are recorded as unevaluated uses.
                if t is name_t:
                    self.site(o, 0, node, node.id, "use", "annotation_name", ctx)
                per_field = None
            else:
                h = handlers.get(t)
                per_field = None if h is None else h(self, node, o, ctx)
            # Push children last field first, last item first: they pop in preorder (walk_ast's order).
            for fname, is_list in spec:
                value = getattr(node, fname, None)
                if value is None:
                    continue
                cctx = ctx if per_field is None else per_field.get(fname, ctx)
                if is_list is None:  # node type without _field_types: test like walk_ast does
                    is_list = isinstance(value, list)
                    if not is_list and (not isinstance(value, ast.AST) or isinstance(value, _SKIP)):
                        continue
                    if is_list:
                        value = [v for v in value if isinstance(v, ast.AST) and not isinstance(v, _SKIP)]
                if is_list:
                    if type(cctx) is _PerIndex:
                        for i in range(len(value) - 1, -1, -1):
                            if value[i] is not None:
                                push((value[i], cctx.first if i == 0 else cctx.rest))
                    else:
                        for item in reversed(value):
                            if item is not None:
                                push((item, cctx))
                else:
                    push((value, cctx))
        return AstScopes(root, self.slots, self.sites, counter, future_annotations)

    def _load(self, o: int, node: ast.Name, ctx: _Ctx) -> None:
        """``site()`` for a plain Name load, inlined (about half of all nodes are Names)."""
        starts = self.line_starts
        ln, eln = node.lineno, node.end_lineno
        if 0 < ln < len(starts) and 0 < eln < len(starts):
            a, b = starts[ln] + node.col_offset, starts[eln] + node.end_col_offset
        else:
            a = b = None
        name = node.id
        sym = mangle(ctx.private, name, ctx.mangle) if ctx.private is not None and name[:2] == "__" else name
        ann = ctx.ann
        self.sites.append(NameSite(o, 0, "Name", name, sym, "use", "name_load", a, b, True, ctx.slot,
                                   ann != ANN_NONE, ann == ANN_NONE or ann == ANN_EVALUATED))
        ctx.slot.names.add(sym)

    # -- handlers: emit this node's sites, return {field: child context} ---------------------

    def h_name(self, node: ast.Name, o, ctx: _Ctx):
        c = type(node.ctx)
        mode = ctx.mode
        if c is ast.Load:
            self.site(o, 0, node, node.id, "use", "name_load", ctx)
            if node.id == "super" and ctx.slot.scope_type not in ("MODULE", "CLASS"):
                # symtable.c: a load of `super` in a function-like block counts as a use of __class__.
                self.site(o, 1, node, "__class__", "use", "implicit_class_ref", ctx, implicit=True,
                          symbol_name="__class__")
        elif c is ast.Store:
            if mode == "walrus":
                self.site(o, 0, node, node.id, "def", "walrus_target", ctx)
            elif mode == "aug":
                self.site(o, 0, node, node.id, "use", "aug_target", ctx)
                self.site(o, 1, node, node.id, "def", "aug_target", ctx)
            elif mode == "annot_only":
                self.site(o, 0, node, node.id, "decl", "annotation_only", ctx)
            elif mode == "annot_nonsimple":
                # `(x): int` without a value binds nothing (symtable records no symbol for it).
                s = self.site(o, 0, node, node.id, "decl", "annotation_target_nonsimple", ctx)
                ctx.slot.names.discard(s.symbol_name)
            elif mode == "annassign":
                self.site(o, 0, node, node.id, "def", "annassign_target", ctx)
            elif mode == "type_alias":
                self.site(o, 0, node, node.id, "def", "type_alias_name", ctx)
            elif mode == "comp_target":
                s = self.site(o, 0, node, node.id, "def", "comprehension_target", ctx)
                ctx.slot.comp_bound.add(s.symbol_name)
            else:
                self.site(o, 0, node, node.id, "def", "name_store", ctx)
        else:
            self.site(o, 0, node, node.id, "kill", "name_del", ctx)
        return None

    def def_name_site(self, node, o, ctx: _Ctx, kind: str) -> tuple[int | None, int | None]:
        """The name of a def/class statement as a def site, spanning the name itself when found;
        returns the statement's span."""
        start, end = self.span(node)
        m = _DEF_KW.match(self.utf8, start) if start is not None else None
        if m is not None:
            nspan, exact = self.name_span(m.end(), end, node.name, "start")
        else:
            nspan, exact = (start, end), False
        self.site(o, 0, node, node.name, "def", kind, ctx, span=nspan, span_is_name=exact)
        return start, end

    def h_funcdef(self, node, o, ctx: _Ctx):
        start, end = self.def_name_site(node, o, ctx, "def_name")
        outer = ctx.but()
        ann = ANN_STRINGIZED if self.future else ANN_EVALUATED
        if node.type_params:
            tp = self.new_slot("TYPE_PARAMETERS", node.name, node.lineno, o, o, "type_param_list",
                               self._tp_list_span(node.type_params), ctx)
            tp_ctx = ctx.but(slot=tp)
            annot_ctx = tp_ctx.but(ann=ann)
            fn_parent = tp_ctx
        else:
            tp_ctx = None
            annot_ctx = outer.but(ann=ann)
            fn_parent = outer
        fn = self.new_slot("FUNCTION", node.name, node.lineno, o, o, "def", (start, end), fn_parent)
        fn_ctx = fn_parent.but(slot=fn)
        args_ctx = _Ctx(fn, ctx.private, fn_ctx.mangle, ctx.ann, "args", (fn_ctx, annot_ctx, outer))
        out = {"args": args_ctx, "body": fn_ctx, "decorator_list": outer, "returns": annot_ctx}
        if tp_ctx is not None:
            out["type_params"] = tp_ctx
        return out

    def _tp_list_span(self, type_params) -> tuple[int | None, int | None]:
        """The bracketed type-parameter list: from the '[' before the first to the ']' after the last."""
        a, _ = self.span(type_params[0])
        _, b = self.span(type_params[-1])
        if a is None or b is None:
            return a, b
        lb = self.utf8.rfind(b"[", 0, a)
        rb = self.utf8.find(b"]", b)
        return (lb if lb >= 0 else a), (rb + 1 if rb >= 0 else b)

    def h_arguments(self, node, o, ctx: _Ctx):
        if ctx.mode != "args":
            return None
        fn_ctx, annot_ctx, outer = ctx.extra
        param = _Ctx(fn_ctx.slot, fn_ctx.private, fn_ctx.mangle, fn_ctx.ann, "param", annot_ctx)
        return {"posonlyargs": param, "args": param, "vararg": param, "kwonlyargs": param, "kwarg": param,
                "kw_defaults": outer, "defaults": outer}

    def h_arg(self, node: ast.arg, o, ctx: _Ctx):
        if ctx.mode != "param":
            return None
        start, end = self.span(node)
        nspan, exact = self.name_span(start, end, node.arg, "start")
        self.site(o, 0, node, node.arg, "def", "param", ctx, span=nspan, span_is_name=exact)
        annot_ctx = ctx.extra
        return {"annotation": annot_ctx if annot_ctx is not None else ctx.but()}

    def h_lambda(self, node, o, ctx: _Ctx):
        outer = ctx.but()
        lam = self.new_slot("FUNCTION", "lambda", node.lineno, o, o, "lambda", self.span(node), ctx)
        lam_ctx = outer.but(slot=lam)
        return {"args": _Ctx(lam, ctx.private, ctx.mangle, ctx.ann, "args", (lam_ctx, None, outer)), "body": lam_ctx}

    def h_classdef(self, node: ast.ClassDef, o, ctx: _Ctx):
        start, end = self.def_name_site(node, o, ctx, "class_name")
        outer = ctx.but()
        if node.type_params:
            tp = self.new_slot("TYPE_PARAMETERS", node.name, node.lineno, o, o, "type_param_list",
                               self._tp_list_span(node.type_params), ctx)
            restrict = frozenset(p.name for p in node.type_params)
            head = ctx.but(slot=tp, private=node.name, mangle=restrict)
        else:
            head = outer
        cls = self.new_slot("CLASS", node.name, node.lineno, o, o, "def", (start, end), head)
        body = head.but(slot=cls, private=node.name, mangle=None)
        out = {"bases": head, "keywords": head, "body": body, "decorator_list": outer}
        if node.type_params:
            out["type_params"] = head
        return out

    def h_typealias(self, node: ast.TypeAlias, o, ctx: _Ctx):
        name = node.name.id
        if node.type_params:
            tp = self.new_slot("TYPE_PARAMETERS", name, node.lineno, o, o, "type_param_list",
                               self._tp_list_span(node.type_params), ctx)
            head = ctx.but(slot=tp)
        else:
            head = ctx.but()
        alias = self.new_slot("TYPE_ALIAS", name, node.lineno, o, o, "type_alias", self.span(node), head)
        out = {"name": ctx.but(mode="type_alias"), "value": head.but(slot=alias)}
        if node.type_params:
            out["type_params"] = head
        return out

    def h_typeparam(self, node, o, ctx: _Ctx):
        start, end = self.span(node)
        where = "start" if type(node) is ast.TypeVar else "first"
        nspan, exact = self.name_span(start, end, node.name, where)
        self.site(o, 0, node, node.name, "def", "type_param", ctx, span=nspan, span_is_name=exact)
        out = {}
        bound = getattr(node, "bound", None)
        # The bound/default expression's ordinal is not known yet: the walk sets it when it pops that node.
        if bound is not None:
            kind = "typevar_constraints" if isinstance(bound, ast.Tuple) else "typevar_bound"
            sl = self.new_slot("TYPE_VARIABLE", node.name, bound.lineno, o, -1, kind, self.span(bound), ctx)
            out["bound"] = ctx.but(slot=sl, mode="tv_anchor", extra=sl)
        if node.default_value is not None:
            dv = node.default_value
            sl = self.new_slot("TYPE_VARIABLE", node.name, dv.lineno, o, -1, "typevar_default", self.span(dv), ctx)
            out["default_value"] = ctx.but(slot=sl, mode="tv_anchor", extra=sl)
        return out

    def h_comp(self, node, o, ctx: _Ctx):
        name = _COMP_NAMES[type(node)]
        outer = ctx.but()
        sl = self.new_slot("FUNCTION", name, node.lineno, o, o, "comprehension", self.span(node), ctx,
                           may_inline=name != "genexpr")
        inner = outer.but(slot=sl)
        first = _Ctx(sl, ctx.private, ctx.mangle, ctx.ann, "comp0", (inner, outer))
        rest = _Ctx(sl, ctx.private, ctx.mangle, ctx.ann, "compN", (inner, inner))
        return {"elt": inner, "key": inner, "value": inner, "generators": _PerIndex(first, rest)}

    def h_comprehension(self, node, o, ctx: _Ctx):
        if ctx.mode not in ("comp0", "compN"):
            return None
        inner, iter_ctx = ctx.extra
        return {"target": inner.but(mode="comp_target"), "iter": iter_ctx, "ifs": inner}

    def h_namedexpr(self, node: ast.NamedExpr, o, ctx: _Ctx):
        return {"target": ctx.but(mode="walrus"), "value": ctx.but()}

    def h_augassign(self, node: ast.AugAssign, o, ctx: _Ctx):
        if type(node.target) is ast.Name:
            return {"target": ctx.but(mode="aug"), "value": ctx.but()}
        return {"target": ctx.but(), "value": ctx.but()}

    def h_annassign(self, node: ast.AnnAssign, o, ctx: _Ctx):
        slot = ctx.slot
        if self.future:
            ann = ANN_STRINGIZED
        elif slot.scope_type in ("MODULE", "CLASS"):
            ann = ANN_EVALUATED if node.simple else ANN_UNEVALUATED
        else:
            ann = ANN_UNEVALUATED  # annotations of locals are never evaluated in a function
        if type(node.target) is ast.Name:
            if node.simple:
                mode = "annassign" if node.value is not None else "annot_only"
            else:
                mode = "annassign" if node.value is not None else "annot_nonsimple"
            tctx = ctx.but(mode=mode)
        else:
            tctx = ctx.but()
        if not self.future and slot.scope_type in ("MODULE", "CLASS") and not node.simple:
            ann = ANN_EVALUATED  # compiler evaluates annotations of complex targets at module/class level
        return {"target": tctx, "annotation": ctx.but(ann=ann), "value": ctx.but()}

    def h_excepthandler(self, node: ast.ExceptHandler, o, ctx: _Ctx):
        if node.name is not None:
            start, end = self.span(node)
            after = self.span(node.type)[1] if node.type is not None else start
            body_start = self.span(node.body[0])[0] if node.body else end
            nspan, exact = self.name_span(after, body_start, node.name, "first")
            self.site(o, 0, node, node.name, "def", "except_name", ctx, span=nspan, span_is_name=exact)
            # The compiler deletes the name when the handler exits (`del e` in a finally).
            self.site(o, 1, node, node.name, "kill", "except_unbind", ctx, span=(end, end), span_is_name=False,
                      implicit=True)
        return None

    def h_global(self, node, o, ctx: _Ctx):
        start, end = self.span(node)
        pos = start + (6 if type(node) is ast.Global else 8) if start is not None else None
        kind = "global_decl" if type(node) is ast.Global else "nonlocal_decl"
        for k, name in enumerate(node.names):
            nspan, exact = self.name_span(pos, end, name, "first")
            self.site(o, k, node, name, "decl", kind, ctx, span=nspan, span_is_name=exact)
            if exact:
                pos = nspan[1]
        return None

    def h_alias(self, node: ast.alias, o, ctx: _Ctx):
        if node.name == "*":
            return None
        start, end = self.span(node)
        if node.asname is not None:
            nspan, exact = self.name_span(start, end, node.asname, "end")
            self.site(o, 0, node, node.asname, "def", "import_alias", ctx, span=nspan, span_is_name=exact)
        else:
            first = node.name.split(".", 1)[0]
            nspan, exact = self.name_span(start, end, first, "start")
            self.site(o, 0, node, first, "def", "import_name", ctx, span=nspan, span_is_name=exact)
        return None

    def h_matchas(self, node, o, ctx: _Ctx):
        if node.name is not None:
            start, end = self.span(node)
            nspan, exact = self.name_span(start, end, node.name, "end")
            self.site(o, 0, node, node.name, "def", "match_capture", ctx, span=nspan, span_is_name=exact)
        return None

    def h_matchmapping(self, node: ast.MatchMapping, o, ctx: _Ctx):
        if node.rest is not None:
            start, end = self.span(node)
            region_start = self.span(node.patterns[-1])[1] if node.patterns else start
            nspan, exact = self.name_span(region_start, end, node.rest, "first")
            self.site(o, 0, node, node.rest, "def", "match_capture", ctx, span=nspan, span_is_name=exact)
        return None


_NODE_HANDLERS = {
    ast.Name: _Walker.h_name,
    ast.FunctionDef: _Walker.h_funcdef, ast.AsyncFunctionDef: _Walker.h_funcdef,
    ast.arguments: _Walker.h_arguments, ast.arg: _Walker.h_arg,
    ast.Lambda: _Walker.h_lambda,
    ast.ClassDef: _Walker.h_classdef,
    ast.TypeAlias: _Walker.h_typealias,
    ast.TypeVar: _Walker.h_typeparam, ast.ParamSpec: _Walker.h_typeparam, ast.TypeVarTuple: _Walker.h_typeparam,
    ast.ListComp: _Walker.h_comp, ast.SetComp: _Walker.h_comp, ast.DictComp: _Walker.h_comp,
    ast.GeneratorExp: _Walker.h_comp,
    ast.comprehension: _Walker.h_comprehension,
    ast.NamedExpr: _Walker.h_namedexpr,
    ast.AugAssign: _Walker.h_augassign,
    ast.AnnAssign: _Walker.h_annassign,
    ast.ExceptHandler: _Walker.h_excepthandler,
    ast.Global: _Walker.h_global, ast.Nonlocal: _Walker.h_global,
    ast.alias: _Walker.h_alias,
    ast.MatchAs: _Walker.h_matchas, ast.MatchStar: _Walker.h_matchas,
    ast.MatchMapping: _Walker.h_matchmapping,
}
def walk_scopes(tree: ast.Module, utf8: bytes, lines: LineIndex) -> AstScopes:
    """One preorder pass (walk_ast numbering) -> predicted scope slots and every name site."""
    return _Walker(utf8, lines).walk(tree, has_future_annotations(tree))
