"""Checks for the update rules and the cosine schedule (chapter 06)."""
from __future__ import annotations

import math

import numpy as np

from .core import REF, Frozen, GradingError, check, compare, expect_raises, expect_tuple

SHAPES = [(1,), (3,), (4, 5), (2, 3, 3, 3)]

FLOAT32_HINT = ("keep float32: a NumPy float64 scalar (np.float64(...), np.power(beta1, t), np.sqrt(2.0)) turns "
                "float32 arrays into float64; use Python floats for the scalar factors (beta1 ** t, math.sqrt).")


def _expect_dtype(arr, dtype, what: str) -> None:
    if isinstance(arr, np.ndarray) and arr.dtype != dtype:
        raise GradingError(f"{what}: expected dtype {np.dtype(dtype)}, received {arr.dtype}", FLOAT32_HINT)


def _random_grads(shape, steps: int, seed: int):
    """Gradients of mixed sizes (1e-3 .. 1), so that eps and the moments' scales matter."""
    rng = np.random.default_rng(seed)
    scales = 10.0 ** rng.uniform(-3, 0, size=shape)
    return [rng.standard_normal(shape) * scales for _ in range(steps)]


# ---------------------------------------------------------------------------- 6.1 sgd_step

def _sgd_variant(p, g, vel, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, *,
                 zero_buffer=False, cs231n=False, no_decay=False, nesterov_as_plain=False):
    """sgd_step with the knobs of common mistakes (all off: PyTorch's rule)."""
    g = g if no_decay else g + weight_decay * p
    if momentum == 0:
        return p - lr * g, None
    if cs231n:  # velocity = momentum * velocity - lr * g; param += velocity
        vel = -lr * g if vel is None else momentum * vel - lr * g
        return p + vel, vel
    if vel is None and not zero_buffer:
        vel = g.copy()
    else:
        vel = momentum * (0 if vel is None else vel) + (1 - dampening) * g
    step = g + momentum * vel if nesterov and not nesterov_as_plain else vel
    return p - lr * step, vel


SGD_MISTAKES = [
    (dict(zero_buffer=True), "PyTorch starts the momentum buffer at the first gradient (velocity = g when velocity "
                             "is None), without dampening; a zero buffer gives (1 - dampening) * g."),
    (dict(cs231n=True), "in PyTorch's convention the buffer holds no lr: velocity = momentum * velocity + "
                        "(1 - dampening) * g, then param - lr * velocity."),
    (dict(no_decay=True), "weight decay is missing: use g = grad + weight_decay * param everywhere."),
    (dict(nesterov_as_plain=True), "with nesterov=True the step is g + momentum * velocity (the new velocity)."),
    (dict(momentum=0.0), "the momentum is ignored: velocity = momentum * velocity + (1 - dampening) * g."),
]


def _sgd_compare(impl, p, g, vel, lr, kw, desc, rtol=1e-7, atol=1e-10):
    new_p, new_v = expect_tuple(impl.sgd_step(p.copy(), g.copy(), None if vel is None else vel.copy(), lr, **kw),
                                2, "sgd_step")
    exp_p, exp_v = REF.sgd_step(p, g, vel, lr, **kw)
    alts = [(_sgd_variant(p, g, vel, lr, **{**kw, **knobs}), text) for knobs, text in SGD_MISTAKES]
    if exp_v is None and new_v is not None:
        raise GradingError(f"sgd_step{' for ' + desc}: with momentum=0 the returned velocity must be None, received "
                           f"{type(new_v).__name__}", "plain SGD keeps no buffer: return (new_param, None).")
    if exp_v is not None:
        if new_v is None:
            raise GradingError(f"sgd_step for {desc}: returned velocity None, expected the momentum buffer",
                               "with momentum > 0 return the new buffer, even on the first step.")
        compare(new_v, exp_v, "new_velocity", desc, rtol=rtol, atol=atol,
                hints=[(a[1], t) for a, t in alts if a[1] is not None])
    compare(new_p, exp_p, "new_param", desc, rtol=rtol, atol=atol, hints=[(a[0], t) for a, t in alts])


