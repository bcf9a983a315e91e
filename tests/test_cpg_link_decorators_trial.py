"""What a user trial on click 8.5 with runtime ground truth found (session AD): decorators that replace the function.

`@outer @inner def g` calls outer with what inner returned, never with g; and a decorator of the repository that
returns something that never runs the definition (a function of its own, an object built without it) leaves the
name without an edge to the definition. Which callee runs is CPython's: the fixture run in a plain interpreter, each
callee reporting its own `def` (``where()``). One index serves every test but the incremental one.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, reindexed_as_full, split

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


def dispatcher(func):
    registry = {object: func}

    def wrapper(*a):
        return registry[object](*a)
    return wrapper


@dispatcher
def dispatched(x):
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
    return hello(2), bye(3), Config().made_by, plain(4), wrapped(5), dispatched(6)
'''


FACTORY = '''
from pkg.trace import where


def command(name=None):
    def decorator(f):
        print(where())
        return f
    return decorator


def group(name=None):
    return command(name)


@group("g")
def grouped():
    return where()
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "deco", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                       "pkg/stack.py": STACK, "pkg/replace.py": REPLACE,
                                                       "pkg/factory.py": FACTORY})[:2]


def test_what_a_factory_returns_through_another_call_is_called(indexed):
    """`@group("g")` where `group` returns `command(name)`, which returns its inner `decorator`: the application
    calls `decorator` (click's `@click.group(...)`: 19 executed pairs). Before: no edge (only a returned name was
    followed, not a returned call)."""
    truth, db = indexed
    assert split(ran(truth, "import pkg.factory").split()[0])[0] == "pkg.factory.command.decorator"
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE call_kind = 'decorator' "
                         "AND caller_qualname = 'pkg.factory'").fetchall() == [("pkg.factory.command.decorator",
                                                                                "returned")]


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
                                         "pkg.replace.Config.__init__", "pkg.replace.plain", "pkg.replace.wrapped",
                                         "pkg.replace.dispatched"]
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
    """`register` returns f, `wrap` a wrapper that calls f, `dispatcher` keeps func in a registry its wrapper calls
    through (functools.singledispatch's shape: the wrapper never names func), `command` a Cmd built with f (which may
    forward the call, as a decorator class with __call__): the calls keep their edge to the definition (plain, wrapped
    and dispatched run; hello is the documented choice: Cmd.__call__ here does not call self.f)."""
    _, db = indexed
    callees = {(q, r) for q, _, r, _ in edges(db, "pkg.replace.main")}
    assert {("pkg.replace.plain", "local"), ("pkg.replace.wrapped", "local"), ("pkg.replace.hello", "local"),
            ("pkg.replace.dispatched", "local")} <= callees


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
    from tests.conftest import index_repo
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/deco.py": DECO, "pkg/defs.py": DEFS,
                                         "pkg/caller.py": CALLER})
    db = env["CODEINTEL_DB"]
    assert edges(db, "pkg.caller.use") == []
    src = repo / "pkg" / "deco.py"
    for text, expected in ((DECO.replace("return get", "return f"), [("pkg.defs.target", "import")]), (DECO, [])):
        src.write_text(text)
        got = reindexed_as_full(tmp_path, repo, env, "pkg.caller.use", f"full{len(expected)}")
        assert [(q, r) for q, _, r, _ in got] == expected


LOOPS = '''
from abc import ABC
from typing import Iterator, Optional

from pkg.trace import where


class Param:
    def add_to_parser(self, parser):
        return where()


class Option(Param):
    def add_to_parser(self, parser):
        return where()


class Other:
    def add_to_parser(self, parser):
        return where()


class Command:
    def __init__(self):
        self.params = [Param()]

    def get_params(self) -> list[Param]:
        return list(self.params)

    def each(self) -> Iterator[Param]:
        yield from self.params

    def maybe(self) -> Optional[list[Param]]:
        return self.params

    def pair(self) -> tuple[Param, Other]:
        return Param(), Other()

    def parser(self):
        out = []
        for param in self.get_params():
            out.append(param.add_to_parser(None))
        out += [p.add_to_parser(None) for p in self.each()]
        for q in self.maybe():
            out.append(q.add_to_parser(None))
        for r in self.pair():
            out.append(r.add_to_parser(None))
        return out


class Base(ABC):
    def run(self) -> None: ...


class Impl(Base):
    def run(self):
        return where()


def make() -> list[Base]:
    return [Impl()]


def each_run():
    return [b.run() for b in make()]


def given(params: list[Param], more: "list[Param]"):
    out = [p.add_to_parser(None) for p in params]
    for p2 in params:
        out.append(p2.add_to_parser(None))
        p2 = Other()
        out.append(p2.add_to_parser(None))
    return out
'''


@pytest.fixture(scope="module")
def loops(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "loops", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                        "pkg/loops.py": LOOPS})[:2]


def callees_by_line(db: str, caller: str) -> dict[int, list[tuple[str, str]]]:
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT lineno, callee_qualname, rule FROM cpg_calls WHERE caller_qualname = ? "
                         "AND callee_qualname LIKE 'pkg.loops.%' AND callee_qualname LIKE '%add_to_parser' "
                         "ORDER BY ALL", [caller]).fetchall()
    out: dict[int, list[tuple[str, str]]] = {}
    for line, q, rule in rows:
        out.setdefault(line, []).append((q, rule))
    return out


def test_a_loop_over_what_a_function_declares_it_returns_calls_the_items_methods(loops):
    """`for param in self.get_params(): param.add_to_parser(...)` with `get_params(self) -> list[Param]` (click's
    commonest miss: 22 executed pairs), also `Iterator[Param]` in a comprehension and `Optional[list[Param]]`: each
    runs Param.add_to_parser (rule iterated, 0.8 x the call's 0.9). `tuple[Param, Other]` declares two kinds of
    item: no edge. Before: no edge for any of them."""
    truth, db = loops
    out = ran(truth, "from pkg.loops import Command; print(*Command().parser())").split()
    assert [split(w)[0] for w in out] == ["pkg.loops.Param.add_to_parser"] * 3 + ["pkg.loops.Param.add_to_parser",
                                                                                  "pkg.loops.Other.add_to_parser"]
    got = callees_by_line(db, "pkg.loops.Command.parser")
    lines = sorted(got)
    assert len(lines) == 3  # (the tuple loop's call has none)
    assert all(got[line] == [("pkg.loops.Param.add_to_parser", "iterated")] for line in lines)
    with duckdb.connect(db, read_only=True) as c:
        assert {round(x, 4) for x, in c.execute(
            "SELECT confidence FROM cpg_calls WHERE caller_qualname = 'pkg.loops.Command.parser' "
            "AND rule = 'iterated'").fetchall()} == {0.72}


def test_an_interface_method_that_does_nothing_also_reaches_the_overrides(loops):
    """`class Base(ABC)` with `def run(self) -> None: ...`, `for b in make()` with `make() -> list[Base]`: the items
    are instances of subclasses, whose run runs (click's `Parameter(ABC).add_to_parser`: Option's and Argument's ran,
    the edge went to Parameter's only). The edge to Base.run stays; Impl.run is added (abstract_override)."""
    truth, db = loops
    assert split(ran(truth, "from pkg.loops import each_run; print(*each_run())"))[0] == "pkg.loops.Impl.run"
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'pkg.loops.each_run' "
                         "AND callee_qualname LIKE 'pkg.loops.%' ORDER BY ALL").fetchall() == [
            ("pkg.loops.Base.run", "iterated"), ("pkg.loops.Impl.run", "abstract_override"), ("pkg.loops.make", "local")]


def test_a_loop_over_a_parameter_declared_a_list_calls_the_items_methods(loops):
    """`params: list[Param]`, then `[p.add_to_parser(None) for p in params]` and `for p2 in params:
    p2.add_to_parser(None)`: Param.add_to_parser (0.8). p2 is then bound again (`p2 = Other()`): no edge from
    either of its calls (what p2 is at the first depends on the iteration)."""
    truth, db = loops
    out = ran(truth, "from pkg.loops import given, Param; print(*given([Param()], []))").split()
    assert [split(w)[0] for w in out] == ["pkg.loops.Param.add_to_parser", "pkg.loops.Param.add_to_parser",
                                         "pkg.loops.Other.add_to_parser"]
    got = callees_by_line(db, "pkg.loops.given")
    assert list(got.values()) == [[("pkg.loops.Param.add_to_parser", "iterated")]]
    # wired as CPython binds p.add_to_parser(None): p is the receiver, None the parser
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT b.param_name, b.implicit_receiver, a.text FROM cpg_binds_arg b "
                         "JOIN cpg_call_sites s USING (callsite_id) LEFT JOIN cpg_call_args a USING (arg_id) "
                         "WHERE s.caller_qualname = 'pkg.loops.given' AND b.rule = 'iterated' ORDER BY ALL").fetchall() \
            == [("parser", False, "None"), ("self", True, None)]


