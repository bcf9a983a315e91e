"""The tuned event log keeps the dynamic partition keys while the index database is unchanged.

Each test uses real SQLite files: a second storage on the same directory is a second connection (what
another thread of the UI or another process holds), and one test adds keys from a real second process.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from sqlalchemy import event as sa_event

from resources.event_log import TunedSqliteEventLogStorage

REPO = Path(__file__).resolve().parents[1]
NAME = "files"


def _partition_queries(storage: TunedSqliteEventLogStorage) -> list[str]:
    """Every statement the storage's index connection runs from now on that reads the partitions table."""
    seen: list[str] = []
    with storage._db_lock:
        engine = storage._engine_for_shard(INDEX_SHARD_NAME)

    @sa_event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if "dynamic_partitions" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)
    return seen


def test_kept_keys_are_read_once_while_nothing_changes(tmp_path):
    storage = TunedSqliteEventLogStorage(str(tmp_path))
    try:
        storage.add_dynamic_partitions(NAME, ["a.py", "b.py"])
        queries = _partition_queries(storage)
        assert storage.get_dynamic_partitions(NAME) == ["a.py", "b.py"]
        assert len(queries) == 1
        for _ in range(5):
            assert storage.get_dynamic_partitions(NAME) == ["a.py", "b.py"]
            assert storage.has_dynamic_partition(NAME, "a.py")
            assert not storage.has_dynamic_partition(NAME, "c.py")
        assert len(queries) == 1, queries  # the other 15 answers came from the kept keys
        keys = storage.get_dynamic_partitions(NAME)
        keys.append("mutated.py")  # a caller's list is its own
        assert storage.get_dynamic_partitions(NAME) == ["a.py", "b.py"]
        assert storage.get_dynamic_partitions("other") == []
    finally:
        storage.dispose()


def test_own_writes_and_another_connections_writes_are_seen(tmp_path):
    mine = TunedSqliteEventLogStorage(str(tmp_path))
    other = TunedSqliteEventLogStorage(str(tmp_path))  # its own engine: another connection to index.db
    try:
        mine.add_dynamic_partitions(NAME, ["a.py"])
        assert mine.get_dynamic_partitions(NAME) == ["a.py"]
        mine.add_dynamic_partitions(NAME, ["b.py"])
        assert mine.get_dynamic_partitions(NAME) == ["a.py", "b.py"]
        mine.delete_dynamic_partition(NAME, "a.py")
        assert mine.get_dynamic_partitions(NAME) == ["b.py"]
        assert not mine.has_dynamic_partition(NAME, "a.py")

        other.add_dynamic_partitions(NAME, ["c.py"])
        assert mine.has_dynamic_partition(NAME, "c.py")
        assert mine.get_dynamic_partitions(NAME) == ["b.py", "c.py"]
        other.delete_dynamic_partition(NAME, "b.py")
        assert mine.get_dynamic_partitions(NAME) == ["c.py"]
        assert not mine.has_dynamic_partition(NAME, "b.py")

        mine.wipe()
        assert mine.get_dynamic_partitions(NAME) == []
        assert other.get_dynamic_partitions(NAME) == []
    finally:
        mine.dispose()
        other.dispose()


def test_keys_added_by_another_process_are_seen(tmp_path):
    storage = TunedSqliteEventLogStorage(str(tmp_path))
    try:
        storage.add_dynamic_partitions(NAME, ["a.py"])
        assert storage.get_dynamic_partitions(NAME) == ["a.py"]
        script = textwrap.dedent(f"""
            from resources.event_log import TunedSqliteEventLogStorage
            s = TunedSqliteEventLogStorage({str(tmp_path)!r})
            s.add_dynamic_partitions({NAME!r}, ["z.py"])
            s.delete_dynamic_partition({NAME!r}, "a.py")
            s.dispose()
        """)
        subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
        assert storage.get_dynamic_partitions(NAME) == ["z.py"]
        assert storage.has_dynamic_partition(NAME, "z.py")
        assert not storage.has_dynamic_partition(NAME, "a.py")
    finally:
        storage.dispose()


def test_a_new_connection_reads_again(tmp_path):
    """After the engines are disposed (``dispose``, a fork) the data_version of the new connection is not
    comparable with the old one's: the keys are read again."""
    storage = TunedSqliteEventLogStorage(str(tmp_path))
    other = TunedSqliteEventLogStorage(str(tmp_path))
    try:
        storage.add_dynamic_partitions(NAME, ["a.py"])
        assert storage.get_dynamic_partitions(NAME) == ["a.py"]
        storage._dispose_engines()
        other.add_dynamic_partitions(NAME, ["b.py"])
        queries = _partition_queries(storage)
        assert storage.get_dynamic_partitions(NAME) == ["a.py", "b.py"]
        assert len(queries) == 1
    finally:
        storage.dispose()
        other.dispose()
