"""The inspect plane end to end: `codeintel index --inspect` over tests/fixtures/inspect_repo.

One indexed copy of the fixture repository per module (the sandbox imports each module for real, in
worker processes). Expected facts are stated by hand from the fixture's source, or computed by
CPython's own ``inspect`` in a plain interpreter (``oracle``), never taken from the plane's output.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cli_env, run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "inspect_repo"
CASES = (FIXTURE / "fx" / "cases.py").read_text()


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line that starts (after indentation) with ``needle``."""
    hits = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip().startswith(needle)]
    return hits[nth - 1]


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inspect")
    repo = tmp / "repo"
    shutil.copytree(FIXTURE, repo)
    env = cli_env(tmp)
    cwd_before = sorted(os.listdir(os.getcwd()))
    # The run's temporary directory is this test's own: the sandbox root must be created there and be gone
    # after the run (the shared /tmp also holds the sandboxes of tests running in other processes meanwhile).
    private_tmp = tmp / "tmpdir"
    private_tmp.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(private_tmp)
    try:
        code, out, err = run_cli(["index", str(repo), "--json", "--workers", "1", "--inspect"], env)
    finally:
        tempfile.tempdir = saved
    summary = json.loads(out.strip().splitlines()[-1])
    conn = duckdb.connect(env["CODEINTEL_DB"], read_only=True)
    yield {"code": code, "summary": summary, "err": err, "conn": conn, "repo": repo, "env": env, "tmp": tmp,
           "tmpdir": private_tmp, "left_in_tmpdir": sorted(os.listdir(private_tmp)),
           "cwd_changed": sorted(os.listdir(os.getcwd())) != cwd_before}
    conn.close()


def q(ctx, sql, *params):
    return ctx["conn"].execute(sql, list(params)).fetchall()


def attempt(ctx, module):
    rows = q(ctx, "SELECT ok, error_type, error_msg, budget_hit, worker_replaced, attempted, skip_reason "
                  "FROM py_inspect_import_attempts WHERE module_name = ?", module)
    assert len(rows) == 1, module
    return dict(zip(("ok", "error_type", "error_msg", "budget", "replaced", "attempted", "skip"), rows[0]))


def member_repr(ctx, module, attr):
    return q(ctx, "SELECT value_ref.repr_trunc FROM py_inspect_members_static WHERE owner_object_id = ? "
                  "AND attr_name = ?", f"{module}::module", attr)[0][0]


# ------------------------------------------------------------------------------------------- hostile


@pytest.mark.parametrize("module, error_type, budget, msg", [
    ("fx.hostile.hang", "BudgetExceeded", "timeout", "no answer within 6 s"),
    ("fx.hostile.cpu_spin", "BudgetExceeded", "cpu", "SIGXCPU"),
    ("fx.hostile.exits", "WorkerDied", None, "exited with status 3"),
    ("fx.hostile.segfault", "WorkerDied", None, "SIGSEGV"),
    ("fx.hostile.bigalloc", "MemoryError", "memory", ""),
    ("fx.hostile.printer", "BudgetExceeded", "output_bytes", "printed more than 1,048,576 bytes"),
    ("fx.hostile.network", "PermissionError", None, "refused socket"),
])
def test_hostile_module_is_a_failure_row(inspected, module, error_type, budget, msg):
    a = attempt(inspected, module)
    assert (a["ok"], a["error_type"], a["budget"]) == (False, error_type, budget)
    assert msg in a["error_msg"]
    if error_type != "PermissionError":  # an exception at import leaves the worker usable
        assert a["replaced"] is True


def test_run_goes_on_after_hostile_modules(inspected):
    s = inspected["summary"]
    assert inspected["code"] == 0, inspected["err"]  # a failed import is a row, not a failed run
    assert s["run_ok"] and s["inspect"]["attempted"] == 15 and s["inspect"]["ok"] == 8
    assert attempt(inspected, "fx.hostile.zz_after")["ok"]
    # sidefx set a variable at import; the next module in the same worker does not see it.
    assert member_repr(inspected, "fx.hostile.zz_after", "LEAK") == "'clean'"
    assert len(s["inspect"]["failed"]) == 7


