"""Bad input through the whole pipeline: each bad file is a failure row with a clear message naming it,
every other file is indexed, and nothing indexed before is lost."""

import os

import duckdb

from tests.conftest import cli_env
from tests.test_cli_incremental import index, rows_for


def test_bad_files_are_failure_rows_and_lose_nothing(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "good.py").write_text("def ok(x):\n    return x * 2\n")
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["files_failed"] == 0
    good_before = rows_for(env["CODEINTEL_DB"], "good.py")

    (repo / "syntax.py").write_text("def broken(:\n    pass\n")
    (repo / "nullbyte.py").write_bytes(b"x = 1\x00\n")
    (repo / "undecodable.py").write_bytes(b"s = '\xff\xfe'\n")
    (repo / "deep.py").write_text("x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    (repo / "blocks.py").write_text("".join("    " * i + f"for i{i} in y:\n" for i in range(22)) + "    " * 22 + "pass\n")
    (repo / "huge.py").write_text("x = 1\n" * (10 * 1024 * 1024 // 6 + 1))
    (repo / "empty.py").write_text("")
    # not bad: CPython 3.13 compiles a comment that is not UTF-8 (a Latin-1 editor's)
    (repo / "latin1_comment.py").write_bytes(b"def f(x):  # r\xe9sum\xe9\n    return x\n")
    os.symlink("loop_b.py", repo / "loop_a.py")
    os.symlink("loop_a.py", repo / "loop_b.py")
    os.symlink("missing.py", repo / "dangling.py")

    code, s = index(repo, env)
    assert code == 0, s  # failure rows are facts, not a broken run
    failed = {f.split(":")[0]: f for f in s["failed_files"]}
    assert set(failed) == {"syntax.py", "nullbyte.py", "undecodable.py", "deep.py", "blocks.py", "huge.py",
                           "loop_a.py", "loop_b.py", "dangling.py"}
    assert "SyntaxError" in failed["syntax.py"] and failed["syntax.py"].startswith("syntax.py:1:")
    assert "null bytes" in failed["nullbyte.py"]
    assert "decode failed" in failed["undecodable.py"] or "SyntaxError" in failed["undecodable.py"]
    assert "too many nested parentheses" in failed["deep.py"]
    assert "compile failed" in failed["blocks.py"] and "too many statically nested blocks" in failed["blocks.py"]
    assert "FileTooLarge" in failed["huge.py"]
    assert "read failed" in failed["loop_a.py"] and "symbolic links" in failed["loop_a.py"]
    assert "read failed" in failed["dangling.py"]
    # Every file has its py_files row; the good and the empty file are indexed; nothing was lost.
    assert s["rows"]["py_files"] == 12
    assert rows_for(env["CODEINTEL_DB"], "good.py") == good_before
    assert rows_for(env["CODEINTEL_DB"], "empty.py")["py_bc_code_units"] == 1
    assert rows_for(env["CODEINTEL_DB"], "latin1_comment.py")["py_bc_code_units"] == 2
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as con:
        assert con.execute("SELECT string, span_end_byte - span_start_byte FROM py_tokens "
                           "WHERE path = 'latin1_comment.py' AND type = 'COMMENT'").fetchall() == [("# r\ufffdsum\ufffd", 8)]  # 8 bytes in the file
    # A file that parses but does not compile keeps its source facts.
    assert rows_for(env["CODEINTEL_DB"], "blocks.py")["py_ast_nodes"] > 0
    assert rows_for(env["CODEINTEL_DB"], "blocks.py")["py_bc_instructions"] == 0
    # The blocking gates still pass: failures are rows, not findings.
    assert s["checks_failed"] == 0 and s["checks_warned"] == 1
    assert [c["check"] for c in s["checks"] if not c["passed"]] == ["files_ok"]


def test_a_repository_where_every_file_fails(tmp_path):
    """Python 2 code (or any repository whose every file fails to parse or compile): every file is a
    failure row and the run succeeds. The span_join gate's whole-database judge read a figure that only
    judged files give, and the run failed with KeyError: 'instructions'."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "py2.py").write_text('print "hello"\n')
    (repo / "exc_star.py").write_text("def f():\n    try:\n        pass\n    except* ValueError:\n        return 1\n")
    env = cli_env(tmp_path)
    code, s = index(repo, env)
    assert code == 0 and s["run_ok"], s
    assert s["files_failed"] == 2 and s["files_added"] == 2, s
    failed = dict(f.split(": ", 1) for f in s["failed_files"])
    assert "parse failed: SyntaxError: Missing parentheses in call to 'print'" in failed["py2.py:1:1"], failed
    assert "compile failed: SyntaxError: 'break', 'continue' and 'return' cannot appear in an except* block" in \
        failed["exc_star.py:5"], failed
    span = next(c for c in s["checks"] if c["check"] == "span_join")
    assert span["passed"] and span["metadata"]["instructions"] == 0, span
    assert [c["check"] for c in s["checks"] if not c["passed"]] == ["files_ok"], s["checks"]
