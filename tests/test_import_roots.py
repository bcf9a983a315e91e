"""Import roots and module names (codeintel_assets/extract/modules.py) over real directories."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeintel_assets.extract.modules import detect_import_roots, module_name


def touch(root: Path, *rels: str) -> Path:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"# {rel}\n")
    return root


def test_src_layout_detected_and_stripped(tmp_path):
    touch(tmp_path, "src/pkg/__init__.py", "src/pkg/mod.py", "setup.py")
    roots = detect_import_roots(tmp_path)
    assert roots == ("src", "")
    assert module_name("src/pkg/mod.py", roots) == "pkg.mod"
    assert module_name("src/pkg/__init__.py", roots) == "pkg"
    assert module_name("setup.py", roots) == "setup"


def test_src_layout_agrees_with_cpython(tmp_path):
    touch(tmp_path, "src/pkg/__init__.py")
    (tmp_path / "src/pkg/mod.py").write_text("VALUE = 1\n")
    roots = detect_import_roots(tmp_path)
    assert roots[0] == "src"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(tmp_path / roots[0])
    out = subprocess.run(
        [sys.executable, "-c", "import pkg.mod, sys; print(pkg.mod.__name__); print(pkg.mod.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()
    # the module CPython imported is the file we named, and it has the name we gave it
    assert Path(out[1]).resolve() == (tmp_path / "src/pkg/mod.py").resolve()
    assert out[0] == module_name("src/pkg/mod.py", roots) == "pkg.mod"


def test_namespace_package_without_init(tmp_path):
    touch(tmp_path, "ns/sub/mod.py")
    roots = detect_import_roots(tmp_path)
    assert roots == ("",)
    assert module_name("ns/sub/mod.py", roots) == "ns.sub.mod"


def test_top_level_script(tmp_path):
    touch(tmp_path, "tool.py")
    roots = detect_import_roots(tmp_path)
    assert module_name("tool.py", roots) == "tool"


def test_explicit_root_beats_repo_root(tmp_path):
    touch(tmp_path, "lib/x/y.py", "lib/x/__init__.py")
    roots = detect_import_roots(tmp_path, ["lib"])
    assert roots == ("lib", "")
    assert module_name("lib/x/y.py", roots) == "x.y"
    assert module_name("lib/x/__init__.py", roots) == "x"
    # without the explicit root the same file is named from the repository root
    assert module_name("lib/x/y.py", detect_import_roots(tmp_path)) == "lib.x.y"


def test_explicit_root_normalised_relative_and_absolute(tmp_path):
    touch(tmp_path, "lib/x/y.py")
    assert detect_import_roots(tmp_path, ["./lib/"]) == ("lib", "")
    assert detect_import_roots(tmp_path, ["lib/x/.."]) == ("lib", "")
    assert detect_import_roots(tmp_path, [str(tmp_path / "lib")]) == ("lib", "")
    assert detect_import_roots(tmp_path, [str(tmp_path), "."]) == ("",)


def test_nested_explicit_roots_deepest_wins(tmp_path):
    touch(tmp_path, "a/b/c/d.py", "a/e.py")
    roots = detect_import_roots(tmp_path, ["a", "a/b"])
    assert roots == ("a/b", "a", "")
    assert detect_import_roots(tmp_path, ["a/b", "a"]) == roots  # order given does not matter
    assert module_name("a/b/c/d.py", roots) == "c.d"
    assert module_name("a/e.py", roots) == "e"
    # module_name picks the deepest root itself, whatever order the roots come in
    assert module_name("a/b/c/d.py", ("", "a", "a/b")) == "c.d"
    assert module_name("a/b/c/d.py", ["a/", "", "./a/b"]) == "c.d"
    # a root is a directory prefix, not a string prefix: "a/bb" is not under "a/b"
    touch(tmp_path, "a/bb/f.py")
    assert module_name("a/bb/f.py", roots) == "bb.f"


def test_explicit_root_outside_repo_raises(tmp_path):
    repo = tmp_path / "repo"
    touch(repo, "m.py")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(ValueError, match="elsewhere"):
        detect_import_roots(repo, [str(outside)])
    with pytest.raises(ValueError, match=r"\.\./elsewhere"):
        detect_import_roots(repo, ["../elsewhere"])


def test_explicit_root_not_a_directory_raises(tmp_path):
    touch(tmp_path, "m.py")
    with pytest.raises(ValueError, match="missing"):
        detect_import_roots(tmp_path, ["missing"])
    with pytest.raises(ValueError, match=r"m\.py"):
        detect_import_roots(tmp_path, ["m.py"])


def test_src_with_init_is_not_a_root(tmp_path):
    touch(tmp_path, "src/__init__.py", "src/a.py")
    roots = detect_import_roots(tmp_path)
    assert roots == ("",)
    assert module_name("src/a.py", roots) == "src.a"
    assert module_name("src/__init__.py", roots) == "src"


def test_src_file_is_not_a_root(tmp_path):
    (tmp_path / "src").write_text("not a directory\n")
    assert detect_import_roots(tmp_path) == ("",)


def test_init_directly_at_a_root(tmp_path):
    touch(tmp_path, "__init__.py", "lib/__init__.py", "lib/m.py")
    roots = detect_import_roots(tmp_path, ["lib"])
    # lib/__init__.py is not a module of root "lib"; from the repository root it is package "lib"
    assert module_name("lib/__init__.py", roots) == "lib"
    assert module_name("lib/__init__.py", ("lib",)) == "lib"
    assert module_name("lib/m.py", roots) == "m"
    # the repository root's own __init__.py (as spans.module_name_for names it)
    assert module_name("__init__.py", roots) == "__init__"


def test_non_identifier_parts_kept(tmp_path):
    # key a%2Cb.py decodes to a,b.py; the decoded path is named as it is
    touch(tmp_path, "src/my-pkg/a,b.py")
    roots = detect_import_roots(tmp_path)
    assert module_name("src/my-pkg/a,b.py", roots) == "my-pkg.a,b"
    assert module_name("src/my-pkg/a,b.py", roots) == module_name("src/my-pkg/a,b.py", list(roots))


def test_workspace_members_src_layouts_are_roots(tmp_path):
    # a uv workspace: packages/a/src/a and packages/b/src/b; a `src` inside a package is its subpackage, not a
    # root; nor one in a hidden or virtualenv directory, nor deeper than two directories
    touch(tmp_path, "packages/a/src/a/__init__.py", "packages/b/src/b/mod.py", "libs/src/c.py",
          "pkg/__init__.py", "pkg/src/x.py", "tools/x/y/src/z.py", ".hidden/src/h.py", "env/pyvenv.cfg",
          "env/src/e.py")
    roots = detect_import_roots(tmp_path)
    assert roots == ("packages/a/src", "packages/b/src", "libs/src", "")
    assert module_name("packages/b/src/b/mod.py", roots) == "b.mod"
    assert module_name("pkg/src/x.py", roots) == "pkg.src.x"
    # what CPython imports with those directories on sys.path
    assert _cpython_names(tmp_path / "packages/b/src", ["b.mod"]) == {"b.mod": (tmp_path / "packages/b/src/b/mod.py").resolve()}


def test_import_roots_from_the_repositorys_pyproject(tmp_path):
    touch(tmp_path, "services/api/app/main.py", "services/api/app/__init__.py")
    (tmp_path / "pyproject.toml").write_text('[tool.codeintel]\nimport-roots = ["services/api"]\n')
    roots = detect_import_roots(tmp_path)
    assert roots == ("services/api", "") and module_name("services/api/app/main.py", roots) == "app.main"
    (tmp_path / "pyproject.toml").write_text('[tool.codeintel]\nimport-roots = "services/api"\n')
    with pytest.raises(ValueError, match=r"pyproject.toml: \[tool.codeintel\] import-roots must be a list"):
        detect_import_roots(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.codeintel]\nimport-roots = ["services/nothing"]\n')
    with pytest.raises(ValueError, match=r"pyproject.toml: \[tool.codeintel\] import-roots: import root "
                                         r"'services/nothing' is not a directory"):
        detect_import_roots(tmp_path)


def test_a_part_holding_a_dot_is_quoted_and_takes_no_importable_name(tmp_path):
    # p/x.y.py is no module CPython imports by any name (p.x.y is p/x/y.py, checked with CPython below); in double
    # quotes it cannot take p/x/y.py's name, nor one another path gives (one name per path)
    from codeintel_assets.extract.modules import module_parts
    touch(tmp_path, "p/__init__.py", "p/x/__init__.py", "p/x/y.py", "p/x.y.py", "a.b/c.d.py", "a/b.c/d.py")
    roots = detect_import_roots(tmp_path)
    names = {rel: module_name(rel, roots) for rel in ("p/x/y.py", "p/x.y.py", "a.b/c.d.py", "a/b.c/d.py")}
    assert names == {"p/x/y.py": "p.x.y", "p/x.y.py": 'p."x.y"', "a.b/c.d.py": '"a.b"."c.d"', "a/b.c/d.py": 'a."b.c".d'}
    assert module_parts('"a.b"."c.d"') == ['"a.b"', '"c.d"'] and module_parts("p.x.y") == ["p", "x", "y"]
    assert _cpython_names(tmp_path, ["p.x.y"]) == {"p.x.y": (tmp_path / "p/x/y.py").resolve()}
    from codeintel_assets.inspect_step import path_names_module
    assert not path_names_module("p/x.y.py", names["p/x.y.py"])  # (the inspect step does not import it)
    assert path_names_module("p/x/y.py", names["p/x/y.py"]) and path_names_module("p/table-v1.py", "p.table-v1")


def _cpython_names(sys_path_dir: Path, modules: list[str]) -> dict[str, Path]:
    """What a plain interpreter with ``sys_path_dir`` on sys.path imports under each name: name -> file."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(sys_path_dir)
    code = ("import importlib, sys\nfor n in sys.argv[1:]:\n    m = importlib.import_module(n)\n"
            "    print(m.__name__, m.__file__)")
    out = subprocess.run([sys.executable, "-c", code, *modules], env=env, cwd=sys_path_dir, capture_output=True,
                         text=True, timeout=60, check=True).stdout.splitlines()
    return {line.split(" ", 1)[0]: Path(line.split(" ", 1)[1]).resolve() for line in out}


