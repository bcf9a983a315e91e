"""Where a one-file edit's SQL goes: every statement of an in-process `codeintel index`, timed.

Usage: uv run python benchmarks/edit_statements.py REPO --db DB [--dagster-home DIR] [--edit REL] [--profile]
       [--top N] [--no-append]

REPO must already be indexed into DB (for example the copy `bench_stdlib.py --keep DIR` leaves). The script appends
one line to REPO/REL (default json/encoder.py), runs `codeintel index` in this process and times every statement
that goes through `resources.duck.run` (the link's, the digests', the writes' deletes; not `cpg_integrity`'s, which
calls DuckDB directly). It prints the statements' total, those that made no row (a `CREATE ... TEMP TABLE` left
empty, an `INSERT` or `DELETE` of none: candidates for a guard, docs/cpg.md) and the costliest statements, summed
over repeats of the same text. ``--profile``: DuckDB's JSON profiler on each statement, for planning time,
execution CPU, rows scanned, the scans per table and the statements that scan most (it slows the statements down;
compare profiled runs with profiled runs). The edit stays in the file. ``--no-append``: index the edit already made
in REPO (a method's body, say) instead of appending a line to REL.
"""

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_WRITES = re.compile(r"^\s*(?:--[^\n]*\n\s*)*(INSERT|DELETE)\b", re.I)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo")
    ap.add_argument("--db", required=True)
    ap.add_argument("--dagster-home", help="DAGSTER_HOME of the index (default: the instance beside the database)")
    ap.add_argument("--edit", default="json/encoder.py")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-append", action="store_true",
                    help="index the edit already made in REPO (a method's body, say) instead of appending a line")
    args = ap.parse_args()
    if args.dagster_home:
        os.environ["DAGSTER_HOME"] = args.dagster_home

    import resources.duck as duck
    from codeintel_assets import cli
    from codeintel_assets.link import _MAKES_TEMP  # how the link tells a statement that makes a temporary table

    run = duck.run
    profile_file = Path(tempfile.mkdtemp()) / "profile.json"
    records = []  # (seconds, rows made or None, text)
    totals: collections.Counter = collections.Counter()
    scans: collections.Counter = collections.Counter()
    by_statement: dict = collections.defaultdict(collections.Counter)  # text -> rows scanned per table

    def walk(op: dict) -> None:
        if op.get("type") == "TABLE_SCAN":
            scans[op.get("extra_info", {}).get("Table", "?")] += op.get("rows_scanned", 0)
        for child in op.get("children", []):
            walk(child)

    def timed(conn, sql, params=None):
        if args.profile:
            conn.execute("PRAGMA enable_profiling = 'json'")
            conn.execute(f"PRAGMA profiling_output = '{profile_file}'")
        t = time.perf_counter()
        try:
            result = run(conn, sql, params)
        finally:
            seconds = time.perf_counter() - t
            if args.profile:
                conn.execute("PRAGMA disable_profiling")
        made = _MAKES_TEMP.match(sql)
        rows = None
        if made and made.group(1) == "TABLE":  # (a view's rows are not made: not counted)
            rows = conn.execute(f"SELECT count(*) FROM {made.group(2)}").fetchall()[0][0]
        elif _WRITES.match(sql) and result:
            rows = result[0][0]
        records.append((seconds, rows, " ".join(sql.split())))
        if args.profile and profile_file.exists():
            p = json.loads(profile_file.read_text())
            query = p.get("query", {})
            totals["planning_s"] += sum(p.get(k, {}).get("total_time", 0.0)
                                        for k in ("planner", "optimizer", "physical_planner"))
            totals["execution_cpu_s"] += query.get("cpu_time", 0.0)
            totals["rows_scanned"] += query.get("total_rows_scanned", 0)
            before = collections.Counter(scans)
            for op in p.get("operator", []):
                walk(op)
            by_statement[" ".join(sql.split())[:140]].update(scans - before)
            profile_file.unlink()
        return result

    duck.run = timed
    target = Path(args.repo) / args.edit
    if not args.no_append:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"_edit_statements_{os.getpid()} = 1\n")
    t0 = time.perf_counter()
    try:
        cli.main(["index", args.repo, "--db", args.db, "--json", "--quiet"])
    except SystemExit:
        pass
    wall = time.perf_counter() - t0
    duck.run = run

    total = sum(r[0] for r in records)
    empty = [r for r in records if r[1] == 0]
    print(f"edit of {args.edit}: run {wall:.2f} s in this process; {len(records)} statements {total:.2f} s; "
          f"{len(empty)} made no row, {sum(r[0] for r in empty):.2f} s")
    if args.profile:
        print("DuckDB profiler: " + ", ".join(f"{k} {v:,.2f}" if isinstance(v, float) else f"{k} {v:,}"
                                              for k, v in totals.items()))
        print("rows scanned per table: " + ", ".join(f"{t.split('.')[-1]} {n:,}" for t, n in scans.most_common(10)))
        print("the statements that scan most rows (rows scanned: the largest tables):")
        for text, c in sorted(by_statement.items(), key=lambda kv: -sum(kv[1].values()))[:args.top]:
            tables = ", ".join(f"{t.split('.')[-1]} {n:,}" for t, n in c.most_common(3))
            print(f"{sum(c.values()):>11,}  {tables}  {text[:90]}")
    summed: dict = collections.defaultdict(lambda: [0, 0.0, 0])
    for seconds, rows, text in records:
        s = summed[text[:140]]
        s[0] += 1
        s[1] += seconds
        s[2] += rows or 0
    print(f"the {args.top} costliest statements (ms, times run, rows made):")
    for text, (n, seconds, rows) in sorted(summed.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{seconds * 1000:8.1f}  x{n:<3d} {rows:>7}  {text}")


if __name__ == "__main__":
    main()
