"""Looking at a network before and while it trains (chapter 10): the debugging toolbox.

- ``layer_outputs``: what every layer of a model returns for a batch;
- ``layer_statistics``: per layer, the spread of its outputs, the fraction of
  zeros, the spread of the gradient that reaches it, and for layers with a
  weight the ratio ``|dW| / |W|`` (how far one step of SGD would move it);
- ``plain_network``: a deep stack of Linear + activation layers with the
  weights you choose, the experiment of chapter 10;
- ``lr_range_test``: train for a few hundred steps while the learning rate
  grows geometrically, and read off where the loss falls fastest;
- ``plot_layer_histograms``, ``plot_layer_statistics`` and ``plot_lr_range``
  draw them.

The model is left as it was: ``layer_statistics`` only fills its ``grads``
(as a training step would), and ``lr_range_test`` restores every parameter
and buffer afterwards.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from . import ops
from .core.validation import check_array, check_int, require
from .layers import Linear, ReLU, Sequential, Tanh
from .optim import SGD
from .trainer import Trainer
from .viz import _finish, _layers as viz_layers


def _layers(func: str, model) -> list:
    layers = viz_layers(func, model)
    require(len(layers) > 0, func, "model must have at least one layer", f"{model!r}")
    return layers


def _label(index: int, layer) -> str:
    return f"{index} {type(layer).__name__}"


def layer_outputs(model, x: np.ndarray) -> list[np.ndarray]:
    """The output of every layer of ``model`` for the batch ``x``, in order (the model's current mode)."""
    layers = _layers("layer_outputs", model)
    check_array("layer_outputs", "x", x, floating=True)
    outputs = []
    for layer in layers:
        x = layer.forward(x)
        outputs.append(x)
    return outputs


def layer_statistics(model, x: np.ndarray, y: np.ndarray) -> list[dict]:
    """One row per layer: how the signal and its gradient look on the batch ``(x, y)``.

    Runs one forward pass, the softmax cross-entropy of the last layer's
    output (class logits) against the integer labels ``y``, and one backward
    pass, layer by layer (through ``cnnlib.ops``: your code where you wrote it).

    Returns
    -------
    list of dict, one per layer, with keys
        ``layer`` ("3 ReLU"), ``mean`` and ``std`` of its output, ``zeros``
        (fraction of outputs exactly 0: dead ReLUs show here), ``grad_std``
        (std of the loss's gradient with respect to its output), and
        ``update_ratio`` = ``|dW| / |W|`` (Frobenius norms) for a layer with a
        weight, else None. The row of the last layer also holds ``loss``.
    """
    layers = _layers("layer_statistics", model)
    check_array("layer_statistics", "y", y, 1)
    require(len(y) == len(x), "layer_statistics", "x and y must hold the same number of samples",
            f"x.shape={np.shape(x)}, y.shape={y.shape}")
    outputs = layer_outputs(model, x)
    loss, dout = ops.softmax_cross_entropy(outputs[-1], y)
    douts = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        douts[i] = dout
        dout = layers[i].backward(dout)
    rows = []
    for i, (layer, out, d) in enumerate(zip(layers, outputs, douts)):
        w = getattr(layer, "params", {}).get("weight")
        ratio = None if w is None else float(np.linalg.norm(layer.grads["weight"]) / max(np.linalg.norm(w), 1e-30))
        rows.append({"layer": _label(i, layer), "mean": float(out.mean()), "std": float(out.std()),
                     "zeros": float(np.mean(out == 0)), "grad_std": float(np.std(d)), "update_ratio": ratio})
    rows[-1]["loss"] = float(loss)
    return rows


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh}

# Four ways to draw a weight, as chapter 10 compares them (Glorot and He through cnnlib.ops: your 10.2, 10.3).
WEIGHT_DRAWS = {
    "std 0.01": lambda shape, rng: rng.normal(0.0, 0.01, shape),
    "Glorot": lambda shape, rng: ops.xavier_uniform(shape, rng, dtype=np.float64),
    "He": lambda shape, rng: ops.kaiming_normal(shape, rng, nonlinearity="relu", dtype=np.float64),
    "std 0.2": lambda shape, rng: rng.normal(0.0, 0.2, shape),
}


