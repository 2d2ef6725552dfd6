"""Pooling (chapter 04): max and average pooling, forward and backward (exercises 4.3-4.6).

Layout and names as in PyTorch's ``max_pool2d`` / ``avg_pool2d``: x is
(N, C, H, W), each channel is pooled on its own over kH x kW windows that
start every (sH, sW) positions, and

    H_out = (H + 2*padding - kH) // sH + 1        (likewise W_out)

The stride defaults to the kernel size (non-overlapping windows). Padding is
at most half the kernel; max pooling pads with -inf (the border never wins),
average pooling with zeros that count in the mean (PyTorch's default
``count_include_pad=True``).

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import pool_cache
from .core.geometry import pool_params
from .exercises import exercise


@exercise
def maxpool2d_forward(x: np.ndarray, kernel_size, stride=None, padding: int = 0):
    """Max pooling: the largest value of every window, channel by channel.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float dtype
    kernel_size : int or (kH, kW)
    stride : int, (sH, sW) or None
        Step between windows. None (the default) means ``kernel_size``:
        non-overlapping windows, as in PyTorch's ``MaxPool2d``.
    padding : int
        Border added on each side of H and W, filled with -inf so that it
        never wins; at most half the kernel size.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out), dtype of x
        ``out[n, c, i, j] = max over u, v of x_pad[n, c, i*sH + u, j*sW + v]``
        with ``H_out = (H + 2*padding - kH) // sH + 1`` (likewise W_out).
    cache : tuple
        ``(x, (kH, kW), (sH, sW), padding, argmax)``: the kernel size and the
        stride as pairs (the stride resolved when it was None), and
        ``argmax``, an integer array of shape (N, C, H_out, W_out) saying
        where each window's maximum is, as the offset ``u*kW + v`` inside the
        window. On a tie it is the *first* maximum in row-major order (what
        ``np.argmax`` returns, and the element PyTorch picks), so the whole
        gradient goes to that one element.
    """
    kH, kW, sH, sW, padding, H_out, W_out = pool_params("maxpool2d_forward", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    raise NotImplementedError("exercise 4.3 maxpool2d_forward (chapter 04): write it here")


@exercise
def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``maxpool2d_forward``: each window routes its gradient to its maximum.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(x, (kH, kW), (sH, sW), padding, argmax)`` from ``maxpool2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout
        ``dout[n, c, i, j]`` goes to the one input that was the maximum of
        window (i, j) (offset ``argmax[n, c, i, j]`` in the window); every
        other input gets 0 from that window. When windows overlap (stride <
        kernel) an input can be the maximum of several windows: their
        gradients add up. The padding border is dropped.
    """
    x, (kH, kW), (sH, sW), padding, argmax = pool_cache("maxpool2d_backward", dout, cache, "maxpool2d_forward")
    N, C, H, W = x.shape
    H_out, W_out = argmax.shape[2:]
    raise NotImplementedError("exercise 4.4 maxpool2d_backward (chapter 04): write it here")


@exercise
def avgpool2d_forward(x: np.ndarray, kernel_size, stride=None, padding: int = 0):
    """Average pooling: the mean of every window, channel by channel.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float dtype
    kernel_size : int or (kH, kW)
    stride : int, (sH, sW) or None
        Step between windows. None (the default) means ``kernel_size``, as
        in PyTorch's ``AvgPool2d``.
    padding : int
        Zeros added on each side of H and W; at most half the kernel size.
        The zeros count in the mean (PyTorch's default
        ``count_include_pad=True``): every window is divided by kH*kW.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out), dtype of x
        ``out[n, c, i, j] = (sum over u, v of x_pad[n, c, i*sH + u, j*sW + v]) / (kH*kW)``
        with ``H_out = (H + 2*padding - kH) // sH + 1`` (likewise W_out).
    cache : tuple
        ``(x, (kH, kW), (sH, sW), padding)``: the kernel size and the stride
        as pairs (the stride resolved when it was None).
    """
    kH, kW, sH, sW, padding, H_out, W_out = pool_params("avgpool2d_forward", x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    raise NotImplementedError("exercise 4.5 avgpool2d_forward (chapter 04): write it here")


@exercise
def avgpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``avgpool2d_forward``: each window spreads its gradient evenly.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(x, (kH, kW), (sH, sW), padding)`` from ``avgpool2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout
        Every input of window (i, j), padding included, receives
        ``dout[n, c, i, j] / (kH*kW)``; when windows overlap (stride <
        kernel) the shares add up. The padding border is dropped.
    """
    x, (kH, kW), (sH, sW), padding = pool_cache("avgpool2d_backward", dout, cache, "avgpool2d_forward")
    N, C, H, W = x.shape
    H_out, W_out = dout.shape[2:]
    raise NotImplementedError("exercise 4.6 avgpool2d_backward (chapter 04): write it here")
