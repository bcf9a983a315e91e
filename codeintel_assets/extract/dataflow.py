"""Dataflow plane extractor (seed 000 C4, D, §5.4, SYM-CPG-ALG-7): def/use events, the stack and memory
DFG, and reaching definitions, per code unit, from the same pass's instructions, CFG and bindings.

Per code unit:

1. **Events.** Every instruction through the classifier (``opclass.CLASSIFIER``, seed C3's fallback
   for an unlisted op). A slot event names its binding with the symtable plane's resolver
   (``resolve_binding(scope, name)``, SYM-CPG-ALG-7).
2. **Stack DFG.** An abstract stack of *sets of value ids* is simulated over the CFG to a fixpoint:
   each instruction pops its inputs (one edge from every producer of every popped value), pushes new
   values or passes inputs through (``GET_LEN``, ``LOAD_ATTR``'s self, ``SWAP``/``COPY`` move values
   without edges). Values arriving at a join from several predecessors are merged position by
   position, so a consumer gets one edge per producer. A handler starts with the stack truncated to
   its exception-table ``depth``, then ``lasti`` (if set) and the exception, as pseudo-producers.
3. **Reaching definitions.** Bit-vector dataflow over normal and exception edges. Definitions are
   the DEF events (stores, the comprehension's restoring store), the entry definitions (parameters,
   a parameter's cell, free variables) and, for NAME / GLOBAL slots, the value from outside the code
   unit. Kills: every DEF / KILL of the same slot (``DELETE_*``, ``LOAD_FAST_AND_CLEAR``,
   ``MAKE_CELL`` of a non-parameter) and an *unbound* marker that makes "maybe unbound" visible. An
   exception edge carries the union of the states before every instruction of its block (an
   exception can leave from any of them that can raise), not just the block's exit state: that is
   what makes the result sound for handlers. A cell or global that another code unit of the file writes gets an
   ``external`` definition at every use.
4. **Memory edges.** Attribute (and subscript) writes to later reads of the same attribute on values
   loaded from the same binding (CFG-reachable from the write); global writes to global reads in
   another code unit of the same module.

A code unit whose dataflow cannot be computed becomes a ``py_dfg_code_unit_failures`` row naming the
instruction; the other code units keep their facts.
"""

from collections import Counter
from dataclasses import dataclass, field
from types import CodeType

from heapq import heappop, heappush

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.contracts import dataflow as C
from codeintel_assets.contracts.common import SCHEMA_VERSION
from codeintel_assets.extract import opclass as O
from codeintel_assets.extract.rows import to_table

CO_VARARGS, CO_VARKEYWORDS = 0x04, 0x08
_VSHIFT = 10  # value id = instr_index << _VSHIFT | output (no instruction pushes 1024 values)
_SLOT_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "LOAD_DEREF",
                         "LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST_AND_CLEAR"})
# (owner input index, memory kind) of attribute / subscript ops, for memory edges
_OWNER = {"LOAD_ATTR": (0, "attr", "use"), "STORE_ATTR": (1, "attr", "def"), "DELETE_ATTR": (0, "attr", "kill"),
          "BINARY_SUBSCR": (0, "subscr", "use"), "STORE_SUBSCR": (1, "subscr", "def"),
          "DELETE_SUBSCR": (0, "subscr", "kill"), "BINARY_SLICE": (0, "subscr", "use"),
          "STORE_SLICE": (1, "subscr", "def")}
MAX_GLOBAL_EDGES_PER_BINDING = 1000
CLOSURE = "CLOSURE"  # LOAD_FAST of a cell slot (LOAD_CLOSURE): the cell object itself


class DataflowError(Exception):
    """A code unit whose dataflow cannot be computed; names the instruction."""

    def __init__(self, instr_index: int | None, msg: str):
        super().__init__(msg)
        self.instr_index = instr_index


@dataclass
class _Event:
    idx: int  # instruction index
    k: int  # event index within the instruction
    kind: str
    space: str | None
    name: str | None
    detail: str | None
    rule: str
    confidence: float
    binding: str | None = None
    resolution: str | None = None
    reach: str | None = None
    nreach: int | None = None


@dataclass
class _Unit:
    """One code unit's results, before they become rows."""

    cu: str
    events: list[_Event] = field(default_factory=list)
    stack_edges: set = field(default_factory=set)  # (src value, dst idx, dst input)
    reach_rows: list[tuple] = field(default_factory=list)
    stored: dict[int, tuple] = field(default_factory=dict)  # STORE_FAST index -> producers of the stored value
    modelled: list[bool] = field(default_factory=list)  # per instruction: stack shape from the classifier
    unmodelled: int = 0


