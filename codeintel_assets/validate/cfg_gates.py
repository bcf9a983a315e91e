"""Gates on the CFG plane: entry/exit, reachability, exception edges, stack depth (seed 000 §7.2-7.3)."""

import dis
from collections import defaultdict

import pyarrow as pa

from codeintel_assets.validate.base import Finding, GateResult, result


def _rows(t: pa.Table, cols: list[str]):
    return zip(*(t.column(c).to_pylist() for c in cols))


def cfg_entry_exit(code_units: pa.Table, blocks: pa.Table) -> GateResult:
    """Exactly one entry block per code unit, starting at its first instruction; at least one exit,
    unless the code unit diverges (a loop with no way out: CPython emits no RETURN after ``while True``)."""
    entries, exits, loops, first = defaultdict(int), defaultdict(int), defaultdict(int), {}
    for cu, is_entry, is_exit, is_loop, start, idx in _rows(
            blocks, ["code_unit_id", "is_entry", "is_exit", "is_loop_header", "start_offset", "block_index"]):
        entries[cu] += bool(is_entry)
        exits[cu] += bool(is_exit)
        loops[cu] += bool(is_loop)
        if is_entry:
            first[cu] = (start, idx)
    findings = []
    divergent = 0
    for path, cu in _rows(code_units, ["path", "code_unit_id"]):
        if entries[cu] != 1:
            findings.append(Finding(path, cu, None, f"{entries[cu]} entry blocks (want exactly 1)"))
        elif first[cu][1] != 0:
            findings.append(Finding(path, cu, f"block {first[cu][1]}", "entry block is not the first block"))
        if exits[cu] < 1:
            if loops[cu]:
                divergent += 1
            else:
                findings.append(Finding(path, cu, None, "no exit block (no RETURN/RAISE/RERAISE) and no loop"))
    return result("cfg_entry_exit", "py_bc_blocks", findings, {"code_units": code_units.num_rows,
                  "blocks": blocks.num_rows, "divergent_code_units": divergent},
                  description="one entry block per code unit; at least one exit unless it only loops")


