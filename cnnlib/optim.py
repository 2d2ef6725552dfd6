"""Optimizers and learning-rate schedules (chapter 06), as in ``torch.optim``.

An optimizer walks ``model.parameter_slots()`` and updates each parameter with
the chapter-06 exercise functions (``updates.sgd_step``, ``adam_step``,
``adamw_step``), so your update rules train your network:

>>> opt = SGD(model, lr=0.05, momentum=0.9)
>>> model.backward(dlogits)   # fills every layer's grads
>>> opt.step()                # updates every layer's params in place

There is no ``zero_grad``: a layer's backward overwrites its grads.

Schedulers set ``optimizer.lr``. ``StepLR`` and ``ExponentialLR`` are meant to be
stepped once per epoch, ``CosineLR`` (``updates.cosine_lr``) once per optimizer
step, with ``total_steps = epochs * batches per epoch`` (stepping it per epoch
works too, with ``total_steps = epochs``). The trainer's ``scheduler_interval``
says which.

Every optimizer and scheduler has ``state_dict()`` / ``load_state_dict()``: a
flat dict of arrays (the per-parameter state, e.g. ``"velocity.0.weight"``) and
scalars (``"lr"``, ``"step"``, the hyper-parameters), which checkpoints save.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .core.validation import check_int, require

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Scheduler", "StepLR", "ExponentialLR", "CosineLR"]


def _check_rate(func: str, name: str, value, upper: float | None = None) -> float:
    """A real number >= 0 (and < upper when given)."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    require(ok, func, f"{name} must be a number", f"{name}={value!r}", TypeError)
    rule = f"{name} must be >= 0" + (f" and < {upper}" if upper is not None else "")
    require(np.isfinite(value) and value >= 0 and (upper is None or value < upper), func, rule, f"{name}={value!r}")
    return float(value)


