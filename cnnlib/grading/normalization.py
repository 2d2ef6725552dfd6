"""Checks for the batch normalization exercises (chapter 07)."""
from __future__ import annotations

import numpy as np

from .core import (REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs,
                   expect_raises, expect_tuple)

# (shape, training, momentum, eps): batch 1 only in eval mode, odd sizes, several momenta and eps
CONFIGS_1D = [
    ((2, 3), True, 0.1, 1e-5),
    ((5, 1), True, 0.3, 1e-3),
    ((7, 4), False, 0.1, 1e-5),
    ((16, 10), True, 0.01, 0.5),
    ((1, 5), False, 0.2, 1e-2),
    ((3, 8), True, 1.0, 1e-5),
    ((6, 2), False, 0.5, 0.3),
    ((9, 6), True, 0.0, 1e-4),
]
CONFIGS_2D = [
    ((1, 3, 5, 4), True, 0.1, 1e-5),
    ((2, 1, 3, 3), True, 0.3, 1e-3),
    ((4, 5, 2, 7), False, 0.1, 1e-5),
    ((3, 2, 1, 1), True, 0.01, 0.5),
    ((1, 4, 1, 1), False, 0.2, 1e-2),
    ((2, 6, 4, 3), True, 1.0, 0.2),
    ((3, 3, 3, 2), False, 0.5, 0.3),
]

NAMES = ("out", "new_running_mean", "new_running_var")
GRAD_NAMES = ("dx", "dgamma", "dbeta")


def random_case(shape, seed: int, dtype=np.float64, channels_last: bool = False):
    """x with non-zero means and variances != 1 (so mistakes show), parameters and running statistics."""
    rng = np.random.default_rng(seed)
    D = shape[1]
    scale, shift = rng.uniform(0.5, 3.0, D), rng.standard_normal(D) * 2
    if len(shape) == 2:
        x = rng.standard_normal(shape) * scale + shift
    else:
        N, C, H, W = shape
        x = rng.standard_normal((N, H, W, C)) * scale + shift  # channels-last memory ...
        x = x.transpose(0, 3, 1, 2)  # ... seen as (N, C, H, W), as conv2d_forward returns it
        if not channels_last:
            x = np.ascontiguousarray(x)
    gamma, beta = rng.uniform(0.5, 2.0, D), rng.standard_normal(D)
    running_mean, running_var = rng.standard_normal(D), rng.uniform(0.5, 2.0, D)
    return tuple(a.astype(dtype) for a in (x, gamma, beta, running_mean, running_var))


def _stats_axes(x):
    return (0,) if x.ndim == 2 else (0, 2, 3)


def _bcast(v, x):
    return v if x.ndim == 2 else v.reshape(1, -1, 1, 1)


