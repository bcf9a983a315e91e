"""What a user trial on Jinja2 3.1.6 with runtime ground truth found (session AE): 1,025 of 1,374 executed call pairs
had the right edge, none only wrong ones, and 1,233 of 1,233 arguments were wired as `inspect.signature(...).bind`
binds them. Among the calls without an edge, three kinds a static rule can follow, each reproduced here. Which
callee runs is CPython's: the fixture run in a plain interpreter, each callee reporting its own `def` (``where()``).
"""

import duckdb
import pytest

from tests.test_cpg_link_nx_trial import WHERE, edges, index_with_truth, ran, reindexed_as_full, split

NODES = '''
import typing as t

from pkg.trace import where


class Node:
    def __init__(self, *children):
        self.children = list(children)

    def iter_child_nodes(self) -> t.Iterator["Node"]:
        yield from self.children

    def kids(self) -> "list[Node]":
        return self.children

    def visit(self):
        return where()


def walk(node: Node):
    return [child.visit() for child in node.iter_child_nodes()]


def walk_listed(node: Node):
    out = []
    for child in node.kids():
        out.append(child.visit())
    return out


def walk_param(children: "list[Node]"):
    return [child.visit() for child in children]


def walk_items(children: t.Sequence["Node"]):
    return [child.visit() for child in children]


def main():
    tree = Node(Node(), Node())
    return walk(tree) + walk_listed(tree) + walk_param(tree.children) + walk_items(tree.children)
'''

FACTORIES = '''
from pkg.trace import where


def make_attrgetter(attribute):
    def attrgetter(item):
        return where() + "|" + str(getattr(item, attribute))
    return attrgetter


def main():
    getter = make_attrgetter("real")
    direct = make_attrgetter("imag")(2)
    return getter(3), direct


def rebound():
    getter = make_attrgetter("real")
    getter = str
    return getter(3)


def load(name):
    return __import__(name)
'''


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_with_truth(tmp_path_factory, "jinja", {"pkg/__init__.py": "", "pkg/trace.py": WHERE,
                                                        "pkg/nodes.py": NODES, "pkg/factories.py": FACTORIES})


def test_a_loop_over_a_forward_referenced_item_class_calls_its_methods(indexed):
    """`-> t.Iterator["Node"]` and `-> "list[Node]"` (a string item, or the whole annotation a string), and a
    parameter declared `"list[Node]"` / `t.Sequence["Node"]`: the loop variable is a Node (iterated). Before: only
    an unquoted item class counted (jinja2's `for child in node.iter_child_nodes(): child.m()`)."""
    truth, db, _ = indexed
    assert {split(w)[0] for w in ran(truth, "from pkg.nodes import main; print(*main())").split()} == {
        "pkg.nodes.Node.visit"}
    for caller in ("pkg.nodes.walk", "pkg.nodes.walk_listed", "pkg.nodes.walk_param", "pkg.nodes.walk_items"):
        assert ("pkg.nodes.Node.visit", "iterated") in [(q, r) for q, _, r, _ in edges(db, caller)], caller


def test_a_name_bound_to_what_a_factory_returns_calls_the_returned_function(indexed):
    """`getter = make_attrgetter("real")` then `getter(3)` runs the inner attrgetter with item=3, as
    `make_attrgetter("imag")(2)` does. Before: only the second had an edge (returned)."""
    truth, db, _ = indexed
    out = ran(truth, "from pkg.factories import main; print(*main())").split()
    assert [(split(w.split("|")[0])[0], w.split("|")[1]) for w in out] == [
        ("pkg.factories.make_attrgetter.attrgetter", "3"), ("pkg.factories.make_attrgetter.attrgetter", "0")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.factories.main")] == [
        ("pkg.factories.make_attrgetter", "local"), ("pkg.factories.make_attrgetter", "local"),
        ("pkg.factories.make_attrgetter.attrgetter", "returned"), ("pkg.factories.make_attrgetter.attrgetter", "returned")]
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT a.text, b.param_name FROM cpg_binds_arg b JOIN cpg_calls k USING (callsite_id, "
                         "callee_def_id) JOIN cpg_call_args a ON a.arg_id = b.arg_id WHERE k.caller_qualname = "
                         "'pkg.factories.main' AND k.rule = 'returned' ORDER BY ALL").fetchall() == [("2", "item"),
                                                                                                     ("3", "item")]


