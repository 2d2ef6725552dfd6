"""Checks for the dropout exercises (chapter 07).

A correct dropout may draw its mask in any way, so these checks are
statistical but deterministic: a seeded generator and tolerances of about six
standard deviations, so that a correct implementation passes for any seed
while the common mistakes (off by a factor, p read as the keep probability)
miss by far more.
"""
from __future__ import annotations

import numpy as np

from .core import REF, Frozen, GradingError, check, compare, compare_gradient, expect_raises, expect_tuple


def _positive(shape, seed, dtype=np.float64, channels_last=False):
    """Values in [1, 2): never zero, so a dropped unit is told apart from a kept one."""
    rng = np.random.default_rng(seed + 1000)  # not the mask's seed: x and the mask must be independent
    if len(shape) == 4 and channels_last:  # the NCHW view of channels-last memory conv2d_forward returns
        N, C, H, W = shape
        return (1 + rng.random((N, H, W, C))).astype(dtype).transpose(0, 3, 1, 2)
    return (1 + rng.random(shape)).astype(dtype)


def _forward(impl, name, x, p, training, seed, frozen=False):
    """Call the forward on a copy of x (unless ``frozen``: the check that x stays unmodified)."""
    x = x if frozen else x.copy(order="K")
    out, cache = expect_tuple(getattr(impl, name)(x, p, training, np.random.default_rng(seed)), 2, name)
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        raise GradingError(f"{name}: out must be an array of x's shape {x.shape}, received "
                           f"{getattr(out, 'shape', type(out).__name__)}")
    return out, cache


def _kept_and_scaled(out, x, p, name, inputs):
    """Each value is 0 or x / (1 - p); return the boolean array of kept values."""
    kept = out != 0
    scaled = x / (1 - p)
    if np.allclose(out[kept], scaled[kept], rtol=1e-6, atol=0):
        return kept
    hint = None
    if np.allclose(out[kept], x[kept], rtol=1e-6, atol=0):
        hint = "scale the kept units by 1 / (1 - p) (inverted dropout), so that the expected output is x."
    elif np.allclose(out[kept], x[kept] * (1 - p), rtol=1e-6, atol=0):
        hint = "divide the kept units by (1 - p), do not multiply: inverted dropout scales them up."
    elif np.allclose(out[kept], x[kept] / p, rtol=1e-6, atol=0):
        hint = "the scale is 1 / (1 - p), the inverse of the probability of *keeping* a unit."
    bad = np.argwhere(kept & ~np.isclose(out, scaled, rtol=1e-6, atol=0))[0]
    i = tuple(int(j) for j in bad)
    raise GradingError(f"{name}: every value of out must be 0 or x / (1 - p) for {inputs}; at index {i}: "
                       f"x = {x[i]:.6g}, out = {out[i]:.6g}, expected 0 or {scaled[i]:.6g}", hint)


def _fraction_dropped(dropped: float, p: float, n: int, name: str, what: str, inputs: str):
    """Fail unless the fraction of dropped units is within 6 standard deviations of p."""
    tol = 6 * np.sqrt(p * (1 - p) / n) + 1e-3
    if abs(dropped - p) <= tol:
        return
    hint = None
    if abs(dropped - (1 - p)) <= tol:
        hint = "p is the probability of *dropping* a unit (PyTorch's convention): keep a unit when " \
               "rng.random() >= p, with probability 1 - p."
    elif dropped == 0:
        hint = "nothing was dropped: in training mode zero each unit with probability p."
    raise GradingError(f"{name} dropped {dropped:.4f} of the {what} for {inputs}, expected about p = {p} "
                       f"(within {tol:.4f} for {n} draws)", hint)


def _eval_and_p0(impl, name, shape):
    x = _positive(shape, 1)
    for p, training in ((0.5, False), (0.0, True), (0.0, False)):
        frozen = Frozen(x=x)
        out, cache = _forward(impl, name, x, p, training, 0, frozen=True)
        frozen.verify(name)
        if out is x:
            raise GradingError(f"{name} returned x itself with training={training}, p={p}",
                               "return a copy (x.copy()), as the docstring promises: the caller may write into "
                               "out, and x would change with it.")
        if (out == 0).any():
            raise GradingError(f"{name}: out has zeros with training={training}, p={p} (x has none)",
                               "with training=False (or p=0) nothing is dropped: return a copy of x.")
        compare(out, x, f"{name}: out with training={training}, p={p}", f"x.shape={shape}",
                rtol=0, atol=0, hints=[(x * (1 - p), "eval mode is the identity: inverted dropout scales at "
                                        "training time so that nothing is rescaled at test time."),
                                       (x / (1 - p), "eval mode is the identity: no scaling at test time.")])


