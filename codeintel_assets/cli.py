"""`codeintel index | check | query | ui`: the command line over the Dagster asset graph."""

import argparse
import json
import os
import re
import sys
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

from codeintel_assets.words import count


def _quiet():
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("dagster").setLevel(logging.WARNING)


def _db(args) -> str:
    from codeintel_assets.paths import default_db
    return str(Path(args.db or default_db()).resolve())


def _table_order() -> list[str]:
    from codeintel_assets.pipeline import pass_tables
    return [tc.name for tc in pass_tables()]


class CliError(Exception):
    """One line for the user, naming the path; exit 2."""


def _check_db_location(db: str) -> None:
    """A database location we cannot write is one clear line, before Dagster or DuckDB get to it."""
    parent = Path(db).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the database directory {parent}: {exc.strerror or exc}") from exc
    if Path(db).exists() and not os.access(db, os.W_OK):
        raise CliError(f"the database {db} is read-only (index into another --db, or make it writable)")
    if not os.access(parent, os.W_OK):
        raise CliError(f"the database directory {parent} is not writable (DuckDB writes {Path(db).name}.wal beside it)")


def _error_summary(args, root, db, message: str, t0: float) -> int:
    print(f"codeintel: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"root": str(root), "db": db, "run_ok": False, "run_error": message,
                          "seconds": round(time.perf_counter() - t0, 2), **(getattr(args, "summary_extra", None) or {})}))
    return 2


def cmd_index(args) -> int:
    _quiet()
    t0 = time.perf_counter()
    root = Path(args.path).resolve()
    db = _db(args)
    try:
        if not root.is_dir():
            raise CliError(f"{root} is not a directory")
        from codeintel_assets.instance import keep_runs_setting
        try:
            args.keep_runs = keep_runs_setting(args.keep_runs)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        _check_db_location(db)
        from codeintel_assets.locking import DatabaseBusy, LockUnavailable, hold
        say = lambda m: print(f"codeintel: {m}", file=sys.stderr, flush=True)  # noqa: E731
        try:
            with hold(db, wait=not args.no_wait, on_wait=say):
                return _index(args, root, db, t0)
        except DatabaseBusy as exc:
            raise CliError(f"{exc} (run again later, or without --no-wait to wait for it)") from exc
        except LockUnavailable as exc:
            raise CliError(str(exc)) from exc
    except CliError as exc:
        args.setup_failed = True  # (codeintel watch: a first index that cannot run is not watched)
        return _error_summary(args, root, db, str(exc), t0)
    except KeyboardInterrupt:
        args.interrupted = True  # (codeintel watch stops)
        return _error_summary(args, root, db, "interrupted; the next `codeintel index` finishes what this run left", t0)
    except Exception as exc:
        where = _environment_failure(exc, db)
        if where is None:
            raise  # a bug: its traceback is the report
        return _error_summary(args, root, db, f"cannot write {where}: {exc}".splitlines()[0]
                              + (" (the file system is full: free space and index again)" if _disk_full(exc) else ""), t0)


def _environment_failure(exc: BaseException, db: str) -> str | None:
    """What a failure of the machine (a full disk, a file system gone read-only, I/O errors) outside the run's
    steps was writing: the Dagster instance (SQLite, through SQLAlchemy) or a file; None for anything else."""
    import sqlite3
    if isinstance(exc, BrokenPipeError):
        return None  # a reader that left early: ``run`` exits 141 for it, quietly
    for e in (exc, exc.__cause__, exc.__context__):
        if isinstance(e, sqlite3.Error) or type(e).__module__.startswith("sqlalchemy.exc"):
            return f"the Dagster instance {os.environ.get('DAGSTER_HOME', '')} (of the database {db})"
        if isinstance(e, OSError):
            return f"{e.filename}" if e.filename else "a file"
    return None


DISK_FULL = ("No space left on device", "[Errno 28]", "database or disk is full")  # DuckDB/OS, and SQLite


def _says_disk_full(text: str) -> bool:
    return any(m in text for m in DISK_FULL)


def _disk_full(exc: BaseException) -> bool:
    return any(_says_disk_full(str(e)) for e in (exc, exc.__cause__, exc.__context__) if e is not None)


RUN_PID_TAG, RUN_HOST_TAG = "codeintel/pid", "codeintel/host"


def _active_run_statuses() -> list:
    """The statuses of a run that has not ended (built when Dagster is imported, not at import of the CLI)."""
    from dagster import DagsterRunStatus
    return [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.NOT_STARTED,
            DagsterRunStatus.QUEUED, DagsterRunStatus.CANCELING]


def recover_dead_runs(instance) -> list[str]:
    """Runs of this instance started by a `codeintel index` whose process is gone: mark them failed.

    Called while holding the database lock, so no live `codeintel index` of this database runs. The
    rows such a run left are not trusted: files without current status rows are stale and the
    reconcile indexes them again.
    """
    import socket

    from dagster import RunsFilter
    host = socket.gethostname()
    dead = []
    for run in instance.get_runs(filters=RunsFilter(statuses=_active_run_statuses())):
        pid, rhost = run.tags.get(RUN_PID_TAG), run.tags.get(RUN_HOST_TAG)
        if pid is None or rhost != host or _pid_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"codeintel: the process of this run (pid {pid}) is gone; "
                                                 "marked failed by the next `codeintel index`")
        dead.append(run.run_id)
    return dead


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return b"codeintel" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _limits(args) -> tuple[int, float]:
    """This run's --max-file-bytes and --file-budget (their defaults when not given)."""
    from codeintel_assets.extract.syntax import DEFAULT_MAX_FILE_BYTES
    from codeintel_assets.pipeline import DEFAULT_FILE_BUDGET_SECONDS
    return (DEFAULT_MAX_FILE_BYTES if args.max_file_bytes is None else args.max_file_bytes,
            DEFAULT_FILE_BUDGET_SECONDS if args.file_budget is None else args.file_budget)


