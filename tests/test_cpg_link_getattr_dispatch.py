"""A method picked by name at runtime: `getattr(self, "visit_" + type(node).__name__)` (ast.NodeVisitor, cmd.Cmd,
jinja2's NodeVisitor: 59 executed calls without an edge in session AE's Jinja2 trial, the largest class). Which
methods run is CPython's: the fixture run in a plain interpreter, each callee reporting its own `def` (``where()``).
"""

import pytest

from tests.test_cpg_link_alias_trial import wired
from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, reindexed_as_full, split

VISIT = '''
from pkg.trace import where


class A: pass
class B: pass
class C: pass


class Visitor:
    def visit(self, node):
        method = "visit_" + type(node).__name__
        visitor = getattr(self, method, self.generic_visit)
        return visitor(node)

    def generic_visit(self, node):
        return where()

    def visit_A(self, node):
        return where()


class Printer(Visitor):
    def visit_A(self, node):
        return where()

    def visit_B(self, node):
        return where()

    def helper(self, node):
        return where()


class Other:
    def visit_C(self, node):
        return where()


class Shell:
    def onecmd(self, cmd, arg):
        return getattr(self, "do_" + cmd)(arg)

    def do_go(self, arg):
        return where() + "|" + arg

    def do_stop(self, arg):
        return where() + "|" + arg

    def help_go(self):
        return where()


class Walker:
    def get_visitor(self, node):
        return getattr(self, f"visit_{type(node).__name__}", None)

    def visit(self, node):
        f = self.get_visitor(node)
        if f is not None:
            return f(node)
        return None

    def visit_C(self, node):
        return where()


class Formatted:
    def run(self, kind):
        handler = getattr(self, "handle_%s" % kind)
        return handler()

    def handle_x(self):
        return where()


class Rebound:
    def visit(self, node):
        method = "visit_" + type(node).__name__
        method = "other"
        return getattr(self, method)(node)

    def visit_A(self, node):
        return where()

    def other(self, node):
        return where()


def main():
    return (Visitor().visit(A()), Visitor().visit(B()), Printer().visit(A()), Printer().visit(B()),
            Shell().onecmd("go", "now"), Shell().onecmd("stop", "later"), Walker().visit(C()),
            Formatted().run("x"), Rebound().visit(A()))
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "getattr", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                          "pkg/visit.py": VISIT})


def callees(db: str, caller: str) -> list[tuple]:
    return [(q, r, c) for q, _, r, c in edges(db, caller)]


def test_a_visitor_reaches_the_methods_its_class_and_subclasses_define_with_the_prefix(indexed):
    """`visitor = getattr(self, "visit_" + ...)` through a local name bound once: CPython runs Visitor.visit_A,
    Printer.visit_A, Printer.visit_B and the default generic_visit (a Visitor given a B). The edges: the three
    visit_ methods (K's and its subclass's) and the default (a method of the same receiver), each 0.8 / 4; not
    Other.visit_C (another class), not Printer.helper."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.visit import main; print(*main())").split()
    assert [split(w.split("|")[0])[0] for w in out[:4]] == [
        "pkg.visit.Visitor.visit_A", "pkg.visit.Visitor.generic_visit", "pkg.visit.Printer.visit_A",
        "pkg.visit.Printer.visit_B"]
    assert callees(db, "pkg.visit.Visitor.visit") == [
        ("pkg.visit.Printer.visit_A", "getattr_dispatch", 0.2), ("pkg.visit.Printer.visit_B", "getattr_dispatch", 0.2),
        ("pkg.visit.Visitor.generic_visit", "getattr_dispatch", 0.2),
        ("pkg.visit.Visitor.visit_A", "getattr_dispatch", 0.2)]


def test_a_getattr_called_at_once_and_one_returned_by_a_method(indexed):
    """`getattr(self, "do_" + cmd)(arg)` (cmd.Cmd's form) reaches do_go and do_stop, not help_go; `f =
    self.get_visitor(node); f(node)` where get_visitor returns `getattr(self, f"visit_{...}", None)` reaches
    Walker.visit_C (0.8 x self_method's 0.9); `"handle_%s" % kind` reaches handle_x."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.visit import main; print(*main())").split()
    assert [split(w.split("|")[0])[0] for w in out[4:8]] == [
        "pkg.visit.Shell.do_go", "pkg.visit.Shell.do_stop", "pkg.visit.Walker.visit_C", "pkg.visit.Formatted.handle_x"]
    assert callees(db, "pkg.visit.Shell.onecmd") == [("pkg.visit.Shell.do_go", "getattr_dispatch", 0.4),
                                                     ("pkg.visit.Shell.do_stop", "getattr_dispatch", 0.4)]
    assert ("pkg.visit.Walker.visit_C", "getattr_dispatch", 0.72) in callees(db, "pkg.visit.Walker.visit")
    assert callees(db, "pkg.visit.Formatted.run") == [("pkg.visit.Formatted.handle_x", "getattr_dispatch", 0.8)]


def test_a_name_bound_twice_is_not_a_prefix(indexed):
    """`method = "visit_" + ...` then `method = "other"`: CPython calls other; the name is not one prefix, no edge
    (precision first)."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.visit import main; print(*main())").split()
    assert split(out[8])[0] == "pkg.visit.Rebound.other"
    assert callees(db, "pkg.visit.Rebound.visit") == []


def test_the_call_is_wired_as_a_bound_method(indexed):
    """self is bound by getattr: the call's one argument goes to `node` / `arg` (CPython returned "now" and "later"
    through arg above)."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.visit import main; print(*main())").split()
    assert [w.split("|")[1] for w in out[4:6]] == ["now", "later"]
    got = wired(db, "pkg.visit.Shell.onecmd")
    assert ("pkg.visit.Shell.do_go", "arg", "arg") in got and ("pkg.visit.Shell.do_stop", "arg", "arg") in got
    assert not [w for w in got if w[1] == "self" and not w[2].startswith("receiver:")]
    assert ("pkg.visit.Printer.visit_B", "node", "node") in wired(db, "pkg.visit.Visitor.visit")


def test_a_subclass_added_in_another_file_relinks_the_visitor(tmp_path):
    """The subclass in another file gains a visit_ method: the visitor's call reaches it, incrementally as in a
    --full index (ANCESTOR_FILES relinks the base's file)."""
    from tests.conftest import index_repo
    base = ('class Visitor:\n    def visit(self, node):\n        return getattr(self, "visit_" + node)(node)\n\n'
            '    def visit_a(self, node):\n        return node\n')
    sub = "from pkg.base import Visitor\n\n\nclass Sub(Visitor):\n    def helper(self, node):\n        return node\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": base, "pkg/sub.py": sub})
    assert [q for q, _, _, _ in edges(env["CODEINTEL_DB"], "pkg.base.Visitor.visit")] == ["pkg.base.Visitor.visit_a"]
    (repo / "pkg" / "sub.py").write_text(sub.replace("def helper", "def visit_b"))
    assert [(q, r, c) for q, _, r, c in reindexed_as_full(tmp_path, repo, env, "pkg.base.Visitor.visit")] == [
        ("pkg.base.Visitor.visit_a", "getattr_dispatch", 0.4), ("pkg.sub.Sub.visit_b", "getattr_dispatch", 0.4)]


@pytest.mark.parametrize("call, prefix", [
    ('getattr(self, "visit_" + name)', "visit_"),
    ('getattr(self, "visit_" + name + "_end")', "visit_"),
    ('getattr(self, f"visit_{name}", None)', "visit_"),
    ('getattr(self, "do_%s" % name)', "do_"),
    ('getattr(self, "do_{}".format(name))', "do_"),
    ('getattr(self, "_" + name)', None),            # only underscores: every private method
    ('getattr(self, name + "_x")', None),           # no literal start
    ('getattr(self, f"{name}_x")', None),
    ('getattr(self, "visit_A")', None),             # a plain literal: not a pick by name
    ('getattr(self.a, "x_" + name)', None),         # the receiver is not a name
    ('getattr(self, *args)', None),
])
def test_the_literal_start_of_the_name_looked_up(call, prefix):
    """What the extractor takes for the literal start of the attribute name; where it finds one, CPython's own
    evaluation of the string (name = "Foo") starts with it."""
    import ast

    from codeintel_assets.extract.calls import _dispatch_prefix
    node = ast.parse(call, mode="eval").body
    assert _dispatch_prefix(node, ast.parse("pass")) == prefix
    if prefix is not None:
        assert eval(compile(ast.Expression(node.args[1]), "<t>", "eval"), {"name": "Foo"}).startswith(prefix)
