"""The autograder's pytest plumbing: one test per exercise, reported in the course's words,
and the progress table at the end.

``pytest tests/`` is the learner's autograder and nothing else. The course's own
tests (notebooks, browser, CLI, data, the PyTorch oracle) live in
``tests/maintainer`` and run with ``pytest tests/ --maintainer``.
"""
from __future__ import annotations

import os
from pathlib import Path

import cnnlib
from cnnlib.exercises import EXERCISES
from cnnlib.grading.pytest_support import RESULTS, question_marker
from cnnlib.questions import QUESTIONS
from cnnlib.grading.core import status_table

MAINTAINER = Path(__file__).parent / "maintainer"
# pytest's progress letter for each verdict; the verdict itself counts in the closing line
_LETTERS = {"done": ".", "wrong": "W", "crashed": "C", "broken": "B", "not started": "n"}


def pytest_addoption(parser):
    parser.addoption("--maintainer", action="store_true",
                     help="also run the course's own tests in tests/maintainer (CI runs them)")


def _maintainer(config) -> bool:
    return config.getoption("maintainer") or os.environ.get("CNNLIB_MAINTAINER") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "grading: an exercise graded by the autograder")
    config.addinivalue_line("markers", "torch: compares with PyTorch (skipped when torch is absent)")
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium")
    for ex in EXERCISES:
        config.addinivalue_line("markers", f"{ex.marker}: exercise {ex.id} {ex.name}")
    for q in QUESTIONS:
        config.addinivalue_line("markers", f"{question_marker(q)}: concept check {q.id}")


def pytest_ignore_collect(collection_path, config):
    if not _maintainer(config) and MAINTAINER in (collection_path, *collection_path.parents):
        return True
    return None


def pytest_report_teststatus(report, config):
    name = report.nodeid.rsplit("[", 1)[-1].rstrip("]").split("-", 1)[-1]
    if "test_grading[" in report.nodeid and report.when == "call" and name in RESULTS:
        res = RESULTS[name]
        word = res.status.upper() + (f" ({res.passed} of {res.total} checks)" if res.status != "not started" else "")
        return res.status, _LETTERS[res.status], word
    return None


def pytest_terminal_summary(terminalreporter, config):
    if RESULTS:
        terminalreporter.section("progress (" + cnnlib.describe_switch() + ")")
        terminalreporter.write_line(status_table(dict(RESULTS)))
    if not _maintainer(config):
        terminalreporter.write_line("(The course's own tests in tests/maintainer did not run: add --maintainer.)")
