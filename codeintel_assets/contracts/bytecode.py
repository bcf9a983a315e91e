"""Bytecode plane contracts (seed 000, `dis -> Arrow` §3.1-§3.3) plus per-file compiler metadata."""

import pyarrow as pa

from codeintel_assets.contracts.common import b, binary, define, i16, i32, i64, s, str_list

POS_TYPE = pa.struct([("lineno", i32), ("end_lineno", i32), ("col", i32), ("end_col", i32)])
CACHE_INFO_TYPE = pa.list_(pa.struct([("name", s), ("size", i16), ("data", binary)]))

PY_BC_CODE_UNITS = define("py_bc_code_units", "bytecode", [
    ("file_id", s), ("code_unit_id", s), ("parent_code_unit_id", s), ("qualpath", s), ("co_name", s),
    ("co_qualname", s), ("kind", s), ("depth", i32), ("co_firstlineno", i32),
    ("span_start_byte", i64), ("span_end_byte", i64), ("ast_node_id", s), ("key_quality", s), ("scope_id", s),
    ("flags", i32), ("argcount", i16), ("posonlyargcount", i16), ("kwonlyargcount", i16),
    ("nlocals", i32), ("stacksize", i32),
    ("varnames", str_list), ("names", str_list), ("freevars", str_list), ("cellvars", str_list),
    ("bytecode_len", i32), ("exceptiontable_len", i32), ("instruction_count", i32), ("exception_entry_count", i32),
    ("python_version", s), ("bytecode_magic", binary), ("module_name", s),
], key=("path", "code_unit_id"), description="One row per code object (module, class body, function, lambda, genexpr, type scopes).")

PY_BC_INSTRUCTIONS = define("py_bc_instructions", "bytecode", [
    ("file_id", s), ("code_unit_id", s), ("instr_id", s), ("instr_physical_id", s), ("instr_index", i32),
    ("start_offset", i32), ("offset", i32), ("cache_offset", i32), ("end_offset", i32),
    ("ext_arg_len", i16), ("op_len", i16), ("cache_len", i16),
    ("opcode", i16), ("opname", s), ("baseopcode", i16), ("baseopname", s),
    ("arg", i32), ("argrepr", s), ("argval_kind", s), ("argval_str", s), ("argval_int", i64), ("argval_repr", s),
    ("argval_code_unit_id", s), ("argval_names", str_list),
    ("is_jump_target", b), ("jump_target_offset", i32), ("jump_target_label", s), ("label", s),
    ("starts_line", b), ("line_number", i32), ("pos", POS_TYPE),
    ("span_start_byte", i64), ("span_end_byte", i64), ("ast_node_id", s), ("anchor_kind", s),
    ("cache_info", CACHE_INFO_TYPE), ("cache_bytes", binary), ("op_bytes", binary),
], key=("path", "code_unit_id", "instr_index"), description="One row per instruction of dis.get_instructions(code, adaptive=False).",
   derived={"instr_physical_id": "code_unit_id || ':OFF:' || start_offset"})

PY_BC_EXCEPTION_TABLE = define("py_bc_exception_table", "bytecode", [
    ("file_id", s), ("code_unit_id", s), ("exc_entry_index", i32),
    ("start_offset", i32), ("end_offset", i32), ("target_offset", i32), ("depth", i16), ("lasti", b),
    ("start_label", s), ("end_label", s), ("target_label", s),
], key=("path", "code_unit_id", "exc_entry_index"), description="One row per exception-table entry (half-open ranges).")

CODEINTEL_RUN_META = define("codeintel_run_meta", "bytecode", [
    ("file_id", s), ("python_version", s), ("implementation", s), ("cache_tag", s), ("bytecode_magic", binary),
    ("compile_mode", s), ("compile_optimize", i16), ("compile_dont_inherit", b),
    ("compile_ok", b), ("error_type", s), ("error_msg", s), ("error_lineno", i32),
    ("code_unit_count", i32), ("instruction_count", i64), ("dagster_run_id", s), ("ok", b), ("error_stage", s),
    ("extractor_version", s),
], key=("path",), description="Per file: the interpreter and compile flags its bytecode facts came from, and compile status. The bytecode plane's status table. extractor_version fingerprints the interpreter and the code that derived the file's rows in the one pass: a file whose row has another is indexed again.")
