"""Turn the exercises into pytest tests: one test per exercise, marked per exercise.

A chapter's test file needs two lines::

    from cnnlib.grading.pytest_support import grading_tests
    test_grading = grading_tests(chapter=2)

``pytest -m ex2_3`` then grades exercise 2.3 alone. Each test runs every check
of its exercise (``grade``: the learner's code in a sandbox) and reports in
the course's words: done, wrong, crashed, broken or not started. The chapter's
concept checks (``cnnlib.questions``) are graded alongside, one test each.
"""
from __future__ import annotations

import pytest

from ..exercises import exercises_of
from ..questions import questions_of
from . import grade_all
from .core import Result, report

RESULTS: dict[str, Result] = {}  # exercise name -> its Result, for the progress table


def question_marker(q) -> str:
    """``pytest -m ex1_q1`` grades concept check 1.q1 alone."""
    return "ex" + q.id.replace(".", "_")


def grading_tests(chapter: int):
    params = [pytest.param(ex.name, id=f"{ex.id}-{ex.name}",
                           marks=[getattr(pytest.mark, ex.marker), pytest.mark.grading])
              for ex in exercises_of(chapter)]
    params += [pytest.param(q.id, id=q.id, marks=[getattr(pytest.mark, question_marker(q)), pytest.mark.grading])
               for q in questions_of(chapter)]

    @pytest.mark.parametrize("exercise_name", params)
    def test_grading(exercise_name):
        res = RESULTS[exercise_name] = grade_all([exercise_name])[exercise_name]  # an exercise or a question
        if res.status == "not started":
            pytest.skip(res.summary())
        if not res.done:
            pytest.fail(report(res), pytrace=False)

    return test_grading
