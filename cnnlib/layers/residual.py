"""``ResidualBlock``, the basic block of a ResNet (chapter 11), calling ``blocks.residual_forward`` /
``residual_backward`` for the join and the fork (and ``pointwise_conv2d_forward`` / ``_backward`` for a
projection shortcut)."""
from __future__ import annotations

import numpy as np

from .. import ops as F
from ..core.validation import check_int, require
from .base import INITS, Layer
from .with_parameters import BatchNorm2d, Conv2d, PointwiseConv2d
from .without_parameters import ReLU


class ResidualBlock(Layer):
    """``out = relu(branch(x) + shortcut(x))``, the basic block of He et al. (2016) and torchvision's ``BasicBlock``.

    The branch is conv 3x3 (``stride``), batch norm, ReLU, conv 3x3, batch norm. The shortcut
    is the identity, or, when the block changes the number of channels or the size, a 1x1
    convolution (``PointwiseConv2d``) with the same stride followed by batch norm (a "projection").
    ``residual=False`` drops the shortcut, ``out = relu(branch(x))``: the same layers as a
    *plain* network, for comparing the two.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Of the first 3x3 convolution (and the projection): 2 halves H and W.
    residual : bool
        False: no shortcut (a plain block).
    batch_norm : bool
        False: no batch norm layers, and the convolutions get a bias instead.
    rng, init, dtype
        As for ``Conv2d`` (the default init here is "he", for ReLU networks).

    Shape
    -----
    x : (N, in_channels, H, W) -> out : (N, out_channels, H_out, W_out), ``H_out = (H - 1) // stride + 1``.
    Parameters are named ``branch.<i>.<key>`` (i = 0 conv, 1 batch norm, 3 conv, 4 batch norm) and
    ``shortcut.<i>.<key>`` (0 conv, 1 batch norm), as a ``Sequential`` would name them.
    """

    _positional = ("in_channels", "out_channels")

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, residual: bool = True,
                 batch_norm: bool = True, rng=None, init: str = "he", dtype=np.float32):
        super().__init__()
        check_int("ResidualBlock", "in_channels", in_channels, 1)
        check_int("ResidualBlock", "out_channels", out_channels, 1)
        check_int("ResidualBlock", "stride", stride, 1)
        require(init in INITS, "ResidualBlock", f"init must be one of {INITS}", f"init={init!r}")
        self._remember(in_channels=in_channels, out_channels=out_channels, stride=stride, residual=bool(residual),
                       batch_norm=bool(batch_norm), init=init, dtype=dtype)
        self.in_channels, self.out_channels, self.stride, self.residual = in_channels, out_channels, stride, residual
        kw = dict(bias=not batch_norm, rng=rng, init=init, dtype=dtype)

        def norm(c):
            return [BatchNorm2d(c, dtype=dtype)] if batch_norm else []

        self.branch = [Conv2d(in_channels, out_channels, 3, stride, 1, **kw), *norm(out_channels), ReLU(),
                       Conv2d(out_channels, out_channels, 3, 1, 1, **kw), *norm(out_channels)]
        projection = residual and (stride != 1 or in_channels != out_channels)
        # the projection: a 1x1 convolution (exercises 11.7-11.8), the same parameters and numbers as Conv2d's
        self.shortcut = [PointwiseConv2d(in_channels, out_channels, stride, **kw), *norm(out_channels)] \
            if projection else []
        self._join = ReLU()  # the plain block's last ReLU

    # flat, read-only views of the sub-layers' dicts, as Sequential has
    @property
    def params(self) -> dict:
        return {name: layer.params[key] for name, layer, key in self.parameter_slots()}

    @property
    def grads(self) -> dict:
        return {name: layer.grads[key] for name, layer, key in self.parameter_slots()}

    def _parts(self):
        return (("branch", self.branch), ("shortcut", self.shortcut))

    def parameter_slots(self):
        for part, layers in self._parts():
            for i, layer in enumerate(layers):
                for name, owner, key in layer.parameter_slots():
                    yield f"{part}.{i}.{name}", owner, key

    def buffer_slots(self):
        for part, layers in self._parts():
            for i, layer in enumerate(layers):
                for name, owner, key in layer.buffer_slots():
                    yield f"{part}.{i}.{name}", owner, key

    @classmethod
    def state_shapes(cls, config: dict) -> dict:
        args = {k: v for k, v in config.items() if k != "type"}
        return {k: v.shape for k, v in cls(**args, rng=0).state_dict().items()}

    def train(self, mode: bool = True) -> "ResidualBlock":
        self.training = bool(mode)
        for _, layers in self._parts():
            for layer in layers:
                layer.train(mode)
        return self

    def output_shape(self, input_shape):
        shape = self._check(tuple(input_shape), 4, "(N, C_in, H, W)", self.in_channels)
        for layer in self.branch:
            shape = layer.output_shape(shape)
        return shape

    # -- the two paths, as the functions residual_forward / residual_backward call -------------
    @staticmethod
    def _run(layers, x):
        for layer in layers:
            x = layer.forward(x)
        return x, None  # each layer keeps its own cache

    @staticmethod
    def _run_back(layers, dout):
        for layer in reversed(layers):
            dout = layer.backward(dout)
        return dout

    def _branch(self, x):
        return self._run(self.branch, x)

    def _branch_backward(self, dout, cache):
        return self._run_back(self.branch, dout)

    def _shortcut(self, x):
        return self._run(self.shortcut, x)

    def _shortcut_backward(self, dout, cache):
        return self._run_back(self.shortcut, dout)

    def forward(self, x):
        self._check(x, 4, "(N, C_in, H, W)", self.in_channels)
        if not self.residual:
            return self._join.forward(self._branch(x)[0])
        out, self._cache = F.residual_forward(x, self._branch, self._shortcut if self.shortcut else None)
        return out

    def backward(self, dout):
        if not self.residual:
            return self._branch_backward(self._join.backward(dout), None)
        return F.residual_backward(dout, self._cached(), self._branch_backward,
                                   self._shortcut_backward if self.shortcut else None)
