"""A quoted annotation declares a class as the unquoted one does.

rich annotates `console: "Console"`, `options: "ConsoleOptions"` and returns `-> "Text"` throughout (forward
references, names imported under `if TYPE_CHECKING:`): the `annotation` and `returns_method` rules read only
unquoted names, so each such call had no edge (34 executed misses from parameters alone in the rich trial).
The string is parsed as `typing.get_type_hints` evaluates it, its root looked up among the module's names.
What is right is what CPython runs: the fixture's code is executed in a plain interpreter.
"""

import pytest

from tests.test_cpg_link_nx_trial import WHERE, index_with_truth, ran, split
from tests.test_cpg_link_nx_trial import edges as nx_edges

CONSOLE = '''
from typing import TYPE_CHECKING, Optional

from pkg.trace import where

if TYPE_CHECKING:
    from pkg.text import Text


class Console:
    def render(self):
        return where()


def use(c: "Console"):
    return c.render()


def use_optional(c: Optional["Console"]):
    return c.render()


def use_union(c: "Console | None"):
    return c.render()


def make_text() -> "Text":
    from pkg.text import Text
    return Text()


def use_returned():
    t = make_text()
    return t.plain()


def use_not_a_class(c: "list[Console]"):
    return c.render()
'''

TEXT = '''
from pkg.trace import where


class Text:
    def plain(self):
        return where()
'''

FILES = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/console.py": CONSOLE, "pkg/text.py": TEXT}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "string_annotations", FILES)[:2]


def edges(db: str, caller: str) -> list[tuple[str, int, str, float]]:
    return nx_edges(db, caller, except_rules=('local', 'import'))


@pytest.mark.parametrize("fn", ["use", "use_optional", "use_union"])
def test_a_quoted_parameter_annotation_declares_the_class(indexed, fn):
    truth, db = indexed
    target = split(ran(truth, f"from pkg.console import Console, {fn}; print({fn}(Console()))"))
    assert target[0] == "pkg.console.Console.render"
    assert edges(db, f"pkg.console.{fn}") == [(*target, "annotation", 0.8)]  # before: no edge


def test_a_quoted_return_annotation_of_a_type_checking_import_declares_the_class(indexed):
    truth, db = indexed
    target = split(ran(truth, "from pkg.console import use_returned; print(use_returned())"))
    assert target[0] == "pkg.text.Text.plain"
    assert edges(db, "pkg.console.use_returned") == [(*target, "returns_method", 0.8)]  # before: no edge


def test_a_quoted_generic_declares_nothing(indexed):
    _, db = indexed
    assert edges(db, "pkg.console.use_not_a_class") == []
