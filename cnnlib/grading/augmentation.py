"""Checks for data augmentation (chapter 12).

``rotate`` is given its angles, so it is compared with the reference value for
value. ``random_shift`` and ``random_erasing`` draw from a generator, so their
checks measure what they did: the test images hold values in [1, 2] (never 0),
so every padded or erased pixel can be seen; each shifted image must be a crop
of its zero-padded self, each erased one the image with one rectangle filled;
and over a few thousand images the offsets, areas, aspect ratios, positions
and the fraction of images erased must have the distributions the docstrings
give. The same seed must give the same output, and the input must be left alone.
"""
from __future__ import annotations

import numpy as np

from .core import REF, Frozen, GradingError, check, compare, describe_inputs


def _images(shape, seed=0, dtype=np.float64):
    """Values in [1, 2]: a 0 in the output is padding or erasing, never the image."""
    return (1 + np.random.default_rng(seed).random(shape)).astype(dtype)


def _output(impl, name, x, *args, **kwargs):
    frozen = Frozen(x=x)
    out = getattr(impl, name)(x, *args, **kwargs)
    what = f"{name}({describe_inputs(x=x)}, ...)"
    frozen.verify(what)
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        raise GradingError(f"{what} must return an array of x's shape {x.shape}, received "
                           f"{'shape ' + str(out.shape) if isinstance(out, np.ndarray) else type(out).__name__}",
                           "the output has the size of the input: an augmented image is still H x W.")
    if out.dtype != x.dtype:
        raise GradingError(f"{what} must keep x's dtype {x.dtype}, received {out.dtype}",
                           "build the result with x's dtype (np.empty_like(x), or .astype(x.dtype) at the end).")
    return out


def _same_seed(name, draw):
    """``draw(rng)`` runs the function under test with that generator."""
    a, b = (draw(np.random.default_rng(5)) for _ in range(2))
    c = draw(np.random.default_rng(6))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        raise GradingError(f"{name}: two generators seeded 5 gave different outputs, or seeds 5 and 6 the same",
                           "draw every random number from the rng argument (rng.integers, rng.random, "
                           "rng.uniform), never from np.random.")


# ---------------------------------------------------------------------------- 12.1

def _offsets(x, out, s):
    """The crop corner (dy, dx) of each image of ``out`` in the zero-padded ``x``; raise if there is none."""
    N, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    corners = np.full((N, 2), -1)
    for dy in range(2 * s + 1):
        for dx in range(2 * s + 1):
            hit = np.all(out == padded[:, :, dy:dy + H, dx:dx + W], axis=(1, 2, 3))
            corners[hit] = dy, dx
    bad = np.flatnonzero(corners[:, 0] < 0)
    if len(bad):
        n = int(bad[0])
        rolled = any(np.array_equal(out[n], np.roll(x[n], (dy, dx), axis=(1, 2)))
                     for dy in range(-s, s + 1) for dx in range(-s, s + 1))
        per_channel = C > 1 and all(any(np.array_equal(out[n, c], padded[n, c, dy:dy + H, dx:dx + W])
                                        for dy in range(2 * s + 1) for dx in range(2 * s + 1)) for c in range(C))
        wider = any(np.array_equal(out[n], np.pad(x[n], ((0, 0), (s + 1, s + 1), (s + 1, s + 1)))[:, dy:dy + H,
                                                                                                  dx:dx + W])
                    for dy in (0, 2 * s + 2) for dx in range(2 * s + 3))
        hint = ("the image wraps around (np.roll): what leaves one side comes back on the other. Pad with zeros "
                "and crop instead." if rolled else
                "each channel moved by its own offset: all channels of an image move together." if per_channel else
                f"the shift went beyond max_shift={s}: the crop's corner is in 0 .. 2 * max_shift." if wider else
                "each output image must be an H x W window of the image padded with max_shift zeros on every "
                "side.")
        raise GradingError(f"random_shift(x.shape={x.shape}, max_shift={s}): image {n} is not a window of its "
                           "zero-padded self", hint)
    return corners


@check("random_shift", "shape and dtype kept, x not modified; max_shift=0 returns the images unchanged")
def _(impl):
    for dtype in (np.float32, np.float64):
        x = _images((3, 2, 6, 5), dtype=dtype)
        _output(impl, "random_shift", x, 1, np.random.default_rng(0))
    x = _images((4, 1, 5, 5))
    compare(_output(impl, "random_shift", x, 0, np.random.default_rng(0)), x, "random_shift(x, max_shift=0, rng)",
            hints=[(np.zeros_like(x), "with max_shift=0 there is no padding and only one window: the image.")])


