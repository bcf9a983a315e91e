"""Spooled outputs: tables too large for memory, written as Parquet parts and inserted by DuckDB."""

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from codeintel_assets.faults import maybe_full

SPOOL_ROWS = 250_000


@dataclass
class SpooledTable:
    """A table too large to hold in memory, written as Parquet parts; the IO manager inserts them."""

    schema: pa.Schema
    files: list[str] = field(default_factory=list)
    num_rows: int = 0
    spool_dir: str | None = None


class TableSpool:
    """Accumulates Arrow tables for one output and spills them to Parquet every ``SPOOL_ROWS`` rows."""

    def __init__(self, schema: pa.Schema, spool_dir: str | os.PathLike, name: str, limit: int = SPOOL_ROWS,
                 drop: Sequence[str] = ()):
        self.schema = schema
        self.drop = list(drop)  # derived columns: DuckDB computes them, they are not spooled
        self.dir = Path(spool_dir) / name
        self.name = name
        self.limit = limit
        self._buf: list[pa.Table] = []
        self._buf_rows = 0
        self.out = SpooledTable(schema, spool_dir=str(spool_dir))

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self.drop:
            table = table.drop_columns([c for c in self.drop if c in table.schema.names])
        self._buf.append(table)
        self._buf_rows += table.num_rows
        if self._buf_rows >= self.limit:
            self._flush()

    def add_files(self, files: Sequence[str], rows: int) -> None:
        """Adopt Parquet parts written elsewhere (by an extraction worker)."""
        self.out.files.extend(files)
        self.out.num_rows += rows

    def _flush(self) -> None:
        if not self._buf:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        f = self.dir / f"part-{len(self.out.files):05d}-{uuid.uuid4().hex[:8]}.parquet"
        maybe_full("spool", f)
        pq.write_table(pa.concat_tables(self._buf), f, compression="none")
        self.out.files.append(str(f))
        self.out.num_rows += self._buf_rows
        self._buf, self._buf_rows = [], 0

    def finish(self) -> SpooledTable:
        self._flush()
        return self.out


