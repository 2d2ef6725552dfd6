"""The speed verdict: the grader times a learner's function at chapter 08's shapes.

``cnnlib.grading.speed.chapter08_calls`` writes out the exercise calls of one
training step of chapter 08; these tests check that they are the calls a real
step makes, and that a correct but slow function is graded done *and* slow.
"""
from __future__ import annotations

import numpy as np
from test_isolation import grade, inject, solved_copy

import cnnlib
from cnnlib import exercises, profiling
from cnnlib.data import load_mnist_sample
from cnnlib.grading.speed import chapter08_calls
from cnnlib.models import lenet
from cnnlib.optim import SGD
from cnnlib.trainer import Trainer


def _signature(args):
    """What a call's arguments look like: shapes and dtypes of arrays (inside caches too), other values as they are."""
    if isinstance(args, np.ndarray):
        return ("array", args.shape, str(args.dtype))
    if isinstance(args, (tuple, list)):
        return tuple(_signature(a) for a in args)
    return args


def _lenet_trainer():
    model = lenet(seed=0, relu_after_pool=True)
    return Trainer(model, SGD(model, lr=0.1, momentum=0.9, nesterov=True), rng=0)


def test_chapter08_calls_are_the_calls_of_a_real_training_step():
    x, y = load_mnist_sample(64)
    trainer, seen = _lenet_trainer(), {}
    trainer.train_step(x, y)  # the first step: momentum starts
    observe = lambda ex, args, seconds: seen.setdefault(ex.name, []).append(_signature(args))
    exercises.observers.append(observe)
    try:
        with cnnlib.use_solutions("all"):
            trainer.train_step(x, y)
    finally:
        exercises.observers.remove(observe)
    seen.pop("training_step")
    written = {name: [_signature(a) for a in calls] for name, calls in chapter08_calls().items()
               if name not in ("im2col", "col2im", "cosine_lr")}  # called by a learner's conv, and by the scheduler
    for signatures in (seen, written):
        for calls in signatures.values():
            calls.sort(key=repr)
    assert written == seen


def test_a_correct_but_slow_function_is_graded_done_and_slow(tmp_path):
    root = solved_copy(tmp_path / "course")
    inject(root, "pooling", "maxpool2d_backward", "import time\ntime.sleep(0.05)  # as slow as a loop over windows")
    results = grade(root, CNNLIB_TIME_LIMIT="20")
    slow, fast = results["maxpool2d_backward"], results["maxpool2d_forward"]
    assert slow["status"] == "done" and fast["status"] == "done"
    assert "slower than the reference at chapter 08's shapes" in slow["speed"]
    assert "cnnlib.use_solutions('4.4') runs the reference" in slow["speed"]
    assert fast["speed"] == ""


def test_estimate_training_names_the_slow_exercise(monkeypatch):
    x, y = load_mnist_sample(200)
    reference = exercises.reference("relu_backward")

    def slow_relu_backward(dout, cache):
        import time
        time.sleep(0.5)
        return reference(dout, cache)

    monkeypatch.setattr(exercises, "learner_function",
                        lambda ex: slow_relu_backward if ex.name == "relu_backward" else exercises.reference(ex.name))
    with cnnlib.use_solutions(None):  # the maintainer tests run with the reference switched on
        estimate = profiling.estimate_training(_lenet_trainer, x, y, batch_size=64, total_steps=2814, steps=1)
    assert estimate["slowest"] == "4.2 relu_backward"
    assert estimate["step"] > estimate["reference_step"] + 1.0  # three ReLUs, 0.5 s each
    assert "cnnlib.use_solutions('4.2') runs the reference instead" in estimate["report"]
    assert estimate["total"] == estimate["step"] * 2814
