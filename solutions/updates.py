"""Reference solutions: optimizer update rules and the cosine schedule (chapter 06).

Every expression builds a new array (``beta1 * m + ...``, never ``m *= beta1``),
so the caller's parameter and state arrays are left as they were.
"""
from __future__ import annotations

import math

import numpy as np

from cnnlib.core.contracts import adam_state, check_betas, check_param_grad, check_rates, check_state
from cnnlib.core.validation import check_int, require


def sgd_step(param: np.ndarray, grad: np.ndarray, velocity: np.ndarray | None, lr: float,
             momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
             weight_decay: float = 0.0):
    """One step of stochastic gradient descent, as ``torch.optim.SGD`` takes it.

    With ``g = grad + weight_decay * param``::

        if momentum == 0:   new_param = param - lr * g            (velocity stays None)
        else:
            velocity = g                                     on the first step (velocity is None)
            velocity = momentum * velocity + (1 - dampening) * g   on every later step
            step = g + momentum * velocity  if nesterov  else  velocity
            new_param = param - lr * step

    Parameters
    ----------
    param : ndarray, any shape
    grad : ndarray, same shape and dtype as param
        Gradient of the loss with respect to param.
    velocity : ndarray like param, or None
        The momentum buffer returned by the previous step; None before the
        first step (and always when momentum == 0).
    lr : float
        Learning rate, >= 0.
    momentum : float
        >= 0; 0 is plain SGD.
    dampening : float
        Scales the gradient added to the buffer by ``1 - dampening`` (not on the first step).
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and dampening == 0).
    weight_decay : float
        L2 penalty ``weight_decay/2 * ||param||^2``, added to the gradient.

    Returns
    -------
    new_param : ndarray, same shape and dtype as param
    new_velocity : ndarray like param, or None when momentum == 0
        Both are new arrays: the inputs are not modified.
    """
    check_param_grad("sgd_step", param, grad)
    velocity = check_state("sgd_step", "velocity", velocity, param)
    lr, momentum, dampening, weight_decay = check_rates(
        "sgd_step", lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    require(not nesterov or (momentum > 0 and dampening == 0), "sgd_step",
            "Nesterov momentum requires momentum > 0 and dampening == 0",
            f"momentum={momentum}, dampening={dampening}")
    g = grad if weight_decay == 0 else grad + weight_decay * param  # a new array when decay is on
    if momentum == 0:
        return param - lr * g, None
    if velocity is None:
        velocity = g.copy()  # PyTorch starts the buffer at the first gradient, not at zero
    else:
        velocity = momentum * velocity + (1 - dampening) * g
    step = g + momentum * velocity if nesterov else velocity
    return param - lr * step, velocity


def adam_step(param: np.ndarray, grad: np.ndarray, m: np.ndarray | None, v: np.ndarray | None, t: int,
              lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
              weight_decay: float = 0.0):
    """One step of Adam, as ``torch.optim.Adam`` takes it (weight decay as an L2 penalty).

    With ``g = grad + weight_decay * param``::

        m = beta1 * m + (1 - beta1) * g           running mean of the gradient
        v = beta2 * v + (1 - beta2) * g**2        running mean of its square
        m_hat = m / (1 - beta1**t)                bias corrections: m and v start at 0
        v_hat = v / (1 - beta2**t)
        new_param = param - lr * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    param : ndarray, any shape
    grad : ndarray, same shape and dtype as param
    m, v : ndarray like param, or None
        The moments returned by the previous step; None (meaning zeros) before the first.
    t : int
        The number of this step, counted from 1.
    lr : float
        >= 0.
    beta1, beta2 : float
        In [0, 1).
    eps : float
        >= 0, added to the denominator, outside the square root.
    weight_decay : float
        >= 0, added to the gradient times param (L2 penalty; compare ``adamw_step``).

    Returns
    -------
    new_param : ndarray, same shape and dtype as param
    m, v : ndarray, same shape and dtype as param
        The updated moments, to pass to the next step. All three are new
        arrays: the inputs are not modified.
    """
    check_param_grad("adam_step", param, grad)
    m, v = adam_state("adam_step", param, m, v)
    t = check_int("adam_step", "t", t, 1)
    lr, eps, weight_decay = check_rates("adam_step", lr=lr, eps=eps, weight_decay=weight_decay)
    beta1, beta2 = check_betas("adam_step", beta1, beta2)
    g = grad if weight_decay == 0 else grad + weight_decay * param  # L2 penalty through the gradient
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g * g)
    m_hat = m / (1 - beta1 ** t)  # m and v start at 0: early averages are too small by 1 - beta**t
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_step(param: np.ndarray, grad: np.ndarray, m: np.ndarray | None, v: np.ndarray | None, t: int,
               lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
               weight_decay: float = 1e-2):
    """One step of AdamW, as ``torch.optim.AdamW`` takes it: Adam with decoupled weight decay.

    The decay shrinks the parameter directly instead of going through the
    gradient (so Adam's normalisation does not rescale it)::

        decayed = param * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        new_param = decayed - lr * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    param : ndarray, any shape
    grad : ndarray, same shape and dtype as param
    m, v : ndarray like param, or None
        The moments returned by the previous step; None (meaning zeros) before the first.
    t : int
        The number of this step, counted from 1.
    lr : float
        >= 0.
    beta1, beta2 : float
        In [0, 1).
    eps : float
        >= 0, added to the denominator, outside the square root.
    weight_decay : float
        >= 0, the decoupled decay rate (scaled by lr, as in PyTorch).

    Returns
    -------
    new_param : ndarray, same shape and dtype as param
    m, v : ndarray, same shape and dtype as param
        The updated moments, to pass to the next step. All three are new
        arrays: the inputs are not modified.
    """
    check_param_grad("adamw_step", param, grad)
    m, v = adam_state("adamw_step", param, m, v)
    t = check_int("adamw_step", "t", t, 1)
    lr, eps, weight_decay = check_rates("adamw_step", lr=lr, eps=eps, weight_decay=weight_decay)
    beta1, beta2 = check_betas("adamw_step", beta1, beta2)
    decayed = param * (1 - lr * weight_decay)  # decoupled: not through the gradient
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad * grad)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def cosine_lr(step: int, total_steps: int, base_lr: float, min_lr: float = 0.0, warmup_steps: int = 0) -> float:
    """Learning rate at ``step`` of a cosine schedule with linear warm-up.

    Steps are counted from 0. With ``W = warmup_steps`` and ``T = total_steps - W``::

        step < W:            lr = base_lr * (step + 1) / W          (base_lr/W, 2*base_lr/W, ..., base_lr)
        W <= step <= total:  lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * (step - W) / T)) / 2
        step > total:        lr = min_lr                            (the schedule has ended)

    so the cosine part starts at base_lr on step W and reaches min_lr on step
    ``total_steps``. With ``warmup_steps=0`` this is the closed form of
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps,
    eta_min=min_lr)`` after ``step`` calls of ``scheduler.step()``.

    Parameters
    ----------
    step : int
        >= 0.
    total_steps : int
        >= 1, the step at which the learning rate reaches min_lr.
    base_lr : float
        >= 0, the peak learning rate.
    min_lr : float
        >= 0, the final learning rate.
    warmup_steps : int
        0 <= warmup_steps < total_steps.

    Returns
    -------
    float
    """
    step = check_int("cosine_lr", "step", step, 0)
    total_steps = check_int("cosine_lr", "total_steps", total_steps, 1)
    warmup_steps = check_int("cosine_lr", "warmup_steps", warmup_steps, 0)
    require(warmup_steps < total_steps, "cosine_lr", "warmup_steps must be smaller than total_steps",
            f"warmup_steps={warmup_steps}, total_steps={total_steps}")
    base_lr, min_lr = check_rates("cosine_lr", base_lr=base_lr, min_lr=min_lr)
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    progress = (min(step, total_steps) - warmup_steps) / (total_steps - warmup_steps)  # 0 .. 1
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
