"""Chapter 12: data augmentation (random shifts, rotations, random erasing)."""
from cnnlib.grading.pytest_support import grading_tests

test_grading = grading_tests(chapter=12)
