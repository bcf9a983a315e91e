"""Source plane: py_files / py_ast_nodes / py_tokens, UTF-8 byte spans, encodings, and bad input.

Spans are offsets into the UTF-8 text of the file (BOM removed; re-encoded when a cookie names
another encoding). Expected spans are recomputed here with ``ast.get_source_segment`` and
``tokenize`` on the decoded text.
"""

import ast
import dis
import io
import json
import os
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path
from types import SimpleNamespace

import pytest
from facts import extract_file, facts

SKIPPED_AST = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


def test_ast_nodes_kind_parent_field_name_ctx():
    f = facts("""
        from os import path as p
        def g(a, *, k=1) -> int:
            x = a.b + p(k=a)
            del x
            return x < 1 <= 2
    """)
    rows = f.source.ast_nodes.to_pylist()
    ordinal = lambda node_id: None if node_id is None else int(node_id.rsplit(":", 1)[1])
    # Preorder in `_fields` order (FunctionDef: name, args, body, decorator_list, returns, ...);
    # expr_context and operator singletons are not nodes, they become `ctx` / `name`.
    assert [(r["ordinal"], ordinal(r["parent_ast_node_id"]), r["parent_field"], r["kind"], r["name"], r["ctx"])
            for r in rows] == [
        (0, None, None, "Module", None, None),
        (1, 0, "body", "ImportFrom", "os", None),
        (2, 1, "names", "alias", "path", None),
        (3, 0, "body", "FunctionDef", "g", None),
        (4, 3, "args", "arguments", None, None),
        (5, 4, "args", "arg", "a", None),
        (6, 4, "kwonlyargs", "arg", "k", None),
        (7, 4, "kw_defaults", "Constant", None, None),
        (8, 3, "body", "Assign", None, None),
        (9, 8, "targets", "Name", "x", "Store"),
        (10, 8, "value", "BinOp", "Add", None),
        (11, 10, "left", "Attribute", "b", "Load"),
        (12, 11, "value", "Name", "a", "Load"),
        (13, 10, "right", "Call", None, None),
        (14, 13, "func", "Name", "p", "Load"),
        (15, 13, "keywords", "keyword", "k", None),
        (16, 15, "value", "Name", "a", "Load"),
        (17, 3, "body", "Delete", None, None),
        (18, 17, "targets", "Name", "x", "Del"),
        (19, 3, "body", "Return", None, None),
        (20, 19, "value", "Compare", "Lt,LtE", None),
        (21, 20, "left", "Name", "x", "Load"),
        (22, 20, "comparators", "Constant", None, None),
        (23, 20, "comparators", "Constant", None, None),
        (24, 3, "returns", "Name", "int", "Load"),
    ]
    assert [r["depth"] for r in rows][:5] == [0, 1, 2, 1, 2]
    # `arguments` has no position of its own: its span is the union of its children's, flagged.
    args = rows[4]
    assert args["lineno"] is None and args["span_synthesized"]
    assert f.src.utf8[args["span_start_byte"]:args["span_end_byte"]] == b"a, *, k=1"
    module = rows[0]
    assert module["span_synthesized"] and (module["span_start_byte"], module["span_end_byte"]) == (0, len(f.src.utf8))
    (file_row,) = f.source.files.to_pylist()
    assert (file_row["ast_node_count"], file_row["token_count"]) == (25, len(f.source.tokens))


NON_ASCII = (
    "# coding: utf-8\n"
    "def grüße(名前: str, *, café='☕') -> str:\n"
    "    \"\"\"Ünïcödé docstring 🐍\n"
    "    over two lines\"\"\"\n"
    "    s = f'{名前}→{café!r:>{len(名前)}}'  # ½\n"
    "    return s + 'ß' * 2 if 名前 else 'Ω'\n"
    "λ = lambda ε=1: ε ** 2\n"
)


