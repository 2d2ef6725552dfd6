"""A learner's first day, in a real JupyterLab: Run All of every chapter reaches its last cell on
untouched stubs, and chapter 00's instructions (file browser, ``pytest tests/`` in a terminal) hold.

Uses tools/browser_check.py (one JupyterLab server for the module, headless Debian Chromium).
The server gets the learner's environment: no CNNLIB_SOLUTIONS, so the cells of exercises that
are not started must still run (the library shows the reference result and says so).
Skipped without playwright or /usr/bin/chromium. Run it alone with
``pytest tests/ --maintainer -m browser -k runall -s`` (``-s`` prints the report and the
screenshots' folder).
"""
from __future__ import annotations

import os
from pathlib import Path

import browser_check
import pytest

from cnnlib.threads import repeatable_environment

pytestmark = pytest.mark.browser

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
# Every chapter, 09 before 08: without chapter 08's checkpoint, chapter 09 trains its own network.
NOTEBOOKS = [f"chapters/{p.name}" for p in sorted((ROOT / "chapters").glob("0[0-7]_*.ipynb"))] + \
    ["chapters/09_looking_inside.ipynb", "chapters/08_training_on_mnist.ipynb",
     *(f"chapters/{p.name}" for p in sorted((ROOT / "chapters").glob("1[0-9]_*.ipynb")))]


def _stubs_untouched() -> bool:
    from cnnlib.exercises import EXERCISES
    return all(f'NotImplementedError("exercise {e.id} {e.name}' in (ROOT / "cnnlib" / f"{e.module}.py").read_text()
               for e in EXERCISES)


@pytest.fixture(scope="module")
def lab_page(tmp_path_factory):
    """(browser_check module, Lab, page, screenshot folder), with a server serving the repository."""
    if os.environ.get("CNNLIB_BROWSER_CHECK"):
        pytest.skip("running inside a browser check's own JupyterLab")
    bc = browser_check
    if why := bc.missing():
        pytest.skip(why)
    env = {k: v for k, v in os.environ.items() if k not in ("CNNLIB_SOLUTIONS", "CNNLIB_MAINTAINER")}
    # BLAS on every core and the CPU kernels the stored outputs were made with (tools/build_notebook.py):
    # chapter 08 asserts what its training ends at, and OpenBLAS rounds differently on one thread
    # (this suite's pin) and on another CPU
    env.update(repeatable_environment())
    shots = tmp_path_factory.mktemp("browser_runall")
    with bc.jupyter_lab(ROOT, env=env, log=shots / "jupyter.log") as lab, bc.chromium() as (page, errors):
        yield bc, lab, page, shots
        assert not errors, f"JavaScript errors in the page: {errors[:5]}"
    print(f"\nscreenshots: {shots}")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: Path(nb).stem)
def test_run_all_cells(lab_page, notebook):
    bc, lab, page, shots = lab_page
    report = bc.run_all(page, lab, notebook, shots, timeout=900)
    print(f"\n{notebook}: {report.ran}/{report.cells} cells ran in {report.seconds:.0f} s, "
          f"{len(report.references)} reference notes", *report.errors, sep="\n  ")
    assert not report.note, report.note
    assert not report.errors, f"cells with an error in {notebook}:\n" + "\n".join(report.errors)
    assert report.cells > 0 and report.ran == report.cells, f"only {report.ran} of {report.cells} cells ran"
    if _stubs_untouched():  # then some cell ran reference code, and said so
        assert any(line.startswith("[reference]") for line in report.references), report.references


def test_chapter00_file_browser_and_terminal(lab_page):
    bc, lab, page, shots = lab_page
    failures, text = bc.check_chapter00(page, lab, shots, timeout=600)
    assert not failures, "\n".join(failures) + "\nterminal:\n" + "\n".join(text.splitlines()[-30:])
