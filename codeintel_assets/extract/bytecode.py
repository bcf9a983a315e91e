"""Bytecode plane extractor (seed 000 `dis -> Arrow`, §2-§4): code units, instructions, exception table.

One ``compile(..., "exec", dont_inherit=True, optimize=0)`` per file; every code object reachable
through ``co_consts`` is a code unit. Code units are anchored to the AST node whose span equals the
position of the ``LOAD_CONST`` that creates them in the parent (module: the whole file).
"""

import ast
import dis
from bisect import bisect_right
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from types import CodeType

import pyarrow as pa

from codeintel_assets.contracts import bytecode as C
from codeintel_assets.extract.rows import fill_derived, to_table
from codeintel_assets.extract.context import COMPILE_DONT_INHERIT, COMPILE_MODE, COMPILE_OPTIMIZE, as_context
from codeintel_assets.extract.crosswalk import CodeKey, match_code_units
from codeintel_assets.extract.spans import MODULE_QUALPATH, LineIndex, child_qualpath, code_unit_id_for
from codeintel_assets.extract.syntax import ast_node_id, error_from_exception

PYTHON_VERSION = ".".join(map(str, sys.version_info[:3]))
MAGIC = importlib.util.MAGIC_NUMBER
CACHE_TAG = sys.implementation.cache_tag
IMPLEMENTATION = sys.implementation.name
ARGVAL_REPR_LIMIT = 1000
_ADDR = re.compile(r" at 0x[0-9a-fA-F]+")
_GENERIC_PREFIX = "<generic parameters of "


class AstAnchors:
    """Span -> AST node lookups over the shared preorder numbering."""

    def __init__(self, path: str, rows: list):
        """``rows``: the shared preorder walk of the file (``FileContext.ast_rows()`` / ``walk_ast``)."""
        self.path = path
        self.exact: dict[tuple[int, int], int] = {}
        self._by_span: dict[tuple[int, int], list[int]] | None = None  # built on first owner lookup
        self.rows = rows
        for r in self.rows:
            if r.start is None:
                continue
            key = (r.start, r.end)
            self.exact[key] = r.ordinal  # preorder: later = deeper, so the deepest wins
        self._starts = None  # the covering index is built on the first inexact lookup

    def _build_covering_index(self):
        """Nodes sorted by (start, -end, ordinal), and for each position ``k`` the nearest earlier
        position whose end is strictly greater (``_up[k]``, -1 if none): every position between the two
        ends no later than ``k`` does, so a covering search may jump straight there. In a properly
        nested tree the links are the ancestors, so a search takes at most depth steps."""
        order = sorted((r.start, -r.end, r.ordinal) for r in self.rows if r.start is not None)
        self._starts = [o[0] for o in order]
        ends = self._ends = [-o[1] for o in order]
        self._ords = [o[2] for o in order]
        up = self._up = [-1] * len(ends)
        stack: list[int] = []  # positions with strictly decreasing ends
        for k, e in enumerate(ends):
            while stack and ends[stack[-1]] <= e:
                stack.pop()
            if stack:
                up[k] = stack[-1]
            stack.append(k)

    def anchor(self, start: int | None, end: int | None) -> tuple[int | None, str | None]:
        """Smallest AST node covering [start, end): exact span match first, then covering search.

        "Smallest": among the nodes with start <= ``start`` and end >= ``end``, the latest start, then
        the earliest end, then the deepest (highest preorder ordinal). That is the last such node in
        (start, -end, ordinal) order: the last position at or before the bisect point whose end reaches
        ``end``, found by following ``_up`` (no step limit: the links skip only non-covering nodes)."""
        if start is None:
            return None, None
        o = self.exact.get((start, end))
        if o is not None:
            return o, "exact"
        if self._starts is None:
            self._build_covering_index()
        k = bisect_right(self._starts, start) - 1
        ends, up = self._ends, self._up
        while k >= 0 and ends[k] < end:
            k = up[k]
        if k < 0:
            return None, None
        return self._ords[k], "covering"

    def nodes_with_span(self, span: tuple[int, int]) -> list[int]:
        """Ordinals of every node with exactly this span, outermost first."""
        if self._by_span is None:
            self._by_span = {}
            for r in self.rows:
                if r.start is not None:
                    self._by_span.setdefault((r.start, r.end), []).append(r.ordinal)
        return self._by_span.get(span, [])

    def node(self, ordinal: int) -> ast.AST:
        return self.rows[ordinal].node

    def parent_field(self, ordinal: int) -> str | None:
        return self.rows[ordinal].parent_field


