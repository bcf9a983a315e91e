"""The link step's resolution rules on a hand-written package: inheritance (single, multiple, a diamond),
super(), constructors, class and static methods, star imports with __all__, aliased and submodule
imports, functions returned, passed as arguments and kept in containers, lambdas, decorators, and the
argument -> parameter wiring (BINDS_ARG) with its receivers, keywords and *args / **kwargs. Every
expected edge below is read off the fixture by hand; the static MRO is checked against CPython's own
``__mro__`` of the same classes, imported in a subprocess."""

import contextlib
import json
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import cli_env, index_repo, run_cli, write_repo

SHAPES = '''
__all__ = ["Shape", "Square", "area_of"]


class Shape:
    def __init__(self, name):
        self.name = name

    def area(self):
        return 0

    def describe(self):
        return self.area()

    @classmethod
    def named(cls, name):
        return cls(name)

    @staticmethod
    def unit():
        return 1


class Square(Shape):
    def __init__(self, side):
        super().__init__("square")
        self.side = side

    def area(self):
        return self.side * self.side


def area_of(s):
    return s.area()


def _hidden():
    pass
'''

MIXINS = '''
class A:
    def hello(self):
        return "A"


class B(A):
    def hello(self):
        return super().hello()


class C(A):
    def hello(self):
        return "C"

    def only_c(self):
        return 1


class D(B, C):
    def go(self):
        self.only_c()
        return self.hello()


class E(C, B):
    pass
'''

TOOLS = '''
from .shapes import *
from .shapes import Square as Sq
import pkg.shapes
from pkg import mixins


def apply(fn, value):
    return fn(value)


def twice(x, y=2, *rest, scale=1, **opts):
    return x


def make():
    def inner(v):
        return v
    return inner


handlers = [twice, area_of]


def main():
    s = Square(3)
    Sq(4)
    pkg.shapes.Shape("x")
    Shape.named("n")
    Square.unit()
    area_of(s)
    apply(twice, 5)
    apply(lambda q: q, 6)
    twice(1, 2, 3, 4, scale=5, extra=6)
    twice(*[1], **{})
    make()(7)
    handlers[0](8)
    mixins.D().go()
    _hidden()
    len("abc")
    s.area()
    rebound = twice
    rebound = area_of
    rebound(9)
'''

REPO = {"pkg/__init__.py": "", "pkg/shapes.py": SHAPES, "pkg/mixins.py": MIXINS, "pkg/tools.py": TOOLS}


@contextlib.contextmanager
def linked(tmp_path, files: dict[str, str]):
    """`codeintel index` of a repository made of ``files``, then a read-only connection to its database."""
    _, env, _ = index_repo(tmp_path, files, no_failed_files=False)
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        yield c


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    repo, env, _ = index_repo(tmp_path_factory.mktemp("link"), REPO)
    return repo, env


@pytest.fixture(scope="module")
def db(indexed):
    conn = duckdb.connect(indexed[1]["CODEINTEL_DB"], read_only=True)
    yield conn
    conn.close()


def calls(db, caller):
    return sorted(db.execute("SELECT DISTINCT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = ?",
                             [caller]).fetchall())


def test_calls_of_main(db):
    assert calls(db, "pkg.tools.main") == [
        ("<builtin>.len", "builtin"),
        ("pkg.mixins.D", "class"),  # no __init__ anywhere in D's MRO: the class itself
        ("pkg.mixins.D.go", "result_method"),  # mixins.D().go(): go along the MRO of the class the inner call makes
        ("pkg.shapes.Shape.__init__", "constructor"),  # pkg.shapes.Shape("x"): submodule import
        ("pkg.shapes.Shape.named", "star_import"),  # Shape from `from .shapes import *` (in __all__)
        ("pkg.shapes.Shape.unit", "star_import"),  # Square.unit(): inherited from Shape
        ("pkg.shapes.Square.__init__", "constructor"),  # Square(3) and Sq(4) (aliased import)
        ("pkg.shapes.Square.area", "instance_method"),  # s = Square(3) (bound once), then s.area()
        # handlers[0](8): either item; area_of, bound by the star import, is not followed into a container
        ("pkg.shapes.area_of", "star_import"),
        ("pkg.tools.apply", "local"),
        ("pkg.tools.make", "local"),
        ("pkg.tools.make.inner", "returned"),  # make()(7)
        ("pkg.tools.twice", "container"),
        ("pkg.tools.twice", "local"),
    ]
    # No edge: _hidden() (not exported by *), rebound(9) (two assignments: flow-insensitive, so neither is
    # claimed).
    texts = {t for (t,) in db.execute(
        "SELECT s.callee_text FROM cpg_call_sites s JOIN cpg_calls c USING (callsite_id) "
        "WHERE s.caller_qualname = 'pkg.tools.main'").fetchall()}
    assert not texts & {"_hidden", "rebound"} and "mixins.D().go" in texts
    # D().go(): the receiver is the new instance, so no argument binds go's self (a call with none is wired
    # with no BINDS_ARG row), and the confidence is the method rule's 0.9 on the class call's 1.0
    assert db.execute("SELECT confidence, via FROM cpg_calls WHERE rule = 'result_method'").fetchall() == [
        (pytest.approx(0.9), ["mixins.D().go", "pkg.mixins.D", "pkg.mixins.D.go"])]
    conf = dict(db.execute("SELECT callee_qualname, confidence FROM cpg_calls WHERE caller_qualname = "
                           "'pkg.tools.main' AND rule = 'container'").fetchall())
    assert conf == {"pkg.tools.twice": pytest.approx(0.5)}  # one of two items


def test_methods_super_and_the_mro(db):
    assert calls(db, "pkg.shapes.Square.__init__") == [("<builtin>.super", "builtin"),
                                                       ("pkg.shapes.Shape.__init__", "super")]
    # self.area() in Shape.describe: Shape's own, and Square's on a Square (Square inherits describe)
    assert calls(db, "pkg.shapes.Shape.describe") == [("pkg.shapes.Shape.area", "self_method"),
                                                      ("pkg.shapes.Square.area", "override")]
    # super() in B.hello: the next class of B's MRO, and under D's MRO (D, B, C, A) C's; under E's (E, C, B, A)
    # it is A's again (no second edge)
    assert calls(db, "pkg.mixins.B.hello") == [("<builtin>.super", "builtin"), ("pkg.mixins.A.hello", "super"),
                                               ("pkg.mixins.C.hello", "super_subclass")]
    # self.only_c() in D: found in C through D's MRO (D, B, C, A); self.hello() finds B's
    assert calls(db, "pkg.mixins.D.go") == [("pkg.mixins.B.hello", "self_method"),
                                             ("pkg.mixins.C.only_c", "self_method")]
    # calls through a parameter: apply's fn(value) reaches what main passes
    assert calls(db, "pkg.tools.apply") == [("pkg.tools.main.<lambda1>", "passed_argument"),
                                             ("pkg.tools.twice", "passed_argument")]
    # decorators are applied (called) in the class body
    assert calls(db, "pkg.shapes.Shape") == [("<builtin>.classmethod", "builtin"),
                                              ("<builtin>.staticmethod", "builtin")]


