"""Chapter 03: numerical_gradient and conv2d_backward."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=3)
