"""Bytecode plane: code units, instruction columns, labels, exception table, run metadata (seed 000 §2-§4).

Expectations are checked against what ``compile`` + ``dis`` report for the same source, computed
here independently of the extractor.
"""

import dis
import importlib.util
import platform
import re
import sys
from types import CodeType

from codeintel_assets.extract.spans import MODULE_QUALPATH
from facts import dedent, facts

UNITS_SOURCE = """
    import functools

    @functools.cache
    def f(a, /, b, *, c=1):
        def inner():
            return a
        return inner

    def f():
        pass

    class C:
        def m(self, xs):
            g = lambda v: v + 1
            return sum(g(x) for x in xs), (lambda: self)
        class D:
            async def n(self):
                yield 1

    k = lambda: 0

    class G[T: int]:
        def meth[U](self, u: U) -> T: ...

    type Plain = int
"""


def compiled(source: str) -> CodeType:
    return compile(dedent(source), "mod.py", "exec", dont_inherit=True, optimize=0)


def walk_code(code: CodeType):
    """Depth-first over co_consts, the order the extractor enumerates code units in."""
    yield code
    for c in code.co_consts:
        if isinstance(c, CodeType):
            yield from walk_code(c)


def find_code(code: CodeType, qualname: str) -> CodeType:
    (c,) = [c for c in walk_code(code) if c.co_qualname == qualname]
    return c


# -- code units ------------------------------------------------------------------------------------

def test_code_unit_qualpaths_and_kinds():
    f = facts(UNITS_SOURCE)
    assert f.code_units() == {
        "mod": "module",
        "mod::f": "function",
        "mod::f::inner": "function",
        "mod::f#2": "function",  # a second `def f` in the same scope gets an occurrence suffix
        "mod::C": "class_body",
        "mod::C::m": "function",
        "mod::C::m::<lambda#1>": "lambda",
        "mod::C::m::<genexpr#1>": "comprehension",
        "mod::C::m::<lambda#2>": "lambda",
        "mod::C::D": "class_body",
        "mod::C::D::n": "function",
        "mod::<lambda#1>": "lambda",
        "mod::<generic parameters of G>": "type_scope",
        "mod::<generic parameters of G>::T": "type_scope",  # bound `int`, evaluated lazily
        "mod::<generic parameters of G>::G": "class_body",
        "mod::<generic parameters of G>::G::<generic parameters of meth>": "type_scope",
        "mod::<generic parameters of G>::G::<generic parameters of meth>::meth": "function",
        "mod::Plain": "type_scope",  # `type Plain = int`: the value is its own code object
    }


def test_code_units_mirror_the_compiled_code_objects():
    f = facts(UNITS_SOURCE)
    rows = f.bytecode.code_units.to_pylist()
    codes = list(walk_code(compiled(UNITS_SOURCE)))
    assert [r["co_qualname"] for r in rows] == [c.co_qualname for c in codes]
    for r, c in zip(rows, codes):
        assert (r["co_name"], r["co_firstlineno"], r["flags"], r["argcount"], r["posonlyargcount"],
                r["kwonlyargcount"], r["nlocals"], r["stacksize"]) == (
            c.co_name, c.co_firstlineno, c.co_flags, c.co_argcount, c.co_posonlyargcount,
            c.co_kwonlyargcount, c.co_nlocals, c.co_stacksize), r["qualpath"]
        assert (r["varnames"], r["names"], r["freevars"], r["cellvars"]) == (
            list(c.co_varnames), list(c.co_names), list(c.co_freevars), list(c.co_cellvars))
        assert r["bytecode_len"] == len(c.co_code) and r["exceptiontable_len"] == len(c.co_exceptiontable)
        assert r["instruction_count"] == len(list(dis.get_instructions(c)))
        assert r["python_version"] == platform.python_version()
        assert r["bytecode_magic"] == importlib.util.MAGIC_NUMBER
    f_row = f.code_unit("f")
    assert (f_row["argcount"], f_row["posonlyargcount"], f_row["kwonlyargcount"]) == (2, 1, 1)
    assert f_row["cellvars"] == ["a"] and f.code_unit("f::inner")["freevars"] == ["a"]
    assert f.code_unit("C::D::n")["flags"] & 0x200  # CO_ASYNC_GENERATOR


