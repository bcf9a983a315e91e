"""Exact dataflow facts on small functions, derived by hand from the source (and `dis`), one construct each.

A use is named by (function, line, variable); its reaching definitions by the line of the store, or
the kind of an entry definition (``param``, ``free_init``, ``cell_init``) or ``external`` (a cell or
global another code unit writes). Lines are counted from the first line of each snippet.
"""

import dis
import textwrap

import pytest

from codeintel_assets.pipeline import extract_file


def index(tmp_path, source: str) -> dict:
    root = tmp_path / "r"
    root.mkdir(exist_ok=True)
    (root / "m.py").write_text(textwrap.dedent(source).lstrip("\n"))
    tables, failures = extract_file(str(root), "m.py", "m", 10 ** 8)
    assert not failures, failures
    assert tables["py_dfg_files"].column("ok").to_pylist() == [True]
    gates = {r["gate"]: r for r in tables["codeintel_gate_results"].to_pylist()}
    for g in ("defuse_binding_space", "dfg_sanity"):
        assert gates[g]["passed"], gates[g]["findings"]
    return tables


def _lines(tables) -> dict:
    ins = tables["py_bc_instructions"].select(["code_unit_id", "instr_index", "line_number", "opname"]).to_pylist()
    return {(r["code_unit_id"], r["instr_index"]): (r["line_number"], r["opname"]) for r in ins}


def _qual(tables) -> dict:
    return {r["code_unit_id"]: r["qualpath"] for r in tables["py_bc_code_units"].select(["code_unit_id", "qualpath"]).to_pylist()}


def reaching(tables, fn: str) -> dict[tuple[int, str], set]:
    """(line, name) of every FAST / DEREF / GLOBAL use in ``fn`` -> its reaching definitions."""
    lines, qual = _lines(tables), _qual(tables)
    out: dict[tuple[int, str], set] = {}
    for r in tables["py_bc_defuse_events"].to_pylist():
        if qual[r["code_unit_id"]] == fn and r["event_kind"] == "USE_SLOT":
            out.setdefault((lines[(r["code_unit_id"], r["instr_index"])][0], r["name"]), set())
    for r in tables["py_reaching_defs"].to_pylist():
        if qual[r["code_unit_id"]] != fn:
            continue
        use = (lines[(r["code_unit_id"], r["use_instr_index"])][0], r["name"])
        if r["def_instr_index"] is None:
            d = r["def_kind"]
        else:
            line = lines[(r["code_unit_id"], r["def_instr_index"])][0]
            d = line if r["def_kind"] == "store" else (r["def_kind"], line)
        out.setdefault(use, set()).add(d)
    return out


def status(tables, fn: str) -> dict[tuple[int, str], str]:
    lines, qual = _lines(tables), _qual(tables)
    return {(lines[(r["code_unit_id"], r["instr_index"])][0], r["name"]): r["reach_status"]
            for r in tables["py_bc_defuse_events"].to_pylist()
            if qual[r["code_unit_id"]] == fn and r["event_kind"] == "USE_SLOT"}


def test_if_elif_else(tmp_path):
    t = index(tmp_path, """
        def f(n):
            if n > 2:
                r = 1
            elif n > 0:
                r = 2
            else:
                r = 3
            return r
    """)
    rd = reaching(t, "f")
    assert rd[(2, "n")] == {"param"} and rd[(4, "n")] == {"param"}
    assert rd[(8, "r")] == {3, 5, 7}


def test_while_with_break_continue_else(tmp_path):
    t = index(tmp_path, """
        def f(xs):
            i = 0
            while i < len(xs):
                if xs[i]:
                    i = i + 2
                    continue
                i = i + 1
                if i > 5:
                    break
            else:
                i = -1
            return i
    """)
    rd = reaching(t, "f")
    assert rd[(3, "i")] == {2, 5, 7}  # loop test: entry, after continue, after the body
    assert rd[(4, "i")] == {2, 5, 7}
    assert rd[(8, "i")] == {7}
    assert rd[(12, "i")] == {7, 11}  # break after line 7, or the else clause


