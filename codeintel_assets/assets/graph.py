"""The code property graph as a Dagster asset: ``cpg_graph`` (not partitioned), after the link step.

It (re)creates the ``cpg_nodes`` / ``cpg_edges`` views and the ``cpg_vocabulary`` table
(``codeintel_assets.graph``) and reports the node and edge counts per kind; its blocking check
``cpg_integrity`` judges what changed (the files since its last pass, the cross-file edges of the files
relinked since then). It runs in the ``index_files`` run after ``cpg_calls``,
in ``link_repository``, and after the inspect step (``inspect_files``), whose tables add projections.
"""

import time

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, MaterializeResult, MetadataValue,
    asset,
)

from codeintel_assets.assets.link import LINK_ASSETS
from codeintel_assets.assets.progress import say
from codeintel_assets.contracts import inspect as C
from codeintel_assets.graph import EDGES_VIEW, NODES_VIEW, PROJECTIONS, VOCABULARY
from codeintel_assets.pipeline import pass_tables
from codeintel_assets.words import count
from codeintel_assets.validate import cpg_integrity as G
from resources.store import CodeIntelStore

ASSET = "cpg_graph"


def _deps() -> list[str]:
    """Every asset whose table a projection reads (the other projected tables are not assets)."""
    assets = ({tc.name for tc in pass_tables()} | {k.to_user_string() for a in LINK_ASSETS for k in a.keys}
              | {tc.name for tc in C.FILE_TABLES})
    return sorted({t for p in PROJECTIONS for t in p.tables} & assets)


@asset(name=ASSET, group_name="cpg", deps=_deps(),
       description="The code property graph: the cpg_nodes / cpg_edges views (UNION ALL of one projection per node "
                   "and edge kind over the plane tables) and the cpg_vocabulary table of kinds (docs/graph.md).",
       metadata={"dagster/table_name": f"main.{NODES_VIEW}, main.{EDGES_VIEW}, main.{VOCABULARY}",
                 "partitioned": False},
       check_specs=[AssetCheckSpec(G.NAME, asset=ASSET, description=G.DESCRIPTION, blocking=True)])
def cpg_graph_asset(context: AssetExecutionContext, store: CodeIntelStore):
    """Create the graph's views and vocabulary (one transaction, under the writer lock); count; judge it.

    The check covers the files whose contents changed since the last passing check (``cpg_integrity_files``:
    path and file_id) and the cross-file edges of the files the link step relinked since then
    (``cpg_link_unchecked``); ``codeintel check`` judges the whole database."""
    from codeintel_assets.graph import create_graph, existing_tables, graph_current, graph_figures, plan_graph
    from codeintel_assets.locking import hold
    with hold(store.database, on_wait=context.log.info):
        with store.connection(read_only=True) as conn:
            # Views that hold exactly this version's projections of the tables that exist stay as they are.
            current = graph_current(conn)
            if current:
                figures = graph_figures(plan_graph(existing_tables(conn) - {NODES_VIEW, EDGES_VIEW, VOCABULARY}))
        if not current:
            with store.connection() as conn:
                figures = create_graph(conn)
        # The check may read the whole graph (millions of ids on a large code base): a reader whose memory
        # the check bounds itself (it spills), not the writer's small limit.
        counted: dict = {}
        with store.connection(read_only=True) as conn:
            paths = changed_since_check(conn)
            if paths is not None and len(paths) > _file_count(conn) // 2:
                paths = None  # most files changed (a --full index): the whole check is the cheaper one
            t0 = time.perf_counter()
            judged = ("the whole graph" if paths is None else
                      f"the nodes and edges of {count(len(paths), 'changed file', grouped=True)} "
                      "and of the relinked ones")
            say(context, f"[{ASSET}] judging {judged}")
            r = G.cpg_integrity(conn, paths=paths, linked=None if paths is None else relinked_since_check(conn),
                                counts_out=counted)
        with store.connection() as conn:
            G.store_counts(conn, counted)  # whether or not it passed: they are the tables' counts
            if r.passed:
                record_check(conn)
    nodes, edges = r.metrics.pop("nodes_by_kind"), r.metrics.pop("edges_by_kind")
    say(context, f"[{ASSET}] {'passed' if r.passed else 'FAILED'}: {sum(nodes.values()):,} nodes, "
                 f"{sum(edges.values()):,} edges, {time.perf_counter() - t0:.1f}s")
    context.log.info(f"{ASSET}: {sum(nodes.values())} nodes, {sum(edges.values())} edges, "
                     f"{figures['projections']} projections ({figures['projections_left_out']} left out)")
    yield MaterializeResult(asset_key=ASSET, metadata={
        "nodes": sum(nodes.values()), "edges": sum(edges.values()),
        "nodes_by_kind": MetadataValue.json(nodes), "edges_by_kind": MetadataValue.json(edges),
        "projections": figures["projections"], "projections_left_out": figures["projections_left_out"],
        "left_out": MetadataValue.json(figures["left_out"])})
    yield AssetCheckResult(
        asset_key=ASSET, check_name=G.NAME, passed=r.passed, severity=AssetCheckSeverity.ERROR,
        metadata={**r.metrics,
                  "first_findings": MetadataValue.md("\n".join(f"- `{f.describe()}`" for f in r.findings[:50])
                                                     or "none")},
        description=r.description)


