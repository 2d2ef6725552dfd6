"""Every exercise function by name, whoever wrote it: ``from cnnlib.ops import conv2d_forward``.

The layers, the optimizers, the trainer and the notebooks call exercises
through here, never by importing your exercise files directly. Each call runs

- the reference solution, when the solution switch is on for that exercise;
- otherwise your function from ``cnnlib/<module>.py``, looked up at the call,
  so an edited (and reloaded) file takes effect at once;
- the reference, with a note saying so, when yours is not started or its file
  does not import (unless ``cnnlib.strict()`` is on: then the error is raised).

A file of yours that does not import therefore breaks only its own exercises.
"""
from __future__ import annotations

import functools

from .exercises import EXERCISES, call, reference


def _gate(ex):
    def run(*args, **kwargs):
        return call(ex, None, args, kwargs)

    return functools.wraps(reference(ex.name))(run)


for _ex in EXERCISES:
    globals()[_ex.name] = _gate(_ex)

__all__ = [e.name for e in EXERCISES]
