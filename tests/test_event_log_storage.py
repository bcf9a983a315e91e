"""Regression test: TunedSqliteEventLogStorage is observably identical to the stock storage.

A tiny partitioned graph (dynamic "files" partitions, single-run backfills, a multi-asset that
fails in a second run, one asset check) is run on two real instances -- stock storage, and
tuned storage with DAGSTER_EVENT_BATCH_SIZE set -- and everything Dagster reads back from
the event log (partition status, materialisations, data versions, check executions, the
index shard, per-run event streams) must be equal. The tuned home must also read back with
the stock storage.
"""

import logging
import os
import threading
import time
from collections import Counter

import dagster as dg
import pytest
from dagster import DagsterInstance
from dagster._core.definitions.data_version import DATA_VERSION_TAG
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.base import EventRecordsFilter
from dagster._core.storage.partition_status_cache import AssetPartitionStatus

from resources import event_log
from resources.event_log import (
    TunedSqliteEventLogStorage,
    event_log_base_dir,
    tuned_environment,
    write_instance_yaml,
)

# ----------------------------------------------------------------------------- tiny graph
FILES = dg.DynamicPartitionsDefinition(name="files")
SINGLE_RUN = dg.BackfillPolicy.single_run()
GOOD_KEYS = [f"f{i:02d}" for i in range(10)]
BAD_RANGE = ["f10", "f11"]  # second run; the multi-asset raises when it sees "f11"
ALL_KEYS = GOOD_KEYS + BAD_RANGE
RAW, PARSED, INDEXED = dg.AssetKey("raw"), dg.AssetKey("parsed"), dg.AssetKey("indexed")
ASSET_KEYS = [RAW, PARSED, INDEXED]
CHECK_KEY = dg.AssetCheckKey(RAW, "raw_range_ok")
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class _NullIOManager(dg.ConfigurableIOManager):
    def handle_output(self, context, obj) -> None:
        pass

    def load_input(self, context):
        return None


@dg.asset(partitions_def=FILES, backfill_policy=SINGLE_RUN, code_version="v1")
def raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"n_files": len(context.partition_keys)})


@dg.multi_asset(
    specs=[
        dg.AssetSpec("parsed", deps=[raw], code_version="v1"),
        dg.AssetSpec("indexed", deps=[raw], code_version="v1"),
    ],
    partitions_def=FILES,
    backfill_policy=SINGLE_RUN,
)
def parsed_and_indexed(context: dg.AssetExecutionContext):
    keys = context.partition_keys
    if "f11" in keys:
        raise RuntimeError("cannot parse f11")
    yield dg.MaterializeResult(asset_key="parsed", metadata={"first": keys[0], "n": len(keys)})
    yield dg.MaterializeResult(asset_key="indexed", metadata={"last": keys[-1]})


