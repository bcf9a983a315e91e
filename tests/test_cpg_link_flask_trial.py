"""What a user trial on Werkzeug 3.1 / Flask 3.1 with runtime ground truth found (session AC).

Each fixture is run in a plain interpreter: a callee reports the line of its own `def` (``where()``), so the
expected edges are CPython's, not the extractor's; the wiring is compared with `inspect.signature(...).bind`.
One index serves every test.
"""

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

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/passed.py": PASSED}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "flask_trial", FILES)[:2]


def edges(db: str, caller: str) -> list[tuple[str, int, str, float]]:
    return nx_edges(db, caller, except_rules=('constructor', 'class'))


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
