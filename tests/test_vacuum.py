"""When DuckDB may vacuum (resources/vacuum.py): deferred in incremental runs, once per step of growth.

The policy is tested on real DuckDB files; so is the DuckDB behaviour it relies on (deferred deletes keep their
blocks until a checkpoint that may vacuum frees them), so that a DuckDB that changes it fails here."""

import duckdb

from resources import vacuum
from tests.conftest import cli_env, run_cli, write_repo


def _state(db) -> list:
    with duckdb.connect(str(db)) as c:
        return c.execute(f"SELECT used_blocks_after_vacuum FROM {vacuum.STATE_TABLE}").fetchall()


def _begin(db) -> tuple[bool, int]:
    """begin_run on a fresh connection: (deferred, max_vacuum_tasks as the connection then has it)."""
    with duckdb.connect(str(db)) as c:
        deferred = vacuum.begin_run(c)
        return deferred, int(c.execute("SELECT current_setting('max_vacuum_tasks')").fetchall()[0][0])


def _settle(db) -> None:
    with duckdb.connect(str(db)) as c:
        vacuum.settle_baseline(c)


def _grow(db, rows: int) -> None:
    with duckdb.connect(str(db)) as c:
        c.execute("CREATE TABLE IF NOT EXISTS filler (s VARCHAR)")
        c.execute(f"INSERT INTO filler SELECT md5(random()::VARCHAR) || md5(random()::VARCHAR) FROM range({rows})")
        c.execute("CHECKPOINT")


def test_policy_defers_until_the_database_grows(tmp_path, monkeypatch):
    monkeypatch.setattr(vacuum, "VACUUM_MIN_BLOCKS", 4)  # (a small file: 4 blocks of growth is the step here)
    db = tmp_path / "v.duckdb"
    _grow(db, 200_000)
    # no state (a new database, or one from before the policy): DuckDB's default, and the next run measures
    deferred, tasks = _begin(db)
    assert not deferred and tasks > 0
    assert _state(db) == [(None,)]
    # a run that starts with no baseline (the vacuuming run died before its files were written) defers, and takes
    # the baseline when its files are written
    assert _begin(db) == (True, 0)
    assert _state(db) == [(None,)]
    _settle(db)
    with duckdb.connect(str(db)) as c:
        baseline = vacuum.used_blocks(c)
    assert _state(db) == [(baseline,)] and baseline > 0
    _settle(db)  # (once: a baseline is kept until the next vacuuming run)
    assert _state(db) == [(baseline,)]
    # a little growth (under 10 % of the baseline and under the step): still deferred, baseline kept
    assert _begin(db) == (True, 0)
    assert _state(db) == [(baseline,)]
    # growth past both: this run vacuums, and the next one measures again
    _grow(db, 200_000)
    with duckdb.connect(str(db)) as c:
        assert vacuum.used_blocks(c) - baseline >= max(4, 0.1 * baseline)
    deferred, tasks = _begin(db)
    assert not deferred and tasks > 0
    assert _state(db) == [(None,)]
    _settle(db)
    assert _state(db)[0][0] > baseline
    assert _begin(db) == (True, 0)


def test_deferred_deletes_keep_their_blocks_until_a_vacuuming_checkpoint(tmp_path):
    """The DuckDB behaviour the policy rests on: with max_vacuum_tasks = 0 a checkpoint after deleting most rows
    of every row group frees nothing; a later checkpoint with vacuum allowed (and a change to the table) does."""
    db = tmp_path / "d.duckdb"
    with duckdb.connect(str(db)) as c:
        c.execute("CREATE TABLE t AS SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(1_000_000) r(i)")
        c.execute("CHECKPOINT")
        full = vacuum.used_blocks(c)
        c.execute("SET max_vacuum_tasks = 0")
        c.execute("DELETE FROM t WHERE i % 10 < 7")
        c.execute("CHECKPOINT")
        deferred = vacuum.used_blocks(c)
        c.execute(vacuum.DUCKDB_DEFAULT)
        c.execute("DELETE FROM t WHERE i = 9")
        c.execute("CHECKPOINT")
        vacuumed = vacuum.used_blocks(c)
    assert deferred >= 0.9 * full, (full, deferred)
    assert vacuumed <= 0.6 * full, (full, deferred, vacuumed)


def test_index_runs_follow_the_policy(tmp_path):
    """A first index vacuums and takes the baseline when its files are written; the next run defers."""
    repo = write_repo(tmp_path / "repo", {"m.py": "def f():\n    return 1\n", "n.py": "import m\nm.f()\n"})
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    (baseline,), = _state(db)
    assert baseline is not None and baseline > 0
    (repo / "m.py").write_text("def f():\n    return 2\n")
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    assert _state(db) == [(baseline,)]
    # --full rewrites every file: it vacuums again, and measures anew
    with duckdb.connect(str(db)) as c:
        c.execute(f"UPDATE {vacuum.STATE_TABLE} SET used_blocks_after_vacuum = 1")
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)
    assert code == 0, err
    (after_full,), = _state(db)
    assert after_full is not None and after_full > 1