@dg.asset_check(asset=raw)
def raw_range_ok(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    start = context.run.tags[RANGE_START]
    return dg.AssetCheckResult(passed=start != BAD_RANGE[0], metadata={"start": start})


DEFS = [raw, parsed_and_indexed, raw_range_ok]


def _run_graph(instance: DagsterInstance) -> list[str]:
    instance.add_dynamic_partitions("files", ALL_KEYS)
    resources = {"io_manager": _NullIOManager()}
    ok = dg.materialize(
        DEFS,
        instance=instance,
        resources=resources,
        tags={RANGE_START: GOOD_KEYS[0], RANGE_END: GOOD_KEYS[-1]},
    )
    assert ok.success
    bad = dg.materialize(
        DEFS,
        instance=instance,
        resources=resources,
        tags={RANGE_START: BAD_RANGE[0], RANGE_END: BAD_RANGE[-1]},
        raise_on_error=False,
    )
    assert not bad.success
    return [ok.run_id, bad.run_id]


# ----------------------------------------------------------------------------- snapshot
def _snapshot(instance: DagsterInstance, run_ids: list[str]) -> dict:
    """Everything we read back, with run ids replaced by their index and timestamps dropped."""
    rid = {run_id: i for i, run_id in enumerate(run_ids)}
    storage = instance.event_log_storage
    snap: dict = {"assets": {}, "runs": {}}

    for key in ASSET_KEYS:
        latest = instance.get_latest_materialization_event(key)
        [asset_record] = instance.get_asset_records([key])
        entry = asset_record.asset_entry
        mats = instance.fetch_materializations(key, limit=1000, ascending=True).records
        failed = instance.fetch_failed_materializations(key, limit=1000, ascending=True).records
        planned = instance.get_event_records(
            EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=key),
            ascending=True,
        )
        snap["assets"][key.to_user_string()] = {
            "materialized": sorted(instance.get_materialized_partitions(key)),
            "status": dict(instance.get_status_by_partition(key, ALL_KEYS, FILES) or {}),
            "latest": (
                rid[latest.run_id],
                latest.dagster_event.partition,
                dict(latest.asset_materialization.metadata),
                dict(latest.asset_materialization.tags or {}),
            ),
            "data_versions": dict(
                storage.get_latest_tags_by_partition(
                    key, DagsterEventType.ASSET_MATERIALIZATION, [DATA_VERSION_TAG]
                )
            ),
            "materializations": [(r.storage_id, rid[r.run_id], r.partition_key) for r in mats],
            "failed": [(r.storage_id, rid[r.run_id], r.partition_key) for r in failed],
            "planned": [
                (r.storage_id, rid[r.run_id], r.event_log_entry.dagster_event.partition)
                for r in planned
            ],
            "entry": (
                rid[entry.last_run_id],
                entry.last_materialization_record.storage_id,
                entry.last_planned_materialization_storage_id,
            ),
        }

    snap["checks"] = [
        (
            rid[rec.run_id],
            rec.status,
            rec.partition,
            rec.event.dagster_event_type if rec.event else None,
            rec.event.dagster_event.event_specific_data.passed
            if rec.event and rec.event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION
            else None,
            rec.event.dagster_event.event_specific_data.target_materialization_data.storage_id
            if rec.event and rec.event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION
            else None,
        )
        for rec in storage.get_asset_check_execution_history(CHECK_KEY, limit=100)
    ]
    snap["run_status_changes"] = sorted(
        (r.storage_id, r.event_log_entry.dagster_event_type, rid[r.run_id])
        for event_type in (
            DagsterEventType.RUN_START,
            DagsterEventType.RUN_SUCCESS,
            DagsterEventType.RUN_FAILURE,
        )
        for r in instance.fetch_run_status_changes(event_type, limit=100).records
    )
    for run_id in run_ids:
        records = storage.get_records_for_run(run_id, limit=100_000).records
        snap["runs"][rid[run_id]] = {
            "count": len(records),
            "stream": [
                (
                    r.storage_id,
                    r.event_log_entry.dagster_event_type,
                    r.event_log_entry.step_key,
                    r.event_log_entry.dagster_event.partition
                    if r.event_log_entry.dagster_event
                    else None,
                )
                for r in records
            ],
        }
    return snap


def _expected_absolute(snap: dict) -> None:
    """Facts about the graph itself, so a bug shared by both storages still fails."""
    FAILED, MATERIALIZED = AssetPartitionStatus.FAILED, AssetPartitionStatus.MATERIALIZED
    assets = snap["assets"]
    assert assets["raw"]["materialized"] == ALL_KEYS
    assert assets["raw"]["status"] == dict.fromkeys(ALL_KEYS, MATERIALIZED)
    for name in ("parsed", "indexed"):
        assert assets[name]["materialized"] == GOOD_KEYS
        assert assets[name]["status"] == {
            **dict.fromkeys(GOOD_KEYS, MATERIALIZED),
            **dict.fromkeys(BAD_RANGE, FAILED),
        }
        # 1.13 derives FAILED from planned-without-materialisation + RUN_FAILURE
        # (no ASSET_FAILED_TO_MATERIALIZE events unless the asset opts into them)
        assert assets[name]["entry"][0] == 1  # last planned by the failed run
    assert sorted(assets["raw"]["data_versions"]) == ALL_KEYS
    assert all(DATA_VERSION_TAG in tags for tags in assets["raw"]["data_versions"].values())
    assert assets["raw"]["latest"][1] in BAD_RANGE
    assert assets["raw"]["latest"][2]["n_files"] == dg.IntMetadataValue(2)
    assert assets["parsed"]["latest"][2]["n"] == dg.IntMetadataValue(10)
    for name in ASSET_KEYS:
        planned_partitions = Counter(p for _, _, p in assets[name.to_user_string()]["planned"])
        assert planned_partitions == Counter(ALL_KEYS)
    checks = sorted(snap["checks"])
    assert [(run, status.value, passed) for run, status, _, _, passed, _ in checks] == [
        (0, "SUCCEEDED", True),
        (1, "FAILED", False),
    ]
    assert [t for _, t, _ in snap["run_status_changes"]] == [
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_FAILURE,
    ]
    for run in (0, 1):
        assert snap["runs"][run]["count"] == len(snap["runs"][run]["stream"]) > 20


