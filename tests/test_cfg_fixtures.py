"""CFG plane: exact blocks and edges for micro-fixtures (seed 000 algorithms A and B, CPython 3.13).

Each expectation was derived by hand from ``dis.dis(code, show_offsets=True)`` of the snippet:
block starts = {entry} ∪ jump targets ∪ exception-table start/end/target ∪ the instruction after
every jump, return/raise and YIELD_VALUE; blocks are numbered B0.. by start offset. Offsets quoted
in comments are those of the 3.13 listing.

Polarity (seed B2): the jump of POP_JUMP_IF_FALSE is ``false``, of POP_JUMP_IF_TRUE ``true``;
FOR_ITER and SEND fall through on "next item / sub-iterator yielded" (``true``) and jump when
exhausted (``false``). POP_JUMP_IF_NONE / _NOT_NONE jump when the predicate the opcode names holds
(``true``): the source polarity of an ``is None`` test is not recoverable from the opcode (the
optimiser makes the same opcode from ``is None`` + jump-if-false and ``is not None`` + jump-if-true),
which is why every branch edge also carries its ``polarity_rule``.

3.13 exception tables are flat: ranges never overlap, a nested ``try`` appears as the inner handler's
own range pointing at the outer handler. So every block lies in at most one range and all exc edges
are innermost.
"""

from itertools import pairwise

import pytest
from facts import facts

FIXTURES = {
    "if_elif_else": """
        def f(x):
            if x > 0:
                y = 1
            elif x is None:
                y = 2
            else:
                y = 3
            print(y)
            return y
    """,
    "while_break_continue": """
        def f(n):
            while n:
                n -= 1
                if n == 3:
                    continue
                if n == 5:
                    break
            return n
    """,
    "for_else": """
        def f(xs):
            for x in xs:
                if x:
                    break
            else:
                return 0
            return 1
    """,
    "try_except_else_finally": """
        def f():
            try:
                a()
            except ValueError as e:
                b(e)
            else:
                c()
            finally:
                d()
    """,
    "nested_try": """
        def f():
            try:
                try:
                    a()
                except KeyError:
                    b()
            except Exception:
                c()
    """,
    "except_as_pass": """
        def f():
            try:
                a()
            except E as e:
                pass
    """,
    "with": """
        def f(cm):
            with cm as x:
                x()
    """,
    "async_with": """
        async def g(cm):
            async with cm as x:
                x()
    """,
    "async_for": """
        async def f(xs):
            async for x in xs:
                g(x)
    """,
    "match": """
        def f(p):
            match p:
                case 0:
                    return "zero"
                case [x, y]:
                    return x + y
                case {"k": v} if v:
                    return v
                case _:
                    return None
    """,
    "listcomp": """
        def f(xs):
            return [x for x in xs if x]
    """,
    "genexpr": """
        def f(xs):
            return sum(x * 2 for x in xs)
    """,
    "lambda": """
        k = lambda a, b=1: a if a else b
    """,
    "class_body": """
        class C(Base):
            x = 1
            if x:
                y = 2
            def m(self):
                return self.__p
    """,
    "decorators": """
        @dec
        @other(1)
        def f():
            pass
    """,
    "pep695": """
        class C[T: int, *Ts]:
            def m[U](self, u: U) -> T: ...
        type Alias[K] = dict[K, int]
        def g[V = str](v: V) -> V:
            return v
    """,
}

_CACHE: dict[str, object] = {}


def fx(name: str):
    if name not in _CACHE:
        _CACHE[name] = facts(FIXTURES[name])
    return _CACHE[name]


def test_if_elif_else():
    f = fx("if_elif_else")
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",
        "B1 normal: LOAD_CONST STORE_FAST JUMP_FORWARD",  # y = 1
        "B2 normal: LOAD_FAST POP_JUMP_IF_NOT_NONE",  # elif x is None
        "B3 normal: LOAD_CONST STORE_FAST JUMP_FORWARD",  # y = 2
        "B4 normal: LOAD_CONST STORE_FAST",  # else: y = 3, falls into the join
        # The join has three predecessors but ends in RETURN_VALUE: exit outranks merge.
        "B5 exit: LOAD_GLOBAL LOAD_FAST CALL POP_TOP LOAD_FAST RETURN_VALUE",
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "true"), ("B0", "B2", "false"),  # POP_JUMP_IF_FALSE: fallthrough = x > 0
        ("B1", "B5", "jump"),
        ("B2", "B4", "true"), ("B2", "B3", "false"),  # POP_JUMP_IF_NOT_NONE jumps to else when x is not None
        ("B3", "B5", "jump"),
        ("B4", "B5", "next"),
    }
    assert f.branch_rules("f") == {"B0": "jump_if_false", "B2": "jump_if_not_none"}
    assert f.exc_edges("f") == set()


