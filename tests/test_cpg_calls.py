"""The cpg plane's per-file facts on a hand-written package: definitions with their qualified names and
SCIP-style symbols, imports made absolute, call sites with the callee described. Every expected value
below is read off the fixture's source by hand."""


import duckdb
import pytest

from tests.conftest import cli_env, index_repo, run_cli, write_repo

CORE = '''
import os
import os.path as osp
from . import util
from .util import helper as h
from ..outside import x as far


def run(a, b=1, *args, key=None, **kw):
    h(a)
    util.helper(b, key=key)
    f = lambda y: y + 1
    g = lambda: 0
    osp.join(*args, **kw)
    return [f(i) for i in range(3)]


class K(Base):
    def m(self):
        return self.n()

    def n(self):
        return (lambda: 1)()


@decorator(arg)
def decorated():
    pass


x = run(1)
'''

UTIL = """
def helper(v, key=None):
    return v


class Widget:
    def __init__(self, n):
        self.n = n

    def grow(self):
        return self.size()

    def size(self):
        return len(str(self.n))
"""

APP = """
import pkg.util
from pkg import run_all
from pkg.util import Widget as W
from . import util as u
import os.path
from pkg.core import *


def decorator(x):
    def wrap(f):
        return f
    return wrap


def local():
    return 1


def main(obj):
    local()
    pkg.util.helper(1)
    run_all(2)
    W(3)
    u.helper(4)
    os.path.join("a", "b")
    obj.anything()
    rebound = local
    rebound()
    len([])


def shadow():
    pass


shadow = 5


def uses_shadow():
    shadow()


@decorator(1)
def decorated():
    pass
"""

REPO = {"pkg/__init__.py": "from .core import run as run_all\n", "pkg/core.py": CORE, "pkg/util.py": UTIL,
        "pkg/app.py": APP}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    _, env, _ = index_repo(tmp_path_factory.mktemp("cpg"), REPO)
    conn = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    yield conn
    conn.close()


def test_definitions_qualnames_and_symbols(db):
    got = {q: (k, sym) for q, k, sym in db.execute(
        "SELECT qualname, kind, symbol FROM cpg_definitions WHERE path = 'pkg/core.py'").fetchall()}
    base = "codeintel python . . pkg/core/"
    expect = {
        "pkg.core": ("module", base), "pkg.core.run": ("function", base + "run()."),
        "pkg.core.run.a": ("parameter", base + "run().(a)"), "pkg.core.run.b": ("parameter", base + "run().(b)"),
        "pkg.core.run.args": ("parameter", base + "run().(args)"),
        "pkg.core.run.key": ("parameter", base + "run().(key)"), "pkg.core.run.kw": ("parameter", base + "run().(kw)"),
        "pkg.core.run.<lambda1>": ("lambda", base + "run().<lambda1>()."),
        "pkg.core.run.<lambda1>.y": ("parameter", base + "run().<lambda1>().(y)"),
        "pkg.core.run.<lambda2>": ("lambda", base + "run().<lambda2>()."),
        "pkg.core.K": ("class", base + "K#"), "pkg.core.K.m": ("method", base + "K#m()."),
        "pkg.core.K.m.self": ("parameter", base + "K#m().(self)"), "pkg.core.K.n": ("method", base + "K#n()."),
        "pkg.core.K.n.self": ("parameter", base + "K#n().(self)"),
        "pkg.core.K.n.<lambda1>": ("lambda", base + "K#n().<lambda1>()."),
        "pkg.core.decorated": ("function", base + "decorated()."), "pkg.core.x": ("variable", base + "x."),
    }
    assert got == expect
    # Every definition with code has its code unit; every bound name its binding.
    missing = db.execute("SELECT qualname FROM cpg_definitions WHERE path = 'pkg/core.py' AND ((kind IN "
                         "('module', 'class', 'function', 'method', 'lambda') AND code_unit_id IS NULL) OR "
                         "(kind NOT IN ('module', 'lambda') AND binding_id IS NULL))").fetchall()
    assert missing == []


