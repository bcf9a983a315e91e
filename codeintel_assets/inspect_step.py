"""The inspect step: import the selected files' modules in the sandbox, anchor what they define, store it.

Dagster-free (the ``inspect_plane`` asset, the CLI and the tests call ``inspect_keys``). It runs after
the static pass of the same ``codeintel index`` (its own step: it executes code, the static pass
never does) and reads from DuckDB only what it joins to: ``py_files`` (file ids), and the code units
and instructions of the files the objects' code lives in.

Selection (``select``): a file is attempted when its module name is importable, the allowlist matches
it and neither the denylist nor the default denial (tests, scripts, ``__main__``, ``setup.py``,
``conftest``) does. A file not attempted still gets its status row (``attempted = false`` and why).
"""

import bisect
import fnmatch
import functools
import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import pyarrow as pa

from codeintel_assets.contracts import inspect as C
from codeintel_assets.extract.inspect_sandbox import Budgets, Command, ModuleResult, Sandbox
from codeintel_assets.extract.rows import set_column, to_table
from codeintel_assets.reconcile import key_to_path

MODE = "static"
# Module-name patterns denied unless the user's allowlist names the module exactly.
DEFAULT_DENY_MODULES = ("test", "tests", "test.*", "tests.*", "*.test", "*.tests", "*.test.*", "*.tests.*",
                        "test_*", "*.test_*", "*_test", "*.*_test", "conftest", "*.conftest", "setup",
                        "__main__", "*.__main__", "scripts", "scripts.*", "*.scripts.*", "bin.*", "testing.*",
                        "*.testing.*")


@dataclass(frozen=True)
class InspectSettings:
    python: str = ""  # interpreter of the workers (default: this one)
    allow: tuple[str, ...] = ("*",)  # module-name globs
    deny: tuple[str, ...] = ()
    default_deny: bool = True
    probes: tuple[str, ...] = ()  # "module:qualname" of zero-argument factories / callables to run
    workers: int = 0  # 0: one per CPU, at most 4
    budgets: Budgets = field(default_factory=Budgets)
    env: tuple[tuple[str, str], ...] = ()  # (name, value) set in every worker (DJANGO_SETTINGS_MODULE)
    setup: str = ""  # "module:qualname" of a callable each worker calls before its first module (django:setup)

    def policy_sha256(self) -> str:
        d = {"python": self.python, "allow": list(self.allow), "deny": list(self.deny),
             "default_deny": self.default_deny, "probes": list(self.probes), "budgets": asdict(self.budgets)}
        # (each absent when unset: the policies recorded before these settings existed stay current)
        if self.env:
            d["env"] = sorted(map(list, self.env))
        if self.setup:
            d["setup"] = self.setup
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


class InterpreterError(RuntimeError):
    """The sandbox's interpreter cannot run, or is another Python than the static planes' (one line)."""


