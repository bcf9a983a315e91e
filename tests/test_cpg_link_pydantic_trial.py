"""What a user trial on pydantic 2.14.4 found (session AT): pydantic imports its own classes lazily through cached
factories (`_import_utils.py`: `def import_cached_field_info(): from pydantic.fields import FieldInfo; return
FieldInfo`), then calls the class's static and class methods on the result (`FieldInfo =
import_cached_field_info()`, `FieldInfo.from_annotation(...)`): none of the six `from_annotation` calls had an edge.
What each call runs is CPython's: the fixture run in a plain interpreter, each callee reporting its own `def`.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, split

FIELDS = '''
from pkg.trace import where


class FieldInfo:
    def __init__(self, annotation):
        self.annotation = annotation

    @staticmethod
    def from_annotation(annotation):
        return where()

    @classmethod
    def merge(cls, *infos):
        return where()

    def describe(self):
        return where()
'''

CACHED = '''
from functools import cache


@cache
def import_cached_field_info():
    from pkg.fields import FieldInfo

    return FieldInfo


def current_info():
    from pkg import fields
    return fields.FieldInfo(int)
'''

USE = '''
from pkg.cached import current_info, import_cached_field_info


def bound_then_called():
    FieldInfo = import_cached_field_info()
    return FieldInfo.from_annotation(int), FieldInfo.merge()


def called_on_the_call():
    return import_cached_field_info().from_annotation(str)


def bound_twice(flag):
    FieldInfo = import_cached_field_info()
    if flag:
        FieldInfo = dict
    return FieldInfo.fromkeys("a")


def instance_returned():
    info = current_info()
    return info.describe()
'''


def _files(**modules: str) -> dict[str, str]:
    """The fixture package: pkg.trace, pkg.fields and the given modules (name -> source)."""
    return {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/fields.py": FIELDS,
            **{f"pkg/{name}.py": src for name, src in modules.items()}}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "pydantic", _files(cached=CACHED, use=USE))


def test_a_method_of_the_class_a_factory_returns_is_called(indexed):
    """`FieldInfo = import_cached_field_info()` (a cached function returning the class it imports), then
    `FieldInfo.from_annotation(...)` and `FieldInfo.merge()`: the static and the class method run (rule returned,
    the factory call's confidence). Before: no edge."""
    truth, db, _ = indexed
    ran_ = [split(w) for w in ran(truth, "from pkg.use import bound_then_called as f; print(*f())").split()]
    assert [q for q, _ in ran_] == ["pkg.fields.FieldInfo.from_annotation", "pkg.fields.FieldInfo.merge"]
    # (qualnames: a decorated function's co_firstlineno is its decorator's line, cpg_definitions has its def's)
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.use.bound_then_called")] == [
        ("pkg.cached.import_cached_field_info", "import", 1.0), (ran_[0][0], "returned", 1.0),
        (ran_[1][0], "returned", 1.0)]


def test_a_method_called_on_a_factory_call_is_reached(indexed):
    """`import_cached_field_info().from_annotation(str)`: the same, without the name."""
    truth, db, _ = indexed
    got = split(ran(truth, "from pkg.use import called_on_the_call as f; print(f())").strip())[0]
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.use.called_on_the_call")] == [
        ("pkg.cached.import_cached_field_info", "import", 1.0), (got, "returned", 1.0)]


def test_a_name_bound_twice_gets_no_returned_edge(indexed):
    """`FieldInfo = dict` on one branch: the call may be dict.fromkeys (CPython runs it with a true flag); the
    factory's class has no fromkeys, and no edge is made."""
    truth, db, _ = indexed
    assert ran(truth, "from pkg.use import bound_twice as f; print(f(True))").strip() == "{'a': None}"
    assert edges(db, "pkg.use.bound_twice") == [("pkg.cached.import_cached_field_info", 5, "import", 1.0)]


def test_a_returned_constructor_call_is_not_taken_for_the_class(indexed):
    """`return fields.FieldInfo(int)` returns an instance: `info.describe()` is the method called on it, never
    an attribute of the class object (no `returned` edge; the instance's method is the returns_method rule's, as
    for a function declared `-> FieldInfo`)."""
    truth, db, _ = indexed
    ran_here = split(ran(truth, "from pkg.use import instance_returned as f; print(f())").strip())[0]
    assert ran_here == "pkg.fields.FieldInfo.describe"
    got = [(callee, r) for callee, _, r, _ in edges(db, "pkg.use.instance_returned")]
    assert sorted(r for _, r in got) == ["import", "returns_method"], got
    assert [callee for callee, r in got if r == "returns_method"] == [ran_here]


