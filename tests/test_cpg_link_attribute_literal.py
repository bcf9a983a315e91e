"""What the standard library, mypy and sympy left unresolved after the `literal_bound` rule (session AV): methods of an
instance attribute that only literals are stored in, `self.parts = []` in `__init__`, then `self.parts.append(x)`
(1,765 such call sites in the standard library). Rule `attribute_literal`: where every store of `a` the classes of
the receiver's MRO make (`self.a = ...` in their methods, `a = ...` in their bodies; `= None` aside) is a literal or
display of one builtin type, the call is that type's method.

The expected callees are CPython's: the fixture runs, and the type of each receiver `self.a` / `k.a` is read with
`sys.settrace` when its line runs; nothing is taken from the extractor.
"""

import ast
import sys

import duckdb

from tests.conftest import call_edges, index_repo, run_cli

MODULE = '''
class Base:
    tags = ()

    def __init__(self):
        self.parts = []
        self.seen = {}
        self.cache = None
        self.text = ""
        self.blob = ""
        self.mixed = []
        self.counter = ""
        self.odd = "u"

    def reset(self):
        self.cache = {}
        self.blob = b""
        self.mixed = list(self.parts)
        self.counter += "x"

    def run(self, x):
        self.parts.append(x)
        self.seen.get(x)
        self.cache.get(x)
        self.tags.count(x)
        self.text.upper()
        self.blob.upper()
        self.mixed.append(x)
        self.counter.upper()
        try:
            self.odd.nope()
        except AttributeError:
            pass
        return self


class Child(Base):
    def more(self, xs):
        self.parts.extend(xs)
        return self


def use():
    k = Child()
    k.reset()
    k.run(1)
    k.more([2])
    k.parts.pop()
    return k
'''.lstrip("\n")  # as write_repo writes it
# every store of the attribute a literal of one type (None aside): the lines the rule resolves. The others: a bytes and
# a str store (blob), a list(...) call (mixed), `+=` (counter), a method str lacks (odd): no edge, whatever runs.
RESOLVED = {"self.parts.append": 0.8, "self.seen.get": 0.8, "self.cache.get": 0.8, "self.tags.count": 0.8,
            "self.text.upper": 0.8, "self.parts.extend": 0.8, "k.parts.pop": 0.72}


def runtime_callees(source: str) -> dict[int, tuple[str, str | None]]:
    """Line -> (the call's `recv.a.m` text, the builtin method CPython runs there), from the type of `recv.a` when
    the line runs (sys.settrace over use()), for every `name.a.m(...)` call."""
    calls = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Attribute) and isinstance(node.func.value.value, ast.Name):
            calls[node.lineno] = (node.func.value.value.id, node.func.value.attr, node.func.attr)
    ns: dict = {}
    exec(compile(source, "<attr>", "exec"), ns)  # noqa: S102 - the fixture
    seen: dict[int, tuple[str, str | None]] = {}

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != "<attr>":
            return None
        if event == "line" and frame.f_lineno in calls:
            name, attr, method = calls[frame.f_lineno]
            typ = type(getattr(frame.f_locals[name], attr))
            seen[frame.f_lineno] = (f"{name}.{attr}.{method}", f"<builtin>.{typ.__name__}.{method}"
                                    if callable(getattr(typ, method, None)) else None)
        return tracer
    sys.settrace(tracer)
    try:
        ns["use"]()
    finally:
        sys.settrace(None)
    return seen


def _edges(db: str, rule: str) -> dict[int, list[tuple[str, float]]]:
    return {line: [(callee, conf) for callee, _, conf in edges] for line, edges in call_edges(db, "pkg/m.py", rule).items()}


def test_an_attribute_only_literals_are_stored_in_calls_that_types_method(tmp_path):
    truth = runtime_callees(MODULE)
    assert {text for text, _ in truth.values()} == set(RESOLVED) | {
        "self.blob.upper", "self.mixed.append", "self.counter.upper", "self.odd.nope"}
    assert all(callee is not None for text, callee in truth.values() if text in RESOLVED)
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": MODULE})
    got = _edges(env["CODEINTEL_DB"], "attribute_literal")
    for line, (text, callee) in sorted(truth.items()):
        want = [(callee, RESOLVED[text])] if text in RESOLVED else []
        assert got.get(line, []) == want, (line, text, got.get(line))
    assert set(got) <= set(truth), got


def test_a_store_of_another_type_added_by_an_edit_removes_the_edge(tmp_path):
    before = "class K:\n    def __init__(self):\n        self.a = []\n\n    def f(self):\n        self.a.append(1)\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": before})
    assert _edges(env["CODEINTEL_DB"], "attribute_literal") == {6: [("<builtin>.list.append", 0.8)]}
    (repo / "pkg" / "m.py").write_text(before + "\n    def g(self):\n        self.a = ()\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert _edges(env["CODEINTEL_DB"], "attribute_literal") == {}


def test_an_edit_of_the_base_class_in_another_file_relinks_the_subclass_call(tmp_path):
    base = "class Base:\n    def __init__(self):\n        self.a = []\n"
    child = "from pkg.a import Base\n\n\nclass Child(Base):\n    def f(self):\n        self.a.append(1)\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": base, "pkg/b.py": child})

    def edges():
        with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
            return c.execute("SELECT s.path, s.lineno, c.callee_qualname FROM cpg_call_sites s JOIN cpg_calls c "
                             "USING (callsite_id) WHERE c.rule = 'attribute_literal'").fetchall()
    assert edges() == [("pkg/b.py", 6, "<builtin>.list.append")]
    (repo / "pkg" / "a.py").write_text(base.replace("[]", "{}"))
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert edges() == []  # dict has no append
    (repo / "pkg" / "a.py").write_text(base.replace("[]", "[1]"))
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert edges() == [("pkg/b.py", 6, "<builtin>.list.append")]
