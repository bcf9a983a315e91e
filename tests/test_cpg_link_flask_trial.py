"""What a user trial on Werkzeug 3.1 / Flask 3.1 with runtime ground truth found (session AC).

Each fixture is run in a plain interpreter: a callee reports the line of its own `def` (``where()``), so the
expected edges are CPython's, not the extractor's; the wiring is compared with `inspect.signature(...).bind`.
One index serves every test.
"""

import json
import os

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split
from tests.test_cpg_link_nx_trial import edges as nx_edges

PASSED = '''
from pkg.trace import where


class Box:
    def __init__(self, v):
        self.v = v

    def scale(self, k):
        return where()


class Crate(Box):
    pass


def apply(fn, value):
    return fn(value)


def use_local():
    b = Box(2)
    return apply(b.scale, 4)


def apply_too(fn, value):
    return fn(value)


def use_inherited():
    c = Crate(1)
    return apply_too(c.scale, 3)


def apply_unknown(fn, value):
    return fn(value)


def use_rebound(flag):
    b = Box(2)
    if flag:
        b = flag
    return apply_unknown(b.scale, 4)
'''

# Instance attributes (Werkzeug's `self._matcher = StateMachineMatcher(...)`, then `self._matcher.add(rule)`) and
# class attributes that hold a class (Flask's `url_map_class = Map`, then `self.url_map_class(...)`)
ATTRS = '''
import collections

from pkg.trace import where


class Matcher:
    def add(self, rule):
        return where()


class FastMatcher(Matcher):
    def add(self, rule):
        return where()


class Map:
    def __init__(self):
        where()
        self._matcher = Matcher()

    def add(self, rule):
        return self._matcher.add(rule)


class Sub(Map):
    def again(self, rule):
        return self._matcher.add(rule)


class Either:
    def __init__(self, fast):
        self.m = FastMatcher() if fast else Matcher()

    def add(self, rule):
        return self.m.add(rule)


class Declared:
    def __init__(self):
        self.m: Matcher
        self.m = Matcher()

    def add(self, rule):
        return self.m.add(rule)


class Lazy:
    cache = None

    def fill(self):
        self.cache = Matcher()

    def add(self, rule):
        return self.cache.add(rule)


class Loose:
    def __init__(self, m):
        self.m = Matcher()
        if m is not None:
            self.m = m

    def add(self, rule):
        return self.m.add(rule)


class Desc:
    def __get__(self, obj, owner):
        return Matcher()

    def add(self, rule):
        return where()


class UsesDesc:
    d = Desc()

    def add(self, rule):
        return self.d.add(rule)


class Headers:
    def __init__(self, items=None):
        self.items = items

    def copy(self):
        return self.__class__(self)

    def copy_too(self):
        return type(self)(self)


class MyHeaders(Headers):
    pass


class App:
    url_map_class = Map
    dict_class = collections.OrderedDict

    def __init__(self):
        self.url_map = self.url_map_class()

    def route(self, rule):
        return self.url_map.add(rule)

    def make_map(self):
        return self.url_map_class()

    def make_dict(self):
        return self.dict_class()


class MyApp(App):
    url_map_class = Sub

    def make_own(self):
        return self.url_map_class()


def register(app: App, rule):
    return app.url_map.add(rule)


def register_untyped(app, rule):
    return app.url_map.add(rule)


def local_map(rule):
    m = Map()
    return m._matcher.add(rule)


class Stream:
    def write(self, data):
        return where()


def current() -> "Stream":
    return Stream()


class Conn:
    def __init__(self, stream: Stream):
        self.stream = stream
        self.loop = current()

    def send(self, data):
        return self.stream.write(data)

    def tick(self, data):
        return self.loop.write(data)


class Untyped:
    def __init__(self, stream):
        self.stream = stream

    def send(self, data):
        return self.stream.write(data)
'''

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/passed.py": PASSED, "pkg/attrs.py": ATTRS,
         "pkg/api/__init__.py": "from pkg.attrs import Sub as Router\n"}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "flask_trial", FILES)[:2]


def edges(db: str, caller: str) -> list[tuple[str, int, str, float]]:
    return nx_edges(db, caller, except_rules=('constructor', 'class'))


