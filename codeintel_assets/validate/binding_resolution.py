"""Gate binding_resolution (seed 000 SYM-CPG-ALG-10 B, DESIGN §7): every ref binding resolves lexically.

- each ``nonlocal_ref`` has exactly one NONLOCAL edge, to a binding declared in an enclosing
  function-like scope (FUNCTION or a type scope). Implicit-name rule: ``nonlocal __class__`` (legal,
  used by test_super) resolves to the implicit ``__class__`` cell of the enclosing class, a
  synthesized binding of that CLASS scope;
- each ``global_ref`` has exactly one GLOBAL edge, to the binding of the file's MODULE scope;
- each ``free_ref`` has exactly one FREE edge, to a binding of an ancestor scope;
- no UNKNOWN edge; every edge starts at a ref binding and ends at an existing binding;
  CLASSDICT edges (optional, at most one) end in an enclosing CLASS scope.
"""

from collections import Counter, defaultdict

import pyarrow as pa

from codeintel_assets.validate.base import Finding, GateResult, result

FUNCTION_LIKE = frozenset({"FUNCTION", "ANNOTATION", "TYPE_ALIAS", "TYPE_PARAMETERS", "TYPE_VARIABLE"})
IMPLICIT_CLASS_CELLS = frozenset({"__class__", "__classdict__"})
EXPECTED = {"nonlocal_ref": "NONLOCAL", "global_ref": "GLOBAL", "free_ref": "FREE"}

SCOPE_COLUMNS = ["path", "scope_id", "parent_scope_id", "scope_type", "code_unit_id"]
BINDING_COLUMNS = ["path", "binding_id", "scope_id", "name", "binding_kind", "declared_here"]
EDGE_COLUMNS = ["path", "edge_id", "src_binding_id", "dst_binding_id", "kind"]


def _rows(t: pa.Table, cols: list[str]):
    return zip(*(t.column(c).to_pylist() for c in cols))


def binding_resolution(scopes: pa.Table, bindings: pa.Table, edges: pa.Table) -> GateResult:
    """nonlocal_ref -> one enclosing function binding; global_ref -> the module; free_ref -> an ancestor."""
    parent, stype, cu_of = {}, {}, {}
    for path, sid, pid, t, cu in _rows(scopes, SCOPE_COLUMNS):
        parent[sid], stype[sid], cu_of[sid] = pid, t, cu
    binding = {bid: (path, sid, name, kind, declared) for path, bid, sid, name, kind, declared in _rows(bindings, BINDING_COLUMNS)}
    out_edges: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    findings: list[Finding] = []
    kinds = Counter()
    for path, eid, src, dst, kind in _rows(edges, EDGE_COLUMNS):
        kinds[kind] += 1
        out_edges[src].append((kind, dst))
        if src not in binding:
            findings.append(Finding(path, None, eid, "edge from a binding not in py_sym_bindings"))
        elif dst is not None and dst not in binding:
            findings.append(Finding(path, None, eid, f"edge to a binding not in py_sym_bindings: {dst}"))

    def ancestors(sid):
        p = parent.get(sid)
        while p is not None:
            yield p
            p = parent.get(p)

    refs = implicit_nonlocal = 0
    for bid, (path, sid, name, kind, _) in binding.items():
        es = out_edges.get(bid, [])
        where = f"{name!r} in {sid.split(':SCOPE:', 1)[-1]}"
        cu = cu_of.get(sid)
        if kind not in EXPECTED:
            if es:
                findings.append(Finding(path, cu, where, f"{kind} binding has resolution edges {sorted(k for k, _ in es)}"))
            continue
        refs += 1
        want = EXPECTED[kind]
        main = [d for k, d in es if k == want]
        unknown = [k for k, _ in es if k == "UNKNOWN"]
        classdict = [d for k, d in es if k == "CLASSDICT"]
        if unknown or len(main) != 1:
            findings.append(Finding(path, cu, where, f"{kind}: {len(main)} {want} edges" + (", UNKNOWN edge" if unknown else "")))
            continue
        dst = binding.get(main[0])
        if dst is None:
            continue
        dst_scope = dst[1]
        anc = list(ancestors(sid))
        if kind == "global_ref":
            if parent.get(dst_scope, "") is not None or stype.get(dst_scope) != "MODULE":
                findings.append(Finding(path, cu, where, f"global_ref resolves outside the module scope: {main[0]}"))
        elif kind == "nonlocal_ref":
            implicit_cell = name in IMPLICIT_CLASS_CELLS and stype.get(dst_scope) == "CLASS"
            implicit_nonlocal += implicit_cell
            if dst_scope not in anc or not dst[4] or not (stype.get(dst_scope) in FUNCTION_LIKE or implicit_cell):
                findings.append(Finding(path, cu, where, f"nonlocal_ref does not resolve to a declared binding of an "
                                                         f"enclosing function: {main[0]}"))
        elif dst_scope not in anc:
            findings.append(Finding(path, cu, where, f"free_ref resolves to a non-ancestor scope: {main[0]}"))
        if len(classdict) > 1 or any(binding.get(d, (None, None))[1] not in anc or
                                     stype.get(binding[d][1]) != "CLASS" for d in classdict if d in binding):
            findings.append(Finding(path, cu, where, "CLASSDICT edge does not end in one enclosing class"))
    return result("binding_resolution", "py_sym_resolution_edges", findings, {
        "bindings": bindings.num_rows, "ref_bindings": refs, "edges": edges.num_rows,
        "nonlocal_to_implicit_class_cell": implicit_nonlocal,
        **{f"edges_{k.lower()}": kinds.get(k, 0) for k in ("GLOBAL", "NONLOCAL", "FREE", "CLASSDICT", "UNKNOWN")},
    }, description="nonlocal_ref -> one enclosing function binding, global_ref -> module, free_ref -> ancestor")
