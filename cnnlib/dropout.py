"""Dropout: exercises of chapter 07.

*Inverted* dropout, as PyTorch does it: in training mode each unit is zeroed
with probability ``p`` and the kept ones are scaled by ``1 / (1 - p)``, so the
expected output equals the input and eval mode is the identity, with no
rescaling at test time. ``spatial_dropout_forward`` (PyTorch's ``Dropout2d``)
zeroes whole channels of (N, C, H, W) maps instead of single values.

Randomness is explicit: pass an ``np.random.Generator`` (``np.random.default_rng(0)``);
the same seed gives the same mask.

Each exercise function below: replace the ``raise NotImplementedError`` line
with your code, keeping the lines above it.
"""
from __future__ import annotations

import numpy as np

from .exercises import exercise
from .validation import check_array, check_cache, require


def dropout_args(func: str, x, p, training, rng, ndim: int | None = None) -> float:
    """Validate the arguments of a dropout forward; return ``p`` as a float."""
    check_array(func, "x", x, ndim, "(N, C, H, W)" if ndim == 4 else "", floating=True)
    require(isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool), func,
            "p must be a number", f"p={p!r}", TypeError)
    require(0 <= p < 1, func, "p (the probability of dropping a unit) must be in [0, 1)", f"p={p!r}")
    require(isinstance(training, (bool, np.bool_)), func, "training must be True or False",
            f"training={training!r}", TypeError)
    require(isinstance(rng, np.random.Generator), func,
            "rng must be a np.random.Generator, e.g. np.random.default_rng(0)",
            f"rng of type {type(rng).__name__}", TypeError)
    return float(p)


def dropout_cache(func: str, dout, cache) -> tuple:
    """Validate a dropout backward's arguments; return the cache ``(mask, p, training)``."""
    mask, p, training = check_cache(func, cache, 3, "dropout_forward or spatial_dropout_forward")
    check_array(func, "dout", dout)
    fits = isinstance(mask, np.ndarray) and mask.ndim == dout.ndim and all(
        m in (1, d) for m, d in zip(mask.shape, dout.shape))
    require(mask is None or fits, func,
            "cache[0] must be the mask (broadcastable to dout) or None: pass the cache of dropout_forward",
            f"cache[0] of type {type(mask).__name__}" +
            (f" with shape {mask.shape}, dout.shape={dout.shape}" if isinstance(mask, np.ndarray) else ""))
    return mask, p, training


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
