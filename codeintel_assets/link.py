"""The cross-file link step: call sites resolved to definitions across the repository, in SQL.

Dagster-free (the ``cpg_calls`` asset and the tests call ``link_calls``). It reads the per-file
tables of the cpg and symtable planes and writes ``cpg_calls`` in one transaction. Precision first:
a call gets an edge only when the rule can show where the callee is bound; a name that is also
assigned somewhere in its scope (rebound) or an attribute of an unknown value gets none.

Rules (``rule``, ``confidence``):

- ``local`` (1.0): the callee's root name is bound, in the caller's scope chain, only by ``def`` /
  ``class`` statements of this file (several: one edge each, confidence 1/n);
- ``import`` (1.0): bound only by import statements; the imported dotted name plus the attribute
  path is a definition of the repository, directly or through package re-exports (``from .core
  import run`` in ``pkg/__init__.py`` makes ``pkg.run`` mean ``pkg.core.run``), up to 8 hops;
- ``self_method`` (0.9): ``self.m()`` / ``cls.m()`` in a method of class ``C``, with ``m`` defined in
  ``C`` (a subclass may override it: 0.9);
- ``constructor`` (1.0): a call resolved to a class goes to its ``__init__`` when the class defines
  one (otherwise to the class itself: ``class``);
- ``builtin`` (1.0): a name bound nowhere in the module that is a builtin: ``<builtin>.name``;
- ``external`` (0.9): an imported name whose module is not in the repository: its dotted name
  (``os.path.join``), no definition id.
"""

import builtins

import pyarrow as pa

from codeintel_assets.contracts.common import SCHEMA_VERSION
from codeintel_assets.contracts.cpg import CPG_CALLS

MAX_REEXPORT_HOPS = 8

