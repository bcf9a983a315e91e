"""PEP 562 lazy module attributes: `from .impl import Lazy` inside a package's module-level `def __getattr__(name)`
makes `pkg.Lazy` that class (unittest's `IsolatedAsyncioTestCase` is one: in the standard library, every test class
deriving from `unittest.IsolatedAsyncioTestCase` had an incomplete MRO, and its `self.assertEqual(...)` calls no
edge). A plain `import warnings` there names nothing of the package, and a name the package binds itself keeps its
own meaning.

The expected callees are CPython's: the fixture is imported and each class and method named by its `__module__`
and `__qualname__`.
"""

from tests.conftest import call_edges, index_repo
from tests.test_cpg_link_sqla_trial import in_cpython

FILES = {
    "pkg/__init__.py": '''from .base import Base


def __getattr__(name):
    if name == "Lazy":
        from .impl import Lazy
        return Lazy
    if name == "warn":
        import warnings
        return warnings.warn
    if name == "Base":
        from .impl import Base
        return Base
    if name == "Pool":  # (concurrent.futures' pattern)
        from .impl import Pool as pe
        return pe
    if name == "Renamed":
        from .impl import Lazy as renamed
        return renamed
    raise AttributeError(name)
''',
    "pkg/base.py": "class Base:\n    def ping(self):\n        return 'base'\n",
    "pkg/impl.py": ("class Lazy:\n    def m(self):\n        return 'lazy'\n\n\n"
                    "class Base:\n    def ping(self):\n        return 'impl'\n\n\nclass Pool:\n    pass\n"),
    "use.py": '''import pkg
from pkg import Lazy


def main():
    x = pkg.Lazy()
    x.m()
    Lazy().m()
    pkg.Base().ping()
    pkg.Renamed().m()
    pkg.warn("x")
    pkg.Pool()
    return Sub().f()


class Sub(pkg.Lazy):
    def f(self):
        return self.m()
''',
}


def test_a_name_a_module_level_getattr_imports_is_the_imported_object(tmp_path):
    repo, env, _ = index_repo(tmp_path, FILES)
    name = "lambda o: o.__module__ + '.' + o.__qualname__"
    lazy, lazy_m, base_ping, sub_m, renamed = in_cpython(
        repo, f"import pkg, use; n = {name}; print(n(pkg.Lazy), n(type(pkg.Lazy()).m), n(type(pkg.Base()).ping), "
              "n(use.Sub.m), n(pkg.Renamed))").split()
    pool = in_cpython(repo, f"import pkg; print(({name})(pkg.Pool))")
    assert pool == "pkg.impl.Pool" and renamed == lazy  # (`pkg.Renamed`: the name __getattr__ compares, not the local `renamed`)
    assert (lazy, lazy_m, base_ping, sub_m) == ("pkg.impl.Lazy", "pkg.impl.Lazy.m", "pkg.base.Base.ping",
                                                "pkg.impl.Lazy.m")
    got = {line: [(callee, rule) for callee, rule, _ in edges]
           for line, edges in call_edges(env["CODEINTEL_DB"], "use.py").items()}
    assert got == {
        6: [(lazy, "class")],
        7: [(lazy_m, "instance_method")],
        8: [(lazy, "class"), (lazy_m, "result_method")],
        9: [("pkg.base.Base", "class"), (base_ping, "result_method")],  # the package's own Base, not __getattr__'s
        # `pkg.Renamed` is asked for by a name the import binds neither as (only the comparison says it): no edge
        # (line 10), nor for `pkg.warn` (line 11: warnings.warn, a module outside the package, through
        # `import warnings`)
        12: [(pool, "class")],
        13: [("use.Sub", "class"), ("use.Sub.f", "result_method")],
        18: [(sub_m, "self_method")],
    }