def test_if_return_tail_is_duplicated_not_merged():
    # 3.13 copies a small exit block (<= 4 instructions) into every predecessor: no join block.
    f = facts("""
        def f(x):
            if x:
                y = 1
            else:
                y = 2
            return y
    """)
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE",
        "B1 exit: LOAD_CONST STORE_FAST LOAD_FAST RETURN_VALUE",
        "B2 exit: LOAD_CONST STORE_FAST LOAD_FAST RETURN_VALUE",
    ]
    assert f.cfg_edges("f") == {("B0", "B1", "true"), ("B0", "B2", "false")}


def test_while_break_continue():
    f = fx("while_break_continue")
    # 3.13 rotates the loop: the test `n` is at 2 (B1) for the first entry and `continue`, and
    # repeated at the bottom (60, B6), whose true edge jumps back to the body at 16 (B2).
    assert f.blocks("f") == [
        "B0 entry: RESUME",
        "B1 loop_header: LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE",  # target of `continue` (38 -> 2)
        "B2 loop_header: LOAD_FAST LOAD_CONST BINARY_OP STORE_FAST LOAD_FAST LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",
        "B3 normal: JUMP_BACKWARD",  # continue
        "B4 normal: LOAD_FAST LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",  # if n == 5
        "B5 exit: NOP LOAD_FAST RETURN_VALUE",  # break: NOP + the duplicated `return n`
        "B6 normal: LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE",  # rotated loop test
        "B7 normal: JUMP_BACKWARD",
        "B8 exit: LOAD_FAST RETURN_VALUE",  # loop exit
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"),
        ("B1", "B2", "true"), ("B1", "B8", "false"),
        ("B2", "B3", "true"), ("B2", "B4", "false"),
        ("B3", "B1", "jump"),
        ("B4", "B5", "true"), ("B4", "B6", "false"),
        ("B6", "B7", "true"), ("B6", "B8", "false"),
        ("B7", "B2", "jump"),
    }
    assert f.branch_rules("f") == {b: "jump_if_false" for b in ("B1", "B2", "B4", "B6")}


def test_for_else():
    f = fx("for_else")
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST GET_ITER",
        "B1 loop_header: FOR_ITER",
        "B2 normal: STORE_FAST LOAD_FAST TO_BOOL POP_JUMP_IF_TRUE",
        "B3 normal: JUMP_BACKWARD",
        "B4 exit: POP_TOP RETURN_CONST",  # break: pop the iterator, `return 1`
        "B5 exit: END_FOR POP_TOP RETURN_CONST",  # FOR_ITER's target (34) is END_FOR; else: `return 0`
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"),
        ("B1", "B2", "true"), ("B1", "B5", "false"),  # FOR_ITER: fallthrough = next item, jump = exhausted
        ("B2", "B4", "true"), ("B2", "B3", "false"),  # POP_JUMP_IF_TRUE: jump = x truthy = break
        ("B3", "B1", "jump"),
    }
    assert f.branch_rules("f") == {"B1": "for_iter", "B2": "jump_if_true"}


