"""Named queries for `codeintel query --preset NAME [--arg VALUE]` (read-only SQL over the tables)."""

PRESETS: dict[str, tuple[str, str]] = {
    "failed-files": ("every file a plane could not read, decode, parse, compile or extract, and why", None),
    "largest-code-units": ("the 20 code units with the most instructions", """
        SELECT path, qualpath, kind, instruction_count, stacksize FROM py_bc_code_units
        ORDER BY instruction_count DESC, path, qualpath LIMIT 20"""),
    "name-sites": ("where a name (--arg NAME) is defined and used, with its binding and resolution", """
        SELECT n.path, n.span_start_byte, n.role, n.site_kind, b.binding_kind, b.scope_id, r.kind AS resolves_as,
               r.dst_binding_id AS resolves_to
        FROM py_sym_name_sites n LEFT JOIN py_sym_bindings b USING (binding_id)
        LEFT JOIN py_sym_resolution_edges r ON r.src_binding_id = n.binding_id
        WHERE n.name = $arg ORDER BY n.path, n.span_start_byte"""),
    "cfg": ("the CFG of a code unit (--arg QUALPATH or MODULE::QUALPATH) as rows: block, kind, terminator, edge, target", """
        SELECT b.path, b.block_index AS block, b.kind, b.terminator, e.kind AS edge, d.block_index AS to_block,
               e.polarity_rule
        FROM py_bc_blocks b JOIN py_bc_code_units u USING (code_unit_id)
        LEFT JOIN py_bc_cfg_edges e ON e.src_block_id = b.block_id
        LEFT JOIN py_bc_blocks d ON d.block_id = e.dst_block_id
        WHERE u.qualpath = $arg OR u.module_name || '::' || u.qualpath = $arg ORDER BY b.path, block, to_block"""),
}


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
    return failed_files_sql() if name == "failed-files" else PRESETS[name][1]


def cfg_dot(conn, qualpath: str) -> str:
    """The CFG of the code unit(s) named ``qualpath`` as Graphviz DOT (exception edges dashed)."""
    blocks = conn.execute(
        "SELECT b.block_id, b.block_index, b.kind, b.start_offset, b.terminator, b.is_dead FROM py_bc_blocks b "
        "JOIN py_bc_code_units u USING (code_unit_id) WHERE u.qualpath = ? OR u.module_name || '::' || u.qualpath = ? "
        "ORDER BY b.path, b.block_index", [qualpath, qualpath]).fetchall()
    edges = conn.execute(
        "SELECT e.src_block_id, e.dst_block_id, e.kind FROM py_bc_cfg_edges e JOIN py_bc_code_units u "
        "USING (code_unit_id) WHERE u.qualpath = ? OR u.module_name || '::' || u.qualpath = ? ORDER BY e.edge_id",
        [qualpath, qualpath]).fetchall()
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
    from resources.store import table_exists
    out: dict[str, set[str]] = {}
    if table_exists(conn, "cpg_definitions"):
        for (q,) in conn.execute("SELECT DISTINCT qualname FROM cpg_definitions WHERE kind IN "
                                 "('module', 'class', 'function', 'method', 'lambda')").fetchall():
            out.setdefault(q, set())
    if table_exists(conn, "cpg_calls"):
        for caller, callee in conn.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls").fetchall():
            out.setdefault(caller, set()).add(callee)
    return {k: sorted(v) for k, v in sorted(out.items())}
