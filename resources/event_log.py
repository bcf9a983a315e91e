"""A tuned SQLite event-log storage for Dagster (drop-in for the stock run-sharded one).

Why it exists
-------------
One CodeIntel run over many file partitions writes two events per (file x asset)
(materialisation planned + materialised) plus more per asset check. The stock
``SqliteEventLogStorage`` creates a new SQLAlchemy engine with ``NullPool`` for every
event, so every write opens the database, re-runs the schema bookkeeping and, on close,
checkpoints the WAL (an fsync). Measured on this machine (2 vCPUs, shared with other jobs, so
the fsync-bound stock figures vary 2-3x between runs) with ``benchmarks/bench_event_log.py``:
6 chained assets + 2 checks per file partition, one single-run backfill, ``in_process``::

    files  setup                      seconds  events  ms/event  time in storage
      200  stock                       27-67    2,435   11-28        95-97%
      200  tuned                       1.4-1.9  2,435   0.6-0.8      52-56%
      200  tuned, no batch env var     5.0-6.8  2,435   2.1-2.8      83-86%
    1,000  stock                       241-251 12,035   20-21          98%
    1,000  tuned                       5.3-5.6 12,035   0.44-0.46      60%
    1,000  tuned, no batch env var       22.7  12,035   1.9            90%

(ms/event = whole-run wall time / events stored, so it includes Dagster's own per-event
work; "time in storage" is the share spent inside store_event / store_event_batch.)

This subclass keeps the on-disk layout and schema of the stock storage (one ``<run_id>.db``
per run plus ``index.db`` under ``$DAGSTER_HOME/history/runs``), so a home written by it
reads back with the stock ``SqliteEventLogStorage`` and vice versa. It changes only how
connections are made and how batches are written:

1. **Pooled engines.** One SQLAlchemy engine per shard is kept open (``QueuePool`` with one
   persistent connection; run-shard engines are kept in a small LRU and disposed on
   eviction). Every new DBAPI connection gets ``PRAGMA journal_mode=WAL`` and
   ``PRAGMA synchronous=NORMAL``. Thread safety: like the stock storage, all access goes
   through one process-wide ``_db_lock`` (an ``RLock`` here), held for the whole
   connection checkout, so the run worker, the webserver threads and the watchdog thread
   never share a connection concurrently. The lock is re-entrant only so that a batch can
   hold the index transaction while writing the run shard; a nested ``index_connection()``
   on the same thread (used by the stock asset-check helpers) joins the open transaction.
   Engines are dropped (not closed) after ``fork``.
2. **Batched writes.** ``store_event_batch`` (called by Dagster when
   ``DAGSTER_EVENT_BATCH_SIZE`` > 0, for the planned events at run creation and for the
   per-partition materialisations of one output) writes every index-shard mirror (asset
   events + their indexed tags + asset-key entry updates, asset-check executions, run-status
   events) in ONE index transaction and all run-shard rows in ONE run-shard transaction per
   run, leaving exactly the rows that ``SqliteEventLogStorage.store_event`` on each event
   leaves (same tables, same row order and ids; the test compares every row). Fewer
   statements: the mirrored event rows go in one executemany with ``RETURNING id``, the
   indexed tags in one executemany, and each asset key gets one insert-or-update with the
   merged entry values of its events (later events win, as with the per-event updates).
   The run shard commits first, then the index, so a failure before the commits rolls
   both back and Dagster's per-event fallback does not duplicate rows.
3. ``has_table`` and the asset-key column reflection cache positive answers (the stock
   code builds a new engine / reflects the table per asset or asset-check event).

Single events (``store_event``) go through the stock code path, only on pooled connections.

Caveats
-------
* ``synchronous=NORMAL`` in WAL mode never corrupts the database and survives an
  application crash, but the last transactions before an OS crash / power loss can be lost
  (they are in the WAL, not yet fsynced). Set ``synchronous: FULL`` in the storage config
  to trade speed for that durability.
* Because connections stay open the WAL is checkpointed into ``<run_id>.db`` only when it
  reaches 1,000 pages, when the engine is evicted from the LRU, or on ``dispose()``. The
  ``watch()`` used for live run logs therefore also listens to ``<run_id>.db-wal``; a
  *stock* storage in another process watching the same run only sees updates on checkpoint
  (reads are always up to date).
* The two commits are not atomic together: an I/O error between them leaves run-shard
  rows without their index mirror (and Dagster's fallback then re-stores the batch).
* Built on private Dagster classes (``SqliteEventLogStorage._connect``, ``_initdb``,
  ``_db_lock``, ``_initialized_dbs``, ``_event_to_row``, ``_get_asset_entry_values``,
  ``_store_asset_event_tags``, ``_has_asset_key_col_on_connection``,
  ``store_asset_check_event``, ``SqliteEventLogStorageWatchdog``, ``path_for_shard``); verified against
  dagster 1.13.x only, enforced at import.

Use it from ``$DAGSTER_HOME/dagster.yaml`` (see ``write_instance_yaml``)::

    event_log_storage:
      module: resources.event_log
      class: TunedSqliteEventLogStorage
      config:
        base_dir: /abs/path/to/DAGSTER_HOME/history/runs

and export the variables from ``tuned_environment()`` (``DAGSTER_EVENT_BATCH_SIZE``) in
every process that runs Dagster code (CLI, ``dagster dev``, run workers).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster
import sqlalchemy
import sqlalchemy.exc as db_exc
import yaml
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# --------------------------------------------------------------------------------------
# Version pin: everything below relies on private Dagster internals.
# --------------------------------------------------------------------------------------
VERIFIED_DAGSTER_SERIES = "1.13."


def _check_dagster_version(version: str = dagster.__version__) -> None:
    if not version.startswith(VERIFIED_DAGSTER_SERIES):
        raise ImportError(
            f"resources.event_log.TunedSqliteEventLogStorage subclasses private Dagster "
            f"internals and was verified against dagster {VERIFIED_DAGSTER_SERIES}x only; "
            f"installed dagster is {version}. Re-verify the stock SqliteEventLogStorage."
            f"store_event / _connect semantics (run tests/test_event_log_storage.py) and "
            f"bump VERIFIED_DAGSTER_SERIES, or drop event_log_storage from dagster.yaml."
        )


_check_dagster_version()

import dagster._check as check
from dagster._config import Field, StringSource
from dagster._config.config_schema import UserConfigSchema
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.event_api import EventHandlerFn
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import (
    AssetKeyTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData

from resources.event_log_env import DEFAULT_EVENT_BATCH_SIZE, tuned_environment

__all__ = [
    "DEFAULT_EVENT_BATCH_SIZE",
    "TunedSqliteEventLogStorage",
    "event_log_base_dir",
    "tuned_environment",
    "write_instance_yaml",
]

_SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def event_log_base_dir(dagster_home: str) -> str:
    """The directory the stock instance uses for the event log under ``dagster_home``.

    Same as ``dagster._core.instance.ref._event_logs_directory``: ``<home>/history/runs``.
    """
    return os.path.join(os.path.abspath(dagster_home), "history", "runs")


class _WalAwareWatchdog(SqliteEventLogStorageWatchdog):
    """Stock watchdog, but also fires on writes to ``<run_id>.db-wal``.

    With pooled connections the WAL is not checkpointed after every write, so ``<run_id>.db``
    itself is rarely modified; the ``-wal`` file is.
    """

    def __init__(self, event_log_storage, run_id, callback, cursor, **kwargs):
        super().__init__(event_log_storage, run_id, callback, cursor, **kwargs)
        self._patterns = [self._log_path, self._log_path + "-wal"]

    def on_modified(self, event) -> None:  # no src_path == .db invariant
        self._process_log()


class TunedSqliteEventLogStorage(SqliteEventLogStorage):
    """Run-sharded SQLite event log with pooled connections and batched writes.

    Same files and schema as :class:`SqliteEventLogStorage`; see the module docstring.

    Config (``dagster.yaml``): ``base_dir`` (required, ``<DAGSTER_HOME>/history/runs`` for the
    stock layout), ``synchronous`` (``NORMAL`` default, ``FULL`` for power-loss durability),
    ``max_open_run_shards`` (LRU size of pooled run-shard engines, default 8).
    """

    def __init__(
        self,
        base_dir: str,
        inst_data: ConfigurableClassData | None = None,
        synchronous: str = "NORMAL",
        max_open_run_shards: int = 8,
    ):
        synchronous = check.str_param(synchronous, "synchronous").upper()
        check.invariant(
            synchronous in _SYNCHRONOUS_MODES,
            f"synchronous must be one of {_SYNCHRONOUS_MODES}, got {synchronous!r}",
        )
        self._synchronous = synchronous
        self._max_open_run_shards = max(
            1, check.int_param(max_open_run_shards, "max_open_run_shards")
        )
        # shard name -> Engine; the index engine is never evicted, run shards are an LRU
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        # per thread: shard name -> connection currently checked out (and in a transaction)
        self._active = threading.local()
        self._known_tables: set[str] = set()
        self._known_asset_key_cols: set[str] = set()
        # get_dynamic_partitions, kept while the index database is unchanged (see _partitions_stamp)
        self._partitions: dict[str, tuple[str, ...]] = {}
        self._partitions_at: tuple[Any, int] | None = None
        # the stock __init__ sets self._db_lock = threading.Lock() and may reindex through
        # self._connect (no nesting there); swap in the re-entrant lock afterwards
        super().__init__(base_dir, inst_data=inst_data)
        self._db_lock = threading.RLock()

    # ---------------------------------------------------------------- ConfigurableClass
    @classmethod
    def config_type(cls) -> UserConfigSchema:
        return {
            "base_dir": StringSource,
            "synchronous": Field(str, is_required=False, default_value="NORMAL"),
            "max_open_run_shards": Field(int, is_required=False, default_value=8),
        }

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> TunedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    # ---------------------------------------------------------------- engines
    def _active_connections(self) -> dict[str, Connection]:
        active = getattr(self._active, "conns", None)
        if active is None:
            active = self._active.conns = {}
        return active

    def _new_engine(self, shard: str) -> Engine:
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            # one persistent connection; overflow only for the stock _initdb, which opens
            # a second connection via db.inspect(engine) while the first is checked out
            pool_size=1,
            max_overflow=-1,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        synchronous = self._synchronous

        @sa_event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA synchronous={synchronous}")
            finally:
                cursor.close()

        return engine

    def _engine_for_shard(self, shard: str) -> Engine:
        """Must be called with ``_db_lock`` held."""
        if self._engines_pid != os.getpid():
            # forked: the parent's sqlite handles must not be used (or closed) here
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()
            self._initialized_dbs = set()

        engine = self._engines.get(shard)
        if engine is None:
            engine = self._engines[shard] = self._new_engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._evict_run_shards(keep=shard)
        elif shard != INDEX_SHARD_NAME:
            self._engines.move_to_end(shard)
        return engine

    def _evict_run_shards(self, keep: str) -> None:
        in_use = {*self._active_connections(), keep}
        run_shards = [s for s in self._engines if s != INDEX_SHARD_NAME]
        excess = len(run_shards) - self._max_open_run_shards
        for shard in run_shards:  # oldest first
            if excess <= 0:
                break
            if shard in in_use:
                continue
            self._engines.pop(shard).dispose()  # closes -> WAL checkpoint into <shard>.db
            excess -= 1

    def _dispose_engines(self, *, keep_index: bool = False) -> None:
        with self._db_lock:
            for shard in list(self._engines):
                if keep_index and shard == INDEX_SHARD_NAME:
                    continue
                self._engines.pop(shard).dispose()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        check.str_param(shard, "shard")
        active = self._active_connections()
        joined = active.get(shard)
        if joined is not None:
            # this thread already holds _db_lock and an open transaction on this shard
            # (store_event_batch -> store_asset_check_event -> index_connection()): join it.
            yield joined
            return
        with self._db_lock:
            engine = self._engine_for_shard(shard)
            with engine.connect() as conn, conn.begin():
                active[shard] = conn
                try:
                    yield conn
                finally:
                    del active[shard]

    def has_table(self, table_name: str) -> bool:
        # tables are never dropped by Dagster; cache positive answers only
        if table_name in self._known_tables:
            return True
        if super().has_table(table_name):
            self._known_tables.add(table_name)
            return True
        return False

    # ---------------------------------------------------------------- dynamic partitions
    # Dagster asks for the `files` partition keys dozens of times in one run (33 in a one-file edit of the
    # standard library: has_partition_key, the partitions definition's id, data-version lookups), each a
    # query returning every key (~10 ms for 1,726 keys). They are kept here while the index database is
    # unchanged: SQLite's `PRAGMA data_version` changes on a connection whenever another connection (another
    # process, or another connection of this one) has committed to the file, and this storage's own writes of
    # partitions (add, delete, wipe) drop the kept keys. Only the index shard's persistent connection is used
    # for the comparison (a data_version is per connection: another connection's stamp never matches).

    def _partitions_stamp(self) -> tuple[Any, int]:
        with self.index_connection() as conn:
            raw = conn.connection.dbapi_connection
            return raw, raw.execute("PRAGMA data_version").fetchone()[0]

    def _current_partitions(self) -> dict[str, tuple[str, ...]]:
        """The kept keys per partitions definition, emptied first when the index database changed since they
        were read (or the connection is another). Call with ``_db_lock`` held; the stamp is taken before any
        read that follows, so a commit after it moves the stamp and the keys are read again."""
        stamp, at = self._partitions_stamp(), self._partitions_at
        if at is None or stamp[0] is not at[0] or stamp[1] != at[1]:
            self._partitions, self._partitions_at = {}, stamp
        return self._partitions

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]:
        with self._db_lock:
            kept = self._current_partitions().get(partitions_def_name)
            if kept is None:
                kept = tuple(super().get_dynamic_partitions(partitions_def_name))
                self._partitions[partitions_def_name] = kept
            return list(kept)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        with self._db_lock:
            kept = self._current_partitions().get(partitions_def_name)
        return partition_key in kept if kept is not None else super().has_dynamic_partition(
            partitions_def_name, partition_key)

    def _forget_partitions(self) -> None:
        with self._db_lock:
            self._partitions, self._partitions_at = {}, None

    def add_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]) -> None:
        try:
            super().add_dynamic_partitions(partitions_def_name, partition_keys)
        finally:
            self._forget_partitions()

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        try:
            super().delete_dynamic_partition(partitions_def_name, partition_key)
        finally:
            self._forget_partitions()

    # ---------------------------------------------------------------- batched writes
    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store ``events`` leaving exactly the rows ``store_event`` on each, in order, leaves.

        One index-shard transaction (mirrored event rows, indexed asset tags, asset-key entry
        updates, asset-check executions, run-status rows) and one run-shard transaction per
        run; the run shard(s) commit just before the index. An exception before that point
        leaves nothing written, so Dagster's fallback to per-event ``store_event`` is safe.
        """
        check.sequence_param(events, "events", EventLogEntry)
        if not events:
            return
        rows = [self._event_to_row(event) for event in events]  # serialise once
        rows_by_run: dict[str, list[dict[str, Any]]] = {}
        for event, row in zip(events, rows):
            rows_by_run.setdefault(event.run_id, []).append(row)

        with self._db_lock, self.index_transaction() as index_conn:
            self._mirror_events_in_index(index_conn, events, rows)
            for run_id, run_rows in rows_by_run.items():
                with self.run_connection(run_id) as run_conn:
                    run_conn.execute(SqlEventLogStorageTable.insert(), run_rows)

    def _mirror_events_in_index(
        self,
        conn: Connection,
        events: Sequence[EventLogEntry],
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """Index-shard half of ``SqliteEventLogStorage.store_event`` (1.13.x) for a batch.

        Per event, the stock code inserts the event row into the index (asset, asset-check and
        run-status events), then for asset events the indexed tags and the asset-key entry
        (insert, or update on conflict), and for asset-check events the check execution row.
        Here the same rows are written in the same order with fewer statements: the event rows
        in one executemany (ids returned in order), the tag rows in one executemany, and one
        insert-or-update per asset key carrying the merged values of its events (later events
        win column by column, which is the state the per-event updates leave behind).
        """
        mirrored = [
            (event, row)
            for event, row in zip(events, rows)
            if event.is_dagster_event
            and (
                event.dagster_event_type in ASSET_EVENTS
                or event.dagster_event_type in ASSET_CHECK_EVENTS
                or event.dagster_event_type in EVENT_TYPE_TO_PIPELINE_RUN_STATUS
            )
        ]
        if not mirrored:
            return
        table = SqlEventLogStorageTable
        result = conn.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True),
            [row for _, row in mirrored],
        )
        event_ids = [row_id for (row_id,) in result.all()]
        if len(event_ids) != len(mirrored) or any(i is None for i in event_ids):
            raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")

        asset_events = [
            (event, event_id)
            for (event, _), event_id in zip(mirrored, event_ids)
            if event.dagster_event_type in ASSET_EVENTS
        ]
        if asset_events:
            self._store_asset_event_tags(
                conn, [e for e, _ in asset_events], [i for _, i in asset_events]
            )
            self._store_asset_entries(conn, asset_events)

        for (event, _), event_id in zip(mirrored, event_ids):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:
                # opens self.index_connection(), which joins `conn` (same thread, same shard)
                self.store_asset_check_event(event, event_id)

    def _store_asset_entries(
        self, conn: Connection, asset_events: Sequence[tuple[EventLogEntry, int]]
    ) -> None:
        """Batched ``_store_asset_event``: one insert-or-update per asset key."""
        has_index_cols = self._has_asset_key_index_cols_on_connection(conn)
        merged: dict[str, dict[str, Any]] = {}
        for event, _ in asset_events:  # first-seen order == stock insert order (row ids)
            if event.dagster_event and event.dagster_event.asset_key:
                merged.setdefault(event.dagster_event.asset_key.to_string(), {})
        for event, event_id in reversed(asset_events):
            dagster_event = event.dagster_event
            if not (dagster_event and dagster_event.asset_key):
                continue
            values = merged[dagster_event.asset_key.to_string()]
            if dagster_event.is_step_materialization and "last_materialization" in values:
                # a later materialisation already set every column a materialisation sets;
                # skip re-serialising this one
                continue
            for column, value in self._get_asset_entry_values(
                event, event_id, has_index_cols
            ).items():
                values.setdefault(column, value)  # the latest event wins

        for asset_key, values in merged.items():
            if not values:  # stock returns early for events without entry values
                continue
            # as in the stock code: a constraint violation aborts only the INSERT statement
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=asset_key, **values))
            except db_exc.IntegrityError:
                conn.execute(
                    AssetKeyTable.update()
                    .values(**values)
                    .where(AssetKeyTable.c.asset_key == asset_key)
                )

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        # reflection per asset event in the stock code; columns are never dropped
        if column_name in self._known_asset_key_cols:
            return True
        if super()._has_asset_key_col_on_connection(conn, column_name):
            self._known_asset_key_cols.add(column_name)
            return True
        return False

    # ---------------------------------------------------------------- lifecycle
    def watch(self, run_id: str, cursor: str | None, callback: EventHandlerFn) -> None:
        from watchdog.observers import Observer

        if not self._obs:
            self._obs = Observer()
            self._obs.start()

        watchdog = _WalAwareWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            self._obs.schedule(watchdog, self._base_dir, recursive=True),
        )

    # ---------------------------------------------------------------- retention
    def runs_holding_latest_events(self, run_ids: Sequence[str]) -> set[str]:
        """Those of ``run_ids`` that hold the newest materialisation (or planned materialisation) of some
        (asset, partition): what the UI shows as its state. A run not among them is superseded everywhere.

        One probe per event of each run until its first live one (index ``idx_events_by_run_id`` for the
        run's events, ``idx_events_by_asset_partition`` for a newer one).
        """
        live: set[str] = set()
        query = sqlalchemy.text(
            "SELECT 1 FROM event_logs e WHERE e.run_id = :run "
            "AND e.dagster_event_type IN ('ASSET_MATERIALIZATION', 'ASSET_MATERIALIZATION_PLANNED') "
            "AND NOT EXISTS (SELECT 1 FROM event_logs x WHERE x.asset_key = e.asset_key "
            "AND x.dagster_event_type = e.dagster_event_type AND x.partition IS e.partition AND x.id > e.id) "
            "LIMIT 1")
        with self.index_connection() as conn:
            for run_id in run_ids:
                if conn.execute(query, {"run": run_id}).first() is not None:
                    live.add(run_id)
        return live

    def delete_events(self, run_id: str) -> None:
        """The stock deletion, then the run's shard files: the stock storage leaves ``<run_id>.db`` at its
        full size with empty tables (a superseded index run of a large repository: hundreds of MB)."""
        super().delete_events(run_id)
        with self._db_lock:
            engine = self._engines.pop(run_id, None)
            if engine is not None:
                engine.dispose()
            self._initialized_dbs.discard(run_id)
            path = self.path_for_shard(run_id)
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(path + suffix)
                except FileNotFoundError:
                    pass

    def wipe(self) -> None:
        # the stock wipe unlinks the run-shard files: close our handles on them first
        with self._db_lock:
            self._dispose_engines(keep_index=True)
            try:
                super().wipe()
            finally:
                self._forget_partitions()

    def upgrade(self) -> None:
        with self._db_lock:
            self._dispose_engines()
            super().upgrade()

    def dispose(self) -> None:
        super().dispose()  # stops the watchdog observer
        self._dispose_engines()


