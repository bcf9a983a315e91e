"""The inspect step as Dagster assets: its own multi_asset (it imports code; the static pass never does).

``inspect_plane``: every per-file ``py_inspect_*`` table, partitioned per file like the static
planes, grouped ``inspect`` in the UI, with the ``inspect_quality`` check (INS-ALG-7, whole database).
``py_inspect_run_meta``: one row per inspect run (interpreter, path policy, budgets, figures), an
unpartitioned asset downstream of it. Both are in the ``inspect_files`` job, which ``codeintel index
--inspect`` runs after the static run, over the files whose runtime facts are stale.
"""

import json
import os
import sys
import time

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetSpec, BackfillPolicy,
    MaterializeResult, MetadataValue, asset, multi_asset,
)

from codeintel_assets.assets.partitions import FILES, selected_files
from codeintel_assets.contracts import inspect as C
from codeintel_assets.validate import inspect_quality as Q
from resources.inspect import InspectConfig
from resources.repo import RepoConfig
from resources.store import CodeIntelStore

STEP_NAME = "inspect_plane"
REASONS_TAG = "codeintel/inspect_reasons"
PATH_POLICY = ("python -s -P -B, environment built from scratch (PYTHONHASHSEED=0): the repository's import roots "
               "first, then the interpreter's own sys.path (stdlib, site-packages); no PYTHONPATH, no user site, no "
               "script directory; cwd, HOME and TMPDIR a fresh temporary directory removed after the run")


def _specs() -> list[AssetSpec]:
    return [AssetSpec(key=tc.name, group_name=C.PLANE, description=tc.description,
                      deps=["py_files", "py_bc_code_units", "py_bc_instructions"],
                      metadata={"partition_expr": "path", "contract_key": ", ".join(tc.key), "status_table": C.STATUS,
                                "dagster/table_name": f"main.{tc.name}"})
            for tc in C.FILE_TABLES]


@multi_asset(
    name=STEP_NAME, specs=_specs(), partitions_def=FILES, backfill_policy=BackfillPolicy.single_run(),
    can_subset=False, check_specs=[AssetCheckSpec(Q.NAME, asset=Q.TABLE, description=Q.DESCRIPTION, blocking=True)],
    description="Import each selected file's module in a sandboxed, budgeted worker process and record what it "
                "defines (objects, members, unwrap chains, signatures, annotations, source, MRO, attribute "
                "resolution, runtime state), anchored to the AST and code units.",
)
def inspect_plane_asset(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore,
                        inspect_config: InspectConfig):
    from codeintel_assets.extract.modules import detect_import_roots
    from codeintel_assets.inspect_step import inspect_keys
    from codeintel_assets.reconcile import module_names
    from codeintel_assets.faults import plane_fault
    keys = selected_files(context, STEP_NAME)
    for k in keys:
        plane_fault(C.PLANE, k)  # the fault tests' injected step failure (never set otherwise)
    names = module_names(repo.root, keys, repo.import_roots)
    roots = detect_import_roots(repo.root, tuple(repo.import_roots))
    to_stderr = os.environ.get("CODEINTEL_PROGRESS") == "1"

    def log(msg):
        context.log.info(msg)
        if to_stderr:
            print("  " + msg, file=sys.stderr, flush=True)
    res = inspect_keys(store, repo.root, keys, names, inspect_config.settings(), roots, context.run.run_id, log)
    for line in res.failures:
        context.log.info(f"inspect FAILED {line}")
    for tc in C.FILE_TABLES:
        meta = {"rows_in_run": res.rows.get(tc.name, 0), "files_in_run": len(keys)}
        if tc.name == C.STATUS:
            meta.update({"modules_attempted": res.attempted, "modules_ok": res.ok, "modules_skipped": res.skipped,
                         "objects": res.objects, "objects_with_source": res.with_source,
                         "objects_anchored": res.anchored, "workers_started": res.workers_started,
                         "seconds": round(res.seconds, 2),
                         "failures": MetadataValue.md("\n".join(f"- `{f}`" for f in res.failures[:50]) or "none")})
        yield MaterializeResult(asset_key=tc.name, metadata=meta)
    with store.connection(read_only=True) as conn:
        r = Q.inspect_quality(conn, inspect_config.thresholds())
    yield AssetCheckResult(
        asset_key=Q.TABLE, check_name=Q.NAME, passed=r.passed, severity=AssetCheckSeverity.ERROR,
        metadata={**r.metrics, "scope": "whole database",
                  "first_findings": MetadataValue.md("\n".join(f"- `{f.describe()}`" for f in r.findings[:50])
                                                     or "none")},
        description=r.description)


@asset(name=C.PY_INSPECT_RUN_META.name, group_name=C.PLANE, deps=[C.STATUS],
       description=C.PY_INSPECT_RUN_META.description,
       metadata={"contract_key": "dagster_run_id", "dagster/table_name": f"main.{C.PY_INSPECT_RUN_META.name}",
                 "partitioned": False})
def inspect_run_meta(context: AssetExecutionContext, store: CodeIntelStore, inspect_config: InspectConfig
                     ) -> MaterializeResult:
    from codeintel_assets.extract.inspect_sandbox import budgets_json
    from codeintel_assets.extract.rows import to_table
    from codeintel_assets.locking import hold
    from resources.duck import table_exists
    s = inspect_config.settings()
    from codeintel_assets.inspect_step import InterpreterError, interpreter_info
    try:
        exe, version, path = interpreter_info(s.python)
    except InterpreterError as exc:  # the step already failed on it; the row says so
        exe, version, path = s.python or sys.executable, f"unavailable: {exc}"[:200], []
    run_id = context.run.run_id
    with store.connection(read_only=True) as conn:
        attempted = ok = skipped = 0
        seconds = 0.0
        if table_exists(conn, C.STATUS):
            attempted, ok, skipped, seconds = conn.execute(
                f"SELECT count(*) FILTER (WHERE attempted), count(*) FILTER (WHERE attempted AND ok), "
                f"count(*) FILTER (WHERE NOT attempted), coalesce(sum(duration_s), 0) FROM {C.STATUS} "
                f"WHERE dagster_run_id = ?", [run_id]).fetchone()
    started = context.run.tags.get("codeintel/started_at") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    policy = PATH_POLICY + (("; set by the configuration's env: " + ", ".join(f"{k}={v}" for k, v in s.env))
                            if s.env else "") + (f"; each worker first calls {s.setup}()" if s.setup else "")
    row = (run_id, started, exe, version, path, policy, list(s.allow), list(s.deny), list(s.probes),
           budgets_json(s.budgets), s.workers, attempted, ok, skipped, float(seconds),
           context.run.tags.get(REASONS_TAG))
    t = to_table(C.PY_INSPECT_RUN_META, [row])
    with hold(store.database, on_wait=context.log.info):
        with store.connection() as conn:
            from resources.duck import ensure_table, run
            ensure_table(conn, C.PY_INSPECT_RUN_META.name, C.PY_INSPECT_RUN_META.schema)
            run(conn, f"DELETE FROM {C.PY_INSPECT_RUN_META.name} WHERE dagster_run_id = ?", [run_id])
            store.append({C.PY_INSPECT_RUN_META.name: (C.PY_INSPECT_RUN_META.schema, t)}, conn)
    return MaterializeResult(metadata={"modules_attempted": attempted, "modules_ok": ok, "python": version[:60],
                                       "budgets": MetadataValue.json(json.loads(budgets_json(s.budgets)))})


INSPECT_ASSETS = [inspect_plane_asset, inspect_run_meta]
