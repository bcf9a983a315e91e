"""What other files can see of a file, per top-level statement: which module-level names an edit changed, and
which statements only moved.

The link resolves again the files an edit can affect. Before this, that was every file importing the edited
module (and re-exporting it, subclassing its classes, calling into it): an edit of ``json/encoder.py`` relinked 15
files, ~2.6 s of its 4.5 s link. Other files see a module only through its module-level names, so the link asks
which names an edit changed and follows only those (``link.affected_paths``).

**Statement digests.** One row per top-level statement of a file (``stmt``: its AST ordinal), with

- a digest (count, sum and xor of 64-bit hashes) of its tokens (``py_tokens`` inside the statement's span, its
  decorators included: type, text, and the line relative to the statement's first line, the column; not the
  file's ENCODING and ENDMARKER, nor INDENT and DEDENT, which the tokenizer places at the next statement's start
  and whose columns the other tokens carry): what the statement says, wherever it is in the file;
- its first and last line (``line0``, ``line1``);
- the module-level names it binds (``defs``: name sites of a module-scope binding: assignments, definitions,
  imports, a ``global`` store in a function, ``del``) and every name it mentions (``refs``: name sites, value-ref
  roots, string annotations included, callee roots, argument roots);
- ``wide``: it holds a star import (binds names no name site lists) or a ``from __future__`` import (changes how
  the whole module compiles).

Every fact the per-file planes record of a statement is a function of its text, its position and the module
around it (which names are bound at module level, the module's name and ``__future__`` flags). So when a
statement's text is the same, its facts are the same but for the positions in them: the AST ordinals, lines
and bytes ids carry.

**Members.** The digest of a top-level class statement also holds its members (``_members_ctes``: per statement of
the class body, its lines, a digest of its header (decorators, signature) and of its body, and what makes a body's
change visible to other files); a class whose methods' bodies alone changed changes the names ``C.m`` of those
methods, not ``C`` (``_body_only`` says when that is enough).

**Old digests.** The link saw a file as it was at the last link, and the pass that indexes an edit replaces its
rows. So the pass keeps the digests of those rows first (``keep_prior``, in the writer, before it replaces a
file's rows, and only when they are still the ones the last link saw: the trace's ``file_id``), in
``cpg_link_prior``, which a successful link empties (every file is then as linked). Digesting a file's rows is
30-100 ms (its tokens, nodes and name sites read back); the digests the link computes of an edited file's new rows
are kept in ``cpg_link_digests`` with the file_id and the extraction run they describe, so that the next edit of
the same file (the usual case: edit, save, edit) copies its old digests from there instead of digesting again.

**A change** (``changed_names``): the old and the new statements are matched in order by digest, names and flags
(``difflib``: the longest common subsequence of equal statements). The unmatched ones, old or new, changed: the
names they bind (else, for a statement binding nothing, like ``X.attr = f`` or ``registry.add(C)``, the names it
mentions) changed, and so, to a fixed point, does every name whose statements mention a changed one (a function
returning ``helper()`` changes with ``helper``: a caller elsewhere resolves what it returns through it). A matched
statement at another place **moved**: its facts are the old ones with other ordinals and lines, and so are the
rows of other files that name its definitions (``Change.moves``: the link renames those ids instead of resolving
the files again). The whole module (None, as before names) when there is nothing to compare (a new, deleted or
renamed file, no old digests, a statement without tokens), when a changed statement is ``wide``, when a changed
name is one of the module's special names (``__all__``, ``__getattr__``, ``__path__``, ``__dir__``), or when two
old statements share a line (``a = 1; b = 2``: a line in an id would not tell which one it is in).
"""

from __future__ import annotations

import bisect
import difflib
import re
from dataclasses import dataclass, field

from codeintel_assets.contracts.cpg import CPG_CALL_ARGS, CPG_CALL_SITES, CPG_DEFINITIONS, CPG_IMPORTS, CPG_VALUE_REFS
from codeintel_assets.contracts.symtable import PY_SYM_NAME_SITES
from codeintel_assets.link import (  # (link imports this module inside its functions only: no cycle)
    NOTHING_OPS, RAISE_ONLY_OPS, TRACE,
)
from resources.duck import sql_list

