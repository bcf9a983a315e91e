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
from collections.abc import Sequence

SCHEME = "codeintel python . . "
CALL_OPS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})
_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def module_descriptor(module: str) -> str:
    return "".join(f"{part}/" for part in module.split(".")) if module else ""


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
    kind = {ast.Call: "call", ast.Subscript: "subscript", ast.Lambda: "lambda"}.get(type(cur), "other")
    return (kind if not attrs else f"attribute_of_{kind}"), None, attrs


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """The absolute module a relative import names (``from ..a import b`` in ``p.q.m`` -> ``p.a``)."""
    if level == 0:
        return target
    parts = module.split(".") if module else []
    package = parts if is_package else parts[:-1]
    if level - 1 >= len(package):
        return None  # beyond the top-level package (or no package at all): CPython raises ImportError
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([target] if target else [])) or None


def extract_calls(path: str, file_id: str, module: str, is_package: bool, src: bytes, rows: Sequence,
                  code_units: dict[str, str], call_instrs: dict[str, tuple[str, str, str]],
                  bindings: dict[tuple[str, str], str]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(definitions, imports, call sites) rows of one file.

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
    defs: list[tuple] = [(file_id, nid(0), "module", module.rsplit(".", 1)[-1], module, symbol[0], None, nid(0),
                          rows[0].start, rows[0].end, 1, code_units.get(nid(0)), None)]
    imports: list[tuple] = []
    calls: list[tuple] = []
    module_vars: set[str] = set()

    def text(r) -> str | None:
        return src[r.start:r.end].decode("utf-8", "replace") if r is not None and r.start is not None else None

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
            else:
                kind = "method" if kind_of_owner is ast.ClassDef else ("lambda" if isinstance(node, ast.Lambda)
                                                                        else "function")
                desc = f"{name}()."
            base = symbol[up]
            symbol[r.ordinal] = base + desc
            defs.append((file_id, nid(r.ordinal), kind, name, q, symbol[r.ordinal], nid(up), nid(r.ordinal),
                         r.start, r.end, getattr(node, "lineno", None), code_units.get(nid(r.ordinal)),
                         bindings.get((nid(r.ordinal), "def"))))
        elif isinstance(node, ast.arg) and isinstance(parent.node, ast.arguments):
            fn = parent.parent
            if fn >= 0 and fn in qual:
                q = f"{qual[fn]}.{node.arg}"
                defs.append((file_id, nid(r.ordinal), "parameter", node.arg, q, f"{symbol[fn]}({node.arg})",
                             nid(fn), nid(r.ordinal), r.start, r.end, node.lineno, None,
                             bindings.get((nid(r.ordinal), "def"))))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and up == 0 \
                and node.id not in module_vars:
            module_vars.add(node.id)  # a module-level variable: its first binding site defines it
            defs.append((file_id, nid(r.ordinal), "variable", node.id, f"{module}.{node.id}",
                         f"{symbol[0]}{node.id}.", nid(0), nid(r.ordinal), r.start, r.end, node.lineno, None,
                         bindings.get((nid(r.ordinal), "def"))))
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
                            bindings.get((nid(r.ordinal), "def")), node.asname))
        if isinstance(node, ast.Call):
            calls.append(_call_row(file_id, r, nid, "call", node.func, node, up, qual, text, by_node,
                                   call_instrs, bindings))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # Decorators apply bottom-up; each is a call of its expression with the definition.
            for k, dec in enumerate(node.decorator_list):
                dr = by_node[id(dec)]
                calls.append(_call_row(file_id, dr, nid, "decorator", dec, None, up, qual, text, by_node,
                                       call_instrs, bindings, f"{nid(r.ordinal)}:DECORATOR:{k}"))
    return defs, imports, calls


def _call_row(file_id, r, nid, call_kind, func, call, up, qual, text, by_node, call_instrs, bindings,
              callsite_id=None) -> tuple:
    kind, root, attrs = _callee(func)
    fr = by_node.get(id(func))
    root_node = func
    while isinstance(root_node, ast.Attribute):
        root_node = root_node.value
    rr = by_node.get(id(root_node)) if root is not None else None
    root_binding = bindings.get((nid(rr.ordinal), "use")) if rr is not None else None
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
            has_kwstar, instr, op, cu)
