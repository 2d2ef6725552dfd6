"""Activation functions that are not exercises (chapter 04): leaky ReLU, sigmoid, tanh.

Provided and complete; the layers ``LeakyReLU``, ``Sigmoid`` and ``Tanh`` call
them. Each is a pair like ReLU (exercises 4.1 and 4.2 in ``activations.py``):
``*_forward(x) -> (out, cache)`` and ``*_backward(dout, cache) -> dx``,
elementwise on arrays of any shape, keeping the dtype and memory layout of ``x``.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import check_dout
from .core.validation import check_array, check_cache, require


def leaky_relu_forward(x: np.ndarray, negative_slope: float = 0.01):
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    x : ndarray, any shape, float dtype
    negative_slope : float
        Slope for negative inputs (PyTorch's default 0.01).

    Returns
    -------
    out : ndarray, shape and dtype of x
    cache : tuple
        ``(x, negative_slope)``.
    """
    check_array("leaky_relu_forward", "x", x, floating=True)
    require(isinstance(negative_slope, (int, float, np.floating, np.integer))
            and not isinstance(negative_slope, bool), "leaky_relu_forward",
            "negative_slope must be a real number", f"negative_slope={negative_slope!r}", TypeError)
    negative_slope = float(negative_slope)  # a Python float keeps x's dtype (float32 stays float32)
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)


def leaky_relu_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``leaky_relu_forward``: ``dout`` where ``x > 0``, else ``negative_slope * dout``.

    Parameters
    ----------
    dout : ndarray, shape of x
    cache : tuple
        ``(x, negative_slope)`` from ``leaky_relu_forward``.

    Returns
    -------
    dx : ndarray, shape of x
    """
    x, negative_slope = check_cache("leaky_relu_backward", cache, 2, "leaky_relu_forward")
    check_dout("leaky_relu_backward", dout, x.shape)
    return np.where(x > 0, dout, negative_slope * dout)  # at x == 0 the slope side, as PyTorch


def sigmoid_forward(x: np.ndarray):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    Parameters
    ----------
    x : ndarray, any shape, float dtype

    Returns
    -------
    out : ndarray, shape and dtype of x, values in [0, 1]
    cache : tuple
        ``(out,)``: the derivative is ``out * (1 - out)``.
    """
    check_array("sigmoid_forward", "x", x, floating=True)
    # exp(-|x|) lies in (0, 1], so it never overflows; for x < 0 use the
    # equivalent form exp(x) / (1 + exp(x)).
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, (out,)


def sigmoid_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``sigmoid_forward``: ``dout * out * (1 - out)``.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : tuple
        ``(out,)`` from ``sigmoid_forward``.

    Returns
    -------
    dx : ndarray, shape of dout
    """
    (out,) = check_cache("sigmoid_backward", cache, 1, "sigmoid_forward")
    check_dout("sigmoid_backward", dout, out.shape)
    return dout * out * (1 - out)


def tanh_forward(x: np.ndarray):
    """Hyperbolic tangent, elementwise.

    Parameters
    ----------
    x : ndarray, any shape, float dtype

    Returns
    -------
    out : ndarray, shape and dtype of x, values in [-1, 1]
    cache : tuple
        ``(out,)``: the derivative is ``1 - out**2``.
    """
    check_array("tanh_forward", "x", x, floating=True)
    out = np.tanh(x)
    return out, (out,)


def tanh_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``tanh_forward``: ``dout * (1 - out**2)``.

    Parameters
    ----------
    dout : ndarray, shape of the output
    cache : tuple
        ``(out,)`` from ``tanh_forward``.

    Returns
    -------
    dx : ndarray, shape of dout
    """
    (out,) = check_cache("tanh_backward", cache, 1, "tanh_forward")
    check_dout("tanh_backward", dout, out.shape)
    return dout * (1 - out * out)

