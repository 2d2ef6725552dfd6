"""Chapter 08: the training step."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=8)
