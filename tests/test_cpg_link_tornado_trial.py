"""What a user trial on tornado 6.6 with runtime ground truth found (session AC): two wiring defects.

The expected binding of each argument is CPython's: `inspect.signature(...).bind` in a plain interpreter over the
fixture's own callables, and the fixture run to show which callee runs. One index serves every test.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split
from tests.test_cpg_link_nx_trial import edges
from tests.test_cpg_link_flask_trial import bound_args

RETURNED = '''
class Conn:
    def __init__(self, client, request):
        self.client = client
        self.request = request


def conn_class():
    return Conn


def make(client, request):
    return conn_class()(client, request)


class Client:
    def _connection_class(self):
        return Conn

    def handle(self, request):
        return self._connection_class()(self, request)


class Runner:
    def run(self, x):
        return x

    def getter(self):
        return self.run

    def go(self):
        return self.getter()(5)


def plain(y):
    return y


def plain_getter():
    return plain


def use_plain():
    return plain_getter()(7)
'''

NEW = '''
class Base:
    def __new__(cls, *args, **kwargs):
        inst = object.__new__(cls)
        inst.seen = (cls.__name__, args, kwargs)
        return inst

    def __init__(self, *args, **kwargs):
        pass


class Sub(Base):
    def __new__(cls, x):
        return super().__new__(cls, x)


class Sub2(Base):
    def __new__(cls, x):
        return Base.__new__(cls, x)


def make():
    return Sub(7)
'''

# tornado's locale.py: `_ = self.translate` then `_("January")` (19 of that trial's misses); the standard library
# has 4,715 calls through such local aliases of a bound method (`write = self.write` before a loop)
ALIAS = '''
from pkg.trace import where


class Writer:
    def write(self, s):
        return where()

    def many(self, items):
        write = self.write
        out = None
        for i in items:
            out = write(i)
        return out

    def rebound(self, items, other):
        write = self.write
        if other:
            write = other
        return write(items)


class Locale:
    def translate(self, message):
        raise NotImplementedError()

    def month(self):
        _ = self.translate
        return _("January")


class CSVLocale(Locale):
    def translate(self, message):
        return where()
'''

FILES = {"pkg/__init__.py": "", "pkg/returned.py": RETURNED, "pkg/new.py": NEW, "pkg/trace.py": WHERE,
         "pkg/alias.py": ALIAS}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "tornado_trial", FILES)[:2]


def rule(db: str, caller: str, callee: str) -> list[str]:
    with duckdb.connect(db, read_only=True) as c:
        return [r for (r,) in c.execute("SELECT rule FROM cpg_calls WHERE caller_qualname = ? AND callee_qualname = ?",
                                        [caller, callee]).fetchall()]


def test_a_class_a_call_returns_is_constructed_with_the_arguments_after_self(indexed):
    """`conn_class()(client, request)` (tornado's `self._connection_class()(self, request)`): the arguments were
    shifted by one (client bound `self`, request `client`, no receiver row)."""
    truth, db = indexed
    assert ran(truth, "import inspect; from pkg.returned import Conn\n"
                      "print(list(inspect.signature(Conn.__init__).bind('<new>', '<c>', '<r>').arguments))") \
        == "['self', 'client', 'request']"
    assert ran(truth, "from pkg.returned import make; c = make(1, 2); print(type(c).__name__, c.client, c.request)") \
        == "Conn 1 2"
    assert rule(db, "pkg.returned.make", "pkg.returned.Conn.__init__") == ["returned"]
    # the new instance is the receiver: the call node itself
    assert bound_args(db, "pkg.returned.make", "pkg.returned.Conn.__init__") == [
        ("client", False, "client"), ("request", False, "request"), ("self", True, "Call")]
    assert bound_args(db, "pkg.returned.Client.handle", "pkg.returned.Conn.__init__") == [
        ("client", False, "self"), ("request", False, "request"), ("self", True, "Call")]


def test_a_bound_method_a_call_returns_binds_its_arguments_after_self(indexed):
    """`self.getter()(5)` where getter returns `self.run`: 5 is x (it bound self)."""
    truth, db = indexed
    assert ran(truth, "from pkg.returned import Runner; print(Runner().go())") == "5"
    assert ran(truth, "import inspect; from pkg.returned import Runner\n"
                      "print(list(inspect.signature(Runner().run).bind(5).arguments))") == "['x']"
    # the receiver is what the inner call returns (the bound method): the inner call's node
    assert bound_args(db, "pkg.returned.Runner.go", "pkg.returned.Runner.run") == [("self", True, "Call"), ("x", False, "5")]
    # a plain function returned has no receiver
    assert ran(truth, "from pkg.returned import use_plain; print(use_plain())") == "7"
    assert bound_args(db, "pkg.returned.use_plain", "pkg.returned.plain") == [("y", False, "7")]


def test_super_dunder_new_gets_cls_as_its_first_argument(indexed):
    """`super().__new__(cls, x)` (tornado's AsyncHTTPClient.__new__): __new__ is a static method, so cls is an
    explicit argument; it was wired to *args with an implicit receiver in cls's place."""
    truth, db = indexed
    assert ran(truth, "from pkg.new import make; print(make().seen)") == "('Sub', (7,), {})"
    assert ran(truth, "import inspect; from pkg.new import Base, Sub\n"
                      "print(dict(inspect.signature(Base.__new__).bind(Sub, 7).arguments))") \
        == "{'cls': <class 'pkg.new.Sub'>, 'args': (7,)}"
    expected = [("args", False, "x"), ("cls", False, "cls")]
    assert bound_args(db, "pkg.new.Sub.__new__", "pkg.new.Base.__new__") == expected
    assert bound_args(db, "pkg.new.Sub2.__new__", "pkg.new.Base.__new__") == expected  # the control, right before too
    # a constructor call still passes the class itself as __new__'s first argument
    assert bound_args(db, "pkg.new.make", "pkg.new.Sub.__new__") == [("cls", True, "Call"), ("x", False, "7")]


def test_a_bound_method_kept_in_a_local_name_is_called_through_it(indexed):
    """`write = self.write; write(i)`: CPython runs Writer.write with i as s (the method is bound). Before: no edge
    (the local alias of `self.m` had no meaning). 0.9, as `self.write(i)`: a subclass may override write."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.alias import Writer; print(Writer().many([1, 2]))"))
    assert target[0] == "pkg.alias.Writer.write"
    assert edges(db, "pkg.alias.Writer.many") == [(*target, "self_method", 0.9)]
    assert ran(truth, "import inspect; from pkg.alias import Writer\n"
                      "print(list(inspect.signature(Writer().write).bind(1).arguments))") == "['s']"
    assert bound_args(db, "pkg.alias.Writer.many", "pkg.alias.Writer.write") == [("s", False, "i"), ("self", True, "Name")]
    # bound again in a branch (`write = other`): in a function, precision first, no edge (as for any local alias)
    assert edges(db, "pkg.alias.Writer.rebound") == []


def test_a_local_alias_of_self_m_also_reaches_the_subclasses_overrides(indexed):
    """tornado's `Locale.month`: `_ = self.translate; _("January")`, where Locale.translate raises
    NotImplementedError and CSVLocale overrides it: the override rule applies as for `self.translate(...)`."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.alias import CSVLocale; print(CSVLocale().month())"))
    assert target[0] == "pkg.alias.CSVLocale.translate"
    got = edges(db, "pkg.alias.Locale.month")
    assert (*target, "override", 0.72) in got
    assert [r for _, _, r, _ in got] == ["override", "self_method"]  # and Locale.translate itself
    assert bound_args(db, "pkg.alias.Locale.month", "pkg.alias.CSVLocale.translate") == [
        ("message", False, '"January"'), ("self", True, "Name")]


