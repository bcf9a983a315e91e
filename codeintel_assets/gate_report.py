"""Gates over the whole database: aggregated from the per-file result rows, or recomputed from the tables.

The pass stores one ``codeintel_gate_results`` row per (file, gate). A gate's verdict is the table's,
not the run's: hard invariants pass when every stored file passes; a coverage gate (``Gate.judge``)
is judged on its figures summed over every stored file. The asset checks report this with the
findings of the run's files; ``codeintel check`` reports it with every file's findings, and
``codeintel check --recompute`` runs the gate functions again over the stored rows (reading every
table: it also proves the database is readable end to end).
"""

from collections.abc import Callable, Sequence
from xml.etree import ElementTree as ET

import pyarrow as pa

from codeintel_assets.contracts.gates import CODEINTEL_GATE_RESULTS
from codeintel_assets.planes import Gate, gates
from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult

GATE_TABLE = CODEINTEL_GATE_RESULTS.name
RECOMPUTE_CHUNK_FILES = 200


def _verdict(g: Gate, files: int, failing: int, sums: dict) -> tuple[bool, dict]:
    metrics = {"files": files, "failing_files": failing, **sums}
    if g.judge is not None:
        passed, figures = g.judge(sums)
        return passed, {"files": files, "files_below": failing, **figures}
    return failing == 0, metrics


def aggregate(conn, run_keys: Sequence[str] | None = None, max_findings: int = MAX_REPORTED_FINDINGS) -> list[GateResult]:
    """Every gate's whole-database result from the stored rows; findings of ``run_keys`` (all if None)."""
    from resources.duck import table_exists
    have = table_exists(conn, GATE_TABLE)
    counts: dict[str, tuple[int, int]] = {}
    sums: dict[str, dict[str, int]] = {}
    if have:
        for gate, files, failing in conn.execute(
                f"SELECT gate, count(*), count(*) FILTER (WHERE NOT passed) FROM {GATE_TABLE} GROUP BY gate").fetchall():
            counts[gate] = (files, failing)
        for gate, k, v in conn.execute(
                f"SELECT gate, k, sum(v)::BIGINT FROM (SELECT gate, unnest(map_keys(metrics)) AS k, "
                f"unnest(map_values(metrics)) AS v FROM {GATE_TABLE}) GROUP BY gate, k ORDER BY gate, k").fetchall():
            sums.setdefault(gate, {})[k] = int(v)
        if run_keys is not None:
            conn.register("__codeintel_run_keys", pa.table({"path": pa.array(list(run_keys), pa.string())}))
    out = []
    for p, g in gates():
        files, failing = counts.get(g.name, (0, 0))
        passed, metrics = _verdict(g, files, failing, sums.get(g.name, {}))
        findings: list[Finding] = []
        if have and failing:
            where = " AND path IN (SELECT path FROM __codeintel_run_keys)" if run_keys is not None else ""
            for path, texts in conn.execute(
                    f"SELECT path, findings FROM {GATE_TABLE} WHERE gate = ? AND NOT passed{where} ORDER BY path LIMIT ?",
                    [g.name, max_findings]).fetchall():
                findings.extend(_finding(path, t) for t in texts or [])
        out.append(GateResult(g.name, g.table, passed, g.blocking, findings[:max_findings], metrics, g.description))
    if have and run_keys is not None:
        conn.unregister("__codeintel_run_keys")
    return out


def _finding(path: str, text: str) -> Finding:
    prefix = path + ": "
    return Finding(path, None, None, text[len(prefix):] if text.startswith(prefix) else text)