def _index(args, root: Path, db: str, t0: float) -> int:
    from codeintel_assets import settled
    from codeintel_assets.instance import InstanceError, prepare_home
    try:
        home = prepare_home(db)
    except InstanceError as exc:
        raise CliError(str(exc)) from exc
    _record_root(home, root)
    from codeintel_assets.reconcile import SCAN_CACHE, indexed_hashes, module_names, plan_reconcile, scan_repository
    from resources.duck import DamagedDatabase, ReadOnlyDatabase, check_database_file

    log = (lambda *a: None) if args.json else (lambda msg: print(msg, file=sys.stderr, flush=True))
    if args.rebuild:
        for f in (Path(db), Path(db + ".wal")):
            f.unlink(missing_ok=True)
        log(f"codeintel: --rebuild: removed {db}; every file is indexed again")
    # Nothing wrote the instance or the database since the last run finished: its partitions are the database's
    # files and no run can have died (codeintel_assets.settled). Then no Dagster at all unless there is work, and
    # one reader for the damage test, what is indexed, the link's state and an idle run's summary.
    quiet = not (args.full or args.rebuild or args.inspect) and settled.settled(home, db)
    reader = ReadOnlyDatabase(db)
    with reader.holding() if quiet else nullcontext():
        try:
            check_database_file(db, reader, as_left=quiet)
        except DamagedDatabase as exc:
            raise CliError(str(exc)) from exc
        from codeintel_assets.indexer import remove_stale_spools
        remove_stale_spools(db)  # we hold the lock: a spool of this database is a dead run's
        scan_warnings: list[str] = []
        # --full: every file read and hashed again (the cache is rewritten)
        try:  # (the repository's [tool.codeintel] exclude: a ValueError naming its file)
            disk = scan_repository(root, tuple(args.exclude or ()), scan_warnings, cache=Path(home) / SCAN_CACHE,
                                   trust_cache=not args.full)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        for w in scan_warnings:
            print(f"codeintel: warning: {w}", file=sys.stderr)
        try:
            modules = module_names(root, [f.key for f in disk], args.import_root or ())
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        indexed = None
        if quiet:
            try:
                indexed = indexed_hashes(reader, modules, _limits(args))
                plan = plan_reconcile(disk, indexed, list(indexed))
                idle = not plan.to_materialize and not plan.removed and not _relink_needed(args, root, reader)
            except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: one line, exit 2
                raise CliError(f"cannot read the database {db}: {exc}") from exc
            if idle:
                _log_plan(log, root, db, plan)
                return _finish(args, root, db, home, reader, plan, [],
                               dict(run_ok=True, t0=t0, warnings=scan_warnings))
    settled.forget(home)
    from dagster import DagsterInstance

    from codeintel_assets.paths import FILES_PARTITIONS, partition_moves, range_tags
    from codeintel_assets.pipeline import pass_tables
    from resources.store import CodeIntelStore
    store = CodeIntelStore(database=db)
    if not Path(db).exists():  # every table exists from the first run on, even for an empty repository
        try:
            store.append({tc.name: (tc.schema, tc.schema.empty_table()) for tc in pass_tables()})
        except Exception as exc:  # noqa: BLE001
            raise CliError(f"cannot create the database {db}: {exc}") from exc
    from resources.event_log import share_alembic_scripts
    share_alembic_scripts()  # before the instance: its three storages then load alembic's scripts once
    instance = DagsterInstance.get()
    recovered = recover_dead_runs(instance)
    for run_id in recovered:
        log(f"  run {run_id} died with its process: marked failed; its files are indexed again")
    try:
        if indexed is None:  # (else read above, in a state no run can have changed since)
            indexed = indexed_hashes(store, modules, _limits(args))
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: one line, exit 2
        raise CliError(f"cannot read the database {db}: {exc}") from exc
    partitions = list(instance.get_dynamic_partitions(FILES_PARTITIONS))
    plan = plan_reconcile(disk, indexed, partitions, full=args.full)
    _log_plan(log, root, db, plan, home)
    inspect_cfg = _inspect_config(args, root) if args.inspect else None
    if plan.removed:
        from codeintel_assets.inspect_plan import all_file_tables
        try:
            store.delete_files(plan.removed, all_file_tables())
        except Exception as exc:  # noqa: BLE001
            raise CliError(f"cannot write the database {db}: {exc}") from exc
        for k in plan.removed:
            if instance.has_dynamic_partition(FILES_PARTITIONS, k):
                instance.delete_dynamic_partition(FILES_PARTITIONS, k)
    work = plan.to_materialize
    # All work must be one contiguous range of the partition order: changed files that are not already
    # the tail are moved there (deleted and added again) with the new files. A --full run moves nothing.
    move, append, work_range = partition_moves(partitions, plan.removed, plan.changed, plan.added)
    for k in move:
        instance.delete_dynamic_partition(FILES_PARTITIONS, k)
    if append:
        instance.add_dynamic_partitions(FILES_PARTITIONS, append)
    if sorted(work_range) != work:  # an invariant of tail_plan: never run a range holding unchanged files
        raise CliError(f"internal error: the work is not one contiguous partition range ({len(work_range)} keys "
                       f"for {len(work)} files); `codeintel index --rebuild` starts over")
    checks, run_ok, run_id, run_error, timings = [], True, None, None, {}
    # Progress lines go to stderr, also with --json (its one line is on stdout): a long run in CI says
    # how far it is. --quiet silences them.
    os.environ["CODEINTEL_PROGRESS"] = "0" if args.quiet else "1"
    defs = None
    if work or args.inspect:
        from codeintel_assets.assets import build_definitions
        defs = build_definitions(str(root), db, workers=args.workers, max_file_bytes=args.max_file_bytes,
                                 import_roots=list(args.import_root or ()), file_budget_seconds=args.file_budget,
                                 inspect=inspect_cfg or {}, scip_index=args.scip, exclude=list(args.exclude or ()))
    relink = False
    if not work:
        relink = _relink_needed(args, root, store)
    # With --inspect the link and the graph check run once, after the inspect step (its rows add projections
    # and runtime signatures: a link or a check before it would be redone after it).
    after_inspect = bool(args.inspect)
    if relink and not after_inspect:
        # No file to index, but the call graph is not the files' (files left, or the last link step failed).
        from codeintel_assets.assets import build_definitions
        defs = defs or build_definitions(str(root), db, inspect=inspect_cfg or {}, scip_index=args.scip,
                                         exclude=list(args.exclude or ()))
        run_id, run_error = _link_run(defs, instance, checks)
        run_ok = run_error is None
    if work:
        job = defs.resolve_job_def("index_files")
        import socket
        tags = {**range_tags(work_range[0], work_range[-1]), RUN_PID_TAG: str(os.getpid()),
                RUN_HOST_TAG: socket.gethostname()}
        from dagster import AssetKey

        from codeintel_assets.assets.jobs import FILE_STEP_KEYS
        result = job.execute_in_process(
            instance=instance, tags=tags, raise_on_error=False, run_config=QUIET_RUN,
            asset_selection=[AssetKey(k) for k in FILE_STEP_KEYS] if after_inspect else None)
        run_id = result.run_id
        failures = _step_errors(result)
        if failures:
            run_ok = False
            run_error = "; ".join(_root_cause(e.step_failure_data.error) for e in failures)
            if _says_disk_full(run_error):  # DuckDB's (and SQLite's, for the instance) message names no file
                run_error += (f" (the file system of {Path(db).parent} is full: the database, its spool and its "
                              "Dagster instance are written there; free space and index again)")
            if any("DagsterExecutionInterruptedError" in (e.step_failure_data.error.cls_name or "") for e in failures):
                run_error = "interrupted; the next `codeintel index` finishes what this run left"
                args.interrupted = True
        timings = _timings(result)
        checks = [_check_row(ev) for ev in result.get_asset_check_evaluations()]
    inspect_summary = None
    if args.inspect and run_ok:
        inspect_summary = _run_inspect(args, defs, instance, store, plan, work, modules, inspect_cfg, checks, log)
        if inspect_summary.get("run_error"):
            run_ok, run_error = False, inspect_summary["run_error"]
    if after_inspect and (run_ok or (inspect_summary is not None and not inspect_summary.get("interrupted"))) and (
            work or relink or (inspect_summary or {}).get("runs")):
        # The files' link (new runtime signatures rewire the arguments into the inspected files) and the graph's
        # check, once; also after a failed inspect step, so that the static rows are linked and judged.
        linked_id, link_error = _link_run(defs, instance, checks)
        run_id = run_id or linked_id
        if link_error and run_ok:
            run_ok, run_error = False, link_error
    # Only a run can supersede another: no run (nothing to do), nothing to look at.
    ran = bool(run_id or (inspect_summary or {}).get("runs"))
    pruned = _prune(args, instance, scan_warnings) if ran else (0, 0, 0.0)
    with store.reading():  # (the summary, the count of checks and the no-work record: one reader, not three)
        code = _finish(args, root, db, home, store, plan, work, dict(
            run_ok=run_ok, run_id=run_id, run_error=run_error, checks=checks, timings=timings, warnings=scan_warnings,
            recovered=recovered, inspect=inspect_summary, t0=t0, pruned=pruned,
            checks_declared=_checks_reported(defs, store) if defs is not None else None))
        if run_ok:
            _settle(home, db, instance, store)
    return code


