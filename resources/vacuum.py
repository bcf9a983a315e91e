"""When DuckDB may vacuum: not in every run, once per step of growth.

At a checkpoint DuckDB vacuums the row groups that lost rows: it rewrites them, merging neighbours, so the
space of deleted rows is reused. An incremental index replaces a file's rows by deleting them and appending
the new ones (and the link replaces the rows of the files it relinks), so the first edit of a file leaves
deletes in the row groups the full index wrote, and the checkpoint that ends the run rewrites those row groups
of every table: 1-2 s for one edited file of the standard library, 3-4 s with the rows of the files a central
module's edit relinks (``benchmarks/vacuum_edits.py``), most of what an edit's commit costs. Without vacuum the
same checkpoints cost ~0.1 s, and the deleted rows stay in the file as dead space until a later checkpoint
vacuums them (the space is not lost: the rewrite then frees those blocks for reuse).

So a run defers vacuum (``max_vacuum_tasks = 0``, a database-wide DuckDB setting, in effect until the run's
connection closes) unless the database's used blocks have grown by ``VACUUM_GROWTH`` (and at least
``VACUUM_MIN_BLOCKS``) since the last run that vacuumed: that run vacuums everything the deferred ones left,
once. A run that rewrites every file (``--full``, a first index) vacuums the delete of every old row
(``allow_vacuum``, then the delete's checkpoint: its size must not grow), and then appends with vacuum off
(``defer_vacuum``): its checkpoints would only merge the row groups it has just written, and every block such a
merge frees stays a hole inside the file (DuckDB truncates free blocks only at its end). Measured on 990 files of
the standard library: a ``--full`` left 155 of 4,550 blocks free (the file 2.5 % larger than the first index's;
4-7 % on the whole standard library, varying from run to run), with the appends unvacuumed 6 of 4,490 (+0.2 %). The state
is one row in ``STATE_TABLE``.

The baseline is taken at the end of a run that vacuumed (or of the first run after it) that has written every
file of its plan (``settle_baseline``; the link's rows included), not when the next run starts: a run that died
before that (a first index stopped by a full file system, a kill) leaves none, and the run that finishes its work
defers vacuum and takes the baseline when it has written it. Before, that run took the dead run's size as the baseline, the files it added counted as growth,
and the first edit after it vacuumed every row group they had written: on Django (887 files) the file went from
1,060 to 1,647 blocks (+55 %, 724 of them free) for one edited file.
"""

from resources.duck import run, table_exists

STATE_TABLE = "codeintel_storage"  # used_blocks_after_vacuum: the database's used blocks after the last
# vacuuming run (NULL: that run has not yet written every file of its plan; ``settle_baseline`` measures them)
VACUUM_GROWTH = 0.10
VACUUM_MIN_BLOCKS = 256  # DuckDB's blocks are 256 KiB: 64 MiB of growth at least
DUCKDB_DEFAULT = "RESET max_vacuum_tasks"


def used_blocks(conn) -> int:
    """The blocks of the database file holding checkpointed data (free blocks not counted)."""
    return int(run(conn, "SELECT used_blocks FROM pragma_database_size() "
                         "WHERE database_name = current_database()")[0][0])


def begin_run(conn) -> bool:
    """At the start of a writing run, on its connection: defer vacuum unless the database grew enough since the
    last vacuum (then this run vacuums, and ``settle_baseline`` measures the result when its files are written; with
    no baseline, a vacuuming run died before that: this run defers and measures). Returns True when deferred."""
    state = (run(conn, f'SELECT used_blocks_after_vacuum FROM main."{STATE_TABLE}"')
             if table_exists(conn, STATE_TABLE) else [])
    if not state:  # a new database, or one from before this policy: vacuum as DuckDB does by default, this once
        allow_vacuum(conn)
        return False
    used, baseline = used_blocks(conn), state[0][0]
    if baseline is None:  # the run that vacuumed did not finish its writes: this one does, and takes the baseline
        defer_vacuum(conn)
        return True
    if used - baseline >= max(VACUUM_MIN_BLOCKS, VACUUM_GROWTH * baseline):
        allow_vacuum(conn)
        return False
    defer_vacuum(conn)
    return True


def settle_baseline(conn) -> None:
    """When a run that has written every file of its plan ends: if the run that last vacuumed (this one, or one
    that died before this point) left no baseline, the used blocks now are it (after a checkpoint, which writes what the
    run appended; with vacuum deferred it merges nothing)."""
    if not table_exists(conn, STATE_TABLE) or run(conn, f'SELECT used_blocks_after_vacuum FROM main."{STATE_TABLE}"'
                                                  ) != [(None,)]:
        return
    run(conn, "CHECKPOINT")
    run(conn, f'UPDATE main."{STATE_TABLE}" SET used_blocks_after_vacuum = $u', {"u": used_blocks(conn)})


def defer_vacuum(conn) -> None:
    """No vacuum at this run's checkpoints (until ``begin_run`` or ``allow_vacuum`` sets it again)."""
    run(conn, "SET max_vacuum_tasks = 0")


def allow_vacuum(conn) -> None:
    """This run vacuums (DuckDB's default); the size it leaves when its files are written is the new baseline
    (``settle_baseline``)."""
    run(conn, DUCKDB_DEFAULT)
    run(conn, f'CREATE TABLE IF NOT EXISTS main."{STATE_TABLE}" (used_blocks_after_vacuum BIGINT)')
    run(conn, f'DELETE FROM main."{STATE_TABLE}"')
    run(conn, f'INSERT INTO main."{STATE_TABLE}" VALUES (NULL)')
