"""The code property graph as two relations, ``cpg_nodes`` and ``cpg_edges``, over the plane tables.

Dagster-free (the ``cpg_graph`` asset, ``codeintel check``, ``codeintel export`` and the tests call it).

Every node and edge kind is one entry of ``PROJECTIONS``: the tables it reads, what it means, where
its facts come from, and the SQL ``SELECT`` that turns rows of those tables into graph rows with the
standard columns. The list *is* the vocabulary: ``create_graph`` writes it to ``cpg_vocabulary`` and
makes ``cpg_nodes`` / ``cpg_edges`` DuckDB views, each the ``UNION ALL`` of the projections whose
tables exist (the inspect plane's only after ``codeintel index --inspect``, the link step's after the
first link). A view, not a copy: a node is a row of a plane table seen through its projection, so the
graph is current after every incremental run without rewriting millions of rows (docs/graph.md has
the measurements).

Node ids are the contract ids (``path`` for a file, ``def_id`` = the definition's AST node id,
``callsite_id``, ``path:AST:n``, ``scope_id``, ``binding_id``, ``code_unit_id``, ``instr_id``,
``block_id``, inspect ``object_id`` / ``signature_id``); an AST node that is a definition or a call
site is that DEFINITION / MODULE / CALLSITE node, not a second AST node with the same id. Edge ids
are ``KIND:`` + the source table's own row id, or ``KIND:src->dst`` where a table has none.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

NODES_VIEW, EDGES_VIEW, VOCABULARY = "cpg_nodes", "cpg_edges", "cpg_vocabulary"

NODE_COLUMNS = (("node_id", "VARCHAR"), ("kind", "VARCHAR"), ("subkind", "VARCHAR"), ("path", "VARCHAR"),
                ("span_start_byte", "BIGINT"), ("span_end_byte", "BIGINT"), ("label", "VARCHAR"), ("props", "JSON"))
EDGE_COLUMNS = (("edge_id", "VARCHAR"), ("kind", "VARCHAR"), ("src_node_id", "VARCHAR"), ("dst_node_id", "VARCHAR"),
                ("path", "VARCHAR"), ("confidence", "FLOAT"), ("provenance", "VARCHAR"), ("props", "JSON"))

# The node kinds an AST node id can be: a definition or a call site is its own kind, any other AST node is AST.
SYNTAX = ("AST", "MODULE", "DEFINITION", "CALLSITE")
DEFS = ("MODULE", "DEFINITION")


@dataclass(frozen=True)
class Projection:
    """One way rows of plane tables become nodes or edges (and the vocabulary entry of its kinds).

    ``columns`` maps each standard column to its SQL expression over ``source`` (a FROM clause);
    ``kinds`` maps every kind the ``kind`` expression can yield to its meaning. ``expect`` counts the
    source rows that must project (every row of ``tables[0]`` when None): the ``cpg_integrity`` gate
    compares it with what the views hold. Edges declare the node kinds their endpoints must have.
    """

    element: str
    kinds: dict[str, str]
    tables: tuple[str, ...]
    provenance: str
    columns: dict[str, str]
    source: str | Callable[[set[str]], str]
    where: str | None = None
    distinct: bool = False
    expect: str | Callable[[set[str]], str] | None = None
    src_kinds: tuple[str, ...] = ()
    dst_kinds: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # read when present (``source`` / ``expect`` are functions of what exists)

    @property
    def id_column(self) -> str:
        return self.columns["node_id" if self.element == "node" else "edge_id"]

    @property
    def one_per_id(self) -> bool:
        """The inspect plane records an object under every module that binds it (a module's rows include
        what it imports), with the same ids: the graph keeps one row per id (the first path)."""
        return any(t.startswith("py_inspect_") for t in self.tables)

    def select(self, have: set[str]) -> str:
        spec = NODE_COLUMNS if self.element == "node" else EDGE_COLUMNS
        cols = ", ".join(f"CAST({self.columns.get(n, 'NULL')} AS {t}) AS {n}" for n, t in spec)
        src = self.source(have) if callable(self.source) else self.source
        return (f"SELECT {'DISTINCT ' if self.distinct else ''}{cols} FROM {src}"
                + (f" WHERE {self.where}" if self.where else "")
                + (f" QUALIFY row_number() OVER (PARTITION BY {self.id_column} ORDER BY "
                   f"{self.columns.get('path', 'NULL')}) = 1" if self.one_per_id else ""))

    def expect_sql(self, have: set[str]) -> str:
        if self.one_per_id:
            src = self.source(have) if callable(self.source) else self.source
            return (f"SELECT count(DISTINCT {self.id_column}) FROM {src}"
                    + (f" WHERE {self.where}" if self.where else ""))
        if self.expect is None:
            return f"SELECT count(*) FROM {self.tables[0]}"
        return self.expect(have) if callable(self.expect) else self.expect


def _json(*pairs: str) -> str:
    """json_object('k1', k1, ...) from column names (``name=expr`` for a computed value)."""
    parts = []
    for p in pairs:
        k, _, v = p.partition("=")
        parts.append(f"'{k}', {v or f'"{k}"'}")
    return f"json_object({', '.join(parts)})"


def _node(kind: str, node_id: str, label: str, subkind: str = "NULL", path: str = "path",
          span: tuple[str, str] = ("span_start_byte", "span_end_byte"), props: str = "NULL") -> dict[str, str]:
    return {"node_id": node_id, "kind": kind, "subkind": subkind, "path": path, "span_start_byte": span[0],
            "span_end_byte": span[1], "label": label, "props": props}


def _edge(kind: str, edge_id: str, src: str, dst: str, provenance: str, confidence: str = "1.0",
          path: str = "path", props: str = "NULL") -> dict[str, str]:
    return {"edge_id": edge_id, "kind": kind, "src_node_id": src, "dst_node_id": dst, "path": path,
            "confidence": confidence, "provenance": provenance, "props": props}


_SLOT_EDGE_KIND = ("CASE event_kind WHEN 'DEF_SLOT' THEN 'DEFINES_BINDING' WHEN 'USE_SLOT' THEN 'USES_BINDING' "
                   "WHEN 'CLOSURE' THEN 'USES_BINDING' WHEN 'KILL_SLOT' THEN 'KILLS_BINDING' ELSE event_kind END")

# EXTERNAL nodes: what calls, imports and base classes name outside the repository (one node per dotted
# name, whichever tables name it), so that every CALLS / IMPORTS / INHERITS edge has an existing target.
_MODULES = "(SELECT qualname, min(def_id) AS def_id FROM cpg_definitions WHERE kind = 'module' GROUP BY qualname)"


def _import_target(i: str = "i") -> str:
    """The module an import means: ``from p import m`` is module p.m when the repository has it, else p."""
    return (f"LEFT JOIN {_MODULES} sub ON sub.qualname = {i}.imported_module || '.' || {i}.imported_name "
            f"AND {i}.imported_name <> '*' LEFT JOIN {_MODULES} mo ON mo.qualname = {i}.imported_module")


# A base class with a static meaning (an unresolved base expression gets no INHERITS edge: precision first).
_RESOLVED_BASE = "base_qualname IS NOT NULL AND rule <> 'unresolved'"


def _external_names(have: set[str]) -> str:
    parts = ["SELECT callee_qualname AS name FROM cpg_calls WHERE callee_def_id IS NULL AND callee_qualname IS NOT NULL",
             f"SELECT i.imported_module FROM cpg_imports i {_import_target()} "
             "WHERE i.imported_module IS NOT NULL AND sub.def_id IS NULL AND mo.def_id IS NULL"]
    if "cpg_inherits" in have:
        parts.append(f"SELECT base_qualname FROM cpg_inherits WHERE base_def_id IS NULL AND {_RESOLVED_BASE}")
    return "(" + " UNION ".join(parts) + ") x"


# Slots the dataflow plane's fallback resolution names (fallback_global / fallback_module) without a
# py_sym_bindings row: the compiler's implicit class-body and module names. They are nodes of their own
# so that every DEFINES_BINDING / USES_BINDING edge has its target.
# A binding id starts with its file's path, so grouping by the path too changes no group and lets a filter
# on the path reach the scans (the index run's check looks up a few files' nodes).
_IMPLICIT_SLOTS = ("(SELECT e.binding_id, e.path, min(e.name) AS name, "
                   "min(e.binding_resolution) AS resolution FROM py_bc_defuse_events e "
                   "ANTI JOIN py_sym_bindings b ON b.binding_id = e.binding_id AND b.path = e.path "
                   "WHERE e.binding_id IS NOT NULL "
                   "AND e.binding_resolution IN ('fallback_global', 'fallback_module') GROUP BY e.binding_id, e.path) x")


def _object_ids() -> str:
    return "(SELECT object_id FROM py_inspect_objects WHERE object_id IS NOT NULL)"


PROJECTIONS: list[Projection] = [
    # ---- nodes -------------------------------------------------------------------------------------
    Projection("node", {"FILE": "a source file (id: its repository path)"}, ("py_files",), "source",
               _node("'FILE'", "path", "path", span=("0", "size_bytes"),
                     props=_json("file_id", "module_name", "sha256", "ok", "encoding")), "py_files"),
    Projection("node", {"MODULE": "a module: the file's ast.Module node (id: def_id = path:AST:0)",
                        "DEFINITION": "a class, function, method, lambda, parameter or module-level variable "
                                      "(id: def_id = its AST node id; subkind: the definition kind)"},
               ("cpg_definitions",), "cpg",
               _node("CASE WHEN kind = 'module' THEN 'MODULE' ELSE 'DEFINITION' END", "def_id", "qualname", "kind",
                     props=_json("name", "symbol", "lineno", "code_unit_id", "binding_id", "param_kind",
                                 "param_index", "type_checking_only", "other_python_only")), "cpg_definitions"),
    Projection("node", {"SYMBOL": "a SCIP-style symbol string of the definitions (one node per distinct symbol)"},
               ("cpg_definitions",), "cpg", _node("'SYMBOL'", "symbol", "symbol", path="NULL", span=("NULL", "NULL")),
               "cpg_definitions", where="symbol IS NOT NULL", distinct=True,
               expect="SELECT count(DISTINCT symbol) FROM cpg_definitions"),
    Projection("node", {"EXTERNAL": "a callee, imported module or base class outside the repository, by its dotted "
                                    "name (<builtin>.len, os.path.join); subkind builtin | external"},
               ("cpg_calls", "cpg_imports", "cpg_definitions"), "link",
               _node("'EXTERNAL'", "name", "name",
                     "CASE WHEN starts_with(name, '<builtin>.') THEN 'builtin' ELSE 'external' END",
                     path="NULL", span=("NULL", "NULL")),
               _external_names, optional=("cpg_inherits",),
               expect=lambda have: f"SELECT count(*) FROM {_external_names(have)}"),
    Projection("node", {"CALLSITE": "a call (ast.Call: id = its AST node id) or a decorator application "
                                    "(id: <def node>:DECORATOR:<index>); subkind: call_kind"},
               ("cpg_call_sites",), "cpg",
               _node("'CALLSITE'", "callsite_id", "callee_text", "call_kind",
                     props=_json("caller_qualname", "lineno", "callee_kind", "n_positional", "keyword_names",
                                 "has_star_args", "has_star_kwargs", "instr_id")), "cpg_call_sites"),
    Projection("node", {"AST": "any other AST node (id: path:AST:<preorder ordinal>; subkind: the ast class)"},
               ("py_ast_nodes", "cpg_definitions", "cpg_call_sites"), "source",
               _node("'AST'", "a.ast_node_id", "coalesce(a.name, a.kind)", "a.kind", "a.path",
                     ("a.span_start_byte", "a.span_end_byte"),
                     _json("ctx=a.ctx", "parent_field=a.parent_field", "lineno=a.lineno", "col_offset=a.col_offset")),
               "py_ast_nodes a ANTI JOIN (SELECT def_id AS id FROM cpg_definitions UNION ALL "
               "SELECT callsite_id FROM cpg_call_sites) c ON c.id = a.ast_node_id",
               # every AST node is a node of one of the syntax kinds (the gate checks it by id, see SYNTAX)
               expect="SELECT count(*) FROM py_ast_nodes a ANTI JOIN (SELECT def_id AS id FROM cpg_definitions "
                      "UNION ALL SELECT callsite_id FROM cpg_call_sites) c ON c.id = a.ast_node_id"),
    Projection("node", {"SCOPE": "a symbol table (scope); subkind: scope_type"}, ("py_sym_scopes",), "symtable",
               _node("'SCOPE'", "scope_id", "qualpath", "scope_type",
                     props=_json("scope_name", "lineno", "is_nested", "is_optimized", "code_unit_id")), "py_sym_scopes"),
    Projection("node", {"BINDING": "a binding slot (scope, name); subkind: binding_kind"}, ("py_sym_bindings",),
               "symtable", _node("'BINDING'", "binding_id", "name", "binding_kind", span=("NULL", "NULL"),
                                 props=_json("scope_id", "scoping_class", "declared_here", "is_implicit",
                                             "is_synthesized")), "py_sym_bindings"),
    Projection("node", {"BINDING": "a slot the dataflow plane resolves an implicit name to that symtable does not "
                                   "list (a class body's __module__ / __qualname__, a module's __doc__, ...: "
                                   "subkind implicit)"},
               ("py_bc_defuse_events", "py_sym_bindings"), "dataflow",
               _node("'BINDING'", "binding_id", "name", "'implicit'", span=("NULL", "NULL"),
                     props=_json("resolution")), _IMPLICIT_SLOTS,
               expect=f"SELECT count(*) FROM {_IMPLICIT_SLOTS}"),
    Projection("node", {"BC_CODE_UNIT": "a code object; subkind: its kind"}, ("py_bc_code_units",), "bytecode",
               _node("'BC_CODE_UNIT'", "code_unit_id", "qualpath", "kind",
                     props=_json("co_qualname", "co_firstlineno", "flags", "argcount", "stacksize",
                                 "key_quality")), "py_bc_code_units"),
    Projection("node", {"BC_INSTR": "an instruction; subkind: baseopname"}, ("py_bc_instructions",), "bytecode",
               _node("'BC_INSTR'", "instr_id", "CASE WHEN argrepr <> '' THEN opname || ' ' || argrepr ELSE opname END",
                     "baseopname",
                     props=_json("code_unit_id", "instr_index", "offset", "line_number", "arg", "is_jump_target")),
               "py_bc_instructions"),
    Projection("node", {"CFG_BLOCK": "a basic block; subkind: its kind (entry, body, handler, ...)"}, ("py_bc_blocks",),
               "cfg", _node("'CFG_BLOCK'", "block_id", "'B' || block_index", "kind",
                            span=("anchor_span_start_byte", "anchor_span_end_byte"),
                            props=_json("code_unit_id", "start_offset", "end_offset", "instr_count", "terminator",
                                        "is_entry", "is_exit", "is_handler", "is_loop_header", "is_dead")),
               "py_bc_blocks"),
    Projection("node", {"INSPECT_OBJECT": "a runtime object the module defines (id: object_id); subkind: its kind"},
               ("py_inspect_objects",), "inspect",
               _node("'INSPECT_OBJECT'", "object_id", "qualname", "kind", span=("NULL", "NULL"),
                     props=_json("module_name", "type_qualname", "is_callable", "has_wrapped", "ok")),
               "py_inspect_objects", where="object_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_objects WHERE object_id IS NOT NULL"),
    Projection("node", {"INSPECT_SIGNATURE": "inspect.signature of an object (id: signature_id); subkind: variant "
                                             "(raw | wrapped)"},
               ("py_inspect_signatures",), "inspect",
               _node("'INSPECT_SIGNATURE'", "signature_id", "sig_text", "variant", span=("NULL", "NULL"),
                     props=_json("object_id", "effective_object_id", "follow_wrapped", "has_varargs", "has_varkw")),
               "py_inspect_signatures", where="signature_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_signatures WHERE signature_id IS NOT NULL"),
    Projection("node", {"INSPECT_SIGNATURE_PARAM": "a parameter of a signature (id: signature_id:PARAM:index); "
                                                   "subkind: its kind (POSITIONAL_OR_KEYWORD, ...)"},
               ("py_inspect_signature_params",), "inspect",
               _node("'INSPECT_SIGNATURE_PARAM'", "signature_id || ':PARAM:' || param_index", "name", "kind",
                     span=("NULL", "NULL"),
                     props=_json("param_index", "default_present", "annotation_present",
                                 "default=default_value.repr_trunc", "annotation=annotation_value.repr_trunc")),
               "py_inspect_signature_params", where="signature_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_signature_params WHERE signature_id IS NOT NULL"),
    Projection("node", {"INSPECT_ATTR": "an attribute a class declares in its own __dict__ (id: "
                                        "class_object_id:ATTR:name); subkind: value_kind"},
               ("py_inspect_class_declared_members",), "inspect",
               _node("'INSPECT_ATTR'", "class_object_id || ':ATTR:' || attr_name", "attr_name", "value_kind",
                     span=("NULL", "NULL"), props=_json("desc_kind", "repr=value_ref.repr_trunc")),
               "py_inspect_class_declared_members", where="class_object_id IS NOT NULL AND attr_name IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_class_declared_members WHERE class_object_id IS NOT NULL "
                      "AND attr_name IS NOT NULL"),
    Projection("node", {"INSPECT_RUNTIME_STATE": "one observed state of a probe (id: path:RUNTIME:probe:step); "
                                                 "subkind: what (generator, coroutine, frame, ...)"},
               ("py_inspect_runtime_state",), "inspect",
               _node("'INSPECT_RUNTIME_STATE'", "path || ':RUNTIME:' || probe || ':' || step", "state", "what",
                     span=("NULL", "NULL"), props=_json("object_id", "f_lasti", "lineno", "locals=locals_json", "ok")),
               "py_inspect_runtime_state", where="probe IS NOT NULL AND step IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_runtime_state WHERE probe IS NOT NULL AND step IS NOT NULL"),

    Projection("node", {"SCIP_SYMBOL": "a symbol of an external SCIP index (id: the symbol string; a local symbol "
                                       "'<relative_path> local N'); subkind: its SymbolInformation kind"},
               ("scip_symbols",), "scip",
               _node("'SCIP_SYMBOL'", "symbol_id", "coalesce(display_name, symbol)", "kind_name",
                     span=("NULL", "NULL"), props=_json("symbol", "is_local", "is_external", "has_info")),
               "scip_symbols"),

    # ---- edges: files, definitions, symbols, syntax -------------------------------------------------
    Projection("edge", {"HAS_MODULE": "file -> its module"}, ("cpg_definitions",), "cpg",
               _edge("'HAS_MODULE'", "'HAS_MODULE:' || def_id", "path", "def_id", "'cpg:module'"),
               "cpg_definitions", where="kind = 'module'",
               expect="SELECT count(*) FROM cpg_definitions WHERE kind = 'module'",
               src_kinds=("FILE",), dst_kinds=("MODULE",)),
    Projection("edge", {"CONTAINS": "definition -> a definition directly inside it (module > class > method > "
                                    "parameter, ...)"}, ("cpg_definitions",), "cpg",
               _edge("'CONTAINS'", "'CONTAINS:' || def_id", "parent_def_id", "def_id", "'cpg:parent_def'"),
               "cpg_definitions", where="parent_def_id IS NOT NULL",
               expect="SELECT count(*) FROM cpg_definitions WHERE parent_def_id IS NOT NULL",
               src_kinds=DEFS, dst_kinds=("DEFINITION",)),
    Projection("edge", {"HAS_SYMBOL": "definition -> its SCIP symbol"}, ("cpg_definitions",), "cpg",
               _edge("'HAS_SYMBOL'", "'HAS_SYMBOL:' || def_id", "def_id", "symbol", "'cpg:symbol'"),
               "cpg_definitions", where="symbol IS NOT NULL",
               expect="SELECT count(*) FROM cpg_definitions WHERE symbol IS NOT NULL",
               src_kinds=DEFS, dst_kinds=("SYMBOL",)),
    Projection("edge", {"BINDING_SYMBOL": "binding -> the symbol of a definition bound to it (SYM-CPG-ALG-6)"},
               ("cpg_definitions",), "cpg",
               _edge("'BINDING_SYMBOL'", "'BINDING_SYMBOL:' || binding_id || '->' || symbol", "binding_id", "symbol",
                     "'cpg:binding'"),
               "cpg_definitions", where="binding_id IS NOT NULL AND symbol IS NOT NULL", distinct=True,
               expect="SELECT count(*) FROM (SELECT DISTINCT binding_id, symbol FROM cpg_definitions "
                      "WHERE binding_id IS NOT NULL AND symbol IS NOT NULL)",
               src_kinds=("BINDING",), dst_kinds=("SYMBOL",)),
    Projection("edge", {"SCIP_DEFINES": "syntax node -> the SCIP symbol an external index says it defines",
                        "SCIP_REFERS_TO": "syntax node -> the SCIP symbol an external index says it refers to"},
               ("scip_occurrences",), "scip",
               _edge("CASE WHEN is_definition THEN 'SCIP_DEFINES' ELSE 'SCIP_REFERS_TO' END",
                     "CASE WHEN is_definition THEN 'SCIP_DEFINES:' ELSE 'SCIP_REFERS_TO:' END || occurrence_id",
                     "ast_node_id", "symbol_id", "'scip:occurrence'",
                     props=_json("symbol_roles", "anchor", "start_line", "start_char")),
               "scip_occurrences", where="ast_node_id IS NOT NULL AND symbol_id IS NOT NULL",
               expect="SELECT count(*) FROM scip_occurrences WHERE ast_node_id IS NOT NULL AND symbol_id IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=("SCIP_SYMBOL",)),
    Projection("edge", {"BINDING_SYMBOL": "binding -> the SCIP symbol of an external index's occurrence at one of its "
                                          "name sites (SYM-CPG-ALG-6; confidence 0.5, props.ambiguous, when one "
                                          "binding meets several symbols)"},
               ("scip_occurrences",), "scip",
               _edge("'BINDING_SYMBOL'", "'BINDING_SYMBOL:' || binding_id || '->' || symbol_id", "binding_id",
                     "symbol_id", "'scip:name_site'", "CASE WHEN n > 1 THEN 0.5 ELSE 1.0 END",
                     props=_json("ambiguous=n > 1", "role")),
               "(SELECT binding_id, symbol_id, min(path) AS path, "
               "CASE WHEN bool_or(is_definition) THEN 'def' ELSE 'ref' END AS role, "
               "count(*) OVER (PARTITION BY binding_id) AS n FROM scip_occurrences "
               "WHERE binding_id IS NOT NULL AND symbol_id IS NOT NULL GROUP BY binding_id, symbol_id)",
               expect="SELECT count(DISTINCT (binding_id, symbol_id)) FROM scip_occurrences "
                      "WHERE binding_id IS NOT NULL AND symbol_id IS NOT NULL",
               src_kinds=("BINDING",), dst_kinds=("SCIP_SYMBOL",)),
    Projection("edge", {"SAME_SYMBOL": "codeintel symbol -> the SCIP symbol an external index gives the same "
                                       "definition (its definition occurrence is at the definition's name)"},
               ("scip_occurrences", "cpg_definitions"), "scip",
               _edge("'SAME_SYMBOL'", "'SAME_SYMBOL:' || symbol || '->' || symbol_id", "symbol", "symbol_id",
                     "'scip:definition'"),
               "(SELECT d.symbol, o.symbol_id, min(o.path) AS path FROM scip_occurrences o JOIN cpg_definitions d "
               "ON d.def_id = o.def_id WHERE d.symbol IS NOT NULL AND o.symbol_id IS NOT NULL GROUP BY ALL)",
               expect="SELECT count(DISTINCT (d.symbol, o.symbol_id)) FROM scip_occurrences o JOIN cpg_definitions d "
                      "ON d.def_id = o.def_id WHERE d.symbol IS NOT NULL AND o.symbol_id IS NOT NULL",
               src_kinds=("SYMBOL",), dst_kinds=("SCIP_SYMBOL",)),
    Projection("edge", {"AST_CHILD": "AST node -> child (props.field: the parent's field)"}, ("py_ast_nodes",),
               "source",
               _edge("'AST_CHILD'", "'AST_CHILD:' || ast_node_id", "parent_ast_node_id", "ast_node_id", "'source:ast'",
                     props=_json("field=parent_field")),
               "py_ast_nodes", where="parent_ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_ast_nodes WHERE parent_ast_node_id IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=SYNTAX),

    # ---- edges: symtable ----------------------------------------------------------------------------
    Projection("edge", {"OWNS_SCOPE": "AST owner (module, def, class, lambda, comprehension) -> its scope"},
               ("py_sym_scopes",), "symtable",
               _edge("'OWNS_SCOPE'", "'OWNS_SCOPE:' || scope_id", "anchor_ast_node_id", "scope_id", "'symtable:anchor'",
                     "anchor_confidence", props=_json("reason=anchor_reason")),
               "py_sym_scopes", where="anchor_ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_sym_scopes WHERE anchor_ast_node_id IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=("SCOPE",)),
    Projection("edge", {"PARENT_SCOPE": "scope -> child scope"}, ("py_sym_scope_edges",), "symtable",
               _edge("'PARENT_SCOPE'", "'PARENT_SCOPE:' || child_scope_id", "parent_scope_id", "child_scope_id",
                     "'symtable:children'", props=_json("child_index")),
               "py_sym_scope_edges", src_kinds=("SCOPE",), dst_kinds=("SCOPE",)),
    Projection("edge", {"SCOPE_CODE": "scope -> its code object (the symtable/code crosswalk)"}, ("py_sym_scopes",),
               "symtable",
               _edge("'SCOPE_CODE'", "'SCOPE_CODE:' || scope_id", "scope_id", "code_unit_id",
                     "'symtable:' || coalesce(crosswalk_kind, 'crosswalk')"),
               "py_sym_scopes", where="code_unit_id IS NOT NULL",
               expect="SELECT count(*) FROM py_sym_scopes WHERE code_unit_id IS NOT NULL",
               src_kinds=("SCOPE",), dst_kinds=("BC_CODE_UNIT",)),
    Projection("edge", {"DECLARES": "scope -> a binding declared in it (declared_here)"}, ("py_sym_bindings",),
               "symtable",
               _edge("'DECLARES'", "'DECLARES:' || binding_id", "scope_id", "binding_id", "'symtable:declared_here'"),
               "py_sym_bindings", where="declared_here",
               expect="SELECT count(*) FROM py_sym_bindings WHERE declared_here",
               src_kinds=("SCOPE",), dst_kinds=("BINDING",)),
    Projection("edge", {"RESOLVES_TO": "reference binding -> the binding it means (GLOBAL / NONLOCAL / FREE / "
                                       "CLASSDICT, SYM-ALG-4)"}, ("py_sym_resolution_edges",), "symtable",
               _edge("'RESOLVES_TO'", "'RESOLVES_TO:' || edge_id", "src_binding_id", "dst_binding_id",
                     "'symtable:' || kind", "confidence", props=_json("resolution=kind", "reason")),
               "py_sym_resolution_edges", where="dst_binding_id IS NOT NULL",
               expect="SELECT count(*) FROM py_sym_resolution_edges WHERE dst_binding_id IS NOT NULL",
               src_kinds=("BINDING",), dst_kinds=("BINDING",)),
    Projection("edge", {"CAPTURES": "scope -> an outer binding it closes over (FREE / NONLOCAL resolutions)"},
               ("py_sym_resolution_edges", "py_sym_bindings"), "symtable",
               _edge("'CAPTURES'", "'CAPTURES:' || r.edge_id", "b.scope_id", "r.dst_binding_id", "'symtable:' || r.kind",
                     "r.confidence", "r.path"),
               "py_sym_resolution_edges r JOIN py_sym_bindings b ON b.binding_id = r.src_binding_id",
               where="r.kind IN ('FREE', 'NONLOCAL') AND r.dst_binding_id IS NOT NULL",
               expect="SELECT count(*) FROM py_sym_resolution_edges WHERE kind IN ('FREE', 'NONLOCAL') "
                      "AND dst_binding_id IS NOT NULL",
               src_kinds=("SCOPE",), dst_kinds=("BINDING",)),
    Projection("edge", {"BINDS_NAMESPACE": "binding -> the scope of the def/class/lambda bound to it"},
               ("py_sym_namespace_edges", "py_sym_bindings"), "symtable",
               _edge("'BINDS_NAMESPACE'", "'BINDS_NAMESPACE:' || n.symbol_row_id || '->' || n.child_scope_id",
                     "b.binding_id", "n.child_scope_id", "'symtable:namespaces'", path="n.path",
                     props=_json("is_ambiguous=n.is_ambiguous")),
               "py_sym_namespace_edges n JOIN py_sym_bindings b ON b.symbol_row_id = n.symbol_row_id",
               src_kinds=("BINDING",), dst_kinds=("SCOPE",)),
    Projection("edge", {"BINDS_DEF": "AST name site that binds -> its binding (SYM-CPG-ALG-5)",
                        "BINDS_USE": "AST name site that reads -> its binding",
                        "BINDS_KILL": "AST name site that deletes (del, except ... as) -> its binding",
                        "BINDS_DECL": "global / nonlocal statement -> the binding it declares"},
               ("py_sym_name_sites",), "symtable",
               _edge("'BINDS_' || upper(role)", "'BINDS_' || upper(role) || ':' || site_id", "ast_node_id",
                     "binding_id", "'symtable:' || coalesce(resolution, 'site')",
                     "coalesce(resolve_confidence, 1.0)", props=_json("name", "site_kind", "in_annotation")),
               "py_sym_name_sites", where="binding_id IS NOT NULL AND ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_sym_name_sites WHERE binding_id IS NOT NULL AND ast_node_id IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=("BINDING",)),

    # ---- edges: bytecode, CFG, dataflow -------------------------------------------------------------
    Projection("edge", {"HAS_INSTR": "code unit -> its instructions (props.instr_index)"}, ("py_bc_instructions",),
               "bytecode",
               _edge("'HAS_INSTR'", "'HAS_INSTR:' || instr_id", "code_unit_id", "instr_id", "'bytecode:dis'",
                     props=_json("instr_index")),
               "py_bc_instructions", src_kinds=("BC_CODE_UNIT",), dst_kinds=("BC_INSTR",)),
    Projection("edge", {"BYTECODE_ANCHOR": "instruction -> the AST node its positions anchor it to"},
               ("py_bc_instructions",), "bytecode",
               _edge("'BYTECODE_ANCHOR'", "'BYTECODE_ANCHOR:' || instr_id", "instr_id", "ast_node_id",
                     "'bytecode:' || coalesce(anchor_kind, 'anchor')"),
               "py_bc_instructions", where="ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_bc_instructions WHERE ast_node_id IS NOT NULL",
               src_kinds=("BC_INSTR",), dst_kinds=SYNTAX),
    Projection("edge", {"CODE_ANCHOR": "code unit -> the AST node it was compiled from"}, ("py_bc_code_units",),
               "bytecode",
               _edge("'CODE_ANCHOR'", "'CODE_ANCHOR:' || code_unit_id", "code_unit_id", "ast_node_id",
                     "'bytecode:' || coalesce(key_quality, 'anchor')"),
               "py_bc_code_units", where="ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_bc_code_units WHERE ast_node_id IS NOT NULL",
               src_kinds=("BC_CODE_UNIT",), dst_kinds=SYNTAX),
    Projection("edge", {"PARENT_CODE_UNIT": "code unit -> a code object in its co_consts"}, ("py_bc_code_units",),
               "bytecode",
               _edge("'PARENT_CODE_UNIT'", "'PARENT_CODE_UNIT:' || code_unit_id", "parent_code_unit_id",
                     "code_unit_id", "'bytecode:co_consts'"),
               "py_bc_code_units", where="parent_code_unit_id IS NOT NULL",
               expect="SELECT count(*) FROM py_bc_code_units WHERE parent_code_unit_id IS NOT NULL",
               src_kinds=("BC_CODE_UNIT",), dst_kinds=("BC_CODE_UNIT",)),
    Projection("edge", {"HAS_BLOCK": "code unit -> its basic blocks"}, ("py_bc_blocks",), "cfg",
               _edge("'HAS_BLOCK'", "'HAS_BLOCK:' || block_id", "code_unit_id", "block_id", "'cfg:blocks'",
                     props=_json("block_index")),
               "py_bc_blocks", src_kinds=("BC_CODE_UNIT",), dst_kinds=("CFG_BLOCK",)),
    Projection("edge", {"CFG_NEXT": "block -> the block it falls through to",
                        "CFG_JUMP": "block -> the target of its unconditional jump",
                        "CFG_TRUE": "block -> successor when its condition holds (polarity rule in provenance)",
                        "CFG_FALSE": "block -> successor when its condition fails",
                        "CFG_EXC": "block -> exception handler (exception table entry, depth, lasti in props)"},
               ("py_bc_cfg_edges",), "cfg",
               _edge("'CFG_' || upper(kind)", "'CFG_' || upper(kind) || ':' || edge_id", "src_block_id",
                     "dst_block_id", "'cfg:' || coalesce(polarity_rule, kind)",
                     props=_json("cond_instr_id", "exc_entry_index", "depth", "lasti", "is_innermost")),
               "py_bc_cfg_edges", src_kinds=("CFG_BLOCK",), dst_kinds=("CFG_BLOCK",)),
    Projection("edge", {"DFG_STACK": "producer -> the instruction that pops its value (a handler block produces "
                                     "the exception it is entered with)",
                        "DFG_MEMORY": "attribute / subscript / global write -> a later read (rule, confidence)"},
               ("py_dfg_edges",), "dataflow",
               _edge("'DFG_' || upper(kind)", "'DFG_' || upper(kind) || ':' || edge_id",
                     # a value pushed by the unwinder (src_kind exception / lasti) comes from the handler block
                     # entered at the offset its name records: handler@<offset> -> <code_unit_id>:B:<offset>
                     "coalesce(src_instr_id, src_code_unit_id || ':B:' || replace(name, 'handler@', ''))",
                     "dst_instr_id", "'dataflow:' || rule", "confidence",
                     props=_json("src_kind", "src_output", "dst_input", "name")),
               "py_dfg_edges", src_kinds=("BC_INSTR", "CFG_BLOCK"), dst_kinds=("BC_INSTR",)),
    Projection("edge", {"DEFINES_BINDING": "instruction -> the binding slot it writes (DEF_SLOT)",
                        "USES_BINDING": "instruction -> the binding slot it reads (USE_SLOT; CLOSURE: the cell "
                                        "loaded to build a closure)",
                        "KILLS_BINDING": "instruction -> the binding slot it deletes or clears (KILL_SLOT)"},
               ("py_bc_defuse_events",), "dataflow",
               _edge(_SLOT_EDGE_KIND, f"{_SLOT_EDGE_KIND} || ':' || instr_id || ':' || event_index", "instr_id",
                     "binding_id",
                     "'dataflow:' || coalesce(rule, 'classifier')", "coalesce(confidence, 1.0)",
                     props=_json("event_kind", "space", "name", "resolution=binding_resolution")),
               "py_bc_defuse_events", where="binding_id IS NOT NULL",
               expect="SELECT count(*) FROM py_bc_defuse_events WHERE binding_id IS NOT NULL",
               src_kinds=("BC_INSTR",), dst_kinds=("BINDING",)),
    Projection("edge", {"REACHES": "definition -> a use it reaches within a code unit (the def instruction, or "
                                   "the binding for entry / external definitions: parameters, cells, globals)"},
               ("py_reaching_defs",), "dataflow",
               _edge("'REACHES'",
                     "'REACHES:' || coalesce(def_instr_id || ':' || def_event_index, def_kind || '@' || binding_id) "
                     "|| '->' || use_instr_id || ':' || use_event_index",
                     "coalesce(def_instr_id, binding_id)", "use_instr_id", "'dataflow:' || def_kind",
                     props=_json("name", "space", "def_kind")),
               "py_reaching_defs", src_kinds=("BC_INSTR", "BINDING"), dst_kinds=("BC_INSTR",)),
    Projection("edge", {"REACHES": "argument definition (its use when the definition is an entry one) -> the "
                                   "callee's parameter binding (interprocedural, provenance link:arg_reaches)"},
               ("cpg_arg_reaches",), "link",
               _edge("'REACHES'",
                     "'REACHES:' || callsite_id || ':' || coalesce(arg_id, 'receiver') || ':' || "
                     "coalesce(def_instr_id, '') || ':' || def_kind || '@' || use_instr_id || '->' || param_binding_id",
                     "coalesce(def_instr_id, use_instr_id)", "param_binding_id", "'link:arg_reaches'", "confidence",
                     props=_json("callsite_id", "arg_id", "def_kind", "use_instr_id", "callee_def_id")),
               "cpg_arg_reaches", where="param_binding_id IS NOT NULL AND coalesce(def_instr_id, use_instr_id) IS NOT NULL",
               expect="SELECT count(*) FROM cpg_arg_reaches WHERE param_binding_id IS NOT NULL "
                      "AND coalesce(def_instr_id, use_instr_id) IS NOT NULL",
               src_kinds=("BC_INSTR",), dst_kinds=("BINDING",)),

    # ---- edges: calls, imports, classes (cpg plane + link step) -------------------------------------
    Projection("edge", {"CALL_INSTR": "call site -> its CALL / CALL_KW / CALL_FUNCTION_EX instruction"},
               ("cpg_call_sites",), "cpg",
               _edge("'CALL_INSTR'", "'CALL_INSTR:' || callsite_id", "callsite_id", "instr_id", "'cpg:call_instr'"),
               "cpg_call_sites", where="instr_id IS NOT NULL",
               expect="SELECT count(*) FROM cpg_call_sites WHERE instr_id IS NOT NULL",
               src_kinds=("CALLSITE",), dst_kinds=("BC_INSTR",)),
    Projection("edge", {"CALLS": "call site -> the definition it calls (or EXTERNAL callee); rule in provenance"},
               ("cpg_calls",), "link",
               _edge("'CALLS'", "'CALLS:' || callsite_id || '->' || coalesce(callee_def_id, callee_qualname)",
                     "callsite_id", "coalesce(callee_def_id, callee_qualname)", "'link:' || rule", "confidence",
                     props=_json("callee_qualname", "caller_qualname", "lineno")),
               "cpg_calls", where="coalesce(callee_def_id, callee_qualname) IS NOT NULL",
               expect="SELECT count(*) FROM cpg_calls WHERE coalesce(callee_def_id, callee_qualname) IS NOT NULL",
               src_kinds=("CALLSITE",), dst_kinds=("DEFINITION", "EXTERNAL")),
    Projection("edge", {"DECORATES": "decorator application (call site) -> the definition it decorates"},
               ("cpg_call_sites",), "cpg",
               _edge("'DECORATES'", "'DECORATES:' || callsite_id", "callsite_id",
                     "split_part(callsite_id, ':DECORATOR:', 1)", "'cpg:decorator'",
                     props=_json("index=split_part(callsite_id, ':DECORATOR:', 2)", "text=callee_text")),
               "cpg_call_sites", where="call_kind = 'decorator'",
               expect="SELECT count(*) FROM cpg_call_sites WHERE call_kind = 'decorator'",
               src_kinds=("CALLSITE",), dst_kinds=("DEFINITION",)),
    Projection("edge", {"IMPORTS": "the definition whose scope imports -> the module imported (MODULE of the "
                                   "repository, else EXTERNAL)"},
               ("cpg_imports", "cpg_definitions"), "cpg",
               _edge("'IMPORTS'", "'IMPORTS:' || i.import_id", "i.scope_def_id",
                     "coalesce(sub.def_id, mo.def_id, i.imported_module)", "'cpg:import'", path="i.path",
                     props=_json("imported_module=i.imported_module", "imported_name=i.imported_name",
                                 "local_name=i.local_name", "level=i.level", "is_star=i.is_star")),
               f"cpg_imports i {_import_target()}", where="i.imported_module IS NOT NULL",
               expect="SELECT count(*) FROM cpg_imports WHERE imported_module IS NOT NULL",
               src_kinds=DEFS, dst_kinds=("MODULE", "EXTERNAL")),
    Projection("edge", {"ARG_OF": "argument expression -> its call site (props: index, kind, position, keyword)"},
               ("cpg_call_args",), "cpg",
               _edge("'ARG_OF'", "'ARG_OF:' || arg_id", "ast_node_id", "callsite_id", "'cpg:' || kind",
                     props=_json("arg_id", "arg_index", "kind", "position", "keyword", "text")),
               "cpg_call_args", where="ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM cpg_call_args WHERE ast_node_id IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=("CALLSITE",)),
    Projection("edge", {"BINDS_ARG": "argument -> the callee parameter binding it binds to (INS-ALG-6; an implicit "
                                     "receiver starts at the call site)"},
               ("cpg_binds_arg",), "link",
               _edge("'BINDS_ARG'",
                     "'BINDS_ARG:' || callsite_id || ':' || coalesce(arg_ast_node_id, 'receiver') || '->' || "
                     "coalesce(param_def_id, param_binding_id) || '@' || coalesce(callee_def_id, '')",
                     "coalesce(arg_ast_node_id, callsite_id)", "coalesce(param_binding_id, param_def_id)",
                     "'link:' || rule", "confidence",
                     props=_json("callsite_id", "arg_id", "callee_def_id", "param_def_id", "param_name", "param_kind",
                                 "position", "keyword", "implicit_receiver", "signature_source")),
               "cpg_binds_arg", where="coalesce(param_binding_id, param_def_id) IS NOT NULL",
               expect="SELECT count(*) FROM cpg_binds_arg WHERE coalesce(param_binding_id, param_def_id) IS NOT NULL",
               src_kinds=SYNTAX, dst_kinds=("BINDING", "DEFINITION")),
    Projection("edge", {"INHERITS": "class -> a base class in order (definition of the repository, else EXTERNAL; "
                                    "a base expression without a static meaning has no edge)"},
               ("cpg_inherits",), "link",
               _edge("'INHERITS'", "'INHERITS:' || class_def_id || ':' || base_index || '->' || "
                                   "coalesce(base_def_id, base_qualname)",
                     "class_def_id", "coalesce(base_def_id, base_qualname)", "'link:' || rule", "confidence",
                     props=_json("base_index", "base_text", "base_qualname")),
               "cpg_inherits", where=f"base_def_id IS NOT NULL OR ({_RESOLVED_BASE})",
               expect=f"SELECT count(*) FROM cpg_inherits WHERE base_def_id IS NOT NULL OR ({_RESOLVED_BASE})",
               src_kinds=("DEFINITION",), dst_kinds=("DEFINITION", "EXTERNAL")),
    Projection("edge", {"MRO": "class -> a later class of its static C3 MRO in the repository (props.mro_index, "
                               "complete)"},
               ("cpg_mro",), "link",
               _edge("'MRO'", "'MRO:' || class_def_id || ':' || mro_index", "class_def_id", "ancestor_def_id",
                     "'link:c3'", props=_json("mro_index", "ancestor_qualname", "complete"), path="split_part(class_def_id, ':AST:', 1)"),
               "cpg_mro", where="mro_index > 0 AND ancestor_def_id IS NOT NULL",
               expect="SELECT count(*) FROM cpg_mro WHERE mro_index > 0 AND ancestor_def_id IS NOT NULL",
               src_kinds=("DEFINITION",), dst_kinds=("DEFINITION",)),

    # ---- edges: inspect plane ----------------------------------------------------------------------
    Projection("edge", {"HAS_SIGNATURE": "object -> its signature (props.variant raw | wrapped)"},
               ("py_inspect_signatures",), "inspect",
               _edge("'HAS_SIGNATURE'", "'HAS_SIGNATURE:' || signature_id", "object_id", "signature_id",
                     "'inspect:signature'", props=_json("variant", "follow_wrapped")),
               "py_inspect_signatures", where="signature_id IS NOT NULL AND object_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_signatures WHERE signature_id IS NOT NULL "
                      "AND object_id IS NOT NULL",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_SIGNATURE",)),
    Projection("edge", {"HAS_PARAM": "signature -> its parameters (props.param_index)"},
               ("py_inspect_signature_params",), "inspect",
               _edge("'HAS_PARAM'", "'HAS_PARAM:' || signature_id || ':PARAM:' || param_index", "signature_id",
                     "signature_id || ':PARAM:' || param_index", "'inspect:signature'", props=_json("param_index")),
               "py_inspect_signature_params", where="signature_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_signature_params WHERE signature_id IS NOT NULL",
               src_kinds=("INSPECT_SIGNATURE",), dst_kinds=("INSPECT_SIGNATURE_PARAM",)),
    Projection("edge", {"INSPECT_ANCHORS_AST": "object -> its def / class / module node (INS-ALG-4)"},
               ("py_inspect_object_anchors",), "inspect",
               _edge("'INSPECT_ANCHORS_AST'", "'INSPECT_ANCHORS_AST:' || object_id", "object_id", "ast_node_id",
                     "'inspect:anchor'", "coalesce(confidence, 1.0)", props=_json("reason", "code_unit_id")),
               "py_inspect_object_anchors", where="object_id IS NOT NULL AND ast_node_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_object_anchors WHERE object_id IS NOT NULL "
                      "AND ast_node_id IS NOT NULL",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=SYNTAX),
    Projection("edge", {"INSPECT_SYMBOL": "object -> the SCIP symbol of the definition it is anchored to"},
               ("py_inspect_object_anchors", "cpg_definitions"), "inspect",
               _edge("'INSPECT_SYMBOL'", "'INSPECT_SYMBOL:' || a.object_id || '->' || d.symbol", "a.object_id",
                     "d.symbol", "'inspect:anchor'", "coalesce(a.confidence, 1.0)", "a.path"),
               "py_inspect_object_anchors a JOIN cpg_definitions d ON d.def_id = a.ast_node_id",
               where="a.object_id IS NOT NULL AND d.symbol IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_object_anchors a JOIN cpg_definitions d "
                      "ON d.def_id = a.ast_node_id WHERE a.object_id IS NOT NULL AND d.symbol IS NOT NULL",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("SYMBOL",)),
    Projection("edge", {"WRAPS": "callable -> the object in its __wrapped__ (first hop; objects of the repository)"},
               ("py_inspect_unwrap_hops", "py_inspect_objects"), "inspect",
               _edge("'WRAPS'", "'WRAPS:' || root_object_id || '->' || object_id", "root_object_id", "object_id",
                     "'inspect:unwrap'", props=_json("has_signature_override")),
               "py_inspect_unwrap_hops",
               where=f"chain = 'full' AND hop = 1 AND object_id IN {_object_ids()}",
               expect=f"SELECT count(*) FROM py_inspect_unwrap_hops WHERE chain = 'full' AND hop = 1 "
                      f"AND object_id IN {_object_ids()}",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_OBJECT",)),
    Projection("edge", {"INSPECT_MRO": "class object -> a class later in its runtime MRO (inspect.getmro; "
                                       "props.mro_index; classes of the repository)"},
               ("py_inspect_class_mro", "py_inspect_objects"), "inspect",
               _edge("'INSPECT_MRO'", "'INSPECT_MRO:' || class_object_id || ':' || mro_index", "class_object_id",
                     "base_object_id",
                     "'inspect:getmro'", props=_json("mro_index", "base_type_qualname")),
               "py_inspect_class_mro", where=f"mro_index > 0 AND base_object_id IN {_object_ids()}",
               expect=f"SELECT count(*) FROM py_inspect_class_mro WHERE mro_index > 0 "
                      f"AND base_object_id IN {_object_ids()}",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_OBJECT",)),
    Projection("edge", {"DECLARES_ATTR": "class -> an attribute in its own __dict__"},
               ("py_inspect_class_declared_members",), "inspect",
               _edge("'DECLARES_ATTR'", "'DECLARES_ATTR:' || class_object_id || ':ATTR:' || attr_name",
                     "class_object_id", "class_object_id || ':ATTR:' || attr_name", "'inspect:dict'",
                     props=_json("desc_kind")),
               "py_inspect_class_declared_members", where="class_object_id IS NOT NULL AND attr_name IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_class_declared_members WHERE class_object_id IS NOT NULL "
                      "AND attr_name IS NOT NULL",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_ATTR",)),
    Projection("edge", {"RESOLVES_ATTR": "class -> the attribute a lookup of the name finds along its MRO"},
               ("py_inspect_attr_resolution", "py_inspect_class_declared_members"), "inspect",
               _edge("'RESOLVES_ATTR'", "'RESOLVES_ATTR:' || class_object_id || ':' || attr_name", "class_object_id",
                     "defining_class_object_id || ':ATTR:' || attr_name", "'inspect:mro_lookup'",
                     props=_json("attr_name", "declared_here", "overridden_class_ids")),
               "py_inspect_attr_resolution",
               where="defining_class_object_id || ':ATTR:' || attr_name IN (SELECT class_object_id || ':ATTR:' || "
                     "attr_name FROM py_inspect_class_declared_members)",
               expect="SELECT count(*) FROM py_inspect_attr_resolution WHERE defining_class_object_id || ':ATTR:' "
                      "|| attr_name IN (SELECT class_object_id || ':ATTR:' || attr_name FROM "
                      "py_inspect_class_declared_members)",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_ATTR",)),
    Projection("edge", {"HAS_RUNTIME_STATE": "object (probe) -> a state it was observed in"},
               ("py_inspect_runtime_state", "py_inspect_objects"), "inspect",
               _edge("'HAS_RUNTIME_STATE'", "'HAS_RUNTIME_STATE:' || path || ':RUNTIME:' || probe || ':' || step",
                     "object_id", "path || ':RUNTIME:' || probe || ':' || step", "'inspect:probe'"),
               "py_inspect_runtime_state",
               where=f"probe IS NOT NULL AND step IS NOT NULL AND object_id IN {_object_ids()}",
               expect=f"SELECT count(*) FROM py_inspect_runtime_state WHERE probe IS NOT NULL AND step IS NOT NULL "
                      f"AND object_id IN {_object_ids()}",
               src_kinds=("INSPECT_OBJECT",), dst_kinds=("INSPECT_RUNTIME_STATE",)),
    Projection("edge", {"RUNTIME_AT": "runtime state -> the instruction its frame was at (f_lasti)"},
               ("py_inspect_runtime_state",), "inspect",
               _edge("'RUNTIME_AT'", "'RUNTIME_AT:' || path || ':RUNTIME:' || probe || ':' || step",
                     "path || ':RUNTIME:' || probe || ':' || step", "instr_id", "'inspect:f_lasti'",
                     props=_json("f_lasti")),
               "py_inspect_runtime_state", where="probe IS NOT NULL AND step IS NOT NULL AND instr_id IS NOT NULL",
               expect="SELECT count(*) FROM py_inspect_runtime_state WHERE probe IS NOT NULL AND step IS NOT NULL "
                      "AND instr_id IS NOT NULL",
               src_kinds=("INSPECT_RUNTIME_STATE",), dst_kinds=("BC_INSTR",)),
]


def node_kinds() -> list[str]:
    return list(dict.fromkeys(k for p in PROJECTIONS if p.element == "node" for k in p.kinds))


def edge_kinds() -> list[str]:
    return list(dict.fromkeys(k for p in PROJECTIONS if p.element == "edge" for k in p.kinds))


def existing_tables(conn) -> set[str]:
    """Base tables and views of the main schema of the database file (not the connection's temp objects)."""
    return {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database()").fetchall()}


def _present(p: Projection, have: set[str]) -> bool:
    return all(t in have for t in p.tables)


@dataclass
class GraphPlan:
    """Which projections the views hold (their tables exist) and which are left out, and why."""

    included: list[Projection] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)  # "KIND[/KIND...] <- tables": missing tables
    have: set[str] = field(default_factory=set)


def plan_graph(have: set[str]) -> GraphPlan:
    plan = GraphPlan(have=have)
    for p in PROJECTIONS:
        if _present(p, have):
            plan.included.append(p)
        else:
            plan.left_out[describe(p)] = [t for t in p.tables if t not in have]
    return plan


def describe(p: Projection) -> str:
    return f"{'/'.join(p.kinds)} <- {', '.join(p.tables)}"


def view_sql(plan: GraphPlan, element: str) -> str:
    parts = [p.select(plan.have) for p in plan.included if p.element == element]
    if not parts:  # an empty database: the views exist with their columns and no rows
        spec = NODE_COLUMNS if element == "node" else EDGE_COLUMNS
        parts = ["SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in spec) + " WHERE false"]
    return "\nUNION ALL\n".join(parts)


def provenance_pattern(p: Projection) -> str:
    """What an edge's provenance holds, readable: ``'link:' || rule`` reads ``link:<rule>``; a node's: its plane."""
    if p.element == "node":
        return p.provenance
    parts = []
    for part in p.columns["provenance"].split("||"):
        part = part.strip()
        if part.startswith("'") and part.endswith("'"):
            parts.append(part[1:-1])
        else:  # coalesce(polarity_rule, kind) -> <polarity_rule>; r.kind -> <kind>
            inner = part[len("coalesce("):].split(",")[0] if part.startswith("coalesce(") else part
            parts.append(f"<{inner.split('.')[-1].strip()}>")
    return "".join(parts)


def fingerprint(p: Projection, have: set[str]) -> str:
    """The projection's SQL, hashed: the gate tells views made by another version of a projection."""
    import hashlib
    return hashlib.sha256(p.select(have).encode()).hexdigest()[:16]


def vocabulary_rows(plan: GraphPlan) -> list[tuple]:
    """One row per (kind, projection): kind, element, source tables, meaning, provenance, endpoint kinds,
    whether the views hold it now, and the fingerprint of its SQL."""
    included = {id(p) for p in plan.included}
    rows = []
    for p in PROJECTIONS:
        for kind, what in p.kinds.items():
            rows.append((kind, p.element, ", ".join(p.tables), what, provenance_pattern(p),
                         list(p.src_kinds), list(p.dst_kinds), id(p) in included, fingerprint(p, plan.have)))
    return rows


VOCABULARY_COLUMNS = ("kind VARCHAR, element VARCHAR, source VARCHAR, description VARCHAR, provenance VARCHAR, "
                      "src_kinds VARCHAR[], dst_kinds VARCHAR[], in_graph BOOLEAN, projection_sha VARCHAR")


def create_graph(conn, temp: bool = False, materialize: bool = False) -> dict:
    """Write ``cpg_vocabulary`` and (re)create the ``cpg_nodes`` / ``cpg_edges`` views, in one transaction.

    ``temp``: as temporary objects of this connection (a read-only connection over a database whose
    graph was never created: ``codeintel export`` / ``check``). ``materialize``: tables instead of
    views (only for the measurements in docs/graph.md). Returns the figures for the asset's metadata.
    """
    import pyarrow as pa

    from resources.duck import run, transaction
    have = existing_tables(conn) - {NODES_VIEW, EDGES_VIEW, VOCABULARY}
    plan = plan_graph(have)
    rows = vocabulary_rows(plan)
    vocab = pa.table({name: pa.array([r[i] for r in rows], typ) for i, (name, typ) in enumerate([
        ("kind", pa.string()), ("element", pa.string()), ("source", pa.string()), ("description", pa.string()),
        ("provenance", pa.string()), ("src_kinds", pa.list_(pa.string())), ("dst_kinds", pa.list_(pa.string())),
        ("in_graph", pa.bool_()), ("projection_sha", pa.string())])})
    scope = "TEMP " if temp else ""
    relation = "TABLE" if materialize else "VIEW"
    conn.register("__cpg_vocabulary", vocab)
    try:
        with transaction(conn):
            for name in (NODES_VIEW, EDGES_VIEW):  # a table (a measurement) and a view cannot replace each other
                kind = _relation_kind(conn, name, temp)
                if kind and kind != relation:
                    run(conn, f"DROP {kind} {name}")
            run(conn, f"CREATE OR REPLACE {scope}TABLE {VOCABULARY} ({VOCABULARY_COLUMNS})")
            run(conn, f"INSERT INTO {VOCABULARY} SELECT * FROM __cpg_vocabulary")
            run(conn, f"CREATE OR REPLACE {scope}{relation} {NODES_VIEW} AS {view_sql(plan, 'node')}")
            run(conn, f"CREATE OR REPLACE {scope}{relation} {EDGES_VIEW} AS {view_sql(plan, 'edge')}")
    finally:
        conn.unregister("__cpg_vocabulary")
    return graph_figures(plan, relation.lower())


def graph_figures(plan: GraphPlan, relation: str = "view") -> dict:
    return {"projections": len(plan.included), "projections_left_out": len(plan.left_out),
            "left_out": dict(plan.left_out),
            "node_kinds": sorted({k for p in plan.included if p.element == "node" for k in p.kinds}),
            "edge_kinds": sorted({k for p in plan.included if p.element == "edge" for k in p.kinds}),
            "relation": relation}


def _relation_kind(conn, name: str, temp: bool) -> str | None:
    catalog = "'temp'" if temp else "current_database()"
    rows = conn.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' "
                        f"AND table_name = ? AND table_catalog = {catalog}", [name]).fetchall()
    if not rows:
        return None
    return "VIEW" if rows[0][0] == "VIEW" else "TABLE"


def graph_exists(conn) -> bool:
    """The database holds the graph (the cpg_graph step has run on it)."""
    return {NODES_VIEW, EDGES_VIEW, VOCABULARY} <= existing_tables(conn)


def graph_current(conn) -> bool:
    """The stored views hold exactly the projections this version writes for the tables that exist (False:
    ``cpg_graph`` should run again: an upgrade, or a table that appeared since)."""
    have = existing_tables(conn)
    if not {NODES_VIEW, EDGES_VIEW, VOCABULARY} <= have:
        return False
    plan = plan_graph(have - {NODES_VIEW, EDGES_VIEW, VOCABULARY})
    columns = {r[0] for r in conn.execute(f"DESCRIBE {VOCABULARY}").fetchall()}
    if "projection_sha" not in columns:
        return False
    stored = {(k, src, h) for k, src, h in conn.execute(
        f"SELECT kind, source, projection_sha FROM {VOCABULARY} WHERE in_graph").fetchall()}
    want = {(k, ", ".join(p.tables), fingerprint(p, plan.have)) for p in plan.included for k in p.kinds}
    return stored == want


def ensure_graph(conn) -> bool:
    """Make ``cpg_nodes`` / ``cpg_edges`` queryable on this (read-only) connection: the stored views, or
    temporary ones built from the tables the database has. True when the stored ones are used."""
    if graph_exists(conn):
        return True
    create_graph(conn, temp=True)
    return False
