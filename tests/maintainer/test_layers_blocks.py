"""Tests of chapter 11's layers and preset: GlobalAvgPool2d, DepthwiseConv2d, PointwiseConv2d, ResidualBlock
and resnet_small (shapes, parameter names, config and state round trips, gradients against finite
differences in float64, and the same numbers as PyTorch)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib.layers import (BatchNorm2d, Conv2d, DepthwiseConv2d, GlobalAvgPool2d, PointwiseConv2d, ReLU, ResidualBlock,
                           Sequential, layer_from_config)
from cnnlib.models import build_model, resnet_small
from test_layers import numerical_grad, rel_error

F64 = dict(dtype=np.float64)


def _blocks():
    return [("GlobalAvgPool2d", GlobalAvgPool2d(), (2, 3, 4, 5)),
            ("DepthwiseConv2d", DepthwiseConv2d(3, 3, stride=2, padding=1, rng=0, **F64), (2, 3, 7, 6)),
            ("PointwiseConv2d", PointwiseConv2d(3, 5, rng=0, **F64), (2, 3, 4, 5)),
            ("PointwiseConv2d stride 2", PointwiseConv2d(4, 2, stride=2, bias=False, rng=0, **F64), (2, 4, 7, 6)),
            ("ResidualBlock identity", ResidualBlock(3, 3, rng=0, **F64), (3, 3, 5, 5)),
            ("ResidualBlock projection", ResidualBlock(2, 4, stride=2, rng=1, **F64), (3, 2, 6, 6)),
            ("ResidualBlock plain", ResidualBlock(2, 4, stride=2, residual=False, rng=2, **F64), (3, 2, 6, 6)),
            ("ResidualBlock without batch norm", ResidualBlock(3, 3, batch_norm=False, rng=3, **F64), (2, 3, 5, 5))]


@pytest.mark.parametrize("label, layer, shape", _blocks(), ids=lambda v: v if isinstance(v, str) else "")
def test_block_backward_matches_numerical_gradient(label, layer, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    out = layer.forward(x)
    assert out.shape == layer.output_shape(shape)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    assert rel_error(dx, numerical_grad(lambda: layer.forward(x), x, dout)) < 1e-6
    for name, owner, key in layer.parameter_slots():
        assert rel_error(grads[name], numerical_grad(lambda: layer.forward(x), owner.params[key], dout)) < 1e-6, name


def test_residual_block_names_its_parameters_and_projects_only_when_the_shape_changes():
    same, down, plain = ResidualBlock(4, 4, rng=0), ResidualBlock(4, 8, stride=2, rng=0), \
        ResidualBlock(4, 8, stride=2, residual=False, rng=0)
    assert list(same.params) == ["branch.0.weight", "branch.1.weight", "branch.1.bias", "branch.3.weight",
                                 "branch.4.weight", "branch.4.bias"]
    assert [n for n, _ in down.named_buffers()][-2:] == ["shortcut.1.running_mean", "shortcut.1.running_var"]
    assert down.params["shortcut.0.weight"].shape == (8, 4, 1, 1)
    assert not plain.shortcut and down.num_parameters() == plain.num_parameters() + 8 * 4 + 2 * 8
    assert [type(layer) for layer in same.branch] == [Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d]
    assert [type(layer) for layer in down.shortcut] == [PointwiseConv2d, BatchNorm2d]
    assert same.output_shape((2, 4, 9, 9)) == (2, 4, 9, 9) and down.output_shape((2, 4, 9, 9)) == (2, 8, 5, 5)
    with pytest.raises(ValueError, match=r"expected input with 4 channels .*Received: x.shape=\(1, 3, 5, 5\)"):
        same.forward(np.zeros((1, 3, 5, 5), np.float32))


def test_the_shortcut_carries_the_input_when_the_branch_is_silenced():
    block = ResidualBlock(3, 3, rng=0, **F64)
    block.branch[4].params["weight"][...] = 0  # the last batch norm's gamma: the branch outputs its beta, 0
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(block.forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(block.backward(np.ones_like(x)), (x > 0) * 1.0)


def test_resnet_small_shapes_config_state_and_modes():
    model = build_model("resnet_small", seed=0)
    assert model.num_parameters() == 77_754
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    assert model.forward(x).shape == (4, 10) and model.forward(x).dtype == np.float32
    assert model.output_shape((4, 1, 28, 28)) == (4, 10)
    assert resnet_small(input_size=13, seed=0).forward(np.zeros((1, 1, 13, 13), np.float32)).shape == (1, 10)
    twin = layer_from_config(model.to_config(), rng=1)
    assert repr(twin) == repr(model) and list(twin.state_dict()) == list(model.state_dict())
    twin.load_state_dict(model.state_dict())
    model.eval(), twin.eval()
    assert all(not layer.training for block in model.layers if isinstance(block, ResidualBlock)
               for layer in block.branch + block.shortcut)
    np.testing.assert_array_equal(twin.forward(x), model.forward(x))
    shapes = {f"4.{k}": v for k, v in ResidualBlock.state_shapes(model[4].to_config()).items()}
    assert shapes == {k: v.shape for k, v in model.state_dict().items() if k.startswith("4.")}


def test_resnet_small_plain_twin_has_the_same_layers_without_shortcuts():
    res, plain = resnet_small(seed=0, blocks_per_stage=2), resnet_small(seed=0, blocks_per_stage=2, residual=False)
    assert sum(isinstance(layer, Conv2d) and layer.kernel_size == (3, 3) for _, layer, _ in res.parameter_slots()) \
        == 1 + 2 * 3 * 2
    assert res.num_parameters() - plain.num_parameters() == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)


def test_resnet_small_gradients_match_numerical_gradient_in_float64():
    model = resnet_small(input_size=6, widths=(2, 3), blocks_per_stage=1, seed=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 1, 6, 6))
    dout = rng.standard_normal((3, 10))
    model.forward(x)
    dx = model.backward(dout)
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert rel_error(dx, numerical_grad(lambda: model.forward(x), x, dout)) < 1e-6
    for name, layer, key in model.parameter_slots():
        assert rel_error(grads[name], numerical_grad(lambda: model.forward(x), layer.params[key], dout)) < 1e-5, name


def _torch_resnet(torch, model):
    """The same network in PyTorch, with the same weights (batch norm in training mode)."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, block):
            super().__init__()
            c_in, c_out, s = block.in_channels, block.out_channels, block.stride
            self.branch = nn.Sequential(nn.Conv2d(c_in, c_out, 3, s, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                                        nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, s, bias=False), nn.BatchNorm2d(c_out)) \
                if block.shortcut else nn.Identity()

        def forward(self, x):
            return torch.relu(self.branch(x) + self.shortcut(x))

    mods = []
    for layer in model.layers:
        if isinstance(layer, ResidualBlock):
            mods.append(Block(layer))
        elif isinstance(layer, Conv2d):
            mods.append(nn.Conv2d(layer.in_channels, layer.out_channels, 3, 1, 1, bias=False))
        elif isinstance(layer, BatchNorm2d):
            mods.append(nn.BatchNorm2d(layer.num_features))
        elif isinstance(layer, ReLU):
            mods.append(nn.ReLU())
        elif isinstance(layer, GlobalAvgPool2d):
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        else:
            mods.append(nn.Linear(layer.in_features, layer.out_features))
    twin = nn.Sequential(*mods).double()
    twin.load_state_dict({**twin.state_dict(), **{_torch_name(model, n): torch.tensor(v)
                                                  for n, v in model.state_dict().items()}})
    return twin


