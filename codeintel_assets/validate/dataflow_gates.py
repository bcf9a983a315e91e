"""Gates on the dataflow plane: defuse_binding_space and dfg_sanity (DESIGN §7).

Both make the dataflow plane check the others: the `dis` events against the symtable plane's
bindings, and the reaching definitions and stack edges against the instructions they name.
"""

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.extract.bindings import REF_KINDS
from codeintel_assets.validate.base import MAX_REPORTED_FINDINGS, Finding, GateResult, result

EVENT_COLUMNS = ("path", "code_unit_id", "instr_id", "instr_index", "baseopname", "event_kind", "space", "name",
                 "binding_id", "binding_resolution", "reach_status", "reaching_def_count", "detail")

BINDING_COLUMNS = ("binding_id", "scope_id", "binding_kind")
CODE_UNIT_COLUMNS = ("code_unit_id", "scope_id")
SCOPE_COLUMNS = ("scope_id", "parent_scope_id", "scope_type")
IMPLICIT_CLASS_CELLS = frozenset({"__class__", "__classdict__"})
EDGE_COLUMNS = ("path", "code_unit_id", "kind", "src_code_unit_id", "src_instr_index", "src_kind",
                "dst_instr_index", "dst_input")
REACH_COLUMNS = ("code_unit_id", "use_instr_index", "use_event_index")
INSTR_COLUMNS = ("code_unit_id", "instr_index")

# A use with no reaching definition must say why (dfg_sanity).
NO_DEF_FLAGS = frozenset({"unbound", "global", "unreachable", "unknown"})
DEREF_RESOLUTIONS = ("edge:FREE", "edge:NONLOCAL", "edge:CLASSDICT")


def _rows(t: pa.Table, cols) -> list[tuple]:
    return list(zip(*(t.column(c).to_pylist() for c in cols)))


def _value_counts(col) -> dict:
    if not len(col):
        return {}
    vc = pc.value_counts(col)
    return dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()))


def _count(mask) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _true(mask) -> pa.Array:
    return pc.fill_null(mask, False)


def _in(col, values) -> pa.Array:
    return _true(pc.is_in(col, value_set=pa.array(sorted(values), pa.string())))


