"""Methods a class of the repository inherits from a class outside it: `self.add_option(...)` in a subclass of
optparse.OptionParser runs optparse.OptionContainer.add_option, `logger.debug(...)` on an instance of a subclass of
logging.Logger runs logging.Logger.debug, `m.get(k)` on a dict subclass runs dict.get. Before, the MRO walk stopped
at the first class outside the repository and such a call had no edge (pip 24.2: 163 of its call sites). Now the
link knows the callable attributes of builtin classes and of standard-library classes (read by importing their
module in a separate isolated interpreter), and the edge goes to the class of the base's own MRO whose __dict__
holds the method. A class outside the repository that lacks the name is walked past (super()); a name the base
does not have, or has as a value that is not callable, gives no edge; an instance attribute __init__ always stores
shadows the method. A standard-library class called is an instance of it as a class of the repository is
(`p = optparse.OptionParser(); p.add_option(...)`, `argparse.ArgumentParser().parse_args(argv)`).

The oracle is CPython: for each call, the class of ``type(receiver).__mro__`` whose ``__dict__`` holds the method.
"""

import json

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_link_sqla_trial import in_cpython

FIXTURE = '''import argparse
import logging
import optparse
import types


class Log(logging.Logger):
    def verbose(self, msg):
        self.log(5, msg)


def get_logger(name) -> Log:
    return Log(name)


logger = get_logger("x")


def use():
    logger.debug("a")
    logger.filter(None)
    logger.verbose("b")
    logger.manager()
    logger.nope()


class Parser(optparse.OptionParser):
    def setup(self):
        self.add_option("-x")
        self.print_help()


class Handler(logging.Handler):
    def emit(self, record):
        self.format(record)
        super().emit(record)
        super().flush()


class Quiet(logging.Handler):
    def __init__(self, fmt):
        super().__init__()
        self.format = fmt

    def emit(self, record):
        self.format(record)


class Mine(dict):
    pass


def d():
    m = Mine()
    return m.get(1)


def parse(argv):
    p = optparse.OptionParser()
    p.add_option("-x")
    return argparse.ArgumentParser().parse_args(argv)


def module(name):
    made = types.ModuleType(name)
    logging.getLogger(name)
    return made.nope()
'''

# (the text of the call, the class of its receiver at runtime, its method, the rule), by hand
CALLS = [
    ("self.log(5, msg)", "Log", "log", "self_method"),
    ('logger.debug("a")', "Log", "debug", "returns_method"),
    ("logger.filter(None)", "Log", "filter", "returns_method"),
    ("self.add_option(", "Parser", "add_option", "self_method"),
    ("self.print_help()", "Parser", "print_help", "self_method"),
    ("self.format(record)\n        super()", "Handler", "format", "self_method"),
    ("super().emit(record)", "logging.Handler", "emit", "super"),
    ("super().flush()", "logging.Handler", "flush", "super"),
    ("m.get(1)", "Mine", "get", "instance_method"),
    ('p.add_option("-x")', "optparse.OptionParser", "add_option", "instance_method"),
    ("ArgumentParser().parse_args(argv)", "argparse.ArgumentParser", "parse_args", "result_method"),
]

ORACLE = """
import argparse, builtins, json, logging, optparse, sys
import pkg.fx as fx
out = []
for cls, method in json.loads(sys.argv[2]):
    k = getattr(fx, cls) if hasattr(fx, cls) else eval(cls)
    owner = next(c for c in k.__mro__ if method in vars(c))
    out.append(("<builtin>." if owner.__module__ == "builtins" else owner.__module__ + ".") + owner.__qualname__
               + "." + method)
print(json.dumps(out))
"""


def _line(text: str) -> int:
    return FIXTURE[:FIXTURE.index(text)].count("\n") + 1


