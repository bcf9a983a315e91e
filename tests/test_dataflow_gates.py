"""The dataflow gates fail on the violations they exist for (tables corrupted one fact at a time)."""

import textwrap

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.pipeline import extract_file
from codeintel_assets.validate.dataflow_gates import defuse_binding_space, dfg_sanity

SRC = """
    G = 1
    def f(a):
        b = a + G
        def inner():
            return b
        return inner
"""


def tables(tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent(SRC).lstrip())
    out, fails = extract_file(str(tmp_path), "m.py", "m", 10 ** 8)
    assert not fails
    return out


def _set(t: pa.Table, col: str, values) -> pa.Table:
    k = t.schema.get_field_index(col)
    return t.set_column(k, t.schema.field(k), pa.array(values, t.schema.field(k).type))


def _bds(t, events=None):
    return defuse_binding_space(events if events is not None else t["py_bc_defuse_events"], t["py_sym_bindings"],
                                t["py_bc_code_units"], t["py_sym_scopes"])


def _sanity(t, events=None, edges=None, reaching=None):
    return dfg_sanity(events if events is not None else t["py_bc_defuse_events"],
                      edges if edges is not None else t["py_dfg_edges"],
                      reaching if reaching is not None else t["py_reaching_defs"], t["py_bc_instructions"])


def test_gates_pass_on_real_rows(tmp_path):
    t = tables(tmp_path)
    assert _bds(t).passed and _sanity(t).passed
    m = _bds(t).metrics
    assert m["fast_events"] > 0 and m["deref_events"] > 0 and m["global_events"] > 0


def test_fast_event_bound_to_another_scope_fails(tmp_path):
    t = tables(tmp_path)
    ev = t["py_bc_defuse_events"]
    rows = ev.to_pylist()
    # point f's FAST use of `a` at the module's binding of G
    module_g = next(r["binding_id"] for r in rows if r["space"] == "GLOBAL" and r["name"] == "G")
    bids = [module_g if (r["space"] == "FAST" and r["name"] == "a") else r["binding_id"] for r in rows]
    r = _bds(t, _set(ev, "binding_id", bids))
    assert not r.passed and "USE_SLOT FAST 'a'" in r.findings[0].message


def test_global_event_resolved_outside_the_module_fails(tmp_path):
    t = tables(tmp_path)
    ev = t["py_bc_defuse_events"]
    rows = ev.to_pylist()
    f_a = next(r["binding_id"] for r in rows if r["space"] == "FAST" and r["name"] == "a")
    bids = [f_a if r["space"] == "GLOBAL" else r["binding_id"] for r in rows]
    r = _bds(t, _set(ev, "binding_id", bids))
    assert not r.passed and "GLOBAL 'G'" in r.findings[0].message


def test_use_without_definition_or_flag_fails(tmp_path):
    t = tables(tmp_path)
    ev = t["py_bc_defuse_events"]
    n = [0 if k == "USE_SLOT" else c for k, c in zip(ev.column("event_kind").to_pylist(),
                                                      ev.column("reaching_def_count").to_pylist())]
    r = _sanity(t, events=_set(ev, "reaching_def_count", n))
    assert not r.passed and "has no reaching definition and no flag" in r.findings[0].message


def test_reaching_row_of_a_non_use_and_dangling_stack_edges_fail(tmp_path):
    t = tables(tmp_path)
    rd = t["py_reaching_defs"]
    r = _sanity(t, reaching=_set(rd, "use_instr_index", [0] * rd.num_rows))  # instruction 0 is RESUME
    assert not r.passed and "no USE_SLOT event" in r.findings[0].message
    ed = t["py_dfg_edges"]
    bad = pc.if_else(pc.equal(ed.column("kind"), "stack"), 10_000, ed.column("dst_instr_index"))
    r = _sanity(t, edges=_set(ed, "dst_instr_index", bad.to_pylist()))
    assert not r.passed and "instruction missing" in r.findings[0].message
    other = _set(ed, "src_code_unit_id", ["elsewhere"] * ed.num_rows)
    r = _sanity(t, edges=other)
    assert not r.passed and "another code unit" in " ".join(f.message for f in r.findings)
