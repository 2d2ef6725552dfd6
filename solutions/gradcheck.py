"""Reference solution: the numerical gradient (chapter 03)."""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import check_gradient_dout
from cnnlib.core.validation import check_array, check_positive, require


def numerical_gradient(f, x: np.ndarray, dout, h: float = 1e-5) -> np.ndarray:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x``, by centred differences.

    For every entry ``x[idx]``::

        grad[idx] = (sum(f(x + h e_idx) * dout) - sum(f(x - h e_idx) * dout)) / (2 h)

    where ``e_idx`` is 1 at ``idx`` and 0 elsewhere.

    Parameters
    ----------
    f : callable
        ``f(x) -> out``, an array (or a float). ``f`` is called with ``x``
        itself, perturbed in place one entry at a time, so it may also read
        ``x`` through a closure (e.g. a layer's weight), and it may return a
        view of ``x``.
    x : ndarray, any shape, floating dtype (float64 recommended)
        The point at which to differentiate. May be non-contiguous (a
        transposed view, a slice). Every entry is restored exactly afterwards:
        ``x`` is unchanged when the function returns.
    dout : ndarray, shape of f(x), or float
        Upstream gradient: the weights of the outputs in the sum.
    h : float
        Step size, > 0.

    Returns
    -------
    grad : ndarray, same shape and dtype as x

    Notes
    -----
    The centred difference is accurate to O(h**2) (a one-sided difference
    only to O(h)). In float64, h = 1e-5 balances that truncation error
    against rounding error, which grows like eps / h.
    """
    require(callable(f), "numerical_gradient", "f must be callable", f"f of type {type(f).__name__}", TypeError)
    check_array("numerical_gradient", "x", x, floating=True)
    check_positive("numerical_gradient", "h", h)
    check_gradient_dout("numerical_gradient", f, x, dout)
    grad = np.zeros_like(x)
    # np.ndindex walks x's own entries: x.reshape(-1) would be a copy for a
    # non-contiguous x, and perturbing a copy leaves f(x) unchanged.
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + h
            plus = np.sum(f(x) * dout)  # summed now: f(x) may be a view of x
            x[idx] = old - h
            minus = np.sum(f(x) * dout)
        finally:
            x[idx] = old  # assign, do not subtract: old + h - h need not equal old in floating point
        grad[idx] = (plus - minus) / (2 * h)
    return grad
