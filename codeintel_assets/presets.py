"""Named queries for `codeintel query --preset NAME [--arg VALUE]` (read-only SQL over the tables)."""

# A code unit named by its qualname as the call graph spells it (pkg.mod.Class.meth; the module itself for its
# module-level code), by MODULE::QUALPATH, or by the bare qualpath (Class.meth; several files may have one).
CODE_UNIT_NAMED = ("(u.qualpath = $arg OR u.module_name || '::' || u.qualpath = $arg OR u.module_name || '.' || "
                   "u.qualpath = $arg OR (u.kind = 'module' AND u.module_name = $arg))")

PRESETS: dict[str, tuple[str, str]] = {
    "failed-files": ("every file a plane could not read, decode, parse, compile or extract, and why", None),
    "broken-imports": ("imports of a module under the repository's own top-level packages that no file of the "
                       "repository provides (deleted, renamed, optional; or installed at runtime under that name, "
                       "as os does os.path): path, line, the module as written and made absolute", """
        WITH mods AS (SELECT DISTINCT module_name AS m FROM py_files WHERE module_name IS NOT NULL AND module_name <> ''),
        steps AS (SELECT string_split(m, '.') AS parts, unnest(range(1, len(string_split(m, '.')) + 1)) AS n FROM mods),
        known AS (SELECT DISTINCT array_to_string(list_slice(parts, 1, n), '.') AS name FROM steps)
        SELECT i.path, i.lineno, i.scope_qualname, i.written_module, i.imported_module, i.imported_name
        FROM cpg_imports i
        WHERE string_split(i.imported_module, '.')[1] IN (SELECT DISTINCT string_split(m, '.')[1] FROM mods)
          AND i.imported_module NOT IN (SELECT name FROM known)
        ORDER BY i.path, i.lineno, i.imported_module"""),
    "largest-code-units": ("the 20 code units with the most instructions", """
        SELECT path, qualpath, kind, instruction_count, stacksize FROM py_bc_code_units
        ORDER BY instruction_count DESC, path, qualpath LIMIT 20"""),
    "name-sites": ("where a name (--arg NAME) is defined and used, with its binding and resolution", """
        SELECT n.path, n.span_start_byte, n.role, n.site_kind, b.binding_kind, b.scope_id, r.kind AS resolves_as,
               r.dst_binding_id AS resolves_to
        FROM py_sym_name_sites n LEFT JOIN py_sym_bindings b USING (binding_id)
        LEFT JOIN py_sym_resolution_edges r ON r.src_binding_id = n.binding_id
        WHERE n.name = $arg ORDER BY n.path, n.span_start_byte"""),
    "cfg": ("the CFG of a code unit (--arg QUALNAME, MODULE::QUALPATH or QUALPATH) as rows: block, kind, terminator, "
            "edge, target", f"""
        SELECT b.path, b.block_index AS block, b.kind, b.terminator, e.kind AS edge, d.block_index AS to_block,
               e.polarity_rule
        FROM py_bc_blocks b JOIN py_bc_code_units u USING (code_unit_id)
        LEFT JOIN py_bc_cfg_edges e ON e.src_block_id = b.block_id
        LEFT JOIN py_bc_blocks d ON d.block_id = e.dst_block_id
        WHERE {CODE_UNIT_NAMED} ORDER BY b.path, block, to_block"""),
    "callers": ("who calls a function, method or class (--arg QUALNAME or SYMBOL), transitively up to --depth",
                None),
    "callees": ("what a function, method or module (--arg QUALNAME or SYMBOL) calls, transitively up to --depth",
                None),
    "calls-into": ("every call of a function (--arg QUALNAME): its arguments, the parameters they bind and the "
                   "definitions that reach them", """
        SELECT c.path, c.lineno, c.caller_qualname AS caller, c.rule, round(c.confidence, 2) AS confidence,
               b.param_name AS parameter, CASE WHEN b.implicit_receiver THEN '<receiver>' ELSE a.text END AS argument,
               list(DISTINCT r.def_kind || coalesce(' line ' || d.line_number, '') ORDER BY
                    r.def_kind || coalesce(' line ' || d.line_number, '')) FILTER (WHERE r.def_kind IS NOT NULL)
                 AS reaching_definitions
        FROM cpg_calls c
        LEFT JOIN cpg_binds_arg b ON b.callsite_id = c.callsite_id AND b.callee_def_id = c.callee_def_id
        LEFT JOIN cpg_call_args a ON a.arg_id = b.arg_id
        LEFT JOIN cpg_arg_reaches r ON r.callsite_id = b.callsite_id AND r.arg_id = b.arg_id
         AND r.param_binding_id = b.param_binding_id AND r.callee_def_id = b.callee_def_id
        LEFT JOIN py_bc_instructions d ON d.instr_id = r.def_instr_id
        WHERE c.callee_qualname IN ($arg, $arg || '.__init__')
        GROUP BY ALL ORDER BY c.path, c.lineno, parameter"""),
    "call-path": ("the call sites on a line (--arg PATH:LINE), the definitions they reach and how (the names looked "
                  "up, through re-exports and the MRO)", """
        SELECT s.callee_text, s.call_kind, c.rule, round(c.confidence, 2) AS confidence, c.via AS resolution_path,
               c.callee_qualname, d.path AS definition_path, d.lineno AS definition_line, d.symbol
        FROM cpg_call_sites s LEFT JOIN cpg_calls c USING (callsite_id)
        LEFT JOIN cpg_definitions d ON d.def_id = c.callee_def_id
        WHERE s.path = regexp_extract($arg, '^(.*):([0-9]+)$', 1)
          AND s.lineno = TRY_CAST(regexp_extract($arg, '^(.*):([0-9]+)$', 2) AS INTEGER)
        ORDER BY s.span_start_byte, c.callee_qualname"""),
    "binding": ("the definition sites and uses of a binding (--arg QUALNAME of a definition, e.g. pkg.mod.f.x, "
                "or a binding_id)", """
        SELECT n.path, a.lineno, a.col_offset, n.role, n.site_kind, n.name, n.scope_id, n.binding_id
        FROM py_sym_name_sites n JOIN py_ast_nodes a ON a.ast_node_id = n.ast_node_id AND a.path = n.path
        WHERE n.binding_id IN (SELECT binding_id FROM cpg_definitions WHERE qualname = $arg OR symbol = $arg
                               UNION SELECT $arg)
        ORDER BY n.path, n.span_start_byte"""),
    "reaching": ("the definitions reaching a use (--arg PATH:LINE:NAME): kind, line, instruction", """
        SELECT u.path, u.line_number AS use_line, r.name, r.space, r.def_kind, d.line_number AS def_line,
               d.opname AS def_instruction, r.binding_id
        FROM py_reaching_defs r JOIN py_bc_instructions u ON u.instr_id = r.use_instr_id AND u.path = r.path
        LEFT JOIN py_bc_instructions d ON d.instr_id = r.def_instr_id AND d.path = r.path
        WHERE r.path = regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 1)
          AND u.line_number = TRY_CAST(regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 2) AS INTEGER)
          AND r.name = regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 3)
        ORDER BY use_line, r.def_kind, def_line"""),
}


