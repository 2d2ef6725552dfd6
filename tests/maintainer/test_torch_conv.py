"""The PyTorch oracle for convolution: the reference conv2d_naive, im2col, col2im,
conv2d_forward and conv2d_backward against torch.nn.functional (conv2d, unfold,
fold and autograd), in float64, on many random configurations."""
from __future__ import annotations

import numpy as np
import pytest

from solutions import conv as ref
from oracle import rel_err

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
TOL = 1e-5


def _random_configs(count: int, seed: int = 0):
    """(N, C_in, H, W, C_out, kH, kW, stride, padding, bias) with every kernel fitting its padded input."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        N, C_in, C_out = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 6)
        H, W, kH, kW = rng.integers(3, 13), rng.integers(3, 13), rng.integers(1, 6), rng.integers(1, 6)
        stride, padding, bias = rng.integers(1, 4), rng.integers(0, 3), bool(rng.integers(0, 2))
        if kH <= H + 2 * padding and kW <= W + 2 * padding:
            configs.append(tuple(int(v) for v in (N, C_in, H, W, C_out, kH, kW, stride, padding)) + (bias,))
    return configs


CONFIGS = [
    (1, 1, 28, 28, 8, 3, 3, 1, 1, True),   # an MNIST digit through a first layer
    (1, 3, 7, 5, 2, 3, 3, 2, 0, False),    # batch 1, no bias, non-square input
    (2, 2, 9, 6, 3, 5, 2, 3, 2, True),     # non-square kernel, stride 3, padding 2
    (3, 4, 5, 5, 4, 5, 5, 1, 0, True),     # kernel as large as the input: 1x1 output
    (2, 3, 6, 8, 5, 1, 1, 2, 0, False),    # 1x1 kernel with stride
    (2, 1, 4, 4, 2, 4, 4, 1, 2, True),     # padding wider than half the kernel
] + _random_configs(40)


def _case(cfg, seed):
    N, C_in, H, W, C_out, kH, kW, stride, padding, bias = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W))
    w = rng.standard_normal((C_out, C_in, kH, kW))
    b = rng.standard_normal(C_out) if bias else None
    return x, w, b, stride, padding, rng


def _torch_conv(x, w, b, stride, padding, dout):
    """Forward with torch, and the gradients of sum(out * dout) by autograd."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    out.backward(torch.tensor(dout))
    return (out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy())


def errors_for(cfg, seed) -> dict[str, float]:
    """Relative error of each reference op against torch for one configuration."""
    x, w, b, stride, padding, rng = _case(cfg, seed)
    kH, kW = w.shape[2:]
    out, cache = ref.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    t_out, t_dx, t_dw, t_db = _torch_conv(x, w, b, stride, padding, dout)
    dx, dw, db = ref.conv2d_backward(dout, cache)
    assert (db is None) == (b is None), "dbias must be None exactly when the bias is"
    errors = {"conv2d_forward": rel_err(out, t_out), "conv2d_backward dx": rel_err(dx, t_dx),
              "conv2d_backward dweight": rel_err(dw, t_dw),
              "conv2d_naive": rel_err(ref.conv2d_naive(x, w, b, stride, padding), t_out)}
    if b is not None:
        errors["conv2d_backward dbias"] = rel_err(db, t_db)

    # im2col is F.unfold with the windows as rows, each reordered from F.unfold's
    # (C_in, kH, kW) to channels-last (kH, kW, C_in); col2im is F.fold of the same.
    cols = ref.im2col(x, (kH, kW), stride, padding)  # (N, H_out, W_out, kH*kW*C_in)
    N, H_out, W_out, K = cols.shape
    C_in = x.shape[1]
    t_cols = F.unfold(torch.tensor(x), (kH, kW), padding=padding, stride=stride)  # (N, C_in*kH*kW, H_out*W_out)
    t_cols = t_cols.numpy().reshape(N, C_in, kH, kW, H_out, W_out).transpose(0, 4, 5, 2, 3, 1)
    errors["im2col"] = rel_err(cols, t_cols.reshape(N, H_out, W_out, K))
    c = rng.standard_normal(cols.shape)
    t_c = c.reshape(N, H_out, W_out, kH, kW, C_in).transpose(0, 5, 3, 4, 1, 2).reshape(N, K, H_out * W_out)
    t_x = F.fold(torch.tensor(t_c.copy()), x.shape[2:], (kH, kW), padding=padding, stride=stride)
    errors["col2im"] = rel_err(ref.col2im(c, x.shape, (kH, kW), stride, padding), t_x.numpy())
    return errors


def max_errors() -> dict[str, float]:
    """The largest relative error per op over every configuration (for the report)."""
    worst: dict[str, float] = {}
    for i, cfg in enumerate(CONFIGS):
        for op, err in errors_for(cfg, i).items():
            worst[op] = max(worst.get(op, 0.0), err)
    return worst


@pytest.mark.parametrize("i, cfg", list(enumerate(CONFIGS)),
                         ids=[f"{c[:4]}-k{c[5]}x{c[6]}-s{c[7]}-p{c[8]}-{'bias' if c[9] else 'nobias'}"
                              for c in CONFIGS])
def test_reference_conv_matches_torch(i, cfg):
    errors = errors_for(cfg, i)
    bad = {op: f"{e:.2e}" for op, e in errors.items() if not e < TOL}
    assert not bad, f"relative errors above {TOL:.0e} against torch for config {cfg}: {bad}"


def test_the_configurations_cover_the_cases_that_matter():
    """Batch 1, no bias, strides 1-3, paddings 0-2, non-square kernels and inputs are all exercised."""
    assert any(c[0] == 1 for c in CONFIGS) and any(not c[9] for c in CONFIGS)
    assert {c[7] for c in CONFIGS} >= {1, 2, 3} and {c[8] for c in CONFIGS} >= {0, 1, 2}
    assert any(c[5] != c[6] for c in CONFIGS) and any(c[2] != c[3] for c in CONFIGS)


def test_dx_is_float32_for_float32_inputs_and_close_to_torch():
    x, w, b, stride, padding, rng = _case((2, 3, 9, 7, 4, 3, 3, 2, 1, True), 123)
    x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
    out, cache = ref.conv2d_forward(x32, w32, b32, stride, padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    grads = ref.conv2d_backward(dout, cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    t_out, *t_grads = _torch_conv(x, w, b, stride, padding, dout.astype(np.float64))
    assert rel_err(out, t_out) < 1e-5
    assert all(rel_err(g, t) < 1e-5 for g, t in zip(grads, t_grads))