PRIOR = "cpg_link_prior"
# The members of a top-level class statement (``_members_ctes``), in order; the first, kind 'header', is the class's
# own tokens before its first member. Per member: its first and last line (decorators included), digests of its
# header (its tokens before its body: decorators, signature) and of its body, and what makes a body's change
# visible to other files (``_body_only``).
MEMBER = ("STRUCT(kind VARCHAR, name VARCHAR, l0 INTEGER, l1 INTEGER, hn BIGINT, hs HUGEINT, hx UBIGINT, "
          "bn BIGINT, bs HUGEINT, bx UBIGINT, decorated BOOLEAN, attr_write BOOLEAN, scope_decl BOOLEAN, "
          "abstract_like BOOLEAN)[]")
PRIOR_COLUMNS = (("path", "VARCHAR"), ("file_id", "VARCHAR"), ("stmt", "INTEGER"), ("line0", "INTEGER"),
                 ("line1", "INTEGER"), ("n", "BIGINT"), ("s", "HUGEINT"), ("x", "UBIGINT"), ("defs", "VARCHAR[]"),
                 ("refs", "VARCHAR[]"), ("wide", "BOOLEAN"), ("members", MEMBER))
MODULE_WIDE_NAMES = frozenset({"__all__", "__getattr__", "__path__", "__dir__"})
NEEDED = ("py_ast_nodes", "py_tokens", "py_bc_instructions", CPG_DEFINITIONS.name, PY_SYM_NAME_SITES.name,
          CPG_VALUE_REFS.name, CPG_CALL_SITES.name, CPG_CALL_ARGS.name, CPG_IMPORTS.name, "cpg_files",
          "codeintel_run_meta", TRACE)
_ORDINAL = "TRY_CAST(split_part(split_part({c}, ':AST:', 2), ':', 1) AS INTEGER)"
_REFS = ((PY_SYM_NAME_SITES, "name"), (CPG_VALUE_REFS, "root"), (CPG_CALL_SITES, "callee_root"),
         (CPG_CALL_ARGS, "root"))


def _names_ctes(paths: str) -> str:
    """``tops`` (the top-level statements of the files ``paths``, an SQL list of literals, from ``ast``: their
    AST nodes), ``d`` (the module-level
    names each binds) and ``m`` (the names each mentions)."""
    refs = " UNION ALL ".join(f"SELECT path, {_ORDINAL.format(c='ast_node_id')} AS o, {col} AS name FROM {tc.name} "
                              f"WHERE path IN {paths} AND {col} IS NOT NULL" for tc, col in _REFS)
    return f"""
tops AS (SELECT path, ordinal AS stmt, kind FROM ast WHERE parent_ast_node_id = path || ':AST:0'),
d AS (SELECT n.path, t.stmt, list(DISTINCT n.name ORDER BY n.name) AS defs
      FROM (SELECT path, {_ORDINAL.format(c='ast_node_id')} AS o, name FROM {PY_SYM_NAME_SITES.name}
            WHERE path IN {paths} AND role <> 'use' AND binding_id = path || ':SCOPE:<module>:0:MODULE:0:BIND:' || name) n
      ASOF JOIN tops t ON n.path = t.path AND n.o >= t.stmt GROUP BY ALL),
m AS (SELECT r.path, t.stmt, list(DISTINCT r.name ORDER BY r.name) AS refs
      FROM ({refs}) r ASOF JOIN tops t ON r.path = t.path AND r.o >= t.stmt GROUP BY ALL)"""


