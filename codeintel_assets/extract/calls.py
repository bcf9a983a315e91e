"""The CPG plane's per-file facts: definitions with their symbols, imports, and call sites with the
callee described (not yet resolved across files).

Pure: the same pass's AST (its preorder ordinals are the ``ast_node_id``s), the module's import name,
the bytecode plane's code units and instructions, and the symtable plane's name sites (the binding of
each name), all in memory.

Names:

- **qualname**: the import name of the module, then nested definitions dotted
  (``pkg.mod.Class.meth``, ``pkg.mod.outer.inner``); a lambda is ``<lambdaN>``, numbered from 1 in
  source order within the definition that contains it; a parameter is ``<function>.<param>``.
- **symbol**: SCIP-style, ``codeintel python . . `` + descriptors: the module as a namespace
  (``pkg/mod/``), a class as a type (``Class#``), a function or method as a method (``meth().``), a
  parameter as ``(x)``, a module-level variable as a term (``NAME.``). The same string wherever the
  definition is referred to (the link step joins on it).

Call sites: every ``ast.Call`` (its ``CALL`` / ``CALL_KW`` / ``CALL_FUNCTION_EX`` instruction is the one
anchored to the call node) and every decorator application (the ``CALL`` anchored to the decorator
expression: the decorator is called where it is applied). The caller is the innermost definition
(module, class body, function, lambda) containing the call; comprehensions and generator
expressions belong to the definition around them.
"""

import ast
import re
import sys
from collections.abc import Sequence

from codeintel_assets.extract.modules import module_parts

SCHEME = "codeintel python . . "
CALL_OPS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})
_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _is_type_checking(test: ast.AST) -> bool:
    """``TYPE_CHECKING`` or ``<anything>.TYPE_CHECKING`` (``typing.TYPE_CHECKING``): a test that is false
    when the code runs (type checkers alone take the branch)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


_CMP = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
        ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}


def _version_value(node: ast.AST):
    """The value of ``sys.version_info`` (``version_info``), ``sys.version_info[:k]`` / ``[k]`` or
    ``.major`` / ``.minor`` on this interpreter; an int or a tuple of ints literal; else None."""
    def is_vi(n):
        return (isinstance(n, ast.Attribute) and n.attr == "version_info" and isinstance(n.value, ast.Name)
                and n.value.id == "sys") or (isinstance(n, ast.Name) and n.id == "version_info")
    vi = tuple(sys.version_info)
    if is_vi(node):
        return vi
    if isinstance(node, ast.Attribute) and node.attr in ("major", "minor", "micro") and is_vi(node.value):
        return vi[("major", "minor", "micro").index(node.attr)]
    if isinstance(node, ast.Subscript) and is_vi(node.value):
        sl = node.slice
        if isinstance(sl, ast.Constant) and type(sl.value) is int and 0 <= sl.value < 3:
            return vi[sl.value]
        if isinstance(sl, ast.Slice) and sl.lower is None and sl.step is None and isinstance(sl.upper, ast.Constant) \
                and type(sl.upper.value) is int and 0 < sl.upper.value <= 3:
            return vi[:sl.upper.value]
        return None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Tuple) and node.elts and all(isinstance(e, ast.Constant) and type(e.value) is int
                                                         for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


def version_test(test: ast.AST) -> bool | None:
    """What an ``if`` test on the Python version (``sys.version_info >= (3, 11)``, ``sys.version_info[:2] < (3,
    8)``, ``sys.version_info.major == 3``, combined with ``and`` / ``or`` / ``not``) gives on this interpreter
    (the one the index is for); None for any other test. Only comparisons of the version with literals count: a
    comparison of two literals is not a version test."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        v = version_test(test.operand)
        return None if v is None else not v
    if isinstance(test, ast.BoolOp):
        vals = [version_test(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in vals else None if None in vals else True
        return True if True in vals else None if None in vals else False
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _CMP):
        return None
    left, right = test.left, test.comparators[0]
    if isinstance(left, (ast.Constant, ast.Tuple)) and isinstance(right, (ast.Constant, ast.Tuple)):
        return None
    a, b = _version_value(left), _version_value(right)
    if a is None or b is None or type(a) is not type(b):
        return None
    return _CMP[type(test.ops[0])](a, b)


_SIMPLE_NAME = re.compile(r"[_+\-$A-Za-z0-9]+")


def module_descriptor(module: str) -> str:
    """The module as SCIP namespace descriptors (``pkg/mod/``); a part that is no SCIP simple identifier (a
    quoted ``"x.y"``, ``a,b``) in backticks, as SCIP escapes a name."""
    out = []
    for part in module_parts(module):
        name = part[1:-1] if len(part) > 1 and part[0] == part[-1] == '"' else part
        out.append(f"{name}/" if _SIMPLE_NAME.fullmatch(name) else "`" + name.replace("`", "``") + "`/")
    return "".join(out)


def _callee(node: ast.AST) -> tuple[str, str | None, list[str]]:
    """(callee_kind, root name, attribute path) of a call's function expression."""
    attrs: list[str] = []
    cur = node
    while isinstance(cur, ast.Attribute):
        attrs.append(cur.attr)
        cur = cur.value
    attrs.reverse()
    if isinstance(cur, ast.Name):
        return ("name" if not attrs else "attribute"), cur.id, attrs
    if isinstance(cur, ast.Subscript) and not attrs and isinstance(cur.value, ast.Name):
        return "subscript", cur.value.id, []  # d[k](): an item of the container bound to d
    kind = {ast.Call: "call", ast.Subscript: "subscript", ast.Lambda: "lambda"}.get(type(cur), "other")
    return (kind if not attrs else f"attribute_of_{kind}"), None, attrs


def _dotted(node: ast.AST) -> tuple[str, list[str]] | None:
    """(root name, attribute path) of ``a.b.c``; None for anything else."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return (node.id, attrs[::-1]) if isinstance(node, ast.Name) else None


def _concat_operands(v: ast.AST) -> list[ast.AST] | None:
    """The operands of ``A + B (+ C ...)`` when every one is a dotted name (lists or tuples a loop then walks in
    turn: pip's `option_factories = SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ`); else None."""
    if not (isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add)):
        return None
    out: list[ast.AST] = []
    for side in (v.left, v.right):
        inner = _concat_operands(side) if isinstance(side, ast.BinOp) else [side] if _dotted(side) else None
        if not inner:
            return None
        out += inner
    return out


def _branch_calls(v: ast.AST) -> list[ast.Call]:
    """The calls of ``A() if c else B()`` (nested conditional expressions too) when every branch is a call;
    else []."""
    if not isinstance(v, ast.IfExp):
        return []
    out = []
    for side in (v.body, v.orelse):
        calls = [side] if isinstance(side, ast.Call) else _branch_calls(side)
        if not calls:
            return []
        out += calls
    return out


def _self_declared(node: ast.AnnAssign, rows: Sequence, up: int, owner: list[int]) -> int | None:
    """The ordinal of the class when ``node`` is `self.a: C [= v]` in one of its methods, ``self`` the method's first
    parameter (not a static or class method's); else None."""
    target, fn = node.target, rows[up].node if up else None
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(rows[owner[up]].node, ast.ClassDef)):
        return None
    first = (fn.args.posonlyargs + fn.args.args)[:1]
    decorated = {d.id for d in fn.decorator_list if isinstance(d, ast.Name)}
    if not first or first[0].arg != target.value.id or decorated & {"staticmethod", "classmethod"}:
        return None
    return owner[up]


