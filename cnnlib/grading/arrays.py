"""Checks for the NumPy warm-up exercises (chapter 00)."""
from __future__ import annotations

import numpy as np

from .core import REF, Frozen, check, compare, describe_inputs


@check("zero_pad", "hand-computed case")
def _(impl):
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = np.array([[[[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]]], dtype=np.float64)
    compare(impl.zero_pad(x, 1), expected, "zero_pad", "x = [[1, 2], [3, 4]], padding=1")


@check("zero_pad", "matches the reference on random inputs")
def _(impl):
    rng = np.random.default_rng(0)
    for shape, p in [((1, 1, 3, 3), 0), ((2, 3, 4, 5), 2), ((3, 1, 1, 7), 1), ((1, 2, 6, 2), 3)]:
        x = rng.standard_normal(shape)
        got = impl.zero_pad(x, p)
        compare(got, REF.zero_pad(x, p), "zero_pad", describe_inputs(x=x, padding=p),
                hints=[(np.pad(x, ((p, p), (p, p), (p, p), (p, p))),
                        "pad only the last two axes (H and W), not N and C.")])
        if p == 0 and got is x:
            from .core import GradingError
            raise GradingError("zero_pad(x, 0) returned x itself", "return a new array: callers may write into it.")


@check("zero_pad", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 3)).astype(np.float32)
    frozen = Frozen(x=x)
    got = impl.zero_pad(x, 2)
    frozen.verify("zero_pad")
    compare(got, REF.zero_pad(x, 2), "zero_pad", "float32 input")


@check("one_hot", "hand-computed case")
def _(impl):
    expected = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float64)
    compare(impl.one_hot(np.array([1, 0, 2, 1]), 3), expected, "one_hot", "labels [1, 0, 2, 1], num_classes=3",
            hints=[(expected.T, "one row per label: the result is (N, num_classes).")])


@check("one_hot", "matches the reference on random labels and dtypes")
def _(impl):
    rng = np.random.default_rng(2)
    for n, k, dtype in [(1, 10, np.float64), (50, 10, np.float32), (7, 2, np.float64), (13, 13, np.float32)]:
        labels = rng.integers(0, k, n)
        frozen = Frozen(labels=labels)
        got = impl.one_hot(labels, k, dtype)
        frozen.verify("one_hot")
        compare(got, REF.one_hot(labels, k, dtype), "one_hot", f"N={n}, num_classes={k}, dtype={np.dtype(dtype)}")
