"""The inspect sandbox's worker: imports one module at a time and streams its runtime facts back.

Run by ``inspect_sandbox.py`` as ``python -s -P -B <this file> <config json>`` in a fresh temporary
directory (its working directory, ``HOME`` and ``TMPDIR``). Standard library only, and imports
nothing of CodeIntel: it runs under the analysed project's interpreter with the project's import
roots first on ``sys.path``.

Protocol: one JSON command per line on the command pipe (``{"module": ..., "file": ..., "probes": [...]}``);
one reply per command on the result pipe (the fd named in the config), framed as ``<length>\\n<json>``.
Whatever the module prints goes to stdout/stderr, which the parent drains, counts and caps. The command
pipe arrives as stdin and is moved to a private descriptor before any analysed code runs: the code sees
what ``python -I -c "import mod" < /dev/null`` shows, ``/dev/null`` on descriptor 0 (``sys.stdin``,
``sys.__stdin__``, ``input()``, ``os.read(0, n)``: end of input at once) and ``sys.argv == ['-c']``
(the config, ``sys.argv[1]``, is read by ``main()`` and taken out of ``sys.argv`` and ``sys.orig_argv``;
importing this file as a module reads no command line).

Isolation set up here, before any analysed code runs (the parent adds the wall-clock timeout and
kills on output floods):

- ``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` (per module: the soft limit is moved up before each import),
  ``RLIMIT_CORE`` 0, ``RLIMIT_FSIZE`` (with ``SIGXFSZ`` ignored, an oversized write fails);
- an audit hook (PEP 578; it cannot be removed) that refuses sockets, subprocesses, ``fork``/``exec``,
  and any file write, removal, rename, link or mode change outside the sandbox directory (``sqlite3``
  databases included; ``os.mkfifo`` / ``os.mknod``, which raise no event, are wrapped), from the first
  module's import to the worker's end (threads, ``atexit`` handlers and finalisers too). It is the
  guard for Python-level code: a C extension that calls the OS directly is not seen (documented).

Extraction is static in the seed's sense: members via ``inspect.getmembers_static`` (class) or the
module's ``__dict__``, attributes via ``getattr_static``, annotations and signatures with
``eval_str=False``; user ``__get__`` / ``__getattr__`` / properties are never called. Only the
runtime probes the user allowlists call user code (a zero-argument factory, once).
"""

import collections
import contextlib
import functools
import hashlib
import importlib
import importlib.machinery
import inspect
import json
import os
import resource
import signal
import sys
import threading
import time
import traceback
import types
from urllib.parse import unquote, urlsplit  # (the hook must not import)

# Set by ``main()`` from the config, the worker's argument. Importing this file as a module reads no
# command line (indexing CodeIntel itself imports it, where ``sys.argv`` is ``['-c']``): until then, the
# parent's default budgets, and no sandbox (the audit hook and the limits are installed by ``main()``).
CONFIG: dict = {}
SANDBOX = ""
RESULT_FD = -1
MAX_OBJECTS = 20_000
MAX_MEMBERS = 2_000
MAX_HOPS = 64
MAX_RESULT_BYTES = 64 << 20
MAX_REPR = 200
CPU_SECONDS = 60
SETUP = ""  # "module:qualname" of a callable the user's configuration runs once per worker


def _configure(config: dict) -> None:
    global CONFIG, SANDBOX, RESULT_FD, MAX_OBJECTS, MAX_MEMBERS, MAX_HOPS, MAX_RESULT_BYTES, MAX_REPR, \
        CPU_SECONDS, SETUP
    CONFIG = config
    SANDBOX = os.path.realpath(config["sandbox_dir"])
    RESULT_FD = config["result_fd"]
    MAX_OBJECTS = config["max_objects"]
    MAX_MEMBERS = config["max_members"]
    MAX_HOPS = config["max_unwrap_hops"]
    MAX_RESULT_BYTES = config["max_result_bytes"]
    MAX_REPR = config.get("max_repr", 200)
    CPU_SECONDS = config["cpu_seconds"]
    SETUP = config.get("setup") or ""

# ---------------------------------------------------------------------------------------------- sandbox

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {  # event -> indexes of the path arguments that must stay inside the sandbox
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "shutil.copyfile": (1,), "shutil.move": (1,), "os.setxattr": (0,),
    "os.removexattr": (0,), "shutil.copytree": (1,), "shutil.make_archive": (0,),
}
_REFUSED_PREFIXES = ("socket.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "pty.", "webbrowser.",
                     "urllib.Request", "http.client.connect", "ftplib.", "smtplib.", "nntplib.", "poplib.",
                     "imaplib.", "telnetlib.")
_REFUSED = {"os.system", "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.startfile", "resource.setrlimit",
            "resource.prlimit", "os.chdir"}
_ALLOWED_SOCKET_EVENTS = {"socket.gethostname"}
_guard_active = False
# Per thread: inside the hook already (its own calls are not judged again), or the worker's own trusted call
# (``_trusted``); a thread the module started has its own, never trusted (a global let such a thread act
# unjudged while the main thread was inside the hook)
_local = threading.local()
_started: list = []  # modules whose import began during the current attempt (the "import" audit event)


def _inside(path) -> bool:
    if isinstance(path, int):
        return True  # an open file descriptor (stdout/stderr pipes, or one already opened inside)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        return True
    real = os.path.realpath(os.path.join(os.getcwd(), os.fspath(path)))
    return real == SANDBOX or real.startswith(SANDBOX + os.sep) or real == os.devnull


def _audit(event: str, args) -> None:
    if not _guard_active or getattr(_local, "busy", False):
        return
    if event == "import":  # raised by the import statement (not by importlib) when a module is not in sys.modules
        _started.append(args[0])
        return
    _local.busy = True
    try:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writes and not _inside(path):
                raise PermissionError(f"codeintel sandbox: refused to open {path!r} for writing outside the "
                                      f"sandbox directory")
        elif event == "sqlite3.connect":  # creates the database file (also a `file:` URI with uri=True)
            target = args[0] if args else None
            if isinstance(target, bytes):
                target = os.fsdecode(target)
            if isinstance(target, str) and target.startswith("file:"):
                target = unquote(urlsplit(target).path) or ":memory:"
            if target not in (None, "", ":memory:") and not _inside(target):
                raise PermissionError(f"codeintel sandbox: refused sqlite3.connect on {args[0]!r} (outside the sandbox)")
        elif event in _PATH_EVENTS:
            for i in _PATH_EVENTS[event]:
                if i < len(args) and not _inside(args[i]):
                    raise PermissionError(f"codeintel sandbox: refused {event} on {args[i]!r} (outside the sandbox)")
        elif event in _REFUSED or (event.startswith(_REFUSED_PREFIXES) and event not in _ALLOWED_SOCKET_EVENTS):
            raise PermissionError(f"codeintel sandbox: refused {event} (no network, no subprocesses)")
    finally:
        _local.busy = False


@contextlib.contextmanager
def _trusted():
    """The worker's own call that the guard would refuse a module (``setrlimit`` before each import)."""
    before = getattr(_local, "busy", False)
    _local.busy = True
    try:
        yield
    finally:
        _local.busy = before


