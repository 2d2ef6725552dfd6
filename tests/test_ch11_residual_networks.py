"""Chapter 11: global average pooling, depthwise convolution, the residual block and the 1x1 convolution."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=11)
