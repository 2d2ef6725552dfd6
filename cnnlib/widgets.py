"""Interactive widgets: a kernel playground (chapter 01), views inside a trained CNN (chapter 09) and
the statistics of every layer of a deep network as its initialization changes (chapter 10).

Each widget is three layers, so that everything but the wiring is testable
without a browser:

- ``<name>_state(...)`` computes what the widget shows for one setting of its
  controls and returns a dict of arrays and strings (it raises a clear
  ValueError on bad input);
- ``<name>_figure(state)`` draws that dict (a matplotlib Figure);
- ``<name>(...)`` builds the ipywidgets controls and redraws on every change.

A widget never shows a traceback: when the state function raises (a layer
index out of range, an image of the wrong shape, a kernel that is not square,
your exercise not written yet), the message appears where the picture was,
and the next change of a control draws again. ``widget.update(**values)``
redraws with some controls overridden; the tests use it to feed bad input.
"""
from __future__ import annotations

import html
import io

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np

from . import diagnostics, ops
from .exercises import ExerciseFileError, get_exercise, note_reference, reference, strict
from .core.validation import require
from .viz import (SIGNED_CMAP, activations, as_batch, conv_filters, conv_layer_indices,
                  layer_label, plot_filters, predict_proba)

# ----------------------------------------------------------------------------
# The widget machinery


def figure_png(fig) -> bytes:
    """The figure as PNG bytes; the figure is closed (so a notebook does not show it again)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class Explorer(ipw.VBox):
    """Rows of controls above a picture, redrawn whenever a control changes.

    Parameters
    ----------
    rows : list of widgets
        What is shown above the picture (controls, labels, boxes of controls).
    controls : dict of name -> widget
        The controls whose ``value`` is passed to ``draw`` under their name.
    draw : callable(**values) -> Figure
        Raises on bad input; the message is shown instead of the picture.
    """

    def __init__(self, rows, controls: dict, draw):
        super().__init__()
        self.controls, self._draw, self._busy = controls, draw, False
        self.picture = ipw.Image(format="png")
        self.message = ipw.HTML()
        self.children = [*rows, self.message, self.picture]
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _changed(self, change) -> None:
        if not self._busy:  # ignore the changes ``draw`` makes to controls itself
            self.update()

    def update(self, **overrides) -> bool:
        """Redraw with the controls' values, some replaced by ``overrides``; False on bad input."""
        self._busy = True
        before = set(plt.get_fignums())
        try:
            png = figure_png(self._draw(**{**self.values(), **overrides}))
        except Exception as e:  # the learner's code may raise anything: show it, keep going
            for num in set(plt.get_fignums()) - before:
                plt.close(num)  # a half-drawn figure would pop up under the next cell
            self.message.value = ('<pre style="color:#b00020; white-space:pre-wrap; font-size:0.9em">'
                                  f"{html.escape(f'{type(e).__name__}: {e}')}</pre>")
            self.picture.layout.display = "none"
            return False
        finally:
            self._busy = False
        self.picture.value = png
        self.picture.layout.display = None
        self.message.value = ""
        return True


def _pick(func: str, images, index: int) -> np.ndarray:
    require(isinstance(images, np.ndarray) and images.ndim >= 3, func,
            "images must be an array of images, (N, C, H, W) or (N, H, W)",
            f"images of type {type(images).__name__}"
            + (f", shape {images.shape}" if isinstance(images, np.ndarray) else ""), TypeError)
    require(isinstance(index, (int, np.integer)) and 0 <= index < len(images), func,
            f"index must be an image index in 0..{len(images) - 1}", f"index={index!r}")
    return images[index]


def _slider(description: str, maximum: int, value: int = 0) -> ipw.IntSlider:
    return ipw.IntSlider(value=value, min=0, max=max(maximum, 0), description=description,
                         continuous_update=False, style={"description_width": "initial"})


