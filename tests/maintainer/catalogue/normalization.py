"""Plausible wrong implementations of the batch normalization exercises, and correct alternatives."""
import numpy as np

from cnnlib.core.contracts import batchnorm_args, batchnorm_cache
from solutions import normalization as ref

_NDIM = {"batchnorm_forward": 2, "spatial_batchnorm_forward": 4}


def _bn(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5, **mistake):
    """Batch norm on NCHW or (N, D) directly (keepdims statistics), with knobs for common mistakes."""
    name = "spatial_batchnorm_forward" if getattr(x, "ndim", 0) >= 3 else "batchnorm_forward"
    batchnorm_args(name, x, gamma, beta, running_mean, running_var, training, momentum, eps, _NDIM[name])
    m = mistake.get
    if m("upcast"):
        x = x.astype(np.float64)
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x.ndim - 2)  # per-feature values broadcast against x
    count = x.shape[0] if m("count_n") else x.size // x.shape[1]
    new_mean, new_var = running_mean.copy(), running_var.copy()
    if training != bool(m("swap_modes")):
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        unbiased = var if m("biased_running") else var * count / (count - 1)
        a, b = (momentum, 1 - momentum) if m("reversed_momentum") else (1 - momentum, momentum)
        if m("in_place"):
            running_mean *= a
            running_mean += b * mean
            running_var *= a
            running_var += b * unbiased
            new_mean, new_var = running_mean, running_var
        elif not m("no_update"):
            new_mean, new_var = a * running_mean + b * mean, a * running_var + b * unbiased
        norm_axes = m("norm_axes") or axes
        norm_mean, norm_var = x.mean(axis=norm_axes, keepdims=True), x.var(axis=norm_axes, keepdims=True)
        if m("unbiased_norm"):
            norm_var = norm_var * count / (count - 1)
    else:
        norm_mean, norm_var = running_mean.reshape(shape), running_var.reshape(shape)
    if m("eps_outside"):
        inv_std = 1 / (np.sqrt(norm_var) + eps)
    else:
        inv_std = 1 / np.sqrt(norm_var + eps)
    x_hat = (x - norm_mean) * inv_std
    g, b = (beta, gamma) if m("swap_gamma_beta") else (gamma, beta)
    out = g.reshape(shape) * x_hat + b.reshape(shape)
    cache_inv = inv_std.reshape(-1) if inv_std.size == x.shape[1] else inv_std
    if m("cache_std"):
        cache_inv = 1 / cache_inv
    cache = (x - norm_mean if m("cache_centred") else x_hat, gamma, cache_inv, training)
    return out, cache, new_mean, new_var


def _knob(**mistake):
    return lambda *args, **kw: _bn(*args, **kw, **mistake)


def _spatial_reshape_without_transpose(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    N, C, H, W = x.shape
    out, (x_hat, g, inv_std, t), rm, rv = ref.batchnorm_forward(x.reshape(-1, C), gamma, beta, running_mean,
                                                               running_var, training, momentum, eps)
    return out.reshape(x.shape), (x_hat.reshape(x.shape), g, inv_std, t), rm, rv


def _spatial_cache_channels_last(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, (x_hat, g, inv_std, t), rm, rv = ref.batchnorm_forward(rows, gamma, beta, running_mean, running_var,
                                                               training, momentum, eps)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), (x_hat.reshape(N, H, W, C), g, inv_std, t), rm, rv


FORWARD_MISTAKES = {
    "running variance biased": _knob(biased_running=True),
    "momentum convention reversed (0.9 vs 0.1)": _knob(reversed_momentum=True),
    "eps outside the square root": _knob(eps_outside=True),
    "normalised with the unbiased variance": _knob(unbiased_norm=True),
    "train and eval behaviour swapped": _knob(swap_modes=True),
    "running statistics not updated": _knob(no_update=True),
    "running statistics updated in place": _knob(in_place=True),
    "float32 upcast to float64": _knob(upcast=True),
    "gamma and beta swapped": _knob(swap_gamma_beta=True),
    "cache holds the std, not its inverse": _knob(cache_std=True),
    "cache holds x - mean, not x_hat": _knob(cache_centred=True),
}


# ---------------------------------------------------------------------------- backward

def _bn_backward(dout, cache, **mistake):
    """Backward on NCHW or (N, D) directly, with knobs for common mistakes."""
    m = mistake.get
    ndim = cache[0].ndim if isinstance(cache, tuple) and isinstance(cache[0], np.ndarray) else 2
    name = "spatial_batchnorm_backward" if ndim == 4 else "batchnorm_backward"
    x_hat, gamma, inv_std, training = batchnorm_cache(name, dout, cache, ndim)
    axes = (0,) if x_hat.ndim == 2 else (0, 2, 3)
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)
    if m("upcast"):
        dout = dout.astype(np.float64)
    M = x_hat.shape[0] if m("count_n") else x_hat.size // x_hat.shape[1]
    if m("count_minus_one"):
        M -= 1
    reduce = (lambda a: a.mean(axis=axes)) if m("means") else (lambda a: a.sum(axis=axes))
    dbeta, dgamma = reduce(dout), reduce(dout if m("dgamma_no_xhat") else dout * x_hat)
    if m("swap"):
        dbeta, dgamma = dgamma, dbeta
    scale = (gamma * inv_std).reshape(shape)
    if training != bool(m("swap_modes")) and not m("constants"):
        sign = -1 if m("sign") else 1
        dx = scale / M * (M * dout - dbeta.reshape(shape) - sign * x_hat * dgamma.reshape(shape))
    else:
        dx = dout * scale
    if m("in_place"):
        dout *= 0
    return dx, dgamma, dbeta


