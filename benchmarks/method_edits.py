"""Edits of methods' bodies on an indexed repository: each re-indexed with `codeintel index`, timed, and its
incremental link compared with a full link of the same rows.

Usage: uv run python benchmarks/method_edits.py REPO --db DB --dagster-home DIR [--edits N] [--seed S]

REPO must already be indexed into DB (DAGSTER_HOME DIR). Each edit picks a method of a top-level class at random
(seeded), inserts `_method_edit_<k> = <k>` as the first statement of its body (after a docstring) and runs
`codeintel index REPO --json` in a fresh process; it prints the wall time, the files relinked, whether the method
was one whose body alone is followed (no decorator, no dunder: the class's name otherwise) and whether the five link
tables equal a full link (`link_calls(full=True)` on a copy of the database, rows compared with EXCEPT ALL both
ways). The edits stay in the files.
"""

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TABLES = ("cpg_calls", "cpg_binds_arg", "cpg_arg_reaches", "cpg_inherits", "cpg_mro")


def methods(path: Path) -> list[tuple[int, int, str, bool]]:
    """(line to insert before, its indentation, the method's name, plain: no decorator and no dunder) of every
    method of a top-level class of ``path``."""
    try:
        tree = ast.parse(path.read_bytes())
        text = path.read_text(encoding="utf-8").splitlines()
    except (SyntaxError, ValueError):
        return []
    out = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for m in cls.body:
            if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = m.body
            first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr)
                                and isinstance(body[0].value, ast.Constant)) else body[0]
            if first.lineno == m.lineno or text[first.lineno - 1][:first.col_offset].strip():
                continue  # the body on the signature's line: no line of its own to insert before
            dunder = m.name.startswith("__") and m.name.endswith("__")
            out.append((first.lineno, first.col_offset, m.name, not m.decorator_list and not dunder))
    return out


def compare_with_full(db: str) -> dict[str, int]:
    """Rows of the incremental link missing from a full link of a copy, and extra, per table (0: equal)."""
    from codeintel_assets.link import link_calls
    from resources.store import CONNECTION_CONFIG
    work = Path(tempfile.mkdtemp(prefix="method-edits-"))
    try:
        copy = work / "full.duckdb"
        shutil.copy(db, copy)
        with duckdb.connect(str(copy), config=CONNECTION_CONFIG) as c:
            for t in TABLES:
                c.execute(f"CREATE TEMP TABLE inc_{t} AS SELECT * FROM {t}").fetchall()
            link_calls(c, full=True)
            return {t: c.execute(f"SELECT (SELECT count(*) FROM (SELECT * FROM inc_{t} EXCEPT ALL SELECT * FROM {t})) "
                                 f"+ (SELECT count(*) FROM (SELECT * FROM {t} EXCEPT ALL SELECT * FROM inc_{t}))"
                                 ).fetchall()[0][0] for t in TABLES}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def link_figures(home: str) -> dict:
    """The metadata of the last cpg_calls materialisation (the link step's figures)."""
    from dagster import AssetKey, DagsterInstance
    with DagsterInstance.from_config(home) as instance:
        event = instance.get_latest_materialization_event(AssetKey("cpg_calls"))
        return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("repo")
    ap.add_argument("--db", required=True)
    ap.add_argument("--dagster-home", required=True)
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    repo = Path(args.repo)
    rng = random.Random(args.seed)
    candidates = [(p, i) for p in sorted(repo.rglob("*.py")) for i in range(len(methods(p)))]
    env = dict(os.environ, DAGSTER_HOME=args.dagster_home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    codeintel = str(Path(sys.executable).with_name("codeintel"))
    unequal = 0
    for k in range(args.edits):
        path, i = rng.choice(candidates)
        line, col, name, plain = methods(path)[i]  # (read again: an earlier edit of the file moved its lines)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines.insert(line - 1, " " * col + f"_method_edit_{k} = {k}\n")
        path.write_text("".join(lines), encoding="utf-8")
        t0 = time.perf_counter()
        proc = subprocess.run([codeintel, "index", str(repo), "--db", args.db, "--json", "--quiet"], env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - t0
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        relinked = link_figures(args.dagster_home).get("files_relinked", -1)
        diff = compare_with_full(args.db)
        unequal += any(diff.values())
        print(f"{wall:6.2f}s  exit {proc.returncode}  checks failed {summary['checks_failed']}  relinked {relinked:4d}  "
              f"{'body' if plain else 'class'}  {'EQUAL' if not any(diff.values()) else diff}  "
              f"{path.relative_to(repo)}::{name}", flush=True)
    print(f"{args.edits} edits, {unequal} with an incremental link that differs from a full one")
    sys.exit(1 if unequal else 0)


if __name__ == "__main__":
    main()