def assert_ast_spans_match_source(f, text: str) -> int:
    """Every positioned node: utf8[span] is ast.get_source_segment(text, node). Returns the count."""
    utf8 = f.src.utf8
    checked = 0
    for r in f.source.ast_nodes.to_pylist():
        if r["lineno"] is None:
            continue
        node = SimpleNamespace(lineno=r["lineno"], col_offset=r["col_offset"], end_lineno=r["end_lineno"],
                               end_col_offset=r["end_col_offset"])
        expected = ast.get_source_segment(text, node)
        assert utf8[r["span_start_byte"]:r["span_end_byte"]].decode("utf-8") == expected, r
        checked += 1
    # Nothing missed: the same nodes as an independent parse (contexts/operators aside).
    nodes = [n for n in ast.walk(ast.parse(text)) if not isinstance(n, SKIPPED_AST)]
    assert sorted(type(n).__name__ for n in nodes) == sorted(r["kind"] for r in f.source.ast_nodes.to_pylist())
    assert checked == sum(1 for n in nodes if getattr(n, "lineno", None) is not None)
    return checked


def assert_token_spans_match_source(f, data: bytes):
    utf8 = f.src.utf8
    rows = f.source.tokens.to_pylist()
    ref = list(tokenize.tokenize(io.BytesIO(data).readline))
    got = [(r["type"], r["string"], (r["start_line"], r["start_col"]), (r["end_line"], r["end_col"])) for r in rows]
    assert got == [(tokenize.tok_name[t.type], t.string, t.start, t.end) for t in ref]
    for r in rows:
        if r["type"] in ("ENCODING", "DEDENT", "ENDMARKER"):
            continue
        if r["type"] == "NEWLINE" and r["string"] == "":  # the implicit NEWLINE at EOF
            continue
        assert utf8[r["span_start_byte"]:r["span_end_byte"]].decode("utf-8") == r["string"], r


def test_non_ascii_ast_and_token_spans_are_utf8_byte_offsets():
    f = facts(NON_ASCII.encode("utf-8"))
    assert assert_ast_spans_match_source(f, NON_ASCII) > 30
    assert_token_spans_match_source(f, NON_ASCII.encode("utf-8"))
    names = {r["name"]: r for r in f.source.ast_nodes.to_pylist() if r["kind"] in ("FunctionDef", "arg")}
    # col_offset is in UTF-8 bytes already ("名前" is 6 bytes), so spans and columns agree.
    arg = names["名前"]
    assert (arg["col_offset"], arg["end_col_offset"]) == (
        len("def grüße(".encode()), len("def grüße(名前: str".encode()))
    assert f.src.utf8[arg["span_start_byte"]:arg["span_end_byte"]] == "名前: str".encode()
    # Token columns are characters: the same token's byte span is computed, not copied.
    tok = next(r for r in f.source.tokens.to_pylist() if r["string"] == "café")
    assert (tok["start_col"], tok["span_end_byte"] - tok["span_start_byte"]) == (len("def grüße(名前: str, *, "), 5)
    # Bytecode spans use the same coordinates.
    loads = [r for r in f.instructions("grüße") if r["argval_str"] == "名前" and r["opname"] == "LOAD_FAST"]
    assert len(loads) == 3  # {名前}, len(名前), `if 名前`
    assert {f.src.utf8[r["span_start_byte"]:r["span_end_byte"]] for r in loads} == {"名前".encode()}


def test_crlf_line_endings():
    text = "x = 'é'\r\nif x:\r\n    y = [\r\n        1]\r\n"
    f = facts(text.encode("utf-8"))
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["line_count"]) == (True, 4)
    assert_ast_spans_match_source(f, text)
    spans = {(r["kind"], r["name"]): (r["span_start_byte"], r["span_end_byte"]) for r in f.source.ast_nodes.to_pylist()}
    assert f.src.utf8[slice(*spans[("Name", "y")])] == b"y"
    assert spans[("Name", "y")][0] == len("x = 'é'\r\nif x:\r\n    ".encode())
    assert f.src.utf8[slice(*spans[("List", None)])] == b"[\r\n        1]"
    assert_token_spans_match_source(f, text.encode("utf-8"))
    newline = next(r for r in f.source.tokens.to_pylist() if r["type"] == "NEWLINE")
    assert (newline["string"], newline["span_end_byte"] - newline["span_start_byte"]) == ("\r\n", 2)


