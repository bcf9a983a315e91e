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

from bisect import bisect_left, bisect_right
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


@dataclass(slots=True)
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
    slot: tuple | None = None  # reaching definitions: the slot key
    defno: int = -1  # reaching definitions: the definition number of a DEF event


@dataclass
class _Unit:
    """One code unit's results, before they become rows."""

    cu: str
    events: list[_Event] = field(default_factory=list)
    # block index -> [(producer value id, consumer index, input position)] of that block's last simulation
    stack_edges: dict = field(default_factory=dict)
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
            bid = res.binding_id
            if space == O.FAST and bid is not None and not bid.startswith(scope + ":BIND:"):
                # The compiler uses a fast slot for a name of this scope only when an inlined
                # comprehension (PEP 709) binds it: the comprehension's own variable, shadowing a
                # global / free / nonlocal name of the scope. symtable has no table for it.
                got = (None, "inlined_comprehension_local")
            elif (space == O.GLOBAL and bid is not None and res.resolution != "edge:CLASSDICT"
                  and not bid.startswith(self.module_scope + ":BIND:")):
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


_PLAN_OF: dict[tuple[str, int | None], tuple] = {}
# Ops with exactly one slot event named by argval: (kind, space).
_SIMPLE = {op: O.CLASSIFIER[op].events[0] for op in (
    "LOAD_FAST", "LOAD_FAST_CHECK", "STORE_FAST", "DELETE_FAST", "LOAD_DEREF", "STORE_DEREF", "DELETE_DEREF",
    "LOAD_NAME", "STORE_NAME", "DELETE_NAME", "LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL")}
_ATTR_FAST = {"LOAD_ATTR": O.USE_ATTR, "STORE_ATTR": O.DEF_ATTR, "DELETE_ATTR": O.KILL_ATTR}
_ARGC: dict[int, str] = {}


def _argc(arg: int) -> str:
    got = _ARGC.get(arg)
    if got is None:
        got = _ARGC[arg] = f"argc={arg}"
    return got


_QUIET = frozenset(n for n, c in O.CLASSIFIER.items() if not c.events) - {"COPY_FREE_VARS"}


def classify_unit(u, ops: list[str], scope: str | None, bind: _Bindings, fallback_hits: Counter) -> list[_Event]:
    """The def/use events of one code unit, in execution order."""
    code: CodeType = u.code
    params = set(code.co_varnames[:_n_params(code)])
    cells = set(code.co_cellvars) | set(code.co_freevars)
    out: list[_Event] = []
    instrs = u.instructions
    quiet = _QUIET
    simple = _SIMPLE
    cache = bind.cache
    for idx in [i for i, op in enumerate(ops) if op not in quiet]:
        base = ops[idx]
        ins = instrs[idx]
        fast = simple.get(base)
        if fast is not None:  # one slot event, the name is argval (the common case, ~90% of events)
            kind, space = fast
            name = ins.argval
            detail = None
            if base == "LOAD_FAST":
                if name in cells:
                    kind, space, detail = CLOSURE, O.DEREF, "cell_object"
            elif base == "LOAD_GLOBAL" and ins.arg & 1:
                detail = "push_null"
            key = (scope, space, name)
            got = cache.get(key) or bind(scope, space, name)
            out.append(_Event(idx, 0, kind, space, name, detail, "classifier", 1.0, got[0], got[1]))
            continue
        if base in _ATTR_FAST:
            arg = ins.arg
            out.append(_Event(idx, 0, _ATTR_FAST[base], None, ins.argval,
                              "method" if base == "LOAD_ATTR" and arg & 1 else None, "classifier", O.MEMORY_CONFIDENCE))
            continue
        if base == "CALL":
            out.append(_Event(idx, 0, O.CALL, None, None, _argc(ins.arg), "classifier", 1.0))
            continue
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