def _checks_reported(defs, store) -> int | None:
    """How many verdicts `codeintel check` prints now: every asset check declared, ``inspect_quality`` once the
    inspect step has run on the database. A run evaluates those of its steps only (the summary says so)."""
    from codeintel_assets.gate_report import check_specs
    from codeintel_assets.validate import inspect_quality as Q
    from resources.duck import table_exists
    try:
        with store.connection(read_only=True) as conn:
            inspected = table_exists(conn, Q.TABLE)
    except Exception:  # noqa: BLE001 - the summary's own read says what is wrong with the database
        return None
    return sum(name != Q.NAME or inspected for name, _ in check_specs(defs))


def _prune(args, instance, warnings: list[str]) -> tuple[int, int, float]:
    """The superseded runs out of the instance (codeintel_assets.instance.prune_superseded_runs): (runs, bytes,
    seconds). Never fails the index: a failure is a warning, and the next index tries again."""
    from codeintel_assets.instance import prune_superseded_runs
    t = time.perf_counter()
    try:
        return (*prune_superseded_runs(instance, args.keep_runs), round(time.perf_counter() - t, 3))
    except Exception as exc:  # noqa: BLE001 - bookkeeping: the index itself is done
        warnings.append(f"could not remove superseded Dagster runs: {type(exc).__name__}: {exc}"[:300])
        return 0, 0, round(time.perf_counter() - t, 3)


def _log_plan(log, root, db, plan, home: str | None = None) -> None:
    log(f"codeintel: {root} -> {db}")
    unknown = f", {len(plan.unregistered)} unknown to the instance" if plan.unregistered else ""
    log(f"  {count(len(plan.seen), 'file')}: {len(plan.new_files)} new, {len(plan.changed_files)} changed, "
        f"{len(plan.removed)} removed, {len(plan.unchanged)} unchanged{unknown}")
    held = len(plan.unregistered) + len(plan.unregistered_changed)
    if held:  # the database's files, but not this instance's partitions: indexed again so that the UI has them
        log(f"  the Dagster instance {home} has no record of {held} files the database holds (another "
            "DAGSTER_HOME, or the instance was removed): they are indexed again so that it records them")
    if not plan.seen:
        log(f"  no *.py files under {root}")


def _relink_needed(args, root: Path, store) -> bool:
    """No file to index, but the call graph is not the files' (``link.relink_reasons``: files left, the last link
    step failed, an external SCIP index to ingest, extension modules or directories without source added or
    removed, graph views of another version): the link job."""
    from codeintel_assets.link import relink_reasons
    with store.connection(read_only=True) as conn:
        return bool(relink_reasons(conn, root, args.import_root or (),
                                   args.scip if args.scip is not None else os.environ.get("CODEINTEL_SCIP", ""),
                                   args.exclude or ()))


def _settle(home: str, db: str, instance, store) -> None:
    """Record the no-work state (codeintel_assets.settled) when the instance agrees with the database: no run
    still active, the partitions exactly the database's files."""
    from dagster import RunsFilter

    from codeintel_assets import settled
    from codeintel_assets.paths import FILES_PARTITIONS
    from resources.duck import table_exists
    try:
        if instance.get_runs(filters=RunsFilter(statuses=_active_run_statuses()), limit=1):
            return
        with store.connection(read_only=True) as conn:
            files = {r[0] for r in conn.execute("SELECT path FROM py_files").fetchall()} \
                if table_exists(conn, "py_files") else set()
        if files != set(instance.get_dynamic_partitions(FILES_PARTITIONS)):
            return
    except Exception:  # noqa: BLE001 - no state: the next run takes the normal path
        return
    # Closing the storage's connections checkpoints and removes SQLite's WAL files: the fingerprint is taken
    # after that, of the files as this process leaves them.
    instance.dispose()
    settled.record(home, db)


def _finish(args, root: Path, db: str, home: str, store, plan, work: list[str], r: dict) -> int:
    """The summary (JSON or text) and the exit code: 2 a failed run, 1 a blocking check failed, else 0."""
    try:
        rows, failed_run, failed_db = _summary_from_db(store, work)
    except Exception as exc:  # noqa: BLE001
        raise CliError(f"cannot read the database {db}: {exc}") from exc
    checks = r.get("checks", [])
    run_ok, run_error = r["run_ok"], r.get("run_error")
    blocking_failed = [c for c in checks if not c["passed"] and c["severity"] == "ERROR"]
    summary = {
        "root": str(root), "db": db, "dagster_home": home, "run_id": r.get("run_id"),
        "files_seen": len(plan.seen), "files_added": len(plan.new_files), "files_changed": len(plan.changed_files),
        "files_removed": len(plan.removed), "files_unchanged": len(plan.unchanged),
        "files_unknown_to_instance": len(plan.unregistered),
        "files_failed": len(failed_run), "failed_files": failed_run,
        "files_failed_in_db": len(failed_db), "failed_files_in_db": failed_db, "rows": rows,
        "checks_passed": sum(c["passed"] for c in checks), "checks_failed": len(blocking_failed),
        # a failed check of severity WARN (files_ok: files failed) is a warning: the exit code stays 0
        "checks_warned": sum(not c["passed"] and c["severity"] != "ERROR" for c in checks),
        "checks": [{k: c[k] for k in ("check", "asset", "passed", "severity", "metadata")} for c in checks],
        "run_ok": run_ok, "run_error": run_error, "seconds": round(time.perf_counter() - r["t0"], 2),
        "timings": r.get("timings", {}), "warnings": r["warnings"], "recovered_dead_runs": r.get("recovered", []),
        "inspect": r.get("inspect"), "dagster_runs_removed": r.get("pruned", (0, 0, 0))[0],
        "dagster_bytes_freed": r.get("pruned", (0, 0, 0))[1], "dagster_prune_seconds": r.get("pruned", (0, 0, 0))[2],
    }
    if getattr(args, "summary_extra", None):  # codeintel watch: what set this run off
        summary.update(args.summary_extra)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        _print_summary({**summary, "checks_declared": r.get("checks_declared")}, checks,
                       compact=getattr(args, "compact", False))
    if not run_ok:
        print(f"codeintel: the run failed: {run_error}", file=sys.stderr)
        return 2
    return 1 if blocking_failed else 0


def _inspect_config(args, root: Path) -> dict:
    """InspectConfig fields: the repository's [tool.codeintel.inspect], then the command line's flags."""
    from codeintel_assets.inspect_config import repository_inspect_config
    try:
        cfg = repository_inspect_config(str(root))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.inspect_allow:
        cfg["allow"] = list(args.inspect_allow)
    if args.inspect_deny:
        cfg["deny"] = list(cfg.get("deny", [])) + list(args.inspect_deny)
    if args.inspect_probe:
        cfg["probes"] = list(cfg.get("probes", [])) + list(args.inspect_probe)
    if args.inspect_env:
        env = dict(cfg.get("env", {}))
        for item in args.inspect_env:
            name, eq, value = item.partition("=")
            if not eq:
                raise CliError(f"--inspect-env {item!r}: expected NAME=VALUE")
            env[name] = value
        cfg["env"] = env
    if cfg.get("env"):
        from codeintel_assets.extract.inspect_sandbox import check_worker_env
        try:
            check_worker_env(cfg["env"])
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    for flag, key in (("inspect_python", "python"), ("inspect_timeout", "timeout_seconds"),
                      ("inspect_workers", "workers"), ("inspect_setup", "setup")):
        if getattr(args, flag) is not None:
            cfg[key] = getattr(args, flag)
    setup = cfg.get("setup") or ""
    if setup and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", setup):
        raise CliError(f"inspect setup {setup!r}: expected MODULE:QUALNAME (e.g. django:setup)")
    return cfg


