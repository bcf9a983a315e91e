"""Call edges and class hierarchies a user trial on SQLAlchemy, attrs and rich found wrong. The expected callee
of each call is what CPython runs: the test executes the same files and reads ``__module__`` / ``__qualname__``
of the function each call reaches (recorded by the fixture's functions themselves, ``ran()``), and the MRO a
class statement made (``__mro__``)."""

import json
import subprocess
import sys

import duckdb

from tests.conftest import index_repo, write_repo
from tests.test_cpg_link_trial import calls_of, runtime

RAN = '''
import sys


def ran():
    f = sys._getframe(1)
    return f"{f.f_globals['__name__']}.{f.f_code.co_qualname}"
'''


def in_cpython(root, code: str) -> str:
    """What a plain interpreter prints running ``code`` with ``root`` first on sys.path (stripped)."""
    return subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, sys.argv[1]); {code}", str(root)],
                          capture_output=True, text=True, check=True).stdout.strip()


GENERIC = {
    "gen.py": RAN + '''

from typing import Generic, TypeVar

T = TypeVar("T")


class Base(Generic[T]):
    def clone(self):
        return ran()


class Sub(Base[int]):
    def go(self):
        return self.clone()


class Pair(dict[str, int], Base[str]):
    pass


def main():
    got = {}
    got[30] = Sub().go()
    return got
'''}


def mro_of(db: str) -> dict[str, list[str]]:
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT class_qualname, ancestor_qualname FROM cpg_mro ORDER BY class_qualname, mro_index").fetchall()
    out: dict[str, list[str]] = {}
    for cls, anc in rows:
        out.setdefault(cls, []).append(anc)
    return out


def test_a_subscripted_generic_base_is_the_class_it_subscripts(tmp_path):
    """`class Sub(Base[int])`: CPython's class statement calls the generic alias's __mro_entries__, and Sub
    inherits Base (SQLAlchemy's generic bases: the MRO stopped at the text 'Base[int]' and self.clone() in
    Sub had no edge)."""
    truth = runtime(write_repo(tmp_path / "truth", GENERIC), "gen")
    assert truth == {30: "gen.Base.clone"}
    _, env, _ = index_repo(tmp_path, GENERIC)
    got = calls_of(env["CODEINTEL_DB"], "gen.Sub.go")
    assert got == {21: {"gen.Base.clone"}}, got  # the call on line 21 of gen.py, inside Sub.go
    # the MRO of each class, as CPython computed it (the classes outside the repository by module.qualname)
    cpython = json.loads(in_cpython(tmp_path / "truth", "import json, gen; print(json.dumps({c: "
                                    "[f'{k.__module__}.{k.__qualname__}'.removeprefix('builtins.') "
                                    "for k in getattr(gen, c).__mro__] for c in ('Sub', 'Pair')}))"))
    assert cpython["Sub"] == ["gen.Sub", "gen.Base", "typing.Generic", "object"]
    ours = mro_of(env["CODEINTEL_DB"])
    # in the repository: every class CPython lists, in its order, up to the first one outside it
    for cls in ("Sub", "Pair"):
        inside = []
        for q in cpython[cls]:
            if not q.startswith("gen."):
                break
            inside.append(q)
        assert ours[f"gen.{cls}"][:len(inside)] == inside, (cls, ours[f"gen.{cls}"], cpython[cls])
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        bases = c.execute("SELECT class_qualname, base_index, base_text, base_qualname, rule FROM cpg_inherits "
                          "WHERE class_qualname IN ('gen.Sub', 'gen.Pair') ORDER BY 1, 2").fetchall()
    assert [(q, i, t, b) for q, i, t, b, _ in bases] == [
        ("gen.Pair", 0, "dict[str, int]", "<builtin>.dict"), ("gen.Pair", 1, "Base[str]", "gen.Base"),
        ("gen.Sub", 0, "Base[int]", "gen.Base")]
    assert all(r != "unresolved" for *_, r in bases), bases