def test_side_effects_stay_in_the_sandbox(inspected):
    assert attempt(inspected, "fx.hostile.sidefx")["ok"]
    cwd_file = member_repr(inspected, "fx.hostile.sidefx", "CWD_FILE").strip("'")
    home = member_repr(inspected, "fx.hostile.sidefx", "HOME").strip("'")
    sandbox = inspected["tmpdir"].resolve()
    assert Path(cwd_file).parent == Path(home)
    assert Path(home).name.startswith("worker-") and Path(home).parent.name.startswith("codeintel-inspect-")
    assert Path(home).parent.parent == sandbox
    assert not Path(home).parent.exists()  # the sandbox root is removed when the run ends
    assert member_repr(inspected, "fx.hostile.sidefx", "REPO_WRITE")[1:].startswith("refused: codeintel sandbox")
    assert member_repr(inspected, "fx.hostile.sidefx", "SOCKET")[1:].startswith("refused: codeintel sandbox")
    repo = inspected["repo"]
    assert not list(repo.rglob("*.txt")) and not list(repo.rglob("__pycache__"))  # nor .pyc files
    assert not list(inspected["tmp"].rglob("written_at_import.txt"))
    assert not inspected["cwd_changed"]
    assert not [n for n in inspected["left_in_tmpdir"] if n.startswith("codeintel-inspect-")], inspected["left_in_tmpdir"]


def test_getattr_and_properties_never_run(inspected):
    # fx.cases ends the process from its module __getattr__, WithProps.__getattr__ and the `fine` getter.
    assert attempt(inspected, "fx.cases")["ok"]
    rows = dict(q(inspected, "SELECT attr_name, desc_kind FROM py_inspect_members_static "
                             "WHERE owner_object_id = 'fx.cases:WithProps:class'"))
    assert rows["fine"] == "property" and rows["raises"] == "property" and rows["__getattr__"] == "function_descriptor"


def test_proxies_are_judged_by_their_type_and_a_raising_class_costs_its_own_rows(inspected):
    """fx.proxies: a Django-style lazy proxy and a __getattribute__ override end the worker if anything asks
    them (isinstance falls back to __class__); classes whose metaclass raises fail alone."""
    assert attempt(inspected, "fx.proxies")["ok"]
    members = {r[0]: r[1:] for r in q(
        inspected, "SELECT attr_name, value_kind, value_ref.type_qualname, ok, error_type, error_msg "
                   "FROM py_inspect_members_static WHERE owner_object_id = 'fx.proxies::module'")}
    # by type: instances of their own classes, neither callable nor descriptors (what type() says)
    assert members["settings"] == ("other", "fx.proxies.LazyProxy", True, None, None)
    assert members["hostile"] == ("other", "fx.proxies.Hostile", True, None, None)
    # Odd: reading its __dict__ (where it was defined) runs Meta.__getattribute__: that member row says so
    assert members["Odd"] == (None, None, False, "RuntimeError", "Meta.__getattribute__('__dict__') ran")
    objects = {r[0]: r[1:] for r in q(inspected, "SELECT object_id, kind, ok, error_type, error_msg "
                                                 "FROM py_inspect_objects WHERE module_name = 'fx.proxies'")}
    # Odder is walked (its member row is fine) until its MRO row reads __module__: one row, with the error
    assert objects["fx.proxies:Odder:class"] == (
        "class", False, "RuntimeError", "MetaModule.__getattribute__('__module__') ran")
    assert not q(inspected, "SELECT 1 FROM py_inspect_class_mro WHERE class_object_id = 'fx.proxies:Odder:class'")
    assert objects["fx.proxies:after:function"] == ("function", True, None, None)
    sig = q(inspected, "SELECT sig_text FROM py_inspect_signatures WHERE object_id = 'fx.proxies:after:function' "
                       "AND variant = 'raw'")
    assert sig == [("(a, b=1)",)]
    # str(signature) runs the default's repr, which raises (as in a plain interpreter): rows that say so, and
    # the function itself is recorded
    assert objects["fx.proxies:translated:function"] == ("function", True, None, None)
    assert q(inspected, "SELECT variant, ok, error_type, error_msg, sig_text FROM py_inspect_signatures "
                        "WHERE object_id = 'fx.proxies:translated:function' ORDER BY variant") == [
        ("raw", False, "RuntimeError", "LazyText.__repr__ ran", None),
        ("wrapped", False, "RuntimeError", "LazyText.__repr__ ran", None)]


