"""Isolated grading: the learner's code runs in a process of its own, the verdict here.

``Sandbox`` starts a worker process (``worker.py``) for one exercise and calls
learner functions in it, as if they were local: ``LearnerCode(sandbox).relu_forward(x)``.
Arguments go over as data and results come back as data, unpickled by a
loader that builds nothing but arrays, numbers and containers, so no code of
the learner's ever runs in this process. The limits are kept from here:

- time: a check that has not finished after ``TIME_LIMIT`` seconds kills the worker;
- memory: the worker's address space is capped (``MEMORY_LIMIT``), so a huge
  allocation fails there with a MemoryError;
- output: what the worker prints is counted here; past ``OUTPUT_LIMIT`` bytes
  the worker is killed.

An exit, a crash, a hang or a flood becomes ``LearnerCrash`` (a verdict for that
exercise); a file that does not import becomes ``Broken``. When an instructor grades
a class (``cnnlib grade``), ``containment.py`` also keeps the fork server and the
workers from writing outside a scratch folder and from reaching other processes.

Arguments that learner code changes in place (``numerical_gradient`` perturbs
``x``) are copied back into the grader's arrays after each call and before each
callback, and a result that *is* one of the arguments comes back as that very
object, so the checks see what they would see in one process. One difference
remains: an array that a callback returns as a view of its argument arrives
in the worker as a copy.
"""
from __future__ import annotations

import builtins
import functools
import io
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import signal
import time
import types
from multiprocessing.connection import wait

import numpy as np

from ..exercises import get_exercise, solutions_in_use
from . import containment

TIME_LIMIT = float(os.environ.get("CNNLIB_TIME_LIMIT", 20.0))  # seconds per check
MEMORY_LIMIT = 3 * 2**30  # bytes of address space per worker
OUTPUT_LIMIT = 2**20  # bytes a worker may print per exercise
SHOWN_OUTPUT = 1000  # characters of it quoted in a verdict


class LearnerCrash(Exception):
    """The learner's process gave no answer: it exited, crashed, hung or printed too much."""


class Broken(Exception):
    """A learner file does not import."""


class LearnerError(Exception):
    """An exception of a type the grader does not know (raised by learner code)."""


# What the grader accepts back from the worker: arrays, NumPy scalars and
# generators, plain Python values and namespaces of them. Anything else is refused, never built.
_SAFE = {("builtins", n) for n in ("complex", "slice", "set", "frozenset", "range", "bytearray")} | \
    {("types", "SimpleNamespace")}  # the model and optimizer of training_step, holding the grader's callbacks
_SAFE_MODULES = ("numpy._core.multiarray", "numpy.core.multiarray", "numpy._core.numeric", "numpy.core.numeric",
                 "numpy.random.")
_SAFE_NAMES = {"_reconstruct", "_frombuffer", "scalar", "__generator_ctor", "__bit_generator_ctor", "__randomstate_ctor",
               "Generator", "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "SeedSequence",
               "__pyx_unpickle_SeedSequence"}


def _scalar_type(name: str) -> bool:
    """``float32``, ``int64``, ...: NumPy's scalar types, passed as ``dtype=`` arguments."""
    t = getattr(np, name, None)
    return isinstance(t, type) and issubclass(t, np.generic)


def with_layout(data: np.ndarray, axes: tuple) -> np.ndarray:
    """``data`` (contiguous) viewed with its axes in ``axes`` order: a strided layout rebuilt after transport."""
    return data.transpose(axes)


def keep_layout(obj):
    """Pickle's ``reducer_override``: an array that is a transposed view of contiguous memory (the NCHW
    view of channels-last memory that conv2d_forward returns) travels as that memory, so it arrives
    with the same layout; pickle alone would send a C-ordered copy."""
    if type(obj) is np.ndarray and obj.ndim > 1 and not (obj.flags.c_contiguous or obj.flags.f_contiguous):
        order = tuple(int(i) for i in np.argsort([-abs(st) for st in obj.strides], kind="stable"))
        memory = obj.transpose(order)
        if memory.flags.c_contiguous or np.ascontiguousarray(memory).strides == memory.strides:
            return with_layout, (np.ascontiguousarray(memory), tuple(int(i) for i in np.argsort(order)))
    return NotImplemented


