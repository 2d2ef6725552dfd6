"""Plausible wrong implementations of the dropout exercises, and correct alternatives."""
import numpy as np

from cnnlib.core.contracts import dropout_args, dropout_cache


def _dropout(x, p, training, rng, *, spatial=False, mask_shape=None, **mistake):
    """Dropout with knobs that reproduce common mistakes."""
    name = "spatial_dropout_forward" if spatial else "dropout_forward"
    p = dropout_args(name, x, p, training, rng, ndim=4 if spatial else None)
    m = mistake.get
    if m("fixed_rng"):
        rng = np.random.default_rng(0)
    if not (training or m("eval_drops")) or p == 0:
        out = x * (1 - p) if m("scale_at_test") else x if m("identity_is_x") else x.copy()
        return out, (None, p, training)
    if mask_shape is None:
        mask_shape = x.shape[:2] + (1, 1) if spatial else x.shape
    u = np.random.random(mask_shape) if m("global_rng") else rng.random(mask_shape)
    keep = u < p if m("p_is_keep") else u >= p
    scale = 1.0 if m("no_scale") or m("scale_at_test") else (1 - p) if m("times_keep") else \
        1 / p if m("over_p") else 1 / (1 - p)
    mask = keep.astype(np.float64 if m("upcast") else x.dtype) * scale
    if m("in_place"):
        x *= mask
        out = x
    else:
        out = x * mask
    if m("upcast"):
        out = out.astype(np.float64)
    return out, (keep.astype(x.dtype) if m("bool_cache") else mask, p, training)


def _knob(**mistake):
    return lambda x, p, training, rng: _dropout(x, p, training, rng, **mistake)


def _spatial(**mistake):
    return lambda x, p, training, rng: _dropout(x, p, training, rng, spatial=True, **mistake)


def _row_mask(x, p, training, rng):
    return _dropout(x, p, training, rng, mask_shape=(1,) + x.shape[1:])


def _sample_mask(x, p, training, rng):
    return _dropout(x, p, training, rng, mask_shape=(x.shape[0],) + (1,) * (x.ndim - 1))


def _backward(dout, cache, **mistake):
    mask, p, training = dropout_cache("dropout_backward", dout, cache)
    m = mistake.get
    if m("upcast"):
        dout = dout.astype(np.float64)
    if mask is None:
        return dout * 2 if m("scale_eval") else dout if m("identity_is_dout") else dout.copy()
    if m("ignore_mask"):
        return dout.copy()
    if m("rescale"):
        return dout * mask / (1 - p)
    if m("unscaled"):
        return dout * (mask != 0)
    if m("in_place"):
        dout *= mask
        return dout
    return dout * mask


def _bknob(**mistake):
    return lambda dout, cache: _backward(dout, cache, **mistake)


def _forgets_eval(dout, cache):
    return dout * cache[0]  # fails when the mask is None


def _binomial(x, p, training, rng):
    p = dropout_args("dropout_forward", x, p, training, rng)
    if not training or p == 0:
        return x.copy(), (None, p, training)
    mask = rng.binomial(1, 1 - p, size=x.shape).astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, (mask, p, training)


def _uniform_where(x, p, training, rng):
    p = dropout_args("dropout_forward", x, p, training, rng)
    if not training or p == 0:
        return x.copy(), (None, p, training)
    mask = np.where(rng.uniform(size=x.shape) < 1 - p, 1 / (1 - p), 0).astype(x.dtype)
    return x * mask, (mask, p, training)


def _spatial_repeat(x, p, training, rng):
    """A full-size mask repeated over H and W: works with dropout_backward too."""
    p = dropout_args("spatial_dropout_forward", x, p, training, rng, ndim=4)
    if not training or p == 0:
        return x.copy(), (None, p, training)
    N, C, H, W = x.shape
    coins = (rng.random((N, C)) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    mask = np.repeat(np.repeat(coins[:, :, None, None], H, axis=2), W, axis=3)  # (N, C, H, W)
    return x * mask, (mask, p, training)


def _backward_where(dout, cache):
    mask, p, training = dropout_cache("dropout_backward", dout, cache)
    if mask is None:
        return dout.copy()
    return np.where(mask != 0, dout * mask, 0).astype(dout.dtype)


FORWARD_MISTAKES = {
    "no 1 / (1 - p) scale": _knob(no_scale=True),
    "p read as the keep probability": _knob(p_is_keep=True),
    "multiplies by (1 - p)": _knob(times_keep=True),
    "divides by p": _knob(over_p=True),
    "scales at test time instead": _knob(scale_at_test=True),
    "drops in eval mode too": _knob(eval_drops=True),
    "ignores rng (a fixed seed inside)": _knob(fixed_rng=True),
    "uses the global np.random": _knob(global_rng=True),
    "float32 upcast to float64": _knob(upcast=True),
    "eval mode returns x itself, not a copy": _knob(identity_is_x=True),
    "modifies x in place": _knob(in_place=True),
    "cache holds the unscaled mask": _knob(bool_cache=True),
}

WRONG = {
    "dropout_forward": dict(FORWARD_MISTAKES, **{"one mask row for the whole batch": _row_mask,
                                                 "one coin per sample": _sample_mask}),
    "spatial_dropout_forward": {
        "drops single values (plain dropout)": _knob(),
        "one mask (1, C, 1, 1) for the whole batch": lambda x, p, t, r: _dropout(
            x, p, t, r, spatial=True, mask_shape=(1, x.shape[1], 1, 1)),
        "drops whole samples (N, 1, 1, 1)": lambda x, p, t, r: _dropout(
            x, p, t, r, spatial=True, mask_shape=(x.shape[0], 1, 1, 1)),
        "no 1 / (1 - p) scale": _spatial(no_scale=True),
        "p read as the keep probability": _spatial(p_is_keep=True),
        "drops in eval mode too": _spatial(eval_drops=True),
        "float32 upcast to float64": _spatial(upcast=True),
        "cache holds the unscaled mask": _spatial(bool_cache=True),
        "ignores rng (a fixed seed inside)": _spatial(fixed_rng=True),
    },
    "dropout_backward": {
        "ignores the mask": _bknob(ignore_mask=True),
        "divides by (1 - p) again": _bknob(rescale=True),
        "multiplies by the unscaled mask": _bknob(unscaled=True),
        "scales in eval mode": _bknob(scale_eval=True),
        "forgets eval mode (mask None)": _forgets_eval,
        "float32 upcast to float64": _bknob(upcast=True),
        "eval mode returns dout itself, not a copy": _bknob(identity_is_dout=True),
        "modifies dout in place": _bknob(in_place=True),
    },
}

RIGHT = {
    "dropout_forward": {"knobs off": _knob(), "rng.binomial": _binomial, "np.where on uniforms": _uniform_where},
    "spatial_dropout_forward": {"mask (N, C, 1, 1)": _spatial(), "full-size repeated mask": _spatial_repeat},
    "dropout_backward": {"knobs off": _bknob(), "np.where": _backward_where},
}
