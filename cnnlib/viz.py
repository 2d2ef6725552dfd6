"""Pictures of training and of what a trained CNN has learned (chapters 08 and 09).

Every ``plot_*`` function returns a matplotlib Figure, and also writes it as a
PNG when given ``path=``. In a notebook, end the cell with ``plt.show()``.

The computations behind the pictures are plain functions here too, so the
widgets (``cnnlib.widgets``) and the tests use them without drawing:
``activations`` (run the layers up to an index), ``predict_proba``,
``saliency_map`` (the signed gradient of a class score with respect to the
input, through the model's own backward passes), ``gradient_x_input`` and
``smoothgrad`` (two variants of it), ``confusion_matrix`` and
``most_confident_mistakes``.

A "model" is a ``Sequential`` (anything with a ``layers`` list whose items
have ``forward``/``backward``/``train``/``eval``). A conv layer is any layer
with a 4-D ``params["weight"]`` of shape (C_out, C_in, kH, kW), so your own
layer classes count too.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np

from .core.validation import check_array, check_int, require

# Diverging colours for signed values (filters, kernels): red > 0, blue < 0, white 0.
SIGNED_CMAP = "RdBu_r"


# ----------------------------------------------------------------------------
# Looking a model over

def _layers(func: str, model) -> list:
    require(hasattr(model, "layers"), func, "model must be a Sequential (an object with a `layers` list)",
            f"model of type {type(model).__name__}", TypeError)
    return list(model.layers)


def is_conv(layer) -> bool:
    """True for a layer that owns a 4-D weight (C_out, C_in, kH, kW)."""
    weight = getattr(layer, "params", {}).get("weight")
    return isinstance(weight, np.ndarray) and weight.ndim == 4


def conv_layer_indices(model, func: str = "conv_layer_indices") -> list[int]:
    """Indices of the conv layers of ``model``; a clear ValueError when there is none."""
    layers = _layers(func, model)
    found = [i for i, layer in enumerate(layers) if is_conv(layer)]
    require(bool(found), func, "model has no conv layer (a layer with a 4-D weight (C_out, C_in, kH, kW))",
            f"model with layers {layers}")
    return found


def layer_label(model, index: int) -> str:
    """``"3: Conv2d(32, 64, kernel_size=3, padding=1)"``."""
    return f"{index}: {model.layers[index]!r}"


def check_layer_index(func: str, model, layer) -> int:
    """Check that ``layer`` indexes a layer of ``model``; the message names the valid range."""
    n = len(_layers(func, model))
    require(isinstance(layer, (int, np.integer)) and not isinstance(layer, bool) and 0 <= layer < n, func,
            f"layer must be a layer index in 0..{n - 1} (the model has {n} layers)", f"layer={layer!r}")
    return int(layer)


def as_batch(func: str, model, image) -> np.ndarray:
    """One image as a batch of one, (1, C_in, H, W), checked against the model's first conv layer.

    ``image`` may be (C_in, H, W), or (H, W) when the model takes one channel.
    """
    check_array(func, "image", image)
    first = model.layers[conv_layer_indices(model, func)[0]]
    C_in = first.params["weight"].shape[1]
    if image.ndim == 2 and C_in == 1:
        image = image[None]  # (1, H, W)
    require(image.ndim == 3 and image.shape[0] == C_in, func,
            f"image must be one image of shape (C_in, H, W) with C_in={C_in}, the input channels of the "
            f"first conv layer" + (" (or (H, W))" if C_in == 1 else "")
            + "; to pass a batch, pick one image: images[i]", f"image.shape={image.shape}")
    require(np.issubdtype(image.dtype, np.floating), func, "image must have a floating dtype",
            f"image.dtype={image.dtype}", TypeError)
    # layers want inputs of their own dtype (float32 by default): convert, for convenience
    return image[None].astype(first.params["weight"].dtype, copy=False)  # (1, C_in, H, W)


@contextmanager
def eval_mode(model):
    """Run ``model`` in evaluation mode, then put every layer back as it was."""
    was = [layer.training for layer in model.layers]
    was_model = getattr(model, "training", None)
    model.eval()
    try:
        yield model
    finally:
        for layer, training in zip(model.layers, was):
            layer.train() if training else layer.eval()
        if was_model is not None:
            model.training = was_model


# ----------------------------------------------------------------------------
# What the pictures show, computed

def activations(model, image, layer: int, func: str = "activations") -> np.ndarray:
    """The output of layer ``layer`` for one image: run layers 0..layer in eval mode.

    Parameters
    ----------
    model : Sequential with at least one conv layer
    image : ndarray, shape (C_in, H, W) or (H, W)
    layer : int
        Index into ``model.layers``, 0..len(model.layers)-1.

    Returns
    -------
    ndarray, shape (C, H', W') for a spatial layer, (D,) after Flatten/Linear.
    """
    layer = check_layer_index(func, model, layer)
    x = as_batch(func, model, image)
    with eval_mode(model):
        for lay in model.layers[:layer + 1]:
            x = lay.forward(x)
    return x[0].copy()  # a copy: a layer may reuse its output memory on the next call


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)  # stable: the largest logit becomes 0
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predict_proba(model, images, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (softmax of the logits) for a batch, in eval mode.

    Parameters
    ----------
    images : ndarray, shape (N, C_in, H, W)

    Returns
    -------
    probs : ndarray, shape (N, num_classes)
    """
    check_array("predict_proba", "images", images, 4, "(N, C_in, H, W)", floating=True)
    weights = [layer.params["weight"] for layer in _layers("predict_proba", model) if "weight" in layer.params]
    if weights:
        images = images.astype(weights[0].dtype, copy=False)  # the layers' dtype (float32 by default)
    with eval_mode(model):
        # (copies: a layer may reuse its output memory on the next call)
        logits = [model.forward(images[i:i + batch_size]).copy() for i in range(0, len(images), batch_size)]
    return _softmax(np.concatenate(logits).astype(np.float64))