@check("sgd_step", "hand-computed cases")
def _(impl):
    p, g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([1.0, -1.0])
    v1 = np.array([0.5, 1.0])
    cases = [  # (grad, velocity, keywords, expected new_param, expected new_velocity)
        (g1, None, dict(), [0.95, -2.1], None),
        (g1, None, dict(weight_decay=0.1), [0.94, -2.08], None),
        (g1, None, dict(momentum=0.9, dampening=0.5), [0.95, -2.1], [0.5, 1.0]),
        (g2, v1, dict(momentum=0.9, dampening=0.5), [0.905, -2.04], [0.95, 0.4]),
        (g2, v1, dict(momentum=0.9, nesterov=True), [0.7695, -1.891], [1.45, -0.1]),
    ]
    for grad, vel, kw, exp_p, exp_v in cases:
        desc = (f"param=[1, -2], grad={grad.tolist()}, velocity={None if vel is None else vel.tolist()}, lr=0.1"
                + "".join(f", {k}={v}" for k, v in kw.items()))
        ref_p, ref_v = REF.sgd_step(p, grad, vel, 0.1, **kw)  # the literal numbers, as the reference sees them
        assert np.allclose(ref_p, exp_p) and (exp_v is None or np.allclose(ref_v, exp_v))
        _sgd_compare(impl, p, grad, vel, 0.1, kw, desc)


SGD_CONFIGS = [dict(lr=0.1), dict(lr=0.05, weight_decay=0.01), dict(lr=0.1, momentum=0.9),
               dict(lr=0.01, momentum=0.5, dampening=0.2), dict(lr=0.1, momentum=0.9, nesterov=True),
               dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.1),
               dict(lr=0.2, momentum=0.9, dampening=0.9, weight_decay=0.05)]


@check("sgd_step", "matches the reference over several steps")
def _(impl):
    for i, kw in enumerate(SGD_CONFIGS):
        shape = SHAPES[i % len(SHAPES)]
        p, vel = np.random.default_rng(i).standard_normal(shape), None
        kw = dict(kw)
        lr = kw.pop("lr")
        for step, g in enumerate(_random_grads(shape, 4, seed=100 + i)):
            desc = f"step {step + 1}, param.shape={shape}, lr={lr}" + "".join(f", {k}={v}" for k, v in kw.items())
            _sgd_compare(impl, p, g, vel, lr, kw, desc)
            p, vel = REF.sgd_step(p, g, vel, lr, **kw)  # continue from the reference's state


@check("sgd_step", "keeps float32, returns new arrays and leaves inputs unmodified")
def _(impl):
    rng = np.random.default_rng(7)
    p, g, vel = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    for velocity, kw in [(None, dict(momentum=0.9)), (vel, dict(momentum=0.9, weight_decay=0.1, nesterov=True)),
                         (None, dict(weight_decay=0.1))]:
        frozen = Frozen(param=p, grad=g, **({} if velocity is None else {"velocity": velocity}))
        new_p, new_v = expect_tuple(impl.sgd_step(p, g, velocity, 0.1, **kw), 2, "sgd_step")
        frozen.verify("sgd_step")
        exp_p, exp_v = REF.sgd_step(p, g, velocity, 0.1, **kw)
        for got, exp, what in [(new_p, exp_p, "new_param"), (new_v, exp_v, "new_velocity")]:
            if exp is None:
                continue
            _expect_dtype(got, np.float32, f"sgd_step {what} for float32 inputs")
            compare(got, exp, what, "float32 inputs", rtol=1e-5, atol=1e-6)
        if new_v is not None and np.shares_memory(new_v, g):
            raise GradingError("sgd_step returned the grad array itself as the new velocity",
                               "store a copy (g.copy()): the caller may overwrite grad in place before the next step.")


@check("sgd_step", "rejects bad hyper-parameters with a clear error")
def _(impl):
    p, g = np.ones(3), np.ones(3)
    impl.sgd_step(p, g, None, 0.1, momentum=0.9)  # a valid call first
    expect_raises(ValueError, impl.sgd_step, p, g, None, -0.1, what="sgd_step with lr=-0.1")
    expect_raises(ValueError, impl.sgd_step, p, g, None, 0.1, momentum=-0.5, what="sgd_step with momentum=-0.5")
    expect_raises(ValueError, impl.sgd_step, p, g, None, 0.1, nesterov=True,
                  what="sgd_step with nesterov=True and momentum=0")
    expect_raises(ValueError, impl.sgd_step, p, np.ones(4), None, 0.1, what="sgd_step with grad.shape != param.shape")


# ---------------------------------------------------------------------------- 6.2 and 6.3 adam_step, adamw_step

