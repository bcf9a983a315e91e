"""Same bytes + same interpreter => identical bytecode rows in any process, whatever PYTHONHASHSEED is.

A frozenset constant's ``repr`` lists its elements in hash order, and str / bytes hashes follow the
process's hash seed; ``argrepr`` / ``argval_repr`` use ``bytecode.stable_repr`` (elements sorted by their
own stable repr, recursively) instead. Each extraction below runs in a fresh interpreter; the test first
proves that the raw reprs of its constants do differ between two of the seeds, so it can fail.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.ipc as ipc

from codeintel_assets.extract.bytecode import _argval_columns, stable_repr

SOURCE = textwrap.dedent("""\
    def f(x, d=(1, 'k', (2.5, None)), *, e=('p', 'q')):
        if x in {3, 'a', 2.5, (1, 'b'), None}:
            return 1
        if x in {1, 2, 3}:
            return 2
        for y in {'p', 'q', 'r', 's'}:
            if y not in {'alpha', 'beta', 'gamma', 'delta'}:
                return y
        return [z for z in {'u', 'v', 'w'} if z in {('m', 'n'), ('o',), 'p', b'bytes'}]

    class C:
        def m(self, k=frozenset()):
            return k in {'one', 'two', 'three'} or self in {1.5, 'x', ()}
    """)
# 3.13's compiler makes a frozenset constant only for `in` / `for` over a set display, so no source
# yields a tuple holding one; _argval_columns gets such a value directly.
NESTED = "(frozenset({'b', 'a', 'c', 'd'}), 1, frozenset({('x', 'y'), 'z', frozenset()}), ['l', 'm'])"

CHILD = textwrap.dedent("""\
    import json, sys
    import pyarrow.ipc as ipc
    from codeintel_assets.extract.bytecode import _argval_columns, extract_bytecode
    from codeintel_assets.extract.syntax import read_source

    root, rel, out = sys.argv[1:4]
    src = read_source(root, rel)
    bc = extract_bytecode(src)
    assert src.error is None and bc.instructions.num_rows > 0
    for name in ("instructions", "code_units", "exception_table"):
        table = getattr(bc, name)
        with ipc.new_file(f"{out}.{name}.arrow", table.schema) as w:
            w.write_table(table)

    def walk(code):
        yield code
        for c in code.co_consts:
            if hasattr(c, "co_code"):
                yield from walk(c)

    raw = [repr(c) for u in walk(compile(src.data, rel, "exec")) for c in u.co_consts if isinstance(c, frozenset)]
    nested = eval(sys.argv[4])
    json.dump({"raw": raw, "nested_raw": repr(nested), "nested": _argval_columns(nested, {})[3]}, sys.stdout)
    """)

SEEDS = ["1", "12345", "2", "3", "4", "7", "42", "1000", "31337", "4294967295"]


def _run(tmp_path: Path, seed: str) -> dict:
    out = tmp_path / f"seed{seed}"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), "mod.py", str(out), NESTED],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parent.parent,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    res["tables"] = {name: ipc.open_file(f"{out}.{name}.arrow").read_all()
                     for name in ("instructions", "code_units", "exception_table")}
    res["bytes"] = {name: Path(f"{out}.{name}.arrow").read_bytes() for name in ("instructions", "code_units")}
    return res


def test_bytecode_rows_do_not_depend_on_the_hash_seed(tmp_path):
    (tmp_path / "mod.py").write_text(SOURCE)
    first = _run(tmp_path, SEEDS[0])
    assert len(first["raw"]) == 8
    other = None
    for seed in SEEDS[1:]:
        other = _run(tmp_path, seed)
        if other["raw"] != first["raw"] and other["nested_raw"] != first["nested_raw"]:
            break
    else:
        raise AssertionError(f"no seed in {SEEDS} reorders the frozenset reprs: the test could not fail")
    for name, table in first["tables"].items():
        theirs = other["tables"][name]
        assert table.schema == theirs.schema
        assert table.to_pylist() == theirs.to_pylist(), name
        assert table.equals(theirs, check_metadata=True), name
    assert first["bytes"] == other["bytes"]  # byte-identical Arrow files
    assert first["nested"] == other["nested"] == (
        "(frozenset({'a', 'b', 'c', 'd'}), 1, frozenset({'z', ('x', 'y'), frozenset()}), ['l', 'm'])")

    ins = first["tables"]["instructions"].to_pylist()
    consts = [r for r in ins if r["argval_kind"] == "frozenset"]
    assert len(consts) == 8
    for r in consts:
        assert r["argrepr"] == r["argval_repr"]  # LOAD_CONST's argrepr is the constant's repr
    assert {r["argval_repr"] for r in consts} == {
        "frozenset({'a', (1, 'b'), 2.5, 3, None})",
        "frozenset({1, 2, 3})",
        "frozenset({'p', 'q', 'r', 's'})",
        "frozenset({'alpha', 'beta', 'delta', 'gamma'})",
        "frozenset({'u', 'v', 'w'})",
        "frozenset({'p', ('m', 'n'), ('o',), b'bytes'})",
        "frozenset({'one', 'three', 'two'})",
        "frozenset({'x', (), 1.5})",
    }
    defaults = [r for r in ins if r["argval_kind"] == "tuple" and r["opname"] == "LOAD_CONST"]
    assert {r["argval_repr"] for r in defaults} >= {"((1, 'k', (2.5, None)),)", "('p', 'q')"}  # defaults


def test_stable_repr():
    assert stable_repr(frozenset({1, 2, "a"})) == "frozenset({'a', 1, 2})"
    assert stable_repr(frozenset()) == "frozenset()" and stable_repr(set()) == "set()"
    assert stable_repr({"b", "a"}) == "{'a', 'b'}"
    assert stable_repr((frozenset({"b", "a"}),)) == "(frozenset({'a', 'b'}),)"
    assert stable_repr(((), [frozenset({"q", "p"})], "{")) == "((), [frozenset({'p', 'q'})], '{')"
    for v in [(), (1,), ("a", b"b", 2.5, None, True, ..., 1j, (1, (2,))), [1, "x"], "{'x'}", -0.0, float("nan")]:
        assert stable_repr(v) == repr(v)  # set-free values keep their repr
    # Tuples without a set keep the plain repr; the code-object address is still stripped.
    assert _argval_columns(("x", "{y}"), {})[3] == "('x', '{y}')"
    assert _argval_columns((compile("1", "f", "eval"),), {})[3].startswith("(<code object <module>, file")
