"""SCIP ingestion: an index written by Google's protobuf runtime (tests/scip_encoder.py), read back, its
ranges turned into byte spans, anchored to the syntax and used by the link step where the rules found
nothing. Every expected range and span is computed here from the fixture's text (positions counted by
hand in UTF-16 code units, bytes by encoding the line prefix), never read from the extractor."""

import json
import os

import duckdb
import pytest

from codeintel_assets.scip import ScipError, byte_span, read_index
from tests.conftest import cli_env, run_cli, write_repo
from tests.scip_encoder import classes

OTHER = '''
class Base:
    def run(self, x):
        return x


class Root:
    def __init__(self):
        self.ready = True


class Leaf(Root):
    pass
'''

MOD = '''
from pkg.other import Base, Leaf


def make():
    return [Base()][0]


label = "é𝄞"; obj = make(); obj.run(label)
Base.run(obj, 2)
Leaf()
'''

PKG = "scip-python python pkg 0.1 "
S_BASE, S_RUN, S_X = PKG + "`pkg.other`/Base#", PKG + "`pkg.other`/Base#run().", PKG + "`pkg.other`/Base#run().(x)"
S_MAKE, S_LABEL, S_OBJ = PKG + "`pkg.mod`/make().", PKG + "`pkg.mod`/label.", PKG + "`pkg.mod`/obj."
S_LEAF = PKG + "`pkg.other`/Leaf#"
DEF, IMPORT, READ = 0x1, 0x2, 0x8


def utf16_units(s: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in s)


def position(text: str, line: int, name: str, nth: int = 0) -> tuple[list[int], tuple[int, int]]:
    """The SCIP range (UTF-16 columns) of the nth ``name`` on 0-based ``line``, and its UTF-8 byte span."""
    lines = text.split("\n")
    col = -1
    for _ in range(nth + 1):
        col = lines[line].index(name, col + 1)
    before = sum(len(x.encode()) + 1 for x in lines[:line])
    start = before + len(lines[line][:col].encode())
    return ([line, utf16_units(lines[line][:col]), utf16_units(lines[line][:col + len(name)])],
            (start, start + len(name.encode())))


def source(text: str) -> str:
    import textwrap
    return textwrap.dedent(text).lstrip("\n")


# (document, line, name, nth, symbol, roles)
OCCURRENCES = [
    ("pkg/other.py", 0, "Base", 0, S_BASE, DEF),
    ("pkg/other.py", 1, "run", 0, S_RUN, DEF),
    ("pkg/other.py", 1, "self", 0, "local 0", DEF),
    ("pkg/other.py", 1, "x", 0, S_X, DEF),
    ("pkg/other.py", 2, "x", 0, S_X, READ),
    ("pkg/mod.py", 0, "Base", 0, S_BASE, IMPORT),
    ("pkg/mod.py", 3, "make", 0, S_MAKE, DEF),
    ("pkg/mod.py", 4, "Base", 0, S_BASE, READ),
    ("pkg/mod.py", 7, "label", 0, S_LABEL, DEF),
    ("pkg/mod.py", 7, "obj", 0, S_OBJ, DEF),
    ("pkg/mod.py", 7, "make", 0, S_MAKE, READ),
    ("pkg/mod.py", 7, "obj", 1, S_OBJ, READ),
    ("pkg/mod.py", 7, "run", 0, S_RUN, READ),
    ("pkg/mod.py", 7, "label", 1, S_LABEL, READ),
    ("pkg/mod.py", 8, "Base", 0, S_BASE, READ),
    ("pkg/mod.py", 8, "run", 0, S_RUN, READ),
    ("pkg/mod.py", 8, "obj", 0, S_OBJ, READ),
    ("pkg/other.py", 10, "Leaf", 0, S_LEAF, DEF),
    ("pkg/mod.py", 0, "Leaf", 0, S_LEAF, IMPORT),
    ("pkg/mod.py", 9, "Leaf", 0, S_LEAF, READ),
]
TEXTS = {"pkg/other.py": source(OTHER), "pkg/mod.py": source(MOD)}