def _bknob(**mistake):
    return lambda dout, cache: _bn_backward(dout, cache, **mistake)


def _staged_backward(dout, cache):
    """The computational graph, node by node (CS231n's first version), for (N, D)."""
    x_hat, gamma, inv_std, training = batchnorm_cache("batchnorm_backward", dout, cache, 2)
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if not training:
        return dx_hat * inv_std, dgamma, dbeta
    N = x_hat.shape[0]
    xc = x_hat / inv_std  # x - mean
    dinv_std = (dx_hat * xc).sum(axis=0)
    dvar = dinv_std * -0.5 * inv_std ** 3  # d(var + eps)^(-1/2) / dvar
    dxc = dx_hat * inv_std + dvar * 2 * xc / N
    dmean = -dxc.sum(axis=0)
    return dxc + dmean / N, dgamma, dbeta


def _spatial_staged_backward(dout, cache):
    x_hat, gamma, inv_std, training = batchnorm_cache("spatial_batchnorm_backward", dout, cache, 4)
    N, C, H, W = x_hat.shape
    rows = lambda a: np.moveaxis(a, 1, -1).reshape(-1, C)  # noqa: E731
    dx, dg, db = _staged_backward(rows(dout), (rows(x_hat), gamma, inv_std, training))
    return np.moveaxis(dx.reshape(N, H, W, C), -1, 1), dg, db


def _spatial_backward_reshape_without_transpose(dout, cache):
    x_hat, gamma, inv_std, training = cache
    C = x_hat.shape[1]
    dx, dg, db = ref.batchnorm_backward(dout.reshape(-1, C), (x_hat.reshape(-1, C), gamma, inv_std, training))
    return dx.reshape(x_hat.shape), dg, db


BACKWARD_MISTAKES = {
    "mean and variance treated as constants": _bknob(constants=True),
    "train and eval formulas swapped": _bknob(swap_modes=True),
    "dgamma and dbeta swapped": _bknob(swap=True),
    "dgamma without x_hat": _bknob(dgamma_no_xhat=True),
    "means instead of sums": _bknob(means=True),
    "M - 1 instead of M": _bknob(count_minus_one=True),
    "sign of the x_hat term flipped": _bknob(sign=True),
    "float32 upcast to float64": _bknob(upcast=True),
    "modifies dout in place": _bknob(in_place=True),
}

WRONG = {
    "batchnorm_forward": dict(FORWARD_MISTAKES, **{
        "statistics per sample (axis=1)": _knob(norm_axes=(1,)),
    }),
    "spatial_batchnorm_forward": dict(FORWARD_MISTAKES, **{
        "reshape(-1, C) without moving channels last": _spatial_reshape_without_transpose,
        "statistics over N only": _knob(norm_axes=(0,)),
        "statistics per sample and channel (instance norm)": _knob(norm_axes=(2, 3)),
        "unbiased correction with N instead of N*H*W": _knob(count_n=True),
        "cache x_hat in (N, H, W, C) layout": _spatial_cache_channels_last,
    }),
    "batchnorm_backward": BACKWARD_MISTAKES,
    "spatial_batchnorm_backward": dict(BACKWARD_MISTAKES, **{
        "N instead of N*H*W": _bknob(count_n=True),
        "reshape(-1, C) without moving channels last": _spatial_backward_reshape_without_transpose,
    }),
}

RIGHT = {
    "batchnorm_forward": {"np.mean and np.var, keepdims": _bn},
    "spatial_batchnorm_forward": {"statistics over axis=(0, 2, 3) on NCHW": _bn},
    "batchnorm_backward": {"staged computational graph": _staged_backward,
                           "compact formula with keepdims sums": _bn_backward},
    "spatial_batchnorm_backward": {"sums over axis=(0, 2, 3) on NCHW": _bn_backward,
                                   "staged graph on channels-last rows": _spatial_staged_backward},
}