class _Bindings:
    """resolve_binding with the dataflow's space rules, cached per (scope, space, name)."""

    def __init__(self, resolver, module_scope: str | None):
        self.r = resolver
        self.module_scope = module_scope
        self.cache: dict[tuple, tuple[str | None, str | None]] = {}

    def __call__(self, scope: str | None, space: str, name: str) -> tuple[str | None, str | None]:
        key = (scope, space, name)
        got = self.cache.get(key)
        if got is not None:
            return got
        r = self.r
        if r is None or scope is None or scope not in r.scopes:
            got = (None, "no_scope")
        elif name.startswith(".") and r.binding(f"{scope}:BIND:{name}") is None:
            got = (None, "compiler_temporary")  # e.g. the ".0" iterator of an inlined comprehension
        else:
            res = r.resolve_binding(scope, name)
            got = (res.binding_id, res.resolution)
            if space == O.GLOBAL and res.binding_id is not None and not res.binding_id.startswith(self.module_scope + ":BIND:"):
                # A class body's inlined comprehension reads past the class namespace (PEP 709).
                nested = r.resolve_as_nested(scope, name)
                got = (nested.binding_id, nested.resolution) if nested.binding_id else got
        self.cache[key] = got
        return got


def _slot_names(ins, n: int) -> list:
    v = ins.argval
    if n == 1:
        return [v]
    return list(v) if isinstance(v, tuple) else [v] * n


_BASE: dict[int, str] = {}  # opcode -> baseopname (the property recomputes it on every access)


def base_names(instrs) -> list[str]:
    base = _BASE
    out = []
    for ins in instrs:
        name = base.get(ins.opcode)
        if name is None:
            name = base[ins.opcode] = ins.baseopname
        out.append(name)
    return out


_QUIET = frozenset(n for n, c in O.CLASSIFIER.items() if not c.events) - {"COPY_FREE_VARS"}


def classify_unit(u, ops: list[str], scope: str | None, bind: _Bindings, fallback_hits: Counter) -> list[_Event]:
    """The def/use events of one code unit, in execution order."""
    code: CodeType = u.code
    params = set(code.co_varnames[:_n_params(code)])
    cells = set(code.co_cellvars) | set(code.co_freevars)
    out: list[_Event] = []
    instrs = u.instructions
    quiet = _QUIET
    for idx, base in enumerate(ops):
        if base in quiet:
            continue
        ins = instrs[idx]
        c = O.CLASSIFIER.get(base)
        rule = "classifier"
        if c is None:
            c = O.fallback(base)
            rule = "fallback"
            fallback_hits[base] += 1
        if not c.events:
            if base == "COPY_FREE_VARS":
                for k, name in enumerate(code.co_freevars[:ins.arg or 0]):
                    ev = _Event(idx, k, O.DEF_SLOT, O.DEREF, name, "free_init", rule, 1.0)
                    ev.binding, ev.resolution = bind(scope, O.DEREF, name)
                    out.append(ev)
            continue
        slot_events = [e for e in c.events if e[1] is not None]
        names = _slot_names(ins, len(slot_events)) if slot_events else []
        if base == "LOAD_FAST" and names[0] in cells:
            # LOAD_CLOSURE compiles to LOAD_FAST of the cell / free slot: it loads the cell object (to
            # build a closure), not the variable's value.
            ev = _Event(idx, 0, CLOSURE, O.DEREF, names[0], "cell_object", rule, 1.0)
            ev.binding, ev.resolution = bind(scope, O.DEREF, names[0])
            out.append(ev)
            continue
        si = 0
        for k, (kind, space) in enumerate(c.events):
            detail = None
            if space is not None:
                name = names[si]
                si += 1
                if base == "MAKE_CELL":
                    if name in params:
                        detail = "cell_init"
                    else:
                        kind, detail = O.KILL_SLOT, "empty_cell"
                elif base == "LOAD_FAST_AND_CLEAR":
                    detail = "save" if kind == O.USE_SLOT else "clear"
                elif base == "LOAD_GLOBAL" and (ins.arg or 0) & 1:
                    detail = "push_null"
                elif base.startswith("LOAD_FROM_DICT_OR_"):
                    detail = "dict_first"
                if not isinstance(name, str):
                    name = str(name)
            elif kind in (O.USE_ATTR, O.DEF_ATTR, O.KILL_ATTR):
                name = ins.argval if isinstance(ins.argval, str) else str(ins.argval)
                if base == "LOAD_ATTR" and (ins.arg or 0) & 1:
                    detail = "method"
                elif base == "LOAD_SUPER_ATTR":
                    detail = "super_method" if (ins.arg or 0) & 1 else "super"
                elif base == "IMPORT_FROM":
                    detail = "import_from"
            elif kind == O.IMPORT:
                name = ins.argval if isinstance(ins.argval, str) else str(ins.argval)
            elif kind == O.CALL:
                name = None
                detail = f"argc={ins.arg}" if base != "CALL_FUNCTION_EX" else f"kwargs={bool((ins.arg or 0) & 1)}"
            elif kind in (O.USE_SUBSCR, O.DEF_SUBSCR, O.KILL_SUBSCR):
                name = None
                detail = "slice" if "SLICE" in base else None
            else:
                name = None
            ev = _Event(idx, k, kind, space, name, detail, rule, c.confidence)
            if space is not None:
                ev.binding, ev.resolution = bind(scope, space, name)
            out.append(ev)
    return out


