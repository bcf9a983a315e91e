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


def work_ranges(partitions: list[str], removed: list[str], changed: list[str],
                added: list[str]) -> tuple[list[str], list[list[str]]]:
    """For the sensor: (keys to append, the runs' ranges): the changed and added keys as maximal contiguous
    ranges of the partition order after the removed keys leave and the new ones are appended. Nothing moves:
    a sensor's result may not delete and add the same partition in one tick (Dagster refuses the tick), so
    a changed file in the middle is its own range (its own run) instead of being moved to the tail."""
    gone = set(removed)
    order = [k for k in partitions if k not in gone]
    have = set(order)
    append = sorted(k for k in added if k not in have)
    work = set(changed) | set(added)
    ranges: list[list[str]] = []
    current: list[str] = []
    for k in order + append:
        if k in work:
            current.append(k)
        elif current:
            ranges.append(current)
            current = []
    if current:
        ranges.append(current)
    return append, ranges


def partition_moves(partitions: list[str], removed: list[str], changed: list[str],
                    added: list[str]) -> tuple[list[str], list[str], list[str]]:
    """For the CLI (the sensor uses ``work_ranges``): (keys to delete and add again, keys to append, the run's range).

    ``partitions`` is the current order; ``removed`` keys are being deleted anyway. The returned range
    is the work in the new partition order: one contiguous range holding exactly the changed and
    added keys.
    """
    gone = set(removed)
    order = [k for k in partitions if k not in gone]
    move, append, start = tail_plan(order, changed, added)
    moved = set(move)
    return move, append, ([k for k in order if k not in moved] + append)[start:]