TRACE = "cpg_integrity_files"  # per file: the file_id, module and extraction run the last passing check saw
# What the trace records per file: its bytes, its module name and the run that extracted it (a --full index
# re-extracts unchanged bytes, perhaps with another version of the extractors).
TRACED = ("SELECT f.path, f.file_id, f.module_name, m.dagster_run_id AS run_id FROM py_files f "
          "LEFT JOIN codeintel_run_meta m ON m.path = f.path")


def changed_since_check(conn) -> set[str] | None:
    """Files added, changed, renamed as modules (other import roots), extracted again or removed since the
    last passing check; None (everything) without a trace."""
    from resources.duck import present_tables
    needed = (TRACE, "py_files", "codeintel_run_meta")
    if not set(needed) <= present_tables(conn, needed):
        return None
    if not {"module_name", "run_id"} <= {r[0] for r in conn.execute(f"DESCRIBE {TRACE}").fetchall()}:
        return None  # a trace written before module names and runs were recorded in it
    if {r[0] for r in conn.execute(f"SELECT DISTINCT graph_sha FROM {TRACE}").fetchall()} - {graph_sha(conn)}:
        return None  # the projections changed (another version): the whole graph is judged again
    same = ("t.path = f.path AND t.file_id IS NOT DISTINCT FROM f.file_id AND t.module_name IS NOT DISTINCT FROM "
            "f.module_name AND t.run_id IS NOT DISTINCT FROM f.run_id")
    return {r[0] for r in conn.execute(
        f"WITH f AS ({TRACED}) SELECT path FROM f ANTI JOIN {TRACE} t ON {same} "
        f"UNION SELECT path FROM {TRACE} t ANTI JOIN f ON {same}").fetchall()}


def _file_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM py_files").fetchall()[0][0]


def relinked_since_check(conn) -> set[str] | None:
    """Files whose link rows changed since the last passing check; None (every cross-file edge) without
    the link step's record of them."""
    from codeintel_assets.link import UNCHECKED
    from resources.duck import table_exists
    if not table_exists(conn, UNCHECKED):
        return None
    return {r[0] for r in conn.execute(f"SELECT path FROM {UNCHECKED}").fetchall()}


def record_check(conn) -> None:
    from codeintel_assets.link import UNCHECKED
    from resources.duck import present_tables, run, transaction
    have = present_tables(conn, ("py_files", "codeintel_run_meta", UNCHECKED))
    if not {"py_files", "codeintel_run_meta"} <= have:
        return
    with transaction(conn):
        if UNCHECKED in have:
            run(conn, f"DELETE FROM {UNCHECKED}")
        run(conn, f"DROP TABLE IF EXISTS {TRACE}")
        run(conn, f"CREATE TABLE {TRACE} (path VARCHAR, file_id VARCHAR, graph_sha VARCHAR, module_name VARCHAR, "
                  "run_id VARCHAR)")
        run(conn, f"INSERT INTO {TRACE} SELECT path, file_id, ?, module_name, run_id FROM ({TRACED})",
            [graph_sha(conn)])


def graph_sha(conn) -> str:
    """One fingerprint of every projection the views hold (changes with the code that writes them)."""
    import hashlib
    rows = conn.execute(f"SELECT kind, source, projection_sha FROM {VOCABULARY} WHERE in_graph ORDER BY ALL").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


GRAPH_ASSETS = [cpg_graph_asset]
