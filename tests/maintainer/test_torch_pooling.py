"""The PyTorch oracle for pooling: the reference maxpool2d_forward/backward and
avgpool2d_forward/backward against torch.nn.functional.max_pool2d / avg_pool2d
(backward by autograd), in float64, on many random configurations, ties included."""
from __future__ import annotations

import numpy as np
import pytest

from solutions import pooling as ref
from oracle import rel_err

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
TOL = 1e-5


def _random_configs(count: int, seed: int = 0):
    """(N, C, H, W, kernel_size, stride, padding) that torch accepts: padding <= kernel // 2."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        N, C, H, W = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 5), rng.integers(2, 14),
                                       rng.integers(2, 14)))
        kH, kW = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        kernel = kH if rng.random() < 0.5 else (kH, kW)
        kH, kW = (kernel, kernel) if isinstance(kernel, int) else kernel
        stride = [None, int(rng.integers(1, 4)), (int(rng.integers(1, 4)), int(rng.integers(1, 4)))][rng.integers(3)]
        padding = int(rng.integers(0, min(kH, kW) // 2 + 1))
        if kH <= H + 2 * padding and kW <= W + 2 * padding:
            configs.append((N, C, H, W, kernel, stride, padding))
    return configs


CONFIGS = [
    (1, 1, 28, 28, 2, None, 0),      # an MNIST-sized map, the usual 2x2 pooling
    (2, 3, 7, 9, 2, None, 0),        # odd sizes: the last row and column are dropped
    (1, 2, 8, 6, 3, 1, 1),           # overlapping windows with padding
    (3, 2, 9, 9, 3, 2, 0),           # overlapping windows (stride < kernel)
    (2, 2, 6, 10, (2, 4), None, 1),  # non-square kernel, default stride, padding
    (1, 3, 5, 5, 5, 1, 2),           # kernel as large as the input
    (2, 1, 11, 7, (3, 2), (2, 1), 1),
] + _random_configs(40)


def _case(cfg, seed, ties=False):
    N, C, H, W, k, s, p = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    if ties:
        x = np.round(x)  # few distinct values: most windows have tied maxima
    return x, k, s, p, rng


def errors_for(cfg, seed, ties=False) -> dict[str, float]:
    x, k, s, p, rng = _case(cfg, seed, ties)
    errors = {}
    for name, torch_fn in (("maxpool2d", F.max_pool2d), ("avgpool2d", F.avg_pool2d)):
        if ties and name == "avgpool2d":
            continue
        out, cache = getattr(ref, f"{name}_forward")(x, k, s, p)
        dout = rng.standard_normal(out.shape)
        dx = getattr(ref, f"{name}_backward")(dout, cache)
        tx = torch.tensor(x, requires_grad=True)
        t_out = torch_fn(tx, k, s, p)  # avg_pool2d: count_include_pad=True by default
        t_out.backward(torch.tensor(dout))
        errors[f"{name}_forward"] = rel_err(out, t_out.detach().numpy())
        errors[f"{name}_backward"] = rel_err(dx, tx.grad.numpy())
    return errors


def max_errors() -> dict[str, float]:
    """The largest relative error per op over every configuration (for the report)."""
    worst: dict[str, float] = {}
    for i, cfg in enumerate(CONFIGS):
        for ties in (False, True):
            for op, err in errors_for(cfg, i, ties).items():
                worst[op] = max(worst.get(op, 0.0), err)
    return worst


def _ids(c):
    return f"{c[:4]}-k{c[4]}-s{c[5]}-p{c[6]}".replace(" ", "")


@pytest.mark.parametrize("i, cfg", list(enumerate(CONFIGS)), ids=[_ids(c) for c in CONFIGS])
def test_reference_pooling_matches_torch(i, cfg):
    errors = errors_for(cfg, i)
    bad = {op: f"{e:.2e}" for op, e in errors.items() if not e < TOL}
    assert not bad, f"relative errors above {TOL:.0e} against torch for config {cfg}: {bad}"


@pytest.mark.parametrize("i, cfg", list(enumerate(CONFIGS)), ids=[_ids(c) for c in CONFIGS])
def test_max_pooling_breaks_ties_as_torch(i, cfg):
    """On tied maxima the whole gradient goes to the same (first) element as in torch."""
    errors = errors_for(cfg, i, ties=True)
    # A tie broken differently moves a whole gradient (an error of order 1); only the
    # order of additions where windows overlap may differ (~1e-16).
    assert errors["maxpool2d_backward"] < 1e-12, f"tie broken differently from torch for {cfg}: {errors}"


def test_the_configurations_cover_the_cases_that_matter():
    """Batch 1, the default stride, overlap, padding, non-square kernels and odd sizes are all exercised."""
    def pairs(c):
        kH, kW = (c[4], c[4]) if isinstance(c[4], int) else c[4]
        sH, sW = (kH, kW) if c[5] is None else ((c[5], c[5]) if isinstance(c[5], int) else c[5])
        return kH, kW, sH, sW
    assert any(c[0] == 1 for c in CONFIGS) and any(c[5] is None for c in CONFIGS)
    assert any(pairs(c)[2] < pairs(c)[0] for c in CONFIGS) and {c[6] for c in CONFIGS} >= {0, 1, 2}
    assert any(pairs(c)[0] != pairs(c)[1] for c in CONFIGS) and any(c[2] % 2 for c in CONFIGS)


def test_float32_and_channels_last_views_match_torch():
    x, k, s, p, rng = _case((4, 6, 12, 10, 3, 2, 1), 7)
    x32 = np.ascontiguousarray(x.astype(np.float32).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # NHWC memory
    for name, torch_fn in (("maxpool2d", F.max_pool2d), ("avgpool2d", F.avg_pool2d)):
        out, cache = getattr(ref, f"{name}_forward")(x32, k, s, p)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx = getattr(ref, f"{name}_backward")(dout, cache)
        assert out.dtype == np.float32 and dx.dtype == np.float32
        assert out.transpose(0, 2, 3, 1).flags.c_contiguous  # an NCHW view of channels-last memory
        tx = torch.tensor(x32.astype(np.float64), requires_grad=True)
        t_out = torch_fn(tx, k, s, p)
        t_out.backward(torch.tensor(dout.astype(np.float64)))
        assert rel_err(out, t_out.detach().numpy()) < 1e-6
        assert rel_err(dx, tx.grad.numpy()) < 1e-6
