"""Run ``dagster dev`` as a child that stops, with everything it started, when we are told to stop.

``os.execv`` into ``dagster dev`` has two problems: a shell starts background jobs with SIGINT
ignored and that disposition survives exec, so Ctrl-C / ``kill -INT`` do nothing; and SIGTERM to
the one pid does not reach the webserver and daemon that ``dagster dev`` spawned. Instead this
process stays the parent: it handles SIGINT/SIGTERM itself, runs the command in its own session
(so its process group holds it and everything it starts that does not leave the group), and on a
stop request sends SIGTERM to that whole group, waits, then SIGKILLs what is left.

Pure stdlib (POSIX only); nothing here imports Dagster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 20.0
_POLL = 0.1


def _default_signals() -> None:  # runs in the child between fork and exec
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_DFL)


def _group_alive(pgid: int) -> bool:
    """True while the process group has a member that is not a zombie.

    ``killpg(pgid, 0)`` alone also counts zombies, and orphaned grandchildren stay zombies forever
    under a PID 1 that does not reap (common in containers); on Linux /proc tells them apart.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def run_ui(cmd: list[str], env: dict, grace: float = GRACE_SECONDS, cwd: str | None = None) -> int:
    """Run ``cmd`` (``dagster dev ...``) in a new session until it exits or we get SIGINT/SIGTERM.

    On SIGINT or SIGTERM: SIGTERM to the child's whole process group, up to ``grace`` seconds for
    the group to empty, then SIGKILL to the group; a second signal skips the wait. Returns 0 for a
    requested stop, else the child's exit code (128+N when a signal N killed it). Members left in
    the group after the child exits by itself are stopped the same way.
    """
    requests: list[int] = []

    def on_signal(signum, frame):
        requests.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    try:
        # The handler is installed first, so a signal arriving during start-up is not lost. The
        # child gets default dispositions: exec resets a caught signal to default anyway (only
        # SIG_IGN survives exec, which is what broke os.execv); preexec_fn just makes it explicit.
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, start_new_session=True, preexec_fn=_default_signals)
        pgid = proc.pid  # session leader == group leader
        returncode = None
        while not requests:
            try:
                returncode = proc.wait(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                pass
        stop_requested = bool(requests)
        if not stop_requested and not _group_alive(pgid):
            return _exit_code(returncode)
        # Stop the group: by request, or stragglers after the child exited by itself.
        _killpg(pgid, signal.SIGTERM)
        seen = len(requests)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(pgid):
                break
            if len(requests) > seen:
                break  # asked (again) during the wait: do not wait any longer
            time.sleep(_POLL)
        if proc.poll() is None or _group_alive(pgid):
            _killpg(pgid, signal.SIGKILL)
        returncode = proc.wait()
        return 0 if stop_requested else _exit_code(returncode)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