# --------------------------------------------------------------------------------- facts vs CPython

def test_signatures_and_sources_agree_with_a_plain_interpreter(inspected):
    from tests.inspect_oracle import attribute_paths, compare, oracle
    # (fx.proxies: the oracle's plain inspect would run the proxies' code, and Odder's rows are absent on purpose)
    objs = attribute_paths(inspected["conn"], "path LIKE 'fx/%' AND path NOT LIKE 'fx/hostile/%' "
                                              "AND path <> 'fx/proxies.py'")
    assert len(objs) >= 30
    want = oracle(str(inspected["repo"]), objs)
    assert len(want) == len(objs)  # every object was found by its attribute path
    compared, agree, bad = compare(inspected["conn"], objs, want)
    assert bad == [] and compared > 2 * len(objs)


def test_unwrap_chains_and_signature_variants(inspected):
    def chain(root, which):
        return q(inspected, "SELECT hop, object_id, stop_reason, ok FROM py_inspect_unwrap_hops WHERE "
                            "root_object_id = ? AND chain = ? ORDER BY hop", root, which)

    def sig(oid, variant):
        return q(inspected, "SELECT sig_text, effective_object_id, ok, error_type FROM py_inspect_signatures "
                            "WHERE object_id = ? AND variant = ?", oid, variant)[0]
    tw = "fx.cases:twice_wrapped:function"
    full = chain(tw, "full")  # wrapper -> wrapper -> the def: two @deco applications
    assert [h for h, *_ in full] == [0, 1, 2] and full[-1][2] == "no_wrapped" and full[0][1] == tw
    # functools.wraps copied the annotations: the wrapper's own parameters, the def's return annotation.
    assert sig(tw, "raw")[0] == "(*args, **kwargs) -> bool"
    assert sig(tw, "wrapped")[:3] == ("(x: int, y: str = 's') -> bool", full[-1][1], True)
    cyc = chain("fx.cases:cyc_a:function", "full")
    assert cyc[-1][2:] == ("cycle", False)
    assert sig("fx.cases:cyc_a:function", "wrapped")[2:] == (False, "ValueError")
    ov = "fx.cases:overridden:function"
    stop = chain(ov, "signature")
    assert len(stop) == 1 and stop[0][2] == "signature_override"
    assert len(chain(ov, "full")) == 2
    assert sig(ov, "wrapped")[:2] == ("(*, only)", ov)
    assert sig(ov, "raw")[0] == "(*, only)"  # __signature__ wins over follow_wrapped=False too


def test_builtin_without_signature_is_a_row(inspected):
    rows = q(inspected, "SELECT variant, ok, error_type, error_msg FROM py_inspect_signatures "
                        "WHERE object_id = 'fx.cases:biggest:other_callable' ORDER BY variant")
    assert [r[:3] for r in rows] == [("raw", False, "ValueError"), ("wrapped", False, "ValueError")]
    assert "no signature found for builtin <built-in function max>" in rows[0][3]


