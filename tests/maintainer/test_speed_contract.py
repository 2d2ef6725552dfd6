"""The fast path's contracts (issue 6), checked for correctness, not time: float32
networks stay float32 end to end, and activations stay channels-last in memory."""
import numpy as np
import pytest

from cnnlib import models
from cnnlib.ops import softmax_cross_entropy
from cnnlib.optim import SGD, Adam

PRESETS = [("small_cnn", (1, 28, 28)), ("lenet", (1, 28, 28)), ("vgg_bn", (1, 28, 28)), ("tiny_vgg", (3, 32, 32))]


@pytest.mark.parametrize("name, shape", PRESETS)
@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_no_float64_creeps_into_a_float32_training_step(name, shape, optimizer):
    model = models.build_model(name, rng=np.random.default_rng(0))
    opt = optimizer(model, lr=1e-3)
    x = np.random.default_rng(1).random((4, *shape), dtype=np.float32)
    y = np.arange(4) % 10
    h = x
    for layer in model.layers:
        h = layer.forward(h)
        assert h.dtype == np.float32, f"{layer!r} returned {h.dtype}"
    loss, d = softmax_cross_entropy(h, y)
    assert d.dtype == np.float32
    for layer in reversed(model.layers):
        d = layer.backward(d)
        assert d.dtype == np.float32, f"{layer!r}.backward returned {d.dtype}"
        assert all(g.dtype == np.float32 for g in layer.grads.values()), repr(layer)
    opt.step()
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(b.dtype == np.float32 for b in model.state_dict().values() if b.dtype.kind == "f")


def _channels_last(a):
    """An (N, C, H, W) array whose memory is (N, H, W, C)."""
    return a.ndim == 4 and a.transpose(0, 2, 3, 1).flags.c_contiguous


def test_activations_after_a_conv_stay_channels_last_through_relu_pool_batchnorm_and_dropout():
    model = models.build_model("vgg_bn", rng=np.random.default_rng(0))
    h = np.random.default_rng(1).random((4, 1, 28, 28), dtype=np.float32)
    seen_conv = False
    for layer in model.layers:
        h = layer.forward(h)
        kind = type(layer).__name__
        seen_conv |= kind == "Conv2d"
        if seen_conv and h.ndim == 4:
            assert _channels_last(h), f"{layer!r} returned an array that is not channels-last in memory"
        if kind == "Flatten":
            break


def test_gradients_flow_back_channels_last_from_flatten_to_the_first_conv():
    model = models.build_model("lenet", rng=np.random.default_rng(0), relu_after_pool=True)
    x = np.random.default_rng(1).random((4, 1, 28, 28), dtype=np.float32)
    out = model.forward(x)
    d = np.ones_like(out)
    layers = model.layers
    start = max(i for i, layer in enumerate(layers) if type(layer).__name__ == "Flatten")
    for layer in reversed(layers):
        d = layer.backward(d)
        if layer is layers[start] or (d.ndim == 4 and layers.index(layer) < start):
            n, c, h, w = d.strides  # channels-last order; a view into a padded buffer is fine
            assert c <= w < h < n, f"{layer!r}.backward returned a gradient that is not channels-last"
