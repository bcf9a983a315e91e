"""Run one plane's extractor over many files: chunked, optionally in worker processes, spooled.

Not Dagster-specific: the plane assets call ``run_plane``; so do benchmarks and tests. Worker
processes import only this module, the extractors and pyarrow.
"""

import gc
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context

import pyarrow as pa

from codeintel_assets.contracts import bytecode as BC
from codeintel_assets.contracts import cfg as CF
from codeintel_assets.contracts import source as SC
from codeintel_assets.contracts import symtable as SY
from codeintel_assets.extract.cfg import EXC_COLUMNS as CFG_EXC_COLUMNS
from codeintel_assets.extract.cfg import INSTR_COLUMNS as CFG_INSTR_COLUMNS
from codeintel_assets.reconcile import key_to_path
from codeintel_assets.spool import SpooledTable, TableSpool

PLANE_TABLES = {
    "source": [SC.PY_FILES, SC.PY_AST_NODES, SC.PY_TOKENS],
    "bytecode": [BC.PY_BC_CODE_UNITS, BC.PY_BC_INSTRUCTIONS, BC.PY_BC_EXCEPTION_TABLE, BC.CODEINTEL_RUN_META],
    "cfg": [CF.PY_BC_BLOCKS, CF.PY_BC_CFG_EDGES],
    "symtable": [SY.PY_SYM_FILES, SY.PY_SYM_SCOPES, SY.PY_SYM_SYMBOLS, SY.PY_SYM_SCOPE_EDGES, SY.PY_SYM_NAMESPACE_EDGES,
                 SY.PY_SYM_FUNCTION_PARTITIONS, SY.PY_SYM_BINDINGS, SY.PY_SYM_RESOLUTION_EDGES, SY.PY_SYM_NAME_SITES,
                 SY.PY_SYM_CODE_CROSSWALK],
}
# Stored rows a file-reading plane needs from an upstream plane (read per chunk by the asset).
PLANE_INPUTS = {"cfg": {"py_bc_instructions": CFG_INSTR_COLUMNS, "py_bc_exception_table": CFG_EXC_COLUMNS},
                "symtable": {"py_bc_code_units": ["path", "code_unit_id", "parent_code_unit_id", "co_name",
                                                  "co_firstlineno", "flags", "varnames", "cellvars", "freevars",
                                                  "ast_node_id"]}}
CHUNK_FILES = 24


@dataclass
class FileFailure:
    path: str
    stage: str
    message: str


@dataclass
class ChunkResult:
    files: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[FileFailure] = field(default_factory=list)
    n_files: int = 0


def extract_file(plane: str, root: str, key: str, max_bytes: int, run_id: str | None,
                 inputs: dict[str, pa.Table] | None = None) -> tuple[dict[str, pa.Table], FileFailure | None]:
    """One file through one plane -> {table: rows}, plus its failure (if any) for the summary.

    An exception inside an extractor (a bug, or an input no rule foresaw) becomes this file's
    failure row; it never takes the other files of the run down with it.
    """
    from codeintel_assets.extract.syntax import read_source

    src = read_source(root, key_to_path(key), max_bytes)
    src = _rekey(src, key)
    try:
        return _extract_plane(plane, src, key, run_id, inputs)
    except Exception as exc:  # noqa: BLE001 - recorded as a failure row below
        return internal_failure(plane, src, key, exc, run_id)


