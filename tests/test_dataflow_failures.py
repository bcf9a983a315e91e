"""A code unit whose dataflow cannot be computed becomes a failure row naming it and the instruction;
the file's other code units keep their facts, and the file's status says so."""

import textwrap

from codeintel_assets.extract.cfg import Edge
from codeintel_assets.extract.context import FileContext
from codeintel_assets.extract.syntax import read_source
from codeintel_assets.planes import file_planes
from codeintel_assets.validate.status_gates import files_ok

SOURCE = textwrap.dedent("""
    def f(xs):
        for x in xs:
            print(x)

    def g(a):
        return a + 1
""").lstrip()


def _pass_until_dataflow(root):
    ctx = FileContext(read_source(str(root), "m.py", 10 ** 8), "m")
    tables = {}
    for p in file_planes():
        if p.name == "dataflow":
            return ctx, tables, p
        tables.update(p.extract(ctx, {t: tables[t] for t in p.reads}))
    raise AssertionError("no dataflow plane")


def test_inconsistent_stack_at_a_join_fails_one_code_unit_only(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    ctx, tables, plane = _pass_until_dataflow(tmp_path)
    graphs = ctx.get("cfg_graphs")
    cu_f = next(cu for cu in graphs if cu.endswith(":f"))
    blocks, edges = graphs[cu_f]
    # An extra edge from the loop body (the iterator is on the stack) back to the entry (empty stack):
    # the stacks that meet there disagree, which no real CPython CFG does.
    body = next(e.dst for e in edges if e.kind == "true")  # FOR_ITER's fall-through: the loop body
    edges.append(Edge(body, 0, "jump"))
    out = plane.extract(ctx, {t: tables[t] for t in plane.reads})

    fails = out["py_dfg_code_unit_failures"].to_pylist()
    assert len(fails) == 1
    assert fails[0]["code_unit_id"] == cu_f
    assert fails[0]["instr_id"] is not None and fails[0]["instr_id"].startswith(cu_f)
    assert "stack depth" in fails[0]["error_msg"]
    status = out["py_dfg_files"].to_pylist()[0]
    assert (status["ok"], status["error_stage"], status["failed_code_units"]) == (False, "code_unit", 1)
    assert cu_f in status["error_msg"]
    # g and the module keep their facts; f has none
    units = set(out["py_bc_defuse_events"].column("code_unit_id").to_pylist())
    assert cu_f not in units and any(u.endswith(":g") for u in units) and any(u.endswith(":<module>") for u in units)
    assert out["py_reaching_defs"].num_rows > 0
    # the failure is a finding of files_ok, named by file and plane
    names = [p.name for p in file_planes()]
    statuses = [out["py_dfg_files"] if p.name == "dataflow" else tables[p.status] for p in file_planes()]
    r = files_ok(names, *statuses)
    assert not r.passed and "m.py" in r.findings[0].describe() and "dataflow" in r.findings[0].describe()
