"""The three symtable gates pass on the plane's own tables and fail on deliberately corrupted ones."""

import pyarrow as pa
import pytest

from codeintel_assets.extract.bytecode import extract_bytecode
from codeintel_assets.extract.symtable_plane import extract_symtable
from codeintel_assets.validate.binder_completeness import binder_completeness
from codeintel_assets.validate.binding_resolution import binding_resolution
from codeintel_assets.validate.symtable_vs_code import symtable_vs_code
from symfacts import source_file

PROGRAM = """\
import os
x: int
def outer(a, /, b, *args, k=1, **kw):
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n, os.sep, a
    return inc
class C(Base):
    def m(self):
        return super().m(), [lambda: i for i in range(3)]
class Box[T](list[T]):
    type Alias = dict[T, int]
def first[T: int](xs: list[T]) -> T:
    return xs[0]
"""


@pytest.fixture(scope="module")
def tables():
    src = source_file(PROGRAM)
    code_units = extract_bytecode(src).code_units
    f = extract_symtable(src, code_units)
    assert f.status["ok"]
    return {**f.tables, "py_bc_code_units": code_units}


def edit(t: pa.Table, where, **changes) -> pa.Table:
    """A copy of ``t`` with ``changes`` applied to the rows where ``where(row)`` holds."""
    rows = t.to_pylist()
    hit = 0
    for r in rows:
        if where(r):
            hit += 1
            for k, v in changes.items():
                r[k] = v(r[k]) if callable(v) else v
    assert hit, "the corruption matched no row"
    return pa.Table.from_pylist(rows, schema=t.schema)


def drop(t: pa.Table, where) -> pa.Table:
    rows = [r for r in t.to_pylist() if not where(r)]
    assert len(rows) < t.num_rows, "the corruption matched no row"
    return pa.Table.from_pylist(rows, schema=t.schema)


def vs_code(t, **over):
    t = {**t, **over}
    return symtable_vs_code(t["py_sym_scopes"], t["py_sym_symbols"], t["py_sym_bindings"],
                            t["py_sym_function_partitions"], t["py_bc_code_units"])


def resolution(t, **over):
    t = {**t, **over}
    return binding_resolution(t["py_sym_scopes"], t["py_sym_bindings"], t["py_sym_resolution_edges"])


def completeness(t, **over):
    t = {**t, **over}
    return binder_completeness(t["py_sym_bindings"], t["py_sym_name_sites"])


def _cu(qualpath):
    """The code unit with this stored qualpath (relative to the module: ``outer``, ``C::m``)."""
    return lambda r: r["qualpath"] == qualpath


# -- symtable_vs_code ----------------------------------------------------------------------------


def test_symtable_vs_code_passes(tables):
    r = vs_code(tables)
    assert r.passed, [f.describe() for f in r.findings]
    assert r.metrics["paired_with_code"] == tables["py_bc_code_units"].num_rows
    assert r.metrics["implicit_class_cells"] == 2  # C.__class__ (super) and Box.__classdict__ (the alias)
    assert r.metrics["exempt_type_params_defaults"] == 1  # `first` has no defaults: .defaults is not passed
    assert r.metrics["exempt_unreferenced_annotations"] == 1  # module `x: int`


def test_symtable_vs_code_fails_on_a_missing_freevar(tables):
    cu = edit(tables["py_bc_code_units"], _cu("outer::inc"), freevars=lambda v: [n for n in v if n != "n"])
    r = vs_code(tables, py_bc_code_units=cu)
    assert not r.passed
    assert [f.message for f in r.findings] == ["frees differ: symtable only ['n'], co_freevars only []"]


def test_symtable_vs_code_fails_on_a_wrong_argcount(tables):
    cu = edit(tables["py_bc_code_units"], _cu("outer"), argcount=1)
    r = vs_code(tables, py_bc_code_units=cu)
    assert not r.passed and "parameters ['a', 'b', 'k', 'args', 'kw'] != co_varnames[:4]" in r.findings[0].message


def test_symtable_vs_code_fails_on_a_local_without_slot(tables):
    cu = edit(tables["py_bc_code_units"], _cu("outer"), varnames=lambda v: [n for n in v if n != "inc"])
    r = vs_code(tables, py_bc_code_units=cu)
    assert [f.message for f in r.findings] == ["FUNCTION locals ['inc'] not in the code's slots"]


def test_symtable_vs_code_fails_on_an_unexplained_cell(tables):
    cu = edit(tables["py_bc_code_units"], _cu("C::m"), cellvars=lambda v: v + ["__class__"])
    r = vs_code(tables, py_bc_code_units=cu)  # __class__ is an implicit cell of a *class* body only
    assert [f.message for f in r.findings] == ["cells differ: symtable only [], co_cellvars only ['__class__']"]


