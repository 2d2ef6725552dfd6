"""Checks for the blocks of modern CNNs (chapter 11): global average pooling, depthwise
convolution, the residual block's join and fork, and the 1x1 convolution.

The residual checks hand the learner's code the grader's own branch and shortcut
(convolutions by the reference, in this process), count how often each is called,
and compare with the reference on 1-D hand cases and on convolution branches.
"""
from __future__ import annotations

import numpy as np

from .activations import channels_last_view
from .core import REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_tuple


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------- 11.1-11.2 global average pooling

GAP_SHAPES = [(1, 1, 2, 2), (2, 3, 4, 5), (3, 2, 7, 1), (1, 4, 1, 6), (4, 8, 3, 3)]


def _gap_forward_hints(x):
    H, W = x.shape[2:]
    return [(x.sum(axis=(2, 3)), "that is the sum of each channel: divide it by the number of positions H*W."),
            (x.max(axis=(2, 3)), "that is the maximum of each channel: global *average* pooling takes the mean."),
            (x.mean(axis=(2, 3), keepdims=True), "return one row per sample, shape (N, C): the mean over axes 2 "
                                                 "and 3 without keepdims (the head's linear layer reads (N, C))."),
            (x.mean(axis=2).sum(axis=2), "divide by H*W, the number of positions, not by H alone."),
            (x.mean(axis=3).sum(axis=2), "divide by H*W, the number of positions, not by W alone."),
            (x.mean(axis=(0, 2, 3)) + 0 * x[:, :, 0, 0], "average each sample on its own: axis 0 (the batch) "
                                                         "stays.")] if H * W > 1 else []


def _gap_backward_hints(dout, shape):
    N, C, H, W = shape
    spread = np.broadcast_to(dout[:, :, None, None], shape)
    first = np.zeros(shape)
    first[:, :, 0, 0] = dout
    return [(spread, "each of the H*W positions gets dout / (H*W): the mean divides by H*W, so its gradient "
                     "does too."),
            (spread / H, "divide by H*W, the number of positions, not by H alone."),
            (spread / W, "divide by H*W, the number of positions, not by W alone."),
            (spread / (N * H * W), "divide by H*W only: each sample's mean is over its own H*W positions, the "
                                   "batch size does not enter."),
            (first, "every position took part in the mean, so every position gets a share, not only the first "
                    "(that would be max pooling's rule).")]


@check("global_avgpool_forward", "a hand case: x = [[1, 2], [3, 10]] gives 4")
def _(impl):
    x = np.array([[[[1.0, 2.0], [3.0, 10.0]]]])
    out, _ = expect_tuple(impl.global_avgpool_forward(x), 2, "global_avgpool_forward")
    compare(out, np.array([[4.0]]), "global_avgpool_forward", "x = [[1, 2], [3, 10]] (N = C = 1)",
            hints=_gap_forward_hints(x))


@check("global_avgpool_forward", "matches the reference on random inputs, single rows and columns included")
def _(impl):
    for i, shape in enumerate(GAP_SHAPES):
        x = _rng(i).standard_normal(shape)
        out, _ = expect_tuple(impl.global_avgpool_forward(x), 2, "global_avgpool_forward")
        compare(out, REF.global_avgpool_forward(x)[0], "global_avgpool_forward", describe_inputs(x=x),
                hints=_gap_forward_hints(x))


@check("global_avgpool_forward", "keeps dtype float32, reads channels-last views, leaves x unmodified")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x = layout(_rng(5).standard_normal((2, 3, 4, 4)).astype(np.float32))
        frozen = Frozen(x=x)
        out, _ = expect_tuple(impl.global_avgpool_forward(x), 2, "global_avgpool_forward")
        frozen.verify("global_avgpool_forward")
        compare(out, REF.global_avgpool_forward(x.copy())[0], "global_avgpool_forward", "float32 " +
                describe_inputs(x=x))


@check("global_avgpool_forward", "its cache is x.shape, what the reference backward reads")
def _(impl):
    x = _rng(6).standard_normal((2, 3, 4, 5))
    _, cache = expect_tuple(impl.global_avgpool_forward(x), 2, "global_avgpool_forward")
    if not (isinstance(cache, tuple) and len(cache) == 4 and tuple(cache) == x.shape):
        got = f"an array of shape {cache.shape}" if isinstance(cache, np.ndarray) else repr(cache)
        raise GradingError(f"global_avgpool_forward's cache for {describe_inputs(x=x)} must be x.shape "
                           f"{x.shape}, received {got}", "the backward needs only the shape of x (the values "
                           "do not enter the gradient of a mean): return x.shape as the cache.")


@check("global_avgpool_backward", "a hand case: dout = 4 over a 2 x 2 map gives 1 everywhere")
def _(impl):
    dout = np.array([[4.0]])
    compare(impl.global_avgpool_backward(dout.copy(), (1, 1, 2, 2)), np.ones((1, 1, 2, 2)),
            "global_avgpool_backward", "dout = [[4]], cache (1, 1, 2, 2)", hints=_gap_backward_hints(dout,
                                                                                                     (1, 1, 2, 2)))


@check("global_avgpool_backward", "matches the reference on random inputs")
def _(impl):
    for i, shape in enumerate(GAP_SHAPES):
        dout = _rng(10 + i).standard_normal(shape[:2])
        compare(impl.global_avgpool_backward(dout.copy(), shape), REF.global_avgpool_backward(dout, shape),
                "global_avgpool_backward", f"dout.shape={dout.shape}, cache {shape}",
                hints=_gap_backward_hints(dout, shape))


