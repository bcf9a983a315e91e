"""Named queries for `codeintel query --preset NAME [--arg VALUE]` (read-only SQL over the tables)."""

import re

# How a code unit may be named (``resolve_code_unit``); every form a string compare on py_bc_code_units, whose
# qualpath joins nesting levels with '::' (``Class::meth``, ``outer::inner``, ``f::<lambda#1>``, a second
# ``def f`` in one scope ``f#2``, the module's own code ``<module>``):
#   QUALNAME             pkg.mod.Class.meth: the module's import name and the qualpath with '.' (as the call
#                        graph names it; cpg_definitions.qualname also names lambdas <lambdaN>); the module: pkg.mod
#   MODULE::QUALPATH     pkg.mod::Class::meth or pkg.mod::Class.meth; the module: pkg.mod::<module>
#   QUALPATH             Class::meth or Class.meth (several files may have one: then it is ambiguous)
CODE_UNIT_NAMED = """(
    u.qualpath = $arg OR replace(u.qualpath, '::', '.') = $arg
    OR u.module_name || '::' || u.qualpath = $arg OR u.module_name || '::' || replace(u.qualpath, '::', '.') = $arg
    OR u.module_name || '.' || replace(u.qualpath, '::', '.') = $arg
    OR (u.kind = 'module' AND u.module_name = $arg){definitions})"""
# cpg_definitions.qualname of a module, class, function, method or lambda names its code unit too (lambdas are
# <lambdaN> there, <lambda#N> in qualpaths)
_BY_DEFINITION = ("\n    OR u.code_unit_id IN (SELECT code_unit_id FROM cpg_definitions WHERE (qualname = $arg OR symbol = "
                  "$arg) AND kind IN ('module', 'class', 'function', 'method', 'lambda') AND code_unit_id IS NOT NULL)")
# A definition (any kind: parameters and variables too) named by the same three forms, for the presets that
# take a qualname: MODULE::REST and a bare REST are made the qualname the module's definitions have.
DEFINITION_NAMED = """
    WITH m AS (SELECT path, qualname FROM cpg_definitions WHERE kind = 'module')
    SELECT qualname FROM cpg_definitions WHERE qualname = $arg OR symbol = $arg
    UNION SELECT qualname FROM m WHERE $arg = qualname || '::<module>' OR $arg = '<module>'
    UNION SELECT d.qualname FROM cpg_definitions d JOIN m ON m.path = d.path
    WHERE d.qualname = m.qualname || '.' || replace(CASE WHEN starts_with($arg, m.qualname || '::')
                                                         THEN substr($arg, length(m.qualname) + 3) ELSE $arg END, '::', '.')
    UNION SELECT d.qualname FROM cpg_definitions d JOIN py_bc_code_units u ON u.path = d.path AND u.code_unit_id = d.code_unit_id
    WHERE d.kind IN ('module', 'class', 'function', 'method', 'lambda') AND {units}
    ORDER BY 1"""

NAME_FORMS = "a QUALNAME such as pkg.mod.Class.meth, MODULE::QUALPATH (pkg.mod::Class::meth) or a QUALPATH (Class.meth)"


class PresetArgError(ValueError):
    """The preset's argument names nothing, or several things: the message says which (exit 2)."""


