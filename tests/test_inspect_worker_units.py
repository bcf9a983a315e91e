"""The inspect worker's shortcuts agree with what they stand for (CPython's ``inspect``).

The worker caches the facts that depend only on a value's type (``_facts``) and reads a class's
members without ``getattr_static`` on the names it drops (``_members_static``). Both are checked here
against the uncached definitions and against ``inspect.getmembers_static`` on real classes of the
standard library; objects that lie about their class (``isinstance`` consults ``__class__``, their code) are
judged by their type.
"""

import collections
import dataclasses
import enum
import functools
import importlib.util
import inspect
import json
import sys
import types
import typing

import pytest

from codeintel_assets.extract.inspect_sandbox import WORKER_PATH

CONFIG = {"sandbox_dir": "/tmp", "result_fd": 1, "import_roots": [], "memory_bytes": 0, "cpu_seconds": 0,
          "max_objects": 20000, "max_members": 2000, "max_unwrap_hops": 64, "max_result_bytes": 1 << 26,
          "max_file_bytes": 0}


@pytest.fixture(scope="module")
def worker():
    """The worker module, loaded without running its main loop (which alone installs the sandbox)."""
    spec = importlib.util.spec_from_file_location("codeintel_inspect_worker_under_test", WORKER_PATH)
    mod = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, ["inspect_worker", json.dumps(CONFIG)]
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.argv = argv
    return mod


class Liar:
    """Says it is an int when asked to (``isinstance(x, int)`` is then true)."""

    def __init__(self, lie):
        self.lie = lie

    @property
    def __class__(self):
        return int if self.lie else type(self)


def _values():
    out = [None, True, 3, 2.5, "s", b"b", bytearray(b"x"), len, str.join, int.__add__, dict.__dict__["fromkeys"],
           (1).__add__, property(lambda s: 1), staticmethod(len), classmethod(len), functools.partial(len),
           types.SimpleNamespace(), Liar(False), Liar(True), Liar(False)]
    for m in (enum, functools, collections, typing, dataclasses, inspect, json):
        for v in vars(m).values():
            out.append(v)
            if isinstance(v, type):
                out.extend(vars(v).values())
    return out


def test_type_facts_match_the_predicates_on_every_value(worker):
    w = worker
    honest = 0
    for v in _values():  # a truthful Liar comes first: its type's facts are cached before the lying one
        want = (w._classify(v), tuple(w._desc_flags(v)), w._value_kind(v), w._tq(type(v)), callable(v),
                w._type_has(type(v), "__get__"), w._isbuiltin(v),
                w._isclass(v) or w._isfunction(v) or w._isbuiltin(v) or w._ismethoddescriptor(v)
                or w._isdatadescriptor(v) or callable(v))
        assert w._facts(v) == want, v
        assert w._facts(v) == want, v  # the cached answer too
        if type(v) is not Liar:  # an object whose __class__ is its type: the worker's predicates are inspect's
            honest += 1
            for name, mine in (("ismodule", w._ismodule), ("isclass", w._isclass), ("isfunction", w._isfunction),
                               ("ismethod", w._ismethod), ("isbuiltin", w._isbuiltin),
                               ("isgetsetdescriptor", w._isgetset), ("ismemberdescriptor", w._ismember),
                               ("isdatadescriptor", w._isdatadescriptor),
                               ("ismethoddescriptor", w._ismethoddescriptor)):
                assert mine(v) == getattr(inspect, name)(v), (name, v)
    assert honest > 500
    # A Liar is judged by its type: isinstance would ask its __class__, which is its own code (a lazy proxy's
    # __class__ configures, imports or raises), so the worker never does
    assert isinstance(Liar(True), int) and not isinstance(Liar(False), int)
    assert w._facts(Liar(True))[2] == w._facts(Liar(False))[2] == "other"
    assert w._facts(Liar(True))[3] == f"{__name__}.Liar"


def _classes():
    out = [Liar, enum.Enum, enum.IntFlag, enum.EnumType, collections.OrderedDict, collections.Counter,
           functools.partial, typing.Generic, dataclasses.Field, inspect.Signature, inspect.Parameter, json.JSONDecoder]

    class Color(enum.Enum):  # enum members and DynamicClassAttribute (name, value) on the base
        RED = 1

    class Slotted:
        __slots__ = ("a", "b")

    class Meta(type):
        def __dir__(cls):
            return ["x", "x", "missing"]  # a duplicate and a name that is nowhere

    class WithMeta(metaclass=Meta):
        x = 1

    return out + [Color, Slotted, WithMeta]


@pytest.mark.parametrize("keep", [lambda n: True, lambda n: n.startswith("_"), lambda n: not n.startswith("__")],
                         ids=["all", "private", "public"])
def test_members_static_is_getmembers_static_restricted(worker, keep):
    for cls in _classes():
        want = [(n, id(v)) for n, v in inspect.getmembers_static(cls) if keep(n)]
        got = [(n, id(v)) for n, v in worker._members_static(cls, keep)]
        assert got == want, cls
