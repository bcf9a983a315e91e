"""Names re-exported by `from x import *` across modules, as networkx writes them (`import networkx as nx;
nx.shortest_path(...)`, where networkx/__init__ star-imports networkx.algorithms, which star-imports its
submodules). The expected callee of every call is what CPython binds: the test imports the same files and
reads ``__module__`` / ``__qualname__`` of the object each callee expression evaluates to."""

import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import cli_env, index_repo, run_cli, write_repo

FILES = {
    "s/__init__.py": "from s.mid import *\n",
    # no __all__: the public names it binds, its own star imports' included; the later star import wins
    "s/mid.py": "from s.impl import *\nfrom s.other import *\nfrom s.other2 import *\n\n\ndef own():\n    return 1\n",
    "s/impl.py": '__all__ = ["f", "shadowed"]\n\n\ndef f():\n    return 1\n\n\ndef shadowed():\n    return 1\n\n\n'
                 "def not_exported():\n    return 1\n",
    "s/other.py": "def shadowed():\n    return 2\n\n\ndef _private():\n    return 2\n",
    "s/other2.py": "def _hidden():\n    return 0\n",  # binds nothing through a star import (yet)
    # a name the star-importing module defines itself after the star import: its own
    "s/local.py": "from s.impl import *\n\n\ndef f():\n    return 3\n",
    "use.py": """import s
import s.local
from s import f, shadowed, own
from s.local import f as lf


def main():
    return [s.f(), f(), s.shadowed(), shadowed(), own(), s.own(), lf(), s.mid.f(), s.local.f()]


def broken():
    return [s.not_exported(), s._private()]


def later():
    return s.g()
""",
}
# unrelated files, so that an edit of two files stays an incremental link (more than a third of the files: a full
# one)
FILLER = {f"z/m{i}.py": f"def z{i}():\n    return {i}\n" for i in range(12)}
CALLEES = ["s.f", "f", "s.shadowed", "shadowed", "own", "s.own", "lf", "s.mid.f", "s.local.f"]
BROKEN = ["s.not_exported", "s._private"]

TRUTH = """
import json, sys
sys.path.insert(0, sys.argv[1])
import use
out = {}
for text in json.loads(sys.argv[2]):
    try:
        obj = eval(text, vars(use))
        out[text] = obj.__module__ + "." + obj.__qualname__
    except AttributeError:
        out[text] = None
print(json.dumps(out))
"""


def runtime_callees(root: Path, texts: list[str]) -> dict[str, str | None]:
    """What each callee expression of use.py is bound to in CPython (None: an AttributeError)."""
    import json
    out = subprocess.run([sys.executable, "-I", "-c", TRUTH, str(root), json.dumps(texts)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def edges(db: str, function: str) -> dict[str, set[str]]:
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT s.callee_text, k.callee_qualname FROM cpg_calls k JOIN cpg_call_sites s USING "
                         "(callsite_id) WHERE k.caller_qualname = ?", [function]).fetchall()
    out: dict[str, set[str]] = {}
    for text, callee in rows:
        out.setdefault(text, set()).add(callee)
    return out


def test_star_reexports_resolve_as_cpython_binds_them(tmp_path):
    truth = runtime_callees(write_repo(tmp_path / "truth", FILES), CALLEES + BROKEN)
    assert truth["s.shadowed"] == "s.other.shadowed" and truth["s.not_exported"] is None  # the fixture's point
    _, env, _ = index_repo(tmp_path, FILES)
    got = edges(env["CODEINTEL_DB"], "use.main")
    assert got == {t: {truth[t]} for t in CALLEES}, got
    # not bound by any star import (not in __all__; private): no edge, as CPython has no such attribute
    assert edges(env["CODEINTEL_DB"], "use.broken") == {}


def test_an_edit_two_star_imports_away_relinks_the_caller(tmp_path):
    """use.py imports only `s`, and its call s.g() reaches nothing; then s/other2.py, which s.mid star-imports,
    defines g. use.py neither imports s/other2.py nor had an edge into it: the incremental link must follow the
    star chain back to it (other2 -> s.mid -> s -> use). The result equals a full link of the same files."""
    repo, env, _ = index_repo(tmp_path, {**FILES, **FILLER})
    assert edges(env["CODEINTEL_DB"], "use.later") == {}
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:  # what an edit of s/other2.py relinks
        from codeintel_assets.link import affected_paths
        scope = affected_paths(c, ["s/other2.py"])
    # use.py is in it, and it stays an incremental link (more than a third of the files: the link does them all)
    assert "use.py" in scope and len(scope) <= (len(FILES) + len(FILLER)) // 3, scope
    (repo / "s/other2.py").write_text("def g():\n    return 2\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--json"], env)
    assert code == 0, err
    truth = runtime_callees(repo, ["s.g"])
    assert truth == {"s.g": "s.other2.g"}
    assert edges(env["CODEINTEL_DB"], "use.later") == {"s.g": {"s.other2.g"}}
    full_env = cli_env(tmp_path / "full")
    code, _, err = run_cli(["index", str(repo), "--workers", "1"], full_env)
    assert code == 0, err
    for fn in ("use.main", "use.later", "use.broken"):
        assert edges(full_env["CODEINTEL_DB"], fn) == edges(env["CODEINTEL_DB"], fn), fn


