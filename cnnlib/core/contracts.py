"""The argument and cache checks of the exercises, one function per contract.

Each exercise starts by calling its check here (the lines above its
``raise NotImplementedError``), and its reference twin in ``solutions/``
calls the same one, so both reject bad input with the same message.
"""
from __future__ import annotations

import numpy as np

from .geometry import output_size, window_shapes
from .validation import (check_array, check_batch, check_bias, check_cache, check_int, check_positive, check_same_dtype,
                         require)


def check_dout(func: str, dout, shape: tuple, dtype=None) -> np.ndarray:
    """Validate an upstream gradient: a float array of the forward output's ``shape`` (and ``dtype``)."""
    check_array(func, "dout", dout, floating=True)
    require(dout.shape == tuple(shape), func, "dout must have the shape of the forward's output",
            f"dout.shape={dout.shape}, expected {tuple(shape)}")
    if dtype is not None:
        require(dout.dtype == dtype, func, f"dout must have the dtype of the forward's output ({np.dtype(dtype)}): "
                "gradients keep the dtype of the values they differentiate", f"dout.dtype={dout.dtype}",
                TypeError)
    return dout


def conv_cache(func: str, dout, cache):
    """Validate conv2d_backward's arguments; return the cache ``(x, weight, bias, stride, padding, cols)``."""
    x, weight, bias, stride, padding, cols = check_cache(func, cache, 6, "conv2d_forward")
    require(isinstance(x, np.ndarray) and x.ndim == 4 and isinstance(weight, np.ndarray) and weight.ndim == 4
            and isinstance(cols, np.ndarray) and cols.ndim == 4, func, "cache must be conv2d_forward's "
            "(x, weight, bias, stride, padding, cols), with 4-D x, weight and cols",
            f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    N, C_out = x.shape[0], weight.shape[0]
    check_dout(func, dout, (N, C_out, *cols.shape[1:3]), x.dtype)
    return x, weight, bias, stride, padding, cols


def pool_cache(func: str, dout, cache, forward: str):
    """Validate a pooling backward's arguments; return the cache (as ``forward`` made it)."""
    length = 5 if forward == "maxpool2d_forward" else 4
    cache = check_cache(func, cache, length, forward)
    x, kernel, strides, padding = cache[:4]
    require(isinstance(x, np.ndarray) and x.ndim == 4 and len(kernel) == 2 and len(strides) == 2, func,
            f"cache must be {forward}'s (x, (kH, kW), (sH, sW), padding{', argmax' if length == 5 else ''})",
            f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    (kH, kW), (sH, sW), (N, C, H, W) = kernel, strides, x.shape
    out = (N, C, output_size(H, kH, sH, padding), output_size(W, kW, sW, padding))
    if length == 5:
        argmax = cache[4]
        require(isinstance(argmax, np.ndarray) and np.issubdtype(argmax.dtype, np.integer)
                and argmax.shape == out, func, f"cache[4] (argmax) must be integer indices of shape {out}",
                f"argmax of type {type(argmax).__name__}" + (f", dtype {argmax.dtype}, shape {argmax.shape}"
                                                             if isinstance(argmax, np.ndarray) else ""), TypeError)
        require(argmax.size == 0 or (argmax.min() >= 0 and argmax.max() < kH * kW), func,
                f"cache[4] (argmax) must index a window's kH*kW = {kH * kW} positions (0 .. {kH * kW - 1})",
                f"argmax in {argmax.min()} .. {argmax.max()}")
    check_dout(func, dout, out, x.dtype)
    return cache


def linear_cache(func: str, dout, cache):
    """Validate linear_backward's arguments; return the cache ``(x, weight, bias)``."""
    x, weight, bias = check_cache(func, cache, 3, "linear_forward")
    require(isinstance(x, np.ndarray) and x.ndim == 2 and isinstance(weight, np.ndarray) and weight.ndim == 2
            and (bias is None or isinstance(bias, np.ndarray)), func,
            "cache must be linear_forward's (x, weight, bias), with 2-D x and weight",
            f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    check_dout(func, dout, (x.shape[0], weight.shape[0]), x.dtype)
    return x, weight, bias


def linear_shapes(func: str, x, weight, bias):
    """Validate linear-layer arguments; return (N, in_features, out_features)."""
    check_array(func, "x", x, floating=True)
    require(x.ndim == 2, func, "x must be 2-D (N, in_features); flatten images first with "
            "x.reshape(len(x), -1)", f"x.shape={x.shape}")
    check_batch(func, x)
    check_array(func, "weight", weight, 2, "(out_features, in_features)", floating=True)
    check_same_dtype(func, "weight", weight, x)
    out_features, in_features = weight.shape
    require(x.shape[1] == in_features, func, "x and weight must have the same number of input features "
            "(x.shape[1] == weight.shape[1])", f"x.shape={x.shape}, weight.shape={weight.shape}")
    check_bias(func, bias, x, weight, "out_features")
    return x.shape[0], in_features, out_features


def check_logits(func: str, logits) -> tuple[int, int]:
    """Validate an (N, K) float array of logits; return (N, K)."""
    check_array(func, "logits", logits, 2, "(N, K)", floating=True)
    require(logits.shape[0] >= 1 and logits.shape[1] >= 1, func, "logits must have at least one row and one class",
            f"logits.shape={logits.shape}")
    return logits.shape


def check_labels(func: str, labels, N: int, K: int) -> None:
    """Validate integer class labels: shape (N,), values in 0 .. K - 1."""
    check_array(func, "labels", labels, 1, "(N,)")
    require(np.issubdtype(labels.dtype, np.integer), func,
            "labels must be integer class indices (e.g. dtype int64), not one-hot rows or floats",
            f"labels.dtype={labels.dtype}", TypeError)
    require(labels.shape == (N,), func, "labels must have one entry per row of logits (labels.shape == (N,))",
            f"labels.shape={labels.shape}, logits.shape={(N, K)}")
    require(bool(labels.min() >= 0 and labels.max() < K), func,
            f"labels must lie in the range 0 .. K - 1 = 0 .. {K - 1}",
            f"labels in {labels.min()} .. {labels.max()}")


def check_param_grad(func: str, param, grad) -> None:
    """``param`` a float array, ``grad`` an array of the same shape and dtype."""
    check_array(func, "param", param, floating=True)
    check_array(func, "grad", grad)
    require(grad.shape == param.shape and grad.dtype == param.dtype, func,
            "grad must have the shape and dtype of param",
            f"param.shape={param.shape}, param.dtype={param.dtype}, grad.shape={grad.shape}, grad.dtype={grad.dtype}")


def check_state(func: str, name: str, state, param):
    """An optimizer state array (or None before the first step) shaped like ``param``."""
    if state is not None:
        check_array(func, name, state)
        require(state.shape == param.shape and state.dtype == param.dtype, func,
                f"{name} must be None or an array with the shape and dtype of param",
                f"param.shape={param.shape}, param.dtype={param.dtype}, "
                f"{name}.shape={state.shape}, {name}.dtype={state.dtype}")
    return state


def check_rates(func: str, **values) -> list[float]:
    """Each value must be a real number >= 0; return them as Python floats, in order.

    Python floats (not NumPy float64 scalars) keep float32 arrays float32.
    """
    out = []
    for name, value in values.items():
        require(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool),
                func, f"{name} must be a number", f"{name}={value!r}", TypeError)
        require(bool(value >= 0) and np.isfinite(value), func, f"{name} must be a finite number >= 0",
                f"{name}={value!r}")
        out.append(float(value))
    return out


def check_betas(func: str, beta1, beta2) -> tuple[float, float]:
    """Adam's decay rates: 0 <= beta < 1 (as torch.optim.Adam requires)."""
    beta1, beta2 = check_rates(func, beta1=beta1, beta2=beta2)
    require(beta1 < 1 and beta2 < 1, func, "beta1 and beta2 must lie in [0, 1)", f"beta1={beta1}, beta2={beta2}")
    return beta1, beta2


def adam_state(func: str, param, m, v):
    """Validate Adam's moments; ``None`` (before the first step) becomes zeros, as in PyTorch."""
    m = check_state(func, "m", m, param)
    v = check_state(func, "v", v, param)
    return (np.zeros_like(param) if m is None else m), (np.zeros_like(param) if v is None else v)


def batchnorm_args(func: str, x, gamma, beta, running_mean, running_var, training, momentum, eps,
                   ndim: int) -> tuple:
    """Validate the arguments of a batchnorm forward; return ``x.shape``."""
    check_array(func, "x", x, ndim, "(N, D)" if ndim == 2 else "(N, C, H, W)", floating=True)
    D = "D" if ndim == 2 else "C"
    check_batch(func, x)
    require(x.shape[1] > 0, func, f"x must have at least one feature ({D} >= 1)", f"x.shape={x.shape}")
    for name, a in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                    ("running_var", running_var)):
        check_array(func, name, a, 1, f"({D},)", floating=True)
        check_same_dtype(func, name, a, x)
        require(a.shape == (x.shape[1],), func, f"{name} must have shape ({D},) = (x.shape[1],)",
                f"{name}.shape={a.shape}, x.shape={x.shape}")
    require(isinstance(training, (bool, np.bool_)), func, "training must be True or False",
            f"training={training!r}", TypeError)
    require(isinstance(momentum, (int, float, np.integer, np.floating)) and 0 <= momentum <= 1, func,
            "momentum must be a number in [0, 1] (PyTorch's convention: 0.1 = 10% of the new batch)",
            f"momentum={momentum!r}")
    require(isinstance(eps, (int, float, np.integer, np.floating)) and eps >= 0, func,
            "eps must be a number >= 0", f"eps={eps!r}")
    require(not training or x.size // x.shape[1] > 1, func,
            "training needs more than one value per channel to estimate a variance",
            f"x.shape={x.shape}")
    return x.shape


def batchnorm_cache(func: str, dout, cache, ndim: int) -> tuple:
    """Validate a batchnorm backward's arguments; return the cache ``(x_hat, gamma, inv_std, training)``."""
    forward = "batchnorm_forward" if ndim == 2 else "spatial_batchnorm_forward"
    x_hat, gamma, inv_std, training = check_cache(func, cache, 4, forward)
    require(isinstance(x_hat, np.ndarray) and x_hat.ndim == ndim, func,
            f"cache[0] (x_hat) must be a {ndim}-D array: pass the cache of {forward}",
            f"cache[0] of type {type(x_hat).__name__}" +
            (f" with shape {x_hat.shape}" if isinstance(x_hat, np.ndarray) else ""), TypeError)
    check_array(func, "dout", dout)
    require(dout.shape == x_hat.shape, func, "dout must have the shape of the forward's output",
            f"dout.shape={dout.shape}, expected {x_hat.shape}")
    return x_hat, gamma, inv_std, training


def dropout_args(func: str, x, p, training, rng, ndim: int | None = None) -> float:
    """Validate the arguments of a dropout forward; return ``p`` as a float."""
    check_array(func, "x", x, ndim, "(N, C, H, W)" if ndim == 4 else "", floating=True)
    require(isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool), func,
            "p must be a number", f"p={p!r}", TypeError)
    require(0 <= p < 1, func, "p (the probability of dropping a unit) must be in [0, 1)", f"p={p!r}")
    require(isinstance(training, (bool, np.bool_)), func, "training must be True or False",
            f"training={training!r}", TypeError)
    require(isinstance(rng, np.random.Generator), func,
            "rng must be a np.random.Generator, e.g. np.random.default_rng(0)",
            f"rng of type {type(rng).__name__}", TypeError)
    return float(p)


