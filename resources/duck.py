"""DuckDB helpers with no Dagster in them: connections, catalog questions, transactions, the per-file deletes.

``resources.store.CodeIntelStore`` (the Dagster resource every plane, gate and job writes through) is built
on these; the CLI's no-work path (``codeintel index`` when nothing changed) uses them alone, so it does not
import Dagster (1-2 s of a 3 s command).
"""

from collections.abc import Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa

from codeintel_assets.spool import SpooledTable

PARTITION_COLUMN = "path"


# Same configuration as dagster-duckdb's client: DuckDB refuses a second in-process connection to
# one file with a different configuration.
CONNECTION_CONFIG = {"custom_user_agent": "dagster"}
WRITER_MEMORY_LIMIT = "512MB"


def connect_read_only(database: str) -> duckdb.DuckDBPyConnection:
    """A reader's connection (same configuration as the writer's: DuckDB refuses mixed ones in a process)."""
    return duckdb.connect(database, read_only=True, config=CONNECTION_CONFIG)


def run(conn, sql: str, params=None) -> list:
    """Execute and consume the result (DuckDB 2 refuses new work on a connection with a pending result)."""
    return conn.execute(sql, params).fetchall() if params is not None else conn.execute(sql).fetchall()


def table_exists(conn, table: str) -> bool:
    """A table or view of that name in schema main (temporary ones included). DuckDB's own catalog functions,
    not information_schema (a view over them that costs twice as much: ~180 calls in an edit's run)."""
    return bool(conn.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $t) + "
        "(SELECT count(*) FROM duckdb_views() WHERE schema_name = 'main' AND view_name = $t)", {"t": table}
    ).fetchall()[0][0])


def present_tables(conn, tables: Sequence[str]) -> set[str]:
    """Those of ``tables`` that exist as a table or view in schema main (temporary ones included): one catalog
    query for a caller that asks about many (``table_exists`` costs ~1.5 ms a call)."""
    return {r[0] for r in conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND table_name IN (SELECT unnest($t)) "
        "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND view_name IN (SELECT unnest($t))",
        {"t": list(tables)}).fetchall()}


def _derived(table: str) -> dict[str, str]:
    from codeintel_assets.contracts import common
    common._load_all()
    tc = common._REGISTRY.get(table)
    return dict(tc.derived) if tc else {}


