"""Dataflow plane contracts (seed 000 C1-C4, §5.4, SYM-CPG-ALG-7): def/use events, stack and memory
DFG edges, reaching definitions, and the classifier they come from."""

from codeintel_assets.contracts.common import b, define, f32, i16, i32, s, str_list

PY_BC_OP_CLASSIFIER = define("py_bc_op_classifier", "dataflow", [
    ("baseopname", s), ("opcode", i16), ("events", str_list), ("spaces", s), ("name_source", s),
    ("pops", s), ("pushes", s), ("passthrough", s), ("peek", s),
    ("is_branch", b), ("is_call", b), ("is_terminator", b), ("listed", b), ("confidence", f32), ("note", s),
    ("python_version", s),
], key=("baseopname",), partitioned=False,
   description="The def/use classifier keyed by baseopname: one row per CPython 3.13 opcode (events, slot space, "
               "stack shape as expressions of oparg, branch / call / terminator). Not partitioned.")

PY_BC_DEFUSE_EVENTS = define("py_bc_defuse_events", "dataflow", [
    ("file_id", s), ("code_unit_id", s), ("instr_id", s), ("instr_index", i32), ("event_index", i16),
    ("baseopname", s), ("event_kind", s), ("space", s), ("name", s), ("detail", s),
    ("binding_id", s), ("binding_resolution", s), ("confidence", f32), ("rule", s),
    ("reach_status", s), ("reaching_def_count", i32),
], key=("path", "code_unit_id", "instr_index", "event_index"),
   description="USE / DEF / KILL of binding slots (FAST, DEREF, NAME, GLOBAL) with their binding, attribute and "
               "subscript reads and writes, calls, branches; one row per event, in execution order within an "
               "instruction. Slot uses carry their reaching-definition status.")

PY_DFG_EDGES = define("py_dfg_edges", "dataflow", [
    ("file_id", s), ("code_unit_id", s), ("edge_id", s), ("kind", s),
    ("src_code_unit_id", s), ("src_instr_id", s), ("src_instr_index", i32), ("src_output", i16), ("src_kind", s),
    ("dst_instr_id", s), ("dst_instr_index", i32), ("dst_input", i16),
    ("name", s), ("rule", s), ("confidence", f32),
], key=("path", "edge_id"),
   derived={"edge_id": "code_unit_id || ':DF:' || kind || ':' || coalesce(src_instr_id, name, '') || ':' || "
                       "coalesce(CAST(src_output AS VARCHAR), '-') || ':' || src_kind || '>' || dst_instr_id || ':' || "
                       "coalesce(CAST(dst_input AS VARCHAR), '-')"},
   description="Data-flow edges. kind=stack: the value pushed by a producer (an instruction, or a handler's "
               "exception / lasti) reaches the instruction that pops it, one edge per producer at a join. "
               "kind=memory: attribute / subscript / global writes to later reads, with a rule and confidence.")

PY_REACHING_DEFS = define("py_reaching_defs", "dataflow", [
    ("file_id", s), ("code_unit_id", s), ("use_instr_id", s), ("use_instr_index", i32), ("use_event_index", i16),
    ("def_instr_id", s), ("def_instr_index", i32), ("def_event_index", i16), ("def_kind", s),
    ("name", s), ("space", s), ("binding_id", s),
], key=("path", "code_unit_id", "use_instr_index", "use_event_index", "def_kind", "def_instr_index", "def_event_index"),
   description="Reaching definitions over normal and exception CFG edges: one row per (definition, use) pair "
               "that can happen in some execution. def_instr_id is null for entry definitions (param, cell_init, "
               "free_init) and for external ones (a cell or global another code unit can write).")

PY_DFG_CODE_UNIT_FAILURES = define("py_dfg_code_unit_failures", "dataflow", [
    ("file_id", s), ("code_unit_id", s), ("instr_id", s), ("instr_index", i32), ("error_type", s), ("error_msg", s),
], key=("path", "code_unit_id"),
   description="Code units whose dataflow could not be computed (an unmodelled stack shape, a bug), naming the "
               "instruction; the file's other code units keep their facts.")

PY_DFG_FILES = define("py_dfg_files", "dataflow", [
    ("file_id", s), ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s),
    ("code_unit_count", i32), ("failed_code_units", i32), ("event_count", i32), ("stack_edge_count", i32),
    ("memory_edge_count", i32), ("reaching_def_count", i32), ("slot_use_count", i32),
    ("unmodelled_ops", i32), ("fallback_ops", str_list),
], key=("path",), description="Per file: did the dataflow pass succeed (the dataflow plane's status table); "
                              "unmodelled_ops counts instructions simulated by dis.stack_effect alone, "
                              "fallback_ops lists 'OPNAME=count' for ops the classifier does not list.")