def test_stringized_annotations_stay_strings(inspected):
    ann = dict(q(inspected, "SELECT key, value.repr_trunc FROM py_inspect_annotations_kv "
                            "WHERE object_id = 'fx.stringized:f:function'"))
    assert ann == {"a": "'List[int]'", "b": "'Undefined'", "return": "'Missing'"}
    cls = dict(q(inspected, "SELECT key, value.repr_trunc FROM py_inspect_annotations_kv "
                            "WHERE object_id = 'fx.stringized:A:class'"))
    assert cls == {"x": repr("'Quoted'"), "y": "'int'"}  # under the future import the quotes are kept
    params = q(inspected, "SELECT name, annotation_value.kind, annotation_value.repr_trunc FROM "
                          "py_inspect_signature_params WHERE object_id = 'fx.stringized:f:function' AND variant = 'raw' "
                          "ORDER BY param_index")
    assert params == [("a", "str", "'List[int]'"), ("b", "str", "'Undefined'")]


def test_descriptors_classified_without_running_them(inspected):
    kinds = dict(q(inspected, "SELECT object_id, kind FROM py_inspect_objects WHERE path = 'fx/cases.py'"))
    assert kinds["fx.cases:Slotted.x:descriptor_member"] == "descriptor_member"
    assert kinds["fx.cases:WithProps.fine:descriptor_property"] == "descriptor_property"
    assert kinds["fx.cases:PM.make:descriptor_method"] == "descriptor_method"  # classmethod
    assert kinds["fx.cases:PM.util:descriptor_method"] == "descriptor_method"  # staticmethod
    assert kinds["fx.cases:PM.set_on:descriptor_method"] == "descriptor_method"  # partialmethod
    assert kinds["fx.cases:PM.make:function"] == "function"  # the function inside the classmethod
    declared = dict(q(inspected, "SELECT attr_name, desc_kind FROM py_inspect_class_declared_members "
                                 "WHERE class_object_id = 'fx.cases:Slotted:class'"))
    assert declared["x"] == declared["y"] == "member"


def test_class_surface_mro_and_resolution(inspected):
    mro = [r[0] for r in q(inspected, "SELECT base_type_qualname FROM py_inspect_class_mro WHERE class_object_id = "
                                      "'fx.cases:Color:class' ORDER BY mro_index")]
    assert mro == ["fx.cases.Color", "enum.Enum", "builtins.object"]
    res = dict((n, (d, here)) for n, d, here in q(
        inspected, "SELECT attr_name, defining_class_object_id, declared_here FROM py_inspect_attr_resolution "
                   "WHERE class_object_id = 'fx.cases:Color:class'"))
    assert res["RED"] == ("fx.cases:Color:class", True)
    assert res["__init__"] == ("enum:Enum:class", False)
    # The dataclass's generated __init__ is the class's signature.
    assert q(inspected, "SELECT sig_text FROM py_inspect_signatures WHERE object_id = 'fx.cases:Point:class' "
                        "AND variant = 'raw'")[0][0] == "(x: int, y: int = 0) -> None"


def anchor(ctx, oid):
    return q(ctx, "SELECT a.ok, a.confidence, n.kind, n.name, n.lineno, a.code_unit_id FROM py_inspect_object_anchors a "
                  "LEFT JOIN py_ast_nodes n ON n.path = a.anchor_path AND n.ast_node_id = a.ast_node_id "
                  "WHERE a.object_id = ?", oid)[0]


def test_anchors_by_source_span(inspected):
    # Decorated twice: the module's object is the outer wrapper, anchored to the def it wraps.
    assert anchor(inspected, "fx.cases:twice_wrapped:function")[:5] == (
        True, pytest.approx(0.95), "FunctionDef", "twice_wrapped", line_of(CASES, "def twice_wrapped"))
    # typing.overload: the runtime object is the last definition.
    assert anchor(inspected, "fx.cases:ov:function")[2:5] == ("FunctionDef", "ov", line_of(CASES, "def ov(x):"))
    # Same-named definitions under if / try: the branch that ran.
    assert anchor(inspected, "fx.cases:cond:function")[4] == line_of(CASES, "def cond():", 1)
    assert anchor(inspected, "fx.cases:tried:function")[4] == line_of(CASES, "def tried():", 1)
    # A class made by a factory, and a nested class's method.
    assert anchor(inspected, "fx.cases:make_class.<locals>.Made:class")[:5] == (
        True, 1.0, "ClassDef", "Made", line_of(CASES, "class Made:"))
    assert anchor(inspected, "fx.cases:Outer.Inner.f:function")[2:5] == ("FunctionDef", "f", line_of(CASES, "def f(self, v)"))
    # A property is anchored through its getter; the code unit is the getter's.
    a = anchor(inspected, "fx.cases:WithProps.fine:descriptor_property")
    assert a[2:5] == ("FunctionDef", "fine", line_of(CASES, "def fine(self)")) and a[5].endswith("WithProps::fine")


