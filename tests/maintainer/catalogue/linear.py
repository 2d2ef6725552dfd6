"""Plausible wrong implementations of the linear-layer exercises (chapter 05), and correct alternatives."""
import numpy as np

from cnnlib.core.contracts import linear_shapes
from cnnlib.core.validation import check_cache
from solutions import linear as ref


def _forward(out_fn, cache_fn=lambda x, w, b: (x, w, b)):
    def forward(x, weight, bias):
        return out_fn(x, weight, bias), cache_fn(x, weight, bias)
    return forward


def _backward(dx_fn=None, dw_fn=None, db_fn=None):
    def backward(dout, cache):
        x, w, b = cache
        dx, dw, db = ref.linear_backward(dout, cache)
        return (dx if dx_fn is None else dx_fn(dout, x, w),
                dw if dw_fn is None else dw_fn(dout, x, w),
                db if db_fn is None or b is None else db_fn(dout))
    return backward


def _forward_in_place(x, weight, bias):
    out, cache = ref.linear_forward(x, weight, bias)
    if bias is not None:
        bias += 1.0  # "reuses" the bias buffer
    return out, cache


def _backward_in_place(dout, cache):
    dx, dw, db = ref.linear_backward(dout, cache)
    dout[...] = 0  # reuses dout as scratch space
    return dx, dw, db


WRONG = {
    "linear_forward": {
        "weight not transposed": _forward(lambda x, w, b: x @ w + (0 if b is None else b)),
        "bias dropped": _forward(lambda x, w, b: x @ w.T),
        "bias along the rows": _forward(lambda x, w, b: x @ w.T + (0 if b is None else b[:, None])),
        "crashes without a bias": _forward(lambda x, w, b: x @ w.T + b),
        "returns no cache": lambda x, w, b: ref.linear_forward(x, w, b)[0],
        "cache in another order": _forward(lambda x, w, b: ref.linear_forward(x, w, b)[0],
                                           lambda x, w, b: (w, x, b)),
        "upcasts to float64": _forward(lambda x, w, b: ref.linear_forward(x.astype(np.float64), w, b)[0]),
        "modifies the bias": _forward_in_place,
        "no input checks": _forward(lambda x, w, b: np.dot(x.reshape(len(x), -1), w.T) + (0 if b is None else b)),
    },
    "linear_backward": {
        "dweight transposed": _backward(dw_fn=lambda dout, x, w: x.T @ dout),
        "dbias over the wrong axis": _backward(db_fn=lambda dout: dout.sum(axis=1)),
        "dbias averaged": _backward(db_fn=lambda dout: dout.mean(axis=0)),
        "dweight divided by N": _backward(dw_fn=lambda dout, x, w: dout.T @ x / len(x)),
        "dx with weight transposed": _backward(dx_fn=lambda dout, x, w: dout @ w.T if w.shape[0] == w.shape[1]
                                               else (dout @ w) * 1.5),
        "zeros instead of dbias=None": lambda dout, cache: ref.linear_backward(dout, cache)[:2] + (
            np.zeros(cache[1].shape[0]) if cache[2] is None else ref.linear_backward(dout, cache)[2],),
        "upcasts to float64": _backward(dx_fn=lambda dout, x, w: dout.astype(np.float64) @ w),
        "modifies dout": _backward_in_place,
    },
}


def _forward_einsum(x, weight, bias):
    linear_shapes("linear_forward", x, weight, bias)
    out = np.einsum("ni,oi->no", x, weight)
    return (out if bias is None else out + bias), (x, weight, bias)


def _backward_einsum(dout, cache):
    x, weight, bias = check_cache("linear_backward", cache, 3, "linear_forward")
    if dout.shape != (x.shape[0], weight.shape[0]):
        raise ValueError(f"linear_backward: dout has the wrong shape. Received: dout.shape={dout.shape}")
    return (np.einsum("no,oi->ni", dout, weight), np.einsum("no,ni->oi", dout, x),
            None if bias is None else dout.sum(axis=0))


RIGHT = {
    "linear_forward": {"einsum": _forward_einsum},
    "linear_backward": {"einsum and sum": _backward_einsum},
}
