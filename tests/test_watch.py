"""`codeintel watch`: one resident process that indexes, then indexes again on every change.

The process test runs the real command in a subprocess on a repository in a temporary directory (its own
database and Dagster instance), edits files as an editor would, and reads the database between runs from
another process, as a user with a second terminal would."""

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

from codeintel_assets.reconcile import status_fingerprint
from codeintel_assets.watch import fingerprint_diff, quiet_seconds
from tests.conftest import write_repo

CLI = [sys.executable, "-m", "codeintel_assets.cli"]


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "CODEINTEL_"))}
    return {**env, "CODEINTEL_WORKERS": "1"}


def test_the_fingerprint_moves_with_every_edit_add_and_removal_and_ignores_the_rest(tmp_path):
    repo = write_repo(tmp_path / "r", {"a.py": "x = 1\n", "pkg/b.py": "y = 2\n", "notes.txt": "text\n",
                                      ".git/hooks/h.py": "z = 3\n"})
    before = status_fingerprint(repo)
    assert sorted(f[0] for f in before) == ["a.py", "pkg/b.py"]  # .git is skipped, as the scan skips it
    (repo / "notes.txt").write_text("other\n")
    (repo / ".git/hooks/h.py").write_text("z = 4\n")
    assert status_fingerprint(repo) == before
    (repo / "a.py").write_text("x = 9\n")  # same size: the ctime (and mtime) moved
    (repo / "c.py").write_text("")
    (repo / "pkg/b.py").unlink()
    after = status_fingerprint(repo)
    assert fingerprint_diff(before, after) == (["c.py"], ["a.py"], ["pkg/b.py"])
    assert status_fingerprint(repo, ("c.py",)) != after and "c.py" not in {f[0] for f in status_fingerprint(repo, ("c.py",))}
    # How long the changed files have been left alone: from their ctime; a removal gives no time (0).
    assert quiet_seconds(before, after) == 0.0  # (pkg/b.py was removed)
    (repo / "a.py").write_text("x = 10\n")
    again = status_fingerprint(repo)
    assert quiet_seconds(after, again) < 0.5
    time.sleep(0.6)
    assert 0.6 <= quiet_seconds(after, again) < 60
    assert quiet_seconds(again, again) > 1000  # nothing differs: nothing to wait for
    # the repository's pyproject.toml names modules ([tool.codeintel] import-roots): an edit of it is a change
    (repo / "pyproject.toml").write_text('[tool.codeintel]\nimport-roots = ["pkg"]\n')
    assert fingerprint_diff(again, status_fingerprint(repo)) == (["pyproject.toml"], [], [])


class _Watch:
    def __init__(self, argv: list[str], env: dict, cwd: Path):
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: queue.Queue = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=lambda: [self.out.put(line) for line in self.proc.stdout], daemon=True).start()
        threading.Thread(target=lambda: [self.err.append(line) for line in self.proc.stderr], daemon=True).start()

    def summary(self, timeout: float = 240) -> dict:
        try:
            return json.loads(self.out.get(timeout=timeout))
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("no summary line from codeintel watch:\n" + "".join(self.err[-60:])) from None

    def stop(self, sig: int, twice: bool = False) -> int:
        self.proc.send_signal(sig)
        if twice:  # one Ctrl-C delivered twice: the terminal's, and `uv run` forwarding its own to the child
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"codeintel watch did not stop on signal {sig}:\n" + "".join(self.err[-60:])) from None

    def stderr_has(self, text: str, timeout: float = 60) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.err):
                return True
            time.sleep(0.1)
        return False


def _query(db: Path, sql: str) -> list:
    with duckdb.connect(str(db), read_only=True) as c:  # another process's reader, between the watch's runs
        return c.execute(sql).fetchall()


