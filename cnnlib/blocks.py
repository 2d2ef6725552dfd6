"""The blocks of modern CNNs (chapter 11): global average pooling, depthwise
convolution, the residual block and the 1x1 convolution (exercises 11.1-11.8).

- Global average pooling replaces the flatten-and-linear head: each channel
  becomes one number, its mean over all positions.
- A depthwise convolution gives every channel its own kH x kW filter and never
  mixes channels; a 1x1 convolution after it mixes them. Together they are the
  depthwise-separable block of MobileNet.
- A residual block adds its input back to its branch's output, then applies a
  ReLU: ``out = relu(branch(x) + shortcut(x))``. In the backward pass the
  gradient reaches x along both paths, and the two contributions add.
- A 1x1 convolution is a linear layer applied at every pixel: one matrix
  product over the channels, no im2col. With stride 2 it is the projection on a
  ResNet shortcut that halves the size.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import (depthwise_cache, depthwise_shapes, global_pool_cache, pointwise_cache, pointwise_shapes,
                             residual_args, residual_cache)
from .core.validation import check_array, check_batch
from .exercises import exercise


@exercise
def global_avgpool_forward(x: np.ndarray):
    """Global average pooling: the mean of each channel over all its H x W positions.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float dtype

    Returns
    -------
    out : ndarray, shape (N, C), dtype of x
        ``out[n, c] = mean over i, j of x[n, c, i, j]``: PyTorch's
        ``F.adaptive_avg_pool2d(x, 1)`` followed by ``flatten(1)``.
    cache : tuple
        ``x.shape``, the four ints (N, C, H, W): all the backward needs.
    """
    check_array("global_avgpool_forward", "x", x, 4, "(N, C, H, W)", floating=True)
    check_batch("global_avgpool_forward", x)
    raise NotImplementedError("exercise 11.1 global_avgpool_forward (chapter 11): write it here")


@exercise
def global_avgpool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``global_avgpool_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(N, C, H, W)`` from ``global_avgpool_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), dtype of dout
        Every one of the H*W positions of channel c gets ``dout[n, c] / (H*W)``.
    """
    N, C, H, W = global_pool_cache("global_avgpool_backward", dout, cache)
    raise NotImplementedError("exercise 11.2 global_avgpool_backward (chapter 11): write it here")


@exercise
def depthwise_conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                             stride: int = 1, padding: int = 0):
    """Depthwise convolution: channel c is cross-correlated with its own filter ``weight[c, 0]``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float dtype
    weight : ndarray, shape (C, 1, kH, kW), dtype of x
        One filter per channel (PyTorch's ``Conv2d(C, C, k, groups=C)`` stores it so).
    bias : ndarray, shape (C,), or None
    stride, padding : int
        As for ``conv2d_forward``: zeros added on each side, windows every ``stride`` positions.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out), dtype of x
        ``out[n, c, i, j] = sum over u, v of x_pad[n, c, i*stride + u, j*stride + v] * weight[c, 0, u, v]
        + bias[c]``, with ``H_out = (H + 2*padding - kH) // stride + 1`` (likewise W_out).
        Channels never mix: that is the job of a 1x1 convolution after it.
    cache : tuple
        ``(x, weight, bias, stride, padding)``.
    """
    N, C, H, W, kH, kW, H_out, W_out = depthwise_shapes("depthwise_conv2d_forward", x, weight, bias, stride, padding)
    raise NotImplementedError("exercise 11.3 depthwise_conv2d_forward (chapter 11): write it here")


