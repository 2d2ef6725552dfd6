"""Plausible wrong augmentations (chapter 12), and correct alternatives."""
import numpy as np

from solutions import augmentation as ref

# ---------------------------------------------------------------------------- 12.1 random_shift

def _shift(corners="per_image", how="crop", pad_extra=0, source="rng"):
    def random_shift(x, max_shift, rng):
        N, C, H, W = x.shape
        s = max_shift
        if source == "global":
            draw = np.random.randint(0, 2 * s + 1, size=(N, 2))
        elif corners == "batch":
            draw = np.repeat(rng.integers(0, 2 * s + 1, size=(1, 2)), N, axis=0)
        elif corners == "diagonal":
            draw = np.repeat(rng.integers(0, 2 * s + 1, size=(N, 1)), 2, axis=1)
        elif corners == "exclusive":
            draw = rng.integers(0, max(2 * s, 1), size=(N, 2))
        elif corners == "max_shift":
            draw = rng.integers(0, s + 1, size=(N, 2))
        else:
            draw = rng.integers(0, 2 * s + 1, size=(N, 2))
        out = x if how == "inplace" else np.empty_like(x)
        p = s + pad_extra
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        for n, (dy, dx) in enumerate(draw):
            if how == "roll":
                out[n] = np.roll(x[n], (dy - s, dx - s), axis=(1, 2))
            elif how == "channels":
                for c in range(C):
                    dy, dx = rng.integers(0, 2 * s + 1, size=2)
                    out[n, c] = padded[n, c, dy:dy + H, dx:dx + W]
            else:
                dy, dx = dy * (1 + pad_extra), dx * (1 + pad_extra)
                out[n] = padded[n, :, dy:dy + H, dx:dx + W]
        return out
    return random_shift


def _shift_float64(x, max_shift, rng):
    return ref.random_shift(x.astype(np.float64), max_shift, rng)


def _shift_gather(x, max_shift, rng):
    """No loop: one fancy index picks every window."""
    N, C, H, W = x.shape
    s = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, N))
    rows = dy[:, None] + np.arange(H)  # (N, H)
    cols = dx[:, None] + np.arange(W)  # (N, W)
    return padded[np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def _shift_by_offset(x, max_shift, rng):
    """Move the content by (dy, dx) in -s .. s into a zero canvas, without padding."""
    N, C, H, W = x.shape
    out = np.zeros_like(x)
    for n in range(N):
        dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
        src = x[n, :, max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)]
        out[n, :, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
    return out


# ---------------------------------------------------------------------------- 12.2 rotate

def _rotation(sign=1.0, centre="middle", sample="bilinear", radians=False, swap=False, first_angle=False,
              border="zeros", keep_dtype=True):
    def rotate(x, angles):
        angles = np.asarray(angles, dtype=np.float64)
        N, C, H, W = x.shape
        if first_angle:
            angles = np.full(N, angles[0])
        a = (angles if radians else np.deg2rad(angles))[:, None, None] * sign
        cy, cx = {"middle": ((H - 1) / 2, (W - 1) / 2), "corner": (0.0, 0.0), "half": (H / 2, W / 2)}[centre]
        rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
        u, v = cols - cx, rows - cy
        if swap:
            u, v = v, u
        src_c = cx + np.cos(a) * u - np.sin(a) * v
        src_r = cy + np.sin(a) * u + np.cos(a) * v
        if swap:
            src_c, src_r = src_r - cy + cx, src_c - cx + cy
        pixels = x.transpose(0, 2, 3, 1)
        n = np.arange(N)[:, None, None]
        if sample == "nearest":
            r, c = np.rint(src_r).astype(int), np.rint(src_c).astype(int)
            inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
            out = pixels[n, r.clip(0, H - 1), c.clip(0, W - 1)] * inside[..., None]
        else:
            r0, c0 = np.floor(src_r).astype(int), np.floor(src_c).astype(int)
            fr, fc = src_r - r0, src_c - c0
            out = np.zeros((N, H, W, C))
            for dr, dc, w in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)),
                              (1, 1, fr * fc)):
                r, c = r0 + dr, c0 + dc
                inside = (r >= 0) & (r < H) & (c >= 0) & (c < W)
                if border == "clip":
                    inside = np.ones_like(inside)
                out += (w * inside)[..., None] * pixels[n, r.clip(0, H - 1), c.clip(0, W - 1)]
        out = out.transpose(0, 3, 1, 2)
        return out.astype(x.dtype) if keep_dtype else out
    return rotate


