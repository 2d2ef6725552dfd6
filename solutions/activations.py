"""Reference solutions: ReLU (chapter 04).

``np.maximum(x, 0)`` allocates the output once, in the memory layout of ``x``
(an NCHW view of channels-last memory stays one), and keeps float32 float32
(the Python 0 takes x's dtype). The cache is the output itself: no extra
memory, and ``out > 0`` is exactly where ``x > 0``.
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import check_dout
from cnnlib.core.validation import check_array, check_cache


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
    out = np.maximum(x, 0)
    return out, (out,)


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
    return dout * (out > 0)  # multiplying by a bool mask keeps dout's dtype
