"""Plausible wrong implementations of the pooling exercises, and correct alternatives.

Most are one loop-over-windows implementation with a knob that reproduces a
mistake learners make.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from solutions import pooling as ref


def _params(x, kernel_size, stride, padding, stride_default="kernel"):
    kH, kW = (kernel_size, kernel_size) if np.isscalar(kernel_size) else tuple(kernel_size)
    if stride is None:
        stride = (kH, kW) if stride_default == "kernel" else 1
    sH, sW = (stride, stride) if np.isscalar(stride) else tuple(stride)
    return kH, kW, sH, sW


def _max_forward(x, kernel_size, stride=None, padding=0, *, stride_default="kernel", fill=-np.inf,
                 use_padding=True, last_tie=False, offset_rows=None, op="max", dtype=None,
                 cache_stride=True, clobber=False):
    """Loop-over-windows max pooling with knobs for mistakes."""
    kH, kW, sH, sW = _params(x, kernel_size, stride, padding, stride_default)
    p = padding if use_padding else 0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    N, C, Hp, Wp = xp.shape
    H_out, W_out = (Hp - kH) // sH + 1, (Wp - kW) // sW + 1
    out = np.zeros((N, C, H_out, W_out), dtype=dtype or x.dtype)
    argmax = np.zeros((N, C, H_out, W_out), dtype=np.int64)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * sH:i * sH + kH, j * sW:j * sW + kW].reshape(N, C, -1)  # (N, C, kH*kW)
            a = kH * kW - 1 - win[..., ::-1].argmax(-1) if last_tie else win.argmax(-1)
            out[:, :, i, j] = win.min(-1) if op == "min" else np.take_along_axis(win, a[..., None], -1)[..., 0]
            argmax[:, :, i, j] = a
    if offset_rows == "kH":  # (u, v) numbered u*kH + v
        argmax = (argmax // kW) * kH + argmax % kW
    if clobber:
        x[x == x.max()] = -np.inf  # marks the largest value as used
    return out, (x, (kH, kW), (sH, sW) if cache_stride else stride, p, argmax)


def _max_backward(dout, cache, *, rule="first", add=True, crop=True, dtype=None, offset_rows=None):
    """Loop-over-windows max-pool backward with knobs for mistakes."""
    x, (kH, kW), (sH, sW), p, argmax = cache
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    dxp = np.zeros(xp.shape, dtype=dtype or dout.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * sH, i * sH + kH), slice(j * sW, j * sW + kW)
            win = xp[:, :, rows, cols]
            if rule == "first":
                a = argmax[:, :, i, j]
                u, v = (a // kH, a % kH) if offset_rows == "kH" else (a // kW, a % kW)
                mask = np.zeros(win.shape)
                n, c = np.indices(a.shape)
                mask[n, c, u, v] = 1
            elif rule == "all ties":
                mask = win == win.max(axis=(2, 3), keepdims=True)
            elif rule == "split ties":
                mask = win == win.max(axis=(2, 3), keepdims=True)
                mask = mask / mask.sum(axis=(2, 3), keepdims=True)
            elif rule == "window":
                mask = np.ones(win.shape)
            else:  # "mean"
                mask = np.full(win.shape, 1 / (kH * kW))
            g = mask * dout[:, :, i, j, None, None]
            if add:
                dxp[:, :, rows, cols] += g
            else:
                dxp[:, :, rows, cols] = g
    return dxp[:, :, p:p + H, p:p + W] if crop else dxp


def _max_backward_add_at(dout, cache):
    """Correct but slow: a scatter with np.add.at at the argmax positions."""
    x, (kH, kW), (sH, sW), p, argmax = cache
    N, C, H, W = x.shape
    H_out, W_out = dout.shape[2:]
    rows = np.arange(H_out)[:, None] * sH + argmax // kW - p  # (N, C, H_out, W_out) by broadcasting
    cols = np.arange(W_out)[None, :] * sW + argmax % kW - p
    n, c = np.indices((N, C))[..., None, None]
    dx = np.zeros(x.shape, dtype=dout.dtype)
    np.add.at(dx, (np.broadcast_to(n, rows.shape), np.broadcast_to(c, rows.shape), rows, cols), dout)
    return dx


def _max_forward_windows(x, kernel_size, stride=None, padding=0):
    """Correct: sliding_window_view, argmax over the flattened windows, take_along_axis."""
    kH, kW, sH, sW = _params(x, kernel_size, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    win = sliding_window_view(xp, (kH, kW), axis=(2, 3))[:, :, ::sH, ::sW]  # (N, C, H_out, W_out, kH, kW)
    win = win.reshape(win.shape[:4] + (-1,))
    argmax = win.argmax(-1)
    out = np.take_along_axis(win, argmax[..., None], -1)[..., 0]
    return out, (x, (kH, kW), (sH, sW), padding, argmax)


def _avg_forward(x, kernel_size, stride=None, padding=0, *, stride_default="kernel", divide="full",
                 use_padding=True, dtype=None, cache_stride=True):
    """Loop-over-windows average pooling with knobs for mistakes."""
    kH, kW, sH, sW = _params(x, kernel_size, stride, padding, stride_default)
    p = padding if use_padding else 0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    real = np.pad(np.ones(x.shape[2:]), p)
    N, C, Hp, Wp = xp.shape
    H_out, W_out = (Hp - kH) // sH + 1, (Wp - kW) // sW + 1
    out = np.zeros((N, C, H_out, W_out), dtype=dtype or x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * sH, i * sH + kH), slice(j * sW, j * sW + kW)
            total = xp[:, :, rows, cols].sum(axis=(2, 3))
            out[:, :, i, j] = total / {"full": kH * kW, "real": real[rows, cols].sum(), "none": 1, "k": kH}[divide]
    return out, (x, (kH, kW), (sH, sW) if cache_stride else stride, p)


def _avg_backward(dout, cache, *, divide="full", add=True, crop=True, dtype=None, first_only=False):
    """Loop-over-windows average-pool backward with knobs for mistakes."""
    x, (kH, kW), (sH, sW), p = cache
    N, C, H, W = x.shape
    real = np.pad(np.ones((H, W)), p)
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dtype or dout.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * sH, i * sH + kH), slice(j * sW, j * sW + kW)
            share = np.ones((kH, kW)) / {"full": kH * kW, "real": real[rows, cols].sum(), "none": 1}[divide]
            if first_only:
                share = np.zeros((kH, kW))
                share[0, 0] = 1
            g = share * dout[:, :, i, j, None, None]
            if add:
                dxp[:, :, rows, cols] += g
            else:
                dxp[:, :, rows, cols] = g
    return dxp[:, :, p:p + H, p:p + W] if crop else dxp


def _avg_backward_modifies_dout(dout, cache):
    dout /= cache[1][0] * cache[1][1]  # divides in place before spreading
    return _avg_backward(dout, cache, divide="none")


WRONG = {
    "maxpool2d_forward": {
        "stride defaults to 1": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, stride_default="one"),
        "pads with zeros": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, fill=0.0),
        "padding ignored": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, use_padding=False),
        "minimum instead of maximum": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, op="min"),
        "argmax records the last of tied maxima": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, last_tie=True),
        "argmax numbered u*kH + v": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, offset_rows="kH"),
        "cache keeps stride=None": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, cache_stride=False),
        "float32 upcast to float64": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, dtype=np.float64),
        "modifies its input": lambda x, k, s=None, p=0: _max_forward(x, k, s, p, clobber=True),
        "returns no cache": lambda x, k, s=None, p=0: _max_forward(x, k, s, p)[0],
        "average instead of maximum": lambda x, k, s=None, p=0: (
            ref.avgpool2d_forward(x, k, s, p)[0], ref.maxpool2d_forward(x, k, s, p)[1]),
    },
    "maxpool2d_backward": {
        "gradient to the whole window": lambda d, c: _max_backward(d, c, rule="window"),
        "gradient to every tied maximum": lambda d, c: _max_backward(d, c, rule="all ties"),
        "gradient shared among tied maxima": lambda d, c: _max_backward(d, c, rule="split ties"),
        "average pooling's gradient": lambda d, c: _max_backward(d, c, rule="mean"),
        "overwrites where windows overlap": lambda d, c: _max_backward(d, c, add=False),
        "padding border kept": lambda d, c: _max_backward(d, c, crop=False),
        "argmax read as u*kH + v": lambda d, c: _max_backward(d, c, offset_rows="kH"),
        "float32 upcast to float64": lambda d, c: _max_backward(d, c, dtype=np.float64),
    },
    "avgpool2d_forward": {
        "sum instead of mean": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, divide="none"),
        "divides by kH only": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, divide="k"),
        "stride defaults to 1": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, stride_default="one"),
        "padding zeros not counted (count_include_pad=False)":
            lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, divide="real"),
        "padding ignored": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, use_padding=False),
        "cache keeps stride=None": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, cache_stride=False),
        "float32 upcast to float64": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p, dtype=np.float64),
        "returns no cache": lambda x, k, s=None, p=0: _avg_forward(x, k, s, p)[0],
    },
    "avgpool2d_backward": {
        "dout not divided by kH*kW": lambda d, c: _avg_backward(d, c, divide="none"),
        "divides by the real inputs (count_include_pad=False)": lambda d, c: _avg_backward(d, c, divide="real"),
        "overwrites where windows overlap": lambda d, c: _avg_backward(d, c, add=False),
        "gradient to the first element only": lambda d, c: _avg_backward(d, c, first_only=True),
        "padding border kept": lambda d, c: _avg_backward(d, c, crop=False),
        "float32 upcast to float64": lambda d, c: _avg_backward(d, c, dtype=np.float64),
        "modifies dout in place": _avg_backward_modifies_dout,
    },
}

RIGHT = {
    "maxpool2d_forward": {
        "loops over windows": _max_forward,
        "sliding_window_view and argmax": _max_forward_windows,
    },
    "maxpool2d_backward": {
        "loops over windows": _max_backward,
        "np.add.at scatter": _max_backward_add_at,
    },
    "avgpool2d_forward": {
        "loops over windows": _avg_forward,
        "sliding_window_view and mean": lambda x, k, s=None, p=0: (lambda kH, kW, sH, sW: (
            sliding_window_view(np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), (kH, kW), axis=(2, 3))
            [:, :, ::sH, ::sW].mean(axis=(4, 5)), (x, (kH, kW), (sH, sW), p)))(*_params(x, k, s, p)),
    },
    "avgpool2d_backward": {
        "loops over windows": _avg_backward,
    },
}
