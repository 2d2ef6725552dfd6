"""Checks for the initializers (chapter 10).

The weights are random, so the checks measure them: the standard deviation
(or the largest value) against the one the derivation gives, over a few
hundred thousand draws (the sampling error of a standard deviation is then
about 0.1 %, the tolerance 1.5 %), the shape of the distribution, and that the
same seed gives the same weights.
"""
from __future__ import annotations

import math

import numpy as np

from .core import REF, GradingError, check

BIG = (64, 256, 3, 3)  # fan_in 2304, fan_out 576, receptive field 9: each common mistake scales the std differently
TOL = 0.015


def _fans(impl, shape):
    got = impl.fan_in_and_fan_out(shape)
    if not (isinstance(got, (tuple, list)) and len(got) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got)):
        raise GradingError(f"fan_in_and_fan_out{tuple(shape)} must return a tuple of two ints, received {got!r}",
                           "return (fan_in, fan_out) as integers.")
    return int(got[0]), int(got[1])


def _draw(impl, name, shape, seed=0, **kwargs):
    w = getattr(impl, name)(shape, np.random.default_rng(seed), **kwargs)
    dtype = np.dtype(kwargs.get("dtype", np.float32))
    if not isinstance(w, np.ndarray) or w.shape != tuple(shape):
        raise GradingError(f"{name}(shape={shape}, ...) must return an array of that shape, received "
                           f"{'shape ' + str(w.shape) if isinstance(w, np.ndarray) else type(w).__name__}",
                           "draw with size=shape.")
    if w.dtype != dtype:
        raise GradingError(f"{name}(shape={shape}, ...) must return an array of dtype {dtype}, received {w.dtype}",
                           "convert at the end: .astype(dtype).")
    return w


def _scale(got: float, expected: float, what: str, mistakes) -> None:
    """Fail unless ``got`` is within TOL of ``expected``; ``mistakes`` is ``[(value it would be, hint)]``."""
    if abs(got / expected - 1) <= TOL:
        return
    hint = next((h for value, h in mistakes if abs(got / value - 1) <= TOL), None)
    raise GradingError(f"{what}: expected {expected:.5g}, measured {got:.5g} (ratio {got / expected:.3f})", hint)


def _kaiming_mistakes(shape, gain, mode):
    fan_in, fan_out = REF.fan_in_and_fan_out(shape)
    fan, other = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    return [(1 / math.sqrt(fan), "the gain is missing: what fraction of E[z**2] does the nonlinearity keep?"),
            (gain / math.sqrt(other), f"mode={mode!r} divides by {mode}, not by the other fan."),
            (gain / math.sqrt(shape[1] if mode == "fan_in" else shape[0]),
             "a convolution's fan counts every kernel position: multiply by kH * kW."),
            (gain ** 2 / fan, "gain**2 / fan is the variance; the standard deviation is its square root."),
            (gain ** 2 / math.sqrt(fan), "the gain multiplies the standard deviation, not the variance: gain, "
                                         "not gain**2.")]


# ---------------------------------------------------------------------------- 10.1

@check("fan_in_and_fan_out", "hand cases: a linear weight (10, 784) and a convolution weight (32, 3, 5, 5)")
def _(impl):
    for shape, expected in [((10, 784), (784, 10)), ((32, 3, 5, 5), (75, 800))]:
        got = _fans(impl, shape)
        if got == expected:
            continue
        hint = None
        if got == expected[::-1]:
            hint = "the weight is (out, in, ...): fan_in counts the inputs, shape[1], fan_out the outputs, shape[0]."
        elif got == (shape[1], shape[0]):
            hint = "each output of a convolution sums over C_in * kH * kW inputs: include the kernel's positions."
        elif len(shape) == 4 and got == (shape[1] * (shape[2] + shape[3]), shape[0] * (shape[2] + shape[3])):
            hint = "a kH x kW kernel has kH * kW positions, not kH + kW."
        raise GradingError(f"fan_in_and_fan_out{shape}: expected {expected}, received {got}", hint)


