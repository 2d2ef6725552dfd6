"""Turn the registered checks into pytest tests, one per check, marked per exercise.

A chapter's test file needs two lines::

    from cnnlib.grading.pytest_support import grading_tests
    test_grading = grading_tests(chapter=2)

``pytest -m ex2_3`` then grades exercise 2.3 alone.
"""
from __future__ import annotations

import pytest

from ..exercises import exercises_of
from .core import GradingError, NotStarted, checks_of, learner_impl, run_check


def grading_tests(chapter: int):
    params = []
    for ex in exercises_of(chapter):
        for title, fn in checks_of(ex.name):
            params.append(pytest.param(ex.name, title, fn, id=f"{ex.id}-{ex.name}-{title}",
                                       marks=[getattr(pytest.mark, ex.marker), pytest.mark.grading]))

    @pytest.mark.parametrize("exercise_name, title, fn", params)
    def test_grading(exercise_name, title, fn):
        skipped = failed = None
        try:
            run_check(fn, learner_impl(), title)
        except NotStarted as e:
            skipped = f"not started: {e}"
        except GradingError as e:
            failed = str(e)
        # Outside the except blocks, so pytest shows the message without a chained traceback.
        if skipped:
            pytest.skip(skipped)
        if failed:
            pytest.fail(failed, pytrace=False)

    return test_grading