@check("global_avgpool_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x = _rng(20).standard_normal((2, 3, 3, 4))
    dout = _rng(21).standard_normal((2, 3))
    compare_gradient(impl.global_avgpool_backward(dout.copy(), x.shape),
                     lambda v: REF.global_avgpool_forward(v)[0], x, dout, "dx", describe_inputs(x=x))


@check("global_avgpool_backward", "keeps dtype float32 and leaves dout unmodified")
def _(impl):
    dout = _rng(22).standard_normal((3, 4)).astype(np.float32)
    frozen = Frozen(dout=dout)
    got = impl.global_avgpool_backward(dout, (3, 4, 5, 5))
    frozen.verify("global_avgpool_backward")
    compare(got, REF.global_avgpool_backward(dout, (3, 4, 5, 5)), "global_avgpool_backward",
            "float32 dout, cache (3, 4, 5, 5)")


# ---------------------------------------------------------------------------- 11.3-11.4 depthwise convolution

# (N, C, H, W, kH, kW, stride, padding, bias): 1x1 and non-square kernels, strides with and without overlap.
DW_CONFIGS = [
    (1, 1, 4, 4, 3, 3, 1, 0, False),
    (2, 3, 6, 5, 3, 3, 1, 1, True),
    (2, 4, 7, 7, 3, 3, 2, 1, True),
    (1, 2, 5, 6, 2, 3, 1, 0, True),
    (3, 2, 8, 8, 1, 1, 2, 0, True),
    (2, 3, 9, 7, 5, 5, 2, 2, False),
    (1, 5, 6, 6, 3, 2, 3, 1, True),
]


def dw_case(cfg, seed: int, dtype=np.float64):
    N, C, H, W, kH, kW, s, p, has_bias = cfg
    rng = _rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((C, 1, kH, kW)).astype(dtype)
    b = rng.standard_normal(C).astype(dtype) if has_bias else None
    return x, w, b, s, p


def _dw_desc(x, w, b, s, p):
    return describe_inputs(x=x, weight=w, stride=s, padding=p) + (", bias" if b is not None else ", bias=None")


def _try(f, *args):
    try:
        return f(*args)
    except ValueError:
        return None


def _mixed(w, C):
    """A full convolution weight (C, C, kH, kW) in which output channel c uses channel c's filter on every input
    channel: what ``conv2d_forward`` computes when the depthwise weight is repeated (groups=1)."""
    return np.ascontiguousarray(np.repeat(w, C, axis=1))


def _dw_forward_hints(x, w, b, s, p):
    ref = lambda *a: REF.depthwise_conv2d_forward(*a)[0]  # noqa: E731
    C = x.shape[1]
    hints = [(ref(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, s, p),
              "the kernel is flipped: that is a true convolution; the course (and PyTorch) cross-correlate, "
              "out[i, j] uses weight[u, v] on x[i*stride + u, j*stride + v]."),
             (REF.conv2d_forward(x, _mixed(w, C), b, s, p)[0],
              "the channels are mixed: a depthwise convolution applies filter c to channel c only, without "
              "summing over the input channels.")]
    if b is not None:
        hints.append((ref(x, w, None, s, p), "the bias is missing: add bias[c] to every position of channel c."))
    if w.shape[2] == w.shape[3] and w.shape[2] > 1:
        hints.append((ref(x, np.ascontiguousarray(w.transpose(0, 1, 3, 2)), b, s, p),
                      "the kernel is transposed: weight[c, 0, u, v] multiplies the row offset u and the column "
                      "offset v."))
    if s > 1:
        hints.append((_try(ref, x, w, b, 1, p), "the stride is ignored: window (i, j) starts at "
                                                "(i*stride, j*stride)."))
    if p > 0:
        hints.append((_try(ref, x, w, b, s, 0), "the padding is ignored: add `padding` zeros on each side of H "
                                                "and W first."))
    return hints


def _dw_loop_dx(dout, x, w, s, p, add=True):
    """dx by a loop over output positions, optionally overwriting where windows overlap (a mistake)."""
    N, C, H, W = x.shape
    kH, kW = w.shape[2:]
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            g = dout[:, :, i, j, None, None] * w[None, :, 0]
            if add:
                dxp[:, :, i * s:i * s + kH, j * s:j * s + kW] += g
            else:
                dxp[:, :, i * s:i * s + kH, j * s:j * s + kW] = g
    return dxp[:, :, p:p + H, p:p + W]


def _dw_backward_hints(dout, x, w, b, s, p):
    dx, dw, db = REF.depthwise_conv2d_backward(dout, (x, w, b, s, p))
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1])
    N = x.shape[0]
    hints_dx = [(REF.depthwise_conv2d_backward(dout, (x, flipped, b, s, p))[0],
                 "dx uses the kernel flipped: in the backward each output position sends dout * weight[u, v] "
                 "back to the input it read at offset (u, v), so use weight as it is."),
                (REF.conv2d_backward(dout, REF.conv2d_forward(x, _mixed(w, x.shape[1]), b, s, p)[1])[0],
                 "dx mixes the channels: channel c of x only fed channel c of the output, so only dout[:, c] "
                 "reaches it.")]
    if s < max(w.shape[2:]):
        hints_dx.append((_dw_loop_dx(dout, x, w, s, p, add=False),
                         "windows overlap (stride < kernel): add the contributions of every window (+=), do not "
                         "overwrite them."))
    hints_dw = [(dw / N, "dweight is a sum over the batch, not a mean (the loss's 1/N is already in dout)."),
                (np.ascontiguousarray(dw[:, :, ::-1, ::-1]), "dweight is flipped: dweight[c, 0, u, v] sums "
                                                             "dout[:, c] times the inputs read at offset (u, v)."),
                (np.broadcast_to(dw.sum(axis=0, keepdims=True), dw.shape),
                 "every channel has its own filter, so its own gradient: do not sum dweight over the channels.")]
    hints_db = [] if db is None else [(db / N, "dbias is a sum over the batch, not a mean."),
                                      (dout.sum(axis=(0, 2, 3)) / (dout.shape[2] * dout.shape[3]),
                                       "dbias sums over every output position: bias[c] was added at each one.")]
    return hints_dx, hints_dw, hints_db