def test_watch_indexes_each_edit_reports_failures_keeps_going_and_stops_on_ctrl_c(tmp_path):
    repo = write_repo(tmp_path / "repo", {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f(x):\n    return x\n",
        "pkg/b.py": "from pkg.a import f\n\n\ndef main():\n    return f(1)\n",
    })
    db = tmp_path / "w.duckdb"
    w = _Watch([*CLI, "watch", str(repo), "--db", str(db), "--json", "--quiet", "--interval", "0.1"],
               _env(tmp_path), tmp_path)
    first = w.summary()
    assert first["files_added"] == 3 and first["run_ok"] and first["watch"]["run"] == 1, first
    assert w.stderr_has("watching "), "".join(w.err)
    # An edit: a new function in a.py, called from b.py (two files change in one save of a refactoring).
    (repo / "pkg/a.py").write_text("def f(x):\n    return x\n\n\ndef h():\n    return f(2)\n")
    (repo / "pkg/b.py").write_text("from pkg.a import f, h\n\n\ndef main():\n    return f(1) + h()\n")
    s = w.summary()
    assert s["files_changed"] == 2 and s["files_unchanged"] == 1 and s["run_ok"] and s["checks_failed"] == 0, s
    assert s["watch"] == {"run": 2, "added": [], "changed": ["pkg/a.py", "pkg/b.py"], "removed": []}, s["watch"]
    calls = _query(db, "SELECT caller_qualname, callee_qualname FROM cpg_calls WHERE path = 'pkg/b.py' "
                       "ORDER BY callee_qualname")
    assert calls == [("pkg.b.main", "pkg.a.f"), ("pkg.b.main", "pkg.a.h")], calls
    # A file that no longer parses: a failure row, a run that still ends, and the watch goes on.
    (repo / "pkg/a.py").write_text("def f(x:\n")
    s = w.summary()
    assert s["files_changed"] == 1 and s["files_failed"] == 1 and s["failed_files"][0].startswith("pkg/a.py"), s
    assert w.proc.poll() is None
    (repo / "pkg/a.py").write_text("def f(x):\n    return x\n")
    (repo / "pkg/b.py").unlink()
    s = w.summary()
    assert s["files_changed"] == 1 and s["files_removed"] == 1 and s["files_failed"] == 0, s
    assert s["watch"] == {"run": 4, "added": [], "changed": ["pkg/a.py"], "removed": ["pkg/b.py"]}, s["watch"]
    assert _query(db, "SELECT path FROM py_files ORDER BY path") == [("pkg/__init__.py",), ("pkg/a.py",)]
    assert w.stop(signal.SIGINT, twice=True) == 0
    assert w.stderr_has("stopped after 4 runs", timeout=5), "".join(w.err)
    assert not any("Traceback" in line for line in w.err), "".join(w.err)
    assert w.out.empty(), (w.out.get(), "".join(w.err))  # a run per change, no more
    # What the watch left is what `codeintel index` expects: nothing to do.
    p = subprocess.run([*CLI, "index", str(repo), "--db", str(db), "--json"], env=_env(tmp_path), cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    again = json.loads(p.stdout.strip().splitlines()[-1])
    assert p.returncode == 0 and again["files_unchanged"] == 2 and again["run_id"] is None, again


def test_text_summaries_after_the_first_are_compact_and_sigterm_stops_it(tmp_path):
    repo = write_repo(tmp_path / "repo", {"m.py": "x = 1\n"})
    w = _Watch([*CLI, "watch", str(repo), "--db", str(tmp_path / "t.duckdb"), "--quiet", "--interval", "0.1"],
               _env(tmp_path), tmp_path)
    assert w.stderr_has("watching ", timeout=240), "".join(w.err)
    (repo / "m.py").write_text("def f(:\n")
    assert w.stderr_has("done in", timeout=240) and w.stderr_has("changed m.py: indexing")
    end = time.monotonic() + 120
    while sum("done" in line for line in w.err) < 2 and time.monotonic() < end:
        time.sleep(0.1)
    assert w.stop(signal.SIGTERM) == 0
    assert w.stderr_has("stopped after 2 runs", timeout=5), "".join(w.err)
    out = []
    while not w.out.empty():
        out.append(w.out.get())
    text = "".join(out)
    first, second = text.split("\nindexed ", 2)[1:]
    assert "rows:" in first and "  py_files " in first  # the first index: the whole summary
    assert "rows:" not in second and second.startswith("1 file in"), second  # then one line and what failed
    m = re.search(r"checks \(whole database\): (\d+) of (\d+) pass", second)
    assert "FAILED m.py" in second and m and int(m[1]) == int(m[2]) - 1, second  # one check did not pass:
    assert "WARN files_ok" in second, second  # files_ok warns of the failed file (a WARN: exit 0)


def test_a_watch_that_cannot_index_says_why_and_exits_2(tmp_path):
    p = subprocess.run([*CLI, "watch", str(tmp_path / "missing")], env=_env(tmp_path), cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and f"{tmp_path / 'missing'} is not a directory" in p.stderr, p.stderr
    repo = write_repo(tmp_path / "repo", {"m.py": "x = 1\n"})
    blocker = tmp_path / "file"
    blocker.write_text("")
    p = subprocess.run([*CLI, "watch", str(repo), "--db", str(blocker / "x.duckdb")], env=_env(tmp_path),
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "not watching" in p.stderr and str(blocker) in p.stderr, p.stderr
