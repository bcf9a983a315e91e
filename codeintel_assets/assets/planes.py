"""Per-file plane assets: one @multi_asset per plane, one pass per file, gates as asset checks.

Each asset body: read the run's partition keys, call the pipeline, yield one output per contract
table (the IO manager replaces exactly these files' rows), then run the plane's gates over the rows
just stored and yield their check results.
"""

import os
import sys
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetOut, BackfillPolicy, Output, multi_asset

from codeintel_assets.assets.gates import check_spec, to_check_result
from codeintel_assets.gate_plan import run_gates
from codeintel_assets.assets.partitions import DUCKDB_POOL, FILES
from codeintel_assets.pipeline import PLANE_INPUTS, PLANE_TABLES, run_plane
from codeintel_assets.validate.base import Finding, result
from resources.repo import RepoConfig
from resources.store import CodeIntelStore, remove_spool

PROGRESS_ENV = "CODEINTEL_PROGRESS"


def _outs(plane: str) -> dict[str, AssetOut]:
    return {tc.name: AssetOut(key=AssetKey(tc.name), group_name=tc.plane, io_manager_key="io_manager",
                              metadata={"partition_expr": "path", "contract_key": ", ".join(tc.key)},
                              description=tc.description, is_required=True)
            for tc in PLANE_TABLES[plane]}


def _progress(context: AssetExecutionContext, plane: str):
    to_stderr = os.environ.get(PROGRESS_ENV) == "1"
    last = [-1e9]

    def cb(done: int, total: int, elapsed: float):
        if done == total or elapsed - last[0] >= 5.0:
            last[0] = elapsed
            msg = f"[{plane}] {done}/{total} files, {elapsed:.1f}s"
            context.log.info(msg)
            if to_stderr:
                print("  " + msg, file=sys.stderr, flush=True)
    return cb


def _spool_dir(repo: RepoConfig, store: CodeIntelStore, context, plane: str) -> str:
    base = repo.spool_dir or str(Path(store.database).parent / "spool")
    return str(Path(base) / context.run.run_id / plane)


def _run(context: AssetExecutionContext, plane: str, repo: RepoConfig, store: CodeIntelStore, load_inputs=None):
    keys = list(context.partition_keys)
    spool = _spool_dir(repo, store, context, plane)
    try:
        tables, failures = run_plane(plane, keys, repo.root, spool, repo.max_file_bytes, repo.workers,
                                     context.run.run_id, _progress(context, plane), load_inputs)
        for f in failures:
            context.log.info(f.message)
        for name, t in tables.items():
            yield Output(t, output_name=name, metadata={"failed_files_in_run": len(failures)})
    finally:
        remove_spool(spool)


def _run_with_inputs(context: AssetExecutionContext, plane: str, repo: RepoConfig, store: CodeIntelStore):
    """A plane that reads upstream rows (PLANE_INPUTS) per chunk from DuckDB, then runs as usual."""
    with store.connection() as conn:
        def load_inputs(chunk):
            return {name: store.read(name, cols, chunk, conn) for name, cols in PLANE_INPUTS[plane].items()}
        yield from _run(context, plane, repo, store, load_inputs)


def _gate_results(store: CodeIntelStore, context: AssetExecutionContext, plane: str):
    """The plane's gates (gate_plan.GATES) over the rows just stored for this run's files."""
    keys = list(context.partition_keys)
    with store.connection() as conn:
        for r in run_gates(lambda table, cols, ch: store.read(table, cols, ch, conn), keys, plane):
            yield to_check_result(r)


@multi_asset(
    name="source_plane", outs=_outs("source"), partitions_def=FILES, backfill_policy=BackfillPolicy.single_run(),
    pool=DUCKDB_POOL, description="Read, decode, parse and tokenize each file: py_files, py_ast_nodes, py_tokens.",
    check_specs=[check_spec("files_ok", "py_files", "every file read, decoded and parsed (failures are rows; WARN)",
                            blocking=False)],
)
def source_plane(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    yield from _run(context, "source", repo, store)
    keys = list(context.partition_keys)
    failed = store.read("py_files", ["path", "error_stage", "error_type", "error_msg", "error_lineno"], keys)
    findings = [Finding(r["path"], None, None if r["error_lineno"] is None else f"line {r['error_lineno']}",
                        f"{r['error_stage']} failed: {r['error_type']}: {r['error_msg']}")
                for r in failed.to_pylist() if r["error_stage"] is not None]
    yield to_check_result(result("files_ok", "py_files", findings, {"files": len(keys), "failed": len(findings)},
                                 blocking=False, description="files that could not be read, decoded or parsed"))


@multi_asset(
    name="bytecode_plane", outs=_outs("bytecode"), partitions_def=FILES, backfill_policy=BackfillPolicy.single_run(),
    pool=DUCKDB_POOL,
    description="compile(..., 'exec', dont_inherit=True, optimize=0) once per file: code units, instructions, "
                "exception table, compiler metadata.",
    check_specs=[
        check_spec("span_join", "py_bc_instructions", "instructions with a byte span anchored to an AST node (threshold)"),
        check_spec("instruction_conservation", "py_bc_instructions", "rows per code unit == len(dis.get_instructions(code))"),
    ],
)
def bytecode_plane(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    yield from _run(context, "bytecode", repo, store)
    yield from _gate_results(store, context, "bytecode")


@multi_asset(
    name="cfg_plane", outs=_outs("cfg"), partitions_def=FILES, backfill_policy=BackfillPolicy.single_run(),
    pool=DUCKDB_POOL, deps=[AssetKey("py_bc_instructions"), AssetKey("py_bc_exception_table")],
    description="Basic blocks (algorithm A) and CFG edges (algorithm B, with exception edges) from the stored bytecode.",
    check_specs=[
        check_spec("cfg_entry_exit", "py_bc_blocks", "exactly one entry block per code unit; at least one exit unless it only loops"),
        check_spec("cfg_reachability", "py_bc_blocks", "every block reachable from entry or flagged dead"),
        check_spec("exception_edges", "py_bc_cfg_edges", "every exception target is a block start with an exc edge"),
        check_spec("stack_depth", "py_bc_blocks", "dis.stack_effect depth: >= 0, <= co_stacksize, equal at joins"),
    ],
)
def cfg_plane(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    yield from _run_with_inputs(context, "cfg", repo, store)
    yield from _gate_results(store, context, "cfg")


@multi_asset(
    name="symtable_plane", outs=_outs("symtable"), partitions_def=FILES, backfill_policy=BackfillPolicy.single_run(),
    pool=DUCKDB_POOL, deps=[AssetKey("py_bc_code_units")],
    description="symtable.symtable(source, path, 'exec') once per file, anchored to the AST: scopes, symbols, "
                "binding slots, lexical resolution, name sites, and the code-unit crosswalk.",
    check_specs=[
        check_spec("symtable_vs_code", "py_sym_scopes", "frees == co_freevars, cells == co_cellvars, parameters == "
                                                        "argument slots, locals within the code's slots"),
        check_spec("binding_resolution", "py_sym_resolution_edges", "nonlocal_ref -> one enclosing function binding, "
                                                                    "global_ref -> module, free_ref -> ancestor"),
        check_spec("binder_completeness", "py_sym_name_sites", "declared bindings have a def site; every use site resolves"),
    ],
)
def symtable_plane(context: AssetExecutionContext, repo: RepoConfig, store: CodeIntelStore):
    yield from _run_with_inputs(context, "symtable", repo, store)
    yield from _gate_results(store, context, "symtable")


PLANE_ASSETS = [source_plane, bytecode_plane, cfg_plane, symtable_plane]
