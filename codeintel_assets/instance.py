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
            if recorded != database and user_home:
                raise InstanceError(
                    f"the Dagster instance {home} (DAGSTER_HOME) belongs to the database {recorded}, not {database}: "
                    f"its partitions would be mixed; unset DAGSTER_HOME (each database then gets the instance beside it) "
                    f"or use --db {recorded}")
            if recorded != database:  # the database and its instance directory were copied or moved together
                raise InstanceError(
                    f"the Dagster instance {home} beside this database was made for the database {recorded} "
                    f"(copied or moved with it?): its partitions would be mixed; remove {home} (it holds the run "
                    f"history; the next index makes a new one) or use --db {recorded}")
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


KEEP_RUNS_ENV = "CODEINTEL_KEEP_RUNS"
DEFAULT_KEEP_RUNS = 1


def keep_runs_setting(value: str | None) -> int | None:
    """``--keep-runs`` / ``$CODEINTEL_KEEP_RUNS``: how many of the newest successful runs to keep whatever they
    hold (default 1: the superseded ones go); ``all``: never remove a run. Raises ValueError with the accepted forms."""
    raw = value if value is not None else os.environ.get(KEEP_RUNS_ENV)
    if raw is None or raw == "":
        return DEFAULT_KEEP_RUNS
    if raw.strip().lower() == "all":
        return None
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"--keep-runs / {KEEP_RUNS_ENV} takes a number of runs (0 or more) or 'all', not {raw!r}")
    return n


def prune_superseded_runs(instance, keep: int | None) -> tuple[int, int]:
    """Remove the successful runs that the UI no longer shows as the state of anything: every (asset,
    partition) they materialised was materialised again by a newer run (or left the repository), and they
    are not among the ``keep`` newest successful runs. (runs removed, bytes of event-log files freed).

    Dagster keeps every run's events forever: each index run stores a planned and a materialisation event
    per file and table (a full index of the standard library: ~0.6 GB), so without this the instance
    beside the database grew by that much with every ``--full`` re-index. Asset check history stays (its
    rows are not the run's events). Only with the tuned event-log storage, which can tell which runs hold
    the newest events; another storage (a DAGSTER_HOME with its own dagster.yaml) is left alone.
    """
    from dagster import DagsterRunStatus, RunsFilter

    from resources.event_log import TunedSqliteEventLogStorage
    storage = instance.event_log_storage
    if keep is None or not isinstance(storage, TunedSqliteEventLogStorage):
        return 0, 0
    # Successful runs only: a failed or cancelled run stays in the Runs tab (with its logs) until the user
    # deletes it there, even once a later run has redone its files (a failure is never silent).
    finished = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))  # newest first
    candidates = [r.run_id for r in finished[keep:]]
    if not candidates:
        return 0, 0
    live = storage.runs_holding_latest_events(candidates)
    removed = freed = 0
    for run_id in candidates:
        if run_id in live:
            continue
        path = storage.path_for_shard(run_id)
        size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
        instance.delete_run(run_id)
        removed += 1
        freed += size
    return removed, freed