def saliency_map(model, image, target: int) -> np.ndarray:
    """Gradient of the score (logit) of class ``target`` with respect to the input image, signed.

    One forward and one backward pass of the model itself, in eval mode: the
    upstream gradient is 1 at the target logit and 0 elsewhere, so ``dx`` is
    d score / d pixel. Large magnitudes mark pixels whose change would move
    the score most; the sign says which way: > 0 where a brighter pixel (more
    ink, on MNIST) raises the score, < 0 where it lowers it. Take ``np.abs``
    for the classic saliency map. (The backward pass overwrites the layers'
    ``grads``.)

    Parameters
    ----------
    model : Sequential with at least one conv layer, ending in class logits
    image : ndarray, shape (C_in, H, W) or (H, W)
    target : int
        Class index, 0..num_classes-1.

    Returns
    -------
    ndarray, same shape as ``image``
    """
    x = as_batch("saliency_map", model, image)
    with eval_mode(model):
        scores = model.forward(x)  # (1, num_classes)
        K = scores.shape[-1]
        require(scores.ndim == 2 and isinstance(target, (int, np.integer)) and 0 <= target < K, "saliency_map",
                f"target must be a class index in 0..{K - 1}", f"target={target!r}")
        dscores = np.zeros_like(scores)
        dscores[0, target] = 1
        dx = model.backward(dscores)  # (1, C_in, H, W)
    return dx[0].reshape(image.shape).copy()


def gradient_x_input(model, image, target: int) -> np.ndarray:
    """Gradient times input, ``image * saliency_map(model, image, target)``, same shape as ``image``.

    Each pixel's first-order share of the score: where the image is 0 (blank
    paper) it is 0, whatever the gradient, so it shows how the ink that *is*
    there counts for (> 0) or against (< 0) class ``target``.
    """
    grad = saliency_map(model, image, target)
    return image.astype(grad.dtype, copy=False) * grad


