"""What the inspect step re-runs, and why (``codeintel index --inspect``).

A module's runtime facts depend on its own source, on the inspect settings, and on what it imports.
A file is inspected again when:

- ``full``: ``--full`` re-runs every file;
- ``changed``: the static pass indexed it in this run (new or changed content);
- ``never inspected``: it has no inspect status row (the plane is new for it, or a run died);
- ``file changed since inspected``: its status row is for other bytes (it changed in a run without
  ``--inspect``);
- ``inspect settings changed``: the allow/deny lists, probes, interpreter or budgets differ from the
  ones its row was made with;
- ``imports a re-inspected module``: its code imports (``IMPORT_NAME``, absolute names, from the
  bytecode plane) a module re-inspected for one of the reasons above, directly or transitively.
  Relative imports (``from . import x``) are not followed: a package's sibling edited alone does not
  re-run its importers (``--full`` does).
"""

from collections.abc import Sequence


def all_file_tables() -> list[str]:
    """Every per-file table a file's rows may be in: the static pass's and the inspect plane's."""
    from codeintel_assets.contracts import inspect as C
    from codeintel_assets.pipeline import pass_tables
    return [tc.name for tc in pass_tables()] + [tc.name for tc in C.FILE_TABLES]


def inspect_work(conn, seen: Sequence[str], static_work: Sequence[str], modules: dict[str, str], policy: str,
                 full: bool) -> dict[str, str]:
    """key -> the reason it is inspected in this run (keys with no reason are current)."""
    from resources.duck import table_exists
    seen_set = set(seen)
    if full:
        return {k: "full" for k in seen}
    work = {k: "changed" for k in static_work if k in seen_set}
    stored: dict[str, tuple[str | None, str | None, str | None]] = {}
    if table_exists(conn, "py_inspect_import_attempts"):
        for path, fid, cur, pol in conn.execute(
                "SELECT a.path, a.file_id, f.file_id, a.policy_sha256 FROM py_inspect_import_attempts a "
                "LEFT JOIN py_files f USING (path)").fetchall():
            stored[path] = (fid, cur, pol)
    for k in seen:
        if k in work:
            continue
        if k not in stored:
            work[k] = "never inspected"
        elif stored[k][0] != stored[k][1]:
            work[k] = "file changed since inspected"
        elif stored[k][2] != policy:
            work[k] = "inspect settings changed"
    if work and stored and table_exists(conn, "py_bc_instructions"):
        imports: dict[str, set[str]] = {}
        for path, name in conn.execute("SELECT DISTINCT path, argval_str FROM py_bc_instructions "
                                       "WHERE baseopname = 'IMPORT_NAME' AND argval_str IS NOT NULL").fetchall():
            parts = name.split(".")
            imports.setdefault(path, set()).update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
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
