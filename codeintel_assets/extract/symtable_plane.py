"""The symtable plane: one file -> every ``py_sym_*`` table (one symtable pass, one AST pass).

Order of work: SYM-ALG-1 (``symtable.walk_symtable``), the AST scope walk (``astscopes``), SYM-ALG-2
(``anchors.align_scopes``), SYM-ALG-3 (``bindings``), SYM-ALG-4 and SYM-CPG-ALG-4/5 (``resolve``), and
the code-unit crosswalk (``crosswalk``). A file whose symtable pass fails is one ``py_sym_files`` row
with ``ok = false``; a file whose symtable succeeds but whose AST pass fails keeps its symtable facts
(scopes unanchored, no name sites) and is also ``ok = false``.
"""

from dataclasses import dataclass

import pyarrow as pa

from codeintel_assets.contracts import symtable as C
from codeintel_assets.extract.anchors import Alignment, align_scopes
from codeintel_assets.extract.astscopes import AstScopes, walk_scopes
from codeintel_assets.extract.bindings import build_bindings, refine_with_sites
from codeintel_assets.extract.context import as_context
from codeintel_assets.extract.crosswalk import CodeKey, CodeMatch, match_code_units
from codeintel_assets.extract.resolve import Resolver, ScopeRef, resolve_site
from codeintel_assets.extract.rows import to_table
from codeintel_assets.extract.symtable import (
    COMPILE_TYPE, SymtableTree, function_partition_rows, scope_edge_rows, symbol_rows,
)
from codeintel_assets.extract.syntax import error_from_exception

TABLES = ("py_sym_files", "py_sym_scopes", "py_sym_symbols", "py_sym_scope_edges", "py_sym_namespace_edges",
          "py_sym_function_partitions", "py_sym_bindings", "py_sym_resolution_edges", "py_sym_name_sites",
          "py_sym_code_crosswalk")
_CONTRACTS = {n: C.__dict__[n.upper()] for n in TABLES}


@dataclass(frozen=True)
class SymtableFacts:
    tables: dict[str, pa.Table]
    tree: SymtableTree | None = None
    ast_scopes: AstScopes | None = None
    alignment: Alignment | None = None
    resolver: Resolver | None = None

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]

    @property
    def status(self) -> dict:
        return self.tables["py_sym_files"].to_pylist()[0]


def _status_row(fid, ok, stage=None, exc=None, counts=(0, 0, 0), code_units_available=None, future=None) -> tuple:
    if exc is not None:
        e = error_from_exception(stage, exc)
        etype, emsg, eline = e.type, e.msg, e.lineno
    else:
        etype = emsg = eline = None
    return (fid, ok, stage if not ok else None, etype, emsg, eline, COMPILE_TYPE, *counts, code_units_available, future)


def _facts(path: str, rows: dict[str, list[tuple]], **kw) -> SymtableFacts:
    return SymtableFacts({n: to_table(_CONTRACTS[n], rows.get(n, []), path) for n in TABLES}, **kw)