@exercise
def depthwise_conv2d_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``depthwise_conv2d_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    cache : tuple
        ``(x, weight, bias, stride, padding)`` from ``depthwise_conv2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dweight : ndarray, shape (C, 1, kH, kW)
        Summed over the batch and every output position, channel by channel.
    dbias : ndarray, shape (C,), or None when the forward had no bias
    """
    x, weight, bias, stride, padding = depthwise_cache("depthwise_conv2d_backward", dout, cache)
    raise NotImplementedError("exercise 11.4 depthwise_conv2d_backward (chapter 11): write it here")


@exercise
def residual_forward(x: np.ndarray, branch, shortcut=None):
    """A residual block's forward: ``out = relu(branch(x) + shortcut(x))``.

    Parameters
    ----------
    x : ndarray, float dtype
        The block's input (N, C, H, W), or any shape the branch accepts.
    branch : function
        ``branch(x) -> (y, branch_cache)``: the block's layers (conv, batch norm, ReLU,
        conv, batch norm in a ResNet); call it once.
    shortcut : function or None
        ``shortcut(x) -> (s, shortcut_cache)``, e.g. a 1x1 convolution when the branch
        changes the number of channels or the size; None is the identity ``s = x``
        (then the shortcut cache is None).

    Returns
    -------
    out : ndarray, the shape of y
        ``relu(y + s)``: the two paths join by an addition, then one ReLU.
    cache : tuple
        ``(branch_cache, shortcut_cache, out)``: what the two paths returned, and the
        output (its positive entries are where the ReLU let the gradient through).
    """
    residual_args("residual_forward", x, branch, shortcut)
    raise NotImplementedError("exercise 11.5 residual_forward (chapter 11): write it here")


@exercise
def residual_backward(dout: np.ndarray, cache: tuple, branch_backward, shortcut_backward=None) -> np.ndarray:
    """Gradient of ``residual_forward``: through the ReLU, then along both paths, summed at the fork.

    Parameters
    ----------
    dout : ndarray, the shape of the forward's output
    cache : tuple
        ``(branch_cache, shortcut_cache, out)`` from ``residual_forward``.
    branch_backward : function
        ``branch_backward(d, branch_cache) -> dx_branch``: the branch's backward (it keeps
        the gradients of its own parameters).
    shortcut_backward : function or None
        ``shortcut_backward(d, shortcut_cache) -> dx_shortcut``; None for the identity
        shortcut (its backward passes ``d`` through unchanged).

    Returns
    -------
    dx : ndarray, the shape of x
        x fed both paths, so its gradient is the sum of what comes back along each, both
        paths given the gradient that passed the ReLU at the join.
    """
    branch_cache, shortcut_cache, out = residual_cache("residual_backward", dout, cache, branch_backward,
                                                       shortcut_backward)
    raise NotImplementedError("exercise 11.6 residual_backward (chapter 11): write it here")


@exercise
def pointwise_conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1):
    """A 1x1 convolution: one linear map of the C_in channels, the same at every pixel.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W), float dtype
    weight : ndarray, shape (C_out, C_in, 1, 1), dtype of x
        As PyTorch's ``Conv2d(C_in, C_out, 1)`` stores it: ``weight[:, :, 0, 0]`` is the
        (C_out, C_in) matrix of ``linear_forward`` (chapter 05).
    bias : ndarray, shape (C_out,), or None
    stride : int
        Read every ``stride``-th pixel along H and W (a ResNet's projection shortcut uses 2).
        No padding: it would only add pixels that are ``bias`` alone.

    Returns
    -------
    out : ndarray, shape (N, C_out, H_out, W_out), dtype of x
        ``out[n, :, i, j] = weight[:, :, 0, 0] @ x[n, :, i*stride, j*stride] + bias``, with
        ``H_out = (H - 1) // stride + 1`` (likewise W_out): ``conv2d_forward(x, weight, bias,
        stride, 0)``, as one matrix product over the channels, without im2col.
    cache : tuple
        ``(x, weight, bias, stride)``: x itself, not a subsampled or reshaped copy.
    """
    N, C_in, H, W, C_out, H_out, W_out = pointwise_shapes("pointwise_conv2d_forward", x, weight, bias, stride)
    raise NotImplementedError("exercise 11.7 pointwise_conv2d_forward (chapter 11): write it here")


@exercise
def pointwise_conv2d_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``pointwise_conv2d_forward``: chapter 05's linear backward, at every pixel.

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, H_out, W_out)
    cache : tuple
        ``(x, weight, bias, stride)`` from ``pointwise_conv2d_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W), dtype of dout
        ``weight[:, :, 0, 0].T @ dout[n, :, i, j]`` at each pixel the forward read,
        ``(i*stride, j*stride)``; 0 at the pixels it skipped.
    dweight : ndarray, shape (C_out, C_in, 1, 1)
        Summed over the batch and every output position.
    dbias : ndarray, shape (C_out,), or None when the forward had no bias
    """
    x, weight, bias, stride = pointwise_cache("pointwise_conv2d_backward", dout, cache)
    raise NotImplementedError("exercise 11.8 pointwise_conv2d_backward (chapter 11): write it here")