@check("random_shift", "every shifted image is a window of its zero-padded self, channels moving together")
def _(impl):
    for shape, s in (((40, 1, 8, 8), 2), ((30, 3, 7, 9), 1), ((20, 2, 6, 6), 3)):
        x = _images(shape)
        _offsets(x, _output(impl, "random_shift", x, s, np.random.default_rng(1)), s)


@check("random_shift", "each image draws its own offset, uniform on 0 .. 2 max_shift along each axis, independently")
def _(impl):
    s, N = 2, 2500
    x = _images((N, 1, 6, 6))
    corners = _offsets(x, _output(impl, "random_shift", x, s, np.random.default_rng(2)), s)
    what = f"random_shift of {N} images with max_shift={s}"
    if len(np.unique(corners, axis=0)) == 1:
        raise GradingError(f"{what}: every image moved by the same offset {tuple(corners[0])}",
                           "draw an offset for each image, not one for the whole batch.")
    if np.all(corners[:, 0] == corners[:, 1]):
        raise GradingError(f"{what}: every image moved as far down as right (dy == dx)",
                           "the two axes get independent offsets: draw two numbers per image.")
    counts = np.zeros((2 * s + 1, 2 * s + 1), int)
    np.add.at(counts, (corners[:, 0], corners[:, 1]), 1)
    expected = N / counts.size
    if counts.min() < 0.5 * expected or counts.max() > 1.6 * expected:
        never = [i for i in range(2 * s + 1) if counts[i].sum() == 0 or counts[:, i].sum() == 0]
        hint = ("rng.integers(low, high) never draws high itself: the corner runs over 0 .. 2 * max_shift "
                "inclusive." if never == [2 * s] else "the content moves up to max_shift pixels either way: the "
                "corner runs over 0 .. 2 * max_shift." if never else "each of the (2 max_shift + 1)**2 windows "
                "should be equally likely.")
        raise GradingError(f"{what}: the {counts.size} possible windows were picked between {counts.min()} and "
                           f"{counts.max()} times each (expected about {expected:.0f} each)", hint)


@check("random_shift", "draws from rng only: the same seed gives the same shifts, another seed others")
def _(impl):
    x = _images((16, 1, 6, 6))
    _same_seed("random_shift", lambda rng: _output(impl, "random_shift", x, 2, rng))


# ---------------------------------------------------------------------------- 12.2

def _rotate(impl, x, angles):
    return _output(impl, "rotate", x, np.asarray(angles, dtype=np.float64))


@check("rotate", "shape and dtype kept, x not modified; 0 degrees leaves the images unchanged")
def _(impl):
    for dtype in (np.float32, np.float64):
        x = _images((2, 3, 5, 7), dtype=dtype)
        compare(_rotate(impl, x, [0.0, 0.0]), x, "rotate(x, angles=[0, 0])", rtol=1e-6, atol=1e-6)


@check("rotate", "quarter turns: +90 is np.rot90 (counter-clockwise), -90 and 180 too, on even and odd sizes")
def _(impl):
    for size in (6, 7):
        x = _images((3, 2, size, size))
        got = _rotate(impl, x, [90.0, -90.0, 180.0])
        expected = np.stack([np.rot90(x[0], 1, axes=(1, 2)), np.rot90(x[1], -1, axes=(1, 2)),
                             np.rot90(x[2], 2, axes=(1, 2))])
        swapped = np.stack([np.rot90(x[0], -1, axes=(1, 2)), np.rot90(x[1], 1, axes=(1, 2)), expected[2]])
        hints = [(REF.rotate(x, np.rad2deg([90.0, -90.0, 180.0])), "the angles are in degrees: convert them to "
                                                                    "radians (np.deg2rad) before cos and sin."),
                 (REF.rotate(x, [90.0, 90.0, 90.0]), "every image turned by angles[0]: each image has its own angle."),
                 (swapped, "the images turned clockwise: a positive angle turns counter-clockwise as displayed "
                           "(row 0 at the top); check the signs of the sin terms."),
                 (np.swapaxes(x, 2, 3), "that is a transpose: rows and columns were swapped, not rotated.")]
        if not np.allclose(got, expected, atol=1e-6):
            lost = float(np.mean(got == 0))
            if lost > 0.3:
                hints = [(got, "most of the image left the frame: rotate about the centre ((H - 1) / 2, (W - 1) / 2), "
                               "not about the corner (0, 0).")]
            elif np.allclose(got[2][:, 1:, 1:], expected[2][:, :-1, :-1], atol=1e-6):
                hints = [(got, "the half turn is off by a pixel: the centre of pixels 0 .. H - 1 is (H - 1) / 2, "
                               "not H / 2.")]
        compare(got, expected, f"rotate(x.shape={x.shape}, angles=[90, -90, 180])", rtol=1e-6, atol=1e-6,
                hints=hints)