def test_code_unit_parents_depth_and_ids():
    f = facts(UNITS_SOURCE)
    rows = {r["qualpath"]: r for r in f.bytecode.code_units.to_pylist()}
    # Qualpaths are relative to the module: the module is "<module>", its children "f", "C::m", ...
    assert list(rows)[0] == MODULE_QUALPATH and "mod" not in rows
    for q, r in rows.items():
        if q == MODULE_QUALPATH:
            parent, depth = None, 0
        else:
            parent = q.rsplit("::", 1)[0] if "::" in q else MODULE_QUALPATH
            depth = q.count("::") + 1
        assert r["parent_code_unit_id"] == (rows[parent]["code_unit_id"] if parent else None), q
        assert r["depth"] == depth, q
        # seed §4.5 keys the unit by its AST span and qualpath (the path stands in for file_id so
        # that an edit elsewhere in the file does not rename it); the module name is not part of it.
        assert r["code_unit_id"] == f"mod.py:CU:{r['span_start_byte']}:{r['span_end_byte']}:{q}"
        assert r["key_quality"] == "strong"
        assert r["module_name"] == "mod", q
    assert rows[MODULE_QUALPATH]["span_start_byte"] == 0 and rows[MODULE_QUALPATH]["span_end_byte"] == len(f.src.utf8)
    assert rows[MODULE_QUALPATH]["code_unit_id"] == f"mod.py:CU:0:{len(f.src.utf8)}:<module>"
    assert rows["C::m"]["parent_code_unit_id"] == rows["C"]["code_unit_id"]
    assert rows["f"]["parent_code_unit_id"] == rows[MODULE_QUALPATH]["code_unit_id"]


def test_code_unit_spans_are_their_ast_nodes():
    f = facts(UNITS_SOURCE)
    nodes = {r["ast_node_id"]: r for r in f.source.ast_nodes.to_pylist()}
    text = f.src.utf8
    expected = {
        "mod::f": ("FunctionDef", b"def f(a, /, b, *, c=1):"),  # the decorator is outside the node
        "mod::f::inner": ("FunctionDef", b"def inner():"),
        "mod::C": ("ClassDef", b"class C:"),
        "mod::C::m::<lambda#1>": ("Lambda", b"lambda v: v + 1"),
        "mod::C::m::<genexpr#1>": ("GeneratorExp", b"(g(x) for x in xs)"),  # sole argument: the call's parens
        "mod::C::m::<lambda#2>": ("Lambda", b"lambda: self"),
        "mod::<lambda#1>": ("Lambda", b"lambda: 0"),
        "mod::C::D::n": ("AsyncFunctionDef", b"async def n(self):"),
    }
    for q, (kind, head) in expected.items():
        r = f.code_unit(q)
        node = nodes[r["ast_node_id"]]
        assert node["kind"] == kind, q
        assert (node["span_start_byte"], node["span_end_byte"]) == (r["span_start_byte"], r["span_end_byte"])
        assert text[r["span_start_byte"]:r["span_end_byte"]].startswith(head), q
    assert f.code_unit("f")["co_firstlineno"] == 3  # ...while co_firstlineno is the decorator's line


# -- instruction columns ---------------------------------------------------------------------------

def test_instructions_mirror_dis_get_instructions():
    f = facts(UNITS_SOURCE)
    units = f.bytecode.code_units.to_pylist()
    codes = list(walk_code(compiled(UNITS_SOURCE)))
    assert len(units) == len(codes)
    for cu, code in zip(units, codes):
        rows = f.instructions(cu["qualpath"])
        ref = list(dis.get_instructions(code))
        assert [r["instr_index"] for r in rows] == list(range(len(ref)))  # instruction conservation
        for r, i in zip(rows, ref):
            assert (r["opname"], r["opcode"], r["baseopname"], r["baseopcode"], r["arg"]) == (
                i.opname, i.opcode, i.baseopname, i.baseopcode, i.arg)
            assert (r["start_offset"], r["offset"], r["cache_offset"], r["end_offset"]) == (
                i.start_offset, i.offset, i.cache_offset, i.end_offset)
            assert (r["ext_arg_len"], r["op_len"], r["cache_len"]) == (
                i.offset - i.start_offset, i.cache_offset - i.offset, i.end_offset - i.cache_offset)
            assert (r["jump_target_offset"], r["is_jump_target"], r["starts_line"], r["line_number"]) == (
                i.jump_target, i.is_jump_target, i.starts_line, i.line_number)
            p = i.positions
            assert r["pos"] == {"lineno": p.lineno, "end_lineno": p.end_lineno, "col": p.col_offset,
                                "end_col": p.end_col_offset}
            assert r["instr_physical_id"] == f"{cu['code_unit_id']}:OFF:{i.start_offset}"