def forward_mistakes(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """What common mistakes produce: a list of ((out, new_mean, new_var), hint)."""
    with np.errstate(all="ignore"):  # a mistake may divide by zero (one sample, eps=0): no warnings
        return _forward_mistakes(x, gamma, beta, running_mean, running_var, training, momentum, eps)


def _forward_mistakes(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    axes = _stats_axes(x)
    M = x.size // x.shape[1]
    b = lambda v: _bcast(v, x)  # noqa: E731

    def result(mean, var, norm_var=None, new_mean=None, new_var=None, outside=False):
        nv = var if norm_var is None else norm_var
        x_hat = (x - mean) / (np.sqrt(nv) + eps if outside else np.sqrt(nv + eps))
        out = b(gamma) * x_hat + b(beta)
        return out, new_mean, new_var

    mistakes = []
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        good_mean = (1 - momentum) * running_mean + momentum * mean
        good_var = (1 - momentum) * running_var + momentum * var * M / (M - 1)
        kw = dict(new_mean=good_mean, new_var=good_var)
        swapped = b(beta) * (x - b(mean)) / np.sqrt(b(var) + eps) + b(gamma)
        mistakes += [
            ((swapped, None, None), "gamma scales x_hat and beta shifts it: out = gamma * x_hat + beta."),
            (result(b(mean), b(var), **dict(kw, new_var=(1 - momentum) * running_var + momentum * var)),
             "the running variance takes the *unbiased* batch variance, var * M / (M - 1) with M values "
             "per feature (PyTorch's convention), while the batch itself is normalised with the biased one."),
            (result(b(mean), b(var), new_mean=momentum * running_mean + (1 - momentum) * mean,
                    new_var=momentum * running_var + (1 - momentum) * var * M / (M - 1)),
             "the momentum convention is reversed: PyTorch's running = (1 - momentum) * running + "
             "momentum * batch, so momentum=0.1 keeps 90% of the old value (Keras writes 0.9 for that)."),
            (result(b(mean), b(var), norm_var=b(var * M / (M - 1)), **kw),
             "normalise the batch with the *biased* variance (divide by M, np.var's default); only the "
             "running variance takes the unbiased one."),
            (result(b(mean), b(var), outside=True, **kw),
             "eps goes inside the square root: (x - mean) / sqrt(var + eps)."),
            (result(b(mean), b(var), new_mean=running_mean, new_var=running_var),
             "in training mode the running statistics must be updated (and returned)."),
            (result(b(running_mean), b(running_var), new_mean=good_mean, new_var=good_var),
             "in training mode normalise with the batch's own mean and variance, not the running ones."),
        ]
        other = tuple(range(1, x.ndim))  # statistics per sample, the wrong axis
        mistakes.append((result(x.mean(axis=other, keepdims=True), x.var(axis=other, keepdims=True), **kw),
                         "statistics are taken over the wrong axis: per feature (channel), across the "
                         "batch" + (" and all positions: axis=(0, 2, 3)." if x.ndim == 4 else ": axis=0.")))
        if x.ndim == 4:
            N, C, H, W = x.shape
            rows = x.reshape(-1, C)  # a reshape without moving the channels last first
            out = (rows - rows.mean(axis=0)) / np.sqrt(rows.var(axis=0) + eps) * gamma + beta
            mistakes.append(((out.reshape(x.shape), None, None),
                             "x.reshape(-1, C) does not put channel c in column c: the channels must "
                             "become the last axis before the reshape."))
            mistakes.append((result(x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True), **kw),
                             "each channel is one feature: average over N, H and W, not over N alone."))
            mistakes.append((result(x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True), **kw),
                             "batch norm averages over the batch too: axis=(0, 2, 3), not per sample (2, 3)."))
            mistakes.append(((None, None, (1 - momentum) * running_var + momentum * var * N / (N - 1) if N > 1
                              else None),
                             "the unbiased correction uses M = N*H*W values per channel: var * M / (M - 1)."))
    else:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        mistakes += [
            (result(b(mean), b(var), new_mean=running_mean, new_var=running_var),
             "in eval mode normalise with the running statistics, not the batch's."),
            (result(b(running_mean), b(running_var), new_mean=(1 - momentum) * running_mean + momentum * mean,
                    new_var=(1 - momentum) * running_var + momentum * var * M / (M - 1)),
             "in eval mode the running statistics stay as they are: return copies."),
            (result(b(running_mean), b(running_var), outside=True, new_mean=running_mean, new_var=running_var),
             "eps goes inside the square root: (x - running_mean) / sqrt(running_var + eps)."),
        ]
    return mistakes


def compare_forward(got, expected, name, inputs, mistakes=(), rtol=1e-7, atol=1e-9):
    """Compare (out, cache, new_mean, new_var) with the expected (out, new_mean, new_var)."""
    got = expect_tuple(got, 4, name)
    received = (got[0], got[2], got[3])
    for i, what in enumerate(NAMES):
        hints = [(m[i], text) for m, text in mistakes if m[i] is not None]
        compare(received[i], expected[i], f"{name}: {what}", inputs, rtol=rtol, atol=atol, hints=hints)
    return got


