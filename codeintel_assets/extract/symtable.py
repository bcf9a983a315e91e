"""Symtable walk (seed 000 SYM-ALG-1): one ``symtable.symtable(source, path, "exec")`` per file -> scope tree.

Scope identity (seed §3.2, DESIGN §5): ``scope_id = {path}:SCOPE:{qualpath}:{lineno}:{scope_type}:{ordinal}``.
``qualpath`` is built like the bytecode plane's code-unit qualpath so that the two usually agree:
the module is ``module_name_for(path)``; a def/class appends its name (``name#2`` for the second
sibling of that name); anonymous scopes append ``<lambda#n>`` / ``<genexpr#n>`` / ``<listcomp#n>``; a
TYPE_PARAMETERS scope appends ``<generic parameters of X>`` (the name CPython gives its code object);
TYPE_VARIABLE / TYPE_ALIAS append the type variable / alias name. ``ordinal`` disambiguates siblings
with equal (type, name, lineno), as the spec asks.

Symbol booleans come from CPython's own ``symtable.Symbol`` built over the raw flag word; namespaces are
grouped once per table, because ``SymbolTable.lookup`` rescans every child table per symbol
(quadratic on large modules). The flag word is the same one ``Symbol`` wraps.
"""

import symtable as _st
import warnings
from dataclasses import dataclass, field

from codeintel_assets.extract.spans import module_name_for

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
    by_table: dict[int, Scope]  # id(raw table) -> scope, for get_namespaces()

    @property
    def module(self) -> Scope:
        return self.scopes[0]


def read_symtable(source: bytes | str, path: str):
    """The pinned boundary (seed 1.1): ``symtable.symtable(code, filename, "exec")``; may raise SyntaxError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning (invalid escapes...) is not a failure
        return _st.symtable(source, path, COMPILE_TYPE)


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
    root_q = module_name_for(path)

    def make(table, parent: Scope | None, index: int, qualpath: str, ordinal: int) -> Scope:
        raw = table._table
        stype = table.get_type().name
        lineno = table.get_lineno()
        sid = f"{path}:SCOPE:{qualpath}:{lineno}:{stype}:{ordinal}"
        sc = Scope(sid, stype, table.get_name(), lineno, qualpath, ordinal, 0 if parent is None else parent.depth + 1,
                   index, table.get_id(), table.is_nested(), table.is_optimized(), raw.symbols, parent, table)
        scopes.append(sc)
        by_table[id(raw)] = sc
        return sc

    def visit(sc: Scope) -> None:
        seen_seg: dict[str, int] = {}
        seen_key: dict[tuple, int] = {}
        for k, child in enumerate(sc.table.get_children()):
            stype = child.get_type().name
            cname = child.get_name()
            is_comp = stype == "FUNCTION" and cname in COMPREHENSION_NAMES and ".0" in child._table.symbols
            base = _segment(stype, cname, is_comp)
            n = seen_seg[base] = seen_seg.get(base, 0) + 1
            if base.startswith("<") and not base.startswith(GENERIC_PREFIX):
                seg = f"{base[:-1]}#{n}>"
            else:
                seg = base if n == 1 else f"{base}#{n}"
            key = (stype, cname, child.get_lineno())
            ordinal = seen_key[key] = seen_key.get(key, -1) + 1
            c = make(child, sc, k, f"{sc.qualpath}::{seg}", ordinal)
            sc.children.append(c)
            visit(c)

    root = make(top, None, 0, root_q, 0)
    visit(root)
    return SymtableTree(path, top, scopes, {s.scope_id: s for s in scopes}, by_table)


def namespaces_of(sc: Scope, tree: SymtableTree) -> dict[str, list[Scope]]:
    """name -> child scopes it binds (Symbol.get_namespaces(): children whose table name equals it)."""
    out: dict[str, list[Scope]] = {}
    for c in sc.children:
        out.setdefault(c.name, []).append(c)
    return out


def symbol_of(sc: Scope, name: str, flags: int, namespaces: list[Scope]):
    """CPython's own Symbol over the raw flag word (booleans exactly as the symtable module defines them)."""
    return _st.Symbol(name, flags, [n.table for n in namespaces], module_scope=sc.scope_type == "MODULE")


# ---------------------------------------------------------------------------------------------
# Rows (SYM-ALG-1 step 3-4)


def symbol_rows(fid: str, tree: SymtableTree) -> tuple[list[tuple], list[tuple]]:
    """py_sym_symbols and py_sym_namespace_edges rows."""
    sym_rows, ns_rows = [], []
    for sc in tree.scopes:
        ns_by_name = namespaces_of(sc, tree)
        for name, flags in sc.symbols.items():
            nss = ns_by_name.get(name, ())
            sym = symbol_of(sc, name, flags, nss)
            row_id = f"{sc.scope_id}:SYM:{name}"
            sym_rows.append((
                fid, sc.scope_id, row_id, name, flags, SCOPE_NAMES.get(scope_code(flags)),
                sym.is_referenced(), sym.is_assigned(), sym.is_imported(), sym.is_annotated(), sym.is_parameter(),
                sym.is_local(), sym.is_global(), sym.is_declared_global(), sym.is_nonlocal(), sym.is_free(),
                sym.is_namespace(), len(nss), bool(flags & DEF_TYPE_PARAM), bool(flags & DEF_COMP_ITER),
            ))
            for ns in nss:
                ns_rows.append((fid, sc.scope_id, row_id, name, ns.scope_id, ns.scope_type, "BINDS_NAMESPACE",
                                len(nss), len(nss) != 1))
    return sym_rows, ns_rows


def scope_edge_rows(fid: str, tree: SymtableTree) -> list[tuple]:
    return [(fid, sc.parent.scope_id, sc.scope_id, "PARENT_SCOPE", sc.index_in_parent)
            for sc in tree.scopes if sc.parent is not None]


def function_partition_rows(fid: str, tree: SymtableTree) -> list[tuple]:
    """FUNCTION scopes only (seed 2.5), through the public symtable.Function API."""
    rows = []
    for sc in tree.scopes:
        if sc.scope_type != "FUNCTION":
            continue
        t = sc.table
        rows.append((fid, sc.scope_id, list(t.get_parameters()), list(t.get_locals()), list(t.get_globals()),
                     list(t.get_nonlocals()), list(t.get_frees())))
    return rows
