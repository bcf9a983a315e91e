"""Source plane extractor: file bytes -> py_files, py_ast_nodes, py_tokens rows.

Also home of the shared AST walk (``walk_ast``): every plane that anchors to AST nodes numbers them
with this one preorder, so ``ast_node_id`` agrees across planes without a table round trip.
"""

import ast
import io
import os
import re
import tokenize
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.contracts import source as C
from codeintel_assets.extract.rows import fill_derived, set_column, to_table
from codeintel_assets.extract.spans import LineIndex, file_id_for, sha256_hex

DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class SourceError:
    stage: str  # read | limit | decode | parse | tokenize | compile
    type: str
    msg: str
    lineno: int | None = None
    col: int | None = None

    def describe(self, path: str) -> str:
        where = path if self.lineno is None else f"{path}:{self.lineno}" + ("" if self.col is None else f":{self.col}")
        return f"{where}: {self.stage} failed: {self.type}: {self.msg}"


@dataclass(frozen=True)
class SourceFile:
    """A file as read and decoded; ``utf8`` is the coordinate space of every byte span."""

    path: str
    data: bytes | None
    text: str | None
    utf8: bytes | None
    encoding: str | None
    has_bom: bool
    sha256: str | None
    size: int | None
    error: SourceError | None
    undecodable_bytes: int = 0  # bytes of comments that are not UTF-8 (CPython compiles them: _undecodable_comments)

    @property
    def file_id(self) -> str:
        return file_id_for(self.path, self.sha256)


def error_from_exception(stage: str, exc: BaseException) -> SourceError:
    if isinstance(exc, SyntaxError):
        msg = exc.msg or str(exc)
        return SourceError(stage, type(exc).__name__, msg, exc.lineno, exc.offset)
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        msg = exc.strerror
    return SourceError(stage, type(exc).__name__, msg[:500])