def _digest_sql(paths: str) -> str:
    """(path, stmt, line0, line1, n, s, x, defs, refs, wide) of the files ``paths`` (an SQL list of literals)."""
    return f"""
WITH ast AS MATERIALIZED (SELECT * FROM py_ast_nodes WHERE path IN {paths}),
toks AS MATERIALIZED (SELECT * FROM py_tokens WHERE path IN {paths}
                      AND type NOT IN ('ENCODING', 'ENDMARKER', 'INDENT', 'DEDENT')),
{_names_ctes(paths)},
ext AS (SELECT t.path, t.stmt, min(n.lineno) AS line0, max(n.end_lineno) AS line1,
               min(n.span_start_byte) FILTER (WHERE NOT n.span_synthesized) AS b0,
               max(n.span_end_byte) FILTER (WHERE NOT n.span_synthesized) AS b1
        FROM ast n ASOF JOIN tops t ON n.path = t.path AND n.ordinal >= t.stmt GROUP BY ALL),
tok AS (SELECT path, stmt, count(*) AS n, sum(h) AS s, bit_xor(h) AS x FROM (
          SELECT e.path, e.stmt, hash(k.type, k.string, k.start_line - e.line0, k.start_col, k.end_line - e.line0,
                                      k.end_col) AS h
          FROM toks k ASOF JOIN ext e ON k.path = e.path AND k.span_start_byte >= e.b0 WHERE k.span_end_byte <= e.b1)
        GROUP BY ALL),
{_members_ctes(paths)},
w AS (SELECT i.path, t.stmt, true AS wide
      FROM (SELECT path, {_ORDINAL.format(c='import_id')} AS o FROM {CPG_IMPORTS.name}
            WHERE path IN {paths} AND (is_star OR imported_module = '__future__')) i
      ASOF JOIN tops t ON i.path = t.path AND i.o >= t.stmt GROUP BY ALL)
SELECT e.path, e.stmt, e.line0, e.line1, coalesce(tok.n, 0) AS n, coalesce(tok.s, 0) AS s, coalesce(tok.x, 0) AS x,
       coalesce(d.defs, []) AS defs, coalesce(m.refs, []) AS refs, coalesce(w.wide, false) AS wide, c.members
FROM ext e LEFT JOIN tok USING (path, stmt) LEFT JOIN d USING (path, stmt) LEFT JOIN m USING (path, stmt)
LEFT JOIN w USING (path, stmt) LEFT JOIN c USING (path, stmt)"""


# the opcodes of the methods the link may take for abstract (link.ABSTRACT: `raise E(...)` alone, or a body that does
# nothing): a method with no other instruction is ``abstract_like``
_ABSTRACT_OPS = sql_list(dict.fromkeys((*RAISE_ONLY_OPS, *NOTHING_OPS)))


