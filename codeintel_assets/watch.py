"""``codeintel watch``: index once, then index again whenever a file changes, in one resident process.

A one-file edit re-indexed by ``codeintel index`` pays, every time, for what does not change between edits:
the interpreter's start and the import of Dagster, SQLAlchemy/Alembic, DuckDB and Arrow (~1.6 s), the
Dagster instance's storages and the definitions, and first touches of every module the run uses. A resident
process pays for them once. Each re-index is an ordinary ``codeintel index`` run (``cli.cmd_index``: the same
lock, plan, Dagster run, link, checks and summary), so nothing the UI or ``codeintel query`` sees differs from
a terminal's ``codeintel index``; between runs the process holds neither the writer lock nor the database, so
another ``codeintel index``, ``query`` or the UI's runs go on as before.

Changes are found by polling ``reconcile.status_fingerprint`` (``stat`` of every ``*.py`` the scan would read,
~35 ms for the 1,726 files of the standard library) every ``--interval`` seconds, and waiting until nothing
changed for SETTLE_SECONDS (an editor's save, a ``git checkout`` writing many files: one run) before indexing. No file-system notification
API is used: polling works the same on every file system (network mounts, containers' bind mounts), needs no
dependency, and its cost is measured.
"""

import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from codeintel_assets.reconcile import status_fingerprint

SETTLE_SECONDS = 0.1  # a change must hold this long (its files' ctime, or two equal polls) before it is indexed
SETTLE_LIMIT_SECONDS = 5.0  # files still changing after this: index what is there (the next poll sees the rest)


def fingerprint_diff(before: frozenset, after: frozenset) -> tuple[list[str], list[str], list[str]]:
    """(added, changed, removed) relative paths between two fingerprints."""
    old = {f[0]: f for f in before}
    new = {f[0]: f for f in after}
    added = sorted(k for k in new if k not in old)
    removed = sorted(k for k in old if k not in new)
    changed = sorted(k for k in new if k in old and new[k] != old[k])
    return added, changed, removed


def _describe(added: list[str], changed: list[str], removed: list[str]) -> str:
    parts = []
    for verb, names in (("added", added), ("changed", changed), ("removed", removed)):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            parts.append(f"{verb} {shown}")
    return "; ".join(parts)


def quiet_seconds(before: frozenset, after: frozenset) -> float:
    """How long the files that differ between two fingerprints have been left alone: now minus the newest
    ctime among the added and changed ones (an edit always moves ctime). 0 when a file was removed or could
    not be read (no time to go by)."""
    names = {f[0] for f in after}
    if any(f[0] not in names for f in before):
        return 0.0
    newest = 0
    for f in after - before:
        if len(f) < 5:  # (rel, None): stat failed
            return 0.0
        newest = max(newest, f[3])
    return max(0.0, time.time() - newest / 1e9)


def _settled_fingerprint(root: Path, exclude: tuple[str, ...], seen: frozenset, first: frozenset) -> frozenset:
    """The fingerprint once nothing has changed for SETTLE_SECONDS (or SETTLE_LIMIT_SECONDS passed). Any
    write inside the window would show as an added or changed file with a ctime inside it, so when the
    differing files are older than the window the change is settled already: no wait (the usual case with
    a poll interval longer than the window)."""
    current, start = first, time.monotonic()
    while time.monotonic() - start < SETTLE_LIMIT_SECONDS:
        quiet = quiet_seconds(seen, current)
        if quiet >= SETTLE_SECONDS:
            break
        time.sleep(SETTLE_SECONDS - quiet)
        again = status_fingerprint(root, exclude)
        if again == current:
            break
        current = again
    return current


def warm_up(args) -> float:
    """Import what a run uses, so that the first edit is as quick as the later ones (seconds taken).

    The first index of a watch usually finds nothing to do and takes the no-work path, which imports neither
    Dagster nor the extractors; without this the first edit would pay their import (~2-4 s). The
    definitions are built and the job resolved once (what ``cmd_index`` builds again per run is then cheap),
    the extraction pass's modules imported, and the Dagster instance's storages opened and closed."""
    t = time.perf_counter()
    import codeintel_assets.graph  # noqa: F401 - the cpg_graph step's
    import codeintel_assets.link  # noqa: F401 - the cpg_link step's
    import codeintel_assets.pipeline  # noqa: F401 - the file pass (its extractors and gates)
    from codeintel_assets.assets import build_definitions
    from codeintel_assets.instance import prepare_home
    from resources.event_log import share_alembic_scripts
    from codeintel_assets.cli import _db
    db = _db(args)
    build_definitions(str(Path(args.path).resolve()), db).resolve_job_def("index_files")
    try:
        prepare_home(db)  # (the first index did it too: the same home, DAGSTER_HOME exported)
    except Exception:  # noqa: BLE001 - the index itself reports a location it cannot use
        return time.perf_counter() - t
    share_alembic_scripts()
    from dagster import DagsterInstance
    DagsterInstance.get().dispose()
    return time.perf_counter() - t


