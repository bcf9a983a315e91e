"""What the standard library and SQLAlchemy left unresolved (session AW): methods of what an unannotated factory
returns. argparse's `group = parser.add_mutually_exclusive_group()` returns `_MutuallyExclusiveGroup(...)` through a
local name, and `group.add_argument(...)` had no edge. A function of the repository that returns instances of one
class (`return C(...)`, or a name only `C(...)` binds; `return None` aside) and is no generator is read as if it
were declared `-> C`: rule `returns_method`.

The expected callees are CPython's: each method returns the `co_qualname` of the code that runs (its own frame),
and the fixture prints what every call returned; nothing is taken from the extractor.
"""

import json

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_link_sqla_trial import in_cpython

SHAPES = '''
import sys


def ran():
    return sys._getframe(1).f_code.co_qualname


class Foo:
    def run(self):
        return ran()

    def close(self):
        return ran()


class Bar:
    def run(self):
        return ran()


class Made:
    @classmethod
    def create(cls):
        return cls()

    def clone(self):
        return self.__class__()

    def run(self):
        return ran()


class SubMade(Made):
    def run(self):
        return ran()
'''
MAKE = '''
from pkg.shapes import Bar, Foo, SubMade


def make():
    return Foo()


def make_named():
    g = Foo()
    g.tag = 1
    return g


def maybe(flag):
    if flag:
        return Foo()
    return None


def either(flag):
    if flag:
        return Foo()
    return Bar()


def gen():
    yield 1
    return Foo()


def ident(x):
    return x


async def amake():
    return Foo()


def make_sub():
    return SubMade.create()
'''
USE = '''
import asyncio

from pkg.make import amake, either, gen, ident, make, make_named, make_sub, maybe
from pkg.shapes import SubMade


def main():
    out = {}
    out["make().run"] = make().run()
    a = make()
    out["a.run"] = a.run()
    b = make_named()
    out["b.run"] = b.run()
    c = maybe(True)
    out["c.run"] = c.run()
    d = either(False)
    out["d.run"] = d.run()
    g = gen()
    out["g.close"] = str(g.close())
    i = ident(make())
    out["i.run"] = i.run()
    out["aw.run"] = asyncio.run(awaited())
    s = SubMade.create()
    out["s.run"] = s.run()
    t = SubMade().clone()
    out["t.run"] = t.run()
    u = make_sub()
    out["u.run"] = u.run()
    return out


async def awaited():
    aw = await amake()
    return aw.run()
'''
FILES = {"pkg/__init__.py": "", "pkg/shapes.py": SHAPES, "pkg/make.py": MAKE, "pkg/use.py": USE}
# returned as instances of one class: the calls the rule resolves. The others: two classes (either), a generator,
# a parameter returned (ident), the receiver's class (`return cls()`, `return self.__class__()`: a subclass's on a
# subclass): no edge, whatever runs.
RESOLVED = {"make().run", "a.run", "b.run", "c.run", "aw.run"}


def _line_of(text: str) -> int:
    """The line of use.py whose call is ``text(...)`` (the receiver's method)."""
    lines = USE.lstrip("\n").splitlines()
    return next(k for k, line in enumerate(lines, 1) if f"{text}()" in line)


def test_a_method_of_what_an_unannotated_factory_returns_is_the_returned_class(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    ran = json.loads(in_cpython(repo, "import json; from pkg.use import main; print(json.dumps(main()))"))
    # CPython: the factories' instances run Foo's and Bar's methods; the generator's close is no method of Foo's
    assert {k: ran[k] for k in RESOLVED} == {k: "Foo.run" for k in RESOLVED}
    assert ran["d.run"] == "Bar.run" and ran["g.close"] == "None" and ran["i.run"] == "Foo.run"
    assert ran["s.run"] == ran["t.run"] == ran["u.run"] == "SubMade.run"  # (Made.create / Made.clone on a SubMade)
    got = call_edges(env["CODEINTEL_DB"], "pkg/use.py", rule="returns_method")
    for text in sorted(ran):
        line = _line_of(text)
        want = [(f"pkg.shapes.{ran[text]}", "returns_method", 0.8)] if text in RESOLVED else []
        assert got.get(line, []) == want, (text, line, got.get(line))


def test_an_edit_of_the_factory_moves_its_callers_edges(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    line = _line_of("a.run")
    assert call_edges(env["CODEINTEL_DB"], "pkg/use.py", rule="returns_method")[line] == [
        ("pkg.shapes.Foo.run", "returns_method", 0.8)]
    (repo / "pkg/make.py").write_text(MAKE.lstrip("\n").replace("def make():\n    return Foo()",
                                                                "def make():\n    return Bar()"))
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert in_cpython(repo, "from pkg.use import main; print(main()['a.run'])") == "Bar.run"
    assert call_edges(env["CODEINTEL_DB"], "pkg/use.py", rule="returns_method")[line] == [
        ("pkg.shapes.Bar.run", "returns_method", 0.8)]