def _members_ctes(paths: str) -> str:
    """``c`` (path, stmt, members): the members of the top-level class statements of the files ``paths`` (an SQL
    list of literals), as ``MEMBER``, from ``_digest_sql``'s ``ast``, ``tops`` and ``toks``. A node is its member's
    when the last top-level statement or child of a class statement at or before it in preorder is that member (a
    child in the class's ``body``); the class's own bases, keywords and decorators are children too, so they are no
    member's."""
    return f"""
anchors AS (SELECT path, stmt AS ordinal, stmt, false AS member FROM tops
            UNION ALL
            SELECT n.path, n.ordinal, t.stmt, n.parent_field = 'body' FROM ast n
            JOIN tops t ON t.kind = 'ClassDef' AND n.path = t.path
             AND n.parent_ast_node_id = t.path || ':AST:' || t.stmt),
nodes AS (SELECT n.*, a.ordinal AS mem, a.stmt, a.member
          FROM (SELECT * FROM ast WHERE depth >= 1) n
          ASOF JOIN anchors a ON n.path = a.path AND n.ordinal >= a.ordinal),
cls AS (SELECT n.path, n.stmt, min(n.lineno) AS l0, min(n.lineno) FILTER (WHERE n.member) AS first
        FROM nodes n SEMI JOIN tops t ON t.path = n.path AND t.stmt = n.stmt AND t.kind = 'ClassDef' GROUP BY ALL),
mm AS (SELECT n.path, n.stmt, n.mem,
              any_value(n.kind) FILTER (WHERE n.ordinal = n.mem) AS kind,
              any_value(n.name) FILTER (WHERE n.ordinal = n.mem) AS name,
              min(n.lineno) AS l0, max(n.end_lineno) AS l1,
              min(n.span_start_byte) FILTER (WHERE n.parent_ast_node_id = n.path || ':AST:' || n.mem
                                             AND n.parent_field = 'body') AS b0,
              min(n.lineno) FILTER (WHERE n.parent_ast_node_id = n.path || ':AST:' || n.mem
                                    AND n.parent_field = 'body') AS bl,
              coalesce(bool_or(n.parent_ast_node_id = n.path || ':AST:' || n.mem
                               AND n.parent_field = 'decorator_list'), false) AS decorated,
              coalesce(bool_or(n.kind = 'Attribute' AND n.ctx IN ('Store', 'Del')), false) AS attr_write,
              coalesce(bool_or(n.kind IN ('Global', 'Nonlocal')), false) AS scope_decl
       FROM nodes n WHERE n.member GROUP BY ALL),
ab AS (SELECT d.def_id, count(*) FILTER (WHERE i.baseopname NOT IN ({_ABSTRACT_OPS})) = 0 AS abstract_like
       FROM cpg_definitions d JOIN py_bc_instructions i ON i.path = d.path AND i.code_unit_id = d.code_unit_id
       WHERE d.path IN {paths} AND i.path IN {paths} AND d.kind = 'method' GROUP BY ALL),
parts AS (  -- the class's header (mem -1: its lines before its first member) and its members
    SELECT path, stmt, -1 AS mem, 'header' AS kind, NULL AS name, l0, coalesce(first, l0 + 1) - 1 AS l1,
           NULL::BIGINT AS b0, NULL::INTEGER AS bl, false AS decorated, false AS attr_write, false AS scope_decl,
           false AS abstract_like FROM cls
    UNION ALL
    SELECT mm.path, mm.stmt, mm.mem, mm.kind, mm.name, mm.l0, mm.l1, mm.b0, mm.bl, mm.decorated, mm.attr_write,
           mm.scope_decl, coalesce(ab.abstract_like, false)
    FROM mm LEFT JOIN ab ON ab.def_id = mm.path || ':AST:' || mm.mem),
tk AS (SELECT p.path, p.stmt, p.mem, coalesce(k.span_start_byte < p.b0, true) AS head,
              hash(k.type, k.string, k.start_line - CASE WHEN k.span_start_byte < p.b0 OR p.b0 IS NULL THEN p.l0
                                                         ELSE p.bl END, k.start_col,
                   k.end_line - CASE WHEN k.span_start_byte < p.b0 OR p.b0 IS NULL THEN p.l0 ELSE p.bl END,
                   k.end_col) AS h
       FROM toks k JOIN parts p ON k.path = p.path AND k.start_line BETWEEN p.l0 AND p.l1),
dg AS (SELECT path, stmt, mem, count(*) FILTER (WHERE head) AS hn, coalesce(sum(h) FILTER (WHERE head), 0) AS hs,
              coalesce(bit_xor(h) FILTER (WHERE head), 0) AS hx, count(*) FILTER (WHERE NOT head) AS bn,
              coalesce(sum(h) FILTER (WHERE NOT head), 0) AS bs, coalesce(bit_xor(h) FILTER (WHERE NOT head), 0) AS bx
       FROM tk GROUP BY ALL),
c AS (SELECT p.path, p.stmt, list(struct_pack(kind := p.kind, name := p.name, l0 := p.l0, l1 := p.l1,
                                        hn := coalesce(g.hn, 0), hs := coalesce(g.hs, 0)::HUGEINT,
                                        hx := coalesce(g.hx, 0)::UBIGINT, bn := coalesce(g.bn, 0),
                                        bs := coalesce(g.bs, 0)::HUGEINT, bx := coalesce(g.bx, 0)::UBIGINT,
                                        decorated := p.decorated, attr_write := p.attr_write,
                                        scope_decl := p.scope_decl, abstract_like := p.abstract_like)
                            ORDER BY p.mem) AS members
      FROM parts p LEFT JOIN dg g USING (path, stmt, mem) GROUP BY ALL)"""


