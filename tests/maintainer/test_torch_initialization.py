"""PyTorch oracle for chapter 10: the fans, and the standard deviations and bounds of the initializers,
against torch.nn.init on the same shapes and arguments (the draws differ, so their statistics are compared)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from solutions import initialization as ref

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SHAPES = [(10, 784), (3, 7), (64, 256, 3, 3), (32, 3, 5, 5), (8, 4, 3, 2), (4, 2, 7), (2, 3, 2, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    assert ref.fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _torch_std(init, shape, **kwargs) -> float:
    t = torch.empty(shape, dtype=torch.float64)
    torch.manual_seed(0)
    init(t, **kwargs)
    return float(t.std())


KAIMING = [dict(), dict(nonlinearity="relu"), dict(mode="fan_out"), dict(a=0.5), dict(a=0.2, mode="fan_out"),
           dict(nonlinearity="linear"), dict(a=0.5, nonlinearity="relu")]


@pytest.mark.parametrize("kwargs", KAIMING, ids=str)
@pytest.mark.parametrize("shape", [(64, 256, 3, 3), (512, 784)])
def test_kaiming_normal_has_torchs_standard_deviation(shape, kwargs):
    ours = float(ref.kaiming_normal(shape, np.random.default_rng(0), dtype=np.float64, **kwargs).std())
    theirs = _torch_std(torch.nn.init.kaiming_normal_, shape, **kwargs)
    assert abs(ours / theirs - 1) < 0.01, (ours, theirs)  # two samples of 300k-400k draws: about 0.2 % apart


@pytest.mark.parametrize("gain", [1.0, 5 / 3, 0.5])
@pytest.mark.parametrize("shape", [(300, 200), (64, 256, 3, 3)])
def test_xavier_uniform_has_torchs_bound(shape, gain):
    t = torch.empty(shape, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.xavier_uniform_(t, gain=gain)
    ours = ref.xavier_uniform(shape, np.random.default_rng(0), gain=gain, dtype=np.float64)
    fan_in, fan_out = ref.fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    assert float(t.abs().max()) <= bound and float(np.abs(ours).max()) <= bound
    assert abs(float(np.abs(ours).max()) / float(t.abs().max()) - 1) < 0.002
    assert abs(float(ours.std()) / float(t.std()) - 1) < 0.01
