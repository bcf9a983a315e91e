"""`codeintel index | check | query | ui`: the command line over the Dagster asset graph."""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

TABLE_ORDER = ["py_files", "py_ast_nodes", "py_tokens", "py_bc_code_units", "py_bc_instructions",
               "py_bc_exception_table", "codeintel_run_meta", "py_bc_blocks", "py_bc_cfg_edges",
               "py_sym_files", "py_sym_scopes", "py_sym_symbols", "py_sym_scope_edges", "py_sym_namespace_edges",
               "py_sym_function_partitions", "py_sym_bindings", "py_sym_resolution_edges", "py_sym_name_sites",
               "py_sym_code_crosswalk"]


def _quiet():
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("dagster").setLevel(logging.WARNING)


def _db(args) -> str:
    from codeintel_assets.assets import default_db
    return str(Path(args.db or default_db()).resolve())


def cmd_index(args) -> int:
    _quiet()
    t0 = time.perf_counter()
    root = Path(args.path).resolve()
    if not root.is_dir():
        print(f"codeintel: {root} is not a directory", file=sys.stderr)
        return 2
    db = _db(args)
    from codeintel_assets.instance import prepare_home
    home = prepare_home()
    from dagster import DagsterInstance

    from codeintel_assets.assets import build_definitions
    from codeintel_assets.assets.partitions import FILES
    from codeintel_assets.assets.sensors import indexed_hashes, range_tags
    from codeintel_assets.contracts import all_contracts
    from codeintel_assets.reconcile import plan_reconcile, scan_repository
    from resources.store import CodeIntelStore, purge_paths

    log = (lambda *a: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    store = CodeIntelStore(database=db)
    instance = DagsterInstance.get()
    disk = scan_repository(root, tuple(args.exclude or ()))
    try:
        indexed = indexed_hashes(store)
    except Exception as exc:
        print(f"codeintel: cannot open {db}: {exc}", file=sys.stderr)
        return 2
    partitions = list(instance.get_dynamic_partitions(FILES.name))
    plan = plan_reconcile(disk, indexed, partitions, full=args.full)
    log(f"codeintel: {root} -> {db}")
    log(f"  {len(plan.seen)} files: {len(plan.added)} new, {len(plan.changed)} changed, "
        f"{len(plan.removed)} removed, {len(plan.unchanged)} unchanged")
    if plan.removed:
        with store.connection() as conn:
            purge_paths(conn, [tc.name for tc in all_contracts() if tc.partitioned], plan.removed)
        for k in plan.removed:
            if instance.has_dynamic_partition(FILES.name, k):
                instance.delete_dynamic_partition(FILES.name, k)
    work = plan.to_materialize
    # Changed files move to the tail of the partition order, so that all work is one contiguous range.
    for k in plan.changed:
        instance.delete_dynamic_partition(FILES.name, k)
    if work:
        instance.add_dynamic_partitions(FILES.name, work)
    checks, run_ok, run_id, run_error = [], True, None, None
    if work:
        if not args.json and not args.quiet:
            os.environ["CODEINTEL_PROGRESS"] = "1"
        defs = build_definitions(str(root), db, workers=args.workers, max_file_bytes=args.max_file_bytes)
        job = defs.resolve_job_def("index_files")
        result = job.execute_in_process(
            instance=instance, tags=range_tags(work), raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        run_id = result.run_id
        # A blocking check that fails fails its step after the rows were written: that is a check
        # failure (exit 1), not a broken run (exit 2).
        failures = [e for e in result.all_events if e.is_step_failure
                    and "DagsterAssetCheckFailedError" not in (e.step_failure_data.error.cls_name or "")]
        if failures:
            run_ok = False
            run_error = "; ".join(str(e.step_failure_data.error.message).strip() for e in failures)
        checks = [{"check": ev.check_name, "asset": ev.asset_key.to_user_string(), "passed": ev.passed,
                   "severity": ev.severity.value, "metadata": {k: v.value for k, v in ev.metadata.items()
                                                                 if k != "first_findings"},
                   "findings": ev.metadata.get("first_findings").value if ev.metadata.get("first_findings") else ""}
                  for ev in result.get_asset_check_evaluations()]
    rows, failed = _summary_from_db(store, work)
    blocking_failed = [c for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    summary = {
        "root": str(root), "db": db, "dagster_home": home, "run_id": run_id,
        "files_seen": len(plan.seen), "files_added": len(plan.added), "files_changed": len(plan.changed),
        "files_removed": len(plan.removed), "files_unchanged": len(plan.unchanged), "files_failed": len(failed),
        "failed_files": failed, "rows": rows,
        "checks_passed": sum(c["passed"] for c in checks), "checks_failed": sum(not c["passed"] for c in checks),
        "checks": [{k: c[k] for k in ("check", "asset", "passed", "severity", "metadata")} for c in checks],
        "run_ok": run_ok, "run_error": run_error, "seconds": round(time.perf_counter() - t0, 2),
    }
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        _print_summary(summary, checks)
    if not run_ok:
        return 2
    return 1 if blocking_failed else 0


def _summary_from_db(store, work: list[str]):
    from resources.store import table_exists
    rows, failed = {}, []
    import gc
    gc.collect()  # drop connections a failed step may have left open (DuckDB refuses mixed configs)
    with store.connection() as conn:
        for t in TABLE_ORDER:
            rows[t] = conn.execute(f'SELECT count(*) FROM main."{t}"').fetchall()[0][0] if table_exists(conn, t) else 0
        if work and table_exists(conn, "py_files"):
            import pyarrow as pa
            conn.register("__work", pa.table({"path": work}))
            for path, stage, etype, msg, line, col in conn.execute(
                    "SELECT path, error_stage, error_type, error_msg, error_lineno, error_col FROM py_files "
                    "WHERE NOT ok AND path IN (SELECT path FROM __work) ORDER BY path").fetchall():
                where = path if line is None else f"{path}:{line}" + ("" if col is None else f":{col}")
                failed.append(f"{where}: {stage} failed: {etype}: {msg}")
            if table_exists(conn, "codeintel_run_meta"):
                for path, etype, msg, line in conn.execute(
                        "SELECT m.path, m.error_type, m.error_msg, m.error_lineno FROM codeintel_run_meta m "
                        "JOIN py_files f USING (path) WHERE f.ok AND NOT m.compile_ok AND m.path IN (SELECT path FROM __work) "
                        "ORDER BY m.path").fetchall():
                    where = path if line is None else f"{path}:{line}"
                    failed.append(f"{where}: compile failed: {etype}: {msg}")
    return rows, failed


def _print_summary(s: dict, checks: list[dict]) -> None:
    out = sys.stdout
    print(f"\nindexed {s['files_seen']} files in {s['seconds']}s  (added {s['files_added']}, changed "
          f"{s['files_changed']}, removed {s['files_removed']}, unchanged {s['files_unchanged']}, failed {s['files_failed']})", file=out)
    for f in s["failed_files"]:
        print(f"  FAILED {f}", file=out)
    print("rows:", file=out)
    for t, n in s["rows"].items():
        print(f"  {t:<28} {n:>12,}", file=out)
    if checks:
        print("checks:", file=out)
        for c in checks:
            status = "PASS" if c["passed"] else ("FAIL" if c["severity"] == "ERROR" else "WARN")
            figures = ", ".join(f"{k}={v}" for k, v in c["metadata"].items())
            print(f"  {status:<4} {c['check']:<26} {c['asset']:<24} {figures}", file=out)
            if not c["passed"] and c["findings"]:
                for line in c["findings"].splitlines()[:10]:
                    print(f"        {line}", file=out)
    else:
        print("checks: nothing changed, no run", file=out)
    if any(not c["passed"] and c["severity"] == "ERROR" for c in checks):
        print("A blocking check failed: its rows are stored, but the planes downstream of it were skipped for "
              "this run's files; the next `codeintel index` indexes those files again.", file=out)
    if s["run_error"]:
        print(f"RUN FAILED: {s['run_error']}", file=out)


def cmd_check(args) -> int:
    _quiet()
    from codeintel_assets.report import run_all_gates, write_junit
    db = _db(args)
    if not Path(db).exists():
        print(f"codeintel: no database at {db} (run `codeintel index` first)", file=sys.stderr)
        return 2
    results = run_all_gates(db)
    for r in results:
        print(r.summary())
        for f in r.findings[:10]:
            print(f"    {f.describe()}")
        if len(r.findings) > 10:
            print(f"    ... {len(r.findings) - 10} more")
    if args.junit:
        write_junit(results, args.junit)
        print(f"JUnit report: {args.junit}")
    failed = [r for r in results if not r.passed and r.blocking]
    print(f"{sum(r.passed for r in results)} passed, {len(failed)} failed")
    return 1 if failed else 0


def cmd_query(args) -> int:
    import duckdb

    from codeintel_assets.presets import PRESETS, cfg_dot
    if args.list_presets or (args.sql is None and args.preset is None):
        for name, (what, _) in PRESETS.items():
            print(f"{name:<20} {what}")
        print(f"{'cfg-dot':<20} the CFG of a code unit (--arg QUALPATH) as Graphviz DOT")
        return 0
    db = _db(args)
    if not Path(db).exists():
        print(f"codeintel query: no database at {db} (run `codeintel index` first)", file=sys.stderr)
        return 2
    conn = duckdb.connect(db, read_only=True)
    try:
        if args.preset == "cfg-dot":
            print(cfg_dot(conn, args.arg or ""))
            return 0
        if args.preset is not None:
            if args.preset not in PRESETS:
                print(f"codeintel query: no preset {args.preset!r} (see --list-presets)", file=sys.stderr)
                return 2
            sql = PRESETS[args.preset][1]
            rel = conn.sql(sql, params={"arg": args.arg} if "$arg" in sql else None)
        else:
            rel = conn.sql(args.sql)
        if rel is None:
            return 0
        if args.json:
            for row in rel.fetchall():
                print(json.dumps(dict(zip(rel.columns, row)), default=str))
        else:
            rel.show(max_rows=args.limit, max_width=200)
    except duckdb.Error as exc:
        print(f"codeintel query: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    return 0


def cmd_ui(args) -> int:
    from codeintel_assets.instance import prepare_home
    prepare_home()
    os.environ["CODEINTEL_DB"] = _db(args)
    os.environ["CODEINTEL_REPO"] = str(Path(args.path).resolve())
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "codeintel_assets.assets.repository",
           "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"Dagster UI on http://127.0.0.1:{args.port}  (DAGSTER_HOME={os.environ['DAGSTER_HOME']}, db={os.environ['CODEINTEL_DB']})",
          file=sys.stderr)
    os.execv(cmd[0], cmd)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="codeintel", description="Code property graph of a Python code base, on Dagster + DuckDB.")
    sub = p.add_subparsers(dest="cmd", required=True)
    ix = sub.add_parser("index", help="index what changed under PATH, run the checks, print a summary")
    ix.add_argument("path", nargs="?", default=".")
    ix.add_argument("--db", help="DuckDB file (default: $CODEINTEL_DB or .codeintel/codeintel.duckdb)")
    ix.add_argument("--full", action="store_true", help="re-index every file, changed or not")
    ix.add_argument("--json", action="store_true", help="print one JSON summary object as the last line")
    ix.add_argument("--quiet", action="store_true", help="no progress lines")
    ix.add_argument("--exclude", action="append", metavar="GLOB", help="skip paths matching GLOB (repeatable)")
    ix.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    ix.add_argument("--max-file-bytes", type=int, default=None, help="larger files become failure rows")
    ix.set_defaults(fn=cmd_index)
    ck = sub.add_parser("check", help="run every gate over the database; print the report; write JUnit XML")
    ck.add_argument("--db")
    ck.add_argument("--junit", metavar="FILE")
    ck.set_defaults(fn=cmd_check)
    q = sub.add_parser("query", help="read-only SQL over the tables, or a named preset")
    q.add_argument("sql", nargs="?")
    q.add_argument("--preset", help="a named query (see --list-presets)")
    q.add_argument("--arg", help="the preset's argument (a name, a qualpath)")
    q.add_argument("--list-presets", action="store_true")
    q.add_argument("--db")
    q.add_argument("--json", action="store_true")
    q.add_argument("--limit", type=int, default=40)
    q.set_defaults(fn=cmd_query)
    ui = sub.add_parser("ui", help="start the Dagster UI (webserver + daemon) on 127.0.0.1")
    ui.add_argument("path", nargs="?", default=".")
    ui.add_argument("--db")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(fn=cmd_ui)
    args = p.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