def _nearest(x, angles):
    """What rotating with nearest-neighbour sampling gives (the hint's mistake)."""
    N, C, H, W = x.shape
    a = np.deg2rad(np.asarray(angles))[:, None, None]
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    c = np.rint(cx + np.cos(a) * (cols - cx) - np.sin(a) * (rows - cy)).astype(int)
    r = np.rint(cy + np.sin(a) * (cols - cx) + np.cos(a) * (rows - cy)).astype(int)
    inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
    out = x.transpose(0, 2, 3, 1)[np.arange(N)[:, None, None], r.clip(0, H - 1), c.clip(0, W - 1)]
    return (out * inside[..., None]).transpose(0, 3, 1, 2)


@check("rotate", "any angle: bilinear interpolation of the four neighbours, zeros outside, one angle per image")
def _(impl):
    rng = np.random.default_rng(3)
    for shape, dtype, rtol in (((4, 1, 9, 9), np.float64, 1e-7), ((5, 2, 8, 11), np.float64, 1e-7),
                               ((6, 3, 10, 10), np.float32, 1e-4)):
        x = _images(shape, dtype=dtype)
        angles = rng.uniform(-40, 40, shape[0])
        expected = REF.rotate(x, angles)
        hints = [(REF.rotate(x, -angles), "the images turned the wrong way: a positive angle is counter-clockwise."),
                 (_nearest(x, angles), "these are the nearest pixels' values: interpolate between the four "
                                       "neighbours, weighted by how close the point is to each."),
                 (REF.rotate(x, np.full_like(angles, angles[0])), "every image turned by angles[0]: each image has "
                                                                  "its own angle."),
                 (REF.rotate(np.swapaxes(x, 2, 3), angles).swapaxes(2, 3) if shape[2] != shape[3] else x,
                  "rows and columns are swapped somewhere: the column is u = c - cx, the row v = r - cy.")]
        got = _rotate(impl, x, angles)
        inner = np.zeros(shape[2:], bool)
        inner[2:-2, 2:-2] = True
        if np.allclose(got[..., inner], expected[..., inner], rtol=rtol, atol=rtol) \
                and not np.allclose(got, expected, rtol=rtol, atol=rtol):
            hints = [(got, "the inside is right but the border is not: a neighbour outside the image counts as 0 "
                           "(clipping the index to the edge repeats the edge pixels instead).")]
        compare(got, expected, f"rotate({describe_inputs(x=x)}, angles of {shape[0]} images in [-40, 40])",
                rtol=rtol, atol=rtol, hints=hints)


# ---------------------------------------------------------------------------- 12.3

def _rectangles(x, out, value):
    """(top, left, h, w) of each erased image (None if unchanged); raise unless it is one filled rectangle."""
    boxes = []
    for n in range(len(x)):
        changed = np.any(out[n] != x[n], axis=0)
        if not changed.any():
            boxes.append(None)
            continue
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        top, left, h, w = rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        inside = out[n][:, top:top + h, left:left + w]
        if changed.sum() != h * w or not np.all(inside == value):
            per_channel = out[n] != x[n]
            hint = ("the channels were not erased alike: erase the same rectangle in every channel."
                    if not all(np.array_equal(c, per_channel[0]) for c in per_channel) else
                    f"the erased pixels must all become value={value!r}." if changed.sum() == h * w else
                    "one rectangle per erased image: the changed pixels must form a single filled box.")
            raise GradingError(f"random_erasing: image {n} is not the input with one rectangle set to "
                               f"value={value!r} in every channel", hint)
        boxes.append((top, left, h, w))
    return boxes


@check("random_erasing", "shape and dtype kept, x not modified; p=0 erases nothing, p=1 every image")
def _(impl):
    for dtype in (np.float32, np.float64):
        x = _images((6, 2, 10, 10), dtype=dtype)
        compare(_output(impl, "random_erasing", x, np.random.default_rng(0), p=0.0), x,
                "random_erasing(x, rng, p=0)", hints=[(REF.random_erasing(x, np.random.default_rng(0), p=1.0),
                                                       "p is the probability of erasing an image, not of keeping it.")])
        out = _output(impl, "random_erasing", x, np.random.default_rng(0), p=1.0)
        untouched = [n for n in range(len(x)) if np.array_equal(out[n], x[n])]
        if untouched:
            raise GradingError(f"random_erasing(x, rng, p=1): image {untouched[0]} was not erased",
                               "p is the probability of erasing an image: with p=1 every image is erased.")


