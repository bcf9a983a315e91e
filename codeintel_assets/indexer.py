"""Index files into the store: the one pass (``pipeline.run_pass``) plus the writes. Dagster-free.

Order of writes, and why:

- a run that indexes some of the stored files (an incremental run that leaves some file unchanged): each
  batch of finished chunks replaces its files' rows in every table in one transaction (delete, then
  append), while the workers go on extracting (the writes overlap the extraction). A run that dies or is
  interrupted leaves every file it had not written with its old rows: nothing the database held is lost;
- a run that indexes every stored file again (``--full``, every file edited, a first index): the rows of every file are
  deleted from every table first, in one transaction (the link's tables are emptied and its trace dropped
  too: ``link.forget_links``), then ``CHECKPOINT`` with vacuum (so the space of the deleted row groups is
  reused, and a ``--full`` re-index of unchanged code leaves the file the size it was; rows replaced batch by
  batch would keep their old blocks until the end: measured, 19.1 MB -> 34.9 MB on the first --full of a
  60-file repository), then each batch is appended with vacuum off (``resources/vacuum.py``: a merge of the
  row groups just written left 2.5-7 % of the file as free blocks inside it). Such a run
  that dies leaves files without rows until the next run, which sees them as stale and indexes them
  again; meanwhile ``codeintel_pending_files`` lists them and ``codeintel check`` fails naming them.

Nothing half-written is ever committed for a file: all of a file's rows, in every table, are in the same
append (or replace) transaction.
"""

import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codeintel_assets.faults import maybe_die
from codeintel_assets.interface import keep_prior
from codeintel_assets.link import every_stored_file, forget_links
from codeintel_assets.pipeline import DEFAULT_FILE_BUDGET_SECONDS, ChunkResult, PassResult, pass_tables, run_pass
from codeintel_assets.spool import SpooledTable

WRITE_BATCH_FILES = 192
# Files per append transaction when set (a positive integer): the fault tests get two batches from a small
# repository. Any other value is an error naming the variable.
WRITE_BATCH_ENV = "CODEINTEL_WRITE_BATCH_FILES"
WRITER_THREADS = 1
SPOOL_PREFIX = ".codeintel-spool-"


@dataclass
class IndexResult:
    pass_result: PassResult
    write_seconds: dict[str, float] = field(default_factory=dict)
    delete_seconds: float = 0.0


def spool_base(database: str, configured: str = "") -> Path:
    return Path(configured) if configured else Path(database).parent


def spool_prefix(database: str) -> str:
    """Spools are named after their database: several databases may share a directory."""
    return f"{SPOOL_PREFIX}{Path(database).name}-"


def remove_stale_spools(database: str, spool_dir: str = "") -> None:
    """Parquet parts left by a run of this database that was killed. Call with the database's lock held
    (only one run writes a database at a time, so any spool of it that exists now is dead)."""
    base = spool_base(database, spool_dir)
    # exactly the prefix and mkdtemp's 8 random characters: `s`'s runs must not match the live spool of a
    # database named `s-v2` beside it (.codeintel-spool-s-v2-0mt4fhm8)
    for d in base.glob(spool_prefix(database) + "?" * 8):
        shutil.rmtree(d, ignore_errors=True)


def write_batch_files() -> int:
    value = os.environ.get(WRITE_BATCH_ENV)
    if value is None:
        return WRITE_BATCH_FILES
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{WRITE_BATCH_ENV}={value!r}: expected a positive number of files per write batch")
    return int(value)


PENDING = "codeintel_pending_files"  # files whose rows a run deleted and has not written yet (path, run id)


def mark_pending(conn, keys: Sequence[str], run_id: str | None) -> None:
    import pyarrow as pa

    from resources.duck import run, transaction
    conn.register("__pending", pa.table({"path": pa.array(sorted(keys), pa.string()),
                                         "run_id": pa.array([run_id] * len(keys), pa.string())}))
    try:
        with transaction(conn):
            run(conn, f'CREATE TABLE IF NOT EXISTS "{PENDING}" (path VARCHAR, run_id VARCHAR)')
            run(conn, f'INSERT INTO "{PENDING}" SELECT path, run_id FROM __pending')
    finally:
        conn.unregister("__pending")


def clear_pending(conn) -> None:
    from resources.duck import run, table_exists
    if table_exists(conn, PENDING):
        run(conn, f'DELETE FROM "{PENDING}"')


def lost_files(conn) -> list[tuple[str, str]]:
    """(path, run id) of the files a dead run deleted the rows of and no run has written since."""
    from resources.duck import table_exists
    if not table_exists(conn, PENDING):
        return []
    have = "SELECT path FROM py_files" if table_exists(conn, "py_files") else "SELECT NULL::VARCHAR AS path"
    return [tuple(r) for r in conn.execute(
        f'SELECT DISTINCT path, run_id FROM "{PENDING}" WHERE path NOT IN ({have}) ORDER BY path').fetchall()]


