"""One read-only connection for a stretch of reads (``ReadOnlyDatabase.holding``, ``CodeIntelStore.reading``): the
CLI's reads before and after a run each opened the database file (40-70 ms each on the standard library's).
Counted on a real DuckDB file by wrapping ``connect_read_only`` (the real function still opens the file)."""

from pathlib import Path

import duckdb
import pytest

import resources.duck as duck
from resources.duck import ReadOnlyDatabase
from resources.store import CodeIntelStore


def _count_opens(monkeypatch) -> list[str]:
    """The databases opened read-only from now on (each open still the real one)."""
    opened = []
    real = duck.connect_read_only

    def counting(database):
        opened.append(database)
        return real(database)
    monkeypatch.setattr(duck, "connect_read_only", counting)
    return opened


@pytest.fixture
def database(tmp_path, monkeypatch):
    path = tmp_path / "held.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE t AS SELECT range AS id FROM range(3)")
    conn.close()
    return str(path), _count_opens(monkeypatch)


def _count(conn):
    return conn.execute("SELECT count(*) FROM t").fetchall()[0][0]


def test_readers_share_one_connection_while_held_and_it_is_closed_after(database):
    path, opened = database
    reader = ReadOnlyDatabase(path)
    with reader.holding():
        for _ in range(3):
            with reader.connection() as conn:
                assert _count(conn) == 3
        with reader.holding():  # nested: the same connection
            with reader.connection() as conn:
                assert _count(conn) == 3
    assert len(opened) == 1
    writer = duckdb.connect(path)  # released: a writer opens the file again
    writer.execute("INSERT INTO t VALUES (3)")
    writer.close()
    with reader.connection() as conn:  # not held: its own connection, as before
        assert _count(conn) == 4
    assert len(opened) == 2


def test_the_store_reads_through_one_connection_in_reading(database):
    path, opened = database
    store = CodeIntelStore(database=path)
    with store.reading():
        for _ in range(3):
            with store.connection(read_only=True) as conn:
                assert _count(conn) == 3
    assert len(opened) == 1
    with store.connection(read_only=True) as conn:
        assert _count(conn) == 3
    assert len(opened) == 2


def test_a_database_that_cannot_be_opened_is_reported_by_the_reader_itself(tmp_path, database):
    _, opened = database
    missing = str(tmp_path / "no" / "such" / "dir" / "x.duckdb")
    reader = ReadOnlyDatabase(missing)
    with reader.holding():  # nothing held: no error here
        with pytest.raises(duckdb.Error):
            with reader.connection():
                pass
    assert Path(missing).parent.exists() is False
    assert len(opened) == 2  # the holding attempt and the reader's own


def test_an_index_run_opens_the_database_once_to_read_before_and_once_after(tmp_path, monkeypatch):
    """End to end, in process: an unchanged re-run reads through one connection (it was four: the damage test,
    what is indexed, the link's state, the summary), an edit through one before its run and one after (it was two
    and three)."""
    import json

    from tests.conftest import TINY_REPO, index_repo, run_cli
    repo, env, _ = index_repo(tmp_path, TINY_REPO, no_failed_files=False)  # (its pkg/bad.py fails to parse)
    opened = _count_opens(monkeypatch)

    def index() -> dict:
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        return json.loads(out.strip().splitlines()[-1])
    assert index()["run_id"] is None  # nothing changed: no run
    assert len(opened) == 1
    first = repo / "pkg" / "good.py"
    first.write_text(first.read_text() + "\n_edited = 1\n")
    opened.clear()
    summary = index()
    assert summary["files_changed"] == 1 and summary["run_ok"]
    assert len(opened) == 2  # (the run's writer is not read-only: not counted)
