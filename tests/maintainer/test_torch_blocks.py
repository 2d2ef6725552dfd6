"""The PyTorch oracle for chapter 11: the reference global average pooling, depthwise convolution,
residual block and 1x1 convolution against torch (F.adaptive_avg_pool2d, F.conv2d with groups=C,
a BasicBlock-shaped relu(branch(x) + shortcut(x)) built from F.conv2d, and F.conv2d with a 1x1
kernel), forward and backward by autograd, in float64, on many random configurations."""
from __future__ import annotations

import numpy as np
import pytest

from oracle import rel_err
from solutions import blocks as ref
from solutions import conv as ref_conv

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
TOL = 1e-6


def _t(a):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("seed", range(20))
def test_global_avgpool_matches_adaptive_avg_pool2d(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in (rng.integers(1, 5), rng.integers(1, 9), rng.integers(1, 12), rng.integers(1, 12)))
    x = rng.standard_normal(shape)
    out, cache = ref.global_avgpool_forward(x)
    dout = rng.standard_normal(out.shape)
    xt = _t(x)
    ot = F.adaptive_avg_pool2d(xt, 1).flatten(1)
    ot.backward(torch.tensor(dout))
    assert rel_err(out, ot.detach().numpy()) < TOL
    assert rel_err(ref.global_avgpool_backward(dout, cache), xt.grad.numpy()) < TOL


def _dw_configs(count, seed=0):
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        N, C, H, W = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 7), rng.integers(1, 13),
                                       rng.integers(1, 13)))
        kH, kW = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if kH <= H + 2 * padding and kW <= W + 2 * padding:
            configs.append((N, C, H, W, kH, kW, stride, padding, bool(rng.random() < 0.7)))
    return configs


DW_CONFIGS = [(2, 16, 28, 28, 3, 3, 1, 1, True), (1, 8, 14, 14, 3, 3, 2, 1, False), (3, 4, 9, 7, 5, 3, 2, 2, True)] + \
    _dw_configs(40)


@pytest.mark.parametrize("cfg", DW_CONFIGS, ids=str)
def test_depthwise_conv2d_matches_grouped_conv2d(cfg):
    N, C, H, W, kH, kW, s, p, has_bias = cfg
    rng = np.random.default_rng(sum(cfg))
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((C, 1, kH, kW))
    b = rng.standard_normal(C) if has_bias else None
    out, cache = ref.depthwise_conv2d_forward(x, w, b, s, p)
    dout = rng.standard_normal(out.shape)
    xt, wt = _t(x), _t(w)
    bt = _t(b) if has_bias else None
    ot = F.conv2d(xt, wt, bt, stride=s, padding=p, groups=C)
    ot.backward(torch.tensor(dout))
    dx, dw, db = ref.depthwise_conv2d_backward(dout, cache)
    assert rel_err(out, ot.detach().numpy()) < TOL
    assert rel_err(dx, xt.grad.numpy()) < TOL
    assert rel_err(dw, wt.grad.numpy()) < TOL
    if has_bias:
        assert rel_err(db, bt.grad.numpy()) < TOL
    else:
        assert db is None


@pytest.mark.parametrize("C_in, C_out, stride", [(4, 4, 1), (3, 3, 1), (4, 8, 2), (2, 6, 1), (5, 5, 2)])
def test_residual_block_matches_autograd(C_in, C_out, stride):
    """relu(conv3x3(relu(conv3x3(x))) + shortcut(x)), the shortcut the identity or a 1x1 convolution."""
    rng = np.random.default_rng(C_in * 10 + C_out + stride)
    x = rng.standard_normal((2, C_in, 7, 7))
    w1, w2 = rng.standard_normal((C_out, C_in, 3, 3)) / 3, rng.standard_normal((C_out, C_out, 3, 3)) / 3
    ws = rng.standard_normal((C_out, C_in, 1, 1)) if (C_in, stride) != (C_out, 1) else None

    def branch(v):
        h, c1 = ref_conv.conv2d_forward(v, w1, None, stride, 1)
        a = np.maximum(h, 0)
        y, c2 = ref_conv.conv2d_forward(a, w2, None, 1, 1)
        return y, (c1, h, c2)

    def branch_backward(d, cache):
        c1, h, c2 = cache
        da = ref_conv.conv2d_backward(d, c2)[0]
        return ref_conv.conv2d_backward(da * (h > 0), c1)[0]

    shortcut = None if ws is None else (lambda v: ref_conv.conv2d_forward(v, ws, None, stride, 0))
    shortcut_backward = None if ws is None else (lambda d, c: ref_conv.conv2d_backward(d, c)[0])
    out, cache = ref.residual_forward(x, branch, shortcut)
    dout = rng.standard_normal(out.shape)
    dx = ref.residual_backward(dout, cache, branch_backward, shortcut_backward)

    xt = _t(x)
    y = F.conv2d(F.relu(F.conv2d(xt, torch.tensor(w1), stride=stride, padding=1)), torch.tensor(w2), padding=1)
    s = xt if ws is None else F.conv2d(xt, torch.tensor(ws), stride=stride)
    ot = F.relu(y + s)
    ot.backward(torch.tensor(dout))
    assert rel_err(out, ot.detach().numpy()) < TOL
    assert rel_err(dx, xt.grad.numpy()) < TOL


def _pw_configs(count, seed=1):
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in (rng.integers(1, 4), rng.integers(1, 9), rng.integers(1, 9), rng.integers(1, 12),
                                   rng.integers(1, 12), rng.integers(1, 4))) + (bool(rng.random() < 0.7),)
            for _ in range(count)]


# (N, C_in, C_out, H, W, stride, bias): a ResNet projection (16 -> 32, stride 2), MobileNet's pointwise step, random
PW_CONFIGS = [(2, 16, 32, 14, 14, 2, False), (3, 8, 8, 7, 9, 1, True), (1, 1, 1, 1, 1, 3, True)] + _pw_configs(40)


@pytest.mark.parametrize("cfg", PW_CONFIGS, ids=str)
def test_pointwise_conv2d_matches_conv2d_with_a_1x1_kernel(cfg):
    N, C_in, C_out, H, W, s, has_bias = cfg
    rng = np.random.default_rng(sum(cfg))
    x, w = rng.standard_normal((N, C_in, H, W)), rng.standard_normal((C_out, C_in, 1, 1))
    b = rng.standard_normal(C_out) if has_bias else None
    out, cache = ref.pointwise_conv2d_forward(x, w, b, s)
    dout = rng.standard_normal(out.shape)
    xt, wt = _t(x), _t(w)
    bt = _t(b) if has_bias else None
    ot = F.conv2d(xt, wt, bt, stride=s)
    ot.backward(torch.tensor(dout))
    dx, dw, db = ref.pointwise_conv2d_backward(dout, cache)
    assert out.shape == tuple(ot.shape) and dx.shape == x.shape and dw.shape == w.shape
    assert rel_err(out, ot.detach().numpy()) < TOL
    assert rel_err(dx, xt.grad.numpy()) < TOL
    assert rel_err(dw, wt.grad.numpy()) < TOL
    if has_bias:
        assert rel_err(db, bt.grad.numpy()) < TOL
    else:
        assert db is None
