"""An edit is followed by the module-level names it changed, not by its module (codeintel_assets/interface.py).

The expected names and relinked files are read off the fixtures by hand; every incremental link is compared
with a full link of the same rows."""

import shutil

import duckdb
from dagster import AssetKey, DagsterInstance

from codeintel_assets.interface import Change, compare_statements
from tests.conftest import cli_env, run_cli, write_repo
from tests.test_cpg_link import OVERRIDE_BASE


def _stmts(*rows):
    """{ordinal: (line0, line1, key)} from (ordinal, line0, line1, digest, defs, refs[, wide]) rows."""
    return {o: (l0, l1, (d, frozenset(defs), frozenset(refs), bool(rest and rest[0])))
            for o, l0, l1, d, defs, refs, *rest in rows}


OLD = _stmts((1, 1, 2, "a", {"helper"}, {"helper"}),
             (5, 4, 5, "b", {"f"}, {"f", "helper", "x"}),       # def f(x): return helper(x)
             (9, 8, 9, "c", {"g"}, {"g"}),
             (12, 11, 11, "d", set(), {"Box", "g"}))            # Box.attr = g (binds nothing)


def test_changed_names_follow_what_a_changed_statement_binds_and_what_mentions_it():
    # an appended statement: its name only; nothing moved
    change = compare_statements(OLD, {**OLD, 20: (13, 14, ("e", frozenset({"h"}), frozenset({"h", "len"}), False))})
    assert (change.names, change.moves, change.gone) == ({"h"}, [], [])
    # helper's text changed: f returns what helper returns, so f changed with it
    assert compare_statements(OLD, {**OLD, 1: (1, 2, ("a2", frozenset({"helper"}), frozenset({"helper"}), False))}
                              ).names == {"helper", "f"}
    # g changed: `Box.attr = g` binds nothing, so what it mentions changed (Box's attribute)
    assert compare_statements(OLD, {**OLD, 9: (8, 9, ("c2", frozenset({"g"}), frozenset({"g"}), False))}
                              ).names == {"g", "Box"}
    # the same text naming other names (a name it reads is now bound elsewhere): changed
    assert compare_statements(OLD, {**OLD, 5: (4, 5, ("b", frozenset({"f"}), frozenset({"f", "helper"}), False))}
                              ).names == {"f"}
    assert compare_statements(OLD, dict(OLD)) == Change()


def test_statements_that_only_moved_keep_their_names_and_rename_their_ids():
    # a statement removed: what it bound and what mentions it changed; the statements after it moved up
    new = {1: OLD[1], 5: OLD[5], 9: (8, 8, OLD[12][2])}
    change = compare_statements(OLD, new)
    assert change.names == {"g", "Box"}
    assert change.gone == [(9, 12, 8, 9)] and change.moves == [(12, None, -3, 11, 11, -3)]
    # two lines inserted at the top (an import of 3 nodes): every statement moved, only the import is new
    new = {1: (1, 1, ("i", frozenset({"os"}), frozenset({"os"}), False)),
           **{o + 3: (l0 + 2, l1 + 2, key) for o, (l0, l1, key) in OLD.items()}}
    change = compare_statements(OLD, new)
    assert change.names == {"os"} and change.gone == []
    assert change.moves == [(1, 5, 3, 1, 2, 2), (5, 9, 3, 4, 5, 2), (9, 12, 3, 8, 9, 2), (12, None, 3, 11, 11, 2)]
    # the ids other files name: a definition's AST ordinal and a binding's scope line follow their statement
    assert change.new_id("m.py", "m.py:AST:6") == "m.py:AST:9"
    assert change.new_id("m.py", "m.py:SCOPE:f:4:FUNCTION:0:BIND:x") == "m.py:SCOPE:f:6:FUNCTION:0:BIND:x"
    assert change.new_id("m.py", "m.py:SCOPE:C::m:9:FUNCTION:0") == "m.py:SCOPE:C::m:11:FUNCTION:0"
    assert change.new_id("m.py", "m.py:SCOPE:<module>:0:MODULE:0:BIND:f") == "m.py:SCOPE:<module>:0:MODULE:0:BIND:f"
    assert change.new_id("m.py", "m.py:AST:0") == "m.py:AST:0"  # the module itself
    # an id in a changed statement has no new name: whoever names it is resolved again
    change = compare_statements(OLD, {**OLD, 9: (8, 9, ("c2", frozenset({"g"}), frozenset({"g"}), False))})
    assert change.new_id("m.py", "m.py:AST:10") is None and change.new_id("m.py", "m.py:AST:6") == "m.py:AST:6"


