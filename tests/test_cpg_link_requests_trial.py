"""Call edges and argument wiring a user trial on requests 2.34, urllib3 2.8 and idna found wrong. What is right
is what CPython runs: the fixture's modules are executed in a plain interpreter, each called function reports
the line of its own ``def`` (``co_firstlineno``), and ``inspect.signature(...).bind`` says where an argument
goes. One index of one fixture package serves every test here."""

import json

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split

FILES = {
    "pkg/__init__.py": "",
    "pkg/trace.py": WHERE,
    # requests/utils.py: `from urllib.request import proxy_bypass` and a Windows-only `def proxy_bypass` under
    # `if sys.platform == "win32":`; the import is what runs here
    "pkg/plat.py": '''
import sys
from os.path import basename

from pkg.trace import where

if sys.platform == "win32":
    def basename(p):
        return where()


def main():
    return basename("/a/b")
''',
    # requests/sessions.py: `dict_class(to_key_val_list(...))` with dict_class=CaseInsensitiveDict passed in
    "pkg/factory.py": '''
import inspect

from pkg.trace import where


class Box:
    def __init__(self, data=None, **kw):
        self.data = data
        self.made_by = where()


def make(factory=dict):
    return factory([("a", 1)])


def main():
    return make(factory=Box).made_by


def bound():
    """Where make's argument goes in Box.__init__, as inspect binds it (the instance first)."""
    return dict(inspect.signature(Box.__init__).bind("<new>", [("a", 1)]).arguments)
''',
    # super(B, self).m() in C(B): the lookup starts after B in C's MRO
    "pkg/sup.py": '''
from pkg.trace import where


class A:
    def m(self):
        return where()


class B(A):
    def m(self):
        return where()


class C(B):
    def m(self):
        return super(B, self).m()


class D(B):
    def m(self):
        return super(D, self).m()
''',
    # a def, then `from m import *` whose m exports the same name: the star import rebinds it
    "pkg/fast.py": '''
from pkg.trace import where

__all__ = ["escape"]


def escape(s):
    return where()
''',
    "pkg/star.py": '''
from pkg.trace import where


def escape(s):
    return where()


from pkg.fast import *  # noqa: E402,F403


def main():
    return escape("x")
''',
    # ... and a star import before the def: the def rebinds the name
    "pkg/star_first.py": '''
from pkg.fast import *  # noqa: F403
from pkg.trace import where


def escape(s):
    return where()


def main():
    return escape("x")
''',
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "requests", FILES)[:2]


def calls(db: str, caller: str) -> list[tuple[str, str, float]]:
    """(callee qualname, rule, confidence) of the calls out of ``caller`` (the fixture's tracer left out)."""
    with duckdb.connect(db, read_only=True) as c:
        return c.execute("SELECT callee_qualname, rule, round(confidence::DOUBLE, 4) FROM cpg_calls "
                         "WHERE caller_qualname = ? AND callee_qualname NOT LIKE 'pkg.trace.%' ORDER BY ALL",
                         [caller]).fetchall()


def test_an_import_beside_a_def_under_a_platform_test_keeps_its_external_edge(indexed):
    """`from os.path import basename` and a `def basename` under `if sys.platform == "win32":`: two meanings,
    1/2 each. Before, the def the repository has hid the import it lacks: one edge, to a def that never runs
    here."""
    truth, db = indexed
    assert ran(truth, "import pkg.plat as m, os.path; print(m.basename is os.path.basename)") == "True"
    assert calls(db, "pkg.plat.main") == [("os.path.basename", "external", 0.45), ("pkg.plat.basename", "local", 0.5)]


def test_a_class_passed_as_an_argument_gets_its_instance_as_self(indexed):
    """factory(x) where factory is the class Box: x goes to Box.__init__'s `data`, the instance to `self`
    (before: x to `self`, no receiver)."""
    truth, db = indexed
    made_by = split(ran(truth, "from pkg.factory import main; print(main())"))
    assert made_by[0] == "pkg.factory.Box.__init__"
    bound = json.loads(ran(truth, "import json; from pkg.factory import bound; print(json.dumps(bound()))"))
    assert bound == {"self": "<new>", "data": [["a", 1]]}
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT b.param_name, b.implicit_receiver, b.arg_ast_node_id = s.ast_node_id, a.text "
                         "FROM cpg_binds_arg b JOIN cpg_call_sites s USING (callsite_id) "
                         "LEFT JOIN cpg_call_args a USING (arg_id) "
                         "WHERE s.caller_qualname = 'pkg.factory.make' ORDER BY b.param_name").fetchall()
    # the instance is what the call makes (the call node), the list is the first argument
    assert rows == [("data", False, False, '[("a", 1)]'), ("self", True, True, None)]


def test_super_with_a_class_starts_after_that_class(indexed):
    """super(B, self).m() in C(B) runs A.m (after B in C's MRO); super(D, self).m() in D runs B.m, as super()
    does (before: B.m for both)."""
    truth, db = indexed
    assert calls(db, "pkg.sup.C.m") == [("<builtin>.super", "builtin", 1.0),
                                        (split(ran(truth, "from pkg.sup import C; print(C().m())"))[0], "super", 0.9)]
    assert calls(db, "pkg.sup.D.m") == [("<builtin>.super", "builtin", 1.0),
                                        (split(ran(truth, "from pkg.sup import D; print(D().m())"))[0], "super", 0.9)]


def test_a_star_import_after_a_def_rebinds_the_name(indexed):
    """`def escape` then `from pkg.fast import *` (which exports escape): the star import's escape runs (before:
    the def, at 1.0); with the star import first, the def's."""
    truth, db = indexed
    after = split(ran(truth, "from pkg.star import main; print(main())"))
    first = split(ran(truth, "from pkg.star_first import main; print(main())"))
    assert after[0] == "pkg.fast.escape" and first[0] == "pkg.star_first.escape"
    assert calls(db, "pkg.star.main") == [(after[0], "star_import", 1.0)]
    assert calls(db, "pkg.star_first.main") == [(first[0], "local", 1.0)]
