"""What scipy 1.16.3 showed as a user (session AW): 114 compiled extension modules inside the package, and the names
imported from them unresolved: `from ._rotation import Rotation` in scipy/spatial/transform/__init__.py, then
`Rotation.from_quat(...)` (116 calls in its tests) had no edge, where a module outside the repository gives an
`external` one. A name inside a compiled module of the repository is now `external` too, spelled as the module
defines it; adding or removing such a module (no *.py changes) relinks the repository.

The expected callees are CPython's: the fixture is imported and each called name's object compared with the
module's (`is`).
"""

import shutil

from tests.conftest import call_edges, index_repo, run_cli
from tests.test_cpg_graph import _an_extension_module_file
from tests.test_cpg_link_sqla_trial import in_cpython

USE = '''
from pkg.fast import {a}
from pkg.fast import _native


def main(xs):
    {a}(xs)
    _native.{b}(xs)
    return xs
'''


def test_a_name_inside_a_compiled_module_of_the_repository_is_external(tmp_path):
    so = _an_extension_module_file()
    module = so.name.split(".")[0]  # (its PyInit_ name: the file keeps it)
    # two public functions of it, as CPython lists them
    a, b = in_cpython(tmp_path, f"import {module} as m; print(*sorted(n for n in dir(m) if not n.startswith('_') "
                                f"and callable(getattr(m, n)))[:2])").split()
    files = {"pkg/__init__.py": "", "pkg/fast/__init__.py": f"from .{module} import {a}\nfrom . import {module} as _native\n",
             "pkg/use.py": USE.format(a=a, b=b)}
    repo, env, _ = index_repo(tmp_path, files)
    assert call_edges(env["CODEINTEL_DB"], "pkg/use.py") == {}  # no module there yet: an ImportError at runtime
    shutil.copy(so, repo / "pkg" / "fast" / so.name)
    # CPython: the names are the compiled module's own objects
    assert in_cpython(repo, f"import pkg.use, pkg.fast.{module} as m; print(pkg.use.{a} is m.{a}, "
                            f"pkg.use._native.{b} is m.{b})") == "True True"
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)  # no *.py changed
    assert code == 0, err
    assert call_edges(env["CODEINTEL_DB"], "pkg/use.py") == {
        6: [(f"pkg.fast.{module}.{a}", "external", 0.9)], 7: [(f"pkg.fast.{module}.{b}", "external", 0.9)]}
    # removed again: the edges go with it
    (repo / "pkg" / "fast" / so.name).unlink()
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert call_edges(env["CODEINTEL_DB"], "pkg/use.py") == {}