def _mark_restores(evs: list[_Event], ops: list[str], stored: dict[int, tuple]) -> None:
    """A STORE_FAST of the value its LOAD_FAST_AND_CLEAR saved (same name) restores the outer value after
    an inlined comprehension (PEP 709): detail ``restore`` (its definition's kind is ``restore``)."""
    saved = {e.idx: e.name for e in evs if e.detail == "save"}
    if not saved:
        return
    for e in evs:
        if e.kind == O.DEF_SLOT and ops[e.idx] == "STORE_FAST":
            vals = stored.get(e.idx, ())
            if vals and all(v >= 0 and saved.get(v >> _VSHIFT) == e.name for v in vals):
                e.detail = "restore"


def _n_params(code: CodeType) -> int:
    n = code.co_argcount + code.co_kwonlyargcount
    return n + bool(code.co_flags & CO_VARARGS) + bool(code.co_flags & CO_VARKEYWORDS)


# -- stack simulation -----------------------------------------------------------------------------

def _exc_value(target_off: int) -> int:
    return -(target_off * 4 + 1)


def _lasti_value(target_off: int) -> int:
    return -(target_off * 4 + 2)


def _vals(x) -> tuple:
    """A stack entry's producers: one value id (an int, the common case) or a frozenset of them."""
    return (x,) if type(x) is int else x


def _join(a, b):
    if a == b:
        return a
    sa, sb = _vals(a), _vals(b)
    u = frozenset(sa).union(sb)
    return u if len(u) > 1 else next(iter(u))


def simulate_stack(u, ops: list[str], blocks, edges, unit: _Unit) -> dict[int, tuple]:
    """Abstract stack over the CFG to a fixpoint; fills ``unit.stack_edges`` with (producer value id,
    consumer instruction index, input position; -1 = read without popping). A stack entry is the set
    of values that can be there (an int when there is one). States only grow, so the edges recorded
    while iterating are exactly those of the fixpoint. -> per attribute / subscript instruction, the
    producers of its owner operand (memory edges)."""
    instrs = u.instructions
    n = len(blocks)
    if not n:
        return {}
    succ_normal: list[list[int]] = [[] for _ in range(n)]
    exc_of: list[list] = [[] for _ in range(n)]
    for e in edges:
        if e.kind == "exc":
            exc_of[e.src].append((e.dst, e.exc))
        else:
            succ_normal[e.src].append(e.dst)
    shape = O.shape
    shapes = [shape(op, ins.opcode, ins.arg, False) for op, ins in zip(ops, instrs)]
    unit.modelled = [sh.modelled for sh in shapes]
    unit.unmodelled = unit.modelled.count(False)
    edges_out = unit.stack_edges
    add = edges_out.add
    state: list[list | None] = [None] * n
    state[0] = []
    work = [0]
    queued = {0}
    owners: dict[int, tuple] = {}
    owner_of = _OWNER
    stored = unit.stored

    def merge(dst: int, st: list, src_idx: int) -> None:
        cur = state[dst]
        if cur is None:
            state[dst] = list(st)
        else:
            if len(cur) != len(st):
                raise DataflowError(src_idx, f"stack depth {len(st)} flowing into block at offset "
                                             f"{blocks[dst].start_off} where another path has {len(cur)}")
            changed = False
            for k, x in enumerate(st):
                y = cur[k]
                if x != y:
                    j = _join(y, x)
                    if j != y:
                        cur[k] = j
                        changed = True
            if not changed:
                return
        if dst not in queued:
            queued.add(dst)
            heappush(work, dst)

    guard = 0
    limit = 50 * n + 1000
    while work:
        bi = heappop(work)
        queued.discard(bi)
        guard += 1
        if guard > limit:
            raise DataflowError(None, "stack simulation did not converge")
        b = blocks[bi]
        entry_state = state[bi]
        stack = list(entry_state)
        handlers = exc_of[bi]
        depth = max((x.depth for _, x in handlers), default=0)
        # The values a handler keeps (below its depth): the entry's, unless the block dips below it.
        below = entry_state[:depth]
        low = len(stack)
        for idx in range(b.first, b.last + 1):
            op = ops[idx]
            if low < depth:
                below = [_join(a, stack[k]) if k < len(stack) else a for k, a in enumerate(below)]
            if op == "COPY" or op == "SWAP":
                k = instrs[idx].arg
                if op == "COPY":
                    if k is None or k < 1 or k > len(stack):
                        raise DataflowError(idx, f"COPY {k} with {len(stack)} values on the stack")
                    stack.append(stack[-k])
                else:
                    if k is None or k < 2 or k > len(stack):
                        raise DataflowError(idx, f"SWAP {k} with {len(stack)} values on the stack")
                    stack[-1], stack[-k] = stack[-k], stack[-1]
                    if len(stack) - k < low:
                        low = len(stack) - k
                continue
            sh = shapes[idx]
            p = sh.pops
            if p:
                if p > len(stack):
                    raise DataflowError(idx, f"{instrs[idx].opname} pops {p} values, the stack holds {len(stack)}")
                inputs = stack[-p:]
                del stack[-p:]
                if len(stack) < low:
                    low = len(stack)
                for j, x in enumerate(inputs):
                    if type(x) is int:
                        add((x, idx, j))
                    else:
                        for v in x:
                            add((v, idx, j))
                own = owner_of.get(op)
                if own is not None and own[0] < p:
                    owners[idx] = _vals(inputs[own[0]])
                elif op == "STORE_FAST":
                    stored[idx] = _vals(inputs[0])
            else:
                inputs = ()
            if sh.peek:
                if sh.peek > len(stack):
                    raise DataflowError(idx, f"{instrs[idx].opname} reads {sh.peek} deep, the stack holds {len(stack)}")
                for v in _vals(stack[-sh.peek]):
                    add((v, idx, -1))
            outs = sh.outs
            if outs:
                base_v = idx << _VSHIFT
                if len(outs) == 1:
                    src = outs[0]
                    stack.append(inputs[src] if src >= 0 else base_v)
                else:
                    for k, src in enumerate(outs):
                        stack.append(inputs[src] if src >= 0 else base_v | k)
        for dst, x in handlers:
            if len(below) < x.depth:
                raise DataflowError(b.first, f"handler at offset {blocks[dst].start_off} keeps {x.depth} values, "
                                             f"the protected block starts with {len(below)}")
            hs = list(below[:x.depth])
            t = blocks[dst].start_off
            if x.lasti:
                hs.append(_lasti_value(t))
            hs.append(_exc_value(t))
            merge(dst, hs, b.last)
        for dst in succ_normal[bi]:
            merge(dst, stack, b.last)
    return owners


