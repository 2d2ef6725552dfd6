"""PyTorch oracle for chapter 12: the rotation is F.grid_sample on F.affine_grid, bilinear, zeros outside,
align_corners=True (pixel centres at -1 and 1, so the centre is at (H - 1) / 2); and a random shift is a crop of
F.pad's zero-padded image. torchvision is not needed."""
from __future__ import annotations

import numpy as np
import pytest

from solutions import augmentation as ref

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def _torch_rotate(x, angles):
    """Counter-clockwise as displayed by ``angles`` degrees, about the centre, for (N, C, H, W) with any H, W."""
    N, C, H, W = x.shape
    a = np.deg2rad(angles)
    sx, sy = (W - 1) / 2, (H - 1) / 2  # normalized -> pixel units, per axis
    theta = np.zeros((N, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = np.cos(a), -np.sin(a) * sy / sx
    theta[:, 1, 0], theta[:, 1, 1] = np.sin(a) * sx / sy, np.cos(a)
    grid = F.affine_grid(torch.tensor(theta), (N, C, H, W), align_corners=True)
    return F.grid_sample(torch.tensor(x), grid, mode="bilinear", padding_mode="zeros", align_corners=True).numpy()


@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (4, 3, 9, 9), (3, 2, 8, 13), (2, 1, 11, 6)])
def test_rotate_is_grid_sample(shape):
    rng = np.random.default_rng(0)
    x = rng.random(shape)
    angles = rng.uniform(-180, 180, shape[0])
    np.testing.assert_allclose(ref.rotate(x, angles), _torch_rotate(x, angles), atol=1e-10)


def test_rotate_keeps_float32_and_agrees():
    x = np.random.default_rng(1).random((6, 1, 28, 28)).astype(np.float32)
    angles = np.linspace(-15, 15, 6)
    out = ref.rotate(x, angles)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _torch_rotate(x.astype(np.float64), angles), atol=1e-6)


def test_random_shift_is_a_crop_of_torchs_zero_padding():
    x = np.random.default_rng(2).random((50, 2, 7, 9))
    s = 2
    padded = F.pad(torch.tensor(x), (s, s, s, s)).numpy()
    out = ref.random_shift(x, s, np.random.default_rng(3))
    for n in range(len(x)):
        assert any(np.array_equal(out[n], padded[n, :, dy:dy + 7, dx:dx + 9])
                   for dy in range(2 * s + 1) for dx in range(2 * s + 1))
