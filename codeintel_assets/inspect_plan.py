"""What the inspect step re-runs, and why (``codeintel index --inspect``).

A module's runtime facts depend on its own source, on the inspect settings, and on what it imports.
A file is inspected again when:

- ``full``: ``--full`` re-runs every file;
- ``changed``: the static pass indexed it in this run (changed content) and it had been inspected;
- ``never inspected``: it has no inspect status row (a new file, the first ``--inspect`` run, or a run
  died);
- ``file changed since inspected``: its status row is for other bytes (it changed in a run without
  ``--inspect``);
- ``inspect settings changed``: the allow/deny lists, probes, interpreter or budgets differ from the
  ones its row was made with;
- ``failed to import before``: with ``--inspect-retry-failed``, its module's import failed when it was last
  inspected (after a missing dependency was installed or the environment fixed: a failure is not retried
  otherwise, so that a module that hangs or lacks an optional dependency costs nothing on every run);
- ``inspect code changed``: its row was made by other inspect code (an upgraded CodeIntel: another
  ``version.inspector_version()``, or none recorded);
- ``imports a removed module``: when it was inspected, its imports named a module of the repository
  whose file is gone now (``TRACE`` records, per inspected file, the repository modules its imports
  named: the removed module's rows are purged before this runs, so they cannot say it);
- ``imports a re-inspected module``: its code imports a module re-inspected for one of the reasons
  above, directly or transitively. Imports are the names of the bytecode plane's ``IMPORT_NAME``
  instructions and the cpg plane's imports, whose relative ones (``from . import x``, ``from .sub
  import y``) are resolved against the file's package.
"""

from collections.abc import Sequence

# Per inspected file: the repository modules its imports named when it was inspected (written with its
# inspect rows, purged with them). Not a contract table: bookkeeping of the re-run plan, like the link's trace.
TRACE = "inspect_import_trace"


def all_file_tables() -> list[str]:
    """Every per-file table a file's rows may be in: the static pass's and the inspect plane's."""
    from codeintel_assets.contracts import inspect as C
    from codeintel_assets.pipeline import pass_tables
    return [tc.name for tc in pass_tables()] + [tc.name for tc in C.FILE_TABLES] + [TRACE]


def imported_names(conn, paths: Sequence[str] | None = None) -> dict[str, set[str]]:
    """path -> the module names its imports may load (each with its packages): the names of its
    ``IMPORT_NAME`` instructions, and the cpg plane's imports with relative ones resolved against the
    file's package (``from . import util`` in ``alembic/command.py``: ``alembic.util``; for ``from m import
    n`` both ``m`` and ``m.n``, which may be a submodule). ``paths``: only these files."""
    import pyarrow as pa

    from resources.duck import present_tables
    have = present_tables(conn, ("py_bc_instructions", "cpg_imports"))
    where = ""
    if paths is not None:
        conn.register("__inspect_keys", pa.table({"path": pa.array(sorted(paths), pa.string())}))
        where = " AND path IN (SELECT path FROM __inspect_keys)"
    out: dict[str, set[str]] = {}
    try:
        rows = []
        if "py_bc_instructions" in have:
            rows += conn.execute("SELECT DISTINCT path, argval_str FROM py_bc_instructions WHERE baseopname = "
                                 f"'IMPORT_NAME' AND argval_str IS NOT NULL AND argval_str <> ''{where}").fetchall()
        if "cpg_imports" in have:
            rows += conn.execute(
                "SELECT DISTINCT path, CASE WHEN imported_name IS NOT NULL AND NOT coalesce(is_star, false) "
                "THEN imported_module || '.' || imported_name ELSE imported_module END FROM cpg_imports "
                f"WHERE imported_module IS NOT NULL AND imported_module <> ''{where}").fetchall()
    finally:
        if paths is not None:
            conn.unregister("__inspect_keys")
    for path, name in rows:
        parts = name.split(".")
        out.setdefault(path, set()).update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def record_imports(conn, keys: Sequence[str]) -> None:
    """``TRACE`` for ``keys`` (just inspected): the modules of the repository (``py_files``) their imports
    name now. One transaction of its own, after the inspect rows' (a death between leaves the previous
    trace: the file's re-run plan then follows the imports it had)."""
    import pyarrow as pa

    from resources.duck import keys_filter, run, table_exists, transaction
    if not keys or not table_exists(conn, "py_files"):
        return
    current = {m for (m,) in conn.execute("SELECT DISTINCT module_name FROM py_files "
                                          "WHERE module_name IS NOT NULL").fetchall()}
    names = imported_names(conn, keys)
    rows = sorted({(k, m) for k in keys for m in names.get(k, ()) if m in current})
    t = pa.table({"path": pa.array([r[0] for r in rows], pa.string()),
                  "module": pa.array([r[1] for r in rows], pa.string())})
    conn.register("__codeintel_keys", pa.table({"path": pa.array(list(keys), pa.string())}))
    conn.register("__trace_rows", t)
    try:
        with transaction(conn):
            run(conn, f"CREATE TABLE IF NOT EXISTS {TRACE} (path VARCHAR, module VARCHAR)")
            run(conn, f"DELETE FROM {TRACE} WHERE {keys_filter(list(keys))}")
            run(conn, f"INSERT INTO {TRACE} SELECT path, module FROM __trace_rows")
    finally:
        conn.unregister("__trace_rows")
        conn.unregister("__codeintel_keys")


