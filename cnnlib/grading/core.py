"""The grading machinery: checks, comparisons with learner-friendly messages, the table.

Each exercise is graded by an ordered list of checks, smallest first. A check
is a function ``check(impl)`` registered with ``@check("conv2d_forward", "title")``;
``impl.conv2d_forward`` is the code under test (the learner's, or the reference
when the solution switch is on, or a catalogued wrong implementation in the
course's own tests), ``REF.conv2d_forward`` the reference solution.

A check passes by returning; it fails by raising ``GradingError`` (through
``compare`` and friends), and learner code that is not written yet raises
``NotImplementedError``, which the grader reports as "not started".
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import signal
import textwrap
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.numeric import rel_error
from ..exercises import CHAPTERS, EXERCISES, get_exercise, reference, solutions_in_use
from ..questions import QUESTIONS
from .sandbox import TIME_LIMIT, Broken, LearnerCode, LearnerCrash, LearnerError, Sandbox
from .speed import speed_note

PACKAGE = Path(__file__).resolve().parents[1]  # the cnnlib folder, where the exercise files are
_QUESTION_IDS = {q.id for q in QUESTIONS}


class GradingError(AssertionError):
    """A check failed: ``message`` says what and where, ``hint`` what to look at."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message + (f"\nHint: {hint}" if hint else ""))
        self.message, self.hint = message, hint


class NotStarted(Exception):
    """The code under test raised NotImplementedError."""


class _Namespace:
    """``impl.conv2d_forward`` looks the function up in ``package.<module>``, or in ``overrides``."""

    def __init__(self, package: str, overrides: dict | None = None):
        self._package, self._overrides = package, dict(overrides or {})

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._overrides:
            return self._overrides[name]
        if self._package == "solutions":
            return reference(name)
        ex = get_exercise(name)
        return getattr(importlib.import_module(f"cnnlib.{ex.module}"), name)


def learner_impl(**overrides) -> _Namespace:
    """The functions under test: cnnlib's exercise functions (switch-aware), with overrides."""
    return _Namespace("cnnlib", overrides)


REF = _Namespace("solutions")


# ----------------------------------------------------------------------------
# Registering and running checks

_CHECKS: dict[str, list[tuple[str, object]]] = {}


def check(exercise_name: str, title: str):
    """Register ``fn(impl)`` as the next check of an exercise."""
    name = get_exercise(exercise_name).name

    def register(fn):
        _CHECKS.setdefault(name, []).append((title, fn))
        return fn

    return register


def _load_all_checks() -> None:
    # Grader modules are named after the cnnlib module they grade.
    for module in sorted({e.module for e in EXERCISES}):
        if importlib.util.find_spec(f"cnnlib.grading.{module}") is not None:
            importlib.import_module(f"cnnlib.grading.{module}")


def checks_of(exercise_name: str) -> list[tuple[str, object]]:
    _load_all_checks()
    return _CHECKS.get(get_exercise(exercise_name).name, [])


class _Timeout(BaseException):
    pass


