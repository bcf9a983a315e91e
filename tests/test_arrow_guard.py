"""codeintel_assets.arrow_guard: the `codeintel` process never imports pandas, and pyarrow works without it.

Each case runs in a fresh interpreter (this test process may have imported pandas already)."""

import json
import os
import subprocess
import sys
import textwrap


def _run(code: str, env: dict | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300,
                         env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_without_the_guard_pyarrow_imports_pandas():
    # what the guard exists for: if pyarrow stops importing pandas by itself, the guard is dead code and this fails
    assert _run("""
        import sys
        import pyarrow as pa
        pa.scalar(":AST:")
        print("pandas" in sys.modules)
    """) == "True"


def test_pyarrow_converts_without_pandas_under_the_guard():
    assert _run("""
        import sys
        from codeintel_assets.arrow_guard import refuse_pandas
        assert refuse_pandas()
        import pyarrow as pa
        import pyarrow.compute as pc
        assert pa.array([1.5, None]).to_pylist() == [1.5, None]
        assert pa.array([[1], None], pa.list_(pa.int32())).to_pylist() == [[1], None]
        assert pc.binary_join_element_wise(pa.array(["a.py"]), ":AST:", "0", "").to_pylist() == ["a.py:AST:0"]
        try:
            import pandas  # noqa: F401
        except ModuleNotFoundError:
            print("refused", "pandas" in sys.modules)
    """) == "refused False"


def test_an_index_run_under_the_guard_never_needs_pandas(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("from pkg.m import f\n")
    (repo / "pkg" / "m.py").write_text("def f(x=1.5):\n    return [x, None]\n\nf()\n")
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path / "home"), HOME=str(tmp_path))
    line = _run(f"""
        import json, sys
        from codeintel_assets.arrow_guard import refuse_pandas, _RefusePandas
        refuse_pandas()  # as cli.run does
        from codeintel_assets import cli
        code = cli.main(["index", {str(repo)!r}, "--db", {str(tmp_path / "x.duckdb")!r}, "--json", "--quiet"])
        print(json.dumps({{"code": code, "pandas": "pandas" in sys.modules, "refused": _RefusePandas.attempts}}))
    """, env)
    got = json.loads(line)
    assert got["code"] == 0 and got["pandas"] is False
    assert got["refused"] >= 1  # pyarrow did ask for it during the run (else the guard would be dead code)


def test_nothing_is_refused_where_pandas_is_imported_already():
    assert _run("""
        import pandas
        from codeintel_assets.arrow_guard import refuse_pandas
        import pyarrow as pa
        print(refuse_pandas(), pa.array(pandas.Series([1, 2])).to_pylist())
    """) == "False [1, 2]"