def inspect_work(conn, seen: Sequence[str], static_work: Sequence[str], modules: dict[str, str], policy: str,
                 full: bool, retry_failed: bool = False) -> dict[str, str]:
    """key -> the reason it is inspected in this run (keys with no reason are current). ``retry_failed``
    (``--inspect-retry-failed``): the files whose module failed to import are stale too."""
    from resources.duck import table_exists
    seen_set = set(seen)
    if full:
        return {k: "full" for k in seen}
    from codeintel_assets.version import inspector_version
    stored: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}
    failed_before: set[str] = set()  # files whose module failed to import when last inspected
    if table_exists(conn, "py_inspect_import_attempts"):
        columns = {r[0] for r in conn.execute("DESCRIBE py_inspect_import_attempts").fetchall()}
        version = "a.inspector_version" if "inspector_version" in columns else "NULL"  # (a database from before it)
        for path, fid, cur, pol, ver, failed in conn.execute(
                f"SELECT a.path, a.file_id, f.file_id, a.policy_sha256, {version}, a.attempted AND NOT a.ok "
                "FROM py_inspect_import_attempts a LEFT JOIN py_files f USING (path)").fetchall():
            stored[path] = (fid, cur, pol, ver)
            if failed:
                failed_before.add(path)
    code = inspector_version()
    # a file the static pass indexed in this run: changed if it had been inspected, else never inspected (a
    # new file, or the first --inspect run)
    work = {k: "changed" if k in stored else "never inspected" for k in static_work if k in seen_set}
    for k in seen:
        if k in work:
            continue
        if k not in stored:
            work[k] = "never inspected"
        elif stored[k][0] != stored[k][1]:
            work[k] = "file changed since inspected"
        elif stored[k][2] != policy:
            work[k] = "inspect settings changed"
        elif stored[k][3] != code:
            work[k] = "inspect code changed"
        elif retry_failed and k in failed_before:
            work[k] = "failed to import before"
    if stored and table_exists(conn, TRACE):
        current = set(modules.values())
        for k, module in conn.execute(f"SELECT DISTINCT path, module FROM {TRACE}").fetchall():
            if module not in current and k in seen_set and k in stored and k not in work:
                work[k] = "imports a removed module"
    if work and stored:
        imports = imported_names(conn)
        stale_modules = {modules[k] for k in work if k in modules}
        grew = True
        while grew:
            grew = False
            for k in seen:
                if k not in work and k in stored and imports.get(k, set()) & stale_modules:
                    work[k] = "imports a re-inspected module"
                    stale_modules.add(modules.get(k, ""))
                    grew = True
    return work


def contiguous_ranges(order: Sequence[str], keys: set[str], max_ranges: int = 8) -> list[list[str]]:
    """``keys`` as runs of consecutive partitions of ``order`` (one Dagster run covers one range).

    More than ``max_ranges`` ranges: one range from the first key to the last (the files between are
    inspected again too, which is correct, only slower than needed).
    """
    runs: list[list[int]] = []
    for i, k in enumerate(order):
        if k in keys:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    if len(runs) > max_ranges:
        return [list(order[runs[0][0]:runs[-1][-1] + 1])]
    return [[order[i] for i in r] for r in runs]