@check("fan_in_and_fan_out", "matches the reference for 2-D to 5-D weights, non-square kernels, ones")
def _(impl):
    for shape in [(1, 1), (3, 7), (8, 4, 3, 2), (4, 2, 7), (2, 3, 2, 2, 2), (16, 1, 1, 1), (5, 5, 1, 9)]:
        got, expected = _fans(impl, shape), REF.fan_in_and_fan_out(shape)
        if got != expected:
            raise GradingError(f"fan_in_and_fan_out{shape}: expected {expected}, received {got}",
                               "the receptive field is the product of every axis after the first two.")


# ---------------------------------------------------------------------------- 10.2

@check("kaiming_normal", "shape and dtype: float32 by default, float64 when asked")
def _(impl):
    _draw(impl, "kaiming_normal", (10, 784))
    _draw(impl, "kaiming_normal", (4, 3, 5, 5), dtype=np.float64)


@check("kaiming_normal", f"ReLU, mode fan_in: std = gain / sqrt(fan_in), measured on {BIG}")
def _(impl):
    gain = math.sqrt(2.0)
    for kwargs in (dict(nonlinearity="relu"), dict()):  # the default is leaky_relu with a = 0: ReLU
        w = _draw(impl, "kaiming_normal", BIG, **kwargs)
        _scale(float(w.std()), gain / math.sqrt(2304), f"kaiming_normal({BIG}, rng, {kwargs or 'defaults'}): "
               "standard deviation", _kaiming_mistakes(BIG, gain, "fan_in"))


@check("kaiming_normal", "mode fan_out divides by fan_out")
def _(impl):
    w = _draw(impl, "kaiming_normal", BIG, mode="fan_out", nonlinearity="relu")
    _scale(float(w.std()), math.sqrt(2.0) / math.sqrt(576), f"kaiming_normal({BIG}, rng, mode='fan_out'): "
           "standard deviation", _kaiming_mistakes(BIG, math.sqrt(2.0), "fan_out"))


@check("kaiming_normal", "leaky ReLU with a = 0.5, 'linear', and 'relu' (which ignores a)")
def _(impl):
    a = 0.5
    std = 1 / math.sqrt(2304)  # times the gain
    cases = [(dict(a=a, nonlinearity="leaky_relu"), math.sqrt(2 / (1 + a * a)),
              [(math.sqrt(2.0) * std, "with leaky ReLU of slope a the negative half keeps a**2 of its E[z**2]: the "
                                "gain depends on a."),
               (math.sqrt(2 / (1 + a)) * std, "the negative half is scaled by a, so its E[z**2] by a**2.")]),
             (dict(nonlinearity="linear"), 1.0, [(math.sqrt(2.0) * std, "'linear' means no nonlinearity: "
                                                                  "nothing is lost, the gain is 1.")]),
             (dict(a=a, nonlinearity="relu"), math.sqrt(2.0), [(math.sqrt(2 / (1 + a * a)) * std, "a is the slope of "
                                                                "leaky_relu only: plain ReLU's slope is 0.")])]
    for kwargs, gain, extra in cases:
        w = _draw(impl, "kaiming_normal", BIG, **kwargs)
        _scale(float(w.std()), gain / math.sqrt(2304), f"kaiming_normal({BIG}, rng, {kwargs}): standard deviation",
               extra + _kaiming_mistakes(BIG, gain, "fan_in"))


@check("kaiming_normal", "normal with mean 0: about 4.6 % of the weights lie beyond 2 standard deviations")
def _(impl):
    w = _draw(impl, "kaiming_normal", BIG, dtype=np.float64)
    std = math.sqrt(2.0 / 2304)
    mean, beyond = float(w.mean()), float(np.mean(np.abs(w) > 2 * std))
    if abs(mean) > 6 * std / math.sqrt(w.size):
        raise GradingError(f"kaiming_normal({BIG}): the mean of the weights is {mean:.3g}, expected 0 "
                           f"(within {6 * std / math.sqrt(w.size):.1g})", "the weights are centred at 0.")
    if not 0.040 <= beyond <= 0.051:
        hint = ("these look uniform: draw from a normal distribution (rng.normal or rng.standard_normal)."
                if beyond < 0.01 else None)
        raise GradingError(f"kaiming_normal({BIG}): {beyond:.2%} of the weights lie beyond 2 standard deviations; a "
                           "normal distribution puts 4.55 % there", hint)


