"""One pass per file: every static per-file plane, in dependency order, from one ``FileContext``.

Not Dagster-specific: the ``file_planes`` asset calls ``run_pass``; so do benchmarks and tests.
Worker processes import only this module, the plane registry, the extractors, the gates and pyarrow.

Per file: read and decode once; each plane's extractor takes what it needs from the context and the
tables of the planes it reads (in memory); an exception inside an extractor becomes that plane's
status row (``error_stage = extract``) and the planes that read it record ``upstream``; then every
gate runs on the file's tables in memory and becomes a ``codeintel_gate_results`` row.
"""

import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context

import pyarrow as pa

from codeintel_assets.contracts.gates import CODEINTEL_GATE_RESULTS
from codeintel_assets.faults import FAULT_ENV, plane_fault  # noqa: F401 - FAULT_ENV re-exported for the tests
from codeintel_assets.extract.rows import to_table
from codeintel_assets.planes import Plane, file_planes, gates, input_planes
from codeintel_assets.reconcile import key_to_path
from codeintel_assets.spool import TableSpool
from codeintel_assets.validate.status_gates import describe_failures, own_failures

CHUNK_FILES = 24
MAX_FINDINGS_PER_FILE = 20
GATE_TABLE = CODEINTEL_GATE_RESULTS.name


DEFAULT_FILE_BUDGET_SECONDS = 120.0


class BudgetExceeded(BaseException):
    """Raised by the per-file budget's alarm. A BaseException, so that an extractor's own
    ``except Exception`` (which turns a compile error into a failure row) cannot swallow it."""


@contextmanager
def budget(seconds: float):
    """Wall-clock budget for one plane on one file (SIGALRM; main thread only, else no budget).

    A long C call (one ``compile`` of a huge file) is interrupted when it returns to Python.
    """
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise BudgetExceeded()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class FileFailure:
    path: str
    plane: str
    message: str  # "path[:line[:col]]: plane: stage failed: type: msg"


@dataclass
class ChunkResult:
    keys: list[str]
    files: dict[str, list[str]] = field(default_factory=dict)  # table -> Parquet parts
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[FileFailure] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # CPU per plane (and "gates", "read")


def pass_tables() -> list:
    """Every contract the pass writes: the file planes' tables, then the gate results."""
    return [tc for p in file_planes() for tc in p.tables] + [CODEINTEL_GATE_RESULTS]


def failure_tables(p: Plane, ctx, stage: str, etype: str, msg: str) -> dict[str, pa.Table]:
    """The plane's tables for a file it could not extract: no facts, and a status row saying why."""
    from codeintel_assets.version import extractor_version
    src = ctx.src
    known = {"file_id": src.file_id, "ok": False, "error_stage": stage, "error_type": etype, "error_msg": msg,
             "sha256": src.sha256, "size_bytes": src.size, "encoding": src.encoding, "has_bom": src.has_bom,
             "module_name": ctx.module_name, "compile_ok": False, "dagster_run_id": ctx.run_id,
             "extractor_version": extractor_version()}  # a failure is current too: no loop
    out = {}
    for tc in p.tables:
        if tc.name == p.status:
            lead = 2 if tc.partitioned else 1
            row = tuple(known.get(n) for n in tc.schema.names[lead:])
            out[tc.name] = to_table(tc, [row], ctx.path)
        else:
            out[tc.name] = to_table(tc, [], ctx.path)
    return out


def extract_file(root: str, key: str, module_name: str, max_bytes: int, run_id: str | None = None,
                 seconds: dict[str, float] | None = None,
                 budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS) -> tuple[dict[str, pa.Table], list[FileFailure]]:
    """One file through every file plane and every gate -> {table: rows} (gate results included)."""
    from codeintel_assets.extract.context import FileContext
    from codeintel_assets.extract.syntax import read_source

    seconds = {} if seconds is None else seconds
    t0 = time.process_time()
    src = read_source(root, key_to_path(key), max_bytes)
    if src.path != key:
        from dataclasses import replace
        src = replace(src, path=key)
    ctx = FileContext(src, module_name, run_id)
    seconds["read"] = seconds.get("read", 0.0) + time.process_time() - t0
    out: dict[str, pa.Table] = {}
    broken: dict[str, str] = {}  # table -> plane whose extractor raised
    for p in file_planes():
        t0 = time.process_time()
        failed_up = sorted({broken[t] for t in p.reads if t in broken})
        if failed_up:
            tables = failure_tables(p, ctx, "upstream", "UpstreamFailed",
                                    f"not extracted: the {', '.join(failed_up)} plane failed on this file")
            broken.update({n: failed_up[0] for n in tables})
        else:
            try:
                with budget(budget_seconds):
                    plane_fault(p.name, key)
                    tables = p.extract(ctx, {t: out[t] for t in p.reads})
                missing = set(p.table_names) - set(tables)
                if missing:
                    raise RuntimeError(f"extractor returned no {sorted(missing)}")
            except BudgetExceeded:
                tables = failure_tables(p, ctx, "budget", "BudgetExceeded",
                                        f"the {p.name} extractor took more than {budget_seconds:g} s on this file "
                                        "(--file-budget)")
                broken.update({n: p.name for n in tables})
            except Exception as exc:  # noqa: BLE001 - a bug or an input no rule foresaw: this plane's row says so
                tables = failure_tables(p, ctx, "extract", f"ExtractorError.{type(exc).__name__}",
                                        f"internal error in the {p.name} extractor: {str(exc)[:300]}")
                broken.update({n: p.name for n in tables})
        out.update(tables)
        seconds[p.name] = seconds.get(p.name, 0.0) + time.process_time() - t0
    t0 = time.process_time()
    out[GATE_TABLE] = to_table(CODEINTEL_GATE_RESULTS, gate_rows(src.file_id, out), key)
    seconds["gates"] = seconds.get("gates", 0.0) + time.process_time() - t0
    return out, file_failures(key, out)


