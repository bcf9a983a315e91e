"""End-to-end: `codeintel index` (in-process, see conftest.run_cli), incremental behaviour, exit codes,
`codeintel check`, presets. tests/test_cli_process.py runs the real subprocess."""

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import duckdb

from codeintel_assets.pipeline import pass_tables
from codeintel_assets.planes import gates
from tests.conftest import cli_env, run_cli

PER_FILE_TABLES = [tc.name for tc in pass_tables()]


def index(repo: Path, env, *extra) -> tuple[int, dict]:
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
    lines = out.strip().splitlines()
    assert lines, err
    return code, json.loads(lines[-1])


def cli(env, *argv) -> subprocess.CompletedProcess:
    code, out, err = run_cli(list(argv), env)
    return subprocess.CompletedProcess(argv, code, out, err)


def rows_for(db: str, path: str) -> dict[str, int]:
    with duckdb.connect(db, read_only=True) as c:
        return {t: c.execute(f"select count(*) from {t} where path = ?", [path]).fetchall()[0][0] for t in PER_FILE_TABLES}


def run_partitions(env, run_id: str) -> tuple[str, str]:
    from dagster import DagsterInstance
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as i:
        tags = i.get_run_by_id(run_id).tags
    return tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]


def test_incremental_index(tiny_repo, tmp_path):
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]

    code, s = index(tiny_repo, env)
    assert code == 0, s
    assert (s["files_seen"], s["files_added"], s["files_changed"], s["files_removed"]) == (4, 4, 0, 0)
    assert s["files_failed"] == 1 and s["failed_files"][0].startswith("pkg/bad.py:1:")
    assert "SyntaxError" in s["failed_files"][0]
    # files_ok warns about pkg/bad.py; every other plane gate passes, and cpg_integrity (the graph's) and
    # scip_ingest (no SCIP index: nothing to read)
    assert s["checks_failed"] == 0 and s["checks_warned"] == 1 and s["checks_passed"] == len(gates()) + 1
    assert next(c for c in s["checks"] if c["check"] == "scip_ingest")["metadata"]["index"] == "absent"
    for key in ("files_seen", "files_added", "files_changed", "files_removed", "files_failed", "rows",
                "checks_passed", "checks_failed", "checks_warned", "seconds"):
        assert key in s
    assert s["rows"]["py_files"] == 4 and s["rows"]["py_bc_instructions"] > 0

    # No change: nothing materialised, no run.
    code, s = index(tiny_repo, env)
    assert code == 0
    assert (s["files_added"], s["files_changed"], s["files_removed"], s["files_unchanged"]) == (0, 0, 0, 4)
    assert s["run_id"] is None

    # One file edited: exactly one partition in the run.
    good_before = rows_for(db, "pkg/good.py")
    (tiny_repo / "top.py").write_text("print('hi')\nx = [1, 2]\n")
    code, s = index(tiny_repo, env)
    assert code == 0
    assert (s["files_added"], s["files_changed"], s["files_removed"]) == (0, 1, 0)
    assert run_partitions(env, s["run_id"]) == ("top.py", "top.py")
    assert rows_for(db, "pkg/good.py") == good_before

    # Two scattered files edited: one run over a contiguous range holding exactly those two.
    (tiny_repo / "pkg/__init__.py").write_text("VERSION = 1\n")
    (tiny_repo / "pkg/good.py").write_text((tiny_repo / "pkg/good.py").read_text() + "\nY = 2\n")
    code, s = index(tiny_repo, env)
    assert (s["files_changed"], s["files_unchanged"]) == (2, 2)
    assert run_partitions(env, s["run_id"]) == ("pkg/__init__.py", "pkg/good.py")
    assert rows_for(db, "top.py")["py_bc_instructions"] > 0

    # One file deleted: its rows are gone from every table, the others stay.
    (tiny_repo / "pkg/good.py").unlink()
    code, s = index(tiny_repo, env)
    assert (s["files_removed"], s["files_seen"]) == (1, 3)
    assert rows_for(db, "pkg/good.py") == {t: 0 for t in PER_FILE_TABLES}
    # Nothing to extract, but the call graph and the graph were made again: the graph's check is reported
    assert [(c["check"], c["passed"]) for c in s["checks"]] == [("scip_ingest", True), ("cpg_integrity", True)], \
        s["checks"]
    assert rows_for(db, "top.py")["py_bc_instructions"] > 0

    # A plane that did not finish for a file (a run killed between the delete and the append, a plane
    # added since) leaves no current status row: the next run sees the file as stale and rebuilds it.
    with duckdb.connect(db) as c:
        c.execute("delete from py_bc_cfg_files where path = 'top.py'")
    code, s = index(tiny_repo, env)
    assert (s["files_changed"], s["files_unchanged"]) == (1, 2), s
    assert run_partitions(env, s["run_id"]) == ("top.py", "top.py")
    assert rows_for(db, "top.py")["py_bc_blocks"] > 0

    # The bad file fixed: it is indexed, and nothing else was lost along the way.
    (tiny_repo / "pkg/bad.py").write_text("def g():\n    return 1\n")
    code, s = index(tiny_repo, env)
    assert s.get("run_ok"), s
    assert s["files_failed"] == 0 and s["checks_failed"] == 0, s
    assert rows_for(db, "pkg/bad.py")["py_bc_code_units"] == 2


