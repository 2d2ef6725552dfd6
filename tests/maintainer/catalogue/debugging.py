"""Plausible wrong whole-network gradient checks (chapter 10), and correct alternatives."""
import numpy as np

from cnnlib.core.numeric import rel_error
from solutions.gradcheck import numerical_gradient


def _check(numerical, compare=rel_error):
    def network_gradient_errors(loss, params, grads, h=1e-5):
        return {name: compare(grads[name], numerical(loss, p, h)) for name, p in params.items()}
    return network_gradient_errors


def _reference(loss, p, h):
    return numerical_gradient(lambda _: loss(), p, 1.0, h)


def _on_copy(loss, p, h):
    return numerical_gradient(lambda _: loss(), p.copy(), 1.0, h)


def _fixed_h(loss, p, h):
    return numerical_gradient(lambda _: loss(), p, 1.0)


def _one_sided(loss, p, h):
    grad = np.zeros_like(p)
    base = loss()
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + h
        grad[idx] = (loss() - base) / h
        p[idx] = old
    return grad


def _own_centred(loss, p, h):
    grad = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + h
        plus = loss()
        p[idx] = old - h
        grad[idx] = (plus - loss()) / (2 * h)
        p[idx] = old
    return grad


def _mean_abs(a, b):
    return float(np.mean(np.abs(a - b)))


def _first_only(loss, params, grads, h=1e-5):
    first = next(iter(params))
    return {first: rel_error(grads[first], _reference(loss, params[first], h))}


def _sorted_keys(loss, params, grads, h=1e-5):
    return {name: rel_error(grads[name], _reference(loss, params[name], h)) for name in sorted(params)}


WRONG = {
    "network_gradient_errors": {
        "the numerical gradient of a copy of the parameter": _check(_on_copy),
        "h ignored": _check(_fixed_h),
        "one-sided differences": _check(_one_sided),
        "the mean absolute difference instead of rel_error": _check(_reference, _mean_abs),
        "grads compared with themselves": _check(lambda loss, p, h: None, lambda g, _: rel_error(g, g)),
        "only the first parameter checked": _first_only,
        "the keys in sorted order": _sorted_keys,
    },
}

RIGHT = {
    "network_gradient_errors": {
        "numerical_gradient with dout 1.0": _check(_reference),
        "own centred differences": _check(_own_centred),
        "rel_error written out": _check(_reference, lambda a, b: float(np.abs(a - b).max() /
                                                                     max(np.max(np.abs(a) + np.abs(b)), 1e-12))),
    },
}
