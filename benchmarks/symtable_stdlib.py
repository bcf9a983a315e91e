"""Symtable plane over the installed CPython standard library: gates, anchor coverage, time.

    uv run python benchmarks/symtable_stdlib.py [--workers N] [--limit N] [--json OUT]

Drives the extractors directly (no Dagster): per file, the bytecode plane (for its code units, not
timed), then the symtable plane (timed), and beside it the raw floor - ``symtable.symtable`` plus
``ast.parse`` of the same bytes - so the ratio is robust to machine load. The three gates run on
each file's tables. Excludes site-packages. The cyclic GC is off during a chunk, as in
``pipeline.extract_chunk``. Also checked per file: the crosswalk the bytecode plane would compute
(``crosswalk.code_unit_scope_ids``) equals the symtable plane's, and a paired scope's AST anchor
equals its code unit's ``ast_node_id``.
"""

import argparse
import ast
import json
import os
import sys
import sysconfig
import time
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def stdlib_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root).as_posix()) for p in root.rglob("*.py") if "site-packages" not in p.parts)


def run_chunk(root: str, rels: list[str]) -> dict:
    import gc
    gc.disable()  # as pipeline.extract_chunk does: no reference cycles worth collecting per file
    try:
        return _run_chunk(root, rels)
    finally:
        gc.enable()
        gc.collect()


def _run_chunk(root: str, rels: list[str]) -> dict:
    warnings.simplefilter("ignore")
    from codeintel_assets.extract.bytecode import extract_bytecode
    from codeintel_assets.extract.crosswalk import code_unit_scope_ids
    from codeintel_assets.extract.symtable import read_symtable
    from codeintel_assets.extract.symtable_plane import extract_symtable
    from codeintel_assets.extract.syntax import read_source
    from codeintel_assets.validate.binder_completeness import binder_completeness
    from codeintel_assets.validate.binding_resolution import binding_resolution
    from codeintel_assets.validate.symtable_vs_code import symtable_vs_code

    out = {"files": 0, "t_plane": 0.0, "t_floor_symtable": 0.0, "t_floor_parse": 0.0, "failures": [],
           "findings": defaultdict(list), "metrics": defaultdict(Counter), "anchor": defaultdict(Counter),
           "crosswalk": Counter(), "resolution": Counter(), "site_kinds": Counter(), "binding_kinds": Counter(),
           "edge_kinds": Counter(), "pairing": Counter()}
    for rel in rels:
        src = read_source(root, rel)
        out["files"] += 1
        bc = extract_bytecode(src)
        if src.error is None:
            t0 = time.perf_counter()
            try:
                read_symtable(src.data, rel)
            except Exception:
                pass
            t1 = time.perf_counter()
            try:
                ast.parse(src.data)
            except Exception:
                pass
            t2 = time.perf_counter()
            out["t_floor_symtable"] += t1 - t0
            out["t_floor_parse"] += t2 - t1
        t0 = time.perf_counter()
        f = extract_symtable(src, bc.code_units)
        out["t_plane"] += time.perf_counter() - t0
        st = f.status
        scopes = f["py_sym_scopes"].select(["scope_id", "code_unit_id", "anchor_ast_node_id"]).to_pylist()
        by_cu = {r["code_unit_id"]: r for r in scopes if r["code_unit_id"]}
        if bc.units and st["ok"]:
            ids = code_unit_scope_ids(rel, bc.units, read_symtable(src.data, rel))
            for u, sid in zip(bc.units, ids):
                r = by_cu.get(u.code_unit_id)
                out["pairing"]["code_units"] += 1
                out["pairing"]["bytecode_side_agrees"] += (r["scope_id"] if r else None) == sid
                out["pairing"]["anchor_equals_code_unit_ast_node"] += bool(
                    r and u.ast_ordinal is not None and r["anchor_ast_node_id"] == f"{rel}:AST:{u.ast_ordinal}")
        if not st["ok"]:
            out["failures"].append(f"{rel}: {st['error_stage']}: {st['error_type']}: {st['error_msg']}")
        for r in f["py_sym_scopes"].select(["scope_type", "anchor_ast_node_id", "anchor_confidence"]).to_pylist():
            c = out["anchor"][r["scope_type"]]
            c["scopes"] += 1
            c["anchored"] += r["anchor_ast_node_id"] is not None
            c[f"conf_{r['anchor_confidence']:.2f}" if r["anchor_confidence"] is not None else "conf_none"] += 1
        out["crosswalk"].update(f"{k}: {why}" for k, why in zip(
            f["py_sym_code_crosswalk"].column("match_kind").to_pylist(), f["py_sym_code_crosswalk"].column("reason").to_pylist()))
        out["resolution"].update(f["py_sym_name_sites"].column("resolution").to_pylist())
        out["site_kinds"].update(f["py_sym_name_sites"].column("site_kind").to_pylist())
        out["binding_kinds"].update(f["py_sym_bindings"].column("binding_kind").to_pylist())
        out["edge_kinds"].update(f["py_sym_resolution_edges"].column("kind").to_pylist())
        gates = [
            symtable_vs_code(f["py_sym_scopes"], f["py_sym_symbols"], f["py_sym_bindings"],
                             f["py_sym_function_partitions"], bc.code_units),
            binding_resolution(f["py_sym_scopes"], f["py_sym_bindings"], f["py_sym_resolution_edges"]),
            binder_completeness(f["py_sym_bindings"], f["py_sym_name_sites"]),
        ]
        for g in gates:
            out["findings"][g.gate].extend(x.describe() for x in g.findings)
            out["metrics"][g.gate].update({k: v for k, v in g.metrics.items() if isinstance(v, int)})
    return out


