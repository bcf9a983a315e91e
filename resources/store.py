"""DuckDB storage behind one narrow interface: replace / delete these files' rows, read columns, read-only SQL.

``CodeIntelStore`` is the only thing the planes, gates, jobs and the CLI write or read through, so a
second storage backend needs a second implementation of these few methods and nothing else:

- ``delete_files(paths)``: every row of these files, from every table, in one transaction;
- ``append(tables)``: insert rows (Arrow tables or spooled Parquet parts) into several tables in one
  transaction; ``replace_files(paths, tables)`` is both in one transaction;
- ``read(table, columns, paths)``: stored columns of these files;
- ``sql(query)``: read-only SQL (the gate aggregation, the summary, `codeintel query`).

Writes go through ``dagster_duckdb.DuckDBResource`` (public API). Tables are created from the contract
schema, so an empty result still creates its table; derived id columns are VIRTUAL generated columns.
"""

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr
from dagster_duckdb import DuckDBResource

from resources.duck import (  # noqa: F401 - re-exported: the store's helpers, importable from here too
    CONNECTION_CONFIG, DUCKDB_HEADER_BYTES, MAX_LITERAL_KEYS, PARTITION_COLUMN, WRITER_MEMORY_LIMIT, DamagedDatabase,
    ReadOnlyDatabase, _delete, _insert, check_database_file, connect_read_only, ensure_table, keys_filter,
    present_tables, purge_paths, run, sql_list, table_columns, table_exists, transaction,
)


class CodeIntelStore(ConfigurableResource):
    """The one DuckDB file (see the module docstring for the interface)."""

    database: str
    _keeper = PrivateAttr(default=None)  # the run's open connection (yield_for_execution), or None
    _reader = PrivateAttr(default=None)  # the ReadOnlyDatabase holding a connection in ``reading()``, or None
    _settle = PrivateAttr(default=False)  # the run's files are written: take the vacuum baseline when it ends

    def _resource(self) -> DuckDBResource:
        return DuckDBResource(database=self.database)

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext):
        """In a run: the database's writer lock and one open connection, held until the run ends.

        Every ``connection()`` of the run is then a cursor of that connection: DuckDB opens the file once
        (reading its catalog) and checkpoints once, when the run ends, instead of once per connection (a
        one-file edit opened 13 connections and closed 6 writers: ~0.8 s). A cursor is its own connection
        to the same database (its own temporary tables), so the steps still do not share state. The lock
        is ``locking.hold``'s, re-entrant: the CLI's own run already holds it; a run launched from the UI
        holds it for the run, so no other writer opens the file between its steps (DuckDB would refuse it
        while this connection is open).
        """
        if context.run is None:  # a sensor's evaluation (it only reads, and must not wait for a run)
            yield self
            return
        from codeintel_assets.locking import hold
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with hold(self.database, on_wait=context.log.info if context.log else None):
            with self._resource().get_connection() as keeper:
                keeper.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'").fetchall()
                from resources.vacuum import begin_run
                begin_run(keeper)  # (the checkpoint when the run ends vacuums once per growth step: resources/vacuum.py)
                self._keeper, self._settle = keeper, False
                try:
                    yield self
                    if self._settle:  # (after every step: the link's rows are part of the size)
                        from resources.vacuum import settle_baseline
                        settle_baseline(keeper)
                finally:
                    self._keeper = None

    @contextmanager
    def reading(self):
        """Outside a run: one read-only connection for a stretch of reads (``ReadOnlyDatabase.holding``), every
        ``connection(read_only=True)`` meanwhile a cursor of it. The CLI's summary, its count of checks and its
        no-work record after a run opened three readers, 40-70 ms each on the standard library's database."""
        if self._keeper is not None or self._reader is not None:
            yield self
            return
        reader = ReadOnlyDatabase(self.database)
        with reader.holding():
            self._reader = reader
            try:
                yield self
            finally:
                self._reader = None

    @contextmanager
    def connection(self, read_only: bool = False):
        if self._keeper is not None:  # in a run: a cursor of the run's connection (reads included)
            conn = self._keeper.cursor()
            try:
                yield conn
            finally:
                conn.close()
            return
        if read_only:  # (in reading(): a cursor of its connection)
            with (self._reader or ReadOnlyDatabase(self.database)).connection() as conn:
                yield conn
            return
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self._resource().get_connection() as conn:
            # DuckDB keeps written blocks cached up to its memory limit (default: 80% of RAM); the writer
            # does not need them, and the extraction workers do.
            conn.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            yield conn

    def files_written(self, conn) -> None:
        """Every file of the run's plan has its rows: the vacuum baseline, if none is kept, is the size the run
        leaves (``resources.vacuum.settle_baseline``; in a run, when it ends)."""
        if self._keeper is not None:
            self._settle = True
            return
        from resources.vacuum import settle_baseline
        settle_baseline(conn)

    def delete_files(self, paths: Sequence[str], tables: Sequence[str], conn=None) -> dict[str, int]:
        if conn is None:
            with self.connection() as c:
                return self.delete_files(paths, tables, c)
        return purge_paths(conn, tables, paths)

    def append(self, tables: Mapping[str, tuple[pa.Schema, object]], conn=None) -> dict[str, int]:
        """Insert rows into several tables in one transaction: {table: (contract schema, Arrow or spool)}."""
        if conn is None:
            with self.connection() as c:
                return self.append(tables, c)
        return self.replace_files((), tables, conn)

    def replace_files(self, paths: Sequence[str], tables: Mapping[str, tuple[pa.Schema, object]], conn=None) -> dict[str, int]:
        """Delete the rows of ``paths`` from ``tables`` and insert the given rows, in one transaction."""
        if conn is None:
            with self.connection() as c:
                return self.replace_files(paths, tables, c)
        from codeintel_assets.faults import maybe_die
        with transaction(conn):
            if paths:  # (append: no rows to delete)
                _delete(conn, list(tables), paths)
            columns = table_columns(conn, list(tables))
            out = {name: (ensure_table(conn, name, schema, columns), _insert(conn, name, schema, obj))[1]
                   for name, (schema, obj) in tables.items()}
            maybe_die("append")
            return out

    def replace_table(self, name: str, schema: pa.Schema, rows: pa.Table, conn=None) -> int:
        """Replace every row of an unpartitioned (reference) table, in one transaction."""
        if conn is None:
            with self.connection() as c:
                return self.replace_table(name, schema, rows, c)
        with transaction(conn):
            ensure_table(conn, name, schema)
            run(conn, f'DELETE FROM main."{name}"')
            return _insert(conn, name, schema, rows)

    def read(self, table: str, columns: Sequence[str], paths: Sequence[str], conn=None) -> pa.Table:
        """The given columns of ``table`` for ``paths`` (empty contract-shaped table if absent)."""
        if conn is None:
            with self.connection(read_only=True) as c:
                return self.read(table, columns, paths, c)
        if not table_exists(conn, table):
            from codeintel_assets.contracts import contract
            return contract(table).schema.empty_table().select(list(columns))
        conn.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(list(paths), pa.string())}))
        cols = ", ".join(f'"{c}"' for c in columns)
        t = conn.sql(f'SELECT {cols} FROM main."{table}" WHERE {keys_filter(list(paths))}').to_arrow_table()
        conn.unregister("__codeintel_keys")
        return t

    def sql(self, query: str, params=None, conn=None) -> list[tuple]:
        if conn is None:
            with self.connection(read_only=True) as c:
                return self.sql(query, params, c)
        return run(conn, query, params)


