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
  ``C`` (a subclass may override it: 0.9); ``cls(...)`` in a classmethod of ``C``: ``C``, then its
  constructor (rule ``constructor``);
- ``constructor`` (1.0): a call resolved to a class goes to its ``__init__`` when the class defines
  one (otherwise to the class itself: ``class``);
- ``annotation`` (0.8): ``p.m()`` on a parameter declared ``p: C`` (``C | None``, ``Optional[C]``) and
  bound nowhere else: ``m`` along ``C``'s MRO; ``returns_method`` (0.8): ``x = f(); x.m()`` and
  ``f().m()`` with ``def f() -> C`` (docs/cpg.md has every rule);
- ``builtin`` (1.0): a name bound nowhere in the module that is a builtin: ``<builtin>.name``;
- ``external`` (0.9): an imported name whose module is not in the repository: its dotted name
  (``os.path.join``), no definition id.
"""

import ast
import builtins
import functools
import os
import re
import sys

import pyarrow as pa

from codeintel_assets.contracts.common import SCHEMA_VERSION
from codeintel_assets.contracts.cpg import (CPG_ARG_REACHES, CPG_BINDS_ARG, CPG_CALL_SITES, CPG_CALLS, CPG_DEFINITIONS,
                                             CPG_IMPORTS, CPG_INHERITS, CPG_MRO, CPG_VALUE_REFS)
from resources.duck import sql_list

MAX_REEXPORT_HOPS = 8

# The dotted name an import binds: `import a.b` binds `a`; `import a.b as m` binds a.b; `from a import b`: a.b
IMPORT_TARGET = ("CASE WHEN {i}.imported_name IS NOT NULL THEN {i}.imported_module || '.' || {i}.imported_name "
                 "WHEN {i}.asname IS NULL THEN split_part({i}.imported_module, '.', 1) ELSE {i}.imported_module END")


def _suffix(attrs: str) -> str:
    return f"CASE WHEN len({attrs}) > 0 THEN '.' || array_to_string({attrs}, '.') ELSE '' END"


# The binding sites that bind nothing a call could reach: a def that never runs (or binds None: __lk_dead) and a
# module-level site a later one replaces (cpg_link_overwritten). A CTE of MEANING and of cpg_link_aliases.
_GONE = "gone AS (SELECT def_id AS node FROM __lk_dead UNION ALL SELECT ast_node_id FROM cpg_link_overwritten),"

# What a binding means, when every site that binds it is understood: a def / class statement (its
# qualname), an import (the dotted name), `name = dotted.name` whose root means something (one level),
# `name = lambda` (the lambda), or items of a display assigned to it (kind element). A binding with any
# other binding site (a loop variable, a second assignment of another shape, `global` from a function)
# means nothing: precision first.
# Every call edge the link can read at this point: this link's (__lk_calls) for the scope's files, as stored
# (cpg_calls) for the other files. {where}: a filter on the rule (or TRUE).
_CALL_EDGES = ("(SELECT ref_id, rule, confidence, def_id, qualname, via FROM __lk_calls WHERE {where} UNION ALL "
               "SELECT * FROM (SELECT callsite_id AS ref_id, rule, confidence, callee_def_id AS def_id, "
               "callee_qualname AS qualname, via FROM cpg_calls WHERE path NOT IN (SELECT path FROM __scope)) "
               "WHERE {where})")


def _shadowed_keys(pairs: str) -> str:
    """The keys of ``pairs`` (key, binding_id, attr: `self.attr` with self's binding) where the __init__ of a class of
    the MRO of self's class (not a classmethod's `cls`) always stores `self.attr = ...` (cpg_link_self_stores): an
    instance attribute, which shadows a method or class attribute of that name on every instance the class makes
    (`self.handler = cb` in __init__ beside `def handler`). No self_method meaning for those (RESOLVE, MEANING)."""
    return f"""SELECT DISTINCT q.key FROM ({pairs}) q
    JOIN __lk_self p ON p.binding_id = q.binding_id AND NOT p.classmethod
    JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class'
    JOIN cpg_mro o ON o.class_def_id = k.def_id JOIN __lk_defs a ON a.def_id = o.ancestor_def_id
    JOIN cpg_link_self_stores s ON s.class_qualname = a.qualname AND s.attr = q.attr"""


MEANING = """
INSERT INTO __lk_meaning
WITH needed0 AS (SELECT DISTINCT binding_id FROM ({needed}) n WHERE binding_id IS NOT NULL
                 EXCEPT SELECT binding_id FROM __lk_meaning),
-- `x = A + B` (concat, every operand a dotted name): x's items are A's, then B's (the displays A and B name)
cat AS (SELECT c.target_binding_id AS binding_id, c.target_node_id AS node, c.root_binding_id AS operand
        FROM __lk_need_vrefs c SEMI JOIN needed0 ON needed0.binding_id = c.target_binding_id
        WHERE c.role = 'concat' AND c.root_binding_id IS NOT NULL AND c.type_checking_only IS NOT TRUE),
needed AS (SELECT binding_id FROM needed0 UNION SELECT v.root_binding_id FROM __lk_need_vrefs v
           SEMI JOIN needed0 ON needed0.binding_id = v.target_binding_id
           WHERE v.role IN ('alias', 'element') AND v.root_binding_id IS NOT NULL
           UNION SELECT v.root_binding_id FROM __lk_need_vrefs v JOIN cat ON v.target_binding_id = cat.operand
           WHERE v.role = 'element' AND v.root_binding_id IS NOT NULL),
-- a def that never runs (or binds None) binds nothing a call could reach, nor does a module-level site a later
-- one replaces (cpg_link_overwritten)
""" + _GONE + """
shadowed AS (""" + _shadowed_keys("""SELECT v.value_id AS key, v.root_binding_id AS binding_id, v.attrs[1] AS attr
    FROM __lk_need_vrefs v SEMI JOIN needed0 ON needed0.binding_id = v.target_binding_id
    WHERE v.role = 'alias' AND len(v.attrs) = 1""") + """),
sites AS (SELECT binding_id, ast_node_id FROM __lk_need_defsites SEMI JOIN needed USING (binding_id)
          WHERE ast_node_id NOT IN (SELECT node FROM gone)),
base AS (
    SELECT binding_id, def_id AS node, qualname AS name, 'local' AS rule, 'value' AS kind
    FROM __lk_need_cdefs SEMI JOIN needed USING (binding_id) WHERE kind IN ('function', 'method', 'class')
      AND def_id NOT IN (SELECT node FROM gone)
    UNION ALL
    SELECT binding_id, import_id, {import_target}, 'import', 'value'
    FROM __lk_cimports i SEMI JOIN needed USING (binding_id) WHERE imported_module IS NOT NULL AND NOT is_star
      AND import_id NOT IN (SELECT node FROM gone)),
base_ok AS (SELECT * FROM base b WHERE binding_id NOT IN (
    SELECT s.binding_id FROM sites s ANTI JOIN base x ON x.binding_id = s.binding_id AND x.node = s.ast_node_id)),
vals AS (SELECT * FROM (
    SELECT v.target_binding_id AS binding_id, v.target_node_id AS node,
           coalesce(l.qualname, b.name || {suffix}, sp.class_qualname || '.' || v.attrs[1]) AS name,
           CASE WHEN l.qualname IS NOT NULL THEN 'lambda' WHEN v.role = 'element' THEN 'container'
                WHEN sp.binding_id IS NOT NULL THEN 'self_method' ELSE 'alias' END
             AS rule, CASE WHEN v.role = 'element' THEN 'element' ELSE 'value' END AS kind,
           count(*) OVER (PARTITION BY v.target_node_id, v.role) AS items  -- an item is one of this many
    FROM __lk_need_vrefs v SEMI JOIN needed0 ON needed0.binding_id = v.target_binding_id
    LEFT JOIN __lk_need_cdefs l ON l.def_id = v.value_def_id
    LEFT JOIN base_ok b ON b.binding_id = v.root_binding_id
    -- `write = self.write` in a method (a bound method kept in a local name, then `write(x)`): the method as
    -- self_method finds it, bound (not a classmethod's `cls.m`, nor an item of a display)
    LEFT JOIN __lk_self sp ON sp.binding_id = v.root_binding_id AND v.role = 'alias' AND len(v.attrs) = 1
     AND NOT sp.classmethod AND l.qualname IS NULL
     AND v.value_id NOT IN (SELECT key FROM shadowed)  -- (`g = self.handler` beside `self.handler = cb`: cb)
    WHERE v.role IN ('alias', 'element') AND v.type_checking_only IS NOT TRUE
      AND v.target_node_id NOT IN (SELECT node FROM gone)
    UNION ALL  -- the items of `x = A + B`: each operand's display's items, one of them all
    SELECT cat.binding_id, cat.node, coalesce(l.qualname, b.name || {suffix}), 'container', 'element',
           count(*) OVER (PARTITION BY cat.node)
    FROM cat JOIN __lk_need_vrefs v ON v.target_binding_id = cat.operand AND v.role = 'element'
     AND v.type_checking_only IS NOT TRUE AND v.target_node_id NOT IN (SELECT node FROM gone)
    LEFT JOIN __lk_need_cdefs l ON l.def_id = v.value_def_id
    LEFT JOIN base_ok b ON b.binding_id = v.root_binding_id) WHERE name IS NOT NULL),
expl AS (SELECT *, NULL AS items FROM base UNION ALL SELECT * FROM vals),
ok AS (SELECT * FROM expl e WHERE binding_id NOT IN (
    SELECT s.binding_id FROM sites s ANTI JOIN expl x ON x.binding_id = s.binding_id AND x.node = s.ast_node_id)
    -- several binding sites are each a meaning when each is a def or an import (a definition under if / try),
    -- or the binding is a module's (the sites a later one replaces are gone: what is left are branches); in a
    -- function `f = a` then `f = b` would put an edge to a on a call only b reaches. Items of a display
    -- assigned at several sites: none (which display's item n?)
    AND binding_id NOT IN (SELECT binding_id FROM expl GROUP BY ALL
                           HAVING count(DISTINCT node) > 1 AND (bool_or(rule = 'container') OR (
                               bool_or(rule IN ('alias', 'lambda'))
                               AND NOT starts_with(binding_id, split_part(binding_id, ':SCOPE:', 1) || ':SCOPE:<module>:')))))
-- 1/n over the distinct names: `import pkg.a` and `import pkg.b` both bind pkg to one module, and a function
-- defined under `if` and again under `else` is one qualname (RESOLVE divides among its definitions)
SELECT DISTINCT binding_id, name, rule, kind,
       CASE WHEN kind = 'element' THEN 1.0 / items ELSE 1.0 / count(DISTINCT name) OVER (PARTITION BY binding_id, kind) END
         * CASE WHEN rule = 'self_method' THEN 0.9 ELSE 1.0 END  -- (as self.m(): a subclass may override m)
FROM ok
"""

# What `from m import *` binds, for the modules of {mods} (module, path): m.__all__ when it is a literal (the
# module's path in {with_all}), else m's public module-level definitions and imports. Read by the in-file
# star_import rule (RESOLVE) and by the star re-export aliases (LOOKUPS).
STAR_EXPORTS = """SELECT m.module, v.root AS name FROM cpg_value_refs v JOIN {mods} m USING (path)
    WHERE v.role = 'export'{export_filter}
    UNION
    SELECT m.module, d.name FROM __lk_cdefs d JOIN {mods} m USING (path)
    WHERE d.kind IN ('function', 'class', 'variable') AND d.parent_def_id = d.path || ':AST:0'
      AND NOT starts_with(d.name, '_') AND d.path NOT IN (SELECT path FROM {with_all})
    UNION
    SELECT m.module, i.local_name FROM __lk_cimports i JOIN {mods} m USING (path)
    WHERE i.scope_def_id = i.path || ':AST:0' AND i.local_name IS NOT NULL AND NOT starts_with(i.local_name, '_')
      AND i.path NOT IN (SELECT path FROM {with_all})"""

# Resolve references (call callees, class bases, arguments: ``__lk_refs``) to definitions: the meaning of
# the root name plus the attribute path, a star import for a name bound nowhere, then module-level
# aliases (re-exports) until the name is a definition, and attributes a class inherits (the static MRO).
# Two statements. The first walks the names (candidates, then aliases, recursively) into __lk_walk, with
# the builtin answers beside them (hop -1); the second looks the walked names up among the definitions.
# One statement did both, and DuckDB estimated the recursive walk at millions of rows, so it built its
# hash tables on the repository's definitions (77k rows on the stdlib) six times per link, whatever the
# number of references (0.15-0.29 s per resolution for 13 references); a temporary table has exact
# statistics, so the walked names become the build side.
# {star}: the refs' files' star imports (STAR_IMPORTS), or none when they have none (NO_STAR_IMPORTS: most
# resolutions of an edit's link; DuckDB then drops the exports / opaque / rebound subplans, a third of the walk's
# CPU).
STAR_IMPORTS = """SELECT path, imported_module, lineno, import_id FROM __lk_cimports
         SEMI JOIN (SELECT DISTINCT path FROM refs) r USING (path) WHERE is_star AND imported_module IS NOT NULL"""
NO_STAR_IMPORTS = ("SELECT NULL::VARCHAR AS path, NULL::VARCHAR AS imported_module, NULL::INTEGER AS lineno, "
                   "NULL::VARCHAR AS import_id WHERE false")
RESOLVE = r"""
CREATE OR REPLACE TEMP TABLE __lk_walk AS
WITH RECURSIVE
refs AS (SELECT * FROM __lk_refs),
bound AS (SELECT DISTINCT binding_id FROM __lk_need_defsites
          SEMI JOIN (SELECT root_binding_id AS binding_id FROM refs) r USING (binding_id)),
star AS ({star}),
star_mods AS (SELECT DISTINCT imported_module AS module FROM star),
mod_defs AS (SELECT m.qualname AS module, m.path FROM __lk_cdefs m SEMI JOIN star_mods s ON s.module = m.qualname
             WHERE m.kind = 'module'),
literal_all AS (SELECT DISTINCT path FROM cpg_value_refs SEMI JOIN mod_defs USING (path) WHERE role IN ('export', 'export_dynamic')),
exports AS (  -- what `from m import *` binds: m.__all__ when it is a literal, else m's public module-level names
             -- (for a standard-library module, the names this interpreter gives: __stdlib_exports)
    """ + STAR_EXPORTS.format(mods="mod_defs", with_all="literal_all", export_filter="") + r"""
    UNION SELECT module, name FROM __stdlib_exports WHERE name IS NOT NULL),
opaque AS (  -- files with a star import we cannot enumerate (outside the repository, or a computed __all__)
    SELECT DISTINCT s.path FROM star s WHERE s.imported_module NOT IN (SELECT module FROM mod_defs)
      AND s.imported_module NOT IN (SELECT module FROM __stdlib_exports)
       OR s.imported_module IN (SELECT m.module FROM mod_defs m JOIN cpg_value_refs v USING (path) WHERE v.role = 'export_dynamic')),
-- a module-level name whose every binding site comes before a `from m import *` that binds it again (m exports
-- it): once the module has run, the name is the star import's (`def escape` then `from fast import *`)
rebound AS (
    SELECT r.ref_id FROM refs r JOIN star s USING (path) JOIN exports x ON x.module = s.imported_module AND x.name = r.root
    JOIN (SELECT binding_id, max(CAST(regexp_extract(ast_node_id, ':AST:([0-9]+)$', 1) AS INTEGER)) AS last_site
          FROM __lk_need_defsites SEMI JOIN (SELECT r.root_binding_id AS binding_id FROM refs r SEMI JOIN star USING (path)) q
            USING (binding_id)
          GROUP BY ALL) b ON b.binding_id = r.root_binding_id
    WHERE NOT r.container AND starts_with(r.root_binding_id, r.path || ':SCOPE:<module>:')
      AND CAST(regexp_extract(s.import_id, ':AST:([0-9]+)$', 1) AS INTEGER) > b.last_site),
shadowed AS (""" + _shadowed_keys("""SELECT ref_id AS key, root_binding_id AS binding_id, attrs[1] AS attr FROM refs
    WHERE len(attrs) = 1 AND NOT container""") + r"""),
cand AS (
    SELECT r.ref_id, 'lambda' AS rule, l.qualname AS name, 1.0 AS confidence, 0 AS hop
    FROM refs r JOIN __lk_need_cdefs l ON l.def_id = r.lambda_def_id
    UNION ALL
    SELECT r.ref_id, m.rule, m.name || {suffix}, m.confidence, 0
    FROM refs r JOIN __lk_meaning m ON m.binding_id = r.root_binding_id
     AND m.kind = CASE WHEN r.container THEN 'element' ELSE 'value' END
    WHERE r.ref_id NOT IN (SELECT ref_id FROM rebound)
    UNION ALL
    SELECT * FROM (
        SELECT r.ref_id, 'star_import', s.imported_module || '.' || r.root || {suffix}, 1.0, 0
        FROM refs r JOIN star s USING (path) JOIN exports x ON x.module = s.imported_module AND x.name = r.root
        WHERE NOT r.container AND (r.root_binding_id NOT IN (SELECT binding_id FROM bound)
                                   OR r.ref_id IN (SELECT ref_id FROM rebound))
        QUALIFY row_number() OVER (PARTITION BY r.ref_id ORDER BY s.lineno DESC) = 1)
    UNION ALL  -- self.m() / cls.m() in a method of class K: m as K's MRO finds it (a subclass may override: 0.9),
               -- unless the instance stores self.m (shadowed)
    SELECT r.ref_id, 'self_method', p.class_qualname || '.' || r.attrs[1], 0.9, 0
    FROM refs r JOIN __lk_self p ON p.binding_id = r.root_binding_id
    WHERE NOT r.container AND len(r.attrs) = 1 AND NOT (r.attrs[1] = '__class__' AND NOT p.classmethod)
      AND r.ref_id NOT IN (SELECT key FROM shadowed)
    UNION ALL  -- cls(...) in a classmethod of class K, self.__class__(...) in a method: K itself (then its
               -- constructor; on an instance of a subclass it is the subclass: 0.9)
    SELECT r.ref_id, 'self_method', p.class_qualname, 0.9, 0
    FROM refs r JOIN __lk_self p ON p.binding_id = r.root_binding_id
    WHERE NOT r.container AND ((len(r.attrs) = 0 AND p.classmethod)
                               OR (len(r.attrs) = 1 AND r.attrs[1] = '__class__' AND NOT p.classmethod))),
known AS (SELECT qualname FROM __lk_known),
tops AS (SELECT top FROM __lk_tops),
aliases AS (SELECT name, target, n FROM __lk_aliases),
walk AS (
    SELECT ref_id, rule, name, confidence, hop, [name] AS via FROM cand
    UNION ALL
    -- a name that names no definition: rewrite each dotted prefix that is an alias (an equi-join on the
    -- name's prefixes, not a scan of every alias per name)
    SELECT x.ref_id, x.rule, a.target || substr(x.name, length(a.name) + 1), x.confidence / a.n, x.hop + 1,
           list_append(x.via, a.target || substr(x.name, length(a.name) + 1))
    FROM (SELECT w.*, unnest(list_transform(range(1, len(string_split(w.name, '.')) + 1),
                                            lambda i: array_to_string(list_slice(string_split(w.name, '.'), 1, i), '.')))
                 AS prefix
          FROM walk w
          WHERE w.hop < {max_hops} AND split_part(w.name, '.', 1) IN (SELECT top FROM tops)
            AND w.rule <> 'self_method'  -- Class.attr of a class of the repository: the MRO's, not an alias
            -- a definition's name stops here, unless it is an alias as well (the in-file meaning of a local
            -- name has its aliases already)
            AND (w.name NOT IN (SELECT qualname FROM known)
                 OR (w.rule <> 'local' AND w.name IN (SELECT name FROM __lk_aliases WHERE mixed)))) x
    JOIN aliases a ON a.name = x.prefix
    -- a name met before on this path is a cycle (`x = x` at module level, a package importing itself)
    WHERE NOT list_contains(x.via, a.target || substr(x.name, length(a.name) + 1))),
builtin AS (  -- a name bound nowhere in its module (and no star import could bind it) that is a builtin
    SELECT r.ref_id, 'builtin' AS rule, '<builtin>.' || r.root || {suffix} AS name, 1.0 AS confidence, -1 AS hop,
           ['<builtin>.' || r.root || {suffix}] AS via
    FROM refs r WHERE NOT r.container AND r.root IN (SELECT name FROM __builtins)
      AND r.root_binding_id NOT IN (SELECT binding_id FROM bound) AND r.path NOT IN (SELECT path FROM opaque)
      AND r.ref_id NOT IN (SELECT ref_id FROM cand WHERE rule = 'star_import'))
SELECT ref_id, rule, name, confidence, hop, via FROM walk
UNION ALL
SELECT * FROM builtin;
CREATE OR REPLACE TEMP TABLE __lk_res AS
WITH
walk AS (SELECT * FROM __lk_walk WHERE hop >= 0),
cand AS (SELECT * FROM __lk_walk WHERE hop = 0),  -- the walk starts from the candidates as they are
known AS (SELECT qualname FROM __lk_known),
tops AS (SELECT top FROM __lk_tops),
-- a qualname of n definitions (a function defined under `if` and again under `else`): any of them, 1/n each
direct AS (
    SELECT w.ref_id, w.rule, w.confidence / coalesce(CASE WHEN w.rule = 'local' THEN a.n ELSE a.n_mixed END, 1)
             AS confidence, d.def_id, d.qualname, d.kind, d.path, w.via
    FROM walk w JOIN __lk_defs d ON d.qualname = w.name LEFT JOIN __lk_alts a ON a.qualname = d.qualname),
inherited AS (  -- Class.attr that the class does not define itself: the first class of its MRO that does (one
                -- outside the repository: a builtin or standard-library class that has it, __lk_ext_members)
    SELECT w.ref_id, w.rule, w.confidence * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END / coalesce(a.n, 1)
             AS confidence,
           x.def_id, coalesce(x.qualname, e.qualname) AS qualname, x.kind, x.path,
           list_append(w.via, coalesce(x.qualname, e.qualname)) AS via
    FROM (SELECT * FROM walk ANTI JOIN known k ON k.qualname = walk.name) w
    JOIN __lk_defs c ON c.kind = 'class' AND c.qualname = regexp_replace(w.name, '\.[^.]*$', '')
    JOIN cpg_mro o ON o.class_def_id = c.def_id AND o.mro_index > 0
    LEFT JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = regexp_extract(w.name, '[^.]*$')
    LEFT JOIN __lk_ext_members e ON o.ancestor_def_id IS NULL AND e.class_qualname = o.ancestor_qualname
     AND e.name = regexp_extract(w.name, '[^.]*$')
    LEFT JOIN __lk_alts a ON a.qualname = x.qualname
    WHERE x.def_id IS NOT NULL OR e.qualname IS NOT NULL
    QUALIFY rank() OVER (PARTITION BY w.ref_id, w.name ORDER BY o.mro_index) = 1),
found AS (SELECT * FROM direct UNION ALL SELECT * FROM inherited),
external AS (  -- an import of a module the repository does not have, directly or through a module of the
              -- repository that imports it (`from compat import x` where compat has `from typing import x`), or a
              -- name bound to an attribute of one (`H = logging.StreamHandler`)
    -- per candidate: `from os.path import basename` beside a `def basename` under `if` is one of two meanings
    -- (1/2 each), and the def the repository has does not hide the import the repository lacks
    SELECT c.ref_id, 'external' AS rule, 0.9 * c.confidence AS confidence, NULL AS def_id, c.name AS qualname,
           NULL AS kind, NULL AS path, c.via
    FROM walk c ANTI JOIN found f ON f.ref_id = c.ref_id AND f.via[1] = c.via[1] AND len(f.via) >= len(c.via)
                                   AND f.via[1:len(c.via)] = c.via
    WHERE c.rule IN ('import', 'alias', 'star_import')
      AND (split_part(c.name, '.', 1) NOT IN (SELECT top FROM tops){compiled})),
opaque_stars AS (  -- module-level `from s import *` of a module without source here (outside the repository, or
                   -- compiled: `from posix import *` in os.py, numpy's `from ._multiarray_umath import *`)
    SELECT DISTINCT path, imported_module FROM __lk_cimports
    WHERE is_star AND imported_module IS NOT NULL AND scope_def_id = path || ':AST:0'
      AND imported_module NOT IN (SELECT qualname FROM __lk_cdefs WHERE kind = 'module')),
own_names AS (  -- what those modules bind at module level themselves (`fsencode, fsdecode = _fscodec()` in os.py)
    SELECT b.path, b.name FROM py_sym_bindings b SEMI JOIN (SELECT DISTINCT path FROM opaque_stars) o USING (path)
    WHERE b.declared_here AND starts_with(b.scope_id, b.path || ':SCOPE:<module>:')),
star_external AS (  -- m.n that nothing resolved, m a module of the repository that binds no n and star-imports such
                    -- modules: s.n for each (0.8: s may not define n), 1/k for k of them
    SELECT c.ref_id, 'star_external' AS rule, 0.8 * c.confidence / count(*) OVER (PARTITION BY c.ref_id, c.name)
             AS confidence, NULL AS def_id, s.imported_module || '.' || regexp_extract(c.name, '[^.]*$') AS qualname,
           NULL AS kind, NULL AS path, list_append(c.via, s.imported_module || '.' || regexp_extract(c.name, '[^.]*$'))
    FROM walk c JOIN __lk_cdefs m ON m.kind = 'module' AND m.qualname = regexp_replace(c.name, '\.[^.]*$', '')
    JOIN opaque_stars s ON s.path = m.path
    WHERE NOT starts_with(regexp_extract(c.name, '[^.]*$'), '_')  -- (a star import binds no _name without __all__)
      -- (not a name a standard-library module known here does not bind: posix.chflags on Linux)
      AND (s.imported_module NOT IN (SELECT module FROM __stdlib_exports)
           OR (s.imported_module, regexp_extract(c.name, '[^.]*$')) IN (SELECT (module, name) FROM __stdlib_exports))
      AND (m.path, regexp_extract(c.name, '[^.]*$')) NOT IN (SELECT (path, name) FROM own_names)
      AND c.ref_id NOT IN (SELECT ref_id FROM found) AND c.ref_id NOT IN (SELECT ref_id FROM external)),
builtin AS (
    SELECT ref_id, rule, confidence, NULL AS def_id, name AS qualname, NULL AS kind, NULL AS path, via
    FROM __lk_walk WHERE hop = -1)
SELECT DISTINCT * FROM (SELECT * FROM found UNION ALL SELECT * FROM external UNION ALL SELECT * FROM star_external
                        UNION ALL SELECT * FROM builtin)
"""

# ... or a name inside a compiled extension module of the repository (scipy's `from ._rotation import Rotation` in
# scipy/spatial/transform/__init__.py, `_rotation` a .so beside it): external too, there is no source to look it up
# in (__ext_modules: cpg_link_sourceless' extension modules): a proper dotted prefix of the walked name is one. A
# condition of `external` beside "outside the repository", left out when the repository has no such module.
COMPILED_EXTERNAL = r"""
           OR list_has_any(list_transform(range(1, len(string_split(c.name, '.'))), lambda i: array_to_string(
                               list_slice(string_split(c.name, '.'), 1, i), '.')),
                           (SELECT list(module) FROM __ext_modules))"""

# Used by every resolution: the callable definitions, the first parameter of each method (self / cls) with its
# class, and the module-level names another name stands for (imports, and `x = dotted.name` / `x = lambda`
# bound once). Tables kept between links, one row per fact of one file: each row derives from rows of a
# single file (a parameter, its method and its class; an import or an alias and its module; a binding's
# sites), so a link rebuilds the rows of the files it relinks (``__scope``) and of no other, and a full link
# rebuilds them whole. Rebuilt for the whole repository on every link they were ~0.4 s of a one-file edit
# of the standard library. ``{s}`` (an alias) stands for that alias's ``path`` filter.
LOOKUPS = (
    # The module-level binding sites another site of the same name replaces before any function can run: a
    # later site in the same block (`def f` then `f = g`), or a later one at the module's top level (`if c:
    # f = g` then `def f`). What a call from a function reaches through the name is the last of those (sites
    # in different branches of an `if` / `try` are each a meaning). Sites under `global` in a function are
    # not judged: the function may run at any time.
    ("cpg_link_overwritten", ("path", "ast_node_id"), """
WITH RECURSIVE
s AS MATERIALIZED (
    SELECT n.path, n.binding_id, n.ast_node_id FROM py_sym_name_sites n
    WHERE n.role = 'def' AND {s[n]} AND starts_with(n.binding_id, n.path || ':SCOPE:<module>:')
      AND n.binding_id = n.scope_id || ':BIND:' || n.symbol_name
      AND n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)
    QUALIFY count(*) OVER (PARTITION BY n.binding_id) > 1),
a AS MATERIALIZED (SELECT ast_node_id, parent_ast_node_id AS parent, parent_field AS field, span_start_byte,
                          span_end_byte FROM py_ast_nodes SEMI JOIN (SELECT DISTINCT path FROM s) q USING (path)),
up AS (  -- from the site up to its statement: the first node that sits in a body (a target, an alias: 1-4 hops)
    SELECT s.path, s.binding_id, s.ast_node_id AS site, a.parent, a.field, a.span_start_byte, a.span_end_byte, 0 AS hop
    FROM s JOIN a USING (ast_node_id)
    UNION ALL
    SELECT u.path, u.binding_id, u.site, a.parent, a.field, a.span_start_byte, a.span_end_byte, u.hop + 1
    FROM up u JOIN a ON a.ast_node_id = u.parent
    WHERE u.field NOT IN ('body', 'orelse', 'finalbody') AND u.hop < 8),
st AS (SELECT * FROM up WHERE field IN ('body', 'orelse', 'finalbody'))
SELECT DISTINCT x.path, x.site AS ast_node_id FROM st x JOIN st y ON y.binding_id = x.binding_id
 AND y.span_start_byte >= x.span_end_byte
 AND ((y.parent = x.parent AND y.field = x.field) OR y.parent = y.path || ':AST:0')
-- (not `class X(X)`: it extends the X before it, which its bases name; both stay meanings of X)
WHERE y.site NOT IN (SELECT owner_def_id FROM __lk_scope_vrefs b WHERE b.role = 'base'
                     AND b.root_binding_id = y.binding_id)"""),
    ("cpg_link_defs", ("def_id", "qualname", "kind", "path", "parent_def_id", "name", "span_start_byte"), """
SELECT def_id, qualname, kind, path, parent_def_id, name, span_start_byte FROM __lk_cdefs d
WHERE kind IN ('function', 'method', 'class', 'lambda') AND {s[d]}
  AND def_id NOT IN (SELECT ast_node_id FROM cpg_link_overwritten)  -- `def f` then `f = g`: f is g"""),
    # (not a @staticmethod's first parameter: it has no receiver, whatever its name)
    ("cpg_link_self", ("path", "binding_id", "class_qualname", "classmethod"), """
SELECT p.path, p.binding_id, k.qualname AS class_qualname, m.def_id IN (
           SELECT split_part(callsite_id, ':DECORATOR:', 1) FROM __lk_scope_sites c
           WHERE call_kind = 'decorator' AND callee_text = 'classmethod') AS classmethod
FROM __lk_scope_cdefs p JOIN __lk_scope_cdefs m ON m.def_id = p.parent_def_id AND m.kind = 'method'
JOIN __lk_scope_cdefs k ON k.def_id = m.parent_def_id AND k.kind = 'class'
WHERE p.kind = 'parameter' AND p.param_index = 0 AND p.param_kind IN ('posonly', 'pos_or_kw')
  AND m.def_id NOT IN (SELECT split_part(callsite_id, ':DECORATOR:', 1) FROM __lk_scope_sites t
                       WHERE call_kind = 'decorator' AND callee_text = 'staticmethod')
  -- (nor a parameter the method binds again: after `self = B()`, self.go() is B's)
  AND p.binding_id NOT IN (SELECT binding_id FROM __lk_scope_defs GROUP BY ALL HAVING count(*) > 1)"""),
    # the attributes a class's __init__ always stores on the instance: `self.a = ...` (`self.a: T = ...`, `self.a, self.b
    # = ...`) as a statement of __init__'s own body, not under an if / for / with / try nor in a nested function.
    # Such an instance attribute shadows a method or class attribute of that name (_shadowed_keys); a store elsewhere
    # (`if default is not None: self.default = default`, a setter) may never run, and the method stays reachable.
    ("cpg_link_self_stores", ("path", "class_qualname", "attr"), """
SELECT DISTINCT s.path, s.class_qualname, v.attrs[1] AS attr
FROM __lk_scope_vrefs v JOIN cpg_link_self s ON s.binding_id = v.root_binding_id AND NOT s.classmethod AND {s[s]}
JOIN __lk_scope_cdefs m ON m.def_id = v.owner_def_id AND m.kind = 'method' AND m.name = '__init__'
WHERE v.role IN ('attr_instance', 'attr_none', 'attr_store') AND v.item_index = 1"""),
    # `self.a = q` in a method, q one of that method's parameters: `self.a(...)` may call whatever the method's
    # callers pass for q (PASSED_SITES: tornado's `self.callback = callback`, then `self.callback(...)`)
    ("cpg_link_param_stores", ("path", "class_qualname", "attr", "param_binding_id"), """
SELECT DISTINCT s.path, s.class_qualname, v.attrs[1] AS attr, q.binding_id AS param_binding_id
FROM __lk_scope_vrefs v JOIN cpg_link_self s ON s.binding_id = v.root_binding_id AND NOT s.classmethod AND {s[s]}
JOIN py_sym_name_sites u ON u.path = v.path AND u.ast_node_id = v.ast_node_id AND u.role = 'use' AND {s[u]}
JOIN __lk_scope_cdefs q ON q.binding_id = u.binding_id AND q.kind = 'parameter' AND q.parent_def_id = v.owner_def_id
WHERE v.role = 'attr_store'"""),
    # per function with a first positional parameter p: does p never escape (REPLACED)? Bound once, and every use
    # of p a call `p(...)` in the function's own body (none in a nested function). NULL: p has no name site.
    ("cpg_link_plain_first", ("path", "def_id", "plain"), """
WITH fn AS (SELECT f.path, f.def_id, p.binding_id AS param FROM __lk_scope_cdefs f
            JOIN __lk_scope_cdefs p ON p.parent_def_id = f.def_id AND p.kind = 'parameter' AND p.param_index = 0
             AND p.param_kind IN ('posonly', 'pos_or_kw')
            WHERE f.kind = 'function'),
sites_of AS (SELECT binding_id, count(*) FILTER (WHERE role = 'def') AS defs, count(*) FILTER (WHERE role <> 'def') AS uses
             FROM py_sym_name_sites n SEMI JOIN (SELECT param AS binding_id FROM fn) q USING (binding_id)
             WHERE {s[n]} GROUP BY ALL),
called AS (SELECT f.param AS binding_id, count(DISTINCT c.callsite_id) AS n FROM fn f JOIN __lk_scope_sites c
           ON c.callee_root_binding_id = f.param AND c.caller_def_id = f.def_id AND c.callee_kind = 'name' GROUP BY ALL)
SELECT f.path, f.def_id, u.defs = 1 AND u.uses = coalesce(k.n, 0) AS plain
FROM fn f LEFT JOIN sites_of u ON u.binding_id = f.param LEFT JOIN called k ON k.binding_id = f.param"""),
    ("cpg_link_aliases", ("path", "name", "target"), """
WITH RECURSIVE
-- `from x import *` at module level in m: m.n stands for x.n for every name n the star binds (x.__all__ when
-- it is a literal, else x's public module-level names and, recursively, those x binds by its own star
-- imports); not for a name m binds itself. The last star import that binds n wins, as at runtime.
mods AS (SELECT qualname AS module, path FROM __lk_cdefs WHERE kind = 'module'),
stars AS (SELECT i.path, m.module AS importer, i.imported_module AS source, i.lineno
          FROM __lk_cimports i JOIN mods m USING (path)
          WHERE i.is_star AND i.imported_module IS NOT NULL AND i.scope_def_id = i.path || ':AST:0'),
need(module) AS (SELECT source FROM stars s WHERE {s[s]}
                 UNION SELECT st.source FROM need n JOIN stars st ON st.importer = n.module),
need_mods AS (SELECT m.* FROM mods m SEMI JOIN need USING (module)),
all_kind AS (SELECT path, bool_or(role = 'export_dynamic') AS dynamic FROM cpg_value_refs SEMI JOIN need_mods USING (path)
             WHERE role IN ('export', 'export_dynamic') GROUP BY path),
-- (a module whose __all__ is computed, numpy's `_core/numeric.py` extending it with umath's names: its literal part
-- and, as for a module without __all__, its public names and what its own star imports bind)
literal_all AS (SELECT path FROM all_kind WHERE NOT dynamic),
star_exports(module, name) AS (
    """ + STAR_EXPORTS.format(mods="need_mods", with_all="literal_all", export_filter="") + """
    UNION  -- a submodule the package's own imports load is an attribute of the package (`from .sub import *`)
    SELECT m.module, split_part(substr(i.imported_module, length(m.module) + 2), '.', 1)
    FROM __lk_cimports i JOIN need_mods m USING (path)
    WHERE starts_with(i.imported_module, m.module || '.') AND i.scope_def_id = i.path || ':AST:0'
      AND i.path NOT IN (SELECT path FROM all_kind)
      AND NOT starts_with(substr(i.imported_module, length(m.module) + 2), '_')
    UNION
    SELECT s.importer, e.name FROM star_exports e JOIN stars s ON s.source = e.module
    WHERE s.importer IN (SELECT module FROM need) AND s.path NOT IN (SELECT path FROM literal_all)
      AND NOT starts_with(e.name, '_')),
back AS (  -- x binds n by importing it from m itself (`from pkg import n` in pkg/x.py, pkg/__init__ star-importing
           -- x after the module that defines n): at runtime the star import rebinds n to the same object
    SELECT m.module, i.local_name AS name, {import_target_i} AS target FROM __lk_cimports i JOIN need_mods m USING (path)
    WHERE i.local_name IS NOT NULL AND i.imported_module IS NOT NULL AND NOT i.is_star
      AND i.scope_def_id = i.path || ':AST:0'),
own AS (  -- the names a star-importing module binds at module level itself
    SELECT d.path, d.name FROM __lk_scope_cdefs d SEMI JOIN (SELECT DISTINCT path FROM stars s WHERE {s[s]}) x USING (path)
    WHERE d.kind IN ('function', 'class', 'variable') AND d.parent_def_id = d.path || ':AST:0'
    UNION SELECT i.path, i.local_name FROM __lk_cimports i SEMI JOIN (SELECT DISTINCT path FROM stars s WHERE {s[s]}) x
    USING (path) WHERE i.scope_def_id = i.path || ':AST:0' AND i.local_name IS NOT NULL),
""" + _GONE + """
-- `x = dotted.name` stands for the name where every other site of x left is a def, a class, an import or such
-- an assignment too (branches of an `if` / `try`: a meaning each); another site (`x = f()`): x means nothing
rebound AS (SELECT n.binding_id FROM __lk_scope_defs n SEMI JOIN (
                     SELECT target_binding_id AS binding_id FROM __lk_scope_vrefs r WHERE role = 'alias'
                 ) v USING (binding_id)
                 WHERE n.ast_node_id NOT IN (SELECT node FROM gone)
                   AND n.ast_node_id NOT IN (SELECT def_id FROM __lk_scope_cdefs d WHERE d.kind IN ('function', 'class'))
                   AND n.ast_node_id NOT IN (SELECT import_id FROM __lk_cimports c WHERE {s[c]})
                   AND n.ast_node_id NOT IN (SELECT target_node_id FROM __lk_scope_vrefs a WHERE a.role = 'alias'
                                               AND a.type_checking_only IS NOT TRUE))
SELECT i.path, m.qualname || '.' || i.local_name AS name, {import_target_i} AS target
FROM __lk_cimports i JOIN __lk_scope_cdefs m ON m.def_id = i.scope_def_id AND m.kind = 'module'
WHERE i.local_name IS NOT NULL AND i.imported_module IS NOT NULL AND NOT i.is_star AND {s[i]}
  AND i.import_id NOT IN (SELECT node FROM gone)
UNION ALL
SELECT v.path, m.qualname || '.' || t.name, coalesce(l.qualname, m.qualname || '.' || v.root || {vsuffix})
FROM __lk_scope_vrefs v JOIN __lk_scope_cdefs m ON m.def_id = v.owner_def_id AND m.kind = 'module'
JOIN __lk_scope_cdefs t ON t.binding_id = v.target_binding_id AND t.kind = 'variable'
LEFT JOIN (SELECT def_id, qualname FROM __lk_cdefs SEMI JOIN (SELECT value_def_id AS def_id FROM __lk_scope_vrefs
                                                              WHERE role = 'alias') a USING (def_id)) l
  ON l.def_id = v.value_def_id  -- (no path filter here: DuckDB 2.0.0 fails on it)
WHERE v.role = 'alias' AND v.type_checking_only IS NOT TRUE AND v.target_binding_id NOT IN (SELECT binding_id FROM rebound)
  AND v.target_node_id NOT IN (SELECT node FROM gone)
UNION ALL  -- PEP 562: `from .x import n` in the module-level `def __getattr__(name)` of m (unittest's lazy
           -- IsolatedAsyncioTestCase, concurrent.futures' executors): m.n is the package's x.n, under the name it is
           -- bound to there and the name it has in x (`from .process import ProcessPoolExecutor as pe`, then
           -- `return pe` for 'ProcessPoolExecutor'; `create as create_queue` for 'create_queue'), when m binds no
           -- such name itself. Only the package's own modules: `from warnings import warn` there (sqlite3's
           -- deprecation path) is no attribute of m.
SELECT i.path, m.qualname || '.' || n.name, {import_target_i}
FROM __lk_cimports i JOIN __lk_scope_cdefs g ON g.def_id = i.scope_def_id AND g.kind = 'function' AND g.name = '__getattr__'
JOIN __lk_scope_cdefs m ON m.def_id = g.parent_def_id AND m.kind = 'module'
CROSS JOIN LATERAL (SELECT DISTINCT unnest([i.local_name, i.imported_name]) AS name) n
WHERE i.local_name IS NOT NULL AND i.imported_module IS NOT NULL AND i.imported_name IS NOT NULL AND NOT i.is_star
  AND starts_with(i.imported_module, CASE WHEN ends_with(i.path, '__init__.py') THEN m.qualname
                                          ELSE regexp_extract(m.qualname, '^(.*)[.][^.]*$', 1) END || '.')
  AND {s[i]} AND i.import_id NOT IN (SELECT node FROM gone)
  AND (i.path, n.name) NOT IN (SELECT (d.path, d.name) FROM __lk_scope_cdefs d WHERE d.parent_def_id = d.path || ':AST:0'
                               AND d.kind IN ('function', 'class', 'variable')
                               UNION SELECT (c.path, c.local_name) FROM __lk_cimports c
                               WHERE c.scope_def_id = c.path || ':AST:0' AND c.local_name IS NOT NULL AND {s[c]})
UNION ALL
SELECT s.path, s.importer || '.' || e.name, s.source || '.' || e.name
FROM stars s JOIN star_exports e ON e.module = s.source
WHERE {s[s]} AND (s.path, e.name) NOT IN (SELECT (path, name) FROM own)
  AND (s.source, e.name, s.importer || '.' || e.name) NOT IN (SELECT (module, name, target) FROM back)
QUALIFY row_number() OVER (PARTITION BY s.path, e.name ORDER BY s.lineno DESC) = 1"""),
)
LOOKUP_TABLES = tuple(name for name, _, _ in LOOKUPS)


class _PathFilter:
    """``{s[alias]}`` in LOOKUPS: that alias's rows of the scope's files (``scoped``), or every row."""

    def __init__(self, scoped: bool):
        self.scoped = scoped

    def __getitem__(self, alias: str) -> str:
        return f"{alias}.path IN (SELECT path FROM __scope)" if self.scoped else "TRUE"


def _refresh_per_file(conn, name: str, body: str, whole: bool) -> None:
    """A table whose every row is one file's (column ``path``), from ``body``: made again from every file (``whole``;
    ``body`` then reads them all), or the rows of the scope's files made again and those of files that left the
    repository dropped (``body`` reads the scope's files)."""
    from resources.duck import run
    if whole:
        run(conn, f"CREATE OR REPLACE TABLE {name} AS {body}")
    else:
        run(conn, f"DELETE FROM {name} WHERE path IN (SELECT path FROM __scope) "
                  "OR path NOT IN (SELECT path FROM cpg_files)")
        run(conn, f"INSERT INTO {name} {body}")


def _lookups(conn, full: bool) -> None:
    """The lookup tables up to date for the files of ``__scope`` (``full``, missing, or of another shape:
    whole), and the temporary names the resolutions read them by."""
    from resources.duck import run, table_columns
    shapes = table_columns(conn, list(LOOKUP_TABLES))
    for name, columns, sql in LOOKUPS:
        whole = full or shapes.get(name) != list(columns)
        body = sql.format(s=_PathFilter(not whole), import_target_i=IMPORT_TARGET.format(i="i"),
                          vsuffix=_suffix("v.attrs"))
        _refresh_per_file(conn, name, body, whole)
    run(conn, "CREATE OR REPLACE TEMP VIEW __lk_defs AS SELECT * FROM cpg_link_defs")
    run(conn, "CREATE OR REPLACE TEMP VIEW __lk_self AS SELECT * FROM cpg_link_self")
    # n: how many targets the name has (bound by alternative imports, `if HAS_EXT: from ._c import T else:
    # from ._py import T`): at runtime one of them, so each alias step divides the confidence by n, as the
    # name's own module does (1/2 each there; an importer's edges summed to 2.0)
    # A name that is a definition and an alias too (`try: from os.path import basename` / `except ImportError:
    # def basename`): its n counts both kinds of meaning, and the walk follows its aliases as well (``mixed``)
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_known AS SELECT DISTINCT qualname FROM cpg_link_defs")
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_aliases AS SELECT a.name, a.target, count(*) OVER (PARTITION BY a.name) "
              "+ coalesce(d.n, 0) AS n, d.n IS NOT NULL AS mixed FROM (SELECT DISTINCT name, target FROM cpg_link_aliases) a "
              "LEFT JOIN (SELECT qualname, count(*) AS n FROM cpg_link_defs GROUP BY qualname) d ON d.qualname = a.name")
    # n: the definitions of the qualname; n_mixed: and its alias targets (a reference from elsewhere: an import
    # of the name, an alias of it), where the local meaning (MEANING) has counted the aliases already
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_alts AS SELECT d.qualname, d.n, d.n + coalesce(a.t, 0) AS n_mixed "
              "FROM (SELECT qualname, count(*) AS n FROM cpg_link_defs GROUP BY qualname) d "
              "LEFT JOIN (SELECT name, count(DISTINCT target) AS t FROM cpg_link_aliases GROUP BY name) a ON a.name = d.qualname "
              "WHERE d.n + coalesce(a.t, 0) > 1")
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_tops AS "
              "SELECT DISTINCT split_part(qualname, '.', 1) AS top FROM __lk_cdefs WHERE kind = 'module'")


