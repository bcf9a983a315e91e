"""CPython's own answers for the inspect plane's objects, from a plain interpreter (the oracle).

``oracle(repo, conn, where)`` finds each object the way the module exposes it (the attribute path of
its member rows: ``module.Class.method``), then asks a fresh ``python -I`` with ``repo`` first on
sys.path for ``inspect.signature`` (raw and wrapped, ``eval_str=False``) and
``inspect.getsourcelines``. Memory addresses in reprs (``<object object at 0x...>``) differ between
processes and are normalised on both sides (``normalise``). Used by tests/test_inspect_plane.py and
benchmarks/inspect_stdlib.py.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")

SCRIPT = r"""
import importlib, inspect, json, re, sys
addr = re.compile(r" at 0x[0-9a-fA-F]+")
sys.path.insert(0, sys.argv[1])
out = {}
for oid, kind, module, path in json.loads(sys.stdin.read()):
    try:
        obj = importlib.import_module(module)
        for part in path:
            obj = inspect.getattr_static(obj, part)
    except Exception as exc:
        continue
    if kind == "function" and isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if kind == "function" and isinstance(obj, property):
        obj = obj.fget
    res = {}
    for variant, follow in (("raw", False), ("wrapped", True)):
        try:
            res[variant] = "ok " + addr.sub(" at 0x?", str(inspect.signature(obj, follow_wrapped=follow, eval_str=False)))
        except Exception as exc:
            res[variant] = "error " + type(exc).__name__
    if kind in ("function", "class"):
        try:
            lines, start = inspect.getsourcelines(obj)
            res["source"] = [start, len(lines)]
        except Exception as exc:
            res["source"] = "error " + type(exc).__name__
    out[oid] = res
print(json.dumps(out))
"""


def normalise(text: str) -> str:
    return _ADDR.sub(" at 0x?", text)


def attribute_paths(conn, where: str = "TRUE") -> list[list]:
    """[object_id, kind, module, [attr, ...]] for the objects reachable by attributes from their module."""
    owner: dict[str, tuple[str, str]] = {}
    for oid, attr, value in conn.execute(
            "SELECT owner_object_id, attr_name, value_object_id FROM py_inspect_members_static "
            "WHERE value_object_id IS NOT NULL ORDER BY owner_object_id, attr_name").fetchall():
        owner.setdefault(value, (oid, attr))
    out = []
    for oid, kind, module in conn.execute(
            f"SELECT object_id, kind, module_name FROM py_inspect_objects WHERE ({where}) AND is_callable "
            "AND kind IN ('function', 'class', 'other_callable') ORDER BY object_id").fetchall():
        path, cur, seen = [], oid, set()
        while cur in owner and cur not in seen:
            seen.add(cur)
            cur, attr = owner[cur]
            path.insert(0, attr)
        if cur.endswith("::module"):
            out.append([oid, kind, cur[:-len("::module")], path])
    return out


def oracle(repo: str, objects: list[list]) -> dict:
    # From a file, not ``-c``: code compiled from a string has the file name "<string>", which is also the
    # name of a ``-c`` script, so getsourcelines would "find" the oracle's own lines for a dataclass method.
    with tempfile.NamedTemporaryFile("w", suffix="_inspect_oracle.py", delete=False) as fh:
        fh.write(SCRIPT)
    try:
        got = subprocess.run([sys.executable, "-I", fh.name, str(repo)], input=json.dumps(objects),
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(fh.name)
    return json.loads(got.stdout)


def compare(conn, objects: list[list], want: dict) -> tuple[int, int, list]:
    """(compared, agreeing, disagreements) over signatures (both variants) and source extents."""
    sigs = {(o, v): ("ok " + normalise(t) if ok else "error " + et) for o, v, ok, t, et in conn.execute(
        "SELECT object_id, variant, ok, sig_text, error_type FROM py_inspect_signatures").fetchall()}
    src = {o: ([s, n] if ok else "error " + et) for o, ok, s, n, et in conn.execute(
        "SELECT object_id, ok, start_line, line_count, error_type FROM py_inspect_source").fetchall()}
    compared = agree = 0
    bad = []
    for oid, *_ in objects:
        if oid not in want:
            continue
        for what, expect in want[oid].items():
            got = src.get(oid) if what == "source" else sigs.get((oid, what))
            compared += 1
            if got == expect:
                agree += 1
            else:
                bad.append((oid, what, got, expect))
    return compared, agree, bad
