"""The extractors use CPython's public ``dis`` / ``symtable`` APIs, and the CPython facts they rely on hold.

Scanned: no private name of ``dis``, ``symtable``, ``ast``, ``opcode`` (module attributes, ``from``
imports, the C modules behind them) and no known private attribute of their objects in
``codeintel_assets/extract``. One documented exception: ``symtable.raw_symbols`` reads
``SymbolTable._table.symbols`` because no public API yields a symbol's flag word (its docstring says
why); the checks below make that read fail loudly if CPython changes it.

Every other test here pins a fact about 3.13's public API that the extractors depend on. They are
meant to fail on an interpreter where the fact changes, so that the extractor is revisited then.
"""

import ast
import dis
import re
import symtable
import sys
from pathlib import Path

import pytest

from codeintel_assets.extract.bytecode import extract_bytecode
from codeintel_assets.extract.symtable import (CELL, DEF_ANNOT, DEF_BOUND, DEF_IMPORT, DEF_LOCAL, DEF_NONLOCAL,
                                               DEF_PARAM, FREE, GLOBAL_EXPLICIT, GLOBAL_IMPLICIT, LOCAL, SCOPE_MASK,
                                               SCOPE_OFF, USE, raw_symbols, read_symtable, walk_symtable)
from codeintel_assets.extract.syntax import read_source

EXTRACT = Path(__file__).resolve().parent.parent / "codeintel_assets" / "extract"
STDLIB_MODULES = ("typing", "ast", "json.decoder", "dataclasses", "asyncio.tasks", "enum")
PRIVATE_MODULES = {"dis", "symtable", "ast", "opcode", "_opcode", "_symtable", "_ast"}
# Private attributes of dis / symtable / code objects that an extractor could be tempted to use.
PRIVATE_ATTRS = {"_table", "_parse_exception_table", "_deoptop", "_all_opname", "_all_opmap", "_inline_cache_entries",
                 "_get_cache_size", "_varname_from_oparg", "_co_code_adaptive", "_specializations",
                 "_specialized_opmap", "_cache_format", "_get_instructions_bytes", "_unpack_opargs",
                 "_newSymbolTable", "_Symbol__flags", "_Symbol__scope"}
ALLOWED = {("symtable.py", "raw_symbols", "_table")}  # see raw_symbols' docstring


def test_interpreter_is_pinned_to_3_13():
    assert sys.version_info[:2] == (3, 13), (
        "the extractors are pinned to CPython 3.13: bytecode rows (opcodes, inline caches, positions), symtable "
        "flag words and AST spans are 3.13's, and the facts below were checked on 3.13 only. On another "
        f"interpreter ({sys.version.split()[0]}) re-run this file's checks by hand and revisit the extractors "
        "before moving the pin")
    assert sys.implementation.name == "cpython"


def _private_uses(path: Path) -> list[tuple[str, int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = a.name
    out = []
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def enclosing(node) -> str | None:
        best = None
        for f in funcs:
            if f.lineno <= node.lineno <= f.end_lineno and (best is None or f.lineno >= best.lineno):
                best = f
        return best.name if best else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, "import") for a in node.names if a.name in PRIVATE_MODULES and a.name[0] == "_"]
        elif isinstance(node, ast.ImportFrom) and node.module in PRIVATE_MODULES:
            if node.module.startswith("_"):
                out.append((node.module, node.lineno, "import"))
            out += [(f"{node.module}.{a.name}", node.lineno, "from-import") for a in node.names
                    if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute):
            private = node.attr.startswith("_") and not (node.attr.startswith("__") and node.attr.endswith("__"))
            module = aliases.get(node.value.id) if isinstance(node.value, ast.Name) else None
            if private and module in PRIVATE_MODULES and node.attr != "_fields":  # AST._fields is documented
                out.append((f"{module}.{node.attr}", node.lineno, enclosing(node)))
            elif node.attr in PRIVATE_ATTRS and (path.name, enclosing(node), node.attr) not in ALLOWED:
                out.append((node.attr, node.lineno, enclosing(node)))
    return out


