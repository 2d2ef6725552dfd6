"""Plausible wrong initializers (chapter 10), and correct alternatives."""
import math

import numpy as np


def _fans(shape, receptive=None):
    r = math.prod(shape[2:]) if receptive is None else receptive(shape)
    return shape[1] * r, shape[0] * r


def _fans_swapped(shape):
    fan_in, fan_out = _fans(shape)
    return fan_out, fan_in


def _fans_sum_kernel(shape):
    return _fans(shape, lambda s: sum(s[2:]) if len(s) > 2 else 1)


def _fans_no_kernel(shape):
    return shape[1], shape[0]


def _fans_last_axes(shape):  # reads the kernel from the wrong end: fine for 4-D, wrong for 3-D and 5-D
    return _fans(shape, lambda s: s[-1] * s[-2] if len(s) > 2 else 1)


def _fans_loop(shape):
    receptive = 1
    for k in shape[2:]:
        receptive *= k
    return int(shape[1] * receptive), int(shape[0] * receptive)


def _fans_numpy(shape):
    receptive = int(np.prod(shape[2:], dtype=np.int64))
    return shape[1] * receptive, shape[0] * receptive


def _kaiming(std_of, draw="normal"):
    def kaiming_normal(shape, rng, a=0.0, mode="fan_in", nonlinearity="leaky_relu", dtype=np.float32):
        std = std_of(shape, a, mode, nonlinearity)
        if draw == "uniform":
            bound = math.sqrt(3.0) * std
            return rng.uniform(-bound, bound, size=shape).astype(dtype)
        if draw == "global":
            return (np.random.standard_normal(shape) * std).astype(dtype)
        if draw == "float64":
            return rng.normal(0.0, std, size=shape)
        if draw == "float32":
            return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(dtype)
        return rng.normal(0.0, std, size=shape).astype(dtype)
    return kaiming_normal


def _gain(a, nonlinearity, square_a=True):
    if nonlinearity == "linear":
        return 1.0
    slope = a if nonlinearity == "leaky_relu" else 0.0
    return math.sqrt(2.0 / (1.0 + (slope ** 2 if square_a else slope)))


def _std(shape, a, mode, nonlinearity, fans=_fans, gain=_gain, power=0.5):
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return gain(a, nonlinearity) / fan ** power


def _xavier(bound_of, draw="uniform"):
    def xavier_uniform(shape, rng, gain=1.0, dtype=np.float32):
        fan_in, fan_out = _fans(shape)
        bound = bound_of(fan_in, fan_out, gain, shape)
        if draw == "normal":
            return rng.normal(0.0, bound / math.sqrt(3.0), size=shape).astype(dtype)
        if draw == "global":
            return np.random.uniform(-bound, bound, size=shape).astype(dtype)
        if draw == "random":
            return ((rng.random(shape) * 2.0 - 1.0) * bound).astype(dtype)
        if draw == "float32":
            return (rng.random(shape, dtype=np.float32) * np.float32(2 * bound) - np.float32(bound)).astype(dtype)
        return rng.uniform(-bound, bound, size=shape).astype(dtype)
    return xavier_uniform


def _glorot(fan_in, fan_out, gain, shape):
    return gain * math.sqrt(6.0 / (fan_in + fan_out))


WRONG = {
    "fan_in_and_fan_out": {
        "fan_in and fan_out swapped": _fans_swapped,
        "kernel size as kH + kW": _fans_sum_kernel,
        "the kernel's positions left out": _fans_no_kernel,
        "the kernel read from the last two axes": _fans_last_axes,
    },
    "kaiming_normal": {
        "no gain (LeCun's 1 / sqrt(fan_in))": _kaiming(lambda s, a, m, n: _std(s, a, m, n, gain=lambda a, n: 1.0)),
        "the variance used as the standard deviation": _kaiming(lambda s, a, m, n: _std(s, a, m, n, power=1.0) *
                                                                _gain(a, n)),
        "mode ignored (always fan_in)": _kaiming(lambda s, a, m, n: _std(s, a, "fan_in", n)),
        "fan_in and fan_out swapped": _kaiming(lambda s, a, m, n: _std(s, a, m, n, fans=_fans_swapped)),
        "the kernel's positions left out": _kaiming(lambda s, a, m, n: _std(s, a, m, n, fans=_fans_no_kernel)),
        "leaky slope a ignored": _kaiming(lambda s, a, m, n: _std(s, 0.0, m, n)),
        "leaky slope a not squared": _kaiming(lambda s, a, m, n: _std(
            s, a, m, n, gain=lambda a, n: _gain(a, n, square_a=False))),
        "a applied to plain relu too": _kaiming(lambda s, a, m, n: _std(
            s, a, m, "leaky_relu" if n == "relu" else n)),
        "gain sqrt(2) for 'linear' too": _kaiming(lambda s, a, m, n: _std(s, a, m, "relu" if n == "linear" else n)),
        "uniform with the right standard deviation": _kaiming(_std, draw="uniform"),
        "drawn from np.random, not from rng": _kaiming(_std, draw="global"),
        "float64 returned whatever dtype asks": _kaiming(_std, draw="float64"),
    },
    "xavier_uniform": {
        "bound sqrt(3 / (fan_in + fan_out))": _xavier(lambda fi, fo, g, s: g * math.sqrt(3.0 / (fi + fo))),
        "fan_in alone (LeCun uniform)": _xavier(lambda fi, fo, g, s: g * math.sqrt(3.0 / fi)),
        "gain ignored": _xavier(lambda fi, fo, g, s: math.sqrt(6.0 / (fi + fo))),
        "gain squared": _xavier(lambda fi, fo, g, s: g * g * math.sqrt(6.0 / (fi + fo))),
        "the kernel's positions left out": _xavier(lambda fi, fo, g, s: g * math.sqrt(6.0 / (s[0] + s[1]))),
        "normal with the right standard deviation": _xavier(_glorot, draw="normal"),
        "drawn from np.random, not from rng": _xavier(_glorot, draw="global"),
    },
}

RIGHT = {
    "fan_in_and_fan_out": {"a loop over the kernel axes": _fans_loop, "np.prod": _fans_numpy},
    "kaiming_normal": {
        "rng.normal(0, std, shape)": _kaiming(_std),
        "rng.standard_normal in float32, times std": _kaiming(_std, draw="float32"),
        "std = sqrt(2 / fan) written out for relu": _kaiming(lambda s, a, m, n: math.sqrt(
            {"linear": 1.0, "relu": 2.0, "leaky_relu": 2.0 / (1 + a * a)}[n] / _std(s, 0.0, m, "linear") ** -2)),
    },
    "xavier_uniform": {
        "rng.uniform(-b, b, shape)": _xavier(_glorot),
        "(2 rng.random - 1) * b": _xavier(_glorot, draw="random"),
        "rng.random in float32": _xavier(_glorot, draw="float32"),
        "std first, bound = sqrt(3) std": _xavier(lambda fi, fo, g, s: math.sqrt(3.0) * g * math.sqrt(2.0 / (fi + fo))),
    },
}
