"""The debugging toolbox of chapter 10 (cnnlib.diagnostics), on small models with the reference solutions."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib import diagnostics, ops  # noqa: E402
from cnnlib.data import load_mnist_sample  # noqa: E402
from cnnlib.models import small_cnn  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_mnist_sample(300)


def test_layer_outputs_are_the_forward_pass_layer_by_layer(digits):
    x, _ = digits
    model = small_cnn(seed=0)
    outputs = diagnostics.layer_outputs(model, x[:8])
    assert len(outputs) == len(model.layers)
    assert np.array_equal(outputs[-1], model.forward(x[:8]))
    assert outputs[0].shape == (8, 8, 28, 28)


def test_layer_statistics_measure_what_they_say(digits):
    x, y = digits
    model = small_cnn(seed=0)
    rows = diagnostics.layer_statistics(model, x[:32], y[:32])
    outputs = diagnostics.layer_outputs(model, x[:32])
    loss, dout = ops.softmax_cross_entropy(outputs[-1], y[:32])
    assert [r["layer"] for r in rows][:3] == ["0 Conv2d", "1 MaxPool2d", "2 ReLU"]
    assert rows[-1]["loss"] == pytest.approx(float(loss))
    assert rows[-1]["grad_std"] == pytest.approx(float(dout.std()))
    relu = rows[2]
    assert relu["zeros"] == pytest.approx(float(np.mean(outputs[2] == 0)))
    assert relu["std"] == pytest.approx(float(outputs[2].std())) and relu["update_ratio"] is None
    w, dw = model.layers[0].params["weight"], model.layers[0].grads["weight"]
    assert rows[0]["update_ratio"] == pytest.approx(float(np.linalg.norm(dw) / np.linalg.norm(w)))
    # a dead first layer shows as zeros
    model.layers[0].params["bias"][...] = -10.0
    assert diagnostics.layer_statistics(model, x[:32], y[:32])[2]["zeros"] > 0.99


def test_lr_range_test_restores_the_model_and_stops_when_the_loss_explodes(digits):
    x, y = digits
    model = small_cnn(seed=0)
    before = model.state_dict()
    result = diagnostics.lr_range_test(model, x, y, lr_min=1e-3, lr_max=1e3, steps=60, batch_size=32)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    n = len(result["lrs"])
    assert 2 <= n < 60, "a rate of 1000 must blow the loss up before the last step"
    expected = 1e-3 * (1e6) ** (np.arange(n) / 59)
    assert np.allclose(result["lrs"], expected)
    assert len(result["losses"]) == len(result["raw"]) == n
    assert result["best_lr"] == result["lrs"][int(np.argmin(result["losses"]))]
    assert result["suggested_lr"] == pytest.approx(result["best_lr"] / 10)
    assert result["losses"][-1] > 2 * result["losses"].min()


@pytest.mark.parametrize("kwargs, words", [(dict(lr_min=1.0, lr_max=0.1), "lr_min < lr_max"),
                                            (dict(steps=1), "steps must be >= 2"),
                                            (dict(smoothing=1.0), "smoothing must be in [0, 1)")])
def test_lr_range_test_rejects_bad_arguments(digits, kwargs, words):
    x, y = digits
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace(")", r"\)")):
        diagnostics.lr_range_test(small_cnn(seed=0), x, y, **kwargs)


def test_the_plots_draw_what_they_are_given(digits):
    x, y = digits
    model = small_cnn(seed=0)
    rows = diagnostics.layer_statistics(model, x[:16], y[:16])
    fig = diagnostics.plot_layer_statistics({"a": rows, "b": rows})
    assert len(fig.axes) == 4 and len(fig.axes[0].patches) == 2 * len(rows)
    plt.close(fig)
    outs = diagnostics.layer_outputs(model, x[:16])
    fig = diagnostics.plot_layer_histograms({"one": outs[:3], "two": outs[:2]})
    assert len(fig.axes) == 6 and not fig.axes[5].axison
    plt.close(fig)
    result = diagnostics.lr_range_test(model, x, y, steps=10)
    fig = diagnostics.plot_lr_range(result)
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)
    with pytest.raises(TypeError, match="plot_layer_histograms: outputs must be"):
        diagnostics.plot_layer_histograms([])


def test_plain_network_draws_every_weight_and_refuses_bad_settings():
    draws = []
    model = diagnostics.plain_network(lambda shape, rng: draws.append(shape) or rng.normal(0.0, 0.1, shape), 3, 8,
                                      in_features=5, num_classes=4, activation="tanh")
    assert draws == [(8, 5), (8, 8), (8, 8), (4, 8)]
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "Tanh"] * 3 + ["Linear"]
    assert all(not layer.params["bias"].any() for layer in model.layers[::2])
    assert model.layers[0].params["weight"].dtype == np.float64
    with pytest.raises(ValueError, match="activation must be one of"):
        diagnostics.plain_network(diagnostics.WEIGHT_DRAWS["He"], activation="gelu")
    with pytest.raises(ValueError, match="depth must be >= 1"):
        diagnostics.plain_network(diagnostics.WEIGHT_DRAWS["He"], depth=0)
    with pytest.raises(TypeError, match="draw must be callable"):
        diagnostics.plain_network("He")