def test_a_factory_name_bound_again_gets_no_returned_edge(indexed):
    """`getter = str` after it: the call runs str (CPython returns '3'), never attrgetter."""
    truth, db, _ = indexed
    assert ran(truth, "from pkg.factories import rebound; print(rebound())").strip() == "3"
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.factories.rebound")] == [("pkg.factories.make_attrgetter", "local")]


def test_dunder_import_is_the_builtin(indexed):
    """`__import__(name)` calls the builtin, as `len(x)` does (jinja2's import_string). Before: no edge."""
    _, db, _ = indexed
    with duckdb.connect(db, read_only=True) as c:
        assert c.execute("SELECT callee_qualname, rule FROM cpg_calls WHERE caller_qualname = 'pkg.factories.load'"
                         ).fetchall() == [("<builtin>.__import__", "builtin")]


def test_editing_the_factory_relinks_the_name_s_calls_as_a_full_index(tmp_path):
    """The factory in another file: when it stops returning its inner function, the call through the name loses
    the edge, incrementally as in a --full index."""
    from tests.conftest import index_repo
    fac = "def make(a):\n    def inner(x):\n        return x\n    return inner\n"
    use = "from pkg.fac import make\n\n\ndef use():\n    g = make(1)\n    return g(2)\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/fac.py": fac, "pkg/use.py": use})
    assert [(q, r) for q, _, r, _ in edges(env["CODEINTEL_DB"], "pkg.use.use")] == [
        ("pkg.fac.make", "import"), ("pkg.fac.make.inner", "returned")]
    (repo / "pkg" / "fac.py").write_text(fac.replace("return inner", "return str"))
    assert [(q, r) for q, _, r, _ in reindexed_as_full(tmp_path, repo, env, "pkg.use.use")] == [("pkg.fac.make", "import")]


STORES = '''
from pkg.trace import where


class A:
    def m(self):
        return where()


class B:
    def m(self):
        return where()


class K:
    def __init__(self, a: A):
        self.a = a
        self.b = A()

    def inner(self) -> "K":
        return K(A())
'''

USES = '''
from pkg.stores import A, K


def use(k: K):
    return k.a.m()


def chained(k: K):
    x = k.inner()
    return x.b.m()


def made():
    k = K(A())
    return k.a.m()


def main():
    return use(K(A())), chained(K(A())), made()
'''


def test_an_attribute_stored_from_a_declared_parameter_in_another_file_is_typed(tmp_path):
    """`def __init__(self, a: A): self.a = a` in another file, then `k.a.m()` on a parameter `k: K` or on `k = K(...)`;
    and `x = k.inner()` (declared `-> "K"`), then `x.b.m()` (b stored from `A()`): each runs A.m (jinja2's
    `self.environment.policies`, `frame.symbols.ref`). Before: no edge (the declared parameter counted only in the
    scope's own class, and a receiver bound by a call of a declared function not at all). An edit of the annotation
    moves the edge, incrementally as in a --full index."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/stores.py": STORES, "pkg/uses.py": USES}
    truth = write_repo(tmp_path / "truth", files)
    assert [split(w)[0] for w in ran(truth, "from pkg.uses import main; print(*main())").split()] == [
        "pkg.stores.A.m"] * 3
    repo, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.uses.use")] == [("pkg.stores.A.m", "attribute_instance")]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.uses.chained")] == [("pkg.stores.A.m", "attribute_instance"),
                                                                        ("pkg.stores.K.inner", "annotation")]
    assert ("pkg.stores.A.m", "attribute_instance") in [(q, r) for q, _, r, _ in edges(db, "pkg.uses.made")]
    (repo / "pkg" / "stores.py").write_text(STORES.replace("a: A", "a: B"))
    assert [(q, r) for q, _, r, _ in reindexed_as_full(tmp_path, repo, env, "pkg.uses.use")] == [
        ("pkg.stores.B.m", "attribute_instance")]


FIELDS = '''
from dataclasses import dataclass

from pkg.trace import where


class Expr:
    def as_const(self):
        return where()


class Node:
    fields = ()

    def __init__(self, *values):
        for name, value in zip(self.fields, values):
            setattr(self, name, value)


class Neg(Node):
    fields = ("node",)
    node: Expr

    def as_const(self):
        return self.node.as_const()


@dataclass
class Holder:
    expr: "Expr"
    count: int = 0

    def run(self):
        return self.expr.as_const()


class Typed:
    expr: Expr

    def __init__(self, e):
        self.expr = e

    def run(self):
        return self.expr.as_const()


def use(h: Holder):
    return h.expr.as_const()


def main():
    return Neg(Expr()).as_const(), Holder(Expr()).run(), Typed(Expr()).run(), use(Holder(Expr()))
'''


def test_an_attribute_declared_in_the_class_body_is_an_instance_of_its_class(tmp_path):
    """`node: Expr` in a class body (jinja2's node fields, set through setattr in Node.__init__), a dataclass field
    `expr: "Expr"`, and a declaration beside an untyped store (`self.expr = e`): `self.a.m()` and `h.expr.m()` run
    Expr.as_const, as CPython shows. Before: no edge (the stores are setattr calls or an unannotated parameter). An
    edit of the declaration moves the edge, incrementally as in a --full index."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/fields.py": FIELDS,
             "pkg/other.py": "class Other:\n    def as_const(self):\n        return 0\n"}
    truth = write_repo(tmp_path / "truth", files)
    assert [split(w)[0] for w in ran(truth, "from pkg.fields import main; print(*main())").split()] == [
        "pkg.fields.Expr.as_const"] * 4
    repo, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    for caller in ("pkg.fields.Neg.as_const", "pkg.fields.Holder.run", "pkg.fields.Typed.run", "pkg.fields.use"):
        assert [(q, r) for q, _, r, _ in edges(db, caller)] == [("pkg.fields.Expr.as_const", "attribute_instance")], caller
    (repo / "pkg" / "fields.py").write_text("from pkg.other import Other\n" + FIELDS.replace("node: Expr", "node: Other"))
    assert [(q, r) for q, _, r, _ in reindexed_as_full(tmp_path, repo, env, "pkg.fields.Neg.as_const")] == [
        ("pkg.other.Other.as_const", "attribute_instance")]


