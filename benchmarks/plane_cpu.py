"""Per-plane extraction CPU over a stdlib sample, in-process (``pipeline.extract_file``'s ``seconds``),
with the raw floor (compile + symtable + ast.parse + dis.get_instructions) over the same files.

Usage: uv run python benchmarks/plane_cpu.py [--step 10] [--repeat 1] [--profile OUT.prof]
Prints one JSON line: CPU seconds per plane, the floor, and each plane's ratio to the floor.
"""

import argparse
import ast
import dis
import gc
import json
import symtable
import sys
import sysconfig
import time
import warnings
from pathlib import Path

from codeintel_assets.extract.modules import detect_import_roots, module_name
from codeintel_assets.extract.syntax import DEFAULT_MAX_FILE_BYTES
from codeintel_assets.pipeline import extract_file
from codeintel_assets.reconcile import path_to_key


def floor(root: Path, files: list[str]) -> float:
    warnings.simplefilter("ignore")
    srcs = [(str(root / f), (root / f).read_bytes()) for f in files]
    t0 = time.process_time()
    for name, data in srcs:
        try:
            code = compile(data, name, "exec", dont_inherit=True, optimize=0)
            symtable.symtable(data.decode("utf-8"), name, "exec")
            ast.parse(data)
        except Exception:  # noqa: BLE001
            continue
        stack = [code]
        while stack:
            c = stack.pop()
            sum(1 for _ in dis.get_instructions(c))
            stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))
    return time.process_time() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", type=int, default=10)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile")
    a = ap.parse_args()
    root = Path(sysconfig.get_paths()["stdlib"])
    allf = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "site-packages" not in p.relative_to(root).parts)
    files = allf[a.offset::a.step]
    roots = detect_import_roots(root)
    names = {f: module_name(f, roots) for f in files}
    gc.disable()
    fl = min(floor(root, files) for _ in range(a.repeat))
    prof = None
    if a.profile:
        import cProfile
        prof = cProfile.Profile()
    best: dict[str, float] = {}
    for _ in range(a.repeat):
        seconds: dict[str, float] = {}
        if prof:
            prof.enable()
        for f in files:
            extract_file(str(root), path_to_key(f), names[f], DEFAULT_MAX_FILE_BYTES, seconds=seconds)
        if prof:
            prof.disable()
        gc.collect()
        for k, v in seconds.items():
            best[k] = min(best.get(k, v), v)
    if prof:
        prof.dump_stats(a.profile)
    total = sum(v for k, v in best.items())
    out = {"files": len(files), "floor": round(fl, 3), "total": round(total, 3), "ratio": round(total / fl, 3)}
    out.update({k: round(v, 3) for k, v in best.items()})
    out.update({k + "_x": round(v / fl, 3) for k, v in best.items()})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