def index_keys(store, root: str, keys: Sequence[str], module_names: dict[str, str], max_bytes: int,
               workers: int = 0, run_id: str | None = None, progress=None,
               log: Callable[[str], None] = lambda m: None, spool_dir: str = "",
               budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS, relinks: bool = True) -> IndexResult:
    """Extract ``keys`` and replace their rows in ``store``; returns the pass's figures and write times.

    ``relinks``: the run links after this step (an ``index_files`` run). Only then may a run that indexes every
    file empty the link's tables up front (``link.forget_links``); a run of the file planes alone (every
    partition materialised from the UI) keeps the call graph, which the next link brings up to date."""
    from codeintel_assets.locking import hold
    with hold(store.database, on_wait=log):  # one writer per database (re-entrant for the CLI's own run)
        return _index_keys(store, root, keys, module_names, max_bytes, workers, run_id, progress, spool_dir,
                           budget_seconds, relinks)


def _index_keys(store, root, keys, module_names, max_bytes, workers, run_id, progress, spool_dir,
                budget_seconds, relinks) -> IndexResult:
    base = spool_base(store.database, spool_dir)
    base.mkdir(parents=True, exist_ok=True)
    remove_stale_spools(store.database, spool_dir)
    spool = tempfile.mkdtemp(prefix=spool_prefix(store.database), dir=base)
    contracts = {tc.name: tc for tc in pass_tables()}
    batch_files = write_batch_files()
    result = IndexResult(PassResult())
    try:
        with store.connection() as conn:
            # One DuckDB thread for the writes: they overlap the extraction workers, and a second thread
            # nearly doubles the insert CPU for no wall time on a 2-core machine (benchmarks/write_threads.py:
            # 31.5 s of CPU with two threads, 17.6 s with one, for the same inserts).
            conn.execute(f"SET threads = {WRITER_THREADS}").fetchall()
            t0 = time.perf_counter()
            rebuild = every_stored_file(conn, keys)
            if rebuild:
                from resources.vacuum import allow_vacuum, defer_vacuum
                allow_vacuum(conn)  # every file's rows go: the checkpoint after the delete vacuums them
                # first (its own transaction): the files this run will rewrite, so that a run that dies after the
                # delete leaves a record of what it took (`codeintel check` fails on it until an index restores
                # the rows); cleared when the run has written everything
                mark_pending(conn, keys, run_id)
                deleted = store.delete_files(keys, list(contracts), conn)
                if relinks:  # a --full: the link's old rows free their space too
                    deleted["cpg links"] = forget_links(conn, keys)
                if any(deleted.values()):  # vacuumed now: the freed row groups are reused by the appends
                    conn.execute("CHECKPOINT")
                defer_vacuum(conn)  # only appends from here: nothing to vacuum, and a merge would leave holes
            result.delete_seconds = time.perf_counter() - t0
            maybe_die("after-delete")
            written: set[str] = set()
            pending: list[ChunkResult] = []
            batches: queue.Queue = queue.Queue()
            failed: list[BaseException] = []

            def write(batch: list[ChunkResult]):
                parts = {name: (tc.schema, SpooledTable(tc.schema, [f for c in batch for f in c.files.get(name, [])],
                                                        sum(c.rows.get(name, 0) for c in batch)))
                         for name, tc in contracts.items()}
                t = time.perf_counter()
                if rebuild:
                    store.append(parts, conn)
                else:  # the batch's files: their old rows go in the transaction that writes the new ones
                    batch_keys = [k for c in batch for k in c.keys]
                    keep_prior(conn, batch_keys)  # what the last link saw of them (which names an edit changed)
                    store.replace_files(batch_keys, parts, conn)
                    written.update(batch_keys)
                maybe_die("after-append")
                dt = time.perf_counter() - t
                total_rows = max(1, sum(p.num_rows for _, p in parts.values()))
                for name, (_, sp) in parts.items():
                    # Attribute the transaction's time to tables by rows (the figure is for the docs).
                    result.write_seconds[name] = result.write_seconds.get(name, 0.0) + dt * sp.num_rows / total_rows
                    for f in sp.files:
                        Path(f).unlink(missing_ok=True)

            def writer():
                # The writer thread: DuckDB releases the GIL while it inserts, so the main thread keeps
                # handing chunks to the workers while a batch is written (extraction and writes overlap).
                while (batch := batches.get()) is not None:
                    if not failed:
                        try:
                            write(batch)
                        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                            failed.append(exc)

            thread = threading.Thread(target=writer, name="codeintel-writer", daemon=True)
            thread.start()

            def on_chunk(r: ChunkResult):
                if failed:
                    raise failed[0]
                pending.append(r)
                if sum(len(c.keys) for c in pending) >= batch_files:
                    batches.put(list(pending))
                    pending.clear()

            try:
                result.pass_result = run_pass(keys, module_names, root, spool, max_bytes, workers, run_id, progress,
                                              on_chunk, budget_seconds=budget_seconds)
                batches.put(list(pending))
            finally:
                batches.put(None)
                thread.join()
            if failed:
                raise failed[0]
            if not rebuild and set(keys) - written:  # (every key has a chunk, a failure row at least)
                t0 = time.perf_counter()
                store.delete_files(sorted(set(keys) - written), list(contracts), conn)
                result.delete_seconds += time.perf_counter() - t0
            clear_pending(conn)  # every file of the run has its rows (and any a dead run took are back)
            store.files_written(conn)
            conn.execute("RESET threads").fetchall()  # the setting is the database's, not the connection's
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    return result
