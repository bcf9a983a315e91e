"""Call edges, wiring and class hierarchies a user trial on click 8.5, jinja2 3.1, pluggy 1.7 and pytest 9.2 found
wrong (it recorded, with sys.monitoring, which function each executed call reached). What is right here is what
CPython does with the same files: which method a call runs (each reports its own def line), what
``inspect.signature(...).bind`` binds, and ``__mro__``. One index of one fixture package serves every test."""

import json

import duckdb
import pytest

from tests.conftest import run_cli
from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, split
from tests.test_cpg_link_sqla_trial import in_cpython

FILES = {
    "pkg/__init__.py": "",
    "pkg/trace.py": WHERE,
    # httpx (third trial): response = await self.send(...), async def send(...) -> Response; then response.aread()
    "pkg/resp.py": '''
from pkg.trace import where


class Response:
    def read(self):
        return where()

    async def aread(self):
        return where()


def make() -> Response:
    return Response()


async def amake() -> Response:
    return Response()


def sync_use():
    r = make()
    return r.read()


async def async_use():
    r = await amake()
    return await r.aread()


async def unawaited():
    r = amake()
    return r.read()
''',
    # httpcore's _synchronization.py: try: import anyio / except ImportError: anyio = None; then anyio.Lock()
    "pkg/optional.py": '''
try:
    import pkg.bound as backend
except ImportError:
    backend = None


def make():
    return backend.K()
''',
    # anyio's Event(): Event.__new__ returns an instance of the backend's subclass
    "pkg/event.py": '''
from pkg.trace import where

RAN = []


class Event:
    def __new__(cls):
        RAN.append(where())
        return AsyncEvent()


class AsyncEvent(Event):
    def __new__(cls):
        RAN.append(where())
        return object.__new__(cls)

    def __init__(self):
        RAN.append(where())


def make():
    return Event()
''',
    # jinja2's Context.call(__self, __obj, ...): private names are mangled in the signature, never in keywords
    "pkg/ctx.py": '''
class Ctx:
    def call(self, __obj, **kwargs):
        return __obj, kwargs


def use():
    return Ctx().call(1, __obj=2)
''',
    # click/__init__.py: `from .utils import echo`, the name users call (click.echo)
    "pkg/api/__init__.py": "from pkg.bound import apply, K\n",
    "pkg/cli.py": '''
import pkg.api


def main():
    return pkg.api.apply(abs, -1)
''',
    # click: Parameter.__init__ calls self._parse_decls(); Option overrides __init__ and chains to it with super(),
    # Argument inherits it; Plain overrides __init__ without chaining (never runs Param.__init__ on its instances)
    "pkg/base.py": '''
from pkg.trace import where


class Param:
    def __init__(self, decls):
        self.name = self._parse(decls)

    def _parse(self, decls):
        raise NotImplementedError
''',
    "pkg/opt.py": '''
from pkg.base import Param
from pkg.trace import where


class Option(Param):
    def __init__(self, decls, flag=False):
        super().__init__(decls)
        self.flag = flag

    def _parse(self, decls):
        return where()


class Argument(Param):
    def _parse(self, decls):
        return where()


class Plain(Param):
    def __init__(self, decls):
        self.name = decls

    def _parse(self, decls):
        return where()
''',
    # pytest's approx: f = self._approx_scalar passed on, f(x) binds x to the method's second parameter
    "pkg/bound.py": '''
def apply(f, x):
    return f(x)


class K:
    def scale(self, v):
        return v * 2

    def run(self):
        return apply(self.scale, 3)
''',
    # click's ParamTypeInfoDict(t.TypedDict) and its subclasses; a NamedTuple and a subclass of it
    "pkg/typed.py": '''
import typing as t


class Base(t.TypedDict):
    a: int


class Sub(Base):
    b: str


class Pt(t.NamedTuple):
    x: int


class Pt3(Pt):
    pass
''',
    # _pytest/logging.py: a base class named through an alias whose TYPE_CHECKING branch never runs
    "pkg/log.py": '''
import logging
from io import StringIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    logging_StreamHandler = logging.StreamHandler[StringIO]
else:
    logging_StreamHandler = logging.StreamHandler


class LogCaptureHandler(logging_StreamHandler):
    pass
''',
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "click", FILES)


