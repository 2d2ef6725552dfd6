"""PyTorch oracle for chapter 05: the reference linear layer, softmax and losses against
torch.nn.functional (forward, and backward through autograd), in float64."""
from __future__ import annotations

import numpy as np
import pytest

from solutions import linear as ref_linear
from solutions import losses as ref_losses
from oracle import rel_err as rel_error

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TOL = 1e-5


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def linear_errors() -> dict[str, float]:
    """Largest relative error of linear_forward / linear_backward against F.linear and autograd."""
    errors = {"linear_forward": 0.0, "linear_backward": 0.0}
    rng = np.random.default_rng(0)
    for N, n_in, n_out in [(1, 1, 1), (1, 7, 3), (5, 4, 4), (32, 784, 10), (9, 3136, 128), (3, 2, 17)]:
        for with_bias in (True, False):
            x, w = rng.standard_normal((N, n_in)), rng.standard_normal((n_out, n_in))
            b = rng.standard_normal(n_out) if with_bias else None
            dout = rng.standard_normal((N, n_out))
            out, cache = ref_linear.linear_forward(x, w, b)
            dx, dw, db = ref_linear.linear_backward(dout, cache)
            tx, tw, tb = _t(x, True), _t(w, True), (_t(b, True) if with_bias else None)
            tout = F.linear(tx, tw, tb)
            tout.backward(_t(dout))
            errors["linear_forward"] = max(errors["linear_forward"], rel_error(out, tout.detach()))
            grads = [(dx, tx.grad), (dw, tw.grad)] + ([(db, tb.grad)] if with_bias else [])
            assert with_bias or db is None
            errors["linear_backward"] = max(errors["linear_backward"], *(rel_error(a, g) for a, g in grads))
    return errors


def _logit_cases():
    rng = np.random.default_rng(1)
    for N, K, scale in [(1, 2, 1.0), (4, 10, 3.0), (64, 10, 10.0), (7, 3, 0.1), (5, 100, 5.0), (3, 1, 1.0)]:
        yield scale * rng.standard_normal((N, K)), rng.integers(0, K, N)
    # rows around +1000, -1000 and 500, a true class 1000 below its row's maximum
    yield (np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.5], [500.0, -500.0, 0.0]]), np.array([0, 2, 1]))


def loss_errors() -> dict[str, float]:
    """Largest relative error of softmax, softmax_cross_entropy and mse_loss against torch."""
    errors = {"softmax": 0.0, "softmax_cross_entropy (loss)": 0.0, "softmax_cross_entropy (dlogits)": 0.0,
              "mse_loss (loss)": 0.0, "mse_loss (dpred)": 0.0}
    for logits, labels in _logit_cases():
        errors["softmax"] = max(errors["softmax"], rel_error(ref_losses.softmax(logits),
                                                             torch.softmax(_t(logits), dim=1)))
        loss, dlogits = ref_losses.softmax_cross_entropy(logits, labels)
        tl = _t(logits, True)
        tloss = F.cross_entropy(tl, torch.tensor(labels))
        tloss.backward()
        assert isinstance(loss, float) and np.isfinite(loss)
        errors["softmax_cross_entropy (loss)"] = max(errors["softmax_cross_entropy (loss)"],
                                                     rel_error(loss, tloss.item()))
        errors["softmax_cross_entropy (dlogits)"] = max(errors["softmax_cross_entropy (dlogits)"],
                                                        rel_error(dlogits, tl.grad))
    rng = np.random.default_rng(2)
    for shape in [(1,), (10,), (4, 3), (8, 1, 5, 5), (2, 3, 4)]:
        pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
        loss, dpred = ref_losses.mse_loss(pred, target)
        tp = _t(pred, True)
        tloss = F.mse_loss(tp, _t(target))
        tloss.backward()
        errors["mse_loss (loss)"] = max(errors["mse_loss (loss)"], rel_error(loss, tloss.item()))
        errors["mse_loss (dpred)"] = max(errors["mse_loss (dpred)"], rel_error(dpred, tp.grad))
    return errors


def test_linear_matches_torch():
    errors = linear_errors()
    assert all(e < TOL for e in errors.values()), errors


def test_softmax_and_losses_match_torch():
    errors = loss_errors()
    assert all(e < TOL for e in errors.values()), errors