def test_changed_names_give_up_to_the_whole_module_when_they_cannot_tell():
    old = _stmts((1, 1, 1, "a", {"x"}, {"x"}), (4, 3, 3, "s", set(), set(), True))
    assert compare_statements(old, {**old, 4: (3, 3, ("s2", frozenset(), frozenset(), True))}) is None  # star
    assert compare_statements(old, {**old, 7: (5, 5, ("t", frozenset({"__all__"}), frozenset({"__all__"}), False))}
                              ) is None
    assert compare_statements(old, {**old, 7: (5, 5, ("t", frozenset({"__getattr__"}), frozenset(), False))}) is None
    # a name __all__ lists changed: the list did not (the star importers follow the name anyway)
    listed = _stmts((1, 1, 1, "all", {"__all__"}, {"__all__", "f"}), (2, 2, 3, "f", {"f"}, {"f"}))
    assert compare_statements(listed, {**listed, 2: (2, 3, ("f2", frozenset({"f"}), frozenset({"f"}), False))}
                              ).names == {"f"}
    # two statements on one line (`a = 1; b = 2`): a line in an id would not tell which
    assert compare_statements(_stmts((1, 1, 1, "a", {"a"}, {"a"}), (4, 1, 1, "b", {"b"}, {"b"})), {}) is None
    # a docstring edited: binds and mentions nothing, changes nothing
    doc = _stmts((1, 1, 1, "doc", set(), set()), (2, 2, 2, "a", {"x"}, {"x"}))
    change = compare_statements(doc, {**doc, 1: (1, 1, ("doc2", frozenset(), frozenset(), False))})
    assert (change.names, change.moves) == (set(), [])


def _member(kind, name, l0, l1, head, body, **flags):
    """A member as ``interface._members_ctes`` gives it: digests (n, s, x) from two ints, flags False unless named."""
    return {"kind": kind, "name": name, "l0": l0, "l1": l1, "hn": 1, "hs": head, "hx": head, "bn": 1, "bs": body,
            "bx": body, **{f: flags.get(f, False) for f in ("decorated", "attr_write", "scope_decl", "abstract_like")}}


def _class(digest, *members, defs=("C",)):
    """A class statement on lines 1-20: (line0, line1, key, members)."""
    return 1, 20, (digest, frozenset(defs), frozenset({*defs, "helper"}), False), list(members)


