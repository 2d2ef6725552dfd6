"""Tests of cnnlib.viz (chapter 09): what the plots compute, what they draw, and their errors."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib import viz  # noqa: E402
from cnnlib.data import load_mnist_sample  # noqa: E402
from cnnlib.layers import Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential  # noqa: E402
from cnnlib.models import small_cnn  # noqa: E402
from cnnlib.history import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    return load_mnist_sample(40)


@pytest.fixture
def model():
    return small_cnn(seed=0)  # 0 conv, 1 pool, 2 relu, 3 conv, 4 pool, 5 relu, 6 flatten, 7 linear


def tiny(dtype=np.float64, dropout=0.0):
    """A small float64 network on 6x6 images, for exact gradient checks."""
    return Sequential(Conv2d(1, 3, 3, padding=1, rng=1, dtype=dtype), ReLU(), MaxPool2d(2), Flatten(),
                      Dropout(dropout, rng=2), Linear(27, 4, rng=3, dtype=dtype))


def is_png(path) -> bool:
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------
# computations

def test_activations_are_the_layers_applied_in_turn(model, digits):
    images, _ = digits
    x = images[:1]
    for i, layer in enumerate(model.layers):
        x = layer.forward(x)
        np.testing.assert_array_equal(viz.activations(model, images[0], i), x[0])
    assert viz.activations(model, images[0], 3).shape == (16, 14, 14)
    assert viz.activations(model, images[0], 6).shape == (16 * 7 * 7,)
    # a (H, W) image works for a one-channel model, and float64 is converted to the model's dtype
    np.testing.assert_array_equal(viz.activations(model, images[0, 0].astype(np.float64), 2),
                                  viz.activations(model, images[0], 2))


def test_activations_run_in_eval_mode_and_restore_the_mode():
    model = Sequential(Conv2d(1, 2, 3, rng=0), Dropout(0.5, rng=0), Flatten())
    image = np.ones((1, 5, 5), np.float32)
    model.train()
    a, b = viz.activations(model, image, 1), viz.activations(model, image, 1)
    np.testing.assert_array_equal(a, b)  # dropout off
    np.testing.assert_array_equal(a, viz.activations(model, image, 0))
    assert all(layer.training for layer in model.layers) and model.training
    model.eval()
    viz.activations(model, image, 1)
    assert not any(layer.training for layer in model.layers)


def test_eval_mode_restores_the_mode_after_an_error():
    model = tiny().train()
    with pytest.raises(RuntimeError):
        with viz.eval_mode(model):
            assert not model.layers[0].training
            raise RuntimeError("boom")
    assert all(layer.training for layer in model.layers)


def test_saliency_map_is_the_numerical_gradient_of_the_class_score():
    rng = np.random.default_rng(0)
    model = tiny(dropout=0.5).train()
    image = rng.standard_normal((1, 6, 6))
    target = 2

    def score(img):
        with viz.eval_mode(model):
            return model.forward(img[None])[0, target]

    numeric = np.zeros_like(image)
    h = 1e-6
    for idx in np.ndindex(image.shape):
        plus, minus = image.copy(), image.copy()
        plus[idx] += h
        minus[idx] -= h
        numeric[idx] = (score(plus) - score(minus)) / (2 * h)
    grad = viz.saliency_map(model, image, target)
    assert grad.shape == image.shape
    assert np.abs(numeric).max() > 0.01  # the check is not vacuous
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # eval mode: dropout off, so a second call agrees; the training mode is restored
    np.testing.assert_array_equal(viz.saliency_map(model, image, target), grad)
    assert all(layer.training for layer in model.layers)
    # (H, W) in, (H, W) out; another class gives another map
    assert viz.saliency_map(model, image[0], target).shape == (6, 6)
    assert not np.allclose(viz.saliency_map(model, image, 0), grad)


def test_saliency_map_rejects_a_bad_class(model, digits):
    with pytest.raises(ValueError, match=r"saliency_map: target must be a class index in 0\.\.9.*target=10"):
        viz.saliency_map(model, digits[0][0], 10)


def test_predict_proba_is_the_softmax_of_the_logits(model, digits):
    images, _ = digits
    probs = viz.predict_proba(model, images, batch_size=7)  # batches that do not divide N
    logits = model.forward(images).astype(np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1)


def test_confusion_matrix_counts_pairs():
    cm = viz.confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert viz.confusion_matrix(np.array([3]), np.array([1])).shape == (4, 4)
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.2"):
        viz.confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="same length"):
        viz.confusion_matrix(np.array([0, 1]), np.array([0]))
    with pytest.raises(TypeError, match="integers"):
        viz.confusion_matrix(np.array([0.0]), np.array([0]))


def test_most_confident_mistakes_come_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.05, 0.95], [0.7, 0.3]])
    labels = np.array([0, 0, 0, 1, 1])  # wrong: 1 (p 0.8), 2 (p 0.6), 4 (p 0.7)
    np.testing.assert_array_equal(viz.most_confident_mistakes(probs, labels, 10), [1, 4, 2])
    np.testing.assert_array_equal(viz.most_confident_mistakes(probs, labels, 2), [1, 4])


# ----------------------------------------------------------------------------
# errors

def test_layer_out_of_range_names_the_valid_range(model, digits):
    image = digits[0][0]
    with pytest.raises(ValueError, match=r"plot_feature_maps: layer must be a layer index in 0\.\.7 "
                                         r"\(the model has 8 layers\)\. Received: layer=8"):
        viz.plot_feature_maps(model, image, 8)
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match=r"0\.\.7"):
            viz.activations(model, image, bad)


@pytest.mark.parametrize("shape", [(28,), (2, 28, 28), (1, 1, 28, 28), (3, 28, 28)])
def test_an_image_of_the_wrong_shape_is_refused(model, shape):
    with pytest.raises(ValueError, match=r"plot_feature_maps: image must be one image of shape \(C_in, H, W\) "
                                         rf"with C_in=1.*Received: image.shape={re.escape(str(shape))}"):
        viz.plot_feature_maps(model, np.zeros(shape, np.float32), 0)
    with pytest.raises(ValueError, match=r"saliency_map: image must be one image"):
        viz.saliency_map(model, np.zeros(shape, np.float32), 0)


def test_integer_images_and_non_arrays_are_refused(model):
    with pytest.raises(TypeError, match="floating dtype"):
        viz.activations(model, np.zeros((1, 28, 28), np.uint8), 0)
    with pytest.raises(TypeError, match="image must be a NumPy array"):
        viz.activations(model, [[0.0]], 0)
    with pytest.raises(TypeError, match="model must be a Sequential"):
        viz.activations(Linear(2, 2), np.zeros((1, 2, 2)), 0)


def test_a_model_without_conv_layers_is_refused(digits):
    mlp = Sequential(Flatten(), Linear(784, 10, rng=0))
    for call in (lambda: viz.plot_filters(mlp), lambda: viz.plot_feature_maps(mlp, digits[0][0], 0),
                 lambda: viz.saliency_map(mlp, digits[0][0], 0)):
        with pytest.raises(ValueError, match=r"model has no conv layer .*Received: model with layers \[Flatten"):
            call()


def test_plot_filters_wants_a_conv_layer_and_a_valid_channel(model):
    with pytest.raises(ValueError, match=r"layer must be the index of a conv layer: one of \[0, 3\].*layer=1 "
                                         r"\(MaxPool2d"):
        viz.plot_filters(model, 1)
    with pytest.raises(ValueError, match=r"channel must be an input channel in 0\.\.7"):
        viz.plot_filters(model, 3, channel=8)


# ----------------------------------------------------------------------------
# the pictures

def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_plot_history_draws_train_and_validation(tmp_path):
    h = History.from_dict({"epoch": [1, 2, 3], "loss": [1.0, 0.5, 0.3], "accuracy": [0.7, 0.8, 0.9],
                           "val_loss": [0.8, 0.6, 0.5], "val_accuracy": [0.75, 0.8, 0.85]})
    path = tmp_path / "history.png"
    fig = viz.plot_history(h, path=path)
    assert is_png(path)
    loss_ax, acc_ax = fig.axes[:2]
    assert [ln.get_label() for ln in loss_ax.lines] == ["train", "validation"]
    assert [ln.get_linestyle() for ln in loss_ax.lines] == ["-", "--"]
    np.testing.assert_array_equal(acc_ax.lines[1].get_ydata(), [0.75, 0.8, 0.85])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_title() == "Loss"
    # a plain dict without validation, and None for unmeasured epochs
    fig = viz.plot_history({"loss": [2.0, 1.0], "accuracy": [0.5, 0.6], "val_loss": [None, None]})
    assert [len(ax.lines) for ax in fig.axes[:2]] == [1, 1]
    with pytest.raises(TypeError, match="History .* or a dict"):
        viz.plot_history([1, 2])
    with pytest.raises(ValueError, match=r"keys \['lr'\]"):
        viz.plot_history({"lr": [0.1]})


def test_plot_confusion_matrix_writes_the_counts_in_the_cells(tmp_path):
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    fig = viz.plot_confusion_matrix(y_true, y_pred, ["zero", "one", "two"], path=tmp_path / "cm.png")
    assert is_png(tmp_path / "cm.png")
    ax = fig.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    cm = viz.confusion_matrix(y_true, y_pred, 3)
    assert cells == {(t, p): cm[t, p] for t in range(3) for p in range(3)}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["zero", "one", "two"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "66.67%" in ax.get_title()


def test_plot_filters_shows_one_panel_per_filter(model, tmp_path):
    fig = viz.plot_filters(model, path=tmp_path / "f.png")
    assert is_png(tmp_path / "f.png")
    panels = _image_axes(fig)
    assert len(panels) == 8
    np.testing.assert_array_equal(panels[5].images[0].get_array(), model.layers[0].params["weight"][5, 0])
    assert "Conv2d(1, 8" in fig._suptitle.get_text()
    fig = viz.plot_filters(model, 3, channel=2, max_filters=10)
    panels = _image_axes(fig)
    assert len(panels) == 10
    np.testing.assert_array_equal(panels[9].images[0].get_array(), model.layers[3].params["weight"][9, 2])
    assert "input channel 2 of 8" in fig._suptitle.get_text()


def test_plot_filters_takes_a_shared_colour_scale(model):
    weight = model.layers[0].params["weight"]
    fig = viz.plot_filters(model, vmax=2.5)
    assert {ax.images[0].get_clim() for ax in _image_axes(fig)} == {(-2.5, 2.5)}
    lim = float(np.abs(weight).max())
    assert _image_axes(viz.plot_filters(model))[0].images[0].get_clim() == pytest.approx((-lim, lim))
    for bad in (0, -1.0, float("nan"), "1", True):
        with pytest.raises(ValueError, match=r"plot_filters: vmax must be a number > 0 \(or None\)"):
            viz.plot_filters(model, vmax=bad)


def test_plot_filters_shows_rgb_filters_in_colour():
    weight = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    panels = _image_axes(viz.plot_filters(weight))
    assert len(panels) == 4
    rgb = panels[0].images[0].get_array()
    assert rgb.shape == (5, 5, 3) and rgb.min() == 0 and rgb.max() == 1
    assert _image_axes(viz.plot_filters(weight, channel=1))[0].images[0].get_array().shape == (5, 5)


def test_plot_feature_maps_shows_the_input_and_the_channels(model, digits, tmp_path):
    image = digits[0][0]
    fig = viz.plot_feature_maps(model, image, 3, max_channels=12, path=tmp_path / "fm.png")
    assert is_png(tmp_path / "fm.png")
    panels = _image_axes(fig)
    assert len(panels) == 13  # the input and 12 channels
    assert panels[0].get_title() == "input"
    np.testing.assert_array_equal(panels[0].images[0].get_array(), image[0])
    np.testing.assert_array_equal(panels[12].images[0].get_array(), viz.activations(model, image, 3)[11])
    assert "3: Conv2d(8, 16" in fig._suptitle.get_text()
    # a flat layer is drawn as bars
    fig = viz.plot_feature_maps(model, image, 7)
    bars = fig.axes[1].patches
    assert len(bars) == 10
    np.testing.assert_allclose([b.get_height() for b in bars], viz.activations(model, image, 7), rtol=1e-6)


def test_plot_predictions_colours_right_and_wrong(model, digits, tmp_path):
    images, labels = digits
    probs = viz.predict_proba(model, images[:6])
    labels = labels[:6].copy()
    labels[0] = probs[0].argmax()                  # right
    labels[1] = (probs[1].argmax() + 1) % 10       # wrong
    fig = viz.plot_predictions(model, images[:6], labels, n=6, path=tmp_path / "p.png")
    assert is_png(tmp_path / "p.png")
    bar_axes = [ax for ax in fig.axes if ax.patches]
    assert len(bar_axes) == 6
    heights = [b.get_height() for b in bar_axes[1].patches]
    np.testing.assert_allclose(heights, probs[1])
    colour = matplotlib.colors.to_hex
    assert colour(bar_axes[0].patches[probs[0].argmax()].get_facecolor()) == colour("tab:green")
    assert colour(bar_axes[1].patches[probs[1].argmax()].get_facecolor()) == colour("tab:red")
    black = [[k for k, b in enumerate(ax.patches) if b.get_edgecolor() == (0, 0, 0, 1)] for ax in bar_axes[:2]]
    assert black == [[], [labels[1]]]  # the true class of a wrong prediction is outlined
    assert f"true {labels[1]}" in _image_axes(fig)[1].get_title()


def test_plot_misclassified_shows_the_most_confident_mistakes(model, digits, tmp_path):
    images, labels = digits
    probs = viz.predict_proba(model, images)
    worst = viz.most_confident_mistakes(probs, labels, 4)
    assert len(worst) == 4  # an untrained network makes mistakes
    fig = viz.plot_misclassified(model, images, labels, n=4, path=tmp_path / "m.png")
    assert is_png(tmp_path / "m.png")
    titles = [ax.get_title() for ax in _image_axes(fig)]
    pred = probs.argmax(axis=1)
    assert titles == [f"true {labels[i]}, pred {pred[i]}\np = {probs[i, pred[i]]:.2f}" for i in worst]
    # a perfect "model" has nothing to show, and says so
    fig = viz.plot_misclassified(model, images, pred, probs=probs)
    assert not _image_axes(fig) and "no misclassified digits" in fig.axes[0].texts[0].get_text()


def test_plot_saliency_shows_each_image_over_its_map(model, digits, tmp_path):
    images, _ = digits
    fig = viz.plot_saliency(model, images[:3], targets=[1, 2, 3], path=tmp_path / "s.png")
    assert is_png(tmp_path / "s.png")
    panels = _image_axes(fig)
    assert len(panels) == 6
    np.testing.assert_allclose(panels[4].images[0].get_array(),
                               np.abs(viz.saliency_map(model, images[1], 2))[0], rtol=1e-6)
    assert panels[1].get_title().startswith("class 2")
    assert len(_image_axes(viz.plot_saliency(model, images[0]))) == 2



# ----------------------------------------------------------------------------
# signed saliency, gradient x input, SmoothGrad

def _numerical_gradient(model, image, target, h=1e-6):
    def score(img):
        with viz.eval_mode(model):
            return model.forward(img[None])[0, target]

    numeric = np.zeros_like(image)
    for idx in np.ndindex(image.shape):
        plus, minus = image.copy(), image.copy()
        plus[idx] += h
        minus[idx] -= h
        numeric[idx] = (score(plus) - score(minus)) / (2 * h)
    return numeric


def test_saliency_map_keeps_the_sign_of_the_gradient():
    model = tiny()
    image = np.random.default_rng(4).standard_normal((1, 6, 6))
    numeric = _numerical_gradient(model, image, 1)
    grad = viz.saliency_map(model, image, 1)
    assert (numeric > 1e-3).any() and (numeric < -1e-3).any()  # both signs occur: the check can fail
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    assert not np.allclose(grad, np.abs(grad))


def test_gradient_x_input_is_the_pixelwise_product():
    model = tiny()
    image = np.random.default_rng(5).standard_normal((1, 6, 6))
    image[0, :2] = 0.0  # blank paper
    gxi = viz.gradient_x_input(model, image, 3)
    grad = viz.saliency_map(model, image, 3)
    assert gxi.shape == image.shape
    np.testing.assert_allclose(gxi, image * grad)
    assert np.all(gxi[0, :2] == 0) and np.any(grad[0, :2] != 0)
    # the sign is that of the gradient where the pixel is positive, the opposite where negative
    assert np.all(np.sign(gxi) == np.sign(image) * np.sign(grad))
    assert viz.gradient_x_input(model, image[0], 3).shape == (6, 6)


def test_smoothgrad_with_no_noise_is_the_plain_gradient():
    model = tiny()
    image = np.random.default_rng(6).standard_normal((1, 6, 6))
    np.testing.assert_allclose(viz.smoothgrad(model, image, 2, n=3, sigma=0.0), viz.saliency_map(model, image, 2),
                               rtol=1e-12)
    np.testing.assert_allclose(viz.smoothgrad(model, image, 2, n=3, sigma=1e-9),
                               viz.saliency_map(model, image, 2), rtol=1e-5, atol=1e-8)


def test_smoothgrad_is_the_mean_gradient_over_seeded_noisy_copies():
    model = tiny()
    image = np.random.default_rng(7).standard_normal((1, 6, 6))
    sigma, n = 0.5, 4
    noise = np.random.default_rng(11).standard_normal((n, *image.shape))
    expected = np.mean([viz.saliency_map(model, image + sigma * z, 0) for z in noise], axis=0)
    np.testing.assert_allclose(viz.smoothgrad(model, image, 0, n=n, sigma=sigma, rng=11), expected, rtol=1e-10)
    np.testing.assert_allclose(viz.smoothgrad(model, image, 0, n=n, sigma=sigma,
                                              rng=np.random.default_rng(11)), expected, rtol=1e-10)
    assert not np.allclose(expected, viz.saliency_map(model, image, 0))  # the noise changes something
    # the same seed, the same map
    np.testing.assert_array_equal(viz.smoothgrad(model, image, 0, n=n, sigma=sigma),
                                  viz.smoothgrad(model, image, 0, n=n, sigma=sigma))


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n": 0}, ValueError, r"smoothgrad: n must be >= 1\. Received: n=0"),
    ({"n": 2.5}, TypeError, r"smoothgrad: n must be an integer"),
    ({"sigma": -0.1}, ValueError, r"smoothgrad: sigma must be a number >= 0\. Received: sigma=-0\.1"),
    ({"sigma": "0.1"}, ValueError, r"sigma must be a number"),
    ({"rng": "seed"}, TypeError, r"smoothgrad: rng must be a np\.random\.Generator or an int seed"),
])
def test_smoothgrad_checks_its_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        viz.smoothgrad(tiny(), np.zeros((1, 6, 6)), 0, **kwargs)


def test_plot_saliency_signed_uses_one_diverging_scale_centred_at_zero(model, digits, tmp_path):
    images, _ = digits
    fig = viz.plot_saliency(model, images[:3], targets=[1, 2, 3], signed=True, path=tmp_path / "s.png")
    assert is_png(tmp_path / "s.png")
    maps = [ax.images[0] for ax in _image_axes(fig)[3:6]]  # row 0: the images, row 1: their maps
    assert len(maps) == 3
    np.testing.assert_allclose(maps[1].get_array(), viz.saliency_map(model, images[1], 2)[0], rtol=1e-6)
    assert (maps[1].get_array() < 0).any() and (maps[1].get_array() > 0).any()  # the sign is kept
    limits = {m.get_clim() for m in maps}
    assert len(limits) == 1
    low, high = limits.pop()
    assert low == -high and high == pytest.approx(max(np.abs(m.get_array()).max() for m in maps))
    assert maps[0].get_cmap().name == viz.SIGNED_CMAP
    # the other methods
    fig = viz.plot_saliency(model, images[:2], targets=[4, 5], method="gradient_x_input", signed=True)
    np.testing.assert_allclose(_image_axes(fig)[3].images[0].get_array(),
                               viz.gradient_x_input(model, images[1], 5)[0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"plot_saliency: method must be one of .*method='guided'"):
        viz.plot_saliency(model, images[:1], method="guided")
