"""Row tuples -> Arrow tables, in contract column order (one mechanism for every plane)."""

import pyarrow as pa
import pyarrow.compute as pc

from codeintel_assets.contracts.common import SCHEMA_VERSION, TableContract

_VERSION_SCALARS: dict[pa.DataType, pa.Scalar] = {}


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
    vtype = schema.field(0).type
    version = _VERSION_SCALARS.get(vtype)
    if version is None:
        version = _VERSION_SCALARS[vtype] = pa.scalar(SCHEMA_VERSION, type=vtype)
    arrays = [pa.repeat(version, n)]
    if tc.partitioned:
        arrays.append(pa.array([path] * n, type=pa.string()) if path is None else
                      pa.repeat(pa.scalar(path, type=pa.string()), n))
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
    n = len(col)
    if n > 1:
        # One value repeated (a file id, a module name) or no value at all: the same array, built in C.
        v = col[0]
        if v is None:
            if col[-1] is None and not pa.types.is_nested(typ) and col.count(None) == n:
                return pa.nulls(n, typ)
        elif type(v) is str and col[-1] == v and typ == pa.string() and col.count(v) == n:
            return pa.repeat(pa.scalar(v, type=typ), n)
    return pa.array(col, type=typ)


def fill_derived(tc: TableContract, table: pa.Table) -> pa.Table:
    """Compute the contract's derived columns (``tc.derived``: ``a || 'lit' || b`` SQL, the expression
    DuckDB stores them with) in Arrow, from the table's other columns.

    For an extractor that puts ``None`` in a derived column's place in its rows (cheap: ``to_table``
    builds an all-null column in C) instead of formatting one string per row in Python. The values are
    the SQL expression's: an integer is its decimal digits, a null part makes the value null.
    """
    for name, expr in tc.derived:
        table = set_column(table, name, concat(table, expr))
    return table


def concat(table: pa.Table, expr: str) -> pa.ChunkedArray:
    """``a || 'lit' || b`` over the columns of ``table`` (strings as they are, integers as decimal text)."""
    parts = []
    for part in expr.split("||"):
        part = part.strip()
        if part.startswith("'") and part.endswith("'"):
            parts.append(part[1:-1])
        else:
            col = table.column(part)
            parts.append(col if pa.types.is_string(col.type) else pc.cast(col, pa.string()))
    return pc.binary_join_element_wise(*parts, "")


def set_column(table: pa.Table, name: str, values) -> pa.Table:
    """``table`` with column ``name`` replaced by ``values`` (same field: name, type and position)."""
    i = table.schema.get_field_index(name)
    field = table.schema.field(i)
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=field.type)
    elif values.type != field.type:
        values = values.cast(field.type)
    return table.set_column(i, field, values)


def empty_table(tc: TableContract) -> pa.Table:
    return tc.schema.empty_table()
