"""What the CLI says: counts it prints are the true ones, failure rows carry CPython's words, an interrupted
inspect step is one line and claims no work, and a summary says which checks it reports.

In-process through ``conftest.run_cli`` except the Ctrl-C test, whose point is a real SIGINT to a real process.
Expected values come from CPython (``compile`` of the same bytes) or are counted by hand from the files written.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT, cli_env, run_cli, write_repo

ZERO_THRESHOLDS = ("[tool.codeintel.inspect]\nmin_import_success = 0.0\nmin_signature_coverage = 0.0\n"
                   "min_anchor_rate = 0.0\n")


def _index(repo: Path, env: dict, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
    lines = out.strip().splitlines()
    assert lines, f"no stdout; exit {code}; stderr:\n{err}"
    return code, json.loads(lines[-1]), err


# D7 -----------------------------------------------------------------------------------------------

def test_check_counts_every_failed_import_it_leaves_out(tmp_path):
    """25 modules that raise at import: the check lists the first ones and says how many more there are
    (25 - 10 printed = 15), not the length of the list it kept (20 - 10 = 10 before)."""
    failing = 25
    files = {"pkg/__init__.py": "", "pyproject.toml": ZERO_THRESHOLDS,
             **{f"pkg/m{i:02d}.py": f"raise RuntimeError('boom {i}')\n" for i in range(failing)}}
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)
    code, s, err = _index(repo, env, "--inspect")
    assert code == 0 and s["run_ok"], err
    assert s["inspect"]["attempted"] - s["inspect"]["ok"] == failing, s["inspect"]
    code, out, err = run_cli(["check", "--path", str(repo)], env)
    assert code == 0, out + err
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if " inspect_quality " in ln)
    listed = [ln for ln in lines[at + 1:at + 11] if "import of pkg.m" in ln]
    assert len(listed) == 10, lines[at:at + 12]
    assert lines[at + 11].strip() == f"... {failing - 10} more", lines[at:at + 13]
    assert f"import_failures={failing}" in lines[at], lines[at]


def test_findings_left_out_without_a_recorded_total_says_so():
    """A result without the count (as an older version computed it): the line says the total is unknown."""
    from codeintel_assets.gate_report import findings_left_out
    from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult
    full = [Finding(f"f{i}.py", None, None, "x") for i in range(MAX_REPORTED_FINDINGS)]
    r = GateResult("some_gate", "t", False, True, full, {"files": 99})
    assert findings_left_out(r, 10) == (f"... {MAX_REPORTED_FINDINGS - 10} more of the {MAX_REPORTED_FINDINGS} kept; "
                                        f"the total is not recorded (at least {MAX_REPORTED_FINDINGS})")
    counted = GateResult("some_gate", "t", False, True, full, {"findings": 84})
    assert findings_left_out(counted, 10) == "... 74 more"
    short = GateResult("some_gate", "t", False, True, full[:12], {})
    assert findings_left_out(short, 10) == "... 2 more" and findings_left_out(short, 12) is None


# D8a ----------------------------------------------------------------------------------------------

UNDECODABLE = {
    "first_line.py": b"x = '\xff'\n",  # tokenize.detect_encoding: "invalid or missing encoding declaration"
    "later_line.py": b"a = 1\nb = 2\nc = '\xff'\n",  # detect_encoding passes; bytes.decode names offset 16
}


def test_undecodable_file_row_carries_cpythons_message_and_line(tmp_path):
    repo = write_repo(tmp_path / "repo", {"ok.py": "x = 1\n"})
    for name, data in UNDECODABLE.items():
        (repo / name).write_bytes(data)
    env = cli_env(tmp_path)
    code, s, err = _index(repo, env)
    assert code == 0 and s["run_ok"], err
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = {r[0]: r[1:] for r in c.execute(
            "SELECT path, ok, error_stage, error_type, error_msg, error_lineno, error_col FROM py_files").fetchall()}
    for name, data in UNDECODABLE.items():
        with pytest.raises(SyntaxError) as info:
            compile(data, name, "exec")
        want = info.value
        ok, stage, etype, msg, lineno, col = rows[name]
        assert (ok, stage) == (False, "decode")
        assert (msg, lineno, col) == (want.msg, want.lineno, want.offset), (name, rows[name])
        assert f"{name}:{want.lineno}:{want.offset}: source: decode failed: {etype}: {want.msg}" in s["failed_files"]
    assert rows["first_line.py"][2] == "SyntaxError" and rows["later_line.py"][2] == "UnicodeDecodeError"
    assert (rows["first_line.py"][4], rows["later_line.py"][4]) == (1, 3)  # by hand: the line of the 0xff byte


# D8b ----------------------------------------------------------------------------------------------

def _no_home_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_HOME", "CODEINTEL_DB", "DAGSTER_EVENT_BATCH_SIZE", "CODEINTEL_INJECT_FAULT")}
    env.update(extra)
    return env


def test_sigint_during_the_inspect_step_is_one_line_and_claims_no_work(tmp_path):
    """Ctrl-C while a module sleeps at import: exit 2, one `codeintel: ... interrupted` line, no Dagster error
    class, and the inspect line says 0 of the 3 stale files were re-inspected (the step writes at its end)."""
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/fast.py": "X = 1\n",
                                          "pkg/slow.py": "import time\ntime.sleep(120)\n",
                                          "pyproject.toml": "[tool.codeintel.inspect]\ntimeout_seconds = 300\n"})
    db = tmp_path / "db" / "x.duckdb"
    env = _no_home_env()
    proc = subprocess.Popen([sys.executable, "-m", "codeintel_assets.cli", "index", str(repo), "--db", str(db),
                             "--workers", "1", "--inspect"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if line.strip().startswith("inspect: 3 files"):
                break
        else:
            pytest.fail("no inspect line on stderr:\n" + "".join(seen))
        time.sleep(8)  # the run starts, the sandbox imports pkg.slow (120 s)
        assert proc.poll() is None, "".join(seen)
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(seen) + rest
    assert proc.returncode == 2, (out, err)
    assert "DagsterExecutionInterruptedError" not in out + err, (out, err)
    said = [ln for ln in err.splitlines() if ln.startswith("codeintel:") and "interrupted" in ln]
    assert said == ["codeintel: the run failed: inspect: interrupted; the next `codeintel index --inspect` "
                    "finishes what this run left"], err
    assert "files re-inspected" not in out, out
    assert "inspect: interrupted: 0 of the 3 stale files (3 never inspected) re-inspected; 0 modules" in out, out

    # the static rows were written before the inspect step: the next run has no file to add or change, and
    # inspects the three files (pkg.slow now fails on a 2 s timeout)
    code, out, err = run_cli(["index", str(repo), "--db", str(db), "--json", "--workers", "1", "--inspect",
                              "--inspect-timeout", "2"], env)
    s = json.loads(out.strip().splitlines()[-1])
    assert s["run_ok"], err
    assert (s["files_added"], s["files_changed"], s["files_unchanged"]) == (0, 0, 3), s
    assert (s["inspect"]["files"], s["inspect"]["files_done"], s["inspect"]["attempted"]) == (3, 3, 3), s["inspect"]


def test_current_files_inspected_with_the_stale_ones_are_counted_apart(tmp_path):
    """pkg.base edited: the static pass moves it to the tail of the partition order; the ten modules that
    import it (m00, m02, ..., m18, every other one) are stale where they are. Eleven stale ranges are more
    than contiguous_ranges' eight, so one run covers m00 .. base and inspects the ten current modules between
    them too (m01, ..., m19). The summary says 11 files re-inspected and 10 more with them (it said
    "21 of the 11 stale files", as a trial on rich saw "100 of the 85")."""
    n = 20
    files = {"pkg/__init__.py": "", "pyproject.toml": ZERO_THRESHOLDS, "pkg/base.py": "def b(x):\n    return x\n",
             **{f"pkg/m{i:02d}.py": ("from pkg.base import b\n" if i % 2 == 0 else "") + f"def f{i}(x):\n    return x\n"
                for i in range(n)}}
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)
    code, s, err = _index(repo, env, "--inspect")
    assert code == 0 and s["inspect"]["files"] == n + 2, err
    (repo / "pkg/base.py").write_text("def b(x, y=1):\n    return x\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect"], env)
    assert code == 0, out + err
    line = next(ln for ln in out.splitlines() if ln.startswith("inspect:"))
    assert line.startswith("inspect: 11 files re-inspected (1 changed, 10 imports a re-inspected module), and 10 "
                           "current files between them "), line
    (repo / "pkg/base.py").write_text("def b(x, y=2):\n    return x\n")
    code, s, err = _index(repo, env, "--inspect")
    assert (s["inspect"]["files"], s["inspect"]["files_done"], s["inspect"]["files_in_range"]) == (11, 11, 10), \
        s["inspect"]
    assert s["inspect"]["attempted"] == n + 1, s["inspect"]  # the modules of m00 .. m19 and pkg.base


def test_partition_without_rows_counts_as_added(tmp_path, monkeypatch):
    """A file a dead run added as a partition but never wrote (no py_files row) is new to the database: the
    summary counts it as added, not changed (by hand: one file indexed, one never written)."""
    repo = write_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    env = cli_env(tmp_path)
    code, s, err = _index(repo, env)
    assert code == 0 and (s["files_added"], s["files_changed"]) == (1, 0), err
    (repo / "b.py").write_text("y = 2\n")
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    from dagster import DagsterInstance

    from codeintel_assets.paths import FILES_PARTITIONS
    with DagsterInstance.get() as instance:  # what a run that died before writing leaves
        instance.add_dynamic_partitions(FILES_PARTITIONS, ["b.py"])
    code, s, err = _index(repo, env)
    assert code == 0 and s["run_ok"], err
    assert (s["files_added"], s["files_changed"], s["files_unchanged"]) == (1, 0, 1), s
    code, s, err = _index(repo, env)
    assert (s["files_added"], s["files_changed"], s["files_unchanged"]) == (0, 0, 2), s


# D8c ----------------------------------------------------------------------------------------------

def test_summary_says_which_checks_it_reports(tmp_path):
    """A run that indexed files prints every check `codeintel check` prints; an --inspect run with no file to
    index prints only its steps' checks and says so; a run with nothing to do points to `codeintel check`."""
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/a.py": "def f(x):\n    return x\n"})
    env = cli_env(tmp_path)
    _, first, err = run_cli(["index", str(repo), "--workers", "1"], env)
    _, idle, _ = run_cli(["index", str(repo), "--workers", "1"], env)
    _, inspected, _ = run_cli(["index", str(repo), "--workers", "1", "--inspect"], env)
    code, checked, err = run_cli(["check", "--path", str(repo)], env)
    assert code == 0, err
    every = [ln.split()[1] for ln in checked.splitlines() if ln.split()[:1] in (["PASS"], ["WARN"], ["FAIL"])]

    def reported(out):
        lines = out.splitlines()
        at = next(i for i, ln in enumerate(lines) if ln.startswith("checks"))
        names = [ln.split()[1] for ln in lines[at + 1:] if ln.split()[:1] in (["PASS"], ["WARN"], ["FAIL"])]
        return lines[at], names

    header, names = reported(first)
    assert header == "checks (whole database):" and set(names) == set(every) - {"inspect_quality"}, first
    assert reported(idle) == ("checks: nothing changed, no run; `codeintel check` prints every verdict", []), idle
    header, names = reported(inspected)
    assert 0 < len(names) < len(every), inspected
    assert header == (f"checks (whole database; {len(names)} of {len(every)}, those of the steps this run ran; "
                      f"`codeintel check` prints all {len(every)}):"), inspected