DIGESTS = "cpg_link_digests"
# The digests of a file's stored rows, with what they were computed from: the file's bytes (file_id) and the run that
# extracted those rows (codeintel_run_meta.dagster_run_id: a --full or an upgrade extracts the same bytes again, and
# other extractors may give other rows). A row with stmt NULL says a file's digests are there.
DIGEST_COLUMNS = (PRIOR_COLUMNS[:2] + (("run_id", "VARCHAR"),) + PRIOR_COLUMNS[2:])
_EXTRACTED = ("SELECT f.path, f.file_id, m.dagster_run_id AS run_id FROM cpg_files f "
              "JOIN codeintel_run_meta m USING (path) WHERE f.path IN {paths}")


def _literal_list(paths) -> str:
    return "(" + ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(paths)) + ")"


def _present(conn) -> bool:
    from resources.duck import present_tables
    return set(NEEDED) <= present_tables(conn, NEEDED)


def _ensure_prior(conn) -> None:
    """``cpg_link_prior`` and ``cpg_link_digests`` as this code writes them (one of another shape, from other code, is
    only a cache: dropped)."""
    from resources.duck import run, table_columns
    shapes = table_columns(conn, [PRIOR, DIGESTS])
    for table, columns in ((PRIOR, PRIOR_COLUMNS), (DIGESTS, DIGEST_COLUMNS)):
        have = shapes.get(table)
        if have is not None and list(have) != [c for c, _ in columns]:
            run(conn, f"DROP TABLE {table}")
            have = None
        if have is None:
            run(conn, f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns)})")


def keep_prior(conn, paths) -> None:
    """Before the rows of ``paths`` are replaced: the statement digests of those whose rows are still the ones the
    last link saw (their ``file_id`` is the trace's) and that have none kept yet. Each kept file has a row with
    ``stmt`` NULL that names the ``file_id`` digested (a file with no statement still has its digests: none)."""
    from resources.duck import run
    if not paths or not _present(conn):
        return
    _ensure_prior(conn)
    keep = [r[0] for r in run(conn, f"SELECT f.path FROM cpg_files f JOIN {TRACE} t ON t.path = f.path "
                                    f"AND t.file_id = f.file_id WHERE f.path IN {_literal_list(paths)} "
                                    f"AND f.path NOT IN (SELECT path FROM {PRIOR})")]
    if not keep:
        return
    listed = _literal_list(keep)
    # the files whose digests the last link kept, of these very rows (same bytes, same extraction run)
    cached = [r[0] for r in run(conn, f"SELECT e.path FROM ({_EXTRACTED.format(paths=listed)}) e JOIN {DIGESTS} d "
                                      "ON d.path = e.path AND d.stmt IS NULL AND d.file_id = e.file_id "
                                      "AND d.run_id IS NOT DISTINCT FROM e.run_id")]
    # (the digests first, then the row that says they are there: a run that dies between the two leaves digests
    # no link reads, and the file is followed whole)
    if cached:
        run(conn, f"INSERT INTO {PRIOR} SELECT path, NULL, * EXCLUDE (path, file_id, run_id) FROM {DIGESTS} "
                  f"WHERE path IN {_literal_list(cached)} AND stmt IS NOT NULL")
    digest = sorted(set(keep) - set(cached))
    if digest:
        run(conn, f"INSERT INTO {PRIOR} SELECT d.path, NULL, d.* EXCLUDE (path) FROM "
                  f"({_digest_sql(_literal_list(digest))}) d")
    run(conn, f"INSERT INTO {PRIOR} (path, file_id) SELECT path, file_id FROM cpg_files WHERE path IN {listed}")


def _keep_digests(conn, paths: list[str]) -> None:
    """The digests of the current rows of ``paths`` (``__lk_new_digests``, made by ``changed_names``), for the next
    edit of these files (``keep_prior``); the digests of files no longer in the repository go."""
    from resources.duck import run
    listed = _literal_list(paths)
    run(conn, f"DELETE FROM {DIGESTS} WHERE path IN {listed} OR path NOT IN (SELECT path FROM cpg_files)")
    # (the digests, then the row that says they are there, in one statement)
    run(conn, f"INSERT INTO {DIGESTS} SELECT path, NULL, NULL, * EXCLUDE (path) FROM __lk_new_digests "
              f"UNION ALL SELECT path, file_id, run_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
              f"FROM ({_EXTRACTED.format(paths=listed)})")


