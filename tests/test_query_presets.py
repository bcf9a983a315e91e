"""`codeintel query --preset` names a code unit or a definition by every documented form: QUALNAME
(``pkg.mod.Class.meth``), ``MODULE::QUALPATH`` and ``QUALPATH`` (with '::' or '.'), for top-level functions,
methods, nested functions, lambdas and the module; a name that matches several is an error listing them, a
name that matches nothing an error (exit 2), never 0 rows.

Which code object a name must reach is CPython's: the file is compiled and its code objects found by
co_qualname; the expected jumps of a unit are those ``dis`` finds in that code object."""

import dis
import json
import textwrap
from types import CodeType

import pytest

from tests.conftest import index_repo, run_cli

MOD = """
    def top(x):
        if x:
            return 1
        return 2


    class Session:
        def merge(self, objs):
            for o in objs:
                print(o)
            return objs

        def close(self):
            return None


    def outer():
        def inner(y):
            while y:
                y -= 1
            return y
        return inner


    square = lambda v: v * v if v else 0


    def dup():
        return 1


    def dup():
        return 2


    if __name__ == "__main__":
        top(1)
"""
OTHER = """
    class Session:
        def merge(self):
            try:
                return 1
            except KeyError:
                return 2
"""
REPO = {"pkg/__init__.py": "", "pkg/mod.py": MOD, "pkg/other.py": OTHER}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    return index_repo(tmp_path_factory.mktemp("presets"), REPO)[1]


def query(env, *argv):
    return run_cli(["query", *argv], env)


def rows(env, preset: str, arg: str) -> list[dict]:
    code, out, err = query(env, "--preset", preset, "--arg", arg, "--json")
    assert code == 0, (arg, err)
    return [json.loads(line) for line in out.splitlines()]


def cpython_code(source: str, co_qualname: str) -> CodeType:
    """The code object CPython compiles for ``co_qualname`` in ``source`` (the module's: ``<module>``)."""
    todo = [compile(textwrap.dedent(source).lstrip("\n"), "mod.py", "exec")]
    found = []
    while todo:
        c = todo.pop()
        if c.co_qualname == co_qualname:
            found.append(c)
        todo.extend(k for k in c.co_consts if isinstance(k, CodeType))
    assert len(found) == 1, (co_qualname, found)
    return found[0]


JUMPS = {dis.opname[op] for op in dis.hasjump}


def jumps(code: CodeType) -> set[str]:
    """The jump instructions CPython puts in the code object: each ends a basic block."""
    return {i.opname for i in dis.get_instructions(code) if i.opname in JUMPS}


# (the forms that must name it, the file, its co_qualname in CPython)
UNITS = [
    (["pkg.mod.top", "pkg.mod::top", "top"], "pkg/mod.py", "top"),
    (["pkg.mod.Session.merge", "pkg.mod::Session::merge", "pkg.mod::Session.merge"], "pkg/mod.py", "Session.merge"),
    (["pkg.mod.Session.close", "pkg.mod::Session.close", "Session.close", "Session::close"], "pkg/mod.py",
     "Session.close"),
    (["pkg.mod.outer.inner", "pkg.mod::outer::inner", "pkg.mod::outer.inner", "outer.inner", "outer::inner"],
     "pkg/mod.py", "outer.<locals>.inner"),
    # the call graph's <lambda1>, the qualpath's <lambda#1>
    (["pkg.mod.<lambda1>", "pkg.mod::<lambda#1>"], "pkg/mod.py", "<lambda>"),
    (["pkg.mod", "pkg.mod::<module>"], "pkg/mod.py", "<module>"),
    (["pkg.other.Session.merge", "pkg.other::Session::merge", "pkg.other::Session.merge"], "pkg/other.py",
     "Session.merge"),
]


@pytest.mark.parametrize("forms,path,co_qualname", UNITS, ids=[u[0][0] for u in UNITS])
def test_cfg_finds_a_unit_by_every_documented_form(indexed, forms, path, co_qualname):
    source = REPO[path]
    expected_jumps = jumps(cpython_code(source, co_qualname))
    first = None
    for form in forms:
        got = rows(indexed, "cfg", form)
        assert got, form
        assert {r["path"] for r in got} == {path}, form
        assert {r["terminator"] for r in got} & JUMPS == expected_jumps, (form, got)
        first = first or got
        assert got == first, form  # one unit, whichever form names it


