"""The autograder's pytest plumbing: one marker per exercise, the progress table,
and reference solutions for every test that is not grading an exercise."""
from __future__ import annotations

import re

import pytest

import cnnlib
from cnnlib.exercises import EXERCISES, get_exercise
from cnnlib.grading.core import Result, checks_of, status_table

_ID = re.compile(r"\[(\d+\.\d+)-(\w+)-(.+)\]$")
_outcomes: dict[str, dict[str, tuple[str, str]]] = {}  # exercise -> check title -> (outcome, message)


def pytest_configure(config):
    config.addinivalue_line("markers", "grading: a check of an exercise (the autograder)")
    config.addinivalue_line("markers", "torch: compares with PyTorch (skipped when torch is absent)")
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium")
    for ex in EXERCISES:
        config.addinivalue_line("markers", f"{ex.marker}: exercise {ex.id} {ex.name}")


@pytest.fixture(autouse=True)
def _reference_for_infrastructure(request):
    """Tests of the infrastructure run the reference solutions, whatever the learner has done."""
    if request.node.get_closest_marker("grading"):
        yield
    else:
        with cnnlib.use_solutions("all"):
            yield


def pytest_runtest_logreport(report):
    m = _ID.search(report.nodeid)
    if not m or "test_grading" not in report.nodeid:
        return
    if report.when != "call" and not (report.when == "setup" and not report.passed):
        return
    name, title = m.group(2), m.group(3)
    if report.skipped:
        outcome = "not started"
        message = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
    elif report.failed:
        outcome, message = "wrong", str(report.longrepr)
    else:
        outcome, message = "done", ""
    _outcomes.setdefault(name, {})[title] = (outcome, message)


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    results = {}
    for name, by_title in _outcomes.items():
        titles = [t for t, _ in checks_of(name) if t in by_title]
        passed = sum(by_title[t][0] == "done" for t in titles)
        res = Result(name, "done", passed, len(titles))
        for i, t in enumerate(titles):
            outcome, message = by_title[t]
            if outcome != "done":
                res = Result(name, outcome, i, len(titles), t, message)
                break
        results[get_exercise(name).name] = res
    terminalreporter.section("progress (CNNLIB_SOLUTIONS: " + cnnlib.describe_switch() + ")")
    terminalreporter.write_line(status_table(results))


# tests/catalogue is imported as the package `catalogue` by test_catalogue.py
import sys as _sys  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

_sys.path.insert(0, str(_Path(__file__).parent))