def test_for_with_break_and_else(tmp_path):
    t = index(tmp_path, """
        def f(xs):
            found = None
            for x in xs:
                if x:
                    found = x
                    break
            else:
                found = 0
            return found
    """)
    rd = reaching(t, "f")
    assert rd[(9, "found")] == {5, 8}  # line 2's None is overwritten on every path
    assert rd[(4, "x")] == {3} and rd[(5, "x")] == {3}


def test_try_except_else_finally(tmp_path):
    t = index(tmp_path, """
        def f(a):
            try:
                v = g(a)
            except KeyError as e:
                v = e
            else:
                v = v + 1
            finally:
                w = 1
            return v, w
    """)
    rd = reaching(t, "f")
    assert rd[(7, "v")] == {3}
    assert rd[(5, "e")] == {4}
    assert rd[(10, "v")] == {5, 7}
    assert rd[(10, "w")] == {9}
    assert status(t, "f")[(3, "g")] == "global"  # g is bound nowhere in the file


def test_nested_try_exception_edges_carry_mid_block_stores(tmp_path):
    t = index(tmp_path, """
        def f(a):
            x = 0
            try:
                try:
                    x = 1
                    h(a)
                    x = 2
                finally:
                    y = x
            except Exception:
                return x, y
            return x, y
    """)
    rd = reaching(t, "f")
    # The finally body exists twice (normal and exceptional copy, same line): x is 2 on the normal
    # path and 1 when h() raised; line 2's 0 never reaches it (nothing before x = 1 can raise).
    assert rd[(9, "x")] == {5, 7}
    assert rd[(11, "x")] == {5}
    assert rd[(11, "y")] == {9}
    assert rd[(12, "x")] == {7}


def test_with_and_exception_variable_deleted(tmp_path):
    t = index(tmp_path, """
        def f(m):
            with m as c:
                x = c
            try:
                m.check()
            except ValueError as e:
                x = e
            return x, e
    """)
    rd = reaching(t, "f")
    assert rd[(3, "c")] == {2}
    assert rd[(8, "x")] == {3, 7}
    # `except E as e` ends with e = None; del e (the compiler's cleanup): e is unbound at line 8
    st = status(t, "f")
    assert st[(8, "e")] == "unbound" and rd[(8, "e")] == set()


def test_generator_and_yield_from(tmp_path):
    t = index(tmp_path, """
        def g(n):
            k = 0
            while k < n:
                got = yield k
                k = got or k + 1
            return k

        def h(n):
            r = yield from g(n)
            return r
    """)
    rd = reaching(t, "g")
    assert rd[(4, "k")] == {2, 5}
    assert rd[(5, "got")] == {4}
    assert rd[(6, "k")] == {2, 5}
    assert reaching(t, "h")[(10, "r")] == {9}


def test_async_for_and_async_with(tmp_path):
    t = index(tmp_path, """
        async def f(src, cm):
            out = []
            async with cm as c:
                async for v in src:
                    out.append(v)
            return out, c
    """)
    rd = reaching(t, "f")
    assert rd[(5, "v")] == {4}
    assert rd[(5, "out")] == {2}
    assert rd[(6, "c")] == {3}