# The bindings of the scope's files bound at one site (one `def` site in py_sym_name_sites).
# The attribute an attr_declared / attr_declared_item row of alias {v} declares: a class body's `a: C` binds a (its
# binding names it); a method's `self.a: C = v` binds nothing, its text is a.
_DECLARED_ATTR = ("CASE WHEN {v}.target_binding_id IS NULL THEN {v}.text "
                  "ELSE regexp_extract({v}.target_binding_id, ':BIND:(.*)$', 1) END")

_ONCE_IN_SCOPE = "SELECT binding_id FROM __lk_scope_defs GROUP BY ALL HAVING count(*) = 1"

# Getters decorated `@property` or `@...cached_property` (the spellings PROPERTIES reads; a def_id per getter).
_GETTERS = ("SELECT split_part(callsite_id, ':DECORATOR:', 1) FROM cpg_call_sites WHERE call_kind = 'decorator' "
            "AND (callee_text IN ('property', 'abc.abstractproperty', 'abstractproperty') "
            "OR ends_with(callee_text, 'cached_property'))")

CALL_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
-- f(...) where f is bound once, by `for f in xs` over a name (also in a comprehension): the items of the display xs
-- names (pip's `for option in OPTIONS: option()`), as `xs[k]()` reads them (container); not when xs is bound to a
-- dict display (a loop over a dict yields its keys, and the items are its values)
WITH it AS (
    SELECT v.target_binding_id AS binding_id, v.root, v.root_binding_id AS iter_binding
    FROM __lk_scope_vrefs v
    WHERE v.role = 'iter' AND len(v.attrs) = 0 AND v.root_binding_id IS NOT NULL
      AND v.target_binding_id IN (""" + _ONCE_IN_SCOPE + """)
      AND v.root_binding_id NOT IN (
          SELECT e.target_binding_id FROM __lk_scope_vrefs e
          JOIN py_ast_nodes a ON a.ast_node_id = e.ast_node_id AND a.path = e.path
          JOIN py_ast_nodes d ON d.ast_node_id = a.parent_ast_node_id AND d.path = a.path
          WHERE e.role = 'element' AND d.kind = 'Dict' AND a.path IN (SELECT path FROM __scope)))
SELECT c.callsite_id AS ref_id, c.path, coalesce(it.root, c.callee_root) AS root,
       coalesce(it.iter_binding, c.callee_root_binding_id) AS root_binding_id,
       coalesce(c.callee_attrs, []) AS attrs, NULL::VARCHAR AS lambda_def_id,
       c.callee_kind = 'subscript' OR it.binding_id IS NOT NULL AS container
FROM __lk_scope_sites c
LEFT JOIN it ON it.binding_id = c.callee_root_binding_id AND c.callee_kind = 'name'
WHERE c.callee_kind IN ('name', 'attribute', 'subscript') AND c.callee_root IS NOT NULL
"""

BASE_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
SELECT value_id AS ref_id, path, root, root_binding_id, coalesce(attrs, []) AS attrs, NULL::VARCHAR AS lambda_def_id,
       false AS container
FROM __lk_scope_vrefs WHERE role = 'base' AND root IS NOT NULL
"""

INHERITS = """
INSERT INTO cpg_inherits
SELECT {version}::SMALLINT, v.owner_def_id, v.path, c.qualname, v.item_index, v.text, r.def_id,
       coalesce(r.qualname, v.text), coalesce(r.rule, 'unresolved'), coalesce(r.confidence, 0.0)::FLOAT
FROM __lk_scope_vrefs v
JOIN __lk_cdefs c ON c.def_id = v.owner_def_id
LEFT JOIN (  -- among classes of one qualname (defined twice) the last, as in INSERT_CALLS: every run picks the same;
            -- among equally likely meanings the one the fewest aliases away (abc's `class ABCMeta` in `else:`
            -- over `except ImportError: from _py_abc import ABCMeta`)
    SELECT x.* FROM __lk_res x LEFT JOIN __lk_cdefs d ON d.def_id = x.def_id
    JOIN (SELECT value_id, owner_def_id FROM __lk_scope_vrefs WHERE role = 'base') o
      ON o.value_id = x.ref_id
    WHERE x.def_id IS DISTINCT FROM o.owner_def_id  -- never the class itself (`class X(X)`: the X before it)
    QUALIFY row_number() OVER (PARTITION BY x.ref_id ORDER BY x.confidence DESC, len(x.via), x.qualname, d.path,
                                            d.span_start_byte DESC NULLS LAST) = 1) r
  ON r.ref_id = v.value_id AND (r.kind IS NULL OR r.kind = 'class')
WHERE v.role = 'base'
"""

# A class called: the __init__ its MRO finds (constructor), else the class itself (rule class). Where a class
# defines a name twice (under if / else), the MRO lookups here and below take the last definition, as the
# class body binds it (and every run picks the same one).
CALLABLE = """
SELECT r.ref_id, CASE WHEN r.kind = 'class' AND i.def_id IS NOT NULL THEN 'constructor'
                      WHEN r.kind = 'class' THEN 'class' ELSE r.rule END AS rule,
       r.confidence * CASE WHEN r.kind = 'class' AND i.def_id IS NOT NULL AND NOT i.complete THEN 0.8 ELSE 1.0 END
         AS confidence,
       coalesce(i.def_id, r.def_id) AS def_id, coalesce(i.qualname, r.qualname) AS qualname,
       coalesce(i.path, r.path) AS path, coalesce(i.kind, r.kind) AS kind,
       CASE WHEN i.def_id IS NOT NULL THEN list_append(r.via, i.qualname) ELSE r.via END AS via
FROM {res} r LEFT JOIN __lk_ctor_init i ON r.kind = 'class' AND i.class_def_id = r.def_id
UNION ALL  -- and the __new__ its MRO finds in the repository: it runs first (anyio's Event() returns a backend's
           -- subclass instance from it)
SELECT r.ref_id, 'constructor', r.confidence * CASE WHEN n.complete THEN 1.0 ELSE 0.8 END, n.def_id, n.qualname, n.path,
       n.kind, list_append(r.via, n.qualname)
FROM {res} r JOIN __lk_ctor_new n ON r.kind = 'class' AND n.class_def_id = r.def_id
"""

# Per class of cpg_mro, the __init__ and the __new__ its MRO finds, for CALLABLE: made once per link, after the MRO
# and __lk_gen_init are final (CALLABLE runs eight times a link, and each computed both over every class: 0.2 s of
# CPU in a one-file link on the standard library).
CONSTRUCTORS = """
CREATE OR REPLACE TEMP TABLE __lk_ctor_init AS
SELECT o.class_def_id, x.def_id, x.qualname, x.path, x.kind, o.complete FROM cpg_mro o
JOIN (SELECT parent_def_id AS owner, def_id, qualname, path, kind, span_start_byte FROM __lk_cdefs
      WHERE name = '__init__' AND kind = 'method'
      UNION ALL  -- a class whose decorator generates __init__ (GENERATED_INIT): no definition to point to
      SELECT class_def_id, NULL, NULL, NULL, NULL, NULL FROM __lk_gen_init) x ON x.owner = o.ancestor_def_id
QUALIFY row_number() OVER (PARTITION BY o.class_def_id ORDER BY o.mro_index, x.span_start_byte DESC NULLS LAST) = 1;
CREATE OR REPLACE TEMP TABLE __lk_ctor_new AS
SELECT o.class_def_id, x.def_id, x.qualname, x.path, x.kind, o.complete FROM cpg_mro o
JOIN __lk_cdefs x ON x.parent_def_id = o.ancestor_def_id AND x.name = '__new__' AND x.kind = 'method'
QUALIFY row_number() OVER (PARTITION BY o.class_def_id ORDER BY o.mro_index, x.span_start_byte DESC) = 1
"""

# Classes whose decorator generates an __init__ (@dataclass, attrs' @define / @attr.s / @frozen ...,
# pydantic's dataclass), unless it says init=False: calling such a class (or a subclass that inherits the
# generated __init__) runs no __init__ of the repository, so CALLABLE stops its MRO lookup there (the call's
# edge goes to the class, rule class). An explicit __init__ of the class itself wins (the decorator keeps it).
# The decorator is known by what its call site resolved to: in this link (__lk_res: the scope's) or stored
# (cpg_calls: the other files'); `@dataclass(...)` by its inner call.
GENERATED_INIT = """
CREATE OR REPLACE TEMP TABLE __lk_gen_init AS
WITH makers AS (
    SELECT ref_id AS callsite_id, qualname FROM __lk_res
    UNION ALL SELECT callsite_id, callee_qualname FROM cpg_calls WHERE path NOT IN (SELECT path FROM __scope)),
gen AS (SELECT DISTINCT callsite_id FROM makers WHERE qualname IN (
    'dataclasses.dataclass', 'pydantic.dataclasses.dataclass', 'attr.s', 'attr.attrs', 'attr.attributes',
    'attr.define', 'attr.mutable', 'attr.frozen', 'attr.dataclass', 'attrs.define', 'attrs.mutable', 'attrs.frozen'))
SELECT DISTINCT split_part(d.callsite_id, ':DECORATOR:', 1) AS class_def_id
FROM cpg_call_sites d
JOIN gen g ON g.callsite_id = CASE WHEN d.callee_kind = 'call' THEN d.callee_value_node_id ELSE d.callsite_id END
WHERE d.call_kind = 'decorator'
  AND NOT EXISTS (SELECT 1 FROM cpg_call_args a WHERE a.callsite_id = d.callee_value_node_id AND a.path = d.path
                  AND a.keyword = 'init' AND a.text = 'False')
"""

# super().m() in a method of class K: m as K's MRO finds it after K (0.9: super() follows type(self)'s MRO).
# super(B, self).m(): after B, the class of K's MRO that the name B names (no edge when none does).
# And the MRO after the start class walked as CPython walks it, to the first class that can have m: a class of the
# repository that defines it, a builtin class that has it (__builtin_members, this interpreter's: `<builtin>.
# BaseException.__str__`, the class whose __dict__ holds it), or a class outside the repository that is not a builtin
# (logging.Handler: it may define m). object ends every MRO. A builtin first gives the edge to it (and none to a class
# of the repository later in the MRO: `class R(dict, Mixin)` runs dict.get); an unknown class first leaves the rule
# above as it was (the repository's class after it, at 0.8: the MRO is incomplete). No builtin edge where a subclass
# puts other classes after the caller's class (`class Mixed(Cooperative, B)`: super().__init__() in Cooperative runs
# B.__init__ there, object.__init__ only for a Cooperative alone): which one runs is the instance's class's choice.
_SUPER_SITES = """
FROM __lk_scope_sites c
JOIN __lk_scope_sites s ON s.callsite_id = c.callee_value_node_id AND s.callee_kind = 'name' AND s.callee_root = 'super'
JOIN __lk_cdefs m ON m.def_id = c.caller_def_id AND m.kind = 'method'
LEFT JOIN cpg_call_args a ON a.callsite_id = s.callsite_id AND a.kind = 'positional' AND a.position = 0
LEFT JOIN (SELECT class_def_id, regexp_extract(ancestor_qualname, '[^.]*$') AS name, min(mro_index) AS mro_index
           FROM cpg_mro GROUP BY ALL) after ON after.class_def_id = m.parent_def_id AND after.name = a.root
                                           AND len(a.attrs) = 0
JOIN {mro} o ON o.class_def_id = m.parent_def_id
 AND o.mro_index > CASE WHEN a.arg_id IS NULL THEN 0 ELSE after.mro_index END
"""
SUPER = """
WITH walk AS (
    SELECT c.callsite_id, c.callee_attrs[1] AS method, e.qualname AS target, m.parent_def_id AS class_def_id""" + _SUPER_SITES.format(mro="""(
    SELECT class_def_id, mro_index, ancestor_def_id, ancestor_qualname FROM cpg_mro
    UNION ALL SELECT class_def_id, max(mro_index) + 1, NULL, '<builtin>.object' FROM cpg_mro GROUP BY ALL)""") + """
    LEFT JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = c.callee_attrs[1]
    LEFT JOIN __lk_ext_members e ON o.ancestor_def_id IS NULL AND e.class_qualname = o.ancestor_qualname
                                AND e.name = c.callee_attrs[1]
    WHERE c.callee_kind = 'attribute_of_call' AND len(c.callee_attrs) = 1
      AND s.callee_root_binding_id NOT IN (SELECT binding_id FROM __lk_scope_defs WHERE name = 'super')
      AND (x.def_id IS NOT NULL OR e.qualname IS NOT NULL OR (o.ancestor_def_id IS NULL
           AND o.ancestor_qualname NOT IN (SELECT class_qualname FROM __lk_ext_classes)))
    QUALIFY row_number() OVER (PARTITION BY c.callsite_id ORDER BY o.mro_index) = 1),
repo AS (
    SELECT c.callsite_id AS ref_id, 'super' AS rule, 0.9 * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
           x.def_id, x.qualname, x.path, x.kind, ['super()', x.qualname] AS via""" + _SUPER_SITES.format(mro="cpg_mro") + """
    JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = c.callee_attrs[1]
    WHERE c.callee_kind = 'attribute_of_call' AND len(c.callee_attrs) = 1
      AND s.callee_root_binding_id NOT IN (SELECT binding_id FROM __lk_scope_defs WHERE name = 'super')
    QUALIFY row_number() OVER (PARTITION BY c.callsite_id ORDER BY o.mro_index, x.span_start_byte DESC) = 1),
divergent AS (  -- the callers' classes whose MRO tail a subclass changes (super() there follows the subclass's)
    SELECT DISTINCT p.k AS class_def_id
    FROM (SELECT class_def_id AS s, ancestor_def_id AS k, mro_index AS i FROM cpg_mro
          WHERE mro_index > 0 AND ancestor_def_id IN (SELECT class_def_id FROM walk WHERE target IS NOT NULL)) p
    JOIN cpg_mro st ON st.class_def_id = p.s AND st.mro_index > p.i AND st.ancestor_qualname <> '<builtin>.object'
    LEFT JOIN cpg_mro kt ON kt.class_def_id = p.k AND kt.mro_index = st.mro_index - p.i
    WHERE kt.ancestor_qualname IS DISTINCT FROM st.ancestor_qualname)
SELECT * FROM repo WHERE ref_id NOT IN (SELECT callsite_id FROM walk WHERE target IS NOT NULL)
UNION ALL
SELECT callsite_id, 'super', 0.9, NULL, target, NULL, NULL, ['super()', target]
FROM walk WHERE target IS NOT NULL AND class_def_id NOT IN (SELECT class_def_id FROM divergent)
"""

# m of x.m() (one attribute) along the MRO of a class x is known to be an instance of: the one template of the
# rules below ({method}: the attribute, or '__call__' for x(...): n_attrs 0). {find_class}: how the call site c
# reaches e (a resolution of the call that makes the instance) and the class ({class_def_id}); {confidence}: the
# rule's factor times the resolutions it rests on (x 0.8 when the MRO is incomplete). One row per call, resolution
# and class: two classes that share an __init__ (`X = A` / `X = B` under if / else, then `X().m()`) are two
# classes, each with its own m; one class reached twice (rich's `Table` bound by its class statement and by an
# import of itself: 1.0 and 0.5) is the likeliest way ({order}: as INSERT_CALLS keeps one edge), so every link
# picks the same row.
_METHOD_OF_CLASS = """
SELECT c.callsite_id AS ref_id, '{rule}' AS rule,
       {confidence} * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
       x.def_id, x.qualname, x.path, x.kind, {via} AS via
FROM __lk_sites c
{find_class}
JOIN {mro} o ON o.class_def_id = {class_def_id}
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = {method}
WHERE c.callee_kind = '{callee_kind}' AND len(c.callee_attrs) = {n_attrs}{where}
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, e.ref_id, {class_def_id} ORDER BY o.mro_index,
                                        x.span_start_byte DESC, x.def_id, {order}) = 1
"""

# ({order} of a resolution that has a path (via) / that has none)
_LIKELIEST_CALL = "e.confidence DESC, len(e.via), e.rule, array_to_string(e.via, ' ')"
_LIKELIEST = "e.confidence DESC, e.qualname"


def _bound_once(role: str) -> str:
    """The call's root binding is bound exactly once, and a value ref of ``role`` says by what (the call: one of the
    scope's sites, ``c``; its binding is its file's)."""
    return f"""
  AND c.callee_root_binding_id IN (SELECT binding_id FROM __lk_scope_defs SEMI JOIN (
      SELECT target_binding_id AS binding_id FROM __lk_scope_vrefs WHERE role = '{role}') USING (binding_id)
      GROUP BY ALL HAVING count(*) = 1)"""


# x = call(...): the call site of x's value.
_BOUND_BY_CALL = ("JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'instance' "
                  "AND v.path = c.path")


def _makes_instance(e: str = "e.") -> str:
    """A resolution (columns prefixed ``e``) of a call that makes an instance: a class of the repository (constructor
    or class), or a class of the standard library or a builtin class called (external / builtin, a name the class
    probe found a class or a builtin type: __lk_ext_classes; `seen = set()`, `str(x)`). Not super(): its value is a
    proxy whose attributes are found along another class's MRO (SUPER); nor type(): `type(x)` is x's class, whose
    metaclass may be any subclass of type (`type(member)(v)` on an Enum runs EnumType.__call__). And an open(...) call
    read as the file object's class (rule opened: __lk_makers, OPENED)."""
    return (f"({e}rule IN ('constructor', 'class') OR ({e}rule IN ('external', 'builtin', 'opened') AND {e}qualname IN "
            f"(SELECT class_qualname FROM __lk_ext_classes) AND {e}qualname NOT IN ('<builtin>.super', '<builtin>.type')))")


_MAKES_INSTANCE = _makes_instance()
# The class a resolution e of _MAKES_INSTANCE makes, as ``k`` (LEFT JOIN): the repository's class (the one called, or
# the one the constructor path names before its __init__), none for a class outside the repository (its name, after
# '~', is the class key then); _CLASS_FOUND: the call made one of either.
_OUTSIDE_RULES = "('external', 'builtin', 'opened')"
_CLASS_MADE = ("LEFT JOIN __lk_defs k ON e.rule NOT IN " + _OUTSIDE_RULES + "\n"
               " AND k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END AND k.kind = 'class'")
_CLASS_FOUND = "(k.def_id IS NOT NULL OR e.rule IN " + _OUTSIDE_RULES + ")"


def _method_of_constructed(rule: str, callee_kind: str, constructing_call: str, find_call: str = "",
                           where: str = "", factor: str = "0.9", method: str = "c.callee_attrs[1]",
                           n_attrs: int = 1) -> str:
    """A method of an instance a resolved call constructs: m along the MRO of the class C that call resolves to
    (constructor or class), ``factor`` (0.9: an instance attribute could shadow the method) x the call's
    confidence. ``find_call``: how the call site c reaches the constructing call (its ref_id:
    ``constructing_call``)."""
    return _METHOD_OF_CLASS.format(
        rule=rule, callee_kind=callee_kind, where=where, confidence=f"{factor} * e.confidence", method=method,
        n_attrs=n_attrs, mro="__lk_mro_ext", order=_LIKELIEST_CALL,
        via="[e.qualname, x.qualname]", class_def_id="coalesce(k.def_id, '~' || e.qualname)", find_class=f"""{find_call}
JOIN __lk_makers e ON e.ref_id = {constructing_call} AND """ + _MAKES_INSTANCE + """
 AND NOT ends_with(e.qualname, '.__new__')  -- (one row per class: its __init__, or the class)
-- the class called: the resolution itself (class), or the name resolved before its __init__ was appended to the
-- path (constructor: not the class defining __init__, which may be a base class of the one called); a class of
-- the standard library: its name (__lk_mro_ext has one row for it)
""" + _CLASS_MADE)


def _method_of_returned(callee_kind: str, constructing_call: str, find_call: str = "", where: str = "") -> str:
    """def f() -> C (C | None, Optional[C]): a resolved call of f (not a class) makes an instance of C
    (__lk_returns): m along C's MRO, 0.8 x the call's and the annotation's confidence (rule returns_method)."""
    return _METHOD_OF_CLASS.format(
        rule="returns_method", callee_kind=callee_kind, where=where, confidence="0.8 * e.confidence * t.confidence",
        mro="__lk_mro_ext", order="e.confidence * t.confidence DESC, " + _LIKELIEST_CALL,
        method="c.callee_attrs[1]", n_attrs=1,
        via="[e.qualname, t.qualname, x.qualname]", class_def_id="t.class_def_id", find_class=f"""{find_call}
JOIN __lk_calls e ON e.ref_id = {constructing_call} AND e.rule NOT IN ('constructor', 'class')
JOIN __lk_returns t ON t.fn_def_id = coalesce(e.def_id, '~' || e.qualname)
 AND t.is_async = ({constructing_call} IN (SELECT callsite_id FROM __lk_awaited))""")


# The receivers x of the scope's x.m() calls that only constructor calls bind: every binding site of x is
# `x = C(...)` (or `x = A() if c else B()`) whose call resolves to a class. n: how many such calls (networkx:
# `G = nx.DiGraph()` under `if`, `G = nx.Graph()` under `else`: x is made by one of the n, each call's
# resolutions sharing its part as they share the call's confidence).
INSTANCE_BINDINGS = """
CREATE OR REPLACE TEMP TABLE __lk_inst AS
WITH roots AS (SELECT DISTINCT callee_root_binding_id AS binding_id FROM __lk_sites
               WHERE callee_root_binding_id IS NOT NULL AND (
                   (callee_kind = 'attribute' AND len(callee_attrs) = 1)
                   -- x(...) that no rule resolved yet: x may be an instance of a class with __call__
                   OR (callee_kind = 'name' AND callsite_id NOT IN (SELECT ref_id FROM __lk_calls)))),
sites AS (SELECT n.binding_id, n.ast_node_id, n.path FROM __lk_scope_defs n SEMI JOIN roots USING (binding_id)
          WHERE n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)),
made AS (SELECT s.binding_id, v.ast_node_id AS call_id, e.ref_id
         FROM sites s LEFT JOIN __lk_scope_vrefs v ON v.target_node_id = s.ast_node_id AND v.path = s.path
          AND v.role = 'instance'
         LEFT JOIN __lk_makers e ON e.ref_id = v.ast_node_id AND """ + _MAKES_INSTANCE + """
          AND v.ast_node_id NOT IN (SELECT callsite_id FROM __lk_awaited))  -- (`await C()`: not a C)
SELECT binding_id, count(DISTINCT call_id) AS n FROM made GROUP BY binding_id HAVING bool_and(ref_id IS NOT NULL)
"""
# `m = x.m` binding m once, then `m(...)`: the call as `x.m(...)` for the rules that find the class of x from how x
# is bound (instance_method, annotation, iterated, returns_method; attribute_instance for `m = self.a.m`), which read
# the scope's call sites through __lk_sites: a bound method kept in a local name (rich's `append = text.append`,
# `get_style = console.get_style`: 49 executed calls of pip's vendored rich had no edge). Same call site, so the
# edge and its wiring are the call's (the receiver: the name m, which holds the bound method, as for `x(...)`).
# The other rules read cpg_call_sites as it is: `f = json.dumps` is MEANING's alias, `m = self.m` its self_method.
# Likewise `t = x.a` bound once, then `t.m()`: the call as `x.a.m()` (rich's `theme = self.theme;
# theme.get_background_style()`, 17 executed sites without an edge in session AF's trial).
ALIAS_SITES = """
CREATE OR REPLACE TEMP TABLE __lk_alias_sites AS
WITH a AS (SELECT v.path, v.target_binding_id AS binding_id, v.root, v.root_binding_id, v.attrs
           FROM __lk_scope_vrefs v
           WHERE v.role = 'alias' AND len(v.attrs) >= 1 AND v.root_binding_id IS NOT NULL AND v.value_def_id IS NULL
             AND v.type_checking_only IS NOT TRUE AND v.target_binding_id IN (""" + _ONCE_IN_SCOPE + """)),
-- (one level further: `theme = self.theme; style = theme.get_style; style(k)` is `self.theme.get_style(k)`)
chained AS (SELECT a.path, a.binding_id, coalesce(b.root, a.root) AS root,
                   coalesce(b.root_binding_id, a.root_binding_id) AS root_binding_id, coalesce(b.attrs, []) || a.attrs AS attrs
            FROM a LEFT JOIN a b ON b.binding_id = a.root_binding_id AND b.path = a.path)
SELECT c.* REPLACE ('attribute' AS callee_kind, v.root AS callee_root, v.root_binding_id AS callee_root_binding_id,
                    v.attrs || coalesce(c.callee_attrs, []) AS callee_attrs)
FROM __lk_scope_sites c
JOIN chained v ON v.binding_id = c.callee_root_binding_id AND v.path = c.path
WHERE c.callee_kind IN ('name', 'attribute') AND c.call_kind = 'call';
"""
# what the rules read as the scope's call sites: ``__lk_sites``, made by ``_link`` (a table, or a view in a full link)
SITES = "SELECT * FROM __lk_scope_sites UNION ALL SELECT * FROM __lk_alias_sites"
# x = C(...) (every binding site of x a constructor call), then x.m(): 1/n for n constructor calls.
INSTANCE = _method_of_constructed("instance_method", "attribute", "v.ast_node_id",
                                  _BOUND_BY_CALL + " JOIN __lk_inst i ON i.binding_id = c.callee_root_binding_id",
                                  factor="0.9 / i.n")
# x = C(...) (the same bindings), then x(...): C's __call__, looked up on the type (an instance attribute cannot
# shadow a special method): 1/n.
# (Not a decorator `@x`: its wiring would need the decorated function as the argument.)
INSTANCE_CALL = _method_of_constructed("instance_call", "name", "v.ast_node_id",
                                       _BOUND_BY_CALL + " JOIN __lk_inst i ON i.binding_id = c.callee_root_binding_id",
                                       where=" AND c.call_kind <> 'decorator'", factor="1.0 / i.n",
                                       method="'__call__'", n_attrs=0)
# The bindings of {bindings} that only constructor calls bind (``inst``: n, how many calls), and for each call the
# class resolution (``made``: the call's constructor / class edge, made by this link for the scope's files, as stored
# for the others): every binding site is `x = C(...)` (or `x = A() if c else B()`, not `await C()`), not under
# `if TYPE_CHECKING:`, not replaced by a later site before any function runs (cpg_link_overwritten).
# {defs} / {vrefs}: the binding sites and value refs to read (of the bindings' files, or all); {ctor}: the
# constructor edges (the scope's, __lk_calls, with the stored ones of the other files).
_MADE_BY_CONSTRUCTORS_OF = """sites AS (SELECT n.binding_id, n.ast_node_id, n.path FROM {defs} n
          SEMI JOIN ({bindings}) b USING (binding_id)
          WHERE n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)
            AND n.ast_node_id NOT IN (SELECT ast_node_id FROM cpg_link_overwritten)),
ctor AS {ctor},
made AS (SELECT s.binding_id, r.ast_node_id AS call_id, e.rule, e.confidence, e.qualname, e.via
         FROM sites s LEFT JOIN {vrefs} r ON r.target_node_id = s.ast_node_id AND r.path = s.path
          AND r.role = 'instance' AND r.ast_node_id NOT IN (SELECT callsite_id FROM __lk_awaited)
         LEFT JOIN ctor e ON e.ref_id = r.ast_node_id AND NOT ends_with(e.qualname, '.__new__')),
inst AS (SELECT binding_id, count(DISTINCT call_id) AS n FROM made GROUP BY binding_id
         HAVING bool_and(rule IS NOT NULL))"""
_CTOR_EDGES = _CALL_EDGES.format(where="rule IN ('constructor', 'class')")
_MADE_BY_CONSTRUCTORS = _MADE_BY_CONSTRUCTORS_OF.format(
    defs="(SELECT * FROM py_sym_name_sites WHERE role = 'def')", vrefs="cpg_value_refs", ctor=_CTOR_EDGES,
    bindings="{bindings}")
# x.m() / x(...) where x names, through imports and re-exports (the call's walk: __lk_walk of CALL_REFS), a
# module-level variable of the repository that only constructor calls bind (`app = Flask()` in app.py, then
# `from app import app; app.route(...)`; rich's `from .color import STANDARD_PALETTE`): as instance_method /
# instance_call with x's own file, the constructor calls resolved by this link (their file in the scope) or as
# stored (another file), the walk's confidence times theirs, 1/n.
# (the variables first, into a temporary table: most scopes' calls reach none, and the rest of the statement reads
# every `def` binding site and constructor edge of the repository, ~50 ms of an edit's link)
IMPORTED_VARS = r"""
CREATE OR REPLACE TEMP TABLE __lk_imp_vars AS
WITH w AS (
    SELECT w.ref_id, w.confidence, w.via, c.callee_kind, c.callee_attrs,
           CASE WHEN c.callee_kind = 'name' THEN w.name ELSE regexp_replace(w.name, '\.[^.]*$', '') END AS var
    FROM __lk_walk w JOIN cpg_call_sites c ON c.callsite_id = w.ref_id
    WHERE w.hop >= 0 AND w.rule IN ('import', 'alias', 'star_import')
      AND ((c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1)
           OR (c.callee_kind = 'name' AND c.call_kind <> 'decorator')))
SELECT DISTINCT w.*, d.binding_id AS var_binding FROM w JOIN cpg_definitions d ON d.qualname = w.var
 AND d.kind = 'variable' AND d.parent_def_id = d.path || ':AST:0'
"""
IMPORTED_INSTANCE = r"""
SELECT ref_id, rule, sum(confidence) AS confidence, def_id, qualname, path, kind,
       arg_min(via, array_to_string(via, ' ')) AS via FROM (
WITH v AS (SELECT * FROM __lk_imp_vars),
""" + _MADE_BY_CONSTRUCTORS.format(bindings="SELECT DISTINCT var_binding AS binding_id FROM v") + r"""
SELECT v.ref_id, CASE WHEN v.callee_kind = 'name' THEN 'instance_call' ELSE 'instance_method' END AS rule,
       CASE WHEN v.callee_kind = 'name' THEN 1.0 ELSE 0.9 END * v.confidence * e.confidence / i.n
         * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
       x.def_id, x.qualname, x.path, x.kind, list_concat(v.via, [e.qualname, x.qualname]) AS via
FROM v JOIN inst i ON i.binding_id = v.var_binding
JOIN made e ON e.binding_id = v.var_binding
JOIN __lk_defs k ON k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END AND k.kind = 'class'
JOIN cpg_mro o ON o.class_def_id = k.def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname)
 AND x.name = CASE WHEN v.callee_kind = 'name' THEN '__call__' ELSE v.callee_attrs[1] END
QUALIFY row_number() OVER (PARTITION BY v.ref_id, e.call_id, k.def_id ORDER BY o.mro_index, x.span_start_byte DESC,
                                        x.def_id, v.confidence DESC, e.confidence DESC,
                                        array_to_string(v.via, ' ')) = 1
) GROUP BY ref_id, rule, def_id, qualname, path, kind
"""
# A bound method of an instance passed as an argument (`b = Box(2); apply(b.scale, 4)`, then `fn(value)` in apply):
# the argument refs of __lk_refs (PASSED_REFS) whose root only constructor calls bind, resolved as instance_method
# resolves `b.scale()`: the method along each class's MRO, 0.9 / n.
PASSED_INSTANCE = r"""
INSERT INTO __lk_passed_res
WITH refs AS (SELECT * FROM __lk_refs WHERE len(attrs) = 1 AND root_binding_id IS NOT NULL AND lambda_def_id IS NULL),
""" + _MADE_BY_CONSTRUCTORS_OF.format(bindings="SELECT DISTINCT root_binding_id AS binding_id FROM refs",
                                      defs="__lk_need_defsites", vrefs="__lk_need_vrefs", ctor=_CTOR_EDGES) + r"""
SELECT r.ref_id, 'instance_method' AS rule, 0.9 * e.confidence / i.n * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END,
       x.def_id, x.qualname, x.path, x.kind, [e.qualname, x.qualname]
FROM refs r JOIN inst i ON i.binding_id = r.root_binding_id
JOIN made e ON e.binding_id = r.root_binding_id
JOIN __lk_defs k ON k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END AND k.kind = 'class'
JOIN cpg_mro o ON o.class_def_id = k.def_id
JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = r.attrs[1]
WHERE r.ref_id NOT IN (SELECT ref_id FROM __lk_passed_res WHERE def_id IS NOT NULL)
QUALIFY row_number() OVER (PARTITION BY r.ref_id, e.call_id, k.def_id ORDER BY o.mro_index, x.span_start_byte DESC,
                                        x.def_id, e.confidence DESC) = 1
"""
# The scope's `self.m(...)` calls where m is an instance attribute (_shadowed_keys): the resolver gave them no
# self_method edge; no override (SUBCLASS_CALLS) nor class-attribute edge (CLASS_ATTRIBUTE_REFS) either.
SHADOWED = "CREATE OR REPLACE TEMP TABLE __lk_shadowed AS " + _shadowed_keys(
    """SELECT c.callsite_id AS key, c.callee_root_binding_id AS binding_id, c.callee_attrs[1] AS attr
    FROM __lk_scope_sites c WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1""")

# `self.x(...)` / `cls.x(...)` in a method of class K that no rule resolved, where the first class of K's MRO that
# binds x binds it in its body, once, by `x = dotted.name` (Flask's `response_class = Response`, `url_map_class =
# Map`; then `self.response_class(...)`): the name's value, resolved in that class's module, when it is a class
# (then its constructor, as for any call of a class) or outside the repository (external). 0.9: a subclass may bind
# x again (as self_method). A function there would be called bound (self first): not followed. ('class_attribute'
# is a label here only: CALLABLE names a class's rows constructor / class.)
CLASS_ATTRIBUTE_REFS = r"""
CREATE OR REPLACE TEMP TABLE __lk_refs AS
WITH c AS (SELECT c.callsite_id, c.callee_attrs[1] AS name, k.def_id AS class_def_id
           FROM __lk_scope_sites c
           JOIN __lk_self p ON p.binding_id = c.callee_root_binding_id
           JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class'
           WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1
             AND c.callsite_id NOT IN (SELECT ref_id FROM __lk_calls)),
bound AS (  -- what binds the name in each class of K's MRO: a def / class statement, or a class-body assignment
    SELECT c.callsite_id, o.mro_index, 'def' AS how, NULL AS value_id
    FROM c JOIN cpg_mro o ON o.class_def_id = c.class_def_id
    JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = c.name
    UNION ALL
    SELECT c.callsite_id, o.mro_index, v.role, v.value_id
    FROM c JOIN cpg_mro o ON o.class_def_id = c.class_def_id
    JOIN cpg_value_refs v ON v.owner_def_id = o.ancestor_def_id AND v.role IN ('alias', 'instance', 'none', 'element')
     AND regexp_extract(v.target_binding_id, ':BIND:(.*)$', 1) = c.name AND v.type_checking_only IS NOT TRUE
    UNION ALL  -- an instance attribute __init__ always stores (`self.factory = f`) shadows the class attribute
    SELECT c.callsite_id, -1, 'store', NULL FROM c JOIN __lk_shadowed s ON s.key = c.callsite_id),
first AS (SELECT * FROM bound QUALIFY rank() OVER (PARTITION BY callsite_id ORDER BY mro_index) = 1)
SELECT f.callsite_id AS ref_id, v.path, v.root, v.root_binding_id, coalesce(v.attrs, []) AS attrs,
       NULL::VARCHAR AS lambda_def_id, false AS container
FROM first f JOIN cpg_value_refs v ON v.value_id = f.value_id
WHERE f.how = 'alias' AND v.root IS NOT NULL AND v.value_def_id IS NULL
  AND f.callsite_id NOT IN (SELECT callsite_id FROM first GROUP BY ALL HAVING count(*) > 1)
"""
CLASS_ATTRIBUTE = CALLABLE.format(res="""(
    SELECT ref_id, CASE WHEN kind IS NULL THEN 'external' ELSE 'class_attribute' END AS rule, 0.9 * confidence AS confidence,
           def_id, qualname, path, kind, via FROM __lk_res WHERE kind = 'class' OR (kind IS NULL AND rule = 'external'))""")

# The scope's `x.a.m()` calls and the class K each says x is an instance of (ATTRIBUTE_INSTANCE): x is `self` (K its
# method's class), a parameter declared `p: K`, bound by constructor calls (__lk_attr_recv), or by a call of a
# function declared `-> K`.
ATTRIBUTE_CALLS = r"""
CREATE OR REPLACE TEMP TABLE __lk_attr_calls AS
SELECT c.callsite_id, c.callee_attrs[1] AS attr, c.callee_attrs[2] AS method, k.def_id AS class_def_id,
       1.0 AS known, [] AS known_via, true AS own
FROM __lk_sites c
JOIN __lk_self p ON p.binding_id = c.callee_root_binding_id AND NOT p.classmethod
JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class'
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 2
UNION ALL  -- p.a.m() on a parameter declared `p: K` and bound nowhere else: K as the annotation rule has it
SELECT c.callsite_id, c.callee_attrs[1], c.callee_attrs[2], e.def_id, 0.8 * e.confidence, [e.qualname], false
FROM __lk_sites c
JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'annotation'
 AND v.path = c.path
JOIN __lk_declared e ON e.ref_id = v.value_id
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 2""" + _bound_once("annotation") + r"""
UNION ALL  -- x.a.m() where only constructor calls bind x (x = C(...)): each class, 0.9 / n
SELECT c.callsite_id, c.callee_attrs[1], c.callee_attrs[2], r.class_def_id, r.known, [r.qualname], false
FROM __lk_sites c
JOIN __lk_attr_recv r ON r.binding_id = c.callee_root_binding_id
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 2
UNION ALL  -- x.a.m() where x is bound once, by `x = f(...)` with f declared `-> K` (as returns_method: 0.8;
           -- jinja2's `frame = self.frame.inner()`, then `frame.symbols.ref(...)`)
SELECT c.callsite_id, c.callee_attrs[1], c.callee_attrs[2], t.class_def_id,
       0.8 * e.confidence * t.confidence, [e.qualname, t.qualname], false
FROM __lk_sites c
JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'instance'
 AND v.path = c.path
JOIN __lk_calls e ON e.ref_id = v.ast_node_id AND e.rule NOT IN ('constructor', 'class')
JOIN __lk_returns t ON t.fn_def_id = e.def_id
 AND t.is_async = (v.ast_node_id IN (SELECT callsite_id FROM __lk_awaited))
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 2""" + _bound_once("instance") + r"""
"""
# `self.a.m()` in a method of class K (not a classmethod's `cls`), where every store of `a` the classes of K's MRO
# make (`self.a = ...` in their methods, `a = ...` in their bodies; `self.a = None` aside) is a call that resolves
# to a class (constructor or class), none of them a descriptor (its MRO defines __get__), and no class of the MRO
# defines `a` by a def / class statement: m along each class's MRO, 0.8 / n for n such calls (a subclass, or code
# outside the class, may store something else). Werkzeug's `self._matcher = StateMachineMatcher(...)` then
# `self._matcher.add(rule)`. Also `p.a.m()` on a parameter declared `p: K` (0.8 x the annotation's resolution, as
# the annotation rule; after it, which makes __lk_declared), and `x.a.m()` where `x = K(...)` (0.9 / n, as
# instance_method: __lk_attr_recv).
# Where a class of K's MRO declares `a: C` in its body (attr_declared), or defines `a` as a property getter declared
# `-> C`, the first such declaration types `a`, whatever the stores (0.8 x its resolution).
# attribute_literal: where every such store (None aside) is a literal or display of one builtin type instead (`self.a =
# []` in __init__, cpg_value_refs attr_literal; `a = ()` in a class body, literal), and nothing declares `a`: that
# type's method, `<builtin>.list.append` (0.8 x the receiver's, as attribute_instance).
_ATTRIBUTE_INSTANCE = r""",
mro AS (SELECT c.*, o.ancestor_def_id, a.qualname AS ancestor_qualname, o.mro_index FROM c
        JOIN cpg_mro o ON o.class_def_id = c.class_def_id JOIN __lk_defs a ON a.def_id = o.ancestor_def_id),
decl AS (  -- the first class of the MRO that declares `a: C` in its body, C a class of the repository: a C, whatever
           -- the stores (a dataclass's field, jinja2's `left: Expr` set through setattr)
    SELECT * EXCLUDE (mro_index, value_id) FROM (
        SELECT m.callsite_id, m.class_def_id, d.def_id AS decl_class_def_id, d.confidence, d.qualname, m.mro_index,
               v.value_id
        FROM mro m JOIN cpg_value_refs v ON v.owner_def_id = m.ancestor_def_id AND v.role = 'attr_declared'
         AND """ + _DECLARED_ATTR.format(v="v") + r""" = m.attr
        JOIN __lk_declared d ON d.ref_id = v.value_id
        UNION ALL  -- or a property getter of that name declared `-> C` (jinja2's `Environment.lexer`)
        SELECT m.callsite_id, m.class_def_id, d.def_id, d.confidence, d.qualname, m.mro_index, v.value_id
        FROM mro m JOIN __lk_defs x ON x.parent_def_id = m.ancestor_def_id AND x.name = m.attr
        JOIN cpg_value_refs v ON v.owner_def_id = x.def_id AND v.role = 'returns'
        JOIN __lk_declared d ON d.ref_id = v.value_id
        WHERE x.def_id IN (""" + _GETTERS + r"""))
    QUALIFY row_number() OVER (PARTITION BY callsite_id, class_def_id ORDER BY mro_index, value_id) = 1),
stores AS (  -- (lit: the builtin type a class body's `a = []` binds; for attribute_literal only)
    SELECT m.callsite_id, m.own, v.role, v.ast_node_id AS call_id, v.path, NULL::VARCHAR AS lit
    FROM mro m JOIN __lk_self s ON s.class_qualname = m.ancestor_qualname AND NOT s.classmethod
    JOIN cpg_value_refs v ON v.root_binding_id = s.binding_id AND v.attrs[1] = m.attr
     AND v.role IN ('attr_instance', 'attr_none', 'attr_store')
    UNION ALL
    SELECT m.callsite_id, m.own, CASE v.role WHEN 'instance' THEN 'attr_instance' WHEN 'none' THEN 'attr_none'
                                             ELSE 'attr_store' END, v.ast_node_id, v.path, NULL
    FROM mro m JOIN cpg_value_refs v ON v.owner_def_id = m.ancestor_def_id
     AND v.role IN ('alias', 'instance', 'none', 'element') AND regexp_extract(v.target_binding_id, ':BIND:(.*)$', 1) = m.attr
    UNION ALL
    SELECT m.callsite_id, m.own, 'attr_store', NULL, NULL, NULL FROM mro m
    JOIN __lk_defs x ON x.parent_def_id = m.ancestor_def_id AND x.name = m.attr
    UNION ALL
    SELECT m.callsite_id, m.own, 'body_literal', v.ast_node_id, v.path, v.text
    FROM mro m JOIN cpg_value_refs v ON v.owner_def_id = m.ancestor_def_id AND v.role = 'literal'
     AND regexp_extract(v.target_binding_id, ':BIND:(.*)$', 1) = m.attr),
ctor AS """ + _CALL_EDGES.format(where=_makes_instance("")) + r""",
typed AS (  -- the class of what each store stores: a constructor call's class (a standard-library class called:
            -- its name, __lk_mro_ext's one row; `self.cmd_opts = optparse.OptionGroup(...)`)
    SELECT s.callsite_id, s.call_id, e.confidence, e.qualname, coalesce(k.def_id, '~' || e.qualname) AS class_def_id
    FROM stores s JOIN ctor e ON e.ref_id = s.call_id AND NOT ends_with(e.qualname, '.__new__')
    """ + _CLASS_MADE + r"""
    WHERE s.role = 'attr_instance' AND """ + _CLASS_FOUND + r"""
    -- and, for self's own class (whose MRO's files this link resolves: the ancestors of the scope's classes are in
    -- the scope), a call of `def f() -> C` (as returns_method: 0.8; not an `async def`, whose call is a coroutine)
    UNION ALL
    SELECT s.callsite_id, s.call_id, 0.8 * e.confidence * t.confidence, t.qualname, t.class_def_id
    FROM stores s JOIN __lk_calls e ON e.ref_id = s.call_id AND e.rule NOT IN ('constructor', 'class')
    JOIN __lk_returns t ON t.fn_def_id = coalesce(e.def_id, '~' || e.qualname) AND NOT t.is_async
    WHERE s.role = 'attr_instance' AND s.own
    -- or a parameter declared `p: C` and bound nowhere else (`self.stream = stream`; as annotation: 0.8), also in a
    -- class of another file (`def use(k: K): k.a.m()`, jinja2's `self.environment.policies`)
    UNION ALL
    SELECT s.callsite_id, s.call_id, 0.8 * d.confidence, d.qualname, d.def_id
    FROM stores s JOIN py_sym_name_sites u ON u.ast_node_id = s.call_id AND u.path = s.path AND u.role = 'use'
    JOIN cpg_value_refs a ON a.target_binding_id = u.binding_id AND a.role = 'annotation' AND a.path = s.path
    JOIN __lk_declared d ON d.ref_id = a.value_id
    WHERE s.role = 'attr_store'  -- (another file's class too: STORED_PARAM_REFS resolved its annotations)
      AND u.binding_id IN (SELECT binding_id FROM py_sym_name_sites SEMI JOIN (SELECT DISTINCT path FROM stores) q USING (path)
                           WHERE role = 'def' GROUP BY ALL HAVING count(*) = 1)),
made AS (SELECT s.callsite_id, s.call_id, t.confidence, t.qualname, t.class_def_id,
                t.class_def_id IN (SELECT o.class_def_id FROM cpg_mro o JOIN __lk_defs g
                                   ON g.parent_def_id = o.ancestor_def_id AND g.name = '__get__') AS descriptor
         FROM stores s LEFT JOIN typed t ON t.callsite_id = s.callsite_id AND t.call_id = s.call_id
         WHERE s.role NOT IN ('attr_none', 'body_literal')),
inst AS (SELECT callsite_id, count(DISTINCT call_id) AS n FROM made GROUP BY ALL
         HAVING bool_and(class_def_id IS NOT NULL) AND NOT bool_or(descriptor)),
lit AS (  -- attribute_literal: every store (None aside) a literal or display of one builtin type, `self.a = []`
    SELECT s.callsite_id, min(coalesce(s.lit, l.text)) AS type
    FROM stores s LEFT JOIN cpg_value_refs l ON s.role = 'attr_store' AND l.role = 'attr_literal'
     AND l.ast_node_id = s.call_id AND l.path = s.path
    WHERE s.role <> 'attr_none' GROUP BY ALL
    HAVING bool_and(coalesce(s.lit, l.text) IS NOT NULL) AND count(DISTINCT coalesce(s.lit, l.text)) = 1)
SELECT c.callsite_id AS ref_id, 'attribute_instance' AS rule,
       0.8 * c.known * e.confidence / i.n * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
       x.def_id, x.qualname, x.path, x.kind, list_concat(c.known_via, [e.qualname, x.qualname]) AS via
FROM c JOIN inst i USING (callsite_id) JOIN made e USING (callsite_id)
JOIN __lk_mro_ext o ON o.class_def_id = e.class_def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = c.method
WHERE (c.callsite_id, c.class_def_id) NOT IN (SELECT (callsite_id, class_def_id) FROM decl)
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, e.call_id, e.class_def_id ORDER BY o.mro_index,
                                        x.span_start_byte DESC, x.def_id) = 1
UNION ALL  -- declared: m along the declared class's MRO, 0.8 x the declaration's resolution (as annotation)
SELECT c.callsite_id, 'attribute_instance', 0.8 * c.known * e.confidence * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END,
       x.def_id, x.qualname, x.path, x.kind, list_concat(c.known_via, [e.qualname, x.qualname])
FROM c JOIN decl e USING (callsite_id, class_def_id)
JOIN __lk_mro_ext o ON o.class_def_id = e.decl_class_def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = c.method
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, c.class_def_id ORDER BY o.mro_index, x.span_start_byte DESC,
                                        x.def_id) = 1
UNION ALL  -- attribute_literal: the builtin type's method (`self.a = []`, then `self.a.append(x)`), 0.8 x the receiver's
SELECT c.callsite_id, 'attribute_literal', 0.8 * max(c.known), NULL, '<builtin>.' || lm.owner || '.' || c.method, NULL,
       NULL, list_concat(arg_max(c.known_via, c.known), ['<builtin>.' || t.type, '<builtin>.' || lm.owner || '.' || c.method])
FROM c JOIN lit t USING (callsite_id) JOIN __builtin_members lm ON lm.type = t.type AND lm.name = c.method
WHERE (c.callsite_id, c.class_def_id) NOT IN (SELECT (callsite_id, class_def_id) FROM decl)
GROUP BY c.callsite_id, t.type, lm.owner, c.method
"""


def _attribute_instance(calls: str) -> str:
    """The attribute_instance edges of the x.a.m() calls of ``calls`` (a table shaped as __lk_attr_calls)."""
    return f"WITH c AS (SELECT * FROM {calls})" + _ATTRIBUTE_INSTANCE


ATTRIBUTE_INSTANCE = _attribute_instance("__lk_attr_calls")

# The receivers x of the scope's x.a.m() calls that only constructor calls bind, with each class (ATTRIBUTE_INSTANCE).
ATTRIBUTE_RECEIVERS = r"""
CREATE OR REPLACE TEMP TABLE __lk_attr_recv AS
WITH roots AS (SELECT DISTINCT callee_root_binding_id AS binding_id FROM __lk_sites
               WHERE callee_kind = 'attribute' AND len(callee_attrs) = 2 AND callee_root_binding_id IS NOT NULL),
""" + _MADE_BY_CONSTRUCTORS_OF.format(  # (the scope's bindings: their constructor calls are the scope's too)
    bindings="SELECT binding_id FROM roots", defs="__lk_scope_defs", vrefs="__lk_scope_vrefs",
    ctor="(SELECT ref_id, rule, confidence, def_id, qualname, via FROM __lk_calls "
         "WHERE rule IN ('constructor', 'class'))") + r"""
SELECT e.binding_id, k.def_id AS class_def_id, 0.9 * e.confidence / i.n AS known, e.qualname
FROM made e JOIN inst i USING (binding_id)
JOIN __lk_defs k ON k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END AND k.kind = 'class'
"""
# `type(self)(...)` in a method of class K (the builtin type, one argument: a method's receiver): the instance's
# class, as `self.__class__(...)` (self_method, 0.9; then its constructor).
TYPE_OF_SELF = CALLABLE.format(res="""(
    SELECT c.callsite_id AS ref_id, 'self_method' AS rule, 0.9 AS confidence, k.def_id, k.qualname, k.path, k.kind,
           [k.qualname] AS via
    FROM __lk_scope_sites c
    JOIN cpg_call_sites t ON t.callsite_id = c.callee_value_node_id AND t.callee_kind = 'name' AND t.n_positional = 1
     AND len(coalesce(t.keyword_names, [])) = 0 AND NOT t.has_star_args AND NOT t.has_star_kwargs
    JOIN __lk_calls b ON b.ref_id = t.callsite_id AND b.qualname = '<builtin>.type'
    JOIN cpg_call_args a ON a.callsite_id = t.callsite_id AND a.kind = 'positional' AND a.position = 0
     AND len(coalesce(a.attrs, [])) = 0
    JOIN __lk_self p ON p.binding_id = a.root_binding_id AND NOT p.classmethod
    JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class'
    WHERE c.callee_kind = 'call' AND c.callsite_id NOT IN (SELECT ref_id FROM __lk_calls))""")
# C(...).m(): the inner call is the callee's value.
RESULT_METHOD = _method_of_constructed("result_method", "attribute_of_call", "c.callee_value_node_id")
# Methods of builtin types, one statement for two rules (__builtin_members: the callables dir() gives; `"a".nope()` is
# no edge). `literal` (1.0): "sep".join(xs), [].append(x), {}.get(k), f"...".format(): the receiver is a literal or
# display, whose type is exactly the builtin type (CPython makes no subclass for it, and a builtin type's methods cannot
# be replaced). `literal_bound` (0.9, as `instance_method`: a module's global can be replaced from outside it): x.m()
# where every binding site of x is a literal or display of one builtin type (cpg_value_refs role `literal`); any
# other binding site (`x += y`, a loop, a parameter, an import, `x = f()`) gives no edge.
# Names every binding site of which (``{sites}``: binding_id, ast_node_id, path) is a literal or display of one
# builtin type, or a `*args` / `**kwargs` parameter (``{vrefs}``' literal rows: text the type): binding_id, type.
_LITERAL_TYPED = """SELECT s.binding_id, min(v.text) AS type FROM {sites} s
          LEFT JOIN {vrefs} v ON v.target_node_id = s.ast_node_id AND v.path = s.path AND v.role = 'literal'
          GROUP BY s.binding_id HAVING bool_and(v.text IS NOT NULL) AND count(DISTINCT v.text) = 1"""
LITERAL_METHODS = """
WITH roots AS (SELECT DISTINCT callee_root_binding_id AS binding_id FROM __lk_sites
               WHERE callee_kind = 'attribute' AND len(callee_attrs) = 1 AND callee_root_binding_id IS NOT NULL
                 AND callsite_id NOT IN (SELECT ref_id FROM __lk_calls)),
sites AS (SELECT n.binding_id, n.ast_node_id, n.path FROM __lk_scope_defs n SEMI JOIN roots USING (binding_id)
          WHERE n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)),
typed AS (""" + _LITERAL_TYPED.format(sites="sites", vrefs="__lk_scope_vrefs") + """),
recv AS (SELECT c.callsite_id, c.callee_attrs[1] AS method, c.callee_literal_type AS type, 'literal' AS rule,
                1.0 AS confidence, '<builtin>.' || c.callee_literal_type AS first
         FROM __lk_scope_sites c
         WHERE c.callee_kind = 'attribute_of_other' AND len(c.callee_attrs) = 1 AND c.callee_literal_type IS NOT NULL
         UNION ALL
         SELECT c.callsite_id, c.callee_attrs[1], t.type, 'literal_bound', 0.9, c.callee_root
         FROM __lk_sites c JOIN typed t ON t.binding_id = c.callee_root_binding_id
         WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1)
SELECT r.callsite_id AS ref_id, r.rule, r.confidence, NULL AS def_id, '<builtin>.' || m.owner || '.' || r.method AS qualname,
       NULL AS path, NULL AS kind, [r.first, '<builtin>.' || m.owner || '.' || r.method] AS via
FROM recv r JOIN __builtin_members m ON m.type = r.type AND m.name = r.method
WHERE r.callsite_id NOT IN (SELECT ref_id FROM __lk_calls)"""


# Annotations the link reads as "an instance of C" (value refs of role annotation / returns: a dotted name,
# C | None, Optional[C]), as refs to resolve. Under `from __future__ import annotations` an annotation is never
# evaluated, so symtable binds none of its names: its root is then looked up among the module's own names
# (where typing.get_type_hints evaluates it; pandas imports most of its annotation classes under
# `if TYPE_CHECKING:`). {where}: which refs.
_DECLARED_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
WITH v AS (SELECT * FROM cpg_value_refs WHERE root IS NOT NULL AND {where})
SELECT v.value_id AS ref_id, v.path, v.root, coalesce(v.root_binding_id, g.binding_id) AS root_binding_id,
       coalesce(v.attrs, []) AS attrs, NULL::VARCHAR AS lambda_def_id, false AS container
FROM v LEFT JOIN (SELECT b.path, b.name, b.binding_id FROM py_sym_bindings b
                  SEMI JOIN (SELECT DISTINCT path FROM v) p USING (path)
                  JOIN py_sym_scopes s ON s.scope_id = b.scope_id AND s.scope_type = 'MODULE') g
  ON v.root_binding_id IS NULL AND g.path = v.path AND g.name = v.root
"""
# The resolved annotations that name a class (one per ref): of the repository, or one outside it whose attributes
# the link knows (__lk_ext_classes: a builtin, `x: str`, or a standard-library class the probe read, `p:
# optparse.OptionParser`), as its name after '~' (as __lk_mro_ext has it). Not the typing constructs and abstract
# collections (`f: IO[str]`, `m: Mapping`): no runtime object is an instance of typing.IO, and a dict's get is not
# Mapping.get.
_DECLARED_CLASSES = r"""
SELECT * REPLACE (coalesce(def_id, '~' || qualname) AS def_id) FROM __lk_res
WHERE kind = 'class' OR (def_id IS NULL AND qualname IN (SELECT class_qualname FROM __lk_ext_classes)
                         AND NOT regexp_matches(qualname, '^(typing|typing_extensions|collections\.abc|_collections_abc)\.'))
QUALIFY row_number() OVER (PARTITION BY ref_id ORDER BY confidence DESC, qualname) = 1
"""

# p.m() where p is a parameter declared `p: C` and bound nowhere else: m along the MRO of the class the
# annotation resolves to (__lk_declared), 0.8 x its resolution (an annotation is a declaration the caller may
# break, and a subclass instance may override m: precision first, no edge to overrides here).
ANNOTATION_REFS = _DECLARED_REFS.format(where="""(role IN ('annotation', 'annotation_item') AND path IN (SELECT path FROM __scope))
  -- (and the item declarations of the attributes the scope's `for x in self.a` loops walk, in the classes of the
  -- loops' MROs: ITERATED_ATTR)
  OR (role = 'attr_declared_item' AND owner_def_id IN (
      SELECT o.ancestor_def_id FROM cpg_value_refs i JOIN __lk_self p ON p.binding_id = i.root_binding_id
      JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class' JOIN cpg_mro o ON o.class_def_id = k.def_id
      WHERE i.role = 'iter' AND len(i.attrs) = 1 AND i.path IN (SELECT path FROM __scope)))""")
DECLARED = f"CREATE OR REPLACE TEMP TABLE __lk_declared AS SELECT ref_id, def_id, qualname, confidence FROM ({_DECLARED_CLASSES})"
# The annotations of the parameters that the classes of those classes' MROs store as the attributes called
# (`def __init__(self, a: A): self.a = a`, then `k.a.m()` elsewhere): resolved here when the class is outside the
# scope (the scope's own are in __lk_declared already). ``__lk_declared`` gets them (STORED_PARAM_DECLARED).
# And the classes' declarations of those attributes (`a: C` in a class body: attr_declared), and the return
# annotations of the property getters of that name (`@property def a(self) -> C`).
STORED_PARAM_REFS = _DECLARED_REFS.format(where="""value_id NOT IN (SELECT ref_id FROM __lk_declared) AND (
  (role = 'annotation' AND target_binding_id IN (
    SELECT s.param_binding_id FROM cpg_link_param_stores s JOIN (
        SELECT DISTINCT a.qualname, c.attr FROM __lk_attr_calls c JOIN cpg_mro o ON o.class_def_id = c.class_def_id
        JOIN __lk_defs a ON a.def_id = o.ancestor_def_id) w ON w.qualname = s.class_qualname AND w.attr = s.attr))
  OR (role = 'attr_declared' AND (owner_def_id, """ + _DECLARED_ATTR.format(v="cpg_value_refs") + """) IN (
    SELECT (o.ancestor_def_id, c.attr) FROM __lk_attr_calls c JOIN cpg_mro o ON o.class_def_id = c.class_def_id))
  OR (role = 'returns' AND owner_def_id IN (
    SELECT x.def_id FROM __lk_attr_calls c JOIN cpg_mro o ON o.class_def_id = c.class_def_id
    JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = c.attr
    WHERE x.def_id IN (""" + _GETTERS + """))))""")
STORED_PARAM_DECLARED = f"INSERT INTO __lk_declared SELECT ref_id, def_id, qualname, confidence FROM ({_DECLARED_CLASSES})"
ANNOTATED = _METHOD_OF_CLASS.format(mro="__lk_mro_ext", order=_LIKELIEST,
    rule="annotation", callee_kind="attribute", where=_bound_once("annotation"), confidence="0.8 * e.confidence",
    method="c.callee_attrs[1]", n_attrs=1,
    via="[e.qualname, x.qualname]", class_def_id="e.def_id", find_class="""
JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'annotation' AND v.path = c.path
JOIN __lk_declared e ON e.ref_id = v.value_id""")

# def f() -> C: the return annotations of the callees the calls so far reach (in any file); then x = f(...)
# bound once, x.m(), and f(...).m().
# (and of every __enter__ of the repository: what `with C() as x` binds, WITH_BINDINGS)
RETURNS_REFS = _DECLARED_REFS.format(where="role IN ('returns', 'returns_item', 'returns_tuple') AND (owner_def_id IN (SELECT def_id FROM "
                                           "__lk_calls) OR owner_def_id IN (SELECT def_id FROM __lk_cdefs WHERE name = "
                                           "'__enter__' AND kind = 'method'))")
# is_async: an `async def` (CO_COROUTINE): a call of it makes a coroutine, and `await` of that call gives the C.
# (the items': also an async generator function, CO_ASYNC_GENERATOR: its call can be neither iterated nor unpacked)
def _returns_table(name: str, role: str, flags: int, place: str = "") -> str:
    """The resolved classes of the value refs of ``role`` (a function's return annotation), one row per function
    (and ``place``), into the temporary table ``name``; is_async from the code unit's ``flags``."""
    return f"""-- rows from: __lk_res
CREATE OR REPLACE TEMP TABLE {name} AS
SELECT v.owner_def_id AS fn_def_id, {place}r.def_id AS class_def_id, r.qualname, r.confidence,
       coalesce((u.flags & {flags}) <> 0, false) AS is_async
FROM ({_DECLARED_CLASSES}) r JOIN cpg_value_refs v ON v.value_id = r.ref_id AND v.role = '{role}'
LEFT JOIN cpg_definitions d ON d.def_id = v.owner_def_id LEFT JOIN py_bc_code_units u ON u.code_unit_id = d.code_unit_id"""


RETURNS = ";\n".join([_returns_table("__lk_returns", "returns", 128),
                       _returns_table("__lk_returns_item", "returns_item", 640),
                       _returns_table("__lk_returns_tuple", "returns_tuple", 128, "v.item_index, ")]) + "\n"
# `a, b = f(...)` (a bound by that statement alone) where f is declared `-> tuple[A, B]` (__lk_returns_tuple: the
# class of each place), or `-> list[C]` / `Iterator[C]` / `tuple[C, ...]` (__lk_returns_item: every place a C; not
# for an async def, whose call is a coroutine or an async generator), then a.m(): m along A's MRO (rule unpacked),
# 0.8 x the call's and the annotation's confidence, as returns_method (a declaration the function may break). For
# an `async def f -> tuple[A, B]`, the call awaited.
UNPACKED = _METHOD_OF_CLASS.format(
    rule="unpacked", callee_kind="attribute", where=_bound_once("unpack"), confidence="0.8 * e.confidence * t.confidence",
    mro="__lk_mro_ext", order="e.confidence * t.confidence DESC, " + _LIKELIEST_CALL, method="c.callee_attrs[1]",
    n_attrs=1, via="[e.qualname, t.qualname, x.qualname]", class_def_id="t.class_def_id", find_class="""
JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'unpack' AND v.path = c.path
JOIN __lk_calls e ON e.ref_id = v.ast_node_id AND e.rule NOT IN ('constructor', 'class')
JOIN (SELECT fn_def_id, item_index, class_def_id, qualname, confidence, is_async FROM __lk_returns_tuple
      UNION ALL
      SELECT fn_def_id, NULL, class_def_id, qualname, confidence, is_async FROM __lk_returns_item) t
  ON t.fn_def_id = e.def_id AND coalesce(t.item_index, v.item_index) = v.item_index
 AND t.is_async = (t.item_index IS NOT NULL AND v.ast_node_id IN (SELECT callsite_id FROM __lk_awaited))""")
# `for x in f(...)` (x bound by that loop alone, also in a comprehension) where f is declared `-> list[C]` (or
# Iterable[C], Iterator[C], Sequence[C], Generator[C, ...], tuple[C, ...]: __lk_returns_item), then x.m(): m along
# C's MRO (rule iterated), 0.8 x the call's and the annotation's confidence (as returns_method: a declaration the
# function may break). click's `for param in self.get_params(ctx): param.add_to_parser(...)`.
_ITER_BY = """
JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.role = 'iter' AND v.path = c.path"""
ITERATED_CALL = _METHOD_OF_CLASS.format(mro="__lk_mro_ext", order=_LIKELIEST,
    rule="iterated", callee_kind="attribute", where=_bound_once("iter"), confidence="0.8 * e.confidence",
    method="c.callee_attrs[1]", n_attrs=1, via="[e.qualname, x.qualname]", class_def_id="e.def_id",
    find_class=_ITER_BY + """
JOIN (SELECT k.ref_id, r.class_def_id AS def_id, k.confidence * r.confidence AS confidence, r.qualname
      FROM __lk_calls k JOIN __lk_returns_item r ON r.fn_def_id = k.def_id
      WHERE k.rule NOT IN ('constructor', 'class')) e ON e.ref_id = v.ast_node_id""")
# ... and `for x in xs` where xs is a parameter declared `xs: list[C]` (the same generics) and bound nowhere else:
# 0.8 x the annotation's resolution (as the annotation rule).
ITERATED_PARAM = _METHOD_OF_CLASS.format(mro="__lk_mro_ext", order=_LIKELIEST,
    rule="iterated", callee_kind="attribute", confidence="0.8 * e.confidence",
    where=_bound_once("iter") + """
  AND v.root_binding_id IN (SELECT binding_id FROM __lk_scope_defs SEMI JOIN (
      SELECT target_binding_id AS binding_id FROM __lk_scope_vrefs WHERE role = 'annotation_item') USING (binding_id)
      GROUP BY ALL HAVING count(*) = 1)""",
    method="c.callee_attrs[1]", n_attrs=1, via="[e.qualname, x.qualname]", class_def_id="e.def_id",
    find_class=_ITER_BY + """ AND len(v.attrs) = 0
JOIN __lk_scope_vrefs a ON a.target_binding_id = v.root_binding_id AND a.role = 'annotation_item' AND a.path = c.path
JOIN __lk_declared e ON e.ref_id = a.value_id""")
# `for x in self.a` (x bound by that loop alone) in a method of K, where the first class of K's MRO that declares a
# declares it a container of C (`a: list[C]` in its body, `self.a: List["C"] = ...` in a method: attr_declared_item;
# the same generics as for `iterated`): x.m() reaches m along C's MRO (rule iterated, 0.8 x the declaration's
# resolution). rich's `for line in self._lines: line.truncate(...)`.
ITERATED_ATTR = _METHOD_OF_CLASS.format(mro="__lk_mro_ext", order=_LIKELIEST,
    rule="iterated", callee_kind="attribute", where=_bound_once("iter"), confidence="0.8 * e.confidence",
    method="c.callee_attrs[1]", n_attrs=1, via="[e.qualname, x.qualname]", class_def_id="e.def_id",
    find_class=_ITER_BY + """ AND len(v.attrs) = 1
JOIN __lk_self p ON p.binding_id = v.root_binding_id AND NOT p.classmethod
JOIN __lk_defs k ON k.qualname = p.class_qualname AND k.kind = 'class'
JOIN (SELECT a.k_id, a.attr, d.ref_id, d.def_id, d.confidence, d.qualname FROM (
          SELECT o.class_def_id AS k_id, o.mro_index, w.value_id,
                 """ + _DECLARED_ATTR.format(v="w") + """ AS attr
          FROM cpg_mro o JOIN cpg_value_refs w ON w.owner_def_id = o.ancestor_def_id AND w.role = 'attr_declared_item') a
      JOIN __lk_declared d ON d.ref_id = a.value_id
      QUALIFY row_number() OVER (PARTITION BY a.k_id, a.attr ORDER BY a.mro_index, a.value_id) = 1) e
  ON e.k_id = k.def_id AND e.attr = v.attrs[1]""")

# The scope's calls that are the operand of `await`.
AWAITED = """
CREATE OR REPLACE TEMP TABLE __lk_awaited AS
SELECT c.callsite_id FROM __lk_scope_sites c
JOIN py_ast_nodes a ON a.ast_node_id = c.ast_node_id AND a.path = c.path
JOIN (SELECT ast_node_id, path FROM py_ast_nodes SEMI JOIN __scope USING (path) WHERE kind = 'Await') w
  ON w.ast_node_id = a.parent_ast_node_id AND w.path = a.path  -- (the scope's: else a hash table of every node)
WHERE c.call_kind = 'call'
"""
# A function of the repository with no return annotation that returns instances of one class C: every `return v`
# returns a constructor call of C (`return C(...)`) or a name that only constructor calls of C bind (`g = C(...)`,
# then `return g`), or None; and it is no generator. Its calls make a C as if it were declared `-> C` (__lk_returns,
# the constructor call's confidence as the annotation's: then x = f(); x.m() and f().m() are returns_method edges).
# argparse's `group = parser.add_mutually_exclusive_group()` (`group = _MutuallyExclusiveGroup(...); return group`),
# then `group.add_argument(...)`. A declared return wins; a second class, or any other returned value, gives nothing,
# and so does `return cls()` (or `self.__class__(...)`): on a subclass it makes an instance of the subclass.
INFERRED_RETURNS = r"""
CREATE OR REPLACE TEMP TABLE __lk_ret_fns AS
SELECT DISTINCT def_id FROM __lk_calls WHERE rule NOT IN ('constructor', 'class') AND def_id IS NOT NULL
EXCEPT SELECT fn_def_id FROM __lk_returns EXCEPT SELECT def_id FROM __lk_ret_seen;
INSERT INTO __lk_ret_seen SELECT def_id FROM __lk_ret_fns;
-- rows from: __lk_ret_fns
INSERT INTO __lk_returns
WITH rets AS (  -- (each read restricted to the files it can match: an edit's link has few functions to look into)
    SELECT v.owner_def_id AS fn_def_id, v.value_id, v.ast_node_id, v.root_binding_id, v.root, v.attrs, v.text
    FROM cpg_value_refs v
    WHERE v.role = 'return' AND v.path IN (SELECT DISTINCT split_part(def_id, ':AST:', 1) FROM __lk_ret_fns)
      AND v.owner_def_id IN (SELECT def_id FROM __lk_ret_fns)),
named AS (SELECT DISTINCT root_binding_id AS binding_id FROM rets WHERE root IS NOT NULL AND len(coalesce(attrs, [])) = 0),
sites AS (SELECT n.binding_id, n.ast_node_id, n.path FROM py_sym_name_sites n
          WHERE n.role = 'def' AND n.path IN (SELECT DISTINCT split_part(binding_id, ':SCOPE:', 1) FROM named)
            AND n.binding_id IN (SELECT binding_id FROM named)
            AND n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)
            AND n.ast_node_id NOT IN (SELECT ast_node_id FROM cpg_link_overwritten)),
made AS (SELECT s.binding_id, r.ast_node_id AS call_id FROM sites s
         LEFT JOIN (SELECT * FROM cpg_value_refs WHERE role = 'instance' AND path IN (SELECT DISTINCT path FROM sites)) r
           ON r.target_node_id = s.ast_node_id AND r.path = s.path),
calls AS (SELECT value_id, ast_node_id AS call_id FROM rets WHERE root IS NULL  -- (a returned call's value node: its
          UNION ALL                                                               -- call site)
          SELECT r.value_id, m.call_id FROM rets r JOIN made m ON m.binding_id = r.root_binding_id
          WHERE len(coalesce(r.attrs, [])) = 0),
ctor AS (SELECT ref_id, rule, confidence, qualname, via FROM __lk_calls
         WHERE rule IN ('constructor', 'class') AND ref_id IN (SELECT call_id FROM calls)
         UNION ALL
         SELECT callsite_id, rule, confidence, callee_qualname, via FROM cpg_calls
         WHERE rule IN ('constructor', 'class') AND callsite_id IN (SELECT call_id FROM calls)
           AND path NOT IN (SELECT path FROM __scope)),
own AS (  -- cls(...), self.__class__(...), type(self)(...): the class of the receiver, a subclass on a subclass's
          -- call (Sub.create() returns a Sub): not one class, so not read as one
    SELECT callsite_id FROM cpg_call_sites
    WHERE path IN (SELECT DISTINCT split_part(call_id, ':AST:', 1) FROM calls) AND callsite_id IN (SELECT call_id FROM calls)
      AND (callee_kind = 'call' OR callee_root_binding_id IN (SELECT binding_id FROM __lk_self))),
typed AS (SELECT c.value_id, k.def_id AS class_def_id, k.qualname, e.confidence FROM calls c
          LEFT JOIN ctor e ON e.ref_id = c.call_id AND NOT ends_with(e.qualname, '.__new__')
           AND c.call_id NOT IN (SELECT callsite_id FROM own)
          LEFT JOIN __lk_defs k ON k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END
           AND k.kind = 'class'),
per_ret AS (SELECT r.fn_def_id, r.root IS NULL AND r.text = 'None' AS is_none,
                   bool_and(t.class_def_id IS NOT NULL) AS typed, count(DISTINCT t.class_def_id) AS n,
                   any_value(t.class_def_id) AS class_def_id, any_value(t.qualname) AS qualname,
                   min(t.confidence) AS confidence
            FROM rets r LEFT JOIN typed t USING (value_id) GROUP BY ALL)
SELECT p.fn_def_id, any_value(p.class_def_id) FILTER (WHERE NOT p.is_none),
       any_value(p.qualname) FILTER (WHERE NOT p.is_none), min(p.confidence) FILTER (WHERE NOT p.is_none),
       coalesce((any_value(u.flags) & 128) <> 0, false)
FROM per_ret p LEFT JOIN cpg_definitions d ON d.def_id = p.fn_def_id
LEFT JOIN py_bc_code_units u ON u.code_unit_id = d.code_unit_id
GROUP BY p.fn_def_id
HAVING bool_and(p.is_none OR (p.typed AND p.n = 1))
   AND count(DISTINCT p.class_def_id) FILTER (WHERE NOT p.is_none) = 1
   AND coalesce(any_value(u.flags) & 544, 0) = 0  -- (CO_GENERATOR, CO_ASYNC_GENERATOR: a call makes a generator)
"""
# `with C(...) as x` (x bound by that statement alone), then x.m(): x is what C's __enter__ (along C's MRO) returns:
# C itself when that __enter__ is the repository's and every `return` of it returns `self`, or when it is a builtin
# or standard-library class's whose stub declares `-> Self` (zipfile.ZipFile, tarfile.TarFile); else the class its
# return annotation or stub declares (__lk_returns; tempfile.TemporaryDirectory's is a str). m along that class's
# MRO (rule context_manager): 0.9 x the call's confidence (as instance_method) when it is C, 0.8 x the call's and
# the declaration's when declared (as returns_method). C: a class of the repository, the standard library or the
# builtins called (as for instance_method).
# open(...) (builtins' or io's): the class of the file object, by the mode and buffering as CPython's io.open
# documents them (a string literal mode, or none: "r"): text -> TextIOWrapper; binary -> BufferedRandom with '+',
# BufferedReader for reading, BufferedWriter for writing, FileIO with buffering=0. A mode that is not a literal, or a
# *args / **kwargs argument: no class.
OPENED = r"""
CREATE OR REPLACE TEMP TABLE __lk_opened AS
WITH calls AS (SELECT DISTINCT ref_id AS callsite_id FROM __lk_calls WHERE qualname IN ('<builtin>.open', 'io.open')),
a AS (SELECT c.callsite_id, bool_or(a.kind IN ('star', 'starstar')) AS opaque,
             any_value(a.text) FILTER (WHERE (a.kind = 'positional' AND a.position = 1) OR a.keyword = 'mode') AS mode,
             any_value(a.text) FILTER (WHERE (a.kind = 'positional' AND a.position = 2) OR a.keyword = 'buffering')
               AS buffering
      FROM calls c LEFT JOIN cpg_call_args a USING (callsite_id) GROUP BY ALL),
m AS (SELECT callsite_id, buffering,
             CASE WHEN mode IS NULL THEN 'r' ELSE regexp_extract(mode, '^[''"]([rwaxbt+]+)[''"]$', 1) END AS mode
      FROM a WHERE NOT coalesce(opaque, false))
SELECT callsite_id, '_io.' || CASE WHEN NOT contains(mode, 'b') THEN 'TextIOWrapper'
                                   WHEN buffering = '0' THEN 'FileIO'
                                   WHEN contains(mode, '+') THEN 'BufferedRandom'
                                   WHEN contains(mode, 'r') THEN 'BufferedReader'
                                   ELSE 'BufferedWriter' END AS class_qualname
FROM m WHERE mode <> ''
"""
# What the instance rules read as the resolutions of the calls that make instances: __lk_calls, and each open(...) call
# as making its file object's class (rule opened; never stored: only these rules read it).
MAKERS = """
CREATE OR REPLACE TEMP VIEW __lk_makers AS
SELECT * FROM __lk_calls
UNION ALL
SELECT o.callsite_id, 'opened', e.confidence, NULL, o.class_qualname, NULL, NULL, list_append(e.via, o.class_qualname)
FROM __lk_opened o JOIN __lk_calls e ON e.ref_id = o.callsite_id AND e.qualname IN ('<builtin>.open', 'io.open')
"""
_OPENED_CLASSES = ("_io.TextIOWrapper", "_io.FileIO", "_io.BufferedRandom", "_io.BufferedReader", "_io.BufferedWriter")
WITH_BINDINGS = r"""
CREATE OR REPLACE TEMP TABLE __lk_with AS
WITH w AS (SELECT v.target_binding_id AS binding_id, v.ast_node_id AS call_id FROM __lk_scope_vrefs v
           WHERE v.role = 'with' AND v.target_binding_id IN (""" + _ONCE_IN_SCOPE + r""")
             AND v.target_binding_id NOT IN (SELECT target_binding_id FROM __lk_scope_vrefs
                                             WHERE role <> 'with' AND target_binding_id IS NOT NULL)),
made AS (SELECT w.binding_id, e.confidence, e.qualname, coalesce(k.def_id, '~' || e.qualname) AS class_key,
                coalesce(k.qualname, e.qualname) AS class_qualname
         FROM w JOIN __lk_calls e ON e.ref_id = w.call_id AND """ + _MAKES_INSTANCE + r"""
          AND NOT ends_with(e.qualname, '.__new__')
         """ + _CLASS_MADE + r"""
         WHERE """ + _CLASS_FOUND + r"""
         UNION ALL  -- `with open(p) as f`: the file object's class (OPENED)
         SELECT w.binding_id, e.confidence, e.qualname, '~' || o.class_qualname, o.class_qualname
         FROM w JOIN __lk_calls e ON e.ref_id = w.call_id AND e.qualname IN ('<builtin>.open', 'io.open')
         JOIN __lk_opened o ON o.callsite_id = w.call_id
         WHERE o.class_qualname IN (SELECT class_qualname FROM __lk_ext_classes)),
enter AS (SELECT m.*, x.def_id AS enter_def_id, x.qualname AS enter_qualname
          FROM made m JOIN __lk_mro_ext o ON o.class_def_id = m.class_key
          JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname)
           AND x.name = '__enter__'
          -- (one class reached twice, rich's `Live` bound by its class statement and an import of itself: the
          -- likelier route, as the instance rules)
          QUALIFY row_number() OVER (PARTITION BY m.binding_id, m.class_key
                                     ORDER BY o.mro_index, x.span_start_byte DESC, x.def_id, m.confidence DESC,
                                              m.qualname) = 1),
returns_self AS (SELECT owner_def_id FROM cpg_value_refs
                 WHERE role = 'return' AND owner_def_id IN (SELECT enter_def_id FROM enter)
                 -- (coalesce: a `return Conn()` has no root, and bool_and would skip its NULL)
                 GROUP BY ALL HAVING bool_and(coalesce(root = 'self' AND len(attrs) = 0, false))),
typed AS (
    SELECT n.binding_id, n.class_key, n.class_qualname, 0.9 * n.confidence AS confidence,
           [n.qualname, n.enter_qualname] AS via
    FROM enter n
    WHERE n.enter_def_id IN (SELECT owner_def_id FROM returns_self)
       OR (n.enter_def_id IS NULL AND EXISTS (SELECT 1 FROM __lk_returns t WHERE t.fn_def_id = '~' || n.enter_qualname
                                              AND t.qualname = regexp_replace(n.enter_qualname, '\.[^.]*$', '')))
    UNION ALL
    SELECT n.binding_id, t.class_def_id, t.qualname, 0.8 * n.confidence * t.confidence,
           [n.qualname, n.enter_qualname, t.qualname]
    FROM enter n JOIN __lk_returns t ON t.fn_def_id = coalesce(n.enter_def_id, '~' || n.enter_qualname) AND NOT t.is_async
    WHERE n.enter_def_id NOT IN (SELECT owner_def_id FROM returns_self)
      AND t.qualname IS DISTINCT FROM regexp_replace(n.enter_qualname, '\.[^.]*$', ''))
SELECT * FROM typed
"""
WITH_METHODS = """
SELECT c.callsite_id AS ref_id, 'context_manager' AS rule, w.confidence * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END,
       x.def_id, x.qualname, x.path, x.kind, list_append(w.via, x.qualname)
FROM __lk_sites c JOIN __lk_with w ON w.binding_id = c.callee_root_binding_id
JOIN __lk_mro_ext o ON o.class_def_id = w.class_key
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = c.callee_attrs[1]
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, w.class_key ORDER BY o.mro_index, x.span_start_byte DESC,
                                        x.def_id, w.confidence DESC) = 1
"""
RETURNED_INSTANCE = _method_of_returned("attribute", "v.ast_node_id", _BOUND_BY_CALL, _bound_once("instance") + """
  AND c.callee_root_binding_id NOT IN (SELECT target_binding_id FROM __lk_scope_vrefs WHERE role = 'instance'
                                       GROUP BY ALL HAVING count(*) > 1)""")
RETURNED_RESULT = _method_of_returned("attribute_of_call", "c.callee_value_node_id")
# A second pass, after ATTRIBUTE_INSTANCE (which runs after the first, and reads __lk_returns): the return annotations
# of the methods it reached, then the two rules for the calls it and the first pass typed whose outer call has no
# edge yet (jinja2's `self.stream.look().test(...)`, `f().look().test()`).
_LATE = " AND e.rule IN ('attribute_instance', 'returns_method') AND c.callsite_id NOT IN (SELECT ref_id FROM __lk_calls)"
RETURNS_REFS_LATE = _DECLARED_REFS.format(
    where="role = 'returns' AND (owner_def_id IN (SELECT def_id FROM __lk_calls WHERE rule IN ('attribute_instance', "
          "'returns_method')) OR owner_def_id IN (SELECT def_id FROM __lk_rebound_cand)) "
          "AND owner_def_id NOT IN (SELECT fn_def_id FROM __lk_returns)")
RETURNS_LATE = RETURNS.split(";\n")[0].replace("CREATE OR REPLACE TEMP TABLE __lk_returns AS", "INSERT INTO __lk_returns")
RETURNED_INSTANCE_LATE = _method_of_returned("attribute", "v.ast_node_id", _BOUND_BY_CALL, _bound_once("instance") + """
  AND c.callee_root_binding_id NOT IN (SELECT target_binding_id FROM __lk_scope_vrefs WHERE role = 'instance'
                                       GROUP BY ALL HAVING count(*) > 1)""" + _LATE)
RETURNED_RESULT_LATE = _method_of_returned("attribute_of_call", "c.callee_value_node_id", where=_LATE)

# A name bound more than once where every binding gives the same class C: a parameter declared `p: C`, `x = C(...)`,
# `x = f(...)` with f declared `-> C`, or `x = x.m(...)` with the m C's MRO finds declared `-> C` (rich's
# `measurement = measurement.clamp(...)`, `text: Text` then `text = text.copy()`; jinja2's `frame: Frame` then
# `frame = frame.inner()`): whatever runs, x is a C, so x.m() reaches m along C's MRO (rule same_class, 0.8 x the
# least confident binding). A binding of another kind (a loop, `x = None`, an untyped call) or a second class: no
# edge. In three steps: the bindings and what types each (__lk_rebound), the class and the methods the `x =
# x.m(...)` bindings call (__lk_rebound_cand, whose return annotations RETURNS_REFS_LATE resolves), the edges.
REBOUND_SITES = r"""
CREATE OR REPLACE TEMP TABLE __lk_rebound AS
WITH recv AS (SELECT DISTINCT callee_root_binding_id AS binding_id FROM __lk_sites
              WHERE callee_kind = 'attribute' AND len(callee_attrs) = 1 AND callee_root_binding_id IS NOT NULL
                AND callsite_id NOT IN (SELECT ref_id FROM __lk_calls)),
sites AS (SELECT n.binding_id, n.ast_node_id, n.path FROM __lk_scope_defs n SEMI JOIN recv USING (binding_id)
          WHERE n.ast_node_id NOT IN (SELECT def_id FROM __lk_dead)
          QUALIFY count(*) OVER (PARTITION BY n.binding_id) > 1),
annotated AS (SELECT s.binding_id, s.ast_node_id, e.def_id AS class_def_id, e.confidence, NULL::VARCHAR AS call_id,
                     NULL::VARCHAR AS method
              FROM sites s JOIN __lk_scope_vrefs v ON v.target_node_id = s.ast_node_id AND v.path = s.path
               AND v.role = 'annotation'
              JOIN __lk_declared e ON e.ref_id = v.value_id),
calls AS (SELECT s.binding_id, s.ast_node_id, v.ast_node_id AS call_id FROM sites s
          JOIN __lk_scope_vrefs v ON v.target_node_id = s.ast_node_id AND v.path = s.path AND v.role = 'instance'
          WHERE v.ast_node_id NOT IN (SELECT callsite_id FROM __lk_awaited)),
made AS (  -- (a class outside the repository: its name after '~', as __lk_mro_ext has it)
    SELECT c.binding_id, c.ast_node_id, coalesce(k.def_id, '~' || e.qualname), e.confidence, c.call_id, NULL FROM calls c
    JOIN __lk_calls e ON e.ref_id = c.call_id AND """ + _MAKES_INSTANCE + r""" AND NOT ends_with(e.qualname, '.__new__')
    """ + _CLASS_MADE + r"""
    WHERE """ + _CLASS_FOUND + r"""
    UNION ALL
    SELECT c.binding_id, c.ast_node_id, t.class_def_id, e.confidence * t.confidence, c.call_id, NULL FROM calls c
    JOIN __lk_calls e ON e.ref_id = c.call_id AND e.rule NOT IN ('constructor', 'class')
    JOIN __lk_returns t ON t.fn_def_id = coalesce(e.def_id, '~' || e.qualname) AND NOT t.is_async
    UNION ALL  -- x = x.m(...) that no rule resolved: typed by the m of the others' class (below)
    SELECT c.binding_id, c.ast_node_id, NULL, 1.0, c.call_id, s.callee_attrs[1] FROM calls c
    JOIN cpg_call_sites s ON s.callsite_id = c.call_id AND s.callee_root_binding_id = c.binding_id
     AND s.callee_kind = 'attribute' AND len(s.callee_attrs) = 1
    WHERE c.call_id NOT IN (SELECT ref_id FROM __lk_calls))
SELECT s.binding_id, s.ast_node_id, t.class_def_id, t.confidence, t.call_id, t.method
FROM sites s LEFT JOIN (SELECT * FROM annotated UNION ALL SELECT * FROM made) t
  ON t.binding_id = s.binding_id AND t.ast_node_id = s.ast_node_id;

-- rows from: __lk_rebound
CREATE OR REPLACE TEMP TABLE __lk_rebound_cls AS
SELECT binding_id, any_value(class_def_id) AS class_def_id, min(confidence) AS confidence FROM __lk_rebound
GROUP BY binding_id HAVING count(DISTINCT class_def_id) = 1 AND NOT bool_or(class_def_id IS NULL AND method IS NULL);

-- rows from: __lk_rebound_cls
CREATE OR REPLACE TEMP TABLE __lk_rebound_cand AS  -- (a method outside the repository: its name after '~')
SELECT r.binding_id, r.call_id, coalesce(x.def_id, '~' || x.qualname) AS def_id
FROM __lk_rebound r JOIN __lk_rebound_cls k USING (binding_id)
JOIN __lk_mro_ext o ON o.class_def_id = k.class_def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = r.method
WHERE r.method IS NOT NULL
QUALIFY rank() OVER (PARTITION BY r.call_id ORDER BY o.mro_index) = 1
"""
REBOUND = r"""
-- rows from: __lk_rebound_cls
CREATE OR REPLACE TEMP TABLE __lk_rebound_ok AS  -- and every x = x.m(...) binding's m declared to return C itself
SELECT k.* FROM __lk_rebound_cls k
WHERE NOT EXISTS (SELECT 1 FROM __lk_rebound r WHERE r.binding_id = k.binding_id AND r.method IS NOT NULL
                    AND r.call_id NOT IN (SELECT d.call_id FROM __lk_rebound_cand d
                                          JOIN __lk_returns t ON t.fn_def_id = d.def_id AND NOT t.is_async
                                          WHERE t.class_def_id = k.class_def_id));

-- rows from: __lk_rebound_ok
INSERT INTO __lk_calls
SELECT c.callsite_id AS ref_id, 'same_class' AS rule,
       0.8 * k.confidence * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
       x.def_id, x.qualname, x.path, x.kind, [o.class_qualname, x.qualname] AS via
FROM __lk_sites c JOIN __lk_rebound_ok k ON k.binding_id = c.callee_root_binding_id
JOIN __lk_mro_ext o ON o.class_def_id = k.class_def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = c.callee_attrs[1]
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1 AND c.callsite_id NOT IN (SELECT ref_id FROM __lk_calls)
QUALIFY row_number() OVER (PARTITION BY c.callsite_id ORDER BY o.mro_index, x.span_start_byte DESC, x.def_id) = 1;

-- ... and x.a.m() on such an x (jinja2's `frame = frame.inner()` then `frame.symbols.ref(...)`): ATTRIBUTE_INSTANCE
-- again, for these calls, x's class known at 0.8 x the least confident binding (as for a parameter declared `x: C`)
-- rows from: __lk_rebound_ok
CREATE OR REPLACE TEMP TABLE __lk_attr_calls_rebound AS
SELECT c.callsite_id, c.callee_attrs[1] AS attr, c.callee_attrs[2] AS method, k.class_def_id,
       0.8 * k.confidence AS known, [d.qualname] AS known_via, false AS own
FROM __lk_sites c JOIN __lk_rebound_ok k ON k.binding_id = c.callee_root_binding_id
JOIN __lk_defs d ON d.def_id = k.class_def_id
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 2 AND c.callsite_id NOT IN (SELECT ref_id FROM __lk_calls);
"""

# A call site none of the rules above resolved, whose callee an external SCIP indexer (scip-python: pyright's
# types) refers to a symbol it also defines in a file of the repository (scip_occurrences: the reference
# anchored to the call's func node, the definition to a cpg_definitions row). 0.8: the indexer's types are
# inferred, and its index may be older than other files.
SCIP_CALLEES = """
SELECT DISTINCT c.callsite_id, c.path, x.def_id FROM cpg_call_sites c {scope}
JOIN scip_occurrences o ON o.path = c.path AND o.call_ast_node_id = c.ast_node_id AND NOT o.is_definition
JOIN scip_occurrences x ON x.symbol_id = o.symbol_id AND x.def_id IS NOT NULL
"""
# A method reached through an attribute is called bound (scip_method: the receiver is wired to self) unless
# the index says the attribute's root names a type (`Base.run(obj, x)`: a symbol with a '#' descriptor).
SCIP_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_scip AS
SELECT s.callsite_id AS ref_id,
       CASE WHEN d.kind = 'method' AND c.callee_kind IN ('attribute', 'attribute_of_call')
                 AND NOT coalesce(ends_with(r.symbol, '#'), false) THEN 'scip_method' ELSE 'scip' END AS rule,
       0.8 AS confidence, d.def_id, d.qualname, d.path, d.kind, [o.symbol] AS via
FROM ({callees}) s JOIN __lk_cdefs d ON d.def_id = s.def_id AND d.kind IN ('function', 'method', 'class', 'lambda')
JOIN cpg_call_sites c ON c.callsite_id = s.callsite_id
JOIN scip_occurrences o ON o.def_id = s.def_id
LEFT JOIN scip_occurrences r ON r.path = c.path AND r.span_start_byte = c.span_start_byte AND NOT r.is_definition
 AND c.callee_kind = 'attribute'
ANTI JOIN __lk_calls k ON k.ref_id = s.callsite_id
QUALIFY row_number() OVER (PARTITION BY s.callsite_id, d.def_id ORDER BY o.occurrence_id, r.occurrence_id) = 1
""".format(callees=SCIP_CALLEES.format(scope="SEMI JOIN __scope USING (path)"))

# Where both the rules and SCIP resolved a call site inside the repository, do they agree? A constructor edge
# goes to __init__ and SCIP's reference to the class called: that class is the name resolved before __init__
# was appended to the path (via[-2]), not the class defining __init__ (a base class, when the called one
# inherits it).
SCIP_AGREEMENT = """
WITH s AS ({callees}),
ours AS (SELECT k.callsite_id, k.callee_def_id AS def_id FROM cpg_calls k WHERE k.callee_def_id IS NOT NULL
           AND NOT starts_with(k.rule, 'scip')
         UNION SELECT k.callsite_id, c.def_id FROM cpg_calls k
         JOIN __lk_cdefs c ON c.qualname = k.via[-2] AND c.kind = 'class'
         WHERE k.rule IN ('constructor', 'subclass_constructor')),
sboth AS (SELECT s.callsite_id, bool_or(ours.def_id IS NOT NULL) AS agree FROM s
         SEMI JOIN ours ON ours.callsite_id = s.callsite_id
         LEFT JOIN ours ON ours.callsite_id = s.callsite_id AND ours.def_id = s.def_id GROUP BY s.callsite_id)
SELECT (SELECT count(DISTINCT callsite_id) FROM s), count(*), count(*) FILTER (WHERE agree),
       (SELECT count(DISTINCT callsite_id) FROM cpg_calls WHERE starts_with(rule, 'scip')) FROM sboth
""".format(callees=SCIP_CALLEES.format(scope=""))

# Class hierarchy analysis over the static MRO. A call through self / cls / super() in a method of class K
# also runs with self (cls) an instance of (or) a subclass S of K that inherits that method (the first
# definition of its name in S's MRO is the method itself: an S that overrides it never runs this call
# site with an S, unless its override calls super(), which is not followed: precision first). On such an
# S the call reaches what S's MRO finds: self.m() S's m (override), cls(...) S's constructor
# (subclass_constructor), super().m() the m after K in S's MRO (super_subclass). 0.8 x the call's own
# confidence: S may never be instantiated.
SUBCLASS_CALLS = """
CREATE OR REPLACE TEMP TABLE __lk_sub_site AS
WITH site AS (  -- self.m() and cls(...) in the scope's methods (resolved in K's MRO or not), also in a function
               -- nested in the method (a decorator's closure: its free self is the method's), super().m() resolved
    SELECT c.callsite_id AS ref_id, CASE WHEN c.callee_kind = 'attribute' THEN 'override'
                                         ELSE 'subclass_constructor' END AS rule, 0.9 AS confidence,
           c.callee_attrs, m.name AS caller_name, m.def_id AS caller_id, m.parent_def_id AS k_id
    FROM __lk_scope_sites c
    JOIN __lk_cdefs p ON p.binding_id = c.callee_root_binding_id AND p.kind = 'parameter' AND p.param_index = 0
     AND p.param_kind IN ('posonly', 'pos_or_kw')
    JOIN __lk_cdefs m ON m.def_id = p.parent_def_id AND m.kind = 'method'
     AND p.binding_id IN (SELECT binding_id FROM __lk_self)  -- a receiver (not a staticmethod's parameter)
    WHERE (c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1
           AND c.callsite_id NOT IN (SELECT key FROM __lk_shadowed))
       OR (c.callee_kind = 'name' AND len(coalesce(c.callee_attrs, [])) = 0 AND m.def_id IN (
               SELECT split_part(callsite_id, ':DECORATOR:', 1) FROM cpg_call_sites
               WHERE call_kind = 'decorator' AND callee_text = 'classmethod'))
    UNION ALL
    -- a call of a local name bound once to `self.m` (`write = self.write; write(x)`, which self_method resolved)
    SELECT c.callsite_id, 'override', 0.9, v.attrs, m.name, m.def_id, m.parent_def_id
    FROM __lk_scope_sites c
    JOIN __lk_scope_vrefs v ON v.target_binding_id = c.callee_root_binding_id AND v.path = c.path AND v.role = 'alias'
     AND len(v.attrs) = 1
    JOIN __lk_cdefs p ON p.binding_id = v.root_binding_id AND p.kind = 'parameter' AND p.param_index = 0
    JOIN __lk_cdefs m ON m.def_id = p.parent_def_id AND m.kind = 'method'
    WHERE c.callee_kind = 'name' AND c.callsite_id IN (SELECT ref_id FROM __lk_calls WHERE rule = 'self_method')
    UNION ALL
    -- every super().m() of the scope's methods, whether or not K's own MRO has an m after K (a mixin calling
    -- super().tags() finds Base.tags only under `class Est(Mixin, Base)`): the super rule's confidence, else its
    -- 0.9 (x 0.8 when K's MRO is incomplete)
    SELECT c.callsite_id, 'super_subclass',
           coalesce(e.confidence, 0.9 * CASE WHEN ko.complete THEN 1.0 ELSE 0.8 END), c.callee_attrs, m.name, m.def_id,
           m.parent_def_id
    FROM __lk_scope_sites c
    JOIN __lk_scope_sites s ON s.callsite_id = c.callee_value_node_id AND s.callee_kind = 'name' AND s.callee_root = 'super'
    JOIN __lk_cdefs m ON m.def_id = c.caller_def_id AND m.kind = 'method'
    LEFT JOIN (SELECT ref_id, max(confidence) AS confidence FROM __lk_calls WHERE rule = 'super' GROUP BY ALL) e
      ON e.ref_id = c.callsite_id
    LEFT JOIN (SELECT class_def_id, bool_and(complete) AS complete FROM cpg_mro GROUP BY ALL) ko
      ON ko.class_def_id = m.parent_def_id
    WHERE c.callee_kind = 'attribute_of_call' AND len(c.callee_attrs) = 1
      AND s.callee_root_binding_id NOT IN (SELECT binding_id FROM __lk_scope_defs WHERE name = 'super')
      -- super(B, self) with B not K itself: S's MRO after B, which this rule does not follow (no edge)
      AND NOT EXISTS (SELECT 1 FROM cpg_call_args a JOIN __lk_cdefs k ON k.def_id = m.parent_def_id
                      WHERE a.callsite_id = c.callee_value_node_id AND a.kind = 'positional' AND a.position = 0
                        AND a.root IS DISTINCT FROM k.name))
SELECT * FROM site SEMI JOIN (SELECT DISTINCT ancestor_def_id AS k_id FROM cpg_mro WHERE mro_index > 0) USING (k_id);

-- (in stages: one statement let the optimizer join every subclass of a base class before filtering)
-- self.m(): a class T that is not in K's own MRO (there K's MRO would find m) defines m as x and is in the MRO
-- of a subclass S of K (S = T, or a class mixing T and K)
CREATE OR REPLACE TEMP TABLE __lk_sub_def AS
SELECT s.*, x.def_id AS x_id, x.parent_def_id AS t_id FROM __lk_sub_site s
JOIN __lk_defs x ON x.name = s.callee_attrs[1] AND x.parent_def_id <> s.k_id
ANTI JOIN cpg_mro km ON km.class_def_id = s.k_id AND km.ancestor_def_id = x.parent_def_id
WHERE s.rule = 'override';

-- S has both T and K in its MRO: enumerated from whichever of T and K has fewer subclasses (TestCase has
-- ~3,000: a mixin calling self.assertEqual() must not visit them all), one join per statement so that the
-- optimizer cannot pick the other order
-- rows from: __lk_sub_def
CREATE OR REPLACE TEMP TABLE __lk_sub_n AS
SELECT d.*, (SELECT count(*) FROM cpg_mro a WHERE a.ancestor_def_id = d.t_id) <=
            (SELECT count(*) FROM cpg_mro b WHERE b.ancestor_def_id = d.k_id) AS by_t
FROM __lk_sub_def d;

-- rows from: __lk_sub_n
CREATE OR REPLACE TEMP TABLE __lk_sub_via AS
SELECT d.* EXCLUDE (by_t), a.class_def_id AS sub_id FROM __lk_sub_n d JOIN cpg_mro a ON a.ancestor_def_id = d.t_id
WHERE d.by_t
UNION ALL
SELECT d.* EXCLUDE (by_t), b.class_def_id FROM __lk_sub_n d JOIN cpg_mro b ON b.ancestor_def_id = d.k_id
 AND b.mro_index > 0 WHERE NOT d.by_t;

-- rows from: __lk_sub_via
CREATE OR REPLACE TEMP TABLE __lk_sub_cand AS
SELECT v.* EXCLUDE (t_id), NULL::SMALLINT AS k_index, a.mro_index AS t_index FROM __lk_sub_via v
JOIN cpg_mro a ON a.class_def_id = v.sub_id AND a.ancestor_def_id = v.t_id
SEMI JOIN cpg_mro b ON b.class_def_id = v.sub_id AND b.ancestor_def_id = v.k_id AND b.mro_index > 0;

-- ... and no class before T in S's MRO defines m (S's m is x); super() and cls(...): every subclass S of K
-- rows from: __lk_sub_cand
CREATE OR REPLACE TEMP TABLE __lk_sub_prefix AS
SELECT c.*, o.ancestor_def_id, o.mro_index FROM __lk_sub_cand c
JOIN cpg_mro o ON o.class_def_id = c.sub_id AND o.mro_index <= c.t_index;

CREATE OR REPLACE TEMP TABLE __lk_sub_cand2 AS
SELECT c.* EXCLUDE (t_index, ancestor_def_id, mro_index) FROM __lk_sub_prefix c
JOIN __lk_cdefs y ON y.parent_def_id = c.ancestor_def_id AND y.name = c.callee_attrs[1]
QUALIFY c.mro_index = min(c.mro_index) OVER (PARTITION BY c.ref_id, c.sub_id, c.x_id) AND y.def_id = c.x_id
UNION ALL
SELECT s.*, NULL::VARCHAR AS x_id, ks.class_def_id AS sub_id, ks.mro_index AS k_index FROM __lk_sub_site s
JOIN cpg_mro ks ON ks.ancestor_def_id = s.k_id AND ks.mro_index > 0 WHERE s.rule <> 'override';

-- where an instance of S runs the calling method K.f: S inherits it, or every definition of f before K in S's
-- MRO calls super().f(...) (click: Option.__init__ chains to Parameter.__init__, whose self._parse_decls() then
-- runs Option's); methods that call super().name(...)
-- rows from: __lk_sub_cand2
CREATE OR REPLACE TEMP TABLE __lk_super_chain AS
SELECT DISTINCT c.caller_def_id AS def_id, c.callee_attrs[1] AS name FROM cpg_call_sites c
JOIN cpg_call_sites s ON s.callsite_id = c.callee_value_node_id AND s.callee_kind = 'name' AND s.callee_root = 'super'
WHERE c.callee_kind = 'attribute_of_call' AND len(c.callee_attrs) = 1
  AND c.callee_attrs[1] IN (SELECT DISTINCT caller_name FROM __lk_sub_cand2);

-- rows from: __lk_sub_cand2
CREATE OR REPLACE TEMP TABLE __lk_subs AS
WITH k AS (SELECT c.*, o.mro_index AS k_pos FROM __lk_sub_cand2 c
           JOIN cpg_mro o ON o.class_def_id = c.sub_id AND o.ancestor_def_id = c.k_id),
unchained AS (  -- a definition of f before K in S's MRO that does not call super().f(...): S never runs K.f
    SELECT DISTINCT k.ref_id, k.rule, k.sub_id, k.x_id FROM k
    JOIN cpg_mro o ON o.class_def_id = k.sub_id AND o.mro_index < k.k_pos
    JOIN __lk_cdefs y ON y.parent_def_id = o.ancestor_def_id AND y.name = k.caller_name
    ANTI JOIN __lk_super_chain sc ON sc.def_id = y.def_id AND sc.name = k.caller_name)
SELECT k.* EXCLUDE (k_pos) FROM k
ANTI JOIN unchained u ON u.ref_id = k.ref_id AND u.rule = k.rule AND u.sub_id = k.sub_id
 AND u.x_id IS NOT DISTINCT FROM k.x_id;

-- rows from: __lk_subs
INSERT INTO __lk_calls
WITH attr AS (  -- self.m(): x; super().m(): m after K in S's MRO
    SELECT s.ref_id, s.rule, 0.8 * s.confidence AS confidence, x.def_id, x.qualname, x.path, x.kind,
           [sc.qualname, x.qualname] AS via
    FROM __lk_subs s JOIN __lk_cdefs sc ON sc.def_id = s.sub_id JOIN __lk_cdefs x ON x.def_id = s.x_id
    WHERE s.rule = 'override'
    UNION ALL
    SELECT * FROM (
        SELECT s.ref_id, s.rule, 0.8 * s.confidence, x.def_id, x.qualname, x.path, x.kind, [sc.qualname, x.qualname]
        FROM __lk_subs s JOIN __lk_cdefs sc ON sc.def_id = s.sub_id
        JOIN cpg_mro o ON o.class_def_id = s.sub_id AND o.mro_index > s.k_index
        JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.name = s.callee_attrs[1]
        WHERE s.rule = 'super_subclass'
        QUALIFY rank() OVER (PARTITION BY s.ref_id, s.sub_id ORDER BY o.mro_index) = 1)),
inits AS (SELECT o.class_def_id, x.def_id, x.qualname, x.path, x.kind FROM cpg_mro o
          JOIN __lk_cdefs x ON x.parent_def_id = o.ancestor_def_id AND x.name = '__init__' AND x.kind = 'method'
          WHERE o.class_def_id IN (SELECT sub_id FROM __lk_subs WHERE rule = 'subclass_constructor')
          QUALIFY row_number() OVER (PARTITION BY o.class_def_id ORDER BY o.mro_index, x.span_start_byte DESC) = 1),
cons AS (  -- cls(...) in a classmethod: S's constructor (the __init__ its MRO finds), else the class S
    SELECT s.ref_id, s.rule, 0.8 * s.confidence AS confidence, coalesce(i.def_id, sc.def_id) AS def_id,
           coalesce(i.qualname, sc.qualname) AS qualname, coalesce(i.path, sc.path) AS path,
           coalesce(i.kind, sc.kind) AS kind,
           [sc.qualname] || CASE WHEN i.def_id IS NULL THEN [] ELSE [i.qualname] END AS via
    FROM __lk_subs s JOIN __lk_cdefs sc ON sc.def_id = s.sub_id
    LEFT JOIN inits i ON i.class_def_id = s.sub_id
    WHERE s.rule = 'subclass_constructor')
SELECT a.ref_id, a.rule, max(a.confidence) AS confidence, a.def_id, any_value(a.qualname), any_value(a.path),
       any_value(a.kind), first(a.via ORDER BY array_to_string(a.via, ' '))  -- one subclass's path, every run the same
FROM (SELECT * FROM attr UNION ALL SELECT * FROM cons) a
ANTI JOIN __lk_calls k ON k.ref_id = a.ref_id AND k.def_id = a.def_id  -- K's own MRO already reaches it
GROUP BY a.ref_id, a.rule, a.def_id
"""

# `f = getattr(self, "visit_" + type(node).__name__)` (an f-string, `%` or `.format` with a literal start, or a
# local name bound once to such a string: ast.NodeVisitor's `method = 'visit_' + ...`), then `f(node)`; also
# `getattr(self, "do_" + cmd)(arg)` and `f = self.get_visitor(node); f(node)` where the method called returns such
# a getattr (jinja2's NodeVisitor): the call reaches a method of self whose name starts with the literal part. The
# object is an instance of self's class K or of a subclass: for K and each subclass S, the methods with that
# prefix S's MRO finds, and the default when it is a method of the same receiver (`getattr(self, m,
# self.generic_visit)`), one edge each, 0.8 x the call shared among them (a name is picked at runtime). Not for
# `cls` (a classmethod's). A subclass added or changed relinks K's file (ANCESTOR_FILES).
GETATTR_DISPATCH = r"""
CREATE OR REPLACE TEMP TABLE __lk_getattr_k AS
WITH sites AS (SELECT * FROM __lk_scope_sites WHERE call_kind = 'call'),
once AS (""" + _ONCE_IN_SCOPE + r"""),
made AS (  -- the call node whose result each site calls: `f = <call>; f(...)` (f bound once), or `<call>(...)`
    SELECT c.callsite_id, c.path, v.ast_node_id AS made_id FROM sites c
    JOIN __lk_scope_vrefs v ON v.path = c.path AND v.role = 'instance' AND v.target_binding_id = c.callee_root_binding_id
    WHERE c.callee_kind = 'name' AND c.callee_root_binding_id IN (SELECT binding_id FROM once)
    UNION ALL
    SELECT callsite_id, path, callee_value_node_id FROM sites WHERE callee_kind = 'call'),
d AS (
    SELECT m.callsite_id, g.root_binding_id, g.attrs[1] AS prefix, g.attrs[2] AS fallback, 1.0 AS confidence FROM made m
    JOIN __lk_scope_vrefs g ON g.path = m.path AND g.role = 'getattr' AND g.ast_node_id = m.made_id
    UNION ALL  -- the call made is resolved to a function that returns such a getattr on its own receiver
    SELECT m.callsite_id, g.root_binding_id, g.attrs[1], g.attrs[2], e.confidence FROM made m
    JOIN __lk_calls e ON e.ref_id = m.made_id AND e.def_id IS NOT NULL
    JOIN cpg_value_refs r ON r.owner_def_id = e.def_id AND r.role = 'return' AND r.path = e.path
    JOIN cpg_value_refs g ON g.ast_node_id = r.ast_node_id AND g.role = 'getattr' AND g.path = r.path
     AND g.target_binding_id IS NULL),
k AS (SELECT d.callsite_id, d.prefix, d.fallback, d.confidence, x.def_id AS k_id FROM d
      JOIN __lk_self p ON p.binding_id = d.root_binding_id AND NOT p.classmethod
      JOIN __lk_defs x ON x.qualname = p.class_qualname AND x.kind = 'class')
SELECT * FROM k;
INSERT INTO __lk_calls
WITH found AS (  -- K and its subclasses S (cpg_mro: S has K at some index, K itself at 0); what S's MRO finds
    SELECT k.callsite_id, k.confidence, x.def_id, x.qualname, x.path, x.kind FROM __lk_getattr_k k
    JOIN cpg_mro s ON s.ancestor_def_id = k.k_id
    JOIN cpg_mro o ON o.class_def_id = s.class_def_id
    JOIN __lk_defs x ON x.parent_def_id = o.ancestor_def_id AND x.kind = 'method'
     AND (starts_with(x.name, k.prefix) OR x.name = k.fallback)
    QUALIFY rank() OVER (PARTITION BY k.callsite_id, s.class_def_id, x.name ORDER BY o.mro_index) = 1)
SELECT callsite_id AS ref_id, 'getattr_dispatch' AS rule,
       0.8 * max(confidence) / count(*) OVER (PARTITION BY callsite_id) AS confidence, def_id,
       any_value(qualname) AS qualname, any_value(path) AS path, any_value(kind) AS kind, [any_value(qualname)] AS via
FROM found GROUP BY callsite_id, def_id
"""

# The files whose call sites a change of subclasses can change (SUBCLASS_CALLS): those defining the
# ancestors of the classes of the scope's files (def ids are `path:AST:n`), before and after the MRO
# is recomputed.
ANCESTOR_FILES = r"""
SELECT DISTINCT regexp_extract(ancestor_def_id, '^(.*):AST:[0-9]+$', 1) FROM cpg_mro
WHERE mro_index > 0 AND ancestor_def_id IS NOT NULL
  AND regexp_extract(class_def_id, '^(.*):AST:[0-9]+$', 1) IN (SELECT path FROM __lk_dispatch)
"""

# Methods that cannot be what a call runs: decorated `@abstractmethod` (`abc.abstractmethod`), or whose whole
# body raises an exception (`raise NotImplementedError`, `raise TypeError(...)` with constant arguments, jinja2's
# `raise Impossible()`, `raise errors.Unsupported`, after an optional docstring: in CPython 3.13 a docstring is no
# instruction, so the code unit is RESUME, LOAD_GLOBAL X, [LOAD_ATTR..., LOAD_CONST..., CALL], RAISE_VARARGS): a
# method there to be overridden (or to refuse). {defs}: the candidates' def_id and code_unit_id.
# The instructions of an abstract method's code unit (ABSTRACT): `raise E(...)` alone, or a body that does nothing
# (``interface`` flags a method with no instruction outside both as one whose body's change another file can see).
RAISE_ONLY_OPS = ("RESUME", "NOP", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_CONST", "CALL", "RAISE_VARARGS")
NOTHING_OPS = ("RESUME", "NOP", "RETURN_CONST")


ABSTRACT = """
SELECT d.def_id FROM ({defs}) d
WHERE d.def_id IN (SELECT split_part(callsite_id, ':DECORATOR:', 1) FROM cpg_call_sites
                   WHERE call_kind = 'decorator' AND (callee_text = 'abstractmethod'
                                                      OR ends_with(callee_text, '.abstractmethod')))
   OR d.code_unit_id IN (
       SELECT code_unit_id FROM py_bc_instructions SEMI JOIN (SELECT code_unit_id FROM ({defs})) USING (code_unit_id)
       GROUP BY code_unit_id
       HAVING count(*) FILTER (WHERE baseopname NOT IN (""" + sql_list(RAISE_ONLY_OPS) + """)) = 0
          AND count(*) FILTER (WHERE baseopname = 'RAISE_VARARGS') = 1
          AND count(*) FILTER (WHERE baseopname = 'LOAD_GLOBAL') = 1)
   -- or a method that does nothing (a body of `...`, `pass` or a docstring: RESUME, RETURN_CONST None) of a class that
   -- declares itself an interface: abc.ABC or a Protocol in its MRO (click's `class Parameter(ABC)` and its
   -- `def add_to_parser(...) -> None: ...`); in another class such a method is a hook that runs as it is
   OR (d.code_unit_id IN (
           SELECT code_unit_id FROM py_bc_instructions SEMI JOIN (SELECT code_unit_id FROM ({defs})) USING (code_unit_id)
           GROUP BY code_unit_id
           HAVING count(*) FILTER (WHERE baseopname NOT IN (""" + sql_list(NOTHING_OPS) + """)
                                      OR (baseopname = 'RETURN_CONST' AND argrepr <> 'None')) = 0)
       AND d.def_id IN (
           SELECT m.def_id FROM __lk_cdefs m SEMI JOIN ({defs}) q USING (def_id)
           JOIN cpg_mro o ON o.class_def_id = m.parent_def_id
           JOIN cpg_inherits i ON i.class_def_id = o.ancestor_def_id
           WHERE i.base_qualname IN ('abc.ABC', 'typing.Protocol', 'typing_extensions.Protocol')))
"""

# x.m() where x is declared (annotation) or returned (returns_method) as an instance of C and the m C's MRO finds
# is abstract (requests' BaseAdapter.send raises NotImplementedError): the object is an instance of a subclass,
# so each subclass S of C reaches the m S's MRO finds, when that is another, concrete method (HTTPAdapter.send).
# One edge per such method, the call's confidence shared among them; the edge to the abstract method stays
# (the declared type's). Class hierarchy analysis over the static MRO, like `override` for self.m().
ABSTRACT_OVERRIDES = """
CREATE OR REPLACE TEMP TABLE __lk_abs_base AS
SELECT e.ref_id, e.confidence, e.def_id AS x_id, e.via, c.def_id AS c_id, x.name AS m, x.code_unit_id
FROM __lk_calls e JOIN __lk_cdefs x ON x.def_id = e.def_id AND x.kind = 'method'
JOIN __lk_defs c ON c.qualname = e.via[-2] AND c.kind = 'class'
WHERE e.rule IN ('annotation', 'returns_method', 'attribute_instance', 'iterated');

-- rows from: __lk_abs_base
CREATE OR REPLACE TEMP TABLE __lk_abs_found AS
WITH x AS (SELECT * FROM __lk_abs_base WHERE x_id IN ({abstract_x}))
SELECT x.ref_id, x.confidence, x.x_id, x.via, y.def_id AS y_id, y.qualname, y.path, y.kind, yd.code_unit_id
FROM x JOIN cpg_mro s ON s.ancestor_def_id = x.c_id AND s.mro_index > 0
JOIN cpg_mro o ON o.class_def_id = s.class_def_id
JOIN __lk_defs y ON y.parent_def_id = o.ancestor_def_id AND y.name = x.m
JOIN __lk_cdefs yd ON yd.def_id = y.def_id
-- (a call may reach x along several typed paths, x.via: the most confident, then the shortest, then the path's text,
-- without them the row kept per subclass was any of them, and two full links of pandas differed)
QUALIFY row_number() OVER (PARTITION BY x.ref_id, x.x_id, s.class_def_id ORDER BY o.mro_index, y.span_start_byte DESC,
                                        y.def_id, x.confidence DESC, len(x.via), array_to_string(x.via, ' ')) = 1;

-- rows from: __lk_abs_found
INSERT INTO __lk_calls
SELECT ref_id, 'abstract_override', confidence / count(*) OVER (PARTITION BY ref_id, x_id), y_id, qualname, path,
       kind, list_append(via, qualname)
FROM (SELECT DISTINCT ref_id, confidence, x_id, via, y_id, qualname, path, kind FROM __lk_abs_found
      WHERE y_id <> x_id AND y_id NOT IN ({abstract_y}))
""".format(abstract_x=ABSTRACT.format(defs="SELECT x_id AS def_id, code_unit_id FROM __lk_abs_base"),
           abstract_y=ABSTRACT.format(defs="SELECT y_id AS def_id, code_unit_id FROM __lk_abs_found"))

# The files whose calls reach an abstract method of an ancestor of the scope's classes by a declared or returned
# type (or an instance attribute's): a subclass in the scope may add, change or drop the override those calls also reach (ABSTRACT_OVERRIDES).
ABSTRACT_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE __lk_abs_cand AS
SELECT x.def_id, x.code_unit_id FROM cpg_definitions x
WHERE x.kind = 'method' AND x.parent_def_id IN (
    SELECT o.ancestor_def_id FROM cpg_mro o JOIN __lk_cdefs c ON c.def_id = o.class_def_id
    WHERE o.mro_index > 0 AND c.path IN (SELECT path FROM __lk_dispatch))
  AND x.def_id IN (SELECT callee_def_id FROM cpg_calls
                   WHERE rule IN ('annotation', 'returns_method', 'attribute_instance', 'iterated'))"""
ABSTRACT_CALLERS = """
SELECT DISTINCT k.path FROM cpg_calls k JOIN (""" + ABSTRACT.format(defs="SELECT * FROM __lk_abs_cand") + """) a
  ON a.def_id = k.callee_def_id
WHERE k.rule IN ('annotation', 'returns_method', 'attribute_instance', 'iterated')
"""

# f()(): the functions f returns (`return inner`, `return lambda ...`, `return self.m`), for each f the inner
# call reaches; likewise g(), g bound once by `g = f()`. And f().m(), g.m(): m looked up on what f returns, where
# that is a name (pydantic's `FieldInfo = import_cached_field_info()`, which returns the class it imports, then
# `FieldInfo.from_annotation(...)`): the return value's name with the call's attributes after it. Only a bare name:
# `return datetime.max` is an instance, and what its `.date` is cannot be spelled as a path. A function declared
# `-> type[C]` (returns_class) returns the class C (any dotted name: it is a class, not an instance).
# `g(...)` where g is bound once, by `g = functools.partial(F, ...)` (a name of the call's file, or, through the
# call's walk, a module-level variable of another module: pip's `cmdoptions.no_clean()`), and `partial(F, ...)(...)`:
# the call runs F (rule `partial`; the edge to `functools.partial.__call__` stays, it runs too). Staged right after
# the call walk (__lk_walk of CALL_REFS): per outer call site, P (the partial(...) call: its creation resolved to
# functools.partial, by this link for the scope's files, as stored for the others), F (P's first positional argument,
# resolved later by PARTIAL_REFS) and `shift`, the positional arguments P binds before the outer call's (NULL when P
# has a *args: the outer call's positional arguments are then not wired).
_PARTIALS = "('functools.partial', 'functools.partial.__new__', '_functools.partial')"
PARTIAL_SITES = r"""
CREATE OR REPLACE TEMP TABLE __lk_partial AS
WITH named AS (
    SELECT c.callsite_id, c.callee_root_binding_id AS binding_id, 1.0 AS confidence FROM __lk_scope_sites c
    WHERE c.callee_kind = 'name' AND c.call_kind = 'call' AND c.callee_root_binding_id IS NOT NULL
    UNION ALL
    SELECT w.ref_id, d.binding_id, w.confidence FROM __lk_walk w
    JOIN __lk_scope_sites c ON c.callsite_id = w.ref_id AND c.call_kind = 'call' AND c.callee_kind IN ('name', 'attribute')
    JOIN cpg_definitions d ON d.qualname = w.name AND d.kind = 'variable' AND d.parent_def_id = d.path || ':AST:0'
    WHERE w.hop >= 0 AND w.rule IN ('import', 'alias', 'star_import')),
made AS (SELECT ref_id AS call_id, max(confidence) AS confidence
         FROM """ + _CALL_EDGES.format(where="qualname IN " + _PARTIALS) + r""" e GROUP BY ALL),
bound AS (  -- x = partial(...)
    SELECT v.target_binding_id AS binding_id, m.call_id, m.confidence FROM cpg_value_refs v
    JOIN made m ON m.call_id = v.ast_node_id
    WHERE v.role = 'instance' AND v.target_binding_id IN (SELECT binding_id FROM named)),
once AS (SELECT binding_id FROM py_sym_name_sites SEMI JOIN bound USING (binding_id) WHERE role = 'def'
         GROUP BY ALL HAVING count(*) = 1),
outer_calls AS (
    SELECT n.callsite_id, b.call_id, n.confidence * b.confidence AS confidence FROM named n
    JOIN bound b USING (binding_id) SEMI JOIN once USING (binding_id)
    UNION ALL  -- partial(F, ...)(...)
    SELECT c.callsite_id, m.call_id, m.confidence FROM __lk_scope_sites c JOIN made m ON m.call_id = c.callee_value_node_id
    WHERE c.callee_kind = 'call' AND c.call_kind = 'call'),
args AS (SELECT * FROM cpg_call_args SEMI JOIN (SELECT DISTINCT call_id AS callsite_id FROM outer_calls) USING (callsite_id)),
shifts AS (SELECT callsite_id, CASE WHEN bool_or(kind = 'star') THEN NULL
                                    ELSE count(*) FILTER (WHERE kind = 'positional') - 1 END AS shift
           FROM args GROUP BY ALL)
SELECT o.callsite_id AS outer_id, o.confidence AS outer_confidence, f.path, f.root, f.root_binding_id,
       coalesce(f.attrs, []) AS attrs, f.value_def_id AS lambda_def_id, f.ast_node_id AS f_node, s.shift::INTEGER AS shift
FROM outer_calls o JOIN args f ON f.callsite_id = o.call_id AND f.kind = 'positional' AND f.position = 0
JOIN shifts s ON s.callsite_id = o.call_id
WHERE f.root IS NOT NULL OR f.value_def_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY o.callsite_id ORDER BY o.confidence DESC, o.call_id) = 1
"""
PARTIAL_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
SELECT outer_id || '|partial' AS ref_id, path, root, root_binding_id, attrs, lambda_def_id, false AS container,
       outer_id, outer_confidence FROM __lk_partial
"""

RETURN_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
WITH r AS (  -- the scope's f(...)(...) calls, with each return value of each function f the inner call reaches
    SELECT c.callsite_id, c.more, e.confidence, v.*
    FROM (SELECT callsite_id, callee_value_node_id AS inner_id, [] AS more FROM __lk_scope_sites
          WHERE callee_kind = 'call'
          UNION ALL  -- f(...).m(...)
          SELECT callsite_id, callee_value_node_id, callee_attrs FROM __lk_scope_sites
          WHERE callee_kind = 'attribute_of_call' AND call_kind = 'call'
          UNION ALL  -- and `g = f(...)` binding g once, then g(...) (jinja2's `getter = make_attrgetter(...)`), g.m(...)
          SELECT c.callsite_id, b.ast_node_id, coalesce(c.callee_attrs, []) FROM __lk_scope_sites c
          JOIN __lk_scope_vrefs b ON b.target_binding_id = c.callee_root_binding_id AND b.role = 'instance'
           AND b.path = c.path
          WHERE c.callee_kind IN ('name', 'attribute') AND c.call_kind = 'call'
            AND c.callee_root_binding_id IN (""" + _ONCE_IN_SCOPE + """)) c
    JOIN __lk_calls e ON e.ref_id = c.inner_id AND (len(c.more) = 0 OR e.rule NOT IN ('constructor', 'class'))
    JOIN __lk_cdefs f ON f.def_id = e.def_id AND f.kind IN ('function', 'method', 'lambda')
    JOIN cpg_value_refs v ON v.owner_def_id = f.def_id AND (v.role = 'return' OR (
        -- the declared class only when the body names nothing it returns: a named class is more precise (pydantic's
        -- `-> type[BaseMetadata]` returning its subclass `_PydanticGeneralMetadata`)
        v.role = 'returns_class' AND NOT EXISTS (
            SELECT 1 FROM cpg_value_refs w WHERE w.owner_def_id = f.def_id AND w.role = 'return'
              AND (w.root IS NOT NULL OR w.value_def_id IS NOT NULL)))))
SELECT r.callsite_id || '|' || r.value_id AS ref_id, r.path, r.root, coalesce(r.root_binding_id, g.binding_id) AS root_binding_id,
       coalesce(r.attrs, []) || r.more AS attrs, r.value_def_id AS lambda_def_id, false AS container,
       r.callsite_id AS outer_id, r.confidence AS outer_confidence
FROM r LEFT JOIN (  -- `-> type["C"]`, or under `from __future__ import annotations`: C among the module's names
    SELECT b.path, b.name, b.binding_id FROM py_sym_bindings b
    JOIN py_sym_scopes s ON s.scope_id = b.scope_id AND s.scope_type = 'MODULE'
    WHERE b.path IN (SELECT path FROM r WHERE role = 'returns_class' AND root_binding_id IS NULL)) g
  ON r.role = 'returns_class' AND r.root_binding_id IS NULL AND g.path = r.path AND g.name = r.root
WHERE (r.root IS NOT NULL AND (len(r.more) = 0 OR len(coalesce(r.attrs, [])) = 0 OR r.role = 'returns_class'))
   OR (r.value_def_id IS NOT NULL AND len(r.more) = 0)
UNION ALL  -- one hop further: f returns what a call of a function g returns (`def group(name): return command(name)`,
           -- command returning its inner `decorator`): g's return values, the two calls' confidence
SELECT r.callsite_id || '|' || w.value_id, w.path, w.root, w.root_binding_id, coalesce(w.attrs, []) || r.more,
       w.value_def_id, false, r.callsite_id, r.confidence * k.confidence
FROM r JOIN """ + _CALL_EDGES.format(where="rule NOT IN ('constructor', 'class')") + """ k ON k.ref_id = r.ast_node_id
JOIN __lk_cdefs g ON g.def_id = k.def_id AND g.kind IN ('function', 'method', 'lambda')
JOIN cpg_value_refs w ON w.owner_def_id = g.def_id AND w.role = 'return'
 AND ((w.root IS NOT NULL AND (len(r.more) = 0 OR len(coalesce(w.attrs, [])) = 0))
      OR (w.value_def_id IS NOT NULL AND len(r.more) = 0))
WHERE r.root IS NULL AND r.value_def_id IS NULL
"""

# fn() where fn is a parameter bound nowhere else: whatever the resolved calls pass for it (BINDS_ARG). A caller in
# any file can pass it, so the call sites through a parameter resolved again are those of the scope's files and
# those whose parameter the scope's calls bind, before or after this link (``__lk_passed_params``).
# (staged: the parameters passed and the stores first, into temporary tables; then the scope's call sites, and the
# call sites of the parameters passed, which are in the parameters' files, a call site's root binding being of its
# file. One statement joining every call site of the repository with every parameter and semi-joining the scope
# afterwards was ~60 ms of each edit's link on the standard library, also when nothing was passed.)
_PASSED_ATTR = """SELECT c.callsite_id, st.param_binding_id AS binding_id, c.path
FROM {sites} c JOIN __lk_self sp ON sp.binding_id = c.callee_root_binding_id AND NOT sp.classmethod
JOIN __lk_defs k ON k.qualname = sp.class_qualname AND k.kind = 'class'
JOIN {stores} st ON st.class_def_id = k.def_id AND st.attr = c.callee_attrs[1]
WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1"""
PASSED_SITES = """
CREATE OR REPLACE TEMP TABLE __lk_ps_params AS
SELECT d.binding_id, d.path FROM __lk_cdefs d
WHERE d.kind = 'parameter' AND d.path IN (SELECT split_part(binding_id, ':SCOPE:', 1) FROM __lk_passed_params)
  AND d.binding_id IN (SELECT binding_id FROM __lk_passed_params);
-- self.a(...) in a method of class K where a method of a class of K's MRO stores `self.a = q`, q a parameter of
-- that method (cpg_link_param_stores): whatever the resolved calls pass for q (each store, for the site's class)
CREATE OR REPLACE TEMP TABLE __lk_ps_stores AS
SELECT s.*, o.class_def_id FROM cpg_link_param_stores s
JOIN __lk_defs a ON a.qualname = s.class_qualname AND a.kind = 'class'
JOIN cpg_mro o ON o.ancestor_def_id = a.def_id;
CREATE OR REPLACE TEMP TABLE __lk_ps_stores_passed AS
SELECT * FROM __lk_ps_stores SEMI JOIN __lk_passed_params p ON p.binding_id = __lk_ps_stores.param_binding_id;
CREATE OR REPLACE TEMP TABLE __lk_passed_sites AS
SELECT c.callsite_id, c.callee_root_binding_id AS binding_id, c.path FROM __lk_scope_sites c
JOIN __lk_scope_cdefs d ON d.binding_id = c.callee_root_binding_id AND d.kind = 'parameter'
WHERE c.callee_kind = 'name'
UNION
SELECT c.callsite_id, c.callee_root_binding_id, c.path FROM cpg_call_sites c
JOIN __lk_ps_params q ON q.binding_id = c.callee_root_binding_id AND q.path = c.path
WHERE c.callee_kind = 'name'
UNION
""" + _PASSED_ATTR.format(sites="__lk_scope_sites", stores="__lk_ps_stores") + """;
INSERT INTO __lk_passed_sites
""" + _PASSED_ATTR.format(sites="cpg_call_sites", stores="__lk_ps_stores_passed") + """
EXCEPT SELECT * FROM __lk_passed_sites
"""

# `p.m(...)` where p is a parameter bound nowhere else (not a method's self / cls) and no other rule resolved the call:
# an instance of every class the resolved calls pass for p (rule passed_instance), when each argument they pass for it
# is typed: a constructor call (`use(Box())`) or a name only constructor calls bind (`b = Box(); use(b)`, 1/n for n
# such calls). m along each class's MRO, 0.8 x the wiring x the class's resolution, as passed_argument (a caller
# outside the repository may pass something else). The sites are those of the scope's files and those whose
# parameter the scope's calls bind (as for passed_argument: __lk_ps_params); they join __lk_passed_sites, so that
# their rows are replaced, wired and judged with the other calls through a parameter.
PINST_SITES = """
CREATE OR REPLACE TEMP TABLE __lk_pinst_sites AS
WITH s AS (
    SELECT c.callsite_id, c.callee_root_binding_id AS binding_id, c.path FROM __lk_scope_sites c
    JOIN __lk_scope_cdefs d ON d.binding_id = c.callee_root_binding_id AND d.kind = 'parameter'
    WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1 AND c.call_kind = 'call'
    UNION
    SELECT c.callsite_id, c.callee_root_binding_id, c.path FROM cpg_call_sites c
    JOIN __lk_ps_params q ON q.binding_id = c.callee_root_binding_id AND q.path = c.path
    WHERE c.callee_kind = 'attribute' AND len(c.callee_attrs) = 1 AND c.call_kind = 'call')
SELECT * FROM s WHERE binding_id NOT IN (SELECT binding_id FROM __lk_self)
  AND callsite_id NOT IN (SELECT callsite_id FROM cpg_calls WHERE rule NOT IN ('passed_argument', 'passed_instance')
                          AND path IN (SELECT DISTINCT path FROM s))
"""
PINST_CALLS = r"""
WITH s AS (SELECT p.* FROM __lk_pinst_sites p SEMI JOIN (
               SELECT binding_id FROM py_sym_name_sites SEMI JOIN __lk_pinst_sites USING (binding_id) WHERE role = 'def'
               GROUP BY ALL HAVING count(*) = 1) o USING (binding_id)),
args AS (SELECT s.callsite_id, b.confidence AS wiring, a.arg_id, a.ast_node_id, a.root_binding_id, coalesce(a.attrs, []) AS attrs
         FROM s JOIN cpg_binds_arg b ON b.param_binding_id = s.binding_id AND b.arg_id IS NOT NULL AND NOT b.implicit_receiver
          AND b.param_kind NOT IN ('vararg', 'kwarg')
         JOIN cpg_call_args a ON a.arg_id = b.arg_id),
""" + _MADE_BY_CONSTRUCTORS.format(
    bindings="SELECT DISTINCT root_binding_id AS binding_id FROM args WHERE len(attrs) = 0 AND root_binding_id IS NOT NULL"
) + r""",
literal AS (  -- names bound to literals of one builtin type (`xs = []`, a **kwargs parameter), as literal_bound reads them
    """ + _LITERAL_TYPED.format(
        sites="(SELECT * FROM py_sym_name_sites WHERE role = 'def' AND binding_id IN (SELECT root_binding_id FROM args "
              "WHERE len(attrs) = 0))", vrefs="cpg_value_refs") + r"""),
classes AS (  -- the class of each argument's value: a constructor call itself, or a name only constructor calls bind,
              -- or a name bound to literals of one builtin type (type)
    SELECT a.callsite_id, a.arg_id, a.wiring * e.confidence AS confidence, e.rule, e.qualname, e.via, NULL AS type
    FROM args a JOIN ctor e ON e.ref_id = a.ast_node_id AND NOT ends_with(e.qualname, '.__new__')
    UNION ALL
    SELECT a.callsite_id, a.arg_id, a.wiring * e.confidence / i.n, e.rule, e.qualname, e.via, NULL
    FROM args a JOIN inst i ON i.binding_id = a.root_binding_id JOIN made e ON e.binding_id = a.root_binding_id
    WHERE len(a.attrs) = 0
    UNION ALL
    SELECT a.callsite_id, a.arg_id, a.wiring * 0.9, 'literal_bound', '<builtin>.' || t.type, NULL, t.type
    FROM args a JOIN literal t ON t.binding_id = a.root_binding_id WHERE len(a.attrs) = 0),
typed AS (  -- every argument passed for p typed
    SELECT a.callsite_id FROM args a LEFT JOIN (SELECT DISTINCT callsite_id, arg_id FROM classes) k USING (callsite_id, arg_id)
    GROUP BY ALL HAVING bool_and(k.arg_id IS NOT NULL)),
e AS (SELECT * FROM classes SEMI JOIN typed USING (callsite_id)),
c AS (SELECT * FROM cpg_call_sites SEMI JOIN s USING (callsite_id))
SELECT c.callsite_id AS ref_id, 'passed_instance' AS rule,
       0.8 * e.confidence * CASE WHEN o.complete THEN 1.0 ELSE 0.8 END AS confidence,
       x.def_id, x.qualname, x.path, x.kind, [e.qualname, x.qualname] AS via
FROM e JOIN c ON c.callsite_id = e.callsite_id
JOIN __lk_defs k ON k.qualname = CASE WHEN e.rule = 'class' THEN e.qualname ELSE e.via[-2] END AND k.kind = 'class'
JOIN cpg_mro o ON o.class_def_id = k.def_id
JOIN __lk_members x ON x.owner_key = coalesce(o.ancestor_def_id, '~' || o.ancestor_qualname) AND x.name = c.callee_attrs[1]
WHERE e.type IS NULL
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, e.arg_id, k.def_id ORDER BY o.mro_index, x.span_start_byte DESC,
                                        x.def_id, e.confidence DESC) = 1
UNION ALL  -- the builtin type's method (named by the class whose __dict__ holds it, as literal_bound)
SELECT c.callsite_id, 'passed_instance', 0.8 * e.confidence, NULL, '<builtin>.' || m.owner || '.' || m.name, NULL, NULL,
       [e.qualname, '<builtin>.' || m.owner || '.' || m.name]
FROM e JOIN c ON c.callsite_id = e.callsite_id JOIN __builtin_members m ON m.type = e.type AND m.name = c.callee_attrs[1]
"""

PASSED_PARAMS = ("SELECT DISTINCT param_binding_id AS binding_id FROM cpg_binds_arg WHERE path IN (SELECT path FROM "
                 "__scope) AND rule NOT IN ('passed_argument', 'passed_instance') AND param_binding_id IS NOT NULL")

PASSED_REFS = """
CREATE OR REPLACE TEMP TABLE __lk_refs AS
WITH c AS (SELECT callsite_id, binding_id FROM __lk_passed_sites
           WHERE callsite_id NOT IN (SELECT callsite_id FROM __lk_pinst_sites)),  -- (p.m(): PINST_CALLS)
once AS (SELECT binding_id FROM py_sym_name_sites SEMI JOIN c USING (binding_id) WHERE role = 'def'
         GROUP BY ALL HAVING count(*) = 1)
SELECT c.callsite_id || '|' || a.arg_id AS ref_id, a.path, a.root, a.root_binding_id, coalesce(a.attrs, []) AS attrs,
       a.value_def_id AS lambda_def_id, false AS container, c.callsite_id AS outer_id, b.confidence AS outer_confidence
FROM c SEMI JOIN once USING (binding_id)
JOIN cpg_binds_arg b ON b.param_binding_id = c.binding_id AND b.arg_id IS NOT NULL AND NOT b.implicit_receiver
 AND b.param_kind NOT IN ('vararg', 'kwarg')
JOIN cpg_call_args a ON a.arg_id = b.arg_id
"""

# One edge per call site and callee (its definition; its qualname when it has none): the most confident way of
# reaching it, then the shortest path, then the path's text, so that every run picks the same row.
INSERT_CALLS = """
INSERT INTO cpg_calls
SELECT {version}::SMALLINT, c.callsite_id, c.path, c.caller_def_id, c.caller_qualname, c.call_kind, c.lineno,
       e.def_id, e.qualname, e.path, e.rule, e.confidence::FLOAT, list_concat([c.callee_text], e.via)
FROM ({edges}) e JOIN cpg_call_sites c ON c.callsite_id = e.ref_id
WHERE e.def_id IS NULL OR e.def_id NOT IN (SELECT def_id FROM __lk_props)
QUALIFY row_number() OVER (PARTITION BY c.callsite_id, e.qualname, e.def_id
                           ORDER BY e.confidence DESC, len(e.via), e.rule, array_to_string(e.via, ' ')) = 1
"""

# Methods that are property getters, setters or deleters (`@property`, `@functools.cached_property`, any
# `@...cached_property`, `@x.setter`): `obj.p(...)` calls the value the getter returns, never the method, so no
# call edge goes to them (networkx: `self.degree(weight=w)`, degree a cached_property returning a view).
# Likewise a method decorated by a class of the repository that is a descriptor and not callable (its MRO
# defines __get__ and no __call__, as SQLAlchemy's memoized_property): `obj.m(...)` calls what __get__
# returns. (A decorator class that defines __call__ may forward to the method, and keeps the edge.) The
# decorator's class is the one its call site resolved to: this link's edges for the scope, the stored ones
# for the other files.
PROPERTIES = r"""
CREATE OR REPLACE TEMP TABLE __lk_props AS
WITH deco AS (
    SELECT e.ref_id AS callsite_id, e.rule, e.qualname, e.via FROM __lk_calls e
    WHERE e.rule IN ('class', 'constructor') AND contains(e.ref_id, ':DECORATOR:')
    UNION ALL
    SELECT callsite_id, rule, callee_qualname, via FROM cpg_calls
    WHERE call_kind = 'decorator' AND rule IN ('class', 'constructor')),
classes AS (
    SELECT DISTINCT split_part(d.callsite_id, ':DECORATOR:', 1) AS def_id, k.def_id AS class_def_id
    FROM deco d JOIN __lk_cdefs k ON k.kind = 'class'
     AND k.qualname = CASE WHEN d.rule = 'class' THEN d.qualname ELSE d.via[-2] END),
dunders AS (
    SELECT c.def_id, bool_or(x.name = '__get__') AS has_get, bool_or(x.name = '__call__') AS has_call
    FROM classes c JOIN cpg_mro o ON o.class_def_id = c.class_def_id
    JOIN __lk_cdefs x ON x.parent_def_id = o.ancestor_def_id AND x.name IN ('__get__', '__call__')
    GROUP BY c.def_id)
SELECT DISTINCT split_part(callsite_id, ':DECORATOR:', 1) AS def_id FROM cpg_call_sites
WHERE call_kind = 'decorator' AND (callee_text IN ('property', 'abstractproperty', 'abc.abstractproperty')
      OR ends_with(callee_text, 'cached_property') OR regexp_matches(callee_text, '\.(setter|getter|deleter)$'))
UNION
SELECT def_id FROM dunders WHERE has_get AND NOT has_call
"""

# Definitions a decorator of the repository replaces: the name then holds something that never runs the definition
# (`@singleton class Config` where singleton calls `cls()` once and returns a function of its own, `get`), so a call
# of the name gets no edge to the definition (nor, for a class, to its constructor). A decorator application (an
# edge of a `:DECORATOR:` site, made by this link or stored) that resolves to a function f of the repository (or what
# a decorator factory returns) whose first parameter p never escapes: bound once, every use of p is a call `p(...)`
# in f's own body (none in a function nested in f). What f returns cannot hold p then, nor call it later. p stored,
# passed (`update_wrapper(wrapper, p)`, `Cmd(p)`), returned or used by a nested wrapper (which calls it later, or
# functools.singledispatch's, which finds it in a registry) may run: the definition keeps its edges. So does it when the decorator is outside the repository,
# or one of several resolutions is not such a function.
# The edges ({e}: def_id, rule, qualname, via) that reach a replaced definition: the definition itself, or the
# constructor of a replaced class (`@singleton class Config`, then Config()).
_REPLACED_EDGE = ("({e}.def_id IN (SELECT def_id FROM __lk_replaced) OR ({e}.rule IN ('constructor', 'class') AND "
                  "CASE WHEN {e}.rule = 'class' THEN {e}.qualname ELSE {e}.via[-2] END IN ("
                  "SELECT qualname FROM __lk_replaced WHERE kind = 'class')))")
REPLACED = r"""
CREATE OR REPLACE TEMP TABLE __lk_replaced AS
WITH app AS (SELECT DISTINCT ref_id AS callsite_id, def_id AS fn_id
             FROM """ + _CALL_EDGES.format(where="contains(ref_id, ':DECORATOR:')") + r""" e),
sites AS (  -- (per function, whether p escapes: the lookup table cpg_link_plain_first, kept per file)
    SELECT a.callsite_id FROM app a LEFT JOIN cpg_link_plain_first f ON f.def_id = a.fn_id
    GROUP BY a.callsite_id
    HAVING bool_and(f.def_id IS NOT NULL AND f.plain))
SELECT DISTINCT d.def_id, d.qualname, d.kind FROM sites s
JOIN __lk_cdefs d ON d.def_id = split_part(s.callsite_id, ':DECORATOR:', 1)
"""

# The callees a value reaches (`passed_argument`: an argument passed for the parameter called, apply(self.scale, 3);
# `returned`: what the inner call returns, f()(x)) that are bound to a receiver or constructed, for BINDS: a method
# bound to an instance (`self.m` in a method, not a classmethod's `cls.m`, a plain function there; `x.m` of an
# instance), or a class, whose constructor gets the new instance (the class for __new__). {res}: the values'
# resolutions, keyed by the __lk_refs row (outer_id: the call site).
BOUND_VALUES = """
SELECT DISTINCT r.outer_id AS callsite_id, x.def_id, false AS constructed FROM {res} x JOIN __lk_refs r USING (ref_id)
JOIN __lk_self p ON p.binding_id = r.root_binding_id WHERE x.rule = 'self_method' AND len(r.attrs) = 1 AND NOT p.classmethod
UNION SELECT r.outer_id, x.def_id, false FROM {res} x JOIN __lk_refs r USING (ref_id) WHERE x.rule = 'instance_method'
UNION SELECT r.outer_id, x.def_id, true FROM {res} x JOIN __lk_refs r USING (ref_id)
WHERE x.rule = 'constructor' AND x.def_id IS NOT NULL
"""

# INS-ALG-6 over the definitions' own parameters (signature_source 'ast').
# (the calls first, into a temporary table: with their exact count DuckDB looks up the few callees' parameters and
# arguments instead of joining every parameter of the repository with its function first, ~50 ms of each of the
# two statements in an edit's link on the standard library; a full link: a view, not a copy of every edge)
BINDS = r"""
CREATE OR REPLACE TEMP {kind} __lk_bind_calls AS
WITH edges AS (  -- one row per call site and callee (the most confident rule)
    SELECT callsite_id, path, callee_def_id, first(rule ORDER BY confidence DESC, rule) AS rule,
           max(confidence) AS confidence
    FROM cpg_calls e WHERE {where} AND callee_def_id IS NOT NULL GROUP BY ALL)
SELECT e.callsite_id, e.path, e.callee_def_id, e.rule, e.confidence, d.kind AS callee_kind, d.name AS callee_name,
       s.ast_node_id AS site_node,
       s.callee_value_node_id, s.has_star_args OR s.has_star_kwargs AS starred, s.call_kind
FROM edges e JOIN __lk_cdefs d ON d.def_id = e.callee_def_id
JOIN {sites} s ON s.callsite_id = e.callsite_id AND s.path = e.path
WHERE d.kind IN ('function', 'method', 'lambda');
INSERT INTO cpg_binds_arg
WITH calls AS (SELECT * FROM __lk_bind_calls),
deco AS (SELECT regexp_extract(callsite_id, '^(.*):DECORATOR:\d+$', 1) AS def_id, any_value(callee_text) AS deco
         FROM cpg_call_sites WHERE call_kind = 'decorator' AND callee_text IN ('staticmethod', 'classmethod')
         GROUP BY ALL),
shaped AS (  -- does the call bind the method's first parameter itself (self / cls)? Not for __new__, a static method
             -- without the decorator (`super().__new__(cls, x)` passes cls itself), unless a constructor calls it
    SELECT * EXCLUDE (bound), bound AND (callee_name <> '__new__' OR constructs) AS receiver FROM (
    SELECT c.*, c.callee_kind = 'method' AND coalesce(k.deco, '') <> 'staticmethod'
             AND (c.rule IN ('self_method', 'super', 'constructor', 'instance_method', 'instance_call', 'result_method',
                            'scip_method',
                            'scip_constructor', 'override', 'super_subclass', 'subclass_constructor', 'annotation',
                            'returns_method', 'unpacked', 'abstract_override', 'attribute_instance', 'iterated',
                            'getattr_dispatch', 'same_class', 'passed_instance')
                  OR coalesce(k.deco, '') = 'classmethod'
                  -- a bound method passed as an argument (apply(self.scale, 3); f(x) in apply): its self is bound
                  -- or a class passed as an argument (f(Box); factory(x) in f): its __init__ / __new__ gets the
                  -- instance / the class from the call
                  -- and what a call returns, called (f()(x)): a bound method or a class, as for an argument
                  -- and F called through a functools.partial of it (partial(self.m, 1), partial(Box, 2))
                  OR (c.rule IN ('passed_argument', 'returned', 'partial') AND (c.callsite_id, c.callee_def_id) IN (
                          SELECT (callsite_id, def_id) FROM __lk_bound_values))) AS bound,
           c.rule IN ('constructor', 'scip_constructor', 'subclass_constructor')
             OR (c.rule IN ('passed_argument', 'returned', 'partial') AND (c.callsite_id, c.callee_def_id) IN (
                     SELECT (callsite_id, def_id) FROM __lk_bound_values WHERE constructed)) AS constructs,
           -- through a partial: the positional arguments it binds come first (NULL: unknown, a *args in it), and
           -- its F argument holds a bound method's receiver
           CASE WHEN c.rule = 'partial' THEN ps.shift ELSE 0 END AS shift, ps.f_node
    FROM calls c LEFT JOIN deco k ON k.def_id = c.callee_def_id
    LEFT JOIN __lk_partial ps ON c.rule = 'partial' AND ps.outer_id = c.callsite_id)),
{params},
npos AS (SELECT parent_def_id, count(*) FILTER (WHERE param_kind IN ('posonly', 'pos_or_kw')) AS n FROM params GROUP BY ALL),
named AS (SELECT * FROM params WHERE param_kind IN ('pos_or_kw', 'kwonly')),
args AS (SELECT a.* FROM cpg_call_args a SEMI JOIN (SELECT DISTINCT path FROM calls) f USING (path)
         SEMI JOIN (SELECT DISTINCT callsite_id FROM calls) c USING (callsite_id)),
before_star AS (SELECT callsite_id, count(*) FILTER (WHERE kind = 'positional' AND position IS NOT NULL) AS k
                FROM args WHERE callsite_id IN (SELECT callsite_id FROM args WHERE kind = 'star') GROUP BY ALL),
unmatched AS (  -- calls with a keyword that neither a named parameter nor a **kwargs takes (a TypeError, or the
                -- callee is not this definition); a keyword into **kwargs is bound for certain
    SELECT DISTINCT c.callsite_id, c.callee_def_id FROM shaped c JOIN args a USING (callsite_id)
    ANTI JOIN named p ON p.parent_def_id = c.callee_def_id AND p.name = a.keyword
    WHERE a.kind = 'keyword'
      AND c.callee_def_id NOT IN (SELECT parent_def_id FROM params WHERE param_kind = 'kwarg')),
wired AS (
    -- positional arguments to the positional parameters after the receiver, the rest to *args
    SELECT c.*, a.arg_id, a.ast_node_id AS arg_node, a.position, NULL::VARCHAR AS keyword, p.def_id AS param_def_id,
           p.name AS param_name, p.binding_id AS param_binding_id, p.param_kind, false AS implicit_receiver,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id)
    JOIN params p ON p.parent_def_id = c.callee_def_id AND p.param_index = a.position + c.receiver::INT + c.shift
     AND p.param_kind IN ('posonly', 'pos_or_kw')
    WHERE a.kind = 'positional'
    UNION ALL  -- positional arguments beyond the positional parameters, to *args
    SELECT c.*, a.arg_id, a.ast_node_id, a.position, NULL, p.def_id, p.name, p.binding_id, p.param_kind, false,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id) JOIN npos n ON n.parent_def_id = c.callee_def_id
    JOIN params p ON p.parent_def_id = c.callee_def_id AND p.param_kind = 'vararg'
    WHERE a.kind = 'positional' AND a.position + c.receiver::INT + c.shift >= n.n
    UNION ALL  -- positional arguments after a *xs (no position) when the ones before it fill every positional
               -- parameter: to *args as well (click's `help_option(*names, NAME)`, `def help_option(*param_decls)`)
    SELECT c.*, a.arg_id, a.ast_node_id, a.position, NULL, p.def_id, p.name, p.binding_id, p.param_kind, false,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id) JOIN npos n ON n.parent_def_id = c.callee_def_id
    JOIN before_star b USING (callsite_id)
    JOIN params p ON p.parent_def_id = c.callee_def_id AND p.param_kind = 'vararg'
    WHERE a.kind = 'positional' AND a.position IS NULL AND b.k + c.receiver::INT + c.shift >= n.n
    UNION ALL  -- keywords by name (never to positional-only parameters)
    SELECT c.*, a.arg_id, a.ast_node_id, NULL, a.keyword, p.def_id, p.name, p.binding_id, p.param_kind, false,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id)
    JOIN named p ON p.parent_def_id = c.callee_def_id AND p.name = a.keyword
    WHERE a.kind = 'keyword'
    UNION ALL  -- the keywords no named parameter takes, to **kwargs
    SELECT c.*, a.arg_id, a.ast_node_id, NULL, a.keyword, p.def_id, p.name, p.binding_id, p.param_kind, false,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id)
    JOIN params p ON p.parent_def_id = c.callee_def_id AND p.param_kind = 'kwarg'
    WHERE a.kind = 'keyword'
      AND NOT EXISTS (SELECT 1 FROM named q WHERE q.parent_def_id = c.callee_def_id AND q.name = a.keyword)
    UNION ALL  -- *xs to *args, **kw to **kwargs
    SELECT c.*, a.arg_id, a.ast_node_id, NULL, NULL, p.def_id, p.name, p.binding_id, p.param_kind, false,
           p.source, p.sig_param_id
    FROM shaped c JOIN args a USING (callsite_id) JOIN params p ON p.parent_def_id = c.callee_def_id
    WHERE (a.kind = 'star' AND p.param_kind = 'vararg') OR (a.kind = 'starstar' AND p.param_kind = 'kwarg')
    UNION ALL  -- the implicit receiver: the instance (self.m(), super().m(), the object a constructor makes), or cls:
               -- for a call of a name (x(...) calling __call__, `make = C.make; make(5)`) the name, which holds
               -- the instance or the bound method: the Call's func, its first child in preorder
    SELECT c.*, NULL, CASE WHEN c.constructs THEN c.site_node
                           WHEN c.rule = 'partial' THEN c.f_node  -- partial(self.m, ...): self.m holds it
                           WHEN (c.callee_value_node_id IS NULL OR c.rule = 'passed_argument') AND c.call_kind <> 'decorator'
                           THEN regexp_replace(c.site_node, '[0-9]+$', '')
                                || (CAST(regexp_extract(c.site_node, '([0-9]+)$', 1) AS INTEGER) + 1)
                           ELSE c.callee_value_node_id END, 0, NULL,
           p.def_id, p.name, p.binding_id, p.param_kind, true, p.source, p.sig_param_id
    FROM shaped c JOIN params p ON p.parent_def_id = c.callee_def_id AND p.param_index = 0
     AND p.param_kind IN ('posonly', 'pos_or_kw')
    WHERE c.receiver)
SELECT {version}::SMALLINT, w.callsite_id, w.path, w.callee_def_id, w.arg_id, w.arg_node, w.param_def_id, w.param_name,
       w.param_binding_id, w.param_kind, w.position, w.keyword, w.implicit_receiver, w.source, w.rule,
       (w.confidence * greatest(0.0, 1.0 - CASE WHEN w.starred THEN 0.2 ELSE 0.0 END
                                     - CASE WHEN u.callsite_id IS NOT NULL THEN 0.2 ELSE 0.0 END))::FLOAT,
       w.sig_param_id
FROM wired w LEFT JOIN unmatched u ON u.callsite_id = w.callsite_id AND u.callee_def_id = w.callee_def_id
WHERE w.arg_node IS NOT NULL
"""

# A parameter's name as the code object has it: `__obj` of a method of class Ctx is `_Ctx__obj` (private name
# mangling, which keyword arguments never get: `c.call(__obj=2)` goes to **kwargs, even inside the class).
RUNTIME_PARAM_NAME = ("CASE WHEN starts_with(p.name, '__') AND NOT ends_with(p.name, '__') AND ltrim(k.name, '_') <> '' "
                      "THEN '_' || ltrim(k.name, '_') || p.name ELSE p.name END")
_AST_PARAMS = """
    SELECT p.parent_def_id, p.def_id, """ + RUNTIME_PARAM_NAME + """ AS name, p.binding_id, p.param_kind,
           p.param_index, 'ast' AS source, NULL::VARCHAR AS sig_param_id
    FROM (SELECT DISTINCT callee_def_id FROM calls) c JOIN __lk_cdefs m ON m.def_id = c.callee_def_id
    JOIN __lk_cdefs p ON p.parent_def_id = m.def_id
    LEFT JOIN __lk_cdefs k ON k.def_id = m.parent_def_id AND k.kind = 'class' AND m.kind = 'method'
    WHERE p.kind = 'parameter'"""
AST_PARAMS = "params AS (" + _AST_PARAMS + ")"

# Where the inspect plane ran: the callee's runtime signature ('wrapped' preferred), its parameters matched by
# name to those of the code that really runs (the def the object is anchored to: a decorator's wrapper when it
# did not use functools.wraps); the definition's own parameters otherwise.
INSPECT_PARAMS = """insp AS (
    SELECT d.def_id, d.path, s.signature_id, a.ast_node_id AS code_def_id
    FROM (SELECT d.def_id, d.path, coalesce(mv, o.object_id) AS object_id, mv IS NOT NULL AS by_member
          FROM __lk_cdefs d JOIN __lk_cdefs pd ON pd.def_id = d.parent_def_id
          -- what the name is bound to at runtime: the member of its module or class (a decorator may have
          -- replaced the function), else the object of that qualname
          LEFT JOIN py_inspect_objects po ON po.path = d.path AND po.ok AND po.module_name || '.' ||
               CASE WHEN po.kind = 'module' THEN '' ELSE po.qualname END = pd.qualname || CASE WHEN po.kind = 'module'
               THEN '.' ELSE '' END
          LEFT JOIN py_inspect_members_static m ON m.owner_object_id = po.object_id AND m.path = po.path
           AND m.attr_name = d.name AND m.ok
          -- the member is this def's object (perhaps decorated) when the name is bound by `def` / `class`
          -- statements only, or when the member's code is this def's; a name also bound by an assignment or an
          -- import may hold that value instead (`if new_scipy: cg = scipy.sparse.linalg.cg` / `else: def cg(...)`):
          -- its signature is not this def's, whose own parameters are then wired from the AST
          LEFT JOIN (SELECT DISTINCT binding_id FROM py_sym_name_sites
                     SEMI JOIN (SELECT binding_id FROM __lk_cdefs WHERE def_id IN (SELECT callee_def_id FROM calls))
                       USING (binding_id)
                     WHERE role = 'def' AND ast_kind NOT IN ('FunctionDef', 'AsyncFunctionDef', 'ClassDef')) ob
            ON ob.binding_id = d.binding_id
          LEFT JOIN py_inspect_object_anchors an ON an.object_id = m.value_object_id AND an.path = m.path AND an.ok
           AND an.ast_node_id = d.def_id
          LEFT JOIN py_inspect_objects o ON o.path = d.path AND o.ok AND o.module_name || '.' || o.qualname = d.qualname
          , LATERAL (SELECT CASE WHEN ob.binding_id IS NULL OR an.object_id IS NOT NULL THEN m.value_object_id END AS mv)
          WHERE d.def_id IN (SELECT callee_def_id FROM calls)) d
    JOIN py_inspect_signatures s ON s.object_id = d.object_id AND s.path = d.path AND s.ok
    LEFT JOIN py_inspect_object_anchors a ON a.object_id = d.object_id AND a.path = d.path AND a.ok
    QUALIFY row_number() OVER (PARTITION BY d.def_id ORDER BY d.by_member DESC, s.variant = 'wrapped' DESC) = 1),
params AS (
    SELECT i.def_id AS parent_def_id, q.def_id, p.name, q.binding_id,
           CASE p.kind WHEN 'POSITIONAL_ONLY' THEN 'posonly' WHEN 'POSITIONAL_OR_KEYWORD' THEN 'pos_or_kw'
                WHEN 'VAR_POSITIONAL' THEN 'vararg' WHEN 'KEYWORD_ONLY' THEN 'kwonly' ELSE 'kwarg' END AS param_kind,
           p.param_index, 'inspect' AS source, p.signature_id || ':' || p.param_index AS sig_param_id
    -- the signature's rows in the definition's file: a module that imports the object has rows with the same
    -- ids (py_inspect_signatures.path is one module that binds it), which would wire every argument twice
    FROM insp i JOIN py_inspect_signature_params p ON p.signature_id = i.signature_id AND p.path = i.path AND p.ok
    LEFT JOIN __lk_cdefs q ON q.parent_def_id = coalesce(i.code_def_id, i.def_id) AND q.kind = 'parameter'
     AND (q.name = p.name OR (starts_with(q.name, '__') AND NOT ends_with(q.name, '__')  -- mangled: _Ctx__obj
                              AND starts_with(p.name, '_') AND ends_with(p.name, q.name)))
    UNION ALL
    SELECT * FROM (""" + _AST_PARAMS + """) WHERE parent_def_id NOT IN (SELECT def_id FROM insp))"""
INSPECT_TABLES = ("py_inspect_objects", "py_inspect_signatures", "py_inspect_signature_params",
                  "py_inspect_object_anchors")


# Interprocedural REACHES: the definitions reaching a name argument's load, on to the parameter it binds.
# (the wiring rows first, into a temporary table, each half by its own filter: one scan with `path IN scope OR
# callsite_id IN passed` joined every row of cpg_binds_arg with its argument and call site before filtering, ~70 ms
# of each edit's link on the standard library; the arguments and call sites are read from those rows' files; a full
# link: a view, not a copy of every row)
ARG_REACHES = """
CREATE OR REPLACE TEMP {kind} __lk_reach_binds AS
SELECT * FROM cpg_binds_arg WHERE path IN ({scope})
UNION ALL
SELECT * FROM cpg_binds_arg WHERE path IN (SELECT path FROM __lk_passed_sites) AND callsite_id IN ({sites})
  AND path NOT IN ({scope});
INSERT INTO cpg_arg_reaches
WITH f AS (SELECT DISTINCT path FROM __lk_reach_binds),
b AS (SELECT b.*, a.root, s.code_unit_id, s.span_start_byte, s.span_end_byte
      FROM __lk_reach_binds b JOIN (SELECT * FROM cpg_call_args SEMI JOIN f USING (path)) a ON a.arg_id = b.arg_id
      JOIN (SELECT * FROM cpg_call_sites SEMI JOIN f USING (path)) s ON s.callsite_id = b.callsite_id
      WHERE a.root IS NOT NULL AND len(a.attrs) = 0),
r AS (SELECT r.* FROM py_reaching_defs r SEMI JOIN (SELECT DISTINCT path FROM b) p USING (path)
      SEMI JOIN (SELECT DISTINCT code_unit_id FROM b) u USING (code_unit_id)),
i AS (SELECT instr_id, span_start_byte, span_end_byte FROM py_bc_instructions
      SEMI JOIN (SELECT DISTINCT path FROM b) p USING (path)
      SEMI JOIN (SELECT DISTINCT code_unit_id FROM b) u USING (code_unit_id))
SELECT {version}::SMALLINT, b.callsite_id, b.path, b.arg_id, r.def_instr_id, r.def_kind, r.use_instr_id, b.param_binding_id,
       b.callee_def_id, b.confidence
FROM b JOIN r ON r.code_unit_id = b.code_unit_id AND r.name = b.root
JOIN i ON i.instr_id = r.use_instr_id AND i.span_start_byte >= b.span_start_byte AND i.span_end_byte <= b.span_end_byte
-- one row per key: callees that run the same code (one decorator's wrapper, by their runtime signatures) bind
-- the argument to the same parameter; the most confident callee (then the first id) is the row's
QUALIFY row_number() OVER (PARTITION BY b.callsite_id, b.arg_id, r.use_instr_id, r.def_instr_id, r.def_kind,
                                        b.param_binding_id ORDER BY b.confidence DESC, b.callee_def_id) = 1
"""


_TYPED_DICTS = frozenset({"typing.TypedDict", "typing_extensions.TypedDict"})
_NAMED_TUPLES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})


def c3_mro(inherits: list[tuple]) -> list[tuple]:
    """CPython's C3 linearisation of every class, from (class_def_id, class_qualname, base_index, base_def_id,
    base_qualname) rows (base_index None: a class without bases); a base outside the repository is a leaf (its own bases unknown). A hierarchy C3
    rejects (CPython raises TypeError at class creation) keeps the class and its bases in order."""
    bases: dict[str, list[tuple[str | None, str]]] = {}
    names: dict[str, str] = {}
    for cls, qual, index, base_id, base_q in sorted(inherits, key=lambda r: (r[0], -1 if r[2] is None else r[2])):
        names[cls] = qual
        bases.setdefault(cls, [])
        if index is not None:  # a class without bases has one row, with no base
            bases[cls].append((base_id, base_q))
    # Classes typing's metaclasses make of other bases: `class D(TypedDict)` and every subclass of such a class
    # is a plain dict subclass (D.__mro__ == (D, dict, object)); `class T(NamedTuple)` a tuple subclass.
    typed: dict[str, bool] = {}

    def is_typed_dict(cls: str, seen: frozenset = frozenset()) -> bool:
        if cls not in typed:
            typed[cls] = any(q in _TYPED_DICTS or (b is not None and b in bases and b not in seen and b != cls
                                                   and is_typed_dict(b, seen | {cls})) for b, q in bases.get(cls, []))
        return typed[cls]

    for cls in list(bases):
        if is_typed_dict(cls):
            bases[cls] = [(None, "<builtin>.dict")]
        elif any(q in _NAMED_TUPLES for _, q in bases[cls]):
            bases[cls] = [(None, "<builtin>.tuple") if q in _NAMED_TUPLES else (b, q) for b, q in bases[cls]]
    memo: dict[str, list[tuple[str | None, str]]] = {}

    def linear(cls: str, seen: frozenset) -> list[tuple[str | None, str]]:
        if cls in memo:
            return memo[cls]
        me = (cls, names.get(cls, cls))
        direct = [b for b in bases.get(cls, []) if b[0] != cls]
        seqs = [linear(b[0], seen | {cls}) if b[0] is not None and b[0] not in seen and b[0] in bases
                else [b] for b in direct]
        seqs.append(list(direct))
        out = [me]
        seqs = [list(s) for s in seqs if s]
        while seqs:
            head = next((s[0] for s in seqs if not any(s[0] in t[1:] for t in seqs)), None)
            if head is None:  # inconsistent: CPython would refuse the class
                out = [me, *direct]
                break
            out.append(head)
            seqs = [s[1:] if s[0] == head else s for s in seqs]
            seqs = [s for s in seqs if s]
        memo[cls] = out
        return out

    rows = []
    for cls in sorted(bases):
        complete = True
        for k, (anc, q) in enumerate(linear(cls, frozenset())):
            rows.append((cls, names[cls], k, anc, q, complete))
            if anc is None and q not in ("<builtin>.object", "object"):
                complete = False
    return rows


# The classes whose MRO a link can change: the scope's classes (their bases were resolved again), before and
# after, and every class whose MRO held one of them (the stored MRO lists every ancestor, transitively).
MRO_AFFECTED = r"""
CREATE OR REPLACE TEMP TABLE __lk_mro_affected AS
WITH RECURSIVE down(def_id) AS (  -- and the classes below them by their written bases (a TypedDict subclass's MRO
                                  -- does not list its base)
    SELECT def_id FROM __lk_cdefs WHERE kind = 'class' AND path IN (SELECT path FROM __scope)
    UNION SELECT i.class_def_id FROM down JOIN cpg_inherits i ON i.base_def_id = down.def_id)
SELECT def_id FROM down
UNION SELECT class_def_id FROM cpg_mro
WHERE regexp_extract(class_def_id, '^(.*):AST:[0-9]+$', 1) IN (SELECT path FROM __scope)
   OR regexp_extract(ancestor_def_id, '^(.*):AST:[0-9]+$', 1) IN (SELECT path FROM __scope)
"""
# Every class with its bases (one row per base; a class without bases: one row with none).
MRO_INPUT = """
SELECT c.def_id, c.qualname, i.base_index, i.base_def_id, i.base_qualname FROM __lk_cdefs c
LEFT JOIN cpg_inherits i ON i.class_def_id = c.def_id WHERE c.kind = 'class'
"""
# ... of the affected classes and of every class their bases reach (C3 needs the whole chain above a class).
MRO_CHAIN = """
WITH RECURSIVE chain(def_id) AS (
    SELECT def_id FROM __lk_mro_affected
    UNION SELECT i.base_def_id FROM chain JOIN cpg_inherits i ON i.class_def_id = chain.def_id
    WHERE i.base_def_id IS NOT NULL)
""" + MRO_INPUT + " AND c.def_id IN (SELECT def_id FROM chain)"


def _mro_rows(conn, full: bool) -> list[tuple]:
    """The MRO rows to insert, the rows they replace deleted: every class (``full``) or the classes a link of the
    scope can change (``MRO_AFFECTED``; a class's C3 depends only on the classes above it, so the others keep
    their rows). Recomputing every class was ~0.4 s of each one-file edit's link on the standard library."""
    from resources.duck import run
    if full:
        run(conn, f"DELETE FROM {CPG_MRO.name}")
        return c3_mro(conn.execute(MRO_INPUT).fetchall())
    run(conn, MRO_AFFECTED)
    run(conn, f"DELETE FROM {CPG_MRO.name} WHERE class_def_id IN (SELECT def_id FROM __lk_mro_affected)")
    affected = {r[0] for r in conn.execute("SELECT def_id FROM __lk_mro_affected").fetchall()}
    return [r for r in c3_mro(conn.execute(MRO_CHAIN).fetchall()) if r[0] in affected]


def _resolve(conn, needed: str, narrow: bool) -> None:
    """Meanings for the roots of ``__lk_refs`` (and what ``needed`` adds), then ``__lk_res``. No refs (a stage with
    nothing to resolve in the scope): ``__lk_walk`` and ``__lk_res`` emptied, as the statements would leave them, in
    one statement instead of five.

    ``narrow`` (a link of some files): the value refs, binding sites and definitions of the refs' files (a ref's
    file and its root binding's) copied first (``__lk_need_*``), which is every row of them a meaning or the walk
    looks up by binding: a binding id starts with its file's path, and a value ref, binding site or definition is
    its binding's file's. Read from the stored tables, each of nine resolutions cost ~0.1 s on the standard library
    whatever the number of refs; a full link reads them whole (views)."""
    from resources.duck import run
    if run(conn, "SELECT NOT EXISTS (SELECT 1 FROM __lk_refs) AND (SELECT count(*) FROM duckdb_tables() WHERE temporary "
                 "AND table_name IN ('__lk_walk', '__lk_res')) = 2")[0][0]:
        run(conn, "DELETE FROM __lk_walk; DELETE FROM __lk_res")
        return
    _need_tables(conn, narrow)
    run(conn, MEANING.format(needed=needed, import_target=IMPORT_TARGET.format(i="i"), suffix=_suffix("v.attrs")))
    star = run(conn, "SELECT EXISTS (SELECT 1 FROM __lk_cimports SEMI JOIN (SELECT DISTINCT path FROM __lk_refs) r "
                     "USING (path) WHERE is_star AND imported_module IS NOT NULL)")[0][0]
    compiled = run(conn, "SELECT EXISTS (SELECT 1 FROM __ext_modules)")[0][0]
    _run_statements(conn, RESOLVE.format(suffix=_suffix("r.attrs"), max_hops=MAX_REEXPORT_HOPS,
                                         star=STAR_IMPORTS if star else NO_STAR_IMPORTS,
                                         compiled=COMPILED_EXTERNAL if compiled else ""))


def _need_tables(conn, narrow: bool, files: str | None = "(SELECT path FROM __lk_refs UNION SELECT split_part("
                 "root_binding_id, ':SCOPE:', 1) FROM __lk_refs WHERE root_binding_id IS NOT NULL)") -> None:
    """``__lk_need_vrefs`` / ``__lk_need_defsites`` / ``__lk_need_cdefs``: the value refs, `def` binding sites and
    definitions of ``files`` (``narrow``; else views of them all). ``files`` None: made empty, at a link's start.
    Cumulative within a link: a resolution adds the rows of the files no earlier one copied (``__lk_need_files``),
    so the nine resolutions of an edit's link copy their files once, not nine times (~0.3 s of each such link on
    the standard library). Rows of more files than a statement's refs need change nothing: every statement reads
    them by binding or by the refs' paths, and a full link reads the same statements over every row."""
    from resources.duck import run
    if not narrow:
        _replace_temp(conn, "__lk_need_vrefs", f"SELECT * FROM {CPG_VALUE_REFS.name}", table=False)
        _replace_temp(conn, "__lk_need_defsites", "SELECT path, binding_id, ast_node_id FROM py_sym_name_sites "
                      "WHERE role = 'def'", table=False)
        _replace_temp(conn, "__lk_need_cdefs", "SELECT * FROM __lk_cdefs", table=False)
        return
    start = files is None
    if start:
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_need_files (path VARCHAR)")
        new = "(SELECT NULL::VARCHAR AS path)"
    else:
        run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_need_new AS SELECT DISTINCT path FROM {files} f "
                  "WHERE path IS NOT NULL AND path NOT IN (SELECT path FROM __lk_need_files)")
        if not _has_rows(conn, "__lk_need_new"):
            return
        new = "(SELECT path FROM __lk_need_new)"
    for name, select in (("__lk_need_vrefs", f"SELECT * FROM {CPG_VALUE_REFS.name} WHERE path IN {new}"),
                         ("__lk_need_defsites", "SELECT path, binding_id, ast_node_id FROM py_sym_name_sites "
                                                f"WHERE role = 'def' AND path IN {new}"),
                         ("__lk_need_cdefs", f"SELECT * FROM __lk_cdefs WHERE path IN {new}")):
        if start:
            _replace_temp(conn, name, select, table=True)
        else:
            run(conn, f"INSERT INTO {name} {select}")
    if not start:
        run(conn, "INSERT INTO __lk_need_files SELECT path FROM __lk_need_new")