HOLD_WRITER = r"""
import sys, duckdb
from codeintel_assets.locking import hold
with hold(sys.argv[1]):
    conn = duckdb.connect(sys.argv[1])
    conn.execute("SELECT 1").fetchall()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    conn.close()
"""


def test_reading_a_database_while_it_is_written_is_one_line_naming_the_writer(tmp_path):
    """A `codeintel index` holds the DuckDB file open for writing, and DuckDB then lets no other process open
    it: `query` gave a Python traceback (exit 1), `check` and `export` a raw IO error. Each now says, in one
    line, that the database is being written and by which process (the writer lock's record), exit 2."""
    from tests.conftest import index_repo
    _, env, _ = index_repo(tmp_path, {"a.py": "def f():\n    return 1\n"})
    db = env["CODEINTEL_DB"]
    writer = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, db], cwd=REPO_ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        for argv in (["query", "SELECT count(*) FROM py_files"], ["check"],
                     ["export", "--format", "parquet", "--out", str(tmp_path / "out")]):
            code, out, err = run_cli([*argv, "--db", db], env)
            assert code == 2, (argv, code, out, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in err, (argv, err)
            assert f"the database {db} is being written by pid {writer.pid} on " in lines[0], (argv, lines)
            assert lines[0].endswith("read it when that run ends"), (argv, lines)
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    code, out, err = run_cli(["query", "SELECT count(*) FROM py_files", "--db", db, "--json"], env)
    assert code == 0 and json.loads(out) == {"count_star()": 1}, (out, err)


def test_type_stubs_are_not_indexed_and_the_summary_says_so(tmp_path):
    """A repository with `*.pyi` stubs (mypy's wheel ships 761 under typeshed/): they are not indexed (no bytecode,
    no runtime), and every run's summary says how many and names one, not silently dropping them; an excluded
    directory's stubs are not counted (the scan's own rules)."""
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/m.py": "def f():\n    return 1\n",
                                          "pkg/m.pyi": "def f() -> int: ...\n", "stubs/os/__init__.pyi": "x: int\n",
                                          "vendor/v.pyi": "y: int\n"})
    env = cli_env(tmp_path)
    for _ in range(2):  # the first index, then a run with nothing to do: both say it
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--exclude", "vendor/*"], env)
        assert code == 0, err
        summary = json.loads(out.strip().splitlines()[-1])
        note = "2 type stub files (*.pyi) not indexed: CodeIntel indexes *.py (first: pkg/m.pyi)"
        assert summary["warnings"] == [note], summary["warnings"]
        assert f"codeintel: warning: {note}" in err
        assert summary["files_seen"] == 2  # pkg/__init__.py, pkg/m.py
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert c.execute("SELECT list(path ORDER BY path) FROM py_files").fetchall() == [(["pkg/__init__.py", "pkg/m.py"],)]


def test_failed_imports_are_counted_by_cause(tmp_path):
    """Many modules failing for one reason (mypy's wheel without its dependency librt: 243 of 243 modules) are
    said once with their count, most frequent cause first, besides the per-module lines; the JSON has the same
    counts. The messages are CPython's own (each failing import run in a plain interpreter)."""
    import subprocess
    files = {"pkg/__init__.py": "", "pyproject.toml": ZERO_THRESHOLDS,
             **{f"pkg/m{i}.py": "import codeintel_no_such_dep\n" for i in range(3)},
             "pkg/bad.py": "raise ValueError('broken at import')\n", "pkg/fine.py": "def f():\n    return 1\n"}
    repo = write_repo(tmp_path / "repo", files)

    def cpython(source: str) -> tuple[str, str]:
        r = subprocess.run([sys.executable, "-I", "-c", f"try:\n {source}\nexcept Exception as e:\n print(type(e).__name__)"
                            "\n print(e)"], capture_output=True, text=True, check=True)
        return tuple(r.stdout.splitlines())
    missing, raised = cpython("import codeintel_no_such_dep"), cpython("raise ValueError('broken at import')")
    code, s, err = _index(repo, cli_env(tmp_path), "--inspect")
    assert code == 0, err
    causes = [(c["error_type"], c["error_msg"], c["modules"]) for c in s["inspect"]["failure_causes"]]
    assert [(t, n) for t, _, n in causes] == [(missing[0], 3), (raised[0], 1)], causes
    assert (causes[0][1], causes[1][1]) == (missing[1], raised[1]), causes  # (where it was raised left out)
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect", "--inspect-retry-failed"],
                             cli_env(tmp_path))
    line = next(ln for ln in out.splitlines() if ln.startswith("  failed imports by cause: "))
    assert line == f"  failed imports by cause: 3 x {missing[0]}: {causes[0][1]}; 1 x {raised[0]}: {causes[1][1]}", line