def test_lone_cr_line_endings():
    """A classic Mac file (every line ended by a lone CR) is Python to CPython (it compiles and imports), but
    ``tokenize`` refuses it; it was a failed file (stage tokenize), found indexing real code. Expected tokens:
    ``tokenize``'s of the same bytes with each CR as LF (the same length), with the file's own text back."""
    text = "x = 'é'\rif x:\r    y = [\r        1,\r    ]  # c\r\rs = '''a\rb'''\r"
    data = text.encode("utf-8")
    compile(data, "mac.py", "exec")  # (CPython: valid)
    with pytest.raises(tokenize.TokenError):
        list(tokenize.tokenize(io.BytesIO(data).readline))
    f = facts(data)
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["line_count"], row["error_stage"]) == (True, 8, None)
    assert_ast_spans_match_source(f, text)
    lf = list(tokenize.tokenize(io.BytesIO(data.replace(b"\r", b"\n")).readline))
    got = [(r["type"], r["string"], (r["start_line"], r["start_col"]), (r["end_line"], r["end_col"]))
           for r in f.source.tokens.to_pylist()]
    assert got == [(tokenize.tok_name[t.type], t.string.replace("\n", "\r"), t.start, t.end) for t in lf]
    strings = [r["string"] for r in f.source.tokens.to_pylist()]
    assert strings.count("\r") == 7 and "'''a\rb'''" in strings  # 5 NEWLINE, 2 NL; the string as written
    for r in f.source.tokens.to_pylist():
        if r["type"] not in ("ENCODING", "DEDENT", "ENDMARKER"):
            assert f.src.utf8[r["span_start_byte"]:r["span_end_byte"]].decode("utf-8") == r["string"], r
    y = next(r for r in f.source.ast_nodes.to_pylist() if r["kind"] == "Name" and r["name"] == "y")
    assert (y["lineno"], y["span_start_byte"]) == (3, len("x = 'é'\rif x:\r    ".encode()))


def test_bom_is_outside_the_coordinate_space():
    text = "x = 'é'\ny = x\n"
    data = b"\xef\xbb\xbf" + text.encode("utf-8")
    f = facts(data)
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["has_bom"], row["encoding"], row["size_bytes"]) == (True, True, "utf-8", len(data))
    assert f.src.utf8 == text.encode("utf-8")
    assert_ast_spans_match_source(f, text)
    x = next(r for r in f.source.ast_nodes.to_pylist() if r["kind"] == "Name" and r["name"] == "x")
    assert (x["span_start_byte"], x["span_end_byte"]) == (0, 1)
    assert f.code_unit("mod")["span_end_byte"] == len(text.encode("utf-8"))
    first = f.source.tokens.to_pylist()[1]
    assert (first["string"], first["span_start_byte"], first["span_end_byte"]) == ("x", 0, 1)


def test_latin1_cookie_spans_are_in_the_utf8_reencoding():
    text = "# -*- coding: latin-1 -*-\nx = 'café'\ny = x\n"
    data = text.encode("latin-1")
    f = facts(data)
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["encoding"], row["size_bytes"], row["has_bom"]) == (True, "iso-8859-1", len(data), False)
    assert f.src.utf8 == text.encode("utf-8") != data
    assert_ast_spans_match_source(f, text)
    const = next(r for r in f.source.ast_nodes.to_pylist() if r["kind"] == "Constant")
    assert f.src.utf8[const["span_start_byte"]:const["span_end_byte"]] == "'café'".encode()  # 7 bytes, 6 in the file
    y = next(r for r in f.source.ast_nodes.to_pylist() if r["kind"] == "Name" and r["name"] == "y")
    assert y["span_start_byte"] == len("# -*- coding: latin-1 -*-\nx = 'café'\n".encode())
    assert_token_spans_match_source(f, data)
    assert f.bytecode.run_meta.column("compile_ok").to_pylist() == [True]