def _describe(x, training, momentum, eps):
    return describe_inputs(x=x, training=training, momentum=momentum, eps=eps)


# ---------------------------------------------------------------------------- hand cases

def hand_1d():
    """x (4, 2): feature 0 = [-5, 3, 1, 9] (mean 2, variance 25), feature 1 = [0, 4, 4, 0] (mean 2,
    variance 4); gamma, beta, running_mean, running_var (fresh arrays)."""
    x = np.array([[-5.0, 0.0], [3.0, 4.0], [1.0, 4.0], [9.0, 0.0]])
    return x, np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.zeros(2), np.ones(2)


def hand_2d():
    """The same numbers as a (2, 2, 1, 2) batch of maps: channel c holds feature c's values."""
    x = np.array([[[[-5.0, 3.0]], [[0.0, 4.0]]], [[[1.0, 9.0]], [[4.0, 0.0]]]])
    return x, np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.zeros(2), np.ones(2)


HAND_DESC = ("x with feature 0 = [-5, 3, 1, 9] and feature 1 = [0, 4, 4, 0] (means [2, 2], variances [25, 4]), "
             "gamma=[2, 0.5], beta=[1, -1], running_mean=[0, 0], running_var=[1, 1], momentum=0.1, eps=0")
# x_hat = [-1.4, 0.2, -0.2, 1.4] and [-1, 1, 1, -1]; out = 2 * x_hat + 1 and 0.5 * x_hat - 1
HAND_OUT_1D = np.array([[-1.8, -1.5], [1.4, -0.5], [0.6, -0.5], [3.8, -1.5]])
HAND_OUT_2D = np.array([[[[-1.8, 1.4]], [[-1.5, -0.5]]], [[[0.6, 3.8]], [[-0.5, -1.5]]]])
# momentum 0.1: running mean 0.9 * 0 + 0.1 * 2; running var 0.9 * 1 + 0.1 * (unbiased 25 * 4/3 and 4 * 4/3)
HAND_MEAN, HAND_VAR = np.array([0.2, 0.2]), np.array([127 / 30, 43 / 30])


def _hand_train(impl, name, case, expected_out):
    x, g, b, rm, rv = case()
    compare_forward(getattr(impl, name)(x, g, b, rm, rv, True, 0.1, 0.0), (expected_out, HAND_MEAN, HAND_VAR),
                    name, HAND_DESC, forward_mistakes(*case(), True, 0.1, 0.0))


def _hand_eps(impl, name, case):
    # Feature 1 (values 0 and 4, variance 4): with eps=12, x_hat = -+2 / sqrt(4 + 12) = -+0.5.
    x, g, b, rm, rv = case()
    got = expect_tuple(getattr(impl, name)(x, g, b, rm, rv, True, 0.1, 12.0), 4, name)
    feature1 = np.asarray(got[0])[:, 1].reshape(-1)
    outside = 0.5 * np.array([-2.0, 2.0, 2.0, -2.0]) / (2 + 12) - 1
    compare(feature1, np.array([-1.25, -0.75, -0.75, -1.25]), f"{name}: out for feature 1",
            "the hand case (feature 1 = [0, 4, 4, 0], gamma 0.5, beta -1) with eps=12",
            hints=[(outside, "eps goes inside the square root: (x - mean) / sqrt(var + eps).")])


