"""A call through a declared or returned type whose method is abstract reaches the subclasses' overrides.

requests' `adapter = self.get_adapter(url); adapter.send(...)`: `get_adapter` is declared to return a
`BaseAdapter`, whose `send` raises NotImplementedError; what runs is `HTTPAdapter.send`. The `annotation` and
`returns_method` rules reached only the abstract method. What is right is what CPython runs: the fixture's
code is executed in a plain interpreter, each concrete method reports the line of its own `def`
(``co_firstlineno``). One index serves the static tests; the incremental ones index their own copy.
"""

import duckdb
import pytest

from tests.conftest import index_repo, run_cli
from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split

BASE = '''
import abc

from pkg.trace import where


class Adapter:
    def send(self, request):
        """Sends a request (subclasses do)."""
        raise NotImplementedError

    def close(self):
        raise NotImplementedError("close")

    def name(self):
        return where()


class Store(abc.ABC):
    @abc.abstractmethod
    def get(self, key):
        ...


class Concrete:
    def run(self):
        return where()
'''

IMPLS = '''
from pkg.base import Adapter, Concrete, Store
from pkg.trace import where


class HTTPAdapter(Adapter):
    def send(self, request):
        return where()

    def close(self):
        return where()


class RetryingAdapter(HTTPAdapter):
    def send(self, request):
        return where()


class Quiet(Adapter):  # inherits the abstract send: nothing to add for it
    def name(self):
        return where()


class MemStore(Store):
    def get(self, key):
        return where()


class Busy(Concrete):  # overrides a concrete method: a declared Concrete reaches Concrete.run only
    def run(self):
        return where()
'''

USE = '''
from pkg.base import Adapter, Concrete, Store
from pkg.impls import HTTPAdapter, MemStore, RetryingAdapter


def get_adapter(url) -> Adapter:
    return RetryingAdapter() if url else HTTPAdapter()


def by_annotation(a: Adapter, url):
    return a.send(url)


def by_return(url):
    adapter = get_adapter(url)
    return adapter.send(url)


def closing(a: Adapter):
    return a.close()


def naming(a: Adapter):
    return a.name()


def storing(s: Store):
    return s.get("k")


def concrete(c: Concrete):
    return c.run()
'''

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/base.py": BASE, "pkg/impls.py": IMPLS,
         "pkg/use.py": USE}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "abstract", FILES)[:2]


def calls(db: str, caller: str) -> dict[tuple[str, int], tuple[str, float]]:
    """(callee qualname, line of its def) -> (rule, confidence) of the calls out of ``caller``."""
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT k.callee_qualname, d.lineno, k.rule, round(k.confidence::DOUBLE, 4) FROM cpg_calls k "
                         "JOIN cpg_definitions d ON d.def_id = k.callee_def_id WHERE k.caller_qualname = ?",
                         [caller]).fetchall()
    return {(q, line): (rule, conf) for q, line, rule, conf in rows}


def runs(truth, code: str) -> tuple[str, int]:
    return split(ran(truth, code))


def test_a_declared_type_whose_method_raises_not_implemented_reaches_each_override(indexed):
    truth, db = indexed
    http = runs(truth, "from pkg.impls import HTTPAdapter; from pkg.use import by_annotation; "
                       "print(by_annotation(HTTPAdapter(), 'u'))")
    retrying = runs(truth, "from pkg.impls import RetryingAdapter; from pkg.use import by_annotation; "
                           "print(by_annotation(RetryingAdapter(), 'u'))")
    assert http[0] == "pkg.impls.HTTPAdapter.send" and retrying[0] == "pkg.impls.RetryingAdapter.send"
    got = calls(db, "pkg.use.by_annotation")
    # the declared type's method stays (0.8: the annotation rule), each override shares that confidence
    assert got[http] == ("abstract_override", 0.4) and got[retrying] == ("abstract_override", 0.4)
    assert {rule for rule, _ in got.values()} == {"annotation", "abstract_override"} and len(got) == 3
    # the wiring of each override: as inspect binds the call (the receiver to self, `url` to request)
    bound = ran(truth, "import inspect, json; from pkg.impls import HTTPAdapter, RetryingAdapter\n"
                       "print(json.dumps([list(inspect.signature(k.send).bind('<a>', '<url>').arguments.items())"
                       " for k in (HTTPAdapter, RetryingAdapter)]))")
    assert bound == '[[["self", "<a>"], ["request", "<url>"]], [["self", "<a>"], ["request", "<url>"]]]'
    with duckdb.connect(db, read_only=True) as c:
        wired = c.execute("SELECT d.qualname, b.param_name, a.text FROM cpg_binds_arg b JOIN cpg_definitions d "
                          "ON d.def_id = b.callee_def_id LEFT JOIN cpg_call_args a USING (arg_id) "
                          "WHERE b.rule = 'abstract_override' AND b.callsite_id IN (SELECT callsite_id FROM "
                          "cpg_call_sites WHERE caller_qualname = 'pkg.use.by_annotation') ORDER BY ALL").fetchall()
    assert wired == [(f"pkg.impls.{k}.send", p, t) for k in ("HTTPAdapter", "RetryingAdapter")
                     for p, t in (("request", "url"), ("self", None))]
    # Quiet inherits the abstract send: calling it raises, it adds no target
    quiet = ran(truth, "from pkg.impls import Quiet\ntry:\n    Quiet().send(1)\nexcept NotImplementedError:\n"
                       "    print('raises')")
    assert quiet == "raises"


