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


def check_positive(func: str, name: str, value) -> float:
    """``value`` is a real number > 0 (a step size, a gain); return it as a Python float."""
    require(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value > 0,
            func, f"{name} must be a positive number", f"{name}={value!r}")
    return float(value)


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


def check_same_dtype(func: str, name: str, a, x, x_name: str = "x") -> None:
    """``a`` must have ``x``'s dtype: results keep x's dtype, and NumPy would promote a mix silently."""
    require(a.dtype == x.dtype, func, f"{name} must have the dtype of {x_name} (results keep {x_name}'s dtype; "
            f"convert with {name}.astype({x_name}.dtype))", f"{name}.dtype={a.dtype}, {x_name}.dtype={x.dtype}",
            TypeError)


def check_batch(func: str, x, name: str = "x") -> None:
    """A batch holds at least one sample: ``x.shape[0] >= 1``."""
    require(x.shape[0] >= 1, func, f"{name} must hold at least one sample ({name}.shape[0] >= 1)",
            f"{name}.shape={x.shape}")


def check_dtype(func: str, name: str, value) -> np.dtype:
    """A NumPy dtype, or something ``np.dtype`` understands (``np.float32``, ``"float64"``)."""
    try:
        return np.dtype(value)
    except TypeError:
        fail(func, f"{name} must be a NumPy dtype such as np.float32 or 'float64'", f"{name}={value!r}", TypeError)


def check_bias(func: str, bias, x, weight, size: str) -> None:
    """``bias`` is None, or a 1-D array of x's dtype with one entry per output (``weight.shape[0]``)."""
    if bias is None:
        return
    check_array(func, "bias", bias, 1, f"({size},)")
    check_same_dtype(func, "bias", bias, x)
    require(bias.shape == (weight.shape[0],), func, f"bias must have shape ({size},) = (weight.shape[0],)",
            f"bias.shape={bias.shape}, weight.shape={weight.shape}")