def _hand_eval(impl, name, shape):
    x = np.array([3.0, 0.0, 5.0, -3.0]).reshape(shape)
    rm, rv = np.array([0.0, 1.0]), np.array([4.0, 1.0])
    got = getattr(impl, name)(x, np.array([2.0, 0.5]), np.array([1.0, -1.0]), rm.copy(), rv.copy(), False, 0.1, 0.0)
    # x_hat = (x - running_mean) / sqrt(running_var) = [[1.5, -1], [2.5, -4]]
    expected = np.array([4.0, -1.5, 6.0, -3.0]).reshape(shape)
    x2 = x.reshape(2, 2) if len(shape) == 2 else x.transpose(0, 2, 3, 1).reshape(-1, 2)
    batch = (np.array([2.0, 0.5]) * (x2 - x2.mean(0)) / x2.std(0) + np.array([1.0, -1.0]))
    batch = batch.reshape(shape) if len(shape) == 2 else batch.reshape(2, 1, 1, 2).transpose(0, 3, 1, 2)
    compare_forward(got, (expected, rm, rv), name, f"eval mode, x = [[3, 0], [5, -3]] (shape {shape}), "
                    "running_mean=[0, 1], running_var=[4, 1], gamma=[2, 0.5], beta=[1, -1], eps=0",
                    [((batch, None, None), "in eval mode normalise with the running statistics, not the batch's.")])


# ---------------------------------------------------------------------------- shared forward checks

def _random_forward(impl, name, configs, seed0):
    for i, (shape, training, momentum, eps) in enumerate(configs):
        args = random_case(shape, seed0 + i, channels_last=len(shape) == 4 and i % 2 == 0)
        got = getattr(impl, name)(*(a.copy() for a in args), training, momentum, eps)
        ref = getattr(REF, name)(*args, training, momentum, eps)
        compare_forward(got, (ref[0], ref[2], ref[3]), name, _describe(args[0], training, momentum, eps),
                        forward_mistakes(*args, training, momentum, eps))


def _invariants_forward(impl, name, shape, seed):
    for training in (True, False):
        x, g, b, rm, rv = random_case(shape, seed, dtype=np.float32)
        frozen = Frozen(x=x, gamma=g, beta=b, running_mean=rm, running_var=rv)
        got = getattr(impl, name)(x, g, b, rm, rv, training, 0.1, 1e-5)
        try:
            frozen.verify(name)
        except GradingError as e:
            raise GradingError(e.message + f" (training={training})",
                               "running statistics are returned as new arrays, never updated in place: "
                               "write new_running_mean = (1 - momentum) * running_mean + ..., not "
                               "running_mean *= ...; the caller keeps them." if "running" in e.message
                               else e.hint) from None
        ref = getattr(REF, name)(x, g, b, rm, rv, training, 0.1, 1e-5)
        compare_forward(got, (ref[0], ref[2], ref[3]), name, f"float32 inputs, training={training}",
                        rtol=1e-4, atol=1e-5)


def _pairing(impl, name, backward, configs, seed0):
    for i, (shape, training, momentum, eps) in enumerate(configs):
        for mode in (training, not training):
            args = random_case(shape, seed0 + i)
            if mode and np.prod(shape) // shape[1] < 2:
                continue
            got = expect_tuple(getattr(impl, name)(*(a.copy() for a in args), mode, momentum, eps), 4, name)
            cache = got[1]
            if not isinstance(cache, tuple) or len(cache) != 4:
                raise GradingError(f"{name}'s cache must be the tuple (x_hat, gamma, inv_std, training)",
                                   f"see the docstring: {backward} unpacks exactly these four items.")
            ref_cache = getattr(REF, name)(*args, mode, momentum, eps)[1]
            desc = _describe(args[0], mode, momentum, eps)
            hints_inv = [(1 / ref_cache[2], "inv_std is 1 / sqrt(var + eps), not the standard deviation."),
                         (ref_cache[2] ** 2, "inv_std is 1 / sqrt(var + eps), not 1 / (var + eps).")]
            compare(cache[0], ref_cache[0], "x_hat in the cache", desc,
                    hints=[(ref_cache[0] / _bcast(ref_cache[2], ref_cache[0]),
                            "x_hat is the normalised x: (x - mean) * inv_std, not just x - mean.")])
            compare(cache[2], ref_cache[2], "inv_std in the cache", desc, hints=hints_inv)
            if bool(cache[3]) != mode:
                raise GradingError(f"the cache's last item must be training={mode}, received {cache[3]!r}")
            dout = np.random.default_rng(i).standard_normal(shape)
            for g, e, what in zip(getattr(REF, backward)(dout, cache), getattr(REF, backward)(dout, ref_cache),
                                  GRAD_NAMES):
                compare(g, e, f"reference {backward} on your cache: {what}", desc)