# (file bytes, the comment's bytes as they are in the file, its token string by hand: U+FFFD per byte that
# is not UTF-8)
NOT_UTF8_COMMENTS = {
    "latin1_editor": (b"x = 1  # caf\xe9\ny = x\n", b"# caf\xe9", "# caf\ufffd"),
    "first_line": (b"# \xff\xfe\nx = 1\n", b"# \xff\xfe", "# \ufffd\ufffd"),
    "bom_truncated_in_brackets": (b"\xef\xbb\xbfx = (1,  # \xe2\x82\n     2)\n", b"# \xe2\x82", "# \ufffd\ufffd"),
}


@pytest.mark.parametrize("case", NOT_UTF8_COMMENTS)
def test_bytes_that_are_not_utf8_in_a_comment_index_as_cpython_compiles_them(case):
    """CPython 3.13 does not decode comments: these files compile (checked here), though ``bytes.decode``
    and ``tokenize.tokenize`` refuse them. They are indexed like any file: spans in the file's own bytes
    (after a BOM), the AST and bytecode from CPython, the comment token with U+FFFD for each such byte."""
    data, raw_comment, comment = NOT_UTF8_COMMENTS[case]
    compile(data, "mod.py", "exec", dont_inherit=True)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8-sig")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    f = facts(data)
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["encoding"], row["error_type"]) == (True, "utf-8", None)
    assert f.src.utf8 == body and f.src.undecodable_bytes == comment.count("\ufffd")
    # AST spans: CPython's positions (col_offset counts UTF-8 bytes) over the file's lines
    starts = [0] + [i + 1 for i, ch in enumerate(body) if ch == 0x0A]
    expected = sorted((type(n).__name__, starts[n.lineno - 1] + n.col_offset, starts[n.end_lineno - 1] + n.end_col_offset)
                      for n in ast.walk(ast.parse(data)) if getattr(n, "lineno", None) is not None)
    got = sorted((r["kind"], r["span_start_byte"], r["span_end_byte"]) for r in f.source.ast_nodes.to_pylist()
                 if r["lineno"] is not None)
    assert got == expected
    # tokens: as tokenize gives them for the same file with an ASCII comment of the same length, except the
    # comment's string; every token's byte span is its bytes in the file
    clean = data.replace(raw_comment, b"#" * len(raw_comment))
    ref = list(tokenize.tokenize(io.BytesIO(clean).readline))
    rows = f.source.tokens.to_pylist()
    assert [(r["type"], (r["start_line"], r["start_col"]), (r["end_line"], r["end_col"])) for r in rows] == \
        [(tokenize.tok_name[t.type], t.start, t.end) for t in ref]
    (tok,) = [r for r in rows if r["type"] == "COMMENT"]
    assert tok["string"] == comment and body[tok["span_start_byte"]:tok["span_end_byte"]] == raw_comment
    for r, t in zip(rows, ref):
        if r["type"] != "COMMENT" and r["type"] not in ("ENCODING", "DEDENT", "ENDMARKER") and r["string"]:
            assert r["string"] == t.string and body[r["span_start_byte"]:r["span_end_byte"]].decode() == t.string
    assert f.bytecode.run_meta.column("compile_ok").to_pylist() == [True]
    assert f.ops("mod") == \
        [i.opname for i in dis.get_instructions(compile(data, "mod.py", "exec", dont_inherit=True))]


