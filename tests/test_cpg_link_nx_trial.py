"""Call edges and class hierarchies a user trial on networkx 3.7 and mypy 2.4.1 found wrong. What is right is
what CPython runs: the fixture's modules are executed in a plain interpreter, each called function reports the
line of its own ``def`` (``co_firstlineno``), and classes report ``__bases__`` / ``__mro__``. One index of one
fixture package serves every test here."""

import json

import duckdb
import pytest

from tests.conftest import index_repo, write_repo
from tests.test_cpg_link_sqla_trial import in_cpython

WHERE = '''
import sys


def where():
    """module.qualname:line of the def of the function that called this one (the code that runs)."""
    c = sys._getframe(1).f_code
    return f"{sys._getframe(1).f_globals['__name__']}.{c.co_qualname}:{c.co_firstlineno}"
'''

FILES = {
    "pkg/__init__.py": "",
    "pkg/trace.py": WHERE,
    # mypy's join.py: overload stubs, then the implementation; called in its own module and from another
    "pkg/over.py": '''
from typing import overload

from pkg.trace import where


@overload
def f(x: int) -> int: ...
@overload
def f(x: str) -> str: ...
def f(x):
    return where()


def same_module():
    return f(1)
''',
    "pkg/user.py": '''
from pkg.over import f


def other_module():
    return f("a")
''',
    # networkx's find_cycle: one name defined in several branches; the default branch's def is the one run
    "pkg/branches.py": '''
from pkg.trace import where


def outer(flag):
    if flag:
        def h():
            return where()
    else:
        def h():
            return where()
    return h()
''',
    # mypy's stubtest: several `import pkg.x` lines all bind pkg
    "pkg/a.py": '''
from pkg.trace import where


def fa():
    return where()
''',
    "pkg/b.py": '''
def fb():
    return 0
''',
    "pkg/c.py": '''
import pkg.a
import pkg.b


def use():
    return pkg.a.fa()
''',
    # networkx: `G = nx.DiGraph()` under if, `G = nx.Graph()` under else, and `G = nx.DiGraph() if d else nx.Graph()`
    "pkg/graphs.py": '''
from pkg.trace import where


class Graph:
    def add_edge(self, u, v):
        return where()

    def nodes(self):
        return where()


class DiGraph(Graph):
    def add_edge(self, u, v):
        return where()
''',
    "pkg/build.py": '''
from pkg.graphs import DiGraph, Graph


def branches(directed):
    if directed:
        G = DiGraph()
    else:
        G = Graph()
    return G.add_edge(1, 2)


def listed(directed):
    if directed:
        G = DiGraph()
    else:
        G = Graph()
    return G.nodes()


def ternary(directed):
    G = DiGraph() if directed else Graph()
    return G.add_edge(1, 2)


def twice(directed):
    if directed:
        G = Graph()
    else:
        G = Graph()
    return G.nodes()


def maybe(directed):
    G = Graph() if directed else None
    return G.nodes()
''',
    # networkx's G.add_edge(u, v, weight=2), add_edge(self, u_of_edge, v_of_edge, **attr)
    "pkg/kw.py": '''
def add_edge(u, v, **attr):
    return attr


def two(u, v):
    return u


def wire():
    add_edge(1, 2, weight=3)
    two(1, v=2, w=3)
''',
    # mypy's visitor.NodeVisitor(Generic[T], ExpressionVisitor[T], ...)
    "pkg/gen.py": '''
from typing import Generic, Protocol, TypeVar

from pkg.trace import where

T = TypeVar("T")


class A(Generic[T]):
    def m(self):
        return where()


class B(Generic[T], A[T]):
    def call(self):
        return self.m()


class C(A[T], Generic[T]):
    pass


class P(Generic[T], Protocol):
    pass


class L(Generic[T], list[int]):
    pass
''',
}


def index_with_truth(tmp_path_factory, name: str, files: dict[str, str]) -> tuple:
    """The fixture files twice: a copy CPython runs (the truth) and an index of them: (truth, database, env)."""
    tmp = tmp_path_factory.mktemp(name)
    truth = write_repo(tmp / "truth", files)
    _, env, _ = index_repo(tmp, files)
    return truth, env["CODEINTEL_DB"], env


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "nx", FILES)[:2]


