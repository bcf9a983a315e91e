"""A name bound more than once, every binding giving the same class: `measurement = measurement.clamp(...)` (rich),
`text: Text` then `text = text.copy()` (rich), `frame: Frame` then `frame = frame.inner()` (jinja2): 50 executed
sites of the rich trial (session AF) and 9 of Jinja2's had no edge. Which method runs is CPython's: the fixture run
in a plain interpreter, each callee reporting its own `def` (``where()``).
"""

import duckdb
import pytest

from tests.test_cpg_link_alias_trial import wired
from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, reindexed_as_full, split

SAME = '''
from pkg.trace import where


class Measurement:
    def __init__(self, lo):
        self.lo = lo

    def clamp(self, lo) -> "Measurement":
        where()
        return Measurement(max(lo, self.lo))

    def widen(self) -> "Other":
        return Other()

    def span(self):
        return where()


class Other:
    def span(self):
        return where()


class Text:
    def copy(self) -> "Text":
        where()
        return Text()

    def truncate(self, width):
        return where() + "|" + str(width)


def get(lo) -> Measurement:
    return Measurement(lo)


def measure():
    measurement = get(1)
    measurement = measurement.clamp(2)
    return measurement.span()


def align(text: Text, width):
    text = text.copy()
    return text.truncate(width)


def two_classes(flag):
    m = Measurement(1)
    if flag:
        m = Other()
    return m.span()


def widened():
    m = Measurement(1)
    m = m.widen()
    return m.span()


def maybe(text: Text):
    if text is None:
        text = None
    return text.truncate(1)


def looped(texts):
    t = Text()
    for t in texts:
        pass
    return t.truncate(2)


class Symbols:
    def ref(self, name):
        return where() + "|" + name


class Frame:
    def __init__(self, parent=None):
        self.symbols = Symbols()

    def inner(self) -> "Frame":
        return Frame(self)


def macro_body(frame: Frame):
    frame = frame.inner()
    return frame.symbols.ref("caller")
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "same", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                       "pkg/same.py": SAME})


def test_every_binding_gives_the_class_so_the_calls_reach_its_methods(indexed):
    """`measurement = get(1)` (declared `-> Measurement`) then `measurement = measurement.clamp(2)` (declared
    `-> "Measurement"`): both calls reach Measurement's methods; `text: Text` then `text = text.copy()`: Text's.
    0.8 x the least confident binding (the annotation and the declared returns resolve at 1.0). Before: no edge
    at any of the four (the name is bound twice)."""
    truth, db, _ = indexed
    assert split(ran(truth, "from pkg.same import measure; print(measure())"))[0] == "pkg.same.Measurement.span"
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.same.measure")] == [
        ("pkg.same.Measurement.clamp", "same_class"), ("pkg.same.Measurement.span", "same_class"),
        ("pkg.same.get", "local")]
    out = ran(truth, "from pkg.same import align, Text; print(align(Text(), 3))")
    assert split(out.split("|")[0])[0] == "pkg.same.Text.truncate"
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.same.align")] == [
        ("pkg.same.Text.copy", "same_class", 0.8), ("pkg.same.Text.truncate", "same_class", 0.8)]
    assert ("pkg.same.Text.truncate", "width", "width") in wired(db, "pkg.same.align")


def test_a_binding_of_another_class_or_of_no_known_class_gives_no_edge(indexed):
    """Precision first: `m = Other()` in a branch (CPython runs Other.span for flag=True, Measurement.span
    otherwise), `m = m.widen()` declared `-> Other`, `text = None` in a branch, a loop target: no same_class edge."""
    truth, db, _ = indexed
    assert split(ran(truth, "from pkg.same import two_classes; print(two_classes(True))"))[0] == "pkg.same.Other.span"
    assert split(ran(truth, "from pkg.same import two_classes; print(two_classes(False))"))[0] == \
        "pkg.same.Measurement.span"
    assert split(ran(truth, "from pkg.same import widened; print(widened())"))[0] == "pkg.same.Other.span"
    for caller in ("two_classes", "widened", "maybe", "looped"):
        assert [r for _, _, r, _ in edges(db, f"pkg.same.{caller}") if r == "same_class"] == [], caller


def test_an_edit_of_the_declared_return_relinks_as_a_full_index(tmp_path):
    """The method in another file stops returning the class (`-> str`): the rebound name is no longer one class and
    the edges go, incrementally as in a --full index."""
    from tests.conftest import index_repo
    text = 'class Text:\n    def copy(self) -> "Text":\n        return Text()\n\n    def cut(self):\n        return 1\n'
    main = ("from pkg.text import Text\n\n\ndef align(text: Text):\n    text = text.copy()\n"
            "    return text.cut()\n")
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/text.py": text, "pkg/main.py": main})
    assert [(q, r) for q, _, r, _ in edges(env["CODEINTEL_DB"], "pkg.main.align")] == [
        ("pkg.text.Text.copy", "same_class"), ("pkg.text.Text.cut", "same_class")]
    (repo / "pkg" / "text.py").write_text(text.replace('-> "Text"', "-> str"))
    assert reindexed_as_full(tmp_path, repo, env, "pkg.main.align") == []


def test_an_attribute_of_a_name_rebound_to_one_class(indexed):
    """jinja2's `frame = frame.inner()` (declared `-> "Frame"`) then `frame.symbols.ref(...)`, where Frame's
    __init__ stores `self.symbols = Symbols()`: CPython runs Symbols.ref. The edge: attribute_instance through the
    rebound name's class (0.8 for the name's class, as a declared parameter's, x 0.8 for the attribute's store:
    0.64). Before: no edge."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.same import macro_body, Frame; print(macro_body(Frame()))")
    assert split(out.split("|")[0])[0] == "pkg.same.Symbols.ref"
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.same.macro_body")] == [
        ("pkg.same.Frame.inner", "same_class", 0.8), ("pkg.same.Symbols.ref", "attribute_instance", 0.64)]
    assert ("pkg.same.Symbols.ref", "name", '"caller"') in wired(db, "pkg.same.macro_body")


DECLARED = '''
from pkg.trace import where