def test_inlined_comprehension_saves_and_restores_the_outer_name(tmp_path):
    t = index(tmp_path, """
        def f(xs):
            x = "outer"
            ys = [x * 2 for x in xs]
            return x, ys
    """)
    rd = reaching(t, "f")
    # PEP 709: LOAD_FAST_AND_CLEAR x saves line 2's value; the loop variable x is the comprehension's;
    # after it, a STORE_FAST of the saved value restores x (def kind "restore").
    ev = [r for r in t["py_bc_defuse_events"].to_pylist() if r["name"] == "x" and r["space"] == "FAST"]
    kinds = [(r["baseopname"], r["event_kind"], r["detail"]) for r in ev]
    assert ("LOAD_FAST_AND_CLEAR", "USE_SLOT", "save") in kinds
    assert ("LOAD_FAST_AND_CLEAR", "KILL_SLOT", "clear") in kinds
    assert sum(1 for k in kinds if k[2] == "restore") == 2  # normal exit and the exception cleanup
    assert rd[(4, "x")] == {("restore", 3)}
    # inside the comprehension, x * 2 reads the loop variable (stored on line 3), never "outer"
    comp_uses = [r for r in t["py_reaching_defs"].to_pylist() if r["name"] == "x" and r["def_kind"] == "store"]
    assert comp_uses and all(r["def_instr_index"] != _store_index(t, 2, "x") for r in comp_uses
                             if r["use_instr_index"] != _lfac_index(t))


def _store_index(t, line, name):
    lines = _lines(t)
    return next(i for (cu, i), (ln, op) in lines.items() if ln == line and op == "STORE_FAST")


def _lfac_index(t):
    return next(i for (cu, i), (ln, op) in _lines(t).items() if op == "LOAD_FAST_AND_CLEAR")


def test_generator_expression_is_its_own_code_unit(tmp_path):
    t = index(tmp_path, """
        def f(xs):
            k = 3
            return list(x + k for x in xs)
    """)
    rd = reaching(t, "f::<genexpr#1>")
    assert rd[(3, ".0")] == {"param"}  # the iterator argument of the generator code object
    assert rd[(3, "x")] == {3}
    # k is f's cell and f writes it (line 2): the rule is flow-insensitive across code units (the
    # generator may run after any later write), so the write is an external definition here.
    assert rd[(3, "k")] == {"free_init", "external"}


def test_closures_with_nonlocal(tmp_path):
    t = index(tmp_path, """
        def outer(a):
            count = a
            def inc(d):
                nonlocal count
                count += d
                return count
            inc(1)
            return count
    """)
    inner = reaching(t, "outer::inc")
    # count is a cell: the inner function sees the closure's value and its own store; the outer
    # function writes it too (external: another code unit writes the cell).
    assert inner[(5, "count")] == {"free_init", "external"}
    assert inner[(6, "count")] == {5, "external"}
    outer = reaching(t, "outer")
    assert outer[(2, "a")] == {"param"}
    assert outer[(8, "count")] == {2, "external"}  # inc() may have rebound it


def test_global_and_del(tmp_path):
    t = index(tmp_path, """
        N = 0
        def bump():
            global N
            N = N + 1
            return N
        def d(v):
            if v:
                del v
            return v
    """)
    rd = reaching(t, "bump")
    assert rd[(4, "N")] == {"external"}  # the module writes N
    assert rd[(5, "N")] == {4, "external"}
    st = status(t, "d")
    assert st[(9, "v")] == "maybe_unbound"  # deleted on one path, the parameter on the other
    assert reaching(t, "d")[(9, "v")] == {"param"}


def test_walrus_inside_a_comprehension_binds_the_function(tmp_path):
    t = index(tmp_path, """
        def f(xs):
            hits = [y for x in xs if (y := x * 2) > 2]
            return y
    """)
    st = status(t, "f")
    assert reaching(t, "f")[(3, "y")] == {2}
    assert st[(3, "y")] == "maybe_unbound"  # xs may be empty


def test_match_captures(tmp_path):
    t = index(tmp_path, """
        def f(p):
            match p:
                case (a, b):
                    r = a + b
                case {"k": v}:
                    r = v
                case _:
                    r = None
            return r
    """)
    rd = reaching(t, "f")
    assert rd[(4, "a")] == {3} and rd[(4, "b")] == {3}
    assert rd[(6, "v")] == {5}
    assert rd[(9, "r")] == {4, 6, 8}