def cfg_reachability(blocks: pa.Table, edges: pa.Table) -> GateResult:
    """Every block reachable from its entry through normal or exception edges, or flagged dead."""
    succ = defaultdict(list)
    for s, d in _rows(edges, ["src_block_id", "dst_block_id"]):
        succ[s].append(d)
    by_cu = defaultdict(list)
    for row in _rows(blocks, ["path", "code_unit_id", "block_id", "is_entry", "is_dead"]):
        by_cu[row[1]].append(row)
    findings = []
    dead = 0
    for cu, rows in by_cu.items():
        seen = {r[2] for r in rows if r[3]}
        stack = list(seen)
        while stack:
            for d in succ.get(stack.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        for path, _, bid, _, is_dead in rows:
            dead += bool(is_dead)
            if bid not in seen and not is_dead:
                findings.append(Finding(path, cu, bid.rsplit(":", 2)[-2] + ":" + bid.rsplit(":", 1)[-1],
                                        "block unreachable from entry but not flagged dead"))
            elif bid in seen and is_dead:
                findings.append(Finding(path, cu, "block " + bid.rsplit(":", 1)[-1], "block flagged dead but reachable"))
    return result("cfg_reachability", "py_bc_blocks", findings, {"blocks": blocks.num_rows, "dead_blocks": dead},
                  description="every block reachable from entry (normal or exc edges) or flagged dead")


def exception_edges(exception_table: pa.Table, blocks: pa.Table, edges: pa.Table) -> GateResult:
    """Every exception target is a block start and has an incoming ``exc`` edge for its entry."""
    starts = {(cu, s): bid for cu, s, bid in _rows(blocks, ["code_unit_id", "start_offset", "block_id"])}
    exc_in = set()
    for cu, d, k, kind in _rows(edges, ["code_unit_id", "dst_block_id", "exc_entry_index", "kind"]):
        if kind == "exc":
            exc_in.add((cu, d, k))
    findings = []
    for path, cu, k, target in _rows(exception_table, ["path", "code_unit_id", "exc_entry_index", "target_offset"]):
        bid = starts.get((cu, target))
        if bid is None:
            findings.append(Finding(path, cu, f"exc entry {k}", f"target offset {target} is not a block start"))
        elif (cu, bid, k) not in exc_in:
            findings.append(Finding(path, cu, f"exc entry {k}", f"handler block at {target} has no incoming exc edge"))
    return result("exception_edges", "py_bc_cfg_edges", findings, {"exception_entries": exception_table.num_rows},
                  description="every exception-table target is a block start reached by an exc edge")


def stack_depth(code_units: pa.Table, instructions: pa.Table, blocks: pa.Table, edges: pa.Table) -> GateResult:
    """Depth simulated with dis.stack_effect along the CFG: never < 0, never > co_stacksize, equal at joins.

    Exception edges enter the handler at ``depth + lasti + 1`` (the unwound stack, lasti, the exception).
    """
    stacksize = dict(_rows(code_units, ["code_unit_id", "stacksize"]))
    ins_by_cu = defaultdict(list)
    for row in _rows(instructions, ["code_unit_id", "instr_index", "opcode", "arg", "opname", "offset"]):
        ins_by_cu[row[0]].append(row[1:])
    blk_by_cu = defaultdict(list)
    for row in _rows(blocks, ["path", "code_unit_id", "block_id", "first_instr_index", "last_instr_index", "is_entry"]):
        blk_by_cu[row[1]].append(row)
    out_by_block = defaultdict(list)
    for s, d, kind, depth, lasti in _rows(edges, ["src_block_id", "dst_block_id", "kind", "depth", "lasti"]):
        out_by_block[s].append((d, kind, depth, lasti))
    findings: list[Finding] = []
    simulated = 0
    effects: dict[tuple, int] = {}  # (opcode, arg) -> dis.stack_effect(opcode, arg)
    for cu, brows in blk_by_cu.items():
        instrs = {row[0]: row for row in ins_by_cu.get(cu, ())}
        n_instrs = len(instrs)
        try:  # indices 0..n-1 (the extractor's rows): a block's range is present iff it lies inside
            dense = bool(instrs) and min(instrs) == 0 and max(instrs) == n_instrs - 1
        except TypeError:  # a null index
            dense = False
        limit = stacksize.get(cu)
        path = brows[0][0]
        by_id = {r[2]: r for r in brows}
        depth_in: dict[str, int] = {}
        work = []
        for r in brows:
            if r[5]:
                depth_in[r[2]] = 0
                work.append(r[2])
        while work:
            bid = work.pop()
            _, _, _, first, last, _ = by_id[bid]
            d = depth_in[bid]
            bad = False
            if dense and 0 <= first and last < n_instrs:
                missing = None
            else:
                missing = [i for i in range(first, last + 1) if i not in instrs]
            if missing:
                findings.append(Finding(path, cu, f"instr {missing[0]}", "instruction row missing; block not simulated"))
                continue
            for idx in range(first, last):
                _, op, arg, opname, off = instrs[idx]
                key = (op, arg)
                e = effects.get(key)
                if e is None:
                    e = effects[key] = dis.stack_effect(op, arg)
                d += e
                simulated += 1
                if d < 0 or (limit is not None and d > limit):
                    findings.append(Finding(path, cu, f"instr {idx} {opname} at offset {off}",
                                            f"stack depth {d} outside [0, co_stacksize={limit}]"))
                    bad = True
                    break
            if bad:
                continue
            _, op, arg, opname, off = instrs[last]
            simulated += 1
            for dst, kind, edepth, lasti in out_by_block.get(bid, ()):
                if kind == "exc":
                    nd = edepth + (1 if lasti else 0) + 1
                else:
                    nd = d + dis.stack_effect(op, arg, jump=kind not in ("next",) and _is_jump_edge(kind, instrs, last, by_id, dst))
                if nd < 0 or (limit is not None and nd > limit):
                    findings.append(Finding(path, cu, f"instr {last} {opname} at offset {off}",
                                            f"stack depth {nd} on {kind} edge outside [0, co_stacksize={limit}]"))
                    continue
                if dst in depth_in:
                    if depth_in[dst] != nd:
                        findings.append(Finding(path, cu, f"block at instr {by_id[dst][3]}",
                                                f"inconsistent depth at join: {depth_in[dst]} vs {nd} via {kind} edge"))
                else:
                    depth_in[dst] = nd
                    work.append(dst)
    return result("stack_depth", "py_bc_blocks", findings, {"code_units": len(blk_by_cu), "instructions_simulated": simulated},
                  description="simulated stack depth never negative, never above co_stacksize, equal at joins")


def _is_jump_edge(kind: str, instrs, last: int, by_id, dst: str) -> bool:
    """true/false edges: the one that goes to the jump target takes the jump effect."""
    if kind == "jump":
        return True
    # Conditional: the fallthrough successor starts right after the branch instruction.
    return by_id[dst][3] != last + 1
