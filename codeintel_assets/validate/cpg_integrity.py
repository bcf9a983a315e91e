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

Findings name the path and the id (at most ``MAX_REPORTED_FINDINGS``). Memory is bounded: ids and
endpoints are judged per edge projection and per kind, DuckDB spilling past ``INTEGRITY_MEMORY_LIMIT``;
an index run judges only what it can have changed (``_EdgeScope``; docs/graph.md).
"""

import itertools
import os
import tempfile
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path

import duckdb

from codeintel_assets.graph import NODES_VIEW
from codeintel_assets.words import count
from resources.duck import table_exists
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


# The tables of projections whose edges can join two files (the link step's, imports): judged, in an index
# run, for the files the link step relinked (``_origin``).
CROSS_FILE_TABLES = {"cpg_calls", "cpg_binds_arg", "cpg_arg_reaches", "cpg_inherits", "cpg_mro", "cpg_imports"}


def cross_file_edge_kinds() -> list[str]:
    """The edge kinds with a projection that is not the file pass's (``_origin``)."""
    from codeintel_assets.graph import PROJECTIONS
    return sorted({k for p in PROJECTIONS if p.element == "edge" and _origin(p) != "file" for k in p.kinds})


def failed_paths(conn) -> set[str]:
    """Files with a status row that is not ok in any file plane."""
    from codeintel_assets.planes import file_planes
    from resources.duck import present_tables
    out: set[str] = set()
    have = present_tables(conn, [p.status for p in file_planes()])
    for p in file_planes():
        if p.status in have:
            out |= {r[0] for r in conn.execute(f'SELECT path FROM "{p.status}" WHERE NOT ok').fetchall()}
    return out