class _Loader(pickle.Unpickler):
    def __init__(self, data, callbacks):
        super().__init__(io.BytesIO(data))
        self._callbacks = callbacks

    def find_class(self, module, name):
        if (module, name) == (__name__, "with_layout") or (module, name) in _SAFE or (module.startswith(_SAFE_MODULES) and name in _SAFE_NAMES) or \
                (module == "numpy" and (name in ("ndarray", "dtype") or _scalar_type(name))) or \
                module == "numpy.dtypes":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it returned an object of type {module}.{name}; return NumPy arrays, "
                                     "numbers, tuples, lists or dicts of them")

    def persistent_load(self, pid):
        return self._callbacks[pid]


class _Dumper(pickle.Pickler):
    """Sends the grader's functions (``f`` of ``numerical_gradient``) as callbacks, not as code."""

    def __init__(self, buffer, callbacks):
        super().__init__(buffer, protocol=5)
        self._callbacks = callbacks

    reducer_override = staticmethod(keep_layout)

    def persistent_id(self, obj):
        if isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)) and obj is not with_layout \
                and not getattr(obj, "__module__", "").startswith(("numpy", "copyreg")):  # pickle's own helpers
            self._callbacks[id(obj)] = obj
            return id(obj)
        return None


@functools.cache
def _context():
    """The fork server every worker is forked from: started once, with NumPy loaded and one BLAS thread
    (the arrays graded are small), so that a worker starts in milliseconds."""
    ctx = multiprocessing.get_context("forkserver")
    contain = ["cnnlib.grading.contained"] if os.environ.get(containment.ENV) else []  # cnnlib grade: last
    ctx.set_forkserver_preload(["numpy", "cnnlib.grading.worker", *contain])
    blas = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({k: "1" for k in blas})  # inherited by the fork server, and so by every worker
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for k, v in blas.items():  # this process's environment as it was
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v
    return ctx


class Sandbox:
    """A worker process that runs one exercise's learner code; ``with Sandbox() as box: ...``.

    ``reference`` names exercises that run their reference in the worker whatever the
    switch says: those the exercise under test calls (``Exercise.uses``).
    """

    def __init__(self, reference=()):
        self._callbacks: dict = {}
        self._printed = b""
        self._printed_bytes = 0
        self.deadline = None
        ctx = _context()
        self._conn, child = ctx.Pipe()
        self._output, out_w = ctx.Pipe(duplex=False)
        from .worker import main
        self._process = ctx.Process(target=main, daemon=True,
                                    args=(child, out_w, MEMORY_LIMIT,
                                          [e.name for e in solutions_in_use()] + list(reference)))
        self._process.start()
        child.close()
        out_w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._conn.close()
        self._process.join(1.0)
        if self._process.is_alive():
            self._kill()
        self._output.close()

    def _kill(self) -> None:
        if self._process.is_alive():
            os.kill(self._process.pid, signal.SIGKILL)
        self._process.join()

    @property
    def printed(self) -> str:
        """The start of what learner code printed so far."""
        return self._printed[:SHOWN_OUTPUT].decode("utf-8", "replace")

    # ------------------------------------------------------------------ messages

    def _send(self, message) -> None:
        buffer = io.BytesIO()
        _Dumper(buffer, self._callbacks).dump(message)
        try:
            self._conn.send_bytes(buffer.getvalue())
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._died()

    def _died(self):
        self._drain()
        self._process.join(5.0)
        code = self._process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            raise LearnerCrash(f"crashed its process (killed by {name})" +
                               (": out of memory?" if name == "SIGKILL" else ""))
        raise LearnerCrash(f"ended its process (exit code {code}): os._exit() or a crash in the learner's code")

    def _drain(self) -> None:
        try:
            data = os.read(self._output.fileno(), 1 << 16)
        except OSError:
            return
        self._printed_bytes += len(data)
        if len(self._printed) < SHOWN_OUTPUT:
            self._printed += data[:SHOWN_OUTPUT]
        if self._printed_bytes > OUTPUT_LIMIT:
            self._kill()
            raise LearnerCrash(f"printed more than {OUTPUT_LIMIT // 2**20} MB; the output was cut and the "
                               "process stopped. Remove the print from your function.")

    def _receive(self):
        """The worker's next message, within the deadline, draining its output meanwhile."""
        while True:
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._kill()
                raise LearnerCrash(f"did not finish in {TIME_LIMIT:.0f} s: look for a loop that never ends "
                                   "(a while loop whose index is not advanced, or a stride of 0)")
            ready = wait([self._conn, self._output], remaining)
            if self._output in ready:
                self._drain()
            if self._conn in ready:
                try:
                    data = self._conn.recv_bytes()
                except (EOFError, OSError):
                    self._died()
                return _Loader(data, self._callbacks).load()

    def load(self, module: str) -> None:
        """Import ``cnnlib.<module>`` in the worker; raise Broken if it does not import."""
        self._send(("load", module, (), {}))
        reply = self._receive()
        if reply[0] == "broken":
            raise Broken(reply[1])

    def call(self, name: str, args: tuple, kwargs: dict):
        """Call learner function ``name`` in the worker with these arguments, as if it were local."""
        self._send(("call", name, args, kwargs))
        while True:
            try:
                reply = self._receive()
            except pickle.UnpicklingError as e:
                raise LearnerError(f"{name} could not be graded: {e}") from None
            if reply[0] == "callback":
                _, key, cargs, ckwargs, state = reply
                known = _copy_back(args, state)
                cargs = _restore(cargs, known)
                self._send(("value", _restore(self._callbacks[key](*cargs, **_restore(ckwargs, known)), {})))
                continue
            if reply[0] == "result":
                result, after = reply[1]
                return _restore(result, _copy_back(args, after))
            if reply[0] == "raised":
                _copy_back(args, reply[2])
                raise _as_exception(reply[1])
            if reply[0] == "broken":
                raise Broken(reply[1])
            if reply[0] == "unsendable":
                raise LearnerError(f"{name} returned a value that cannot be sent back to the grader ({reply[1]}); "
                                   "return NumPy arrays, numbers, or tuples of them")


    def time(self, name: str, args: tuple) -> tuple[float, float]:
        """Seconds one call of the learner's ``name`` and of its reference take on ``args``, in the worker
        (best of up to three alternating rounds); the arguments are not copied back."""
        self._send(("time", name, args, {}))
        reply = self._receive()
        if reply[0] == "raised":
            raise _as_exception(reply[1])
        if reply[0] == "broken":
            raise Broken(reply[1])
        if reply[0] != "timed":
            raise LearnerError(f"{name} could not be timed ({reply[0]})")
        return reply[1]


