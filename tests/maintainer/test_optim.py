"""Tests of cnnlib.optim: optimizers and schedulers against torch.optim, state round trips,
and argument checks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cnnlib import ops
from cnnlib.layers import BatchNorm1d, Conv2d, Flatten, Linear, ReLU, Sequential
from cnnlib.optim import SGD, Adam, AdamW, CosineLR, ExponentialLR, StepLR


def make_model(dtype=np.float64):
    return Sequential(Conv2d(2, 3, 3, rng=0, dtype=dtype), ReLU(), Flatten(), Linear(12, 4, rng=1, dtype=dtype),
                      BatchNorm1d(4, dtype=dtype), Linear(4, 2, bias=False, rng=2, dtype=dtype))


def set_random_grads(model, rng):
    """Gradients as a backward pass would leave them (fresh arrays each time)."""
    for _, layer, key in model.parameter_slots():
        layer.grads[key] = rng.standard_normal(layer.params[key].shape).astype(layer.params[key].dtype)


def run(model, opt, steps, seed=0, scheduler=None):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        set_random_grads(model, rng)
        opt.step()
        if scheduler is not None:
            scheduler.step()


OPTIMIZERS = {
    "sgd": (lambda m: SGD(m, lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    "momentum": (lambda m: SGD(m, lr=0.05, momentum=0.9, weight_decay=1e-3),
                 lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3)),
    "nesterov": (lambda m: SGD(m, lr=0.05, momentum=0.8, nesterov=True),
                 lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    "dampening": (lambda m: SGD(m, lr=0.05, momentum=0.5, dampening=0.3),
                  lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3)),
    "adam": (lambda m: Adam(m, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01),
             lambda t, p: t.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01)),
    "adamw": (lambda m: AdamW(m, lr=0.01), lambda t, p: t.optim.AdamW(p, lr=0.01)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_match_torch_optim(name):
    torch = pytest.importorskip("torch")
    ours, theirs = OPTIMIZERS[name]
    model = make_model()
    params = {n: torch.nn.Parameter(torch.tensor(layer.params[k].copy())) for n, layer, k in model.parameter_slots()}
    opt, opt_t = ours(model), theirs(torch, list(params.values()))
    sched, sched_t = StepLR(opt, 2, gamma=0.5), torch.optim.lr_scheduler.StepLR(opt_t, 2, gamma=0.5)
    rng = np.random.default_rng(0)
    for _ in range(6):
        set_random_grads(model, rng)
        for n, layer, k in model.parameter_slots():
            params[n].grad = torch.tensor(layer.grads[k])
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        assert opt.lr == pytest.approx(opt_t.param_groups[0]["lr"], rel=1e-12)
    for n, layer, k in model.parameter_slots():
        expected = params[n].detach().numpy()
        assert np.max(np.abs(layer.params[k] - expected)) <= 1e-10 * np.max(np.abs(expected)), n


def test_step_calls_the_update_exercises_and_updates_in_place(monkeypatch):
    calls = []
    for name in ("sgd_step", "adam_step", "adamw_step"):
        real = getattr(ops, name)
        monkeypatch.setattr(ops, name,
                            lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    model = make_model(np.float32)
    arrays = [layer.params[k] for _, layer, k in model.parameter_slots()]
    before = [a.copy() for a in arrays]
    for opt, rule in ((SGD(model, 0.1, momentum=0.9), "sgd_step"), (Adam(model), "adam_step"),
                      (AdamW(model), "adamw_step")):
        calls.clear()
        run(model, opt, 1)
        assert calls == [rule] * len(arrays)
    after = [layer.params[k] for _, layer, k in model.parameter_slots()]
    assert all(a is b for a, b in zip(arrays, after))  # the layers keep their arrays
    assert all(a.dtype == np.float32 for a in after)
    assert all(not np.array_equal(a, b) for a, b in zip(after, before))


def test_adam_counts_steps_from_one_for_bias_correction():
    model = Sequential(Linear(3, 2, rng=0))
    opt = Adam(model, lr=0.1)
    w = model.params["0.weight"].copy()
    model[0].grads["weight"] = np.full((2, 3), 5.0, np.float32)
    model[0].grads["bias"] = np.zeros(2, np.float32)
    opt.step()
    assert opt.t == 1
    # with bias correction the first Adam step moves every weight by lr (times sign(grad))
    np.testing.assert_allclose(model.params["0.weight"], w - 0.1, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", [lambda m: SGD(m, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda m: Adam(m, lr=0.01), lambda m: AdamW(m, lr=0.01, weight_decay=0.1)],
                         ids=["sgd", "adam", "adamw"])
def test_state_dict_round_trip_continues_exactly(make):
    a = make_model()
    opt_a = make(a)
    run(a, opt_a, 3)
    b = make_model()
    b.load_state_dict(a.state_dict())
    opt_b = make(b)
    opt_b.lr = 123.0  # overwritten by the loaded state
    state = opt_a.state_dict()
    assert all(isinstance(v, (np.ndarray, str, int, float, bool)) for v in state.values())
    opt_b.load_state_dict(state)
    for v in state.values():
        if isinstance(v, np.ndarray):
            v += 1000  # the optimizer holds copies
    run(a, opt_a, 2, seed=1)
    run(b, opt_b, 2, seed=1)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    assert opt_b.t == opt_a.t == 5 and opt_b.lr == opt_a.lr


def test_sgd_state_names_the_velocity_of_each_parameter():
    model = make_model()
    opt = SGD(model, lr=0.1, momentum=0.9)
    assert [k for k in opt.state_dict() if "." in k] == []  # no velocity before the first step
    run(model, opt, 1)
    state = opt.state_dict()
    assert state["type"] == "SGD" and state["step"] == 1 and state["momentum"] == 0.9
    assert sorted(k for k in state if k.startswith("velocity.")) == sorted(
        f"velocity.{n}" for n, _, _ in model.parameter_slots())
    plain = SGD(model, lr=0.1)
    run(model, plain, 1)
    assert not any(k.startswith("velocity.") for k in plain.state_dict())  # momentum 0 keeps no buffer


def test_load_state_dict_refuses_another_optimizers_state_and_wrong_shapes():
    model = make_model()
    sgd, adam = SGD(model, lr=0.1, momentum=0.9), Adam(model)
    run(model, sgd, 1)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: state must come from a Adam optimizer\. "
                                         r"Received: type='SGD'"):
        adam.load_state_dict(sgd.state_dict())
    state = sgd.state_dict()
    state["velocity.0.weight"] = np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"'velocity.0.weight' must have the shape of parameter '0.weight', "
                                         r"\(3, 2, 3, 3\)"):
        sgd.load_state_dict(state)
    state = sgd.state_dict()
    state["velocity.9.weight"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"'velocity.9.weight' must be '<slot>.<parameter name>'"):
        sgd.load_state_dict(state)


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda m: SGD(m, lr=-0.1), ValueError, r"SGD: lr must be >= 0\. Received: lr=-0.1"),
    (lambda m: SGD(m, lr="0.1"), TypeError, "SGD: lr must be a number"),
    (lambda m: SGD(m, lr=0.1, momentum=-0.5), ValueError, "momentum must be >= 0"),
    (lambda m: SGD(m, lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires momentum > 0"),
    (lambda m: SGD(m, lr=0.1, weight_decay=-1), ValueError, "weight_decay must be >= 0"),
    (lambda m: Adam(m, lr=float("nan")), ValueError, "lr must be >= 0"),
    (lambda m: Adam(m, betas=(0.9, 1.0)), ValueError, r"beta2 must be >= 0 and < 1\.0"),
    (lambda m: Adam(m, betas=0.9), ValueError, "betas must be a pair"),
    (lambda m: AdamW(m, eps=-1e-8), ValueError, "eps must be >= 0"),
    (lambda m: SGD([np.zeros(3)], lr=0.1), TypeError, "model must have parameter_slots"),
    (lambda m: StepLR(SGD(m, 0.1), step_size=0), ValueError, "StepLR: step_size must be >= 1"),
    (lambda m: ExponentialLR(SGD(m, 0.1), gamma=-0.5), ValueError, "gamma must be >= 0"),
    (lambda m: CosineLR(SGD(m, 0.1), total_steps=5, warmup_steps=5), ValueError,
     "warmup_steps must be smaller than total_steps"),
])
def test_bad_arguments_are_refused(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make(make_model())


def test_setting_a_negative_lr_is_refused():
    opt = SGD(make_model(), lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.lr = -1
    assert opt.lr == 0.1


# ----------------------------------------------------------------------------
# Schedulers

def test_step_and_exponential_lr_closed_forms():
    opt = SGD(make_model(), lr=1.0)
    sched = StepLR(opt, step_size=3, gamma=0.1)
    lrs = [opt.lr]
    for _ in range(7):
        sched.step()
        lrs.append(opt.lr)
    np.testing.assert_allclose(lrs, [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])
    opt = Adam(make_model(), lr=0.5)
    sched = ExponentialLR(opt, gamma=0.9)
    for _ in range(4):
        sched.step()
    assert opt.lr == pytest.approx(0.5 * 0.9 ** 4)


def test_cosine_lr_warms_up_then_decays_to_min_lr_via_the_exercise(monkeypatch):
    calls = []
    real = ops.cosine_lr
    monkeypatch.setattr(ops, "cosine_lr", lambda *a, **k: calls.append(a) or real(*a, **k))
    opt = SGD(make_model(), lr=0.4)
    sched = CosineLR(opt, total_steps=10, min_lr=0.04, warmup_steps=4)
    lrs = [opt.lr]
    for _ in range(12):
        sched.step()
        lrs.append(opt.lr)
    assert calls[0] == (0, 10, 0.4, 0.04, 4)
    np.testing.assert_allclose(lrs[:4], [0.1, 0.2, 0.3, 0.4])
    assert lrs[4] == pytest.approx(0.4) and lrs[10] == pytest.approx(0.04) and lrs[12] == pytest.approx(0.04)
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))
    assert lrs[7] == pytest.approx(0.04 + 0.36 * (1 + math.cos(math.pi * 3 / 6)) / 2)


def test_cosine_lr_matches_torch_cosine_annealing():
    torch = pytest.importorskip("torch")
    opt = SGD(make_model(), lr=0.3)
    sched = CosineLR(opt, total_steps=8, min_lr=0.01)
    opt_t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    sched_t = torch.optim.lr_scheduler.CosineAnnealingLR(opt_t, T_max=8, eta_min=0.01)
    for _ in range(8):
        assert opt.lr == pytest.approx(opt_t.param_groups[0]["lr"], rel=1e-10)
        opt_t.step()
        sched.step()
        sched_t.step()


def test_scheduler_state_round_trip_restores_base_lr_step_and_optimizer_lr():
    opt = SGD(make_model(), lr=0.2)
    sched = CosineLR(opt, total_steps=20, warmup_steps=2)
    for _ in range(7):
        sched.step()
    state = sched.state_dict()
    assert state == {"type": "CosineLR", "base_lr": 0.2, "last_step": 7, "total_steps": 20, "min_lr": 0.0,
                     "warmup_steps": 2}
    opt2 = SGD(make_model(), lr=5.0)
    sched2 = CosineLR(opt2, total_steps=3)
    sched2.load_state_dict(state)
    assert opt2.lr == opt.lr and sched2.base_lr == 0.2 and sched2.total_steps == 20
    sched.step()
    sched2.step()
    assert opt2.lr == opt.lr
    with pytest.raises(ValueError, match="state must come from a StepLR"):
        StepLR(opt2, 2).load_state_dict(state)
