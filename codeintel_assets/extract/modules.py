"""Import roots and module names.

A module's dotted name depends on the directory that is on ``sys.path`` when it is imported (its
*import root*), not on its path from the repository root: ``src/pkg/mod.py`` in a src layout is
``pkg.mod``, not ``src.pkg.mod``. This module finds the import roots of a repository cheaply and
names a file's module from them. Pure stdlib; nothing here knows about Dagster.

Roots are repository-relative POSIX directory paths; ``''`` is the repository root itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["detect_import_roots", "finder_name", "import_dir", "module_name", "module_parts", "package_prefix",
           "quote_part"]


def _norm_parts(path: str) -> list[str]:
    """Components of a POSIX relative path, without empty and ``.`` parts."""
    return [p for p in path.split("/") if p and p != "."]


def _depth(root: str) -> int:
    return len(_norm_parts(root))


def _explicit_root(repo: str, given: str) -> str:
    """Repository-relative POSIX form of one explicit root; ValueError when unusable."""
    raw = os.fspath(given)
    joined = raw if os.path.isabs(raw) else os.path.join(repo, raw)
    joined = os.path.normpath(joined)
    rel = os.path.relpath(joined, repo)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        # Lexically outside; the repository may be spelled differently (a symlinked prefix such as
        # /tmp -> /private/tmp), so compare the resolved paths before refusing.
        real_rel = os.path.relpath(os.path.realpath(joined), os.path.realpath(repo))
        if real_rel == os.pardir or real_rel.startswith(os.pardir + os.sep) or os.path.isabs(real_rel):
            raise ValueError(f"import root {raw!r} is outside the repository {repo!r}")
        rel = real_rel
    if not os.path.isdir(joined):
        raise ValueError(f"import root {raw!r} is not a directory (looked for {joined!r})")
    return "" if rel == os.curdir else rel.replace(os.sep, "/")


def detect_import_roots(repo_root: str | os.PathLike, explicit: Sequence[str] = ()) -> tuple[str, ...]:
    """Import roots of the repository at ``repo_root``, most specific (deepest) first.

    * every ``explicit`` directory (relative to ``repo_root`` or absolute inside it), normalised;
      ValueError naming the path when it is outside the repository or not a directory;
    * every directory ``import-roots`` lists in ``[tool.codeintel]`` of the repository's
      ``pyproject.toml`` (``configured_import_roots``; the same checks, the error names the file);
    * ``src`` when ``<repo>/src`` is a directory without ``__init__.py`` (the src layout), and so
      ``D/src`` and ``D/E/src`` (a workspace's members: ``packages/foo/src``) when no directory on the
      way is a package (a ``src`` inside a package is its subpackage, not a root);
    * ``''`` (the repository root), always.

    A few ``stat`` and ``scandir`` calls (two directory levels): no tree walk. Ties in depth are
    ordered by name so the result is deterministic; duplicates are removed.
    """
    repo = os.path.abspath(os.fspath(repo_root))
    if not os.path.isdir(repo):
        raise ValueError(f"repository root {repo!r} is not a directory")
    if isinstance(explicit, (str, os.PathLike)):  # a lone path is a common slip; treat as one root
        explicit = (explicit,)
    roots = {_explicit_root(repo, os.fspath(e)) for e in explicit}
    path, configured = configured_import_roots(repo)
    for given in configured:
        try:
            roots.add(_explicit_root(repo, given))
        except ValueError as exc:
            raise ValueError(f"{path}: [tool.codeintel] import-roots: {exc}") from exc
    roots.update(_src_layouts(repo))
    roots.add("")
    return tuple(sorted(roots, key=lambda r: (-_depth(r), r)))


def _src_layouts(repo: str) -> set[str]:
    """``src`` and ``D/src``, ``D/E/src`` under ``repo``: directories named ``src`` without ``__init__.py``
    whose ancestors up to the repository are no packages (nor hidden, virtualenv, VCS or build directories).
    Only ``src`` when the repository root is itself a package (its directories are subpackages)."""
    def is_package(d: str) -> bool:
        return os.path.isfile(os.path.join(d, "__init__.py"))

    from codeintel_assets.reconcile import SKIP_DIRS, _is_venv  # (what the scan skips: no project there)
    skip = SKIP_DIRS | {"site-packages", "build", "dist"}

    def subdirs(rel: str) -> list[str]:
        d = os.path.join(repo, rel) if rel else repo
        try:
            with os.scandir(d) as it:
                names = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            return []
        return [f"{rel}/{n}" if rel else n for n in names
                if n not in skip and not n.startswith(".") and not is_package(os.path.join(d, n))
                and not _is_venv(Path(d, n))]

    found: set[str] = set()
    level = [""]
    for depth in range(3 if not is_package(repo) else 1):
        below = [sub for rel in level for sub in subdirs(rel)]
        found.update(sub for sub in below if sub.rsplit("/", 1)[-1] == "src")
        level = [sub for sub in below if sub.rsplit("/", 1)[-1] != "src"]
    return found


def configured_import_roots(repo: str) -> tuple[str, list[str]]:
    """(pyproject.toml path, the directories its ``[tool.codeintel] import-roots`` lists): a repository's own
    setting, so that every command and the UI's runs name its modules alike without a flag. ValueError naming
    the file when it cannot be read or the setting is not a list of strings."""
    return configured_strings(repo, "import-roots", "directories")


def configured_strings(repo: str, key: str, what: str) -> tuple[str, list[str]]:
    """(pyproject.toml path, the list of strings ``key`` of its ``[tool.codeintel]`` table; [] without one).
    ValueError naming the file when it cannot be read or the value is not a list of strings (``what`` they are
    says which in the message)."""
    import tomllib
    path = os.path.join(repo, "pyproject.toml")
    if not os.path.isfile(path):
        return path, []
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("codeintel", {})
    value = table.get(key, []) if isinstance(table, dict) else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{path}: [tool.codeintel] {key} must be a list of {what} (strings)")
    return path, value


def _package_chain(repo_root: str | os.PathLike) -> tuple[str, list[str]]:
    """The first directory at or above ``repo_root`` without an ``__init__.py`` (or whose name no import
    statement can spell: ``my-project/__init__.py`` is a stray file, not a package anything imports), and
    the names of the package directories from there down to ``repo_root`` (outermost first)."""
    import keyword
    d = os.path.abspath(os.fspath(repo_root))
    names: list[str] = []
    while os.path.isfile(os.path.join(d, "__init__.py")):
        parent, name = os.path.dirname(d), os.path.basename(d)
        if parent == d or not name.isidentifier() or keyword.iskeyword(name):
            break
        names.append(os.path.basename(d))
        d = parent
    return d, names[::-1]


def package_prefix(repo_root: str | os.PathLike) -> str:
    """The dotted name of the repository root when it is itself a package (it has an ``__init__.py``):
    its directory name, preceded by those of the parent directories that are packages too, as pytest's
    ``prepend`` import mode and mypy find a package's base directory. ``''`` when the root is not a
    package (the usual repository layout). Indexing ``site-packages/requests`` names its modules
    ``requests.api``, as ``import`` does, not ``api``."""
    return ".".join(_package_chain(repo_root)[1])


def import_dir(repo_root: str | os.PathLike) -> str:
    """The directory on ``sys.path`` for the import root ``''``: the repository root, or, when the root is
    a package (``package_prefix``), the first directory above it that is not one."""
    return _package_chain(repo_root)[0]


def quote_part(part: str) -> str:
    """A path part as a part of a dotted module name: as it is, or in double quotes when it holds a dot.

    ``p/x.y.py`` is no module ``import`` finds (``import p.x.y`` is ``p/x/y.py``), but named ``p.x.y`` it took
    that module's name: its definitions shared their qualnames with ``p/x/y.py``'s, and a call into one reached
    both (0.5 each), or only the file no import can load. ``p."x.y"`` is no name an import can spell, one
    name per path. Other parts that are not identifiers (``my-pkg``, ``a,b``) stay as they are:
    ``importlib.import_module`` loads them by that name, and no importable name holds them."""
    return f'"{part}"' if "." in part else part


_PARTS = re.compile(r'"[^"]*"|[^.]+')


def module_parts(module: str) -> list[str]:
    """The parts of a dotted module name, a quoted part (``quote_part``) as one: ``p."x.y"`` -> ``p``, ``"x.y"``."""
    return _PARTS.findall(module) if '"' in module else (module.split(".") if module else [])


def module_name(path: str, roots: Sequence[str], prefix: str = "") -> str:
    """Dotted module name of the ``.py`` file at repository-relative POSIX ``path``.

    ``path`` is the decoded path (``a,b.py``, not the ``a%2Cb.py`` key). The deepest root that is a
    directory-prefix of the path is used; the name is the remaining parts without ``.py``, with a
    trailing ``__init__`` dropped (``pkg/__init__.py`` -> ``pkg``). Directories without
    ``__init__.py`` (namespace packages) are parts like any other. Parts that are not identifiers
    are kept as they are (the name is descriptive and deterministic, not necessarily importable), in
    double quotes when they hold a dot (``quote_part``: ``p/x.y.py`` is ``p."x.y"``, not ``p/x/y.py``'s name).

    An ``__init__.py`` directly inside a root is not a module of that root (``import __init__``
    aside); it is the package named by the root directory as seen from the next shallower root
    that contains it, so with roots ``('lib', '')`` ``lib/__init__.py`` is ``lib``. The repository
    root's own ``__init__.py`` (or one under no shallower root) is ``__init__``, which is also what
    ``module_name_for`` in spans.py says. A path under none of ``roots`` is named from the
    repository root.
    """
    parts = _norm_parts(path)
    if parts and parts[-1].endswith(".py"):
        parts[-1] = parts[-1][:-3]
    parts = [quote_part(p) for p in parts]
    candidates = sorted({"/".join(_norm_parts(r)) for r in roots}, key=lambda r: (-_depth(r), r))
    for root in candidates:
        rparts = [quote_part(p) for p in _norm_parts(root)]
        n = len(rparts)
        if len(parts) <= n or parts[:n] != rparts:
            continue
        rest = parts[n:]
        if rest == ["__init__"]:
            continue  # the root's own __init__.py: name it from a shallower root
        if len(rest) > 1 and rest[-1] == "__init__":
            rest = rest[:-1]
        return ".".join([prefix, *rest]) if prefix and not rparts else ".".join(rest)
    # Under no root, or an __init__.py at every root that holds it: from the repository root.
    if parts and parts[-1] == "__init__" and (len(parts) > 1 or prefix):
        parts = parts[:-1]
    return ".".join([prefix, *parts] if prefix else parts) or "<module>"


def finder_name(root: str | os.PathLike, path: str, name: str, hidden_dirs: dict[str, bool] | None = None) -> str:
    """``name`` (``module_name``'s for ``path``) with a quoted part where CPython's path finder takes another file for
    it, so that the file no import loads does not share that file's qualnames (a call into it reached both files,
    0.5 each, or a definition the imported module does not have):

    - a module beside a package of its name (``p/m.py`` and ``p/m/__init__.py``): the package is ``p.m``, the
      module ``p."m.py"``;
    - a directory without ``__init__.py`` beside a module of its name (``p/m.py`` and ``p/m/z.py``): ``p.m`` is
      the module, not a package, so ``import p.m.z`` fails and ``p/m/z.py`` is ``p."m/".z``.

    A ``stat`` per file and per directory (``hidden_dirs``: a cache shared by the calls of one naming pass)."""
    hidden_dirs = {} if hidden_dirs is None else hidden_dirs

    def hidden(rel_dir: str) -> bool:
        if rel_dir not in hidden_dirs:
            d = os.path.join(root, rel_dir)
            hidden_dirs[rel_dir] = (os.path.isfile(d + ".py") and not os.path.isfile(os.path.join(d, "__init__.py"))
                                    and os.path.isdir(d))
        return hidden_dirs[rel_dir]

    leaf = path[:-3].rpartition("/")[2]
    if leaf != "__init__" and os.path.isfile(os.path.join(root, path[:-3], "__init__.py")) and name.endswith(leaf):
        name = name[:len(name) - len(leaf)] + quote_part(f"{leaf}.py")
    comps = path[:-3].split("/")
    dirs = comps[:-1]  # (a package's __init__.py: its own directory is the module, not hidden by a .py)
    if any(hidden("/".join(dirs[:i + 1])) for i in range(len(dirs))):
        parts = module_parts(name)
        named = comps[:-1] if comps[-1] == "__init__" else comps  # the path components the name's last parts spell
        offset = len(parts) - len(named)
        for i in range(len(dirs)):
            if offset + i >= 0 and hidden("/".join(dirs[:i + 1])):
                parts[offset + i] = f'"{dirs[i]}/"'
        name = ".".join(parts)
    return name