def _guard_unaudited() -> None:
    """``os.mkfifo`` and ``os.mknod`` create files without an audit event (CPython 3.13): the worker's ``os``
    and ``posix`` get versions that ask the same question as the hook (a C extension calling the OS directly
    stays unseen, as for every write: documented)."""
    import posix

    def guarded(name, original):
        @functools.wraps(original)
        def wrapper(path, *args, dir_fd=None, **kwargs):
            if _guard_active and (dir_fd is not None or not _inside(path)):
                raise PermissionError(f"codeintel sandbox: refused os.{name} on {path!r} (outside the sandbox)")
            return original(path, *args, dir_fd=dir_fd, **kwargs)
        return wrapper
    for name in ("mkfifo", "mknod"):
        original = getattr(posix, name, None)
        if original is not None:
            wrapper = guarded(name, original)
            setattr(posix, name, wrapper)
            setattr(os, name, wrapper)


def _setup_limits() -> None:
    mem = CONFIG["memory_bytes"]
    if mem:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    fsize = CONFIG["max_file_bytes"]
    if fsize:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def _arm_cpu() -> None:
    """Allow ``CPU_SECONDS`` more CPU from now (the limit is cumulative over the worker's life)."""
    if not CPU_SECONDS:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = int(spent + CPU_SECONDS) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    with _trusted():
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard if hard != resource.RLIM_INFINITY and hard >= soft
                                                 else resource.RLIM_INFINITY))

# ------------------------------------------------------------------------------------------------ values


# Type-based predicates. ``isinstance(v, C)`` falls back to ``v.__class__`` when ``type(v)`` is not a
# subclass of ``C``, and a proxy's ``__class__`` (or ``__getattribute__``) is its own code: Django's
# ``LazySettings`` configures the settings there, and raises when none are configured. ``inspect.isfunction``
# and its siblings are such isinstance checks. Every check here asks ``type(v)``, which runs nothing, so a
# proxy is judged as what it is (an instance of its proxy class), never as what it pretends to be.
def _isa(v, classes) -> bool:
    return issubclass(type(v), classes)


def _ismodule(v) -> bool:
    return issubclass(type(v), types.ModuleType)


def _isclass(v) -> bool:
    return issubclass(type(v), type)


def _isfunction(v) -> bool:
    return issubclass(type(v), types.FunctionType)


def _ismethod(v) -> bool:
    return issubclass(type(v), types.MethodType)


def _isbuiltin(v) -> bool:
    return issubclass(type(v), types.BuiltinFunctionType)


def _isgetset(v) -> bool:
    return issubclass(type(v), types.GetSetDescriptorType)


def _ismember(v) -> bool:
    return issubclass(type(v), types.MemberDescriptorType)


def _isdatadescriptor(v) -> bool:
    """``inspect.isdatadescriptor`` on the type alone (its ``hasattr(type(v), ...)`` as static lookups)."""
    if _isclass(v) or _ismethod(v) or _isfunction(v):
        return False
    return _type_has(type(v), "__set__") or _type_has(type(v), "__delete__")


def _ismethoddescriptor(v) -> bool:
    """``inspect.ismethoddescriptor`` on the type alone (3.13's included: a partial is not one, although
    ``functools.partial`` now has a ``__get__``)."""
    if _isclass(v) or _ismethod(v) or _isfunction(v) or _isa(v, functools.partial):
        return False
    t = type(v)
    return _type_has(t, "__get__") and not _type_has(t, "__set__") and not _type_has(t, "__delete__")


def _tq(t) -> str:
    return f"{getattr(t, '__module__', '?')}.{getattr(t, '__qualname__', getattr(t, '__name__', '?'))}"


def _safe_repr(v) -> str:
    """repr of plain data; other objects by type and id only (a user __repr__ is never called)."""
    t = type(v)
    if v is None or t in (bool, int, float, complex, str, bytes, bytearray, range, slice, type(Ellipsis)):
        r = repr(v)
    elif t in (tuple, list, frozenset, set, dict) and len(v) <= 20:
        try:
            r = repr(v) if all(type(x) in (bool, int, float, str, bytes, type(None)) for x in
                               (list(v.items()) and [y for kv in v.items() for y in kv] if t is dict else v)) \
                else f"<{t.__name__} of {len(v)}>"
        except Exception:  # noqa: BLE001
            r = f"<{t.__name__}>"
    elif _isa(v, (types.FunctionType, types.BuiltinFunctionType, type, types.ModuleType)):
        r = f"<{type(v).__name__} {_qual(v) or getattr(v, '__name__', '?')}>"
    elif t.__repr__ is object.__repr__ or t.__module__ in ("builtins", "functools", "enum", "typing", "types"):
        try:
            r = repr(v)
        except Exception:  # noqa: BLE001
            r = f"<{_tq(t)}>"
    else:
        r = f"<{_tq(t)} object>"
    return r


def value_ref(v):
    """The seed's ValueRef (§1.2) as a list: kind, type, repr (truncated), full length, flags."""
    rep = _safe_repr(v)
    _kind, _desc, vkind, tq, is_callable, has_get, builtin, _intro = _facts(v)
    # repr_sha256 is computed by the parent (the list has 7 items; the contract's struct has 8).
    return [vkind, tq, rep[:MAX_REPR], len(rep), is_callable, has_get, builtin]


def _value_kind(v) -> str:
    if v is None:
        return "none"
    if _isa(v, bool):
        return "bool"
    if _isa(v, int):
        return "int"
    if _isa(v, float):
        return "float"
    if _isa(v, str):
        return "str"
    if _isa(v, (bytes, bytearray)):
        return "bytes"
    if _ismodule(v):
        return "module"
    if _isclass(v):
        return "class"
    if callable(v):
        return "callable"
    if _type_has(type(v), "__get__"):
        return "descriptor"
    return "other"


_FACTS: dict[int, tuple] = {}  # id(type) -> (type, facts): keyed by id, so no metaclass __hash__/__eq__ runs


def _facts(v) -> tuple:
    """(classify, desc_flags, ValueRef kind, type name, callable, has __get__, isbuiltin, introspectable) of a
    value. Every one of them is a function of the value's type (the predicates above ask ``type(v)`` only,
    ``callable`` reads a slot of the type), so they are computed once per type."""
    t = type(v)
    hit = _FACTS.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    facts = (_classify(v), tuple(_desc_flags(v)), _value_kind(v), _tq(t), callable(v), _type_has(t, "__get__"),
             _isbuiltin(v),
             _isclass(v) or _isfunction(v) or _isbuiltin(v) or _ismethoddescriptor(v)
             or _isdatadescriptor(v) or callable(v))
    _FACTS[id(t)] = (t, facts)
    return facts


def classify(obj) -> str:
    return _facts(obj)[0]


def desc_flags(v) -> tuple:
    return _facts(v)[1]


_MRO = type.__dict__["__mro__"]
_TYPE_MODULE = type.__dict__["__module__"]
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class statement's (or type()'s) class, not a static C type


def _type_has(t, name) -> bool:
    """Does class ``t`` define ``name`` anywhere in its MRO (dict lookups: nothing is called)?"""
    try:
        return any(name in k.__dict__ for k in _MRO.__get__(t))
    except Exception:  # noqa: BLE001
        return False


_MISSING = object()
_BUILTIN_CALLABLES = (types.BuiltinFunctionType, types.WrapperDescriptorType, types.MethodDescriptorType,
                      types.MethodWrapperType, types.ClassMethodDescriptorType)
