"""The reference dropout against PyTorch's F.dropout and F.dropout2d (float64).

The two libraries draw different random masks, so the comparison is of the
rule, not of the draws: the kept values are scaled by the same 1 / (1 - p),
eval mode is the identity in both, and given PyTorch's own mask our backward
returns PyTorch's gradient (to 1e-5 relative error).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from solutions import dropout as ref  # noqa: E402
from oracle import rel_err as rel_error  # noqa: E402

pytestmark = pytest.mark.torch
TOL = 1e-5
CASES = [((64, 50), 0.5), ((32, 7), 0.1), ((16, 4, 5, 5), 0.3), ((8, 3, 2, 7), 0.75)]


def torch_dropout(fn, x, p, dout, seed):
    """PyTorch's output, x.grad, and the mask it drew (out / x, as x has no zeros)."""
    torch.manual_seed(seed)
    xt = torch.tensor(x, requires_grad=True)
    out = fn(xt, p=p, training=True)
    out.backward(torch.tensor(dout))
    out = out.detach().numpy()
    return out, xt.grad.numpy(), out / x


@pytest.mark.parametrize("shape, p", CASES)
def test_kept_values_are_scaled_like_torch(shape, p):
    x = np.ones(shape)
    torch.manual_seed(0)
    theirs = F.dropout(torch.tensor(x), p=p, training=True).numpy()
    ours, _ = ref.dropout_forward(x, p, True, np.random.default_rng(0))
    assert np.unique(theirs[theirs != 0]).size == 1 and np.unique(ours[ours != 0]).size == 1
    assert rel_error(ours[ours != 0][0], theirs[theirs != 0][0]) < TOL


@pytest.mark.parametrize("shape, p", CASES)
def test_backward_with_torch_mask_matches_torch_gradient(shape, p):
    rng = np.random.default_rng(1)
    x, dout = 1 + rng.random(shape), rng.standard_normal(shape)
    out, grad, mask = torch_dropout(F.dropout, x, p, dout, seed=2)
    assert rel_error(x * mask, out) < TOL  # our forward rule, out = x * mask, with PyTorch's mask
    assert rel_error(ref.dropout_backward(dout, (mask, p, True)), grad) < TOL


@pytest.mark.parametrize("shape, p", [s for s in CASES if len(s[0]) == 4])
def test_spatial_dropout_matches_torch_dropout2d(shape, p):
    rng = np.random.default_rng(3)
    x, dout = 1 + rng.random(shape), rng.standard_normal(shape)
    out, grad, mask = torch_dropout(F.dropout2d, x, p, dout, seed=4)
    channel_mask = mask[:, :, :1, :1]  # (N, C, 1, 1): PyTorch drops whole channels too
    assert rel_error(np.broadcast_to(channel_mask, shape), mask) < TOL
    assert rel_error(ref.dropout_backward(dout, (channel_mask, p, True)), grad) < TOL
    ours, cache = ref.spatial_dropout_forward(x, p, True, np.random.default_rng(5))
    assert cache[0].shape == channel_mask.shape
    assert set(np.unique(cache[0])) <= set(np.unique(channel_mask)) | {0.0, 1 / (1 - p)}
    assert rel_error(cache[0].max(), channel_mask.max()) < TOL


@pytest.mark.parametrize("shape, p", CASES)
def test_eval_mode_is_the_identity_in_both(shape, p):
    x = np.random.default_rng(6).standard_normal(shape)
    fn = F.dropout2d if len(shape) == 4 else F.dropout
    theirs = fn(torch.tensor(x), p=p, training=False).numpy()
    ours, cache = (ref.spatial_dropout_forward if len(shape) == 4 else ref.dropout_forward)(
        x, p, False, np.random.default_rng(0))
    assert np.array_equal(ours, theirs) and np.array_equal(ours, x)
    assert np.array_equal(ref.dropout_backward(x, cache), x)


def test_fraction_dropped_agrees_with_torch():
    x, p = np.ones((500, 400)), 0.3
    ours, _ = ref.dropout_forward(x, p, True, np.random.default_rng(7))
    torch.manual_seed(7)
    theirs = F.dropout(torch.tensor(x), p=p, training=True).numpy()
    for out in (ours, theirs):
        assert abs((out == 0).mean() - p) < 0.005
