"""Input checks shared by every public function (all chapters).

Messages follow one pattern: the function, the argument, the rule, then what
was received, e.g.

    conv2d_forward: x must be 4-D (N, C_in, H, W). Received: x.shape=(28, 28)
"""
from __future__ import annotations

import numpy as np


def fail(func: str, message: str, received: str, exc=ValueError):
    raise exc(f"{func}: {message}. Received: {received}")


def require(ok: bool, func: str, message: str, received: str, exc=ValueError) -> None:
    """Raise ``exc`` with the course's message format unless ``ok``."""
    if not ok:
        fail(func, message, received, exc)


def check_array(func: str, name: str, x, ndim: int | None = None, layout: str = "",
                floating: bool = False) -> np.ndarray:
    """Check that ``x`` is an ndarray with ``ndim`` axes (and a float dtype)."""
    require(isinstance(x, np.ndarray), func, f"{name} must be a NumPy array",
            f"{name} of type {type(x).__name__}", TypeError)
    if ndim is not None:
        require(x.ndim == ndim, func, f"{name} must be {ndim}-D {layout}".rstrip(),
                f"{name}.shape={x.shape}")
    if floating:
        require(np.issubdtype(x.dtype, np.floating), func,
                f"{name} must have a floating dtype (float32 or float64)",
                f"{name}.dtype={x.dtype}", TypeError)
    return x


def check_int(func: str, name: str, value, minimum: int) -> int:
    """Check that ``value`` is an integer >= ``minimum``."""
    require(isinstance(value, (int, np.integer)) and not isinstance(value, bool), func,
            f"{name} must be an integer", f"{name}={value!r}", TypeError)
    require(value >= minimum, func, f"{name} must be >= {minimum}", f"{name}={value!r}")
    return int(value)


def check_pair(func: str, name: str, value, minimum: int) -> tuple[int, int]:
    """Accept ``k`` or ``(kH, kW)`` (as PyTorch does) and return ``(kH, kW)``."""
    if isinstance(value, (tuple, list)):
        require(len(value) == 2, func, f"{name} must be an int or a pair of ints",
                f"{name}={value!r}")
        return check_int(func, name, value[0], minimum), check_int(func, name, value[1], minimum)
    v = check_int(func, name, value, minimum)
    return v, v


def check_cache(func: str, cache, length: int, producer: str) -> tuple:
    """Check that ``cache`` looks like what ``producer`` returns."""
    require(isinstance(cache, tuple) and len(cache) == length, func,
            f"cache must be the {length}-tuple returned by {producer}",
            f"{type(cache).__name__} of length {len(cache) if hasattr(cache, '__len__') else '?'}",
            TypeError)
    return cache