def _rejects_bad_arguments(impl, name, shape):
    x, g, b, rm, rv = random_case(shape, 0)
    fn = getattr(impl, name)
    fn(x, g, b, rm, rv, True)  # a valid call first (raises NotImplementedError while not written)
    single = x[:1] if x.ndim == 2 else x[:1, :, :1, :1]
    bad = [(ValueError, (x, g[:-1], b, rm, rv, True), "gamma of the wrong length"),
           (ValueError, (x[0], g, b, rm, rv, True), "x with the wrong number of axes"),
           (ValueError, (single, g, b, rm, rv, True), "one value per feature in training mode"),
           (ValueError, (x, g, b, rm, rv, True, 1.5), "momentum=1.5"),
           (TypeError, (x.astype(np.int64), g, b, rm, rv, True), "integer x")]
    for exc, args, what in bad:
        expect_raises(exc, fn, *args, what=f"{name} with {what}")


# ---------------------------------------------------------------------------- 7.1 batchnorm_forward

@check("batchnorm_forward", "hand-computed case (training mode)")
def _(impl):
    _hand_train(impl, "batchnorm_forward", hand_1d, HAND_OUT_1D)


@check("batchnorm_forward", "hand-computed case: eps inside the square root")
def _(impl):
    _hand_eps(impl, "batchnorm_forward", hand_1d)


@check("batchnorm_forward", "hand-computed case (eval mode uses the running statistics)")
def _(impl):
    _hand_eval(impl, "batchnorm_forward", (2, 2))


@check("batchnorm_forward", "matches the reference on random inputs (training and eval)")
def _(impl):
    _random_forward(impl, "batchnorm_forward", CONFIGS_1D, 100)


@check("batchnorm_forward", "keeps float32 and leaves inputs and running statistics unmodified")
def _(impl):
    _invariants_forward(impl, "batchnorm_forward", (6, 5), 120)


@check("batchnorm_forward", "its cache works with the reference batchnorm_backward")
def _(impl):
    _pairing(impl, "batchnorm_forward", "batchnorm_backward", CONFIGS_1D[:4], 130)


@check("batchnorm_forward", "rejects bad arguments with ValueError or TypeError")
def _(impl):
    _rejects_bad_arguments(impl, "batchnorm_forward", (4, 3))


# ---------------------------------------------------------------------------- 7.3 spatial_batchnorm_forward

@check("spatial_batchnorm_forward", "hand-computed case (training mode)")
def _(impl):
    _hand_train(impl, "spatial_batchnorm_forward", hand_2d, HAND_OUT_2D)


@check("spatial_batchnorm_forward", "hand-computed case: eps inside the square root")
def _(impl):
    _hand_eps(impl, "spatial_batchnorm_forward", hand_2d)


@check("spatial_batchnorm_forward", "hand-computed case (eval mode uses the running statistics)")
def _(impl):
    _hand_eval(impl, "spatial_batchnorm_forward", (2, 2, 1, 1))


@check("spatial_batchnorm_forward", "matches the reference on random inputs (training and eval, "
                                    "contiguous and channels-last)")
def _(impl):
    _random_forward(impl, "spatial_batchnorm_forward", CONFIGS_2D, 200)


@check("spatial_batchnorm_forward", "keeps float32 and leaves inputs and running statistics unmodified")
def _(impl):
    _invariants_forward(impl, "spatial_batchnorm_forward", (3, 4, 5, 3), 220)


