"""How many threads NumPy's matrix products (BLAS) use: cnnlib's one thread policy.

A convolution's cost is its matrix products, and OpenBLAS runs each on one thread per
core. That is fastest on a quiet machine and slowest on a busy one: when another
process (a browser, JupyterLab, a second notebook) holds a core, the product's share
on that core waits its turn while the other threads spin. Measured on a 2-core
machine with one competing busy loop, a LeNet training step at batch 128 took
3× longer with two BLAS threads than with one (``python benchmarks/bench.py
--contention``).

So cnnlib counts the cores other processes kept busy over the last half second and
gives BLAS the rest (at least one). ``adapt()`` does that check and costs a clock
read between checks; every exercise call makes it (``cnnlib.exercises.call``), so
training, notebooks and the grader all follow the machine's load, with no
environment variable to set.

- ``set_threads(n)`` pins BLAS to ``n`` threads; ``set_threads(None)`` returns to
  the automatic choice.
- ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` set in the
  environment also pin it: cnnlib then leaves BLAS alone.
- The load is read from ``/proc/stat`` (Linux). Elsewhere cnnlib leaves BLAS alone.

The price: OpenBLAS rounds a float32 product differently on one thread and on two
(the last bits), so two runs with the same seed can differ slightly when the load
differed. For bit-for-bit repeatable runs pin the threads: the maintainers' tests do
(one thread), and so do the notebook builds and their nbval check (every core, what a
quiet machine chooses: ``conftest.py``, ``tools/build_notebook.py``).

The CPU rounds too: OpenBLAS and NumPy pick their kernels by the instructions the CPU has
(AVX2 or AVX-512 on x86), and each kernel sums in its own order. A notebook stored on
one machine showed ``4.weight 6e-02`` where another machine printed ``5e-02``.
``repeatable_environment()`` is the one list of what a stored notebook's kernel gets
so that any machine prints the same digits.
"""
from __future__ import annotations

import os
import time

CHECK_EVERY = 0.5  # seconds between two looks at the machine's load

_PINNING_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_state = {"pinned": None, "next_check": 0.0, "last": None, "threads": None, "controller": None}


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _busy_and_own() -> tuple[float, float] | None:
    """(seconds of CPU time the whole machine has used, seconds this process has), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    ticks = os.sysconf("SC_CLK_TCK")
    own = os.times()
    return (user + nice + system + irq + softirq + steal) / ticks, own.user + own.system


def busy_elsewhere(before, after, seconds: float) -> float:
    """Cores that other processes kept busy between two ``_busy_and_own()`` readings."""
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / seconds)


def choose(others: float, available: int) -> int:
    """Threads for BLAS: the cores that others leave free (rounded), at least one."""
    return max(1, available - int(others + 0.5))


def _apply(n: int) -> None:
    if _state["threads"] == n:
        return
    from threadpoolctl import ThreadpoolController  # imported once, on the first change
    if _state["controller"] is None:
        _state["controller"] = ThreadpoolController()
    _state["controller"].limit(limits=n, user_api="blas")
    _state["threads"] = n


def adapt(now: float | None = None) -> None:
    """Re-choose the BLAS threads if half a second has passed since the last look."""
    now = time.monotonic() if now is None else now
    if now < _state["next_check"] or _state["pinned"] is not None:
        return
    _state["next_check"] = now + CHECK_EVERY
    if any(os.environ.get(v) for v in _PINNING_VARIABLES):
        return
    reading, last = _busy_and_own(), _state["last"]
    _state["last"] = (now, reading)
    if reading is None or last is None or not 0 < now - last[0] <= 4 * CHECK_EVERY:
        return  # no reading, or the last one is too old to say what the machine does now
    _apply(choose(busy_elsewhere(last[1], reading, now - last[0]), cores()))


def set_threads(n: int | None) -> None:
    """Pin BLAS to ``n`` threads (1 to the number of cores), or ``None`` for the automatic choice."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cores()):
        raise ValueError(f"set_threads: n must be None or a whole number from 1 to {cores()} "
                         f"(the cores of this machine); got {n!r}")
    _state["pinned"] = n
    _state["next_check"] = 0.0
    if n is not None:
        _apply(n)


def repeatable_environment() -> dict[str, str]:
    """Environment variables that make a new Python's float32 numbers the same on every x86 machine.

    BLAS on every core; on an x86 CPU with AVX2, OpenBLAS's Haswell kernels (AVX2, which
    every AVX-512 CPU also runs) and none of NumPy's AVX-512 loops. Read by the notebook
    builds, their nbval check and the browser test; a learner's run needs none of it.
    """
    env = {"OPENBLAS_NUM_THREADS": str(cores())}
    try:
        with open("/proc/cpuinfo") as f:
            avx2 = " avx2 " in f.read().replace("\n", " ")
    except OSError:
        avx2 = False
    if avx2:
        env["OPENBLAS_CORETYPE"] = "Haswell"
        try:
            from numpy._core._multiarray_umath import __cpu_dispatch__
        except ImportError:  # NumPy 1.x
            from numpy.core._multiarray_umath import __cpu_dispatch__
        wide = [name for name in __cpu_dispatch__ if "AVX512" in name or name == "X86_V4"]
        if wide:
            env["NPY_DISABLE_CPU_FEATURES"] = " ".join(wide)
    return env


def current() -> int | None:
    """The BLAS threads cnnlib last set, or None if it has not set any."""
    return _state["threads"]
