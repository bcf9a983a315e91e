"""Extraction CPU per plane against the raw floor, in one process (no Dagster, no DuckDB): quick to rerun.

The floor is bare ``compile`` + ``symtable.symtable`` + ``ast.parse`` + ``dis.get_instructions`` over
every code object of the same files, measured in the same run (as in bench_stdlib.py). Each plane's
CPU is what ``pipeline.extract_file`` charges it (a derivation is charged to the first plane that
needs it).

Usage:  uv run python benchmarks/plane_cpu.py [--step N] [--root DIR] [--repeat R]
        (--step 8: every 8th file of the installed standard library)
"""

import argparse
import gc
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_stdlib import raw_floor, stdlib_files  # noqa: E402
from codeintel_assets.pipeline import extract_file  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=8)
    ap.add_argument("--root", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    root = Path(args.root)
    files = stdlib_files(root, None)[::args.step]
    keys = [str(p.relative_to(root)) for p in files]
    best_floor = best = None
    for _ in range(args.repeat):
        c0 = time.process_time()
        raw_floor(files)
        floor = time.process_time() - c0  # CPU, like the planes' figures (the machine may be busy)
        seconds: dict[str, float] = {}
        gc.disable()
        t0 = time.process_time()
        for k in keys:
            extract_file(str(root), k, k[:-3].replace("/", "."), 10 ** 8, seconds=seconds)
            pass
        total = time.process_time() - t0
        gc.enable()
        if best is None or total < best[0]:
            best = (total, seconds)
        best_floor = floor if best_floor is None else min(best_floor, floor)
    total, seconds = best
    print(f"{len(keys)} files, floor {best_floor:.2f} s, pass {total:.2f} s = {total / best_floor:.2f} x floor")
    for name, s in seconds.items():
        print(f"  {name:10s} {s:7.2f} s  {s / best_floor:5.2f} x floor")


if __name__ == "__main__":
    main()