# -- reaching definitions -----------------------------------------------------------------------------

_UNDEF, _OUTSIDE = "unbound", "outside"


def reaching_definitions(u, ops: list[str], blocks, edges, events: list[_Event], scope_is_module: bool, written_elsewhere,
                         instr_ids: list[str], unit: _Unit) -> None:
    """Bit-vector reaching definitions over normal + exception edges; fills ``unit.reach_rows`` and each
    slot USE event's ``reach`` / ``nreach``."""
    code: CodeType = u.code
    n = len(blocks)
    slot_events = [e for e in events if e.space is not None and e.kind in (O.USE_SLOT, O.DEF_SLOT, O.KILL_SLOT)]
    if not slot_events:
        return
    # slot key: FAST / DEREF by name; NAME and GLOBAL are one namespace in module code
    def key(e):
        sp = e.space
        if scope_is_module and sp == O.NAME:
            sp = O.GLOBAL
        return (sp, e.name)

    defs: list[tuple] = []  # def number -> (kind, event or None, slot key)
    slot_mask: dict[tuple, int] = {}

    def new_def(kind, ev, k):
        d = len(defs)
        defs.append((kind, ev, k))
        slot_mask[k] = slot_mask.get(k, 0) | (1 << d)
        return d

    entry = 0
    keys = {key(e) for e in slot_events}
    params = code.co_varnames[:_n_params(code)]
    pset = set(params)
    free = set(code.co_freevars)
    for k in sorted(keys, key=lambda t: (t[0], str(t[1]))):
        sp, name = k
        if sp == O.FAST:
            d = new_def("param" if name in pset else _UNDEF, None, k)
        elif sp == O.DEREF:
            if name in free:
                d = new_def("free_init", None, k)
            else:
                d = new_def(_UNDEF, None, k)  # a cell starts empty (MAKE_CELL of a parameter defines it)
        else:
            d = new_def(_OUTSIDE, None, k)
        entry |= 1 << d
    # per-event gen / kill
    ev_def: dict[int, int] = {}  # id(event) -> def number
    undef_of: dict[tuple, int] = {}
    for e in slot_events:
        if e.kind == O.DEF_SLOT and e.detail != "free_init":
            kind = e.detail if e.detail in ("cell_init", "restore") else "store"
            ev_def[id(e)] = new_def(kind, e, key(e))
        elif e.kind == O.KILL_SLOT:
            k = key(e)
            if k not in undef_of:
                undef_of[k] = new_def(_UNDEF, e, k)
    by_instr: dict[int, list[_Event]] = {}
    for e in slot_events:
        by_instr.setdefault(e.idx, []).append(e)

    def step(st: int, evs: list[_Event], record: bool) -> int:
        for e in evs:
            k = key(e)
            if e.kind == O.USE_SLOT:
                if record:
                    _record_use(e, st & slot_mask[k])
            elif e.kind == O.DEF_SLOT:
                if e.detail == "free_init":
                    continue
                st = (st & ~slot_mask[k]) | (1 << ev_def[id(e)])
            elif e.kind == O.KILL_SLOT:
                st = (st & ~slot_mask[k]) | (1 << undef_of[k])
        return st

    rows = unit.reach_rows
    cu = unit.cu

    def _record_use(e: _Event, bits: int) -> None:
        undef = outside = False
        count = 0
        k = key(e)
        while bits:
            low = bits & -bits
            d = low.bit_length() - 1
            bits ^= low
            kind, dev, _ = defs[d]
            if kind == _UNDEF:
                undef = True
                continue
            if kind == _OUTSIDE:
                outside = True
                continue
            count += 1
            if dev is None or kind == "cell_init":  # entry definitions carry no instruction
                rows.append((cu, instr_ids[e.idx], e.idx, e.k, None, None, None, kind, e.name, e.space, e.binding))
            else:
                rows.append((cu, instr_ids[e.idx], e.idx, e.k, instr_ids[dev.idx], dev.idx, dev.k, kind, e.name,
                             e.space, e.binding))
        ext = k[0] != O.FAST and e.binding is not None and written_elsewhere(e.binding)
        if ext:
            count += 1
            rows.append((cu, instr_ids[e.idx], e.idx, e.k, None, None, None, "external", e.name, e.space, e.binding))
        e.nreach = count
        if count == 0:
            e.reach = "global" if outside else "unbound"
        elif undef:
            e.reach = "maybe_unbound"
        elif count == 1 and ext:
            e.reach = "external"
        else:
            e.reach = "defined"

    # block transfer: (events, raise points) in order; an exception edge carries the union of the states
    # before every instruction of the block that can raise (opclass.NO_RAISE lists those that cannot).
    succ_normal: list[list[int]] = [[] for _ in range(n)]
    succ_exc: list[list[int]] = [[] for _ in range(n)]
    for ed in edges:
        (succ_exc if ed.kind == "exc" else succ_normal)[ed.src].append(ed.dst)
    no_raise = O.NO_RAISE
    block_events: list[list[_Event]] = []
    block_steps: list[list] = []  # None = a raise point, else a slot event
    for bi, b in enumerate(blocks):
        evs, steps = [], []
        for idx in range(b.first, b.last + 1):
            if succ_exc[bi] and ops[idx] not in no_raise and (not steps or steps[-1] is not None):
                steps.append(None)
            got = by_instr.get(idx)
            if got:
                evs.extend(got)
                steps.extend(got)
        block_events.append(evs)
        block_steps.append(steps)

    def exc_state(st: int, steps: list) -> int:
        acc = 0
        for e in steps:
            if e is None:
                acc |= st
            elif e.kind == O.DEF_SLOT:
                if e.detail != "free_init":
                    st = (st & ~slot_mask[key(e)]) | (1 << ev_def[id(e)])
            elif e.kind == O.KILL_SLOT:
                k = key(e)
                st = (st & ~slot_mask[k]) | (1 << undef_of[k])
        return acc

    IN = [0] * n
    seen = [False] * n
    IN[0] = entry
    seen[0] = True
    work = [0]
    queued = {0}
    while work:
        bi = heappop(work)
        queued.discard(bi)
        st = IN[bi]
        out = step(st, block_events[bi], False)
        targets = [(d, out) for d in succ_normal[bi]]
        if succ_exc[bi]:
            exc_out = exc_state(st, block_steps[bi])
            targets += [(d, exc_out) for d in succ_exc[bi]]
        for dst, val in targets:
            if not seen[dst] or (val | IN[dst]) != IN[dst]:
                IN[dst] |= val
                seen[dst] = True
                if dst not in queued:
                    queued.add(dst)
                    heappush(work, dst)
    for bi in range(n):
        if seen[bi]:
            step(IN[bi], block_events[bi], True)
        else:
            for e in block_events[bi]:
                if e.kind == O.USE_SLOT:
                    e.reach, e.nreach = "unreachable", 0