def build_index(encoding: int = 0) -> bytes:
    C = classes()
    index = C["Index"]()
    index.metadata.tool_info.name = "scip-python"
    index.metadata.tool_info.version = "0.6.0"
    index.metadata.project_root = "file:///repo"
    docs = {}
    for rel in TEXTS:
        docs[rel] = index.documents.add(relative_path=rel, language="python", position_encoding=encoding)
    for rel, line, name, nth, symbol, roles in OCCURRENCES:
        rng, _ = position(TEXTS[rel], line, name, nth)
        docs[rel].occurrences.add(range=rng, symbol=symbol, symbol_roles=roles, enclosing_range=[line, 0, line, 1])
    docs["pkg/other.py"].symbols.add(symbol=S_BASE, kind=7, display_name="Base", documentation=["A base."])
    docs["pkg/other.py"].symbols.add(symbol=S_RUN, kind=26, display_name="run",
                                     relationships=[C["Relationship"](symbol=S_BASE, is_reference=True)])
    index.documents.add(relative_path="notes/readme.txt", language="text")  # not a file of the index
    index.external_symbols.add(symbol="scip-python python python-stdlib 3.13 builtins/len().", kind=17)
    return index.SerializeToString()


def test_the_reader_decodes_what_protobuf_encoded(tmp_path):
    path = tmp_path / "index.scip"
    path.write_bytes(build_index(encoding=2))
    index = read_index(path)
    assert index.tool == "scip-python 0.6.0" and index.project_root == "file:///repo"
    assert [d.relative_path for d in index.documents] == ["pkg/other.py", "pkg/mod.py", "notes/readme.txt"]
    other = index.documents[0]
    assert other.position_encoding == 2 and other.language == "python"
    assert [(o.symbol, o.roles) for o in other.occurrences] == [(s, r) for d, _, _, _, s, r in OCCURRENCES
                                                                 if d == "pkg/other.py"]
    assert other.occurrences[0].range == position(TEXTS["pkg/other.py"], 0, "Base")[0]
    assert [(s.symbol, s.kind, s.display_name, s.documentation) for s in other.symbols] == [
        (S_BASE, 7, "Base", ["A base."]), (S_RUN, 26, "run", [])]
    assert other.symbols[1].relationships == [f"reference:{S_BASE}"]
    assert [s.symbol for s in index.external_symbols] == ["scip-python python python-stdlib 3.13 builtins/len()."]
    # negative int32 values (ten-byte varints) and unpacked repeated fields read like packed ones
    C = classes()
    i = C["Index"]()
    i.documents.add(relative_path="a.py").occurrences.add(range=[0, -1, 5], symbol="s")
    path.write_bytes(i.SerializeToString())
    assert read_index(path).documents[0].occurrences[0].range == [0, -1, 5]
    unpacked = bytes([0x12, 9, 0x0A, 1]) + b"a" + bytes([0x12, 4, 0x08, 3, 0x08, 7])
    path.write_bytes(unpacked)
    assert read_index(path).documents[0].occurrences[0].range == [3, 7]


@pytest.mark.parametrize("data, fragment", [
    (build_index()[:-7], "is not a readable SCIP index"),
    (b"# not protobuf at all\n", "is not a"),
    (bytes([0x0B]), "unsupported wire type 3"),
])
def test_a_file_that_is_not_an_index_is_one_clear_error(tmp_path, data, fragment):
    path = tmp_path / "index.scip"
    path.write_bytes(data)
    with pytest.raises(ScipError) as err:
        read_index(path)
    assert str(path) in str(err.value) and fragment in str(err.value)


def test_character_offsets_in_each_position_encoding():
    # 'é' is 1 UTF-16 unit / 2 UTF-8 bytes; '𝄞' (U+1D11E) 2 units / 4 bytes / 1 code point
    text = 'x = "é𝄞"; y\r\nz\n'
    utf8 = text.encode()
    starts = [0, 0, len('x = "é𝄞"; y\r\n'.encode()), len(utf8)]
    y = utf8.index(b"y")
    assert byte_span(utf8, starts, [0, 11, 12], "utf-16") == (y, y + 1)  # x = "é𝄞"; : 11 units
    assert byte_span(utf8, starts, [0, 10, 11], "utf-32") == (y, y + 1)  # 10 code points
    assert byte_span(utf8, starts, [0, 14, 15], "utf-8") == (y, y + 1)   # 14 bytes
    assert byte_span(utf8, starts, [1, 0, 1], "utf-16") == (starts[2], starts[2] + 1)  # after \r\n
    assert byte_span(utf8, starts, [0, 0, 1, 1], "utf-16") == (0, starts[2] + 1)  # two lines
    assert byte_span(utf8, starts, [0, 7, 8], "utf-16") is None  # inside the surrogate pair of '𝄞'
    assert byte_span(utf8, starts, [0, 0, 13], "utf-16") is None  # past the end of the line
    assert byte_span(utf8, starts, [5, 0, 1], "utf-16") is None  # past the last line
    assert byte_span(utf8, starts, [0, 1], "utf-16") is None  # two elements: malformed