STARS = '''
def help_option(*param_decls, **kwargs):
    return param_decls


def head(x, *rest):
    return x, rest


def calls(xs):
    return help_option(*xs, "--help"), head(0, *xs, 1), head(*xs, 2)
'''


def test_a_positional_argument_after_a_star_goes_to_args_when_the_parameters_are_filled(tmp_path):
    """click's `help_option(*names, NAME)` with `def help_option(*param_decls, **kwargs)`: NAME lands in param_decls
    whatever `names` holds; so does `1` in `head(0, *xs, 1)` (x is 0). In `head(*xs, 2)`, 2 is x when xs is empty, in
    rest otherwise: not wired. Before: neither was wired."""
    from tests.conftest import index_repo, write_repo
    truth = write_repo(tmp_path / "truth", {"pkg/__init__.py": "", "pkg/stars.py": STARS})
    assert ran(truth, "from pkg.stars import calls; print(calls([9]), calls([]))") == \
        "((9, '--help'), (0, (9, 1)), (9, (2,))) (('--help',), (0, (1,)), (2, ()))"
    _, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/stars.py": STARS})
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = c.execute("SELECT a.text, b.param_name FROM cpg_call_args a JOIN cpg_call_sites s USING (callsite_id) "
                         "LEFT JOIN cpg_binds_arg b USING (arg_id) WHERE s.caller_qualname = 'pkg.stars.calls' "
                         "AND s.callee_text <> 'calls' ORDER BY s.lineno, s.span_start_byte, a.arg_index").fetchall()
    assert rows == [("xs", "param_decls"), ('"--help"', "param_decls"),
                    ("0", "x"), ("xs", "rest"), ("1", "rest"),
                    ("xs", "rest"), ("2", None)]