def cpg_integrity(conn, max_findings: int = MAX_REPORTED_FINDINGS, paths=None, linked=None,
                  counts_out: dict | None = None) -> GateResult:
    """The gate over the whole database (read-only: a database without stored views is judged on
    temporary ones built from its tables).

    ``paths``: the ids and endpoints are checked for the edges of these files and for every edge kind
    that crosses files (``cross_file_edge_kinds``), against the nodes those edges name and the nodes
    of these files: what an index run that changed only these files can have broken. ``linked``: the
    files whose link rows changed since the last passing check (``cpg_link_unchecked``): the cross-file
    edges judged are theirs (None: all of them). The kinds and the per-projection row counts: the file
    pass's projections for ``paths`` only when ``COUNTS`` holds the other files' counts (the cross-file and
    inspect projections, and rows of no file, always whole); ``paths`` None (``codeintel check``): everything.
    ``counts_out``: gets ``rows``, the rows per (path, element, kind) of the file pass's projections counted
    here, and ``whole`` (every file was counted), for the caller to store (``store_counts``)."""
    from codeintel_assets.graph import (
        EDGES_VIEW, VOCABULARY, describe, ensure_graph, existing_tables, fingerprint,
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

    # 2-3. Every fact row that should project did (per group of projections sharing kinds), and every kind
    # the graph holds is declared, with its element. In an index run with the counts of the last check
    # (``COUNTS``), the file pass's projections are counted for the changed files only.
    # The files counted: the changed ones, and the relinked ones (their link rows changed; ``linked`` None: the
    # link projections are counted whole)
    counted_paths = None if paths is None else set(paths) | set(linked or ())
    cached = (_cached_counts(conn, counted_paths) if counted_paths is not None
              and len(counted_paths) <= MAX_LITERAL_PATHS else None)
    fresh: dict = {}
    fresh_kinds: set = set()
    counts, missing, counted = _projected_rows(conn, _groups([p for p in plan.included if p not in stale]),
                                               plan.have, None if cached is None else counted_paths, cached, add,
                                               fresh, link_per_file=linked is not None, fresh_kinds=fresh_kinds)
    if counts_out is not None:
        counts_out.update(rows=fresh, whole=cached is None, paths=set(counted_paths or ()), kinds=fresh_kinds)
    metrics["counted"] = counted
    declared = {(e, k) for k, e in conn.execute(f"SELECT DISTINCT kind, element FROM {VOCABULARY}").fetchall()}
    unknown = sorted(((e, k) for e, k in counts if (e, k) not in declared), key=lambda x: (x[0], str(x[1])))
    for element, kind in unknown:
        view, id_col = (NODES_VIEW, "node_id") if element == "node" else (EDGES_VIEW, "edge_id")
        where = "kind IS NULL" if kind is None else "kind = ?"
        found = conn.execute(f"SELECT path, {id_col} FROM {view} WHERE {where} LIMIT 1",
                             None if kind is None else [kind]).fetchall()
        path, some = found[0] if found else (None, None)
        add(path, some, f"{element} kind {kind!r} is not in {VOCABULARY} ({counts[(element, kind)]} rows)")
    metrics["unknown_kinds"] = len(unknown)
    metrics["nodes"] = sum(n for (e, _), n in counts.items() if e == "node")
    metrics["edges"] = sum(n for (e, _), n in counts.items() if e == "edge")
    metrics["rows_not_projected"] = missing

    # 4-5. Unique ids and endpoints, judged per edge projection (its edges against the nodes of the kinds
    # it declares) and per kind: no join or grouping ever holds the whole graph, and DuckDB may spill
    # (``INTEGRITY_MEMORY_LIMIT``). Exact: strings compared, no hashes (DuckDB's string hash collides on ids
    # that differ in a digit).
    failed = failed_paths(conn)  # a file some plane could not extract is a failure row (files_ok), not a
    metrics["files_skipped"] = len(failed)  # finding: its other planes' facts may name ids it never wrote
    edge_parts = [p for p in plan.included if p.element == "edge" and p not in stale]
    with _bounded_memory(conn):
        scope = _EdgeScope(conn, edge_parts, plan.have, failed, paths, linked,
                           small=paths is None and metrics["edges"] <= SMALL_GRAPH_EDGES)
        try:
            metrics["checked"] = scope.checked
            _unique_node_ids(conn, scope, metrics, add, max_findings)
            _endpoints(conn, scope, edge_parts, metrics, add, max_findings)
            _unique_edge_ids(conn, scope, edge_parts, metrics, add, max_findings)
        finally:
            scope.close()
    metrics["nodes_by_kind"] = {k: int(n) for (e, k), n in sorted(counts.items(), key=str) if e == "node"}
    metrics["edges_by_kind"] = {k: int(n) for (e, k), n in sorted(counts.items(), key=str) if e == "edge"}
    metrics["node_kinds"] = sum(1 for e, _ in counts if e == "node")
    metrics["edge_kinds"] = sum(1 for e, _ in counts if e == "edge")
    metrics["projections_left_out"] = len(plan.left_out)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    failed = (metrics["stale_projections"] or metrics["unknown_kinds"] or missing or metrics["duplicate_node_ids"]
              or metrics["duplicate_edge_ids"] or metrics["edge_ids_without_kind"] or metrics["dangling_endpoints"]
              or metrics["wrong_endpoint_kinds"])
    return result(NAME, TABLE, findings, metrics, blocking=True, passed=not failed, description=DESCRIPTION)


COUNTS = "cpg_graph_counts"  # per file and kind: the rows the file pass's projections gave at the last check


def _literal(paths) -> str:
    from resources.duck import sql_list
    return sql_list(sorted(paths))


# What COUNTS holds per file, with the projections' fingerprint: since 2, the link projections' rows too.
COUNTS_LAYOUT = "2"


def _counts_sha(conn) -> str:
    """The fingerprint stored with the counts: the projections' (``graph_sha``) and what is counted per file."""
    from codeintel_assets.assets.graph import graph_sha
    return f"{graph_sha(conn)}/{COUNTS_LAYOUT}"


def _cached_counts(conn, paths) -> dict | None:
    """The stored rows per (element, kind) of the files not in ``paths``; None when there are none for this
    version of the projections and layout (the counts are then taken whole)."""
    if not table_exists(conn, COUNTS):
        return None
    if {r[0] for r in conn.execute(f"SELECT DISTINCT graph_sha FROM {COUNTS}").fetchall()} != {_counts_sha(conn)}:
        return None
    return {(e, k): int(n) for e, k, n in conn.execute(
        f"SELECT element, kind, sum(rows) FROM {COUNTS} WHERE path NOT IN ({_literal(paths)}) GROUP BY ALL").fetchall()}


@contextmanager
def _shadowed(conn, tables, paths):
    """While the block runs, the unqualified names of ``tables`` read only the rows of ``paths``: temporary
    views of the same names, which DuckDB binds before the database's own tables (the file pass's tables
    are clustered by file: the literal list prunes their row groups)."""
    db = conn.execute("SELECT current_database()").fetchall()[0][0].replace('"', '""')
    made = []
    try:
        for t in sorted(tables):
            conn.execute(f'CREATE OR REPLACE TEMP VIEW "{t}" AS SELECT * FROM "{db}".main."{t}" '
                         f"WHERE path IN ({_literal(paths)})").fetchall()
            made.append(t)
        yield
    finally:
        for t in made:
            conn.execute(f'DROP VIEW IF EXISTS temp.main."{t}"').fetchall()


def _projected_rows(conn, groups, have, paths, cached, add, fresh, link_per_file=False,
                    fresh_kinds: set | None = None) -> tuple[Counter, int, str]:
    """Per group of projections sharing kinds: the source rows that must project (``Projection.expect``)
    against the rows the projections give. Returns the graph's rows per (element, kind), the rows missing
    and what was counted.

    ``paths`` (with ``cached``, the other files' stored counts): the groups of the file pass's projections are
    counted over these files' rows only (``_shadowed``: their expectations and projections read the same
    files; each of their rows names its file); with ``link_per_file`` (``paths`` then holds the relinked files
    too) also the link step's projections that read one table by its ``path`` column (each row is its call
    site's or class's file, and only a relink changes a file's rows: cpg_link_unchecked); the other groups (a projection that joins
    another file's rows, imports and external names; projections of no file, symbols; the inspect step's),
    whole. ``fresh`` gets the rows per (path, element, kind) of the groups counted per file (a whole count: of
    every group that can be), ``fresh_kinds`` their (element, kind). Two statements per batch (every
    expectation; every projection's rows per file and kind), not two per group."""
    fresh_kinds = set() if fresh_kinds is None else fresh_kinds
    from codeintel_assets.graph import describe

    def of_files(p, link: bool) -> bool:  # rows of one file each, changed only when it is extracted (relinked)
        return _origin(p) == "file" or (link and _origin(p) == "link" and len(p.tables) == 1 and not p.optional
                                        and p.columns.get("path") == "path")

    def countable(group, link: bool) -> bool:  # (a projection whose rows name no file, symbols, is counted whole)
        return all(of_files(p, link) and p.columns.get("path") != "NULL" for p in group)

    def per_file(group) -> bool:
        return paths is not None and countable(group, link_per_file)

    def recorded(group) -> bool:  # the groups whose rows per file ``fresh`` gets: counted per file, or all
        return per_file(group) if paths is not None else countable(group, True)
    # the stored counts of the other files, for the kinds counted per file in this run
    per_file_kinds = {k for group, kinds in groups if per_file(group) for k in kinds}
    counts: Counter = Counter({k: n for k, n in (cached or {}).items() if f"{k[0]}:{k[1]}" in per_file_kinds})
    fresh_kinds.update(tuple(k.split(":", 1)) for group, kinds in groups if recorded(group) for k in kinds)
    missing = 0
    for batch in ([g for g in groups if per_file(g[0])], [g for g in groups if not per_file(g[0])]):
        if not batch:
            continue
        scoped = per_file(batch[0][0])
        tables = {t for group, _ in batch for p in group for t in (*p.tables, *p.optional) if t in have}
        with _shadowed(conn, tables, paths) if scoped else nullcontext():
            want = Counter()
            for i, n in conn.execute(" UNION ALL ".join(f"SELECT {i} AS g, ({p.expect_sql(have)}) AS n"
                                                        for i, (group, _) in enumerate(batch) for p in group)
                                     ).fetchall():
                want[i] += int(n)
            rows = conn.execute("SELECT element, path, kind, count(*) FROM (" + " UNION ALL ".join(
                f"SELECT '{p.element}' AS element, path, kind FROM ({p.select(have)})" for group, _ in batch
                for p in group) + ") GROUP BY ALL").fetchall()
        got = Counter()
        for element, path, kind, n in rows:
            counts[(element, kind)] += n
            got[f"{element}:{kind}"] += n
        file_kinds = {k for group, kinds in batch if recorded(group) for k in kinds}
        for element, path, kind, n in rows:
            if path is not None and f"{element}:{kind}" in file_kinds:
                fresh[(path, element, kind)] = fresh.get((path, element, kind), 0) + n
        for i, (group, kinds) in enumerate(batch):
            have_rows = sum(got[k] for k in kinds)
            if want[i] != have_rows:
                missing += abs(want[i] - have_rows)
                add(None, " + ".join(describe(p) for p in group),
                    f"{want[i]} source rows should project, the graph holds {have_rows} rows of "
                    f"{', '.join(sorted(kinds))}" + (f" (the {count(len(paths), 'file')} judged)" if scoped else ""))
    return counts, missing, "whole database" if paths is None else f"{count(len(paths), 'file')} (others stored)"


def store_counts(conn, counted: dict) -> None:
    """Keep the rows per file and kind a check counted (``cpg_integrity``'s ``counts_out``), for the next
    index run's check to count only the files it changes (writer connection, one transaction)."""
    import pyarrow as pa

    from resources.duck import run, transaction
    rows = counted.get("rows")
    if rows is None:
        return
    keys = sorted(rows, key=lambda k: (k[0], k[1], str(k[2])))
    conn.register("__cpg_counts", pa.table({
        "path": pa.array([k[0] for k in keys], pa.string()), "element": pa.array([k[1] for k in keys], pa.string()),
        "kind": pa.array([k[2] for k in keys], pa.string()), "rows": pa.array([rows[k] for k in keys], pa.int64())}))
    try:
        with transaction(conn):
            run(conn, f"CREATE TABLE IF NOT EXISTS {COUNTS} (graph_sha VARCHAR, path VARCHAR, element VARCHAR, "
                      "kind VARCHAR, rows BIGINT)")
            if counted.get("whole"):
                run(conn, f"DELETE FROM {COUNTS}")
            else:  # (the kinds counted per file in that check: the others' rows of these files stay as stored)
                conn.register("__cpg_count_kinds", pa.table({
                    "element": pa.array([e for e, _ in sorted(counted["kinds"])], pa.string()),
                    "kind": pa.array([k for _, k in sorted(counted["kinds"])], pa.string())}))
                run(conn, f"DELETE FROM {COUNTS} WHERE path IN ({_literal(counted['paths'])}) "
                          "AND (element, kind) IN (SELECT (element, kind) FROM __cpg_count_kinds)")
                conn.unregister("__cpg_count_kinds")
            run(conn, f"INSERT INTO {COUNTS} SELECT ?, path, element, kind, rows FROM __cpg_counts", [_counts_sha(conn)])
    finally:
        conn.unregister("__cpg_counts")


_SPILLS = itertools.count()
# A whole-database check of a graph up to this many edges copies them into one temporary table and counts in one
# statement each (a small repository's check was ~120 statements, 0.3 s); a larger one is judged projection by
# projection, so that no join holds the whole graph.
SMALL_GRAPH_EDGES = 200_000
MAX_LITERAL_PATHS = 2000  # files named in one literal list (pruned by zone maps); beyond: a scan of the view
INTEGRITY_MEMORY_LIMIT = "1GB"  # the whole-database check spills beyond it (the standard library: 8 M nodes)


@contextmanager
def _bounded_memory(conn):
    """DuckDB's memory limit ``INTEGRITY_MEMORY_LIMIT`` while the check runs, spilling into a private
    temporary directory (a read-only database's own directory may not be writable); restored after.

    Bounded from above (a reader's default is 80 % of RAM) and from below: in a run the check reads through a
    cursor of the run's writer connection (``CodeIntelStore.yield_for_execution``), whose database-wide limit
    is the writer's ``WRITER_MEMORY_LIMIT`` (512 MB), too little for the standard library's whole-database
    check (DuckDB's hash joins then fail with "Out of Memory" instead of spilling)."""
    before = conn.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    # DuckDB creates the directory when it first spills and removes it with the connection.
    spill = Path(tempfile.gettempdir()) / f"codeintel-integrity-{os.getpid()}-{next(_SPILLS)}"
    try:
        if _bytes(before) != _bytes(INTEGRITY_MEMORY_LIMIT):
            conn.execute(f"SET memory_limit = '{INTEGRITY_MEMORY_LIMIT}'").fetchall()
        try:
            conn.execute("SET temp_directory = ?", [str(spill)]).fetchall()
        except duckdb.NotImplementedException:
            pass  # this connection has spilled before: its directory stays (DuckDB cannot switch it)
        yield
    finally:
        conn.execute(f"SET memory_limit = '{before}'").fetchall()


def _bytes(setting: str) -> float:
    """'18.8 GiB' / '1GB' / '512.0 MiB' -> bytes."""
    import re
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?)B?\s*", setting, re.I)
    if not m:
        return float("inf")
    base = 1024 if m.group(3) else 1000
    return float(m.group(1)) * base ** " KMGT".index((m.group(2) or " ").upper())