def _string_prefix(v: ast.AST) -> str | None:
    """The literal start of a string built at runtime: ``f"visit_{x}"``, ``"visit_" + x (+ ...)``,
    ``"visit_%s" % x``, ``"visit_{}".format(x)``; None for anything else (a plain literal too)."""
    if isinstance(v, ast.JoinedStr):
        first = v.values[0] if len(v.values) > 1 else None
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
    if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add):
        while isinstance(v, ast.BinOp) and isinstance(v.op, ast.Add):
            v = v.left
        return v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None
    if isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mod) and isinstance(v.left, ast.Constant) \
            and isinstance(v.left.value, str) and "%" in v.left.value:
        return v.left.value.split("%", 1)[0]
    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "format" \
            and isinstance(v.func.value, ast.Constant) and isinstance(v.func.value.value, str) \
            and "{" in v.func.value.value:
        return v.func.value.value.split("{", 1)[0]
    return None


def _dispatch_prefix(call: ast.AST, scope: ast.AST) -> str | None:
    """``getattr(x, <a string starting with P>[, default])`` with ``x`` a name: P (the attribute looked up is one of
    x's whose name starts with P: `getattr(self, "visit_" + type(node).__name__)`). The string may be a local name
    of ``scope`` (the function around the call) bound once, to such a string (`method = 'visit_' + ...;
    getattr(self, method, self.generic_visit)`, ast.NodeVisitor). None when P is empty or only underscores."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "getattr"
            and 2 <= len(call.args) <= 3 and not call.keywords and isinstance(call.args[0], ast.Name)
            and not any(isinstance(a, ast.Starred) for a in call.args)):
        return None
    name = call.args[1]
    if isinstance(name, ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        stores, assigned = 0, []  # (one walk: the name's binding sites, and the assignments to it alone)
        for n in ast.walk(scope):
            if isinstance(n, ast.Name) and n.id == name.id and not isinstance(n.ctx, ast.Load):
                stores += 1
            elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                    and n.targets[0].id == name.id:
                assigned.append(n)
        name = assigned[0].value if stores == 1 and len(assigned) == 1 else None
    prefix = _string_prefix(name) if name is not None else None
    return prefix if prefix and prefix.strip("_") else None


_BUILTIN_GENERICS = frozenset({"list", "dict", "set", "frozenset", "tuple", "type"})


def _last_name(node: ast.AST) -> str | None:
    d = _dotted(node)
    return (d[1][-1] if d[1] else d[0]) if d else None


def _dropped_generic(bases: list[ast.expr], k: int) -> bool:
    """Is ``bases[k]`` a ``Generic[...]`` that the class statement does not inherit? typing's
    ``Generic[T].__mro_entries__`` gives nothing when a later base is a typing generic alias (``A[T]`` of a
    generic class; not a builtin's ``list[int]``, a ``types.GenericAlias``) or ``Protocol`` is among the bases:
    ``class B(Generic[T], A[T])`` has ``__bases__ == (A,)`` (and an MRO; taken literally (Generic, A) has none)."""
    b = bases[k]
    if not (isinstance(b, ast.Subscript) and _last_name(b.value) == "Generic"):
        return False
    if any(_last_name(x) == "Protocol" for x in bases):
        return True
    return any(isinstance(x, ast.Subscript) and _last_name(x.value) not in _BUILTIN_GENERICS for x in bases[k + 1:])


def _unwrapped(ann: ast.AST | None) -> ast.AST | None:
    """``C`` of ``C | None``, ``None | C``, ``Optional[C]`` / ``typing.Optional[C]``; ``ann`` itself otherwise;
    None for a union of two other things or another generic."""
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        sides = [x for x in (ann.left, ann.right) if not (isinstance(x, ast.Constant) and x.value is None)]
        return sides[0] if len(sides) == 1 else None
    if isinstance(ann, ast.Subscript):
        head = _dotted(ann.value)
        return ann.slice if head is not None and (head[1] or [head[0]])[-1] == "Optional" else None
    return ann


# Generic aliases whose (first) argument is the class of the items a `for` loop over the value yields
_ITEM_GENERICS = frozenset({"list", "List", "set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet",
                            "Sequence", "MutableSequence", "Collection", "Iterable", "Iterator", "Reversible",
                            "Generator", "AsyncIterable", "AsyncIterator", "AsyncGenerator", "deque", "Deque",
                            "tuple", "Tuple"})


# Subscripted names that do not declare an instance of the name subscripted: unions, callables, classes
# (``type[C]``), literals, and the containers (whose items ``_item_class`` reads)
_NOT_INSTANCE_GENERICS = frozenset({"Optional", "Union", "Callable", "Type", "type", "Literal", "dict", "Dict",
                                    "Mapping", "MutableMapping", "DefaultDict", "defaultdict", "OrderedDict", "Counter",
                                    "ChainMap", "TypeGuard", "TypeIs", "Unpack", "Required", "NotRequired",
                                    "ReadOnly", "Concatenate", "Awaitable", "Coroutine"})


def _annotated_class(ann: ast.AST | None) -> ast.AST | None:
    """The dotted name a parameter annotation declares: ``C``, ``m.C``, ``C | None``, ``None | C``,
    ``Optional[C]`` / ``typing.Optional[C]``, a subscripted generic class ``C[int]`` (an instance of C; resolvelib's
    ``reporter: BaseReporter[RT, CT, KT]``), ``Annotated[C, ...]`` / ``Final[C]`` / ``ClassVar[C]``; None for anything
    else (strings, unions of classes, containers, ``type[C]``: what the value is cannot be told from them without a
    type checker). The link gives an edge only when the name resolves to a class of the repository."""
    u = _unwrapped(ann)
    if u is None and isinstance(ann, ast.Subscript):
        u = ann  # another generic than Optional
    if isinstance(u, ast.Subscript):
        head = _dotted(u.value)
        name = (head[1] or [head[0]])[-1] if head is not None else None
        if name in ("Annotated", "Final", "ClassVar"):
            return _annotated_class(u.slice.elts[0] if isinstance(u.slice, ast.Tuple) else u.slice)
        if name is None or name in _NOT_INSTANCE_GENERICS or name in _ITEM_GENERICS:
            return None
        return u.value
    return u if u is not None and _dotted(u) is not None else None


def _item_arg(ann: ast.AST | None) -> ast.AST | None:
    """The argument of ``list[C]``, ``Iterable[C]``, ``Iterator[C]``, ``Sequence[C]``, ``Generator[C, ...]``,
    ``tuple[C, ...]`` (typing's and collections.abc's spellings) that names the items' class; None for anything
    else (``tuple[A, B]``, ``dict[K, V]``)."""
    ann = _unwrapped(ann) or ann  # (Optional[list[C]]; `list[C]` is "another generic" there)
    if not isinstance(ann, ast.Subscript):
        return None
    head = _dotted(ann.value)
    name = (head[1] or [head[0]])[-1] if head is not None else None
    if name not in _ITEM_GENERICS:
        return None
    args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
    if name in ("tuple", "Tuple") and not (len(args) == 2 and isinstance(args[1], ast.Constant)
                                           and args[1].value is Ellipsis):
        return None
    if name not in ("tuple", "Tuple", "Generator", "AsyncGenerator") and len(args) != 1:
        return None
    return args[0]


def _tuple_items(ann: ast.AST | None) -> list[tuple[ast.AST, ast.AST | None] | None] | None:
    """The items of a fixed-length tuple annotation, ``tuple[A, B]`` / ``typing.Tuple[A, B]`` (``Optional`` or
    ``| None`` around it: a None cannot be unpacked, so a value that is unpacked is the tuple), also a string,
    ``"tuple[A, B]"``, or string items, ``tuple["A", B]``: per item (its node, the dotted name a string gives, else
    None) when it declares a class as ``_annotated_class`` reads one, else None; None for anything else
    (``tuple[C, ...]``, ``tuple[()]``, a bare ``tuple``)."""
    u = _unwrapped(ann) or ann
    if isinstance(u, ast.Constant) and isinstance(u.value, str):
        try:
            parsed = ast.parse(u.value.strip(), mode="eval").body
        except (SyntaxError, ValueError):
            return None
        items = _tuple_items(parsed)
        return None if items is None else [(u, i[0] if i[1] is None else i[1]) if i is not None else None
                                           for i in items]
    if not isinstance(u, ast.Subscript):
        return None
    head = _dotted(u.value)
    if head is None or (head[1] or [head[0]])[-1] not in ("tuple", "Tuple") or not isinstance(u.slice, ast.Tuple):
        return None
    elts = u.slice.elts
    if not elts or any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in elts):
        return None
    out: list[tuple[ast.AST, ast.AST | None] | None] = []
    for e in elts:
        if (named := _annotated_class(e)) is not None:
            out.append((named, None))
        elif (quoted := _string_declared(e)) is not None:
            out.append(quoted)
        else:
            out.append(None)
    return out


def _spread_items(target: ast.Tuple, it: ast.AST) -> list[tuple[ast.Name, ast.AST]] | None:
    """``for i, x in enumerate(xs)``: [(x, xs)]; ``for a, b in zip(xs, ys)``: [(a, xs), (b, ys)] (the names and the
    iterables whose items they are, each a call or a dotted name); None for any other shape (a nested or starred
    target, a starred argument, ``zip(..., strict=...)`` aside, ``enumerate(xs, start)``'s start aside). Whether
    the name called is the builtin is the caller's to tell."""
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and all(isinstance(t, ast.Name) for t in target.elts)
            and not any(isinstance(a, ast.Starred) for a in it.args)):
        return None
    if it.func.id == "enumerate" and len(target.elts) == 2 and 1 <= len(it.args) <= 2 \
            and all(k.arg == "start" for k in it.keywords):
        pairs = [(target.elts[1], it.args[0])]
    elif it.func.id == "zip" and it.args and len(target.elts) == len(it.args) and all(k.arg == "strict" for k in it.keywords):
        pairs = list(zip(target.elts, it.args))
    else:
        return None
    return [(t, e) for t, e in pairs if isinstance(e, ast.Call) or _dotted(e) is not None] or None


def _item_class(ann: ast.AST | None) -> ast.AST | None:
    """The dotted name of the items of the containers ``_item_arg`` reads (each ``C`` as ``_annotated_class``
    reads it, ``C | None`` too); None for anything else."""
    arg = _item_arg(ann)
    return None if arg is None else _annotated_class(arg)


def _string_read(ann: ast.AST | None, read) -> tuple[ast.AST, ast.AST] | None:
    """A string annotation parsed as ``typing.get_type_hints`` evaluates it, then read by ``read``
    (``_annotated_class`` / ``_item_class``): (the string's node, the dotted name it gives), or None."""
    if not (isinstance(ann, ast.Constant) and isinstance(ann.value, str)):
        return None
    try:
        parsed = ast.parse(ann.value.strip(), mode="eval").body
    except (SyntaxError, ValueError):
        return None
    named = read(parsed)
    return (ann, named) if named is not None else None


def _string_declared(ann: ast.AST | None) -> tuple[ast.AST, ast.AST] | None:
    """A string annotation that declares a class as ``_annotated_class`` reads one: ``"C"``, ``"m.C"``,
    ``"Optional[C]"``, ``"C | None"``, also ``Optional["C"]`` / ``"C" | None`` (a forward reference, or a name
    imported under ``if TYPE_CHECKING:``): (the string's node, the dotted name it evaluates to). None for anything
    else."""
    return _string_read(_unwrapped(ann), _annotated_class)


def _string_item(ann: ast.AST | None) -> tuple[ast.AST, ast.AST] | None:
    """The items' class as a string: ``Iterator["C"]`` (a forward reference as the item) or ``"list[C]"`` (the whole
    annotation a string): (the string's node, the dotted name of the items' class), as ``_string_declared`` gives
    them. None for anything else. (jinja2's ``def iter_child_nodes(...) -> t.Iterator["Node"]``.)"""
    arg = _item_arg(ann)
    return _string_declared(arg) if arg is not None else _string_read(ann, _item_class)


def _type_arg(ann: ast.AST | None) -> ast.AST | None:
    """The argument of ``type[C]`` / ``typing.Type[C]`` (``Optional[...]`` or ``... | None`` around it): the class
    itself, not an instance of it; None for anything else."""
    u = _unwrapped(ann)
    if u is None and isinstance(ann, ast.Subscript):
        u = ann  # (another generic than Optional)
    if not isinstance(u, ast.Subscript):
        return None
    head = _dotted(u.value)
    return u.slice if head is not None and (head[1] or [head[0]])[-1] in ("type", "Type") else None


def _class_declared(ann: ast.AST | None) -> tuple[ast.AST | None, ast.AST] | None:
    """The class ``type[C]`` declares (a factory's ``-> type[C]``): (None, the dotted name C) for ``type[C]``;
    (the string's node, the dotted name) for ``type["C"]`` and ``"type[C]"``; None for anything else (``type[A |
    B]``, ``type[Any]`` is a dotted name the link resolves to nothing in the repository)."""
    arg = _type_arg(ann)
    if arg is not None and _dotted(arg) is not None:
        return None, arg
    return _string_read(arg, _dotted_or_none) if arg is not None else _string_read(ann, _dotted_type_arg)


def _dotted_or_none(node: ast.AST | None) -> ast.AST | None:
    return node if node is not None and _dotted(node) is not None else None


def _dotted_type_arg(node: ast.AST) -> ast.AST | None:
    return _dotted_or_none(_type_arg(node))


# The receiver of ``x.m()`` written as a literal or display: its type is exactly this builtin type (CPython makes
# no subclass for it), so ``m`` is that type's method. ``None`` / ``...`` constants: no builtins name.
_DISPLAY_TYPES = {ast.JoinedStr: "str", ast.List: "list", ast.ListComp: "list", ast.Dict: "dict",
                  ast.DictComp: "dict", ast.Set: "set", ast.SetComp: "set", ast.Tuple: "tuple"}
_CONSTANT_TYPES = frozenset({"str", "bytes", "int", "float", "complex", "bool"})
LITERAL_TYPES = tuple(sorted(_CONSTANT_TYPES | set(_DISPLAY_TYPES.values())))
# What a ``*args`` / ``**kwargs`` parameter holds on entry: a new tuple / dict, never a subclass (CPython builds it
# for the call). The link reads it as it reads ``x = ()`` / ``x = {}`` (value-ref role ``literal``).
_STAR_PARAM_TYPES = {"vararg": "tuple", "kwarg": "dict"}


# Calls that change a module's `__all__` in place (``__all__.extend(...)``): what `from m import *` binds then is not
# the literal list alone.
_ALL_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "__iadd__", "__setitem__",
                           "__delitem__"})


