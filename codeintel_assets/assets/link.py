"""The repository-scope link step as one Dagster multi-asset (not partitioned), after the file planes:
``cpg_calls``, ``cpg_inherits``, ``cpg_mro``, ``cpg_binds_arg`` and ``cpg_arg_reaches`` are written in one
transaction by ``codeintel_assets.link.link_calls``."""

from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from codeintel_assets.link import LINK_TABLES
from resources.repo import RepoConfig
from resources.store import CodeIntelStore

LINK_KEYS = tuple(tc.name for tc in LINK_TABLES)
LINK_DEPS = ["cpg_call_sites", "cpg_call_args", "cpg_value_refs", "cpg_definitions", "cpg_imports",
             "py_sym_name_sites", "py_reaching_defs", "scip_occurrences"]


@multi_asset(
    name="cpg_link",
    specs=[AssetSpec(tc.name, group_name="cpg", description=tc.description, deps=LINK_DEPS,
                     metadata={"contract_key": ", ".join(tc.key), "dagster/table_name": f"main.{tc.name}",
                               "partitioned": False}) for tc in LINK_TABLES],
)
def cpg_link(context: AssetExecutionContext, store: CodeIntelStore, repo: RepoConfig):
    """Resolve the repository's call sites, class bases and argument wiring (SQL over the per-file tables,
    incremental: the changed files and what can see them); record what importers can import without source
    (extension modules, directories)."""
    import time

    from codeintel_assets.assets.progress import say
    from codeintel_assets.faults import plane_fault
    from codeintel_assets.link import link_calls, record_sourceless
    from codeintel_assets.locking import hold
    from codeintel_assets.reconcile import sourceless_modules
    from codeintel_assets.words import count
    plane_fault("link", "repository")
    t0 = time.perf_counter()
    say(context, "[cpg_link] resolving the calls, bases and arguments of the changed files and of what can see them")
    sourceless = sourceless_modules(repo.root, repo.import_roots, tuple(repo.exclude))
    with hold(store.database, on_wait=context.log.info):
        with store.connection() as conn:
            # (recorded first: the link reads the extension modules, and a change of them, which no file's rows
            # show, is a full link: a call into one added or removed can be in any file)
            added_or_removed = record_sourceless(conn, sourceless)
            figures = link_calls(conn, full=added_or_removed)
    context.log.info(f"link: {figures}")
    if "files_relinked" in figures:
        n = figures["files_relinked"]
        say(context, f"[cpg_link] {count(n, 'file', grouped=True)} {'linked' if figures.get('full') else 'relinked'}"
                     f", {figures.get('edges', 0):,} CALLS edges in the database, {time.perf_counter() - t0:.1f}s")
    for key in LINK_KEYS:
        yield MaterializeResult(asset_key=key, metadata=figures if key == LINK_KEYS[0] else {
            "rows": figures.get(f"rows_{key}", 0)})


LINK_ASSETS = [cpg_link]