def test_static_mro_agrees_with_cpython(db, indexed):
    repo = indexed[0]
    script = ("import json, inspect, importlib\n"
              "out = {}\n"
              "for m in ('pkg.shapes', 'pkg.mixins'):\n"
              "    mod = importlib.import_module(m)\n"
              "    for n, c in vars(mod).items():\n"
              "        if inspect.isclass(c) and c.__module__ == m:\n"
              "            out[m + '.' + c.__qualname__] = [k.__module__ + '.' + k.__qualname__ for k in c.__mro__\n"
              "                                              if k is not object]\n"
              "print(json.dumps(out))\n")
    want = json.loads(subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True,
                                     check=True).stdout)
    got: dict[str, list[str]] = {}
    for cls, anc in db.execute("SELECT class_qualname, ancestor_qualname FROM cpg_mro ORDER BY class_qualname, "
                               "mro_index").fetchall():
        got.setdefault(cls, []).append(anc)
    assert got == want
    assert want["pkg.mixins.D"] == ["pkg.mixins.D", "pkg.mixins.B", "pkg.mixins.C", "pkg.mixins.A"]
    assert db.execute("SELECT bool_and(complete) FROM cpg_mro").fetchone() == (True,)
    assert db.execute("SELECT base_qualname, rule FROM cpg_inherits WHERE class_qualname = 'pkg.shapes.Square'"
                      ).fetchall() == [("pkg.shapes.Shape", "local")]


def binds(db, callee, caller="pkg.tools.main"):
    return sorted(db.execute(
        "SELECT b.param_name, coalesce(a.text, '<receiver>'), b.param_kind, round(b.confidence::DOUBLE, 2) "
        "FROM cpg_binds_arg b JOIN cpg_calls c ON c.callsite_id = b.callsite_id AND c.callee_def_id = b.callee_def_id "
        "LEFT JOIN cpg_call_args a ON a.arg_id = b.arg_id WHERE c.caller_qualname = ? AND c.callee_qualname = ?",
        [caller, callee]).fetchall())


def test_arguments_wired_to_parameters(db):
    # twice(1, 2, 3, 4, scale=5, extra=6): extra has no parameter of its name: **opts, bound for certain (as
    # inspect.signature(twice).bind binds it); twice(*[1], **{}): starred arguments to *rest / **opts (-0.2);
    # handlers[0](8): x, at the item's 0.5
    assert binds(db, "pkg.tools.twice") == [
        ("opts", "6", "kwarg", 1.0), ("opts", "{}", "kwarg", 0.8), ("rest", "3", "vararg", 1.0),
        ("rest", "4", "vararg", 1.0), ("rest", "[1]", "vararg", 0.8), ("scale", "5", "kwonly", 1.0),
        ("x", "1", "pos_or_kw", 1.0), ("x", "8", "pos_or_kw", 0.5), ("y", "2", "pos_or_kw", 1.0)]
    # Constructors: self is the object the call makes (the receiver), the arguments shift by one
    assert binds(db, "pkg.shapes.Square.__init__") == [
        ("self", "<receiver>", "pos_or_kw", 1.0), ("self", "<receiver>", "pos_or_kw", 1.0),
        ("side", "3", "pos_or_kw", 1.0), ("side", "4", "pos_or_kw", 1.0)]
    # A classmethod binds cls to the class it is called on; a staticmethod binds no receiver
    assert binds(db, "pkg.shapes.Shape.named") == [("cls", "<receiver>", "pos_or_kw", 1.0),
                                                   ("name", '"n"', "pos_or_kw", 1.0)]
    assert binds(db, "pkg.shapes.Shape.unit") == []
    assert binds(db, "pkg.tools.apply") == [("fn", "lambda q: q", "pos_or_kw", 1.0), ("fn", "twice", "pos_or_kw", 1.0),
                                            ("value", "5", "pos_or_kw", 1.0), ("value", "6", "pos_or_kw", 1.0)]
    assert binds(db, "pkg.tools.make.inner") == [("v", "7", "pos_or_kw", 1.0)]
    # super().__init__("square"): self is the receiver, name the argument
    assert binds(db, "pkg.shapes.Shape.__init__", "pkg.shapes.Square.__init__") == [
        ("name", '"square"', "pos_or_kw", 0.9), ("self", "<receiver>", "pos_or_kw", 0.9)]
    # through the parameter: apply's fn(value) binds value to twice's x and to the lambda's q
    assert binds(db, "pkg.tools.twice", "pkg.tools.apply") == [("x", "value", "pos_or_kw", 0.8)]
    assert binds(db, "pkg.tools.main.<lambda1>", "pkg.tools.apply") == [("q", "value", "pos_or_kw", 0.8)]


def test_arguments_reach_the_parameters(db):
    # area_of(s): the definition of s reaching the argument (s = Square(3), a STORE_FAST) reaches area_of's s
    rows = db.execute(
        "SELECT r.def_kind, i.opname, i.argval_str, r.param_binding_id FROM cpg_arg_reaches r "
        "JOIN cpg_calls c ON c.callsite_id = r.callsite_id AND c.callee_def_id = r.callee_def_id "
        "JOIN py_bc_instructions i ON i.instr_id = r.def_instr_id "
        "WHERE c.caller_qualname = 'pkg.tools.main' AND c.callee_qualname = 'pkg.shapes.area_of'").fetchall()
    assert [(k, op, name) for k, op, name, _ in rows] == [("store", "STORE_FAST", "s")]
    param = db.execute("SELECT binding_id FROM cpg_definitions WHERE qualname = 'pkg.shapes.area_of.s'").fetchone()[0]
    assert rows[0][3] == param
    # inside apply, value is a parameter: its entry definition reaches twice's x
    assert db.execute(
        "SELECT DISTINCT r.def_kind, r.def_instr_id IS NULL FROM cpg_arg_reaches r JOIN cpg_definitions d "
        "ON d.binding_id = r.param_binding_id WHERE d.qualname = 'pkg.tools.twice.x' AND r.path = 'pkg/tools.py' "
        "AND r.callsite_id IN (SELECT callsite_id FROM cpg_call_sites WHERE caller_qualname = 'pkg.tools.apply')"
    ).fetchall() == [("param", True)]