def _is_real(value) -> bool:
    """A finite real number (not a bool)."""
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_rng(func: str, rng) -> np.random.Generator:
    ok = isinstance(rng, np.random.Generator) or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool))
    require(ok, func, "rng must be a np.random.Generator or an int seed", f"rng of type {type(rng).__name__}",
            TypeError)
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def smoothgrad(model, image, target: int, *, n: int = 50, sigma: float = 0.15, rng=0) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): the gradient averaged over ``n`` noisy copies of the image.

    ``mean_i saliency_map(model, image + sigma * z_i, target)`` with ``z_i`` standard
    normal noise. The gradient of a ReLU network jumps from pixel to pixel; the
    average keeps what holds in a neighbourhood of the image. ``sigma=0`` gives
    ``saliency_map`` exactly.

    Parameters
    ----------
    image : ndarray, shape (C_in, H, W) or (H, W)
    target : int
        Class index.
    n : int
        >= 1, the number of noisy copies.
    sigma : float
        >= 0, the standard deviation of the noise, in pixel units (MNIST pixels are in [0, 1]).
    rng : np.random.Generator or int seed
        The noise's generator (seeded by default, so the map is reproducible).

    Returns
    -------
    ndarray, same shape as ``image``
    """
    n = check_int("smoothgrad", "n", n, 1)
    require(_is_real(sigma) and sigma >= 0, "smoothgrad", "sigma must be a number >= 0", f"sigma={sigma!r}")
    rng = _check_rng("smoothgrad", rng)
    check_array("smoothgrad", "image", image, floating=True)
    total = np.zeros(image.shape, np.float64)
    for _ in range(n):
        noisy = image + (sigma * rng.standard_normal(image.shape)).astype(image.dtype)
        total += saliency_map(model, noisy, target)
    return (total / n).astype(image.dtype)


SALIENCY_METHODS = {"gradient": saliency_map, "gradient_x_input": gradient_x_input, "smoothgrad": smoothgrad}


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[t, p]`` of digits of true class t predicted as p, shape (K, K)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    require(y_true.shape == y_pred.shape and y_true.ndim == 1, "confusion_matrix",
            "y_true and y_pred must be 1-D and of the same length",
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}")
    require(np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer), "confusion_matrix",
            "labels must be integers", f"y_true.dtype={y_true.dtype}, y_pred.dtype={y_pred.dtype}", TypeError)
    K = num_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0))) + 1
    require(y_true.min(initial=0) >= 0 and y_pred.min(initial=0) >= 0 and y_true.max(initial=0) < K
            and y_pred.max(initial=0) < K, "confusion_matrix", f"labels must be in 0..{K - 1}",
            f"y_true in {y_true.min(initial=0)}..{y_true.max(initial=0)}, "
            f"y_pred in {y_pred.min(initial=0)}..{y_pred.max(initial=0)}")
    return np.bincount(y_true * K + y_pred, minlength=K * K).reshape(K, K)


def most_confident_mistakes(probs, labels, n: int) -> np.ndarray:
    """Indices of the (at most n) wrongly classified items, most confident first."""
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != labels)
    order = np.argsort(-probs[wrong, pred[wrong]], kind="stable")
    return wrong[order[:n]]


# ----------------------------------------------------------------------------
# Drawing

def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def _grid(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _history_dict(history) -> dict:
    if isinstance(history, Mapping):
        return dict(history)
    if isinstance(getattr(history, "history", None), Mapping):
        return dict(history.history)
    raise TypeError("plot_history: history must be a History (from Trainer.fit) or a dict of lists. "
                    f"Received: history of type {type(history).__name__}")


def plot_history(history, *, path=None):
    """Loss and accuracy per epoch, training (solid) against validation (dashed).

    Parameters
    ----------
    history : History from ``Trainer.fit``, or a dict of lists with keys
        ``loss``, ``accuracy``, and optionally ``val_loss``, ``val_accuracy``
        (``train_loss``/``train_accuracy`` work too).
    """
    h = _history_dict(history)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        drawn = False
        for key, label, style in ((metric, "train", "-"), ("train_" + metric, "train", "-"),
                                  ("val_" + metric, "validation", "--")):
            values = np.array([np.nan if v is None else v for v in h.get(key) or []], dtype=float)
            if np.isfinite(values).any():  # a History holds None for epochs without the metric
                ax.plot(np.arange(1, len(values) + 1), values, style, marker="o", label=label)
                drawn = True
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend()
            ax.xaxis.get_major_locator().set_params(integer=True)
    require(any(ax.lines for ax in axes), "plot_history", "history must hold a list under `loss` or `accuracy`",
            f"keys {sorted(h)}")
    fig.tight_layout()
    return _finish(fig, path)


def plot_confusion_matrix(y_true, y_pred, class_names=None, *, path=None):
    """The confusion matrix with its counts written in the cells.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
    class_names : list of str, optional (default: "0", "1", ...)
    """
    K = len(class_names) if class_names is not None else None
    cm = confusion_matrix(y_true, y_pred, K)
    K = len(cm)
    names = [str(c) for c in (class_names if class_names is not None else range(K))]
    fig, ax = plt.subplots(figsize=(0.42 * K + 1.6, 0.42 * K + 1.2))
    ax.imshow(cm, cmap="Blues")
    for t in range(K):
        for p in range(K):
            # white text on the dark cells (the diagonal), black elsewhere
            ax.text(p, t, str(cm[t, p]), ha="center", va="center", fontsize=8,
                    color="white" if cm[t, p] > cm.max() / 2 else "black")
    ax.set_xticks(range(K), names)
    ax.set_yticks(range(K), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"Confusion matrix ({cm.sum():,} digits, accuracy {accuracy:.2%})")
    fig.tight_layout()
    return _finish(fig, path)


def conv_filters(model_or_weight, layer: int | None = None, func: str = "conv_filters"):
    """``(weight, title)``: the filters of a conv layer (the first by default), or a weight array."""
    if isinstance(model_or_weight, np.ndarray):
        weight = check_array(func, "weight", model_or_weight, 4, "(C_out, C_in, kH, kW)")
        return weight, f"{weight.shape[0]} filters"
    convs = conv_layer_indices(model_or_weight, func)
    if layer is None:
        layer = convs[0]
    layer = check_layer_index(func, model_or_weight, layer)
    require(layer in convs, func, f"layer must be the index of a conv layer: one of {convs}",
            f"layer={layer} ({model_or_weight.layers[layer]!r})")
    return model_or_weight.layers[layer].params["weight"], f"layer {layer_label(model_or_weight, layer)}"


def plot_filters(model_or_weight, layer: int | None = None, *, channel: int | None = None,
                 max_filters: int = 64, cols: int = 8, vmax: float | None = None, path=None):
    """A grid of the learned filters of a conv layer.

    Parameters
    ----------
    model_or_weight : Sequential, or ndarray of shape (C_out, C_in, kH, kW)
    layer : int, optional
        Index of a conv layer in ``model.layers`` (default: the first conv layer).
    channel : int, optional
        Which input channel of each filter to show. By default a 3-channel
        layer is shown in colour (each filter scaled to 0..1 as an RGB patch)
        and any other layer shows input channel 0.
    max_filters : int
        Show at most this many filters (the first ones).
    vmax : float, optional
        > 0, the end of the colour scale, -vmax (blue) to vmax (red); by default
        the largest |weight| shown. Pass the same value to compare two layers
        (e.g. before and after training) on one scale.

    Single channels share one colour scale (red positive, blue negative), so
    strong and weak filters can be compared.
    """
    weight, title = conv_filters(model_or_weight, layer, "plot_filters")
    C_out, C_in, kH, kW = weight.shape
    rgb = channel is None and C_in == 3
    if not rgb:
        channel = 0 if channel is None else channel
        require(isinstance(channel, (int, np.integer)) and 0 <= channel < C_in, "plot_filters",
                f"channel must be an input channel in 0..{C_in - 1}", f"channel={channel!r}")
    require(vmax is None or (_is_real(vmax) and vmax > 0), "plot_filters", "vmax must be a number > 0 (or None)",
            f"vmax={vmax!r}")
    n = min(C_out, max_filters)
    rows, cols = _grid(n, cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols + 0.8, 1.1 * rows + 0.7), squeeze=False)
    if not rgb and vmax is None:
        vmax = float(np.abs(weight[:n, channel]).max()) or 1.0  # one symmetric scale for all
    for k, ax in enumerate(axes.flat):
        _bare(ax)
        if k >= n:
            ax.axis("off")
            continue
        if rgb:
            w = weight[k].transpose(1, 2, 0)  # (kH, kW, 3)
            w = (w - w.min()) / (np.ptp(w) or 1.0)
            im = ax.imshow(w)
        else:
            im = ax.imshow(weight[k, channel], cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)
        ax.set_title(str(k), fontsize=8, pad=2)
    which = "RGB" if rgb else f"input channel {channel} of {C_in}"
    fig.suptitle(f"Filters of {title}\n{n} of {C_out} filters ({kH}x{kW}), {which}", fontsize=10)
    if not rgb:
        fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    return _finish(fig, path)


def plot_feature_maps(model, image, layer: int, *, max_channels: int = 32, cols: int = 8, path=None):
    """The feature maps that layer ``layer`` computes for one image (the first ``max_channels``).

    Runs layers 0..layer in eval mode. Spatial outputs (C, H', W') are drawn as
    a grid of images on one colour scale (so a dead channel looks uniformly
    dark); flat outputs (after Flatten or Linear) as a bar or line plot.

    Parameters
    ----------
    model : Sequential with at least one conv layer
    image : ndarray, shape (C_in, H, W) or (H, W)
    layer : int
        Index into ``model.layers``.
    """
    act = activations(model, image, layer, "plot_feature_maps")
    title = f"Output of layer {layer_label(model, layer)}, shape {act.shape}"
    picture = image if image.ndim == 2 else (image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
    if act.ndim == 1:
        fig, (ax0, ax) = plt.subplots(1, 2, figsize=(10, 2.8), gridspec_kw={"width_ratios": [1, 4]})
        ax0.imshow(picture, cmap="gray")
        ax0.set_title("input")
        _bare(ax0)
        if len(act) <= 256:
            ax.bar(np.arange(len(act)), act)
        else:
            ax.plot(np.arange(len(act)), act, lw=0.8)
        ax.set_xlabel("feature")
        ax.set_ylabel("value")
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        return _finish(fig, path)
    n = min(len(act), max_channels)
    rows, cols = _grid(n, cols)
    # the input in a column of its own on the left, the channels in a grid to its right
    fig, axes = plt.subplots(rows, cols + 1, figsize=(1.3 * cols + 2.2, 1.35 * rows + 0.6), squeeze=False)
    axes[0, 0].imshow(picture, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8, pad=2)
    _bare(axes[0, 0])
    for ax in axes[1:, 0]:
        ax.axis("off")
    vmin, vmax = float(act[:n].min()), float(act[:n].max())
    for k, ax in enumerate(axes[:, 1:].flat):
        _bare(ax)
        if k < n:
            im = ax.imshow(act[k], cmap="viridis", vmin=vmin, vmax=vmax)
            ax.set_title(f"ch {k}", fontsize=8, pad=2)
        else:
            ax.axis("off")
    fig.suptitle(f"{title}\n(first {n} of {len(act)} channels, one colour scale)", fontsize=10)
    fig.colorbar(im, ax=axes[:, 1:], shrink=0.8)
    return _finish(fig, path)


def _probs_for(func, model, images, probs):
    check_array(func, "images", images, 4, "(N, C_in, H, W)", floating=True)
    if probs is None:
        probs = predict_proba(model, images)
    require(probs.shape[0] == len(images), func, "probs must have one row per image",
            f"probs.shape={probs.shape}, images.shape={images.shape}")
    return probs


def _show_image(ax, image):
    ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0), cmap="gray")
    _bare(ax)


def plot_predictions(model, images, labels=None, *, n: int = 8, probs=None, path=None):
    """The first ``n`` digits with the predicted probabilities as small bar charts.

    The predicted class's bar is green when right, red when wrong (blue without labels).

    Parameters
    ----------
    images : ndarray, shape (N, C_in, H, W)
    labels : ndarray of int, shape (N,), optional
    probs : ndarray, shape (N, num_classes), optional
        Precomputed probabilities (otherwise ``predict_proba(model, images)``).
    """
    probs = _probs_for("plot_predictions", model, images, probs)
    n = min(n, len(images))
    K = probs.shape[1]
    fig, axes = plt.subplots(2, n, figsize=(1.35 * n + 0.4, 3.3), squeeze=False,
                             gridspec_kw={"height_ratios": [1.2, 1]})
    for i in range(n):
        pred = int(probs[i].argmax())
        right = None if labels is None else bool(pred == labels[i])
        colour = "tab:blue" if right is None else ("tab:green" if right else "tab:red")
        _show_image(axes[0, i], images[i])
        axes[0, i].set_title(f"pred {pred} ({probs[i, pred]:.2f})" + ("" if labels is None else f"\ntrue {labels[i]}"),
                             fontsize=8, color="black" if right in (None, True) else "tab:red")
        ax = axes[1, i]
        bars = ax.bar(np.arange(K), probs[i], color="lightgray")
        bars[pred].set_color(colour)
        if right is False:
            bars[labels[i]].set(edgecolor="black", linewidth=1.2)  # the true class, outlined
        ax.set_ylim(0, 1)
        ax.set_xticks(range(K), [str(k) for k in range(K)], fontsize=6)
        ax.tick_params(axis="y", labelsize=6)
        if i:
            ax.set_yticklabels([])
    axes[1, 0].set_ylabel("probability", fontsize=8)
    fig.suptitle("Predictions: probability of each class", fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def plot_misclassified(model, images, labels, *, n: int = 12, cols: int = 6, probs=None, path=None):
    """The ``n`` most confidently misclassified digits, with true class, prediction and its probability."""
    probs = _probs_for("plot_misclassified", model, images, probs)
    labels = np.asarray(labels)
    require(labels.shape == (len(images),), "plot_misclassified", "labels must have one entry per image",
            f"labels.shape={labels.shape}, images.shape={images.shape}")
    worst = most_confident_mistakes(probs, labels, n)
    wrong = int((probs.argmax(axis=1) != labels).sum())
    rows, cols = _grid(max(len(worst), 1), cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.75 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, worst):
        pred = int(probs[i].argmax())
        _show_image(ax, images[i])
        ax.axis("on")
        ax.set_title(f"true {labels[i]}, pred {pred}\np = {probs[i, pred]:.2f}", fontsize=8)
    if not len(worst):
        axes[0, 0].text(0.5, 0.5, "no misclassified digits", ha="center", va="center")
    fig.suptitle(f"Most confident mistakes: {len(worst)} of {wrong:,} misclassified (of {len(images):,} digits)",
                 fontsize=10)
    fig.tight_layout()
    return _finish(fig, path)


def plot_saliency(model, images, targets=None, *, method: str = "gradient", signed: bool = False, path=None):
    """Images with their saliency maps below them.

    Parameters
    ----------
    images : ndarray, shape (N, C_in, H, W) (a few images) or one image (C_in, H, W)
    targets : list of int, optional
        The class whose score is differentiated, per image (default: the predicted class).
    method : "gradient" (``saliency_map``), "gradient_x_input" or "smoothgrad"
        (with its defaults), see ``SALIENCY_METHODS``.
    signed : bool
        False: |map| (largest over channels), each map on its own scale, black
        to white. True: the signed map (summed over channels) on a diverging
        scale centred at 0 and shared by all maps: red where more ink (a brighter
        pixel) raises the class score, blue where it lowers it.
    """
    images = check_array("plot_saliency", "images", images)
    if images.ndim == 3:
        images = images[None]
    require(images.ndim == 4, "plot_saliency", "images must be (N, C_in, H, W) or one image (C_in, H, W)",
            f"images.shape={images.shape}")
    require(method in SALIENCY_METHODS, "plot_saliency", f"method must be one of {sorted(SALIENCY_METHODS)}",
            f"method={method!r}")
    probs = predict_proba(model, images)
    if targets is None:
        targets = probs.argmax(axis=1)
    require(len(targets) == len(images), "plot_saliency", "targets must have one class per image",
            f"len(targets)={len(targets)}, len(images)={len(images)}")
    maps = [SALIENCY_METHODS[method](model, image, int(target)) for image, target in zip(images, targets)]
    maps = [m.sum(axis=0) if signed else np.abs(m).max(axis=0) for m in maps]  # (H, W) each
    vmax = max(float(np.abs(m).max()) for m in maps) or 1.0  # one symmetric scale for the signed maps
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n + (1.4 if signed else 0.6), 3.8), squeeze=False)
    for i, (image, target, m) in enumerate(zip(images, targets, maps)):
        _show_image(axes[0, i], image)
        axes[0, i].set_title(f"class {target}\np = {probs[i, target]:.2f}", fontsize=8)
        if signed:
            im = axes[1, i].imshow(m, cmap=SIGNED_CMAP, vmin=-vmax, vmax=vmax)
        else:
            axes[1, i].imshow(m, cmap="hot")
        _bare(axes[1, i])
    what = {"gradient": "d score / d pixel", "gradient_x_input": "pixel * d score / d pixel",
            "smoothgrad": "SmoothGrad"}[method]
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel(what if signed else f"|{what}|", fontsize=8)
    fig.suptitle("Saliency: red = more ink raises the class score, blue = lowers it" if signed else
                 "Saliency: where a small change moves the class score most", fontsize=10)
    fig.tight_layout()
    fig.subplots_adjust(hspace=0.3)  # keep each map apart from the image above it
    if signed:  # beside both rows, so that the maps stay as wide as the images above them
        fig.colorbar(im, ax=axes, shrink=0.45, anchor=(0.0, 0.05), label=what)
    return _finish(fig, path)