def simulate_stack(u, ops: list[str], args: list, blocks, edges, unit: _Unit) -> dict[int, tuple]:
    """Abstract stack over the CFG to a fixpoint; fills ``unit.stack_edges`` per block with (producer
    value ids, consumer instruction indexes, input positions; -1 = read without popping). A stack entry
    is the set of values that can be there (an int when there is one). States only grow, so a block's
    last simulation has every edge of its earlier ones: each simulation replaces the block's edges.
    -> per attribute / subscript instruction, the producers of its owner operand (memory edges)."""
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
    shape, cache, opmap = O.shape, _PLAN_OF, O.OPMAP
    plans = []  # per instruction: (pops, outs, peek, special, owner input)
    for op, arg in zip(ops, args):
        pl = cache.get((op, arg))
        if pl is None:
            sh = shape(op, opmap.get(op, 0), arg, False)
            own = _OWNER.get(op)
            special = (1 if op == "COPY" else 2 if op == "SWAP" else 3 if own is not None and own[0] < sh.pops
                       else 4 if op == "STORE_FAST" else 0)
            pl = cache[(op, arg)] = (sh.pops, sh.outs, sh.peek, special, own[0] if own else 0, sh.modelled)
        plans.append(pl)
    unit.modelled = [pl[5] for pl in plans]
    unit.unmodelled = unit.modelled.count(False)
    block_edges = unit.stack_edges
    state: list[list | None] = [None] * n
    state[0] = []
    work = [0]
    queued = {0}
    owners: dict[int, tuple] = {}
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
        es: list[tuple] = []  # (producer value, consumer index, input position)
        add = es.append
        block_edges[bi] = es
        for idx in range(b.first, b.last + 1):
            p, outs, peek, special, own, _ = plans[idx]
            if low < depth:
                below = [_join(a, stack[k]) if k < len(stack) else a for k, a in enumerate(below)]
            if special == 1 or special == 2:
                k = args[idx]
                if special == 1:
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
            if p:
                if p > len(stack):
                    raise DataflowError(idx, f"{instrs[idx].opname} pops {p} values, the stack holds {len(stack)}")
                inputs = stack[-p:]
                del stack[-p:]
                if len(stack) < low:
                    low = len(stack)
                j = 0
                for x in inputs:
                    if type(x) is int:
                        add((x, idx, j))
                    else:
                        for v in sorted(x):
                            add((v, idx, j))
                    j += 1
                if special == 3:
                    owners[idx] = _vals(inputs[own])
                elif special == 4:
                    stored[idx] = _vals(inputs[0])
            else:
                inputs = ()
            if peek:
                if peek > len(stack):
                    raise DataflowError(idx, f"{instrs[idx].opname} reads {peek} deep, the stack holds {len(stack)}")
                for v in sorted(_vals(stack[-peek])):
                    add((v, idx, -1))
            if outs:
                if len(outs) == 1:
                    src = outs[0]
                    stack.append(inputs[src] if src >= 0 else idx << _VSHIFT)
                else:
                    base_v = idx << _VSHIFT
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
                         instr_ids, unit: _Unit) -> None:
    """Bit-vector reaching definitions over normal + exception edges; fills ``unit.reach_rows`` and each
    slot USE event's ``reach`` / ``nreach``."""
    code: CodeType = u.code
    n = len(blocks)
    slot_events = [e for e in events if e.space is not None and e.kind in (O.USE_SLOT, O.DEF_SLOT, O.KILL_SLOT)]
    if not slot_events:
        return
    # slot key: FAST / DEREF by name; NAME and GLOBAL are one namespace in module code
    for e in slot_events:
        e.slot = (O.GLOBAL if scope_is_module and e.space == O.NAME else e.space, e.name)

    defs: list[tuple] = []  # def number -> (kind, event or None, slot key)
    slot_mask: dict[tuple, int] = {}

    def new_def(kind, ev, k):
        d = len(defs)
        defs.append((kind, ev, k))
        slot_mask[k] = slot_mask.get(k, 0) | (1 << d)
        return d

    entry = 0
    keys = {e.slot for e in slot_events}
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
    undef_of: dict[tuple, int] = {}
    for e in slot_events:
        if e.kind == O.DEF_SLOT and e.detail != "free_init":
            kind = e.detail if e.detail in ("cell_init", "restore") else "store"
            e.defno = new_def(kind, e, e.slot)
        elif e.kind == O.KILL_SLOT:
            k = e.slot
            if k not in undef_of:
                undef_of[k] = new_def(_UNDEF, e, k)
    by_instr: dict[int, list[_Event]] = {}
    for e in slot_events:
        by_instr.setdefault(e.idx, []).append(e)

    def step(st: int, evs: list[_Event], record: bool) -> int:
        for e in evs:
            k = e.slot
            if e.kind == O.USE_SLOT:
                if record:
                    _record_use(e, st & slot_mask[k])
            elif e.kind == O.DEF_SLOT:
                if e.detail == "free_init":
                    continue
                st = (st & ~slot_mask[k]) | (1 << e.defno)
            elif e.kind == O.KILL_SLOT:
                st = (st & ~slot_mask[k]) | (1 << undef_of[k])
        return st

    rows = unit.reach_rows

    def _record_use(e: _Event, bits: int) -> None:
        undef = outside = False
        count = 0
        k = e.slot
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
                rows.append((e.idx, e.k, None, None, kind, e.name, e.space, e.binding))
            else:
                rows.append((e.idx, e.k, dev.idx, dev.k, kind, e.name, e.space, e.binding))
        ext = k[0] != O.FAST and e.binding is not None and written_elsewhere(e.binding)
        if ext:
            count += 1
            rows.append((e.idx, e.k, None, None, "external", e.name, e.space, e.binding))
        e.nreach = count
        if count == 0:
            e.reach = "global" if outside else "unbound"
        elif undef:
            e.reach = "maybe_unbound"
        elif count == 1 and ext:
            e.reach = "external"
        else:
            e.reach = "defined"

    if n == 1 and not edges:  # straight-line code (no branch, loop or handler): one pass, no fixpoint
        step(entry, slot_events, True)
        return
    # block transfer: (events, raise points) in order; an exception edge carries the union of the states
    # before every instruction of the block that can raise (opclass.NO_RAISE lists those that cannot).
    succ_normal: list[list[int]] = [[] for _ in range(n)]
    succ_exc: list[list[int]] = [[] for _ in range(n)]
    for ed in edges:
        (succ_exc if ed.kind == "exc" else succ_normal)[ed.src].append(ed.dst)
    no_raise = O.NO_RAISE
    block_events: list[list[_Event]] = []
    block_steps: list[list] = []  # None = a raise point, else a slot event
    ev_idx = [e.idx for e in slot_events]
    for bi, b in enumerate(blocks):
        evs = slot_events[bisect_left(ev_idx, b.first):bisect_right(ev_idx, b.last)]
        steps: list = []
        if succ_exc[bi]:
            for idx in range(b.first, b.last + 1):
                if ops[idx] not in no_raise and (not steps or steps[-1] is not None):
                    steps.append(None)
                got = by_instr.get(idx)
                if got:
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
                    st = (st & ~slot_mask[e.slot]) | (1 << e.defno)
            elif e.kind == O.KILL_SLOT:
                k = e.slot
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

