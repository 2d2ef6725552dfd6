"""Checks for the pooling exercises (chapter 04)."""
from __future__ import annotations

import numpy as np

from .activations import channels_last_view
from .core import REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_tuple

# (N, C, H, W, kernel_size, stride, padding): batch 1, the default stride, odd and non-square
# sizes (the last rows/columns that fit no window are dropped), overlapping windows, padding.
CONFIGS = [
    (1, 1, 4, 4, 2, None, 0),
    (2, 3, 8, 6, 2, 2, 0),
    (2, 2, 7, 9, 3, 2, 1),
    (3, 2, 6, 6, 3, 1, 0),
    (1, 3, 9, 5, (2, 3), None, 1),
    (2, 1, 11, 10, 4, 3, 2),
    (4, 2, 5, 7, 2, None, 0),
    (1, 4, 12, 12, (3, 2), (1, 2), 1),
]


def hand_x():
    """A fresh copy of the 4x4 hand-case input (1, 1, 4, 4)."""
    return np.array([[[[1.0, 5.0, 2.0, 0.0],
                       [3.0, 4.0, 8.0, 1.0],
                       [0.0, 2.0, 6.0, 7.0],
                       [9.0, 1.0, 3.0, 5.0]]]])


def tie_x():
    """A 4x4 input whose 2x2 windows have tied maxima."""
    return np.array([[[[1.0, 1.0, 0.0, 2.0],
                       [1.0, 1.0, 2.0, 2.0],
                       [3.0, 0.0, 5.0, 5.0],
                       [0.0, 3.0, 5.0, 5.0]]]])


HAND = "x = [[1, 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 3, 5]]"
TIES = "x = [[1, 1, 0, 2], [1, 1, 2, 2], [3, 0, 5, 5], [0, 3, 5, 5]] (tied maxima)"


def random_case(cfg, seed: int, dtype=np.float64):
    N, C, H, W, k, s, p = cfg
    x = np.random.default_rng(seed).standard_normal((N, C, H, W)).astype(dtype)
    return x, k, s, p


def _pairs(k, s):
    kH, kW = (k, k) if np.isscalar(k) else tuple(k)
    sH, sW = (kH, kW) if s is None else ((s, s) if np.isscalar(s) else tuple(s))
    return kH, kW, sH, sW


def _pad(x, p, fill):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)


