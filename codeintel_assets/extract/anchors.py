"""Anchor symbol tables to AST nodes and byte spans (seed 000 SYM-ALG-2, SYM-CPG-ALG-1 step 2).

The AST pass (``astscopes.walk_scopes``) predicts, per scope, the tables symtable will create, each with
its owning node; this module aligns those predictions with ``get_children()`` of every table:
children are grouped by (scope type, table name) and matched on ``get_lineno()``; siblings that tie
on all three are told apart by the names recorded in them, then by order. A list/set/dict
comprehension with no table of its own was inlined (PEP 709): its nested scopes are matched at the
level of the enclosing table.

Anchor confidence (``anchor_reason`` says which rule applied):

==========================  ======  ==========================================================
scope                       conf.   anchor
==========================  ======  ==========================================================
MODULE                      1.0     the Module node, span = the whole file
FUNCTION / CLASS (def)      1.0     the FunctionDef / AsyncFunctionDef / ClassDef by name and line
FUNCTION lambda / genexpr   1.0     the Lambda / GeneratorExp (or non-inlined comprehension) node
TYPE_VARIABLE               0.95    the TypeVar's bound, constraints tuple or default expression
TYPE_ALIAS                  0.95    the ``type X = ...`` statement (the scope evaluates its value)
TYPE_PARAMETERS             0.9     span of the ``[...]`` type-parameter list; node = the owning def /
                                    class / type alias (the list has no node of its own)
ANNOTATION                  0.8     the annotation (3.13 creates no such tables; kept for 3.14)
ties on (type, name, line)  <= 0.9  told apart by recorded names; 0.7 when only order decided
name matched, line differs  0.5     prediction and table disagree on the line
unmatched                   0.2     the enclosing scope's anchor
==========================  ======  ==========================================================
"""

from dataclasses import dataclass

from codeintel_assets.extract.astscopes import AstScopes, Slot
from codeintel_assets.extract.symtable import Scope, SymtableTree

KIND_CONFIDENCE = {
    "module": (1.0, "module: the whole file"),
    "def": (1.0, "def/class statement by name and line"),
    "lambda": (1.0, "lambda expression"),
    "comprehension": (1.0, "comprehension / generator expression"),
    "typevar_bound": (0.95, "TypeVar bound expression"),
    "typevar_constraints": (0.95, "TypeVar constraints tuple"),
    "typevar_default": (0.95, "type parameter default expression"),
    "type_alias": (0.95, "type alias statement (its value is the scope's code)"),
    "type_param_list": (0.9, "type-parameter list span; node = the owning def/class/type alias"),
    "annotation": (0.8, "annotation expression"),
}
IMPLICIT_PREFIXES = (".",)
IMPLICIT_NAMES = frozenset({"__class__", "__classdict__", "__type_params__"})


@dataclass(frozen=True, slots=True)
class Anchor:
    ast_ordinal: int | None
    start: int | None
    end: int | None
    confidence: float
    reason: str


@dataclass
class Alignment:
    anchors: dict[str, Anchor]  # scope_id -> anchor
    slot_of: dict[str, Slot]  # scope_id -> slot
    unmatched_scopes: list[Scope]
    unmatched_slots: list[Slot]
    inlined: list[Slot]


def _signature(sc: Scope) -> set[str]:
    return {n for n in sc.symbols if not n.startswith(IMPLICIT_PREFIXES) and n not in IMPLICIT_NAMES}


def _similarity(sc: Scope, sl: Slot) -> float:
    a, b = _signature(sc), sl.names
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def align_scopes(tree: SymtableTree, ast_scopes: AstScopes) -> Alignment:
    """SYM-ALG-2: match every table to the AST construct that owns it; record the anchor of each."""
    anchors: dict[str, Anchor] = {}
    slot_of: dict[str, Slot] = {}
    tie_conf: dict[str, tuple[float, str]] = {}
    unmatched_scopes: list[Scope] = []
    unmatched_slots: list[Slot] = []
    inlined: list[Slot] = []

    def pair(sc: Scope, sl: Slot, conf: float, why: str | None):
        sl.scope = sc
        slot_of[sc.scope_id] = sl
        if why is not None:
            tie_conf[sc.scope_id] = (conf, why)

    def align(sc: Scope, sl: Slot):
        remaining = list(sc.children)
        pool = list(sl.children)
        while pool:
            leftover = _match(remaining, pool, pair)
            remaining = [c for c in remaining if c.scope_id not in slot_of]
            pool = []
            for p in leftover:
                if p.may_inline:
                    p.inlined = True
                    inlined.append(p)
                    pool.extend(p.children)  # PEP 709: nested tables hang off the enclosing table
                else:
                    unmatched_slots.append(p)
        unmatched_scopes.extend(remaining)
        for c in sc.children:
            csl = slot_of.get(c.scope_id)
            if csl is not None:
                align(c, csl)
            else:
                _mark_unmatched_subtree(c, unmatched_scopes)

    root = tree.module
    pair(root, ast_scopes.root, 1.0, None)
    align(root, ast_scopes.root)

    for sc in tree.scopes:
        sl = slot_of.get(sc.scope_id)
        if sl is None:
            parent = anchors.get(sc.parent.scope_id) if sc.parent is not None else None
            if parent is None:
                anchors[sc.scope_id] = Anchor(None, None, None, 0.0, "unmatched: no AST construct")
            else:
                anchors[sc.scope_id] = Anchor(parent.ast_ordinal, parent.start, parent.end, 0.2,
                                              "unmatched: anchored to the enclosing scope's construct")
            continue
        conf, why = KIND_CONFIDENCE[sl.anchor_kind]
        if sc.scope_id in tie_conf:
            tconf, twhy = tie_conf[sc.scope_id]
            conf, why = min(conf, tconf), f"{why}; {twhy}"
        anchors[sc.scope_id] = Anchor(sl.anchor if sl.anchor >= 0 else sl.owner, sl.span[0], sl.span[1], conf, why)
    return Alignment(anchors, slot_of, unmatched_scopes, unmatched_slots, inlined)


