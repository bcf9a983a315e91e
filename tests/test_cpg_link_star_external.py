"""What the standard library left unresolved most after the literal rules (session AV): calls of a module of the
repository through a name it gets from `from s import *` of a module with no source in the repository: `os.getcwd()`
(os.py: `from posix import *`), `ast.Name(...)` (`from _ast import *`), `codecs.lookup`, `struct.pack`; numpy's
`_core/umath.py` star-imports its compiled `_multiarray_umath` the same way. Rule `star_external`: `m.n` that nothing
else resolves, where m binds no n itself, is `s.n` for each such star-imported s (0.8: s may lack n; 1/k for k).

The expected callee is CPython's: the fixture package is imported in a fresh interpreter and the called object's
`__module__` and `__qualname__` read there.
"""

import json
import subprocess
import sys

from tests.conftest import call_edges, index_repo, run_cli

M = "from math import *\n\n\ndef local():\n    return 1\n"
CALLER = "from pkg import m\n\n\ndef f():\n    m.sqrt(2.0)\n    m.floor(1.5)\n    m.local()\n    m._private()\n"


def runtime_callees(repo, names) -> dict[str, str | None]:
    """name -> `module.qualname` of `pkg.m.<name>` as CPython imports the fixture (None: no such attribute)."""
    code = ("import json, sys; import pkg.m as m; print(json.dumps({n: (f'{o.__module__}.{o.__qualname__}' "
            "if (o := getattr(m, n, None)) is not None else None) for n in sys.argv[1:]}))")
    out = subprocess.run([sys.executable, "-c", code, *names], cwd=repo, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def _edges(db: str) -> dict[int, list[tuple[str, str, float]]]:
    return call_edges(db, "pkg/caller.py")


def test_a_name_a_module_gets_from_a_star_import_without_source_is_that_modules(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": M, "pkg/caller.py": CALLER})
    truth = runtime_callees(repo, ["sqrt", "floor", "local", "_private"])
    assert truth == {"sqrt": "math.sqrt", "floor": "math.floor", "local": "pkg.m.local", "_private": None}
    got = _edges(env["CODEINTEL_DB"])
    assert got[5] == [(truth["sqrt"], "star_external", 0.8)]
    assert got[6] == [(truth["floor"], "star_external", 0.8)]
    assert [(callee, rule) for callee, rule, _ in got[7]] == [(truth["local"], "import")]
    assert 8 not in got  # `from math import *` binds no _name (math has no __all__): no edge


def test_removing_the_star_import_removes_the_importers_edges(tmp_path):
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": M, "pkg/caller.py": CALLER})
    assert _edges(env["CODEINTEL_DB"])[5] == [("math.sqrt", "star_external", 0.8)]
    (repo / "pkg" / "m.py").write_text(M.replace("from math import *", "from cmath import *\nfrom math import *"))
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    # two star imports without source: either may bind sqrt (at runtime the last one does), half each
    assert _edges(env["CODEINTEL_DB"])[5] == [("cmath.sqrt", "star_external", 0.4), ("math.sqrt", "star_external", 0.4)]
    (repo / "pkg" / "m.py").write_text(M.replace("from math import *", ""))
    code, out, err = run_cli(["index", str(repo), "--workers", "1"], env)
    assert code == 0, err
    assert 5 not in _edges(env["CODEINTEL_DB"])


def test_a_name_the_module_binds_itself_is_not_the_star_imports(tmp_path):
    # os.py's `fsencode, fsdecode = _fscodec()`: a tuple target binds the name; no definition row says so
    m = M + "\nceil, trunc = (lambda x: x), (lambda x: x)\n"
    caller = "from pkg import m\n\n\ndef f():\n    m.ceil(1.5)\n    m.trunc(1.5)\n    m.sqrt(2.0)\n"
    repo, env, _ = index_repo(tmp_path, {"pkg/__init__.py": "", "pkg/m.py": m, "pkg/caller.py": caller})
    truth = runtime_callees(repo, ["ceil", "trunc", "sqrt"])
    assert truth == {"ceil": "pkg.m.<lambda>", "trunc": "pkg.m.<lambda>", "sqrt": "math.sqrt"}
    got = _edges(env["CODEINTEL_DB"])
    assert all(rule != "star_external" for line in (5, 6) for _, rule, _ in got.get(line, [])), got
    assert got[7] == [("math.sqrt", "star_external", 0.8)]


def test_callers_take_the_name_a_module_re_exports_from_such_a_star_import(tmp_path):
    """`callers numpy.zeros` (numpy re-exports numpy._core.multiarray.zeros, which its compiled _multiarray_umath binds):
    the preset follows the re-exports as the link does, to the name outside the source the calls reach."""
    import json as _json
    files = {"pkg/__init__.py": "from pkg.m import sqrt\n", "pkg/m.py": M, "pkg/caller.py": CALLER}
    repo, env, _ = index_repo(tmp_path, files)
    code = "import pkg; print(pkg.sqrt.__module__ + '.' + pkg.sqrt.__qualname__)"
    assert subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip() == "math.sqrt"
    for name in ("pkg.sqrt", "pkg.m.sqrt"):
        code, out, err = run_cli(["query", "--preset", "callers", "--arg", name, "--depth", "1", "--json"], env)
        assert code == 0, err
        assert {(r["caller"], r["callee"]) for r in map(_json.loads, out.splitlines())} == {("pkg.caller.f", "math.sqrt")}
    (repo / "pkg" / "m.py").write_text("from cmath import *\n" + M)
    assert run_cli(["index", str(repo), "--workers", "1"], env)[0] == 0
    code, out, err = run_cli(["query", "--preset", "callers", "--arg", "pkg.sqrt"], env)
    assert code == 2 and "cmath.sqrt" in err and "  math.sqrt" in err, (code, err)
