"""The inspect sandbox, parent side: long-lived worker processes, budgets, and failure rows.

``Sandbox.run(commands)`` imports each module in a worker (``inspect_worker.py``) and returns one
``ModuleResult`` per module, whatever the module does:

- the worker is started with ``python -s -P -B`` (no user site, no script directory on ``sys.path``,
  no ``.pyc`` written into the repository) and an environment built from scratch (no ``PYTHONPATH``
  or any other ``PYTHON*`` variable but ``PYTHONHASHSEED=0``: the isolation of ``-I`` without its
  ``-E``, which would ignore the fixed hash seed and let set reprs change order between runs) holding only
  the variables the user's ``env`` setting names (``DJANGO_SETTINGS_MODULE``: never ``PYTHON*`` or the
  sandbox's own), its own session, and a fresh temporary directory as working directory, ``HOME`` and
  ``TMPDIR``. Every sandbox directory is under one temporary root that is removed when the run ends;
- budgets: a wall-clock timeout per module (the parent kills the worker), CPU and memory limits and a
  file-size limit (set by the worker on itself before any analysed code runs), a cap on what a module
  may print (the parent drains and counts stdout/stderr, and kills on a flood), and caps on objects,
  members per object, unwrap hops and result bytes (the worker stops and says which cap it hit);
- a worker that dies (``os._exit``, a segfault, the CPU limit's ``SIGXCPU``, a kill on timeout) is
  reported with the signal or exit status and the budget it hit, and is replaced before the next module.

Workers are reused across modules (an interpreter start costs ~20 ms plus the imports of every module
before): a module's import side effects (``sys.modules``, monkey-patching) are visible to the modules
the same worker imports after it, as in any program that imports both; ``os.environ`` is restored. An
import error such side effects can cause (``RETRY_FRESH``), in a worker that imported other modules first,
is imported again in a fresh worker: which modules came first depends on timing, the fresh answer does not.
"""

import json
import os
import queue
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

WORKER_PATH = str(Path(__file__).with_name("inspect_worker.py"))
STDERR_TAIL = 2000


@dataclass(frozen=True)
class Budgets:
    timeout_seconds: float = 60.0  # wall clock per module (import + extraction)
    cpu_seconds: int = 60  # CPU per module (RLIMIT_CPU, moved up before each module)
    memory_mb: int = 2048  # address space of a worker (RLIMIT_AS)
    max_objects: int = 20_000  # objects visited per module
    max_members: int = 2_000  # member rows per object
    max_unwrap_hops: int = 64
    max_result_bytes: int = 64 << 20  # JSON size of one module's facts
    max_output_bytes: int = 1 << 20  # what a module prints (stdout + stderr) before the worker is killed
    max_file_bytes: int = 16 << 20  # largest file a module may write inside its sandbox (RLIMIT_FSIZE)
    startup_seconds: float = 30.0  # for a worker to start and say it is ready


@dataclass
class Command:
    module: str
    file: str  # absolute path the module must be loaded from
    probes: list[str] = field(default_factory=list)


@dataclass
class ModuleResult:
    module: str
    ok: bool
    error_type: str | None = None
    error_msg: str | None = None
    budget: str | None = None  # the budget that stopped it: timeout, cpu, memory, output_bytes, result_bytes, ...
    seconds: float = 0.0
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stderr_sha256: str | None = None
    stderr_tail: str = ""
    worker_pid: int | None = None
    worker_replaced: bool = False
    caps: list[str] = field(default_factory=list)
    tables: dict = field(default_factory=dict)


# Import errors that another module imported first in the same worker can cause ("cannot import name", a
# partially initialised module, another module under the expected name): retried in a fresh worker.
RETRY_FRESH = ("ImportError", "AttributeError", "ModuleMismatch")


class WorkerDied(Exception):
    pass


class WorkerGone(Exception):
    """The worker was dead before it started the module (a previous module's doing): retry elsewhere."""


def _signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


# Variables the sandbox sets itself (containment, determinism) or that would undo its isolation (every
# PYTHON* one: PYTHONPATH, PYTHONHOME, PYTHONSTARTUP, ...): not settable through ``env``.
RESERVED_ENV = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL")


