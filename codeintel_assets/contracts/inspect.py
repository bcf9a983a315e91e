"""Inspect plane contracts (seed 000, `inspect -> facts` §1-§3, INS-ALG-0..4, INS-ALG-7).

Every per-file table carries ``path`` (the file whose module was imported), the ``file_id`` of the
bytes indexed when it was imported, ``mode`` (``static``: the canonical run) and the seed's status
triple ``ok / error_type / error_msg`` (a failed operation is a row, not a gap).
"""

import pyarrow as pa

from codeintel_assets.contracts.common import b, define, f32, i16, i32, i64, s, str_list

PLANE = "inspect"

VALUE_REF = pa.struct([
    ("kind", s), ("type_qualname", s), ("repr_trunc", s), ("repr_len", i32), ("repr_sha256", s),
    ("is_callable", b), ("is_descriptor", b), ("is_builtin", b),
])

_HEAD = [("file_id", s), ("mode", s)]
_STATUS = [("ok", b), ("error_type", s), ("error_msg", s)]
_DESC = [("desc_kind", s), ("desc_is_data", b), ("desc_is_methoddesc", b), ("desc_is_getset", b),
         ("desc_is_member", b)]


def _t(name, cols, key, description):
    return define(name, PLANE, _HEAD + cols + _STATUS, key, description)


PY_INSPECT_IMPORT_ATTEMPTS = define("py_inspect_import_attempts", PLANE, [
    ("file_id", s), ("module_name", s), ("attempted", b), ("skip_reason", s),
    ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s), ("budget_hit", s),
    ("duration_s", f32), ("stdout_bytes", i64), ("stderr_bytes", i64), ("stderr_sha256", s), ("stderr_tail", s),
    ("worker_pid", i32), ("worker_replaced", b), ("caps_hit", str_list),
    ("object_count", i32), ("objects_with_source", i32), ("objects_anchored", i32),
    ("policy_sha256", s), ("dagster_run_id", s), ("inspector_version", s),
], key=("path",), description="One row per file: was its module imported in the sandbox (or why not: allow/deny "
                              "list, not importable), how long it took, what it printed, the budget it hit. The "
                              "inspect plane's status table. inspector_version: the fingerprint of the inspect "
                              "code that made the file's rows (another one, or NULL: the file is inspected again).")

PY_INSPECT_OBJECTS = _t("py_inspect_objects", [
    ("object_id", s), ("object_addr", pa.uint64()), ("kind", s), ("module_name", s), ("qualname", s), ("name", s),
    ("type_qualname", s), ("is_builtin", b), ("is_callable", b), ("is_descriptor", b), ("has_wrapped", b),
    ("has_signature_override", b), ("has_annotations", b),
], ("path", "object_id"), "Objects the module defines (module, classes, functions, descriptors, callables bound "
                          "here); object_id = {module}:{qualname}:{kind} (#n on a collision).")

PY_INSPECT_MEMBERS_STATIC = _t("py_inspect_members_static", [
    ("owner_object_id", s), ("owner_kind", s), ("attr_name", s), ("value_kind", s), ("value_object_id", s),
    ("value_ref", VALUE_REF), *_DESC,
], ("path", "owner_object_id", "attr_name"), "Members of modules (their __dict__) and classes "
                                              "(inspect.getmembers_static, inherited included): descriptors "
                                              "classified, never resolved.")

PY_INSPECT_UNWRAP_HOPS = _t("py_inspect_unwrap_hops", [
    ("root_object_id", s), ("chain", s), ("hop", i16), ("object_id", s), ("has_wrapped", b),
    ("has_signature_override", b), ("stop_reason", s),
], ("path", "root_object_id", "chain", "hop"), "__wrapped__ chains of callables: chain 'full' (to the end, cycles "
                                                 "recorded) and 'signature' (stops at __signature__, as "
                                                 "inspect.signature does); stop_reason on the last hop.")

PY_INSPECT_SIGNATURES = _t("py_inspect_signatures", [
    ("object_id", s), ("variant", s), ("follow_wrapped", b), ("eval_str", b), ("effective_object_id", s),
    ("signature_id", s), ("sig_text", s), ("sig_format", s), ("return_annotation", VALUE_REF),
    ("has_varargs", b), ("has_varkw", b),
], ("path", "object_id", "variant"), "inspect.signature(obj, follow_wrapped=False|True, eval_str=False): 'raw' "
                                      "and 'wrapped' variants; a failure (builtins without metadata) is a row "
                                      "with ok=false.")

PY_INSPECT_SIGNATURE_PARAMS = _t("py_inspect_signature_params", [
    ("signature_id", s), ("object_id", s), ("variant", s), ("param_index", i16), ("name", s), ("kind", s),
    ("default_present", b), ("default_value", VALUE_REF), ("annotation_present", b), ("annotation_value", VALUE_REF),
], ("path", "signature_id", "param_index"), "One row per parameter of each signature.")

PY_INSPECT_ANNOTATIONS_KV = _t("py_inspect_annotations_kv", [
    ("object_id", s), ("eval_str", b), ("key", s), ("value", VALUE_REF),
], ("path", "object_id", "key"), "inspect.get_annotations(obj, eval_str=False) of modules, classes and functions "
                                 "(strings stay strings).")