def bound_args(db: str, caller: str, callee: str | None = None, callee_text: str | None = None) -> list[tuple]:
    """(parameter, implicit receiver?, argument text or the receiver node's kind) of caller's calls (of callee,
    or with that callee text)."""
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT b.param_name, b.implicit_receiver, coalesce(a.text, n.kind) FROM cpg_binds_arg b "
                         "JOIN cpg_definitions d ON d.def_id = b.callee_def_id "
                         "JOIN py_ast_nodes n ON n.ast_node_id = b.arg_ast_node_id LEFT JOIN cpg_call_args a USING (arg_id) "
                         "WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites WHERE caller_qualname = $1 "
                         "AND ($3 IS NULL OR callee_text = $3)) AND ($2 IS NULL OR d.qualname = $2) ORDER BY ALL",
                         [caller, callee, callee_text]).fetchall()


def wiring(db: str, caller: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT b.param_name, b.implicit_receiver, n.kind, coalesce(n.name, a.text) FROM cpg_binds_arg b "
                         "JOIN py_ast_nodes n ON n.ast_node_id = b.arg_ast_node_id LEFT JOIN cpg_call_args a USING (arg_id) "
                         "WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites WHERE caller_qualname = ? "
                         "AND callee_text = 'fn') ORDER BY ALL", [caller]).fetchall()


