"""The environment every process running Dagster with ``resources.event_log``'s storage exports.

Apart from ``event_log`` so that setting it (``codeintel_assets.instance.prepare_home``) does not import
Dagster: ``codeintel index`` with nothing to do never needs Dagster.
"""

DEFAULT_EVENT_BATCH_SIZE = 1000


def tuned_environment(batch_size: int = DEFAULT_EVENT_BATCH_SIZE) -> dict[str, str]:
    """Environment variables to export for every process running Dagster with this storage.

    ``DAGSTER_EVENT_BATCH_SIZE``: > 0 makes Dagster buffer batchable events (the planned
    events written at run creation, the per-partition materialisations of one output) and
    hand them to ``store_event_batch`` in chunks of this size. 0 (Dagster's default)
    writes every event with its own ``store_event`` call.

    Deliberately NOT set: ``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`` (fewer planned
    events, but it breaks the status of failed partitions).
    """
    return {"DAGSTER_EVENT_BATCH_SIZE": str(int(batch_size))}
