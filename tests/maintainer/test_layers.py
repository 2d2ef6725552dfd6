"""Tests of cnnlib.layers: initialisation, forward/backward wiring, modes, state, config,
repr, summary and input checks (the infrastructure runs the reference solutions)."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import cnnlib.ops
from cnnlib import ops
from cnnlib.layers import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Dropout2d, Flatten, LeakyReLU,
                           Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Tanh, layer_from_config)


def numerical_grad(f, x, dout, h=1e-6):
    """d sum(f(x) * dout) / dx by centred differences (float64)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(f() * dout)
        x[i] = old - h
        minus = np.sum(f() * dout)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def rel_error(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)


def nhwc_view(rng, shape, dtype=np.float64):
    """An (N, C, H, W) array laid out channels-last, as conv2d_forward returns."""
    N, C, H, W = shape
    return rng.standard_normal((N, H, W, C)).astype(dtype).transpose(0, 3, 1, 2)


# ----------------------------------------------------------------------------
# Initialisation

@pytest.mark.parametrize("make, fan_in", [(lambda **kw: Conv2d(6, 300, 5, **kw), 150),
                                          (lambda **kw: Linear(200, 400, **kw), 200)])
def test_pytorch_init_is_uniform_within_one_over_sqrt_fan_in(make, fan_in):
    layer = make(rng=np.random.default_rng(0))
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.params["weight"], layer.params["bias"]
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # uniform over the whole interval, not a narrower one
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # the std of U(-a, a) is a / sqrt(3)
    assert abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_he_init_is_normal_with_std_sqrt_2_over_fan_in_and_zero_bias():
    layer = Conv2d(16, 200, 3, rng=np.random.default_rng(1), init="he")
    std = math.sqrt(2 / (16 * 9))
    assert abs(layer.params["weight"].std() - std) < 0.02 * std
    assert abs(layer.params["weight"].mean()) < 0.02 * std
    assert not layer.params["bias"].any()
    lin = Linear(100, 300, rng=1, init="he", dtype=np.float64)
    assert lin.params["weight"].dtype == np.float64
    assert abs(lin.params["weight"].std() - math.sqrt(2 / 100)) < 0.02 * math.sqrt(2 / 100)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = Conv2d(3, 4, 3, rng=7), Conv2d(3, 4, 3, rng=np.random.default_rng(7)), Conv2d(3, 4, 3, rng=8)
    assert np.array_equal(a.params["weight"], b.params["weight"])
    assert not np.array_equal(a.params["weight"], c.params["weight"])


def test_grads_start_as_zeros_with_the_keys_of_params():
    for layer in (Conv2d(2, 3, 3, rng=0), Conv2d(2, 3, 3, bias=False, rng=0), Linear(4, 5, rng=0),
                  Linear(4, 5, bias=False, rng=0), BatchNorm1d(3), BatchNorm2d(3)):
        assert layer.grads.keys() == layer.params.keys()
        for k in layer.params:
            assert layer.grads[k].shape == layer.params[k].shape and not layer.grads[k].any()


# ----------------------------------------------------------------------------
# Each layer calls its exercise functions through the cnnlib module (so the switch applies)

def test_layers_call_the_exercise_functions_through_cnnlib_ops(monkeypatch):
    calls = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    for name in ("conv2d_forward", "conv2d_backward", "relu_forward", "relu_backward", "maxpool2d_forward",
                 "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward", "linear_forward", "linear_backward",
                 "batchnorm_forward", "batchnorm_backward", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
                 "dropout_forward", "dropout_backward", "spatial_dropout_forward"):
        spy(cnnlib.ops, name)
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=0), BatchNorm2d(4), ReLU(), MaxPool2d(2), Dropout2d(0.5, rng=0),
                       AvgPool2d(2), Flatten(), Linear(4 * 2 * 2, 6, rng=0), BatchNorm1d(6), Dropout(0.5, rng=0),
                       Linear(6, 3, rng=0))
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    model.backward(np.ones_like(model(x)))
    assert calls == ["conv2d_forward", "spatial_batchnorm_forward", "relu_forward", "maxpool2d_forward",
                     "spatial_dropout_forward", "avgpool2d_forward", "linear_forward", "batchnorm_forward",
                     "dropout_forward", "linear_forward",
                     "linear_backward", "dropout_backward", "batchnorm_backward", "linear_backward",
                     "avgpool2d_backward", "dropout_backward", "maxpool2d_backward", "relu_backward",
                     "spatial_batchnorm_backward", "conv2d_backward"]