def _rejects_bad_arguments(impl, name, shape):
    x = _positive(shape, 2)
    fn = getattr(impl, name)
    fn(x, 0.5, True, np.random.default_rng(0))  # a valid call first (raises NotImplementedError while not written)
    for exc, args, what in [(ValueError, (x, 1.0, True, np.random.default_rng(0)), "p=1"),
                            (ValueError, (x, -0.1, True, np.random.default_rng(0)), "p=-0.1"),
                            (TypeError, (x, 0.5, True, 0), "rng=0 (an int, not a Generator)"),
                            (TypeError, (x, 0.5, True, np.random.RandomState(0)), "a legacy RandomState"),
                            (TypeError, (x.astype(np.int64), 0.5, True, np.random.default_rng(0)), "integer x")]:
        expect_raises(exc, fn, *args, what=f"{name} with {what}")


def _same_seed_same_mask(impl, name, shape):
    x = _positive(shape, 3)
    a, _ = _forward(impl, name, x, 0.5, True, 42)
    b, _ = _forward(impl, name, x, 0.5, True, 42)
    if not np.array_equal(a, b):
        raise GradingError(f"{name}: two calls with np.random.default_rng(42) gave different outputs",
                           "draw the mask from the rng argument only (rng.random(...)), not from np.random "
                           "or a generator of your own.")
    rng = np.random.default_rng(7)
    c, _ = expect_tuple(getattr(impl, name)(x.copy(), 0.5, True, rng), 2, name)
    d, _ = expect_tuple(getattr(impl, name)(x.copy(), 0.5, True, rng), 2, name)
    if np.array_equal(c, d):
        raise GradingError(f"{name}: two calls with the same generator gave the same mask",
                           "draw from the generator passed in (it moves on with every draw); do not "
                           "create a new one with a fixed seed inside the function.")


def _pairing(impl, name, shape, p, seed):
    x = _positive(shape, seed)
    out, cache = _forward(impl, name, x, p, True, seed)
    if not isinstance(cache, tuple) or len(cache) != 3:
        raise GradingError(f"{name}'s cache must be the tuple (mask, p, training)",
                           "see the docstring: dropout_backward unpacks exactly these three items.")
    dout = np.random.default_rng(seed).standard_normal(shape)
    dx = REF.dropout_backward(dout, cache)
    compare(dx, dout * out / x, f"reference dropout_backward on your cache (p={p})", f"x.shape={shape}",
            hints=[(dout * (out != 0), "the mask in the cache holds 1 / (1 - p) for kept units, not 1: "
                    "the gradient is scaled as the values were.")])
    out0, cache0 = _forward(impl, name, x, p, False, seed)
    compare(REF.dropout_backward(dout, cache0), dout, "reference dropout_backward on your eval-mode cache",
            f"x.shape={shape}")


# ---------------------------------------------------------------------------- 7.5 dropout_forward

@check("dropout_forward", "hand case: each value is 0 or x / (1 - p)")
def _(impl):
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    out, _ = _forward(impl, "dropout_forward", x, 0.5, True, 0)
    _kept_and_scaled(out, x, 0.5, "dropout_forward", "x = [[1, 2, 3, 4, 5, 6]], p=0.5 (0 or [2, 4, 6, 8, 10, 12])")
    out, _ = _forward(impl, "dropout_forward", np.full((1, 8), 3.0), 0.75, True, 1)
    _kept_and_scaled(out, np.full((1, 8), 3.0), 0.75, "dropout_forward", "x = 3s, p=0.75 (0 or 12)")


@check("dropout_forward", "eval mode and p=0 are the identity")
def _(impl):
    _eval_and_p0(impl, "dropout_forward", (4, 7))


