"""The fully connected (linear) layer: exercises of chapter 05.

Layout as in PyTorch's ``nn.Linear``: x is (N, in_features), weight is
(out_features, in_features), and ``out = x @ weight.T + bias``.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import linear_cache, linear_shapes
from .exercises import exercise


@exercise
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
    raise NotImplementedError("exercise 5.1 linear_forward (chapter 05): write it here")


@exercise
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
    raise NotImplementedError("exercise 5.2 linear_backward (chapter 05): write it here")
