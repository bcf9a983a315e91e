"""Where the wall time of one `codeintel index` run went, read back from its Dagster event log.

Phases, in order (seconds between the events that bound them):

- ``planned events``: Dagster writes one "materialisation planned" event per asset and file when it
  creates the run (32 file assets x every file of the run), before any step starts;
- ``extraction + writes``: ``file_planes`` from its start to its last progress line (the workers
  extract, the writer thread inserts each finished batch meanwhile);
- ``last writes``: the batch written after the extraction ended, the failure lines;
- ``materialisation events``: the step's outputs, one materialisation event per asset and file, and its
  asset checks;
- then every other step (``cpg_link``, ``cpg_graph``, ...) from its start to its end.

Usage:  uv run python benchmarks/run_phases.py --dagster-home DIR [--run RUN_ID]   (default: the latest run)
``bench_stdlib.py`` prints these phases for its full index.
"""

import argparse
import re

from dagster import DagsterEventType, DagsterInstance

PROGRESS_FILES = re.compile(r"\[file_planes\] \d+/\d+ files,")  # (not its "rows written" line, after the writes)


def run_phases(instance: DagsterInstance, run_id: str) -> list[tuple[str, float]]:
    """[(phase, seconds)] of one run, in the order they happened."""
    records = instance.all_logs(run_id)
    if not records:
        raise SystemExit(f"run {run_id}: no events in this instance")
    t = [(r.timestamp, r.dagster_event.event_type if r.dagster_event else None, r.step_key,
          r.user_message or "") for r in records]
    phases: list[tuple[str, float]] = []
    planned = [ts for ts, et, _, _ in t if et in (DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                                   DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)]
    start = next((ts for ts, et, _, _ in t if et == DagsterEventType.RUN_START), None)
    if planned and start is not None:
        phases.append(("planned events", start - min(planned)))
    steps: dict[str, dict[str, float]] = {}
    for ts, et, step, msg in t:
        if not step:
            continue
        s = steps.setdefault(step, {})
        if et == DagsterEventType.STEP_START:
            s["start"] = ts
        elif et in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            s["end"] = ts
        elif et == DagsterEventType.STEP_OUTPUT:
            s.setdefault("first_output", ts)
        elif et is None and PROGRESS_FILES.match(msg):
            s["last_progress"] = ts
    for step, s in sorted(steps.items(), key=lambda kv: kv[1].get("start", 0.0)):
        if "start" not in s or "end" not in s:
            continue
        if "last_progress" in s and "first_output" in s:
            phases += [(f"{step}: extraction + writes", s["last_progress"] - s["start"]),
                       (f"{step}: last writes", s["first_output"] - s["last_progress"]),
                       (f"{step}: materialisation events", s["end"] - s["first_output"])]
        else:
            phases.append((step, s["end"] - s["start"]))
    return phases


def print_phases(instance: DagsterInstance, run_id: str, wall: float | None = None) -> None:
    phases = run_phases(instance, run_id)
    in_run = sum(s for _, s in phases)
    if wall is not None:  # the process's own time: start-up, imports, scan, reconcile, summary
        phases = [("outside the run (start-up, scan, reconcile, summary)", wall - in_run)] + phases
    total = wall if wall is not None else in_run
    for name, s in phases:
        print(f"  {name:<55} {s:7.1f}s  {100 * s / total:5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dagster-home", required=True)
    ap.add_argument("--run", help="run id (default: the latest run)")
    ap.add_argument("--wall", type=float, help="the command's wall seconds, to show the time outside the run")
    args = ap.parse_args()
    instance = DagsterInstance.from_config(args.dagster_home)
    try:
        run_id = args.run or instance.get_runs(limit=1)[0].run_id
        print(f"run {run_id}")
        print_phases(instance, run_id, args.wall)
    finally:
        instance.dispose()


if __name__ == "__main__":
    main()