def test_an_edit_relinks_the_file_and_its_importers_only(tmp_path):
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)

    def snapshot():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return ({r for r in c.execute("SELECT caller_qualname, callee_qualname, rule FROM cpg_calls").fetchall()},
                    {r for r in c.execute("SELECT callsite_id, param_name FROM cpg_binds_arg").fetchall()})
    calls0, binds0 = snapshot()
    # Shape.area is renamed: describe's self.area() now finds nothing, and twice's y becomes why
    (repo / "pkg/shapes.py").write_text(SHAPES.replace("def area(self):\n        return 0", "def size(self):\n"
                                                       "        return 0"))
    (repo / "pkg/tools.py").write_text(TOOLS.replace("y=2", "why=2"))
    calls1, binds1 = snapshot()
    # (on a Square, describe's self.area() still reaches Square.area: that edge stays)
    assert calls0 - calls1 == {("pkg.shapes.Shape.describe", "pkg.shapes.Shape.area", "self_method")}
    assert calls1 - calls0 == set()
    assert ("pkg.shapes.Shape.describe", "pkg.shapes.Square.area", "override") in calls1
    # gone: y of twice(1, 2, ...)
    assert sorted(p for _, p in binds0 - binds1) == ["y"] and {p for _, p in binds1 - binds0} == {"why"}


@pytest.fixture(scope="module")
def cli_copy(indexed, tmp_path_factory):
    """The CLI on a copy of the database (this module's `db` holds the original open)."""
    import shutil
    copy = tmp_path_factory.mktemp("query") / "copy.duckdb"
    shutil.copy(indexed[1]["CODEINTEL_DB"], copy)
    return {**indexed[1], "CODEINTEL_DB": str(copy)}


def query(env, preset, arg, *extra):
    code, out, err = run_cli(["query", "--preset", preset, "--arg", arg, "--json", *extra], env)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_presets_callers_callees_and_arguments(cli_copy):
    # callers of twice: main (directly, and through the handlers list) and apply (twice passed to it);
    # depth 2 adds who calls apply (main: already a caller at depth 1, so only its apply edges appear)
    rows = query(cli_copy, "callers", "pkg.tools.twice", "--depth", "1")
    assert sorted({(r["caller"], r["rule"]) for r in rows}) == [
        ("pkg.tools.apply", "passed_argument"), ("pkg.tools.main", "container"), ("pkg.tools.main", "local")]
    deeper = query(cli_copy, "callers", "pkg.tools.twice", "--depth", "2")
    assert {(r["depth"], r["caller"], r["callee"]) for r in deeper} - {(r["depth"], r["caller"], r["callee"])
                                                                        for r in rows} == {
        (2, "pkg.tools.main", "pkg.tools.apply")}
    callees = query(cli_copy, "callees", "pkg.tools.apply", "--depth", "2")
    assert {(r["depth"], r["callee"]) for r in callees} == {(1, "pkg.tools.twice"), (1, "pkg.tools.main.<lambda1>")}
    # one query: who calls area_of, with which argument, and which definitions reach it
    into = query(cli_copy, "calls-into", "pkg.shapes.area_of")
    assert [(r["caller"], r["lineno"], r["parameter"], r["argument"], r["reaching_definitions"]) for r in into] == [
        ("pkg.tools.main", 30, "s", "s", ["store line 25"])]  # s = Square(3) on line 25


def test_presets_call_path_binding_and_reaching(cli_copy):
    # Square.unit() on line 29: looked up as Square.unit (the star import), found in Shape through the MRO
    path = query(cli_copy, "call-path", "pkg/tools.py:29")
    assert [(r["callee_text"], r["resolution_path"], r["definition_path"], r["definition_line"]) for r in path] == [
        ("Square.unit", ["Square.unit", "pkg.shapes.Square.unit", "pkg.shapes.Shape.unit"], "pkg/shapes.py", 19)]
    sites = query(cli_copy, "binding", "pkg.tools.apply.fn")
    assert [(r["role"], r["lineno"]) for r in sites] == [("def", 7), ("use", 8)]
    reach = query(cli_copy, "reaching", "pkg/tools.py:30:s")
    assert [(r["def_kind"], r["def_line"], r["def_instruction"]) for r in reach] == [("store", 25, "STORE_FAST")]


DECO = '''
import functools


def plain(f):
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper


def kept(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper


@plain
def hidden(a, b):
    return a


@kept
def shown(a, b):
    return a


def main():
    hidden(1, b=2)
    shown(3, b=4)
'''


def test_runtime_signatures_wire_arguments_where_inspect_ran(tmp_path):
    repo = write_repo(tmp_path / "repo", {"dec/__init__.py": "", "dec/m.py": DECO})
    env = cli_env(tmp_path)

    def wiring():
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return sorted(c.execute(
                "SELECT c.callee_qualname, a.text, b.param_name, b.param_kind, b.signature_source, "
                "p.qualname FROM cpg_binds_arg b JOIN cpg_calls c USING (callsite_id, callee_def_id) "
                "JOIN cpg_call_args a USING (arg_id) LEFT JOIN cpg_definitions p ON p.def_id = b.param_def_id "
                "WHERE c.caller_qualname = 'dec.m.main'").fetchall())
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    # Statically, both calls bind to the definitions' own parameters
    assert wiring() == [("dec.m.hidden", "1", "a", "pos_or_kw", "ast", "dec.m.hidden.a"),
                        ("dec.m.hidden", "2", "b", "pos_or_kw", "ast", "dec.m.hidden.b"),
                        ("dec.m.shown", "3", "a", "pos_or_kw", "ast", "dec.m.shown.a"),
                        ("dec.m.shown", "4", "b", "pos_or_kw", "ast", "dec.m.shown.b")]
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect"], env)
    assert code == 0, err
    # At runtime, hidden is plain's wrapper (no functools.wraps): its arguments go to the wrapper's *args and
    # **kwargs (inspect.signature(dec.m.hidden) is (*args, **kwargs)); shown keeps (a, b) through __wrapped__.
    assert wiring() == [("dec.m.hidden", "1", "args", "vararg", "inspect", "dec.m.plain.wrapper.args"),
                        ("dec.m.hidden", "2", "kwargs", "kwarg", "inspect", "dec.m.plain.wrapper.kwargs"),
                        ("dec.m.shown", "3", "a", "pos_or_kw", "inspect", "dec.m.shown.a"),
                        ("dec.m.shown", "4", "b", "pos_or_kw", "inspect", "dec.m.shown.b")]