# ----------------------------------------------------------------------------- fixtures
def _write_stock_yaml(home: str) -> None:
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "dagster.yaml"), "w") as f:
        f.write("telemetry:\n  enabled: false\n")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run the graph on a stock and a tuned home; return both snapshots and batch stats."""
    mp = pytest.MonkeyPatch()
    batches: list[int] = []
    batch_errors: list[BaseException] = []
    original_batch = TunedSqliteEventLogStorage.store_event_batch

    def counting_batch(self, events):
        batches.append(len(events))
        try:
            return original_batch(self, events)
        except BaseException as e:  # Dagster would silently fall back to store_event
            batch_errors.append(e)
            raise

    try:
        stock_home = str(tmp_path_factory.mktemp("stock_home"))
        _write_stock_yaml(stock_home)
        mp.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
        stock = DagsterInstance.from_config(stock_home)
        assert type(stock.event_log_storage) is SqliteEventLogStorage
        stock_runs = _run_graph(stock)
        stock_snap = _snapshot(stock, stock_runs)
        stock_events = [
            [r.event_log_entry for r in stock.get_records_for_run(run_id, limit=100_000).records]
            for run_id in stock_runs
        ]
        stock.dispose()

        tuned_home = str(tmp_path_factory.mktemp("tuned_home"))
        write_instance_yaml(tuned_home)
        for k, v in tuned_environment().items():
            mp.setenv(k, v)
        mp.setattr(TunedSqliteEventLogStorage, "store_event_batch", counting_batch)
        tuned = DagsterInstance.from_config(tuned_home)
        assert type(tuned.event_log_storage) is TunedSqliteEventLogStorage
        tuned_runs = _run_graph(tuned)
        tuned_snap = _snapshot(tuned, tuned_runs)
        tuned.dispose()
    finally:
        mp.undo()

    # reopen the tuned home with the stock storage
    _write_stock_yaml(tuned_home)
    reopened = DagsterInstance.from_config(tuned_home)
    assert type(reopened.event_log_storage) is SqliteEventLogStorage
    reopened_snap = _snapshot(reopened, tuned_runs)
    reopened.dispose()
    return {
        "stock": stock_snap,
        "tuned": tuned_snap,
        "reopened": reopened_snap,
        "batches": batches,
        "batch_errors": batch_errors,
        "stock_events": stock_events,
        "tuned_home": tuned_home,
    }


# ----------------------------------------------------------------------------- tests
def test_graph_facts_hold_on_stock_storage(runs):
    _expected_absolute(runs["stock"])


def test_tuned_storage_used_batches(runs):
    # planned events at run creation + per-partition materialisations of each output
    assert runs["batches"], "store_event_batch was never called: DAGSTER_EVENT_BATCH_SIZE unset?"
    assert max(runs["batches"]) >= len(GOOD_KEYS)
    assert runs["batch_errors"] == []  # no silent fallback to per-event store_event


@pytest.mark.parametrize("part", ["assets", "checks", "run_status_changes", "runs"])
def test_tuned_matches_stock(runs, part):
    _expected_absolute(runs["tuned"])
    assert runs["tuned"][part] == runs["stock"][part]


def test_tuned_home_reads_with_stock_storage(runs):
    assert runs["reopened"] == runs["tuned"]
    assert os.path.exists(os.path.join(event_log_base_dir(runs["tuned_home"]), "index.db"))


def test_version_pin():
    event_log._check_dagster_version()  # installed version is the verified one
    with pytest.raises(ImportError, match="verified against dagster 1.13"):
        event_log._check_dagster_version("1.14.0")


def test_instance_yaml_and_environment(tmp_path):
    _write_stock_yaml(str(tmp_path))  # telemetry key must survive
    write_instance_yaml(str(tmp_path))
    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        storage = instance.event_log_storage
        assert isinstance(storage, TunedSqliteEventLogStorage)
        assert storage._base_dir == event_log_base_dir(str(tmp_path))
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_settings("telemetry") == {"enabled": False}
    finally:
        instance.dispose()
    assert int(tuned_environment()["DAGSTER_EVENT_BATCH_SIZE"]) > 0
    (tmp_path / "dagster.yaml").write_text("storage:\n  sqlite:\n    base_dir: /x\n")
    with pytest.raises(ValueError, match="storage"):
        write_instance_yaml(str(tmp_path))
    assert "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS" not in tuned_environment()


# ----------------------------------------------------------------------------- storage level
_CLOCK_COLUMNS = ("create_timestamp", "update_timestamp", "migration_completed")


def _dump_rows(base_dir: str) -> dict:
    """Every row of every table of every shard, minus columns filled from the DB/wall clock."""
    import sqlite3

    dump = {}
    for name in sorted(os.listdir(base_dir)):
        if not name.endswith(".db"):
            continue
        conn = sqlite3.connect(os.path.join(base_dir, name))
        try:
            tables = [
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in sorted(tables):
                cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
                cols = [d[0] for d in cursor.description]
                keep = [i for i, c in enumerate(cols) if c not in _CLOCK_COLUMNS]
                dump[(name, table)] = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
        finally:
            conn.close()
    return dump


def test_replayed_batch_is_row_identical(runs, tmp_path):
    """The real event streams of both runs (planned, materialisations, checks, run status, logs)
    written as ONE store_event_batch per run must leave exactly the rows that per-event
    store_event on the stock storage leaves, in every table of every shard."""
    stock = SqliteEventLogStorage(str(tmp_path / "stock"))
    tuned = TunedSqliteEventLogStorage(str(tmp_path / "tuned"))
    try:
        seen_types = {e.dagster_event_type for events in runs["stock_events"] for e in events}
        assert seen_types >= {
            DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.RUN_START,
            DagsterEventType.RUN_SUCCESS,
            DagsterEventType.RUN_FAILURE,
            DagsterEventType.STEP_FAILURE,
        }
        for events in runs["stock_events"]:
            for event in events:
                stock.store_event(event)
            tuned.store_event_batch(events)
    finally:
        stock.dispose()
        tuned.dispose()
    stock_rows, tuned_rows = _dump_rows(stock._base_dir), _dump_rows(tuned._base_dir)
    assert stock_rows.keys() == tuned_rows.keys()
    assert sum(len(v) for k, v in stock_rows.items() if k[0] == "index.db") > 50
    for key in stock_rows:
        assert tuned_rows[key] == stock_rows[key], key


def _materialization(run_id: str, asset: str, partition: str) -> EventLogEntry:
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name="job",
        event_specific_data=StepMaterializationData(
            dg.AssetMaterialization(asset_key=asset, partition=partition)
        ),
    )
    return EventLogEntry(
        error_info=None,
        level=logging.DEBUG,
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=event,
    )


def _log(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
    )


def test_threads_and_eviction(tmp_path):
    """Writers (batch + single) and readers on several threads, more run shards than the LRU."""
    storage = TunedSqliteEventLogStorage(str(tmp_path), max_open_run_shards=2)
    errors: list[BaseException] = []
    n_threads, n_batches, batch = 4, 5, 20

    def writer(t: int) -> None:
        try:
            for b in range(n_batches):
                run_id = f"run{t}_{b % 3}"
                storage.store_event_batch(
                    [_materialization(run_id, f"a{t}", f"p{b}_{i}") for i in range(batch)]
                )
                storage.store_event(_log(run_id, "single"))
                storage.get_records_for_run(f"run{(t + 1) % n_threads}_0")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    try:
        assert not errors, errors
        assert len(storage._engines) <= 1 + 2  # index + LRU of run shards
        for t in range(n_threads):
            total = sum(
                len(storage.get_records_for_run(f"run{t}_{r}", limit=10_000).records)
                for r in range(3)
            )
            assert total == n_batches * (batch + 1)
            assert (
                len(storage.get_materialized_partitions(dg.AssetKey(f"a{t}"))) == n_batches * batch
            )
    finally:
        storage.dispose()
    assert storage._engines == {}


@pytest.mark.parametrize("phase", ["index", "run_shard"])
def test_failed_batch_leaves_nothing_behind(tmp_path, monkeypatch, phase):
    """A batch that fails half-way (index writes done, or run-shard insert) writes nothing, so
    Dagster's fallback to per-event store_event cannot duplicate rows."""
    storage = TunedSqliteEventLogStorage(str(tmp_path))
    try:
        events = [_materialization("r", "a", f"p{i}") for i in range(5)]

        def boom(*args, **kwargs):
            raise RuntimeError("boom")

        # index: while merging asset-key entries; run_shard: after all index writes
        target = "_get_asset_entry_values" if phase == "index" else "run_connection"
        monkeypatch.setattr(TunedSqliteEventLogStorage, target, boom)
        with pytest.raises(RuntimeError, match="boom"):
            storage.store_event_batch(events)
        monkeypatch.undo()
        assert storage.get_records_for_run("r").records == []
        assert storage.get_materialized_partitions(dg.AssetKey("a")) == set()
        assert storage.get_asset_records([dg.AssetKey("a")]) == []
        storage.store_event_batch(events)  # Dagster's retry path
        assert len(storage.get_records_for_run("r").records) == 5
        assert len(storage.get_materialized_partitions(dg.AssetKey("a"))) == 5
    finally:
        storage.dispose()


