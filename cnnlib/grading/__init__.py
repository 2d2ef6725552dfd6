"""The autograder (chapter 00): checks for every exercise, and the progress table.

``cnnlib.check("2.3")`` grades one exercise from a notebook; ``pytest tests/``
grades them all and prints the table; ``cnnlib progress`` does the same
without pytest. Each exercise's learner code runs in a process of its own
(``sandbox.py``); the verdicts are reached here. ``batch.py`` grades a class's
submissions the same way (``cnnlib grade``), ``platforms.py`` on Gradescope and
GitHub Classroom.
"""
from .core import (REF, STATUSES, GradingError, NotStarted, Result, check, checks_of,
                   file_problem, grade, learner_impl, report, status_table)

__all__ = ["REF", "STATUSES", "GradingError", "NotStarted", "Result", "check", "checks_of",
           "file_problem", "grade", "grade_all", "learner_impl", "report", "status_table"]


def grade_all(exercises=()) -> dict[str, Result]:
    """Grade the given exercises (ids or names) and concept checks ("1.q1"), or all of them:
    ``{name or question id: Result}`` in course order."""
    from ..exercises import EXERCISES, get_exercise
    from ..questions import QUESTIONS
    from .questions import grade_questions
    ids = {q.id for q in QUESTIONS}
    asked = [str(k).strip() for k in exercises] or [e.name for e in EXERCISES] + [q.id for q in QUESTIONS]
    results = {get_exercise(k).name: grade(k) for k in asked if k not in ids}
    questions = [k for k in asked if k in ids]
    if questions:  # grade_questions() with no ids would grade them all
        results.update(grade_questions(questions))
    return results
