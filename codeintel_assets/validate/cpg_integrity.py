"""Gate cpg_integrity: the two-table graph is a graph, every kind is declared, and nothing fell out.

Over the whole database, on ``cpg_nodes`` / ``cpg_edges`` (``codeintel_assets.graph``):

- node ids are unique, edge ids are unique;
- every edge's endpoints exist as nodes, of the node kinds its kind declares (``src_kinds`` /
  ``dst_kinds`` in ``cpg_vocabulary``: every CALLS edge starts at a CALLSITE, every CFG edge joins two
  CFG_BLOCKs, ...);
- every node and edge kind is in ``cpg_vocabulary``;
- every fact row that should project did: per projection, the source rows that must become graph
  rows (``Projection.expect``) equal the rows of its kinds in the views, and no projection whose
  tables exist is missing from the stored views (they were created before its table was).

Findings name the path and the id (at most ``MAX_REPORTED_FINDINGS``).
"""

import time

from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult, result

NAME = "cpg_integrity"
TABLE = "cpg_edges"
DESCRIPTION = ("cpg_nodes / cpg_edges: unique node and edge ids, every edge endpoint an existing node of the kinds "
               "its edge kind declares (every CALLS edge starts at a CALLSITE), every kind in cpg_vocabulary, every "
               "fact row that should project into the graph did.")
REPOSITORY = "<repository>"  # the path of findings about repository-level nodes (symbols, external names)


def _groups(projections) -> list[tuple[list, set[str]]]:
    """Projections sharing a kind are judged together (REACHES: the dataflow plane's and the link's)."""
    groups: list[tuple[list, set[str]]] = []
    for p in projections:
        kinds = {f"{p.element}:{k}" for k in p.kinds}
        hit = [g for g in groups if g[1] & kinds]
        merged = ([p], set(kinds))
        for g in hit:
            merged[0].extend(g[0])
            merged[1].update(g[1])
            groups.remove(g)
        groups.append(merged)
    return groups


# Edge kinds whose ends can be in two files (the link step's, imports) or that another step than the file
# pass writes (the inspect plane's: an inspect run changes no file): always checked whole.
CROSS_FILE_TABLES = {"cpg_calls", "cpg_binds_arg", "cpg_arg_reaches", "cpg_inherits", "cpg_mro", "cpg_imports"}


def cross_file_edge_kinds() -> list[str]:
    from codeintel_assets.graph import PROJECTIONS
    return sorted({k for p in PROJECTIONS if p.element == "edge" and (
        set(p.tables) & CROSS_FILE_TABLES or any(t.startswith("py_inspect_") for t in p.tables)) for k in p.kinds})


def failed_paths(conn) -> set[str]:
    """Files with a status row that is not ok in any file plane."""
    from codeintel_assets.planes import file_planes
    from resources.store import table_exists
    out: set[str] = set()
    for p in file_planes():
        if table_exists(conn, p.status):
            out |= {r[0] for r in conn.execute(f'SELECT path FROM "{p.status}" WHERE NOT ok').fetchall()}
    return out