def _transitive_calls_sql(up: bool) -> str:
    """callers (``up``: follow edges into the argument) or callees (out of it), to ``$depth`` hops."""
    near, far = ("callee", "caller") if up else ("caller", "callee")
    start = ("c.callee_qualname IN ($arg, $arg || '.__init__')" if up else "c.caller_qualname = $arg")
    return f"""
        WITH RECURSIVE t AS (
            SELECT 1 AS depth, c.*, [c.{near}_qualname, c.{far}_qualname] AS seen FROM cpg_calls c
            WHERE {start} OR c.{near}_def_id IN (SELECT def_id FROM cpg_definitions WHERE symbol = $arg)
            UNION ALL
            SELECT t.depth + 1, c.*, list_append(t.seen, c.{far}_qualname) FROM t
            JOIN cpg_calls c ON c.{near}_qualname = t.{far}_qualname
            WHERE t.depth < $depth AND NOT list_contains(t.seen, c.{far}_qualname))
        SELECT min(depth) AS depth, caller_qualname AS caller, callee_qualname AS callee, path, lineno, rule,
               round(max(confidence), 2) AS confidence
        FROM t GROUP BY ALL ORDER BY depth, caller, path, lineno"""


def failed_files_sql() -> str:
    """Every file plane's own failures, from its status table (derived from the plane registry)."""
    from codeintel_assets.planes import file_planes
    from codeintel_assets.validate.status_gates import DERIVED_STAGES
    parts = []
    for p in file_planes():
        line = "error_lineno" if "error_lineno" in p.contract(p.status).schema.names else "NULL::INTEGER"
        parts.append(f"SELECT path, '{p.name}' AS plane, error_stage AS stage, error_type, error_msg, {line} AS line "
                     f"FROM \"{p.status}\" WHERE NOT ok AND error_stage NOT IN {tuple(DERIVED_STAGES)!r}")
    return "\nUNION ALL\n".join(parts) + "\nORDER BY path, plane"


