"""super().m() whose method CPython finds in a builtin class: `super().__init__()` in a class with no base runs
`object.__init__`, `super().__str__()` in an Exception subclass `BaseException.__str__`, `super().get(k)` in a dict
subclass `dict.get`. Before, such a call had no edge (pip 24.2: 68 of its super() calls; the standard library: 363
of 1,154); now it is a `super` edge to `<builtin>.<the class whose __dict__ holds m>.<m>`. The walk is CPython's:
the first class after the start class that has m gives the edge, so a builtin base before a mixin of the repository that defines m wins
(`class R(dict, Mixin)`: `dict.get`, where the rule gave `Mixin.get` before); a class of the standard library
is walked the same way (json.JSONEncoder: its `default` is json.encoder.JSONEncoder.default; it has no `get`, so
a class of the repository after it keeps the edge it had, at 0.72: tests/test_cpg_link_stdlib_bases.py). Nor is there a builtin edge where a subclass of the repository puts another class
after the caller's (`class Mixed(Cooperative, B)`: super().__init__() in Cooperative runs B.__init__ there).

The oracle is CPython's MRO: for each `super(...).m(` call of the fixture, the first class of
``type.__mro__`` after the start class whose ``__dict__`` holds ``m``.
"""

import ast
import json

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_link_sqla_trial import in_cpython

FIXTURE = '''import json


class A:
    def __init__(self):
        super().__init__()


class E(Exception):
    def __init__(self, msg):
        super().__init__(msg)

    def __str__(self):
        return super().__str__()


class D(dict):
    def get(self, k, d=None):
        return super().get(k, d)


class B:
    def __init__(self):
        self.x = 1


class C(B):
    def __init__(self):
        super().__init__()


class M(type):
    def __call__(cls, *a):
        return super().__call__(*a)


class J(json.JSONEncoder):
    def default(self, o):
        return super().default(o)


class P(dict):
    def keys(self):
        return 1


class Q(P):
    def keys(self):
        return super(P, self).keys()


class Mixin:
    def get(self, k, d=None):
        return d


class R(dict, Mixin):
    pass


class S(R):
    def get(self, k, d=None):
        return super().get(k, d)


class T(Mixin, dict):
    pass


class U(T):
    def get(self, k, d=None):
        return super().get(k, d)


class W(json.JSONEncoder, Mixin):
    def get(self, k, d=None):
        return super().get(k, d)


class Cooperative:
    def __init__(self):
        super().__init__()


class Mixed(Cooperative, B):
    pass
'''


def _super_calls(source: str) -> list[tuple[int, str, str | None, str]]:
    """(line, class, the explicit start class or None, method) of every `super(...).m(...)` in a method."""
    out = []
    for cls in ast.parse(source).body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in ast.walk(cls):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
                    and node.func.value.func.id == "super"):
                args = node.func.value.args
                out.append((node.lineno, cls.name, args[0].id if args else None, node.func.attr))
    return out


ORACLE = """
import builtins, json, sys
import pkg.fx as fx
out = {}
for line, cls, start, method in json.loads(sys.argv[2]):
    mro = getattr(fx, cls).__mro__
    after = mro[mro.index(getattr(fx, start) if start else getattr(fx, cls)) + 1:]
    owner = next(k for k in after if method in vars(k))
    # a class outside the repository that is not a builtin before it: the link's MRO is incomplete there (x 0.8)
    unknown = any(k.__module__ != "pkg.fx" and getattr(builtins, k.__name__, None) is not k
                  for k in mro[:mro.index(owner)])
    if owner.__module__ == "pkg.fx":
        out[line] = ["pkg.fx." + owner.__qualname__ + "." + method, 0.72 if unknown else 0.9]
    elif getattr(builtins, owner.__name__, None) is owner:
        # the class of the instance decides: every class of the fixture that has this one in its MRO must reach
        # the same builtin (Mixed(Cooperative, B) runs B.__init__ where Cooperative alone runs object.__init__)
        start_class = getattr(fx, start) if start else getattr(fx, cls)
        owners = {next(k for k in c.__mro__[c.__mro__.index(start_class) + 1:] if method in vars(k))
                  for c in vars(fx).values() if isinstance(c, type) and start_class in c.__mro__}
        out[line] = ["<builtin>." + owner.__name__ + "." + method, 0.9] if owners == {owner} else None
    else:  # a class of the standard library: as CPython names it
        out[line] = [owner.__module__ + "." + owner.__qualname__ + "." + method, 0.9]
print(json.dumps(out))
"""


def test_super_calls_reach_the_class_cpython_finds(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/fx.py": FIXTURE})
    calls = _super_calls(FIXTURE)
    assert len(calls) == 12
    import subprocess
    import sys
    expected = {int(k): v for k, v in json.loads(subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, sys.argv[1]); {ORACLE}", str(repo),
         json.dumps(calls)], capture_output=True, text=True, check=True).stdout).items()}
    # the fixture covers each case: builtin owners (object, BaseException, dict, type), a repository class, one
    # of the standard library, a builtin before a mixin and a mixin before a builtin
    assert sorted(v[0] for v in expected.values() if v) == sorted([
        "<builtin>.object.__init__", "<builtin>.Exception.__init__", "<builtin>.BaseException.__str__",
        "<builtin>.dict.get", "pkg.fx.B.__init__", "<builtin>.type.__call__", "<builtin>.dict.keys",
        "<builtin>.dict.get", "pkg.fx.Mixin.get", "pkg.fx.Mixin.get", "json.encoder.JSONEncoder.default"])
    # (W: json.JSONEncoder, which has no `get`, before the mixin: the repository's edge, as before, at 0.72;
    # Cooperative: object.__init__ alone, B.__init__ in Mixed: no edge)
    assert sum(1 for v in expected.values() if v is None) == 1
    got = {line: [(callee, conf) for callee, rule, conf in edges if rule == "super"]
           for line, edges in call_edges(env["CODEINTEL_DB"], "pkg/fx.py").items()}
    for line, want in expected.items():
        assert got.get(line, []) == ([tuple(want)] if want else []), (line, want, got.get(line))


def test_a_subclass_in_another_file_that_mixes_the_class_in_takes_its_builtin_edge_away(tmp_path):
    """Cooperative alone: super().__init__() runs object.__init__ (CPython: Cooperative.__mro__ == (Cooperative,
    object)). Once b.py mixes it before B, an instance of Mixed runs B.__init__ from there: the `super_subclass` edge,
    and no builtin one. b.py's class deleted again: back to object.__init__ (before, the deletion relinked b.py
    alone, its edit "changing no class" as the file now stands, and a.py kept the edge into B.__init__ for ever)."""
    a = ("class B:\n    def __init__(self):\n        self.x = 1\n\n\n"
         "class Cooperative:\n    def __init__(self):\n        super().__init__()\n")
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": a, "pkg/b.py": "X = 1\n"})

    def edges():
        got = call_edges(env["CODEINTEL_DB"], "pkg/a.py")
        return {line: [e for e in es if e[1] in ("super", "super_subclass")] for line, es in got.items()}
    alone = {8: [("<builtin>.object.__init__", "super", 0.9)]}
    assert edges() == alone
    (repo / "pkg" / "b.py").write_text("from pkg.a import B, Cooperative\n\n\nclass Mixed(Cooperative, B):\n    pass\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert edges() == {8: [("pkg.a.B.__init__", "super_subclass", 0.72)]}
    (repo / "pkg" / "b.py").write_text("X = 2\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert edges() == alone
