"""The reference batch normalization against PyTorch's F.batch_norm (float64, 1e-5 relative error).

Forward output, the running statistics PyTorch updates in place (we return new
ones), and dx, dgamma, dbeta from autograd, in training and eval mode, for
(N, D) and (N, C, H, W) inputs (contiguous and channels-last views).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from solutions import normalization as ref  # noqa: E402
from oracle import rel_err as rel_error  # noqa: E402

pytestmark = pytest.mark.torch
TOL = 1e-5


def random_configs(ndim: int, count: int, seed: int):
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        shape = (int(rng.integers(2, 9)), int(rng.integers(1, 7)))
        if ndim == 4:
            shape = (int(rng.integers(1, 5)), shape[1], int(rng.integers(1, 6)), int(rng.integers(2, 7)))
        configs.append((shape, bool(i % 3 != 2), float(rng.choice([0.1, 0.01, 0.5, 1.0, 0.0])),
                        float(rng.choice([1e-5, 1e-3, 0.1])), i))
    return configs


def random_inputs(shape, seed, channels_last=False):
    rng = np.random.default_rng(seed)
    D = shape[1]
    if len(shape) == 4 and channels_last:
        N, C, H, W = shape
        x = (rng.standard_normal((N, H, W, C)) * 2 + 1).transpose(0, 3, 1, 2)
    else:
        x = rng.standard_normal(shape) * rng.uniform(0.5, 3, D).reshape((1, D) + (1,) * (len(shape) - 2)) + 1
    return (x, rng.uniform(0.5, 2, D), rng.standard_normal(D), rng.standard_normal(D), rng.uniform(0.5, 2, D),
            rng.standard_normal(shape))


def torch_batch_norm(x, gamma, beta, running_mean, running_var, training, momentum, eps, dout):
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    rm, rv = torch.tensor(running_mean.copy()), torch.tensor(running_var.copy())
    out = F.batch_norm(xt, rm, rv, gt, bt, training=training, momentum=momentum, eps=eps)
    out.backward(torch.tensor(np.ascontiguousarray(dout)))
    return {"out": out.detach().numpy(), "running_mean": rm.numpy(), "running_var": rv.numpy(),
            "dx": xt.grad.numpy(), "dgamma": gt.grad.numpy(), "dbeta": bt.grad.numpy()}


def errors_against_torch(forward, backward, shape, training, momentum, eps, seed, channels_last=False):
    """Relative errors of the reference against PyTorch for one configuration."""
    x, gamma, beta, rm, rv, dout = random_inputs(shape, seed, channels_last)
    out, cache, new_mean, new_var = forward(x, gamma, beta, rm, rv, training, momentum, eps)
    dx, dgamma, dbeta = backward(dout, cache)
    ours = {"out": out, "running_mean": new_mean, "running_var": new_var, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
    theirs = torch_batch_norm(x, gamma, beta, rm, rv, training, momentum, eps, dout)
    return {k: rel_error(ours[k], theirs[k]) for k in ours}


CONFIGS_1D = random_configs(2, 12, seed=0)
CONFIGS_2D = random_configs(4, 12, seed=1)


@pytest.mark.parametrize("shape, training, momentum, eps, seed", CONFIGS_1D)
def test_batchnorm_1d_matches_torch(shape, training, momentum, eps, seed):
    errors = errors_against_torch(ref.batchnorm_forward, ref.batchnorm_backward, shape, training, momentum, eps, seed)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels_last"])
@pytest.mark.parametrize("shape, training, momentum, eps, seed", CONFIGS_2D)
def test_batchnorm_2d_matches_torch(shape, training, momentum, eps, seed, channels_last):
    errors = errors_against_torch(ref.spatial_batchnorm_forward, ref.spatial_batchnorm_backward, shape, training,
                                  momentum, eps, seed, channels_last)
    assert max(errors.values()) < TOL, errors


def test_running_statistics_follow_torch_over_many_steps():
    """Ten training steps of BatchNorm2d, then eval: the running statistics and eval output agree."""
    rng = np.random.default_rng(5)
    C = 3
    layer = torch.nn.BatchNorm2d(C, momentum=0.1, eps=1e-5, dtype=torch.float64)
    gamma, beta = np.ones(C), np.zeros(C)
    rm, rv = np.zeros(C), np.ones(C)
    for _ in range(10):
        x = rng.standard_normal((4, C, 5, 5)) * 3 + 2
        layer(torch.tensor(x))
        _, _, rm, rv = ref.spatial_batchnorm_forward(x, gamma, beta, rm, rv, True)
    assert rel_error(rm, layer.running_mean.numpy()) < TOL
    assert rel_error(rv, layer.running_var.numpy()) < TOL
    layer.eval()
    x = rng.standard_normal((2, C, 4, 4))
    out, _, _, _ = ref.spatial_batchnorm_forward(x, gamma, beta, rm, rv, False)
    assert rel_error(out, layer(torch.tensor(x)).detach().numpy()) < TOL


def test_float32_stays_close_to_torch():
    x, gamma, beta, rm, rv, dout = (a.astype(np.float32) for a in random_inputs((16, 8, 6, 6), 9, True))
    out, cache, _, _ = ref.spatial_batchnorm_forward(x, gamma, beta, rm, rv, True)
    dx, _, _ = ref.spatial_batchnorm_backward(dout, cache)
    assert out.dtype == dx.dtype == np.float32
    theirs = torch_batch_norm(x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64),
                              rm.astype(np.float64), rv.astype(np.float64), True, 0.1, 1e-5, dout.astype(np.float64))
    assert rel_error(out, theirs["out"]) < 1e-5
    assert rel_error(dx, theirs["dx"]) < 1e-4
