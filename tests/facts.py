"""Test helper: run the source, bytecode and CFG extractors on a snippet and read the facts back.

Blocks are named ``B{block_index}`` (block order = ascending start offset), so an expected edge set
can be checked by hand against ``dis.dis(code, show_offsets=True)``: cut the listing at the block
boundaries of seed 000 algorithm A and number the pieces from 0.
"""

import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from codeintel_assets.extract.bytecode import BytecodeFacts, extract_bytecode
from codeintel_assets.extract.cfg import extract_cfg
from codeintel_assets.extract.context import as_context
from codeintel_assets.extract.spans import MODULE_QUALPATH
from codeintel_assets.extract.syntax import SourceFacts, SourceFile, extract_source, read_source

MODULE = "mod"
PATH = f"{MODULE}.py"


@dataclass
class Facts:
    src: SourceFile
    source: SourceFacts
    bytecode: BytecodeFacts
    blocks_table: pa.Table
    edges_table: pa.Table

    # -- lookups ------------------------------------------------------------------------------

    @staticmethod
    def qualpath(q: str) -> str:
        """Test names -> stored qualpaths: ``"mod"`` is the module (``<module>``); ``"f"`` / ``"mod::f"``
        / ``"C::m"`` name ``f`` / ``f`` / ``C::m`` (stored qualpaths never carry the module name)."""
        if q == MODULE:
            return MODULE_QUALPATH
        return q[len(MODULE) + 2:] if q.startswith(MODULE + "::") else q

    @staticmethod
    def display(q: str) -> str:
        """Stored qualpath -> the test name with the module prefix (``<module>`` -> ``mod``, ``f`` -> ``mod::f``)."""
        return MODULE if q == MODULE_QUALPATH else f"{MODULE}::{q}"

    def code_unit(self, q: str) -> dict:
        rows = [r for r in self.bytecode.code_units.to_pylist() if r["qualpath"] == self.qualpath(q)]
        assert len(rows) == 1, f"no single code unit {self.qualpath(q)!r}; have {sorted(self.code_units())}"
        return rows[0]

    def code_units(self) -> dict[str, str]:
        """qualpath -> kind."""
        return {self.display(r["qualpath"]): r["kind"] for r in self.bytecode.code_units.to_pylist()}

    def instructions(self, q: str) -> list[dict]:
        cu = self.code_unit(q)["code_unit_id"]
        rows = [r for r in self.bytecode.instructions.to_pylist() if r["code_unit_id"] == cu]
        return sorted(rows, key=lambda r: r["instr_index"])

    def ops(self, q: str) -> list[str]:
        return [r["opname"] for r in self.instructions(q)]

    def exception_table(self, q: str) -> list[dict]:
        cu = self.code_unit(q)["code_unit_id"]
        return [r for r in self.bytecode.exception_table.to_pylist() if r["code_unit_id"] == cu]

    def block_rows(self, q: str) -> list[dict]:
        cu = self.code_unit(q)["code_unit_id"]
        return sorted((r for r in self.blocks_table.to_pylist() if r["code_unit_id"] == cu),
                      key=lambda r: r["block_index"])

    def edge_rows(self, q: str) -> list[dict]:
        cu = self.code_unit(q)["code_unit_id"]
        return [r for r in self.edges_table.to_pylist() if r["code_unit_id"] == cu]

    def _names(self, q: str) -> dict[str, str]:
        return {r["block_id"]: f"B{r['block_index']}" for r in self.block_rows(q)}

    # -- readable views -----------------------------------------------------------------------

    def blocks(self, q: str) -> list[str]:
        """``"B1 loop_header: FOR_ITER"``: name, kind, (dead), then the block's opnames in order."""
        ins = self.instructions(q)
        out = []
        for b in self.block_rows(q):
            ops = " ".join(r["opname"] for r in ins[b["first_instr_index"]:b["last_instr_index"] + 1])
            dead = " dead" if b["is_dead"] else ""
            out.append(f"B{b['block_index']} {b['kind']}{dead}: {ops}")
        return out

    def cfg_edges(self, q: str) -> set[tuple[str, str, str]]:
        """Normal edges (next / jump / true / false) as (src, dst, kind)."""
        n = self._names(q)
        return {(n[e["src_block_id"]], n[e["dst_block_id"]], e["kind"])
                for e in self.edge_rows(q) if e["kind"] != "exc"}

    def branch_rules(self, q: str) -> dict[str, str]:
        """Block -> polarity_rule of its conditional terminator."""
        n = self._names(q)
        rules: dict[str, str] = {}
        for e in self.edge_rows(q):
            if e["polarity_rule"] is not None:
                assert rules.setdefault(n[e["src_block_id"]], e["polarity_rule"]) == e["polarity_rule"]
        return rules

    def exc_edges(self, q: str, innermost_only: bool = False) -> set[tuple[str, str, int, bool]]:
        """Exception edges as (src, dst, depth, lasti)."""
        n = self._names(q)
        return {(n[e["src_block_id"]], n[e["dst_block_id"]], e["depth"], e["lasti"]) for e in self.edge_rows(q)
                if e["kind"] == "exc" and (e["is_innermost"] or not innermost_only)}


def dedent(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def extract_file(root: Path, relpath: str, max_bytes: int | None = None) -> Facts:
    src = read_source(root, relpath) if max_bytes is None else read_source(root, relpath, max_bytes)
    ctx = as_context(src)  # one context, as in the pass: parsed, compiled and walked once
    bc = extract_bytecode(ctx)
    cfg = extract_cfg(bc.instructions, bc.exception_table).get(relpath)
    blocks = cfg.blocks if cfg else pa.table({"code_unit_id": pa.array([], pa.string())})
    edges = cfg.edges if cfg else pa.table({"code_unit_id": pa.array([], pa.string())})
    return Facts(src, extract_source(ctx), bc, blocks, edges)


def facts(source: str | bytes) -> Facts:
    """Dedent ``source`` (str), write it as ``mod.py`` in a temp dir and extract every plane."""
    data = source if isinstance(source, bytes) else dedent(source).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / PATH).write_bytes(data)
        return extract_file(Path(tmp), PATH)
