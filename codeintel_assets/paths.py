"""Names and defaults the CLI needs before (or without) loading the Dagster definitions."""

import os
from pathlib import Path

DEFAULT_DB = ".codeintel/codeintel.duckdb"
FILES_PARTITIONS = "files"  # the one dynamic partitions definition (assets/partitions.py)
# The run tags that make one run cover a partition range (Dagster's, spelled out: public surface only;
# tests/test_sensor.py checks they equal Dagster's own constants).
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def default_db(cwd: str | None = None) -> str:
    return os.environ.get("CODEINTEL_DB") or str(Path(cwd or os.getcwd()) / DEFAULT_DB)


def range_tags(first: str, last: str) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def tail_plan(order: list[str], changed: list[str], added: list[str]) -> tuple[list[str], list[str], int]:
    """How to make all work one contiguous range of the partition order, moving as few keys as possible.

    ``order``: current partition keys (removed ones already gone). Changed keys that already form the
    tail of the order stay; other changed keys are deleted and appended, with the new keys, at the
    tail. Returns (keys to delete, keys to append, index in the new order where the work starts).
    """
    changed_set = set(changed)
    start = len(order)
    while start > 0 and order[start - 1] in changed_set:
        start -= 1
    in_place = set(order[start:])
    move = [k for k in changed if k not in in_place]
    # After the moved keys are deleted, the prefix before the in-place tail is shorter by their number.
    return move, sorted(move + list(added)), start - len(move)


def partition_moves(partitions: list[str], removed: list[str], changed: list[str],
                    added: list[str]) -> tuple[list[str], list[str], list[str]]:
    """For the CLI and the sensor alike: (keys to delete and add again, keys to append, the run's range).

    ``partitions`` is the current order; ``removed`` keys are being deleted anyway. The returned range
    is the work in the new partition order: one contiguous range holding exactly the changed and
    added keys.
    """
    gone = set(removed)
    order = [k for k in partitions if k not in gone]
    move, append, start = tail_plan(order, changed, added)
    moved = set(move)
    return move, append, ([k for k in order if k not in moved] + append)[start:]
