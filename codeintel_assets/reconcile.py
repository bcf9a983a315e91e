"""Reconcile the repository on disk with what is indexed: which files were added, changed, removed.

Shared by ``codeintel index`` and the Dagster sensor. Partition keys are repository-relative POSIX
paths; characters that Dagster's partition-range syntax reserves are percent-encoded in the key
(``,`` ``|`` ``[`` ``]`` ``%``, control characters, and ``...``), and ``path`` columns hold the key.
"""

import fnmatch
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".codeintel", "__pycache__", ".mypy_cache", ".pytest_cache",
                       ".ruff_cache", ".tox", ".nox", "node_modules"})
_RESERVED = re.compile(r"[%,|\[\]\x00-\x1f\x7f]")


def path_to_key(rel: str) -> str:
    key = _RESERVED.sub(lambda m: f"%{ord(m.group()):02X}", rel)
    return key.replace("...", "%2E%2E%2E")


def key_to_path(key: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), key)


@dataclass(frozen=True)
class DiskFile:
    key: str
    sha256: str | None  # None: unreadable (the extractor records why)


def scan_repository(root: str | os.PathLike, exclude: tuple[str, ...] = (),
                    warnings: list[str] | None = None, cache: str | os.PathLike | None = None,
                    trust_cache: bool = True) -> list[DiskFile]:
    """Every ``*.py`` under root (symlinked directories not followed; virtualenvs skipped), hashed.

    Only regular files are opened: a FIFO, a device or a link to one is listed unhashed (the
    extractor records "not a regular file" without opening it), so it never blocks the scan and
    settles (unchanged on the next run). A directory that cannot be listed is a warning naming it.
    ``cache``: a file of the hashes this scan computed (``StatCache``), so the next scan hashes only the
    files whose status changed (``trust_cache`` False: every file is hashed, the cache rewritten).
    """
    root = Path(root)
    warns = warnings if warnings is not None else []
    stats = StatCache(cache, root, read=trust_cache)
    stubs: list[str] = []
    out = [DiskFile(path_to_key(rel), stats.hash(full, rel))
           for rel, full in _python_files(root, exclude, warns, stubs=stubs)]
    out.sort(key=lambda f: f.key)
    stats.save()
    if stubs:  # (typeshed's stubs in mypy: 761) a stub has no bytecode nor runtime; say so rather than drop it silently
        from codeintel_assets.words import count
        warns.append(f"{count(len(stubs), 'type stub file', grouped=True)} (*.pyi) not indexed: CodeIntel indexes "
                     f"*.py (first: {min(stubs)})")
    return out


def configured_excludes(root: str | os.PathLike) -> tuple[str, ...]:
    """The glob patterns of ``exclude`` in the ``[tool.codeintel]`` table of the repository's ``pyproject.toml``:
    paths every scan of the repository skips (`codeintel index` and `watch`, the UI's sensor, the link's look for
    extension modules), as ``--exclude`` does for one command. ValueError naming the file when the setting is not
    a list of strings."""
    from codeintel_assets.extract.modules import configured_strings
    return tuple(configured_strings(os.fspath(root), "exclude", "glob patterns")[1])


def _python_files(root: Path, exclude: tuple[str, ...], warns: list[str], wanted=lambda name: name.endswith(".py"),
                  stubs: list[str] | None = None):
    """(relative POSIX path, full path) of every ``*.py`` a scan indexes, in the scan's rules (skipped and
    excluded directories: ``exclude`` and the repository's ``configured_excludes``, virtualenvs, names that are
    not UTF-8: a warning); ``wanted``: other names instead. ``stubs``: gets the relative path of every ``*.pyi``
    not wanted that the same rules would have kept."""
    exclude = tuple(exclude) + configured_excludes(root)

    def on_error(exc: OSError) -> None:
        warns.append(f"cannot list {exc.filename}: {exc.strerror or exc} (its files are not indexed)")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=on_error):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        keep = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d in SKIP_DIRS or _excluded(rel, exclude) or _is_venv(Path(dirpath, d)):
                continue
            if not _utf8(d):
                warns.append(_not_utf8(Path(dirpath, d), "its files are not indexed"))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if not wanted(name):
                if stubs is not None and name.endswith(".pyi"):
                    rel = f"{rel_dir}/{name}" if rel_dir else name
                    if not _excluded(rel, exclude):
                        stubs.append(rel)
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if _excluded(rel, exclude):
                continue
            if not _utf8(name):
                warns.append(_not_utf8(Path(dirpath, name), "rename it to index it"))
                continue
            yield rel, Path(dirpath, name)


