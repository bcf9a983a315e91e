"""Index the installed CPython standard library with `codeintel index` and compare to the raw floor.

The raw floor is the bare CPython work over the same files, timed in the same run: ``compile`` +
``symtable.symtable`` + ``ast.parse`` + ``dis.get_instructions`` over every code object. The script
copies the standard library to a temporary directory (so it can edit a file for the incremental
measurement), then runs, each in a fresh process:

  1. full index (fresh DuckDB file and Dagster home)   -> seconds, ratio to the floor, peak memory,
                                                          and where its wall time went (run_phases.py)
  2. unchanged re-run                                  -> seconds
  3. one file edited                                   -> seconds
  4. the same file edited three times more, each time with a resident `codeintel watch` (save -> summary)
     and with `codeintel index` (process start -> end), alternating (watch_edit.py)

Usage:  uv run python benchmarks/bench_stdlib.py [--limit N] [--workers W] [--keep DIR]
        [--source DIR [--edit REL]]   (another code base instead of the standard library, for example an
        installed package: --source .venv/lib/python3.13/site-packages/pandas --edit core/reshape/merge.py;
        it is copied under its own directory name, so a package keeps its import name)
Peak memory is the largest sum of RSS over the `codeintel` process tree (sampled every 0.5 s).
"""

import argparse
import ast
import dis
import json
import os
import shutil
import statistics
import subprocess
import symtable
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
from pathlib import Path


def stdlib_files(root: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.relative_to(root).parts)
    return files[:limit] if limit else files


def raw_floor(files: list[Path]) -> tuple[float, int]:
    """Seconds for compile + symtable + ast.parse + get_instructions over every code object."""
    warnings.simplefilter("ignore")
    sources = []
    for p in files:
        try:
            sources.append((str(p), p.read_bytes()))
        except OSError:
            pass
    t0 = time.perf_counter()
    n_instr = 0
    for name, data in sources:
        try:
            code = compile(data, name, "exec", dont_inherit=True, optimize=0)
            symtable.symtable(data.decode("utf-8"), name, "exec")
            ast.parse(data)
        except Exception:  # noqa: BLE001 - the same files fail in the index, as failure rows
            continue
        stack = [code]
        while stack:
            c = stack.pop()
            n_instr += sum(1 for _ in dis.get_instructions(c))
            stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))
    return time.perf_counter() - t0, n_instr


def _tree_rss_kb(pid: int) -> int:
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                pids.extend(int(x) for x in fh.read().split())
        except OSError:
            pass
    return total


def timed_index(repo: Path, env: dict, extra: list[str]) -> tuple[float, int, dict]:
    cmd = [sys.executable, "-m", "codeintel_assets.cli", "index", str(repo), "--json", *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.5)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    stop.set()
    th.join()
    seconds = time.perf_counter() - t0
    lines = out.strip().splitlines()
    if not lines:
        raise SystemExit(f"codeintel index produced no summary (exit {proc.returncode}):\n{err[-3000:]}")
    summary = json.loads(lines[-1])
    if not summary.get("run_ok", True):  # a measurement of a failed run is no measurement: say so, loudly
        FAILED_RUNS.append(summary.get("run_error"))
        print(f"RUN FAILED ({' '.join(extra)}): {summary.get('run_error')}", flush=True)
    return seconds, peak[0], summary


