"""`with C(...) as x:` then `x.m()`: x is what C's `__enter__` returns, so m is looked up on that class.

Before, a name bound by a `with` statement had no value ref at all and none of its method calls had an edge (pip
24.2: 118 unresolved call sites on such names, `zf.namelist()`, `progress.add_task(...)`). Now the per-file plane
records the binding (cpg_value_refs role `with`, the value node the call) and the link's `context_manager` rule
types x: C itself when C's `__enter__` (along C's MRO) returns `self` (the repository's: every `return` of it
returns `self`; a builtin or standard-library class's: its stub declares `-> Self`), else the class the
`__enter__` declares it returns. `open(...)` is a function: its file object's class is read from the mode literal as
CPython's io.open documents it (text: TextIOWrapper; binary: BufferedReader / BufferedWriter / BufferedRandom, or
FileIO unbuffered).

The oracle is CPython: each context manager is entered and the class of what `__enter__` returns is looked up for
the method (the class of its MRO whose `__dict__` holds it).
"""

import json

from tests.conftest import call_edges, index_repo
from tests.test_cpg_link_sqla_trial import in_cpython

FIXTURE = '''import contextlib
import zipfile


class Session:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get(self, url):
        return url


class Quiet(Session):
    pass


class Pool:
    def __enter__(self) -> "Conn":
        return Conn()

    def __exit__(self, *exc):
        return False


class Conn:
    def send(self, data):
        return data


class Either:
    def __enter__(self):
        if self:
            return self
        return Conn()

    def __exit__(self, *exc):
        return False

    def send(self, data):
        return data


def use(path):
    with Session() as s:
        s.get("u")
    with Quiet() as q:
        q.get("v")
    with Pool() as c:
        c.send(1)
    with zipfile.ZipFile(path) as zf:
        zf.namelist()
    with contextlib.ExitStack() as stack:
        stack.callback(print)
    with open(path) as f:
        f.readline()
    with open(path, "rb") as raw:
        raw.peek(1)
    with open(path, mode="w") as out:
        out.write("x")
    with open(path, "wb", buffering=0) as fio:
        fio.readall()
    with open(path, path) as unknown:
        unknown.read()
    with Either() as either:
        either.send(3)
    handle = open(path, "ab")
    handle.flush()
    open(path).readlines()
    with Session() as again:
        again = Conn()
        again.send(2)
'''

# (the call's text, how CPython makes the context manager, the method), by hand
CALLS = [
    ('s.get("u")', "Session()", "get", "context_manager", 0.9),
    ('q.get("v")', "Quiet()", "get", "context_manager", 0.9),
    ("c.send(1)", "Pool()", "send", "context_manager", 0.8),
    # (zipfile.ZipFile, contextlib.ExitStack: imports outside the repository, 0.9)
    ("zf.namelist()", 'zipfile.ZipFile(io.BytesIO(), "w")', "namelist", "context_manager", 0.81),
    ("stack.callback(print)", "contextlib.ExitStack()", "callback", "context_manager", 0.81),
    # open(): the file object's class by its mode (a builtin function: 1.0)
    ("f.readline()", "open(PATH)", "readline", "context_manager", 0.9),
    ("raw.peek(1)", 'open(PATH, "rb")', "peek", "context_manager", 0.9),
    ('out.write("x")', 'open(PATH, mode="w")', "write", "context_manager", 0.9),
    ("fio.readall()", 'open(PATH, "wb", buffering=0)', "readall", "context_manager", 0.9),
]

ORACLE = """
import contextlib, io, json, os, tempfile, zipfile
from pkg.cm import Session, Quiet, Pool
PATH = os.path.join(tempfile.mkdtemp(), "f")
open(PATH, "w").close()
out = []
for make, method in json.loads(ARGS):
    with eval(make) as x:
        k = next(c for c in type(x).__mro__ if method in vars(c))
        out.append(k.__module__ + "." + k.__qualname__ + "." + method)
print(json.dumps(out))
"""


def test_a_name_a_with_statement_binds_is_what_enter_returns(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/cm.py": FIXTURE})
    want = json.loads(in_cpython(repo, ORACLE.replace("ARGS", repr(json.dumps([c[1:3] for c in CALLS])))))
    assert want == ["pkg.cm.Session.get", "pkg.cm.Session.get", "pkg.cm.Conn.send", "zipfile.ZipFile.namelist",
                    "contextlib._BaseExitStack.callback", "_io.TextIOWrapper.readline", "_io.BufferedReader.peek",
                    "_io.TextIOWrapper.write", "_io.FileIO.readall"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/cm.py")
    line = lambda text: FIXTURE[:FIXTURE.index(text)].count("\n") + 1  # noqa: E731
    for (text, _, _, rule, conf), callee in zip(CALLS, want):
        assert got.get(line(text)) == [(callee, rule, conf)], (text, got.get(line(text)))
    # open() with a mode that is not a literal: no class; a name bound again in the block: no edge from this rule
    assert got.get(line("unknown.read()"), []) == []
    # an __enter__ that returns self on one path and another object on the other: not known to be either
    assert got.get(line("either.send(3)"), []) == []
    # open() outside a `with`: the file object's class for instance_method / result_method (0.9, as for a class)
    opened = json.loads(in_cpython(repo, "import json, os, tempfile\nPATH = os.path.join(tempfile.mkdtemp(), 'f')\n"
                                         "out = []\nfor mode, m in (('ab', 'flush'), ('r', 'readlines')):\n"
                                         "    with open(PATH, mode) as x:\n"
                                         "        k = next(c for c in type(x).__mro__ if m in vars(c))\n"
                                         "        out.append(k.__module__ + '.' + k.__qualname__ + '.' + m)\n"
                                         "print(json.dumps(out))"))
    assert opened == ["_io.BufferedWriter.flush", "_io._IOBase.readlines"]
    assert got[line("handle.flush()")] == [(opened[0], "instance_method", 0.9)]
    assert (opened[1], "result_method", 0.9) in got[line("open(path).readlines()")]
    assert all(r != "context_manager" for _, r, _ in got.get(line("again.send(2)"), []))


def test_the_with_binding_is_a_value_ref_of_the_file(tmp_path):
    """The per-file plane's row: role `with`, the target the name's binding, the value node the call (its call site
    id), one per `with ... as name` whose item is a call (not `async with`, not `as (a, b)`)."""
    import duckdb
    source = ("import threading\n\nasync def a(lock):\n    async with lock() as held:\n        held.x()\n\n\n"
              "def b(lock):\n    with lock() as (x, y), open('p') as f, lock:\n        return f\n")
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/w.py": source})
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = c.execute("SELECT v.text, v.lineno, b.name, s.callsite_id IS NOT NULL FROM cpg_value_refs v "
                         "JOIN py_sym_bindings b ON b.binding_id = v.target_binding_id "
                         "LEFT JOIN cpg_call_sites s ON s.ast_node_id = v.ast_node_id AND s.path = v.path "
                         "WHERE v.path = 'pkg/w.py' AND v.role = 'with'").fetchall()
    assert rows == [("open('p')", 9, "f", True)]
