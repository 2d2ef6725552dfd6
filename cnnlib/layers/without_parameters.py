"""Layers without parameters: pooling, dropout, ``Flatten`` and the activations (chapters 04 and 07)."""
from __future__ import annotations

import math

import numpy as np

from .. import nonlinearities as F_act
from .. import ops as F
from ..core.geometry import pool_arguments, window_output
from ..core.validation import require
from .base import Layer, as_rng

class _Pool(Layer):
    _always = ("kernel_size",)

    def __init__(self, kernel_size, stride=None, padding: int = 0):
        super().__init__()
        # Normalised once, as the pooling functions do: ints or pairs, stride None = kernel_size.
        self._geometry = pool_arguments(type(self).__name__, kernel_size, stride, padding)
        self._remember(kernel_size=kernel_size, stride=stride, padding=padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def output_shape(self, input_shape):
        N, C, H, W = self._check(tuple(input_shape), 4, "(N, C, H, W)")
        return (N, C, *window_output(repr(self), (N, C, H, W), *self._geometry))


class MaxPool2d(_Pool):
    """Max pooling (chapter 04), calling ``pooling.maxpool2d_forward`` / ``maxpool2d_backward``.

    ``stride`` defaults to ``kernel_size``. Shape: (N, C, H, W) -> (N, C, H_out, W_out).
    """

    def forward(self, x):
        self._check(x, 4, "(N, C, H, W)")
        out, self._cache = F.maxpool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout):
        return F.maxpool2d_backward(dout, self._cached())


class AvgPool2d(_Pool):
    """Average pooling (chapter 04), calling ``pooling.avgpool2d_forward`` / ``avgpool2d_backward``."""

    def forward(self, x):
        self._check(x, 4, "(N, C, H, W)")
        out, self._cache = F.avgpool2d_forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout):
        return F.avgpool2d_backward(dout, self._cached())


class GlobalAvgPool2d(Layer):
    """Global average pooling (chapter 11), calling ``blocks.global_avgpool_forward`` / ``global_avgpool_backward``.

    Shape: (N, C, H, W) -> (N, C), the mean of each channel: the head of a ResNet, in place of
    flatten (which needs a fixed H and W) and a large linear layer.
    """

    def output_shape(self, input_shape):
        N, C, H, W = self._check(tuple(input_shape), 4, "(N, C, H, W)")
        return N, C

    def forward(self, x):
        self._check(x, 4, "(N, C, H, W)")
        out, self._cache = F.global_avgpool_forward(x)
        return out

    def backward(self, dout):
        return F.global_avgpool_backward(dout, self._cached())


class _Dropout(Layer):
    _always = ("p",)

    def __init__(self, p: float = 0.5, *, rng=None):
        super().__init__()
        name = type(self).__name__
        require(isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p < 1, name,
                "p (the probability of dropping a unit) must be in [0, 1)", f"p={p!r}")
        self._remember(p=p)
        self.p = p
        # The layer owns its generator: the masks are reproducible, and a checkpoint stores
        # the generator's state so that a resumed run draws the same masks.
        self.rng = as_rng(rng)

    def named_generators(self):
        yield "rng", self.rng

    def backward(self, dout):
        return F.dropout_backward(dout, self._cached())


class Dropout(_Dropout):
    """Inverted dropout (chapter 07), calling ``dropout.dropout_forward`` / ``dropout_backward``.

    In training mode each value is zeroed with probability ``p`` and the rest scaled
    by ``1/(1-p)``; in eval mode the layer is the identity. Any shape.

    Parameters
    ----------
    p : float
        Probability of dropping a value, in [0, 1).
    rng : np.random.Generator, int seed or None
        The layer's own source of masks (``rng_state()`` / ``set_rng_state()`` save and
        restore it; checkpoints do). Give each dropout layer its own generator.
    """

    def forward(self, x):
        self._check(x, None)
        out, self._cache = F.dropout_forward(x, self.p, self.training, self.rng)
        return out


