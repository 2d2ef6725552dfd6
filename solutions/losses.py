"""Reference solutions: softmax and the losses (chapter 05).

Every exponential is taken of ``logits - row max``, which is <= 0, so it
never overflows; the largest term of each row's sum is exp(0) = 1, so the
sum never underflows to 0 and its log is finite.
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import check_labels, check_logits
from cnnlib.core.validation import check_array, require


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
    e = np.exp(logits - logits.max(axis=1, keepdims=True))  # (N, K), each row's largest entry is 1
    return e / e.sum(axis=1, keepdims=True)


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
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), <= 0
    e = np.exp(shifted)
    sums = e.sum(axis=1, keepdims=True)  # (N, 1), >= 1
    rows = np.arange(N)
    # -log p[n, y] = log(sum_j exp(shifted[n, j])) - shifted[n, y]: no log of a tiny probability
    loss = float(np.mean(np.log(sums[:, 0]) - shifted[rows, labels]))
    dlogits = e / sums  # softmax(logits), a new array we may write into
    dlogits[rows, labels] -= 1
    dlogits /= N
    return loss, dlogits


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
    diff = (pred - target).astype(pred.dtype, copy=False)  # a float64 or int target must not upcast
    return float(np.mean(diff * diff)), diff * (2 / diff.size)
