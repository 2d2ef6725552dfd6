"""Reference solution: initialization (chapter 10)."""
from __future__ import annotations

import math

import numpy as np

from cnnlib.core.contracts import init_args, kaiming_args, weight_shape
from cnnlib.core.validation import check_positive


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
    receptive = math.prod(shape[2:])  # 1 for a linear weight
    return shape[1] * receptive, shape[0] * receptive


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
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    slope = {"linear": 1.0, "relu": 0.0, "leaky_relu": float(a)}[nonlinearity]
    gain = 1.0 if nonlinearity == "linear" else math.sqrt(2.0 / (1.0 + slope ** 2))
    return rng.normal(0.0, gain / math.sqrt(fan), size=shape).astype(dtype)


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
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))  # a uniform on [-b, b] has variance b**2 / 3
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
