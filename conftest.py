"""pytest, at the repository's root: under nbval, BLAS on every core.

cnnlib gives BLAS the cores that other processes leave free (cnnlib/threads.py), and
OpenBLAS rounds float32 products differently on one thread and on several, so a
notebook's numbers would depend on the machine's load. The stored outputs were made
with BLAS on every core (tools/build_notebook.py); the kernels nbval starts inherit
the same setting from here, and the same CPU kernels wherever they run
(``cnnlib.threads.repeatable_environment``). Learners' ``pytest tests/`` is untouched.
"""
import os


def pytest_configure(config):
    if config.getoption("--nbval", default=False) or config.getoption("--nbval-lax", default=False):
        from cnnlib.threads import repeatable_environment
        for name, value in repeatable_environment().items():
            os.environ.setdefault(name, value)
