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
