"""DuckDB insert cost by writer setting: why the indexer writes with one DuckDB thread.

Copies the rows of a few big tables of an existing index (``--db``, for example the one
``bench_stdlib.py --keep DIR`` leaves) to Parquet parts, as the extraction workers spool them, then
inserts them into a fresh database in batches (one transaction per batch, as ``indexer.py`` does)
under several settings, printing wall and CPU seconds for each. CPU is what matters while the
extraction workers use the machine's cores.

Usage:  uv run python benchmarks/write_threads.py --db DIR/codeintel.duckdb [--tables py_tokens,py_bc_instructions]
        uv run python benchmarks/write_threads.py --db DIR/codeintel.duckdb --tables all --one-thread
        (the second: the CPU DuckDB needs to store every row of the file pass, the storage floor)
"""

import argparse
import os
import shutil
import tempfile
import time

import duckdb

from resources.duck import _derived

SETTINGS = [  # (memory_limit, threads, preserve_insertion_order)
    ("512MB", 2, True), ("512MB", 2, False), ("512MB", 1, True), ("512MB", 1, False), ("4GB", 2, True)]
BATCHES = 9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--tables", default="py_tokens,py_bc_instructions",
                    help="comma-separated, or 'all': every table of the file pass")
    ap.add_argument("--one-thread", action="store_true", help="only the indexer's setting (threads=1)")
    args = ap.parse_args()
    if args.tables == "all":
        from codeintel_assets.pipeline import pass_tables
        tables = [tc.name for tc in pass_tables()]
    else:
        tables = args.tables.split(",")
    settings = [s for s in SETTINGS if s == ("512MB", 1, True)] if args.one_thread else SETTINGS
    work = tempfile.mkdtemp(prefix="codeintel-write-threads-")
    try:
        src = duckdb.connect(args.db, read_only=True, config={"custom_user_agent": "dagster"})
        ddl, rows = {}, 0
        for t in tables:
            ddl[t] = src.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ?", [t]).fetchall()[0][0]
            virtual = list(_derived(t))  # generated columns: not written
            exclude = f" EXCLUDE ({', '.join(virtual)})" if virtual else ""
            rows += src.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for i in range(BATCHES):
                src.execute(f"COPY (SELECT *{exclude} FROM {t} WHERE hash(path) % {BATCHES} = {i}) "
                            f"TO '{work}/{t}-{i}.parquet' (FORMAT parquet)")
        src.close()
        print(f"{rows:,} rows of {', '.join(tables)} in {BATCHES} batches")
        for memory, threads, order in settings:
            db = os.path.join(work, "target.duckdb")
            for f in (db, db + ".wal"):
                if os.path.exists(f):
                    os.remove(f)
            c = duckdb.connect(db)
            c.execute(f"SET memory_limit = '{memory}'; SET threads = {threads}; "
                      f"SET preserve_insertion_order = {order}")
            for sql in ddl.values():
                c.execute(sql)
            t0, cpu0 = time.perf_counter(), time.process_time()
            for i in range(BATCHES):
                c.execute("BEGIN")
                for t in tables:
                    c.execute(f"INSERT INTO {t} BY NAME SELECT * FROM read_parquet('{work}/{t}-{i}.parquet')")
                c.execute("COMMIT")
            c.execute("CHECKPOINT")
            print(f"memory_limit={memory:<6} threads={threads} preserve_insertion_order={order!s:<5}  "
                  f"{time.perf_counter() - t0:6.1f} s wall  {time.process_time() - cpu0:6.1f} s CPU")
            c.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
