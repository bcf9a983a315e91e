"""CPG plane contracts, per file (the first part of the CPG: definitions and their symbols, imports, and
call sites with the callee described; the cross-file link step resolves them)."""

from codeintel_assets.contracts.common import b, define, f32, i16, i32, i64, s, str_list

PLANE = "cpg"

CPG_FILES = define("cpg_files", PLANE, [
    ("file_id", s), ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s),
    ("definitions", i32), ("imports", i32), ("call_sites", i32), ("call_sites_with_instr", i32),
], key=("path",), description="One row per file: did the CPG plane's per-file extraction succeed, with its counts. "
                              "The cpg plane's status table.")

CPG_DEFINITIONS = define("cpg_definitions", PLANE, [
    ("file_id", s), ("def_id", s), ("kind", s), ("name", s), ("qualname", s), ("symbol", s), ("parent_def_id", s),
    ("ast_node_id", s), ("span_start_byte", i64), ("span_end_byte", i64), ("lineno", i32), ("code_unit_id", s),
    ("binding_id", s),
], key=("path", "def_id"), description="Every definition: module, class, function, method, lambda (<lambdaN> in "
                                       "source order within its scope), parameter, module-level variable; "
                                       "qualname from the module's import name, SCIP-style symbol, its code unit "
                                       "and the binding its name is bound to.")

CPG_IMPORTS = define("cpg_imports", PLANE, [
    ("file_id", s), ("import_id", s), ("scope_def_id", s), ("scope_qualname", s), ("local_name", s),
    ("imported_module", s), ("imported_name", s), ("level", i16), ("is_star", b), ("written_module", s),
    ("lineno", i32), ("binding_id", s), ("asname", s),
], key=("path", "import_id"), description="Every imported name: the local name it binds, the absolute module (relative "
                                          "imports resolved against the module's package), the name imported from it.")

CPG_CALL_SITES = define("cpg_call_sites", PLANE, [
    ("file_id", s), ("callsite_id", s), ("caller_def_id", s), ("caller_qualname", s), ("call_kind", s),
    ("ast_node_id", s), ("span_start_byte", i64), ("span_end_byte", i64), ("lineno", i32), ("callee_text", s),
    ("callee_kind", s), ("callee_root", s), ("callee_root_binding_id", s), ("callee_attrs", str_list),
    ("n_positional", i16), ("keyword_names", str_list), ("has_star_args", b), ("has_star_kwargs", b),
    ("instr_id", s), ("instr_opname", s), ("code_unit_id", s),
], key=("path", "callsite_id"), description="Every call (ast.Call) and decorator application, with its caller, the "
                                            "callee expression (root name, its binding, attribute path), the "
                                            "arguments' shape and the CALL instruction; resolved across files by "
                                            "the link step.")

CPG_CALLS = define("cpg_calls", PLANE, [
    ("callsite_id", s), ("path", s), ("caller_def_id", s), ("caller_qualname", s), ("call_kind", s),
    ("lineno", i32), ("callee_def_id", s), ("callee_qualname", s), ("callee_path", s), ("rule", s),
    ("confidence", f32),
], key=("callsite_id", "callee_qualname"), partitioned=False,
    description="CALLS, resolved across the repository by the link step (SQL over the per-file tables): one row per "
                "call site and callee it can reach, with the rule and a confidence; builtins as <builtin>.name, "
                "callees outside the repository by their imported dotted name (callee_def_id null).")
