"""DuckDB storage: the Arrow IO manager (on dagster-duckdb), spooled outputs, and the store resource.

Why a custom handler on ``dagster-duckdb``'s IO manager: there is no Arrow type handler upstream; the
pandas one inserts by column position and infers the schema from the first write (an all-null column
becomes type NULL, an empty first write creates no table). Ours creates each table from its contract
schema (even when empty), inserts by column name, deletes and inserts one run's partitions in one
transaction, and keeps materialisation metadata small (the stock "Query" metadata lists every
partition key, which Dagster copies into every per-partition event: N^2 event-log growth).
"""

import shutil
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from dagster import ConfigurableResource, InputContext, OutputContext
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb.io_manager import DuckDbClient

from codeintel_assets.spool import SpooledTable

PARTITION_COLUMN = "path"


# Same configuration as dagster-duckdb's client: DuckDB refuses a second in-process connection to
# one file with a different configuration.
CONNECTION_CONFIG = {"custom_user_agent": "dagster"}


def connect(database: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(database, read_only=read_only, config=CONNECTION_CONFIG)


def run(conn, sql: str, params=None) -> list:
    """Execute and consume the result (DuckDB 2 refuses new work on a connection with a pending result)."""
    return conn.execute(sql, params).fetchall() if params is not None else conn.execute(sql).fetchall()


def table_exists(conn, table: str) -> bool:
    return bool(conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='main' AND table_name=?", [table]).fetchall()[0][0])


def _derived(table: str) -> dict[str, str]:
    from codeintel_assets.contracts import common
    common._load_all()
    tc = common._REGISTRY.get(table)
    return dict(tc.derived) if tc else {}


def ensure_table(conn, table: str, schema: pa.Schema) -> None:
    """Create ``table`` from the contract schema (derived id columns as VIRTUAL generated columns);
    refuse to write into a table of another shape."""
    if not table_exists(conn, table):
        derived = _derived(table)
        stored = pa.schema([f for f in schema if f.name not in derived])
        conn.register("__codeintel_empty", stored.empty_table())
        types = {r[0]: r[1] for r in conn.execute("DESCRIBE SELECT * FROM __codeintel_empty").fetchall()}
        conn.unregister("__codeintel_empty")
        cols = [f'"{f.name}" VARCHAR GENERATED ALWAYS AS ({derived[f.name]}) VIRTUAL' if f.name in derived
                else f'"{f.name}" {types[f.name]}' for f in schema]
        run(conn, f'CREATE TABLE main."{table}" ({", ".join(cols)})')
        return
    have = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema='main' AND table_name=? "
        "ORDER BY ordinal_position", [table]).fetchall()]
    if have != schema.names:
        raise RuntimeError(
            f"table {table} in the database has columns {have[:6]}... but the contract has {schema.names[:6]}...; "
            "the database was written by another schema version: remove it or index into a new --db")


def write_partitions(conn, table: str, schema: pa.Schema, keys: Sequence[str], obj) -> int:
    """Replace the rows of ``keys`` in ``table`` by ``obj`` (Arrow table or SpooledTable), atomically."""
    run(conn, "BEGIN TRANSACTION")
    try:
        ensure_table(conn, table, schema)
        conn.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(list(keys), pa.string())}))
        run(conn, f'DELETE FROM main."{table}" WHERE {PARTITION_COLUMN} IN (SELECT {PARTITION_COLUMN} FROM __codeintel_keys)')
        conn.unregister("__codeintel_keys")
        derived = _derived(table)
        stored = ", ".join(f'"{n}"' for n in schema.names if n not in derived)
        if isinstance(obj, SpooledTable):
            if obj.files:
                files = ", ".join("'" + f.replace("'", "''") + "'" for f in obj.files)
                run(conn, f'INSERT INTO main."{table}" BY NAME SELECT {stored} FROM read_parquet([{files}])')
            n = obj.num_rows
        else:
            conn.register("__codeintel_rows", obj)
            run(conn, f'INSERT INTO main."{table}" BY NAME SELECT {stored} FROM __codeintel_rows')
            conn.unregister("__codeintel_rows")
            n = obj.num_rows
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    if isinstance(obj, SpooledTable):
        for f in obj.files:
            Path(f).unlink(missing_ok=True)
    return n