class Optimizer:
    """Base class: holds ``model``, the learning rate ``lr``, the step count and per-parameter state.

    Subclasses list their hyper-parameters in ``_hyper`` and their per-parameter
    arrays in ``_slots`` and implement ``_update(name, param, grad)``.
    """

    _hyper: tuple = ()
    _slots: tuple = ()

    def __init__(self, model, lr: float):
        name = type(self).__name__
        require(callable(getattr(model, "parameter_slots", None)), name,
                "model must have parameter_slots() (a Sequential or a layer)",
                f"model of type {type(model).__name__}", TypeError)
        self.model = model
        self.lr = lr
        self.t = 0  # optimizer steps taken (Adam's bias correction counts from 1)
        self.state: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self._slots}

    @property
    def lr(self) -> float:
        """The learning rate of the next step (schedulers change it)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_rate(type(self).__name__, "lr", value)

    def step(self) -> None:
        """Update every parameter of the model in place from its gradient."""
        self.t += 1
        for name, layer, key in self.model.parameter_slots():
            param = layer.params[key]
            new_param = self._update(name, param, layer.grads[key])
            # In place: the layer keeps the same array (and dtype), whatever holds a reference to it.
            param[...] = new_param

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("lr", *self._hyper))
        return f"{type(self).__name__}({hyper})"

    # -- saving and restoring ----------------------------------------------------
    def state_dict(self) -> dict:
        """Scalars (``"type"``, ``"lr"``, ``"step"``, hyper-parameters) and copies of the
        per-parameter arrays under ``"<slot>.<parameter name>"`` (``"velocity.0.weight"``)."""
        state = {"type": type(self).__name__, "lr": self.lr, "step": self.t}
        state.update({k: getattr(self, k) for k in self._hyper})
        for slot, arrays in self.state.items():
            state.update({f"{slot}.{name}": a.copy() for name, a in arrays.items()})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (for the same model architecture).

        Raises ValueError, before changing anything, when the state is another
        optimizer's, names a parameter the model does not have, or a shape differs.
        """
        func = f"{type(self).__name__}.load_state_dict"
        require(isinstance(state, dict), func, "state must be the dict state_dict() returns",
                f"state of type {type(state).__name__}", TypeError)
        require(state.get("type") == type(self).__name__, func,
                f"state must come from a {type(self).__name__} optimizer", f"type={state.get('type')!r}")
        missing = [k for k in ("lr", "step", *self._hyper) if k not in state]
        require(not missing, func, f"state must hold {missing}", f"keys {sorted(state)}")
        params = {name: layer.params[key] for name, layer, key in self.model.parameter_slots()}
        slots = {slot: {} for slot in self._slots}
        for key, value in state.items():
            if not isinstance(value, np.ndarray):
                continue
            slot, _, name = key.partition(".")
            require(slot in slots and name in params, func,
                    f"'{key}' must be '<slot>.<parameter name>' with a slot in {self._slots} and a parameter "
                    f"of the model", f"'{key}' (the model's parameters: {sorted(params)})")
            require(value.shape == params[name].shape, func,
                    f"'{key}' must have the shape of parameter '{name}', {params[name].shape}",
                    f"{key}.shape={value.shape}")
            slots[slot][name] = value.astype(params[name].dtype, copy=True)
        hyper = {k: state[k] for k in self._hyper}
        self._set_hyper(**hyper)  # validates them
        self.lr, self.t, self.state = state["lr"], int(state["step"]), slots

    def _set_hyper(self, **hyper) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov and weight decay (``updates.sgd_step``).

    Parameters
    ----------
    model : Sequential (anything with ``parameter_slots()``)
    lr : float
        Learning rate, >= 0.
    momentum : float
        >= 0; 0 is plain SGD (no velocity is kept).
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and dampening == 0).
    weight_decay : float
        L2 penalty added to the gradient, >= 0.
    dampening : float
        As in ``torch.optim.SGD``.
    """

    _hyper = ("momentum", "dampening", "nesterov", "weight_decay")
    _slots = ("velocity",)

    def __init__(self, model, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 dampening: float = 0.0):
        super().__init__(model, lr)
        self._set_hyper(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)

    def _set_hyper(self, momentum, dampening, nesterov, weight_decay):
        self.momentum = _check_rate("SGD", "momentum", momentum)
        self.dampening = _check_rate("SGD", "dampening", dampening)
        self.weight_decay = _check_rate("SGD", "weight_decay", weight_decay)
        require(not nesterov or (self.momentum > 0 and self.dampening == 0), "SGD",
                "Nesterov momentum requires momentum > 0 and dampening == 0",
                f"nesterov={nesterov}, momentum={momentum}, dampening={dampening}")
        self.nesterov = bool(nesterov)

    def _update(self, name, param, grad):
        new_param, velocity = ops.sgd_step(param, grad, self.state["velocity"].get(name), self.lr,
                                                 self.momentum, self.dampening, self.nesterov, self.weight_decay)
        if velocity is not None:
            self.state["velocity"][name] = velocity
        return new_param


class Adam(Optimizer):
    """Adam (``updates.adam_step``); ``weight_decay`` adds an L2 term to the gradient as ``torch.optim.Adam``.

    Parameters
    ----------
    model : Sequential
    lr : float
    betas : (beta1, beta2)
        Decay rates of the first and second moment estimates, each in [0, 1).
    eps : float
        Added to the denominator, >= 0.
    weight_decay : float
        >= 0.
    """

    _hyper = ("beta1", "beta2", "eps", "weight_decay")
    _slots = ("m", "v")
    _rule = "adam_step"  # the cnnlib.updates function that takes the step

    def __init__(self, model, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(model, lr)
        name = type(self).__name__
        require(isinstance(betas, (tuple, list)) and len(betas) == 2, name, "betas must be a pair (beta1, beta2)",
                f"betas={betas!r}")
        self._set_hyper(beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay)

    def _set_hyper(self, beta1, beta2, eps, weight_decay):
        name = type(self).__name__
        self.beta1 = _check_rate(name, "beta1", beta1, upper=1.0)
        self.beta2 = _check_rate(name, "beta2", beta2, upper=1.0)
        self.eps = _check_rate(name, "eps", eps)
        self.weight_decay = _check_rate(name, "weight_decay", weight_decay)

    @property
    def betas(self) -> tuple:
        return self.beta1, self.beta2

    def _update(self, name, param, grad):
        rule = getattr(ops, self._rule)  # ops.adam_step or ops.adamw_step
        new_param, m, v = rule(param, grad, self.state["m"].get(name), self.state["v"].get(name), self.t,
                        self.lr, self.beta1, self.beta2, self.eps, self.weight_decay)
        self.state["m"][name], self.state["v"][name] = m, v
        return new_param


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (``updates.adamw_step``), as ``torch.optim.AdamW``."""

    _rule = "adamw_step"

    def __init__(self, model, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
        super().__init__(model, lr, betas, eps, weight_decay)


# ----------------------------------------------------------------------------
# Learning-rate schedules

class Scheduler:
    """Base class: ``step()`` advances the schedule and sets ``optimizer.lr = lr_at(last_step)``.

    ``base_lr`` is the optimizer's learning rate when the scheduler is created;
    ``last_step`` counts the calls of ``step()``.
    """

    _hyper: tuple = ()

    def __init__(self, optimizer):
        require(hasattr(optimizer, "lr"), type(self).__name__, "optimizer must have an lr attribute",
                f"optimizer of type {type(optimizer).__name__}", TypeError)
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_step = 0

    def _start(self) -> None:
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, step: int) -> float:
        raise NotImplementedError

    @property
    def lr(self) -> float:
        """The learning rate the schedule gives now."""
        return self.lr_at(self.last_step)

    def step(self) -> None:
        self.last_step += 1
        self.optimizer.lr = self.lr_at(self.last_step)

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({hyper})"

    def state_dict(self) -> dict:
        """Scalars: ``"type"``, ``"base_lr"``, ``"last_step"`` and the hyper-parameters."""
        return {"type": type(self).__name__, "base_lr": self.base_lr, "last_step": self.last_step,
                **{k: getattr(self, k) for k in self._hyper}}

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned and set the optimizer's lr accordingly."""
        func = f"{type(self).__name__}.load_state_dict"
        require(isinstance(state, dict) and state.get("type") == type(self).__name__, func,
                f"state must come from a {type(self).__name__}",
                f"type={state.get('type') if isinstance(state, dict) else type(state).__name__!r}")
        missing = [k for k in ("base_lr", "last_step", *self._hyper) if k not in state]
        require(not missing, func, f"state must hold {missing}", f"keys {sorted(state)}")
        self._set_hyper(**{k: state[k] for k in self._hyper})
        self.base_lr = _check_rate(func, "base_lr", state["base_lr"])
        self.last_step = check_int(func, "last_step", state["last_step"], 0)
        self.optimizer.lr = self.lr_at(self.last_step)