def test_extractors_use_no_private_dis_symtable_ast_names():
    files = sorted(EXTRACT.glob("*.py"))
    assert any(f.name == "bytecode.py" for f in files) and any(f.name == "symtable.py" for f in files)
    found = {f.name: uses for f in files if (uses := _private_uses(f))}
    assert found == {}, f"private CPython API in the extractors (use the public API or document + test it): {found}"
    # The plain-text view of the same rule, so an aliasing trick the AST scan misses is still caught.
    text = {f.name: f.read_text() for f in files}
    for name, src in text.items():
        assert not re.search(r"\b(dis|symtable|_st|opcode|ast)\._(?!fields\b)[a-z]", src), name
        assert not re.search(r"(^|[^\w`])_(symtable|opcode)\.", src), name
    assert text["symtable.py"].count("._table") == 1  # raw_symbols only


def test_the_scan_sees_private_uses(tmp_path):
    p = tmp_path / "probe.py"
    p.write_text("import dis\nimport symtable as st\nfrom dis import _deoptop\n"
                 "def f(c, t):\n    return dis._parse_exception_table(c), st._newSymbolTable, t._table\n")
    assert sorted(u[0] for u in _private_uses(p)) == ["_table", "dis._deoptop", "dis._parse_exception_table",
                                                      "symtable._newSymbolTable"]


# -- dis ----------------------------------------------------------------------------------------

def _sample(a, b):
    try:
        with open(a) as fh:
            return fh.read() + b
    except (OSError, ValueError) as e:
        raise RuntimeError(a) from e
    finally:
        b = None


def test_bytecode_exception_entries():
    entries = dis.Bytecode(_sample.__code__).exception_entries
    assert entries, "a try/with/finally function has exception-table entries"
    offsets = {i.offset for i in dis.get_instructions(_sample)}
    for e in entries:
        assert e._fields == ("start", "end", "target", "depth", "lasti")  # a namedtuple
        assert isinstance(e.start, int) and isinstance(e.end, int) and isinstance(e.target, int)
        assert isinstance(e.depth, int) and isinstance(e.lasti, bool)
        assert 0 <= e.start < e.end <= len(_sample.__code__.co_code) and e.target in offsets and e.depth >= 0
    assert any(e.lasti for e in entries) and any(not e.lasti for e in entries)
    # One entry per range in dis's own listing: "L1 to L2 -> L3 [depth] lasti".
    listing = [ln for ln in dis.Bytecode(_sample.__code__).dis().splitlines() if " -> " in ln and " to " in ln]
    assert len(listing) == len(entries)


def test_get_instructions_labels_only_jump_targets():
    """``extract`` reads instructions from get_instructions (labels: jump targets only) and only the
    entries from Bytecode, whose iteration would label exception targets too."""
    code = _sample.__code__
    plain = {i.offset for i in dis.get_instructions(code) if i.label is not None}
    jumps = {i.jump_target for i in dis.get_instructions(code) if i.jump_target is not None}
    assert plain == jumps
    with_exc = {i.offset for i in dis.Bytecode(code) if i.label is not None}
    assert with_exc > plain


def _warm():
    class P:
        def __init__(self):
            self.x = 1

    def hot(p, n):
        t = 0
        for i in range(n):
            t = t + p.x + len("ab")
        return t

    for _ in range(64):
        hot(P(), 64)
    return hot