def _origin(p) -> str:
    """``file``: edges within one file, written by the file pass (judged per changed file in an index run);
    ``link``: edges across files (the link step's tables, imports: judged per relinked file); ``inspect``:
    the inspect step's (an inspect run changes no file: judged whole)."""
    if any(t.startswith("py_inspect_") for t in p.tables):
        return "inspect"
    if set(p.tables) & CROSS_FILE_TABLES or any(t.startswith("scip_") for t in p.tables):
        return "link"  # an ingest makes the documents whose rows changed stale: the link relinks them
    return "file"


class _EdgeScope:
    """The edges a check judges, per projection, and the nodes they are judged against.

    ``codeintel check``: every edge, against the views' nodes of the kinds each projection declares. An
    index run: the edges of the changed files, plus the cross-file edges of the relinked files (``linked``;
    None: every cross-file edge) and every inspect edge, kept in a temporary table (small), against one
    temporary index of the nodes they name and the changed files' nodes."""

    def __init__(self, conn, parts, have, failed, paths, linked=None, small=False):
        import pyarrow as pa
        self.conn, self.paths, self.parts = conn, paths, parts
        # every judged edge in one temporary table (an index run's edges, or a small database's): the counts
        # are then one statement each, not one per projection and end
        self.materialised = paths is not None or small
        conn.register("__cpg_failed", pa.table({"path": pa.array(sorted(failed), pa.string())}))
        keep = "(path IS NULL OR path NOT IN (SELECT path FROM __cpg_failed))"
        cols = "edge_id, kind, src_node_id, dst_node_id, path"
        self.sql = {}
        if paths is None and not small:
            self.checked = "whole database"
            for p in parts:
                self.sql[id(p)] = f"(SELECT {cols} FROM ({p.select(have)}) WHERE {keep})"
            return
        if paths is None:
            self.checked = "whole database"
            wheres = [keep] * len(parts)
        else:
            relinked_n = count(len(set(linked or ()) | set(paths)), "relinked file")
            self.checked = (f"{count(len(paths), 'file')} + every cross-file edge" if linked is None else
                            f"{count(len(paths), 'file')} + the cross-file edges of {relinked_n}")
            conn.register("__cpg_scope", pa.table({"path": pa.array(sorted(paths), pa.string())}))
            conn.register("__cpg_linked", pa.table({"path": pa.array(sorted(set(linked or ()) | set(paths)),
                                                                     pa.string())}))
            # literal path lists when they are short: DuckDB prunes the row groups of other files with them
            in_scope = (f"path IN ({_literal(paths)})" if len(paths) <= MAX_LITERAL_PATHS
                        else "path IN (SELECT path FROM __cpg_scope)")
            relinked = set(linked or ()) | set(paths)
            in_linked = (f"path IN ({_literal(relinked)})" if len(relinked) <= MAX_LITERAL_PATHS
                         else "path IN (SELECT path FROM __cpg_linked)")
            wheres = [keep + {"file": f" AND {in_scope}", "link": "" if linked is None else f" AND {in_linked}",
                              "inspect": ""}[_origin(p)] for p in parts]
        conn.execute("CREATE OR REPLACE TEMP TABLE __cpg_checked_edges (part INTEGER, edge_id VARCHAR, kind VARCHAR, "
                     "src_node_id VARCHAR, dst_node_id VARCHAR, path VARCHAR)").fetchall()
        for i, p in enumerate(parts):
            self.sql[id(p)] = f"(SELECT {cols} FROM __cpg_checked_edges WHERE part = {i})"
        if parts:  # one statement (DuckDB's fixed cost per statement, ~40 projections)
            conn.execute("INSERT INTO __cpg_checked_edges " + " UNION ALL ".join(
                f"(SELECT {i}, {cols} FROM ({p.select(have)}) WHERE {where})"
                for i, (p, where) in enumerate(zip(parts, wheres)))).fetchall()
        if paths is None:  # a small database: every node
            conn.execute(f"CREATE OR REPLACE TEMP TABLE __cpg_node_index AS SELECT node_id, kind, path FROM "
                         f"{NODES_VIEW}").fetchall()
        else:
            self._index_nodes(paths)

    def _index_nodes(self, paths):
        """The nodes the check needs: every node of the changed files, and the nodes the judged edges name.

        A file's node ids start with its path and ``:`` (``pkg/m.py:AST:3``), so the named nodes are looked
        up in the files their ids name, by literal path lists that DuckDB prunes row groups with (the
        tables are clustered by file), and among the nodes of no file (symbols, external names); an id
        not found that way (another id scheme, or a dangling endpoint) in the whole view. Each node kind is
        looked up only in the files named by the edge ends that declare it: the call edges of a relinked
        base class name definitions in hundreds of files, but instructions in a few, and scanning every
        instruction of those hundreds of files was most of an edit's check."""
        conn = self.conn
        conn.execute("CREATE OR REPLACE TEMP TABLE __cpg_named AS SELECT src_node_id AS node_id FROM "
                     "__cpg_checked_edges UNION SELECT dst_node_id FROM __cpg_checked_edges").fetchall()
        known = {r[0] for r in conn.execute("SELECT path FROM py_files").fetchall()} if table_exists(conn, "py_files") \
            else set()
        # Per node kind the edge ends declare, the files the ends of that kind name (the file pass's edges
        # name their own file's nodes, the cross-file edges other files' too).
        ends = {}
        for i, p in enumerate(self.parts):
            ends[(i, "src")], ends[(i, "dst")] = p.src_kinds, p.dst_kinds
        files_of_kind: dict[str, set[str]] = {}
        unfiled: set[str] = set()  # the kinds of the named nodes whose ids name no file (symbols, external names)
        for part, end, file in conn.execute(
                "SELECT DISTINCT part, 'src', split_part(src_node_id, ':', 1) FROM __cpg_checked_edges UNION "
                "SELECT DISTINCT part, 'dst', split_part(dst_node_id, ':', 1) FROM __cpg_checked_edges").fetchall():
            for k in ends.get((part, end), ()):
                if file in known:
                    files_of_kind.setdefault(k, set()).add(file)
                else:
                    unfiled.add(k)
        files = set(paths).union(*files_of_kind.values())
        if len(files) > MAX_LITERAL_PATHS:  # most of the repository: one scan of the view
            where = "path IN (SELECT path FROM __cpg_scope) OR node_id IN (SELECT node_id FROM __cpg_named)"
            # (which finds the named nodes of no file too: added again below, each was counted as a duplicate id,
            # and the check failed on a one-file edit whose link was a full one, as after an upgrade)
            unfiled = set()
        else:
            named = " OR ".join(f"(kind = '{k}' AND path IN ({_literal(fs)}))" for k, fs in sorted(files_of_kind.items()))
            where = f"path IN ({_literal(paths)})" + (
                f" OR (({named}) AND node_id IN (SELECT node_id FROM __cpg_named))" if named else "")
        no_file = (f" UNION ALL SELECT node_id, kind, path FROM {NODES_VIEW} WHERE path IS NULL AND kind IN "
                   f"({_literal(unfiled)}) AND node_id IN (SELECT node_id FROM __cpg_named)" if unfiled else "")
        conn.execute(f"CREATE OR REPLACE TEMP TABLE __cpg_node_index AS SELECT node_id, kind, path FROM {NODES_VIEW} "
                     f"WHERE {where}{no_file}").fetchall()
        missing = conn.execute("SELECT count(*) FROM __cpg_named ANTI JOIN __cpg_node_index USING (node_id)"
                               ).fetchall()[0][0]
        if missing:
            conn.execute(f"INSERT INTO __cpg_node_index SELECT node_id, kind, path FROM {NODES_VIEW} WHERE node_id IN "
                         "(SELECT node_id FROM __cpg_named ANTI JOIN __cpg_node_index USING (node_id))").fetchall()

    def bad_endpoints(self, ends) -> dict[tuple[int, str], int]:
        """Per (projection, end) with any: the judged edges whose node at that end is missing or of a kind the
        projection does not declare there. One statement over the judged edges (an index run): the same
        counts as one anti join per projection and end, which cost DuckDB ~80 plans (0.15-0.35 s) even on a
        tiny repository."""
        rows = [(i, end, k) for i, end, kinds in ends for k in sorted(kinds)]
        with self._registered("__cpg_declared", {"part": [r[0] for r in rows], "end_": [r[1] for r in rows],
                                                 "kind": [r[2] for r in rows]}):
            return {(int(i), end): int(n) for i, end, n in self.conn.execute(
                "WITH e AS (SELECT part, 'src' AS end_, src_node_id AS node_id FROM __cpg_checked_edges "
                "UNION ALL SELECT part, 'dst', dst_node_id FROM __cpg_checked_edges), "
                "ok AS (SELECT DISTINCT e.part, e.end_, e.node_id FROM e JOIN __cpg_node_index n USING (node_id) "
                "JOIN __cpg_declared d ON d.part = e.part AND d.end_ = e.end_ AND d.kind = n.kind) "
                "SELECT part, end_, count(*) FROM e ANTI JOIN ok USING (part, end_, node_id) GROUP BY ALL").fetchall()}

    def edge_id_counts(self, kinds) -> dict[str, tuple[int, int]]:
        """Per edge kind: the judged edges whose id lacks the ``KIND:`` prefix, and the duplicate ids, over the
        projections that declare the kind (one statement, an index run)."""
        rows = [(i, k) for i, p in enumerate(self.parts) for k in sorted(p.kinds) if k in set(kinds)]
        with self._registered("__cpg_part_kinds", {"part": [r[0] for r in rows], "kind": [r[1] for r in rows]}):
            return {kind: (int(bad), int(dupes)) for kind, bad, dupes in self.conn.execute(
                "SELECT kind, count(*) FILTER (WHERE NOT starts_with(edge_id, kind || ':')), "
                "count(*) - count(DISTINCT edge_id) FROM __cpg_checked_edges SEMI JOIN __cpg_part_kinds "
                "USING (part, kind) GROUP BY kind").fetchall()}

    @contextmanager
    def _registered(self, name: str, columns: dict[str, list]):
        """``columns`` as a table named ``name`` while the block runs (``part`` INTEGER, the others VARCHAR)."""
        import pyarrow as pa
        self.conn.register(name, pa.table({c: pa.array(v, pa.int32() if c == "part" else pa.string())
                                           for c, v in columns.items()}))
        try:
            yield
        finally:
            self.conn.unregister(name)

    @staticmethod
    def nodes(kinds) -> str:
        """Node ids of these kinds in the views (a large database's check, projection by projection)."""
        lits = ", ".join("'" + k + "'" for k in sorted(kinds)) or "NULL"
        return f"SELECT node_id FROM {NODES_VIEW} WHERE kind IN ({lits})"

    def close(self):
        self.conn.execute("DROP TABLE IF EXISTS __cpg_checked_edges").fetchall()
        self.conn.execute("DROP TABLE IF EXISTS __cpg_node_index").fetchall()
        self.conn.execute("DROP TABLE IF EXISTS __cpg_named").fetchall()
        for name in ("__cpg_failed", "__cpg_scope", "__cpg_linked"):
            try:
                self.conn.unregister(name)
            except Exception:  # noqa: BLE001 - never registered (the whole-database check)
                pass


