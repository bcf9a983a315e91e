"""Pure gate functions: contract tables (pyarrow) -> findings + metrics. Wired as Dagster asset checks."""

from codeintel_assets.validate.base import Finding, GateResult

__all__ = ["Finding", "GateResult"]
