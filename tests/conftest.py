"""Shared fixtures: a tiny repository on disk and an isolated Dagster home + DuckDB file."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TINY_REPO = {
    "pkg/__init__.py": "",
    "pkg/good.py": """
        import os

        def f(x):
            if x:
                return os.sep
            return None

        class C:
            def m(self):
                try:
                    return [i for i in range(3)]
                except ValueError as e:
                    raise RuntimeError() from e
    """,
    "pkg/bad.py": "def g(:\n",
    "top.py": "print('hi')\n",
}


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


@pytest.fixture
def tiny_repo(tmp_path) -> Path:
    return write_repo(tmp_path / "repo", TINY_REPO)


@pytest.fixture
def codeintel_env(tmp_path, monkeypatch):
    """DAGSTER_HOME and CODEINTEL_DB under tmp_path, with the tuned instance configuration."""
    home = tmp_path / "dagster_home"
    db = tmp_path / "ci.duckdb"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("CODEINTEL_DB", str(db))
    monkeypatch.setenv("CODEINTEL_WORKERS", "1")
    from codeintel_assets.instance import prepare_home
    prepare_home()
    return {"home": home, "db": db}


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    env["CODEINTEL_DB"] = str(tmp_path / "ci.duckdb")
    env.pop("DAGSTER_EVENT_BATCH_SIZE", None)
    return env


def index_repo(tmp: Path, files: dict[str, str], no_failed_files: bool = True) -> tuple[Path, dict[str, str], dict]:
    """Write ``files`` under ``tmp/repo`` and `codeintel index` it in this process (one worker, --json):
    (repo, env, the JSON summary). Asserts exit 0 and, with ``no_failed_files``, that no file failed."""
    import json
    repo = write_repo(tmp / "repo", files)
    env = cli_env(tmp)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert not no_failed_files or summary["failed_files"] == [], err
    return repo, env, summary


def call_edges(db: str, path: str, rule: str | None = None) -> dict[int, list[tuple[str, str, float]]]:
    """Line -> the CALLS edges of ``path``'s call sites on it, [(callee_qualname, rule, confidence rounded to 3
    places)] in order (``rule``: that rule's alone), read from the database the index wrote."""
    import duckdb
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT s.lineno, c.callee_qualname, c.rule, c.confidence FROM cpg_call_sites s "
                         "JOIN cpg_calls c USING (callsite_id) WHERE s.path = ? AND (? IS NULL OR c.rule = ?) "
                         "ORDER BY ALL", [path, rule, rule]).fetchall()
    out: dict[int, list] = {}
    for line, callee, r, conf in rows:
        out.setdefault(line, []).append((callee, r, round(conf, 3)))
    return out


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """`codeintel ARGV` in this process (no interpreter + Dagster start-up per call): exit code, stdout, stderr.

    ``env`` replaces os.environ for the call and is restored after. Only the tests about the process
    boundary itself (tests/test_cli_process.py) start a real subprocess.
    """
    import contextlib
    import io

    from codeintel_assets.cli import main

    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()
