"""SCIP ingestion: an index an external indexer produced (``scip-python index`` writes ``index.scip`` at the
repository root) read, checked against the files it describes, and joined to the syntax by byte span.

Dagster-free (the ``scip_index`` asset and the tests call it).

- **Reading.** SCIP is one protobuf message (``scip.proto``: Index > Document > Occurrence /
  SymbolInformation). The fields used here are decoded from the protobuf wire format directly
  (varints, length-delimited fields, packed and unpacked ``repeated int32``); unknown fields are skipped,
  as protobuf requires, so a newer index still reads. That avoids a generated-code dependency for five
  messages; the tests encode their indexes with Google's own protobuf runtime, an independent encoder.
- **Positions.** A range is ``[line, char, end_char]`` or ``[line, char, end_line, end_char]``, 0-based,
  characters counted in the document's ``position_encoding`` (UTF-8 bytes, UTF-16 code units or code
  points). An index that does not say (scip-python predates the field) counts UTF-16 code units, the
  LSP convention its TypeScript implementation follows. Lines end at ``\\n``, ``\\r\\n`` or ``\\r``, as
  CPython's; spans are offsets into the file's UTF-8 text, like every span of the other planes.
- **Staleness.** A document whose file changed after the indexer ran would anchor occurrences to the
  wrong names. When the document carries its text, that text must equal the file's; otherwise the index
  file must be newer than the source file. A stale, unindexed or failed file's document is a row with
  ``ok = false`` and the reason, and none of its occurrences are used.
- **Anchoring** is SQL over the stored planes (``anchor_sql``): the name site with exactly the span (its
  binding: SYM-CPG-ALG-6's bridge), else the smallest AST node ending where the occurrence ends (the
  attribute ``a.b.c`` for ``c``: the callee of a call), and the token with exactly the span.
"""

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa

from codeintel_assets.contracts.common import SCHEMA_VERSION
from codeintel_assets.contracts.scip import SCIP_DOCUMENTS, SCIP_OCCURRENCES, SCIP_SYMBOLS, SCIP_TABLES

DEFAULT_INDEX = "index.scip"

# SymbolRole bits, PositionEncoding values and the SymbolInformation.Kind values a Python indexer uses
# (scip.proto).
DEFINITION, IMPORT, WRITE, READ = 0x1, 0x2, 0x4, 0x8
ENCODINGS = {1: "utf-8", 2: "utf-16", 3: "utf-32"}
UNSPECIFIED_ENCODING = "utf-16"
KIND_NAMES = {7: "Class", 8: "Constant", 9: "Constructor", 11: "Enum", 12: "EnumMember", 15: "Field",
              17: "Function", 18: "Getter", 26: "Method", 29: "Module", 30: "Namespace", 35: "Package",
              37: "Parameter", 41: "Property", 44: "SelfParameter", 45: "Setter", 54: "Type", 55: "TypeAlias",
              58: "TypeParameter", 60: "Value", 61: "Variable", 80: "StaticMethod"}
RELATIONSHIP_FLAGS = {2: "reference", 3: "implementation", 4: "type_definition", 5: "definition"}
MAX_DOC_CHARS = 2000


class ScipError(ValueError):
    """The file is not a SCIP index this reader can decode (the message names the file and the place)."""


# ---- the protobuf wire format --------------------------------------------------------------------------

def _varint(buf, i: int) -> tuple[int, int]:
    result = shift = 0
    n = len(buf)
    while True:
        if i >= n:
            raise ScipError("truncated varint")
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ScipError("varint longer than 10 bytes")


def _fields(buf):
    """(field number, wire type, value) of one message: an int for a varint, a memoryview for a
    length-delimited field, None for the fixed-width ones (no field read here has them)."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ScipError("field number 0")
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > n:
                raise ScipError(f"field {number} runs {i + size - n} bytes past the end of its message")
            value, i = buf[i:i + size], i + size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            if i > n:
                raise ScipError(f"truncated fixed-width field {number}")
            value = None
        else:
            raise ScipError(f"unsupported wire type {wire} (field {number})")
        yield number, wire, value


def _int32(v: int) -> int:
    """A varint-encoded int32 (a negative one is sign-extended to 64 bits)."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def _packed(value) -> list[int]:
    """A packed run of ``repeated int32`` values (one length-delimited field)."""
    out, i = [], 0
    while i < len(value):
        v, i = _varint(value, i)
        out.append(_int32(v))
    return out


