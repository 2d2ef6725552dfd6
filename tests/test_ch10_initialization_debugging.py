"""Chapter 10: the initializers and the whole-network gradient check."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=10)
