"""One edited file re-indexed by a resident `codeintel watch`, against `codeintel index` started per edit.

Usage: uv run python benchmarks/watch_edit.py REPO --db DB [--dagster-home DIR] [--edit REL] [--n 3]

REPO must already be indexed into DB (for example the copy `bench_stdlib.py --keep DIR` leaves). The script
appends a line to REPO/REL (default json/encoder.py), N times in each of two ways, alternating so that the
machine's speed drifts alike for both: (a) a running `codeintel watch --json --interval 0.1`, timed from the
moment the edit is written to the moment its summary line is printed (polling and settling included: what
an editor's user waits for); (b) `codeintel index --json` started after the edit, timed from the start of the
process to its end. Prints each time and both medians; every run must report the file as the
one changed file, and the script exits 1 otherwise. The edits stay in the file (each one a new line).
"""

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

CLI = [sys.executable, "-m", "codeintel_assets.cli"]


def _append(target: Path, i: int) -> None:
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(f"_codeintel_watch_bench_{os.getpid()}_{i} = {i}\n")


class Watcher:
    """A `codeintel watch --json` process; its summary lines arrive on a queue."""

    def __init__(self, repo: Path, env: dict, extra: list[str]):
        self.proc = subprocess.Popen([*CLI, "watch", str(repo), "--json", "--quiet", "--interval", "0.1", *extra],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append), daemon=True).start()

    @staticmethod
    def _pump(stream, put) -> None:
        for line in stream:
            put(line)

    def next_summary(self, timeout: float = 600) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise SystemExit("codeintel watch printed no summary:\n" + "".join(self.err[-40:])) from None

    def wait_ready(self, timeout: float = 600) -> None:
        """Until it says it is watching (after its first index and its warm-up)."""
        end = time.monotonic() + timeout
        while not any("codeintel watch: watching " in line for line in self.err):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise SystemExit("codeintel watch never got ready:\n" + "".join(self.err[-40:]))
            time.sleep(0.05)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=120)


def compare(repo: Path, env: dict, target: Path, n: int, extra: list[str]) -> dict:
    """N cold `codeintel index` edits and N watch edits, alternating: {"index_s": [...], "watch_s": [...]}.

    A watch sees every edit of the repository, so it runs only while its own edit is measured: each round
    starts one (its first index finds nothing to do), waits until it says it is watching (its warm-up done),
    edits, waits for the summary, stops it with SIGINT; then edits again and times a `codeintel index`."""
    bad: list[str] = []
    index_s, watch_s = [], []
    for i in range(n):
        watcher = Watcher(repo, env, extra)
        first = watcher.next_summary()
        if first.get("files_changed", 0) or first.get("files_added", 0):
            bad.append(f"the watch's first index found work ({first.get('files_changed')} changed)")
        watcher.wait_ready()
        _append(target, 2 * i)
        t = time.perf_counter()
        s = watcher.next_summary()
        watch_s.append(time.perf_counter() - t)
        if s.get("files_changed") != 1 or not s.get("run_ok", True):
            bad.append(f"watch: {s.get('files_changed')} changed, run_ok {s.get('run_ok')}, {s.get('run_error')}")
        code = watcher.stop()
        if code != 0:
            bad.append(f"codeintel watch exited {code} on SIGINT")
        _append(target, 2 * i + 1)
        t = time.perf_counter()
        out = subprocess.run([*CLI, "index", str(repo), "--json", "--quiet", *extra], env=env, capture_output=True,
                             text=True)
        index_s.append(time.perf_counter() - t)
        s = json.loads(out.stdout.strip().splitlines()[-1])
        if s.get("files_changed") != 1 or not s.get("run_ok", True):
            bad.append(f"index: {s.get('files_changed')} changed, run_ok {s.get('run_ok')}, {s.get('run_error')}")
        print(f"  edit {i + 1}: codeintel watch {watch_s[-1]:5.2f} s   codeintel index {index_s[-1]:5.2f} s", flush=True)
    if bad:
        raise SystemExit("a measured run did not do what was measured: " + "; ".join(bad))
    return {"index_s": [round(x, 2) for x in index_s], "watch_s": [round(x, 2) for x in watch_s]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--db", required=True)
    ap.add_argument("--dagster-home", default=None)
    ap.add_argument("--edit", default="json/encoder.py")
    ap.add_argument("--n", type=int, default=3)
    args = ap.parse_args()
    repo = Path(args.repo).resolve()
    env = dict(os.environ, CODEINTEL_DB=str(Path(args.db).resolve()))
    if args.dagster_home:
        env["DAGSTER_HOME"] = str(Path(args.dagster_home).resolve())
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    r = compare(repo, env, repo / args.edit, args.n, [])
    print(f"median: codeintel index {statistics.median(r['index_s']):.2f} s, codeintel watch "
          f"{statistics.median(r['watch_s']):.2f} s (edit written -> summary printed)")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