def test_methods_inherited_from_classes_outside_the_repository_are_cpythons(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/fx.py": FIXTURE})
    want = json.loads(in_cpython(repo, ORACLE.replace("sys.argv[2]", repr(json.dumps([c[1:3] for c in CALLS])))))
    # what CPython says, checked against the classes named by hand: a base's own base holds some of them
    assert want == ["logging.Logger.log", "logging.Logger.debug", "logging.Filterer.filter",
                    "optparse.OptionContainer.add_option", "optparse.OptionParser.print_help",
                    "logging.Handler.format", "logging.Handler.emit", "logging.Handler.flush", "<builtin>.dict.get",
                    "optparse.OptionContainer.add_option", "argparse.ArgumentParser.parse_args"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/fx.py")
    for (text, _, _, rule), callee in zip(CALLS, want):  # (the line's other call: super(), ArgumentParser())
        edges = [(c, r) for c, r, _ in got.get(_line(text), []) if c not in ("<builtin>.super", "argparse.ArgumentParser")]
        assert edges == [(callee, rule)], (text, got.get(_line(text)))
    # the repository's own method as before; a class attribute that is not callable (Logger.manager, a Manager),
    # a name Logger lacks, an instance attribute that shadows Handler.format: no edge
    assert [c for c, _, _ in got[_line('logger.verbose("b")')]] == ["pkg.fx.Log.verbose"]
    for text in ("logger.manager()", "logger.nope()", "self.format(record)\n\n\nclass Mine", "made.nope()"):
        assert got.get(_line(text), []) == [], text


def test_answers_are_kept_per_interpreter_and_an_edit_keeps_the_edges(tmp_path):
    """The probe's answers are stored beside the link's tables (a one-file edit starts no interpreter for them), and
    an edit elsewhere keeps the edges into the standard library."""
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/fx.py": FIXTURE, "pkg/other.py": "X = 1\n"})
    import duckdb

    from codeintel_assets import link
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        stored = {q: m and json.loads(m) for q, m in c.execute(
            f"SELECT class_qualname, members FROM {link.STDLIB_CLASSES_TABLE} WHERE python = ?",
            [link._python_tag()]).fetchall()}
    # the bases, and the names outside the repository that calls resolve to (functions too: no members, NULL)
    assert {"logging.Logger", "logging.Handler", "optparse.OptionParser", "argparse.ArgumentParser",
            "types.ModuleType"} <= {q for q, m in stored.items() if m is not None}
    assert stored["logging.getLogger"] is None
    # and what the stubs say such a function returns, per interpreter and typeshed-client version
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        returns = dict(c.execute(f"SELECT qualname, class_qualname FROM {link.STDLIB_RETURNS_TABLE} WHERE python = ?",
                                 [link._answer_tag(link.STDLIB_RETURNS_TABLE)]).fetchall())
    assert json.loads(returns["logging.getLogger"]) == ["logging.Logger"]
    assert ["add_option", "optparse.OptionContainer.add_option"] in stored["optparse.OptionParser"]
    assert not any(n == "manager" for n, _ in stored["logging.Logger"])  # (a Manager instance: not callable)
    before = call_edges(env["CODEINTEL_DB"], "pkg/fx.py")
    (repo / "pkg" / "other.py").write_text("X = 2\n")
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert call_edges(env["CODEINTEL_DB"], "pkg/fx.py") == before


STUBS = '''import logging
import optparse
import os
import re
import tempfile

logger = logging.getLogger(__name__)
WORD = re.compile("w+")


def make():
    return 1


def run(text):
    logger.debug("x")
    m = re.match("a", text)
    m.group(0)
    WORD.findall(text)
    cwd = os.getcwd()
    cwd.startswith("/")
    return logging.getLogger("y").isEnabledFor(10)


def abstains():
    logger = make()
    logger.debug("z")
    d = tempfile.mkdtemp()
    return d.startswith("x")


class Command:
    def __init__(self, parser):
        self.opts = optparse.OptionGroup(parser, "x")
        self.log = logging.getLogger("cmd")

    def setup(self):
        self.opts.add_option("-y")
        self.log.info("set up")
'''

# (the call's text, how CPython makes its receiver, the method), by hand
RETURNED = [
    ('logger.debug("x")', 'logging.getLogger("fx")', "debug"),
    ("m.group(0)", 're.match("a", "a")', "group"),
    ("WORD.findall(text)", 're.compile("w+")', "findall"),
    ('cwd.startswith("/")', "os.getcwd()", "startswith"),
    ("isEnabledFor(10)", 'logging.getLogger("y")', "isEnabledFor"),
]


def returned_methods(repo, imports: str, cases) -> list[str]:
    """CPython's answer for each (text, how the receiver is made, method) of ``cases``: the class of the object the
    expression makes whose __dict__ holds the method, named as the link names it."""
    code = (f"import json, {imports}\nout = []\nfor make, method in " + repr([r[1:3] for r in cases]) + ":\n"
            "    k = next(c for c in type(eval(make)).__mro__ if method in vars(c))\n"
            "    out.append(('<builtin>.' if k.__module__ == 'builtins' else k.__module__ + '.') + k.__qualname__ + '.' + method)\n"
            "print(json.dumps(out))")
    return json.loads(in_cpython(repo, code))


def test_what_a_standard_library_function_returns_is_the_class_its_stub_declares(tmp_path):
    """`logger = logging.getLogger(__name__)`, then `logger.debug(...)`: the stub says getLogger returns a Logger,
    so the call is logging.Logger.debug (returns_method, 0.8 x the external edge's 0.9). A function whose
    declarations disagree (tempfile.mkdtemp: str or bytes by its overloads) gives nothing, nor does a name bound
    otherwise. Oracle: the class of the object CPython returns, and the class of its MRO that holds the method."""
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/st.py": STUBS})
    want = returned_methods(repo, "logging, os, re", RETURNED)
    assert want == ["logging.Logger.debug", "re.Match.group", "re.Pattern.findall", "<builtin>.str.startswith",
                    "logging.Logger.isEnabledFor"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/st.py")
    line = lambda text: STUBS[:STUBS.index(text)].count("\n") + 1  # noqa: E731
    for (text, _, _), callee in zip(RETURNED, want):
        assert [(c, r, conf) for c, r, conf in got[line(text)] if r == "returns_method"] == [
            (callee, "returns_method", 0.72)], (text, got[line(text)])
    for text in ('logger.debug("z")', 'd.startswith("x")'):
        assert got.get(line(text), []) == [], text
    # an attribute __init__ stores from a standard-library class called, or from such a function's call
    # (attribute_instance; CPython: optparse.OptionGroup's add_option is OptionContainer's, as above)
    attr = json.loads(in_cpython(repo, "import json, logging, optparse\nprint(json.dumps([next(k.__module__ + '.' + "
                                       "k.__qualname__ + '.' + m for k in c.__mro__ if m in vars(k)) for c, m in "
                                       "((optparse.OptionGroup, 'add_option'), (logging.Logger, 'info'))]))"))
    assert attr == ["optparse.OptionContainer.add_option", "logging.Logger.info"]
    for text, callee in zip(('self.opts.add_option("-y")', 'self.log.info("set up")'), attr):
        assert [(c, r) for c, r, _ in got[line(text)]] == [(callee, "attribute_instance")], (text, got[line(text)])


def test_a_probe_that_fails_is_not_remembered_and_one_that_answers_is(tmp_path):
    """The class probe runs in a separate interpreter. When that interpreter fails (here: exits 3 before printing),
    its keys are unknown for this process but nothing is stored, so the next process asks again; an answer, even
    "not a class", is stored."""
    import duckdb

    from codeintel_assets import link
    table, key = link.STDLIB_CLASSES_TABLE, "class_qualname"
    with duckdb.connect(str(tmp_path / "p.duckdb")) as c:
        memo: dict = {}
        link._probe(c, table, key, ["mod.Failed"], "import sys; sys.exit(3)", memo)
        assert memo == {"mod.Failed": None}
        assert link._stored_answers(c, table, key, ["mod.Failed"]) == {}
        answer = "import json, sys; print(json.dumps({sys.argv[1]: [['m', 'mod.K.m']]}))"
        link._probe(c, table, key, ["mod.K", "mod.f"], answer, memo)
        assert memo["mod.K"] == (("m", "mod.K.m"),) and memo["mod.f"] is None
        assert link._stored_answers(c, table, key, ["mod.K", "mod.f", "mod.Failed"]) == {
            "mod.K": (("m", "mod.K.m"),), "mod.f": None}


METHODS = '''import argparse
import re

PAT = re.compile(r"(d+)-(d+)")


def parse(text):
    m = PAT.match(text)
    m.groups()
    re.compile("x").match(text).span()
    "".join(["a", text]).strip()
    raw = "t".encode()
    raw.decode("ascii")
    parser = argparse.ArgumentParser()
    group = parser.add_argument_group("g")
    group.add_argument("--x")
    return m.group(1).upper()


def twice(text):
    found = PAT.match(text)
    if found is None:
        found = re.compile("y").search(text)
    return found.span()
'''

# (the call's text, how CPython makes its receiver, the method), by hand
METHOD_RETURNED = [
    ("m.groups()", 're.compile(r"(d+)-(d+)").match("d-d")', "groups"),
    (".span()", 're.compile("x").match("x")', "span"),
    (".strip()", '"".join(["a", "b"])', "strip"),
    ('raw.decode("ascii")', '"t".encode()', "decode"),
    ('group.add_argument("--x")', 'argparse.ArgumentParser().add_argument_group("g")', "add_argument"),
]


def test_what_a_method_of_a_standard_library_or_builtin_class_returns_is_the_class_its_stub_declares(tmp_path):
    """`m = PAT.match(text)` with `PAT = re.compile(...)`, then `m.groups()`: the stub of re.Pattern.match says
    `Match[str] | None` (every overload a Match), so the call is re.Match.groups. Likewise a builtin class's method
    (`"".join(...)` is a str, `"t".encode()` a bytes) and a method returning another class of its module
    (argparse's add_argument_group: an _ArgumentGroup). re.Match.group is declared `AnyStr | Any`: nothing after it.
    Oracle: the class of the object CPython returns, and the class of its MRO that holds the method."""
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/me.py": METHODS})
    want = returned_methods(repo, "argparse, re", METHOD_RETURNED)
    assert want == ["re.Match.groups", "re.Match.span", "<builtin>.str.strip", "<builtin>.bytes.decode",
                    "argparse._ActionsContainer.add_argument"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/me.py")
    line = lambda text: METHODS[:METHODS.index(text)].count("\n") + 1  # noqa: E731
    for (text, _, _), callee in zip(METHOD_RETURNED, want):
        assert callee in [c for c, r, _ in got[line(text)] if r == "returns_method"], (text, got[line(text)])
    # by hand: PAT.match is 0.8 x re.compile's external 0.9 (returns_method), m.groups() 0.8 x that
    assert ("re.Pattern.match", "returns_method", 0.72) in got[line("m = PAT.match(text)")]
    assert ("re.Match.groups", "returns_method", 0.576) in got[line("m.groups()")]
    assert [c for c, _, _ in got[line("m.group(1).upper()")]] == ["re.Match.group"]
    # bound twice, each time a re.Match (Pattern.match, Pattern.search): same_class, 0.8 x the least sure binding
    # (0.72: 0.8 x re.compile's 0.9)
    assert got[line("found.span()")] == [("re.Match.span", "same_class", 0.576)]


DECLARED = '''import argparse
import typing


def make():
    return argparse.ArgumentParser()


def use(name: str, parser: argparse.ArgumentParser, items: list[str], stream: typing.IO[str]) -> str:
    name.upper()
    parser.print_usage()
    for item in items:
        item.strip()
    items.append("x")
    stream.write(name)
    return name


def again():
    use("a", make(), [], None).lower()


def made(items):
    seen = set()
    seen.add(items)
    return str(items).strip()


class Table(dict):
    def __init__(self):
        proxy = super()
        proxy.__init__()

    def again(self):
        kind = type(self)
        return kind()
'''


def test_a_parameter_or_return_declared_a_builtin_or_standard_library_class_is_one(tmp_path):
    """`name: str`, then `name.upper()`: str.upper (annotation, 0.8 as for a class of the repository); a class of the
    standard library the link knows (argparse.ArgumentParser: a call resolves to it here); `items: list[str]`, its
    items (iterated; `items.append` not yet: a subscripted annotation types the items only); `-> str` for the call's value (returns_method). `stream: typing.IO[str]` gives
    nothing: no runtime object is a typing.IO (an open file is an io.TextIOWrapper). Oracle: CPython's MROs."""
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/de.py": DECLARED})
    want = json.loads(in_cpython(repo, "import argparse, json\nprint(json.dumps([next(('<builtin>.' if k.__module__ == "
                                       "'builtins' else k.__module__ + '.') + k.__qualname__ + '.' + m for k in c.__mro__ "
                                       "if m in vars(k)) for c, m in ((str, 'upper'), (argparse.ArgumentParser, "
                                       "'print_usage'), (str, 'strip'), (str, 'lower'))]))"))
    assert want == ["<builtin>.str.upper", "argparse.ArgumentParser.print_usage", "<builtin>.str.strip",
                    "<builtin>.str.lower"]
    got = call_edges(env["CODEINTEL_DB"], "pkg/de.py")
    line = lambda text: DECLARED[:DECLARED.index(text)].count("\n") + 1  # noqa: E731
    for text, callee, rule, conf in zip(("name.upper()", "parser.print_usage()", "item.strip()", ".lower()"), want,
                                        ("annotation", "annotation", "iterated", "returns_method"),
                                        # (argparse.ArgumentParser: an import outside the repository, 0.9)
                                        (0.8, 0.72, 0.8, 0.8)):
        assert (callee, rule, conf) in got[line(text)], (text, got[line(text)])
    assert got.get(line("stream.write(name)"), []) == []
    # a builtin class called makes an instance of it (CPython: set.add, str.strip are their own); 0.9 as for a class
    # of the repository (an instance attribute could shadow the method)
    assert got[line("seen.add(items)")] == [("<builtin>.set.add", "instance_method", 0.9)]
    assert ("<builtin>.str.strip", "result_method", 0.9) in got[line("str(items).strip()")]
    # but super() makes a proxy: proxy.__init__() runs dict.__init__, never super.__init__
    assert not any(c.startswith("<builtin>.super.") for c, _, _ in got.get(line("proxy.__init__()"), []))
    # nor type(self): a class, of whatever metaclass the subclass has (so not type.__call__)
    assert not any(c.startswith("<builtin>.type.") for c, _, _ in got.get(line("return kind()"), []))