def recompute(read: Callable[[str, Sequence[str], Sequence[str]], pa.Table], paths: Sequence[str],
              chunk: int = RECOMPUTE_CHUNK_FILES) -> list[GateResult]:
    """Every gate function again over the stored rows of ``paths`` (``read(table, columns, paths)``).

    As in the pass, a file on which a plane failed is not judged by the gates that read that plane.
    """
    from codeintel_assets.planes import file_planes, input_planes
    failed: dict[str, set[str]] = {}
    for fp in file_planes():
        st = read(fp.status, ["path", "ok"], paths)
        failed[fp.name] = {pa_ for pa_, ok in zip(st.column("path").to_pylist(), st.column("ok").to_pylist()) if not ok}
    out = []
    for p, g in gates():
        skip = set().union(*(failed.get(n, set()) for n in input_planes(g))) if g.needs_ok else set()
        gpaths = [x for x in paths if x not in skip]
        merged: GateResult | None = None
        for i in range(0, max(len(gpaths), 1), chunk):
            ch = gpaths[i:i + chunk]
            r = g.fn(*(read(table, list(cols), ch) for table, cols in g.inputs))
            merged = r if merged is None else _merge(merged, r)
        sums = {k: v for k, v in merged.metrics.items() if isinstance(v, int) and not isinstance(v, bool)}
        passed = merged.passed
        metrics = dict(merged.metrics)
        if g.judge is not None:
            passed, metrics = g.judge(sums)
        out.append(GateResult(g.name, g.table, passed, g.blocking, merged.findings, metrics, g.description))
    return out


def _merge(a: GateResult, b: GateResult) -> GateResult:
    metrics = dict(a.metrics)
    for k, v in b.metrics.items():
        if isinstance(v, int) and not isinstance(v, bool) and isinstance(metrics.get(k), int):
            metrics[k] += v
    return GateResult(b.gate, b.table, a.passed and b.passed, b.blocking, a.findings + b.findings, metrics, b.description)