_FUNCTION_TYPE_NAMES = frozenset(n for k in types.FunctionType.__mro__ for n in k.__dict__)


_STATIC_MEMO: dict[tuple[int, str], tuple] = {}  # (id(obj), name) -> (obj, value); one module's walk


def _static(obj, name, default=None):
    """``getattr_static``; a slot of a *built-in* type (``staticmethod.__wrapped__``, ``partial.func``) is
    read through its C descriptor, which runs no Python code. A user class's descriptors stay unread."""
    if type(obj) is types.FunctionType:
        # A plain function: FunctionType declares none of the names asked here (__wrapped__, __signature__,
        # __module__ ...) except as getsets it resolves itself; the function's own dict is the answer.
        d = obj.__dict__
        if name in d:
            return d[name]
        if name not in _FUNCTION_TYPE_NAMES:
            return default
    # The walk asks each object for __wrapped__ and __signature__ several times (its row, its unwrap
    # chains, its locations, its source); nothing changes between the asks (no code runs), so the
    # answer is remembered for the module's walk (the object is kept alive with it: ids stay unique).
    hit = _STATIC_MEMO.get((id(obj), name))
    if hit is not None and hit[0] is obj:
        return default if hit[1] is _MISSING else hit[1]
    v = _static_lookup(obj, name)
    _STATIC_MEMO[(id(obj), name)] = (obj, v)
    return default if v is _MISSING else v


def _static_lookup(obj, name):
    """``_static`` without the memo; ``_MISSING`` when there is no such attribute."""
    default = _MISSING
    try:
        v = inspect.getattr_static(obj, name, default)
    except Exception:  # noqa: BLE001
        return default
    if (_ismember(v) or _isgetset(v)) and not _isa(obj, type) \
            and getattr(getattr(v, "__objclass__", None), "__module__", None) in ("builtins", "functools") \
            and _isa(obj, v.__objclass__):
        try:
            return v.__get__(obj, type(obj))
        except Exception:  # noqa: BLE001 - an empty slot
            return default
    return v


def _has_static(obj, name) -> bool:
    return _static(obj, name, _MISSING) is not _MISSING


