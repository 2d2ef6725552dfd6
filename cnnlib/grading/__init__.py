"""The autograder (chapter 00): checks for every exercise, and the progress table.

``cnnlib.check("2.3")`` grades one exercise from a notebook; ``pytest tests/``
grades them all and prints the table; ``cnnlib progress`` does the same
without pytest. Each exercise's learner code runs in a process of its own
(``sandbox.py``); the verdicts are reached here.
"""
from .core import (REF, STATUSES, GradingError, NotStarted, Result, check, check_exercise, checks_of,
                   file_problem, grade, learner_impl, report, status_table)

__all__ = ["REF", "STATUSES", "GradingError", "NotStarted", "Result", "check", "check_exercise", "checks_of",
           "file_problem", "grade", "grade_all", "learner_impl", "report", "status_table"]


def grade_all(chapters=None) -> dict[str, Result]:
    """Grade every exercise (or those of the given chapters)."""
    from ..exercises import EXERCISES
    return {e.name: grade(e.name) for e in EXERCISES if chapters is None or e.chapter in chapters}
