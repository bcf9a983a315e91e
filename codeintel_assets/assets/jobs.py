"""Jobs: index the files of a partition range in one run; purge the rows of deleted files."""

from dagster import AssetSelection, Config, OpExecutionContext, define_asset_job, in_process_executor, job, op

from codeintel_assets.assets.partitions import DUCKDB_POOL
from codeintel_assets.contracts import all_contracts
from resources.store import CodeIntelStore, purge_paths

INDEX_JOB = "index_files"
PURGE_JOB = "purge_files"

index_files = define_asset_job(
    INDEX_JOB, selection=AssetSelection.groups("source", "bytecode", "cfg", "symtable"),
    executor_def=in_process_executor,  # steps share the DuckDB writer; process start-up dominated small runs
    description="Index a contiguous range of file partitions (changed files are moved to the tail so one range covers them).",
)


class PurgeConfig(Config):
    paths: list[str]


@op(pool=DUCKDB_POOL)
def purge_deleted_files(context: OpExecutionContext, config: PurgeConfig, store: CodeIntelStore) -> None:
    """Delete every row of files that left the repository, from every table."""
    with store.connection() as conn:
        deleted = purge_paths(conn, [tc.name for tc in all_contracts() if tc.partitioned], config.paths)
    context.log.info(f"purged {len(config.paths)} files: {sum(deleted.values())} rows")


@job(name=PURGE_JOB, executor_def=in_process_executor)
def purge_files():
    purge_deleted_files()
