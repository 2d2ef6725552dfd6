"""cnnlib: the library you grow in "CNNs from scratch".

Exercise functions live in modules named after their concept (``cnnlib.conv``,
``cnnlib.pooling``, ...); everything else (layers, models, trainer, data,
plots, widgets, CLI) is complete and calls them, so your network trains on
your own math. See ``cnnlib.exercises`` for the list and the solution switch.
"""
from .exercises import EXERCISES, describe_switch, get_exercise, solutions_in_use, use_solutions

__version__ = "0.1.0"


def check(exercise: str) -> None:
    """Grade one exercise (id or name) and print the result: ``cnnlib.check("2.3")``."""
    from .grading import check_exercise
    check_exercise(exercise)


def grade(exercise: str):
    """Grade one exercise (id or name) and return its ``Result`` (``.status``, ``.message``, ``.done``)."""
    from .grading import grade as _grade
    return _grade(exercise)


def progress(chapters=None) -> str:
    """The autograder's table for every exercise (or the given chapters), as text."""
    from .grading import grade_all, status_table
    return status_table(grade_all(chapters))


__all__ = ["EXERCISES", "check", "describe_switch", "get_exercise", "grade", "progress",
           "solutions_in_use", "use_solutions"]
