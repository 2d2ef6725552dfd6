"""Checks for the linear-layer exercises (chapter 05: linear_forward, linear_backward)."""
from __future__ import annotations

import numpy as np

from .core import (REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_raises,
                   expect_tuple)

# (N, in_features, out_features): batch 1, one feature, square and non-square, a flattened MNIST digit
CONFIGS = [(1, 1, 1), (1, 5, 3), (2, 3, 3), (7, 4, 9), (16, 20, 10), (3, 784, 10), (5, 2, 6)]


def random_case(cfg, seed: int, dtype=np.float64):
    N, in_features, out_features = cfg
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, in_features)).astype(dtype),
            rng.standard_normal((out_features, in_features)).astype(dtype),
            rng.standard_normal(out_features).astype(dtype))


def hand_case():
    """N = in = out = 2, so that transposed or mixed-up axes give answers of the right shape (fresh copies)."""
    return np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.5, -1.0])


def forward_hints(x, w, b):
    """What common mistakes produce, so a matching wrong answer gets its hint."""
    hints = [(x @ w.T, "the bias is missing: add bias[o] to column o of every row.")]
    if w.shape[0] == w.shape[1]:
        hints.append((x @ w + b, "weight is (out_features, in_features): multiply by its transpose, x @ weight.T."))
    if x.shape[0] == w.shape[0]:
        hints.append((x @ w.T + b[:, None], "the bias belongs to the output features (columns), not to the rows: "
                                            "out + bias broadcasts it along each row."))
    return hints


def _forward(impl, x, w, b):
    return expect_tuple(impl.linear_forward(x, w, b), 2, "linear_forward")


# ---------------------------------------------------------------------------- 5.1 linear_forward

@check("linear_forward", "hand-computed 2x2 case")
def _(impl):
    x, w, b = hand_case()
    out, _ = _forward(impl, x, w, b)
    compare(out, [[-0.5, 3.5], [-0.5, 8.5]], "linear_forward",
            "x = [[1, 2], [3, 4]], weight = [[1, -1], [0.5, 2]], bias = [0.5, -1]", hints=forward_hints(*hand_case()))


