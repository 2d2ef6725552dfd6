"""Tests of cnnlib.models: the presets' layouts, sizes, seeds, and agreement with the
same networks built in PyTorch (forward and backward, float64)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib.data import load_mnist_sample
from cnnlib.layers import (BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Dropout2d, Flatten, Linear, MaxPool2d, ReLU,
                           Sequential)
from cnnlib.ops import softmax_cross_entropy
from cnnlib.models import MODELS, build_model, lenet, small_cnn, tiny_vgg, vgg_bn


def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))


def layout(model):
    return [repr(layer) for layer in model]


def test_models_registry_and_build_model():
    assert set(MODELS) == {"small_cnn", "lenet", "vgg_bn", "tiny_vgg", "resnet_small"}
    assert repr(build_model("lenet", seed=0)) == repr(lenet(seed=0))
    with pytest.raises(ValueError, match=r"build_model: name must be one of \['lenet', 'resnet_small', 'small_cnn', "
                                         r"'tiny_vgg', 'vgg_bn'\]\. Received: name='resnet'"):
        build_model("resnet")
    with pytest.raises(ValueError, match="give rng or seed, not both"):
        build_model("lenet", rng=np.random.default_rng(0), seed=0)


def test_lenet_has_exactly_the_course_layout_and_pytorchs_parameter_count():
    model = lenet(seed=0)
    assert layout(model) == ["Conv2d(1, 32, kernel_size=3, padding=1)", "ReLU()", "MaxPool2d(kernel_size=2)",
                             "Conv2d(32, 64, kernel_size=3, padding=1)", "ReLU()", "MaxPool2d(kernel_size=2)",
                             "Flatten()", "Linear(in_features=3136, out_features=128)", "ReLU()",
                             "Linear(in_features=128, out_features=10)"]
    # conv1 32*(9+1), conv2 64*(32*9+1), fc1 128*(3136+1), fc2 10*(128+1)
    assert model.num_parameters() == 320 + 18_496 + 401_536 + 1_290 == 421_642
    fast = lenet(seed=0, relu_after_pool=True)
    assert [type(layer).__name__ for layer in fast][:3] == ["Conv2d", "MaxPool2d", "ReLU"]


@pytest.mark.parametrize("name, shape, params", [("small_cnn", (1, 28, 28), 8 * 10 + 16 * 73 + 10 * 785),
                                                 ("lenet", (1, 28, 28), 421_642),
                                                 ("tiny_vgg", (3, 32, 32), None),
                                                 ("vgg_bn", (1, 28, 28), None)])
def test_each_preset_maps_images_to_class_scores_in_float32(name, shape, params):
    model = build_model(name, seed=0)
    if params is not None:
        assert model.num_parameters() == params
    x = np.random.default_rng(0).random((3, *shape), dtype=np.float32)
    out = model(x)
    assert out.shape == (3, 10) and out.dtype == np.float32
    assert model.output_shape((3, *shape)) == (3, 10)
    dx = model.backward(np.ones_like(out))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert f"Total parameters: {model.num_parameters():,}" in model.summary(shape)


def test_presets_take_classes_channels_and_size():
    assert small_cnn(num_classes=5, in_channels=3, input_size=32, seed=0).output_shape((2, 3, 32, 32)) == (2, 5)
    assert tiny_vgg(num_classes=100, seed=0).output_shape((2, 3, 32, 32)) == (2, 100)
    assert vgg_bn(in_channels=3, input_size=32, widths=(8, 16, 32), seed=0).output_shape((2, 3, 32, 32)) == (2, 10)
    assert lenet(input_size=32, seed=0)[7].in_features == 64 * 8 * 8
    with pytest.raises(ValueError, match="input_size is too small"):
        vgg_bn(input_size=4, widths=(8, 8, 8), seed=0)


def test_same_seed_same_network_and_dropout_layers_own_their_generators():
    a, b, c = vgg_bn(seed=3), vgg_bn(rng=np.random.default_rng(3)), vgg_bn(seed=4)
    for (na, pa), (nb, pb), (_, pc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert na == nb and np.array_equal(pa, pb)
    assert not np.array_equal(a.params["0.weight"], c.params["0.weight"])
    gens = [rng for _, rng in a.named_generators()]
    assert len(gens) == 3 and len({id(g) for g in gens}) == 3
    assert a.rng_state() == b.rng_state() != c.rng_state()


def test_vgg_bn_uses_batchnorm_dropout_and_bias_free_convolutions():
    model = vgg_bn(seed=0)
    kinds = [type(layer) for layer in model]
    assert kinds.count(BatchNorm2d) == 4 and kinds.count(BatchNorm1d) == 1
    assert kinds.count(Dropout2d) == 2 and kinds.count(Dropout) == 1
    assert all("bias" not in layer.params for layer in model if isinstance(layer, Conv2d))


def test_relu_after_pool_gives_the_same_network():
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    a, b = lenet(seed=1), lenet(seed=1, relu_after_pool=True)
    out_a, out_b = a(x), b(x)
    np.testing.assert_array_equal(out_a, out_b)
    dout = np.random.default_rng(1).standard_normal(out_a.shape).astype(np.float32)
    np.testing.assert_array_equal(a.backward(dout), b.backward(dout))


def test_small_cnn_learns_real_digits():
    x, y = load_mnist_sample(256)
    model = small_cnn(seed=0)
    first = None
    for step in range(60):
        i = (step * 64) % 256
        loss, dlogits = softmax_cross_entropy(model(x[i:i + 64]), y[i:i + 64])
        first = loss if first is None else first
        model.backward(dlogits)
        for _, layer, key in model.parameter_slots():
            layer.params[key] -= 0.1 * layer.grads[key]
    model.eval()
    accuracy = (model(x).argmax(axis=1) == y).mean()
    assert first > 2.0 and accuracy > 0.8, (first, accuracy)


# ----------------------------------------------------------------------------
# The same networks in PyTorch

def _torch_model(torch, model):
    """The PyTorch twin of a cnnlib Sequential (same layer list, so the same state_dict names)."""
    nn = torch.nn
    layers = []
    for layer in model:
        cfg = layer.to_config()
        kind = cfg["type"]
        if kind == "Conv2d":
            layers.append(nn.Conv2d(cfg["in_channels"], cfg["out_channels"], cfg["kernel_size"], cfg["stride"],
                                    cfg["padding"], bias=cfg["bias"]))
        elif kind == "Linear":
            layers.append(nn.Linear(cfg["in_features"], cfg["out_features"], bias=cfg["bias"]))
        elif kind in ("BatchNorm1d", "BatchNorm2d"):
            layers.append(getattr(nn, kind)(cfg["num_features"], eps=cfg["eps"], momentum=cfg["momentum"]))
        elif kind == "MaxPool2d":
            layers.append(nn.MaxPool2d(cfg["kernel_size"], cfg["stride"], cfg["padding"]))
        elif kind in ("Dropout", "Dropout2d"):
            assert cfg["p"] == 0, "compare with dropout off: the masks come from different generators"
            layers.append(nn.Identity())
        else:
            layers.append(getattr(nn, kind)())
    twin = nn.Sequential(*layers).double()
    state = {k: torch.tensor(v) for k, v in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    return twin


def _compare_with_torch(torch, model, x, training):
    twin = _torch_model(torch, model)
    model.train(training)
    twin.train(training)
    out = model(x)
    xt = torch.tensor(x, requires_grad=True)
    out_t = twin(xt)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    dx = model.backward(dout)
    out_t.backward(torch.tensor(dout))
    errors = {"out": rel_error(out, out_t.detach().numpy()), "dx": rel_error(dx, xt.grad.numpy())}
    params = dict(twin.named_parameters())
    for name, grad in model.grads.items():
        errors[name] = rel_error(grad, params[name].grad.numpy())
    buffers = dict(twin.named_buffers())
    for name, value in model.state_dict().items():
        if "running" in name:
            errors[name] = rel_error(value, buffers[name].numpy())
    return errors


def test_lenet_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    model = lenet(seed=0, dtype=np.float64)
    twin = _torch_model(torch, model)
    assert sum(p.numel() for p in twin.parameters()) == model.num_parameters() == 421_642
    x = np.random.default_rng(1).random((3, 1, 28, 28))
    errors = _compare_with_torch(torch, model, x, training=True)
    assert max(errors.values()) < 1e-5, errors


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_vgg_bn_matches_pytorch_including_running_statistics(training):
    torch = pytest.importorskip("torch")
    model = vgg_bn(input_size=12, seed=0, widths=(4, 8), hidden=16, dropout=0.0, dtype=np.float64)
    rng = np.random.default_rng(2)
    if not training:  # non-trivial running statistics to normalise with
        for _, layer, key in model.buffer_slots():
            layer.buffers[key][...] = rng.random(layer.buffers[key].shape) + 0.5
    x = rng.random((6, 1, 12, 12))
    errors = _compare_with_torch(torch, model, x, training)
    assert max(errors.values()) < 1e-5, errors


def test_tiny_vgg_and_small_cnn_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for model, x in ((tiny_vgg(seed=0, dtype=np.float64), rng.random((2, 3, 32, 32))),
                     (small_cnn(seed=0, dtype=np.float64), rng.random((2, 1, 28, 28)))):
        errors = _compare_with_torch(torch, model, x, training=True)
        assert max(errors.values()) < 1e-5, errors


def test_a_handmade_sequential_matches_pytorch_with_strides_and_no_bias():
    torch = pytest.importorskip("torch")
    f64 = dict(dtype=np.float64, rng=0)
    model = Sequential(Conv2d(2, 5, (3, 2), stride=2, padding=1, bias=False, **f64), ReLU(),
                       MaxPool2d(3, stride=2, padding=1), Flatten(), Linear(5 * 3 * 3, 4, bias=False, **f64))
    x = np.random.default_rng(4).random((2, 2, 9, 11))
    assert model.output_shape(x.shape) == (2, 4)
    errors = _compare_with_torch(torch, model, x, training=True)
    assert max(errors.values()) < 1e-5, errors
