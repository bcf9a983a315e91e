"""Source plane contracts: files, AST nodes, tokens (UTF-8 byte spans)."""

from codeintel_assets.contracts.common import b, define, i32, i64, s

PY_FILES = define("py_files", "source", [
    ("file_id", s), ("sha256", s), ("size_bytes", i64), ("encoding", s), ("has_bom", b),
    ("line_count", i32), ("ok", b), ("error_stage", s), ("error_type", s), ("error_msg", s),
    ("error_lineno", i32), ("error_col", i32), ("ast_node_count", i32), ("token_count", i32), ("module_name", s),
], key=("path",), description="One row per source file: identity, content hash, encoding, module name (from the import roots), and ok/error. The source plane's status table.")

PY_AST_NODES = define("py_ast_nodes", "source", [
    ("file_id", s), ("ast_node_id", s), ("parent_ast_node_id", s), ("ordinal", i32), ("depth", i32),
    ("parent_field", s), ("kind", s), ("name", s), ("ctx", s),
    ("lineno", i32), ("col_offset", i32), ("end_lineno", i32), ("end_col_offset", i32),
    ("span_start_byte", i64), ("span_end_byte", i64), ("span_synthesized", b),
], key=("path", "ordinal"), description="Every AST node in preorder with kind, parent, name, ctx and UTF-8 byte span.",
   derived={"ast_node_id": "path || ':AST:' || ordinal"})

PY_TOKENS = define("py_tokens", "source", [
    ("file_id", s), ("token_id", s), ("token_index", i32), ("type", s), ("exact_type", s), ("string", s),
    ("start_line", i32), ("start_col", i32), ("end_line", i32), ("end_col", i32),
    ("span_start_byte", i64), ("span_end_byte", i64),
], key=("path", "token_index"), description="Every token from the tokenize module with its UTF-8 byte span.",
   derived={"token_id": "path || ':TOK:' || token_index"})
