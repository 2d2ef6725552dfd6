"""Plausible wrong implementations of the numerical gradient (chapter 03), and correct alternatives."""
import numpy as np


def _loop(f, x, dout, h, step):
    """Visit every entry of x in place; ``step(f, x, idx, old, dout, h)`` returns its gradient."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        grad[idx] = step(f, x, idx, old, dout, h)
        x[idx] = old
    return grad


def _forward_difference(f, x, dout, h=1e-5):
    def step(f, x, idx, old, dout, h):
        here = np.sum(f(x) * dout)
        x[idx] = old + h
        return (np.sum(f(x) * dout) - here) / h
    return _loop(f, x, dout, h, step)


def _centred(divisor=2.0, sign=1.0, use_dout=True):
    def numerical_gradient(f, x, dout, h=1e-5):
        def step(f, x, idx, old, dout, h):
            weight = dout if use_dout else 1.0
            x[idx] = old + h
            plus = np.sum(f(x) * weight)
            x[idx] = old - h
            minus = np.sum(f(x) * weight)
            return sign * (plus - minus) / (divisor * h)
        return _loop(f, x, dout, h, step)
    return numerical_gradient


def _not_restored(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.sum(f(x) * dout)
        x[idx] = old - h
        grad[idx] = (plus - np.sum(f(x) * dout)) / (2 * h)  # x[idx] is left at old - h
    return grad


def _restored_by_arithmetic(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        plus = np.sum(f(x) * dout)
        x[idx] -= 2 * h
        minus = np.sum(f(x) * dout)
        x[idx] += h  # old + h - 2h + h: not always exactly old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def _flat_copy(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # a copy when x is not contiguous
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = np.sum(f(x) * dout)
        flat[i] = old - h
        minus = np.sum(f(x) * dout)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def _perturbs_a_copy(f, x, dout, h=1e-5):
    xc = x.copy()  # "not modifying x" by working on a copy; f may read x itself
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = xc[idx]
        xc[idx] = old + h
        plus = np.sum(f(xc) * dout)
        xc[idx] = old - h
        minus = np.sum(f(xc) * dout)
        xc[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def _keeps_views(f, x, dout, h=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x)  # not copied: a view of x changes with x
        x[idx] = old - h
        minus = f(x)
        x[idx] = old
        grad[idx] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def _fixed_step(f, x, dout, h=1e-5):
    return _centred()(f, x, dout, 1e-5)


WRONG = {
    "numerical_gradient": {
        "forward difference only": _forward_difference,
        "divides by h instead of 2h": _centred(divisor=1.0),
        "wrong sign": _centred(sign=-1.0),
        "ignores dout": _centred(use_dout=False),
        "x not restored": _not_restored,
        "x restored by arithmetic (+h, -2h, +h)": _restored_by_arithmetic,
        "flattens a copy of a non-contiguous x": _flat_copy,
        "perturbs a copy of x": _perturbs_a_copy,
        "keeps f(x) views without copying": _keeps_views,
        "ignores the h argument": _fixed_step,
    },
}


def _nditer(f, x, dout, h=1e-5):
    """The CS231n way: np.nditer with a multi-index, and copies of f's output."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        pos = np.array(f(x), copy=True)
        x[idx] = old - h
        neg = np.array(f(x), copy=True)
        x[idx] = old
        grad[idx] = np.sum((pos - neg) * dout) / (2 * h)
        it.iternext()
    return grad


def _unravel(f, x, dout, h=1e-5):
    """A flat counter turned into an index of x with np.unravel_index, float64 result."""
    grad = np.zeros(x.shape)
    for i in range(x.size):
        idx = np.unravel_index(i, x.shape)
        old = x[idx].copy()
        x[idx] = old + h
        plus = float(np.vdot(np.broadcast_to(dout, np.shape(f(x))), f(x)))
        x[idx] = old - h
        minus = float(np.vdot(np.broadcast_to(dout, np.shape(f(x))), f(x)))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


RIGHT = {"numerical_gradient": {"np.nditer (CS231n style)": _nditer, "np.unravel_index and np.vdot": _unravel}}