def preset_sql(name: str) -> str:
    if name in ("callers", "callees"):
        return _transitive_calls_sql(name == "callers")
    return failed_files_sql() if name == "failed-files" else PRESETS[name][1]


def cfg_dot(conn, qualpath: str) -> str | None:
    """The CFG of the code unit(s) named ``qualpath`` (``CODE_UNIT_NAMED``) as Graphviz DOT (exception edges
    dashed); None when no code unit has that name."""
    blocks = conn.execute(
        "SELECT b.block_id, b.block_index, b.kind, b.start_offset, b.terminator, b.is_dead FROM py_bc_blocks b "
        f"JOIN py_bc_code_units u USING (code_unit_id) WHERE {CODE_UNIT_NAMED} ORDER BY b.path, b.block_index",
        {"arg": qualpath}).fetchall()
    if not blocks:
        return None
    edges = conn.execute(
        "SELECT e.src_block_id, e.dst_block_id, e.kind FROM py_bc_cfg_edges e JOIN py_bc_code_units u "
        f"USING (code_unit_id) WHERE {CODE_UNIT_NAMED} ORDER BY e.edge_id", {"arg": qualpath}).fetchall()
    out = [f'digraph "{qualpath}" {{', "  node [shape=box, fontname=monospace];"]
    for bid, idx, kind, start, term, dead in blocks:
        style = ', style=dotted' if dead else ''
        out.append(f'  "{bid}" [label="B{idx} {kind}\\n@{start} {term}"{style}];')
    for src, dst, kind in edges:
        style = ', style=dashed' if kind == "exc" else ''
        out.append(f'  "{src}" -> "{dst}" [label="{kind}"{style}];')
    out.append("}")
    return "\n".join(out)


def callgraph(conn) -> dict[str, list[str]]:
    """{caller: [callees]} over the whole repository: every module, class, function, method and lambda is a
    key (even with no callees); callees are qualified names (``<builtin>.len``, imported dotted names for
    code outside the repository), from the link step's ``cpg_calls``."""
    from resources.duck import table_exists
    out: dict[str, set[str]] = {}
    if table_exists(conn, "cpg_definitions"):
        for (q,) in conn.execute("SELECT DISTINCT qualname FROM cpg_definitions WHERE kind IN "
                                 "('module', 'class', 'function', 'method', 'lambda')").fetchall():
            out.setdefault(q, set())
    if table_exists(conn, "cpg_calls"):
        for caller, callee in conn.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls").fetchall():
            out.setdefault(caller, set()).add(callee)
    return {k: sorted(v) for k, v in sorted(out.items())}
