"""Gate symtable_vs_code (seed 000 SYM-CPG-ALG-10 C, DESIGN §7): symbol tables agree with their code objects.

For every scope the crosswalk paired with a code unit (``py_sym_scopes.code_unit_id``):

1. **frees**: the table's FREE names == ``co_freevars``. A class table also passes through the names
   flagged DEF_FREE_CLASS: bound in the class body *and* free in one of its methods (from an
   enclosing function), they are free variables of the class body's code as well.
2. **cells**: the table's CELL names, plus names flagged DEF_COMP_CELL, == ``co_cellvars``. DEF_COMP_CELL
   marks the iteration variable of an inlined comprehension (PEP 709) captured by a closure: a cell of
   the enclosing code object although the enclosing table keeps its own classification of the name
   (LOCAL at module level, or FREE when an outer variable has the same name). A class body's code
   may also hold the implicit cells ``__class__`` (a method uses ``super()`` / ``__class__``) and
   ``__classdict__`` (an annotation scope inside the class reads the class namespace), which the class
   table never lists.
3. **parameters** (function-like tables): the DEF_PARAM names, in order, == ``co_varnames[:n]`` with
   ``n = co_argcount + co_kwonlyargcount + VARARGS + VARKEYWORDS``. Implicit-name rule: symtable declares
   ``.defaults`` (and ``.kwdefaults``) as parameters of *every* generic def's TYPE_PARAMETERS table, but
   the compiler passes them only when the def has positional (keyword) defaults; a ``.defaults`` /
   ``.kwdefaults`` parameter absent from the code's arguments is therefore not a finding.
4. **locals**: function-like tables: LOCAL/CELL names within ``co_varnames`` ∪ ``co_cellvars``; module
   and class tables: bound names within ``co_names`` ∪ ``co_varnames`` ∪ ``co_cellvars`` (inlined
   comprehension variables are fast locals even there). Rule: an ``annot_only`` binding that is never
   referenced (``x: int`` alone) has no slot - the compiler emits nothing for a bare annotation of a
   local, and a module/class one only stores into ``__annotations__``.
5. **crosswalk**: every code unit of the file has a table (``code_without_scope`` is a finding).

All other implicit names (``.0``, ``.type_params``, ``.generic_base``, ``__type_params__``, ``__class__`` /
``__classdict__`` as frees) appear on both sides and are compared like any name.
"""

from collections import defaultdict

import pyarrow as pa

from codeintel_assets.validate.base import Finding, GateResult, result

CO_VARARGS, CO_VARKEYWORDS = 0x04, 0x08
FUNCTION_LIKE = frozenset({"FUNCTION", "ANNOTATION", "TYPE_ALIAS", "TYPE_PARAMETERS", "TYPE_VARIABLE"})
IMPLICIT_CLASS_CELLS = frozenset({"__class__", "__classdict__"})
OPTIONAL_TYPE_PARAMS_ARGS = frozenset({".defaults", ".kwdefaults"})
SCOPE_OFF, SCOPE_MASK = 12, 15
LOCAL, CELL, FREE = 1, 5, 4
DEF_PARAM, DEF_BOUND = 2 << 1, 2 | (2 << 1) | (2 << 6)
DEF_FREE_CLASS, DEF_COMP_CELL = 2 << 5, 2 << 10

SCOPE_COLUMNS = ["path", "scope_id", "scope_type", "qualpath", "code_unit_id"]
SYMBOL_COLUMNS = ["scope_id", "name", "flags"]
BINDING_COLUMNS = ["scope_id", "name", "binding_kind", "referenced_here"]
PARTITION_COLUMNS = ["scope_id", "parameters"]
CODE_UNIT_COLUMNS = ["path", "code_unit_id", "qualpath", "freevars", "cellvars", "varnames", "names", "argcount",
                     "kwonlyargcount", "flags"]


def _rows(t: pa.Table, cols: list[str]):
    return zip(*(t.column(c).to_pylist() for c in cols))


