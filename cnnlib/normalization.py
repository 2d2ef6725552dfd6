"""Batch normalization: exercises of chapter 07.

``batchnorm_forward`` / ``batchnorm_backward`` normalise (N, D) features (after a
Linear layer, PyTorch's ``BatchNorm1d``); ``spatial_batchnorm_forward`` /
``spatial_batchnorm_backward`` normalise (N, C, H, W) feature maps per channel,
over N, H and W (``BatchNorm2d``).

The conventions are PyTorch's: in training mode the batch is normalised with
its *biased* variance and the running statistics are updated as
``running = (1 - momentum) * running + momentum * batch_statistic``, with the
*unbiased* variance; in eval mode the running statistics normalise instead.
Running statistics are returned as new arrays, never written into the
arguments.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import batchnorm_args, batchnorm_cache
from .exercises import exercise


@exercise
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
    raise NotImplementedError("exercise 7.1 batchnorm_forward (chapter 07): write it here")


@exercise
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
    raise NotImplementedError("exercise 7.2 batchnorm_backward (chapter 07): write it here")


@exercise
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
    raise NotImplementedError("exercise 7.3 spatial_batchnorm_forward (chapter 07): write it here")


@exercise
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
    raise NotImplementedError("exercise 7.4 spatial_batchnorm_backward (chapter 07): write it here")
