"""Call edges a user trial on scikit-learn 1.9 found missing. What is right is what CPython runs: the fixture's
modules are executed in a plain interpreter and each called function reports the line of its own ``def``."""

import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, split

FILES = {
    "pkg/__init__.py": "",
    "pkg/trace.py": WHERE,
    # sklearn/base.py: ClassifierMixin.__sklearn_tags__ calls super().__sklearn_tags__(); the mixin has no base
    # with the method, BaseEstimator (after it in every estimator's MRO) does
    "pkg/base.py": '''
from pkg.trace import where


class Base:
    def tags(self):
        return where()


class Mixin:
    def tags(self):
        return super().tags()


class Root:
    def tags(self):
        return where()


class RootedMixin(Root):
    def tags(self):
        return super().tags()


class Est(Mixin, Base):
    pass


class Rooted(RootedMixin, Base):
    pass
''',
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "sk", FILES)[:2]


def test_super_in_a_mixin_whose_own_mro_has_no_method_reaches_the_next_class_of_a_subclass(indexed):
    """super().tags() in Mixin: Mixin's MRO (Mixin, object) has no tags after Mixin, but on an Est (Est, Mixin,
    Base) it is Base.tags. The super_subclass rule only looked at calls the super rule had resolved: no edge
    (61 such site/target pairs in scikit-learn, `super().__sklearn_tags__()` in its mixins)."""
    truth, db = indexed
    runs = split(ran(truth, "from pkg.base import Est; print(Est().tags())"))
    assert runs[0] == "pkg.base.Base.tags"
    assert edges(db, "pkg.base.Mixin.tags") == [(*runs, "super_subclass", 0.72)]


def test_super_with_a_target_in_its_own_mro_keeps_it_and_adds_the_subclass_one(indexed):
    """RootedMixin's own MRO has Root.tags after it (the super rule, 0.9); under Rooted (RootedMixin, Root,
    Base) it is Root.tags too: no second edge to it. (Before and after the change: the mixin case above must
    not change this one.)"""
    truth, db = indexed
    runs = split(ran(truth, "from pkg.base import Rooted; print(Rooted().tags())"))
    assert runs[0] == "pkg.base.Root.tags"
    assert edges(db, "pkg.base.RootedMixin.tags") == [(*runs, "super", 0.9)]


def test_a_name_bound_by_an_assignment_in_another_branch_wires_the_defs_own_parameters(tmp_path):
    """sklearn/utils/fixes.py: `if new_scipy: _sparse_linalg_cg = scipy.sparse.linalg.cg` / `else: def
    _sparse_linalg_cg(A, b, **kwargs)`. With --inspect, the module's member (scipy's cg) lent its signature to
    the def: cpg_binds_arg rows of the edge to the def named cg's parameters, with no parameter definition
    (3 rows in sklearn). The member is the def's object only when the name is bound by def statements alone or
    the member's code is the def's; here the def's own parameters are wired, as inspect binds the def."""
    import inspect
    import json
    import textwrap

    from tests.conftest import index_repo
    fixes = textwrap.dedent('''
        import os
        import random

        if os.sep == "/":
            pick = random.randint
        else:
            def pick(lo, hi, *, seed=None):
                return lo
        ''').lstrip()
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/fixes.py": fixes,
                                         "pkg/use.py": "from pkg.fixes import pick\n\n\ndef f():\n    return pick(1, 2)\n"})
    from tests.conftest import run_cli
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect", "--inspect-workers", "1"],
                             env)
    assert code == 0, err
    # CPython: at runtime pick is random.randint (parameters a, b); the def binds (1, 2) to lo, hi
    runtime = ran(repo, "import inspect; from pkg.fixes import pick; print(list(inspect.signature(pick).parameters))")
    assert runtime == "['a', 'b']"
    ns: dict = {}
    exec(fixes.split("else:\n", 1)[1].replace("\n    ", "\n").strip(), ns)  # the def alone
    assert dict(inspect.signature(ns["pick"]).bind(1, 2).arguments) == {"lo": 1, "hi": 2}
    import duckdb
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = c.execute("SELECT b.param_name, p.name, a.text FROM cpg_binds_arg b JOIN cpg_definitions d "
                         "ON d.def_id = b.callee_def_id AND d.kind = 'function' LEFT JOIN cpg_definitions p "
                         "ON p.def_id = b.param_def_id JOIN cpg_call_args a USING (arg_id) "
                         "WHERE d.qualname = 'pkg.fixes.pick' ORDER BY a.text").fetchall()
    assert rows == [("lo", "lo", "1"), ("hi", "hi", "2")], json.dumps(rows)