# Every call edge that can happen when the fixture runs (caller, callee), by hand: the ground truth for
# precision (no edge outside it) and recall (the share of it found).
TRUTH = {
    ("pkg.shapes.Shape", "<builtin>.classmethod"), ("pkg.shapes.Shape", "<builtin>.staticmethod"),
    ("pkg.shapes.Shape.describe", "pkg.shapes.Shape.area"), ("pkg.shapes.Shape.describe", "pkg.shapes.Square.area"),
    ("pkg.shapes.Shape.named", "pkg.shapes.Shape.__init__"), ("pkg.shapes.Shape.named", "pkg.shapes.Square.__init__"),
    ("pkg.shapes.Square.__init__", "<builtin>.super"), ("pkg.shapes.Square.__init__", "pkg.shapes.Shape.__init__"),
    ("pkg.shapes.area_of", "pkg.shapes.Shape.area"), ("pkg.shapes.area_of", "pkg.shapes.Square.area"),
    ("pkg.mixins.B.hello", "<builtin>.super"), ("pkg.mixins.B.hello", "pkg.mixins.A.hello"),
    ("pkg.mixins.B.hello", "pkg.mixins.C.hello"),  # super() in B, for an instance of D
    ("pkg.mixins.D.go", "pkg.mixins.C.only_c"), ("pkg.mixins.D.go", "pkg.mixins.B.hello"),
    ("pkg.tools.apply", "pkg.tools.twice"), ("pkg.tools.apply", "pkg.tools.main.<lambda1>"),
    *{("pkg.tools.main", c) for c in (
        "pkg.shapes.Square.__init__", "pkg.shapes.Shape.__init__", "pkg.shapes.Shape.named", "pkg.shapes.Shape.unit",
        "pkg.shapes.area_of", "pkg.tools.apply", "pkg.tools.twice", "pkg.tools.make", "pkg.tools.make.inner",
        "pkg.mixins.D", "pkg.mixins.D.go", "<builtin>.len", "pkg.shapes.Square.area")},
}


def test_precision_and_recall_against_the_hand_made_truth(db):
    got = set(db.execute("SELECT DISTINCT caller_qualname, callee_qualname FROM cpg_calls").fetchall())
    found = got & TRUTH
    assert got - TRUTH == set()  # precision first: no edge that cannot happen
    missed = TRUTH - got
    # What static resolution cannot see here: s.area() on a parameter with a Shape that no call of the repository
    # passes (the Square main passes is the passed_instance rule's). Overrides reached through self, cls(...) when
    # cls is a subclass and super() under a subclass's MRO are the subclass rules' (override, subclass_constructor,
    # super_subclass).
    assert missed == {("pkg.shapes.area_of", "pkg.shapes.Shape.area")}
    assert len(found) / len(TRUTH) == pytest.approx(29 / 30)
    assert ("pkg.shapes.area_of", "pkg.shapes.Square.area", "passed_instance") in set(db.execute(
        "SELECT caller_qualname, callee_qualname, rule FROM cpg_calls").fetchall())
    rules = dict(((c, k), r) for c, k, r in db.execute(
        "SELECT caller_qualname, callee_qualname, rule FROM cpg_calls").fetchall())
    assert rules[("pkg.shapes.Shape.describe", "pkg.shapes.Square.area")] == "override"
    assert rules[("pkg.shapes.Shape.named", "pkg.shapes.Square.__init__")] == "subclass_constructor"
    assert rules[("pkg.mixins.B.hello", "pkg.mixins.C.hello")] == "super_subclass"  # D(B, C): D, B, C, A
    # cls(name) in the classmethod Shape.named: Shape's constructor, name wired past the receiver; on Square
    # (Square.named("n")), Square's constructor, where name binds side
    assert sorted(db.execute("SELECT c.rule, c.via, a.text, b.param_name FROM cpg_calls c JOIN cpg_binds_arg b "
                             "USING (callsite_id, callee_def_id) JOIN cpg_call_args a USING (arg_id) "
                             "WHERE c.caller_qualname = 'pkg.shapes.Shape.named'").fetchall()) == [
        ("constructor", ["cls", "pkg.shapes.Shape", "pkg.shapes.Shape.__init__"], "name", "name"),
        ("subclass_constructor", ["cls", "pkg.shapes.Square", "pkg.shapes.Square.__init__"], "name", "side")]


def test_a_cycle_of_re_exports_ends_and_gives_one_edge_per_callee(tmp_path):
    """a imports x from b and b imports x from a (a name defined nowhere: an ImportError at runtime); c calls
    helper through two re-export paths of different lengths. The walk stops at a name it met on its path,
    and a call site keeps one edge per callee (the shortest resolution path)."""
    with linked(tmp_path, {
        "cyc/__init__.py": "from .impl import helper\nfrom . import impl\n",
        "cyc/impl.py": "def helper():\n    return 1\n",
        "cyc/a.py": "from .b import x\n\n\ndef f():\n    return x()\n",
        "cyc/b.py": "from .a import x\n",
        "cyc/c.py": "import cyc\n\n\ndef g():\n    return cyc.helper() + cyc.impl.helper()\n"}) as c:
        assert c.execute("SELECT count(*) FROM cpg_calls WHERE caller_qualname = 'cyc.a.f'").fetchall() == [(0,)]
        rows = c.execute("SELECT callee_qualname, via FROM cpg_calls WHERE caller_qualname = 'cyc.c.g'").fetchall()
    # via: the callee as written, then each name it was looked up as
    assert sorted(rows) == [("cyc.impl.helper", ["cyc.helper", "cyc.helper", "cyc.impl.helper"]),
                            ("cyc.impl.helper", ["cyc.impl.helper", "cyc.impl.helper"])]


def test_a_method_of_a_constructed_instance_binds_its_arguments_after_the_receiver(tmp_path):
    """K(1).m(2): the inner call constructs K (its __init__), the outer one calls m as K's MRO finds it (an
    inherited method here); 2 binds m's parameter a, not its self. f().m(3), f returning K(0): m as K's MRO finds
    it too (returns_method, what f returns read from its body), 3 binding a."""
    with linked(tmp_path, {"r/__init__.py": "", "r/m.py": (
        "class Base:\n    def m(self, a):\n        return a\n\n\n"
        "class K(Base):\n    def __init__(self, v):\n        self.v = v\n\n\n"
        "def f():\n    return K(0)\n\n\n"
        "def main():\n    f().m(3)\n    return K(1).m(2)\n")}) as c:
        calls = sorted(c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'r.m.main'"
                                 ).fetchall())
        wired = sorted(c.execute(
            "SELECT k.callee_qualname, a.text, b.param_name FROM cpg_binds_arg b JOIN cpg_calls k "
            "USING (callsite_id, callee_def_id) JOIN cpg_call_args a USING (arg_id) "
            "WHERE k.caller_qualname = 'r.m.main'").fetchall())
    assert calls == [("r.m.Base.m", "result_method"), ("r.m.Base.m", "returns_method"), ("r.m.K.__init__", "constructor"),
                     ("r.m.f", "local")]
    assert wired == [("r.m.Base.m", "2", "a"), ("r.m.Base.m", "3", "a"), ("r.m.K.__init__", "1", "v")]


# A base class whose method calls through self (override dispatch into subclasses in other files)
OVERRIDE_BASE = '''
class Base:
    def run(self):
        return self.step()

    def step(self):
        return 0
'''


