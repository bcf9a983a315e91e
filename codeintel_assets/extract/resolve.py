"""Lexical resolution (seed 000 SYM-ALG-4, SYM-CPG-ALG-3/4/5): ref bindings -> defining bindings, names -> bindings.

``Resolver`` is the library entry point later planes use (dis def/use events, call stitching): build it
from one file's ``py_sym_scopes`` / ``py_sym_bindings`` / ``py_sym_resolution_edges`` with
``Resolver.from_tables`` and call ``resolve_binding(scope_id, name)``.

Edge rules (per ref binding, ancestors nearest first):

- GLOBAL: the module's slot for the name (synthesized, kind ``unknown``, when the module never binds
  nor reads it: builtins, star imports, ``globals()`` writes), confidence 1.0.
- NONLOCAL: the nearest function-like ancestor (FUNCTION or a type scope: CPython's
  ``_PyST_IsFunctionLike``) declaring the name, confidence 1.0; ``nonlocal __class__`` reaches the
  implicit cell of the enclosing class (below).
- FREE: the nearest function-like ancestor declaring it (1.0); else, for the implicit cells
  ``__class__`` / ``__classdict__``, the nearest class, whose slot is synthesized (the compiler creates
  the cell; the class table has no symbol for it) (1.0); else a declaring class (0.9), else the
  module (0.7, the spec's fallback; never needed on the stdlib).
- CLASSDICT (extra, 0.9): a global/free ref inside a type scope that can see its class
  (``__classdict__`` in its symbols: TypeVar bounds, type aliases, type parameters of methods) also
  points at the class's binding of the name: the compiler emits LOAD_FROM_DICT_OR_GLOBALS /
  _OR_DEREF, which looks in the class namespace first.
- UNKNOWN (0.0): nothing found; the gate ``binding_resolution`` reports it.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from codeintel_assets.extract.astscopes import Slot
from codeintel_assets.extract.bindings import REF_KINDS, Binding, binding_id_for, is_implicit_name
from codeintel_assets.extract.symtable import FUNCTION_LIKE

IMPLICIT_CLASS_CELLS = frozenset({"__class__", "__classdict__"})


@dataclass(frozen=True, slots=True)
class ScopeRef:
    scope_id: str
    parent_id: str | None
    scope_type: str


@dataclass(frozen=True, slots=True)
class Edge:
    edge_id: str
    src: str
    dst: str | None
    kind: str
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class Resolution:
    binding_id: str | None
    resolution: str  # direct | edge:KIND | comprehension_skips_class | fallback_module | fallback_global | unresolved_ref
    confidence: float
    reason: str


class Resolver:
    """Bindings, scope tree and resolution edges of one file; ``resolve_binding`` is SYM-CPG-ALG-4."""

    def __init__(self, scopes: dict[str, ScopeRef], bindings: dict[str, Binding], edges: list[Edge] | None = None):
        self.scopes = scopes
        self.bindings = bindings
        self.synthesized: dict[str, Binding] = {}
        self.module_id = next(s.scope_id for s in scopes.values() if s.parent_id is None)
        self.edges: dict[str, list[Edge]] = {}
        self._cache: dict[tuple[str, str], Resolution] = {}
        for e in edges or ():
            self.edges.setdefault(e.src, []).append(e)

    @classmethod
    def from_tables(cls, scopes: pa.Table, bindings: pa.Table, edges: pa.Table) -> "Resolver":
        """From one file's stored rows (py_sym_scopes, py_sym_bindings, py_sym_resolution_edges)."""
        sc = {r["scope_id"]: ScopeRef(r["scope_id"], r["parent_scope_id"], r["scope_type"])
              for r in scopes.select(["scope_id", "parent_scope_id", "scope_type"]).to_pylist()}
        bs = {}
        for r in bindings.to_pylist():
            bs[r["binding_id"]] = Binding(
                r["binding_id"], r["scope_id"], r["name"], r["symbol_row_id"], r["binding_kind"], r["scoping_class"],
                r["declared_here"], r["referenced_here"], r["assigned_here"], r["annotated_here"],
                r["annotated_here"], r["is_implicit"], r["is_synthesized"], r["synthesized_reason"])
        es = [Edge(r["edge_id"], r["src_binding_id"], r["dst_binding_id"], r["kind"], r["confidence"], r["reason"])
              for r in edges.to_pylist()]
        return cls(sc, bs, es)

    # -- lookups ----------------------------------------------------------------------------

    def binding(self, binding_id: str) -> Binding | None:
        return self.bindings.get(binding_id) or self.synthesized.get(binding_id)

    def ancestors(self, scope_id: str) -> Iterator[ScopeRef]:
        p = self.scopes[scope_id].parent_id
        while p is not None:
            s = self.scopes[p]
            yield s
            p = s.parent_id

    def _declared(self, scope_id: str, name: str) -> Binding | None:
        b = self.bindings.get(binding_id_for(scope_id, name))
        if b is not None and b.declared_here and b.kind not in REF_KINDS:
            return b
        return None

    def _synthesize(self, scope_id: str, name: str, kind: str, declared: bool, reason: str) -> str:
        bid = binding_id_for(scope_id, name)
        if bid not in self.bindings and bid not in self.synthesized:
            self.synthesized[bid] = Binding(bid, scope_id, name, None, kind, "LOCAL" if declared else "UNKNOWN",
                                            declared, False, False, False, False, is_implicit_name(name), True, reason)
        return bid

    def module_slot(self, name: str) -> tuple[str, bool]:
        """The module binding of ``name`` (synthesized when the module has no symbol); -> (id, declared)."""
        bid = binding_id_for(self.module_id, name)
        b = self.bindings.get(bid)
        if b is not None:
            return bid, b.declared_here
        return self._synthesize(self.module_id, name, "unknown", False,
                                "global not bound in the module (builtin, star import or dynamic)"), False

    # -- SYM-ALG-4 --------------------------------------------------------------------------

    def compute_edges(self) -> list[Edge]:
        self._cache.clear()
        out: list[Edge] = []
        for b in list(self.bindings.values()):
            if b.kind not in REF_KINDS:
                continue
            for e in self._edges_for(b):
                out.append(e)
                self.edges.setdefault(e.src, []).append(e)
        return out

    def _edges_for(self, b: Binding) -> list[Edge]:
        src, name = b.binding_id, b.name
        if b.kind == "global_ref":
            dst, declared = self.module_slot(name)
            why = "module binding" if declared else "module slot, not bound in the module (builtin, star import or dynamic)"
            edges = [Edge(f"{src}:RES:GLOBAL", src, dst, "GLOBAL", 1.0, why)]
        elif b.kind == "nonlocal_ref":
            dst = self._nearest_function_binding(b.scope_id, name)
            why = "nearest enclosing function binding"
            if dst is None and name in IMPLICIT_CLASS_CELLS:
                dst, why = self._implicit_class_cell(b.scope_id, name)
            edges = [Edge(f"{src}:RES:NONLOCAL", src, dst, "NONLOCAL", 1.0, why)
                     if dst else Edge(f"{src}:RES:UNKNOWN", src, None, "UNKNOWN", 0.0, "no enclosing function binds it")]
        else:
            edges = [self._free_edge(b)]
        classdict = self._classdict_edge(b)
        if classdict is not None:
            edges.append(classdict)
        return edges

    def _nearest_function_binding(self, scope_id: str, name: str) -> str | None:
        for anc in self.ancestors(scope_id):
            if anc.scope_type in FUNCTION_LIKE:
                d = self._declared(anc.scope_id, name)
                if d is not None:
                    return d.binding_id
        return None

    def _nearest_class(self, scope_id: str) -> ScopeRef | None:
        for anc in self.ancestors(scope_id):
            if anc.scope_type == "CLASS":
                return anc
        return None

    def _free_edge(self, b: Binding) -> Edge:
        src, name = b.binding_id, b.name
        dst = self._nearest_function_binding(b.scope_id, name)
        if dst is not None:
            return Edge(f"{src}:RES:FREE", src, dst, "FREE", 1.0, "nearest enclosing function binding (cell)")
        if name in IMPLICIT_CLASS_CELLS:
            dst, why = self._implicit_class_cell(b.scope_id, name)
            if dst is not None:
                return Edge(f"{src}:RES:FREE", src, dst, "FREE", 1.0, why)
        for anc in self.ancestors(b.scope_id):
            if anc.scope_type == "CLASS" and self._declared(anc.scope_id, name):
                return Edge(f"{src}:RES:FREE", src, binding_id_for(anc.scope_id, name), "FREE", 0.9,
                            "enclosing class binding")
        d = self._declared(self.module_id, name)
        if d is not None:
            return Edge(f"{src}:RES:FREE", src, d.binding_id, "FREE", 0.7, "fell back to the module binding")
        return Edge(f"{src}:RES:UNKNOWN", src, None, "UNKNOWN", 0.0, "no enclosing scope binds it")

    def _implicit_class_cell(self, scope_id: str, name: str) -> tuple[str | None, str]:
        cls = self._nearest_class(scope_id)
        if cls is None:
            return None, ""
        dst = self._synthesize(cls.scope_id, name, "local", True, f"implicit {name} cell the compiler creates in the class body")
        return dst, f"implicit {name} cell of the enclosing class"

    def _classdict_edge(self, b: Binding) -> Edge | None:
        if is_implicit_name(b.name) or binding_id_for(b.scope_id, "__classdict__") not in self.bindings:
            return None
        cls = self._nearest_class(b.scope_id)
        if cls is None:
            return None
        d = self._declared(cls.scope_id, b.name)
        if d is None:
            return None
        return Edge(f"{b.binding_id}:RES:CLASSDICT", b.binding_id, d.binding_id, "CLASSDICT", 0.9,
                    "type scope sees the class namespace first (LOAD_FROM_DICT_OR_*)")

    # -- SYM-CPG-ALG-4 ----------------------------------------------------------------------

    def resolve_binding(self, scope_id: str, name: str) -> Resolution:
        """The binding a name used in ``scope_id`` denotes; ``name`` is the (mangled) symbol name."""
        key = (scope_id, name)
        r = self._cache.get(key)
        if r is None:
            r = self._cache[key] = self._resolve(scope_id, name)
        return r

    def _resolve(self, scope_id: str, name: str) -> Resolution:
        bid = binding_id_for(scope_id, name)
        b = self.binding(bid)
        if b is not None:
            if b.kind not in REF_KINDS:
                return Resolution(bid, "direct", 1.0, "binding of the containing scope")
            es = self.edges.get(bid, ())
            pick = next((e for e in es if e.kind == "CLASSDICT"), None) or next(
                (e for e in es if e.kind != "UNKNOWN" and e.dst is not None), None)
            if pick is None:
                return Resolution(bid, "unresolved_ref", 0.0, "ref binding without a resolution edge")
            return Resolution(pick.dst, f"edge:{pick.kind}", pick.confidence, pick.reason)
        dst, _ = self.module_slot(name)
        if scope_id == self.module_id:
            return Resolution(dst, "fallback_module", 0.5, "UNRESOLVED_BINDING: no symbol in the module scope")
        return Resolution(dst, "fallback_global", 0.3, "UNRESOLVED_BINDING: no symbol in the scope; assumed global")

    def resolve_as_nested(self, scope_id: str, name: str) -> Resolution:
        """How a function nested in ``scope_id`` sees ``name``: class scopes are invisible to it.

        Used for names read inside a comprehension inlined into a class body (PEP 709): the class
        table holds the comprehension's symbols, but the code still skips the class namespace.
        """
        chain = [self.scopes[scope_id], *self.ancestors(scope_id)]
        for s in chain:
            if s.scope_type == "CLASS":
                continue
            if s.scope_type == "MODULE" or self.binding(binding_id_for(s.scope_id, name)) is not None:
                r = self.resolve_binding(s.scope_id, name)
                return Resolution(r.binding_id, "comprehension_skips_class", r.confidence,
                                  f"comprehension inlined in a class body does not see the class namespace; {r.reason}")
        return self.resolve_binding(self.module_id, name)