# --- Instruction decoding -------------------------------------------------------------------------
# ``dis.get_instructions`` is pure Python in 3.13 and was about a third of this plane's CPU.
# ``get_instructions`` below returns the same list of ``dis.Instruction`` objects (equal field by field,
# tests/test_bytecode_decode.py proves it on the standard library) from public data only: the opcode
# lists of ``dis``, ``code.co_positions()``, ``dis.findlinestarts`` and the public attributes of the
# instructions ``dis`` itself returns (the cache layout of an opcode and the argrepr of a BINARY_OP /
# intrinsic argument are learned from them; an opcode or argument not seen yet sends its code object
# through ``dis.get_instructions``).

_Instruction = dis.Instruction
_Positions = dis.Positions
_new = tuple.__new__

_EXTENDED_ARG = dis.opmap["EXTENDED_ARG"]
_HASARG = frozenset(dis.hasarg)
_INT_OVERFLOW = 2 ** 31
# Argument kinds, in the order dis.ArgResolver.get_argval_argrepr tests them.
_K_NONE, _K_CONST, _K_GLOBAL, _K_ATTR, _K_SUPER, _K_NAME, _K_JUMP, _K_PAIR, _K_LOCAL, _K_COMPARE, _K_CONVERT, \
    _K_FNATTR, _K_LEARN, _K_PLAIN = range(14)
