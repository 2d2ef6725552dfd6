"""Layers with parameters: ``Conv2d``, ``Linear``, ``BatchNorm1d``, ``BatchNorm2d`` (chapters 01-07),
``DepthwiseConv2d`` and ``PointwiseConv2d`` (chapter 11).

Each owns its ``weight`` and ``bias`` (batch norm also its running statistics) and
calls the exercise functions through ``cnnlib.ops``.
"""
from __future__ import annotations

import numpy as np

from .. import ops as F
from ..core.geometry import window_output
from ..core.validation import check_int, check_pair, require
from .base import INITS, Layer, _init_weights

class Conv2d(Layer):
    """2-D convolution (chapters 01-03), calling ``conv.conv2d_forward`` / ``conv2d_backward``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (kH, kW)
    stride, padding : int
    bias : bool
    rng : np.random.Generator, int seed or None
        Draws the initial weights.
    init : "pytorch" or "he"
    dtype : float32 (default) or float64

    Shape
    -----
    x : (N, C_in, H, W) -> out : (N, C_out, H_out, W_out) with
    ``H_out = (H + 2*padding - kH) // stride + 1`` (likewise W_out).
    ``params``: ``weight`` (C_out, C_in, kH, kW) and ``bias`` (C_out,).
    """

    _positional = ("in_channels", "out_channels")
    _always = ("kernel_size",)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride: int = 1, padding: int = 0,
                 bias: bool = True, *, rng=None, init: str = "pytorch", dtype=np.float32):
        super().__init__()
        check_int("Conv2d", "in_channels", in_channels, 1)
        check_int("Conv2d", "out_channels", out_channels, 1)
        kH, kW = check_pair("Conv2d", "kernel_size", kernel_size, 1)
        check_int("Conv2d", "stride", stride, 1)
        check_int("Conv2d", "padding", padding, 0)
        require(init in INITS, "Conv2d", f"init must be one of {INITS}", f"init={init!r}")
        self._remember(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
                       stride=stride, padding=padding, bias=bool(bias), init=init, dtype=dtype)
        self.in_channels, self.out_channels, self.stride, self.padding = in_channels, out_channels, stride, padding
        self.kernel_size = (kH, kW)
        weight, b = _init_weights((out_channels, in_channels, kH, kW), in_channels * kH * kW, init, rng,
                                  dtype, bias)
        self.params["weight"] = weight
        if b is not None:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        kH, kW = check_pair("Conv2d", "kernel_size", config["kernel_size"], 1)
        out_c, in_c = check_int("Conv2d", "out_channels", config["out_channels"], 1), \
            check_int("Conv2d", "in_channels", config["in_channels"], 1)
        return {"weight": (out_c, in_c, kH, kW), **({"bias": (out_c,)} if config.get("bias", True) else {})}

    def output_shape(self, input_shape):
        N, C, H, W = self._check(tuple(input_shape), 4, "(N, C_in, H, W)", self.in_channels)
        stride = (self.stride, self.stride)
        return (N, self.out_channels, *window_output(repr(self), (N, C, H, W), self.kernel_size, stride, self.padding))

    def forward(self, x):
        self._check(x, 4, "(N, C_in, H, W)", self.in_channels)
        self._check_dtype(x)
        out, self._cache = F.conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                                                 self.stride, self.padding)
        return out

    def backward(self, dout):
        dx, self.grads["weight"], dbias = F.conv2d_backward(dout, self._cached())
        if "bias" in self.params:
            self.grads["bias"] = dbias
        return dx