SQL = r"""
WITH RECURSIVE
scoped_roots AS (  -- the bindings the call sites being resolved name
    SELECT DISTINCT callee_root_binding_id AS binding_id FROM cpg_call_sites SEMI JOIN __scope USING (path)
    WHERE callee_root_binding_id IS NOT NULL),
sites AS (  -- their binding sites: what may have bound the name
    SELECT binding_id, count(*) AS n FROM py_sym_name_sites SEMI JOIN scoped_roots USING (binding_id)
    WHERE role = 'def' GROUP BY ALL),
defs_by_binding AS (
    SELECT binding_id, def_id, qualname, kind, path FROM cpg_definitions
    WHERE binding_id IS NOT NULL AND kind IN ('function', 'method', 'class')),
imps_by_binding AS (
    SELECT binding_id, path,
           -- the dotted name the local binding means: `import a.b` binds `a`; `import a.b as m` binds a.b
           CASE WHEN imported_name IS NOT NULL THEN imported_module || '.' || imported_name
                WHEN asname IS NULL THEN split_part(imported_module, '.', 1)
                ELSE imported_module END AS target
    FROM cpg_imports WHERE binding_id IS NOT NULL AND imported_module IS NOT NULL AND NOT is_star),
def_count AS (SELECT binding_id, count(*) AS n FROM defs_by_binding GROUP BY ALL),
imp_count AS (SELECT binding_id, count(*) AS n FROM imps_by_binding GROUP BY ALL),
calls AS (
    SELECT c.*, coalesce(array_to_string(c.callee_attrs, '.'), '') AS attr_path, len(c.callee_attrs) AS n_attrs,
           coalesce(s.n, 0) AS n_sites, coalesce(d.n, 0) AS n_defs, coalesce(i.n, 0) AS n_imps
    FROM cpg_call_sites c SEMI JOIN __scope sc ON sc.path = c.path
    LEFT JOIN sites s ON s.binding_id = c.callee_root_binding_id
    LEFT JOIN def_count d ON d.binding_id = c.callee_root_binding_id
    LEFT JOIN imp_count i ON i.binding_id = c.callee_root_binding_id
    WHERE c.callee_kind IN ('name', 'attribute') AND c.callee_root IS NOT NULL),
-- module-level aliases: `from .core import run as run_all` in pkg makes pkg.run_all mean pkg.core.run
aliases AS (
    SELECT m.qualname || '.' || i.local_name AS name,
           CASE WHEN i.imported_name IS NOT NULL THEN i.imported_module || '.' || i.imported_name
                WHEN i.asname IS NULL THEN split_part(i.imported_module, '.', 1)
                ELSE i.imported_module END AS target
    FROM cpg_imports i JOIN cpg_definitions m ON m.path = i.path AND m.def_id = i.scope_def_id AND m.kind = 'module'
    WHERE i.local_name IS NOT NULL AND i.imported_module IS NOT NULL AND NOT i.is_star),
first_param AS (  -- self / cls: the first parameter of each method
    SELECT parent_def_id, arg_min(def_id, span_start_byte) AS def_id FROM cpg_definitions
    WHERE kind = 'parameter' GROUP BY ALL),
-- candidates: a dotted name to look up, per call site
cand AS (
    SELECT c.callsite_id, 'local' AS rule, d.qualname AS name, 1.0 / c.n_defs AS confidence, 0 AS hop
    FROM calls c JOIN defs_by_binding d ON d.binding_id = c.callee_root_binding_id
    WHERE c.callee_kind = 'name' AND c.n_defs > 0 AND c.n_sites = c.n_defs
    UNION ALL
    SELECT c.callsite_id, 'import', i.target || CASE WHEN c.n_attrs > 0 THEN '.' || c.attr_path ELSE '' END,
           1.0 / c.n_imps, 0
    FROM calls c JOIN imps_by_binding i ON i.binding_id = c.callee_root_binding_id
    WHERE c.n_imps > 0 AND c.n_sites = c.n_imps
    UNION ALL
    SELECT c.callsite_id, 'self_method', k.qualname || '.' || c.attr_path, 0.9, 0
    FROM calls c
    JOIN cpg_definitions p ON p.path = c.path AND p.binding_id = c.callee_root_binding_id AND p.kind = 'parameter'
    JOIN cpg_definitions m ON m.path = p.path AND m.def_id = p.parent_def_id AND m.kind = 'method'
    JOIN cpg_definitions k ON k.path = m.path AND k.def_id = m.parent_def_id AND k.kind = 'class'
    JOIN first_param f ON f.parent_def_id = m.def_id AND f.def_id = p.def_id
    WHERE c.callee_kind = 'attribute' AND c.n_attrs = 1),
-- follow module-level aliases (re-exports) while the name does not name a definition
known AS (SELECT DISTINCT qualname FROM cpg_definitions WHERE kind IN ('function', 'method', 'class', 'lambda')),
walk AS (
    SELECT callsite_id, rule, name, confidence, hop FROM cand
    UNION ALL
    -- a name that names no definition: rewrite its longest... every prefix that is an alias (equi-join on
    -- the name's dotted prefixes, not a scan of every alias per name)
    SELECT x.callsite_id, x.rule, a.target || substr(x.name, length(a.name) + 1), x.confidence, x.hop + 1
    FROM (SELECT w.*, unnest(list_transform(range(1, len(string_split(w.name, '.')) + 1),
                                            lambda i: array_to_string(list_slice(string_split(w.name, '.'), 1, i), '.')))
                 AS prefix
          FROM walk w ANTI JOIN known k ON k.qualname = w.name
          WHERE w.hop < {max_hops}) x
    JOIN aliases a ON a.name = x.prefix),
found AS (
    SELECT w.callsite_id, w.rule, w.confidence, d.def_id, d.qualname, d.kind, d.path
    FROM walk w JOIN cpg_definitions d ON d.qualname = w.name AND d.kind IN ('function', 'method', 'class')),
resolved AS (  -- a class call goes to the __init__ the class defines
    SELECT f.callsite_id, CASE WHEN f.kind = 'class' AND i.def_id IS NOT NULL THEN 'constructor'
                               WHEN f.kind = 'class' THEN 'class' ELSE f.rule END AS rule,
           f.confidence, coalesce(i.def_id, f.def_id) AS def_id, coalesce(i.qualname, f.qualname) AS qualname,
           coalesce(i.path, f.path) AS path
    FROM found f LEFT JOIN cpg_definitions i
      ON f.kind = 'class' AND i.parent_def_id = f.def_id AND i.path = f.path AND i.name = '__init__' AND i.kind = 'method'),
external AS (  -- an import of a module the repository does not have
    SELECT c.callsite_id, 'external' AS rule, 0.9 AS confidence, NULL AS def_id, c.name AS qualname, NULL AS path
    FROM cand c WHERE c.rule = 'import' AND c.callsite_id NOT IN (SELECT callsite_id FROM found)
      AND NOT EXISTS (SELECT 1 FROM cpg_definitions m WHERE m.kind = 'module'
                      AND (m.qualname = split_part(c.name, '.', 1) OR starts_with(m.qualname, split_part(c.name, '.', 1) || '.')))),
builtin AS (
    SELECT c.callsite_id, 'builtin' AS rule, 1.0 AS confidence, NULL AS def_id, '<builtin>.' || c.callee_root AS qualname,
           NULL AS path
    FROM calls c WHERE c.callee_kind = 'name' AND c.n_sites = 0 AND c.callee_root IN (SELECT name FROM __builtins)),
edges AS (
    SELECT * FROM resolved UNION ALL SELECT * FROM external UNION ALL SELECT * FROM builtin)
SELECT DISTINCT {version}::SMALLINT, c.callsite_id, c.path, c.caller_def_id, c.caller_qualname, c.call_kind, c.lineno, e.def_id,
       e.qualname, e.path, e.rule, e.confidence::FLOAT
FROM edges e JOIN cpg_call_sites c USING (callsite_id)
"""


