"""Plausible wrong implementations of the convolution exercises, and correct alternatives."""
import numpy as np

from solutions import conv as ref


def _naive(x, weight, bias=None, stride=1, padding=0, flip=False, pad_extra=0, pad=None, swap_hw=False):
    """A loop convolution with knobs that reproduce common mistakes."""
    p = padding + pad_extra if pad is None else pad
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    w = weight[:, :, ::-1, ::-1] if flip else weight
    if swap_hw:
        w = w.transpose(0, 1, 3, 2)
    C_out, _, kH, kW = w.shape
    H_out = (x.shape[2] + 2 * padding - kH) // stride + 1
    W_out = (x.shape[3] + 2 * padding - kW) // stride + 1
    out = np.zeros((x.shape[0], C_out, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW]
            if win.shape[2:] != (kH, kW):
                continue
            out[:, :, i, j] = np.einsum("nchw,ochw->no", win, w)
    return out + (0 if bias is None else bias.reshape(1, -1, 1, 1))


def _ignore_stride(x, weight, bias=None, stride=1, padding=0):
    return _naive(x, weight, bias, 1, padding)


def _channels_mixed(x, weight, bias=None, stride=1, padding=0):
    out = _naive(x, weight, None, stride, padding)
    # sums the input channels into one before convolving (a common broadcasting slip)
    x1 = x.sum(axis=1, keepdims=True).repeat(x.shape[1], axis=1) / x.shape[1]
    return _naive(x1, weight, bias, stride, padding) if x.shape[1] > 1 else out + 1e-3


def _as_forward(naive):
    def forward(x, weight, bias, stride=1, padding=0):
        return naive(x, weight, bias, stride, padding), (x, weight, bias, stride, padding,
                                                          ref.im2col(x, weight.shape[2:], stride, padding))
    return forward


CONV_MISTAKES = {
    "kernel flipped (true convolution)": lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p, flip=True),
    "stride ignored": _ignore_stride,
    "padding off by one": lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p, pad_extra=1),
    "padding ignored": lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p, pad=0),
    "bias dropped": lambda x, w, b=None, s=1, p=0: _naive(x, w, None, s, p),
    "kernel rows and columns swapped": lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p, swap_hw=True),
    "input channels averaged": _channels_mixed,
    "float32 upcast to float64": lambda x, w, b=None, s=1, p=0: _naive(x.astype(np.float64), w, b, s, p),
}


def _modifies_input(x, weight, bias=None, stride=1, padding=0):
    out = ref.conv2d_naive(x, weight, bias, stride, padding)
    x *= 0.5
    return out


def _forward_without_cache(x, weight, bias, stride=1, padding=0):
    return ref.conv2d_forward(x, weight, bias, stride, padding)[0]


def _forward_cache_cols_other_order(x, weight, bias, stride=1, padding=0):
    out, cache = ref.conv2d_forward(x, weight, bias, stride, padding)
    cols = cache[5]
    N, H_out, W_out, K = cols.shape
    C, kH, kW = weight.shape[1:]
    cols = cols.reshape(N, H_out, W_out, kH, kW, C).transpose(0, 1, 2, 5, 3, 4).reshape(cols.shape)
    return out, cache[:5] + (cols,)


def _im2col_loops(x, kernel_size, stride=1, padding=0, order="hwc"):
    kH, kW = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    N, C, Hp, Wp = xp.shape
    H_out, W_out = (Hp - kH) // stride + 1, (Wp - kW) // stride + 1
    cols = np.zeros((N, H_out, W_out, C * kH * kW), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW]
            cols[:, i, j] = (win if order == "chw" else win.transpose(0, 2, 3, 1)).reshape(N, -1)  # hwc: channels last
    return cols


def _col2im_loops(cols, x_shape, kernel_size, stride=1, padding=0, assign=False, keep_pad=False):
    kH, kW = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
    N, C, H, W = x_shape
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    _, H_out, W_out, _ = cols.shape
    for i in range(H_out):
        for j in range(W_out):
            block = cols[:, i, j].reshape(N, kH, kW, C).transpose(0, 3, 1, 2)  # (N, C, kH, kW)
            if assign:
                xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW] = block
            else:
                xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW] += block
    return xp if keep_pad and padding else xp[:, :, padding:padding + H, padding:padding + W]


def _backward_from(dx_scale=1.0, db_mean=False, dw_flip=False, no_dx_pad_crop=False):
    def backward(dout, cache):
        dx, dw, db = ref.conv2d_backward(dout, cache)
        if db_mean:
            db = dout.mean(axis=(0, 2, 3))
        if dw_flip:
            dw = dw[:, :, ::-1, ::-1]
        if no_dx_pad_crop and cache[4]:
            p = cache[4]
            dx = np.pad(dx, ((0, 0), (0, 0), (p, p), (p, p)))
        return dx * dx_scale, dw, db
    return backward


