"""Shared by the PyTorch oracle tests (tests/test_torch_*.py)."""
import numpy as np


def rel_err(a, b) -> float:
    """max |a - b| relative to the largest |b| (element-wise ratios blow up near zeros)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))