@check("linear_forward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, w, b = random_case(cfg, seed=i)
        expected = REF.linear_forward(x, w, b)[0]
        out, _ = _forward(impl, x, w, b)
        compare(out, expected, "linear_forward", describe_inputs(x=x, weight=w, bias=b),
                rtol=1e-7, atol=1e-9, hints=forward_hints(x, w, b))


@check("linear_forward", "works without a bias")
def _(impl):
    x, w, _ = random_case(CONFIGS[3], seed=10)
    out, _ = _forward(impl, x, w, None)
    compare(out, x @ w.T, "linear_forward", "bias=None " + describe_inputs(x=x, weight=w))


@check("linear_forward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, w, b = random_case(CONFIGS[4], seed=20, dtype=np.float32)
    frozen = Frozen(x=x, weight=w, bias=b)
    out, _ = _forward(impl, x, w, b)
    frozen.verify("linear_forward")
    compare(out, REF.linear_forward(x, w, b)[0], "linear_forward", "float32 inputs", rtol=1e-4, atol=1e-5)


@check("linear_forward", "its cache works with the reference linear_backward")
def _(impl):
    for i, cfg in enumerate(CONFIGS[1:5]):
        x, w, b = random_case(cfg, seed=30 + i)
        for bias in (b, None):
            out, cache = _forward(impl, x, w, bias)
            if not isinstance(cache, tuple) or len(cache) != 3:
                raise GradingError("linear_forward's cache must be the tuple (x, weight, bias)",
                                   "see the docstring: linear_backward unpacks exactly these three items.")
            _, ref_cache = REF.linear_forward(x, w, bias)
            dout = np.random.default_rng(i).standard_normal(out.shape)
            try:
                grads = REF.linear_backward(dout, cache)
            except (ValueError, TypeError) as e:
                raise GradingError(f"the reference linear_backward could not use your cache: {e}",
                                   "the cache is (x, weight, bias), in that order.") from None
            for got, exp, what in zip(grads, REF.linear_backward(dout, ref_cache),
                                      ("dx", "dweight", "dbias")):
                if exp is None:
                    if got is not None:
                        raise GradingError("with bias=None the cache must hold None in the place of the bias")
                    continue
                compare(got, exp, f"reference linear_backward on your cache: {what}",
                        describe_inputs(x=x, weight=w, bias=bias))


@check("linear_forward", "rejects bad input with a clear error")
def _(impl):
    x, w, b = random_case(CONFIGS[2], seed=40)
    _forward(impl, x, w, b)  # a valid call first
    expect_raises(ValueError, impl.linear_forward, x.reshape(2, 3, 1), w, b,
                  what="linear_forward with x of shape (2, 3, 1)")
    expect_raises(ValueError, impl.linear_forward, x, w[:, :2], b, what="linear_forward with weight of shape (3, 2)")
    expect_raises(TypeError, impl.linear_forward, np.ones((2, 3), dtype=np.int64), w, b,
                  what="linear_forward with integer x")


# ---------------------------------------------------------------------------- 5.2 linear_backward

def backward_hints(dout, x, w, b):
    """Gradients that common mistakes produce, by output."""
    return {
        "dx": [(dout @ w.T, "weight is (out_features, in_features): yours multiplies dout by its transpose, "
                            "which only has the right shape because this weight is square.")]
        if w.shape[0] == w.shape[1] else [],
        "dweight": [(x.T @ dout, "yours is the transpose of dweight: it must have weight's layout "
                                 "(out_features, in_features)."),
                    (dout.T @ x / len(x), "do not divide by N here: the loss already averages over the batch, "
                                          "so dout carries the 1/N.")],
        "dbias": [(dout.sum(axis=1), "dbias sums dout over the batch axis (axis=0), one entry per output feature."),
                  (dout.mean(axis=0), "dbias is the sum of dout over the batch, not its mean.")],
    }


@check("linear_backward", "hand-computed 2x2 case")
def _(impl):
    x, w, b = hand_case()
    _, cache = REF.linear_forward(x, w, b)
    dout = np.array([[1.0, 0.0], [2.0, 1.0]])
    dx, dw, db = expect_tuple(impl.linear_backward(dout.copy(), cache), 3, "linear_backward")
    hints = backward_hints(dout, *hand_case())
    desc = "the 2x2 case with dout = [[1, 0], [2, 1]]"
    compare(dx, [[1.0, -1.0], [2.5, 0.0]], "dx", desc, hints=hints["dx"])
    compare(dw, [[7.0, 10.0], [3.0, 4.0]], "dweight", desc, hints=hints["dweight"])
    compare(db, [3.0, 1.0], "dbias", desc, hints=hints["dbias"])


@check("linear_backward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, w, b = random_case(cfg, seed=50 + i)
        out, cache = REF.linear_forward(x, w, b)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        expected, hints = REF.linear_backward(dout, cache), backward_hints(dout, x, w, b)
        got = expect_tuple(impl.linear_backward(dout, cache), 3, "linear_backward")
        desc = describe_inputs(x=x, weight=w, bias=b)
        for g, e, what in zip(got, expected, ("dx", "dweight", "dbias")):
            compare(g, e, what, desc, rtol=1e-7, atol=1e-9, hints=hints[what])


@check("linear_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x, w, b = random_case((3, 4, 5), seed=60)
    out, cache = REF.linear_forward(x, w, b)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dx, dw, db = expect_tuple(impl.linear_backward(dout.copy(), cache), 3, "linear_backward")
    desc = describe_inputs(x=x, weight=w, bias=b)
    compare_gradient(dx, lambda v: REF.linear_forward(v, w, b)[0], x, dout, "dx", desc)
    compare_gradient(dw, lambda v: REF.linear_forward(x, v, b)[0], w, dout, "dweight", desc)
    compare_gradient(db, lambda v: REF.linear_forward(x, w, v)[0], b, dout, "dbias", desc)


@check("linear_backward", "returns dbias=None when the forward had no bias")
def _(impl):
    x, w, _ = random_case(CONFIGS[3], seed=70)
    out, cache = REF.linear_forward(x, w, None)
    dout = np.random.default_rng(7).standard_normal(out.shape)
    ex, ew, _ = REF.linear_backward(dout, cache)
    dx, dw, db = expect_tuple(impl.linear_backward(dout, cache), 3, "linear_backward")
    if db is not None:
        raise GradingError("linear_backward must return dbias=None when the forward had bias=None",
                           "check `bias is None` (the cache's third item) before computing dbias.")
    compare(dx, ex, "dx", "bias=None")
    compare(dw, ew, "dweight", "bias=None")


@check("linear_backward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, w, b = random_case(CONFIGS[4], seed=80, dtype=np.float32)
    out, cache = REF.linear_forward(x, w, b)
    dout = np.random.default_rng(8).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout, x=x, weight=w, bias=b)
    expected = REF.linear_backward(dout, cache)
    got = expect_tuple(impl.linear_backward(dout, cache), 3, "linear_backward")
    frozen.verify("linear_backward")
    for g, e, what in zip(got, expected, ("dx", "dweight", "dbias")):
        compare(g, e, what, "float32 inputs", rtol=1e-4, atol=1e-4)


@check("linear_backward", "rejects bad input with a clear error")
def _(impl):
    x, w, b = random_case(CONFIGS[2], seed=90)
    out, cache = REF.linear_forward(x, w, b)
    impl.linear_backward(np.ones_like(out), cache)  # a valid call first
    expect_raises(ValueError, impl.linear_backward, np.ones((out.shape[0], out.shape[1] + 1)), cache,
                  what="linear_backward with dout of the wrong shape")
    expect_raises(TypeError, impl.linear_backward, np.ones_like(out), (x, w, b, 1, 0, x),
                  what="linear_backward with a 6-item cache from another op")