# What a third trial (prompt_toolkit 3.0.53) reproduced: confident edges to code CPython never runs
SHADOW = '''
from pkg.trace import where


class A:
    def __init__(self):
        where()


class B:
    def __init__(self):
        where()

    def go(self):
        return where()


class K:
    factory = A

    def __init__(self, f):
        self.factory = f

    def make(self):
        return self.factory()


class R:
    def go(self):
        return where()

    def run(self):
        self = B()
        return self.go()


class H:
    def __init__(self, cb):
        self.handler = cb

    def handler(self):
        return where()

    def run(self):
        return self.handler()

    def via_local(self):
        g = self.handler
        return g()

    def passed(self):
        return apply(self.handler)


def apply(fn):
    return fn()


class P:
    def __init__(self, cb):
        self.n, self.handler = 0, cb

    def handler(self):
        return where()

    def run(self):
        return self.handler()


class J:
    def __init__(self, cb=None):
        if cb is not None:
            self.handler = cb

    def handler(self):
        return where()

    def set_factory(self, f):
        self.factory = f

    def factory(self):
        return where()

    def run(self):
        return self.handler(), self.factory()


class Sub(H):
    def handler(self):
        return where()
'''


@pytest.fixture(scope="module")
def shadow(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "shadow", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                         "pkg/shadow.py": SHADOW})[:2]


