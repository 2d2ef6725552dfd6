"""Reference solutions: NumPy warm-up (chapter 00)."""
from __future__ import annotations

import numpy as np

from cnnlib.core.validation import check_array, check_dtype, check_int, require


def zero_pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Pad the two spatial axes of a batch of images with zeros.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    padding : int
        Number of zero rows/columns added on *each* side, >= 0.

    Returns
    -------
    ndarray, shape (N, C, H + 2*padding, W + 2*padding)
        A new array (``x`` is not modified) of the same dtype, with ``x`` in
        the middle: ``out[:, :, padding:padding+H, padding:padding+W] == x``.
    """
    check_array("zero_pad", "x", x, 4, "(N, C, H, W)")
    padding = check_int("zero_pad", "padding", padding, 0)
    out = np.zeros(x.shape[:2] + (x.shape[2] + 2 * padding, x.shape[3] + 2 * padding), dtype=x.dtype)
    out[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]] = x
    return out


def one_hot(labels: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """Turn integer class labels into one-hot rows.

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
        Values in ``0 .. num_classes - 1``.
    num_classes : int
    dtype : NumPy dtype of the result

    Returns
    -------
    ndarray, shape (N, num_classes)
        ``out[n, labels[n]] == 1`` and every other entry is 0.
    """
    check_array("one_hot", "labels", labels, 1, "(N,)")
    num_classes = check_int("one_hot", "num_classes", num_classes, 1)
    dtype = check_dtype("one_hot", "dtype", dtype)
    require(np.issubdtype(labels.dtype, np.integer), "one_hot", "labels must be integers",
            f"labels.dtype={labels.dtype}", TypeError)
    require(labels.size == 0 or (labels.min() >= 0 and labels.max() < num_classes), "one_hot",
            f"labels must lie in 0 .. num_classes - 1 = {num_classes - 1}",
            f"labels in {labels.min() if labels.size else '-'} .. {labels.max() if labels.size else '-'}")
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