class DepthwiseConv2d(Layer):
    """Depthwise convolution (chapter 11): one kH x kW filter per channel, calling
    ``blocks.depthwise_conv2d_forward`` / ``depthwise_conv2d_backward``.

    PyTorch's ``nn.Conv2d(channels, channels, kernel_size, groups=channels)``. Followed by a 1x1
    ``Conv2d`` (which mixes the channels) it is MobileNet's depthwise-separable convolution.

    Parameters
    ----------
    channels : int
    kernel_size : int or (kH, kW)
    stride, padding, bias, rng, init, dtype
        As for ``Conv2d``; the fan-in of each filter is kH*kW.

    Shape
    -----
    x : (N, channels, H, W) -> out : (N, channels, H_out, W_out), H_out as for ``Conv2d``.
    ``params``: ``weight`` (channels, 1, kH, kW) and ``bias`` (channels,).
    """

    _positional = ("channels",)
    _always = ("kernel_size",)

    def __init__(self, channels: int, kernel_size, stride: int = 1, padding: int = 0, bias: bool = True, *,
                 rng=None, init: str = "pytorch", dtype=np.float32):
        super().__init__()
        check_int("DepthwiseConv2d", "channels", channels, 1)
        kH, kW = check_pair("DepthwiseConv2d", "kernel_size", kernel_size, 1)
        check_int("DepthwiseConv2d", "stride", stride, 1)
        check_int("DepthwiseConv2d", "padding", padding, 0)
        require(init in INITS, "DepthwiseConv2d", f"init must be one of {INITS}", f"init={init!r}")
        self._remember(channels=channels, kernel_size=kernel_size, stride=stride, padding=padding, bias=bool(bias),
                       init=init, dtype=dtype)
        self.channels, self.stride, self.padding, self.kernel_size = channels, stride, padding, (kH, kW)
        weight, b = _init_weights((channels, 1, kH, kW), kH * kW, init, rng, dtype, bias)
        self.params["weight"] = weight
        if b is not None:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        kH, kW = check_pair("DepthwiseConv2d", "kernel_size", config["kernel_size"], 1)
        c = check_int("DepthwiseConv2d", "channels", config["channels"], 1)
        return {"weight": (c, 1, kH, kW), **({"bias": (c,)} if config.get("bias", True) else {})}

    def output_shape(self, input_shape):
        N, C, H, W = self._check(tuple(input_shape), 4, "(N, C_in, H, W)", self.channels)
        stride = (self.stride, self.stride)
        return (N, C, *window_output(repr(self), (N, C, H, W), self.kernel_size, stride, self.padding))

    def forward(self, x):
        self._check(x, 4, "(N, C_in, H, W)", self.channels)
        self._check_dtype(x)
        out, self._cache = F.depthwise_conv2d_forward(x, self.params["weight"], self.params.get("bias"),
                                                      self.stride, self.padding)
        return out

    def backward(self, dout):
        dx, self.grads["weight"], dbias = F.depthwise_conv2d_backward(dout, self._cached())
        if "bias" in self.params:
            self.grads["bias"] = dbias
        return dx


class PointwiseConv2d(Layer):
    """1x1 convolution (chapter 11): a linear map of the channels at every pixel, calling
    ``blocks.pointwise_conv2d_forward`` / ``pointwise_conv2d_backward``.

    PyTorch's ``nn.Conv2d(in_channels, out_channels, 1, stride)``, with the same parameters and the
    same numbers as ``Conv2d(in_channels, out_channels, 1, stride)`` here (to the last bit with the
    reference solutions): it mixes the channels after a ``DepthwiseConv2d``, and projects a
    ``ResidualBlock``'s shortcut.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Read every ``stride``-th pixel (no padding).
    bias, rng, init, dtype
        As for ``Conv2d``; the fan-in is in_channels.

    Shape
    -----
    x : (N, in_channels, H, W) -> out : (N, out_channels, H_out, W_out), ``H_out = (H - 1) // stride + 1``.
    ``params``: ``weight`` (out_channels, in_channels, 1, 1) and ``bias`` (out_channels,).
    """

    _positional = ("in_channels", "out_channels")

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, bias: bool = True, *, rng=None,
                 init: str = "pytorch", dtype=np.float32):
        super().__init__()
        check_int("PointwiseConv2d", "in_channels", in_channels, 1)
        check_int("PointwiseConv2d", "out_channels", out_channels, 1)
        check_int("PointwiseConv2d", "stride", stride, 1)
        require(init in INITS, "PointwiseConv2d", f"init must be one of {INITS}", f"init={init!r}")
        self._remember(in_channels=in_channels, out_channels=out_channels, stride=stride, bias=bool(bias), init=init,
                       dtype=dtype)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.kernel_size, self.padding = (1, 1), 0  # as a Conv2d's, for code that inspects convolutions
        weight, b = _init_weights((out_channels, in_channels, 1, 1), in_channels, init, rng, dtype, bias)
        self.params["weight"] = weight
        if b is not None:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        out_c, in_c = check_int("PointwiseConv2d", "out_channels", config["out_channels"], 1), \
            check_int("PointwiseConv2d", "in_channels", config["in_channels"], 1)
        return {"weight": (out_c, in_c, 1, 1), **({"bias": (out_c,)} if config.get("bias", True) else {})}

    def output_shape(self, input_shape):
        N, C, H, W = self._check(tuple(input_shape), 4, "(N, C_in, H, W)", self.in_channels)
        stride = (self.stride, self.stride)
        return (N, self.out_channels, *window_output(repr(self), (N, C, H, W), (1, 1), stride, 0))

    def forward(self, x):
        self._check(x, 4, "(N, C_in, H, W)", self.in_channels)
        self._check_dtype(x)
        out, self._cache = F.pointwise_conv2d_forward(x, self.params["weight"], self.params.get("bias"), self.stride)
        return out

    def backward(self, dout):
        dx, self.grads["weight"], dbias = F.pointwise_conv2d_backward(dout, self._cached())
        if "bias" in self.params:
            self.grads["bias"] = dbias
        return dx


