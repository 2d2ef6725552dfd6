"""Checks for the training step (chapter 08).

The network and the optimizer are the grader's own, small and in float64: a
two-layer ReLU network whose methods record every call, so a check can say
which of the four parts of the step is missing, repeated or out of order.
They reach the learner's code as objects whose methods call back here.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .core import REF, GradingError, check


class _Net:
    """4 -> 6 -> 3, ReLU; ``log`` records ("forward" | "loss" | "backward" | "step", argument)."""

    def __init__(self, seed: int, log: list):
        rng = np.random.default_rng(seed)
        self.params = {"w1": rng.standard_normal((6, 4)) * 0.5, "b1": rng.standard_normal(6) * 0.1,
                       "w2": rng.standard_normal((3, 6)) * 0.5, "b2": rng.standard_normal(3) * 0.1}
        self.grads, self.velocity, self.log = {}, {k: np.zeros_like(v) for k, v in self.params.items()}, log

    def forward(self, x):
        p = self.params
        self.cache = x, np.maximum(x @ p["w1"].T + p["b1"], 0.0)
        out = self.cache[1] @ p["w2"].T + p["b2"]
        self.log.append(("forward", out))
        return out

    def backward(self, dout):
        self.log.append(("backward", dout))
        if not (isinstance(dout, np.ndarray) and dout.shape == self.cache[1].shape[:1] + (3,)):
            raise GradingError(f"training_step called model.backward with {_describe(dout)}, not the gradient "
                               "that loss_fn returned", _BACKWARD_HINT)
        x, h = self.cache
        dh = (dout @ self.params["w2"]) * (h > 0)
        self.grads = {"w1": dh.T @ x, "b1": dh.sum(0), "w2": dout.T @ h, "b2": dout.sum(0)}

    def step(self, lr=0.1, momentum=0.9):
        self.log.append(("step", None))
        for k, g in self.grads.items():
            self.velocity[k] = momentum * self.velocity[k] + g
            self.params[k] -= lr * self.velocity[k]

    def loss(self, out, y):
        self.log.append(("loss", out))
        if not (isinstance(out, np.ndarray) and out.ndim == 2 and out.shape[1] == 3):
            raise GradingError(f"training_step called loss_fn with {_describe(out)} first",
                               "loss_fn(out, y): the model's outputs first, then the targets.")
        return REF.softmax_cross_entropy(out, y)

    def as_arguments(self):
        """(model, optimizer, loss_fn), as the trainer passes them."""
        return SimpleNamespace(forward=self.forward, backward=self.backward), SimpleNamespace(step=self.step), \
            self.loss


_BACKWARD_HINT = ("backward takes dout, the gradient of the loss with respect to the outputs (the second "
                  "value loss_fn returns), not the loss itself or the outputs.")


def _describe(value) -> str:
    return f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"


def _batch(seed: int):
    rng = np.random.default_rng(100 + seed)
    return rng.standard_normal((8, 4)), rng.integers(0, 3, 8)


def _step(impl, net, x, y):
    got = impl.training_step(*net.as_arguments(), x, y)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise GradingError(f"training_step must return a pair (out, loss); received {type(got).__name__}"
                           + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""),
                           "the trainer reads the outputs (for the accuracy) and the loss of the batch.")
    return got


@check("training_step", "forward, loss, backward and update each run once, in that order")
def _(impl):
    log = []
    net = _Net(0, log)
    x, y = _batch(0)
    _step(impl, net, x, y)
    calls = [kind for kind, _ in log]
    for kind, what in (("forward", "model.forward(x)"), ("loss", "loss_fn(out, y)"),
                       ("backward", "model.backward(dout)"), ("step", "optimizer.step()")):
        n = calls.count(kind)
        if n != 1:
            raise GradingError(f"training_step called {what} {n} times; the calls were {calls}",
                               "that part of the step is missing: a step is forward, loss, backward, update." if n == 0 else
                               "once per step is enough: every extra call costs a pass, and an extra update "
                               "moves the parameters twice." if kind != "forward" else
                               "once: the backward pass uses the cache of the last forward, and the outputs "
                               "and loss to return are those before the update.")
    if calls != ["forward", "loss", "backward", "step"]:
        raise GradingError(f"training_step made its calls in the order {calls}",
                           "each part needs what the one before it produced: the update needs the gradients "
                           "that backward leaves, backward needs dout from the loss.")


@check("training_step", "the loss gets the model's outputs and backward gets the loss's gradient")
def _(impl):
    log = []
    net = _Net(1, log)
    x, y = _batch(1)
    _step(impl, net, x, y)
    given = dict(log)
    out, (_, dout) = given["forward"], REF.softmax_cross_entropy(given["forward"], y)
    if not (isinstance(given["loss"], np.ndarray) and given["loss"].shape == out.shape
            and np.array_equal(given["loss"], out)):
        raise GradingError("training_step called loss_fn with something other than the model's outputs",
                           "loss_fn(out, y), with out what model.forward(x) returned.")
    sent = given["backward"]
    if not (isinstance(sent, np.ndarray) and sent.shape == dout.shape and np.allclose(sent, dout, rtol=1e-12)):
        raise GradingError(f"training_step called model.backward with {_describe(sent)} that is not the gradient "
                           "loss_fn returned", _BACKWARD_HINT)


@check("training_step", "returns the outputs and the loss of the batch, before the update")
def _(impl):
    net = _Net(2, [])
    x, y = _batch(2)
    out, loss = _step(impl, net, x, y)
    ref = _Net(2, [])
    ref_out, ref_loss = REF.training_step(*ref.as_arguments(), x, y)
    if isinstance(out, (float, np.floating)) and isinstance(loss, np.ndarray):
        raise GradingError("training_step returned (loss, out)", "the order is (out, loss), as the docstring says.")
    if not (isinstance(out, np.ndarray) and out.shape == ref_out.shape and np.allclose(out, ref_out, rtol=1e-12)):
        raise GradingError("training_step's first result is not the model's outputs on x before the update",
                           "return what model.forward(x) returned.")
    if not (np.ndim(loss) == 0 and np.isclose(float(loss), float(ref_loss), rtol=1e-12)):
        raise GradingError(f"training_step's second result is {_describe(loss)}, expected the batch loss "
                           f"{float(ref_loss):.6g}",
                           "return the loss that loss_fn gave, not its gradient.")


@check("training_step", "five steps of SGD with momentum match the reference's, and the loss falls")
def _(impl):
    net, ref = _Net(3, []), _Net(3, [])
    losses = []
    x, y = _batch(3)
    for _ in range(5):  # the same batch: its loss must fall
        _, loss = _step(impl, net, x, y)
        REF.training_step(*ref.as_arguments(), x, y)
        losses.append(float(loss))
    for k in ref.params:
        if not np.allclose(net.params[k], ref.params[k], rtol=1e-10, atol=1e-12):
            raise GradingError(f"after five steps the parameter {k} differs from the reference's",
                               "one forward, one backward, one update per step, on the batch given.")
    if not losses[-1] < losses[0]:
        raise GradingError(f"the loss did not fall over five steps on one batch: {losses}")
