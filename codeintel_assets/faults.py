"""Fault injection for the fault tests: real runs, real processes, real signals (never used otherwise).

``CODEINTEL_INJECT_FAULT`` is a comma-separated list:

- ``PLANE=GLOB``: that plane's extractor raises on matching paths (an extractor bug; ``inspect``: the
  inspect step raises when its range holds one; ``link=*``: the cross-file link step raises);
- ``PLANE:sleep=GLOB:SECONDS``: that plane's extractor sleeps first (a slow file, for the budget);
- ``die=POINT``: the process kills itself with SIGKILL at that point of a run (a `kill -9`), where
  POINT is one of ``after-delete`` (rows of the run's files deleted, nothing appended yet),
  ``append`` (inside an append transaction, before its COMMIT), ``after-append`` (a batch committed),
  ``gates`` (every row written, before the checks are aggregated), ``purge`` (inside the purge of
  deleted files, before its COMMIT);
- ``full=spool``: writing a spool part fails as on a full file system (``OSError`` ENOSPC naming the part; in a
  worker process when the pass has workers).

Worker processes inherit the variable (spawned workers copy the environment).
"""

import errno
import fnmatch
import os
import signal
import time

FAULT_ENV = "CODEINTEL_INJECT_FAULT"


def _items():
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return []
    return [item.partition("=")[::2] for item in spec.split(",")]


def plane_fault(plane: str, key: str) -> None:
    for name, pattern in _items():
        if name == plane and fnmatch.fnmatchcase(key, pattern):
            raise RuntimeError(f"injected fault ({FAULT_ENV})")
        if name == f"{plane}:sleep" and fnmatch.fnmatchcase(key, pattern.rsplit(":", 1)[0]):
            time.sleep(float(pattern.rsplit(":", 1)[1]))


def maybe_die(point: str) -> None:
    for name, value in _items():
        if name == "die" and value == point:
            os.kill(os.getpid(), signal.SIGKILL)


def maybe_full(point: str, path) -> None:
    for name, value in _items():
        if name == "full" and value == point:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