def test_watch_sees_wal_writes(tmp_path):
    storage = TunedSqliteEventLogStorage(str(tmp_path))
    seen: list[str] = []
    try:
        storage.store_event(_log("w", "first"))  # creates and initialises w.db
        time.sleep(0.3)
        storage.watch("w", None, lambda entry, cursor: seen.append(entry.user_message))
        time.sleep(0.3)
        seen.clear()
        storage.store_event(_log("w", "second"))  # lands in w.db-wal only
        deadline = time.time() + 5
        while "second" not in seen and time.time() < deadline:
            time.sleep(0.05)
        assert "second" in seen
    finally:
        storage.dispose()


# ----------------------------------------------------------------------------- alembic scripts
ALEMBIC_CHILD = r"""
import json, os, sys
import alembic.util
loaded = []
_load = alembic.util.load_python_file
def counting(dir_, filename):
    loaded.append(filename)
    return _load(dir_, filename)
alembic.util.load_python_file = counting  # what ScriptDirectory calls for every migration file
shared = sys.argv[1] == "shared"
if shared:
    from resources.event_log import share_alembic_scripts, write_instance_yaml
    share_alembic_scripts()
    share_alembic_scripts()  # idempotent
from dagster import DagsterInstance
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
out = {"loads": [], "versions": []}
for home in sys.argv[2:]:
    before = len(loaded)
    if shared:
        os.makedirs(home, exist_ok=True)
        if not os.path.exists(os.path.join(home, "dagster.yaml")):
            write_instance_yaml(home)
        inst = DagsterInstance.from_config(home)
        storages = [inst.run_storage, inst.event_log_storage, inst.schedule_storage]
    else:  # the stock storages only (no module of this project imported)
        storages = [SqliteRunStorage.from_local(os.path.join(home, "history")),
                    SqliteScheduleStorage.from_local(os.path.join(home, "schedules"))]
    out["versions"].append([list(s.alembic_version()) for s in storages])
    out["loads"].append(len(loaded) - before)
print(json.dumps(out))
"""


