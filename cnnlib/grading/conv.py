"""Checks for the convolution exercises (chapters 01, 02, 03)."""
from __future__ import annotations

import numpy as np

from .core import REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_tuple

# (N, C_in, H, W, C_out, kH, kW, stride, padding): batch 1, non-square, odd sizes, strides, paddings
CONFIGS = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0),
    (2, 3, 7, 5, 4, 3, 3, 1, 1),
    (3, 2, 8, 8, 3, 2, 2, 2, 0),
    (2, 3, 9, 7, 2, 3, 3, 2, 1),
    (1, 4, 6, 11, 5, 5, 3, 3, 2),
    (4, 1, 10, 10, 2, 1, 1, 1, 0),
    (2, 2, 5, 6, 3, 4, 2, 1, 2),
]


def random_case(cfg, seed: int, dtype=np.float64):
    N, C_in, H, W, C_out, kH, kW, stride, padding = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_out, C_in, kH, kW)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype)
    return x, w, b, stride, padding


def conv_hints(x, w, b, stride, padding):
    """What common mistakes produce, so a matching wrong answer gets its hint."""
    ref = lambda *a: REF.conv2d_naive(*a)  # noqa: E731
    hints = [(ref(x, w[:, :, ::-1, ::-1], b, stride, padding),
              "you flipped the kernel: deep learning's 'convolution' is cross-correlation (no flip)."),
             (ref(x, w, None, stride, padding), "the bias is missing: add bias[o] to every output of channel o.")]
    if stride > 1:
        hints.append((ref(x, w, b, 1, padding), "the stride is ignored: window (i, j) starts at (i*stride, j*stride)."))
    if padding > 0:
        hints.append((ref(x, w, b, stride, 0), "the padding is ignored: pad H and W by `padding` on each side."))
    if w.shape[2] == w.shape[3]:
        hints.append((ref(x, w.transpose(0, 1, 3, 2), b, stride, padding),
                      "the kernel is transposed: weight[o, c, u, v] multiplies row i*stride+u, column j*stride+v."))
    if w.shape[0] == w.shape[1]:
        hints.append((ref(x, w.transpose(1, 0, 2, 3), b, stride, padding),
                      "output and input channels are swapped: weight is (C_out, C_in, kH, kW)."))
    return hints


# ---------------------------------------------------------------------------- 1.1

@check("conv_output_size", "hand cases")
def _(impl):
    for args, expected in [((28, 3, 1, 1), 28), ((28, 3, 1, 0), 26), ((28, 2, 2, 0), 14),
                           ((7, 3, 2, 1), 4), ((5, 5, 1, 0), 1), ((10, 4, 3, 0), 3)]:
        got = impl.conv_output_size(*args)
        if got != expected:
            hint = None
            if got == (args[0] + args[3] - args[1]) // args[2] + 1:
                hint = "padding is added on both sides: use 2*padding."
            elif got == (args[0] + 2 * args[3] - args[1]) / args[2] + 1:
                hint = "use integer division // so the result is an int."
            elif got == (args[0] + 2 * args[3] - args[1]) // args[2]:
                hint = "off by one: the first window also counts (+ 1)."
            raise GradingError(f"conv_output_size{args} returned {got!r}, expected {expected}", hint)


@check("conv_output_size", "returns an int")
def _(impl):
    got = impl.conv_output_size(9, 3, 2, 1)
    if not isinstance(got, (int, np.integer)):
        raise GradingError(f"conv_output_size(9, 3, 2, 1) returned {got!r} of type {type(got).__name__}, "
                           "expected an int", "use integer division //, not /.")


@check("conv_output_size", "matches the formula on many sizes")
def _(impl):
    for size in range(1, 20):
        for k in range(1, 6):
            for s in range(1, 4):
                for p in range(0, 3):
                    if k <= size + 2 * p:
                        compare(impl.conv_output_size(size, k, s, p), REF.conv_output_size(size, k, s, p),
                                "conv_output_size", f"size={size}, kernel_size={k}, stride={s}, padding={p}")