def _torch_name(model, name):
    """PyTorch's name for one of ours: the same, but the head's Linear is one index later (after Flatten)."""
    index, rest = name.split(".", 1)
    return f"{int(index) + 1}.{rest}" if int(index) == len(model.layers) - 1 else name


def test_resnet_small_matches_pytorch_forward_backward_and_running_statistics():
    torch = pytest.importorskip("torch")
    model = resnet_small(input_size=12, widths=(4, 8), blocks_per_stage=2, seed=0, dtype=np.float64)
    twin = _torch_resnet(torch, model)
    x = np.random.default_rng(2).random((5, 1, 12, 12))
    out = model.forward(x)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx = model.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    out_t = twin(xt)
    out_t.backward(torch.tensor(dout))
    assert rel_error(out, out_t.detach().numpy()) < 1e-6
    assert rel_error(dx, xt.grad.numpy()) < 1e-6
    torch_grads = dict(twin.named_parameters())
    for name, g in model.grads.items():
        assert rel_error(g, torch_grads[_torch_name(model, name)].grad.numpy()) < 1e-6, name
    torch_buffers = dict(twin.named_buffers())
    for name, b in model.named_buffers():
        np.testing.assert_allclose(b, torch_buffers[_torch_name(model, name)].numpy(), rtol=1e-6, err_msg=name)


