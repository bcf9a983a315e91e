"""Files a module creates outside the inspect sandbox by ways the guard did not see (a user trial on rich and
attrs): an ``atexit`` handler and a thread, both running after the import returned, when the guard was off;
``sqlite3.connect`` (its own audit event, a path or a ``file:`` URI); ``os.mkfifo`` and ``os.mknod``, which
raise no audit event at all. Each is refused now, and nothing appears outside; inside the sandbox directory
(the worker's working directory) the same calls still work, as the documented policy says.

Real worker processes (``Sandbox``); the outside directory is listed after the workers have ended (their
atexit handlers have run by then)."""

import os

import pytest

from codeintel_assets.extract.inspect_sandbox import Budgets, Command, Sandbox

ESCAPES = {
    "at_exit": """
import atexit
def _write():
    open({out!r} + "/atexit.txt", "w").write("x")
def _inside():
    open("atexit_inside.txt", "w").write("x")
atexit.register(_write)
atexit.register(_inside)
""",
    "via_thread": """
import threading, time
RESULT = []
def _write():
    time.sleep(0.3)
    try:
        open({out!r} + "/thread.txt", "w").write("x")
        RESULT.append("written")
    except PermissionError as exc:
        RESULT.append(str(exc))
threading.Thread(target=_write).start()  # not a daemon: the worker waits for it at exit
""",
    "via_sqlite": """
import sqlite3
sqlite3.connect({out!r} + "/db.sqlite").execute("create table t(x)")
""",
    "via_sqlite_uri": """
import sqlite3
sqlite3.connect("file:" + {out!r} + "/uri.sqlite?mode=rwc", uri=True).execute("create table t(x)")
""",
    "via_mkfifo": """
import os
os.mkfifo({out!r} + "/fifo")
""",
    "via_mknod": """
import os, stat
os.mknod({out!r} + "/node", stat.S_IFREG | 0o600)
""",
    "inside_ok": """
import os, sqlite3
sqlite3.connect("inside.sqlite").execute("create table t(x)")
sqlite3.connect(":memory:").execute("select 1")
os.mkfifo("inside_fifo")
MADE = sorted(n for n in os.listdir(".") if n.startswith("inside"))
""",
}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_nothing_a_module_sets_off_lands_outside_the_sandbox(tmp_path):
    out = tmp_path / "outside"
    out.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    for name, text in ESCAPES.items():
        (src / f"{name}.py").write_text(text.format(out=str(out)))
    with Sandbox(None, [str(src)], Budgets(timeout_seconds=30), workers=1) as sb:
        results = {r.module: r for r in sb.run([Command(n, str(src / f"{n}.py")) for n in ESCAPES])}
    assert sorted(os.listdir(out)) == [], "created outside the sandbox: " + ", ".join(os.listdir(out))
    for name in ("via_sqlite", "via_sqlite_uri", "via_mkfifo", "via_mknod"):
        r = results[name]
        assert (r.ok, r.error_type) == (False, "PermissionError"), (name, r.error_type, r.error_msg)
        assert "codeintel sandbox: refused" in r.error_msg, (name, r.error_msg)
    assert results["at_exit"].ok and results["via_thread"].ok and results["inside_ok"].ok
    # the worker's rows (lists in the members_static column order: owner, kind, attr name, ..., value ref)
    made = [row for row in results["inside_ok"].tables["members_static"] if row[2] == "MADE"]
    assert len(made) == 1 and "['inside.sqlite', 'inside_fifo']" in str(made[0]), made
