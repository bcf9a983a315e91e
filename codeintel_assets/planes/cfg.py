"""The CFG plane: basic blocks (algorithm A) and edges (algorithm B) from the same pass's instructions."""

from codeintel_assets.contracts import cfg as C
from codeintel_assets.planes import Gate, Plane
from codeintel_assets.validate import cfg_gates as G

_BLOCKS = ("py_bc_blocks", ("path", "code_unit_id", "block_id", "block_index", "start_offset", "is_entry", "is_exit",
                            "is_loop_header", "is_dead", "first_instr_index", "last_instr_index"))
_EDGES = ("py_bc_cfg_edges", ("code_unit_id", "src_block_id", "dst_block_id", "kind", "exc_entry_index", "depth", "lasti"))


def extract(ctx, upstream):
    from codeintel_assets.extract.cfg import extract_cfg_file
    graphs: dict = {}
    out = extract_cfg_file(ctx.path, ctx.file_id, upstream["py_bc_instructions"], upstream["py_bc_exception_table"],
                           upstream["codeintel_run_meta"], keep=graphs)
    ctx.put("cfg_graphs", graphs)  # code_unit_id -> (blocks, edges): the dataflow plane's CFG, same pass
    return out


PLANE = Plane(
    name="cfg",
    description="Basic blocks (algorithm A) and CFG edges (algorithm B, with exception edges) from the same pass's "
                "instructions and exception table (py_bc_cfg_files is the status table).",
    tables=(C.PY_BC_BLOCKS, C.PY_BC_CFG_EDGES, C.PY_BC_CFG_FILES),
    status="py_bc_cfg_files",
    extract=extract,
    reads=("py_bc_instructions", "py_bc_exception_table", "codeintel_run_meta"),
    gates=(
        Gate("cfg_entry_exit", "py_bc_blocks", "exactly one entry block per code unit; at least one exit unless it only loops",
             G.cfg_entry_exit, (("py_bc_code_units", ("path", "code_unit_id")), _BLOCKS)),
        Gate("cfg_reachability", "py_bc_blocks", "every block reachable from entry or flagged dead",
             G.cfg_reachability, (_BLOCKS, _EDGES)),
        Gate("exception_edges", "py_bc_cfg_edges", "every exception target is a block start with an exc edge",
             G.exception_edges,
             (("py_bc_exception_table", ("path", "code_unit_id", "exc_entry_index", "target_offset")), _BLOCKS, _EDGES)),
        Gate("stack_depth", "py_bc_blocks", "dis.stack_effect depth: >= 0, <= co_stacksize, equal at joins",
             G.stack_depth,
             (("py_bc_code_units", ("path", "code_unit_id", "stacksize")),
              ("py_bc_instructions", ("code_unit_id", "instr_index", "opcode", "arg", "opname", "offset")), _BLOCKS, _EDGES)),
    ),
)
