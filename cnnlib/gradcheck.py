"""Gradient checking (chapter 03): the numerical gradient, exercise 3.1.

A backward function is easy to get subtly wrong and hard to test by reading.
Finite differences give an independent answer: nudge one input entry by
``+h`` and ``-h``, rerun the forward, and the change of the output, weighted
by ``dout``, is that entry's gradient.

``numerical_gradient`` (exercise 3.1) takes centred differences of
``sum(f(x) * dout)`` with respect to ``x``. The tools built on it are
provided: ``rel_error`` (``cnnlib.core.numeric``) compares two gradients, and
``gradient_check`` (``cnnlib.gradients``) checks every gradient of a
forward/backward pair at once.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import check_gradient_dout
from .core.validation import check_array, check_positive, require
from .exercises import exercise


@exercise
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
    raise NotImplementedError("exercise 3.1 numerical_gradient (chapter 03): write it here")