def _picture(image: np.ndarray) -> np.ndarray:
    """A (C, H, W) or (H, W) image as something imshow draws: (H, W) or (H, W, 3)."""
    if image.ndim == 2:
        return image
    return image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


# ----------------------------------------------------------------------------
# Kernel playground (chapter 01)

def classic_kernels(size: int = 3) -> dict[str, np.ndarray]:
    """Hand-made kernels of ``size`` 3 or 5, by name (the first one is the identity).

    The Sobel and Gaussian kernels are built from a smoothing row ``s`` (binomial
    coefficients) and a difference row ``d``: Sobel x is ``outer(s, d)``.
    """
    require(size in (3, 5), "classic_kernels", "size must be 3 or 5", f"size={size!r}")
    s = np.array([1, 2, 1] if size == 3 else [1, 4, 6, 4, 1], dtype=float)
    d = np.array([-1, 0, 1] if size == 3 else [-1, -2, 0, 2, 1], dtype=float)
    identity = np.zeros((size, size))
    identity[size // 2, size // 2] = 1
    gauss = np.outer(s, s) / s.sum() ** 2
    kernels = {"identity": identity, "Sobel x": np.outer(s, d), "Sobel y": np.outer(d, s),
               "blur": np.full((size, size), 1 / size**2), "Gaussian blur": gauss}
    if size == 3:
        kernels["sharpen"] = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
        kernels["Laplacian (edges)"] = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], dtype=float)
        kernels["emboss"] = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float)
    else:
        kernels["sharpen"] = 2 * identity - gauss  # the image plus its difference from the blur
        kernels["Laplacian of Gaussian"] = np.array([[0, 0, -1, 0, 0], [0, -1, -2, -1, 0], [-1, -2, 16, -2, -1],
                                                     [0, -1, -2, -1, 0], [0, 0, -1, 0, 0]], dtype=float)
    return kernels


def _cross_correlate(x, weight, padding):
    """Your conv2d_forward (exercise 2.3) or, until it is written, your conv2d_naive (1.2), else the reference."""
    with strict():
        try:
            return ops.conv2d_forward(x, weight, None, 1, padding)[0], "conv2d_forward"
        except (NotImplementedError, ExerciseFileError):
            pass
        try:
            return ops.conv2d_naive(x, weight, None, 1, padding), "conv2d_naive"
        except (NotImplementedError, ExerciseFileError):
            pass
    note_reference(get_exercise("conv2d_naive"), "and 2.3 conv2d_forward are not started")
    return reference("conv2d_forward")(x, weight, None, 1, padding)[0], "the reference conv2d_forward"


def kernel_playground_state(image, kernel, padding: int = 0) -> dict:
    """The cross-correlation of one grey image with one kernel, as the playground shows it.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (1, H, W)
    kernel : array-like, shape (k, k)
        A square 2-D kernel.
    padding : int
        Zeros added on each side (``k // 2`` keeps the size).

    Returns
    -------
    dict
        ``image`` (H, W), ``kernel`` (k, k), ``output`` (H_out, W_out), ``computed_by``
        (which of your functions ran), ``title`` and ``stats`` (strings).
    """
    func = "kernel_playground_state"
    require(isinstance(image, np.ndarray) and (image.ndim == 2 or image.ndim == 3 and image.shape[0] == 1), func,
            "image must be one grey image, (H, W) or (1, H, W)",
            f"image.shape={getattr(image, 'shape', type(image).__name__)}")
    require(np.issubdtype(image.dtype, np.floating), func, "image must have a floating dtype",
            f"image.dtype={image.dtype}", TypeError)
    image = image.reshape(image.shape[-2:])  # (H, W)
    kernel = np.asarray(kernel, dtype=image.dtype)
    require(kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1], func,
            "kernel must be a square 2-D array (k, k)", f"kernel.shape={kernel.shape}")
    require(bool(np.isfinite(kernel).all()), func, "kernel values must be finite numbers",
            f"kernel=\n{kernel}")
    out, computed_by = _cross_correlate(image[None, None], kernel[None, None], padding)  # (1, 1, H_out, W_out)
    out = out[0, 0]
    k = kernel.shape[0]
    return {"image": image, "kernel": kernel, "output": out, "computed_by": computed_by,
            "title": f"{k}x{k} kernel, padding {padding}: {image.shape[0]}x{image.shape[1]} -> "
                     f"{out.shape[0]}x{out.shape[1]}",
            "stats": f"output min {out.min():.3f}, max {out.max():.3f}, mean {out.mean():.3f}"}


