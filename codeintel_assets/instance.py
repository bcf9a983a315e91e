"""The Dagster instance CodeIntel runs on: DAGSTER_HOME (default .codeintel/dagster_home) with the
tuned SQLite event-log storage configured in its dagster.yaml."""

import os
from pathlib import Path

DEFAULT_HOME = ".codeintel/dagster_home"


def prepare_home(cwd: str | None = None) -> str:
    """Resolve DAGSTER_HOME, write its dagster.yaml if absent, export the tuned environment."""
    home = os.environ.get("DAGSTER_HOME") or str(Path(cwd or os.getcwd()) / DEFAULT_HOME)
    home = str(Path(home).resolve())
    Path(home).mkdir(parents=True, exist_ok=True)
    from resources.event_log import tuned_environment, write_instance_yaml
    if not (Path(home) / "dagster.yaml").exists():
        write_instance_yaml(home)
    os.environ["DAGSTER_HOME"] = home
    for k, v in tuned_environment().items():
        os.environ.setdefault(k, v)
    return home
