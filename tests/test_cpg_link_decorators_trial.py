"""What a user trial on click 8.5 with runtime ground truth found (session AD): decorators that replace the function.

`@outer @inner def g` calls outer with what inner returned, never with g; and a decorator of the repository that
returns something that never runs the definition (a function of its own, an object built without it) leaves the
name without an edge to the definition. Which callee runs is CPython's: the fixture run in a plain interpreter, each
callee reporting its own `def` (``where()``). One index serves every test but the incremental one.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, split

STACK = '''
from pkg.trace import where


def outer(f):
    def w_outer(*a):
        where()
        return f(*a)
    return w_outer


def inner(f):
    def w_inner(*a):
        where()
        return f(*a)
    return w_inner


@outer
@inner
def g(x):
    return where()


def main():
    return g(1)
'''

REPLACE = '''
import functools

from pkg.trace import where


class Cmd:
    def __init__(self, f):
        self.f = f

    def __call__(self, *args):
        return where()


def command(f):
    return Cmd(f)


def detached(f):
    return Cmd(None)


@command
def hello(x):
    return where()


@detached
def bye(x):
    return where()


def singleton(cls):
    inst = cls()

    def get():
        return inst
    return get


@singleton
class Config:
    def __init__(self):
        self.made_by = where()


def register(f):
    return f


@register
def plain(x):
    return where()


def wrap(f):
    @functools.wraps(f)
    def wrapper(*a):
        return f(*a)
    return wrapper


@wrap
def wrapped(x):
    return where()


def main():
    return hello(2), bye(3), Config().made_by, plain(4), wrapped(5)
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "deco", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                       "pkg/stack.py": STACK, "pkg/replace.py": REPLACE})[:2]


def decorator_args(db: str, def_qualname: str) -> list[tuple]:
    """(decorator text, argument text, value_def_id is set) of the decorator applications of a definition."""
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT s.callee_text, a.text, a.value_def_id IS NOT NULL FROM cpg_call_sites s "
                         "JOIN cpg_call_args a USING (callsite_id) JOIN cpg_definitions d "
                         "ON d.def_id = split_part(s.callsite_id, ':DECORATOR:', 1) "
                         "WHERE s.call_kind = 'decorator' AND d.qualname = ? ORDER BY s.callsite_id",
                         [def_qualname]).fetchall()


def test_an_outer_decorator_gets_what_the_inner_one_returned(indexed):
    """`@outer @inner def g`: outer(inner(g)). At runtime w_outer's `f(*a)` calls w_inner, whose `f(*a)` calls g.
    Before: outer's argument was g itself, so `f(*a)` in w_outer had a `passed_argument` edge to g (never taken)."""
    truth, db = indexed
    assert ran(truth, "from pkg.stack import main; print(main())").startswith("pkg.stack.g:")
    assert decorator_args(db, "pkg.stack.g") == [("outer", "inner(g)", False), ("inner", "g", True)]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.stack.inner.w_inner")] == [("pkg.stack.g", "passed_argument")]
    assert [q for q, _, _, _ in edges(db, "pkg.stack.outer.w_outer")] == []


def test_a_decorator_that_returns_something_else_replaces_the_definition(indexed):
    """`@singleton class Config`: the name holds singleton's own `get`, so `Config()` never runs Config.__init__
    from main (it ran once, at decoration, through `cls()`); `@detached def bye`: the name holds a Cmd built
    without bye. Before: a `constructor` edge to Config.__init__ and a `local` edge to bye, both at 1.0, wired to
    their parameters."""
    truth, db = indexed
    made_by, = ran(truth, "from pkg.replace import Config; print(Config().made_by)").split()
    assert split(made_by)[0] == "pkg.replace.Config.__init__"  # (at decoration time, inside singleton)
    out = ran(truth, "from pkg.replace import main; print(*main())").split()
    assert [split(w)[0] for w in out] == ["pkg.replace.Cmd.__call__", "pkg.replace.Cmd.__call__",
                                         "pkg.replace.Config.__init__", "pkg.replace.plain", "pkg.replace.wrapped"]
    callees = {q for q, _, _, _ in edges(db, "pkg.replace.main")}
    assert "pkg.replace.Config.__init__" not in callees and "pkg.replace.bye" not in callees
    # `cls()` inside singleton does run Config.__init__ (the decorator gets the class itself)
    assert ("pkg.replace.Config.__init__", "passed_argument") in \
        [(q, r) for q, _, r, _ in edges(db, "pkg.replace.singleton")]
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM cpg_binds_arg b JOIN cpg_call_sites s USING (callsite_id) "
                         "JOIN cpg_definitions d ON d.def_id = b.callee_def_id "
                         "WHERE s.caller_qualname = 'pkg.replace.main' AND d.qualname IN "
                         "('pkg.replace.bye', 'pkg.replace.Config.__init__')").fetchone() == (0,)


def test_decorators_that_keep_or_forward_the_function_keep_the_edge(indexed):
    """`register` returns f, `wrap` a wrapper that calls f, `command` a Cmd built with f (which may forward the call,
    as a decorator class with __call__): the calls keep their edge to the definition (plain and wrapped run; hello is
    the documented choice: Cmd.__call__ here does not call self.f)."""
    _, db = indexed
    callees = {(q, r) for q, _, r, _ in edges(db, "pkg.replace.main")}
    assert {("pkg.replace.plain", "local"), ("pkg.replace.wrapped", "local"), ("pkg.replace.hello", "local")} <= callees


DECO = '''
def deco(f):
    def get():
        return 1
    return get
'''
DEFS = '''
from pkg.deco import deco


@deco
def target(x):
    return x
'''
CALLER = '''
from pkg.defs import target


def use():
    return target()
'''


def test_editing_the_decorator_relinks_the_callers_of_what_it_decorates(tmp_path):
    """The decorator in deco.py, the definition it decorates in defs.py, the call in caller.py (which imports defs,
    not deco). deco replaces target, so `target()` has no edge; an edit of deco.py that makes it return f gives the
    call its edge, and back, each incremental result equal to a --full index's."""
    from tests.conftest import cli_env, index_repo, run_cli
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/deco.py": DECO, "pkg/defs.py": DEFS,
                                         "pkg/caller.py": CALLER})
    db = env["CODEINTEL_DB"]
    assert edges(db, "pkg.caller.use") == []
    src = repo / "pkg" / "deco.py"
    for text, expected in ((DECO.replace("return get", "return f"), [("pkg.defs.target", "import")]), (DECO, [])):
        src.write_text(text)
        code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        got = edges(db, "pkg.caller.use")
        assert [(q, r) for q, _, r, _ in got] == expected
        full_env = cli_env(tmp_path / f"full{len(expected)}")
        code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], full_env)
        assert code == 0, err
        assert edges(full_env["CODEINTEL_DB"], "pkg.caller.use") == got
