"""A numpy trial (session AV): 3,547 calls `np.sqrt(...)`, `np.isnan(...)` ... in numpy's own code were unresolved.
numpy/_core/numeric.py sets a literal `__all__` and then extends it at import time (`extend_all(umath)`, whose loop
does `__all__.append(a)`), so `from .numeric import *` in numpy/_core/__init__.py binds umath's names too; the
extractor took the literal list for the whole of it. Now an `__all__` changed in place by anything but a literal
`__all__.extend([...])` / `.append("...")` at module level is dynamic, and what a star import of such a module binds
is, as for a module without `__all__`, its public names and those its own star imports bind (plus the literal part).

The expected callees are CPython's: the fixture is imported in a fresh interpreter.
"""

import json
import subprocess
import sys

import duckdb

from tests.conftest import index_repo

FILES = {
    "pkg/__init__.py": "from .core import *\n",
    "pkg/ops.py": "__all__ = ['sq']\n\n\ndef sq(x):\n    return x * x\n\n\ndef hidden():\n    return 0\n",
    "pkg/core.py": ("from . import ops\nfrom .ops import *\n\n__all__ = ['a']\n\n\ndef a():\n    return 1\n\n\n"
                    "def _extend_all(module):\n    for n in module.__all__:\n        if n not in __all__:\n"
                    "            __all__.append(n)\n\n\n_extend_all(ops)\n"),
    "pkg/lit.py": ("__all__ = ['b']\n__all__.extend(['c'])\n\n\ndef b():\n    return 1\n\n\ndef c():\n    return 2\n\n\n"
                   "def d():\n    return 3\n"),
    "pkg/user.py": "import pkg\nfrom pkg.lit import *\n\n\ndef f():\n    pkg.sq(2)\n    pkg.a()\n    c()\n    b()\n",
}
PROBE = """
import json, pkg, pkg.lit
ns = {}
exec("from pkg.lit import *", ns)
print(json.dumps({"pkg.sq": f"{pkg.sq.__module__}.{pkg.sq.__qualname__}", "pkg.a": f"{pkg.a.__module__}.{pkg.a.__qualname__}",
                  "pkg.hidden": hasattr(pkg, "hidden"), "star": sorted(k for k in ns if not k.startswith("__"))}))
"""


def test_a_star_import_of_a_module_that_extends_its_all_binds_the_names_it_adds(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    truth = json.loads(subprocess.run([sys.executable, "-c", PROBE], cwd=repo, capture_output=True, text=True,
                                      check=True).stdout)
    assert truth == {"pkg.sq": "pkg.ops.sq", "pkg.a": "pkg.core.a", "pkg.hidden": False, "star": ["b", "c"]}
    with duckdb.connect(env["CODEINTEL_DB"], read_only=True) as c:
        got = dict(c.execute("SELECT s.lineno, c.callee_qualname FROM cpg_call_sites s JOIN cpg_calls c "
                             "USING (callsite_id) WHERE s.path = 'pkg/user.py'").fetchall())
        dynamic = {p for (p,) in c.execute("SELECT DISTINCT path FROM cpg_value_refs WHERE role = 'export_dynamic'")
                   .fetchall()}
        exported = {r for r in c.execute("SELECT path, root FROM cpg_value_refs WHERE role = 'export'").fetchall()}
    assert dynamic == {"pkg/core.py"}  # lit.py's literal extend is more exports, not a dynamic __all__
    assert exported == {("pkg/ops.py", "sq"), ("pkg/core.py", "a"), ("pkg/lit.py", "b"), ("pkg/lit.py", "c")}
    assert got == {6: truth["pkg.sq"], 7: truth["pkg.a"], 8: "pkg.lit.c", 9: "pkg.lit.b"}
