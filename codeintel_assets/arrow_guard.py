"""Keep pandas out of the `codeintel` process (0.3 s of every run): nothing there uses it, pyarrow imports it.

pyarrow imports pandas on its own, when it converts Python values (its C++ converters look pandas' null and
timestamp types up the first time; its lazy pandas shim asks whether pandas is installed), which costs ~270 ms
with the numpy modules it pulls in: 4-5 % of a one-file edit's `codeintel index`. No code of CodeIntel hands
pandas objects to pyarrow or asks DuckDB for a DataFrame, so the console script (``cli.run``) refuses the import
for its whole life: a meta-path finder that raises ModuleNotFoundError for ``pandas``, which pyarrow treats as
pandas not installed (its converters then try again on later calls: a failed import costs ~10 µs, a few hundred of
them in a one-file edit). Only the `codeintel` process: ``main()`` called in-process (the tests, a notebook), the
extraction workers of a large run (thousands of conversions each) and the Dagster code server are left alone.
tests/test_arrow_guard.py fails if pyarrow stops importing pandas (the guard would be dead code) or if the CLI
under the guard imports or needs it.
"""

import sys


class _RefusePandas:
    """A meta-path finder under which ``import pandas`` fails as for a package that is not installed."""

    attempts = 0

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "pandas":
            cls.attempts += 1
            raise ModuleNotFoundError("pandas is not used by the codeintel command", name="pandas")
        return None


def refuse_pandas() -> bool:
    """From now on ``import pandas`` fails in this process (unless it was imported already: then False)."""
    if "pandas" in sys.modules:
        return False
    if _RefusePandas not in sys.meta_path:
        sys.meta_path.insert(0, _RefusePandas)
    return True
