"""Checks for the ReLU exercises (chapter 04)."""
from __future__ import annotations

import numpy as np

from .core import REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_tuple

# Any shape works: 1-D, 2-D, batch 1, (N, C, H, W) with odd and non-square sizes.
SHAPES = [(7,), (1, 1, 1, 1), (3, 4), (1, 3, 5, 5), (2, 4, 7, 6), (4, 2, 3, 9)]


def hand_x():
    """A fresh copy of the hand-case input: negative, zero and positive entries."""
    return np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])


def random_x(shape, seed: int, dtype=np.float64, zeros: bool = True):
    """Standard-normal entries, some exactly 0 when ``zeros`` (where the two gradient conventions differ)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if zeros:
        x[rng.random(shape) < 0.15] = 0.0
    return x.astype(dtype)


def channels_last_view(a):
    """The same values as ``a`` (N, C, H, W), as an NCHW view of channels-last memory (what conv returns)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def expect_layout(out, x, what: str) -> None:
    """Fail when ``x`` is channels-last memory seen as NCHW (what conv2d_forward returns) and ``out`` is not:
    the module promises to keep the layout, so that the layers below run on contiguous memory."""
    if channels_last(x) and not channels_last(np.asarray(out)):
        raise GradingError(f"{what} does not keep the channels-last memory layout of its input (an NCHW view of "
                           "NHWC memory, as conv2d_forward returns)",
                           "x.copy() and np.zeros(x.shape) make C-ordered arrays: np.maximum(x, 0), "
                           "x.copy(order='K') and np.zeros_like(x) keep the layout.")


def channels_last(a) -> bool:
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


def forward_hints(x):
    return [(np.where(x > 0, x, 0.01 * x), "ReLU is 0 for negative inputs; 0.01*x there is leaky ReLU."),
            (np.abs(x), "ReLU sets negative inputs to 0; it does not flip their sign (that is abs)."),
            (np.minimum(x, 0), "keep the positive part: max(x, 0), not min(x, 0)."),
            (np.maximum(x, 0).astype(np.float64), "keep x's dtype: np.maximum(x, 0) does, "
                                                     "a float64 array of zeros does not.")]


def backward_hints(x, dout):
    return [((x >= 0) * dout, "at x == 0 the gradient is 0, as in PyTorch: pass dout where the input was > 0, "
                              "not >= 0."),
            (dout, "dx equals dout everywhere: pass dout only where the input was positive. With the cache "
                   "(out,), note that out >= 0 is true everywhere; use out > 0."),
            ((x > 0).astype(dout.dtype), "multiply the mask by dout: dx = dout where x > 0, else 0."),
            ((x <= 0) * dout, "the mask is inverted: the gradient flows where the input was positive."),
            (np.maximum(x, 0) * dout, "ReLU's derivative is 1 (not x) where x > 0: dx = dout there.")]


# ---------------------------------------------------------------------------- 4.1 relu_forward

@check("relu_forward", "hand-computed case")
def _(impl):
    x = hand_x()
    out, _ = expect_tuple(impl.relu_forward(x), 2, "relu_forward")
    compare(out, np.array([[0.0, 0.0, 0.0, 0.5, 3.0]]), "relu_forward", "x = [[-2, -0.5, 0, 0.5, 3]]",
            hints=forward_hints(hand_x()))


@check("relu_forward", "matches the reference on random inputs of any shape")
def _(impl):
    for i, shape in enumerate(SHAPES):
        x = random_x(shape, seed=i)
        expected, hints = REF.relu_forward(x)[0], forward_hints(x)  # before the call, which might modify x
        out, _ = expect_tuple(impl.relu_forward(x), 2, "relu_forward")
        compare(out, expected, "relu_forward", describe_inputs(x=x), hints=hints)


@check("relu_forward", "keeps dtype float32 and the memory layout, and leaves inputs unmodified")
def _(impl):
    for x in (random_x((2, 3, 4, 5), seed=10, dtype=np.float32),
              channels_last_view(random_x((2, 3, 4, 5), seed=11, dtype=np.float32))):
        frozen = Frozen(x=x)
        out, _ = expect_tuple(impl.relu_forward(x), 2, "relu_forward")
        frozen.verify("relu_forward")
        compare(out, REF.relu_forward(x.copy())[0], "relu_forward", "float32 x " + describe_inputs(x=x),
                hints=forward_hints(x))
        expect_layout(out, x, "relu_forward")


@check("relu_forward", "its cache works with the reference relu_backward")
def _(impl):
    for i, shape in enumerate(SHAPES[2:]):
        x = random_x(shape, seed=20 + i)  # with exact zeros, where the gradient must be 0
        out, cache = expect_tuple(impl.relu_forward(x), 2, "relu_forward")
        if not isinstance(cache, tuple) or len(cache) != 1:
            raise GradingError("relu_forward's cache must be the 1-tuple (out,)",
                               "see the docstring: relu_backward unpacks (out,) = cache.")
        dout = np.random.default_rng(i).standard_normal(x.shape)
        compare(REF.relu_backward(dout, cache), REF.relu_backward(dout, REF.relu_forward(x)[1]),
                "reference relu_backward on your cache", describe_inputs(x=x),
                hints=[((x >= 0) * dout, "your cache makes the gradient pass where x == 0: cache the output "
                                         "(out > 0 exactly where x > 0), not a mask of x >= 0.")])


# ---------------------------------------------------------------------------- 4.2 relu_backward

@check("relu_backward", "hand-computed case")
def _(impl):
    _, cache = REF.relu_forward(hand_x())
    dout = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    compare(impl.relu_backward(dout, cache), np.array([[0.0, 0.0, 0.0, 4.0, 5.0]]), "relu_backward",
            "x = [[-2, -0.5, 0, 0.5, 3]], dout = [[1, 2, 3, 4, 5]]",
            hints=backward_hints(hand_x(), np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])))


@check("relu_backward", "matches the reference on random inputs of any shape")
def _(impl):
    for i, shape in enumerate(SHAPES):
        x = random_x(shape, seed=30 + i)
        _, cache = REF.relu_forward(x)
        dout = np.random.default_rng(i).standard_normal(shape)
        expected, hints = REF.relu_backward(dout, cache), backward_hints(x, dout)
        compare(impl.relu_backward(dout, cache), expected, "relu_backward", describe_inputs(x=x), hints=hints)


@check("relu_backward", "agrees with the numerical gradient (float64)")
def _(impl):
    x = random_x((2, 3, 4, 5), seed=40, zeros=False)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink at 0, where the derivative is undefined
    _, cache = REF.relu_forward(x)
    dout = np.random.default_rng(4).standard_normal(x.shape)
    compare_gradient(impl.relu_backward(dout.copy(), cache), lambda v: REF.relu_forward(v)[0], x, dout, "dx",
                     describe_inputs(x=x))


@check("relu_backward", "keeps dtype float32 and the memory layout, and leaves inputs unmodified")
def _(impl):
    for layout in (lambda a: a, channels_last_view):
        x = layout(random_x((2, 3, 4, 5), seed=50, dtype=np.float32))
        _, cache = REF.relu_forward(x)
        dout = layout(np.random.default_rng(5).standard_normal(x.shape).astype(np.float32))
        frozen = Frozen(dout=dout, out=cache[0])
        got = impl.relu_backward(dout, cache)
        frozen.verify("relu_backward")
        compare(got, REF.relu_backward(dout.copy(), (cache[0].copy(),)), "relu_backward",
                "float32 " + describe_inputs(x=x), hints=backward_hints(x, dout))
        expect_layout(got, dout, "relu_backward")
