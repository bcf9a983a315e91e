"""Fault injection with real processes, real signals and real files.

Every run that gets killed is ``python -m codeintel_assets.cli index`` in its own process (its Dagster
instance beside its database), killed by ``kill -9``: by itself at a point of the run
(``CODEINTEL_INJECT_FAULT=die=POINT``, see ``codeintel_assets/faults.py``) or by the test (``killpg``).
Recovery is always judged the same way: a plain ``codeintel index`` exits 0 by itself (within a
timeout: a hang is a failure, not a stuck suite), marks the dead run failed, leaves no spool, and the
tables hold exactly the rows of a clean index of the same repository (``table_hashes``).
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from codeintel_assets.faults import FAULT_ENV
from codeintel_assets.indexer import SPOOL_PREFIX, WRITE_BATCH_ENV
from codeintel_assets.pipeline import pass_tables
from tests.conftest import REPO_ROOT, run_cli, write_repo

RECOVERY_TIMEOUT = 120  # seconds; the old bug was a recovering index that waited forever
RUN_TIMEOUT = 300
ACTIVE = ("STARTED", "STARTING", "NOT_STARTED", "QUEUED", "CANCELING")


# helpers -------------------------------------------------------------------------------------------

def proc_env(**extra: str) -> dict[str, str]:
    """This environment without DAGSTER_HOME / CODEINTEL_*: the instance lives beside the database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CODEINTEL_") and k not in ("DAGSTER_HOME", "DAGSTER_EVENT_BATCH_SIZE")}
    env.update(extra)
    return env


def cli_argv(*argv: str) -> list[str]:
    return [sys.executable, "-m", "codeintel_assets.cli", *map(str, argv)]


def run_proc(argv: list[str], env: dict[str, str], timeout: float = RUN_TIMEOUT) -> tuple[int, str, str, int]:
    """A real process: exit code (negative: the signal), stdout, stderr, pid. A timeout fails the test."""
    proc = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(argv[1:])} did not finish within {timeout}s (a hang)\nstderr:\n{err[-3000:]}")
    return proc.returncode, out, err, proc.pid


def index_proc(repo: Path, db: Path, *extra: str, json_out: bool = True, timeout: float = RUN_TIMEOUT,
               **env_extra: str) -> tuple[int, str, str, int]:
    argv = cli_argv("index", repo, "--db", db, "--workers", "1", *(["--json"] if json_out else []), *extra)
    return run_proc(argv, proc_env(**env_extra), timeout)


def last_json(out: str) -> dict:
    lines = out.strip().splitlines()
    assert lines, "no stdout"
    return json.loads(lines[-1])


def index_in_process(repo: Path, db: Path, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "1", *extra], proc_env())
    return code, last_json(out), err


def table_columns(conn, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema='main' AND table_name=? "
        "ORDER BY ordinal_position", [table]).fetchall()]


def table_hashes(db: Path | str) -> dict[str, tuple[int, int]]:
    """{table: (rows, order-free sum of row hashes)} over every table of the pass and of the link step (its
    trace and lookup tables included: a --full empties them before its appends); the run id of
    ``codeintel_run_meta`` is left out (it legitimately differs per run)."""
    from codeintel_assets.link import LINK_TABLES, LOOKUP_TABLES, TRACE
    out = {}
    names = [tc.name for tc in pass_tables()] + [tc.name for tc in LINK_TABLES] + list(LOOKUP_TABLES) + [TRACE]
    with duckdb.connect(str(db), read_only=True) as conn:
        for name in names:
            cols = [c for c in table_columns(conn, name)
                    if not (name == "codeintel_run_meta" and c == "dagster_run_id")]
            assert cols, f"table {name} missing from {db}"
            expr = ", ".join(f'"{c}"' for c in cols)
            n, h = conn.execute(f'SELECT count(*), coalesce(sum(hash({expr})::HUGEINT), 0) FROM main."{name}"'
                                ).fetchone()
            out[name] = (int(n), int(h))
    return out


def assert_same_tables(db: Path, clean: dict[str, tuple[int, int]], what: str) -> None:
    got = table_hashes(db)
    diff = {t: {"got": got.get(t), "clean": clean[t]} for t in clean if got.get(t) != clean[t]}
    assert not diff, f"{what}: tables differ from a clean index: {diff}"


def clean_index(repo: Path, db: Path) -> dict[str, tuple[int, int]]:
    """A clean index of ``repo`` into ``db`` (in this process): its table hashes."""
    code, s, err = index_in_process(repo, db)
    assert code == 0 and s["run_ok"], (s, err)
    return table_hashes(db)


def home_of(db: Path) -> Path:
    return db.with_name(db.stem + ".dagster")


