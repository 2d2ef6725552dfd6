"""Where the time of a training step goes, exercise by exercise (chapter 08).

``exercise_times()`` counts the seconds spent in each exercise while a block
of code runs (an exercise's own time, without the exercises it calls);
``estimate_training`` times a few training steps with your code and with the
reference, and says how long a whole run would take and which of your
exercises costs the most time. The autograder times each exercise the same way
at chapter 08's shapes (``cnnlib.grading.speed``).
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from . import exercises
from .core.validation import check_int
from .grading.speed import SLOW


SLOW_STEP = 1.5  # your step against the reference's, from which the slowest exercise is named,
#                  if it takes SLOW times its reference's own time (the grader's threshold)


@contextmanager
def exercise_times():
    """``with exercise_times() as seconds: ...``: ``seconds[name]``, the time spent in each exercise."""
    seconds: dict[str, float] = {}

    def observe(ex, args, own):
        seconds[ex.name] = seconds.get(ex.name, 0.0) + own

    exercises.observers.append(observe)
    try:
        yield seconds
    finally:
        exercises.observers.remove(observe)


def _time_steps(make_trainer, x, y, batch_size, steps):
    trainer = make_trainer()
    trainer.model.train()
    trainer.train_step(x[:batch_size], y[:batch_size])  # a first step to warm up (buffers, caches)
    with exercise_times() as seconds:
        start = time.perf_counter()
        for i in range(1, steps + 1):
            batch = slice(i * batch_size % len(x), i * batch_size % len(x) + batch_size)
            trainer.train_step(x[batch], y[batch])
        total = time.perf_counter() - start
    return total / steps, {k: v / steps for k, v in seconds.items()}


def _best(rounds):
    """The fastest total, and each exercise's fastest time, over rounds of (seconds, {name: seconds})."""
    names = {name for _, by in rounds for name in by}
    return min(t for t, _ in rounds), {name: min(by.get(name, 0.0) for _, by in rounds) for name in names}


def estimate_training(make_trainer, x, y, *, batch_size: int, total_steps: int, steps: int = 5) -> dict:
    """Time ``steps`` training steps with your code and with the reference; estimate ``total_steps``.

    ``make_trainer()`` returns a fresh ``Trainer`` (it is called once a round). The two
    sides alternate over three rounds and the fastest of each is kept, so that the
    machine's other work disturbs both alike; with every exercise switched to the
    reference, only the reference is timed.

    Returns
    -------
    dict with ``step`` and ``reference_step`` (seconds per step), ``total`` and
    ``reference_total`` (seconds for ``total_steps``), ``slowest`` (the id and name
    of the exercise of yours that adds the most time, or None unless your step takes
    ``SLOW_STEP`` times the reference's and that exercise ``SLOW`` times its reference's),
    and ``report``, a few lines saying all this.
    """
    func = "estimate_training"
    batch_size, total_steps = check_int(func, "batch_size", batch_size, 1), check_int(func, "total_steps", total_steps, 1)
    steps = check_int(func, "steps", steps, 1)
    all_reference = len(exercises.solutions_in_use()) == len(exercises.EXERCISES)
    sides = {"mine": [], "reference": []}
    for _ in range(3):
        if not all_reference:
            sides["mine"].append(_time_steps(make_trainer, x, y, batch_size, steps))
        with exercises.use_solutions("all"):
            sides["reference"].append(_time_steps(make_trainer, x, y, batch_size, steps))
    ref, ref_by = _best(sides["reference"])
    mine, mine_by = _best(sides["mine"]) if not all_reference else (ref, ref_by)
    extra = {name: t - ref_by.get(name, 0.0) for name, t in mine_by.items()
             if name != "training_step" and t >= SLOW * ref_by.get(name, 0.0)}
    worst = max(extra, key=extra.get) if extra and mine >= SLOW_STEP * ref else None
    if all_reference:
        lines = [f"Every exercise runs the reference: {ref * 1e3:.0f} ms a step of {batch_size}, about "
                 f"{_minutes(ref * total_steps)} for {total_steps:,} steps."]
    else:
        lines = [(f"{steps} steps of {batch_size}: {mine * 1e3:.0f} ms a step with your code, {ref * 1e3:.0f} ms "
                  f"with the reference: about {_minutes(mine * total_steps)} for {total_steps:,} steps "
                  f"(the reference: {_minutes(ref * total_steps)}).")]
    slowest = None if worst is None else exercises.get_exercise(worst)
    if slowest is not None:
        lines.append(f"The most time goes to your {slowest.id} {slowest.name}: {extra[worst] * 1e3:.0f} ms a step more "
                     f"than the reference's. cnnlib.check('{slowest.id}') says how slow it is; "
                     f"cnnlib.use_solutions('{slowest.id}') runs the reference instead.")
    return {"step": mine, "reference_step": ref, "total": mine * total_steps, "reference_total": ref * total_steps,
            "slowest": None if slowest is None else f"{slowest.id} {slowest.name}", "report": "\n".join(lines)}


def _minutes(t: float) -> str:
    return f"{t / 3600:.1f} h" if t >= 5400 else f"{t / 60:.1f} min"