def test_try_except_else_finally():
    f = fx("try_except_else_finally")
    assert [(r["start_offset"], r["end_offset"], r["target_offset"], r["depth"], r["lasti"])
            for r in f.exception_table("f")] == [
        (4, 24, 66, 0, False), (24, 44, 134, 0, False), (66, 86, 128, 1, True), (86, 108, 118, 1, True),
        (108, 118, 134, 0, False), (118, 128, 128, 1, True), (128, 134, 134, 0, False), (134, 158, 158, 1, True),
    ]
    assert f.blocks("f") == [
        "B0 entry: RESUME NOP",
        "B1 normal: LOAD_GLOBAL CALL POP_TOP",  # try: a()            [4, 24) -> 66
        "B2 normal: LOAD_GLOBAL CALL POP_TOP",  # else: c()           [24, 44) -> 134
        "B3 exit: LOAD_GLOBAL CALL POP_TOP RETURN_CONST",  # finally (normal path), no handler
        "B4 handler: PUSH_EXC_INFO LOAD_GLOBAL CHECK_EXC_MATCH POP_JUMP_IF_FALSE",  # except ValueError
        "B5 normal: STORE_FAST",  # as e
        "B6 normal: LOAD_GLOBAL LOAD_FAST CALL POP_TOP",  # b(e)  [86, 108) -> 118 (clears e)
        "B7 normal: POP_EXCEPT LOAD_CONST STORE_FAST DELETE_FAST JUMP_BACKWARD_NO_INTERRUPT",  # -> finally
        "B8 handler: LOAD_CONST STORE_FAST DELETE_FAST RERAISE",  # `del e` when b(e) raises
        "B9 exit: RERAISE",  # no match: re-raise
        "B10 handler: COPY POP_EXCEPT RERAISE",  # cleanup: restore the previous exception
        "B11 handler: PUSH_EXC_INFO LOAD_GLOBAL CALL POP_TOP RERAISE",  # finally (exception path)
        "B12 handler: COPY POP_EXCEPT RERAISE",
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"), ("B2", "B3", "next"),
        ("B4", "B5", "true"), ("B4", "B9", "false"),  # CHECK_EXC_MATCH + POP_JUMP_IF_FALSE
        ("B5", "B6", "next"), ("B6", "B7", "next"),
        # A backward jump that is not a loop: the handler exits to the finally body placed before it.
        ("B7", "B3", "jump"),
    }
    assert f.exc_edges("f") == {
        ("B1", "B4", 0, False),
        ("B2", "B11", 0, False),  # an exception in `else` is not caught by `except`, only by finally
        ("B4", "B10", 1, True), ("B5", "B10", 1, True),
        ("B6", "B8", 1, True),
        ("B7", "B11", 0, False),
        ("B8", "B10", 1, True), ("B9", "B10", 1, True),
        ("B10", "B11", 0, False),
        ("B11", "B12", 1, True),
    }
    assert f.branch_rules("f") == {"B4": "jump_if_false"}


def test_nested_try_flat_exception_table():
    f = fx("nested_try")
    assert f.blocks("f") == [
        "B0 entry: RESUME NOP NOP",
        "B1 normal: LOAD_GLOBAL CALL POP_TOP",  # a()  [6, 26) -> 28
        "B2 exit: RETURN_CONST",
        "B3 handler: PUSH_EXC_INFO LOAD_GLOBAL CHECK_EXC_MATCH POP_JUMP_IF_FALSE",  # except KeyError
        "B4 normal: POP_TOP LOAD_GLOBAL CALL POP_TOP",  # b()
        "B5 normal: POP_EXCEPT",  # [68, 70) -> 80: back in the outer try only
        "B6 exit: RETURN_CONST",
        "B7 exit: RERAISE",
        "B8 handler: COPY POP_EXCEPT RERAISE",
        "B9 handler: PUSH_EXC_INFO LOAD_GLOBAL CHECK_EXC_MATCH POP_JUMP_IF_FALSE",  # except Exception
        "B10 normal: POP_TOP LOAD_GLOBAL CALL POP_TOP",  # c()
        "B11 exit: POP_EXCEPT RETURN_CONST",
        "B12 exit: RERAISE",
        "B13 handler: COPY POP_EXCEPT RERAISE",
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"),
        ("B3", "B4", "true"), ("B3", "B7", "false"),
        ("B4", "B5", "next"), ("B5", "B6", "next"),
        ("B9", "B10", "true"), ("B9", "B12", "false"),
        ("B10", "B11", "next"),
    }
    # The inner try body reaches only the inner handler; the outer handler is reached from the inner
    # handler's own ranges (B3/B4/B7 -> B8 -> B9), not directly from B1.
    assert f.exc_edges("f") == {
        ("B1", "B3", 0, False),
        ("B3", "B8", 1, True), ("B4", "B8", 1, True), ("B7", "B8", 1, True),
        ("B5", "B9", 0, False), ("B8", "B9", 0, False),
        ("B9", "B13", 1, True), ("B10", "B13", 1, True), ("B12", "B13", 1, True),
    }
    assert f.exc_edges("f", innermost_only=True) == f.exc_edges("f")