TRACE = "cpg_link_files"  # per file: the file_id and module the last successful link saw


def dirty_paths(conn) -> list[str]:
    """Files whose call sites or definitions changed since the last successful link: added, changed,
    removed, or never linked (a failed link leaves its trace as it was, so they stay dirty)."""
    from resources.store import table_exists
    if not table_exists(conn, "cpg_files"):
        return []
    if not table_exists(conn, TRACE):
        return [r[0] for r in conn.execute("SELECT path FROM cpg_files").fetchall()]
    return [r[0] for r in conn.execute(
        f"SELECT f.path FROM cpg_files f ANTI JOIN {TRACE} t ON t.path = f.path AND t.file_id = f.file_id "
        f"UNION SELECT t.path FROM {TRACE} t ANTI JOIN cpg_files f ON f.path = t.path AND f.file_id = t.file_id"
    ).fetchall()]


def affected_paths(conn, dirty: list[str]) -> set[str]:
    """The dirty files plus every file whose imports can reach one of their modules (transitively: a
    package that re-exports a dirty module makes its importers affected too)."""
    from resources.store import table_exists
    scope = set(dirty)
    conn.register("__dirty", pa.table({"path": pa.array(sorted(scope), pa.string())}))
    modules = {r[0] for r in conn.execute(
        "SELECT qualname FROM cpg_definitions WHERE kind = 'module' AND path IN (SELECT path FROM __dirty)"
    ).fetchall()}
    if table_exists(conn, TRACE):
        modules |= {r[0] for r in conn.execute(
            f"SELECT module FROM {TRACE} WHERE path IN (SELECT path FROM __dirty) AND module IS NOT NULL").fetchall()}
    conn.unregister("__dirty")
    # Follow names, not modules: a file is affected when one of its imports means (a dotted prefix of)
    # an affected name; a module-level import also makes a new name (module.local) that other files can
    # reach the change through (a re-export), and only those are followed further.
    names, frontier = set(modules), set(modules)
    while frontier:
        conn.register("__names", pa.table({"n": pa.array(sorted(frontier), pa.string())}))
        rows = conn.execute(
            "WITH t AS (SELECT i.path, i.local_name, i.binding_id, i.scope_def_id = d.def_id AS module_level, "
            "d.qualname AS module, "
            "CASE WHEN i.imported_name IS NOT NULL AND NOT i.is_star THEN i.imported_module || '.' || i.imported_name "
            "WHEN i.imported_name IS NULL AND i.asname IS NULL THEN split_part(i.imported_module, '.', 1) "
            "ELSE i.imported_module END AS target FROM cpg_imports i "
            "LEFT JOIN cpg_definitions d ON d.path = i.path AND d.kind = 'module' WHERE i.imported_module IS NOT NULL) "
            # the import means the name, or something inside it: affected, and a module-level one re-exports it
            "SELECT DISTINCT t.path, CASE WHEN t.module_level AND t.local_name IS NOT NULL "
            "THEN t.module || '.' || t.local_name END FROM t JOIN __names ON t.target = __names.n "
            "OR starts_with(t.target, __names.n || '.') "
            # the import means a package above the name (`import json` for json.decoder): affected only if a
            # call through that binding spells a path into the name (json.decoder.f())
            "UNION SELECT DISTINCT t.path, NULL FROM t JOIN __names ON starts_with(__names.n, t.target || '.') "
            "JOIN cpg_call_sites c ON c.path = t.path AND c.callee_root_binding_id = t.binding_id "
            "AND (t.target || '.' || array_to_string(c.callee_attrs, '.') = __names.n "
            "OR starts_with(t.target || '.' || array_to_string(c.callee_attrs, '.'), __names.n || '.'))").fetchall()
        conn.unregister("__names")
        scope |= {p for p, _ in rows}
        frontier = {a for _, a in rows if a} - names
        names |= frontier
    return scope


