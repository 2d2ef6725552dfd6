"""cnnlib: the library you grow in "CNNs from scratch".

Exercise functions live in modules named after their concept (``cnnlib.conv``,
``cnnlib.pooling``, ...); everything else (layers, models, trainer, data,
plots, widgets, CLI) is complete and calls them, so your network trains on
your own math. See ``cnnlib.exercises`` for the list and the solution switch.
"""
from .exercises import EXERCISES, describe_switch, get_exercise, solutions_in_use, strict, use_solutions

__version__ = "0.1.0"


def _grade_apart(*args: str) -> str:
    """Run ``python -m cnnlib.grading ARGS`` in a fresh process, with this process's solution switch."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, CNNLIB_SOLUTIONS=",".join(e.name for e in solutions_in_use()))
    done = subprocess.run([sys.executable, "-m", "cnnlib.grading", *args], env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"the grader failed (exit code {done.returncode}):\n{done.stderr.strip()}")
    return done.stdout.rstrip("\n")


def check(exercise: str) -> None:
    """Grade one exercise (id or name) and print the result: ``cnnlib.check("2.3")``.

    Grading runs in a fresh process, your code in a sandbox below it, so
    nothing in this notebook (nor in your code) can change the verdict.
    """
    print(_grade_apart(str(get_exercise(exercise).id)))


def grade(exercise: str):
    """Grade one exercise (id or name) and return its ``Result`` (``.status``, ``.message``, ``.done``)."""
    import json
    from .grading import Result
    return Result(**json.loads(_grade_apart("--json", str(get_exercise(exercise).id)))[0])


def progress(chapters=None) -> str:
    """The autograder's table for every exercise (or the given chapters), as text."""
    from .exercises import exercises_of
    ids = [e.id for c in chapters for e in exercises_of(c)] if chapters is not None else []
    if chapters is not None and not ids:
        raise ValueError(f"progress: chapters must name chapters with exercises (0-7). Received: {chapters!r}")
    if not ids:
        return _grade_apart()
    from .grading import Result, status_table
    import json
    return status_table({r["exercise"]: Result(**r) for r in json.loads(_grade_apart("--json", *ids))})


__all__ = ["EXERCISES", "check", "describe_switch", "get_exercise", "grade", "progress",
           "solutions_in_use", "strict", "use_solutions"]
