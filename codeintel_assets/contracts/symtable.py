"""Symtable plane contracts (seed 000 `symtable -> facts` §2, SYM-ALG-1..5, SYM-CPG-ALG-0..10)."""

from codeintel_assets.contracts.common import b, define, f32, i16, i32, i64, s, str_list

PY_SYM_FILES = define("py_sym_files", "symtable", [
    ("file_id", s), ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s), ("error_lineno", i32),
    ("compile_type", s), ("scope_count", i32), ("symbol_count", i32), ("name_site_count", i32),
    ("code_units_available", b), ("future_annotations", b),
], key=("path",), description="One row per file: did the symtable pass (and the AST anchoring) succeed.")

PY_SYM_SCOPES = define("py_sym_scopes", "symtable", [
    ("file_id", s), ("compile_type", s), ("scope_id", s), ("scope_local_id", i64), ("parent_scope_id", s),
    ("scope_type", s), ("scope_role", s), ("scope_name", s), ("qualpath", s), ("lineno", i32), ("ordinal", i32),
    ("depth", i32), ("is_nested", b), ("is_optimized", b), ("has_children", b),
    ("anchor_ast_node_id", s), ("span_start_byte", i64), ("span_end_byte", i64),
    ("anchor_confidence", f32), ("anchor_reason", s),
    ("has_code_object", b), ("code_unit_id", s), ("crosswalk_kind", s), ("crosswalk_reason", s), ("module_name", s),
], key=("path", "scope_id"), description="One row per symbol table (scope), anchored to the AST, with its code unit.")

PY_SYM_SYMBOLS = define("py_sym_symbols", "symtable", [
    ("file_id", s), ("scope_id", s), ("symbol_row_id", s), ("name", s), ("flags", i32), ("scope_code", s),
    ("is_referenced", b), ("is_assigned", b), ("is_imported", b), ("is_annotated", b), ("is_parameter", b),
    ("is_local", b), ("is_global", b), ("is_declared_global", b), ("is_nonlocal", b), ("is_free", b),
    ("is_namespace", b), ("namespace_count", i16), ("is_type_param", b), ("is_comp_iter", b),
], key=("path", "scope_id", "name"), description="One row per Symbol of each scope: every boolean of symtable.Symbol.")

PY_SYM_SCOPE_EDGES = define("py_sym_scope_edges", "symtable", [
    ("file_id", s), ("parent_scope_id", s), ("child_scope_id", s), ("edge_kind", s), ("child_index", i32),
], key=("path", "parent_scope_id", "child_index"), description="PARENT_SCOPE edges: SymbolTable.get_children().")

PY_SYM_NAMESPACE_EDGES = define("py_sym_namespace_edges", "symtable", [
    ("file_id", s), ("scope_id", s), ("symbol_row_id", s), ("name", s), ("child_scope_id", s),
    ("child_scope_type", s), ("edge_kind", s), ("namespace_count", i16), ("is_ambiguous", b),
], key=("path", "symbol_row_id", "child_scope_id"), description="BINDS_NAMESPACE: Symbol.get_namespaces().")

PY_SYM_FUNCTION_PARTITIONS = define("py_sym_function_partitions", "symtable", [
    ("file_id", s), ("scope_id", s), ("parameters", str_list), ("locals", str_list), ("globals", str_list),
    ("nonlocals", str_list), ("frees", str_list),
], key=("path", "scope_id"), description="FUNCTION scopes: get_parameters/locals/globals/nonlocals/frees() "
                                         "(frees sorted, as co_freevars: symtable's order follows the hash seed).")

PY_SYM_BINDINGS = define("py_sym_bindings", "symtable", [
    ("file_id", s), ("binding_id", s), ("scope_id", s), ("name", s), ("symbol_row_id", s), ("binding_kind", s),
    ("scoping_class", s), ("declared_here", b), ("referenced_here", b), ("assigned_here", b), ("annotated_here", b),
    ("is_implicit", b), ("is_synthesized", b), ("synthesized_reason", s),
], key=("path", "binding_id"), description="Binding slots (SYM-ALG-3), plus synthesized target slots (module, implicit class cells).")

PY_SYM_RESOLUTION_EDGES = define("py_sym_resolution_edges", "symtable", [
    ("file_id", s), ("edge_id", s), ("src_binding_id", s), ("dst_binding_id", s), ("kind", s),
    ("confidence", f32), ("reason", s),
], key=("path", "edge_id"), description="RESOLVES_TO: GLOBAL / NONLOCAL / FREE / CLASSDICT / UNKNOWN (SYM-ALG-4).")

PY_SYM_NAME_SITES = define("py_sym_name_sites", "symtable", [
    ("file_id", s), ("site_id", s), ("ast_node_id", s), ("ast_kind", s), ("name", s), ("symbol_name", s),
    ("role", s), ("site_kind", s), ("span_start_byte", i64), ("span_end_byte", i64), ("span_is_name", b),
    ("scope_id", s), ("inlined_comprehension_ast_node_id", s), ("in_annotation", b), ("is_evaluated", b),
    ("is_implicit", b), ("scope_binding_id", s), ("binding_id", s), ("resolution", s), ("resolve_confidence", f32),
], key=("path", "site_id"), description="Every name occurrence in the AST with its scope and resolved binding (SYM-CPG-ALG-5).")

PY_SYM_CODE_CROSSWALK = define("py_sym_code_crosswalk", "symtable", [
    ("file_id", s), ("crosswalk_id", s), ("scope_id", s), ("code_unit_id", s), ("ast_node_id", s),
    ("match_kind", s), ("reason", s), ("confidence", f32),
], key=("path", "crosswalk_id"), description="Code units <-> scopes, with scopes lacking code and code lacking scopes made explicit.")
