"""Initialization (chapter 10): exercises 10.1 to 10.3.

How large should a network's initial weights be? Too small and the signal
shrinks layer after layer until nothing reaches the loss; too large and it
grows until it overflows. Chapter 10 follows the variance of the activations
through a linear layer and a ReLU, and the answer is a standard deviation
that depends on the layer's *fans*: He (Kaiming) initialization for ReLU
networks, Glorot (Xavier) for networks that are linear around 0. Both match
``torch.nn.init``.

Randomness is explicit: every initializer draws from the ``np.random.Generator``
it is given, so the same seed gives the same weights.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import math  # noqa: F401 (for you: math.sqrt, math.prod)

import numpy as np

from .core.contracts import init_args, kaiming_args, weight_shape
from .core.validation import check_positive
from .exercises import exercise


@exercise
def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of this shape, counted as ``torch.nn.init`` counts them.

    ``fan_in`` is how many inputs each output value is a weighted sum of;
    ``fan_out`` is how many output values each input value feeds, with each
    kernel position of a convolution counted once (PyTorch's convention: the
    input's spatial size does not enter).

    Parameters
    ----------
    shape : tuple of ints, at least 2 axes
        ``(out_features, in_features)`` of a linear weight, or
        ``(C_out, C_in, kH, kW)`` of a convolution weight (any number of
        trailing kernel axes).

    Returns
    -------
    (fan_in, fan_out) : tuple of two ints
    """
    shape = weight_shape("fan_in_and_fan_out", shape)
    raise NotImplementedError("exercise 10.1 fan_in_and_fan_out (chapter 10): write it here")


@exercise
def kaiming_normal(shape, rng: np.random.Generator, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", dtype=np.float32) -> np.ndarray:
    """He (Kaiming) initialization: normal with mean 0 and ``std = gain / sqrt(fan)``.

    As ``torch.nn.init.kaiming_normal_``: ``fan`` is ``fan_in`` (exercise 10.1)
    with ``mode="fan_in"``, which keeps the variance of the activations constant
    in the forward pass, or ``fan_out``, which keeps the variance of the
    gradients constant in the backward pass. ``gain`` makes up for the variance
    the nonlinearity after the layer removes; chapter 10 derives it for
    ``"relu"``, ``"leaky_relu"`` (negative slope ``a``; with ``a=0`` it is
    ReLU) and ``"linear"`` (no nonlinearity: gain 1).

    Parameters
    ----------
    shape : tuple of ints, at least 2 axes, e.g. (C_out, C_in, kH, kW)
    rng : np.random.Generator
        The only source of randomness: the same seed gives the same weights.
    a : float >= 0
        Negative slope of the leaky ReLU (used only for "leaky_relu").
    mode : "fan_in" or "fan_out"
    nonlinearity : "relu", "leaky_relu" or "linear"
    dtype : floating dtype of the result

    Returns
    -------
    weight : ndarray of ``shape`` and ``dtype``
    """
    shape, dtype = init_args("kaiming_normal", shape, rng, dtype)
    kaiming_args("kaiming_normal", a, mode, nonlinearity)
    raise NotImplementedError("exercise 10.2 kaiming_normal (chapter 10): write it here")


@exercise
def xavier_uniform(shape, rng: np.random.Generator, gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    """Glorot (Xavier) initialization: uniform on ``[-bound, bound]``, as ``torch.nn.init.xavier_uniform_``.

    The variance is ``gain**2 * 2 / (fan_in + fan_out)``: a compromise between
    keeping the forward variance (``1 / fan_in``) and the backward variance
    (``1 / fan_out``) constant, for a nonlinearity that is linear around 0
    (tanh, or none). ``bound`` is what gives a uniform distribution that
    variance.

    Parameters
    ----------
    shape : tuple of ints, at least 2 axes, e.g. (out_features, in_features)
    rng : np.random.Generator
        The only source of randomness: the same seed gives the same weights.
    gain : float > 0
        Scales the standard deviation (``torch.nn.init.calculate_gain``).
    dtype : floating dtype of the result

    Returns
    -------
    weight : ndarray of ``shape`` and ``dtype``
    """
    shape, dtype = init_args("xavier_uniform", shape, rng, dtype)
    gain = check_positive("xavier_uniform", "gain", gain)
    raise NotImplementedError("exercise 10.3 xavier_uniform (chapter 10): write it here")