def symtable_vs_code(scopes: pa.Table, symbols: pa.Table, bindings: pa.Table, partitions: pa.Table,
                     code_units: pa.Table) -> GateResult:
    """Frees == co_freevars, cells == co_cellvars, parameters == argument slots, locals within the code's slots."""
    syms: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sid, name, flags in _rows(symbols, SYMBOL_COLUMNS):
        syms[sid].append((name, flags))
    silent = {(sid, name) for sid, name, kind, ref in _rows(bindings, BINDING_COLUMNS) if kind == "annot_only" and not ref}
    ordered_params = {sid: p for sid, p in _rows(partitions, PARTITION_COLUMNS)}
    code = {r[1]: r for r in _rows(code_units, CODE_UNIT_COLUMNS)}
    findings: list[Finding] = []
    paired = exempt_silent = exempt_defaults = implicit_cells = class_passthrough = comp_cells = 0
    crosswalked: set[str] = set()
    for path, sid, stype, qualpath, cu_id in _rows(scopes, SCOPE_COLUMNS):
        if cu_id is None:
            continue
        crosswalked.add(cu_id)
        cu = code.get(cu_id)
        if cu is None:
            findings.append(Finding(path, cu_id, qualpath, f"scope {stype} paired with a code unit not in py_bc_code_units"))
            continue
        paired += 1
        _, _, _, freevars, cellvars, varnames, names, argcount, kwonly, flags = cu
        entries = syms.get(sid, [])
        scope_of = {n: (f >> SCOPE_OFF) & SCOPE_MASK for n, f in entries}
        frees = {n for n, s in scope_of.items() if s == FREE}
        if stype == "CLASS":
            through = {n for n, f in entries if f & DEF_FREE_CLASS} - frees
            class_passthrough += len(through)
            frees |= through
        if frees != set(freevars):
            findings.append(Finding(path, cu_id, qualpath, _diff("frees", frees, set(freevars), "co_freevars")))
        cells = {n for n, s in scope_of.items() if s == CELL}
        inlined_cells = {n for n, f in entries if f & DEF_COMP_CELL} - cells
        comp_cells += len(inlined_cells)
        cells |= inlined_cells
        code_cells = set(cellvars)
        implicit = (code_cells - cells) & IMPLICIT_CLASS_CELLS if stype == "CLASS" else set()
        implicit_cells += len(implicit)
        if cells != code_cells - implicit:
            findings.append(Finding(path, cu_id, qualpath, _diff("cells", cells, code_cells - implicit, "co_cellvars")))
        if stype in FUNCTION_LIKE:
            n = argcount + kwonly + bool(flags & CO_VARARGS) + bool(flags & CO_VARKEYWORDS)
            want = list(varnames[:n])
            params = ordered_params.get(sid)
            if params is None:
                params = [nm for nm, f in entries if f & DEF_PARAM]
            if stype == "TYPE_PARAMETERS":
                dropped = [p for p in params if p in OPTIONAL_TYPE_PARAMS_ARGS and p not in want]
                exempt_defaults += len(dropped)
                params = [p for p in params if p not in dropped]
            if params != want:
                findings.append(Finding(path, cu_id, qualpath,
                                        f"parameters {params} != co_varnames[:{n}] {want} "
                                        f"(argcount={argcount}, kwonlyargcount={kwonly}, flags={flags:#x})"))
            slots = set(varnames) | code_cells
            local = [nm for nm, s in scope_of.items() if s in (LOCAL, CELL)]
        else:
            slots = set(names) | set(varnames) | code_cells
            local = [nm for nm, f in entries if f & DEF_BOUND and (f >> SCOPE_OFF) & SCOPE_MASK in (LOCAL, CELL)]
        missing = []
        for nm in local:
            if nm in slots:
                continue
            if (sid, nm) in silent:
                exempt_silent += 1
                continue
            missing.append(nm)
        if missing:
            findings.append(Finding(path, cu_id, qualpath, f"{stype} locals {sorted(missing)} not in the code's slots"))
    for path, cu_id, qualpath, *_ in code.values():
        if cu_id not in crosswalked:
            findings.append(Finding(path, cu_id, qualpath, "code unit has no symbol table (code_without_scope)"))
    return result("symtable_vs_code", "py_sym_scopes", findings, {
        "scopes": scopes.num_rows, "paired_with_code": paired, "code_units": code_units.num_rows,
        "exempt_unreferenced_annotations": exempt_silent, "exempt_type_params_defaults": exempt_defaults,
        "implicit_class_cells": implicit_cells, "class_free_passthrough": class_passthrough,
        "inlined_comprehension_cells": comp_cells,
    }, description="frees == co_freevars, cells == co_cellvars, parameters == argument slots, locals within slots")


def _diff(what: str, sym: set, code: set, code_name: str) -> str:
    only_sym, only_code = sorted(sym - code), sorted(code - sym)
    return f"{what} differ: symtable only {only_sym}, {code_name} only {only_code}"
