"""Every exercise function rejects what its docstring does not allow, with a message that names the
function, the argument, the rule and what it received. The checks live in cnnlib/core, and stub and
reference both call them: these tests call the reference (``solutions``)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib.exercises import reference

f32, f64 = np.float32, np.float64
rng = np.random.default_rng(0)


def x4(dtype=f32, shape=(2, 3, 6, 6)):
    return rng.standard_normal(shape).astype(dtype)


def conv_cache(dtype=f32):
    return reference("conv2d_forward")(x4(dtype), x4(dtype, (4, 3, 3, 3)), np.zeros(4, dtype), 1, 1)


def pool_cache():
    return reference("maxpool2d_forward")(x4(), 2)


def bad_argmax(change):
    out, (x, k, s, p, argmax) = pool_cache()
    return np.ones_like(out), (x, k, s, p, change(argmax))


CASES = {
    "int x": ("conv2d_forward", lambda: (np.ones((1, 1, 4, 4), np.int64), np.ones((1, 1, 3, 3)), None),
              TypeError, "conv2d_forward: x must have a floating dtype (float32 or float64). Received: x.dtype=int64"),
    "float64 weight, float32 x": ("conv2d_forward", lambda: (x4(), x4(f64, (4, 3, 3, 3)), None), TypeError,
                                  "conv2d_forward: weight must have the dtype of x"),
    "float64 bias, float32 x (naive)": ("conv2d_naive", lambda: (x4(), x4(f32, (4, 3, 3, 3)), np.zeros(4)),
                                        TypeError, "conv2d_naive: bias must have the dtype of x"),
    "empty batch": ("conv2d_forward", lambda: (x4(f32, (0, 3, 6, 6)), x4(f32, (4, 3, 3, 3)), None), ValueError,
                    "x must hold at least one sample (x.shape[0] >= 1). Received: x.shape=(0, 3, 6, 6)"),
    "int x (im2col)": ("im2col", lambda: (np.ones((1, 1, 4, 4), np.int64), 3), TypeError,
                       "im2col: x must have a floating dtype"),
    "cols as a list": ("col2im", lambda: ([[1.0]], (1, 1, 1, 1), 1), TypeError,
                       "col2im: cols must be a NumPy array. Received: cols of type list"),
    "x_shape not 4 ints": ("col2im", lambda: (np.ones((1, 1, 1, 1)), (1, 1, 1), 1), TypeError,
                           "col2im: x_shape must be 4 positive ints"),
    "float64 dout, float32 cache": ("conv2d_backward", lambda: (np.ones(conv_cache()[0].shape), conv_cache()[1]),
                                    TypeError, "dout must have the dtype of the forward's output (float32)"),
    "dout as a list": ("conv2d_backward", lambda: (conv_cache()[0].tolist(), conv_cache()[1]), TypeError,
                       "conv2d_backward: dout must be a NumPy array. Received: dout of type list"),
    "argmax + 10": ("maxpool2d_backward", lambda: bad_argmax(lambda a: a + 10), ValueError,
                    "argmax) must index a window's kH*kW = 4 positions (0 .. 3)"),
    "argmax -1": ("maxpool2d_backward", lambda: bad_argmax(lambda a: a * 0 - 1), ValueError,
                  "argmax) must index a window's kH*kW = 4 positions"),
    "float argmax": ("maxpool2d_backward", lambda: bad_argmax(lambda a: a.astype(f32)), TypeError,
                     "argmax) must be integer indices of shape (2, 3, 3, 3)"),
    "float64 weight (linear)": ("linear_forward", lambda: (x4(f32, (2, 3)), x4(f64, (4, 3)), None), TypeError,
                                "linear_forward: weight must have the dtype of x"),
    "linear_backward with dropout's cache": (
        "linear_backward", lambda: (np.ones((2, 4), f32), (np.ones((2, 4), f32), 0.5, True)), TypeError,
        "linear_backward: cache must be linear_forward's (x, weight, bias), with 2-D x and weight"),
    "dropout_backward with linear's cache": (
        "dropout_backward", lambda: (np.ones((2, 4), f32), reference("linear_forward")(
            x4(f32, (2, 3)), x4(f32, (4, 3)), None)[1]), TypeError,
        "dropout_backward: cache must be dropout_forward's (mask, p, training)"),
    "float64 gamma, float32 x": (
        "batchnorm_forward", lambda: (x4(f32, (4, 3)), np.ones(3), np.zeros(3, f32), np.zeros(3, f32),
                                      np.ones(3, f32), True), TypeError,
        "batchnorm_forward: gamma must have the dtype of x"),
    "float32 dout into relu of float64": ("relu_backward", lambda: (np.ones(3, f32), (np.ones(3),)), TypeError,
                                          "relu_backward: dout must have the dtype of the forward's output"),
    "dtype='banana'": ("one_hot", lambda: (np.array([0, 1]), 2, "banana"), TypeError,
                       "one_hot: dtype must be a NumPy dtype such as np.float32 or 'float64'. "
                       "Received: dtype='banana'"),
    "numerical_gradient with a dout of the wrong shape": (
        "numerical_gradient", lambda: (lambda v: v ** 2, np.ones(3), np.ones(4)), ValueError,
        "numerical_gradient: dout must be a number or an array of f(x)'s shape. Received: dout.shape=(4,), "
        "f(x).shape=(3,)"),
    "lr=inf": ("sgd_step", lambda: (np.ones(3), np.ones(3), None, float("inf")), ValueError,
               "sgd_step: lr must be a finite number >= 0. Received: lr=inf"),
    "2-D weight (1x1 convolution)": ("pointwise_conv2d_forward", lambda: (x4(), x4(f32, (4, 3))), ValueError,
                                     "pointwise_conv2d_forward: weight must have shape (C_out, C_in, 1, 1)"),
    "3x3 weight (1x1 convolution)": ("pointwise_conv2d_forward", lambda: (x4(), x4(f32, (4, 3, 3, 3))), ValueError,
                                     "Received: weight.shape=(4, 3, 3, 3)"),
    "stride 0 (1x1 convolution)": ("pointwise_conv2d_forward", lambda: (x4(), x4(f32, (4, 3, 1, 1)), None, 0),
                                   ValueError, "pointwise_conv2d_forward: stride must be >= 1. Received: stride=0"),
    "pointwise_conv2d_backward with depthwise's cache": (
        "pointwise_conv2d_backward", lambda: (np.ones((2, 3, 6, 6), f32), reference("depthwise_conv2d_forward")(
            x4(), x4(f32, (3, 1, 3, 3)), None, 1, 1)[1]), TypeError,
        "pointwise_conv2d_backward: cache must be the 4-tuple returned by pointwise_conv2d_forward"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_a_message(case):
    name, args, exc, words = CASES[case]
    with pytest.raises(exc) as info:
        reference(name)(*args())
    assert words in str(info.value), str(info.value)


if __name__ == "__main__":  # the probe table: python tests/maintainer/test_contracts.py
    print(f"{'case':<50} {'function':<20} outcome")
    for case, (name, args, exc, words) in CASES.items():
        try:
            reference(name)(*args())
            outcome = "accepted silently"
        except (ValueError, TypeError) as e:
            outcome = "clear error" if str(e).startswith(name + ":") and "Received:" in str(e) else f"unclear: {e}"
        except Exception as e:
            outcome = f"unclear: {type(e).__name__}: {e}"
        print(f"{case:<50} {name:<20} {outcome}")