def runs_of_pid(db: Path, pid: int) -> dict[str, str]:
    """run id -> status name of the runs a `codeintel index` process ``pid`` started."""
    from dagster import DagsterInstance
    with DagsterInstance.from_config(str(home_of(db))) as inst:
        return {r.run_id: r.status.value for r in inst.get_runs() if r.tags.get("codeintel/pid") == str(pid)}


def run_status(db: Path, run_id: str) -> str:
    from dagster import DagsterInstance
    with DagsterInstance.from_config(str(home_of(db))) as inst:
        return inst.get_run_by_id(run_id).status.value


def active_runs(db: Path) -> list[str]:
    from dagster import DagsterInstance
    with DagsterInstance.from_config(str(home_of(db))) as inst:
        return [r.run_id for r in inst.get_runs() if r.status.value in ACTIVE]


def spools_beside(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(SPOOL_PREFIX))


def recover(repo: Path, db: Path, dead_pid: int | None, expect_dead_run: bool = True) -> str:
    """A plain `codeintel index` after a kill: exit 0 by itself, the dead run marked failed, no spool."""
    dead = runs_of_pid(db, dead_pid) if dead_pid is not None and home_of(db).exists() else {}
    if expect_dead_run:
        assert len(dead) == 1 and set(dead.values()) <= set(ACTIVE), f"the killed process left no active run: {dead}"
    t = time.perf_counter()
    code, out, err, _ = index_proc(repo, db, json_out=False, timeout=RECOVERY_TIMEOUT)
    assert code == 0, f"the recovering index exited {code}\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}"
    for run_id in dead:
        assert f"run {run_id} died with its process: marked failed" in err, err
        assert run_status(db, run_id) == "FAILURE"
    assert active_runs(db) == [], "a run is still active after the recovering index"
    assert spools_beside(db) == [], spools_beside(db)
    print(f"  recovered in {time.perf_counter() - t:.1f}s")
    return err


def kill_at(point: str, repo: Path, db: Path, *extra: str, **env: str) -> int:
    """`codeintel index` that SIGKILLs itself at ``point``: its pid."""
    code, out, err, pid = index_proc(repo, db, *extra, **env, **{FAULT_ENV: f"die={point}"})
    assert code == -signal.SIGKILL, f"die={point}: exit {code}, not killed at the point\nstderr:\n{err[-3000:]}"
    return pid


def small_module(i: int) -> str:
    return (f"import os\n\nK{i} = {i}\n\n"
            f"def f{i}(x, y={i}):\n"
            f"    if x > y:\n"
            f"        return [k * {i} for k in range(x)]\n"
            f"    try:\n"
            f"        return os.sep * y\n"
            f"    except TypeError as e:\n"
            f"        raise ValueError(x) from e\n\n"
            f"class C{i}:\n    def m(self, a):\n        return lambda b: a + b + {i}\n")


