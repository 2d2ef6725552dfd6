"""PyTorch oracle for chapter 06: trajectories of the reference update rules against
torch.optim.SGD / Adam / AdamW over several steps, and cosine_lr against torch's schedulers (float64)."""
from __future__ import annotations

import numpy as np
import pytest

from solutions import updates as ref
from oracle import rel_err as rel_error

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

TOL = 1e-5
STEPS = 8


def _trajectory_error(make_torch_opt, numpy_step, shape, seed: int) -> float:
    """Run both optimizers on the same start and the same gradients; largest relative error of the params."""
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 0, size=shape) for _ in range(STEPS)]
    tp = torch.tensor(param, dtype=torch.float64, requires_grad=True)
    opt = make_torch_opt([tp])
    state, err = None, 0.0
    for t, g in enumerate(grads, start=1):
        tp.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        param, state = numpy_step(param, g, state, t)
        err = max(err, rel_error(param, tp.detach().numpy()))
    return err


SGD_CONFIGS = [dict(lr=0.1), dict(lr=0.05, weight_decay=0.01), dict(lr=0.1, momentum=0.9),
               dict(lr=0.01, momentum=0.5, dampening=0.2), dict(lr=0.1, momentum=0.9, nesterov=True),
               dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.1),
               dict(lr=0.2, momentum=0.9, dampening=0.9, weight_decay=0.05)]
ADAM_CONFIGS = [dict(), dict(lr=0.1), dict(lr=0.01, betas=(0.5, 0.9)), dict(lr=0.05, eps=1e-3),
                dict(lr=0.1, weight_decay=0.1), dict(lr=0.3, betas=(0.0, 0.5), eps=0.1, weight_decay=0.5)]
SHAPES = [(1,), (7,), (4, 5), (3, 2, 3, 3)]


def sgd_errors() -> dict[str, float]:
    err = 0.0
    for i, kw in enumerate(SGD_CONFIGS):
        def step(p, g, vel, t, kw=kw):
            return ref.sgd_step(p, g, vel, **kw)
        err = max(err, _trajectory_error(lambda ps, kw=kw: torch.optim.SGD(ps, **kw), step,
                                         SHAPES[i % len(SHAPES)], seed=i))
    return {"sgd_step": err}


def adam_errors() -> dict[str, float]:
    errors = {}
    for name, torch_cls, fn in [("adam_step", torch.optim.Adam, ref.adam_step),
                                ("adamw_step", torch.optim.AdamW, ref.adamw_step)]:
        err = 0.0
        for i, kw in enumerate(ADAM_CONFIGS + ([dict(lr=0.01)] if name == "adamw_step" else [])):
            np_kw = {k: v for k, v in kw.items() if k != "betas"}
            if "betas" in kw:
                np_kw["beta1"], np_kw["beta2"] = kw["betas"]

            def step(p, g, state, t, fn=fn, np_kw=np_kw):
                m, v = state if state is not None else (None, None)
                p, m, v = fn(p, g, m, v, t, **np_kw)
                return p, (m, v)
            err = max(err, _trajectory_error(lambda ps, cls=torch_cls, kw=kw: cls(ps, **kw), step,
                                             SHAPES[i % len(SHAPES)], seed=10 + i))
        errors[name] = err
    return errors


def cosine_errors() -> dict[str, float]:
    """Largest |lr - torch's lr| / base_lr over every step: CosineAnnealingLR (warmup 0),
    and LinearLR then CosineAnnealingLR in a SequentialLR (warm-up)."""
    sched = torch.optim.lr_scheduler
    err = 0.0
    for total, base, min_lr, warmup in [(1, 0.1, 0.0, 0), (10, 1.0, 0.0, 0), (37, 0.3, 0.01, 0),
                                        (10, 0.4, 0.0, 4), (20, 0.1, 0.01, 5), (100, 2.0, 0.5, 2)]:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
        if warmup:
            scheduler = sched.SequentialLR(opt, [sched.LinearLR(opt, 1 / warmup, 1.0, warmup - 1),
                                                 sched.CosineAnnealingLR(opt, total - warmup, min_lr)],
                                           milestones=[warmup])
        else:
            scheduler = sched.CosineAnnealingLR(opt, T_max=total, eta_min=min_lr)
        for step in range(total + 1):
            lr = ref.cosine_lr(step, total, base, min_lr, warmup)
            assert isinstance(lr, float)
            err = max(err, abs(lr - opt.param_groups[0]["lr"]) / base)
            opt.step()
            scheduler.step()
    return {"cosine_lr": err}


def test_sgd_matches_torch():
    errors = sgd_errors()
    assert errors["sgd_step"] < TOL, errors


def test_adam_and_adamw_match_torch():
    errors = adam_errors()
    assert all(e < TOL for e in errors.values()), errors


def test_cosine_lr_matches_torch_schedulers():
    errors = cosine_errors()
    assert errors["cosine_lr"] < TOL, errors