def _run_inspect(args, defs, instance, store, plan, work, modules, cfg, checks, log) -> dict:
    """The inspect step over the files whose runtime facts are stale: one Dagster run per partition range."""
    from collections import Counter

    from dagster import AssetKey

    from codeintel_assets.assets.inspect import REASONS_TAG
    from codeintel_assets.assets.jobs import INSPECT_STEP_KEYS
    from codeintel_assets.inspect_plan import contiguous_ranges, inspect_work
    from codeintel_assets.paths import FILES_PARTITIONS, range_tags
    from resources.inspect import InspectConfig
    policy = InspectConfig(**cfg).settings().policy_sha256()
    with store.connection(read_only=True) as conn:
        todo = inspect_work(conn, plan.seen, work, modules, policy, args.full, args.inspect_retry_failed)
        from resources.duck import table_exists
        failed_before = 0 if todo or not table_exists(conn, "py_inspect_import_attempts") else conn.execute(
            "SELECT count(*) FROM py_inspect_import_attempts WHERE attempted AND NOT ok").fetchall()[0][0]
    reasons = Counter(todo.values())
    out = {"files": len(todo), "reasons": dict(reasons), "runs": [], "attempted": 0, "ok": 0, "skipped": 0,
           "failed": [], "run_error": None, "interrupted": False}
    if not todo:
        log("  inspect: every module's runtime facts are current" + (
            f" ({failed_before} failed to import when inspected: `--inspect-retry-failed` imports them again)"
            if failed_before else ""))
        return out
    log(f"  inspect: {len(todo)} files ({', '.join(f'{n} {r}' for r, n in reasons.most_common())})")
    order = list(instance.get_dynamic_partitions(FILES_PARTITIONS))
    job = defs.resolve_job_def("inspect_files")
    import json as _json
    import socket
    keys = []  # the files whose rows a run wrote (the step writes a range's rows at its end, all or none)
    for rng in contiguous_ranges(order, set(todo)):
        tags = {**range_tags(rng[0], rng[-1]), RUN_PID_TAG: str(os.getpid()), RUN_HOST_TAG: socket.gethostname(),
                REASONS_TAG: _json.dumps(dict(Counter(todo.get(k, "in the range") for k in rng)))}
        result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False, run_config=QUIET_RUN,
                                        asset_selection=[AssetKey(k) for k in INSPECT_STEP_KEYS])  # graph: after
        out["runs"].append(result.run_id)
        if any(ev.is_step_materialization and ev.event_specific_data.materialization.asset_key.to_user_string()
               == "py_inspect_import_attempts" for ev in result.all_events):
            keys.extend(rng)
        errors = _step_errors(result)
        if errors:
            out["interrupted"] = any("DagsterExecutionInterruptedError" in (e.step_failure_data.error.cls_name or "")
                                     for e in errors)
            out["run_error"] = ("inspect: interrupted; the next `codeintel index --inspect` finishes what this run "
                                "left" if out["interrupted"] else
                                "inspect: " + "; ".join(_root_cause(e.step_failure_data.error) for e in errors))
            break
        _take_checks(checks, result)
    # the stale files whose run finished; a run covers a range of partitions (contiguous_ranges), so the
    # current files between stale ones were inspected with them (in_range)
    out["files_done"] = sum(1 for k in keys if k in todo)
    out["files_in_range"] = len(keys) - out["files_done"]
    import gc
    gc.collect()
    from resources.duck import table_exists
    with store.connection(read_only=True) as conn:
        if not keys or not table_exists(conn, "py_inspect_import_attempts"):
            return out  # no run finished: nothing written (run_error says why)
        import pyarrow as pa
        conn.register("__k", pa.table({"path": keys}))
        a, o, sk = conn.execute("SELECT count(*) FILTER (WHERE attempted), count(*) FILTER (WHERE attempted AND ok), "
                                "count(*) FILTER (WHERE NOT attempted) FROM py_inspect_import_attempts "
                                "WHERE path IN (SELECT path FROM __k)").fetchone()
        out.update(attempted=a, ok=o, skipped=sk)
        # modules the default deny list left out that are not in a test or script directory: a library module
        # that happens to be named like one (jinja2.tests: its template tests), named so that a user can allow it
        out["denied_by_default"] = [m for (m,) in conn.execute(
            "SELECT module_name FROM py_inspect_import_attempts WHERE path IN (SELECT path FROM __k) "
            "AND NOT attempted AND starts_with(skip_reason, 'denied by default') "
            "AND NOT regexp_matches(path, '(^|/)(tests?|testing|scripts|bin)/') "
            "AND NOT regexp_matches(path, '(^|/)(test_[^/]*|[^/]*_test|conftest|setup|__main__)\\.py$') "
            "ORDER BY module_name").fetchall()]
        out["failed"] = [f"{p}: {m}: {et}: {em}" + (f" [budget: {b}]" if b else "") for p, m, et, em, b in conn.execute(
            "SELECT path, module_name, error_type, error_msg, budget_hit FROM py_inspect_import_attempts "
            "WHERE path IN (SELECT path FROM __k) AND attempted AND NOT ok ORDER BY path").fetchall()]
        # the same cause behind many failures (mypy without its dependency librt: 243 of 243) is said once, counted
        # (the message without where it was raised: `(at pkg/m.py:1)` differs from module to module)
        out["failure_causes"] = [{"error_type": et, "error_msg": em, "modules": int(n)} for et, em, n in conn.execute(
            "SELECT error_type, regexp_replace(error_msg, ' \\(at [^()]*\\)$', '') AS msg, count(*) "
            "FROM py_inspect_import_attempts WHERE path IN (SELECT path FROM __k) AND attempted AND NOT ok "
            "GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT 5").fetchall()]
    return out


QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the CLI prints its own summary


def _check_row(ev) -> dict:
    """One asset-check evaluation as the summary reports it."""
    findings = ev.metadata.get("first_findings")
    return {"check": ev.check_name, "asset": ev.asset_key.to_user_string(), "passed": ev.passed,
            "severity": ev.severity.value,
            "metadata": {k: v.value for k, v in ev.metadata.items() if k not in ("first_findings", "scope")},
            "findings": findings.value if findings else ""}


def _link_run(defs, instance, checks: list[dict]) -> tuple[str, str | None]:
    """The ``link_repository`` job (the cross-file link and the graph's check): its run id and its error
    (None when its steps ran). Its check verdicts join ``checks``: a blocking check that fails is a check
    failure (exit 1), not a failed link step (exit 2)."""
    linked = defs.resolve_job_def("link_repository").execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET_RUN)
    _take_checks(checks, linked)
    errors = _step_errors(linked)
    if not errors:
        return linked.run_id, None
    return linked.run_id, ("the link step failed (" + "; ".join(_root_cause(e.step_failure_data.error) for e in errors)
                           + "); the next `codeintel index` runs it again")


