"""The symtable plane: one symtable pass per file, anchored to the AST, paired with the code units."""

from codeintel_assets.contracts import symtable as C
from codeintel_assets.planes import Gate, Plane
from codeintel_assets.validate import binder_completeness, binding_resolution, symtable_vs_code

_SCOPES = ("py_sym_scopes", tuple(sorted(set(symtable_vs_code.SCOPE_COLUMNS) | set(binding_resolution.SCOPE_COLUMNS))))
_BINDINGS = ("py_sym_bindings", tuple(sorted(set(symtable_vs_code.BINDING_COLUMNS) | set(binding_resolution.BINDING_COLUMNS)
                                             | set(binder_completeness.BINDING_COLUMNS))))


def extract(ctx, upstream):
    from codeintel_assets.extract.symtable_plane import extract_symtable
    # The code units are the bytecode plane's of the same context (its crosswalk is shared, not recomputed).
    facts = extract_symtable(ctx)
    ctx.put("symtable_facts", facts)  # resolver and crosswalk: the dataflow plane's bindings, same pass
    return dict(facts.tables)


PLANE = Plane(
    name="symtable",
    description="symtable.symtable(source, path, 'exec') once per file, anchored to the AST: scopes, symbols, "
                "binding slots, lexical resolution, name sites, and the code-unit crosswalk (py_sym_files is the "
                "status table).",
    tables=(C.PY_SYM_FILES, C.PY_SYM_SCOPES, C.PY_SYM_SYMBOLS, C.PY_SYM_SCOPE_EDGES, C.PY_SYM_NAMESPACE_EDGES,
            C.PY_SYM_FUNCTION_PARTITIONS, C.PY_SYM_BINDINGS, C.PY_SYM_RESOLUTION_EDGES, C.PY_SYM_NAME_SITES,
            C.PY_SYM_CODE_CROSSWALK),
    status="py_sym_files",
    extract=extract,
    reads=("py_bc_code_units",),
    gates=(
        Gate("symtable_vs_code", "py_sym_scopes", "frees == co_freevars, cells == co_cellvars, parameters == argument "
             "slots, locals within the code's slots", symtable_vs_code.symtable_vs_code,
             (_SCOPES, ("py_sym_symbols", tuple(symtable_vs_code.SYMBOL_COLUMNS)), _BINDINGS,
              ("py_sym_function_partitions", tuple(symtable_vs_code.PARTITION_COLUMNS)),
              ("py_bc_code_units", tuple(symtable_vs_code.CODE_UNIT_COLUMNS)))),
        Gate("binding_resolution", "py_sym_resolution_edges", "nonlocal_ref -> one enclosing function binding, "
             "global_ref -> module, free_ref -> ancestor", binding_resolution.binding_resolution,
             (_SCOPES, _BINDINGS, ("py_sym_resolution_edges", tuple(binding_resolution.EDGE_COLUMNS)))),
        Gate("binder_completeness", "py_sym_name_sites", "declared bindings have a def site; every use site resolves",
             binder_completeness.binder_completeness,
             (_BINDINGS, ("py_sym_name_sites", tuple(binder_completeness.SITE_COLUMNS)))),
    ),
)
