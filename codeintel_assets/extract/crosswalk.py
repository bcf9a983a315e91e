"""Code units <-> scopes (seed 000 SYM-CPG-ALG-7 step 1; issue 3 item 3).

Both trees come from the same compiler pass over the same source: the code-object tree (every code
object reachable through ``co_consts``) mirrors the symbol-table tree, so the two are matched
structurally, parent pair by parent pair, without the AST:

- children are grouped by kind and name: ``<generic parameters of X>`` <-> TYPE_PARAMETERS ``X``;
  a class body (no CO_OPTIMIZED) <-> CLASS; ``<lambda>`` / ``<genexpr>`` <-> the ``lambda`` / comprehension
  FUNCTION tables; any other optimized code object named ``N`` <-> a FUNCTION, TYPE_VARIABLE (a
  TypeVar's bound, constraints or default) or TYPE_ALIAS table named ``N``;
- within a group, ``co_firstlineno == get_lineno()`` (or earlier, for decorators), then the names
  (varnames, cells, frees vs the table's locals/cells/frees), then order decide.

What does not pair is recorded, not dropped (``py_sym_code_crosswalk.match_kind``):

- ``type_meta``: a TYPE_PARAMETERS / TYPE_VARIABLE / TYPE_ALIAS table matched to its code object
  (``<generic parameters of X>``, the lazily evaluated bound/default, the alias value) - a code object
  that has no *ordinary* (runtime) scope;
- ``scope_without_code``: a table the compiler produced no code object for: code it eliminated as
  unreachable (``if 0:``, ``if not __debug__:``...) or an annotation it never evaluates (a lambda in a
  local variable's annotation);
- ``inlined_comprehension``: a list/set/dict comprehension (PEP 709): no table *and* no code object;
  its names live in the enclosing table, its instructions in the enclosing code unit;
- ``code_without_scope``: a code object no table matched (none on the 3.13 stdlib).
"""

from dataclasses import dataclass

import pyarrow as pa

from codeintel_assets.extract.symtable import (
    CELL, FREE, GENERIC_PREFIX, LOCAL, Scope, SymtableTree, scope_code, walk_symtable,
)

CO_OPTIMIZED = 0x0001
_ANON = {"<lambda>": "lambda", "<genexpr>": "genexpr", "<listcomp>": "listcomp", "<setcomp>": "setcomp",
         "<dictcomp>": "dictcomp"}


@dataclass(frozen=True, slots=True)
class CodeKey:
    """What the matcher needs of one code unit (from CodeUnit objects or py_bc_code_units rows)."""

    code_unit_id: str
    parent_id: str | None
    co_name: str
    firstlineno: int
    flags: int
    names: frozenset
    ast_node_id: str | None

    @staticmethod
    def from_units(units, path: str | None = None) -> list["CodeKey"]:
        out = []
        for u in units:
            c = u.code
            out.append(CodeKey(u.code_unit_id, u.parent_id, c.co_name, c.co_firstlineno, c.co_flags,
                               frozenset(c.co_varnames + c.co_cellvars + c.co_freevars),
                               None if u.ast_ordinal is None or path is None else f"{path}:AST:{u.ast_ordinal}"))
        return out

    @staticmethod
    def from_rows(code_units: pa.Table) -> list["CodeKey"]:
        cols = ["code_unit_id", "parent_code_unit_id", "co_name", "co_firstlineno", "flags", "varnames",
                "cellvars", "freevars", "ast_node_id"]
        out = []
        for r in zip(*(code_units.column(c).to_pylist() for c in cols)):
            out.append(CodeKey(r[0], r[1], r[2], r[3], r[4], frozenset((r[5] or []) + (r[6] or []) + (r[7] or [])), r[8]))
        return out


def _code_key(c: CodeKey) -> tuple[str, str]:
    n = c.co_name
    if n.startswith(GENERIC_PREFIX):
        return "tparams", n[len(GENERIC_PREFIX):-1]
    if not c.flags & CO_OPTIMIZED:
        return "class", n
    if n in _ANON:
        return "anon", _ANON[n]
    return "named", n


def _scope_key(sc: Scope) -> tuple[str, str]:
    t = sc.scope_type
    if t == "TYPE_PARAMETERS":
        return "tparams", sc.name
    if t == "CLASS":
        return "class", sc.name
    if t == "FUNCTION" and (sc.name == "lambda" or sc.is_comprehension):
        return "anon", sc.name
    if t in ("FUNCTION", "TYPE_VARIABLE", "TYPE_ALIAS"):
        return "named", sc.name
    return t.lower(), sc.name  # MODULE / ANNOTATION: never a child code object


