"""The PyTorch oracle for the activations: the reference relu_forward/relu_backward
and the provided leaky ReLU, sigmoid and tanh against torch (forward, and backward
by autograd), in float64, on many random shapes."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlib import nonlinearities as act
from solutions import activations as ref
from oracle import rel_err

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
TOL = 1e-5

# name -> (forward, backward, torch function)
OPS = {
    "relu": (ref.relu_forward, ref.relu_backward, F.relu),
    "leaky_relu": (act.leaky_relu_forward, act.leaky_relu_backward, lambda t: F.leaky_relu(t, 0.01)),
    "leaky_relu(0.2)": (lambda x: act.leaky_relu_forward(x, 0.2), act.leaky_relu_backward,
                        lambda t: F.leaky_relu(t, 0.2)),
    "leaky_relu(1.5)": (lambda x: act.leaky_relu_forward(x, 1.5), act.leaky_relu_backward,
                        lambda t: F.leaky_relu(t, 1.5)),
    "sigmoid": (act.sigmoid_forward, act.sigmoid_backward, torch.sigmoid),
    "tanh": (act.tanh_forward, act.tanh_backward, torch.tanh),
}
SHAPES = [(1,), (7,), (3, 5), (1, 1, 1, 1), (2, 3, 4, 5), (4, 8, 7, 3), (1, 16, 28, 28)]


def random_input(shape, seed: int):
    """Normal values at three scales, with exact zeros (where ReLU's gradient convention shows)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * rng.choice([0.1, 1.0, 10.0], size=shape)
    x[rng.random(shape) < 0.1] = 0.0
    return x, rng.standard_normal(shape)


def errors_for(name, x, dout) -> dict[str, float]:
    forward, backward, torch_fn = OPS[name]
    out, cache = forward(x)
    dx = backward(dout, cache)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch_fn(tx)
    t_out.backward(torch.tensor(dout))
    return {f"{name} forward": rel_err(out, t_out.detach().numpy()), f"{name} backward": rel_err(dx, tx.grad.numpy())}


def max_errors() -> dict[str, float]:
    """The largest relative error per op over every shape (for the report)."""
    worst: dict[str, float] = {}
    for name in OPS:
        for i, shape in enumerate(SHAPES):
            for op, err in errors_for(name, *random_input(shape, i)).items():
                worst[op] = max(worst.get(op, 0.0), err)
    return worst


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("i, shape", list(enumerate(SHAPES)), ids=[str(s) for s in SHAPES])
def test_reference_activation_matches_torch(name, i, shape):
    errors = errors_for(name, *random_input(shape, i))
    bad = {op: f"{e:.2e}" for op, e in errors.items() if not e < TOL}
    assert not bad, f"relative errors above {TOL:.0e} against torch for shape {shape}: {bad}"


def test_relu_gradient_at_zero_is_zero_as_in_torch():
    x = np.array([-1.0, 0.0, -0.0, 1.0])
    tx = torch.tensor(x, requires_grad=True)
    F.relu(tx).backward(torch.ones(4))
    dx = ref.relu_backward(np.ones(4), ref.relu_forward(x)[1])
    assert np.array_equal(dx, tx.grad.numpy()) and dx[1] == 0.0


def test_sigmoid_does_not_overflow_and_matches_torch_in_the_tails():
    x = np.array([-800.0, -60.0, -20.0, 0.0, 20.0, 60.0, 800.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # an overflow in exp would raise here
        out, cache = act.sigmoid_forward(x)
        dx = act.sigmoid_backward(np.ones_like(x), cache)
    tx = torch.tensor(x, requires_grad=True)
    t_out = torch.sigmoid(tx)
    t_out.backward(torch.ones_like(tx))
    # element-wise relative error: the tiny values in the left tail are right too
    assert np.allclose(out, t_out.detach().numpy(), rtol=1e-12, atol=0)
    assert np.allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", list(OPS))
def test_float32_stays_float32_and_the_layout_is_kept(name):
    forward, backward, _ = OPS[name]
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype(np.float32).transpose(0, 3, 1, 2)
    out, cache = forward(x)  # x: an NCHW view of channels-last memory
    dx = backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert out.shape == x.shape and out.transpose(0, 2, 3, 1).flags.c_contiguous