def test_an_override_added_in_a_subclass_file_relinks_the_base_class_file(tmp_path):
    """base.py does not import sub.py, yet Base.run's self.step() reaches Sub.step once Sub overrides it: the
    link resolves the files of the ancestors of a changed file's classes again (before and after)."""
    base = OVERRIDE_BASE
    sub = '''
from base import Base


class Sub(Base):
    pass
'''
    repo = write_repo(tmp_path / "repo", {"base.py": base, "sub.py": sub})
    env = cli_env(tmp_path)

    def edges():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return sorted(c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'base.Base.run'"
                                    ).fetchall())
    assert edges() == [("base.Base.step", "self_method")]
    (repo / "sub.py").write_text(sub + "\n    def step(self):\n        return 1\n")
    assert edges() == [("base.Base.step", "self_method"), ("sub.Sub.step", "override")]
    # Sub overrides run too: Base.run never runs with a Sub, so no edge from it into Sub
    (repo / "sub.py").write_text(sub + "\n    def step(self):\n        return 1\n\n    def run(self):\n        return 2\n")
    assert edges() == [("base.Base.step", "self_method")]
    (repo / "sub.py").unlink()
    assert edges() == [("base.Base.step", "self_method")]


def test_self_in_a_closure_of_a_method_reaches_the_overrides_of_subclasses_that_inherit_the_method(tmp_path):
    """Flask's Scaffold.route returns a decorator whose self.add_url_rule() runs with self an App: the call in
    the nested function reaches App's override (found on Flask 3.1.3: only Scaffold.add_url_rule was an edge).
    A subclass that overrides the enclosing method never runs that closure: no edge into it."""
    with linked(tmp_path, {"m.py": """
class Base:
    def route(self):
        def decorator(f):
            self.register(f)
            return f
        return decorator

    def register(self, f):
        return f


class App(Base):
    def register(self, f):
        return f


class Other(Base):
    def route(self):
        return None

    def register(self, f):
        return f
"""}) as c:
        edges = c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = "
                          "'m.Base.route.decorator' ORDER BY ALL").fetchall()
    assert edges == [("m.App.register", "override"), ("m.Base.register", "self_method")], edges


def test_package_directory_indexed_on_its_own_links_as_the_repository_does(db, tmp_path):
    # `codeintel index site-packages/requests`: the root is a package, so its modules are pkg.* as import
    # names them, and `from pkg.shapes import ...`, `from . import mixins` resolve inside it, as in the
    # repository that contains it (the `db` fixture), not as calls to external names
    repo = write_repo(tmp_path / "site" / "pkg", {k.removeprefix("pkg/"): v for k, v in REPO.items()})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    alone = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    try:
        assert sorted(alone.execute("SELECT module_name FROM py_files").fetchall()) == [
            ("pkg",), ("pkg.mixins",), ("pkg.shapes",), ("pkg.tools",)]
        edges = "SELECT caller_qualname, callee_qualname, rule FROM cpg_calls ORDER BY ALL"
        assert alone.execute(edges).fetchall() == db.execute(edges).fetchall()
        assert alone.execute("SELECT count(*) FROM cpg_calls WHERE rule = 'external'").fetchone() == (0,)
    finally:
        alone.close()


def test_new_import_roots_relink_the_renamed_modules(tmp_path):
    # the same bytes under other module names (--import-root): every qualname changes, so the link resolves
    # those files again and cpg_integrity judges them again, although no file_id changed
    repo = write_repo(tmp_path / "repo", {"lib/pkg/__init__.py": "", "lib/pkg/a.py": "def f():\n    return 1\n",
                                          "lib/pkg/b.py": "from pkg.a import f\n\n\ndef g():\n    return f()\n"})
    env = cli_env(tmp_path)
    edges = "SELECT caller_qualname, callee_qualname, rule FROM cpg_calls WHERE caller_qualname LIKE '%.g'"

    def index(*extra):
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", *extra], env)
        assert code == 0, err
        summary = json.loads(out.strip().splitlines()[-1])
        conn = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
        try:
            return summary, conn.execute(edges).fetchall()
        finally:
            conn.close()

    # from the repository root, `pkg.a` is not a module of the repository: an external name
    _, before = index()
    assert before == [("lib.pkg.b.g", "pkg.a.f", "external")]
    summary, after = index("--import-root", "lib")
    assert summary["files_changed"] == 3 and after == [("pkg.b.g", "pkg.a.f", "import")]
    checked = {c["check"]: c["metadata"] for c in summary["checks"]}["cpg_integrity"]["checked"]
    assert checked == "whole database"  # every file renamed (more than half changed): judged whole, not skipped


def test_runtime_signature_of_a_reexported_function_wires_each_argument_once(tmp_path):
    # dec/api.py wraps f with functools.wraps, which copies f's __module__ and __qualname__: the wrapper has
    # f's object id, so f's signature and its parameters are also stored under dec/api.py (pandas'
    # delegate_names does this to hundreds of methods); a call of f is still one BINDS_ARG row per argument,
    # and the graph's edge ids stay unique
    repo = write_repo(tmp_path / "repo", {
        "dec/__init__.py": "", "dec/impl.py": "def f(a, b=2):\n    return a\n",
        "dec/api.py": "import functools\nfrom dec.impl import f\n\n\n@functools.wraps(f)\ndef g(*args, **kwargs):\n"
                      "    return f(*args, **kwargs)\n\n\ndef main():\n    return f(1, b=3)\n"})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect"], env)
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["checks_failed"] == 0, (err, [c for c in summary["checks"] if not c["passed"]])
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        # the premise: the parameters of f's signature are stored under both modules
        assert c.execute("SELECT DISTINCT path FROM py_inspect_signature_params p JOIN py_inspect_signatures s "
                         "USING (signature_id, path) WHERE s.object_id = 'dec.impl:f:function' ORDER BY path"
                         ).fetchall() == [("dec/api.py",), ("dec/impl.py",)]
        assert sorted(c.execute("SELECT a.text, b.param_name, b.signature_source FROM cpg_binds_arg b "
                                "JOIN cpg_call_args a USING (arg_id) JOIN cpg_calls k ON k.callsite_id = b.callsite_id "
                                "AND k.callee_def_id = b.callee_def_id "
                                "WHERE k.caller_qualname = 'dec.api.main'").fetchall()) == [
            ("1", "a", "inspect"), ("3", "b", "inspect")]