def test_a_change_of_method_bodies_alone_names_the_methods():
    head = _member("header", None, 1, 1, 1, 0)
    m, n = _member("FunctionDef", "m", 2, 5, 10, 20), _member("FunctionDef", "n", 6, 9, 11, 21)
    old = {1: _class("c", head, m, n), 30: (30, 31, ("u", frozenset({"use"}), frozenset({"use", "C"}), False))}
    # m's body changed: C.m, not C (so not `use`, whose statement mentions C); the class statement went (its ids
    # are resolved again where other files name them)
    change = compare_statements(old, {**old, 1: _class("c2", head, {**m, "bs": 99, "bx": 99}, n)})
    assert (change.names, [g[0] for g in change.gone]) == ({"C.m"}, [1])
    # both bodies: both names
    assert compare_statements(old, {**old, 1: _class("c2", head, {**m, "bs": 99}, {**n, "bx": 98})}).names == {
        "C.m", "C.n"}
    # the class's name, as before names of methods, when other files can see the change: a header (signature,
    # decorators), a member added, reordered or of another kind, a dunder, a decorated method, an attribute written,
    # a global declared, an abstract-like body (old or new), two members on one line, a class binding more names
    whole = {"C", "use"}
    for new in (_class("c2", head, {**m, "hs": 5}, n),
                _class("c2", head, m, n, _member("FunctionDef", "o", 10, 12, 1, 1)),
                _class("c2", head, n, m),
                _class("c2", head, {**m, "kind": "AsyncFunctionDef", "bs": 9}, n),
                _class("c2", head, {**m, "name": "__init__"}, {**n, "name": "__init__", "bs": 9}),
                _class("c2", head, {**m, "bs": 9, "decorated": True}, n),
                _class("c2", head, {**m, "bs": 9, "attr_write": True}, n),
                _class("c2", head, {**m, "bs": 9, "scope_decl": True}, n),
                _class("c2", head, {**m, "bs": 9, "abstract_like": True}, n),
                _class("c2", head, {**m, "bs": 9, "l1": 6}, n),
                _class("c2", {**head, "hs": 7}, {**m, "bs": 9}, n),
                _class("c2", head, {**m, "bs": 9}, n, defs=("C", "G"))):
        assert whole <= compare_statements(old, {**old, 1: new}).names, new
    dunder = {1: _class("c", head, {**m, "name": "__call__"}, n), 30: old[30]}
    assert compare_statements(dunder, {**dunder, 1: _class("c2", head, {**m, "name": "__call__", "bs": 9}, n)}
                              ).names == whole
    # a statement without members (a row written before members were digested): the class's name
    assert compare_statements({**old, 1: old[1][:3] + (None,)}, {**old, 1: _class("c2", head, {**m, "bs": 9}, n)}
                              ).names == whole


LIB = '''
def helper():
    return 1


class Box:
    def open(self):
        return helper()


def make() -> Box:
    return Box()
'''

FILES = {
    "lib.py": LIB,
    "use_box.py": "from lib import Box\n\n\ndef go():\n    return Box().open()\n",
    "use_make.py": "from lib import make\n\n\ndef go():\n    return make().open()\n",
    "use_mod.py": "import lib\n\n\ndef go():\n    return lib.helper()\n",
    "use_alias.py": "import lib as L\n\nopener = L.Box\n\n\ndef go():\n    return opener().open()\n",
    "star.py": "from lib import *\n\n\ndef go():\n    return helper()\n",
    "other.py": "def alone():\n    return 0\n",
    # imports Box and calls nothing of lib.py (no edge into it); subclasses Box (cpg_inherits names Box's id)
    "use_type.py": "from lib import Box\n\n\nclass Mine(Box):\n    pass\n\n\ndef check(x):\n"
                   "    return isinstance(x, Box)\n",
    # (more files than three times the most an edit below relinks: a link of over a third of the files is a full
    # one)
    **{f"pad{i}.py": f"def p{i}():\n    return {i}\n" for i in range(16)},
}


def _index(repo, env):
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    assert code == 0, err
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        meta = instance.get_latest_materialization_event(AssetKey("cpg_calls")).asset_materialization.metadata
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        rows = {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ("cpg_calls", "cpg_binds_arg", "cpg_arg_reaches", "cpg_inherits", "cpg_mro")}
    return {k: v.value for k, v in meta.items()}, rows


def _full_link(env, tmp_path):
    from codeintel_assets.link import link_calls
    from resources.store import CONNECTION_CONFIG
    copy = tmp_path / "full.duckdb"
    shutil.copy(env["CODEINTEL_DB"], copy)
    with duckdb.connect(str(copy), config=CONNECTION_CONFIG) as c:
        figures = link_calls(c, full=True)
        rows = {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in ("cpg_calls", "cpg_binds_arg", "cpg_arg_reaches", "cpg_inherits", "cpg_mro")}
    return rows, _resolved_figures(figures)


def _resolved_figures(meta) -> dict:
    """The call sites resolved, in all and per rule (an incremental link sums them from cpg_link_figures)."""
    return {k: v for k, v in meta.items() if k.startswith("sites_") or k == "call_sites_resolved"}


def _callees(rows, path):
    return sorted({(r[4], r[8], r[10]) for r in rows["cpg_calls"] if r[2] == path})


