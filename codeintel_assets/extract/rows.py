"""Row tuples -> Arrow tables, in contract column order (one mechanism for every plane)."""

import pyarrow as pa

from codeintel_assets.contracts.common import SCHEMA_VERSION, TableContract


def to_table(tc: TableContract, rows: list[tuple], path: str | None = None) -> pa.Table:
    """Build a contract table from tuples holding every column after ``schema_version``/``path``.

    ``path`` given: rows omit the two lead columns and they are filled in here (the common case).
    """
    schema = tc.schema
    lead = 2 if tc.partitioned else 1
    ncols = len(schema) - lead
    if rows and len(rows[0]) != ncols:
        raise ValueError(f"{tc.name}: row has {len(rows[0])} values, contract has {ncols} columns after the lead")
    n = len(rows)
    columns = list(zip(*rows)) if rows else [()] * ncols
    arrays = [pa.array([SCHEMA_VERSION] * n, type=schema.field(0).type)]
    if tc.partitioned:
        arrays.append(pa.array([path] * n, type=pa.string()))
    for field, col in zip(list(schema)[lead:], columns):
        arrays.append(_array(col, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(col, typ: pa.DataType) -> pa.Array:
    if pa.types.is_struct(typ):
        # Struct columns arrive as tuples (or None): transpose into child arrays.
        mask = [v is None for v in col]
        if not any(mask):
            children = list(zip(*col)) if col else [()] * typ.num_fields
            return pa.StructArray.from_arrays(
                [pa.array(c, type=typ.field(k).type) for k, c in enumerate(children)], fields=list(typ))
        filled = [v if v is not None else (None,) * typ.num_fields for v in col]
        children = list(zip(*filled))
        return pa.StructArray.from_arrays(
            [pa.array(c, type=typ.field(k).type) for k, c in enumerate(children)], fields=list(typ),
            mask=pa.array(mask, type=pa.bool_()))
    return pa.array(col, type=typ)


def empty_table(tc: TableContract) -> pa.Table:
    return tc.schema.empty_table()
