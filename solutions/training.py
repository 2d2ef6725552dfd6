"""Reference solution: one step of training (chapter 08)."""
from __future__ import annotations

from cnnlib.core.contracts import training_step_args


def training_step(model, optimizer, loss_fn, x, y):
    """One optimizer step on a batch: forward, loss, backward, update.

    Parameters
    ----------
    model : a network with ``forward(x) -> out`` and ``backward(dout)``; backward
        fills (overwrites) the gradient of every parameter, from the cache of the
        last forward.
    optimizer : has ``step()``, which moves every parameter of ``model`` against
        the gradient that its backward left.
    loss_fn : ``loss_fn(out, y) -> (loss, dout)``, the scalar loss of the outputs
        and its gradient with respect to them (``softmax_cross_entropy`` of
        chapter 05, for example).
    x : ndarray, the batch of inputs, shape (N, ...)
    y : ndarray, its targets (N integer labels, for example)

    Returns
    -------
    out : the model's outputs on ``x`` (before the update)
    loss : the loss of ``out`` (before the update)
    """
    training_step_args("training_step", model, optimizer, loss_fn, x, y)
    out = model.forward(x)
    loss, dout = loss_fn(out, y)
    model.backward(dout)
    optimizer.step()
    return out, loss