def _exists(source: str) -> str:
    """SQL that is true when ``source`` (a table, or a query) has a row."""
    return f"EXISTS ({source})" if source.lstrip().upper().startswith("SELECT") else f"EXISTS (SELECT 1 FROM {source})"


def _has_rows(conn, table: str) -> bool:
    """Does ``table`` (a temporary table a stage starts from) have a row? A stage over none is skipped."""
    from resources.duck import run
    return run(conn, f"SELECT {_exists(table)}")[0][0]


# A statement's guard: a comment line `-- rows from: a, b` (temporary tables) in the statement says that every row it
# makes (or deletes) joins a row of one of them; with none, ``_run_statements`` does not run it (``_run_if``).
_ROWS_FROM = re.compile(r"^\s*-- rows from: ([\w, ]+)$", re.M)
# A statement that makes a temporary table or view: ``_run_if`` makes it empty instead of skipping it.
_MAKES_TEMP = re.compile(r"^\s*(?:--[^\n]*\n\s*)*CREATE OR REPLACE TEMP (TABLE|VIEW) (\w+) AS\b")


def _run_if(conn, sql: str, *sources: str) -> list:
    """Run the one statement ``sql`` if one of ``sources`` (a table, or a query) has a row, and return what
    ``run`` returns. Each source must be one that every row the statement makes (or deletes) joins: with no row
    in any of them the statement makes none, and it is not run (DuckDB would still plan it and build its hash
    tables on the repository-wide side: 10-60 ms a statement; a one-file edit's link had 68 statements that made
    no row, 30 % of its statement time). A temporary table or view it would make is made empty instead, with its
    columns (``LIMIT 0``: planned, ~2 ms, not executed), so that no later statement reads a stale one (a
    connection links many times) or finds none. Returns ``[(0,)]`` then, as DuckDB reports no row made."""
    from resources.duck import run
    if not sources or run(conn, "SELECT " + " OR ".join(map(_exists, sources)))[0][0]:
        return run(conn, sql)
    made = _MAKES_TEMP.match(sql)
    if made:
        kind, name = made.groups()
        body = sql[made.end():].rstrip().removesuffix(";")
        run(conn, f"CREATE OR REPLACE TEMP {kind} {name} AS SELECT * FROM ({body}\n) LIMIT 0")
    return [(0,)]


