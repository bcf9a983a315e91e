"""Fingerprints of the code that derived the stored rows, so that rows an older CodeIntel derived are derived
again after an upgrade (or an edit of CodeIntel itself), not kept until the file changes.

- ``extractor_version()``: the interpreter's exact version and the source of everything that makes a file's
  rows in the one pass: the pass, the planes and every module of this package they import, transitively
  (extractors, per-file gates, contracts; not the graph check, the link or the inspect worker, which are
  steps of their own). Written in every file's ``codeintel_run_meta`` row; a file whose row
  carries another (or none: a database from before the column) is stale (``reconcile.indexed_state``).
- ``inspector_version()``: the source of what makes a file's inspect rows (the sandbox's worker and pool, the
  step that anchors and writes them, their contracts). Written in every ``py_inspect_import_attempts`` row; a
  file whose row carries another (or none) is inspected again (``inspect_plan.inspect_work``: "inspect code
  changed").
- ``link_version()``: the source of the cross-file link step and of the modules it imports. Kept in
  ``cpg_link_version``; a link whose stored version differs is a full one (``link.link_calls``).

A fingerprint of the source, not a number someone must remember to bump: any change re-derives, which is
what a user upgrading needs and what a developer editing an extractor wants.
"""

import hashlib
import os
import re
import sys
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The extractor's and the link's fingerprints cover their roots and every module of this package those import,
# transitively (function-local imports too): editing a module neither imports (the graph check, the CLI, the
# inspect step) derives nothing again. The planes are loaded by name (planes/__init__.py), so all are roots.
EXTRACTOR_ROOTS = ("pipeline.py", "planes/*.py")
LINK_ROOTS = ("link.py",)
# The inspect step's fingerprint is these files alone: what it imports beyond them is bookkeeping (reconcile,
# the link's staleness marks), and a change there must not re-import every module of a repository in the sandbox.
INSPECTOR_FILES = ("extract/inspect_worker.py", "extract/inspect_sandbox.py", "inspect_step.py", "contracts/inspect.py")

# `from codeintel_assets.a.b import c, d` (parenthesised over lines or not) and `import codeintel_assets.a.b`,
# at the start of a line; a regular expression, not ast: parsing the package costs ~0.3 s at every start.
_IMPORT = re.compile(r"[ \t]*(?:from[ \t]+(codeintel_assets[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
                     r"|import[ \t]+(codeintel_assets[\w.]*))")


def _imports(text: str):
    """The import statements of this package in one module's source (found by the name, then matched at the
    start of its line: a scan of every line with the pattern costs 10 ms over the package)."""
    at = text.find("codeintel_assets")
    while at >= 0:
        m = _IMPORT.match(text, text.rfind("\n", 0, at) + 1)
        if m is not None and m.start(1 if m[1] else 3) == at:
            yield m
        at = text.find("codeintel_assets", max(at + 1, m.end() if m is not None else 0))


@cache
def _package_modules() -> dict[tuple[str, ...], Path]:
    """Module name (the parts after the package's) -> its file, for every module of this package."""
    out: dict[tuple[str, ...], Path] = {}
    for d, dirs, files in os.walk(PACKAGE):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        rel = Path(d).relative_to(PACKAGE).parts
        for f in files:
            if f.endswith(".py"):
                out[rel if f == "__init__.py" else rel + (f[:-3],)] = Path(d, f)
    return out


@cache
def module_files(roots: tuple[str, ...]) -> dict[Path, bytes]:
    """The roots' files and every package module they import, transitively -> {path: source}."""
    todo = [p for r in roots for p in sorted(PACKAGE.glob(r))]
    modules = _package_modules()
    seen: dict[Path, bytes] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = text = path.read_bytes()
        for m in _imports(text.decode("utf-8")):
            module = m[1] or m[3]
            names = [module]
            if m[2]:
                listed = re.sub(r"#[^\n]*", "", m[2]).strip("()").replace("\n", ",").split(",")
                names += [f"{module}.{n.split()[0]}" for n in listed if n.strip()]
            for name in names:
                parts = tuple(name.split(".")[1:])
                for i in range(len(parts) + 1):  # the package and every parent package run on import
                    f = modules.get(parts[:i])
                    if f is not None and f not in seen:
                        todo.append(f)
    return seen


@cache
def _fingerprint(roots: tuple[str, ...], follow: bool = True) -> str:
    files = module_files(roots) if follow else {PACKAGE / f: (PACKAGE / f).read_bytes() for f in roots}
    h = hashlib.sha256(sys.version.encode())
    for path, text in sorted(files.items()):
        h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + text + b"\0")
    return h.hexdigest()[:16]


def extractor_version() -> str:
    return _fingerprint(EXTRACTOR_ROOTS)


def link_version() -> str:
    return _fingerprint(LINK_ROOTS)


def inspector_version() -> str:
    return _fingerprint(INSPECTOR_FILES, follow=False)
