"""INS-ALG-7 ``inspect_quality``: the inspect plane's figures over the whole database, against thresholds.

Computed in SQL over the stored rows (not per file: a share is a whole-database figure):

- import success: attempted modules that imported / attempted modules, leaving out the files whose module is
  a compiled extension built beside them (``ExtensionShadowsSource``: the import works, but it is not this
  file's code; counted as ``modules_shadowed_by_extension``);
- signature coverage: callable objects with an ok signature (raw or wrapped) / callable objects;
- wrapped != raw: callables whose wrapped signature text differs from the raw one / callables with both;
- anchoring rate: objects anchored to a def/class node / objects whose code lies in the repository.

Findings: a share below its threshold, then the first ``LISTED_IMPORT_FAILURES`` failed imports; the
``import_failures`` figure counts them all (what a report that lists the first ones says is left out).

Also counted (not a failure: the static planes are current): files changed since they were inspected and
anchors naming code units that no longer exist (a static-only index after an edit), with a finding saying so.

Fails when a share is below its threshold (``InspectConfig``: ``min_signature_coverage``,
``min_anchor_rate``, ``min_import_success``), and when modules were attempted and none imported (whatever
the thresholds: the sandbox cannot import the code at all); with no module attempted it passes with zero counts.
"""

from codeintel_assets.validate.base import Finding, GateResult

NAME = "inspect_quality"
TABLE = "py_inspect_import_attempts"
SHADOWED = "ExtensionShadowsSource"
IMPORT_FAILURES = "import_failures"  # attempted modules not ok (shadowed ones too): the findings' true count
LISTED_IMPORT_FAILURES = 20  # the findings name the first ones (by path)
DESCRIPTION = ("INS-ALG-7: import success, signature coverage, wrapped!=raw share and anchoring rate over the whole "
               "database, against configurable thresholds")


def inspect_quality(conn, thresholds: dict[str, float]) -> GateResult:
    from resources.duck import table_exists
    if not table_exists(conn, TABLE):
        return GateResult(NAME, TABLE, True, True, [], {"modules_attempted": 0}, DESCRIPTION)
    attempted, imported, skipped, shadowed, failures, with_source, anchored = conn.execute(
        f"SELECT count(*) FILTER (WHERE attempted AND error_type IS DISTINCT FROM '{SHADOWED}'), "
        f"count(*) FILTER (WHERE attempted AND ok), count(*) FILTER (WHERE NOT attempted), "
        f"count(*) FILTER (WHERE attempted AND error_type = '{SHADOWED}'), count(*) FILTER (WHERE attempted AND NOT ok), "
        f"coalesce(sum(objects_with_source), 0)::BIGINT, coalesce(sum(objects_anchored), 0)::BIGINT FROM {TABLE}"
    ).fetchone()
    callables, with_sig = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM py_inspect_signatures s WHERE s.path = o.path "
        "AND s.object_id = o.object_id AND s.ok)) FROM py_inspect_objects o WHERE o.is_callable").fetchone()
    both, differ = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE r.sig_text <> w.sig_text) FROM py_inspect_signatures r "
        "JOIN py_inspect_signatures w ON r.path = w.path AND r.object_id = w.object_id AND w.variant = 'wrapped' "
        "WHERE r.variant = 'raw' AND r.ok AND w.ok").fetchone()
    budgets = conn.execute(f"SELECT budget_hit, count(*) FROM {TABLE} WHERE budget_hit IS NOT NULL "
                           "GROUP BY ALL ORDER BY ALL").fetchall()
    # Files edited (and indexed statically) since they were inspected: their runtime facts are the old code's,
    # and their anchors may name code units that no longer exist
    stale, dangling = conn.execute(
        f"SELECT (SELECT count(*) FROM {TABLE} a JOIN py_files f USING (path) WHERE a.attempted "
        "AND a.file_id IS DISTINCT FROM f.file_id), "
        "(SELECT count(*) FROM py_inspect_object_anchors n WHERE n.ok AND n.code_unit_id IS NOT NULL "
        "AND n.code_unit_id NOT IN (SELECT code_unit_id FROM py_bc_code_units))").fetchone()
    shares = {"import_success": imported / attempted if attempted else 1.0,
              "signature_coverage": with_sig / callables if callables else 1.0,
              "anchor_rate": anchored / with_source if with_source else 1.0}
    metrics = {"modules_attempted": attempted, "modules_imported": imported, "modules_skipped": skipped,
               "modules_shadowed_by_extension": shadowed, IMPORT_FAILURES: failures,
               "callables": callables, "callables_with_signature": with_sig, "signature_pairs": both,
               "wrapped_differs_from_raw": differ, "objects_with_source": with_source, "objects_anchored": anchored,
               **{k: round(v, 4) for k, v in shares.items()},
               "wrapped_differs_share": round(differ / both, 4) if both else 0.0,
               "files_changed_since_inspected": stale, "anchors_to_missing_code_units": dangling,
               **{f"budget_{b}": n for b, n in budgets}}
    findings = [Finding("(whole database)", None, None, f"{k} = {shares[k]:.4f} is below the threshold {t}")
                for k, t in thresholds.items() if shares[k] < t]
    if stale or dangling:  # not a failure (the static planes are current), but the runtime facts are not
        findings.append(Finding("(whole database)", None, None,
                                f"{stale} inspected files changed since they were inspected ({dangling} anchors "
                                f"name code units that no longer exist): their runtime facts are the old code's; "
                                f"`codeintel index --inspect` refreshes them"))
    for path, module, et, em in conn.execute(
            f"SELECT path, module_name, error_type, error_msg FROM {TABLE} WHERE attempted AND NOT ok "
            f"ORDER BY path LIMIT {LISTED_IMPORT_FAILURES}").fetchall():
        findings.append(Finding(path, None, None, f"import of {module} failed: {et}: {em}"))
    none_imported = attempted > 0 and imported == 0
    if none_imported:  # whatever the thresholds: the sandbox cannot import this code, and nothing says why else
        findings.insert(0, Finding("(whole database)", None, None, (
            f"none of the {attempted} attempted modules imported in the sandbox: its interpreter cannot import this "
            "code (a missing dependency or compiled library, or another interpreter: --inspect-python); fix that "
            "and run `codeintel index --inspect --inspect-retry-failed`")))
    if attempted == 0 and shadowed == 0 and skipped > 0:  # --inspect that imported nothing: say so, not fail
        why = conn.execute(f"SELECT skip_reason, count(*) FROM {TABLE} WHERE NOT attempted GROUP BY ALL "
                           "ORDER BY count(*) DESC, skip_reason LIMIT 1").fetchone()
        findings.insert(0, Finding("(whole database)", None, None, (
            f"no module was imported: all {skipped} were left out (most often: {why[0]}, {why[1]} files); "
            "py_inspect_import_attempts.skip_reason says why for each, and the repository configuration's "
            "allow / deny lists select them")))
    passed = not none_imported and not any(shares[k] < t for k, t in thresholds.items())
    return GateResult(NAME, TABLE, passed, True, findings, metrics, DESCRIPTION)
