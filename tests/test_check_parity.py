"""`codeintel check` runs exactly the gates the asset checks of an index run report: the same checks, each on
the same guarded asset (and, on a database nothing changed since, with the same verdict), with or without
--recompute, with or without the inspect step. Both lists come from the asset checks the Definitions declare,
so a gate added to one cannot be missing from the other."""

import json
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import cli_env, run_cli, write_repo

REPO = {
    "pkg/__init__.py": "",
    "pkg/a.py": """
        def f(x):
            try:
                return [i for i in range(x)]
            except ValueError:
                return None
    """,
    "pkg/b.py": "from pkg.a import f\n\nprint(f(2))\n",
}


def index(repo, env, *extra) -> list[tuple[str, str, bool]]:
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["run_ok"], err
    return sorted((c["check"], c["asset"], c["passed"]) for c in summary["checks"])


def check(env, tmp, *extra) -> list[tuple[str, str, bool]]:
    """(check, asset, passed) from `codeintel check`'s JUnit report, after the same from its text."""
    junit = tmp / "check.xml"
    code, out, err = run_cli(["check", "--db", env["CODEINTEL_DB"], "--junit", str(junit), *extra], env)
    assert code == 0, (out, err)
    cases = ET.parse(junit).getroot().findall("testcase")
    got = sorted((tc.get("name"), tc.get("classname").removeprefix("codeintel."),
                  tc.find("failure") is None and tc.find("skipped") is None) for tc in cases)
    # the text lines say the same: "PASS name (asset): figures"
    lines = [line.split(":", 1)[0].split() for line in out.splitlines() if line[:5] in ("PASS ", "FAIL ", "WARN ")]
    assert sorted((name, asset.strip("()"), status == "PASS") for status, name, asset in lines) == got, out
    return got


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity")
    repo = write_repo(tmp / "repo", REPO)
    env = cli_env(tmp)
    return {"tmp": tmp, "env": env, "checks": index(repo, env)}


def test_check_reports_the_index_runs_asset_checks(indexed):
    checks = indexed["checks"]
    # the index run reports the SCIP ingest check (no index file: it passes) and the graph's integrity on the
    # asset that builds the graph
    assert ("scip_ingest", "scip_documents", True) in checks and ("cpg_integrity", "cpg_graph", True) in checks
    assert check(indexed["env"], indexed["tmp"]) == checks


def test_check_recompute_reports_the_same_checks(indexed):
    assert check(indexed["env"], indexed["tmp"], "--recompute") == indexed["checks"]


def test_check_reports_inspect_quality_when_the_inspect_step_ran(tmp_path):
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)
    checks = index(repo, env, "--inspect", "--inspect-workers", "1")
    assert ("inspect_quality", "py_inspect_import_attempts", True) in checks
    assert check(env, tmp_path, "--path", str(repo)) == checks


def test_a_check_without_a_whole_database_evaluation_is_an_error():
    from codeintel_assets.gate_report import database_results
    from codeintel_assets.validate.base import GateResult
    with pytest.raises(LookupError, match="new_gate"):
        database_results([("new_gate", "some_table")], [], {})
    with pytest.raises(LookupError, match="orphan"):  # a gate that no asset check runs
        database_results([], [GateResult("orphan", "t", True, True)], {})


def test_check_judges_an_ingested_scip_index_as_the_index_run_did(tmp_path):
    """With a SCIP index: ingested (passes), then a document older than its edited file (a warning in both)."""
    import os

    from tests.test_scip import index_repo, run_index
    repo, env = index_repo(tmp_path)
    code, summary, err = run_index(repo, env)
    assert code == 0, err
    ran = sorted((c["check"], c["asset"], c["passed"]) for c in summary["checks"])
    assert ("scip_ingest", "scip_documents", True) in ran and check(env, tmp_path) == ran
    index_time = (repo / "index.scip").stat().st_mtime_ns
    mod = repo / "pkg" / "mod.py"
    mod.write_text(mod.read_text() + "# edited\n")
    os.utime(mod, ns=(index_time + 10**9, index_time + 10**9))
    code, summary, err = run_index(repo, env)
    assert code == 0, err
    # the edit changes only pkg/mod.py, so the run reports the plane gates, scip_ingest and cpg_integrity
    ran = sorted((c["check"], c["asset"], c["passed"]) for c in summary["checks"])
    assert ("scip_ingest", "scip_documents", False) in ran and check(env, tmp_path) == ran
