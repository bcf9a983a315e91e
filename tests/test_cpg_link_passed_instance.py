"""`p.m(...)` on an unannotated parameter p: an instance of each class the resolved calls pass for p (rule
`passed_instance`), when every argument passed for it is typed (a constructor call, or a name only constructor calls
bind). The standard library has 177 such call sites (`def _post_mortem(t, pdb_instance): pdb_instance.reset()`,
called with `Pdb()`).

The oracle is CPython: the fixture runs with a profiler that records which function each call of the marked lines
enters (sys.setprofile's 'call' events: the code object's qualname).
"""

import json

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_link_sqla_trial import in_cpython

SHAPES = '''class Shape:
    def area(self):
        return 0

    def name(self):
        return "shape"


class Square(Shape):
    def __init__(self, side=2):
        self.side = side

    def area(self):
        return self.side * self.side


class Circle(Shape):
    def area(self):
        return 3


def describe(shape, scale):
    return shape.area() * scale


def label(thing):
    return thing.name()


def untyped(value):
    return value.area()


def reassigned(shape):
    shape = Circle()
    return shape.area()


def option(opts):
    return opts.get("a")
'''

USE = '''from pkg.shapes import Circle, Square, describe, label, option, reassigned, untyped


def configure(**kwargs):
    return option(kwargs)


def main(unknown):
    describe(Square(3), 1)
    c = Circle()
    describe(c, 2)
    label(Square())
    untyped(Square())
    untyped(unknown)
    reassigned(Square())
    d = {}
    option(d)
'''

FILES = {"pkg/__init__.py": "", "pkg/shapes.py": SHAPES, "pkg/use.py": USE}

ORACLE = """
import json, sys
from pkg import shapes, use
seen = set()
def prof(frame, event, arg):
    if event == 'call' and frame.f_back is not None and frame.f_back.f_code.co_name in ('describe', 'label', 'reassigned'):
        seen.add((frame.f_back.f_code.co_name, frame.f_back.f_lineno, frame.f_code.co_qualname))
sys.setprofile(prof)
use.main(shapes.Circle())
sys.setprofile(None)
print(json.dumps(sorted(seen)))
"""


def _line(text: str) -> int:
    return SHAPES[:SHAPES.index(text)].count("\n") + 1


def test_a_method_of_a_parameter_reaches_the_classes_its_callers_pass(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    ran = {tuple(r) for r in json.loads(in_cpython(repo, ORACLE))}
    # what ran (by hand too): Square.area and Circle.area from describe, Shape.name from label
    assert {(f, q) for f, _, q in ran} == {("describe", "Square.area"), ("describe", "Circle.area"),
                                            ("label", "Shape.name"), ("reassigned", "Circle.area")}
    got = call_edges(env["CODEINTEL_DB"], "pkg/shapes.py", "passed_instance")
    # 0.8 x the wiring (1.0) x the class's resolution (1.0; a name bound by one constructor call: 1/1)
    assert got[_line("shape.area() * scale")] == [("pkg.shapes.Circle.area", "passed_instance", 0.8),
                                                  ("pkg.shapes.Square.area", "passed_instance", 0.8)]
    assert got[_line("thing.name()")] == [("pkg.shapes.Shape.name", "passed_instance", 0.8)]
    # one argument of unknown type among the calls (a parameter of main): nothing is known of value
    assert _line("value.area()") not in got
    # names bound to literals of one builtin type (a dict display, a **kwargs parameter): that type's method,
    # 0.8 x 0.9 (as literal_bound) x the wiring
    assert got[_line('opts.get("a")')] == [("<builtin>.dict.get", "passed_instance", 0.72)]
    # a parameter bound again in its function: not this rule (instance_method types the new binding)
    assert _line("return shape.area()\n") not in got
    # the receiver is wired to the method's self
    import duckdb
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        wired = c.execute("SELECT b.param_name, b.implicit_receiver FROM cpg_binds_arg b JOIN cpg_call_sites s "
                          "ON s.callsite_id = b.callsite_id WHERE s.path = 'pkg/shapes.py' AND s.lineno = ? "
                          "AND b.rule = 'passed_instance'", [_line("thing.name()")]).fetchall()
    assert wired == [("self", True)]


def test_a_callers_edit_moves_the_edge_in_the_file_it_did_not_touch(tmp_path):
    """Only pkg/use.py changes (it passes a Circle where it passed a Square, and a number to label): shapes.py's
    edges follow, and the incremental link equals a full index of the final files."""
    files = dict(FILES) | {f"pkg/other{i}.py": f"def f{i}():\n    return {i}\n" for i in range(8)}
    repo, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    before = call_edges(db, "pkg/shapes.py", "passed_instance")
    assert [q for q, _, _ in before[_line("shape.area() * scale")]] == ["pkg.shapes.Circle.area", "pkg.shapes.Square.area"]
    assert _line("thing.name()") in before
    (repo / "pkg/use.py").write_text(USE.replace("describe(Square(3), 1)", "describe(Circle(), 1)")
                                        .replace("label(Square())", "label(Square())\n    label(42)"))
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["files_changed"] == 1
    incremental = call_edges(db, "pkg/shapes.py")
    assert [e for e in incremental[_line("shape.area() * scale")] if e[1] == "passed_instance"] == [
        ("pkg.shapes.Circle.area", "passed_instance", 0.8)]
    # a literal among the arguments: not typed by this rule, so no edge at all
    assert all(e[1] != "passed_instance" for e in incremental.get(_line("thing.name()"), []))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _, env2, _ = index_repo(fresh, {p: (repo / p).read_text() for p in files})
    assert call_edges(env2["CODEINTEL_DB"], "pkg/shapes.py") == incremental