def read_source(root: str | os.PathLike, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> SourceFile:
    """Read and decode one repository file; every failure is returned, never raised."""
    full = Path(root) / path
    data = None
    try:
        st = os.stat(full)  # follows symlinks: a loop raises ELOOP here
        if not _is_regular(st.st_mode):
            raise OSError(0, "not a regular file")
        with open(full, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return SourceFile(path, None, None, None, None, False, None, None, error_from_exception("read", exc))
    sha, size = sha256_hex(data), len(data)
    if size > max_bytes:
        err = SourceError("limit", "FileTooLarge", f"{size} bytes exceeds the {max_bytes}-byte limit (--max-file-bytes)")
        return SourceFile(path, data, None, None, None, False, sha, size, err)
    has_bom = data.startswith(b"\xef\xbb\xbf")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        text = _undecodable_comments(data, path)
        if text is None:
            return SourceFile(path, data, None, None, None, has_bom, sha, size, _decode_error(data, path, exc))
        encoding = "utf-8-sig" if has_bom else "utf-8"
        undecodable = len(_SURROGATE.findall(text))
    else:
        undecodable = 0
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    utf8 = data[3:] if has_bom else (data if encoding == "utf-8" else text.encode("utf-8"))
    return SourceFile(path, data, text, utf8, encoding, has_bom, sha, size, None, undecodable)


def _undecodable_comments(data: bytes, path: str) -> str | None:
    """The text of a UTF-8 file that CPython compiles although some of its bytes are not UTF-8, else None.

    CPython 3.13's tokenizer does not decode a comment (``x = 1  # caf\\xe9`` from a Latin-1 editor compiles,
    also on the first two lines, where ``tokenize.detect_encoding`` refuses it), while ``bytes.decode`` and
    ``tokenize.tokenize`` refuse the whole file. The exact bytes stay the coordinate space (every span is
    CPython's); the text keeps each undecodable byte as a lone surrogate (``surrogateescape``: one character per
    byte, so columns and byte offsets convert exactly), and ``_token_rows`` shows it as U+FFFD. A file that
    names another encoding, or that CPython does not compile, is not this case (its decode error stands)."""
    for line in data.split(b"\n", 2)[:2]:
        cookie = _COOKIE.match(line)
        if cookie:  # CPython reads "utf-8" and "utf-8-*" without a codec, any other name through its codec
            name = cookie.group(1).decode("ascii").lower().replace("_", "-")
            if name != "utf-8" and not name.startswith("utf-8-"):
                return None
            break
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except Exception:  # noqa: BLE001 - CPython refuses it too (or cannot say): the decode error stands
        return None
    return data.decode("utf-8", "surrogateescape")


# PEP 263's cookie, on the raw bytes (a line that is not UTF-8 cannot be decoded to look for it)
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _decode_error(data: bytes, path: str, exc: BaseException) -> SourceError:
    """The decode failure as CPython states it. ``tokenize.detect_encoding`` says only "invalid or missing
    encoding declaration" (no line) when the first two lines are not UTF-8, and ``bytes.decode`` names a byte
    offset in the whole file; CPython's own compile of the same bytes names the line and the column
    (``(unicode error) 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte``, line 1).
    Its message and position when it is that decode error (the stage and the type stay ours); else ours."""
    err = error_from_exception("decode", exc)
    try:
        compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as cpython:
        # CPython's words for every decode failure (a BOM with a latin-1 cookie: "encoding problem: iso-8859-1
        # with BOM", where tokenize says "utf-8"); line 0 is CPython's "the file", no line
        if cpython.msg:
            line = cpython.lineno or None
            return SourceError(err.stage, err.type, cpython.msg[:500], line,
                               cpython.offset if line and cpython.offset and cpython.offset > 0 else None)
    except Exception:  # noqa: BLE001 - (MemoryError, RecursionError...) only the message is asked for
        pass
    return err


def _is_regular(mode: int) -> bool:
    import stat
    return stat.S_ISREG(mode)


# ---------------------------------------------------------------------------------------------
# AST walk (shared numbering)

_SKIP = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)


@dataclass(slots=True)  # not frozen: frozen dataclass __init__ costs ~2x on 3M nodes per stdlib run
class AstNodeRow:
    ordinal: int
    parent: int  # -1 for the root
    depth: int
    parent_field: str | None
    node: ast.AST
    start: int | None
    end: int | None
    synthesized: bool


def ast_node_id(path: str, ordinal: int) -> str:
    return f"{path}:AST:{ordinal}"


def node_name(node: ast.AST) -> str | None:
    """The identifier a node carries (def name, Name.id, arg, attr, alias, operator...)."""
    t = type(node)
    if t is ast.Name:
        return node.id
    if t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias, ast.TypeVar, ast.ParamSpec,
             ast.TypeVarTuple, ast.MatchAs, ast.MatchStar, ast.ExceptHandler):
        return getattr(node, "name", None)
    if t is ast.arg:
        return node.arg
    if t is ast.Attribute:
        return node.attr
    if t is ast.keyword:
        return node.arg
    if t is ast.ImportFrom:
        return node.module
    if t in (ast.Global, ast.Nonlocal):
        return ",".join(node.names)
    if t in (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.AugAssign):
        return type(node.op).__name__
    if t is ast.Compare:
        return ",".join(type(o).__name__ for o in node.ops)
    if t is ast.MatchMapping:
        return node.rest
    if t is ast.TypeAlias:
        return node.name.id
    return None


# Node types node_name() can name (every other type: None).
_NAMED = frozenset({ast.Name, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.alias, ast.TypeVar, ast.ParamSpec,
                    ast.TypeVarTuple, ast.MatchAs, ast.MatchStar, ast.ExceptHandler, ast.arg, ast.Attribute,
                    ast.keyword, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.BinOp, ast.UnaryOp, ast.BoolOp,
                    ast.AugAssign, ast.Compare, ast.MatchMapping, ast.TypeAlias})

_CHILD_FIELDS: dict[type, tuple] = {}


