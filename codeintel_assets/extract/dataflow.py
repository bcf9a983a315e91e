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
from types import CodeType

from bisect import bisect_left, bisect_right
from heapq import heappop, heappush
from itertools import accumulate, compress, count, repeat
from operator import is_, itemgetter, not_

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


# A def/use event is a list, in the column order of py_bc_defuse_events (~200k per 170 files: a list is
# ~5x cheaper to build than a slotted object, and a file's events transpose into columns in C).
_IDX, _K, _KIND, _SPACE, _NAME, _DETAIL, _BIND, _RES, _CONF, _RULE, _REACH, _NREACH = range(12)
# instruction index, event index within the instruction, kind, space, name, detail, binding id,
# binding resolution, confidence, rule, reach status and reaching-definition count (slot uses)
_Event = list


class _Unit:
    """One code unit's results, before they become rows."""

    __slots__ = ("cu", "events", "stack_edges", "reach_rows", "stored", "modelled", "unmodelled")

    def __init__(self, cu: str, events: list | None = None):
        self.cu = cu
        self.events: list[_Event] = [] if events is None else events
        # block index -> [producer value id, consumer index, input position, ...] (flat) of that block's
        # last simulation
        self.stack_edges: dict[int, list[int]] = {}
        self.reach_rows: list[tuple] = []
        self.stored: dict[int, tuple] = {}  # STORE_FAST index -> producers of the stored value
        self.modelled: list[bool] = []  # per instruction: stack shape from the classifier
        self.unmodelled = 0


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
_QUIET_HAS = _QUIET.__contains__


def classify_unit(u, ops: list[str], args: list, scope: str | None, bind: _Bindings,
                  fallback_hits: Counter) -> list[_Event]:
    """The def/use events of one code unit, in execution order."""
    code: CodeType = u.code
    params = set(code.co_varnames[:_n_params(code)])
    cells = set(code.co_cellvars) | set(code.co_freevars)
    out: list[_Event] = []
    add = out.append
    instrs = u.instructions
    simple = _SIMPLE
    cache = bind.cache
    for idx in compress(count(), map(not_, map(_QUIET_HAS, ops))):
        base = ops[idx]
        fast = simple.get(base)
        if fast is not None:  # one slot event, the name is argval (the common case, ~90% of events)
            kind, space = fast
            name = instrs[idx].argval
            detail = None
            if base == "LOAD_FAST":
                if name in cells:
                    kind, space, detail = CLOSURE, O.DEREF, "cell_object"
            elif base == "LOAD_GLOBAL" and args[idx] & 1:
                detail = "push_null"
            got = cache.get((scope, space, name)) or bind(scope, space, name)
            add([idx, 0, kind, space, name, detail, got[0], got[1], 1.0, "classifier", None, None])
            continue
        if base in _ATTR_FAST:
            add([idx, 0, _ATTR_FAST[base], None, instrs[idx].argval,
                 "method" if base == "LOAD_ATTR" and args[idx] & 1 else None, None, None, O.MEMORY_CONFIDENCE,
                 "classifier", None, None])
            continue
        if base == "CALL":
            add([idx, 0, O.CALL, None, None, _argc(args[idx]), None, None, 1.0, "classifier", None, None])
            continue
        if base not in O.CLASSIFIER:
            fallback_hits[base] += 1
        for t in _events_of(code, instrs[idx], base, scope, bind, cells, params):
            add([idx, *t])
    return out


def _events_of(code: CodeType, ins, base: str, scope: str | None, bind: _Bindings, cells: set, params: set) -> tuple:
    """The events of an instruction the fast paths of ``classify_unit`` do not cover, without the
    instruction index: a tuple of event tails (_K onwards)."""
    c = O.CLASSIFIER.get(base)
    rule = "classifier"
    if c is None:
        c = O.fallback(base)
        rule = "fallback"
    if not c.events:
        if base == "COPY_FREE_VARS":
            return tuple((k, O.DEF_SLOT, O.DEREF, name, "free_init", *bind(scope, O.DEREF, name), 1.0, rule, None, None)
                         for k, name in enumerate(code.co_freevars[:ins.arg or 0]))
        return ()
    slot_events = [e for e in c.events if e[1] is not None]
    names = _slot_names(ins, len(slot_events)) if slot_events else []
    if base == "LOAD_FAST" and names[0] in cells:
        # LOAD_CLOSURE compiles to LOAD_FAST of the cell / free slot: it loads the cell object (to
        # build a closure), not the variable's value.
        return ((0, CLOSURE, O.DEREF, names[0], "cell_object", *bind(scope, O.DEREF, names[0]), 1.0, rule, None, None),)
    out = []
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
        b, r = bind(scope, space, name) if space is not None else (None, None)
        out.append((k, kind, space, name, detail, b, r, c.confidence, rule, None, None))
    return tuple(out)


