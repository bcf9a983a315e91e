"""The code fingerprints (codeintel_assets.version) cover what derives the rows and nothing else: every module a
file pass really imports is in the extractor's, and an edit of a module the pass never imports (the graph check)
keeps it, so an upgrade that changes only the graph check does not re-extract every file."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from codeintel_assets import version

# One file that every plane has facts for (classes, calls, imports, try/except, a closure, a comprehension),
# and one that fails to compile (the planes' failure paths import their own modules).
GOOD = textwrap.dedent("""\
    import os
    from collections import OrderedDict as OD

    class Base:
        def run(self, n):
            return [i * n for i in range(n)]

    class Child(Base):
        def run(self, n):
            total = 0
            def add(k):
                nonlocal total
                total += k
            try:
                for k in super().run(n):
                    add(k)
            except ValueError as e:
                raise RuntimeError(os.sep) from e
            return OD(total=total)
    """)
BAD = "def broken(:\n    pass\n"

PROBE = textwrap.dedent("""\
    import json, sys
    from codeintel_assets.pipeline import extract_file  # its planes and their gates
    root = sys.argv[1]
    for key, module in (("good.py", "good"), ("bad.py", "bad")):
        tables, failures = extract_file(root, key, module, 1 << 20)
        assert tables, key
    print(json.dumps(sorted(m.__file__ for name, m in sys.modules.items()
                            if name.startswith("codeintel_assets") and getattr(m, "__file__", None))))
    """)


def test_every_module_the_file_pass_imports_is_in_the_extractor_fingerprint(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    imported = {p for p in json.loads(out.stdout.splitlines()[-1])}
    covered = {str(p) for p in version.module_files(version.EXTRACTOR_ROOTS)}
    assert imported, "the probe saw no module of the package"
    assert imported <= covered, f"imported by the file pass, not fingerprinted: {sorted(imported - covered)}"
    # and the fingerprint is narrower than the package: the graph check and the CLI are not in it
    names = {p.relative_to(version.PACKAGE).as_posix() for p in version.module_files(version.EXTRACTOR_ROOTS)}
    assert {"validate/cpg_integrity.py", "cli.py", "link.py", "graph.py"}.isdisjoint(names)
    assert {"pipeline.py", "planes/dataflow.py", "extract/dataflow.py", "validate/cfg_gates.py",
            "contracts/bytecode.py", "__init__.py"} <= names


def _clear_caches() -> None:
    for f in (version._package_modules, version.module_files, version._fingerprint):
        f.cache_clear()


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package's sources that the fingerprints read instead of the installed one."""
    copy = tmp_path / "codeintel_assets"
    shutil.copytree(version.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(version, "PACKAGE", copy)
    _clear_caches()
    yield copy
    _clear_caches()


def _versions():
    _clear_caches()
    return {"extractor": version.extractor_version(), "link": version.link_version(),
            "inspector": version.inspector_version()}


@pytest.mark.parametrize("edited, moved", [
    ("validate/cpg_integrity.py", set()),                         # the graph check: its own step
    ("cli.py", set()),
    ("validate/cfg_gates.py", {"extractor"}),                     # a per-file gate
    ("extract/opclass.py", {"extractor"}),                        # imported inside a function only
    ("interface.py", {"link"}),                                   # the statement digests the link reads
    ("contracts/cpg.py", {"extractor", "link"}),
    ("extract/inspect_worker.py", {"inspector"}),
    ("version.py", {"extractor", "link"}),
])
def test_an_edit_moves_exactly_the_fingerprints_of_the_steps_that_import_it(package_copy, edited, moved):
    before = _versions()
    with open(package_copy / edited, "a") as f:
        f.write("\n# an edit\n")
    after = _versions()
    assert {k for k in before if before[k] != after[k]} == moved


def test_a_new_import_brings_its_module_into_the_fingerprint(package_copy):
    """A module starts to count once a module of the pass imports it, however the import is written."""
    plane = package_copy / "planes" / "cfg.py"
    plane.write_text(plane.read_text() + textwrap.dedent("""\

        def _late():
            from codeintel_assets.validate import (  # a comment
                base,
                cpg_integrity as integrity,
            )
            return integrity
        """))
    before = _versions()
    with open(package_copy / "validate" / "cpg_integrity.py", "a") as f:
        f.write("\n# an edit\n")
    assert _versions()["extractor"] != before["extractor"]