def test_call_and_load_attr_inline_caches():
    f = facts("""
        def f(o, y):
            return o.m(y) + o.attr + print(o, y)
    """)
    ins = f.instructions("f")
    code = find_code(compiled("def f(o, y):\n    return o.m(y) + o.attr + print(o, y)\n"), "f")
    by_op = {}
    for r in ins:
        by_op.setdefault(r["opname"], []).append(r)
    zeros = lambda n: b"\x00" * n

    method, attr = by_op["LOAD_ATTR"]
    # 3.13 LOAD_ATTR: the low bit of arg asks for the method form (pushes NULL|self); argval is the name.
    assert (method["arg"] & 1, method["argval_str"], method["argrepr"]) == (1, "m", "m + NULL|self")
    assert (attr["arg"] & 1, attr["argval_str"], attr["argrepr"]) == (0, "attr", "attr")
    for r in (method, attr):
        assert r["cache_offset"] == r["offset"] + 2 and r["end_offset"] == r["cache_offset"] + 18
        assert r["cache_info"] == [
            {"name": "counter", "size": 1, "data": zeros(2)}, {"name": "version", "size": 2, "data": zeros(4)},
            {"name": "keys_version", "size": 2, "data": zeros(4)}, {"name": "descr", "size": 4, "data": zeros(8)},
        ]
        assert r["cache_bytes"] == code.co_code[r["cache_offset"]:r["end_offset"]] == zeros(18)
        assert r["op_bytes"] == bytes([dis.opmap["LOAD_ATTR"], r["arg"]])
    for r in by_op["CALL"]:
        assert (r["cache_len"], r["end_offset"] - r["offset"]) == (6, 8)
        assert [(c["name"], c["size"]) for c in r["cache_info"]] == [("counter", 1), ("func_version", 2)]
    assert [r["argval_int"] for r in by_op["CALL"]] == [1, 2]
    (glob,) = by_op["LOAD_GLOBAL"]
    assert (glob["arg"] & 1, glob["argval_str"], glob["argrepr"], glob["cache_len"]) == (1, "print", "print + NULL", 8)
    # Ops without caches: no cache_info, no cache_bytes, cache_offset == end_offset.
    for r in by_op["LOAD_FAST"]:
        assert r["cache_info"] is None and r["cache_bytes"] is None and r["cache_offset"] == r["end_offset"]
    assert [(c["name"], c["size"]) for c in by_op["BINARY_OP"][0]["cache_info"]] == [("counter", 1)]


def test_superinstructions_carry_both_names():
    f = facts("""
        def f(x, y):
            a, b = x, y
            return a + b
    """)
    ins = f.instructions("f")
    assert [r["opname"] for r in ins] == ["RESUME", "LOAD_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST",
                                          "LOAD_FAST_LOAD_FAST", "BINARY_OP", "RETURN_VALUE"]
    load_xy, store_ba, load_ab = ins[1], ins[2], ins[3]
    # arg packs two local indices in 4-bit halves (x=0, y=1, a=2, b=3); argval is the pair of names.
    assert (load_xy["arg"], load_xy["argval_kind"], load_xy["argval_repr"], load_xy["argrepr"]) == (
        (0 << 4) | 1, "tuple", "('x', 'y')", "x, y")
    assert (store_ba["arg"], store_ba["argval_repr"]) == ((3 << 4) | 2, "('b', 'a')")  # stores b first
    assert (load_ab["arg"], load_ab["argval_repr"]) == ((2 << 4) | 3, "('a', 'b')")
    # A pair is not one name: argval_str stays empty and the names are only in argval_repr.
    assert [r["argval_str"] for r in (load_xy, store_ba, load_ab)] == [None, None, None]