_SUPERINSTRUCTIONS = {dis.opmap[n] for n in ("LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST")}
_BACKWARD = {dis.opmap[n] for n in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT")}


def _arg_kind(op: int) -> int:
    if op in dis.hasconst:
        return _K_CONST
    if op in dis.hasname:
        return {dis.opmap["LOAD_GLOBAL"]: _K_GLOBAL, dis.opmap["LOAD_ATTR"]: _K_ATTR,
                dis.opmap["LOAD_SUPER_ATTR"]: _K_SUPER}.get(op, _K_NAME)
    if op in dis.hasjump or op in dis.hasexc:
        return _K_JUMP
    if op in _SUPERINSTRUCTIONS:
        return _K_PAIR
    if op in dis.haslocal or op in dis.hasfree:
        return _K_LOCAL
    if op in dis.hascompare:
        return _K_COMPARE
    if op == dis.opmap["CONVERT_VALUE"]:
        return _K_CONVERT
    if op == dis.opmap["SET_FUNCTION_ATTRIBUTE"]:
        return _K_FNATTR
    if op in (dis.opmap["BINARY_OP"], dis.opmap["CALL_INTRINSIC_1"], dis.opmap["CALL_INTRINSIC_2"]):
        return _K_LEARN  # argrepr from tables dis keeps private: learned from dis's own instructions
    return _K_PLAIN


# opcode -> (opname, inline cache entries, cache format [(name, size)] or None, arg kind, relative jump sign)
# Learned from the instructions dis.get_instructions returns (public attributes only): an opcode not
# seen yet sends its code object through dis.get_instructions, which teaches it.
_OPS: dict[int, tuple] = {}
_OP_LIST: list[tuple | None] = [None] * 256  # the same, indexed by opcode (co_code holds bytes)
_LEARNED_ARGS: dict[tuple[int, int], tuple] = {}  # (opcode, arg) -> (argval, argrepr) for _K_LEARN opcodes


def _learn(instructions) -> None:
    for ins in instructions:
        op = ins.opcode
        if op not in _OPS:
            if ins.baseopcode != op:
                continue  # a specialised opcode (never in co_code): always decoded by dis
            n_cache = (ins.end_offset - ins.cache_offset) // 2
            fmt = None if not ins.cache_info else tuple((name, size) for name, size, _ in ins.cache_info)
            if n_cache and fmt is None:
                continue
            kind = _arg_kind(op)
            jrel = 0
            if op in dis.hasjrel:
                jrel = -1 if op in _BACKWARD else 1
            elif op in dis.hasjabs:
                jrel = 2
            _OPS[op] = _OP_LIST[op] = (ins.opname, n_cache, fmt, kind, jrel, op in _HASARG)
        if _OPS.get(op, (0, 0, 0, 0))[3] == _K_LEARN and ins.arg is not None:
            _LEARNED_ARGS.setdefault((op, ins.arg), (ins.argval, ins.argrepr))


def get_instructions(code: CodeType) -> list:
    """``list(dis.get_instructions(code))``, decoded faster (same ``dis.Instruction`` objects, equal field
    by field). Falls back to dis for a code object holding an opcode (or a BINARY_OP / intrinsic argument)
    not seen before, and learns it."""
    out = _decode(code)
    if out is None:
        out = list(dis.get_instructions(code))
        _learn(out)
    return out


def _decode(code: CodeType):
    co = code.co_code
    ops = _OP_LIST
    # Pass 1: unpack opcodes and arguments (as dis does, EXTENDED_ARG included), find jump targets (dis.findlabels).
    raw = []
    labels = set()
    extended_arg = 0
    ext_count = 0
    i, n = 0, len(co)
    while i < n:
        op = co[i]
        facts = ops[op]
        if facts is None:
            return None
        ncache = facts[1]
        if facts[5]:
            arg = co[i + 1] | extended_arg
            extended_arg = (arg << 8) if op == _EXTENDED_ARG else 0
            if extended_arg >= _INT_OVERFLOW:
                extended_arg -= 2 * _INT_OVERFLOW
            jrel = facts[4]
            if jrel:
                if jrel == 2:
                    t = arg * 2
                else:
                    t = i + 2 + jrel * arg * 2 + 2 * ncache
                labels.add(t)
        else:
            arg = None
            extended_arg = 0
        if op == _EXTENDED_ARG:
            ext_count += 1
            raw.append((i, i, op, arg, facts))
        else:
            raw.append((i, i - ext_count * 2, op, arg, facts))
            ext_count = 0
        i += 2 + 2 * ncache
    labels_map = {off: k + 1 for k, off in enumerate(sorted(labels))}
    linestarts = dict(dis.findlinestarts(code))
    positions = list(code.co_positions())
    consts, names = code.co_consts, code.co_names
    localsplus = None
    learned = _LEARNED_ARGS
    out = []
    append = out.append
    line_number = None
    for offset, start_offset, op, arg, facts in raw:
        if offset in linestarts:
            starts_line = True
            line_number = linestarts[offset]
        else:
            starts_line = False
        p = _new(_Positions, positions[offset >> 1])
        opname, ncache, fmt, kind, jrel, _ = facts
        if arg is None:
            argval, argrepr = None, ""
        elif kind == _K_PLAIN:
            argval, argrepr = arg, ""
        elif kind == _K_CONST:
            argval = consts[arg]
            argrepr = repr(argval)
        elif kind == _K_LOCAL:
            if localsplus is None:
                localsplus = _localsplus(code)
            argval = argrepr = localsplus[arg]
        elif kind == _K_NAME:
            argval = argrepr = names[arg]
        elif kind == _K_GLOBAL or kind == _K_ATTR:
            argval = argrepr = names[arg >> 1]
            if (arg & 1) and argrepr:
                argrepr = f"{argrepr} + NULL" if kind == _K_GLOBAL else f"{argrepr} + NULL|self"
        elif kind == _K_JUMP:
            if jrel == 2:
                argval = arg * 2
            elif jrel:
                argval = offset + 2 + jrel * arg * 2 + 2 * ncache
            else:
                return None  # a jump dis resolves without a target rule (pseudo-ops): not in co_code
            argrepr = f"to L{labels_map[argval]}"
        elif kind == _K_PAIR:
            if localsplus is None:
                localsplus = _localsplus(code)
            v1, v2 = localsplus[arg >> 4], localsplus[arg & 15]
            argval, argrepr = (v1, v2), v1 + ", " + v2
        elif kind == _K_SUPER:
            argval = argrepr = names[arg >> 2]
            if (arg & 1) and argrepr:
                argrepr = f"{argrepr} + NULL|self"
        elif kind == _K_COMPARE:
            argval = argrepr = dis.cmp_op[arg >> 5]
            if arg & 16:
                argrepr = f"bool({argrepr})"
        elif kind == _K_CONVERT:
            argval = (None, str, repr, ascii)[arg]
            argrepr = ("", "str", "repr", "ascii")[arg]
        elif kind == _K_FNATTR:
            argval = arg
            argrepr = ", ".join(s for k, s in enumerate(dis.FUNCTION_ATTR_FLAGS) if arg & (1 << k))
        else:  # _K_LEARN
            got = learned.get((op, arg))
            if got is None:
                return None
            argval, argrepr = got
        if fmt is None:
            cache_info = None
        else:
            c0 = offset + 2
            cache_info = [(name, size, co[c0:c0 + 2 * size]) for name, size in fmt]
        append(_new(_Instruction, (opname, op, arg, argval, argrepr, offset, start_offset, starts_line,
                                   line_number, labels_map.get(offset), p, cache_info)))
    return out


def _localsplus(code: CodeType) -> tuple:
    """Names of the fast-locals array: arguments and locals, then cells that are not arguments, then frees."""
    varnames = code.co_varnames
    seen = set(varnames)
    return varnames + tuple(c for c in code.co_cellvars if c not in seen) + code.co_freevars


def jump_targets(instructions: list) -> list:
    """``[ins.jump_target for ins in instructions]``: for a relative / absolute jump the target is its argval."""
    ops = _OP_LIST
    out = []
    append = out.append
    for ins in instructions:
        f = ops[ins[1]]
        if f is None:
            append(ins.jump_target)
        else:
            append(ins[3] if f[4] and ins[2] is not None else None)
    return out


@dataclass
class CodeUnit:
    code: CodeType
    code_unit_id: str
    parent_id: str | None
    qualpath: str
    kind: str
    depth: int
    span: tuple[int | None, int | None]
    ast_ordinal: int | None
    key_quality: str
    instructions: list = field(default_factory=list)
    exception_entries: list = field(default_factory=list)
    jump_targets: list = field(default_factory=list)


_KIND_BY_NODE = {
    ast.ClassDef: "class_body", ast.FunctionDef: "function", ast.AsyncFunctionDef: "function",
    ast.Lambda: "lambda", ast.GeneratorExp: "comprehension", ast.ListComp: "comprehension",
    ast.SetComp: "comprehension", ast.DictComp: "comprehension", ast.TypeAlias: "type_scope",
}
_OWNER_TYPES = tuple(_KIND_BY_NODE) + (ast.TypeVar, ast.ParamSpec, ast.TypeVarTuple)


def _classify(code: CodeType, anchors: AstAnchors, ordinal: int | None, is_root: bool) -> str:
    if is_root:
        return "module"
    if code.co_name.startswith(_GENERIC_PREFIX):
        return "type_scope"
    if ordinal is None:
        return "other"
    kind = _KIND_BY_NODE.get(type(anchors.node(ordinal)))
    if kind:
        return kind
    if anchors.parent_field(ordinal) in ("bound", "default_value"):
        return "type_scope"  # lazily evaluated TypeVar bound / constraints / default (PEP 695/696)
    return "other"


def _pick_owner(anchors: AstAnchors, span) -> int | None:
    """Among nodes with exactly this span, prefer the construct that owns a code object."""
    cands = anchors.nodes_with_span(span)
    if not cands:
        o, _ = anchors.anchor(*span)
        return o
    for o in reversed(cands):
        if isinstance(anchors.node(o), _OWNER_TYPES):
            return o
    return cands[-1]


def enumerate_code_units(path: str, module: CodeType, anchors: AstAnchors, lines: LineIndex) -> list[CodeUnit]:
    """Every code object, depth-first in co_consts order, with qualpath and AST anchor (seed §2.2, §4.5)."""
    root_name = MODULE_QUALPATH
    root_span = (0, lines.n_bytes)
    units: list[CodeUnit] = []

    def visit(code, parent: CodeUnit | None, qualpath: str, span, depth: int, quality: str):
        ordinal = 0 if parent is None and anchors.rows else (_pick_owner(anchors, span) if span[0] is not None else None)
        cu = CodeUnit(code, code_unit_id_for(path, span[0], span[1], qualpath), None if parent is None else parent.code_unit_id,
                      qualpath, _classify(code, anchors, ordinal, parent is None), depth, span, ordinal, quality)
        units.append(cu)
        cu.instructions = get_instructions(code)
        cu.jump_targets = jump_targets(cu.instructions)
        # Entries only: iterating the Bytecode would also label exception targets (get_instructions does not).
        cu.exception_entries = dis.Bytecode(code).exception_entries if code.co_exceptiontable else []
        # Creation sites: the LOAD_CONST of a child code object carries its owner's span.
        creation: dict[int, tuple] = {}
        has_code = any(type(c) is CodeType for c in code.co_consts)
        for ins in (cu.instructions if has_code else ()):
            if ins.opcode == _LOAD_CONST and isinstance(ins.argval, CodeType):
                p = ins.positions
                if id(ins.argval) not in creation and p is not None:
                    creation[id(ins.argval)] = lines.span(p.lineno, p.col_offset, p.end_lineno, p.end_col_offset)
        seen: dict[str, int] = {}
        for const in code.co_consts:
            if not isinstance(const, CodeType):
                continue
            name = const.co_name
            n = seen[name] = seen.get(name, 0) + 1
            if name.startswith("<") and not name.startswith(_GENERIC_PREFIX):
                seg = f"{name[:-1]}#{n}>"
            else:
                seg = name if n == 1 else f"{name}#{n}"
            child_span = creation.get(id(const), (None, None))
            q = "strong" if child_span[0] is not None else "weak"
            visit(const, cu, child_qualpath(qualpath, seg), child_span, depth + 1, q)

    visit(module, None, root_name, root_span, 0, "strong")
    return units


_LOAD_CONST = dis.opmap["LOAD_CONST"]


def _labels_for(cu: CodeUnit) -> dict[int, str]:
    """Seed §4.4: labels L0000.. over sorted unique jump targets and exception boundaries."""
    offs = {t for t in cu.jump_targets if t is not None}
    for e in cu.exception_entries:
        offs.update((e.start, e.end, e.target))
    return {o: f"L{k:04d}" for k, o in enumerate(sorted(offs))}


def _argval_columns(argval, code_ids: dict[int, tuple[str, str]]):
    """-> (argval_kind, argval_str, argval_int, argval_repr, argval_code_unit_id)."""
    t = type(argval)
    if t is str:
        return "str", utf8_safe(argval), None, _cap(repr(argval)), None
    if t is bool:
        return "bool", None, int(argval), repr(argval), None
    if t is int:
        v = argval if -(1 << 63) <= argval < (1 << 63) else None
        return "int", None, v, _cap(repr(argval)) if v is None else str(argval), None
    if argval is None:
        return "none", None, None, "None", None
    if t is CodeType:
        cu_id, qual = code_ids.get(id(argval), (None, argval.co_qualname))
        return "code", None, None, f"<code {qual}>", cu_id
    if t is float:
        return "float", None, None, repr(argval), None
    if t is bytes:
        return "bytes", None, None, _cap(repr(argval)), None
    if t is tuple:
        r = repr(argval)
        if "{" in r:  # possibly a (frozen)set inside (stable_repr of a set-free tuple is its repr)
            r = stable_repr(argval)
        return "tuple", None, None, _cap(_ADDR.sub("", r)), None
    if t is frozenset:
        return "frozenset", None, None, _cap(stable_repr(argval)), None
    if t is complex:
        return "complex", None, None, repr(argval), None
    if argval is Ellipsis:
        return "ellipsis", None, None, "Ellipsis", None
    return "other", None, None, _cap(_ADDR.sub("", repr(argval))), None


def stable_repr(v) -> str:
    """``repr(v)`` with the elements of every set / frozenset in sorted order of their own stable repr,
    recursively through tuples and lists. A set's iteration order follows the hash of its elements, and
    str / bytes hashes follow the process's hash seed (PYTHONHASHSEED): plain ``repr`` of
    ``frozenset({'p', 'q'})`` differs between processes. Equal to ``repr(v)`` for set-free values."""
    t = type(v)
    if t is frozenset or t is set:
        if not v:
            return repr(v)
        body = ", ".join(sorted(map(stable_repr, v)))
        return f"frozenset({{{body}}})" if t is frozenset else f"{{{body}}}"
    if t is tuple:
        if len(v) == 1:
            return f"({stable_repr(v[0])},)"
        return "(" + ", ".join(map(stable_repr, v)) + ")"
    if t is list:
        return "[" + ", ".join(map(stable_repr, v)) + "]"
    return repr(v)


def utf8_safe(s: str) -> str:
    """Lone surrogates (legal in str constants, e.g. '\\ud800') cannot be stored as UTF-8: escape them."""
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _cap(r: str) -> str:
    if len(r) <= ARGVAL_REPR_LIMIT:
        return r
    return r[:ARGVAL_REPR_LIMIT] + f"...[{len(r) - ARGVAL_REPR_LIMIT} more chars]"


@dataclass(frozen=True)
class BytecodeFacts:
    code_units: pa.Table
    instructions: pa.Table
    exception_table: pa.Table
    run_meta: pa.Table
    units: list[CodeUnit]


def run_meta_row(fid, ok: bool, error=None, n_units=0, n_instr=0, run_id=None, stage: str = "compile") -> tuple:
    from codeintel_assets.version import extractor_version
    return (fid, PYTHON_VERSION, IMPLEMENTATION, CACHE_TAG, MAGIC, COMPILE_MODE, COMPILE_OPTIMIZE,
            COMPILE_DONT_INHERIT, ok, None if ok else error.type, None if ok else error.describe_short(),
            None if ok else error.lineno, n_units, n_instr, run_id, ok, None if ok else stage, extractor_version())


def extract_bytecode(src, run_id: str | None = None) -> BytecodeFacts:
    """One file (SourceFile or FileContext) -> py_bc_code_units, py_bc_instructions, py_bc_exception_table,
    codeintel_run_meta (the plane's status table).

    The compile, the parse, the AST walk and the symbol table are the context's (one each per file).
    """
    ctx = as_context(src, run_id=run_id)
    src, run_id = ctx.src, (run_id or ctx.run_id)
    path, fid = src.path, src.file_id
    empty = lambda tc: to_table(tc, [], path)  # noqa: E731
    if src.error is not None:
        err = _Err("SourceUnavailable", f"{src.error.stage} failed: {src.error.type}: {src.error.msg}", src.error.lineno)
        return BytecodeFacts(empty(C.PY_BC_CODE_UNITS), empty(C.PY_BC_INSTRUCTIONS), empty(C.PY_BC_EXCEPTION_TABLE),
                             to_table(C.CODEINTEL_RUN_META, [run_meta_row(fid, False, err, run_id=run_id, stage="source")], path), [])
    try:
        lines = ctx.lines()
        module = ctx.code()
        anchors = AstAnchors(path, ctx.ast_rows())
        units = enumerate_code_units(path, module, anchors, lines)
    except Exception as exc:  # SyntaxError, ValueError (null bytes), RecursionError, MemoryError
        e = error_from_exception("compile", exc)
        err = _Err(e.type, e.msg, e.lineno)
        return BytecodeFacts(empty(C.PY_BC_CODE_UNITS), empty(C.PY_BC_INSTRUCTIONS), empty(C.PY_BC_EXCEPTION_TABLE),
                             to_table(C.CODEINTEL_RUN_META, [run_meta_row(fid, False, err, run_id=run_id)], path), [])
    code_ids = {id(u.code): (u.code_unit_id, u.qualpath) for u in units}
    try:  # the symtable plane's scope ids, from the same pass (crosswalk.py): py_bc_code_units.scope_id
        match = ctx.memo("code_scope_match", lambda: match_code_units(ctx.symtable_tree(), CodeKey.from_units(units, path)))
        scope_ids = [match.scope_of.get(u.code_unit_id) for u in units]
    except Exception:  # noqa: BLE001 - symtable refusing what compile accepted: scope_id stays null
        scope_ids = [None] * len(units)
    module_name = ctx.module_name
    cu_rows, ins_rows, exc_rows = [], [], []
    span_cache: dict = {}
    for u, scope_id in zip(units, scope_ids):
        code = u.code
        cu_rows.append((
            fid, u.code_unit_id, u.parent_id, u.qualpath, code.co_name, code.co_qualname, u.kind, u.depth,
            code.co_firstlineno, u.span[0], u.span[1],
            None if u.ast_ordinal is None else ast_node_id(path, u.ast_ordinal), u.key_quality, scope_id,
            code.co_flags, code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount,
            code.co_nlocals, code.co_stacksize, list(code.co_varnames), list(code.co_names),
            list(code.co_freevars), list(code.co_cellvars), len(code.co_code), len(code.co_exceptiontable),
            len(u.instructions), len(u.exception_entries), PYTHON_VERSION, MAGIC, module_name,
        ))
        labels = _labels_for(u)
        ins_rows.extend(_instruction_rows(path, fid, u, labels, lines, anchors, code_ids, span_cache))
        for k, e in enumerate(u.exception_entries):
            exc_rows.append((fid, u.code_unit_id, k, e.start, e.end, e.target, e.depth, e.lasti,
                             labels.get(e.start), labels.get(e.end), labels.get(e.target)))
    meta = run_meta_row(fid, True, None, len(units), len(ins_rows), run_id)
    return BytecodeFacts(
        to_table(C.PY_BC_CODE_UNITS, cu_rows, path), fill_derived(C.PY_BC_INSTRUCTIONS, to_table(C.PY_BC_INSTRUCTIONS, ins_rows, path)),
        to_table(C.PY_BC_EXCEPTION_TABLE, exc_rows, path), to_table(C.CODEINTEL_RUN_META, [meta], path), units)


@dataclass(frozen=True)
class _Err:
    type: str
    msg: str
    lineno: int | None

    def describe_short(self) -> str:
        return self.msg


# opcode -> (baseopcode, baseopname, inline cache bytes), from the public ``dis.Instruction`` properties
# of the first instruction seen with that opcode: all three depend on the opcode alone, and the properties
# recompute them (deopt table, cache-size lookup) on every access.
_OP_FACTS: dict[int, tuple[int, str, int]] = {}
_NAME_TUPLE_SUFFIXES = ("_FAST", "_FAST_LOAD_FAST", "_FAST_STORE_FAST")


def _instruction_rows(path, fid, u: CodeUnit, labels, lines: LineIndex, anchors: AstAnchors, code_ids,
                      span_cache: dict) -> list[tuple]:
    """Seed §3.2 rows for one code unit. ``span_cache`` memoises positions -> (pos, span, anchor) per file:
    many instructions share one source position. ``instr_physical_id`` is None here (``fill_derived``)."""
    rows = []
    append = rows.append
    cu_id = u.code_unit_id
    co_code = u.code.co_code
    ordinals: dict[tuple, list] = {}  # (span, base op) -> [next ordinal, instr_id prefix]
    span_of = lines.span
    anchor = anchors.anchor
    ast_prefix = f"{path}:AST:"
    jts = u.jump_targets
    op_facts = _OP_FACTS
    # (opcode, arg) -> the argument columns: within a code unit they depend on nothing else, except for
    # a jump (its argval is an offset relative to the instruction), which is not memoised.
    arg_cols: dict[tuple, tuple] = {}
    for idx, ins in enumerate(u.instructions):
        opname, opcode, arg, argval, argrepr, off, start, starts_line, line_number, label, p, ci = ins
        hit = span_cache.get(p)
        if hit is None:
            if p is not None and p.lineno:
                pos = (p.lineno, p.end_lineno, p.col_offset, p.end_col_offset)
                a, b = span_of(p.lineno, p.col_offset, p.end_lineno, p.end_col_offset)
            else:
                pos = None if p is None else (p.lineno, p.end_lineno, p.col_offset, p.end_col_offset)
                a = b = None
            o, akind = anchor(a, b) if a is not None else (None, None)
            hit = span_cache[p] = (pos, a, b, None if o is None else ast_prefix + str(o), akind)
        pos, a, b, ast_id, akind = hit
        try:
            baseop, base, cache_bytes = op_facts[opcode]
        except KeyError:
            baseop, base, cache_bytes = op_facts[opcode] = (ins.baseopcode, ins.baseopname,
                                                            ins.end_offset - ins.cache_offset)
        if a is not None:
            key = (a, b, base)
            got = ordinals.get(key)
            if got is None:
                got = ordinals[key] = [0, f"{cu_id}:{a}:{b}:{base}:"]
                instr_id = got[1] + "0"
            else:
                n = got[0] = got[0] + 1
                instr_id = got[1] + str(n)
        else:
            instr_id = f"{cu_id}:NOSPAN:{idx}:{base}"
        cache_off = off + 2  # Instruction.cache_offset: the code unit is 2 bytes
        end = cache_off + cache_bytes
        jt = jts[idx]
        akey = (opcode, arg)
        cols = None if jt is not None else arg_cols.get(akey)
        if cols is None:
            kind, vstr, vint, vrepr, vcode = _argval_columns(argval, code_ids)
            # Superinstructions (LOAD_FAST_LOAD_FAST, STORE_FAST_STORE_FAST, STORE_FAST_LOAD_FAST) name two slots.
            names = list(argval) if kind == "tuple" and base.endswith(_NAME_TUPLE_SUFFIXES) else None
            if (kind == "frozenset" or (kind == "tuple" and "{" in argrepr)) and argrepr == repr(argval):
                argrepr = stable_repr(argval)  # the const's repr: (frozen)set order follows the hash seed
            cols = (_ADDR.sub("", argrepr) if "0x" in argrepr else argrepr, kind, vstr, vint, vrepr, vcode, names)
            if jt is None:
                arg_cols[akey] = cols
        append((
            fid, cu_id, instr_id, None, idx,
            start, off, cache_off, end, off - start, 2, cache_bytes,
            opcode, opname, baseop, base, arg, *cols,
            label is not None, jt, None if jt is None else labels.get(jt), labels.get(off),
            starts_line, line_number, pos, a, b, ast_id, akind,
            ci if ci else None,
            co_code[cache_off:end] if cache_bytes > 0 else None, co_code[start:cache_off],
        ))
    return rows