def test_a_bound_method_of_a_local_instance_passed_as_an_argument_is_called_through_the_parameter(indexed):
    """`b = Box(2); apply(b.scale, 4)`, then `fn(value)` in apply: CPython runs Box.scale there with `value` as `k`
    (Werkzeug/Flask pass bound methods of objects they make: `deferred(state)`). Before: no edge at `fn(value)`,
    while `apply(self.scale, 3)` had one."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.passed import use_local; print(use_local())"))
    assert target[0] == "pkg.passed.Box.scale"
    # 0.8 (through a parameter) x 1.0 (apply's call) x 0.9 (an instance attribute could shadow the method)
    assert edges(db, "pkg.passed.apply") == [(*target, "passed_argument", 0.72)]
    assert ran(truth, "import inspect; from pkg.passed import Box\n"
                      "print(list(inspect.signature(Box(2).scale).bind(4).arguments))") == "['k']"
    # the method is bound: `value` is `k`, the receiver is what `fn` holds
    assert wiring(db, "pkg.passed.apply") == [("k", False, "Name", "value"), ("self", True, "Name", "fn")]


def test_the_method_is_looked_up_along_the_class_mro(indexed):
    truth, db = indexed
    target = split(ran(truth, "from pkg.passed import use_inherited; print(use_inherited())"))
    assert target[0] == "pkg.passed.Box.scale"  # Crate inherits it
    assert edges(db, "pkg.passed.apply_too") == [(*target, "passed_argument", 0.72)]


def test_a_name_also_bound_to_something_else_gives_no_edge(indexed):
    """`b = Box(2)` then `b = flag` in a branch: b may not be a Box (precision first, as for `b.scale()`)."""
    truth, db = indexed
    assert split(ran(truth, "from pkg.passed import use_rebound; print(use_rebound(None))"))[0] == "pkg.passed.Box.scale"
    assert edges(db, "pkg.passed.apply_unknown") == []


def test_a_method_of_an_instance_attribute_set_in_init_reaches_the_class_method(indexed):
    """`self._matcher = Matcher()` in __init__, `self._matcher.add(rule)` in another method (Werkzeug's Map; 37 of
    the trial's missed calls were methods of instance attributes). Before: no edge."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.attrs import Map; print(Map().add(1))"))
    assert target[0] == "pkg.attrs.Matcher.add"
    # 0.8: a subclass, or code outside the class, may store something else in the attribute
    assert edges(db, "pkg.attrs.Map.add") == [(*target, "attribute_instance", 0.8)]
    # a subclass's method sees the store its base class's __init__ makes
    assert split(ran(truth, "from pkg.attrs import Sub; print(Sub().again(1))")) == target
    assert edges(db, "pkg.attrs.Sub.again") == [(*target, "attribute_instance", 0.8)]
    # the attribute's value is the receiver of the bound method
    assert bound_args(db, "pkg.attrs.Map.add", callee_text="self._matcher.add") == [
        ("rule", False, "rule"), ("self", True, "Attribute")]


def test_an_attribute_set_to_one_of_two_classes_or_to_none_first(indexed):
    truth, db = indexed
    runs = sorted(split(ran(truth, f"from pkg.attrs import Either; print(Either({f}).add(1))")) for f in (True, False))
    assert [q for q, _ in runs] == ["pkg.attrs.FastMatcher.add", "pkg.attrs.Matcher.add"]
    assert edges(db, "pkg.attrs.Either.add") == [(*r, "attribute_instance", 0.4) for r in runs]
    # `cache = None` in the class body, `self.cache = Matcher()` in fill(): None has no method to call
    lazy = split(ran(truth, "from pkg.attrs import Lazy; x = Lazy(); x.fill(); print(x.add(1))"))
    assert edges(db, "pkg.attrs.Lazy.add") == [(*lazy, "attribute_instance", 0.8)]
    # `self.m: Matcher` without a value stores nothing (CPython: no attribute after it alone)
    assert ran(truth, "from pkg.attrs import Declared\nclass Bare(Declared):\n    def __init__(self):\n"
                      "        self.m: int\nprint(hasattr(Bare(), 'm'))") == "False"
    declared = split(ran(truth, "from pkg.attrs import Declared; print(Declared().add(1))"))
    assert edges(db, "pkg.attrs.Declared.add") == [(*declared, "attribute_instance", 0.8)]


def test_an_attribute_also_set_to_anything_else_or_through_a_descriptor_gives_no_edge(indexed):
    """`self.m = m` (whatever the caller passes) beside `self.m = Matcher()`: precision first, no edge. A class-level
    instance of a descriptor class (`d = Desc()`, Desc defines __get__): `self.d` is what __get__ returns (a
    Matcher here), not the Desc, so an edge to Desc.add would be wrong."""
    truth, db = indexed
    assert split(ran(truth, "from pkg.attrs import Loose, FastMatcher; print(Loose(FastMatcher()).add(1))"))[0] \
        == "pkg.attrs.FastMatcher.add"
    assert edges(db, "pkg.attrs.Loose.add") == []
    assert split(ran(truth, "from pkg.attrs import UsesDesc; print(UsesDesc().add(1))"))[0] == "pkg.attrs.Matcher.add"
    assert edges(db, "pkg.attrs.UsesDesc.add") == []


def calls_of(db: str, caller: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT callee_qualname, rule, round(confidence::DOUBLE, 4) FROM cpg_calls WHERE caller_qualname = ? "
                         "AND callee_qualname NOT LIKE 'pkg.trace.%' ORDER BY ALL", [caller]).fetchall()


def test_a_class_held_in_a_class_attribute_is_constructed_through_self(indexed):
    """Flask's `url_map_class = Map`, then `self.url_map_class()` (17 of the trial's misses: `self.response_class(...)`):
    the class's constructor, 0.9 (a subclass may bind the name again, as MyApp does). The instance it makes is then
    an attribute whose methods resolve (`self.url_map.add(rule)`)."""
    truth, db = indexed
    assert ran(truth, "from pkg.attrs import App, MyApp; print(type(App().make_map()).__qualname__, "
                      "type(MyApp().make_own()).__qualname__, MyApp.__init__ is App.__init__)") == "Map Sub True"
    assert calls_of(db, "pkg.attrs.App.make_map") == [("pkg.attrs.Map.__init__", "constructor", 0.9)]
    # the subclass's own binding of the name, looked up first along MyApp's MRO: Sub, whose __init__ is Map's
    assert calls_of(db, "pkg.attrs.MyApp.make_own") == [("pkg.attrs.Map.__init__", "constructor", 0.9)]
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT via FROM cpg_calls WHERE caller_qualname = 'pkg.attrs.MyApp.make_own'").fetchall() \
            == [(["self.url_map_class", "pkg.attrs.Sub", "pkg.attrs.Map.__init__"],)]
    # what App.route calls, as CPython's profiler sees it (Map.add, which then calls Matcher.add)
    target = split(ran(truth, "import sys; from pkg.attrs import App; a = App(); seen = []\n"
                              "sys.setprofile(lambda f, e, x: seen.append(f) if e == 'call' else None); a.route(1)\n"
                              "sys.setprofile(None); f = seen[1]; assert seen[0].f_code.co_qualname == 'App.route'\n"
                              "print(f'{f.f_globals[\"__name__\"]}.{f.f_code.co_qualname}:{f.f_code.co_firstlineno}')"))
    assert target[0] == "pkg.attrs.Map.add"
    # 0.8 x the store's call (0.9)
    assert edges(db, "pkg.attrs.App.route") == [(*target, "attribute_instance", 0.72)]
    # a class outside the repository: its dotted name
    assert ran(truth, "from pkg.attrs import App; print(type(App().make_dict()).__module__)") == "collections"
    assert calls_of(db, "pkg.attrs.App.make_dict") == [("collections.OrderedDict", "external", 0.81)]


BASE = '''
class Matcher:
    def add(self, rule):
        return rule


class Map:
    def __init__(self):
        self._matcher = Matcher()
'''

USER = '''
from pkg.base import Map


class Sub(Map):
    def again(self, rule):
        return self._matcher.add(rule)
'''


def relinked_as_full(tmp_path, files: dict[str, str], edit: str, change, caller: str,
                     before: str, after: str) -> None:
    """Index ``files``, check ``caller``'s attribute_instance callee is ``before``; apply ``change`` (text -> text)
    to the file ``edit``, index again: the callee is ``after``, and the edges equal a --full index's."""
    from tests.conftest import index_repo
    from tests.test_cpg_link_nx_trial import reindexed_as_full
    repo, env, _ = index_repo(tmp_path, files)
    assert [(q, r) for q, _, r, _ in edges(env["CODEINTEL_DB"], caller)] == [(before, "attribute_instance")]
    src = repo / edit
    src.write_text(change(src.read_text()))
    got = reindexed_as_full(tmp_path, repo, env, caller, except_rules=("constructor", "class"))
    assert [(q, r) for q, _, r, _ in got] == [(after, "attribute_instance")]


def test_changing_the_store_in_a_base_class_relinks_the_subclass_as_a_full_index_does(tmp_path):
    """The store is in base.py, the call in user.py (which imports base): an edit of the store's class in base.py
    relinks user.py. The incremental result equals a --full index of the same files."""
    relinked_as_full(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/user.py": USER}, "pkg/base.py",
                     lambda t: t.replace("self._matcher = Matcher()", "self._matcher = Other()")
                     + "\n\nclass Other:\n    def add(self, rule):\n        return rule\n",
                     "pkg.user.Sub.again", "pkg.base.Matcher.add", "pkg.base.Other.add")


def test_presets_take_a_method_a_class_inherits(indexed):
    """`callers --arg flask.Flask.route` exited 2 ('no definition ... named'): Flask inherits route from Scaffold.
    A method named through the class that inherits it (also through a re-export of that class) is the definition
    the class's MRO finds, as CPython looks it up."""
    from tests.test_cpg_link_nx_trial import in_cpython
    truth, db = indexed
    assert in_cpython(truth, "import pkg.api as a, pkg.attrs as m; print(a.Router.add is m.Map.add)") == "True"
    from tests.conftest import run_cli
    env = dict(os.environ, CODEINTEL_DB=db)
    for name in ("pkg.attrs.Sub.add", "pkg.api.Router.add"):
        code, out, err = run_cli(["query", "--preset", "callers", "--arg", name, "--json", "--db", db], env)
        assert code == 0, err
        rows = [json.loads(r) for r in out.splitlines()]
        assert {(r["caller"], r["callee"]) for r in rows if r["depth"] == 1} == {
            ("pkg.attrs.App.route", "pkg.attrs.Map.add"), ("pkg.attrs.register", "pkg.attrs.Map.add")}


def test_self_class_called_constructs_the_class(indexed):
    """Werkzeug's `Headers.copy`: `self.__class__(self)`: the class of the instance, K's constructor on a K (0.9: on
    an instance of a subclass it is the subclass's). 123 such calls in the standard library had no edge."""
    truth, db = indexed
    assert ran(truth, "from pkg.attrs import Headers, MyHeaders; print(type(Headers().copy()).__qualname__, "
                      "type(MyHeaders().copy()).__qualname__, MyHeaders.__init__ is Headers.__init__)") == "Headers MyHeaders True"
    assert calls_of(db, "pkg.attrs.Headers.copy") == [("pkg.attrs.Headers.__init__", "constructor", 0.9)]
    # type(self)(self): the same (40 standard-library calls)
    assert ran(truth, "from pkg.attrs import MyHeaders; print(type(MyHeaders().copy_too()).__qualname__)") == "MyHeaders"
    assert calls_of(db, "pkg.attrs.Headers.copy_too") == [("<builtin>.type", "builtin", 1.0),
                                                          ("pkg.attrs.Headers.__init__", "constructor", 0.9)]
    with duckdb.connect(db, read_only=True) as c:  # the new instance is self, the argument binds items
        wired = c.execute("SELECT b.param_name, b.implicit_receiver, a.text FROM cpg_binds_arg b LEFT JOIN cpg_call_args a "
                          "USING (arg_id) WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites WHERE "
                          "caller_qualname = ?) ORDER BY ALL", ["pkg.attrs.Headers.copy"]).fetchall()
        wired_too = c.execute("SELECT b.param_name, b.implicit_receiver, a.text FROM cpg_binds_arg b LEFT JOIN cpg_call_args a "
                              "USING (arg_id) WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites WHERE "
                              "caller_qualname = ? AND callee_kind = 'call') ORDER BY ALL",
                              ["pkg.attrs.Headers.copy_too"]).fetchall()
    assert wired == [("items", False, "self"), ("self", True, None)]
    assert wired_too == wired


def test_an_attribute_of_a_parameter_declared_with_a_class(indexed):
    """`def register(app: App, rule): app.url_map.add(rule)`: App's stores of url_map, as for `self.url_map` in App's
    methods, 0.8 x the annotation's 0.8. An unannotated parameter: no edge."""
    truth, db = indexed
    target = split(ran(truth, "import sys; from pkg.attrs import App, register; a = App(); seen = []\n"
                              "sys.setprofile(lambda f, e, x: seen.append(f) if e == 'call' else None); register(a, 1)\n"
                              "sys.setprofile(None); f = seen[1]\n"
                              "print(f'{f.f_globals[\"__name__\"]}.{f.f_code.co_qualname}:{f.f_code.co_firstlineno}')"))
    assert target[0] == "pkg.attrs.Map.add"
    # 0.8 (the rule) x 0.8 (an annotation the caller may break) x 0.9 (the store's call, through url_map_class)
    assert edges(db, "pkg.attrs.register") == [(*target, "attribute_instance", 0.576)]
    assert edges(db, "pkg.attrs.register_untyped") == []


def test_an_attribute_of_a_local_instance(indexed):
    """`m = Map(); m._matcher.add(rule)`: Map's store in its __init__, 0.8 x 0.9 (as instance_method)."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.attrs import local_map; print(local_map(1))"))
    assert target[0] == "pkg.attrs.Matcher.add"
    assert edges(db, "pkg.attrs.local_map") == [(*target, "attribute_instance", 0.72)]


def test_an_attribute_stored_from_a_declared_parameter_or_an_annotated_call(indexed):
    """tornado's `self.stream = stream` with `stream: IOStream` in __init__, and `self.io_loop = IOLoop.current()`
    with `def current() -> "IOLoop"` (68 of that trial's misses were such attributes): the class the annotation
    names, 0.8 for the annotation (as the annotation and returns_method rules) x 0.8 (the rule). An unannotated
    parameter stored: no edge."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.attrs import Conn, Stream; print(Conn(Stream()).send(1))"))
    assert target[0] == "pkg.attrs.Stream.write"
    assert edges(db, "pkg.attrs.Conn.send") == [(*target, "attribute_instance", 0.64)]
    assert split(ran(truth, "from pkg.attrs import Conn, Stream; print(Conn(Stream()).tick(1))")) == target
    assert edges(db, "pkg.attrs.Conn.tick") == [(*target, "attribute_instance", 0.64)]
    assert edges(db, "pkg.attrs.Untyped.send") == []


STREAMS = '''
class Stream:
    def write(self, data):
        return data


class Other:
    def write(self, data):
        return data
'''

CONN = '''
from pkg.streams import Stream


class Conn:
    def __init__(self, stream: Stream):
        self.stream = stream
'''

MYCONN = '''
from pkg.conn import Conn


class MyConn(Conn):
    def go(self):
        return self.stream.write(1)
'''


def test_changing_a_stored_parameter_s_annotation_in_a_base_class_relinks_the_subclass(tmp_path):
    relinked_as_full(tmp_path, {"pkg/__init__.py": "", "pkg/streams.py": STREAMS, "pkg/conn.py": CONN,
                                "pkg/myconn.py": MYCONN}, "pkg/conn.py",
                     lambda t: t.replace("import Stream", "import Other").replace("stream: Stream", "stream: Other"),
                     "pkg.myconn.MyConn.go", "pkg.streams.Stream.write", "pkg.streams.Other.write")
