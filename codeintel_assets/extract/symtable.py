"""Symtable walk (seed 000 SYM-ALG-1): one ``symtable.symtable(source, path, "exec")`` per file -> scope tree.

Scope identity (seed §3.2, DESIGN §5): ``scope_id = {path}:SCOPE:{qualpath}:{lineno}:{scope_type}:{ordinal}``.
``qualpath`` is built like the bytecode plane's code-unit qualpath so that the two usually agree:
the module is ``<module>`` (ids never carry the module name: that is a column, from the import roots); a def/class appends its name (``name#2`` for the second
sibling of that name); anonymous scopes append ``<lambda#n>`` / ``<genexpr#n>`` / ``<listcomp#n>``; a
TYPE_PARAMETERS scope appends ``<generic parameters of X>`` (the name CPython gives its code object);
TYPE_VARIABLE / TYPE_ALIAS append the type variable / alias name. ``ordinal`` disambiguates siblings
with equal (type, name, lineno), as the spec asks.

Symbol booleans are ``symtable.Symbol``'s, computed from the raw flag word with Lib/symtable.py's own
definitions (``SymbolFacts``), and namespaces are grouped once per table: ``SymbolTable.lookup``
rescans every child table per symbol (quadratic on large modules) and builds an object per symbol.
"""

import symtable as _st
import warnings
from dataclasses import dataclass, field

from codeintel_assets.extract.spans import MODULE_QUALPATH, child_qualpath

COMPILE_TYPE = "exec"

# Include/internal/pycore_symtable.h (3.13): bits _symtable does not export.
DEF_PARAM = 2 << 1
DEF_NONLOCAL = 2 << 2
DEF_GLOBAL = 1
DEF_LOCAL = 2
DEF_IMPORT = 2 << 6
DEF_ANNOT = 2 << 7
DEF_COMP_ITER = 2 << 8
DEF_TYPE_PARAM = 2 << 9
USE = 2 << 3
SCOPE_OFF, SCOPE_MASK = 12, 15
SCOPE_NAMES = {1: "LOCAL", 2: "GLOBAL_EXPLICIT", 3: "GLOBAL_IMPLICIT", 4: "FREE", 5: "CELL"}
LOCAL, GLOBAL_EXPLICIT, GLOBAL_IMPLICIT, FREE, CELL = 1, 2, 3, 4, 5

META_TYPES = frozenset({"ANNOTATION", "TYPE_ALIAS", "TYPE_PARAMETERS", "TYPE_VARIABLE"})
# CPython's _PyST_IsFunctionLike: blocks whose names are fast locals / cells of their own code object.
FUNCTION_LIKE = frozenset({"FUNCTION", "ANNOTATION", "TYPE_ALIAS", "TYPE_PARAMETERS", "TYPE_VARIABLE"})
COMPREHENSION_NAMES = frozenset({"genexpr", "listcomp", "setcomp", "dictcomp"})
GENERIC_PREFIX = "<generic parameters of "


def scope_code(flags: int) -> int:
    return (flags >> SCOPE_OFF) & SCOPE_MASK


@dataclass(eq=False, slots=True)
class Scope:
    """One symbol table with its derived identity; ``symbols`` is the raw name -> flag word map."""

    scope_id: str
    scope_type: str  # SymbolTableType member *name*
    name: str
    lineno: int
    qualpath: str
    ordinal: int
    depth: int
    index_in_parent: int
    local_id: int
    is_nested: bool
    is_optimized: bool
    symbols: dict[str, int]
    parent: "Scope | None"
    table: object  # the symtable.SymbolTable
    children: list["Scope"] = field(default_factory=list)

    @property
    def role(self) -> str:
        return "type_meta" if self.scope_type in META_TYPES else "runtime"

    @property
    def is_function_like(self) -> bool:
        return self.scope_type in FUNCTION_LIKE

    @property
    def is_comprehension(self) -> bool:
        # Comprehension tables are FUNCTION blocks whose first parameter is the implicit ".0".
        return self.scope_type == "FUNCTION" and self.name in COMPREHENSION_NAMES and ".0" in self.symbols

    def names_with_scope(self, *codes: int) -> list[str]:
        return [n for n, f in self.symbols.items() if scope_code(f) in codes]

    def parameters(self) -> list[str]:
        return [n for n, f in self.symbols.items() if f & DEF_PARAM]