PRESETS: dict[str, tuple[str, str]] = {
    "failed-files": ("every file a plane could not read, decode, parse, compile or extract, and why", None),
    "broken-imports": ("imports of a module under the repository's own top-level packages that no file of the "
                       "repository provides (deleted, renamed, optional; or installed at runtime by code outside "
                       "it; a module a file registers by name, sys.modules['os.path'] = path, is provided, a compiled "
                       "extension module of the repository, .so or .pyd, provides its name and those under it, a "
                       "directory without source is a namespace package), and `from M import n` where the "
                       "repository's module M neither binds n nor has a submodule n (its own `from . import n` binds nothing when "
                       "n is missing; and M has no star import, module "
                       "__getattr__, globals(), module-level exec, setattr on the module, sys.modules[__name__] = m "
                       "or enum.global_enum class that could): path, line, the module as written and made "
                       "absolute, the name, what is missing", """
        WITH ext AS (SELECT module_name AS m FROM cpg_link_sourceless WHERE kind = 'extension'),
        -- the modules a file registers by name, `sys.modules['os.path'] = path` (os.py; xml/parsers/expat.py)
        -- `sys.modules[key] = m`: LOAD_ATTR modules, the key's load, STORE_SUBSCR (one scan for both rules)
        sysmod AS (SELECT a.path, b.baseopname AS key_op, b.argrepr AS key_name, b.argval_kind, b.argval_str
                   FROM py_bc_instructions a
                   JOIN py_bc_instructions b ON b.code_unit_id = a.code_unit_id AND b.instr_index = a.instr_index + 1
                   JOIN py_bc_instructions t ON t.code_unit_id = a.code_unit_id AND t.instr_index = a.instr_index + 2
                    AND t.baseopname = 'STORE_SUBSCR'
                   WHERE a.baseopname = 'LOAD_ATTR' AND a.argrepr = 'modules'),
        registered AS (SELECT DISTINCT argval_str AS m FROM sysmod WHERE key_op = 'LOAD_CONST' AND argval_kind = 'str'),
        mods AS (SELECT DISTINCT module_name AS m FROM py_files WHERE module_name IS NOT NULL AND module_name <> ''
                 UNION SELECT module_name FROM cpg_link_sourceless),
        -- (known names, not the repository's top-level packages: a test's `sys.modules['foo'] = m` is no package of it)
        provided AS (SELECT m FROM mods UNION SELECT m FROM registered
                     -- (a package's __init__.py is also the module P.__init__: `import idlelib.__init__` loads it again)
                     UNION SELECT module_name || '.__init__' FROM py_files WHERE ends_with(path, '__init__.py')),
        steps AS (SELECT string_split(m, '.') AS parts, unnest(range(1, len(string_split(m, '.')) + 1)) AS n
                  FROM provided),
        known AS (SELECT DISTINCT array_to_string(list_slice(parts, 1, n), '.') AS name FROM steps),
        files AS (SELECT module_name AS m, path FROM py_files WHERE ok AND module_name IS NOT NULL),
        bound AS (SELECT b.path, b.name FROM py_sym_bindings b
                  JOIN py_sym_scopes s ON s.scope_id = b.scope_id AND s.scope_type = 'MODULE'),
        -- a package's own `from . import sub` binds sub only when the submodule imports: a name bound by nothing
        -- else binds nothing once sub is gone (numpy's _core/__init__.py `from . import _methods`)
        self_imports AS (SELECT i.import_id, i.path FROM cpg_imports i JOIN files f ON f.path = i.path
                         AND f.m = i.imported_module WHERE i.imported_name IS NOT NULL AND NOT i.is_star
                         AND i.imported_module || '.' || i.imported_name NOT IN (SELECT name FROM known)),
        self_only AS (SELECT n.path, n.name FROM py_sym_name_sites n
                      SEMI JOIN (SELECT DISTINCT path FROM self_imports) q USING (path)
                      JOIN py_sym_scopes s ON s.scope_id = n.scope_id AND s.scope_type = 'MODULE'
                      WHERE n.role = 'def' GROUP BY ALL
                      HAVING bool_and(n.ast_node_id IN (SELECT import_id FROM self_imports))),
        open AS (SELECT path FROM cpg_imports WHERE is_star AND scope_def_id = path || ':AST:0'
                 UNION SELECT path FROM bound WHERE name = '__getattr__'
                 -- names bound at run time: the builtin globals() anywhere in the module, exec / eval / vars() /
                 -- locals() in its module code (twisted's xpathparser.py is one exec of its source)
                 UNION SELECT n.path FROM py_sym_name_sites n
                 JOIN py_sym_bindings b ON b.binding_id = n.binding_id AND b.binding_kind = 'unknown'
                 JOIN py_sym_scopes s ON s.scope_id = n.scope_id
                 WHERE n.name = 'globals' OR (n.name IN ('exec', 'eval', 'vars', 'locals') AND s.scope_type = 'MODULE')
                 -- and the builtin setattr on the module itself, through a name an import binds to it (numpy's
                 -- dtypes.py: `from numpy import dtypes`, then `setattr(dtypes, name, DType)`)
                 UNION SELECT f.path FROM cpg_call_sites c
                 JOIN py_sym_bindings sb ON sb.binding_id = c.callee_root_binding_id AND sb.binding_kind = 'unknown'
                 JOIN cpg_call_args a ON a.callsite_id = c.callsite_id AND a.arg_index = 0
                  AND len(coalesce(a.attrs, [])) = 0
                 JOIN cpg_imports i ON i.binding_id = a.root_binding_id
                 JOIN files f ON f.m = CASE WHEN i.imported_name IS NOT NULL THEN i.imported_module || '.' || i.imported_name
                                            WHEN i.asname IS NOT NULL THEN i.imported_module
                                            ELSE split_part(i.imported_module, '.', 1) END
                 WHERE c.callee_kind = 'name' AND c.callee_text = 'setattr'
                 -- and a class decorated with enum.global_enum, which puts its members in its module (re's flags)
                 UNION SELECT path FROM cpg_call_sites WHERE call_kind = 'decorator'
                  AND (callee_text = 'global_enum' OR ends_with(callee_text, '.global_enum'))
                 -- and a module that puts another in its place, `sys.modules[__name__] = m` (the standard library's
                 -- collections/abc.py and decimal.py): what is imported is m
                 UNION SELECT path FROM sysmod WHERE key_name = '__name__' AND key_op IN ('LOAD_NAME', 'LOAD_GLOBAL'))
        SELECT i.path, i.lineno, i.scope_qualname, {written} AS written_module, i.imported_module, i.imported_name,
               'module' AS missing
        FROM cpg_imports i
        WHERE string_split(i.imported_module, '.')[1] IN (SELECT DISTINCT string_split(m, '.')[1] FROM mods)
          AND i.imported_module NOT IN (SELECT name FROM known)
          -- (an extension module can make its submodules at import: pyo3's, hypothesis._native.internal.floats)
          AND NOT EXISTS (SELECT 1 FROM ext WHERE starts_with(i.imported_module, ext.m || '.'))
        UNION ALL
        SELECT i.path, i.lineno, i.scope_qualname, {written} AS written_module, i.imported_module, i.imported_name, 'name'
        FROM cpg_imports i JOIN files f ON f.m = i.imported_module
        WHERE i.imported_name IS NOT NULL AND NOT i.is_star AND NOT starts_with(i.imported_name, '__')
          AND f.path NOT IN (SELECT path FROM open)
          AND i.imported_module || '.' || i.imported_name NOT IN (SELECT name FROM known)
          AND NOT EXISTS (SELECT 1 FROM bound b WHERE b.path = f.path AND b.name = i.imported_name
                          AND (b.path, b.name) NOT IN (SELECT (path, name) FROM self_only))
        ORDER BY path, lineno, imported_module, imported_name""".format(
        # the module as the import statement writes it, its leading dots included (`from .x import *`)
        written="repeat('.', coalesce(i.level, 0)) || coalesce(i.written_module, '')")),
    "largest-code-units": ("the 20 code units with the most instructions", """
        SELECT path, qualpath, kind, instruction_count, stacksize FROM py_bc_code_units
        ORDER BY instruction_count DESC, path, qualpath LIMIT 20"""),
    "name-sites": ("where a name (--arg NAME) is defined and used, with its binding and resolution", """
        SELECT n.path, n.span_start_byte, n.role, n.site_kind, b.binding_kind, b.scope_id, r.kind AS resolves_as,
               r.dst_binding_id AS resolves_to
        FROM py_sym_name_sites n LEFT JOIN py_sym_bindings b USING (binding_id)
        LEFT JOIN py_sym_resolution_edges r ON r.src_binding_id = n.binding_id
        WHERE n.name = $arg ORDER BY n.path, n.span_start_byte"""),
    "cfg": ("the CFG of one code unit (--arg QUALNAME, MODULE::QUALPATH or QUALPATH) as rows: block, kind, "
            "terminator, edge, target", """
        SELECT b.path, b.block_index AS block, b.kind, b.terminator, e.kind AS edge, d.block_index AS to_block,
               e.polarity_rule
        FROM py_bc_blocks b
        LEFT JOIN py_bc_cfg_edges e ON e.src_block_id = b.block_id
        LEFT JOIN py_bc_blocks d ON d.block_id = e.dst_block_id
        WHERE b.path = $path AND b.code_unit_id = $unit ORDER BY block, to_block"""),
    "callers": ("who calls a function, method or class (--arg QUALNAME, MODULE::QUALPATH, QUALPATH or SYMBOL; "
                "or a name outside the repository as the call graph spells it, e.g. os.path.join), transitively "
                "up to --depth", None),
    "callees": ("what a function, method or module (--arg QUALNAME, MODULE::QUALPATH, QUALPATH or SYMBOL) calls, "
                "transitively up to --depth", None),
    "calls-into": ("every call of a function or class (--arg QUALNAME, MODULE::QUALPATH or QUALPATH; or a name "
                   "outside the repository): its arguments, the parameters they bind and the definitions that "
                   "reach them", """
        SELECT c.path, c.lineno, c.caller_qualname AS caller, c.rule, round(c.confidence, 2) AS confidence,
               b.param_name AS parameter, CASE WHEN b.implicit_receiver THEN '<receiver>' ELSE a.text END AS argument,
               list(DISTINCT r.def_kind || coalesce(' line ' || d.line_number, '') ORDER BY
                    r.def_kind || coalesce(' line ' || d.line_number, '')) FILTER (WHERE r.def_kind IS NOT NULL)
                 AS reaching_definitions
        FROM cpg_calls c
        LEFT JOIN cpg_binds_arg b ON b.callsite_id = c.callsite_id AND b.callee_def_id = c.callee_def_id
        LEFT JOIN cpg_call_args a ON a.arg_id = b.arg_id
        LEFT JOIN cpg_arg_reaches r ON r.callsite_id = b.callsite_id AND r.arg_id = b.arg_id
         AND r.param_binding_id = b.param_binding_id AND r.callee_def_id = b.callee_def_id
        LEFT JOIN py_bc_instructions d ON d.instr_id = r.def_instr_id
        WHERE c.callee_qualname IN ($arg, $arg || '.__init__')
        GROUP BY ALL ORDER BY c.path, c.lineno, parameter"""),
    "call-path": ("the call sites on a line (--arg PATH:LINE), the definitions they reach and how (the names looked "
                  "up, through re-exports and the MRO)", """
        SELECT s.callee_text, s.call_kind, c.rule, round(c.confidence, 2) AS confidence, c.via AS resolution_path,
               c.callee_qualname, d.path AS definition_path, d.lineno AS definition_line, d.symbol
        FROM cpg_call_sites s LEFT JOIN cpg_calls c USING (callsite_id)
        LEFT JOIN cpg_definitions d ON d.def_id = c.callee_def_id
        WHERE s.path = regexp_extract($arg, '^(.*):([0-9]+)$', 1)
          AND s.lineno = TRY_CAST(regexp_extract($arg, '^(.*):([0-9]+)$', 2) AS INTEGER)
        ORDER BY s.span_start_byte, c.callee_qualname"""),
    "binding": ("the definition sites and uses of a binding (--arg QUALNAME of a definition or a local name of one, e.g. pkg.mod.f.x, "
                "MODULE::QUALPATH pkg.mod::f::x, QUALPATH f.x, SYMBOL or a binding_id)", """
        SELECT n.path, a.lineno, a.col_offset, n.role, n.site_kind, n.name, n.scope_id, n.binding_id
        FROM py_sym_name_sites n JOIN py_ast_nodes a ON a.ast_node_id = n.ast_node_id AND a.path = n.path
        WHERE n.binding_id IN (SELECT binding_id FROM cpg_definitions WHERE qualname = $arg OR symbol = $arg
                               UNION SELECT $arg)
        ORDER BY n.path, n.span_start_byte"""),
    "reaching": ("the definitions reaching a use (--arg PATH:LINE:NAME): kind, line, instruction", """
        SELECT u.path, u.line_number AS use_line, r.name, r.space, r.def_kind, d.line_number AS def_line,
               d.opname AS def_instruction, r.binding_id
        FROM py_reaching_defs r JOIN py_bc_instructions u ON u.instr_id = r.use_instr_id AND u.path = r.path
        LEFT JOIN py_bc_instructions d ON d.instr_id = r.def_instr_id AND d.path = r.path
        WHERE r.path = regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 1)
          AND u.line_number = TRY_CAST(regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 2) AS INTEGER)
          AND r.name = regexp_extract($arg, '^(.*):([0-9]+):([^:]+)$', 3)
        ORDER BY use_line, r.def_kind, def_line"""),
}


