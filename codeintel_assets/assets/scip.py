"""SCIP ingestion as a Dagster multi-asset (not partitioned: one index for the repository), before the link
step in every ``index_files`` and ``link_repository`` run: ``scip_documents``, ``scip_occurrences`` and
``scip_symbols`` (``codeintel_assets.scip``). Without an index file it does nothing; an index that cannot
be read is the failing (warning) check ``scip_ingest`` naming the file, and the rows of the last good
ingest stay."""

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetSpec, MaterializeResult,
    MetadataValue, multi_asset,
)

from codeintel_assets.contracts.scip import PLANE, SCIP_DOCUMENTS, SCIP_TABLES
from resources.repo import RepoConfig
from resources.store import CodeIntelStore

SCIP_KEYS = tuple(tc.name for tc in SCIP_TABLES)
SCIP_DEPS = ["py_files", "py_sym_name_sites", "py_ast_nodes", "py_tokens", "cpg_definitions"]
CHECK = "scip_ingest"
CHECK_DESCRIPTION = ("The SCIP index (if there is one) was read, none of its documents is older than its file, and "
                     "at least 95% of the occurrences of its current documents anchor to the syntax (a name site, "
                     "an AST node or a token with their exact span). A warning: the static planes do not need it.")
MIN_ANCHORED = 0.95


@multi_asset(
    name="scip_index",
    specs=[AssetSpec(tc.name, group_name=PLANE, description=tc.description, deps=SCIP_DEPS,
                     metadata={"contract_key": ", ".join(tc.key), "dagster/table_name": f"main.{tc.name}",
                               "partitioned": False}) for tc in SCIP_TABLES],
    check_specs=[AssetCheckSpec(CHECK, asset=SCIP_DOCUMENTS.name, description=CHECK_DESCRIPTION)],
)
def scip_index(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    """Ingest the repository's SCIP index when it or a file it describes changed since the last ingest."""
    from codeintel_assets.locking import hold
    from codeintel_assets.scip import ScipError, index_location, ingest_needed, ingest_scip, stored_figures
    error = None
    with hold(store.database, on_wait=context.log.info):
        with store.connection(read_only=True) as conn:
            needed = ingest_needed(conn, repo.root, repo.scip_index)
            location = index_location(repo.root, repo.scip_index)
            figures = {"index": "unchanged" if location.exists() else "absent", "path": str(location),
                       **stored_figures(conn)}
        if needed:
            try:
                with store.connection() as conn:
                    figures = ingest_scip(conn, repo.root, repo.scip_index)
            except ScipError as exc:
                error = str(exc)
                figures = {"index": "unreadable", "path": figures["path"], "error": error}
    context.log.info(f"scip: {figures}")
    for key in SCIP_KEYS:
        yield MaterializeResult(asset_key=key, metadata=figures if key == SCIP_KEYS[0] else {})
    from codeintel_assets.gate_report import scip_verdict
    passed, description = scip_verdict(figures, MIN_ANCHORED, error)
    yield AssetCheckResult(asset_key=SCIP_DOCUMENTS.name, check_name=CHECK, passed=passed,
                           severity=AssetCheckSeverity.WARN, description=description,
                           metadata={**{k: (MetadataValue.text(str(v)) if isinstance(v, str) else v)
                                        for k, v in figures.items()},
                                     "reason": MetadataValue.text(description),
                                     "first_findings": MetadataValue.md("none" if passed else f"- {description}")})


SCIP_ASSETS = [scip_index]