def child_fields(t: type) -> tuple[tuple[str, bool | None], ...]:
    """(field, is_list) of the fields of node type ``t`` that can hold nodes the walk numbers, last first.

    From ``_field_types`` (3.13): fields typed str/int/object or expr_context/operator singletons are
    never visited. ``is_list`` None: unknown node type, the walker tests each value.
    """
    got = _CHILD_FIELDS.get(t)
    if got is not None:
        return got
    types_ = getattr(t, "_field_types", None)
    if types_ is None:
        got = tuple((f, None) for f in reversed(t._fields))
    else:
        out = []
        for fname in t._fields:
            ann = types_.get(fname)
            is_list = typing.get_origin(ann) is list
            inner = typing.get_args(ann)[0] if is_list else ann
            cands = typing.get_args(inner) if isinstance(inner, types.UnionType) else (inner,)
            if any(isinstance(c, type) and issubclass(c, ast.AST) and not issubclass(c, _SKIP) for c in cands):
                out.append((fname, is_list))
        got = tuple(reversed(out))
    _CHILD_FIELDS[t] = got
    return got


def walk_ast(tree: ast.AST, lines: LineIndex) -> list[AstNodeRow]:
    """Iterative preorder over every AST node except contexts and operator singletons.

    Nodes without positions (arguments, comprehension, withitem, match_case) get the union of their
    children's spans, flagged ``synthesized``.
    """
    out: list[AstNodeRow] = []
    stack = [(tree, -1, 0, None)]
    starts = lines.line_starts
    n_lines = len(starts)
    n_bytes = lines.n_bytes
    push = stack.append
    pop = stack.pop
    child_cache = _CHILD_FIELDS
    while stack:
        node, parent, depth, field = pop()
        lineno = getattr(node, "lineno", None)
        start = end = None
        if lineno is not None:
            end_lineno = node.end_lineno
            col, end_col = node.col_offset, node.end_col_offset
            if 0 < lineno < n_lines and end_lineno is not None and 0 < end_lineno < n_lines \
                    and col is not None and end_col is not None and col >= 0 and end_col >= 0:
                start = min(starts[lineno] + col, n_bytes)
                end = min(starts[end_lineno] + end_col, n_bytes)
                if end < start:
                    start = end = None
        ordinal = len(out)
        out.append(AstNodeRow(ordinal, parent, depth, field, node, start, end, False))
        d1 = depth + 1
        fields = child_cache.get(type(node))
        if fields is None:
            fields = child_fields(type(node))
        for fname, is_list in fields:
            value = getattr(node, fname, None)
            if value is None:
                continue
            if is_list is None:  # node type without _field_types: test each value
                if isinstance(value, list):
                    for item in reversed(value):
                        if isinstance(item, ast.AST) and not isinstance(item, _SKIP):
                            push((item, ordinal, d1, fname))
                elif isinstance(value, ast.AST) and not isinstance(value, _SKIP):
                    push((value, ordinal, d1, fname))
            elif is_list:
                for item in reversed(value):
                    if item is not None:  # Dict.keys holds None for ** entries
                        push((item, ordinal, d1, fname))
            else:
                push((value, ordinal, d1, fname))
    if isinstance(tree, ast.Module) and out:
        out[0] = AstNodeRow(0, -1, 0, None, tree, 0, lines.n_bytes, True)
    # Children follow parents in preorder: a reverse pass fills position-less parents.
    lo: dict[int, int] = {}
    hi: dict[int, int] = {}
    for row in reversed(out):
        s, e = row.start, row.end
        if s is None and row.ordinal in lo:
            s, e = lo[row.ordinal], hi[row.ordinal]
            row.start, row.end, row.synthesized = s, e, True
        if s is not None and row.parent >= 0:
            p = row.parent
            if p not in lo or s < lo[p]:
                lo[p] = s
            if p not in hi or e > hi[p]:
                hi[p] = e
    return out


# ---------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class SourceFacts:
    files: pa.Table
    ast_nodes: pa.Table
    tokens: pa.Table


