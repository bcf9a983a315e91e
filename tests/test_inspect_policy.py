"""Which modules the inspect plane imports, what re-runs when, and how its configuration fails."""

import ast
import inspect
import json
import re
from pathlib import Path

import duckdb
import pytest

from codeintel_assets.inspect_plan import contiguous_ranges
from codeintel_assets.inspect_step import InspectSettings, skip_reason
from tests.conftest import cli_env, run_cli, write_repo


@pytest.mark.parametrize("module, settings, why", [
    ("pkg.mod", InspectSettings(), None),
    ("tests.test_x", InspectSettings(), "denied by default"),
    ("pkg.tests.helpers", InspectSettings(), "denied by default"),
    ("pkg.test_io", InspectSettings(), "denied by default"),
    ("setup", InspectSettings(), "denied by default"),
    ("pkg.__main__", InspectSettings(), "denied by default"),
    ("scripts.release", InspectSettings(), "denied by default"),
    ("tests.test_x", InspectSettings(allow=("*", "tests.test_x")), None),  # allowed by its exact name
    ("tests.test_x", InspectSettings(default_deny=False), None),
    ("my-dir.mod", InspectSettings(), None),  # importlib.import_module imports it (test below)
    ("pkg..mod", InspectSettings(), "not an importable module name"),
    ("<module>", InspectSettings(), "not an importable module name"),
    ("pkg.mod", InspectSettings(deny=("pkg.*",)), "denylist"),
    ("pkg.mod", InspectSettings(allow=("other.*",)), "not in the allowlist"),
    ("pkg.mod", InspectSettings(allow=("pkg.*",), deny=("pkg.mod",)), "denylist"),
])
def test_selection(module, settings, why):
    got = skip_reason(module, settings)
    assert (got is None) if why is None else (got is not None and got.startswith(why))


def test_contiguous_ranges():
    order = list("abcdefgh")
    assert contiguous_ranges(order, {"b", "c", "f"}) == [["b", "c"], ["f"]]
    assert contiguous_ranges(order, set()) == []
    # Too many ranges: one from the first to the last (the keys between are inspected again too).
    assert contiguous_ranges(order, {"a", "c", "e", "g"}, max_ranges=2) == [list("abcdefg")]


def test_policy_hash_tracks_every_setting():
    base = InspectSettings()
    assert base.policy_sha256() == InspectSettings().policy_sha256()
    for changed in (InspectSettings(deny=("x",)), InspectSettings(probes=("m:f",)), InspectSettings(python="/x"),
                    InspectSettings(default_deny=False), InspectSettings(env=(("A", "1"),)),
                    InspectSettings(setup="m:f")):
        assert changed.policy_sha256() != base.policy_sha256()


REPO = {
    "pkg/__init__.py": "",
    "pkg/a.py": "def fa(x):\n    return x\n",
    "pkg/b.py": "import pkg.a\n\n\ndef fb():\n    return pkg.a.fa(1)\n",
    "pkg/c.py": "class C:\n    def m(self):\n        return 1\n",
    "tests/test_x.py": "def test_nothing():\n    pass\n",
}


def index(repo: Path, env, *extra) -> tuple[int, dict]:
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect", *extra], env)
    assert out.strip(), err
    return code, json.loads(out.strip().splitlines()[-1])


def attempts(env) -> dict[str, tuple]:
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        return {p: (a, ok, skip, run) for p, a, ok, skip, run in c.execute(
            "SELECT path, attempted, ok, skip_reason, dagster_run_id FROM py_inspect_import_attempts").fetchall()}


def sql(env, query: str) -> list[tuple]:
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        return c.execute(query).fetchall()


def anchor_rows(env, columns: str, where: str) -> list[tuple]:
    """``columns`` of the anchors (``a``) joined to the AST node each names (``d``), for the anchors ``where``."""
    return sql(env, f"SELECT {columns} FROM py_inspect_object_anchors a JOIN py_ast_nodes d "
                    f"ON d.ast_node_id = a.ast_node_id AND d.path = a.anchor_path WHERE {where}")


def workers_of(env) -> dict[str, tuple]:
    """module -> (ok, worker_pid, worker_replaced) of its import attempt."""
    return {m: (ok, pid, replaced) for m, ok, pid, replaced in sql(
        env, "SELECT module_name, ok, worker_pid, worker_replaced FROM py_inspect_import_attempts")}


def last_path_policy(env) -> str:
    return sql(env, "SELECT path_policy FROM py_inspect_run_meta ORDER BY started_at DESC LIMIT 1")[0][0]


def test_what_reruns_when(tmp_path):
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["reasons"] == {"never inspected": 5}  # new files, first --inspect run
    assert (s["inspect"]["attempted"], s["inspect"]["ok"], s["inspect"]["skipped"]) == (4, 4, 1)
    first = attempts(env)
    assert first["tests/test_x.py"][:3] == (False, True, first["tests/test_x.py"][2])
    assert first["tests/test_x.py"][2].startswith("denied by default")

    code, s = index(repo, env)  # nothing changed: nothing re-runs
    assert s["inspect"]["files"] == 0 and attempts(env) == first

    (repo / "pkg/a.py").write_text("def fa(x, y=2):\n    return x\n")
    code, s = index(repo, env)  # a changed; b imports pkg.a: re-inspected with it; c is current
    assert s["inspect"]["reasons"] == {"changed": 1, "imports a re-inspected module": 1}
    now = attempts(env)
    assert now["pkg/c.py"] == first["pkg/c.py"] and now["pkg/b.py"][3] != first["pkg/b.py"][3]

    (repo / "pkg/c.py").write_text("class C:\n    pass\n")
    code, out, _ = run_cli(["index", str(repo), "--json", "--workers", "1"], env)  # static only
    code, s = index(repo, env)
    assert s["inspect"]["reasons"] == {"file changed since inspected": 1}

    code, s = index(repo, env, "--inspect-deny", "pkg.c")
    assert s["inspect"]["reasons"] == {"inspect settings changed": 5}
    assert attempts(env)["pkg/c.py"][2] == "denylist"

    (repo / "pkg/c.py").unlink()  # a removed file loses its inspect rows too
    code, s = index(repo, env, "--inspect-deny", "pkg.c")
    assert "pkg/c.py" not in attempts(env) and s["files_removed"] == 1

    code, s = index(repo, env, "--inspect-deny", "pkg.c", "--full")
    assert s["inspect"]["reasons"] == {"full": 4}


