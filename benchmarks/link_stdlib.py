"""The link step on an indexed database: a full link, a no-op, and one-file relinks; the call graph's figures.

    uv run python benchmarks/link_stdlib.py DB [PATH ...]

DB is a database `codeintel index` wrote (for the figures in docs/cpg.md: the installed standard
library). It is copied first (the original is not touched). Each PATH (default: json/decoder.py,
textwrap.py, asyncio/events.py) is made to look edited (its file_id changed in cpg_files) and the link
is timed: that is the link's part of a one-file re-index.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from codeintel_assets.link import link_calls  # noqa: E402


def checked(conn) -> None:
    """What a passing cpg_integrity does after a link in an index run: the relinked files are judged (without it
    every link finds them all unchecked, hence dirty, and links the whole repository again)."""
    conn.execute("DELETE FROM cpg_link_unchecked")


def main() -> None:
    src = Path(sys.argv[1])
    paths = sys.argv[2:] or ["json/decoder.py", "textwrap.py", "asyncio/events.py"]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "copy.duckdb"
        shutil.copy(src, db)
        conn = duckdb.connect(str(db))
        conn.execute("SET enable_progress_bar = false")
        t = time.perf_counter()
        figures = link_calls(conn, full=True)
        print(f"full link: {time.perf_counter() - t:.2f} s")
        checked(conn)
        t = time.perf_counter()
        link_calls(conn)
        print(f"no-op link: {time.perf_counter() - t:.2f} s")
        for p in paths:
            checked(conn)
            conn.execute("UPDATE cpg_files SET file_id = file_id || 'x' WHERE path = ?", [p])
            t = time.perf_counter()
            f = link_calls(conn)
            print(f"one file edited ({p}): {time.perf_counter() - t:.2f} s, {f['files_relinked']} files relinked")
        print(f"call sites {figures['call_sites']:,}, resolved {figures['call_sites_resolved']:,} "
              f"({100 * figures['share_resolved']:.1f}%), CALLS edges {figures['edges']:,}")
        for k, v in sorted(figures.items()):
            if k.startswith(("sites_", "rows_")):
                print(f"  {k}: {v:,}")
        for rule, n, conf in conn.execute("SELECT rule, count(*), avg(confidence) FROM cpg_calls GROUP BY ALL "
                                          "ORDER BY 2 DESC").fetchall():
            print(f"  edges {rule}: {n:,} (mean confidence {conf:.3f})")
        src_counts = conn.execute("SELECT signature_source, count(*) FROM cpg_binds_arg GROUP BY ALL").fetchall()
        print(f"  BINDS_ARG by signature source: {dict(src_counts)}")
        conn.close()


if __name__ == "__main__":
    main()
