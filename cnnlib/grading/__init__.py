"""The autograder (chapter 00): checks for every exercise, and the progress table.

``cnnlib.check("2.3")`` grades one exercise from a notebook; ``pytest tests/``
grades them all and prints the table; ``cnnlib progress`` does the same
without pytest.
"""
from .core import (REF, GradingError, NotStarted, Result, check, check_exercise, checks_of,
                   grade, learner_impl, status_table)

__all__ = ["REF", "GradingError", "NotStarted", "Result", "check", "check_exercise",
           "checks_of", "grade", "learner_impl", "status_table", "grade_all"]


def grade_all(chapters=None) -> dict[str, Result]:
    """Grade every exercise (or those of the given chapters)."""
    from ..exercises import EXERCISES
    return {e.name: grade(e.name) for e in EXERCISES if chapters is None or e.chapter in chapters}