CALLBACKS = '''
from pkg.trace import where


class Handler:
    def __init__(self, callback):
        self.callback = callback

    def run(self, x):
        return self.callback(x)


def on_done(x):
    return where()


class Box:
    def go(self, x):
        return where()


def main():
    b = Box()
    return Handler(on_done).run(1), Handler(b.go).run(2)
'''
MAIN2 = '''
from pkg.cb import Handler, on_done


def other(x):
    return x


def again():
    return Handler(other).run(3)
'''


def test_a_callable_stored_from_a_parameter_is_called_through_the_attribute(tmp_path):
    """`self.callback = callback` in __init__, then `self.callback(x)`: whatever the constructor calls pass for
    `callback` runs (tornado's and click's callbacks: a leading miss class of three trials), on_done with x, Box.go
    bound to b. A caller in another file adds `other`; editing that file relinks the call site in cb.py, as a --full
    index does."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/cb.py": CALLBACKS, "pkg/main2.py": MAIN2}
    truth = write_repo(tmp_path / "truth", files)
    out = ran(truth, "from pkg.cb import main; print(*main())").split()
    assert [split(w)[0] for w in out] == ["pkg.cb.on_done", "pkg.cb.Box.go"]
    repo, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.cb.Handler.run")] == [
        ("pkg.cb.Box.go", "passed_argument"), ("pkg.cb.on_done", "passed_argument"), ("pkg.main2.other", "passed_argument")]
    with duckdb.connect(db, read_only=True) as c:
        wiring = c.execute("SELECT d.qualname, b.param_name, b.implicit_receiver, n.kind FROM cpg_binds_arg b "
                           "JOIN cpg_definitions d ON d.def_id = b.callee_def_id "
                           "JOIN py_ast_nodes n ON n.ast_node_id = b.arg_ast_node_id "
                           "WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites "
                           "WHERE caller_qualname = 'pkg.cb.Handler.run') ORDER BY ALL").fetchall()
    assert wiring == [("pkg.cb.Box.go", "self", True, "Attribute"), ("pkg.cb.Box.go", "x", False, "Name"),
                      ("pkg.cb.on_done", "x", False, "Name"), ("pkg.main2.other", "x", False, "Name")]
    (repo / "pkg" / "main2.py").write_text(MAIN2.replace("Handler(other)", "Handler(on_done)"))
    got = reindexed_as_full(tmp_path, repo, env, "pkg.cb.Handler.run")
    assert [(q, r) for q, _, r, _ in got] == [("pkg.cb.Box.go", "passed_argument"), ("pkg.cb.on_done", "passed_argument")]


GENERIC = '''
from typing import Generic, Optional, TypeVar

from pkg.trace import where

RT = TypeVar("RT")


class BaseReporter(Generic[RT]):
    def starting(self):
        return where()


class Resolver:
    def __init__(self, reporter: BaseReporter[int]):
        self._r = reporter

    def go(self):
        return self._r.starting()


def use(r: BaseReporter[int], s: Optional[BaseReporter[str]], t: type[BaseReporter[int]]):
    return r.starting(), s.starting(), t.starting(t())
'''


def test_a_parameter_declared_a_subscripted_generic_class_is_an_instance_of_it(tmp_path):
    """`reporter: BaseReporter[int]` (resolvelib's `BaseReporter[RT, CT, KT]`, the pip trial's largest `self.a.m()`
    bucket): `r.starting()` and, through `self._r = reporter`, `self._r.starting()` run BaseReporter.starting
    (annotation, attribute_instance). `t: type[BaseReporter[int]]` declares the class, not an instance: `t.starting`
    is a plain function there, no `annotation` edge. Before: no edge for either."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/gen.py": GENERIC}
    truth = write_repo(tmp_path / "truth", files)
    out = ran(truth, "from pkg.gen import Resolver, BaseReporter as B, use; "
                     "print(Resolver(B()).go(), *use(B(), B(), B))").split()
    assert {split(w)[0] for w in out} == {"pkg.gen.BaseReporter.starting"}
    _, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.gen.Resolver.go")] == [
        ("pkg.gen.BaseReporter.starting", "attribute_instance")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.gen.use")] == [
        ("pkg.gen.BaseReporter.starting", "annotation"), ("pkg.gen.BaseReporter.starting", "annotation")]


