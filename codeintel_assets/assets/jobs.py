"""Jobs: index the files of a partition range in one run; purge the rows of deleted files."""

from dagster import AssetSelection, Config, OpExecutionContext, define_asset_job, in_process_executor, job, op

from codeintel_assets.contracts import inspect as C
from codeintel_assets.assets.graph import ASSET as CPG_GRAPH
from codeintel_assets.assets.link import LINK_KEYS
from codeintel_assets.assets.scip import SCIP_KEYS
from codeintel_assets.inspect_plan import all_file_tables
from codeintel_assets.pipeline import pass_tables
from codeintel_assets.planes import planes
from resources.store import CodeIntelStore

INDEX_JOB = "index_files"
PURGE_JOB = "purge_files"
INSPECT_JOB = "inspect_files"
LINK_JOB = "link_repository"

# `codeintel index --inspect` runs these parts of the two jobs, then `link_repository` once: the inspect step
# adds graph projections and runtime signatures, so a link and a graph check before it would be redone after it.
FILE_STEP_KEYS = [*(tc.name for tc in pass_tables()), *(tc.name for p in planes() for tc, _ in p.reference)]
INSPECT_STEP_KEYS = [*(tc.name for tc in C.FILE_TABLES), C.PY_INSPECT_RUN_META.name]

index_files = define_asset_job(
    INDEX_JOB, selection=AssetSelection.assets(*FILE_STEP_KEYS, *SCIP_KEYS, *LINK_KEYS, CPG_GRAPH),
    executor_def=in_process_executor,  # steps share the DuckDB writer; process start-up dominated small runs
    description="Index a contiguous range of file partitions (changed files are moved to the tail so one range covers them).",
)


inspect_files = define_asset_job(
    INSPECT_JOB, selection=AssetSelection.assets(*INSPECT_STEP_KEYS, CPG_GRAPH),  # inspect rows are graph projections
    executor_def=in_process_executor,
    description="Import the modules of a range of files in the inspect sandbox (opt-in: `codeintel index --inspect`).",
)


link_repository = define_asset_job(
    LINK_JOB, selection=AssetSelection.assets(*SCIP_KEYS, *LINK_KEYS, CPG_GRAPH), executor_def=in_process_executor,
    description="Resolve the repository's call sites again (after files were only removed: no index run).",
)


class PurgeConfig(Config):
    paths: list[str]


@op
def purge_deleted_files(context: OpExecutionContext, config: PurgeConfig, store: CodeIntelStore) -> None:
    """Delete every row of files that left the repository, from every table."""
    from codeintel_assets.locking import hold
    with hold(store.database, on_wait=context.log.info):
        deleted = store.delete_files(config.paths, all_file_tables())
    context.log.info(f"purged {len(config.paths)} files: {sum(deleted.values())} rows")


@job(name=PURGE_JOB, executor_def=in_process_executor)
def purge_files():
    purge_deleted_files()