def test_call_stack_wiring_keyword_and_star_arguments(tmp_path):
    t = index(tmp_path, """
        def f(g, a, b, kw):
            g(a, k=b)
            g(*a, **kw)
    """)
    edges = [r for r in t["py_dfg_edges"].to_pylist() if r["kind"] == "stack"]
    lines = _lines(t)
    cu = next(c for c, q in _qual(t).items() if q == "f")

    def op(i):
        return lines[(cu, i)][1]

    def into(dst_op):
        return sorted((r["dst_input"], op(r["src_instr_index"]) if r["src_instr_index"] is not None else r["src_kind"])
                      for r in edges if r["code_unit_id"] == cu and op(r["dst_instr_index"]) == dst_op)
    # CALL_KW 1: (callable, self_or_null, a, b, kwnames) -- the callable and NULL come from
    # LOAD_FAST g + PUSH_NULL, the arguments from the loads, the names from LOAD_CONST ('k',).
    ins = list(dis.get_instructions(compile(textwrap.dedent("""
        def f(g, a, b, kw):
            g(a, k=b)
    """), "m", "exec").co_consts[0]))
    assert [i.opname for i in ins if i.opname.startswith("CALL")] == ["CALL_KW"]
    assert into("CALL_KW") == [(0, "LOAD_FAST"), (1, "PUSH_NULL"), (2, "LOAD_FAST_LOAD_FAST"),
                               (3, "LOAD_FAST_LOAD_FAST"), (4, "LOAD_CONST")]
    # CALL_FUNCTION_EX 1: (callable, null, callargs tuple, kwargs dict)
    got = into("CALL_FUNCTION_EX")
    assert [k for k, _ in got] == [0, 1, 2, 3]
    assert got[0][1] == "LOAD_FAST" and got[1][1] == "PUSH_NULL"
    assert got[2][1] in ("CALL_INTRINSIC_1", "LIST_TO_TUPLE", "LOAD_FAST")
    assert got[3][1] in ("DICT_MERGE", "BUILD_MAP", "LOAD_FAST")


def test_join_gives_one_edge_per_producer(tmp_path):
    # The tail is longer than what CPython duplicates into both branches, so the two paths join.
    t = index(tmp_path, """
        def f(c, a, b):
            return ((a if c else b) + 1) * c - b
    """)
    cu = next(c for c, q in _qual(t).items() if q == "f")
    lines = _lines(t)
    binop = min(i for (c, i), (ln, op) in lines.items() if c == cu and op == "BINARY_OP")
    srcs = sorted(lines[(cu, r["src_instr_index"])][1] for r in t["py_dfg_edges"].to_pylist()
                  if r["kind"] == "stack" and r["dst_instr_index"] == binop and r["dst_input"] == 0)
    assert srcs == ["LOAD_FAST", "LOAD_FAST"]  # a from one branch, b from the other


def test_memory_edge_attribute_write_to_later_read(tmp_path):
    t = index(tmp_path, """
        def f(o, p):
            o.x = 1
            y = p.x
            z = o.x
            return y, z
    """)
    mem = [r for r in t["py_dfg_edges"].to_pylist() if r["kind"] == "memory"]
    lines = _lines(t)
    pairs = {(lines[(r["src_code_unit_id"], r["src_instr_index"])][0], lines[(r["code_unit_id"], r["dst_instr_index"])][0],
              r["name"], r["rule"]) for r in mem}
    assert pairs == {(2, 4, "x", "attr_same_binding")}  # p.x is another binding's attribute


def test_global_memory_edges_cross_code_units(tmp_path):
    t = index(tmp_path, """
        X = 1
        def f():
            return X
    """)
    mem = [r for r in t["py_dfg_edges"].to_pylist() if r["kind"] == "memory"]
    assert [(r["name"], r["rule"]) for r in mem] == [("X", "global_same_module")]
    assert mem[0]["src_code_unit_id"] != mem[0]["code_unit_id"]