@check("depthwise_conv2d_forward", "a hand case: two channels, each with its own 2x2 filter")
def _(impl):
    x = np.arange(18.0).reshape(1, 2, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, 0.0]]], [[[0.0, 0.0], [0.0, 2.0]]]])  # picks the top-left; twice bottom-right
    b = np.array([0.5, -1.0])
    out, _ = expect_tuple(impl.depthwise_conv2d_forward(x, w, b), 2, "depthwise_conv2d_forward")
    expected = np.array([[[[0.5, 1.5], [3.5, 4.5]], [[25.0, 27.0], [31.0, 33.0]]]])
    compare(out, expected, "depthwise_conv2d_forward", "x = arange(18).reshape(1, 2, 3, 3), weight[0] picks "
            "the top-left, weight[1] twice the bottom-right, bias = [0.5, -1]", hints=_dw_forward_hints(x, w, b, 1, 0))


@check("depthwise_conv2d_forward", "matches the reference: strides, padding, 1x1 and non-square kernels")
def _(impl):
    for i, cfg in enumerate(DW_CONFIGS):
        x, w, b, s, p = dw_case(cfg, seed=i)
        out, _ = expect_tuple(impl.depthwise_conv2d_forward(x, w, b, s, p), 2, "depthwise_conv2d_forward")
        compare(out, REF.depthwise_conv2d_forward(x, w, b, s, p)[0], "depthwise_conv2d_forward",
                _dw_desc(x, w, b, s, p), hints=_dw_forward_hints(x, w, b, s, p))


@check("depthwise_conv2d_forward", "keeps dtype float32, reads channels-last views, leaves inputs unmodified")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x, w, b, s, p = dw_case(DW_CONFIGS[2], seed=20, dtype=np.float32)
        x = layout(x)
        frozen = Frozen(x=x, weight=w, bias=b)
        out, _ = expect_tuple(impl.depthwise_conv2d_forward(x, w, b, s, p), 2, "depthwise_conv2d_forward")
        frozen.verify("depthwise_conv2d_forward")
        compare(out, REF.depthwise_conv2d_forward(x.copy(), w, b, s, p)[0], "depthwise_conv2d_forward",
                "float32 " + _dw_desc(x, w, b, s, p))


@check("depthwise_conv2d_forward", "its cache is (x, weight, bias, stride, padding)")
def _(impl):
    for i, cfg in enumerate(DW_CONFIGS[1:3]):
        x, w, b, s, p = dw_case(cfg, seed=30 + i)
        _, cache = expect_tuple(impl.depthwise_conv2d_forward(x, w, b, s, p), 2, "depthwise_conv2d_forward")
        ok = isinstance(cache, tuple) and len(cache) == 5 and isinstance(cache[0], np.ndarray) and \
            cache[0].shape == x.shape and np.array_equal(cache[0], x) and isinstance(cache[1], np.ndarray) and \
            np.array_equal(cache[1], w) and (cache[2] is None) == (b is None) and tuple(cache[3:]) == (s, p)
        if not ok:
            raise GradingError(f"depthwise_conv2d_forward's cache for {_dw_desc(x, w, b, s, p)} must be the "
                               "5-tuple (x, weight, bias, stride, padding)",
                               "store x itself (not its padded copy) and the arguments as they came.")