def _str(value) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScipError(f"a string field is not UTF-8 ({exc})") from exc


# ---- messages ----------------------------------------------------------------------------------------

@dataclass
class Occurrence:
    range: list[int]
    symbol: str = ""
    roles: int = 0
    syntax_kind: int = 0


@dataclass
class SymbolInfo:
    symbol: str = ""
    documentation: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)
    kind: int = 0
    display_name: str = ""
    enclosing_symbol: str = ""


@dataclass
class Document:
    relative_path: str = ""
    language: str = ""
    occurrences: list[Occurrence] = field(default_factory=list)
    symbols: list[SymbolInfo] = field(default_factory=list)
    text: str | None = None
    position_encoding: int = 0
    digest: str = ""


@dataclass
class Index:
    project_root: str = ""
    tool: str = ""
    text_encoding: int = 0
    documents: list[Document] = field(default_factory=list)
    external_symbols: list[SymbolInfo] = field(default_factory=list)


def _decode(buf, obj, fields: dict):
    """Fill ``obj`` from one message: ``fields`` maps (field number, wire type) to (attribute, decode, ``set`` or
    ``append`` to a repeated field); other fields are skipped."""
    for number, wire, value in _fields(buf):
        spec = fields.get((number, wire))
        if spec is not None:
            name, decode, how = spec
            if how == "set":
                setattr(obj, name, decode(value))
            else:
                getattr(obj, name).append(decode(value))
    return obj


def _relationship(buf) -> str:
    rel = _decode(buf, SimpleNamespace(symbol="", flags=[]), RELATIONSHIP_FIELDS)
    return f"{'|'.join(RELATIONSHIP_FLAGS[n] for n in rel.flags if n) or 'related'}:{rel.symbol}"


def _occurrence(buf) -> Occurrence:
    """The hot one (one per name in the repository): its fields dispatched inline, not through _decode
    (15 % of the read on the standard library's 1.09 M occurrences)."""
    occ = Occurrence([])
    for number, wire, value in _fields(buf):
        if number == 1:
            if wire == 0:
                occ.range.append(_int32(value))
            elif wire == 2:
                occ.range.extend(_packed(value))
        elif number == 2 and wire == 2:
            occ.symbol = _str(value)
        elif number == 3 and wire == 0:
            occ.roles = _int32(value)
        elif number == 5 and wire == 0:
            occ.syntax_kind = value
    return occ


def _symbol_info(buf) -> SymbolInfo:
    return _decode(buf, SymbolInfo(), SYMBOL_FIELDS)


def _document(buf) -> Document:
    return _decode(buf, Document(digest=hashlib.sha256(buf).hexdigest()), DOCUMENT_FIELDS)


# The fields read, by scip.proto's numbers: (number, wire type 0 varint / 2 length-delimited) -> how.
RELATIONSHIP_FIELDS = {(1, 2): ("symbol", _str, "set"),
                       **{(n, 0): ("flags", lambda v, n=n: n if v else None, "append") for n in RELATIONSHIP_FLAGS}}
SYMBOL_FIELDS = {(1, 2): ("symbol", _str, "set"), (3, 2): ("documentation", _str, "append"),
                 (4, 2): ("relationships", _relationship, "append"), (5, 0): ("kind", int, "set"),
                 (6, 2): ("display_name", _str, "set"), (8, 2): ("enclosing_symbol", _str, "set")}
DOCUMENT_FIELDS = {(1, 2): ("relative_path", _str, "set"), (2, 2): ("occurrences", _occurrence, "append"),
                   (3, 2): ("symbols", _symbol_info, "append"), (4, 2): ("language", _str, "set"),
                   (5, 2): ("text", _str, "set"), (6, 0): ("position_encoding", int, "set")}