@check("kaiming_normal", "draws from rng only: the same seed gives the same weights, another seed others")
def _(impl):
    a, b = (impl.kaiming_normal((32, 16, 3, 3), np.random.default_rng(5)) for _ in range(2))
    c = impl.kaiming_normal((32, 16, 3, 3), np.random.default_rng(6))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        raise GradingError("kaiming_normal: two generators seeded 5 gave different weights, or seeds 5 and 6 the "
                           "same", "draw from the rng argument only (rng.normal(...)), not from np.random.")


# ---------------------------------------------------------------------------- 10.3

def _xavier_mistakes(shape, gain):
    fan_in, fan_out = REF.fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    return [(bound / math.sqrt(2), "a uniform distribution on [-b, b] has variance b**2 / 3; solve for b."),
            (gain * math.sqrt(3 / fan_in), "Glorot averages both fans: 2 / (fan_in + fan_out), not 1 / fan_in."),
            (bound / gain, "the gain is missing: multiply the bound by gain."),
            (bound * gain, "the gain multiplies the standard deviation once, not twice."),
            (math.sqrt(6 / (shape[0] + shape[1])) * gain, "a convolution's fans count every kernel position: "
                                                          "multiply by kH * kW.")]


@check("xavier_uniform", "shape and dtype: float32 by default, float64 when asked")
def _(impl):
    _draw(impl, "xavier_uniform", (10, 784))
    _draw(impl, "xavier_uniform", (4, 3, 5, 5), dtype=np.float64)


@check("xavier_uniform", "the weights fill [-bound, bound], bound = gain * sqrt(6 / (fan_in + fan_out))")
def _(impl):
    for shape, gain in [((300, 200), 1.0), (BIG, 1.0), ((500, 600), 5 / 3)]:
        w = _draw(impl, "xavier_uniform", shape, gain=gain, dtype=np.float64)
        fan_in, fan_out = REF.fan_in_and_fan_out(shape)
        bound = gain * math.sqrt(6 / (fan_in + fan_out))
        what = f"xavier_uniform({shape}, rng, gain={gain:.4g}): the largest |weight|"
        largest = float(np.abs(w).max())
        mistakes = _xavier_mistakes(shape, gain)
        if not 0.45 <= float(np.mean(np.abs(w) < largest / 2)) <= 0.55:  # a normal's extremes are rare
            mistakes = [(largest, "these are not uniform: draw from rng.uniform(low, high, size).")]
        _scale(largest, bound, what, mistakes)


@check("xavier_uniform", "uniform: half of the weights lie within bound / 2, and the mean is 0")
def _(impl):
    shape = (300, 200)
    w = _draw(impl, "xavier_uniform", shape, dtype=np.float64)
    bound = math.sqrt(6 / 500)
    inner, mean = float(np.mean(np.abs(w) < bound / 2)), float(w.mean())
    if not 0.49 <= inner <= 0.51:
        raise GradingError(f"xavier_uniform({shape}): {inner:.1%} of the weights lie within bound / 2; a uniform "
                           "distribution puts 50 % there", "draw from a uniform distribution, rng.uniform.")
    if abs(mean) > 0.01 * bound:
        raise GradingError(f"xavier_uniform({shape}): the mean of the weights is {mean:.3g}, expected 0",
                           "the interval is [-bound, bound], centred at 0.")


@check("xavier_uniform", "draws from rng only: the same seed gives the same weights, another seed others")
def _(impl):
    a, b = (impl.xavier_uniform((20, 30), np.random.default_rng(5)) for _ in range(2))
    c = impl.xavier_uniform((20, 30), np.random.default_rng(6))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        raise GradingError("xavier_uniform: two generators seeded 5 gave different weights, or seeds 5 and 6 the "
                           "same", "draw from the rng argument only (rng.uniform(...)), not from np.random.")
