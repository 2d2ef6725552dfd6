"""Reference solutions: batch normalization (chapter 07).

Inside, everything is a (rows, features) problem: ``batchnorm_forward`` works on
(N, D), and the spatial versions move the channels last,
``x.transpose(0, 2, 3, 1).reshape(-1, C)``, which costs nothing when x is what
``conv2d_forward`` returns (an NCHW view of channels-last memory). Their
results go back as NCHW views of channels-last memory, ready for the next
layer.
"""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import batchnorm_args, batchnorm_cache


def _rows(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N*H*W, C): one row per position, one column per channel."""
    return a.transpose(0, 2, 3, 1).reshape(-1, a.shape[1])  # free when a is channels-last


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
                      running_var: np.ndarray, training: bool, momentum: float = 0.1, eps: float = 1e-5):
    """Batch normalization of (N, D) features, in training or eval mode (PyTorch's ``BatchNorm1d``).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma : ndarray, shape (D,)
        Scale (PyTorch's ``weight``).
    beta : ndarray, shape (D,)
        Shift (PyTorch's ``bias``).
    running_mean : ndarray, shape (D,)
    running_var : ndarray, shape (D,)
        Running statistics; read, never modified in place.
    training : bool
        True: normalise with the batch's mean and *biased* variance (divide by
        N) and update the running statistics. False (eval): normalise with the
        running statistics and leave them unchanged.
    momentum : float
        PyTorch's convention: ``new = (1 - momentum) * running + momentum * batch``.
    eps : float
        Added to the variance *inside* the square root.

    Returns
    -------
    out : ndarray, shape (N, D)
        ``gamma * (x - mean) / sqrt(var + eps) + beta``, same dtype as x.
    cache : tuple
        ``(x_hat, gamma, inv_std, training)``: ``x_hat = (x - mean) * inv_std``
        of shape (N, D), ``gamma`` as given, ``inv_std = 1 / sqrt(var + eps)`` of
        shape (D,) and ``training`` as given. ``mean`` and ``var`` are the batch's
        in training mode and the running ones in eval mode, so the cache works
        in both modes: ``batchnorm_backward`` relies on exactly this.
    new_running_mean : ndarray, shape (D,)
    new_running_var : ndarray, shape (D,)
        New arrays. Training: ``(1 - momentum) * running_mean + momentum * mean``
        and ``(1 - momentum) * running_var + momentum * var * N / (N - 1)`` (the
        *unbiased* batch variance). Eval: copies of the running statistics.

    Raises
    ------
    ValueError
        If the shapes disagree, momentum is outside [0, 1], eps < 0, or
        training with a single sample (N == 1).
    """
    N, D = batchnorm_args("batchnorm_forward", x, gamma, beta, running_mean, running_var,
                          training, momentum, eps, ndim=2)
    if training:
        # Sums over many rows are accumulated in float64 (as PyTorch does): a float32 sum
        # of 100,000 values drifts by 1e-3. Only the (D,) results are cast back.
        mean = x.mean(axis=0, dtype=np.float64).astype(x.dtype)  # (D,)
        x_hat = x - mean  # (N, D), centred; scaled in place below
        var = (np.einsum("nd,nd->d", x_hat, x_hat, dtype=np.float64) / N).astype(x.dtype)  # (D,) biased
        inv_std = 1 / np.sqrt(var + eps)
        new_running_mean = (1 - momentum) * running_mean + momentum * mean
        new_running_var = (1 - momentum) * running_var + momentum * var * (N / (N - 1))  # unbiased
    else:
        inv_std = 1 / np.sqrt(running_var + eps)
        x_hat = x - running_mean
        new_running_mean, new_running_var = running_mean.copy(), running_var.copy()
    x_hat *= inv_std
    out = x_hat * gamma
    out += beta  # in place: one (N, D) array fewer to allocate
    return out, (x_hat, gamma, inv_std, training), new_running_mean, new_running_var


def batchnorm_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``batchnorm_forward`` (the compact formula in training mode).

    Parameters
    ----------
    dout : ndarray, shape (N, D)
        Gradient of the loss with respect to the forward's output.
    cache : tuple
        ``(x_hat, gamma, inv_std, training)`` from ``batchnorm_forward``.

    Returns
    -------
    dx : ndarray, shape (N, D)
        Training mode (mean and variance depend on x)::

            dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)

        Eval mode (the running statistics are constants):
        ``dx = dout * gamma * inv_std``.
    dgamma : ndarray, shape (D,)
        ``sum over N of dout * x_hat``.
    dbeta : ndarray, shape (D,)
        ``sum over N of dout``.
    """
    x_hat, gamma, inv_std, training = batchnorm_cache("batchnorm_backward", dout, cache, ndim=2)
    N, D = x_hat.shape
    dbeta = dout.sum(axis=0, dtype=np.float64).astype(dout.dtype)  # (D,), float64 sums as in the forward
    dgamma = np.einsum("nd,nd->d", dout, x_hat, dtype=np.float64).astype(dout.dtype)  # (D,)
    if not training:  # the running statistics are constants: a per-feature scale
        return dout * (gamma * inv_std), dgamma, dbeta
    # The compact formula, dx = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma):
    # dout minus its mean and minus its part along x_hat, which is what the paths through
    # the batch mean and variance amount to. Built in one array, in place.
    dx = x_hat * (-dgamma / N)
    dx += dout
    dx -= dbeta / N
    dx *= gamma * inv_std
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
                              running_var: np.ndarray, training: bool, momentum: float = 0.1,
                              eps: float = 1e-5):
    """Batch normalization of (N, C, H, W) feature maps (PyTorch's ``BatchNorm2d``).

    Each channel c is one feature: its statistics are taken over the N*H*W
    values ``x[:, c, :, :]``. Otherwise exactly ``batchnorm_forward``; a tip:
    move the channels last and make it a (N*H*W, C) batch.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma : ndarray, shape (C,)
    beta : ndarray, shape (C,)
    running_mean : ndarray, shape (C,)
    running_var : ndarray, shape (C,)
        Read, never modified in place.
    training : bool
    momentum : float
        ``new = (1 - momentum) * running + momentum * batch``.
    eps : float
        Added to the variance inside the square root.

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
        Same dtype as x.
    cache : tuple
        ``(x_hat, gamma, inv_std, training)`` with ``x_hat`` of shape
        (N, C, H, W) and ``inv_std`` of shape (C,), as in ``batchnorm_forward``.
        ``spatial_batchnorm_backward`` relies on exactly this.
    new_running_mean : ndarray, shape (C,)
    new_running_var : ndarray, shape (C,)
        As in ``batchnorm_forward``, with M = N*H*W values per channel: the
        running variance takes the unbiased ``var * M / (M - 1)``.

    Raises
    ------
    ValueError
        If the shapes disagree, momentum is outside [0, 1], eps < 0, or
        training with one value per channel (N*H*W == 1).
    """
    N, C, H, W = batchnorm_args("spatial_batchnorm_forward", x, gamma, beta, running_mean, running_var,
                                training, momentum, eps, ndim=4)
    out, (x_hat, _, inv_std, _), new_mean, new_var = batchnorm_forward(
        _rows(x), gamma, beta, running_mean, running_var, training, momentum, eps)
    out = out.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N, C, H, W) view of channels-last memory
    x_hat = x_hat.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N, C, H, W) view
    return out, (x_hat, gamma, inv_std, training), new_mean, new_var


def spatial_batchnorm_backward(dout: np.ndarray, cache: tuple):
    """Gradients of ``spatial_batchnorm_forward``.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple
        ``(x_hat, gamma, inv_std, training)`` from ``spatial_batchnorm_forward``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        ``batchnorm_backward``'s formulas with M = N*H*W values per channel.
    dgamma : ndarray, shape (C,)
        ``sum over N, H, W of dout * x_hat``.
    dbeta : ndarray, shape (C,)
        ``sum over N, H, W of dout``.
    """
    x_hat, gamma, inv_std, training = batchnorm_cache("spatial_batchnorm_backward", dout, cache, ndim=4)
    N, C, H, W = x_hat.shape
    dx, dgamma, dbeta = batchnorm_backward(_rows(dout), (_rows(x_hat), gamma, inv_std, training))
    dx = dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # (N, C, H, W) view of channels-last memory
    return dx, dgamma, dbeta