class ArrowTypeHandler(DbTypeHandler):
    """pyarrow.Table / SpooledTable <-> DuckDB, by column name, schema from the contract."""

    def handle_output(self, context: OutputContext, table_slice: TableSlice, obj, connection):
        raise NotImplementedError("written by ArrowDbIOManager.handle_output in one transaction")

    def load_input(self, context: InputContext, table_slice: TableSlice, connection) -> pa.Table:
        cols = ", ".join(f'"{c}"' for c in table_slice.columns) if table_slice.columns else "*"
        sql = f'SELECT {cols} FROM main."{table_slice.table}"'
        if table_slice.partition_dimensions:
            keys = list(table_slice.partition_dimensions[0].partitions)
            connection.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(keys, pa.string())}))
            sql += f" WHERE {PARTITION_COLUMN} IN (SELECT {PARTITION_COLUMN} FROM __codeintel_keys)"
        return connection.sql(sql).to_arrow_table()

    @property
    def supported_types(self):
        return [pa.Table, SpooledTable]


class ArrowDbIOManager(DbIOManager):
    def handle_output(self, context: OutputContext, obj) -> None:
        table_slice = self._get_table_slice(context, context)
        keys = list(table_slice.partition_dimensions[0].partitions) if table_slice.partition_dimensions else []
        schema = obj.schema
        with self._db_client.connect(context, table_slice) as conn:
            if keys:
                n = write_partitions(conn, table_slice.table, schema, keys, obj)
            else:
                n = _replace_all(conn, table_slice.table, schema, obj)
        # Small metadata on purpose: no per-key SQL (see module docstring). Dagster copies output
        # metadata into every partition's event, so the figures are named for what they count: the run.
        context.add_output_metadata({"dagster/table_name": f"main.{table_slice.table}", "rows_in_run": n,
                                     "files_in_run": len(keys)})


def _replace_all(conn, table, schema, obj) -> int:
    run(conn, "BEGIN TRANSACTION")
    try:
        ensure_table(conn, table, schema)
        run(conn, f'DELETE FROM main."{table}"')
        conn.register("__codeintel_rows", obj)
        run(conn, f'INSERT INTO main."{table}" BY NAME SELECT * FROM __codeintel_rows')
        conn.unregister("__codeintel_rows")
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    return obj.num_rows


class CodeIntelIOManager(DuckDBIOManager):
    """dagster-duckdb's IO manager with the Arrow handler; tables live in schema ``main``."""

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [ArrowTypeHandler()]

    @staticmethod
    def default_load_type():
        return pa.Table

    def create_io_manager(self, context) -> DbIOManager:
        return ArrowDbIOManager(db_client=DuckDbClient(), database=self.database, schema="main",
                                type_handlers=self.type_handlers(), default_load_type=pa.Table,
                                io_manager_name="CodeIntelIOManager")


class CodeIntelStore(ConfigurableResource):
    """The one DuckDB file: read helpers for planes and gates, and the purge of deleted files."""

    database: str

    @contextmanager
    def connection(self, read_only: bool = False):
        conn = connect(self.database, read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()

    def read(self, table: str, columns: Sequence[str], paths: Sequence[str], conn=None) -> pa.Table:
        """The given columns of ``table`` for ``paths`` (empty contract-shaped table if absent)."""
        if conn is None:
            with self.connection() as c:
                return self.read(table, columns, paths, c)
        if not table_exists(conn, table):
            from codeintel_assets.contracts import contract
            return contract(table).schema.empty_table().select(list(columns))
        conn.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(list(paths), pa.string())}))
        cols = ", ".join(f'"{c}"' for c in columns)
        t = conn.sql(f'SELECT {cols} FROM main."{table}" WHERE {PARTITION_COLUMN} IN '
                     f'(SELECT {PARTITION_COLUMN} FROM __codeintel_keys)').to_arrow_table()
        conn.unregister("__codeintel_keys")
        return t


def purge_paths(conn, tables: Sequence[str], paths: Sequence[str]) -> dict[str, int]:
    """Delete every row of ``paths`` from every table, in one transaction."""
    deleted = {}
    run(conn, "BEGIN TRANSACTION")
    try:
        conn.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(list(paths), pa.string())}))
        for t in tables:
            if table_exists(conn, t):
                n = conn.execute(f'SELECT count(*) FROM main."{t}" WHERE {PARTITION_COLUMN} IN '
                                 f'(SELECT {PARTITION_COLUMN} FROM __codeintel_keys)').fetchall()[0][0]
                run(conn, f'DELETE FROM main."{t}" WHERE {PARTITION_COLUMN} IN (SELECT {PARTITION_COLUMN} FROM __codeintel_keys)')
                deleted[t] = n
        conn.unregister("__codeintel_keys")
        run(conn, "COMMIT")
    except BaseException:
        run(conn, "ROLLBACK")
        raise
    return deleted


def remove_spool(spool_dir: str) -> None:
    shutil.rmtree(spool_dir, ignore_errors=True)
