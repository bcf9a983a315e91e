"""A chunk of the pass frees each file's derivations before the next file (the automatic GC is off while a
chunk is extracted; the derivations hold reference cycles: recursive closures, scope and code-unit trees)."""

import gc

from codeintel_assets import pipeline
from codeintel_assets.extract.syntax import AstNodeRow
from tests.conftest import write_repo

BODY = """
def outer(a):
    def inner(b):
        return a + b
    return [inner(i) for i in range(a)]


class K:
    def m(self, x):
        try:
            return outer(x)
        except ValueError as e:
            raise RuntimeError(x) from e
"""


def test_no_file_of_a_chunk_outlives_its_extraction(tmp_path, monkeypatch):
    files = {f"m{i}.py": BODY for i in range(4)}
    root = write_repo(tmp_path / "repo", files)
    alive_before = []
    extract = pipeline.extract_file

    def counting(*args, **kwargs):
        alive_before.append(sum(1 for o in gc.get_objects() if isinstance(o, AstNodeRow)))
        return extract(*args, **kwargs)
    monkeypatch.setattr(pipeline, "extract_file", counting)
    gc.collect()  # what earlier tests left in this process, reachable or not: only the reachable stay
    baseline = sum(1 for o in gc.get_objects() if isinstance(o, AstNodeRow))
    res = pipeline.extract_chunk(str(root), [(k, k[:-3]) for k in sorted(files)], 1 << 20, str(tmp_path / "spool"), None)
    assert res.rows["py_ast_nodes"] > 4 * 30 and not res.failures
    # the AST rows of the files before are gone when each file starts (they were kept until the chunk's end)
    assert alive_before == [baseline] * 4, (baseline, alive_before)