def test_link_rows_no_passing_check_judged_are_linked_again(tmp_path):
    # A link wrote rows that cpg_integrity then refused (here: a duplicated CALLS edge, as an earlier
    # version's wiring wrote after --inspect), so its files stay in cpg_link_unchecked. The next index, with
    # no file changed, links those files again and judges them: the bad rows go, the check passes.
    repo = write_repo(tmp_path / "repo", REPO)
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    count = "SELECT count(*), count(DISTINCT (callsite_id, callee_def_id, callee_qualname)) FROM cpg_calls"
    with duckdb.connect(env["CODEINTEL_DB"]) as c:
        good = c.execute(count).fetchone()
        assert good[0] == good[1]
        c.execute("INSERT INTO cpg_calls SELECT * FROM cpg_calls WHERE path = 'pkg/tools.py' LIMIT 1")
        c.execute("INSERT INTO cpg_link_unchecked VALUES ('pkg/tools.py')")
    code, out, err = run_cli(["check", "--db", env["CODEINTEL_DB"]], env)
    assert code == 1 and "cpg_integrity" in out  # the duplicate is a finding
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and summary["files_changed"] == 0, err
    assert {c["check"]: c["passed"] for c in summary["checks"]}.get("cpg_integrity") is True
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert c.execute(count).fetchone() == good
        assert c.execute("SELECT count(*) FROM cpg_link_unchecked").fetchone() == (0,)


ANNOTATED = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": '''
class Shape:
    def area(self):
        return 0

    def grow(self, by):
        return by


class Square(Shape):
    def area(self):
        return 4
''',
    "pkg/use.py": '''
from typing import Optional

from pkg import shapes
from pkg.shapes import Shape, Square


def measure(s: Shape, q: "Square", o: Optional[Square], u: Square | None, m: shapes.Square, n: int):
    s.area()
    q.area()
    o.area()
    u.grow(1)
    m.grow(2)
    n.bit_length()


def rebound(s: Shape):
    s = make()
    s.area()


def make():
    return Square()


def build() -> Square:
    return make()


def maybe() -> Optional[Shape]:
    return None


def chain():
    sq = build()
    sq.area()
    build().grow(3)
    maybe().area()
    w = build()
    w = maybe()
    w.area()
''',
    "pkg/lazy.py": '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pkg.shapes import Square


def later(s: Square):
    return s.area()
''',
}


def test_methods_of_parameters_declared_with_a_class_of_the_repository(tmp_path):
    # p.m() with p: C, C | None, Optional[C] or a dotted C, p bound by the call only: m as C's MRO finds it
    # (rule annotation, 0.8), the argument wired to m's parameters and p to self; a string annotation too, parsed
    # (q: "Square", tests/test_cpg_link_string_annotations.py). A builtin class is such a class too (n: int,
    # n.bit_length(): CPython's int.bit_length; tests/test_cpg_link_stdlib_bases.py); a parameter assigned again
    # in the body gives no edge (precision first).
    with linked(tmp_path, ANNOTATED) as c:
        got = c.execute("SELECT caller_qualname, lineno, callee_qualname, rule, round(confidence::DOUBLE, 2) FROM cpg_calls "
                        "WHERE caller_qualname IN ('pkg.use.measure', 'pkg.use.rebound') ORDER BY lineno").fetchall()
        assert got == [("pkg.use.measure", 8, "pkg.shapes.Shape.area", "annotation", 0.8),  # s: Shape
                       ("pkg.use.measure", 9, "pkg.shapes.Square.area", "annotation", 0.8),  # q: "Square"
                       ("pkg.use.measure", 10, "pkg.shapes.Square.area", "annotation", 0.8),  # Optional[Square]
                       ("pkg.use.measure", 11, "pkg.shapes.Shape.grow", "annotation", 0.8),  # Square | None: inherited
                       ("pkg.use.measure", 12, "pkg.shapes.Shape.grow", "annotation", 0.8),  # shapes.Square
                       ("pkg.use.measure", 13, "<builtin>.int.bit_length", "annotation", 0.8),  # n: int
                       ("pkg.use.rebound", 17, "pkg.use.make", "local", 1.0)]
        wired = c.execute("SELECT s.lineno, coalesce(a.text, '<receiver>'), b.param_name FROM cpg_binds_arg b "
                          "JOIN cpg_call_sites s USING (callsite_id) LEFT JOIN cpg_call_args a USING (arg_id) "
                          "WHERE s.lineno IN (11, 12) ORDER BY ALL").fetchall()
        assert wired == [(11, "1", "by"), (11, "<receiver>", "self"), (12, "2", "by"), (12, "<receiver>", "self")]
        # def f() -> C: x = f() bound once, x.m(), and f().m() reach m along C's MRO (rule returns_method, 0.8);
        # x bound twice gives no edge; the returned value is the receiver
        got = c.execute("SELECT lineno, callee_qualname, rule, round(confidence::DOUBLE, 2) FROM cpg_calls "
                        "WHERE caller_qualname = 'pkg.use.chain' AND rule = 'returns_method' ORDER BY lineno").fetchall()
        assert got == [(35, "pkg.shapes.Square.area", "returns_method", 0.8),
                       (36, "pkg.shapes.Shape.grow", "returns_method", 0.8),  # Square inherits grow
                       (37, "pkg.shapes.Shape.area", "returns_method", 0.8)]  # Optional[Shape]
        assert c.execute("SELECT coalesce(a.text, '<receiver>'), b.param_name FROM cpg_binds_arg b "
                         "JOIN cpg_call_sites s USING (callsite_id) LEFT JOIN cpg_call_args a USING (arg_id) "
                         "WHERE s.lineno = 36 AND s.callee_text = 'build().grow' ORDER BY ALL").fetchall() == [
            ("3", "by"), ("<receiver>", "self")]
        # under `from __future__ import annotations` symtable binds no annotation name: the module's own
        # binding of it (an import under TYPE_CHECKING) is what the annotation means
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'pkg.lazy.later'"
                         ).fetchall() == [("pkg.shapes.Square.area", "annotation")]


def test_a_call_of_an_overloaded_function_reaches_the_definition_bound_at_runtime(tmp_path):
    # typing.overload stubs and the implementation share one qualname; the name is bound to the last def, so
    # the edge (and the argument wiring) is the implementation's, in every run (it was any one of the three)
    with linked(tmp_path, {"ov/__init__.py": "", "ov/m.py": '''
from typing import overload


@overload
def conv(x: int) -> int: ...
@overload
def conv(x: str) -> str: ...
def conv(x, base=10):
    return x


def main():
    return conv("1", base=2)
'''}) as c:
        assert c.execute("SELECT d.lineno, k.rule FROM cpg_calls k JOIN cpg_definitions d ON d.def_id = k.callee_def_id "
                         "WHERE k.caller_qualname = 'ov.m.main'").fetchall() == [(8, "local")]
        assert sorted(c.execute("SELECT a.text, b.param_name FROM cpg_binds_arg b JOIN cpg_call_args a USING (arg_id)"
                                ).fetchall()) == [('"1"', "x"), ("2", "base")]


def _link_rows(db: str) -> dict[str, set]:
    with duckdb.connect(db, read_only=True) as c:
        return {t: {tuple(tuple(v) if isinstance(v, list) else v for v in r)
                    for r in c.execute(f"SELECT * FROM {t}").fetchall()}
                for t in ("cpg_calls", "cpg_binds_arg", "cpg_arg_reaches")}


