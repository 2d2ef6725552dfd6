"""Turn the exercises into pytest tests: one test per exercise, marked per exercise.

A chapter's test file needs two lines::

    from cnnlib.grading.pytest_support import grading_tests
    test_grading = grading_tests(chapter=2)

``pytest -m ex2_3`` then grades exercise 2.3 alone. Each test runs every check
of its exercise (``grade``: the learner's code in a sandbox) and reports in
the course's words: done, wrong, crashed, broken or not started.
"""
from __future__ import annotations

import pytest

from ..exercises import exercises_of
from .core import Result, grade, report

RESULTS: dict[str, Result] = {}  # exercise name -> its Result, for the progress table


def grading_tests(chapter: int):
    params = [pytest.param(ex.name, id=f"{ex.id}-{ex.name}",
                           marks=[getattr(pytest.mark, ex.marker), pytest.mark.grading])
              for ex in exercises_of(chapter)]

    @pytest.mark.parametrize("exercise_name", params)
    def test_grading(exercise_name):
        res = RESULTS[exercise_name] = grade(exercise_name)
        if res.status == "not started":
            pytest.skip(res.summary())
        if not res.done:
            pytest.fail(report(res), pytrace=False)

    return test_grading
