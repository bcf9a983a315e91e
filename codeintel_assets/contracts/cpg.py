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
    ("binding_id", s), ("param_kind", s), ("param_index", i16), ("has_default", b), ("type_checking_only", b),
    ("other_python_only", b),
], key=("path", "def_id"), description="Every definition: module, class, function, method, lambda (<lambdaN> in "
                                       "source order within its scope), parameter, module-level variable; "
                                       "qualname from the module's import name, SCIP-style symbol, its code unit "
                                       "and the binding its name is bound to. Parameters carry their kind "
                                       "(posonly, pos_or_kw, vararg, kwonly, kwarg), positional index and whether "
                                       "they have a default. type_checking_only: in the body of an `if "
                                       "TYPE_CHECKING:` (a declaration for type checkers that never runs: the "
                                       "link resolves no call to it). other_python_only: in the branch of a "
                                       "Python version test (`if sys.version_info >= (3, 11):`) that the "
                                       "indexing interpreter does not take (the link resolves no call to it).")

CPG_IMPORTS = define("cpg_imports", PLANE, [
    ("file_id", s), ("import_id", s), ("scope_def_id", s), ("scope_qualname", s), ("local_name", s),
    ("imported_module", s), ("imported_name", s), ("level", i16), ("is_star", b), ("written_module", s),
    ("lineno", i32), ("binding_id", s), ("asname", s), ("other_python_only", b),
], key=("path", "import_id"), description="Every imported name: the local name it binds, the absolute module (relative "
                                          "imports resolved against the module's package), the name imported from it. "
                                          "other_python_only: in the branch of a Python version test that the "
                                          "indexing interpreter does not take (the link does not follow it).")

CPG_CALL_SITES = define("cpg_call_sites", PLANE, [
    ("file_id", s), ("callsite_id", s), ("caller_def_id", s), ("caller_qualname", s), ("call_kind", s),
    ("ast_node_id", s), ("span_start_byte", i64), ("span_end_byte", i64), ("lineno", i32), ("callee_text", s),
    ("callee_kind", s), ("callee_root", s), ("callee_root_binding_id", s), ("callee_attrs", str_list),
    ("n_positional", i16), ("keyword_names", str_list), ("has_star_args", b), ("has_star_kwargs", b),
    ("instr_id", s), ("instr_opname", s), ("code_unit_id", s), ("callee_value_node_id", s),
    ("callee_literal_type", s),
], key=("path", "callsite_id"), description="Every call (ast.Call) and decorator application, with its caller, the "
                                            "callee expression (root name, its binding, attribute path; the builtin "
                                            "type of a literal receiver, `str` of `', '.join(xs)`), the "
                                            "arguments' shape and the CALL instruction; resolved across files by "
                                            "the link step.")

CPG_CALL_ARGS = define("cpg_call_args", PLANE, [
    ("file_id", s), ("arg_id", s), ("callsite_id", s), ("arg_index", i16), ("kind", s), ("position", i16),
    ("keyword", s), ("ast_node_id", s), ("span_start_byte", i64), ("span_end_byte", i64), ("text", s),
    ("root_binding_id", s), ("root", s), ("attrs", str_list), ("value_def_id", s),
], key=("path", "arg_id"), description="Every actual argument of every call site, in source order: positional "
                                       "(with its position), keyword, *star and **starstar; a decorator's one "
                                       "argument is the definition it decorates (the innermost decorator) or what "
                                       "the decorator below it returns (text `inner(name)`, no value_def_id). A dotted-name argument carries its "
                                       "root name, binding and attribute path; a lambda its definition.")

CPG_VALUE_REFS = define("cpg_value_refs", PLANE, [
    ("file_id", s), ("value_id", s), ("role", s), ("owner_def_id", s), ("target_binding_id", s),
    ("target_node_id", s), ("item_index", i16), ("text", s), ("root", s), ("root_binding_id", s),
    ("attrs", str_list), ("value_def_id", s), ("ast_node_id", s), ("lineno", i32), ("type_checking_only", b),
], key=("path", "value_id"), description="Expressions the link step gives a meaning to: class bases (role base), "
                                         "`name = dotted.name` or `name = lambda` (alias; under `if TYPE_CHECKING:` whatever the value), "
                                         "`name = call(...)`, `name = A() if c else B()` or `name = await call(...)` (instance: the "
                                         "value node is the call site), `with call(...) as name` (with: the value node is the call site), `a, b = call(...)` (unpack: one row per name, the target the name, item_index its place, the value node the call site), `name = None` (none), `name = []`, `name = \"\"`, "
                                         "a literal or display of a builtin type (literal: text the type, `list`; also a `*args` / `**kwargs` parameter, "
                                         "text `tuple` / `dict`, its value and target node the parameter), a parameter's annotation when it is a "
                                         "dotted name, `C | None` or `Optional[C]` (annotation: the target is the "
                                         "parameter), a function's return annotation of that shape (returns: the owner is the "
                                         "function), `list[C]` / `Iterable[C]` / ... of those two (annotation_item, returns_item: the items' class), "
                                         "a return annotation `type[C]` / `Type[C]` / `type[\"C\"]` (returns_class: the class itself), "
                                         "each item of a return annotation `tuple[A, B]` that declares a class (returns_tuple: item_index its place), "
                                         "each name of `a, b = A(), []` as if assigned alone (instance / literal / none), "
                                         "a class body's `a: C` (attr_declared: the owner is the class, the target a) and a method's `self.a: C = v` "
                                         "(attr_declared: the owner is the class, the target node `self.a`, no target binding, text the name a), "
                                         "either declared a container of a class, `a: list[C]` (attr_declared_item, the same conventions; root / attrs the item class), "
                                         "each dotted name of `x = A + B` (concat: the target x, item_index its place), "
                                         "`getattr(x, \"P\" + ...)` with a literal start P (also an f-string, `%`, `.format`, or a local "
                                         "name bound once to such a string) assigned, called at once or returned (getattr: root / "
                                         "root_binding_id the receiver x, attrs [P] or [P, d] when the default is x.d, the value node the getattr call, the target the name "
                                         "assigned), "
                                         "`for x in call(...)` / `for x in name` (iter: the target is x; also x of `for i, x in enumerate(xs)` and each name of "
                                         "`for a, b in zip(xs, ys)` with its own iterable, the builtins), the items of a "
                                         "list / tuple / set / dict display assigned to a name (element), "
                                         "every `return value` (return: a dotted name or lambda has its root / definition, any other value none; a "
                                         "call's value node is the call site), and a module's literal `__all__` "
                                         "strings (export, also those a literal __all__.extend([...]) / .append(\"...\") at module level adds; "
                                         "export_dynamic when __all__ is not a literal or is changed in place otherwise); and every store or del "
                                         "of an attribute of a name, `x.a = ...` (attr_instance for a call, one row per call of "
                                         "`A() if c else B()`, the value node the call site; attr_none for None; attr_store for "
                                         "anything else, and beside it attr_literal, text the type, when the value is a literal or display "
                                         "of a builtin type, `x.a = []`), whose root / root_binding_id are the receiver x and attrs [a], and item_index "
                                         "1 when the store is a statement of its function's own body (it always runs).")

