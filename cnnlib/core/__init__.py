"""The protected core: code every exercise, solution, grader and layer relies on.

You never edit these files, and nothing here imports a file you edit: a
mistake in your exercise file can break only your own exercises.

- ``validation``: argument checks with the course's message format.
- ``geometry``: the one output-size formula and the sliding-window arguments.
- ``contracts``: the argument and cache checks of each exercise.
- ``numeric``: ``rel_error``, the relative error used to compare gradients.
"""