def _relink(repo, env, tmp_path, text: str, name: str = "lib.py", **expected) -> dict:
    """``name`` (lib.py) rewritten as ``text`` and indexed: the link's figures named in ``expected`` are those, and
    its rows equal a full link of the same rows. Returns the rows."""
    (repo / name).write_text(text)
    meta, rows = _index(repo, env)
    assert {k: meta[k] for k in expected} == expected, meta
    full_rows, full_figures = _full_link(env, tmp_path)
    assert rows == full_rows
    assert _resolved_figures(meta) == full_figures and full_figures["call_sites_resolved"] > 0
    return rows


def test_an_edit_relinks_the_importers_of_the_names_it_changed_only(tmp_path):
    repo = write_repo(tmp_path / "repo", FILES)
    env = cli_env(tmp_path)
    meta, rows = _index(repo, env)
    assert meta["full"] is True
    assert ("use_make.go", "lib.Box.open", "returns_method") in _callees(rows, "use_make.py")

    # 1. a function appended: lib.py and the star import (a public name is bare there). Not the files with a call
    #    into lib.py: `extra` is a name lib.py never had, and no old statement changed (Change.adds_only), so
    #    nothing their calls reached changed; not use_type.py either
    _relink(repo, env, tmp_path, LIB.lstrip("\n") + "\n\ndef extra():\n    return helper()\n",
            full=False, files_dirty=1, files_relinked=2, files_followed_by_name=1)

    # 2. Box.open's body changed, its bytes as many (nothing after it moves: only its statement's rows change):
    #    Box and make (make's statement mentions Box: it returns one). Their importers: by name (use_box.py,
    #    use_make.py, use_type.py, also a subclass), through the module (use_alias.py spells L.Box), the star
    #    import; and use_mod.py (a call into lib.py); not other.py
    rows = _relink(repo, env, tmp_path, (repo / "lib.py").read_text().replace(
        "return helper()\n\n\ndef make", "return make()  \n\n\ndef make"), full=False, files_dirty=1, files_relinked=7)
    assert ("lib.Box.open", "lib.make", "local") in _callees(rows, "lib.py")

    # 3. a line added at the top: every statement moved, their text unchanged; `import os` is new (os: a name
    #    lib.py never had). lib.py and the star import are linked again; the rows of the other files that name
    #    lib.py's ids (AST ordinals, all shifted by the import's nodes) are renamed, not resolved again: the four
    #    callers use_box, use_make, use_mod, use_alias, and use_type (cpg_inherits, cpg_mro name Box)
    _relink(repo, env, tmp_path, "import os\n" + (repo / "lib.py").read_text(),
            full=False, files_dirty=1, files_relinked=2, files_renamed_only=5)

    # 4. __all__ appended: the whole module, as before names (every importer)
    rows = _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "\n__all__ = ['helper']\n",
                   full=False, files_relinked=7, files_followed_by_name=0)
    assert [c for c in _callees(rows, "star.py") if c[:2] == ("star.go", "lib.helper")]

    # 5. a public function appended that __all__ does not list: star.py's import does not bind it; lib.py alone
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "\n\ndef unlisted():\n    return 0\n",
            files_relinked=1, files_followed_by_name=1)


def test_a_name_rebound_at_the_end_relinks_who_imports_it(tmp_path):
    """`make = helper` appended: make changed (a second binding), so use_make.py is linked again."""
    repo = write_repo(tmp_path / "repo", FILES)
    env = cli_env(tmp_path)
    _index(repo, env)
    (repo / "lib.py").write_text(LIB.lstrip("\n") + "\n\nmake = helper\n")
    meta, rows = _index(repo, env)
    assert (meta["files_followed_by_name"], meta["files_relinked"]) == (1, 6), meta  # not use_type, other
    assert rows == _full_link(env, tmp_path)[0]