PY_INSPECT_SOURCE = _t("py_inspect_source", [
    ("object_id", s), ("file_name", s), ("start_line", i32), ("line_count", i32), ("source_sha256", s),
    ("source_preview", s), ("code_firstlineno", i32), ("code_qualname", s),
], ("path", "object_id"), "inspect.getsourcefile / getsourcelines per module, class and function (TypeError for "
                          "builtins, OSError without a file: rows with ok=false).")

PY_INSPECT_CLASS_MRO = _t("py_inspect_class_mro", [
    ("class_object_id", s), ("mro_index", i16), ("base_object_id", s), ("base_type_qualname", s),
], ("path", "class_object_id", "mro_index"), "inspect.getmro per class (INHERITS, in order).")

PY_INSPECT_CLASS_DECLARED_MEMBERS = _t("py_inspect_class_declared_members", [
    ("class_object_id", s), ("attr_name", s), ("value_kind", s), ("value_ref", VALUE_REF), *_DESC,
], ("path", "class_object_id", "attr_name"), "The class's own __dict__ (declared here), descriptors classified.")

PY_INSPECT_ATTR_RESOLUTION = _t("py_inspect_attr_resolution", [
    ("class_object_id", s), ("attr_name", s), ("defining_class_object_id", s), ("declared_here", b),
    ("overridden_class_ids", str_list), ("value_kind", s),
], ("path", "class_object_id", "attr_name"), "Per class and attribute name in the MRO: the first class declaring "
                                               "it, and the later ones it overrides.")

PY_INSPECT_RUNTIME_STATE = _t("py_inspect_runtime_state", [
    ("probe", s), ("object_id", s), ("step", i16), ("what", s), ("state", s), ("code_filename", s),
    ("code_qualname", s), ("code_firstlineno", i32), ("f_lasti", i32), ("lineno", i32), ("locals_json", s),
    ("code_unit_id", s), ("instr_id", s),
], ("path", "probe", "step"), "Allowlisted probes (zero-argument generator / coroutine / async-generator "
                              "factories, callables): state (GEN_CREATED ...), locals and frame / traceback "
                              "positions, joined to py_bc_instructions by code unit and f_lasti.")

PY_INSPECT_OBJECT_ANCHORS = _t("py_inspect_object_anchors", [
    ("object_id", s), ("anchor_path", s), ("ast_node_id", s), ("code_unit_id", s), ("scope_id", s),
    ("span_start_byte", i64), ("span_end_byte", i64), ("confidence", f32), ("reason", s),
], ("path", "object_id"), "INS-ALG-4: each object with a code location, anchored to its def/class AST node and "
                          "code unit by file + first line + qualname (through __wrapped__, property getters, "
                          "static/class method functions); ok=false with the reason when it cannot be.")

PY_INSPECT_DECORATORS = _t("py_inspect_decorators", [
    ("object_id", s), ("def_ast_node_id", s), ("decorator_index", i16), ("applied_order", i16),
    ("decorator_ast_node_id", s), ("decorator_kind", s), ("decorator_text", s), ("wraps_hops", i16),
], ("path", "object_id", "decorator_index"), "DECORATES, from the AST: each decorator expression at the def/class "
                                             "an object is anchored to (index in source order; applied_order 0 = "
                                             "applied first, the one nearest the def), next to WRAPS, from the "
                                             "runtime: wraps_hops = the __wrapped__ hops of the object (0: the "
                                             "decorators kept no __wrapped__).")

PY_INSPECT_RUN_META = define("py_inspect_run_meta", PLANE, [
    ("dagster_run_id", s), ("started_at", s), ("python_executable", s), ("python_version", s),
    ("sys_path", str_list), ("path_policy", s), ("allow", str_list), ("deny", str_list), ("probes", str_list),
    ("budgets_json", s), ("workers", i16), ("modules_attempted", i32), ("modules_ok", i32),
    ("modules_skipped", i32), ("seconds", f32), ("rerun_reasons_json", s),
], key=("dagster_run_id",), partitioned=False,
    description="One row per inspect run: interpreter, sys.path policy, allow/deny lists, every budget, and the "
                "figures of the run.")

FILE_TABLES = (PY_INSPECT_IMPORT_ATTEMPTS, PY_INSPECT_OBJECTS, PY_INSPECT_MEMBERS_STATIC, PY_INSPECT_UNWRAP_HOPS,
               PY_INSPECT_SIGNATURES, PY_INSPECT_SIGNATURE_PARAMS, PY_INSPECT_ANNOTATIONS_KV, PY_INSPECT_SOURCE,
               PY_INSPECT_CLASS_MRO, PY_INSPECT_CLASS_DECLARED_MEMBERS, PY_INSPECT_ATTR_RESOLUTION,
               PY_INSPECT_RUNTIME_STATE, PY_INSPECT_OBJECT_ANCHORS, PY_INSPECT_DECORATORS)
STATUS = PY_INSPECT_IMPORT_ATTEMPTS.name
# Worker table name -> contract (the worker names tables without the prefix).
WORKER_TABLES = {tc.name.removeprefix("py_inspect_"): tc for tc in FILE_TABLES
                 if tc.name not in (STATUS, "py_inspect_object_anchors", "py_inspect_decorators")}
