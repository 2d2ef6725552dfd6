"""Plausible wrong implementations of the chapter-11 blocks, and correct alternatives."""
import numpy as np

from solutions import blocks as ref
from solutions.conv import conv2d_forward


# ---------------------------------------------------------------------------- global average pooling

def _gap_backward(dout, cache, divide="hw"):
    N, C, H, W = cache
    by = {"hw": H * W, "none": 1, "h": H, "nhw": N * H * W}[divide]
    return np.broadcast_to(dout[:, :, None, None], (N, C, H, W)) / by


def _gap_backward_first(dout, cache):
    dx = np.zeros(cache, dtype=dout.dtype)
    dx[:, :, 0, 0] = dout
    return dx


def _gap_backward_loops(dout, cache):
    N, C, H, W = cache
    dx = np.empty(cache, dtype=dout.dtype)
    for i in range(H):
        for j in range(W):
            dx[:, :, i, j] = dout / (H * W)
    return dx


# ---------------------------------------------------------------------------- depthwise convolution

def _dw_forward(x, weight, bias, stride=1, padding=0, *, flip=False, use_bias=True, use_stride=True,
                use_padding=True, mix=False, transpose=False, dtype=None, store_padded=False):
    """Loops over output positions, with knobs for mistakes."""
    w = weight[:, :, ::-1, ::-1] if flip else (weight.transpose(0, 1, 3, 2) if transpose else weight)
    s, p = (stride if use_stride else 1), (padding if use_padding else 0)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    N, C, Hp, Wp = xp.shape
    kH, kW = w.shape[2:]
    H_out, W_out = (Hp - kH) // s + 1, (Wp - kW) // s + 1
    out = np.zeros((N, C, H_out, W_out), dtype=dtype or x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            win = xp[:, :, i * s:i * s + kH, j * s:j * s + kW]  # (N, C, kH, kW)
            if mix:  # every input channel through filter c, summed: groups=1
                out[:, :, i, j] = np.einsum("nduv,cuv->nc", win, w[:, 0])
            else:
                out[:, :, i, j] = (win * w[None, :, 0]).sum(axis=(2, 3))
    if bias is not None and use_bias:
        out += bias[:, None, None]
    return out, (xp if store_padded else x, weight, bias, stride, padding)


def _dw_forward_einsum(x, weight, bias, stride=1, padding=0):
    """Correct: sliding windows and one einsum."""
    from numpy.lib.stride_tricks import sliding_window_view
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, weight.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("nchwuv,cuv->nchw", win, weight[:, 0])
    if bias is not None:
        out = out + bias[:, None, None]
    return out, (x, weight, bias, stride, padding)


def _dw_forward_per_channel(x, weight, bias, stride=1, padding=0):
    """Correct: one conv2d_forward per channel (a depthwise convolution is C separate 1-channel convolutions)."""
    outs = [conv2d_forward(np.ascontiguousarray(x[:, c:c + 1]), np.ascontiguousarray(weight[c:c + 1]),
                           None if bias is None else bias[c:c + 1], stride, padding)[0] for c in range(x.shape[1])]
    return np.concatenate(outs, axis=1), (x, weight, bias, stride, padding)


def _dw_backward(dout, cache, *, flip_dx=False, flip_dw=False, add=True, mean_dw=False, mean_db=False,
                 share_dw=False, mix_dx=False, db_positions=False):
    """Loops over output positions, with knobs for mistakes."""
    x, weight, bias, s, p = cache
    N, C, H, W = x.shape
    kH, kW = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    dw = np.zeros(weight.shape, dtype=dout.dtype)
    w = weight[:, 0, ::-1, ::-1] if flip_dx else weight[:, 0]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * s, i * s + kH), slice(j * s, j * s + kW)
            g = dout[:, :, i, j, None, None] * w[None]  # (N, C, kH, kW)
            if mix_dx:
                g = np.broadcast_to(g.sum(axis=1, keepdims=True), g.shape)
            if add:
                dxp[:, :, rows, cols] += g
            else:
                dxp[:, :, rows, cols] = g
            dw[:, 0] += (dout[:, :, i, j, None, None] * xp[:, :, rows, cols]).sum(axis=0)
    if flip_dw:
        dw = dw[:, :, ::-1, ::-1]
    if mean_dw:
        dw = dw / N
    if share_dw:
        dw = np.broadcast_to(dw.sum(axis=0, keepdims=True), dw.shape)
    db = None
    if bias is not None:
        db = dout.sum(axis=(0, 2, 3))
        if mean_db:
            db = db / N
        if db_positions:
            db = db / (dout.shape[2] * dout.shape[3])
    return dxp[:, :, p:p + H, p:p + W], dw, db