def _adam_variant(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, *, decoupled=False,
                  l2=True, corrected=True, t_offset=0, eps_inside=False, decay_lr=True, decay_after=False,
                  swap_beta1=False, return_hat=False):
    """Adam (decoupled=False) or AdamW (decoupled=True) with the knobs of common mistakes."""
    m = np.zeros_like(p) if m is None else m
    v = np.zeros_like(p) if v is None else v
    if not decoupled and l2:
        g = g + weight_decay * p
    decay = 1 - (lr if decay_lr else 1.0) * weight_decay if decoupled else 1.0
    m = (1 - beta1) * m + beta1 * g if swap_beta1 else beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    tt = t + t_offset
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m / (1 - beta1 ** tt) if corrected else m
        v_hat = v / (1 - beta2 ** tt) if corrected else v
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        update = lr * m_hat / denom
    new_p = (p - update) * decay if decay_after else p * decay - update
    return (new_p, m_hat, v_hat) if return_hat else (new_p, m, v)


ADAM_MISTAKES = [
    (dict(corrected=False), "bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t)."),
    (dict(t_offset=1), "t counts from 1 (the first step has t = 1): use beta**t, not beta**(t + 1)."),
    (dict(eps_inside=True), "eps goes outside the square root: sqrt(v_hat) + eps."),
    (dict(swap_beta1=True), "m = beta1 * m + (1 - beta1) * g: the old average keeps the weight beta1."),
    (dict(return_hat=True), "return the moments m and v themselves; m_hat and v_hat are only used for the step."),
]
ADAM_ONLY = [(dict(decoupled=True), "Adam's weight_decay is an L2 penalty: add weight_decay * param to the "
                                    "gradient (decoupled decay is AdamW)."),
             (dict(l2=False), "weight decay is missing: g = grad + weight_decay * param.")]
ADAMW_ONLY = [(dict(decoupled=False), "AdamW does not decay through the gradient (that is Adam's L2 penalty): "
                                      "multiply param by (1 - lr * weight_decay) and use grad as it is."),
              (dict(decay_lr=False), "PyTorch's AdamW scales the decay by the learning rate: param * (1 - lr * "
                                     "weight_decay)."),
              (dict(decay_after=True), "decay the old parameter, then subtract the Adam step: param * (1 - lr * "
                                       "weight_decay) - lr * m_hat / (sqrt(v_hat) + eps)."),
              (dict(weight_decay=0.0), "weight decay is missing: multiply param by (1 - lr * weight_decay).")]


def _adam_compare(impl, name, p, g, m, v, t, kw, desc, rtol=1e-7, atol=1e-12):
    copy = lambda a: None if a is None else a.copy()  # noqa: E731
    got = expect_tuple(getattr(impl, name)(p.copy(), g.copy(), copy(m), copy(v), t, **kw), 3, name)
    exp = getattr(REF, name)(p, g, m, v, t, **kw)
    decoupled = name == "adamw_step"
    mistakes = ADAM_MISTAKES + (ADAMW_ONLY if decoupled else ADAM_ONLY)
    alts = [(_adam_variant(p, g, m, v, t, **{**kw, "decoupled": decoupled, **knobs}), text) for knobs, text in mistakes]
    for k, what in ((1, "m"), (2, "v")):
        compare(got[k], exp[k], f"the returned {what}", desc, rtol=rtol, atol=atol,
                hints=[(a[k], text) for a, text in alts])
    # The step itself (new_param - param) is compared, so that small differences in it still show.
    with np.errstate(invalid="ignore"):
        compare(np.asarray(got[0]) - p, exp[0] - p, "the step new_param - param", desc, rtol=rtol * 10, atol=atol,
                hints=[(a[0] - p, text) for a, text in alts])


def _adam_hand_cases(name):
    p, g, p2, g2 = np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.9, -1.9]), np.array([0.25, 1.0])
    m1, v1 = np.array([0.05, -0.1]), np.array([0.00025, 0.001])
    if name == "adam_step":
        return [  # (param, grad, m, v, t, keywords, expected new_param, m, v)
            (p, g, None, None, 1, dict(lr=0.1, eps=0.0), [0.9, -1.9], m1, v1),
            (p2, g2, m1, v1, 2, dict(lr=0.1, eps=0.0), [0.8067820361, -1.9052631579], [0.07, 0.01],
             [0.00031225, 0.001999]),
            (p, g, None, None, 1, dict(lr=0.1, eps=0.5, weight_decay=0.5), [0.9333333333, -1.92], [0.1, -0.2],
             [0.001, 0.004]),
        ]
    return [
        (p, g, None, None, 1, dict(lr=0.1, eps=0.5, weight_decay=0.5), [0.9, -1.8333333333], m1, v1),
        (p2, g2, m1, v1, 2, dict(lr=0.1, eps=0.0, weight_decay=0.5), [0.7617820361, -1.8102631579], [0.07, 0.01],
         [0.00031225, 0.001999]),
    ]