# --------------------------------------------------------------------------------------
# Alembic's migration scripts, loaded once per process
# --------------------------------------------------------------------------------------
_SCRIPT_DIRECTORIES: dict[tuple, Any] = {}
_SCRIPTS_LOCK = threading.Lock()


def share_alembic_scripts() -> None:
    """Load Dagster's alembic migration scripts once per process, not once per storage and instance.

    Opening an instance checks (or, on a new home, stamps) the alembic revision of each of its three
    SQLite storages, and each check builds a new ``alembic.script.ScriptDirectory`` whose revision map
    executes all ~90 migration files again: 0.12-0.15 s per storage on this machine, 0.3-0.45 s of every
    ``codeintel`` command (about a fifth of a small index). The three storages share one script location,
    and the files do not change while the process runs, so ``ScriptDirectory.from_config`` (alembic's
    public constructor) returns one directory per distinct set of the options it reads. Idempotent; a
    ``ScriptDirectory`` is only read after its revision map is built (by ``as_revision_number`` and
    ``stamp``, which Dagster runs under its own ``_alembic_lock``; ours guards the cache).
    ``tests/test_event_log_storage.py`` checks that a second instance loads no script and that homes
    stamped this way read back with a fresh interpreter's stock storages.
    """
    from alembic.script import ScriptDirectory

    if getattr(ScriptDirectory.from_config, "_codeintel_shared", False):
        return
    build = ScriptDirectory.from_config.__func__

    def from_config(cls, config):
        key = (cls, config.get_alembic_option("script_location"), config.get_alembic_option("file_template"),
               config.get_alembic_option("truncate_slug_length"), config.get_alembic_option("sourceless"),
               config.get_alembic_option("output_encoding"), tuple(config.get_version_locations_list() or ()),
               config.get_alembic_option("timezone"), repr(config.get_hooks_list()),
               config.get_alembic_option("recursive_version_locations"), repr(config.messaging_opts))
        with _SCRIPTS_LOCK:
            found = _SCRIPT_DIRECTORIES.get(key)
            if found is None:
                found = _SCRIPT_DIRECTORIES[key] = build(cls, config)
            return found

    from_config._codeintel_shared = True  # type: ignore[attr-defined]
    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign]