@pytest.mark.parametrize("forms,path,co_qualname", UNITS, ids=[u[0][0] for u in UNITS])
def test_cfg_dot_draws_the_code_object_cpython_compiles(indexed, forms, path, co_qualname):
    from resources.duck import connect_read_only
    code = cpython_code(REPO[path], co_qualname)
    for form in forms:
        rc, out, err = query(indexed, "--preset", "cfg-dot", "--arg", form)
        assert rc == 0, (form, err)
        assert out.startswith(f'digraph "{form}"')
        block_ids = {line.split('"')[1] for line in out.splitlines() if "[label=\"B" in line}
        conn = connect_read_only(indexed["CODEINTEL_DB"])
        try:
            units = conn.execute(
                "SELECT DISTINCT u.path, u.co_qualname, u.co_firstlineno FROM py_bc_blocks b JOIN py_bc_code_units u "
                "ON u.path = b.path AND u.code_unit_id = b.code_unit_id WHERE list_contains(?, b.block_id)",
                [sorted(block_ids)]).fetchall()
        finally:
            conn.close()
        assert units == [(path, code.co_qualname, code.co_firstlineno)], form


@pytest.mark.parametrize("preset", ["cfg", "cfg-dot"])
def test_a_name_of_no_code_unit_is_an_error(indexed, preset):
    for name in ("pkg.mod.Session.nope", "pkg.mod::nope", "nope", "pkg.nomod"):
        code, out, err = query(indexed, "--preset", preset, "--arg", name)
        assert (code, out) == (2, ""), (preset, name, out)
        assert len(err.strip().splitlines()) == 1 and f"no code unit named {name!r}" in err, err


@pytest.mark.parametrize("preset", ["cfg", "cfg-dot"])
def test_a_name_of_several_code_units_lists_them(indexed, preset):
    # Session.merge is a method in both files; `def dup` twice in one module is dup and dup#2 (both pkg.mod.dup
    # to the call graph)
    for name, listed in [("Session.merge", ["pkg.mod::Session::merge", "pkg.other::Session::merge"]),
                         ("Session::merge", ["pkg.mod::Session::merge", "pkg.other::Session::merge"]),
                         ("pkg.mod.dup", ["pkg.mod::dup", "pkg.mod::dup#2"])]:
        code, out, err = query(indexed, "--preset", preset, "--arg", name)
        assert (code, out) == (2, ""), (name, out)
        assert f"2 code units are named {name!r}" in err, err
        assert [line.split()[0] for line in err.strip().splitlines()[1:]] == listed, err
    # each with its file and first line, the line of its `def` (which of dup and dup#2 is which)
    defs = [i + 1 for i, ln in enumerate(textwrap.dedent(MOD).lstrip("\n").splitlines()) if ln.startswith("def dup")]
    code, out, err = query(indexed, "--preset", preset, "--arg", "pkg.mod.dup")
    assert [line.split("(")[1].rstrip(")").split(", ")[1] for line in err.strip().splitlines()[1:]] == \
        [f"pkg/mod.py:{n}" for n in defs], err
    # each listed name is unambiguous
    assert rows(indexed, "cfg", "pkg.mod::dup#2")


def test_qualname_presets_take_the_same_forms(indexed):
    # top is called once, at module level under `if __name__ == "__main__":`
    line = textwrap.dedent(MOD).lstrip("\n").splitlines().index("    top(1)") + 1
    for form in ("pkg.mod.top", "pkg.mod::top", "top"):
        got = rows(indexed, "callers", form)
        assert [(r["caller"], r["callee"], r["path"], r["lineno"]) for r in got] == [
            ("pkg.mod", "pkg.mod.top", "pkg/mod.py", line)], form
        into = rows(indexed, "calls-into", form)
        assert [(r["caller"], r["lineno"], r["parameter"], r["argument"]) for r in into] == [
            ("pkg.mod", line, "x", "1")], form
    # Session.merge calls print (a builtin) in a loop
    for form in ("pkg.mod.Session.merge", "pkg.mod::Session::merge", "pkg.mod::Session.merge"):
        assert {r["callee"] for r in rows(indexed, "callees", form)} == {"<builtin>.print"}, form
    # the parameter y of the nested inner: defined once (the parameter), used in the loop test, y -= 1 (a
    # use and a definition) and the return
    src = textwrap.dedent(MOD).lstrip("\n").splitlines()
    param, store = src.index("    def inner(y):") + 1, src.index("            y -= 1") + 1
    for form in ("pkg.mod.outer.inner.y", "pkg.mod::outer::inner::y", "pkg.mod::outer.inner.y", "outer.inner.y"):
        got = rows(indexed, "binding", form)
        assert sorted(r["lineno"] for r in got if r["role"] == "def") == [param, store], (form, got)
    # a name outside the repository, as the call graph spells it
    assert rows(indexed, "callers", "<builtin>.print")


