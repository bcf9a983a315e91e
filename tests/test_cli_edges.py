"""Edges of `codeintel index`: injected extractor failures on every plane, databases and Dagster instances
side by side, locations the process may not write, an empty repository, spool leftovers, the database
size on a full re-index, and import roots end to end.

In-process through ``conftest.run_cli`` except where the process boundary is the point: permissions
(the test suite runs as root, so those cases run ``python -m codeintel_assets.cli`` in a process that
the kernel holds to the permission bits) and SIGINT.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from codeintel_assets.contracts import contract
from codeintel_assets.indexer import SPOOL_PREFIX, WRITE_BATCH_ENV, spool_prefix
from codeintel_assets.pipeline import FAULT_ENV, pass_tables
from codeintel_assets.planes import file_planes, upstream_planes
from tests.conftest import REPO_ROOT, cli_env, run_cli, write_repo

PER_FILE_TABLES = [tc.name for tc in pass_tables()]

VALID = """
    import os

    def f(x, y=1):
        if x > y:
            return [k * y for k in range(x)]
        try:
            return os.sep * y
        except TypeError as e:
            raise ValueError(x) from e

    class C:
        def m(self):
            return self
"""


def index(repo: Path, env: dict, *extra: str) -> tuple[int, dict, str]:
    """`codeintel index REPO --json --workers 1 EXTRA` in-process: exit code, the JSON summary, stderr."""
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
    lines = out.strip().splitlines()
    assert lines, f"no stdout; exit {code}; stderr:\n{err}"
    return code, json.loads(lines[-1]), err


def no_home_env(**extra: str) -> dict[str, str]:
    """This process's environment without DAGSTER_HOME / CODEINTEL_DB: each database gets its own instance."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_HOME", "CODEINTEL_DB", "DAGSTER_EVENT_BATCH_SIZE", FAULT_ENV)}
    env.update(extra)
    return env


def status_rows(db: Path | str, table: str) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as c:
        return {r[0]: tuple(r[1:]) for r in c.execute(
            f'select path, ok, error_stage, error_type, error_msg from "{table}"').fetchall()}


def spools_beside(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if p.name.startswith(SPOOL_PREFIX))


def downstream_of(plane: str) -> set[str]:
    """Every file plane that reads ``plane``'s tables, directly or through another plane."""
    out: set[str] = set()
    grew = True
    while grew:
        grew = False
        for q in file_planes():
            if q.name not in out and ({plane} | out) & set(upstream_planes(q)):
                out.add(q.name)
                grew = True
    return out


def generated_module(i: int, functions: int) -> str:
    parts = [f"import os\n\nCONST_{i} = {i}\n\n"]
    for j in range(functions):
        parts.append(
            f"def f{j}(x, y={j}):\n"
            f"    if x > y:\n"
            f"        return [k * {j} for k in range(x)]\n"
            f"    try:\n"
            f"        return os.sep * y\n"
            f"    except TypeError as e:\n"
            f"        raise ValueError(x) from e\n\n")
    parts.append(f"class C{i}:\n    def m(self, a):\n        return lambda b: a + b + {i}\n")
    return "".join(parts)


def generated_repo(root: Path, n: int, functions: int) -> Path:
    root.mkdir(parents=True)
    for i in range(n):
        d = root / f"pkg{i % 10}"
        d.mkdir(exist_ok=True)
        (d / f"mod{i:03d}.py").write_text(generated_module(i, functions))
    return root


# 1 ------------------------------------------------------------------------------------------------