def _empty() -> dict[str, list]:
    return {tc.name: [] for tc in (C.PY_BC_DEFUSE_EVENTS, C.PY_DFG_EDGES, C.PY_REACHING_DEFS, C.PY_DFG_CODE_UNIT_FAILURES)}


def extract_dataflow(path: str, fid: str, units: list, instructions: pa.Table, code_units: pa.Table,
                     graphs: dict, resolver) -> dict[str, pa.Table]:
    """One file's dataflow tables from the same pass's CodeUnit objects, instruction ids, CFG graphs
    (code_unit_id -> (blocks, edges)) and symtable resolver."""
    ids_arr = instructions.column("instr_id").combine_chunks()
    ops_col = instructions.column("baseopname").to_pylist()
    args_col = instructions.column("arg").to_pylist()
    ids_by_cu: dict[str, _Ids] = {}
    offset_of: dict[str, int] = {}  # code unit -> position of its first instruction in the file's rows
    pos = 0
    for u in units:
        m = len(u.instructions)
        ids_by_cu[u.code_unit_id] = _Ids(ids_arr, pos)
        offset_of[u.code_unit_id] = pos
        pos += m
    scope_of = dict(zip(code_units.column("code_unit_id").to_pylist(), code_units.column("scope_id").to_pylist()))
    module_scope = scope_of.get(units[0].code_unit_id) if units else None
    bind = _Bindings(resolver, module_scope or "")
    fallback_hits: Counter = Counter()
    # events first (every code unit): which bindings are written by which code units
    per_unit: list[tuple] = []
    if len(ops_col) != pos:
        raise ValueError(f"{len(ops_col)} instruction rows for {pos} instructions of the code units")
    writers: dict[str, set[str]] = {}  # binding of a cell / global / class name -> code units writing it
    for u in units:
        scope = scope_of.get(u.code_unit_id)
        off = offset_of[u.code_unit_id]
        ops = ops_col[off:off + len(u.instructions)]
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
    edge_rows = rows["py_dfg_edges"]
    all_evs: list[_Event] = []
    reach_rows: list[tuple] = []
    ev_runs: list[tuple] = []  # (code unit, its first file-wide instruction position, rows)
    reach_runs: list[tuple] = []
    global_sites: list[tuple] = []  # (kind def|use, binding, code unit, instr idx, the unit's ids, name)
    stack = _StackEdges(len(ids_arr))
    for u, ops, scope, evs, is_module in per_unit:
        cu = u.code_unit_id
        ids = ids_by_cu[cu]
        unit = _Unit(cu, evs)
        try:
            blocks, cfg_edges = graphs.get(cu, ([], []))

            def elsewhere(binding, _cu=cu):
                return any(c != _cu for c in writers.get(binding, ()))
            off = offset_of[cu]
            owners = simulate_stack(u, ops, args_col[off:off + len(ops)], blocks, cfg_edges, unit)
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
        ev_runs.append((cu, off, len(evs)))
        all_evs.extend(evs)
        for e in evs:
            if e.kind == O.USE_SLOT:
                use_count += 1
            if e.space in (O.GLOBAL, O.NAME) and e.binding is not None and (e.space == O.GLOBAL or is_module):
                global_sites.append((e.kind, e.binding, cu, e.idx, ids, e.name))
        reach_runs.append((cu, off, len(unit.reach_rows)))
        reach_rows.extend(unit.reach_rows)
        stack.add_unit(cu, offset_of[cu], unit)
        stack_edge_count += sum(len(es) for es in unit.stack_edges.values())
        edge_rows.extend(_memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners, ids))
    edge_rows.extend(_global_edges(fid, global_sites))
    mem = sum(1 for r in edge_rows if r[3] == "memory")
    rows["py_dfg_code_unit_failures"] = failures
    del rows["py_bc_defuse_events"], rows["py_reaching_defs"]
    out = {name: to_table(C.__dict__[name.upper()], r, path) for name, r in rows.items()}
    ops_arr = instructions.column("baseopname").combine_chunks()
    out["py_bc_defuse_events"] = _events_table(path, fid, all_evs, ev_runs, ids_arr, ops_arr)
    out["py_reaching_defs"] = _reach_table(path, fid, reach_rows, reach_runs, ids_arr)
    edges_t = pa.concat_tables([stack.table(path, fid, ids_arr), out["py_dfg_edges"]])
    out["py_dfg_edges"] = edges_t  # edge_id is derived: DuckDB computes it (a VIRTUAL column)
    ok = not failures
    msg = None if ok else (f"{len(failures)} of {len(units)} code units failed; first: {failures[0][1]} at "
                           f"{failures[0][2] or 'no instruction'}: {failures[0][5]}")
    status = (fid, ok, None if ok else "code_unit", None if ok else "DataflowError", msg, len(units), len(failures),
              len(all_evs), stack_edge_count, mem, len(reach_rows), use_count, unmodelled,
              [f"{k}={v}" for k, v in sorted(fallback_hits.items())])
    out["py_dfg_files"] = to_table(C.PY_DFG_FILES, [status], path)
    return out


