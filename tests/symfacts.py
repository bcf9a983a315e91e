"""Test helper: run the symtable plane on a snippet and read its facts back with short names.

Scopes are named by qualpath without the module prefix (``"f"``, ``"C::m"``, ``"<generic parameters of
Box>::Box"``; the module is ``"mod"``); a binding is ``"<scope>.<name>"`` (``"f.x"``, ``"mod.y"``).
"""

import textwrap
from dataclasses import dataclass

from codeintel_assets.extract.spans import MODULE_QUALPATH, sha256_hex
from codeintel_assets.extract.symtable_plane import SymtableFacts, extract_symtable
from codeintel_assets.extract.syntax import SourceFile

MODULE = "mod"
PATH = f"{MODULE}.py"


def source_file(text: str, path: str = PATH) -> SourceFile:
    data = text.encode("utf-8")
    return SourceFile(path, data, text, data, "utf-8", False, sha256_hex(data), len(data), None)


@dataclass
class Sym:
    text: str
    facts: SymtableFacts

    def rows(self, table: str) -> list[dict]:
        return self.facts[table].to_pylist()

    @property
    def utf8(self) -> bytes:
        return self.text.encode("utf-8")

    # -- names ----------------------------------------------------------------------------

    def _scope_short(self, scope_id: str | None) -> str | None:
        if scope_id is None:
            return None
        return self._short_by_id[scope_id]

    def _binding_short(self, binding_id: str | None) -> str | None:
        if binding_id is None:
            return None
        scope_id, name = binding_id.split(":BIND:", 1)
        return f"{self._scope_short(scope_id)}.{name}"

    def __post_init__(self):
        self._short_by_id = {}
        for r in self.rows("py_sym_scopes"):
            q = r["qualpath"]
            self._short_by_id[r["scope_id"]] = MODULE if q == MODULE_QUALPATH else q

    # -- scopes ---------------------------------------------------------------------------

    def scopes(self) -> dict[str, str]:
        """short qualpath -> scope_type."""
        return {self._scope_short(r["scope_id"]): r["scope_type"] for r in self.rows("py_sym_scopes")}

    def scope(self, q: str) -> dict:
        rows = [r for r in self.rows("py_sym_scopes") if self._scope_short(r["scope_id"]) == q]
        assert len(rows) == 1, f"no scope {q!r}; have {sorted(self.scopes())}"
        return rows[0]

    def anchor_text(self, q: str) -> str:
        r = self.scope(q)
        return self.utf8[r["span_start_byte"]:r["span_end_byte"]].decode()

    def symbols(self, q: str) -> dict[str, dict]:
        sid = self.scope(q)["scope_id"]
        return {r["name"]: r for r in self.rows("py_sym_symbols") if r["scope_id"] == sid}

    def scope_codes(self, q: str) -> dict[str, str]:
        """name -> LOCAL / CELL / FREE / GLOBAL_IMPLICIT / GLOBAL_EXPLICIT."""
        return {n: r["scope_code"] for n, r in self.symbols(q).items()}

    # -- bindings and resolution ----------------------------------------------------------

    def bindings(self, q: str, synthesized: bool = False) -> dict[str, str]:
        """name -> binding_kind for scope ``q`` (synthesized slots only when asked)."""
        sid = self.scope(q)["scope_id"]
        return {r["name"]: r["binding_kind"] for r in self.rows("py_sym_bindings")
                if r["scope_id"] == sid and (synthesized or not r["is_synthesized"])}

    def binding(self, short: str) -> dict:
        rows = [r for r in self.rows("py_sym_bindings") if self._binding_short(r["binding_id"]) == short]
        assert len(rows) == 1, f"no binding {short!r}"
        return rows[0]

    def edges(self) -> set[tuple[str, str, str]]:
        """{(src binding, kind, dst binding)}."""
        return {(self._binding_short(r["src_binding_id"]), r["kind"], self._binding_short(r["dst_binding_id"]))
                for r in self.rows("py_sym_resolution_edges")}

    def resolve(self, q: str, name: str) -> str | None:
        """SYM-CPG-ALG-4 through the library Resolver, rebuilt from the stored tables."""
        from codeintel_assets.extract.resolve import Resolver
        r = Resolver.from_tables(self.facts["py_sym_scopes"], self.facts["py_sym_bindings"],
                                 self.facts["py_sym_resolution_edges"])
        return self._binding_short(r.resolve_binding(self.scope(q)["scope_id"], name).binding_id)

    # -- name sites ----------------------------------------------------------------------

    def sites(self, *kinds: str) -> list[tuple]:
        """(text at span, role, site_kind, containing scope, resolved binding) in source order."""
        out = []
        for r in self.rows("py_sym_name_sites"):
            if kinds and r["site_kind"] not in kinds:
                continue
            a, b = r["span_start_byte"], r["span_end_byte"]
            text = self.utf8[a:b].decode() if a is not None else None
            out.append((text, r["role"], r["site_kind"], self._scope_short(r["scope_id"]),
                        self._binding_short(r["binding_id"])))
        return out

    def site_set(self, *kinds: str) -> set[tuple]:
        return set(self.sites(*kinds))

    def crosswalk(self) -> list[tuple]:
        """Sorted (scope, match_kind) per crosswalk row; an inlined comprehension names its enclosing scope."""
        return sorted((self._scope_short(r["scope_id"]) or "", r["match_kind"])
                      for r in self.rows("py_sym_code_crosswalk"))


def sym(text: str, code_units=None) -> Sym:
    text = textwrap.dedent(text).lstrip("\n")
    return Sym(text, extract_symtable(source_file(text), code_units))
