"""`codeintel index` with nothing to do, answered without Dagster.

The normal path opens the Dagster instance for two facts only Dagster holds: the ``files`` dynamic
partitions (a file indexed in the database but not a partition counts as new), and the runs a dead
`codeintel index` left started (marked failed). Importing Dagster and opening the instance is ~2 s,
most of an unchanged re-run.

Both facts live in the instance's SQLite files. At the end of a run that finished (run ok, no run of
the instance still active, the partitions exactly the database's files) the CLI records the size and
modification time (ns) of those files and of the database in ``STATE_FILE``, in the instance
directory. The next `codeintel index` compares before it imports Dagster: when nothing has written the
instance or the database since, the partitions are still the database's files and no run can have
started (so none can have died), and the plan is computed from the database and the scan alone. When
that plan holds no work (nothing added, changed, removed or stale, no link step pending) the summary
is printed as the normal path prints it, with no Dagster run. Anything else — a fingerprint that
differs (a run from the UI, a partition added there, a database replaced or written), a file to index,
``--full``, ``--rebuild``, ``--inspect``, an instance configured with other storage — takes the normal
path, which removes the state first and records it again when it finishes.
"""

import json
import os
from pathlib import Path

STATE_FILE = "codeintel_settled.json"
STATE_VERSION = 1
# The stock SQLite run storage (runs, dynamic partitions) and resources.event_log's event log, as
# instance.prepare_home lays the home out; their rollback journal or WAL where one exists (a write lands
# there first). Not ``-shm``, nor the directories' times: a reader creates and removes those files (the UI
# or `benchmarks/run_phases.py` reading the event log must not cost the next run its no-work answer).
INSTANCE_FILES = ("history/runs.db", "history/runs.db-wal", "history/runs.db-journal",
                  "history/runs/index.db", "history/runs/index.db-wal", "history/runs/index.db-journal",
                  "dagster.yaml")
REQUIRED = ("history/runs.db", "history/runs/index.db", "dagster.yaml")
# Top-level keys of dagster.yaml that move runs or partitions elsewhere (a database server): no fingerprint.
FOREIGN_STORAGE_KEYS = ("storage", "run_storage")


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def fingerprint(home: str, database: str) -> dict | None:
    """Sizes and mtimes of the instance's storage files and the database; None when they cannot tell
    (an instance with other storage, a file missing)."""
    base = Path(home)
    try:
        config = (base / "dagster.yaml").read_text(encoding="utf-8")
    except OSError:
        return None
    top_keys = {line.split(":", 1)[0].strip() for line in config.splitlines()
                if line and not line[0].isspace() and not line.startswith("#")}
    if top_keys & set(FOREIGN_STORAGE_KEYS) or "module: resources.event_log" not in config:
        return None
    out = {name: _stat(base / name) for name in INSTANCE_FILES}
    if any(out[name] is None for name in REQUIRED):
        return None
    out["database"] = _stat(Path(database))
    out["database.wal"] = _stat(Path(database + ".wal"))
    if out["database"] is None:
        return None
    return out


def forget(home: str) -> None:
    """Before the normal path changes anything: a run that dies leaves no state to trust."""
    try:
        (Path(home) / STATE_FILE).unlink(missing_ok=True)
    except OSError:
        pass


def record(home: str, database: str) -> None:
    """After a run that finished with the instance and the database in agreement (the caller checks)."""
    fp = fingerprint(home, database)
    if fp is None:
        return
    path = Path(home) / STATE_FILE
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"version": STATE_VERSION, "database": database, "fingerprint": fp}),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # no state: the next run takes the normal path


def settled(home: str, database: str) -> bool:
    """Nothing has written the instance or the database since the last run that finished in agreement."""
    try:
        state = json.loads((Path(home) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION or state.get("database") != database:
        return False
    fp = fingerprint(home, database)
    return fp is not None and fp == state.get("fingerprint")