def test_dead_cleanup_block_is_flagged():
    # CPython emits the `del e` cleanup for an exception raised inside the except body even when the
    # body (`pass`) cannot raise: the range [56, 66) starts a block nothing reaches.
    f = fx("except_as_pass")
    assert f.blocks("f") == [
        "B0 entry: RESUME NOP",
        "B1 normal: LOAD_GLOBAL CALL POP_TOP",
        "B2 exit: RETURN_CONST",
        "B3 handler: PUSH_EXC_INFO LOAD_GLOBAL CHECK_EXC_MATCH POP_JUMP_IF_FALSE",
        "B4 normal: STORE_FAST",
        "B5 exit: POP_EXCEPT LOAD_CONST STORE_FAST DELETE_FAST RETURN_CONST",
        "B6 exit dead: LOAD_CONST STORE_FAST DELETE_FAST RERAISE",
        "B7 exit: RERAISE",
        "B8 handler: COPY POP_EXCEPT RERAISE",
    ]
    assert f.cfg_edges("f") == {("B0", "B1", "next"), ("B1", "B2", "next"), ("B3", "B4", "true"),
                                ("B3", "B7", "false"), ("B4", "B5", "next")}
    # The dead block still has its exception edge (it lies in a range): edges out, none in.
    assert f.exc_edges("f") == {("B1", "B3", 0, False), ("B3", "B8", 1, True), ("B4", "B8", 1, True),
                                ("B6", "B8", 1, True), ("B7", "B8", 1, True)}


def test_with():
    f = fx("with")
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST BEFORE_WITH",
        "B1 normal: STORE_FAST LOAD_FAST PUSH_NULL CALL POP_TOP",  # body [6, 22) -> 40
        "B2 exit: LOAD_CONST LOAD_CONST LOAD_CONST CALL POP_TOP RETURN_CONST",  # __exit__(None, None, None)
        "B3 handler: PUSH_EXC_INFO WITH_EXCEPT_START TO_BOOL POP_JUMP_IF_TRUE",
        "B4 exit: RERAISE",  # __exit__ returned false
        "B5 normal: POP_TOP",  # __exit__ swallowed the exception
        "B6 exit: POP_EXCEPT POP_TOP POP_TOP RETURN_CONST",
        "B7 handler: COPY POP_EXCEPT RERAISE",
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"),
        ("B3", "B5", "true"), ("B3", "B4", "false"),
        ("B5", "B6", "next"),
    }
    assert f.exc_edges("f") == {
        ("B1", "B3", 1, True),
        ("B3", "B7", 3, True), ("B4", "B7", 3, True), ("B5", "B7", 3, True),  # [40, 60) -> 68
    }


