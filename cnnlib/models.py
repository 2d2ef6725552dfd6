"""Model presets: small networks built from ``cnnlib.layers`` (chapter 08 trains them).

Each function returns a ``Sequential`` whose weights are drawn from ``rng`` (a
``np.random.Generator``) or ``seed`` (an int), so the same seed gives the same
network. ``build_model("lenet", seed=0)`` looks a preset up by name in ``MODELS``.

About the order "conv, pool, ReLU": ReLU never decreases a value, so the maximum
of ReLUs equals the ReLU of the maximum, and ReLU after 2x2 max pooling gives
exactly the same network as ReLU before it while touching a quarter of the
values. The presets use that order where speed matters (``small_cnn``,
``vgg_bn``, ``tiny_vgg``); ``lenet`` keeps the textbook order conv, ReLU, pool
unless ``relu_after_pool=True``.
"""
from __future__ import annotations

import numpy as np

from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Dropout2d, Flatten, GlobalAvgPool2d, Linear,
                     MaxPool2d, ReLU, ResidualBlock, Sequential, as_rng)
from .layers.base import _child_rng
from .core.validation import check_int, fail, require

__all__ = ["small_cnn", "lenet", "vgg_bn", "tiny_vgg", "resnet_small", "build_model", "MODELS"]


def _rng(func: str, rng, seed) -> np.random.Generator:
    require(rng is None or seed is None, func, "give rng or seed, not both", f"rng={rng!r}, seed={seed!r}")
    return as_rng(seed if rng is None else rng)


def _pooled(func: str, size: int, times: int) -> int:
    """Side length after ``times`` 2x2 poolings (padded 3x3 convolutions keep the size)."""
    for _ in range(times):
        require(size >= 2, func, f"input_size is too small for {times} 2x2 poolings", f"input_size={size}")
        size //= 2
    return size


def small_cnn(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, *, rng=None, seed=None,
              init: str = "pytorch", dtype=np.float32) -> Sequential:
    """Two 3x3 conv layers with 8 and 16 filters, each followed by 2x2 max pooling and ReLU.

    About 9,000 parameters for MNIST: trains in seconds, reaches about 98 %.

    Parameters
    ----------
    num_classes : int
    in_channels : int
        1 for MNIST, 3 for RGB.
    input_size : int
        Height (= width) of the input images.
    rng : np.random.Generator, int or None; seed : int or None
        Where the initial weights come from (give one of them).
    init : "pytorch" or "he"
    dtype : float32 (default) or float64

    Returns
    -------
    Sequential
        (N, in_channels, input_size, input_size) -> (N, num_classes) logits.
    """
    g = _rng("small_cnn", rng, seed)
    check_int("small_cnn", "input_size", input_size, 1)
    s = _pooled("small_cnn", input_size, 2)
    kw = dict(rng=g, init=init, dtype=dtype)
    return Sequential(
        Conv2d(in_channels, 8, 3, padding=1, **kw), MaxPool2d(2), ReLU(),
        Conv2d(8, 16, 3, padding=1, **kw), MaxPool2d(2), ReLU(),
        Flatten(),
        Linear(16 * s * s, num_classes, **kw),
    )


