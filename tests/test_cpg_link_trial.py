"""Call edges a user trial on networkx and setuptools found wrong. The expected callee of each call is what
CPython runs: the test executes the same files and reads ``__module__`` / ``__qualname__`` of the function
each call reaches (recorded by the fixture's functions themselves)."""

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import index_repo, write_repo


def calls_of(db: str, caller: str) -> dict[int, set[str]]:
    """line -> callee qualnames of the method calls (``x.m()``, ``f().m()``) out of ``caller``."""
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT s.lineno, k.callee_qualname FROM cpg_calls k JOIN cpg_call_sites s USING (callsite_id) "
                         "WHERE k.caller_qualname = ? AND s.callee_kind IN ('attribute', 'attribute_of_call')", [caller]).fetchall()
    out: dict[int, set[str]] = {}
    for line, callee in rows:
        out.setdefault(line, set()).add(callee)
    return out


# Every function of the fixture appends its own module.qualname to RAN when it runs; main() runs each call
# on its own line, and the test reads which function ran for each line.
TRACE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import {module} as m
print(json.dumps(m.main()))
"""


def runtime(root: Path, module: str) -> dict[int, str]:
    out = subprocess.run([sys.executable, "-I", "-c", TRACE.format(module=module), str(root)], capture_output=True,
                         text=True, check=True).stdout
    return {int(k): v for k, v in json.loads(out).items()}


SHAPES = {
    "shapes.py": '''
import sys

RAN = []


def ran():
    f = sys._getframe(1)
    return f"{f.f_globals['__name__']}.{f.f_code.co_qualname}"


class Base:
    def __init__(self, n):
        self.n = n

    def area(self):
        return ran()


class Square(Base):  # inherits __init__
    def area(self):
        return ran()


def main():
    got = {}
    s = Square(3)
    got[27] = s.area()
    got[28] = Square(3).area()
    b = Base(3)
    got[30] = b.area()
    return got
'''}


def test_a_method_of_a_constructed_object_is_looked_up_on_the_class_called(tmp_path):
    """Square inherits __init__ from Base: Square(3).area() runs Square.area, not the area of the class that
    defines __init__ (networkx: C.solve(b) on a subclass of InverseLaplacian went to InverseLaplacian.solve)."""
    truth = runtime(write_repo(tmp_path / "truth", SHAPES), "shapes")
    assert truth == {27: "shapes.Square.area", 28: "shapes.Square.area", 30: "shapes.Base.area"}
    _, env, _ = index_repo(tmp_path, SHAPES)
    got = calls_of(env["CODEINTEL_DB"], "shapes.main")
    assert {line: got.get(line) for line in truth} == {line: {q} for line, q in truth.items()}, got


PROPS = {
    "graphs.py": '''
import functools
import sys


def ran():
    f = sys._getframe(1)
    return f"{f.f_globals['__name__']}.{f.f_code.co_qualname}"


class DegreeView:
    def __call__(self, weight=None):
        return ran()


class Graph:
    @functools.cached_property
    def degree(self):
        return DegreeView()

    @property
    def size(self):
        return DegreeView()

    def total(self):
        return ran()


def main():
    g = Graph()
    got = {}
    got[31] = g.degree(weight=1)
    got[32] = g.size()
    got[33] = g.total()
    return got
'''}


def test_calling_a_property_value_is_not_a_call_of_its_getter(tmp_path):
    """`g.degree(weight=1)` with degree a cached_property calls the returned view's __call__ (networkx: 4 edges
    from self.degree(weight=...) went to the getters, which take no weight)."""
    truth = runtime(write_repo(tmp_path / "truth", PROPS), "graphs")
    assert truth == {31: "graphs.DegreeView.__call__", 32: "graphs.DegreeView.__call__", 33: "graphs.Graph.total"}
    _, env, _ = index_repo(tmp_path, PROPS)
    got = calls_of(env["CODEINTEL_DB"], "graphs.main")
    for line, callee in truth.items():  # every edge is the function CPython runs (the views' calls: none known)
        assert got.get(line, set()) <= {callee}, (line, got)
    assert got[33] == {"graphs.Graph.total"}  # the rule that would have linked the getters links this


VERSION_TESTS = [
    "sys.version_info >= (3, 11)", "sys.version_info < (3, 8)", "sys.version_info[:2] >= (3, 13)",
    "sys.version_info[:2] == (3, 12)", "sys.version_info[0] == 3", "sys.version_info[0] >= 4",
    "sys.version_info.major == 3", "sys.version_info.minor > 12", "sys.version_info.minor < 10",
    "version_info >= (3, 9, 1)", "sys.version_info > (3,)", "(3, 10) <= sys.version_info",
    "not sys.version_info >= (3, 12)", "sys.version_info >= (3, 8) and sys.version_info < (3, 14)",
    "sys.version_info < (3, 8) or sys.version_info >= (4,)", "sys.version_info != (2, 7)",
]
NOT_VERSION_TESTS = ["PY3", "sys.platform == 'win32'", "sys.version_info >= other", "(3, 8) < (3, 9)",
                     "sys.version_info >= (3, 11) and PY3", "len(sys.version_info) > 2", "sys.version_info[1:] > (1,)"]


def test_version_tests_are_evaluated_as_cpython_evaluates_them():
    """An `if` test on the Python version is evaluated as this interpreter evaluates it (eval on the same
    text); anything else is not a version test."""
    import ast

    from codeintel_assets.extract.calls import version_test
    for text in VERSION_TESTS:
        truth = eval(text, {"sys": sys, "version_info": sys.version_info})
        assert version_test(ast.parse(text, mode="eval").body) is truth, text
    for text in NOT_VERSION_TESTS:
        assert version_test(ast.parse(text, mode="eval").body) is None, text
    # `and` with one unknown side: false if the known side is false, else unknown
    assert version_test(ast.parse("sys.version_info < (3, 8) and PY3", mode="eval").body) is False


COMPAT = {
    "compat.py": '''
import sys

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:
    def dataclass_transform(**kw):
        def _decorator(obj):
            return obj

        return _decorator

if sys.version_info < (3, 9):
    def removeprefix(s, p):
        return s[len(p):] if s.startswith(p) else s
else:
    def removeprefix(s, p):
        return s.removeprefix(p)


def local_use():
    return dataclass_transform(), removeprefix("ab", "a")


if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def parse(text):
    return tomllib.loads(text)
''',
    "user.py": '''
from compat import dataclass_transform, removeprefix


@dataclass_transform()
class A:
    pass


def g():
    return dataclass_transform(), removeprefix("ab", "a")
'''}


def test_definitions_for_another_python_version_get_no_call(tmp_path):
    """setuptools' _distutils/_dataclass.py: `dataclass_transform` is typing's on 3.11+, and a def in the
    `else:` branch. On this interpreter a call of it never reaches that def (nor its inner _decorator)."""
    root = write_repo(tmp_path / "truth", COMPAT)
    probe = ("import sys, json; sys.path.insert(0, sys.argv[1]); import compat; "
             "print(json.dumps([compat.dataclass_transform.__module__, compat.removeprefix.__code__.co_firstlineno, "
             "compat.tomllib.__name__]))")
    module, line, toml = json.loads(subprocess.run([sys.executable, "-I", "-c", probe, str(root)], capture_output=True,
                                             text=True, check=True).stdout)
    assert module == "typing" and line == 16 and toml == "tomllib"  # the def that runs is the second removeprefix
    _, env, _ = index_repo(tmp_path, COMPAT)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        dead = c.execute("SELECT qualname, lineno FROM cpg_definitions WHERE other_python_only AND kind <> 'parameter' "
                         "ORDER BY lineno").fetchall()
        edges = c.execute("SELECT caller_qualname, callee_qualname, rule, callee_def_id IS NULL FROM cpg_calls "
                          "WHERE caller_qualname IN ('compat.local_use', 'user.g', 'user', 'compat.parse') "
                          "ORDER BY ALL").fetchall()
        dead_imports = c.execute("SELECT imported_module, lineno FROM cpg_imports WHERE other_python_only").fetchall()
        target = c.execute("SELECT d.lineno FROM cpg_calls k JOIN cpg_definitions d ON d.def_id = k.callee_def_id "
                           "WHERE k.callee_qualname = 'compat.removeprefix'").fetchall()
    assert dead == [("compat.dataclass_transform", 6), ("compat.dataclass_transform._decorator", 7),
                    ("compat.removeprefix", 13)], dead
    assert dead_imports == [("tomli", 27)], dead_imports
    assert edges == [("compat.local_use", "compat.removeprefix", "local", False),
                     ("compat.local_use", "typing.dataclass_transform", "external", True),
                     ("compat.parse", "tomllib.loads", "external", True),  # one edge, not 1/2 and tomli.loads
                     ("user", "typing.dataclass_transform", "external", True),
                     ("user.g", "compat.removeprefix", "import", False),
                     ("user.g", "typing.dataclass_transform", "external", True)], edges
    assert target == [(line,), (line,)]  # both calls of removeprefix reach the def CPython runs