def _scope_names(sc: Scope) -> frozenset:
    return frozenset(n for n, f in sc.symbols.items() if scope_code(f) in (LOCAL, CELL, FREE))


@dataclass
class CodeMatch:
    scope_of: dict[str, str]  # code_unit_id -> scope_id
    code_of: dict[str, str]  # scope_id -> code_unit_id
    confidence: dict[str, float]  # scope_id -> match confidence
    scopes_without_code: list[Scope]
    codes_without_scope: list[CodeKey]


def match_code_units(tree: SymtableTree, codes: list[CodeKey]) -> CodeMatch:
    """Pair every code unit with its symbol table (structural walk of the two trees)."""
    children: dict[str | None, list[CodeKey]] = {}
    for c in codes:
        children.setdefault(c.parent_id, []).append(c)
    m = CodeMatch({}, {}, {}, [], [])
    roots = children.get(None, [])
    if not roots:
        m.scopes_without_code.extend(tree.scopes)
        return m
    root = roots[0]
    m.codes_without_scope.extend(roots[1:])
    stack = [(tree.module, root)]
    _pair(m, tree.module, root, 1.0)
    while stack:
        sc, cu = stack.pop()
        for s, c in _match_children(m, sc.children, children.get(cu.code_unit_id, [])):
            stack.append((s, c))
    m.scopes_without_code.extend(sc for sc in tree.scopes if sc.scope_id not in m.code_of)
    extra = {c.code_unit_id for c in m.codes_without_scope}
    m.codes_without_scope.extend(c for c in codes if c.code_unit_id not in m.scope_of and c.code_unit_id not in extra)
    return m


def _pair(m: CodeMatch, sc: Scope, cu: CodeKey, conf: float) -> None:
    m.scope_of[cu.code_unit_id] = sc.scope_id
    m.code_of[sc.scope_id] = cu.code_unit_id
    m.confidence[sc.scope_id] = conf


def _line_score(sc: Scope, cu: CodeKey) -> int:
    if cu.firstlineno == sc.lineno:
        return 2
    if cu.firstlineno < sc.lineno and sc.scope_type in ("FUNCTION", "CLASS", "TYPE_PARAMETERS"):
        return 1  # decorators: co_firstlineno is the first decorator's line, get_lineno() the def's
    return 0


def _match_children(m: CodeMatch, scopes: list[Scope], codes: list[CodeKey]) -> list[tuple[Scope, CodeKey]]:
    by_sc: dict[tuple, list[int]] = {}
    for i, sc in enumerate(scopes):
        by_sc.setdefault(_scope_key(sc), []).append(i)
    by_cu: dict[tuple, list[int]] = {}
    for j, cu in enumerate(codes):
        by_cu.setdefault(_code_key(cu), []).append(j)
    out = []
    for key, js in by_cu.items():
        is_ = by_sc.get(key, [])
        if len(is_) == 1 and len(js) == 1 and _line_score(scopes[is_[0]], codes[js[0]]) > 0:
            _pair(m, scopes[is_[0]], codes[js[0]], 1.0)
            out.append((scopes[is_[0]], codes[js[0]]))
            continue
        cands = []
        for a, i in enumerate(is_):
            for b, j in enumerate(js):
                ls = _line_score(scopes[i], codes[j])
                if ls == 0:
                    continue
                sa, sb = _scope_names(scopes[i]), codes[j].names
                sim = len(sa & sb) / len(sa | sb) if (sa or sb) else 1.0
                cands.append((-ls, -sim, abs(a - b), i, j))
        cands.sort()
        used_i, used_j = set(), set()
        for nls, nsim, dist, i, j in cands:
            if i in used_i or j in used_j:
                continue
            used_i.add(i)
            used_j.add(j)
            unique = sum(1 for c in cands if c[3] == i and c[0] == nls and c[1] == nsim) == 1
            _pair(m, scopes[i], codes[j], 1.0 if len(is_) == 1 == len(js) else (0.9 if unique else 0.7))
            out.append((scopes[i], codes[j]))
    return out


def code_unit_scope_ids(path: str, units, top) -> list[str | None]:
    """``py_bc_code_units.scope_id`` for each CodeUnit (None when no table matches it).

    Needs only what ``extract_bytecode`` has: the path, its ``CodeUnit`` list and a symbol table of the
    same source (``symtable_top(src)``); the scope ids equal the symtable plane's.
    """
    tree = walk_symtable(top, path)
    m = match_code_units(tree, CodeKey.from_units(units))
    return [m.scope_of.get(u.code_unit_id) for u in units]
