"""A module-level name bound at several sites: each branch of an `if` / `try` is a meaning, a later site replaces
an earlier one.

scikit-learn's utils/fixes.py and compatibility modules everywhere bind one name by a `def` in one branch and an
assignment or an import in another. The link took such a name to mean nothing in its own module (an assignment
beside a `def`), reached only the `def` at 1.0 from an importer, and dropped a name assigned the same value in
both branches. What is right is what CPython runs: the fixture's modules read a flag at import time (not
decidable statically), and each call is run with the flag off and on; the functions report the line of their
own `def`. One index serves every test.
"""

import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, split

COMPAT = '''
from pkg import flags
from pkg.trace import where


def g():
    return where()


def _safe_repr():
    return where()


if flags.ON:
    def h():
        return where()
    saferepr = _safe_repr
else:
    h = g
    saferepr = _safe_repr

try:
    if flags.ON:
        raise ImportError
    from pkg.fast import speedy
except ImportError:
    def speedy():
        return where()


def f():
    return where()


f = g  # replaces the def: f is g once the module has run

if flags.ON:
    k = _safe_repr
k = g  # at the top level, after the branch: k is g either way


def call_h():
    return h()


def call_saferepr():
    return saferepr()


def call_speedy():
    return speedy()


def call_f():
    return f()


def call_k():
    return k()
'''

USER = '''
from pkg.compat import f, h, k, saferepr, speedy


def call_h():
    return h()


def call_saferepr():
    return saferepr()


def call_speedy():
    return speedy()


def call_f():
    return f()


def call_k():
    return k()
'''

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/flags.py": "ON = False\n", "pkg/compat.py": COMPAT,
         "pkg/fast.py": "from pkg.trace import where\n\n\ndef speedy():\n    return where()\n", "pkg/user.py": USER}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "rebinding", FILES)[:2]


def targets(truth, module: str, fn: str) -> list[tuple[str, int]]:
    """What CPython runs for ``module.fn()`` with the flag off and on: (qualname, line of the def), sorted."""
    return sorted({split(ran(truth, f"import pkg.flags; pkg.flags.ON = {on}\nfrom {module} import {fn}\nprint({fn}())"))
                   for on in (False, True)})


def test_a_def_in_one_branch_and_an_assignment_in_the_other_reach_both(indexed):
    truth, db = indexed
    ran_h = targets(truth, "pkg.compat", "call_h")
    assert [q for q, _ in ran_h] == ["pkg.compat.g", "pkg.compat.h"]
    # in its own module: the def (rule local) and the assigned function (rule alias), 1/2 each (before: no edge)
    assert edges(db, "pkg.compat.call_h") == [(*ran_h[0], "alias", 0.5), (*ran_h[1], "local", 0.5)]
    # from an importer: the same two, 1/2 each (before: the def alone, at 1.0)
    assert targets(truth, "pkg.user", "call_h") == ran_h
    assert edges(db, "pkg.user.call_h") == [(*t, "import", 0.5) for t in ran_h]


def test_the_same_value_assigned_in_both_branches_is_one_meaning(indexed):
    truth, db = indexed
    ran_s = targets(truth, "pkg.compat", "call_saferepr")
    assert len(ran_s) == 1
    assert edges(db, "pkg.compat.call_saferepr") == [(*ran_s[0], "alias", 1.0)]  # before: no edge
    assert edges(db, "pkg.user.call_saferepr") == [(*ran_s[0], "import", 1.0)]  # before: no edge


def test_an_import_under_try_and_a_def_under_except_reach_both_from_an_importer(indexed):
    truth, db = indexed
    ran_sp = targets(truth, "pkg.compat", "call_speedy")
    assert [q for q, _ in ran_sp] == ["pkg.compat.speedy", "pkg.fast.speedy"]
    assert edges(db, "pkg.compat.call_speedy") == [(*ran_sp[0], "local", 0.5), (*ran_sp[1], "import", 0.5)]
    # before: pkg.compat.speedy alone, at 1.0
    assert edges(db, "pkg.user.call_speedy") == [(*t, "import", 0.5) for t in ran_sp]


def test_a_later_site_replaces_an_earlier_one(indexed):
    """`def f` then `f = g`; `if ...: k = _safe_repr` then `k = g` at the top level: g, and nothing else."""
    truth, db = indexed
    for fn in ("call_f", "call_k"):
        ran_g = targets(truth, "pkg.compat", fn)
        assert [q for q, _ in ran_g] == ["pkg.compat.g"]
        assert edges(db, f"pkg.compat.{fn}") == [(*ran_g[0], "alias", 1.0)]  # before: no edge
        assert edges(db, f"pkg.user.{fn}") == [(*ran_g[0], "import", 1.0)]  # before: f's own def at 1.0; k: none