class LearnerCode:
    """``LearnerCode(box).relu_forward(x)`` calls the learner's ``relu_forward`` in the sandbox."""

    def __init__(self, sandbox: Sandbox):
        self._sandbox = sandbox

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        get_exercise(name)

        def learner(*args, **kwargs):
            return self._sandbox.call(name, args, kwargs)

        learner.__name__ = name
        return learner


def _copy_back(originals, received, known=None) -> dict:
    """Copy into ``originals`` what learner code changed in its copies; map id(copy) -> original."""
    known = {} if known is None else known
    known[id(received)] = originals
    if isinstance(originals, np.ndarray) and isinstance(received, np.ndarray):
        if originals.shape == received.shape and not np.array_equal(originals, received, equal_nan=True) \
                and originals.flags.writeable:
            np.copyto(originals, received, casting="unsafe")
    elif isinstance(originals, np.random.Generator) and isinstance(received, np.random.Generator):
        originals.bit_generator.state = received.bit_generator.state
    elif isinstance(originals, (tuple, list)) and isinstance(received, (tuple, list)) \
            and len(originals) == len(received):
        for o, r in zip(originals, received):
            _copy_back(o, r, known)
    elif isinstance(originals, dict) and isinstance(received, dict):
        for k in originals.keys() & received.keys():
            _copy_back(originals[k], received[k], known)
    return known


def _restore(value, known: dict):
    """``value`` with every object that is a copy of an argument replaced by that argument."""
    if id(value) in known:
        return known[id(value)]
    if isinstance(value, tuple):
        return tuple(_restore(v, known) for v in value)
    if isinstance(value, list):
        return [_restore(v, known) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v, known) for k, v in value.items()}
    return value


def _as_exception(info: dict) -> BaseException:
    """The learner's exception, as the nearest built-in type (so ``except ValueError`` still works)."""
    if info["type"] == "SystemExit":
        return LearnerCrash(f"called sys.exit({info['exit_code']!r}): a function must return its result, "
                            "not end the program")
    if info["type"] in ("MemoryError", "_ArrayMemoryError"):
        return LearnerCrash(f"ran out of memory ({info['message']}; the limit is "
                            f"{MEMORY_LIMIT // 2**30} GiB)")
    for name in info["mro"]:
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and name not in ("BaseException", "Exception"):
            if not issubclass(cls, Exception):  # KeyboardInterrupt, GeneratorExit
                return LearnerCrash(f"raised {info['type']}")
            try:
                e = cls(info["message"])
            except Exception:
                break
            e.learner_where = info["where"]
            return e
    e = LearnerError(f"{info['type']}: {info['message']}")
    e.learner_where = info["where"]
    return e
