"""Gate functions as Dagster asset checks: read the stored rows of this run's files, run the gate."""

from collections.abc import Callable, Sequence

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult

GATE_CHUNK_FILES = 200


def check_spec(gate: str, table: str, description: str, blocking: bool = True) -> AssetCheckSpec:
    return AssetCheckSpec(gate, asset=table, description=description, blocking=blocking)


def run_chunked(gate: Callable[..., GateResult], load: Callable[[Sequence[str]], tuple], paths: Sequence[str],
                chunk: int = GATE_CHUNK_FILES, finalize: Callable[[GateResult], GateResult] | None = None) -> GateResult:
    """Run an additive gate over chunks of files and merge: findings concatenated, counts summed."""
    merged: GateResult | None = None
    for i in range(0, max(len(paths), 1), chunk):
        r = gate(*load(paths[i:i + chunk]))
        if merged is None:
            merged = r
            continue
        metrics = dict(merged.metrics)
        for k, v in r.metrics.items():
            if isinstance(v, int) and not isinstance(v, bool) and isinstance(metrics.get(k), int):
                metrics[k] += v
        merged = GateResult(r.gate, r.table, merged.passed and r.passed, r.blocking,
                            merged.findings + r.findings, metrics, r.description)
    return finalize(merged) if finalize else merged


def to_check_result(r: GateResult) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=r.table, check_name=r.gate, passed=r.passed,
        severity=AssetCheckSeverity.ERROR if r.blocking else AssetCheckSeverity.WARN,
        metadata={**{k: v for k, v in r.metrics.items()},
                  "first_findings": MetadataValue.md(_findings_md(r.findings))},
        description=r.description,
    )


def _findings_md(findings: list[Finding]) -> str:
    if not findings:
        return "none"
    lines = [f"- `{f.describe()}`" for f in findings[:MAX_REPORTED_FINDINGS]]
    if len(findings) > MAX_REPORTED_FINDINGS:
        lines.append(f"- ... and {len(findings) - MAX_REPORTED_FINDINGS} more")
    return "\n".join(lines)