# ---------------------------------------------------------------------------- 1.2 and 2.3

def hand_case():
    """x = [[0 1 2] [3 4 5] [6 7 8]], a kernel 'top-left minus bottom-right', bias 0.5 (fresh copies)."""
    return (np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3), np.array([[[[1.0, 0.0], [0.0, -1.0]]]]),
            np.array([0.5]))


def _forward(impl, name, *args):
    out = getattr(impl, name)(*args)
    return expect_tuple(out, 2, name)[0] if name == "conv2d_forward" else out


def _hand_case(impl, name):
    HAND_X, HAND_W, HAND_B = hand_case()
    got = _forward(impl, name, HAND_X, HAND_W, HAND_B, 1, 0)
    compare(got, np.full((1, 1, 2, 2), -3.5), name, "x = arange(9).reshape(1, 1, 3, 3), weight [[1, 0], [0, -1]], bias 0.5",
            hints=conv_hints(HAND_X, HAND_W, HAND_B, 1, 0))
    HAND_X, HAND_W, HAND_B = hand_case()
    got = _forward(impl, name, HAND_X, HAND_W, HAND_B, 2, 1)
    expected = np.array([[[[0.5, -1.5], [-5.5, -3.5]]]])
    compare(got, expected, name, "the same with stride=2, padding=1", hints=conv_hints(HAND_X, HAND_W, HAND_B, 2, 1))


def _random_cases(impl, name, rtol=1e-7):
    for i, cfg in enumerate(CONFIGS):
        x, w, b, s, p = random_case(cfg, seed=i)
        got = _forward(impl, name, x, w, b, s, p)
        compare(got, REF.conv2d_naive(x, w, b, s, p), name, describe_inputs(x=x, weight=w, stride=s, padding=p),
                rtol=rtol, atol=1e-9, hints=conv_hints(x, w, b, s, p))


def _no_bias(impl, name):
    x, w, b, s, p = random_case(CONFIGS[3], seed=10)
    compare(_forward(impl, name, x, w, None, s, p), REF.conv2d_naive(x, w, None, s, p), name,
            "bias=None " + describe_inputs(x=x, weight=w, stride=s, padding=p))


def _invariants(impl, name):
    x, w, b, s, p = random_case(CONFIGS[1], seed=20, dtype=np.float32)
    frozen = Frozen(x=x, weight=w, bias=b)
    got = _forward(impl, name, x, w, b, s, p)
    frozen.verify(name)
    compare(got, REF.conv2d_naive(x, w, b, s, p), name, "float32 inputs", rtol=1e-4, atol=1e-5)


for _name in ("conv2d_naive", "conv2d_forward"):
    check(_name, "hand-computed 3x3 case")(lambda impl, n=_name: _hand_case(impl, n))
    check(_name, "matches the reference on random inputs")(lambda impl, n=_name: _random_cases(impl, n))
    check(_name, "works without a bias")(lambda impl, n=_name: _no_bias(impl, n))
    check(_name, "keeps dtype float32 and leaves inputs unmodified")(lambda impl, n=_name: _invariants(impl, n))


@check("conv2d_forward", "its cache works with the reference conv2d_backward")
def _(impl):
    for i, cfg in enumerate(CONFIGS[:5]):
        x, w, b, s, p = random_case(cfg, seed=30 + i)
        out, cache = expect_tuple(impl.conv2d_forward(x, w, b, s, p), 2, "conv2d_forward")
        _, ref_cache = REF.conv2d_forward(x, w, b, s, p)
        if not isinstance(cache, tuple) or len(cache) != 6:
            raise GradingError("conv2d_forward's cache must be the tuple (x, weight, bias, stride, padding, cols)",
                               "see the docstring: conv2d_backward unpacks exactly these six items.")
        compare(cache[5], ref_cache[5], "cols in the cache", describe_inputs(x=x, weight=w, stride=s, padding=p))
        dout = np.random.default_rng(i).standard_normal(out.shape)
        for got, exp, what in zip(REF.conv2d_backward(dout, cache), REF.conv2d_backward(dout, ref_cache),
                                  ("dx", "dweight", "dbias")):
            compare(got, exp, f"reference conv2d_backward on your cache: {what}",
                    describe_inputs(x=x, weight=w, stride=s, padding=p))


