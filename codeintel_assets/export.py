"""``codeintel export``: the code property graph, or a subgraph of it, as Parquet or GraphML.

- ``parquet``: a directory with ``nodes.parquet`` and ``edges.parquet`` (the columns of ``cpg_nodes`` /
  ``cpg_edges``; ``props`` is a JSON string), written by DuckDB's ``COPY``;
- ``graphml``: one GraphML file (``<key>``s for kind, subkind, label, path, span, props on nodes and
  kind, path, confidence, provenance, props on edges), streamed: DuckDB builds each escaped XML line,
  Python writes them in batches. It opens in networkx (``read_graphml``), Gephi, yEd and Cytoscape.

A subgraph is selected by file (``--path``: the nodes of those files, or of every file under a
directory given with a trailing ``/``) and / or by definition (``--symbol``: a qualified name or
SCIP symbol: the definition, every definition inside it, the call sites inside them and the call
sites that call them); the export holds those nodes, every edge touching one of them, and the other
endpoint of each such edge, so that every edge's endpoints are in the file.

Read-only: a database whose graph views were never created (indexed before ``cpg_graph`` existed) is
exported through temporary views built from its tables.
"""

from pathlib import Path

FORMATS = ("parquet", "graphml")
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
NODE_KEYS = (("kind", "string"), ("subkind", "string"), ("label", "string"), ("path", "string"),
             ("span_start_byte", "long"), ("span_end_byte", "long"), ("props", "string"))
EDGE_KEYS = (("kind", "string"), ("path", "string"), ("confidence", "double"), ("provenance", "string"),
             ("props", "string"))
BATCH_ROWS = 50_000


class ExportError(Exception):
    """One line for the user, naming the problem (exit 2)."""


def check_output(fmt: str, out: str) -> Path:
    """The output location, created / probed before any work: one clear line when it cannot be written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown --format {fmt!r} (one of: {', '.join(FORMATS)})")
    target = Path(out)
    if fmt == "parquet":
        if target.exists() and not target.is_dir():
            raise ExportError(f"--out {target} is a file; the parquet export writes a directory "
                              f"(nodes.parquet, edges.parquet)")
        try:
            target.mkdir(parents=True, exist_ok=True)
            probe = target / ".codeintel-export-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ExportError(f"cannot write the output directory {target}: {exc.strerror or exc}") from exc
        return target
    if target.is_dir():
        raise ExportError(f"--out {target} is a directory; the graphml export writes one file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        with open(target, "ab"):
            pass
        if not existed:
            target.unlink()
    except OSError as exc:
        raise ExportError(f"cannot write the output file {target}: {exc.strerror or exc}") from exc
    return target


def _seed_sql(conn, paths: list[str], symbols: list[str]) -> str:
    """The selected nodes' ids (registered tables __export_paths / __export_symbols)."""
    import pyarrow as pa

    from codeintel_assets.graph import NODES_VIEW
    from resources.duck import table_exists
    parts = []
    if paths:
        conn.register("__export_paths", pa.table({"p": pa.array(paths, pa.string())}))
        files = "py_files" if table_exists(conn, "py_files") else f"(SELECT DISTINCT path FROM {NODES_VIEW})"
        missing = [p for (p,) in conn.execute(
            f"SELECT p FROM __export_paths ANTI JOIN {files} n "
            "ON n.path = p OR (ends_with(p, '/') AND starts_with(n.path, p)) ORDER BY p").fetchall()]
        if missing:
            raise ExportError(f"no file {missing[0]!r} in the database (--path takes a repository-relative path, or a "
                              f"directory ending in /)")
        parts.append(f"SELECT node_id FROM {NODES_VIEW} n SEMI JOIN __export_paths x ON n.path = x.p "
                     "OR (ends_with(x.p, '/') AND starts_with(n.path, x.p))")
    if symbols:
        if not table_exists(conn, "cpg_definitions"):
            raise ExportError("the database has no definitions (cpg_definitions): --symbol needs an index")
        from codeintel_assets.presets import follow_reexports
        # a public name a package re-exports (click.echo) stands for the definition it re-exports
        symbols = [s if conn.execute("SELECT count(*) FROM cpg_definitions WHERE qualname = $s OR symbol = $s",
                                     {"s": s}).fetchall()[0][0] else (follow_reexports(conn, s) or s) for s in symbols]
        conn.register("__export_symbols", pa.table({"s": pa.array(symbols, pa.string())}))
        missing = [s for (s,) in conn.execute(
            "SELECT s FROM __export_symbols ANTI JOIN cpg_definitions d ON d.qualname = s OR d.symbol = s "
            "ORDER BY s").fetchall()]
        if missing:
            raise ExportError(f"no definition with the qualified name or symbol {missing[0]!r}")
        calls = ("UNION SELECT callsite_id FROM cpg_calls WHERE callee_def_id IN (SELECT def_id FROM defs)"
                 if table_exists(conn, "cpg_calls") else "")
        parts.append(
            "SELECT node_id FROM (WITH RECURSIVE defs(def_id) AS ("
            "SELECT d.def_id FROM cpg_definitions d SEMI JOIN __export_symbols x ON d.qualname = x.s OR d.symbol = x.s "
            "UNION SELECT c.def_id FROM cpg_definitions c JOIN defs p ON c.parent_def_id = p.def_id) "
            "SELECT def_id AS node_id FROM defs "
            "UNION SELECT callsite_id FROM cpg_call_sites WHERE caller_def_id IN (SELECT def_id FROM defs) "
            f"{calls})")
    return " UNION ".join(parts)