def _backward_dx_without_stride(dout, cache):
    x, w, b, s, p, cols = cache
    dx, dw, db = ref.conv2d_backward(dout, cache)
    if s > 1:  # scatters the gradients as if the stride were 1
        dx = np.zeros_like(dx)
        dx[..., : dout.shape[2], : dout.shape[3]] += dout.sum(axis=1, keepdims=True)[:, :, : dx.shape[2], : dx.shape[3]]
    return dx, dw, db


def _backward_einsum(dout, cache):
    x, w, b, s, p, cols = cache
    N, C, H, W = x.shape
    C_out, _, kH, kW = w.shape
    dw = np.einsum("nohw,nhwk->ok", dout, cols).reshape(C_out, kH, kW, C).transpose(0, 3, 1, 2)
    db = None if b is None else dout.sum(axis=(0, 2, 3))
    dcols = np.einsum("nohw,ok->nhwk", dout, w.transpose(0, 2, 3, 1).reshape(C_out, -1))
    dx = _col2im_loops(dcols, x.shape, (kH, kW), s, p)
    return dx, dw, db


WRONG = {
    "conv2d_naive": dict(CONV_MISTAKES, **{"modifies its input": _modifies_input}),
    "conv2d_forward": dict({k: _as_forward(f) for k, f in CONV_MISTAKES.items()},
                           **{"returns no cache": _forward_without_cache,
                              "cache cols in (C_in, kH, kW) order": _forward_cache_cols_other_order}),
    "conv_output_size": {
        "padding on one side": lambda n, k, s=1, p=0: (n + p - k) // s + 1,
        "true division": lambda n, k, s=1, p=0: (n + 2 * p - k) / s + 1,
        "missing + 1": lambda n, k, s=1, p=0: (n + 2 * p - k) // s,
        "ceil instead of floor": lambda n, k, s=1, p=0: -(-(n + 2 * p - k) // s) + 1,
    },
    "im2col": {
        "(C_in, kH, kW) order": lambda x, k, s=1, p=0: _im2col_loops(x, k, s, p, order="chw"),
        "padding ignored": lambda x, k, s=1, p=0: _im2col_loops(x, k, s, 0)
        if p == 0 else _im2col_loops(x, k, s, 0)[:, :1],
        "stride ignored": lambda x, k, s=1, p=0: _im2col_loops(x, k, 1, p),
        "float64": lambda x, k, s=1, p=0: _im2col_loops(x.astype(np.float64), k, s, p),
    },
    "col2im": {
        "overwrites overlaps": lambda c, xs, k, s=1, p=0: _col2im_loops(c, xs, k, s, p, assign=True),
        "keeps the padding border": lambda c, xs, k, s=1, p=0: _col2im_loops(c, xs, k, s, p, keep_pad=True),
        "stride ignored": lambda c, xs, k, s=1, p=0: _col2im_loops(c, xs, k, 1, p)
        if (xs[2] + 2 * p - (k if np.isscalar(k) else k[0])) >= c.shape[1] - 1 else _col2im_loops(c, xs, k, s, p) * 2,
    },
    "conv2d_backward": {
        "dbias averaged instead of summed": _backward_from(db_mean=True),
        "dweight flipped": _backward_from(dw_flip=True),
        "dx scaled by 2": _backward_from(dx_scale=2.0),
        "dx still padded": _backward_from(no_dx_pad_crop=True),
        "dx ignores the stride": _backward_dx_without_stride,
    },
}

RIGHT = {
    "conv_output_size": {"via floor": lambda n, k, s=1, p=0: int(np.floor((n + 2 * p - k) / s)) + 1},
    "conv2d_naive": {"einsum loops": lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p)},
    "conv2d_forward": {
        "naive loops plus im2col cache": _as_forward(lambda x, w, b=None, s=1, p=0: _naive(x, w, b, s, p)),
        "einsum on the im2col rows": lambda x, w, b, s=1, p=0: (
            np.einsum("nhwk,ok->nohw", ref.im2col(x, w.shape[2:], s, p), w.transpose(0, 2, 3, 1).reshape(len(w), -1))
            + (0 if b is None else b.reshape(1, -1, 1, 1)),
            (x, w, b, s, p, ref.im2col(x, w.shape[2:], s, p))),
    },
    "im2col": {"loops over output positions": _im2col_loops},
    "col2im": {"loops over output positions": _col2im_loops},
    "conv2d_backward": {"einsum and loop col2im": _backward_einsum},
}