# -- the file ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataflowFacts:
    tables: dict[str, pa.Table]


def _empty() -> dict[str, list]:
    return {tc.name: [] for tc in (C.PY_BC_DEFUSE_EVENTS, C.PY_DFG_EDGES, C.PY_REACHING_DEFS, C.PY_DFG_CODE_UNIT_FAILURES)}


def extract_dataflow(path: str, fid: str, units: list, instructions: pa.Table, code_units: pa.Table,
                     graphs: dict, resolver) -> dict[str, pa.Table]:
    """One file's dataflow tables from the same pass's CodeUnit objects, instruction ids, CFG graphs
    (code_unit_id -> (blocks, edges)) and symtable resolver."""
    ids_col = instructions.column("instr_id").to_pylist()
    ids_by_cu: dict[str, list[str]] = {}
    offset_of: dict[str, int] = {}  # code unit -> position of its first instruction in the file's rows
    pos = 0
    for u in units:
        m = len(u.instructions)
        ids_by_cu[u.code_unit_id] = ids_col[pos:pos + m]
        offset_of[u.code_unit_id] = pos
        pos += m
    scope_of = dict(zip(code_units.column("code_unit_id").to_pylist(), code_units.column("scope_id").to_pylist()))
    module_scope = scope_of.get(units[0].code_unit_id) if units else None
    bind = _Bindings(resolver, module_scope or "")
    fallback_hits: Counter = Counter()
    # events first (every code unit): which bindings are written by which code units
    per_unit: list[tuple] = []
    writers: dict[str, set[str]] = {}  # binding of a cell / global / class name -> code units writing it
    for u in units:
        scope = scope_of.get(u.code_unit_id)
        ops = base_names(u.instructions)
        evs = classify_unit(u, ops, scope, bind, fallback_hits)
        is_module = u.qualpath == "<module>"
        for e in evs:
            if (e.kind in (O.DEF_SLOT, O.KILL_SLOT) and e.space != O.FAST and e.binding is not None
                    and e.detail not in ("free_init", "cell_init", "empty_cell")):
                writers.setdefault(e.binding, set()).add(u.code_unit_id)
        per_unit.append((u, ops, scope, evs, is_module))
    rows = _empty()
    failures = []
    stack_edge_count = 0
    unmodelled = 0
    use_count = 0
    ev_rows, edge_rows, reach_rows = rows["py_bc_defuse_events"], rows["py_dfg_edges"], rows["py_reaching_defs"]
    global_sites: list[tuple] = []  # (kind def|use, binding, code unit, instr idx, instr id)
    stack = _StackEdges(len(ids_col))
    for u, ops, scope, evs, is_module in per_unit:
        cu = u.code_unit_id
        ids = ids_by_cu[cu]
        unit = _Unit(cu, evs)
        try:
            blocks, cfg_edges = graphs.get(cu, ([], []))

            def elsewhere(binding, _cu=cu):
                return any(c != _cu for c in writers.get(binding, ()))
            owners = simulate_stack(u, ops, blocks, cfg_edges, unit)
            _mark_restores(evs, ops, unit.stored)
            reaching_definitions(u, ops, blocks, cfg_edges, evs, is_module, elsewhere, ids, unit)
        except DataflowError as exc:
            k = exc.instr_index
            failures.append((fid, cu, None if k is None else ids[k], k, "DataflowError", str(exc)[:500]))
            continue
        except RecursionError as exc:
            failures.append((fid, cu, None, None, type(exc).__name__, str(exc)[:500]))
            continue
        unmodelled += unit.unmodelled
        for e in evs:
            if e.kind == O.USE_SLOT:
                use_count += 1
            ev_rows.append((fid, cu, ids[e.idx], e.idx, e.k, ops[e.idx], e.kind, e.space, e.name,
                            e.detail, e.binding, e.resolution, e.confidence, e.rule, e.reach, e.nreach))
            if e.space in (O.GLOBAL, O.NAME) and e.binding is not None and (e.space == O.GLOBAL or is_module):
                global_sites.append((e.kind, e.binding, cu, e.idx, ids[e.idx], e.name))
        reach_rows.extend((fid,) + r for r in unit.reach_rows)
        stack.add_unit(cu, offset_of[cu], unit)
        stack_edge_count += len(unit.stack_edges)
        edge_rows.extend(_memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners, ids))
    edge_rows.extend(_global_edges(fid, global_sites))
    mem = sum(1 for r in edge_rows if r[3] == "memory")
    rows["py_dfg_code_unit_failures"] = failures
    out = {name: to_table(C.__dict__[name.upper()], r, path) for name, r in rows.items()}
    edges_t = pa.concat_tables([stack.table(path, fid, instructions.column("instr_id")), out["py_dfg_edges"]])
    out["py_dfg_edges"] = _with_edge_ids(edges_t)
    ok = not failures
    msg = None if ok else (f"{len(failures)} of {len(units)} code units failed; first: {failures[0][1]} at "
                           f"{failures[0][2] or 'no instruction'}: {failures[0][5]}")
    status = (fid, ok, None if ok else "code_unit", None if ok else "DataflowError", msg, len(units), len(failures),
              len(ev_rows), stack_edge_count, mem, len(reach_rows), use_count, unmodelled,
              [f"{k}={v}" for k, v in sorted(fallback_hits.items())])
    out["py_dfg_files"] = to_table(C.PY_DFG_FILES, [status], path)
    return out


