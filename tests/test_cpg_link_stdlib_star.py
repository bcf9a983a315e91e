"""`from tkinter import *` is common in real scripts, and the standard library's own tests star-import C modules
(test_itertools.py: `from itertools import *`). Such a module is outside the repository, so the link could not know
what the star import binds: it resolved none of those names, and no builtin in the file either (the star import
could shadow any: `from os import *` binds `open`), ~3,800 call sites in the standard library (session AV). A
standard-library module's names are now read from this interpreter (imported in a separate isolated one): a name
the star import binds is that module's (external `itertools.count`), a builtin it does not bind is the builtin.

The expected callees are CPython's: the fixture runs its own star imports and each called name's object is looked up.
"""

import json
import subprocess
import sys

import duckdb

from tests.conftest import call_edges, index_repo, run_cli

MODULE = "from itertools import *\nfrom os import *\n\n\ndef f(xs):\n    list(xs)\n    count(1)\n    open('x')\n    len(xs)\n"
PROBE = """
import builtins, json
ns = {}
exec(open('pkg/m.py').read(), ns)
out = {}
for name in ('list', 'count', 'open', 'len'):
    o = ns[name] if name in ns else getattr(builtins, name)
    out[name] = '<builtin>.' + name if getattr(builtins, name, None) is o else o.__module__ + '.' + o.__name__
print(json.dumps(out))
"""


def _edges(db: str) -> dict[int, list[tuple[str, str]]]:
    return {line: [(callee, rule) for callee, rule, _ in edges] for line, edges in call_edges(db, "pkg/m.py").items()}


def test_a_standard_library_star_import_binds_its_names_and_leaves_the_other_builtins(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": MODULE})
    truth = json.loads(subprocess.run([sys.executable, "-c", PROBE], cwd=repo, capture_output=True, text=True,
                                      check=True).stdout)
    # CPython: list and len stay the builtins, count is itertools', open is os.open (the os module's name: posix)
    assert truth == {"list": "<builtin>.list", "count": "itertools.count", "open": "posix.open", "len": "<builtin>.len"}
    got = _edges(env["CODEINTEL_DB"])
    assert got[6] == [("<builtin>.list", "builtin")]
    assert got[7] == [("itertools.count", "external")]
    assert got[8] == [("os.open", "external")]  # (os re-exports posix.open under its own name, as the import reads)
    assert got[9] == [("<builtin>.len", "builtin")]


def test_a_star_import_of_a_module_outside_the_standard_library_still_leaves_the_names_unknown(tmp_path):
    """A third-party module could bind any name: nothing is assumed (and nothing is imported to find out)."""
    src = "from somewhere_else import *\n\n\ndef f(xs):\n    list(xs)\n    thing()\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": src})
    assert _edges(env["CODEINTEL_DB"]) == {}
    # and an edit that turns it into a standard-library star import is linked as a full index would
    (repo / "pkg" / "m.py").write_text(src.replace("somewhere_else", "itertools"))
    assert run_cli(["index", str(repo), "--workers", "1"], env)[0] == 0
    assert _edges(env["CODEINTEL_DB"]) == {5: [("<builtin>.list", "builtin")]}


def test_the_names_read_from_the_interpreter_are_kept_for_the_next_process(tmp_path):
    """The probe starts an interpreter (0.4 s for the standard library's 27 star-imported modules); its answers are
    kept in the database per interpreter, so a later `codeintel index` (another process) reads them instead."""
    import itertools

    from codeintel_assets import link
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": MODULE})
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        stored = {m: json.loads(n) for m, n in c.execute(
            f"SELECT module, names FROM {link.STDLIB_EXPORTS_TABLE} WHERE python = ?", [link._python_tag()]).fetchall()}
        assert stored["itertools"] == sorted(n for n in dir(itertools) if not n.startswith("_"))  # no __all__
        import os
        assert stored["os"] == sorted(os.__all__)
        link._STDLIB_EXPORTS.clear()  # as a new process starts
        assert link._stdlib_star_exports(c).num_rows == len(stored["itertools"]) + len(stored["os"]) + 2
    assert set(link._STDLIB_EXPORTS) == {"itertools", "os"}


def test_a_test_extension_module_of_the_interpreter_counts_as_standard_library(tmp_path):
    """test_buffer.py's `from _testbuffer import *`: a C module built with CPython and installed in its own
    directories, which sys.stdlib_module_names leaves out (it lists no test module). 1,000 calls in that file had no
    edge (`ndarray(...)`, and every builtin: `len`, `range`, `memoryview`)."""
    found = subprocess.run([sys.executable, "-I", "-c", "import importlib.util, json, sys; "
                            "s = importlib.util.find_spec('_testbuffer'); "
                            "print(json.dumps(None if s is None else ['_testbuffer' in sys.stdlib_module_names, "
                            "callable(getattr(__import__('_testbuffer'), 'ndarray', None))]))"],
                           capture_output=True, text=True, check=True).stdout
    if json.loads(found) is None:
        import pytest
        pytest.skip("this interpreter was built without its test modules (_testbuffer)")
    assert json.loads(found) == [False, True]  # not in the list, and CPython binds ndarray in it
    src = "from _testbuffer import *\n\n\ndef f(xs):\n    ndarray(xs, shape=[len(xs)])\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": src})
    assert _edges(env["CODEINTEL_DB"]) == {5: [("<builtin>.len", "builtin"), ("_testbuffer.ndarray", "external")]}