def test_calls_through_a_parameter_follow_an_edit_of_a_file_that_only_passes_the_function(tmp_path):
    """`fn(x)` in runner.py reaches what callers pass for fn: when only the caller's file changes (runner.py
    imports nothing from it and calls nothing in it, so it is not relinked for those reasons), its
    passed_argument edge, wiring and interprocedural REACHES still follow; the incremental link equals a
    full one."""
    import shutil

    from codeintel_assets.link import link_calls
    from resources.store import CONNECTION_CONFIG
    files = {"app/__init__.py": "",
             "app/runner.py": "def run(fn, x):\n    return fn(x)\n",
             "app/funcs.py": "def double(v):\n    return 2 * v\n\n\ndef triple(v):\n    return 3 * v\n",
             "app/main.py": ("from app.funcs import double, triple\nfrom app.runner import run\n\n\n"
                             "def go(n):\n    return run(double, n)\n"),
             **{f"app/other{i}.py": f"def f{i}():\n    return {i}\n" for i in range(4)}}  # so that one file is a few
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)

    def index():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err
        return _link_rows(env["CODEINTEL_DB"])

    def passed(rows):
        return {(r[4], r[8], r[10]) for r in rows["cpg_calls"] if r[10] == "passed_argument"}
    before = index()
    assert passed(before) == {("app.runner.run", "app.funcs.double", "passed_argument")}
    (repo / "app/main.py").write_text(files["app/main.py"].replace("run(double, n)", "run(triple, n)"))
    after = index()
    assert passed(after) == {("app.runner.run", "app.funcs.triple", "passed_argument")}
    # the argument x of fn(x) is wired to triple's parameter v
    assert {(r[2], r[7]) for r in after["cpg_binds_arg"] if r[14] == "passed_argument"} == {("app/runner.py", "v")}
    assert {r[2] for r in after["cpg_arg_reaches"]} >= {"app/runner.py"}  # x reaches v
    copy = tmp_path / "full.duckdb"
    shutil.copy(env["CODEINTEL_DB"], copy)
    with duckdb.connect(str(copy), config=CONNECTION_CONFIG) as c:
        link_calls(c, full=True)
    assert _link_rows(str(copy)) == after


def test_a_base_class_defined_twice_is_the_definition_bound_last(tmp_path):
    # two classes share the qualname tw.m.A; `class B(A)` after both binds the second (CPython: B.__mro__[1] is
    # the A that has n), in every run (it was either one)
    repo = write_repo(tmp_path / "repo", {"tw/__init__.py": "", "tw/m.py": '''
class A:
    def m(self):
        return 1


class A:
    def n(self):
        return 2


class B(A):
    pass


def main():
    return B().n()
'''})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    import ast
    second = [n.lineno for n in ast.parse((repo / "tw/m.py").read_text()).body if isinstance(n, ast.ClassDef)
              and n.name == "A"][-1]
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert c.execute("SELECT d.lineno FROM cpg_inherits i JOIN cpg_definitions d ON d.def_id = i.base_def_id "
                         "WHERE i.class_qualname = 'tw.m.B'").fetchall() == [(second,)]
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'tw.m.main' "
                         "AND callee_qualname LIKE 'tw.m.A%'").fetchall() == [("tw.m.A.n", "result_method")]


def test_the_lookup_tables_kept_between_links_equal_a_full_rebuild_after_edits_and_a_deletion(tmp_path):
    """cpg_link_defs / cpg_link_self / cpg_link_aliases, and the MRO, are rebuilt for what the link can change only:
    after an edit that renames a class, a method and a module-level alias, a new classmethod and a deleted file,
    they (and the link tables) equal what a full link rebuilds from the same per-file rows."""
    import shutil

    from codeintel_assets.link import LOOKUP_TABLES, link_calls
    from resources.duck import CONNECTION_CONFIG
    files = {"app/__init__.py": "",
             "app/base.py": "class Base:\n    def run(self):\n        return 1\n\n\nalias = Base\n",
             "app/use.py": "from app.base import Base, alias\n\n\nclass Child(Base):\n    def go(self):\n"
                           "        return self.run()\n\n\ndef make():\n    return alias()\n",
             "app/gone.py": "from app.base import Base\n\n\nclass Other(Base):\n    pass\n",
             # two levels below the renamed class, in a file that does not import base.py
             "app/far.py": "from app.use import Child\n\n\nclass Far(Child):\n    pass\n",
             **{f"app/pad{i}.py": f"def p{i}():\n    return {i}\n" for i in range(4)}}
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)

    def index():
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
        assert code == 0, err

    def tables(db) -> dict[str, set]:
        with duckdb.connect(str(db), read_only=True) as c:
            return {t: set(c.execute(f"SELECT * FROM {t}").fetchall()) for t in LOOKUP_TABLES}
    index()
    (repo / "app/base.py").write_text("class Root:\n    def start(self):\n        return 1\n\n    @classmethod\n"
                                      "    def build(cls):\n        return cls()\n\n\nalias = Root\nBase = Root\n")
    (repo / "app/gone.py").unlink()
    index()
    after = tables(env["CODEINTEL_DB"])
    assert ("app/base.py", "app.base.alias", "app.base.Root") in after["cpg_link_aliases"]
    assert {r[0] for t in after.values() for r in t if isinstance(r[0], str) and r[0].startswith("app/")} >= {
        "app/base.py", "app/use.py"}
    assert not any("app/gone.py" in map(str, r) for t in after.values() for r in t)  # the deleted file's rows left
    assert any(r[2] == "app.base.Root" and r[3] for r in after["cpg_link_self"])  # build's cls, a classmethod
    copy = tmp_path / "full.duckdb"
    shutil.copy(env["CODEINTEL_DB"], copy)
    with duckdb.connect(str(copy), config=CONNECTION_CONFIG) as c:
        link_calls(c, full=True)
    assert tables(copy) == after
    assert _link_rows(str(copy)) == _link_rows(env["CODEINTEL_DB"])
    # the MRO too, recomputed for the classes the link could change only (Child's, whose base was renamed)
    mro = "SELECT class_qualname, mro_index, ancestor_qualname, complete FROM cpg_mro"
    with duckdb.connect(str(copy), read_only=True) as c:
        full_mro = set(c.execute(mro).fetchall())
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        assert set(c.execute(mro).fetchall()) == full_mro
    assert ("app.use.Child", 1, "app.base.Root", True) in full_mro and not any("Other" in r[0] for r in full_mro)
    assert ("app.far.Far", 2, "app.base.Root", True) in full_mro


WRAPPER_FOR_SEVERAL = '''
def deco(fn):
    def decorate(self, arg, **kw):
        return fn(self, arg, **kw)
    return decorate


class K:
    @deco
    def a(self, arg, **kw):
        return arg

    @deco
    def b(self, arg, **kw):
        return kw
'''