def _dw_backward_einsum(dout, cache):
    """Correct: dweight by sliding windows and einsum, dx by an add per kernel offset."""
    from numpy.lib.stride_tricks import sliding_window_view
    x, weight, bias, s, p = cache
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    H_out, W_out = dout.shape[2:]
    win = sliding_window_view(xp, weight.shape[2:], axis=(2, 3))[:, :, ::s, ::s][:, :, :H_out, :W_out]
    dw = np.einsum("nchwuv,nchw->cuv", win, dout)[:, None]
    dxp = np.zeros_like(xp, dtype=dout.dtype)
    for u in range(weight.shape[2]):
        for v in range(weight.shape[3]):
            dxp[:, :, u:u + s * H_out:s, v:v + s * W_out:s] += dout * weight[None, :, 0, u, v, None, None]
    H, W = x.shape[2:]
    return dxp[:, :, p:p + H, p:p + W], dw.astype(dout.dtype), None if bias is None else dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------------------- the residual block

def _res_forward(x, branch, shortcut=None, *, join="relu after add", use_shortcut_fn=True, store="out",
                 branch_calls=1):
    for _ in range(branch_calls - 1):
        branch(x)
    y, bc = branch(x)
    s, sc = (x, None) if shortcut is None or not use_shortcut_fn else shortcut(x)
    z = {"relu after add": lambda: np.maximum(y + s, 0), "relu before add": lambda: np.maximum(y, 0) + s,
         "no relu": lambda: y + s, "no shortcut": lambda: np.maximum(y, 0),
         "relu on each": lambda: np.maximum(y, 0) + np.maximum(s, 0)}[join]()
    kept = {"out": z, "branch output": y}[store]
    return z, (bc, sc, kept)


def _res_forward_z(x, branch, shortcut=None):
    """Correct: keeps the sum before the ReLU (the same mask) and uses z * (z > 0)."""
    y, bc = branch(x)
    s, sc = (x, None) if shortcut is None else shortcut(x)
    z = y + s
    return z * (z > 0), (bc, sc, z)


def _res_backward(dout, cache, branch_backward, shortcut_backward=None, *, mistake=None):
    bc, sc, out = cache
    mask = out > 0
    d = dout * mask
    through_shortcut = (lambda g: g) if shortcut_backward is None or mistake == "ignore shortcut_backward" \
        else (lambda g: shortcut_backward(g, sc))
    if mistake is None:
        return branch_backward(d, bc) + through_shortcut(d)
    return {
        "no shortcut gradient": lambda: branch_backward(d, bc),
        "no mask": lambda: branch_backward(dout, bc) + through_shortcut(dout),
        "mask on dx": lambda: (branch_backward(dout, bc) + through_shortcut(dout)) * mask,
        "mask on the branch only": lambda: branch_backward(d, bc) + through_shortcut(dout),
        "mask on the shortcut only": lambda: branch_backward(dout, bc) + through_shortcut(d),
        "average at the fork": lambda: (branch_backward(d, bc) + through_shortcut(d)) / 2,
        "ignore shortcut_backward": lambda: branch_backward(d, bc) + through_shortcut(d),
        "twice through the branch": lambda: branch_backward(d, bc) + 0 * branch_backward(d, bc) + through_shortcut(d),
    }[mistake]()