def _transitive_calls_sql(up: bool) -> str:
    """callers (``up``: follow edges into the argument) or callees (out of it), to ``$depth`` hops."""
    near, far = ("callee", "caller") if up else ("caller", "callee")
    start = ("c.callee_qualname IN ($arg, $arg || '.__init__')" if up else "c.caller_qualname = $arg")
    return f"""
        WITH RECURSIVE t AS (
            SELECT 1 AS depth, c.*, [c.{near}_qualname, c.{far}_qualname] AS seen FROM cpg_calls c
            WHERE {start} OR c.{near}_def_id IN (SELECT def_id FROM cpg_definitions WHERE symbol = $arg)
            UNION ALL
            SELECT t.depth + 1, c.*, list_append(t.seen, c.{far}_qualname) FROM t
            JOIN cpg_calls c ON c.{near}_qualname = t.{far}_qualname
            WHERE t.depth < $depth AND NOT list_contains(t.seen, c.{far}_qualname))
        SELECT min(depth) AS depth, caller_qualname AS caller, callee_qualname AS callee, path, lineno, rule,
               round(max(confidence), 2) AS confidence
        FROM t GROUP BY ALL ORDER BY depth, caller, path, lineno"""


def failed_files_sql() -> str:
    """Every file plane's own failures, from its status table (derived from the plane registry)."""
    from codeintel_assets.planes import file_planes
    from codeintel_assets.validate.status_gates import DERIVED_STAGES
    parts = []
    for p in file_planes():
        line = "error_lineno" if "error_lineno" in p.contract(p.status).schema.names else "NULL::INTEGER"
        parts.append(f"SELECT path, '{p.name}' AS plane, error_stage AS stage, error_type, error_msg, {line} AS line "
                     f"FROM \"{p.status}\" WHERE NOT ok AND error_stage NOT IN {tuple(DERIVED_STAGES)!r}")
    return "\nUNION ALL\n".join(parts) + "\nORDER BY path, plane"