def test_injected_extractor_failure_on_every_plane(tmp_path):
    planes = [p.name for p in file_planes()]
    files = [f"{chr(ord('a') + i)}.py" for i in range(max(4, len(planes)))]
    repo = write_repo(tmp_path / "repo", {f: VALID for f in files})
    fault_of = dict(zip(files, planes))  # file -> the plane whose extractor raises on it
    assert set(fault_of.values()) == set(planes)
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]

    code, s, err = index(repo, dict(env, **{FAULT_ENV: ",".join(f"{p}={f}" for f, p in fault_of.items())}))
    assert s["run_ok"] is True and s["files_seen"] == len(files), (s, err)
    assert sorted(s["failed_files"]) == sorted(
        f"{f}: {p}: extract failed: ExtractorError.RuntimeError: internal error in the {p} extractor: "
        f"injected fault ({FAULT_ENV})" for f, p in fault_of.items())

    # Each plane's status table: `extract` where its extractor raised, `upstream` in every plane that
    # reads it (directly or not), ok everywhere else (the planes upstream of it, and unrelated ones).
    assert any(downstream_of(p) for p in planes), "no plane reads another: the upstream case is untested"
    status = {p.name: status_rows(db, p.status) for p in file_planes()}
    for f, faulted in fault_of.items():
        below = downstream_of(faulted)
        for p in planes:
            ok, stage, etype, msg = status[p][f]
            if p == faulted:
                assert (ok, stage, etype) == (False, "extract", "ExtractorError.RuntimeError"), (f, p)
                assert msg == f"internal error in the {p} extractor: injected fault ({FAULT_ENV})"
            elif p in below:
                assert (ok, stage, etype) == (False, "upstream", "UpstreamFailed"), (f, p, status[p][f])
                assert faulted in msg, msg
            else:
                assert (ok, stage) == (True, None), (f, p, status[p][f])

    # files_ok: WARN, listing the files.
    files_ok = [c for c in s["checks"] if c["check"] == "files_ok"]
    assert len(files_ok) == 1 and files_ok[0]["passed"] is False and files_ok[0]["severity"] == "WARN"
    from dagster import DagsterEventType, DagsterInstance
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as inst:
        evals = [e.dagster_event.event_specific_data for e in
                 inst.all_logs(s["run_id"], of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
    ev = next(e for e in evals if e.check_name == "files_ok")
    listed = ev.metadata["first_findings"].value
    assert ev.severity.value == "WARN" and not ev.passed
    for f, p in fault_of.items():
        assert f"`{f}: {p}: extract failed:" in listed, listed
    assert listed.count("\n") + 1 == len(fault_of)
    # Failure rows are facts, not findings: no other gate reports the files a plane could not extract,
    # so no blocking check fails and the exit code is 0.
    failing = {c["check"]: c["metadata"] for c in s["checks"] if not c["passed"] and c["check"] != "files_ok"}
    assert failing == {}, failing
    assert code == 0, (code, err)

    # The fault gone, the content the same: nothing is indexed again (a failure never loops).
    code, s, err = index(repo, env)
    assert code == 0, (s, err)
    assert (s["files_unchanged"], s["files_changed"], s["files_added"], s["run_id"]) == (len(files), 0, 0, None)
    assert s["files_failed_in_db"] == len(fault_of)

    # --full: every file, every plane ok.
    code, s, err = index(repo, env, "--full")
    assert code == 0, (s, err)
    assert s["files_changed"] == len(files) and s["files_failed"] == 0 and s["files_failed_in_db"] == 0
    assert s["checks_failed"] == 0
    for p in file_planes():
        assert status_rows(db, p.status) == {f: (True, None, None, None) for f in files}, p.name


# 2 ------------------------------------------------------------------------------------------------

def test_two_databases_from_one_working_directory(tmp_path, monkeypatch):
    repo_a = write_repo(tmp_path / "A", {"a1.py": VALID, "a2.py": "X = 1\n", "sub/a3.py": "def g():\n    pass\n"})
    repo_b = write_repo(tmp_path / "B", {"b1.py": VALID, "b2.py": "Y = 2\n"})
    monkeypatch.chdir(tmp_path)
    env = no_home_env()

    code, s, err = index(repo_a, env, "--db", "a.duckdb")
    assert code == 0 and s["files_added"] == 3, (s, err)
    assert s["dagster_home"] == str(tmp_path / "a.dagster")
    code, s, err = index(repo_b, env, "--db", "b.duckdb")
    assert code == 0 and s["files_added"] == 2, (s, err)
    assert s["dagster_home"] == str(tmp_path / "b.dagster")

    for repo, name, n in ((repo_a, "a", 3), (repo_b, "b", 2)):
        code, s, err = index(repo, env, "--db", f"{name}.duckdb")
        assert code == 0, (s, err)
        assert (s["files_unchanged"], s["files_added"], s["files_changed"], s["files_removed"], s["run_id"]) == \
            (n, 0, 0, 0, None), (name, s)
        assert s["rows"]["py_files"] == n
        home = tmp_path / f"{name}.dagster"
        assert home.is_dir()
        assert (home / "codeintel_database").read_text().strip() == str(tmp_path / f"{name}.duckdb")
    assert not (tmp_path / ".codeintel").exists()


# 3 ------------------------------------------------------------------------------------------------

def test_user_dagster_home_refuses_a_second_database(tmp_path):
    repo_a = write_repo(tmp_path / "A", {"a1.py": VALID, "a2.py": "X = 1\n"})
    repo_b = write_repo(tmp_path / "B", {"b1.py": VALID})
    home = tmp_path / "shared_home"
    db_a, db_b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    env = no_home_env(DAGSTER_HOME=str(home))

    code, s, err = index(repo_a, env, "--db", str(db_a))
    assert code == 0 and s["files_added"] == 2 and s["dagster_home"] == str(home), (s, err)

    code, out, err = run_cli(["index", str(repo_b), "--db", str(db_b), "--json", "--workers", "1"], env)
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("codeintel:") and str(home) in lines[0]
    assert str(db_a) in lines[0] and str(db_b) in lines[0], lines[0]
    last = json.loads(out.strip().splitlines()[-1])
    assert last["run_ok"] is False and str(home) in last["run_error"]
    assert not db_b.exists()
    assert (home / "codeintel_database").read_text().strip() == str(db_a)

    code, s, err = index(repo_a, env, "--db", str(db_a))
    assert code == 0, (s, err)
    assert (s["files_unchanged"], s["files_added"], s["files_changed"], s["run_id"]) == (2, 0, 0, None)
    assert s["rows"]["py_files"] == 2


def test_another_instance_says_which_files_it_did_not_know(tmp_path):
    """The same database indexed under another DAGSTER_HOME: the files are not new (the database holds them) but
    the instance has no partition of them; the summary says so, counts them apart, and indexes them again once."""
    repo = write_repo(tmp_path / "A", {"a1.py": VALID, "a2.py": "X = 1\n", "sub/a3.py": "def g():\n    pass\n"})
    db = tmp_path / "a.duckdb"
    code, s, err = index(repo, no_home_env(), "--db", str(db))
    assert code == 0 and s["files_added"] == 3 and s["files_unknown_to_instance"] == 0, (s, err)
    (repo / "a2.py").write_text("X = 2\n")
    other = no_home_env(DAGSTER_HOME=str(tmp_path / "other_home"))

    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--workers", "1"], other)
    assert code == 0, (out, err)
    assert "3 files: 0 new, 1 changed, 0 removed, 0 unchanged, 2 unknown to the instance" in err, err
    assert f"the Dagster instance {tmp_path / 'other_home'} has no record of 3 files the database holds" in err, err
    assert "unknown to the instance 2," in out, out
    code, s, err = index(repo, other, "--db", str(db))
    assert code == 0, (s, err)
    assert (s["files_unchanged"], s["files_unknown_to_instance"], s["files_added"], s["run_id"]) == (3, 0, 0, None)
    with duckdb.connect(str(db), read_only=True) as c:
        assert c.execute("SELECT count(*) FROM py_files").fetchone()[0] == 3


# 4 ------------------------------------------------------------------------------------------------

def unprivileged(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m codeintel_assets.cli ARGV` in a process held to the permission bits.

    As root, under ``setpriv`` with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from the bounding
    set: root then reads and writes like an ordinary owner (0o555 is not writable to it, and
    ``access(2)`` says so). Not as uid 65534: this venv's interpreter is a symlink into /root/.pyenv
    (/root is 0o700), so uid 65534 cannot load libpython3.13.so and could not run the CLI at all.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to run a permission case as root"
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--"]
    return subprocess.run(prefix + [sys.executable, "-m", "codeintel_assets.cli", *argv], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def assert_clean_error(code: int, out: str, err: str, path: Path) -> dict:
    """Exit 2, one `codeintel:` line on stderr naming ``path``, no traceback, a JSON last line on stdout."""
    assert code == 2, (code, out, err)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("codeintel:") and str(path) in lines[0], lines[0]
    last = json.loads(out.strip().splitlines()[-1])
    assert last["run_ok"] is False and str(path) in last["run_error"], last
    return last


@pytest.fixture
def open_base(tmp_path):
    """A 0o755 directory for the permission cases; every mode is restored after."""
    base = tmp_path / "open"
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    repo = write_repo(base / "repo", {"m.py": VALID, "n.py": "Z = 3\n"})
    for p in [base, *base.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    restore: list[Path] = []
    yield base, repo, restore
    for p in restore:
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_database_in_a_read_only_directory(open_base):
    base, repo, restore = open_base
    ro = base / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    restore.append(ro)
    db = ro / "x.duckdb"
    p = unprivileged(["index", str(repo), "--db", str(db), "--json", "--workers", "1"], no_home_env())
    assert_clean_error(p.returncode, p.stdout, p.stderr, ro)
    assert sorted(os.listdir(ro)) == []


def test_read_only_database_file(open_base):
    base, repo, restore = open_base
    d = base / "rw"
    d.mkdir(mode=0o755)
    db = d / "x.duckdb"
    code, s, err = index(repo, no_home_env(), "--db", str(db))
    assert code == 0 and db.exists(), (s, err)
    before = db.read_bytes()
    (repo / "n.py").write_text("Z = 4\n")  # work to do: the run would have to write
    db.chmod(0o444)
    restore.append(db)
    p = unprivileged(["index", str(repo), "--db", str(db), "--json", "--workers", "1"], no_home_env())
    assert_clean_error(p.returncode, p.stdout, p.stderr, db)
    assert db.read_bytes() == before


def test_read_only_dagster_home(open_base):
    base, repo, restore = open_base
    home = base / "home"
    home.mkdir()
    home.chmod(0o555)
    restore.append(home)
    d = base / "rw"
    d.mkdir(mode=0o755)
    db = d / "x.duckdb"
    p = unprivileged(["index", str(repo), "--db", str(db), "--json", "--workers", "1"],
                     no_home_env(DAGSTER_HOME=str(home)))
    assert_clean_error(p.returncode, p.stdout, p.stderr, home)
    assert os.listdir(home) == [] and not db.exists()


def test_path_that_is_not_a_directory(tmp_path):
    f = write_repo(tmp_path / "r", {"only.py": "A = 1\n"}) / "only.py"
    db = tmp_path / "x.duckdb"
    for path in (f, tmp_path / "does-not-exist"):
        code, out, err = run_cli(["index", str(path), "--db", str(db), "--json"], no_home_env())
        assert_clean_error(code, out, err, path)
    assert not db.exists()


def test_empty_repository(tmp_path):
    repo = tmp_path / "empty"
    (repo / "docs").mkdir(parents=True)
    (repo / "README.txt").write_text("no python here\n")
    (repo / "docs" / "notes.pyc").write_bytes(b"\x00")
    db = tmp_path / "x.duckdb"
    code, s, err = index(repo, no_home_env(), "--db", str(db))
    assert code == 0, (s, err)
    assert s["run_ok"] is True and s["run_id"] is None
    assert (s["files_seen"], s["files_added"], s["files_failed"], s["files_failed_in_db"]) == (0, 0, 0, 0)
    assert s["rows"] == {t: 0 for t in PER_FILE_TABLES}
    assert db.exists(), "a successful `codeintel index` of an empty repository leaves no database"
    with duckdb.connect(str(db), read_only=True) as c:
        tables = [r[0] for r in c.execute("select table_name from information_schema.tables").fetchall()]
        assert all(c.execute(f'select count(*) from "{t}"').fetchall()[0][0] == 0 for t in tables)


# 5 ------------------------------------------------------------------------------------------------

def test_no_spool_left_after_success_or_failed_run(tmp_path):
    repo = write_repo(tmp_path / "repo", {f"m{i}.py": VALID for i in range(6)})
    env = no_home_env()

    db = tmp_path / "ok" / "x.duckdb"
    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0 and s["run_ok"] and s["files_added"] == 6, (s, err)
    assert spools_beside(db) == []

    # A failed run: a table with the contract's columns but not its types makes the append fail after
    # the pass spooled its rows. The run error is the exception's own line (not DuckDB's SQL context).
    bad = tmp_path / "bad" / "x.duckdb"
    bad.parent.mkdir()
    victim = "py_bc_blocks"
    assert victim in PER_FILE_TABLES
    cols = ", ".join(f'"{n}" {"VARCHAR" if n == "path" else "DATE"}' for n in contract(victim).schema.names)
    with duckdb.connect(str(bad)) as c:
        c.execute(f"create table {victim} ({cols})")
    code, out, err = run_cli(["index", str(repo), "--db", str(bad), "--json", "--workers", "1"], env)
    s = json.loads(out.strip().splitlines()[-1])
    assert code == 2 and s["run_ok"] is False, (s, err)
    assert "ConversionException: " in s["run_error"] and "^" not in s["run_error"], s["run_error"]
    assert f"codeintel: the run failed: {s['run_error']}" in err.splitlines(), err
    assert spools_beside(bad) == []
    with duckdb.connect(str(bad)) as c:
        c.execute(f"drop table {victim}")
    code, s, err = index(repo, env, "--db", str(bad))
    assert code == 0 and s["run_ok"] and s["rows"]["py_files"] == 6 and s["files_failed_in_db"] == 0, (s, err)
    assert spools_beside(bad) == []


def test_no_spool_left_after_sigint(tmp_path):
    repo = generated_repo(tmp_path / "repo", 60, 4)
    db = tmp_path / "db" / "x.duckdb"
    env = no_home_env()
    # pkg9's six files are in the last chunk (sorted paths, 24 per chunk) and each sleeps 1 s in the source
    # plane: the run is still extracting for ~6 s after its first progress line, when the signal arrives
    slow = {**env, FAULT_ENV: "source:sleep=pkg9/*:1.0"}
    proc = subprocess.Popen([sys.executable, "-m", "codeintel_assets.cli", "index", str(repo), "--db", str(db),
                             "--workers", "1"], env=slow, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "[file_planes]" in line and "files," in line:
                break
        else:
            pytest.fail("no progress line on stderr:\n" + "".join(seen))
        spools_at_signal = spools_beside(db)
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        rc = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert spools_at_signal, "the run had no spool when it was interrupted: not mid-run"
    assert rc != 0, "the interrupted run exited 0: it was not interrupted mid-run\n" + "".join(seen) + rest
    left_by_kill = spools_beside(db)
    print(f"SIGINT: exit {rc}; spools at the signal {spools_at_signal}; after the exit {left_by_kill}; "
          f"stderr tail: {rest[-600:]!r}")

    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0 and s["run_ok"], (s, err)
    assert spools_beside(db) == []
    assert s["rows"]["py_files"] == 60 and s["files_failed_in_db"] == 0


def test_stale_spool_removed_by_next_index_with_nothing_to_do(tmp_path):
    """A run killed after its last append commits (before it removes its spool) leaves a spool beside an
    index that is complete: the next `codeintel index` has nothing to materialise, and still cleans up."""
    repo = write_repo(tmp_path / "repo", {"m.py": VALID})
    db = tmp_path / "db" / "x.duckdb"
    env = no_home_env()
    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0, (s, err)
    stale = db.parent / f"{spool_prefix(str(db))}killed_0"  # mkdtemp's 8 random characters
    other = db.parent / f"{spool_prefix(str(db.parent / 'other.duckdb'))}live"  # another database's spool
    other.mkdir()
    # ... and the live spool of a database whose name starts with this one's and a dash (`x.duckdb-v2`)
    longer = db.parent / f"{spool_prefix(str(db.parent / (db.name + '-v2')))}0mt4fhm8"
    longer.mkdir()
    (stale / "py_files").mkdir(parents=True)
    (stale / "py_files" / "part-00000.parquet").write_bytes(b"PAR1")
    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0 and s["run_id"] is None, (s, err)
    # its own dead spool is gone; the other databases' are not touched
    assert sorted(spools_beside(db)) == sorted([other.name, longer.name])


# 6 ------------------------------------------------------------------------------------------------

def _blocks(db) -> tuple[int, int]:
    """(used, free) 256 KiB blocks of a DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as c:
        used, free = c.execute("SELECT used_blocks, free_blocks FROM pragma_database_size()").fetchall()[0]
    return int(used), int(free)


def test_full_reindex_does_not_grow_the_database(tmp_path):
    repo = generated_repo(tmp_path / "repo", 60, 8)
    db = tmp_path / "x.duckdb"
    env = dict(no_home_env(), **{WRITE_BATCH_ENV: "12"})  # five write batches, as a large repository has many
    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0 and s["files_added"] == 60, (s, err)
    sizes, blocks = [db.stat().st_size], [_blocks(db)]
    for _ in range(3):
        code, s, err = index(repo, env, "--db", str(db), "--full")
        assert code == 0 and s["files_changed"] == 60 and s["run_id"], (s, err)
        sizes.append(db.stat().st_size)
        blocks.append(_blocks(db))
    print(f"database sizes: first index {sizes[0]}, then --full: {sizes[1:]}; (used, free) blocks: {blocks}")
    # The requirement: a --full re-index of unchanged code leaves the file the same size (+-5 %). DuckDB
    # allocates 256 KiB blocks, and the checkpoint that ends every run writes the small bookkeeping tables (the
    # link's trace, the graph's counts, the vacuum state) anew, freeing their old blocks inside the file: a few
    # blocks whatever the database's size (6 here, 1.5 MiB of a 20 MB file; 6 of 4,490 for 990 files of the
    # standard library), the slack below. Free blocks beyond that would be a merge of the run's own appends
    # (resources/vacuum.py: 155 of 4,550 before the appends ran without vacuum).
    slack = 8 * 256 * 1024
    assert all(size <= sizes[0] * 1.05 + slack for size in sizes[1:]), sizes
    assert all(free <= 8 + 0.02 * (used + free) for used, free in blocks), blocks
    assert all(abs(used - blocks[0][0]) <= 0.05 * blocks[0][0] for used, _ in blocks), blocks  # the same rows
    assert sizes[-1] - sizes[1] <= slack, sizes  # two more rewrites: no steady growth


# 7 ------------------------------------------------------------------------------------------------

def test_import_roots_end_to_end(tmp_path):
    body = "def f(a):\n    return [b for b in a]\n\nclass K:\n    def m(self):\n        return 1\n"
    repo = write_repo(tmp_path / "repo", {"src/pkg/__init__.py": body, "src/pkg/mod.py": body,
                                          "ns/sub/mod.py": body, "tool.py": body})
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]
    code, s, err = index(repo, env)
    assert code == 0 and s["files_added"] == 4 and s["files_failed"] == 0, (s, err)
    first_run = s["run_id"]

    def modules() -> dict[str, dict[str, set]]:
        with duckdb.connect(db, read_only=True) as c:
            out = {}
            for t in ("py_files", "py_bc_code_units", "py_sym_scopes"):
                for path, m in c.execute(f"select path, module_name from {t}").fetchall():
                    out.setdefault(path, {}).setdefault(t, set()).add(m)
            return out

    expected = {"src/pkg/__init__.py": "pkg", "src/pkg/mod.py": "pkg.mod", "ns/sub/mod.py": "ns.sub.mod",
                "tool.py": "tool"}
    assert modules() == {p: {"py_files": {m}, "py_bc_code_units": {m}, "py_sym_scopes": {m}}
                         for p, m in expected.items()}
    with duckdb.connect(db, read_only=True) as c:
        ids = [r[0] for r in c.execute("select code_unit_id from py_bc_code_units").fetchall()]
        run_ids = dict(c.execute("select path, dagster_run_id from codeintel_run_meta").fetchall())
    assert len(ids) == 4 * 4  # module, f, K, K.m per file (the comprehension is inlined)
    assert not [i for i in ids if "src.pkg" in i]
    assert set(run_ids.values()) == {first_run}

    code, s, err = index(repo, env, "--import-root", "ns")
    assert code == 0, (s, err)
    assert (s["files_changed"], s["files_unchanged"], s["files_added"]) == (1, 3, 0), s
    expected["ns/sub/mod.py"] = "sub.mod"
    assert modules() == {p: {"py_files": {m}, "py_bc_code_units": {m}, "py_sym_scopes": {m}}
                         for p, m in expected.items()}
    with duckdb.connect(db, read_only=True) as c:
        run_ids = dict(c.execute("select path, dagster_run_id from codeintel_run_meta").fetchall())
    assert run_ids == {"src/pkg/__init__.py": first_run, "src/pkg/mod.py": first_run, "tool.py": first_run,
                       "ns/sub/mod.py": s["run_id"]}
    assert s["run_id"] != first_run


def test_database_where_no_file_can_be_created(tmp_path):
    """/proc takes no new files even for root (os.access says writable): the lock file's creation raised a
    FileNotFoundError traceback, exit 1."""
    repo = write_repo(tmp_path / "r", {"only.py": "A = 1\n"})
    db = Path("/proc") / f"codeintel-test-{os.getpid()}.duckdb"
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json"], no_home_env())
    assert_clean_error(code, out, err, f"{db}.lock")
    assert "cannot create the lock file" in err and not db.exists()


@pytest.fixture(params=["700k", "3m"])
def full_disk(tmp_path, request):
    """A small tmpfs (root only: a visible skip with the reason elsewhere), unmounted after: 700 KB fill up
    while the Dagster instance is created (SQLite), 3 MB while the run writes the rows (DuckDB)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs", str(mnt)], capture_output=True,
                       text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_one_line_naming_where_and_the_next_index_recovers(tmp_path, full_disk):
    repo = tmp_path / "repo"
    shutil.copytree(Path(json.__file__).parent, repo, ignore=shutil.ignore_patterns("__pycache__"))
    db = full_disk / "x.duckdb"
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "1"], no_home_env())
    last = json.loads(out.strip().splitlines()[-1])
    assert code == 2 and last["run_ok"] is False and "Traceback" not in err, (code, err)
    assert len([ln for ln in err.splitlines() if ln.startswith("codeintel:")]) == 1, err
    if last["run_error"].startswith("cannot write the Dagster instance"):  # full before the run: SQLite's message, the instance named
        assert f"cannot write the Dagster instance {full_disk / 'x.dagster'} (of the database {db})" in \
            last["run_error"] and "(the file system is full: free space and index again)" in last["run_error"], last
    else:  # full during the run: DuckDB's message, the file system named
        assert "No space left on device" in last["run_error"] and f"the file system of {full_disk} is full" in \
            last["run_error"], last["run_error"]
    subprocess.run(["mount", "-o", "remount,size=64m", str(full_disk)], check=True)  # space freed
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "1"], no_home_env())
    last = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and last["run_ok"] and last["checks_failed"] == 0, (last, err)
    n = len(list(repo.rglob("*.py")))
    assert last["files_seen"] == n and last["files_failed"] == 0 and last["rows"]["py_files"] == n, last


def _instance_runs(home: Path) -> tuple[list[str], set[str], dict[str, set[str]]]:
    """(run ids newest first, run-shard files present, asset -> partitions materialised) of an instance."""
    from dagster import AssetKey, DagsterInstance
    instance = DagsterInstance.from_config(str(home))
    try:
        runs = [r.run_id for r in instance.get_runs()]
        shards = {p.stem for p in (home / "history" / "runs").glob("*.db") if p.stem != "index"}
        parts = {k: set(instance.get_materialized_partitions(AssetKey(k))) for k in ("py_files", "cpg_definitions")}
        return runs, shards, parts
    finally:
        instance.dispose()


def test_superseded_runs_leave_the_instance_and_the_state_stays(tmp_path):
    """Dagster keeps every run's events (a full index of the standard library: ~0.6 GB per run), so the
    instance beside the database grew with every --full. A finished run that no longer holds the newest
    materialisation of any file (every file it indexed was indexed again) and is not among the --keep-runs
    newest goes, with its event-log file; a run that still holds one file's stays; what the UI shows as
    materialised, and the next index's plan, do not change."""
    repo = generated_repo(tmp_path / "repo", 6, 2)
    db = tmp_path / "x.duckdb"
    home = tmp_path / "x.dagster"
    env = no_home_env()
    keys = {str(p.relative_to(repo)) for p in repo.rglob("*.py")}
    code, s, err = index(repo, env, "--db", str(db), "--keep-runs", "0")
    assert code == 0 and s["dagster_runs_removed"] == 0, (s, err)
    first = s["run_id"]
    edited = repo / "pkg0" / "mod000.py"
    edited.write_text(edited.read_text() + "\n\ndef extra():\n    return 1\n")
    code, s, err = index(repo, env, "--db", str(db), "--keep-runs", "0")
    edit = s["run_id"]
    runs, shards, parts = _instance_runs(home)
    assert code == 0 and s["dagster_runs_removed"] == 0 and set(runs) == {first, edit}, (runs, s)  # first: 5 files
    code, s, err = index(repo, env, "--db", str(db), "--full", "--keep-runs", "all")
    full1 = s["run_id"]
    assert code == 0 and s["dagster_runs_removed"] == 0 and len(_instance_runs(home)[0]) == 3, s
    code, s, err = index(repo, env, "--db", str(db), "--full", "--keep-runs", "1")
    full2 = s["run_id"]
    runs, shards, parts = _instance_runs(home)
    assert code == 0 and s["dagster_runs_removed"] == 3 and s["dagster_bytes_freed"] > 0, s
    assert runs == [full2] and shards == {full2}, (runs, shards)
    assert parts == {"py_files": keys, "cpg_definitions": keys}
    assert first != edit != full1 != full2
    code, s, err = index(repo, env, "--db", str(db))
    assert code == 0 and s["files_unchanged"] == 6 and s["run_id"] is None, s  # nothing to do
    code, s, err = index(repo, env, "--db", str(db), "--keep-runs", "-3")
    assert code == 2 and "--keep-runs" in s["run_error"] and "'-3'" in s["run_error"], s


def test_a_file_that_failed_on_a_limit_is_indexed_again_when_the_limit_is_raised(tmp_path):
    """A file over --max-file-bytes, or one whose plane ran past --file-budget, is a failure row that the next
    run with the same limit leaves alone (no loop). A run with a larger limit indexes it again; it said
    "unchanged" and kept the failure until the file's bytes changed (a trial on rich: raising the limit did
    nothing). Sizes by hand: big.py is 2,000 x 'x = 1\\n' = 12,000 bytes."""
    repo = write_repo(tmp_path / "repo", {"small.py": "x = 1\n", "slow.py": "y = 2\n"})
    (repo / "big.py").write_text("x = 1\n" * 2_000)
    env = cli_env(tmp_path)

    def index(*extra, **more_env):
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], {**env, **more_env})
        assert code == 0, err
        return json.loads(out.strip().splitlines()[-1])

    slow = {FAULT_ENV: "source:sleep=slow.py:2.0"}
    s = index("--max-file-bytes", "10000", "--file-budget", "0.5", **slow)
    assert sorted(f.split(":")[0] for f in s["failed_files"]) == ["big.py", "slow.py"], s["failed_files"]
    assert "FileTooLarge" in " ".join(s["failed_files"]) and "BudgetExceeded" in " ".join(s["failed_files"])
    s = index("--max-file-bytes", "10000", "--file-budget", "0.5", **slow)  # the same limits: nothing to do
    assert (s["files_changed"], s["files_unchanged"], s["files_failed_in_db"]) == (0, 3, 2), s
    s = index("--max-file-bytes", "12000", "--file-budget", "0.5", **slow)  # exactly its size: within the limit
    assert (s["files_changed"], s["failed_files"], s["failed_files_in_db"]) == (1, [], [
        "slow.py: source: budget failed: BudgetExceeded: the source extractor took more than 0.5 s on this file "
        "(--file-budget)"]), s  # big.py indexed; slow.py, failed on the same budget, left alone
    s = index("--max-file-bytes", "12000", "--file-budget", "10", **slow)  # the budget above the 2 s it takes
    assert (s["files_changed"], s["failed_files"], s["files_failed_in_db"]) == (1, [], 0), s
    s = index("--max-file-bytes", "12000", "--file-budget", "10")
    assert (s["files_changed"], s["files_unchanged"]) == (0, 3), s
    # a smaller limit than a file that is indexed does not fail it again (only a failure is retried)
    s = index("--max-file-bytes", "1000")
    assert (s["files_changed"], s["files_failed_in_db"]) == (0, 0), s


def test_rows_an_older_codeintel_derived_are_derived_again(tmp_path):
    """After an upgrade, a file whose rows an older extractor made is indexed again (codeintel_run_meta's
    extractor_version is the code's fingerprint), and a link made by older link code is redone whole
    (cpg_link_version); both were kept until the file changed (a trial saw a one-file index of a database
    built before a link change miss 1,227 cpg_calls rows a fresh index has). The older code is simulated by
    writing another fingerprint into the database, or by a database from before the column."""
    from codeintel_assets.version import extractor_version, link_version
    repo = write_repo(tmp_path / "repo", {"a.py": "def f():\n    return 1\n", "b.py": "from a import f\nf()\n",
                                          "c.py": "X = 1\n"})
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]

    def index():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        return json.loads(out.strip().splitlines()[-1])

    def sql(q, write=False):
        with duckdb.connect(db, read_only=not write) as c:
            return c.execute(q).fetchall()

    index()
    assert sql("SELECT DISTINCT extractor_version FROM codeintel_run_meta") == [(extractor_version(),)]
    assert sql("SELECT version FROM cpg_link_version") == [(link_version(),)]
    calls = sql("SELECT * FROM cpg_calls ORDER BY ALL")
    assert index()["run_id"] is None  # current: nothing to do
    sql("UPDATE codeintel_run_meta SET extractor_version = 'older' WHERE path = 'c.py'", write=True)
    s = index()
    assert (s["files_changed"], s["files_unchanged"]) == (1, 2), s
    sql("ALTER TABLE codeintel_run_meta DROP COLUMN extractor_version", write=True)  # from before the column
    s = index()
    assert (s["files_changed"], s["files_unchanged"]) == (3, 0), s
    assert sql("SELECT DISTINCT extractor_version FROM codeintel_run_meta") == [(extractor_version(),)]
    assert index()["run_id"] is None
    sql("UPDATE cpg_link_version SET version = 'older'", write=True)
    sql("DELETE FROM cpg_calls", write=True)  # what the older rules had left: nothing, say
    s = index()
    assert s["run_id"] is not None and (s["files_changed"], s["files_unchanged"]) == (0, 3), s
    assert sql("SELECT * FROM cpg_calls ORDER BY ALL") == calls  # the whole link again
    assert sql("SELECT version FROM cpg_link_version") == [(link_version(),)]
    assert index()["run_id"] is None