def test_a_call_resolved_through_what_another_file_returns_follows_a_change_of_the_returning_function(tmp_path):
    """deco.py's requires() returns skip_unless(...) of flags.py, which returns _id: `@requires()` in test.py
    reaches flags._id ('returned') though test.py imports nothing from flags.py. When skip_unless returns _wrap
    instead, only skip_unless changed; test.py is linked again all the same (its edge reached flags.py through
    a returned value), and the link equals a full one."""
    flags = ("def _id(obj):\n    return obj\n\n\ndef _wrap(obj):\n    return obj\n\n\n"
             "def skip_unless(cond):\n    return _id\n")
    files = {"flags.py": flags,
             "deco.py": "from flags import skip_unless\n\n\ndef requires():\n    return skip_unless(True)\n",
             "test.py": "from deco import requires\n\n\n@requires()\ndef t():\n    pass\n",
             **{f"pad{i}.py": f"def p{i}():\n    return {i}\n" for i in range(6)}}
    repo = write_repo(tmp_path / "repo", files)
    env = cli_env(tmp_path)
    _, rows = _index(repo, env)
    assert [c for c in _callees(rows, "test.py") if c[1:] == ("flags._id", "returned")]
    (repo / "flags.py").write_text(flags.replace("    return _id\n", "    return _wrap\n"))
    meta, rows = _index(repo, env)
    assert (meta["full"], meta["files_followed_by_name"]) == (False, 1), meta
    assert [c for c in _callees(rows, "test.py") if c[1:] == ("flags._wrap", "returned")]
    assert not [c for c in _callees(rows, "test.py") if c[1] == "flags._id"]
    assert rows == _full_link(env, tmp_path)[0]


def test_an_edit_of_comments_and_blank_lines_relinks_the_file_alone(tmp_path):
    """No statement's tokens changed: the files that call into lib.py keep their edges (their rows that name
    lib.py's definitions are renamed where those moved), and the link equals a full one."""
    repo = write_repo(tmp_path / "repo", FILES)
    env = cli_env(tmp_path)
    _index(repo, env)
    # 1. a comment and a blank line at the top: every statement moved two lines down. An AST id is an ordinal
    #    (unchanged: comments are no nodes), a scope id carries its first line: the files renamed are those whose
    #    rows name a binding of lib.py's scopes, the three that bind `self` of Box.open (use_box, use_make and
    #    use_alias call `.open()` on a Box); use_mod, star and use_type name only AST ids (cpg_calls, cpg_inherits)
    _relink(repo, env, tmp_path, "# lib: helpers\n\n" + LIB.lstrip("\n"),
            full=False, files_dirty=1, files_relinked=1, files_renamed_only=3)
    # 2. a comment at the end: nothing moved, nothing renamed
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "# end\n",
            files_relinked=1, files_renamed_only=0, ids_renamed=0)
    # 3. a private name appended: lib.py alone (star.py's `from lib import *` binds no `_` name: lib.py has no
    #    __all__)
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "\n_cache = {}\n",
            files_relinked=1, files_followed_by_name=1)
    # 4. a function appended: lib.py and the star import only (as in the test above)
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "\n\ndef extra():\n    return helper()\n",
            files_relinked=2, files_followed_by_name=1)
    # 5. an old definition changed (helper returns 2): helper, and what mentions it, Box (open calls it) and make
    #    (it returns a Box). The files with a call into lib.py (use_box, use_make, use_mod, use_alias, star), the
    #    subclass of Box (use_type) and lib.py: 7; not other.py nor the pads
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text().replace("    return 1\n", "    return 2\n", 1),
            files_relinked=7, files_followed_by_name=1)


# A subclass of test_cpg_link's base class (its run calls self.step(): SUBCLASS_CALLS) in another file, beside a
# function no class mentions.
SUB = """
from base import Base


def tool():
    return 1


class Sub(Base):
    def step(self):
        return 2
"""