def check_worker_env(env: Mapping[str, str]) -> None:
    """ValueError (one line, naming the variable) for a name ``env`` may not set."""
    for name, value in env.items():
        if not isinstance(name, str) or not name or "=" in name or "\0" in name:
            raise ValueError(f"inspect env: {name!r} is not an environment variable name")
        if not isinstance(value, str) or "\0" in value:
            raise ValueError(f"inspect env: the value of {name} must be a string without NUL")
        if name in RESERVED_ENV or name.startswith("PYTHON"):
            raise ValueError(f"inspect env: {name} is set by the sandbox itself or would undo its isolation "
                             f"(reserved: {', '.join(RESERVED_ENV)} and every PYTHON* variable)")


class Worker:
    def __init__(self, python: str, roots: Sequence[str], budgets: Budgets, base: str,
                 extra_env: Mapping[str, str] | None = None, setup: str = ""):
        self.budgets = budgets
        self.modules = 0  # modules sent to this worker so far
        self.dir = tempfile.mkdtemp(prefix="worker-", dir=base)
        r, w = os.pipe()
        cfg = {"sandbox_dir": self.dir, "result_fd": w, "import_roots": list(roots),
               "memory_bytes": budgets.memory_mb << 20, "cpu_seconds": budgets.cpu_seconds,
               "max_objects": budgets.max_objects, "max_members": budgets.max_members,
               "max_unwrap_hops": budgets.max_unwrap_hops, "max_result_bytes": budgets.max_result_bytes,
               "max_file_bytes": budgets.max_file_bytes, "setup": setup}
        env = {**(extra_env or {}), "PATH": "/usr/bin:/bin", "HOME": self.dir, "TMPDIR": self.dir, "LANG": "C.UTF-8",
               "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"}
        try:
            self.proc = subprocess.Popen(
                # not -I: it implies -E, which ignores PYTHONHASHSEED; env is complete, so -E adds nothing
                # stdin is the command pipe: the worker moves it off descriptor 0 (its modules read /dev/null
                # there) and takes the config out of sys.argv (they see ['-c'])
                [python, "-s", "-P", "-B", WORKER_PATH, json.dumps(cfg)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=self.dir, env=env, pass_fds=(w,), start_new_session=True)
        finally:
            os.close(w)
        self.result = r
        for fd in (r, self.proc.stdout.fileno(), self.proc.stderr.fileno()):
            os.set_blocking(fd, False)
        self.buf = b""
        self.ready = self._read_frame(budgets.startup_seconds, None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_frame(self, timeout: float, res: ModuleResult | None) -> dict:
        """The next reply; drains stdout/stderr meanwhile. WorkerDied on death, timeout or an output flood."""
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.result, selectors.EVENT_READ, "result")
        sel.register(self.proc.stdout, selectors.EVENT_READ, "stdout")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "stderr")
        err_hash = hashlib.sha256()
        try:
            while True:
                frame = self._frame()
                if frame is not None:
                    drain = True  # what was printed before the reply is still in the pipes: count it
                    while drain:
                        drain = False
                        for key, _ in sel.select(0):
                            if key.data != "result" and self._count(sel, key, res, err_hash):
                                drain = True
                    return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise WorkerDied("timeout", f"no answer within {timeout:g} s (the per-module timeout)")
                events = sel.select(min(left, 1.0))
                for key, _ in events:
                    try:
                        chunk = os.read(key.fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if key.data == "result":
                        if not chunk:
                            self._died()
                        self.buf += chunk
                        continue
                    self._count(sel, key, res, err_hash, chunk)
        finally:
            sel.close()

    def _count(self, sel, key, res, err_hash, chunk=None) -> bool:
        """Count one chunk of stdout/stderr against the module; True if there was one."""
        if chunk is None:
            try:
                chunk = os.read(key.fd, 1 << 16)
            except BlockingIOError:
                return False
        if not chunk:
            sel.unregister(key.fileobj)
            return False
        if res is None:
            return True
        if key.data == "stdout":
            res.stdout_bytes += len(chunk)
        else:
            res.stderr_bytes += len(chunk)
            err_hash.update(chunk)
            tail = (res.stderr_tail.encode() + chunk)[-STDERR_TAIL:]
            res.stderr_sha256 = err_hash.hexdigest()
            res.stderr_tail = tail.decode("utf-8", "replace")
        if res.stdout_bytes + res.stderr_bytes > self.budgets.max_output_bytes:
            self.kill()
            raise WorkerDied("output_bytes", f"printed more than {self.budgets.max_output_bytes:,} bytes "
                                             "(the output cap)")
        return True

    def _frame(self) -> dict | None:
        nl = self.buf.find(b"\n")
        if nl < 0:
            return None
        n = int(self.buf[:nl])
        if len(self.buf) < nl + 1 + n:
            return None
        data, self.buf = self.buf[nl + 1:nl + 1 + n], self.buf[nl + 1 + n:]
        return json.loads(data)

    def _died(self):
        try:
            rc = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.returncode
        if rc is not None and rc < 0:
            name = _signal_name(rc)
            budget = {"SIGXCPU": "cpu", "SIGXFSZ": "file_bytes"}.get(name)
            raise WorkerDied(budget, f"the worker was killed by {name}"
                             + (" (the CPU limit)" if budget == "cpu" else ""))
        raise WorkerDied(None, f"the worker exited with status {rc} (os._exit or sys.exit in C code)")

    def run(self, cmd: Command, res: ModuleResult) -> dict:
        self.modules += 1
        nonce = secrets.token_hex(8)  # the reply must echo it: a frame the module wrote itself is not the reply
        line = json.dumps({"module": cmd.module, "file": cmd.file, "probes": cmd.probes, "nonce": nonce}) + "\n"
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
            ack = self._read_frame(self.budgets.startup_seconds, res)
        except WorkerDied as exc:
            self.kill()
            if exc.args[0] == "output_bytes":
                # The worker prints nothing itself: this output is the module's, already importing (its
                # flood arrived while the acknowledgement's pipes were drained). Not a worker gone before
                # it started, to be retried in a new one.
                raise
            raise WorkerGone(str(exc)) from None
        except (BrokenPipeError, OSError) as exc:
            self.kill()
            raise WorkerGone(str(exc)) from None
        if not isinstance(ack, dict) or ack.get("ack") != nonce:
            self.kill()
            raise WorkerDied(None, "the worker did not acknowledge the module (something else wrote to the result pipe)")
        reply = self._read_frame(self.budgets.timeout_seconds, res)
        if not isinstance(reply, dict) or reply.get("nonce") != nonce or not isinstance(reply.get("tables"), dict):
            self.kill()
            raise WorkerDied(None, "the reply on the result pipe was not the worker's (the module wrote to it?)")
        return reply

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self.kill()  # the session: anything the module left behind
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        try:
            os.close(self.result)
        except OSError:
            pass


class Sandbox:
    """A pool of workers over one temporary root; ``run`` returns one result per command, in order."""

    def __init__(self, python: str | None, import_roots: Sequence[str], budgets: Budgets, workers: int = 0,
                 env: Mapping[str, str] | None = None, setup: str = ""):
        check_worker_env(env or {})
        self.env = dict(env or {})  # variables the user's configuration sets in every worker
        self.setup = setup  # "module:qualname" each worker calls before its first module
        self.python = python or sys.executable
        self.roots = [str(r) for r in import_roots]
        self.budgets = budgets
        self.workers = workers if workers > 0 else min(4, os.cpu_count() or 1)
        self.root = tempfile.mkdtemp(prefix="codeintel-inspect-")
        self.workers_started = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)

    def _spawn(self) -> Worker:
        self.workers_started += 1
        w = Worker(self.python, self.roots, self.budgets, self.root, self.env, self.setup)
        return w

    def run(self, commands: Sequence[Command], on_result: Callable[[int, ModuleResult], None] | None = None
            ) -> list[ModuleResult]:
        """Every command's result, in command order (``on_result`` sees each as it finishes)."""
        out: list[ModuleResult | None] = [None] * len(commands)
        for i, r in self.results(commands):
            out[i] = r
            if on_result:
                on_result(i, r)
        return [r for r in out if r is not None]

    def results(self, commands: Sequence[Command]):
        """Yield (index, result) as the workers finish modules; the caller's thread does its own work
        (converting, anchoring) while the workers import the next modules."""
        done: queue.Queue = queue.Queue()
        lock = threading.Lock()
        it = iter(enumerate(commands))
        stop = threading.Event()
        live: set[Worker] = set()

        def loop():
            worker: Worker | None = None

            def one(cmd: Command) -> ModuleResult:
                """The module in this thread's worker (a new one when there is none); the worker is closed
                when the module's end says it must be."""
                nonlocal worker
                res = ModuleResult(cmd.module, ok=False)
                t0 = time.perf_counter()
                try:
                    for attempt in (1, 2):  # a worker found dead before it started the module: once more
                        if worker is None:
                            worker = self._spawn()
                            live.add(worker)
                        res.worker_pid = worker.pid
                        try:
                            reply = worker.run(cmd, res)
                            break
                        except WorkerGone:
                            worker.close()
                            worker = None
                            if attempt == 2:
                                raise WorkerDied(None, "two workers in a row died before starting it")
                    res.ok, res.error_type, res.error_msg = reply["ok"], reply["error_type"], reply["error_msg"]
                    res.budget, res.caps, res.tables = reply.get("budget"), reply.get("caps", []), reply["tables"]
                    if reply.get("replace_worker"):
                        worker.close()
                        worker, res.worker_replaced = None, True
                except WorkerDied as exc:
                    budget, msg = exc.args
                    res.ok, res.budget, res.worker_replaced = False, budget, True
                    res.error_type = "BudgetExceeded" if budget else "WorkerDied"
                    res.error_msg = f"importing {cmd.module}: {msg}"
                    if worker is not None:
                        worker.close()
                    worker = None
                except Exception as exc:  # noqa: BLE001 - the interpreter cannot start, a garbled reply
                    res.ok, res.error_type = False, "WorkerError"
                    res.error_msg = f"importing {cmd.module}: {type(exc).__name__}: {exc}"[:500]
                    if worker is not None:
                        worker.close()
                    worker, res.worker_replaced = None, True
                res.seconds = time.perf_counter() - t0
                return res

            try:
                while not stop.is_set():
                    with lock:
                        nxt = next(it, None)
                    if nxt is None:
                        return
                    i, cmd = nxt
                    used = worker is not None and worker.modules > 0
                    res = one(cmd)
                    if used and not res.ok and not res.worker_replaced and res.error_type in RETRY_FRESH \
                            and not stop.is_set():
                        # It failed in a worker that had imported other modules first, with the errors their
                        # side effects cause (sys.modules aliases, half-initialised or patched modules), and
                        # which modules a worker imported before depends on timing (setuptools' distutils
                        # shim: a different set of its modules failed in each run). Once more in a fresh
                        # interpreter: that answer is the module's own, whatever ran before. (Not every
                        # failure: a fresh worker repeats the setup and the imports below the module, ~0.7 s
                        # for a Django module, whose 133 failures are all real.)
                        worker.close()
                        worker = None
                        first = res.seconds
                        res = one(cmd)
                        res.worker_replaced, res.seconds = True, res.seconds + first
                    done.put((i, res))
            finally:
                if worker is not None:
                    worker.close()
                done.put(None)  # this thread is finished

        threads = [threading.Thread(target=loop, name=f"inspect-{k}", daemon=True)
                   for k in range(min(self.workers, max(1, len(commands))))]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while running:
                item = done.get()
                if item is None:
                    running -= 1
                else:
                    yield item
        finally:  # the caller stopped early (an error, Ctrl-C): no worker goes on importing
            stop.set()
            if running:
                for w in list(live):
                    w.kill()
            for t in threads:
                t.join()


def budgets_json(b: Budgets) -> str:
    return json.dumps(asdict(b), sort_keys=True)