def test_self_method_calls_reach_the_overrides_of_subclasses_that_chain_to_the_caller_with_super(indexed):
    """self._parse() in Param.__init__ runs Option._parse on an Option (Option.__init__ calls super().__init__)
    and Argument._parse on an Argument (it inherits __init__); before, only the latter had an edge. Plain's
    __init__ never runs Param's, so Plain._parse gets no edge from there."""
    truth, db, _ = indexed
    runs = {split(in_cpython(truth, f"import pkg.opt as o; print(o.{cls}(['d']).name)")) for cls in ("Option", "Argument")}
    assert len(runs) == 2
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT k.callee_qualname, d.lineno, k.rule FROM cpg_calls k JOIN cpg_definitions d "
                        "ON d.def_id = k.callee_def_id WHERE k.caller_qualname = 'pkg.base.Param.__init__' "
                        "AND k.callee_qualname LIKE '%._parse'").fetchall()
    assert runs <= {(q, line) for q, line, _ in got}, got
    assert {q for q, _, rule in got if rule == "override"} == {"pkg.opt.Option._parse", "pkg.opt.Argument._parse"}


def test_a_bound_method_passed_as_an_argument_binds_past_its_receiver(indexed):
    """apply(self.scale, 3): f(x) in apply calls a bound method, so x is its v (inspect.signature(K().scale).bind(3)),
    not its self (before: x -> self)."""
    truth, db, _ = indexed
    assert json.loads(in_cpython(truth, "import inspect, json, pkg.bound as b; "
                                        "print(json.dumps(inspect.signature(b.K().scale).bind(3).arguments))")) == {"v": 3}
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT b.param_name, b.position, b.implicit_receiver FROM cpg_binds_arg b "
                        "JOIN cpg_calls k USING (callsite_id, callee_def_id) WHERE k.caller_qualname = 'pkg.bound.apply' "
                        "AND k.callee_qualname = 'pkg.bound.K.scale'").fetchall()
    # x -> v; and self is the bound method's own receiver (f.__self__), wired implicitly at the name f that holds
    # it (no row before: a call of a name had no receiver node)
    assert sorted(got) == [("self", 0, True), ("v", 0, False)]


def test_typeddict_and_namedtuple_classes_have_the_mro_their_metaclass_makes(indexed):
    """class Base(TypedDict) / class Sub(Base): both are plain dict subclasses at runtime (Sub.__mro__ is
    (Sub, dict, object)); class Pt(NamedTuple) is a tuple subclass (before: typing.TypedDict / typing.NamedTuple
    as the next class, and Base in Sub's MRO)."""
    truth, db, _ = indexed
    classes = ("Base", "Sub", "Pt", "Pt3")
    cpython = json.loads(in_cpython(truth, "import json, pkg.typed as m; print(json.dumps({c: [f'{k.__module__}."
                                           "{k.__qualname__}' for k in getattr(m, c).__mro__] for c in "
                                           f"{classes!r}}}))"))
    assert cpython["Sub"] == ["pkg.typed.Sub", "builtins.dict", "builtins.object"]
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT class_qualname, ancestor_qualname FROM cpg_mro WHERE class_qualname LIKE 'pkg.typed.%' "
                         "ORDER BY class_qualname, mro_index").fetchall()
    for cls in classes:
        want = [q.replace("builtins.", "<builtin>.") for q in cpython[cls] if q != "builtins.object"]
        assert [a for k, a in rows if k == f"pkg.typed.{cls}"] == want, cls


