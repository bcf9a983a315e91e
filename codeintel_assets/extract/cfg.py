"""CFG plane extractor: basic blocks (seed 000 algorithm A) and edges (algorithm B) per code unit.

Input is the stored bytecode tables (``py_bc_instructions``, ``py_bc_exception_table``), so the CFG
is a pure function of rows, whether they come from memory or from DuckDB.
"""

from bisect import bisect_right
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

import pyarrow as pa

from codeintel_assets.contracts import cfg as C
from codeintel_assets.extract.rows import to_table

INSTR_COLUMNS = ["path", "file_id", "code_unit_id", "instr_index", "offset", "start_offset", "end_offset",
                 "baseopname", "jump_target_offset", "instr_id", "label", "span_start_byte", "span_end_byte"]
EXC_COLUMNS = ["path", "code_unit_id", "exc_entry_index", "start_offset", "end_offset", "target_offset", "depth", "lasti"]

RETURN_OR_RAISE = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"})
YIELDS = frozenset({"YIELD_VALUE"})
# (jump edge kind, fallthrough edge kind, rule) keyed by baseopname (seed B2 polarity mapping).
POLARITY = {
    "POP_JUMP_IF_TRUE": ("true", "false", "jump_if_true"),
    "POP_JUMP_IF_FALSE": ("false", "true", "jump_if_false"),
    "POP_JUMP_IF_NONE": ("true", "false", "jump_if_none"),
    "POP_JUMP_IF_NOT_NONE": ("true", "false", "jump_if_not_none"),
    "FOR_ITER": ("false", "true", "for_iter"),  # jump = iterator exhausted, fallthrough = next item
    "SEND": ("false", "true", "send"),  # jump = sub-iterator returned, fallthrough = it yielded
}


@dataclass(slots=True)  # not frozen: built once per stored instruction, frozen __init__ is ~2x slower
class Instr:
    instr_index: int
    offset: int
    start_offset: int
    end_offset: int
    baseopname: str
    jump_target_offset: int | None
    instr_id: str
    label: str | None
    span_start_byte: int | None
    span_end_byte: int | None


@dataclass(frozen=True, slots=True)
class ExcEntry:
    exc_entry_index: int
    start_offset: int
    end_offset: int
    target_offset: int
    depth: int
    lasti: bool


@dataclass(frozen=True, slots=True)
class Block:
    block_id: str
    block_index: int
    start_off: int
    end_off: int
    byte_start: int
    byte_end: int
    first: int  # index into the code unit's instruction list
    last: int


@dataclass(frozen=True, slots=True)
class Edge:
    src: int  # block index
    dst: int
    kind: str
    cond_instr_id: str | None = None
    polarity_rule: str | None = None
    exc: ExcEntry | None = None
    innermost: bool | None = None


def is_uncond_jump(op: str) -> bool:
    return op.startswith("JUMP") and "IF" not in op


def ends_block(ins: Instr) -> bool:
    """Seed A3: branches, jumps, returns/raises and yields end a block."""
    return ins.jump_target_offset is not None or ins.baseopname in RETURN_OR_RAISE or ins.baseopname in YIELDS


def build_blocks(code_unit_id: str, instrs: list[Instr], exc: list[ExcEntry]) -> list[Block]:
    """Seed A4-A6: boundary set (entry, jump targets, exception boundaries, after terminators), snapped."""
    if not instrs:
        return []
    offsets = [i.offset for i in instrs]
    boundaries = {offsets[0]}
    for i in instrs:
        if i.jump_target_offset is not None:
            boundaries.add(i.jump_target_offset)
    for e in exc:
        boundaries.update((e.start_offset, e.end_offset, e.target_offset))
    for k, i in enumerate(instrs[:-1]):
        if ends_block(i):
            boundaries.add(instrs[k + 1].offset)
    starts = sorted({offsets[j] for b in boundaries if (j := _lower_bound(offsets, b)) < len(offsets)})
    blocks = []
    for bi, s in enumerate(starts):
        first = _lower_bound(offsets, s)
        t = starts[bi + 1] if bi + 1 < len(starts) else instrs[-1].end_offset
        last = _lower_bound(offsets, t) - 1
        blocks.append(Block(f"{code_unit_id}:B:{s}", bi, s, t, instrs[first].start_offset, instrs[last].end_offset,
                            first, last))
    return blocks