def _adam_hand(impl, name):
    for p, g, m, v, t, kw, exp_p, exp_m, exp_v in _adam_hand_cases(name):
        desc = (f"param={p.tolist()}, grad={g.tolist()}, m={None if m is None else m.tolist()}, "
                f"v={None if v is None else v.tolist()}, t={t}" + "".join(f", {k}={x}" for k, x in kw.items()))
        ref = getattr(REF, name)(p, g, m, v, t, **kw)  # the literal numbers, as the reference sees them
        assert all(np.allclose(a, b, rtol=1e-9) for a, b in zip(ref, (exp_p, exp_m, exp_v)))
        _adam_compare(impl, name, p, g, m, v, t, kw, desc)


ADAM_CONFIGS = [dict(), dict(lr=0.1), dict(lr=0.01, beta1=0.5, beta2=0.9), dict(lr=0.05, eps=1e-3),
                dict(lr=0.1, weight_decay=0.1), dict(lr=0.3, beta1=0.0, beta2=0.5, eps=0.1, weight_decay=0.5)]


def _adam_random(impl, name):
    for i, kw in enumerate(ADAM_CONFIGS):
        shape = SHAPES[i % len(SHAPES)]
        p, m, v = np.random.default_rng(i).standard_normal(shape), None, None
        for t, g in enumerate(_random_grads(shape, 5, seed=200 + i), start=1):
            desc = f"t={t}, param.shape={shape}" + "".join(f", {k}={x}" for k, x in kw.items())
            _adam_compare(impl, name, p, g, m, v, t, kw, desc)
            p, m, v = getattr(REF, name)(p, g, m, v, t, **kw)  # continue from the reference's state


def _adam_invariants(impl, name):
    rng = np.random.default_rng(9)
    p, g, m = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3))
    v = np.abs(rng.standard_normal((4, 3))).astype(np.float32)
    for state in ((None, None), (m, v)):
        arrays = dict(param=p, grad=g) if state[0] is None else dict(param=p, grad=g, m=m, v=v)
        frozen = Frozen(**arrays)
        got = expect_tuple(getattr(impl, name)(p, g, *state, 3, lr=0.01, weight_decay=0.1), 3, name)
        frozen.verify(name)
        for out, exp, what in zip(got, getattr(REF, name)(p, g, *state, 3, lr=0.01, weight_decay=0.1),
                                  ("new_param", "m", "v")):
            _expect_dtype(out, np.float32, f"{name} {what} for float32 inputs")
            compare(out, exp, what, "float32 inputs", rtol=1e-5, atol=1e-7)


def _adam_bad_input(impl, name):
    p, g = np.ones(3), np.ones(3)
    getattr(impl, name)(p, g, None, None, 1)  # a valid call first
    for kw, what in [(dict(lr=-0.1), "lr=-0.1"), (dict(beta1=1.0), "beta1=1.0"), (dict(beta2=-0.1), "beta2=-0.1"),
                     (dict(eps=-1e-8), "eps=-1e-8")]:
        expect_raises(ValueError, getattr(impl, name), p, g, None, None, 1, **kw, what=f"{name} with {what}")
    expect_raises(ValueError, getattr(impl, name), p, g, None, None, 0, what=f"{name} with t=0 (steps count from 1)")


for _name in ("adam_step", "adamw_step"):
    check(_name, "hand-computed cases")(lambda impl, n=_name: _adam_hand(impl, n))
    check(_name, "matches the reference over several steps")(lambda impl, n=_name: _adam_random(impl, n))
    check(_name, "keeps float32 and leaves inputs unmodified")(lambda impl, n=_name: _adam_invariants(impl, n))
    check(_name, "rejects bad hyper-parameters with a clear error")(lambda impl, n=_name: _adam_bad_input(impl, n))


