"""Data augmentation (chapter 12): exercises 12.1 to 12.3.

A network that has seen each training digit only where it was drawn learns
that a "7" is those pixels, there; move it two pixels and it may not know it.
Augmentation shows the network a slightly different copy of each image every
time it meets it, changed in ways that keep the label: shifted by a pixel or
two, turned by a few degrees, with a patch hidden. The three functions here
make those copies; ``cnnlib.transforms.Augment`` chains them for the trainer
(``Trainer(..., augment=...)``, the ``augment:`` key of a config), which
applies them to training batches only, never to validation or test data.

Randomness is explicit: ``random_shift`` and ``random_erasing`` draw from the
``np.random.Generator`` they are given, so the same seed gives the same copies;
``rotate`` is given its angles and draws nothing.

Yours to edit: the body of each function marked ``@exercise`` below (replace
its ``raise NotImplementedError`` line with your code, keeping the checks above
it). Those checks come from ``cnnlib.core``, which you never edit, and nothing
else in the course imports this file except through the exercise registry: a
mistake here breaks only these exercises.
"""
from __future__ import annotations

import numpy as np

from .core.contracts import erasing_args, rotate_args, shift_args
from .exercises import exercise


@exercise
def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift each image by its own random whole-pixel offset: zero-pad, then crop at random.

    Each image is padded with ``max_shift`` zeros on every side, to
    ``(H + 2 * max_shift, W + 2 * max_shift)``, and an ``H x W`` window of the
    padded image is kept, its top-left corner ``(dy, dx)`` drawn uniformly from
    ``0 .. 2 * max_shift`` for each axis and each image independently. The
    content moves by ``max_shift - dy`` rows and ``max_shift - dx`` columns;
    what leaves the frame is lost and what enters is zero (not wrapped around).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float
    max_shift : int >= 0
        The largest shift along each axis, in pixels (0 returns a copy).
    rng : np.random.Generator
        The only source of randomness: the same seed gives the same shifts.

    Returns
    -------
    ndarray, shape (N, C, H, W), x's dtype (x itself is not modified)
    """
    s = shift_args("random_shift", x, max_shift, rng)
    raise NotImplementedError("exercise 12.1 random_shift (chapter 12): write it here")


@exercise
def rotate(x: np.ndarray, angles) -> np.ndarray:
    """Rotate each image about its centre by its angle, with bilinear interpolation and zeros outside.

    ``angles[n]`` is in degrees, counter-clockwise as the image is displayed
    (row 0 at the top): ``rotate(x, [90])`` equals ``np.rot90(x, axes=(2, 3))``.
    The centre is ``((H - 1) / 2, (W - 1) / 2)`` in (row, column) pixel
    coordinates. Each output pixel ``(r, c)`` looks back to where it came from,
    with ``u = c - cx`` and ``v = r - cy``::

        column = cx + cos(a) * u - sin(a) * v
        row    = cy + sin(a) * u + cos(a) * v

    and takes the bilinear interpolation of the four input pixels around that
    point; a neighbour outside the image counts as 0. This is
    ``F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=True),
    mode="bilinear", padding_mode="zeros", align_corners=True)`` for a square image.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float
    angles : array-like, shape (N,), degrees

    Returns
    -------
    ndarray, shape (N, C, H, W), x's dtype (x itself is not modified)
    """
    angles = rotate_args("rotate", x, angles)
    raise NotImplementedError("exercise 12.2 rotate (chapter 12): write it here")


@exercise
def random_erasing(x: np.ndarray, rng: np.random.Generator, p: float = 0.5, scale=(0.02, 0.33),
                   ratio=(0.3, 3.3), value: float = 0.0) -> np.ndarray:
    """Random erasing (Zhong et al. 2017): with probability ``p``, fill one random rectangle of an image.

    For each image independently: with probability ``p`` (one ``rng.random()``
    draw below ``p``), draw the rectangle's area as a fraction of the image,
    uniform in ``scale``, and its aspect ratio ``h / w``, log-uniform in
    ``ratio``; then ``h = round(sqrt(area * aspect))`` and ``w =
    round(sqrt(area / aspect))``, each at least 1 and at most the image's
    size; then its top-left corner, uniform among the positions where it fits.
    Every channel of the rectangle becomes ``value``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W), float
    rng : np.random.Generator
        The only source of randomness.
    p : float in [0, 1]
        The probability that an image is erased.
    scale : (low, high), 0 < low <= high <= 1
        The range of the erased fraction of the image.
    ratio : (low, high), 0 < low <= high
        The range of the rectangle's aspect ratio h / w.
    value : float
        What the erased pixels become.

    Returns
    -------
    ndarray, shape (N, C, H, W), x's dtype (x itself is not modified)
    """
    p, scale, ratio, value = erasing_args("random_erasing", x, rng, p, scale, ratio, value)
    raise NotImplementedError("exercise 12.3 random_erasing (chapter 12): write it here")