class Console:
    def print(self, x):
        return where() + "|" + x


def get_console():
    return Console()


class Live:
    def __init__(self, console=None):
        self.console: Console = console or get_console()
        self.other = console or get_console()

    def start(self):
        return self.console.print("x")

    def stop(self):
        return self.other.print("y")


class Quiet(Live):
    def run(self):
        return self.console.print("z")


class Static:
    @staticmethod
    def make(obj):
        obj.console: Console = None
        return obj
'''


def test_an_attribute_declared_in_a_method_is_of_the_declared_class(tmp_path_factory):
    """rich's `self.console: Console = console or get_console()` in __init__ (PEP 526 declares the instance attribute,
    as `console: Console` in the class body would): `self.console.print()` reaches Console.print, in the class and a
    subclass (CPython runs it); the undeclared `self.other = console or get_console()` stays without an edge
    (not a constructor call), and a static method's `obj.console: Console` declares nothing. Before: no edge."""
    truth, db, _ = index_with_truth(tmp_path_factory, "declared", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                                   "pkg/decl.py": DECLARED})
    out = ran(truth, "from pkg.decl import Live, Quiet; print(Live().start(), Live().stop(), Quiet().run())").split()
    assert [split(w.split("|")[0])[0] for w in out] == ["pkg.decl.Console.print"] * 3
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.decl.Live.start")] == [("pkg.decl.Console.print",
                                                                          "attribute_instance")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.decl.Quiet.run")] == [("pkg.decl.Console.print",
                                                                         "attribute_instance")]
    assert edges(db, "pkg.decl.Live.stop") == []
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT owner_def_id LIKE '%:AST:%', text, root FROM cpg_value_refs "
                         "WHERE role = 'attr_declared' ORDER BY ALL").fetchall() == [(True, "console", "Console")]


LOOPS = '''
from typing import List

from pkg.trace import where


class Text:
    def truncate(self, width):
        return where() + "|" + str(width)


class Item:
    def render(self):
        return where()


class Lines:
    def __init__(self, lines):
        self._lines: List["Text"] = list(lines)

    def justify(self):
        out = []
        for line in self._lines:
            out.append(line.truncate(3))
        return out


class Listing:
    items: list[Item]

    def __init__(self):
        self.items = [Item()]

    def render(self):
        return [item.render() for item in self.items]


class Sub(Lines):
    def first(self):
        for line in self._lines:
            return line.truncate(1)


class Undeclared:
    def __init__(self, lines):
        self._lines = list(lines)

    def justify(self):
        for line in self._lines:
            line.truncate(2)
'''


def test_a_loop_over_an_attribute_declared_a_container(tmp_path_factory):
    """rich's `self._lines: List["Text"] = list(lines)` then `for line in self._lines: line.truncate(...)`, a class
    body's `items: list[Item]` walked by a comprehension, and a subclass's loop over the base's attribute: x.m() along
    the item class's MRO (iterated, 0.8). An undeclared attribute: no edge. Before: no edge."""
    truth, db, _ = index_with_truth(tmp_path_factory, "loops", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                                "pkg/loops.py": LOOPS})
    out = ran(truth, "from pkg.loops import Lines, Listing, Sub, Text; "
                     "print(*Lines([Text()]).justify(), *Listing().render(), Sub([Text()]).first())").split()
    assert [split(w.split("|")[0])[0] for w in out] == ["pkg.loops.Text.truncate", "pkg.loops.Item.render",
                                                        "pkg.loops.Text.truncate"]
    assert ("pkg.loops.Text.truncate", "iterated", 0.8) in [(q, r, c) for q, _, r, c in
                                                            edges(db, "pkg.loops.Lines.justify")]
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.loops.Listing.render")] == [
        ("pkg.loops.Item.render", "iterated", 0.8)]
    assert [(q, r, c) for q, _, r, c in edges(db, "pkg.loops.Sub.first")] == [
        ("pkg.loops.Text.truncate", "iterated", 0.8)]
    assert edges(db, "pkg.loops.Undeclared.justify") == []
