"""Benchmark: stock vs tuned SQLite event-log storage on a synthetic CodeIntel-shaped run.

N file partitions (DynamicPartitionsDefinition "files") x 6 chained assets + 2 asset checks,
one single-run backfill over the whole range, ``in_process`` executor (``dg.materialize``),
no-op IO manager so the time is Dagster + event log, not user code.

    uv run python benchmarks/bench_event_log.py --files 200 1000
    uv run python benchmarks/bench_event_log.py --files 200 --setups stock tuned stock+batch tuned-nobatch

Each (setup, N) runs in a fresh subprocess with a fresh temporary DAGSTER_HOME:

* ``stock``          stock SqliteEventLogStorage, DAGSTER_EVENT_BATCH_SIZE unset (Dagster default)
* ``tuned``          resources.event_log.TunedSqliteEventLogStorage + tuned_environment()
* ``stock+batch``    stock storage with DAGSTER_EVENT_BATCH_SIZE (base store_event_batch = loop)
* ``tuned-nobatch``  tuned storage (pooled connections) without DAGSTER_EVENT_BATCH_SIZE

Reported: wall seconds of the materialize() call (includes run creation and planned events),
events stored for the run, ms per event, and the share of wall time spent inside the event
log storage's store_event / store_event_batch.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUPS = ("stock", "tuned", "stock+batch", "tuned-nobatch")
N_ASSETS, N_CHECKS = 6, 2


def _build_defs():
    import dagster as dg

    files = dg.DynamicPartitionsDefinition(name="files")
    policy = dg.BackfillPolicy.single_run()

    class NullIOManager(dg.ConfigurableIOManager):
        def handle_output(self, context, obj) -> None:
            pass

        def load_input(self, context):
            return None

    def make_asset(i: int):
        @dg.asset(
            name=f"a{i}",
            deps=[f"a{i - 1}"] if i > 1 else [],
            partitions_def=files,
            backfill_policy=policy,
            code_version="1",
        )
        def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"n": len(context.partition_keys)})

        return _asset

    assets = [make_asset(i) for i in range(1, N_ASSETS + 1)]

    @dg.asset_check(asset="a1")
    def a1_check() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=f"a{N_ASSETS}")
    def last_check() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    return [*assets, a1_check, last_check], {"io_manager": NullIOManager()}


def _child(setup: str, n_files: int) -> dict:
    """Run one measurement in this (fresh) process; DAGSTER_HOME is set by the parent."""
    sys.path.insert(0, ROOT)
    import dagster as dg
    from dagster import DagsterInstance

    home = os.environ["DAGSTER_HOME"]
    with open(os.path.join(home, "dagster.yaml"), "w") as f:
        f.write("telemetry:\n  enabled: false\n")
    if setup.startswith("tuned"):
        from resources.event_log import write_instance_yaml

        write_instance_yaml(home)  # keeps the telemetry key

    instance = DagsterInstance.get()
    storage = instance.event_log_storage
    in_storage = [0.0]
    depth = [0]

    def timed(fn):
        def wrapper(*args, **kwargs):
            depth[0] += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    in_storage[0] += time.perf_counter() - start

        return wrapper

    storage.store_event = timed(storage.store_event)
    storage.store_event_batch = timed(storage.store_event_batch)

    defs, resources = _build_defs()
    keys = [f"file_{i:05d}.py" for i in range(n_files)]
    instance.add_dynamic_partitions("files", keys)

    start = time.perf_counter()
    result = dg.materialize(
        defs,
        instance=instance,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )
    seconds = time.perf_counter() - start
    assert result.success
    events = len(instance.get_records_for_run(result.run_id, limit=10_000_000).records)
    materialized = len(instance.get_materialized_partitions(dg.AssetKey(f"a{N_ASSETS}")))
    assert materialized == n_files, (materialized, n_files)
    out = {
        "setup": setup,
        "storage": type(storage).__name__,
        "files": n_files,
        "seconds": seconds,
        "events": events,
        "ms_per_event": 1000 * seconds / events,
        "storage_share": in_storage[0] / seconds,
    }
    instance.dispose()
    return out


def _run(setup: str, n_files: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    if setup in ("tuned", "stock+batch"):
        sys.path.insert(0, ROOT)
        from resources.event_log import tuned_environment

        env.update(tuned_environment())
    with tempfile.TemporaryDirectory(prefix="bench_dagster_home_") as home:
        env["DAGSTER_HOME"] = home
        proc = subprocess.run(
            [sys.executable, __file__, "--child", setup, str(n_files)],
            env=env,
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-5000:])
        raise SystemExit(f"{setup} x {n_files} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], int(sys.argv[3]))))
        return

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, nargs="+", default=[1000])
    parser.add_argument("--setups", nargs="+", choices=SETUPS, default=["stock", "tuned"])
    args = parser.parse_args()

    print(
        f"{'setup':<14} {'files':>6} {'seconds':>8} {'events':>7} {'ms/event':>9} {'in storage':>10}"
    )
    results = {}
    for n in args.files:
        for setup in args.setups:
            r = results[(setup, n)] = _run(setup, n)
            print(
                f"{setup:<14} {n:>6} {r['seconds']:>8.1f} {r['events']:>7} "
                f"{r['ms_per_event']:>9.2f} {r['storage_share']:>9.0%}",
                flush=True,
            )
    for n in args.files:
        if ("stock", n) in results and ("tuned", n) in results:
            ratio = results[("stock", n)]["seconds"] / results[("tuned", n)]["seconds"]
            print(f"files={n}: stock/tuned = {ratio:.1f}x")


if __name__ == "__main__":
    main()