def _runs(path: str, fid: str, runs: list[tuple], n: int) -> tuple[dict, pa.Array]:
    """The lead columns (schema_version, path, file_id, code_unit_id) of ``n`` rows grouped in runs of
    (code unit, first instruction position, rows), and each row's unit offset (for instruction ids)."""
    which: list[int] = []
    for k, (_, _, m) in enumerate(runs):
        which.extend([k] * m)
    w = pa.array(which, pa.int32())
    lead = {"schema_version": pa.repeat(SCHEMA_VERSION, n).cast(pa.int16()), "path": pa.repeat(path, n),
            "file_id": pa.repeat(fid, n), "code_unit_id": pa.array([c for c, _, _ in runs], pa.string()).take(w)}
    return lead, pa.array([o for _, o, _ in runs], pa.int64()).take(w)


def _assemble(tc, cols: dict) -> pa.Table:
    return pa.Table.from_arrays([cols[f.name].cast(f.type) if isinstance(cols[f.name], (pa.Array, pa.ChunkedArray))
                                 else pa.array(cols[f.name], f.type) for f in tc.schema], schema=tc.schema)


def _events_table(path, fid, evs: list[_Event], runs, ids: pa.Array, ops: pa.Array) -> pa.Table:
    n = len(evs)
    cols, off = _runs(path, fid, runs, n)
    idx = pa.array([e.idx for e in evs], pa.int64())
    pos = pc.add(idx, off) if n else idx
    cols.update({
        "instr_id": ids.take(pos), "instr_index": idx, "event_index": [e.k for e in evs], "baseopname": ops.take(pos),
        "event_kind": [e.kind for e in evs], "space": [e.space for e in evs],
        "name": [e.name for e in evs], "detail": [e.detail for e in evs],
        "binding_id": [e.binding for e in evs], "binding_resolution": [e.resolution for e in evs],
        "confidence": [e.confidence for e in evs], "rule": [e.rule for e in evs],
        "reach_status": [e.reach for e in evs], "reaching_def_count": [e.nreach for e in evs],
    })
    return _assemble(C.PY_BC_DEFUSE_EVENTS, cols)


