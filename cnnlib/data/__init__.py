"""Data sets (chapters 01 and 08): the MNIST sample shipped with cnnlib, and loaders.

``load_mnist_sample()`` needs no download: 2,000 real MNIST test digits (200 per
class) ship inside the package (see cnnlib/data/README.md for the credit).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).with_name("mnist_sample.npz")


def load_mnist_sample(n: int | None = None, dtype=np.float32):
    """Return ``(images, labels)`` of the shipped sample.

    Parameters
    ----------
    n : int, optional
        Keep the first ``n`` digits (all 2,000 by default).
    dtype : NumPy float dtype of the images

    Returns
    -------
    images : ndarray, shape (n, 1, 28, 28), values in [0, 1]
    labels : ndarray of int64, shape (n,)
    """
    with np.load(SAMPLE, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    if n is not None:
        if not (isinstance(n, (int, np.integer)) and 1 <= n <= len(labels)):
            raise ValueError(f"load_mnist_sample: n must be an integer in 1 .. {len(labels)}. Received: n={n!r}")
        images, labels = images[:n], labels[:n]
    return (images[:, None].astype(dtype) / 255).astype(dtype), labels.astype(np.int64)