def test_the_arguments_bind_as_for_the_class_spelled_out(indexed):
    """`FieldInfo.from_annotation(int)` binds `int` to `annotation` (what inspect.signature(...).bind says in
    CPython); `FieldInfo.merge()` binds cls implicitly and nothing else."""
    truth, db, _ = indexed
    assert ran(truth, "import inspect; from pkg.fields import FieldInfo; "
                      "print(dict(inspect.signature(FieldInfo.from_annotation).bind(int).arguments))").strip() == (
        "{'annotation': <class 'int'>}")
    with duckdb.connect(db, read_only=True) as c:
        got = c.execute("SELECT k.callee_qualname, b.param_name, b.implicit_receiver, a.text FROM cpg_binds_arg b "
                        "JOIN cpg_calls k USING (callsite_id, callee_def_id) LEFT JOIN cpg_call_args a USING (arg_id) "
                        "WHERE k.caller_qualname = 'pkg.use.bound_then_called' AND k.rule = 'returned' "
                        "ORDER BY ALL").fetchall()
    assert got == [("pkg.fields.FieldInfo.from_annotation", "annotation", False, "int"),
                   ("pkg.fields.FieldInfo.merge", "cls", True, None)]


@pytest.mark.parametrize("edit", ["rename_method", "return_another"])
def test_an_edit_of_the_class_or_the_factory_relinks_the_caller(tmp_path, edit):
    """The caller's file imports neither the class nor its module: renaming the static method (in fields.py), or
    making the factory return another class (in cached.py), must still change the caller's edges, as a full
    index of the edited files has them."""
    from tests.conftest import cli_env, run_cli, write_repo
    from tests.test_cpg_link_nx_trial import reindexed_as_full
    files = _files(cached=CACHED, use=USE)
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path / "inc")
    assert run_cli(["index", str(repo), "--json", "--workers", "1"], env)[0] == 0
    if edit == "rename_method":
        (repo / "pkg/fields.py").write_text(FIELDS.replace("def from_annotation", "def from_type"))
        want = [("pkg.cached.import_cached_field_info", "import"), ("pkg.fields.FieldInfo.merge", "returned")]
    else:
        (repo / "pkg/other.py").write_text("class Other:\n    @staticmethod\n    def from_annotation(a):\n"
                                           "        return a\n")
        (repo / "pkg/cached.py").write_text(CACHED.replace("from pkg.fields import FieldInfo",
                                                           "from pkg.other import Other as FieldInfo"))
        want = [("pkg.cached.import_cached_field_info", "import"), ("pkg.other.Other.from_annotation", "returned")]
    got = reindexed_as_full(tmp_path, repo, env, "pkg.use.bound_then_called")
    assert [(q, r) for q, _, r, _ in got] == want


def test_an_attribute_path_returned_is_not_looked_into(tmp_path):
    """`def top(): return datetime.max` returns an instance of datetime, not a namespace: `top().date()` runs
    datetime.date (CPython says so), which no path through `datetime.max` spells; no `returned` edge is made
    (pydantic's v1 datetime_parse had one to `datetime.datetime.max.date`)."""
    from tests.conftest import index_repo
    from tests.test_cpg_link_sqla_trial import in_cpython
    files = {"pkg/__init__.py": "", "pkg/t.py": "from datetime import datetime\n\n\ndef top():\n"
                                                "    return datetime.max\n\n\ndef use():\n    return top().date()\n"}
    repo, env, _ = index_repo(tmp_path, files)
    assert in_cpython(repo, "from pkg.t import top; print(type(top()).date is __import__('datetime').datetime.date)"
                      ).strip() == "True"
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:  # (external callees too: no definition)
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'pkg.t.use'").fetchall() == [
            ("pkg.t.top", "local")]


def test_what_a_constructor_returns_is_not_looked_into(tmp_path):
    """`K().m()` and `k = K(); k.m()`: a call of the class makes an instance, whatever its __new__ returns by name
    (here `return base`, a class): m is K's method (the instance rules), never looked up on `base`."""
    from tests.conftest import index_repo
    from tests.test_cpg_link_sqla_trial import in_cpython
    src = ("class Base:\n    @staticmethod\n    def m():\n        return 'Base.m'\n\n\n"
           "class K:\n    def __new__(cls, flag=False):\n        base = Base\n        if flag:\n            return base\n"
           "        return super().__new__(cls)\n\n    def m(self):\n        return 'K.m'\n\n\n"
           "def use():\n    k = K()\n    return K().m(), k.m()\n")
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/k.py": src})
    assert in_cpython(repo, "from pkg.k import use; print(*use())").split() == ["K.m", "K.m"]
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        got = c.execute("SELECT DISTINCT callee_qualname FROM cpg_calls WHERE caller_qualname = 'pkg.k.use' "
                        "ORDER BY ALL").fetchall()
    assert ("pkg.k.Base.m",) not in got and ("pkg.k.K.m",) in got, got