def test_an_edit_that_changes_no_class_does_not_relink_the_files_of_its_classes_bases(tmp_path):
    """base.py's `self.step()` reaches Sub.step (rule override): an edit of sub.py that changes a class relinks
    base.py; one that only adds what no class is (a comment, a function, statements that move) leaves base.py's rows
    as they are (renamed where they name ids that moved), and every link equals a full one."""
    repo = write_repo(tmp_path / "repo", {**{k: v for k, v in FILES.items() if k.startswith("pad")},
                                          "base.py": OVERRIDE_BASE.lstrip("\n"), "sub.py": SUB.lstrip("\n")})
    env = cli_env(tmp_path)
    _, rows = _index(repo, env)
    override = ("base.Base.run", "sub.Sub.step", "override")
    assert override in _callees(rows, "base.py")
    sub = repo / "sub.py"
    # 1. a comment appended: sub.py alone (before: base.py too, the file of Sub's base)
    _relink(repo, env, tmp_path, sub.read_text() + "# end\n", "sub.py", full=False, files_dirty=1, files_relinked=1)
    # 2. a function appended: sub.py alone. (A changed function relinks base.py all the same: every file with a
    #    call into an edited file is linked again unless the edit only added, link.affected_paths)
    _relink(repo, env, tmp_path, sub.read_text() + "\n\ndef more():\n    return tool()\n", "sub.py",
            files_relinked=1, files_followed_by_name=1)
    # 3. a line at the top: every statement moves; base.py's edge into Sub.step is renamed, not resolved again
    rows = _relink(repo, env, tmp_path, "import os\n" + sub.read_text(), "sub.py", files_relinked=1,
                   files_renamed_only=1)
    assert override in _callees(rows, "base.py")
    # 4. Sub changed, an override of run added that does not call super().run(): a Sub never runs Base.run, so
    #    base.py is linked again and its edge into Sub.step goes
    with_run = sub.read_text().replace("        return 2\n", "        return 2\n\n    def run(self):\n        return 3\n")
    rows = _relink(repo, env, tmp_path, with_run, "sub.py", files_relinked=2)
    assert override not in _callees(rows, "base.py")
    # 5. the override gone again: the edge is back
    rows = _relink(repo, env, tmp_path, with_run.replace("\n    def run(self):\n        return 3\n", ""), "sub.py",
                   files_relinked=2)
    assert override in _callees(rows, "base.py")
    # 6. Sub deleted: base.py's edge into it goes (its rows named a definition of a removed statement)
    rows = _relink(repo, env, tmp_path, sub.read_text().split("class Sub")[0], "sub.py", files_relinked=2)
    assert not [c for c in _callees(rows, "base.py") if c[1].startswith("sub.")]


STORE = '''
from item import Item, Other


def helper():
    return Item()


class Store:
    def get(self):
        return helper()

    def reset(self):
        self.item = Item()

    def size(self):
        return len(self.__dict__)
'''

METHOD_FILES = {
    "lib.py": STORE,
    "item.py": "class Item:\n    def run(self):\n        return 1\n\n\nclass Other:\n    def run(self):\n"
               "        return 2\n",
    # a call into lib.py: its file is relinked by any change of lib.py but an addition
    "caller.py": "from lib import Store\n\n\ndef go():\n    return Store().get()\n",
    # imports Store, calls nothing of lib.py
    "hint.py": "from lib import Store\n\n\ndef keep(s: Store):\n    return s\n",
    # s.item.run(): Item.run in item.py, found through the attribute Store.reset stores (no edge into lib.py)
    "attr.py": "from lib import Store\n\n\ndef go(s: Store):\n    return s.item.run()\n",
    **{f"pad{i}.py": f"def p{i}():\n    return {i}\n" for i in range(10)},
}


def test_an_edit_of_a_method_body_follows_the_method_not_its_class(tmp_path):
    """Store.get's body changed: other files see Store as before but for what get returns, which only the callers
    of get read (their edges reach lib.py): lib.py and caller.py are relinked, not hint.py and attr.py, which
    import Store (before: Store's name changed, and its four importers were relinked). A change the link reads
    for other files' calls is still the class's: an attribute stored by a method (attr.py's s.item.run() goes
    from Item.run to Other.run), a method made abstract (a raise alone). Every link equals a full one."""
    repo = write_repo(tmp_path / "repo", METHOD_FILES)
    env = cli_env(tmp_path)
    _, rows = _index(repo, env)
    assert ("attr.go", "item.Item.run", "attribute_instance") in _callees(rows, "attr.py")
    lib = repo / "lib.py"
    # 1. a body changed (and grown by a line: size moves, its ids are renamed where other files name them)
    _relink(repo, env, tmp_path, lib.read_text().replace("        return helper()\n",
                                                        "        found = helper()\n        return found\n"),
            full=False, files_dirty=1, files_followed_by_name=1, files_relinked=2)
    # 2. an attribute store changed: the class's name, its importers relinked, and attr.py's edge follows
    rows = _relink(repo, env, tmp_path, lib.read_text().replace("self.item = Item()", "self.item = Other()"),
                   files_relinked=4)
    assert ("attr.go", "item.Other.run", "attribute_instance") in _callees(rows, "attr.py")
    # 3. size made abstract-like (a raise alone): the class's name again
    _relink(repo, env, tmp_path, lib.read_text().replace("return len(self.__dict__)", "raise NotImplementedError"),
            files_relinked=4)
    # 4. the body of a dunder: the class's name (a constructor, a descriptor, dispatch read dunders' bodies)
    _relink(repo, env, tmp_path, lib.read_text() + "\n    def __len__(self):\n        return 0\n", files_relinked=4)
    _relink(repo, env, tmp_path, lib.read_text().replace("return 0\n", "return 1\n"), files_relinked=4)


