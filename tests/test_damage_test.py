"""resources.duck.check_database_file on real DuckDB files that DuckDB itself left shorter than its block count."""

import os

import duckdb
import pytest

from resources.duck import DUCKDB_HEADER_BYTES, DamagedDatabase, check_database_file


@pytest.fixture
def cut_by_duckdb(tmp_path):
    """A file whose header counts blocks that DuckDB cut off the end (a table dropped, then a checkpoint): the
    state a one-file edit can leave the standard library's database in."""
    db = str(tmp_path / "t.duckdb")
    with duckdb.connect(db) as c:
        c.execute("CREATE TABLE kept AS SELECT range AS i, range::VARCHAR AS s FROM range(200000)")
        c.execute("CHECKPOINT")
        c.execute("CREATE TABLE gone AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(500000)")
        c.execute("CHECKPOINT")
        c.execute("DROP TABLE gone")
        c.execute("CHECKPOINT")
    with duckdb.connect(db, read_only=True) as c:
        block_size, total = c.execute("SELECT block_size, total_blocks FROM pragma_database_size()").fetchone()
    assert os.path.getsize(db) < DUCKDB_HEADER_BYTES + block_size * total  # the state under test
    return db


def test_a_file_duckdb_cut_is_healthy(cut_by_duckdb):
    check_database_file(cut_by_duckdb)  # the exact test: every table's blocks are in the file
    check_database_file(cut_by_duckdb, as_left=True)
    with duckdb.connect(cut_by_duckdb, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM kept").fetchone()[0] == 200000


def test_a_cut_into_a_tables_blocks_is_damage(cut_by_duckdb):
    os.truncate(cut_by_duckdb, os.path.getsize(cut_by_duckdb) // 2)
    with pytest.raises(DamagedDatabase, match="damaged"):
        check_database_file(cut_by_duckdb)
