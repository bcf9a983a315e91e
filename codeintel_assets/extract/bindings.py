"""Binding slots (seed 000 SYM-ALG-3 / SYM-CPG-ALG-2): one per (scope, symbol), classified deterministically.

Three refinements of the spec's rules, each forced by what CPython 3.13's symtable records:

1. **Scoping class before binding kind.** The spec lists ``local if is_local or is_assigned`` before the
   ref kinds, which would make ``nonlocal x; x = 1`` a *local*; the assignment rebinds the outer slot.
   So the scoping class is decided first (rule 1: NONLOCAL_REF, GLOBAL_REF, FREE_REF, PARAM_LOCAL,
   LOCAL, UNKNOWN) and a ref keeps its ref kind; ``declared_here`` is false for refs (the slot they
   assign is declared where they resolve to).
2. **The module scope is the global namespace.** ``Symbol.is_global()`` is true for every module name,
   so rule 1 would make them all GLOBAL_REF. In MODULE: bound names are LOCAL, names only read there
   (builtins, star-imported, dynamic) are UNKNOWN with kind ``unknown``. A module name whose only
   binding is a walrus inside a comprehension carries DEF_GLOBAL and no DEF_LOCAL
   (``symtable_extend_namedexpr_scope``); it is declared here when such a walrus site binds it.
3. **Annotation-only names.** symtable sets DEF_LOCAL *and* DEF_ANNOT for a simple ``x: int``, so
   ``is_assigned()`` is true and the spec's ``annot_only`` test (annotated and not assigned) never
   fires. ``annot_only`` is therefore decided with the AST: annotated, classified local, and no binding
   site (assignment, import, def, for/with/except/match target, walrus...) resolves to the slot.
"""

from dataclasses import dataclass, replace

from codeintel_assets.extract.astscopes import mangle
from codeintel_assets.extract.symtable import (
    DEF_GLOBAL, FREE, GLOBAL_EXPLICIT, GLOBAL_IMPLICIT, Scope, SymbolFacts, SymtableTree, symbol_facts,
)

REF_KINDS = frozenset({"global_ref", "nonlocal_ref", "free_ref"})
# Names the compiler creates itself: no AST site ever binds them (see docs/symtable.md).
IMPLICIT_NAMES = frozenset({"__class__", "__classdict__", "__type_params__"})


def is_implicit_name(name: str) -> bool:
    return name.startswith(".") or name in IMPLICIT_NAMES


@dataclass(frozen=True, slots=True)
class Binding:
    binding_id: str
    scope_id: str
    name: str
    symbol_row_id: str | None
    kind: str
    scoping_class: str
    declared_here: bool
    referenced_here: bool
    assigned_here: bool
    annotated_here: bool
    is_annotated: bool
    is_implicit: bool
    is_synthesized: bool = False
    synthesized_reason: str | None = None


def binding_id_for(scope_id: str, name: str) -> str:
    return f"{scope_id}:BIND:{name}"


def classify_symbol(f: SymbolFacts, namespace_names: set[str]) -> tuple[str, str, bool]:
    """-> (scoping_class, binding_kind, declared_here) from the symbol alone (refinement 3 comes later).

    ``namespace_names``: the names of the scope that a def/class/type alias binds (``namespace_names``).
    """
    sc = f.scope
    code = f.scope_code
    binds_ns = f.name in namespace_names
    bound_flags = f.is_parameter or f.is_assigned or f.is_imported or binds_ns or f.is_annotated
    if sc.scope_type == "MODULE":
        scoping = "LOCAL" if bound_flags else "UNKNOWN"
    elif f.is_nonlocal:
        scoping = "NONLOCAL_REF"
    elif code in (GLOBAL_EXPLICIT, GLOBAL_IMPLICIT) or f.flags & DEF_GLOBAL:
        scoping = "GLOBAL_REF"
    elif code == FREE:
        scoping = "FREE_REF"
    elif f.is_parameter:
        scoping = "PARAM_LOCAL"
    elif f.is_local:
        scoping = "LOCAL"
    else:
        scoping = "UNKNOWN"
    if scoping == "NONLOCAL_REF":
        kind = "nonlocal_ref"
    elif scoping == "GLOBAL_REF":
        kind = "global_ref"
    elif scoping == "FREE_REF":
        kind = "free_ref"
    elif f.is_parameter:
        kind = "param"
    elif f.is_imported:
        kind = "import"
    elif binds_ns:
        kind = "namespace"
    elif f.is_annotated and not f.is_assigned:
        kind = "annot_only"
    elif f.is_local or f.is_assigned:
        kind = "local"
    else:
        kind = "unknown"
    declared = bound_flags and kind not in REF_KINDS
    return scoping, kind, declared


def namespace_names(sc: Scope) -> set[str]:
    """Symbol names of ``sc`` that a def, class or type alias binds.

    Symbol.is_namespace() matches child tables by *name*, so a TypeVar's bound scopes (named after the
    TypeVar) and a variable called ``genexpr`` (a generator expression's table) count as namespaces.
    Only a def/class (possibly wrapped in its TYPE_PARAMETERS table) or a type alias binds one here;
    and tables carry the unmangled name while symbols carry the mangled one (``def __m`` in class K
    binds ``_K__m``, for which is_namespace() is false).
    """
    private = _private_name(sc)
    out = set()
    for c in sc.children:
        if c.scope_type in ("CLASS", "TYPE_PARAMETERS", "TYPE_ALIAS") or (
                c.scope_type == "FUNCTION" and c.name != "lambda" and not c.is_comprehension):
            out.add(c.name)
            out.add(mangle(private, c.name))
    return out


def _private_name(sc: Scope) -> str | None:
    while sc is not None:
        if sc.scope_type == "CLASS":
            return sc.name
        sc = sc.parent
    return None


def build_bindings(tree: SymtableTree) -> dict[str, Binding]:
    """SYM-ALG-3 over every symbol of every scope (refinements 1 and 2 applied)."""
    out: dict[str, Binding] = {}
    ns_names: dict[str, set[str]] = {}
    for f in symbol_facts(tree):
        sc = f.scope
        names = ns_names.get(sc.scope_id)
        if names is None:
            names = ns_names[sc.scope_id] = namespace_names(sc)
        scoping, kind, declared = classify_symbol(f, names)
        sid = f.scope.scope_id
        bid = f"{sid}:BIND:{f.name}"
        out[bid] = Binding(bid, sid, f.name, f"{sid}:SYM:{f.name}", kind, scoping, declared, f.is_referenced,
                           f.is_assigned, f.is_annotated, f.is_annotated, is_implicit_name(f.name))
    return out


def refine_with_sites(bindings: dict[str, Binding], bound_by_site: set[str], walrus_bound: set[str],
                      module_scope_id: str) -> dict[str, Binding]:
    """Refinements 2 (module walrus) and 3 (annot_only) once name sites are resolved.

    ``bound_by_site``: binding ids some binding site (not a bare annotation) resolves to;
    ``walrus_bound``: binding ids a walrus target resolves to.
    """
    out = {}
    for bid, b in bindings.items():
        if b.kind == "local" and b.is_annotated and bid not in bound_by_site and not b.is_synthesized:
            b = replace(b, kind="annot_only")
        elif (b.scope_id == module_scope_id and not b.declared_here and bid in walrus_bound):
            b = replace(b, kind="local", scoping_class="LOCAL", declared_here=True, assigned_here=True)
        out[bid] = b
    return out