def test_extended_arg_spans():
    # 300 distinct constants: LOAD_CONST 256.. need an EXTENDED_ARG prefix; the loop body is long
    # enough that both jumps of the `while` need one too.
    body = "\n".join(f"        a = 'c{i}'" for i in range(300))
    source = f"def f(x):\n    while x:\n{body}\n        x -= 1\n    return x\n"
    f = facts(source)
    code = find_code(compile(source, "mod.py", "exec", dont_inherit=True), "f")
    ins = f.instructions("f")
    (c255,) = [r for r in ins if r["argval_str"] == "c255"]
    prefix = ins[c255["instr_index"] - 1]
    assert prefix["opname"] == "EXTENDED_ARG" and prefix["offset"] == c255["start_offset"]
    assert (c255["arg"], c255["ext_arg_len"], c255["offset"] - c255["start_offset"]) == (256, 2, 2)
    assert c255["instr_physical_id"].endswith(f":OFF:{c255['start_offset']}")  # physical id = the prefix start
    assert c255["op_bytes"] == code.co_code[c255["start_offset"]:c255["cache_offset"]] == bytes(
        [dis.opmap["EXTENDED_ARG"], 1, dis.opmap["LOAD_CONST"], 0])
    assert [r["argval_str"] for r in ins if r["opname"] == "LOAD_CONST" and r["ext_arg_len"] == 0][:2] == ["c0", "c1"]
    jumps = [r for r in ins if r["jump_target_offset"] is not None]
    assert {r["opname"] for r in jumps} == {"POP_JUMP_IF_FALSE", "JUMP_BACKWARD"}
    long_jumps = [r for r in jumps if r["ext_arg_len"]]
    assert {r["opname"] for r in long_jumps} == {"POP_JUMP_IF_FALSE", "JUMP_BACKWARD"}
    # Jump targets are resolved by dis (seed §4.3), not by offset arithmetic on the raw arg.
    ref = {i.offset: i.jump_target for i in dis.get_instructions(code) if i.jump_target is not None}
    assert {r["offset"]: r["jump_target_offset"] for r in jumps} == ref
    # The CFG keeps each prefix in the block of the instruction it extends.
    for b in f.block_rows("f"):
        assert ins[b["last_instr_index"]]["opname"] != "EXTENDED_ARG"
        assert b["byte_start"] == ins[b["first_instr_index"]]["start_offset"]


def test_jump_to_an_extended_arg_prefixed_instruction_lands_on_the_prefix():
    # The loop body starts with LOAD_CONST 'c299' (index 300): JUMP_BACKWARD targets its EXTENDED_ARG,
    # which therefore carries the label and starts the block.
    source = "def f(x):\n" + "".join(f"    a = 'c{i}'\n" for i in range(300)) + \
        "    while x:\n        a = 'c299'\n        x -= 1\n    return a\n"
    f = facts(source)
    ins = f.instructions("f")
    (back,) = [r for r in ins if r["opname"] == "JUMP_BACKWARD"]
    (target,) = [r for r in ins if r["offset"] == back["jump_target_offset"]]
    following = ins[target["instr_index"] + 1]
    assert (target["opname"], target["is_jump_target"], target["label"]) == ("EXTENDED_ARG", True, "L0000")
    assert (following["opname"], following["argval_str"], following["start_offset"], following["label"]) == (
        "LOAD_CONST", "c299", target["offset"], None)
    assert f.blocks("f")[1:] == [
        ("B1 loop_header: EXTENDED_ARG LOAD_CONST STORE_FAST LOAD_FAST EXTENDED_ARG LOAD_CONST BINARY_OP STORE_FAST "
         "LOAD_FAST TO_BOOL POP_JUMP_IF_FALSE"),  # body + the rotated loop test
        "B2 normal: JUMP_BACKWARD",
        "B3 exit: LOAD_FAST RETURN_VALUE",
    ]
    assert f.block_rows("f")[1]["start_offset"] == target["offset"]
    assert f.cfg_edges("f") == {("B0", "B1", "true"), ("B0", "B3", "false"), ("B1", "B2", "true"),
                                ("B1", "B3", "false"), ("B2", "B1", "jump")}


# -- labels (seed §4.4) and the exception table ------------------------------------------------------

TRY_SOURCE = """
    def f():
        try:
            a()
        except ValueError as e:
            b(e)
        else:
            c()
        finally:
            d()
        for x in y:
            if x:
                break
"""


DIS_LINE = re.compile(r"^\s*(?:\d+|--)?\s+(?:L(\d+):)?\s+(\d+)\s+[A-Z_]+")
DIS_EXC_LINE = re.compile(r"^\s+L(\d+) to L(\d+) -> L(\d+) \[(\d+)\]( lasti)?$")


