"""Gate functions as Dagster asset checks: read the stored rows of this run's files, run the gate."""

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult


def check_spec(gate: str, table: str, description: str, blocking: bool = True) -> AssetCheckSpec:
    return AssetCheckSpec(gate, asset=table, description=description, blocking=blocking)


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