def internal_failure(plane: str, src, key: str, exc: BaseException, run_id: str | None):
    """Failure rows for a file whose extraction raised: the status row of the plane says why."""
    from codeintel_assets.extract.rows import to_table
    etype = f"ExtractorError.{type(exc).__name__}"
    msg = f"internal error in the {plane} extractor: {str(exc)[:300]}"
    tables = {tc.name: to_table(tc, [], key) for tc in PLANE_TABLES[plane]}
    fid = src.file_id
    if plane == "source":
        tables["py_files"] = to_table(SC.PY_FILES, [(fid, src.sha256, src.size, src.encoding, src.has_bom, None, False,
                                                     "extract", etype, msg, None, None, 0, 0)], key)
    elif plane == "bytecode":
        from codeintel_assets.extract.bytecode import run_meta_row, _Err
        tables["codeintel_run_meta"] = to_table(BC.CODEINTEL_RUN_META, [run_meta_row(fid, False, _Err(etype, msg, None), run_id=run_id)], key)
    elif plane == "symtable":
        from codeintel_assets.extract.symtable import COMPILE_TYPE
        tables["py_sym_files"] = to_table(SY.PY_SYM_FILES, [(fid, False, "extract", etype, msg, None, COMPILE_TYPE,
                                                              0, 0, 0, None, None)], key)
    return tables, FileFailure(key, "extract", f"{key}: {plane} extraction failed: {etype}: {msg}")


def _extract_plane(plane: str, src, key: str, run_id: str | None, inputs: dict[str, pa.Table] | None = None):
    if plane == "source":
        from codeintel_assets.extract.syntax import extract_source
        f = extract_source(src)
        row = f.files.slice(0, 1).to_pylist()[0]
        fail = None if row["ok"] else FileFailure(key, row["error_stage"], _describe(key, row["error_stage"], row["error_type"], row["error_msg"], row["error_lineno"], row["error_col"]))
        return {"py_files": f.files, "py_ast_nodes": f.ast_nodes, "py_tokens": f.tokens}, fail
    if plane == "bytecode":
        from codeintel_assets.extract.bytecode import extract_bytecode
        f = extract_bytecode(src, run_id)
        row = f.run_meta.to_pylist()[0]
        fail = None
        if not row["compile_ok"] and src.error is None:
            fail = FileFailure(key, "compile", _describe(key, "compile", row["error_type"], row["error_msg"], row["error_lineno"], None))
        return {"py_bc_code_units": f.code_units, "py_bc_instructions": f.instructions,
                "py_bc_exception_table": f.exception_table, "codeintel_run_meta": f.run_meta}, fail
    if plane == "symtable":
        from codeintel_assets.extract.symtable_plane import extract_symtable
        f = extract_symtable(src, None if inputs is None else inputs.get("py_bc_code_units"))
        row = f.status
        fail = None
        if not row["ok"] and src.error is None:
            fail = FileFailure(key, row["error_stage"], _describe(key, row["error_stage"], row["error_type"],
                                                                  row["error_msg"], row["error_lineno"], None))
        return f.tables, fail
    raise ValueError(f"plane {plane} does not read files")


def _rekey(src, key):
    if src.path == key:
        return src
    from dataclasses import replace
    return replace(src, path=key)


def _describe(path, stage, etype, msg, lineno, col) -> str:
    where = path if lineno is None else f"{path}:{lineno}" + ("" if col is None else f":{col}")
    return f"{where}: {stage} failed: {etype}: {msg}"


def extract_chunk(plane: str, root: str, keys: Sequence[str], max_bytes: int, spool_dir: str,
                  run_id: str | None, inputs: dict[str, pa.Table] | None = None) -> ChunkResult:
    """A chunk of files through one plane, spooled to Parquet parts under ``spool_dir``."""
    spools = {tc.name: TableSpool(tc.schema, spool_dir, tc.name, limit=1 << 62, drop=[n for n, _ in tc.derived])
              for tc in PLANE_TABLES[plane]}
    res = ChunkResult(n_files=len(keys))
    # Millions of short-lived row tuples and AST nodes, no reference cycles: the cyclic GC only costs
    # time here (~30% of extraction). One collection per chunk instead.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _extract_chunk_into(plane, root, keys, max_bytes, run_id, inputs, spools, res)
    finally:
        if gc_was_enabled:
            gc.enable()
    for name, sp in spools.items():
        out = sp.finish()
        res.files[name] = out.files
        res.rows[name] = out.num_rows
    return res


