"""Softmax and the losses: exercises of chapter 05.

A classifier's last linear layer gives one score (logit) per class; softmax
turns a row of logits into probabilities, and the cross-entropy of those
probabilities with the true labels is the loss we minimise. The mean squared
error is the loss for regression. Both losses return ``(loss, gradient)``:
the loss as a Python float, and its gradient with respect to the first
argument, ready to be passed backward through the network.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import check_labels, check_logits
from .core.validation import check_array, require
from .exercises import exercise


@exercise
def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax of each row, computed without overflow.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
        One row of K class scores per example.

    Returns
    -------
    probs : ndarray, shape (N, K)
        ``probs[n, k] = exp(logits[n, k]) / sum over j of exp(logits[n, j])``:
        every entry in [0, 1], every row sums to 1. Same dtype as logits.
        Finite even for logits like 1000 or -1000 (subtract each row's
        maximum first: softmax does not change when a row is shifted).
    """
    N, K = check_logits("softmax", logits)
    raise NotImplementedError("exercise 5.3 softmax (chapter 05): write it here")


@exercise
def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of softmax(logits) with integer labels, and its gradient.

    PyTorch's ``F.cross_entropy(logits, labels)`` (reduction "mean").

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    labels : ndarray of int, shape (N,)
        The true class of each row, in 0 .. K - 1.

    Returns
    -------
    loss : float
        ``mean over n of -log(softmax(logits)[n, labels[n]])``, computed
        without overflow (log-sum-exp with the row maximum subtracted).
    dlogits : ndarray, shape (N, K)
        Gradient of ``loss`` with respect to ``logits``:
        ``(softmax(logits) - one_hot(labels)) / N``. Same dtype as logits.

    Raises
    ------
    TypeError
        If labels are not integers.
    ValueError
        If labels lie outside 0 .. K - 1 or do not have shape (N,).
    """
    N, K = check_logits("softmax_cross_entropy", logits)
    check_labels("softmax_cross_entropy", labels, N, K)
    raise NotImplementedError("exercise 5.4 softmax_cross_entropy (chapter 05): write it here")


@exercise
def mse_loss(pred: np.ndarray, target: np.ndarray):
    """Mean squared error and its gradient (PyTorch's ``F.mse_loss``, reduction "mean").

    Parameters
    ----------
    pred : ndarray, any shape
        Predictions (float).
    target : ndarray, same shape as pred

    Returns
    -------
    loss : float
        ``mean of (pred - target)**2`` over *all* elements (not only over N).
    dpred : ndarray, same shape and dtype as pred
        Gradient of ``loss`` with respect to ``pred``: ``2 * (pred - target) / pred.size``.
    """
    check_array("mse_loss", "pred", pred, floating=True)
    check_array("mse_loss", "target", target)
    require(target.shape == pred.shape, "mse_loss", "target must have the shape of pred",
            f"pred.shape={pred.shape}, target.shape={target.shape}")
    require(pred.size > 0, "mse_loss", "pred must not be empty", f"pred.shape={pred.shape}")
    raise NotImplementedError("exercise 5.5 mse_loss (chapter 05): write it here")
