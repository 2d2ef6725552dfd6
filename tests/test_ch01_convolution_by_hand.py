"""Chapter 01: conv_output_size and conv2d_naive."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=1)