def watch(args, index_once: Callable[[object], int]) -> int:
    """Index ``args.path`` with ``index_once(args)`` (``cli.cmd_index``), then again on every change, until
    Ctrl-C or SIGTERM. 0 when stopped; 2 when the first index fails for a reason of the setup (the
    location, the lock), which a second run would only repeat. A later run's failure is reported and the
    watch goes on (the next change, or the next edit of the broken file, runs again)."""
    root = Path(args.path).resolve()
    exclude = tuple(args.exclude or ())
    interval = max(0.05, float(args.interval))
    say = lambda m: print(f"codeintel watch: {m}", file=sys.stderr, flush=True)  # noqa: E731
    if not root.is_dir():
        say(f"{root} is not a directory")
        return 2

    stopping = _Stop()
    previous = {sig: signal.signal(sig, stopping.handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    runs = 0

    def stopped(message: str) -> int:
        stopping.stopped = True  # (no signal counts any more: the last line must not end in a traceback)
        say(message)
        return 0
    try:
        seen = status_fingerprint(root, exclude)
        args.summary_extra = {"watch": {"run": 1, "added": [], "changed": [], "removed": []}}
        code = _run(args, index_once, say, "the first index")
        runs += 1
        if code == 2 and not getattr(args, "interrupted", False) and getattr(args, "setup_failed", False):
            say("the first index could not run (see above); not watching")
            return 2
        if getattr(args, "interrupted", False) or stopping.requested:
            return stopped("stopped")
        args.compact = True  # later runs' text summaries: one line and what failed (the first one was whole)
        try:
            took = warm_up(args)
        except Exception as exc:  # noqa: BLE001 - only a head start: the next run reports what is wrong
            took = 0.0
            say(f"warm-up skipped ({type(exc).__name__}: {exc})"[:300])
        say(f"watching {root} ({sum(f[0].endswith('.py') for f in seen)} files; ready in {took:.1f} s; polling every {interval:g} s; Ctrl-C stops)")
        while True:
            with stopping.idle():
                time.sleep(interval)
                now = status_fingerprint(root, exclude)
                if now == seen:
                    continue
                now = _settled_fingerprint(root, exclude, seen, now)
            added, changed, removed = fingerprint_diff(seen, now)
            seen = now  # before the run: an edit made while it runs is seen by the next poll
            args.summary_extra = {"watch": {"run": runs + 1, "added": added, "changed": changed, "removed": removed}}
            _run(args, index_once, say, _describe(added, changed, removed) or "files touched")
            runs += 1
            if getattr(args, "interrupted", False) or stopping.requested:
                return stopped(f"stopped after {runs} runs")
    except KeyboardInterrupt:
        return stopped(f"stopped after {runs} runs")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Stop:
    """Ctrl-C and SIGTERM: while the watch waits, stop at once; during an index, let it end first.

    A KeyboardInterrupt raised anywhere in an index is not reliably a stop: DuckDB turns one that arrives
    during a query into a ``RuntimeError`` (which code that survives a failed read catches), and
    one that arrives after the summary was printed would print a second summary for the same run. So outside
    the idle sections the handler only records the request; the loop stops when the index returns. A Ctrl-C
    during the Dagster run itself reaches Dagster's own handler (installed for the run), which stops the run
    as it does for ``codeintel index``. A second signal (a user's second Ctrl-C, not the same one delivered
    twice) raises KeyboardInterrupt wherever it lands."""

    DUPLICATE_SECONDS = 0.5  # a second signal this soon is the same Ctrl-C delivered twice (see handler)

    def __init__(self):
        self.requested = False
        self.stopped = False
        self._idle = False
        self._first = 0.0

    def handler(self, signum, frame):
        # One Ctrl-C can arrive twice: the terminal signals the whole foreground process group, and a parent
        # such as `uv run` forwards the signal it got to its child as well. Only a signal more than
        # DUPLICATE_SECONDS after the first counts as a second one (a user's second Ctrl-C), and none does
        # once the watch is stopping (its last line must not end in a traceback).
        if self.stopped:
            return
        now = time.monotonic()
        again = self.requested and now - self._first > self.DUPLICATE_SECONDS
        if not self.requested:
            self.requested, self._first = True, now
        if self._idle or again:  # a second Ctrl-C does not wait
            self.stopped = True
            raise KeyboardInterrupt

    @contextmanager
    def idle(self):
        if self.requested:
            self.stopped = True
            raise KeyboardInterrupt
        self._idle = True
        try:
            yield
        finally:
            self._idle = False


def _run(args, index_once, say, what: str) -> int:
    say(f"{time.strftime('%H:%M:%S')} {what}: indexing")
    args.interrupted = False
    args.setup_failed = False
    t = time.perf_counter()
    try:
        code = index_once(args)
    except KeyboardInterrupt:
        args.interrupted = True
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug's traceback is printed; the next change runs again
        import traceback
        traceback.print_exc()
        say(f"the index failed with {type(exc).__name__} (a bug: the traceback above is the report); watching on")
        return 2
    verdict = {0: "done", 1: "done, a blocking check failed", 2: "failed"}.get(code, f"exit {code}")
    say(f"{verdict} in {time.perf_counter() - t:.1f} s (pid {os.getpid()})")
    return code