def make_repo(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        d = root / f"pkg{i % 5}"
        d.mkdir(exist_ok=True)
        (d / f"m{i:03d}.py").write_text(small_module(i))
    return root


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """6 small files, a clean index of them and its hashes (tests copy the repository before changing it)."""
    base = tmp_path_factory.mktemp("small")
    repo = make_repo(base / "repo", 6)
    db = base / "clean" / "x.duckdb"
    return repo, db, clean_index(repo, db)


BIG_FILES = 48  # two extraction chunks of 24 (pipeline.CHUNK_FILES)
BATCH_FILES = "16"  # CODEINTEL_WRITE_BATCH_FILES for the runs killed between write batches
# The last chunk holds pkg4's files (sorted paths); each sleeps this long in the source plane, so a run is
# still extracting for ~10 s after its first progress line (a kill or a second run arrives mid-run)
SLOW_TAIL = {FAULT_ENV: "source:sleep=pkg4/*:1.0"}


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """48 small files (two extraction chunks: with BATCH_FILES, one write batch per chunk) and the hashes of
    its clean index."""
    from codeintel_assets.pipeline import CHUNK_FILES
    base = tmp_path_factory.mktemp("big")
    repo = make_repo(base / "repo", BIG_FILES)
    first_chunk = sorted(str(f.relative_to(repo)) for f in repo.rglob("*.py"))[:CHUNK_FILES]
    assert BIG_FILES == 2 * CHUNK_FILES and not any(f.startswith("pkg4/") for f in first_chunk)  # SLOW_TAIL's files
    return repo, clean_index(repo, base / "clean" / "x.duckdb")


# 1 kill -9 ----------------------------------------------------------------------------------------

def py_files_rows(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as c:
        return c.execute("SELECT count(*) FROM py_files").fetchone()[0]


def test_kill_9_at_each_point_then_a_plain_index_recovers(tmp_path, small):
    """die=after-delete (first run on a new database), die=append and die=gates (a --full run), die=purge
    (two files deleted), each followed by a plain index, on one database."""
    template, _, clean = small
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    db = tmp_path / "db" / "x.duckdb"

    print("die=after-delete")
    pid = kill_at("after-delete", repo, db)
    assert py_files_rows(db) == 0
    recover(repo, db, pid)
    assert_same_tables(db, clean, "after die=after-delete")

    for point, rows_at_kill in (("append", 0), ("gates", 6)):
        print(f"die={point}")
        pid = kill_at(point, repo, db, "--full")
        assert py_files_rows(db) == rows_at_kill, point  # append: deleted, the append rolled back; gates: all written
        # `codeintel check` judges the rows that are there: it also says which files a dead run took the rows of
        # (before: "15 passed" on the emptied tables, exit 0)
        code, out, _ = run_proc(cli_argv("check", "--db", db), proc_env(), RUN_TIMEOUT)[:3]
        if rows_at_kill == 0:
            assert code == 1 and "FAIL 6 files have no rows" in out and "`codeintel index` restores them" in out, out
        else:
            assert code == 0 and "have no rows" not in out, out
        recover(repo, db, pid)
        assert_same_tables(db, clean, f"after die={point}")
        code, out, _ = run_proc(cli_argv("check", "--db", db), proc_env(), RUN_TIMEOUT)[:3]
        assert code == 0 and "have no rows" not in out, out

    print("die=purge")
    gone = sorted(repo.rglob("*.py"))[:2]
    for f in gone:
        f.unlink()
    reduced_clean = clean_index(repo, tmp_path / "clean2" / "x.duckdb")
    assert reduced_clean["py_files"][0] == 4
    pid = kill_at("purge", repo, db)
    assert py_files_rows(db) == 6  # the purge transaction died before its COMMIT
    recover(repo, db, pid, expect_dead_run=False)  # the purge precedes the run: no run to mark failed
    assert_same_tables(db, reduced_clean, "after die=purge")


def test_kill_9_after_the_first_of_two_write_batches(tmp_path, big):
    repo, clean = big
    db = tmp_path / "db" / "x.duckdb"
    pid = kill_at("after-append", repo, db, **{WRITE_BATCH_ENV: BATCH_FILES})
    with duckdb.connect(str(db), read_only=True) as c:  # one batch committed, not all
        committed = c.execute("SELECT count(*) FROM py_files").fetchone()[0]
    assert 0 < committed < BIG_FILES, committed
    recover(repo, db, pid)
    assert_same_tables(db, clean, "after die=after-append")


def test_the_run_that_finishes_a_killed_first_index_takes_the_vacuum_baseline(tmp_path, big, monkeypatch):
    """A first index killed after its first write batch leaves no vacuum baseline (resources/vacuum.py). The run
    that finishes it takes the baseline when its files are written, so the files it added are not growth and the
    next edit defers vacuum. Before, it took the dead run's size: the first edit then vacuumed every row group
    the recovery wrote (Django after a full file system: 1,060 -> 1,647 blocks for one edited file)."""
    from resources import vacuum
    template, _ = big
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    db = tmp_path / "db" / "x.duckdb"
    kill_at("after-append", repo, db, **{WRITE_BATCH_ENV: BATCH_FILES})

    def state_and_used():
        with duckdb.connect(str(db), read_only=True) as c:
            return (c.execute(f"SELECT used_blocks_after_vacuum FROM {vacuum.STATE_TABLE}").fetchall(),
                    vacuum.used_blocks(c))
    state, dead_used = state_and_used()
    assert state == [(None,)]
    code, s, err = index_in_process(repo, db)
    assert code == 0 and s["files_added"] > 0, (s, err)
    (baseline,), used = state_and_used()
    # (the checkpoint that closes the run rewrites the bookkeeping tables: a block or two past the baseline)
    assert baseline[0] is not None and dead_used < baseline[0] <= used <= baseline[0] + 2, (dead_used, used, baseline)
    monkeypatch.setattr(vacuum, "VACUUM_MIN_BLOCKS", 1)  # (a small file: any 10 % of growth would vacuum)
    edited = sorted(repo.rglob("*.py"))[0]
    edited.write_text(edited.read_text() + "\nEXTRA = 1\n")
    code, s, err = index_in_process(repo, db)
    assert code == 0 and s["files_changed"] == 1, (s, err)
    assert state_and_used()[0] == [baseline]  # deferred: the baseline stays

def test_an_interrupted_incremental_run_keeps_the_old_rows_of_the_files_it_had_not_written(tmp_path, big):
    """40 of the 48 files edited, then an incremental run killed after its first write batch: the batch's files
    have their new rows, every other file still has its old ones (before: every changed file's rows were
    deleted up front, and `codeintel check` passed on the emptied tables). The next plain index finishes the
    job. (A run that indexes every stored file, --full or every file edited, still deletes first: the
    module docstring of codeintel_assets.indexer says why.)"""
    template, _ = big
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    db = tmp_path / "db" / "x.duckdb"
    code, s, err = index_in_process(repo, db)
    assert code == 0 and s["files_added"] == BIG_FILES, (s, err)
    with duckdb.connect(str(db), read_only=True) as c:
        old = dict(c.execute("SELECT path, file_id FROM py_files").fetchall())
        old_units = c.execute("SELECT count(*) FROM py_bc_code_units").fetchone()[0]
    edited = sorted(repo.rglob("*.py"))[:40]
    for f in edited:
        f.write_text(f.read_text() + "\n\ndef added():\n    return 1\n")
    pid = kill_at("after-append", repo, db, **{WRITE_BATCH_ENV: BATCH_FILES})
    with duckdb.connect(str(db), read_only=True) as c:
        now = dict(c.execute("SELECT path, file_id FROM py_files").fetchall())
        units = dict(c.execute("SELECT f.path, count(u.code_unit_id) FROM py_files f "
                               "LEFT JOIN py_bc_code_units u USING (path) GROUP BY ALL").fetchall())
    assert set(now) == set(old)  # no file lost its rows
    rewritten = {p for p in now if now[p] != old[p]}
    assert 0 < len(rewritten) < len(edited), len(rewritten)
    # the rewritten files have the new function's code unit; the others their old rows, complete
    assert all(units[p] == old_units // BIG_FILES + (p in rewritten) for p in now), units
    recover(repo, db, pid)
    assert_same_tables(db, clean_index(repo, tmp_path / "clean" / "x.duckdb"), "after the interrupted incremental run")


def test_external_kill_9_of_the_process_group_mid_run(tmp_path, big):
    repo, clean = big
    db = tmp_path / "db" / "x.duckdb"
    proc = subprocess.Popen(cli_argv("index", repo, "--db", db, "--workers", "1"), env=proc_env(**SLOW_TAIL),
                            cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        for line in proc.stderr:
            seen.append(line)
            if "[file_planes]" in line and "files," in line:
                break
            assert time.monotonic() < deadline, "no progress line in time"
        else:
            pytest.fail("the run ended without a progress line:\n" + "".join(seen))
        os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert rc == -signal.SIGKILL, (rc, "".join(seen))
    assert seen[-1].strip().startswith("[file_planes]") and f"/{BIG_FILES} files" in seen[-1], seen[-1]
    recover(repo, db, proc.pid)
    assert_same_tables(db, clean, "after an external kill -9")


# 2 FIFO and devices -------------------------------------------------------------------------------

def test_fifo_and_device_links_are_failure_rows_and_settle(tmp_path):
    repo = write_repo(tmp_path / "repo", {"a.py": small_module(1), "sub/b.py": small_module(2)})
    os.mkfifo(repo / "fifo.py")
    (repo / "zero.py").symlink_to("/dev/zero")
    (repo / "sub" / "null.py").symlink_to("/dev/null")
    specials = ["fifo.py", "sub/null.py", "zero.py"]
    db = tmp_path / "x.duckdb"

    code, out, err, _ = index_proc(repo, db, timeout=RECOVERY_TIMEOUT)
    s = last_json(out)
    assert code == 0 and s["run_ok"], (code, s, err)
    assert s["files_seen"] == 5 and s["files_added"] == 5, s
    assert sorted(f.split(":")[0] for f in s["failed_files"]) == specials, s["failed_files"]
    with duckdb.connect(str(db), read_only=True) as c:
        rows = {r[0]: r[1:] for r in c.execute("SELECT path, ok, error_msg FROM py_files").fetchall()}
        ok_elsewhere = c.execute("SELECT count(*) FROM py_bc_code_units WHERE path IN ('a.py', 'sub/b.py')").fetchone()[0]
    for p in specials:
        assert rows[p][0] is False and "not a regular file" in rows[p][1], (p, rows[p])
    assert rows["a.py"][0] is True and rows["sub/b.py"][0] is True, rows
    assert ok_elsewhere > 0

    # In this process: the run above showed that neither the scan nor the extraction opens them.
    code, s, err = index_in_process(repo, db)
    assert code == 0, (s, err)
    assert (s["files_changed"], s["files_added"], s["files_unchanged"], s["run_id"]) == (0, 0, 5, None), s
    assert s["files_failed_in_db"] == 3


# 3 unreadable directory ---------------------------------------------------------------------------

def test_unreadable_directory_is_a_warning(tmp_path):
    repo = write_repo(tmp_path / "repo", {"ok.py": small_module(1), "open/o.py": small_module(2),
                                          "locked/hidden.py": small_module(3)})
    locked = repo / "locked"
    locked.chmod(0o000)
    try:
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            assert setpriv, "setpriv (util-linux) is needed to run a permission case as root"
            prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--"]
        db = tmp_path / "x.duckdb"
        code, out, err, _ = run_proc(prefix + cli_argv("index", repo, "--db", db, "--json", "--workers", "1"),
                                     proc_env(), timeout=RECOVERY_TIMEOUT)
    finally:
        locked.chmod(0o755)
    s = last_json(out)
    assert code == 0 and s["run_ok"], (code, s, err)
    warn = [ln for ln in err.splitlines() if ln.startswith(f"codeintel: warning: cannot list {locked}")]
    assert len(warn) == 1, err
    assert s["files_seen"] == 2 and s["files_added"] == 2 and s["files_failed"] == 0, s
    with duckdb.connect(str(db), read_only=True) as c:
        assert sorted(r[0] for r in c.execute("SELECT path FROM py_files WHERE ok").fetchall()) == ["ok.py", "open/o.py"]


# 4 two runs on one database -----------------------------------------------------------------------

def test_two_concurrent_runs_on_one_database(tmp_path, big):
    repo, clean = big
    db = tmp_path / "db" / "x.duckdb"
    run1 = subprocess.Popen(cli_argv("index", repo, "--db", db, "--workers", "1"), env=proc_env(**SLOW_TAIL),
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    run2 = None
    try:
        seen = []
        for line in run1.stderr:
            seen.append(line)
            if "[file_planes]" in line and "files," in line:
                break
        else:
            pytest.fail("run 1 ended without a progress line:\n" + "".join(seen))
        # Run 1 holds the lock (it is extracting): a second run waits, a --no-wait run gives up.
        run2 = subprocess.Popen(cli_argv("index", repo, "--db", db, "--workers", "1"), env=proc_env(),
                                cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        code_nw, out_nw, err_nw, _ = run_proc(cli_argv("index", repo, "--db", db, "--workers", "1", "--no-wait"),
                                              proc_env(), timeout=60)
        out1, rest1 = run1.communicate(timeout=RUN_TIMEOUT)
        out2, err2 = run2.communicate(timeout=RECOVERY_TIMEOUT)
    finally:
        for p in (run1, run2):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    err1 = "".join(seen) + rest1
    assert run1.returncode == 0, err1[-3000:]
    assert out1.lstrip().startswith(f"indexed {BIG_FILES} files") and "RUN FAILED" not in out1, out1[-2000:]
    runs1 = runs_of_pid(db, run1.pid)
    assert list(runs1.values()) == ["SUCCESS"], runs1

    assert run2.returncode == 0, err2[-3000:]
    waiting = [ln for ln in err2.splitlines() if "waiting for" in ln]
    assert len(waiting) == 1 and f"pid {run1.pid} " in waiting[0] and str(db) in waiting[0], err2
    assert f"{BIG_FILES} files: 0 new, 0 changed, 0 removed, {BIG_FILES} unchanged" in err2, err2  # it ran after run 1 ended
    assert_same_tables(db, clean, "after two concurrent runs")

    assert code_nw == 2, (code_nw, out_nw, err_nw)
    lines = [ln for ln in err_nw.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(db) in lines[0] and "Traceback" not in err_nw, err_nw
    assert f"pid {run1.pid} " in lines[0], lines[0]


def test_a_foreign_file_as_the_database_is_named_and_left_alone(tmp_path, small):
    """`--db` pointing at a file that is not a DuckDB database (a user's notes, another tool's file): `check` and
    `index` exit 2 with one line saying what the file is not, and the file is untouched. Before: 'the database ... is
    damaged; rebuild it with `codeintel index --rebuild`', advice that removes the user's file (from the click trial)."""
    template, _, _ = small
    db = tmp_path / "notes.duckdb"
    content = b"my notes, not a database\n" * 200
    db.write_bytes(content)
    for args in (["check", "--db", str(db)], ["index", str(template), "--db", str(db), "--workers", "1"]):
        code, _, err = run_cli(args, proc_env())
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, (args, code, err[-2000:])
        assert f"{db} is not a DuckDB database file" in lines[0] and "point --db at another path" in lines[0], lines[0]
    assert db.read_bytes() == content


def test_a_full_file_system_in_a_worker_is_named_and_the_next_run_finishes(tmp_path):
    """The file system fills while a worker process writes its spool (found on a 300 MB file system: the summary
    said only `RUN FAILED: concurrent.futures.process._RemoteTraceback:`, the first line of the worker's
    traceback). The run fails with exit 2 and says what failed and where, the spool is removed, and the next run
    ends with the rows of a clean index."""
    from codeintel_assets.pipeline import CHUNK_FILES
    repo = make_repo(tmp_path / "repo", 4 * CHUNK_FILES)  # four chunks: the pass runs in worker processes
    db = tmp_path / "db" / "x.duckdb"
    env = proc_env(**{FAULT_ENV: "full=spool"})
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "2"], env)
    s = last_json(out)
    assert code == 2 and not s["run_ok"], (code, s.get("run_error"), err[-2000:])
    assert "_RemoteTraceback" not in s["run_error"] and "Traceback" not in err, s["run_error"]
    assert "No space left on device" in s["run_error"] and ".parquet" in s["run_error"], s["run_error"]
    assert f"the file system of {db.parent} is full" in s["run_error"], s["run_error"]
    assert s["run_error"] in err  # the same line on stderr: `codeintel: the run failed: ...`
    assert spools_beside(db) == []
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "2"], proc_env())
    assert code == 0 and last_json(out)["run_ok"], err[-2000:]
    assert_same_tables(db, clean_index(repo, tmp_path / "clean" / "x.duckdb"), "after a full file system")


# 5 truncated database -----------------------------------------------------------------------------

@pytest.mark.parametrize("history", ["first-index", "incremental"])
def test_truncated_database_is_reported_and_rebuilt(tmp_path, small, history):
    """A database cut short (a full disk, a bad copy), after its first index and after an incremental
    index of one changed file (which leaves free blocks in the file): reported at start, rebuilt."""
    template, clean_db, clean = small
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    original = tmp_path / "orig" / "x.duckdb"
    if history == "first-index":
        original.parent.mkdir()
        shutil.copyfile(clean_db, original)
    else:
        code, s, err = index_in_process(repo, original)
        assert code == 0, (s, err)
        (repo / "pkg0" / "m000.py").write_text("X = 1\n")
        code, s, err = index_in_process(repo, original)
        assert code == 0 and s["files_changed"] == 1, (s, err)
        clean = clean_index(repo, tmp_path / "clean" / "x.duckdb")
    size = original.stat().st_size
    with duckdb.connect(str(original), read_only=True) as c:
        block_size, total, used, free = c.execute(
            "SELECT block_size, total_blocks, used_blocks, free_blocks FROM pragma_database_size()").fetchone()
    print(f"{history}: database {size:,} bytes; block size {block_size}, blocks total {total}, used {used}, "
          f"free {free}")
    for frac in (0.90, 0.99):
        db = tmp_path / f"cut{int(frac * 100)}" / "x.duckdb"
        db.parent.mkdir()
        shutil.copyfile(original, db)
        os.truncate(db, int(size * frac))
        what = (f"{history} database truncated to {frac:.0%} ({int(size * frac):,} of {size:,} bytes; block size "
                f"{block_size}, blocks total {total}, used {used}, free {free})")

        code, out, err = run_cli(["index", str(repo), "--db", str(db), "--workers", "1"], proc_env())
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and "damaged" in err, f"{what}: not detected at start: `codeintel index` exited {code}\n{err[-2000:]}"
        assert len(lines) == 1 and "Traceback" not in err, err
        assert "damaged" in lines[0] and "--rebuild" in lines[0] and str(db) in lines[0], lines[0]

        code, out, err = run_cli(["check", "--db", str(db)], proc_env())
        how = "check"
        if code != 2:  # the cheap check missed it: the thorough one must not
            how = "check --recompute"
            code, out, err = run_cli(["check", "--db", str(db), "--recompute"], proc_env())
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2, f"{what}: `codeintel {how}` exited {code}\n{out[-2000:]}{err[-2000:]}"
        assert len(lines) == 1 and str(db) in lines[0] and "Traceback" not in err, err
        print(f"  {frac:.0%}: `codeintel {how}` exit 2: {lines[0][:160]}")

        code, s, err = index_in_process(repo, db, "--rebuild")
        assert code == 0 and s["run_ok"] and s["files_added"] == 6, (s, err)
        assert_same_tables(db, clean, f"after --rebuild of a {what}")


def test_a_database_cut_in_place_after_a_finished_run_is_reported(tmp_path, small):
    """The damage test trusts a file shorter than its block count only when it is the file a finished run left
    (codeintel_assets.settled: same size and mtime). Cut in place, beside the instance that recorded it: the
    size differs, the exact test runs and finds the missing blocks."""
    template, _clean_db, _clean = small
    repo = tmp_path / "repo"
    shutil.copytree(template, repo)
    db = tmp_path / "x.duckdb"
    code, s, err = index_in_process(repo, db)
    assert code == 0, (s, err)
    code, s, err = index_in_process(repo, db)  # no work: answered from the recorded state
    assert code == 0 and s["run_id"] is None, (s, err)
    assert (home_of(db) / "codeintel_settled.json").exists()
    os.truncate(db, int(db.stat().st_size * 0.9))
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--workers", "1"], proc_env())
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "damaged" in lines[0] and str(db) in lines[0], (code, err[-2000:])


# 6 hash seeds -------------------------------------------------------------------------------------

def test_same_rows_under_two_hash_seeds(tmp_path):
    def frozenset_repr(seed: int) -> str:
        return subprocess.run([sys.executable, "-c", "print(repr(frozenset({'p', 'q', 'r', 's'})))"],
                              env=proc_env(PYTHONHASHSEED=str(seed)), capture_output=True, text=True,
                              check=True).stdout.strip()

    seeds = next(((a, b) for a, b in [(1, 12345), (1, 2), (3, 4), (5, 6), (7, 8)]
                  if frozenset_repr(a) != frozenset_repr(b)), None)
    assert seeds, "no two hash seeds give different frozenset reprs: the test would prove nothing"
    print(f"seeds {seeds}: {frozenset_repr(seeds[0])} vs {frozenset_repr(seeds[1])}")
    repo = write_repo(tmp_path / "repo", {
        "sets.py": """
            def f(x):
                if x in {1, 'a', 2.5, None}:
                    return [y for y in {'p', 'q', 'r', 's'}]
                for y in {'p', 'q', 'r', 's'}:
                    print(y)
                return x not in frozenset({'k', 'l', 'm'})
        """,
        "more.py": "S = {'u', 'v', 'w'}\n\ndef g(a):\n    return a in {'u', 'v', 'w', 'x', 'y'}\n",
        # mid's free variables only pass through to inner: symtable's get_frees() order for mid follows
        # set iteration in the compiler's analysis (the hash seed); py_sym_function_partitions sorts them.
        "closures.py": """
            def outer(alpha, beta, gamma, delta, eps, zeta, eta, theta):
                def mid():
                    def inner():
                        return alpha, beta, gamma, delta, eps, zeta, eta, theta
                    return inner
                return mid
        """,
    })
    procs = []
    for seed in seeds:
        db = tmp_path / f"seed{seed}" / "x.duckdb"
        procs.append((db, subprocess.Popen(cli_argv("index", repo, "--db", db, "--json", "--workers", "1"),
                                           env=proc_env(PYTHONHASHSEED=str(seed)), cwd=REPO_ROOT,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for db, p in procs:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        assert p.returncode == 0, err[-3000:]
    (db_a, _), (db_b, _) = procs
    with duckdb.connect(str(db_a), read_only=True) as c:
        consts = c.execute("SELECT count(*) FROM py_bc_instructions WHERE argrepr LIKE 'frozenset(%'").fetchone()[0]
    assert consts >= 3, "no frozenset constant in the bytecode rows: the test would prove nothing"
    a, b = table_hashes(db_a), table_hashes(db_b)
    assert a == b, {t: (a[t], b[t]) for t in a if a[t] != b[t]}


# 7 one read per file ------------------------------------------------------------------------------

def test_edit_between_scan_and_read_gives_one_version_and_same_file_id_gate(tmp_path):
    repo = write_repo(tmp_path / "repo", {"a.py": small_module(1), "b.py": small_module(2), "c.py": small_module(3)})
    db = tmp_path / "x.duckdb"
    # a.py (read first) sleeps in its first plane: b.py is edited after the scan hashed it and before it is read.
    proc = subprocess.Popen(cli_argv("index", repo, "--db", db, "--workers", "1"),
                            env=proc_env(**{FAULT_ENV: "source:sleep=a.py:1.5"}), cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    new_b = small_module(2) + "\ndef added_after_the_scan(q):\n    return {q: q}\n"
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "3 files: 3 new" in line:
                (repo / "b.py").write_text(new_b)
                break
        else:
            pytest.fail("no scan line:\n" + "".join(seen))
        out, rest = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, ("".join(seen) + rest)[-3000:]

    file_id_tables = [tc.name for tc in pass_tables() if "file_id" in tc.schema.names and tc.name != "py_files"]
    with duckdb.connect(str(db), read_only=True) as c:
        sha_b = c.execute("SELECT sha256 FROM py_files WHERE path = 'b.py'").fetchone()[0]
        mixed = {t: c.execute(f'SELECT t.path, t.file_id, f.file_id FROM main."{t}" t LEFT JOIN py_files f USING (path) '
                              f'WHERE f.file_id IS DISTINCT FROM t.file_id').fetchall() for t in file_id_tables}
        b_in = {t: c.execute(f'SELECT count(*) FROM main."{t}" WHERE path = \'b.py\'').fetchone()[0]
                for t in file_id_tables}
        added = c.execute("SELECT count(*) FROM py_bc_code_units WHERE path = 'b.py' "
                          "AND co_name = 'added_after_the_scan'").fetchone()[0]
    assert {t: r for t, r in mixed.items() if r} == {}
    assert sha_b == hashlib.sha256(new_b.encode()).hexdigest(), "b.py was not read after the edit"
    assert added == 1 and b_in["py_sym_files"] == 1 and b_in["codeintel_gate_results"] > 0, b_in
    # The stored hash is of the bytes the rows were made from, the ones on disk: nothing to do.
    code, s, err = index_in_process(repo, db)
    assert code == 0 and (s["files_changed"], s["files_unchanged"], s["run_id"]) == (0, 3, None), (s, err)

    code, out, err = run_cli(["check", "--db", str(db), "--recompute"], proc_env())
    assert code == 0, out + err
    victim = "py_sym_scopes"
    with duckdb.connect(str(db)) as c:
        c.execute(f"UPDATE {victim} SET file_id = 'f' || file_id WHERE path = 'c.py'")
    code, out, err = run_cli(["check", "--db", str(db), "--recompute"], proc_env())
    assert code == 1, out + err
    report = out.splitlines()
    at = next(i for i, ln in enumerate(report) if "same_file_id" in ln)
    assert "FAIL" in report[at] or "fail" in report[at].lower(), report[at]
    findings = [ln for ln in report[at + 1:] if ln.startswith("    ")]
    assert any("c.py" in ln and victim in ln for ln in findings), out


def test_write_batch_setting_is_checked(monkeypatch):
    from codeintel_assets.indexer import WRITE_BATCH_FILES, write_batch_files
    monkeypatch.delenv(WRITE_BATCH_ENV, raising=False)
    assert write_batch_files() == WRITE_BATCH_FILES
    monkeypatch.setenv(WRITE_BATCH_ENV, "16")
    assert write_batch_files() == 16
    for bad in ("0", "-3", "many", ""):
        monkeypatch.setenv(WRITE_BATCH_ENV, bad)
        with pytest.raises(ValueError, match=WRITE_BATCH_ENV):
            write_batch_files()


def test_file_names_the_database_can_and_cannot_hold(tmp_path):
    """Names with ':' (the separator of node ids), spaces, quotes and non-ASCII letters are indexed and linked
    like any other; a name whose bytes are not UTF-8 (no text column can hold it) is one warning naming it,
    the same on the next run, and every other file is indexed (it stopped the whole index with a
    UnicodeEncodeError traceback)."""
    repo = write_repo(tmp_path / "repo", {
        "pkg/__init__.py": "", "pkg/a:b.py": "def f(x):\n    return g(x)\n\n\ndef g(y):\n    return y\n",
        "pkg/c.py": "def h(z):\n    return z\n", "sp ace.py": "from pkg import c\nc.h(1)\n",
        "é.py": "x = 1\n", "quote'.py": "y = 2\n", "ok/m.py": "w = 1\n"})
    bad_file = os.fsencode(repo) + b"/bad\xff.py"
    bad_dir = os.fsencode(repo) + b"/d\xfeir"
    with open(bad_file, "wb") as fh:
        fh.write(b"z = 3\n")
    os.mkdir(bad_dir)
    with open(bad_dir + b"/m.py", "wb") as fh:
        fh.write(b"v = 4\n")
    db = tmp_path / "x.duckdb"
    for run in (1, 2):
        code, s, err = index_in_process(repo, db)
        assert code == 0 and s["run_ok"] and s["checks_failed"] == 0, (s, err)
        assert s["files_seen"] == 7 and s["files_failed"] == 0, s
        assert s["files_added" if run == 1 else "files_unchanged"] == 7, s
        warned = [w for w in s["warnings"] if "is not UTF-8" in w]
        assert sorted(warned) == sorted([f"cannot index {bad_file!r}: its name is not UTF-8 (paths are stored as "
                                         "text; rename it to index it)",
                                         f"cannot index {bad_dir!r}: its name is not UTF-8 (paths are stored as "
                                         "text; its files are not indexed)"]), s["warnings"]
    with duckdb.connect(str(db), read_only=True) as c:
        assert sorted(r[0] for r in c.execute("SELECT path FROM py_files WHERE ok").fetchall()) == sorted(
            ["pkg/__init__.py", "pkg/a:b.py", "pkg/c.py", "sp ace.py", "é.py", "quote'.py", "ok/m.py"])
        calls = {(p, callee) for p, callee, rule in c.execute(
            "SELECT path, callee_qualname, rule FROM cpg_calls WHERE rule <> 'builtin'").fetchall()}
        assert calls == {("pkg/a:b.py", "pkg.a:b.g"), ("sp ace.py", "pkg.c.h")}, calls