RAISING = '''
from pkg.trace import where


class Impossible(Exception):
    pass


class Expr:
    def as_const(self):
        raise Impossible()


class Const(Expr):
    def __init__(self, value):
        self.value = value

    def as_const(self):
        return where()


class Name(Expr):
    pass


class Neg(Expr):
    node: Expr

    def __init__(self, node):
        self.node = node

    def as_const(self):
        return self.node.as_const()


def main():
    return Neg(Const(1)).as_const()
'''


def test_a_declared_class_whose_method_only_raises_reaches_the_subclasses_overrides(tmp_path):
    """jinja2's `Expr.as_const` only raises `Impossible()`: a method there to be overridden, like one raising
    NotImplementedError. `self.node.as_const()` with `node: Expr` runs a subclass's override (Const's, as CPython
    shows): the edge to Expr.as_const stays, and each override gets one (abstract_override). Before: only the edge to
    Expr.as_const, which never runs there."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/raising.py": RAISING}
    truth = write_repo(tmp_path / "truth", files)
    assert split(ran(truth, "from pkg.raising import main; print(main())").strip())[0] == "pkg.raising.Const.as_const"
    _, env, _ = index_repo(tmp_path, files)
    assert [(q, r) for q, _, r, _ in edges(env["CODEINTEL_DB"], "pkg.raising.Neg.as_const")] == [
        ("pkg.raising.Const.as_const", "abstract_override"), ("pkg.raising.Expr.as_const", "attribute_instance"),
        ("pkg.raising.Neg.as_const", "abstract_override")]


PROPS = '''
import functools

from pkg.trace import where


class Lexer:
    def tokenize(self, source):
        return where()


class Environment:
    @property
    def lexer(self) -> Lexer:
        return Lexer()

    @functools.cached_property
    def cached(self) -> "Lexer":
        return Lexer()

    @property
    def untyped(self):
        return Lexer()

    def parse(self, source):
        return self.lexer.tokenize(source), self.cached.tokenize(source)
'''

PROP_USE = '''
from pkg.props import Environment


def use(env: Environment):
    return env.lexer.tokenize("x"), env.untyped.tokenize("y")


def main():
    return Environment().parse("s") + use(Environment())
'''


def test_an_attribute_that_is_a_property_declared_to_return_a_class_is_an_instance_of_it(tmp_path):
    """`@property def lexer(self) -> Lexer` (and `@functools.cached_property ... -> "Lexer"`): `self.lexer.tokenize()`
    and `env.lexer.tokenize()` run Lexer.tokenize, as CPython shows (jinja2's `self.lexer.tokenize(...)`). Before: no
    edge (a def of that name in the class counted as an untyped store). A property without a return annotation still
    gives none. An edit of the annotation moves the edge, incrementally as in a --full index."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/props.py": PROPS, "pkg/use.py": PROP_USE,
             "pkg/other.py": "class Other:\n    def tokenize(self, source):\n        return source\n"}
    truth = write_repo(tmp_path / "truth", files)
    assert {split(w)[0] for w in ran(truth, "from pkg.use import main; print(*main())").split()} == {
        "pkg.props.Lexer.tokenize"}
    repo, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.props.Environment.parse")] == [
        ("pkg.props.Lexer.tokenize", "attribute_instance")] * 2
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.use.use")] == [("pkg.props.Lexer.tokenize", "attribute_instance")]
    (repo / "pkg" / "props.py").write_text("from pkg.other import Other\n" + PROPS.replace(
        "def lexer(self) -> Lexer", "def lexer(self) -> Other"))
    assert [(q, r) for q, _, r, _ in reindexed_as_full(tmp_path, repo, env, "pkg.use.use")] == [
        ("pkg.other.Other.tokenize", "attribute_instance")]