def edges(db: str, caller: str, except_rules: tuple[str, ...] = ()) -> list[tuple[str, int, str, float]]:
    """(callee qualname, line of the callee's def, rule, confidence) of the calls out of ``caller``, in order (not
    those to pkg.trace, nor those of ``except_rules``)."""
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT k.callee_qualname, d.lineno, k.rule, round(k.confidence::DOUBLE, 4) FROM cpg_calls k "
                         "JOIN cpg_definitions d ON d.def_id = k.callee_def_id WHERE k.caller_qualname = ? "
                         "AND k.callee_qualname NOT LIKE 'pkg.trace.%' AND NOT list_contains(?, k.rule) ORDER BY ALL",
                         [caller, list(except_rules)]).fetchall()


def reindexed_as_full(tmp_path, repo, env: dict, caller: str, tag: str = "full",
                      except_rules: tuple[str, ...] = ()) -> list[tuple]:
    """Index ``repo`` again into ``env``'s database (incremental, after an edit), then a --full index of it into a new
    one (``tmp_path / tag``): ``caller``'s edges (as ``edges`` gives them), asserted equal in both."""
    from tests.conftest import cli_env, run_cli
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    got = edges(env["CODEINTEL_DB"], caller, except_rules)
    full_env = cli_env(tmp_path / tag)
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], full_env)
    assert code == 0, err
    assert edges(full_env["CODEINTEL_DB"], caller, except_rules) == got
    return got


def ran(truth, code: str) -> str:
    return in_cpython(truth, code)


def split(where: str) -> tuple[str, int]:
    """'module.qualname:line' (what ``where()`` reports) -> (qualname as cpg_definitions spells it, line)."""
    name, line = where.rsplit(":", 1)
    return name.replace(".<locals>", ""), int(line)


def test_overload_stubs_are_not_alternatives_to_their_implementation(indexed):
    """`typing.overload` returns a dummy the implementation's `def` rebinds: the implementation runs, from its
    own module as from an importer (confidence 1/3 in its own module before: the stubs counted as defs)."""
    truth, db = indexed
    impl = ran(truth, "from pkg.over import same_module; print(same_module())")
    assert ran(truth, "from pkg.user import other_module; print(other_module())") == impl
    assert edges(db, "pkg.over.same_module") == [(*split(impl), "local", 1.0)]
    assert edges(db, "pkg.user.other_module") == [(*split(impl), "import", 1.0)]


def test_a_name_defined_in_two_branches_reaches_either_definition(indexed):
    """h() reaches the `if` branch's def or the `else` branch's: an edge to each, 1/2 each (before: one edge, to
    the last def only, at 1/2)."""
    truth, db = indexed
    runs = sorted(split(ran(truth, f"from pkg.branches import outer; print(outer({flag}))")) for flag in (True, False))
    assert len(set(runs)) == 2
    assert edges(db, "pkg.branches.outer") == [(*r, "local", 0.5) for r in runs]


def test_several_imports_of_submodules_bind_one_package(indexed):
    """`import pkg.a` and `import pkg.b` both bind pkg to the same module: pkg.a.fa() is certain (1/2 before)."""
    truth, db = indexed
    assert edges(db, "pkg.c.use") == [(*split(ran(truth, "import pkg.c; print(pkg.c.use())")), "import", 1.0)]