def test_depthwise_separable_block_trains_as_a_sequential():
    model = Sequential(DepthwiseConv2d(2, 3, padding=1, rng=0), Conv2d(2, 4, 1, rng=0), ReLU(), GlobalAvgPool2d())
    assert model.num_parameters() == 2 * 9 + 2 + 4 * 2 + 4
    assert layer_from_config(model.to_config()).output_shape((1, 2, 5, 5)) == (1, 4)
    out = model.forward(np.ones((1, 2, 5, 5), np.float32))
    assert out.shape == (1, 4) and model.backward(np.ones_like(out)).shape == (1, 2, 5, 5)


def test_resnet_small_survives_a_checkpoint_round_trip(tmp_path):
    from cnnlib.checkpoint import load_checkpoint, save_checkpoint
    from cnnlib.optim import SGD

    model = resnet_small(input_size=12, widths=(4, 8), seed=0)
    x = np.random.default_rng(4).random((3, 1, 12, 12)).astype(np.float32)
    model.forward(x)  # moves the running statistics away from their initial values
    save_checkpoint(tmp_path / "resnet.npz", model, SGD(model, lr=0.1))
    restored = load_checkpoint(tmp_path / "resnet.npz")["model"]
    model.eval(), restored.eval()
    np.testing.assert_array_equal(restored.forward(x), model.forward(x))


def test_pointwise_conv2d_is_a_1x1_conv2d_to_the_last_bit():
    """The same initial weights from the same seed, and the same numbers forward and backward, so that the
    projection shortcut of ResidualBlock gives what it gave as a Conv2d (float32, strided, channels-last dout)."""
    from cnnlib import threads, use_solutions
    threads.set_threads(1)  # the same BLAS kernels for both
    try:
        with use_solutions("all"):
            for stride, bias in ((1, True), (2, False)):
                pw, conv = PointwiseConv2d(6, 10, stride, bias, rng=3), Conv2d(6, 10, 1, stride, 0, bias, rng=3)
                assert repr(pw) == f"PointwiseConv2d(6, 10{', stride=2' if stride == 2 else ''}" + \
                    f"{', bias=False' if not bias else ''})"
                assert pw.params.keys() == conv.params.keys() and pw.state_shapes(pw.to_config()) == \
                    conv.state_shapes(conv.to_config())
                for key in pw.params:
                    np.testing.assert_array_equal(pw.params[key], conv.params[key])
                x = np.random.default_rng(4).standard_normal((3, 6, 9, 7)).astype(np.float32)
                out = pw.forward(x)
                np.testing.assert_array_equal(out, conv.forward(x))
                assert out.shape == pw.output_shape(x.shape) == conv.output_shape(x.shape)
                dout = np.random.default_rng(5).standard_normal(out.shape[:1] + out.shape[2:] + out.shape[1:2])
                dout = dout.astype(np.float32).transpose(0, 3, 1, 2)  # a channels-last view
                np.testing.assert_array_equal(pw.backward(dout), conv.backward(dout))
                for key in pw.grads:
                    np.testing.assert_array_equal(pw.grads[key], conv.grads[key])
                assert repr(layer_from_config(pw.to_config())) == repr(pw)
    finally:
        threads.set_threads(None)