class _StackEdges:
    """Stack edges of a file, column-wise: millions of them, so their rows are built in Arrow."""

    def __init__(self, n_instr: int):
        self.v: list[int] = []  # producer value id (instr << _VSHIFT | output; negative: handler values)
        self.dst: list[int] = []  # consumer, file-wide instruction position
        self.inp: list[int] = []
        self.off: list[int] = []  # the code unit's first position (file-wide)
        self.cu: list[str] = []
        self.modelled: list[bool] = [True] * n_instr

    def add_unit(self, cu: str, off: int, unit: _Unit) -> None:
        es = sorted(unit.stack_edges, key=lambda t: (t[1], t[2], t[0]))
        m = len(es)
        if not m:
            return
        v, dst, inp = zip(*es)
        self.v.extend(v)
        self.dst.extend(d + off for d in dst)
        self.inp.extend(inp)
        self.off.extend([off] * m)
        self.cu.extend([cu] * m)
        if unit.unmodelled:
            for k, ok in enumerate(unit.modelled):
                self.modelled[off + k] = ok

    def table(self, path: str, fid: str, instr_ids) -> pa.Table:
        tc = C.PY_DFG_EDGES
        m = len(self.v)
        if not m:
            return to_table(tc, [], path)
        ids = instr_ids.combine_chunks() if isinstance(instr_ids, pa.ChunkedArray) else instr_ids
        v = pa.array(self.v, pa.int64())
        pseudo = pc.less(v, 0)
        src_local = pc.if_else(pseudo, None, pc.shift_right(v, _VSHIFT))
        off = pa.array(self.off, pa.int64())
        src_global = pc.add(src_local, off)
        dst_global = pa.array(self.dst, pa.int64())
        modelled = pa.array(self.modelled, pa.bool_()).take(pc.fill_null(src_global, 0))
        handler_kind = pc.if_else(pc.equal(pc.bit_wise_and(pc.negate(v), 3), 1), "exception", "lasti")
        src_kind = pc.if_else(pseudo, handler_kind, pc.if_else(modelled, "instr", "unmodelled"))
        names = [None] * m
        if pseudo.true_count:
            for k, x in enumerate(self.v):
                if x < 0:
                    names[k] = f"handler@{(-x) // 4}"
        cols = {
            "schema_version": pa.array([SCHEMA_VERSION] * m, pa.int16()),
            "path": pa.array([path] * m, pa.string()),
            "file_id": pa.array([fid] * m, pa.string()),
            "code_unit_id": pa.array(self.cu, pa.string()),
            "edge_id": pa.nulls(m, pa.string()),
            "kind": pa.array(["stack"] * m, pa.string()),
            "src_code_unit_id": pa.array(self.cu, pa.string()),
            "src_instr_id": ids.take(src_global),
            "src_instr_index": pc.cast(src_local, pa.int32()),
            "src_output": pc.cast(pc.if_else(pseudo, None, pc.bit_wise_and(v, (1 << _VSHIFT) - 1)), pa.int16()),
            "src_kind": src_kind,
            "dst_instr_id": ids.take(dst_global),
            "dst_instr_index": pc.cast(pc.subtract(dst_global, off), pa.int32()),
            "dst_input": pa.array(self.inp, pa.int16()),
            "name": pa.array(names, pa.string()),
            "rule": pc.if_else(pseudo, "handler_entry", "stack"),
            "confidence": pa.array([1.0] * m, pa.float32()),
        }
        return pa.Table.from_arrays([cols[f.name].cast(f.type) for f in tc.schema], schema=tc.schema)


