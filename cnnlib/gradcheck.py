"""Gradient checking (chapter 03): the numerical gradient and the tools built on it.

A backward function is easy to get subtly wrong and hard to test by reading.
Finite differences give an independent answer: nudge one input entry by
``+h`` and ``-h``, rerun the forward, and the change of the output, weighted
by ``dout``, is that entry's gradient.

- ``numerical_gradient`` (exercise 3.1): centred differences of
  ``sum(f(x) * dout)`` with respect to ``x``.
- ``rel_error`` (provided): the relative error used to compare two gradients.
- ``gradient_check`` (provided): checks every gradient of a forward/backward
  pair at once and prints one line per gradient.
"""
from __future__ import annotations

import inspect

import numpy as np

from .exercises import exercise
from .validation import check_array, require


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
    require(isinstance(h, (int, float, np.floating)) and h > 0, "numerical_gradient",
            "h must be a positive number", f"h={h!r}")
    raise NotImplementedError("exercise 3.1 numerical_gradient (chapter 03): write it here")


def rel_error(a, b, tiny: float = 1e-12) -> float:
    """Relative error of two arrays: ``max |a - b| / max(|a| + |b|, tiny)``.

    The largest difference, relative to the largest entry (not entry by entry:
    element-wise ratios blow up at entries close to zero, where a numerical
    gradient's rounding error, about 1e-10, is as large as the entry itself).

    Parameters
    ----------
    a, b : ndarray or float, the same shape
    tiny : float
        Floor of the denominator, so that two zero arrays give 0, not NaN.

    Returns
    -------
    float
        0 for identical arrays, 1 when one of them is zero and the other not.
        For a correct float64 gradient against its numerical estimate expect
        about 1e-10; above 1e-7 something is wrong.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    require(a.shape == b.shape, "rel_error", "a and b must have the same shape",
            f"a.shape={a.shape}, b.shape={b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), tiny))


def gradient_check(forward, backward, inputs, *, dout=None, rng=None, h: float = 1e-5,
                   tol: float = 1e-7, verbose: bool = True) -> dict[str, float]:
    """Compare ``backward``'s gradients with numerical ones, one line per gradient.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs)`` returning ``(out, cache)`` (or a longer tuple that
        starts with them), e.g. ``cnnlib.conv.conv2d_forward``.
    backward : callable
        ``backward(dout, cache)`` returning the gradients of the forward's
        array arguments, in their order (a tuple, or one array), with None
        for an optional array passed as None (e.g. ``dbias`` for ``bias=None``).
    inputs : sequence
        The forward's positional arguments. The floating-point arrays among
        them that ``backward`` returns a gradient for are checked; arrays after
        those (e.g. running statistics) and other arguments (ints, None) are
        passed through unchanged. Arrays are copied to float64 first, so yours
        are never touched.
    dout : ndarray, optional
        Upstream gradient; by default standard normal values from ``rng``.
    rng : np.random.Generator, optional
        Draws ``dout``; ``np.random.default_rng(0)`` by default.
    h : float
        Step of ``numerical_gradient`` (exercise 3.1, which this calls).
    tol : float
        Relative errors below ``tol`` are reported "ok".
    verbose : bool
        Print one line per gradient.

    Returns
    -------
    dict
        ``{"dx": error, "dweight": error, ...}``: the relative error
        (``rel_error``) of each gradient, ``inf`` when one is missing or has
        the wrong shape. Names are "d" + the forward's parameter names.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    >>> errors = gradient_check(conv2d_forward, conv2d_backward, (x, w, b, 1, 1))  # doctest: +SKIP
    dx       relative error 2.6e-08  ok
    dweight  relative error 2.2e-09  ok
    dbias    relative error 4.6e-09  ok
    """
    inputs = [a.astype(np.float64) if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating) else a
              for a in inputs]
    try:
        params = list(inspect.signature(forward).parameters)
    except (TypeError, ValueError):
        params = []

    result = forward(*inputs)
    out, cache = result[0], result[1]
    if dout is None:
        dout = (rng or np.random.default_rng(0)).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    # The i-th gradient belongs to the i-th argument that is an array (or None,
    # for an optional array left out, whose gradient is None too).
    slots = [i for i, a in enumerate(inputs) if a is None or isinstance(a, np.ndarray)]

    errors = {}
    for i, got in zip(slots, grads):
        x = inputs[i]
        if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
            continue
        name = "d" + params[i] if i < len(params) else f"d{i}"

        def f(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)[0]

        expected = numerical_gradient(f, x, dout, h)
        if got is None or np.shape(got) != expected.shape:
            errors[name] = float("inf")
            line = f"{name:<8} " + ("missing (backward returned None)" if got is None
                                    else f"has shape {np.shape(got)}, expected {expected.shape}")
        else:
            errors[name] = rel_error(got, expected)
            line = f"{name:<8} relative error {errors[name]:.1e}  {'ok' if errors[name] < tol else 'TOO LARGE'}"
        if verbose:
            print(line)
    return errors