def _select(conn, paths: list[str], symbols: list[str]) -> tuple[str, str]:
    """SQL for the nodes and the edges to export (temporary tables for a subgraph)."""
    from codeintel_assets.graph import EDGES_VIEW, NODES_VIEW
    if not paths and not symbols:  # sorted by id: the same database exports the same bytes
        return f"SELECT * FROM {NODES_VIEW} ORDER BY node_id", f"SELECT * FROM {EDGES_VIEW} ORDER BY edge_id"
    seed = _seed_sql(conn, paths, symbols)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE __export_seed AS {seed}").fetchall()
    conn.execute(f"CREATE OR REPLACE TEMP TABLE __export_edges AS SELECT * FROM {EDGES_VIEW} "
                 "WHERE src_node_id IN (SELECT node_id FROM __export_seed) "
                 "OR dst_node_id IN (SELECT node_id FROM __export_seed)").fetchall()
    conn.execute(f"CREATE OR REPLACE TEMP TABLE __export_nodes AS SELECT * FROM {NODES_VIEW} WHERE node_id IN ("
                 "SELECT node_id FROM __export_seed UNION SELECT src_node_id FROM __export_edges "
                 "UNION SELECT dst_node_id FROM __export_edges)").fetchall()
    return ("SELECT * FROM __export_nodes ORDER BY node_id", "SELECT * FROM __export_edges ORDER BY edge_id")


def _cleanup(conn) -> None:
    for t in ("__export_seed", "__export_edges", "__export_nodes"):
        conn.execute(f"DROP TABLE IF EXISTS {t}").fetchall()
    for v in ("__export_paths", "__export_symbols"):
        try:
            conn.unregister(v)
        except Exception:  # noqa: BLE001 - not registered: nothing to drop
            pass


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# XML 1.0 forbids these characters even escaped (source text and reprs can hold them): dropped.
_INVALID_XML = r"'[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]'"


def _xml_text(expr: str) -> str:
    """SQL: ``expr`` escaped for XML character data (carriage returns kept as a reference)."""
    s = f"regexp_replace(CAST({expr} AS VARCHAR), {_INVALID_XML}, '', 'g')"
    for raw, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        s = f"replace({s}, '{raw}', '{ref}')"
    return s


def _xml_attr(expr: str) -> str:
    s = _xml_text(expr)
    for raw, ref in (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;")):
        s = f"replace({s}, '{raw}', '{ref}')"
    return s


def _data(prefix: str, name: str) -> str:
    return (f"CASE WHEN {name} IS NULL THEN '' ELSE '<data key=\"{prefix}_{name}\">' || {_xml_text(name)} "
            f"|| '</data>' END")


def _graphml_lines(element: str, sql: str) -> str:
    if element == "node":
        head = "'<node id=\"' || " + _xml_attr("node_id") + " || '\">'"
        body = " || ".join(_data("n", k) for k, _ in NODE_KEYS)
        return f"SELECT {head} || {body} || '</node>' FROM ({sql})"
    head = ("'<edge id=\"' || " + _xml_attr("edge_id") + " || '\" source=\"' || " + _xml_attr("src_node_id")
            + " || '\" target=\"' || " + _xml_attr("dst_node_id") + " || '\">'")
    body = " || ".join(_data("e", k) for k, _ in EDGE_KEYS)
    return f"SELECT {head} || {body} || '</edge>' FROM ({sql})"


def _write_graphml(conn, target: Path, nodes_sql: str, edges_sql: str) -> tuple[int, int]:
    counts = []
    with open(target, "w", encoding="utf-8", newline="\n") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<graphml xmlns="{GRAPHML_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                f'xsi:schemaLocation="{GRAPHML_NS} {GRAPHML_NS}/1.0/graphml.xsd">\n')
        for prefix, scope, keys in (("n", "node", NODE_KEYS), ("e", "edge", EDGE_KEYS)):
            for name, typ in keys:
                f.write(f'<key id="{prefix}_{name}" for="{scope}" attr.name="{name}" attr.type="{typ}"/>\n')
        f.write('<graph id="cpg" edgedefault="directed">\n')
        for element, sql in (("node", nodes_sql), ("edge", edges_sql)):
            n = 0
            reader = conn.sql(_graphml_lines(element, sql)).to_arrow_reader(BATCH_ROWS)
            for batch in reader:
                lines = batch.column(0).to_pylist()
                n += len(lines)
                if lines:
                    f.write("\n".join(lines))
                    f.write("\n")
            counts.append(n)
        f.write("</graph>\n</graphml>\n")
    return counts[0], counts[1]


def export_graph(conn, fmt: str, out: str, paths: list[str] | None = None, symbols: list[str] | None = None) -> dict:
    """Write the graph (or the selected subgraph) to ``out``; figures: format, out, nodes, edges."""
    from codeintel_assets.graph import ensure_graph
    target = check_output(fmt, out)
    conn.execute("SET enable_progress_bar = false").fetchall()  # the command prints its own one line
    stored = ensure_graph(conn)
    paths, symbols = list(paths or []), list(symbols or [])
    try:
        nodes_sql, edges_sql = _select(conn, paths, symbols)
        if fmt == "parquet":
            # props as a plain string column: the JSON extension type is not one every Parquet reader knows
            nodes, edges = (conn.execute(
                f"COPY (SELECT * REPLACE (CAST(props AS VARCHAR) AS props) FROM ({sql})) TO {_lit(target / name)} "
                "(FORMAT parquet)").fetchall()[0][0] for sql, name in ((nodes_sql, "nodes.parquet"),
                                                                       (edges_sql, "edges.parquet")))
        else:
            nodes, edges = _write_graphml(conn, target, nodes_sql, edges_sql)
    finally:
        _cleanup(conn)
    return {"format": fmt, "out": str(target), "nodes": int(nodes), "edges": int(edges), "stored_graph": stored,
            "selection": {"paths": paths, "symbols": symbols} if paths or symbols else "whole graph"}
