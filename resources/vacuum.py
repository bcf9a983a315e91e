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
"""

from resources.duck import run, table_exists

STATE_TABLE = "codeintel_storage"  # used_blocks_after_vacuum: the database's used blocks after the last
# vacuuming run (NULL: that run has just happened; the next run measures them when it starts)
VACUUM_GROWTH = 0.10
VACUUM_MIN_BLOCKS = 256  # DuckDB's blocks are 256 KiB: 64 MiB of growth at least
DUCKDB_DEFAULT = "RESET max_vacuum_tasks"


def used_blocks(conn) -> int:
    """The blocks of the database file holding checkpointed data (free blocks not counted)."""
    return int(run(conn, "SELECT used_blocks FROM pragma_database_size() "
                         "WHERE database_name = current_database()")[0][0])


def begin_run(conn) -> bool:
    """At the start of a writing run, on its connection: defer vacuum unless the database grew enough since the
    last vacuum (then this run vacuums, and the next one measures the result). Returns True when deferred."""
    state = (run(conn, f'SELECT used_blocks_after_vacuum FROM main."{STATE_TABLE}"')
             if table_exists(conn, STATE_TABLE) else [])
    if not state:  # a new database, or one from before this policy: vacuum as DuckDB does by default, this once
        allow_vacuum(conn)
        return False
    used, baseline = used_blocks(conn), state[0][0]
    if baseline is None:  # the run before vacuumed: what it left is the baseline
        run(conn, f'UPDATE main."{STATE_TABLE}" SET used_blocks_after_vacuum = $u', {"u": used})
        baseline = used
    if used - baseline >= max(VACUUM_MIN_BLOCKS, VACUUM_GROWTH * baseline):
        allow_vacuum(conn)
        return False
    defer_vacuum(conn)
    return True


def defer_vacuum(conn) -> None:
    """No vacuum at this run's checkpoints (until ``begin_run`` or ``allow_vacuum`` sets it again)."""
    run(conn, "SET max_vacuum_tasks = 0")


def allow_vacuum(conn) -> None:
    """This run vacuums (DuckDB's default), and the next run takes the size it leaves as the new baseline."""
    run(conn, DUCKDB_DEFAULT)
    run(conn, f'CREATE TABLE IF NOT EXISTS main."{STATE_TABLE}" (used_blocks_after_vacuum BIGINT)')
    run(conn, f'DELETE FROM main."{STATE_TABLE}"')
    run(conn, f'INSERT INTO main."{STATE_TABLE}" VALUES (NULL)')