def _extract_chunk_into(plane, root, keys, max_bytes, run_id, inputs, spools, res) -> None:
    if plane == "cfg":
        from codeintel_assets.extract.cfg import extract_cfg
        ins, exc = inputs["py_bc_instructions"], inputs["py_bc_exception_table"]
        try:
            facts = extract_cfg(ins, exc)
        except Exception:  # noqa: BLE001 - isolate the file(s) that raise, keep the rest
            facts = {}
            import pyarrow.compute as pc
            for key in keys:
                try:
                    facts.update(extract_cfg(ins.filter(pc.equal(ins["path"], key)), exc.filter(pc.equal(exc["path"], key))))
                except Exception as e:  # noqa: BLE001
                    res.failures.append(FileFailure(key, "cfg", f"{key}: cfg extraction failed: {type(e).__name__}: {e}"))
        for f in facts.values():
            spools["py_bc_blocks"].add(f.blocks)
            spools["py_bc_cfg_edges"].add(f.edges)
    else:
        per_file = split_by_path(inputs, keys) if inputs else {}
        for key in keys:
            tables, fail = extract_file(plane, root, key, max_bytes, run_id, per_file.get(key))
            for name, t in tables.items():
                spools[name].add(t)
            if fail:
                res.failures.append(fail)


def split_by_path(inputs: dict[str, pa.Table], keys: Sequence[str]) -> dict[str, dict[str, pa.Table]]:
    """{table: rows of many files} -> {path: {table: that file's rows}} (every key gets every table)."""
    out: dict[str, dict[str, pa.Table]] = {k: {} for k in keys}
    for name, t in inputs.items():
        t = t.sort_by("path") if t.num_rows else t
        paths = t.column("path").to_pylist()
        start = 0
        bounds: dict[str, tuple[int, int]] = {}
        for i in range(1, len(paths) + 1):
            if i == len(paths) or paths[i] != paths[start]:
                bounds[paths[start]] = (start, i)
                start = i
        for k in keys:
            a, b = bounds.get(k, (0, 0))
            out[k][name] = t.slice(a, b - a)
    return out


Progress = Callable[[int, int, float], None]


def run_plane(plane: str, keys: Sequence[str], root: str, spool_dir: str, max_bytes: int, workers: int = 0,
              run_id: str | None = None, progress: Progress | None = None,
              load_inputs: Callable[[Sequence[str]], dict[str, pa.Table]] | None = None,
              chunk_files: int = CHUNK_FILES) -> tuple[dict[str, SpooledTable], list[FileFailure]]:
    """All ``keys`` through ``plane``; returns one SpooledTable per output table and the failures."""
    spools = {tc.name: TableSpool(tc.schema, spool_dir, tc.name) for tc in PLANE_TABLES[plane]}
    failures: list[FileFailure] = []
    chunks = [list(keys[i:i + chunk_files]) for i in range(0, len(keys), chunk_files)]
    workers = resolve_workers(workers, len(chunks))
    start = time.perf_counter()
    done = 0

    def adopt(r: ChunkResult):
        nonlocal done
        for name, files in r.files.items():
            spools[name].add_files(files, r.rows[name])
        failures.extend(r.failures)
        done += r.n_files
        if progress:
            progress(done, len(keys), time.perf_counter() - start)

    if workers <= 1:
        for ch in chunks:
            adopt(extract_chunk(plane, root, ch, max_bytes, spool_dir, run_id,
                                load_inputs(ch) if load_inputs else None))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            pending = set()
            it = iter(chunks)
            for ch in it:
                # Bounded submission: inputs read from DuckDB are held for at most 2 x workers chunks.
                pending.add(pool.submit(extract_chunk, plane, root, ch, max_bytes, spool_dir, run_id,
                                        load_inputs(ch) if load_inputs else None))
                if len(pending) >= 2 * workers:
                    fut = next(as_completed(pending))
                    pending.remove(fut)
                    adopt(fut.result())
            for fut in as_completed(pending):
                adopt(fut.result())
    failures.sort(key=lambda f: f.path)
    return {name: sp.finish() for name, sp in spools.items()}, failures


def resolve_workers(workers: int, n_chunks: int) -> int:
    if workers <= 0:
        workers = os.cpu_count() or 1
    if n_chunks < 4:
        return 1  # spawning processes costs more than it saves on a handful of files
    return min(workers, n_chunks)
