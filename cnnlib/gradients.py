"""``gradient_check``: every gradient of a forward/backward pair against numerical ones (chapter 03).

Provided and complete. It calls ``numerical_gradient`` (exercise 3.1) through
``cnnlib.ops``, so it runs your finite differences once you have written them
(and the reference's until then), and compares with ``rel_error``.
"""
from __future__ import annotations

import inspect

import numpy as np

from . import ops
from .core.numeric import rel_error


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

        expected = ops.numerical_gradient(f, x, dout, h)
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