def kernel_playground_figure(state: dict):
    """Image | kernel (with its numbers) | output, on a signed colour scale."""
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.4), gridspec_kw={"width_ratios": [1, 0.8, 1.2]})
    axes[0].imshow(state["image"], cmap="gray")
    axes[0].set_title("image")
    kernel = state["kernel"]
    lim = float(np.abs(kernel).max()) or 1.0
    axes[1].imshow(kernel, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    if len(kernel) <= 5:
        for (u, v), val in np.ndenumerate(kernel):
            axes[1].text(v, u, f"{val:.3g}", ha="center", va="center", fontsize=8,
                         color="white" if abs(val) > 0.6 * lim else "black")
    axes[1].set_title("kernel")
    out = state["output"]
    lim = float(np.abs(out).max()) or 1.0
    im = axes[2].imshow(out, cmap=SIGNED_CMAP, vmin=-lim, vmax=lim)
    axes[2].set_title(f"output ({state['computed_by']})")
    fig.colorbar(im, ax=axes[2], shrink=0.85)
    for ax in axes:
        _bare(ax)
    fig.suptitle(f"{state['title']}\n{state['stats']}", fontsize=10)
    fig.tight_layout()
    return fig


class KernelPlayground(Explorer):
    """The widget ``kernel_playground`` returns (see there)."""

    def __init__(self, images):
        self._images = images
        self._grids = {k: [[ipw.FloatText(layout=ipw.Layout(width="5.5em")) for _ in range(k)] for _ in range(k)]
                       for k in (3, 5)}
        self._boxes = {k: ipw.VBox([ipw.HBox(row) for row in grid]) for k, grid in self._grids.items()}
        n = len(images) if hasattr(images, "__len__") else 1
        wide = {"description_width": "initial"}
        controls = {"index": _slider("digit", n - 1),
                    "size": ipw.ToggleButtons(options=[3, 5], description="size",
                                              style={**wide, "button_width": "4em"}),
                    "preset": ipw.Dropdown(options=list(classic_kernels(3)) + ["custom"], value="Sobel x",
                                           description="kernel", style=wide),
                    "same": ipw.Checkbox(value=True, description="pad with k // 2 zeros (same size)", style=wide,
                                         indent=False)}
        self._loading = False
        self._fill(3, "Sobel x")
        for k, grid in self._grids.items():
            for cell in (c for row in grid for c in row):
                cell.observe(self._edited, names="value")
        controls["size"].observe(self._resized, names="value")
        controls["preset"].observe(self._preset, names="value")
        rows = [ipw.HBox([controls["index"], controls["same"]]), ipw.HBox([controls["size"], controls["preset"]]),
                ipw.HBox([ipw.Label("weights:"), self._boxes[3], self._boxes[5]])]
        self._boxes[5].layout.display = "none"
        super().__init__(rows, controls, self._render)

    def kernel(self) -> np.ndarray:
        """The kernel in the grid of boxes now shown, (k, k)."""
        return np.array([[c.value for c in row] for row in self._grids[self.controls["size"].value]])

    def _fill(self, size, name):
        self._loading = True  # one redraw for the whole kernel, not one per box
        for row, values in zip(self._grids[size], classic_kernels(size)[name]):
            for cell, v in zip(row, values):
                cell.value = round(float(v), 4)
        self._loading = False

    def _edited(self, change):
        if not self._loading:
            self._loading = True
            self.controls["preset"].value = "custom"  # the grid no longer holds the named kernel
            self._loading = False
            self.update()

    def _preset(self, change):
        if change["new"] != "custom" and not self._loading:
            self._fill(self.controls["size"].value, change["new"])

    def _resized(self, change):
        size = change["new"]
        for k, box in self._boxes.items():
            box.layout.display = None if k == size else "none"
        self._loading = True
        self.controls["preset"].options = list(classic_kernels(size)) + ["custom"]
        self.controls["preset"].value = "Sobel x"
        self._loading = False
        self._fill(size, "Sobel x")

    def values(self) -> dict:
        return {**super().values(), "kernel": self.kernel()}

    def _changed(self, change):
        if not self._loading:
            super()._changed(change)

    def _render(self, index, kernel, same, **_):
        kernel = np.asarray(kernel)
        padding = kernel.shape[0] // 2 if same and kernel.ndim == 2 else 0
        return kernel_playground_figure(kernel_playground_state(_pick("kernel_playground", self._images, index),
                                                                kernel, padding))


def kernel_playground(images) -> KernelPlayground:
    """Edit a 3x3 or 5x5 kernel (or pick a classic one) and see its cross-correlation with a digit.

    The output is computed by your ``conv2d_forward`` (or, before chapter 02,
    your ``conv2d_naive``; before both, the reference's, with a note).

    Parameters
    ----------
    images : ndarray, shape (N, 1, H, W) or (N, H, W)

    Returns
    -------
    KernelPlayground (an ipywidgets VBox); display it as a cell's last line.
    ``.kernel()`` is the kernel in the boxes; ``.update(kernel=...)`` redraws with another.
    """
    return KernelPlayground(images)


# ----------------------------------------------------------------------------
# Feature maps (chapter 09)

def _stats(a: np.ndarray) -> str:
    return (f"min {a.min():.3f}, max {a.max():.3f}, mean {a.mean():.3f}, std {a.std():.3f}, "
            f"zeros {np.mean(a == 0):.0%}")


def feature_map_state(model, image, layer: int, channel: int = 0) -> dict:
    """What layer ``layer`` computes from ``image``, channel ``channel``.

    Parameters
    ----------
    model : Sequential with a conv layer
    image : ndarray, shape (C_in, H, W) or (H, W)
    layer : int
        Index into ``model.layers``.
    channel : int
        Channel of a spatial output (C, H', W'); ignored for a flat output (D,).

    Returns
    -------
    dict
        ``image`` (drawable input), ``activation`` (H', W') or (D,), ``channels`` (C, or 1
        for a flat output), ``shape`` of the whole layer output, ``title``, ``stats``.
    """
    act = activations(model, image, layer, "feature_map_state")
    if act.ndim == 3:
        C = act.shape[0]
        require(isinstance(channel, (int, np.integer)) and 0 <= channel < C, "feature_map_state",
                f"channel must be in 0..{C - 1} (layer {layer} has {C} channels)", f"channel={channel!r}")
        shown, where = act[channel], f"channel {channel} of {C}"
    else:
        C, shown, where = 1, act, f"{act.size} features"
    image = as_batch("feature_map_state", model, image)[0]
    return {"image": _picture(image), "activation": shown, "channels": C, "shape": act.shape,
            "title": f"layer {layer_label(model, layer)}\noutput {act.shape}, {where}",
            "stats": f"{where}: {_stats(shown)}\nwhole layer: {_stats(act)}"}


def feature_map_figure(state: dict):
    """Input | activation, with the statistics underneath."""
    act = state["activation"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.9), gridspec_kw={"width_ratios": [1, 1.25 if act.ndim == 2 else 2]})
    axes[0].imshow(state["image"], cmap="gray")
    axes[0].set_title("input")
    _bare(axes[0])
    if act.ndim == 2:
        im = axes[1].imshow(act, cmap="viridis")
        fig.colorbar(im, ax=axes[1], shrink=0.85)
        _bare(axes[1])
    else:
        axes[1].bar(np.arange(len(act)), act) if len(act) <= 256 else axes[1].plot(act, lw=0.8)
        axes[1].set_xlabel("feature")
    axes[1].set_title("activation")
    fig.suptitle(state["title"], fontsize=10)
    fig.text(0.5, 0.02, state["stats"], ha="center", va="bottom", fontsize=8.5, family="monospace")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def feature_map_explorer(model, images) -> Explorer:
    """Choose an image, a layer and a channel; see the input, the activation and its statistics.

    Parameters
    ----------
    model : Sequential with a conv layer
    images : ndarray, shape (N, C_in, H, W)
    """
    n_layers = len(getattr(model, "layers", []))
    controls = {"index": _slider("image", len(images) - 1), "layer": _slider("layer", n_layers - 1),
                "channel": _slider("channel", 0)}
    name = ipw.Label()

    def draw(index, layer, channel):
        image = _pick("feature_map_explorer", images, index)
        act = activations(model, image, layer, "feature_map_explorer")  # checks layer and image first
        name.value = layer_label(model, layer)
        C = act.shape[0] if act.ndim == 3 else 1
        box = controls["channel"]
        box.max, box.disabled = C - 1, C == 1  # (the Explorer ignores these changes)
        return feature_map_figure(feature_map_state(model, image, layer, min(channel, C - 1)))

    return Explorer([ipw.HBox([controls["index"], controls["layer"], controls["channel"]]), name], controls, draw)