# A compiled extension module's file: `m.so`, `m.<tag>.so` (`_native.cpython-313-x86_64-linux-gnu.so`, `m.abi3.so`)
# or `.pyd`. Any platform's tag: a wheel for another interpreter still names the module its importers import.
EXTENSION_FILE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_-]+)?\.(?:so|pyd)")


def sourceless_modules(root: str | os.PathLike, import_roots=(), exclude: tuple[str, ...] = ()
                       ) -> dict[str, tuple[str, str]]:
    """path -> (module name, kind) of what importers can import under root that no ``*.py`` describes, in the
    scan's rules (skipped and excluded directories, virtualenvs; ``exclude``: the command's ``--exclude``):
    kind ``extension``, a compiled extension module, named as a ``.py`` of its stem in its directory would be;
    ``directory``, a directory with files but no ``*.py`` at any depth (numpy's ``_core/include``: ``import
    numpy._core.include`` imports it as a namespace package)."""
    root = Path(root)
    keys: dict[str, tuple[str, str]] = {}
    with_source: set[str] = set()
    dirs: set[str] = set()
    for rel, _ in _python_files(root, tuple(exclude), [], lambda name: True):
        d, _, name = rel.rpartition("/")
        if name.endswith(".py"):
            while d and d not in with_source:
                with_source.add(d)
                d = d.rpartition("/")[0]
            continue
        if d:
            dirs.add(d)
        ext = EXTENSION_FILE.fullmatch(name)
        if ext:
            keys[rel] = (f"{d}/{ext.group(1)}.py" if d else f"{ext.group(1)}.py", "extension")
    for d in dirs - with_source:
        if all(part.isidentifier() for part in d.split("/")):  # (`x.dist-info/licenses`: no import names it)
            keys[d] = (f"{d}/__init__.py", "directory")
    names = module_names(root, sorted({k for k, _ in keys.values()}), import_roots)
    return {rel: (names[key], kind) for rel, (key, kind) in sorted(keys.items())}


