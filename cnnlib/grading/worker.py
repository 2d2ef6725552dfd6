"""The learner's side of isolated grading: a process that runs learner code and nothing else.

``Sandbox`` (``sandbox.py``) starts this process for one exercise and sends it
calls; the answers go back as data. The verdict is reached in the grader's
process, which never imports a learner file, so nothing a learner's code does
here (exiting, hanging, patching NumPy, printing without end) reaches it.
"""
from __future__ import annotations

import importlib
import io
import math
import os
import pickle
import resource
import sys
import time

import numpy as np

from .. import exercises
from . import containment
from .sandbox import keep_layout


class Callback:
    """Stands for a function of the grader's (``f`` of ``numerical_gradient``): calling it asks the grader."""

    def __init__(self, conn, key, state):
        self._conn, self._key, self._state = conn, key, state

    def __call__(self, *args, **kwargs):
        # The arguments of the call in progress go along: the grader copies what
        # learner code has changed in them (x perturbed in place) into its own
        # arrays before it evaluates f, which may read them through a closure.
        self._conn.send_bytes(_dumps(("callback", self._key, args, kwargs, self._state[0])))
        return _receive(self._conn, self._state)


class _Pickler(pickle.Pickler):
    reducer_override = staticmethod(keep_layout)

    def persistent_id(self, obj):
        return obj._key if isinstance(obj, Callback) else None


def _dumps(obj) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer).dump(obj)
    return buffer.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, conn, state):
        super().__init__(io.BytesIO(data))
        self._conn, self._state = conn, state

    def persistent_load(self, pid):
        return Callback(self._conn, pid, self._state)


def _receive(conn, state):
    """The next message from the grader: a call's arguments, or a callback's value."""
    message = _Unpickler(conn.recv_bytes(), conn, state).load()
    if message[0] == "value":
        return message[1]
    raise RuntimeError(f"unexpected message {message[0]!r}")


def _error(e: BaseException) -> dict:
    """What the grader needs to know of an exception, as plain data."""
    names = [c.__name__ for c in type(e).__mro__]
    return {"type": type(e).__name__, "mro": names, "message": str(e),
            "where": exercises.describe_error(e), "exit_code": getattr(e, "code", None)}


def _time(fn, reference, args) -> tuple[float, float]:
    """Best times of ``fn(*args)`` and ``reference(*args)``, alternating, up to three rounds or about 2 s."""
    best, start = [math.inf, math.inf], time.perf_counter()
    for _ in range(3):
        for i, f in enumerate((fn, reference)):
            t = time.perf_counter()
            with np.errstate(all="ignore"):
                f(*args)
            best[i] = min(best[i], time.perf_counter() - t)
        if time.perf_counter() - start > 2.0:
            break
    return best[0], best[1]


def main(conn, output, memory_limit: int, solutions: list[str]) -> None:
    """Serve calls on ``conn`` until the grader closes it. Runs in the forked worker."""
    os.dup2(output.fileno(), 1)  # everything learner code prints goes to the grader, which counts it
    os.dup2(output.fileno(), 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    containment.apply_from_environment()  # cnnlib grade: contained before any learner file is imported
    exercises.use_solutions(solutions)
    exercises.strict(True)  # graded strictly: a stub that is not written raises NotImplementedError
    state = [None]  # the arguments of the call in progress, for callbacks
    while True:
        try:
            message = _Unpickler(conn.recv_bytes(), conn, state).load()
        except EOFError:
            return
        kind, name, args, kwargs = message  # ("load", module, ...), ("call" or "time", exercise name, ...)
        module = name if kind == "load" else exercises.get_exercise(name).module
        try:
            mod = importlib.import_module(f"cnnlib.{module}")
            fn = None if kind == "load" else getattr(mod, name)
        except BaseException as e:  # a file that does not import, even one that calls sys.exit()
            conn.send_bytes(_dumps(("broken", f"cnnlib/{module}.py does not import: {exercises.describe_error(e)}")))
            continue
        try:
            if kind == "load":
                reply = ("result", (None, ()))
            elif kind == "time":
                reply = ("timed", _time(fn, exercises.reference(name), args))
            else:
                state[0] = args
                with np.errstate(all="ignore"):
                    result = fn(*args, **kwargs)
                reply = ("result", (result, args))
        except BaseException as e:  # SystemExit and KeyboardInterrupt too: a verdict, not the end
            reply = ("raised", _error(e), args)
        state[0] = None
        try:
            data = _dumps(reply)
        except Exception as e:
            data = _dumps(("unsendable", f"{type(e).__name__}: {e}"))
        conn.send_bytes(data)
