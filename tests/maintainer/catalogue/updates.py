"""Plausible wrong implementations of the update rules and the cosine schedule (chapter 06), and correct
alternatives."""
import math

import numpy as np

from cnnlib.grading.updates import _adam_variant, _cosine_variant, _sgd_variant
from cnnlib.core.contracts import adam_state, check_betas, check_param_grad, check_rates, check_state
from cnnlib.core.validation import check_int, require
from solutions import updates as ref


def _sgd(**knobs):
    def sgd_step(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        return _sgd_variant(param, grad, velocity, lr, momentum, dampening, nesterov, weight_decay, **knobs)
    return sgd_step


def _sgd_in_place(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    g = grad + weight_decay * param
    if momentum == 0:
        param -= lr * g
        return param, None
    if velocity is None:
        velocity = g.copy()
    else:
        velocity *= momentum
        velocity += (1 - dampening) * g
    param -= lr * (g + momentum * velocity if nesterov else velocity)
    return param, velocity


def _sgd_aliases_grad(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if momentum == 0 or velocity is not None or weight_decay != 0:
        return ref.sgd_step(param, grad, velocity, lr, momentum, dampening, nesterov, weight_decay)
    velocity = grad  # the first buffer is the caller's grad array itself
    return param - lr * (grad + momentum * velocity if nesterov else velocity), velocity


def _sgd_zero_velocity(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    new_p, new_v = ref.sgd_step(param, grad, velocity, lr, momentum, dampening, nesterov, weight_decay)
    return new_p, np.zeros_like(param) if new_v is None else new_v


def _sgd_unchecked(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    return _sgd_variant(param, grad, velocity, lr, momentum, 0.0 if nesterov else dampening, nesterov, weight_decay)


def _adam(decoupled, default_decay=None, **knobs):
    """A wrong adam_step (decoupled=False) or adamw_step; its weight_decay default is that exercise's."""
    default_decay = (1e-2 if decoupled else 0.0) if default_decay is None else default_decay

    def step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=default_decay):
        return _adam_variant(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled=decoupled, **knobs)
    return step


def _adam_in_place(decoupled):
    def step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0 if not decoupled
             else 1e-2):
        m = np.zeros_like(param) if m is None else m
        v = np.zeros_like(param) if v is None else v
        g = grad if decoupled else grad + weight_decay * param
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        decay = 1 - lr * weight_decay if decoupled else 1.0
        return param * decay - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v
    return step


def _adam_np_power(decoupled):
    def step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0 if not decoupled
             else 1e-2):
        fn = ref.adamw_step if decoupled else ref.adam_step
        new_p, m, v = fn(param, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)
        bc = np.power(beta1, 0)  # 1.0 as a NumPy float64 scalar: harmless in value, not in dtype
        return new_p * bc, m * bc, v * bc
    return step


def _adam_unchecked(decoupled):
    def step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0 if not decoupled
             else 1e-2):
        return _adam_variant(param, grad, m, v, max(t, 1), abs(lr), beta1, beta2, abs(eps), weight_decay,
                             decoupled=decoupled)
    return step


def _adam_wrong(decoupled):
    common = {
        "no bias correction": _adam(decoupled, corrected=False),
        "t counted from 0": _adam(decoupled, t_offset=1),
        "eps inside the square root": _adam(decoupled, eps_inside=True),
        "beta1 and 1 - beta1 swapped": _adam(decoupled, swap_beta1=True),
        "returns m_hat and v_hat": _adam(decoupled, return_hat=True),
        "updates m and v in place": _adam_in_place(decoupled),
        "np.power upcasts float32": _adam_np_power(decoupled),
        "no hyper-parameter checks": _adam_unchecked(decoupled),
    }
    if decoupled:
        common.update({
            "decays through the gradient (Adam's L2)": _adam(False, default_decay=1e-2),
            "decay not scaled by lr": _adam(True, decay_lr=False),
            "decays after the update": _adam(True, decay_after=True),
        })
    else:
        common.update({
            "decoupled decay (AdamW)": _adam(True, default_decay=0.0),
            "weight decay ignored": _adam(False, l2=False),
        })
    return common


def _cosine(**knobs):
    def cosine_lr(step, total_steps, base_lr, min_lr=0.0, warmup_steps=0):
        return _cosine_variant(step, total_steps, base_lr, min_lr, warmup_steps, **knobs)
    return cosine_lr


WRONG = {
    "sgd_step": {
        "momentum buffer starts at zero": _sgd(zero_buffer=True),
        "CS231n velocity (lr inside the buffer)": _sgd(cs231n=True),
        "weight decay ignored": _sgd(no_decay=True),
        "Nesterov steps with the buffer only": _sgd(nesterov_as_plain=True),
        "updates param and velocity in place": _sgd_in_place,
        "first buffer is grad itself": _sgd_aliases_grad,
        "zero velocity instead of None": _sgd_zero_velocity,
        "no hyper-parameter checks": _sgd_unchecked,
        "upcasts to float64": lambda p, g, vel, lr, *a, **k: tuple(
            None if r is None else r.astype(np.float64) for r in ref.sgd_step(p, g, vel, lr, *a, **k)),
    },
    "adam_step": _adam_wrong(False),
    "adamw_step": _adam_wrong(True),
    "cosine_lr": {
        "warm-up starts at 0": _cosine(warmup_from_zero=True),
        "cosine ignores the warm-up offset": _cosine(ignore_warmup_offset=True),
        "not clamped after total_steps": _cosine(no_clamp=True),
        "min_lr ignored": _cosine(no_min=True),
        "(1 + cos) not halved": _cosine(no_half=True),
        "returns a 0-d array": lambda *args: np.array(ref.cosine_lr(*args)),
        "no argument checks": lambda step, total, base, min_lr=0.0, warmup=0: _cosine_variant(
            max(step, 0), max(total, warmup + 1), abs(base), min_lr, warmup),
    },
}


def _sgd_torch_style(param, grad, velocity, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """Copy once, then update the copies in place as torch.optim.SGD does."""
    check_param_grad("sgd_step", param, grad)
    velocity = check_state("sgd_step", "velocity", velocity, param)
    lr, momentum, dampening, weight_decay = check_rates(
        "sgd_step", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    require(not nesterov or (momentum > 0 and dampening == 0), "sgd_step", "Nesterov needs momentum", "")
    p, d_p = param.copy(), grad.copy()
    d_p += weight_decay * param
    buf = None
    if momentum != 0:
        if velocity is None:
            buf = d_p.copy()
        else:
            buf = velocity.copy()
            buf *= momentum
            buf += (1 - dampening) * d_p
        d_p = d_p + momentum * buf if nesterov else buf
    p -= lr * d_p
    return p, buf


def _adam_torch_style(decoupled):
    def step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0 if not decoupled
             else 1e-2):
        name = "adamw_step" if decoupled else "adam_step"
        check_param_grad(name, param, grad)
        m, v = adam_state(name, param, m, v)
        t = check_int(name, "t", t, 1)
        lr, eps, weight_decay = check_rates(name, lr=lr, eps=eps, weight_decay=weight_decay)
        beta1, beta2 = check_betas(name, beta1, beta2)
        p = param * (1 - lr * weight_decay) if decoupled else param.copy()
        g = grad if decoupled else grad + weight_decay * param
        m = m + (1 - beta1) * (g - m)  # torch's exp_avg.lerp_(grad, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
        return p - step_size * (m / denom), m, v
    return step


def _cosine_squared(step, total_steps, base_lr, min_lr=0.0, warmup_steps=0):
    """(1 + cos x) / 2 == cos(x / 2)**2."""
    step = check_int("cosine_lr", "step", step, 0)
    total_steps = check_int("cosine_lr", "total_steps", total_steps, 1)
    warmup_steps = check_int("cosine_lr", "warmup_steps", warmup_steps, 0)
    require(warmup_steps < total_steps, "cosine_lr", "warmup_steps < total_steps", "")
    base_lr, min_lr = check_rates("cosine_lr", base_lr=base_lr, min_lr=min_lr)
    if step < warmup_steps:
        return (step + 1) * base_lr / warmup_steps
    x = math.pi * (min(step, total_steps) - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * math.cos(x / 2) ** 2


RIGHT = {
    "sgd_step": {"torch-style copies updated in place": _sgd_torch_style},
    "adam_step": {"torch-style step size and lerp": _adam_torch_style(False)},
    "adamw_step": {"torch-style step size and lerp": _adam_torch_style(True)},
    "cosine_lr": {"cos squared of half the angle": _cosine_squared},
}
