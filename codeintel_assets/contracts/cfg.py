"""CFG plane contracts (seed 000 §3.4, algorithms A and B)."""

from codeintel_assets.contracts.common import b, define, i16, i32, i64, s

PY_BC_BLOCKS = define("py_bc_blocks", "cfg", [
    ("file_id", s), ("code_unit_id", s), ("block_id", s), ("block_index", i32),
    ("start_offset", i32), ("end_offset", i32), ("start_label", s),
    ("byte_start", i32), ("byte_end", i32), ("first_instr_index", i32), ("last_instr_index", i32),
    ("instr_count", i32), ("kind", s), ("is_entry", b), ("is_exit", b), ("is_handler", b),
    ("is_loop_header", b), ("is_dead", b), ("terminator", s),
    ("anchor_span_start_byte", i64), ("anchor_span_end_byte", i64),
], key=("path", "code_unit_id", "start_offset"), description="Basic blocks per code unit (algorithm A).")

PY_BC_CFG_EDGES = define("py_bc_cfg_edges", "cfg", [
    ("file_id", s), ("code_unit_id", s), ("edge_id", s), ("src_block_id", s), ("dst_block_id", s),
    ("kind", s), ("cond_instr_id", s), ("polarity_rule", s),
    ("exc_entry_index", i32), ("depth", i16), ("lasti", b), ("is_innermost", b),
], key=("path", "code_unit_id", "edge_id"), description="CFG edges: next, jump, true/false (with polarity rule) and exc (algorithm B).")

PY_BC_CFG_FILES = define("py_bc_cfg_files", "cfg", [
    ("file_id", s), ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s),
    ("code_unit_count", i32), ("block_count", i32), ("edge_count", i32),
], key=("path",), description="Per file: did the CFG pass succeed (the cfg plane's status table).")