class StepLR(Scheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` calls of ``step()`` (epochs).

    ``lr = base_lr * gamma ** (last_step // step_size)``, as ``torch.optim.lr_scheduler.StepLR``.
    """

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self._set_hyper(step_size, gamma)
        self._start()

    def _set_hyper(self, step_size, gamma):
        self.step_size = check_int("StepLR", "step_size", step_size, 1)
        self.gamma = _check_rate("StepLR", "gamma", gamma)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(Scheduler):
    """Multiply the learning rate by ``gamma`` at every ``step()`` (epoch): ``lr = base_lr * gamma ** last_step``."""

    _hyper = ("gamma",)

    def __init__(self, optimizer, gamma: float):
        super().__init__(optimizer)
        self._set_hyper(gamma)
        self._start()

    def _set_hyper(self, gamma):
        self.gamma = _check_rate("ExponentialLR", "gamma", gamma)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** step


class CosineLR(Scheduler):
    """Cosine decay from ``base_lr`` to ``min_lr`` over ``total_steps``, after a linear warm-up
    (``updates.cosine_lr``).

    Step it once per optimizer step (``total_steps = epochs * batches per epoch``)
    for a smooth decay within epochs, or once per epoch with ``total_steps = epochs``.
    The optimizer's lr is set to the schedule's value for step 0 on creation.
    """

    _hyper = ("total_steps", "min_lr", "warmup_steps")

    def __init__(self, optimizer, total_steps: int, min_lr: float = 0.0, warmup_steps: int = 0):
        super().__init__(optimizer)
        self._set_hyper(total_steps, min_lr, warmup_steps)
        self._start()

    def _set_hyper(self, total_steps, min_lr, warmup_steps):
        self.total_steps = check_int("CosineLR", "total_steps", total_steps, 1)
        self.min_lr = _check_rate("CosineLR", "min_lr", min_lr)
        self.warmup_steps = check_int("CosineLR", "warmup_steps", warmup_steps, 0)
        require(self.warmup_steps < self.total_steps, "CosineLR", "warmup_steps must be smaller than total_steps",
                f"warmup_steps={warmup_steps}, total_steps={total_steps}")

    def lr_at(self, step: int) -> float:
        return float(ops.cosine_lr(step, self.total_steps, self.base_lr, self.min_lr, self.warmup_steps))
