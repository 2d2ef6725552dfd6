"""Reference solutions: max and average pooling (chapter 04).

Everything works channels-last inside: ``x.transpose(0, 2, 3, 1)`` is
(N, H, W, C), free when x is the NCHW view of channels-last memory that
``conv2d_forward`` and ``relu_forward`` return, and the results are handed
back as NCHW views of channels-last memory too.

There is no loop over images or windows. For each kernel offset (u, v) the
inputs at that offset of *every* window form one strided view,
``x_pad[:, u::sH, v::sW]`` of shape (N, H_out, W_out, C), so a forward pass is
kH*kW elementwise operations on whole views (the views a reshape to
(N, H_out, kH, W_out, kW, C) would give, but valid for any stride, padding
and layout, without a copy). The backward passes have a fast path when the
windows tile the input exactly (stride == kernel, no padding, H and W
divisible): dx is built in one broadcast expression in the
(N, H_out, kH, W_out, kW, C) layout; otherwise one ``+=`` per kernel offset
adds the gradients where windows overlap (no ``np.add.at``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import pool_cache
from cnnlib.core.geometry import pool_params


def _channels_last(x: np.ndarray, padding: int, fill: float) -> np.ndarray:
    """(N, C, H, W) -> (N, H + 2p, W + 2p, C) with a border of ``fill``; a view when padding is 0."""
    x_nhwc = x.transpose(0, 2, 3, 1)  # (N, H, W, C)
    if padding == 0:
        return x_nhwc
    N, H, W, C = x_nhwc.shape
    x_pad = np.full((N, H + 2 * padding, W + 2 * padding, C), fill, dtype=x.dtype)
    x_pad[:, padding:padding + H, padding:padding + W] = x_nhwc
    return x_pad


def _window_views(a: np.ndarray, kH, kW, sH, sW, H_out, W_out):
    """Yield ``(u*kW + v, view)`` for every kernel offset, in row-major order.

    ``view[n, i, j, c] = a[n, i*sH + u, j*sW + v, c]``: the input at offset
    (u, v) of every window, shape (N, H_out, W_out, C), a view (writes go to ``a``).
    """
    for u in range(kH):
        for v in range(kW):
            yield u * kW + v, a[:, u:u + sH * (H_out - 1) + 1:sH, v:v + sW * (W_out - 1) + 1:sW]


def _tiles_exactly(H, W, kH, kW, sH, sW, padding, H_out, W_out) -> bool:
    """True when the windows cover every input exactly once."""
    return (sH, sW) == (kH, kW) and padding == 0 and (H, W) == (H_out * kH, W_out * kW)


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
    x_pad = _channels_last(x, padding, fill=-np.inf)  # (N, H + 2p, W + 2p, C)
    views = _window_views(x_pad, kH, kW, sH, sW, H_out, W_out)
    _, first = next(views)
    out = first.copy()  # (N, H_out, W_out, C), channels-last
    argmax = np.zeros(out.shape, dtype=np.min_scalar_type(kH * kW - 1))  # uint8 for kernels up to 16x16
    value = np.empty_like(out)
    for offset, view in views:
        value[...] = view  # one strided read: the three operations below run on contiguous memory
        better = value > out  # strictly greater: on a tie the earlier maximum stays (PyTorch's rule)
        np.maximum(out, value, out=out)
        # Offsets come in increasing order, so this sets argmax to `offset` exactly
        # where `better` (boolean indexing, argmax[better] = offset, is ~10x slower).
        np.maximum(argmax, better * argmax.dtype.type(offset), out=argmax)
    cache = (x, (kH, kW), (sH, sW), padding, argmax.transpose(0, 3, 1, 2))
    return out.transpose(0, 3, 1, 2), cache  # (N, C, H_out, W_out) views of channels-last memory


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
    dout_nhwc = dout.transpose(0, 2, 3, 1)  # (N, H_out, W_out, C)
    argmax_nhwc = argmax.transpose(0, 2, 3, 1)  # (N, H_out, W_out, C)
    if _tiles_exactly(H, W, kH, kW, sH, sW, padding, H_out, W_out):
        # Every input lies in exactly one window: build dx in one broadcast expression
        # as (N, H_out, kH, W_out, kW, C), which is (N, H, W, C) after a free reshape.
        offsets = np.arange(kH * kW, dtype=argmax.dtype).reshape(kH, 1, kW, 1)  # u*kW + v at [u, 0, v, 0]
        is_max = argmax_nhwc[:, :, None, :, None] == offsets  # (N, H_out, kH, W_out, kW, C)
        dx = dout_nhwc[:, :, None, :, None] * is_max  # (N, H_out, kH, W_out, kW, C)
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N, C, H, W) view
    # General case: one pass per kernel offset (no loop over windows, no np.add.at).
    dx_pad = np.zeros((N, H + 2 * padding, W + 2 * padding, C), dtype=dout.dtype)
    for offset, view in _window_views(dx_pad, kH, kW, sH, sW, H_out, W_out):
        view += dout_nhwc * (argmax_nhwc == offset)  # += : overlapping windows add up
    return dx_pad[:, padding:padding + H, padding:padding + W].transpose(0, 3, 1, 2)  # (N, C, H, W) view


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
    x_pad = _channels_last(x, padding, fill=0)  # (N, H + 2p, W + 2p, C)
    views = _window_views(x_pad, kH, kW, sH, sW, H_out, W_out)
    _, first = next(views)
    out = first.copy()  # (N, H_out, W_out, C), channels-last
    for _, view in views:
        out += view
    out /= kH * kW  # count_include_pad=True: always the full window
    return out.transpose(0, 3, 1, 2), (x, (kH, kW), (sH, sW), padding)  # (N, C, H_out, W_out) view


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
    share = dout.transpose(0, 2, 3, 1) / (kH * kW)  # (N, H_out, W_out, C): what each input of a window gets
    if _tiles_exactly(H, W, kH, kW, sH, sW, padding, H_out, W_out):
        dx = np.empty((N, H_out, kH, W_out, kW, C), dtype=share.dtype)
        dx[...] = share[:, :, None, :, None]  # one broadcast copy fills every window
        return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N, C, H, W) view
    dx_pad = np.zeros((N, H + 2 * padding, W + 2 * padding, C), dtype=share.dtype)
    for _, view in _window_views(dx_pad, kH, kW, sH, sW, H_out, W_out):
        view += share  # += : overlapping windows add up
    return dx_pad[:, padding:padding + H, padding:padding + W].transpose(0, 3, 1, 2)  # (N, C, H, W) view