# ---------------------------------------------------------------------------- 2.1 im2col

@check("im2col", "hand-computed 3x3 case")
def _(impl):
    got = impl.im2col(hand_case()[0], 2, 1, 0)
    expected = np.array([[[[0, 1, 3, 4], [1, 2, 4, 5]], [[3, 4, 6, 7], [4, 5, 7, 8]]]], dtype=np.float64)
    compare(got, expected, "im2col", "x = arange(9).reshape(1, 1, 3, 3), kernel_size=2",
            hints=[(expected.transpose(0, 2, 1, 3), "rows and columns of windows are swapped: "
                    "cols[n, i, j] is the window starting at row i*stride, column j*stride.")])


@check("im2col", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, w, _, s, p = random_case(cfg, seed=40 + i)
        k = w.shape[2:]
        N, C, kH, kW = x.shape[0], x.shape[1], k[0], k[1]
        ref = REF.im2col(x, k, s, p)
        wrong_order = ref.reshape(ref.shape[:3] + (kH, kW, C)).transpose(0, 1, 2, 5, 3, 4).reshape(ref.shape)
        compare(impl.im2col(x, k, s, p), ref, "im2col", describe_inputs(x=x, kernel_size=k, stride=s, padding=p),
                hints=[(wrong_order, "each row must be flattened channels-last, in (kH, kW, C_in) order: "
                        "window.transpose(1, 2, 0) for a (C_in, kH, kW) window.")])


@check("im2col", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, w, _, s, p = random_case(CONFIGS[3], seed=50, dtype=np.float32)
    frozen = Frozen(x=x)
    got = impl.im2col(x, (3, 3), s, p)
    frozen.verify("im2col")
    compare(got, REF.im2col(x, (3, 3), s, p), "im2col", "float32 input")


# ---------------------------------------------------------------------------- 2.2 col2im

@check("col2im", "hand-computed case: overlapping windows add up")
def _(impl):
    cols = np.ones((1, 2, 2, 4))  # 2x2 windows of a 3x3 image, stride 1
    expected = np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=np.float64)
    compare(impl.col2im(cols, (1, 1, 3, 3), 2, 1, 0), expected, "col2im",
            "cols of ones, x_shape=(1, 1, 3, 3), kernel_size=2",
            hints=[(np.array([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]], dtype=np.float64),
                    "overlapping windows must be added (+=), not overwritten (=).")])