def _run_statements(conn, sql: str, unless_empty: dict[int, str] | None = None) -> None:
    """Statements separated by ';' at a line end, in order (a temporary table per stage). A statement runs unless
    its guard says it can make no row (``_run_if``): its `-- rows from:` comment, or ``unless_empty`` (statement
    number -> a table whose rows the statement starts from)."""
    for k, statement in enumerate(sql.split(";\n")):
        if not statement.strip():
            continue
        marked = _ROWS_FROM.search(statement)
        sources = [t.strip() for t in marked.group(1).split(",")] if marked else []
        if unless_empty and k in unless_empty:
            sources.append(unless_empty[k])
        _run_if(conn, statement, *sources)


def _run_chain(conn, sql: str, first: str) -> None:
    """A stage whose first statement makes ``first`` and whose every later statement reads only what the ones
    before it made (SUBCLASS_CALLS, ABSTRACT_OVERRIDES): the rest is skipped when ``first`` has no row. Most edits'
    scopes have no site such a stage starts from, and its later statements still cost DuckDB their plans and hash
    tables on the repository-wide side (together 30-90 ms of CPU per link in a statement profile on the standard
    library; within the noise of a whole edit's link, 2.6-3.4 s, in four alternating series). The temporary tables
    it would make are read by no other statement, so none is left stale."""
    head, _, rest = sql.partition(";\n")
    _run_statements(conn, head)
    if _has_rows(conn, first):
        _run_statements(conn, rest)