def status_fingerprint(root: str | os.PathLike, exclude: tuple[str, ...] = ()) -> frozenset:
    """What ``scan_repository`` would find, from ``stat`` alone (no file read): each ``*.py`` with its size,
    mtime, ctime and inode. Equal fingerprints: no file was added, removed or written in between (an edit
    always moves ctime). ``codeintel watch`` polls it. The repository's ``pyproject.toml`` too: its
    ``[tool.codeintel] import-roots`` names the modules (``extract.modules.configured_import_roots``) and its
    ``exclude`` which files there are; while that table is invalid, the fingerprint is the file's status alone
    (the index its change starts reports the error; fixing the file starts the next one)."""
    out = []
    try:
        st = os.stat(Path(root) / "pyproject.toml")
        out.append(("pyproject.toml", st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    except OSError:
        pass
    try:
        for rel, full in _python_files(Path(root), exclude, []):
            try:
                st = os.stat(full)
            except OSError:
                out.append((rel, None))
                continue
            out.append((rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    except ValueError:  # an invalid [tool.codeintel] table (configured_excludes)
        return frozenset(out[:1] + [("<invalid [tool.codeintel]>",)])
    return frozenset(out)


def _utf8(name: str) -> bool:
    """A name the file system gave as bytes that are not UTF-8 decodes to lone surrogates (PEP 383): no
    UTF-8 text (DuckDB's VARCHAR, Dagster's partition keys) can hold it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(path: Path, then: str) -> str:
    return f"cannot index {os.fsencode(path)!r}: its name is not UTF-8 (paths are stored as text; {then})"


class StatCache:
    """The content hash of a file whose status is what it was when it was hashed, without reading it again
    (git's index does the same): keyed by path, valid while size, mtime, ctime, inode and device are the
    same. An edit always moves ctime (no tool can set it), so an edit that keeps size and mtime (``touch
    -r``, a copy with ``-p``) is still seen. A file whose mtime or ctime is within ``RACY_SECONDS`` of
    the scan is not cached: an edit in the same clock tick as its hashing would not move them. One JSON
    file (in the database's Dagster instance directory); unreadable or of another root: no cache."""

    RACY_SECONDS = 2.0

    def __init__(self, path, root: Path, read: bool = True):
        import json
        import time
        self.path, self.root, self.now = path, str(root.resolve()), time.time()
        self.old: dict = {}
        self.new: dict = {}
        if path is not None and read:
            try:
                with open(path, encoding="utf-8") as fh:
                    data = json.load(fh)
                if data.get("root") == self.root and data.get("version") == 1:
                    self.old = data["files"]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass

    def hash(self, p: Path, key: str) -> str | None:
        try:
            st = os.stat(p)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):  # FIFO, device, socket (or a link to one): never opened
            return None
        sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
        hit = self.old.get(key)
        if hit is not None and hit[:5] == sig:
            digest = hit[5]
        else:
            digest = _hash(p)
        if digest is not None and self.now - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 > self.RACY_SECONDS:
            self.new[key] = [*sig, digest]
        return digest

    def save(self) -> None:
        import json
        if self.path is None or self.new == self.old:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"version": 1, "root": self.root, "files": self.new}, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:  # a cache only: the next scan hashes every file
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(rel + "/", p) for p in patterns)


def _is_venv(d: Path) -> bool:
    try:
        return (d / "pyvenv.cfg").exists()
    except OSError:  # an unreadable directory: os.walk reports it
        return False


def _hash(p: Path) -> str | None:
    try:
        if not stat.S_ISREG(os.stat(p).st_mode):  # FIFO, device, socket (or a link to one): never opened
            return None
        with open(p, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


@dataclass
class Plan:
    """What to do to bring the index in line with the disk."""

    seen: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unindexed: list[str] = field(default_factory=list)  # of ``changed``: a partition, but no stored row
    # of ``added``: no partition, but the database holds the file's rows (another DAGSTER_HOME, an instance removed):
    # ``unregistered`` as on disk, ``unregistered_changed`` of other content (or a plane's rows stale)
    unregistered: list[str] = field(default_factory=list)
    unregistered_changed: list[str] = field(default_factory=list)

    @property
    def to_materialize(self) -> list[str]:
        return sorted(self.added + self.changed)

    @property
    def new_files(self) -> list[str]:
        """What the summary calls added: the files the database has no row of. ``added`` (no partition, which
        the partition order needs) and ``unindexed``: a partition a run added but died before writing."""
        held = set(self.unregistered) | set(self.unregistered_changed)
        return sorted([k for k in self.added if k not in held] + self.unindexed)

    @property
    def changed_files(self) -> list[str]:
        """What the summary calls changed: ``changed`` files the database has a row of (another content,
        a plane's rows missing or stale, ``--full``), and files of no partition whose stored rows are not
        the disk's."""
        gone = set(self.unindexed)
        return sorted([k for k in self.changed if k not in gone] + self.unregistered_changed)


def plan_reconcile(disk: list[DiskFile], indexed: dict[str, str | None], partitions: list[str], full: bool = False) -> Plan:
    """Diff disk against the stored content hashes (``py_files``) and the dynamic partitions.

    A partition with no stored row (a run that died) counts as changed for the partition order, and is
    listed in ``unindexed`` (the summary counts it as added: the database never held it); a stored row with
    no partition (the instance removed, or another ``DAGSTER_HOME``) as added for the partition order, and in
    ``unregistered`` (the summary says the instance did not know it: the database held it as it is) or
    ``unregistered_changed`` (the summary counts it as changed).
    """
    plan = Plan()
    part_set = set(partitions)
    on_disk = {f.key: f.sha256 for f in disk}
    plan.seen = sorted(on_disk)
    for key, sha in on_disk.items():
        if key not in part_set:
            plan.added.append(key)
            if key in indexed:  # indexed, but this Dagster instance never recorded it: indexed again, said so
                (plan.unregistered if indexed[key] == sha and not full else plan.unregistered_changed).append(key)
        elif full or key not in indexed or indexed[key] != sha:
            plan.changed.append(key)
            if key not in indexed:
                plan.unindexed.append(key)
        else:
            plan.unchanged.append(key)
    plan.removed = sorted((part_set | set(indexed)) - set(on_disk))
    plan.added.sort()
    plan.changed.sort()
    plan.unindexed.sort()
    plan.unregistered.sort()
    plan.unregistered_changed.sort()
    return plan


SCAN_CACHE = "codeintel_scan_cache.json"  # StatCache's file, in the database's Dagster instance directory
STALE = "stale:"  # prefix of an indexed hash that must not match the disk: a plane did not finish


def indexed_state(conn, table_exists, modules: dict[str, str] | None = None,
                  limits: tuple[int, float] | None = None) -> dict[str, str]:
    """path -> content sha256 of what is indexed, ``STALE + sha`` where the file must be indexed again.

    Every file plane leaves a per-file status row carrying the ``file_id`` (hash of path and content)
    of the bytes it saw, whether it succeeded or failed, and the pass leaves its gate rows: a file
    whose status row is missing or older than ``py_files`` in any plane (a run that died, a plane
    added since) is stale. A file that *failed* has a current status row and is not stale: it is
    indexed again when its content changes (or with ``--full``), never in a loop. ``modules``
    (path -> module name from the current import roots): a file whose stored ``module_name``
    differs is stale too. ``limits`` (``--max-file-bytes``, ``--file-budget`` of this run): a file that
    failed only on a limit is stale when this run's limit is larger than the one it failed on (its size;
    the budget its failure message names), so raising a limit indexes it, and nothing else does.
    """
    from codeintel_assets.planes import file_planes
    from codeintel_assets.pipeline import GATE_TABLE
    from resources.duck import present_tables
    if not table_exists(conn, "py_files"):
        return {}
    conds = []
    tables = [p.status for p in file_planes() if p.status != "py_files"] + [GATE_TABLE]
    have = present_tables(conn, tables)
    # rows an older CodeIntel (or another interpreter) derived are stale: the bytecode plane's status row
    # carries the fingerprint (codeintel_assets.version); a database from before the column has none
    from codeintel_assets.version import extractor_version
    from resources.duck import table_columns
    versioned = "extractor_version" in table_columns(conn, ["codeintel_run_meta"]).get("codeintel_run_meta", [])
    for table in tables:
        if table not in have or (table == "codeintel_run_meta" and not versioned):
            conds.append("FALSE")
            continue
        version = f" AND t.extractor_version = '{extractor_version()}'" if table == "codeintel_run_meta" else ""
        conds.append(f'EXISTS (SELECT 1 FROM "{table}" t WHERE t.path = f.path AND t.file_id = f.file_id{version})')
    fresh_sql = " AND ".join(conds) or "TRUE"
    if limits is not None:
        max_bytes, budget = limits
        retry = [f"coalesce(f.error_stage = 'limit' AND f.size_bytes <= {int(max_bytes)}, false)"]
        for table in ["py_files"] + [t for t in tables if t in have and t != GATE_TABLE]:
            # pipeline.extract_file's message: "the <plane> extractor took more than <seconds> s on this file"
            retry.append(f'EXISTS (SELECT 1 FROM "{table}" t WHERE t.path = f.path AND t.file_id = f.file_id '
                         f"AND t.error_stage = 'budget' AND TRY_CAST(regexp_extract(t.error_msg, "
                         f"'more than ([0-9.e+]+) s', 1) AS DOUBLE) < {float(budget)!r})")  # (an ok row: NULL, not retried)
        fresh_sql = f"({fresh_sql}) AND NOT ({' OR '.join(retry)})"
    rows = conn.execute(f"SELECT path, sha256, module_name, {fresh_sql} FROM py_files f").fetchall()
    out = {}
    for path, sha, module, fresh in rows:
        if modules is not None and path in modules and modules[path] != module:
            fresh = False
        out[path] = sha if fresh else f"{STALE}{sha}"
    return out


def module_names(root: str | os.PathLike, keys, explicit_roots=()) -> dict[str, str]:
    """key -> dotted module name from the repository's import roots, with a quoted part where CPython's path finder
    takes another file for that name (``extract/modules.py``: ``module_name``, ``finder_name``)."""
    from codeintel_assets.extract.modules import detect_import_roots, finder_name, module_name, package_prefix
    roots = detect_import_roots(root, tuple(explicit_roots))
    prefix = package_prefix(root)  # the repository root is itself a package: its modules are prefix.*
    hidden: dict[str, bool] = {}
    return {k: finder_name(root, key_to_path(k), module_name(key_to_path(k), roots, prefix), hidden) for k in keys}


def indexed_hashes(store, modules: dict[str, str] | None = None,
                   limits: tuple[int, float] | None = None) -> dict[str, str | None]:
    """path -> sha256 of what is indexed (``indexed_state``: stale planes count as changed)."""
    from resources.duck import table_exists
    if not os.path.exists(store.database):
        return {}
    with store.connection(read_only=True) as conn:
        return indexed_state(conn, table_exists, modules, limits)
