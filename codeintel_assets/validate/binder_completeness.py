"""Gate binder_completeness (seed 000 SYM-CPG-ALG-10 A): the AST name sites and the binding slots cover each other.

1. Every binding declared here (param, import, namespace, annot_only, local) has at least one site
   in ``py_sym_name_sites`` that binds it: role ``def`` or ``kill`` (``del x`` alone makes ``x`` local:
   symtable records DEL as a binding), or ``decl`` for an ``annot_only`` binding.
   Rule: compiler-created names (``.0``, ``.type_params``, ``.generic_base``, ``.defaults``,
   ``.kwdefaults``, ``__type_params__``, the implicit ``__class__`` / ``__classdict__`` cells: column
   ``is_implicit``) and synthesized target slots have no source occurrence and are not expected to.
2. Every use / kill site that the compiler sees (not inside a stringized annotation) resolves: its
   ``binding_id`` names a row of ``py_sym_bindings`` and the resolver needed no fallback
   (``fallback_*`` / ``unresolved_ref`` are findings: the AST walk and the symbol table disagree).
   Rule: names inside annotations under ``from __future__ import annotations`` are never evaluated
   and absent from the symbol table (``resolution = stringized_annotation``); they are counted, not
   resolved.
"""

from collections import Counter

import pyarrow as pa

from codeintel_assets.validate.base import Finding, GateResult, result

BINDING_COLUMNS = ["path", "binding_id", "scope_id", "name", "binding_kind", "declared_here", "is_implicit",
                   "is_synthesized"]
SITE_COLUMNS = ["path", "site_id", "name", "role", "site_kind", "binding_id", "resolution", "span_start_byte"]
UNRESOLVED = frozenset({"fallback_module", "fallback_global", "unresolved_ref"})


def _rows(t: pa.Table, cols: list[str]):
    return zip(*(t.column(c).to_pylist() for c in cols))


def _where(start, site_id: str) -> str:
    return f"byte {start}" if start is not None else site_id.rsplit(":SITE:", 1)[-1]


def binder_completeness(bindings: pa.Table, name_sites: pa.Table) -> GateResult:
    """Declared bindings have a def site; every use site resolves to an existing binding."""
    known = set(bindings.column("binding_id").to_pylist())
    defined: set[str] = set()
    declared_annot: set[str] = set()
    findings: list[Finding] = []
    roles = Counter()
    stringized = 0
    for path, site_id, name, role, kind, bid, res, start in _rows(name_sites, SITE_COLUMNS):
        roles[role] += 1
        if res == "stringized_annotation":
            stringized += 1
            continue
        if role in ("def", "kill") and bid is not None:
            defined.add(bid)
        elif role == "decl" and bid is not None:
            declared_annot.add(bid)
        if bid is None or bid not in known:
            findings.append(Finding(path, None, _where(start, site_id),
                                    f"{role} site {name!r} ({kind}) resolves to no binding: {bid}"))
        elif res in UNRESOLVED:
            findings.append(Finding(path, None, _where(start, site_id),
                                    f"{role} site {name!r} ({kind}) needed resolver fallback {res}"))
    declared = exempt = 0
    for path, bid, sid, name, kind, is_declared, implicit, synthesized in _rows(bindings, BINDING_COLUMNS):
        if not is_declared:
            continue
        declared += 1
        if implicit or synthesized:
            exempt += 1
            continue
        if bid in defined or (kind == "annot_only" and bid in declared_annot):
            continue
        findings.append(Finding(path, None, f"{name!r} in {sid.split(':SCOPE:', 1)[-1]}",
                                f"declared {kind} binding has no binding site in py_sym_name_sites"))
    return result("binder_completeness", "py_sym_name_sites", findings, {
        "declared_bindings": declared, "exempt_implicit": exempt, "sites": name_sites.num_rows,
        "def_sites": roles["def"], "use_sites": roles["use"], "kill_sites": roles["kill"], "decl_sites": roles["decl"],
        "stringized_annotation_sites": stringized,
    }, description="declared bindings have a def site; every use site resolves to a binding")