CPG_CALLS = define("cpg_calls", PLANE, [
    ("callsite_id", s), ("path", s), ("caller_def_id", s), ("caller_qualname", s), ("call_kind", s),
    ("lineno", i32), ("callee_def_id", s), ("callee_qualname", s), ("callee_path", s), ("rule", s),
    ("confidence", f32), ("via", str_list),
], key=("callsite_id", "callee_qualname", "callee_def_id"), partitioned=False,
    description="CALLS, resolved across the repository by the link step (SQL over the per-file tables): one row per "
                "call site and callee it can reach, with the rule and a confidence; builtins as <builtin>.name, "
                "callees outside the repository by their imported dotted name (callee_def_id null); via is the resolution "
                "path: the dotted names the callee was looked up as, through re-exports and the MRO, to the definition.")

CPG_INHERITS = define("cpg_inherits", PLANE, [
    ("class_def_id", s), ("path", s), ("class_qualname", s), ("base_index", i16), ("base_text", s),
    ("base_def_id", s), ("base_qualname", s), ("rule", s), ("confidence", f32),
], key=("class_def_id", "base_index"), partitioned=False,
    description="INHERITS, resolved by the link step: each class's bases in order, the base's definition when it is "
                "in the repository (base_def_id null and base_qualname the dotted name otherwise; rule "
                "unresolved when the base expression has no static meaning).")

CPG_MRO = define("cpg_mro", PLANE, [
    ("class_def_id", s), ("class_qualname", s), ("mro_index", i16), ("ancestor_def_id", s),
    ("ancestor_qualname", s), ("complete", b),
], key=("class_def_id", "mro_index"), partitioned=False,
    description="The static MRO of every class of the repository: CPython's C3 linearisation over cpg_inherits "
                "(ancestor_def_id null for a class outside the repository); complete is false on a row when a "
                "class before it in the MRO is outside the repository (other than object), so an attribute found "
                "there could be shadowed by one we cannot see.")

CPG_BINDS_ARG = define("cpg_binds_arg", PLANE, [
    ("callsite_id", s), ("path", s), ("callee_def_id", s), ("arg_id", s), ("arg_ast_node_id", s),
    ("param_def_id", s), ("param_name", s), ("param_binding_id", s), ("param_kind", s), ("position", i16),
    ("keyword", s), ("implicit_receiver", b), ("signature_source", s), ("rule", s), ("confidence", f32),
    ("signature_param_id", s),
], key=("callsite_id", "callee_def_id", "arg_ast_node_id", "param_name"), partitioned=False,
    description="BINDS_ARG (INS-ALG-6): each actual argument of a resolved call wired to the callee parameter it "
                "binds (positional, keyword, *args / **kwargs, the implicit receiver of a method call), from the "
                "inspect signature where the inspect plane ran (signature_param_id: its py_inspect_signature_params row; the "
                "parameter of the code that runs, a decorator's wrapper, when the decorator hid the signature) "
                "and the definition's own parameters otherwise.")

CPG_ARG_REACHES = define("cpg_arg_reaches", PLANE, [
    ("callsite_id", s), ("path", s), ("arg_id", s), ("def_instr_id", s), ("def_kind", s), ("use_instr_id", s),
    ("param_binding_id", s), ("callee_def_id", s), ("confidence", f32),
], key=("callsite_id", "arg_id", "use_instr_id", "def_instr_id", "def_kind", "param_binding_id"), partitioned=False,
    description="Interprocedural REACHES: the reaching definitions of each name argument (py_reaching_defs at its "
                "load) continued to the callee parameter's binding through BINDS_ARG.")