def forget_prior(conn) -> None:
    """After a successful link every file is as the link saw it: no old digests are needed any more."""
    from resources.duck import run, table_exists
    if table_exists(conn, PRIOR):
        run(conn, f"DELETE FROM {PRIOR}")


@dataclass
class Change:
    """What an edit of one file changed for other files: ``names`` (module-level, unqualified) whose facts
    changed; ``moves``: (first ordinal, end ordinal (exclusive; None: to the end), ordinal shift, first line, last
    line, line shift) of each old statement found unchanged at another place; ``gone``: (first ordinal, end
    ordinal, first line, last line) of each old statement not found."""
    names: set[str] = field(default_factory=set)
    moves: list[tuple] = field(default_factory=list)
    gone: list[tuple] = field(default_factory=list)
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    fresh: bool = True  # every name in ``names`` is new: no old statement bound or mentioned it

    @property
    def adds_only(self) -> bool:
        """No old statement changed or went, and the new ones bind names the file never had: every fact other
        files read of the old names is as it was (comments, blank lines, moved statements, new definitions)."""
        return not self.gone and self.fresh

    def new_id(self, path: str, node_id: str) -> str | None:
        """The id a definition or binding of this file named ``node_id`` in the old rows has now: itself when its
        statement did not move, None when its statement changed (whoever names it must be resolved again)."""
        rest = node_id[len(path) + 1:]
        m = _AST_ID.fullmatch(rest)
        if m:
            o = int(m.group(1))
            hit = self._find(o, by_line=False)
            return node_id if hit is None else None if hit is False else f"{path}:AST:{o + hit[2]}"
        m = _SCOPE_ID.fullmatch(rest)
        if m:
            line = int(m.group(2))
            hit = self._find(line, by_line=True)
            if hit is None:
                return node_id
            if hit is False:
                return None
            return f"{path}:SCOPE:{m.group(1)}:{line + hit[5]}:{m.group(3)}:{m.group(4)}{m.group(5) or ''}"
        return node_id

    def _find(self, k: int, by_line: bool):
        """The move whose old statement holds ordinal (or line) ``k``; False: a gone statement holds it; None:
        neither (an unchanged statement in place, or no statement). Old statements do not overlap, in ordinals nor
        in lines (``compare_statements`` gives up on a file where two share a line)."""
        index = self._index.get(by_line)
        if index is None:
            spans = [((e[3], e[4]) if by_line else (e[0], e[1]), e) for e in self.moves]
            spans += [((e[2], e[3]) if by_line else (e[0], e[1]), False) for e in self.gone]
            spans.sort(key=lambda t: t[0][0])
            index = self._index[by_line] = ([lo for (lo, _), _ in spans], spans)
        starts, spans = index
        i = bisect.bisect_right(starts, k) - 1
        if i < 0:
            return None
        (lo, hi), hit = spans[i]
        inside = k <= hi if by_line else hi is None or k < hi
        return hit if inside else None


_AST_ID = re.compile(r"AST:(\d+)")
# `p:SCOPE:<qualpath>:<line>:<TYPE>:<n>` (a scope), `...:BIND:<name>` (one of its bindings)
_SCOPE_ID = re.compile(r"SCOPE:(.*):(\d+):([A-Z_]+):(\d+)(:BIND:.*)?")


