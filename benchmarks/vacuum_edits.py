"""What DuckDB's vacuum costs an edit's checkpoint, and what deferring it (resources/vacuum.py) leaves behind.

Usage: uv run python benchmarks/vacuum_edits.py --db INDEXED.duckdb [--files 40] [--rounds 3]

On two copies of an indexed database (for example the one `bench_stdlib.py --keep DIR` leaves), the same edits
in the same order: each replaces one file's rows in every table with a ``path`` column (delete, then append the
same rows, as an incremental index does) and checkpoints, ``--rounds`` times over ``--files`` files (picked by
a hash of their path, the same on both copies). Copy A with DuckDB's default (vacuum at every checkpoint), copy
B with vacuum deferred (``max_vacuum_tasks = 0``), then one checkpoint that may vacuum, as the run after a growth
step does. Prints the mean checkpoint seconds (first edit of a file, later edits), the used blocks after the edits and
after B's vacuum, and the ratio.
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from resources.vacuum import DUCKDB_DEFAULT, used_blocks


def _tables(c) -> tuple[list[str], dict[str, list[str]]]:
    tables = [r[0] for r in c.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'path' AND NOT internal "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE NOT temporary) ORDER BY 1").fetchall()]
    generated: dict[str, list[str]] = {}
    for t, col in c.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE column_default IS NOT NULL "
                            "AND NOT internal").fetchall():
        generated.setdefault(t, []).append(col)
    return tables, generated


def _rewrite(c, path: str, tables, generated) -> None:
    c.execute("BEGIN")
    for t in tables:
        keep = f" EXCLUDE ({', '.join(generated[t])})" if t in generated else ""
        c.execute(f'CREATE TEMP TABLE __k AS SELECT *{keep} FROM "{t}" WHERE path = ?', [path])
        c.execute(f'DELETE FROM "{t}" WHERE path = ?', [path])
        c.execute(f'INSERT INTO "{t}" BY NAME SELECT * FROM __k')
        c.execute("DROP TABLE __k")
    c.execute("COMMIT")


def edits(db: Path, files: int, rounds: int, deferred: bool) -> dict:
    with duckdb.connect(str(db)) as c:
        tables, generated = _tables(c)
        paths = [r[0] for r in c.execute(f"SELECT path FROM py_files ORDER BY md5(path) LIMIT {files}").fetchall()]
        before = used_blocks(c)
        if deferred:
            c.execute("SET max_vacuum_tasks = 0")
        first, later = [], []
        for r in range(rounds):
            for p in paths:
                _rewrite(c, p, tables, generated)
                t = time.perf_counter()
                c.execute("CHECKPOINT")
                (first if r == 0 else later).append(time.perf_counter() - t)
        out = {"before": before, "after": used_blocks(c), "first": first, "later": later}
        if deferred:  # the run after the growth step: one checkpoint that may vacuum
            c.execute(DUCKDB_DEFAULT)
            _rewrite(c, paths[0], tables, generated)
            t = time.perf_counter()
            c.execute("CHECKPOINT")
            out["vacuum_s"] = time.perf_counter() - t
            out["after_vacuum"] = used_blocks(c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="codeintel-vacuum-") as tmp:
        res = {}
        for name, deferred in (("default", False), ("deferred", True)):
            copy = Path(tmp) / f"{name}.duckdb"
            shutil.copyfile(args.db, copy)
            res[name] = edits(copy, args.files, args.rounds, deferred)
            copy.unlink()
    for name, r in res.items():
        total = sum(r["first"]) + sum(r["later"])
        print(f"{name:9s} checkpoints: first edit of a file mean {statistics.mean(r['first']):.3f} s "
              f"(max {max(r['first']):.2f}), later edits mean "
              f"{statistics.mean(r['later']) if r['later'] else 0:.3f} s, total {total:.1f} s; used blocks "
              f"{r['before']} -> {r['after']} ({r['after'] / r['before'] - 1:+.1%})")
    d = res["deferred"]
    print(f"deferred, then one vacuuming checkpoint: {d['vacuum_s']:.2f} s, used blocks -> {d['after_vacuum']} "
          f"({d['after_vacuum'] / d['before'] - 1:+.1%}); checkpoint seconds with vacuum deferred, its one vacuum "
          f"included: {sum(d['first']) + sum(d['later']) + d['vacuum_s']:.1f} against "
          f"{sum(res['default']['first']) + sum(res['default']['later']):.1f}")


if __name__ == "__main__":
    main()
