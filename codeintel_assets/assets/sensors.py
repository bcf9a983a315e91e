"""The repository sensor: reconcile partitions with the disk, index what changed, purge what left."""

from dagster import (
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from codeintel_assets.assets.jobs import INDEX_JOB, PURGE_JOB, index_files, purge_files
from codeintel_assets.assets.partitions import FILES
from codeintel_assets import paths
from codeintel_assets.reconcile import indexed_hashes, module_names, plan_reconcile, scan_repository
from resources.repo import RepoConfig
from resources.store import CodeIntelStore


from codeintel_assets.paths import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG  # noqa: E402,F401
from codeintel_assets.reconcile import indexed_hashes  # noqa: E402,F401 - re-exported


def tail_order_requests(changed: list[str], added: list[str]):
    """Changed keys are deleted and re-added with the new ones: the work becomes one contiguous range."""
    reqs = []
    if changed:
        reqs.append(FILES.build_delete_request(changed))
    if changed or added:
        reqs.append(FILES.build_add_request(sorted(changed + added)))
    return reqs


def range_tags(keys: list[str]) -> dict[str, str]:
    return paths.range_tags(keys[0], keys[-1])


@sensor(jobs=[index_files, purge_files], minimum_interval_seconds=30,
        description="Index files whose content changed; purge files that were deleted.")
def repository_sensor(context: SensorEvaluationContext, repo: RepoConfig, store: CodeIntelStore):
    from codeintel_assets.locking import DatabaseBusy, hold
    try:
        # Reconcile only while no `codeintel index` (or run) writes the database: its partitions would move.
        with hold(store.database, wait=False):
            return _evaluate(context, repo, store)
    except DatabaseBusy as exc:
        return SkipReason(str(exc))


def _evaluate(context: SensorEvaluationContext, repo: RepoConfig, store: CodeIntelStore):
    disk = scan_repository(repo.root)
    try:
        indexed = indexed_hashes(store, module_names(repo.root, [f.key for f in disk], repo.import_roots))
    except Exception as exc:  # the writer holds the DuckDB file during a run
        return SkipReason(f"database busy: {exc}")
    plan = plan_reconcile(disk, indexed, list(context.instance.get_dynamic_partitions(FILES.name)))
    if not (plan.added or plan.changed or plan.removed):
        return SkipReason(f"{len(plan.seen)} files, nothing changed")
    run_requests, part_requests = [], []
    if plan.removed:
        part_requests.append(FILES.build_delete_request(plan.removed))
        run_requests.append(RunRequest(job_name=PURGE_JOB, run_key=f"purge:{context.cursor}:{len(plan.removed)}:{plan.removed[0]}",
                                       run_config={"ops": {"purge_deleted_files": {"config": {"paths": plan.removed}}}}))
    work = plan.to_materialize
    if work:
        part_requests.extend(tail_order_requests(plan.changed, plan.added))
        run_requests.append(RunRequest(job_name=INDEX_JOB, tags=range_tags(work)))
    return SensorResult(run_requests=run_requests, dynamic_partitions_requests=part_requests)
