"""The plane registry: a plane is one record, in one module of this package.

A module here that defines ``PLANE = Plane(...)`` is a plane; nothing else names it. Everything that
used to list planes by hand is derived from ``planes()``: the Dagster assets and their asset checks,
the job selection, `codeintel check`, reconcile's staleness test, the CLI summary and failure list,
the docs' table list and the tests' table lists.

Adding a plane = its contract module (``contracts/``), its extractor (``extract/``), and a module
here. The registry orders planes by what they read, so a plane's extractor runs after the planes it
reads, in the same per-file pass, and receives their tables in memory.
"""

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial

import pyarrow as pa

from codeintel_assets.contracts.common import TableContract
from codeintel_assets.validate import status_gates
from codeintel_assets.validate.base import GateResult



@dataclass(frozen=True)
class Gate:
    """A validation gate: a pure function over tables, run per file, judged over the whole database."""

    name: str
    table: str  # the table it guards (the asset check's asset)
    description: str
    fn: Callable[..., GateResult]
    inputs: tuple[tuple[str, tuple[str, ...]], ...]  # (table, columns) per positional argument of ``fn``
    blocking: bool = True
    # Whole-database verdict from the figures summed over files (a coverage share against a threshold):
    # (summed int figures) -> (passed, figures to report). None: the gate passes when every file passes.
    judge: Callable[[dict], tuple[bool, dict]] | None = None
    # True: a file on which a plane owning one of the inputs failed (its status row says so) is not
    # judged: the failure is a row, not a finding. False: the gate is about the status rows themselves.
    needs_ok: bool = True


Extractor = Callable[..., dict[str, pa.Table]]  # (FileContext, {upstream table: rows}) -> {table: rows}


@dataclass(frozen=True)
class Plane:
    name: str  # the Dagster group
    description: str
    tables: tuple[TableContract, ...]  # every contract table it writes, status table included
    status: str  # its per-file status table (at least status_gates.STATUS_COLUMNS)
    extract: Extractor
    reads: tuple[str, ...] = ()  # tables of other planes its extractor needs (in memory, same pass)
    gates: tuple[Gate, ...] = ()
    scope: str = "file"  # "file": partitioned per file, in the one pass; "repository": one asset over all files
    # Unpartitioned reference tables the plane publishes (e.g. its classifier): (contract, rows builder).
    reference: tuple[tuple[TableContract, Callable[[], pa.Table]], ...] = ()
    # Figures for the status table's materialisation metadata: (read-only DuckDB connection, the run's
    # partition keys) -> {name: value}, computed in SQL over the stored rows of those files.
    run_metadata: Callable[..., dict] | None = None

    @property
    def table_names(self) -> list[str]:
        return [tc.name for tc in self.tables]

    def contract(self, name: str) -> TableContract:
        return next(tc for tc in self.tables if tc.name == name)


@cache
def planes() -> tuple[Plane, ...]:
    """Every plane of this package, upstream before downstream."""
    found: list[Plane] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(mod, "PLANE", None), Plane):
            found.append(mod.PLANE)
    owner = {tc.name: p.name for p in found for tc in p.tables}
    for p in found:
        for t in p.reads:
            if t not in owner:
                raise ValueError(f"plane {p.name} reads {t}, which no plane writes")
    ordered: list[Plane] = []
    # Stable topological order: the source plane first (it names the files), then by reads.
    pending = sorted(found, key=lambda p: (p.name != "source", p.name))
    while pending:
        ready = [p for p in pending if all(owner[t] in {q.name for q in ordered} or owner[t] == p.name for t in p.reads)]
        if not ready:
            raise ValueError(f"planes read each other in a cycle: {[p.name for p in pending]}")
        ordered.append(ready[0])
        pending.remove(ready[0])
    return tuple(ordered)


def file_planes() -> tuple[Plane, ...]:
    return tuple(p for p in planes() if p.scope == "file")


def upstream_planes(p: Plane) -> list[str]:
    return sorted({_owners()[t] for t in p.reads})


@cache
def _all_gates() -> tuple[tuple[Plane, Gate], ...]:
    out = [(p, g) for p in planes() for g in p.gates]
    # files_ok reads every file plane's status table, so it is built from the registry (shown on py_files).
    fp = file_planes()
    out.append((fp[0], Gate(
        "files_ok", "py_files", "every file read, decoded, parsed and extracted by every plane (a failure is a row "
        "in that plane's status table; WARN)", partial(status_gates.files_ok, [p.name for p in fp]),
        tuple((p.status, _status_columns(p)) for p in fp), blocking=False, needs_ok=False)))
    # same_file_id reads the file_id of every per-file table of every plane.
    others = [tc.name for p in fp for tc in p.tables if tc.name != "py_files" and "file_id" in tc.schema.names]
    out.append((fp[0], Gate(
        "same_file_id", "py_files", "every plane's rows of a file carry the file_id of its py_files row "
        "(one read per file: no plane saw other bytes)", partial(status_gates.same_file_id, others),
        (("py_files", ("path", "file_id")),) + tuple((t, ("path", "file_id")) for t in others), needs_ok=False)))
    return tuple(out)


def _status_columns(p: Plane) -> tuple[str, ...]:
    names = p.contract(p.status).schema.names
    return status_gates.STATUS_COLUMNS + tuple(c for c in ("error_lineno", "error_col") if c in names)


def gates(plane_names: Sequence[str] | None = None) -> list[tuple[Plane, Gate]]:
    """Every gate with its plane (``files_ok`` under the source plane), in plane order."""
    return [(p, g) for p, g in _all_gates() if plane_names is None or p.name in plane_names]


def gate(name: str) -> tuple[Plane, Gate]:
    return next((p, g) for p, g in gates() if g.name == name)


@cache
def _owners() -> dict[str, str]:
    return {tc.name: p.name for p in planes() for tc in p.tables}


def input_planes(g: Gate) -> set[str]:
    """The planes owning a gate's input tables (called per gate and file in the pass: a dict lookup)."""
    owners = _owners()
    return {owners[t] for t, _ in g.inputs}