def extract_symtable(src, code_units: pa.Table | None = None) -> SymtableFacts:
    """One file (SourceFile or FileContext) -> py_sym_* tables.

    The symbol table, the parse and the code-unit crosswalk are the context's (shared with the bytecode
    plane of the same pass); ``code_units`` (this file's ``py_bc_code_units`` rows) is only needed when
    the bytecode plane did not run in this context (compiled here if None).
    """
    ctx = as_context(src)
    src = ctx.src
    path, fid = src.path, src.file_id
    if src.error is not None:
        msg = f"{src.error.stage} failed: {src.error.type}: {src.error.msg}"
        row = (fid, False, "source", "SourceUnavailable", msg, src.error.lineno, COMPILE_TYPE, 0, 0, 0, None, None)
        return _facts(path, {"py_sym_files": [row]})
    try:
        stree = ctx.symtable_tree()
    except Exception as exc:  # SyntaxError, ValueError (null bytes), RecursionError, MemoryError
        return _facts(path, {"py_sym_files": [_status_row(fid, False, "symtable", exc)]})

    lines = ctx.lines()
    ast_error = None
    scopes_ast = alignment = None
    tree = None
    try:
        tree = ctx.tree()
        scopes_ast = walk_scopes(tree, src.utf8, lines)
        alignment = align_scopes(stree, scopes_ast)
    except Exception as exc:
        ast_error = exc
        scopes_ast = alignment = None

    bindings = build_bindings(stree)
    refs = {s.scope_id: ScopeRef(s.scope_id, None if s.parent is None else s.parent.scope_id, s.scope_type)
            for s in stree.scopes}
    resolver = Resolver(refs, bindings)
    edges = resolver.compute_edges()

    site_rows: list[tuple] = []
    if alignment is not None:
        site_rows, bound, walrus = _name_site_rows(path, fid, scopes_ast, resolver)
        resolver.bindings = refine_with_sites(resolver.bindings, bound, walrus, stree.module.scope_id)

    match = _code_match(ctx, stree, code_units)
    codes = match is not None

    sym_rows, ns_rows = symbol_rows(fid, stree)
    binding_rows = [_binding_row(fid, b) for b in resolver.bindings.values()]
    binding_rows += [_binding_row(fid, b) for b in resolver.synthesized.values()]
    edge_rows = [(fid, e.edge_id, e.src, e.dst, e.kind, e.confidence, e.reason) for e in edges]
    scope_rows, xw_rows = _scope_and_crosswalk_rows(path, fid, stree, alignment, match, ctx.module_name)

    ok = ast_error is None
    status = _status_row(fid, ok, None if ok else "anchor", ast_error,
                         (len(stree.scopes), len(sym_rows), len(site_rows)), bool(codes),
                         None if scopes_ast is None else scopes_ast.future_annotations)
    return _facts(path, {
        "py_sym_files": [status], "py_sym_scopes": scope_rows, "py_sym_symbols": sym_rows,
        "py_sym_scope_edges": scope_edge_rows(fid, stree), "py_sym_namespace_edges": ns_rows,
        "py_sym_function_partitions": function_partition_rows(fid, stree), "py_sym_bindings": binding_rows,
        "py_sym_resolution_edges": edge_rows, "py_sym_name_sites": site_rows, "py_sym_code_crosswalk": xw_rows,
    }, tree=stree, ast_scopes=scopes_ast, alignment=alignment, resolver=resolver)


def _binding_row(fid, b) -> tuple:
    return (fid, b.binding_id, b.scope_id, b.name, b.symbol_row_id, b.kind, b.scoping_class, b.declared_here,
            b.referenced_here, b.assigned_here, b.annotated_here, b.is_implicit, b.is_synthesized, b.synthesized_reason)


def _name_site_rows(path: str, fid: str, scopes_ast: AstScopes, resolver: Resolver):
    """SYM-CPG-ALG-5: every site with its containing scope and resolved binding.

    A site's resolution depends only on (its slot, its symbol name): cached, since names repeat.
    """
    rows = []
    bound: set[str] = set()
    walrus: set[str] = set()
    prefix = f"{path}:AST:"
    site_prefix = f"{path}:SITE:"
    slot_cache: dict = {}
    cache: dict[tuple, tuple] = {}
    for s in scopes_ast.sites:
        stringized = s.site_kind == "annotation_name"
        key = (id(s.slot), s.symbol_name, stringized)
        got = cache.get(key)
        if got is None:
            r = resolve_site(s.slot, s.symbol_name, stringized, resolver, slot_cache)
            res = r.res
            got = cache[key] = (
                r.scope_id, None if r.inlined_comp is None else prefix + str(r.inlined_comp.owner), r.scope_binding_id,
                None if res is None else res.binding_id, "stringized_annotation" if res is None else res.resolution,
                None if res is None else res.confidence)
        sid, inlined, scope_binding, bid, resolution, conf = got
        if bid is not None and s.role == "def":
            bound.add(bid)
            if s.site_kind == "walrus_target":
                walrus.add(bid)
        rows.append((
            fid, f"{site_prefix}{s.ordinal}:{s.k}", prefix + str(s.ordinal), s.ast_kind, s.name, s.symbol_name,
            s.role, s.site_kind, s.start, s.end, s.span_is_name, sid, inlined,
            s.in_annotation, s.is_evaluated, s.is_implicit, scope_binding, bid, resolution, conf,
        ))
    return rows, bound, walrus


