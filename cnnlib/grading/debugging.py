"""Checks for the whole-network gradient check (chapter 10).

The network is the grader's own: a two-layer tanh network with a softmax
cross-entropy loss in float64, whose ``loss()`` reads its parameters in place,
as a model does. Its exact gradients are known, so a correct check must report
tiny errors for them and a large one for a gradient made wrong on purpose.
"""
from __future__ import annotations

import numpy as np

from .core import REF, GradingError, check

KEYS = ("layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias")


def _network(seed: int):
    """(loss, params, grads): a 4 -> 5 -> 3 network on 6 samples, and its exact gradients."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    params = dict(zip(KEYS, (rng.standard_normal((5, 4)), rng.standard_normal(5),
                             rng.standard_normal((3, 5)), rng.standard_normal(3))))
    W1, b1, W2, b2 = (params[k] for k in KEYS)

    def forward():
        h = np.tanh(x @ W1.T + b1)
        z = h @ W2.T + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return h, p, float(-np.log(p[np.arange(6), y]).mean())

    def loss():
        return forward()[2]

    h, p, _ = forward()
    dz = p.copy()
    dz[np.arange(6), y] -= 1
    dz /= 6
    dpre = (dz @ W2) * (1 - h ** 2)
    grads = dict(zip(KEYS, (dpre.T @ x, dpre.sum(0), dz.T @ h, dz.sum(0))))
    return loss, params, grads


def _errors(impl, loss, params, grads, what, **kwargs) -> dict:
    saved = {k: v.copy() for k, v in params.items()}
    got = impl.network_gradient_errors(loss, params, grads, **kwargs)
    if not isinstance(got, dict) or list(got) != list(params):
        keys = list(got) if isinstance(got, dict) else type(got).__name__
        raise GradingError(f"network_gradient_errors ({what}) must return a dict with the keys of params, in "
                           f"their order, {list(params)}; received {keys}", "one entry per parameter name.")
    for k, v in got.items():
        if not isinstance(v, (float, np.floating)):
            raise GradingError(f"network_gradient_errors ({what}): errors[{k!r}] must be a float, received "
                               f"{type(v).__name__}", "rel_error returns one float per pair of arrays.")
    for k, v in params.items():
        if not np.array_equal(v, saved[k]):
            raise GradingError(f"network_gradient_errors ({what}) changed params[{k!r}]",
                               "numerical_gradient puts every entry back; do not change the parameters otherwise.")
    return got


def _hint(got: dict) -> str:
    """What the common mistakes make of the errors."""
    if all(float(v) > 0.99 for v in got.values()):
        return ("every error is 1: the numerical gradients are zero. Perturb params[name] itself, in place "
                "(loss() reads it), not a copy of it.")
    if all(float(v) == 0.0 for v in got.values()):
        return "every error is 0: compare grads[name] with the numerical gradient, not with itself."
    return "compare the two gradients with rel_error(grads[name], numerical) from cnnlib.core.numeric."


def _compare(got: dict, expected: dict, what: str, rtol: float) -> None:
    for k, e in expected.items():
        g = float(got[k])
        if abs(g - e) > rtol * e + 1e-9:
            raise GradingError(f"network_gradient_errors ({what}): errors[{k!r}] is {g:.3g}, expected {e:.3g}",
                               _hint(got))


@check("network_gradient_errors", "exact gradients of a small tanh network give tiny errors for every parameter")
def _(impl):
    loss, params, grads = _network(0)
    got = _errors(impl, loss, params, grads, "exact gradients")
    bad = {k: float(v) for k, v in got.items() if not float(v) < 1e-7}
    if bad:
        raise GradingError(f"network_gradient_errors reported errors above 1e-7 for exact gradients: {bad}",
                           _hint(got) if min(bad.values()) > 0.99 else "take the numerical gradient of loss() with numerical_gradient (dout 1.0 for a "
                           "scalar; centred differences: one-sided ones leave errors near 1e-6) and compare "
                           "with rel_error.")


@check("network_gradient_errors", "a gradient made wrong in one entry is caught, the others are not blamed")
def _(impl):
    loss, params, grads = _network(1)
    grads["layer2.weight"][1, 2] *= 3.0  # a backward that is wrong in one place
    grads["layer1.bias"] = np.zeros_like(grads["layer1.bias"])  # and one that forgot a term
    expected = REF.network_gradient_errors(loss, params, grads)
    got = _errors(impl, loss, params, grads, "two wrong gradients")
    _compare(got, expected, "two wrong gradients", rtol=1e-3)


@check("network_gradient_errors", "uses the step h it is given")
def _(impl):
    loss, params, grads = _network(2)
    expected = REF.network_gradient_errors(loss, params, grads, h=1e-2)  # truncation error of order h**2
    got = _errors(impl, loss, params, grads, "exact gradients, h=1e-2", h=1e-2)
    try:
        _compare(got, expected, "exact gradients, h=1e-2", rtol=0.05)
    except GradingError as e:
        raise GradingError(e.message, e.hint or "pass h on to numerical_gradient.") from None