def test_no_work_is_answered_without_dagster_and_sees_what_changed_behind_it(tiny_repo, tmp_path, monkeypatch):
    """An unchanged re-run after a run that finished opens no Dagster instance (codeintel_assets.settled), prints
    what the normal path prints, and still notices a change made behind it: a partition deleted through
    Dagster, a status row deleted in the database."""
    from dagster import DagsterInstance

    from codeintel_assets.settled import STATE_FILE
    env = cli_env(tmp_path)
    code, first = index(tiny_repo, env)
    assert code == 0 and first["run_id"] is not None
    state = Path(first["dagster_home"]) / STATE_FILE
    assert state.exists()  # the run finished with the partitions equal to the database's files

    def no_instance(*a, **k):
        raise AssertionError("the no-work path opened the Dagster instance")
    with monkeypatch.context() as m:
        m.setattr(DagsterInstance, "get", staticmethod(no_instance))
        code, fast = index(tiny_repo, env)
    assert code == 0 and fast["run_id"] is None and fast["files_unchanged"] == 4
    state.unlink()  # the same question by the normal path (which records the state again)
    code, normal = index(tiny_repo, env)
    assert code == 0 and state.exists()
    drop = ("seconds",)
    assert {k: v for k, v in fast.items() if k not in drop} == {k: v for k, v in normal.items() if k not in drop}

    # Behind the CLI's back, through Dagster: a partition deleted (the UI can). The state no longer matches the
    # instance's files, so the normal path runs, and the file without a partition is indexed again: not as new
    # (the database holds it as it is) but as unknown to the instance.
    with DagsterInstance.from_config(first["dagster_home"]) as inst:
        inst.delete_dynamic_partition("files", "top.py")
    code, s = index(tiny_repo, env)
    assert code == 0 and s["run_id"] is not None, s
    assert (s["files_added"], s["files_unknown_to_instance"], s["files_unchanged"]) == (0, 1, 3), s
    # ... and in the database: a plane's status row deleted makes the file stale.
    with duckdb.connect(env["CODEINTEL_DB"]) as c:
        c.execute("delete from py_dfg_files where path = 'top.py'")
    code, s = index(tiny_repo, env)
    assert code == 0 and (s["files_changed"], s["files_unchanged"]) == (1, 3) and s["run_id"] is not None, s
    with monkeypatch.context() as m:
        m.setattr(DagsterInstance, "get", staticmethod(no_instance))
        code, s = index(tiny_repo, env)
    assert code == 0 and s["files_unchanged"] == 4 and s["run_id"] is None


def test_check_report_and_blocking_failure(tiny_repo, tmp_path):
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]
    code, _ = index(tiny_repo, env)
    assert code == 0
    junit = tmp_path / "gates.xml"
    p = cli(env, "check", "--junit", str(junit))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "PASS instruction_conservation" in p.stdout
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and len(suite.findall("testcase")) >= 6

    # Lose one stored instruction row: the conservation gate must fail, naming the file and code unit.
    # The stored gate rows are what the asset checks aggregated; --recompute reads every table again.
    with duckdb.connect(db) as c:
        c.execute("delete from py_bc_instructions where path = 'pkg/good.py' and instr_index = 0 "
                  "and code_unit_id like '%:f'")
    p = cli(env, "check", "--recompute", "--junit", str(junit))
    assert p.returncode == 1
    assert "FAIL instruction_conservation" in p.stdout
    assert "pkg/good.py: f: 7 instruction rows stored, dis.get_instructions yields 8" in p.stdout, p.stdout
    failed = [tc for tc in ET.parse(junit).getroot().findall("testcase") if tc.find("failure") is not None]
    assert [tc.get("name") for tc in failed] == ["instruction_conservation"] or \
        "instruction_conservation" in [tc.get("name") for tc in failed]