def test_baseopname_of_specialised_and_super_instructions():
    hot = _warm()
    adaptive = list(dis.get_instructions(hot, adaptive=True))
    specialised = {(i.opname, i.baseopname) for i in adaptive if i.opname != i.baseopname}
    assert specialised, "64x64 calls specialise a 3.13 function (is specialisation disabled in this build?)"
    for name, base in specialised:
        assert name.startswith(base + "_"), (name, base)
        assert base in dis.opmap and name not in dis.opmap
    assert ("LOAD_ATTR_INSTANCE_VALUE", "LOAD_ATTR") in specialised
    assert any(b == "BINARY_OP" for _, b in specialised) and any(b == "LOAD_GLOBAL" for _, b in specialised)
    for i in adaptive:
        assert dis.opmap[i.baseopname] == i.baseopcode
    # Superinstructions are base opcodes of their own and name two slots in argval.
    sup = [i for i in dis.get_instructions(lambda a, b: a + b) if i.opname == "LOAD_FAST_LOAD_FAST"]
    assert len(sup) == 1 and sup[0].baseopname == "LOAD_FAST_LOAD_FAST" and sup[0].argval == ("a", "b")
    # Non-adaptive instructions are never specialised: the rows' opname == baseopname.
    assert all(i.opname == i.baseopname for i in dis.get_instructions(hot))


def _walk(code):
    yield code
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            yield from _walk(c)


def test_instruction_facts_memoised_per_opcode_depend_on_the_opcode_only():
    """bytecode._instruction_rows memoises (baseopcode, baseopname, end_offset - cache_offset) per opcode."""
    seen: dict[int, tuple] = {}
    hot = _warm()
    instructions = [i for m in STDLIB_MODULES for c in _walk(compile(Path(_file(m)).read_bytes(), m, "exec"))
                    for i in dis.get_instructions(c)] + list(dis.get_instructions(hot, adaptive=True))
    for i in instructions:
        facts = (i.baseopcode, i.baseopname, i.end_offset - i.cache_offset)
        assert seen.setdefault(i.opcode, facts) == facts, i
        assert i.cache_offset == i.offset + 2
        if i.opname == i.baseopname:  # what the extractor sees (adaptive=False)
            assert i.end_offset - i.cache_offset == 2 * sum(size for _, size, _ in i.cache_info or ())
        # (3.13.0's end_offset of a *specialised* opcode omits its caches: it looks the cache size up by the
        # specialised name. The extractor never sees one: get_instructions(adaptive=False) deoptimises.)
    assert seen[dis.opmap["LOAD_ATTR"]] == (dis.opmap["LOAD_ATTR"], "LOAD_ATTR", 18)
    assert seen[dis.opmap["RESUME"]][2] == 0


def _file(module: str) -> str:
    return __import__(module, fromlist=["_"]).__file__


def test_extracted_rows_carry_the_public_instruction_facts():
    for m in ("json.decoder", "ast"):
        f = Path(_file(m))
        bc = extract_bytecode(read_source(f.parent, f.name))
        expected = [(i.opcode, i.opname, i.baseopcode, i.baseopname, i.offset, i.cache_offset, i.end_offset)
                    for c in _walk(compile(f.read_bytes(), f.name, "exec")) for i in dis.get_instructions(c)]
        ins = bc.instructions
        got = list(zip(*(ins.column(c).to_pylist() for c in ("opcode", "opname", "baseopcode", "baseopname", "offset",
                                                              "cache_offset", "end_offset"))))
        assert got == expected
        exc = [(r["start_offset"], r["end_offset"], r["target_offset"], r["depth"], r["lasti"])
               for r in bc.exception_table.to_pylist()]
        assert exc == [(e.start, e.end, e.target, e.depth, e.lasti)
                       for c in _walk(compile(f.read_bytes(), f.name, "exec"))
                       for e in dis.Bytecode(c).exception_entries]


# -- symtable -----------------------------------------------------------------------------------

SYM_SOURCE = """\
import os.path as p
from m import (a as b, c)
x: int = 1
class K[T: int]:
    y = [i for i in range(3) if i]
    def m(self, /, q, *r, s=1, **t):
        global x
        def inner():
            nonlocal q
            q = lambda z: z + s
            return __class__
        return inner, {k: v for k, v in t.items()}, (g for g in r)
def K(): pass
type Alias[U] = list[U]
def gen[V](v: V) -> V: return v
"""