# ----------------------------------------------------------------------------
# Filters (chapter 09)

def filter_viewer_state(model, layer: int | None = None, channel: int = 0) -> dict:
    """The filters of conv layer ``layer`` (default: the first) for input channel ``channel``.

    Returns
    -------
    dict
        ``filters`` (C_out, kH, kW), ``channels`` (C_in), ``layer`` (index), ``title``, ``stats``.
    """
    weight, title = conv_filters(model, layer, "filter_viewer_state")
    if layer is None:
        layer = conv_layer_indices(model)[0]
    C_in = weight.shape[1]
    require(isinstance(channel, (int, np.integer)) and 0 <= channel < C_in, "filter_viewer_state",
            f"channel must be an input channel in 0..{C_in - 1}", f"channel={channel!r}")
    filters = weight[:, channel]
    norms = np.sqrt((filters.astype(np.float64) ** 2).sum(axis=(1, 2)))
    return {"filters": filters, "channels": C_in, "layer": layer, "title": title,
            "stats": f"{len(filters)} filters, weight norms {norms.min():.3f}..{norms.max():.3f}"}


def filter_viewer(model) -> Explorer:
    """Choose a conv layer and an input channel; see all its filters as a grid."""
    try:
        convs = conv_layer_indices(model, "filter_viewer")
    except (TypeError, ValueError):
        convs = []  # the draw below raises the same error, shown as a message
    controls = {"layer": ipw.Dropdown(options=[(layer_label(model, i), i) for i in convs],
                                      description="conv layer", style={"description_width": "initial"}),
                "channel": _slider("input channel", 0)}

    def draw(layer, channel):
        state = filter_viewer_state(model, layer, 0)  # checks the model and the layer first
        box = controls["channel"]
        box.max, box.disabled = state["channels"] - 1, state["channels"] == 1
        state = filter_viewer_state(model, layer, channel)
        return plot_filters(model, state["layer"], channel=channel)

    return Explorer([ipw.HBox([controls["layer"], controls["channel"]])], controls, draw)