def calls_of(db: str, caller: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = ? "
                         "AND callee_qualname NOT LIKE 'pkg.trace.%' ORDER BY ALL", [caller]).fetchall()


def test_an_instance_attribute_shadows_a_class_attribute_and_a_method(shadow):
    """`factory = A` in the class body, `self.factory = f` in __init__: `self.factory()` calls f (a B here), never
    A; `self.handler = cb` beside `def handler`: `self.handler()` calls cb, never H.handler nor a subclass's
    override. Before: `constructor` to A.__init__ at 0.9, `self_method` to H.handler and `override` to Sub.handler."""
    truth, db = shadow
    assert ran(truth, "from pkg.shadow import K, B; print(type(K(B).make()).__name__)") == "B"
    assert calls_of(db, "pkg.shadow.K.make") == []
    assert ran(truth, "from pkg.shadow import H, Sub; print(H(lambda: 'cb').run(), Sub(lambda: 'cb2').run())") \
        == "cb cb2"
    assert calls_of(db, "pkg.shadow.H.run") == []
    # (a tuple target: `self.n, self.handler = 0, cb` stores it as surely)
    assert ran(truth, "from pkg.shadow import P; print(P(lambda: 'cb').run())") == "cb"
    assert calls_of(db, "pkg.shadow.P.run") == []


def test_an_attribute_stored_only_sometimes_leaves_the_method_reachable(shadow):
    """`self.handler = cb` under an `if` in __init__, `self.factory = f` in a setter: without cb, without the setter,
    `self.handler()` and `self.factory()` run J's own methods, so those edges stay (session AC dropped them, and
    json's `JSONEncoder.default`, which `_make_iterencode` calls unless `default=` was given)."""
    truth, db = shadow
    ran_ = ran(truth, "from pkg.shadow import J; print(*J().run())").split()
    assert [split(w)[0] for w in ran_] == ["pkg.shadow.J.handler", "pkg.shadow.J.factory"]
    assert calls_of(db, "pkg.shadow.J.run") == [("pkg.shadow.J.factory", "self_method"),
                                                ("pkg.shadow.J.handler", "self_method")]


def test_a_shadowed_method_kept_in_a_name_or_passed_reaches_nothing(shadow):
    """The same shadowed `self.handler`, kept in a local name (`g = self.handler; g()`) or passed (`apply(self.handler)`,
    then `fn()` in apply): cb runs, never H.handler. Before: `self_method` / `override` edges from `g()` and a
    `passed_argument` edge from `fn()` to H.handler (the shadowing was judged for `self.handler()` only)."""
    truth, db = shadow
    assert ran(truth, "from pkg.shadow import H; h = H(lambda: 'cb'); print(h.via_local(), h.passed())") == "cb cb"
    assert calls_of(db, "pkg.shadow.H.via_local") == []
    assert [c for c in calls_of(db, "pkg.shadow.apply") if c[0].startswith("pkg.shadow.")] == []
    assert ("pkg.shadow.apply", "local") in calls_of(db, "pkg.shadow.H.passed")  # (the fixture's call is resolved)


def test_a_rebound_first_parameter_is_no_receiver(shadow):
    """`self = B()` in a method, then `self.go()`: B.go runs, not the class's own go (before: self_method to R.go)."""
    truth, db = shadow
    assert split(ran(truth, "from pkg.shadow import R; print(R().run())"))[0] == "pkg.shadow.B.go"
    assert ("pkg.shadow.R.go", "self_method") not in calls_of(db, "pkg.shadow.R.run")
