"""One writer per database: an advisory lock file beside it (``<db>.lock``, ``flock``).

Why a lock file and not Dagster's concurrency pool: a pool slot is released by the run that claimed
it, so a run killed with ``kill -9`` keeps it forever and every later run waits on a dead one (seen:
an index that spun forever). The kernel releases an ``flock`` when its process dies, whatever
kills it. `codeintel index` holds the lock from reading the index state to the end of its run (so
a second index waits, and never deletes partitions under the first); an asset step started from
the UI takes it around its writes. It is re-entrant within a process (the CLI's in-process run
takes it again in the step).
"""

import fcntl
import os
import socket
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

_HELD: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth) held by this process


class LockUnavailable(Exception):
    """The writer lock's file cannot be created where the database is to be."""


class DatabaseBusy(Exception):
    """Another process holds the database (one line, names it)."""


def lock_path(database: str) -> str:
    return str(Path(database).resolve()) + ".lock"


def holder(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return "another process"
    return text or "another process"


@contextmanager
def hold(database: str, wait: bool = True, on_wait: Callable[[str], None] | None = None):
    """Hold the database's writer lock for the ``with`` body (waits, or raises DatabaseBusy)."""
    path = lock_path(database)
    if path in _HELD:
        fd, depth = _HELD[path]
        _HELD[path] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _HELD[path]
            _HELD[path] = (fd, depth - 1)
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a directory that takes no new files (/proc, a read-only mount, a full disk)
        raise LockUnavailable(f"cannot create the lock file {path} beside the database: {exc.strerror or exc} "
                              "(choose another --db)") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = holder(path)
            if not wait:
                raise DatabaseBusy(f"the database {database} is being written by {who}") from None
            if on_wait:
                on_wait(f"waiting for {who} to finish writing {database} ...")
            fcntl.flock(fd, fcntl.LOCK_EX)  # Ctrl-C interrupts the wait (PEP 475 runs the handler)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
                  .encode(), 0)
        _HELD[path] = (fd, 1)
        try:
            yield
        finally:
            del _HELD[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