def _prior_of(db, tmp_path, name: str, without_cache: bool) -> list:
    """``keep_prior`` of lib.py on a copy of the database (its old digests emptied first), with or without the
    digests the last link kept."""
    from codeintel_assets.interface import DIGESTS, PRIOR, keep_prior
    from resources.store import CONNECTION_CONFIG
    copy = tmp_path / f"{name}.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy), config=CONNECTION_CONFIG) as c:
        c.execute(f"DELETE FROM {PRIOR}").fetchall()
        if without_cache:
            c.execute(f"DELETE FROM {DIGESTS}").fetchall()
        keep_prior(c, ["lib.py"])
        return sorted(c.execute(f"SELECT * FROM {PRIOR}").fetchall(), key=repr)


def test_the_digests_of_an_edited_file_are_kept_for_its_next_edit(tmp_path):
    """The link keeps the statement digests it computed of an edited file's new rows (cpg_link_digests, with the
    file_id and the extraction run they describe); the next edit of the file copies them instead of digesting its
    rows again, with the same result; rows extracted again (--full) are digested again."""
    from codeintel_assets.interface import DIGESTS, _digest_sql
    repo = write_repo(tmp_path / "repo", FILES)
    env = cli_env(tmp_path)
    db = env["CODEINTEL_DB"]
    _index(repo, env)
    with duckdb.connect(db, read_only=True) as c:  # a full link digests nothing
        assert c.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{DIGESTS}'").fetchall() == [(0,)]
    _relink(repo, env, tmp_path, LIB.lstrip("\n") + "\n_cache = {}\n", files_relinked=1)
    header = ("SELECT d.file_id = f.file_id, d.run_id = m.dagster_run_id FROM cpg_link_digests d "
              "JOIN cpg_files f USING (path) JOIN codeintel_run_meta m USING (path) WHERE d.stmt IS NULL")
    with duckdb.connect(db, read_only=True) as c:
        kept = sorted(c.execute(f"SELECT path, stmt, line0, line1, n, s, x, defs, refs, wide, members FROM {DIGESTS} "
                                "WHERE stmt IS NOT NULL").fetchall(), key=repr)
        assert kept == sorted(c.execute(_digest_sql("('lib.py')")).fetchall(), key=repr)
        assert {r[0] for r in kept} == {"lib.py"} and len(kept) == LIB.count("\ndef ") + LIB.count("\nclass ") + 1
        assert c.execute(header).fetchall() == [(True, True)]
    cached, digested = (_prior_of(db, tmp_path, n, without) for n, without in (("a", False), ("b", True)))
    assert cached == digested and len(cached) == len(kept) + 1  # (and the row naming the file_id)
    # the next edit, with the kept digests, still links as a full link does
    _relink(repo, env, tmp_path, (repo / "lib.py").read_text() + "\n_other = {}\n", files_relinked=1,
            files_followed_by_name=1)
    code, _, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--full"], env)
    assert code == 0, err
    with duckdb.connect(db, read_only=True) as c:  # another extraction run: the kept digests no longer apply
        assert c.execute(header).fetchall() == [(True, False)]
    assert _prior_of(db, tmp_path, "c", False) == _prior_of(db, tmp_path, "d", True)