def _res_backward_where(dout, cache, branch_backward, shortcut_backward=None):
    """Correct: np.where for the mask, the shortcut added first."""
    bc, sc, out = cache
    d = np.where(out > 0, dout, 0).astype(dout.dtype)
    dx = d.copy() if shortcut_backward is None else shortcut_backward(d, sc)
    dx = dx + branch_backward(d, bc)
    return dx


# ---------------------------------------------------------------------------- the 1x1 convolution

def _pw_forward(x, weight, bias=None, stride=1, *, transpose=False, rows_from="channels last", back="transpose",
                use_bias=True, bias_axis="channels", use_stride=True, start=0, dtype=None, into_x=False,
                cache="x"):
    """Rows of pixels times the (C_out, C_in) matrix, with knobs for mistakes."""
    N, C_in = x.shape[:2]
    C_out = weight.shape[0]
    s = stride if use_stride else 1
    xs = x[:, :, start::s, start::s] if s > 1 else x
    H_out, W_out = xs.shape[2:]
    m = weight[:, :, 0, 0].T if transpose else weight[:, :, 0, 0]
    rows = xs.transpose(0, 2, 3, 1).reshape(-1, C_in) if rows_from == "channels last" else xs.reshape(-1, C_in)
    if into_x and C_in == C_out:  # "saves an allocation": the product written over x's own pixels
        out = np.matmul(rows, m.T, out=rows)
    else:
        out = rows @ m.T
    out = out.astype(dtype or x.dtype)
    out = out.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2) if back == "transpose" else \
        out.reshape(N, C_out, H_out, W_out)
    if bias is not None and use_bias:
        out = out + (bias[:, None, None] if bias_axis == "channels" else bias)
    kept = {"x": x, "rows": rows, "subsampled x": xs}[cache]
    return out, (kept, weight, bias, stride)


def _pw_forward_einsum(x, weight, bias=None, stride=1):
    """Correct: one einsum over the channels of the subsampled x."""
    out = np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x[:, :, ::stride, ::stride])
    if bias is not None:
        out = out + bias[:, None, None]
    return out, (x, weight, bias, stride)


def _pw_forward_tensordot(x, weight, bias=None, stride=1):
    """Correct: tensordot over the channel axes, then the output channels moved to axis 1."""
    out = np.tensordot(x[:, :, ::stride, ::stride], weight[:, :, 0, 0], axes=([1], [1]))  # (N, H_out, W_out, C_out)
    if bias is not None:
        out = out + bias
    return out.transpose(0, 3, 1, 2), (x, weight, bias, stride)


def _pw_forward_conv(x, weight, bias=None, stride=1):
    """Correct: chapter 02's conv2d_forward with the 1x1 kernel, and the cache this exercise promises."""
    return conv2d_forward(x, weight, bias, stride, 0)[0], (x, weight, bias, stride)