def test_a_comment_that_is_not_utf8_under_a_cookie_naming_a_codec_is_still_refused():
    """``# coding: utf8`` is read through the codec by CPython, which then refuses the comment (and so do we,
    with its message); ``# -*- coding: utf-8 -*-`` is not, and the file compiles."""
    bad = b"# coding: utf8\nx = 1  # \xe9\n"
    with pytest.raises(SyntaxError):
        compile(bad, "mod.py", "exec")
    (row,) = facts(bad).source.files.to_pylist()
    assert (row["ok"], row["error_stage"]) == (False, "decode")
    good = b"# -*- coding: utf-8 -*-\nx = 1  # \xe9\n"
    compile(good, "mod.py", "exec")
    (row,) = facts(good).source.files.to_pylist()
    assert row["ok"]


def test_empty_file_is_valid_python():
    f = facts(b"")
    (row,) = f.source.files.to_pylist()
    assert (row["ok"], row["size_bytes"], row["ast_node_count"]) == (True, 0, 1)
    assert [r["type"] for r in f.source.tokens.to_pylist()] == ["ENCODING", "ENDMARKER"]
    assert [r["kind"] for r in f.source.ast_nodes.to_pylist()] == ["Module"]
    assert f.code_units() == {"mod": "module"}
    assert f.ops("mod") == ["RESUME", "RETURN_CONST"]
    assert f.blocks("mod") == ["B0 entry: RESUME RETURN_CONST"]


# -- bad input -------------------------------------------------------------------------------------

GOOD = b"def ok(x):\n    return x + 1\n"
NESTED_FORS = "".join("    " * i + f"for i{i} in x:\n" for i in range(22)) + "    " * 22 + "pass\n"

# name -> (file bytes, error_stage, error_type, message fragment, error_lineno)
BAD_SOURCE = {
    "syntax_error": (b"def g(:\n    pass\n", "parse", "SyntaxError", "invalid syntax", 1),
    # CPython's compile of these bytes: "(unicode error) 'utf-8' codec can't decode byte 0xff ..." at the line
    "undecodable_first_lines": (b"x = '\xff\xfe'\n", "decode", "SyntaxError", "(unicode error) 'utf-8' codec", 1),
    "undecodable_later": (b"x = 1\ny = 2\nz = '\xff'\n", "decode", "UnicodeDecodeError",
                          "(unicode error) 'utf-8' codec can't decode byte 0xff", 3),
    "null_byte": (b"x = 1\x00\n", "parse", "SyntaxError", "null bytes", None),
    "too_many_parentheses": (b"x = " + b"(" * 300 + b"1" + b")" * 300 + b"\n", "parse", "SyntaxError",
                             "too many nested parentheses", 1),
    "parser_stack_overflow": (b"x = " + b"-" * 100_000 + b"1\n", "parse", "MemoryError", "too complex", None),
    "unknown_encoding": (b"# coding: klingon\nx = 1\n", "decode", "SyntaxError", "unknown encoding", None),
    # CPython: "encoding problem: iso-8859-1 with BOM" (tokenize.detect_encoding says "encoding problem: utf-8")
    "bom_with_latin1_cookie": (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "decode", "SyntaxError",
                               "encoding problem: iso-8859-1 with BOM", None),
}


