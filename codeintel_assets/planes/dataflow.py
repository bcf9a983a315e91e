"""The dataflow plane: def/use events, stack and memory DFG, reaching definitions, from the same pass's
code units, CFG and bindings (nothing read back from DuckDB)."""

from codeintel_assets.contracts import dataflow as C
from codeintel_assets.planes import Gate, Plane
from codeintel_assets.validate import dataflow_gates as G


def extract(ctx, upstream):
    from codeintel_assets.extract.dataflow import extract_dataflow, upstream_failure
    meta = upstream["codeintel_run_meta"].to_pylist()
    if not meta or not meta[0]["ok"]:
        why = meta[0]["error_msg"] if meta else "no bytecode status row"
        return upstream_failure(ctx.path, ctx.file_id, f"no bytecode for this file: {why}")
    facts = ctx.get("symtable_facts")
    return extract_dataflow(ctx.path, ctx.file_id, ctx.get("code_units"), upstream["py_bc_instructions"],
                            upstream["py_bc_code_units"], ctx.get("cfg_graphs"), facts.resolver)


def run_metadata(conn, keys) -> dict:
    """The run's fallback hits per opname, unmodelled instructions and reaching definitions per use."""
    import pyarrow as pa
    conn.register("__codeintel_run_keys", pa.table({"path": pa.array(list(keys), pa.string())}))
    try:
        row = conn.execute("""
            select coalesce(sum(unmodelled_ops), 0), coalesce(sum(reaching_def_count), 0),
                   coalesce(sum(slot_use_count), 0), coalesce(sum(failed_code_units), 0)
            from py_dfg_files where path in (select path from __codeintel_run_keys)""").fetchall()[0]
        hits = conn.execute("""
            select split_part(h, '=', 1) as op, sum(cast(split_part(h, '=', 2) as bigint))
            from (select unnest(fallback_ops) as h from py_dfg_files where path in (select path from __codeintel_run_keys))
            group by op order by op""").fetchall()
        reached = conn.execute("""
            select count(*) from py_bc_defuse_events where path in (select path from __codeintel_run_keys)
            and event_kind = 'USE_SLOT' and reaching_def_count > 0""").fetchall()[0][0]
    finally:
        conn.unregister("__codeintel_run_keys")
    unmodelled, rdefs, uses, failed = (int(x) for x in row)
    return {"unmodelled_instructions_in_run": unmodelled, "failed_code_units_in_run": failed,
            "classifier_fallback_hits_in_run": {op: int(n) for op, n in hits} or "none",
            "slot_uses_in_run": uses,
            "reaching_defs_per_reached_use_in_run": round(rdefs / reached, 3) if reached else 0.0}


def classifier_table():
    from codeintel_assets.extract.opclass import classifier_rows
    from codeintel_assets.extract.rows import to_table
    return to_table(C.PY_BC_OP_CLASSIFIER, classifier_rows())


PLANE = Plane(
    name="dataflow",
    description="The def/use classifier applied to every instruction (py_bc_defuse_events, with bindings from "
                "the symtable plane), the stack DFG simulated over the CFG with the memory edges "
                "(py_dfg_edges), and sound reaching definitions over normal and exception edges "
                "(py_reaching_defs); py_dfg_files is the status table.",
    tables=(C.PY_BC_DEFUSE_EVENTS, C.PY_DFG_EDGES, C.PY_REACHING_DEFS, C.PY_DFG_CODE_UNIT_FAILURES, C.PY_DFG_FILES),
    status="py_dfg_files",
    extract=extract,
    reads=("codeintel_run_meta", "py_bc_instructions", "py_bc_code_units", "py_bc_blocks", "py_bc_cfg_edges", "py_sym_bindings"),
    reference=((C.PY_BC_OP_CLASSIFIER, classifier_table),),
    run_metadata=run_metadata,
    gates=(
        Gate("defuse_binding_space", "py_bc_defuse_events", "FAST names resolve to a non-ref binding of their scope; "
             "DEREF through a cell, FREE or NONLOCAL; GLOBAL to the module (or builtins)", G.defuse_binding_space,
             (("py_bc_defuse_events", G.EVENT_COLUMNS), ("py_sym_bindings", G.BINDING_COLUMNS),
              ("py_bc_code_units", G.CODE_UNIT_COLUMNS), ("py_sym_scopes", G.SCOPE_COLUMNS))),
        Gate("dfg_sanity", "py_dfg_edges", "every use has a reaching definition or is flagged unbound / global / "
             "unreachable (counts per flag); stack edges join a producer and a consumer of one code unit",
             G.dfg_sanity,
             (("py_bc_defuse_events", G.EVENT_COLUMNS), ("py_dfg_edges", G.EDGE_COLUMNS),
              ("py_reaching_defs", G.REACH_COLUMNS), ("py_bc_instructions", G.INSTR_COLUMNS))),
    ),
)