def test_async_with():
    f = fx("async_with")
    assert f.blocks("g") == [
        "B0 entry: RETURN_GENERATOR POP_TOP",
        "B1 normal: RESUME LOAD_FAST BEFORE_ASYNC_WITH GET_AWAITABLE LOAD_CONST",
        "B2 loop_header: SEND",  # await __aenter__()
        "B3 normal: YIELD_VALUE",
        "B4 normal: RESUME JUMP_BACKWARD_NO_INTERRUPT",
        # Reached from SEND (done) and from CLEANUP_THROW's backward jump (78 -> 24), which is not a
        # loop: B5 does not reach B13 again.
        "B5 merge: END_SEND",
        "B6 normal: STORE_FAST LOAD_FAST PUSH_NULL CALL POP_TOP",  # body
        "B7 normal: LOAD_CONST LOAD_CONST LOAD_CONST CALL GET_AWAITABLE LOAD_CONST",  # __aexit__(None, ...)
        "B8 loop_header: SEND",
        "B9 normal: YIELD_VALUE",
        "B10 normal: RESUME JUMP_BACKWARD_NO_INTERRUPT",
        "B11 exit: END_SEND POP_TOP RETURN_CONST",
        "B12 handler: CLEANUP_THROW",
        "B13 normal: JUMP_BACKWARD_NO_INTERRUPT",
        "B14 handler: CLEANUP_THROW",
        "B15 normal: JUMP_BACKWARD_NO_INTERRUPT",
        "B16 handler: PUSH_EXC_INFO WITH_EXCEPT_START GET_AWAITABLE LOAD_CONST",  # await __aexit__(exc)
        "B17 loop_header: SEND",
        "B18 normal: YIELD_VALUE",
        "B19 normal: RESUME JUMP_BACKWARD_NO_INTERRUPT",
        "B20 handler: CLEANUP_THROW",
        "B21 merge: END_SEND TO_BOOL POP_JUMP_IF_TRUE",
        "B22 exit: RERAISE",
        "B23 normal: POP_TOP",
        "B24 exit: POP_EXCEPT POP_TOP POP_TOP RETURN_CONST",
        "B25 handler: COPY POP_EXCEPT RERAISE",
        "B26 handler: CALL_INTRINSIC_1 RERAISE",  # StopIteration -> RuntimeError in a coroutine
    ]
    assert f.cfg_edges("g") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"),
        ("B2", "B3", "true"), ("B2", "B5", "false"),  # SEND: fallthrough = awaitable yielded, jump = done
        ("B3", "B4", "next"),  # YIELD_VALUE ends a block; resumption falls through
        ("B4", "B2", "jump"),
        ("B5", "B6", "next"), ("B6", "B7", "next"), ("B7", "B8", "next"),
        ("B8", "B9", "true"), ("B8", "B11", "false"),
        ("B9", "B10", "next"), ("B10", "B8", "jump"),
        ("B12", "B13", "next"), ("B13", "B5", "jump"),
        ("B14", "B15", "next"), ("B15", "B11", "jump"),
        ("B16", "B17", "next"),
        ("B17", "B18", "true"), ("B17", "B21", "false"),
        ("B18", "B19", "next"), ("B19", "B17", "jump"),
        ("B20", "B21", "next"),
        ("B21", "B23", "true"), ("B21", "B22", "false"),
        ("B23", "B24", "next"),
    }
    assert f.branch_rules("g") == {"B2": "send", "B8": "send", "B17": "send", "B21": "jump_if_true"}
    assert f.exc_edges("g") == {
        ("B1", "B26", 0, True), ("B2", "B26", 0, True),  # [4, 18) -> 136
        ("B3", "B12", 3, False),  # a throw() into the suspended await: [18, 20) -> 76
        ("B4", "B26", 0, True), ("B5", "B26", 0, True),
        ("B6", "B16", 1, True),  # the body: [26, 42) -> 84
        ("B7", "B26", 0, True), ("B8", "B26", 0, True),
        ("B9", "B14", 2, False),
        ("B10", "B26", 0, True), ("B11", "B26", 0, True), ("B12", "B26", 0, True),
        ("B14", "B26", 0, True),
        ("B16", "B25", 3, True), ("B17", "B25", 3, True),
        ("B18", "B20", 6, False),
        ("B19", "B25", 3, True), ("B20", "B25", 3, True), ("B21", "B25", 3, True), ("B22", "B25", 3, True),
        ("B23", "B25", 3, True),
        ("B24", "B26", 0, True), ("B25", "B26", 0, True),
    }


def test_async_for():
    f = fx("async_for")
    assert f.blocks("f") == [
        "B0 entry: RETURN_GENERATOR POP_TOP",
        "B1 normal: RESUME LOAD_FAST GET_AITER",
        "B2 loop_header: GET_ANEXT LOAD_CONST",  # the loop head: JUMP_BACKWARD at 50 -> 10
        "B3 loop_header: SEND",  # the await of __anext__()
        "B4 normal: YIELD_VALUE",
        "B5 normal: RESUME JUMP_BACKWARD_NO_INTERRUPT",
        "B6 merge: END_SEND",
        "B7 normal: STORE_FAST LOAD_GLOBAL LOAD_FAST CALL POP_TOP JUMP_BACKWARD",
        "B8 handler: CLEANUP_THROW",
        "B9 normal: JUMP_BACKWARD_NO_INTERRUPT",
        # No normal edge leads here: the loop ends when __anext__ raises StopAsyncIteration.
        "B10 handler: END_ASYNC_FOR RETURN_CONST",
        "B11 handler: CALL_INTRINSIC_1 RERAISE",
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"), ("B2", "B3", "next"),
        ("B3", "B4", "true"), ("B3", "B6", "false"),
        ("B4", "B5", "next"), ("B5", "B3", "jump"),
        ("B6", "B7", "next"), ("B7", "B2", "jump"),
        ("B8", "B9", "next"), ("B9", "B6", "jump"),
    }
    assert f.branch_rules("f") == {"B3": "send"}
    assert f.exc_edges("f") == {
        ("B1", "B11", 0, True),
        ("B2", "B10", 1, False), ("B3", "B10", 1, False),  # [10, 18) -> 58: StopAsyncIteration ends the loop
        ("B4", "B8", 3, False),
        ("B5", "B10", 1, False), ("B6", "B10", 1, False),
        ("B7", "B11", 0, True),
        ("B8", "B10", 1, False),
        ("B10", "B11", 0, True),
    }