def _take_checks(checks: list[dict], result) -> None:
    """A later run's verdicts replace the earlier ones of the same checks (the run's summary keeps the last)."""
    for ev in result.get_asset_check_evaluations():
        checks[:] = [c for c in checks if c["check"] != ev.check_name]
        checks.append(_check_row(ev))


def _step_errors(result) -> list:
    """Steps that broke. A blocking check that fails fails its step after the rows were written: that
    is a check failure (exit 1), not a broken run (exit 2)."""
    return [e for e in result.all_events if e.is_step_failure
            and "DagsterAssetCheckFailedError" not in (e.step_failure_data.error.cls_name or "")]


def _timings(result) -> dict:
    """Per-plane extraction CPU and per-table write seconds, from the run's materialisation metadata."""
    plane_cpu, writes, other = {}, {}, {}
    for ev in result.all_events:
        if not ev.is_step_materialization:
            continue
        mat = ev.event_specific_data.materialization
        meta = {k: v.value for k, v in mat.metadata.items()}
        table = mat.asset_key.to_user_string()
        if "write_seconds_in_run" in meta:
            writes[table] = meta["write_seconds_in_run"]
        if "plane_cpu_seconds_in_run" in meta:
            from codeintel_assets.planes import file_planes
            plane_cpu[next(p.name for p in file_planes() if p.status == table)] = meta["plane_cpu_seconds_in_run"]
        for k in ("gates_cpu_seconds_in_run", "read_cpu_seconds_in_run", "delete_seconds_in_run"):
            if k in meta:
                other[k.replace("_in_run", "")] = meta[k]
    return {"plane_cpu_s": plane_cpu, "write_s": writes, **other}


def _root_cause(err) -> str:
    """The innermost cause of a Dagster error chain: that is what names the file or the path. Not the text of a
    worker process's traceback (``concurrent.futures``' ``_RemoteTraceback``, the cause of what the pool raises
    again in this process): its lines are the traceback, and the exception it ends with is its parent."""
    while getattr(err, "cause", None) is not None and err.cause.cls_name != "_RemoteTraceback":
        err = err.cause
    lines = [ln.strip() for ln in str(err.message).splitlines() if ln.strip()]
    # The line stating the exception ("Type: message"), not the context some messages end with
    # (DuckDB's "LINE 1: <sql>" and its ^^^ marker).
    named = [ln for ln in lines if err.cls_name and f"{err.cls_name}:" in ln]
    return (named or lines or [err.cls_name or "error"])[-1]


def _summary_from_db(store, work: list[str]):
    import duckdb
    if not Path(store.database).exists():
        return {t: 0 for t in _table_order()}, [], []
    try:
        return _summary_rows(store, work)
    except duckdb.Error:
        # A connection a failed step left open (in a reference cycle) makes DuckDB refuse a reader with
        # another configuration: collect it and read again (a full collection costs ~0.1 s: not by default).
        import gc
        gc.collect()
        return _summary_rows(store, work)


def _summary_rows(store, work: list[str]):
    from codeintel_assets.gate_report import failed_files
    from resources.duck import present_tables
    with store.connection(read_only=True) as conn:
        from codeintel_assets.contracts import inspect as C
        from codeintel_assets.link import LINK_TABLES
        # every plane's tables (0 rows when absent), then the link step's and the inspect plane's once they ran
        optional = [tc.name for tc in LINK_TABLES] + [tc.name for tc in C.FILE_TABLES] + [C.PY_INSPECT_RUN_META.name]
        have = present_tables(conn, _table_order() + optional)
        names = [t for t in _table_order() if t in have] + [t for t in optional if t in have]
        counts = dict(conn.execute(" UNION ALL ".join(f"SELECT {i} AS i, count(*) FROM main.\"{t}\""
                                                      for i, t in enumerate(names))).fetchall()) if names else {}
        rows = {t: 0 for t in _table_order()} | {t: counts[i] for i, t in enumerate(names)}
        failed_db = failed_files(conn)
        failed_run = failed_files(conn, work) if work else []
    return rows, failed_run, failed_db


def _print_summary(s: dict, checks: list[dict], compact: bool = False) -> None:
    """The text summary. ``compact`` (`codeintel watch` after its first index): the head line, the failed
    files and the checks that did not pass, without the rows per table and the passing checks' figures."""
    out = sys.stdout
    # "indexed" only when files were: a run that only inspected or relinked scanned them and found none to index
    n, secs = s["files_seen"], s["seconds"]
    n = count(n, "file")
    head = (f"RUN FAILED after scanning {n} in {secs}s" if not s["run_ok"] else
            f"indexed {n} in {secs}s" if s["files_added"] or s["files_changed"]
            or s["files_unknown_to_instance"] else
            f"scanned {n} in {secs}s, {s['files_removed']} removed from the index, none to index"
            if s["files_removed"] else f"scanned {n} in {secs}s, none to index")
    print(f"\n{head}  (added {s['files_added']}, changed "
          f"{s['files_changed']}, removed {s['files_removed']}, unchanged {s['files_unchanged']}, "
          + (f"unknown to the instance {s['files_unknown_to_instance']}, " if s["files_unknown_to_instance"] else "") +
          f"failed in this run {s['files_failed']}, failed in the database {s['files_failed_in_db']})", file=out)
    for f in s["failed_files"]:
        print(f"  FAILED {f}", file=out)
    if compact:
        _print_compact_checks(s, checks, out)
        return
    print("rows:", file=out)
    width = max([28, *(len(t) + 1 for t in s["rows"])])  # (py_inspect_class_declared_members: 34 characters)
    for t, n in s["rows"].items():
        print(f"  {t:<{width}} {n:>12,}", file=out)
    if s.get("dagster_runs_removed"):
        print(f"dagster: removed {s['dagster_runs_removed']} superseded run(s) from the instance, "
              f"{s['dagster_bytes_freed'] / 2**20:,.1f} MiB of event log (--keep-runs)", file=out)
    ins = s.get("inspect")
    if ins is not None:
        why = ', '.join(f'{n} {r}' for r, n in ins['reasons'].items()) or 'none stale'
        done = ins.get("files_done", ins["files"])
        if done == ins["files"]:
            with_them = ins.get("files_in_range", 0)
            also = (f", and {with_them} current files between them (one run inspects a range of partitions)"
                    if with_them else "")
            print(f"inspect: {ins['files']} files re-inspected ({why}){also}; ", end="", file=out)
        else:  # a run broke or was interrupted: its range wrote nothing
            stopped = "interrupted" if ins.get("interrupted") else "stopped"
            print(f"inspect: {stopped}: {done} of the {ins['files']} stale files ({why}) re-inspected; ", end="",
                  file=out)
        print(f"{ins['attempted']} modules imported in the sandbox, {ins['ok']} ok, "
              f"{ins['attempted'] - ins['ok']} failed, {ins['skipped']} skipped (not selected)", file=out)
        denied = ins.get("denied_by_default") or []
        if denied:
            print(f"  not selected, denied by default as tests or scripts (allow one by its exact name): "
                  f"{', '.join(denied[:10])}" + (f" and {len(denied) - 10} more" if len(denied) > 10 else ""), file=out)
        causes = ins.get("failure_causes") or []
        if len(ins["failed"]) > 1 and causes and causes[0]["modules"] > 1:
            print("  failed imports by cause: " + "; ".join(
                f"{c['modules']} x {c['error_type']}: {c['error_msg']}" for c in causes)
                + (" ..." if sum(c["modules"] for c in causes) < len(ins["failed"]) else ""), file=out)
        for f in ins["failed"][:20]:
            print(f"  INSPECT FAILED {f}", file=out)
        if len(ins["failed"]) > 20:
            print(f"  ... and {len(ins['failed']) - 20} more (py_inspect_import_attempts)", file=out)
    total = s.get("checks_declared")
    if checks:
        if total is not None and len(checks) < total:  # only the steps that had work ran (--inspect, a relink)
            print(f"checks (whole database; {len(checks)} of {total}, those of the steps this run ran; "
                  f"`codeintel check` prints all {total}):", file=out)
        else:
            print("checks (whole database):", file=out)
        for c in checks:
            status = _check_status(c)
            figures = ", ".join(f"{k}={v}" for k, v in c["metadata"].items())
            print(f"  {status:<4} {c['check']:<26} {c['asset']:<24} {figures}", file=out)
            if not c["passed"] and c["findings"]:
                for line in c["findings"].splitlines()[:10]:
                    print(f"        {line}", file=out)
    elif s.get("run_id") or (ins or {}).get("runs"):
        print("checks: none evaluated (the run stopped before them); `codeintel check` prints every verdict", file=out)
    else:
        print("checks: nothing changed, no run; `codeintel check` prints every verdict", file=out)
    if any(not c["passed"] and c["severity"] == "ERROR" for c in checks):
        print("A blocking check failed: every plane's rows of these files are stored (see the findings); "
              "`codeintel check` lists every finding.", file=out)
    _print_run_error(s, out)


