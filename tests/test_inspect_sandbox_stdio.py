"""What a module sees of its process in the inspect sandbox is what a plain interpreter shows it.

``python -I -c "import mod" < /dev/null`` gives the module end of input on stdin at once and
``sys.argv == ['-c']``. The worker's stdin was its command pipe (a module that read it blocked until the
per-module timeout: docutils' ``tools/dev/create_unimap.py``, ``BudgetExceeded`` after 60 s where CPython
fails at once with ``ExpatError``) and its ``sys.argv`` was ``[inspect_worker.py, <config json>]`` (docutils'
``tools/rst2*.py`` call ``publish_cmdline()`` at import, took the JSON for an input file and exited with
``SystemExit: 1``; CPython imports them). Every expected value here is the plain interpreter's, obtained by
running it on the same file, not written down from the tool.
"""

import json
import subprocess
import sys

import pytest

from codeintel_assets.extract.inspect_sandbox import Budgets, Command, Sandbox

TIMEOUT = 10  # per module; a module blocked on the command pipe hit it (the fixed worker answers in ms)

READS_STDIN = """\
import os
import sys

DATA = sys.stdin.read()
BUFFER = sys.stdin.buffer.read()
DUNDER = sys.__stdin__.read()
RAW = os.read(0, 4096)
try:
    input()
except EOFError as exc:
    INPUT = type(exc).__name__


def probe():
    return sys.stdin.read()
"""

# docutils tools/dev/create_unimap.py: `minidom.parse(sys.stdin)` at import
PARSES_STDIN = "import sys\nfrom xml.dom import minidom\n\nDOCUMENT = minidom.parse(sys.stdin)\n"

READS_ARGV = """\
import argparse
import sys

ARGV = list(sys.argv)
PROG = argparse.ArgumentParser().prog
ARGS = sorted(vars(argparse.ArgumentParser().parse_args()))
CONFIG_SEEN = any('result_fd' in a for a in sys.argv + getattr(sys, 'orig_argv', []))
"""

# docutils tools/rst2html.py: publish_cmdline() at import reads sys.argv[1:] as the source (else stdin)
PUBLISHES = """\
import sys


def publish_cmdline():
    names = sys.argv[1:]
    if not names:
        return sys.stdin.read()
    try:
        with open(names[0]) as f:
            return f.read()
    except OSError as exc:
        sys.stderr.write(f"{exc}\\n")
        raise SystemExit(1)


OUTPUT = publish_cmdline()
"""

CASES = {  # module -> (source, names whose repr is compared; "probe()" calls the module's probe)
    "reads_stdin": (READS_STDIN, ["DATA", "BUFFER", "DUNDER", "RAW", "INPUT", "probe()"]),
    "parses_stdin": (PARSES_STDIN, ["DOCUMENT"]),
    "reads_argv": (READS_ARGV, ["ARGV", "PROG", "ARGS", "CONFIG_SEEN"]),
    "publishes": (PUBLISHES, ["OUTPUT"]),
}