@contextmanager
def time_limit(seconds: float):
    """Interrupt learner code that runs longer than ``seconds`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_check(fn, impl, title: str = "", in_process: bool = True) -> None:
    """Run one check: return if it passes, raise GradingError or NotStarted otherwise.

    LearnerCrash and Broken (from a sandbox) pass through. ``in_process`` code
    (the course's own tests of the catalogue) gets the time limit by an alarm.
    """
    try:
        if in_process:
            with time_limit(TIME_LIMIT):
                fn(impl)
        else:
            fn(impl)
    except _Timeout:
        raise GradingError(
            f"check '{title}' did not finish within {TIME_LIMIT:.0f} s",
            "look for a loop that never ends (a while loop whose index is not "
            "advanced, or a stride of 0).") from None
    except (GradingError, NotStarted, LearnerCrash, Broken):
        raise
    except NotImplementedError as e:
        raise NotStarted(str(e)) from None
    except Exception as e:  # learner code crashed: report it as a wrong answer, keep grading
        what = getattr(e, "learner_where", None) or (str(e) if isinstance(e, LearnerError) else
                                                     f"{type(e).__name__}: {e}")
        raise GradingError(f"check '{title}' raised {what}") from e


STATUSES = ("done", "wrong", "crashed", "broken", "not started")


@dataclass
class Result:
    exercise: str            # name
    status: str              # one of STATUSES
    passed: int = 0
    total: int = 0
    failed_check: str = ""
    message: str = ""
    speed: str = ""          # for a done exercise that is slow at chapter 08's shapes: what it costs (speed.py)

    @property
    def done(self) -> bool:
        return self.status == "done"

    def summary(self) -> str:
        """``4.1 relu_forward: done, 4 of 4 checks passed`` (``1.q1 concept check: done, answered right``)."""
        if self.exercise in _QUESTION_IDS:
            detail = {"done": "answered right", "wrong": "the answer is not right yet",
                      "broken": "answers.json cannot be read", "crashed": "its grading did not finish",
                      "not started": f'answer it in its chapter: cnnlib.answer("{self.exercise}", ...)'}[self.status]
            return f"{self.exercise} concept check: {self.status}, {detail}"
        ex = get_exercise(self.exercise)
        detail = {"done": f"{self.passed} of {self.total} checks passed" + (", but slow" if self.speed else ""),
                  "wrong": f"check {self.passed + 1} of {self.total} failed: '{self.failed_check}'",
                  "crashed": f"check {self.passed + 1} of {self.total}, '{self.failed_check}'",
                  "broken": "its file does not run",
                  "not started": f"write it in cnnlib/{ex.module}.py"}[self.status]
        return f"{ex.id} {ex.name}: {self.status}, {detail}"


def file_problem(ex) -> str | None:
    """Why ``ex``'s file cannot hold a gradable exercise, read from its text without running it."""
    path = PACKAGE / f"{ex.module}.py"
    where = f"cnnlib/{ex.module}.py"
    if not path.is_file():
        return f"{where} is missing: restore it with `git checkout {where}`"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), where)
    except SyntaxError as e:
        return f"{where} does not import: SyntaxError at line {e.lineno}: {e.msg}"
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return f"{where} cannot be read: {e}"
    lines = [n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name == ex.name]
    if not lines:
        return (f"{where} has no function {ex.name} (deleted or renamed?): restore its stub from "
                f"`git show HEAD:{where}`")
    if len(lines) > 1:
        return (f"{where} defines {ex.name} {len(lines)} times (lines {', '.join(map(str, lines))}); Python keeps "
                "only the last one: delete the others")
    return None


def grade(exercise_name: str, impl=None) -> Result:
    """Run every check of one exercise; stop at the first failure.

    The learner's code runs in a sandbox (its own process); with the solution
    switch on for the exercise, the reference runs here. ``impl`` (the course's
    tests) grades other code in this process.
    """
    ex = get_exercise(exercise_name)
    checks = checks_of(ex.name)
    if impl is not None or ex in solutions_in_use():
        return _run_checks(ex, checks, impl or REF)
    problem = file_problem(ex)
    if problem:
        return Result(ex.name, "broken", 0, len(checks), "", problem)
    with Sandbox(reference=ex.uses) as box:
        box.deadline = time.monotonic() + TIME_LIMIT
        try:
            box.load(ex.module)
        except Broken as e:
            return Result(ex.name, "broken", 0, len(checks), "", str(e))
        except LearnerCrash as e:
            return Result(ex.name, "broken", 0, len(checks), "", f"importing cnnlib/{ex.module}.py {e}")
        return _run_checks(ex, checks, LearnerCode(box), box)


