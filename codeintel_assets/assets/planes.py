"""Per-file plane assets: one @multi_asset per plane, one pass per file, gates as asset checks.

Each asset body: read the run's partition keys, call the pipeline, yield one output per contract
table (the IO manager replaces exactly these files' rows), then run the plane's gates over the rows
just stored and yield their check results.
"""

import os
import sys
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetOut, BackfillPolicy, Output, multi_asset

from codeintel_assets.assets.gates import check_spec, run_chunked, to_check_result
from codeintel_assets.assets.partitions import DUCKDB_POOL, FILES
from codeintel_assets.pipeline import PLANE_INPUTS, PLANE_TABLES, FileFailure, run_plane
from codeintel_assets.validate import binder_completeness, binding_resolution, bytecode_gates, cfg_gates, symtable_vs_code
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
    keys = list(context.partition_keys)
    with store.connection() as conn:
        span_cols = ["path", "code_unit_id", "instr_index", "opname", "span_start_byte", "span_end_byte", "ast_node_id"]
        yield to_check_result(run_chunked(
            bytecode_gates.span_join, lambda ch: (store.read("py_bc_instructions", span_cols, ch, conn),), keys,
            finalize=bytecode_gates.span_join_finalize))
        yield to_check_result(run_chunked(
            bytecode_gates.instruction_conservation,
            lambda ch: (store.read("py_bc_code_units", ["path", "code_unit_id", "instruction_count"], ch, conn),
                        store.read("py_bc_instructions", ["code_unit_id"], ch, conn)), keys))


INSTR_FOR_CFG = ["path", "file_id", "code_unit_id", "instr_index", "offset", "start_offset", "end_offset",
                 "baseopname", "jump_target_offset", "instr_id", "label", "span_start_byte", "span_end_byte"]
EXC_FOR_CFG = ["path", "code_unit_id", "exc_entry_index", "start_offset", "end_offset", "target_offset", "depth", "lasti"]


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
    with store.connection() as conn:
        def load_inputs(chunk):
            return {"py_bc_instructions": store.read("py_bc_instructions", INSTR_FOR_CFG, chunk, conn),
                    "py_bc_exception_table": store.read("py_bc_exception_table", EXC_FOR_CFG, chunk, conn)}
        yield from _run(context, "cfg", repo, store, load_inputs)
    keys = list(context.partition_keys)
    with store.connection() as conn:
        def load(chunk, *tables):
            got = []
            for t in tables:
                name, cols = t
                got.append(store.read(name, cols, chunk, conn))
            return tuple(got)
        CU = ("py_bc_code_units", ["path", "code_unit_id", "stacksize"])
        BL = ("py_bc_blocks", ["path", "code_unit_id", "block_id", "block_index", "start_offset", "is_entry", "is_exit",
                               "is_loop_header", "is_dead", "first_instr_index", "last_instr_index"])
        ED = ("py_bc_cfg_edges", ["code_unit_id", "src_block_id", "dst_block_id", "kind", "exc_entry_index", "depth", "lasti"])
        EX = ("py_bc_exception_table", ["path", "code_unit_id", "exc_entry_index", "target_offset"])
        IN = ("py_bc_instructions", ["code_unit_id", "instr_index", "opcode", "arg", "opname", "offset"])
        yield to_check_result(run_chunked(cfg_gates.cfg_entry_exit, lambda ch: load(ch, CU, BL), keys))
        yield to_check_result(run_chunked(cfg_gates.cfg_reachability, lambda ch: load(ch, BL, ED), keys))
        yield to_check_result(run_chunked(cfg_gates.exception_edges, lambda ch: load(ch, EX, BL, ED), keys))
        yield to_check_result(run_chunked(cfg_gates.stack_depth, lambda ch: load(ch, CU, IN, BL, ED), keys))


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
    with store.connection() as conn:
        def load_inputs(chunk):
            return {name: store.read(name, cols, chunk, conn) for name, cols in PLANE_INPUTS["symtable"].items()}
        yield from _run(context, "symtable", repo, store, load_inputs)
    keys = list(context.partition_keys)
    with store.connection() as conn:
        def rd(name, cols):
            return lambda ch: store.read(name, cols, ch, conn)
        SC = rd("py_sym_scopes", sorted(set(symtable_vs_code.SCOPE_COLUMNS) | set(binding_resolution.SCOPE_COLUMNS)))
        SY = rd("py_sym_symbols", symtable_vs_code.SYMBOL_COLUMNS)
        BI = rd("py_sym_bindings", sorted(set(symtable_vs_code.BINDING_COLUMNS) | set(binding_resolution.BINDING_COLUMNS)
                                          | set(binder_completeness.BINDING_COLUMNS)))
        FP = rd("py_sym_function_partitions", symtable_vs_code.PARTITION_COLUMNS)
        CU = rd("py_bc_code_units", symtable_vs_code.CODE_UNIT_COLUMNS)
        ED = rd("py_sym_resolution_edges", binding_resolution.EDGE_COLUMNS)
        NS = rd("py_sym_name_sites", binder_completeness.SITE_COLUMNS)
        yield to_check_result(run_chunked(symtable_vs_code.symtable_vs_code,
                                          lambda ch: (SC(ch), SY(ch), BI(ch), FP(ch), CU(ch)), keys))
        yield to_check_result(run_chunked(binding_resolution.binding_resolution, lambda ch: (SC(ch), BI(ch), ED(ch)), keys))
        yield to_check_result(run_chunked(binder_completeness.binder_completeness, lambda ch: (BI(ch), NS(ch)), keys))


PLANE_ASSETS = [source_plane, bytecode_plane, cfg_plane, symtable_plane]