def write_junit(results: list[GateResult], path: str) -> None:
    suite = ET.Element("testsuite", name="codeintel-gates", tests=str(len(results)),
                       failures=str(sum(not r.passed and r.blocking for r in results)),
                       skipped=str(sum(not r.passed and not r.blocking for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"codeintel.{r.table}", name=r.gate)
        props = ET.SubElement(case, "properties")
        for k, v in r.metrics.items():
            ET.SubElement(props, "property", name=k, value=str(v))
        if not r.passed:
            tag = "failure" if r.blocking else "skipped"
            el = ET.SubElement(case, tag, message=f"{len(r.findings)} findings", type=r.gate)
            el.text = "\n".join(f.describe() for f in r.findings[:200])
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def failed_files(conn, keys: Sequence[str] | None = None) -> list[str]:
    """Every stored file's own failures (of ``keys``, if given), one line per file, from every status table."""
    from codeintel_assets.planes import file_planes
    from codeintel_assets.validate.status_gates import describe_failures, own_failures
    from resources.duck import present_tables
    names, tables = [], []
    if keys is not None:
        conn.register("__codeintel_fail_keys", pa.table({"path": pa.array(list(keys), pa.string())}))
    have_tables = present_tables(conn, [p.status for p in file_planes()])
    for p in file_planes():
        if p.status not in have_tables:
            continue
        have = set(p.contract(p.status).schema.names)
        cols = [c for c in ("path", "ok", "error_stage", "error_type", "error_msg", "error_lineno", "error_col") if c in have]
        where = "NOT ok" + (" AND path IN (SELECT path FROM __codeintel_fail_keys)" if keys is not None else "")
        names.append(p.name)
        tables.append(conn.sql(f'SELECT {", ".join(cols)} FROM "{p.status}" WHERE {where}').to_arrow_table())
    if keys is not None:
        conn.unregister("__codeintel_fail_keys")
    return [describe_failures(path, fails) for path, fails in sorted(own_failures(names, tables).items())]


def findings_left_out(r: GateResult, shown: int) -> str | None:
    """The line that says how many of ``r``'s findings a report showing its first ``shown`` leaves out, from the
    true count when the result has one: ``inspect_quality`` lists its threshold findings and the first
    ``LISTED_IMPORT_FAILURES`` failed imports and counts them all (``import_failures``); a gate that counts its
    findings (``findings``, summed over the stored per-file rows) keeps the first ``MAX_REPORTED_FINDINGS``.
    Without a count (a result of an older version) it says the number is a lower bound. None: nothing left out."""
    from codeintel_assets.validate import inspect_quality as Q
    listed = len(r.findings)
    total = None
    if r.gate == Q.NAME:
        if isinstance(r.metrics.get(Q.IMPORT_FAILURES), int):
            total = r.metrics[Q.IMPORT_FAILURES] + sum(f.path == "(whole database)" for f in r.findings)
        elif listed - sum(f.path == "(whole database)" for f in r.findings) < Q.LISTED_IMPORT_FAILURES:
            total = listed  # fewer failed imports than the list holds: all of them are listed
    elif isinstance(r.metrics.get("findings"), int) and r.metrics["findings"] >= listed:
        total = r.metrics["findings"]
    elif listed < MAX_REPORTED_FINDINGS:
        total = listed
    if total is None:
        return (f"... {listed - shown} more of the {listed} kept; the total is not recorded (at least {listed})"
                if listed > shown else None)
    return f"... {total - shown} more" if total > shown else None


class UnevaluatedCheck(LookupError):
    """An asset check ``codeintel check`` has no whole-database evaluation for, or a gate no asset check runs."""


def check_specs(defs) -> list[tuple[str, str]]:
    """(check, guarded asset) of every asset check the Definitions' assets declare, in their order: the checks
    an index run reports, and so exactly the ones ``codeintel check`` reports (``database_results``)."""
    return [(s.name, s.asset_key.to_user_string()) for a in defs.assets for s in getattr(a, "check_specs", ())]


def database_results(specs: Sequence[tuple[str, str]], plane_results: Sequence[GateResult],
                     others: dict[str, Callable[[], GateResult | None]]) -> list[GateResult]:
    """One whole-database result per asset check of ``specs`` (``check_specs``), reported on the asset the
    check guards: a plane gate's from ``plane_results`` (``aggregate`` or ``recompute``), any other check's
    from its evaluation in ``others`` (None: the check's step has never run on this database, as
    ``inspect_quality`` before an ``index --inspect``, so no run reported it either). An asset check with no
    evaluation here, or a gate no asset check runs, is an error: the two lists cannot drift apart."""
    planes = {r.gate: r for r in plane_results}
    out = []
    for name, asset in specs:
        if name in planes:
            r = planes.pop(name)
        elif name in others:
            r = others[name]()
            if r is None:
                continue
        else:
            raise UnevaluatedCheck(f"the asset check {name} (on {asset}) has no whole-database evaluation for "
                              "`codeintel check` (codeintel_assets/gate_report.py)")
        out.append(GateResult(r.gate, asset, r.passed, r.blocking, r.findings, r.metrics, r.description))
    if planes:
        raise UnevaluatedCheck(f"gates no asset check runs: {', '.join(sorted(planes))}")
    return out


def scip_ingest_result(conn, name: str, min_anchored: float) -> GateResult:
    """The SCIP ingest check (``assets/scip.py``) over the stored rows: they are the index's as it is now (the
    file and the files it describes unchanged since the ingest), no document is older than its file, and at
    least ``min_anchored`` of the occurrences anchor to the syntax. A warning, as in the index run; a database
    without an ingested index passes (``index=absent``)."""
    from codeintel_assets.scip import ingest_needed, stored_figures, stored_signature
    sig, _ = stored_signature(conn)
    if sig is None:
        return GateResult(name, "", True, False, [], {"index": "absent"}, "no SCIP index ingested")
    location = sig.rsplit("|", 2)[0]  # the signature: the index file's resolved path, size and mtime
    figures = {"index": "stored", "path": location, **stored_figures(conn)}
    if ingest_needed(conn, "/", location):  # an absolute location: the root is not used
        passed, description = False, (f"the index {location} or files it describes changed since the ingest: "
                                      "run `codeintel index`")
    else:
        passed, description = scip_verdict(figures, min_anchored)
    if passed:
        return GateResult(name, "", True, False, [], figures, "index stored")
    return GateResult(name, "", False, False, [Finding(location, None, None, description)], figures, description)


def scip_verdict(figures: dict, min_anchored: float, error: str | None = None) -> tuple[bool, str]:
    """The SCIP ingest check's rule, for the index run (``assets/scip.py``) and ``codeintel check``: the index
    was read (``error``), no document is older than its file, at least ``min_anchored`` of the occurrences
    anchor to the syntax. (passed, why)."""
    stale = figures.get("documents_stale", 0)
    share = figures.get("share_anchored", 1.0) if figures.get("occurrences") else 1.0
    if error is not None:
        return False, error
    if stale:
        return False, f"{stale} of {figures.get('documents', stale)} documents older than their files: re-run the SCIP indexer"
    if share < min_anchored:
        return False, f"{share:.1%} of the occurrences anchored (at least {min_anchored:.0%})"
    return True, f"index {figures.get('index')}"
