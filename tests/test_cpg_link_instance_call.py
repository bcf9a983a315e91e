"""Calling an instance runs its class's `__call__`.

rich's `highlighter = ReprHighlighter(); highlighter(text)` runs `Highlighter.__call__`; `h.m()` on the same
binding had an `instance_method` edge, `h(...)` had none. What is right is what CPython runs: the fixture's code is
executed in a plain interpreter, each `__call__` reports the line of its own `def`; the wiring is compared with
`inspect.signature(...).bind`. One index serves every test.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split
from tests.test_cpg_link_nx_trial import edges as nx_edges

SHAPES = '''
from pkg.trace import where


class Base:
    def __call__(self, n):
        return where()


class Hi(Base):
    pass


class Own:
    def __call__(self, n):
        return where()


class NoCall:
    pass


def use_instance():
    h = Hi()
    return h(3)


def use_branches(flag):
    g = Hi() if flag else Own()
    return g(1)


def use_no_call():
    x = NoCall()
    try:
        return x()
    except TypeError:
        return "TypeError"


class Maker:
    @classmethod
    def make(cls, n):
        return where()


def use_alias():
    make = Maker.make
    return make(5)
'''

# module-level instances used from other modules (`app = Flask()` then `from app import app; app.route(...)`)
SINGLETONS = '''
import os

from pkg.shapes import Hi, Own
from pkg.trace import where


class Registry:
    def register(self, name):
        return where()


registry = Registry()
PAL = Hi()
if os.environ.get("FIXTURE_OWN"):
    either = Own()
else:
    either = Hi()
'''

CLIENT = '''
from pkg.api import registry
from pkg.singletons import PAL, either


def use_registry():
    return registry.register("x")


def use_pal():
    return PAL(7)


def use_either():
    return either(1)
'''

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/shapes.py": SHAPES, "pkg/singletons.py": SINGLETONS,
         "pkg/api/__init__.py": "from pkg.singletons import registry\n", "pkg/client.py": CLIENT}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "instance_call", FILES)[:2]


def edges(db: str, caller: str) -> list[tuple[str, int, str, float]]:
    return nx_edges(db, caller, except_rules=('constructor', 'class'))


def test_an_instance_called_reaches_its_class_dunder_call_along_the_mro(indexed):
    truth, db = indexed
    target = split(ran(truth, "from pkg.shapes import use_instance; print(use_instance())"))
    assert target[0] == "pkg.shapes.Base.__call__"  # inherited: Hi defines none
    assert edges(db, "pkg.shapes.use_instance") == [(*target, "instance_call", 1.0)]  # before: no edge
    # the instance is the receiver, 3 is n: as inspect binds the call
    bound = ran(truth, "import inspect; from pkg.shapes import Hi\n"
                       "print(list(inspect.signature(Hi.__call__).bind('<h>', '<3>').arguments))")
    assert bound == "['self', 'n']"
    with duckdb.connect(db, read_only=True) as c:
        wired = c.execute("SELECT b.param_name, a.text, b.implicit_receiver FROM cpg_binds_arg b "
                          "LEFT JOIN cpg_call_args a USING (arg_id) WHERE b.callsite_id IN (SELECT callsite_id FROM "
                          "cpg_call_sites WHERE caller_qualname = 'pkg.shapes.use_instance' AND callee_text = 'h') "
                          "ORDER BY ALL").fetchall()
        receiver = c.execute("SELECT n.kind, n.name FROM cpg_binds_arg b JOIN py_ast_nodes n ON n.ast_node_id = b.arg_ast_node_id "
                             "WHERE b.implicit_receiver AND b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites "
                             "WHERE caller_qualname = 'pkg.shapes.use_instance' AND callee_text = 'h')").fetchall()
    assert wired == [("n", "3", False), ("self", None, True)]
    assert receiver == [("Name", "h")]  # the instance is the receiver


def test_an_instance_of_one_of_two_classes_reaches_either_dunder_call(indexed):
    truth, db = indexed
    runs = sorted(split(ran(truth, f"from pkg.shapes import use_branches; print(use_branches({f}))"))
                  for f in (True, False))
    assert [q for q, _ in runs] == ["pkg.shapes.Base.__call__", "pkg.shapes.Own.__call__"]
    assert edges(db, "pkg.shapes.use_branches") == [(*r, "instance_call", 0.5) for r in runs]


def test_a_class_without_dunder_call_gives_no_edge(indexed):
    truth, db = indexed
    assert ran(truth, "from pkg.shapes import use_no_call; print(use_no_call())") == "TypeError"
    assert edges(db, "pkg.shapes.use_no_call") == []


def test_a_classmethod_called_through_a_local_alias_gets_its_cls(indexed):
    """`make = Maker.make; make(5)`: a bound method, so CPython passes the class as `cls` (rich's
    `combine = Style.combine`). The call had the edge and the wiring of 5, but no receiver row: a call of a name
    has no receiver expression of its own, and the row needs the node that holds it (the name)."""
    truth, db = indexed
    target = split(ran(truth, "from pkg.shapes import use_alias; print(use_alias())"))
    # (co_firstlineno of a decorated function is its decorator's line; cpg_definitions.lineno the def's)
    assert [(q, line - 1, r, c) for q, line, r, c in edges(db, "pkg.shapes.use_alias")] == [(*target, "alias", 1.0)]
    assert ran(truth, "import inspect; from pkg.shapes import Maker\n"
                      "print(list(inspect.signature(Maker.make.__func__).bind('<cls>', '<5>').arguments), "
                      "Maker.make.__self__ is Maker)") == "['cls', 'n'] True"
    with duckdb.connect(db, read_only=True) as c:
        wired = c.execute("SELECT b.param_name, b.implicit_receiver, n.kind, coalesce(n.name, a.text) FROM cpg_binds_arg b "
                          "JOIN py_ast_nodes n ON n.ast_node_id = b.arg_ast_node_id LEFT JOIN cpg_call_args a USING (arg_id) "
                          "WHERE b.callsite_id IN (SELECT callsite_id FROM cpg_call_sites "
                          "WHERE caller_qualname = 'pkg.shapes.use_alias' AND callee_text = 'make') ORDER BY ALL").fetchall()
    assert wired == [("cls", True, "Name", "make"), ("n", False, "Constant", "5")]


def test_a_module_level_instance_imported_elsewhere_reaches_its_class_methods(indexed):
    """rich's `from .color import STANDARD_PALETTE; STANDARD_PALETTE.match(...)`: the instance is made in another
    module (here also re-exported by a package): its method, and for a call of the instance its __call__."""
    truth, db = indexed
    reg = split(ran(truth, "from pkg.client import use_registry; print(use_registry())"))
    assert edges(db, "pkg.client.use_registry") == [(*reg, "instance_method", 0.9)]  # before: no edge
    pal = split(ran(truth, "from pkg.client import use_pal; print(use_pal())"))
    assert pal[0] == "pkg.shapes.Base.__call__"
    assert edges(db, "pkg.client.use_pal") == [(*pal, "instance_call", 1.0)]
    # made by one of two constructor calls (which one: an environment variable at import time), 1/2 each
    runs = sorted(split(ran(truth, f"import os; os.environ.update({env!r}); from pkg.client import use_either; "
                                   "print(use_either())")) for env in ({}, {"FIXTURE_OWN": "1"}))
    assert len(set(runs)) == 2
    assert edges(db, "pkg.client.use_either") == [(*r, "instance_call", 0.5) for r in runs]


def test_rebinding_the_instance_in_its_module_relinks_the_importers(tmp_path):
    """singletons.py binds `registry` to an instance of another class: client.py (which only imports the name)
    reaches the new class's method after the incremental index, as after a `--full` one."""
    from tests.conftest import index_repo, run_cli
    repo, env, _ = index_repo(tmp_path, FILES)
    db = env["CODEINTEL_DB"]
    assert edges(db, "pkg.client.use_registry")[0][0] == "pkg.singletons.Registry.register"
    src = repo / "pkg/singletons.py"
    src.write_text(src.read_text().replace("registry = Registry()", "class Other:\n    def register(self, name):\n"
                                           "        return name\n\n\nregistry = Other()"))
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    after = edges(db, "pkg.client.use_registry")
    assert [(q, r) for q, _, r, _ in after] == [("pkg.singletons.Other.register", "instance_method")]
    assert run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)[0] == 0
    assert edges(db, "pkg.client.use_registry") == after
    # Grower gains a method `grow` (grower.py, which client.py does not import, and no edge of client.py reached
    # into it before): `GROW.grow()` in client.py reaches it at once, as after a --full index
    (repo / "pkg/grower.py").write_text("class Grower:\n    pass\n")
    (repo / "pkg/singletons.py").write_text(src.read_text() + "\nfrom pkg.grower import Grower\n\nGROW = Grower()\n")
    (repo / "pkg/client.py").write_text(CLIENT + "\n\ndef use_grow():\n    from pkg.singletons import GROW\n"
                                        "    return GROW.grow()\n")
    assert run_cli(["index", str(repo), "--json", "--workers", "1"], env)[0] == 0
    assert edges(db, "pkg.client.use_grow") == []
    (repo / "pkg/grower.py").write_text("class Grower:\n    def grow(self):\n        return 1\n")
    assert run_cli(["index", str(repo), "--json", "--workers", "1"], env)[0] == 0
    grow = edges(db, "pkg.client.use_grow")
    assert [(q, r) for q, _, r, _ in grow] == [("pkg.grower.Grower.grow", "instance_method")]
    assert run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)[0] == 0
    assert edges(db, "pkg.client.use_grow") == grow
