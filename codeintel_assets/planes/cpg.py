"""The cpg plane, per file: definitions with SCIP-style symbols, imports, call sites (the callee described,
its root name's binding attached), from the same pass's AST, code units, instructions and name sites."""

from codeintel_assets.contracts import cpg as C
from codeintel_assets.planes import Plane


def extract(ctx, upstream):
    import pyarrow as pa
    import pyarrow.compute as pc

    from codeintel_assets.extract.calls import CALL_OPS, extract_calls
    from codeintel_assets.extract.rows import to_table
    from codeintel_assets.pipeline import failure_tables
    try:
        rows = ctx.ast_rows()  # a file not read or decoded: SourceUnavailable, with the source plane's reason
    except Exception as exc:  # noqa: BLE001 - the source plane records the parse failure itself
        return failure_tables(PLANE, ctx, "source", type(exc).__name__, f"no AST for this file: {exc}"[:300])
    cu = upstream["py_bc_code_units"]
    code_units = dict(zip(cu.column("ast_node_id").to_pylist(), cu.column("code_unit_id").to_pylist()))
    ins = upstream["py_bc_instructions"]
    ins = ins.filter(pc.is_in(ins.column("baseopname"), value_set=pa.array(sorted(CALL_OPS))))
    call_instrs: dict = {}
    for node, iid, op, unit in zip(*(ins.column(c).to_pylist() for c in ("ast_node_id", "instr_id", "opname",
                                                                        "code_unit_id"))):
        call_instrs.setdefault(node, []).append((iid, op, unit))
    ns = upstream["py_sym_name_sites"]
    bindings: dict = {}
    for node, role, bid in zip(*(ns.column(c).to_pylist() for c in ("ast_node_id", "role", "binding_id"))):
        bindings.setdefault((node, role), bid)
    defs, imports, calls, args, values = extract_calls(ctx.path, ctx.file_id, ctx.module_name,
                                         ctx.path.rsplit("/", 1)[-1] == "__init__.py", ctx.src.utf8, rows,
                                         code_units, call_instrs, bindings)
    status = (ctx.file_id, True, None, None, None, len(defs), len(imports), len(calls),
              sum(1 for c in calls if c[18] is not None))
    return {C.CPG_FILES.name: to_table(C.CPG_FILES, [status], ctx.path),
            C.CPG_DEFINITIONS.name: to_table(C.CPG_DEFINITIONS, defs, ctx.path),
            C.CPG_IMPORTS.name: to_table(C.CPG_IMPORTS, imports, ctx.path),
            C.CPG_CALL_SITES.name: to_table(C.CPG_CALL_SITES, calls, ctx.path),
            C.CPG_CALL_ARGS.name: to_table(C.CPG_CALL_ARGS, args, ctx.path),
            C.CPG_VALUE_REFS.name: to_table(C.CPG_VALUE_REFS, values, ctx.path)}


PLANE = Plane(
    name="cpg",
    description="The CPG's per-file facts: definitions with SCIP-style symbols, imports (relative ones made "
                "absolute), call sites with the callee described, their arguments, the values the link step "
                "resolves (bases, aliases, container items, returns, __all__) and its root name's binding (cross-file "
                "resolution is the link step's).",
    tables=(C.CPG_FILES, C.CPG_DEFINITIONS, C.CPG_IMPORTS, C.CPG_CALL_SITES, C.CPG_CALL_ARGS, C.CPG_VALUE_REFS),
    status="cpg_files",
    extract=extract,
    reads=("py_bc_code_units", "py_bc_instructions", "py_sym_name_sites"),
)
