"""``rel_error``: the relative error that compares two gradients (chapter 03)."""
from __future__ import annotations

import numpy as np

from .validation import require


def rel_error(a, b, tiny: float = 1e-12) -> float:
    """Relative error of two arrays: ``max |a - b| / max(|a| + |b|, tiny)``.

    The largest difference, relative to the largest entry (not entry by entry:
    element-wise ratios blow up at entries close to zero, where a numerical
    gradient's rounding error, about 1e-10, is as large as the entry itself).

    Parameters
    ----------
    a, b : ndarray or float, the same shape
    tiny : float
        Floor of the denominator, so that two zero arrays give 0, not NaN.

    Returns
    -------
    float
        0 for identical arrays, 1 when one of them is zero and the other not.
        For a correct float64 gradient against its numerical estimate expect
        about 1e-10; above 1e-7 something is wrong.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    require(a.shape == b.shape, "rel_error", "a and b must have the same shape",
            f"a.shape={a.shape}, b.shape={b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), tiny))
