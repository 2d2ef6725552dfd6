"""Chapter 07: batch normalization and dropout."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=7)
