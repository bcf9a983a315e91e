"""Recall of py_reaching_defs against the sys.monitoring oracle, on standard-library modules driven by
their own test suites (real code nobody here wrote).

For each module: index its source file with the pass (in process), instrument every code object of
its functions and methods, run ``test.test_<module>`` with unittest, and count the observed def -> use
pairs of fast locals that py_reaching_defs contains. Target: 100 %.

Usage:  uv run python benchmarks/dfg_oracle_stdlib.py [MODULE ...]
"""

import importlib
import io
import shutil
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dfg_oracle import observe  # noqa: E402
from tests.test_dataflow_oracle import _module_codes, expected_pairs, index_file  # noqa: E402

# Pure-Python modules whose test suites run in seconds under INSTRUCTION monitoring (difflib's takes
# ~5 minutes: pass it by name).
DEFAULT = ["textwrap", "shlex", "fractions", "ipaddress", "string", "colorsys", "fnmatch", "glob", "pprint",
           "calendar", "plistlib", "configparser", "csv", "gettext", "base64"]


def recall_for(modname: str) -> tuple[int, int, list, float, int]:
    mod = importlib.import_module(modname)
    src = Path(mod.__file__)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        if src.name == "__init__.py":  # a package: index its __init__ only (its code objects below)
            shutil.copy(src, root / "__init__.py")
            tables = index_file(root, "__init__.py")
        else:
            shutil.copy(src, root / src.name)
            tables = index_file(root, src.name)
    by_key, stored = expected_pairs(tables)
    tests = unittest.defaultTestLoader.loadTestsFromName(f"test.test_{modname}")
    t0 = time.perf_counter()
    ran = []

    def run():
        ran.append(unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(tests).testsRun)

    observed = observe(_module_codes(mod), run)
    secs = time.perf_counter() - t0
    missing, unmatched = [], 0
    for code, dft, use in observed:
        cands = by_key.get((code.co_qualname, code.co_firstlineno), [])
        if len(cands) != 1:
            unmatched += 1
            continue
        if (cands[0], use, "param" if dft is None else dft) not in stored:
            missing.append((code.co_qualname, use, dft))
    return len(observed) - unmatched, len(missing), missing[:5], secs, ran[0] if ran else 0


def main() -> None:
    mods = sys.argv[1:] or DEFAULT
    total = total_missing = 0
    print(f"{'module':12s} {'tests':>6s} {'pairs':>7s} {'missing':>8s} {'recall':>8s} {'secs':>6s}")
    for m in mods:
        try:
            n, k, sample, secs, tests = recall_for(m)
        except Exception as exc:  # noqa: BLE001 - a module without a test suite here: say so, go on
            print(f"{m:12s} skipped: {type(exc).__name__}: {exc}")
            continue
        total += n
        total_missing += k
        print(f"{m:12s} {tests:6d} {n:7d} {k:8d} {100.0 * (n - k) / n if n else 100.0:7.2f}% {secs:6.1f}", flush=True)
        for s in sample:
            print("    missing:", s)
    print(f"{'all':12s} {'':6s} {total:7d} {total_missing:8d} "
          f"{100.0 * (total - total_missing) / total if total else 100.0:7.2f}%")


if __name__ == "__main__":
    main()
