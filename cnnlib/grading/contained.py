"""Imported by the sandbox's fork server as its last preload: from then on the fork server, and every
worker forked from it, is contained as ``CNNLIB_CONTAIN`` says (``containment.py``).

Only the fork server imports this module. A policy that cannot be applied ends the fork server
(every exercise of the submission is then graded "crashed"), rather than letting learner code run
uncontained.
"""
import os
import sys

from .containment import apply_from_environment

try:
    apply_from_environment()
except OSError as e:  # fail closed
    print(f"cnnlib: the sandbox could not be contained ({e})", file=sys.stderr, flush=True)
    os._exit(70)
