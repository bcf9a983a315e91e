"""A bound method kept in a local name, then called (`append = text.append; append(x)`): the largest class of calls
without an edge in pip's vendored rich (session AD's trial: 49 executed calls). Which callee runs, and with which
arguments, is CPython's: the fixture run in a plain interpreter, each callee reporting its own `def` (``where()``)
and the parameter it got.
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, reindexed_as_full, split

ALIASES = '''
from pkg.trace import where


class Text:
    def __init__(self):
        self.parts = []

    def append(self, s):
        self.parts.append(s)
        return where() + "|" + s


class Console:
    def get_style(self, name, default=None):
        return where() + "|" + name


class Holder:
    def __init__(self):
        self.text = Text()

    def add(self, s):
        append = self.text.append
        return append(s)


def render(console: Console):
    get_style = console.get_style
    return get_style("bold")


def markup():
    text = Text()
    append = text.append
    return append("x")


def rebound():
    text = Text()
    append = text.append
    append = str.upper
    return append("x")


def main():
    return render(Console()), markup(), Holder().add("y"), rebound()
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "alias", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                        "pkg/alias.py": ALIASES})


def wired(db: str, caller: str) -> list[tuple]:
    """(callee qualname, parameter, argument text or the receiver's node kind) of ``caller``'s calls' wiring."""
    with duckdb.connect(db, read_only=True) as c:
        return c.execute(
            "SELECT b.callee_qualname, w.param_name, CASE WHEN w.implicit_receiver THEN 'receiver:' || n.kind "
            "ELSE a.text END FROM cpg_binds_arg w JOIN cpg_calls b USING (callsite_id, callee_def_id) "
            "LEFT JOIN cpg_call_args a ON a.arg_id = w.arg_id LEFT JOIN py_ast_nodes n ON n.ast_node_id = w.arg_ast_node_id "
            "WHERE b.caller_qualname = ? ORDER BY ALL", [caller]).fetchall()


def test_a_bound_method_in_a_local_name_is_the_method_of_its_receivers_class(indexed):
    """`get_style = console.get_style` (console declared `Console`), `append = text.append` (text = Text()) and
    `append = self.text.append` (an attribute __init__ sets to Text()): the call runs the method, its receiver
    bound when the name was. Before: no edge (the alias's root has no meaning of its own)."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.alias import main; print(*main())").split()
    assert [(split(w.split("|")[0])[0], w.split("|")[1]) for w in out[:3]] == [
        ("pkg.alias.Console.get_style", "bold"), ("pkg.alias.Text.append", "x"), ("pkg.alias.Text.append", "y")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.alias.render")] == [("pkg.alias.Console.get_style", "annotation")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.alias.markup")] == [("pkg.alias.Text.__init__", "constructor"),
                                                                      ("pkg.alias.Text.append", "instance_method")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.alias.Holder.add")] == [("pkg.alias.Text.append",
                                                                           "attribute_instance")]


def test_the_call_is_wired_as_the_bound_method_is_called(indexed):
    """The receiver is what the name holds (self is bound), the argument goes to the next parameter: `"bold"` to
    `name`, `"x"` to `s`, as CPython bound them (``where()``'s callers returned those values above)."""
    _, db, _ = indexed
    assert wired(db, "pkg.alias.render") == [("pkg.alias.Console.get_style", "name", '"bold"'),
                                             ("pkg.alias.Console.get_style", "self", "receiver:Name")]
    assert wired(db, "pkg.alias.markup") == [("pkg.alias.Text.__init__", "self", "receiver:Call"),
                                             ("pkg.alias.Text.append", "s", '"x"'),
                                             ("pkg.alias.Text.append", "self", "receiver:Name")]
    assert wired(db, "pkg.alias.Holder.add") == [("pkg.alias.Text.append", "s", "s"),
                                                 ("pkg.alias.Text.append", "self", "receiver:Name")]


def test_a_name_bound_twice_gets_no_edge_from_the_alias(indexed):
    """`append = text.append` then `append = str.upper`: at the call the name holds str.upper (CPython returns X):
    no edge to Text.append."""
    truth, db, _ = indexed
    assert ran(truth, "from pkg.alias import rebound; print(rebound())").strip() == "X"
    assert [q for q, _, _, _ in edges(db, "pkg.alias.rebound")] == ["pkg.alias.Text.__init__"]


def test_an_edit_of_the_receivers_class_relinks_as_a_full_index(tmp_path):
    """The class in another file: renaming its method moves the edge away (the alias names a method the class no
    longer has), incrementally as in a --full index."""
    from tests.conftest import index_repo
    main = ("from pkg.text import Text\n\n\ndef markup():\n    text = Text()\n    append = text.append\n"
            "    return append('x')\n")
    text = "class Text:\n    def append(self, s):\n        return s\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/text.py": text, "pkg/main.py": main})
    assert [(q, r) for q, _, r, _ in edges(env["CODEINTEL_DB"], "pkg.main.markup")] == [
        ("pkg.text.Text", "class"), ("pkg.text.Text.append", "instance_method")]
    (repo / "pkg" / "text.py").write_text(text.replace("def append", "def add"))
    assert [(q, r) for q, _, r, _ in reindexed_as_full(tmp_path, repo, env, "pkg.main.markup")] == [
        ("pkg.text.Text", "class")]


COPIES = '''
from pkg.trace import where


class Theme:
    def background(self):
        return where()

    def style(self, token):
        return where() + "|" + token


def get_theme(name) -> Theme:
    return Theme()


class Traceback:
    def __init__(self, name):
        self.theme = get_theme(name)

    def render(self):
        theme = self.theme
        background = theme.background()
        style = theme.style
        return background, style("k")

    def rebound(self):
        theme = self.theme
        theme = None
        return theme.background() if theme else where()
'''


def test_a_local_copy_of_a_typed_attribute_is_the_attribute(tmp_path_factory):
    """rich's `theme = self.theme; theme.get_background_style()` and `token_style = theme.get_style_for_token;
    token_style(k)` (session AF's trial: 34 executed calls without an edge): the calls are `self.theme.m()`, which
    attribute_instance resolves (`self.theme = get_theme(...)`, declared `-> Theme`). Before: no edge. A name bound
    twice (`theme = None` after) gets none."""
    truth, db, _ = index_with_truth(tmp_path_factory, "copies", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                                 "pkg/copies.py": COPIES})
    out = ran(truth, "from pkg.copies import Traceback; print(*Traceback('x').render())").split()
    assert [split(w.split("|")[0])[0] for w in out] == ["pkg.copies.Theme.background", "pkg.copies.Theme.style"]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.copies.Traceback.render")] == [
        ("pkg.copies.Theme.background", "attribute_instance"), ("pkg.copies.Theme.style", "attribute_instance")]
    assert ("pkg.copies.Theme.style", "token", '"k"') in wired(db, "pkg.copies.Traceback.render")
    assert [q for q, _, _, _ in edges(db, "pkg.copies.Traceback.rebound")] == []