def index_repo(tmp_path, encoding: int = 0):
    repo = write_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/other.py": OTHER, "pkg/mod.py": MOD})
    (repo / "index.scip").write_bytes(build_index(encoding))
    env = cli_env(tmp_path)
    return repo, env


def run_index(repo, env):
    code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1"], env)
    summary = json.loads(out.strip().splitlines()[-1])
    return code, summary, err


def check(summary, name):
    return next(c for c in summary["checks"] if c["check"] == name)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scip")
    repo, env = index_repo(tmp)
    code, summary, err = run_index(repo, env)
    assert code == 0, err
    return repo, env, summary


def test_occurrences_become_byte_spans_anchored_to_the_syntax(ingested):
    repo, env, summary = ingested
    assert check(summary, "scip_ingest")["passed"]
    assert check(summary, "cpg_integrity")["passed"]
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    docs = {r[0]: r[1:] for r in con.execute(
        "SELECT relative_path, ok, error_type, position_encoding, occurrences, anchored FROM scip_documents").fetchall()}
    n = {rel: sum(o[0] == rel for o in OCCURRENCES) for rel in TEXTS}
    assert docs["pkg/other.py"] == (True, None, "utf-16 (unspecified)", n["pkg/other.py"], n["pkg/other.py"])
    assert docs["pkg/mod.py"] == (True, None, "utf-16 (unspecified)", n["pkg/mod.py"], n["pkg/mod.py"])
    assert docs["notes/readme.txt"][:2] == (False, "NotIndexed")
    rows = con.execute("SELECT path, symbol, span_start_byte, span_end_byte, anchor, is_definition FROM scip_occurrences "
                       "ORDER BY path, occurrence_index").fetchall()
    expected = [(rel, sym, *position(TEXTS[rel], line, name, nth)[1]) for rel, line, name, nth, sym, _ in OCCURRENCES]
    assert sorted(r[:4] for r in rows) == sorted(expected)
    # every occurrence of this fixture is at a name site or ends an AST node (the attributes `obj.run`)
    assert {r[4] for r in rows} <= {"name_site", "ast_node"}
    attrs = {(r[0], r[1]) for r in rows if r[4] == "ast_node"}
    assert attrs == {("pkg/mod.py", S_RUN)}
    # definitions join the definitions of the CPG plane
    defs = dict(con.execute("SELECT o.symbol, d.qualname FROM scip_occurrences o JOIN cpg_definitions d "
                            "ON d.def_id = o.def_id").fetchall())
    assert defs == {S_BASE: "pkg.other.Base", S_RUN: "pkg.other.Base.run", S_X: "pkg.other.Base.run.x",
                    "local 0": "pkg.other.Base.run.self", S_MAKE: "pkg.mod.make", S_LABEL: "pkg.mod.label",
                    S_OBJ: "pkg.mod.obj", S_LEAF: "pkg.other.Leaf"}
    # a read of `label` carries the binding symtable resolves it to; the local symbol is per document
    label_binding = con.execute("SELECT binding_id FROM py_sym_name_sites WHERE path = 'pkg/mod.py' AND name = 'label' "
                                "AND role = 'def'").fetchall()[0][0]
    assert {r[0] for r in con.execute("SELECT binding_id FROM scip_occurrences WHERE symbol = ?", [S_LABEL]).fetchall()} \
        == {label_binding}
    assert con.execute("SELECT symbol_id FROM scip_symbols WHERE symbol = 'local 0'").fetchall() == [("pkg/other.py local 0",)]
    info = con.execute("SELECT kind_name, display_name, documentation, relationships, has_info FROM scip_symbols "
                       "WHERE symbol = ?", [S_RUN]).fetchall()
    assert info == [("Method", "run", None, [f"reference:{S_BASE}"], True)]