def _set_scope(conn, paths: set[str], whole: bool = False) -> None:
    """``__scope``: the files a link resolves again, with their call sites (``__lk_scope_sites``), value refs
    (``__lk_scope_vrefs``) and binding sites (``__lk_scope_defs``: py_sym_name_sites' `def` rows) copied into
    temporary tables (``whole``, every file: views of the stored tables). A binding id starts with its file's path,
    and a value ref or binding site is its file's: a rule that looks up the bindings of the scope's sites (or the
    value refs of their files) finds every row it can match in these.

    Most rules start from the scope's sites. Read through a view (the stored table semi-joined with the file
    list) DuckDB estimated them at the table's size and built its hash tables on the other side of each join,
    the repository's definitions, MROs and calls, also when the scope had no site of the rule's kind; a
    temporary table has exact statistics, so a rule with few sites costs what its sites cost (0.4 s of each
    edit's link on the standard library, half of it on a file with no call sites)."""
    conn.unregister("__scope")
    conn.register("__scope", pa.table({"path": pa.array(sorted(paths), pa.string())}))
    scoped = "" if whole else " SEMI JOIN __scope USING (path)"
    for name, table in (("__lk_scope_sites", "cpg_call_sites"), ("__lk_scope_vrefs", CPG_VALUE_REFS.name)):
        _replace_temp(conn, name, f"SELECT * FROM {table}{scoped}", table=not whole)
    _replace_temp(conn, "__lk_scope_defs", "SELECT path, binding_id, ast_node_id, name FROM py_sym_name_sites"
                  f"{scoped} WHERE role = 'def'", table=not whole)
    _replace_temp(conn, "__lk_scope_cdefs", f"SELECT * FROM __lk_cdefs{scoped}", table=not whole)