@pytest.mark.parametrize("snippet", ["x = 1\n", "def f():\n    pass\n", ""])
def test_trivial_files_have_consistent_tables(tmp_path, snippet):
    t = index(tmp_path, snippet)
    st = t["py_dfg_files"].to_pylist()[0]
    assert st["ok"] and st["failed_code_units"] == 0
    assert st["event_count"] == t["py_bc_defuse_events"].num_rows


def test_a_handler_only_instructions_that_cannot_raise_lead_to_is_unreachable_not_unbound(tmp_path):
    """`try: x = 2; z = 3` raises nothing CPython's instructions can raise (LOAD_CONST / STORE_FAST): its
    handler's `return x` is unreachable (before: entered with an empty state, so `x` was "unbound", a false
    report docs/dataflow.md calls worth reading; CPython's compiler proves `x` bound there: a plain LOAD_FAST,
    no LOAD_FAST_CHECK). With a call in the try body the handler is entered, and the store before it reaches it
    (a raise in `h()` comes before `x = h()` stores)."""
    src = """
    def f():
        x = 1
        try:
            x = 2
            z = 3
        except RuntimeError:
            return x
        return z

    def g(h):
        x = 1
        try:
            x = h()
            z = 3
        except RuntimeError:
            return x
        return z
    """
    ns: dict = {}
    exec(compile(textwrap.dedent(src), "m.py", "exec"), ns)
    handler_reads = [i.opname for i in dis.get_instructions(ns["f"]) if i.argval == "x" and i.opname.startswith("LOAD")]
    assert handler_reads == ["LOAD_FAST"]  # the compiler: x is bound wherever it is read
    tables = index(tmp_path, src)
    assert status(tables, "f")[(7, "x")] == "unreachable" and reaching(tables, "f")[(7, "x")] == set()
    assert status(tables, "f")[(8, "z")] == "defined"
    assert reaching(tables, "g")[(16, "x")] == {11} and status(tables, "g")[(16, "x")] == "defined"


def test_a_use_after_load_fast_check_is_bound(tmp_path):
    """LOAD_FAST_CHECK raises UnboundLocalError on an empty slot, so past it the name is bound: CPython's compiler
    emits a plain LOAD_FAST for the later reads (its proof, read from `dis` here). The checked read itself may
    be unbound; the later ones were `maybe_unbound` before (42 in a trial's corpus). A handler the check's
    raise reaches still sees the empty slot; a `del` empties it again."""
    src = """
    def f(c):
        if c:
            x = 1
        print(x)
        return x

    def g(c):
        if c:
            x = 1
        try:
            print(x)
        except UnboundLocalError:
            return x
        del x
        return x

    def h(c):
        for i in c:
            x = i
        print(x)
        x += 1
        return x
    """
    ns: dict = {}
    exec(compile(textwrap.dedent(src).lstrip("\n"), "m.py", "exec"), ns)  # the file's lines, as indexed
    tables = index(tmp_path, src)
    for fn in ("f", "g", "h"):
        ops = [(i.positions.lineno, i.opname) for i in dis.get_instructions(ns[fn])
               if i.argval == "x" and i.opname.startswith("LOAD_FAST")]
        st = status(tables, fn)
        for line, op in ops:
            if op == "LOAD_FAST":  # the compiler proved x bound here, and so does the reaching-definitions
                assert st[(line, "x")] == "defined", (fn, line, op)
            else:
                assert op == "LOAD_FAST_CHECK" and st[(line, "x")] in ("maybe_unbound", "unbound"), (fn, line, op)
    assert [op for _, op in sorted((i.positions.lineno, i.opname) for i in dis.get_instructions(ns["f"])
                                   if i.argval == "x" and i.opname.startswith("LOAD_FAST"))] == \
        ["LOAD_FAST_CHECK", "LOAD_FAST"]
    g = status(tables, "g")
    assert g[(13, "x")] == "maybe_unbound"  # the handler: reached by the check's raise, x possibly empty
    assert g[(15, "x")] == "unbound"  # after the del