def _check_status(c: dict) -> str:
    return "PASS" if c["passed"] else ("FAIL" if c["severity"] == "ERROR" else "WARN")


def _print_run_error(s: dict, out) -> None:
    if s["run_error"]:
        print(f"RUN FAILED: {s['run_error']}", file=out)


def _print_compact_checks(s: dict, checks: list[dict], out) -> None:
    failing = [c for c in checks if not c["passed"]]
    if checks:
        print(f"checks (whole database): {len(checks) - len(failing)} of {len(checks)} pass", file=out)
    for c in failing:
        print(f"  {_check_status(c)} {c['check']:<26} {c['asset']}", file=out)
        for line in (c["findings"] or "").splitlines()[:5]:
            print(f"        {line}", file=out)
    _print_run_error(s, out)


class _CheckConfigError(ValueError):
    """The repository's configuration of a check (the inspect thresholds) cannot be read."""


def _check_results(args, db: str, store, conn) -> list:
    """The whole database's verdict of every asset check the index run's assets declare, on the asset each
    guards (gate_report.check_specs over the Definitions `codeintel index` runs): the plane gates aggregated
    from the stored per-file results (or, with --recompute, their functions run again), the other checks
    evaluated here over the tables."""
    from codeintel_assets.assets import build_definitions
    from codeintel_assets.assets.scip import CHECK as SCIP_CHECK, MIN_ANCHORED
    from codeintel_assets.gate_report import aggregate, check_specs, database_results, recompute, scip_ingest_result
    from codeintel_assets.validate import cpg_integrity as G, inspect_quality as Q
    from resources.store import table_exists
    if args.recompute:
        paths = [r[0] for r in conn.execute("SELECT path FROM py_files ORDER BY path").fetchall()] \
            if table_exists(conn, "py_files") else []
        planes = recompute(lambda table, cols, ch: store.read(table, cols, ch, conn), paths)
    else:
        planes = aggregate(conn, None)

    def inspect_quality():
        if not table_exists(conn, Q.TABLE):  # the inspect step has never run on this database
            return None
        from codeintel_assets.inspect_config import repository_inspect_config
        from resources.inspect import InspectConfig
        try:
            cfg = repository_inspect_config(args.path)
        except ValueError as exc:
            raise _CheckConfigError(str(exc)) from exc
        return Q.inspect_quality(conn, InspectConfig(**cfg).thresholds())

    def cpg_integrity():  # the graph over the tables the database has
        if not table_exists(conn, "py_files"):
            return None
        r = G.cpg_integrity(conn)
        for k in ("nodes_by_kind", "edges_by_kind"):  # the asset's metadata; too long for a verdict line
            r.metrics.pop(k, None)
        return r

    specs = check_specs(build_definitions(args.path, db, inspect={}))
    return database_results(specs, planes, {SCIP_CHECK: lambda: scip_ingest_result(conn, SCIP_CHECK, MIN_ANCHORED),
                                            Q.NAME: inspect_quality, G.NAME: cpg_integrity})