def test_layer_outputs_and_grads_equal_the_exercise_functions():
    rng = np.random.default_rng(0)
    conv = Conv2d(3, 5, 3, stride=2, padding=1, rng=rng)
    x = rng.random((2, 3, 9, 7), dtype=np.float32)
    dout = rng.standard_normal((2, 5, 5, 4)).astype(np.float32)
    out, cache = cnnlib.ops.conv2d_forward(x, conv.params["weight"], conv.params["bias"], 2, 1)
    np.testing.assert_array_equal(conv(x), out)
    dx, dw, db = cnnlib.ops.conv2d_backward(dout, cache)
    np.testing.assert_array_equal(conv.backward(dout), dx)
    np.testing.assert_array_equal(conv.grads["weight"], dw)
    np.testing.assert_array_equal(conv.grads["bias"], db)


# ----------------------------------------------------------------------------
# Gradients: every layer, and a whole model, against finite differences (float64)

def _layers_for_gradcheck():
    f64 = dict(dtype=np.float64)
    return [
        ("conv", Conv2d(2, 3, 3, stride=2, padding=1, rng=0, **f64), (2, 2, 5, 6)),
        ("conv-nobias", Conv2d(2, 3, (2, 3), bias=False, rng=0, **f64), (2, 2, 4, 5)),
        ("linear", Linear(4, 3, rng=0, **f64), (3, 4)),
        ("linear-nobias", Linear(4, 3, bias=False, rng=0, **f64), (3, 4)),
        ("bn1d", BatchNorm1d(3, **f64), (4, 3)),
        ("bn2d", BatchNorm2d(3, **f64), (2, 3, 3, 2)),
        ("maxpool", MaxPool2d(2), (2, 2, 4, 6)),
        ("maxpool-stride", MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
        ("avgpool", AvgPool2d(2, stride=1), (2, 2, 3, 4)),
        ("relu", ReLU(), (2, 3, 4, 4)),
        ("leaky", LeakyReLU(0.1), (3, 5)),
        ("sigmoid", Sigmoid(), (3, 5)),
        ("tanh", Tanh(), (2, 2, 3, 3)),
        ("flatten", Flatten(), (2, 3, 2, 2)),
    ]


@pytest.mark.parametrize("label, layer, shape", _layers_for_gradcheck(), ids=lambda v: v if isinstance(v, str) else "")
def test_layer_backward_matches_numerical_gradient(label, layer, shape):
    rng = np.random.default_rng(1)
    x = nhwc_view(rng, shape) if len(shape) == 4 else rng.standard_normal(shape)
    x = np.array(x, order="K")  # a writable copy that keeps the channels-last layout
    out = layer(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    assert dx.shape == x.shape and dx.dtype == np.float64
    assert rel_error(dx, numerical_grad(lambda: layer.forward(x), x, dout)) < 1e-6
    for key, p in layer.params.items():
        layer.forward(x)
        layer.backward(dout)
        analytic = layer.grads[key].copy()
        assert rel_error(analytic, numerical_grad(lambda: layer.forward(x), p, dout)) < 1e-6, key


def test_whole_model_gradients_match_numerical_gradient_with_dropout_and_batchnorm():
    f64 = dict(dtype=np.float64)
    model = Sequential(Conv2d(1, 3, 3, padding=1, rng=0, **f64), BatchNorm2d(3, **f64), MaxPool2d(2), ReLU(),
                       Dropout2d(0.3, rng=1), Flatten(), Linear(12, 5, rng=0, **f64), BatchNorm1d(5, **f64),
                       Tanh(), Dropout(0.4, rng=2), Linear(5, 2, rng=0, **f64))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 1, 4, 4))
    state = model.rng_state()

    def forward():  # the same dropout masks every time
        model.set_rng_state(state)
        return model.forward(x)

    out = forward()
    dout = rng.standard_normal(out.shape)
    dx = model.backward(dout)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert rel_error(dx, numerical_grad(forward, x, dout)) < 1e-6
    for name, layer, key in model.parameter_slots():
        # (a conv bias before batch norm has a zero gradient: compare with an absolute floor too)
        np.testing.assert_allclose(grads[name], numerical_grad(forward, layer.params[key], dout),
                                   rtol=1e-5, atol=1e-7, err_msg=name)


