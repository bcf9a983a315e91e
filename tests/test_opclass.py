"""The def/use classifier against CPython: every 3.13 opcode listed, and every row's stack shape agreeing
with ``dis.stack_effect`` (the compiler's own table) for the opargs that matter, on both edges of jumps."""

import dis

import pytest

from codeintel_assets.extract import opclass as O

REAL_OPS = sorted((n, op) for n, op in dis.opmap.items() if op < 256 and not n.startswith("INSTRUMENTED_"))
OPARGS = (0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 255, 256, 257, 0x0102, 0x0301)


def test_every_opcode_of_this_interpreter_is_listed():
    missing = [n for n, _ in REAL_OPS if n not in O.CLASSIFIER]
    assert missing == []


@pytest.mark.parametrize("name,opcode", REAL_OPS)
def test_stack_shape_matches_dis_stack_effect(name, opcode):
    checked = 0
    for arg in OPARGS if opcode >= dis.HAVE_ARGUMENT else (None,):
        for jump in (False, True):
            try:
                expected = dis.stack_effect(opcode, arg, jump=jump)
            except ValueError:
                continue
            sh = O.shape(name, opcode, arg, jump)
            assert sh.modelled
            assert len(sh.outs) - sh.pops == expected, (name, arg, jump)
            assert all(-1 <= src < sh.pops for src in sh.outs), "a passthrough names a popped input"
            checked += 1
    assert checked


def test_fallback_follows_seed_c3_patterns():
    assert O.fallback("LOAD_FANCY_FAST").events == ((O.USE_SLOT, O.FAST),)
    assert O.fallback("STORE_SOMETHING_GLOBAL").events == ((O.DEF_SLOT, O.GLOBAL),)
    assert O.fallback("DELETE_X_DEREF").events == ((O.KILL_SLOT, O.DEREF),)
    assert O.fallback("LOAD_WEIRD_ATTR").events == ((O.USE_ATTR, None),)
    assert O.fallback("STORE_NEW_SUBSCR").events == ((O.DEF_SUBSCR, None),)
    assert O.fallback("FROBNICATE").events == ()
    # an unlisted op keeps the stack consistent with dis.stack_effect unknown values, and says so
    sh = O.shape("FROBNICATE", dis.opmap["BUILD_TUPLE"], 3, False)
    assert not sh.modelled and sh.pops == 2 and sh.outs == ()


def test_superinstructions_name_two_slots_in_execution_order():
    for name, kinds in (("LOAD_FAST_LOAD_FAST", [O.USE_SLOT, O.USE_SLOT]),
                        ("STORE_FAST_STORE_FAST", [O.DEF_SLOT, O.DEF_SLOT]),
                        ("STORE_FAST_LOAD_FAST", [O.DEF_SLOT, O.USE_SLOT]),
                        ("LOAD_FAST_AND_CLEAR", [O.USE_SLOT, O.KILL_SLOT])):
        assert [k for k, _ in O.CLASSIFIER[name].events] == kinds


def test_classifier_rows_cover_every_opname():
    rows = O.classifier_rows()
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    assert {n for n, _ in REAL_OPS} <= set(names)
    listed = {r[0]: r[12] for r in rows}
    assert all(listed[n] for n, _ in REAL_OPS)
