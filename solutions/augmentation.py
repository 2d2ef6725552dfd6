"""Reference solution: data augmentation (chapter 12)."""
from __future__ import annotations

import numpy as np

from cnnlib.core.contracts import erasing_args, rotate_args, shift_args


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
    N, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    corners = rng.integers(0, 2 * s + 1, size=(N, 2))  # (dy, dx) of each image
    out = np.empty_like(x)
    for n, (dy, dx) in enumerate(corners):
        out[n] = padded[n, :, dy:dy + H, dx:dx + W]
    return out


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
    N, C, H, W = x.shape
    a = np.deg2rad(angles)[:, None, None]
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    u, v = cols - cx, rows - cy
    src_c = cx + np.cos(a) * u - np.sin(a) * v  # (N, H, W)
    src_r = cy + np.sin(a) * u + np.cos(a) * v
    r0, c0 = np.floor(src_r).astype(np.int64), np.floor(src_c).astype(np.int64)
    fr, fc = src_r - r0, src_c - c0
    pixels = x.transpose(0, 2, 3, 1)  # (N, H, W, C): one gather picks every channel
    n = np.arange(N)[:, None, None]
    out = np.zeros((N, H, W, C))
    for dr, dc, weight in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc),
                           (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        r, c = r0 + dr, c0 + dc
        inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
        value = pixels[n, np.clip(r, 0, H - 1), np.clip(c, 0, W - 1)]
        out += (weight * inside)[..., None] * value
    return out.transpose(0, 3, 1, 2).astype(x.dtype)


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
    N, C, H, W = x.shape
    out = x.copy()
    for n in range(N):
        if rng.random() >= p:
            continue
        area = rng.uniform(*scale) * H * W
        aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1])))
        h = min(H, max(1, round(np.sqrt(area * aspect))))
        w = min(W, max(1, round(np.sqrt(area / aspect))))
        top, left = rng.integers(0, H - h + 1), rng.integers(0, W - w + 1)
        out[n, :, top:top + h, left:left + w] = value
    return out
