"""Plausible wrong implementations of the ReLU exercises, and correct alternatives."""
import numpy as np

from solutions import activations as ref


def _modifies_input(x):
    np.maximum(x, 0, out=x)  # "saves memory" by overwriting x
    return x, (x,)


def _cache_mask_ge(x):
    return np.maximum(x, 0), (x >= 0,)  # the mask lets the gradient through at x == 0


def _backward_modifies_dout(dout, cache):
    dout[cache[0] <= 0] = 0
    return dout


def _backward_where(dout, cache):
    return np.where(cache[0] > 0, dout, 0)


def _backward_copy_and_zero(dout, cache):
    dx = dout.copy()  # C order: the channels-last layout of dout is lost
    dx[cache[0] <= 0] = 0
    return dx


def _backward_copy_k_and_zero(dout, cache):
    dx = dout.copy(order="K")
    dx[cache[0] <= 0] = 0
    return dx


def _forward_copy_and_zero(x):
    out = x.copy()
    out[out < 0] = 0
    return out, (out,)


WRONG = {
    "relu_forward": {
        "leaky slope 0.01": lambda x: (np.where(x > 0, x, 0.01 * x), (np.where(x > 0, x, 0.01 * x),)),
        "absolute value": lambda x: (np.abs(x), (np.abs(x),)),
        "min instead of max": lambda x: (np.minimum(x, 0), (np.minimum(x, 0),)),
        "float32 upcast to float64": lambda x: (np.maximum(x, 0).astype(np.float64), (np.maximum(x, 0),)),
        "copy() drops the channels-last layout": _forward_copy_and_zero,
        "modifies its input": _modifies_input,
        "returns no cache": lambda x: np.maximum(x, 0),
        "cache is a mask of x >= 0": _cache_mask_ge,
        "cache not a tuple": lambda x: (np.maximum(x, 0), np.maximum(x, 0)),
    },
    "relu_backward": {
        "mask out >= 0 (passes everything)": lambda dout, cache: dout * (cache[0] >= 0),
        "returns the mask without dout": lambda dout, cache: (cache[0] > 0).astype(dout.dtype),
        "mask from dout instead of the input": lambda dout, cache: dout * (dout > 0),
        "multiplies by the output": lambda dout, cache: dout * cache[0],
        "modifies dout in place": _backward_modifies_dout,
        "float32 upcast to float64": lambda dout, cache: (dout * (cache[0] > 0)).astype(np.float64),
        "copy() drops the channels-last layout": _backward_copy_and_zero,
        "inverted mask": lambda dout, cache: dout * (cache[0] <= 0),
    },
}

RIGHT = {
    "relu_forward": {
        "x * (x > 0), caching x": lambda x: (x * (x > 0), (x,)),
        "np.where, caching the output": lambda x: (lambda out: (out, (out,)))(np.where(x > 0, x, 0)),
        "the reference": ref.relu_forward,
    },
    "relu_backward": {
        "np.where": _backward_where,
        "copy (keeping the layout), then zero where out <= 0": _backward_copy_k_and_zero,
    },
}