def read_index(path: str | os.PathLike) -> Index:
    """Decode a SCIP index file; a file that is not one raises ScipError naming it and the place."""
    try:
        data = memoryview(Path(path).read_bytes())
    except OSError as exc:
        raise ScipError(f"cannot read the SCIP index {path}: {exc.strerror or exc}") from exc
    index = Index()
    where = "the index"
    try:
        for number, wire, value in _fields(data):
            if number == 1 and wire == 2:
                where = "its metadata"
                for n2, w2, v2 in _fields(value):
                    if n2 == 2 and w2 == 2:
                        tool = {n3: _str(v3) for n3, w3, v3 in _fields(v2) if n3 in (1, 2) and w3 == 2}
                        index.tool = " ".join(t for t in (tool.get(1), tool.get(2)) if t)
                    elif n2 == 3 and w2 == 2:
                        index.project_root = _str(v2)
                    elif n2 == 4 and w2 == 0:
                        index.text_encoding = v2
            elif number == 2 and wire == 2:
                where = f"document {len(index.documents) + 1}"
                index.documents.append(_document(value))
            elif number == 3 and wire == 2:
                where = f"external symbol {len(index.external_symbols) + 1}"
                index.external_symbols.append(_symbol_info(value))
            elif wire != 2 and number in (1, 2, 3):
                raise ScipError(f"field {number} has wire type {wire}, not a message")
    except ScipError as exc:
        raise ScipError(f"{path} is not a readable SCIP index ({where}: {exc})") from None
    if data and not index.documents and not index.tool and not index.project_root:
        raise ScipError(f"{path} is not a SCIP index (no metadata and no documents)")
    return index


# ---- positions -----------------------------------------------------------------------------------------

def _line_bounds(utf8: bytes, line_starts: list[int], line: int) -> tuple[int, int] | None:
    """(start, end) bytes of 0-based ``line`` without its terminator, or None past the last line."""
    k = line + 1  # LineIndex: 1-based
    if line < 0 or k >= len(line_starts):
        return None
    start = line_starts[k]
    end = line_starts[k + 1] if k + 1 < len(line_starts) else len(utf8)
    while end > start and utf8[end - 1] in (0x0A, 0x0D):
        end -= 1
    return start, end


def _char_to_byte(utf8: bytes, bounds: tuple[int, int], char: int, encoding: str) -> int | None:
    start, end = bounds
    if char < 0:
        return None
    raw = utf8[start:end]
    if encoding == "utf-8" or raw.isascii():
        return start + char if char <= len(raw) else None
    text = raw.decode("utf-8")
    if encoding == "utf-32":
        return start + len(text[:char].encode("utf-8")) if char <= len(text) else None
    units = 0
    for i, ch in enumerate(text):  # utf-16: code points beyond the BMP are two units
        if units == char:
            return start + len(text[:i].encode("utf-8"))
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > char:
            return None  # inside a surrogate pair
    return end if units == char else None


def byte_span(utf8: bytes, line_starts: list[int], rng: list[int], encoding: str) -> tuple[int, int] | None:
    """The UTF-8 byte span of a SCIP range, or None when it is malformed or not in the file."""
    if len(rng) == 3:
        line, char, end_line, end_char = rng[0], rng[1], rng[0], rng[2]
    elif len(rng) == 4:
        line, char, end_line, end_char = rng
    else:
        return None
    first = _line_bounds(utf8, line_starts, line)
    last = first if end_line == line else _line_bounds(utf8, line_starts, end_line)
    if first is None or last is None:
        return None
    s, e = _char_to_byte(utf8, first, char, encoding), _char_to_byte(utf8, last, end_char, encoding)
    if s is None or e is None or e < s:
        return None
    return s, e


# ---- ingestion -----------------------------------------------------------------------------------------

def symbol_id(symbol: str, relative_path: str) -> str:
    return f"{relative_path} {symbol}" if symbol.startswith("local ") else symbol


def index_location(root: str, configured: str = "") -> Path:
    """The index file: the configured path (relative to the repository root), else ``index.scip``."""
    p = Path(configured or DEFAULT_INDEX)
    return p if p.is_absolute() else Path(root) / p


