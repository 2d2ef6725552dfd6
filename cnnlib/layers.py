"""Layers and ``Sequential``: the objects a network is made of (introduced in chapter 04,
used from chapter 05 on).

A layer owns its parameters and calls the exercise functions through
``cnnlib.ops`` (``ops.conv2d_forward``, ``ops.maxpool2d_forward``, ...), so the
solution switch applies and your network trains on your own math.

Every layer has

- ``params`` and ``grads``: two dicts with the same keys (``"weight"``, ``"bias"``);
  ``backward`` *overwrites* ``grads`` (no accumulation, so no ``zero_grad``),
- ``buffers``: state that is saved but not trained (batch norm's running statistics),
- ``training``: switched by ``train()`` and ``eval()`` (batch norm, dropout),
- ``forward(x)`` (also ``layer(x)``) and ``backward(dout) -> dx``; the forward's
  cache is kept on the layer for the backward.

Parameters are float32 by default, as in PyTorch, and initialised as PyTorch does
(``init="pytorch"``: weights and biases uniform in ``±1/sqrt(fan_in)``, which is
``kaiming_uniform_(a=sqrt(5))``) or with He's normal (``init="he"``: std
``sqrt(2/fan_in)``, zero bias).

>>> model = Sequential(Conv2d(1, 8, kernel_size=3, padding=1, rng=0), ReLU(),
...                    MaxPool2d(2), Flatten(), Linear(8 * 14 * 14, 10, rng=0))
>>> print(model.summary((1, 28, 28)))  # doctest: +SKIP
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from . import nonlinearities as F_act
from . import ops as F
from .core.geometry import pool_arguments, window_output
from .core.validation import check_int, check_pair, fail, require

__all__ = ["Layer", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
           "Dropout2d", "Linear", "Flatten", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Sequential",
           "LAYERS", "layer_from_config", "as_rng"]

INITS = ("pytorch", "he")


def as_rng(rng=None) -> np.random.Generator:
    """A ``np.random.Generator`` from a generator (returned as is), an int seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    require(rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)), "as_rng",
            "rng must be a np.random.Generator, an int seed or None", f"rng of type {type(rng).__name__}",
            TypeError)
    return np.random.default_rng(rng)


