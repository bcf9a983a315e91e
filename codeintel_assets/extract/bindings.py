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
    DEF_GLOBAL, DEF_PARAM, FREE, GLOBAL_EXPLICIT, GLOBAL_IMPLICIT, Scope, SymtableTree, namespaces_of, scope_code,
    symbol_of,
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


def classify_symbol(sc: Scope, name: str, flags: int, sym) -> tuple[str, str, bool]:
    """-> (scoping_class, binding_kind, declared_here) from the symbol flags alone (refinement 3 comes later)."""
    module = sc.scope_type == "MODULE"
    code = scope_code(flags)
    bound_flags = sym.is_parameter() or sym.is_assigned() or sym.is_imported() or sym.is_namespace() or sym.is_annotated()
    if module:
        scoping = "LOCAL" if bound_flags else "UNKNOWN"
    elif sym.is_nonlocal():
        scoping = "NONLOCAL_REF"
    elif code in (GLOBAL_EXPLICIT, GLOBAL_IMPLICIT) or flags & DEF_GLOBAL:
        scoping = "GLOBAL_REF"
    elif code == FREE:
        scoping = "FREE_REF"
    elif flags & DEF_PARAM:
        scoping = "PARAM_LOCAL"
    elif sym.is_local():
        scoping = "LOCAL"
    else:
        scoping = "UNKNOWN"
    if scoping == "NONLOCAL_REF":
        kind = "nonlocal_ref"
    elif scoping == "GLOBAL_REF":
        kind = "global_ref"
    elif scoping == "FREE_REF":
        kind = "free_ref"
    elif sym.is_parameter():
        kind = "param"
    elif sym.is_imported():
        kind = "import"
    elif _binds_namespace(sc, name):
        kind = "namespace"
    elif sym.is_annotated() and not sym.is_assigned():
        kind = "annot_only"
    elif sym.is_local() or sym.is_assigned():
        kind = "local"
    else:
        kind = "unknown"
    declared = bound_flags and kind not in REF_KINDS
    return scoping, kind, declared


def _binds_namespace(sc: Scope, name: str) -> bool:
    # Symbol.is_namespace() matches child tables by *name*: a TypeVar's bound scopes are named after
    # the TypeVar and a variable called `genexpr` matches a generator expression's table. Only a
    # def/class (possibly wrapped in its TYPE_PARAMETERS table) or a type alias binds a namespace.
    # Tables carry the unmangled name, symbols the mangled one (`def __m` in class K binds `_K__m`).
    private = _private_name(sc)
    for c in sc.children:
        if c.name != name and mangle(private, c.name) != name:
            continue
        if c.scope_type in ("CLASS", "TYPE_PARAMETERS", "TYPE_ALIAS"):
            return True
        if c.scope_type == "FUNCTION" and not c.is_comprehension:
            return True
    return False


def _private_name(sc: Scope) -> str | None:
    while sc is not None:
        if sc.scope_type == "CLASS":
            return sc.name
        sc = sc.parent
    return None


def build_bindings(tree: SymtableTree) -> dict[str, Binding]:
    """SYM-ALG-3 over every symbol of every scope (refinements 1 and 2 applied)."""
    out: dict[str, Binding] = {}
    for sc in tree.scopes:
        ns = namespaces_of(sc, tree)
        for name, flags in sc.symbols.items():
            sym = symbol_of(sc, name, flags, ns.get(name, ()))
            scoping, kind, declared = classify_symbol(sc, name, flags, sym)
            bid = binding_id_for(sc.scope_id, name)
            out[bid] = Binding(bid, sc.scope_id, name, f"{sc.scope_id}:SYM:{name}", kind, scoping, declared,
                               sym.is_referenced(), sym.is_assigned(), sym.is_annotated(), sym.is_annotated(),
                               is_implicit_name(name))
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