def test_match():
    f = fx("match")
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST COPY LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",  # case 0
        "B1 exit: POP_TOP RETURN_CONST",
        "B2 normal: COPY MATCH_SEQUENCE POP_JUMP_IF_FALSE",  # case [x, y]
        "B3 normal: GET_LEN LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",
        "B4 exit: UNPACK_SEQUENCE STORE_FAST_STORE_FAST POP_TOP LOAD_FAST_LOAD_FAST BINARY_OP RETURN_VALUE",
        "B5 merge: POP_TOP MATCH_MAPPING POP_JUMP_IF_FALSE",  # case {"k": v}
        "B6 normal: GET_LEN LOAD_CONST COMPARE_OP POP_JUMP_IF_FALSE",
        "B7 normal: LOAD_CONST MATCH_KEYS COPY POP_JUMP_IF_NONE",
        "B8 normal: UNPACK_SEQUENCE STORE_FAST POP_TOP POP_TOP LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE",  # if v
        "B9 exit: LOAD_FAST RETURN_VALUE",
        "B10 normal: POP_TOP POP_TOP",
        "B11 merge: POP_TOP",
        "B12 exit: NOP RETURN_CONST",  # case _
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "true"), ("B0", "B2", "false"),
        ("B2", "B3", "true"), ("B2", "B5", "false"),
        ("B3", "B4", "true"), ("B3", "B5", "false"),
        ("B5", "B6", "true"), ("B5", "B11", "false"),
        ("B6", "B7", "true"), ("B6", "B11", "false"),
        ("B7", "B10", "true"), ("B7", "B8", "false"),  # MATCH_KEYS pushed None: key missing
        ("B8", "B9", "true"), ("B8", "B12", "false"),  # the guard
        ("B10", "B11", "next"), ("B11", "B12", "next"),
    }
    assert f.branch_rules("f") == {"B0": "jump_if_false", "B2": "jump_if_false", "B3": "jump_if_false",
                                   "B5": "jump_if_false", "B6": "jump_if_false", "B7": "jump_if_none",
                                   "B8": "jump_if_false"}


def test_inlined_listcomp():
    f = fx("listcomp")
    assert f.code_units() == {"mod": "module", "mod::f": "function"}  # PEP 709: no <listcomp> code object
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_FAST GET_ITER LOAD_FAST_AND_CLEAR SWAP",  # save the outer `x`
        "B1 normal: BUILD_LIST SWAP",  # [10, 28) -> 54
        "B2 loop_header: FOR_ITER",
        "B3 normal: STORE_FAST_LOAD_FAST TO_BOOL",
        "B4 normal: POP_JUMP_IF_TRUE",  # split from B3 only because the exception range ends at 28
        "B5 normal: JUMP_BACKWARD",
        "B6 normal: LOAD_FAST LIST_APPEND JUMP_BACKWARD",  # [36, 48) -> 54
        "B7 normal: END_FOR POP_TOP",
        "B8 exit: SWAP STORE_FAST RETURN_VALUE",  # restore `x`
        "B9 handler: SWAP POP_TOP SWAP STORE_FAST RERAISE",  # restore `x` on the exception path too
    ]
    assert f.cfg_edges("f") == {
        ("B0", "B1", "next"), ("B1", "B2", "next"),
        ("B2", "B3", "true"), ("B2", "B7", "false"),
        ("B3", "B4", "next"),
        ("B4", "B6", "true"), ("B4", "B5", "false"),
        ("B5", "B2", "jump"), ("B6", "B2", "jump"),
        ("B7", "B8", "next"),
    }
    assert f.exc_edges("f") == {(b, "B9", 2, False) for b in ("B1", "B2", "B3", "B6", "B7")}


def test_generator_expression():
    f = fx("genexpr")
    assert f.code_units() == {"mod": "module", "mod::f": "function", "mod::f::<genexpr#1>": "comprehension"}
    assert f.blocks("f") == [
        "B0 entry: RESUME LOAD_GLOBAL LOAD_CONST MAKE_FUNCTION LOAD_FAST GET_ITER CALL CALL RETURN_VALUE"]
    assert f.cfg_edges("f") == set()
    g = "f::<genexpr#1>"
    assert f.blocks(g) == [
        "B0 entry: RETURN_GENERATOR POP_TOP",
        "B1 normal: RESUME LOAD_FAST",
        "B2 loop_header: FOR_ITER",
        "B3 normal: STORE_FAST_LOAD_FAST LOAD_CONST BINARY_OP YIELD_VALUE",
        "B4 normal: RESUME POP_TOP JUMP_BACKWARD",
        "B5 exit: END_FOR POP_TOP RETURN_CONST",
        "B6 handler: CALL_INTRINSIC_1 RERAISE",
    ]
    assert f.cfg_edges(g) == {
        ("B0", "B1", "next"), ("B1", "B2", "next"),
        ("B2", "B3", "true"), ("B2", "B5", "false"),
        ("B3", "B4", "next"), ("B4", "B2", "jump"),
    }
    assert f.exc_edges(g) == {(b, "B6", 0, True) for b in ("B1", "B2", "B3", "B4", "B5")}  # [4, 36) -> 36


