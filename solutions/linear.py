"""Reference solutions: the fully connected layer (chapter 05).

Two matrix products forward and three backward; ``dbias`` as ``ones @ dout``
(one GEMV, faster than ``dout.sum(axis=0)`` on this kind of machine).
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import linear_cache, linear_shapes


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None):
    """Fully connected layer, ``out = x @ weight.T + bias`` (PyTorch's ``F.linear``).

    Parameters
    ----------
    x : ndarray, shape (N, in_features)
    weight : ndarray, shape (out_features, in_features)
    bias : ndarray, shape (out_features,), or None

    Returns
    -------
    out : ndarray, shape (N, out_features)
        ``out[n, o] = bias[o] + sum over i of weight[o, i] * x[n, i]``,
        same dtype as x.
    cache : tuple
        ``(x, weight, bias)``, the inputs themselves (no copies).
        ``linear_backward`` relies on exactly this.
    """
    N, in_features, out_features = linear_shapes("linear_forward", x, weight, bias)
    out = x @ weight.T  # (N, out_features), a new array
    if bias is not None:
        out += bias  # broadcasts over the N rows
    return out, (x, weight, bias)


def linear_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``linear_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, out_features)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(x, weight, bias)`` from ``linear_forward``.

    Returns
    -------
    dx : ndarray, shape (N, in_features)
    dweight : ndarray, shape (out_features, in_features)
    dbias : ndarray, shape (out_features,), or None when the forward had no bias
    """
    x, weight, bias = linear_cache("linear_backward", dout, cache)
    N, in_features = x.shape
    out_features = weight.shape[0]
    dx = dout @ weight  # (N, in_features)
    dweight = dout.T @ x  # (out_features, in_features): summed over the batch by the product
    dbias = None if bias is None else np.ones(N, dtype=dout.dtype) @ dout  # (out_features,)
    return dx, dweight, dbias
