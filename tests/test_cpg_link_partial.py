"""`g = functools.partial(F, *a, **k)` then `g(...)`: the call runs F (rule `partial`), its arguments after the
partial's own positional ones.

Before, such a call had an edge to `functools.partial.__call__` only (pip 24.2: 47 unresolved call sites of
`cmdoptions.no_clean()` and its siblings, defined `no_clean = partial(Option, "--no-clean", ...)`; the standard
library: 174 sites whose F was unknown). That edge stays (partial's `__call__` runs too); the new one names F.

The oracle is CPython: the fixture is imported, each partial object's `func` names F, and
`inspect.signature(func).bind(*p.args, *args, **{**p.keywords, **kwargs})` says which parameter each argument of
the outer call binds.
"""

import json

import duckdb

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_link_sqla_trial import in_cpython

BASE = '''def scale(value, factor, offset=0):
    return value * factor + offset


def twice(*args):
    return args
'''

OPS = '''import functools
import os.path
from functools import partial

from pkg.base import scale, twice


class Box:
    def __init__(self, width, height, label=""):
        self.width = width
        self.height = height
        self.label = label


class Runner:
    def step(self, n, m):
        return n + m

    def run(self):
        go = partial(self.step, 1)
        return go(2)


double = partial(scale, factor=2)
triple = functools.partial(scale, 3)
Square = partial(Box, 5)
spread = partial(twice, *[1, 2])
join = partial(os.path.join, "root")
inc = partial(lambda a, b: a + b, 1)
maybe = partial(scale, 1)
maybe = None


def use():
    double(4)
    triple(7, offset=1)
    Square(6, label="s")
    spread(3)
    join("x")
    inc(2)
    partial(scale, 2)(3)
    maybe(1)
'''

USE = '''from pkg import ops
from pkg.ops import double


def main():
    ops.triple(1)
    double(5)
    ops.Square(2)
'''

FILES = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/ops.py": OPS, "pkg/use.py": USE}

# (file, the call's text, how CPython reaches the partial object, the outer call's args / kwargs)
CALLS = [
    ("pkg/ops.py", "double(4)", "ops.double", [4], {}),
    ("pkg/ops.py", "triple(7, offset=1)", "ops.triple", [7], {"offset": 1}),
    ("pkg/ops.py", 'Square(6, label="s")', "ops.Square", [6], {"label": "s"}),
    ("pkg/ops.py", "inc(2)", "ops.inc", [2], {}),
    ("pkg/ops.py", "partial(scale, 2)(3)", "partial(scale, 2)", [3], {}),
    ("pkg/ops.py", "return go(2)", "partial(ops.Runner().step, 1)", [2], {}),
    ("pkg/use.py", "ops.triple(1)", "ops.triple", [1], {}),
    ("pkg/use.py", "double(5)", "ops.double", [5], {}),
    ("pkg/use.py", "ops.Square(2)", "ops.Square", [2], {}),
]

ORACLE = """
import inspect, json
from functools import partial
from pkg import ops
from pkg.base import scale
out = []
for make, args, kwargs in json.loads(ARGS):
    p = eval(make)
    f = p.func
    target = f.__init__ if isinstance(f, type) else f
    name = (f.__module__ + "." + f.__qualname__ + (".__init__" if isinstance(f, type) else "")).replace(
        "<lambda>", "<lambda1>")
    marks = ["ARG%d" % i for i in range(len(args))]
    bound = inspect.signature(f).bind(*p.args, *marks, **{**p.keywords, **{k: "KW" + k for k in kwargs}})
    wired = sorted([param, v] for param, v in bound.arguments.items()
                   for v in (v if isinstance(v, tuple) else [v]) if isinstance(v, str) and v.startswith(("ARG", "KW")))
    out.append([name, wired])
print(json.dumps(out))
"""


def _line(path: str, text: str) -> int:
    source = FILES[path]
    return source[:source.index(text)].count("\n") + 1


def _wiring(db: str, path: str, line: int, callee: str) -> list[list[str]]:
    """[param, ARGi / KWname] of the call on ``line`` into ``callee``, its implicit receiver left out."""
    with duckdb.connect(db, read_only=True) as c:
        rows = c.execute("SELECT b.param_name, a.kind, a.position, a.keyword FROM cpg_binds_arg b "
                         "JOIN cpg_call_args a ON a.arg_id = b.arg_id JOIN cpg_call_sites s ON s.callsite_id = b.callsite_id "
                         "JOIN cpg_definitions d ON d.def_id = b.callee_def_id "
                         "WHERE s.path = ? AND s.lineno = ? AND d.qualname = ? AND b.rule = 'partial' "
                         "AND NOT b.implicit_receiver", [path, line, callee]).fetchall()
    return sorted([p, f"ARG{pos}" if kind == "positional" else f"KW{kw}"] for p, kind, pos, kw in rows)


def _receiver(db: str, path: str, line: int, callee: str) -> list[str]:
    with duckdb.connect(db, read_only=True) as c:
        return [r[0] for r in c.execute(
            "SELECT b.param_name FROM cpg_binds_arg b JOIN cpg_call_sites s ON s.callsite_id = b.callsite_id "
            "JOIN cpg_definitions d ON d.def_id = b.callee_def_id WHERE s.path = ? AND s.lineno = ? "
            "AND d.qualname = ? AND b.implicit_receiver", [path, line, callee]).fetchall()]


