"""cnnlib's BLAS thread policy (cnnlib/threads.py): the cores others leave free, at least one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from cnnlib import exercises, threads


@pytest.fixture(autouse=True)
def _fresh_policy(monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    saved = dict(threads._state)  # the maintainer suite pins one thread (conftest.py): restored after each test
    threads._state.update(pinned=None, next_check=0.0, last=None)
    yield
    threads._state.update(saved, threads=None)
    threads._apply(saved["threads"] or threads.cores())


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize(("others", "available", "expected"), [
    (0.0, 2, 2), (0.4, 2, 2), (0.6, 2, 1), (1.0, 2, 1), (3.0, 2, 1), (1.2, 8, 7), (0.0, 1, 1)])
def test_choose_leaves_the_cores_others_use_and_keeps_one(others, available, expected):
    assert threads.choose(others, available) == expected


def test_busy_elsewhere_subtracts_this_process_and_never_goes_below_zero():
    assert threads.busy_elsewhere((100.0, 10.0), (102.0, 11.0), 1.0) == pytest.approx(1.0)
    assert threads.busy_elsewhere((100.0, 10.0), (101.0, 11.5), 1.0) == 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the load is read from /proc/stat")
def test_adapt_gives_blas_fewer_threads_beside_a_busy_process_and_all_cores_when_it_ends():
    if threads.cores() < 2:
        pytest.skip("needs two cores")
    threads._apply(threads.cores())
    others = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(threads.cores())]
    try:
        time.sleep(0.3)
        threads.adapt()
        time.sleep(threads.CHECK_EVERY + 0.1)  # this process idle: every busy core is someone else's
        threads.adapt()
        assert threads.current() == 1 and blas_threads() == {1}
    finally:
        for p in others:
            p.kill()
            p.wait()
    time.sleep(threads.CHECK_EVERY + 0.1)
    threads.adapt()
    # whatever else this machine runs now, the choice is the formula's
    assert 1 <= threads.current() <= threads.cores()


def test_adapt_looks_at_most_every_half_second(monkeypatch):
    reads = []
    monkeypatch.setattr(threads, "_busy_and_own", lambda: reads.append(1) or (0.0, 0.0))
    for now in (10.0, 10.1, 10.2, 10.49):
        threads.adapt(now)
    assert len(reads) == 1
    threads.adapt(10.5)
    assert len(reads) == 2


def test_a_stale_reading_decides_nothing(monkeypatch):
    readings = iter([(0.0, 0.0), (100.0, 0.0)])  # 100 busy seconds elsewhere, but over a minute
    monkeypatch.setattr(threads, "_busy_and_own", lambda: next(readings))
    threads._apply(2)
    threads.adapt(0.0)
    threads.adapt(60.0)
    assert threads.current() == 2


def test_an_environment_variable_pins_blas_and_cnnlib_leaves_it_alone(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setattr(threads, "_busy_and_own", lambda: pytest.fail("read the load although pinned"))
    threads.adapt(0.0)
    threads.adapt(1.0)


def test_set_threads_pins_and_none_returns_to_the_automatic_choice(monkeypatch):
    threads.set_threads(1)
    assert threads.current() == 1 and blas_threads() == {1}
    monkeypatch.setattr(threads, "_busy_and_own", lambda: pytest.fail("read the load although pinned"))
    threads.adapt(100.0)
    monkeypatch.undo()
    threads.set_threads(None)
    assert threads._state["pinned"] is None


@pytest.mark.parametrize("bad", [0, -1, 10_000, 1.5, True, "2"])
def test_set_threads_names_the_rule_and_the_value(bad):
    with pytest.raises(ValueError, match=rf"set_threads: n must be None or a whole number from 1 to .*got {bad!r}"):
        threads.set_threads(bad)


def test_every_exercise_call_lets_the_policy_adapt(monkeypatch):
    calls = []
    monkeypatch.setattr(threads, "adapt", lambda: calls.append(1))
    from cnnlib import ops
    ops.relu_forward(np.ones((2, 3), np.float32))
    assert calls, "exercises.call did not call threads.adapt"
    assert exercises.call.__module__ == "cnnlib.exercises"


def test_the_repeatable_environment_pins_blas_threads_and_kernels_in_a_new_python():
    env = threads.repeatable_environment()
    assert env["OPENBLAS_NUM_THREADS"] == str(threads.cores())
    script = ("import json, threadpoolctl, numpy;"
              "from numpy._core._multiarray_umath import __cpu_features__ as f;"
              "blas = [i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'][0];"
              "print(json.dumps([blas['num_threads'], blas.get('architecture'), [k for k, v in f.items() if v]]))")
    out = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, **env), check=True,
                         capture_output=True, text=True)
    assert out.stderr == ""  # a kernel's stray warning would be a notebook output
    n, architecture, features = json.loads(out.stdout)
    assert n == threads.cores()
    if "OPENBLAS_CORETYPE" in env:
        assert architecture == "Haswell"
        assert not set(env.get("NPY_DISABLE_CPU_FEATURES", "").split()) & set(features)
