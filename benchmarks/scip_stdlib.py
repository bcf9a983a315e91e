"""SCIP ingestion at the scale of the standard library: how long reading and anchoring an index takes.

No SCIP indexer for Python installs here (scip-python is an npm package), so the index is synthesised
from an existing codeintel index of the same files: every name site becomes an occurrence (UTF-16
columns computed from the file's text), with one symbol per binding, definitions marked; Google's
protobuf runtime encodes it (tests/scip_encoder.py). Then, on a copy of the database:

  1. ``read_index`` alone (the wire-format decoder);
  2. ``ingest_scip`` (read + byte spans + anchoring SQL + the three tables);
  3. the link step that follows (every document is new: a full relink) against the same link without an
     index, on another copy;

and the raw floor of the same files (bench_stdlib.raw_floor) for the ratios.

Usage: uv run python benchmarks/scip_stdlib.py --work DIR
  DIR holds ``stdlib/`` and ``codeintel.duckdb`` as ``bench_stdlib.py --keep DIR`` leaves them.
"""

import argparse
import json
from bisect import bisect_right
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_stdlib import raw_floor, stdlib_files  # noqa: E402


def utf16(s: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in s)


def synthesise(db: Path, repo: Path, out: Path) -> dict:
    import duckdb

    from codeintel_assets.extract.spans import LineIndex
    from codeintel_assets.extract.syntax import read_source
    from tests.scip_encoder import classes
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT path, span_start_byte, span_end_byte, role, binding_id FROM py_sym_name_sites "
                       "WHERE span_is_name AND binding_id IS NOT NULL AND span_start_byte IS NOT NULL "
                       "ORDER BY path, span_start_byte").fetchall()
    con.close()
    C = classes()
    index = C["Index"]()
    index.metadata.tool_info.name = "synthetic"
    t0 = time.perf_counter()
    doc, path, lines, text = None, None, None, None
    n = 0
    for p, s, e, role, binding in rows:
        if p != path:
            path = p
            src = read_source(repo, p)
            doc = index.documents.add(relative_path=p, language="python")
            lines, text = LineIndex(src.utf8).line_starts, src.utf8
        line = bisect_right(lines, s, 1) - 1  # 1-based, as LineIndex
        start = lines[line]
        end_line = bisect_right(lines, e, 1) - 1
        rng = [line - 1, utf16(text[start:s].decode()), utf16(text[lines[end_line]:e].decode())]
        if end_line != line:
            rng = [line - 1, rng[1], end_line - 1, rng[2]]
        doc.occurrences.add(range=rng, symbol="synthetic . . . " + binding.replace(" ", "_") + ".",
                            symbol_roles=1 if role == "def" else 8)
        n += 1
    data = index.SerializeToString()
    out.write_bytes(data)
    return {"documents": len(index.documents), "occurrences": n, "bytes": len(data),
            "encode_seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = Path(args.work)
    repo, db = work / "stdlib", work / "codeintel.duckdb"
    import duckdb

    from codeintel_assets.link import link_calls
    from codeintel_assets.scip import ingest_scip, read_index
    scip_db, plain_db = work / "scip_bench.duckdb", work / "scip_bench_plain.duckdb"
    shutil.copy(db, scip_db)
    shutil.copy(db, plain_db)
    index_path = work / "bench_index.scip"
    made = synthesise(db, repo, index_path)
    print(f"synthetic index: {made['documents']} documents, {made['occurrences']:,} occurrences, "
          f"{made['bytes'] / 2**20:.1f} MiB")
    floor, _ = raw_floor(stdlib_files(repo, None))
    print(f"raw floor: {floor:.1f}s")
    t = time.perf_counter()
    read_index(index_path)
    read_s = time.perf_counter() - t
    con = duckdb.connect(str(scip_db))
    t = time.perf_counter()
    figures = ingest_scip(con, str(repo), str(index_path))
    ingest_s = time.perf_counter() - t
    t = time.perf_counter()
    link = link_calls(con)
    link_s = time.perf_counter() - t
    con.close()
    con = duckdb.connect(str(plain_db))
    t = time.perf_counter()
    link_calls(con, full=True)
    plain_s = time.perf_counter() - t
    con.close()
    print(f"read_index:  {read_s:6.1f}s  ({made['occurrences'] / read_s:,.0f} occurrences/s)")
    print(f"ingest_scip: {ingest_s:6.1f}s  ratio to the floor {ingest_s / floor:.2f}  "
          f"(anchored {figures.get('share_anchored')}, {figures.get('documents_ok')} documents ok)")
    print(f"link after the ingest (full): {link_s:6.1f}s; without an index (full): {plain_s:6.1f}s")
    print(json.dumps({"floor_s": round(floor, 1), "read_s": round(read_s, 1), "ingest_s": round(ingest_s, 1),
                      "link_s": round(link_s, 1), "link_plain_s": round(plain_s, 1), **made,
                      **{k: v for k, v in figures.items() if k != "path"},
                      "scip_sites_resolved": link.get("scip_sites_resolved")}))
    for p in (scip_db, plain_db, index_path):
        p.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
