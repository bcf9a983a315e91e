"""SCIP indexes for the tests, encoded by Google's protobuf runtime (an encoder independent of the reader in
codeintel_assets/scip.py). The message classes come from a descriptor built here by hand with the
field numbers and types of scip.proto (github.com/sourcegraph/scip), the subset the reader uses plus
fields it must skip (enclosing_range)."""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

def classes():
    f = descriptor_pb2.FileDescriptorProto(name="scip_test.proto", package="scip", syntax="proto3")
    T = descriptor_pb2.FieldDescriptorProto
    def msg(name, *fields):
        m = f.message_type.add(name=name)
        for fname, num, typ, label, tname in fields:
            fd = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                fd.type_name = ".scip." + tname
    OPT, REP = T.LABEL_OPTIONAL, T.LABEL_REPEATED
    msg("ToolInfo", ("name", 1, T.TYPE_STRING, OPT, None), ("version", 2, T.TYPE_STRING, OPT, None))
    msg("Metadata", ("version", 1, T.TYPE_INT32, OPT, None), ("tool_info", 2, T.TYPE_MESSAGE, OPT, "ToolInfo"),
        ("project_root", 3, T.TYPE_STRING, OPT, None), ("text_document_encoding", 4, T.TYPE_INT32, OPT, None))
    msg("Relationship", ("symbol", 1, T.TYPE_STRING, OPT, None), ("is_reference", 2, T.TYPE_BOOL, OPT, None),
        ("is_implementation", 3, T.TYPE_BOOL, OPT, None))
    msg("SymbolInformation", ("symbol", 1, T.TYPE_STRING, OPT, None), ("documentation", 3, T.TYPE_STRING, REP, None),
        ("relationships", 4, T.TYPE_MESSAGE, REP, "Relationship"), ("kind", 5, T.TYPE_INT32, OPT, None),
        ("display_name", 6, T.TYPE_STRING, OPT, None), ("enclosing_symbol", 8, T.TYPE_STRING, OPT, None))
    msg("Occurrence", ("range", 1, T.TYPE_INT32, REP, None), ("symbol", 2, T.TYPE_STRING, OPT, None),
        ("symbol_roles", 3, T.TYPE_INT32, OPT, None), ("syntax_kind", 5, T.TYPE_INT32, OPT, None),
        ("enclosing_range", 7, T.TYPE_INT32, REP, None))
    msg("Document", ("relative_path", 1, T.TYPE_STRING, OPT, None), ("occurrences", 2, T.TYPE_MESSAGE, REP, "Occurrence"),
        ("symbols", 3, T.TYPE_MESSAGE, REP, "SymbolInformation"), ("language", 4, T.TYPE_STRING, OPT, None),
        ("text", 5, T.TYPE_STRING, OPT, None), ("position_encoding", 6, T.TYPE_INT32, OPT, None))
    msg("Index", ("metadata", 1, T.TYPE_MESSAGE, OPT, "Metadata"), ("documents", 2, T.TYPE_MESSAGE, REP, "Document"),
        ("external_symbols", 3, T.TYPE_MESSAGE, REP, "SymbolInformation"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return {n: message_factory.GetMessageClass(pool.FindMessageTypeByName("scip." + n)) for n in
            ("Index", "Document", "Occurrence", "SymbolInformation", "Relationship")}
