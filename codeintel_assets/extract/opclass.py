"""The def/use classifier (seed 000 C1-C3), keyed by ``baseopname``, with CPython 3.13's stack shapes.

One row per 3.13 opcode: the def/use events it emits (binding slots in FAST / DEREF / NAME / GLOBAL
space, attribute and subscript reads and writes, calls, branches), whether it branches, calls or ends
a block, and its **stack shape**: how many values it pops and, for every value it pushes, whether it
is a new value produced by the instruction or one of its inputs passed through (``GET_LEN``
``(obj -- obj, len)`` leaves ``obj`` where it was). The shapes are the ``inst(NAME, (inputs --
outputs))`` declarations of CPython 3.13's ``Python/bytecodes.c``; ``tests/test_opclass.py`` checks
every row's ``pushes - pops`` against ``dis.stack_effect`` for every oparg that matters, on both
edges of every jump.

An op not listed here (a future opcode) gets seed C3's pattern rules for its events and
``dis.stack_effect`` unknown values for its stack: the pass counts such fallback hits per opname.
"""

import dis
import sys
from dataclasses import dataclass

FAST, DEREF, NAME, GLOBAL = "FAST", "DEREF", "NAME", "GLOBAL"
OPMAP = dict(dis.opmap)
SLOT_SPACES = (FAST, DEREF, NAME, GLOBAL)

# Event kinds (seed C1), plus CALL / BRANCH / IMPORT annotations.
USE_SLOT, DEF_SLOT, KILL_SLOT = "USE_SLOT", "DEF_SLOT", "KILL_SLOT"
USE_ATTR, DEF_ATTR, KILL_ATTR = "USE_ATTR", "DEF_ATTR", "KILL_ATTR"
USE_SUBSCR, DEF_SUBSCR, KILL_SUBSCR = "USE_SUBSCR", "DEF_SUBSCR", "KILL_SUBSCR"
CALL, BRANCH, IMPORT = "CALL", "BRANCH", "IMPORT"


@dataclass(frozen=True)
class OpClass:
    """One classifier row. ``events``: (kind, space) in execution order; the name comes from the
    instruction (``argval``; superinstructions name one slot per event)."""

    baseopname: str
    events: tuple[tuple[str, str | None], ...] = ()
    pops: str = "0"  # a Python expression of ``oparg`` (documented and evaluated)
    pushes: str = "0"  # idem: the number of values pushed
    passthrough: str = ""  # "out<-in" pairs: output k is input j (0 = deepest popped), e.g. "0<-0"
    peek: str = ""  # stack depth (expression of oparg, 1 = top after the pops) read without popping
    is_branch: bool = False
    is_call: bool = False
    is_terminator: bool = False
    confidence: float = 1.0
    note: str = ""


def _c(name, events=(), pops="0", pushes="0", passthrough="", peek="", **kw) -> OpClass:
    return OpClass(name, tuple(events), pops, pushes, passthrough, peek, **kw)


_U, _D, _K = USE_SLOT, DEF_SLOT, KILL_SLOT
MEMORY_CONFIDENCE = 0.6  # attribute / subscript events: the object is known only by the value it came from

