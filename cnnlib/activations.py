"""Activation functions (chapter 04): ReLU, exercises 4.1 and 4.2.

Every activation is a pair, like the other layers of the course:
``*_forward(x) -> (out, cache)`` and ``*_backward(dout, cache) -> dx``. They
work elementwise on arrays of any shape and keep the dtype (float32 stays
float32) and the memory layout of ``x`` (an NCHW view of channels-last memory,
as ``conv2d_forward`` returns, gives an output laid out the same way).

Its relatives (leaky ReLU, sigmoid, tanh) are provided in ``cnnlib.nonlinearities``.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import check_dout
from .core.validation import check_array, check_cache
from .exercises import exercise


@exercise
def relu_forward(x: np.ndarray):
    """Rectified linear unit, elementwise: ``out = max(x, 0)``.

    Parameters
    ----------
    x : ndarray, any shape, float dtype
        For example conv features, shape (N, C, H, W).

    Returns
    -------
    out : ndarray, shape and dtype of x
        ``x`` where ``x > 0``, else 0. ``x`` is not modified.
    cache : tuple
        ``(out,)``: the output. ``relu_backward`` needs only *where* the
        input was positive, and ``out > 0`` exactly where ``x > 0`` (so a
        cache ``(x,)`` works with it too).
    """
    check_array("relu_forward", "x", x, floating=True)
    raise NotImplementedError("exercise 4.1 relu_forward (chapter 04): write it here")


@exercise
def relu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``relu_forward``.

    Parameters
    ----------
    dout : ndarray, shape of the forward's output
        Gradient of the loss with respect to ``out``.
    cache : tuple
        ``(out,)`` from ``relu_forward``.

    Returns
    -------
    dx : ndarray, shape of dout
        ``dout`` where the input was positive, else 0. At exactly ``x == 0``
        the gradient is 0, as in PyTorch.
    """
    (out,) = check_cache("relu_backward", cache, 1, "relu_forward")
    check_dout("relu_backward", dout, out.shape, out.dtype)
    raise NotImplementedError("exercise 4.2 relu_backward (chapter 04): write it here")


# ----------------------------------------------------------------------------
# Provided: ReLU's relatives, complete (read them, they are short).