def _code_match(ctx, stree, code_units: pa.Table | None) -> CodeMatch | None:
    """The code-unit <-> scope pairing: the bytecode plane's (same context) or from ``code_units`` rows."""
    if code_units is not None:
        codes = CodeKey.from_rows(code_units)
        return match_code_units(stree, codes) if codes else None
    try:
        from codeintel_assets.extract.bytecode import AstAnchors, enumerate_code_units
        def compute():
            units = enumerate_code_units(ctx.path, ctx.code(), AstAnchors(ctx.path, ctx.ast_rows()), ctx.lines())
            return match_code_units(stree, CodeKey.from_units(units, ctx.path))
        return ctx.memo("code_scope_match", compute)
    except Exception:  # noqa: BLE001 - compile failed: scopes are recorded without code units
        return None


_XW_REASON = {
    "runtime": "code object of this scope",
    "type_meta": "code object of a type scope (<generic parameters of X>, TypeVar bound/default, alias value)",
}


def _scope_and_crosswalk_rows(path: str, fid: str, stree: SymtableTree, alignment: Alignment | None,
                              match: CodeMatch | None, module_name: str):
    prefix = f"{path}:AST:"
    scope_rows, xw_rows = [], []
    for k, sc in enumerate(stree.scopes):
        a = None if alignment is None else alignment.anchors.get(sc.scope_id)
        node_id = None if a is None or a.ast_ordinal is None else prefix + str(a.ast_ordinal)
        if match is None:
            has_code, cu, kind = None, None, "code_units_unavailable"
            why = "no code units for this file (compile failed or not given)"
            conf = None
        elif sc.scope_id in match.code_of:
            has_code, cu = True, match.code_of[sc.scope_id]
            kind = "runtime" if sc.role == "runtime" else "type_meta"
            why, conf = _XW_REASON[kind], match.confidence[sc.scope_id]
        else:
            has_code, cu, kind, conf = False, None, "scope_without_code", 1.0
            slot = None if alignment is None else alignment.slot_of.get(sc.scope_id)
            if sc.scope_type == "ANNOTATION":
                why = "annotation scope: the compiler makes no code object for it"
            elif slot is not None and slot.unevaluated:
                why = "inside an annotation the compiler never evaluates (local variable annotation)"
            else:
                why = "no code object: eliminated by the compiler as unreachable"
        scope_rows.append((
            fid, COMPILE_TYPE, sc.scope_id, k, None if sc.parent is None else sc.parent.scope_id, sc.scope_type,
            sc.role, sc.name, sc.qualpath, sc.lineno, sc.ordinal, sc.depth, sc.is_nested, sc.is_optimized,
            bool(sc.children), node_id, None if a is None else a.start, None if a is None else a.end,
            None if a is None else a.confidence, None if a is None else a.reason, has_code, cu, kind, why, module_name,
        ))
        xw_rows.append((fid, f"{sc.scope_id}:XW", sc.scope_id, cu, node_id, kind, why, conf))
    if alignment is not None:
        for sl in alignment.inlined:
            outer = sl.parent
            while outer is not None and outer.scope is None:
                outer = outer.parent
            sid = None if outer is None else outer.scope.scope_id
            cu = None if match is None or sid is None else match.code_of.get(sid)
            xw_rows.append((fid, f"{path}:XW:AST:{sl.owner}", sid, cu, prefix + str(sl.owner), "inlined_comprehension",
                            "PEP 709: no table and no code object; names in the enclosing table, code in the "
                            "enclosing code unit", 1.0))
    if match is not None:
        for c in match.codes_without_scope:
            xw_rows.append((fid, f"{c.code_unit_id}:XW", None, c.code_unit_id, c.ast_node_id, "code_without_scope",
                            f"no symbol table matched code object {c.co_name!r}", 1.0))
    return scope_rows, xw_rows