def _mark_unmatched_subtree(sc: Scope, out: list[Scope]) -> None:
    for c in sc.children:
        out.append(c)
        _mark_unmatched_subtree(c, out)


def _match(scopes: list[Scope], slots: list[Slot], pair) -> list[Slot]:
    """Match tables to predicted slots within one parent; return the slots left over."""
    by_key_sc: dict[tuple, list[Scope]] = {}
    for sc in scopes:
        by_key_sc.setdefault((sc.scope_type, sc.name), []).append(sc)
    by_key_sl: dict[tuple, list[Slot]] = {}
    for sl in slots:
        by_key_sl.setdefault((sl.scope_type, sl.name), []).append(sl)
    leftover: list[Slot] = []
    for key, sls in by_key_sl.items():
        scs = by_key_sc.get(key, [])
        if not scs:
            leftover.extend(sls)
            continue
        lines_sc: dict[int, list[Scope]] = {}
        for sc in scs:
            lines_sc.setdefault(sc.lineno, []).append(sc)
        lines_sl: dict[int, list[Slot]] = {}
        for sl in sls:
            lines_sl.setdefault(sl.lineno, []).append(sl)
        rest_sc: list[Scope] = []
        rest_sl: list[Slot] = []
        for line, group_sl in lines_sl.items():
            group_sc = lines_sc.pop(line, [])
            if len(group_sc) == 1 and len(group_sl) == 1:
                pair(group_sc[0], group_sl[0], 1.0, None)
                continue
            if len(group_sc) == len(group_sl) and len({sl.owner for sl in group_sl}) == 1:
                # The bound/constraints and the default of one TypeVar: symtable enters them in that order.
                for sc, sl in zip(group_sc, group_sl):
                    pair(sc, sl, 1.0, None)
                continue
            a, b = _assign(group_sc, group_sl, pair, "same-line siblings")
            rest_sc.extend(a)
            rest_sl.extend(b)
        for group_sc in lines_sc.values():
            rest_sc.extend(group_sc)
        if rest_sc and rest_sl:
            # The table and the prediction disagree on the line: pair what is left by order.
            n = min(len(rest_sc), len(rest_sl))
            for sc, sl in zip(rest_sc[:n], rest_sl[:n]):
                pair(sc, sl, 0.5, "name matched, line differs")
            rest_sl = rest_sl[n:]
        leftover.extend(rest_sl)
    return leftover


def _assign(scs: list[Scope], sls: list[Slot], pair, what: str) -> tuple[list[Scope], list[Slot]]:
    """Greedy assignment by recorded-name similarity, then by order (both lists are in source order)."""
    cands = []
    for i, sc in enumerate(scs):
        for j, sl in enumerate(sls):
            cands.append((-_similarity(sc, sl), abs(i - j), i, j))
    cands.sort()
    used_i, used_j = set(), set()
    chosen = []
    for neg, dist, i, j in cands:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        chosen.append((i, j, -neg))
    for i, j, sim in chosen:
        # Decided by names when this slot's best table is unique and better than the alternatives.
        others = [_similarity(scs[k], sls[j]) for k in range(len(scs)) if k != i]
        by_names = sim == 1.0 and all(o < 1.0 for o in others)
        pair(scs[i], sls[j], 0.9 if by_names else 0.7,
             f"{what} told apart by {'their names' if by_names else 'order'}")
    return ([sc for k, sc in enumerate(scs) if k not in used_i], [sl for k, sl in enumerate(sls) if k not in used_j])
