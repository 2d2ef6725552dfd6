"""The autograder catches every catalogued wrong implementation and accepts every
catalogued correct alternative (tests/catalogue/<module>.py: WRONG and RIGHT)."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import catalogue
from cnnlib.exercises import EXERCISES
from cnnlib.grading.core import grade, learner_impl

WRONG, RIGHT = {}, {}
for info in pkgutil.iter_modules(catalogue.__path__):
    mod = importlib.import_module(f"catalogue.{info.name}")
    for name, impls in getattr(mod, "WRONG", {}).items():
        WRONG.setdefault(name, {}).update(impls)
    for name, impls in getattr(mod, "RIGHT", {}).items():
        RIGHT.setdefault(name, {}).update(impls)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: f"{e.id}-{e.name}")
def test_every_exercise_has_wrong_and_right_implementations(ex):
    assert WRONG.get(ex.name), f"tests/catalogue/{ex.module}.py: no wrong implementations of {ex.name}"
    assert RIGHT.get(ex.name), f"tests/catalogue/{ex.module}.py: no correct alternative of {ex.name}"


@pytest.mark.parametrize("name, label", [(n, lbl) for n, d in WRONG.items() for lbl in d])
def test_wrong_implementation_is_caught(name, label):
    result = grade(name, learner_impl(**{name: WRONG[name][label]}))
    assert result.status == "wrong", f"'{label}' was graded {result.status}"
    assert result.message


@pytest.mark.parametrize("name, label", [(n, lbl) for n, d in RIGHT.items() for lbl in d])
def test_correct_alternative_passes(name, label):
    result = grade(name, learner_impl(**{name: RIGHT[name][label]}))
    assert result.status == "done", f"'{label}' was graded {result.status}: {result.failed_check}: {result.message}"