def test_lambda():
    f = fx("lambda")
    assert f.code_units() == {"mod": "module", "mod::<lambda#1>": "lambda"}
    assert f.blocks("<lambda#1>") == [
        "B0 entry: RESUME LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE",
        "B1 exit: LOAD_FAST RETURN_VALUE",
        "B2 exit: LOAD_FAST RETURN_VALUE",
    ]
    assert f.cfg_edges("<lambda#1>") == {("B0", "B1", "true"), ("B0", "B2", "false")}
    assert f.blocks("mod") == [
        "B0 entry: RESUME LOAD_CONST LOAD_CONST MAKE_FUNCTION SET_FUNCTION_ATTRIBUTE STORE_NAME RETURN_CONST"]


def test_class_body():
    f = fx("class_body")
    assert f.code_units() == {"mod": "module", "mod::C": "class_body", "mod::C::m": "function"}
    assert f.blocks("C") == [
        # __module__, __qualname__, __firstlineno__ are stored before the first statement.
        ("B0 entry: RESUME LOAD_NAME STORE_NAME LOAD_CONST STORE_NAME LOAD_CONST STORE_NAME "
         "LOAD_CONST STORE_NAME LOAD_NAME TO_BOOL POP_JUMP_IF_FALSE"),
        "B1 normal: LOAD_CONST STORE_NAME",
        "B2 exit: LOAD_CONST MAKE_FUNCTION STORE_NAME LOAD_CONST STORE_NAME RETURN_CONST",  # __static_attributes__
    ]
    assert f.cfg_edges("C") == {("B0", "B1", "true"), ("B0", "B2", "false"), ("B1", "B2", "next")}
    assert f.code_unit("C::m")["names"] == ["_C__p"]  # mangled
    assert f.blocks("C::m") == ["B0 entry: RESUME LOAD_FAST LOAD_ATTR RETURN_VALUE"]


def test_decorators():
    f = fx("decorators")
    assert f.code_units() == {"mod": "module", "mod::f": "function"}
    # Decorators are evaluated before the function is made and applied innermost first: straight-line.
    assert f.blocks("mod") == [
        ("B0 entry: RESUME LOAD_NAME LOAD_NAME PUSH_NULL LOAD_CONST CALL LOAD_CONST MAKE_FUNCTION CALL CALL "
         "STORE_NAME RETURN_CONST")]
    assert f.cfg_edges("mod") == set()
    assert f.blocks("f") == ["B0 entry: RESUME RETURN_CONST"]


def test_pep695_generics():
    f = fx("pep695")
    assert f.code_units() == {
        "mod": "module",
        "mod::<generic parameters of C>": "type_scope",
        "mod::<generic parameters of C>::T": "type_scope",  # the lazily evaluated bound `int`
        "mod::<generic parameters of C>::C": "class_body",
        "mod::<generic parameters of C>::C::<generic parameters of m>": "type_scope",
        "mod::<generic parameters of C>::C::<generic parameters of m>::m": "function",
        "mod::<generic parameters of Alias>": "type_scope",
        "mod::<generic parameters of Alias>::Alias": "type_scope",  # the lazily evaluated alias value
        "mod::<generic parameters of g>": "type_scope",
        "mod::<generic parameters of g>::V": "type_scope",  # the lazily evaluated default `str` (PEP 696)
        "mod::<generic parameters of g>::g": "function",
    }
    for q in f.code_units():
        assert len(f.blocks(q)) == 1 and f.cfg_edges(q) == set() and f.exc_edges(q) == set(), q
    assert f.blocks("<generic parameters of C>::C")[0].startswith(
        "B0 entry: COPY_FREE_VARS MAKE_CELL RESUME")  # the class body closes over .type_params


# -- properties over every fixture ---------------------------------------------------------------

def _all_units():
    for name in FIXTURES:
        f = fx(name)
        for q in f.code_units():
            yield name, f, q


