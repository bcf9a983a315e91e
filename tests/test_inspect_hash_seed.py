"""The sandbox's workers run with a fixed hash seed: a set of strings in a default prints the same
in every run (and as CPython prints it under PYTHONHASHSEED=0), so unchanged code gives unchanged rows."""

import os
import subprocess
import sys

from codeintel_assets.extract.inspect_sandbox import Budgets, Command, Sandbox

SOURCE = "def f(x=frozenset({'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'})):\n    return x\n"


def _sig_text(root, module="seeded"):
    with Sandbox(None, [str(root)], Budgets(), workers=1) as sb:
        (_, r), = list(sb.results([Command(module, str(root / f"{module}.py"))]))
    assert r.ok, (r.error_type, r.error_msg)
    return {row[0]: row[6] for row in r.tables["signatures"] if row[1] == "raw"}[f"{module}:f:function"]


def test_signature_text_of_a_string_set_default_is_the_seed_0_one(tmp_path):
    (tmp_path / "seeded.py").write_text(SOURCE)
    want = subprocess.run([sys.executable, "-c", "import inspect, sys; sys.path.insert(0, sys.argv[1]); import seeded; "
                           "print(inspect.signature(seeded.f))", str(tmp_path)],
                          env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
    first, second = _sig_text(tmp_path), _sig_text(tmp_path)
    assert first == second == want.stdout.strip()
    assert first.startswith("(x=frozenset({")
