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
    yaml_path = Path(home) / "dagster.yaml"
    if not yaml_path.exists():
        write_instance_yaml(home)
        # No telemetry banner on every command (and nothing leaves the machine).
        with open(yaml_path, "a", encoding="utf-8") as fh:
            fh.write("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = home
    for k, v in tuned_environment().items():
        os.environ.setdefault(k, v)
    return home