DESCRIPTORS = {
    "orm.py": RAN + '''


class memoized_property:
    """A non-data descriptor: the attribute is what the getter returns."""

    def __init__(self, fget):
        self.fget = fget

    def __get__(self, obj, cls):
        if obj is None:
            return self
        obj.__dict__[self.fget.__name__] = result = self.fget(obj)
        return result


class forwarding:
    """A method decorator that binds like a function and calls it."""

    def __init__(self, fn):
        self.fn = fn

    def __get__(self, obj, cls):
        return lambda *a: self(obj, *a)

    def __call__(self, obj, *a):
        return self.fn(obj, *a)


class State:
    def __init__(self, manager):
        self.made = ran()


class Manager:
    @memoized_property
    def state_factory(self):
        return State

    @forwarding
    def work(self, n):
        return ran()


def main():
    m = Manager()
    got = {}
    got[54] = m.state_factory(m).made
    got[55] = m.work(1)
    return got
'''}


def test_calling_a_descriptor_attribute_is_not_a_call_of_the_method_it_decorates(tmp_path):
    """`@memoized_property` (a class of the repository with __get__ and no __call__): `m.state_factory(m)` calls
    the class the getter returns (State), never the getter with the call's arguments (SQLAlchemy:
    `self.state_factory(self, instance)` had an edge to the getter, and its arguments were wired to the
    getter's parameters). A decorator class that defines __call__ forwards the call: that edge stays."""
    truth = runtime(write_repo(tmp_path / "truth", DESCRIPTORS), "orm")
    assert truth == {54: "orm.State.__init__", 55: "orm.Manager.work"}
    _, env, _ = index_repo(tmp_path, DESCRIPTORS)
    got = calls_of(env["CODEINTEL_DB"], "orm.main")
    assert "orm.Manager.state_factory" not in got.get(54, set()), got
    assert got.get(55) == {"orm.Manager.work"}, got
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        wired = c.execute("SELECT count(*) FROM cpg_binds_arg b JOIN cpg_calls k USING (callsite_id) "
                          "WHERE k.callee_qualname = 'orm.Manager.state_factory'").fetchall()
    assert wired == [(0,)]


STATIC = {
    "st.py": RAN + '''


class Other:
    def run(self):
        return ran()


class K:
    def run(self):
        return ran()

    @staticmethod
    def st(self):
        return self.run()

    def me(self):
        return self.run()


def main():
    got = {}
    got[29] = K.st(Other())
    got[30] = K().me()
    return got
'''}


def test_a_staticmethods_first_parameter_is_not_a_receiver(tmp_path):
    """A @staticmethod whose first parameter is named self: `self.run()` calls run on whatever the caller
    passed (here an Other), not K.run through K's MRO (the trial: such a call had a self_method edge)."""
    truth = runtime(write_repo(tmp_path / "truth", STATIC), "st")
    assert truth == {29: "st.Other.run", 30: "st.K.run"}
    _, env, _ = index_repo(tmp_path, STATIC)
    assert "st.K.run" not in calls_of(env["CODEINTEL_DB"], "st.K.st").get(21, set())
    assert calls_of(env["CODEINTEL_DB"], "st.K.me").get(24) == {"st.K.run"}


GENERATED = {
    "dc.py": '''
import dataclasses
from dataclasses import dataclass


class Base:
    def __init__(self, a):
        self.a = a


@dataclass
class D(Base):
    a: int
    b: int = 0


@dataclasses.dataclass(init=False)
class NoInit(Base):
    a: int


@dataclass
class Explicit:
    a: int

    def __init__(self, a):
        self.a = a


class Child(D):
    pass


def main():
    return [D(1, 2), NoInit(1), Explicit(1), Child(1)]
'''}