def dropout_cache(func: str, dout, cache) -> tuple:
    """Validate a dropout backward's arguments; return the cache ``(mask, p, training)``."""
    mask, p, training = check_cache(func, cache, 3, "dropout_forward or spatial_dropout_forward")
    require(isinstance(p, (int, float, np.floating)) and not isinstance(p, bool) and 0 <= p < 1
            and isinstance(training, (bool, np.bool_)), func,
            "cache must be dropout_forward's (mask, p, training), with p in [0, 1) and training a bool",
            f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    check_array(func, "dout", dout)
    fits = isinstance(mask, np.ndarray) and mask.ndim == dout.ndim and all(
        m in (1, d) for m, d in zip(mask.shape, dout.shape))
    require(mask is None or fits, func,
            "cache[0] must be the mask (broadcastable to dout) or None: pass the cache of dropout_forward",
            f"cache[0] of type {type(mask).__name__}" +
            (f" with shape {mask.shape}, dout.shape={dout.shape}" if isinstance(mask, np.ndarray) else ""))
    return mask, p, training


def check_gradient_dout(func: str, f, x, dout) -> None:
    """``dout`` weights the outputs of ``f(x)``: a number, or an array of f(x)'s shape (evaluates f once)."""
    if np.ndim(dout) == 0:
        require(isinstance(dout, (int, float, np.number, np.ndarray)) and not isinstance(dout, bool), func,
                "dout must be a number or an array of f(x)'s shape", f"dout of type {type(dout).__name__}",
                TypeError)
        return
    check_array(func, "dout", dout)
    shape = np.shape(f(x))
    require(dout.shape == shape, func, "dout must be a number or an array of f(x)'s shape",
            f"dout.shape={dout.shape}, f(x).shape={shape}")


# ---------------------------------------------------------------------------- initialization and debugging (chapter 10)

NONLINEARITIES = ("linear", "relu", "leaky_relu")  # what kaiming_normal's gain is derived for
FAN_MODES = ("fan_in", "fan_out")


def weight_shape(func: str, shape) -> tuple[int, ...]:
    """A weight's shape: (out, in) of a linear layer or (C_out, C_in, kH, kW, ...) of a convolution."""
    require(isinstance(shape, (tuple, list)) and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                                     for s in shape), func,
            "shape must be a tuple of ints, e.g. (C_out, C_in, kH, kW)", f"shape={shape!r}", TypeError)
    require(len(shape) >= 2, func, "shape must have at least 2 axes (out, in, ...): fans are undefined for fewer",
            f"shape={tuple(shape)!r}")
    require(all(s >= 1 for s in shape), func, "every axis of shape must be >= 1", f"shape={tuple(shape)!r}")
    return tuple(int(s) for s in shape)


