"""Chapter 04: ReLU, max pooling and average pooling."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=4)
