"""Checks for the numerical gradient (chapter 03)."""
from __future__ import annotations

import numpy as np

from .core import REF, GradingError, check, compare

TIGHT = dict(rtol=1e-8, atol=1e-8)  # centred differences of a quadratic are exact up to rounding

HINT_FORWARD = "use centred differences, (f(x + h) - f(x - h)) / (2h), not (f(x + h) - f(x)) / h."
HINT_DIVISOR = "the two evaluations are 2h apart: divide by 2*h, not by h."
HINT_SIGN = "the difference is f(x + h) - f(x - h), in this order."
HINT_DOUT = "differentiate sum(f(x) * dout): weight f's output by dout before summing."
HINT_FLAT_COPY = ("x.reshape(-1), x.ravel() and x.flatten() copy a non-contiguous array, and changing the copy "
                  "leaves x (and so f(x)) unchanged: index x itself, e.g. `for idx in np.ndindex(x.shape)`.")


def _hints(f, x, dout, h=1e-5):
    """What the common mistakes produce on this input (computed on a copy of x)."""
    xs = x.copy()
    forward_diff, without_dout = np.zeros_like(xs), np.zeros_like(xs)
    for idx in np.ndindex(xs.shape):
        old = xs[idx]
        here = np.sum(f(xs) * dout)
        xs[idx] = old + h
        plus, plus_plain = np.sum(f(xs) * dout), np.sum(f(xs))
        xs[idx] = old - h
        minus_plain = np.sum(f(xs))
        xs[idx] = old
        forward_diff[idx] = (plus - here) / h
        without_dout[idx] = (plus_plain - minus_plain) / (2 * h)
    centred = REF.numerical_gradient(f, x.copy(), dout, h)
    return [(2 * centred, HINT_DIVISOR), (-centred, HINT_SIGN), (forward_diff, HINT_FORWARD),
            (without_dout, HINT_DOUT),
            (np.zeros_like(centred), "the gradient is all zeros: is f evaluated on the perturbed x itself?")]


def _verify_restored(x, saved, what):
    """Fail unless x is bit for bit what it was, with a hint that tells drift from a missing restore."""
    if np.array_equal(x, saved):
        return
    diff = np.abs(x.astype(np.float64) - saved)
    idx = tuple(int(i) for i in np.unravel_index(np.argmax(diff), x.shape))
    if diff.max() < 1e-9 * max(1.0, float(np.abs(saved).max())):
        hint = ("x drifted by a rounding error: save `old = x[idx]` and restore with `x[idx] = old`; "
                "x + h - 2h + h is not always exactly x in floating point.")
    else:
        hint = "put every entry back after its two evaluations (`x[idx] = old`); callers reuse x."
    raise GradingError(f"numerical_gradient changed x {what}: x{list(idx)} was {saved[idx]:.17g} and is now "
                       f"{x[idx]:.17g}", hint)


# ---------------------------------------------------------------------------- 3.1

@check("numerical_gradient", "hand case: f(x) = x**2 gives 2 * x * dout")
def _(impl):
    x, dout = np.array([1.0, -2.0, 3.0]), np.array([1.0, 2.0, 0.5])
    f = lambda v: v ** 2  # noqa: E731
    got = impl.numerical_gradient(f, x, dout)
    compare(got, np.array([2.0, -8.0, 3.0]), "numerical_gradient",
            "f(x) = x**2, x = [1, -2, 3], dout = [1, 2, 0.5]", hints=_hints(f, np.array([1.0, -2.0, 3.0]), dout),
            **TIGHT)


@check("numerical_gradient", "uses h: f(x) = x**3 with h=0.1 gives (3 x**2 + h**2) * dout")
def _(impl):
    x, dout, h = np.array([0.5, -1.0, 2.0]), np.array([1.0, -1.0, 2.0]), 0.1
    f = lambda v: v ** 3  # noqa: E731
    got = impl.numerical_gradient(f, x, dout, h)
    expected = (3 * np.array([0.5, -1.0, 2.0]) ** 2 + h ** 2) * dout  # exact for a cubic: 0.76, -3.01, 24.02
    hints = _hints(f, np.array([0.5, -1.0, 2.0]), dout, h)
    hints.append((REF.numerical_gradient(f, np.array([0.5, -1.0, 2.0]), dout), "use the step h you are given, "
                  "not a fixed 1e-5."))
    compare(got, expected, "numerical_gradient", "f(x) = x**3, x = [0.5, -1, 2], dout = [1, -1, 2], h=0.1",
            hints=hints, **TIGHT)