def test_backward_overwrites_grads_instead_of_accumulating():
    layer = Linear(3, 2, rng=0)
    x = np.ones((4, 3), np.float32)
    layer(x)
    layer.backward(np.ones((4, 2), np.float32))
    first = layer.grads["weight"].copy()
    layer(x)
    layer.backward(np.ones((4, 2), np.float32))
    np.testing.assert_array_equal(layer.grads["weight"], first)


# ----------------------------------------------------------------------------
# dtypes and memory layout

def test_float32_stays_float32_through_a_model_and_its_backward():
    model = Sequential(Conv2d(1, 4, 3, rng=0), BatchNorm2d(4), MaxPool2d(2), ReLU(), Dropout2d(0.2, rng=0),
                       Flatten(), Linear(4 * 3 * 3, 8, rng=0), BatchNorm1d(8), LeakyReLU(), Sigmoid(), Tanh(),
                       Dropout(0.2, rng=0), Linear(8, 3, rng=0))
    x = np.random.default_rng(0).random((6, 1, 8, 8), dtype=np.float32)
    out = model(x)
    assert out.dtype == np.float32
    assert model.backward(np.ones_like(out)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.grads.values())
    assert all(b.dtype == np.float32 for b in model.state_dict().values())


def test_a_float64_input_to_a_float32_layer_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"Conv2d\(1, 4, kernel_size=3\): expected input of dtype float32 .*"
                                        r"x\.astype\(np\.float32\).*Received: x\.dtype=float64"):
        Conv2d(1, 4, 3, rng=0)(np.zeros((1, 1, 5, 5)))
    with pytest.raises(TypeError, match=r"expected a floating input.*Received: x\.dtype=int64"):
        ReLU()(np.zeros((2, 2), dtype=np.int64))


def test_flatten_of_a_channels_last_view_uses_nchw_order_like_pytorch():
    rng = np.random.default_rng(0)
    x = nhwc_view(rng, (2, 3, 4, 5), np.float32)
    assert not x.flags.c_contiguous
    flat = Flatten()(x)
    np.testing.assert_array_equal(flat, np.ascontiguousarray(x).reshape(2, -1))
    np.testing.assert_array_equal(flat[1, 4 * 5 * 2 + 5 * 1 + 3], x[1, 2, 1, 3])  # index c*H*W + h*W + w
    layer = Flatten()
    layer(x)
    np.testing.assert_array_equal(layer.backward(flat), x)


def test_elementwise_layers_keep_a_channels_last_layout():
    x = nhwc_view(np.random.default_rng(0), (2, 3, 4, 5), np.float32)
    for layer in (LeakyReLU(0.2), Sigmoid(), Tanh()):
        out = layer(x)
        assert out.transpose(0, 2, 3, 1).flags.c_contiguous, layer
        assert layer.backward(out).shape == x.shape


def test_relu_after_maxpool_equals_relu_before_it():
    x = nhwc_view(np.random.default_rng(0), (3, 4, 6, 6))
    a, b = Sequential(ReLU(), MaxPool2d(2)), Sequential(MaxPool2d(2), ReLU())
    np.testing.assert_array_equal(a(x), b(x))
    dout = np.random.default_rng(1).standard_normal(a(x).shape)
    a(x), b(x)
    np.testing.assert_array_equal(a.backward(dout), b.backward(dout))