def _signature(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _document_status(doc: Document, root: str, files: dict, index_mtime: int, encoding: str):
    """(file row, utf8, line_starts, error_type, error_msg) for one document."""
    from codeintel_assets.extract.spans import LineIndex
    from codeintel_assets.extract.syntax import read_source
    row = files.get(doc.relative_path)
    if row is None:
        return None, None, None, "NotIndexed", "no indexed file has this path (excluded, not *.py, or outside the repository)"
    if not row["ok"]:
        return row, None, None, "FileFailed", "the file failed to index (its py_files row says why)"
    src = read_source(root, doc.relative_path)
    if src.error is not None or src.sha256 != row["sha256"]:
        return row, None, None, "FileChanged", "the file changed since it was indexed; the next `codeintel index` ingests it"
    if doc.text is not None:
        if doc.text != src.text:
            return row, None, None, "StaleDocument", "the document's text is not the file's: re-run the SCIP indexer"
    else:
        try:
            mtime = os.stat(Path(root) / doc.relative_path).st_mtime_ns
        except OSError as exc:
            return row, None, None, "FileChanged", str(exc)
        if mtime > index_mtime:
            return row, None, None, "StaleDocument", "the file is newer than the SCIP index: re-run the SCIP indexer"
    if encoding not in ("utf-8", "utf-16", "utf-32"):
        return row, None, None, "UnknownEncoding", f"position encoding {encoding} is not UTF-8/16/32"
    return row, src.utf8, LineIndex(src.utf8).line_starts, None, None


def _rows(index: Index, root: str, files: dict, index_path: Path, index_mtime: int):
    docs, occs, symbols = [], [], {}

    def add_symbol(info: SymbolInfo, rel: str | None, is_external: bool):
        sid = symbol_id(info.symbol, rel or "")
        symbols[sid] = {
            "symbol_id": sid, "symbol": info.symbol, "path": rel if rel in files else None,
            "is_local": info.symbol.startswith("local "), "is_external": is_external, "has_info": True,
            "kind": info.kind, "kind_name": KIND_NAMES.get(info.kind), "display_name": info.display_name or None,
            "documentation": info.documentation[0][:MAX_DOC_CHARS] if info.documentation else None,
            "enclosing_symbol": info.enclosing_symbol or None, "relationships": info.relationships}

    for info in index.external_symbols:
        if info.symbol:
            add_symbol(info, None, True)
    seen_paths = set()
    for doc in index.documents:
        rel = doc.relative_path
        encoding = ENCODINGS.get(doc.position_encoding, UNSPECIFIED_ENCODING if doc.position_encoding == 0
                                 else f"unknown ({doc.position_encoding})")
        if rel in seen_paths:
            docs.append({"relative_path": rel + f" (duplicate {len(docs)})", "path": None, "ok": False,
                         "error_type": "DuplicateDocument", "error_msg": "the index has two documents for this path",
                         "position_encoding": encoding})
            continue
        seen_paths.add(rel)
        row, utf8, starts, etype, emsg = _document_status(doc, root, files, index_mtime, encoding)
        ok = etype is None
        docs.append({"relative_path": rel, "path": rel if row is not None else None, "language": doc.language or None,
                     "position_encoding": encoding + (" (unspecified)" if doc.position_encoding == 0 else ""),
                     "file_id": row["file_id"] if row else None, "ok": ok, "error_type": etype, "error_msg": emsg,
                     "occurrences": len(doc.occurrences), "symbols": len(doc.symbols),
                     "digest": hashlib.sha256(f"{doc.digest}|{row['file_id'] if row else ''}|{etype}".encode()).hexdigest()})
        for info in doc.symbols:
            if info.symbol:
                add_symbol(info, rel, False)
        if not ok:
            continue
        for k, occ in enumerate(doc.occurrences):
            span = byte_span(utf8, starts, occ.range, encoding)
            r = occ.range
            rng = r if len(r) == 4 else [r[0], r[1], r[0], r[2]] if len(r) == 3 else [None] * 4
            occs.append((rel, k, occ.symbol or None, symbol_id(occ.symbol, rel) if occ.symbol else None, occ.roles,
                         occ.syntax_kind, *rng, *(span or (None, None))))
            if occ.symbol and symbol_id(occ.symbol, rel) not in symbols:
                symbols[symbol_id(occ.symbol, rel)] = {
                    "symbol_id": symbol_id(occ.symbol, rel), "symbol": occ.symbol,
                    "path": None, "is_local": occ.symbol.startswith("local "), "is_external": False,
                    "has_info": False, "kind": 0, "kind_name": None, "display_name": None, "documentation": None,
                    "enclosing_symbol": None, "relationships": []}
    for d in docs:
        d.update({"index_path": str(index_path), "tool": index.tool or None})
    return docs, occs, symbols


def _table(tc, rows: list[dict]) -> pa.Table:
    """An unpartitioned contract table from dict rows (rows.to_table takes tuples in column order)."""
    from codeintel_assets.extract.rows import to_table
    return to_table(tc, [tuple(r.get(n) for n in tc.schema.names[1:]) for r in rows])


OCC_COLUMNS = ("path", "occurrence_index", "symbol", "symbol_id", "symbol_roles", "syntax_kind", "start_line",
               "start_char", "end_line", "end_char", "span_start_byte", "span_end_byte")

# The anchors of the raw occurrences (``__scip_occ``): name site, smallest AST node ending where the
# occurrence ends (deepest first on equal spans), token; the definition a definition occurrence names;
# the call whose callee the node is.
ANCHOR_SQL = f"""
INSERT INTO {SCIP_OCCURRENCES.name}
WITH o AS (SELECT * FROM __scip_occ),
site AS (
  SELECT o.path, o.occurrence_index, s.ast_node_id, s.binding_id FROM o
  JOIN py_sym_name_sites s ON s.path = o.path AND s.span_start_byte = o.span_start_byte
   AND s.span_end_byte = o.span_end_byte AND s.span_is_name
  QUALIFY row_number() OVER (PARTITION BY o.path, o.occurrence_index
                             ORDER BY ((s.role = 'def') = ((o.symbol_roles & {DEFINITION}) <> 0)) DESC, s.site_id) = 1),
node AS (
  SELECT o.path, o.occurrence_index, a.ast_node_id, a.parent_ast_node_id, a.parent_field FROM o
  JOIN py_ast_nodes a ON a.path = o.path AND a.span_end_byte = o.span_end_byte
   AND a.span_start_byte <= o.span_start_byte
  QUALIFY row_number() OVER (PARTITION BY o.path, o.occurrence_index
                             ORDER BY a.span_start_byte DESC, a.depth DESC) = 1),
tok AS (
  SELECT o.path, o.occurrence_index, t.token_id FROM o
  JOIN py_tokens t ON t.path = o.path AND t.span_start_byte = o.span_start_byte AND t.span_end_byte = o.span_end_byte
  QUALIFY row_number() OVER (PARTITION BY o.path, o.occurrence_index ORDER BY t.token_index) = 1)
SELECT {SCHEMA_VERSION}::SMALLINT, o.path, o.path || ':SCIP:' || o.occurrence_index, o.occurrence_index, o.symbol,
       o.symbol_id, o.symbol_roles, (o.symbol_roles & {DEFINITION}) <> 0, (o.symbol_roles & {IMPORT}) <> 0,
       (o.symbol_roles & {WRITE}) <> 0, (o.symbol_roles & {READ}) <> 0, o.syntax_kind,
       o.start_line, o.start_char, o.end_line, o.end_char, o.span_start_byte, o.span_end_byte,
       CASE WHEN o.span_start_byte IS NULL THEN 'out_of_range' WHEN site.ast_node_id IS NOT NULL THEN 'name_site'
            WHEN node.ast_node_id IS NOT NULL THEN 'ast_node' WHEN tok.token_id IS NOT NULL THEN 'token'
            ELSE 'none' END,
       coalesce(site.ast_node_id, node.ast_node_id), site.binding_id, tok.token_id,
       CASE WHEN (o.symbol_roles & {DEFINITION}) <> 0 THEN d.def_id END,
       CASE WHEN node.parent_field = 'func' THEN node.parent_ast_node_id END
FROM o
LEFT JOIN site USING (path, occurrence_index)
LEFT JOIN node USING (path, occurrence_index)
LEFT JOIN tok USING (path, occurrence_index)
LEFT JOIN cpg_definitions d ON d.path = o.path AND d.def_id = site.ast_node_id AND d.kind <> 'module'
"""


def _outdated_documents(conn, root: str, location: Path, old_docs: dict[str, str]):
    """The index file is the one ingested, and files changed since: when every changed file that had a
    usable document is now newer than the index, those documents are stale, and nothing needs the index
    read again: [(path, file_id)]. None when a document must be read again (a file the index describes
    appeared, or changed without becoming newer than the index)."""
    index_mtime = location.stat().st_mtime_ns
    current = dict(conn.execute("SELECT path, file_id FROM py_files").fetchall())
    status = dict(conn.execute(f"SELECT relative_path, error_type FROM {SCIP_DOCUMENTS.name}").fetchall())
    outdated = []
    for rel, old_fid in old_docs.items():
        new_fid = current.get(rel, "")
        if new_fid == old_fid:
            continue
        if not old_fid or status.get(rel) not in (None, "StaleDocument", "FileChanged"):
            return None  # not usable before (not indexed, failed): it may be now
        try:
            newer = os.stat(Path(root) / rel).st_mtime_ns > index_mtime
        except OSError:
            newer = True  # removed: its document describes nothing
        if not newer:
            return None
        outdated.append((rel, new_fid))
    return outdated


def _mark_documents_stale(conn, outdated: list[tuple[str, str]]) -> None:
    from resources.duck import run
    for rel, fid in outdated:
        exists = bool(fid)
        run(conn, f"UPDATE {SCIP_DOCUMENTS.name} SET ok = false, file_id = ?, anchored = 0, error_type = ?, "
                  "error_msg = ?, digest = ? WHERE relative_path = ?",
            [fid or None, "StaleDocument" if exists else "NotIndexed",
             "the file is newer than the SCIP index: re-run the SCIP indexer" if exists else
             "the file is no longer indexed", hashlib.sha256(f"outdated|{fid}".encode()).hexdigest(), rel])
        run(conn, f"DELETE FROM {SCIP_OCCURRENCES.name} WHERE path = ?", [rel])


def stored_signature(conn) -> tuple[str | None, dict[str, str]]:
    """What the last ingest saw: the index file's signature and each document's (path -> file_id)."""
    from resources.duck import table_exists
    if not table_exists(conn, SCIP_DOCUMENTS.name) or not table_exists(conn, "scip_ingest"):
        return None, {}
    sig = conn.execute("SELECT signature FROM scip_ingest").fetchall()
    docs = dict(conn.execute(f"SELECT relative_path, coalesce(file_id, '') FROM {SCIP_DOCUMENTS.name}").fetchall())
    return (sig[0][0] if sig else None), docs


def ingest_needed(conn, root: str, configured: str = "") -> bool:
    """Is the stored ingest not the index's and the files' as they are now (cheap: one stat, one query)?"""
    from resources.duck import table_exists
    location = index_location(root, configured)
    sig, docs = stored_signature(conn)
    now = _signature(location)
    if now is None:
        return sig is not None  # the index went away: its rows must go
    if now != sig:
        return True
    if not table_exists(conn, "py_files"):
        return False
    current = dict(conn.execute("SELECT path, file_id FROM py_files").fetchall())
    return any(current.get(p, "") != f for p, f in docs.items())


def ingest_scip(conn, root: str, configured: str = "") -> dict:
    """Bring the scip tables up to date with the index file (whole: one index, read in one pass); the
    documents whose rows changed are made stale for the link step. Figures for the metadata."""
    from codeintel_assets.link import mark_stale
    from resources.duck import ensure_table, run, table_exists, transaction
    location = index_location(root, configured)
    sig, old_docs = stored_signature(conn)
    now = _signature(location)
    if now is None:
        if sig is None and not old_docs:
            return {"index": "absent", "path": str(location)}
        with transaction(conn):
            before = {r[0] for r in conn.execute(f"SELECT path FROM {SCIP_DOCUMENTS.name} WHERE path IS NOT NULL").fetchall()}
            for tc in SCIP_TABLES:
                run(conn, f'DROP TABLE IF EXISTS "{tc.name}"')
            run(conn, "DROP TABLE IF EXISTS scip_ingest")
            mark_stale(conn, before)
        return {"index": "removed", "path": str(location), "documents_unlinked": len(before)}
    needed = ("py_files", "py_sym_name_sites", "py_ast_nodes", "py_tokens", "cpg_definitions")
    if not all(table_exists(conn, t) for t in needed):
        return {"index": "waiting", "path": str(location)}
    if now == sig:
        outdated = _outdated_documents(conn, root, location, old_docs)
        if outdated is not None:
            with transaction(conn):
                _mark_documents_stale(conn, outdated)
                mark_stale(conn, {p for p, _ in outdated})
            return {"index": "documents outdated", "path": str(location), **stored_figures(conn),
                    "documents_relinked": len(outdated)}
    index = read_index(location)
    files = {p: {"file_id": f, "sha256": h, "ok": ok} for p, f, h, ok in
             conn.execute("SELECT path, file_id, sha256, ok FROM py_files").fetchall()}
    index_mtime = location.stat().st_mtime_ns
    docs, occs, symbols = _rows(index, root, files, location, index_mtime)
    occ_table = pa.table({n: pa.array(list(col), t) for n, col, t in zip(
        OCC_COLUMNS, zip(*occs) if occs else [[]] * len(OCC_COLUMNS),
        (pa.string(), pa.int32(), pa.string(), pa.string(), pa.int32(), pa.int32(), pa.int32(), pa.int32(),
         pa.int32(), pa.int32(), pa.int64(), pa.int64()))})
    old_digests = {}
    if table_exists(conn, SCIP_DOCUMENTS.name):
        old_digests = dict(conn.execute(f"SELECT relative_path, digest FROM {SCIP_DOCUMENTS.name}").fetchall())
    conn.register("__scip_occ", occ_table)
    try:
        with transaction(conn):
            for tc in SCIP_TABLES:
                run(conn, f'DROP TABLE IF EXISTS "{tc.name}"')
                ensure_table(conn, tc.name, tc.schema)
            run(conn, ANCHOR_SQL)
            anchored = dict(conn.execute(f"SELECT path, count(*) FILTER (WHERE anchor NOT IN ('none', 'out_of_range')) "
                                         f"FROM {SCIP_OCCURRENCES.name} GROUP BY path").fetchall())
            for d in docs:
                d["anchored"] = anchored.get(d["path"], 0) if d["ok"] else 0
            conn.register("__scip_docs", _table(SCIP_DOCUMENTS, docs))
            conn.register("__scip_syms", _table(SCIP_SYMBOLS, list(symbols.values())))
            run(conn, f"INSERT INTO {SCIP_DOCUMENTS.name} SELECT * FROM __scip_docs")
            run(conn, f"INSERT INTO {SCIP_SYMBOLS.name} SELECT * FROM __scip_syms")
            run(conn, "CREATE OR REPLACE TABLE scip_ingest (signature VARCHAR, tool VARCHAR, project_root VARCHAR)")
            run(conn, "INSERT INTO scip_ingest VALUES (?, ?, ?)", [now, index.tool, index.project_root])
            new_digests = {d["relative_path"]: d["digest"] for d in docs}
            changed = {p for p in set(old_digests) | set(new_digests) if old_digests.get(p) != new_digests.get(p)}
            mark_stale(conn, {p for p in changed if p in files})
    finally:
        for name in ("__scip_occ", "__scip_docs", "__scip_syms"):
            try:
                conn.unregister(name)
            except Exception:  # noqa: BLE001 - not registered (an earlier statement failed)
                pass
    return {"index": "ingested", "path": str(location), **stored_figures(conn), "documents_relinked": len(changed)}


def stored_figures(conn) -> dict:
    """What the scip tables hold: documents (ok, stale), occurrences per anchor, symbols."""
    from resources.duck import table_exists
    if not table_exists(conn, SCIP_DOCUMENTS.name):
        return {}
    docs, ok, stale = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE ok), count(*) FILTER (WHERE error_type = 'StaleDocument') "
        f"FROM {SCIP_DOCUMENTS.name}").fetchall()[0]
    anchors = dict(conn.execute(f"SELECT anchor, count(*) FROM {SCIP_OCCURRENCES.name} GROUP BY ALL").fetchall())
    total = sum(anchors.values())
    tool = conn.execute("SELECT tool FROM scip_ingest").fetchall() if table_exists(conn, "scip_ingest") else []
    return {"tool": (tool[0][0] if tool else None) or "", "documents": int(docs), "documents_ok": int(ok),
            "documents_stale": int(stale), "occurrences": total,
            "symbols": conn.execute(f"SELECT count(*) FROM {SCIP_SYMBOLS.name}").fetchall()[0][0],
            "share_anchored": round(1 - (anchors.get("none", 0) + anchors.get("out_of_range", 0)) / total, 4)
            if total else 0.0,
            **{f"anchor_{k}": int(v) for k, v in sorted(anchors.items())}}