@dataclass
class SymtableTree:
    """Every scope of one file in DFS preorder (parents before children, children in table order)."""

    path: str
    top: object
    scopes: list[Scope]
    by_id: dict[str, Scope]
    by_table: dict[int, Scope]  # SymbolTable.get_id() -> scope, for get_namespaces() / lookups by table
    symbol_cache: list | None = None

    @property
    def module(self) -> Scope:
        return self.scopes[0]


def read_symtable(source: bytes | str, path: str):
    """The pinned boundary (seed 1.1): ``symtable.symtable(code, filename, "exec")``; may raise SyntaxError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning (invalid escapes...) is not a failure
        return _st.symtable(source, path, COMPILE_TYPE)


def raw_symbols(table) -> dict[str, int]:
    """name -> raw flag word of one ``symtable.SymbolTable``, in table order.

    Private on purpose: no public API yields the flag word. ``SymbolTable.get_identifiers()`` gives the
    names only, and ``symtable.Symbol`` keeps the word private (``__flags``) and exposes only some bits
    as booleans (not DEF_COMP_ITER, DEF_TYPE_PARAM or the full scope field), while py_sym_symbols stores
    the word itself; rebuilding it from ``lookup()`` would also cost a child-table rescan per symbol.
    So this reads ``.symbols`` of the ``_symtable`` entry the public wrapper holds (``_table``);
    tests/test_public_apis.py checks the names against get_identifiers() and the bits against the
    public Symbol booleans, so a CPython that changes either fails there.
    """
    return table._table.symbols


def _segment(scope_type: str, name: str, is_comp: bool) -> str:
    if scope_type == "TYPE_PARAMETERS":
        return f"{GENERIC_PREFIX}{name}>"
    if scope_type == "ANNOTATION":
        return "<annotation>"
    if scope_type == "FUNCTION" and (name == "lambda" or is_comp):
        return f"<{name}>"
    return name


def walk_symtable(top, path: str) -> SymtableTree:
    """SYM-ALG-1 step 2: DFS over get_children(), deriving qualpath, ordinal and scope_id."""
    scopes: list[Scope] = []
    by_table: dict[int, Scope] = {}
    root_q = MODULE_QUALPATH

    def make(table, parent: Scope | None, index: int, qualpath: str, ordinal: int) -> Scope:
        stype = table.get_type().name
        lineno = table.get_lineno()
        table_id = table.get_id()  # unique per symtable() call: CPython keys its block dict by it
        sid = f"{path}:SCOPE:{qualpath}:{lineno}:{stype}:{ordinal}"
        sc = Scope(sid, stype, table.get_name(), lineno, qualpath, ordinal, 0 if parent is None else parent.depth + 1,
                   index, table_id, table.is_nested(), table.is_optimized(), raw_symbols(table), parent, table)
        scopes.append(sc)
        by_table[table_id] = sc
        return sc

    def visit(sc: Scope) -> None:
        seen_seg: dict[str, int] = {}
        seen_key: dict[tuple, int] = {}
        for k, child in enumerate(sc.table.get_children()):
            stype = child.get_type().name
            cname = child.get_name()
            is_comp = stype == "FUNCTION" and cname in COMPREHENSION_NAMES and ".0" in child.get_identifiers()
            base = _segment(stype, cname, is_comp)
            n = seen_seg[base] = seen_seg.get(base, 0) + 1
            if base.startswith("<") and not base.startswith(GENERIC_PREFIX):
                seg = f"{base[:-1]}#{n}>"
            else:
                seg = base if n == 1 else f"{base}#{n}"
            key = (stype, cname, child.get_lineno())
            ordinal = seen_key[key] = seen_key.get(key, -1) + 1
            c = make(child, sc, k, child_qualpath(sc.qualpath, seg), ordinal)
            sc.children.append(c)
            visit(c)

    root = make(top, None, 0, root_q, 0)
    visit(root)
    return SymtableTree(path, top, scopes, {s.scope_id: s for s in scopes}, by_table)


def namespaces_of(sc: Scope) -> dict[str, list[Scope]]:
    """name -> child scopes it binds (Symbol.get_namespaces(): children whose table name equals it)."""
    out: dict[str, list[Scope]] = {}
    for c in sc.children:
        out.setdefault(c.name, []).append(c)
    return out


DEF_BOUND = DEF_LOCAL | DEF_PARAM | DEF_IMPORT


@dataclass(frozen=True, slots=True)
class SymbolFacts:
    """``symtable.Symbol``'s booleans for one (scope, name), computed from the flag word exactly as
    Lib/symtable.py (3.13) does; ``tests/test_symtable_cookbook.py`` checks the equivalence."""

    scope: Scope
    name: str
    flags: int
    scope_code: int
    is_referenced: bool
    is_assigned: bool
    is_imported: bool
    is_annotated: bool
    is_parameter: bool
    is_local: bool
    is_global: bool
    is_declared_global: bool
    is_nonlocal: bool
    is_free: bool
    namespaces: tuple

    @property
    def is_namespace(self) -> bool:
        return bool(self.namespaces)


def symbol_facts(tree: SymtableTree) -> list[SymbolFacts]:
    """Every symbol of every scope, in table order (cached on the tree)."""
    if tree.symbol_cache is not None:
        return tree.symbol_cache
    out = []
    for sc in tree.scopes:
        ns = namespaces_of(sc)
        # SymbolTable.lookup passes module_scope=(table name == "top"), not the table type.
        module_scope = sc.name == "top"
        for name, flags in sc.symbols.items():
            code = (flags >> SCOPE_OFF) & SCOPE_MASK
            bound_mod = module_scope and bool(flags & DEF_BOUND)
            out.append(SymbolFacts(
                sc, name, flags, code, bool(flags & USE), bool(flags & DEF_LOCAL), bool(flags & DEF_IMPORT),
                bool(flags & DEF_ANNOT), bool(flags & DEF_PARAM), code in (LOCAL, CELL) or bound_mod,
                code in (GLOBAL_IMPLICIT, GLOBAL_EXPLICIT) or bound_mod, code == GLOBAL_EXPLICIT,
                bool(flags & DEF_NONLOCAL), code == FREE, tuple(ns.get(name, ())),
            ))
    tree.symbol_cache = out
    return out


# ---------------------------------------------------------------------------------------------
# Rows (SYM-ALG-1 step 3-4)


def symbol_rows(fid: str, tree: SymtableTree) -> tuple[list[tuple], list[tuple]]:
    """py_sym_symbols and py_sym_namespace_edges rows."""
    sym_rows, ns_rows = [], []
    for f in symbol_facts(tree):
        sid = f.scope.scope_id
        row_id = f"{sid}:SYM:{f.name}"
        nss = f.namespaces
        sym_rows.append((
            fid, sid, row_id, f.name, f.flags, SCOPE_NAMES.get(f.scope_code),
            f.is_referenced, f.is_assigned, f.is_imported, f.is_annotated, f.is_parameter,
            f.is_local, f.is_global, f.is_declared_global, f.is_nonlocal, f.is_free,
            bool(nss), len(nss), bool(f.flags & DEF_TYPE_PARAM), bool(f.flags & DEF_COMP_ITER),
        ))
        for ns in nss:
            ns_rows.append((fid, sid, row_id, f.name, ns.scope_id, ns.scope_type, "BINDS_NAMESPACE", len(nss), len(nss) != 1))
    return sym_rows, ns_rows


def scope_edge_rows(fid: str, tree: SymtableTree) -> list[tuple]:
    return [(fid, sc.parent.scope_id, sc.scope_id, "PARENT_SCOPE", sc.index_in_parent)
            for sc in tree.scopes if sc.parent is not None]


def function_partition_rows(fid: str, tree: SymtableTree) -> list[tuple]:
    """FUNCTION scopes only (seed 2.5): get_parameters/locals/globals/nonlocals/frees().

    Computed with symtable.Function's own tests on the flag word (``Function.__idents_matching``
    rescans every identifier per call); the cookbook checks equality with the public API.
    """
    parts: dict[str, tuple[list, list, list, list, list]] = {}
    for f in symbol_facts(tree):
        if f.scope.scope_type != "FUNCTION":
            continue
        p = parts.get(f.scope.scope_id)
        if p is None:
            p = parts[f.scope.scope_id] = ([], [], [], [], [])
        code = f.scope_code
        if f.flags & DEF_PARAM:
            p[0].append(f.name)
        if code in (LOCAL, CELL):
            p[1].append(f.name)
        if code in (GLOBAL_IMPLICIT, GLOBAL_EXPLICIT):
            p[2].append(f.name)
        if f.flags & DEF_NONLOCAL:
            p[3].append(f.name)
        if code == FREE:
            p[4].append(f.name)
    # frees sorted (as co_freevars): symtable's order for them follows set iteration in the compiler's
    # analysis, i.e. the hash seed; the other partitions keep symtable's (deterministic) order.
    out = []
    for sc in tree.scopes:
        if sc.scope_type == "FUNCTION":
            p = parts.get(sc.scope_id, ([], [], [], [], []))
            out.append((fid, sc.scope_id, p[0], p[1], p[2], p[3], sorted(p[4])))
    return out