def test_one_wrapper_for_several_callees_reaches_its_parameters_once(tmp_path):
    """``fn(self, arg, **kw)`` in a decorator's wrapper calls K.a or K.b (the functions passed to it), and at
    runtime both are that wrapper (no functools.wraps): their parameters are the wrapper's. Each definition
    that reaches an argument reaches the wrapper's parameter once (cpg_arg_reaches' key), not once per
    callee: the REACHES edges were duplicates (SQLAlchemy's ``_with_legacy_schema_aliasing``: 36)."""
    repo = write_repo(tmp_path / "repo", {"w.py": WRAPPER_FOR_SEVERAL})
    env = cli_env(tmp_path)
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect"], env)
    s = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and s["checks_failed"] == 0, [c for c in s["checks"] if not c["passed"]]
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        callees = c.execute("SELECT DISTINCT callee_qualname FROM cpg_calls WHERE caller_qualname = "
                            "'w.deco.decorate' ORDER BY 1").fetchall()
        assert callees == [("w.K.a",), ("w.K.b",)]
        from codeintel_assets.contracts.cpg import CPG_ARG_REACHES
        key = ", ".join(CPG_ARG_REACHES.key)
        assert c.execute(f"SELECT count(*) - count(DISTINCT ({key})) FROM cpg_arg_reaches").fetchall() == [(0,)]
        # self, arg and the **kw splat (each defined by the wrapper's own parameter) reach the wrapper's
        # parameter of that name, once each
        assert sorted(c.execute("SELECT a.text, p.qualname FROM cpg_arg_reaches r JOIN cpg_call_args a USING (arg_id) "
                                "JOIN cpg_definitions p ON p.binding_id = r.param_binding_id").fetchall()) == [
            ("arg", "w.deco.decorate.arg"), ("kw", "w.deco.decorate.kw"), ("self", "w.deco.decorate.self")]


def test_calls_never_reach_declarations_under_type_checking(tmp_path):
    """`if TYPE_CHECKING:` bodies never run: a def there is a declaration for type checkers. Found on
    SQLAlchemy 2.1.9: a stub method in a mixin answered the MRO lookup the base class answers at runtime; a
    stub function beat the import its `else:` binds (alembic's `compiles`); a stub stood for a function that
    is an `operator.attrgetter` at runtime. Expected edges derived from running the code (the MRO lookup and
    the module's bindings as CPython makes them, below)."""
    files = {"tc/__init__.py": "", "tc/real.py": '''
def compiles(cls):
    return cls


class Target:
    def _set_parent(self, parent):
        return parent
''', "tc/compat.py": '''
import operator
from typing import TYPE_CHECKING

from tc.real import Target

if TYPE_CHECKING:
    def compiles(cls): ...
    def instance_dict(obj): ...
else:
    from tc.real import compiles
    instance_dict = operator.attrgetter("__dict__")


class Mixin:
    if TYPE_CHECKING:
        def _set_parent(self, parent): ...


class Constraint(Mixin, Target):
    def attach(self, parent):
        return self._set_parent(parent)
''', "tc/use.py": '''
from tc import compat
from tc.compat import compiles


def main(obj):
    compat.instance_dict(obj)
    return compiles(int)
'''}
    import sys
    sys.path.insert(0, str(tmp_path / "truth"))
    try:
        write_repo(tmp_path / "truth", files)
        import tc.compat
        import tc.use  # noqa: F401 - imports run: the names are bound as at runtime
        runtime_attach = tc.compat.Constraint._set_parent.__qualname__
        runtime_compiles = f"{tc.compat.compiles.__module__}.{tc.compat.compiles.__qualname__}"
        assert not hasattr(tc.compat.instance_dict, "__code__")  # an attrgetter: no definition of the repository
    finally:
        sys.path.remove(str(tmp_path / "truth"))
        for m in [m for m in sys.modules if m == "tc" or m.startswith("tc.")]:
            del sys.modules[m]
    with linked(tmp_path, files) as c:
        stubs = c.execute("SELECT qualname FROM cpg_definitions WHERE type_checking_only ORDER BY ALL").fetchall()
        edges = c.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls WHERE caller_qualname IN "
                          "('tc.compat.Constraint.attach', 'tc.use.main') ORDER BY ALL").fetchall()
    assert [q for (q,) in stubs] == ["tc.compat.Mixin._set_parent", "tc.compat.Mixin._set_parent.parent",
                                     "tc.compat.Mixin._set_parent.self", "tc.compat.compiles",
                                     "tc.compat.compiles.cls", "tc.compat.instance_dict",
                                     "tc.compat.instance_dict.obj"]
    assert ("tc.compat.Constraint.attach", f"tc.real.{runtime_attach}") in edges, edges
    assert ("tc.use.main", runtime_compiles) in edges, edges
    assert not [e for e in edges if e[1].startswith(("tc.compat.Mixin", "tc.compat.compiles",
                                                       "tc.compat.instance_dict"))], edges


def test_a_database_from_before_type_checking_only_gains_the_column_and_links(tmp_path):
    """A database written by an earlier contract (cpg_definitions without `type_checking_only` and
    `other_python_only`, appended since) is not refused: the columns are added, NULL in the rows already there
    (linked as before), computed for every file indexed again, and a run that only relinks (a file deleted)
    works on it too."""
    files = {"p/__init__.py": "", "p/a.py": "def f():\n    return 1\n", "p/b.py": "from p.a import f\n\n\ndef g():\n    return f()\n",
             "p/c.py": "def h():\n    return 2\n"}
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)
    assert run_cli(["index", str(repo), "--workers", "1"], env)[0] == 0
    with duckdb.connect(env["CODEINTEL_DB"]) as c:
        c.execute("ALTER TABLE cpg_definitions DROP COLUMN other_python_only")
        c.execute("ALTER TABLE cpg_imports DROP COLUMN other_python_only")
        c.execute("ALTER TABLE cpg_definitions DROP COLUMN type_checking_only")
    (repo / "p" / "c.py").unlink()
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--json"], env)
    assert code == 0, err
    (repo / "p" / "a.py").write_text("def f():\n    return 3\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1", "--json"], env)
    assert code == 0, err
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        flags = dict(c.execute("SELECT path, list(DISTINCT type_checking_only) FROM cpg_definitions GROUP BY path"
                               ).fetchall())
        other = dict(c.execute("SELECT path, list(DISTINCT other_python_only) FROM cpg_definitions GROUP BY path"
                               ).fetchall())
        edges = c.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls").fetchall()
    assert flags == {"p/__init__.py": [None], "p/a.py": [False], "p/b.py": [None]}, flags
    assert other == flags, other
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        imports = dict(c.execute("SELECT path, list(DISTINCT other_python_only) FROM cpg_imports GROUP BY path"
                                 ).fetchall())
    assert imports == {"p/b.py": [None]}, imports  # b.py's import row is from before the column
    assert edges == [("p.b.g", "p.a.f")]