def _dis_labels(code: CodeType):
    """What ``dis.dis(code, show_offsets=True)`` prints: offset -> n for "Ln:" before an instruction,
    offset -> n for a jump's "(to Ln)", and the ExceptionTable lines as (s, e, t, depth, lasti)."""
    at, to, table = {}, {}, []
    for line in dis.Bytecode(code, show_offsets=True).dis().splitlines():
        if m := DIS_LINE.match(line):
            if m.group(1):
                at[int(m.group(2))] = int(m.group(1))
            if t := re.search(r"\(to L(\d+)\)", line):
                to[int(m.group(2))] = int(t.group(1))
        elif e := DIS_EXC_LINE.match(line):
            table.append((int(e.group(1)), int(e.group(2)), int(e.group(3)), int(e.group(4)), bool(e.group(5))))
    return at, to, table


def test_labels_follow_sorted_jump_targets_and_exception_boundaries():
    f = facts(TRY_SOURCE)
    code = find_code(compiled(TRY_SOURCE), "f")
    ins = f.instructions("f")
    entries = dis.Bytecode(code).exception_entries
    offsets = sorted({i.jump_target for i in dis.get_instructions(code) if i.jump_target is not None}
                     | {o for e in entries for o in (e.start, e.end, e.target)})
    expected = {o: f"L{k:04d}" for k, o in enumerate(offsets)}
    assert {r["offset"]: r["label"] for r in ins if r["label"]} == {o: lab for o, lab in expected.items()
                                                                  if o < len(code.co_code)}
    for r in ins:
        assert r["jump_target_label"] == (expected[r["jump_target_offset"]] if r["jump_target_offset"] is not None
                                          else None)
    # dis prints the same label set numbered from 1: our L{n-1:04d} is its "Ln".
    at, to, table = _dis_labels(code)
    assert {r["offset"]: r["label"] for r in ins if r["label"]} == {o: f"L{n - 1:04d}" for o, n in at.items()}
    assert {r["offset"]: r["jump_target_label"] for r in ins if r["jump_target_label"]} == {
        o: f"L{n - 1:04d}" for o, n in to.items()}
    exc = f.exception_table("f")
    assert [(r["start_label"], r["end_label"], r["target_label"], r["depth"], r["lasti"]) for r in exc] == [
        (f"L{s - 1:04d}", f"L{e - 1:04d}", f"L{t - 1:04d}", d, lasti) for s, e, t, d, lasti in table]


def test_exception_table_rows_match_dis():
    f = facts(TRY_SOURCE)
    for q, qualname in (("f", "f"), ("mod", "<module>")):
        code = find_code(compiled(TRY_SOURCE), qualname)
        rows = f.exception_table(q)
        assert [(r["exc_entry_index"], r["start_offset"], r["end_offset"], r["target_offset"], r["depth"], r["lasti"])
                for r in rows] == [(k, e.start, e.end, e.target, e.depth, e.lasti)
                                   for k, e in enumerate(dis.Bytecode(code).exception_entries)]
        assert f.code_unit(q)["exception_entry_count"] == len(rows)
    assert len(f.exception_table("f")) == 8 and f.exception_table("mod") == []


# -- instr_id stability (seed §4.5) ----------------------------------------------------------------

TWO_FUNCS = "def a(x):\n    return x.y\n\ndef b(y):\n    if y:\n        return [y, y]\n    return None\n"


def test_instr_id_is_site_key_baseopname_ordinal():
    f = facts(TWO_FUNCS)
    seen = set()
    for cu in f.bytecode.code_units.to_pylist():
        for r in f.instructions(cu["qualpath"]):
            if r["span_start_byte"] is None:
                assert r["instr_id"] == f"{cu['code_unit_id']}:NOSPAN:{r['instr_index']}:{r['baseopname']}"
            else:
                site_key = f"{cu['code_unit_id']}:{r['span_start_byte']}:{r['span_end_byte']}"
                prefix = f"{site_key}:{r['baseopname']}:"
                assert r["instr_id"].startswith(prefix) and r["instr_id"][len(prefix):].isdigit()
            assert r["instr_id"] not in seen
            seen.add(r["instr_id"])
    # The ordinal counts repeats of one op at one site: `with` calls __exit__(None, None, None), three
    # LOAD_CONSTs all located at the `with` item.
    w = facts("def w(cm):\n    with cm:\n        pass\n")
    nones = [r for r in w.instructions("w") if r["opname"] == "LOAD_CONST" and r["argval_kind"] == "none"]
    assert len({(r["span_start_byte"], r["span_end_byte"]) for r in nones}) == 1
    assert [r["instr_id"].rsplit(":", 1)[1] for r in nones] == ["0", "1", "2"]