# The temporary objects a link makes a table of (a link of some files) or a view (a full link): dropped before each
# link (DuckDB replaces a view only by a view, a table by a table; a connection may link both ways).
SCOPED_TEMPS = ("__lk_scope_sites", "__lk_scope_vrefs", "__lk_scope_defs", "__lk_scope_cdefs", "__lk_reach_binds",
                "__lk_bind_calls",
                "__lk_sites", "__lk_need_vrefs",
                "__lk_need_defsites", "__lk_need_cdefs")


def _drop_scoped_temps(conn) -> None:
    from resources.duck import run
    for kind, name in run(conn, "SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND table_name IN "
                                "(SELECT unnest($n)) UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE "
                                "temporary AND view_name IN (SELECT unnest($n))", {"n": list(SCOPED_TEMPS)}):
        run(conn, f"DROP {kind} {name}")


def _replace_temp(conn, name: str, select: str, table: bool) -> None:
    """The temporary table (``table``) or view ``name`` (one of SCOPED_TEMPS) as ``select``."""
    from resources.duck import run
    run(conn, f"CREATE OR REPLACE TEMP {'TABLE' if table else 'VIEW'} {name} AS {select}")


def _link(conn, scope_sql: str, full: bool = False, quiet: frozenset[str] = frozenset()) -> set[str]:
    """Every link table brought up to date for the files of ``__scope`` (plus the MRO of the classes above and
    below the scope's, and the calls through parameters), inside the caller's transaction; ``full``: the lookup
    tables and the MRO whole. ``__scope`` is extended with the files
    of the ancestors of its classes (returned: the files added), but not of the classes of ``quiet`` files
    (``quiet_paths``: edited files none of whose classes changed)."""
    from resources.duck import run
    conn.register("__lk_quiet", pa.table({"path": pa.array(sorted(quiet), pa.string())}))
    run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_dispatch AS ({scope_sql}) EXCEPT SELECT path FROM __lk_quiet")
    conn.unregister("__lk_quiet")
    roots = "SELECT root_binding_id AS binding_id FROM __lk_refs"
    from resources.duck import present_tables
    have_tables = present_tables(conn, (*INSPECT_TABLES, "scip_occurrences"))
    params = INSPECT_PARAMS if set(INSPECT_TABLES) <= have_tables else AST_PARAMS
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_meaning (binding_id VARCHAR, name VARCHAR, rule VARCHAR, "
              "kind VARCHAR, confidence DOUBLE)")
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_bound_values (callsite_id VARCHAR, def_id VARCHAR, constructed BOOLEAN)")
    _lookups(conn, full)
    ancestors = {r[0] for r in run(conn, ANCESTOR_FILES)}  # of the scope's classes as the last link saw them
    run(conn, f"DELETE FROM {CPG_INHERITS.name} WHERE path IN ({scope_sql})")
    # 1. class bases, then the MRO of the classes this can change (C3 in Python over one row per class and base:
    #    bounded by the number of classes, not of facts; ``_mro_rows``)
    run(conn, BASE_REFS)
    _ext_members(conn)  # (the MRO as the last link left it: a base named `K.Inner` of a class outside)
    _resolve(conn, roots, not full)
    run(conn, INHERITS.format(version=SCHEMA_VERSION))
    mro = _mro_rows(conn, full)
    if mro:
        cols = list(zip(*mro))
        conn.register("__lk_mro", pa.table({n: pa.array(v, type=CPG_MRO.schema.field(n).type) for n, v in
                                            zip(CPG_MRO.schema.names[-6:], cols)}))
        run(conn, f"INSERT INTO {CPG_MRO.name} SELECT {SCHEMA_VERSION}::SMALLINT, * FROM __lk_mro")
        conn.unregister("__lk_mro")
    _ext_members(conn)  # the classes outside the repository the MRO names now
    # the files of the ancestors of the scope's classes, before and after: their calls through self, cls and
    # super() reach into the scope's subclasses (SUBCLASS_CALLS), so they are resolved again too
    ancestors |= {r[0] for r in run(conn, ANCESTOR_FILES)}
    # (the MRO now has the scope's new subclasses; the candidates first: most edits have none a declared-type
    # rule reaches, and the query over them reads the instructions of their code units)
    if _run_if(conn, ABSTRACT_CANDIDATES, "SELECT 1 FROM cpg_mro o JOIN __lk_scope_cdefs c ON c.def_id = o.class_def_id "
               "WHERE o.mro_index > 0 AND o.ancestor_def_id IS NOT NULL")[0][0]:  # (a base class of the repository)
        ancestors |= {r[0] for r in run(conn, ABSTRACT_CALLERS)}
    scope = {r[0] for r in run(conn, scope_sql)}
    extra = (ancestors - scope) & {r[0] for r in run(conn, "SELECT path FROM cpg_files")}
    if extra:
        _set_scope(conn, scope | extra)
    run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_passed_params AS {PASSED_PARAMS}")  # bound before this link
    for t in (CPG_CALLS.name, CPG_BINDS_ARG.name, CPG_ARG_REACHES.name):
        run(conn, f"DELETE FROM {t} WHERE path IN ({scope_sql})")
    # 2. call sites: names, attributes, container items; super(); then functions returned by resolved calls
    run(conn, CALL_REFS)
    _resolve(conn, roots, not full)
    run(conn, GENERATED_INIT)
    _run_statements(conn, CONSTRUCTORS)
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_calls AS " + CALLABLE.format(res="__lk_res")
        + " UNION ALL SELECT * FROM (" + SUPER + ")")
    _ext_members(conn, called=True)  # (and the classes outside the repository that the scope's calls name)
    _run_if(conn, OPENED, "SELECT 1 FROM __lk_calls WHERE qualname IN ('<builtin>.open', 'io.open')")
    run(conn, MAKERS)
    run(conn, SHADOWED)
    run(conn, AWAITED)
    _run_statements(conn, ALIAS_SITES)
    _replace_temp(conn, "__lk_sites", SITES, table=not full)
    run(conn, INSTANCE_BINDINGS)
    # the constructor calls of one receiver that find m at the same definition (Graph.nodes through DiGraph() and
    # Graph(), or Graph() twice): one edge, their shares summed
    _run_if(conn, "INSERT INTO __lk_calls SELECT ref_id, rule, sum(confidence), def_id, qualname, path, kind, "
                  "arg_min(via, array_to_string(via, ' ')) FROM (" + INSTANCE + " UNION ALL " + INSTANCE_CALL
            + ") GROUP BY ref_id, rule, def_id, qualname, path, kind", "__lk_inst")
    run(conn, IMPORTED_VARS)
    _run_if(conn, "INSERT INTO __lk_calls " + IMPORTED_INSTANCE, "__lk_imp_vars")
    _run_if(conn, PARTIAL_SITES, "SELECT 1 FROM __lk_calls WHERE qualname IN " + _PARTIALS,
            "SELECT 1 FROM cpg_calls WHERE callee_qualname IN " + _PARTIALS)  # (the call walk still there)
    run(conn, "INSERT INTO __lk_calls " + RESULT_METHOD)
    _run_if(conn, "INSERT INTO __lk_calls " + LITERAL_METHODS, "SELECT 1 FROM __lk_scope_sites WHERE callee_literal_type "
            "IS NOT NULL", "SELECT 1 FROM __lk_scope_vrefs WHERE role = 'literal'")
    _run_chain(conn, SUBCLASS_CALLS, "__lk_sub_site")
    run(conn, CLASS_ATTRIBUTE_REFS)
    _resolve(conn, roots, not full)
    run(conn, "INSERT INTO __lk_calls " + CLASS_ATTRIBUTE)
    run(conn, "INSERT INTO __lk_calls " + TYPE_OF_SELF)
    _run_if(conn, ANNOTATION_REFS, "SELECT 1 FROM __lk_scope_vrefs WHERE (root IS NOT NULL AND role IN ('annotation', "
                                  "'annotation_item')) OR (role = 'iter' AND len(attrs) = 1)")
    _resolve(conn, roots, not full)
    _run_if(conn, DECLARED, "__lk_res")
    _run_if(conn, "INSERT INTO __lk_calls " + ANNOTATED + " UNION ALL " + ITERATED_ATTR, "__lk_declared")
    run(conn, RETURNS_REFS)
    _resolve(conn, roots, not full)
    _run_statements(conn, RETURNS)
    # a function of the standard library returns the class its stub declares (`logging.getLogger` -> logging.Logger)
    # (the repository's class of that name where it has one)
    _run_if(conn, "INSERT INTO __lk_returns SELECT DISTINCT '~' || r.qualname, coalesce(k.def_id, '~' || r.class_qualname), "
                  "r.class_qualname, 1.0, false FROM __lk_ext_returns r LEFT JOIN __lk_defs k ON k.qualname = r.class_qualname "
                  "AND k.kind = 'class'", "__lk_ext_returns")
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_ret_seen (def_id VARCHAR)")
    _run_statements(conn, INFERRED_RETURNS)
    _run_if(conn, WITH_BINDINGS, "SELECT 1 FROM __lk_scope_vrefs WHERE role = 'with'")
    _run_if(conn, "INSERT INTO __lk_calls " + WITH_METHODS, "__lk_with")
    _run_if(conn, "INSERT INTO __lk_calls " + ITERATED_CALL + " UNION ALL " + ITERATED_PARAM, "__lk_returns_item",
            "__lk_declared")
    _run_if(conn, "INSERT INTO __lk_calls " + RETURNED_INSTANCE, "__lk_returns")
    _run_if(conn, "INSERT INTO __lk_calls " + UNPACKED, "__lk_returns_tuple", "__lk_returns_item")
    _run_if(conn, "INSERT INTO __lk_calls " + RETURNED_RESULT, "__lk_returns")
    run(conn, ATTRIBUTE_RECEIVERS)  # (after RETURNS: a store `self.a = f()` may call a `def f() -> C`)
    run(conn, ATTRIBUTE_CALLS)
    _run_if(conn, STORED_PARAM_REFS, "__lk_attr_calls")
    _resolve(conn, roots, not full)
    _run_if(conn, STORED_PARAM_DECLARED, "__lk_res")
    _run_statements(conn, "INSERT INTO __lk_calls " + ATTRIBUTE_INSTANCE, {0: "__lk_attr_calls"})
    _run_statements(conn, REBOUND_SITES)
    run(conn, RETURNS_REFS_LATE)
    _resolve(conn, roots, not full)
    _run_if(conn, RETURNS_LATE, "__lk_res")
    _run_statements(conn, INFERRED_RETURNS)
    _run_statements(conn, REBOUND)
    if _has_rows(conn, "__lk_attr_calls_rebound"):  # (most edits have none: 30 ms saved)
        run(conn, "INSERT INTO __lk_calls " + _attribute_instance("__lk_attr_calls_rebound"))
    _run_if(conn, "INSERT INTO __lk_calls " + RETURNED_INSTANCE_LATE, "__lk_returns")
    _run_if(conn, "INSERT INTO __lk_calls " + RETURNED_RESULT_LATE, "__lk_returns")
    _run_if(conn, RETURN_REFS, "SELECT 1 FROM __lk_scope_sites WHERE callee_kind IN ('call', 'attribute_of_call')",
            "SELECT 1 FROM __lk_scope_sites c JOIN __lk_scope_vrefs b ON b.target_binding_id = c.callee_root_binding_id "
            "AND b.role = 'instance' AND b.path = c.path WHERE c.callee_kind IN ('name', 'attribute') "
            "AND c.call_kind = 'call'")
    _resolve(conn, roots, not full)
    _run_if(conn, "CREATE OR REPLACE TEMP TABLE __lk_returned_res AS " + CALLABLE.format(res="__lk_res"), "__lk_res")
    # (1/n for n definitions reached: a function that returns one class by its body and its `-> type[C]`, or
    # returns one function from two branches, reaches one)
    returned = ("SELECT r.outer_id AS ref_id, 'returned' AS rule, "
                "r.outer_confidence * x.confidence / count(DISTINCT coalesce(x.def_id, x.qualname)) "
                "OVER (PARTITION BY r.outer_id) AS confidence, "
                "x.def_id, x.qualname, x.path, x.kind, x.via FROM __lk_returned_res x "
                "JOIN __lk_refs r USING (ref_id)")
    _run_if(conn, "INSERT INTO __lk_calls " + returned, "__lk_returned_res")
    _run_if(conn, "INSERT INTO __lk_bound_values " + BOUND_VALUES.format(res="__lk_returned_res"),  # f()(x): bound?
            "__lk_returned_res")
    # F called through a partial of it (PARTIAL_SITES): F's resolutions, × P's and the outer call's
    if _has_rows(conn, "__lk_partial"):
        run(conn, PARTIAL_REFS)
        _resolve(conn, roots, not full)
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_partial_res AS " + CALLABLE.format(res="__lk_res"))
        run(conn, "INSERT INTO __lk_calls SELECT r.outer_id, 'partial', r.outer_confidence * x.confidence, x.def_id, "
                  "x.qualname, x.path, x.kind, list_prepend('functools.partial', x.via) FROM __lk_partial_res x "
                  "JOIN __lk_refs r USING (ref_id)")
        run(conn, "INSERT INTO __lk_bound_values " + BOUND_VALUES.format(res="__lk_partial_res"))
    # (two statements: the receivers' classes first, so that DuckDB joins the MROs to the few there are; in one,
    # with no getattr call in the scope, it estimated them at none and joined every class's methods first: 38 s)
    getattr_k, getattr_found = GETATTR_DISPATCH.split(";\n")
    if run(conn, getattr_k)[0][0]:
        run(conn, getattr_found)
    _run_chain(conn, ABSTRACT_OVERRIDES, "__lk_abs_base")
    if "scip_occurrences" in have_tables:  # what an external SCIP indexer resolved and the rules did not
        run(conn, SCIP_REFS)
        run(conn, "INSERT INTO __lk_calls SELECT ref_id, CASE rule WHEN 'constructor' THEN 'scip_constructor' "
                  "WHEN 'class' THEN 'scip_class' ELSE rule END, confidence, def_id, qualname, path, kind, via FROM ("
                  + CALLABLE.format(res="__lk_scip") + ")")
    run(conn, PROPERTIES)
    run(conn, REPLACED)
    run(conn, "DELETE FROM __lk_calls e WHERE " + _REPLACED_EDGE.format(e="e"))
    run(conn, INSERT_CALLS.format(version=SCHEMA_VERSION, edges="SELECT * FROM __lk_calls"))
    staged = "VIEW" if full else "TABLE"  # the rows a wiring / reaches statement starts from (a full link: all)
    _run_statements(conn, BINDS.format(version=SCHEMA_VERSION, params=params, kind=staged, sites="__lk_scope_sites",
                                       where=f"e.path IN ({scope_sql}) AND e.rule NOT IN ('passed_argument', 'passed_instance')"),
                    {1: "__lk_bind_calls"})
    # 3. calls through a parameter: whatever the resolved calls pass for it, wherever the scope's calls (before
    #    or after) bind that parameter or the call is in the scope
    run(conn, f"INSERT INTO __lk_passed_params {PASSED_PARAMS}")
    _run_statements(conn, PASSED_SITES, {4: "__lk_ps_stores_passed"})
    run(conn, PINST_SITES)
    run(conn, "INSERT INTO __lk_passed_sites SELECT * FROM __lk_pinst_sites EXCEPT SELECT * FROM __lk_passed_sites")
    sites = "SELECT callsite_id FROM __lk_passed_sites"
    through = "rule IN ('passed_argument', 'passed_instance')"
    passed_rows = {CPG_ARG_REACHES.name: f"callsite_id IN ({sites})",
                   CPG_BINDS_ARG.name: f"{through} AND callsite_id IN ({sites})",
                   CPG_CALLS.name: f"{through} AND callsite_id IN ({sites})"}
    for t, where in passed_rows.items():  # kept to tell the files whose rows change (below)
        run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_old_{t} AS SELECT * FROM {t} WHERE {where}")
        run(conn, f"DELETE FROM {t} WHERE {where}")
    run(conn, PASSED_REFS)
    _resolve(conn, roots, not full)
    # the passed arguments' callables, once: the edges below and the bound methods among them read them
    run(conn, "CREATE OR REPLACE TEMP TABLE __lk_passed_res AS " + CALLABLE.format(res="__lk_res"))
    # (a ref's root must have a binding site `x = <call>` for a constructor to have made it)
    _run_if(conn, PASSED_INSTANCE, "SELECT 1 FROM __lk_refs r JOIN __lk_need_defsites n ON n.binding_id = r.root_binding_id "
                                   "JOIN __lk_need_vrefs v ON v.target_node_id = n.ast_node_id AND v.path = n.path "
                                   "AND v.role = 'instance' WHERE len(r.attrs) = 1 AND r.lambda_def_id IS NULL")
    passed = ("SELECT r.outer_id AS ref_id, 'passed_argument' AS rule, 0.8 * r.outer_confidence * x.confidence "
              "AS confidence, x.def_id, x.qualname, x.path, x.kind, x.via FROM __lk_passed_res x "
              "JOIN __lk_refs r USING (ref_id) WHERE x.def_id IS NOT NULL "
              # (a replaced definition is still what its decorator gets: `cls()` in `singleton(cls)` runs)
              "AND (contains(r.ref_id, ':DECORATOR:') OR NOT " + _REPLACED_EDGE.format(e="x") + ") "
              "QUALIFY row_number() OVER (PARTITION BY r.outer_id, x.def_id ORDER BY r.outer_confidence * x.confidence DESC, "
              "len(x.via), "
              "array_to_string(x.via, ' ')) = 1")  # the same row every run
    run(conn, INSERT_CALLS.format(version=SCHEMA_VERSION, edges=passed))
    _run_if(conn, INSERT_CALLS.format(version=SCHEMA_VERSION, edges=PINST_CALLS), "__lk_pinst_sites")
    # the arguments that are a method bound to a receiver: `self.m` in a method (not a classmethod's `cls.m`,
    # a plain function there; a classmethod or staticmethod callee is told by its decorator in BINDS)
    # And a class passed: its constructor's first parameter is the instance (the class for __new__).
    run(conn, "INSERT INTO __lk_bound_values " + BOUND_VALUES.format(res="__lk_passed_res"))
    passed_sites = "(SELECT * FROM cpg_call_sites SEMI JOIN __lk_passed_sites USING (path, callsite_id))"
    _run_statements(conn, BINDS.format(version=SCHEMA_VERSION, params=params, kind=staged, sites=passed_sites,
                                       where=f"e.{through} AND e.callsite_id IN ({sites})"),
                    {1: "__lk_bind_calls"})
    # 4. interprocedural REACHES for the wiring just made
    _run_statements(conn, ARG_REACHES.format(version=SCHEMA_VERSION, scope=scope_sql, sites=sites, kind=staged),
                    {1: "__lk_reach_binds"})
    # the files outside the scope whose rows through a parameter changed: the check judges them too
    # (cpg_link_unchecked)
    passed_files: set[str] = set()
    for t, where in passed_rows.items():
        passed_files |= {r[0] for r in run(conn, f"SELECT DISTINCT path FROM ((SELECT * FROM __lk_old_{t} EXCEPT ALL "
                                                 f"SELECT * FROM {t} WHERE {where}) UNION ALL (SELECT * FROM {t} "
                                                 f"WHERE {where} EXCEPT ALL SELECT * FROM __lk_old_{t}))")}
        run(conn, f"DROP TABLE __lk_old_{t}")
    passed_files -= scope | extra
    if passed_files:
        extra |= passed_files
        _set_scope(conn, scope | extra)
    return extra