@check("dropout_forward", "draws an independent coin for every value")
def _(impl):
    # mistakes that pass the counts above: one mask row for the whole batch, one coin per sample
    x = _positive((64, 300), 20)
    out, _ = _forward(impl, "dropout_forward", x, 0.5, True, 20)
    kept = out != 0
    if (kept == kept[:1]).all():
        raise GradingError("dropout_forward: every sample of the batch got the same mask (x.shape=(64, 300))",
                           "draw a mask of x's full shape, rng.random(x.shape), not one row for all samples.")
    if (kept == kept[:, :1]).all():
        raise GradingError("dropout_forward: each sample is dropped or kept as a whole (x.shape=(64, 300))",
                           "draw one coin per value: a mask of x's full shape.")
    agree = (kept[1:] == kept[:-1]).mean()
    if not 0.4 < agree < 0.6:
        raise GradingError(f"dropout_forward: neighbouring samples' masks agree on {agree:.3f} of the values, "
                           "expected about 0.5 for independent coins with p=0.5",
                           "draw every coin independently from rng.")


@check("dropout_forward", "drops about a fraction p, scales the rest exactly, keeps the mean (seeded)")
def _(impl):
    for i, (shape, p) in enumerate([((200, 500), 0.5), ((100, 1000), 0.2), ((50, 40, 7, 9), 0.8),
                                    ((1000, 100), 0.05)]):
        x = _positive(shape, 10 + i, channels_last=True)
        inputs = f"x.shape={shape}, p={p}"
        out, _ = _forward(impl, "dropout_forward", x, p, True, 10 + i)
        kept = _kept_and_scaled(out, x, p, "dropout_forward", inputs)
        _fraction_dropped(1 - kept.mean(), p, kept.size, "dropout_forward", "values", inputs)
        # E[out] = x: the sum of out over the sum of x is 1, within 6 standard deviations
        ratio = out.sum() / x.sum()
        tol = 6 * np.sqrt(p / (1 - p) / x.size) * x.std() / x.mean() + 6 * np.sqrt(p / (1 - p) / x.size)
        if abs(ratio - 1) > tol:
            raise GradingError(f"dropout_forward: sum(out) / sum(x) = {ratio:.4f} for {inputs}, expected 1 "
                               f"(the expected value of out is x) within {tol:.4f}",
                               "scale the kept units by 1 / (1 - p)." if abs(ratio - (1 - p)) < tol else None)


@check("dropout_forward", "the same seed gives the same mask; the generator moves on")
def _(impl):
    _same_seed_same_mask(impl, "dropout_forward", (8, 50))


@check("dropout_forward", "keeps float32 and leaves x unmodified")
def _(impl):
    for shape in ((16, 20), (4, 3, 5, 5)):
        x = _positive(shape, 30, np.float32, channels_last=True)
        frozen = Frozen(x=x)
        out, cache = _forward(impl, "dropout_forward", x, 0.3, True, 30, frozen=True)
        frozen.verify("dropout_forward")
        if out.dtype != np.float32:
            raise GradingError(f"dropout_forward: float32 x gave out of dtype {out.dtype}",
                               "build the mask in x's dtype, e.g. (rng.random(x.shape) >= p).astype(x.dtype).")
        mask = cache[0] if isinstance(cache, tuple) and cache else None
        if isinstance(mask, np.ndarray) and mask.dtype != np.float32:
            raise GradingError(f"dropout_forward: float32 x gave a mask of dtype {mask.dtype} in the cache",
                               "store the mask in x's dtype, so that the backward stays float32 too.")
        _kept_and_scaled(out, x, 0.3, "dropout_forward", f"float32 x.shape={shape}")


@check("dropout_forward", "its cache works with the reference dropout_backward")
def _(impl):
    _pairing(impl, "dropout_forward", (6, 9), 0.4, 40)
    _pairing(impl, "dropout_forward", (2, 3, 4, 5), 0.25, 41)


@check("dropout_forward", "rejects bad arguments with ValueError or TypeError")
def _(impl):
    _rejects_bad_arguments(impl, "dropout_forward", (3, 4))


# ---------------------------------------------------------------------------- 7.6 dropout_backward

@check("dropout_backward", "hand case: dx = dout * mask")
def _(impl):
    dout = np.array([[1.0, 2.0, 3.0, 4.0]])
    dx = impl.dropout_backward(dout, (np.array([[2.0, 0.0, 2.0, 0.0]]), 0.5, True))
    compare(dx, np.array([[2.0, 0.0, 6.0, 0.0]]), "dropout_backward",
            "dout = [[1, 2, 3, 4]], cache = (mask [[2, 0, 2, 0]], p=0.5, training=True)",
            hints=[(np.array([[4.0, 0.0, 12.0, 0.0]]), "the mask already holds the 1 / (1 - p) scale: "
                    "multiply by it, do not divide by (1 - p) again."),
                   (np.array([[1.0, 0.0, 3.0, 0.0]]), "multiply by the mask itself: it holds 1 / (1 - p), "
                    "the scale the kept values got."),
                   (dout, "the gradient does not flow through dropped units: dx = dout * mask.")])