def plain(root, module: str, names: list[str]) -> tuple[bool, str | None, dict[str, str]]:
    """(ok, exception type, {name: repr}) of `python -I -c "import module"` with stdin from /dev/null."""
    values = ", ".join(f"{n!r}: repr(m.{n})" for n in names)
    code = (f"import sys\nsys.path.insert(0, {str(root)!r})\n"
            f"try:\n    import {module} as m\n"
            f"except BaseException as exc:\n    out = [False, type(exc).__name__, {{}}]\n"
            f"else:\n    out = [True, None, {{{values}}}]\n"
            "import json\nprint(json.dumps(out))\n")
    p = subprocess.run([sys.executable, "-I", "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, cwd=root, timeout=60)
    assert p.returncode == 0, p.stderr
    ok, error_type, got = json.loads(p.stdout.strip().splitlines()[-1])
    return ok, error_type, got


def sandboxed(root, modules: list[str], probes: dict[str, list[str]] | None = None):
    """The sandbox's results for ``modules``, in order, all in one worker."""
    with Sandbox(None, [str(root)], Budgets(timeout_seconds=TIMEOUT), workers=1) as sb:
        return sb.run([Command(m, str(root / f"{m}.py"), (probes or {}).get(m, [])) for m in modules])


def values(res, names: list[str]) -> dict[str, str]:
    """{name: repr} of the module's members (their ValueRef's repr) and of its probes' return values."""
    got = {row[2]: row[5][2] for row in res.tables.get("members_static", []) if row[0] == f"{res.module}::module"}
    for row in res.tables.get("runtime_state", []):
        if row[3] == "returned":
            got[f"{row[0]}()"] = json.loads(row[10])["return"]
    return {n: got.get(n) for n in names}


@pytest.fixture
def root(tmp_path):
    for module, (source, _) in CASES.items():
        (tmp_path / f"{module}.py").write_text(source)
    (tmp_path / "after.py").write_text("X = 1\n")
    return tmp_path


@pytest.mark.parametrize("module", list(CASES))
def test_a_module_imports_as_in_a_plain_interpreter(root, module):
    """The import's outcome (ok, or the exception's type) and what the module stored are the plain
    interpreter's; and no attempt waits for the timeout."""
    names = CASES[module][1]
    probes = ["probe"] if "probe()" in names else []
    want_ok, want_type, want_values = plain(root, module, names)
    (res,) = sandboxed(root, [module], {module: probes})
    assert res.budget is None and not res.worker_replaced, (res.error_type, res.error_msg)
    assert (res.ok, res.error_type) == (want_ok, want_type), res.error_msg
    if want_ok:
        assert values(res, names) == want_values


def test_stdin_is_empty_at_once_and_argv_is_the_plain_one(root):
    """The plain interpreter's answers, spelled out: stdin reads '' (b'' below the text layer, EOFError for
    input()) in the module and in its probe; sys.argv is ['-c'] and holds no configuration; the scripts
    that read their command line import; create_unimap's parse fails with its own error, not a timeout."""
    stdin_names, argv_names = CASES["reads_stdin"][1], CASES["reads_argv"][1]
    assert plain(root, "reads_stdin", stdin_names) == (True, None, {
        "DATA": "''", "BUFFER": "b''", "DUNDER": "''", "RAW": "b''", "INPUT": "'EOFError'", "probe()": "''"})
    assert plain(root, "reads_argv", argv_names)[2] == {
        "ARGV": "['-c']", "PROG": "'-c'", "ARGS": "[]", "CONFIG_SEEN": "False"}
    assert plain(root, "parses_stdin", [])[:2] == (False, "ExpatError")
    assert plain(root, "publishes", ["OUTPUT"]) == (True, None, {"OUTPUT": "''"})
    stdin, argv, parses, publishes = sandboxed(root, ["reads_stdin", "reads_argv", "parses_stdin", "publishes"],
                                               {"reads_stdin": ["probe"]})
    assert stdin.ok and stdin.budget is None and stdin.seconds < TIMEOUT / 2, (stdin.error_type, stdin.error_msg)
    assert values(stdin, ["DATA", "probe()"]) == {"DATA": "''", "probe()": "''"}
    assert argv.ok and values(argv, ["ARGV", "CONFIG_SEEN"]) == {"ARGV": "['-c']", "CONFIG_SEEN": "False"}
    assert (parses.ok, parses.error_type, parses.budget) == (False, "ExpatError", None)
    assert "no element found" in parses.error_msg
    assert publishes.ok and values(publishes, ["OUTPUT"]) == {"OUTPUT": "''"}, publishes.error_msg


def test_a_module_that_reads_stdin_leaves_the_worker_working(root):
    """Reading stdin to its end reaches /dev/null, not the worker's commands: the next modules are
    imported by the same worker, which is not replaced."""
    results = sandboxed(root, ["reads_stdin", "after", "parses_stdin", "reads_argv"])
    got = [(r.module, r.ok, r.error_type, r.budget, r.worker_replaced) for r in results]
    assert got == [("reads_stdin", True, None, None, False), ("after", True, None, None, False),
                   ("parses_stdin", False, "ExpatError", None, False), ("reads_argv", True, None, None, False)], \
        [r.error_msg for r in results]
    assert len({r.worker_pid for r in results}) == 1
    assert values(results[1], ["X"]) == {"X": "1"}


def test_the_worker_file_imports_as_a_module_as_in_a_plain_interpreter():
    """Indexing CodeIntel itself imports inspect_worker.py as a module. It read its config from
    sys.argv[1] at import: in the sandbox it found the worker's own (ok), where a plain interpreter has
    ['-c'] (IndexError). It now reads its config in main(): both import it."""
    from pathlib import Path

    root, module = Path(__file__).resolve().parent.parent, "codeintel_assets.extract.inspect_worker"
    want = plain(root, module, ["MAX_OBJECTS"])
    with Sandbox(None, [str(root)], Budgets(timeout_seconds=TIMEOUT), workers=1) as sb:
        (res,) = sb.run([Command(module, str(root / "codeintel_assets" / "extract" / "inspect_worker.py"))])
    assert want == (True, None, {"MAX_OBJECTS": "20000"})
    assert (res.ok, res.error_type, values(res, ["MAX_OBJECTS"])) == want, res.error_msg
