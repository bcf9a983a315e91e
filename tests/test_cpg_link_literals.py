"""What a user trial on mypy 2.4.1 found (session AU): the most frequent calls the link left unresolved were methods
of literals and displays (`", ".join(parts)`: 97 call sites in mypy, 2,920 calls on a constant in the standard
library). Their receiver's type is exact (CPython makes no subclass for a literal, and a builtin type's methods
cannot be replaced), so the callee is certain: rule `literal`, `<builtin>.str.join`.

The expected callees are CPython's: each receiver is evaluated in this interpreter and its type's attribute looked
up (`type(eval(receiver)).__name__`, `callable(getattr(type, attr))`), not taken from the extractor.
"""

import ast
import builtins
import textwrap

from tests.conftest import call_edges, index_repo, run_cli

MODULE = textwrap.dedent('''
    class str:  # shadows the builtin name: a literal's type is still builtins.str
        def join(self, xs):
            return xs


    def f(xs, d):
        s = ", ".join(xs)
        b = b"ab".decode("ascii")
        n = (255).bit_length()
        t = f"{s}!".upper()
        acc = [].copy()
        v = {"a": 1}.get("a")
        u = {1, 2}.union(d)
        w = [x for x in xs].index(1)
        c = (1, 2).count(1)
        k = {x: x for x in xs}.keys()
        z = 1.5.is_integer()
        bad = "abc".nope()
        r = "abc".upper.__call__()
        q = None.__bool__()
        name = s.join(xs)
        o = True.bit_count()
        h = "abc".__dir__()
        return s, b, n, t, acc, v, u, w, c, k, z, bad, r, q, name, o, h
''').lstrip("\n")  # as write_repo writes it
ENV = {"xs": [1], "d": set(), "s": ""}  # the names the receivers read (comprehensions, an f-string)


def cpython_callees(source: str) -> dict[int, str | None]:
    """Line -> the builtin method each call with a literal receiver runs, as CPython evaluates the receiver (None: the
    type has no such callable attribute, the call raises). Calls on names, and on None, are not literal calls."""
    out: dict[int, str | None] = {}
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        recv = node.func.value
        if isinstance(recv, ast.Attribute) or isinstance(recv, ast.Name):
            continue  # `"abc".upper.__call__` (an attribute path) and names: not this rule
        value = eval(ast.get_source_segment(source, recv), {}, dict(ENV))  # noqa: S307 - the fixture's literals
        typ = type(value)
        if getattr(builtins, typ.__name__, None) is not typ:
            continue  # None: NoneType is no builtins name
        attr = node.func.attr
        # (named by the class of its MRO whose __dict__ holds it: True.bit_count is int's, "abc".__dir__ object's)
        owner = next((k for k in typ.__mro__ if attr in vars(k)), None)
        out[node.lineno] = (f"<builtin>.{owner.__name__}.{attr}" if callable(getattr(typ, attr, None)) else None)
    return out


def _edges(db: str) -> dict[int, list[tuple[str, str, float]]]:
    return call_edges(db, "pkg/m.py")


def test_a_method_of_a_literal_receiver_is_its_builtin_types_method(tmp_path):
    truth = cpython_callees(MODULE)
    assert len(truth) == 14 and truth[MODULE.splitlines().index('    bad = "abc".nope()') + 1] is None, truth
    assert {"<builtin>.int.bit_count", "<builtin>.object.__dir__"} <= set(truth.values()), truth
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": MODULE})
    got = _edges(env["CODEINTEL_DB"])
    for line, callee in truth.items():
        want = [] if callee is None else [(callee, "literal", 1.0)]
        assert got.get(line, []) == want, (line, got.get(line))
    lines = MODULE.splitlines()
    # not a literal receiver: no `literal` edge (an attribute path, None, a name bound to a string)
    for text in ('r = "abc".upper.__call__()', "q = None.__bool__()", "name = s.join(xs)"):
        line = lines.index("    " + text) + 1
        assert all(rule != "literal" for _, rule, _ in got.get(line, [])), (text, got.get(line))
    # the module's own `class str` is not what "sep".join calls
    assert not any(callee == "pkg.m.str.join" for edges in got.values() for callee, _, _ in edges), got


