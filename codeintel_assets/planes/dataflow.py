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