# `@overload` / `@typing.overload` / `@t.overload` stubs of a function or method whose file defines the same
# qualname without it (the implementation). A file of stubs alone (no implementation) keeps them.
OVERLOAD_STUBS = """
CREATE OR REPLACE TEMP TABLE __lk_overloads AS
WITH stubs AS (SELECT DISTINCT split_part(callsite_id, ':DECORATOR:', 1) AS def_id FROM cpg_call_sites
               WHERE call_kind = 'decorator' AND (callee_text = 'overload' OR ends_with(callee_text, '.overload'))),
defs AS (SELECT d.def_id, d.path, d.qualname, d.def_id IN (SELECT def_id FROM stubs) AS stub FROM cpg_definitions d
         WHERE d.kind IN ('function', 'method') AND d.type_checking_only IS NOT TRUE AND d.other_python_only IS NOT TRUE
           AND (d.path, d.qualname) IN (SELECT (x.path, x.qualname) FROM cpg_definitions x SEMI JOIN stubs USING (def_id)))
SELECT def_id FROM defs WHERE stub AND (path, qualname) IN (SELECT (path, qualname) FROM defs WHERE NOT stub)
"""

LINK_TABLES = (CPG_CALLS, CPG_INHERITS, CPG_MRO, CPG_BINDS_ARG, CPG_ARG_REACHES)
TRACE = "cpg_link_files"  # per file: the file_id and module the last successful link saw
VERSION_TABLE = "cpg_link_version"  # the link code's fingerprint (codeintel_assets.version) of the last link


SOURCELESS_TABLE = "cpg_link_sourceless"  # what importers can import with no *.py: (path, module_name, kind)


def sourceless_changed(conn, modules: dict[str, tuple[str, str]]) -> bool:
    """Does ``SOURCELESS_TABLE`` differ from ``modules`` (``reconcile.sourceless_modules``), or not exist?"""
    from resources.duck import present_tables, run
    return SOURCELESS_TABLE not in present_tables(conn, [SOURCELESS_TABLE]) or run(
        conn, f"SELECT path, module_name, kind FROM {SOURCELESS_TABLE} ORDER BY ALL") != sorted(
        (p, m, k) for p, (m, k) in modules.items())


def record_sourceless(conn, modules: dict[str, tuple[str, str]]) -> bool:
    """Keep ``SOURCELESS_TABLE`` equal to ``modules``: compiled extension modules and directories without source,
    which no file's rows describe but which importers import (``broken-imports`` and the link read them). Written
    only when it differs; returns whether it did."""
    from resources.duck import run
    if not sourceless_changed(conn, modules):
        return False
    run(conn, f"CREATE OR REPLACE TABLE {SOURCELESS_TABLE} (path VARCHAR, module_name VARCHAR, kind VARCHAR)")
    if modules:
        rows = sorted((p, m, k) for p, (m, k) in modules.items())
        conn.execute(f"INSERT INTO {SOURCELESS_TABLE} SELECT unnest($1), unnest($2), unnest($3)",
                     [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]])
    return True


def _extension_modules(conn) -> pa.Table:
    """(module): the repository's compiled extension modules, as ``record_sourceless`` last stored them (none
    recorded: none)."""
    from resources.duck import present_tables
    names = [] if SOURCELESS_TABLE not in present_tables(conn, [SOURCELESS_TABLE]) else [r[0] for r in conn.execute(
        f"SELECT DISTINCT module_name FROM {SOURCELESS_TABLE} WHERE kind = 'extension' ORDER BY 1").fetchall()]
    return pa.table({"module": pa.array(names, pa.string())})


def relink_reasons(conn, root, import_roots=(), scip: str = "", exclude=()) -> list[str]:
    """Why the call graph is not the files' although no file needs indexing (empty: it is): files to link again
    (removed, never linked, a failed link step, rows no passing check judged), other link code, an external SCIP
    index to ingest, other graph views (an upgrade), extension modules or directories without source added or
    removed. Each reason names its state (paths digested), so that the same state gives the same reasons (the
    sensor's run key). Read-only; ``codeintel index`` and the repository sensor run the link job on any."""
    import hashlib

    from codeintel_assets.graph import graph_current
    from codeintel_assets.reconcile import sourceless_modules
    from codeintel_assets.scip import ingest_needed
    from resources.duck import table_exists

    def digest(items) -> str:
        return hashlib.sha1("\n".join(map(str, items)).encode()).hexdigest()[:12]
    reasons = []
    dirty = dirty_paths(conn)
    if dirty:
        reasons.append(f"{len(dirty)} files to link again ({digest(sorted(dirty))})")
    linked = table_exists(conn, "cpg_files") and conn.execute("SELECT count(*) FROM cpg_files").fetchall()[0][0] > 0
    if linked and link_outdated(conn):
        reasons.append("link rows of other link code")
    if ingest_needed(conn, str(root), scip):
        reasons.append("the SCIP index changed")
    if linked and not graph_current(conn):
        reasons.append("graph views of another version")
    if linked:
        modules = sourceless_modules(root, import_roots, tuple(exclude))
        if sourceless_changed(conn, modules):
            reasons.append(f"extension modules or directories without source changed ({digest(sorted(modules.items()))})")
    return reasons


def link_outdated(conn) -> bool:
    """The stored link rows were resolved by other link code (an upgrade, or none recorded): the next link is
    a full one, so that no file keeps edges an older rule made (they were kept until the file changed)."""
    from codeintel_assets.version import link_version
    from resources.duck import present_tables
    if VERSION_TABLE not in present_tables(conn, [VERSION_TABLE]):
        return True
    return conn.execute(f"SELECT any_value(version) FROM {VERSION_TABLE}").fetchall()[0][0] != link_version()
UNCHECKED = "cpg_link_unchecked"  # files whose link rows changed since the last passing cpg_integrity
# Per file: its call sites resolved (whole) and per rule, for the link's figures. A count of distinct call
# sites over cpg_calls was a scan of the whole table in every link (60 ms of a one-file edit's link); a call site
# is its file's, so the repository's figures are these rows summed, and only the relinked files' change.
FIGURES = "cpg_link_figures"
_FIGURES_OF = (f"SELECT path, rule, grouping(rule) = 1 AS whole, count(DISTINCT callsite_id) AS sites "
               f"FROM {CPG_CALLS.name} {{where}} GROUP BY GROUPING SETS ((path, rule), (path))")


def _update_figures(conn, full: bool) -> None:
    """FIGURES for the files whose cpg_calls rows this link rewrote (``__scope``; every file: ``full``, or a table
    missing or of another shape), without the files that left the repository."""
    from resources.duck import table_columns
    whole = full or table_columns(conn, [FIGURES]).get(FIGURES) != ["path", "rule", "whole", "sites"]
    _refresh_per_file(conn, FIGURES, _FIGURES_OF.format(where="" if whole else "WHERE path IN (SELECT path FROM __scope)"),
                      whole)


def dirty_paths(conn) -> list[str]:
    """Files whose call sites or definitions changed since the last successful link: added, changed,
    removed, renamed as a module (other import roots: the same bytes, every qualname changed), or never
    linked (a failed link leaves its trace as it was, so they stay dirty); and the files whose link rows
    no passing ``cpg_integrity`` has judged yet (``UNCHECKED``: the check failed, or the run ended before
    it), so that the next index links them again with the code it runs, and judges them, instead of
    keeping rows that failed the check."""
    from resources.duck import present_tables
    have = present_tables(conn, ("cpg_files", TRACE, UNCHECKED))
    if "cpg_files" not in have:
        return []
    if TRACE not in have:
        return [r[0] for r in conn.execute("SELECT path FROM cpg_files").fetchall()]
    same = "t.path = f.path AND t.file_id = f.file_id AND t.module IS NOT DISTINCT FROM f.module"
    unchecked = f" UNION SELECT path FROM {UNCHECKED}" if UNCHECKED in have else ""
    return sorted(r[0] for r in conn.execute(
        f"WITH f AS ({CURRENT_FILES}) SELECT f.path FROM f ANTI JOIN {TRACE} t ON {same} "
        f"UNION SELECT t.path FROM {TRACE} t ANTI JOIN f ON {same}{unchecked}").fetchall())


def every_stored_file(conn, paths) -> bool:
    """Are ``paths`` every file the database holds (a --full, every file edited, a first index)?"""
    from resources.duck import run, table_exists
    if not table_exists(conn, "py_files"):
        return True
    conn.register("__every_paths", pa.table({"path": pa.array(sorted(paths), pa.string())}))
    try:
        return run(conn, "SELECT count(*) FROM py_files ANTI JOIN __every_paths USING (path)")[0][0] == 0
    finally:
        conn.unregister("__every_paths")


def forget_links(conn, paths) -> int:
    """When a run indexes every stored file again (``--full``), the link will be a full one: empty its tables
    and drop its trace now, in the pass's delete transaction, so that the CHECKPOINT after it frees their
    blocks for the appends. Kept until the relink, the old rows held their blocks while the new ones were
    written, and the database file grew by the link's size on every ``--full``. A run that dies after this
    leaves no trace: the next link is a full one. -> rows deleted (0: not every file is indexed again)."""
    from resources.duck import present_tables, run, transaction
    names = [tc.name for tc in LINK_TABLES] + list(LOOKUP_TABLES)
    have = present_tables(conn, ["py_files", TRACE, *names])
    if TRACE not in have or "py_files" not in have or not every_stored_file(conn, paths):
        return 0
    deleted = 0
    with transaction(conn):
        run(conn, f'DROP TABLE "{TRACE}"')  # first: without a trace every later link is a full one
        for name in names:
            if name in have:
                deleted += run(conn, f'DELETE FROM "{name}"')[0][0]
    return deleted


# What the trace records per file: its bytes and the module name it was linked under.
CURRENT_FILES = ("SELECT f.path, f.file_id, d.qualname AS module FROM cpg_files f "
                 "LEFT JOIN cpg_definitions d ON d.path = f.path AND d.kind = 'module'")


def mark_stale(conn, paths) -> None:
    """Make the next link resolve ``paths`` again (their inspect facts changed): their trace rows go."""
    from resources.duck import run, table_exists
    if table_exists(conn, TRACE) and paths:
        conn.register("__stale", pa.table({"path": pa.array(sorted(paths), pa.string())}))
        try:
            run(conn, f"DELETE FROM {TRACE} WHERE path IN (SELECT path FROM __stale)")
        finally:
            conn.unregister("__stale")


# Each import (``t``): its file, local name, whether at module level, the importing module and what it means.
IMPORT_TARGETS = (
    "t AS (SELECT i.path, i.local_name, i.is_star, i.binding_id, i.scope_def_id = d.def_id AS module_level, "
    "d.qualname AS module, "
    "CASE WHEN i.imported_name IS NOT NULL AND NOT i.is_star THEN i.imported_module || '.' || i.imported_name "
    "WHEN i.imported_name IS NULL AND i.asname IS NULL THEN split_part(i.imported_module, '.', 1) "
    "ELSE i.imported_module END AS target FROM cpg_imports i "
    "LEFT JOIN cpg_definitions d ON d.path = i.path AND d.kind = 'module' WHERE i.imported_module IS NOT NULL)")


def affected_paths(conn, dirty: list[str], limit: int | None = None,
                   changed: dict | None = None) -> set[str]:
    """The dirty files plus every file whose imports can reach one of their modules (transitively: a
    package that re-exports a dirty module makes its importers affected too). ``limit``: stop following
    once more files than that are affected (the caller then relinks everything anyway).

    ``changed`` (``interface.changed_names``): per dirty file, a ``Change`` with the module-level names its change
    can make other files see differently (None: the whole module). A file with names follows those names (``module.name``), not
    its module: its importers that reach none of them keep their rows, and so do the callers into, subclasses of
    and instances of its other definitions."""
    from resources.duck import present_tables
    have = present_tables(conn, (TRACE, CPG_MRO.name, CPG_CALLS.name))
    scope = set(dirty)
    changed = changed or {}
    wide = sorted(p for p in scope if changed.get(p) is None)
    narrow = sorted(p for p in scope if changed.get(p) is not None)
    conn.register("__dirty", pa.table({"path": pa.array(wide, pa.string())}))
    conn.register("__dnarrow", pa.table({"path": pa.array(narrow, pa.string())}))
    modules = {r[0] for r in conn.execute(
        "SELECT qualname FROM cpg_definitions WHERE kind = 'module' AND path IN (SELECT path FROM __dirty)"
    ).fetchall()}
    if TRACE in have:
        modules |= {r[0] for r in conn.execute(
            f"SELECT module FROM {TRACE} WHERE path IN (SELECT path FROM __dirty) AND module IS NOT NULL").fetchall()}
    # the changed names of the files with names: module.name (unchanged module names: the trace's is the file's)
    named = {f"{m}.{n}" for p, m in conn.execute(
        "SELECT path, qualname FROM cpg_definitions WHERE kind = 'module' AND path IN (SELECT path FROM __dnarrow)"
    ).fetchall() for n in changed[p].names}
    conn.register("__dnames", pa.table({"n": pa.array(sorted(named), pa.string())}))
    # a definition of a dirty file (path column p, qualname q) that other files may now see differently
    under = ("({p} IN (SELECT path FROM __dirty) OR ({p} IN (SELECT path FROM __dnarrow) AND EXISTS ("
             "SELECT 1 FROM __dnames WHERE {q} = n OR starts_with({q}, n || '.'))))")
    if CPG_MRO.name in have and CPG_CALLS.name in have:
        # Files whose calls reached into a dirty file (an edge may go: the callee moved, or an override
        # appeared), and the modules of subclasses of its classes: an attribute found through the MRO of a
        # class elsewhere can change, so who imports those subclasses is affected too.
        # (every call into a dirty file, whatever names changed: a call resolved through what a function of
        # another file returns can reach an unchanged definition through a changed one: `@requires()` in a test,
        # whose `requires` in test.support returns `unittest.skipIf(...)`, which returns `unittest.case._id`;
        # restricted to calls of changed definitions, deleting skipIf kept 17 such edges a full link drops)
        # Not for a file whose edit only added: comments, blank lines, moved statements, statements that bind new
        # names (``Change.adds_only``): every fact of the names its callers reached is as it was, the ids that moved
        # are renamed where they are named (``moved_ids``), and who may see the new names follows them (below: the
        # importers of those names, the star importers). Appending one assignment to collections/__init__.py
        # relinked the 145 files that call into it: 13 s of the link on the standard library.
        reached = sorted(p for p in dirty if changed.get(p) is None or not changed[p].adds_only)
        scope |= {r[0] for r in conn.execute(
            f"SELECT DISTINCT path FROM {CPG_CALLS.name} WHERE callee_path IN (SELECT unnest($d))",
            {"d": reached}).fetchall()}
        # A class of a dirty file that decorates methods elsewhere: whether it is a descriptor without __call__
        # decides if calls of those methods get an edge (PROPERTIES), and such a call has no row to find it
        # by when it had none: the files with a call site spelling the name of a method it decorates.
        # Likewise a function of a dirty file applied as a decorator: whether it replaces what it decorates decides
        # if calls of that name get an edge (REPLACED): the files whose calls reach the definition (its constructor
        # for a class), and, when none does (replaced, or never called), those with a call site spelling its name.
        scope |= {r[0] for r in conn.execute(
            f"WITH d AS (SELECT DISTINCT d.def_id, d.name, d.qualname, k.rule IN ('class', 'constructor') AS by_class "
            f"FROM {CPG_CALLS.name} k JOIN cpg_definitions d "
            "ON d.def_id = split_part(k.callsite_id, ':DECORATOR:', 1) WHERE k.call_kind = 'decorator' "
            "AND " + under.format(p="k.callee_path", q="k.callee_qualname") + "), "
            # (two equi-joins: one join on `a OR b` is a nested loop over cpg_calls, 1.3 s for unittest/case.py)
            f"reached AS (SELECT e.path, d.def_id FROM {CPG_CALLS.name} e JOIN d ON e.callee_def_id = d.def_id "
            f"UNION ALL SELECT e.path, d.def_id FROM {CPG_CALLS.name} e JOIN d ON e.via[-2] = d.qualname "
            "WHERE e.rule = 'constructor') "
            "SELECT path FROM reached UNION "
            "SELECT DISTINCT c.path FROM cpg_call_sites c JOIN d ON d.name = coalesce(c.callee_attrs[-1], c.callee_root) "
            "WHERE d.by_class OR d.def_id NOT IN (SELECT def_id FROM reached)").fetchall()}
        # (and the files of those subclasses: their calls through self, cls and super() walk that MRO)
        below = conn.execute(
            f"SELECT DISTINCT m.qualname, c.path FROM {CPG_MRO.name} o JOIN cpg_definitions a ON a.def_id = o.ancestor_def_id "
            "JOIN cpg_definitions c ON c.def_id = o.class_def_id JOIN cpg_definitions m ON m.path = c.path "
            "AND m.kind = 'module' WHERE o.mro_index > 0 AND " + under.format(p="a.path", q="a.qualname")).fetchall()
        modules |= {m for m, _ in below}
        scope |= {p for _, p in below}
    conn.unregister("__dirty")
    conn.unregister("__dnarrow")
    if CPG_CALLS.name in have and (modules or named):
        # A module-level variable bound to an instance of a class of those modules (`registry = Registry()`):
        # a call through it from an importer of the variable (instance_method / instance_call) finds its
        # method along that class's MRO, so the variable's name is affected too.
        # (the classes of those modules first, into a temporary table: most edits' modules have few or none, and
        # one statement joined every constructor call of the repository with its binding before: ~60 ms a link)
        conn.register("__mods", pa.table({"m": pa.array(sorted(modules), pa.string())}))
        conn.execute("CREATE OR REPLACE TEMP TABLE __lk_mod_classes AS SELECT DISTINCT c.qualname FROM cpg_definitions c "
                     "JOIN cpg_definitions cm ON cm.path = c.path AND cm.kind = 'module' "
                     "AND cm.qualname IN (SELECT m FROM __mods) WHERE c.kind = 'class' "
                     "UNION SELECT c.qualname FROM cpg_definitions c JOIN __dnames ON c.qualname = n "
                     "OR starts_with(c.qualname, n || '.') WHERE c.kind = 'class'").fetchall()
        conn.unregister("__mods")
        if _has_rows(conn, "__lk_mod_classes"):
            modules |= {r[0] for r in conn.execute(
                f"SELECT DISTINCT mm.qualname || '.' || d.name FROM cpg_value_refs v "
                f"JOIN {CPG_CALLS.name} k ON k.callsite_id = v.ast_node_id AND k.rule IN ('constructor', 'class') "
                "JOIN __lk_mod_classes c "
                " ON c.qualname = CASE WHEN k.rule = 'class' THEN k.callee_qualname ELSE k.via[-2] END "
                "JOIN cpg_definitions d ON d.binding_id = v.target_binding_id AND d.kind = 'variable' "
                " AND d.parent_def_id = d.path || ':AST:0' "
                "JOIN cpg_definitions mm ON mm.path = d.path AND mm.kind = 'module' WHERE v.role = 'instance'").fetchall()}
    # Follow names, not modules: a file is affected when one of its imports means (a dotted prefix of)
    # an affected name; a module-level import also makes a new name (module.local) that other files can
    # reach the change through (a re-export), and only those are followed further. Both tests are equi-joins
    # on dotted prefixes (an import's target and its prefixes; a name's proper prefixes), not a join on
    # starts_with, which DuckDB can only run as a nested loop: on pandas, whose every module imports the
    # package, that loop took 44 s for one edited file.
    prefixes = "list_transform(range(1, len(string_split({s}, '.')){extra}), " \
               "lambda i: array_to_string(list_slice(string_split({s}, '.'), 1, i), '.'))"
    # (a name from a file with names, or re-exported from one, is followed as itself: ``narrow``; a module as before)
    names, frontier = set(modules) | named, {n: False for n in modules} | {n: True for n in named}
    # A module-level variable bound to a functools.partial (`no_clean = partial(Option, ...)`): a call through it
    # from an importer (rule partial) resolves its first argument in the variable's file, so when that file is
    # affected (it imports a changed name) the variable's name is too.
    partial_vars: dict[str, list[str]] = {}
    if CPG_CALLS.name in have:
        for path, qualname in conn.execute(
                "SELECT DISTINCT d.path, d.qualname FROM cpg_value_refs v "
                f"JOIN {CPG_CALLS.name} k ON k.callsite_id = v.ast_node_id AND k.callee_qualname IN {_PARTIALS} "
                "JOIN cpg_definitions d ON d.binding_id = v.target_binding_id AND d.kind = 'variable' "
                " AND d.parent_def_id = d.path || ':AST:0' WHERE v.role = 'instance' ORDER BY ALL").fetchall():
            partial_vars.setdefault(path, []).append(qualname)
    for q in (q for path in dirty for q in partial_vars.get(path, ()) if q not in names):  # (an edit of any name)
        names.add(q)
        frontier[q] = True
    while frontier and (limit is None or len(scope) <= limit):
        ordered = sorted(frontier)
        conn.register("__names_in", pa.table({"n": pa.array(ordered, pa.string()),
                                              "narrow": pa.array([frontier[n] for n in ordered], pa.bool_()),
                                              "m": pa.array([n.rpartition(".")[0] for n in ordered], pa.string()),
                                              "x": pa.array([n.rpartition(".")[2] for n in ordered], pa.string())}))
        conn.execute("CREATE OR REPLACE TEMP TABLE __names AS SELECT * FROM __names_in").fetchall()
        conn.unregister("__names_in")
        rows = conn.execute(
            f"WITH {IMPORT_TARGETS}, "
            f"tp AS (SELECT t.*, unnest({prefixes.format(s='t.target', extra=' + 1')}) AS pre FROM t), "
            f"np AS (SELECT n, unnest({prefixes.format(s='n', extra='')}) AS pre FROM __names), "
            # the import means the name, or something inside it: affected, and a module-level one re-exports it
            "SELECT DISTINCT tp.path, CASE WHEN tp.module_level AND tp.local_name IS NOT NULL "
            "THEN tp.module || '.' || tp.local_name "
            # a module-level `from x import *` re-exports what x binds: the importing module's names follow
            "WHEN tp.module_level AND tp.is_star THEN tp.module END, __names.narrow AND NOT tp.is_star "
            "FROM tp JOIN __names ON tp.pre = __names.n").fetchall()
        # the import means a package above the name (`import json` for json.decoder): affected only if a
        # call through that binding spells a path into the name (json.decoder.f())
        # (the names a call spells are the prefixes of target.attrs; only imports of such packages are read. The
        # spelled paths first, into a temporary table: in one statement, DuckDB 2.0.0 failed on an edit of
        # unittest/case.py (7,030 names in the third round) with an internal error, "dict-surviving cache: global
        # dictionary column 1 changed identity", which invalidates the database until the process ends)
        conn.execute(f"CREATE OR REPLACE TEMP TABLE __lk_spelled AS WITH {IMPORT_TARGETS}, "
                     f"np AS (SELECT n, unnest({prefixes.format(s='n', extra='')}) AS pre FROM __names) "
                     "SELECT t.path, t.target || '.' || array_to_string(c.callee_attrs, '.') "
                     "AS spelled FROM t SEMI JOIN np ON np.pre = t.target JOIN cpg_call_sites c ON c.path = t.path "
                     "AND c.callee_root_binding_id = t.binding_id").fetchall()
        rows += conn.execute(
            "SELECT DISTINCT s.path, NULL, false FROM (SELECT path, "
            f"unnest({prefixes.format(s='spelled', extra=' + 1')}) AS pre FROM __lk_spelled) s "
            "JOIN __names ON s.pre = __names.n").fetchall()
        if any(frontier.values()):
            # a changed name's module imported itself (`from m import *`, `import m as k`, `from p import m`): a
            # star import is affected (the name is bare there), and one that binds the module when the file
            # mentions the name in an attribute path or a text (a call, a value, an argument, a string: k.name,
            # getattr).
            conn.execute(f"CREATE OR REPLACE TEMP TABLE __lk_cand AS WITH {IMPORT_TARGETS} SELECT t.*, __names.x "
                         "FROM t JOIN __names ON __names.narrow AND t.target = __names.m").fetchall()
            mention = ("SELECT DISTINCT c.path, c.x FROM __lk_cand c JOIN {table} r ON r.path = c.path "
                       "WHERE NOT c.is_star AND (list_contains(r.{attrs}, c.x){text})")
            said = {tuple(r) for table, attrs, text in (("cpg_call_sites", "callee_attrs", ""),
                                                        ("cpg_value_refs", "attrs", " OR contains(r.text, c.x)"),
                                                        ("cpg_call_args", "attrs", " OR contains(r.text, c.x)"))
                    for r in conn.execute(mention.format(table=table, attrs=attrs, text=text)).fetchall()}
            hidden = _unexported(conn)
            for path, x, is_star, module_level, local, module in conn.execute(
                    "SELECT DISTINCT path, x, is_star, module_level, local_name, module FROM __lk_cand").fetchall():
                if is_star and (path, x) not in hidden:
                    rows.append((path, module if module_level else None, False))
                elif (path, x) in said:
                    rows.append((path, f"{module}.{local}.{x}" if module_level and local else None, True))
        conn.execute("DROP TABLE __names").fetchall()
        scope |= {r[0] for r in rows}
        frontier = {}
        rows += [(path, q, True) for path in {r[0] for r in rows} for q in partial_vars.get(path, ())]
        for _, a, narrowed in rows:
            if a and a not in names:
                frontier[a] = frontier.get(a, True) and narrowed  # (a module as well as a name: a module)
        names |= set(frontier)
    conn.unregister("__dnames")
    return scope


def _unexported(conn) -> set[tuple[str, str]]:
    """(path, name) of the star imports in ``__lk_cand`` that do not bind the changed name: their module (a module
    of the repository) has a literal ``__all__`` without it, or none and the name is private (`_x`), as
    STAR_EXPORTS reads them. (A change of ``__all__`` itself is a change of the whole module: no names.) Not
    STAR_EXPORTS itself: it reads the new rows, where a deleted public name is no longer exported, though the star
    import bound it before the edit."""
    rows = conn.execute(
        "WITH c AS (SELECT DISTINCT path, target, x FROM __lk_cand WHERE is_star), "
        "m AS (SELECT d.qualname AS module, d.path FROM cpg_definitions d SEMI JOIN (SELECT target FROM c) t "
        "      ON t.target = d.qualname WHERE d.kind = 'module'), "
        "k AS (SELECT m.module, bool_or(v.role = 'export_dynamic') AS dynamic, "
        "             list(v.root) FILTER (WHERE v.role = 'export') AS names "
        "      FROM m JOIN cpg_value_refs v USING (path) WHERE v.role IN ('export', 'export_dynamic') GROUP BY ALL) "
        "SELECT c.path, c.x FROM c JOIN m ON m.module = c.target LEFT JOIN k ON k.module = c.target "
        "WHERE CASE WHEN k.module IS NULL THEN starts_with(c.x, '_') "
        "           ELSE NOT k.dynamic AND NOT list_contains(coalesce(k.names, []), c.x) END").fetchall()
    return {tuple(r) for r in rows}