def defuse_binding_space(events: pa.Table, bindings: pa.Table, code_units: pa.Table, scopes: pa.Table) -> GateResult:
    """Every FAST slot event names a non-ref binding of its code unit's scope; every DEREF one a cell of
    that scope or a FREE / NONLOCAL resolution; every GLOBAL one a binding of the module scope.
    Vectorised (Arrow joins): it runs on every file, over every event."""
    ev = events.select(list(EVENT_COLUMNS)).filter(_in(events.column("space"), {"FAST", "DEREF", "GLOBAL"}))
    if ev.num_rows:  # look up each event's binding (scope, kind) and its code unit's scope
        bi = pc.index_in(ev.column("binding_id"), value_set=bindings.column("binding_id").combine_chunks())
        ui = pc.index_in(ev.column("code_unit_id"), value_set=code_units.column("code_unit_id").combine_chunks())
        ev = (ev.append_column("b_scope", bindings.column("scope_id").take(bi))
                .append_column("b_kind", bindings.column("binding_kind").take(bi))
                .append_column("u_scope", code_units.column("scope_id").take(ui)))
    modules = [sid for sid, parent, _ in _rows(scopes, SCOPE_COLUMNS) if parent is None]
    classes = [sid for sid, _, st in _rows(scopes, SCOPE_COLUMNS) if st == "CLASS"]
    space = ev.column("space") if ev.num_rows else pa.array([], pa.string())
    counts = _value_counts(space)
    findings = []
    temp = hidden = cells = 0
    if ev.num_rows:
        res = ev.column("binding_resolution")
        is_temp = _true(pc.equal(res, "compiler_temporary"))
        same_scope = _true(pc.equal(ev.column("b_scope"), ev.column("u_scope")))
        is_fast = _true(pc.equal(space, "FAST"))
        # an inlined comprehension's own variable: its code unit saves the name (LOAD_FAST_AND_CLEAR)
        saves = ev.filter(_true(pc.equal(ev.column("detail"), "save")))
        pair = pc.binary_join_element_wise(ev.column("code_unit_id"), ev.column("name"), "\x00")
        saved = pc.binary_join_element_wise(saves.column("code_unit_id"), saves.column("name"), "\x00")
        is_hidden = pc.and_(pc.and_(is_fast, _true(pc.equal(res, "inlined_comprehension_local"))),
                            _true(pc.is_in(pair, value_set=saved.combine_chunks() if saved.num_chunks else pa.array([], pa.string()))))
        # the implicit __class__ / __classdict__ cells of a class body, whatever the class declares
        is_cell = pc.and_(pc.and_(_true(pc.equal(space, "DEREF")), _in(ev.column("name"), IMPLICIT_CLASS_CELLS)),
                          _in(ev.column("u_scope"), classes))
        is_ref = _in(ev.column("b_kind"), REF_KINDS)
        no_binding = pc.is_null(ev.column("binding_id"))
        fast_bad = pc.and_(is_fast, pc.or_(pc.invert(same_scope), is_ref))
        deref_ok = pc.or_(pc.and_(same_scope, pc.invert(is_ref)),
                          _true(pc.or_(pc.or_(pc.starts_with(res, DEREF_RESOLUTIONS[0]), pc.starts_with(res, DEREF_RESOLUTIONS[1])),
                                       pc.starts_with(res, DEREF_RESOLUTIONS[2]))))
        deref_bad = pc.and_(_true(pc.equal(space, "DEREF")), pc.invert(deref_ok))
        # LOAD_FROM_DICT_OR_GLOBALS looks in the class namespace first (CLASSDICT edge), then globals
        global_ok = pc.or_(_in(ev.column("b_scope"), modules), _true(pc.equal(res, "edge:CLASSDICT")))
        global_bad = pc.and_(_true(pc.equal(space, "GLOBAL")), pc.invert(global_ok))
        exempt = pc.or_(pc.or_(is_temp, is_hidden), is_cell)
        bad = pc.and_(pc.invert(exempt), pc.or_(pc.or_(no_binding, fast_bad), pc.or_(deref_bad, global_bad)))
        cells = _count(is_cell)
        temp, hidden = _count(is_temp), _count(is_hidden)
        for r in ev.filter(bad).to_pylist():
            findings.append(Finding(r["path"], r["code_unit_id"], f"instr {r['instr_index']} {r['baseopname']}",
                                    f"{r['event_kind']} {r['space']} {r['name']!r}: {_why(r, modules)}"))
    return result("defuse_binding_space", "py_bc_defuse_events", findings,
                  {"fast_events": counts.get("FAST", 0), "deref_events": counts.get("DEREF", 0),
                   "global_events": counts.get("GLOBAL", 0), "compiler_temporaries": temp,
                   "hidden_comprehension_slots": hidden, "implicit_class_cells": cells},
                  description="FAST names -> a non-ref binding of the scope; DEREF -> a cell, FREE or NONLOCAL; "
                              "GLOBAL -> the module")


def _why(r: dict, modules) -> str:
    bid, res = r["binding_id"], r["binding_resolution"]
    if bid is None:
        return f"no binding ({res})"
    where = bid.rsplit(":SCOPE:", 1)[-1]
    if r["space"] == "FAST":
        if r["b_scope"] != r["u_scope"]:
            return f"binding {where} is not of the code unit's scope"
        return f"binding is a {r['b_kind']}, not a slot of this scope"
    if r["space"] == "DEREF":
        return f"resolved by {res}: neither a cell of this scope nor FREE / NONLOCAL"
    return f"resolved by {res} to a binding outside the module scope"