def preset_sql(name: str) -> str:
    if name in ("callers", "callees"):
        return _transitive_calls_sql(name == "callers")
    return failed_files_sql() if name == "failed-files" else PRESETS[name][1]


# The presets whose --arg names a code unit, and those whose --arg names a definition (a qualname).
CODE_UNIT_PRESETS = ("cfg", "cfg-dot")
QUALNAME_PRESETS = ("callers", "callees", "calls-into", "binding")


def code_units_named(conn, name: str) -> list[tuple[str, str, str, str, str, int]]:
    """(path, code_unit_id, module_name, qualpath, kind, first line) of every code unit ``name`` names
    (``CODE_UNIT_NAMED``)."""
    from resources.duck import table_exists
    if not table_exists(conn, "py_bc_code_units"):
        return []
    where = CODE_UNIT_NAMED.format(definitions=_BY_DEFINITION if table_exists(conn, "cpg_definitions") else "")
    return conn.execute(f"SELECT u.path, u.code_unit_id, u.module_name, u.qualpath, u.kind, u.co_firstlineno "
                        f"FROM py_bc_code_units u WHERE {where} ORDER BY u.module_name, u.path, u.co_firstlineno, "
                        f"u.qualpath", {"arg": name}).fetchall()


def resolve_code_unit(conn, name: str) -> tuple[str, str, str, str]:
    """The one code unit ``name`` names: (path, code_unit_id, module_name, qualpath); PresetArgError when it
    names none or several (the message lists them, each by an unambiguous MODULE::QUALPATH)."""
    units = code_units_named(conn, name)
    if not units:
        raise PresetArgError(f"no code unit named {name!r} (give {NAME_FORMS}; the callgraph preset lists the "
                             "qualnames, the largest-code-units preset qualpaths)")
    if len(units) > 1:
        # with the line of each: `select`, `select#2` ... (typing.overload stubs, then the implementation)
        raise PresetArgError(f"{len(units)} code units are named {name!r}; name one of them:\n" + "\n".join(
            f"  {m}::{q}  ({kind}, {path}:{line})" for path, _, m, q, kind, line in units))
    return units[0][:4]