CLASSIFIER: dict[str, OpClass] = {c.baseopname: c for c in (
    # -- binding slots ----------------------------------------------------------------------
    _c("LOAD_FAST", [(_U, FAST)], pushes="1"),
    _c("LOAD_FAST_CHECK", [(_U, FAST)], pushes="1", note="raises UnboundLocalError when the slot is empty"),
    _c("LOAD_FAST_AND_CLEAR", [(_U, FAST), (_K, FAST)], pushes="1",
       note="inlined comprehension (PEP 709): saves the outer value on the stack and clears the slot; "
            "a later STORE_FAST of that saved value restores it"),
    _c("LOAD_FAST_LOAD_FAST", [(_U, FAST), (_U, FAST)], pushes="2", note="superinstruction: two loads, first name first"),
    _c("STORE_FAST", [(_D, FAST)], pops="1"),
    _c("STORE_FAST_MAYBE_NULL", [(_D, FAST)], pops="1", note="pseudo-op (compiled to STORE_FAST)"),
    _c("STORE_FAST_STORE_FAST", [(_D, FAST), (_D, FAST)], pops="2",
       note="superinstruction: the first name gets the top of the stack, then the second name the next"),
    _c("STORE_FAST_LOAD_FAST", [(_D, FAST), (_U, FAST)], pops="1", pushes="1",
       note="superinstruction: store into the first name, then load the second"),
    _c("DELETE_FAST", [(_K, FAST)]),
    _c("LOAD_DEREF", [(_U, DEREF)], pushes="1"),
    _c("STORE_DEREF", [(_D, DEREF)], pops="1"),
    _c("DELETE_DEREF", [(_K, DEREF)]),
    _c("MAKE_CELL", [(_D, DEREF)], note="a parameter's cell holds its value (cell_init); any other cell starts empty"),
    _c("COPY_FREE_VARS", [], note="the first oparg free variables are copied from the closure (free_init entry "
                                  "definitions)"),
    _c("LOAD_FROM_DICT_OR_DEREF", [(_U, DEREF)], pops="1", pushes="1",
       note="class body: the class namespace first, then the cell"),
    _c("LOAD_CLOSURE", [], pushes="1", note="pseudo-op (compiled to LOAD_FAST of the cell)"),
    _c("LOAD_NAME", [(_U, NAME)], pushes="1"),
    _c("STORE_NAME", [(_D, NAME)], pops="1"),
    _c("DELETE_NAME", [(_K, NAME)]),
    _c("LOAD_GLOBAL", [(_U, GLOBAL)], pushes="1 + (oparg & 1)", note="oparg & 1: a NULL is pushed too (call form)"),
    _c("STORE_GLOBAL", [(_D, GLOBAL)], pops="1"),
    _c("DELETE_GLOBAL", [(_K, GLOBAL)]),
    _c("LOAD_FROM_DICT_OR_GLOBALS", [(_U, GLOBAL)], pops="1", pushes="1",
       note="type scope / class annotation scope: the given mapping first, then globals and builtins"),
    _c("LOAD_LOCALS", [], pushes="1"),
    # -- attributes ----------------------------------------------------------------------------
    _c("LOAD_ATTR", [(USE_ATTR, None)], pops="1", pushes="1 + (oparg & 1)", passthrough="1<-0",
       confidence=MEMORY_CONFIDENCE,
       note="oparg & 1 (method form): pushes the method and the owner as self (or NULL and the attribute)"),
    _c("STORE_ATTR", [(DEF_ATTR, None)], pops="2", confidence=MEMORY_CONFIDENCE, note="(value, owner --)"),
    _c("DELETE_ATTR", [(KILL_ATTR, None)], pops="1", confidence=MEMORY_CONFIDENCE),
    _c("LOAD_SUPER_ATTR", [(USE_ATTR, None)], pops="3", pushes="1 + (oparg & 1)", passthrough="1<-2",
       confidence=MEMORY_CONFIDENCE, note="(global_super, class, self -- attr[, self_or_null]); oparg & 1: method form"),
    _c("IMPORT_FROM", [(USE_ATTR, None)], pops="1", pushes="2", passthrough="0<-0",
       confidence=MEMORY_CONFIDENCE, note="(module -- module, value)"),
    _c("IMPORT_NAME", [(IMPORT, None)], pops="2", pushes="1", note="(level, fromlist -- module)"),
    # -- subscripts ------------------------------------------------------------------------------
    _c("BINARY_SUBSCR", [(USE_SUBSCR, None)], pops="2", pushes="1", confidence=MEMORY_CONFIDENCE),
    _c("STORE_SUBSCR", [(DEF_SUBSCR, None)], pops="3", confidence=MEMORY_CONFIDENCE, note="(value, container, index --)"),
    _c("DELETE_SUBSCR", [(KILL_SUBSCR, None)], pops="2", confidence=MEMORY_CONFIDENCE),
    _c("BINARY_SLICE", [(USE_SUBSCR, None)], pops="3", pushes="1", confidence=MEMORY_CONFIDENCE),
    _c("STORE_SLICE", [(DEF_SUBSCR, None)], pops="4", confidence=MEMORY_CONFIDENCE),
    # -- calls -----------------------------------------------------------------------------------
    _c("CALL", [(CALL, None)], pops="oparg + 2", pushes="1", is_call=True,
       note="(callable, self_or_null, args[oparg] -- result)"),
    _c("CALL_KW", [(CALL, None)], pops="oparg + 3", pushes="1", is_call=True,
       note="(callable, self_or_null, args[oparg], kwnames -- result)"),
    _c("CALL_FUNCTION_EX", [(CALL, None)], pops="3 + (oparg & 1)", pushes="1", is_call=True,
       note="(callable, null, callargs[, kwargs] -- result)"),
    _c("CALL_INTRINSIC_1", pops="1", pushes="1"),
    _c("CALL_INTRINSIC_2", pops="2", pushes="1"),
    # -- branches and block ends ---------------------------------------------------------------
    _c("POP_JUMP_IF_TRUE", [(BRANCH, None)], pops="1", is_branch=True),
    _c("POP_JUMP_IF_FALSE", [(BRANCH, None)], pops="1", is_branch=True),
    _c("POP_JUMP_IF_NONE", [(BRANCH, None)], pops="1", is_branch=True),
    _c("POP_JUMP_IF_NOT_NONE", [(BRANCH, None)], pops="1", is_branch=True),
    _c("FOR_ITER", [(BRANCH, None)], pops="1", pushes="2", passthrough="0<-0", is_branch=True,
       note="(iter -- iter, next); when exhausted the jump edge carries a placeholder that END_FOR pops"),
    _c("SEND", [(BRANCH, None)], pops="2", pushes="2", passthrough="0<-0", is_branch=True,
       note="(receiver, value -- receiver, result)"),
    _c("JUMP_FORWARD"), _c("JUMP_BACKWARD"), _c("JUMP_BACKWARD_NO_INTERRUPT"),
    _c("JUMP", note="pseudo-op"), _c("JUMP_NO_INTERRUPT", note="pseudo-op"),
    _c("RETURN_VALUE", pops="1", is_terminator=True),
    _c("RETURN_CONST", is_terminator=True),
    _c("RAISE_VARARGS", pops="oparg", is_terminator=True),
    _c("RERAISE", pops="1", is_terminator=True, note="(values[oparg], exc -- values[oparg]): only exc is popped"),
    _c("RETURN_GENERATOR", pushes="1"),
    _c("YIELD_VALUE", pops="1", pushes="1", note="(value -- sent)"),
    # -- the stack itself ------------------------------------------------------------------------
    _c("NOP"), _c("RESUME"), _c("EXTENDED_ARG"), _c("CACHE"), _c("RESERVED"), _c("ENTER_EXECUTOR"),
    _c("POP_TOP", pops="1"),
    _c("PUSH_NULL", pushes="1"),
    _c("COPY", pops="0", pushes="1", note="pushes stack[-oparg] again (the same value: no new value, no edge)"),
    _c("SWAP", note="exchanges the top and stack[-oparg] (no new value, no edge)"),
    _c("END_FOR", pops="1"),
    _c("END_SEND", pops="2", pushes="1", passthrough="0<-1", note="(receiver, value -- value)"),
    _c("INTERPRETER_EXIT", pops="1", is_terminator=True),
    _c("LOAD_CONST", pushes="1"),
    _c("LOAD_ASSERTION_ERROR", pushes="1"),
    _c("LOAD_BUILD_CLASS", pushes="1"),
    _c("SETUP_ANNOTATIONS"),
    _c("UNARY_NEGATIVE", pops="1", pushes="1"), _c("UNARY_NOT", pops="1", pushes="1"),
    _c("UNARY_INVERT", pops="1", pushes="1"), _c("TO_BOOL", pops="1", pushes="1"),
    _c("BINARY_OP", pops="2", pushes="1"),
    _c("COMPARE_OP", pops="2", pushes="1"), _c("IS_OP", pops="2", pushes="1"), _c("CONTAINS_OP", pops="2", pushes="1"),
    _c("GET_ITER", pops="1", pushes="1"), _c("GET_YIELD_FROM_ITER", pops="1", pushes="1"),
    _c("GET_AITER", pops="1", pushes="1"), _c("GET_AWAITABLE", pops="1", pushes="1"),
    _c("GET_ANEXT", pops="1", pushes="2", passthrough="0<-0", note="(aiter -- aiter, awaitable)"),
    _c("END_ASYNC_FOR", pops="2", note="(awaitable, exc --)"),
    _c("GET_LEN", pops="1", pushes="2", passthrough="0<-0", note="(obj -- obj, len)"),
    _c("BUILD_TUPLE", pops="oparg", pushes="1"), _c("BUILD_LIST", pops="oparg", pushes="1"),
    _c("BUILD_SET", pops="oparg", pushes="1"), _c("BUILD_MAP", pops="2 * oparg", pushes="1"),
    _c("BUILD_CONST_KEY_MAP", pops="oparg + 1", pushes="1"), _c("BUILD_STRING", pops="oparg", pushes="1"),
    _c("BUILD_SLICE", pops="2 + (oparg == 3)", pushes="1", note="(start, stop[, step] -- slice)"),
    _c("LIST_APPEND", pops="1", peek="oparg", note="(list, unused[oparg-1], value -- list, unused[oparg-1])"),
    _c("SET_ADD", pops="1", peek="oparg"), _c("LIST_EXTEND", pops="1", peek="oparg"),
    _c("SET_UPDATE", pops="1", peek="oparg"), _c("DICT_UPDATE", pops="1", peek="oparg"),
    _c("DICT_MERGE", pops="1", peek="oparg + 2", note="(callable, unused, unused, dict, unused[oparg-1], update --)"),
    _c("MAP_ADD", pops="2", peek="oparg", note="(dict, unused[oparg-1], key, value --)"),
    _c("UNPACK_SEQUENCE", pops="1", pushes="oparg"),
    _c("UNPACK_EX", pops="1", pushes="(oparg & 0xFF) + (oparg >> 8) + 1"),
    _c("MAKE_FUNCTION", pops="1", pushes="1"),
    _c("SET_FUNCTION_ATTRIBUTE", pops="2", pushes="1", passthrough="0<-1", note="(attr, func -- func)"),
    _c("FORMAT_SIMPLE", pops="1", pushes="1"), _c("FORMAT_WITH_SPEC", pops="2", pushes="1"),
    _c("CONVERT_VALUE", pops="1", pushes="1"),
    _c("BEFORE_WITH", pops="1", pushes="2", note="(mgr -- exit, result of __enter__)"),
    _c("BEFORE_ASYNC_WITH", pops="1", pushes="2", note="(mgr -- exit, awaitable of __aenter__)"),
    _c("WITH_EXCEPT_START", pops="4", pushes="5", passthrough="0<-0 1<-1 2<-2 3<-3",
       note="(exit_func, lasti, unused, exc -- exit_func, lasti, unused, exc, result)"),
    _c("PUSH_EXC_INFO", pops="1", pushes="2", passthrough="1<-0", note="(exc -- previous exc, exc)"),
    _c("POP_EXCEPT", pops="1"),
    _c("CHECK_EXC_MATCH", pops="2", pushes="2", passthrough="0<-0", note="(exc, type -- exc, matched)"),
    _c("CHECK_EG_MATCH", pops="2", pushes="2", note="(exc_group, type -- rest, match)"),
    _c("CLEANUP_THROW", pops="3", pushes="2", note="(sub_iter, last_sent, exc -- none, value)"),
    _c("EXIT_INIT_CHECK", pops="1"),
    _c("MATCH_CLASS", pops="3", pushes="1", note="(subject, type, names -- attrs or None)"),
    _c("MATCH_MAPPING", pops="1", pushes="2", passthrough="0<-0"),
    _c("MATCH_SEQUENCE", pops="1", pushes="2", passthrough="0<-0"),
    _c("MATCH_KEYS", pops="2", pushes="3", passthrough="0<-0 1<-1", note="(subject, keys -- subject, keys, values)"),
    # Pseudo-ops (assembler only; never in a code object): listed so the classifier is complete.
    _c("SETUP_FINALLY", note="pseudo-op"), _c("SETUP_CLEANUP", note="pseudo-op"), _c("SETUP_WITH", note="pseudo-op"),
    _c("POP_BLOCK", note="pseudo-op"),
    _c("LOAD_METHOD", pops="1", pushes="2", note="pseudo-op"),
    _c("LOAD_SUPER_METHOD", pops="3", pushes="2", note="pseudo-op"),
    _c("LOAD_ZERO_SUPER_METHOD", pops="3", pushes="2", note="pseudo-op"),
    _c("LOAD_ZERO_SUPER_ATTR", pops="3", pushes="2", note="pseudo-op"),
)}
# Ops that cannot raise (no lookup, no call, no allocation that can fail, no eval-breaker check where a
# signal handler's exception would surface): an exception edge does not carry the state before them.
NO_RAISE = frozenset({
    "NOP", "LOAD_CONST", "LOAD_FAST", "LOAD_FAST_LOAD_FAST", "LOAD_FAST_AND_CLEAR", "STORE_FAST",
    "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST", "PUSH_NULL", "COPY", "SWAP", "POP_TOP", "JUMP_FORWARD",
    "JUMP_BACKWARD_NO_INTERRUPT", "EXTENDED_ARG", "CACHE", "RETURN_CONST", "RETURN_VALUE",
})
# Instrumented variants (sys.monitoring rewrites code in place; dis shows the base op with adaptive=False).
INSTRUMENTED_PREFIX = "INSTRUMENTED_"


