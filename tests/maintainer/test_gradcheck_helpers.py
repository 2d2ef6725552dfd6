"""The provided gradient-check helpers of chapter 03: rel_error and gradient_check."""
import numpy as np
import pytest

from cnnlib.core.numeric import rel_error
from cnnlib.gradients import gradient_check
from cnnlib.ops import conv2d_backward, conv2d_forward


def test_rel_error_is_the_largest_difference_relative_to_the_largest_entry():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0
    assert rel_error(np.array([1.0, 0.0]), np.array([0.0, 0.0])) == 1
    assert rel_error(np.array([10.0, 1e-12]), np.array([10.0, 2e-12])) == pytest.approx(1e-12 / 20)
    with pytest.raises(ValueError, match=r"rel_error: a and b must have the same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_gradient_check_passes_the_reference_convolution_and_names_each_gradient(capsys):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    errors = gradient_check(conv2d_forward, conv2d_backward, (x, w, b, 2, 1))
    assert set(errors) == {"dx", "dweight", "dbias"}
    assert max(errors.values()) < 1e-8
    printed = capsys.readouterr().out
    assert printed.count("\n") == 3 and "dweight" in printed


def test_gradient_check_reports_a_wrong_backward():
    def wrong_backward(dout, cache):
        dx, dw, db = conv2d_backward(dout, cache)
        return dx, 2 * dw, db

    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 2, 2))
    errors = gradient_check(conv2d_forward, wrong_backward, (x, w, None), verbose=False)
    assert errors["dx"] < 1e-8 and errors["dweight"] > 0.1