def test_sigmoid_tanh_leaky_values_and_no_overflow_warning():
    x = np.array([[-1000.0, -1.0, 0.0, 2.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Sigmoid()(x)
    np.testing.assert_allclose(s, [[0.0, 1 / (1 + math.e), 0.5, 1 / (1 + math.exp(-2)), 1.0]], atol=1e-15)
    np.testing.assert_allclose(Tanh()(x), np.tanh(x))
    np.testing.assert_array_equal(LeakyReLU(0.1)(x), [[-100.0, -0.1, 0.0, 2.0, 1000.0]])


# ----------------------------------------------------------------------------
# Modes: batch norm's running statistics, dropout

def test_batchnorm_updates_running_stats_in_training_only_and_uses_them_in_eval():
    rng = np.random.default_rng(0)
    bn = BatchNorm2d(3, momentum=0.2)
    mean_buf, var_buf = bn.buffers["running_mean"], bn.buffers["running_var"]
    x = (rng.standard_normal((8, 3, 4, 4)) * 2 + 5).astype(np.float32)
    _, _, m, v = ops.spatial_batchnorm_forward(x, bn.params["weight"], bn.params["bias"],
                                                         mean_buf.copy(), var_buf.copy(), True, 0.2, 1e-5)
    bn(x)
    np.testing.assert_allclose(bn.buffers["running_mean"], m)
    np.testing.assert_allclose(bn.buffers["running_var"], v)
    assert bn.buffers["running_mean"] is mean_buf and mean_buf.dtype == np.float32  # updated in place
    assert np.all(bn.buffers["running_mean"] > 0.5)  # moved 20 % of the way from 0 towards 5
    bn.eval()
    before = bn.state_dict()
    out = bn(x)
    np.testing.assert_array_equal(bn.buffers["running_mean"], before["running_mean"])
    expected = (x - m.reshape(1, 3, 1, 1)) / np.sqrt(v.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert set(before) == {"weight", "bias", "running_mean", "running_var"}


def test_dropout_is_identity_in_eval_and_reproducible_in_training():
    x = np.ones((50, 40), np.float32)
    a, b = Dropout(0.3, rng=5), Dropout(0.3, rng=5)
    out = a(x)
    np.testing.assert_array_equal(out, b(x))
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.7)}
    assert abs((out == 0).mean() - 0.3) < 0.03
    a.eval()
    np.testing.assert_array_equal(a(x), x)


def test_dropout2d_zeroes_whole_channels():
    x = np.ones((10, 16, 3, 3), np.float32)
    out = Dropout2d(0.5, rng=0)(x)
    per_channel = out.reshape(10, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1


def test_rng_state_round_trip_reproduces_the_masks_and_is_json():
    model = Sequential(Dropout(0.5, rng=1), Linear(6, 6, rng=0), Dropout(0.5, rng=2))
    state = json.loads(json.dumps(model.rng_state()))
    assert set(state) == {"0.rng", "2.rng"}
    x = np.ones((4, 6), np.float32)
    first = model(x)
    model.set_rng_state(state)
    np.testing.assert_array_equal(model(x), first)
    with pytest.raises(ValueError, match="generators"):
        model.set_rng_state({"1.rng": state["0.rng"]})


def test_train_and_eval_reach_every_layer_including_nested_ones():
    inner = Sequential(BatchNorm1d(3), Dropout(0.5, rng=0))
    model = Sequential(Linear(3, 3, rng=0), inner)
    assert model.eval() is model
    assert not inner.training and not inner[0].training and not inner[1].training
    model.train()
    assert inner[1].training


# ----------------------------------------------------------------------------
# Sequential: indexing, names, state_dict, config

def _model():
    return Sequential(Conv2d(1, 4, 3, padding=1, rng=0), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(4 * 4 * 4, 10, rng=0), Dropout(0.2, rng=0), Linear(10, 3, bias=False, rng=0))


def test_sequential_indexing_and_parameter_names():
    model = _model()
    assert len(model) == 8 and isinstance(model[3], MaxPool2d) and isinstance(model[-1], Linear)
    assert isinstance(model[:2], Sequential) and model[:2][0] is model[0]
    names = [name for name, _, _ in model.parameter_slots()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias", "7.weight"]
    for name, layer, key in model.parameter_slots():
        assert model[int(name.split(".")[0])] is layer and layer.params[key] is model.params[name]
    assert model.num_parameters() == 4 * 9 + 4 + 8 + 64 * 10 + 10 + 30
    nested = Sequential(model[:2], ReLU(), Linear(2, 2, rng=0))
    assert [n for n, _, _ in nested.parameter_slots()][:2] == ["0.0.weight", "0.0.bias"]


def test_state_dict_holds_copies_of_params_and_buffers_and_loads_back():
    a, b = _model(), Sequential.from_config(_model().to_config(), rng=99)
    state = a.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                          "5.weight", "5.bias", "7.weight"}
    state["0.weight"] += 1
    assert not np.array_equal(a.params["0.weight"], state["0.weight"])  # a copy
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x), b(x))
    weight = b[0].params["weight"]
    b.load_state_dict(state)
    assert b[0].params["weight"] is weight  # loaded in place


def test_load_state_dict_names_missing_unexpected_and_mismatched_entries_and_changes_nothing():
    model = _model()
    before = model.state_dict()
    state = model.state_dict()
    del state["1.running_var"]
    state["9.weight"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"missing: \['1.running_var'\], unexpected: \['9.weight'\]"):
        model.load_state_dict(state)
    state = {k: v + 1 for k, v in model.state_dict().items()}
    state["5.weight"] = np.zeros((10, 65), np.float32)
    with pytest.raises(ValueError, match=r"'5.weight' of layer Linear\(in_features=64, out_features=10\) must have "
                                         r"shape \(10, 64\)\. Received: 5.weight.shape=\(10, 65\)"):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # nothing was half-loaded


def test_config_is_json_and_rebuilds_the_same_architecture():
    model = Sequential(Conv2d(3, 4, (3, 2), stride=2, padding=1, bias=False, init="he", dtype=np.float64, rng=0),
                       BatchNorm2d(4, momentum=0.3, eps=1e-3, dtype=np.float64), LeakyReLU(0.2), AvgPool2d(2, 1),
                       Dropout2d(0.1, rng=0), Flatten(), Linear(12, 5, init="he", dtype=np.float64, rng=0),
                       Sigmoid(), Tanh(), Dropout(0.25, rng=0), Sequential(ReLU(), MaxPool2d(1)))
    config = json.loads(json.dumps(model.to_config()))
    rebuilt = Sequential.from_config(config, rng=1)
    assert repr(rebuilt) == repr(model)
    assert rebuilt.to_config() == config
    assert rebuilt[0].params["weight"].dtype == np.float64
    assert rebuilt[0].kernel_size == (3, 2)
    assert rebuilt[4].rng is not rebuilt[9].rng  # each dropout owns its generator
    with pytest.raises(ValueError, match="type must be one of"):
        layer_from_config({"type": "Conv3d"})
    with pytest.raises(ValueError, match=r"Linear takes no arguments \['units'\]"):
        layer_from_config({"type": "Linear", "in_features": 2, "out_features": 3, "units": 4})


# ----------------------------------------------------------------------------
# repr and summary

@pytest.mark.parametrize("layer, text", [
    (Conv2d(1, 8, kernel_size=3, rng=0), "Conv2d(1, 8, kernel_size=3)"),
    (Conv2d(1, 8, 5, stride=2, padding=1, bias=False, init="he", rng=0),
     "Conv2d(1, 8, kernel_size=5, stride=2, padding=1, bias=False, init='he')"),
    (Conv2d(1, 8, 3, dtype=np.float64, rng=0), "Conv2d(1, 8, kernel_size=3, dtype='float64')"),
    (Linear(3136, 128, rng=0), "Linear(in_features=3136, out_features=128)"),
    (MaxPool2d(2), "MaxPool2d(kernel_size=2)"),
    (AvgPool2d(3, stride=1, padding=1), "AvgPool2d(kernel_size=3, stride=1, padding=1)"),
    (BatchNorm2d(16), "BatchNorm2d(16)"),
    (BatchNorm1d(16, momentum=0.01), "BatchNorm1d(16, momentum=0.01)"),
    (Dropout(), "Dropout(p=0.5)"),
    (Dropout2d(0.1), "Dropout2d(p=0.1)"),
    (LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (ReLU(), "ReLU()"), (Flatten(), "Flatten()"), (Sigmoid(), "Sigmoid()"), (Tanh(), "Tanh()"),
])
def test_repr_shows_arguments_pytorch_style(layer, text):
    assert repr(layer) == text


def test_sequential_repr_lists_layers_like_pytorch():
    model = Sequential(Linear(2, 3, rng=0), Sequential(ReLU(), Dropout(0.1)))
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=2, out_features=3)\n  (1): Sequential(\n"
                           "    (0): ReLU()\n    (1): Dropout(p=0.1)\n  )\n)")


def test_summary_lists_output_shapes_and_parameter_counts():
    model = _model()
    text = model.summary((1, 8, 8))
    lines = text.splitlines()
    assert lines[0] == "Input: (N, 1, 8, 8)"
    row = next(ln for ln in lines if ln.startswith("0 "))
    assert "Conv2d(1, 4, kernel_size=3, padding=1)" in row and "(N, 4, 8, 8)" in row and row.endswith(" 40")
    assert any("(N, 4, 4, 4)" in ln and ln.startswith("3 ") for ln in lines)
    assert any(ln.startswith("5 ") and "(N, 10)" in ln and ln.endswith("650") for ln in lines)
    assert lines[-1] == f"Total parameters: {model.num_parameters():,}"
    assert model.output_shape((7, 1, 8, 8)) == (7, 3)


def test_summary_needs_no_exercise_and_names_the_layer_a_wrong_shape_reaches():
    from cnnlib import use_solutions
    model = Sequential(Conv2d(1, 4, 3, rng=0), Flatten(), Linear(100, 10, rng=0))
    with use_solutions(None):  # shapes only: works before any exercise is written
        with pytest.raises(ValueError, match=r"layer 2 does not accept .*expected input with 100 features \(N, 100\)"
                                             r"\. Received: x\.shape=\(1, 144\)"):
            model.summary((1, 8, 8))
    with pytest.raises(ValueError, match="without the batch axis"):
        model.summary((1, 1, 8, 8.0))


# ----------------------------------------------------------------------------
# Input checks, with the course's messages

def test_conv2d_names_the_expected_channels():
    with pytest.raises(ValueError) as e:
        Conv2d(1, 8, kernel_size=3, rng=0)(np.zeros((64, 3, 28, 28), np.float32))
    assert str(e.value) == ("Conv2d(1, 8, kernel_size=3): expected input with 1 channels (N, 1, H, W). "
                            "Received: x.shape=(64, 3, 28, 28)")
    with pytest.raises(ValueError, match=r"expected 4-D input \(N, C_in, H, W\)\. Received: x\.shape=\(28, 28\)"):
        Conv2d(1, 8, 3, rng=0)(np.zeros((28, 28), np.float32))


def test_linear_suggests_flatten_for_image_input_and_names_features():
    with pytest.raises(ValueError, match=r"put a Flatten\(\) before this layer\. Received: x\.shape=\(2, 1, 4, 4\)"):
        Linear(16, 2, rng=0)(np.zeros((2, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"expected input with 16 features \(N, 16\)\. Received: x\.shape=\(2, 15\)"):
        Linear(16, 2, rng=0)(np.zeros((2, 15), np.float32))


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: Conv2d(0, 8, 3), ValueError, "Conv2d: in_channels must be >= 1"),
    (lambda: Conv2d(1, 8, 3, init="xavier"), ValueError, "init must be one of"),
    (lambda: Conv2d(1, 8, 3.0), TypeError, "kernel_size must be an integer"),
    (lambda: Linear(2, 3, init="glorot"), ValueError, "init must be one of"),
    (lambda: MaxPool2d(2, stride=0), ValueError, "MaxPool2d: stride must be >= 1"),
    (lambda: Dropout(1.0), ValueError, r"Dropout: p .* must be in \[0, 1\)\. Received: p=1.0"),
    (lambda: Dropout2d(-0.1), ValueError, r"Dropout2d: p .* must be in \[0, 1\)"),
    (lambda: BatchNorm2d(4, momentum=2), ValueError, "momentum must be in"),
    (lambda: Dropout(0.5, rng="seed"), TypeError, "rng must be a np.random.Generator"),
    (lambda: Sequential([ReLU()]), TypeError, r"Sequential\(\*layers\)"),
])
def test_bad_constructor_arguments_are_refused(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="expected a NumPy array"):
        ReLU()([1.0, 2.0])
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input with 3 channels"):
        BatchNorm2d(3)(np.zeros((2, 4, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected 2-D input"):
        BatchNorm1d(3)(np.zeros((2, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2\): expected 4-D input"):
        MaxPool2d(2)(np.zeros((2, 4), np.float32))
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=2, out_features=3\): backward needs the cache"):
        Linear(2, 3, rng=0).backward(np.zeros((1, 3), np.float32))


def test_parameterless_layers_agree_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = nhwc_view(rng, (2, 3, 7, 6))
    pairs = [(AvgPool2d(3, stride=2, padding=1), torch.nn.AvgPool2d(3, stride=2, padding=1)),
             (MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
             (LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (Sigmoid(), torch.nn.Sigmoid()), (Tanh(), torch.nn.Tanh()),
             (ReLU(), torch.nn.ReLU()), (Flatten(), torch.nn.Flatten())]
    for ours, theirs in pairs:
        out = ours(x)
        xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
        out_t = theirs(xt)
        dout = rng.standard_normal(out.shape)
        out_t.backward(torch.tensor(dout))
        assert rel_error(out, out_t.detach().numpy()) < 1e-12, ours
        assert rel_error(ours.backward(dout), xt.grad.numpy()) < 1e-12, ours


def test_named_parameters_yields_names_and_arrays_as_pytorch_does():
    model = Sequential(Conv2d(1, 2, 3, rng=0), BatchNorm2d(2), Flatten(), Linear(2 * 2 * 2, 3, rng=0))
    named = dict(model.named_parameters())
    assert list(named) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert named["3.weight"] is model.layers[3].params["weight"]
    assert [n for n, _ in model.named_buffers()] == ["1.running_mean", "1.running_var"]
    assert [(n, k) for n, _, k in model.parameter_slots()][:2] == [("0.weight", "weight"), ("0.bias", "bias")]
