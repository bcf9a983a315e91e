"""Named queries for `codeintel query --preset NAME [--arg VALUE]` (read-only SQL over the tables)."""

PRESETS: dict[str, tuple[str, str]] = {
    "failed-files": ("every file that could not be read, decoded, parsed or compiled, and why", """
        SELECT path, error_stage AS stage, error_type, error_msg, error_lineno AS line FROM py_files WHERE NOT ok
        UNION ALL
        SELECT m.path, 'compile', m.error_type, m.error_msg, m.error_lineno FROM codeintel_run_meta m
        JOIN py_files f USING (path) WHERE f.ok AND NOT m.compile_ok
        ORDER BY path"""),
    "largest-code-units": ("the 20 code units with the most instructions", """
        SELECT path, qualpath, kind, instruction_count, stacksize FROM py_bc_code_units
        ORDER BY instruction_count DESC, path, qualpath LIMIT 20"""),
    "name-sites": ("where a name (--arg NAME) is defined and used, with its binding and resolution", """
        SELECT n.path, n.span_start_byte, n.role, n.site_kind, b.binding_kind, b.scope_id, r.kind AS resolves_as,
               r.dst_binding_id AS resolves_to
        FROM py_sym_name_sites n LEFT JOIN py_sym_bindings b USING (binding_id)
        LEFT JOIN py_sym_resolution_edges r ON r.src_binding_id = n.binding_id
        WHERE n.name = $arg ORDER BY n.path, n.span_start_byte"""),
    "cfg": ("the CFG of a code unit (--arg QUALPATH) as rows: block, kind, terminator, edge, target", """
        SELECT b.path, b.block_index AS block, b.kind, b.terminator, e.kind AS edge, d.block_index AS to_block,
               e.polarity_rule
        FROM py_bc_blocks b JOIN py_bc_code_units u USING (code_unit_id)
        LEFT JOIN py_bc_cfg_edges e ON e.src_block_id = b.block_id
        LEFT JOIN py_bc_blocks d ON d.block_id = e.dst_block_id
        WHERE u.qualpath = $arg ORDER BY b.path, block, to_block"""),
}


def cfg_dot(conn, qualpath: str) -> str:
    """The CFG of the code unit(s) named ``qualpath`` as Graphviz DOT (exception edges dashed)."""
    blocks = conn.execute(
        "SELECT b.block_id, b.block_index, b.kind, b.start_offset, b.terminator, b.is_dead FROM py_bc_blocks b "
        "JOIN py_bc_code_units u USING (code_unit_id) WHERE u.qualpath = ? ORDER BY b.path, b.block_index",
        [qualpath]).fetchall()
    edges = conn.execute(
        "SELECT e.src_block_id, e.dst_block_id, e.kind FROM py_bc_cfg_edges e JOIN py_bc_code_units u "
        "USING (code_unit_id) WHERE u.qualpath = ? ORDER BY e.edge_id", [qualpath]).fetchall()
    out = [f'digraph "{qualpath}" {{', "  node [shape=box, fontname=monospace];"]
    for bid, idx, kind, start, term, dead in blocks:
        style = ', style=dotted' if dead else ''
        out.append(f'  "{bid}" [label="B{idx} {kind}\\n@{start} {term}"{style}];')
    for src, dst, kind in edges:
        style = ', style=dashed' if kind == "exc" else ''
        out.append(f'  "{src}" -> "{dst}" [label="{kind}"{style}];')
    out.append("}")
    return "\n".join(out)