OPTIONS = '''
from pkg.trace import where


def index_url():
    return where()


def find_links():
    return where()


OPTIONS = [index_url, find_links]
BY_NAME = {"index": index_url}


def build():
    out = []
    for option in OPTIONS:
        out.append(option())
    return out + [f() for f in OPTIONS]


def keys():
    for k in BY_NAME:
        k()
'''


def test_a_loop_over_a_list_of_functions_calls_each(tmp_path):
    """pip's `for option in SUPPORTED_OPTIONS: option()`: each function of the display runs (rule container, 1/2 each
    as for `OPTIONS[k]()`), in a loop and in a comprehension. A loop over a dict display yields its keys (strings
    here): `k()` gets no edge to the dict's values."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/opts.py": OPTIONS}
    truth = write_repo(tmp_path / "truth", files)
    out = ran(truth, "from pkg.opts import build; print(*build())").split()
    assert [split(w)[0] for w in out] == ["pkg.opts.index_url", "pkg.opts.find_links"] * 2
    _, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    got = edges(db, "pkg.opts.build")
    assert sorted((q, r, c) for q, _, r, c in got) == [("pkg.opts.find_links", "container", 0.5)] * 2 + \
        [("pkg.opts.index_url", "container", 0.5)] * 2
    assert edges(db, "pkg.opts.keys") == []