# The columns of the link tables that name another file's definitions or bindings (every other id column names
# the row's own file's): what an edit that only moved statements renames.
NAMING_COLUMNS = ((CPG_CALLS.name, ("callee_def_id",)), (CPG_BINDS_ARG.name, ("callee_def_id", "param_def_id",
                                                                          "param_binding_id")),
                  (CPG_ARG_REACHES.name, ("callee_def_id", "param_binding_id")), (CPG_INHERITS.name, ("base_def_id",)),
                  (CPG_MRO.name, ("ancestor_def_id",)))


def moved_ids(conn, changed: dict) -> tuple[dict[str, str], set[str], set[str]]:
    """For the dirty files whose statements moved (``interface.Change.moves``): the ids other files' link rows
    name in them, old -> new; the files with such rows (renamed, not resolved again); and the files whose rows
    name a definition in a changed or removed statement (resolved again, whatever names they import)."""
    from resources.duck import present_tables, run
    have = present_tables(conn, [t for t, _ in NAMING_COLUMNS])
    renamed: dict[str, str] = {}
    files: set[str] = set()
    unresolved: set[str] = set()
    for path, change in changed.items():
        if change is None or not (change.moves or change.gone):
            continue
        prefix = path + ":"
        parts = []
        for table, cols in NAMING_COLUMNS:
            if table not in have:
                continue
            # (cpg_mro has no path: a row is its class's file's)
            owner = "path" if table != CPG_MRO.name else "regexp_extract(class_def_id, '^(.*):AST:[0-9]+$', 1)"
            parts += [f"SELECT DISTINCT {c} AS id, {owner} AS path FROM {table} WHERE starts_with({c}, $prefix)"
                      for c in cols]
        if not parts:
            continue
        for old, owner in run(conn, " UNION ".join(parts), {"prefix": prefix}):
            if owner == path:
                continue  # the dirty file's own rows: resolved again
            new = change.new_id(path, old)
            if new is None:
                unresolved.add(owner)
            elif new != old:
                renamed[old] = new
                files.add(owner)
    return renamed, files, unresolved


def quiet_paths(conn, changed: dict) -> frozenset[str]:
    """The dirty files whose edit changed no class, so that the files of their classes' ancestors need not be
    linked again (ANCESTOR_FILES, ABSTRACT_CANDIDATES): a file with names (``interface.Change``) none of which is
    the top-level name of one of its classes (the class's own at module level, the enclosing function's or class's
    when nested: a class lies inside the statement that binds that name, and ``names`` holds every name a changed,
    added or removed statement binds, and every name whose statement mentions a changed one, such as a class whose
    bases are imported by a changed import).

    Why that is enough: a call through ``self``/``cls``/``super()`` in an ancestor K reaches a subclass S's methods
    (SUBCLASS_CALLS, GETATTR_DISPATCH, ABSTRACT_OVERRIDES) by facts of the classes in S's MRO and their members, all
    inside class statements. When none changed, the ancestor's rows are the old ones but for the ids of statements
    that moved, which ``moved_ids`` renames; rows naming a definition of a changed or removed statement (a class
    deleted or rewritten) make their files relinked there (``unresolved``). A new or changed class keeps the
    ancestors (its own name is in ``names``).

    Measured on transformers 5.25 (2,951 files): a comment appended to models/bert/modeling_bert.py relinked it and
    the eight files of PreTrainedModel's bases and mixins (3,700 call sites; every self.m() there dispatched again over
    ~1,000 subclasses): the link 7-11 s of a 15-19 s edit."""
    loose = {p: c for p, c in changed.items() if c is not None}
    if not loose:
        return frozenset()
    loud = set()
    # the file's classes now, and as the last link saw them (cpg_mro, not yet relinked): a class the edit removed
    # (`class Mixed(Cooperative, B)` deleted) leaves edges in its ancestors' files that only a relink there removes
    for path, qualname, module in conn.execute(
            "WITH classes AS (SELECT path, qualname FROM cpg_definitions WHERE kind = 'class' AND path IN "
            "(SELECT unnest($p)) UNION SELECT regexp_extract(class_def_id, '^(.*):AST:[0-9]+$', 1), class_qualname "
            "FROM cpg_mro WHERE mro_index = 0 AND regexp_extract(class_def_id, '^(.*):AST:[0-9]+$', 1) IN "
            "(SELECT unnest($p))) SELECT d.path, d.qualname, m.qualname FROM classes d JOIN cpg_definitions m "
            "ON m.path = d.path AND m.kind = 'module'",
            {"p": sorted(loose)}).fetchall():
        top = qualname[len(module) + 1:].split(".", 1)[0] if qualname.startswith(module + ".") else None
        if top is None or top in loose[path].names:
            loud.add(path)
    return frozenset(loose) - loud


def rename_ids(conn, renamed: dict[str, str]) -> None:
    """Rename ``renamed`` ids (old -> new) in every column that names another file's definitions: the rows that
    name one are deleted and inserted again renamed (as every other link write: a delete and an insert)."""
    from resources.duck import present_tables, run
    conn.register("__lk_renamed", pa.table({"old": pa.array(list(renamed), pa.string()),
                                            "new": pa.array(list(renamed.values()), pa.string())}))
    try:
        have = present_tables(conn, [t for t, _ in NAMING_COLUMNS])
        for table, cols in NAMING_COLUMNS:
            if table not in have:
                continue
            hit = " OR ".join(f"{c} IN (SELECT old FROM __lk_renamed)" for c in cols)
            run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_rename_rows AS SELECT * FROM {table} WHERE {hit}")
            run(conn, f"DELETE FROM {table} WHERE {hit}")
            renames = ", ".join(f"coalesce((SELECT r.new FROM __lk_renamed r WHERE r.old = x.{c}), x.{c}) AS {c}"
                                for c in cols)
            run(conn, f"INSERT INTO {table} SELECT * REPLACE ({renames}) FROM __lk_rename_rows x")
        run(conn, "DROP TABLE IF EXISTS __lk_rename_rows")
    finally:
        conn.unregister("__lk_renamed")


# DuckDB's memory limit while the link runs (a database-wide setting: restored after). The writer's 512 MB is
# sized for the appends, which overlap the extraction workers; the link runs after them, alone. Its full
# wiring statement (BINDS) on the standard library needed just under 512 MB (it failed there in session Z's
# benchmark, with this code and with the previous session's) and ~0.75 GB of process memory with 1 GB.
LINK_MEMORY_LIMIT = "1GB"


_BUILTIN_MEMBERS: pa.Table | None = None


def _builtin_members() -> pa.Table:
    """(type, name, owner) for every builtin class and every callable attribute ``dir()`` gives it: ``owner`` the
    class of its ``__mro__`` whose ``__dict__`` holds it, as CPython names it (``Exception.__str__`` is
    ``BaseException``'s, ``Exception.__init__`` its own). This interpreter's; made once per process."""
    global _BUILTIN_MEMBERS
    if _BUILTIN_MEMBERS is None:
        rows = []
        for t in sorted(dir(builtins)):
            cls = getattr(builtins, t)
            if not isinstance(cls, type):
                continue
            for n in dir(cls):
                owner = next((k for k in cls.__mro__ if n in vars(k)), None)
                if owner is not None and callable(getattr(cls, n, None)):
                    rows.append((t, n, owner.__name__))
        _BUILTIN_MEMBERS = pa.table({k: pa.array([r[i] for r in rows], pa.string())
                                     for i, k in enumerate(("type", "name", "owner"))})
    return _BUILTIN_MEMBERS


# Standard-library modules a star import must not load to learn its names (they act on import).
_STDLIB_STAR_SKIP = frozenset({"antigravity", "this", "__hello__", "__phello__", "idlelib", "turtledemo"})
_STDLIB_EXPORTS: dict[str, tuple[str, ...] | None] = {}  # per process: module -> its star import's names (None: none known)
_STDLIB_PROBE = """
import importlib, json, sys
out = {}
for m in sys.argv[1:]:
    try:
        mod = importlib.import_module(m)
    except BaseException:
        continue
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in dir(mod) if not n.startswith("_")]
    out[m] = sorted({str(n) for n in names})
sys.stdout.write(json.dumps(out))
"""


STDLIB_EXPORTS_TABLE = "cpg_link_stdlib_exports"  # (python, module, names JSON or NULL): the probe's answers, kept
# (python, class_qualname, members JSON or NULL): the class probe's answers (STDLIB_CLASS_PROBE), kept
STDLIB_CLASSES_TABLE = "cpg_link_stdlib_classes"
# (python, qualname, class_qualname JSON or NULL): what a standard-library function returns by its stub (_stub_returns)
STDLIB_RETURNS_TABLE = "cpg_link_stdlib_returns"
_ANSWER = {STDLIB_EXPORTS_TABLE: "names", STDLIB_CLASSES_TABLE: "members", STDLIB_RETURNS_TABLE: "class_qualname"}
_STDLIB_CLASSES: dict[str, tuple | None] = {}  # per process: class qualname -> ((name, qualname), ...) (None: unknown)
# For each dotted name: the longest prefix that imports as a module, the rest its attributes; when that is a class,
# its callable attributes (what dir() gives) with the class of its __mro__ whose __dict__ holds each, named as
# CPython names it (its __module__ and __qualname__: json.JSONEncoder's `default` is json.encoder.JSONEncoder.default,
# the qualname an index of the standard library gives that definition; a class of the interpreter's own that
# builtins does not name, as types.ModuleType, by the name asked about). Not object's: a class after it in a subclass's MRO
# comes first (`class K(logging.Handler, Mixin)`: Handler, Filterer, Mixin, object). Nor a property or another
# descriptor that is not callable (calling its value is not calling it).
STDLIB_CLASS_PROBE = """
import builtins, importlib, json, sys
out = {}
for q in sys.argv[1:]:
    parts, obj = q.split("."), None
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except BaseException:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
        except BaseException:
            obj = None
        break
    if not isinstance(obj, type):
        continue
    rows = []
    try:
        for n in sorted(dir(obj)):
            owner = next((k for k in obj.__mro__ if n in vars(k)), None)
            if owner is None or (owner is object and obj is not object):
                continue
            v = vars(owner)[n]
            if not (callable(v) or isinstance(v, (classmethod, staticmethod))):
                continue
            if getattr(builtins, owner.__name__, None) is owner:
                where = "<builtin>." + owner.__qualname__
            elif owner.__module__ == "builtins":  # (no such builtin: types.ModuleType is `module`)
                where = q if owner is obj else "<builtin>." + owner.__qualname__
            else:
                where = owner.__module__ + "." + owner.__qualname__
            rows.append([n, where + "." + n])
    except BaseException:
        continue
    out[q] = rows
sys.stdout.write(json.dumps(out))
"""


def _python_tag() -> str:
    return f"{sys.implementation.name}-{sys.version}-{sys.platform}"


def _answer_tag(table: str) -> str:
    """What a stored answer of ``table`` holds for: this interpreter (the stubs' answers: and typeshed-client's
    version, whose typeshed they read)."""
    if table != STDLIB_RETURNS_TABLE:
        return _python_tag()
    try:
        from importlib.metadata import version
        return f"{_python_tag()} typeshed-client {version('typeshed-client')}"
    except Exception:  # (not installed: no stubs, and nothing to keep)
        return f"{_python_tag()} no typeshed-client"


def _stored_answers(conn, table: str, key: str, keys) -> dict[str, tuple | None]:
    """The stored answers of a standard-library probe (``table``: python, key, answer JSON or NULL) for ``keys``,
    from this very interpreter (a new Python asks again)."""
    import json

    from resources.duck import present_tables
    if table not in present_tables(conn, [table]):
        return {}
    return {k: None if v is None else tuple(tuple(x) if isinstance(x, list) else x for x in json.loads(v))
            for k, v in conn.execute(f"SELECT {key}, {_ANSWER[table]} FROM {table} WHERE python = ? AND "
                                     f"{key} IN (SELECT unnest(?))", [_answer_tag(table), list(keys)]).fetchall()}


def _store_answers(conn, table: str, key: str, found: dict[str, tuple | None]) -> None:
    """Keep a probe's answers (a one-file edit's link then starts no interpreter: 0.4 s on the standard library);
    nothing when the connection cannot write."""
    import json

    import duckdb
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (python VARCHAR, {key} VARCHAR, {_ANSWER[table]} VARCHAR)")
        keys = list(found)
        answers = [None if v is None else json.dumps([list(x) if isinstance(x, tuple) else x for x in v])
                   for v in found.values()]
        # (two statements, whatever the count: the method returns are thousands of names on a first link)
        conn.execute(f"DELETE FROM {table} WHERE python = ? AND {key} IN (SELECT unnest(?::VARCHAR[]))",
                     [_answer_tag(table), keys])
        conn.execute(f"INSERT INTO {table} SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                     [_answer_tag(table), keys, answers])
    except duckdb.Error:
        pass


def _probe(conn, table: str, key: str, keys: list[str], source: str, memo: dict) -> None:
    """Fill ``memo`` (per process: key -> answer, None when the probe gave none) for ``keys``: the answers stored in
    ``table``, then this process's earlier ones, then ``source`` run on the rest in a separate isolated interpreter
    (``python -I``, 120 s at most; its JSON {key: answer} on stdout). Answers the table lacks are stored, unless the
    probe itself failed (timed out, crashed, printed no JSON): its keys are then unknown to this process only, and
    the next process asks again."""
    import json
    import subprocess
    stored = _stored_answers(conn, table, key, keys) if keys else {}
    memo.update(stored)
    missing = [k for k in keys if k not in memo]
    failed: set[str] = set()
    if missing:
        try:
            done = subprocess.run([sys.executable, "-I", "-c", source, *missing], capture_output=True,
                                  text=True, timeout=120, stdin=subprocess.DEVNULL)
            found = json.loads(done.stdout) if done.returncode == 0 else None
        except (OSError, ValueError, subprocess.SubprocessError):
            found = None
        if not isinstance(found, dict):
            found, failed = {}, set(missing)
        for k in missing:
            memo[k] = tuple(tuple(x) if isinstance(x, list) else x for x in found[k]) if k in found else None
    keep = {k: memo[k] for k in keys if k not in stored and k not in failed}
    if keep:  # (also what an earlier link of this process learnt: this database has not)
        _store_answers(conn, table, key, keep)


@functools.lru_cache(maxsize=None)
def _in_stdlib(top: str) -> bool:
    """A top-level module of this interpreter's standard library: one ``sys.stdlib_module_names`` lists, or one its
    own directories hold (found, not imported): the test modules CPython builds and installs beside the others
    (test_buffer.py's ``from _testbuffer import *``), which that list leaves out."""
    import importlib.machinery
    import sysconfig
    if top in sys.stdlib_module_names:
        return True
    homes = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
    dirs = sorted(homes | {os.path.join(h, "lib-dynload") for h in homes})
    try:
        return importlib.machinery.PathFinder.find_spec(top, dirs) is not None
    except (ImportError, ValueError, OSError):
        return False


def _stdlib_star_exports(conn) -> pa.Table:
    """(module, name) for the standard-library modules the repository star-imports and does not have itself:
    the names ``from m import *`` binds in this interpreter (``m.__all__``, else its public names), read by
    importing them in a separate isolated interpreter once per process; a row with a NULL name marks a module
    whose names are known (no row: unknown, as any module outside the repository). Lets the link resolve a name a
    file gets from ``from tkinter import *`` (external ``tkinter.Tk``) and the builtins that star import does not
    shadow (``list``; ``from os import *`` binds ``open``)."""
    mods = [m for (m,) in conn.execute(
        "SELECT DISTINCT imported_module FROM cpg_imports WHERE is_star AND imported_module IS NOT NULL "
        "AND imported_module NOT IN (SELECT qualname FROM cpg_definitions WHERE kind = 'module') ORDER BY 1").fetchall()
            if _in_stdlib(m.split(".")[0]) and m.split(".")[0] not in _STDLIB_STAR_SKIP
            and "__main__" not in m.split(".")]
    _probe(conn, STDLIB_EXPORTS_TABLE, "module", mods, _STDLIB_PROBE, _STDLIB_EXPORTS)
    rows = [(m, n) for m in mods if _STDLIB_EXPORTS[m] is not None for n in (None, *_STDLIB_EXPORTS[m])]
    return pa.table({"module": pa.array([m for m, _ in rows], pa.string()),
                     "name": pa.array([n for _, n in rows], pa.string())})


_STUB_RETURNS: dict[str, str | None] = {}  # per process: dotted function name -> the class it returns (None: unknown)
_STUB_TREES: dict[str, object] = {}  # per process: module -> its stub's AST (None: no stub)
# Names a stub may return that say nothing of the value's class (or are a typing construct, not a class).
_STUB_OPAQUE = ("typing.", "typing_extensions.", "_typeshed.", "types.GenericAlias", "collections.abc.")


def _stub_tree(module: str):
    """The AST of ``module``'s stub in the typeshed bundled with typeshed_client (not the environment's stub packages:
    the standard library's only), or None."""
    if module not in _STUB_TREES:
        tree = None
        try:
            import typeshed_client
            ctx = typeshed_client.get_search_context(search_path=[], version=sys.version_info[:2])
            path = typeshed_client.get_stub_file(module, search_context=ctx)
            if path is not None:
                tree = ast.parse(path.read_text(encoding="utf-8"))
        except (ImportError, OSError, SyntaxError, ValueError):
            tree = None
        _STUB_TREES[module] = tree
    return _STUB_TREES[module]


def _stub_statements(body):
    """The statements of a stub's module body, those under `if sys.version_info ...:` / `if sys.platform ...:` (both
    branches) included."""
    for node in body:
        if isinstance(node, ast.If):
            yield from _stub_statements(node.body)
            yield from _stub_statements(node.orelse)
        else:
            yield node


def _annotation_class(node) -> str | None:
    """The one class an annotation says a value is an instance of, as written: `C`, `m.C`, `C | None`, `Optional[C]`,
    `C[str]` (a generic's subscript); None for anything else (a union of classes, a string)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [p for p in (node.left, node.right) if not (isinstance(p, ast.Constant) and p.value is None)]
        return _annotation_class(parts[0]) if len(parts) == 1 else None
    if isinstance(node, ast.Subscript):
        if isinstance(node.value, ast.Name) and node.value.id == "Optional":
            return _annotation_class(node.slice)
        return _annotation_class(node.value)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _annotation_class(node.value)
        return None if inner is None else inner + "." + node.attr
    return None


def _stub_name(module: str, name: str, depth: int = 0) -> str | None:
    """What ``name`` (possibly dotted) means in ``module``'s stub: a class it defines (``module.name``), what it
    imports under that name (followed into that module's stub), a builtin class (``<builtin>.name``); None else."""
    tree = _stub_tree(module)
    if tree is None or depth > 4:
        return None
    head, _, rest = name.partition(".")
    for node in _stub_statements(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == head and not rest:
            return f"{module}.{name}"
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if (a.asname or a.name) == head:
                    return f"{node.module}.{a.name}" if rest else (
                        _stub_name(node.module, a.name, depth + 1) or f"{node.module}.{a.name}")
        if isinstance(node, ast.Import) and rest:
            for a in node.names:
                if (a.asname or a.name) == head:
                    return f"{a.name}.{rest}"
    if not rest and isinstance(getattr(builtins, head, None), type):
        return f"<builtin>.{head}"
    return None


def _stub_function(q: str):
    """Where the stubs declare the function or method ``q`` (dotted, as calls resolve to it: ``re.match``,
    ``re.Pattern.match``, ``<builtin>.str.strip``): (the stub module, the class qualname for a method else None, the
    declarations of that name in the module's or the class's body, every version and platform branch); None when
    no stub has it."""
    if q.startswith("<builtin>."):
        module, rest = "builtins", q[len("<builtin>."):].split(".")
    else:
        parts = q.split(".")
        module = next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)
                       if _stub_tree(".".join(parts[:i])) is not None), None)
        if module is None:
            return None
        rest = parts[len(module.split(".")):]
    tree = _stub_tree(module)
    if tree is None or len(rest) not in (1, 2):
        return None
    body, owner = tree.body, None
    if len(rest) == 2:
        cls = next((n for n in _stub_statements(tree.body) if isinstance(n, ast.ClassDef) and n.name == rest[0]), None)
        if cls is None:
            return None
        body, owner = cls.body, ("<builtin>." if module == "builtins" else module + ".") + rest[0]
    return module, owner, [n for n in _stub_statements(body)
                           if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == rest[-1]]


def _stub_returns(names: list[str], conn=None) -> dict[str, str]:
    """For the functions of the standard library among ``names`` (dotted, as calls resolve to them), the methods of
    its classes (``re.Pattern.match``) and of the builtin classes (``<builtin>.str.strip``): the class each returns as
    its stub declares it, when every declaration of it (overloads, versions, platforms) says the same one class
    (`logging.getLogger` -> logging.Logger, `re.match` / `re.Pattern.match` -> re.Match: `Match[str] | None`; a
    method's `-> Self`: its own class). Names of typing constructs and of the abstract collections say nothing of
    the class, a coroutine function returns a coroutine, a property is no method: left out. With ``conn``, the
    answers are kept in cpg_link_stdlib_returns (per interpreter and typeshed-client version: a one-file edit's
    link then parses no stub; 0.3 s on the standard library)."""
    stored = {}
    if conn is not None and names:
        stored = {q: (v[0] if v else None) for q, v in _stored_answers(conn, STDLIB_RETURNS_TABLE, "qualname",
                                                                       names).items()}
        _STUB_RETURNS.update(stored)
    for q in names:
        if q in _STUB_RETURNS:
            continue
        _STUB_RETURNS[q] = None
        declared = _stub_function(q)
        if declared is None:
            continue
        module, owner, decls = declared
        if not decls or any(isinstance(n, ast.AsyncFunctionDef) or any(
                _annotation_class(d) in ("property", "functools.cached_property") for d in n.decorator_list)
                for n in decls):
            continue
        # (LiteralString is a str: `def strip(self: LiteralString, ...) -> LiteralString` beside `-> str`)
        found = {"str" if name in ("LiteralString", "typing.LiteralString", "typing_extensions.LiteralString")
                 else name for name in (_annotation_class(n.returns) if n.returns is not None else None for n in decls)}
        if len(found) != 1 or None in found:
            continue
        name = found.pop()
        target = owner if name == "Self" and owner is not None else _stub_name(module, name)
        if target is not None and target.startswith("builtins."):  # (a class of the builtins stub itself)
            target = "<builtin>." + target[len("builtins."):]
        if target is not None and not target.startswith(_STUB_OPAQUE):
            _STUB_RETURNS[q] = target
    if conn is not None and set(names) - set(stored):
        _store_answers(conn, STDLIB_RETURNS_TABLE, "qualname", {q: None if _STUB_RETURNS[q] is None else (_STUB_RETURNS[q],)
                                                                for q in names if q not in stored})
    return {q: _STUB_RETURNS[q] for q in names if _STUB_RETURNS[q] is not None}


def _ext_members(conn, called: bool = False) -> None:
    """``__lk_ext_members`` (class_qualname, name, qualname) and ``__lk_ext_classes`` (class_qualname): the callable
    attributes of the classes outside the repository that the MRO of a class of the repository names (cpg_mro rows
    without a definition), where this interpreter knows them: a builtin class (``<builtin>.dict``) and a class of
    the standard library the repository does not have (``logging.Handler``, read by importing its module in a
    separate isolated interpreter: STDLIB_CLASS_PROBE, kept per interpreter in cpg_link_stdlib_classes). ``qualname``
    names the class of its MRO that defines the attribute (``logging.Logger.filter`` is ``logging.Filterer.filter``);
    object's attributes only for object itself. ``__lk_ext_classes``: the classes whose attributes are known (a
    method lookup along an MRO goes past one that lacks the name; an unknown class may have it). ``called``: also the
    names outside the repository that calls resolve to (rule external, this link's and the stored ones): those the
    probe finds classes make instances (``x = optparse.OptionParser(); x.add_option(...)``), and those that are
    functions return what their stubs declare (``__lk_ext_returns``: qualname, class_qualname; ``_stub_returns``);
    ``__lk_mro_ext`` is cpg_mro with one row for each class outside the repository whose attributes are known."""
    from resources.duck import run
    # (and the classes of the file objects open() makes: OPENED)
    calls = ("UNION SELECT qualname FROM __lk_calls WHERE rule = 'external' "
             "UNION SELECT callee_qualname FROM cpg_calls WHERE rule = 'external' "
             f"UNION SELECT unnest({list(_OPENED_CLASSES)})") if called else ""
    named = [q for (q,) in conn.execute(
        "SELECT DISTINCT q FROM (SELECT ancestor_qualname AS q FROM cpg_mro WHERE ancestor_def_id IS NULL "
        f"{calls}) WHERE q IS NOT NULL AND NOT starts_with(q, '<builtin>.') AND contains(q, '.') "
        "AND split_part(q, '.', 1) NOT IN (SELECT top FROM __lk_tops) ORDER BY 1").fetchall()]
    asked = [q for q in named if _in_stdlib(q.split(".")[0]) and q.split(".")[0] not in _STDLIB_STAR_SKIP
             and "__main__" not in q.split(".")]
    _probe(conn, STDLIB_CLASSES_TABLE, "class_qualname", asked, STDLIB_CLASS_PROBE, _STDLIB_CLASSES)
    # the functions among the names calls resolve to, and the methods of the classes known: the class each returns,
    # by its stub (then asked about too, and its methods' returns: three rounds at most, `re.compile` -> re.Pattern,
    # `re.Pattern.match` -> re.Match, `re.Match.span` -> tuple)
    # (a class of a module the repository has is its own definition: `_asyncio.get_running_loop` returns an
    # asyncio.events.AbstractEventLoop, a class of the repository when the repository is the standard library)
    members = _builtin_members()
    builtin_types = {f"<builtin>.{t}" for t in members.column("type").to_pylist()}
    returns: dict[str, str] = {}
    tops: set[str] = set()
    if called:
        tops = {t for (t,) in conn.execute("SELECT top FROM __lk_tops").fetchall()}
        names = [q for q in asked if _STDLIB_CLASSES[q] is None] + sorted(
            {f"<builtin>.{o}.{n}" for o, n in zip(members.column("owner").to_pylist(), members.column("name").to_pylist())})
        new_classes = asked
        for _ in range(3):
            names += sorted({t for q in new_classes if _STDLIB_CLASSES[q] is not None for _, t in _STDLIB_CLASSES[q]})
            got = _stub_returns(names, conn)
            returns.update(got)
            new_classes = sorted({c for c in got.values() if not c.startswith("<builtin>.") and _in_stdlib(c.split(".")[0])
                                  and c.split(".")[0] not in tops} - set(asked))
            if not new_classes:
                break
            _probe(conn, STDLIB_CLASSES_TABLE, "class_qualname", new_classes, STDLIB_CLASS_PROBE, _STDLIB_CLASSES)
            asked += new_classes
            names = []
    returns = {q: c for q, c in returns.items()
               if c in builtin_types or c.split(".")[0] in tops or _STDLIB_CLASSES.get(c) is not None}
    rows = [(q, n, t) for q in asked if _STDLIB_CLASSES[q] is not None for n, t in _STDLIB_CLASSES[q]]
    conn.register("__lk_stdlib_members", pa.table({
        "class_qualname": pa.array([r[0] for r in rows], pa.string()), "name": pa.array([r[1] for r in rows], pa.string()),
        "qualname": pa.array([r[2] for r in rows], pa.string())}))
    conn.register("__lk_stdlib_known", pa.table({"class_qualname": pa.array(
        [q for q in asked if _STDLIB_CLASSES[q] is not None], pa.string())}))
    conn.register("__lk_stub_returns", pa.table({"qualname": pa.array(list(returns), pa.string()),
                                                 "class_qualname": pa.array(list(returns.values()), pa.string())}))
    try:
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_ext_members AS "
                  "SELECT '<builtin>.' || type AS class_qualname, name, '<builtin>.' || owner || '.' || name AS qualname "
                  "FROM __builtin_members WHERE owner <> 'object' OR type = 'object' "
                  "UNION ALL SELECT * FROM __lk_stdlib_members")
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_stdlib_classes AS SELECT * FROM __lk_stdlib_known")
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_ext_classes AS SELECT DISTINCT '<builtin>.' || type AS class_qualname "
                  "FROM __builtin_members UNION ALL SELECT * FROM __lk_stdlib_classes")
        # a method lookup's candidates along an MRO: the repository's definitions by their class, those outside it
        # by the class's name ('~' first: no definition id starts so)
        run(conn, "CREATE OR REPLACE TEMP VIEW __lk_members AS SELECT parent_def_id AS owner_key, name, def_id, qualname, "
                  "path, kind, span_start_byte FROM __lk_defs UNION ALL SELECT '~' || class_qualname, name, NULL, qualname, "
                  "NULL, NULL, NULL FROM __lk_ext_members")
        run(conn, "CREATE OR REPLACE TEMP VIEW __lk_mro_ext AS SELECT class_def_id, mro_index, ancestor_def_id, "
                  "ancestor_qualname, complete, class_qualname FROM cpg_mro UNION ALL SELECT '~' || class_qualname, 0, NULL, "
                  "class_qualname, true, class_qualname FROM __lk_ext_classes")
        run(conn, "CREATE OR REPLACE TEMP TABLE __lk_ext_returns AS SELECT * FROM __lk_stub_returns")
    finally:
        conn.unregister("__lk_stdlib_members")
        conn.unregister("__lk_stdlib_known")
        conn.unregister("__lk_stub_returns")


def link_calls(conn, full: bool = False) -> dict[str, int]:
    """Bring ``cpg_calls`` up to date in one transaction; figures for the metadata.

    Incremental: only the call sites of the files that changed since the last link, and of the files
    that import from them, are resolved again (``full``: all of them, also when there is no trace).
    """
    previous = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    conn.execute(f"SET memory_limit = '{LINK_MEMORY_LIMIT}'")
    try:
        return _link_calls(conn, full)
    finally:
        conn.execute(f"SET memory_limit = '{previous}'")


def _link_calls(conn, full: bool) -> dict[str, int]:
    from resources.duck import ensure_table, present_tables, run, table_columns, transaction
    needed = ("cpg_call_sites", "cpg_definitions", "cpg_imports", "cpg_call_args", "cpg_value_refs",
              "py_sym_name_sites", "py_reaching_defs", "py_bc_instructions", "cpg_files", "py_ast_nodes",
              "py_bc_code_units")
    have = present_tables(conn, (*needed, TRACE))
    if not set(needed) <= have:
        return {"call_sites": 0, "edges": 0}
    # the columns of the tables the link reads with the newest columns and of those it writes: one catalog query
    # (each is ~1.5-4 ms; the link asked nine times)
    shapes = table_columns(conn, [CPG_CALL_SITES.name, CPG_DEFINITIONS.name, CPG_IMPORTS.name, CPG_VALUE_REFS.name,
                                  *(tc.name for tc in LINK_TABLES)])
    for tc in (CPG_CALL_SITES, CPG_DEFINITIONS, CPG_IMPORTS, CPG_VALUE_REFS):  # an older contract's database: their columns
        ensure_table(conn, tc.name, tc.schema, shapes)
    # Definitions a call can reach: not the stubs under `if TYPE_CHECKING:`, nor the definitions for another
    # Python version (NULL: a row written before the flag existed, taken as before); __lk_dead: those left out.
    # Nor `@typing.overload` stubs beside their implementation: the implementation's `def` rebinds the name (a
    # stub is what `overload` returns, a dummy that raises when called), so a call reaches the implementation.
    run(conn, OVERLOAD_STUBS)
    run(conn, f"CREATE OR REPLACE TEMP VIEW __lk_cdefs AS SELECT * FROM {CPG_DEFINITIONS.name} "
              "WHERE type_checking_only IS NOT TRUE AND other_python_only IS NOT TRUE "
              "AND def_id NOT IN (SELECT def_id FROM __lk_overloads)")
    run(conn, f"CREATE OR REPLACE TEMP VIEW __lk_cimports AS SELECT * FROM {CPG_IMPORTS.name} "
              "WHERE other_python_only IS NOT TRUE")
    # (and the names an assignment under `if TYPE_CHECKING:` binds: `X = A` there never runs, an `else: X = B`
    # does, so X is bound once at runtime)
    run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_dead AS SELECT def_id FROM {CPG_DEFINITIONS.name} "
              "WHERE type_checking_only OR other_python_only UNION ALL SELECT def_id FROM __lk_overloads "
              f"UNION ALL SELECT import_id FROM {CPG_IMPORTS.name} WHERE other_python_only "
              f"UNION ALL SELECT target_node_id FROM {CPG_VALUE_REFS.name} "
              "WHERE type_checking_only AND target_node_id IS NOT NULL "
              # `x = None` binds x to nothing callable: the import beside it (`try: import m as x` / `except
              # ImportError: x = None`) is what a call through x reaches
              f"UNION ALL SELECT target_node_id FROM {CPG_VALUE_REFS.name} WHERE role = 'none'")
    shapes = {tc.name: shapes[tc.name] for tc in LINK_TABLES if tc.name in shapes}
    for tc in LINK_TABLES:  # derived entirely from the per-file tables: one of another shape is rebuilt
        if tc.name in shapes and shapes[tc.name] != tc.schema.names:
            run(conn, f'DROP TABLE "{tc.name}"')
            del shapes[tc.name]
    full = full or TRACE not in have or len(shapes) < len(LINK_TABLES) or link_outdated(conn)
    dirty = dirty_paths(conn)
    every = {r[0] for r in conn.execute("SELECT path FROM cpg_files").fetchall()} | set(dirty)
    changed: dict = {}
    quiet: frozenset[str] = frozenset()  # dirty files none of whose classes changed (``quiet_paths``)
    renamed: dict[str, str] = {}  # old -> new id of the definitions of dirty files whose statements only moved
    renamed_in: set[str] = set()  # the files outside the scope whose rows name them
    if full or not dirty:
        scope = every if full else set()
    else:
        from codeintel_assets.interface import changed_names
        changed = changed_names(conn, dirty)
        scope = affected_paths(conn, dirty, limit=len(every) // 3, changed=changed)
        renamed, renamed_in, unresolved = moved_ids(conn, changed)
        scope |= unresolved
        quiet = quiet_paths(conn, changed)
    # A change many files can see (a package everything imports): all at once. (An incremental link of a third
    # of the standard library costs about what a full one does: 191 files 11 s, 876 files 23.5 s, full 17.5 s.)
    if len(scope) > len(every) // 3:
        scope, full = every, True
    conn.register("__builtins", pa.table({"name": pa.array(sorted(n for n in dir(builtins)  # (and __import__: called by name)
                                                                   if not n.startswith("_") or n == "__import__"))}))
    conn.register("__builtin_members", _builtin_members())
    conn.register("__stdlib_exports", _stdlib_star_exports(conn))
    conn.register("__ext_modules", _extension_modules(conn))
    _drop_scoped_temps(conn)
    _need_tables(conn, not full, files=None)
    _set_scope(conn, scope, whole=full)
    try:
        with transaction(conn):
            for tc in LINK_TABLES:
                if full:  # everything again: a fresh table instead of deleting every row
                    run(conn, f'DROP TABLE IF EXISTS "{tc.name}"')
                    shapes.pop(tc.name, None)
                ensure_table(conn, tc.name, tc.schema, shapes)
            if renamed and not full:  # first: the link then reads the other files' rows as a full link writes them
                rename_ids(conn, renamed)
            if scope:  # nothing changed: every link table is as the last link left it
                scope |= _link(conn, "SELECT path FROM __scope", full, quiet=frozenset() if full else quiet)
            _update_figures(conn, full)
            # The trace, in the same transaction: a failed link leaves the old one (its files stay dirty).
            run(conn, f"CREATE TABLE IF NOT EXISTS {TRACE} (path VARCHAR, file_id VARCHAR, module VARCHAR)")
            run(conn, f"DELETE FROM {TRACE}")
            run(conn, f"INSERT INTO {TRACE} {CURRENT_FILES}")
            from codeintel_assets.interface import forget_prior
            forget_prior(conn)  # (every file is as this link saw it: the old digests kept for it are done with)
            from codeintel_assets.version import link_version
            run(conn, f"CREATE OR REPLACE TABLE {VERSION_TABLE} AS SELECT '{link_version()}' AS version")
            # The files whose link rows this step rewrote, until a passing cpg_integrity has judged them.
            run(conn, f"CREATE TABLE IF NOT EXISTS {UNCHECKED} (path VARCHAR)")
            if full:
                run(conn, f"DELETE FROM {UNCHECKED}")
            run(conn, f"INSERT INTO {UNCHECKED} SELECT path FROM __scope EXCEPT SELECT path FROM {UNCHECKED}")
            renamed_in -= scope
            if renamed_in and not full:  # (rows renamed, not resolved: judged by the check like relinked ones)
                run(conn, f"INSERT INTO {UNCHECKED} SELECT unnest($p) EXCEPT SELECT path FROM {UNCHECKED}",
                    {"p": sorted(renamed_in)})
        # the figures: rows per table (DuckDB keeps the count), the call sites resolved from FIGURES
        counted = dict(run(conn, " UNION ALL ".join(
            [f"SELECT '{tc.name}', count(*) FROM {tc.name}" for tc in LINK_TABLES]
            + ["SELECT 'call_sites', count(*) FROM cpg_call_sites"])))
        figures, resolved = {}, 0
        for rule, whole, n in run(conn, f"SELECT rule, whole, sum(sites) FROM {FIGURES} GROUP BY ALL"):
            if whole:
                resolved = n
            else:
                figures[rule] = n
        total = counted.pop("call_sites")
        rows, edges = {tc.name: counted[tc.name] for tc in LINK_TABLES}, counted[CPG_CALLS.name]
        scip = {}
        if "scip_occurrences" in present_tables(conn, ["scip_occurrences"]):
            named, both, agree, only = run(conn, SCIP_AGREEMENT)[0]
            scip = {"scip_sites_resolved": int(named), "scip_sites_both": int(both), "scip_sites_agree": int(agree),
                    "scip_sites_added": int(only), **({"scip_agreement": round(agree / both, 4)} if both else {})}
    finally:
        conn.unregister("__builtins")
        conn.unregister("__builtin_members")
        conn.unregister("__stdlib_exports")
        conn.unregister("__ext_modules")
        conn.unregister("__scope")
    return {"call_sites": int(total), "call_sites_resolved": int(resolved), "edges": int(edges),
            "share_resolved": round(resolved / total, 4) if total else 0.0, "files_dirty": len(dirty),
            "files_relinked": len(scope), "full": full,
            "files_followed_by_name": 0 if full else sum(1 for v in changed.values() if v is not None),
            "files_renamed_only": 0 if full else len(renamed_in), "ids_renamed": 0 if full else len(renamed),
            **{f"sites_{k}": int(v) for k, v in sorted(figures.items())},
            **{f"rows_{k}": int(v) for k, v in rows.items()}, **scip}
