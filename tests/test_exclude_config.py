"""`exclude` in the repository's `[tool.codeintel]` table: paths no scan of the repository sees, whichever
command scans it (`codeintel index`, `codeintel watch`'s polls, the UI's sensor, the link's look for compiled
modules), as `--exclude` does for one command.

Before it, `--exclude` was known to the command line's scan alone: the sensor (the UI) indexed the excluded files
again, and the link recorded the compiled modules of excluded directories. The expected paths are the fixture's,
written by hand."""

import duckdb
from dagster import DagsterInstance, build_sensor_context

from codeintel_assets.assets.sensors import repository_sensor
from codeintel_assets.reconcile import status_fingerprint
from resources.repo import RepoConfig
from resources.store import CodeIntelStore
from tests.conftest import cli_env, run_cli, write_repo

CONFIG = '[tool.codeintel]\nexclude = ["gen/*", "*/fixtures/*"]\n'
FILES = {
    "pyproject.toml": CONFIG,
    "pkg/__init__.py": "",
    "pkg/m.py": "def f():\n    return 1\n",
    "pkg/fixtures/data.py": "X = 1\n",
    "gen/out.py": "Y = 2\n",
    "tools/run.py": "from pkg.m import f\nf()\n",
}


def _paths(db) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as c:
        return [r[0] for r in c.execute("SELECT path FROM py_files ORDER BY path").fetchall()]


def _index(repo, env, *extra) -> dict:
    import json
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_configured_patterns_and_the_command_line_ones_are_both_skipped(tmp_path):
    repo = write_repo(tmp_path / "repo", FILES)
    env = cli_env(tmp_path)
    summary = _index(repo, env)
    assert _paths(env["CODEINTEL_DB"]) == ["pkg/__init__.py", "pkg/m.py", "tools/run.py"]
    assert summary["files_seen"] == 3
    # --exclude adds to the repository's patterns for this command: tools/run.py leaves the index
    summary = _index(repo, env, "--exclude", "tools/*")
    assert summary["files_removed"] == 1
    assert _paths(env["CODEINTEL_DB"]) == ["pkg/__init__.py", "pkg/m.py"]
    # the setting removed: every file is indexed
    (repo / "pyproject.toml").write_text("[tool.codeintel]\n")
    summary = _index(repo, env)
    assert summary["files_added"] == 3
    assert _paths(env["CODEINTEL_DB"]) == ["gen/out.py", "pkg/__init__.py", "pkg/fixtures/data.py", "pkg/m.py",
                                           "tools/run.py"]
    # and set again: their rows go
    (repo / "pyproject.toml").write_text(CONFIG)
    summary = _index(repo, env)
    assert summary["files_removed"] == 2
    assert _paths(env["CODEINTEL_DB"]) == ["pkg/__init__.py", "pkg/m.py", "tools/run.py"]


def test_a_setting_that_is_not_a_list_of_strings_is_one_line_naming_the_file(tmp_path):
    repo = write_repo(tmp_path / "repo", {**FILES, "pyproject.toml": '[tool.codeintel]\nexclude = "gen/*"\n'})
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], cli_env(tmp_path))
    assert code == 2
    assert err.strip() == (f"codeintel: {repo / 'pyproject.toml'}: [tool.codeintel] exclude must be a list of glob "
                           "patterns (strings)")
    assert not (tmp_path / "ci.duckdb").exists() or _paths(tmp_path / "ci.duckdb") == []


def test_the_watch_fingerprint_ignores_excluded_files_and_survives_a_bad_setting(tmp_path):
    repo = write_repo(tmp_path / "repo", FILES)
    before = status_fingerprint(repo)
    assert sorted(e[0] for e in before) == ["pkg/__init__.py", "pkg/m.py", "pyproject.toml", "tools/run.py"]
    (repo / "gen" / "out.py").write_text("Y = 3  # edited\n")
    (repo / "gen" / "new.py").write_text("Z = 1\n")
    assert status_fingerprint(repo) == before
    (repo / "pkg" / "m.py").write_text("def f():\n    return 2\n")
    edited = status_fingerprint(repo)
    assert edited != before
    # a bad table: no exception in the poll, and a fingerprint that stays put until the file changes again
    (repo / "pyproject.toml").write_text('[tool.codeintel]\nexclude = 3\n')
    bad = status_fingerprint(repo)
    (repo / "pkg" / "m.py").write_text("def f():\n    return 4\n")
    assert status_fingerprint(repo) == bad != edited


def test_the_sensor_skips_the_configured_paths(tmp_path, codeintel_env):
    repo = write_repo(tmp_path / "repo", FILES)
    instance = DagsterInstance.get()
    with build_sensor_context(instance=instance, resources={
            "repo": RepoConfig(root=str(repo), workers=1), "store": CodeIntelStore(database=str(codeintel_env["db"]))}
    ) as ctx:
        result = repository_sensor.evaluate_tick(ctx)
    added = [k for req in result.dynamic_partitions_requests for k in req.partition_keys]
    assert added == ["pkg/__init__.py", "pkg/m.py", "tools/run.py"]
    # a bad table: the tick skips, naming the file, and requests nothing
    (repo / "pyproject.toml").write_text('[tool.codeintel]\nexclude = [1]\n')
    with build_sensor_context(instance=instance, resources={
            "repo": RepoConfig(root=str(repo), workers=1), "store": CodeIntelStore(database=str(codeintel_env["db"]))}
    ) as ctx:
        result = repository_sensor.evaluate_tick(ctx)
    assert not result.run_requests
    assert "pyproject.toml: [tool.codeintel] exclude must be a list" in result.skip_message


def test_a_compiled_module_in_an_excluded_directory_is_not_recorded(tmp_path):
    import shutil

    from tests.test_cpg_graph import _an_extension_module_file
    so = _an_extension_module_file()
    repo = write_repo(tmp_path / "repo", FILES)
    for d in ("gen", "pkg", "vendor"):
        (repo / d).mkdir(exist_ok=True)
        shutil.copy(so, repo / d / so.name)
    env = cli_env(tmp_path)
    _index(repo, env, "--exclude", "vendor/*")

    def recorded() -> list[str]:
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return [r[0] for r in c.execute("SELECT path FROM cpg_link_sourceless ORDER BY path").fetchall()]
    # gen/ by the repository's setting, vendor/ by the command line's (the link runs in the command's Dagster run)
    assert recorded() == [f"pkg/{so.name}"]
    # an unchanged repository under the same command: no work, and no link step either (the sourceless modules
    # are compared under the same exclusions)
    summary = _index(repo, env, "--exclude", "vendor/*")
    assert summary["files_changed"] == 0 and summary["run_id"] is None
    assert recorded() == [f"pkg/{so.name}"]