def _tables(top):
    yield top
    for c in top.get_children():
        yield from _tables(c)


@pytest.mark.parametrize("source", [SYM_SOURCE, *(Path(_file(m)).read_bytes() for m in STDLIB_MODULES)],
                         ids=["sample", *STDLIB_MODULES])
def test_symtable_ids_are_unique_and_shared_with_get_namespaces(source):
    top = read_symtable(source, "mod.py")
    tables = list(_tables(top))
    ids = [t.get_id() for t in tables]
    assert len(set(ids)) == len(ids), "SymbolTable.get_id() identifies a table within one symtable() result"
    tree = walk_symtable(top, "mod.py")
    assert [s.table.get_id() for s in tree.scopes] == ids
    assert list(tree.by_table) == ids
    assert all(tree.by_table[i].table.get_id() == i and tree.by_table[i].name == t.get_name()
               for i, t in zip(ids, tables))
    n_ns = 0
    for t in tables:
        children = {c.get_id(): c for c in t.get_children()}
        for name in t.get_identifiers():
            sym = t.lookup(name)
            for ns in sym.get_namespaces():
                n_ns += 1
                assert ns.get_id() in children, (t.get_name(), name)  # a namespace is a child table, same id
                assert ns.get_name() == children[ns.get_id()].get_name() == name
                assert tree.by_table[ns.get_id()].table.get_id() == ns.get_id()
    assert n_ns > 0


@pytest.mark.parametrize("source", [SYM_SOURCE, *(Path(_file(m)).read_bytes() for m in STDLIB_MODULES)],
                         ids=["sample", *STDLIB_MODULES])
def test_raw_symbols_agree_with_the_public_symbol_api(source):
    """The one private read (raw_symbols): names, order and flag bits must match the public API."""
    top = read_symtable(source, "mod.py")
    n = 0
    for t in _tables(top):
        raw = raw_symbols(t)
        assert isinstance(raw, dict) and all(type(v) is int for v in raw.values())
        assert list(raw) == list(t.get_identifiers())
        module_scope = t.get_name() == "top"
        for name, flags in raw.items():
            s = t.lookup(name)
            code = (flags >> SCOPE_OFF) & SCOPE_MASK
            bound_mod = module_scope and bool(flags & DEF_BOUND)
            assert (s.is_referenced(), s.is_parameter(), s.is_assigned(), s.is_imported(), s.is_annotated(),
                    s.is_nonlocal(), s.is_declared_global(), s.is_free(), s.is_local(), s.is_global()) == (
                bool(flags & USE), bool(flags & DEF_PARAM), bool(flags & DEF_LOCAL), bool(flags & DEF_IMPORT),
                bool(flags & DEF_ANNOT), bool(flags & DEF_NONLOCAL), code == GLOBAL_EXPLICIT, code == FREE,
                code in (LOCAL, CELL) or bound_mod, code in (GLOBAL_IMPLICIT, GLOBAL_EXPLICIT) or bound_mod), name
            n += 1
    assert n > 10


def test_comprehension_tables_list_their_implicit_iterator_parameter():
    """walk_symtable tells a comprehension table from a function named like one by ".0" (3.13 inlines
    list / set / dict comprehensions: only generator expressions keep a child table)."""
    top = symtable.symtable("y = [i for i in x]\ng = (i for i in x)\ndef genexpr(): pass\n", "mod.py", "exec")
    comp, func = top.get_children()
    assert comp.get_name() == "genexpr" and ".0" in comp.get_identifiers() and comp.lookup(".0").is_parameter()
    assert func.get_name() == "genexpr" and ".0" not in func.get_identifiers()
    scopes = walk_symtable(top, "mod.py").scopes
    assert [s.qualpath.rsplit("::", 1)[-1] for s in scopes[1:]] == ["<genexpr#1>", "genexpr"]