TYPED = '''
from typing import Optional, Type

from pkg.fields import FieldInfo


def field_class() -> type[FieldInfo]:
    return _registry["field"]


def maybe_class() -> Optional[Type["FieldInfo"]]:
    return _registry.get("field")


_registry = {"field": FieldInfo}


def use():
    cls = field_class()
    return cls.from_annotation(int), maybe_class().merge(), cls(int).annotation
'''

FUTURE = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pkg.fields import FieldInfo


def lazy() -> type[FieldInfo]:
    from pkg.fields import FieldInfo
    return FieldInfo


def either(flag):
    from pkg.fields import FieldInfo
    if flag:
        return FieldInfo
    return FieldInfo


class Special(FieldInfo if TYPE_CHECKING else object):
    @staticmethod
    def from_annotation(annotation):
        from pkg.trace import where
        return where()


def special() -> type[FieldInfo]:
    return Special


def use():
    return lazy().from_annotation(bytes), either(True).from_annotation(str), special().from_annotation(int)
'''


@pytest.fixture(scope="module")
def typed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "typed", _files(typed=TYPED, future=FUTURE))


def test_a_function_declared_to_return_a_class_returns_that_class(typed):
    """`def field_class() -> type[FieldInfo]` (its body a dict lookup the link cannot read), then `cls =
    field_class()`: `cls.from_annotation(...)` runs the static method, `cls(int)` constructs a FieldInfo, and
    `maybe_class().merge()` (`Optional[Type["FieldInfo"]]`) the class method, as CPython runs them (rule returned).
    Before: no edge from any of the three."""
    truth, db, _ = typed
    out = ran(truth, "from pkg.typed import use; print(*use(), sep='|')").strip().split("|")
    assert [split(w)[0] for w in out[:2]] == ["pkg.fields.FieldInfo.from_annotation", "pkg.fields.FieldInfo.merge"]
    assert out[2] == "<class 'int'>"  # (the instance's annotation attribute: __init__ ran with int)
    got = {(q, r, c) for q, _, r, c in edges(db, "pkg.typed.use")}
    assert got == {("pkg.typed.field_class", "local", 1.0), ("pkg.typed.maybe_class", "local", 1.0),
                   ("pkg.fields.FieldInfo.from_annotation", "returned", 1.0), ("pkg.fields.FieldInfo.merge", "returned", 1.0),
                   ("pkg.fields.FieldInfo.__init__", "returned", 1.0)}, got
    with duckdb.connect(db, read_only=True) as c:  # cls(int): int binds annotation, self is the new instance
        assert c.execute("SELECT b.param_name, a.text FROM cpg_binds_arg b JOIN cpg_call_args a ON a.arg_id = b.arg_id "
                         "JOIN cpg_calls k ON k.callsite_id = b.callsite_id AND k.callee_def_id = b.callee_def_id "
                         "WHERE k.callee_qualname = "
                         "'pkg.fields.FieldInfo.__init__' AND k.caller_qualname = 'pkg.typed.use'").fetchall() == [
            ("annotation", "int")]


def test_the_class_the_body_returns_wins_and_one_class_is_one_callee(typed):
    """Under `from __future__ import annotations` (FieldInfo imported under `if TYPE_CHECKING:`): `lazy()` returns
    the class its annotation declares; `either(flag)` returns one class from two branches: one callee with the
    whole confidence (it was half, one per `return`); `special()` is declared `-> type[FieldInfo]` and returns a
    class of its own, whose method runs (CPython): the body's class, not the declared one."""
    truth, db, _ = typed
    out = [split(w)[0] for w in ran(truth, "from pkg.future import use; print(*use())").split()]
    assert out == ["pkg.fields.FieldInfo.from_annotation", "pkg.fields.FieldInfo.from_annotation",
                   "pkg.future.Special.from_annotation"]
    assert sorted({(q, r, c) for q, _, r, c in edges(db, "pkg.future.use")}) == [
        ("pkg.fields.FieldInfo.from_annotation", "returned", 1.0), ("pkg.future.Special.from_annotation", "returned", 1.0),
        ("pkg.future.either", "local", 1.0), ("pkg.future.lazy", "local", 1.0), ("pkg.future.special", "local", 1.0)]