def resolve_qualname(conn, name: str, preset: str) -> str:
    """The qualname (or the symbol, or binding id, as given) a qualname preset runs with: ``name`` itself when
    it is a definition's qualname or symbol, a name the call graph has (a call outside the repository) or,
    for binding, a binding id; else the qualname of the one definition MODULE::QUALPATH or QUALPATH names.
    PresetArgError when it names nothing or several definitions."""
    from resources.duck import table_exists
    if not table_exists(conn, "cpg_definitions"):
        raise PresetArgError(f"the {preset} preset needs the cpg tables (cpg_definitions): run `codeintel index`")
    units = CODE_UNIT_NAMED.format(definitions="") if table_exists(conn, "py_bc_code_units") else "false"
    found = [q for (q,) in conn.execute(DEFINITION_NAMED.format(units=units), {"arg": name}).fetchall()]
    if len(found) > 1:
        raise PresetArgError(f"{len(found)} definitions are named {name!r}; name one of them:\n" + "\n".join(
            f"  {q}" for q in found))
    exact = conn.execute("SELECT count(*) FROM cpg_definitions WHERE qualname = $arg OR symbol = $arg",
                         {"arg": name}).fetchall()[0][0]
    if exact:
        return name
    if found:
        return found[0]
    if preset == "binding":
        if table_exists(conn, "py_sym_name_sites") and conn.execute(
                "SELECT count(*) FROM py_sym_name_sites WHERE binding_id = $arg", {"arg": name}).fetchall()[0][0]:
            return name
        local = _local_binding(conn, name)
        if local:
            return local
    elif table_exists(conn, "cpg_calls") and conn.execute(
            "SELECT count(*) FROM cpg_calls WHERE callee_qualname IN ($arg, $arg || '.__init__') OR "
            "caller_qualname = $arg", {"arg": name}).fetchall()[0][0]:
        return name  # a name outside the repository as the call graph spells it (os.path.join, <builtin>.len)
    reexported = follow_reexports(conn, name)
    if reexported:
        return reexported
    what = "definition or binding id" if preset == "binding" else "definition or call target"
    raise PresetArgError(f"no {what} named {name!r} (give {NAME_FORMS}, or a SCIP symbol; the callgraph preset "
                         "lists the qualnames)")