class Dropout2d(_Dropout):
    """Dropout of whole channels of (N, C, H, W) maps (chapter 07), calling
    ``dropout.spatial_dropout_forward`` (its cache works with ``dropout_backward``)."""

    def output_shape(self, input_shape):
        return self._check(tuple(input_shape), 4, "(N, C, H, W)")

    def forward(self, x):
        self._check(x, 4, "(N, C, H, W)")
        out, self._cache = F.spatial_dropout_forward(x, self.p, self.training, self.rng)
        return out


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in NCHW order, as PyTorch's ``nn.Flatten``.

    A convolution's output is an NCHW *view* of channels-last memory; ``reshape``
    follows the logical (N, C, H, W) order whatever the memory order, so the
    features come out in PyTorch's order (it copies, which is cheap here).
    ``backward`` hands the gradient back in the memory layout the input had, so
    the pooling and ReLU backward passes below it work on contiguous memory.
    """

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        require(len(shape) >= 2, repr(self), "expected input with a batch axis and at least one more",
                f"x.shape={shape}")
        return shape[0], math.prod(shape[1:])

    def forward(self, x):
        self._check(x, None)
        self.output_shape(x.shape)
        channels_last = x.ndim == 4 and x.transpose(0, 2, 3, 1).flags.c_contiguous
        self._cache = (x.shape, channels_last)
        return x.reshape(x.shape[0], -1)  # (N, C*H*W)

    def backward(self, dout):
        shape, channels_last = self._cached()
        if not channels_last:
            return dout.reshape(shape)  # (N, C, H, W)
        dx = np.empty((shape[0], shape[2], shape[3], shape[1]), dtype=dout.dtype).transpose(0, 3, 1, 2)
        dx[...] = dout.reshape(shape)  # (N, C, H, W), an NCHW view of channels-last memory like x
        return dx


class ReLU(Layer):
    """``max(x, 0)`` (chapter 04), calling ``activations.relu_forward`` / ``relu_backward``.

    After a max-pooling layer, ReLU gives the same result as before it (ReLU never
    decreases a value, so the max of the ReLUs is the ReLU of the max), and it
    touches a quarter of the data (2x2 pooling). The presets may therefore order
    conv, pool, ReLU.
    """

    def forward(self, x):
        self._check(x, None)
        out, self._cache = F.relu_forward(x)
        return out

    def backward(self, dout):
        return F.relu_backward(dout, self._cached())


class LeakyReLU(Layer):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (not an exercise), calling
    ``nonlinearities.leaky_relu_forward`` / ``leaky_relu_backward``."""

    _always = ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        require(isinstance(negative_slope, (int, float)) and not isinstance(negative_slope, bool), "LeakyReLU",
                "negative_slope must be a number", f"negative_slope={negative_slope!r}", TypeError)
        self._remember(negative_slope=negative_slope)
        self.negative_slope = negative_slope

    def forward(self, x):
        self._check(x, None)
        out, self._cache = F_act.leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, dout):
        return F_act.leaky_relu_backward(dout, self._cached())


class Sigmoid(Layer):
    """``1 / (1 + exp(-x))`` (not an exercise), calling ``nonlinearities.sigmoid_forward`` / ``sigmoid_backward``."""

    def forward(self, x):
        self._check(x, None)
        out, self._cache = F_act.sigmoid_forward(x)
        return out

    def backward(self, dout):
        return F_act.sigmoid_backward(dout, self._cached())


class Tanh(Layer):
    """``tanh(x)`` (not an exercise), calling ``nonlinearities.tanh_forward`` / ``tanh_backward``."""

    def forward(self, x):
        self._check(x, None)
        out, self._cache = F_act.tanh_forward(x)
        return out

    def backward(self, dout):
        return F_act.tanh_backward(dout, self._cached())