class Linear(Layer):
    """Fully connected layer ``out = x @ weight.T + bias`` (chapter 05), calling ``linear.linear_forward``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    rng, init, dtype
        As for ``Conv2d``.

    Shape
    -----
    x : (N, in_features) -> out : (N, out_features).
    ``params``: ``weight`` (out_features, in_features) and ``bias`` (out_features,).
    """

    _always = ("in_features", "out_features")

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng=None,
                 init: str = "pytorch", dtype=np.float32):
        super().__init__()
        check_int("Linear", "in_features", in_features, 1)
        check_int("Linear", "out_features", out_features, 1)
        require(init in INITS, "Linear", f"init must be one of {INITS}", f"init={init!r}")
        self._remember(in_features=in_features, out_features=out_features, bias=bool(bias), init=init,
                       dtype=dtype)
        self.in_features, self.out_features = in_features, out_features
        weight, b = _init_weights((out_features, in_features), in_features, init, rng, dtype, bias)
        self.params["weight"] = weight
        if b is not None:
            self.params["bias"] = b
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _check_input(self, x):
        shape = x if isinstance(x, tuple) else getattr(x, "shape", ())
        if len(shape) > 2:  # the most common mistake gets its own fix
            require(False, repr(self), "expected 2-D input (N, in_features); put a Flatten() before this layer",
                    f"x.shape={shape}")
        self._check(x, 2, f"(N, {self.in_features})", self.in_features, "features")

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        out_f = check_int("Linear", "out_features", config["out_features"], 1)
        in_f = check_int("Linear", "in_features", config["in_features"], 1)
        return {"weight": (out_f, in_f), **({"bias": (out_f,)} if config.get("bias", True) else {})}

    def output_shape(self, input_shape):
        self._check_input(tuple(input_shape))
        return input_shape[0], self.out_features

    def forward(self, x):
        self._check_input(x)
        self._check_dtype(x)
        out, self._cache = F.linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def backward(self, dout):
        dx, self.grads["weight"], dbias = F.linear_backward(dout, self._cached())
        if "bias" in self.params:
            self.grads["bias"] = dbias
        return dx


class _BatchNorm(Layer):
    """Shared code of BatchNorm1d and BatchNorm2d (chapter 07).

    Parameters
    ----------
    num_features : int
        D of (N, D) features, or C of (N, C, H, W) maps.
    momentum : float
        PyTorch's convention: ``running = (1 - momentum) * running + momentum * batch``.
    eps : float
        Added to the variance inside the square root.
    dtype : float32 (default) or float64

    ``params``: ``weight`` (gamma, ones) and ``bias`` (beta, zeros), PyTorch's names, shape (C,).
    ``buffers``: ``running_mean`` (zeros) and ``running_var`` (ones), updated in place in
    training mode from the values the exercise returns (the exercise never writes into
    them); saved by ``state_dict``. Eval mode normalises with them.
    """

    _positional = ("num_features",)
    _ndim, _layout = 2, "(N, C_in)"

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, *, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        check_int(name, "num_features", num_features, 1)
        require(isinstance(momentum, (int, float)) and 0 <= momentum <= 1, name, "momentum must be in [0, 1]",
                f"momentum={momentum!r}")
        require(isinstance(eps, (int, float)) and eps > 0, name, "eps must be > 0", f"eps={eps!r}")
        self._remember(num_features=num_features, momentum=momentum, eps=eps, dtype=dtype)
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.params = {"weight": np.ones(num_features, dtype), "bias": np.zeros(num_features, dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(num_features, dtype), "running_var": np.ones(num_features, dtype)}

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        c = check_int(cls.__name__, "num_features", config["num_features"], 1)
        return dict.fromkeys(("weight", "bias", "running_mean", "running_var"), (c,))

    def output_shape(self, input_shape):
        return self._check(tuple(input_shape), self._ndim, self._layout, self.num_features)

    def _functions(self):
        raise NotImplementedError

    def forward(self, x):
        self._check(x, self._ndim, self._layout, self.num_features)
        self._check_dtype(x)
        forward, _ = self._functions()
        out, self._cache, mean, var = forward(x, self.params["weight"], self.params["bias"],
                                              self.buffers["running_mean"], self.buffers["running_var"],
                                              self.training, self.momentum, self.eps)
        if self.training:
            self.buffers["running_mean"][...] = mean  # in place: same array, same dtype
            self.buffers["running_var"][...] = var
        return out

    def backward(self, dout):
        _, backward = self._functions()
        dx, self.grads["weight"], self.grads["bias"] = backward(dout, self._cached())
        return dx


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, num_features) features (chapter 07), calling
    ``normalization.batchnorm_forward`` / ``batchnorm_backward``."""

    _ndim, _layout = 2, "(N, C_in)"

    def _functions(self):
        return F.batchnorm_forward, F.batchnorm_backward


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) maps, one mean and variance per channel (chapter 07),
    calling ``normalization.spatial_batchnorm_forward`` / ``spatial_batchnorm_backward``."""

    _ndim, _layout = 4, "(N, C_in, H, W)"

    def _functions(self):
        return F.spatial_batchnorm_forward, F.spatial_batchnorm_backward
