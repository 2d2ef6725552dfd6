"""How fast the learner's code is where it matters: at the shapes chapter 08 trains on.

A correct function can still be too slow to train with: max pooling's backward
written with Python loops passes every check and then makes chapter 08 take
hours. After an exercise on the training path is graded done, the grader times
the learner's function against the reference on the very calls one training
step of chapter 08 makes (``chapter08_calls``), both in the learner's sandbox,
alternating, best of a few rounds; and the verdict says how much longer
chapter 08 would take when that is more than ``MIN_EXTRA`` seconds.
"""
from __future__ import annotations

import functools
import math
import os
import time

import numpy as np

from .sandbox import TIME_LIMIT, LearnerCrash

STEPS = 3 * math.ceil(60_000 / 64)  # chapter 08: 3 epochs over 60,000 digits in batches of 64 (2,814 steps)
SLOW = 3.0        # a ratio to the reference from which a function counts as slow ...
MIN_EXTRA = 60.0  # ... when it adds at least this many seconds to chapter 08's training


@functools.cache
def chapter08_calls() -> dict[str, list[tuple]]:
    """name -> [args, ...]: the exercise calls of one step of chapter 08 (its second, momentum under way).

    The LeNet of chapter 08 (``lenet(relu_after_pool=True)``) at batch 64 and SGD with
    Nesterov momentum, computed with the reference; a maintainer test checks these are
    the calls a real training step makes (``tests/maintainer/test_speed.py``), and
    im2col and col2im at the shapes a convolution of yours would call them with.
    """
    from .core import REF
    rng = np.random.default_rng(0)
    calls: dict[str, list[tuple]] = {}

    def run(name, *args):
        calls.setdefault(name, []).append(args)
        return getattr(REF, name)(*args)

    def he(*shape):  # init="he", as the layers of chapter 08 draw it
        return REF.kaiming_normal(shape, rng, nonlinearity="relu")

    params = {"conv1.weight": he(32, 1, 3, 3), "conv1.bias": np.zeros(32, np.float32),
              "conv2.weight": he(64, 32, 3, 3), "conv2.bias": np.zeros(64, np.float32),
              "fc1.weight": he(128, 3136), "fc1.bias": np.zeros(128, np.float32),
              "fc2.weight": he(10, 128), "fc2.bias": np.zeros(10, np.float32)}
    x, y = rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    caches, h = [], x
    for conv in ("conv1", "conv2"):  # conv, max pool 2, ReLU
        cols = run("im2col", h, (3, 3), 1, 1)  # what a conv2d_forward of yours calls, as the reference's does
        run("col2im", cols, h.shape, (3, 3), 1, 1)  # and what a conv2d_backward may call for dx
        h, c1 = run("conv2d_forward", h, params[f"{conv}.weight"], params[f"{conv}.bias"], 1, 1)
        h, c2 = run("maxpool2d_forward", h, 2, None, 0)
        h, c3 = run("relu_forward", h)
        caches.append((c1, c2, c3))
    h = h.reshape(64, -1)
    h, l1 = run("linear_forward", h, params["fc1.weight"], params["fc1.bias"])
    h, r1 = run("relu_forward", h)
    logits, l2 = run("linear_forward", h, params["fc2.weight"], params["fc2.bias"])
    _, dout = run("softmax_cross_entropy", logits, y)
    dout, dw2, db2 = run("linear_backward", dout, l2)
    dout = run("relu_backward", dout, r1)
    dout, dw1, db1 = run("linear_backward", dout, l1)
    dout = dout.reshape(64, 64, 7, 7)
    grads = {"fc2.weight": dw2, "fc2.bias": db2, "fc1.weight": dw1, "fc1.bias": db1}
    for conv, (c1, c2, c3) in zip(("conv2", "conv1"), reversed(caches)):
        dout = run("maxpool2d_backward", run("relu_backward", dout, c3), c2)
        dout, grads[f"{conv}.weight"], grads[f"{conv}.bias"] = run("conv2d_backward", dout, c1)
    for name, p in params.items():
        run("sgd_step", p, grads[name], 0.1 * grads[name], 0.1, 0.9, 0.0, True, 0.0)
    run("cosine_lr", 1000, STEPS, 0.1, 0.0, 200)
    return calls


def time_calls(box, name: str, calls: list[tuple]) -> tuple[float, float]:
    """Seconds per step of the learner's ``name`` and of the reference, over ``calls``, in the sandbox."""
    learner = reference = 0.0
    for args in calls:
        box.deadline = time.monotonic() + TIME_LIMIT
        mine, ref = box.time(name, args)
        learner, reference = learner + mine, reference + ref
    return learner, reference


def speed_note(ex, box) -> str:
    """'' when ``ex`` is fast enough (or not on the training path), else what it costs chapter 08.

    ``CNNLIB_SPEED_NOTES=0`` (``cnnlib grade`` sets it) times nothing: a timing differs from run
    to run, and a gradebook must not.
    """
    if os.environ.get("CNNLIB_SPEED_NOTES") == "0":
        return ""
    calls = chapter08_calls().get(ex.name)
    if not calls:
        return ""
    try:
        mine, ref = time_calls(box, ex.name, calls)
    except LearnerCrash as e:
        return f"too slow to time at chapter 08's shapes ({e})"
    extra = STEPS * (mine - ref)
    if mine < SLOW * ref or extra < MIN_EXTRA:
        return ""
    return (f"{mine / ref:.0f}x slower than the reference at chapter 08's shapes ({_seconds(mine)} a step "
            f"against {_seconds(ref)}): chapter 08 would take about {_duration(extra)} longer; "
            f"cnnlib.use_solutions('{ex.id}') runs the reference meanwhile")


def _seconds(t: float) -> str:
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.1f} s"


def _duration(t: float) -> str:
    return f"{t / 3600:.1f} h" if t >= 5400 else f"{t / 60:.0f} min"