def test_a_class_whose_decorator_generates_init_is_constructed_by_that_init(tmp_path):
    """`@dataclass class D(Base)`: D(1, 2) runs the __init__ the decorator generated for D, never Base.__init__
    (the trial: a constructor edge to Base.__init__ at confidence 1.0, and D's fields wired to Base's
    parameters). The edge goes to the class itself (rule class) when CPython's __init__ for it was generated
    (its code is not in the file), else to the __init__ of the file that runs."""
    repo = write_repo(tmp_path / "truth", GENERATED)
    cpython = json.loads(in_cpython(repo, "import json, dc; print(json.dumps({type(o).__name__: "
                                    "[type(o).__init__.__qualname__, type(o).__init__.__code__.co_filename == dc.__file__] "
                                    "for o in dc.main()}))"))
    assert cpython == {"D": ["D.__init__", False], "NoInit": ["Base.__init__", True],
                       "Explicit": ["Explicit.__init__", True], "Child": ["D.__init__", False]}
    expected = {cls: ("dc." + init if in_file else f"dc.{cls}") for cls, (init, in_file) in cpython.items()}
    _, env, _ = index_repo(tmp_path, GENERATED)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        got = dict(c.execute("SELECT s.callee_text, k.callee_qualname FROM cpg_calls k JOIN cpg_call_sites s "
                             "USING (callsite_id) WHERE k.caller_qualname = 'dc.main'").fetchall())
        wired = c.execute("SELECT count(*) FROM cpg_binds_arg b JOIN cpg_calls k USING (callsite_id) "
                          "WHERE k.caller_qualname = 'dc.main' AND k.callee_qualname = 'dc.Base.__init__'").fetchall()
    assert got == expected, got
    assert wired == [(2,)]  # NoInit(1): the new object to self, its one argument to a


ALTERNATIVES = {
    "pkg/__init__.py": "",
    "pkg/_py.py": "class Thing:\n    def __init__(self):\n        self.impl = 'py'\n",
    "pkg/_alt.py": "class Thing:\n    def __init__(self):\n        self.impl = 'alt'\n",
    "pkg/c.py": "HAS_EXT = True\nif not HAS_EXT:\n    from ._py import Thing\nelse:\n    from ._alt import Thing\n\n\n"
                "def use():\n    return Thing()\n",
    "pkg/d.py": "from pkg.c import Thing\n\n\ndef use():\n    return Thing()\n",
    "pkg/e.py": "from pkg import c\n\n\ndef use():\n    return c.Thing()\n",
}


def test_a_name_bound_by_alternative_imports_splits_its_confidence_wherever_it_is_reached(tmp_path):
    """pkg.c binds Thing by one of two imports: each is 1/2 in c, and was 1.0 each in d and e, which import it
    from c (one call site's edges summing to 2.0, SQLAlchemy's compiled-or-pure-Python alternatives). Now 1/2
    each everywhere; the class CPython constructs (pkg._alt.Thing here) is one of the two."""
    repo = write_repo(tmp_path / "truth", ALTERNATIVES)
    ran = in_cpython(repo, "import pkg.c, pkg.d, pkg.e; print({m.use().impl for m in (pkg.c, pkg.d, pkg.e)})")
    assert ran == "{'alt'}"
    _, env, _ = index_repo(tmp_path, ALTERNATIVES)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = c.execute("SELECT path, callee_qualname, confidence FROM cpg_calls WHERE caller_qualname LIKE 'pkg.%.use' "
                         "ORDER BY 1, 2").fetchall()
    expected = [(f"pkg/{m}.py", f"pkg.{impl}.Thing.__init__", 0.5) for m in "cde" for impl in ("_alt", "_py")]
    assert [(p, q, round(x, 3)) for p, q, x in rows] == expected, rows


TYPED_ALIASES = {
    "pkg/__init__.py": "",
    "pkg/helpers.py": '''
from typing import TYPE_CHECKING


class _memoized:
    def __init__(self, fget):
        self.fget = fget

    def __get__(self, obj, cls):
        if obj is None:
            return self
        obj.__dict__[self.fget.__name__] = value = self.fget(obj)
        return value


if TYPE_CHECKING:
    memoized = property
else:
    memoized = ro_memoized = _memoized
''',
    "pkg/use.py": '''
from pkg import helpers


class State:
    def __init__(self, manager, instance):
        self.made = (type(manager).__name__, instance)


class Manager:
    @helpers.memoized
    def factory(self):
        return State

    def new(self, instance):
        return self.factory(self, instance)


def main():
    return [Manager().new(1).made, type(helpers.ro_memoized(len)).__name__]
'''}