def test_the_link_uses_scip_where_its_rules_found_nothing(ingested):
    repo, env, _ = ingested
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    calls = {(r[0], r[1]): (r[2], r[3]) for r in con.execute(
        "SELECT c.callee_text, k.callee_qualname, k.rule, k.confidence FROM cpg_calls k JOIN cpg_call_sites c "
        "USING (callsite_id) WHERE k.path = 'pkg/mod.py'").fetchall()}
    # obj = make(): no rule knows what make() returns (an item of a list); pyright's types (the index) do
    assert calls[("obj.run", "pkg.other.Base.run")] == ("scip_method", pytest.approx(0.8))
    # the rules resolved these: their own edges, not SCIP's
    assert calls[("make", "pkg.mod.make")][0] == "local"
    assert not calls[("Base", "pkg.other.Base")][0].startswith("scip")
    assert not calls[("Base.run", "pkg.other.Base.run")][0].startswith("scip")
    wired = con.execute(
        "SELECT b.param_name, b.implicit_receiver, a.text FROM cpg_binds_arg b JOIN cpg_call_sites c USING (callsite_id) "
        "LEFT JOIN cpg_call_args a ON a.arg_id = b.arg_id WHERE c.callee_text = 'obj.run' ORDER BY b.param_name").fetchall()
    assert wired == [("self", True, None), ("x", False, "label")]


def test_the_link_reports_where_scip_and_its_rules_agree(ingested):
    """The link step's figures (cpg_calls' materialisation in the Dagster instance, as the UI shows them). Call sites both resolved: make()
    (pkg.mod.make), Base() and Base.run(obj, 2) (pkg.other.Base / .run), Leaf() (SCIP names the class Leaf;
    the rules' constructor edge goes to Root.__init__, which Leaf inherits: the class called is Leaf, not
    Root). obj.run(label) only SCIP resolved. Every one of the four agrees."""
    from dagster import AssetKey, DagsterInstance
    repo, env, _ = ingested
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    leaf = con.execute("SELECT k.callee_qualname, k.rule FROM cpg_calls k JOIN cpg_call_sites c USING (callsite_id) "
                       "WHERE c.callee_text = 'Leaf'").fetchall()
    assert leaf == [("pkg.other.Root.__init__", "constructor")]
    con.close()
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    try:
        meta = instance.get_latest_materialization_event(AssetKey("cpg_calls")).asset_materialization.metadata
        figures = {k: meta[k].value for k in ("scip_sites_both", "scip_sites_agree", "scip_sites_added")}
    finally:
        instance.dispose()
    assert figures == {"scip_sites_both": 4, "scip_sites_agree": 4, "scip_sites_added": 1}


def test_the_graph_holds_the_scip_symbols_and_their_bridges(ingested):
    repo, env, _ = ingested
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    kinds = dict(con.execute("SELECT kind, count(*) FROM cpg_edges WHERE provenance LIKE 'scip:%' GROUP BY ALL").fetchall())
    n_defs = sum(1 for o in OCCURRENCES if o[5] & DEF)
    assert kinds["SCIP_DEFINES"] == n_defs and kinds["SCIP_REFERS_TO"] == len(OCCURRENCES) - n_defs
    same = dict(con.execute("SELECT dst_node_id, src_node_id FROM cpg_edges WHERE kind = 'SAME_SYMBOL'").fetchall())
    ours = dict(con.execute("SELECT qualname, symbol FROM cpg_definitions").fetchall())
    assert same[S_MAKE] == ours["pkg.mod.make"] and same[S_RUN] == ours["pkg.other.Base.run"]
    assert con.execute("SELECT count(*) FROM cpg_nodes WHERE kind = 'SCIP_SYMBOL'").fetchall()[0][0] == \
        len({o[4] for o in OCCURRENCES}) + 1  # + the external builtins/len().
    # obj's binding meets one symbol: not ambiguous
    assert con.execute("SELECT confidence FROM cpg_edges WHERE kind = 'BINDING_SYMBOL' AND dst_node_id = ?",
                       [S_OBJ]).fetchall() == [(1.0,)]


