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
from .base import Layer, as_rng
from .sequential import LAYERS, Sequential, layer_from_config
from .residual import ResidualBlock
from .with_parameters import BatchNorm1d, BatchNorm2d, Conv2d, DepthwiseConv2d, Linear, PointwiseConv2d
from .without_parameters import (AvgPool2d, Dropout, Dropout2d, Flatten, GlobalAvgPool2d, LeakyReLU, MaxPool2d, ReLU,
                                 Sigmoid, Tanh)

__all__ = ["Layer", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout",
           "Dropout2d", "Linear", "Flatten", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Sequential",
           "DepthwiseConv2d", "PointwiseConv2d", "GlobalAvgPool2d", "ResidualBlock",
           "LAYERS", "layer_from_config", "as_rng"]
