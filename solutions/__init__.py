"""Reference solutions of every exercise, module for module as in ``cnnlib``.

Switch them on with ``CNNLIB_SOLUTIONS=all`` or ``cnnlib.use_solutions(...)``;
look here when you are stuck, after trying.
"""