# ----------------------------------------------------------------------------
# Predictions (chapter 09)

def prediction_state(model, images, labels, index: int) -> dict:
    """The class probabilities of image ``index``.

    Returns
    -------
    dict
        ``image``, ``probs`` (num_classes,), ``pred``, ``label`` (None without labels), ``title``.
    """
    image = _pick("prediction_state", images, index)
    probs = predict_proba(model, as_batch("prediction_state", model, image))[0]
    pred = int(probs.argmax())
    label = None if labels is None else int(labels[index])
    verdict = "" if label is None else (", right" if pred == label else f", WRONG (true {label})")
    return {"image": _picture(image), "probs": probs, "pred": pred, "label": label,
            "title": f"digit {index}: predicted {pred} with p = {probs[pred]:.3f}{verdict}"}


def prediction_figure(state: dict):
    """The digit and a bar chart of its class probabilities (prediction green if right, red if wrong)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [1, 2]})
    axes[0].imshow(state["image"], cmap="gray")
    _bare(axes[0])
    probs, pred, label = state["probs"], state["pred"], state["label"]
    bars = axes[1].bar(np.arange(len(probs)), probs, color="lightgray")
    bars[pred].set_color("tab:blue" if label is None else ("tab:green" if pred == label else "tab:red"))
    if label is not None and label != pred:
        bars[label].set_edgecolor("black")  # the true class, outlined
    axes[1].set_xticks(range(len(probs)))
    axes[1].set_ylim(0, 1)
    axes[1].set_xlabel("class")
    axes[1].set_ylabel("probability")
    fig.suptitle(state["title"], fontsize=10)
    fig.tight_layout()
    return fig


def prediction_explorer(model, images, labels=None) -> Explorer:
    """Browse digits with the model's probabilities for each class.

    Parameters
    ----------
    images : ndarray, shape (N, C_in, H, W)
    labels : ndarray of int, shape (N,), optional
    """
    controls = {"index": _slider("digit", len(images) - 1)}

    def draw(index):
        return prediction_figure(prediction_state(model, images, labels, index))

    return Explorer([controls["index"]], controls, draw)


# ----------------------------------------------------------------------------
# Layer statistics (chapter 10)

def layer_statistics_state(images, labels, weights: str = "He", depth: int = 6, activation: str = "relu") -> dict:
    """``diagnostics.layer_statistics`` of a plain network (``depth`` Linear(256) layers) on a batch.

    Returns
    -------
    dict
        ``rows`` (one per layer), ``title``.
    """
    func = "layer_statistics_state"
    require(weights in diagnostics.WEIGHT_DRAWS, func, f"weights must be one of {list(diagnostics.WEIGHT_DRAWS)}",
            f"weights={weights!r}")
    require(isinstance(images, np.ndarray) and images.ndim >= 2, func, "images must be a batch of images, (N, ...)",
            f"images of type {type(images).__name__}", TypeError)
    x = images.reshape(len(images), -1).astype(np.float64)
    model = diagnostics.plain_network(diagnostics.WEIGHT_DRAWS[weights], depth, in_features=x.shape[1],
                                      num_classes=10, activation=activation)
    rows = diagnostics.layer_statistics(model, x, labels)
    return {"rows": rows, "title": f"{depth} x (Linear(256) + {activation}), weights {weights}: "
                                   f"loss at the start {rows[-1]['loss']:.2f}"}


def layer_statistics_explorer(images, labels) -> Explorer:
    """Choose how the weights are drawn, the depth and the activation; see every layer's statistics."""
    controls = {"weights": ipw.Dropdown(options=list(diagnostics.WEIGHT_DRAWS), value="He", description="weights"),
                "depth": ipw.IntSlider(value=6, min=1, max=12, description="depth", continuous_update=False),
                "activation": ipw.Dropdown(options=list(diagnostics.ACTIVATIONS), description="activation")}

    def draw(weights, depth, activation):
        state = layer_statistics_state(images, labels, weights, depth, activation)
        fig = diagnostics.plot_layer_statistics(state["rows"])
        fig.suptitle(state["title"], fontsize=10, y=1.04)
        return fig

    return Explorer([ipw.HBox(list(controls.values()))], controls, draw)
