"""files_ok: every file read, decoded, parsed and extracted by every plane (non-blocking: failures are rows).

Also the one description of a file's failures, used by the gate, the pass's log, the CLI summary and
``codeintel query --preset failed-files``: ``path[:line[:col]]: plane: stage failed: type: msg``,
naming the first plane that failed and listing the others.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.validate.base import Finding, GateResult, result

STATUS_COLUMNS = ("path", "file_id", "ok", "error_stage", "error_type", "error_msg")
# A plane whose input was unavailable (the file did not read, or an upstream plane failed) says so
# with one of these stages: the failure is reported once, by the plane where it happened.
DERIVED_STAGES = ("source", "upstream")


@dataclass(frozen=True)
class PlaneFailure:
    plane: str
    stage: str
    error_type: str
    error_msg: str
    lineno: int | None = None
    col: int | None = None


def own_failures(plane_names: Sequence[str], status_tables: Sequence[pa.Table]) -> dict[str, list[PlaneFailure]]:
    """path -> each plane's own failure of that file, in plane order."""
    out: dict[str, list[PlaneFailure]] = {}
    for plane, t in zip(plane_names, status_tables):
        names = t.column_names
        cols = [t.column(c).to_pylist() if c in names else [None] * t.num_rows
                for c in ("path", "ok", "error_stage", "error_type", "error_msg", "error_lineno", "error_col")]
        for path, ok, stage, etype, msg, line, col in zip(*cols):
            if ok or stage in DERIVED_STAGES:
                continue
            out.setdefault(path, []).append(PlaneFailure(plane, stage, etype, msg, line, col))
    return out


def describe_failures(path: str, fails: Sequence[PlaneFailure]) -> str:
    first = fails[0]
    where = path if first.lineno is None else f"{path}:{first.lineno}" + ("" if first.col is None else f":{first.col}")
    also = sorted({f.plane for f in fails[1:]} - {first.plane})
    return (f"{where}: {first.plane}: {first.stage} failed: {first.error_type}: {first.error_msg}"
            + (f" (also failed: {', '.join(also)})" if also else ""))


def files_ok(plane_names: Sequence[str], *status_tables: pa.Table) -> GateResult:
    """One finding per file that failed in any plane."""
    files = {p for t in status_tables for p in t.column("path").to_pylist()}
    findings = []
    for path, fails in sorted(own_failures(plane_names, status_tables).items()):
        first = fails[0]
        where = None if first.lineno is None else f"line {first.lineno}" + ("" if first.col is None else f":{first.col}")
        text = describe_failures(path, [PlaneFailure(f.plane, f.stage, f.error_type, f.error_msg) for f in fails])
        findings.append(Finding(path, None, where, text[len(path) + 2:]))
    return result("files_ok", "py_files", findings, {"files": len(files), "failed": len(findings)}, blocking=False,
                  description="files that a plane could not read, decode, parse, compile or extract")


def same_file_id(table_names: Sequence[str], files: pa.Table, *tables: pa.Table) -> GateResult:
    """Every plane's rows of a file carry the file_id of its py_files row: all were made from the same
    bytes (one read per file). Blocking: rows of two versions of a file must never be joined."""
    expected = dict(zip(files.column("path").to_pylist(), files.column("file_id").to_pylist()))
    findings = []
    rows = 0
    for name, t in zip(table_names, tables):
        rows += t.num_rows
        if not t.num_rows:
            continue
        paths = pc.unique(t.column("path"))
        if len(paths) == 1:  # one file (the pass): no grouping needed
            pairs = [(paths[0].as_py(), pc.unique(t.column("file_id")).to_pylist())]
        else:
            g = t.select(["path", "file_id"]).group_by("path").aggregate([("file_id", "distinct")])
            pairs = zip(g.column("path").to_pylist(), g.column("file_id_distinct").to_pylist())
        for path, fids in pairs:
            if set(fids) != {expected.get(path)}:
                findings.append(Finding(path, None, name, f"file_id {sorted(map(str, fids))} but py_files says "
                                                          f"{expected.get(path)!r}: rows of another version of the file"))
    return result("same_file_id", "py_files", findings, {"files": len(expected), "rows_checked": rows},
                  description="every plane's rows of a file carry the file_id of its py_files row")