# ---------------------------------------------------------------------------------------------
# SYM-CPG-ALG-5: name sites -> bindings


@dataclass(frozen=True, slots=True)
class SiteResolution:
    scope_id: str
    inlined_comp: Slot | None
    scope_binding_id: str | None
    res: Resolution | None


def site_scope(site_slot: Slot) -> tuple[Slot, list[Slot]]:
    """The nearest slot with a table (the site's containing scope) and the inlined comprehensions between."""
    slot = site_slot
    inlined: list[Slot] = []
    while slot.scope is None and slot.parent is not None:
        if slot.inlined:
            inlined.append(slot)
        slot = slot.parent
    return slot, inlined


def resolve_site(site_slot: Slot, symbol_name: str, stringized: bool, resolver: Resolver,
                 _cache: dict | None = None) -> SiteResolution:
    """Containing scope of a site (nearest slot with a table) and the binding its name denotes."""
    info = None if _cache is None else _cache.get(id(site_slot))
    if info is None:
        info = site_scope(site_slot)
        if _cache is not None:
            _cache[id(site_slot)] = info
    slot, inlined = info
    scope = slot.scope
    sid = scope.scope_id
    local = f"{sid}:BIND:{symbol_name}"
    scope_binding = local if local in resolver.bindings or local in resolver.synthesized else None
    if stringized:
        return SiteResolution(sid, inlined[0] if inlined else None, scope_binding, None)
    if inlined and scope.scope_type == "CLASS" and not any(symbol_name in c.comp_bound for c in inlined):
        res = resolver.resolve_as_nested(sid, symbol_name)
    else:
        res = resolver.resolve_binding(sid, symbol_name)
    return SiteResolution(sid, inlined[0] if inlined else None, scope_binding, res)