@check("col2im", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, w, _, s, p = random_case(cfg, seed=60 + i)
        k = w.shape[2:]
        cols = np.random.default_rng(i).standard_normal(REF.im2col(x, k, s, p).shape)
        compare(impl.col2im(cols, x.shape, k, s, p), REF.col2im(cols, x.shape, k, s, p), "col2im",
                describe_inputs(cols=cols, x_shape=x.shape, kernel_size=k, stride=s, padding=p))


@check("col2im", "is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>")
def _(impl):
    x, w, _, s, p = random_case(CONFIGS[4], seed=70)
    c = np.random.default_rng(7).standard_normal(REF.im2col(x, w.shape[2:], s, p).shape)
    lhs, rhs = np.sum(REF.im2col(x, w.shape[2:], s, p) * c), np.sum(x * impl.col2im(c, x.shape, w.shape[2:], s, p))
    if not np.isclose(lhs, rhs, rtol=1e-8):
        raise GradingError(f"<im2col(x), c> = {lhs:.6g} but <x, col2im(c)> = {rhs:.6g}",
                           "every entry of cols must be added back where im2col took it from.")


@check("col2im", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    cols = np.random.default_rng(3).standard_normal((2, 5, 4, 18)).astype(np.float32)
    frozen = Frozen(cols=cols)
    got = impl.col2im(cols, (2, 2, 9, 7), 3, 2, 1)
    frozen.verify("col2im")
    compare(got, REF.col2im(cols, (2, 2, 9, 7), 3, 2, 1), "col2im", "float32 cols", rtol=1e-5)


# ---------------------------------------------------------------------------- 3.2 conv2d_backward

@check("conv2d_backward", "hand-computed case")
def _(impl):
    _, cache = REF.conv2d_forward(*hand_case(), 1, 0)
    dout = np.ones((1, 1, 2, 2))
    dx, dw, db = expect_tuple(impl.conv2d_backward(dout, cache), 3, "conv2d_backward")
    compare(dx, [[[[1, 1, 0], [1, 0, -1], [0, -1, -1]]]], "dx", "the 3x3 case with dout = ones")
    compare(dw, [[[[8, 12], [20, 24]]]], "dweight", "the 3x3 case with dout = ones")
    compare(db, [4.0], "dbias", "the 3x3 case with dout = ones",
            hints=[(np.array([1.0]), "dbias sums dout over N, H_out and W_out.")])


@check("conv2d_backward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, w, b, s, p = random_case(cfg, seed=80 + i)
        out, cache = REF.conv2d_forward(x, w, b, s, p)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        got = expect_tuple(impl.conv2d_backward(dout, cache), 3, "conv2d_backward")
        desc = describe_inputs(x=x, weight=w, stride=s, padding=p)
        for g, e, what in zip(got, REF.conv2d_backward(dout, cache), ("dx", "dweight", "dbias")):
            compare(g, e, what, desc, rtol=1e-7, atol=1e-9)


@check("conv2d_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x, w, b, s, p = random_case((2, 2, 5, 4, 3, 3, 2, 2, 1), seed=90)
    out, cache = REF.conv2d_forward(x, w, b, s, p)
    dout = np.random.default_rng(9).standard_normal(out.shape)
    dx, dw, db = expect_tuple(impl.conv2d_backward(dout, cache), 3, "conv2d_backward")
    desc = describe_inputs(x=x, weight=w, stride=s, padding=p)
    compare_gradient(dx, lambda v: REF.conv2d_naive(v, w, b, s, p), x, dout, "dx", desc)
    compare_gradient(dw, lambda v: REF.conv2d_naive(x, v, b, s, p), w, dout, "dweight", desc)
    compare_gradient(db, lambda v: REF.conv2d_naive(x, w, v, s, p), b, dout, "dbias", desc)


@check("conv2d_backward", "works with your conv2d_forward's cache and without a bias")
def _(impl):
    x, w, _, s, p = random_case(CONFIGS[3], seed=95)
    out, cache = REF.conv2d_forward(x, w, None, s, p)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dx, dw, db = expect_tuple(impl.conv2d_backward(dout, cache), 3, "conv2d_backward")
    if db is not None:
        raise GradingError("conv2d_backward must return dbias=None when the forward had bias=None")
    ex, ew, _ = REF.conv2d_backward(dout, cache)
    compare(dx, ex, "dx", "bias=None")
    compare(dw, ew, "dweight", "bias=None")


@check("conv2d_backward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, w, b, s, p = random_case(CONFIGS[1], seed=99, dtype=np.float32)
    out, cache = REF.conv2d_forward(x, w, b, s, p)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout, x=x, weight=w, bias=b, cols=cache[5])
    got = expect_tuple(impl.conv2d_backward(dout, cache), 3, "conv2d_backward")
    frozen.verify("conv2d_backward")
    for g, e, what in zip(got, REF.conv2d_backward(dout, cache), ("dx", "dweight", "dbias")):
        compare(g, e, what, "float32 inputs", rtol=1e-4, atol=1e-4)