def _child_rng(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator drawn from ``rng``: each Dropout owns its stream, so a
    checkpoint can store and restore every stream separately."""
    return np.random.default_rng(int(rng.integers(2**63)))


def _init_weights(shape, fan_in: int, init: str, rng, dtype, bias: bool):
    """(weight, bias or None) initialised like PyTorch ("pytorch") or He ("he")."""
    rng = as_rng(rng)
    if init == "pytorch":
        # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / (1 + 5)) times sqrt(3 / fan_in) = 1 / sqrt(fan_in)
        bound = 1.0 / math.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, size=shape)
        b = rng.uniform(-bound, bound, size=shape[0]) if bias else None
    else:  # "he": keeps the variance of activations constant through ReLU layers
        weight = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
        b = np.zeros(shape[0]) if bias else None
    return weight.astype(dtype), (None if b is None else b.astype(dtype))


class Layer:
    """Base class of every layer.

    Subclasses set ``params`` (and matching zero ``grads``), ``buffers``, and
    implement ``forward``, ``backward`` and ``output_shape``. Their constructor
    arguments are recorded with ``_remember`` so that ``__repr__`` and
    ``to_config`` need no code of their own.
    """

    _positional: tuple = ()  # constructor arguments shown without their name in repr
    _always: tuple = ()      # keyword arguments shown in repr even at their default

    def __init__(self):
        for name in ("params", "grads"):
            if not isinstance(getattr(type(self), name, None), property):  # Sequential's are views of its layers'
                setattr(self, name, {})
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True
        self._config: dict = {}
        self._cache = None

    # -- the two passes ---------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def output_shape(self, input_shape: tuple) -> tuple:
        """The output's shape for an input of ``input_shape`` (batch axis included), without computing it."""
        return tuple(input_shape)

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{self!r}: backward needs the cache of a forward pass; call forward first")
        return self._cache

    # -- modes --------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Layer":
        """Training mode (batch statistics, dropout on); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Layer":
        """Evaluation mode (running statistics, dropout off); returns the layer."""
        return self.train(False)

    # -- parameters and state -------------------------------------------------------
    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        """``{key: shape}`` of the parameters and buffers a layer built from ``config`` has (none here).

        Lets ``load_checkpoint`` compare a file's architecture with its arrays before
        allocating anything."""
        return {}

    def named_parameters(self):
        """Iterate over ``(name, array)`` of every parameter, as PyTorch's ``named_parameters``."""
        for name, layer, key in self.parameter_slots():
            yield name, layer.params[key]

    def named_buffers(self):
        """Iterate over ``(name, array)`` of every buffer (batch norm's running statistics)."""
        for name, layer, key in self.buffer_slots():
            yield name, layer.buffers[key]

    def parameter_slots(self):
        """Iterate over ``(name, layer, key)``: where each parameter lives. ``layer.params[key]``
        is the array and ``layer.grads[key]`` its gradient (what an optimizer needs)."""
        for key in self.params:
            yield key, self, key

    def buffer_slots(self):
        """Iterate over ``(name, layer, key)`` for ``layer.buffers[key]``."""
        for key in self.buffers:
            yield key, self, key

    def num_parameters(self) -> int:
        """Number of trainable scalars."""
        return sum(layer.params[key].size for _, layer, key in self.parameter_slots())

    def state_dict(self) -> dict:
        """Copies of every parameter and buffer, by name (``{"0.weight": array, "3.running_mean": array}``)."""
        state = {name: layer.params[key].copy() for name, layer, key in self.parameter_slots()}
        state.update({name: layer.buffers[key].copy() for name, layer, key in self.buffer_slots()})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays from ``state`` into the parameters and buffers (in place, keeping their dtype).

        Raises ValueError, before changing anything, when a name is missing or
        unexpected or a shape differs.
        """
        func = f"{type(self).__name__}.load_state_dict"
        require(isinstance(state, dict), func, "state must be a dict of arrays by name",
                f"state of type {type(state).__name__}", TypeError)
        targets = {name: (layer, layer.params, key) for name, layer, key in self.parameter_slots()}
        targets.update({name: (layer, layer.buffers, key) for name, layer, key in self.buffer_slots()})
        missing = [n for n in targets if n not in state]
        unexpected = [n for n in state if n not in targets]
        if missing or unexpected:
            raise ValueError(f"{func}: the state does not match the model's parameters and buffers "
                             f"(missing: {missing}, unexpected: {unexpected}). "
                             f"Received: a state with keys {sorted(state)}")
        for name, (layer, store, key) in targets.items():
            value = np.asarray(state[name])
            require(value.shape == store[key].shape, func,
                    f"'{name}' of layer {layer!r} must have shape {store[key].shape}",
                    f"{name}.shape={value.shape}")
            require(np.issubdtype(value.dtype, np.number), func, f"'{name}' must be numeric",
                    f"{name}.dtype={value.dtype}", TypeError)
        for name, (layer, store, key) in targets.items():
            store[key][...] = state[name]

    def named_generators(self):
        """Iterate over ``(name, generator)`` for the random generators the layer owns (dropout)."""
        return iter(())

    def rng_state(self) -> dict:
        """The state of every generator the layer owns, JSON-able, by name (saved in checkpoints)."""
        return {name: rng.bit_generator.state for name, rng in self.named_generators()}

    def set_rng_state(self, state: dict) -> None:
        """Restore what ``rng_state`` returned, so that dropout draws the same masks again."""
        own = dict(self.named_generators())
        require(isinstance(state, dict) and set(state) == set(own), f"{type(self).__name__}.set_rng_state",
                f"the state must name exactly the model's generators {sorted(own)}",
                f"keys {sorted(state) if isinstance(state, dict) else type(state).__name__}")
        for name, rng in own.items():
            rng.bit_generator.state = state[name]

    # -- description ------------------------------------------------------------------
    def _remember(self, **config) -> None:
        """Record the constructor arguments (for repr and to_config)."""
        if "dtype" in config:
            config["dtype"] = np.dtype(config["dtype"]).name
        self._config = config

    def to_config(self) -> dict:
        """The constructor arguments as a JSON-able dict, with ``"type"``: ``Conv2d(**cfg)`` rebuilds it."""
        return {"type": type(self).__name__,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in self._config.items()}}

    def __repr__(self) -> str:
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()}
        parts = []
        for k, v in self._config.items():
            default = defaults.get(k, inspect.Parameter.empty)
            if k == "dtype":
                default = np.dtype(default).name
            if k in self._positional:
                parts.append(repr(v))
            elif k in self._always or default is inspect.Parameter.empty or v != default:
                parts.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- input checks with the course's message format -------------------------------------
    def _check(self, x, ndim: int | None, layout: str = "", channels: int | None = None,
               what: str = "channels"):
        """Check an input array (or a shape, for output_shape) against what the layer expects.

        The message (with ``repr(self)``) is built only when a check fails: a forward pass
        formats nothing."""
        if isinstance(x, tuple):
            shape = x
        else:
            if not isinstance(x, np.ndarray):
                fail(repr(self), "expected a NumPy array as input", f"x of type {type(x).__name__}", TypeError)
            if not np.issubdtype(x.dtype, np.floating):
                fail(repr(self), "expected a floating input (float32 or float64); convert with "
                     "x.astype(np.float32)", f"x.dtype={x.dtype}", TypeError)
            shape = x.shape
        if ndim is not None and len(shape) != ndim:
            fail(repr(self), f"expected {ndim}-D input {layout}", f"x.shape={shape}")
        if channels is not None and shape[1] != channels:
            fail(repr(self), f"expected input with {channels} {what} {layout.replace('C_in', str(channels))}",
                 f"x.shape={shape}")
        return shape

    def _check_dtype(self, x):
        """Layers with parameters want inputs of their dtype, as in PyTorch (no silent float64)."""
        if isinstance(x, np.ndarray):
            dtype = np.dtype(self._config["dtype"])
            if x.dtype != dtype:
                fail(repr(self), f"expected input of dtype {dtype.name} like the layer's parameters (convert "
                     f"with x.astype(np.{dtype.name}) or build the layer with dtype=np.{x.dtype.name})",
                     f"x.dtype={x.dtype}", TypeError)


# ----------------------------------------------------------------------------
# Layers with parameters

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


# ----------------------------------------------------------------------------
# Layers without parameters

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


# ----------------------------------------------------------------------------
# Sequential

class Sequential(Layer):
    """Layers applied one after the other; ``backward`` runs them in reverse.

    Parameters are named PyTorch style, ``"<index>.<key>"`` (``"0.weight"``,
    ``"3.running_mean"``); ``state_dict`` / ``load_state_dict`` use these names,
    ``to_config`` / ``Sequential.from_config`` the architecture.

    ``params`` and ``grads`` are read-only flat dicts by name, built on each
    access; change parameters through ``named_parameters`` or ``load_state_dict``.
    """

    def __init__(self, *layers: Layer):
        for i, layer in enumerate(layers):
            require(isinstance(layer, Layer), "Sequential",
                    "every argument must be a Layer; pass a list as Sequential(*layers)",
                    f"argument {i} of type {type(layer).__name__}", TypeError)
        super().__init__()
        self.layers = list(layers)

    # flat, read-only views of the children's dicts
    @property
    def params(self) -> dict:
        return {name: layer.params[key] for name, layer, key in self.parameter_slots()}

    @property
    def grads(self) -> dict:
        return {name: layer.grads[key] for name, layer, key in self.parameter_slots()}

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def train(self, mode: bool = True) -> "Sequential":
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def parameter_slots(self):
        for i, layer in enumerate(self.layers):
            for name, owner, key in layer.parameter_slots():
                yield f"{i}.{name}", owner, key

    def buffer_slots(self):
        for i, layer in enumerate(self.layers):
            for name, owner, key in layer.buffer_slots():
                yield f"{i}.{name}", owner, key

    def named_generators(self):
        for i, layer in enumerate(self.layers):
            for name, rng in layer.named_generators():
                yield f"{i}.{name}", rng

    def to_config(self) -> dict:
        return {"type": "Sequential", "layers": [layer.to_config() for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict, rng=None) -> "Sequential":
        """Rebuild a model from ``to_config()`` (fresh random weights drawn from ``rng``)."""
        model = layer_from_config(config, rng)
        require(isinstance(model, Sequential), "Sequential.from_config", 'config must have "type": "Sequential"',
                f"type={config.get('type')!r}")
        return model

    def __repr__(self) -> str:
        if not self.layers:
            return "Sequential()"
        lines = []
        for i, layer in enumerate(self.layers):
            lines.append(f"  ({i}): " + repr(layer).replace("\n", "\n  "))
        return "Sequential(\n" + "\n".join(lines) + "\n)"

    def _summary_rows(self, prefix: str, shape: tuple, rows: list) -> tuple:
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Sequential):
                shape = layer._summary_rows(f"{prefix}{i}.", shape, rows)
                continue
            try:
                shape = layer.output_shape(shape)
            except ValueError as e:
                raise ValueError(f"Sequential.summary: layer {prefix}{i} does not accept the shape "
                                 f"that reaches it: {e}") from None
            rows.append((f"{prefix}{i}", repr(layer), "(N, " + ", ".join(map(str, shape[1:])) + ")",
                         layer.num_parameters()))
        return shape

    def summary(self, input_shape: tuple) -> str:
        """A table of each layer's output shape and parameter count, computed from shapes alone.

        Parameters
        ----------
        input_shape : tuple
            The shape of *one* example, without the batch axis: ``(1, 28, 28)``
            for MNIST, ``(3, 32, 32)`` for CIFAR-10. Shapes are shown with ``N``
            for the batch axis.
        """
        input_shape = tuple(input_shape)
        require(all(isinstance(s, (int, np.integer)) and s >= 1 for s in input_shape), "Sequential.summary",
                "input_shape must be a tuple of positive ints, without the batch axis, e.g. (1, 28, 28)",
                f"input_shape={input_shape}")
        rows = []
        self._summary_rows("", (1, *input_shape), rows)
        header = ("#", "Layer", "Output shape", "Params")
        table = [header, *[(r[0], r[1], r[2], f"{r[3]:,}") for r in rows]]
        widths = [max(len(row[c]) for row in table) for c in range(4)]

        def line(row):
            return (f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  "
                    f"{row[3]:>{widths[3]}}").rstrip()

        rule = "-" * len(line(("", "", "", "-" * widths[3])))
        total = sum(r[3] for r in rows)
        out = [f"Input: (N, {', '.join(map(str, input_shape))})", line(header), rule,
               *[line(r) for r in table[1:]], rule, f"Total parameters: {total:,}"]
        return "\n".join(out)


LAYERS = {cls.__name__: cls for cls in (Conv2d, MaxPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Dropout,
                                        Dropout2d, Linear, Flatten, ReLU, LeakyReLU, Sigmoid, Tanh, Sequential)}


def layer_from_config(config: dict, rng=None) -> Layer:
    """Build a layer (or a whole ``Sequential``) from its ``to_config()`` dict.

    Weights are drawn fresh from ``rng``; load a ``state_dict`` to restore trained ones.
    Each dropout layer gets its own generator drawn from ``rng``.
    """
    require(isinstance(config, dict) and "type" in config, "layer_from_config",
            'config must be a dict with a "type" key, as to_config() returns', f"config={config!r}", TypeError)
    kind = config["type"]
    require(kind in LAYERS, "layer_from_config", f"type must be one of {sorted(LAYERS)}", f"type={kind!r}")
    rng = as_rng(rng)
    args = {k: v for k, v in config.items() if k != "type"}
    if kind == "Sequential":
        return Sequential(*[layer_from_config(c, rng) for c in args.get("layers", [])])
    cls = LAYERS[kind]
    if "kernel_size" in args and isinstance(args["kernel_size"], list):
        args["kernel_size"] = tuple(args["kernel_size"])  # JSON turned the pair into a list
    accepted = inspect.signature(cls.__init__).parameters
    unknown = [k for k in args if k not in accepted]
    require(not unknown, "layer_from_config", f"{kind} takes no arguments {unknown}", f"config={config!r}")
    if "rng" in accepted:
        args["rng"] = _child_rng(rng) if issubclass(cls, _Dropout) else rng
    return cls(**args)