@check("depthwise_conv2d_backward", "a hand case: one channel, a 2x2 filter on a 3x3 input")
def _(impl):
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = np.zeros(1)
    dout = np.ones((1, 1, 2, 2))
    dx, dw, db = expect_tuple(impl.depthwise_conv2d_backward(dout.copy(), (x, w, b, 1, 0)), 3,
                              "depthwise_conv2d_backward")
    desc = "x = arange(9).reshape(1, 1, 3, 3), weight = [[1, 2], [3, 4]], dout = ones((1, 1, 2, 2))"
    hx, hw, hb = _dw_backward_hints(dout, x, w, b, 1, 0)
    compare(dx, [[[[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]]], "dx", desc, hints=hx)
    compare(dw, [[[[8.0, 12.0], [20.0, 24.0]]]], "dweight", desc, hints=hw)
    compare(db, [4.0], "dbias", desc, hints=hb)


@check("depthwise_conv2d_backward", "matches the reference: strides, padding, 1x1 and non-square kernels")
def _(impl):
    for i, cfg in enumerate(DW_CONFIGS):
        x, w, b, s, p = dw_case(cfg, seed=40 + i)
        out, cache = REF.depthwise_conv2d_forward(x, w, b, s, p)
        dout = _rng(i).standard_normal(out.shape)
        if i % 2:
            dout = channels_last_view(dout)
        got = expect_tuple(impl.depthwise_conv2d_backward(dout, cache), 3, "depthwise_conv2d_backward")
        hints = _dw_backward_hints(dout, x, w, b, s, p)
        for name, g, e, h in zip(("dx", "dweight", "dbias"), got, REF.depthwise_conv2d_backward(dout, cache), hints):
            if e is None:
                if g is not None:
                    raise GradingError(f"{name} for {_dw_desc(x, w, b, s, p)} must be None: the forward had no "
                                       "bias", "return None for dbias when bias is None, as conv2d_backward does.")
                continue
            compare(g, e, name, _dw_desc(x, w, b, s, p), rtol=1e-7, atol=1e-9, hints=h)


@check("depthwise_conv2d_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x, w, b, s, p = dw_case((2, 2, 5, 6, 3, 3, 2, 1, True), seed=50)
    out, cache = REF.depthwise_conv2d_forward(x, w, b, s, p)
    dout = _rng(51).standard_normal(out.shape)
    dx, dw, db = expect_tuple(impl.depthwise_conv2d_backward(dout.copy(), cache), 3, "depthwise_conv2d_backward")
    desc = _dw_desc(x, w, b, s, p)
    compare_gradient(dx, lambda v: REF.depthwise_conv2d_forward(v, w, b, s, p)[0], x, dout, "dx", desc)
    compare_gradient(dw, lambda v: REF.depthwise_conv2d_forward(x, v, b, s, p)[0], w, dout, "dweight", desc)
    compare_gradient(db, lambda v: REF.depthwise_conv2d_forward(x, w, v, s, p)[0], b, dout, "dbias", desc)


@check("depthwise_conv2d_backward", "keeps dtype float32 and leaves its inputs unmodified")
def _(impl):
    x, w, b, s, p = dw_case(DW_CONFIGS[5], seed=60, dtype=np.float32)
    out, cache = REF.depthwise_conv2d_forward(x, w, b, s, p)
    dout = _rng(61).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout, x=x, weight=w)
    got = expect_tuple(impl.depthwise_conv2d_backward(dout, cache), 3, "depthwise_conv2d_backward")
    frozen.verify("depthwise_conv2d_backward")
    for name, g, e in zip(("dx", "dweight"), got, REF.depthwise_conv2d_backward(dout, cache)):
        compare(g, e, name, "float32 " + _dw_desc(x, w, b, s, p), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- 11.5-11.6 the residual block

class Counted:
    """A function of the grader's that counts its calls (the learner's code gets it as a callback)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args):
        self.calls += 1
        return self.fn(*args)


def scale_block(a: float):
    """The hand case's 1-D branch ``y = a * x``: (forward, backward), its cache None."""
    return (lambda x: (a * x, None)), (lambda d, cache: a * d)


def conv_block(C_in: int, C_out: int, stride: int, seed: int, kernel: int = 3, dtype=np.float64):
    """A convolution ``x -> conv(x)`` by the reference, as (forward, backward) of a branch or a shortcut."""
    rng = _rng(seed)
    w = (rng.standard_normal((C_out, C_in, kernel, kernel)) / np.sqrt(C_in * kernel * kernel)).astype(dtype)
    b = (0.1 * rng.standard_normal(C_out)).astype(dtype)

    def forward(x):
        return REF.conv2d_forward(x, w, b, stride, kernel // 2)

    def backward(d, cache):
        return REF.conv2d_backward(d, cache)[0]

    return forward, backward


def residual_cases(dtype=np.float64):
    """(description, x, branch, branch_backward, shortcut, shortcut_backward): identity shortcuts, a 1x1
    projection that keeps the shape (so that ignoring it shows), and one that halves the size and doubles
    the channels."""
    cases = []
    for i, (N, C, H, C_out, stride, projection) in enumerate([(2, 3, 5, 3, 1, False), (1, 4, 6, 4, 1, False),
                                                               (2, 3, 5, 3, 1, True), (2, 2, 6, 4, 2, True)]):
        x = _rng(70 + i).standard_normal((N, C, H, H)).astype(dtype)
        branch = conv_block(C, C_out, stride, seed=80 + i, dtype=dtype)
        shortcut = conv_block(C, C_out, stride, seed=90 + i, kernel=1, dtype=dtype) if projection else (None, None)
        desc = (describe_inputs(x=x) + f", branch a 3x3 conv {C} -> {C_out} (stride {stride}), shortcut " +
                (f"a 1x1 conv (stride {stride})" if projection else "the identity (None)"))
        cases.append((desc, x, *branch, *shortcut))
    return cases


def _relu(z):
    return np.maximum(z, 0)


def _forward_hints(x, branch, shortcut):
    y = branch(x)[0]
    s = x if shortcut is None else shortcut(x)[0]
    hints = [(_relu(y) + s, "the ReLU comes after the addition: out = relu(branch(x) + shortcut(x)), not "
                            "relu(branch(x)) + shortcut(x)."),
             (y + s, "the ReLU at the join is missing: out = relu(branch(x) + shortcut(x))."),
             (_relu(y), "the shortcut is missing: add it to the branch's output before the ReLU."),
             (_relu(y) + _relu(s), "one ReLU after the sum, not one on each path.")]
    if shortcut is not None and s.shape == x.shape:
        hints.append((_relu(y + x), "the shortcut was given: add shortcut(x), not x itself (None means the "
                                    "identity)."))
    return hints


def _backward_hints(dout, x, out, branch_cache, shortcut_cache, branch_backward, shortcut_backward):
    d = dout * (out > 0)
    sc = (lambda g: g) if shortcut_backward is None else (lambda g: shortcut_backward(g, shortcut_cache))
    bb = lambda g: branch_backward(g, branch_cache)  # noqa: E731
    hints = [(bb(d), "the shortcut's gradient is missing: x feeds both paths, so the gradients add at the fork, "
                     "dx = (through the branch) + (through the shortcut)."),
             (bb(dout) + sc(dout), "the ReLU at the join is skipped in the backward: multiply dout by its mask "
                                   "(out > 0) before it splits into the two paths."),
             (bb(d) + sc(dout), "the shortcut's gradient must pass through the join's ReLU too: mask dout first, "
                                "then send the same masked gradient along both paths."),
             (bb(dout) + sc(d), "the branch's gradient must pass through the join's ReLU too: mask dout first, "
                                "then send the same masked gradient along both paths."),
             ((bb(d) + sc(d)) / 2, "the two gradients add at the fork: no averaging.")]
    if bb(dout).shape == out.shape:
        hints.append(((bb(dout) + sc(dout)) * (out > 0), "the ReLU's mask belongs where the ReLU is, at the join: "
                                                        "apply it to dout before the paths, not to dx after them."))
    if shortcut_backward is not None and bb(d).shape == d.shape:
        hints.append((bb(d) + d, "the shortcut was given: send the gradient through shortcut_backward (None means "
                                 "the identity)."))
    return hints


def _call_forward(impl, x, branch, shortcut):
    b, s = Counted(branch), (None if shortcut is None else Counted(shortcut))
    result = expect_tuple(impl.residual_forward(x, b.__call__, s.__call__) if s is not None else
                          impl.residual_forward(x, b.__call__), 2, "residual_forward")
    for name, f in (("branch", b), ("shortcut", s)):
        if f is not None and f.calls != 1:
            raise GradingError(f"residual_forward called {name} {f.calls} times; call it exactly once",
                               f"keep what {name}(x) returns: a layer computes its cache (and batch norm updates its "
                               "running statistics) on every call." if f.calls else
                               f"{name} was given: add what {name}(x) returns (only None means the identity).")
    return result


@check("residual_forward", "hand cases in 1-D: branch y = -2x, identity shortcut, then a shortcut 3x")
def _(impl):
    x = np.array([[1.0, -2.0, 3.0, -4.0]])
    branch, _ = scale_block(-2.0)
    out, _ = _call_forward(impl, x, branch, None)
    compare(out, [[0.0, 2.0, 0.0, 4.0]], "residual_forward", "x = [[1, -2, 3, -4]], branch y = -2x, shortcut None",
            hints=_forward_hints(x, branch, None))
    shortcut, _ = scale_block(3.0)
    out, _ = _call_forward(impl, x, branch, shortcut)
    compare(out, [[1.0, 0.0, 3.0, 0.0]], "residual_forward", "x = [[1, -2, 3, -4]], branch y = -2x, shortcut s = 3x",
            hints=_forward_hints(x, branch, shortcut))


@check("residual_forward", "matches the reference with convolution branches, identity and projection shortcuts")
def _(impl):
    for desc, x, branch, _, shortcut, _ in residual_cases():
        out, _ = _call_forward(impl, x, branch, shortcut)
        compare(out, REF.residual_forward(x, branch, shortcut)[0], "residual_forward", desc,
                hints=_forward_hints(x, branch, shortcut))


@check("residual_forward", "keeps dtype float32 and leaves x unmodified")
def _(impl):
    desc, x, branch, _, shortcut, _ = residual_cases(np.float32)[3]
    frozen = Frozen(x=x)
    out, _ = _call_forward(impl, x, branch, shortcut)
    frozen.verify("residual_forward")
    compare(out, REF.residual_forward(x, branch, shortcut)[0], "residual_forward", "float32 " + desc)


@check("residual_forward", "its cache (branch_cache, shortcut_cache, out) works with the reference backward")
def _(impl):
    for i, (desc, x, branch, branch_backward, shortcut, shortcut_backward) in enumerate(residual_cases()):
        out, cache = _call_forward(impl, x, branch, shortcut)
        if not (isinstance(cache, tuple) and len(cache) == 3):
            raise GradingError(f"residual_forward's cache for {desc} must be the 3-tuple (branch_cache, "
                               f"shortcut_cache, out), received a {type(cache).__name__}",
                               "keep the two caches the paths returned, and the output.")
        if shortcut is None and cache[1] is not None:
            raise GradingError(f"residual_forward's cache[1] for {desc} must be None: the identity shortcut "
                               "has no cache", "with shortcut=None, s is x itself and its cache None.")
        dout = _rng(i).standard_normal(out.shape)
        expected = REF.residual_backward(dout, REF.residual_forward(x, branch, shortcut)[1], branch_backward,
                                         shortcut_backward)
        hints = [(REF.residual_backward(dout, (cache[0], cache[1], branch(x)[0]), branch_backward, shortcut_backward),
                  "cache[2] must be the block's output after the ReLU (its mask), not the branch's output.")]
        compare(REF.residual_backward(dout, cache, branch_backward, shortcut_backward), expected,
                "reference residual_backward on your cache", desc, hints=hints)


def _call_backward(impl, dout, cache, branch_backward, shortcut_backward):
    b, s = Counted(branch_backward), (None if shortcut_backward is None else Counted(shortcut_backward))
    dx = impl.residual_backward(dout, cache, b.__call__, s.__call__) if s is not None else \
        impl.residual_backward(dout, cache, b.__call__)
    for name, f in (("branch_backward", b), ("shortcut_backward", s)):
        if f is not None and f.calls != 1:
            raise GradingError(f"residual_backward called {name} {f.calls} times; call it exactly once",
                               "each path is walked back once, with the masked gradient; then the two results "
                               "add." if f.calls else f"{name} was given: the gradient of the shortcut is what "
                               f"{name} returns (only None means the identity).")
    return dx


@check("residual_backward", "hand cases in 1-D: the ReLU's mask, then the sum at the fork")
def _(impl):
    x = np.array([[1.0, -2.0, 3.0, -4.0]])
    dout = np.array([[1.0, 2.0, 3.0, 4.0]])
    for a_s, expected in ((None, [[0.0, -2.0, 0.0, -4.0]]), (3.0, [[1.0, 0.0, 3.0, 0.0]])):
        branch, branch_backward = scale_block(-2.0)
        shortcut, shortcut_backward = scale_block(a_s) if a_s is not None else (None, None)
        out, cache = REF.residual_forward(x, branch, shortcut)
        desc = ("x = [[1, -2, 3, -4]], branch y = -2x, shortcut " + ("None" if a_s is None else "s = 3x") +
                ", dout = [[1, 2, 3, 4]] (out = " + str(out.tolist()) + ")")
        dx = _call_backward(impl, dout.copy(), cache, branch_backward, shortcut_backward)
        compare(dx, expected, "residual_backward", desc,
                hints=_backward_hints(dout, x, out, *cache[:2], branch_backward, shortcut_backward))


@check("residual_backward", "matches the reference with convolution branches, identity and projection shortcuts")
def _(impl):
    for i, (desc, x, branch, branch_backward, shortcut, shortcut_backward) in enumerate(residual_cases()):
        out, cache = REF.residual_forward(x, branch, shortcut)
        dout = _rng(100 + i).standard_normal(out.shape)
        dx = _call_backward(impl, dout.copy(), cache, branch_backward, shortcut_backward)
        compare(dx, REF.residual_backward(dout, cache, branch_backward, shortcut_backward), "residual_backward",
                desc, rtol=1e-7, atol=1e-9,
                hints=_backward_hints(dout, x, out, *cache[:2], branch_backward, shortcut_backward))


@check("residual_backward", "agrees with the numerical gradient of the whole block (float64)")
def _(impl):
    for i in (0, 3):
        desc, x, branch, branch_backward, shortcut, shortcut_backward = residual_cases()[i]
        out, cache = REF.residual_forward(x, branch, shortcut)
        dout = _rng(110 + i).standard_normal(out.shape)
        dx = _call_backward(impl, dout.copy(), cache, branch_backward, shortcut_backward)
        compare_gradient(dx, lambda v: REF.residual_forward(v, branch, shortcut)[0], x, dout, "dx", desc)


@check("residual_backward", "keeps dtype float32 and leaves dout unmodified")
def _(impl):
    desc, x, branch, branch_backward, shortcut, shortcut_backward = residual_cases(np.float32)[1]
    out, cache = REF.residual_forward(x, branch, shortcut)
    dout = _rng(120).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout)
    dx = _call_backward(impl, dout, cache, branch_backward, shortcut_backward)
    frozen.verify("residual_backward")
    compare(dx, REF.residual_backward(dout, cache, branch_backward, shortcut_backward), "residual_backward",
            "float32 " + desc)


# ---------------------------------------------------------------------------- 11.7-11.8 the 1x1 convolution

# (N, C_in, C_out, H, W, stride, bias): batch 1 and single channels, C_in == C_out (so that a transposed weight
# keeps the shape), W_out == C_out (so that a bias added along the last axis broadcasts), strides 2 and 3 on odd
# and non-square maps, a single row.
PW_CONFIGS = [
    (1, 1, 1, 3, 3, 1, True),
    (2, 3, 3, 4, 5, 1, True),
    (2, 3, 5, 6, 5, 1, True),
    (1, 4, 2, 7, 7, 2, False),
    (3, 2, 4, 5, 8, 3, True),
    (2, 8, 8, 1, 6, 1, False),
    (4, 5, 3, 5, 5, 2, True),
    (2, 4, 4, 6, 7, 2, True),
]


def pw_case(cfg, seed: int, dtype=np.float64):
    N, C_in, C_out, H, W, s, has_bias = cfg
    rng = _rng(seed)
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_out, C_in, 1, 1)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype) if has_bias else None
    return x, w, b, s


