"""Fingerprints of the code that derived the stored rows, so that rows an older CodeIntel derived are derived
again after an upgrade (or an edit of CodeIntel itself), not kept until the file changes.

- ``extractor_version()``: the interpreter's exact version and the source of everything that makes a file's
  rows in the one pass (extractors, planes, per-file gates, contracts, the pass itself; not the inspect
  worker, which is its own step). Written in every file's ``codeintel_run_meta`` row; a file whose row
  carries another (or none: a database from before the column) is stale (``reconcile.indexed_state``).
- ``inspector_version()``: the source of what makes a file's inspect rows (the sandbox's worker and pool, the
  step that anchors and writes them, their contracts). Written in every ``py_inspect_import_attempts`` row; a
  file whose row carries another (or none) is inspected again (``inspect_plan.inspect_work``: "inspect code
  changed").
- ``link_version()``: the source of the cross-file link step. Kept in ``cpg_link_version``; a link whose
  stored version differs is a full one (``link.link_calls``).

A fingerprint of the source, not a number someone must remember to bump: any change re-derives, which is
what a user upgrading needs and what a developer editing an extractor wants.
"""

import hashlib
import sys
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
EXTRACTOR_DIRS = ("extract", "planes", "validate", "contracts")
EXTRACTOR_FILES = ("pipeline.py",)
NOT_EXTRACTORS = ("inspect_",)  # extract/inspect_worker.py, inspect_sandbox.py: the inspect step's own
LINK_FILES = ("link.py",)
INSPECTOR_FILES = ("extract/inspect_worker.py", "extract/inspect_sandbox.py", "inspect_step.py", "contracts/inspect.py")


@cache
def _fingerprint(dirs: tuple[str, ...], files: tuple[str, ...]) -> str:
    h = hashlib.sha256(sys.version.encode())
    paths = [p for d in dirs for p in sorted((PACKAGE / d).glob("*.py")) if not p.name.startswith(NOT_EXTRACTORS)]
    for p in paths + [PACKAGE / f for f in files]:
        h.update(p.relative_to(PACKAGE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def extractor_version() -> str:
    return _fingerprint(EXTRACTOR_DIRS, EXTRACTOR_FILES)


def link_version() -> str:
    return _fingerprint((), LINK_FILES)


def inspector_version() -> str:
    return _fingerprint((), INSPECTOR_FILES)