def test_a_returned_type_reaches_the_overrides_too(indexed):
    truth, db = indexed
    targets = {runs(truth, f"from pkg.use import by_return; print(by_return({u!r}))") for u in ("", "u")}
    got = calls(db, "pkg.use.by_return")
    assert {k for k, (rule, _) in got.items() if rule == "abstract_override"} == targets
    assert any(rule == "returns_method" for rule, _ in got.values())


def test_an_abstractmethod_and_a_raise_with_a_message_are_abstract(indexed):
    truth, db = indexed
    mem = runs(truth, "from pkg.impls import MemStore; from pkg.use import storing; print(storing(MemStore()))")
    assert calls(db, "pkg.use.storing")[mem] == ("abstract_override", 0.8)
    close = runs(truth, "from pkg.impls import HTTPAdapter; from pkg.use import closing; print(closing(HTTPAdapter()))")
    # RetryingAdapter inherits HTTPAdapter.close: one override for both subclasses
    assert calls(db, "pkg.use.closing")[close] == ("abstract_override", 0.8)


def test_a_concrete_method_adds_no_override_edges(indexed):
    """Adapter.name and Concrete.run are concrete: a declared Adapter / Concrete may run them (no edge added to
    Quiet.name or Busy.run, as before this rule: precision first)."""
    truth, db = indexed
    assert {rule for rule, _ in calls(db, "pkg.use.naming").values()} == {"annotation"}
    assert {rule for rule, _ in calls(db, "pkg.use.concrete").values()} == {"annotation"}
    assert runs(truth, "from pkg.base import Concrete; from pkg.use import concrete; print(concrete(Concrete()))")[0] \
        == "pkg.base.Concrete.run"


def test_a_new_subclass_in_another_file_relinks_the_callers(tmp_path):
    """A file added with a subclass: use.py (which imports neither it nor anything that imports it) gains the
    override edge; the incremental link's rows are those of a full re-index."""
    repo, env, _ = index_repo(tmp_path, FILES)
    db = env["CODEINTEL_DB"]

    def edges():
        with duckdb.connect(db, read_only=True) as c:
            return c.execute("SELECT caller_qualname, callee_qualname, rule, round(confidence::DOUBLE, 4) FROM cpg_calls "
                             "WHERE path = 'pkg/use.py' ORDER BY ALL").fetchall()
    before = edges()
    (repo / "pkg/extra.py").write_text("from pkg.base import Store\n\n\nclass DiskStore(Store):\n"
                                       "    def get(self, key):\n        return 'disk'\n")
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    after = edges()
    # two overrides now share storing's call: DiskStore's is new, MemStore's falls from 0.8 to 0.4
    assert sorted(set(after) - set(before)) == [
        ("pkg.use.storing", "pkg.extra.DiskStore.get", "abstract_override", 0.4),
        ("pkg.use.storing", "pkg.impls.MemStore.get", "abstract_override", 0.4)]
    assert sorted(set(before) - set(after)) == [("pkg.use.storing", "pkg.impls.MemStore.get", "abstract_override", 0.8)]
    assert run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)[0] == 0
    assert edges() == after
    # and the subclass removed again: its edge goes, MemStore's share comes back
    (repo / "pkg/extra.py").unlink()
    assert run_cli(["index", str(repo), "--json", "--workers", "1"], env)[0] == 0
    assert edges() == before