def lenet(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, *, rng=None, seed=None,
          init: str = "pytorch", dtype=np.float32, relu_after_pool: bool = False) -> Sequential:
    """The course's LeNet-style CNN for MNIST (421,642 parameters), the network of chapter 08.

    conv 1->32 3x3 pad 1, ReLU, max pool 2, conv 32->64 3x3 pad 1, ReLU, max pool 2,
    flatten, linear 3136->128, ReLU, linear 128->10; the same layers as the PyTorch model
    ``nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), ...)``.

    Parameters
    ----------
    num_classes, in_channels, input_size, rng, seed, init, dtype
        As for ``small_cnn``.
    relu_after_pool : bool
        Put each ReLU after its pooling layer (the same function, faster; see the module docstring).

    Returns
    -------
    Sequential
        (N, in_channels, input_size, input_size) -> (N, num_classes) logits.
    """
    g = _rng("lenet", rng, seed)
    check_int("lenet", "input_size", input_size, 1)
    s = _pooled("lenet", input_size, 2)
    kw = dict(rng=g, init=init, dtype=dtype)

    def block(c_in, c_out):
        conv = Conv2d(c_in, c_out, 3, padding=1, **kw)
        return [conv, MaxPool2d(2), ReLU()] if relu_after_pool else [conv, ReLU(), MaxPool2d(2)]

    return Sequential(
        *block(in_channels, 32),
        *block(32, 64),
        Flatten(),
        Linear(64 * s * s, 128, **kw), ReLU(),
        Linear(128, num_classes, **kw),
    )


def vgg_bn(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, widths=(32, 64), *,
           dropout: float = 0.25, hidden: int = 128, rng=None, seed=None, init: str = "he",
           dtype=np.float32) -> Sequential:
    """A small VGG with batch normalization and dropout (chapter 07's layers), for 99 %+ on MNIST.

    Each stage: conv 3x3 pad 1, BatchNorm2d, ReLU, conv 3x3 pad 1, BatchNorm2d, max pool 2,
    ReLU, Dropout2d. Then flatten, linear -> ``hidden``, BatchNorm1d, ReLU, Dropout, linear
    -> num_classes. The convolutions have no bias: batch norm subtracts the mean right
    after, which would cancel it.

    Parameters
    ----------
    num_classes, in_channels, input_size, rng, seed, dtype
        As for ``small_cnn``.
    widths : sequence of int
        Filters per stage (each stage halves the spatial size).
    dropout : float
        Drop probability of the Dropout2d after each stage; the classifier's Dropout uses twice it.
    hidden : int
        Width of the hidden linear layer.
    init : "he" (default, suits ReLU networks) or "pytorch"

    Returns
    -------
    Sequential
    """
    g = _rng("vgg_bn", rng, seed)
    check_int("vgg_bn", "input_size", input_size, 1)
    require(len(widths) >= 1, "vgg_bn", "widths must name at least one stage", f"widths={widths!r}")
    require(isinstance(dropout, (int, float)) and 0 <= dropout < 0.5, "vgg_bn",
            "dropout must be in [0, 0.5) (the classifier uses 2 * dropout)", f"dropout={dropout!r}")
    s = _pooled("vgg_bn", input_size, len(widths))
    kw = dict(rng=g, init=init, dtype=dtype)
    layers, c_in = [], in_channels
    for width in widths:
        layers += [Conv2d(c_in, width, 3, padding=1, bias=False, **kw), BatchNorm2d(width, dtype=dtype), ReLU(),
                   Conv2d(width, width, 3, padding=1, bias=False, **kw), BatchNorm2d(width, dtype=dtype),
                   MaxPool2d(2), ReLU(), Dropout2d(dropout, rng=_child_rng(g))]
        c_in = width
    layers += [Flatten(),
               Linear(c_in * s * s, hidden, bias=False, **kw), BatchNorm1d(hidden, dtype=dtype), ReLU(),
               Dropout(2 * dropout, rng=_child_rng(g)),
               Linear(hidden, num_classes, **kw)]
    return Sequential(*layers)