def _inherited(conn, name: str) -> str | None:
    """``Class.attr`` where the class does not define attr itself: the qualname of the definition the first class
    of its MRO that does defines (``flask.app.Flask.route`` is ``flask.sansio.scaffold.Scaffold.route``); None
    when ``name`` is not such a name."""
    from resources.duck import table_exists
    owner, _, attr = name.rpartition(".")
    if not owner or not table_exists(conn, "cpg_mro"):
        return None
    found = conn.execute(
        "SELECT x.qualname FROM cpg_definitions k JOIN cpg_mro o ON o.class_def_id = k.def_id AND o.mro_index > 0 "
        "JOIN cpg_definitions x ON x.parent_def_id = o.ancestor_def_id AND x.name = $attr "
        "AND x.kind IN ('function', 'method', 'class') WHERE k.qualname = $owner AND k.kind = 'class' "
        "ORDER BY o.mro_index, x.span_start_byte DESC LIMIT 1", {"owner": owner, "attr": attr}).fetchall()
    return found[0][0] if found else None


def follow_reexports(conn, name: str) -> str | None:
    """The qualname of the definition a public name re-exports (``click.echo``: ``from .utils import echo`` in
    click/__init__.py, so click.utils.echo), through the link's module-level aliases, as the link resolves a call
    of it, and a method a class inherits (``flask.Flask.route``: ``Scaffold.route``); None when ``name`` is not
    such a name (or stands for several)."""
    from resources.duck import table_exists
    inherited = _inherited(conn, name)
    if inherited or not table_exists(conn, "cpg_link_aliases"):
        return inherited
    seen, cur = {name}, name
    for _ in range(8):  # the link's MAX_REEXPORT_HOPS
        # the longest dotted prefix that is an alias (anyio.Event.wait: anyio.Event -> anyio._core._synchronization.Event)
        prefixes = [cur.rsplit(".", k)[0] for k in range(cur.count(".") + 1)]
        nxt = [t + cur[len(p):] for p, t in conn.execute(
            "SELECT name, target FROM (SELECT DISTINCT name, target FROM cpg_link_aliases WHERE name IN "
            "(SELECT unnest($p))) QUALIFY length(name) = max(length(name)) OVER ()", {"p": prefixes}).fetchall()]
        if len(nxt) != 1 or nxt[0] in seen:
            return _star_external(conn, cur)
        cur = nxt[0]
        seen.add(cur)
        if conn.execute("SELECT count(*) FROM cpg_definitions WHERE qualname = $n", {"n": cur}).fetchall()[0][0]:
            return cur
        if inherited := _inherited(conn, cur):
            return inherited
    return None


