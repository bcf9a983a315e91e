"""Gates on the bytecode plane: span_join and instruction_conservation (seed 000 §7.1)."""

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.validate.base import Finding, GateResult, result

SPAN_JOIN_THRESHOLD = 0.99


def span_join(instructions: pa.Table, threshold: float = SPAN_JOIN_THRESHOLD) -> GateResult:
    """Share of instructions with a byte span, and of those, the share anchored to an AST node.

    Instructions without positions (RESUME, synthetic cleanup) are reported, not failed; the
    threshold applies to the anchored share of instructions that do have a span.
    """
    n = instructions.num_rows
    with_span = n - instructions.column("span_start_byte").null_count
    anchored = n - instructions.column("ast_node_id").null_count
    share_anchor = anchored / with_span if with_span else 1.0
    findings = []
    if share_anchor < threshold:
        missing = instructions.filter(pc.and_(pc.is_valid(instructions.column("span_start_byte")),
                                              pc.is_null(instructions.column("ast_node_id"))))
        for r in missing.select(["path", "code_unit_id", "instr_index", "opname", "span_start_byte",
                                 "span_end_byte"]).slice(0, 50).to_pylist():
            findings.append(Finding(r["path"], r["code_unit_id"], f"instr {r['instr_index']} {r['opname']}",
                                    f"span [{r['span_start_byte']}, {r['span_end_byte']}) covered by no AST node"))
    return span_join_finalize(result("span_join", "py_bc_instructions", findings, {
        "instructions": n, "with_span": with_span, "anchored": anchored,
    }, description="instructions with a byte span anchored to an AST node"), threshold)


def span_join_finalize(r: GateResult, threshold: float = SPAN_JOIN_THRESHOLD) -> GateResult:
    """Shares and the pass/fail verdict from the (possibly summed over chunks) counts."""
    # (no figure at all when no stored file was judged: every file of the database failed to compile)
    m = {"instructions": 0, "with_span": 0, "anchored": 0, **r.metrics}
    share_span = m["with_span"] / m["instructions"] if m["instructions"] else 1.0
    share_anchor = m["anchored"] / m["with_span"] if m["with_span"] else 1.0
    metrics = {**m, "share_with_span": round(share_span, 6), "share_anchored": round(share_anchor, 6),
               "threshold": threshold}
    return GateResult(r.gate, r.table, share_anchor >= threshold, r.blocking, r.findings, metrics, r.description)


def instruction_conservation(code_units: pa.Table, instructions: pa.Table) -> GateResult:
    """Stored rows per code unit == len(list(dis.get_instructions(code))) recorded at compile time."""
    stored = Counter(instructions.column("code_unit_id").to_pylist())
    findings = []
    expected_total = 0
    for path, cu, expected in zip(*(code_units.column(c).to_pylist()
                                    for c in ("path", "code_unit_id", "instruction_count"))):
        expected_total += expected
        got = stored.pop(cu, 0)
        if got != expected:
            findings.append(Finding(path, cu, None, f"{got} instruction rows stored, dis.get_instructions yields {expected}"))
    for cu, got in stored.items():
        findings.append(Finding(cu.split(":CU:")[0], cu, None, f"{got} instruction rows for a code unit not in py_bc_code_units"))
    return result("instruction_conservation", "py_bc_instructions", findings, {
        "code_units": code_units.num_rows, "expected_rows": expected_total, "stored_rows": instructions.num_rows,
    }, description="rows per code unit equal len(list(dis.get_instructions(code)))")


def span_join_judge(summed: dict, threshold: float = SPAN_JOIN_THRESHOLD) -> tuple[bool, dict]:
    """The whole-database verdict: the anchored share over every stored instruction, not one run's files."""
    r = span_join_finalize(GateResult("span_join", "py_bc_instructions", True, True, [], dict(summed)), threshold)
    return r.passed, r.metrics
