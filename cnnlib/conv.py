"""Convolution: exercises of chapters 01 (by hand), 02 (fast) and 03 (backward).

Layout as in PyTorch: x is (N, C_in, H, W), weight is (C_out, C_in, kH, kW),
and ``H_out = (H + 2*padding - kH) // stride + 1`` (likewise W_out).

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import conv_cache
from .core.geometry import col2im_shapes, conv_shapes, window_shapes
from .core.validation import check_int
from .exercises import exercise


@exercise
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's output along one axis.

    Parameters
    ----------
    size : int
        Input length (H or W).
    kernel_size : int
        Kernel length (kH or kW).
    stride : int
        Step between windows, >= 1.
    padding : int
        Zeros added on *each* side, >= 0.

    Returns
    -------
    int
        ``(size + 2*padding - kernel_size) // stride + 1``.

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input, stride < 1 or padding < 0.

    Examples
    --------
    >>> conv_output_size(28, 3, stride=1, padding=1)
    28
    """
    size = check_int("conv_output_size", "size", size, 1)
    kernel_size = check_int("conv_output_size", "kernel_size", kernel_size, 1)
    stride = check_int("conv_output_size", "stride", stride, 1)
    padding = check_int("conv_output_size", "padding", padding, 0)
    raise NotImplementedError("exercise 1.1 conv_output_size (chapter 01): write it here")


@exercise
def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                 stride: int = 1, padding: int = 0) -> np.ndarray:
    """2-D cross-correlation (what deep learning calls convolution), with loops.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, kH, kW)
    bias : ndarray, shape (C_out,), or None
    stride : int
    padding : int
        Zeros added on each side of H and W.

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)
        ``out[n, o, i, j] = bias[o] + sum over c, u, v of
        weight[o, c, u, v] * x_pad[n, c, i*stride + u, j*stride + v]``,
        with ``H_out = (H + 2*padding - kH) // stride + 1`` (likewise W_out).
        Same dtype as ``x`` (float32 or float64); ``weight`` and ``bias`` must
        have that dtype too, or a TypeError says so.
    """
    N, C_in, H, W, C_out, kH, kW, H_out, W_out = conv_shapes("conv2d_naive", x, weight, bias, stride, padding)
    raise NotImplementedError("exercise 1.2 conv2d_naive (chapter 01): write it here")


@exercise
def im2col(x: np.ndarray, kernel_size, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Unfold every receptive field of ``x`` into a row.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    kernel_size : int or (kH, kW)
    stride : int
    padding : int

    Returns
    -------
    cols : ndarray, shape (N, H_out, W_out, kH*kW*C_in)
        ``cols[n, i, j]`` is the window ``x_pad[n, :, i*stride:i*stride+kH,
        j*stride:j*stride+kW]`` flattened channels-last, in (kH, kW, C_in)
        order (each pixel's C_in channels side by side), the order of
        ``w_rows = weight.transpose(0, 2, 3, 1).reshape(C_out, -1)``, so
        ``cols @ w_rows.T`` is the convolution. Same dtype as ``x``.
    """
    N, C_in, H, W, kH, kW, H_out, W_out = window_shapes("im2col", x, kernel_size, stride, padding)
    raise NotImplementedError("exercise 2.1 im2col (chapter 02): write it here")


@exercise
def col2im(cols: np.ndarray, x_shape: tuple, kernel_size, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Fold rows back into an image, summing where windows overlap (the adjoint of im2col).

    Parameters
    ----------
    cols : ndarray, shape (N, H_out, W_out, kH*kW*C_in)
        In the layout ``im2col`` returns.
    x_shape : tuple (N, C_in, H, W)
        Shape of the image the rows came from (without padding).
    kernel_size : int or (kH, kW)
    stride : int
    padding : int

    Returns
    -------
    x : ndarray, shape (N, C_in, H, W)
        ``x[n, c, h, w]`` is the sum of every entry of ``cols`` that ``im2col``
        copied from position (h, w) of channel c; the padding border is dropped.
        Same dtype as ``cols``.
    """
    N, C_in, H, W, kH, kW, H_out, W_out = col2im_shapes("col2im", cols, x_shape, kernel_size, stride, padding)
    raise NotImplementedError("exercise 2.2 col2im (chapter 02): write it here")


@exercise
def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                   stride: int = 1, padding: int = 0):
    """Convolution as one matrix multiplication of im2col rows with the flattened kernels.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    weight : ndarray, shape (C_out, C_in, kH, kW)
    bias : ndarray, shape (C_out,), or None
    stride : int
    padding : int

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out)
        Equal to ``conv2d_naive(x, weight, bias, stride, padding)``, same dtype as x
        (``weight`` and ``bias`` must have it too).
    cache : tuple
        ``(x, weight, bias, stride, padding, cols)`` with ``cols = im2col(x,
        (kH, kW), stride, padding)`` of shape (N, H_out, W_out, kH*kW*C_in).
        ``conv2d_backward`` relies on exactly this.
    """
    N, C_in, H, W, C_out, kH, kW, H_out, W_out = conv_shapes("conv2d_forward", x, weight, bias, stride, padding)
    raise NotImplementedError("exercise 2.3 conv2d_forward (chapter 02): write it here")


@exercise
def conv2d_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``conv2d_forward`` for any stride and padding.

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(x, weight, bias, stride, padding, cols)`` from ``conv2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dweight : ndarray, shape (C_out, C_in, kH, kW)
    dbias : ndarray, shape (C_out,), or None when the forward had no bias
    """
    x, weight, bias, stride, padding, cols = conv_cache("conv2d_backward", dout, cache)
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = weight.shape
    _, H_out, W_out, K = cols.shape
    raise NotImplementedError("exercise 3.2 conv2d_backward (chapter 03): write it here")