def dfg_sanity(events: pa.Table, edges: pa.Table, reaching: pa.Table, instructions: pa.Table) -> GateResult:
    """Every slot use has a reaching definition or a flag saying why not (counts per flag); every
    reaching-definition row names a use event; every stack edge joins a producer and a consumer of the
    same code unit that exist. Vectorised (Arrow joins): millions of stack edges over the stdlib."""
    findings = []
    uses = events.filter(_true(pc.equal(events.column("event_kind"), "USE_SLOT")))
    status = pc.fill_null(uses.column("reach_status"), "none")
    flags = _value_counts(status)
    unflagged = pc.and_(_true(pc.less(pc.fill_null(uses.column("reaching_def_count"), 0), 1)),
                        pc.invert(_in(status, NO_DEF_FLAGS)))
    for r in uses.filter(unflagged).slice(0, MAX_REPORTED_FINDINGS).to_pylist():
        findings.append(Finding(r["path"], r["code_unit_id"], f"instr {r['instr_index']} {r['baseopname']}",
                                f"use of {r['space']} {r['name']!r} has no reaching definition and no flag "
                                f"(status {r['reach_status']})"))
    n_unflagged = _count(unflagged)
    # (code unit, instruction) pairs as one int64: the unit's position among this table's units, then
    # the instruction index (dense per unit: instruction_conservation checks that).
    units = pc.unique(instructions.column("code_unit_id").combine_chunks()) if instructions.num_rows else pa.array([], pa.string())
    n_of = pc.value_counts(instructions.column("code_unit_id")) if instructions.num_rows else None
    count = pa.array([0] * len(units), pa.int64())
    if n_of is not None:
        count = n_of.field("counts").take(pc.index_in(units, value_set=n_of.field("values")))

    def key(cu_col, idx_col):
        pos = pc.index_in(cu_col, value_set=units)
        return pc.add(pc.multiply(pc.cast(pos, pa.int64()), 1 << 24), pc.cast(idx_col, pa.int64()))

    def exists(cu_col, idx_col):
        pos = pc.index_in(cu_col, value_set=units)
        n = count.take(pos)
        idx = pc.cast(idx_col, pa.int64())
        return _true(pc.and_(pc.greater_equal(idx, 0), pc.less(idx, n)))

    orphans = reaching.select(list(REACH_COLUMNS))
    if orphans.num_rows:
        use_keys = key(uses.column("code_unit_id"), uses.column("instr_index"))
        orphans = orphans.filter(pc.invert(_true(pc.is_in(key(orphans.column("code_unit_id"),
                                                               orphans.column("use_instr_index")), value_set=use_keys))))
    for r in orphans.slice(0, MAX_REPORTED_FINDINGS).to_pylist():
        findings.append(Finding(r["code_unit_id"].split(":CU:")[0], r["code_unit_id"], f"instr {r['use_instr_index']}",
                                "reaching definition of an instruction with no USE_SLOT event"))
    st = edges.select(list(EDGE_COLUMNS)).filter(_true(pc.equal(edges.column("kind"), "stack")))
    cross = st.filter(pc.invert(_true(pc.equal(st.column("src_code_unit_id"), st.column("code_unit_id")))))
    missing = st.slice(0, 0)
    if st.num_rows:
        has_src = _in(st.column("src_kind"), {"instr", "unmodelled"})
        ok_src = pc.or_(pc.invert(has_src), exists(st.column("code_unit_id"), pc.fill_null(st.column("src_instr_index"), -1)))
        ok = pc.and_(exists(st.column("code_unit_id"), st.column("dst_instr_index")), ok_src)
        missing = st.filter(pc.invert(ok))
    for r in cross.slice(0, MAX_REPORTED_FINDINGS).to_pylist():
        findings.append(Finding(r["path"], r["code_unit_id"], f"instr {r['dst_instr_index']}",
                                f"stack edge from another code unit {r['src_code_unit_id']}"))
    for r in missing.slice(0, MAX_REPORTED_FINDINGS).to_pylist():
        findings.append(Finding(r["path"], r["code_unit_id"], f"instr {r['dst_instr_index']}",
                                f"stack edge {r['src_instr_index']} -> {r['dst_instr_index']}: instruction missing"))
    metrics = {f"uses_{k}": v for k, v in sorted(flags.items())}
    metrics.update({"slot_uses": uses.num_rows, "reaching_defs": reaching.num_rows, "stack_edges": st.num_rows})
    total = n_unflagged + orphans.num_rows + cross.num_rows + missing.num_rows
    r = result("dfg_sanity", "py_dfg_edges", findings, metrics, passed=total == 0,
               description="every use reached by a definition or flagged unbound / global / unreachable; stack "
                           "edges within one code unit")
    r.metrics["findings"] = total
    return r


def defs_per_use(summed: dict) -> float:
    """Precision: reaching-definition rows per slot use that has at least one."""
    reached = summed.get("slot_uses", 0) - sum(summed.get(f"uses_{k}", 0) for k in NO_DEF_FLAGS)
    return summed.get("reaching_defs", 0) / reached if reached > 0 else 0.0


__all__ = ["defuse_binding_space", "dfg_sanity", "defs_per_use", "GateResult"]