def gate_rows(fid: str, tables: dict[str, pa.Table]) -> list[tuple]:
    """Every gate over one file's tables (in memory): one row per gate.

    A gate whose input plane failed on this file does not judge it (a failure is a row, not a
    finding): its row passes and counts the file as skipped.
    """
    failed = {p.name for p in file_planes() if not all(tables[p.status].column("ok").to_pylist())}
    rows = []
    for p, g in gates():
        if g.needs_ok and failed & input_planes(g):
            rows.append((fid, g.name, p.name, g.table, g.blocking, True, [("files_skipped", 1)], 0, []))
            continue
        try:
            r = g.fn(*(tables[t] for t, _ in g.inputs))
            passed, findings, metrics = r.passed, [f.describe() for f in r.findings], r.metrics
        except Exception as exc:  # noqa: BLE001 - a gate that raises fails, it does not stop the pass
            passed, findings, metrics = False, [f"gate {g.name} raised {type(exc).__name__}: {str(exc)[:300]}"], {}
        ints = [(k, v) for k, v in metrics.items() if isinstance(v, int) and not isinstance(v, bool)]
        rows.append((fid, g.name, p.name, g.table, g.blocking, passed, ints, len(findings),
                     findings[:MAX_FINDINGS_PER_FILE]))
    return rows


def file_failures(key: str, tables: dict[str, pa.Table]) -> list[FileFailure]:
    """The file's own failures as one line: the first plane that failed, and which others did."""
    fps = file_planes()
    fails = own_failures([p.name for p in fps], [tables[p.status] for p in fps]).get(key, [])
    return [FileFailure(key, fails[0].plane, describe_failures(key, fails))] if fails else []


def extract_chunk(root: str, items: Sequence[tuple[str, str]], max_bytes: int, spool_dir: str,
                  run_id: str | None, budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS) -> ChunkResult:
    """A chunk of (key, module name) through the pass, spooled to Parquet parts under ``spool_dir``."""
    spools = {tc.name: TableSpool(tc.schema, spool_dir, tc.name, limit=1 << 62, drop=[n for n, _ in tc.derived])
              for tc in pass_tables()}
    res = ChunkResult(keys=[k for k, _ in items])
    # Millions of short-lived row tuples and AST nodes: the automatic cyclic GC only costs time here (~30% of
    # extraction: its full collections walk every live row again and again). But a file's derivations do
    # leave cycles (recursive closures, scope and code-unit trees, with the rows they reach): one young-
    # generation collection after each file frees them while they are the only young objects, without
    # walking the worker's older heap. Without it a chunk held every file's garbage until its end: a chunk
    # of sympy's four largest files peaked at 1,178 MiB instead of 917, 60 standard-library files at
    # 634 MiB instead of 487 (and took 7.1-7.7 s of CPU instead of 6.2-6.8).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for key, module_name in items:
            tables, fails = extract_file(root, key, module_name, max_bytes, run_id, res.seconds, budget_seconds)
            gc.collect(0)
            for name, t in tables.items():
                spools[name].add(t)
            res.failures.extend(fails)
    finally:
        if gc_was_enabled:
            gc.enable()
    for name, sp in spools.items():
        out = sp.finish()
        res.files[name] = out.files
        res.rows[name] = out.num_rows
    return res


Progress = Callable[[int, int, float], None]


@dataclass
class PassResult:
    files: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[FileFailure] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def run_pass(keys: Sequence[str], module_names: dict[str, str], root: str, spool_dir: str, max_bytes: int,
             workers: int = 0, run_id: str | None = None, progress: Progress | None = None,
             on_chunk: Callable[[ChunkResult], None] | None = None, chunk_files: int = CHUNK_FILES,
             budget_seconds: float = DEFAULT_FILE_BUDGET_SECONDS) -> PassResult:
    """All ``keys`` through the pass; each finished chunk is handed to ``on_chunk`` (the writer) at once."""
    items = [(k, module_names[k]) for k in keys]
    chunks = [items[i:i + chunk_files] for i in range(0, len(items), chunk_files)]
    workers = resolve_workers(workers, len(chunks))
    start = time.perf_counter()
    total = PassResult()

    def adopt(r: ChunkResult):
        if on_chunk:
            on_chunk(r)
        for name, n in r.rows.items():
            total.rows[name] = total.rows.get(name, 0) + n
        for name, s in r.seconds.items():
            total.seconds[name] = total.seconds.get(name, 0.0) + s
        total.failures.extend(r.failures)
        total.files += len(r.keys)
        if progress:
            progress(total.files, len(items), time.perf_counter() - start)

    if workers <= 1:
        for ch in chunks:
            adopt(extract_chunk(root, ch, max_bytes, spool_dir, run_id, budget_seconds))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=_ignore_sigint) as pool:
            pending = set()
            for ch in chunks:
                pending.add(pool.submit(extract_chunk, root, ch, max_bytes, spool_dir, run_id, budget_seconds))
                if len(pending) >= 2 * workers:  # bounded: the writer keeps up with at most 2 x workers chunks
                    fut = next(as_completed(pending))
                    pending.remove(fut)
                    adopt(fut.result())
            for fut in as_completed(pending):
                adopt(fut.result())
    total.failures.sort(key=lambda f: f.path)
    return total


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent (which stops the run); no KeyboardInterrupt trace per worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def resolve_workers(workers: int, n_chunks: int) -> int:
    if workers <= 0:
        workers = os.cpu_count() or 1
    if n_chunks < 4:
        return 1  # spawning processes costs more than it saves on a handful of files
    return min(workers, n_chunks)
