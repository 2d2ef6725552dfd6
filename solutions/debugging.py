"""Reference solution: debugging a network (chapter 10)."""
from __future__ import annotations

from cnnlib.core.contracts import network_check_args
from cnnlib.core.numeric import rel_error

from solutions.gradcheck import numerical_gradient


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
    return {name: rel_error(grads[name], numerical_gradient(lambda _: loss(), p, 1.0, h))
            for name, p in params.items()}