@check("spatial_batchnorm_forward", "its cache works with the reference spatial_batchnorm_backward")
def _(impl):
    _pairing(impl, "spatial_batchnorm_forward", "spatial_batchnorm_backward", CONFIGS_2D[:4], 230)


@check("spatial_batchnorm_forward", "rejects bad arguments with ValueError or TypeError")
def _(impl):
    _rejects_bad_arguments(impl, "spatial_batchnorm_forward", (2, 3, 4, 4))


# ---------------------------------------------------------------------------- backward checks

def backward_mistakes(dout, cache):
    """What common mistakes produce: a list of ((dx, dgamma, dbeta), hint)."""
    x_hat, gamma, inv_std, training = cache
    axes = _stats_axes(x_hat)
    M = x_hat.size // x_hat.shape[1]
    b = lambda v: _bcast(v, x_hat)  # noqa: E731
    dbeta, dgamma = dout.sum(axis=axes), (dout * x_hat).sum(axis=axes)
    plain = dout * b(gamma * inv_std)
    full = b(gamma * inv_std / M) * (M * dout - b(dbeta) - x_hat * b(dgamma))
    mistakes = [((None, None, dgamma),
                 "dgamma and dbeta are swapped: dbeta = sum(dout), dgamma = sum(dout * x_hat)."),
                ((None, dout.sum(axis=axes), None), "dgamma = sum of dout * x_hat: gamma multiplies x_hat."),
                ((None, (dout * x_hat).mean(axis=axes), dout.mean(axis=axes)),
                 "dgamma and dbeta are sums over the batch" + (" and positions" if x_hat.ndim == 4 else "") +
                 ", not means.")]
    if training:
        mistakes += [((plain, None, None), "in training mode the mean and the variance depend on x too: "
                      "dx = gamma * inv_std / M * (M * dout - sum(dout) - x_hat * sum(dout * x_hat))."),
                     ((b(gamma * inv_std / M) * (M * dout - b(dbeta) + x_hat * b(dgamma)), None, None),
                      "check the signs: dx = gamma * inv_std / M * (M * dout - sum(dout) - x_hat * "
                      "sum(dout * x_hat)).")]
        if M > 2:
            m1 = M - 1
            mistakes.append(((b(gamma * inv_std / m1) * (m1 * dout - b(dbeta) - x_hat * b(dgamma)), None, None),
                             "M (N, or N*H*W for maps) is the number of values per feature, "
                             "not M - 1: the batch was normalised with the biased variance."))
    else:
        mistakes.append(((full, None, None), "in eval mode the running statistics are constants: "
                         "dx = dout * gamma * inv_std."))
    if x_hat.ndim == 4 and training:
        C = x_hat.shape[1]
        rows, xr = dout.reshape(-1, C), x_hat.reshape(-1, C)  # a reshape without moving the channels last
        dx_wrong = (gamma * inv_std / M) * (M * rows - rows.sum(0) - xr * (rows * xr).sum(0))
        mistakes.append(((dx_wrong.reshape(x_hat.shape), (rows * xr).sum(0), rows.sum(0)),
                         "dout.reshape(-1, C) does not put channel c in column c: the channels must "
                         "become the last axis before the reshape."))
    if x_hat.ndim == 4:
        N = x_hat.shape[0]
        mistakes.append(((b(gamma * inv_std / N) * (N * dout - b(dbeta) - x_hat * b(dgamma)), None, None),
                         "M is the number of values per channel, N*H*W, not N."))
    return mistakes


def compare_backward(got, expected, inputs, mistakes=(), rtol=1e-7, atol=1e-9):
    got = expect_tuple(got, 3, "the backward")
    for i in (2, 1, 0):  # dbeta and dgamma first: dx builds on them
        what = GRAD_NAMES[i]
        hints = [(m[i], text) for m, text in mistakes if m[i] is not None]
        compare(got[i], expected[i], what, inputs, rtol=rtol, atol=atol, hints=hints)


