"""The course's own tests: they run the reference solutions, whatever the learner has done."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import cnnlib
from cnnlib import threads

# cnnlib's BLAS threads follow the machine's load (cnnlib/threads.py), and OpenBLAS rounds float32
# products differently on one thread and on two: tests that compare two runs bit for bit need one
# fixed choice. One thread, because with `-n 2` the workers share the cores; the processes these
# tests start (the grader's sandbox, JupyterLab kernels) inherit it.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
threads.set_threads(1)

sys.path.insert(0, str(Path(__file__).parent))  # `import catalogue`, `from oracle import rel_err`
sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))  # `import browser_check` (the browser tests)


@pytest.fixture(autouse=True)
def _reference_for_infrastructure():
    with cnnlib.use_solutions("all"):
        yield