def changed_names(conn, dirty) -> dict[str, Change | None]:
    """Per dirty file: what its change can make other files see differently (a ``Change``), or None when only
    the whole module will do (module docstring)."""
    from resources.duck import run, table_exists
    out: dict[str, Change | None] = {p: None for p in dirty}
    if not dirty or not _present(conn) or not table_exists(conn, PRIOR):
        return out
    _ensure_prior(conn)
    listed = _literal_list(dirty)
    # the dirty files the last link saw under the same module name, with the file_id it saw
    seen = dict(run(conn, f"""SELECT f.path, t.file_id FROM cpg_files f JOIN {TRACE} t USING (path)
        LEFT JOIN {CPG_DEFINITIONS.name} d ON d.path = f.path AND d.kind = 'module'
        WHERE f.path IN {listed} AND t.module IS NOT DISTINCT FROM d.qualname"""))
    current = dict(run(conn, f"SELECT path, file_id FROM cpg_files WHERE path IN {listed}"))
    kept = {p for p, f in run(conn, f"SELECT path, file_id FROM {PRIOR} WHERE stmt IS NULL AND path IN {listed}")
            if seen.get(p) == f}
    # (a file dirty with the bytes the last link saw: its link rows are judged again, its names are as they were)
    same = {p for p in seen if current.get(p) == seen[p]}
    for p in same:
        out[p] = Change()
    compare = kept - same
    if not compare:
        return out
    listed = _literal_list(compare)
    old: dict[str, dict] = {p: {} for p in compare}
    new: dict[str, dict] = {p: {} for p in compare}
    run(conn, f"CREATE OR REPLACE TEMP TABLE __lk_new_digests AS {_digest_sql(listed)}")
    _keep_digests(conn, sorted(compare))
    for side, sql in ((old, f"SELECT * EXCLUDE (file_id) FROM {PRIOR} WHERE path IN {listed} AND stmt IS NOT NULL"),
                      (new, "SELECT * FROM __lk_new_digests")):
        for p, stmt, line0, line1, n, s, x, defs, refs, wide, members in run(conn, sql):
            side[p][stmt] = (line0, line1, ((n, int(s), x), frozenset(defs), frozenset(refs), bool(wide)), members)
    for p in compare:
        # (a statement has a token; none: the file's tokens were not recorded (a tokenize failure), and the
        # digests would call any two statements with the same names equal)
        if any(v[2][0][0] == 0 for side in (old[p], new[p]) for v in side.values()):
            continue
        out[p] = compare_statements(old[p], new[p])
    return out


def compare_statements(old: dict, new: dict) -> Change | None:
    """The ``Change`` of one file from its old and new statements ({ordinal: (line0, line1, key[, members])}, key:
    (digest, defs, refs, wide), members: a class statement's, ``_members_ctes``); None: the whole module (module
    docstring)."""
    o_keys, n_keys = sorted(old), sorted(new)
    for a, b in zip(o_keys, o_keys[1:]):
        if old[a][1] >= old[b][0]:  # two statements on one line
            return None
    matcher = difflib.SequenceMatcher(a=[old[k][2] for k in o_keys], b=[new[k][2] for k in n_keys], autojunk=False)
    matched = {}
    for i, j, size in matcher.get_matching_blocks():
        for d in range(size):
            matched[i + d] = j + d
    change = Change()
    gone_old = [old[k] for i, k in enumerate(o_keys) if i not in matched]
    hit = set(matched.values())
    added_new = [new[k] for j, k in enumerate(n_keys) if j not in hit]
    # a class whose methods' bodies alone changed: its methods' names (C.m), not the class's (_body_only)
    bodies = _method_bodies(gone_old, added_new)
    for c, methods in bodies.items():
        change.names |= {f"{c}.{m}" for m in methods}
    changed = [v[2] for v in (*gone_old, *added_new) if _class_name(v) not in bodies]
    for _, defs, refs, wide in changed:
        if wide:
            return None
        change.names |= defs or refs
    # (not into `__all__ = [...]`: its refs are the names it lists, whose change does not change the list; a
    # star importer, which reads it, follows any changed name anyway)
    statements = [v[2] for v in (*old.values(), *new.values()) if not v[2][1] or not v[2][1] <= MODULE_WIDE_NAMES]
    grown = bool(change.names)
    while grown:
        grown = False
        for _, defs, refs, _ in statements:
            if refs & change.names:
                add = (defs or refs) - change.names
                if add:
                    change.names |= add
                    grown = True
    if change.names & MODULE_WIDE_NAMES:
        return None
    # (a method's name C.m is in no statement's names: it binds nothing at module level, and mentions are bare names)
    change.fresh = not any(change.names & (defs | refs) for _, defs, refs, _ in (v[2] for v in old.values()))
    for i, k in enumerate(o_keys):
        end = o_keys[i + 1] if i + 1 < len(o_keys) else None
        line0, line1 = old[k][:2]
        if i in matched:
            j = n_keys[matched[i]]
            if j != k or new[j][0] != line0:
                change.moves.append((k, end, j - k, line0, line1, new[j][0] - line0))
        else:
            change.gone.append((k, end, line0, line1))
    return change


