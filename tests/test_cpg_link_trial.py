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