def _qual(obj):
    if _isa(obj, type):
        return type.__dict__["__qualname__"].__get__(obj)
    if _isa(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return obj.__qualname__
    q = _static(obj, "__qualname__")
    return q if _isa(q, str) else None


def _class_file(cls):
    """The file a class's body was compiled from, as its own methods' code says; None when it defines none.

    ``__firstlineno__`` counts lines of that file, but ``inspect`` takes the file from
    ``sys.modules[cls.__module__]``: wrong for a class whose body sets ``__module__`` to where it is
    re-exported (pytest's public classes say ``pytest``, they are defined in ``_pytest``), and for a class made
    by ``exec`` of a string (its methods' file is ``<string>``: no source at all). Read from the class's own
    ``__dict__`` by type: no descriptor or metaclass code runs.
    """
    prefix = _qual(cls)
    if not _isa(prefix, str):
        return None
    prefix += "."
    try:
        values = list(type.__dict__["__dict__"].__get__(cls).values())
    except Exception:  # noqa: BLE001 - an exotic class without a readable namespace: the module's file
        return None
    for v in values:
        f = v.__func__ if _isa(v, (staticmethod, classmethod)) else v.fget if _isa(v, property) else \
            _static(v, "func") if _isa(v, functools.cached_property) else v
        code = f.__code__ if _isfunction(f) else None
        if _isa(code, types.CodeType) and code.co_qualname.startswith(prefix):
            return code.co_filename
    return None


def _module_of(obj):
    """The module an object says it was defined in; None for instances (a partial, a callable object):
    their type's ``__module__`` is the type's, not theirs (the caller uses the module binding them)."""
    if _isa(obj, type):
        m = obj.__dict__.get("__module__")
        if not _isa(m, str):  # a static (C) type: no __module__ in its dict (OrderedDict) or a member descriptor
            try:  # (function): type's own getter reads its tp_name, no user code runs
                m = _TYPE_MODULE.__get__(obj)
            except Exception:  # noqa: BLE001
                m = None
    elif _isa(obj, (types.FunctionType, types.BuiltinFunctionType)):
        m = obj.__module__
    elif _isa(obj, (staticmethod, classmethod)):
        return _module_of(obj.__func__)
    elif _isa(obj, property):
        return _module_of(obj.fget) if obj.fget is not None else None
    elif _isa(obj, functools.cached_property):  # its function (an instance attribute: no code runs)
        f = _static(obj, "func")
        return _module_of(f) if f is not None else None
    else:
        return None
    return m if _isa(m, str) else None


def _classify(obj) -> str:
    """The seed's §3.1 kind taxonomy (never calls the object or its descriptors)."""
    if _ismodule(obj):
        return "module"
    if _isclass(obj):
        return "class"
    if _isfunction(obj):
        return "function"
    if _ismethod(obj):
        return "method"
    if _isbuiltin(obj) or type(obj).__name__ in ("method-wrapper", "wrapper_descriptor"):
        return "builtin_function_or_method"
    if _isa(obj, property):
        return "descriptor_property"
    if _isgetset(obj):
        return "descriptor_getset"
    if _ismember(obj):
        return "descriptor_member"
    if _isdatadescriptor(obj):
        return "descriptor_data"
    if _ismethoddescriptor(obj):
        return "descriptor_method"
    if callable(obj):
        return "other_callable"
    return "other"


def _desc_flags(v):
    """desc_kind and the four inspect predicates, on the value itself (its __get__ is never called)."""
    kind = ("property" if _isa(v, property) else "getset" if _isgetset(v)
            else "member" if _ismember(v) else "data" if _isdatadescriptor(v)
            else "function_descriptor" if _isfunction(v) else "method" if _ismethoddescriptor(v)
            else "none")
    return [kind, _isdatadescriptor(v), _ismethoddescriptor(v), _isgetset(v),
            _ismember(v)]


def _err(exc):
    return [False, type(exc).__name__, str(exc)[:500]]


OK = [True, None, None]

def _members_static(cls, wanted) -> list:
    """``inspect.getmembers_static(cls)`` (3.13's ``_getmembers`` with ``getattr_static``) restricted to the
    names ``wanted`` accepts: same names, values and order. The rows keep only a class's declared members
    and those its code-base bases provide; ``getattr_static`` on every name ``object`` and built-in bases
    contribute was most of the call's cost."""
    names = dir(cls)
    mro = inspect.getmro(cls)
    try:
        for base in cls.__bases__:
            for k, v in base.__dict__.items():
                if _isa(v, types.DynamicClassAttribute):
                    names.append(k)
    except AttributeError:
        pass
    results, processed = [], set()
    for key in names:
        if not wanted(key):
            continue
        try:
            value = inspect.getattr_static(cls, key)
            if key in processed:  # a duplicate name (a DynamicClassAttribute also in dir()): the dict's value
                raise AttributeError
        except AttributeError:
            for base in mro:
                if key in base.__dict__:
                    value = base.__dict__[key]
                    break
            else:
                continue  # a missing slot member or a buggy __dir__, as getmembers_static skips it
        results.append((key, value))
        processed.add(key)
    results.sort(key=lambda pair: pair[0])
    return results


# ------------------------------------------------------------------------------------------- extraction


class Extraction:
    def __init__(self, modname: str, module):
        self.modname = modname
        self.module = module
        self.ids: dict[int, str] = {}
        self.taken: set[str] = set()
        self.keep: list = []  # keeps visited objects alive, so id() stays unique during the walk
        self.t = collections.defaultdict(list)
        self.caps: set[str] = set()
        self.package_names: dict[str, set[str] | None] = {}
        _STATIC_MEMO.clear()

    # identity ------------------------------------------------------------------------------------------
    def object_id(self, obj, qual_hint=None) -> str:
        key = id(obj)
        if key in self.ids:
            return self.ids[key]
        kind = classify(obj)
        if kind == "module":
            oid = f"{obj.__name__}::module"
        else:
            q = _qual(obj) or qual_hint
            m = _module_of(obj) or self.modname
            if q is None:
                q = f"{_tq(type(obj))}.<{hashlib.sha256(_safe_repr(obj).encode()).hexdigest()[:12]}>"
            oid = f"{m}:{q}:{kind}"
        base, n = oid, 1
        while oid in self.taken:  # a different object under the same id (a property's getter and setter)
            n += 1
            oid = f"{base}#{n}"
        self.taken.add(oid)
        self.ids[key] = oid
        self.keep.append(obj)
        return oid

    def reexported(self, obj) -> bool:
        """Is ``obj`` another module's definition, found where its module and qualname say it lives?"""
        m, q = _module_of(obj), _qual(obj)
        if not m or not q or m == self.modname or "<locals>" in q:
            return False
        target = sys.modules.get(m)
        for part in q.split("."):
            if target is None:
                return False
            target = _static(target, part)
        return target is obj

    def owned(self, obj) -> bool:
        if _ismodule(obj):
            return False
        if _isclass(obj) or _isfunction(obj) or _isbuiltin(obj):
            m = _module_of(obj)
            if m == self.modname:
                return True
            if _isa(obj, type) and not type.__dict__["__flags__"].__get__(obj) & _HEAPTYPE:
                return False  # a static type is C's (types.FunctionType, a C extension's): no .py file defines it
            return not self.reexported(obj) and not (m in sys.modules and m != self.modname and _isbuiltin(obj))
        return True  # partials, descriptors, other callables bound here: no canonical home elsewhere

    # walk ----------------------------------------------------------------------------------------------
    def run(self, probes):
        queue = collections.deque([(self.module, None)])
        visited = 0
        walked: set[int] = set()
        while queue:
            obj, qual_hint = queue.popleft()
            if id(obj) in walked:
                continue
            walked.add(id(obj))
            if visited >= MAX_OBJECTS:
                self.caps.add("max_objects")
                break
            visited += 1
            # One object's failure is that object's row: the module's other objects keep theirs.
            mark = {name: len(rows) for name, rows in self.t.items()}
            try:
                self.walk_one(obj, qual_hint, queue, walked)
            except Exception as exc:  # noqa: BLE001
                for name, rows in self.t.items():
                    del rows[mark.get(name, 0):]
                self.failed_object(obj, qual_hint, exc)
        _STATIC_MEMO.clear()  # probes run the module's code: what was read before may change
        for probe in probes:
            self.runtime_probe(probe)

    def walk_one(self, obj, qual_hint, queue, walked):
        oid = self.object_id(obj, qual_hint)
        self.object_row(obj, oid)
        self.locations(obj, oid)
        if _ismodule(obj):
            self.members(obj, oid, sorted(obj.__dict__.items()), queue, declared=True)
        elif _isclass(obj):
            self.class_surface(obj, oid, queue)
        if callable(obj):
            self.callable_surface(obj, oid)
        if _isclass(obj) or _isfunction(obj) or _ismodule(obj):
            self.annotations(obj, oid)
        self.source(obj, oid)
        for extra, hint in self.parts(obj, qual_hint):
            if id(extra) not in walked:
                queue.append((extra, hint))

    def failed_object(self, obj, qual_hint, exc):
        """The objects row of an object whose walk raised (its other rows were dropped): what its type says."""
        kind = classify(obj)
        try:
            oid = self.ids.get(id(obj)) or self.object_id(obj, qual_hint)
        except Exception:  # noqa: BLE001 - the id itself failed: the module and the name it was found under
            oid = f"{self.modname}:{qual_hint or '<unknown>'}:{kind}"
        q = oid.split(":")[1] if oid.count(":") >= 2 else oid
        self.t["objects"].append([oid, id(obj), kind, self.modname, q, q.rsplit(".", 1)[-1], _tq(type(obj)),
                                  _isbuiltin(obj), callable(obj), _isdatadescriptor(obj) or _ismethoddescriptor(obj),
                                  None, None, None, *_err(exc)])

    def parts(self, obj, qual_hint):
        """Functions inside descriptors defined here: a property's accessors, a static/class method's function,
        a ``functools.cached_property``'s function."""
        out = []
        if _isa(obj, property):
            for acc in ("fget", "fset", "fdel"):
                f = obj.fget if acc == "fget" else obj.fset if acc == "fset" else obj.fdel
                if f is not None and _isfunction(f) and self.owned(f):
                    out.append((f, qual_hint))
        elif _isa(obj, (staticmethod, classmethod)):
            f = obj.__func__
            if _isfunction(f) and self.owned(f):
                out.append((f, qual_hint))
        elif _isa(obj, functools.cached_property):
            f = _static(obj, "func")
            if _isfunction(f) and self.owned(f):
                out.append((f, qual_hint))
        if callable(obj) and not _isclass(obj):
            inner = _static(obj, "__wrapped__", _MISSING)  # the decorated function behind a wrapper
            if inner is not _MISSING and (_isfunction(inner) or _isclass(inner)) and self.owned(inner):
                out.append((inner, qual_hint))
        return out

    def object_row(self, obj, oid):
        is_cls = _isclass(obj)
        q = obj.__name__ if _ismodule(obj) else (_qual(obj) or oid.split(":")[1])
        name = q.rsplit(".", 1)[-1]
        ann = (is_cls and "__annotations__" in obj.__dict__) or (_isfunction(obj) and bool(obj.__annotations__)) \
            or (_ismodule(obj) and "__annotations__" in obj.__dict__)
        self.t["objects"].append([
            oid, id(obj), classify(obj), obj.__name__ if _ismodule(obj) else (_module_of(obj) or self.modname),
            q, name, _tq(type(obj)), _isbuiltin(obj), callable(obj),
            _isdatadescriptor(obj) or _ismethoddescriptor(obj),
            _has_static(obj, "__wrapped__"), _has_static(obj, "__signature__"), bool(ann), *OK])

    def locations(self, obj, oid):
        """Where the object's code is, for anchoring in the parent: its own code object, then each
        ``__wrapped__`` hop's, a property's getter, a static/class method's or a partial's function."""
        rows = self.t["code_locations"]

        def code_of(f, via):
            code = getattr(f, "__code__", None) if _isfunction(f) else None
            if _isa(code, types.CodeType):
                rows.append([oid, len(rows), via, code.co_filename, code.co_firstlineno, code.co_qualname])
        if _ismodule(obj):
            rows.append([oid, len(rows), "module", getattr(obj, "__file__", None), 0, "<module>"])
        elif _isclass(obj):
            mod = sys.modules.get(_module_of(obj) or "")
            first = obj.__dict__.get("__firstlineno__")
            if _isa(first, int):
                rows.append([oid, len(rows), "class", _class_file(obj) or getattr(mod, "__file__", None), first,
                             _qual(obj)])
        else:
            cur, seen, hop = obj, set(), 0
            while cur is not None and id(cur) not in seen and hop <= MAX_HOPS:
                seen.add(id(cur))
                inner = cur
                if _isa(cur, types.MethodType) or _isa(cur, (staticmethod, classmethod)):
                    inner = cur.__func__
                elif _isa(cur, property):
                    inner = cur.fget
                elif _isa(cur, functools.cached_property):
                    inner = _static(cur, "func")
                elif type(cur).__module__ == "functools" and type(cur).__name__ in ("partial", "partialmethod"):
                    inner = _static(cur, "func")
                code_of(inner, "self" if hop == 0 and inner is cur else f"wrapped:{hop}" if inner is cur
                        else f"{'wrapped:%d:' % hop if hop else ''}{type(cur).__name__}")
                nxt = _static(cur, "__wrapped__", _MISSING)
                cur = None if nxt is _MISSING else nxt
                hop += 1

    def members(self, owner, owner_id, items, queue, declared):
        owner_kind = classify(owner)
        prefix = "" if _ismodule(owner) else (_qual(owner) or owner_id.split(":")[1]) + "."
        if _ismodule(owner) and "__path__" in owner.__dict__:
            items = [(n, v) for n, v in items if not self.unbound_submodule(owner, n, v)]
        count = 0
        for name, value in items:
            if count >= MAX_MEMBERS:
                self.caps.add("max_members")
                break
            count += 1
            try:
                self.member(owner, owner_id, owner_kind, prefix, name, value, queue, declared)
            except Exception as exc:  # noqa: BLE001 - that member's row says why; the others are kept
                self.t["members_static"].append([owner_id, owner_kind, name, None, None, None, None, None, None,
                                                 None, None, *_err(exc)])

    def unbound_submodule(self, pkg, name, value) -> bool:
        """A submodule the import system bound on its package because some module imported it, and that the
        package's own module-level code never names: it is there or not depending on what this worker
        imported before (with several workers, on timing), so it is not a fact of the package."""
        pkg_name = pkg.__dict__.get("__name__")
        if not _ismodule(value) or value.__dict__.get("__name__") != f"{pkg_name}.{name}":
            return False
        names = self.package_names.get(pkg_name)
        if names is None:
            try:  # the names its module-level code uses (``from . import sub``, ``from .sub import x``, ...)
                names = set(pkg.__dict__["__spec__"].loader.get_code(pkg_name).co_names)
            except Exception:  # noqa: BLE001 - no code to read (a namespace package, a C loader): keep them all
                names = None
            self.package_names[pkg_name] = names
        return names is not None and name not in names

    def member(self, owner, owner_id, owner_kind, prefix, name, value, queue, declared):
        value_oid = None
        introspectable = _facts(value)[7]
        if declared and introspectable and not _ismodule(value) and self.owned(value) \
                and not (_isclass(owner) and name in ("__class__", "__dict__", "__weakref__", "__doc__")):
            value_oid = self.object_id(value, prefix + name)
            queue.append((value, prefix + name))
        elif id(value) in self.ids:
            value_oid = self.ids[id(value)]
        elif _ismodule(value):
            value_oid = f"{value.__name__}::module"
        elif (_isclass(value) or _isfunction(value)) and _module_of(value) and _qual(value):
            value_oid = f"{_module_of(value)}:{_qual(value)}:{classify(value)}"
        facts = _facts(value)
        self.t["members_static"].append([owner_id, owner_kind, name, facts[0], value_oid, value_ref(value),
                                         *facts[1], *OK])

    def class_surface(self, cls, oid, queue):
        try:
            mro = inspect.getmro(cls)
        except Exception as exc:  # noqa: BLE001
            mro = (cls,)
            self.t["class_mro"].append([oid, 0, None, None, *_err(exc)])
        for i, base in enumerate(mro):
            self.t["class_mro"].append([oid, i, self.ref_id(base), _tq(base), *OK])
        own = sorted(cls.__dict__.items())
        for name, value in own:
            facts = _facts(value)
            self.t["class_declared_members"].append([oid, name, facts[0], value_ref(value), *facts[1], *OK])
        # The declared members are walked (they are defined here); inherited ones are members rows only.
        declared = dict(own)
        user = [b for b in mro if _TYPE_MODULE.__get__(b) != "builtins"]
        try:
            members = _members_static(cls, lambda n: n in declared or next(
                (b for b in mro if n in b.__dict__), None) in user)
        except Exception as exc:  # noqa: BLE001
            self.t["members_static"].append([oid, "class", None, None, None, None, None, None, None, None, None, *_err(exc)])
            members = []
        seen_names = set()
        items = []
        for name, value in members:
            seen_names.add(name)
            if name in declared:
                items.append((name, value))
        self.members(cls, oid, items, queue, declared=True)
        # Inherited members: those a class of the code base (not a built-in type) provides.
        inherited = [(n, v) for n, v in members if n not in declared and
                     next((b for b in mro if n in b.__dict__), None) in user]
        self.members(cls, oid, inherited, queue, declared=False)
        # Resolution: every name a non-built-in class of the MRO declares -> the first class declaring it
        # (``object``'s own two dozen names on every class would say nothing).
        names = sorted({n for b in user for n in b.__dict__} - {"__dict__", "__weakref__"})
        for n in names:
            definer = next(b for b in mro if n in b.__dict__)
            overrides = [self.ref_id(b) for b in mro if n in b.__dict__ and b is not definer]
            self.t["attr_resolution"].append([oid, n, self.ref_id(definer), definer is cls, overrides,
                                              classify(definer.__dict__[n]), *OK])

    def ref_id(self, obj):
        if id(obj) in self.ids:
            return self.ids[id(obj)]
        m, q = _module_of(obj), _qual(obj)
        return f"{m}:{q}:{classify(obj)}" if m and q else None

    def callable_surface(self, obj, oid):
        full, stop = self.unwrap(obj)
        for chain, hops, reason, status in (("full", *full), ("signature", *stop)):
            for i, (hop, h_obj) in enumerate(hops):
                last = i == len(hops) - 1
                self.t["unwrap_hops"].append([oid, chain, i, hop, _has_static(h_obj, "__wrapped__"),
                                              _has_static(h_obj, "__signature__"), reason if last else None,
                                              *(status if last else OK)])
        effective = stop[0][-1][0] if stop[0] else oid
        # A plain function without __wrapped__: follow_wrapped changes nothing, the wrapped variant is the raw
        # one (computed once). Classes are not shortcut: their __init__ may be wrapped.
        # A built-in function or method descriptor has no __dict__, so no __wrapped__: the same (the failure
        # to find one included, which for a built-in without text signature is the costly case).
        same = (_isfunction(obj) and "__wrapped__" not in obj.__dict__) or type(obj) in _BUILTIN_CALLABLES
        sig = text = err = None
        for variant, follow in (("raw", False), ("wrapped", True)):
            if not (same and follow):
                try:
                    sig = inspect.signature(obj, follow_wrapped=follow, eval_str=False)
                    # str() calls each default's repr: the module's code (Django's lazy translation strings
                    # read the settings, and raise when none are configured) -- the row then says so
                    text, err = str(sig), None
                except Exception as exc:  # noqa: BLE001 - builtins without metadata, non-callables: a row that says so
                    sig, text, err = None, None, exc
            if err is not None:
                self.t["signatures"].append([oid, variant, follow, False, effective if follow else oid, None, None,
                                             None, None, None, None, *_err(err)])
                continue
            sid = hashlib.sha256(f"{oid}|{variant}|{text}".encode()).hexdigest()[:24]
            params = list(sig.parameters.values())
            ret = None if sig.return_annotation is inspect.Signature.empty else value_ref(sig.return_annotation)
            self.t["signatures"].append([
                oid, variant, follow, False, effective if follow else oid, sid, text, text, ret,  # format() == str()
                any(p.kind is p.VAR_POSITIONAL for p in params), any(p.kind is p.VAR_KEYWORD for p in params), *OK])
            for i, p in enumerate(params):
                has_d, has_a = p.default is not p.empty, p.annotation is not p.empty
                self.t["signature_params"].append([
                    sid, oid, variant, i, p.name, p.kind.name, has_d, value_ref(p.default) if has_d else None,
                    has_a, value_ref(p.annotation) if has_a else None, *OK])

    def unwrap(self, obj):
        """(hops, stop reason, status) for the full ``__wrapped__`` chain and the one signature() follows."""
        out = []
        for sig_stop in (False, True):
            hops, seen, cur = [], set(), obj
            reason, status = "no_wrapped", OK
            while True:
                hid = self.object_id(cur)
                hops.append((hid, cur))
                if sig_stop and _has_static(cur, "__signature__"):
                    reason = "signature_override"
                    break
                if id(cur) in seen:
                    reason, status = "cycle", [False, "ValueError", f"wrapper loop when unwrapping {hops[0][0]}"]
                    break
                seen.add(id(cur))
                nxt = _static(cur, "__wrapped__", _MISSING)
                if nxt is _MISSING:
                    break
                if len(hops) > MAX_HOPS:
                    reason, status = "max_hops", [False, "BudgetExceeded", f"more than {MAX_HOPS} unwrap hops"]
                    self.caps.add("max_unwrap_hops")
                    break
                cur = nxt
            out.append((hops, reason, status))
        return out[0], out[1]

    def annotations(self, obj, oid):
        try:
            ann = inspect.get_annotations(obj, eval_str=False)
        except Exception as exc:  # noqa: BLE001
            self.t["annotations_kv"].append([oid, False, None, None, *_err(exc)])
            return
        for k, v in ann.items():
            self.t["annotations_kv"].append([oid, False, str(k), value_ref(v), *OK])

    def source(self, obj, oid):
        """Where inspect.getsourcelines would find the object: its file and first line (after unwrapping,
        as getsourcelines does). The extent, hash and preview are filled in by the parent from the static
        plane's spans of that file (no second tokenizing pass here)."""
        if not (_ismodule(obj) or _isclass(obj) or _isfunction(obj) or _ismethod(obj)
                or _isbuiltin(obj)):
            return
        target, loop = obj, False
        if _isfunction(obj) or _ismethod(obj):
            seen = set()
            while len(seen) <= MAX_HOPS:  # the static unwrap; a cycle is inspect's ValueError
                seen.add(id(target))
                nxt = _static(target, "__wrapped__", _MISSING)
                if nxt is _MISSING or not (_isfunction(nxt) or _ismethod(nxt)):
                    break
                if id(nxt) in seen:
                    loop = True
                    break
                target = nxt
            if _ismethod(target):
                target = target.__func__
        code = target.__code__ if _isfunction(target) else None
        try:
            if loop:
                raise ValueError(f"wrapper loop when unwrapping {oid}")
            if code is not None and code.co_filename.startswith("<"):
                # Code compiled from a string (a dataclass's methods): only linecache may know its text.
                lines, start = inspect.getsourcelines(target)
                text = "".join(lines)
                self.t["source"].append([oid, code.co_filename, start, len(lines),
                                         hashlib.sha256(text.encode()).hexdigest(), text[:120], code.co_firstlineno,
                                         code.co_qualname, *OK])
                return
            # Never getsourcelines itself: its unwrap() calls hasattr(obj, "__wrapped__"), which runs a module's
            # __getattr__ (PEP 562) or a metaclass's.
            if _ismodule(obj):
                fname, start = obj.__dict__.get("__file__"), 0
                if not fname:
                    raise TypeError(f"{obj.__name__} is a built-in module")
            elif _isclass(obj):
                fname, start = inspect.getsourcefile(obj), obj.__dict__.get("__firstlineno__")
                if not _isa(start, int):
                    raise OSError("could not find class definition (no __firstlineno__)")
            else:
                fname = inspect.getsourcefile(target)  # TypeError for builtins
                start = code.co_firstlineno if code is not None else None
            if not fname:
                raise OSError("source code not available")
            self.t["source"].append([oid, fname, start, None, None, None, start,
                                     code.co_qualname if code is not None else _qual(obj) if _isclass(obj)
                                     else "<module>" if _ismodule(obj) else None, *OK])
        except Exception as exc:  # noqa: BLE001 - builtins (TypeError), missing files (OSError)
            self.t["source"].append([oid, code.co_filename if code is not None else None,
                                     code.co_firstlineno if code is not None else None, None, None, None,
                                     code.co_firstlineno if code is not None else None,
                                     code.co_qualname if code is not None else None, *_err(exc)])

    # runtime state -------------------------------------------------------------------------------------
    def runtime_probe(self, qualname):
        target = self.module
        try:
            for part in qualname.split("."):
                target = inspect.getattr_static(target, part)
            if _isa(target, (staticmethod, classmethod)):
                target = target.__func__
        except Exception as exc:  # noqa: BLE001
            self.t["runtime_state"].append([qualname, None, 0, "lookup", None, None, None, None, None, None, None,
                                            *_err(exc)])
            return
        oid = self.ids.get(id(target)) or self.object_id(target)
        rows = self.t["runtime_state"]

        def frame_row(step, state, frame, what="frame", tb_lasti=None, tb_lineno=None, status=OK):
            code = frame.f_code if frame is not None else None
            lasti = tb_lasti if tb_lasti is not None else (frame.f_lasti if frame is not None else None)
            loc = {}
            if frame is not None:
                loc = {k: value_ref(v)[2] for k, v in sorted(frame.f_locals.items())}
            rows.append([qualname, oid, step, what, state, code.co_filename if code else None,
                         code.co_qualname if code else None, code.co_firstlineno if code else None, lasti,
                         tb_lineno if tb_lineno is not None else (frame.f_lineno if frame is not None else None),
                         json.dumps(loc, sort_keys=True), *status])

        def raised(exc, step, state=None):
            """The traceback frames of what the probed code raised, from ``step`` on (the worker's own frames
            left out). The probe worked (ok stays true); error_type / error_msg say what the code raised."""
            status = [True, type(exc).__name__, str(exc)[:500]]
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename != __file__:
                    frame_row(step, state or f"RAISED {type(exc).__name__}", tb.tb_frame, "traceback", tb.tb_lasti,
                              tb.tb_lineno, status)
                    step += 1
                tb = tb.tb_next

        def stepped(exc, step, state):
            """Advancing a generator / coroutine / async generator ended with ``exc``: a return (StopIteration,
            StopAsyncIteration) is a closed state; anything else is what its code raised, with its frames."""
            if isinstance(exc, (StopIteration, StopAsyncIteration)) or exc.__traceback__ is None:
                frame_row(step, f"{state} ({type(exc).__name__})", None)
            else:
                raised(exc, step, f"{state} (RAISED {type(exc).__name__})")
        try:
            made = target()
        except BaseException as exc:  # noqa: BLE001 - a probe callable that raises: its traceback is the state
            raised(exc, 0)
            return
        if inspect.isgenerator(made):
            frame_row(0, inspect.getgeneratorstate(made), made.gi_frame)
            try:
                next(made)
                frame_row(1, inspect.getgeneratorstate(made), made.gi_frame)
            except BaseException as exc:  # noqa: BLE001
                stepped(exc, 1, inspect.getgeneratorstate(made))
            made.close()
        elif inspect.iscoroutine(made):
            frame_row(0, inspect.getcoroutinestate(made), made.cr_frame)
            try:
                made.send(None)
                frame_row(1, inspect.getcoroutinestate(made), made.cr_frame)
            except BaseException as exc:  # noqa: BLE001
                stepped(exc, 1, inspect.getcoroutinestate(made))
            made.close()
        elif inspect.isasyncgen(made):
            frame_row(0, inspect.getasyncgenstate(made), made.ag_frame)
            step_coro = made.asend(None)
            try:
                try:
                    step_coro.send(None)
                except StopIteration:
                    pass  # the asend awaitable is done: the async generator yielded a value
                frame_row(1, inspect.getasyncgenstate(made), made.ag_frame)
            except BaseException as exc:  # noqa: BLE001
                stepped(exc, 1, inspect.getasyncgenstate(made))
            step_coro.close()
        else:
            rows.append([qualname, oid, 0, "returned", "RETURNED", None, None, None, None, None,
                         json.dumps({"return": value_ref(made)[2]}), *OK])


# -------------------------------------------------------------------------------------------------- loop


def _send(obj) -> None:
    _send_bytes(json.dumps(obj, default=str).encode("utf-8", "replace"))


def _send_bytes(data: bytes) -> None:
    os.write(RESULT_FD, f"{len(data)}\n".encode())
    view = memoryview(data)
    while view:
        n = os.write(RESULT_FD, view)
        view = view[n:]


_setup_error: str | None = None  # what it raised (every module of this worker then fails with it)
_setup_done = False


def _setup_once() -> str | None:
    """Call the configured setup callable (``django:setup``) once, before the worker's first module, under
    the guard; the error it raised, as one line, or None."""
    global _setup_done, _setup_error
    if SETUP and not _setup_done:
        _setup_done = True
        try:
            modname, _, qualname = SETUP.partition(":")
            target = importlib.import_module(modname)
            for part in qualname.split("."):
                target = getattr(target, part)
            target()
        except BaseException as exc:  # noqa: BLE001 - SystemExit included: the modules' rows say it
            tb = traceback.extract_tb(exc.__traceback__)
            where = next((f"{f.filename}:{f.lineno}" for f in reversed(tb) if f.filename != __file__), "")
            _setup_error = (f"the setup {SETUP} raised {type(exc).__name__}: {exc}"
                            + (f" (at {where})" if where else ""))[:500]
    return _setup_error


def mismatch(name: str, module, got, expected: str) -> tuple[str, str]:
    """Why ``import name`` did not run ``expected``: an error type and the reason, in words.

    ``ExtensionShadowsSource``: a compiled extension module (mypyc, Cython) built beside the source in
    the same directory; Python's path finder tries extension suffixes before ``.py``, so the source file
    never runs in this interpreter, whatever ran before (not retried). ``ModuleMismatch`` otherwise: an
    alias in ``sys.modules``, a package whose ``__path__`` points elsewhere, or another file first on
    ``sys.path``.
    """
    if got:
        real, want = os.path.realpath(got), os.path.realpath(expected)
        base = os.path.basename(real)
        stem = os.path.splitext(os.path.basename(want))[0]
        if os.path.dirname(real) == os.path.dirname(want) and any(
                base == stem + suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES):
            return "ExtensionShadowsSource", ("a compiled extension module beside the source: Python imports it "
                                              "instead of the .py file, whose code never runs here")
    # The name it was imported under (its spec's): _collections_abc sets its __name__ to "collections.abc"
    spec = _ns(module).get("__spec__")
    actual = spec.name if _isa(spec, importlib.machinery.ModuleSpec) else _ns(module).get("__name__")
    if isinstance(actual, str) and actual != name:
        return "ModuleMismatch", f"sys.modules maps {name} to the module {actual}: an alias"
    parent = name.rpartition(".")[0]
    if parent and parent in sys.modules:
        path = getattr(sys.modules[parent], "__path__", None)
        try:
            dirs = [os.path.realpath(d) for d in path] if path is not None else []
        except Exception:  # noqa: BLE001 - a __path__ that fails to iterate: fall through to the generic reason
            dirs = None
        holder = os.path.dirname(expected)  # the directory the package's __path__ must list
        if os.path.basename(expected) == "__init__.py":
            holder = os.path.dirname(holder)
        if dirs is not None and os.path.realpath(holder) not in dirs:
            return "ModuleMismatch", (f"its package {parent} searches {', '.join(dirs[:3]) or 'no directory'} "
                                      f"for submodules, not {holder}")
    return "ModuleMismatch", "another module of that name comes first on sys.path"


_MODULE_NS = types.ModuleType.__dict__["__dict__"]  # a module's namespace, without its class's __getattribute__
_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _ns(m) -> dict:
    if not _ismodule(m):
        return {}
    try:
        ns = _MODULE_NS.__get__(m)
    except Exception:  # noqa: BLE001
        return {}
    return ns if type(ns) is dict else {}


def _names_one_of(m, bad: set) -> bool:
    """Does module ``m`` hold a module of ``bad``, or a class or function defined in one (read by type: no
    user code runs)?"""
    for v in list(_ns(m).values()):
        try:
            owner = (_ns(v).get("__name__") if _ismodule(v) else _TYPE_MODULE.__get__(v) if _isclass(v)
                     else v.__module__ if _isfunction(v) else None)
        except Exception:  # noqa: BLE001 - a class without __module__
            continue
        if type(owner) is str and owner in bad:
            return True
    return False


def _forget_broken(before: set, target: str, failed: bool) -> None:
    """Take out of ``sys.modules`` what a fresh interpreter would not find there after this attempt.

    Python removes a module whose code raised, but not the modules imported while it ran: the submodules
    that ``sqlalchemy/ext/asyncio/__init__.py`` imported before it failed (greenlet missing) stayed, and a
    later ``import sqlalchemy.ext.asyncio.engine`` in the same worker returned that module without running
    its package: ok, where a fresh interpreter fails. So, after every attempt in which a module failed (the
    target, one whose import began and did not finish, or an ancestor of a module left behind), the modules
    added during the attempt go if they are left without an ancestor package (orphans) or hold, directly or
    through other such modules, a failed module or a class or function defined in one (a module imported
    while the failed one was half-initialised, from it). Their next import runs them again, through their
    package. The rest stays (the standard library and dependencies a failing module imported first: taking
    them out would import them again for the next module, Django's model stack after every failed model
    module), and so does a compiled extension module that is not an orphan (numpy's refuses to initialise
    twice in one process).
    """
    modules = sys.modules
    added = [n for n in list(modules) if type(n) is str and n not in before]
    bad = {n for n in _started if n not in modules}
    if failed:
        bad.add(target)
    orphans = set()
    for n in [target] + added:
        parts = n.split(".")
        missing = [p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p not in modules]
        if missing:
            bad.update(missing)  # (importlib imports a target's ancestors without the audit event)
            if n != target:
                orphans.add(n)
    if not bad:
        return
    bad |= orphans
    keep = None if failed else target  # (a failed target may be there: its own package imported it, then failed)
    rest = [n for n in added if n not in bad and n != keep]
    grew = True
    while grew and rest:
        grew = False
        for n in list(rest):
            if _names_one_of(modules.get(n), bad):
                bad.add(n)
                rest.remove(n)
                grew = True
    for n in added:
        if n in bad and n != keep:
            f = _ns(modules.get(n)).get("__file__")
            if n in orphans or not (type(f) is str and f.endswith(_EXTENSION_SUFFIXES)):
                gone = modules.pop(n, None)
                # and off its package: `from pkg import x` reads pkg's attribute before sys.modules
                parent, _, last = n.rpartition(".")
                ns = _ns(modules.get(parent)) if parent else {}
                if gone is not None and ns.get(last) is gone:
                    del ns[last]


def handle(cmd) -> dict:
    global _guard_active
    name, expected = cmd["module"], cmd.get("file")
    t0 = time.perf_counter()
    reply = {"module": name, "nonce": cmd.get("nonce"), "ok": True, "error_type": None, "error_msg": None,
             "budget": None, "tables": {}, "caps": []}
    _arm_cpu()
    # On from the first module's setup and import to the worker's end, never off again: a thread the module
    # started, an atexit handler or a finaliser it registered runs later, outside any import, and must be
    # refused the same (they wrote outside the sandbox while the guard was off between imports)
    _guard_active = True
    failed = _setup_once()
    if failed:
        reply.update(ok=False, error_type="SetupFailed", error_msg=failed)
        return reply
    environ = dict(os.environ)  # a module may set variables at import: the next module must not see them
    threads = {t.ident for t in threading.enumerate()}
    before = set(sys.modules)  # what this attempt adds: what a failure in it may have left half-made
    _started.clear()
    try:
        try:
            module = importlib.import_module(name)
        except MemoryError as exc:
            reply.update(ok=False, error_type="MemoryError", error_msg=str(exc)[:500] or "out of memory",
                         budget="memory", replace_worker=True)
            return reply
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt from the module included
            tb = traceback.extract_tb(exc.__traceback__)
            where = next((f"{f.filename}:{f.lineno}" for f in reversed(tb) if f.filename != __file__), "")
            reply.update(ok=False, error_type=type(exc).__name__,
                         error_msg=(f"{exc}" + (f" (at {where})" if where else ""))[:500])
            _forget_broken(before, name, True)
            return reply
        _forget_broken(before, name, False)
        got = getattr(module, "__file__", None)
        if expected and (not got or os.path.realpath(got) != os.path.realpath(expected)):
            error_type, why = mismatch(name, module, got, expected)
            reply.update(ok=False, error_type=error_type,
                         error_msg=f"import {name} loaded {got or 'a module without a file'}, not {expected} ({why})")
            return reply
        reply["import_seconds"] = time.perf_counter() - t0
        ex = Extraction(name, module)
        ex.run(cmd.get("probes", []))
        reply["tables"] = ex.t
        reply["caps"] = sorted(ex.caps)
    except MemoryError:
        reply.update(ok=False, error_type="MemoryError", error_msg="out of memory while extracting", budget="memory",
                     tables={}, replace_worker=True)
    except BaseException as exc:  # noqa: BLE001 - an extraction bug on one module: a row, not a dead worker
        reply.update(ok=False, error_type=f"ExtractorError.{type(exc).__name__}", error_msg=str(exc)[:500], tables={})
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # what the module printed reaches the parent's counters before the reply
            except Exception:  # noqa: BLE001
                pass
        if dict(os.environ) != environ:
            os.environ.clear()
            os.environ.update(environ)
        if any(t.ident not in threads and t.is_alive() for t in threading.enumerate()):
            # The module left threads running (a heartbeat, a watcher): they would run, print and change state
            # while the next modules are imported and walked. This worker ends after this reply.
            reply["replace_worker"] = True
        reply["seconds"] = time.perf_counter() - t0
    return reply


def _private_commands():
    """The command pipe (descriptor 0 at start), moved to a private descriptor; /dev/null takes its place.

    A module that reads its stdin at import (docutils' ``tools/dev/create_unimap.py`` parses
    ``sys.stdin``) read the command pipe, where nothing comes while it runs: it blocked until the
    per-module timeout (``BudgetExceeded``), where a plain interpreter with stdin from /dev/null gets end of
    input at once and the module fails (or not) on its own. ``sys.stdin`` and ``sys.__stdin__`` are the
    interpreter's own reader over descriptor 0 and have read nothing yet: they now read /dev/null too.
    """
    commands = os.dup(0)  # not inheritable (PEP 446), like every descriptor the worker opens
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0, inheritable=True)  # descriptor 0, as a plain interpreter's would be
        os.close(null)
    return open(commands, "rb")