def _pw_desc(x, w, b, s):
    return describe_inputs(x=x, weight=w, stride=s) + (", bias" if b is not None else ", bias=None")


def _pw_forward_hints(x, w, b, s):
    """What the common mistakes of a 1x1 convolution's forward produce."""
    N, C_in = x.shape[:2]
    C_out, m = w.shape[0], w[:, :, 0, 0]
    xs = x[:, :, ::s, ::s]
    H_out, W_out = xs.shape[2:]
    b4 = 0 if b is None else b[:, None, None]
    rows = xs.transpose(0, 2, 3, 1).reshape(-1, C_in) @ m.T  # (N*H_out*W_out, C_out), correct
    mixed = np.ascontiguousarray(xs).reshape(-1, C_in) @ m.T  # rows that are not pixels
    not_last = "x.reshape(-1, C_in) on an (N, C, H, W) array does not give one pixel per row (the channels are " \
               "not the last axis): move them last first, x.transpose(0, 2, 3, 1), then reshape."
    hints = [(mixed.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2) + b4, not_last),
             (mixed.reshape(N, C_out, H_out, W_out) + b4, not_last),
             (rows.reshape(N, C_out, H_out, W_out) + b4,
              "the product's rows are pixels in (N, H_out, W_out) order: reshape it to (N, H_out, W_out, C_out), "
              "then move the channels to axis 1 (transpose(0, 3, 1, 2)).")]
    if C_in == C_out:
        hints.append((np.einsum("co,nchw->nohw", m, xs) + b4,
                      "the weight is used transposed: output channel o sums weight[o, c, 0, 0] * x[:, c] over the "
                      "input channels c, so the rows of pixels multiply weight[:, :, 0, 0].T."))
    if b is not None:
        hints.append((rows.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2),
                      "the bias is missing: add bias[o] to every pixel of output channel o."))
        if W_out == C_out:
            hints.append((rows.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2) + b,
                          "the bias went along the last axis (W): bias[o] belongs to output channel o, axis 1 of "
                          "the (N, C_out, H_out, W_out) result (bias[:, None, None] broadcasts so)."))
    if s > 1:
        hints.append((REF.pointwise_conv2d_forward(x, w, b, 1)[0],
                      "the stride is ignored: a strided 1x1 convolution reads every stride-th pixel, "
                      "x[:, :, ::stride, ::stride]."))
        late = x[:, :, s - 1::s, s - 1::s]  # (N, C_in, H // s, W // s), compared where the shape fits
        hints.append((np.einsum("oc,nchw->nohw", m, late) + (0 if b is None else b[:, None, None]),
                      "output pixel (i, j) reads input pixel (i*stride, j*stride): start at pixel 0, not at "
                      "stride - 1 (so H_out = (H - 1) // stride + 1)."))
    return hints


