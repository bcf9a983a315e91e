"""A dynamic oracle for reaching definitions of local variables, built on ``sys.monitoring`` (PEP 669).

It knows nothing of CodeIntel: it reads the bytecode with ``dis`` itself, runs code with INSTRUCTION
events on the given code objects, and records, for every executed read of a fast local, the store
that last wrote that local **in the same frame** (or ``param`` when the value is the argument the
frame started with). Each observation is ``(code, def_offset | None, use_offset)``; ``None`` means the
parameter.

Reads and writes of fast locals in CPython 3.13 (``dis`` names):

- loads: ``LOAD_FAST``, ``LOAD_FAST_CHECK``, ``LOAD_FAST_LOAD_FAST`` (two), the load half of
  ``STORE_FAST_LOAD_FAST``, ``LOAD_FAST_AND_CLEAR`` (reads, then empties the slot);
- stores: ``STORE_FAST``, ``STORE_FAST_STORE_FAST`` (two), the store half of ``STORE_FAST_LOAD_FAST``;
- ``DELETE_FAST`` empties the slot. A ``LOAD_FAST`` of a cell or free slot loads the cell object
  (``LOAD_CLOSURE``): not a read of the variable, ignored.
"""

import dis
import sys
from collections.abc import Callable, Iterable
from types import CodeType

_LOADS = {"LOAD_FAST", "LOAD_FAST_CHECK"}
CO_VARARGS, CO_VARKEYWORDS = 0x04, 0x08


def all_code_objects(roots: Iterable[CodeType]) -> list[CodeType]:
    out, stack, seen = [], list(roots), set()
    while stack:
        c = stack.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        stack.extend(k for k in c.co_consts if isinstance(k, CodeType))
    return out


def _actions(code: CodeType) -> dict[int, list[tuple[str, str]]]:
    """offset -> [(action, name)] in execution order; action in load / store / clear."""
    cells = set(code.co_cellvars) | set(code.co_freevars)
    acts: dict[int, list[tuple[str, str]]] = {}
    for ins in dis.get_instructions(code):
        op, v = ins.opname, ins.argval
        a: list[tuple[str, str]] = []
        if op in _LOADS:
            if v not in cells:
                a = [("load", v)]
        elif op == "LOAD_FAST_LOAD_FAST":
            a = [("load", v[0]), ("load", v[1])]
        elif op == "STORE_FAST_LOAD_FAST":
            a = [("store", v[0]), ("load", v[1])]
        elif op == "STORE_FAST":
            a = [("store", v)]
        elif op == "STORE_FAST_STORE_FAST":
            a = [("store", v[0]), ("store", v[1])]
        elif op == "LOAD_FAST_AND_CLEAR":
            a = [("load", v), ("clear", v)]
        elif op == "DELETE_FAST":
            a = [("clear", v)]
        if a:
            acts[ins.offset] = a
    return acts


def _params(code: CodeType) -> tuple[str, ...]:
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & CO_VARARGS) + bool(code.co_flags & CO_VARKEYWORDS)
    return code.co_varnames[:n]


def observe(codes: Iterable[CodeType], run: Callable[[], object]) -> set[tuple[CodeType, int | None, int]]:
    """Run ``run()`` with the given code objects instrumented; -> observed (code, def offset | None, use offset)."""
    mon = sys.monitoring
    tool = next(t for t in range(6) if mon.get_tool(t) is None)
    codes = list(codes)
    actions = {c: _actions(c) for c in codes}
    params = {c: _params(c) for c in codes}
    frames: dict[int, dict[str, int | None | str]] = {}
    seen: set[tuple[CodeType, int | None, int]] = set()
    getframe = sys._getframe  # documented in the sys module; the frame whose instruction is reported

    def on_start(code, offset):
        frames[id(getframe(1))] = {p: "param" for p in params[code]}

    def on_instruction(code, offset):
        acts = actions[code].get(offset)
        if not acts:
            return
        state = frames.setdefault(id(getframe(1)), {p: "param" for p in params[code]})
        for action, name in acts:
            if action == "load":
                d = state.get(name)
                if d is not None:
                    seen.add((code, None if d == "param" else d, offset))
            elif action == "store":
                state[name] = offset
            else:
                state[name] = None

    mon.use_tool_id(tool, "codeintel-dfg-oracle")
    try:
        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
        for c in codes:
            mon.set_local_events(tool, c, mon.events.PY_START | mon.events.INSTRUCTION)
        run()
    finally:
        for c in codes:
            mon.set_local_events(tool, c, 0)
        mon.register_callback(tool, mon.events.PY_START, None)
        mon.register_callback(tool, mon.events.INSTRUCTION, None)
        mon.free_tool_id(tool)
    return seen
