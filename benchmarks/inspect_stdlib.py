"""The inspect plane on real, importable code: standard-library packages, in place.

Usage: uv run python benchmarks/inspect_stdlib.py [--packages json email ...] [--workers 1] [--keep DIR]

1. ``codeintel index <stdlib> --inspect`` with every other top-level entry of the standard library
   excluded (the files stay where Python imports them from, so objects anchor to the indexed files);
2. the inspect step alone again (``inspect_keys`` over the indexed files: what ``--inspect`` adds), once cold
   (the first call in this process pays lazy library imports: pyarrow imports pandas on its first list
   conversion) and ``--repeat`` times warm, as inside ``codeintel index`` after the static pass;
3. the bare loop: one plain process that imports the same modules and calls ``inspect.signature`` on
   every function and class each defines (and their methods), timed inside the process (best of as many
   runs as the step's);
4. agreement of every stored ``sig_text`` (raw and wrapped) and source extent with ``inspect.signature`` /
   ``inspect.getsourcelines`` in a plain interpreter (``tests/inspect_oracle.py``);
5. files created or changed outside the sandbox: the stdlib tree, the working directory and HOME,
   listed before and after.

Prints a report and one JSON line.
"""

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

DEFAULT = ["json", "email", "asyncio", "collections", "dataclasses.py", "enum.py", "functools.py", "logging",
           "argparse.py"]

BARE = r"""
import importlib, inspect, json, sys, time
mods = json.loads(sys.argv[1])
t0 = time.perf_counter()
n = ok = 0
for name in mods:
    try:
        m = importlib.import_module(name)
    except Exception:
        continue
    todo = [v for v in vars(m).values() if (inspect.isfunction(v) or inspect.isclass(v))
            and getattr(v, "__module__", None) == name]
    for c in [v for v in todo if inspect.isclass(v)]:
        todo.extend(f for f in vars(c).values() if inspect.isfunction(f))
    for f in todo:
        n += 1
        try:
            inspect.signature(f)
            ok += 1
        except (TypeError, ValueError):
            pass
print(json.dumps({"seconds": time.perf_counter() - t0, "callables": n, "signatures": ok}))
"""

def listing(*dirs: Path) -> dict[str, float]:
    out = {}
    for d in dirs:
        for dirpath, _dirs, files in os.walk(d):
            for f in files:
                p = os.path.join(dirpath, f)
                try:
                    out[p] = os.stat(p).st_mtime
                except OSError:
                    pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", nargs="*", default=DEFAULT)
    ap.add_argument("--workers", type=int, default=1, help="sandbox workers (1: the per-module cost; 0: one per CPU)")
    ap.add_argument("--keep", default="")
    ap.add_argument("--repeat", type=int, default=2, help="warm runs of the step after the first (best of them is "
                    "reported; the bare loop runs as many times + 1, best of)")
    args = ap.parse_args()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    keep = set(args.packages)
    excludes = [e.name + ("/" if e.is_dir() else "") for e in stdlib.iterdir() if e.name not in keep]
    work = Path(args.keep or tempfile.mkdtemp(prefix="inspect-bench-"))
    db = work / "inspect.duckdb"
    cwd = Path.cwd()
    before = listing(stdlib, cwd, Path.home())
    cmd = [str(Path(sys.executable).parent / "codeintel"), "index", str(stdlib), "--db", str(db), "--json",
           "--quiet", "--inspect", "--inspect-workers", str(args.workers)]
    for e in excludes:
        cmd += ["--exclude", e]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    index_wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"codeintel index failed ({p.returncode}): {p.stderr[-2000:]}")
    summary = json.loads(p.stdout.strip().splitlines()[-1])

    import duckdb

    from codeintel_assets.extract.modules import detect_import_roots
    from codeintel_assets.inspect_step import InspectSettings, inspect_keys
    from codeintel_assets.reconcile import module_names
    from resources.store import CodeIntelStore
    store = CodeIntelStore(database=str(db))
    with duckdb.connect(str(db), read_only=True) as c:
        keys = [r[0] for r in c.execute("SELECT path FROM py_files ORDER BY path").fetchall()]
    names = module_names(str(stdlib), keys)
    walls = []
    for _ in range(1 + args.repeat):  # the first in this process is cold (its libraries' lazy imports)
        t0 = time.perf_counter()
        res = inspect_keys(store, str(stdlib), keys, names, InspectSettings(workers=args.workers),
                           detect_import_roots(str(stdlib)), "bench")
        walls.append(time.perf_counter() - t0)
    cold_wall = walls[0]
    step_wall = min(walls[1:]) if args.repeat else cold_wall
    after = listing(stdlib, cwd, Path.home())
    created = sorted(set(after) - set(before) - {str(db), str(db) + ".wal"})
    created = [f for f in created if not f.startswith(str(work))]
    modified = sorted(f for f in set(after) & set(before) if after[f] != before[f] and not f.startswith(str(work)))

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.inspect_oracle import attribute_paths, compare, oracle
    with duckdb.connect(str(db), read_only=True) as c:
        mods = [r[0] for r in c.execute("SELECT module_name FROM py_inspect_import_attempts WHERE attempted AND ok "
                                        "ORDER BY path").fetchall()]
        objs = attribute_paths(c)
        want = oracle(str(stdlib), objs)
        compared, agree, disagree = compare(c, objs, want)
        rows = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for (t,) in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'py_inspect_%' ORDER BY 1").fetchall()}
    bares = [json.loads(subprocess.run([sys.executable, "-I", "-c", BARE, json.dumps(mods)], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(1 + args.repeat)]
    bare = min(bares, key=lambda b: b["seconds"])  # best of as many runs as the step's
    check = next((c for c in summary["checks"] if c["check"] == "inspect_quality"), {"metadata": {}})
    m = check["metadata"]
    out = {
        "packages": args.packages, "files": len(keys), "modules_attempted": res.attempted, "modules_ok": res.ok,
        "modules_skipped": res.skipped, "import_failures": res.failures,
        "signature_coverage": m.get("signature_coverage"), "anchor_rate": m.get("anchor_rate"),
        "objects": res.objects, "objects_with_source": res.with_source, "objects_anchored": res.anchored,
        "oracle_objects": len(objs), "oracle_found": len(want),
        "facts_compared": compared, "facts_agree": agree, "agreement": round(agree / compared, 6) if compared else None,
        "disagreements": disagree[:10], "index_wall_s": round(index_wall, 2), "inspect_step_wall_s": round(step_wall, 2),
        "inspect_step_cold_wall_s": round(cold_wall, 2),
        "bare_loop_s": round(bare["seconds"], 3), "bare_callables": bare["callables"],
        "ratio_step_to_bare": round(step_wall / bare["seconds"], 2), "rows": rows,
        "files_created_outside_sandbox": created[:20], "files_modified_outside_sandbox": modified[:20],
    }
    print(f"{out['modules_ok']}/{out['modules_attempted']} modules imported ({out['modules_skipped']} not selected); "
          f"signature coverage {out['signature_coverage']}, anchoring {out['anchor_rate']} "
          f"({out['objects_anchored']}/{out['objects_with_source']}); signatures + source extents agreeing with a plain "
          f"interpreter: {agree}/{compared}")
    print(f"inspect step {step_wall:.2f}s (best of {args.repeat or 1}; the first in the process {cold_wall:.2f}s) "
          f"vs bare loop {bare['seconds']:.3f}s (best of {len(bares)}): ratio {out['ratio_step_to_bare']}; "
          f"files created outside the sandbox: {len(created)}, modified: {len(modified)}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