def _run_checks(ex, checks, impl, box=None) -> Result:
    res = Result(ex.name, "done", total=len(checks))
    for title, fn in checks:
        if box is not None:
            box.deadline = time.monotonic() + TIME_LIMIT
        try:
            run_check(fn, impl, title, in_process=box is None)
        except NotStarted as e:
            return Result(ex.name, "not started", res.passed, len(checks), title, str(e))
        except (GradingError, LearnerCrash, Broken) as e:
            status = {GradingError: "wrong", LearnerCrash: "crashed", Broken: "broken"}[type(e)]
            message = str(e) if status != "crashed" else f"{ex.name} {e}"
            if box is not None and box.printed:
                message += f"\nIt printed: {box.printed!r}"
            return Result(ex.name, status, res.passed, len(checks), title, message)
        res.passed += 1
    if not checks:
        res.status, res.message = "wrong", "no checks are registered for this exercise"
    elif box is not None:
        res.speed = speed_note(ex, box)
    return res


def report(res: Result) -> str:
    """The text ``cnnlib.check`` prints: the summary line, then what failed and the hint."""
    if res.exercise in _QUESTION_IDS:  # a concept check: its summary says where to answer it
        return res.summary() + (f"\n{res.message}" if res.message and not res.done else "")
    ex = get_exercise(res.exercise)
    if res.status == "not started":
        return f"{ex.id} {ex.name}: not started. Write it in cnnlib/{ex.module}.py, then run this cell again."
    return res.summary() + (f"\n{res.message}" if res.message and not res.done else "") + \
        (f"\n{res.speed}" if res.speed else "")


# ----------------------------------------------------------------------------
# Comparisons that explain themselves

def describe_inputs(**inputs) -> str:
    """``x.shape=(2, 3, 5, 5), stride=2`` for arrays and plain values alike."""
    parts = []
    for k, v in inputs.items():
        parts.append(f"{k}.shape={tuple(v.shape)}" if isinstance(v, np.ndarray) else f"{k}={v!r}")
    return ", ".join(parts)