def test_a_star_import_that_rebinds_a_name_to_itself_keeps_the_first_binding(tmp_path):
    """networkx.utils: `from .misc import *` binds groups, then `from .union_find import *` binds it again to
    union_find.groups, which union_find imported from the package itself: the same function. The later star
    import must not turn nx.utils.groups into a cycle with no edge."""
    files = {"u/__init__.py": "from u.misc import *\nfrom u.uf import *\n",
             "u/misc.py": '__all__ = ["groups"]\n\n\ndef groups(x):\n    return x\n',
             "u/uf.py": "from u import groups\n\n\ndef find(x):\n    return groups(x)\n",
             "use.py": "import u\n\n\ndef main():\n    return [u.groups(1), u.find(1)]\n"}
    truth = runtime_callees(write_repo(tmp_path / "truth", files), ["u.groups", "u.find"])
    assert truth == {"u.groups": "u.misc.groups", "u.find": "u.uf.find"}
    _, env, _ = index_repo(tmp_path, files)
    assert edges(env["CODEINTEL_DB"], "use.main") == {t: {q} for t, q in truth.items()}


def test_a_submodule_loaded_by_a_star_imported_package_is_reexported_with_it(tmp_path):
    """networkx: `from networkx.generators import *` in networkx/__init__, and generators/__init__ star-imports
    its submodule random_graphs, which the import system binds as an attribute of the package: so
    nx.random_graphs.gnm_random_graph is networkx.generators.random_graphs.gnm_random_graph. A private
    submodule (_impl) is not exported by the star import."""
    files = {"g/__init__.py": "from g.gen import *\n",
             "g/gen/__init__.py": "from g.gen.rand import *\nfrom g.gen._impl import helper\n",
             "g/gen/rand.py": '__all__ = ["gnm"]\n\n\ndef gnm(n):\n    return n\n',
             "g/gen/_impl.py": "def helper():\n    return 0\n",
             "use.py": "import g\n\n\ndef main():\n    return [g.rand.gnm(1), g.gnm(2), g.helper()]\n\n\n"
                       "def broken():\n    return g._impl.helper()\n"}
    truth = runtime_callees(write_repo(tmp_path / "truth", files), ["g.rand.gnm", "g.gnm", "g.helper", "g._impl.helper"])
    assert truth == {"g.rand.gnm": "g.gen.rand.gnm", "g.gnm": "g.gen.rand.gnm", "g.helper": "g.gen._impl.helper",
                     "g._impl.helper": None}
    _, env, _ = index_repo(tmp_path, files)
    assert edges(env["CODEINTEL_DB"], "use.main") == {t: {truth[t]} for t in ("g.rand.gnm", "g.gnm", "g.helper")}
    assert edges(env["CODEINTEL_DB"], "use.broken") == {}
