"""Docs that must match the code."""

import re
from pathlib import Path

from codeintel_assets.contracts.docs import render

ROOT = Path(__file__).resolve().parent.parent


def test_tables_reference_is_current():
    assert (ROOT / "docs" / "tables.md").read_text().strip() == render().strip(), \
        "docs/tables.md is stale: run `uv run python -m codeintel_assets.contracts.docs > docs/tables.md`"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README must mark its test command with <!-- test-command -->"
    command = m.group(1).strip()
    assert command in ci, f"the README's test command {command!r} is not what .ci/run calls"