def cpg_integrity(conn, max_findings: int = MAX_REPORTED_FINDINGS, paths=None) -> GateResult:
    """The gate over the whole database (read-only: a database without stored views is judged on
    temporary ones built from its tables).

    ``paths``: the ids and endpoints are checked for the edges of these files and for every edge kind
    that crosses files (``cross_file_edge_kinds``), against the nodes those edges name and the nodes
    of these files: what an index run that changed only these files can have broken. The kinds and
    the per-projection row counts are always checked whole; None (``codeintel check``): everything."""
    from codeintel_assets.graph import (
        EDGES_VIEW, NODES_VIEW, PROJECTIONS, VOCABULARY, describe, ensure_graph, existing_tables, fingerprint,
        plan_graph,
    )
    t0 = time.perf_counter()
    conn.execute("SET enable_progress_bar = false").fetchall()  # its callers print the report
    stored = ensure_graph(conn)
    plan = plan_graph(existing_tables(conn) - {NODES_VIEW, EDGES_VIEW, VOCABULARY})
    findings: list[Finding] = []
    metrics: dict = {"stored_graph": stored}

    def add(path, where, message):
        if len(findings) < max_findings:
            findings.append(Finding(path or REPOSITORY, None, where, message))

    # 1. The stored views hold every projection whose tables exist, as this version writes it.
    columns = {r[0] for r in conn.execute(f"DESCRIBE {VOCABULARY}").fetchall()}
    sha = "projection_sha" if "projection_sha" in columns else "NULL"  # a vocabulary older than fingerprints
    in_graph = {(k, src): h for k, src, h in conn.execute(
        f"SELECT kind, source, {sha} FROM {VOCABULARY} WHERE in_graph").fetchall()}
    stale = []
    for p in plan.included:
        stored_sha = {in_graph.get((k, ", ".join(p.tables))) for k in p.kinds}
        if stored_sha != {fingerprint(p, plan.have)}:
            stale.append(p)
            why = ("were created without it" if stored_sha == {None} and not any(
                (k, ", ".join(p.tables)) in in_graph for k in p.kinds) else "were created by another version of its SQL")
            add(None, describe(p), f"its tables exist but the stored cpg_nodes / cpg_edges views {why}: "
                                   "materialise cpg_graph again (`codeintel index`, or the Dagster UI)")
    metrics["stale_projections"] = len(stale)

    # 2. Every kind in the views is declared, with its element.
    counts = {("node", k): n for k, n in conn.execute(f"SELECT kind, count(*) FROM {NODES_VIEW} GROUP BY ALL").fetchall()}
    counts.update({("edge", k): n for k, n in conn.execute(
        f"SELECT kind, count(*) FROM {EDGES_VIEW} GROUP BY ALL").fetchall()})
    declared = {(e, k) for k, e in conn.execute(f"SELECT DISTINCT kind, element FROM {VOCABULARY}").fetchall()}
    unknown = sorted(((e, k) for e, k in counts if (e, k) not in declared), key=lambda x: (x[0], str(x[1])))
    for element, kind in unknown:
        view, id_col = (NODES_VIEW, "node_id") if element == "node" else (EDGES_VIEW, "edge_id")
        where = "kind IS NULL" if kind is None else "kind = ?"
        path, some = conn.execute(f"SELECT path, {id_col} FROM {view} WHERE {where} LIMIT 1",
                                  None if kind is None else [kind]).fetchall()[0]
        add(path, some, f"{element} kind {kind!r} is not in {VOCABULARY} ({counts[(element, kind)]} rows)")
    metrics["unknown_kinds"] = len(unknown)
    metrics["nodes"] = sum(n for (e, _), n in counts.items() if e == "node")
    metrics["edges"] = sum(n for (e, _), n in counts.items() if e == "edge")

    # 3. Every fact row that should project did (per group of projections sharing kinds).
    missing = 0
    for group, kinds in _groups([p for p in plan.included if p not in stale]):
        want = sum(int(conn.execute(p.expect_sql(plan.have)).fetchall()[0][0]) for p in group)
        got = sum(n for (e, k), n in counts.items() if f"{e}:{k}" in kinds)
        if want != got:
            missing += abs(want - got)
            add(None, " + ".join(describe(p) for p in group),
                f"{want} source rows should project, the views hold {got} rows of {', '.join(sorted(kinds))}")
    metrics["rows_not_projected"] = missing

    # 4. Unique node ids; every edge endpoint a node of the kinds its edge kind declares. Anti joins
    # against one temporary index of the nodes: exact (strings compared, no hashes: DuckDB's string hash
    # collides on ids that differ in a digit), and about 3x cheaper than LEFT JOINs on the standard library.
    allowed: dict[str, tuple[set[str], set[str]]] = {}
    for p in PROJECTIONS:  # a kind with several projections allows the union of their endpoint kinds
        for k in (p.kinds if p.element == "edge" else ()):
            srcs, dsts = allowed.setdefault(k, (set(), set()))
            srcs.update(p.src_kinds)
            dsts.update(p.dst_kinds)
    import pyarrow as pa
    conn.register("__cpg_allowed", pa.table({
        "kind": pa.array(list(allowed), pa.string()),
        "src_kinds": pa.array([sorted(v[0]) for v in allowed.values()], pa.list_(pa.string())),
        "dst_kinds": pa.array([sorted(v[1]) for v in allowed.values()], pa.list_(pa.string()))}))
    # A file some plane could not extract is a failure row (files_ok reports it), not a finding: the facts
    # of its other planes may name ids the failed one never wrote, so its edges are not judged.
    failed = failed_paths(conn)
    metrics["files_skipped"] = len(failed)
    conn.register("__cpg_failed", pa.table({"path": pa.array(sorted(failed), pa.string())}))
    edges_view = f"(SELECT * FROM {EDGES_VIEW} WHERE path IS NULL OR path NOT IN (SELECT path FROM __cpg_failed))"
    if paths is None:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE __cpg_node_index AS SELECT node_id, kind, path FROM {NODES_VIEW}"
                     ).fetchall()
        metrics["checked"] = "whole database"
    else:
        conn.register("__cpg_scope", pa.table({"path": pa.array(sorted(paths), pa.string())}))
        conn.register("__cpg_cross", pa.table({"kind": pa.array(cross_file_edge_kinds(), pa.string())}))
        conn.execute(f"CREATE OR REPLACE TEMP TABLE __cpg_checked_edges AS SELECT * FROM {edges_view} "
                     "WHERE path IN (SELECT path FROM __cpg_scope) OR kind IN (SELECT kind FROM __cpg_cross)").fetchall()
        conn.execute(f"CREATE OR REPLACE TEMP TABLE __cpg_node_index AS SELECT node_id, kind, path FROM {NODES_VIEW} "
                     "WHERE path IN (SELECT path FROM __cpg_scope) OR node_id IN (SELECT src_node_id FROM "
                     "__cpg_checked_edges UNION SELECT dst_node_id FROM __cpg_checked_edges)").fetchall()
        conn.unregister("__cpg_scope")
        conn.unregister("__cpg_cross")
        edges_view = "__cpg_checked_edges"
        metrics["checked"] = f"{len(paths)} files + every cross-file edge"
    try:
        # count(*) - count(DISTINCT id), as a GROUP BY of the duplicates. Under a 1.5 GB memory limit the
        # standard library's 20 M edge ids still ran out of memory (spilling or not): the reader keeps
        # DuckDB's default limit, and the first, whole-database check peaks near 5 GB there.
        dupes = conn.execute("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM __cpg_node_index "
                             "GROUP BY node_id HAVING count(*) > 1)").fetchall()[0][0]
        metrics["duplicate_node_ids"] = int(dupes)
        if dupes:
            for path, node_id, copies, kinds in conn.execute(
                    "SELECT min(path), node_id, count(*), string_agg(DISTINCT kind, ', ') FROM __cpg_node_index "
                    "GROUP BY node_id HAVING count(*) > 1 ORDER BY 1, 2 LIMIT ?", [max_findings]).fetchall():
                add(path, node_id, f"node id used by {copies} nodes ({kinds})")
        bad: dict[str, int] = {}
        for end in ("src", "dst"):
            for kind, n in conn.execute(
                    f"SELECT e.kind, count(*) FROM {edges_view} e LEFT JOIN __cpg_allowed a ON a.kind = e.kind "
                    f"ANTI JOIN __cpg_node_index x ON x.node_id = e.{end}_node_id "
                    f"AND list_contains(a.{end}_kinds, x.kind) GROUP BY ALL").fetchall():
                bad[kind] = bad.get(kind, 0) + n
                if kind == "CALLS" and end == "src":
                    metrics["calls_not_from_callsite"] = n
        metrics.setdefault("calls_not_from_callsite", 0)
        dangling = wrong = 0
        for kind in sorted(k for k in bad if k is not None):
            srcs, dsts = allowed.get(kind, (set(), set()))
            rows = conn.execute(
                f"SELECT e.path, e.edge_id, e.src_node_id, s.kind, e.dst_node_id, d.kind FROM {edges_view} e "
                "LEFT JOIN __cpg_node_index s ON s.node_id = e.src_node_id "
                "LEFT JOIN __cpg_node_index d ON d.node_id = e.dst_node_id WHERE e.kind = ? AND (s.kind IS NULL "
                "OR d.kind IS NULL OR NOT list_contains(?, s.kind) OR NOT list_contains(?, d.kind)) "
                "ORDER BY e.path, e.edge_id", [kind, sorted(srcs), sorted(dsts)]).fetchall()
            for path, edge_id, src, sk, dst, dk in rows:
                if sk is None or dk is None:
                    dangling += 1
                    which = " and ".join(f"{end} {nid!r}" for end, nid, k in (("source", src, sk), ("target", dst, dk))
                                         if k is None)
                    add(path, edge_id, f"{kind} edge: no node with the id of its {which}")
                else:
                    wrong += 1
                    add(path, edge_id, f"{kind} edge from a {sk} node to a {dk} node (declared: "
                                       f"{'|'.join(sorted(srcs)) or 'nothing'} -> {'|'.join(sorted(dsts)) or 'nothing'})")
        metrics.update(dangling_endpoints=dangling, wrong_endpoint_kinds=wrong)
    finally:
        conn.execute("DROP TABLE IF EXISTS __cpg_node_index").fetchall()
        conn.unregister("__cpg_allowed")

    # 5. Unique edge ids.
    dupes = conn.execute(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {edges_view} "
                         "GROUP BY edge_id HAVING count(*) > 1)").fetchall()[0][0]
    metrics["duplicate_edge_ids"] = int(dupes)
    if dupes:
        for path, edge_id, copies in conn.execute(
                f"SELECT min(path), edge_id, count(*) FROM {edges_view} GROUP BY edge_id HAVING count(*) > 1 "
                "ORDER BY 1, 2 LIMIT ?", [max_findings]).fetchall():
            add(path, edge_id, f"edge id used by {copies} edges")
    conn.execute("DROP TABLE IF EXISTS __cpg_checked_edges").fetchall()
    conn.unregister("__cpg_failed")
    metrics["nodes_by_kind"] = {k: int(n) for (e, k), n in sorted(counts.items(), key=str) if e == "node"}
    metrics["edges_by_kind"] = {k: int(n) for (e, k), n in sorted(counts.items(), key=str) if e == "edge"}
    metrics["node_kinds"] = sum(1 for e, _ in counts if e == "node")
    metrics["edge_kinds"] = sum(1 for e, _ in counts if e == "edge")
    metrics["projections_left_out"] = len(plan.left_out)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    failed = (metrics["stale_projections"] or metrics["unknown_kinds"] or missing or metrics["duplicate_node_ids"]
              or metrics["duplicate_edge_ids"] or metrics["dangling_endpoints"] or metrics["wrong_endpoint_kinds"])
    return result(NAME, TABLE, findings, metrics, blocking=True, passed=not failed, description=DESCRIPTION)
