"""The repository sensor: reconcile partitions with the disk, index what changed, purge what left."""

import os

from dagster import (
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from codeintel_assets.assets.jobs import INDEX_JOB, LINK_JOB, PURGE_JOB, index_files, link_repository, purge_files
from codeintel_assets.assets.partitions import FILES
from codeintel_assets.paths import range_tags, work_ranges
from codeintel_assets.reconcile import SCAN_CACHE, indexed_hashes, module_names, plan_reconcile, scan_repository
from resources.repo import RepoConfig
from resources.store import CodeIntelStore


@sensor(jobs=[index_files, purge_files, link_repository], minimum_interval_seconds=30,
        description="Index files whose content changed; purge files that were deleted; link the call graph again "
                    "when no file changed but it is not the files' (after a purge, a failed link step, an extension "
                    "module added or removed, an upgrade).")
def repository_sensor(context: SensorEvaluationContext, repo: RepoConfig, store: CodeIntelStore):
    from codeintel_assets.locking import DatabaseBusy, hold
    try:
        # Reconcile only while no `codeintel index` (or run) writes the database: its partitions would move.
        with hold(store.database, wait=False):
            return _evaluate(context, repo, store)
    except DatabaseBusy as exc:
        return SkipReason(str(exc))


def _evaluate(context: SensorEvaluationContext, repo: RepoConfig, store: CodeIntelStore):
    # the instance's scan cache, shared with `codeintel index` (same instance, same repository root)
    home = getattr(context.instance, "root_directory", None)
    try:
        disk = scan_repository(repo.root, tuple(repo.exclude), cache=os.path.join(home, SCAN_CACHE) if home else None)
    except ValueError as exc:  # the repository's [tool.codeintel] table (exclude): its message names the file
        return SkipReason(f"cannot scan the repository: {exc}")
    try:
        indexed = indexed_hashes(store, module_names(repo.root, [f.key for f in disk], repo.import_roots),
                                 (repo.max_file_bytes, repo.file_budget_seconds))
    except Exception as exc:  # the writer holds the DuckDB file during a run
        return SkipReason(f"database busy: {exc}")
    partitions = list(context.instance.get_dynamic_partitions(FILES.name))
    plan = plan_reconcile(disk, indexed, partitions)
    if not (plan.added or plan.changed or plan.removed):
        reasons = _relink_reasons(repo, store)
        if reasons:  # the same state gives the same run key: one link run per state, not one per tick
            return SensorResult(run_requests=[RunRequest(job_name=LINK_JOB, run_key="link: " + "; ".join(reasons))])
        return SkipReason(f"{len(plan.seen)} files, nothing changed")
    run_requests, part_requests = [], []
    if plan.removed:
        part_requests.append(FILES.build_delete_request(plan.removed))
        run_requests.append(RunRequest(job_name=PURGE_JOB, run_key=f"purge:{context.cursor}:{len(plan.removed)}:{plan.removed[0]}",
                                       run_config={"ops": {"purge_deleted_files": {"config": {"paths": plan.removed}}}}))
    if plan.to_materialize:
        # New files are appended; the work is one run per contiguous range of the partition order. (`codeintel
        # index` moves changed files to the tail to make one range; a sensor cannot: Dagster refuses a tick that
        # deletes and adds the same partition.)
        append, ranges = work_ranges(partitions, plan.removed, plan.changed, plan.added)
        if append:
            part_requests.append(FILES.build_add_request(append))
        run_requests.extend(RunRequest(job_name=INDEX_JOB, tags=range_tags(r[0], r[-1])) for r in ranges)
    return SensorResult(run_requests=run_requests, dynamic_partitions_requests=part_requests)


def _relink_reasons(repo: RepoConfig, store: CodeIntelStore) -> list[str]:
    """``link.relink_reasons`` on the database (none while it cannot be read)."""
    from codeintel_assets.link import relink_reasons
    try:
        with store.connection(read_only=True) as conn:
            return relink_reasons(conn, repo.root, repo.import_roots, repo.scip_index, repo.exclude)
    except Exception:  # noqa: BLE001 - the writer holds the file: the next tick looks again
        return []