def literal_type(node: ast.AST) -> str | None:
    """The builtin type of a literal or display (``"sep".join``: ``str``; ``[].append``: ``list``), else None."""
    if isinstance(node, ast.Constant):
        name = type(node.value).__name__
        return name if name in _CONSTANT_TYPES else None
    return _DISPLAY_TYPES.get(type(node))


def _callee_value(func: ast.AST) -> ast.AST | None:
    """The expression a call's callee is taken from: ``x`` of ``x.m()`` / ``x[k]()``, the inner call of
    ``f()()``; None for a plain name."""
    if isinstance(func, (ast.Attribute, ast.Subscript)):
        return func.value
    return func if isinstance(func, ast.Call) else None


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The absolute module a relative import names (``from ..a import b`` in ``p.q.m`` -> ``p.a``)."""
    if level == 0:
        return target
    parts = module_parts(module)
    package = parts if is_package else parts[:-1]
    if level - 1 >= len(package):
        return None  # beyond the top-level package (or no package at all): CPython raises ImportError
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([target] if target else [])) or None


def extract_calls(path: str, file_id: str, module: str, is_package: bool, src: bytes, rows: Sequence,
                  code_units: dict[str, str], call_instrs: dict[str, list[tuple[str, str, str]]],
                  bindings: dict[tuple[str, str], str]) -> tuple[list[tuple], ...]:
    """(definitions, imports, call sites, call arguments, value refs) rows of one file.

    ``rows``: the shared preorder walk (``AstNodeRow``: ordinal, parent, node, start, end);
    ``code_units``: ast_node_id -> code_unit_id; ``call_instrs``: ast_node_id -> [(instr_id, opname,
    code_unit_id), ...] of the call instructions anchored there, in order; ``bindings``: (ast_node_id, role) ->
    binding_id from the name sites (role ``use`` for a load, ``def`` for a binding site).
    """
    def nid(o: int) -> str:
        return f"{path}:AST:{o}"

    by_node = {id(r.node): r for r in rows}
    # The definition each node belongs to: the nearest def/class/lambda ancestor (or the module).
    owner: list[int] = [0] * len(rows)
    qual: dict[int, str] = {0: module}
    symbol: dict[int, str] = {0: SCHEME + module_descriptor(module)}
    lambdas: dict[int, int] = {}
    defs: list[tuple] = [(file_id, nid(0), "module", (module_parts(module) or [""])[-1], module, symbol[0], None, nid(0),
                          rows[0].start, rows[0].end, 1, code_units.get(nid(0)), None, None, None, None, False,
                          False)]
    # Nodes in the body of an `if TYPE_CHECKING:` (at any depth): never executed, so definitions there are
    # declarations for type checkers (stubs), not what a call can reach.
    stub: list[bool] = [False] * len(rows)
    # Nodes in the branch of a Python version test (`if sys.version_info >= (3, 11):`) that this interpreter
    # does not take: definitions for other Pythons, which never run here.
    other: list[bool] = [False] * len(rows)
    imports: list[tuple] = []
    calls: list[tuple] = []
    args: list[tuple] = []
    values: list[tuple] = []
    module_vars: dict[str, int] = {}  # name -> index of its row in defs
    current = [0]  # the ordinal of the row the walk is at (value() reads its stub flag)

    def text(r) -> str | None:
        return src[r.start:r.end].decode("utf-8", "replace") if r is not None and r.start is not None else None

    def value(role: str, node: ast.AST, owner_def: int, target: ast.AST | None, index: int | None,
              nth: int = 0, parsed: ast.AST | None = None, label: str | None = None) -> None:
        """A value-ref row when ``node`` is a dotted name or a lambda (anything else has no static meaning
        the link step could use; a class base of another shape is kept, with no root, so bases stay in order, and
        so is any returned value: `return g(...)` lets the link follow what g returns, its value node the call).
        ``parsed``: the dotted name a string ``node`` holds (a string annotation): its root has no binding
        (symtable binds nothing in a string; the link looks it up among the module's names)."""
        vr = by_node.get(id(node))
        if vr is None:
            return
        # a subscripted base (`Base[int]`, `Generic[T]`, `dict[str, int]`) is a generic alias whose
        # __mro_entries__ gives the class it subscripts: the class statement inherits that class
        named = node.value if role == "base" and isinstance(node, ast.Subscript) else node
        dotted = _dotted(parsed if parsed is not None else named)
        is_lambda = isinstance(node, ast.Lambda)
        # (an assignment under `if TYPE_CHECKING:` is kept whatever its value: the link reads the flag to know the
        # name is not bound there at runtime, as in `X = Base[T]` there and `X = Base` under `else:`)
        if dotted is None and not is_lambda and role not in ("base", "instance", "none", "return", "iter", "literal",
                                                             "with", "unpack") and not (
                role == "alias" and stub[current[0]]):
            return
        root, attrs = dotted if dotted else (None, [])
        root_row = by_node.get(id(_root_name(named))) if dotted and parsed is None else None
        tr = by_node.get(id(target)) if target is not None else None
        # nth: the target of a chained assignment `a = b = c` (one row per target; the first keeps the plain id)
        values.append((file_id, f"{nid(vr.ordinal)}:{role}" + (f":{nth}" if nth else ""), role, nid(owner_def),
                       (bindings.get((nid(tr.ordinal), "def")) or bindings.get((nid(tr.ordinal), "decl")))
                       if tr is not None else None,  # (`a: C` alone in a class body declares a)
                       nid(tr.ordinal) if tr is not None else None, index, label or text(vr), root,
                       bindings.get((nid(root_row.ordinal), "use")) if root_row is not None else None, attrs,
                       nid(vr.ordinal) if is_lambda else None, nid(vr.ordinal), getattr(node, "lineno", None),
                       stub[current[0]]))  # the statement's (its value's own flag is not computed yet)

    def declared(role: str, ann: ast.AST | None, owner_def: int, target: ast.AST | None, label: str | None = None) -> None:
        """The class an annotation declares (``role``: `C`, `C | None`, `Optional[C]`, or a string `"C"`), else the class
        of its items (``role_item``: `list[C]`, `Iterator["C"]`, ...), else for a return annotation the class itself
        (``returns_class``: `type[C]`, `type["C"]`): at most one row, in that order of preference."""
        if (named := _annotated_class(ann)) is not None:
            value(role, named, owner_def, target, None, label=label)
        elif (quoted := _string_declared(ann)) is not None:
            value(role, quoted[0], owner_def, target, None, parsed=quoted[1], label=label)
        elif (named := _item_class(ann)) is not None:
            value(f"{role}_item", named, owner_def, target, None, label=label)
        elif (quoted := _string_item(ann)) is not None:
            value(f"{role}_item", quoted[0], owner_def, target, None, parsed=quoted[1], label=label)
        elif role == "returns" and (cls := _class_declared(ann)) is not None:  # -> type[C]: the class C itself
            if cls[0] is None:
                value("returns_class", cls[1], owner_def, target, None, label=label)
            else:
                value("returns_class", cls[0], owner_def, target, None, parsed=cls[1], label=label)

    def dispatch(call: ast.AST, owner_def: int, target: ast.AST | None, nth: int = 0) -> None:
        """A getattr row when ``call`` is `getattr(x, "P" + ...)` (``_dispatch_prefix``): root / root_binding_id the
        receiver x, attrs [P] (and the default's name, [P, d], when the default is `x.d`), the value node the getattr
        call; the target the name it is assigned to, if any
        (none when it is called at once, `getattr(self, "do_" + cmd)(arg)`, or returned)."""
        prefix = _dispatch_prefix(call, rows[owner_def].node)
        if prefix is None:
            return
        vr, recv = by_node[id(call)], by_node.get(id(call.args[0]))
        tr = by_node.get(id(target)) if target is not None else None
        default = call.args[2] if len(call.args) == 3 else None  # `getattr(self, m, self.generic_visit)`: attrs[2]
        named = [default.attr] if isinstance(default, ast.Attribute) and isinstance(default.value, ast.Name) \
            and default.value.id == call.args[0].id else []
        values.append((file_id, f"{nid(vr.ordinal)}:getattr" + (f":{nth}" if nth else ""), "getattr", nid(owner_def),
                       bindings.get((nid(tr.ordinal), "def")) if tr is not None else None,
                       nid(tr.ordinal) if tr is not None else None, None, text(vr), call.args[0].id,
                       bindings.get((nid(recv.ordinal), "use")) if recv is not None else None, [prefix, *named], None,
                       nid(vr.ordinal), call.lineno, stub[current[0]]))

    shadowing: list[set[str] | None] = [None]  # the bindings a statement of the file binds (None: star-imported)

    def builtin_name(name: ast.AST) -> bool:
        """``name`` (a Name node used) means the builtin of that name: the file binds it nowhere (its binding has no
        def site) and star-imports nothing (a star import could bind it)."""
        if not shadowing:
            return False
        if shadowing[0] is None:
            if any(isinstance(x.node, ast.ImportFrom) and any(a.name == "*" for a in x.node.names) for x in rows):
                shadowing.clear()
                return False
            shadowing[0] = {b for (_, k), b in bindings.items() if k == "def"}
        nr = by_node.get(id(name))
        used = bindings.get((nid(nr.ordinal), "use")) if nr is not None else None
        return used is not None and used not in shadowing[0]

    def export(node: ast.AST, stmt_row, start: int) -> None:
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else None
        if items is None or not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in items):
            values.append((file_id, f"{nid(stmt_row.ordinal)}:export_dynamic", "export_dynamic", nid(0), None, None,
                           None, text(stmt_row), None, None, [], None, nid(stmt_row.ordinal), stmt_row.node.lineno,
                           stub[stmt_row.ordinal]))
            return
        for k, e in enumerate(items):
            er = by_node[id(e)]
            values.append((file_id, f"{nid(er.ordinal)}:export", "export", nid(0), None, None, start + k, text(er),
                           e.value, None, [], None, nid(er.ordinal), e.lineno, stub[stmt_row.ordinal]))

    def attribute_stores(r, parent, field) -> None:
        """``x.a = C(...)`` (``A() if c else B()``: one row per call; attr_instance, the value node the call),
        ``x.a = None`` (attr_none) and any other store or ``del`` of ``x.a`` (attr_store: a tuple target, an
        augmented or chained assignment, a ``for`` / ``with`` target, another value): the link tells what
        ``self.a`` holds in a class's methods only when it sees every such store. Here root / root_binding_id
        are the receiver ``x`` and attrs ``[a]`` (the target), text the value."""
        node, stmt = r.node, parent.node
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            return  # `self.a: C` alone stores nothing (the annotation is not even evaluated in a function)
        recv = by_node.get(id(node.value))
        single = (field == "targets" and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1) or (
            field == "target" and isinstance(stmt, ast.AnnAssign) and stmt.value is not None)
        v = stmt.value if single else None
        if isinstance(v, ast.Await) and isinstance(v.value, ast.Call):
            v = None  # `self.a = await f()`: not an instance the call constructs
        # item_index 1: the store always runs when its function does (its statement is one of the function's own
        # body, not under an if / for / with / try; `self.a, self.b = ...` too): what the link reads as "__init__
        # always stores it" (cpg_link_self_stores)
        st = parent if field in ("targets", "target") else (
            rows[parent.parent] if field == "elts" and parent.parent_field == "targets" else None)
        always = 1 if st is not None and st.parent == up and st.parent_field == "body" else None
        made = [v] if isinstance(v, ast.Call) else _branch_calls(v) if v is not None else []
        if made:
            shaped = [("attr_instance", call) for call in made]
        elif isinstance(v, ast.Constant) and v.value is None:
            shaped = [("attr_none", v)]
        else:
            shaped = [("attr_store", v if v is not None else node)]
        for k, (role, val) in enumerate(shaped):
            vr = by_node.get(id(val)) or r
            values.append((file_id, f"{nid(r.ordinal)}:{role}" + (f":{k}" if k else ""), role, nid(up), None,
                           nid(r.ordinal), always, text(vr) if val is not node else None, node.value.id,
                           bindings.get((nid(recv.ordinal), "use")) if recv is not None else None, [node.attr],
                           None, nid(vr.ordinal), node.lineno, stub[r.ordinal]))
        if not made and v is not None and (typ := literal_type(v)) is not None:
            # `self.a = []`: besides its attr_store row, the builtin type it stores (text), on the same value node,
            # for the link's `self.a.append(x)` (attribute_literal)
            vr = by_node.get(id(v)) or r
            values.append((file_id, f"{nid(r.ordinal)}:attr_literal", "attr_literal", nid(up), None, nid(r.ordinal),
                           always, typ, node.value.id,
                           bindings.get((nid(recv.ordinal), "use")) if recv is not None else None, [node.attr],
                           None, nid(vr.ordinal), node.lineno, stub[r.ordinal]))

    n_exports = 0
    for r in rows[1:]:
        parent = rows[r.parent]
        # The definition a node belongs to: its body (a lambda's too) and its parameters belong to the def;
        # its decorators, bases, defaults and annotations are evaluated where the def is, so they belong to
        # the definition around it.
        up = owner[parent.ordinal]
        field = r.parent_field
        if isinstance(parent.node, _DEF_TYPES) and field in ("body", "args"):
            up = parent.ordinal
        elif isinstance(parent.node, ast.arguments):
            fn = parent.parent
            up = owner[fn] if field in ("defaults", "kw_defaults") else fn
        elif isinstance(parent.node, ast.arg) and field == "annotation":
            up = owner[rows[parent.parent].parent]
        owner[r.ordinal] = up
        current[0] = r.ordinal
        stub[r.ordinal] = stub[parent.ordinal] or (
            field == "body" and isinstance(parent.node, ast.If) and _is_type_checking(parent.node.test))
        other[r.ordinal] = other[parent.ordinal] or (
            field in ("body", "orelse") and isinstance(parent.node, ast.If)
            and version_test(parent.node.test) is (field == "orelse"))
        node = r.node
        kind_of_owner = type(rows[up].node)
        if isinstance(node, _DEF_TYPES):
            if isinstance(node, ast.Lambda):
                lambdas[up] = lambdas.get(up, 0) + 1
                name = f"<lambda{lambdas[up]}>"
            else:
                name = node.name
            q = f"{qual[up]}.{name}"
            qual[r.ordinal] = q
            if isinstance(node, ast.ClassDef):
                kind, desc = "class", f"{name}#"
                for k, base in enumerate(node.bases):
                    if not _dropped_generic(node.bases, k):
                        value("base", base, r.ordinal, None, k)
            else:
                kind = "method" if kind_of_owner is ast.ClassDef else ("lambda" if isinstance(node, ast.Lambda)
                                                                        else "function")
                desc = f"{name}()."
                # def f() -> C (or "C"): what a call of f returns, for the link's x = f(); x.m(); -> list[C] (or
                # Iterator["C"]): what `for x in f()` binds
                declared("returns", getattr(node, "returns", None), r.ordinal, None)
                # -> tuple[A, B]: what `a, b = f()` binds, item by item (returns_tuple, item_index the place)
                for k, item in enumerate(_tuple_items(getattr(node, "returns", None)) or ()):
                    if item is not None:
                        value("returns_tuple", item[0], r.ordinal, None, k, k,
                              parsed=item[1] if item[1] is not item[0] else None)
            base = symbol[up]
            symbol[r.ordinal] = base + desc
            defs.append((file_id, nid(r.ordinal), kind, name, q, symbol[r.ordinal], nid(up), nid(r.ordinal),
                         r.start, r.end, getattr(node, "lineno", None), code_units.get(nid(r.ordinal)),
                         bindings.get((nid(r.ordinal), "def")), None, None, None, stub[r.ordinal], other[r.ordinal]))
        elif isinstance(node, ast.arg) and isinstance(parent.node, ast.arguments):
            fn = parent.parent
            if fn >= 0 and fn in qual:
                pkind, pindex, default = _param(parent.node, node, field)
                q = f"{qual[fn]}.{node.arg}"
                defs.append((file_id, nid(r.ordinal), "parameter", node.arg, q, f"{symbol[fn]}({node.arg})",
                             nid(fn), nid(r.ordinal), r.start, r.end, node.lineno, None,
                             bindings.get((nid(r.ordinal), "def")), pkind, pindex, default, stub[r.ordinal], other[r.ordinal]))
                # x: C (or C | None, Optional[C], "C"): the class the link looks methods up in; xs: list[C]: for x in xs
                declared("annotation", node.annotation, fn, node)
                if field in _STAR_PARAM_TYPES:  # *args is a tuple, **kwargs a dict: exactly, on every call
                    value("literal", node, fn, node, None, label=_STAR_PARAM_TYPES[field])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and up == 0:
            k = module_vars.get(node.id)
            if k is None:  # a module-level variable: its first binding site defines it
                module_vars[node.id] = len(defs)
                defs.append((file_id, nid(r.ordinal), "variable", node.id, f"{module}.{node.id}",
                             f"{symbol[0]}{node.id}.", nid(0), nid(r.ordinal), r.start, r.end, node.lineno, None,
                             bindings.get((nid(r.ordinal), "def")), None, None, None, stub[r.ordinal],
                             other[r.ordinal]))
            elif defs[k][-2] or defs[k][-1]:
                # stub / another Python's only while every binding site is (`if TYPE_CHECKING: X = A` then
                # `else: X = B`: X is bound at runtime)
                row = defs[k]
                defs[k] = row[:-2] + (row[-2] and stub[r.ordinal], row[-1] and other[r.ordinal])
        elif isinstance(node, ast.alias):
            stmt = parent.node
            if isinstance(stmt, ast.Import):
                target, name = node.name, None
                local = node.asname or node.name.split(".")[0]
                level = 0
            else:
                level = stmt.level or 0
                target = resolve_relative(module, is_package, level, stmt.module)
                name = node.name
                local = None if name == "*" else (node.asname or name)
            imports.append((file_id, nid(r.ordinal), nid(up), qual[up], local, target, name, level, name == "*",
                            stmt.module if isinstance(stmt, ast.ImportFrom) else node.name, node.lineno,
                            bindings.get((nid(r.ordinal), "def")), node.asname, other[r.ordinal]))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = targets[0] if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
            if target is None and len(targets) > 1 and all(isinstance(t, ast.Name) for t in targets) \
                    and not any(t.id == "__all__" for t in targets):
                chained = targets  # `a = b = c`: each name is bound to the value
            else:
                chained = [target]
            if target is not None and target.id == "__all__" and up == 0:
                if isinstance(node, ast.AugAssign) or not n_exports:
                    export(node.value, r, n_exports)
                    n_exports += len(getattr(node.value, "elts", ()) or ()) or 1
                else:  # a second plain assignment replaces the list: precision first, treat it as dynamic
                    export(ast.Constant(None), r, n_exports)
            elif chained[0] is not None and not isinstance(node, ast.AugAssign):
                v = node.value
                for nth, target in enumerate(chained):
                    if (typ := literal_type(v)) is not None:  # x = [] / x = "": x is a list / str (text: the type)
                        value("literal", v, up, target, None, nth, label=typ)
                    if isinstance(v, (ast.List, ast.Tuple, ast.Set)):
                        for k, e in enumerate(v.elts):
                            value("element", e, up, target, k, nth)
                    elif isinstance(v, ast.Dict):
                        for k, e in enumerate(v.values):
                            value("element", e, up, target, k, nth)
                    elif isinstance(v, ast.Call):  # x = C(...): an instance of C when the call constructs one
                        value("instance", v, up, target, None, nth)
                        dispatch(v, up, target, nth)  # (x = getattr(self, "visit_" + ...): a method of self's)
                    elif isinstance(v, ast.Constant) and v.value is None:
                        # x = None (`except ImportError: backend = None`): no call through x reaches it
                        value("none", v, up, target, None, nth)
                    elif isinstance(v, ast.Await) and isinstance(v.value, ast.Call):
                        # x = await f(...): what the coroutine of `async def f() -> C` returns (the link tells an
                        # awaited call by its parent node)
                        value("instance", v.value, up, target, None, nth)
                    elif branches := _branch_calls(v):  # x = A() if c else B(): an instance of either
                        for call in branches:
                            value("instance", call, up, target, None, nth)
                    elif (operands := _concat_operands(v)) is not None:  # x = A + B: A's items, then B's
                        for k, operand in enumerate(operands):
                            value("concat", operand, up, target, k, nth)
                    else:
                        value("alias", v, up, target, None, nth)
            elif isinstance(node, ast.Assign) and len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)) \
                    and targets[0].elts and all(isinstance(t, ast.Name) for t in targets[0].elts):
                names, v = targets[0].elts, node.value
                if isinstance(v, (ast.Tuple, ast.List)) and len(v.elts) == len(names) \
                        and not any(isinstance(e, ast.Starred) for e in v.elts):
                    # a, b = A(), []: each name bound to its own value, as by an assignment of its own (the values are
                    # all evaluated first; a call, a literal or display, None: what a single assignment records)
                    for target, e in zip(names, v.elts):
                        if (typ := literal_type(e)) is not None:
                            value("literal", e, up, target, None, label=typ)
                        if isinstance(e, ast.Call):
                            value("instance", e, up, target, None)
                        elif isinstance(e, ast.Constant) and e.value is None:
                            value("none", e, up, target, None)
                elif isinstance(v, ast.Call) or (isinstance(v, ast.Await) and isinstance(v.value, ast.Call)):
                    # a, b = f(...) (or await f(...)): item k of what f returns (unpack: item_index k, the value node
                    # the call site; one row per name)
                    call = v if isinstance(v, ast.Call) else v.value
                    for k, target in enumerate(names):
                        value("unpack", call, up, target, k, k)
        elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name) \
                and isinstance(node.context_expr, ast.Call) and isinstance(parent.node, ast.With) and up in qual:
            # with C(...) as x: x is what C's __enter__ returns (the value node is the call site; not `async with`,
            # whose __aenter__ is awaited)
            value("with", node.context_expr, up, node.optional_vars, None)
        elif isinstance(node, ast.Return) and node.value is not None and up in qual:
            value("return", node.value, up, None, None)
            dispatch(node.value, up, None)  # (`return getattr(self, f"visit_{...}", None)`: jinja2's get_visitor)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name) \
                and (isinstance(node.iter, ast.Call) or _dotted(node.iter) is not None) and up in qual:
            # for x in f(...) / for x in xs (also in a comprehension): what x is bound to, item by item (the
            # value node of a call is its call site)
            value("iter", node.iter, up, node.target, None)
        elif isinstance(node, (ast.For, ast.comprehension)) and not getattr(node, "is_async", 0) \
                and isinstance(node.target, ast.Tuple) and (spread := _spread_items(node.target, node.iter)) \
                and up in qual and builtin_name(node.iter.func):
            # for i, x in enumerate(xs) / for a, b in zip(xs, ys) (the builtins: not rebound in the file, no star
            # import): x is bound as `for x in xs` would bind it, item by item (iter rows, as above)
            for target, iterable in spread:
                value("iter", iterable, up, target, None)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and isinstance(node.value, ast.Name) and up in qual:
            attribute_stores(r, parent, field)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and up in qual \
                and isinstance(rows[up].node, ast.ClassDef):
            # `a: C` (or `a: C = v`) in a class body: the attribute a of the class's instances is declared a C
            # (dataclass and attrs fields, NamedTuple's, jinja2's `left: Expr` node fields), for the link's
            # `self.a.m()`; target the name a, root / attrs the class named (a string parsed, as for a parameter)
            # (`a: list[C]`: its items, for x in self.a)
            declared("attr_declared", node.annotation, up, node.target)
        elif isinstance(node, ast.AnnAssign) and (klass := _self_declared(node, rows, up, owner)) is not None:
            # `self.a: C = v` in a method (PEP 526: a declaration of the instance attribute a, as `a: C` in the class
            # body; rich's `self.console: Console = console or get_console()`): the owner is the class, the target
            # node `self.a`, text the attribute's name a (it has no binding of its own)
            # (rich's `self._lines: List["Text"] = ...`: attr_declared_item)
            declared("attr_declared", node.annotation, klass, node.target, label=node.target.attr)
        if isinstance(node, ast.Call):
            dispatch(node.func, up, None)  # getattr(self, "do_" + cmd)(arg)
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "__all__" \
                    and f.attr in _ALL_MUTATORS:
                # `__all__.extend(["a"])` / `.append("a")` at module level after a literal __all__: more exports;
                # any other change (numpy's `extend_all(umath)`, whose loop does `__all__.append(a)`): dynamic
                arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
                if up == 0 and n_exports and f.attr == "extend" and isinstance(arg, (ast.List, ast.Tuple)) and arg.elts:
                    export(arg, r, n_exports)
                    n_exports += len(arg.elts)
                elif up == 0 and n_exports and f.attr == "append" and isinstance(arg, ast.Constant) \
                        and isinstance(arg.value, str):
                    export(ast.List(elts=[arg]), r, n_exports)
                    n_exports += 1
                else:
                    export(ast.Constant(None), r, n_exports)
            calls.append(_call_row(file_id, r, nid, "call", node.func, node, up, qual, text, by_node,
                                   call_instrs, bindings))
            _arg_rows(file_id, nid(r.ordinal), node, nid, text, by_node, bindings, args)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # Decorators apply bottom-up; each is a call of its expression with what the one below it returned:
            # the innermost (last) with the definition itself, `@outer @inner def g` calls outer with inner(g),
            # whatever inner returns (a wrapper, another object), so that argument names no definition: its node
            # and span are the inner decorator's, its text `inner(g)`.
            decorators = node.decorator_list
            for k, dec in enumerate(decorators):
                dr = by_node[id(dec)]
                site = f"{nid(r.ordinal)}:DECORATOR:{k}"
                calls.append(_call_row(file_id, dr, nid, "decorator", dec, None, up, qual, text, by_node,
                                       call_instrs, bindings, site))
                if k == len(decorators) - 1:
                    args.append((file_id, f"{site}:ARG:0", site, 0, "positional", 0, None, nid(r.ordinal), r.start,
                                 r.end, node.name, None, None, [], nid(r.ordinal)))
                else:
                    ir = by_node[id(decorators[k + 1])]
                    args.append((file_id, f"{site}:ARG:0", site, 0, "positional", 0, None, nid(ir.ordinal), ir.start,
                                 ir.end, f"{text(ir)}({node.name})", None, None, [], None))
    return defs, imports, calls, args, values