def plain_network(draw, depth: int = 10, width: int = 256, *, in_features: int = 784, num_classes=None,
                  activation: str = "relu", seed: int = 0) -> Sequential:
    """``depth`` pairs of Linear(width) + activation, float64, weights from ``draw(shape, rng)``, biases 0.

    ``num_classes`` adds a last Linear layer (drawn the same way) for class
    logits, so that ``layer_statistics`` can run a loss at the end.
    """
    func = "plain_network"
    require(callable(draw), func, "draw must be callable: draw(shape, rng) returns the weights",
            f"draw of type {type(draw).__name__}", TypeError)
    depth, width = check_int(func, "depth", depth, 1), check_int(func, "width", width, 1)
    require(activation in ACTIVATIONS, func, f"activation must be one of {sorted(ACTIVATIONS)}",
            f"activation={activation!r}")
    rng, layers, n_in = np.random.default_rng(seed), [], check_int(func, "in_features", in_features, 1)
    for n_out in [width] * depth + ([] if num_classes is None else [check_int(func, "num_classes", num_classes, 1)]):
        linear = Linear(n_in, n_out, rng=0, dtype=np.float64)
        linear.params["weight"][...] = draw(linear.params["weight"].shape, rng)
        linear.params["bias"][...] = 0.0
        layers += [linear, ACTIVATIONS[activation]()]
        n_in = n_out
    return Sequential(*(layers if num_classes is None else layers[:-1]))


def lr_range_test(model, x: np.ndarray, y: np.ndarray, *, lr_min: float = 1e-4, lr_max: float = 10.0,
                  steps: int = 100, batch_size: int = 64, momentum: float = 0.9, rng=0,
                  smoothing: float = 0.9) -> dict:
    """Leslie Smith's learning-rate range test: one short run with a geometrically growing rate.

    SGD (with ``momentum``) takes ``steps`` steps on random minibatches of
    ``(x, y)``, the rate going from ``lr_min`` to ``lr_max``; the loss is
    smoothed with an exponential moving average (bias-corrected, as fast.ai
    does) and the run stops once it exceeds 4 times its lowest value. The
    model's parameters and buffers are restored afterwards.

    Returns
    -------
    dict with ``lrs`` and ``losses`` (smoothed, one per step taken), ``raw``
    (the minibatch losses), ``best_lr`` (the rate at the lowest smoothed loss)
    and ``suggested_lr`` = ``best_lr / 10``: a rate still on the steep,
    stable part of the curve, the usual rule of thumb.
    """
    func = "lr_range_test"
    check_array(func, "x", x, floating=True)
    check_array(func, "y", y, 1)
    require(0 < lr_min < lr_max, func, "0 < lr_min < lr_max must hold", f"lr_min={lr_min!r}, lr_max={lr_max!r}")
    steps = check_int(func, "steps", steps, 2)
    batch_size = check_int(func, "batch_size", batch_size, 1)
    require(0.0 <= smoothing < 1.0, func, "smoothing must be in [0, 1)", f"smoothing={smoothing!r}")
    saved = model.state_dict()
    rng = np.random.default_rng(rng)
    trainer = Trainer(model, SGD(model, lr=lr_min, momentum=momentum), rng=rng, divergence_check=False)
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    taken, smoothed, raw, average, best = [], [], [], 0.0, math.inf
    model.train()
    try:
        for t, lr in enumerate(lrs, start=1):
            batch = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
            trainer.optimizer.lr = float(lr)
            _, loss = trainer.train_step(x[batch], y[batch])
            loss = float(loss)
            if not math.isfinite(loss):
                break
            average = smoothing * average + (1 - smoothing) * loss
            value = average / (1 - smoothing ** t)
            taken.append(float(lr))
            smoothed.append(value)
            raw.append(loss)
            best = min(best, value)
            if value > 4 * best:
                break
    finally:
        model.load_state_dict(saved)
    best_lr = taken[int(np.argmin(smoothed))] if taken else lr_min
    return {"lrs": np.array(taken), "losses": np.array(smoothed), "raw": np.array(raw), "best_lr": best_lr,
            "suggested_lr": best_lr / 10}