def _extract_dir(files: dict[str, bytes]) -> dict:
    """Write files into a fresh dir and extract them all, in order, in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in files.items():
            (root / name).write_bytes(data)
        return {name: extract_file(root, name) for name in files}


def _good_file_unaffected(results: dict, solo):
    ok = results["zz_good.py"]
    assert ok.source.files.column("ok").to_pylist() == [True]
    for name in ("code_units", "instructions", "exception_table"):
        assert getattr(ok.bytecode, name).equals(getattr(solo.bytecode, name))
    assert ok.source.ast_nodes.equals(solo.source.ast_nodes) and ok.blocks_table.equals(solo.blocks_table)


@pytest.fixture(scope="module")
def solo_good():
    return _extract_dir({"zz_good.py": GOOD})["zz_good.py"]


@pytest.mark.parametrize("case", BAD_SOURCE)
def test_bad_source_gives_a_failure_row(case, solo_good):
    data, stage, etype, fragment, lineno = BAD_SOURCE[case]
    results = _extract_dir({"bad.py": data, "zz_good.py": GOOD})
    bad = results["bad.py"]
    (row,) = bad.source.files.to_pylist()
    assert (row["ok"], row["error_stage"], row["error_type"]) == (False, stage, etype)
    assert fragment in row["error_msg"]
    assert row["error_lineno"] == lineno
    assert row["size_bytes"] == len(data) and row["sha256"] is not None  # still identifiable for change detection
    assert len(bad.source.ast_nodes) == 0 and len(bad.source.tokens) == 0
    (meta,) = bad.bytecode.run_meta.to_pylist()
    assert meta["compile_ok"] is False and meta["error_msg"] and len(bad.bytecode.instructions) == 0
    _good_file_unaffected(results, solo_good)


def test_file_over_the_size_limit(solo_good):
    big = b"x = 1\n" * (10 * 1024 * 1024 // 6 + 1)  # 10 MB of valid code
    results = _extract_dir({"big.py": big, "zz_good.py": GOOD})
    (row,) = results["big.py"].source.files.to_pylist()
    assert (row["ok"], row["error_stage"], row["error_type"], row["size_bytes"]) == (False, "limit", "FileTooLarge",
                                                                                    len(big))
    assert f"{len(big)} bytes exceeds the {4 * 1024 * 1024}-byte limit" in row["error_msg"]
    assert results["big.py"].bytecode.run_meta.column("compile_ok").to_pylist() == [False]
    _good_file_unaffected(results, solo_good)
    with tempfile.TemporaryDirectory() as tmp:  # the limit is a parameter: a raised limit accepts it
        (Path(tmp) / "big.py").write_bytes(big[:6 * 1000])
        too_big = extract_file(Path(tmp), "big.py", max_bytes=5000)
        assert too_big.source.files.column("error_stage").to_pylist() == ["limit"]
        assert extract_file(Path(tmp), "big.py", max_bytes=6000).source.files.column("ok").to_pylist() == [True]


def test_no_plane_derives_anything_from_a_file_over_the_limit(tmp_path):
    """Every plane's status row gives the source's own reason, and nothing is parsed: the cpg plane parsed
    an over-limit file (8.6 s for 10 MB, the time the limit is there to bound) and then failed with a
    TypeError about a missing line index."""
    from codeintel_assets.extract.context import FileContext, SourceUnavailable
    from codeintel_assets.extract.syntax import read_source
    from codeintel_assets.pipeline import extract_file as pass_file
    from codeintel_assets.planes import file_planes

    (tmp_path / "big.py").write_bytes(b"def f(x):\n    return g(x)\n" * 20)  # valid code, over a 100-byte limit
    tables, failures = pass_file(str(tmp_path), "big.py", "big", 100)
    assert [f.plane for f in failures] == ["source"]
    for p in file_planes():
        (row,) = tables[p.status].to_pylist()
        assert row["ok"] is False and "FileTooLarge" in f"{row['error_type']}: {row['error_msg']}", (p.name, row)
        assert row["error_type"] in ("FileTooLarge", "SourceUnavailable", "BytecodeUnavailable", "UpstreamFailed"), (
            p.name, row)
        assert all(tables[tc.name].num_rows == 0 for tc in p.tables if tc.name != p.status), p.name
    ctx = FileContext(read_source(tmp_path, "big.py", 100), "big")
    for derive in (ctx.tree, ctx.code, ctx.lines, ctx.symtable_tree, ctx.ast_rows):
        with pytest.raises(SourceUnavailable, match="limit failed: FileTooLarge"):
            derive()


def test_symlink_loop_and_dangling_symlink(solo_good):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "loop_a.py").symlink_to("loop_b.py")
        (root / "loop_b.py").symlink_to("loop_a.py")
        (root / "dangling.py").symlink_to("missing.py")
        (root / "zz_good.py").write_bytes(GOOD)
        results = {name: extract_file(root, name) for name in ("loop_a.py", "dangling.py", "zz_good.py")}
    loop = results["loop_a.py"].source.files.to_pylist()[0]
    assert (loop["ok"], loop["error_stage"], loop["error_type"], loop["error_msg"]) == (
        False, "read", "OSError", "Too many levels of symbolic links")  # ELOOP
    dangling = results["dangling.py"].source.files.to_pylist()[0]
    assert (dangling["ok"], dangling["error_stage"], dangling["error_type"], dangling["error_msg"]) == (
        False, "read", "FileNotFoundError", "No such file or directory")
    for r in (loop, dangling):
        assert r["sha256"] is None and r["size_bytes"] is None
    _good_file_unaffected(results, solo_good)


# The check runs in a child process that imports the extractor as root (the interpreter lives under
# /root, which uid 65534 cannot read) and then drops to uid/gid 65534 before reading: as root,
# chmod 000 would not stop the read.
UNREADABLE_CHILD = r"""
import json, os, sys
from codeintel_assets.extract.syntax import extract_source, read_source
os.setgroups([]); os.setgid(65534); os.setuid(65534)
root = sys.argv[1]
try:
    open(os.path.join(root, "secret.py"), "rb")
    direct = "readable"