def _reach_table(path, fid, rows: list[tuple], runs, ids: pa.Array) -> pa.Table:
    n = len(rows)
    cols, off = _runs(path, fid, runs, n)
    use_idx, use_k, def_idx, def_k, kind, name, space, binding = (list(c) for c in zip(*rows)) if n else ([],) * 8
    u = pa.array(use_idx, pa.int64())
    d = pa.array(def_idx, pa.int64())
    cols.update({
        "use_instr_id": ids.take(pc.add(u, off)) if n else pa.array([], pa.string()), "use_instr_index": u,
        "use_event_index": use_k, "def_instr_id": ids.take(pc.add(d, off)) if n else pa.array([], pa.string()),
        "def_instr_index": d, "def_event_index": def_k, "def_kind": kind, "name": name,
        "space": space, "binding_id": binding,
    })
    return _assemble(C.PY_REACHING_DEFS, cols)


class _Ids:
    """A code unit's instruction ids, looked up one at a time (failures, memory edges): the bulk of the
    ids is taken in Arrow by position."""

    def __init__(self, arr: pa.Array, off: int):
        self.arr, self.off = arr, off

    def __getitem__(self, k: int) -> str:
        return self.arr[self.off + k].as_py()


class _StackEdges:
    """Stack edges of a file, column-wise: millions of them, so their rows are built in Arrow."""

    def __init__(self, n_instr: int):
        self.v: list[int] = []  # producer value id (instr << _VSHIFT | output; negative: handler values)
        self.dst: list[int] = []  # consumer instruction index (in its code unit)
        self.inp: list[int] = []
        self.runs: list[tuple] = []  # (code unit, first file-wide instruction position, edges)
        self.modelled: list[bool] = [True] * n_instr

    def add_unit(self, cu: str, off: int, unit: _Unit) -> None:
        m = 0
        for bi in sorted(unit.stack_edges):
            es = unit.stack_edges[bi]
            if es:
                vs, ds, js = zip(*es)
                self.v.extend(vs)
                self.dst.extend(ds)
                self.inp.extend(js)
                m += len(es)
        self.runs.append((cu, off, m))
        if unit.unmodelled:
            for k, ok in enumerate(unit.modelled):
                self.modelled[off + k] = ok

    def table(self, path: str, fid: str, ids: pa.Array) -> pa.Table:
        tc = C.PY_DFG_EDGES
        m = len(self.v)
        if not m:
            return to_table(tc, [], path)
        cols, off = _runs(path, fid, self.runs, m)
        v = pa.array(self.v, pa.int64())
        pseudo = pc.less(v, 0)
        src_local = pc.if_else(pseudo, None, pc.shift_right(v, _VSHIFT))
        src_global = pc.add(src_local, off)
        dst_local = pa.array(self.dst, pa.int64())
        modelled = pa.array(self.modelled, pa.bool_()).take(pc.fill_null(src_global, 0))
        handler_kind = pc.if_else(pc.equal(pc.bit_wise_and(pc.negate(v), 3), 1), "exception", "lasti")
        src_kind = pc.if_else(pseudo, handler_kind, pc.if_else(modelled, "instr", "unmodelled"))
        handler_name = pc.binary_join_element_wise("handler@", pc.cast(pc.divide(pc.negate(v), 4), pa.string()), "")
        cols.update({
            "edge_id": pa.nulls(m, pa.string()),  # derived: DuckDB computes it (a VIRTUAL column)
            "kind": pa.repeat("stack", m),
            "src_code_unit_id": cols["code_unit_id"],
            "src_instr_id": ids.take(src_global),
            "src_instr_index": src_local,
            "src_output": pc.if_else(pseudo, None, pc.bit_wise_and(v, (1 << _VSHIFT) - 1)),
            "src_kind": src_kind,
            "dst_instr_id": ids.take(pc.add(dst_local, off)),
            "dst_instr_index": dst_local,
            "dst_input": pa.array(self.inp, pa.int16()),
            "name": pc.if_else(pseudo, handler_name, None),
            "rule": pc.if_else(pseudo, "handler_entry", "stack"),
            "confidence": pa.repeat(1.0, m),
        })
        return _assemble(tc, cols)


def _memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners: dict[int, tuple], ids) -> list[tuple]:
    """Attribute / subscript writes -> later reads of the same name on values from the same binding."""
    if not owners or not any(_OWNER[ops[i]][2] == "def" for i in owners):
        return []  # no attribute / subscript write in this code unit
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
    for kind, b, cu, idx, iid, name in sites:  # iid: the code unit's ids (looked up per emitted edge)
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
                out.append((fid, rcu, None, "memory", wcu, wid[widx], widx, None, "instr", rid[ridx], ridx, None, name,
                            "global_same_module", 0.5))
                n += 1
    return out


def upstream_failure(path: str, fid: str, msg: str) -> dict[str, pa.Table]:
    """No bytecode for the file: empty tables and a status row saying so (stage ``upstream``)."""
    out = {name: to_table(C.__dict__[name.upper()], [], path) for name in _empty()}
    out["py_dfg_files"] = to_table(C.PY_DFG_FILES, [(fid, False, "upstream", "BytecodeUnavailable", msg,
                                                     0, 0, 0, 0, 0, 0, 0, 0, [])], path)
    return out