@check("dropout_backward", "hand case: eval mode (mask None) passes dout through")
def _(impl):
    dout = np.array([[1.0, -2.0], [3.0, 0.5]])
    dx = impl.dropout_backward(dout, (None, 0.5, False))
    compare(dx, dout.copy(), "dropout_backward", "dout = [[1, -2], [3, 0.5]], cache = (None, 0.5, False)",
            hints=[(dout * 2, "eval mode is the identity: dx = dout, no scaling.")])
    if dx is dout:
        raise GradingError("dropout_backward returned dout itself for an eval-mode cache",
                           "return a copy (dout.copy()), as the docstring promises: layers below may write "
                           "into dx.")


@check("dropout_backward", "hand case: a spatial mask (N, C, 1, 1) broadcasts over H and W")
def _(impl):
    dout = np.arange(8.0).reshape(1, 2, 2, 2)
    mask = np.array([0.0, 4.0]).reshape(1, 2, 1, 1)
    expected = np.array([[[[0.0, 0.0], [0.0, 0.0]], [[16.0, 20.0], [24.0, 28.0]]]])
    compare(impl.dropout_backward(dout, (mask, 0.75, True)), expected, "dropout_backward",
            "dout = arange(8).reshape(1, 2, 2, 2), cache = (mask [0, 4] of shape (1, 2, 1, 1), p=0.75, True)")


@check("dropout_backward", "matches the reference on random inputs")
def _(impl):
    for i, (shape, p, spatial) in enumerate([((5, 7), 0.3, False), ((1, 10), 0.5, False),
                                             ((2, 3, 4, 5), 0.25, False), ((3, 4, 3, 2), 0.6, True)]):
        x = _positive(shape, 50 + i, channels_last=True)
        fwd = REF.spatial_dropout_forward if spatial else REF.dropout_forward
        _, cache = fwd(x, p, True, np.random.default_rng(i))
        dout = np.random.default_rng(60 + i).standard_normal(shape)
        compare(impl.dropout_backward(dout.copy(), cache), REF.dropout_backward(dout, cache), "dropout_backward",
                f"x.shape={shape}, p={p}" + (" (spatial)" if spatial else ""),
                hints=[(dout * (cache[0] != 0), "multiply by the mask itself: it holds 1 / (1 - p).")])


@check("dropout_backward", "agrees with the numerical gradient (float64, a fixed mask)")
def _(impl):
    for shape, p, fwd in [((3, 5), 0.4, REF.dropout_forward), ((2, 3, 2, 2), 0.5, REF.spatial_dropout_forward)]:
        x = _positive(shape, 70)
        _, cache = fwd(x, p, True, np.random.default_rng(70))
        dout = np.random.default_rng(71).standard_normal(shape)
        dx = impl.dropout_backward(dout.copy(), cache)
        # the same seed gives the same mask, so the forward is a fixed linear map of x
        compare_gradient(dx, lambda v: fwd(v, p, True, np.random.default_rng(70))[0], x, dout, "dx",
                         f"x.shape={shape}, p={p}")


@check("dropout_backward", "keeps float32 and leaves inputs unmodified")
def _(impl):
    x = _positive((2, 3, 4, 4), 80, np.float32, channels_last=True)
    _, cache = REF.dropout_forward(x, 0.5, True, np.random.default_rng(80))
    dout = np.random.default_rng(81).standard_normal(x.shape).astype(np.float32)
    frozen = Frozen(dout=dout, mask=cache[0])
    dx = impl.dropout_backward(dout, cache)
    frozen.verify("dropout_backward")
    compare(dx, REF.dropout_backward(dout, cache), "dropout_backward", "float32 dout and mask")


@check("dropout_backward", "rejects a cache from another op")
def _(impl):
    dout = np.ones((2, 3))
    impl.dropout_backward(dout, (np.ones((2, 3)), 0.5, True))  # valid first (NotImplementedError while not written)
    expect_raises((ValueError, TypeError), impl.dropout_backward, dout, (np.ones((2, 3)), np.ones(3), np.ones(3), True),
                  what="dropout_backward given a batchnorm cache")
    expect_raises(ValueError, impl.dropout_backward, dout, (np.ones((3, 2)), 0.5, True),
                  what="dropout_backward given a mask of another shape")


