"""Chapter 06: sgd_step, adam_step, adamw_step and cosine_lr."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=6)