def fallback(baseopname: str) -> OpClass:
    """Seed C3: the pattern rules for an op the table does not list (stack: ``dis.stack_effect``)."""
    for prefix, kind in (("LOAD_", USE_SLOT), ("STORE_", DEF_SLOT), ("DELETE_", KILL_SLOT)):
        if baseopname.startswith(prefix):
            for space in SLOT_SPACES:
                if baseopname.endswith(space):
                    return OpClass(baseopname, ((kind, space),), note="fallback (seed C3)")
    if baseopname.endswith("_ATTR"):
        kind = DEF_ATTR if baseopname.startswith("STORE_") else KILL_ATTR if baseopname.startswith("DELETE_") else USE_ATTR
        return OpClass(baseopname, ((kind, None),), confidence=MEMORY_CONFIDENCE, note="fallback (seed C3)")
    if "SUBSCR" in baseopname:
        kind = DEF_SUBSCR if baseopname.startswith("STORE_") else KILL_SUBSCR if baseopname.startswith("DELETE_") else USE_SUBSCR
        return OpClass(baseopname, ((kind, None),), confidence=MEMORY_CONFIDENCE, note="fallback (seed C3)")
    return OpClass(baseopname, (), note="fallback (seed C3): no binding or memory event")


@dataclass(frozen=True, slots=True)
class Shape:
    """An instruction's stack shape for one oparg: pops, and per pushed value its input (or -1: new)."""

    pops: int
    outs: tuple[int, ...]  # per output (bottom first): index of the input it passes through, or -1
    peek: int  # 0: none; k: reads the value k deep (1 = top) after its pops, without popping it
    modelled: bool


