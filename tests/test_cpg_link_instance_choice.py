"""Which resolution of a constructor call an instance rule rests on, and that every link picks the same one.

`x = X(); x.m()` finds m along the MRO of the class the call `X()` makes. Two defects lived in that choice:

- the rule kept one row per *callee* of `X()`, not per class: when X names one of two classes that share an
  inherited `__init__` (`X = A` under `if`, `X = B` under `else`), both resolutions of `X()` go to `Base.__init__`
  and one class was dropped, so `x.m()` got an edge to `A.m` or to `B.m`, whichever row DuckDB met first;
- one class reached twice (pip's vendored rich: `Table` bound by its class statement and again by
  `from pip._vendor.rich.table import Table as Table` under `if __name__ == "__main__"`, so `Table()` resolves to
  `Table.__init__` at 1.0 and at 0.5) took either row: two full links of the same pip database gave seven
  `instance_method` edges of rich/table.py confidence 0.9 in one and 0.45 in the other.

Expected values are derived by hand: a name bound twice is each binding's at 0.5; instance_method is 0.9 (an
instance attribute could shadow the method) times the constructor call's confidence; the constructor edge keeps
its likeliest route (1.0 for `Table()`), and the instance rule rests on that same route. Which m each branch runs
is checked in CPython.
"""

import subprocess
import sys

import pytest

from tests.conftest import call_edges, index_repo

SHAPES = '''import sys


class Base:
    def __init__(self, n):
        self.n = n

    def shared(self):
        return "base"


class A(Base):
    def m(self):
        return "a"


class B(Base):
    def m(self):
        return "b"


if sys.argv[1:] == ["a"]:
    X = A
else:
    X = B
x = X(1)
print(x.m())
print(x.shared())
'''

TABLE = '''class Table:
    def __init__(self, title=None):
        self.title = title

    def add_row(self, *cells):
        return cells

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    from pkg.table import Table as Table

    table = Table(title="x")
    table.add_row("a")
    with Table() as held:
        held.add_row("b")
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    repo, env, _ = index_repo(tmp_path_factory.mktemp("choice"), {
        "pkg/__init__.py": "", "pkg/shapes.py": SHAPES, "pkg/table.py": TABLE})
    return repo, env["CODEINTEL_DB"]


def test_both_branches_run_their_own_method_in_cpython(indexed):
    repo, _ = indexed
    ran = {arg: subprocess.run([sys.executable, str(repo / "pkg/shapes.py"), arg], capture_output=True, text=True,
                               check=True).stdout.split() for arg in ("a", "b")}
    assert ran == {"a": ["a", "base"], "b": ["b", "base"]}


def test_two_classes_sharing_an_init_each_give_their_method(indexed):
    _, db = indexed
    edges = call_edges(db, "pkg/shapes.py", rule="instance_method")
    # x.m(): A.m or B.m, half each, 0.9 x 0.5
    assert edges[27] == [("pkg.shapes.A.m", "instance_method", 0.45), ("pkg.shapes.B.m", "instance_method", 0.45)]
    # x.shared(): Base.shared through either class, the two halves summed
    assert edges[28] == [("pkg.shapes.Base.shared", "instance_method", 0.9)]


def test_one_class_reached_twice_rests_on_its_likeliest_route(indexed):
    _, db = indexed
    edges = call_edges(db, "pkg/table.py")
    line = lambda text: TABLE[:TABLE.index(text)].count("\n") + 1  # noqa: E731
    assert edges[line('table = Table(title="x")')] == [("pkg.table.Table.__init__", "constructor", 1.0)]
    assert edges[line('table.add_row("a")')] == [("pkg.table.Table.add_row", "instance_method", 0.9)]
    # (and `with Table() as held`: the same likeliest route, tests/test_cpg_link_with.py)
    assert edges[line('held.add_row("b")')] == [("pkg.table.Table.add_row", "context_manager", 0.9)]
