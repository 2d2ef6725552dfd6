"""``Layer``, the base of every layer, and the helpers the layers share (chapter 04).

A layer owns ``params``, ``grads`` and ``buffers``, switches between ``train()`` and
``eval()``, remembers its constructor arguments (``to_config``) and checks its input;
``as_rng`` and ``_init_weights`` give every layer its random generator and its
PyTorch-style initial weights.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from ..core.validation import fail, require
from ..exercises import reference

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
    else:  # "he": keeps the variance of activations constant through ReLU layers (chapter 10, exercise 10.2)
        weight = reference("kaiming_normal")(shape, rng, nonlinearity="relu", dtype=np.float64)
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