def compare(received, expected, what: str, inputs: str = "", *, rtol: float = 1e-5,
            atol: float = 1e-6, check_dtype: bool = True, hints=()) -> None:
    """Fail with a precise message unless ``received`` matches ``expected``.

    ``hints`` is a sequence of ``(alternative, text)``: when ``received``
    matches ``alternative`` (what a common mistake would produce), ``text``
    is shown as the hint.
    """
    where = f" for {inputs}" if inputs else ""
    expected = np.asarray(expected)
    if not isinstance(received, (np.ndarray, np.generic, float, int)):
        raise GradingError(f"{what}{where}: expected a NumPy array, received {type(received).__name__}",
                           "return arrays, not lists or tuples of them")
    received_arr = np.asarray(received)
    if received_arr.shape != expected.shape:
        hint = None
        if sorted(received_arr.shape) == sorted(expected.shape):
            hint = "the axes are in another order: check the layout (N, C, H, W) and your transposes."
        for alt, text in hints:
            if np.shape(alt) == received_arr.shape and _close(received_arr, alt, rtol, atol):
                hint = text
        raise GradingError(f"{what}{where}: expected shape {expected.shape}, received shape "
                           f"{received_arr.shape}", hint)
    if check_dtype and np.issubdtype(expected.dtype, np.floating) and received_arr.dtype != expected.dtype:
        raise GradingError(f"{what}{where}: expected dtype {expected.dtype}, received {received_arr.dtype}",
                           "keep the input's dtype: build new arrays with dtype=x.dtype or np.zeros_like.")
    if _close(received_arr, expected, rtol, atol):
        return
    bad = ~np.isclose(received_arr, expected, rtol=rtol, atol=atol, equal_nan=True)
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    with np.errstate(invalid="ignore"):
        err = np.abs(received_arr.astype(np.float64) - expected.astype(np.float64))
    msg = (f"{what}{where} differs from the reference in {int(bad.sum())} of {bad.size} entries; "
           f"first at index {first}: expected {expected[first]:.6g}, received "
           f"{received_arr[first]:.6g}; max abs error {np.nanmax(err) if np.isfinite(err).any() else float('nan'):.3g}")
    hint = None
    if not np.isfinite(received_arr).all():
        hint = "your result contains NaN or inf: look for a division by zero or an overflowing exp."
    for alt, text in hints:
        if np.shape(alt) == received_arr.shape and _close(received_arr, alt, rtol, atol):
            hint = text
            break
    raise GradingError(msg, hint)


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def expect_tuple(value, length: int, what: str):
    """Fail unless ``value`` is a tuple/list of ``length`` items (e.g. ``(out, cache)``)."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        got = f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise GradingError(f"{what} must return a tuple of {length} items, received {got}")
    return value


def expect_raises(exc_type, fn, *args, what: str = "", **kwargs) -> None:
    """Fail unless ``fn(*args, **kwargs)`` raises ``exc_type``."""
    try:
        fn(*args, **kwargs)
    except exc_type:
        return
    except NotImplementedError:
        raise
    except Exception as e:
        raise GradingError(f"{what}: expected {exc_type.__name__}, but it raised {type(e).__name__}: {e}")
    raise GradingError(f"{what}: expected {exc_type.__name__}, but nothing was raised")


class Frozen:
    """Copies of inputs, to check afterwards that the code under test left them alone."""

    def __init__(self, **arrays):
        self._saved = {k: np.array(v, copy=True) for k, v in arrays.items()}
        self._live = arrays

    def verify(self, what: str) -> None:
        for k, saved in self._saved.items():
            if not np.array_equal(self._live[k], saved, equal_nan=True):
                raise GradingError(f"{what} modified its input '{k}' in place",
                                   f"work on a copy (e.g. {k}.copy()) or build a new array; "
                                   "callers reuse their inputs.")


def compare_gradient(received, f, x, dout, what: str, inputs: str = "", tol: float = 1e-6) -> None:
    """Fail unless ``received`` matches the numerical gradient of ``sum(f(x) * dout)``.

    The numerical gradient is the reference ``numerical_gradient`` (exercise 3.1),
    taken in float64 on a copy of ``x``.
    """
    expected = REF.numerical_gradient(f, x.astype(np.float64, copy=True), dout, h=1e-6)
    if np.shape(received) != expected.shape:
        compare(received, expected, what, inputs)
    err = rel_error(received, expected)
    if not err < tol:
        idx = np.unravel_index(np.argmax(np.abs(np.asarray(received, np.float64) - expected)), expected.shape)
        raise GradingError(
            f"{what}{' for ' + inputs if inputs else ''} disagrees with the numerical gradient: relative "
            f"error {err:.2e} (tolerance {tol:.0e}); worst at index {tuple(int(i) for i in idx)}: numerical "
            f"{expected[idx]:.6g}, yours {np.asarray(received)[idx]:.6g}",
            "check each term of the chain rule on a tiny case with pencil and paper.")


# ----------------------------------------------------------------------------
# The progress table

def status_table(results: dict[str, Result], width: int = 110) -> str:
    """The per-chapter table printed by ``pytest tests/`` and ``cnnlib progress``."""
    lines = [f"{'':4}{'exercise':<32}{'status':<14}details"]
    counts = dict.fromkeys(STATUSES, 0)
    for chapter, title in CHAPTERS.items():
        items = [(f"{e.id} {e.name}", e.name) for e in EXERCISES if e.chapter == chapter and e.name in results]
        items += [(f"{q.id} concept check", q.id) for q in QUESTIONS if q.chapter == chapter and q.id in results]
        if not items:
            continue
        done = sum(results[key].done for _, key in items)
        lines.append(f"Chapter {chapter:02d}  {title}  ({done}/{len(items)} done)")
        for label, key in items:
            r = results[key]
            counts[r.status] += 1
            detail = r.summary().split(", ", 1)[1]
            lines.append(f"{'':4}{label:<32}{r.status:<14}{detail}")
            note = r.message if r.status in ("wrong", "crashed", "broken") else r.speed
            if note:
                for part in note.splitlines():  # the message, then its hint
                    lines.extend(textwrap.wrap(part, width, initial_indent=" " * 8, subsequent_indent=" " * 10))
    total = sum(counts.values())
    lines.append(f"Total: {counts['done']} of {total} done" +
                 "".join(f", {n} {status}" for status, n in counts.items() if status != "done" and n))
    return "\n".join(lines)
