"""Debugging a network (chapter 10): exercise 10.4.

A backward pass that is wrong in one layer still trains, just worse, and
nothing says so. The whole-network gradient check compares every parameter's
gradient from backprop with finite differences of the loss, using your
``numerical_gradient`` of chapter 03 (call it as ``ops.numerical_gradient``:
it runs yours, or the reference until yours is written) and ``rel_error``.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

from . import ops  # noqa: F401 (for you: ops.numerical_gradient)
from .core.contracts import network_check_args
from .core.numeric import rel_error  # noqa: F401 (for you)
from .exercises import exercise


@exercise
def network_gradient_errors(loss, params: dict, grads: dict, h: float = 1e-5) -> dict[str, float]:
    """Check a whole network's backward pass: one relative error per parameter.

    For every parameter, the numerical gradient of ``loss()`` with respect to
    ``params[name]``, taken with ``numerical_gradient`` (exercise 3.1: yours,
    through ``cnnlib.ops``), is compared with the backward pass's ``grads[name]`` by
    ``rel_error``.

    Parameters
    ----------
    loss : callable
        ``loss()`` returns the scalar loss of the network at the current values
        of its parameters (it reads them in place, as a model does: change
        ``params[name]`` in place and ``loss()`` changes).
    params : dict of name -> float ndarray
        The network's parameters (``dict(model.named_parameters())``), float64
        for a meaningful check.
    grads : dict of name -> ndarray
        The gradients the backward pass computed, same keys and shapes.
    h : float
        Step of the finite differences, > 0.

    Returns
    -------
    errors : dict of name -> float
        ``rel_error(grads[name], numerical)`` for every name of ``params``, in
        its order. Every parameter is left exactly as it was.
    """
    network_check_args("network_gradient_errors", loss, params, grads, h)
    raise NotImplementedError("exercise 10.4 network_gradient_errors (chapter 10): write it here")