def _lower_bound(offsets: list[int], b: int) -> int:
    lo, hi = 0, len(offsets)
    while lo < hi:
        mid = (lo + hi) // 2
        if offsets[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return lo


def block_for_offset(blocks: list[Block], starts: list[int], off: int) -> Block | None:
    """Seed B1: the block whose [start_off, end_off) contains ``off``."""
    k = bisect_right(starts, off) - 1
    if k < 0:
        return None
    b = blocks[k]
    return b if b.start_off <= off < b.end_off else None


def emit_normal_edges(blocks: list[Block], instrs: list[Instr]) -> list[Edge]:
    """Seed B2: next / jump / true-false edges from each block's last instruction."""
    starts = [b.start_off for b in blocks]
    out = []
    for k, b in enumerate(blocks):
        t = instrs[b.last]
        fall = blocks[k + 1] if k + 1 < len(blocks) else None
        op = t.baseopname
        if op in RETURN_OR_RAISE:
            continue
        if t.jump_target_offset is not None:
            target = block_for_offset(blocks, starts, t.jump_target_offset)
            if is_uncond_jump(op):
                if target is not None:
                    out.append(Edge(k, target.block_index, "jump", t.instr_id))
                continue
            jump_kind, fall_kind, rule = POLARITY.get(op, ("jump", "next", "unknown"))
            if target is not None:
                out.append(Edge(k, target.block_index, jump_kind, t.instr_id, rule))
            if fall is not None:
                out.append(Edge(k, fall.block_index, fall_kind, t.instr_id, rule))
            continue
        if fall is not None:
            out.append(Edge(k, fall.block_index, "next"))
    return out


def project_exception_edges(blocks: list[Block], exc: list[ExcEntry]) -> list[Edge]:
    """Seed B3: every block intersecting [start, end) -> handler, with depth/lasti; innermost flagged."""
    starts = [b.start_off for b in blocks]
    per_block: dict[int, list[ExcEntry]] = {}
    for e in exc:
        k = max(bisect_right(starts, e.start_offset) - 1, 0)
        while k < len(blocks) and blocks[k].start_off < e.end_offset:
            b = blocks[k]
            if b.end_off > e.start_offset:
                per_block.setdefault(k, []).append(e)
            k += 1
    out = []
    for k in sorted(per_block):
        entries = per_block[k]
        smallest = min(e.end_offset - e.start_offset for e in entries)
        for e in entries:
            handler = block_for_offset(blocks, starts, e.target_offset)
            if handler is None:
                continue
            out.append(Edge(k, handler.block_index, "exc", None, None, e, e.end_offset - e.start_offset == smallest))
    return out


def loop_headers(n_blocks: int, edges: list[Edge]) -> set[int]:
    """Targets of back edges (edges into a block still on the DFS stack from the entry, over normal and
    exception edges). A backward *jump* is not enough: 3.13 places handler code after the code it
    returns to (an except clause jumps back to the finally body, CLEANUP_THROW back to END_SEND)."""
    succ: dict[int, list[int]] = {}
    for e in edges:
        succ.setdefault(e.src, []).append(e.dst)
    heads: set[int] = set()
    if not n_blocks:
        return heads
    state = {0: 1}  # 1 = on the stack, 2 = finished
    stack = [(0, iter(succ.get(0, ())))]
    while stack:
        node, it = stack[-1]
        for d in it:
            s = state.get(d)
            if s == 1:
                heads.add(d)
            elif s is None:
                state[d] = 1
                stack.append((d, iter(succ.get(d, ()))))
                break
        else:
            state[node] = 2
            stack.pop()
    return heads


def reachable_blocks(n_blocks: int, edges: list[Edge]) -> set[int]:
    succ: dict[int, list[int]] = {}
    for e in edges:
        succ.setdefault(e.src, []).append(e.dst)
    seen = {0} if n_blocks else set()
    stack = [0] if n_blocks else []
    while stack:
        for d in succ.get(stack.pop(), ()):
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return seen


@dataclass(frozen=True)
class CfgFacts:
    blocks: pa.Table
    edges: pa.Table


def cfg_for_code_unit(code_unit_id: str, instrs: list[Instr], exc: list[ExcEntry]):
    """-> (blocks, edges) for one code unit: algorithm A then B2 + B3."""
    blocks = build_blocks(code_unit_id, instrs, exc)
    edges = emit_normal_edges(blocks, instrs) + project_exception_edges(blocks, exc)
    return blocks, edges


def _block_rows(path, fid, cu, blocks, edges, instrs, exc) -> list[tuple]:
    reach = reachable_blocks(len(blocks), edges)
    handler_offs = {e.target_offset for e in exc}
    loop_heads = loop_headers(len(blocks), edges)
    preds: dict[int, int] = {}
    for e in edges:
        preds[e.dst] = preds.get(e.dst, 0) + 1
    rows = []
    for b in blocks:
        last = instrs[b.last]
        is_entry = b.block_index == 0
        is_handler = b.start_off in handler_offs
        is_loop = b.block_index in loop_heads
        is_exit = last.baseopname in RETURN_OR_RAISE
        if is_entry:
            kind = "entry"
        elif is_handler:
            kind = "handler"
        elif is_loop:
            kind = "loop_header"
        elif is_exit:
            kind = "exit"
        elif preds.get(b.block_index, 0) >= 2:
            kind = "merge"
        else:
            kind = "normal"
        a_start = a_end = None
        for i in instrs[b.first:b.last + 1]:
            if i.span_start_byte is not None:
                a_start, a_end = i.span_start_byte, i.span_end_byte
                break
        rows.append((fid, cu, b.block_id, b.block_index, b.start_off, b.end_off, instrs[b.first].label,
                     b.byte_start, b.byte_end, instrs[b.first].instr_index, last.instr_index, b.last - b.first + 1,
                     kind, is_entry, is_exit, is_handler, is_loop, b.block_index not in reach, last.baseopname,
                     a_start, a_end))
    return rows


def _edge_rows(fid, cu, blocks, edges) -> list[tuple]:
    rows = []
    for e in edges:
        s, d = blocks[e.src], blocks[e.dst]
        if e.exc is not None:
            x = e.exc
            rows.append((fid, cu, f"{cu}:E:{s.start_off}:{d.start_off}:exc:{x.exc_entry_index}", s.block_id,
                         d.block_id, "exc", None, None, x.exc_entry_index, x.depth, x.lasti, e.innermost))
        else:
            rows.append((fid, cu, f"{cu}:E:{s.start_off}:{d.start_off}:{e.kind}", s.block_id, d.block_id, e.kind,
                         e.cond_instr_id, e.polarity_rule, None, None, None, None))
    return rows


def extract_cfg(instructions: pa.Table, exception_table: pa.Table,
                keep: dict[str, tuple[list[Block], list[Edge]]] | None = None) -> dict[str, CfgFacts]:
    """Stored bytecode rows (any number of files) -> per-path py_bc_blocks / py_bc_cfg_edges tables.

    ``keep``: filled with code_unit_id -> (blocks, edges), the graph later planes of the same pass read."""
    ins = instructions.select(INSTR_COLUMNS).sort_by([("path", "ascending"), ("code_unit_id", "ascending"),
                                                       ("instr_index", "ascending")])
    exc_by_cu: dict[str, list[ExcEntry]] = {}
    ex = exception_table.select(EXC_COLUMNS).sort_by([("code_unit_id", "ascending"), ("exc_entry_index", "ascending")])
    for cu, k, s, e, t, d, l in zip(*(ex.column(c).to_pylist() for c in EXC_COLUMNS[1:])):
        exc_by_cu.setdefault(cu, []).append(ExcEntry(k, s, e, t, d, l))
    rows_by_path: dict[str, tuple[list, list]] = {}
    rows = zip(*(ins.column(c).to_pylist() for c in INSTR_COLUMNS))
    for (path, fid, cu), group in groupby(rows, key=itemgetter(0, 1, 2)):
        instrs = [Instr(*r[3:]) for r in group]  # INSTR_COLUMNS[3:] is Instr's field order
        exc = exc_by_cu.get(cu, [])
        blocks, edges = cfg_for_code_unit(cu, instrs, exc)
        if keep is not None:
            keep[cu] = (blocks, edges)
        brows, erows = rows_by_path.setdefault(path, ([], []))
        brows.extend(_block_rows(path, fid, cu, blocks, edges, instrs, exc))
        erows.extend(_edge_rows(fid, cu, blocks, edges))
    return {p: CfgFacts(to_table(C.PY_BC_BLOCKS, b, p), to_table(C.PY_BC_CFG_EDGES, e, p))
            for p, (b, e) in rows_by_path.items()}


def extract_cfg_file(path: str, fid: str, instructions: pa.Table, exception_table: pa.Table,
                     run_meta: pa.Table, keep: dict | None = None) -> dict[str, pa.Table]:
    """One file's py_bc_blocks / py_bc_cfg_edges and its py_bc_cfg_files status row, from the bytecode
    plane's tables of the same pass (in memory)."""
    meta = run_meta.to_pylist()
    compiled = bool(meta) and bool(meta[0]["ok"])
    if not compiled:
        why = meta[0]["error_msg"] if meta else "no bytecode status row"
        status = (fid, False, "upstream", "BytecodeUnavailable", f"no bytecode for this file: {why}", 0, 0, 0)
        return {"py_bc_blocks": to_table(C.PY_BC_BLOCKS, [], path), "py_bc_cfg_edges": to_table(C.PY_BC_CFG_EDGES, [], path),
                "py_bc_cfg_files": to_table(C.PY_BC_CFG_FILES, [status], path)}
    facts = extract_cfg(instructions, exception_table, keep).get(path)
    blocks = facts.blocks if facts else to_table(C.PY_BC_BLOCKS, [], path)
    edges = facts.edges if facts else to_table(C.PY_BC_CFG_EDGES, [], path)
    n_units = len(set(instructions.column("code_unit_id").to_pylist()))
    status = (fid, True, None, None, None, n_units, blocks.num_rows, edges.num_rows)
    return {"py_bc_blocks": blocks, "py_bc_cfg_edges": edges, "py_bc_cfg_files": to_table(C.PY_BC_CFG_FILES, [status], path)}
