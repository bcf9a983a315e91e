"""Shared contract mechanics: the schema version, the registry of tables, column helpers."""

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 2  # 2: per-plane status tables, module_name, gate results

# Column shorthands used by every plane's contract.
i16, i32, i64 = pa.int16(), pa.int32(), pa.int64()
f32 = pa.float32()
s = pa.string()
b = pa.bool_()
binary = pa.binary()
str_list = pa.list_(pa.string())

PARTITION_COLUMN = "path"


@dataclass(frozen=True)
class TableContract:
    """One contract table: its name, plane (Dagster group), Arrow schema and sort key."""

    name: str
    plane: str
    schema: pa.Schema
    key: tuple[str, ...]
    description: str
    partitioned: bool = True
    # Columns that are pure concatenations of stored columns (ids): the extractors produce them in
    # Arrow, DuckDB stores them as VIRTUAL generated columns with this SQL expression (not stored twice).
    derived: tuple[tuple[str, str], ...] = ()

    @property
    def stored_names(self) -> list[str]:
        skip = {n for n, _ in self.derived}
        return [n for n in self.schema.names if n not in skip]


_REGISTRY: dict[str, TableContract] = {}


def define(name: str, plane: str, fields: list[tuple[str, pa.DataType]], key: tuple[str, ...], description: str,
           partitioned: bool = True, derived: dict[str, str] | None = None) -> TableContract:
    """Register a contract; per-file tables get ``schema_version`` and ``path`` prepended."""
    head = [("schema_version", i16), (PARTITION_COLUMN, s)] if partitioned else [("schema_version", i16)]
    schema = pa.schema([pa.field(n, t) for n, t in head + fields])
    if name in _REGISTRY:
        raise ValueError(f"contract {name} defined twice")
    tc = TableContract(name, plane, schema, key, description, partitioned, tuple((derived or {}).items()))
    _REGISTRY[name] = tc
    return tc


def contract(name: str) -> TableContract:
    _load_all()
    return _REGISTRY[name]


def all_contracts() -> list[TableContract]:
    _load_all()
    return list(_REGISTRY.values())


def _load_all() -> None:
    """Import every contract module of this package (importing one registers its tables)."""
    import importlib
    import pkgutil

    import codeintel_assets.contracts as pkg
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name not in ("common", "docs"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
