"""Sliding windows: the one output-size formula, and the checks of window arguments.

Convolution, pooling and the layers that call them all size their output
with ``output_size``:

    H_out = (H + 2*padding - kH) // stride + 1        (likewise W_out)

Exercise 1.1 asks you to write this formula yourself (``conv_output_size``);
the code you do not edit uses this copy, so a slip in yours breaks only
exercise 1.1.
"""
from __future__ import annotations

import numpy as np

from .validation import check_array, check_batch, check_bias, check_int, check_pair, check_same_dtype, require


def output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """Length of a sliding-window output along one axis: ``(size + 2*padding - kernel_size) // stride + 1``."""
    return (size + 2 * padding - kernel_size) // stride + 1


def window_output(func: str, x_shape: tuple, kernel: tuple, stride: tuple, padding: int) -> tuple[int, int]:
    """``(H_out, W_out)`` of (kH, kW) windows every (sH, sW) positions over ``x_shape`` (N, C, H, W).

    Raises ValueError, naming ``func``, when a window does not fit in the padded input.
    """
    (kH, kW), (sH, sW), (H, W) = kernel, stride, x_shape[2:]
    require(kH <= H + 2 * padding and kW <= W + 2 * padding, func,
            "the kernel must fit in the padded input (kH <= H + 2*padding, kW <= W + 2*padding)",
            f"x.shape={tuple(x_shape)}, kernel_size={(kH, kW)}, padding={padding}")
    return output_size(H, kH, sH, padding), output_size(W, kW, sW, padding)


def window_shapes(func: str, x, kernel_size, stride, padding):
    """Validate convolution-window arguments; return (N, C, H, W, kH, kW, H_out, W_out)."""
    check_array(func, "x", x, 4, "(N, C, H, W)", floating=True)
    check_batch(func, x)
    kH, kW = check_pair(func, "kernel_size", kernel_size, 1)
    stride = check_int(func, "stride", stride, 1)
    padding = check_int(func, "padding", padding, 0)
    H_out, W_out = window_output(func, x.shape, (kH, kW), (stride, stride), padding)
    return (*x.shape, kH, kW, H_out, W_out)


def col2im_shapes(func: str, cols, x_shape, kernel_size, stride, padding):
    """Validate col2im's arguments; return (N, C_in, H, W, kH, kW, H_out, W_out) of ``x_shape``."""
    require(isinstance(x_shape, (tuple, list)) and len(x_shape) == 4 and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in x_shape), func,
        "x_shape must be 4 positive ints (N, C_in, H, W)", f"x_shape={x_shape!r}", TypeError)
    check_array(func, "cols", cols, 4, "(N, H_out, W_out, kH*kW*C_in)", floating=True)
    kH, kW = check_pair(func, "kernel_size", kernel_size, 1)
    stride = check_int(func, "stride", stride, 1)
    padding = check_int(func, "padding", padding, 0)
    N, C_in, H, W = (int(n) for n in x_shape)
    H_out, W_out = window_output(func, (N, C_in, H, W), (kH, kW), (stride, stride), padding)
    require(cols.shape == (N, H_out, W_out, kH * kW * C_in), func,
            "cols must have shape (N, H_out, W_out, kH*kW*C_in) for x_shape and kernel_size",
            f"cols.shape={cols.shape}, expected {(N, H_out, W_out, kH * kW * C_in)}")
    return N, C_in, H, W, kH, kW, H_out, W_out


def conv_shapes(func: str, x, weight, bias, stride, padding):
    """Validate convolution arguments; return (N, C_in, H, W, C_out, kH, kW, H_out, W_out)."""
    check_array(func, "x", x, 4, "(N, C_in, H, W)", floating=True)
    check_array(func, "weight", weight, 4, "(C_out, C_in, kH, kW)")
    check_same_dtype(func, "weight", weight, x)
    C_out, C_in, kH, kW = weight.shape
    require(x.shape[1] == C_in, func, "x and weight must have the same number of input channels "
            "(x.shape[1] == weight.shape[1])", f"x.shape={x.shape}, weight.shape={weight.shape}")
    check_bias(func, bias, x, weight, "C_out")
    N, _, H, W, kH, kW, H_out, W_out = window_shapes(func, x, (kH, kW), stride, padding)
    return N, C_in, H, W, C_out, kH, kW, H_out, W_out


def pool_arguments(func: str, kernel_size, stride, padding) -> tuple[tuple, tuple, int]:
    """Normalise pooling arguments once: ``((kH, kW), (sH, sW), padding)``.

    ``stride=None`` becomes the kernel size, as in PyTorch; ``kernel_size`` and
    ``stride`` may be ints or pairs; padding is at most half the kernel.
    """
    kH, kW = check_pair(func, "kernel_size", kernel_size, 1)
    sH, sW = (kH, kW) if stride is None else check_pair(func, "stride", stride, 1)
    padding = check_int(func, "padding", padding, 0)
    require(2 * padding <= min(kH, kW), func, "padding must be at most half the kernel size (as in PyTorch)",
            f"padding={padding}, kernel_size={(kH, kW)}")
    return (kH, kW), (sH, sW), padding


def pool_params(func: str, x, kernel_size, stride, padding):
    """Validate pooling arguments; return (kH, kW, sH, sW, padding, H_out, W_out)."""
    check_array(func, "x", x, 4, "(N, C, H, W)", floating=True)
    check_batch(func, x)
    kernel, strides, padding = pool_arguments(func, kernel_size, stride, padding)
    return (*kernel, *strides, padding, *window_output(func, x.shape, kernel, strides, padding))