share_alembic_scripts()  # a webserver or daemon opening the instance from dagster.yaml imports this module


# --------------------------------------------------------------------------------------
# Instance helpers
# --------------------------------------------------------------------------------------
def _concurrency_pools_supported() -> bool:
    from dagster._core.instance.config import dagster_instance_config_schema

    concurrency = dagster_instance_config_schema().get("concurrency")
    if concurrency is None:
        return False
    fields = getattr(concurrency.config_type, "fields", {})
    pools = fields.get("pools")
    return pools is not None and "default_limit" in getattr(pools.config_type, "fields", {})


def write_instance_yaml(dagster_home: str) -> None:
    """Write ``<dagster_home>/dagster.yaml`` selecting :class:`TunedSqliteEventLogStorage`.

    The event log goes to ``<dagster_home>/history/runs`` (the stock layout, so the home also
    reads with the stock storage); run/schedule storage stay the stock SQLite defaults. Adds
    ``concurrency: {pools: {default_limit: 1}}`` when the installed schema accepts it: every
    op/asset that declares a ``pool`` (e.g. the writers of the single DuckDB file) gets one
    slot unless that pool is configured otherwise. Other keys of an existing ``dagster.yaml``
    are kept (an existing ``concurrency.pools.default_limit`` wins); a unified ``storage:``
    key is rejected because it would conflict with ``event_log_storage``.
    """
    home = os.path.abspath(dagster_home)
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, "dagster.yaml")
    config: dict[str, Any] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            config = yaml.safe_load(f) or {}
    if "storage" in config:
        raise ValueError(
            f"{path} configures `storage:`; remove it to use the per-storage "
            "`event_log_storage:` key written by write_instance_yaml"
        )
    config["event_log_storage"] = {
        "module": "resources.event_log",
        "class": TunedSqliteEventLogStorage.__name__,
        "config": {"base_dir": event_log_base_dir(home)},
    }
    if _concurrency_pools_supported():
        pools = config.setdefault("concurrency", {}).setdefault("pools", {})
        pools.setdefault("default_limit", 1)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)