def extract_source(src) -> SourceFacts:
    """One file (SourceFile or FileContext) -> py_files (one row), py_ast_nodes, py_tokens.

    Failures become the py_files row. The parse and the AST walk are the context's (shared with the
    other planes of the same pass).
    """
    ctx = _context.as_context(src)
    src = ctx.src
    path = src.path
    fid = src.file_id
    node_rows: list[tuple] = []
    token_rows: list[tuple] = []
    parents: list[int] = []
    error = src.error
    line_count = None
    if error is None:
        lines = ctx.lines()
        line_count = lines.line_count
        try:
            nodes = ctx.ast_rows()
            node_rows = _ast_rows(path, fid, nodes)
            parents = [r.parent for r in nodes]
        except Exception as exc:  # SyntaxError, ValueError (null bytes), RecursionError, MemoryError
            error = error_from_exception("parse", exc)
            node_rows = []
        if error is None:
            try:
                token_rows = _token_rows(path, fid, src, lines)
            except Exception as exc:
                error = error_from_exception("tokenize", exc)
                token_rows = []
    ok = error is None
    file_row = (
        fid, src.sha256, src.size, src.encoding, src.has_bom, line_count, ok,
        None if ok else error.stage, None if ok else error.type, None if ok else error.msg,
        None if ok else error.lineno, None if ok else error.col,
        len(node_rows), len(token_rows), ctx.module_name,
    )
    ast_nodes = fill_derived(C.PY_AST_NODES, to_table(C.PY_AST_NODES, node_rows, path))
    if node_rows:  # parent_ast_node_id: path:AST:<parent ordinal>, null for the root (-1)
        parents = pa.array(parents, type=pa.int32())
        ids = pc.binary_join_element_wise(path, ":AST:", pc.cast(parents, pa.string()), "")
        ast_nodes = set_column(ast_nodes, "parent_ast_node_id", pc.if_else(pc.less(parents, 0), None, ids))
    return SourceFacts(
        files=to_table(C.PY_FILES, [file_row], path),
        ast_nodes=ast_nodes,
        tokens=fill_derived(C.PY_TOKENS, to_table(C.PY_TOKENS, token_rows, path)),
    )


