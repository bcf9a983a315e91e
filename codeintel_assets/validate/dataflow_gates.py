"""Gates on the dataflow plane: defuse_binding_space and dfg_sanity (DESIGN §7).

Both make the dataflow plane check the others: the `dis` events against the symtable plane's
bindings, and the reaching definitions and stack edges against the instructions they name.
"""

from collections import Counter

import pyarrow as pa

from codeintel_assets.extract.bindings import REF_KINDS
from codeintel_assets.validate.base import Finding, GateResult, result

EVENT_COLUMNS = ("path", "code_unit_id", "instr_id", "instr_index", "baseopname", "event_kind", "space", "name",
                 "binding_id", "binding_resolution", "reach_status", "reaching_def_count", "detail")
# Inlined comprehensions (PEP 709) save, clear and restore a hidden fast slot for every name they bind,
# even one the comprehension binds in another scope (a walrus to a global): those events may name a
# binding outside the code unit's scope.
HIDDEN_SLOT_DETAILS = frozenset({"save", "clear", "restore"})
BINDING_COLUMNS = ("binding_id", "scope_id", "binding_kind")
CODE_UNIT_COLUMNS = ("code_unit_id", "scope_id")
SCOPE_COLUMNS = ("scope_id", "parent_scope_id")
EDGE_COLUMNS = ("path", "code_unit_id", "kind", "src_code_unit_id", "src_instr_index", "src_kind",
                "dst_instr_index", "dst_input")
REACH_COLUMNS = ("code_unit_id", "use_instr_index", "use_event_index")
INSTR_COLUMNS = ("code_unit_id", "instr_index")

# A use with no reaching definition must say why (dfg_sanity).
NO_DEF_FLAGS = frozenset({"unbound", "global", "unreachable", "unknown"})
DEREF_RESOLUTIONS = ("edge:FREE", "edge:NONLOCAL", "edge:CLASSDICT")


def _rows(t: pa.Table, cols) -> list[tuple]:
    return list(zip(*(t.column(c).to_pylist() for c in cols)))


def defuse_binding_space(events: pa.Table, bindings: pa.Table, code_units: pa.Table, scopes: pa.Table) -> GateResult:
    """Every FAST slot event names a non-ref binding of its code unit's scope; every DEREF one a cell of
    that scope or a FREE / NONLOCAL resolution; every GLOBAL one a binding of the module scope."""
    kind_of = {}
    scope_of_binding = {}
    for bid, sid, kind in _rows(bindings, BINDING_COLUMNS):
        kind_of[bid] = kind
        scope_of_binding[bid] = sid
    unit_scope = dict(_rows(code_units, CODE_UNIT_COLUMNS))
    module_scopes = {sid for sid, parent in _rows(scopes, SCOPE_COLUMNS) if parent is None}
    findings = []
    checked = Counter()
    for (path, cu, iid, idx, op, ek, space, name, bid, res, _, _, detail) in _rows(events, EVENT_COLUMNS):
        if space is None or space == "NAME":
            continue
        checked[space] += 1
        scope = unit_scope.get(cu)
        why = None
        if res == "compiler_temporary":
            checked["compiler_temporary"] += 1
        elif space == "FAST" and detail in HIDDEN_SLOT_DETAILS and scope_of_binding.get(bid) != scope:
            checked["hidden_comprehension_slot"] += 1
        elif bid is None:
            why = f"no binding ({res})"
        elif space == "FAST":
            if scope_of_binding.get(bid) != scope:
                why = f"binding {bid.rsplit(':SCOPE:', 1)[-1]} is not of the code unit's scope"
            elif kind_of.get(bid) in REF_KINDS:
                why = f"binding is a {kind_of.get(bid)}, not a slot of this scope"
        elif space == "DEREF":
            own_cell = scope_of_binding.get(bid) == scope and kind_of.get(bid) not in REF_KINDS
            if not own_cell and not (res or "").startswith(DEREF_RESOLUTIONS):
                why = f"resolved by {res}: neither a cell of this scope nor FREE / NONLOCAL"
        elif space == "GLOBAL":
            if scope_of_binding.get(bid) not in module_scopes:
                why = f"resolved by {res} to a binding outside the module scope"
        if why:
            findings.append(Finding(path, cu, f"instr {idx} {op}", f"{ek} {space} {name!r}: {why}"))
    return result("defuse_binding_space", "py_bc_defuse_events", findings,
                  {"fast_events": checked["FAST"], "deref_events": checked["DEREF"], "global_events": checked["GLOBAL"],
                   "compiler_temporaries": checked["compiler_temporary"],
                   "hidden_comprehension_slots": checked["hidden_comprehension_slot"]},
                  description="FAST names -> a non-ref binding of the scope; DEREF -> a cell, FREE or NONLOCAL; "
                              "GLOBAL -> the module")


def dfg_sanity(events: pa.Table, edges: pa.Table, reaching: pa.Table, instructions: pa.Table) -> GateResult:
    """Every slot use has a reaching definition or a flag saying why not (counts per flag); every
    reaching-definition row names a use event; every stack edge joins a producer and a consumer of the
    same code unit that exist."""
    findings = []
    flags = Counter()
    uses = set()
    for (path, cu, iid, idx, op, ek, space, name, bid, res, status, n, _) in _rows(events, EVENT_COLUMNS):
        if ek != "USE_SLOT":
            continue
        uses.add((cu, idx))
        flags[status or "none"] += 1
        if (n or 0) < 1 and status not in NO_DEF_FLAGS:
            findings.append(Finding(path, cu, f"instr {idx} {op}", f"use of {space} {name!r} has no reaching "
                                                                   f"definition and no flag (status {status})"))
    for cu, idx, k in _rows(reaching, REACH_COLUMNS):
        if (cu, idx) not in uses:
            findings.append(Finding(cu.split(":CU:")[0], cu, f"instr {idx}", "reaching definition of an instruction "
                                                                              "with no USE_SLOT event"))
    present = set(_rows(instructions, INSTR_COLUMNS))
    stack = 0
    for (path, cu, kind, scu, src, skind, dst, dinp) in _rows(edges, EDGE_COLUMNS):
        if kind != "stack":
            continue
        stack += 1
        if scu != cu:
            findings.append(Finding(path, cu, f"instr {dst}", f"stack edge from another code unit {scu}"))
        elif (cu, dst) not in present or (skind in ("instr", "unmodelled") and (cu, src) not in present):
            findings.append(Finding(path, cu, f"instr {dst}", f"stack edge {src} -> {dst}: instruction missing"))
    metrics = {f"uses_{k}": v for k, v in sorted(flags.items())}
    metrics.update({"slot_uses": sum(flags.values()), "reaching_defs": reaching.num_rows, "stack_edges": stack})
    return result("dfg_sanity", "py_dfg_edges", findings, metrics,
                  description="every use reached by a definition or flagged unbound / global / unreachable; stack "
                              "edges within one code unit")


def defs_per_use(summed: dict) -> float:
    """Precision: reaching-definition rows per slot use that has at least one."""
    reached = summed.get("slot_uses", 0) - sum(summed.get(f"uses_{k}", 0) for k in NO_DEF_FLAGS)
    return summed.get("reaching_defs", 0) / reached if reached > 0 else 0.0


__all__ = ["defuse_binding_space", "dfg_sanity", "defs_per_use", "GateResult"]