def test_instr_ids_are_identical_when_compiled_twice():
    one, two = facts(TWO_FUNCS), facts(TWO_FUNCS)
    assert one.bytecode.instructions.column("instr_id").to_pylist() == \
        two.bytecode.instructions.column("instr_id").to_pylist()
    assert one.blocks_table.equals(two.blocks_table) and one.edges_table.equals(two.edges_table)


def test_module_name_is_a_column_not_part_of_the_ids(tmp_path):
    """The dotted module name is the ``module_name`` column; ids and qualpaths are relative to the module."""
    from codeintel_assets.extract.bytecode import extract_bytecode
    from codeintel_assets.extract.context import FileContext, as_context
    from codeintel_assets.extract.syntax import read_source

    (tmp_path / "mod.py").write_bytes(dedent(UNITS_SOURCE).encode("utf-8"))
    src = read_source(tmp_path, "mod.py")
    ctx = as_context(src, module_name="pkg.mod")
    assert isinstance(ctx, FileContext) and ctx.module_name == "pkg.mod"
    named = extract_bytecode(ctx)
    units = named.code_units.to_pylist()
    assert len(units) == 18 and named.run_meta.column("compile_ok").to_pylist() == [True]
    assert [r["module_name"] for r in units] == ["pkg.mod"] * len(units)
    assert units[0]["qualpath"] == MODULE_QUALPATH and units[0]["code_unit_id"] == f"mod.py:CU:0:{len(src.utf8)}:<module>"
    ids = [r["code_unit_id"] for r in units] + [r["parent_code_unit_id"] for r in units if r["parent_code_unit_id"]]
    ids += named.instructions.column("instr_id").to_pylist() + named.instructions.column("instr_physical_id").to_pylist()
    ids += [r["argval_code_unit_id"] for r in named.instructions.to_pylist() if r["argval_code_unit_id"]]
    assert ids and not [i for i in ids if "pkg" in i]  # neither "pkg.mod" nor a part of it
    assert not [r["qualpath"] for r in units if "pkg" in r["qualpath"]]

    # Same path, same bytes, another module name (and the name derived from the path, "mod"): the same ids.
    for other_name in ("other.pkg.mod", None):
        other = extract_bytecode(as_context(read_source(tmp_path, "mod.py"), module_name=other_name))
        assert other.code_units.column("module_name").to_pylist() == [other_name or "mod"] * len(units)
        assert other.code_units.column("code_unit_id").equals(named.code_units.column("code_unit_id"))
        assert other.code_units.column("parent_code_unit_id").equals(named.code_units.column("parent_code_unit_id"))
        assert other.code_units.column("qualpath").equals(named.code_units.column("qualpath"))
        assert other.instructions.column("code_unit_id").equals(named.instructions.column("code_unit_id"))
        assert other.instructions.column("instr_id").equals(named.instructions.column("instr_id"))
        # Nothing but the module_name column differs.
        keep = [c for c in named.code_units.column_names if c != "module_name"]
        assert other.code_units.select(keep).equals(named.code_units.select(keep))
        assert other.instructions.equals(named.instructions)
        assert other.exception_table.equals(named.exception_table)


def test_blank_line_before_a_function_shifts_only_its_spans():
    before = facts(TWO_FUNCS)
    after = facts(TWO_FUNCS.replace("\ndef b", "\n\ndef b"))
    assert before.src.file_id != after.src.file_id
    # `a` sits before the edit: byte for byte the same ids.
    assert [r["instr_id"] for r in before.instructions("a")] == [r["instr_id"] for r in after.instructions("a")]
    # `b` moved down one byte: every byte offset in its ids moves by one, nothing else changes.
    old, new = before.instructions("b"), after.instructions("b")
    assert len(old) == len(new)

    def shifted(instr_id: str) -> str:
        # mod.py:CU:{start}:{end}:b:{site start}:{site end}:{op}:{ordinal} (the qualpath `b` has no module prefix)
        parts = instr_id.split(":")
        assert len(parts) == 9 and parts[:2] == ["mod.py", "CU"] and parts[4] == "b", instr_id
        for k in (2, 3, 5, 6):
            if parts[k].isdigit():
                parts[k] = str(int(parts[k]) + 1)
        return ":".join(parts)

    assert [shifted(r["instr_id"]) for r in old] == [r["instr_id"] for r in new]
    assert [r["instr_id"] != s["instr_id"] for r, s in zip(old, new)] == [True] * len(old)
    assert [(r["offset"], r["opname"], r["arg"]) for r in old] == [(r["offset"], r["opname"], r["arg"]) for r in new]