def test_env_reaches_the_workers_and_nothing_else_does(tmp_path):
    """The sandbox's environment is built from scratch: a variable of the calling process never reaches a
    module; the ``env`` setting (a flag or pyproject.toml) sets one, and changing it re-inspects."""
    repo = write_repo(tmp_path / "repo", {"conf.py": "import os\n\nSETTING = os.environ.get('FX_SETTING', 'unset')\n"
                                                     "LEAK = os.environ.get('FX_LEAK', 'unset')\n"})
    env = {**cli_env(tmp_path), "FX_SETTING": "from the caller", "FX_LEAK": "from the caller"}

    def values():
        return dict(sql(env, "SELECT attr_name, value_ref.repr_trunc FROM py_inspect_members_static "
                             "WHERE owner_object_id = 'conf::module' AND attr_name IN ('SETTING', 'LEAK')"))
    code, s = index(repo, env)
    assert code == 0 and values() == {"SETTING": "'unset'", "LEAK": "'unset'"}
    code, s = index(repo, env, "--inspect-env", "FX_SETTING=configured")
    assert code == 0 and s["inspect"]["reasons"] == {"inspect settings changed": 1}
    assert values() == {"SETTING": "'configured'", "LEAK": "'unset'"}
    assert last_path_policy(env).endswith("; set by the configuration's env: FX_SETTING=configured")
    # The same setting from the repository's configuration: the same policy, nothing to re-run
    (repo / "pyproject.toml").write_text('[tool.codeintel.inspect]\nenv = {FX_SETTING = "configured"}\n')
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["files"] == 0
    for bad, says in (("PYTHONPATH=/tmp", "PYTHONPATH is set by the sandbox itself or would undo its isolation"),
                      ("HOME=/", "HOME is set by the sandbox itself"), ("FX_SETTING", "expected NAME=VALUE")):
        code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect", "--inspect-env", bad], env)
        last = err.strip().splitlines()[-1]  # (the lines before it: the plan's progress lines)
        assert code == 2 and last.startswith("codeintel: ") and says in last and "Traceback" not in err, err


def test_a_setup_callable_runs_once_per_worker_before_its_modules(tmp_path):
    """``setup`` (``django:setup``): each worker calls it before its first module, in the sandbox; a setup
    that raises fails every module of the run with what it raised (not each module with its own symptom)."""
    repo = write_repo(tmp_path / "repo", {
        "boot.py": "import os\n\nCALLS = []\n\n\ndef setup():\n    CALLS.append(os.environ.get('FX_MODE', 'none'))\n\n\n"
                   "def broken():\n    raise LookupError('no such app')\n",
        "app.py": "import boot\n\nif not boot.CALLS:\n    raise RuntimeError('boot.setup() was not called')\n"
                  "CALLS = list(boot.CALLS)\n"})
    env = cli_env(tmp_path)

    def calls():
        return sql(env, "SELECT value_ref.repr_trunc FROM py_inspect_members_static "
                        "WHERE owner_object_id = 'app::module' AND attr_name = 'CALLS'")
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["failed"][0].startswith("app.py: app: RuntimeError: boot.setup() was not called")
    code, s = index(repo, env, "--inspect-setup", "boot:setup", "--inspect-env", "FX_MODE=on")
    assert code == 0 and s["inspect"]["reasons"] == {"inspect settings changed": 2}
    assert s["inspect"]["failed"] == [] and calls() == [("['on']",)]  # called once, with the configured env
    assert last_path_policy(env).endswith("; each worker first calls boot:setup()")
    code, s = index(repo, env, "--inspect-setup", "boot:broken")
    # every module failed: inspect_quality fails (none of the attempted modules imported), exit 1
    quality = next(c for c in s["checks"] if c["check"] == "inspect_quality")
    assert code == 1 and not quality["passed"] and quality["metadata"]["modules_imported"] == 0, quality
    assert sorted(f.split(": ", 2)[1] for f in s["inspect"]["failed"]) == ["app", "boot"]
    assert all(": SetupFailed: the setup boot:broken raised LookupError: no such app (at " in f
               for f in s["inspect"]["failed"]), s["inspect"]["failed"]
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect", "--inspect-setup", "boot.setup"], env)
    assert code == 2 and err.strip().splitlines()[-1] == (
        "codeintel: inspect setup 'boot.setup': expected MODULE:QUALNAME (e.g. django:setup)"), err


def test_a_module_that_leaves_threads_running_ends_its_worker(tmp_path):
    """A thread a module starts at import keeps running (and printing, and changing state) while the same
    worker imports the next modules: the worker is replaced after such a module, not after the others."""
    noisy = ("import sys\nimport threading\nimport time\n\n\ndef _beat():\n    while True:\n"
             "        sys.stdout.write('beat\\n')\n        time.sleep(0.01)\n\n\n"
             "threading.Thread(target=_beat, daemon=True).start()\n")
    repo = write_repo(tmp_path / "repo", {"a_quiet.py": "X = 1\n", "b_threads.py": noisy, "c_after.py": "Y = 2\n",
                                          "d_after.py": "Z = 3\n"})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect", "--inspect-workers", "1"],
                             env)
    s = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and s["inspect"]["ok"] == 4, s["inspect"]
    assert re.search(r"^  \[inspect\] 4/4 modules, [0-9.]+s$", err, re.M), err  # the step's last progress line
    rows = workers_of(env)
    assert [rows[m][2] for m in ("a_quiet", "b_threads", "c_after", "d_after")] == [False, True, False, False]
    assert rows["a_quiet"][1] == rows["b_threads"][1] != rows["c_after"][1] == rows["d_after"][1]


