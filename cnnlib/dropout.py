"""Dropout: exercises of chapter 07.

*Inverted* dropout, as PyTorch does it: in training mode each unit is zeroed
with probability ``p`` and the kept ones are scaled by ``1 / (1 - p)``, so the
expected output equals the input and eval mode is the identity, with no
rescaling at test time. ``spatial_dropout_forward`` (PyTorch's ``Dropout2d``)
zeroes whole channels of (N, C, H, W) maps instead of single values.

Randomness is explicit: pass an ``np.random.Generator`` (``np.random.default_rng(0)``);
the same seed gives the same mask.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import dropout_args, dropout_cache
from .exercises import exercise


@exercise
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
    raise NotImplementedError("exercise 7.5 dropout_forward (chapter 07): write it here")


@exercise
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
    raise NotImplementedError("exercise 7.6 dropout_backward (chapter 07): write it here")


@exercise
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
    raise NotImplementedError("exercise 7.7 spatial_dropout_forward (chapter 07): write it here")