def test_imports_made_absolute(db):
    rows = db.execute("SELECT path, local_name, imported_module, imported_name, level FROM cpg_imports "
                      "WHERE path <> 'pkg/app.py' ORDER BY path, lineno, local_name").fetchall()
    assert rows == [
        ("pkg/__init__.py", "run_all", "pkg.core", "run", 1),  # a package's own level-1 import
        ("pkg/core.py", "os", "os", None, 0),
        ("pkg/core.py", "osp", "os.path", None, 0),
        ("pkg/core.py", "util", "pkg", "util", 1),
        ("pkg/core.py", "h", "pkg.util", "helper", 1),
        ("pkg/core.py", "far", None, "x", 2),  # beyond the top-level package: not resolvable
    ]


def test_call_sites(db):
    rows = db.execute(
        "SELECT caller_qualname, call_kind, callee_text, callee_kind, callee_root, callee_attrs, n_positional, "
        "keyword_names, has_star_args, has_star_kwargs, instr_opname FROM cpg_call_sites "
        "WHERE path = 'pkg/core.py' ORDER BY span_start_byte, call_kind").fetchall()
    assert rows == [
        ("pkg.core.run", "call", "h", "name", "h", [], 1, [], False, False, "CALL"),
        ("pkg.core.run", "call", "util.helper", "attribute", "util", ["helper"], 1, ["key"], False, False, "CALL_KW"),
        ("pkg.core.run", "call", "osp.join", "attribute", "osp", ["join"], 0, [], True, True, "CALL_FUNCTION_EX"),
        # Inside the (inlined) list comprehension: the caller is the function around it.
        ("pkg.core.run", "call", "f", "name", "f", [], 1, [], False, False, "CALL"),
        ("pkg.core.run", "call", "range", "name", "range", [], 1, [], False, False, "CALL"),
        ("pkg.core.K.m", "call", "self.n", "attribute", "self", ["n"], 0, [], False, False, "CALL"),
        ("pkg.core.K.n", "call", "lambda: 1", "lambda", None, [], 0, [], False, False, "CALL"),
        # The decorator is applied where the def is (the module): decorator(arg) is called, then its result
        # is called with the function (the application: its own CALL, the last one anchored to that node).
        ("pkg.core", "call", "decorator", "name", "decorator", [], 1, [], False, False, "CALL"),
        ("pkg.core", "decorator", "decorator(arg)", "call", None, [], 1, [], False, False, "CALL"),
        ("pkg.core", "call", "run", "name", "run", [], 1, [], False, False, "CALL"),
    ]


def test_callee_roots_carry_their_bindings(db):
    # `h(a)` names the binding the `from .util import helper as h` created; `self.n()` the parameter `self`.
    h = db.execute("SELECT c.callee_root_binding_id = i.binding_id FROM cpg_call_sites c JOIN cpg_imports i "
                   "ON i.path = c.path AND i.local_name = 'h' WHERE c.callee_text = 'h'").fetchall()
    assert h == [(True,)]
    s = db.execute("SELECT c.callee_root_binding_id = d.binding_id FROM cpg_call_sites c JOIN cpg_definitions d "
                   "ON d.path = c.path AND d.qualname = 'pkg.core.K.m.self' WHERE c.callee_text = 'self.n'").fetchall()
    assert s == [(True,)]
    f = db.execute("SELECT c.callee_root_binding_id IS NOT NULL FROM cpg_call_sites c WHERE c.callee_text = 'f'").fetchall()
    assert f == [(True,)]
    # The two CALLs anchored to `decorator(arg)`: the call first, then the application (its own callsite id).
    dec = db.execute("SELECT c.call_kind, c.callsite_id LIKE '%:DECORATOR:0', i.\"offset\" FROM cpg_call_sites c "
                     "JOIN py_bc_instructions i USING (instr_id) WHERE c.callee_text LIKE 'decorator%' AND c.path = 'pkg/core.py' "
                     "ORDER BY i.\"offset\"").fetchall()
    assert [(k, d) for k, d, _ in dec] == [("call", False), ("decorator", True)] and dec[0][2] < dec[1][2]


def test_status_counts(db):
    rows = db.execute("SELECT path, ok, definitions, imports, call_sites, call_sites_with_instr FROM cpg_files "
                      "ORDER BY path").fetchall()
    assert rows == [("pkg/__init__.py", True, 1, 1, 0, 0), ("pkg/app.py", True, 12, 6, 12, 12),
                    ("pkg/core.py", True, 18, 5, 10, 10), ("pkg/util.py", True, 12, 0, 3, 3)]