def _rotate_inplace(x, angles):
    x[...] = ref.rotate(x, angles)
    return x


def _rotate_loop(x, angles):
    """One image and one pixel at a time, the formula written out."""
    N, C, H, W = x.shape
    out = np.zeros(x.shape)
    cy, cx = (H - 1) / 2, (W - 1) / 2
    for n in range(N):
        a = np.deg2rad(float(angles[n]))
        for r in range(H):
            for c in range(W):
                u, v = c - cx, r - cy
                sc, sr = cx + np.cos(a) * u - np.sin(a) * v, cy + np.sin(a) * u + np.cos(a) * v
                r0, c0 = int(np.floor(sr)), int(np.floor(sc))
                for rr, cc in ((r0, c0), (r0, c0 + 1), (r0 + 1, c0), (r0 + 1, c0 + 1)):
                    if 0 <= rr < H and 0 <= cc < W:
                        out[n, :, r, c] += (1 - abs(sr - rr)) * (1 - abs(sc - cc)) * x[n, :, rr, cc]
    return out.astype(x.dtype)


def _rotate_padded(x, angles):
    """Pad one pixel of zeros, then gather without masks (the padding is the outside)."""
    N, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).astype(np.float64)
    a = np.deg2rad(np.asarray(angles, dtype=np.float64))[:, None, None]
    rows, cols = np.mgrid[0:H, 0:W]
    u, v = cols - (W - 1) / 2, rows - (H - 1) / 2
    sc = (W - 1) / 2 + np.cos(a) * u - np.sin(a) * v + 1  # + 1: the padding
    sr = (H - 1) / 2 + np.sin(a) * u + np.cos(a) * v + 1
    sc, sr = sc.clip(-1, W + 1), sr.clip(-1, H + 1)
    c0, r0 = np.floor(sc).astype(int), np.floor(sr).astype(int)
    fc, fr = sc - c0, sr - r0
    out = np.zeros(x.shape)
    for n in range(N):
        for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1)):
            r, c = r0[n] + dr, c0[n] + dc
            ok = (r >= 0) & (r < H + 2) & (c >= 0) & (c < W + 2)
            w = (fr[n] if dr else 1 - fr[n]) * (fc[n] if dc else 1 - fc[n]) * ok
            out[n] += w * padded[n][:, r.clip(0, H + 1), c.clip(0, W + 1)]
    return out.astype(x.dtype)


# ---------------------------------------------------------------------------- 12.3 random_erasing

def _erasing(chance="below", area_of="area", aspect="log", corner="uniform", channels="all", source="rng",
             inplace=False):
    def random_erasing(x, rng, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0):
        N, C, H, W = x.shape
        out = x if inplace else x.copy()
        r = np.random.default_rng() if source == "global" else rng  # a generator of its own, unseeded
        for n in range(N):
            u = r.random()
            if (u >= p) if chance == "below" else (u < p):
                continue
            fraction = r.uniform(*scale)
            area = fraction * H * W if area_of == "area" else (fraction * H) * (fraction * W)
            ar = {"log": lambda: np.exp(r.uniform(np.log(ratio[0]), np.log(ratio[1]))),
                  "linear": lambda: r.uniform(*ratio), "square": lambda: 1.0}[aspect]()
            h = min(H, max(1, round(np.sqrt(area * ar))))
            w = min(W, max(1, round(np.sqrt(area / ar))))
            if corner == "uniform":
                top, left = r.integers(0, H - h + 1), r.integers(0, W - w + 1)
            elif corner == "exclusive":
                top, left = r.integers(0, max(H - h, 1)), r.integers(0, max(W - w, 1))
            else:
                top = left = 0
            if channels == "all":
                out[n, :, top:top + h, left:left + w] = value
            elif channels == "first":
                out[n, 0, top:top + h, left:left + w] = value
            else:
                for c in range(C):
                    t, lf = r.integers(0, H - h + 1), r.integers(0, W - w + 1)
                    out[n, c, t:t + h, lf:lf + w] = value
        return out
    return random_erasing


