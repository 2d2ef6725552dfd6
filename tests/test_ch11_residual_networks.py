"""Chapter 11: global average pooling, depthwise convolution and the residual block."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=11)