@pytest.mark.parametrize("module, is_package, level, target, want", [
    ("pkg.core", False, 1, "util", "pkg.util"),
    ("pkg.core", False, 1, None, "pkg"),
    ("pkg", True, 1, "core", "pkg.core"),
    ("pkg.sub.mod", False, 2, "x", "pkg.x"),
    ("pkg.sub", True, 2, None, "pkg"),
    ("pkg.core", False, 2, "x", None),  # beyond the top-level package
    ("top", False, 1, "x", None),  # a top-level module has no package
    ("pkg.core", False, 0, "os.path", "os.path"),
])
def test_relative_imports_as_importlib_resolves_them(module, is_package, level, target, want):
    import importlib.util

    from codeintel_assets.extract.calls import resolve_relative
    assert resolve_relative(module, is_package, level, target) == want
    package = module if is_package else module.rpartition(".")[0]
    if level:  # CPython's own answer, where it has one
        try:
            got = importlib.util.resolve_name("." * level + (target or ""), package)
        except ImportError:
            got = None
        assert got == want


def test_a_file_whose_name_holds_a_dot_does_not_take_the_name_of_the_module_import_finds(tmp_path):
    """``p/x.y.py`` beside ``p/x/y.py``: `from p.x.y import g` is p/x/y.py (CPython, checked below), and the
    file with the dot is no module an import reaches. Named ``p.x.y`` it shared that module's qualnames: the call
    reached both files' g (0.5 each) and `y.h()` reached x.y.py's h, which p/x/y.py does not have. Expected edges
    read off the fixture by hand: g -> p/x/y.py alone; no edge for y.h(); x.y.py's own call still resolves."""
    import subprocess
    import sys
    files = {"p/__init__.py": "", "p/x/__init__.py": "", "p/x/y.py": "def g():\n    return 1\n",
             "p/x.y.py": "def g():\n    return 2\n\n\ndef h():\n    return g()\n",
             "p/use.py": "from p.x.y import g\nfrom p.x import y\n\ng()\ny.h()\n"}
    repo, env, _ = index_repo(tmp_path, files)
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import p.x.y; print(p.x.y.__file__, hasattr(p.x.y, 'h'))"
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(repo)], cwd=repo, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(repo / "p/x/y.py"), "False"]  # CPython's answer
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        calls = sorted(c.execute("SELECT path, lineno, caller_qualname, callee_qualname, callee_path, rule, confidence "
                                 "FROM cpg_calls").fetchall())
        names = dict(c.execute("SELECT path, module_name FROM py_files").fetchall())
        symbols = dict(c.execute("SELECT qualname, symbol FROM cpg_definitions WHERE kind = 'module'").fetchall())
    assert calls == [("p/use.py", 4, "p.use", "p.x.y.g", "p/x/y.py", "import", 1.0),
                     ("p/x.y.py", 6, 'p."x.y".h', 'p."x.y".g', "p/x.y.py", "local", 1.0)]
    assert (names["p/x.y.py"], names["p/x/y.py"]) == ('p."x.y"', "p.x.y")
    assert symbols['p."x.y"'].endswith(" p/`x.y`/") and symbols["p.x.y"].endswith(" p/x/y/")  # SCIP: escaped
    from codeintel_assets.extract.calls import resolve_relative
    assert resolve_relative('p."x.y"', False, 1, "z") == "p.z"  # (its package is p, as for a sibling)


def test_a_module_beside_a_package_of_its_name_is_not_what_its_importers_call(tmp_path):
    """p/m.py and p/m/__init__.py: `import p.m` loads the package (CPython, checked below), so a call into p.m.f
    reaches the package's f alone, and p.m.g (the module's only) reaches nothing. Before, both files were p.m:
    f reached both (0.5 each), g the module's at 1.0. Adding the package renames the module (p."m.py") and its
    importers are relinked; removing it names the module p.m again. Edges read off the fixture by hand."""
    import json
    import shutil
    import subprocess
    import sys
    files = {"p/__init__.py": "", "p/m.py": "def f():\n    return 'mod'\n\n\ndef g():\n    return 1\n",
             "p/use.py": "import p.m\nfrom p.m import f\n\nf()\np.m.g()\n"}
    repo, env, _ = index_repo(tmp_path, files)

    def state():
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return (sorted(c.execute("SELECT lineno, callee_qualname, callee_path, confidence FROM cpg_calls "
                                     "WHERE path = 'p/use.py'").fetchall()),
                    dict(c.execute("SELECT path, module_name FROM py_files").fetchall()))
    calls, names = state()
    assert calls == [(4, "p.m.f", "p/m.py", 1.0), (5, "p.m.g", "p/m.py", 1.0)] and names["p/m.py"] == "p.m"

    write_repo(repo, {"p/m/__init__.py": "def f():\n    return 'pkg'\n"})
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import p.m; print(p.m.__file__, hasattr(p.m, 'g'))"
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(repo)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(repo / "p/m/__init__.py"), "False"]  # CPython: the package, which has no g
    code, stdout, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert (summary["files_added"], summary["files_changed"]) == (1, 1)  # the package; the module, renamed
    calls, names = state()
    assert calls == [(4, "p.m.f", "p/m/__init__.py", 1.0)]
    assert (names["p/m.py"], names["p/m/__init__.py"]) == ('p."m.py"', "p.m")

    shutil.rmtree(repo / "p/m")
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    assert state() == ([(4, "p.m.f", "p/m.py", 1.0), (5, "p.m.g", "p/m.py", 1.0)],
                       {"p/__init__.py": "p", "p/m.py": "p.m", "p/use.py": "p.use"})