def test_reexport_is_anchored_where_defined(inspected):
    assert q(inspected, "SELECT value_object_id FROM py_inspect_members_static WHERE owner_object_id = "
                        "'fx.cases::module' AND attr_name = 'helper'") == [("fx.other:helper:function",)]
    assert q(inspected, "SELECT path FROM py_inspect_objects WHERE object_id = 'fx.other:helper:function'") == [
        ("fx/other.py",)]
    a = q(inspected, "SELECT anchor_path, ok FROM py_inspect_object_anchors WHERE object_id = 'fx.other:helper:function'")
    assert a == [("fx/other.py", True)]


def test_anchor_rate_and_quality_gate(inspected):
    check = next(c for c in inspected["summary"]["checks"] if c["check"] == "inspect_quality")
    m = check["metadata"]
    assert check["passed"] and m["modules_attempted"] == 15 and m["modules_imported"] == 8
    assert m["objects_anchored"] == m["objects_with_source"] > 40
    assert m["budget_timeout"] == m["budget_cpu"] == m["budget_memory"] == m["budget_output_bytes"] == 1


ORACLE_RUNTIME = r"""
import asyncio, importlib, inspect, json, sys
sys.path.insert(0, sys.argv[1])
m = importlib.import_module("fx.cases")
g = m.gen(); a = [g.gi_frame.f_lasti]; next(g); a.append(g.gi_frame.f_lasti)
c = m.coro(); b = [c.cr_frame.f_lasti]; c.send(None); b.append(c.cr_frame.f_lasti); c.close()
try:
    m.coro_boom().send(None)
except KeyError as e:
    tb = e.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    raised = [tb.tb_lasti, tb.tb_lineno, str(e)]
print(json.dumps({"gen": a, "coro": b, "coro_boom": raised}))
"""


def test_runtime_state_joined_to_instructions(inspected):
    rows = q(inspected, "SELECT probe, step, state, f_lasti, lineno, locals_json, instr_id, error_type, error_msg "
                        "FROM py_inspect_runtime_state ORDER BY probe, step")
    by = {(p, s): r for p, s, *r in rows}
    want = json.loads(subprocess.run([sys.executable, "-I", "-c", ORACLE_RUNTIME, str(inspected["repo"])],
                                     capture_output=True, text=True, check=True).stdout)
    assert [by[("gen", 0)][0], by[("gen", 1)][0]] == ["GEN_CREATED", "GEN_SUSPENDED"]
    assert [by[("gen", 0)][1], by[("gen", 1)][1]] == want["gen"]
    assert by[("gen", 1)][2] == line_of(CASES, "yield x") and json.loads(by[("gen", 1)][3]) == {"x": "1"}
    assert [by[("coro", 0)][0], by[("coro", 1)][0]] == ["CORO_CREATED", "CORO_SUSPENDED"]
    assert [by[("coro", 0)][1], by[("coro", 1)][1]] == want["coro"]
    assert [by[("agen", 0)][0], by[("agen", 1)][0]] == ["AGEN_CREATED", "AGEN_SUSPENDED"]
    boom = by[("boom", 0)]
    assert boom[0] == "RAISED ValueError" and boom[2] == line_of(CASES, 'raise ValueError(f"boom') \
        and json.loads(boom[3]) == {"local": "5"} and boom[5:] == ["ValueError", "boom 5"]
    # A coroutine whose first step raises: its frame where it raised, and what it raised (CPython's message).
    assert by[("coro_boom", 0)][0] == "CORO_CREATED" and by[("coro_boom", 0)][5:] == [None, None]
    cb = by[("coro_boom", 1)]
    assert cb[0] == "CORO_CLOSED (RAISED KeyError)" and [cb[1], cb[2]] == want["coro_boom"][:2] \
        and json.loads(cb[3]) == {"n": "7"} and cb[5:] == ["KeyError", want["coro_boom"][2]]
    # Each frame row names the instruction at f_lasti in the bytecode plane.
    for (probe, step), (state, lasti, _l, _loc, iid, *_e) in by.items():
        if lasti is None:
            continue
        assert iid is not None, (probe, step)
        assert q(inspected, "SELECT \"offset\" FROM py_bc_instructions WHERE instr_id = ?", iid) == [(lasti,)]