_SHAPES: dict[tuple[str, int], Shape] = {}
# Ops whose shape does not depend on oparg (one cache entry each).
_ARG_FREE = frozenset(n for n, c in CLASSIFIER.items() if "oparg" not in c.pops + c.pushes + c.peek)


def shape(baseopname: str, opcode: int, oparg: int | None, jump: bool) -> Shape:
    """The stack shape of one instruction (memoised per (op, oparg)). Unlisted ops: ``dis.stack_effect``
    unknown values (pops the net loss, or pushes the net gain, as new values), ``modelled=False``."""
    c = CLASSIFIER.get(baseopname)
    key = (baseopname, -1 if oparg is None or (c is not None and c.baseopname in _ARG_FREE) else oparg)
    sh = _SHAPES.get(key)
    if sh is not None:
        return sh
    a = oparg or 0
    if c is None:
        try:
            net = dis.stack_effect(opcode, oparg if opcode >= dis.HAVE_ARGUMENT else None, jump=jump)
        except ValueError:
            net = 0
        sh = Shape(max(-net, 0), (-1,) * max(net, 0), 0, False)
    else:
        env = {"oparg": a}
        pops = eval(c.pops, {}, env)  # noqa: S307 - the table's own expressions of oparg
        pushes = eval(c.pushes, {}, env)  # noqa: S307
        outs = [-1] * pushes
        for pair in c.passthrough.split():
            o, i = pair.split("<-")
            if int(o) < pushes:
                outs[int(o)] = int(i)
        peek = eval(c.peek, {}, env) if c.peek else 0  # noqa: S307
        sh = Shape(pops, tuple(outs), peek, True)
    _SHAPES[key] = sh
    return sh


def classifier_rows() -> list[tuple]:
    """``py_bc_op_classifier``: one row per 3.13 opcode name (base ops; ``dis.opmap`` order)."""
    rows = []
    version = ".".join(map(str, sys.version_info[:3]))
    names = sorted(dis.opmap, key=lambda n: dis.opmap[n])
    for name in names:
        if name.startswith(INSTRUMENTED_PREFIX):
            continue
        c = CLASSIFIER.get(name)
        listed = c is not None
        c = c or fallback(name)
        spaces = sorted({sp for _, sp in c.events if sp})
        rows.append((
            name, dis.opmap[name], [k for k, _ in c.events], ",".join(spaces) or None,
            "argval" if any(sp for _, sp in c.events) or any(k.endswith("_ATTR") for k, _ in c.events) else None,
            c.pops, c.pushes, c.passthrough or None, c.peek or None,
            c.is_branch, c.is_call, c.is_terminator, listed, c.confidence, c.note or None, version,
        ))
    return rows