def test_a_directory_hidden_by_a_module_of_its_name_holds_no_importable_module(tmp_path):
    """p/m.py beside p/m/ without __init__.py: `p.m` is the module, not a package, so `import p.m.z` fails
    (CPython, checked below) and p/m/z.py is named p."m/".z: `p.m.z.g()` reaches nothing and broken-imports names
    the import, while `from p.m import f` is the module's f. Before, p/m/z.py was p.m.z and the call reached it."""
    import subprocess
    import sys
    files = {"p/__init__.py": "", "p/m.py": "def f():\n    return 1\n", "p/m/z.py": "def g():\n    return 2\n",
             "p/m/sub/__init__.py": "", "p/use.py": "import p.m.z\nfrom p.m import f\n\nf()\np.m.z.g()\n"}
    repo, env, _ = index_repo(tmp_path, files)
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import p.m.z"
    err = subprocess.run([sys.executable, "-I", "-c", probe, str(repo)], capture_output=True, text=True).stderr
    assert "No module named 'p.m.z'; 'p.m' is not a package" in err  # CPython's answer
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        calls = c.execute("SELECT lineno, callee_qualname, callee_path FROM cpg_calls ORDER BY lineno").fetchall()
        names = dict(c.execute("SELECT path, module_name FROM py_files").fetchall())
    assert calls == [(4, "p.m.f", "p/m.py")]
    assert (names["p/m.py"], names["p/m/z.py"], names["p/m/sub/__init__.py"]) == ("p.m", 'p."m/".z', 'p."m/".sub')
    code, out, err = run_cli(["query", "--db", env["CODEINTEL_DB"], "--preset", "broken-imports", "--json"], env)
    import json
    assert code == 0 and [(r["path"], r["lineno"], r["imported_module"], r["missing"])
                          for r in map(json.loads, out.splitlines())] == [("p/use.py", 1, "p.m.z", "module")], out


def test_a_call_across_the_members_of_a_workspace(tmp_path):
    """packages/a/src/a and packages/b/src/b (a uv workspace): b's `from a import helper` is a's module, as with
    both src directories on sys.path; without them as import roots a was `packages.a.src.a` and the call external."""
    files = {"packages/a/src/a/__init__.py": "def helper():\n    return 1\n",
             "packages/b/src/b/__init__.py": "from a import helper\n\n\ndef run():\n    return helper()\n"}
    repo, env, _ = index_repo(tmp_path, files)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert c.execute("SELECT caller_qualname, callee_qualname, callee_path, rule FROM cpg_calls").fetchall() == [
            ("b.run", "a.helper", "packages/a/src/a/__init__.py", "import")]
    (repo / "pyproject.toml").write_text('[tool.codeintel]\nimport-roots = "packages"\n')
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 2 and err.strip() == (f"codeintel: {repo / 'pyproject.toml'}: [tool.codeintel] import-roots must be "
                                         "a list of directories (strings)"), err


def edges(db, caller):
    return sorted(db.execute("SELECT DISTINCT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = ?",
                             [caller]).fetchall())


