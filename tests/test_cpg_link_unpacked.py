"""Names bound by tuple unpacking: `a, b = f()` where f is declared `-> tuple[A, B]` (rule `unpacked`), and
`a, b = A(), []`, each name bound to its own value as if assigned alone (the rules of a single assignment).

Before, a name bound by a tuple target had no value ref and none of its method calls had an edge (pip 24.2: 372
such assignments from a call, 56 from a display; the standard library: 4,141 and 626).

The oracle is CPython: each function is called and its result unpacked, and the method is looked up on the class
of each name's value (the class of its MRO whose `__dict__` holds it).
"""

import json

from tests.conftest import call_edges, index_repo
from tests.test_cpg_link_sqla_trial import in_cpython
from tests.test_cpg_link_stdlib_bases import returned_methods

FIXTURE = '''import re
from typing import Optional, Tuple


class Box:
    def grow(self, by):
        return by


class Lid(Box):
    def close(self):
        return self


def pair() -> tuple[Box, Lid]:
    return Box(), Lid()


def typed() -> Tuple["Lid", int]:
    return Lid(), 1


def maybe() -> Optional[tuple[str, Box]]:
    return "a", Box()


def mixed() -> tuple[int, ...]:
    return (1, 2)


def untyped():
    return Box(), Box()


async def later() -> tuple[Box, Box]:
    return Box(), Box()


def many() -> list[Box]:
    return [Box(), Box()]


async def chunks() -> list[Box]:
    return [Box(), Box()]


def use():
    a, b = pair()
    a.grow(1)
    b.close()
    b.grow(2)
    c, n = typed()
    c.close()
    n.bit_length()
    s, d = maybe()
    s.upper()
    d.grow(3)
    p, q = mixed()
    p.bit_length()
    u, v = untyped()
    u.grow(4)
    x, y = Box(), []
    x.grow(5)
    y.append(6)
    w, z = pair()
    w = Lid()
    w.grow(7)
    [e, f] = pair()
    e.grow(8)
    m, k = re.match("a", "a"), "b"
    k.upper()
    r1, r2 = many()
    r2.grow(10)


async def waits():
    g, h = await later()
    g.grow(9)
    i1, i2 = await chunks()
    i1.grow(11)
'''

# (the call's text, how CPython makes the value, the method, rule, confidence), by hand:
# unpacked is 0.8 x the call's (1.0) x the annotation's (1.0), as returns_method
CALLS = [
    ("a.grow(1)", "pkg.unpack.pair()[0]", "grow", "unpacked", 0.8),
    ("b.close()", "pkg.unpack.pair()[1]", "close", "unpacked", 0.8),
    ("b.grow(2)", "pkg.unpack.pair()[1]", "grow", "unpacked", 0.8),
    ("c.close()", "pkg.unpack.typed()[0]", "close", "unpacked", 0.8),
    ("n.bit_length()", "pkg.unpack.typed()[1]", "bit_length", "unpacked", 0.8),
    ("s.upper()", "pkg.unpack.maybe()[0]", "upper", "unpacked", 0.8),
    ("d.grow(3)", "pkg.unpack.maybe()[1]", "grow", "unpacked", 0.8),
    # a display: each name as if assigned alone (instance_method 0.9, literal_bound 0.9)
    ("x.grow(5)", "pkg.unpack.Box()", "grow", "instance_method", 0.9),
    ("y.append(6)", "[]", "append", "literal_bound", 0.9),
    ("e.grow(8)", "pkg.unpack.pair()[0]", "grow", "unpacked", 0.8),
    ("k.upper()", "'b'", "upper", "literal_bound", 0.9),
    # `-> list[Box]`, `-> tuple[int, ...]`: every place is one
    ("r2.grow(10)", "pkg.unpack.many()[1]", "grow", "unpacked", 0.8),
    ("p.bit_length()", "pkg.unpack.mixed()[0]", "bit_length", "unpacked", 0.8),
]