except PermissionError:
    direct = "EACCES"
out = {"euid": os.geteuid(), "direct": direct}
for name in ("secret.py", "zz_good.py"):
    out[name] = extract_source(read_source(root, name)).files.to_pylist()[0]
print(json.dumps(out))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to uid 65534 needs root")
def test_unreadable_file_as_an_unprivileged_user():
    root = Path(tempfile.mkdtemp(prefix="codeintel-eacces-"))
    try:
        root.chmod(0o755)  # mkdtemp makes it 0700: uid 65534 must be able to traverse it
        (root / "secret.py").write_bytes(GOOD)
        (root / "secret.py").chmod(0o000)
        (root / "zz_good.py").write_bytes(GOOD)
        (root / "zz_good.py").chmod(0o644)
        repo = Path(__file__).resolve().parent.parent
        proc = subprocess.run([sys.executable, "-c", UNREADABLE_CHILD, str(root)], capture_output=True, text=True,
                              check=False, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, timeout=60)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        for p in root.iterdir():
            p.chmod(0o644)
            p.unlink()
        root.rmdir()
    assert (out["euid"], out["direct"]) == (65534, "EACCES")
    secret = out["secret.py"]
    assert (secret["ok"], secret["error_stage"], secret["error_type"], secret["error_msg"]) == (
        False, "read", "PermissionError", "Permission denied")
    assert out["zz_good.py"]["ok"] is True


@pytest.mark.parametrize("source, message", [
    ("nonlocal x\n", "nonlocal declaration not allowed at module level"),
    # 3.13 allows 21 nested blocks (CO_MAXBLOCKS); the 22nd `for` is one too many.
    (NESTED_FORS, "too many statically nested blocks"),
    ("def f():\n    x = 1\n    global x\n", "name 'x' is assigned to before global declaration"),
    ("return 1\n", "'return' outside function"),
])
def test_parses_but_does_not_compile(source, message):
    f = facts(source.encode())
    (row,) = f.source.files.to_pylist()
    assert row["ok"] is True and row["ast_node_count"] > 1  # the source plane is complete
    (meta,) = f.bytecode.run_meta.to_pylist()
    assert (meta["compile_ok"], meta["error_type"], meta["error_msg"]) == (False, "SyntaxError", message)
    assert meta["error_lineno"] is not None
    assert len(f.bytecode.code_units) == 0 and len(f.bytecode.instructions) == 0


def test_twenty_one_nested_blocks_still_compile():
    source = "".join("    " * i + f"for i{i} in x:\n" for i in range(21)) + "    " * 21 + "pass\n"
    f = facts(source.encode())
    assert f.bytecode.run_meta.column("compile_ok").to_pylist() == [True]
    assert sum(1 for b in f.block_rows("mod") if b["is_loop_header"]) == 21