def test_calls_resolved_across_files(db):
    assert edges(db, "pkg.app.main") == [
        ("<builtin>.len", "builtin"),
        ("os.path.join", "external"),  # `import os.path` binds os: os + .path.join
        ("pkg.app.local", "alias"),  # rebound = local; rebound(): the one assignment binds the function
        ("pkg.app.local", "local"),
        ("pkg.core.run", "import"),  # run_all, re-exported by pkg/__init__.py
        ("pkg.util.Widget.__init__", "constructor"),  # W(3): the class's __init__
        ("pkg.util.helper", "import"),  # pkg.util.helper(1) and u.helper(4)
    ]
    # No edge: obj.anything() (an attribute of a parameter).
    assert db.execute("SELECT count(*) FROM cpg_calls c JOIN cpg_call_sites s USING (callsite_id) "
                      "WHERE s.callee_text IN ('obj.anything')").fetchall() == [(0,)]
    # A name rebound in its scope (def shadow, then shadow = 5) gets no edge.
    assert edges(db, "pkg.app.uses_shadow") == []
    # h(a), util.helper(...); f(i) calls the lambda bound to f (g = lambda: 0 is never called)
    assert edges(db, "pkg.core.run") == [("<builtin>.range", "builtin"), ("os.path.join", "external"),
                                         ("pkg.core.run.<lambda1>", "lambda"), ("pkg.util.helper", "import")]
    assert edges(db, "pkg.core.K.m") == [("pkg.core.K.n", "self_method")]
    assert edges(db, "pkg.util.Widget.grow") == [("pkg.util.Widget.size", "self_method")]
    assert edges(db, "pkg.core") == [("pkg.core.run", "local")]  # `decorator` is bound nowhere in core
    # @decorator(1): decorator(1) is called, then what it returns (wrap) is applied to the definition
    assert edges(db, "pkg.app") == [("pkg.app.decorator", "local"), ("pkg.app.decorator.wrap", "returned")]
    conf = dict(db.execute("SELECT rule, min(confidence) FROM cpg_calls GROUP BY rule").fetchall())
    assert conf["self_method"] == pytest.approx(0.9) and conf["import"] == 1.0 and conf["external"] == pytest.approx(0.9)


def test_callgraph_preset(db, tmp_path):
    from codeintel_assets.presets import callgraph
    g = callgraph(db)
    assert g["pkg.app.main"] == ["<builtin>.len", "os.path.join", "pkg.app.local", "pkg.core.run",
                                 "pkg.util.Widget.__init__", "pkg.util.helper"]
    # Every module, class, function, method and lambda is a key, with or without callees.
    assert g["pkg"] == [] and g["pkg.app.decorated"] == [] and g["pkg.core.run.<lambda2>"] == []
    assert set(g) >= {"pkg.app", "pkg.core", "pkg.util", "pkg.util.Widget", "pkg.core.K.n.<lambda1>"}


def test_link_is_redone_when_files_change_or_leave(tmp_path):
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)

    def index():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return {(a, b) for a, b in c.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls").fetchall()}
    before = index()
    (repo / "pkg/util.py").write_text(UTIL.replace("def helper(", "def helper2("))
    after = index()
    # The edges into the renamed function are gone, from every importer; nothing else changed.
    assert before - after == {("pkg.app.main", "pkg.util.helper"), ("pkg.core.run", "pkg.util.helper")}
    assert after - before == set()
    (repo / "pkg/app.py").unlink()  # only a removal: no index run, the link step still runs
    gone = index()
    assert {e for e in after if e[0].startswith("pkg.app")} and not {e for e in gone if e[0].startswith("pkg.app")}
    assert gone == {e for e in after if not e[0].startswith("pkg.app")}


def test_the_link_scope_is_the_changed_files_and_what_can_see_them(db):
    from codeintel_assets.link import affected_paths
    # Nothing imports pkg.app: only it is resolved again when it changes.
    assert affected_paths(db, ["pkg/app.py"]) == {"pkg/app.py"}
    # pkg.util is imported by core (`from .util import helper`, `from . import util`) and by app
    # (`import pkg.util` + `pkg.util.helper(1)`, `from pkg.util import Widget`, `from . import util`);
    # pkg/__init__.py re-exports pkg.core.run only, which no change in pkg.util can redirect.
    assert affected_paths(db, ["pkg/util.py"]) == {"pkg/util.py", "pkg/core.py", "pkg/app.py"}
    # pkg.core: its re-exporter (__init__) and app (which calls run_all through it, and star-imports it).
    assert affected_paths(db, ["pkg/core.py"]) == {"pkg/core.py", "pkg/__init__.py", "pkg/app.py"}
