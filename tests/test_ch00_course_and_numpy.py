"""Chapter 00: the NumPy warm-up exercises (zero_pad, one_hot)."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=0)