def interpreter_info(python: str) -> tuple[str, str, list[str]]:
    """(executable, ``sys.version``, ``sys.path``) of the sandbox's interpreter in isolated mode (what the
    workers see); InterpreterError when it cannot run."""
    import subprocess
    import sys
    exe = python or sys.executable
    try:
        got = subprocess.run([exe, "-I", "-c", "import sys, json; print(json.dumps([sys.executable, sys.version, "
                              "sys.path]))"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise InterpreterError(f"the inspect interpreter {exe} cannot run: {exc}") from None
    try:
        out = json.loads(got.stdout)
        return out[0], out[1], out[2]
    except (ValueError, IndexError, TypeError):
        raise InterpreterError(f"the inspect interpreter {exe} cannot run "
                               f"({got.stderr.strip()[:200] or 'exit ' + str(got.returncode)})") from None


def check_interpreter(python: str) -> None:
    """The workers' interpreter must start and be this Python's major.minor: the runtime facts join the
    static planes' code objects and instruction offsets, which are version-specific."""
    import sys
    if not python or python == sys.executable:
        return  # this interpreter (the default): it runs, and it is the static planes' version
    exe, version, _path = interpreter_info(python)
    want = "%d.%d" % sys.version_info[:2]
    have = ".".join(version.split()[0].split(".")[:2])
    if have != want:
        raise InterpreterError(f"the inspect interpreter {exe} is Python {have}; the static planes are Python "
                               f"{want}'s, and runtime facts only join code objects of the same version")


def skip_reason(module: str, s: InspectSettings) -> str | None:
    """Why ``module`` is not imported, or None."""
    # importlib.import_module imports any name whose parts name files and directories: `pkg.table-v1` is
    # pkg/table-v1.py (rich loads its unicode data tables so), only the import statement needs identifiers
    parts = module.split(".")
    if not module or module == "<module>" or not all(p and "/" not in p and "\\" not in p for p in parts):
        return "not an importable module name"
    if any(fnmatch.fnmatchcase(module, p) for p in s.deny):
        return "denylist"
    if not any(fnmatch.fnmatchcase(module, p) for p in s.allow):
        return "not in the allowlist"
    if s.default_deny and module not in s.allow and any(fnmatch.fnmatchcase(module, p) for p in DEFAULT_DENY_MODULES):
        return "denied by default (tests, scripts, __main__, setup, conftest); allow it by its exact name"
    return None


@dataclass
class InspectRunResult:
    attempted: int = 0
    ok: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)  # "path: module: error" lines
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workers_started: int = 0
    objects: int = 0
    anchored: int = 0
    with_source: int = 0


# The static planes' failures that mean the file cannot be imported as it is (not a regular file, unreadable,
# over a limit): importing it would fail with a message about something else ("No module named 'fifo'").
UNREADABLE_STAGES = ("read", "limit")


def _file_rows(store, keys: Sequence[str], conn) -> tuple[dict[str, tuple[str, bool]], dict[str, str]]:
    """(path -> (file id, ok), path -> why the static planes could not read it) from one read of py_files."""
    cols = ("path", "file_id", "ok", "error_stage", "error_type", "error_msg")
    t = store.read("py_files", list(cols), keys, conn)
    files, unreadable = {}, {}
    for p, f, ok, st, et, em in zip(*(t.column(c).to_pylist() for c in cols)):
        files[p] = (f, ok)
        if not ok and st in UNREADABLE_STAGES:
            unreadable[p] = f"the static planes could not read it ({et}: {em})"
    return files, unreadable


def path_names_module(key: str, module: str, prefix: str = "") -> bool:
    """Do the file's path components spell its module name? A directory whose name has a dot (`weird.py/inner.py`
    named `weird.py.inner`) or a dotted file name (`a.b.py`) cannot be imported under that name: the import system
    looks for a package `weird`. ``prefix``: the repository root's own package name when the root is a package
    (``extract.modules.package_prefix``: `text.py` of an indexed `rich/` is `rich.text`)."""
    comps = (prefix.split(".") if prefix else []) + list(PurePosixPath(key).with_suffix("").parts)
    if comps and comps[-1] == "__init__":
        comps = comps[:-1]
    parts = module.split(".")
    return comps[-len(parts):] == parts


def _plan(store, conn, root: str, keys: Sequence[str], modules: dict[str, str], settings: InspectSettings,
          policy: str, run_id, res: InspectRunResult):
    """(file rows, commands, their keys, status rows of the files not attempted)."""
    files, unreadable = _file_rows(store, keys, conn)
    commands, cmd_keys, status = [], [], {}
    probes_by_module: dict[str, list[str]] = {}
    for p in settings.probes:
        mod, _, qual = p.partition(":")
        probes_by_module.setdefault(mod, []).append(qual)
    from codeintel_assets.extract.modules import package_prefix
    prefix = package_prefix(root)
    for key in keys:
        module = modules[key]
        fid, static_ok = files.get(key, (None, False))
        why = skip_reason(module, settings)
        if why is None and not path_names_module(key, module, prefix):
            spelled = module.replace('"', "")  # (modules.quote_part quotes a part with a dot: as a path spells it)
            why = (f"not an importable module name: the path {key} has a dotted directory or file name, and "
                   f"`import {spelled}` looks for a package {spelled.split('.')[0]}")
        if why is None and fid is None:
            why = "not indexed by the static planes"
        if why is None and key in unreadable:
            why = unreadable[key]
        if why is not None:
            res.skipped += 1
            status[key] = _status_row(fid, module, False, why, None, policy, run_id)
            continue
        commands.append(Command(module, os.path.join(root, key_to_path(key)), probes_by_module.get(module, [])))
        cmd_keys.append(key)
    return files, commands, cmd_keys, status


def inspect_keys(store, root: str, keys: Sequence[str], modules: dict[str, str], settings: InspectSettings,
                 import_roots: Sequence[str], run_id: str | None = None,
                 log: Callable[[str], None] = lambda m: None) -> InspectRunResult:
    """Import the modules of ``keys`` in the sandbox and replace their inspect rows in ``store``."""
    t_start = time.perf_counter()
    _repo_key.cache_clear()  # files may have come and gone since the last run in this process
    root = str(Path(root).resolve())
    res = InspectRunResult()
    policy = settings.policy_sha256()
    from codeintel_assets.extract.modules import import_dir
    # the repository root's entry on sys.path: above it when it is a package itself (modules named prefix.*)
    abs_roots = [os.path.join(root, r) if r else import_dir(root) for r in import_roots]
    rows_of: dict[str, list[tuple]] = {tc.name: [] for tc in C.FILE_TABLES}  # every file's rows, per table
    paths_of: dict[str, list[str]] = {tc.name: [] for tc in C.FILE_TABLES}
    texts: dict = {}  # key -> (lines, cumulative line ends, bytes) of files whose rows need source text
    shas: dict = {}  # repr -> its sha256, for the run

    parts: dict[str, list[pa.Table]] = {tc.name: [] for tc in C.FILE_TABLES}  # the rows converted so far

    def add(tc, rows, key):
        rows_of[tc.name].extend(rows)
        paths_of[tc.name].extend([key] * len(rows))

    def flush():
        """The rows collected so far become Arrow tables (a few hundred bytes a row instead of a few KB as
        Python lists: sympy's 831 modules held ~2 GB in the parent until the end of the step)."""
        for name, t in _chunk_tables(rows_of, paths_of, status, res).items():
            parts[name].append(t)
        for name in rows_of:
            rows_of[name].clear()
            paths_of[name].clear()

    def collect(key: str, cmd: Command, r: ModuleResult, code_units: "CodeUnits"):
        """One module's reply -> its rows in every table (while the workers import the next modules)."""
        fid = files[key][0]
        res.attempted += 1
        res.ok += bool(r.ok)
        if not r.ok:
            res.failures.append(f"{key}: {cmd.module}: {r.error_type}: {r.error_msg}"
                                + (f" [budget: {r.budget}]" if r.budget else ""))
        try:
            code_units.ensure(_files_referenced(r, root))
            converted = _convert(code_units.conn, r, fid, root, code_units, texts, shas)
            anchors, with_source, anchored = anchor_objects(fid, r.tables.get("code_locations", []), root,
                                                            code_units)
        except Exception as exc:  # noqa: BLE001 - the worker runs the module's code: its reply is not trusted
            r.ok, r.error_type, r.tables = False, "MalformedReply", {}
            r.error_msg = f"the worker's reply for {cmd.module} does not fit the contract: {type(exc).__name__}: {exc}"[:500]
            res.ok -= 1
            res.failures.append(f"{key}: {cmd.module}: {r.error_type}: {r.error_msg}")
            converted, anchors, with_source, anchored = {}, [], 0, 0
        for tc, rows in converted.items():
            add(tc, rows, key)
        res.objects += len(r.tables.get("objects", []))
        res.with_source += with_source
        res.anchored += anchored
        add(C.PY_INSPECT_OBJECT_ANCHORS, anchors, key)
        add(C.PY_INSPECT_DECORATORS, decorator_rows(fid, anchors, r.tables.get("unwrap_hops", []), code_units,
                                                     root, texts), key)
        status[key] = _status_row(fid, cmd.module, True, None, r, policy, run_id, len(r.tables.get("objects", [])),
                                  with_source, anchored)

    # One read-only connection for the file ids and the code units, closed before the write.
    with store.connection(read_only=True) as conn:
        files, commands, cmd_keys, status = _plan(store, conn, root, keys, modules, settings, policy, run_id, res)
        if commands:
            check_interpreter(settings.python)
            last = time.perf_counter()
            with Sandbox(settings.python or None, abs_roots, settings.budgets, settings.workers,
                         dict(settings.env), settings.setup) as sb:
                code_units = CodeUnits(store, conn)
                code_units.ensure(set(cmd_keys))  # most objects are defined in the files being inspected
                for n, (i, r) in enumerate(sb.results(commands), 1):
                    collect(cmd_keys[i], commands[i], r, code_units)
                    if sum(map(len, rows_of.values())) >= CHUNK_ROWS:  # between modules: a file's rows stay together
                        flush()
                    if n == len(commands) or time.perf_counter() - last >= 5.0:  # the last line, as the file pass
                        last = time.perf_counter()
                        log(f"[inspect] {n}/{len(commands)} modules, {last - t_start:.1f}s")
                res.workers_started = sb.workers_started
    flush()
    out = _tables(parts, status, keys)
    from codeintel_assets.locking import hold
    with hold(store.database, on_wait=log):
        with store.connection() as conn:
            store.replace_files(list(keys), out, conn)
            from codeintel_assets.inspect_plan import record_imports
            record_imports(conn, keys)  # the repository modules they import now: a removal re-runs them
            from codeintel_assets.link import mark_stale
            mark_stale(conn, keys)  # their runtime signatures changed: the next link wires their calls again
    res.rows = {name: t.num_rows for name, (_, t) in out.items()}
    res.seconds = time.perf_counter() - t_start
    return res


CHUNK_ROWS = 100_000  # rows the step holds as Python lists before converting them to Arrow


def _chunk_tables(rows_of: dict, paths_of: dict, status: dict, res: InspectRunResult) -> dict[str, pa.Table]:
    """The collected rows as one Arrow table per contract (the path column set at once), the status table
    aside.

    A value of the wrong type (a reply the module forged with the right widths) fails that table's
    conversion: then each file's rows are converted alone, the files whose rows do not convert lose
    all their rows and their status says ``MalformedReply``, and the rest is converted again.
    """
    bad: set[str] = set()
    built: dict[str, pa.Table] = {}
    for tc in C.FILE_TABLES:
        if tc.name == C.STATUS:
            continue
        try:
            built[tc.name] = to_table(tc, rows_of[tc.name], "")
        except Exception:  # noqa: BLE001 - find the files whose rows do not fit
            by_key: dict[str, list] = {}
            for row, k in zip(rows_of[tc.name], paths_of[tc.name]):
                by_key.setdefault(k, []).append(row)
            for k, rows in by_key.items():
                try:
                    to_table(tc, rows, k)
                except Exception as exc:  # noqa: BLE001
                    if k not in bad and status[k][4]:
                        res.ok -= 1
                    bad.add(k)
                    st = list(status[k])
                    st[4:8] = [False, "extract", "MalformedReply",
                               f"the worker's reply does not fit {tc.name}: {type(exc).__name__}: {exc}"[:500]]
                    status[k] = tuple(st)
                    res.failures.append(f"{k}: {st[1]}: MalformedReply: {st[7]}")
    out = {}
    for tc in C.FILE_TABLES:
        if tc.name == C.STATUS:
            continue
        if not bad:  # every file's rows fit: the table built above
            t, paths = built[tc.name], paths_of[tc.name]
        else:
            pairs = [(r, k) for r, k in zip(rows_of[tc.name], paths_of[tc.name]) if k not in bad]
            rows, paths = [r for r, _ in pairs], [k for _, k in pairs]
            t = to_table(tc, rows, "")
        out[tc.name] = set_column(t, "path", pa.array(paths, pa.string()))
    return out


def _tables(parts: dict[str, list[pa.Table]], status: dict, keys: Sequence[str]) -> dict:
    """One table per contract for the whole run: the converted parts, and the status table (every key)."""
    out = {}
    for tc in C.FILE_TABLES:
        if tc.name == C.STATUS:
            t = set_column(to_table(tc, [status[k] for k in keys], ""), "path", pa.array(list(keys), pa.string()))
        else:
            t = pa.concat_tables(parts[tc.name]) if parts[tc.name] else \
                set_column(to_table(tc, [], ""), "path", pa.array([], pa.string()))
        out[tc.name] = (tc.schema, t)
    return out


def _convert(conn, r: ModuleResult, fid: str, root: str, code_units: dict, texts: dict, shas: dict) -> dict:
    """One module's worker rows as contract tables (a row of the wrong width or type raises)."""
    out = {}
    for wname, tc in C.WORKER_TABLES.items():
        refs = _VALUE_REF_COLUMNS[tc.name]
        got = r.tables.get(wname, [])
        if not set(map(type, got)) <= {list}:
            raise ValueError(f"{tc.name}: a row that is not a list")
        rows = ([(fid, MODE, *_row(row, refs, shas)) for row in got] if refs else
                [(fid, MODE, *row) for row in got])
        if tc is C.PY_INSPECT_RUNTIME_STATE:
            rows = _join_runtime(conn, rows, root, code_units)
        elif tc is C.PY_INSPECT_SOURCE:
            rows = _fill_source(rows, root, code_units, texts)
        width = len(tc.schema) - 2
        if not set(map(len, rows)) <= {width}:
            bad = next(row for row in rows if len(row) != width)
            raise ValueError(f"{tc.name}: a row of {len(bad)} values, the contract has {width}")
        out[tc] = rows  # types are checked when the run's rows become one Arrow table per contract
    return out


# Per worker table: the positions (in the worker's row, after file_id and mode) of ValueRef columns.
_VALUE_REF_COLUMNS = {tc.name: tuple(k - 4 for k, f in enumerate(tc.schema) if f.type == C.VALUE_REF)
                      for tc in C.FILE_TABLES}


def _row(row: list, refs: tuple[int, ...], shas: dict) -> list:
    """A ValueRef column (7 items from the worker) becomes the contract's struct, with ``repr_sha256``
    (over the truncated repr) computed here; a malformed one fails the module's conversion. ``shas``
    caches the hash per repr for the run (a value shows up as a member of every subclass)."""
    row = list(row)
    for k in refs:
        v = row[k]
        if v is not None:
            text = v[2]
            sha = shas.get(text) if type(text) is str else None
            if sha is None:
                sha = shas[text] = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
            row[k] = (*v[:4], sha, *v[4:7])
    return row


def _status_row(fid, module, attempted, why, r: ModuleResult | None, policy, run_id, objects=0, with_source=0,
                anchored=0) -> tuple:
    from codeintel_assets.version import inspector_version
    if r is None:
        return (fid, module, attempted, why, True, None, None, None, None, None, None, None, None, None, None,
                None, [], 0, 0, 0, policy, run_id, inspector_version())
    stage = None if r.ok else ("budget" if r.budget else "worker" if r.error_type in ("WorkerDied", "WorkerError")
                               else "extract" if (r.error_type or "").startswith("ExtractorError") else "import")
    return (fid, module, True, None, r.ok, stage, r.error_type, r.error_msg, r.budget, round(r.seconds, 4),
            r.stdout_bytes, r.stderr_bytes, r.stderr_sha256, r.stderr_tail or None, r.worker_pid, r.worker_replaced,
            list(r.caps), objects, with_source, anchored, policy, run_id, inspector_version())


# ------------------------------------------------------------------------------------------- anchoring


@functools.lru_cache(maxsize=65536)
def _repo_key(filename: str | None, root: str) -> str | None:
    """The repository key of a code object's file, or None when it lies outside the repository
    (cached: thousands of objects share a few files; a run sees each file as it was when it started)."""
    if not filename or filename.startswith("<") or not os.path.isfile(filename):
        return None  # code made by exec/compile of a string (<string>: a dataclass's methods), or gone
    try:
        real = os.path.realpath(filename)
    except (OSError, ValueError):
        return None
    rel = os.path.relpath(real, root)
    if rel.startswith(os.pardir) or os.path.isabs(rel):
        return None
    from codeintel_assets.reconcile import path_to_key
    return path_to_key(rel.replace(os.sep, "/"))


def _files_referenced(r: ModuleResult, root: str) -> set[str]:
    """Repository keys of the files a module's rows point into (code locations, sources, frames)."""
    out = set()
    for table, col in (("code_locations", 3), ("source", 1), ("runtime_state", 5)):
        for row in r.tables.get(table, []):
            k = _repo_key(row[col], root) if isinstance(row, list) and len(row) > col else None
            if k:
                out.add(k)
    return out


class CodeUnits(dict):
    """(key, co_qualname, co_firstlineno) -> code unit facts, loaded per file on first use.

    Also ``("line", key, first)``, ``("qual", key, qual)``, ``("module", key)`` and ``("file", key)``
    (the file is indexed). Reads through one read-only connection held for the run.
    """

    COLS = ["path", "co_qualname", "co_firstlineno", "code_unit_id", "ast_node_id", "scope_id", "span_start_byte",
            "span_end_byte", "kind"]

    def __init__(self, store, conn):
        super().__init__()
        self.store, self.conn, self.loaded = store, conn, set()

    def find_class(self, qual: str, line: int) -> list[tuple[str, tuple]]:
        """(path, code unit facts) of every class body of the repository with that qualname and first line."""
        got = self.get(("class anywhere", qual, line))
        if got is None:
            got = self[("class anywhere", qual, line)] = [(r[0], tuple(r[1:])) for r in self.conn.execute(
                f"SELECT path, {', '.join(self.COLS[3:])} FROM py_bc_code_units "
                "WHERE kind = 'class_body' AND co_qualname = ? AND co_firstlineno = ?", [qual, line]).fetchall()]
        return got

    def ensure(self, keys) -> None:
        missing = sorted(set(keys) - self.loaded)
        if not missing:
            return
        self.loaded.update(missing)
        t = self.store.read("py_bc_code_units", self.COLS, missing, self.conn)
        for row in zip(*(t.column(c).to_pylist() for c in self.COLS)):
            path, qual, first = row[0], row[1], row[2]
            self[("file", path)] = True  # indexed: an object whose code is in a file not indexed is "outside"
            self[(path, qual, first)] = row[3:]
            self.setdefault(("qual", path, qual), row[3:])
            if qual == "<module>":  # (not a line-only candidate: an object defined on line 1 is not the module)
                self[("module", path)] = row[3:]
            else:
                self.setdefault(("line", path, first), row[3:])
        # Decorators of every def/class node of these files, in source order (preorder ordinal).
        conn = self.conn
        conn.register("__keys", pa.table({"path": pa.array(missing, pa.string())}))
        for parent, node, kind, s0, s1 in conn.execute(
                "SELECT parent_ast_node_id, ast_node_id, kind, span_start_byte, span_end_byte FROM py_ast_nodes "
                "WHERE path IN (SELECT path FROM __keys) AND parent_field = 'decorator_list' "
                "ORDER BY path, ordinal").fetchall():
            self.setdefault(("decorators", parent), []).append((node, kind, s0, s1))
        conn.unregister("__keys")


def anchor_objects(fid: str, locations: list, root: str, code_units: dict) -> tuple[list[tuple], int, int]:
    """INS-ALG-4 over the code locations the worker found: one anchor row per object that has one.

    Exact (1.0): the code unit with the object's file, first line and qualname (its own code, a class's
    ``__firstlineno__``, the module). Through a wrapper (0.95): the same match on a ``__wrapped__`` hop,
    a property's getter or a static/class method's function. Line only (0.6): a code unit starts on that
    line under another qualname (a code object rebuilt with another ``co_qualname``; a function whose
    ``__qualname__`` is reassigned keeps its code's, and matches exactly). Otherwise ok=false, with why.
    """
    by_obj: dict[str, list] = {}
    for oid, _seq, via, filename, line, qual in locations:
        by_obj.setdefault(oid, []).append((via, filename, line, qual))
    rows, with_source, anchored = [], 0, 0
    pending: list[tuple[str, str]] = []
    for oid, locs in by_obj.items():
        # A wrapper made by functools.wraps carries the decorated function's qualname: the location whose
        # code has the object's own qualname (the decorated def) comes before the wrapper's code.
        own = oid.split(":")[1] if oid.count(":") >= 2 else None
        locs = sorted(locs, key=lambda loc: loc[3] != own)
        best, outside = None, []
        for via, filename, line, qual in locs:
            key = _repo_key(filename, root)
            if key is None or ("file", key) not in code_units:  # outside the repository, or not indexed
                outside.append(filename)
                continue
            if via == "module":
                hit = code_units.get(("module", key))
                conf, why = 1.0, "module: its file's <module> code unit"
            else:
                hit = code_units.get((key, qual, line))
                direct = via in ("self", "class")
                conf = 1.0 if direct else 0.95
                why = (f"{'class __firstlineno__' if via == 'class' else 'code object'}: file + first line {line} + "
                       f"qualname {qual}" + ("" if direct else f" (via {via})"))
                found = code_units.find_class(qual, line) if hit is None and via == "class" and hasattr(
                    code_units, "find_class") else []
                if len(found) == 1:
                    # Not defined in the file its __module__ names (a method-less class whose body sets
                    # __module__ to where it is re-exported): the one class of the repository with that
                    # qualname and first line.
                    key, hit = found[0]
                    conf, why = 0.9, (f"class __firstlineno__ {line} + qualname {qual}: defined in {key}, not in "
                                      "the file its __module__ names (the only class of the repository there)")
                elif hit is None:
                    hit = code_units.get(("line", key, line))
                    conf, why = 0.6, f"a code unit starts on line {line} of {key}, qualname {qual} differs (via {via})"
            if hit is not None:
                best = (key, hit, conf, why)
                break
            if best is None:
                best = (key, None, 0.0, f"no code unit of {key} starts on line {line} as {qual}")
        if best is None:
            synthesized = [f for f in outside if not f or f.startswith("<")]
            if synthesized:
                pending.append((oid, synthesized[0]))  # anchored to its owner class below, if that is
            continue  # otherwise defined outside the repository (a stdlib function re-wrapped): not counted
        key, hit, conf, why = best
        with_source += 1
        if hit is None:
            rows.append((fid, MODE, oid, key, None, None, None, None, None, 0.0, why, False, "NoAnchor", why))
            continue
        anchored += 1
        cu, ast_node, scope, s0, s1, _kind = hit
        rows.append((fid, MODE, oid, key, ast_node, cu, scope, s0, s1, conf, why, True, None, None))
    # Code compiled from a string (a dataclass's __init__, a namedtuple's __new__) has no source; it
    # belongs to the class whose decorator or factory made it: anchored there, 0.5, not counted as
    # "with source" (there is none).
    by_id = {r[2]: r for r in rows if r[11]}
    for oid, filename in pending:
        module, _, rest = oid.partition(":")
        qual = rest.rsplit(":", 1)[0]
        owner = by_id.get(f"{module}:{qual.rsplit('.', 1)[0]}:class") if "." in qual else None
        if owner is None:
            why = f"no source: its code was compiled from a string ({filename})"
            rows.append((fid, MODE, oid, None, None, None, None, None, None, 0.0, why, False, "NoSource", why))
            continue
        why = f"no source ({filename}: made by a class decorator or factory): anchored to its class {owner[2]}"
        rows.append((fid, MODE, oid, owner[3], owner[4], owner[5], owner[6], owner[7], owner[8], 0.5, why, True,
                     None, None))
    return rows, with_source, anchored


def _fill_source(rows: list[tuple], root: str, code_units: dict, texts: dict) -> list[tuple]:
    """line_count, source_sha256 and source_preview of source rows, from the static planes' spans.

    The text is what ``inspect.getsourcelines`` returns: from the first line (a decorator's, for a
    decorated def) to the last line of the def/class node (the code unit's span end); a module is its
    whole file. Rows whose file lies outside the repository keep only the file and first line.
    """
    out = []
    for r in rows:
        fid, mode, oid, fname, start, _lc, _sha, _prev, first, qual, ok, et, em = r
        key = _repo_key(fname, root) if ok else None
        lines = None
        if key is not None:
            lines, ends, _data = _file_lines(texts, root, key) or (None, None, None)
        if lines is not None:
            if qual == "<module>":
                chunk = lines
            else:
                cu = code_units.get((key, qual, first)) or code_units.get(("qual", key, qual))
                end_byte = cu[4] if cu else None
                if end_byte is None:
                    chunk = None
                else:
                    end_line = min(bisect.bisect_left(ends, end_byte) + 1, len(lines))  # holds the last byte
                    chunk = lines[start - 1:_trailing_comments(lines, start, end_line)]
            if chunk is not None:
                text = b"".join(chunk)
                r = (fid, mode, oid, fname, start, len(chunk), hashlib.sha256(text).hexdigest(),
                     text[:120].decode("utf-8", "replace"), first, qual, ok, et, em)
        out.append(r)
    return out


def _file_lines(texts: dict, root: str, key: str):
    """(lines, cumulative line ends, bytes) of a repository file, read once per run (None if unreadable)."""
    if key not in texts:
        try:
            data = Path(os.path.join(root, key_to_path(key))).read_bytes()
            got = data.splitlines(keepends=True)
            texts[key] = (got, list(itertools.accumulate(len(ln) for ln in got)), data)
        except OSError:
            texts[key] = None
    return texts[key]


def decorator_rows(fid: str, anchors: list[tuple], hops: list, code_units: dict, root: str, texts: dict) -> list:
    """DECORATES (the AST's decorator expressions at each anchored def/class) with WRAPS beside it (the
    object's ``__wrapped__`` hops at runtime): a decorator that kept no ``__wrapped__`` shows 0 hops."""
    wraps: dict[str, int] = {}
    for row in hops:
        if len(row) > 2 and row[1] == "full":
            wraps[row[0]] = max(wraps.get(row[0], 0), int(row[2]))
    out = []
    for a in anchors:
        oid, path, def_node, ok = a[2], a[3], a[4], a[11]
        decs = code_units.get(("decorators", def_node)) if ok and def_node else None
        if not decs:
            continue
        got = _file_lines(texts, root, path)
        data = got[2] if got else None
        for i, (node, kind, s0, s1) in enumerate(decs):
            text = data[s0:s1].decode("utf-8", "replace") if data is not None and s0 is not None else None
            out.append((fid, MODE, oid, def_node, i, len(decs) - 1 - i, node, kind, text, wraps.get(oid, 0),
                        True, None, None))
    return out


def _indent(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


def _trailing_comments(lines: list[bytes], start: int, end_line: int) -> int:
    """The last line of the block as ``inspect.getblock`` ends it: after the node's last line, the comment
    lines indented at least as deep as the body, up to the next line of code."""
    head = next((i for i in range(start - 1, end_line) if lines[i].lstrip().startswith(
        (b"def ", b"async def ", b"class "))), None)
    if head is None:
        return end_line
    depth = _indent(lines[head])
    body = next((_indent(ln) for ln in lines[head + 1:end_line]
                 if ln.strip() and not ln.lstrip().startswith(b"#") and _indent(ln) > depth), None)
    if body is None:
        return end_line
    last = end_line
    for i in range(end_line, len(lines)):
        text = lines[i].strip()
        if not text:
            continue
        if not text.startswith(b"#"):
            break
        if _indent(lines[i]) >= body:
            last = i + 1
    return last


def _join_runtime(conn, rows: list[tuple], root: str, code_units: dict) -> list[tuple]:
    """Add code_unit_id and instr_id to runtime-state rows: the code unit by file + qualname + first line,
    the instruction by that code unit and ``f_lasti`` (the offset of the frame's last instruction)."""
    cus = [(code_units.get((_repo_key(r[7], root), r[8], r[9])) or (None,))[0] for r in rows]
    instrs: dict = {}
    want = sorted({cu for cu in cus if cu})
    if want:
        conn.register("__cu", pa.table({"code_unit_id": pa.array(want, pa.string())}))
        for cu, off, iid in conn.execute(
                "SELECT code_unit_id, \"offset\", instr_id FROM py_bc_instructions "
                "WHERE code_unit_id IN (SELECT code_unit_id FROM __cu)").fetchall():
            instrs[(cu, off)] = iid
        conn.unregister("__cu")
    return [r[:13] + (cu, instrs.get((cu, r[10])) if cu else None) + r[13:] for r, cu in zip(rows, cus)]