def _star_external(conn, name: str) -> str | None:
    """The name outside the source a module's star import gives it, as the link's star_external rule resolved calls
    of it (``numpy.zeros`` re-exports ``numpy._core.multiarray.zeros``, which ``from ._multiarray_umath import *``
    binds: ``numpy._core._multiarray_umath.zeros``); None when no call was resolved so. PresetArgError when it is
    one of several (os.py star-imports ``posix`` or ``nt``)."""
    from resources.duck import table_exists
    if not table_exists(conn, "cpg_calls"):
        return None
    found = [q for (q,) in conn.execute("SELECT DISTINCT callee_qualname FROM cpg_calls WHERE rule = 'star_external' "
                                        "AND via[-2] = $n ORDER BY 1", {"n": name}).fetchall()]
    if len(found) > 1:
        raise PresetArgError(f"{name!r} is bound by a star import of one of {len(found)} modules outside the source "
                             "(each a call target); name one of them:\n" + "\n".join(f"  {q}" for q in found))
    return found[0] if found else None


def _local_binding(conn, name: str) -> str | None:
    """The binding id of a local name of a definition: ``pkg.mod.f.x`` / ``pkg.mod::f::x`` / ``f.x`` (x bound
    in f's own scope, not a parameter: those are definitions), when the part before the last ``.`` / ``::``
    names one definition; None otherwise (PresetArgError when it names several)."""
    from resources.duck import table_exists
    sep = max(name.rfind("."), name.rfind("::"))
    if sep <= 0 or not table_exists(conn, "py_sym_bindings"):
        return None
    owner, local = name[:sep], name[sep + (2 if name.startswith("::", sep) else 1):]
    try:
        owner = resolve_qualname(conn, owner, "callees")
    except PresetArgError:
        return None
    rows = conn.execute(
        "SELECT b.binding_id, d.qualname, d.path FROM cpg_definitions d "
        "JOIN py_sym_scopes s ON s.anchor_ast_node_id = d.def_id AND s.path = d.path "
        "JOIN py_sym_bindings b ON b.scope_id = s.scope_id AND b.path = s.path AND b.name = $local "
        "WHERE (d.qualname = $owner OR d.symbol = $owner) AND NOT b.is_synthesized ORDER BY d.path, b.binding_id",
        {"owner": owner, "local": local}).fetchall()
    if len(rows) > 1:
        raise PresetArgError(f"{len(rows)} bindings are named {name!r}; give one binding id:\n" + "\n".join(
            f"  {bid}  ({q}, {path})" for bid, q, path in rows))
    return rows[0][0] if rows else None


def check_location(conn, preset: str, arg: str) -> None:
    """--arg PATH:LINE (call-path) or PATH:LINE:NAME (reaching) names a file of the database and a line with a
    call site / a use of NAME: else PresetArgError saying which part names nothing (never an empty table)."""
    shape = r"^(.*):([0-9]+)$" if preset == "call-path" else r"^(.*):([0-9]+):([^:]+)$"
    m = re.match(shape, arg)
    if m is None:
        raise PresetArgError(f"the {preset} preset takes --arg " + ("PATH:LINE" if preset == "call-path"
                                                                     else "PATH:LINE:NAME") + f", not {arg!r}")
    path, line = m.group(1), int(m.group(2))
    if not conn.execute("SELECT count(*) FROM py_files WHERE path = $p", {"p": path}).fetchall()[0][0]:
        raise PresetArgError(f"no file {path!r} in the database (paths are relative to the indexed root, "
                             "as `codeintel query \"SELECT path FROM py_files\"` lists them)")
    if preset == "call-path":
        if not conn.execute("SELECT count(*) FROM cpg_call_sites WHERE path = $p AND lineno = $l",
                            {"p": path, "l": line}).fetchall()[0][0]:
            raise PresetArgError(f"no call site on {path}:{line}")
        return
    names = [n for (n,) in conn.execute(
        "SELECT DISTINCT r.name FROM py_reaching_defs r JOIN py_bc_instructions u ON u.instr_id = r.use_instr_id "
        "AND u.path = r.path WHERE r.path = $p AND u.line_number = $l ORDER BY 1", {"p": path, "l": line}).fetchall()]
    if m.group(3) not in names:
        raise PresetArgError(f"no use of {m.group(3)!r} on {path}:{line} (" + (
            "the names with reaching definitions there: " + ", ".join(names) if names else "no name on that line has reaching definitions") + ")")