def table_columns(conn, tables: Sequence[str]) -> dict[str, list[str]]:
    """The columns, in order, of those of ``tables`` that exist in schema main (one catalog query for all:
    a one-file edit writes ~40 tables, and a catalog query costs ~1.5 ms)."""
    return {t: cols for t, cols in conn.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name IN (SELECT unnest($t)) GROUP BY ALL", {"t": list(tables)}).fetchall()}


def ensure_table(conn, table: str, schema: pa.Schema, columns: Mapping[str, list[str]] | None = None) -> None:
    """Create ``table`` from the contract schema (derived id columns as VIRTUAL generated columns);
    refuse to write into a table of another shape. ``columns``: ``table_columns`` of the tables being written
    (else the catalog is asked for this one)."""
    have = (columns if columns is not None else table_columns(conn, [table])).get(table)
    derived = _derived(table)
    if have is None:
        stored = pa.schema([f for f in schema if f.name not in derived])
        types = _duck_types(conn, stored)
        cols = [f'"{f.name}" VARCHAR GENERATED ALWAYS AS ({derived[f.name]}) VIRTUAL' if f.name in derived
                else f'"{f.name}" {types[f.name]}' for f in schema]
        run(conn, f'CREATE TABLE main."{table}" ({", ".join(cols)})')
        return
    added = schema.names[len(have):]
    if have == schema.names[:len(have)] and added and not set(added) & set(derived):
        # A newer contract appends columns (cpg_definitions.type_checking_only): add them, NULL in the rows
        # already there (readers treat NULL as "not computed": `codeintel index --full` computes them).
        types = _duck_types(conn, pa.schema([schema.field(n) for n in added]))
        for name in added:
            run(conn, f'ALTER TABLE main."{table}" ADD COLUMN "{name}" {types[name]}')
        if isinstance(columns, dict):
            columns[table] = list(schema.names)
        return
    if have != schema.names:
        raise RuntimeError(
            f"table {table} in the database has columns {have[:6]}... but the contract has {schema.names[:6]}...; "
            "the database was written by another schema version: remove it or index into a new --db")


def _duck_types(conn, schema: pa.Schema) -> dict[str, str]:
    """DuckDB's column type for each field of an Arrow schema."""
    conn.register("__codeintel_empty", schema.empty_table())
    try:
        return {r[0]: r[1] for r in conn.execute("DESCRIBE SELECT * FROM __codeintel_empty").fetchall()}
    finally:
        conn.unregister("__codeintel_empty")


def _insert(conn, table: str, schema: pa.Schema, obj) -> int:
    derived = _derived(table)
    stored = ", ".join(f'"{n}"' for n in schema.names if n not in derived)
    if isinstance(obj, SpooledTable):
        if obj.files:
            files = ", ".join("'" + f.replace("'", "''") + "'" for f in obj.files)
            run(conn, f'INSERT INTO main."{table}" BY NAME SELECT {stored} FROM read_parquet([{files}])')
        return obj.num_rows
    if obj.num_rows:
        conn.register("__codeintel_rows", obj)
        run(conn, f'INSERT INTO main."{table}" BY NAME SELECT {stored} FROM __codeintel_rows')
        conn.unregister("__codeintel_rows")
    return obj.num_rows


@contextmanager
def transaction(conn):
    run(conn, "BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        try:
            run(conn, "ROLLBACK")
        except duckdb.Error:
            pass  # the failed statement may have ended the transaction: the original error is the one to see
        raise
    run(conn, "COMMIT")


MAX_LITERAL_KEYS = 2000  # up to this many files: a literal list, whose min / max DuckDB prunes row groups with


def sql_list(values) -> str:
    """SQL string literals, comma-separated (NULL for none): for short literal IN lists."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def keys_filter(paths: Sequence[str], relation: str = "__codeintel_keys") -> str:
    """``path IN (...)`` for these files: a literal list when it is short (the tables are clustered by file,
    so DuckDB skips the row groups of other files: 3x faster for a one-file edit), else a semi join with
    ``relation`` (registered by the caller)."""
    if len(paths) <= MAX_LITERAL_KEYS:
        return f"{PARTITION_COLUMN} IN ({sql_list(paths)})"
    return f"{PARTITION_COLUMN} IN (SELECT {PARTITION_COLUMN} FROM {relation})"


def _delete(conn, tables: Sequence[str], paths: Sequence[str]) -> dict[str, int]:
    deleted = {}
    conn.register("__codeintel_keys", pa.table({PARTITION_COLUMN: pa.array(list(paths), pa.string())}))
    where = keys_filter(list(paths))
    have = table_columns(conn, tables)
    for t in tables:
        if t in have:
            # DELETE returns the number of rows it deleted: one statement per table, not a count and a delete.
            deleted[t] = run(conn, f'DELETE FROM main."{t}" WHERE {where}')[0][0]
    conn.unregister("__codeintel_keys")
    return deleted


def purge_paths(conn, tables: Sequence[str], paths: Sequence[str]) -> dict[str, int]:
    """Delete every row of ``paths`` from every table, in one transaction."""
    from codeintel_assets.faults import maybe_die
    with transaction(conn):
        out = _delete(conn, tables, paths)
        maybe_die("purge")
        return out


class DamagedDatabase(Exception):
    """The database file is shorter than what DuckDB's header says it holds (one line, names it)."""


DUCKDB_HEADER_BYTES = 3 * 4096  # the main header and two database headers precede the first block


# DuckDB's messages for a file whose blocks are missing or garbage (not a lock, not a permission).
_DAMAGE_MARKERS = ("Could not read enough bytes", "Corrupt", "corrupt", "not a valid DuckDB database")


def check_database_file(database: str, reader: "ReadOnlyDatabase | None" = None, as_left: bool = False) -> None:
    """Cheap damage test at start: the file must hold every block DuckDB's header counts.

    A truncated file (a full disk, a bad copy) otherwise opens fine and fails only when a query
    reaches a missing block; ``codeintel check --recompute`` reads every table for the thorough test.
    ``reader``: read through it (a connection it holds, or one it opens), else through a connection of its own.
    ``as_left``: the file has the size and modification time a finished run left it with
    (``codeintel_assets.settled``). A file shorter than its header's block count is then DuckDB's own work (it
    cuts free blocks off the end at a checkpoint and counts them still), not damage, and the exact test (the
    highest block of every table's segments: 0.5-0.8 s on the standard library's database, paid by every run
    after such a checkpoint) is not made. Any other cut changes the size, so the file is not ``as_left``.
    """
    if not Path(database).exists() or Path(database + ".wal").exists():
        return  # a pending WAL is replayed on open and its blocks are counted before they are in the file
    opened = ExitStack()
    try:
        conn = opened.enter_context((reader or ReadOnlyDatabase(database)).connection())
    except duckdb.Error as exc:
        text = str(exc)
        if "not a valid DuckDB database" in text:  # another kind of file (or a header overwritten): say so, since
            # --rebuild would remove it
            raise DamagedDatabase(f"{database} is not a DuckDB database file ({text.splitlines()[0]}); point --db at "
                                  f"another path, or, if it was a CodeIntel database that got overwritten, replace it "
                                  f"with `codeintel index --rebuild` (which removes the file)") from exc
        if any(m in text for m in _DAMAGE_MARKERS):  # cut short or overwritten: its own blocks are missing
            raise DamagedDatabase(f"the database {database} is damaged and cannot be opened ({text.splitlines()[0]}); "
                                  f"rebuild it with `codeintel index --rebuild` (or remove the file)") from exc
        raise DamagedDatabase(f"the database {database} cannot be opened: {exc}") from exc
    try:
        block_size, total_blocks = conn.execute("SELECT block_size, total_blocks FROM pragma_database_size()").fetchone()
        have = Path(database).stat().st_size
        need = DUCKDB_HEADER_BYTES + int(block_size) * int(total_blocks)
        if have < need and not as_left:
            # Free blocks at the end may have been truncated away: the exact test is the highest block that
            # holds table data (every table's segments, from pragma_storage_info).
            top = -1
            for (table,) in conn.execute("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall():
                got = conn.execute("SELECT max(block_id) FROM pragma_storage_info(?) WHERE block_id >= 0",
                                   [table]).fetchone()[0]
                top = max(top, -1 if got is None else int(got))
            need = DUCKDB_HEADER_BYTES + int(block_size) * (top + 1)
    except duckdb.Error as exc:
        raise DamagedDatabase(f"the database {database} cannot be read: {exc}; rebuild it with `codeintel index "
                              f"--rebuild` (or remove the file)") from exc
    finally:
        opened.close()
    if have < need and not as_left:
        raise DamagedDatabase(f"the database {database} is damaged: {have:,} bytes on disk, but its tables use "
                              f"blocks up to byte {need:,}; rebuild it with `codeintel index "
                              f"--rebuild` (or remove the file)")


class ReadOnlyDatabase:
    """The reading half of ``CodeIntelStore`` (``database``, ``connection(read_only=True)``), without Dagster."""

    def __init__(self, database: str):
        self.database = database
        self._held = None

    @contextmanager
    def holding(self):
        """One read-only connection for a stretch of reads, every ``connection()`` meanwhile a cursor of it. Each
        reader opened the file and read its catalog: 40-70 ms each on the standard library's database, and the
        CLI reads through three or four in a row (what is indexed, whether the link is current, the summary).
        A database that cannot be opened now is left to the readers, which say what is wrong as they would
        without this. No writer may open the file while it is held (DuckDB refuses a second configuration)."""
        if self._held is not None:
            yield self
            return
        try:
            held = connect_read_only(self.database)
        except Exception:  # noqa: BLE001 - each reader opens its own and reports it
            held = None
        if held is None:  # (not yielded inside the except: the body's own errors would chain to this one)
            yield self
            return
        self._held = held
        try:
            yield self
        finally:
            self._held = None
            held.close()

    @contextmanager
    def connection(self, read_only: bool = True):
        if not read_only:
            raise ValueError("ReadOnlyDatabase only reads; write through resources.store.CodeIntelStore")
        if self._held is not None:
            cursor = self._held.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        conn = connect_read_only(self.database)
        try:
            yield conn
        finally:
            conn.close()
