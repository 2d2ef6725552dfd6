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

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
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
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
                                     data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OSError:  # the server is not listening yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server of our own, serving tmp_path; yields (base url, token); shut down afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    port, token = _free_port(), secrets.token_hex(16)
    dirs = {name: tmp_path / name for name in ("config", "runtime", "data", "ipython")}
    for d in dirs.values():
        d.mkdir()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
               JUPYTER_DATA_DIR=str(dirs["data"]), IPYTHONDIR=str(dirs["ipython"]), CNNLIB_SOLUTIONS="all",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    log = open(tmp_path / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={token}", "--allow-root", "--expose-app-in-browser",
         f"--ServerApp.root_dir={tmp_path}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _api(base, token, "/api/status"), 60, "the Jupyter server to start")
        yield base, token
    finally:
        try:
            _api(base, token, "/api/shutdown", "POST")  # stops the kernels too
            server.wait(timeout=20)
        except Exception:
            pass
        if server.poll() is None:
            server.kill()  # only the process this fixture started, by its handle
            server.wait(timeout=10)
        log.close()


def test_widgets_render_and_respond_in_jupyterlab(jupyter_lab, tmp_path):
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    base, token = jupyter_lab
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "widgets.ipynb")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/lab/tree/widgets.ipynb?token={token}", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
            _wait(lambda: [k for k in _api(base, token, "/api/kernels") if k["execution_state"] == "idle"],
                  90, "the notebook's kernel to be idle")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=30_000)
            # run all; do not await the command's promise (it resolves only when every cell has run)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            page.wait_for_function(
                """n => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                          return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
                arg=len(CELLS), timeout=180_000)

            # every widget renders: four pictures, no widget error, no missing model
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jupyter-widgets img')].filter(i => i.src).length >= 4",
                timeout=60_000)
            text = page.inner_text(".jp-Notebook")
            for bad in ("Error displaying widget", "model not found", "Traceback", "Error:"):
                assert bad not in text, f"{bad!r} in the notebook:\n{text[-3000:]}"
            assert page.locator(".jupyter-widgets").count() >= 4
            assert page.locator(".jp-OutputArea-output .widget-vbox").count() >= 4  # one explorer per cell
            assert page.locator(".noUi-handle").count() >= 5

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
        finally:
            browser.close()
    elapsed = time.monotonic() - start
    print(f"browser test: {elapsed:.1f} s after the server started")
    assert elapsed < 300