def _with_edge_ids(t: pa.Table) -> pa.Table:
    """edge_id = code_unit_id:DF:kind:src:dst:input (vectorised: millions of stack edges)."""
    if not t.num_rows:
        return t
    src = pc.coalesce(t.column("src_instr_id"), t.column("name"))
    parts = [t.column("code_unit_id"), pa.scalar("DF"), t.column("kind"), src,
             pc.cast(t.column("dst_instr_index"), pa.string()), pc.cast(t.column("dst_input"), pa.string()),
             pc.cast(pc.coalesce(t.column("src_output"), pa.scalar(0, pa.int16())), pa.string())]
    mem_dst = pc.if_else(pc.equal(t.column("kind"), "memory"), t.column("dst_instr_id"), pa.scalar("", pa.string()))
    ids = pc.binary_join_element_wise(*parts, mem_dst, ":")
    k = t.schema.get_field_index("edge_id")
    return t.set_column(k, t.schema.field(k), ids)


def _memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners: dict[int, tuple], ids) -> list[tuple]:
    """Attribute / subscript writes -> later reads of the same name on values from the same binding."""
    if not owners:
        return []
    load_binding: dict[int, str | None] = {}  # value id of a slot load -> binding
    uses_by_instr: dict[int, list[_Event]] = {}
    for e in evs:
        if e.kind == O.USE_SLOT:
            uses_by_instr.setdefault(e.idx, []).append(e)
    for idx, es in uses_by_instr.items():
        base = ops[idx]
        if base not in _SLOT_LOADS:
            continue
        if base == "LOAD_FAST_LOAD_FAST":
            for k, e in enumerate(es[:2]):
                load_binding[idx << _VSHIFT | k] = e.binding
        else:
            load_binding[idx << _VSHIFT] = es[-1].binding
    # Per memory op: (kind, role, name, owner binding)
    sites: dict[tuple, list[tuple[str, int]]] = {}
    attr_name = {e.idx: e.name for e in evs if e.kind in (O.USE_ATTR, O.DEF_ATTR, O.KILL_ATTR)}
    for idx, vals in owners.items():
        base = ops[idx]
        kind, role = _OWNER[base][1], _OWNER[base][2]
        bs = {load_binding.get(v) for v in vals}
        if len(bs) != 1 or None in bs:
            continue
        b = bs.pop()
        name = attr_name.get(idx) if kind == "attr" else None
        if kind == "attr" and name is None:
            continue
        sites.setdefault((kind, name, b), []).append((role, idx))
    if not sites:
        return []
    block_of = [0] * len(ops)
    for bl in blocks:
        for i in range(bl.first, bl.last + 1):
            block_of[i] = bl.block_index
    succ: dict[int, list[int]] = {}
    for e in cfg_edges:
        succ.setdefault(e.src, []).append(e.dst)
    reach_cache: dict[int, set[int]] = {}

    def reach(bi: int) -> set[int]:  # blocks reachable from bi's successors (bi itself only via a cycle)
        got = reach_cache.get(bi)
        if got is None:
            got = set()
            stack = list(succ.get(bi, ()))
            while stack:
                x = stack.pop()
                if x not in got:
                    got.add(x)
                    stack.extend(succ.get(x, ()))
            reach_cache[bi] = got
        return got

    out = []
    for (kind, name, b), lst in sites.items():
        writes = [i for r, i in lst if r == "def"]
        reads = [i for r, i in lst if r == "use"]
        if not writes or not reads:
            continue
        for w in writes:
            wb = block_of[w]
            rb = reach(wb)
            for r in reads:
                if (block_of[r] == wb and r > w) or block_of[r] in rb:
                    rule = f"{kind}_same_binding"
                    out.append((fid, cu, None, "memory", cu, ids[w], w, None, "instr", ids[r], r, None,
                                name, rule, 0.6 if kind == "attr" else 0.5))
    return out