CHAINS = '''
from pkg.trace import where


class Token:
    def test(self, expr):
        return where()


class TokenStream:
    def look(self) -> Token:
        return Token()


class Parser:
    def __init__(self):
        self.stream = TokenStream()

    def parse(self):
        return self.stream.look().test("name")

    def parse_named(self):
        token = self.stream.look()
        return token.test("name")


def make() -> TokenStream:
    return TokenStream()


def chained():
    return make().look().test("x")


def main():
    return Parser().parse(), Parser().parse_named(), chained()
'''


def test_a_method_declared_to_return_a_class_called_through_a_typed_attribute_or_a_chain(tmp_path):
    """`self.stream.look().test(...)` (stream typed by attribute_instance, `look` declared `-> Token`), the same
    through a name, and `make().look().test(...)` (two declared returns in a row) run Token.test, as CPython shows.
    Before: no edge (the return annotations were read before attribute_instance ran, and a returns_method call was
    not followed by another)."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/chains.py": CHAINS}
    truth = write_repo(tmp_path / "truth", files)
    assert {split(w)[0] for w in ran(truth, "from pkg.chains import main; print(*main())").split()} == {
        "pkg.chains.Token.test"}
    _, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    for caller in ("pkg.chains.Parser.parse", "pkg.chains.Parser.parse_named"):
        assert [(q, r) for q, _, r, _ in edges(db, caller)] == [
            ("pkg.chains.Token.test", "returns_method"), ("pkg.chains.TokenStream.look", "attribute_instance")], caller
    assert [(q, r) for q, _, r, _ in edges(db, "pkg.chains.chained")] == [
        ("pkg.chains.Token.test", "returns_method"), ("pkg.chains.TokenStream.look", "returns_method"),
        ("pkg.chains.make", "local")]


CONCAT = '''
from pkg.trace import where


def index_url():
    return where()


def trusted_host():
    return where()


def editable():
    return where()


SUPPORTED_OPTIONS = [index_url, trusted_host]
SUPPORTED_OPTIONS_REQ = [editable]


def build_parser():
    option_factories = SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ
    return [option_factory() for option_factory in option_factories]


def mixed():
    factories = SUPPORTED_OPTIONS + list(SUPPORTED_OPTIONS_REQ)
    return [f() for f in factories]
'''


def test_a_loop_over_two_lists_added_calls_the_items_of_both(tmp_path):
    """`option_factories = SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ`, then a loop calling each (pip's
    req_file.build_parser: 11 executed pairs without an edge in session AD's trial): the items of both displays, as
    CPython runs them, each 1/3 (container). An operand that is no name (`list(...)`) leaves the loop without edges."""
    from tests.conftest import index_repo, write_repo
    files = {"pkg/__init__.py": "", "pkg/trace.py": WHERE, "pkg/concat.py": CONCAT}
    truth = write_repo(tmp_path / "truth", files)
    ran_defs = [split(w) for w in ran(truth, "from pkg.concat import build_parser; print(*build_parser())").split()]
    assert [q for q, _ in ran_defs] == ["pkg.concat.index_url", "pkg.concat.trusted_host", "pkg.concat.editable"]
    _, env, _ = index_repo(tmp_path, files)
    db = env["CODEINTEL_DB"]
    assert edges(db, "pkg.concat.build_parser") == sorted((q, line, "container", 0.3333) for q, line in ran_defs)
    assert [q for q, _, _, _ in edges(db, "pkg.concat.mixed")] == []