def test_a_stale_document_is_reported_and_not_used_until_the_index_is_rebuilt(tmp_path):
    repo, env = index_repo(tmp_path)
    code, summary, err = run_index(repo, env)
    assert code == 0 and check(summary, "scip_ingest")["passed"], err
    index_time = (repo / "index.scip").stat().st_mtime_ns
    mod = repo / "pkg" / "mod.py"
    mod.write_text(mod.read_text() + "# edited\n")
    os.utime(mod, ns=(index_time + 10**9, index_time + 10**9))
    code, summary, err = run_index(repo, env)
    assert code == 0, err  # a warning: the static planes are right
    c = check(summary, "scip_ingest")
    assert not c["passed"] and c["severity"] == "WARN" and "older than their files" in json.dumps(c)
    # the index itself did not change: the edited file's document is marked stale without reading it again
    assert c["metadata"]["index"] == "documents outdated" and c["metadata"]["documents_relinked"] == 1
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    assert con.execute("SELECT ok, error_type FROM scip_documents WHERE relative_path = 'pkg/mod.py'").fetchall() == [
        (False, "StaleDocument")]
    assert con.execute("SELECT count(*) FROM scip_occurrences WHERE path = 'pkg/mod.py'").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM scip_occurrences WHERE path = 'pkg/other.py'").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM cpg_calls WHERE starts_with(rule, 'scip')").fetchall() == [(0,)]
    con.close()
    # the indexer is run again (same ranges: the edit only appended a comment): the next index, with no file
    # changed, ingests it and the link gets the edge back
    (repo / "index.scip").write_bytes(build_index())
    os.utime(repo / "index.scip", ns=(index_time + 2 * 10**9, index_time + 2 * 10**9))
    code, summary, err = run_index(repo, env)
    assert code == 0 and summary["files_changed"] == 0 and check(summary, "scip_ingest")["passed"], err
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    assert con.execute("SELECT count(*) FROM cpg_calls WHERE rule = 'scip_method'").fetchall() == [(1,)]
    con.close()
    # the index removed: its rows and edges go
    (repo / "index.scip").unlink()
    code, summary, err = run_index(repo, env)
    assert code == 0, err
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'scip_%'").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM cpg_calls WHERE starts_with(rule, 'scip')").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM cpg_edges WHERE provenance LIKE 'scip:%'").fetchall() == [(0,)]


def test_an_unreadable_index_is_a_warning_naming_it_and_loses_nothing(tmp_path):
    repo, env = index_repo(tmp_path)
    (repo / "index.scip").write_bytes(b"\x12\xff\xff")
    code, summary, err = run_index(repo, env)
    assert code == 0, err
    c = check(summary, "scip_ingest")
    assert not c["passed"] and str(repo / "index.scip") in json.dumps(c)
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    assert con.execute("SELECT count(*) FROM cpg_calls WHERE callee_qualname = 'pkg.mod.make'").fetchall() == [(1,)]
    assert check(summary, "cpg_integrity")["passed"]


def test_positions_declared_in_utf8_bytes_give_the_same_spans(tmp_path):
    repo, env = index_repo(tmp_path, encoding=1)
    # re-encode the ranges as UTF-8 byte columns: the reader must land on the same bytes
    C = classes()
    index = C["Index"]()
    index.ParseFromString((repo / "index.scip").read_bytes())
    for doc in index.documents:
        lines = TEXTS.get(doc.relative_path, "").split("\n")
        for occ in doc.occurrences:
            line = lines[occ.range[0]]
            chars = lambda units: next(i for i in range(len(line) + 1) if utf16_units(line[:i]) == units)  # noqa: E731
            occ.range[:] = [occ.range[0], len(line[:chars(occ.range[1])].encode()),
                            len(line[:chars(occ.range[2])].encode())]
    (repo / "index.scip").write_bytes(index.SerializeToString())
    code, summary, err = run_index(repo, env)
    assert code == 0 and check(summary, "scip_ingest")["passed"], err
    con = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    got = sorted(con.execute("SELECT path, symbol, span_start_byte, span_end_byte FROM scip_occurrences").fetchall())
    assert got == sorted((rel, sym, *position(TEXTS[rel], line, name, nth)[1])
                         for rel, line, name, nth, sym, _ in OCCURRENCES)
    assert {r[0] for r in con.execute("SELECT position_encoding FROM scip_documents WHERE ok").fetchall()} == {"utf-8"}
