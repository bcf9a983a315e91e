"""SCIP contracts: an index produced by an external indexer (``scip-python index`` writes ``index.scip``),
ingested whole and joined to the graph by byte span. Repository scope (one index for the repository), so
not partitioned; every row carries the ``path`` of the document it came from (null for symbols defined
outside the repository)."""

from codeintel_assets.contracts.common import b, define, i32, i64, s, str_list

PLANE = "scip"

SCIP_DOCUMENTS = define("scip_documents", PLANE, [
    ("path", s), ("relative_path", s), ("language", s), ("position_encoding", s), ("file_id", s), ("ok", b),
    ("error_type", s), ("error_msg", s), ("occurrences", i32), ("anchored", i32), ("symbols", i32), ("digest", s),
    ("index_path", s), ("tool", s),
], key=("relative_path",), partitioned=False,
    description="One row per document of the SCIP index: the repository file it describes (path null when the "
                "document names no indexed file), the position encoding its ranges count in, and whether its "
                "occurrences were ingested (ok false: the file is not indexed or failed, or the index is older "
                "than the file - re-run the indexer), with how many occurrences anchor to the syntax.")

SCIP_OCCURRENCES = define("scip_occurrences", PLANE, [
    ("path", s), ("occurrence_id", s), ("occurrence_index", i32), ("symbol", s), ("symbol_id", s),
    ("symbol_roles", i32), ("is_definition", b), ("is_import", b), ("is_write", b), ("is_read", b),
    ("syntax_kind", i32), ("start_line", i32), ("start_char", i32), ("end_line", i32), ("end_char", i32),
    ("span_start_byte", i64), ("span_end_byte", i64), ("anchor", s), ("ast_node_id", s), ("binding_id", s),
    ("token_id", s), ("def_id", s), ("call_ast_node_id", s),
], key=("path", "occurrence_index"), partitioned=False,
    description="Every occurrence of an ingested document: the SCIP range (0-based lines, characters in the "
                "document's position encoding) as a UTF-8 byte span of the file, the symbol and its roles, and "
                "its anchors: the name site (ast_node_id, binding_id) or else the smallest AST node ending where "
                "it ends, the token with exactly its span, the definition it defines (def_id), and the call "
                "whose callee it is (call_ast_node_id). anchor says which matched: name_site, ast_node, token, "
                "none (a valid span nothing in the syntax has) or out_of_range (the range is not in the file).")

SCIP_SYMBOLS = define("scip_symbols", PLANE, [
    ("symbol_id", s), ("symbol", s), ("path", s), ("is_local", b), ("is_external", b), ("has_info", b),
    ("kind", i32), ("kind_name", s), ("display_name", s), ("documentation", s), ("enclosing_symbol", s),
    ("relationships", str_list),
], key=("symbol_id",), partitioned=False,
    description="Every symbol the index defines or names: its SymbolInformation where the index has one "
                "(kind, display name, first documentation block, relationships as 'reference|implementation|"
                "type_definition|definition:<symbol>'). A local symbol ('local N') is only unique in its "
                "document, so its symbol_id is '<relative_path> local N'; any other symbol_id is the symbol.")

SCIP_TABLES = (SCIP_DOCUMENTS, SCIP_OCCURRENCES, SCIP_SYMBOLS)