def _pw_forward(impl, x, w, b, s):
    return expect_tuple(impl.pointwise_conv2d_forward(x, w, b, s), 2, "pointwise_conv2d_forward")


@check("pointwise_conv2d_forward", "hand cases: two channels mixed by a 2x2 matrix; stride 2 reads the corners")
def _(impl):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [-1.0, 2.0]]]])
    w = np.array([[1.0, 2.0], [0.0, -1.0]])[:, :, None, None]
    b = np.array([0.5, -1.0])
    out, _ = _pw_forward(impl, x, w, b, 1)
    compare(out, [[[[1.5, 4.5], [1.5, 8.5]], [[-1.0, -2.0], [0.0, -3.0]]]], "pointwise_conv2d_forward",
            "x[0, 0] = [[1, 2], [3, 4]], x[0, 1] = [[0, 1], [-1, 2]], weight[:, :, 0, 0] = [[1, 2], [0, -1]], "
            "bias = [0.5, -1]", hints=_pw_forward_hints(x, w, b, 1))
    x, w = np.arange(9.0).reshape(1, 1, 3, 3), np.array([[[[2.0]]]])
    out, _ = _pw_forward(impl, x, w, None, 2)
    compare(out, [[[[0.0, 4.0], [12.0, 16.0]]]], "pointwise_conv2d_forward",
            "x = arange(9).reshape(1, 1, 3, 3), weight = [[[[2]]]], bias=None, stride=2",
            hints=_pw_forward_hints(x, w, None, 2))


