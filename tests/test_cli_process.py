"""The process boundary: the installed `codeintel` console script, as the README runs it, on this
repository itself; then every query the README shows must return rows on that index."""

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parent.parent


def readme_queries() -> list[list[str]]:
    """argv of every `uv run codeintel query ...` in the README's bash blocks."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for m in re.finditer(r'uv run codeintel query (?:"(.*?)"|(--preset \S+(?: --arg \S+)?))', block, re.S):
            out.append([m.group(1)] if m.group(1) else m.group(2).split())
    for m in re.finditer(r"`uv run codeintel query (--preset [\w-]+)`", text):
        out.append(m.group(1).split())
    return out


def test_console_script_indexes_this_repository_and_the_readme_queries_return_rows(tmp_path):
    db = tmp_path / "self.duckdb"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DAGSTER_", "CODEINTEL_"))}
    script = Path(sys.executable).parent / "codeintel"
    p = subprocess.run([str(script), "index", str(REPO), "--db", str(db), "--json"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads(p.stdout.strip().splitlines()[-1])
    # --json keeps stdout for its line and still says on stderr how far a run is
    assert f"[file_planes] {s['files_added']}/{s['files_added']} files," in p.stderr, p.stderr[-3000:]
    n_files = sum(1 for f in REPO.rglob("*.py") if not {".venv", ".git", ".codeintel"} & set(f.relative_to(REPO).parts))
    assert s["files_seen"] == n_files and s["files_added"] == n_files
    assert s["run_ok"] and s["checks_failed"] == 0, [c for c in s["checks"] if not c["passed"]]
    assert (tmp_path / "self.dagster" / "dagster.yaml").exists()  # the instance lives beside the database
    assert not list(tmp_path.glob(".codeintel-spool-*"))  # no spool survives the run
    with duckdb.connect(str(db), read_only=True) as c:
        assert c.execute("select module_name from py_files where path = 'codeintel_assets/reconcile.py'").fetchall() \
            == [("codeintel_assets.reconcile",)]

    # An unchanged re-run: answered from the database and the scan, without importing Dagster at all.
    p = subprocess.run([str(script), "index", str(REPO), "--db", str(db), "--json"],
                       env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    again = json.loads(p.stdout.strip().splitlines()[-1])
    assert again["files_unchanged"] == n_files and again["run_id"] is None
    imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    assert "duckdb" in imported and "dagster" not in imported, sorted(m for m in imported if "dagster" in m)

    queries = readme_queries()
    static = [q for q in queries if "py_inspect_" not in " ".join(q)]
    runtime = [q for q in queries if "py_inspect_" in " ".join(q)]
    assert len(static) >= 6 and len(runtime) >= 2, queries
    env["CODEINTEL_DB"] = str(db)

    def run_queries(which):
        for argv in which:
            code, out, err = run_cli(["query", *argv, "--json"], env)
            assert code == 0, (argv, err)
            rows = [json.loads(line) for line in out.splitlines() if line.strip()]
            if argv[:2] == ["--preset", "failed-files"]:
                assert rows == [], rows  # this repository has no broken files
            else:
                assert rows, f"README query returned no rows: {argv}"
    run_queries(static)
    # The README's inspect queries, after `codeintel index --inspect` of the same repository.
    p = subprocess.run([str(script), "index", str(REPO), "--db", str(db), "--json", "--inspect"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    s = json.loads(p.stdout.strip().splitlines()[-1])
    assert s["inspect"]["reasons"] == {"never inspected": n_files} and s["inspect"]["failed"] == []
    assert s["inspect"]["skipped"] > 0  # the tests are not imported
    run_queries(runtime)


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`codeintel index | true`: the summary hits a closed pipe; the index is stored, no traceback, exit 141."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def f(x):\n    return x\n")
    db = tmp_path / "x.duckdb"
    script = Path(sys.executable).parent / "codeintel"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("DAGSTER_", "CODEINTEL_"))}
    p = subprocess.run(["bash", "-c", f'"{script}" index "{repo}" --db "{db}" 2>"{tmp_path}/err" | true; '
                                      'echo "${PIPESTATUS[0]}"'], env=env, capture_output=True, text=True, timeout=300)
    err = (tmp_path / "err").read_text()
    assert "Traceback" not in err, err
    assert p.stdout.strip() == "141", (p.stdout, err)
    with duckdb.connect(str(db), read_only=True) as c:
        assert c.execute("select count(*) from py_bc_code_units where path = 'a.py'").fetchall() == [(2,)]