def test_a_base_named_through_an_alias_bound_under_type_checking_is_its_runtime_value(indexed):
    """`if TYPE_CHECKING: H = logging.StreamHandler[StringIO]` / `else: H = logging.StreamHandler`, then
    class LogCaptureHandler(H): the else branch runs, so the base is logging.StreamHandler (before: the bare
    name H, unresolved, in cpg_inherits and cpg_mro)."""
    truth, db, _ = indexed
    base = in_cpython(truth, "import pkg.log as m; b = m.LogCaptureHandler.__bases__[0]; print(f'{b.__module__}.{b.__qualname__}')")
    assert base == "logging.StreamHandler"
    with duckdb.connect(db, read_only=True) as c:
        inherits = c.execute("SELECT base_qualname, rule FROM cpg_inherits WHERE class_qualname = 'pkg.log.LogCaptureHandler'").fetchall()
        mro = c.execute("SELECT ancestor_qualname FROM cpg_mro WHERE class_qualname = 'pkg.log.LogCaptureHandler' "
                        "ORDER BY mro_index").fetchall()
    assert inherits == [(base, "external")]
    assert [a for (a,) in mro] == ["pkg.log.LogCaptureHandler", base]


def test_presets_and_export_take_the_public_name_a_package_re_exports(indexed, tmp_path):
    """pkg.api.apply is `from pkg.bound import apply` in pkg/api/__init__.py, as click.echo is click.utils.echo:
    callers, calls-into and export --symbol take it for the definition it re-exports, as the link resolves a call
    of it (before: 'no definition or call target named', exit 2)."""
    truth, db, env = indexed
    assert in_cpython(truth, "import pkg.api as a; print(a.apply.__module__ + '.' + a.apply.__qualname__)") == "pkg.bound.apply"
    code, out, err = run_cli(["query", "--preset", "callers", "--arg", "pkg.api.apply", "--json"], env)
    assert code == 0, err
    assert {(r["caller"], r["callee"]) for r in map(json.loads, out.splitlines())} >= {("pkg.cli.main", "pkg.bound.apply")}
    code, out, err = run_cli(["query", "--preset", "calls-into", "--arg", "pkg.api.apply", "--json"], env)
    assert code == 0 and any(json.loads(r)["caller"] == "pkg.cli.main" for r in out.splitlines()), err
    # a method through the re-exported class (anyio.Event.wait in the third trial)
    code, out, err = run_cli(["query", "--preset", "callers", "--arg", "pkg.api.K.scale", "--json"], env)
    assert code == 0 and {r["callee"] for r in map(json.loads, out.splitlines()) if r["depth"] == 1} == {"pkg.bound.K.scale"}, err
    code, out, err = run_cli(["export", "--symbol", "pkg.api.apply", "--format", "graphml", "--out",
                              str(tmp_path / "g.graphml")], env)
    assert code == 0 and (tmp_path / "g.graphml").stat().st_size > 0, err


def test_a_private_parameter_has_its_mangled_name_and_a_keyword_of_its_written_name_goes_to_kwargs(indexed):
    """def call(self, __obj, **kwargs) in class Ctx: the parameter is _Ctx__obj (inspect.signature), and the
    keyword __obj= goes into **kwargs (CPython returns (1, {'__obj': 2})); before, both bound __obj."""
    truth, db, _ = indexed
    bound = json.loads(in_cpython(truth, "import inspect, json, pkg.ctx as m; a = inspect.signature(m.Ctx.call)"
                                         ".bind(None, 1, __obj=2).arguments; a.pop('self'); print(json.dumps(a))"))
    assert bound == {"_Ctx__obj": 1, "kwargs": {"__obj": 2}}
    assert in_cpython(truth, "import pkg.ctx as m; print(m.use())") == "(1, {'__obj': 2})"
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT b.param_name, coalesce(b.keyword, b.position::VARCHAR) FROM cpg_binds_arg b "
                        "JOIN cpg_calls k USING (callsite_id, callee_def_id) WHERE k.caller_qualname = 'pkg.ctx.use' "
                        "AND NOT b.implicit_receiver ORDER BY 1").fetchall()
    assert got == [("_Ctx__obj", "0"), ("kwargs", "__obj")]