@check("pointwise_conv2d_forward", "matches the reference: strides, no bias, single channels and rows")
def _(impl):
    for i, cfg in enumerate(PW_CONFIGS):
        x, w, b, s = pw_case(cfg, seed=200 + i)
        expected, hints = REF.pointwise_conv2d_forward(x, w, b, s)[0], _pw_forward_hints(x, w, b, s)
        out, _ = _pw_forward(impl, x, w, b, s)
        compare(out, expected, "pointwise_conv2d_forward", _pw_desc(x, w, b, s), rtol=1e-7, atol=1e-9, hints=hints)


@check("pointwise_conv2d_forward", "equals conv2d_forward with a 1x1 kernel, on channels-last and sliced inputs")
def _(impl):
    layouts = ((PW_CONFIGS[4], channels_last_view), (PW_CONFIGS[6], lambda a: a[:, :, 1:, :-1]))
    for i, (cfg, layout) in enumerate(layouts):
        x, w, b, s = pw_case(cfg, seed=210 + i)
        x = layout(x)
        out, _ = _pw_forward(impl, x, w, b, s)
        compare(out, REF.conv2d_forward(x, w, b, s, 0)[0], "pointwise_conv2d_forward",
                ("a channels-last view, " if i == 0 else "a sliced (non-contiguous) view, ") + _pw_desc(x, w, b, s),
                rtol=1e-7, atol=1e-9, hints=_pw_forward_hints(x, w, b, s))


@check("pointwise_conv2d_forward", "keeps dtype float32 and leaves its inputs unmodified (channels-last x too)")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x, w, b, s = pw_case(PW_CONFIGS[1], seed=220, dtype=np.float32)
        x = layout(x)
        frozen = Frozen(x=x, weight=w, bias=b)
        out, _ = _pw_forward(impl, x, w, b, s)
        frozen.verify("pointwise_conv2d_forward")
        compare(out, REF.pointwise_conv2d_forward(x.copy(), w, b, s)[0], "pointwise_conv2d_forward",
                "float32 " + _pw_desc(x, w, b, s))


@check("pointwise_conv2d_forward", "its cache is (x, weight, bias, stride), what the reference backward reads")
def _(impl):
    for i, cfg in enumerate((PW_CONFIGS[3], PW_CONFIGS[6])):
        x, w, b, s = pw_case(cfg, seed=230 + i)
        _, cache = _pw_forward(impl, x, w, b, s)
        ok = isinstance(cache, tuple) and len(cache) == 4 and isinstance(cache[0], np.ndarray) and \
            cache[0].shape == x.shape and np.array_equal(cache[0], x) and isinstance(cache[1], np.ndarray) and \
            cache[1].shape == w.shape and np.array_equal(cache[1], w) and (cache[2] is None) == (b is None) and \
            cache[3] == s
        if not ok:
            raise GradingError(f"pointwise_conv2d_forward's cache for {_pw_desc(x, w, b, s)} must be the 4-tuple "
                               "(x, weight, bias, stride)", "store x itself (not its subsampled or channels-last "
                               "rows) and the arguments as they came: the backward rebuilds the rows from x.")


def _pw_backward_hints(dout, x, w, b, s):
    """What the common mistakes of a 1x1 convolution's backward produce: (dx, dweight, dbias) hints."""
    dx, dw, db = REF.pointwise_conv2d_backward(dout, (x, w, b, s))
    N, C_in, H, W = x.shape
    C_out, m = w.shape[0], w[:, :, 0, 0]
    H_out, W_out = dout.shape[2:]

    def place(d):  # (N, C_in, H_out, W_out) -> x's shape, 0 at the pixels the forward skipped
        full = np.zeros(x.shape)
        full[:, :, ::s, ::s] = d
        return full

    dx_read = np.einsum("oc,nohw->nchw", m, dout)  # dx at the pixels the forward read
    mixed = (np.ascontiguousarray(dout).reshape(-1, C_out) @ m).reshape(N, H_out, W_out, C_in).transpose(0, 3, 1, 2)
    hints_dx = [(dx_read, "dx has the shape of x, (N, C_in, H, W): put the gradient at the pixels the forward read, "
                          "dx[:, :, ::stride, ::stride], and 0 at the others."),
                (place(mixed), "dout.reshape(-1, C_out) on an (N, C_out, H_out, W_out) array does not give one pixel "
                               "per row: move the channels last first, dout.transpose(0, 2, 3, 1), then reshape.")]
    if C_in == C_out:
        hints_dx.append((place(np.einsum("co,nohw->nchw", m, dout)),
                         "dx at each pixel is weight[:, :, 0, 0].T @ dout[n, :, i, j], the transpose of the "
                         "forward's matrix (in rows: dout_rows @ weight[:, :, 0, 0], chapter 05's dx = dout @ "
                         "weight); you left the transpose out."))
    if s > 1:
        hints_dx.append((np.repeat(np.repeat(dx_read, s, axis=2), s, axis=3)[:, :, :H, :W],
                         "a strided 1x1 convolution reads one pixel in every stride x stride block: only those "
                         "pixels get a gradient; the ones it skipped get 0."))
    pixels = N * H_out * W_out
    hints_dw = [(dw / N, "dweight is a sum over the batch, not a mean (the loss's 1/N is already in dout)."),
                (dw / pixels, "dweight sums over the batch and every output pixel: no division (it is a sum of "
                              "one outer product per pixel)."),
                (dw[:, :, 0, 0], "dweight has weight's shape, (C_out, C_in, 1, 1): add the two kernel axes back "
                                 "([:, :, None, None])."),
                (dw[:, :, 0, 0].T[:, :, None, None], "dweight[o, c] pairs dout's channel o with x's channel c: "
                                                      "dout_rows.T @ rows, (C_out, C_in), not its transpose.")]
    if N > 1:
        hints_dw.append((np.einsum("ohw,chw->oc", dout[0], x[0, :, ::s, ::s])[:, :, None, None],
                         "dweight sums over every sample of the batch, not only the first."))
    hints_db = [] if db is None else [
        (db / N, "dbias is a sum over the batch, not a mean."),
        (db / (H_out * W_out), "dbias sums over every output pixel too: bias[o] was added at each one."),
        (dout.sum(axis=(2, 3)), "dbias sums over the batch and every pixel, axes 0, 2 and 3, to shape (C_out,)."),
        (dout.sum(axis=(1, 2, 3)), "dbias sums over axes 0, 2 and 3 (all but the channels): bias[o] belongs to "
                                   "output channel o."),
        (dout.sum(axis=0), "dbias sums over the positions too, axes 0, 2 and 3, to shape (C_out,).")]
    return hints_dx, hints_dw, hints_db