# ---------------------------------------------------------------------------- 6.4 cosine_lr

def _cosine_variant(step, total, base, min_lr=0.0, warmup=0, *, warmup_from_zero=False, ignore_warmup_offset=False,
                    no_clamp=False, no_min=False, no_half=False):
    """cosine_lr with the knobs of common mistakes."""
    if step < warmup:
        return base * (step if warmup_from_zero else step + 1) / warmup
    s = step if no_clamp else min(step, total)
    progress = s / total if ignore_warmup_offset else (s - warmup) / (total - warmup)
    low = 0.0 if no_min else min_lr
    return low + (base - low) * (1 + math.cos(math.pi * progress)) / (1 if no_half else 2)


COSINE_MISTAKES = [
    (dict(warmup_from_zero=True), "the warm-up is base_lr * (step + 1) / warmup_steps: step 0 already trains, with "
                                  "base_lr / warmup_steps."),
    (dict(ignore_warmup_offset=True), "the cosine starts after the warm-up: use (step - warmup_steps) / "
                                      "(total_steps - warmup_steps)."),
    (dict(no_clamp=True), "after total_steps the learning rate stays at min_lr (clamp the step to total_steps)."),
    (dict(no_min=True), "the cosine goes from base_lr down to min_lr: min_lr + (base_lr - min_lr) * (1 + cos) / 2."),
    (dict(no_half=True), "(1 + cos) runs from 2 to 0: halve it so that the schedule starts at base_lr."),
]


def _cosine_compare(impl, calls, desc, expected=None):
    got = []
    for args in calls:
        lr = impl.cosine_lr(*args)
        if not isinstance(lr, (float, np.floating)) or np.ndim(lr) != 0:
            raise GradingError(f"cosine_lr{args} returned {lr!r} of type {type(lr).__name__}, expected a float",
                               "return one number: use math.cos (not np.cos on arrays) and float(...).")
        got.append(float(lr))
    exp = [REF.cosine_lr(*args) for args in calls] if expected is None else expected
    hints = [([_cosine_variant(*args, **knobs) for args in calls], text) for knobs, text in COSINE_MISTAKES]
    compare(np.array(got), np.array(exp, dtype=np.float64), "cosine_lr", desc, rtol=1e-9, atol=1e-12, hints=hints)


@check("cosine_lr", "hand-computed cases")
def _(impl):
    calls = [(0, 10, 1.0), (5, 10, 1.0), (10, 10, 1.0), (12, 10, 1.0), (2, 4, 1.0, 0.1)]
    _cosine_compare(impl, calls, "steps 0, 5, 10, 12 of total_steps=10, base_lr=1; step 2 of 4 with min_lr=0.1",
                    [1.0, 0.5, 0.0, 0.0, 0.55])
    calls = [(s, 10, 0.4, 0.0, 4) for s in (0, 1, 2, 3, 4, 7, 10)]
    _cosine_compare(impl, calls, "steps 0, 1, 2, 3, 4, 7, 10 of total_steps=10, base_lr=0.4, warmup_steps=4",
                    [0.1, 0.2, 0.3, 0.4, 0.4, 0.2, 0.0])


@check("cosine_lr", "matches the reference at every step of several schedules")
def _(impl):
    for total, base, min_lr, warmup in [(1, 0.1, 0.0, 0), (7, 0.5, 0.05, 0), (20, 1e-3, 1e-5, 5),
                                        (100, 0.1, 0.0, 10), (13, 2.0, 1.0, 12), (50, 0.3, 0.3, 0)]:
        calls = [(s, total, base, min_lr, warmup) for s in range(total + 4)]
        _cosine_compare(impl, calls, f"steps 0 .. {total + 3} of total_steps={total}, base_lr={base}, "
                                     f"min_lr={min_lr}, warmup_steps={warmup}")


@check("cosine_lr", "rejects bad arguments with a clear error")
def _(impl):
    impl.cosine_lr(0, 10, 0.1)  # a valid call first
    for args, what in [((-1, 10, 0.1), "step=-1"), ((0, 10, -0.1), "base_lr=-0.1"),
                       ((0, 10, 0.1, 0.0, 10), "warmup_steps=10 of total_steps=10"), ((0, 0, 0.1), "total_steps=0")]:
        expect_raises(ValueError, impl.cosine_lr, *args, what=f"cosine_lr with {what}")
