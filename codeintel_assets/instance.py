"""The Dagster instance belongs to the database.

By default the instance lives beside the database file (``.codeintel/codeintel.duckdb`` ->
``.codeintel/codeintel.dagster/``), so two databases never share a partition set, and
``codeintel ui --db FILE`` opens that database's runs and rows together. A ``DAGSTER_HOME`` the user
set wins; the instance then records which database it belongs to (``codeintel_database``) and
refuses, with one clear message, to serve another one (its partitions would be the other's).
The tuned SQLite event-log storage is configured in its ``dagster.yaml``.
"""

import os
from pathlib import Path

OWNER_FILE = "codeintel_database"


class InstanceError(Exception):
    """The instance cannot be used for this database (one line, names the paths)."""


def home_for(database: str) -> str:
    db = Path(database)
    return str(db.with_name(db.stem + ".dagster") if db.suffix else db.with_name(db.name + ".dagster"))


def prepare_home(database: str | None = None) -> str:
    """Resolve DAGSTER_HOME for ``database``, write its dagster.yaml if absent, export the tuned environment."""
    if database is None:
        from codeintel_assets.paths import default_db
        database = default_db()
    database = str(Path(database).resolve())
    user_home = os.environ.get("DAGSTER_HOME")
    home = str(Path(user_home or home_for(database)).resolve())
    try:
        Path(home).mkdir(parents=True, exist_ok=True)
        if not os.access(home, os.W_OK):
            raise InstanceError(f"the Dagster instance directory {home} is not writable")
        owner = Path(home) / OWNER_FILE
        if owner.exists():
            recorded = owner.read_text(encoding="utf-8").strip()
            if recorded != database:
                raise InstanceError(
                    f"the Dagster instance {home} (DAGSTER_HOME) belongs to the database {recorded}, not {database}: "
                    f"its partitions would be mixed; unset DAGSTER_HOME (each database then gets the instance beside it) "
                    f"or use --db {recorded}")
        else:
            owner.write_text(database + "\n", encoding="utf-8")
        yaml_path = Path(home) / "dagster.yaml"
        if not yaml_path.exists():
            from resources.event_log import write_instance_yaml  # imports Dagster: only when the home is new
            write_instance_yaml(home)
            # No telemetry banner on every command (and nothing leaves the machine).
            with open(yaml_path, "a", encoding="utf-8") as fh:
                fh.write("telemetry:\n  enabled: false\n")
    except OSError as exc:
        raise InstanceError(f"cannot use the Dagster instance at {home}: {exc.strerror or exc}") from exc
    os.environ["DAGSTER_HOME"] = home
    from resources.event_log_env import tuned_environment
    for k, v in tuned_environment().items():
        os.environ.setdefault(k, v)
    return home