def cmd_check(args) -> int:
    _quiet()
    from codeintel_assets.gate_report import UnevaluatedCheck, failed_files, findings_left_out, write_junit
    from resources.store import CodeIntelStore
    db = _db(args)
    if not Path(db).exists():
        print(f"codeintel: no database at {db} (run `codeintel index` first)", file=sys.stderr)
        return 2
    store = CodeIntelStore(database=db)
    try:
        from resources.duck import check_database_file
        check_database_file(db)
        with store.connection(read_only=True) as conn:
            results = _check_results(args, db, store, conn)
            failed = failed_files(conn)
            from codeintel_assets.indexer import lost_files
            lost = lost_files(conn)
    except (_CheckConfigError, UnevaluatedCheck) as exc:  # a bad configuration; an asset check `check` cannot run
        print(f"codeintel: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a damaged or busy database: one line, exit 2
        print(f"codeintel: {_cannot_open(db, exc, 'read')}", file=sys.stderr)
        return 2
    for r in results:
        print(r.summary())
        for f in r.findings[:10]:
            print(f"    {f.describe()}")
        more = findings_left_out(r, len(r.findings[:10]))
        if more:
            print(f"    {more}")
    if args.junit:
        write_junit(results, args.junit)
        print(f"JUnit report: {args.junit}")
    if lost:  # rows a run deleted before it died: the gates judge the rows that are there, and cannot see these
        one = len(lost) == 1
        print(f"FAIL {count(len(lost), 'file')} {'has' if one else 'have'} no rows: the run {lost[0][1]} deleted "
              f"{'it' if one else 'them'} to index {'it' if one else 'them'} again and died before it wrote "
              f"{'it' if one else 'them'} (first: {', '.join(p for p, _ in lost[:5])}); `codeintel index` "
              f"restores {'it' if one else 'them'}")
    blocking = [r for r in results if not r.passed and r.blocking]
    print(f"{sum(r.passed for r in results)} passed, {len(blocking)} failed, "
          f"{sum(not r.passed and not r.blocking for r in results)} warned; {count(len(failed), 'failed file')}"
          + (f"; {count(len(lost), 'file')} without rows" if lost else ""))
    return 1 if blocking or lost else 0


def _cannot_open(db: str, exc: BaseException, verb: str = "open") -> str:
    """Why a reader cannot open the database, in one line. DuckDB lets no other process open a file while one
    writes it: then say who writes (the writer lock's record, or DuckDB's own words) and what to do."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Conflicting lock" in str(exc) or "Could not set lock" in str(exc):
        from codeintel_assets.locking import holder, lock_path
        who = holder(lock_path(db))
        if who == "another process":
            m = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(exc))
            who = f"{m.group(1)} (pid {m.group(2)})" if m else who
        return (f"the database {db} is being written by {who} (a `codeintel index`?): DuckDB lets no reader open "
                f"it meanwhile; read it when that run ends")
    return f"cannot {verb} the database {db}: {first}"


def cmd_query(args) -> int:
    import duckdb

    from codeintel_assets.presets import PRESETS, PresetArgError, cfg_dot, preset_query
    if args.list_presets or (args.sql is None and args.preset is None):
        for name, (what, _) in PRESETS.items():
            print(f"{name:<20} {what}")
        print(f"{'cfg-dot':<20} the CFG of one code unit (--arg QUALNAME, MODULE::QUALPATH or QUALPATH) as Graphviz DOT")
        print(f"{'callgraph':<20} the whole call graph as one JSON object {{caller: [callees]}} (qualified names)")
        return 0
    db = _db(args)
    if not Path(db).exists():
        print(f"codeintel query: no database at {db} (run `codeintel index` first)", file=sys.stderr)
        return 2
    from resources.duck import connect_read_only
    try:
        conn = connect_read_only(db)
    except duckdb.Error as exc:
        print(f"codeintel query: {_cannot_open(db, exc)}", file=sys.stderr)
        return 2
    try:
        if args.preset == "cfg-dot":
            print(cfg_dot(conn, args.arg or ""))  # a name nothing has is an error, never an empty digraph
            return 0
        if args.preset == "callgraph":
            from codeintel_assets.presets import callgraph
            print(json.dumps(callgraph(conn), indent=None if args.json else 1, sort_keys=True))
            return 0
        if args.preset is not None:
            if args.preset not in PRESETS:
                print(f"codeintel query: no preset {args.preset!r} (see --list-presets)", file=sys.stderr)
                return 2
            sql, params = preset_query(conn, args.preset, args.arg, args.depth)
            rel = conn.sql(sql, params=params)
        else:
            rel = conn.sql(args.sql)
        if rel is None:
            return 0
        if args.json:
            for row in rel.fetchall():
                print(json.dumps(dict(zip(rel.columns, row)), default=str))
        else:
            rel.show(max_rows=args.limit, max_width=200)
    except PresetArgError as exc:  # the argument names nothing or several things: one message, exit 2
        print(f"codeintel query: {exc}", file=sys.stderr)
        return 2
    except duckdb.CatalogException as exc:
        if args.preset is None:
            print(f"codeintel query: {exc}", file=sys.stderr)
        else:  # a database an older CodeIntel wrote: a table the preset reads comes with the next index
            print(f"codeintel query: {str(exc).splitlines()[0]}: the database {db} was written by an older "
                  "CodeIntel; run `codeintel index` on its repository once to bring it up to date", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"codeintel query: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    return 0


def cmd_export(args) -> int:
    """`codeintel export`: the code property graph, or a subgraph, as Parquet or GraphML (export.py)."""
    import duckdb

    from codeintel_assets.export import FORMATS, ExportError, check_output, export_graph
    db = _db(args)
    try:
        if args.format not in FORMATS:
            raise ExportError(f"unknown --format {args.format!r} (one of: {', '.join(FORMATS)})")
        if not Path(db).exists():
            raise ExportError(f"no database at {db} (run `codeintel index` first)")
        check_output(args.format, args.out)
        from resources.duck import connect_read_only
        try:
            conn = connect_read_only(db)
        except duckdb.Error as exc:
            raise ExportError(_cannot_open(db, exc)) from exc
        try:
            figures = export_graph(conn, args.format, args.out, args.path, args.symbol)
        except duckdb.Error as exc:
            raise ExportError(f"cannot export from {db}: {str(exc).splitlines()[0]}") from exc
        finally:
            conn.close()
    except ExportError as exc:
        print(f"codeintel export: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(figures) if args.json else
          f"exported {figures['nodes']:,} nodes and {figures['edges']:,} edges to {figures['out']} ({args.format})")
    return 0


CODE_DIR = Path(__file__).resolve().parent.parent  # the directory holding codeintel_assets and resources


REPOSITORY_FILE = "codeintel_repository"  # in the instance directory: the root the last index scanned


def _record_root(home: str, root: Path) -> None:
    path, text = Path(home) / REPOSITORY_FILE, str(Path(root).resolve()) + "\n"
    try:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    except OSError:  # a record for `codeintel ui` only
        pass


def indexed_root(home: str) -> str | None:
    """The repository root the last `codeintel index` of this instance's database scanned."""
    try:
        return (Path(home) / REPOSITORY_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def ui_command(args, home: str, db: str) -> tuple[list[str], dict, str, str | None]:
    """(command, environment, working directory, a warning) of `codeintel ui`.

    The repository is PATH, else the one the database indexed (its scan cache), else the working directory:
    the UI's sensor indexes and purges against it, so a `codeintel ui --db FILE` from another directory must
    not take that directory for the repository. The code server runs in CodeIntel's own directory: with the
    user's working directory first on its sys.path, a repository's `yaml.py` shadowed Dagster's dependency."""
    recorded = indexed_root(home)
    root = str(Path(args.path).resolve()) if args.path is not None else (recorded or str(Path.cwd()))
    warning = None
    if recorded is not None and recorded != root:
        warning = (f"{root} is not the repository this database indexed ({recorded}): its sensor, if on, "
                   f"would purge those files and index these")
    env = dict(os.environ, CODEINTEL_DB=db, CODEINTEL_REPO=root)
    cmd = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "codeintel_assets.assets.repository",
           "-d", str(CODE_DIR), "-h", "127.0.0.1", "-p", str(args.port)]
    return cmd, env, str(CODE_DIR), warning


def cmd_ui(args) -> int:
    import socket

    from codeintel_assets.instance import InstanceError, prepare_home
    from codeintel_assets.ui import run_ui
    db = _db(args)
    try:
        home = prepare_home(db)
    except InstanceError as exc:
        print(f"codeintel: {exc}", file=sys.stderr)
        return 2
    with socket.socket() as probe:  # a port in use: say so now (dagster dev went on without its webserver)
        try:
            probe.bind(("127.0.0.1", args.port))
        except OSError as exc:
            print(f"codeintel: cannot serve on 127.0.0.1:{args.port} ({exc.strerror}): another UI? "
                  f"choose a port with --port", file=sys.stderr)
            return 2
    cmd, env, cwd, warning = ui_command(args, home, db)
    if warning:
        print(f"codeintel: warning: {warning}", file=sys.stderr)
    print(f"Dagster UI on http://127.0.0.1:{args.port}  (repository={env['CODEINTEL_REPO']}, db={db}, "
          f"DAGSTER_HOME={env['DAGSTER_HOME']})", file=sys.stderr)
    return run_ui(cmd, env, cwd=cwd)


def _index_options(ix) -> None:
    """The options `codeintel index` and `codeintel watch` share."""
    ix.add_argument("path", nargs="?", default=".")
    ix.add_argument("--db", help="DuckDB file (default: $CODEINTEL_DB or .codeintel/codeintel.duckdb)")
    ix.add_argument("--json", action="store_true", help="print one JSON summary object as the last line (watch: one "
                                                        "line per run)")
    ix.add_argument("--quiet", action="store_true", help="no progress lines on stderr (--json alone keeps them)")
    ix.add_argument("--exclude", action="append", metavar="GLOB", help="skip paths matching GLOB (repeatable; besides the patterns of `exclude` in "
                         "[tool.codeintel] of the repository's pyproject.toml, which every command and the UI use)")
    ix.add_argument("--workers", type=int, default=None, help="extraction processes (default: one per CPU)")
    ix.add_argument("--max-file-bytes", type=int, default=None, help="larger files become failure rows")
    ix.add_argument("--file-budget", type=float, default=None, metavar="SECONDS",
                    help="wall-clock seconds one plane may spend on one file (default 120; 0: no budget)")
    ix.add_argument("--no-wait", action="store_true",
                    help="if another codeintel index is writing the database, exit 2 instead of waiting")
    ix.add_argument("--keep-runs", metavar="N|all", default=None,
                    help="Dagster runs kept in the instance beside the database: the N newest successful runs "
                         "(default 1, or $CODEINTEL_KEEP_RUNS) and every run that still holds the newest "
                         "materialisation of some file; older superseded runs are removed. 'all': keep every run"),
    ix.add_argument("--import-root", action="append", metavar="DIR",
                    help="a directory on sys.path when the code runs (repeatable; detected: the repository root, src/)")
    ix.add_argument("--scip", default=None, metavar="FILE",
                    help="a SCIP index of the repository made by an external indexer, e.g. `scip-python index` "
                         "(default: index.scip at the repository root when it exists; relative to the root)")


def cmd_watch(args) -> int:
    """`codeintel watch` (codeintel_assets.watch): `codeintel index` now and on every change."""
    from codeintel_assets.watch import watch
    keep = args.keep_runs

    def index_once(a) -> int:
        a.keep_runs = keep  # (cmd_index parses it in place)
        return cmd_index(a)
    return watch(args, index_once)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="codeintel", description="Code property graph of a Python code base, on Dagster + DuckDB.")
    sub = p.add_subparsers(dest="cmd", required=True)
    ix = sub.add_parser("index", help="index what changed under PATH, run the checks, print a summary")
    _index_options(ix)
    ix.add_argument("--full", action="store_true", help="re-index every file, changed or not")
    ix.add_argument("--rebuild", action="store_true",
                    help="remove the database and index everything again (the recovery for a damaged database)")
    ix.add_argument("--inspect", action="store_true",
                    help="also import the modules in the sandbox and record their runtime facts (executes their "
                         "import-time code, isolated; see docs/inspect.md)")
    ix.add_argument("--inspect-retry-failed", action="store_true",
                    help="with --inspect: import again the modules whose import failed before (after installing a "
                         "missing dependency or fixing the environment; failures are not retried otherwise)")
    ix.add_argument("--inspect-allow", action="append", metavar="GLOB",
                    help="module-name glob the inspect plane may import (repeatable; replaces the configured allowlist)")
    ix.add_argument("--inspect-deny", action="append", metavar="GLOB", help="module-name glob never imported (repeatable)")
    ix.add_argument("--inspect-probe", action="append", metavar="MODULE:QUALNAME",
                    help="a zero-argument generator/coroutine factory or callable to run for py_inspect_runtime_state")
    ix.add_argument("--inspect-env", action="append", metavar="NAME=VALUE",
                    help="an environment variable for the sandbox workers, whose environment is otherwise empty "
                         "(e.g. DJANGO_SETTINGS_MODULE=mysite.settings; repeatable; adds to the configured env)")
    ix.add_argument("--inspect-setup", default=None, metavar="MODULE:QUALNAME",
                    help="a callable each sandbox worker calls before its first module (e.g. django:setup)")
    ix.add_argument("--inspect-python", default=None, metavar="PYTHON",
                    help="interpreter for the sandbox workers (e.g. the project's .venv/bin/python)")
    ix.add_argument("--inspect-timeout", type=float, default=None, metavar="SECONDS", help="wall-clock seconds per module")
    ix.add_argument("--inspect-workers", type=int, default=None,
                    help="sandbox worker processes (default: one per CPU, at most 4)")
    ix.set_defaults(fn=cmd_index)
    wa = sub.add_parser("watch", help="index PATH, then again whenever a file changes (one resident process)")
    _index_options(wa)
    wa.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                    help="how often the files' status is polled (default 1)")
    wa.set_defaults(fn=cmd_watch, full=False, rebuild=False, inspect=False, inspect_retry_failed=False,
                    inspect_allow=None, inspect_deny=None, inspect_probe=None, inspect_env=None, inspect_setup=None,
                    inspect_python=None, inspect_timeout=None, inspect_workers=None)
    ck = sub.add_parser("check", help="run every gate over the database; print the report; write JUnit XML")
    ck.add_argument("--db")
    ck.add_argument("--junit", metavar="FILE")
    ck.add_argument("--path", default=".", help="the repository whose pyproject.toml sets the inspect_quality "
                                                "thresholds (default: the working directory)")
    ck.add_argument("--recompute", action="store_true",
                    help="run every gate function again over the stored rows (reads every table) instead of "
                         "aggregating the stored per-file results")
    ck.set_defaults(fn=cmd_check)
    q = sub.add_parser("query", help="read-only SQL over the tables, or a named preset")
    q.add_argument("sql", nargs="?")
    q.add_argument("--preset", help="a named query (see --list-presets)")
    q.add_argument("--arg", help="the preset's argument (a name, a qualpath)")
    q.add_argument("--depth", type=int, default=3, help="how far the callers / callees presets follow calls (default 3)")
    q.add_argument("--list-presets", action="store_true")
    q.add_argument("--db")
    q.add_argument("--json", action="store_true")
    q.add_argument("--limit", type=int, default=40)
    q.set_defaults(fn=cmd_query)
    ex = sub.add_parser("export", help="write the code property graph (or a subgraph) as Parquet or GraphML")
    ex.add_argument("--db")
    ex.add_argument("--format", required=True, metavar="parquet|graphml",
                    help="parquet: a directory with nodes.parquet and edges.parquet; graphml: one file")
    ex.add_argument("--out", required=True, metavar="PATH", help="the directory (parquet) or file (graphml) to write")
    ex.add_argument("--path", action="append", metavar="FILE",
                    help="only the nodes of this file (or of the files under DIR/), the edges touching them and "
                         "their other endpoints (repeatable)")
    ex.add_argument("--symbol", action="append", metavar="QUALNAME",
                    help="only this definition (qualified name or SCIP symbol), the definitions inside it, their "
                         "call sites and the call sites calling them, with the edges touching them (repeatable)")
    ex.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ex.set_defaults(fn=cmd_export)
    ui = sub.add_parser("ui", help="start the Dagster UI (webserver + daemon) on 127.0.0.1")
    ui.add_argument("path", nargs="?", default=None,
                    help="the repository (default: the one the database indexed, else the working directory)")
    ui.add_argument("--db")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(fn=cmd_ui)
    args = p.parse_args(argv)
    try:
        return args.fn(args)
    except BrokenPipeError:
        # `codeintel index | head`: the reader left; the work is done and stored. No traceback: stop
        # writing (Python would report the pipe again at exit) and exit like a process killed by SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13


def run() -> None:
    """The console script: ``main``, then exit without the interpreter's teardown.

    Tearing down an interpreter that imported Dagster (~2,000 modules) and freed Arrow's and DuckDB's memory
    takes 0.7-1.0 s after the work is done, a tenth of a one-file edit's re-index. Everything that must
    happen at exit has happened when ``main`` returns: the database connections are closed (checkpointed),
    the Dagster instance disposed, the extraction and sandbox processes joined, the spools removed; the lock
    file's lock is the process's and goes with it. What is skipped: the atexit callbacks of libraries
    (alembic's resource files, filelock's locks: none used here), and freeing memory the OS takes back anyway.
    ``main`` itself (the tests call it in-process) exits normally.

    The process never imports pandas (``arrow_guard``: pyarrow would, 0.3 s of every run).
    """
    from codeintel_assets.arrow_guard import refuse_pandas
    refuse_pandas()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # the reader left (a pipe): nothing more to say to it
            pass
    import logging
    logging.shutdown()
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    run()