def test_an_import_error_another_module_caused_is_retried_in_a_fresh_worker(tmp_path):
    """Modules share a worker, so one module's side effects reach the next: b_alias replaces a_helper in
    sys.modules by an empty module, and c_user's `from a_helper import VALUE` fails there. Which modules ran
    before depends on timing with several workers, so such a failure is imported again in a fresh worker,
    whose answer is the module's own; a real ImportError stays one (with the fresh attempt's message)."""
    repo = write_repo(tmp_path / "repo", {
        "a_helper.py": "VALUE = 1\n",
        "b_alias.py": "import sys\nimport types\n\nsys.modules['a_helper'] = types.ModuleType('a_helper')\n",
        "c_user.py": "from a_helper import VALUE\n\nDOUBLE = 2 * VALUE\n",
        "d_broken.py": "from a_helper import MISSING\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0 and s["inspect"]["ok"] == 3, s["inspect"]
    assert [f.split(": ", 3)[1:3] for f in s["inspect"]["failed"]] == [["d_broken", "ImportError"]]
    assert "cannot import name 'MISSING' from 'a_helper'" in s["inspect"]["failed"][0]
    rows = workers_of(env)
    double = sql(env, "SELECT value_ref.repr_trunc FROM py_inspect_members_static "
                      "WHERE owner_object_id = 'c_user::module' AND attr_name = 'DOUBLE'")
    assert double == [("2",)]
    assert [rows[m][2] for m in ("a_helper", "b_alias", "c_user", "d_broken")] == [False, False, True, True]
    assert rows["a_helper"][1] == rows["b_alias"][1] != rows["c_user"][1] != rows["d_broken"][1]


def test_a_packages_members_do_not_depend_on_what_the_worker_imported_before(tmp_path):
    """Importing pkg.other binds `other` on pkg: a_first (inspected before pkg in the same worker) does, so
    whether pkg has that member depended on the order of the modules in the worker. A submodule is a member
    of its package when the package's own code names it (`from . import named`), whatever ran before."""
    repo = write_repo(tmp_path / "repo", {"a_first.py": "import pkg.other\n", "pkg/__init__.py": "from . import named\n",
                                          "pkg/named.py": "N = 1\n", "pkg/other.py": "O = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0 and s["inspect"]["ok"] == 4, s["inspect"]
    subs = sql(env, "SELECT attr_name FROM py_inspect_members_static WHERE owner_object_id = 'pkg::module' "
                    "AND value_kind = 'module'")
    first = sql(env, "SELECT attr_name, value_object_id FROM py_inspect_members_static "
                     "WHERE owner_object_id = 'a_first::module' AND value_kind = 'module'")
    assert subs == [("named",)]
    assert first == [("pkg", "pkg::module")]  # a module's own imports are its members, as before


def test_bad_configuration_is_one_line(tmp_path):
    repo = write_repo(tmp_path / "repo", {"m.py": "x = 1\n",
                                          "pyproject.toml": "[tool.codeintel.inspect]\ntimeout = 3\n"})
    code, out, err = run_cli(["index", str(repo), "--inspect", "--workers", "1"], cli_env(tmp_path))
    assert code == 2 and "pyproject.toml" in err and "unknown key(s)" in err and "timeout" in err
    assert "Traceback" not in err


def test_quality_threshold_fails_the_index(tmp_path):
    repo = write_repo(tmp_path / "repo", {
        "m.py": "import nothing_like_this_exists\n",
        "ok.py": "def f():\n    pass\n",
        "pyproject.toml": "[tool.codeintel.inspect]\nmin_import_success = 0.9\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    check = next(c for c in s["checks"] if c["check"] == "inspect_quality")
    assert code == 1 and not check["passed"] and check["metadata"]["import_success"] == 0.5
    # The error names the module's own line that raised.
    assert s["inspect"]["failed"] == ["m.py: m: ModuleNotFoundError: No module named 'nothing_like_this_exists' "
                                      f"(at {repo.resolve() / 'm.py'}:1)"]
    # `codeintel check` judges the same database with the repository's thresholds, and without them.
    code, out, _ = run_cli(["check", "--path", str(repo)], env)
    assert code == 1 and "FAIL inspect_quality" in out and "import of m failed: ModuleNotFoundError" in out
    code, out, _ = run_cli(["check", "--path", str(tmp_path)], env)
    assert code == 0 and "PASS inspect_quality" in out


def test_caps_are_recorded(tmp_path):
    """Objects, members and unwrap hops stop at their caps (and say so); oversized facts are a budget row."""
    many = "\n".join(f"def f{i}():\n    pass\n" for i in range(30))
    chain = ("import functools\n\n\ndef base():\n    pass\n\n\nw = base\nfor _ in range(10):\n"
             "    w = functools.wraps(w)(lambda *a: None)\n")
    repo = write_repo(tmp_path / "repo", {
        "many.py": many, "chain.py": chain,
        # Declared members and attribute resolution are not capped per object: 12 classes of 60 methods.
        "big.py": "\n".join(f"class C{k}:\n" + "".join(f"    def m{i}(self):\n        pass\n" for i in range(60))
                            for k in range(12)),
        "pyproject.toml": "[tool.codeintel.inspect]\nmax_objects = 12\nmax_members = 20\nmax_unwrap_hops = 4\n"
                          "max_result_bytes = 100000\nworkers = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        got = {p: (ok, budget, caps, n) for p, ok, budget, caps, n in c.execute(
            "SELECT path, ok, budget_hit, caps_hit, object_count FROM py_inspect_import_attempts").fetchall()}
        assert got["many.py"][0] and set(got["many.py"][2]) == {"max_objects", "max_members"}
        assert got["many.py"][3] == 12
        assert c.execute("SELECT count(*) FROM py_inspect_members_static WHERE path = 'many.py' "
                         "AND owner_object_id = 'many::module'").fetchall() == [(20,)]
        hops = c.execute("SELECT max(hop), any_value(stop_reason) FILTER (WHERE stop_reason IS NOT NULL) "
                         "FROM py_inspect_unwrap_hops WHERE path = 'chain.py' AND root_object_id = "
                         "'chain:base:function' AND chain = 'full'").fetchall()
        assert "max_unwrap_hops" in got["chain.py"][2]
        assert c.execute("SELECT count(*) FROM py_inspect_unwrap_hops WHERE path = 'chain.py' "
                         "AND stop_reason = 'max_hops' AND NOT ok").fetchall()[0][0] >= 1, hops
        assert got["big.py"][:2] == (False, "result_bytes")
        assert c.execute("SELECT count(*) FROM py_inspect_objects WHERE path = 'big.py'").fetchall() == [(0,)]


def test_a_module_that_forges_replies_fails_alone(tmp_path):
    """A module can find the result pipe (it runs in the worker); what it writes there is not a reply."""
    forger = ("import json, os, sys\n"
              "fd = sys.modules['__main__'].RESULT_FD\n"
              "fake = json.dumps({'ok': True, 'tables': {'objects': [['forged']]}}).encode()\n"
              "os.write(fd, str(len(fake)).encode() + b'\\n' + fake)\n")
    garbage = "import json, os, sys\nos.write(sys.modules['__main__'].RESULT_FD, b'not a frame\\n')\n"
    repo = write_repo(tmp_path / "repo", {"a_forger.py": forger, "b_garbage.py": garbage,
                                          "c_fine.py": "def f():\n    pass\n",
                                          "pyproject.toml": "[tool.codeintel.inspect]\nworkers = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert s["run_ok"] and s["inspect"]["attempted"] == 3 and s["inspect"]["ok"] == 1
    got = attempts(env)
    assert got["c_fine.py"][1] is True and got["a_forger.py"][1] is False and got["b_garbage.py"][1] is False
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert c.execute("SELECT count(*) FROM py_inspect_objects WHERE object_id = 'forged'").fetchall() == [(0,)]
        msgs = dict(c.execute("SELECT path, error_msg FROM py_inspect_import_attempts").fetchall())
    assert "not the worker's" in msgs["a_forger.py"]


def test_an_interpreter_that_cannot_run_is_one_clear_error(tmp_path):
    repo = write_repo(tmp_path / "repo", {"m.py": "x = 1\n"})
    code, out, err = run_cli(["index", str(repo), "--inspect", "--workers", "1", "--inspect-python",
                              str(tmp_path / "no-such-python")], cli_env(tmp_path))
    assert code == 2 and "the inspect interpreter" in err and "no-such-python" in err and "cannot run" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("chunk_rows", [None, 1])
def test_a_forged_reply_with_the_right_shape_but_wrong_types_fails_alone(tmp_path, monkeypatch, chunk_rows):
    """Code in the worker can find the command (and its nonce) on the stack: a reply it forges is then
    taken as the worker's; its rows are still checked, and only that file loses them -- also when the step
    converts its rows to Arrow module by module (``chunk_rows=1``; large runs convert every 100,000 rows)."""
    if chunk_rows is not None:
        monkeypatch.setattr("codeintel_assets.inspect_step.CHUNK_ROWS", chunk_rows)
    from codeintel_assets.contracts.inspect import PY_INSPECT_OBJECTS
    width = len(PY_INSPECT_OBJECTS.schema) - 4
    forger = ("import json, os, sys\n"
              "f = sys._getframe()\n"
              "while 'cmd' not in f.f_locals:\n    f = f.f_back\n"
              "cmd = f.f_locals['cmd']\n"
              f"reply = {{'module': cmd['module'], 'nonce': cmd['nonce'], 'ok': True, 'error_type': None, "
              f"'error_msg': None, 'budget': None, 'caps': [], 'tables': {{'objects': [[[1]] * {width}]}}}}\n"
              "data = json.dumps(reply).encode()\n"
              "os.write(sys.modules['__main__'].RESULT_FD, str(len(data)).encode() + b'\\n' + data)\n"
              "os._exit(0)\n")
    repo = write_repo(tmp_path / "repo", {"a_forger.py": forger, "b_fine.py": "def f():\n    pass\n",
                                          "pyproject.toml": "[tool.codeintel.inspect]\nworkers = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert s["run_ok"] and s["inspect"]["ok"] == 1, s["inspect"]
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        st = dict((p, (ok, et)) for p, ok, et in c.execute(
            "SELECT path, ok, error_type FROM py_inspect_import_attempts").fetchall())
        assert st == {"a_forger.py": (False, "MalformedReply"), "b_fine.py": (True, None)}
        assert c.execute("SELECT DISTINCT path FROM py_inspect_objects").fetchall() == [("b_fine.py",)]


def test_rows_converted_module_by_module_are_the_rows_converted_at_once(tmp_path, monkeypatch):
    """The step converts its rows to Arrow every CHUNK_ROWS rows (memory): the tables are the same."""
    repo = write_repo(tmp_path / "repo", {
        "a.py": "import functools\n\n\ndef deco(f):\n    @functools.wraps(f)\n    def w(*a, **k):\n"
                "        return f(*a, **k)\n    return w\n\n\n@deco\ndef g(x: int, y=2) -> int:\n    return x\n",
        "b.py": "class Base:\n    def m(self, a):\n        return a\n\n\nclass C(Base):\n    z = 1\n",
        "c.py": "VALUE = [1, 2]\n\n\nasync def co(q):\n    return q\n"})
    tables = {}
    for chunk in (None, 1):
        if chunk is not None:
            monkeypatch.setattr("codeintel_assets.inspect_step.CHUNK_ROWS", chunk)
        env = cli_env(tmp_path / f"run-{chunk}")
        code, s = index(repo, env, "--inspect-workers", "1")
        assert code == 0 and s["inspect"]["ok"] == 3, s["inspect"]
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            got = {}
            for (t,) in c.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'py_inspect_%' "
                                  "AND table_name NOT IN ('py_inspect_import_attempts', 'py_inspect_run_meta')"
                                  ).fetchall():
                cols = [n for (n,) in c.execute(f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{t}'"
                                                ).fetchall() if n not in ("object_addr", "dagster_run_id")]
                # (an object's address differs between the two runs' processes, in reprs and their hashes too)
                got[t] = sorted(re.sub(r"'[0-9a-f]{64}'", "'<sha256>'", re.sub(r" at 0x[0-9a-f]+", "", repr(row)))
                                for row in c.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall())
            tables[chunk] = got
    assert sum(map(len, tables[None].values())) > 50
    assert tables[1] == tables[None]


def _steps_of_runs(env, since: float) -> list[set[str]]:
    """The steps that succeeded in each run started after ``since``, oldest first."""
    from dagster import DagsterEventType, DagsterInstance
    inst = DagsterInstance.from_config(env["DAGSTER_HOME"])
    try:
        out = []
        for r in reversed(inst.get_runs()):
            logs = inst.all_logs(r.run_id, of_type=DagsterEventType.STEP_SUCCESS)
            if logs and logs[0].timestamp >= since:
                out.append({e.step_key for e in logs})
        return out
    finally:
        inst.dispose()


def test_the_link_and_the_graph_check_run_once_after_the_inspect_step(tmp_path):
    """The inspect step's rows add graph projections and runtime signatures: with --inspect, the file planes
    run, then the inspect ranges, then the link and the graph's check once (not once per run); when the
    inspect step fails, the static rows are still linked and judged."""
    import time
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)
    t = time.time()
    code, s = index(repo, env)
    assert code == 0, s
    runs = _steps_of_runs(env, t)
    assert len(runs) == 3 and "file_planes" in runs[0] and "inspect_plane" in runs[1], runs
    assert [r & {"cpg_link", "cpg_graph"} for r in runs] == [set(), set(), {"cpg_link", "cpg_graph"}], runs
    integrity = [c for c in s["checks"] if c["check"] == "cpg_integrity"]
    assert len(integrity) == 1 and integrity[0]["passed"], s["checks"]

    (repo / "pkg/a.py").write_text("def fa(x, y=3):\n    return y\n")
    t = time.time()
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect"],
                             {**env, "CODEINTEL_INJECT_FAULT": "inspect=pkg/a.py"})
    s = json.loads(out.strip().splitlines()[-1])
    assert code == 2 and "injected fault" in s["inspect"]["run_error"], (code, s, err)
    runs = _steps_of_runs(env, t)
    assert "cpg_link" in runs[-1] and "cpg_graph" in runs[-1], runs  # linked and judged after the failure
    assert [c["passed"] for c in s["checks"] if c["check"] == "cpg_integrity"] == [True], s["checks"]
    from codeintel_assets.link import dirty_paths
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert dirty_paths(c) == []


def test_a_module_that_is_not_its_file_says_why(tmp_path):
    """Three ways `import name` runs another file than the one indexed, each named in the attempt row:
    a compiled extension beside the source (copied from the standard library's `_json`, whose init
    function serves any `*._json` name: Python's path finder tries extension suffixes before `.py`); an alias
    the package puts in sys.modules; a package whose `__path__` leads elsewhere. The first is the module's
    own answer whatever ran before, so it is not retried in a fresh worker; the others are."""
    import _json
    import shutil
    repo = write_repo(tmp_path / "repo", {
        "fx/__init__.py": "", "fx/_json.py": "def scanstring(s):\n    return s\n",
        "al/__init__.py": "import sys\n\nfrom . import real\n\nsys.modules['al.alias'] = real\n",
        "al/real.py": "R = 1\n", "al/alias.py": "A = 1\n",
        # as collections does with _collections_abc, which even sets its __name__ to "collections.abc"
        "al2/__init__.py": "import sys\n\nfrom . import _impl\n\nsys.modules['al2.abc'] = _impl\n",
        "al2/_impl.py": "__name__ = 'al2.abc'\nX = 1\n", "al2/abc.py": "Y = 1\n",
        "moved/__init__.py": "import os\n\n__path__ = [os.path.join(os.path.dirname(os.path.dirname(__file__)), "
                             "'vendor')]\n",
        "vendor/sub.py": "S = 1\n", "moved/sub.py": "S = 2\n"})
    shutil.copy(_json.__file__, repo / "fx")
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0, s
    rows = {m: (t, msg, replaced) for m, t, msg, replaced in sql(
        env, "SELECT module_name, error_type, error_msg, worker_replaced FROM py_inspect_import_attempts "
             "WHERE attempted AND NOT ok")}
    assert set(rows) == {"fx._json", "al.alias", "al2.abc", "moved.sub"}, rows
    assert rows["al2.abc"][1].endswith("(sys.modules maps al2.abc to the module al2._impl: an alias)"), rows
    assert rows["fx._json"][0] == "ExtensionShadowsSource" and "compiled extension module beside the source" in \
        rows["fx._json"][1] and rows["fx._json"][1].startswith(f"import fx._json loaded {repo / 'fx' / Path(_json.__file__).name}")
    assert rows["al.alias"][:2] == ("ModuleMismatch", f"import al.alias loaded {repo / 'al' / 'real.py'}, not "
                                    f"{repo / 'al' / 'alias.py'} (sys.modules maps al.alias to the module al.real: "
                                    "an alias)")
    assert rows["moved.sub"][0] == "ModuleMismatch" and f"its package moved searches {repo / 'vendor'} " \
        f"for submodules, not {repo / 'moved'}" in rows["moved.sub"][1]
    assert [rows[m][2] for m in ("fx._json", "al.alias", "moved.sub")] == [False, True, True]
    # The compiled module did import: import_success leaves it out (and counts it), the two others count as failed
    attempted, ok = sql(env, "SELECT count(*) FILTER (WHERE attempted), count(*) FILTER (WHERE ok) "
                             "FROM py_inspect_import_attempts")[0]
    quality = next(c for c in s["checks"] if c["check"] == "inspect_quality")["metadata"]
    assert (quality["modules_shadowed_by_extension"], quality["modules_attempted"], quality["modules_imported"]) == (
        1, attempted - 1, ok)
    assert quality["import_success"] == round(ok / (attempted - 1), 4)


def test_a_class_is_anchored_where_its_body_was_compiled(tmp_path):
    """`__firstlineno__` counts lines of the file the class body was compiled from, but inspect takes the
    file from `sys.modules[cls.__module__]`. pytest 9.2.0's public classes set `__module__ = "pytest"` and are
    defined in `_pytest/*.py`; its bench/xunit.py makes 5,000 classes with `exec`: the inspect_quality gate
    failed on pytest (anchor_rate 0.56), both kinds counted as "with source" and unanchored. A class is
    anchored in the file its own methods' code names, and a class exec'd from a string has no source."""
    repo = write_repo(tmp_path / "repo", {
        "pub/__init__.py": "from pub._impl import Plain, Widget\n\n__all__ = ['Plain', 'Widget']\n",
        "pub/_impl.py": "class Widget:\n    __module__ = 'pub'\n\n    def size(self):\n        return 1\n\n\n"
                        "class Plain:\n    __module__ = 'pub'\n",
        "made.py": "for i in range(3):\n    exec(f'class T{i}:\\n    def m(self):\\n        pass\\n')\n"})
    import sys
    sys.path.insert(0, str(repo))
    try:
        import pub
        truth = (pub.Widget.size.__code__.co_filename, pub.Widget.__firstlineno__)
        plain_line = pub.Plain.__firstlineno__
        import made
        assert made.T0.m.__code__.co_filename == "<string>"
    finally:
        sys.path.remove(str(repo))
        for m in [m for m in sys.modules if m in ("pub", "pub._impl", "made")]:
            del sys.modules[m]
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0 and s["inspect"]["ok"] == 3, s["inspect"]
    widget = anchor_rows(env, "a.path, a.anchor_path, a.ok, d.lineno", "a.object_id = 'pub:Widget:class'")
    assert widget == [("pub/__init__.py", str(Path(truth[0]).relative_to(repo)), True, truth[1])], widget
    # Without methods nothing names its file: the one class of the repository with its qualname and line (0.9)
    plain = anchor_rows(env, "a.anchor_path, a.ok, round(a.confidence::DOUBLE, 2), d.lineno",
                        "a.object_id = 'pub:Plain:class'")
    assert plain == [("pub/_impl.py", True, 0.9, plain_line)], plain
    made_rows = sql(env, "SELECT object_id, ok, error_type FROM py_inspect_object_anchors "
                         "WHERE path = 'made.py' AND object_id LIKE '%:class' ORDER BY 1")
    assert made_rows == [(f"made:T{i}:class", False, "NoSource") for i in range(3)], made_rows
    with_source, anchored = sql(env, "SELECT objects_with_source, objects_anchored FROM py_inspect_import_attempts "
                                     "WHERE path = 'made.py'")[0]
    assert (with_source, anchored) == (1, 1)  # the module alone


def test_a_module_named_with_a_hyphen_is_imported_as_importlib_imports_it(tmp_path):
    """`pkg/table-v1.py` is module `pkg.table-v1`: no import statement can name it, but
    `importlib.import_module` imports it (rich 15 loads its 21 `_unicode_data/unicode*-*-*.py` tables so), and
    a plain interpreter does (checked here). It was skipped as "not an importable module name"."""
    import subprocess
    import sys
    files = {"pkg/__init__.py": "", "pkg/table-v1.py": "def lookup(x: int) -> int:\n    return x * 2\n",
             "my-dir/tool.py": "def run(a, b=1):\n    return a\n"}
    repo = write_repo(tmp_path / "repo", files)
    out = subprocess.run([sys.executable, "-I", "-c", "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
                          "print(importlib.import_module('pkg.table-v1').lookup(2), "
                          "importlib.import_module('my-dir.tool').run(5))", str(repo)],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["4", "5"]
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0, s
    got = attempts(env)
    assert got["pkg/table-v1.py"][:3] == (True, True, None), got
    assert got["my-dir/tool.py"][:3] == (True, True, None), got
    assert sql(env, "SELECT sig_text FROM py_inspect_signatures WHERE object_id = 'pkg.table-v1:lookup:function' "
                    "AND variant = 'raw'") == [("(x: int) -> int",)]


def test_files_no_import_can_load_are_not_attempted_and_say_why(tmp_path):
    """`weird.py/inner.py` (named `"weird.py".inner`: a dotted part is quoted) as its path spells it, `weird.py.inner`,
    is what importlib cannot import (it looks for a package
    `weird`: checked here in a plain interpreter), and a FIFO the static planes could not read: each is a status
    row, attempted = false, with the real reason (they were imported and failed with "No module named 'weird'"
    / "No module named 'fifo'", counting against import success)."""
    import os
    import subprocess
    import sys
    repo = write_repo(tmp_path / "repo", {"weird.py/inner.py": "X = 1\n", "ok.py": "def f():\n    return 1\n"})
    os.mkfifo(repo / "fifo.py")
    err = subprocess.run([sys.executable, "-I", "-c", "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
                          "importlib.import_module('weird.py.inner')", str(repo)], capture_output=True, text=True)
    assert err.returncode == 1 and "No module named 'weird'" in err.stderr
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0, s
    got = attempts(env)
    assert got["ok.py"][:3] == (True, True, None), got
    attempted, _ok, reason, _run = got["weird.py/inner.py"]
    assert not attempted and "dotted directory" in reason and "package weird" in reason, got
    attempted, _ok, reason, _run = got["fifo.py"]
    assert not attempted and "could not read it" in reason and "not a regular file" in reason, got


def test_library_modules_the_default_deny_list_leaves_out_are_named(tmp_path):
    """jinja2.tests (its template tests, a library module) matches the default deny pattern *.tests: the summary
    names it, so a user can allow it; modules in a tests directory or named test_*.py are what the list is for
    and are not named."""
    repo = write_repo(tmp_path / "repo", {"lib/__init__.py": "", "lib/tests.py": "def odd(n):\n    return n % 2\n",
                                          "tests/test_y.py": "def test_y():\n    pass\n",
                                          "lib/test_io.py": "X = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["skipped"] == 3
    assert s["inspect"]["denied_by_default"] == ["lib.tests"]
    skipped = {m: r for m, a, r in sql(env, "SELECT module_name, attempted, skip_reason FROM py_inspect_import_attempts") if not a}
    assert set(skipped) == {"lib.tests", "tests.test_y", "lib.test_io"}
    assert all(r.startswith("denied by default") for r in skipped.values())


def test_c_types_imported_at_module_level_are_members_not_objects_defined_there(tmp_path):
    """`from collections import OrderedDict` and `from types import FunctionType, SimpleNamespace as Struct`:
    C types with a home elsewhere (their __module__ is not in their __dict__, or is a descriptor there): a member
    row naming that home, no object of the importing module (before: mod:OrderedDict:class with 28 slot wrappers,
    mod:function:class). CPython's own answer for each home is checked in a plain interpreter."""
    import subprocess
    import sys
    repo = write_repo(tmp_path / "repo", {
        "mod.py": "from collections import OrderedDict, deque\nfrom types import FunctionType, SimpleNamespace as Struct\n\n\n"
                  "class Own:\n    def __init__(self, a):\n        self.a = OrderedDict(a=a)\n"})
    homes = subprocess.run([sys.executable, "-I", "-c", "import collections, types; print(*(f'{t.__module__}:{t.__qualname__}' "
                            "for t in (collections.OrderedDict, collections.deque, types.FunctionType, "
                            "types.SimpleNamespace)))"], capture_output=True, text=True, check=True).stdout.split()
    assert homes == ["collections:OrderedDict", "collections:deque", "builtins:function", "types:SimpleNamespace"]
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0, s
    assert sql(env, "SELECT object_id FROM py_inspect_objects WHERE path = 'mod.py' AND kind = 'class' "
                    "ORDER BY 1") == [("mod:Own:class",)]
    members = dict(sql(env, "SELECT attr_name, value_object_id FROM py_inspect_members_static WHERE path = 'mod.py' "
                            "AND owner_kind = 'module' AND attr_name IN ('OrderedDict', 'deque', 'FunctionType', 'Struct')"))
    assert members == {"OrderedDict": f"{homes[0]}:class", "deque": f"{homes[1]}:class",
                       "FunctionType": f"{homes[2]}:class", "Struct": f"{homes[3]}:class"}


def test_a_renamed_function_anchors_by_its_code_objects_qualname(tmp_path):
    """`f.__qualname__ = "renamed"` changes the function's qualname, not its code's `co_qualname` (CPython, checked
    below): the code unit match (file + first line + co_qualname) is exact, 1.0, at the `def` that made it (the
    docs said 0.6). A code object rebuilt with another `co_qualname` matches the code unit starting on its line
    only: 0.6."""
    src = ("def f():\n    return 1\n\n\nf.__qualname__ = 'renamed'\n\n\n"
           "def g():\n    return 2\n\n\ng.__code__ = g.__code__.replace(co_qualname='other')\n")
    repo = write_repo(tmp_path / "repo", {"ren.py": src})
    ns: dict = {}
    exec(compile(src, "ren.py", "exec"), ns)
    assert (ns["f"].__qualname__, ns["f"].__code__.co_qualname, ns["f"].__code__.co_firstlineno) == ("renamed", "f", 1)
    assert (ns["g"].__qualname__, ns["g"].__code__.co_qualname, ns["g"].__code__.co_firstlineno) == ("g", "other", 8)
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0 and s["inspect"]["ok"] == 1, s["inspect"]
    rows = anchor_rows(env, "a.object_id, a.ok, round(a.confidence::DOUBLE, 2), d.lineno, d.kind",
                       "a.path = 'ren.py' AND a.object_id LIKE '%function' ORDER BY 1")
    assert rows == [("ren:g:function", True, 0.6, 8, "FunctionDef"),
                    ("ren:renamed:function", True, 1.0, 1, "FunctionDef")], rows


def test_a_cached_property_is_walked_through_its_function(tmp_path):
    """`functools.cached_property` keeps the function in `func` (an instance attribute, read without running
    code): its function is walked (an object with a signature) and the descriptor is anchored through it (0.95),
    as a property through its getter. Before, the descriptor was an object without anchor and the function
    was not walked."""
    import functools
    src = ("import functools\n\n\nclass C:\n    @functools.cached_property\n    def total(self) -> int:\n"
           "        return 1\n")
    repo = write_repo(tmp_path / "repo", {"cp.py": src})
    ns: dict = {}
    exec(compile(src, "cp.py", "exec"), ns)
    d = ns["C"].__dict__["total"]
    assert isinstance(d, functools.cached_property)
    sig = str(inspect.signature(d.func))
    # the code object starts at the decorator (co_firstlineno), the def node on its own line (ast)
    (fn,) = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.FunctionDef)]
    assert (d.func.__code__.co_firstlineno, fn.decorator_list[0].lineno) == (5, 5)
    line = fn.lineno
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    assert code == 0 and s["inspect"]["ok"] == 1, s["inspect"]
    rows = anchor_rows(env, "a.object_id, a.ok, round(a.confidence::DOUBLE, 2), d.lineno, d.name",
                       "a.object_id LIKE 'cp:C.total:%' ORDER BY 1")
    assert rows == [("cp:C.total:descriptor_method", True, 0.95, line, "total"),
                    ("cp:C.total:function", True, 1.0, line, "total")], rows
    assert sql(env, "SELECT sig_text FROM py_inspect_signatures WHERE object_id = 'cp:C.total:function' "
                    "AND variant = 'raw'") == [(sig,)]


def test_rows_older_inspect_code_made_are_inspected_again(tmp_path):
    """After an upgrade, a file whose inspect rows older inspect code made is inspected again (its
    py_inspect_import_attempts row carries inspector_version, the code's fingerprint); they were kept until
    the file changed or the settings did. The older code is simulated by writing another fingerprint into the
    database, or by a database from before the column (NULL)."""
    from codeintel_assets.version import inspector_version
    repo = write_repo(tmp_path / "repo", {"a.py": "def f():\n    return 1\n", "b.py": "X = 1\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["reasons"] == {"never inspected": 2}
    assert sql(env, "SELECT DISTINCT inspector_version FROM py_inspect_import_attempts") == [(inspector_version(),)]
    code, s = index(repo, env)
    assert s["inspect"]["files"] == 0  # current
    with duckdb.connect(env["CODEINTEL_DB"]) as c:
        c.execute("UPDATE py_inspect_import_attempts SET inspector_version = 'older' WHERE path = 'b.py'")
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["reasons"] == {"inspect code changed": 1}, s["inspect"]
    assert sorted(sql(env, "SELECT path, inspector_version FROM py_inspect_import_attempts")) == [
        ("a.py", inspector_version()), ("b.py", inspector_version())]
    with duckdb.connect(env["CODEINTEL_DB"]) as c:  # a database from before the column
        c.execute("ALTER TABLE py_inspect_import_attempts DROP COLUMN inspector_version")
    code, s = index(repo, env)
    assert code == 0 and s["inspect"]["reasons"] == {"inspect code changed": 2}, s["inspect"]
    assert sorted(sql(env, "SELECT path, inspector_version FROM py_inspect_import_attempts")) == [
        ("a.py", inspector_version()), ("b.py", inspector_version())]
    code, s = index(repo, env)
    assert s["inspect"]["files"] == 0


def test_the_summary_rows_line_up_with_the_inspect_tables(tmp_path):
    """The summary's table counts are one column whatever the table names: py_inspect_class_declared_members
    (34 characters) pushed its count one place right (a user trial)."""
    repo = write_repo(tmp_path / "repo", {"m.py": "class C:\n    x = 1\n"})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect"], env)
    assert code == 0, err
    lines = out.split("rows:\n", 1)[1].splitlines()
    rows = [ln for ln in lines[:lines.index(next(ln for ln in lines if not ln.startswith("  ")))]]
    assert "py_inspect_class_declared_members" in "".join(rows)
    assert len({len(ln) for ln in rows}) == 1, rows  # every count ends in the same column


def test_a_failed_import_is_retried_on_request_after_the_environment_is_fixed(tmp_path):
    """Every module failed to import (a dependency missing from the sandbox's environment): inspect_quality
    fails saying so, whatever the thresholds (it passed with 0 of 350 imported in a user trial). Once the
    dependency exists, a plain index says the failures are not retried and how to retry them;
    --inspect-retry-failed imports them again, and they are ok."""
    # m reads a data file that is not there yet (as sklearn's modules load a shared library from a directory
    # the user had not copied): not a Python file, so nothing the static pass sees changes when it appears
    repo = write_repo(tmp_path / "repo", {
        "m.py": "import os\n\nX = open(os.path.join(os.path.dirname(__file__), 'x.txt')).read()\n",
        "n.py": "from m import X\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env, "--inspect-workers", "1")
    check = next(c for c in s["checks"] if c["check"] == "inspect_quality")
    assert code == 1 and not check["passed"] and check["metadata"]["modules_imported"] == 0, check
    code, out, _ = run_cli(["check"], env)
    assert code == 1 and "none of the 2 attempted modules imported in the sandbox" in out, out
    (repo / "x.txt").write_text("42")  # the environment is fixed
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--inspect"], env)
    assert "failed to import when inspected: `--inspect-retry-failed` imports them again" in err, err
    code, s = index(repo, env, "--inspect-retry-failed")
    assert code == 0 and s["inspect"]["reasons"] == {"failed to import before": 2}, s["inspect"]
    assert s["inspect"]["ok"] == 2 and s["inspect"]["failed"] == []
    code, s = index(repo, env, "--inspect-retry-failed")
    assert code == 0 and s["inspect"]["files"] == 0  # nothing failed now: nothing to retry


def test_a_repository_root_that_is_a_package_has_its_modules_imported(tmp_path):
    """`codeintel index site-packages/requests --inspect` (the README's layout): the root is the package `pkg`, its
    modules are `pkg.mod`, and a plain interpreter imports them from the directory above (checked here). Each was
    skipped as "not an importable module name ... looks for a package pkg", and nothing was imported."""
    import subprocess
    import sys
    repo = write_repo(tmp_path / "site" / "pkg", {"__init__.py": "", "mod.py": "def f(a, b=1):\n    return a\n"})
    out = subprocess.run([sys.executable, "-I", "-c", "import inspect, sys; sys.path.insert(0, sys.argv[1]); "
                          "import pkg.mod; print(inspect.signature(pkg.mod.f))", str(repo.parent)],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "(a, b=1)", out.stderr
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0, s
    got = attempts(env)
    assert got["mod.py"][:3] == (True, True, None) and got["__init__.py"][:3] == (True, True, None), got
    assert sql(env, "SELECT sig_text FROM py_inspect_signatures WHERE object_id = 'pkg.mod:f:function' "
                    "AND variant = 'raw'") == [("(a, b=1)",)]


def test_an_inspect_run_that_selects_no_module_says_so(tmp_path):
    """A repository whose every file the default policy leaves out (here: tests only): the check passes (nothing
    failed), but says that nothing was imported and why, instead of a silent pass on 0 modules attempted."""
    from codeintel_assets.validate.inspect_quality import inspect_quality
    repo = write_repo(tmp_path / "repo", {"tests/test_x.py": "def test_nothing():\n    pass\n"})
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0, s
    assert [a[0] for a in attempts(env).values()] == [False]  # (attempted)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        r = inspect_quality(c, {})
    assert r.passed and r.metrics["modules_attempted"] == 0 and r.metrics["modules_skipped"] == 1
    assert r.findings and "no module was imported: all 1 were left out" in r.findings[0].message, r.findings