def _ast_rows(path: str, fid: str, nodes: list[AstNodeRow]) -> list[tuple]:
    """py_ast_nodes rows; ``ast_node_id`` and ``parent_ast_node_id`` are None here (filled in Arrow by
    ``extract_source``)."""
    rows = []
    append = rows.append
    kind_of: dict[type, tuple] = {}  # node type -> (kind, named?)
    for r in nodes:
        node = r.node
        t = type(node)
        got = kind_of.get(t)
        if got is None:
            got = kind_of[t] = (t.__name__, t in _NAMED)
        ctx = getattr(node, "ctx", None)
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            pos = (None, getattr(node, "col_offset", None), getattr(node, "end_lineno", None),
                   getattr(node, "end_col_offset", None))
        else:
            pos = (lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        append((
            fid, None, None, r.ordinal, r.depth,
            r.parent_field, got[0], node_name(node) if got[1] else None,
            None if ctx is None else type(ctx).__name__,
            *pos, r.start, r.end, r.synthesized,
        ))
    return rows


def split_lines(text: str) -> list[str]:
    """Split like CPython's tokenizer (\\r\\n, \\r, \\n only), keeping line ends."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        j_n = text.find("\n", i)
        j_r = text.find("\r", i)
        if j_n < 0 and j_r < 0:
            out.append(text[i:])
            break
        if j_r >= 0 and (j_n < 0 or j_r < j_n):
            k = j_r + 2 if text.startswith("\r\n", j_r) else j_r + 1
        else:
            k = j_n + 1
        out.append(text[i:k])
        i = k
    return out


def _tokens(src: SourceFile, text: str, lines: list[str]):
    """``tokenize.tokenize`` of the exact bytes; for a file whose comments hold bytes that are not UTF-8
    (``_undecodable_comments``), of its text with each such byte as U+FFFD (one character for one byte, as
    in the text: the columns are the same), after the ENCODING token ``tokenize`` would have given.

    A lone CR ends a line for CPython (``compile`` and ``import`` translate it, as a classic Mac editor wrote
    them), while ``tokenize`` reads lines up to LF only and refuses the CR inside one ("invalid
    non-printable character U+000D"). Such a file is tokenized with each lone CR as LF (one byte for one:
    every column and offset stays), and a token whose text held one has it back (``string`` is the file's)."""
    lone_cr = b"\r" in src.data and _LONE_CR.search(src.data) is not None
    if src.undecodable_bytes:
        yield tokenize.TokenInfo(tokenize.ENCODING, "utf-8-sig" if src.has_bom else "utf-8", (0, 0), (0, 0), "")
        shown = _SURROGATE.sub("\ufffd", text)
        tokens = tokenize.generate_tokens(io.StringIO(_LONE_CR_TEXT.sub("\n", shown) if lone_cr else shown).readline)
    else:
        tokens = tokenize.tokenize(io.BytesIO(_LONE_CR.sub(b"\n", src.data) if lone_cr else src.data).readline)
    if not lone_cr:
        yield from tokens
        return
    for tok in tokens:  # (``lines``: split_lines(text), where a lone CR ends one, as for CPython)
        if "\n" in tok.string and tok.type != tokenize.ENCODING:
            (sr, sc), (er, ec) = tok.start, tok.end
            if er <= len(lines):
                original = (lines[sr - 1][sc:ec] if sr == er else
                            lines[sr - 1][sc:] + "".join(lines[sr:er - 1]) + lines[er - 1][:ec])
                tok = tok._replace(string=original)
        yield tok


_SURROGATE = re.compile("[\udc80-\udcff]")
_LONE_CR = re.compile(rb"\r(?!\n)")
_LONE_CR_TEXT = re.compile("\r(?!\n)")


def _token_rows(path: str, fid: str, src: SourceFile, lines: LineIndex) -> list[tuple]:
    """py_tokens rows; ``token_id`` is None here (filled in Arrow by ``extract_source``)."""
    text = src.text[1:] if src.text.startswith("\ufeff") else src.text
    text_lines = split_lines(text)
    starts = lines.line_starts
    ascii_line = [True] + [ln.isascii() for ln in text_lines]
    n_bytes = lines.n_bytes

    def byte_at(row: int, col: int) -> int:
        if row >= len(starts):
            return n_bytes
        if row < len(ascii_line) and not ascii_line[row]:
            col = len(text_lines[row - 1][:col].encode("utf-8", "surrogateescape"))  # (_undecodable_comments)
        return min(starts[row] + col, n_bytes)

    # Per row: its start offset when a column is a byte count there (an ASCII line), else -1 (byte_at).
    n_starts, n_ascii = len(starts), len(ascii_line)
    fast = [starts[r] if r >= n_ascii or ascii_line[r] else -1 for r in range(n_starts)]
    rows = []
    append = rows.append
    tok_name = tokenize.tok_name
    type_names = {t: (name, name) for t, name in tok_name.items()}
    op_type = tokenize.OP
    exact = tokenize.EXACT_TOKEN_TYPES
    op_names: dict[str, tuple[str, str]] = {}  # OP string -> (type, exact_type) names (TokenInfo.exact_type)
    encoding = tokenize.ENCODING
    for k, (typ, string, (sr, sc), (er, ec), _) in enumerate(_tokens(src, text, text_lines)):
        if typ == op_type:
            names = op_names.get(string)
            if names is None:
                names = op_names[string] = (tok_name[typ], tok_name[exact[string]] if string in exact else tok_name[typ])
        else:
            names = type_names[typ]
        if typ == encoding:
            a = b = 0
        else:
            if sr < n_starts and (a := fast[sr]) >= 0:
                a += sc
                if a > n_bytes:
                    a = n_bytes
            else:
                a = byte_at(sr, sc)
            if er < n_starts and (b := fast[er]) >= 0:
                b += ec
                if b > n_bytes:
                    b = n_bytes
            else:
                b = byte_at(er, ec)
        append((fid, None, k, names[0], names[1], string, sr, sc, er, ec, a, b))
    return rows


# At the end: context.py imports this module's names (a cycle); extract_source resolves it at call time.
from codeintel_assets.extract import context as _context  # noqa: E402
