"""The source plane: read, decode, parse and tokenize each file (py_files is its status table)."""

from codeintel_assets.contracts import source as C
from codeintel_assets.planes import Plane


def extract(ctx, upstream):
    from codeintel_assets.extract.syntax import extract_source
    f = extract_source(ctx)
    return {"py_files": f.files, "py_ast_nodes": f.ast_nodes, "py_tokens": f.tokens}


PLANE = Plane(
    name="source",
    description="Read, decode, parse and tokenize each file: py_files, py_ast_nodes, py_tokens.",
    tables=(C.PY_FILES, C.PY_AST_NODES, C.PY_TOKENS),
    status="py_files",
    extract=extract,  # files_ok, over every plane's status table, is added by the registry
)
