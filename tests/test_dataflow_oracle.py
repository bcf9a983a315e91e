"""Soundness of py_reaching_defs against a dynamic oracle (sys.monitoring): every def -> use of a local
observed at run time must be a row. On the fixture of every construct issue 8 names, and on real code
nobody here wrote (the standard library's textwrap and shlex, driven by their own test suites)."""

import importlib
import io
import shutil
import sys
import unittest
from pathlib import Path
from types import CodeType

import pytest

from codeintel_assets.pipeline import extract_file
from tests.dfg_oracle import all_code_objects, observe

FIXTURE = Path(__file__).parent / "fixtures" / "dataflow_cases.py"


def index_file(root: Path, rel: str) -> dict:
    tables, failures = extract_file(str(root), rel, rel[:-3].replace("/", "."), 10 ** 8)
    assert not failures, failures
    return tables


def expected_pairs(tables: dict) -> tuple[dict, set]:
    """-> code-unit lookup by (qualname, firstlineno) and the stored (cu, use offset, def offset | 'param')."""
    cus = tables["py_bc_code_units"].select(["code_unit_id", "co_qualname", "co_firstlineno"]).to_pylist()
    by_key: dict[tuple, list[str]] = {}
    for r in cus:
        by_key.setdefault((r["co_qualname"], r["co_firstlineno"]), []).append(r["code_unit_id"])
    ins = tables["py_bc_instructions"].select(["code_unit_id", "instr_index", "offset", "opname"]).to_pylist()
    offset_of = {(r["code_unit_id"], r["instr_index"]): r["offset"] for r in ins}
    stored = set()
    for r in tables["py_reaching_defs"].to_pylist():
        cu = r["code_unit_id"]
        use = offset_of[(cu, r["use_instr_index"])]
        if r["def_kind"] == "param":
            stored.add((cu, use, "param"))
        elif r["def_instr_index"] is not None:
            stored.add((cu, use, offset_of[(cu, r["def_instr_index"])]))
    return by_key, stored


def recall(observed, by_key: dict, stored: set) -> tuple[int, list]:
    missing = []
    for code, d, use in observed:
        cands = by_key.get((code.co_qualname, code.co_firstlineno), [])
        assert len(cands) == 1, f"{code.co_qualname}:{code.co_firstlineno} maps to {cands}"
        key = (cands[0], use, "param" if d is None else d)
        if key not in stored:
            missing.append((code.co_qualname, use, d))
    return len(observed), missing


def test_oracle_sees_the_fixture_and_every_pair_is_stored(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(FIXTURE, root / "cases.py")
    tables = index_file(root, "cases.py")
    assert tables["py_dfg_files"].column("ok").to_pylist() == [True]
    data = (root / "cases.py").read_bytes()
    module = compile(data, str(root / "cases.py"), "exec", dont_inherit=True, optimize=0)
    ns: dict = {"__name__": "cases"}
    exec(module, ns)
    observed = observe(all_code_objects([module]), ns["main"])
    n, missing = recall(observed, *expected_pairs(tables))
    # The oracle really ran: loads of locals in most of the fixture's functions were seen.
    qualnames = {c.co_qualname for c, _, _ in observed}
    for fn in ("branches", "loops", "tries", "exc_mid_block", "withs", "gen", "agen", "async_user", "comprehensions",
               "closures.<locals>.inc", "deletes", "walrus", "matching", "exc_var", "calls", "callee"):
        assert fn in qualnames, f"oracle saw no local read in {fn}"
    assert n > 100
    assert missing == [], f"{len(missing)} of {n} observed def->use pairs missing: {missing[:10]}"


def _module_codes(mod) -> list[CodeType]:
    """Code objects of a module's functions and methods (and everything nested in them)."""
    roots = []
    for v in vars(mod).values():
        items = [v]
        if isinstance(v, type) and v.__module__ == mod.__name__:
            items = list(vars(v).values())
        for f in items:
            f = getattr(f, "__func__", f)
            fs = [f.fget, f.fset, f.fdel] if isinstance(f, property) else [f]
            for g in fs:
                g = getattr(g, "__wrapped__", g)  # functools.lru_cache / wraps
                code = getattr(g, "__code__", None)
                if isinstance(code, CodeType) and code.co_filename == mod.__file__:
                    roots.append(code)
    return all_code_objects(roots)


@pytest.mark.parametrize("modname", ["textwrap", "shlex"])
def test_oracle_on_the_standard_library_under_its_own_tests(tmp_path, modname):
    mod = importlib.import_module(modname)
    src = Path(mod.__file__)
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copy(src, root / src.name)
    tables = index_file(root, src.name)
    tests = unittest.defaultTestLoader.loadTestsFromName(f"test.test_{modname}")
    stream = io.StringIO()

    def run():
        res = unittest.TextTestRunner(stream=stream, verbosity=0).run(tests)
        assert res.testsRun > 10

    observed = observe(_module_codes(mod), run)
    n, missing = recall(observed, *expected_pairs(tables))
    assert n > 200, f"only {n} pairs observed in {modname}"
    assert missing == [], f"{len(missing)} of {n} observed pairs missing: {missing[:10]}"
    sys.stderr.write(f"{modname}: {n} observed def->use pairs, all stored\n")