def test_repository_root_that_is_a_package_names_modules_as_import_does(tmp_path):
    # indexing site-packages/requests (or any package directory) directly: its modules are requests.*
    repo = touch(tmp_path / "pkg", "__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "ns/c.py")
    from codeintel_assets.extract.modules import import_dir, package_prefix
    from codeintel_assets.reconcile import module_names
    assert package_prefix(repo) == "pkg"
    assert import_dir(repo) == str(tmp_path)
    names = module_names(repo, ["__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "ns/c.py"])
    assert names == {"__init__.py": "pkg", "a.py": "pkg.a", "sub/__init__.py": "pkg.sub", "sub/b.py": "pkg.sub.b",
                     "ns/c.py": "pkg.ns.c"}
    # CPython, with the directory above the package on sys.path, imports exactly these files under these names
    seen = _cpython_names(tmp_path, sorted(names.values()))
    assert seen == {name: (repo / key).resolve() for key, name in names.items()}


def test_nested_package_root_takes_every_package_above_it(tmp_path):
    touch(tmp_path, "outer/__init__.py", "outer/inner/__init__.py", "outer/inner/m.py")
    from codeintel_assets.extract.modules import import_dir, package_prefix
    from codeintel_assets.reconcile import module_names
    repo = tmp_path / "outer" / "inner"
    assert package_prefix(repo) == "outer.inner"
    assert import_dir(repo) == str(tmp_path)
    assert module_names(repo, ["m.py", "__init__.py"]) == {"m.py": "outer.inner.m", "__init__.py": "outer.inner"}
    assert _cpython_names(tmp_path, ["outer.inner.m"]) == {"outer.inner.m": (repo / "m.py").resolve()}
    # a repository that is not a package is named from its own root, as before
    plain = touch(tmp_path / "plain", "x.py")
    assert package_prefix(plain) == "" and import_dir(plain) == str(plain)
    assert module_names(plain, ["x.py"]) == {"x.py": "x"}
    # nor is one whose directory name no import can spell (a stray __init__.py in a checkout): its files are
    # imported from its root, if at all
    stray = touch(tmp_path / "my-project", "__init__.py", "x.py")
    assert package_prefix(stray) == "" and import_dir(stray) == str(stray)
    assert module_names(stray, ["x.py"]) == {"x.py": "x"}
    # and a package chain stops below a parent that cannot be spelled either
    inner = touch(tmp_path / "my-tools" / "tools", "__init__.py", "y.py")
    touch(tmp_path / "my-tools", "__init__.py")
    assert package_prefix(inner) == "tools" and import_dir(inner) == str(tmp_path / "my-tools")