# ----------------------------------------------------------------------------
# Pictures

def plot_layer_histograms(outputs: dict, *, bins: int = 41, path=None):
    """One row of histograms per setting: ``{"std 0.01": [one array per layer], "He": [...]}``.

    Every panel of a row shares the x range of the row's first layer (three of
    its standard deviations either side of 0), so a signal that shrinks becomes
    a spike at 0 and one that grows piles up at the edges (values outside the
    range are counted in the end bins). Each title gives the layer's std.
    """
    require(isinstance(outputs, dict) and outputs, "plot_layer_histograms",
            "outputs must be a non-empty dict {setting: list of arrays}", f"{type(outputs).__name__}", TypeError)
    cols = max(len(v) for v in outputs.values())
    fig, axes = plt.subplots(len(outputs), cols, figsize=(1.45 * cols, 1.5 * len(outputs)), squeeze=False,
                             sharey="row")
    for r, (setting, arrays) in enumerate(outputs.items()):
        limit = 3 * float(np.std(arrays[0]))
        edges = np.linspace(-limit, limit, bins + 1)
        for c in range(cols):
            ax = axes[r, c]
            ax.set_yticks([])
            if c >= len(arrays):
                ax.axis("off")
                continue
            values = np.asarray(arrays[c], np.float64).ravel()
            ax.hist(np.clip(values, -limit, limit), bins=edges, color="tab:blue")
            ax.set_title(f"layer {c + 1}: std {values.std():.1e}", fontsize=7)
            ax.set_xticks([-limit, 0, limit], [f"{-limit:.2g}", "0", f"{limit:.2g}"], fontsize=6)
        axes[r, 0].set_ylabel(setting, fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


def plot_layer_statistics(rows, *, path=None):
    """Four panels from ``layer_statistics``: output std, fraction of zeros, gradient std, and ``|dW| / |W|``.

    ``rows`` is one network's list, or ``{name: list}`` for networks of the same
    layers side by side (grouped bars, one colour each).
    """
    settings = rows if isinstance(rows, dict) else {"": rows}
    require(settings and all(isinstance(r, list) and r for r in settings.values()), "plot_layer_statistics",
            "rows must be layer_statistics' list, or a dict of such lists", f"{type(rows).__name__}", TypeError)
    labels = [r["layer"] for r in next(iter(settings.values()))]
    width = 0.8 / len(settings)
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    panels = [("std", "std of the layer's output", True), ("zeros", "fraction of outputs that are 0", False),
              ("grad_std", "std of the gradient at its output", True), ("update_ratio", "|dW| / |W|", True)]
    for ax, (key, title, log) in zip(axes, panels):
        for k, (name, setting) in enumerate(settings.items()):
            ax.bar(np.arange(len(setting)) + (k - (len(settings) - 1) / 2) * width,
                   [r[key] or 0.0 for r in setting], width, label=name or None)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(labels)), labels, rotation=70, fontsize=7)
        if log:
            ax.set_yscale("log")
    if len(settings) > 1:
        axes[1].legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)


def plot_lr_range(result: dict, *, path=None):
    """The loss against the learning rate (log scale), with the suggested rate marked."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(result["lrs"], result["raw"], color="0.75", lw=0.8, label="minibatch loss")
    ax.plot(result["lrs"], result["losses"], color="tab:blue", label="smoothed")
    ax.axvline(result["suggested_lr"], color="tab:green", ls="--",
               label=f"suggested {result['suggested_lr']:.2g} (lowest / 10)")
    ax.axvline(result["best_lr"], color="tab:red", ls=":", label=f"lowest loss at {result['best_lr']:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_ylim(0, min(float(np.max(result["raw"])), 4 * float(np.min(result["losses"])) + 0.5) * 1.05)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig, path)