def test_an_awaited_call_of_an_async_def_returns_its_annotated_class(indexed):
    """r = await amake(), async def amake() -> Response: r.aread() reaches Response.aread, as the sync twin
    r = make(); r.read() does (before: no edge, httpx's AsyncClient.send); r = amake() without await is a
    coroutine (CPython: AttributeError on r.read()), so no edge there."""
    truth, db, _ = indexed
    ran_async = in_cpython(truth, "import asyncio, pkg.resp as m; print(asyncio.run(m.async_use()))")
    ran_sync = in_cpython(truth, "import pkg.resp as m; print(m.sync_use())")
    assert "AttributeError" in in_cpython(truth, "import asyncio, pkg.resp as m\ntry: asyncio.run(m.unawaited())\n"
                                                 "except AttributeError as e: print('AttributeError', e)")
    with duckdb.connect(db, read_only=True) as c:
        got = {caller: {(q, line) for q, line in c.execute(
                   "SELECT k.callee_qualname, d.lineno FROM cpg_calls k JOIN cpg_definitions d ON d.def_id = k.callee_def_id "
                   "WHERE k.caller_qualname = ? AND k.rule = 'returns_method'", [f"pkg.resp.{caller}"]).fetchall()}
               for caller in ("async_use", "sync_use", "unawaited")}
    assert got == {"async_use": {split(ran_async)}, "sync_use": {split(ran_sync)}, "unawaited": set()}, got


def test_a_name_bound_to_none_beside_an_import_still_means_the_import(indexed):
    """try: import pkg.bound as backend / except ImportError: backend = None; backend.K() can only reach the class
    (None has no K: an AttributeError), so the None site does not take the edge away (before: no edge at all)."""
    truth, db, _ = indexed
    assert in_cpython(truth, "import pkg.optional as m; k = type(m.make()); print(k.__module__ + '.' + k.__qualname__)") == "pkg.bound.K"
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT callee_qualname, rule, confidence FROM cpg_calls WHERE caller_qualname = 'pkg.optional.make'").fetchall()
    assert got == [("pkg.bound.K", "class", 1.0)], got


def test_a_constructor_call_reaches_the_new_its_class_defines(indexed):
    """Event() runs Event.__new__ first (anyio: it returns the backend's subclass instance); before, a class's
    __new__ was never a call target (it had no callers), only the class or its __init__."""
    truth, db, _ = indexed
    ran = json.loads(in_cpython(truth, "import json, pkg.event as m; m.make(); print(json.dumps(m.RAN))"))
    first = split(ran[0])
    assert first[0] == "pkg.event.Event.__new__"
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT k.callee_qualname, d.lineno, k.rule FROM cpg_calls k JOIN cpg_definitions d "
                        "ON d.def_id = k.callee_def_id WHERE k.caller_qualname = 'pkg.event.make'").fetchall()
    assert (*first, "constructor") in got, got
    # AsyncEvent() inside Event.__new__: its own __new__, then its __init__ (CPython's next calls; the __init__ runs
    # once more for the outer Event(), whose result is an Event: that edge is not modelled)
    with duckdb.connect(db, read_only=True) as c:
        inner = c.execute("SELECT k.callee_qualname, d.lineno FROM cpg_calls k JOIN cpg_definitions d "
                          "ON d.def_id = k.callee_def_id WHERE k.caller_qualname = 'pkg.event.Event.__new__' "
                          "AND k.rule = 'constructor'").fetchall()
    assert set(inner) == {split(w) for w in ran[1:]}, (inner, ran)
