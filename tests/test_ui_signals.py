"""codeintel_assets.ui.run_ui stops its child process group on SIGINT/SIGTERM (no Dagster started).

The launcher is started with SIGINT ignored, as a shell starts a background job; the child command
stands in for ``dagster dev``: it starts a grandchild (as dagster dev starts the webserver and the
daemon), both sleeping, and writes both pids to files.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent("""
    import os, subprocess, sys, time
    out = sys.argv[1]
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    for name, pid in (("grandchild", g.pid), ("child", os.getpid())):
        with open(os.path.join(out, name + ".tmp"), "w") as f:
            f.write(str(pid))
        os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name + ".pid"))
    time.sleep(600)
""")

LAUNCHER = textwrap.dedent("""
    import os, sys
    from codeintel_assets.ui import run_ui
    sys.exit(run_ui([sys.executable, "-c", sys.argv[1], sys.argv[2]], dict(os.environ), grace=float(sys.argv[3])))
""")


def alive(pid: int) -> bool:
    """Running (a zombie counts as gone: under a non-reaping PID 1 orphans stay zombies)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:].split()[0] not in (b"Z", b"X")


def ignores_sigterm(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        time.sleep(1.0)  # no /proc: give the interpreter time to start and install SIG_IGN
        return True
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return bool(mask & (1 << (signal.SIGTERM - 1)))


def wait_for(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Launched:
    """The launcher (started with SIGINT ignored) and the pids of its child and grandchild."""

    def __init__(self, tmp_path: Path, child_src: str = CHILD, grace: float = 20.0):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        # Output to a file, not a pipe: surviving children would hold a pipe open and hang a read.
        self.log = tmp_path / "launcher.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, child_src, str(tmp_path), str(grace)],
                env=env, preexec_fn=ignore_sigint, stdout=log, stderr=subprocess.STDOUT,
            )
        self.child = self.grandchild = None
        pidfiles = [tmp_path / "child.pid", tmp_path / "grandchild.pid"]
        if not wait_for(lambda: all(p.exists() for p in pidfiles) or self.proc.poll() is not None, 30):
            self.cleanup()
            pytest.fail("child did not start within 30 s")
        if self.proc.poll() is not None:
            self.cleanup()
            pytest.fail(f"launcher exited early: rc={self.proc.returncode} {self.output()}")
        self.child, self.grandchild = (int(p.read_text()) for p in pidfiles)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int, timeout: float = 10) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"launcher still running {timeout} s after {signal.Signals(sig).name}")
        return rc, time.monotonic() - t0

    def cleanup(self) -> None:
        if self.child is not None:
            try:
                os.killpg(self.child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in (self.child, self.grandchild):
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_child_and_grandchild(tmp_path, sig):
    run = Launched(tmp_path)
    try:
        proc, child, grandchild = run.proc, run.child, run.grandchild
        # The pids are real, distinct, running processes before the signal, and the child runs in
        # its own process group (with the grandchild in it), apart from the launcher.
        assert len({proc.pid, child, grandchild}) == 3
        assert alive(child) and alive(grandchild)
        assert os.getpgid(child) == child != os.getpgid(proc.pid)
        assert os.getpgid(grandchild) == child
        time.sleep(0.2)
        assert proc.poll() is None
        # SIGINT was ignored when the launcher started (like a shell's background job); it must
        # still act on it.
        rc, elapsed = run.stop(sig)
        assert rc == 0, run.output()
        assert elapsed < 5, f"took {elapsed:.1f}s (the group should stop on SIGTERM, no SIGKILL wait)"
        assert wait_for(lambda: not alive(child) and not alive(grandchild), 5), (alive(child), alive(grandchild))
    finally:
        run.cleanup()


def test_group_member_ignoring_sigterm_is_killed_after_grace(tmp_path):
    """A grandchild that ignores SIGTERM is SIGKILLed once the grace period is over."""
    child_src = CHILD.replace(
        '"import time; time.sleep(600)"',
        '"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"',
    )
    assert child_src != CHILD
    run = Launched(tmp_path, child_src, grace=1.5)
    try:
        child, grandchild = run.child, run.grandchild
        assert alive(child) and alive(grandchild)
        assert wait_for(lambda: ignores_sigterm(grandchild), 10)  # its SIG_IGN is in place
        rc, elapsed = run.stop(signal.SIGINT)
        assert rc == 0, run.output()
        assert 1.0 <= elapsed < 6, elapsed  # it did wait for the grace period, then killed
        assert wait_for(lambda: not alive(child) and not alive(grandchild), 5), (alive(child), alive(grandchild))
    finally:
        run.cleanup()


def test_child_exit_code_is_returned(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    code = "from codeintel_assets.ui import run_ui; import sys; sys.exit(run_ui([sys.executable, '-c', 'raise SystemExit(7)'], {}))"
    r = subprocess.run([sys.executable, "-c", code], env=env, timeout=30, capture_output=True, text=True)
    assert r.returncode == 7, r.stderr
