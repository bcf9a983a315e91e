"""The one per-file step: every static file plane in one pass, every table its own asset, every gate a check.

A ``@multi_asset`` (not subsettable: the planes share one pass per file, so they are materialised
together) whose specs are every file plane's contract tables, grouped by plane in the UI, plus
``codeintel_gate_results``. The body reads the run's partition keys, runs ``indexer.index_keys``
(extract + write through the store), reports one ``MaterializeResult`` per table, and one
``AssetCheckResult`` per gate: the whole database's verdict aggregated from the stored per-file
gate rows, with the findings of this run's files.
"""

import time

from dagster import (
    AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy,
    MaterializeResult, MetadataValue, asset, multi_asset,
)

from codeintel_assets.assets.partitions import FILES, selected_files
from codeintel_assets.assets.progress import say
from codeintel_assets.contracts.gates import CODEINTEL_GATE_RESULTS
from codeintel_assets.faults import maybe_die
from codeintel_assets.gate_report import aggregate
from codeintel_assets.indexer import index_keys
from codeintel_assets.planes import file_planes, gates, planes
from codeintel_assets.reconcile import module_names
from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, GateResult
from codeintel_assets.words import count
from resources.repo import RepoConfig
from resources.store import CodeIntelStore

LINK_KEY = "cpg_calls"  # an asset of the link step (codeintel_assets.assets.link)
STEP_NAME = "file_planes"


def _specs() -> list[AssetSpec]:
    specs = []
    for p in file_planes():
        for tc in p.tables:
            specs.append(AssetSpec(
                key=tc.name, group_name=p.name, description=tc.description, deps=list(p.reads),
                metadata={"partition_expr": "path", "contract_key": ", ".join(tc.key),
                          "status_table": p.status, "dagster/table_name": f"main.{tc.name}"}))
    g = CODEINTEL_GATE_RESULTS
    specs.append(AssetSpec(key=g.name, group_name="gates", description=g.description,
                           deps=[p.status for p in file_planes()],
                           metadata={"partition_expr": "path", "contract_key": ", ".join(g.key),
                                     "dagster/table_name": f"main.{g.name}"}))
    return specs


def _check_specs() -> list[AssetCheckSpec]:
    return [AssetCheckSpec(g.name, asset=g.table, description=g.description, blocking=g.blocking) for _, g in gates()]


def to_check_result(r: GateResult) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=r.table, check_name=r.gate, passed=r.passed,
        severity=AssetCheckSeverity.ERROR if r.blocking else AssetCheckSeverity.WARN,
        metadata={**r.metrics, "scope": "whole database (findings: this run's files)",
                  "first_findings": MetadataValue.md(findings_md(r))},
        description=r.description,
    )


def findings_md(r: GateResult) -> str:
    if not r.findings:
        return "none"
    lines = [f"- `{f.describe()}`" for f in r.findings[:MAX_REPORTED_FINDINGS]]
    if len(r.findings) > MAX_REPORTED_FINDINGS:
        lines.append(f"- ... and {len(r.findings) - MAX_REPORTED_FINDINGS} more")
    return "\n".join(lines)


def _progress(context: AssetExecutionContext):
    last = [-1e9]

    def cb(done: int, total: int, elapsed: float):
        if done == total or elapsed - last[0] >= 5.0:
            last[0] = elapsed
            say(context, f"[{STEP_NAME}] {done}/{total} files, {elapsed:.1f}s")
    return cb


@multi_asset(
    name=STEP_NAME, specs=_specs(), check_specs=_check_specs(), partitions_def=FILES,
    backfill_policy=BackfillPolicy.single_run(), can_subset=False,  # one writer: locking.hold, not a pool
    description="One pass per file: read, decode, parse, compile and symtable once; every static plane "
                "(source, bytecode, cfg, symtable, dataflow) from that context; every gate on the file's tables.",
)
def file_planes_asset(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    t0 = time.perf_counter()
    keys = selected_files(context, STEP_NAME)
    names = module_names(repo.root, keys, repo.import_roots)
    # Does this run link after the file planes (an index_files run, or a selection with the link)? A selection
    # of the file planes alone (from the UI) must not empty the call graph it does not rebuild.
    selection = context.run.asset_selection
    relinks = selection is None or AssetKey(LINK_KEY) in selection
    res = index_keys(store, repo.root, keys, names, repo.max_file_bytes, repo.workers, context.run.run_id,
                     _progress(context), context.log.info, repo.spool_dir, repo.file_budget_seconds, relinks)
    for f in res.pass_result.failures:
        context.log.info(f"FAILED {f.message}")
    # (what follows can take a while on a large run: Dagster records one event per table and file)
    specs = _specs()
    say(context, f"[{STEP_NAME}] rows written, {time.perf_counter() - t0:.1f}s; recording {len(specs)} tables x "
                 f"{count(len(keys), 'file', grouped=True)} in the Dagster instance")
    failed = len(res.pass_result.failures)
    cpu = res.pass_result.seconds
    status_of = {p.status: p.name for p in file_planes()}
    extra: dict[str, dict] = {}
    with store.connection() as conn:
        for p in file_planes():
            if p.run_metadata is not None:
                try:
                    extra[p.status] = p.run_metadata(conn, keys)
                except Exception as exc:  # noqa: BLE001 - figures for the UI must not fail the run
                    extra[p.status] = {"run_metadata_error": f"{type(exc).__name__}: {exc}"[:300]}
    for spec in specs:
        name = spec.key.to_user_string()
        meta = {"rows_in_run": res.pass_result.rows.get(name, 0), "files_in_run": len(keys),
                "failed_files_in_run": failed, "write_seconds_in_run": round(res.write_seconds.get(name, 0.0), 3)}
        if name in status_of:  # the plane's extraction CPU (all workers), reported once per plane
            meta["plane_cpu_seconds_in_run"] = round(cpu.get(status_of[name], 0.0), 3)
            meta.update(extra.get(name, {}))
        if name == CODEINTEL_GATE_RESULTS.name:
            meta.update({"gates_cpu_seconds_in_run": round(cpu.get("gates", 0.0), 3),
                         "read_cpu_seconds_in_run": round(cpu.get("read", 0.0), 3),
                         "delete_seconds_in_run": round(res.delete_seconds, 3)})
        yield MaterializeResult(asset_key=name, metadata=meta)
    maybe_die("gates")
    with store.connection() as conn:
        results = aggregate(conn, keys)
    for r in results:
        yield to_check_result(r)


def reference_asset(plane: str, tc, build):
    """An unpartitioned reference table a plane publishes (e.g. the dataflow classifier)."""

    @asset(name=tc.name, group_name=plane, description=tc.description,
           metadata={"contract_key": ", ".join(tc.key), "dagster/table_name": f"main.{tc.name}", "partitioned": False})
    def _reference(context: AssetExecutionContext, store: CodeIntelStore) -> MaterializeResult:
        from codeintel_assets.locking import hold
        rows = build()
        with hold(store.database, on_wait=context.log.info):
            n = store.replace_table(tc.name, tc.schema, rows)
        return MaterializeResult(metadata={"rows": n})
    return _reference


REFERENCE_ASSETS = [reference_asset(p.name, tc, build) for p in planes() for tc, build in p.reference]
PLANE_ASSETS = [file_planes_asset, *REFERENCE_ASSETS]