def init_args(func: str, shape, rng, dtype) -> tuple[tuple[int, ...], np.dtype]:
    """Validate the arguments every initializer shares; return (shape, dtype)."""
    shape = weight_shape(func, shape)
    require(isinstance(rng, np.random.Generator), func, "rng must be a np.random.Generator "
            "(np.random.default_rng(seed)): the same seed must give the same weights",
            f"rng of type {type(rng).__name__}", TypeError)
    dtype = np.dtype(dtype)
    require(np.issubdtype(dtype, np.floating), func, "dtype must be a floating dtype (float32 or float64)",
            f"dtype={dtype}", TypeError)
    return shape, dtype


def kaiming_args(func: str, a, mode: str, nonlinearity: str) -> None:
    check_rates(func, a=a)  # the negative slope of leaky ReLU
    require(mode in FAN_MODES, func, f"mode must be one of {FAN_MODES}", f"mode={mode!r}")
    require(nonlinearity in NONLINEARITIES, func, f"nonlinearity must be one of {NONLINEARITIES}",
            f"nonlinearity={nonlinearity!r}")


def network_check_args(func: str, loss, params, grads, h) -> None:
    """``loss`` a callable; ``params`` and ``grads`` dicts of float arrays with the same keys and shapes."""
    require(callable(loss), func, "loss must be callable: loss() returns the scalar loss",
            f"loss of type {type(loss).__name__}", TypeError)
    for name, d in (("params", params), ("grads", grads)):
        require(isinstance(d, dict), func, f"{name} must be a dict of arrays by name", f"{name} of type "
                f"{type(d).__name__}", TypeError)
    require(params.keys() == grads.keys(), func, "params and grads must have the same keys",
            f"params: {sorted(params)}, grads: {sorted(grads)}")
    for key in params:
        check_array(func, f"params[{key!r}]", params[key], floating=True)
        check_array(func, f"grads[{key!r}]", grads[key], floating=True)
        require(params[key].shape == grads[key].shape, func, "each gradient must have its parameter's shape",
                f"params[{key!r}].shape={params[key].shape}, grads[{key!r}].shape={grads[key].shape}")
    check_positive(func, "h", h)


