"""The widgets really render in JupyterLab: a headless Chromium runs a small notebook.

Starts its own JupyterLab server (127.0.0.1, a free port, a token; config, runtime
and data directories under the test's tmp_path), opens a notebook of the course's
widgets in Debian's Chromium through Playwright, runs every cell, checks that each
widget renders without "Error displaying widget", moves a slider and checks that
the picture changes, saves a screenshot, and stops the server it started.

Needs playwright (pip) and /usr/bin/chromium (apt); skipped otherwise. Never run
``playwright install``: the test uses the system's Chromium. Run it alone with
``pytest -m browser tests/test_browser.py -s`` (``-s`` prints the screenshot's path).
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import browser_check
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


# One cell per widget; the sample digits ship with cnnlib, so this needs no download.
CELLS = [
    """%matplotlib inline
import cnnlib
from cnnlib import widgets
from cnnlib.data import load_mnist_sample
from cnnlib.models import small_cnn
cnnlib.use_solutions("all")
images, labels = load_mnist_sample(50)
model = small_cnn(seed=0)""",
    "widgets.kernel_playground(images)",
    "widgets.feature_map_explorer(model, images)",
    "widgets.filter_viewer(model)",
    "widgets.prediction_explorer(model, images, labels)",
    "widgets.layer_statistics_explorer(images, labels)",
]


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server of our own, serving tmp_path; yields browser_check's Lab; shut down afterwards."""
    bc = browser_check
    if why := bc.missing():
        pytest.skip(why)
    env = dict(os.environ, CNNLIB_SOLUTIONS="all",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with bc.jupyter_lab(tmp_path, env=env, log=tmp_path / "jupyter.log") as lab:
        yield bc, lab


def test_widgets_render_and_respond_in_jupyterlab(jupyter_lab, tmp_path):
    start = time.monotonic()
    bc, lab = jupyter_lab
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "widgets.ipynb")

    with bc.chromium() as (page, errors):
        page.goto(lab.url("/lab/tree/widgets.ipynb"), timeout=90_000)
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
        bc.wait_until(lambda: [k for k in lab.api("/api/kernels") if k["execution_state"] == "idle"],
                      90, "the notebook's kernel to be idle")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=30_000)
        # run all; do not await the command's promise (it resolves only when every cell has run)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function(
            """n => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                      return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
            arg=len(CELLS), timeout=180_000)

        # every widget renders: five pictures, no widget error, no missing model
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jupyter-widgets img')].filter(i => i.src).length >= 5",
            timeout=60_000)
        text = page.inner_text(".jp-Notebook")
        for bad in ("Error displaying widget", "model not found", "Traceback", "Error:"):
            assert bad not in text, f"{bad!r} in the notebook:\n{text[-3000:]}"
        assert page.locator(".jupyter-widgets").count() >= 5
        assert page.locator(".jp-OutputArea-output .widget-vbox").count() >= 5  # one explorer per cell
        assert page.locator(".noUi-handle").count() >= 6

        # move the kernel playground's digit slider: the picture changes
        picture = page.locator(".jupyter-widgets img").first
        before = picture.get_attribute("src")
        page.locator(".noUi-handle").first.click()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "before => document.querySelector('.jupyter-widgets img').src !== before", arg=before,
            timeout=30_000)
        assert picture.get_attribute("src") != before
        label = page.locator(".jupyter-widgets .widget-readout").first.inner_text()
        assert re.fullmatch(r"\s*1\s*", label), f"the slider shows {label!r}, not 1"

        shot = tmp_path / "widgets.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot: {shot}")
        assert not errors, errors
    elapsed = time.monotonic() - start
    print(f"browser test: {elapsed:.1f} s after the server started")
    assert elapsed < 300