def test_an_edit_of_a_literal_call_relinks_it(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": "def f(xs):\n    return ', '.join(xs)\n"})
    assert _edges(env["CODEINTEL_DB"]) == {2: [("<builtin>.str.join", "literal", 1.0)]}
    (repo / "pkg" / "m.py").write_text("def f(xs):\n    return b', '.join(xs)\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert _edges(env["CODEINTEL_DB"]) == {2: [("<builtin>.bytes.join", "literal", 1.0)]}


BOUND = '''
X = []
Y = []


def rebind_y():
    global Y
    Y = 5


def f(xs):
    out = []
    out.append(1)
    s = ""
    s += "x"
    s.upper()
    t = "a"
    t = b"b"
    t.upper()
    u = "u"
    try:
        u.nope()
    except AttributeError:
        pass
    for w in xs:
        pass
    w = ""
    w.strip()
    d = {}
    d.get(1)
    X.append(1)
    Y.append(1)
    (z := "z")
    z.upper()
    q = r = []
    r.append(1)
    e = [x for x in xs]
    e.sort()
    k = f"{xs}"
    k.upper()
    return out, s, t, u, w, d, z, q, e, k
'''.lstrip("\n")
# bound only to literals of one type by assignments: the lines the rule resolves (the other receivers are bound by
# `+=`, two types, a loop, a global statement elsewhere, a walrus: no edge, whatever they hold at runtime)
RESOLVED = {"out.append", "d.get", "X.append", "r.append", "e.sort", "k.upper"}


def runtime_receivers(source: str) -> dict[int, tuple[str, str]]:
    """Line -> (receiver.attr text, the builtin method CPython runs there), from the receiver's type when the line
    runs (sys.settrace over f), for every `name.attr(...)` call of f."""
    ns: dict = {}
    exec(compile(source, "<bound>", "exec"), ns)  # noqa: S102 - the fixture
    return _traced(source, "<bound>", lambda: ns["f"]([1, 2]))


def _traced(source: str, filename: str, call) -> dict[int, tuple[str, str]]:
    """Line -> (receiver.attr text, the builtin method CPython runs there) for every `name.attr(...)` call of
    ``source`` (compiled as ``filename``) that ``call()`` runs, from the receiver's type when its line runs."""
    import sys
    calls = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            calls[node.lineno] = (node.func.value.id, node.func.attr)
    seen: dict[int, tuple[str, str]] = {}

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != filename:
            return None
        if event == "line" and frame.f_lineno in calls:
            name, attr = calls[frame.f_lineno]
            value = frame.f_locals[name] if name in frame.f_locals else frame.f_globals[name]
            typ = type(value)
            seen[frame.f_lineno] = (f"{name}.{attr}", f"<builtin>.{typ.__name__}.{attr}"
                                    if callable(getattr(typ, attr, None)) else None)
        return tracer
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    return seen


def test_a_name_bound_only_to_literals_of_one_type_calls_that_types_method(tmp_path):
    truth = runtime_receivers(BOUND)
    assert {text for text, _ in truth.values()} >= RESOLVED | {"s.upper", "t.upper", "u.nope", "Y.append", "z.upper"}
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": BOUND})
    got = _edges(env["CODEINTEL_DB"])
    for line, (text, callee) in sorted(truth.items()):
        want = [(callee, "literal_bound", 0.9)] if text in RESOLVED else []
        assert got.get(line, []) == want, (line, text, got.get(line))


STARRED = '''
def g(*args, **kwargs):
    kwargs.pop("a", None)
    kwargs.setdefault("b", 1)
    args.count(1)
    return args.index(1), kwargs


def h(*args, **opts):
    opts = dict(opts)
    opts.get("a")
    args = list(args)
    args.append(1)
    return args, opts


def outer(**kw):
    def inner():
        return kw.get("a")
    return inner()


def rebound(**kw):
    def reset():
        nonlocal kw
        kw = list(kw)
    reset()
    return kw.copy()


def run():
    return g(1, a=2), h(1), outer(a=1), rebound(a=1)
'''.lstrip("\n")
# a *args / **kwargs parameter bound nowhere else: a tuple / dict on every call, also read from a nested function
# (the other receivers are rebound to a call's result, in the function or through `nonlocal`: no edge)
STARRED_RESOLVED = {"kwargs.pop", "kwargs.setdefault", "args.count", "args.index", "kw.get"}


def test_a_star_parameter_is_a_tuple_and_a_double_star_parameter_a_dict(tmp_path):
    ns: dict = {}
    exec(compile(STARRED, "<starred>", "exec"), ns)  # noqa: S102 - the fixture
    truth = _traced(STARRED, "<starred>", ns["run"])
    assert {text for text, _ in truth.values()} == STARRED_RESOLVED | {"opts.get", "args.append", "kw.copy"}, truth
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": STARRED})
    got = _edges(env["CODEINTEL_DB"])
    for line, (text, callee) in sorted(truth.items()):
        want = [(callee, "literal_bound", 0.9)] if text in STARRED_RESOLVED else []
        assert [e for e in got.get(line, []) if e[1] == "literal_bound"] == want, (line, text, got.get(line))