def _global_edges(fid, sites: list[tuple]) -> list[tuple]:
    """Global writes -> global reads of the same module binding in another code unit."""
    by_binding: dict[str, tuple[list, list]] = {}
    for kind, b, cu, idx, iid, name in sites:
        w, r = by_binding.setdefault(b, ([], []))
        if kind == O.DEF_SLOT:
            w.append((cu, idx, iid, name))
        elif kind == O.USE_SLOT:
            r.append((cu, idx, iid, name))
    out = []
    for b, (writes, reads) in by_binding.items():
        n = 0
        for wcu, widx, wid, name in writes:
            for rcu, ridx, rid, _ in reads:
                if rcu == wcu:
                    continue  # same code unit: reaching definitions
                if n >= MAX_GLOBAL_EDGES_PER_BINDING:
                    break
                out.append((fid, rcu, None, "memory", wcu, wid, widx, None, "instr", rid, ridx, None, name,
                            "global_same_module", 0.5))
                n += 1
    return out


def upstream_failure(path: str, fid: str, msg: str) -> dict[str, pa.Table]:
    """No bytecode for the file: empty tables and a status row saying so (stage ``upstream``)."""
    out = {name: to_table(C.__dict__[name.upper()], [], path) for name in _empty()}
    out["py_dfg_files"] = to_table(C.PY_DFG_FILES, [(fid, False, "upstream", "BytecodeUnavailable", msg,
                                                     0, 0, 0, 0, 0, 0, 0, 0, [])], path)
    return out