def _pw_backward(impl, dout, cache):
    return expect_tuple(impl.pointwise_conv2d_backward(dout, cache), 3, "pointwise_conv2d_backward")


def _pw_compare_gradients(got, expected, hints, desc, **tol):
    for name, g, e, h in zip(("dx", "dweight", "dbias"), got, expected, hints):
        if e is None:
            if g is not None:
                raise GradingError(f"{name} for {desc} must be None: the forward had no bias",
                                   "return None for dbias when bias is None, as conv2d_backward does.")
            continue
        compare(g, e, name, desc, hints=h, **tol)


@check("pointwise_conv2d_backward", "hand cases: two channels mixed by a 2x2 matrix; stride 2 on a 3x3 map")
def _(impl):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [-1.0, 2.0]]]])
    w = np.array([[1.0, 2.0], [0.0, -1.0]])[:, :, None, None]
    b = np.array([0.5, -1.0])
    dout = np.array([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [2.0, 0.0]]]])
    desc = ("x[0, 0] = [[1, 2], [3, 4]], x[0, 1] = [[0, 1], [-1, 2]], weight[:, :, 0, 0] = [[1, 2], [0, -1]], "
            "bias = [0.5, -1], dout[0, 0] = [[1, 0], [0, 1]], dout[0, 1] = [[0, 1], [2, 0]]")
    got = _pw_backward(impl, dout.copy(), (x, w, b, 1))
    expected = ([[[[1.0, 0.0], [0.0, 1.0]], [[2.0, -1.0], [-2.0, 2.0]]]], [[[[5.0]], [[2.0]]], [[[8.0]], [[-1.0]]]],
                [2.0, 3.0])
    _pw_compare_gradients(got, [np.array(e) for e in expected], _pw_backward_hints(dout, x, w, b, 1), desc)
    x, w = np.arange(9.0).reshape(1, 1, 3, 3), np.array([[[[2.0]]]])
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    desc = "x = arange(9).reshape(1, 1, 3, 3), weight = [[[[2]]]], bias=None, stride=2, dout = [[1, 2], [3, 4]]"
    got = _pw_backward(impl, dout.copy(), (x, w, None, 2))
    expected = (np.array([[[[2.0, 0.0, 4.0], [0.0, 0.0, 0.0], [6.0, 0.0, 8.0]]]]), np.array([[[[54.0]]]]), None)
    _pw_compare_gradients(got, expected, _pw_backward_hints(dout, x, w, None, 2), desc)


@check("pointwise_conv2d_backward", "matches the reference: strides, no bias, channels-last dout")
def _(impl):
    for i, cfg in enumerate(PW_CONFIGS):
        x, w, b, s = pw_case(cfg, seed=240 + i)
        out, cache = REF.pointwise_conv2d_forward(x, w, b, s)
        dout = _rng(250 + i).standard_normal(out.shape)
        if i % 2:
            dout = channels_last_view(dout)
        expected, hints = REF.pointwise_conv2d_backward(dout, cache), _pw_backward_hints(dout, x, w, b, s)
        got = _pw_backward(impl, dout, cache)
        _pw_compare_gradients(got, expected, hints, _pw_desc(x, w, b, s), rtol=1e-7, atol=1e-9)


@check("pointwise_conv2d_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x, w, b, s = pw_case((2, 3, 4, 5, 6, 2, True), seed=260)
    out, cache = REF.pointwise_conv2d_forward(x, w, b, s)
    dout = _rng(261).standard_normal(out.shape)
    dx, dw, db = _pw_backward(impl, dout.copy(), cache)
    desc = _pw_desc(x, w, b, s)
    compare_gradient(dx, lambda v: REF.pointwise_conv2d_forward(v, w, b, s)[0], x, dout, "dx", desc)
    compare_gradient(dw, lambda v: REF.pointwise_conv2d_forward(x, v, b, s)[0], w, dout, "dweight", desc)
    compare_gradient(db, lambda v: REF.pointwise_conv2d_forward(x, w, v, s)[0], b, dout, "dbias", desc)


@check("pointwise_conv2d_backward", "keeps dtype float32 and leaves its inputs unmodified (channels-last dout too)")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x, w, b, s = pw_case(PW_CONFIGS[7], seed=270, dtype=np.float32)
        out, cache = REF.pointwise_conv2d_forward(x, w, b, s)
        dout = layout(_rng(271).standard_normal(out.shape).astype(np.float32))
        frozen = Frozen(dout=dout, x=x, weight=w)
        got = _pw_backward(impl, dout, cache)
        frozen.verify("pointwise_conv2d_backward")
        for name, g, e in zip(("dx", "dweight", "dbias"), got, REF.pointwise_conv2d_backward(dout, cache)):
            compare(g, e, name, "float32 " + _pw_desc(x, w, b, s), rtol=1e-4, atol=1e-5)