def _pw_backward(dout, cache, *, transpose_dx=False, place="zeros", dout_rows="channels last", transpose_dw=False,
                 dw_over="all", dw_2d=False, db_axes=(0, 2, 3), db_scale="sum", dtype=None, into_dout=False):
    """Rows of pixels, chapter 05's linear backward, with knobs for mistakes."""
    x, weight, bias, s = cache
    N, C_in, H, W = x.shape
    _, C_out, H_out, W_out = dout.shape
    rows = x[:, :, ::s, ::s].transpose(0, 2, 3, 1).reshape(-1, C_in)
    d = dout.transpose(0, 2, 3, 1).reshape(-1, C_out) if dout_rows == "channels last" else \
        np.ascontiguousarray(dout).reshape(-1, C_out)
    dw = (d.T @ rows) if dw_over != "first sample" else \
        d.reshape(N, -1, C_out)[0].T @ rows.reshape(N, -1, C_in)[0]  # (C_out, C_in)
    if dw_over == "mean":
        dw = dw / N
    dw = dw.T if transpose_dw else dw
    dw = dw if dw_2d else dw[:, :, None, None]
    db = None
    if bias is not None:
        db = dout.sum(axis=db_axes)
        db = db / N if db_scale == "mean over the batch" else db
    m = weight[:, :, 0, 0].T if transpose_dx else weight[:, :, 0, 0]
    if into_dout and C_in == C_out:  # dout is not needed any more: reuse its memory
        dx_rows = np.matmul(d, m, out=d)
    else:
        dx_rows = d @ m
    dx_read = dx_rows.reshape(N, H_out, W_out, C_in).transpose(0, 3, 1, 2)
    if place == "zeros":
        dx = np.zeros(x.shape, dtype=dout.dtype)
        dx[:, :, ::s, ::s] = dx_read
    elif place == "spread":
        dx = np.repeat(np.repeat(dx_read, s, axis=2), s, axis=3)[:, :, :H, :W]
    else:
        dx = dx_read
    if dtype is not None:
        dx, dw = dx.astype(dtype), dw.astype(dtype)
        db = None if db is None else db.astype(dtype)
    return dx, dw, db


def _pw_backward_einsum(dout, cache):
    """Correct: three einsums."""
    x, weight, bias, s = cache
    xs = x[:, :, ::s, ::s]
    dx = np.zeros_like(x, dtype=dout.dtype)
    dx[:, :, ::s, ::s] = np.einsum("oc,nohw->nchw", weight[:, :, 0, 0], dout)
    dw = np.einsum("nohw,nchw->oc", dout, xs)[:, :, None, None]
    return dx, dw, None if bias is None else np.einsum("nohw->o", dout)


def _pw_backward_tensordot(dout, cache):
    """Correct: tensordot for dweight and dx, channels-last in between."""
    x, weight, bias, s = cache
    xs = x[:, :, ::s, ::s]
    dw = np.tensordot(dout, xs, axes=([0, 2, 3], [0, 2, 3]))[:, :, None, None]  # (C_out, C_in, 1, 1)
    dx_read = np.tensordot(dout, weight[:, :, 0, 0], axes=([1], [0]))  # (N, H_out, W_out, C_in)
    dx = np.zeros((x.shape[0], *x.shape[2:], x.shape[1]), dtype=dout.dtype)
    dx[:, ::s, ::s] = dx_read
    return dx.transpose(0, 3, 1, 2), dw, None if bias is None else dout.sum(axis=(0, 2, 3))