def _unique_node_ids(conn, scope, metrics, add, max_findings) -> None:
    """Duplicates across every node kind (an AST node and a definition share one id space): the whole view,
    or in an index run the nodes of the changed files and those the judged edges name."""
    source = NODES_VIEW if scope.paths is None else "__cpg_node_index"
    dupes = conn.execute(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source} "
                         "GROUP BY node_id HAVING count(*) > 1)").fetchall()[0][0]
    metrics["duplicate_node_ids"] = int(dupes)
    if dupes:
        for path, node_id, copies, kinds in conn.execute(
                f"SELECT min(path), node_id, count(*), string_agg(DISTINCT kind, ', ') FROM {source} "
                "GROUP BY node_id HAVING count(*) > 1 ORDER BY 1, 2 LIMIT ?", [max_findings]).fetchall():
            add(path, node_id, f"node id used by {copies} nodes ({kinds})")


def _batched(conn, selects: list[str]) -> list[tuple]:
    """The rows of these one-row counting queries over a large database's views, one statement each: each
    query's join or grouping is the only one holding memory (``INTEGRITY_MEMORY_LIMIT``). (The judged edges
    of an index run or of a small database are counted in one statement: ``_EdgeScope.bad_endpoints``.)"""
    return [conn.execute(q).fetchall()[0] for q in selects]