def test_symtable_vs_code_fails_on_a_code_unit_without_scope(tables):
    sc = edit(tables["py_sym_scopes"], lambda r: r["qualpath"] == "C::m", code_unit_id=None)
    r = vs_code(tables, py_sym_scopes=sc)
    assert [f.message for f in r.findings] == ["code unit has no symbol table (code_without_scope)"]


# -- binding_resolution --------------------------------------------------------------------------


def test_binding_resolution_passes(tables):
    r = resolution(tables)
    assert r.passed, [f.describe() for f in r.findings]
    assert (r.metrics["edges_nonlocal"], r.metrics["edges_classdict"], r.metrics["edges_unknown"]) == (1, 0, 0)


def test_binding_resolution_fails_without_the_nonlocal_edge(tables):
    ed = drop(tables["py_sym_resolution_edges"], lambda r: r["kind"] == "NONLOCAL")
    r = resolution(tables, py_sym_resolution_edges=ed)
    assert [f.message for f in r.findings] == ["nonlocal_ref: 0 NONLOCAL edges"]


def test_binding_resolution_fails_when_a_global_misses_the_module(tables):
    inc_n = next(r["binding_id"] for r in tables["py_sym_bindings"].to_pylist()
                 if r["name"] == "n" and r["scope_id"].endswith("outer:3:FUNCTION:0"))
    ed = edit(tables["py_sym_resolution_edges"], lambda r: r["kind"] == "GLOBAL" and r["src_binding_id"].endswith(":os"),
              dst_binding_id=inc_n)
    r = resolution(tables, py_sym_resolution_edges=ed)
    assert len(r.findings) == 1 and r.findings[0].message.startswith("global_ref resolves outside the module scope")


def test_binding_resolution_fails_on_a_free_edge_to_a_non_ancestor(tables):
    (c_m,) = [r["scope_id"] for r in tables["py_sym_scopes"].to_pylist() if r["qualpath"] == "C::m"]
    assert c_m.startswith("mod.py:SCOPE:C::m:") and c_m.endswith(":FUNCTION:0")
    c_m_self = next(r["binding_id"] for r in tables["py_sym_bindings"].to_pylist()
                    if r["name"] == "self" and r["scope_id"] == c_m)
    assert c_m_self == f"{c_m}:BIND:self"
    ed = edit(tables["py_sym_resolution_edges"], lambda r: r["kind"] == "FREE" and r["src_binding_id"].endswith(":a"),
              dst_binding_id=c_m_self)
    r = resolution(tables, py_sym_resolution_edges=ed)
    assert len(r.findings) == 1 and r.findings[0].message.startswith("free_ref resolves to a non-ancestor scope")


def test_binding_resolution_fails_on_duplicate_and_unknown_edges(tables):
    ed = tables["py_sym_resolution_edges"]
    dup = ed.filter(pa.compute.equal(ed["kind"], "FREE")).slice(0, 1)
    unknown = edit(dup, lambda r: True, kind="UNKNOWN", dst_binding_id=None, edge_id=lambda e: e + ":U")
    r = resolution(tables, py_sym_resolution_edges=pa.concat_tables([ed, dup, unknown]))
    assert [f.message for f in r.findings] == ["free_ref: 2 FREE edges, UNKNOWN edge"]


# -- binder_completeness -------------------------------------------------------------------------


def test_binder_completeness_passes(tables):
    r = completeness(tables)
    assert r.passed, [f.describe() for f in r.findings]
    assert r.metrics["decl_sites"] == 2  # `nonlocal n` and `x: int`


def test_binder_completeness_fails_on_a_declared_binding_without_def_site(tables):
    ns = drop(tables["py_sym_name_sites"], lambda r: r["site_kind"] == "import_name")
    r = completeness(tables, py_sym_name_sites=ns)
    assert [f.message for f in r.findings] == ["declared import binding has no binding site in py_sym_name_sites"]


def test_binder_completeness_fails_on_an_unresolved_use(tables):
    ns = edit(tables["py_sym_name_sites"], lambda r: r["name"] == "range", binding_id=lambda b: b + "-gone")
    r = completeness(tables, py_sym_name_sites=ns)
    assert len(r.findings) == 1 and "use site 'range' (name_load) resolves to no binding" in r.findings[0].message


def test_binder_completeness_fails_on_a_resolver_fallback(tables):
    ns = edit(tables["py_sym_name_sites"], lambda r: r["name"] == "Base", resolution="fallback_global")
    r = completeness(tables, py_sym_name_sites=ns)
    assert [f.message for f in r.findings] == ["use site 'Base' (name_load) needed resolver fallback fallback_global"]
