"""Chapter 05: linear_forward, linear_backward, softmax, softmax_cross_entropy and mse_loss."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=5)