def link_calls(conn, full: bool = False) -> dict[str, int]:
    """Bring ``cpg_calls`` up to date in one transaction; figures for the metadata.

    Incremental: only the call sites of the files that changed since the last link, and of the files
    that import from them, are resolved again (``full``: all of them, also when there is no trace).
    """
    from resources.store import ensure_table, run, table_exists, transaction
    needed = ("cpg_call_sites", "cpg_definitions", "cpg_imports", "py_sym_name_sites", "cpg_files")
    if not all(table_exists(conn, t) for t in needed):
        return {"call_sites": 0, "edges": 0}
    full = full or not table_exists(conn, TRACE) or not table_exists(conn, CPG_CALLS.name)
    dirty = dirty_paths(conn)
    every = {r[0] for r in conn.execute("SELECT path FROM cpg_files").fetchall()} | set(dirty)
    scope = every if full else affected_paths(conn, dirty) if dirty else set()
    if len(scope) > len(every) // 2:  # a change most files can see (a package everything imports): all at once
        scope, full = every, True
    conn.register("__builtins", pa.table({"name": pa.array(sorted(n for n in dir(builtins) if not n.startswith("_")))}))
    conn.register("__scope", pa.table({"path": pa.array(sorted(scope), pa.string())}))
    try:
        with transaction(conn):
            ensure_table(conn, CPG_CALLS.name, CPG_CALLS.schema)
            run(conn, f"DELETE FROM {CPG_CALLS.name} WHERE path IN (SELECT path FROM __scope)")
            if scope:
                run(conn, f"INSERT INTO {CPG_CALLS.name} " + SQL.format(max_hops=MAX_REEXPORT_HOPS,
                                                                          version=SCHEMA_VERSION))
            # The trace, in the same transaction: a failed link leaves the old one (its files stay dirty).
            run(conn, f"CREATE TABLE IF NOT EXISTS {TRACE} (path VARCHAR, file_id VARCHAR, module VARCHAR)")
            run(conn, f"DELETE FROM {TRACE}")
            run(conn, f"INSERT INTO {TRACE} SELECT f.path, f.file_id, d.qualname FROM cpg_files f "
                      "LEFT JOIN cpg_definitions d ON d.path = f.path AND d.kind = 'module'")
        total = run(conn, "SELECT count(*) FROM cpg_call_sites")[0][0]
        figures = dict(run(conn, f"SELECT rule, count(DISTINCT callsite_id) FROM {CPG_CALLS.name} GROUP BY ALL"))
        resolved = run(conn, f"SELECT count(DISTINCT callsite_id) FROM {CPG_CALLS.name}")[0][0]
        edges = run(conn, f"SELECT count(*) FROM {CPG_CALLS.name}")[0][0]
    finally:
        conn.unregister("__builtins")
        conn.unregister("__scope")
    return {"call_sites": int(total), "call_sites_resolved": int(resolved), "edges": int(edges),
            "share_resolved": round(resolved / total, 4) if total else 0.0, "files_dirty": len(dirty),
            "files_relinked": len(scope), "full": full,
            **{f"sites_{k}": int(v) for k, v in sorted(figures.items())}}
