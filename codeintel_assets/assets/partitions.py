"""The one partitions definition: a dynamic partition per repository-relative file path."""

from dagster import AssetExecutionContext, DynamicPartitionsDefinition, Failure

from codeintel_assets.paths import FILES_PARTITIONS

FILES = DynamicPartitionsDefinition(name=FILES_PARTITIONS)


def selected_files(context: AssetExecutionContext, step: str) -> list[str]:
    """The files (partition keys) a run of a per-file step covers; a run that names none (launched from the UI
    without choosing partitions, or by a job run without a partition) is a failure that says what to do, not
    Dagster's "Cannot access partition_key for a non-partitioned run"."""
    if not (context.has_partition_key or context.has_partition_key_range):
        raise Failure(description=(
            f"{step}: this run names no files. It is partitioned per file: in the UI choose the files to "
            "materialise (Materialize -> select partitions, or a range), or run `codeintel index`, which "
            "picks the changed files itself."), allow_retries=False)
    return list(context.partition_keys)