def _hand_backward(impl, name, case, dout, expected):
    x, g, b, rm, rv = case()
    cache = getattr(REF, name.replace("backward", "forward"))(x, g, b, rm, rv, True, 0.1, 0.0)[1]
    compare_backward(getattr(impl, name)(dout, cache), expected,
                     "the training hand case (x_hat = [-1.4, 0.2, -0.2, 1.4] and [-1, 1, 1, -1], inv_std = "
                     "[0.2, 0.5], gamma = [2, 0.5])",
                     backward_mistakes(dout, cache))


def _hand_backward_eval(impl, name, shape):
    forward = getattr(REF, name.replace("backward", "forward"))
    x = np.array([3.0, 0.0, 5.0, -3.0]).reshape(shape)
    _, cache, _, _ = forward(x, np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.array([0.0, 1.0]),
                             np.array([4.0, 1.0]), False, 0.1, 0.0)
    dout = np.array([1.0, 2.0, -1.0, 4.0]).reshape(shape)
    # dx = dout * gamma / sqrt(running_var) = dout * [1, 0.5]; x_hat = [[1.5, -1], [2.5, -4]]
    compare_backward(getattr(impl, name)(dout, cache),
                     (np.array([1.0, 1.0, -1.0, 2.0]).reshape(shape), np.array([-1.0, -18.0]), np.array([0.0, 6.0])),
                     "eval mode, x = [[3, 0], [5, -3]], running_mean=[0, 1], running_var=[4, 1], "
                     "gamma=[2, 0.5], dout=[[1, 2], [-1, 4]]",
                     backward_mistakes(dout, cache))


def _random_backward(impl, name, configs, seed0):
    forward = getattr(REF, name.replace("backward", "forward"))
    for i, (shape, training, momentum, eps) in enumerate(configs):
        for mode in (training, not training):
            args = random_case(shape, seed0 + i, channels_last=len(shape) == 4 and i % 2 == 1)
            if mode and np.prod(shape) // shape[1] < 2:
                continue
            out, cache, _, _ = forward(*args, mode, momentum, eps)
            dout = np.random.default_rng(i).standard_normal(shape)
            compare_backward(getattr(impl, name)(dout.copy(), cache), getattr(REF, name)(dout, cache),
                             _describe(args[0], mode, momentum, eps), backward_mistakes(dout, cache))


def _numerical_backward(impl, name, shape, seed):
    forward = getattr(REF, name.replace("backward", "forward"))
    for training in (True, False):
        x, g, b, rm, rv = random_case(shape, seed)
        eps = 1e-3
        _, cache, _, _ = forward(x, g, b, rm, rv, training, 0.1, eps)
        dout = np.random.default_rng(seed).standard_normal(shape)
        dx, dg, db = expect_tuple(getattr(impl, name)(dout.copy(), cache), 3, name)
        desc = _describe(x, training, 0.1, eps)
        f = lambda x_, g_, b_: forward(x_, g_, b_, rm, rv, training, 0.1, eps)[0]  # noqa: E731
        compare_gradient(dx, lambda v: f(v, g, b), x, dout, "dx", desc, tol=1e-5)
        compare_gradient(dg, lambda v: f(x, v, b), g, dout, "dgamma", desc, tol=1e-5)
        compare_gradient(db, lambda v: f(x, g, v), b, dout, "dbeta", desc, tol=1e-5)


def _invariants_backward(impl, name, shape, seed):
    forward = getattr(REF, name.replace("backward", "forward"))
    for training in (True, False):
        args = random_case(shape, seed, dtype=np.float32)
        _, cache, _, _ = forward(*args, training, 0.1, 1e-5)
        dout = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
        frozen = Frozen(dout=dout, x_hat=cache[0], gamma=cache[1], inv_std=cache[2])
        got = expect_tuple(getattr(impl, name)(dout, cache), 3, name)
        frozen.verify(name)
        compare_backward(got, getattr(REF, name)(dout, cache), f"float32 inputs, training={training}",
                         rtol=1e-3, atol=1e-4)


