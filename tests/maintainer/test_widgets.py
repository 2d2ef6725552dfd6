"""Tests of cnnlib.widgets without a browser: the logic functions, and the widgets driven
through their controls and their ``update`` callback (tests/test_browser.py renders them)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cnnlib  # noqa: E402
from cnnlib import ops, viz, widgets  # noqa: E402
from cnnlib.data import load_mnist_sample  # noqa: E402
from cnnlib.layers import Flatten, Linear, Sequential  # noqa: E402
from cnnlib.models import small_cnn  # noqa: E402


@pytest.fixture(autouse=True)
def _no_figures_left_open():
    yield
    leaked = plt.get_fignums()
    plt.close("all")
    assert not leaked, "a widget left figures open: the notebook would show them under the next cell"


@pytest.fixture(scope="module")
def digits():
    return load_mnist_sample(12)


@pytest.fixture
def model():
    return small_cnn(seed=0)  # 0 conv, 1 pool, 2 relu, 3 conv, 4 pool, 5 relu, 6 flatten, 7 linear


def shown(w) -> bool:
    """The widget shows a picture and no message."""
    return w.message.value == "" and w.picture.layout.display is None and w.picture.value[:4] == b"\x89PNG"


def refused(w, *fragments) -> bool:
    """The widget shows a message (containing ``fragments``) instead of the picture, not a traceback."""
    text = w.message.value
    return (w.picture.layout.display == "none" and all(f in text for f in fragments)
            and "Traceback" not in text and 'File "' not in text)


# ----------------------------------------------------------------------------
# kernel playground

def cross_correlate(image, kernel, padding):
    """Loops, written out here: out[i, j] = sum_uv kernel[u, v] * pad(image)[i + u, j + v] (no flip)."""
    x = np.pad(image, padding)
    k = len(kernel)
    return np.array([[np.sum(kernel * x[i:i + k, j:j + k]) for j in range(x.shape[1] - k + 1)]
                     for i in range(x.shape[0] - k + 1)])


def test_classic_kernels():
    k3, k5 = widgets.classic_kernels(3), widgets.classic_kernels(5)
    np.testing.assert_array_equal(k3["Sobel x"], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(k3["Sobel y"], np.transpose(k3["Sobel x"]))
    for kernels, size in ((k3, 3), (k5, 5)):
        assert all(k.shape == (size, size) for k in kernels.values())
        for name in ("blur", "Gaussian blur", "identity", "sharpen"):
            assert np.isclose(kernels[name].sum(), 1), name  # keep the mean brightness
        for name in ("Sobel x", "Sobel y"):
            assert kernels[name].sum() == 0, name  # no response to a flat image
    assert k3["Laplacian (edges)"].sum() == 0 and k5["Laplacian of Gaussian"].sum() == 0
    with pytest.raises(ValueError, match="size must be 3 or 5"):
        widgets.classic_kernels(4)


@pytest.mark.parametrize("padding", [0, 1])
def test_kernel_playground_state_is_the_cross_correlation(digits, padding):
    image = digits[0][3]                                   # (1, 28, 28)
    kernel = np.array([[0.0, 1, 2], [-1, 0.5, 0], [0, 0, -3]])  # no symmetry: a flip would show
    state = widgets.kernel_playground_state(image, kernel, padding)
    expected = cross_correlate(image[0].astype(np.float64), kernel, padding)
    assert state["output"].shape == expected.shape == (26 + 2 * padding,) * 2
    np.testing.assert_allclose(state["output"], expected, rtol=1e-5, atol=1e-5)
    assert state["output"].dtype == np.float32
    np.testing.assert_array_equal(state["image"], image[0])
    assert f"padding {padding}: 28x28 -> {26 + 2 * padding}x{26 + 2 * padding}" in state["title"]
    assert f"max {expected.max():.3f}" in state["stats"]
    ident = widgets.kernel_playground_state(image[0], widgets.classic_kernels(5)["identity"], 2)
    np.testing.assert_array_equal(ident["output"], image[0])


@pytest.mark.parametrize("kernel, fragment", [
    (np.ones((3, 4)), "kernel.shape=(3, 4)"), (np.ones(3), "kernel.shape=(3,)"),
    (np.ones((1, 3, 3)), "kernel.shape=(1, 3, 3)")])
def test_kernel_playground_state_wants_a_square_2d_kernel(digits, kernel, fragment):
    with pytest.raises(ValueError, match=r"kernel_playground_state: kernel must be a square 2-D array") as e:
        widgets.kernel_playground_state(digits[0][0], kernel)
    assert fragment in str(e.value)


def test_kernel_playground_state_wants_one_grey_image(digits):
    with pytest.raises(ValueError, match=r"image must be one grey image, \(H, W\) or \(1, H, W\)\. "
                                         r"Received: image.shape=\(2, 1, 28, 28\)"):
        widgets.kernel_playground_state(digits[0][:2], np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        widgets.kernel_playground_state(digits[0][0], np.full((3, 3), np.nan))


def test_kernel_playground_falls_back_to_conv2d_naive_then_to_the_reference(digits, monkeypatch):
    def not_written(*args, **kwargs):
        raise NotImplementedError("exercise not written")

    monkeypatch.setattr(ops, "conv2d_forward", not_written)
    state = widgets.kernel_playground_state(digits[0][0], np.eye(3), 1)
    assert state["computed_by"] == "conv2d_naive"
    np.testing.assert_allclose(state["output"], cross_correlate(digits[0][0, 0], np.eye(3), 1), atol=1e-5)
    monkeypatch.setattr(ops, "conv2d_naive", not_written)
    state = widgets.kernel_playground_state(digits[0][0], np.eye(3), 1)  # neither written: the reference, said
    assert state["computed_by"] == "the reference conv2d_forward"
    np.testing.assert_allclose(state["output"], cross_correlate(digits[0][0, 0], np.eye(3), 1), atol=1e-5)


def test_kernel_playground_widget(digits):
    images = digits[0]
    w = widgets.kernel_playground(images)
    assert shown(w)
    sobel = widgets.classic_kernels(3)["Sobel x"]
    np.testing.assert_array_equal(w.kernel(), sobel)
    first = w.picture.value
    w.controls["index"].value = 5                              # another digit
    assert shown(w) and w.picture.value != first
    w.controls["preset"].value = "blur"                        # a classic kernel fills the boxes
    np.testing.assert_allclose(w.kernel(), np.full((3, 3), 0.1111))
    w._grids[3][1][1].value = 2.0                              # editing a box: a custom kernel
    assert w.controls["preset"].value == "custom" and w.kernel()[1, 1] == 2.0
    blurred = w.picture.value
    w.controls["same"].value = False
    assert shown(w) and w.picture.value != blurred
    w.controls["size"].value = 5                               # 5x5 boxes, Sobel x again
    np.testing.assert_array_equal(w.kernel(), widgets.classic_kernels(5)["Sobel x"])
    assert "Laplacian of Gaussian" in w.controls["preset"].options
    assert w._boxes[3].layout.display == "none" and w._boxes[5].layout.display is None
    # bad input through the update callback: a message, then the widget goes on working
    assert not w.update(kernel=np.ones((3, 4)))
    assert refused(w, "ValueError", "kernel must be a square 2-D array", "kernel.shape=(3, 4)")
    assert not w.update(kernel=np.ones(5))
    assert refused(w, "square 2-D")
    assert not w.update(index=12)
    assert refused(w, "index must be an image index in 0..11")
    w.controls["index"].value = 2
    assert shown(w)
    assert w.update()


def test_kernel_playground_shows_a_message_for_colour_images(digits):
    w = widgets.kernel_playground(np.repeat(digits[0][:2], 3, axis=1))  # (2, 3, 28, 28)
    assert refused(w, "image must be one grey image", "image.shape=(3, 28, 28)")


# ----------------------------------------------------------------------------
# feature maps

def test_feature_map_state(model, digits):
    image = digits[0][0]
    state = widgets.feature_map_state(model, image, 3, 5)
    act = viz.activations(model, image, 3)
    np.testing.assert_array_equal(state["activation"], act[5])
    assert state["channels"] == 16 and state["shape"] == (16, 14, 14)
    assert f"max {act[5].max():.3f}" in state["stats"] and "zeros" in state["stats"]
    assert "3: Conv2d(8, 16" in state["title"]
    np.testing.assert_array_equal(state["image"], image[0])
    flat = widgets.feature_map_state(model, image, 7)
    assert flat["activation"].shape == (10,) and flat["channels"] == 1
    with pytest.raises(ValueError, match=r"channel must be in 0\.\.15 \(layer 3 has 16 channels\)"):
        widgets.feature_map_state(model, image, 3, 16)
    with pytest.raises(ValueError, match=r"layer must be a layer index in 0\.\.7"):
        widgets.feature_map_state(model, image, 9)


def test_feature_map_explorer(model, digits):
    images = digits[0]
    w = widgets.feature_map_explorer(model, images)
    assert shown(w) and w.controls["channel"].max == 7   # layer 0: 8 channels
    w.controls["layer"].value = 3
    assert shown(w) and w.controls["channel"].max == 15
    w.controls["channel"].value = 15
    before = w.picture.value
    w.controls["index"].value = 4
    assert shown(w) and w.picture.value != before
    w.controls["layer"].value = 4                        # pooled: still 16 channels
    assert w.controls["channel"].value == 15
    w.controls["layer"].value = 7                        # the logits: no channels
    assert shown(w) and w.controls["channel"].disabled
    assert not w.update(layer=8)
    assert refused(w, "ValueError", "layer must be a layer index in 0..7 (the model has 8 layers)", "layer=8")
    assert not w.update(index=-1)
    assert refused(w, "index must be an image index in 0..11")
    w.controls["layer"].value = 1
    assert shown(w) and not w.controls["channel"].disabled


def test_feature_map_explorer_explains_bad_images_and_models(model, digits):
    w = widgets.feature_map_explorer(model, np.repeat(digits[0][:2], 2, axis=1))  # two channels
    assert refused(w, "image must be one image of shape (C_in, H, W) with C_in=1", "image.shape=(2, 28, 28)")
    mlp = Sequential(Flatten(), Linear(784, 10, rng=0))
    assert refused(widgets.feature_map_explorer(mlp, digits[0]), "model has no conv layer")


# ----------------------------------------------------------------------------
# filters and predictions

def test_filter_viewer(model):
    state = widgets.filter_viewer_state(model, 3, 2)
    np.testing.assert_array_equal(state["filters"], model.layers[3].params["weight"][:, 2])
    assert state["channels"] == 8 and state["layer"] == 3 and "16 filters" in state["stats"]
    assert widgets.filter_viewer_state(model)["layer"] == 0
    with pytest.raises(ValueError, match=r"one of \[0, 3\]"):
        widgets.filter_viewer_state(model, 2)
    with pytest.raises(ValueError, match=r"channel must be an input channel in 0\.\.0"):
        widgets.filter_viewer_state(model, 0, 1)

    w = widgets.filter_viewer(model)
    assert shown(w) and w.controls["channel"].disabled
    assert [v for _, v in w.controls["layer"].options] == [0, 3]
    first = w.picture.value
    w.controls["layer"].value = 3
    assert shown(w) and w.controls["channel"].max == 7 and w.picture.value != first
    assert not w.update(layer=1)
    assert refused(w, "one of [0, 3]")
    assert w.update()
    mlp = Sequential(Flatten(), Linear(784, 10, rng=0))
    assert refused(widgets.filter_viewer(mlp), "model has no conv layer")


def test_prediction_explorer(model, digits):
    images, labels = digits
    probs = viz.predict_proba(model, images)
    state = widgets.prediction_state(model, images, labels, 3)
    np.testing.assert_allclose(state["probs"], probs[3], rtol=1e-6)
    assert state["pred"] == probs[3].argmax() and state["label"] == labels[3]
    assert f"p = {probs[3].max():.3f}" in state["title"]
    assert widgets.prediction_state(model, images, None, 0)["label"] is None
    w = widgets.prediction_explorer(model, images, labels)
    assert shown(w)
    first = w.picture.value
    w.controls["index"].value = 1
    assert shown(w) and w.picture.value != first
    assert not w.update(index=12)
    assert refused(w, "index must be an image index in 0..11")
    w.controls["index"].value = 0
    assert shown(w) and w.picture.value == first


def test_layer_statistics_state_shows_the_signal_vanish_hold_and_explode(digits):
    images, labels = digits
    with cnnlib.use_solutions("all"):
        stds = {w: [r["std"] for r in widgets.layer_statistics_state(images, labels, w, 6)["rows"][:-1:2]]
                for w in ("std 0.01", "He", "std 0.2")}
        state = widgets.layer_statistics_state(images, labels, "He", 3, "tanh")
    assert stds["std 0.01"][-1] < 1e-3 * stds["std 0.01"][0]   # a factor 0.113 per layer
    assert 0.5 < stds["He"][-1] / stds["He"][0] < 2
    assert stds["std 0.2"][-1] > 50 * stds["std 0.2"][0]      # a factor 2.26 per layer
    assert [r["layer"] for r in state["rows"]] == ["0 Linear", "1 Tanh", "2 Linear", "3 Tanh", "4 Linear",
                                                  "5 Tanh", "6 Linear"]
    assert "loss at the start" in state["title"]


def test_layer_statistics_explorer(digits):
    images, labels = digits
    with cnnlib.use_solutions("all"):
        w = widgets.layer_statistics_explorer(images, labels)
        assert shown(w)
        first = w.picture.value
        w.controls["weights"].value = "std 0.01"
        assert shown(w) and w.picture.value != first
        assert not w.update(weights="std 1")
        assert refused(w, "weights must be one of", "Glorot", "std 1")
        assert not w.update(depth=0)
        assert refused(w, "depth must be &gt;= 1", "depth=0")
        w.controls["weights"].value = "He"
        assert shown(w) and w.picture.value == first