# -- run metadata and determinism ------------------------------------------------------------------

def test_run_meta():
    f = facts(UNITS_SOURCE)
    (meta,) = f.bytecode.run_meta.to_pylist()
    assert meta["python_version"] == platform.python_version() and meta["python_version"].startswith("3.13.")
    assert meta["implementation"] == sys.implementation.name == "cpython"
    assert meta["cache_tag"] == sys.implementation.cache_tag == "cpython-313"
    assert meta["bytecode_magic"] == importlib.util.MAGIC_NUMBER
    assert (meta["compile_mode"], meta["compile_optimize"], meta["compile_dont_inherit"]) == ("exec", 0, True)
    assert (meta["compile_ok"], meta["error_type"], meta["error_msg"]) == (True, None, None)
    codes = list(walk_code(compiled(UNITS_SOURCE)))
    assert meta["code_unit_count"] == len(codes) == 18
    assert meta["instruction_count"] == sum(len(list(dis.get_instructions(c))) for c in codes)
    assert meta["file_id"] == f.src.file_id


def test_optimize_zero_keeps_asserts_and_docstrings():
    f = facts('''
        def f(x):
            "doc"
            assert x, "no"
            return __debug__
    ''')
    ops = f.ops("f")
    assert "RAISE_VARARGS" in ops  # the assert survives (optimize=0)
    assert ops[-1] == "RETURN_CONST" and f.instructions("f")[-1]["argval_repr"] == "True"  # __debug__ is True


ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")


def test_extraction_is_deterministic_and_address_free():
    source = dedent(UNITS_SOURCE) + "\nS = {1, 2}\nB = b'x'\nF = 1.5\nJ = 2j\nE = ...\nT = (1, 'a', None)\nN = 10**30\n"
    one, two = facts(source), facts(source)
    assert one.bytecode.run_meta.column("compile_ok").to_pylist() == [True]
    for name in ("code_units", "instructions", "exception_table", "run_meta"):
        assert getattr(one.bytecode, name).equals(getattr(two.bytecode, name)), name
    assert one.source.ast_nodes.equals(two.source.ast_nodes) and one.source.tokens.equals(two.source.tokens)
    rows = one.bytecode.instructions.to_pylist()
    for r in rows:
        for col in ("argrepr", "argval_repr", "argval_str"):
            assert r[col] is None or not ADDRESS.search(r[col]), (col, r[col])
    kinds = {r["argval_repr"]: r["argval_kind"] for r in rows if r["opname"] in ("LOAD_CONST", "RETURN_CONST")}
    assert {k: kinds[k] for k in ("1.5", "b'x'", "2j", "Ellipsis", "(1, 'a', None)", str(10**30))} == {
        "1.5": "float", "b'x'": "bytes", "2j": "complex", "Ellipsis": "ellipsis", "(1, 'a', None)": "tuple",
        str(10**30): "int"}
    big = [r for r in rows if r["argval_repr"] == str(10**30)]
    assert big and big[0]["argval_int"] is None  # beyond int64: only the repr is kept
    code_loads = [r for r in rows if r["argval_kind"] == "code"]
    assert code_loads and all(r["argval_code_unit_id"] is not None for r in code_loads)
    # A code constant is named by the unit it creates (qualpaths are unique, co_qualnames are not:
    # both lambdas in C.m are "C.m.<locals>.<lambda>").
    qual = {r["code_unit_id"]: r["qualpath"] for r in one.bytecode.code_units.to_pylist()}
    assert all(r["argval_repr"] == f"<code {qual[r['argval_code_unit_id']]}>" for r in code_loads)
    assert {r["argval_repr"] for r in code_loads} >= {"<code C::m::<lambda#1>>", "<code C::m::<lambda#2>>"}
    assert len(code_loads) == len(qual) - 1  # every unit but the module is created by one LOAD_CONST