def test_a_call_of_a_partial_reaches_its_function_and_wires_the_arguments_after_the_partials(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    want = json.loads(in_cpython(repo, ORACLE.replace("ARGS", repr(json.dumps([c[2:] for c in CALLS])))))
    # what CPython says, read by hand as well: F, and where the outer call's arguments go
    assert want == [
        ["pkg.base.scale", [["value", "ARG0"]]],
        ["pkg.base.scale", [["factor", "ARG0"], ["offset", "KWoffset"]]],
        ["pkg.ops.Box.__init__", [["height", "ARG0"], ["label", "KWlabel"]]],
        ["pkg.ops.<lambda1>", [["b", "ARG0"]]],
        ["pkg.base.scale", [["factor", "ARG0"]]],
        ["pkg.ops.Runner.step", [["m", "ARG0"]]],
        ["pkg.base.scale", [["factor", "ARG0"]]],
        ["pkg.base.scale", [["value", "ARG0"]]],
        ["pkg.ops.Box.__init__", [["height", "ARG0"]]],
    ]
    db = env["CODEINTEL_DB"]
    for (path, text, *_), (callee, wired) in zip(CALLS, want):
        line = _line(path, text)
        edges = [(q, c) for q, r, c in call_edges(db, path).get(line, []) if r == "partial"]
        assert [q for q, _ in edges] == [callee], (text, edges)
        assert _wiring(db, path, line, callee) == wired, text
    # the confidences: the partial's (functools is outside this repository: external, 0.9) times F's (a function
    # of the repository through an import: 1.0; a class: its constructor, 1.0; a method of self: 0.9, as self_method)
    got = call_edges(db, "pkg/ops.py", "partial")
    assert got[_line("pkg/ops.py", "double(4)")] == [("pkg.base.scale", "partial", 0.9)]
    assert got[_line("pkg/ops.py", 'Square(6, label="s")')] == [("pkg.ops.Box.__init__", "partial", 0.9)]
    assert got[_line("pkg/ops.py", "return go(2)")] == [("pkg.ops.Runner.step", "partial", 0.81)]
    # the receivers: the object the class call makes, the bound method's self
    assert _receiver(db, "pkg/ops.py", _line("pkg/ops.py", 'Square(6, label="s")'), "pkg.ops.Box.__init__") == ["self"]
    assert _receiver(db, "pkg/ops.py", _line("pkg/ops.py", "return go(2)"), "pkg.ops.Runner.step") == ["self"]
    # the edge to partial's own __call__ stays
    assert ("functools.partial.__call__", "instance_call", 0.9) in call_edges(db, "pkg/ops.py")[
        _line("pkg/ops.py", "double(4)")]
    # a function outside the repository: the edge to its imported name (external's 0.9, twice: partial's and F's)
    assert got[_line("pkg/ops.py", 'join("x")')] == [("os.path.join", "partial", 0.81)]
    # a *args in the partial: F known, where the outer arguments go is not (no positional wiring)
    line = _line("pkg/ops.py", "spread(3)")
    assert got[line] == [("pkg.base.twice", "partial", 0.9)]
    assert _wiring(db, "pkg/ops.py", line, "pkg.base.twice") == []
    # a name bound twice (the partial, then None): no edge
    assert _line("pkg/ops.py", "maybe(1)") not in got


def test_an_incremental_link_follows_a_partials_function_into_other_files(tmp_path):
    """The variable's file imports F; an importer of the variable calls it. F's file gains the definition that an
    import of the variable's file named too early; then the partial is bound to another function: the importer's
    edge follows each change, as a full link of the final files has it."""
    # (other modules, so that the link relinks the affected files only: a third of the repository or more is a
    # full link)
    files = dict(FILES) | {f"pkg/other{i}.py": f"def f{i}():\n    return {i}\n" for i in range(8)}
    files["pkg/ops.py"] = OPS.replace("from pkg.base import scale, twice",
                                      "from pkg.base import scale, twice\nfrom pkg.base import later") + \
        "\nlate = partial(later, 1)\n"
    files["pkg/use.py"] = USE + "    ops.late(2)\n"
    repo, env, _ = index_repo(tmp_path, files)
    db, late = env["CODEINTEL_DB"], files["pkg/use.py"].count("\n")
    assert [e for e in call_edges(db, "pkg/use.py").get(late, []) if e[1] == "partial"] == []
    # base.py gains `later` (an edit that only adds): use.py's call now reaches it
    (repo / "pkg/base.py").write_text(BASE + "\n\ndef later(a, b):\n    return a - b\n")
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    assert [e for e in call_edges(db, "pkg/use.py")[late] if e[1] == "partial"] == [
        ("pkg.base.later", "partial", 0.9)]
    assert _wiring(db, "pkg/use.py", late, "pkg.base.later") == [["b", "ARG0"]]
    # ops.py binds `late` to another function of base.py: the importer's edge moves
    (repo / "pkg/ops.py").write_text(files["pkg/ops.py"].replace("late = partial(later, 1)", "late = partial(scale, 1)"))
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    incremental = call_edges(db, "pkg/use.py")
    assert [e for e in incremental[late] if e[1] == "partial"] == [("pkg.base.scale", "partial", 0.9)]
    assert _wiring(db, "pkg/use.py", late, "pkg.base.scale") == [["factor", "ARG0"]]
    # a full index of the final files: the same edges
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _, env2, _ = index_repo(fresh, {p: (repo / p).read_text() for p in files})
    assert call_edges(env2["CODEINTEL_DB"], "pkg/use.py") == incremental