def _endpoints(conn, scope, parts, metrics, add, max_findings) -> None:
    """Per edge projection and end: an anti join of its edges against the nodes of the declared kinds; the
    edges it finds are classified (no node with the id, or a node of another kind) by a second query."""
    dangling = wrong = calls_not_from_callsite = 0
    ends = [(i, end, kinds) for i, p in enumerate(parts) for end, kinds in (("src", p.src_kinds), ("dst", p.dst_kinds))]
    if not scope.materialised:
        counts = {(i, end): n for i, end, n in _batched(conn, [
            f"SELECT {i}, '{end}', count(*) FROM {scope.sql[id(parts[i])]} e ANTI JOIN ({scope.nodes(kinds)}) x "
            f"ON x.node_id = e.{end}_node_id" for i, end, kinds in ends])}
    else:
        counts = {(i, end): 0 for i, end, _ in ends}
        counts.update(scope.bad_endpoints(ends))
    for i, p in enumerate(parts):
        edges = scope.sql[id(p)]
        bad = counts[(i, "src")] + counts[(i, "dst")]
        if "CALLS" in p.kinds:
            calls_not_from_callsite += counts[(i, "src")]
        if not bad:
            continue
        srcs, dsts = sorted(p.src_kinds), sorted(p.dst_kinds)
        judged = (f"SELECT e.path, e.edge_id, e.kind, e.src_node_id, s.kind AS sk, e.dst_node_id, d.kind AS dk "
                  f"FROM {edges} e LEFT JOIN {NODES_VIEW} s ON s.node_id = e.src_node_id "
                  f"LEFT JOIN {NODES_VIEW} d ON d.node_id = e.dst_node_id WHERE s.kind IS NULL OR d.kind IS NULL "
                  "OR NOT list_contains($srcs, s.kind) OR NOT list_contains($dsts, d.kind)")
        n_dangling, n_wrong = conn.execute(
            f"SELECT count(*) FILTER (WHERE sk IS NULL OR dk IS NULL), count(*) FILTER (WHERE sk IS NOT NULL AND "
            f"dk IS NOT NULL) FROM ({judged})", {"srcs": srcs, "dsts": dsts}).fetchall()[0]
        dangling, wrong = dangling + n_dangling, wrong + n_wrong
        for path, edge_id, kind, src, sk, dst, dk in conn.execute(
                f"{judged} ORDER BY e.path, e.edge_id LIMIT $n", {"srcs": srcs, "dsts": dsts, "n": max_findings}
                ).fetchall():
            if sk is None or dk is None:
                which = " and ".join(f"{e} {nid!r}" for e, nid, k in (("source", src, sk), ("target", dst, dk))
                                     if k is None)
                add(path, edge_id, f"{kind} edge: no node with the id of its {which}")
            else:
                add(path, edge_id, f"{kind} edge from a {sk} node to a {dk} node (declared: "
                                   f"{'|'.join(srcs) or 'nothing'} -> {'|'.join(dsts) or 'nothing'})")
    metrics.update(calls_not_from_callsite=calls_not_from_callsite, dangling_endpoints=dangling,
                   wrong_endpoint_kinds=wrong)