def _class_name(v) -> str | None:
    """The name a top-level class statement binds (``v``: (line0, line1, key, members)); None for another statement,
    or a class statement that binds more (a method's ``global`` store)."""
    if len(v) < 4 or v[3] is None:
        return None
    _, defs, _, wide = v[2]
    return next(iter(defs)) if len(defs) == 1 and not wide else None


def _method_bodies(gone: list, added: list) -> dict[str, set[str]]:
    """Per class of the changed statements whose edit only changed bodies of its methods: those methods' names.
    A class pairs an old and a new statement that each bind its name alone (one of each); ``_body_only`` decides."""
    olds, news = {}, {}
    for side, values in ((olds, gone), (news, added)):
        for v in values:
            c = _class_name(v)
            if c is not None:
                side.setdefault(c, []).append(v)
    out = {}
    for c, vs in olds.items():
        if len(vs) == 1 and len(news.get(c, ())) == 1:
            methods = _body_only(vs[0][3], news[c][0][3])
            if methods is not None:
                out[c] = methods
    return out


def _body_only(old: list, new: list) -> set[str] | None:
    """The methods whose bodies alone changed between the old and new members of a class (``_members_ctes``), when
    that is all that changed of it that another file can see; None otherwise (the class's name changes, as before).

    Other files see a class through its name, bases, decorators and members (names, kinds, signatures, decorators),
    and through its methods' bodies where the link reads them for another file's call: what a method returns (the
    callers of the method are relinked: their edges reach the edited file, ``link.affected_paths``), the attributes
    it stores (``x.a.m()`` elsewhere finds ``a``'s class from ``self.a = A()``: not followed by a call into the
    file), whether it is abstract (a call through a declared type reaches the overrides instead), what a dunder
    does (``__getattr__``, ``__get__``, ``__call__``, ``__init__``: dispatch, descriptors, constructors), what a
    decorator is (its body decides whether it replaces what it decorates: followed by ``C.m`` as a name). So a
    method's change is its own (``C.m``) only when its header (decorators, signature) is the same, it has no
    decorator, it is no dunder, and neither body writes an attribute, declares ``global`` / ``nonlocal`` or is
    ``abstract_like`` (only the instructions link.ABSTRACT allows); every other member must be unchanged, in the
    same order, and no two members may share a line (their tokens are told apart by lines)."""
    if len(old) != len(new):
        return None
    for side in (old, new):
        spans = sorted((m["l0"], m["l1"]) for m in side if m["kind"] != "header")
        if any(a[1] >= b[0] for a, b in zip(spans, spans[1:])):
            return None
    changed = set()
    for a, b in zip(old, new):
        if (a["kind"], a["name"]) != (b["kind"], b["name"]) or _part(a, "h") != _part(b, "h"):
            return None
        if _part(a, "b") == _part(b, "b"):
            continue
        name = a["name"] or ""
        if (a["kind"] not in ("FunctionDef", "AsyncFunctionDef") or (name.startswith("__") and name.endswith("__"))
                or any(m[f] for m in (a, b) for f in ("decorated", "attr_write", "scope_decl", "abstract_like"))):
            return None
        changed.add(name)
    return changed


def _part(m: dict, p: str) -> tuple:
    """A member's header (``p`` 'h') or body ('b') digest."""
    return m[p + "n"], int(m[p + "s"]), m[p + "x"]
