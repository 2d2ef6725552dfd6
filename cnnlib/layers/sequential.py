"""``Sequential``, a network as a list of layers, and ``layer_from_config``, which rebuilds one."""
from __future__ import annotations

import inspect

import numpy as np

from ..core.validation import require
from .base import Layer, _child_rng, as_rng
from .residual import ResidualBlock
from .with_parameters import BatchNorm1d, BatchNorm2d, Conv2d, DepthwiseConv2d, Linear, PointwiseConv2d
from .without_parameters import (AvgPool2d, Dropout, Dropout2d, Flatten, GlobalAvgPool2d, LeakyReLU, MaxPool2d, ReLU,
                                 Sigmoid, Tanh, _Dropout)

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
                                        Dropout2d, Linear, Flatten, ReLU, LeakyReLU, Sigmoid, Tanh, Sequential,
                                        DepthwiseConv2d, PointwiseConv2d, GlobalAvgPool2d, ResidualBlock)}


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
