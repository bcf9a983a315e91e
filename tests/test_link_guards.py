"""The link's statement guards (``_run_if`` / `-- rows from:`): a statement whose sources have no row is not run,
and a temporary table it would make is made empty, with the columns the statement gives it, never left stale.
Whether each guard of the link is a condition every row of its statement joins is what the incremental = full
tests of the link hold it to (tests/test_cpg_link*.py); this is the mechanism, on a real DuckDB."""

import duckdb

from codeintel_assets.link import _run_if, _run_statements


def _conn():
    conn = duckdb.connect()
    conn.execute("CREATE TABLE facts AS SELECT range AS id, 'f' || range::VARCHAR AS name FROM range(5)")
    conn.execute("CREATE TEMP TABLE src (id BIGINT)")
    return conn


def _columns(conn, table):
    return conn.execute(f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}' "
                        "ORDER BY column_index").fetchall()


MAKE = """-- a comment before the statement, as the staged SQL has
CREATE OR REPLACE TEMP TABLE made AS  -- and one after AS
WITH s AS (SELECT id FROM src)
SELECT f.id, f.name, f.id * 0.5 AS half FROM facts f JOIN s USING (id);"""


def test_an_empty_source_makes_an_empty_table_with_the_statements_columns():
    conn = _conn()
    assert _run_if(conn, MAKE, "src") == [(0,)]
    assert conn.execute("SELECT count(*) FROM made").fetchall() == [(0,)]
    conn.execute("INSERT INTO src VALUES (1), (3)")
    expected = _run_if(conn, MAKE, "src")
    assert expected == [(2,)]  # DuckDB's count of the rows made
    assert sorted(conn.execute("SELECT id, name, half FROM made").fetchall()) == [(1, "f1", 0.5), (3, "f3", 1.5)]
    full_columns = _columns(conn, "made")
    assert full_columns == [("id", "BIGINT"), ("name", "VARCHAR"), ("half", "DECIMAL(21,1)")]
    conn.execute("DELETE FROM src")
    _run_if(conn, MAKE, "src")  # the table of the run before must not survive (a connection links many times)
    assert conn.execute("SELECT count(*) FROM made").fetchall() == [(0,)]
    assert _columns(conn, "made") == full_columns


def test_a_guarded_insert_is_skipped_and_a_query_source_counts():
    conn = _conn()
    conn.execute("CREATE TEMP TABLE out (id BIGINT)")
    insert = "INSERT INTO out SELECT id FROM facts WHERE id IN (SELECT id FROM src)"
    conn.execute("INSERT INTO src VALUES (7)")  # a row, but not one the query source accepts
    assert _run_if(conn, insert, "SELECT 1 FROM src WHERE id < 5") == [(0,)]
    assert _run_if(conn, insert, "SELECT 1 FROM src WHERE id < 5", "src") == [(0,)]  # any source with rows: run
    conn.execute("INSERT INTO src VALUES (2)")
    assert _run_if(conn, insert, "SELECT 1 FROM src WHERE id < 5") == [(1,)]
    assert conn.execute("SELECT id FROM out").fetchall() == [(2,)]
    assert _run_if(conn, "INSERT INTO out VALUES (9)") == [(1,)]  # no source: always run


def test_staged_statements_honour_their_rows_from_comment():
    conn = _conn()
    staged = """CREATE OR REPLACE TEMP TABLE first AS SELECT id FROM src;
-- rows from: first
CREATE OR REPLACE TEMP TABLE second AS SELECT f.id, f.name FROM facts f JOIN first USING (id);
-- rows from: second
CREATE OR REPLACE TEMP TABLE third AS SELECT id + 1 AS next FROM second"""
    _run_statements(conn, staged)
    for table in ("first", "second", "third"):  # each made (empty), none missing for what reads it next
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]
    assert _columns(conn, "third") == [("next", "BIGINT")]
    conn.execute("INSERT INTO src VALUES (4)")
    _run_statements(conn, staged)
    assert conn.execute("SELECT next FROM third").fetchall() == [(5,)]
