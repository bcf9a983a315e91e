"""Bytes are the coordinate system: line/column -> UTF-8 byte offsets, and derived identifiers.

Spans are offsets into the UTF-8 encoding of the decoded source text (BOM removed). For the usual
UTF-8 file without a BOM that is exactly the file's bytes; for a file with an encoding cookie it is
the UTF-8 re-encoding, which is what CPython's ``col_offset`` values count in (seed 000 §4.5).
"""

import hashlib
from bisect import bisect_right

from codeintel_assets.extract.modules import quote_part


class LineIndex:
    """Per-file table of line start offsets (1-based lines) over the UTF-8 text bytes."""

    __slots__ = ("line_starts", "n_bytes", "_text_lines")

    def __init__(self, data: bytes, text: str | None = None):
        starts = [0, 0]  # index 0 unused; line 1 starts at 0
        n = len(data)
        i = 0
        # CPython treats \n, \r\n and a lone \r as line ends.
        find = data.find
        while True:
            j_n = find(b"\n", i)
            j_r = find(b"\r", i)
            if j_n < 0 and j_r < 0:
                break
            if j_r >= 0 and (j_n < 0 or j_r < j_n):
                i = j_r + 2 if data[j_r + 1:j_r + 2] == b"\n" else j_r + 1
            else:
                i = j_n + 1
            starts.append(i)
        self.line_starts = starts
        self.n_bytes = n
        self._text_lines = None

    @property
    def line_count(self) -> int:
        # A trailing newline does not open a new line.
        last = len(self.line_starts) - 1
        return last - 1 if self.line_starts[last] == self.n_bytes and last > 1 else last

    def offset(self, lineno: int | None, col_byte: int | None) -> int | None:
        """Byte offset of (1-based line, byte column); None when the position is synthetic."""
        if lineno is None or col_byte is None or lineno < 1 or col_byte < 0:
            return None
        if lineno >= len(self.line_starts):
            return None
        return min(self.line_starts[lineno] + col_byte, self.n_bytes)

    def span(self, lineno, col, end_lineno, end_col) -> tuple[int | None, int | None]:
        """(offset(lineno, col), offset(end_lineno, end_col)), or (None, None) when either is None or
        the end precedes the start (``offset`` inlined: called once per AST node / instruction span)."""
        starts = self.line_starts
        n = len(starts)
        if lineno is None or col is None or lineno < 1 or col < 0 or lineno >= n \
                or end_lineno is None or end_col is None or end_lineno < 1 or end_col < 0 or end_lineno >= n:
            return None, None
        nb = self.n_bytes
        start = starts[lineno] + col
        if start > nb:
            start = nb
        end = starts[end_lineno] + end_col
        if end > nb:
            end = nb
        if end < start:
            return None, None
        return start, end

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset, 1) - 1


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_id_for(path: str, content_sha256: str | None) -> str:
    """file_id = hash(path, content hash): changes with the content; ``path`` is the stable key."""
    return hashlib.sha256(f"{path}\0{content_sha256 or ''}".encode()).hexdigest()[:16]


MODULE_QUALPATH = "<module>"  # qualpath of a module's own code unit / scope: ids never carry the module name


def child_qualpath(parent: str, segment: str) -> str:
    """``<module>`` + ``f`` -> ``f``; ``C`` + ``m`` -> ``C::m`` (qualpaths are relative to the module)."""
    return segment if parent == MODULE_QUALPATH else f"{parent}::{segment}"


def module_name_for(path: str) -> str:
    """Dotted module name for a repository-relative path (``pkg/__init__.py`` -> ``pkg``)."""
    p = path[:-3] if path.endswith(".py") else path
    parts = [quote_part(x) for x in p.split("/") if x]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "<module>"


def code_unit_id_for(path: str, start: int | None, end: int | None, qualpath: str) -> str:
    return f"{path}:CU:{'' if start is None else start}:{'' if end is None else end}:{qualpath}"
