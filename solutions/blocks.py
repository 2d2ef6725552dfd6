"""Reference solutions: the blocks of modern CNNs (chapter 11).

Global average pooling, depthwise convolution, the residual block's join
and fork, and the 1x1 convolution. The depthwise convolution loops over the
kH*kW kernel offsets only: each offset is one multiply-add over the whole
(N, C, H_out, W_out) batch. The 1x1 convolution is one GEMM over channels-last
rows, the same products as ``conv2d_forward`` / ``conv2d_backward`` make for a
1x1 kernel, so the two agree bit for bit.
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import (depthwise_cache, depthwise_shapes, global_pool_cache, pointwise_cache,
                                   pointwise_shapes, residual_args, residual_cache)
from cnnlib.core.validation import check_array, check_batch


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
    return x.mean(axis=(2, 3)), x.shape


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
    return np.broadcast_to((dout / (H * W))[:, :, None, None], (N, C, H, W)).copy()


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
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for u in range(kH):
        for v in range(kW):
            window = x_pad[:, :, u:u + stride * H_out:stride, v:v + stride * W_out:stride]  # (N, C, H_out, W_out)
            out += window * weight[:, 0, u, v, None, None]
    if bias is not None:
        out += bias[:, None, None]
    return out, (x, weight, bias, stride, padding)


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
    N, C, H, W = x.shape
    _, _, kH, kW = weight.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_pad = np.zeros(x_pad.shape, dtype=dout.dtype)
    dweight = np.zeros(weight.shape, dtype=dout.dtype)
    for u in range(kH):
        for v in range(kW):
            rows, cols = slice(u, u + stride * H_out, stride), slice(v, v + stride * W_out, stride)
            dweight[:, 0, u, v] = (dout * x_pad[:, :, rows, cols]).sum(axis=(0, 2, 3))
            dx_pad[:, :, rows, cols] += dout * weight[:, 0, u, v, None, None]  # windows overlap: add
    dbias = None if bias is None else dout.sum(axis=(0, 2, 3))
    return dx_pad[:, :, padding:padding + H, padding:padding + W], dweight, dbias


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
    y, branch_cache = branch(x)
    s, shortcut_cache = (x, None) if shortcut is None else shortcut(x)
    out = np.maximum(y + s, 0)
    return out, (branch_cache, shortcut_cache, out)


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
    d = dout * (out > 0)  # the ReLU at the join
    d_shortcut = d if shortcut_backward is None else shortcut_backward(d, shortcut_cache)
    return branch_backward(d, branch_cache) + d_shortcut


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
    rows = x[:, :, ::stride, ::stride].transpose(0, 2, 3, 1).reshape(-1, C_in)  # (N*H_out*W_out, C_in): a pixel a row
    out = rows @ weight[:, :, 0, 0].T  # (N*H_out*W_out, C_out): linear_forward, every pixel a sample
    if bias is not None:
        out += bias
    out = out.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2)  # (N, C_out, H_out, W_out) view
    return out, (x, weight, bias, stride)


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
    N, C_in, H, W = x.shape
    _, C_out, H_out, W_out = dout.shape
    rows = x[:, :, ::stride, ::stride].transpose(0, 2, 3, 1).reshape(-1, C_in)  # (N*H_out*W_out, C_in), as forward
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (N*H_out*W_out, C_out), free if channels-last
    # dweight = dout_rows.T @ rows, computed as conv2d_backward does, (rows.T @ dout_rows).T: then a 1x1
    # Conv2d and this function give the same numbers to the last bit
    dweight = np.ascontiguousarray((rows.T @ dout_rows).T)[:, :, None, None]  # (C_out, C_in, 1, 1)
    dbias = None if bias is None else np.ones(len(dout_rows), dout.dtype) @ dout_rows  # (C_out,)
    dx = np.zeros((N, H, W, C_in), dtype=dout.dtype)  # channels-last; the pixels the forward skipped stay 0
    dx[:, ::stride, ::stride] = (dout_rows @ weight[:, :, 0, 0]).reshape(N, H_out, W_out, C_in)
    return dx.transpose(0, 3, 1, 2), dweight, dbias  # dx (N, C_in, H, W) view