@pytest.mark.parametrize("preset", ["callers", "callees", "calls-into", "binding"])
def test_qualname_presets_refuse_unknown_and_ambiguous_names(indexed, preset):
    code, out, err = query(indexed, "--preset", preset, "--arg", "pkg.mod.nope")
    assert (code, out) == (2, "") and "named 'pkg.mod.nope'" in err and len(err.strip().splitlines()) == 1, err
    code, out, err = query(indexed, "--preset", preset, "--arg", "Session.merge")
    assert (code, out) == (2, "") and "2 definitions are named 'Session.merge'" in err, err
    assert [line.strip() for line in err.strip().splitlines()[1:]] == ["pkg.mod.Session.merge",
                                                                       "pkg.other.Session.merge"], err


def test_binding_finds_a_local_name_by_the_forms_of_its_function(indexed):
    """`for o in objs` binds the local o of Session.merge (not a parameter, so no definition row): binding
    finds it by QUALNAME.o, MODULE::QUALPATH::o and QUALPATH.o; its def is the for line, its use print(o)'s."""
    src = textwrap.dedent(MOD).lstrip("\n").splitlines()
    loop, use = src.index("        for o in objs:") + 1, src.index("            print(o)") + 1
    for form in ("pkg.mod.Session.merge.o", "pkg.mod::Session::merge::o", "pkg.mod::Session.merge.o"):
        got = rows(indexed, "binding", form)
        assert sorted((r["role"], r["lineno"]) for r in got) == [("def", loop), ("use", use)], (form, got)
    code, out, err = query(indexed, "--preset", "binding", "--arg", "pkg.mod.Session.merge.nope")
    assert (code, out) == (2, "") and "named 'pkg.mod.Session.merge.nope'" in err, err


def test_location_presets_say_which_part_of_the_location_names_nothing(indexed):
    """call-path PATH:LINE and reaching PATH:LINE:NAME: an unknown file, a line without a call site, a name not
    used on the line, or an argument of another shape is one error line and exit 2, never an empty table."""
    src = textwrap.dedent(MOD).lstrip("\n").splitlines()
    call = src.index("            print(o)") + 1
    assert [r["callee_qualname"] for r in rows(indexed, "call-path", f"pkg/mod.py:{call}")] == ["<builtin>.print"]
    assert {r["name"] for r in rows(indexed, "reaching", f"pkg/mod.py:{call}:o")} == {"o"}
    for preset, arg, message in (
            ("call-path", "pkg/nope.py:1", "no file 'pkg/nope.py'"),
            ("call-path", f"pkg/mod.py:{len(src) + 50}", f"no call site on pkg/mod.py:{len(src) + 50}"),
            ("call-path", "pkg/mod.py", "takes --arg PATH:LINE"),
            ("reaching", f"pkg/mod.py:{call}:zz", f"no use of 'zz' on pkg/mod.py:{call} (the names with reaching definitions there: o)"),
            ("reaching", f"pkg/mod.py:{call}", "takes --arg PATH:LINE:NAME")):
        code, out, err = query(indexed, "--preset", preset, "--arg", arg)
        assert (code, out) == (2, "") and message in err and len(err.strip().splitlines()) == 1, (arg, err)


@pytest.mark.parametrize("preset", ["cfg", "cfg-dot", "callers", "callees", "call-path", "reaching"])
def test_a_preset_without_its_argument_says_it_needs_one(indexed, preset):
    """`--preset callers` without `--arg` said "no definition or call target named ''" (a user trial): it now
    says the preset needs --arg and what form it takes; one line, exit 2."""
    code, out, err = query(indexed, "--preset", preset)
    assert (code, out) == (2, ""), (preset, out)
    assert len(err.strip().splitlines()) == 1 and f"the {preset} preset needs --arg" in err, err
    assert "''" not in err