def _rejects_bad_cache(impl, name, shape):
    forward = getattr(REF, name.replace("backward", "forward"))
    out, cache, _, _ = forward(*random_case(shape, 0), True)
    getattr(impl, name)(out, cache)  # a valid call first (raises NotImplementedError while not written)
    expect_raises((ValueError, TypeError), getattr(impl, name), out, (np.ones(3), 0.5, True),
                  what=f"{name} given a dropout cache")
    expect_raises(ValueError, getattr(impl, name), out[:1], cache, what=f"{name} given dout of the wrong shape")


# ---------------------------------------------------------------------------- 7.2 batchnorm_backward

@check("batchnorm_backward", "hand-computed case (training mode)")
def _(impl):
    dout = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    # feature 0: a constant dout moves nothing; feature 1: dx = 0.5 * 0.5 / 4 * (4 dout - 1 - x_hat * (-1))
    _hand_backward(impl, "batchnorm_backward", hand_1d, dout,
                   (np.array([[0.0, 0.125], [0.0, 0.0], [0.0, 0.0], [0.0, -0.125]]),
                    np.array([0.0, -1.0]), np.array([4.0, 1.0])))


@check("batchnorm_backward", "hand-computed case (eval mode)")
def _(impl):
    _hand_backward_eval(impl, "batchnorm_backward", (2, 2))


@check("batchnorm_backward", "matches the reference on random inputs (training and eval)")
def _(impl):
    _random_backward(impl, "batchnorm_backward", CONFIGS_1D, 300)


@check("batchnorm_backward", "agrees with the numerical gradient (float64, training and eval)")
def _(impl):
    _numerical_backward(impl, "batchnorm_backward", (4, 3), 310)


@check("batchnorm_backward", "keeps float32 and leaves inputs unmodified")
def _(impl):
    _invariants_backward(impl, "batchnorm_backward", (6, 5), 320)


@check("batchnorm_backward", "rejects a cache from another op and dout of the wrong shape")
def _(impl):
    _rejects_bad_cache(impl, "batchnorm_backward", (4, 3))


# ---------------------------------------------------------------------------- 7.4 spatial_batchnorm_backward

@check("spatial_batchnorm_backward", "hand-computed case (training mode)")
def _(impl):
    dout = np.array([[[[1.0, 1.0]], [[1.0, 0.0]]], [[[1.0, 1.0]], [[0.0, 0.0]]]])
    _hand_backward(impl, "spatial_batchnorm_backward", hand_2d, dout,
                   (np.array([[[[0.0, 0.0]], [[0.125, 0.0]]], [[[0.0, 0.0]], [[0.0, -0.125]]]]),
                    np.array([0.0, -1.0]), np.array([4.0, 1.0])))


@check("spatial_batchnorm_backward", "hand-computed case (eval mode)")
def _(impl):
    _hand_backward_eval(impl, "spatial_batchnorm_backward", (2, 2, 1, 1))


@check("spatial_batchnorm_backward", "matches the reference on random inputs (training and eval, "
                                     "contiguous and channels-last)")
def _(impl):
    _random_backward(impl, "spatial_batchnorm_backward", CONFIGS_2D, 400)


@check("spatial_batchnorm_backward", "agrees with the numerical gradient (float64, training and eval)")
def _(impl):
    _numerical_backward(impl, "spatial_batchnorm_backward", (2, 3, 3, 2), 410)


@check("spatial_batchnorm_backward", "keeps float32 and leaves inputs unmodified")
def _(impl):
    _invariants_backward(impl, "spatial_batchnorm_backward", (3, 4, 5, 3), 420)


@check("spatial_batchnorm_backward", "rejects a cache from another op and dout of the wrong shape")
def _(impl):
    _rejects_bad_cache(impl, "spatial_batchnorm_backward", (2, 3, 2, 2))