def test_a_name_bound_under_type_checking_and_by_a_chained_assignment_means_its_runtime_value(tmp_path):
    """SQLAlchemy's `if TYPE_CHECKING: memoized_property = generic_fn_descriptor` / `else: memoized_property =
    ro_memoized_property = _memoized_property`: at runtime the name is the class of the `else` branch, bound
    by a chained assignment. Neither the chained assignment's names nor a name also bound under TYPE_CHECKING
    had a meaning, so `@util.memoized_property` resolved to nothing and the descriptor rule could not see it
    (`self._state_constructor(instance, self)` kept its edge to the getter). CPython: the decorator is
    pkg.helpers._memoized, the call constructs State."""
    repo = write_repo(tmp_path / "truth", TYPED_ALIASES)
    ran = in_cpython(repo, "import pkg.use as u, pkg.helpers as h; print(u.main(), "
                           "type(u.Manager.__dict__['factory']).__qualname__, h.memoized is h.ro_memoized is h._memoized)")
    assert ran == "[('Manager', 1), '_memoized'] _memoized True"
    _, env, _ = index_repo(tmp_path, TYPED_ALIASES)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        got = {(s, q) for s, q in c.execute(
            "SELECT s.callee_text, k.callee_qualname FROM cpg_calls k JOIN cpg_call_sites s USING (callsite_id) "
            "WHERE k.path = 'pkg/use.py'").fetchall()}
    assert ("helpers.memoized", "pkg.helpers._memoized.__init__") in got, got  # the decorator
    assert ("helpers.ro_memoized", "pkg.helpers._memoized.__init__") in got, got  # the chained name
    assert not any(q == "pkg.use.Manager.factory" for _, q in got), got  # a descriptor's getter: no call edge


DESCRIPTOR_EDIT = {
    "helpers.py": "class memo:\n    def __init__(self, fget):\n        self.fget = fget\n\n"
                  "    def __get__(self, obj, cls):\n        return self.fget(obj)\n",
    "models.py": "from helpers import memo\n\n\nclass M:\n    @memo\n    def f(self):\n        return 1\n",
    "user.py": "from models import M\n\n\ndef use():\n    return M().f()\n",
    # files the edit cannot affect: a link of under half the files is incremental (else it is a full one)
    **{f"other{i}.py": f"def g{i}():\n    return {i}\n" for i in range(6)},
}


def test_a_descriptor_class_made_callable_relinks_the_callers_of_what_it_decorates(tmp_path):
    """helpers.memo gains __call__: M().f() in user.py (which imports neither helpers nor memo) may now call
    f, so its edge comes back; the incremental link must reach user.py (it relinked only the files whose
    decorators call memo). The expected rows are those of a full re-index of the same files."""
    repo, env, _ = index_repo(tmp_path, DESCRIPTOR_EDIT)
    db = env["CODEINTEL_DB"]

    def edges():
        with duckdb.connect(db, read_only=True) as c:
            return c.execute("SELECT path, callee_qualname, rule FROM cpg_calls WHERE path = 'user.py' "
                             "ORDER BY ALL").fetchall()
    assert ("user.py", "models.M.f", "result_method") not in edges()  # a descriptor without __call__
    (repo / "helpers.py").write_text(DESCRIPTOR_EDIT["helpers.py"] + "\n    def __call__(self, obj):\n"
                                     "        return self.fget(obj)\n")
    from tests.conftest import run_cli
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    from dagster import AssetKey, DagsterInstance
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        meta = instance.get_latest_materialization_event(AssetKey("cpg_calls")).asset_materialization.metadata
    assert meta["full"].value is False, meta  # an incremental link
    incremental = edges()
    assert run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)[0] == 0
    assert incremental == edges() and ("user.py", "models.M.f", "result_method") in incremental, incremental
