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
        from codeintel_assets.arrow_guard import refuse_pandas, skip_template_highlighting, _RefusePandas
        refuse_pandas()  # as cli.run does
        skip_template_highlighting()
        from codeintel_assets import cli
        code = cli.main(["index", {str(repo)!r}, "--db", {str(tmp_path / "x.duckdb")!r}, "--json", "--quiet"])
        print(json.dumps({{"code": code, "pandas": "pandas" in sys.modules, "refused": _RefusePandas.attempts,
                          "plugin": [m for m in ("mako.ext.pygmentplugin", "pygments.lexers.html") if m in sys.modules]}}))
    """, env)
    got = json.loads(line)
    assert got["code"] == 0 and got["pandas"] is False and got["plugin"] == []
    assert got["refused"] >= 1  # pyarrow did ask for it during the run (else the guard would be dead code)


def test_nothing_is_refused_where_pandas_is_imported_already():
    assert _run("""
        import pandas
        from codeintel_assets.arrow_guard import refuse_pandas
        import pyarrow as pa
        print(refuse_pandas(), pa.array(pandas.Series([1, 2])).to_pylist())
    """) == "False [1, 2]"


def test_without_the_guard_dagster_imports_pygments_through_mako():
    # what skip_template_highlighting exists for: Dagster's storage -> alembic -> mako.exceptions -> pygments'
    # lexers. If that chain goes away, the guard is dead code and this fails.
    assert _run("""
        import sys
        import dagster._core.storage.sql  # noqa: F401
        print("mako.ext.pygmentplugin" in sys.modules, "pygments.lexers.html" in sys.modules)
    """) == "True True"


def test_under_the_guard_mako_falls_back_and_pygments_stays_out():
    assert _run("""
        import sys
        from codeintel_assets.arrow_guard import skip_template_highlighting
        assert skip_template_highlighting()
        import dagster._core.storage.sql  # noqa: F401
        import mako.exceptions
        # mako's own fallback (what it does without pygments): no formatter, escaping instead of highlighting
        assert mako.exceptions.pygments_html_formatter is None
        assert mako.exceptions.syntax_highlight()("<a>") == "&lt;a&gt;"
        # its text error template (alembic's, for a failing migration script) still renders
        try:
            raise ValueError("boom")
        except ValueError:
            text = mako.exceptions.text_error_template().render()
        assert "ValueError: boom" in text
        # (rich, which structlog imports, loads pygments.lexers' index itself, but not the HTML lexers)
        print([m for m in ("mako.ext.pygmentplugin", "pygments.lexers.html", "pygments.lexers.javascript")
               if m in sys.modules])
    """) == "[]"


def test_the_highlighting_guard_does_nothing_once_mako_is_imported():
    assert _run("""
        import sys
        import mako.exceptions
        from codeintel_assets.arrow_guard import skip_template_highlighting
        print(skip_template_highlighting(), mako.exceptions.pygments_html_formatter is not None)
    """) == "False True"
