"""Instruction -> AST anchoring (``AstAnchors.anchor``): the smallest node covering the instruction's span.

"Smallest": among the nodes with start <= span start and end >= span end, the latest start, then the
earliest end, then the deepest (highest preorder ordinal); ``exact`` when its span is the instruction's,
else ``covering``. The Module node spans the whole file, so every instruction with a span has an anchor.

The search once gave up after 256 candidates: in a class of 300 two-line getters, the RESUME of each
later method (3.13 places it at column 0 of the ``def`` line, before the ``def`` itself) has to skip
every node of the methods before it to reach the class, and stayed unanchored (0.884 coverage).
"""

import ast
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from codeintel_assets.extract.bytecode import AstAnchors, extract_bytecode
from codeintel_assets.extract.syntax import extract_source, read_source

np = pytest.importorskip("numpy")

N_GETTERS = 300
GETTERS = "class C:\n" + "".join(f"    def get_{i}(self):\n        return self._{i}\n" for i in range(N_GETTERS))


def _extract(root: Path, rel: str):
    src = read_source(root, rel)
    assert src.error is None
    return src, extract_bytecode(src), extract_source(src)


def _brute_force(nodes: list[dict], spans) -> dict[tuple[int, int], tuple[int | None, str | None]]:
    """Scan every node for every span; keep the best covering one by (start, -end, ordinal)."""
    rows = [(r["span_start_byte"], r["span_end_byte"], r["ordinal"]) for r in nodes if r["span_start_byte"] is not None]
    starts, ends, ords = (np.array(c, dtype=np.int64) for c in zip(*rows))
    m = int(max(ends.max(), ords.max())) + 2
    key = (starts * m + (m - 1 - ends)) * m + ords  # lexicographic (start, -end, ordinal) as one int64
    assert int(key.max()) < 2 ** 62
    out = {}
    for a, b in spans:
        cover = (starts <= a) & (ends >= b)
        if not cover.any():
            out[(a, b)] = (None, None)
            continue
        k = int(np.where(cover, key, -1).argmax())
        out[(a, b)] = (int(ords[k]), "exact" if (starts[k], ends[k]) == (a, b) else "covering")
    return out


def _assert_equals_brute_force(path: str, bc, source) -> int:
    ins = bc.instructions.to_pylist()
    spans = {(r["span_start_byte"], r["span_end_byte"]) for r in ins if r["span_start_byte"] is not None}
    expected = _brute_force(source.ast_nodes.to_pylist(), sorted(spans))
    prefix = f"{path}:AST:"
    bad = []
    for r in ins:
        a, b = r["span_start_byte"], r["span_end_byte"]
        o, kind = expected[(a, b)] if a is not None else (None, None)
        want = (None if o is None else prefix + str(o), kind)
        if (r["ast_node_id"], r["anchor_kind"]) != want:
            bad.append((r["instr_id"], (a, b), (r["ast_node_id"], r["anchor_kind"]), want))
    assert not bad, f"{len(bad)} instructions anchored differently from the brute force, e.g. {bad[:5]}"
    return len(ins)