def _root_name(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node


def _param(args: ast.arguments, arg: ast.arg, field: str | None) -> tuple[str, int | None, bool]:
    """(kind, positional index, has a default) of a parameter."""
    positional = [*args.posonlyargs, *args.args]
    if field in ("posonlyargs", "args"):
        i = next(k for k, a in enumerate(positional) if a is arg)
        return ("posonly" if field == "posonlyargs" else "pos_or_kw"), i, i >= len(positional) - len(args.defaults)
    if field == "kwonlyargs":
        i = next(k for k, a in enumerate(args.kwonlyargs) if a is arg)
        return "kwonly", None, args.kw_defaults[i] is not None
    return ("vararg" if field == "vararg" else "kwarg"), None, False


def _arg_rows(file_id, site, call: ast.Call, nid, text, by_node, bindings, out: list) -> None:
    """One row per actual argument, in source order (positional ones numbered, starred ones without a number)."""
    items = [(a.lineno, a.col_offset, 0, a) for a in call.args] + \
            [(k.lineno, k.col_offset, 1, k) for k in call.keywords]
    position = 0
    for index, (_, _, is_kw, a) in enumerate(sorted(items, key=lambda x: (x[0], x[1]))):
        if is_kw:
            kind, pos, kw, expr = ("keyword" if a.arg else "starstar"), None, a.arg, a.value
        elif isinstance(a, ast.Starred):
            kind, pos, kw, expr = "star", None, None, a.value
            position = None  # after *xs, the position of a later positional argument is not known statically
        else:
            kind, pos, kw, expr = "positional", position, None, a
            position = None if position is None else position + 1
        er = by_node.get(id(expr))
        if er is None:
            continue
        dotted = _dotted(expr)
        root, attrs = dotted if dotted else (None, [])
        rr = by_node.get(id(_root_name(expr))) if dotted else None
        out.append((file_id, f"{site}:ARG:{index}", site, index, kind, pos, kw, nid(er.ordinal), er.start, er.end,
                    text(er), bindings.get((nid(rr.ordinal), "use")) if rr is not None else None, root, attrs,
                    nid(er.ordinal) if isinstance(expr, ast.Lambda) else None))


def _call_row(file_id, r, nid, call_kind, func, call, up, qual, text, by_node, call_instrs, bindings,
              callsite_id=None) -> tuple:
    kind, root, attrs = _callee(func)
    fr = by_node.get(id(func))
    root_node = func
    while isinstance(root_node, ast.Attribute):
        root_node = root_node.value
    if kind == "subscript" and root is not None:
        root_node = root_node.value
    rr = by_node.get(id(root_node)) if root is not None else None
    root_binding = bindings.get((nid(rr.ordinal), "use")) if rr is not None else None
    vr = by_node.get(id(_callee_value(func)))
    # The CALL instructions anchored to the node, in order: a call's is the first; a decorator's application
    # is the last (when the decorator is itself a call, ``@d(x)``, its own CALL comes first).
    anchored = call_instrs.get(nid(r.ordinal))
    instr, op, cu = (anchored[0] if call_kind == "call" else anchored[-1]) if anchored else (None, None, None)
    if call is not None:
        n_pos = sum(1 for a in call.args if not isinstance(a, ast.Starred))
        has_star = any(isinstance(a, ast.Starred) for a in call.args)
        kw = [k.arg for k in call.keywords if k.arg is not None]
        has_kwstar = any(k.arg is None for k in call.keywords)
    else:  # a decorator: called with the definition, one positional argument
        n_pos, has_star, kw, has_kwstar = 1, False, [], False
    return (file_id, callsite_id or nid(r.ordinal), nid(up), qual[up], call_kind, nid(r.ordinal), r.start, r.end,
            getattr(r.node, "lineno", None), text(fr), kind, root, root_binding, attrs, n_pos, kw, has_star,
            has_kwstar, instr, op, cu, nid(vr.ordinal) if vr is not None else None,
            literal_type(root_node) if kind == "attribute_of_other" else None)