def training_step_args(func: str, model, optimizer, loss_fn, x, y) -> None:
    """``model`` with forward and backward, ``optimizer`` with step, ``loss_fn`` callable, a batch ``x`` and
    its targets ``y`` of the same length."""
    for name, obj, methods in (("model", model, ("forward", "backward")), ("optimizer", optimizer, ("step",))):
        for method in methods:
            require(callable(getattr(obj, method, None)), func, f"{name} must have a {method}() method",
                    f"{name} of type {type(obj).__name__}", TypeError)
    require(callable(loss_fn), func, "loss_fn must be callable: loss_fn(out, y) returns (loss, dout)",
            f"loss_fn of type {type(loss_fn).__name__}", TypeError)
    check_batch(func, check_array(func, "x", x))
    check_array(func, "y", y)
    require(y.ndim >= 1 and len(y) == len(x), func, "y must hold one target per sample of x",
            f"y.shape={y.shape}, x.shape={x.shape}")


def _generator(func: str, rng) -> None:
    require(isinstance(rng, np.random.Generator), func, "rng must be a np.random.Generator, e.g. "
            "np.random.default_rng(0)", f"rng of type {type(rng).__name__}", TypeError)


def shift_args(func: str, x, max_shift, rng) -> int:
    """A float (N, C, H, W) batch, an int ``max_shift`` >= 0 and a Generator; return ``max_shift``."""
    check_batch(func, check_array(func, "x", x, 4, "(N, C, H, W)", floating=True))
    max_shift = check_int(func, "max_shift", max_shift, 0)
    _generator(func, rng)
    return max_shift


