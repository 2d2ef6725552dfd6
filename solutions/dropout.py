"""Reference solutions: dropout (chapter 07).

Masks are drawn as float32 uniforms (half the memory of float64) and stored
in x's dtype, so a float32 network stays float32. A 4-D x is treated as what
``conv2d_forward`` returns, an NCHW view of channels-last memory: its mask is
drawn channels-last too, so every product stays channels-last.
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import dropout_args, dropout_cache


def dropout_forward(x: np.ndarray, p: float, training: bool, rng: np.random.Generator):
    """Inverted dropout: zero each value with probability p, scale the rest by 1 / (1 - p).

    Parameters
    ----------
    x : ndarray, any shape, e.g. (N, D) or (N, C, H, W)
    p : float
        Probability of dropping a unit, in [0, 1).
    training : bool
        False (eval mode): the identity, no rescaling.
    rng : np.random.Generator
        Source of the mask: the same seed gives the same mask.

    Returns
    -------
    out : ndarray, same shape and dtype as x
        ``x * mask``: each value is either 0 or ``x / (1 - p)``, so that the
        expected value of ``out`` is ``x``. A copy of ``x`` when ``training``
        is False or ``p == 0``.
    cache : tuple
        ``(mask, p, training)``: ``mask`` of x's shape and dtype holding 0 for
        dropped units and ``1 / (1 - p)`` for kept ones, or ``None`` when the
        forward was the identity. ``dropout_backward`` relies on exactly this.

    Raises
    ------
    ValueError
        If p is outside [0, 1).
    TypeError
        If rng is not a np.random.Generator.
    """
    p = dropout_args("dropout_forward", x, p, training, rng)
    if not training or p == 0:
        return x.copy(order="K"), (None, p, training)  # order="K" keeps a channels-last layout
    if x.ndim == 4:
        N, C, H, W = x.shape
        keep = (rng.random((N, H, W, C), dtype=np.float32) >= p).transpose(0, 3, 1, 2)  # (N, C, H, W) view
    else:
        keep = rng.random(x.shape, dtype=np.float32) >= p
    mask = keep * x.dtype.type(1 / (1 - p))  # 0 or 1/(1-p), in x's dtype
    return x * mask, (mask, p, training)


def dropout_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``dropout_forward`` (and of ``spatial_dropout_forward``).

    Parameters
    ----------
    dout : ndarray, the shape of the forward's output
    cache : tuple
        ``(mask, p, training)`` from ``dropout_forward`` or
        ``spatial_dropout_forward``; ``mask`` broadcasts against ``dout``
        (it is (N, C, 1, 1) for spatial dropout), or is None.

    Returns
    -------
    dx : ndarray, same shape and dtype as dout
        ``dout * mask``: the gradient flows through kept units, scaled as they
        were, and not through dropped ones. A copy of ``dout`` when the mask is
        None (eval mode or p == 0).
    """
    mask, p, training = dropout_cache("dropout_backward", dout, cache)
    if mask is None:
        return dout.copy(order="K")
    return dout * mask


def spatial_dropout_forward(x: np.ndarray, p: float, training: bool, rng: np.random.Generator):
    """Dropout of whole channels (PyTorch's ``Dropout2d``): one coin per (sample, channel).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    p : float
        Probability of dropping a channel, in [0, 1).
    training : bool
        False (eval mode): the identity.
    rng : np.random.Generator

    Returns
    -------
    out : ndarray, shape (N, C, H, W), same dtype as x
        ``out[n, c]`` is either all zeros or ``x[n, c] / (1 - p)``. A copy of
        ``x`` when ``training`` is False or ``p == 0``.
    cache : tuple
        ``(mask, p, training)`` as in ``dropout_forward``, with ``mask`` of
        shape (N, C, 1, 1) (or None), so ``dropout_backward`` works unchanged.

    Raises
    ------
    ValueError
        If x is not 4-D or p is outside [0, 1).
    TypeError
        If rng is not a np.random.Generator.
    """
    p = dropout_args("spatial_dropout_forward", x, p, training, rng, ndim=4)
    N, C, H, W = x.shape
    if not training or p == 0:
        return x.copy(order="K"), (None, p, training)
    keep = rng.random((N, C, 1, 1), dtype=np.float32) >= p  # one coin per (sample, channel)
    mask = keep * x.dtype.type(1 / (1 - p))  # (N, C, 1, 1)
    return x * mask, (mask, p, training)