def tiny_vgg(num_classes: int = 10, in_channels: int = 3, input_size: int = 32, widths=(16, 32), *,
             rng=None, seed=None, init: str = "pytorch", dtype=np.float32) -> Sequential:
    """A "Tiny VGG" (as in CNN Explainer) for 32x32 RGB images such as CIFAR-10.

    Two stages of (conv 3x3 pad 1, ReLU, conv 3x3 pad 1, max pool 2, ReLU), then
    flatten and one linear layer.

    Parameters
    ----------
    num_classes, in_channels, input_size, rng, seed, init, dtype
        As for ``small_cnn`` (defaults: 3 channels, 32x32).
    widths : sequence of int
        Filters per stage.

    Returns
    -------
    Sequential
    """
    g = _rng("tiny_vgg", rng, seed)
    check_int("tiny_vgg", "input_size", input_size, 1)
    s = _pooled("tiny_vgg", input_size, len(widths))
    kw = dict(rng=g, init=init, dtype=dtype)
    layers, c_in = [], in_channels
    for width in widths:
        layers += [Conv2d(c_in, width, 3, padding=1, **kw), ReLU(),
                   Conv2d(width, width, 3, padding=1, **kw), MaxPool2d(2), ReLU()]
        c_in = width
    layers += [Flatten(), Linear(c_in * s * s, num_classes, **kw)]
    return Sequential(*layers)


def resnet_small(num_classes: int = 10, in_channels: int = 1, input_size: int = 28, widths=(16, 32, 64),
                 blocks_per_stage: int = 1, *, residual: bool = True, batch_norm: bool = True, rng=None, seed=None,
                 init: str = "he", dtype=np.float32) -> Sequential:
    """A small ResNet (chapter 11): a 3x3 stem, stages of ``ResidualBlock``, global average pooling, linear.

    The stem is conv 3x3 pad 1 -> ``widths[0]``, batch norm, ReLU. Each stage is
    ``blocks_per_stage`` blocks of its width; every stage after the first starts with a
    block of stride 2 (half the size, a 1x1 projection on its shortcut). With the
    defaults: 7 convolutions of 3x3, 2 projections and 1 linear layer, 77,754 parameters.

    Parameters
    ----------
    num_classes, in_channels, input_size, rng, seed, dtype
        As for ``small_cnn``; any input size works (global average pooling does not care).
    widths : sequence of int
        Channels of each stage.
    blocks_per_stage : int
        Blocks per stage: the network has ``1 + 2 * len(widths) * blocks_per_stage`` 3x3 convolutions
        (and a 1x1 projection in the first block of each stage after the first).
    residual : bool
        False gives the *plain* network with the same layers (no shortcuts), for comparison.
    batch_norm : bool
        False drops every batch norm layer (the convolutions get biases).
    init : "he" (default) or "pytorch"

    Returns
    -------
    Sequential
        (N, in_channels, H, W) -> (N, num_classes) logits.
    """
    g = _rng("resnet_small", rng, seed)
    check_int("resnet_small", "input_size", input_size, 1)
    check_int("resnet_small", "blocks_per_stage", blocks_per_stage, 1)
    require(len(widths) >= 1, "resnet_small", "widths must name at least one stage", f"widths={widths!r}")
    _pooled("resnet_small", input_size, len(widths) - 1)  # each stride-2 stage needs 2 rows at least
    kw = dict(rng=g, init=init, dtype=dtype)
    layers = [Conv2d(in_channels, widths[0], 3, padding=1, bias=not batch_norm, **kw),
              *([BatchNorm2d(widths[0], dtype=dtype)] if batch_norm else []), ReLU()]
    c_in = widths[0]
    for stage, width in enumerate(widths):
        for block in range(blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(ResidualBlock(c_in, width, stride, residual=residual, batch_norm=batch_norm, **kw))
            c_in = width
    layers += [GlobalAvgPool2d(), Linear(c_in, num_classes, **kw)]
    return Sequential(*layers)


MODELS = {"small_cnn": small_cnn, "lenet": lenet, "vgg_bn": vgg_bn, "tiny_vgg": tiny_vgg,
          "resnet_small": resnet_small}


def build_model(name: str, **kwargs) -> Sequential:
    """The preset called ``name`` (a key of ``MODELS``), built with ``kwargs``.

    >>> model = build_model("lenet", seed=0)
    """
    if name not in MODELS:
        fail("build_model", f"name must be one of {sorted(MODELS)}", f"name={name!r}")
    return MODELS[name](**kwargs)