WRONG = {
    "global_avgpool_forward": {
        "sum, not mean": lambda x: (x.sum(axis=(2, 3)), x.shape),
        "max, not mean": lambda x: (x.max(axis=(2, 3)), x.shape),
        "keepdims (N, C, 1, 1)": lambda x: (x.mean(axis=(2, 3), keepdims=True), x.shape),
        "divides by H only": lambda x: (x.sum(axis=(2, 3)) / x.shape[2], x.shape),
        "mean over the batch too": lambda x: (np.broadcast_to(x.mean(axis=(0, 2, 3)), x.shape[:2]).copy(), x.shape),
        "float64 result": lambda x: (x.astype(np.float64).mean(axis=(2, 3)), x.shape),
        "caches x, not its shape": lambda x: (x.mean(axis=(2, 3)), x),
        "divides by H*H (square maps assumed)": lambda x: (x.sum(axis=(2, 3)) / x.shape[2] ** 2, x.shape),
    },
    "global_avgpool_backward": {
        "no division": lambda dout, cache: _gap_backward(dout, cache, "none"),
        "divides by H": lambda dout, cache: _gap_backward(dout, cache, "h"),
        "divides by N*H*W": lambda dout, cache: _gap_backward(dout, cache, "nhw"),
        "all to the first position": _gap_backward_first,
        "float64 result": lambda dout, cache: _gap_backward(dout.astype(np.float64), cache),
        "divides dout in place": lambda dout, cache: np.broadcast_to(
            np.divide(dout, cache[2] * cache[3], out=dout)[:, :, None, None], cache),
    },
    "depthwise_conv2d_forward": {
        "flipped kernel": lambda *a: _dw_forward(*a, flip=True),
        "channels mixed (groups=1)": lambda *a: _dw_forward(*a, mix=True),
        "bias ignored": lambda *a: _dw_forward(*a, use_bias=False),
        "stride ignored": lambda *a: _dw_forward(*a, use_stride=False),
        "padding ignored": lambda *a: _dw_forward(*a, use_padding=False),
        "kernel transposed": lambda *a: _dw_forward(*a, transpose=True),
        "float64 result": lambda *a: _dw_forward(*a, dtype=np.float64),
        "caches the padded x": lambda *a: _dw_forward(*a, store_padded=True),
    },
    "depthwise_conv2d_backward": {
        "dx with the flipped kernel": lambda d, c: _dw_backward(d, c, flip_dx=True),
        "dx overwritten where windows overlap": lambda d, c: _dw_backward(d, c, add=False),
        "dx mixes the channels": lambda d, c: _dw_backward(d, c, mix_dx=True),
        "dweight a mean over the batch": lambda d, c: _dw_backward(d, c, mean_dw=True),
        "dweight flipped": lambda d, c: _dw_backward(d, c, flip_dw=True),
        "dweight summed over channels": lambda d, c: _dw_backward(d, c, share_dw=True),
        "dbias a mean over the batch": lambda d, c: _dw_backward(d, c, mean_db=True),
        "dbias a mean over positions": lambda d, c: _dw_backward(d, c, db_positions=True),
    },
    "residual_forward": {
        "ReLU before the add": lambda x, b, s=None: _res_forward(x, b, s, join="relu before add"),
        "no ReLU": lambda x, b, s=None: _res_forward(x, b, s, join="no relu"),
        "no shortcut": lambda x, b, s=None: _res_forward(x, b, s, join="no shortcut"),
        "a ReLU on each path": lambda x, b, s=None: _res_forward(x, b, s, join="relu on each"),
        "shortcut function ignored": lambda x, b, s=None: _res_forward(x, b, s, use_shortcut_fn=False),
        "caches the branch's output": lambda x, b, s=None: _res_forward(x, b, s, store="branch output"),
        "calls the branch twice": lambda x, b, s=None: _res_forward(x, b, s, branch_calls=2),
    },
    "residual_backward": {m: (lambda d, c, bb, sb=None, m=m: _res_backward(d, c, bb, sb, mistake=m)) for m in (
        "no shortcut gradient", "no mask", "mask on dx", "mask on the branch only", "mask on the shortcut only",
        "average at the fork", "ignore shortcut_backward", "twice through the branch")},
    "pointwise_conv2d_forward": {
        "weight not transposed": lambda *a: _pw_forward(*a, transpose=True),
        "x.reshape(-1, C_in) without moving the channels last": lambda *a: _pw_forward(*a, rows_from="NCHW"),
        "result reshaped to (N, C_out, H, W) without a transpose": lambda *a: _pw_forward(*a, back="reshape"),
        "bias ignored": lambda *a: _pw_forward(*a, use_bias=False),
        "bias added along the last axis (per pixel column)": lambda *a: _pw_forward(*a, bias_axis="last"),
        "stride ignored": lambda *a: _pw_forward(*a, use_stride=False),
        "strided pixels from stride - 1": lambda x, w, b=None, s=1: _pw_forward(x, w, b, s, start=s - 1),
        "float64 result": lambda *a: _pw_forward(*a, dtype=np.float64),
        "writes the product over x (in place)": lambda *a: _pw_forward(*a, into_x=True),
        "caches the rows, not x": lambda *a: _pw_forward(*a, cache="rows"),
        "caches the subsampled x": lambda *a: _pw_forward(*a, cache="subsampled x"),
    },
    "pointwise_conv2d_backward": {
        "dx without the weight's transpose": lambda d, c: _pw_backward(d, c, transpose_dx=True),
        "dx of the read pixels only (shape H_out, W_out)": lambda d, c: _pw_backward(d, c, place="none"),
        "dx spread over the skipped pixels": lambda d, c: _pw_backward(d, c, place="spread"),
        "dout.reshape(-1, C_out) without moving the channels last": lambda d, c: _pw_backward(d, c, dout_rows="NCHW"),
        "dweight transposed": lambda d, c: _pw_backward(d, c, transpose_dw=True),
        "dweight of the first sample only": lambda d, c: _pw_backward(d, c, dw_over="first sample"),
        "dweight a mean over the batch": lambda d, c: _pw_backward(d, c, dw_over="mean"),
        "dweight 2-D (C_out, C_in)": lambda d, c: _pw_backward(d, c, dw_2d=True),
        "dbias over axes (2, 3) only": lambda d, c: _pw_backward(d, c, db_axes=(2, 3)),
        "dbias over axes (1, 2, 3)": lambda d, c: _pw_backward(d, c, db_axes=(1, 2, 3)),
        "dbias a mean over the batch": lambda d, c: _pw_backward(d, c, db_scale="mean over the batch"),
        "float64 gradients": lambda d, c: _pw_backward(d, c, dtype=np.float64),
        "dx written over dout (in place)": lambda d, c: _pw_backward(d, c, into_dout=True),
    },
}