def _unique_edge_ids(conn, scope, parts, metrics, add, max_findings) -> None:
    """Every edge id is ``KIND:`` + a key (checked here), so ids of two kinds never collide: duplicates are
    looked for per kind, over the projections that yield it (REACHES: the dataflow plane's and the link's)."""
    dupes = unprefixed = 0
    kinds = sorted({k for p in parts for k in p.kinds})

    def mine(kind: str) -> str:
        edges = " UNION ALL ".join(scope.sql[id(p)] for p in parts if kind in p.kinds)
        return f"(SELECT * FROM ({edges}) WHERE kind = '{kind}')"
    if not scope.materialised:
        counted = {kind: (n_bad, n_dupes) for kind, n_bad, n_dupes in _batched(conn, [
            f"SELECT '{kind}', count(*) FILTER (WHERE NOT starts_with(edge_id, '{kind}:')), "
            f"count(*) - count(DISTINCT edge_id) FROM {mine(kind)}" for kind in kinds])}
    else:
        counted = scope.edge_id_counts(kinds)
    for kind in kinds:
        n_bad, n_dupes = counted.get(kind, (0, 0))
        mine_sql = mine(kind)
        unprefixed += n_bad
        dupes += n_dupes
        if n_bad:
            for path, edge_id in conn.execute(f"SELECT path, edge_id FROM {mine_sql} WHERE NOT starts_with(edge_id, "
                                              f"'{kind}:') ORDER BY ALL LIMIT ?", [max_findings]).fetchall():
                add(path, edge_id, f"{kind} edge id does not start with {kind + ':'!r}")
        if n_dupes:
            for path, edge_id, copies in conn.execute(
                    f"SELECT min(path), edge_id, count(*) FROM {mine_sql} GROUP BY edge_id HAVING count(*) > 1 "
                    "ORDER BY 1, 2 LIMIT ?", [max_findings]).fetchall():
                add(path, edge_id, f"edge id used by {copies} edges")
    metrics.update(duplicate_edge_ids=int(dupes), edge_ids_without_kind=int(unprefixed))