def test_names_bound_by_tuple_unpacking_reach_their_classes_methods(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/unpack.py": FIXTURE})
    want = returned_methods(repo, "pkg.unpack", CALLS)
    assert want == ["pkg.unpack.Box.grow", "pkg.unpack.Lid.close", "pkg.unpack.Box.grow", "pkg.unpack.Lid.close",
                    "<builtin>.int.bit_length", "<builtin>.str.upper", "pkg.unpack.Box.grow", "pkg.unpack.Box.grow",
                    "<builtin>.list.append", "pkg.unpack.Box.grow", "<builtin>.str.upper",
                    "pkg.unpack.Box.grow", "<builtin>.int.bit_length"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/unpack.py")
    line = lambda text: FIXTURE[:FIXTURE.index(text)].count("\n") + 1  # noqa: E731
    for (text, _, _, rule, conf), callee in zip(CALLS, want):
        assert got.get(line(text)) == [(callee, rule, conf)], (text, got.get(line(text)))
    # an unannotated function gives nothing (precision first)
    assert got.get(line("u.grow(4)"), []) == []
    # a name bound twice (by the unpacking and again): not this rule
    assert all(r != "unpacked" for _, r, _ in got.get(line("w.grow(7)"), []))
    # an awaited coroutine's result (`async def later() -> tuple[Box, Box]`)
    assert got.get(line("g.grow(9)")) == [("pkg.unpack.Box.grow", "unpacked", 0.8)]
    # an async def's `-> list[Box]`: the items route is for plain functions only (not followed through await)
    assert got.get(line("i1.grow(11)"), []) == []


def test_the_unpacking_rows_of_the_file(tmp_path):
    """The per-file plane's rows: unpack, one per name (item_index its place, the value node the call site), and
    returns_tuple, one per item of a `tuple[...]` return annotation that names a class."""
    import duckdb
    source = ("from typing import Tuple\n\n\ndef f() -> Tuple[int, 'C', list[int]]:\n    return 1, C(), []\n\n\n"
              "class C:\n    pass\n\n\ndef g():\n    a, (b, c) = f()\n    d, e, *rest = f()\n    i, j, k = f()\n")
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/t.py": source})
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        unpack = c.execute("SELECT b.name, v.item_index, s.callsite_id IS NOT NULL FROM cpg_value_refs v "
                           "JOIN py_sym_bindings b ON b.binding_id = v.target_binding_id "
                           "LEFT JOIN cpg_call_sites s ON s.ast_node_id = v.ast_node_id AND s.path = v.path "
                           "WHERE v.path = 'pkg/t.py' AND v.role = 'unpack' ORDER BY ALL").fetchall()
        items = c.execute("SELECT item_index, root FROM cpg_value_refs WHERE path = 'pkg/t.py' "
                          "AND role = 'returns_tuple' ORDER BY ALL").fetchall()
    # (only a target of plain names: `a, (b, c)` and `d, e, *rest` are not)
    assert unpack == [("i", 0, True), ("j", 1, True), ("k", 2, True)]
    assert items == [(0, "int"), (1, "C")]


LOOPS = '''class Box:
    def grow(self, by):
        return by


def boxes() -> list[Box]:
    return [Box(), Box()]


def use(items: list[Box], names: list[str]):
    for i, b in enumerate(boxes()):
        b.grow(i)
    for i, b2 in enumerate(items, 1):
        b2.grow(i)
    for n, b3 in zip(names, items):
        n.upper()
        b3.grow(1)
    return [b4.grow(0) for _, b4 in enumerate(items)]
'''

SHADOWED = '''from pkg.loops import Box


def enumerate(xs):
    return [(x, x) for x in xs]


def use(items: list[Box]):
    for i, b in enumerate(items):
        b.grow(i)
'''


def test_loops_over_enumerate_and_zip_bind_the_items_of_their_iterables(tmp_path):
    """`for i, x in enumerate(xs)` binds x as `for x in xs` would; `for a, b in zip(xs, ys)` each name to its own
    iterable's items (rule iterated, as for a plain loop); not when the file binds the name called itself."""
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/loops.py": LOOPS, "pkg/shadow.py": SHADOWED})
    # CPython: the class of each name's values, and where the method is found
    want = json.loads(in_cpython(repo, "import json\nfrom pkg.loops import *\nb = Box()\nout = []\n"
                                       "for i, x in enumerate(boxes()): out.append(type(x).__qualname__)\n"
                                       "for n, x in zip(['a'], [b]): out.append(type(n).__qualname__ + '/' + type(x).__qualname__)\n"
                                       "print(json.dumps(out))"))
    assert want == ["Box", "Box", "str/Box"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/loops.py", "iterated")  # (not the enumerate() calls themselves)
    line = lambda text: LOOPS[:LOOPS.index(text)].count("\n") + 1  # noqa: E731
    # iterated: 0.8 x the call (1.0, or a declared parameter's 1.0) x the annotation's resolution (1.0)
    for text in ("b.grow(i)", "b2.grow(i)", "b3.grow(1)", "b4.grow(0)"):
        assert got.get(line(text)) == [("pkg.loops.Box.grow", "iterated", 0.8)], text
    assert got.get(line("n.upper()")) == [("<builtin>.str.upper", "iterated", 0.8)]
    # the file's own `enumerate`: not the builtin, so nothing is known of what it yields
    shadowed = call_edges(env["CODEINTEL_DB"], "pkg/shadow.py", "iterated")
    assert shadowed.get(SHADOWED[:SHADOWED.index("b.grow(i)")].count("\n") + 1, []) == []