def rotate_args(func: str, x, angles) -> np.ndarray:
    """A float (N, C, H, W) batch and one finite angle (degrees) per image; return the angles as float64."""
    check_array(func, "x", x, 4, "(N, C, H, W)", floating=True)
    angles = np.asarray(angles)
    require(angles.shape == (len(x),) and np.issubdtype(angles.dtype, np.number)
            and np.all(np.isfinite(angles)), func, "angles must hold one finite number (degrees) per image, shape (N,)",
            f"angles of shape {angles.shape} and dtype {angles.dtype} for x.shape={x.shape}")
    return angles.astype(np.float64)


def erasing_args(func: str, x, rng, p, scale, ratio, value) -> tuple:
    """Validate random_erasing's arguments; return ``(p, scale, ratio, value)`` as floats."""
    check_array(func, "x", x, 4, "(N, C, H, W)", floating=True)
    _generator(func, rng)
    p = check_rates(func, p=p)[0]
    require(p <= 1, func, "p (the probability of erasing an image) must be in [0, 1]", f"p={p!r}")
    pairs = []
    for name, pair, low in (("scale", scale, 0.0), ("ratio", ratio, 0.0)):
        ok = (isinstance(pair, (tuple, list)) and len(pair) == 2
              and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in pair))
        require(ok and low < pair[0] <= pair[1], func, f"{name} must be a pair (low, high) with 0 < low <= high",
                f"{name}={pair!r}")
        pairs.append((float(pair[0]), float(pair[1])))
    require(pairs[0][1] <= 1, func, "scale (the erased fraction of the image) must lie in (0, 1]",
            f"scale={scale!r}")
    require(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool), func,
            "value (what the erased pixels become) must be a number", f"value={value!r}", TypeError)
    return p, pairs[0], pairs[1], float(value)


def global_pool_cache(func: str, dout, cache) -> tuple[int, int, int, int]:
    """Validate global_avgpool_backward's arguments; return the cache, the input's shape (N, C, H, W)."""
    require(isinstance(cache, tuple) and len(cache) == 4 and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in cache), func,
        "cache must be global_avgpool_forward's x.shape, 4 positive ints (N, C, H, W)", f"cache={cache!r}",
        TypeError)
    check_dout(func, dout, cache[:2])
    return tuple(int(n) for n in cache)


def depthwise_shapes(func: str, x, weight, bias, stride, padding):
    """Validate depthwise convolution arguments; return (N, C, H, W, kH, kW, H_out, W_out)."""
    check_array(func, "x", x, 4, "(N, C, H, W)", floating=True)
    check_array(func, "weight", weight, 4, "(C, 1, kH, kW)")
    check_same_dtype(func, "weight", weight, x)
    require(weight.shape[:2] == (x.shape[1], 1), func, "weight must have shape (C, 1, kH, kW): one kH x kW "
            "filter per channel of x", f"x.shape={x.shape}, weight.shape={weight.shape}")
    check_bias(func, bias, x, weight, "C")
    return window_shapes(func, x, weight.shape[2:], stride, padding)