def test_query_presets(tiny_repo, tmp_path):
    env = cli_env(tmp_path)
    code, _ = index(tiny_repo, env)
    assert code == 0

    def query(*argv):
        p = cli(env, "query", *argv)
        assert p.returncode == 0, p.stderr
        return p.stdout

    dot = query("--preset", "cfg-dot", "--arg", "pkg.good::f")
    assert dot.startswith('digraph "pkg.good::f"')
    # `if x:` -> POP_JUMP_IF_FALSE: the jump is the false edge, the fallthrough the true edge.
    assert '[label="true"]' in dot and '[label="false"]' in dot and "B0 entry" in dot
    # the qualname the call graph uses names the same code unit; a name nothing has is an error, not an
    # empty digraph (which reads as a function without code)
    assert query("--preset", "cfg-dot", "--arg", "pkg.good.f").splitlines()[1:] == dot.splitlines()[1:]
    missing = cli(env, "query", "--preset", "cfg-dot", "--arg", "pkg.good.nope")
    assert missing.returncode == 2 and missing.stdout == "" and "'pkg.good.nope'" in missing.stderr
    failed = [json.loads(line) for line in query("--preset", "failed-files", "--json").splitlines()]
    # `def g(:` is refused by ast.parse, compile and symtable alike: each plane records its own failure.
    assert [(r["path"], r["plane"], r["stage"], r["error_type"]) for r in failed] == [
        ("pkg/bad.py", "bytecode", "compile", "SyntaxError"), ("pkg/bad.py", "source", "parse", "SyntaxError"),
        ("pkg/bad.py", "symtable", "symtable", "SyntaxError")]
    sites = [json.loads(line) for line in query("--preset", "name-sites", "--arg", "os", "--json").splitlines()]
    assert {(r["role"], r["binding_kind"]) for r in sites} == {("def", "import"), ("use", "import")}
    rows = [json.loads(line) for line in query("select count(*) as n from py_bc_code_units", "--json").splitlines()]
    assert rows[0]["n"] == 6  # pkg.good: module, f, C, C.m (the list comprehension is inlined); top; pkg/__init__


def test_progress_lines_on_stderr_with_json_and_none_with_quiet(tmp_path):
    """--json keeps stdout for its one line and still reports progress on stderr (a long run in CI said nothing
    for minutes); --quiet silences it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "m.py").write_text("def f(x):\n    return x\n")
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["files_added"] == 1
    assert len(out.strip().splitlines()) == 1, out
    assert "[file_planes] 1/1 files," in err, err
    code, out, err = run_cli(["index", str(repo), "--json", "--quiet", "--full", "--workers", "1"], env)
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["files_changed"] == 1
    assert "[file_planes]" not in err and "[cpg_" not in err, err


def test_the_steps_after_the_pass_report_progress_too(tmp_path):
    """After the pass come the last writes, Dagster's events, the link and the graph check: minutes on a large
    repository (on Django 52 s of 110) with no line on stderr before. Each step now says what it does and what it
    did."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in "abcd":
        (repo / f"{name}.py").write_text("def f(x):\n    return x\n")
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    lines = [ln.strip() for ln in err.splitlines() if ln.startswith("  [")]
    assert [ln.split("]")[0] + "]" for ln in lines] == ["[file_planes]", "[file_planes]", "[cpg_link]", "[cpg_link]",
                                                       "[cpg_graph]", "[cpg_graph]"], lines
    assert lines[1].startswith("[file_planes] rows written,"), lines
    assert lines[1].endswith(" tables x 4 files in the Dagster instance"), lines
    assert lines[3].startswith("[cpg_link] 4 files linked, 0 CALLS edges in the database,"), lines
    assert lines[4] == "[cpg_graph] judging the whole graph" and lines[5].startswith("[cpg_graph] passed: "), lines
    (repo / "a.py").write_text("def f(x):\n    return x\n\n\nf(1)\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert "  [file_planes] rows written," in err and " tables x 1 file in the Dagster instance" in err, err
    assert "  [cpg_link] 1 file relinked, 1 CALLS edges in the database," in err, err
    assert "  [cpg_graph] judging the nodes and edges of 1 changed file and of the relinked ones" in err, err