def test_a_generic_base_that_mro_entries_drops_is_not_inherited(indexed):
    """`class B(Generic[T], A[T])`: Generic[T].__mro_entries__ gives nothing when a later base is a generic
    alias (or Protocol is a base), so B's bases are (A,) and its MRO B, A, Generic (before: B, Generic, A, with
    A's rows incomplete and self.m() at 0.72)."""
    truth, db = indexed
    classes = ("A", "B", "C", "P", "L")
    cpython = json.loads(ran(truth, "import json, pkg.gen as g; print(json.dumps({c: ["
                                    "[f'{k.__module__}.{k.__qualname__}' for k in getattr(g, c).__bases__], "
                                    "[f'{k.__module__}.{k.__qualname__}' for k in getattr(g, c).__mro__]] "
                                    f"for c in {classes!r}}}))"))
    assert cpython["B"][0] == ["pkg.gen.A"] and cpython["P"][0] == ["typing.Protocol"]
    assert cpython["C"][0] == ["pkg.gen.A", "typing.Generic"] and cpython["L"][0] == ["typing.Generic", "builtins.list"]
    with duckdb.connect(db, read_only=True) as c:
        bases = c.execute("SELECT class_qualname, base_qualname FROM cpg_inherits WHERE path = 'pkg/gen.py' "
                          "ORDER BY class_qualname, base_index").fetchall()
        mro = c.execute("SELECT class_qualname, ancestor_qualname FROM cpg_mro WHERE class_qualname LIKE 'pkg.gen.%' "
                        "ORDER BY class_qualname, mro_index").fetchall()
    spelled = {"builtins.list": "<builtin>.list"}  # the link's name of a builtin
    for cls in classes:
        assert [b for k, b in bases if k == f"pkg.gen.{cls}"] == [spelled.get(b, b) for b in cpython[cls][0]], cls
        ours = [a for k, a in mro if k == f"pkg.gen.{cls}"]
        # every class CPython lists, in its order, up to and including the first one outside the repository
        inside = []
        for q in cpython[cls][1]:
            inside.append(spelled.get(q, q))
            if not q.startswith("pkg."):
                break
        assert ours[:len(inside)] == inside, (cls, ours, cpython[cls][1])
    assert edges(db, "pkg.gen.B.call") == [(*split(ran(truth, "import pkg.gen as g; print(g.B().call())")),
                                            "self_method", 0.9)]


def test_a_keyword_into_kwargs_is_bound_for_certain(indexed):
    """weight= goes into **attr as surely as u and v go to their parameters (each row was x0.8: 'a keyword no
    named parameter takes'); a keyword that no parameter takes (a TypeError in CPython) still lowers the rows."""
    truth, db = indexed
    bound = json.loads(ran(truth, "import inspect, json, pkg.kw as k; "
                                  "print(json.dumps(inspect.signature(k.add_edge).bind(1, 2, weight=3).arguments))"))
    assert bound == {"u": 1, "v": 2, "attr": {"weight": 3}}
    assert "TypeError" in ran(truth, "import pkg.kw as k\ntry: k.two(1, v=2, w=3)\nexcept TypeError as e: print('TypeError')")
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT d.name, coalesce(b.keyword, b.position::VARCHAR), b.param_name, "
                         "round(b.confidence::DOUBLE, 4) FROM cpg_binds_arg b "
                         "JOIN cpg_definitions d ON d.def_id = b.callee_def_id WHERE b.path = 'pkg/kw.py' ORDER BY ALL").fetchall()
    assert rows == [("add_edge", "0", "u", 1.0), ("add_edge", "1", "v", 1.0), ("add_edge", "weight", "attr", 1.0),
                    ("two", "0", "u", 0.8), ("two", "v", "v", 0.8)]


def test_a_receiver_made_by_one_of_several_constructor_calls_reaches_each_class_method(indexed):
    """x made by `C()` under if and `D()` under else (or `C() if c else D()`): x.m() reaches m along each class's
    MRO, 1/n of instance_method's 0.9 for n constructor calls, summed where two calls find the same definition
    (before: no edge; a binding bound twice was not an instance of anything). A branch that is not a constructor
    call (`None`) leaves the receiver unknown: no edge."""
    truth, db = indexed
    for fn in ("branches", "listed", "ternary", "twice"):
        runs = {split(ran(truth, f"from pkg.build import {fn}; print({fn}({d}))")) for d in (True, False)}
        got = [e for e in edges(db, f"pkg.build.{fn}") if e[2] != "class"]  # (not the constructor calls)
        # what CPython runs, each with its share: two calls, the same definition for both or one each
        share = {r: 0.9 / len(runs) for r in runs}
        assert got == sorted((q, line, "instance_method", round(c, 4)) for (q, line), c in share.items()), (fn, got)
    assert [e for e in edges(db, "pkg.build.maybe") if e[2] != "class"] == []