FAILED_RUNS: list = []  # run_error of every timed `codeintel index` whose run failed (the script then exits 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="only the first N files (sorted)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    ap.add_argument("--source", help="index this directory instead of the standard library")
    ap.add_argument("--edit", help="the file (relative to the source) the one-file measurement edits")
    args = ap.parse_args()

    src_root = Path(args.source).resolve() if args.source else Path(sysconfig.get_paths()["stdlib"])
    work = Path(args.keep or tempfile.mkdtemp(prefix="codeintel-bench-"))
    repo = work / (src_root.name if args.source else "stdlib")
    if repo.exists():
        shutil.rmtree(repo)
    files = stdlib_files(src_root, args.limit)
    for p in files:
        dst = repo / p.relative_to(src_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dst)
    copied = stdlib_files(repo, None)
    n_lines = sum(p.read_bytes().count(b"\n") for p in copied)
    print(f"python {sys.version.split()[0]}, {len(copied)} files, {n_lines:,} lines from {src_root}")

    floor, n_instr = raw_floor(copied)
    print(f"raw floor (compile + symtable + ast.parse + dis.get_instructions): {floor:.1f}s, {n_instr:,} instructions")

    env = dict(os.environ, DAGSTER_HOME=str(work / "dagster_home"), CODEINTEL_DB=str(work / "codeintel.duckdb"))
    # Measure start-up as a user's machine has it: with .pyc caching (some sandboxes set this variable,
    # which recompiles the project's own modules on every `codeintel` start).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for d in (work / "dagster_home",):
        shutil.rmtree(d, ignore_errors=True)
    Path(env["CODEINTEL_DB"]).unlink(missing_ok=True)
    extra = ["--workers", str(args.workers)] if args.workers else []

    full_s, full_peak, summary = timed_index(repo, env, extra)
    print(f"\nfull index:      {full_s:7.1f}s  ratio to floor {full_s / floor:.2f}  peak RSS {full_peak / 1024:,.0f} MiB"
          f"  (files failed {summary['files_failed']}, checks passed {summary['checks_passed']}, failed {summary['checks_failed']}, warned {summary.get('checks_warned', 0)})")
    print("where the full index's wall time went (benchmarks/run_phases.py, from the run's event log):")
    from dagster import DagsterInstance
    from run_phases import print_phases  # this directory is sys.path[0] when the script runs
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    try:
        print_phases(instance, summary["run_id"], full_s)
    finally:
        instance.dispose()
    same_s, _, s2 = timed_index(repo, env, extra)
    print(f"unchanged rerun: {same_s:7.1f}s  (changed {s2['files_changed']}, run {s2['run_id']})")
    target = repo / (args.edit or "json/encoder.py")
    if not target.exists():
        target = copied[len(copied) // 2]
    target.write_text(target.read_text() + "\n_codeintel_bench_marker = 1\n")
    one_s, _, s3 = timed_index(repo, env, extra)
    print(f"one file edited: {one_s:7.1f}s  (changed {s3['files_changed']}: {target.relative_to(repo)})")
    from watch_edit import compare  # this directory is sys.path[0] when the script runs
    print("one file edited, a resident `codeintel watch` against `codeintel index` (benchmarks/watch_edit.py):")
    edits = compare(repo, env, target, 3, extra)
    watch_s, index_s = statistics.median(edits["watch_s"]), statistics.median(edits["index_s"])
    print(f"  median: codeintel watch {watch_s:.2f}s (save -> summary), codeintel index {index_s:.2f}s")
    size_before = Path(env["CODEINTEL_DB"]).stat().st_size
    full2_s, _, s4 = timed_index(repo, env, extra + ["--full"])
    size_after = Path(env["CODEINTEL_DB"]).stat().st_size
    print(f"--full re-index: {full2_s:7.1f}s  database {size_before / 2**20:,.0f} MiB -> {size_after / 2**20:,.0f} MiB "
          f"({100 * (size_after - size_before) / size_before:+.1f}%)")
    t = summary.get("timings", {})
    print("\nextraction CPU per plane (all workers) and its ratio to the floor:")
    for plane, sec in t.get("plane_cpu_s", {}).items():
        print(f"  {plane:<10} {sec:7.1f}s  {sec / floor:5.2f}x")
    for k in ("gates_cpu_seconds", "read_cpu_seconds", "delete_seconds"):
        if k in t:
            print(f"  {k:<26} {t[k]:7.1f}s")
    print("DuckDB write seconds per table (one transaction per batch, attributed by rows):")
    for table, sec in sorted(t.get("write_s", {}).items(), key=lambda kv: -kv[1]):
        print(f"  {table:<26} {sec:7.2f}s")
    print("\nrows per table:")
    for t, n in summary["rows"].items():
        print(f"  {t:<26} {n:>12,}")
    print("\nchecks (full run):")
    for c in summary["checks"]:
        status = "PASS" if c["passed"] else ("FAIL" if c["severity"] == "ERROR" else "WARN")
        print(f"  {status} {c['check']:<26} {c['metadata']}")
    if summary["failed_files"]:
        print("\nfailed files (failure rows, the run went on):")
        for f in summary["failed_files"]:
            print(f"  {f}")
    print(json.dumps({"files": len(copied), "floor_s": round(floor, 2), "full_s": round(full_s, 2),
                      "ratio": round(full_s / floor, 2), "peak_rss_mib": round(full_peak / 1024),
                      "unchanged_s": round(same_s, 2), "one_file_s": round(one_s, 2),
                      "one_file_watch_s": round(watch_s, 2), "one_file_index_s": round(index_s, 2), "full_again_s": round(full2_s, 2),
                      "db_mib_before_full": round(size_before / 2**20), "db_mib_after_full": round(size_after / 2**20),
                      "timings": summary.get("timings", {})}))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if FAILED_RUNS:
        raise SystemExit(f"{len(FAILED_RUNS)} timed run(s) failed: {FAILED_RUNS}")


if __name__ == "__main__":
    main()