RIGHT = {
    "global_avgpool_forward": {
        "the reference": ref.global_avgpool_forward,
        "sum / (H*W), cache a tuple": lambda x: (x.sum(axis=(2, 3)) / (x.shape[2] * x.shape[3]), tuple(x.shape)),
        "reshape and mean": lambda x: (x.reshape(x.shape[0], x.shape[1], -1).mean(axis=2), x.shape),
    },
    "global_avgpool_backward": {
        "the reference": ref.global_avgpool_backward,
        "broadcast_to (a read-only view)": _gap_backward,
        "loops over positions": _gap_backward_loops,
        "ones times dout": lambda dout, cache: np.ones(cache, dout.dtype) * (dout / (cache[2] * cache[3]))[:, :, None,
                                                                                                           None],
    },
    "depthwise_conv2d_forward": {
        "the reference": ref.depthwise_conv2d_forward,
        "loops over output positions": _dw_forward,
        "sliding windows and einsum": _dw_forward_einsum,
        "one conv2d_forward per channel": _dw_forward_per_channel,
    },
    "depthwise_conv2d_backward": {
        "the reference": ref.depthwise_conv2d_backward,
        "loops over output positions": _dw_backward,
        "sliding windows and einsum": _dw_backward_einsum,
    },
    "residual_forward": {
        "the reference": ref.residual_forward,
        "keeps z, the sum before the ReLU": _res_forward_z,
    },
    "residual_backward": {
        "the reference": ref.residual_backward,
        "np.where, the shortcut first": _res_backward_where,
    },
    "pointwise_conv2d_forward": {
        "the reference": ref.pointwise_conv2d_forward,
        "rows of pixels times weight.T": _pw_forward,
        "einsum": _pw_forward_einsum,
        "tensordot": _pw_forward_tensordot,
        "conv2d_forward with the 1x1 kernel": _pw_forward_conv,
    },
    "pointwise_conv2d_backward": {
        "the reference": ref.pointwise_conv2d_backward,
        "chapter 05's linear backward on rows of pixels": _pw_backward,
        "einsum": _pw_backward_einsum,
        "tensordot": _pw_backward_tensordot,
    },
}