@check("random_erasing", "each erased image is the image with one rectangle set to value, in every channel")
def _(impl):
    for value in (0.0, -0.5):
        x = _images((40, 3, 12, 10))
        _rectangles(x, _output(impl, "random_erasing", x, np.random.default_rng(1), p=1.0, value=value), value)


def _statistics(boxes, H, W):
    area = np.array([h * w / (H * W) for _, _, h, w in boxes])
    tall = np.mean([h > w for _, _, h, w in boxes])
    wide = np.mean([w > h for _, _, h, w in boxes])
    return area, tall, wide


@check("random_erasing", "the fraction erased: about p of the images, area uniform in scale, aspect log-uniform")
def _(impl):
    N, H, W, p = 3000, 32, 32, 0.3
    x = _images((N, 1, H, W))
    boxes = _rectangles(x, _output(impl, "random_erasing", x, np.random.default_rng(2), p=p), 0.0)
    erased = [b for b in boxes if b is not None]
    what = f"random_erasing of {N} images {H} x {W} (p={p}, scale=(0.02, 0.33), ratio=(0.3, 3.3))"
    if abs(len(erased) / N - p) > 0.04:
        hint = ("p is the probability of erasing, not of keeping." if abs(len(erased) / N - (1 - p)) < 0.04 else
                "erase an image when one rng.random() draw is below p.")
        raise GradingError(f"{what}: {len(erased) / N:.1%} of the images were erased, expected about {p:.0%}", hint)
    area, tall, wide = _statistics(erased, H, W)
    ref = [b for b in _rectangles(x, REF.random_erasing(x, np.random.default_rng(9), p=1.0), 0.0)]
    ref_area, ref_tall, _ = _statistics(ref, H, W)
    if area.min() < 0.5 * 0.02 or area.max() > 1.3 * 0.33 or abs(area.mean() / ref_area.mean() - 1) > 0.08:
        hint = ("the areas look like scale squared: scale is the erased fraction of the area, h * w / (H * W), "
                "not of each side." if area.mean() < 0.5 * ref_area.mean() else None)
        raise GradingError(f"{what}: the erased fraction ranges over {area.min():.3f} .. {area.max():.3f} with mean "
                           f"{area.mean():.3f}; expected within about 0.02 .. 0.33, mean {ref_area.mean():.3f}", hint)
    if tall < 0.5 * ref_tall or wide < 0.5 * ref_tall:
        hint = ("every rectangle is (nearly) square: draw the aspect ratio h / w from ratio." if tall + wide < 0.2 else
                "draw the aspect ratio log-uniformly, exp(uniform(log low, log high)), so that h / w and w / h are "
                "equally likely." if abs(tall - wide) > 0.1 else None)
        raise GradingError(f"{what}: {tall:.0%} of the rectangles are taller than wide and {wide:.0%} wider than "
                           f"tall; expected about {ref_tall:.0%} each", hint)


@check("random_erasing", "the rectangle's corner is uniform: rectangles reach every edge of the image")
def _(impl):
    N, H, W = 1500, 12, 14
    x = _images((N, 1, H, W))
    boxes = _rectangles(x, _output(impl, "random_erasing", x, np.random.default_rng(4), p=1.0), 0.0)
    edges = {"top": np.mean([t == 0 for t, _, _, _ in boxes]), "left": np.mean([c == 0 for _, c, _, _ in boxes]),
             "bottom": np.mean([t + h == H for t, _, h, _ in boxes]),
             "right": np.mean([c + w == W for _, c, _, w in boxes])}
    if np.mean([t == 0 and c == 0 for t, c, _, _ in boxes]) > 0.5:
        raise GradingError("random_erasing: most rectangles start at the top-left corner",
                           "draw the corner at random too, uniformly among the positions where the rectangle fits.")
    rare = [k for k, v in edges.items() if v < 0.03]
    if rare:
        hint = ("rng.integers(low, high) never draws high: the corner runs over 0 .. H - h inclusive."
                if set(rare) <= {"bottom", "right"} else "draw the corner uniformly among the positions where the "
                                                         "rectangle fits.")
        raise GradingError(f"random_erasing of {N} images {H} x {W}: the rectangles touch the {', '.join(rare)} "
                           f"edge(s) in {min(edges.values()):.1%} of the images; expected about 10 %", hint)


@check("random_erasing", "draws from rng only: the same seed gives the same output, another seed another")
def _(impl):
    x = _images((16, 1, 8, 8))
    _same_seed("random_erasing", lambda rng: _output(impl, "random_erasing", x, rng, p=0.5))
