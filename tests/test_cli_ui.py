"""`codeintel ui`'s choices made before Dagster starts: which repository the UI (and its sensor) works on, the
working directory of its code server, a port in use, an instance directory copied with its database."""

import shutil
import socket
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

from codeintel_assets.instance import home_for
from tests.conftest import REPO_ROOT, run_cli, write_repo
from tests.test_cli_edges import index, no_home_env


def _indexed(tmp_path: Path) -> tuple[Path, Path]:
    """A two-file repository indexed into tmp/db/x.duckdb, its instance beside it: (repo, database)."""
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/m.py": "def f():\n    return 1\n"})
    db = tmp_path / "db" / "x.duckdb"
    code, s, err = index(repo, no_home_env(), "--db", str(db))
    assert code == 0 and s["files_added"] == 2, (s, err)
    return repo, db


def _ui_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from codeintel_assets.cli import main; sys.exit(main(sys.argv[1:]))",
            "ui", *args]


def test_without_path_the_ui_works_on_the_repository_the_database_indexed(tmp_path, monkeypatch):
    """`codeintel ui --db FILE` from another directory: the repository is the one the database indexed (recorded
    in its instance directory by each index), not the working directory (a trial's sensor purged the index and indexed the working directory);
    PATH that is another repository is said; the code server runs in CodeIntel's directory, not the user's."""
    from codeintel_assets.cli import CODE_DIR, ui_command
    repo, dbp = _indexed(tmp_path)
    db = str(dbp)
    home = home_for(db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cmd, ui_env, cwd, warning = ui_command(Namespace(path=None, port=3999), home, db)
    assert ui_env["CODEINTEL_REPO"] == str(Path(repo).resolve()) and warning is None
    assert cwd == str(CODE_DIR) and cmd[cmd.index("-d") + 1] == str(CODE_DIR)
    assert (CODE_DIR / "codeintel_assets" / "assets" / "repository.py").exists()
    _, ui_env, _, warning = ui_command(Namespace(path=str(elsewhere), port=3999), home, db)
    assert ui_env["CODEINTEL_REPO"] == str(elsewhere) and str(Path(repo).resolve()) in warning
    # a database never indexed: the working directory, no warning
    _, ui_env, _, warning = ui_command(Namespace(path=None, port=3999), str(tmp_path / "new.dagster"),
                                       str(tmp_path / "new.duckdb"))
    assert ui_env["CODEINTEL_REPO"] == str(elsewhere) and warning is None


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    """Before, `dagster dev` went on without a webserver (its daemon and sensor running) and the browser at that
    port showed another database's UI."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = subprocess.run(_ui_argv(str(tmp_path), "--db", str(tmp_path / "x.duckdb"), "--port", str(port)),
                           cwd=REPO_ROOT, env=no_home_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0], p.stderr


def test_an_instance_copied_with_its_database_is_explained_without_dagster_home(tmp_path):
    """The database and the instance beside it copied to another name: the message says so (it told the user to
    unset DAGSTER_HOME, which was not set)."""
    _, db = _indexed(tmp_path)
    copy = tmp_path / "copy" / "y.duckdb"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    shutil.copytree(home_for(str(db)), home_for(str(copy)))
    code, out, err = run_cli(["index", str(tmp_path / "repo"), "--db", str(copy)], no_home_env())
    assert code == 2 and "DAGSTER_HOME" not in err and "copied or moved" in err and str(db) in err, (code, err)