def _mark_restores(evs: list[_Event], ops: list[str], stored: dict[int, tuple]) -> None:
    """A STORE_FAST of the value its LOAD_FAST_AND_CLEAR saved (same name) restores the outer value after
    an inlined comprehension (PEP 709): detail ``restore`` (its definition's kind is ``restore``)."""
    if "LOAD_FAST_AND_CLEAR" not in ops:  # the only op with a "save" event: most code units have none
        return
    saved = {e[_IDX]: e[_NAME] for e in evs if e[_DETAIL] == "save"}
    if not saved:
        return
    for e in evs:
        if e[_KIND] == O.DEF_SLOT and ops[e[_IDX]] == "STORE_FAST":
            vals = stored.get(e[_IDX], ())
            if vals and all(v >= 0 and saved.get(v >> _VSHIFT) == e[_NAME] for v in vals):
                e[_DETAIL] = "restore"


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


# (op -> plan) of the listed ops whose stack shape does not depend on oparg (as opclass.shape decides)
_ARG_FREE = frozenset(n for n, c in O.CLASSIFIER.items() if "oparg" not in c.pops + c.pushes + c.peek)
_PLAN_BY_OP: dict[str, tuple] = {}
# Plan kinds: the common stack shapes get a short path in the simulation (most instructions).
_GENERAL, _COPY, _SWAP, _OWNER_OP, _STORE_FAST, _PUSH, _NOTHING, _POP_PUSH, _POP = range(9)
_MODELLED = itemgetter(5)


def _plan(op: str, arg: int | None) -> tuple:
    """(special, pops, outs, peek, owner input, modelled) of an instruction, memoised per (op, arg)."""
    sh = O.shape(op, O.OPMAP.get(op, 0), arg, False)
    own = _OWNER.get(op)
    pops, outs, peek = sh.pops, sh.outs, sh.peek
    if op == "COPY":
        special = _COPY
    elif op == "SWAP":
        special = _SWAP
    elif own is not None and own[0] < pops:
        special = _OWNER_OP
    elif op == "STORE_FAST":
        special = _STORE_FAST
    elif peek:
        special = _GENERAL
    elif not pops:
        special = _PUSH if outs == (-1,) else _NOTHING if not outs else _GENERAL
    else:
        special = _POP_PUSH if outs == (-1,) else _POP if not outs else _GENERAL
    pl = _PLAN_OF[(op, arg)] = (special, pops, outs, peek, own[0] if own else 0, sh.modelled)
    if op in _ARG_FREE:
        _PLAN_BY_OP[op] = pl
    return pl


def _plans(ops: list[str], args: list) -> list[tuple]:
    """Every instruction's ``_plan``: by op name (in C) for the ops whose shape ignores oparg (most
    instructions), then by (op, arg) for the others."""
    plans = list(map(_PLAN_BY_OP.get, ops))
    get = _PLAN_OF.get
    for k in list(compress(count(), map(is_, plans, repeat(None)))):
        key = (ops[k], args[k])
        plans[k] = get(key) or _plan(*key)
    return plans


