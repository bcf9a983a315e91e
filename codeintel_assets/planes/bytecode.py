"""The bytecode plane: one compile per file; code units, instructions, exception table, run metadata."""

from codeintel_assets.contracts import bytecode as C
from codeintel_assets.planes import Gate, Plane
from codeintel_assets.validate import bytecode_gates as G


def extract(ctx, upstream):
    from codeintel_assets.extract.bytecode import extract_bytecode
    f = extract_bytecode(ctx)
    ctx.put("code_units", f.units)  # the CodeUnit objects (dis instructions): the dataflow plane's input
    return {"py_bc_code_units": f.code_units, "py_bc_instructions": f.instructions,
            "py_bc_exception_table": f.exception_table, "codeintel_run_meta": f.run_meta}


PLANE = Plane(
    name="bytecode",
    description="compile(..., 'exec', dont_inherit=True, optimize=0) once per file: code units, instructions, "
                "exception table, compiler metadata (codeintel_run_meta is the status table).",
    tables=(C.PY_BC_CODE_UNITS, C.PY_BC_INSTRUCTIONS, C.PY_BC_EXCEPTION_TABLE, C.CODEINTEL_RUN_META),
    status="codeintel_run_meta",
    extract=extract,
    gates=(
        Gate("span_join", "py_bc_instructions",
             f"instructions with a byte span anchored to an AST node (whole-database share >= {G.SPAN_JOIN_THRESHOLD}; "
             "per-file shares are findings)", G.span_join,
             (("py_bc_instructions", ("path", "code_unit_id", "instr_index", "opname", "span_start_byte",
                                      "span_end_byte", "ast_node_id")),),
             judge=G.span_join_judge),
        Gate("instruction_conservation", "py_bc_instructions", "rows per code unit == len(dis.get_instructions(code))",
             G.instruction_conservation,
             (("py_bc_code_units", ("path", "code_unit_id", "instruction_count")), ("py_bc_instructions", ("code_unit_id",)))),
    ),
)
