"""What every gate returns."""

from dataclasses import dataclass, field

MAX_REPORTED_FINDINGS = 50


@dataclass(frozen=True)
class Finding:
    """One violation, naming the file, the code unit and the instruction / block / line."""

    path: str
    code_unit_id: str | None
    where: str | None
    message: str

    def describe(self) -> str:
        parts = [self.path]
        if self.code_unit_id:
            parts.append(self.code_unit_id.split(":CU:", 1)[-1].split(":", 2)[-1])
        if self.where:
            parts.append(self.where)
        return ": ".join(parts) + f": {self.message}"


@dataclass(frozen=True)
class GateResult:
    gate: str
    table: str
    passed: bool
    blocking: bool
    findings: list[Finding] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    description: str = ""

    def summary(self) -> str:
        figures = ", ".join(f"{k}={v}" for k, v in self.metrics.items())
        status = "PASS" if self.passed else ("FAIL" if self.blocking else "WARN")
        return f"{status} {self.gate} ({self.table}): {figures}"


def result(gate: str, table: str, findings: list[Finding], metrics: dict, blocking: bool = True,
           passed: bool | None = None, description: str = "") -> GateResult:
    ok = (not findings) if passed is None else passed
    metrics = {**metrics, "findings": len(findings)}
    return GateResult(gate, table, ok, blocking, findings, metrics, description)