@pytest.mark.parametrize("name", FIXTURES)
def test_blocks_partition_the_instruction_stream(name):
    f = fx(name)
    for q in f.code_units():
        ins = f.instructions(q)
        blocks = f.block_rows(q)
        assert [b["block_index"] for b in blocks] == list(range(len(blocks)))
        covered = []
        for k, b in enumerate(blocks):
            covered.extend(range(b["first_instr_index"], b["last_instr_index"] + 1))
            assert b["start_offset"] == ins[b["first_instr_index"]]["offset"]
            nxt = blocks[k + 1]["start_offset"] if k + 1 < len(blocks) else ins[-1]["end_offset"]
            assert b["end_offset"] == nxt
            assert b["byte_start"] == ins[b["first_instr_index"]]["start_offset"]
            assert b["byte_end"] == ins[b["last_instr_index"]]["end_offset"]
            assert b["terminator"] == ins[b["last_instr_index"]]["baseopname"]
            # Algorithm A: only the last instruction of a block may transfer control.
            for r in ins[b["first_instr_index"]:b["last_instr_index"]]:
                assert r["jump_target_offset"] is None, (q, r["offset"])
                assert r["baseopname"] not in {"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
                                                "YIELD_VALUE"}, (q, r["offset"])
        assert covered == list(range(len(ins))), q
        starts = {b["start_offset"] for b in blocks}
        assert {r["jump_target_offset"] for r in ins if r["jump_target_offset"] is not None} <= starts


@pytest.mark.parametrize("name", FIXTURES)
def test_every_block_reachable_or_flagged_dead(name):
    f = fx(name)
    for q in f.code_units():
        blocks = f.block_rows(q)
        succ: dict[str, set[str]] = {}
        for e in f.edge_rows(q):
            succ.setdefault(e["src_block_id"], set()).add(e["dst_block_id"])
        entry = [b["block_id"] for b in blocks if b["is_entry"]]
        assert entry == [blocks[0]["block_id"]], q
        seen, stack = set(entry), list(entry)
        while stack:
            for d in succ.get(stack.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        assert {b["block_id"] for b in blocks if b["is_dead"]} == {b["block_id"] for b in blocks} - seen, q


@pytest.mark.parametrize("name", FIXTURES)
def test_exception_targets_are_block_starts_with_incoming_exc_edges(name):
    f = fx(name)
    for q in f.code_units():
        by_start = {b["start_offset"]: b for b in f.block_rows(q)}
        exc_in = {(e["dst_block_id"], e["exc_entry_index"]) for e in f.edge_rows(q) if e["kind"] == "exc"}
        for row in f.exception_table(q):
            handler = by_start[row["target_offset"]]
            assert handler["is_handler"] and handler["kind"] in ("handler", "entry")
            assert (handler["block_id"], row["exc_entry_index"]) in exc_in, (q, row)
            assert row["start_offset"] in by_start  # exception boundaries start blocks (seed A4 (3))
        # Handlers are entered only by exception edges (DESIGN §10).
        handlers = {b["block_id"] for b in f.block_rows(q) if b["is_handler"]}
        assert not any(e["dst_block_id"] in handlers for e in f.edge_rows(q) if e["kind"] != "exc"), q


@pytest.mark.parametrize("name", FIXTURES)
def test_exc_edges_follow_the_table_and_are_innermost(name):
    f = fx(name)
    for q in f.code_units():
        blocks = {b["block_id"]: b for b in f.block_rows(q)}
        table = {r["exc_entry_index"]: r for r in f.exception_table(q)}
        ranges = sorted((r["start_offset"], r["end_offset"]) for r in table.values())
        assert all(a[1] <= b[0] for a, b in pairwise(ranges)), "3.13 exception ranges never overlap"
        expected = set()
        for k, r in table.items():
            for b in blocks.values():
                if b["start_offset"] < r["end_offset"] and b["end_offset"] > r["start_offset"]:
                    expected.add((b["block_id"], k, r["depth"], r["lasti"]))
        got = {(e["src_block_id"], e["exc_entry_index"], e["depth"], e["lasti"])
               for e in f.edge_rows(q) if e["kind"] == "exc"}
        assert got == expected, q
        assert all(e["is_innermost"] for e in f.edge_rows(q) if e["kind"] == "exc")
        for e in f.edge_rows(q):
            if e["kind"] == "exc":
                assert blocks[e["dst_block_id"]]["start_offset"] == table[e["exc_entry_index"]]["target_offset"]
            if e["kind"] in ("true", "false"):
                assert e["cond_instr_id"] is not None and e["polarity_rule"] is not None