def depthwise_cache(func: str, dout, cache):
    """Validate depthwise_conv2d_backward's arguments; return the cache ``(x, weight, bias, stride, padding)``."""
    x, weight, bias, stride, padding = check_cache(func, cache, 5, "depthwise_conv2d_forward")
    require(isinstance(x, np.ndarray) and x.ndim == 4 and isinstance(weight, np.ndarray) and weight.ndim == 4,
            func, "cache must be depthwise_conv2d_forward's (x, weight, bias, stride, padding), with 4-D x and "
            "weight", f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    N, C, H, W, kH, kW, H_out, W_out = window_shapes(func, x, weight.shape[2:], stride, padding)
    check_dout(func, dout, (N, C, H_out, W_out), x.dtype)
    return x, weight, bias, stride, padding


def pointwise_shapes(func: str, x, weight, bias, stride):
    """Validate 1x1 convolution arguments; return (N, C_in, H, W, C_out, H_out, W_out)."""
    check_array(func, "x", x, 4, "(N, C_in, H, W)", floating=True)
    check_batch(func, x)
    check_array(func, "weight", weight)
    require(weight.ndim == 4 and weight.shape[2:] == (1, 1), func, "weight must have shape (C_out, C_in, 1, 1), as "
            "nn.Conv2d(C_in, C_out, 1) stores it (a (C_out, C_in) matrix m is m[:, :, None, None]; larger kernels "
            "are conv2d_forward's)", f"weight.shape={weight.shape}")
    check_same_dtype(func, "weight", weight, x)
    require(weight.shape[1] == x.shape[1], func, "x and weight must have the same number of input channels "
            "(x.shape[1] == weight.shape[1])", f"x.shape={x.shape}, weight.shape={weight.shape}")
    check_bias(func, bias, x, weight, "C_out")
    stride = check_int(func, "stride", stride, 1)
    N, C_in, H, W = x.shape
    return N, C_in, H, W, weight.shape[0], output_size(H, 1, stride, 0), output_size(W, 1, stride, 0)


def pointwise_cache(func: str, dout, cache):
    """Validate pointwise_conv2d_backward's arguments; return the cache ``(x, weight, bias, stride)``."""
    x, weight, bias, stride = check_cache(func, cache, 4, "pointwise_conv2d_forward")
    require(isinstance(x, np.ndarray) and x.ndim == 4 and isinstance(weight, np.ndarray) and weight.ndim == 4
            and isinstance(stride, (int, np.integer)) and not isinstance(stride, bool) and stride >= 1, func,
            "cache must be pointwise_conv2d_forward's (x, weight, bias, stride), with 4-D x and weight and an "
            "int stride >= 1", f"cache of {[type(c).__name__ for c in cache]}", TypeError)
    N, C_in, H, W = x.shape
    check_dout(func, dout, (N, weight.shape[0], output_size(H, 1, stride, 0), output_size(W, 1, stride, 0)),
               x.dtype)
    return x, weight, bias, int(stride)


def _callable_or_none(func: str, name: str, f, optional: bool) -> None:
    require(callable(f) or (optional and f is None), func, f"{name} must be a function" +
            (" or None (the identity)" if optional else ""), f"{name} of type {type(f).__name__}", TypeError)


def residual_args(func: str, x, branch, shortcut) -> None:
    """A float array ``x``; ``branch`` a function x -> (y, cache); ``shortcut`` one too, or None."""
    check_array(func, "x", x, floating=True)
    check_batch(func, x)
    _callable_or_none(func, "branch", branch, False)
    _callable_or_none(func, "shortcut", shortcut, True)


def residual_cache(func: str, dout, cache, branch_backward, shortcut_backward) -> tuple:
    """Validate residual_backward's arguments; return the cache ``(branch_cache, shortcut_cache, out)``."""
    branch_cache, shortcut_cache, out = check_cache(func, cache, 3, "residual_forward")
    require(isinstance(out, np.ndarray), func, "cache[2] must be the block's output (an array), as "
            "residual_forward stores it", f"cache[2] of type {type(out).__name__}", TypeError)
    check_dout(func, dout, out.shape)
    _callable_or_none(func, "branch_backward", branch_backward, False)
    _callable_or_none(func, "shortcut_backward", shortcut_backward, True)
    return branch_cache, shortcut_cache, out
