"""One step of training (chapter 08): exercise 8.1.

Everything you wrote in chapters 01-07 meets here. The trainer of chapter 08
(``cnnlib.trainer.Trainer``) calls your ``training_step`` for every batch of
every epoch, so the network of chapter 08 trains with the step you assemble.

Yours to edit: the body of the function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the check above
it). That check comes from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only this exercise (the trainer then says so and runs the
reference step instead).
"""
from __future__ import annotations

from .core.contracts import training_step_args
from .exercises import exercise


@exercise
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
    raise NotImplementedError("exercise 8.1 training_step (chapter 08): write it here")