def test_every_instruction_of_a_300_method_class_is_anchored(tmp_path):
    (tmp_path / "mod.py").write_text(GETTERS)
    src, bc, source = _extract(tmp_path, "mod.py")
    ins = bc.instructions.to_pylist()
    nodes = source.ast_nodes.to_pylist()
    with_span = [r for r in ins if r["span_start_byte"] is not None]
    # Only the module's RESUME (line 0) has no position; every other one lies inside the class.
    assert len(ins) - len(with_span) == 1 and ins[0]["opname"] == "RESUME" and ins[0]["pos"]["lineno"] == 0
    assert all(r["ast_node_id"] is not None for r in with_span), \
        f"{sum(r['ast_node_id'] is None for r in with_span)} of {len(with_span)} instructions unanchored"

    by_id = {r["ast_node_id"]: r for r in nodes}
    cls = next(r for r in nodes if r["kind"] == "ClassDef")
    assert (cls["name"], cls["span_start_byte"], cls["span_end_byte"]) == ("C", 0, len(GETTERS.encode()) - 1)  # up to the last newline
    defs = {r["name"]: r for r in nodes if r["kind"] == "FunctionDef"}
    tree = ast.parse(GETTERS)
    line_start = [0, 0] + [i + 1 for i, ch in enumerate(GETTERS) if ch == "\n"]
    units = {r["qualpath"]: r for r in bc.code_units.to_pylist()}
    methods = [u for u in units.values() if u["kind"] == "function"]
    assert len(methods) == N_GETTERS

    def inside(node_id: str, ancestor_id: str) -> bool:
        while node_id is not None and node_id != ancestor_id:
            node_id = by_id[node_id]["parent_ast_node_id"]
        return node_id == ancestor_id

    for fn in tree.body[0].body:
        d = defs[fn.name]
        # The def's byte span, computed here from the ast positions (ASCII source: columns are bytes).
        start = line_start[fn.lineno] + fn.col_offset
        assert (d["span_start_byte"], d["span_end_byte"]) == (start, line_start[fn.end_lineno] + fn.end_col_offset)
        unit = next(u for u in methods if u["co_name"] == fn.name)
        assert unit["ast_node_id"] == d["ast_node_id"]  # the code unit is the method's FunctionDef
        rows = [r for r in ins if r["code_unit_id"] == unit["code_unit_id"]]
        resume = rows[0]
        assert resume["opname"] == "RESUME"
        # RESUME sits at column 0 of the def line: one byte before the def's own span starts 4 bytes later,
        # so the smallest covering node is the class (not the def), found past all earlier methods' nodes.
        assert resume["pos"] == {"lineno": fn.lineno, "end_lineno": fn.lineno, "col": 0, "end_col": 0}
        assert (resume["span_start_byte"], resume["span_end_byte"]) == (line_start[fn.lineno],) * 2 == (start - 4,) * 2
        assert (resume["ast_node_id"], resume["anchor_kind"]) == (cls["ast_node_id"], "covering")
        # Every other instruction of the method is anchored inside the method's FunctionDef.
        for r in rows[1:]:
            assert r["ast_node_id"] is not None and inside(r["ast_node_id"], d["ast_node_id"]), r
    _assert_equals_brute_force(src.path, bc, source)


@pytest.mark.parametrize("module", ["json.decoder", "ast", "typing"])
def test_anchors_equal_the_brute_force_on_stdlib_files(module):
    f = Path(__import__(module, fromlist=["_"]).__file__)
    src, bc, source = _extract(f.parent, f.name)
    n = _assert_equals_brute_force(src.path, bc, source)
    assert n > 500


def _reference(rows, start, end):
    best = None
    for r in rows:
        if r.start is not None and r.start <= start and r.end >= end:
            k = (r.start, -r.end, r.ordinal)
            if best is None or k > best:
                best = k
    if best is None:
        return None, None
    return best[2], "exact" if (best[0], -best[1]) == (start, end) else "covering"


@pytest.mark.parametrize("seed", range(20))
def test_anchor_equals_the_reference_on_arbitrary_intervals(seed):
    """Overlapping (non-nested) spans, duplicates, zero-width spans and spanless rows: no tree shape assumed."""
    rnd = random.Random(seed)
    n = rnd.choice([1, 5, 50, 400])
    rows = []
    for o in range(n):
        if rnd.random() < 0.05:
            rows.append(SimpleNamespace(ordinal=o, start=None, end=None))
            continue
        a = rnd.randrange(0, 200)
        rows.append(SimpleNamespace(ordinal=o, start=a, end=a + int(rnd.expovariate(1 / 20))))
    anchors = AstAnchors("p.py", rows)
    for _ in range(300):
        a = rnd.randrange(-2, 230)
        b = a + rnd.choice([0, 0, 1, 2, rnd.randrange(0, 60)])
        assert anchors.anchor(a, b) == _reference(rows, a, b), (seed, a, b)
    assert anchors.anchor(None, None) == (None, None)