def _take_config() -> None:
    """The config (``sys.argv[1]``), then ``sys.argv`` as ``python -I -c "import mod"`` shows it: ``['-c']``.

    The worker's own ``[this file, config]`` was what a module saw: docutils' ``tools/rst2*.py`` call
    ``publish_cmdline()`` at import, took the config JSON for an input file name and exited (``SystemExit:
    1``) where a plain interpreter imports them (no arguments: they read stdin, which is empty). The config
    leaves ``sys.orig_argv`` too.
    """
    config = sys.argv[1]
    _configure(json.loads(config))
    sys.argv = ["-c"]
    sys.orig_argv = [a for a in sys.orig_argv if a != config]


def main() -> None:
    _take_config()
    stdin = _private_commands()
    _setup_limits()
    sys.path[:0] = [p for p in CONFIG["import_roots"] if p not in sys.path]
    sys.dont_write_bytecode = True
    sys.addaudithook(_audit)
    _guard_unaudited()
    _send({"ready": True, "python": sys.version, "executable": sys.executable, "sys_path": sys.path,
           "pid": os.getpid()})
    while True:
        line = stdin.readline()
        if not line:
            return
        cmd = json.loads(line)
        _send({"ack": cmd.get("nonce")})  # "started": a death before this is not the module's doing
        reply = handle(cmd)
        data = json.dumps(reply, default=str).encode("utf-8", "replace")  # encoded once
        if len(data) > MAX_RESULT_BYTES:
            reply.update(ok=False, error_type="BudgetExceeded", budget="result_bytes", tables={},
                         error_msg=f"the module's facts are {len(data):,} bytes, over the {MAX_RESULT_BYTES:,} cap")
            data = json.dumps(reply, default=str).encode("utf-8", "replace")
        _send_bytes(data)
        if reply.get("replace_worker"):
            return


if __name__ == "__main__":
    main()