@check("numerical_gradient", "leaves x exactly as it was")
def _(impl):
    x = np.random.default_rng(0).standard_normal((4, 6))
    saved = x.copy()
    dout = np.random.default_rng(1).standard_normal((4, 6))
    impl.numerical_gradient(lambda v: np.tanh(v) * 3.0, x, dout)
    _verify_restored(x, saved, "(f = 3 tanh(x), x of shape (4, 6))")


def _random_functions(rng):
    """(description, f, x, dout): outputs of other shapes than x, scalar outputs, 1-D to 4-D inputs."""
    W = rng.standard_normal((5, 3))
    conv_w, conv_b = rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    x4 = rng.standard_normal((2, 2, 5, 4))
    return [
        ("f(x) = x @ W, x of shape (4, 5)", lambda v: v @ W, rng.standard_normal((4, 5)), rng.standard_normal((4, 3))),
        ("f(x) = sin(x) * x, x of shape (7,)", lambda v: np.sin(v) * v, rng.standard_normal(7),
         rng.standard_normal(7)),
        ("f(x) = sum(x**2) (a float), x of shape (2, 3, 4), dout = 1.5", lambda v: float(np.sum(v ** 2)),
         rng.standard_normal((2, 3, 4)), 1.5),
        ("f(x) = log(1 + exp(x)).mean(axis=1), x of shape (3, 6)", lambda v: np.logaddexp(0, v).mean(axis=1),
         rng.standard_normal((3, 6)), rng.standard_normal(3)),
        ("f(x) = conv2d_naive(x, w, b, stride=2, padding=1), x of shape (2, 2, 5, 4)",
         lambda v: REF.conv2d_naive(v, conv_w, conv_b, 2, 1), x4, rng.standard_normal((2, 3, 3, 3))),
        ("f(x) = 2 * x, x a 0-d array (shape ())", lambda v: 2.0 * v, np.array(0.7), np.array(-3.0)),
    ]


@check("numerical_gradient", "matches the reference on random functions and shapes")
def _(impl):
    for desc, f, x, dout in _random_functions(np.random.default_rng(2)):
        expected = REF.numerical_gradient(f, x.copy(), dout)
        saved = x.copy()
        got = impl.numerical_gradient(f, x, dout)
        compare(got, expected, "numerical_gradient", desc, rtol=1e-6, atol=1e-8, hints=_hints(f, saved, dout))
        _verify_restored(x, saved, f"({desc})")


@check("numerical_gradient", "works on a non-contiguous x (a transposed view, a strided slice)")
def _(impl):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 2))
    base = rng.standard_normal((4, 3))
    cases = [("f(x) = tanh(x) @ W, x = base.T of shape (3, 4)", lambda v: np.tanh(v) @ W, base.T),
             ("f(x) = 2 tanh(x), x = base[:, ::2] of shape (4, 2)", lambda v: 2.0 * np.tanh(v), base[:, ::2])]
    for desc, f, x in cases:
        dout = rng.standard_normal(np.shape(f(x)))
        saved_base = base.copy()
        expected = REF.numerical_gradient(f, x.copy(), dout)
        got = impl.numerical_gradient(f, x, dout)
        hints = [(np.zeros_like(expected), HINT_FLAT_COPY)] + _hints(f, x, dout)[:4]
        compare(got, expected, "numerical_gradient", desc, rtol=1e-6, atol=1e-8, hints=hints)
        _verify_restored(base, saved_base, f"(through the view x = {desc.split('x = ')[-1]})")


@check("numerical_gradient", "f may read x through a closure, or return a view of x")
def _(impl):
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((3, 4))  # like a layer's parameter, perturbed in place
    inputs = rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    expected = dout @ inputs.T  # f is linear in weight: its centred difference is this, up to rounding
    got = impl.numerical_gradient(lambda _: weight @ inputs, weight, dout)
    compare(got, expected, "numerical_gradient", "f = lambda _: weight @ inputs (f ignores its argument and "
            "reads weight from the enclosing scope)", rtol=1e-6, atol=1e-8,
            hints=[(np.zeros_like(expected), "perturb x itself, in place (x[idx] = old + h), not a copy of it: "
                    "f may read x through a closure, as when checking a layer's weight.")])
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((4, 3))
    got = impl.numerical_gradient(lambda v: v.T, x, dout)  # f returns a view of x
    compare(got, dout.T, "numerical_gradient", "f = lambda v: v.T (f returns a view of x)", rtol=1e-6, atol=1e-8,
            hints=[(np.zeros_like(x), "f(x) may be a view of x, which changes when x does: reduce "
                    "np.sum(f(x) * dout) right away, or copy f(x), before perturbing x again.")])