# ---------------------------------------------------------------------------- 7.7 spatial_dropout_forward

def _channels(out, x, p, name, inputs):
    """Each (n, c) map is all 0 or x / (1 - p); return the (N, C) array of kept channels."""
    kept = _kept_and_scaled(out, x, p, name, inputs)
    per_channel = kept.reshape(kept.shape[0], kept.shape[1], -1)  # (N, C, H*W)
    whole = per_channel.all(axis=2) | ~per_channel.any(axis=2)
    if not whole.all():
        n, c = (int(i) for i in np.argwhere(~whole)[0])
        raise GradingError(f"{name}: channel {c} of sample {n} is partly dropped ({int(per_channel[n, c].sum())} "
                           f"of {per_channel.shape[2]} values kept) for {inputs}",
                           "spatial dropout drops whole channels: draw a mask of shape (N, C, 1, 1) and let "
                           "it broadcast over H and W.")
    return per_channel[:, :, 0]


@check("spatial_dropout_forward", "hand case: whole channels are 0 or x / (1 - p)")
def _(impl):
    x = np.arange(1.0, 33.0).reshape(2, 4, 2, 2)
    out, _ = _forward(impl, "spatial_dropout_forward", x, 0.5, True, 0)
    _channels(out, x, 0.5, "spatial_dropout_forward", "x = arange(1, 33).reshape(2, 4, 2, 2), p=0.5")


@check("spatial_dropout_forward", "eval mode and p=0 are the identity")
def _(impl):
    _eval_and_p0(impl, "spatial_dropout_forward", (2, 3, 4, 5))


@check("spatial_dropout_forward", "drops about a fraction p of the channels, independently (seeded)")
def _(impl):
    for i, (shape, p) in enumerate([((400, 50, 2, 3), 0.5), ((200, 64, 3, 3), 0.2), ((100, 100, 1, 4), 0.8)]):
        x = _positive(shape, 90 + i, channels_last=True)
        inputs = f"x.shape={shape}, p={p}"
        out, _ = _forward(impl, "spatial_dropout_forward", x, p, True, 90 + i)
        kept = _channels(out, x, p, "spatial_dropout_forward", inputs)  # (N, C)
        if (kept == kept[:1]).all():
            raise GradingError(f"spatial_dropout_forward: every sample dropped the same channels for {inputs}",
                               "draw one coin per (sample, channel): a mask of shape (N, C, 1, 1), not (1, C, 1, 1).")
        if (kept == kept[:, :1]).all():
            raise GradingError(f"spatial_dropout_forward: whole samples are dropped for {inputs}",
                               "draw one coin per (sample, channel): a mask of shape (N, C, 1, 1), not (N, 1, 1, 1).")
        _fraction_dropped(1 - kept.mean(), p, kept.size, "spatial_dropout_forward", "channels", inputs)


@check("spatial_dropout_forward", "the same seed gives the same mask; the generator moves on")
def _(impl):
    _same_seed_same_mask(impl, "spatial_dropout_forward", (4, 16, 3, 3))


@check("spatial_dropout_forward", "keeps float32 and leaves x unmodified")
def _(impl):
    x = _positive((4, 6, 5, 5), 100, np.float32, channels_last=True)
    frozen = Frozen(x=x)
    out, cache = _forward(impl, "spatial_dropout_forward", x, 0.3, True, 100, frozen=True)
    frozen.verify("spatial_dropout_forward")
    if out.dtype != np.float32:
        raise GradingError(f"spatial_dropout_forward: float32 x gave out of dtype {out.dtype}",
                           "build the mask in x's dtype.")
    _channels(out, x, 0.3, "spatial_dropout_forward", "float32 x")


@check("spatial_dropout_forward", "its cache works with the reference dropout_backward")
def _(impl):
    _pairing(impl, "spatial_dropout_forward", (3, 5, 4, 2), 0.4, 110)


@check("spatial_dropout_forward", "rejects bad arguments with ValueError or TypeError")
def _(impl):
    _rejects_bad_arguments(impl, "spatial_dropout_forward", (2, 3, 2, 2))
    expect_raises(ValueError, impl.spatial_dropout_forward, np.ones((4, 5)), 0.5, True, np.random.default_rng(0),
                  what="spatial_dropout_forward with a 2-D x")
