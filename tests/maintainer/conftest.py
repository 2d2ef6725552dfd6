"""The course's own tests: they run the reference solutions, whatever the learner has done."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import cnnlib

sys.path.insert(0, str(Path(__file__).parent))  # `import catalogue`, `from oracle import rel_err`
sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))  # `import browser_check` (the browser tests)


@pytest.fixture(autouse=True)
def _reference_for_infrastructure():
    with cnnlib.use_solutions("all"):
        yield