def _erasing_masked(x, rng, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0):
    """Draw everything first, then erase with one boolean mask per image."""
    N, C, H, W = x.shape
    erase = rng.random(N) < p
    area = rng.uniform(scale[0], scale[1], N) * H * W
    aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1]), N))
    h = np.clip(np.rint(np.sqrt(area * aspect)), 1, H).astype(int)
    w = np.clip(np.rint(np.sqrt(area / aspect)), 1, W).astype(int)
    top = (rng.random(N) * (H - h + 1)).astype(int)
    left = (rng.random(N) * (W - w + 1)).astype(int)
    rows, cols = np.arange(H)[None, :, None], np.arange(W)[None, None, :]
    mask = ((rows >= top[:, None, None]) & (rows < (top + h)[:, None, None])
            & (cols >= left[:, None, None]) & (cols < (left + w)[:, None, None]) & erase[:, None, None])
    return np.where(mask[:, None], np.asarray(value, dtype=x.dtype), x)


WRONG = {
    "random_shift": {
        "np.roll: the image wraps around": _shift(how="roll"),
        "one shift for the whole batch": _shift(corners="batch"),
        "the same offset along both axes": _shift(corners="diagonal"),
        "corner in 0 .. 2s - 1 (rng.integers' high is exclusive)": _shift(corners="exclusive"),
        "corner in 0 .. s: shifts one way only": _shift(corners="max_shift"),
        "each channel shifted on its own": _shift(how="channels"),
        "padded and shifted twice as far": _shift(pad_extra=1),
        "x modified in place": _shift(how="inplace"),
        "float64 returned for float32 input": _shift_float64,
        "drawn from np.random, not from rng": _shift(source="global"),
    },
    "rotate": {
        "clockwise: the sign of the angle flipped": _rotation(sign=-1.0),
        "about the corner (0, 0), not the centre": _rotation(centre="corner"),
        "centre at H / 2 instead of (H - 1) / 2": _rotation(centre="half"),
        "nearest neighbour instead of bilinear": _rotation(sample="nearest"),
        "degrees used as radians": _rotation(radians=True),
        "rows and columns swapped": _rotation(swap=True),
        "every image turned by angles[0]": _rotation(first_angle=True),
        "the border clipped to the edge pixels, not zero": _rotation(border="clip"),
        "float64 returned for float32 input": _rotation(keep_dtype=False),
        "x modified in place": _rotate_inplace,
    },
    "random_erasing": {
        "p as the probability of keeping": _erasing(chance="above"),
        "scale as a fraction of each side": _erasing(area_of="side"),
        "aspect ratio ignored: always square": _erasing(aspect="square"),
        "aspect ratio uniform, not log-uniform": _erasing(aspect="linear"),
        "always at the top-left corner": _erasing(corner="zero"),
        "corner never at the last position (exclusive high)": _erasing(corner="exclusive"),
        "the first channel only": _erasing(channels="first"),
        "a rectangle per channel": _erasing(channels="each"),
        "drawn from np.random, not from rng": _erasing(source="global"),
        "x modified in place": _erasing(inplace=True),
    },
}

RIGHT = {
    "random_shift": {"pad, then a window per image": ref.random_shift, "one fancy index, no loop": _shift_gather,
                     "content moved into a zero canvas": _shift_by_offset},
    "rotate": {"vectorized gather": ref.rotate, "one pixel at a time": _rotate_loop,
               "padded by one pixel instead of masks": _rotate_padded},
    "random_erasing": {"one rectangle per image in a loop": ref.random_erasing,
                       "draws first, then one mask": _erasing_masked},
}