def preset_query(conn, name: str, arg: str | None, depth: int) -> tuple[str, dict | None]:
    """The SQL and parameters of preset ``name`` with ``--arg`` resolved (PresetArgError as above)."""
    sql = preset_sql(name)
    if not arg and (name in ("call-path", "reaching") or name in CODE_UNIT_PRESETS or name in QUALNAME_PRESETS):
        raise PresetArgError(f"the {name} preset needs --arg (" + (
            "PATH:LINE" if name == "call-path" else "PATH:LINE:NAME" if name == "reaching" else NAME_FORMS) + ")")
    if name in ("call-path", "reaching"):
        check_location(conn, name, arg or "")
    if name in CODE_UNIT_PRESETS:
        path, unit, _, _ = resolve_code_unit(conn, arg or "")
        return sql, {"path": path, "unit": unit}
    if name in QUALNAME_PRESETS:
        arg = resolve_qualname(conn, arg or "", name)
    params = {k: v for k, v in (("arg", arg), ("depth", depth)) if f"${k}" in sql}
    return sql, params or None


def cfg_dot(conn, name: str) -> str:
    """The CFG of the one code unit ``name`` names (``resolve_code_unit``; PresetArgError when none or several)
    as Graphviz DOT (exception edges dashed)."""
    if not name:
        raise PresetArgError(f"the cfg-dot preset needs --arg ({NAME_FORMS})")
    path, unit, _, _ = resolve_code_unit(conn, name)
    blocks = conn.execute(
        "SELECT block_id, block_index, kind, start_offset, terminator, is_dead FROM py_bc_blocks "
        "WHERE path = ? AND code_unit_id = ? ORDER BY block_index", [path, unit]).fetchall()
    edges = conn.execute(
        "SELECT src_block_id, dst_block_id, kind FROM py_bc_cfg_edges WHERE path = ? AND code_unit_id = ? "
        "ORDER BY edge_id", [path, unit]).fetchall()
    out = [f'digraph "{name}" {{', "  node [shape=box, fontname=monospace];"]
    for bid, idx, kind, start, term, dead in blocks:
        style = ', style=dotted' if dead else ''
        out.append(f'  "{bid}" [label="B{idx} {kind}\\n@{start} {term}"{style}];')
    for src, dst, kind in edges:
        style = ', style=dashed' if kind == "exc" else ''
        out.append(f'  "{src}" -> "{dst}" [label="{kind}"{style}];')
    out.append("}")
    return "\n".join(out)


def callgraph(conn) -> dict[str, list[str]]:
    """{caller: [callees]} over the whole repository: every module, class, function, method and lambda is a
    key (even with no callees); callees are qualified names (``<builtin>.len``, imported dotted names for
    code outside the repository), from the link step's ``cpg_calls``."""
    from resources.duck import table_exists
    out: dict[str, set[str]] = {}
    if table_exists(conn, "cpg_definitions"):
        for (q,) in conn.execute("SELECT DISTINCT qualname FROM cpg_definitions WHERE kind IN "
                                 "('module', 'class', 'function', 'method', 'lambda')").fetchall():
            out.setdefault(q, set())
    if table_exists(conn, "cpg_calls"):
        for caller, callee in conn.execute("SELECT caller_qualname, callee_qualname FROM cpg_calls").fetchall():
            out.setdefault(caller, set()).add(callee)
    return {k: sorted(v) for k, v in sorted(out.items())}