def test_run_meta_records_interpreter_policy_and_budgets(inspected):
    rows = q(inspected, "SELECT python_version, path_policy, budgets_json, modules_attempted, modules_ok, probes "
                        "FROM py_inspect_run_meta")
    assert len(rows) == 1
    version, policy, budgets, attempted, ok, probes = rows[0]
    assert version.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert "python -s -P -B" in policy and "PYTHONHASHSEED=0" in policy
    b = json.loads(budgets)
    assert (b["timeout_seconds"], b["cpu_seconds"], b["memory_mb"]) == (6.0, 1, 1024)
    assert (attempted, ok) == (15, 8) and "fx.cases:gen" in probes


def test_decorates_from_the_ast_beside_wraps_from_the_runtime(inspected):
    def decs(oid):
        return q(inspected, "SELECT decorator_index, applied_order, decorator_kind, decorator_text, wraps_hops "
                            "FROM py_inspect_decorators WHERE object_id = ? ORDER BY decorator_index", oid)
    # Two @deco (functools.wraps): two DECORATES, two WRAPS hops.
    assert decs("fx.cases:twice_wrapped:function") == [(0, 1, "Name", "deco", 2), (1, 0, "Name", "deco", 2)]
    # @property keeps no __wrapped__: a DECORATES with no WRAPS; the getter's def carries it.
    assert decs("fx.cases:WithProps.fine:descriptor_property") == [(0, 0, "Name", "property", 0)]
    # A decorator expression with a call and attributes, applied to a class.
    assert decs("fx.cases:Point:class") == [(0, 0, "Attribute", "dataclasses.dataclass", 0)]
    assert [d[3] for d in decs("fx.cases:ov:function")] == []  # the runtime `ov` is the undecorated last def
    assert decs("fx.cases:plain:function") == []


def test_a_flood_of_output_is_the_modules_budget_however_fast_it_comes(tmp_path):
    """A module that prints at once can flood the pipes while the worker's acknowledgement is read: that is
    the module's output (the worker prints nothing itself), so the module fails with the output budget. It
    was taken for a worker that died before starting the module, and the module was imported again in a
    new worker and reported as "two workers in a row died" (4 of 30 such modules, with two workers)."""
    from codeintel_assets.extract.inspect_sandbox import Budgets, Command, Sandbox
    n = 30
    for i in range(n):
        (tmp_path / f"flood{i}.py").write_text("import sys\nfor _ in range(4096):\n    sys.stdout.write('x' * 1023 + '\\n')\n")
    with Sandbox(None, [str(tmp_path)], Budgets(max_output_bytes=16 << 10, timeout_seconds=30), workers=2) as sb:
        results = sb.run([Command(f"flood{i}", str(tmp_path / f"flood{i}.py")) for i in range(n)])
    got = [(r.module, r.ok, r.error_type, r.budget) for r in results]
    assert got == [(f"flood{i}", False, "BudgetExceeded", "output_bytes") for i in range(n)], \
        [(r.module, r.error_msg) for r in results if r.budget != "output_bytes"]
