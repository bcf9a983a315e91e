"""A module's inspect answer is what a fresh interpreter gives, whatever the worker imported before it, and
stays so when a module it imports leaves the repository."""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cli_env, run_cli, write_repo
from tests.test_inspect_policy import index, sql


def fresh(repo: Path, module: str):
    """[error type, message] of ``import module`` in a fresh isolated interpreter, None when it imports."""
    code = (f"import json, sys\nsys.path.insert(0, {str(repo)!r})\ntry:\n    import {module}\n"
            "except BaseException as e:\n    print(json.dumps([type(e).__name__, str(e)]))\n"
            "else:\n    print(json.dumps(None))\n")
    out = subprocess.run([sys.executable, "-I", "-B", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def attempts(env) -> dict[str, tuple]:
    """module -> (ok, error_type, error_msg, worker_pid, worker_replaced, dagster_run_id)."""
    return {r[0]: r[1:] for r in sql(env, "SELECT module_name, ok, error_type, error_msg, worker_pid, worker_replaced, "
                                          "dagster_run_id FROM py_inspect_import_attempts WHERE attempted")}


@pytest.mark.parametrize("retry", [True, False])
def test_a_failed_package_leaves_no_half_imported_submodules_behind(tmp_path, monkeypatch, retry):
    """pkg's __init__ imports its submodule a, then raises: Python drops pkg from sys.modules, not pkg.a, and
    the worker then answered `import pkg.a` (and user's `from pkg.a import A`) from sys.modules: ok, where a
    fresh interpreter runs pkg and fails; zhelper, which pkg imported after a, took pkg.a's A and succeeded
    then, is taken out with it. The same after a *successful* import: opt catches its subpackage's
    failure, whose submodule sub stayed behind without its package. Without the retry in a fresh worker
    (``retry=False``), the shared worker's own answers are the ones recorded."""
    if not retry:
        monkeypatch.setattr("codeintel_assets.extract.inspect_sandbox.RETRY_FRESH", ())
    repo = write_repo(tmp_path / "repo", {
        "base.py": "import sys\n\nsys.fx_base_runs = getattr(sys, 'fx_base_runs', 0) + 1\nVALUE = 1\n",
        "pkg/__init__.py": "import base\n\nfrom . import a\nimport zhelper\n\nraise ImportError('needs a missing dependency')\n",
        "pkg/a.py": "def A():\n    return 1\n",
        "user.py": "import base\nfrom pkg.a import A\n",
        "opt/__init__.py": "try:\n    from . import broken\nexcept ImportError:\n    broken = None\n",
        "opt/broken/__init__.py": "from . import sub\n\nraise ImportError('broken needs a missing dependency')\n",
        "opt/broken/sub.py": "S = 1\n",
        "zhelper.py": "from pkg.a import A\n",  # imported while pkg is half-initialised: fine then, not alone
        "zlater.py": "import sys\n\nimport base\n\nRUNS = sys.fx_base_runs\n"})
    env = cli_env(tmp_path)
    # opt.broken is not imported on its own: only opt's (successful) attempt runs it before opt.broken.sub's
    code, s = index(repo, env, "--inspect-workers", "1", "--inspect-deny", "opt.broken")
    assert code == 0, s
    rows = attempts(env)
    assert set(rows) == {"base", "pkg", "pkg.a", "user", "opt", "opt.broken.sub", "zhelper", "zlater"}, rows
    for module in ["pkg.a", "user", "zhelper", "opt.broken.sub"] + sorted(rows):
        want = fresh(repo, module)
        got = rows[module]
        if want is None:
            assert got[:2] == (True, None), (module, got)
        else:  # the same error as a fresh interpreter, and where it was raised
            assert (got[0], got[1]) == (False, want[0]) and got[2].startswith(want[1] + " (at "), (module, got, want)
    assert fresh(repo, "pkg.a") == ["ImportError", "needs a missing dependency"]
    assert rows["pkg.a"][2].endswith(f"{repo.resolve() / 'pkg' / '__init__.py'}:6)")
    assert fresh(repo, "opt.broken.sub") == ["ImportError", "broken needs a missing dependency"]
    # A module imported before the failures kept its module: zlater, in the same worker, did not run it again.
    assert sql(env, "SELECT value_ref.repr_trunc FROM py_inspect_members_static WHERE owner_object_id = "
                    "'zlater::module' AND attr_name = 'RUNS'") == [("1",)]
    if not retry:  # one worker answered them all
        assert len({r[3] for r in rows.values()}) == 1 and not any(r[4] for r in rows.values()), rows


def test_importers_of_a_removed_module_are_inspected_again(tmp_path):
    """b imports a (absolute), lib.util imports lib.util.editor (relative, as alembic.util imports
    alembic.util.editor) and lib.command imports lib.util (relative). Deleting a.py or editor.py re-inspects
    their importers ("imports a removed module") and theirs ("imports a re-inspected module"), also when the
    file was deleted in a run without --inspect; then nothing re-runs."""
    repo = write_repo(tmp_path / "repo", {
        "a.py": "X = 1\n", "b.py": "from a import X\n\nY = X\n", "c.py": "import b\n", "d.py": "Z = 1\n",
        "lib/__init__.py": "", "lib/util/__init__.py": "from .editor import edit\n",
        "lib/util/editor.py": "def edit():\n    pass\n", "lib/command.py": "from . import util\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["ok"] == 8, s["inspect"]
    first = attempts(env)

    (repo / "a.py").unlink()
    code, s = index(repo, env)
    assert s["inspect"]["reasons"] == {"imports a removed module": 1, "imports a re-inspected module": 1}, s
    rows = attempts(env)
    assert rows["b"][:2] == (False, "ModuleNotFoundError") and rows["b"][2].startswith("No module named 'a'")
    assert rows["c"][:2] == (False, "ModuleNotFoundError")
    assert rows["d"] == first["d"] and rows["lib.command"] == first["lib.command"]
    assert any(f.startswith("b.py: b: ModuleNotFoundError") for f in s["inspect"]["failed"]), s["inspect"]

    code, s = index(repo, env)  # nothing changed: nothing re-runs (the removed module is not looked for again)
    assert s["inspect"]["files"] == 0, s["inspect"]

    (repo / "lib/util/editor.py").unlink()
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)  # static only
    assert code == 0, err
    code, s = index(repo, env)
    assert s["inspect"]["reasons"] == {"imports a removed module": 1, "imports a re-inspected module": 1}, s
    rows = attempts(env)
    for module in ("lib.util", "lib.command"):
        assert rows[module][:2] == (False, "ModuleNotFoundError") and \
            rows[module][2].startswith("No module named 'lib.util.editor'"), rows[module]
    assert rows["d"] == first["d"]
    code, s = index(repo, env)
    assert s["inspect"]["files"] == 0, s["inspect"]


def test_a_module_taken_out_of_the_worker_is_unbound_from_its_package_too(tmp_path, monkeypatch):
    """pkg.f defines Cls, imports pkg.x (which takes Cls from the half-initialised pkg.f, binds as pkg.x on
    pkg) and then raises. The worker takes pkg.x out of sys.modules (it holds a class of a failed module),
    but `from pkg import x` reads the package's attribute first: pkg.y was ok in the worker (the stale
    pkg.x), where a fresh interpreter imports pkg.x again, runs pkg.f and fails. The retry in a fresh
    worker is off: the shared worker's own answers are recorded."""
    monkeypatch.setattr("codeintel_assets.extract.inspect_sandbox.RETRY_FRESH", ())
    repo = write_repo(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/f.py": "class Cls:\n    pass\n\n\nfrom pkg import x  # noqa\n\nraise ImportError('f fails after x')\n",
        "pkg/x.py": "from pkg.f import Cls\n",
        "pkg/y.py": "from pkg import x\n\nX = x\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0, s
    rows = attempts(env)
    assert set(rows) == {"pkg", "pkg.f", "pkg.x", "pkg.y"}, rows
    for module in sorted(rows):
        want, got = fresh(repo, module), rows[module]
        if want is None:
            assert got[:2] == (True, None), (module, got)
        else:
            assert (got[0], got[1]) == (False, want[0]) and got[2].startswith(want[1]), (module, got, want)
    assert fresh(repo, "pkg.y") == ["ImportError", "f fails after x"]
    assert len({r[3] for r in rows.values()}) == 1, rows  # one worker


def test_a_static_index_after_an_edit_says_the_runtime_facts_are_the_old_codes(tmp_path):
    """Inspected, then an edit indexed without --inspect: the inspect gate counts the file as changed since it was
    inspected and the anchors that name code units the static planes no longer have (before: anchoring 100 %, not
    a word); the next --inspect run brings both to 0."""
    from codeintel_assets.validate.inspect_quality import inspect_quality
    repo = write_repo(tmp_path / "repo", {"m.py": "def helper(x):\n    return x\n\n\nclass K:\n    def m(self):\n"
                                                  "        return 1\n", "n.py": "Y = 2\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["ok"] == 2, s["inspect"]

    def figures():
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            r = inspect_quality(c, {})
            return (r.metrics["files_changed_since_inspected"], r.metrics["anchors_to_missing_code_units"],
                    [f.message for f in r.findings])

    assert figures() == (0, 0, [])
    (repo / "m.py").write_text("# moved down\n" + (repo / "m.py").read_text())
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)  # static only
    assert code == 0, err
    stale, dangling, findings = figures()
    # the module, helper, K and K.m are anchored to code units whose ids carry their old byte spans
    assert stale == 1 and dangling == 4 and "codeintel index --inspect" in findings[0], (stale, dangling, findings)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["ok"] == 1, s["inspect"]
    assert figures() == (0, 0, [])