def _windows(H_pad, W_pad, kH, kW, sH, sW):
    """(i, j, rows, cols) of every window of a padded H_pad x W_pad input."""
    for i in range((H_pad - kH) // sH + 1):
        for j in range((W_pad - kW) // sW + 1):
            yield i, j, slice(i * sH, i * sH + kH), slice(j * sW, j * sW + kW)


def loop_backward(x, dout, k, s, p, rule, add=True):
    """A loop over windows with a choice of routing rules, to recognise common mistakes.

    rule: "first" (the correct max-pool rule), "last", "all ties", "split ties", "window"
    (every input of the window), "mean" (the correct avg-pool rule), "mean of real"
    (count_include_pad=False), "sum"; ``add=False`` overwrites where windows overlap.
    """
    kH, kW, sH, sW = _pairs(k, s)
    N, C, H, W = x.shape
    xp = _pad(x.astype(np.float64), p, -np.inf)
    real = _pad(np.ones((1, 1, H, W)), p, 0)
    dxp = np.zeros(xp.shape)
    for i, j, r, c in _windows(xp.shape[2], xp.shape[3], kH, kW, sH, sW):
        win = xp[:, :, r, c]  # (N, C, kH, kW)
        is_max = (win == win.max(axis=(2, 3), keepdims=True)).reshape(N, C, -1)
        first = np.eye(kH * kW)[is_max.argmax(axis=-1)]  # (N, C, kH*kW) one-hot
        last = np.eye(kH * kW)[kH * kW - 1 - is_max[..., ::-1].argmax(axis=-1)]
        share = {"first": first, "last": last, "all ties": is_max * 1.0,
                 "split ties": is_max / is_max.sum(axis=-1, keepdims=True),
                 "window": np.ones((N, C, kH * kW)), "sum": np.ones((N, C, kH * kW)),
                 "mean": np.full((N, C, kH * kW), 1 / (kH * kW)),
                 "mean of real": np.broadcast_to(real[:, :, r, c] / real[:, :, r, c].sum(), (N, C, kH, kW)),
                 }[rule].reshape(N, C, kH, kW)
        g = share * dout[:, :, i, j, None, None]
        if add:
            dxp[:, :, r, c] += g
        else:
            dxp[:, :, r, c] = g
    return dxp[:, :, p:p + H, p:p + W].astype(dout.dtype)


def loop_argmax(x, k, s, p, last=False):
    """Offset u*kW + v of each window's first (or last) maximum, by loops."""
    kH, kW, sH, sW = _pairs(k, s)
    xp = _pad(x, p, -np.inf)
    H_out, W_out = (xp.shape[2] - kH) // sH + 1, (xp.shape[3] - kW) // sW + 1
    arg = np.zeros(x.shape[:2] + (H_out, W_out), dtype=np.int64)
    for i, j, r, c in _windows(xp.shape[2], xp.shape[3], kH, kW, sH, sW):
        flat = xp[:, :, r, c].reshape(x.shape[0], x.shape[1], -1)
        arg[:, :, i, j] = kH * kW - 1 - flat[..., ::-1].argmax(-1) if last else flat.argmax(-1)
    return arg


def _try(f, *args):
    """``f(*args)``, or None when the arguments are invalid (a hint that does not apply)."""
    try:
        return f(*args)
    except ValueError:
        return None


def max_forward_hints(x, k, s, p):
    kH, kW, sH, sW = _pairs(k, s)
    ref = lambda *a: REF.maxpool2d_forward(*a)[0]  # noqa: E731
    hints = [(-ref(-x, k, s, p), "that is the minimum of each window: max pooling keeps the largest value."),
             (REF.avgpool2d_forward(x, k, s, p)[0], "that is the mean of each window: max pooling keeps the "
                                                    "largest value.")]
    if s is None:
        hints.append((ref(x, k, 1, p), "when stride is None it defaults to kernel_size (as in PyTorch), not 1."))
    elif (sH, sW) != (1, 1):
        hints.append((ref(x, k, 1, p), "the stride is ignored: window (i, j) starts at (i*sH, j*sW)."))
    if p > 0:
        hints.append((ref(_pad(x, p, 0), k, s, 0), "pad with -inf, not zeros: a border of zeros beats every "
                                                     "negative input (np.pad(..., constant_values=-np.inf))."))
        hints.append((_try(ref, x, k, s, 0), "the padding is ignored: add `padding` rows and columns of -inf on each "
                                        "side of H and W."))
    return hints


def avg_forward_hints(x, k, s, p):
    kH, kW, sH, sW = _pairs(k, s)
    ref = lambda *a: REF.avgpool2d_forward(*a)[0]  # noqa: E731
    hints = []
    if p > 0:  # first: for some inputs (all ones) another mistake gives the same numbers
        hints.append((ref(x, k, s, p) / ref(np.ones_like(x), k, s, p),
                      "the padding zeros count in the mean (PyTorch's default count_include_pad=True): divide "
                      "every window by kH*kW, not by its number of real inputs."))
        hints.append((_try(ref, x, k, s, 0), "the padding is ignored: add `padding` rows and columns of zeros."))
    hints += [(ref(x, k, s, p) * kH * kW, "that is the sum of each window: divide it by kH*kW."),
              (REF.maxpool2d_forward(x, k, s, p)[0], "that is the maximum of each window: average pooling "
                                                     "takes the mean."),
              (ref(x, k, s, p) * kW, "divide by the window's size kH*kW, not by kH alone."),
              (ref(x, k, s, p) * kH, "divide by the window's size kH*kW, not by kW alone.")]
    if s is None:
        hints.append((ref(x, k, 1, p), "when stride is None it defaults to kernel_size (as in PyTorch), not 1."))
    elif (sH, sW) != (1, 1):
        hints.append((ref(x, k, 1, p), "the stride is ignored: window (i, j) starts at (i*sH, j*sW)."))
    return hints


def max_backward_hints(x, dout, k, s, p):
    kH, kW, sH, sW = _pairs(k, s)
    hints = [(loop_backward(x, dout, k, s, p, "window"), "dout goes only to the maximum of each window, not to "
                                                          "all of its inputs."),
             (loop_backward(x, dout, k, s, p, "mean"), "that is average pooling's gradient: max pooling routes "
                                                        "all of dout to the maximum of each window."),
             (loop_backward(x, dout, k, s, p, "all ties"), "on a tie the whole gradient goes to the first "
                                                           "maximum of the window (row-major order, as PyTorch), "
                                                           "not to every tied element: use argmax from the cache."),
             (loop_backward(x, dout, k, s, p, "split ties"), "on a tie the whole gradient goes to the first "
                                                             "maximum (as PyTorch); it is not shared among them."),
             (loop_backward(x, dout, k, s, p, "last"), "on a tie PyTorch picks the first maximum of the window "
                                                       "(row-major order), not the last.")]
    if sH < kH or sW < kW:
        hints.append((loop_backward(x, dout, k, s, p, "first", add=False),
                      "windows overlap (stride < kernel): add the gradients of every window (+=), do not "
                      "overwrite them."))
    return hints


def avg_backward_hints(x, dout, k, s, p):
    kH, kW, sH, sW = _pairs(k, s)
    hints = [(loop_backward(x, dout, k, s, p, "sum"), "each input of a window gets dout / (kH*kW), not dout."),
             (loop_backward(x, dout, k, s, p, "first"), "average pooling spreads dout over the whole window; "
                                                        "only max pooling routes it to one element.")]
    if p > 0:
        hints.append((loop_backward(x, dout, k, s, p, "mean of real"),
                      "the padding zeros count in the mean (count_include_pad=True): every window divides by "
                      "kH*kW, also at the border."))
    if sH < kH or sW < kW:
        hints.append((loop_backward(x, dout, k, s, p, "mean", add=False),
                      "windows overlap (stride < kernel): add the shares of every window (+=), do not "
                      "overwrite them."))
    return hints


def _forward(impl, name, *args):
    return expect_tuple(getattr(impl, name)(*args), 2, name)


# ---------------------------------------------------------------------------- 4.3 maxpool2d_forward

@check("maxpool2d_forward", "hand-computed 4x4 cases")
def _(impl):
    out, _ = _forward(impl, "maxpool2d_forward", hand_x(), 2)
    compare(out, np.array([[[[5.0, 8.0], [9.0, 7.0]]]]), "maxpool2d_forward", HAND + ", kernel_size=2",
            hints=max_forward_hints(hand_x(), 2, None, 0))
    out, _ = _forward(impl, "maxpool2d_forward", hand_x(), 2, 1)
    compare(out, np.array([[[[5.0, 8.0, 8.0], [4.0, 8.0, 8.0], [9.0, 6.0, 7.0]]]]), "maxpool2d_forward",
            HAND + ", kernel_size=2, stride=1", hints=max_forward_hints(hand_x(), 2, 1, 0))
    x = -hand_x() - 1  # every input negative: a border of zeros would win
    out, _ = _forward(impl, "maxpool2d_forward", x, 3, 2, 1)
    compare(out, np.array([[[[-2.0, -1.0], [-1.0, -2.0]]]]), "maxpool2d_forward",
            "x = -(" + HAND[4:] + ") - 1, kernel_size=3, stride=2, padding=1", hints=max_forward_hints(x, 3, 2, 1))


@check("maxpool2d_forward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, k, s, p = random_case(cfg, seed=i)
        expected, hints = REF.maxpool2d_forward(x, k, s, p)[0], max_forward_hints(x, k, s, p)
        out, _ = _forward(impl, "maxpool2d_forward", x, k, s, p)
        compare(out, expected, "maxpool2d_forward", describe_inputs(x=x, kernel_size=k, stride=s, padding=p),
                hints=hints)


@check("maxpool2d_forward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x, k, s, p = random_case(CONFIGS[2], seed=10, dtype=np.float32)
        x = layout(x)
        frozen = Frozen(x=x)
        out, _ = _forward(impl, "maxpool2d_forward", x, k, s, p)
        frozen.verify("maxpool2d_forward")
        compare(out, REF.maxpool2d_forward(x.copy(), k, s, p)[0], "maxpool2d_forward",
                "float32 " + describe_inputs(x=x, kernel_size=k, stride=s, padding=p))


def _check_pool_cache(cache, ref_cache, name, x, desc):
    """The cache items that every pooling backward relies on, with messages that say which is wrong."""
    n = len(ref_cache)
    layout = "(x, (kH, kW), (sH, sW), padding" + (", argmax)" if n == 5 else ")")
    if not isinstance(cache, tuple) or len(cache) != n:
        raise GradingError(f"{name}'s cache must be the {n}-tuple {layout}",
                           f"see the docstring: the backward unpacks exactly these {n} items.")
    if not (isinstance(cache[0], np.ndarray) and cache[0].shape == x.shape):
        got = cache[0].shape if isinstance(cache[0], np.ndarray) else type(cache[0]).__name__
        raise GradingError(f"cache[0] of {name} for {desc} must be the input x of shape {x.shape}, received {got}",
                           "store x itself, not its padded copy.")
    for pos, what in ((1, "kernel size"), (2, "stride")):
        if not (isinstance(cache[pos], (tuple, list)) and tuple(cache[pos]) == ref_cache[pos]):
            raise GradingError(f"cache[{pos}] of {name} (the {what}) for {desc} is {cache[pos]!r}, expected the "
                               f"pair {ref_cache[pos]}", "store kernel size and stride as pairs (kH, kW) and "
                               "(sH, sW), the stride resolved to the kernel size when it was None.")
    if cache[3] != ref_cache[3]:
        raise GradingError(f"cache[3] of {name} (the padding) for {desc} is {cache[3]!r}, expected {ref_cache[3]}")


@check("maxpool2d_forward", "its cache works with the reference maxpool2d_backward, ties included")
def _(impl):
    cases = [(tie_x(), 2, None, 0), (np.round(random_case(CONFIGS[3], seed=20)[0]), 3, 1, 0)]  # many ties
    cases += [random_case(cfg, seed=21 + i) for i, cfg in enumerate(CONFIGS)]
    for i, (x, k, s, p) in enumerate(cases):
        desc = describe_inputs(x=x, kernel_size=k, stride=s, padding=p)
        out, cache = _forward(impl, "maxpool2d_forward", x, k, s, p)
        _, ref_cache = REF.maxpool2d_forward(x, k, s, p)
        _check_pool_cache(cache, ref_cache, "maxpool2d_forward", x, desc)
        argmax = cache[4]
        if not (isinstance(argmax, np.ndarray) and np.issubdtype(argmax.dtype, np.integer)):
            raise GradingError(f"cache[4] (argmax) of maxpool2d_forward for {desc} must be an integer array, "
                               f"received {getattr(argmax, 'dtype', type(argmax).__name__)}",
                               "np.argmax returns integers: the offset u*kW + v of the maximum in its window.")
        kH, kW, _, _ = _pairs(k, s)
        hints = [(loop_argmax(x, k, s, p, last=True), "on a tie record the first maximum of the window "
                                                      "(row-major order; np.argmax does, as does PyTorch).")]
        if kH != kW:
            hints.append(((ref_cache[4] // kW) * kH + ref_cache[4] % kW,
                          "the offset of (u, v) in a kH x kW window is u*kW + v (row-major), not u*kH + v."))
        compare(argmax, ref_cache[4], "argmax in the cache", desc, hints=hints)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        compare(REF.maxpool2d_backward(dout, cache), REF.maxpool2d_backward(dout, ref_cache),
                "reference maxpool2d_backward on your cache", desc)


# ---------------------------------------------------------------------------- 4.4 maxpool2d_backward

@check("maxpool2d_backward", "hand-computed 4x4 cases")
def _(impl):
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    _, cache = REF.maxpool2d_forward(hand_x(), 2)
    compare(impl.maxpool2d_backward(dout.copy(), cache),
            np.array([[[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 4.0], [3.0, 0.0, 0.0, 0.0]]]]),
            "maxpool2d_backward", HAND + ", kernel_size=2, dout = [[1, 2], [3, 4]]",
            hints=max_backward_hints(hand_x(), dout, 2, None, 0))
    ones = np.ones((1, 1, 3, 3))
    _, cache = REF.maxpool2d_forward(hand_x(), 2, 1)
    compare(impl.maxpool2d_backward(ones.copy(), cache),
            np.array([[[[0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 4.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]]]]),
            "maxpool2d_backward", HAND + ", kernel_size=2, stride=1 (overlapping windows), dout = ones",
            hints=max_backward_hints(hand_x(), ones, 2, 1, 0))


@check("maxpool2d_backward", "ties: the whole gradient goes to the first maximum")
def _(impl):
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    _, cache = REF.maxpool2d_forward(tie_x(), 2)
    compare(impl.maxpool2d_backward(dout.copy(), cache),
            np.array([[[[1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]),
            "maxpool2d_backward", TIES + ", kernel_size=2, dout = [[1, 2], [3, 4]]",
            hints=max_backward_hints(tie_x(), dout, 2, None, 0))


@check("maxpool2d_backward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, k, s, p = random_case(cfg, seed=30 + i)
        out, cache = REF.maxpool2d_forward(x, k, s, p)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        if i % 2:
            dout = channels_last_view(dout)  # as the layer after a conv hands it back
        expected, hints = REF.maxpool2d_backward(dout, cache), max_backward_hints(x, dout, k, s, p)
        compare(impl.maxpool2d_backward(dout, cache), expected, "maxpool2d_backward",
                describe_inputs(x=x, kernel_size=k, stride=s, padding=p), rtol=1e-7, atol=1e-9, hints=hints)


@check("maxpool2d_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    for cfg in [(2, 2, 5, 6, 3, 2, 1), (1, 2, 5, 5, 2, 1, 1)]:  # with padding and odd sizes, then overlapping
        x, k, s, p = random_case(cfg, seed=40)
        out, cache = REF.maxpool2d_forward(x, k, s, p)
        dout = np.random.default_rng(4).standard_normal(out.shape)
        compare_gradient(impl.maxpool2d_backward(dout.copy(), cache), lambda v: REF.maxpool2d_forward(v, k, s, p)[0],
                         x, dout, "dx", describe_inputs(x=x, kernel_size=k, stride=s, padding=p))


@check("maxpool2d_backward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, k, s, p = random_case(CONFIGS[5], seed=50, dtype=np.float32)
    out, cache = REF.maxpool2d_forward(x, k, s, p)
    dout = np.random.default_rng(5).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout, x=x, argmax=cache[4])
    got = impl.maxpool2d_backward(dout, cache)
    frozen.verify("maxpool2d_backward")
    compare(got, REF.maxpool2d_backward(dout, cache), "maxpool2d_backward",
            "float32 " + describe_inputs(x=x, kernel_size=k, stride=s, padding=p))


# ---------------------------------------------------------------------------- 4.5 avgpool2d_forward

@check("avgpool2d_forward", "hand-computed cases")
def _(impl):
    out, _ = _forward(impl, "avgpool2d_forward", hand_x(), 2)
    compare(out, np.array([[[[3.25, 2.75], [3.0, 5.25]]]]), "avgpool2d_forward", HAND + ", kernel_size=2",
            hints=avg_forward_hints(hand_x(), 2, None, 0))
    ones = np.ones((1, 1, 3, 3))
    out, _ = _forward(impl, "avgpool2d_forward", ones, 3, 1, 1)
    compare(out, np.array([[[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]]]) / 9, "avgpool2d_forward",
            "x = ones((1, 1, 3, 3)), kernel_size=3, stride=1, padding=1",
            hints=avg_forward_hints(np.ones((1, 1, 3, 3)), 3, 1, 1))


@check("avgpool2d_forward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, k, s, p = random_case(cfg, seed=60 + i)
        expected, hints = REF.avgpool2d_forward(x, k, s, p)[0], avg_forward_hints(x, k, s, p)
        out, _ = _forward(impl, "avgpool2d_forward", x, k, s, p)
        compare(out, expected, "avgpool2d_forward", describe_inputs(x=x, kernel_size=k, stride=s, padding=p),
                rtol=1e-7, atol=1e-9, hints=hints)


@check("avgpool2d_forward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x, k, s, p = random_case(CONFIGS[2], seed=70, dtype=np.float32)
        x = layout(x)
        frozen = Frozen(x=x)
        out, _ = _forward(impl, "avgpool2d_forward", x, k, s, p)
        frozen.verify("avgpool2d_forward")
        compare(out, REF.avgpool2d_forward(x.copy(), k, s, p)[0], "avgpool2d_forward",
                "float32 " + describe_inputs(x=x, kernel_size=k, stride=s, padding=p))


@check("avgpool2d_forward", "its cache works with the reference avgpool2d_backward")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, k, s, p = random_case(cfg, seed=80 + i)
        desc = describe_inputs(x=x, kernel_size=k, stride=s, padding=p)
        out, cache = _forward(impl, "avgpool2d_forward", x, k, s, p)
        _, ref_cache = REF.avgpool2d_forward(x, k, s, p)
        _check_pool_cache(cache, ref_cache, "avgpool2d_forward", x, desc)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        compare(REF.avgpool2d_backward(dout, cache), REF.avgpool2d_backward(dout, ref_cache),
                "reference avgpool2d_backward on your cache", desc)


# ---------------------------------------------------------------------------- 4.6 avgpool2d_backward

@check("avgpool2d_backward", "hand-computed cases")
def _(impl):
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    _, cache = REF.avgpool2d_forward(hand_x(), 2)
    compare(impl.avgpool2d_backward(dout.copy(), cache),
            np.array([[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]]]) / 4,
            "avgpool2d_backward", HAND + ", kernel_size=2, dout = [[1, 2], [3, 4]]",
            hints=avg_backward_hints(hand_x(), dout, 2, None, 0))
    ones = np.ones((1, 1, 3, 3))
    _, cache = REF.avgpool2d_forward(ones.copy(), 3, 1, 1)
    compare(impl.avgpool2d_backward(ones.copy(), cache),
            np.array([[[[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]]]) / 9, "avgpool2d_backward",
            "x = ones((1, 1, 3, 3)), kernel_size=3, stride=1, padding=1, dout = ones",
            hints=avg_backward_hints(ones, ones, 3, 1, 1))


@check("avgpool2d_backward", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        x, k, s, p = random_case(cfg, seed=90 + i)
        out, cache = REF.avgpool2d_forward(x, k, s, p)
        dout = np.random.default_rng(i).standard_normal(out.shape)
        if i % 2:
            dout = channels_last_view(dout)
        expected, hints = REF.avgpool2d_backward(dout, cache), avg_backward_hints(x, dout, k, s, p)
        compare(impl.avgpool2d_backward(dout, cache), expected, "avgpool2d_backward",
                describe_inputs(x=x, kernel_size=k, stride=s, padding=p), rtol=1e-7, atol=1e-9, hints=hints)


@check("avgpool2d_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    for cfg in [(2, 2, 5, 6, 3, 2, 1), (1, 2, 5, 5, 2, 1, 1)]:
        x, k, s, p = random_case(cfg, seed=100)
        out, cache = REF.avgpool2d_forward(x, k, s, p)
        dout = np.random.default_rng(10).standard_normal(out.shape)
        compare_gradient(impl.avgpool2d_backward(dout.copy(), cache), lambda v: REF.avgpool2d_forward(v, k, s, p)[0],
                         x, dout, "dx", describe_inputs(x=x, kernel_size=k, stride=s, padding=p))


@check("avgpool2d_backward", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x, k, s, p = random_case(CONFIGS[5], seed=110, dtype=np.float32)
    out, cache = REF.avgpool2d_forward(x, k, s, p)
    dout = np.random.default_rng(11).standard_normal(out.shape).astype(np.float32)
    frozen = Frozen(dout=dout, x=x)
    got = impl.avgpool2d_backward(dout, cache)
    frozen.verify("avgpool2d_backward")
    compare(got, REF.avgpool2d_backward(dout, cache), "avgpool2d_backward",
            "float32 " + describe_inputs(x=x, kernel_size=k, stride=s, padding=p))
