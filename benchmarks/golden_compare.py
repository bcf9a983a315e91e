"""Golden comparison of every per-file output row: prove a change to the extractors changed no output.

Runs ``codeintel_assets.pipeline.extract_file`` in-process over a fixed sample of the installed
standard library (every 7th file, plus the files that fail to compile, plus the largest files) and
writes one canonical digest per (table, file): rows sorted by the table's contract key (ties broken
by the whole row), as a repr of the sorted pylist, hashed with SHA-256. ``dagster_run_id`` is the
only column excluded (it is None in-process anyway); no table carries timings. The script runs
itself with ``PYTHONHASHSEED=0``: ``py_sym_function_partitions.frees`` (symtable's ``get_frees()``)
follows the hash seed, so without a pinned seed two runs of the same code differ.

Usage:
  uv run python benchmarks/golden_compare.py save  GOLDEN.json [--rows ROWS.pkl]
  uv run python benchmarks/golden_compare.py check GOLDEN.json [--rows ROWS.pkl]

``check`` prints every (table, file) whose digest differs and exits 1 if any does; with ``--rows``
(saved by ``save``) it also shows the first differing row of each differing table.
"""

import argparse
import gc
import hashlib
import json
import os
import pickle
import sys
import sysconfig
import time
from pathlib import Path

from codeintel_assets.contracts.common import all_contracts
from codeintel_assets.extract.modules import detect_import_roots, module_name
from codeintel_assets.pipeline import DEFAULT_FILE_BUDGET_SECONDS, extract_file
from codeintel_assets.extract.syntax import DEFAULT_MAX_FILE_BYTES
from codeintel_assets.reconcile import path_to_key

EXCLUDE = {"dagster_run_id"}
BAD = ("test/test_future_stmt/badsyntax_future.py", "test/tokenizedata/bad_coding.py",
       "test/tokenizedata/bad_coding2.py", "test/tokenizedata/badsyntax_3131.py",
       "test/tokenizedata/badsyntax_pep3120.py")


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def sample(root: Path, step: int = 7, n_big: int = 5) -> list[str]:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if "site-packages" not in p.relative_to(root).parts)
    picked = set(files[::step])
    picked.update(f for f in BAD if (root / f).exists())
    picked.update(sorted(files, key=lambda f: -(root / f).stat().st_size)[:n_big])
    return sorted(picked)


def canonical(table, key: tuple[str, ...]) -> list[tuple]:
    names = [n for n in table.schema.names if n not in EXCLUDE]
    rows = table.select(names).to_pylist()
    kidx = [names.index(k) for k in key if k in names]
    tuples = [tuple(r[n] for n in names) for r in rows]

    def sort_key(t):
        return (tuple(repr(t[i]) for i in kidx), repr(t))
    return [tuple(names)] + sorted(tuples, key=sort_key)


def run(files: list[str], root: Path) -> tuple[dict[str, str], dict[str, list], float]:
    keys = {tc.name: tc.key for tc in all_contracts()}
    roots = detect_import_roots(root)
    digests: dict[str, str] = {}
    rows: dict[str, list] = {}
    t0 = time.process_time()
    for rel in files:
        key = path_to_key(rel)
        tables, _ = extract_file(str(root), key, module_name(rel, roots), DEFAULT_MAX_FILE_BYTES,
                                 budget_seconds=DEFAULT_FILE_BUDGET_SECONDS)
        for name, t in sorted(tables.items()):
            canon = canonical(t, keys[name])
            digests[f"{name}|{rel}"] = hashlib.sha256(repr(canon).encode("utf-8", "backslashreplace")).hexdigest()
            rows[f"{name}|{rel}"] = canon
    return digests, rows, time.process_time() - t0


def main() -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # symtable's Function.get_frees() order follows set iteration (the hash seed): pin the seed so
        # two runs of unchanged code agree.
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("save", "check"))
    ap.add_argument("golden")
    ap.add_argument("--rows", help="pickle of the canonical rows (save: write, check: read to show diffs)")
    ap.add_argument("--step", type=int, default=7)
    a = ap.parse_args()
    root = stdlib_root()
    files = sample(root, a.step)
    gc.disable()  # as the pass does (extract_chunk)
    digests, rows, cpu = run(files, root)
    print(f"{len(files)} files, {len(digests)} (table, file) digests, {cpu:.1f}s CPU", file=sys.stderr)
    if a.mode == "save":
        Path(a.golden).write_text(json.dumps(digests, indent=0, sort_keys=True))
        if a.rows:
            with open(a.rows, "wb") as fh:
                pickle.dump(rows, fh)
        return 0
    golden = json.loads(Path(a.golden).read_text())
    old_rows = None
    if a.rows:
        with open(a.rows, "rb") as fh:
            old_rows = pickle.load(fh)
    # A sample with another --step: only the pairs both hold are compared (the rest is not a difference).
    missing = sorted(set(golden) ^ set(digests)) if a.step == 7 else sorted(set(digests) - set(golden))
    diff = missing + sorted(k for k in set(golden) & set(digests) if golden[k] != digests[k])
    for k in diff:
        print("DIFF", k)
        if old_rows is not None and k in old_rows and k in rows:
            old, new = old_rows[k], rows[k]
            if old[0] != new[0]:
                print("  columns", old[0], "->", new[0])
            print(f"  rows {len(old)} -> {len(new)}")
            for i, (x, y) in enumerate(zip(old, new)):
                if x != y:
                    print("  old", x)
                    print("  new", y)
                    for n, u, v in zip(old[0], x, y):
                        if u != v:
                            print(f"    {n}: {u!r} -> {v!r}")
                    break
    print(f"compared {len(set(golden) & set(digests))} (table, file) pairs; {len(diff)} differences")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
