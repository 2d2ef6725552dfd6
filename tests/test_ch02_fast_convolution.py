"""Chapter 02: im2col, col2im and conv2d_forward."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=2)