def _alembic_child(mode: str, *homes) -> dict:
    import json
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run([sys.executable, "-c", ALEMBIC_CHILD, mode, *map(str, homes)], cwd=root,
                          env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_alembic_scripts_load_once_per_process_and_stamp_what_stock_storages_read(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shared = _alembic_child("shared", a, b, a)
    first, second, again = shared["loads"]
    scripts = first - 3  # the first instance loads every migration script once, and env.py for each storage's stamp
    assert scripts > 50, shared
    assert (second, again) == (3, 0), shared  # a second new home: the three stamps' env.py only; an existing one: none
    for versions in shared["versions"]:
        assert len(versions) == 3 and all(db == head and head for db, head in versions), versions
    # A fresh interpreter without this module: the stock storages read both homes at alembic's head, and
    # each loads the scripts again (what share_alembic_scripts saves)
    stock = _alembic_child("stock", a, b)
    heads = {tuple(v[1]) if isinstance(v[1], list) else v[1] for vs in shared["versions"] for v in vs}
    for versions in stock["versions"]:
        assert all(db == head and head in heads for db, head in versions), (versions, heads)
    # each of the two stock storages loads them when it opens (revision check) and again for alembic_version()
    assert stock["loads"] == [4 * scripts, 4 * scripts], (stock, scripts)
