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


def answer(question: str, value) -> None:
    """Answer a concept check (``cnnlib.answer("1.q1", 13)``): says whether it is right and keeps it.

    The answer is kept in ``answers.json`` in the course's folder (see
    ``cnnlib.questions``), where ``pytest tests/`` and ``cnnlib progress`` grade it.
    ``None`` (as the notebooks ship) records nothing.
    """
    from .grading.questions import check_answer
    from .questions import get_question, normalize, record
    q = get_question(question)
    if value is None:
        print(f"{q.id}: not answered yet. Replace None with your answer ({q.prompt}).")
        return
    value = normalize(q, value)
    res = check_answer(q.id, value)
    record(q, value)
    print(f"{q.id}: right." if res.done else f"{q.id}: not yet. {res.message.splitlines()[-1]}")


def progress(chapters=None) -> str:
    """The autograder's table for every exercise and concept check (or the given chapters'), as text."""
    from .exercises import exercises_of
    from .questions import questions_of
    ids = [] if chapters is None else [e.id for c in chapters for e in exercises_of(c)] + \
        [q.id for c in chapters for q in questions_of(c)]
    if chapters is not None and not ids:
        raise ValueError("progress: chapters must name chapters with exercises or concept checks. "
                         f"Received: {chapters!r}")
    if not ids:
        return _grade_apart()
    from .grading import Result, status_table
    import json
    return status_table({r["exercise"]: Result(**r) for r in json.loads(_grade_apart("--json", *ids))})


__all__ = ["EXERCISES", "answer", "check", "describe_switch", "get_exercise", "grade", "progress",
           "solutions_in_use", "strict", "use_solutions"]