def merge(a: dict, b: dict) -> dict:
    for k, v in b.items():
        if isinstance(v, (int, float)):
            a[k] += v
        elif isinstance(v, list):
            a[k].extend(v)
        elif isinstance(v, Counter):
            a[k].update(v)
        else:
            for kk, vv in v.items():
                if isinstance(vv, list):
                    a[k][kk].extend(vv)
                else:
                    a[k][kk].update(vv)
    return a


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    root = Path(sysconfig.get_paths()["stdlib"])
    rels = stdlib_files(root)
    if args.limit:
        rels = rels[:args.limit]
    chunks = [rels[i:i + 40] for i in range(0, len(rels), 40)]
    wall = time.perf_counter()
    total = None
    if args.workers <= 1:
        for ch in chunks:
            r = run_chunk(str(root), ch)
            total = r if total is None else merge(total, r)
    else:
        with ProcessPoolExecutor(args.workers) as pool:
            for r in pool.map(run_chunk, [str(root)] * len(chunks), chunks):
                total = r if total is None else merge(total, r)
    wall = time.perf_counter() - wall
    floor = total["t_floor_symtable"] + total["t_floor_parse"]
    summary = {
        "python": sys.version.split()[0], "stdlib": str(root), "files": total["files"], "cpus": os.cpu_count(),
        "plane_seconds_cpu": round(total["t_plane"], 2),
        "floor_symtable_seconds": round(total["t_floor_symtable"], 2), "floor_parse_seconds": round(total["t_floor_parse"], 2),
        "ratio_to_floor": round(total["t_plane"] / floor, 2) if floor else None,
        "wall_seconds_incl_bytecode": round(wall, 1),
        "failures": total["failures"],
        "findings": {g: len(v) for g, v in total["findings"].items()},
        "metrics": {g: dict(v) for g, v in total["metrics"].items()},
        "anchor_coverage": {t: dict(c) for t, c in sorted(total["anchor"].items())},
        "crosswalk": dict(total["crosswalk"].most_common()),
        "pairing": dict(total["pairing"]),
        "resolution": dict(total["resolution"].most_common()),
        "binding_kinds": dict(total["binding_kinds"].most_common()),
        "edge_kinds": dict(total["edge_kinds"].most_common()),
        "site_kinds": dict(total["site_kinds"].most_common()),
    }
    print(json.dumps(summary, indent=1))
    for g, items in total["findings"].items():
        for x in items[:40]:
            print(f"[{g}] {x}")
    if args.json:
        Path(args.json).write_text(json.dumps({**summary, "all_findings": total["findings"]}, indent=1))


if __name__ == "__main__":
    main()