def simulate_stack(u, plans: list[tuple], args: list, blocks, edges, unit: _Unit) -> dict[int, tuple]:
    """Abstract stack over the CFG to a fixpoint (``plans``: per instruction, ``_plan``); fills
    ``unit.stack_edges`` per block with (producer value id, consumer instruction index, input position;
    -1 = read without popping) triples, flat. A stack entry
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
    unit.modelled = list(map(_MODELLED, plans))
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
    PUSH, POP_PUSH, POP, NOTHING, vshift = _PUSH, _POP_PUSH, _POP, _NOTHING, _VSHIFT  # locals: the hot loop
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
        depth = max([x.depth for _, x in handlers]) if handlers else 0
        # The values a handler keeps (below its depth): the entry's, unless the block dips below it.
        below = entry_state[:depth]
        low = len(stack)
        es: list[int] = []  # flat: producer value, consumer index, input position (sliced apart in C)
        add = es.extend
        block_edges[bi] = es
        push, pop = stack.append, stack.pop
        for idx in range(b.first, b.last + 1):
            special, p, outs, peek, own, _ = plans[idx]
            if low < depth:
                below = [_join(a, stack[k]) if k < len(stack) else a for k, a in enumerate(below)]
            if special == PUSH:  # one new value (LOAD_CONST, LOAD_FAST, ...)
                push(idx << vshift)
                continue
            if special == POP_PUSH or special == POP:  # pops its inputs, pushes one new value or none
                if p > len(stack):
                    raise DataflowError(idx, f"{instrs[idx].opname} pops {p} values, the stack holds {len(stack)}")
                if p == 1:
                    x = pop()
                    if type(x) is int:
                        add((x, idx, 0))
                    else:
                        for v in sorted(x):
                            add((v, idx, 0))
                else:
                    j = 0
                    for x in stack[-p:]:
                        if type(x) is int:
                            add((x, idx, j))
                        else:
                            for v in sorted(x):
                                add((v, idx, j))
                        j += 1
                    del stack[-p:]
                if len(stack) < low:
                    low = len(stack)
                if special == POP_PUSH:
                    push(idx << vshift)
                continue
            if special == NOTHING:
                continue
            if special == _COPY or special == _SWAP:
                k = args[idx]
                if special == _COPY:
                    if k is None or k < 1 or k > len(stack):
                        raise DataflowError(idx, f"COPY {k} with {len(stack)} values on the stack")
                    push(stack[-k])
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
                if special == _OWNER_OP:
                    owners[idx] = _vals(inputs[own])
                elif special == _STORE_FAST:
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
                    push(inputs[src] if src >= 0 else idx << _VSHIFT)
                else:
                    base_v = idx << _VSHIFT
                    for k, src in enumerate(outs):
                        push(inputs[src] if src >= 0 else base_v | k)
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
_SLOT_KINDS = frozenset({O.USE_SLOT, O.DEF_SLOT, O.KILL_SLOT})
_WRITE_KINDS = frozenset({O.DEF_SLOT, O.KILL_SLOT})
_ENTRY_DETAILS = frozenset({"free_init", "cell_init", "empty_cell"})  # not a write by the code unit
_NO_RAISE_HAS = O.NO_RAISE.__contains__


def reaching_definitions(u, ops: list[str], blocks, edges, events: list[_Event], scope_is_module: bool,
                         writers: dict[str, set[str]], cu: str, unit: _Unit) -> None:
    """Bit-vector reaching definitions over normal + exception edges; fills ``unit.reach_rows`` and each
    slot USE event's ``reach`` / ``nreach``. ``writers``: binding -> the code units that write it (a
    cell or global written by another code unit has an ``external`` definition at every use).

    Every DEF / KILL maps a state to ``(state & keep) | bit``, so a block's transfer is one such pair
    (and so is the union of its states at raise points): the fixpoint costs two int operations per
    block visit, the per-event walk happens once per block, when the uses are recorded."""
    code: CodeType = u.code
    n = len(blocks)
    slot_events = [e for e in events if e[_SPACE] is not None and e[_KIND] in _SLOT_KINDS]
    if not slot_events:
        return
    # slot key: FAST / DEREF by name; NAME and GLOBAL are one namespace in module code
    glob, name_space = O.GLOBAL, O.NAME
    slots = [(glob if scope_is_module and e[_SPACE] == name_space else e[_SPACE], e[_NAME]) for e in slot_events]

    # definitions: def number -> (kind, def instr index or None, def event index or None); first one
    # entry definition per slot (numbers 0 .. slots - 1, all in the entry state), in slot order
    keys = set(slots)
    if all(type(name) is str for _, name in keys):
        keys = sorted(keys)  # the order of (space, str(name)), without a key function
    else:
        keys = sorted(keys, key=lambda t: (t[0], str(t[1])))
    params = code.co_varnames[:_n_params(code)]
    pset = set(params)
    free = set(code.co_freevars)
    fast_space, deref = O.FAST, O.DEREF
    defs: list[tuple] = [
        # a cell starts empty (MAKE_CELL of a parameter defines it)
        (("param" if name in pset else _UNDEF) if sp == fast_space
         else ("free_init" if name in free else _UNDEF) if sp == deref else _OUTSIDE, None, None)
        for sp, name in keys]
    slot_mask: dict[tuple, int] = {k: 1 << d for d, k in enumerate(keys)}
    entry = (1 << len(keys)) - 1
    # per-event definitions, then per event (event, keep, bit): a DEF / KILL makes the state
    # (state & keep) | bit; a USE (keep None) reads state & bit (every definition of its slot); a
    # free_init DEF is an entry definition (no step). Masks are final once every definition exists.
    undef_of: dict[tuple, int] = {}
    use, define, kill = O.USE_SLOT, O.DEF_SLOT, O.KILL_SLOT
    defno: list[int] = []
    for e, k in zip(slot_events, slots):
        d = -1
        kind = e[_KIND]
        if kind == define:
            detail = e[_DETAIL]
            if detail != "free_init":
                d = len(defs)
                # a parameter's cell (cell_init) is an entry definition: no instruction
                defs.append(("cell_init", None, None) if detail == "cell_init" else
                            ("restore" if detail == "restore" else "store", e[_IDX], e[_K]))
                slot_mask[k] |= 1 << d
        elif kind == kill and k not in undef_of:
            undef_of[k] = len(defs)
            defs.append((_UNDEF, e[_IDX], e[_K]))
            slot_mask[k] |= 1 << undef_of[k]
        defno.append(d)
    # LOAD_FAST_CHECK raises UnboundLocalError when its slot is empty: past it the slot is bound, so the
    # unbound marker of the slot stops there (a step that keeps every other bit); its own use and its
    # exception edge (the raise comes before the events) still see the marker. The compiler emits LOAD_FAST
    # for the later uses for the same reason.
    undef_bits: dict[tuple, int] = {}
    for d, k in enumerate(keys):
        if defs[d][0] == _UNDEF:
            undef_bits[k] = 1 << d
    for k, d in undef_of.items():
        undef_bits[k] = undef_bits.get(k, 0) | 1 << d
    trans: list[tuple] = []
    for e, k, d in zip(slot_events, slots, defno):
        kind = e[_KIND]
        if kind == use:
            trans.append((e, None, slot_mask[k]))
            if k in undef_bits and ops[e[_IDX]] == "LOAD_FAST_CHECK":
                trans.append((e, ~undef_bits[k], 0))
        elif kind == define:
            trans.append((e, ~slot_mask[k], 1 << d) if d >= 0 else (e, -1, 0))
        elif kind == kill:
            trans.append((e, ~slot_mask[k], 1 << undef_of[k]))

    rows = unit.reach_rows
    fast = O.FAST

    def record(st: int, steps) -> None:
        """Walk events from state ``st``: each USE gets its rows and reach status."""
        for e, keep, bit in steps:
            if keep is not None:
                st = (st & keep) | bit
                continue
            bits = st & bit
            undef = outside = False
            count = 0
            while bits:
                low = bits & -bits
                bits ^= low
                kind, di, dk = defs[low.bit_length() - 1]
                if kind == _UNDEF:
                    undef = True
                elif kind == _OUTSIDE:
                    outside = True
                else:
                    count += 1
                    rows.append((e[_IDX], e[_K], di, dk, kind, e[_NAME], e[_SPACE], e[_BIND]))
            b = e[_BIND]
            ext = False
            if b is not None and e[_SPACE] != fast:
                ws = writers.get(b)
                ext = ws is not None and (len(ws) > 1 or cu not in ws)  # a code unit other than this one
                if ext:
                    count += 1
                    rows.append((e[_IDX], e[_K], None, None, "external", e[_NAME], e[_SPACE], b))
            e[_NREACH] = count
            if count == 0:
                e[_REACH] = "global" if outside else "unbound"
            elif undef:
                e[_REACH] = "maybe_unbound"
            elif count == 1 and ext:
                e[_REACH] = "external"
            else:
                e[_REACH] = "defined"

    if n == 1 and not edges:  # straight-line code (no branch, loop or handler): one pass, no fixpoint
        record(entry, trans)
        return
    # block transfer (keep, gen): out = (in & keep) | gen; an exception edge carries the union of the
    # states before every instruction of the block that can raise (opclass.NO_RAISE lists those that
    # cannot): (in & keep_x) | gen_x.
    succ_normal: list[list[int]] = [[] for _ in range(n)]
    succ_exc: list[list[int]] = [[] for _ in range(n)]
    for ed in edges:
        (succ_exc if ed.kind == "exc" else succ_normal)[ed.src].append(ed.dst)
    block_trans: list[list] = []
    transfer: list[tuple] = []
    # a block none of whose instructions can raise sends nothing along its exception edges: a handler reached
    # only so is unreachable (its uses say so), not entered with an empty state (its uses "unbound")
    throws: list[bool] = []
    ev_idx = [step[0][_IDX] for step in trans]  # (a LOAD_FAST_CHECK has two steps)
    raising = None  # indexes of the instructions that can raise (computed in C, when a block needs them)
    for bi, b in enumerate(blocks):
        lo, hi = bisect_left(ev_idx, b.first), bisect_right(ev_idx, b.last)
        steps = trans[lo:hi]
        keep_all, gen = -1, 0
        keep_x = gen_x = 0
        if succ_exc[bi]:
            if raising is None:
                raising = list(compress(count(), map(not_, map(_NO_RAISE_HAS, ops))))
            r = bisect_left(raising, b.first)
            throws.append(r < len(raising) and raising[r] <= b.last)
            if lo == hi:  # no event: the exception edge carries the entry state if anything can raise
                if throws[-1]:
                    keep_x = -1
                block_trans.append(steps)
                transfer.append((-1, 0, keep_x, 0))
                continue
            # The state is constant between two instructions with events: a run of instructions
            # [start, idx] adds that state to the union once if any of them can raise (an
            # instruction's raise point comes before its events).
            start = b.first
            j = lo
            while True:
                idx = ev_idx[j] if j < hi else b.last
                r = bisect_left(raising, start)
                if r < len(raising) and raising[r] <= idx:
                    keep_x |= keep_all
                    gen_x |= gen
                if j >= hi:
                    break
                while j < hi and ev_idx[j] == idx:
                    _, keep, bit = trans[j]
                    if keep is not None:
                        keep_all &= keep
                        gen = (gen & keep) | bit
                    j += 1
                start = idx + 1
        else:
            throws.append(False)
            for _, keep, bit in steps:
                if keep is not None:
                    keep_all &= keep
                    gen = (gen & keep) | bit
        block_trans.append(steps)
        transfer.append((keep_all, gen, keep_x, gen_x))

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
        keep_all, gen, keep_x, gen_x = transfer[bi]
        for val, dsts in (((st & keep_all) | gen, succ_normal[bi]),
                          ((st & keep_x) | gen_x, succ_exc[bi] if throws[bi] else ())):
            for dst in dsts:
                cur = IN[dst]
                if not seen[dst] or (val | cur) != cur:
                    IN[dst] = cur | val
                    seen[dst] = True
                    if dst not in queued:
                        queued.add(dst)
                        heappush(work, dst)
    for bi in range(n):
        if seen[bi]:
            record(IN[bi], block_trans[bi])
        else:
            for e, keep, _ in block_trans[bi]:
                if keep is None:
                    e[_REACH], e[_NREACH] = "unreachable", 0


# -- the file ------------------------------------------------------------------------------------------

def _empty() -> dict[str, list]:
    return {tc.name: [] for tc in (C.PY_BC_DEFUSE_EVENTS, C.PY_DFG_EDGES, C.PY_REACHING_DEFS, C.PY_DFG_CODE_UNIT_FAILURES)}


def extract_dataflow(path: str, fid: str, units: list, instructions: pa.Table, code_units: pa.Table,
                     graphs: dict, resolver) -> dict[str, pa.Table]:
    """One file's dataflow tables from the same pass's CodeUnit objects, instruction ids, CFG graphs
    (code_unit_id -> (blocks, edges)) and symtable resolver."""
    ids_arr = instructions.column("instr_id").combine_chunks()
    # Op names through a dictionary: one str object per distinct op (cheap to convert, compared by identity).
    op_enc = pc.dictionary_encode(instructions.column("baseopname").combine_chunks(), null_encoding="encode")
    op_names = op_enc.dictionary.to_pylist()
    op_codes = op_enc.indices
    ops_col = list(map(op_names.__getitem__, op_codes.to_pylist()))
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
    plans_col = _plans(ops_col, args_col)
    writers: dict[str, set[str]] = {}  # binding of a cell / global / class name -> code units writing it
    use_slot, writes, fast, glob, name_space = O.USE_SLOT, _WRITE_KINDS, O.FAST, O.GLOBAL, O.NAME
    for u in units:
        scope = scope_of.get(u.code_unit_id)
        off = offset_of[u.code_unit_id]
        ops = ops_col[off:off + len(u.instructions)]
        evs = classify_unit(u, ops, args_col[off:off + len(ops)], scope, bind, fallback_hits)
        is_module = u.qualpath == "<module>"
        cu = u.code_unit_id
        ids = ids_by_cu[cu]
        uses = 0
        sites = []  # global sites of this code unit (kept if its dataflow succeeds)
        for e in evs:
            space = e[_SPACE]
            if space is None:
                continue
            kind = e[_KIND]
            if kind == use_slot:
                uses += 1
            b = e[_BIND]
            if b is None:
                continue
            if kind in writes and space != fast and e[_DETAIL] not in _ENTRY_DETAILS:
                writers.setdefault(b, set()).add(cu)
            if space == glob or (space == name_space and is_module):
                sites.append((kind, b, cu, e[_IDX], ids, e[_NAME]))
        per_unit.append((u, ops, scope, evs, is_module, uses, sites))
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
    for u, ops, scope, evs, is_module, uses, sites in per_unit:
        cu = u.code_unit_id
        ids = ids_by_cu[cu]
        unit = _Unit(cu, evs)
        try:
            blocks, cfg_edges = graphs.get(cu, ([], []))
            off = offset_of[cu]
            owners = simulate_stack(u, plans_col[off:off + len(ops)], args_col[off:off + len(ops)], blocks, cfg_edges,
                                    unit)
            _mark_restores(evs, ops, unit.stored)
            reaching_definitions(u, ops, blocks, cfg_edges, evs, is_module, writers, cu, unit)
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
        use_count += uses
        global_sites.extend(sites)
        reach_runs.append((cu, off, len(unit.reach_rows)))
        reach_rows.extend(unit.reach_rows)
        stack.add_unit(cu, offset_of[cu], unit)
        stack_edge_count += sum(len(es) for es in unit.stack_edges.values()) // 3
        edge_rows.extend(_memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners, ids))
    edge_rows.extend(_global_edges(fid, global_sites))
    _instr_ids(edge_rows, ids_arr)
    mem = sum(1 for r in edge_rows if r[3] == "memory")
    rows["py_dfg_code_unit_failures"] = failures
    del rows["py_bc_defuse_events"], rows["py_reaching_defs"]
    out = {name: to_table(C.__dict__[name.upper()], r, path) if r else _empty_table(C.__dict__[name.upper()])
           for name, r in rows.items()}
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


_I16 = pa.scalar(SCHEMA_VERSION, pa.int16())
_EMPTY_TABLES: dict[str, pa.Table] = {}


def _empty_table(tc) -> pa.Table:
    """``to_table(tc, [])``, built once per contract (most files have no failures, many no memory edges)."""
    got = _EMPTY_TABLES.get(tc.name)
    if got is None:
        got = _EMPTY_TABLES[tc.name] = to_table(tc, [], "")
    return got


def _runs(path: str, fid: str, runs: list[tuple], n: int) -> tuple[dict, pa.Array]:
    """The lead columns (schema_version, path, file_id, code_unit_id) of ``n`` rows grouped in runs of
    (code unit, first instruction position, rows), and each row's unit offset (for instruction ids):
    run-end decoded in Arrow (no Python list of n run numbers)."""
    runs = [r for r in runs if r[2]]
    ends = pa.array(list(accumulate(m for _, _, m in runs)), pa.int32())
    cus = pa.RunEndEncodedArray.from_arrays(ends, pa.array([c for c, _, _ in runs], pa.string()))
    offs = pa.RunEndEncodedArray.from_arrays(ends, pa.array([o for _, o, _ in runs], pa.int64()))
    lead = {"schema_version": pa.repeat(_I16, n), "path": pa.repeat(path, n),
            "file_id": pa.repeat(fid, n), "code_unit_id": pc.run_end_decode(cus)}
    return lead, pc.run_end_decode(offs)


def _assemble(tc, cols: dict) -> pa.Table:
    """The contract's columns: Arrow arrays cast where their type differs (a cast is a call even when it
    is a no-op: ~100 per file), Python lists converted."""
    arrays = []
    for f in tc.schema:
        c = cols[f.name]
        if isinstance(c, (pa.Array, pa.ChunkedArray)):
            arrays.append(c if c.type == f.type else c.cast(f.type))
        else:
            arrays.append(pa.array(c, f.type))
    return pa.Table.from_arrays(arrays, schema=tc.schema)


def _events_table(path, fid, evs: list[_Event], runs, ids: pa.Array, ops: pa.Array) -> pa.Table:
    n = len(evs)
    if not n:
        return _empty_table(C.PY_BC_DEFUSE_EVENTS)
    cols, off = _runs(path, fid, runs, n)
    # columns as lists: pyarrow converts a list of str ~4x faster than a tuple
    idx, k, kind, space, name, detail, binding, resolution, confidence, rule, reach, nreach = map(list, zip(*evs))
    idx = pa.array(idx, pa.int64())
    pos = pc.add(idx, off)
    if rule.count("classifier") == n:  # no fallback op in the file (the common case): a constant column
        rule = pa.repeat("classifier", n)
    cols.update({
        "instr_id": ids.take(pos), "instr_index": idx, "event_index": k, "baseopname": ops.take(pos),
        "event_kind": kind, "space": space, "name": name, "detail": detail,
        "binding_id": binding, "binding_resolution": resolution, "confidence": confidence, "rule": rule,
        "reach_status": reach, "reaching_def_count": nreach,
    })
    return _assemble(C.PY_BC_DEFUSE_EVENTS, cols)


def _reach_table(path, fid, rows: list[tuple], runs, ids: pa.Array) -> pa.Table:
    n = len(rows)
    if not n:
        return _empty_table(C.PY_REACHING_DEFS)
    cols, off = _runs(path, fid, runs, n)
    use_idx, use_k, def_idx, def_k, kind, name, space, binding = map(list, zip(*rows))  # lists: see _events_table
    u = pa.array(use_idx, pa.int64())
    d = pa.array(def_idx, pa.int64())
    cols.update({
        "use_instr_id": ids.take(pc.add(u, off)), "use_instr_index": u,
        "use_event_index": use_k, "def_instr_id": ids.take(pc.add(d, off)),
        "def_instr_index": d, "def_event_index": def_k, "def_kind": kind, "name": name,
        "space": space, "binding_id": binding,
    })
    return _assemble(C.PY_REACHING_DEFS, cols)


class _Ids:
    """A code unit's instruction ids, looked up one at a time (failures); ``off``: the unit's first
    file-wide position (memory edges carry positions, ``_instr_ids``). The bulk of the ids is taken in
    Arrow by position."""

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
                self.v += es[0::3]
                self.dst += es[1::3]
                self.inp += es[2::3]
                m += len(es)
        self.runs.append((cu, off, m // 3))
        if unit.unmodelled:
            for k, ok in enumerate(unit.modelled):
                self.modelled[off + k] = ok

    def table(self, path: str, fid: str, ids: pa.Array) -> pa.Table:
        tc = C.PY_DFG_EDGES
        m = len(self.v)
        if not m:
            return _empty_table(tc)
        cols, off = _runs(path, fid, self.runs, m)
        v = pa.array(self.v, pa.int64())
        dst_local = pa.array(self.dst, pa.int64())
        # Handler pseudo-producers (negative ids) and unmodelled producers are rare: their columns are
        # only computed from the rows that have them (a file without any gets constant columns).
        has_pseudo = min(self.v) < 0
        all_modelled = all(self.modelled)
        if has_pseudo:
            pseudo = pc.less(v, 0)
            src_local = pc.if_else(pseudo, None, pc.shift_right(v, _VSHIFT))
            src_output = pc.if_else(pseudo, None, pc.bit_wise_and(v, (1 << _VSHIFT) - 1))
            hv = pc.negate(pc.filter(v, pseudo))
            handler_kind = pc.if_else(pc.equal(pc.bit_wise_and(hv, 3), 1), "exception", "lasti")
            handler_name = pc.binary_join_element_wise("handler@", pc.cast(pc.divide(hv, 4), pa.string()), "")
            name = pc.replace_with_mask(pa.nulls(m, pa.string()), pseudo, handler_name)
            rule = pc.if_else(pseudo, "handler_entry", "stack")
        else:
            src_local = pc.shift_right(v, _VSHIFT)
            src_output = pc.bit_wise_and(v, (1 << _VSHIFT) - 1)
            name = pa.nulls(m, pa.string())
            rule = pa.repeat("stack", m)
        src_global = pc.add(src_local, off)
        if all_modelled:
            instr_kind = pa.repeat("instr", m)
        else:
            modelled = pa.array(self.modelled, pa.bool_()).take(pc.fill_null(src_global, 0))
            instr_kind = pc.if_else(modelled, "instr", "unmodelled")
        src_kind = (pc.replace_with_mask(instr_kind, pseudo, handler_kind) if has_pseudo else instr_kind)
        cols.update({
            "edge_id": pa.nulls(m, pa.string()),  # derived: DuckDB computes it (a VIRTUAL column)
            "kind": pa.repeat("stack", m),
            "src_code_unit_id": cols["code_unit_id"],
            "src_instr_id": ids.take(src_global),
            "src_instr_index": src_local,
            "src_output": src_output,
            "src_kind": src_kind,
            "dst_instr_id": ids.take(pc.add(dst_local, off)),
            "dst_instr_index": dst_local,
            "dst_input": pa.array(self.inp, pa.int16()),
            "name": name,
            "rule": rule,
            "confidence": pa.repeat(pa.scalar(1.0, pa.float32()), m),
        })
        return _assemble(tc, cols)


def _instr_ids(rows: list[tuple], ids: pa.Array) -> None:
    """Memory edge rows carry file-wide instruction positions where their src / dst instruction ids go
    (columns 5 and 9): the ids, taken in one Arrow call (one scalar lookup per id costs ~1 us)."""
    if not rows:
        return
    m = len(rows)
    got = ids.take(pa.array([r[5] for r in rows] + [r[9] for r in rows], pa.int64())).to_pylist()
    rows[:] = [(*r[:5], got[i], *r[6:9], got[m + i], *r[10:]) for i, r in enumerate(rows)]


def _memory_edges(fid, cu, ops, blocks, cfg_edges, evs, owners: dict[int, tuple], ids) -> list[tuple]:
    """Attribute / subscript writes -> later reads of the same name on values from the same binding."""
    if not owners or not any(_OWNER[ops[i]][2] == "def" for i in owners):
        return []  # no attribute / subscript write in this code unit
    load_binding: dict[int, str | None] = {}  # value id of a slot load -> binding
    uses_by_instr: dict[int, list[_Event]] = {}
    for e in evs:
        if e[_KIND] == O.USE_SLOT:
            uses_by_instr.setdefault(e[_IDX], []).append(e)
    for idx, es in uses_by_instr.items():
        base = ops[idx]
        if base not in _SLOT_LOADS:
            continue
        if base == "LOAD_FAST_LOAD_FAST":
            for k, e in enumerate(es[:2]):
                load_binding[idx << _VSHIFT | k] = e[_BIND]
        else:
            load_binding[idx << _VSHIFT] = es[-1][_BIND]
    # Per memory op: (kind, role, name, owner binding)
    sites: dict[tuple, list[tuple[str, int]]] = {}
    attr_name = {e[_IDX]: e[_NAME] for e in evs if e[_KIND] in (O.USE_ATTR, O.DEF_ATTR, O.KILL_ATTR)}
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
                    out.append((fid, cu, None, "memory", cu, ids.off + w, w, None, "instr", ids.off + r, r, None,
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
                out.append((fid, rcu, None, "memory", wcu, wid.off + widx, widx, None, "instr", rid.off + ridx, ridx, None, name,
                            "global_same_module", 0.5))
                n += 1
    return out


def upstream_failure(path: str, fid: str, msg: str) -> dict[str, pa.Table]:
    """No bytecode for the file: empty tables and a status row saying so (stage ``upstream``)."""
    out = {name: to_table(C.__dict__[name.upper()], [], path) for name in _empty()}
    out["py_dfg_files"] = to_table(C.PY_DFG_FILES, [(fid, False, "upstream", "BytecodeUnavailable", msg,
                                                     0, 0, 0, 0, 0, 0, 0, 0, [])], path)
    return out

