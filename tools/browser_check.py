"""Drive a real JupyterLab in headless Chromium, as a learner would.

    python tools/browser_check.py --repo . run-all chapters/00_how_the_course_works.ipynb --screenshots shots
    python tools/browser_check.py --repo . chapter00 --screenshots shots

``run-all`` opens each notebook, runs *Run All Cells*, waits for the prompts and the kernel, and
reports errors, cells that did not run, and outputs that mention "reference" (the notes printed
when an exercise is not started); it saves <stem>-top.png, <stem>-end.png, <stem>-reference.png
(the last cell that ran reference code) and, after an error, <stem>-error.png. ``chapter00``
checks chapter 00's instructions: the file browser shows chapters/, cnnlib/ and tests/, and
``pytest tests/ -q`` typed in a JupyterLab terminal runs the grader from the repository root.
The exit code is non-zero when a check fails. The server's environment is the caller's
(set CNNLIB_SOLUTIONS=all to run the reference solutions) plus CNNLIB_BROWSER_CHECK=1.

Needs playwright (pip) and /usr/bin/chromium (apt); never ``playwright install``. The server
listens on 127.0.0.1 with a token; its config, runtime, data, settings and workspace directories
live in a temporary directory, removed afterwards. Autosave is off, so the notebooks are not
rewritten; the terminal is a non-login bash, as when ``jupyter lab`` is started from a shell.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
SETTINGS = {  # JupyterLab user settings for the run: no autosave, every cell in the DOM, no news pop-up
    "docmanager-extension/plugin": {"autosave": False},
    "notebook-extension/tracker": {"windowingMode": "none"},
    "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def missing() -> str | None:
    """Why the browser checks cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"},
                                     data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def wait_until(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OSError:  # the server is not listening yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Lab:
    base: str
    token: str
    pid: int
    root: Path

    def api(self, path: str, method: str = "GET"):
        return api(self.base, self.token, path, method)

    def url(self, path: str) -> str:
        return f"{self.base}{path}?token={self.token}"


@contextmanager
def jupyter_lab(root: Path, env: dict | None = None, log: Path | None = None):
    """Start ``jupyter lab`` serving ``root`` (cwd too); yield a Lab; shut it down and clean up."""
    tmp = Path(tempfile.mkdtemp(prefix="browser_check-"))
    dirs = {n: tmp / n for n in ("config", "runtime", "data", "ipython", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir()
    for name, values in SETTINGS.items():
        f = dirs["settings"] / "@jupyterlab" / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = dict(os.environ if env is None else env, JUPYTER_CONFIG_DIR=str(dirs["config"]),
               JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), JUPYTER_DATA_DIR=str(dirs["data"]),
               IPYTHONDIR=str(dirs["ipython"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
               JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), CNNLIB_BROWSER_CHECK="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # pytest in the terminal
    port, token = free_port(), secrets.token_hex(16)
    out = open(log or tmp / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={token}", "--allow-root", "--expose-app-in-browser", f"--ServerApp.root_dir={root}",
         "--ServerApp.terminado_settings={'shell_command': ['/bin/bash']}"],
        cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, server.pid, Path(root))
    try:
        wait_until(lambda: server.poll() is not None or lab.api("/api/status"), 60, "the Jupyter server")
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {server.returncode}; see {log or 'its log'}")
        yield lab
    finally:
        try:
            lab.api("/api/shutdown", "POST")  # stops kernels and terminals too
            server.wait(timeout=20)
        except Exception:
            pass
        if server.poll() is None:
            server.terminate()  # the process started here, by its handle
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        out.close()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def chromium(viewport=(1400, 1000)):
    """A page of a headless Debian Chromium; yields (page, list of page errors)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, errors
        finally:
            browser.close()


def open_in_lab(page, lab: Lab, path: str, workspace: str) -> None:
    """Open /lab/tree/<path> in a fresh workspace (no tabs restored from an earlier run)."""
    page.goto(lab.url(f"/lab/workspaces/{workspace}/tree/{path}"), timeout=90_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=90_000)


def kernel_state(lab: Lab, notebook: str) -> str | None:
    return next((s["kernel"]["execution_state"] for s in lab.api("/api/sessions") if s["path"] == notebook), None)


CELLS_JS = """() => { const nb = window.jupyterapp.shell.currentWidget.content;
  return nb.widgets.filter(c => c.model.type === 'code').map(c => ({
    prompt: c.node.querySelector('.jp-InputArea-prompt').textContent.trim(),
    outputs: c.model.outputs.toJSON() })); }"""
SCROLL_JS = """top => { const nb = window.jupyterapp.shell.currentWidget.content;
  if (top) nb.node.querySelector('.jp-WindowedPanel-outer').scrollTop = 0;
  else nb.widgets[nb.widgets.length - 1].node.scrollIntoView({block: 'end'}); }"""


SHOW_JS = """() => { const cell = window.jupyterapp.shell.currentWidget.content.widgets.filter(c =>
  c.model.type === 'code' && c.model.outputs.toJSON().some(o => FOUND)).pop();
  if (cell) cell.node.scrollIntoView({block: 'start'}); return !!cell; }"""


@dataclass
class Report:
    notebook: str
    cells: int = 0
    ran: int = 0
    errors: list[str] = field(default_factory=list)  # "cell 3: NameError: ..."
    references: dict[str, list[int]] = field(default_factory=dict)  # output lines with "reference" -> cells
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.cells > 0 and self.ran == self.cells and not self.errors and not self.note


def _text(output: dict) -> str:
    if output["output_type"] == "stream":
        return "".join(output["text"])
    return "".join(output.get("data", {}).get("text/plain", ""))


def run_all(page, lab: Lab, notebook: str, shots: Path, timeout: float = 600) -> Report:
    """Clear the outputs, Run All Cells, wait for the end; report and take two screenshots."""
    report, start = Report(notebook), time.monotonic()
    open_in_lab(page, lab, notebook, workspace=f"run-{Path(notebook).stem}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    wait_until(lambda: kernel_state(lab, notebook) == "idle", 90, f"the kernel of {notebook}")
    # a fresh run: drop the stored outputs and counts, then run all (do not await: it ends with the run)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    def finished():  # every prompt [n], or nothing queued after an error; the kernel idle
        cells = page.evaluate(CELLS_JS)
        done = all(re.fullmatch(r"\[\d+\]:?", c["prompt"]) for c in cells)
        stopped = any(o["output_type"] == "error" for c in cells for o in c["outputs"]) and \
            not any("*" in c["prompt"] for c in cells)
        return cells if (done or stopped) and kernel_state(lab, notebook) == "idle" else None

    try:
        wait_until(finished, timeout, f"Run All of {notebook}", interval=1.0)
        time.sleep(1.0)  # let the last outputs render
    except TimeoutError as e:
        report.note = str(e)
    cells = page.evaluate(CELLS_JS)
    report.cells = len(cells)
    report.ran = sum(bool(re.fullmatch(r"\[\d+\]:?", c["prompt"])) for c in cells)
    for i, c in enumerate(cells, 1):
        for o in c["outputs"]:
            if o["output_type"] == "error":
                report.errors.append(f"code cell {i}: {o['ename']}: {o['evalue']}")
            for line in _text(o).splitlines():
                if re.search(r"\breference\b", line, re.I) and i not in report.references.get(line.strip(), []):
                    report.references.setdefault(line.strip(), []).append(i)
    shots.mkdir(parents=True, exist_ok=True)
    for name, top in (("top", True), ("end", False)):
        page.evaluate(SCROLL_JS, top)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"{Path(notebook).stem}-{name}.png"))
    # the first error, where Run All stopped, and the last cell that ran reference code, with its note
    for name, found in (("error", "o.output_type === 'error'"),
                        ("reference", "JSON.stringify(o).includes('[reference]')")):
        if page.evaluate(SHOW_JS.replace("FOUND", found)):
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / f"{Path(notebook).stem}-{name}.png"))
    for s in lab.api("/api/sessions"):  # free the kernel before the next notebook
        if s["path"] == notebook:
            lab.api(f"/api/sessions/{s['id']}", "DELETE")
    report.seconds = time.monotonic() - start
    return report


TERMINAL_JS = """() => { const w = window.jupyterapp.shell.currentWidget, term = w.content && w.content._term;
  if (!term) return [...w.node.querySelectorAll('.xterm-rows > div')].map(r => r.textContent).join('\\n');
  const b = term.buffer.active, lines = [];  // the whole buffer, scrollback too (xterm draws on a canvas)
  for (let i = 0; i < b.length; i++) { const l = b.getLine(i), t = l.translateToString(true);
    if (l.isWrapped && lines.length) lines[lines.length - 1] += t; else lines.push(t); }
  return lines.join('\\n').trimEnd(); }"""


def check_chapter00(page, lab: Lab, shots: Path, timeout: float = 600) -> tuple[list[str], str]:
    """Chapter 00's instructions: the file browser's folders, and the grader in a terminal.
    Returns (failures, the terminal's text)."""
    failures: list[str] = []
    shots.mkdir(parents=True, exist_ok=True)
    open_in_lab(page, lab, "chapters/00_how_the_course_works.ipynb", workspace="chapter00")
    page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
    listing = lambda: page.locator(".jp-DirListing-itemText").all_inner_texts()  # noqa: E731
    if "cnnlib" not in listing():  # the browser opened in chapters/: go up to the course's folder
        print("file browser: opened in chapters/ (the notebook's folder); clicking its home icon")
        page.locator(".jp-BreadCrumbs-home").click()
        page.wait_for_function("() => [...document.querySelectorAll('.jp-DirListing-itemText')]"
                               ".some(e => e.textContent.trim() === 'cnnlib')", timeout=30_000)
    names = listing()
    failures += [f"the file browser does not list {d}/" for d in ("chapters", "cnnlib", "tests") if d not in names]
    page.screenshot(path=str(shots / "chapter00-filebrowser.png"))

    page.evaluate("() => window.jupyterapp.commands.execute('terminal:create-new')")
    page.wait_for_selector(".jp-Terminal .xterm-screen", timeout=60_000)
    prompt = wait_until(lambda: re.search(r"^.*[$#]$", page.evaluate(TERMINAL_JS), re.M), 30, "the shell prompt")[0]
    prompts = lambda: page.evaluate(TERMINAL_JS).count(prompt)  # noqa: E731
    page.locator(".jp-Terminal .xterm").click()
    try:
        for command, seconds in (("pwd", 30), ("pytest tests/ -q", timeout)):
            before = prompts()
            page.keyboard.type(command)
            page.keyboard.press("Enter")
            wait_until(lambda: prompts() > before, seconds, f"{command!r} in the terminal", interval=1.0)
    except TimeoutError as e:
        failures.append(str(e))
    text = page.evaluate(TERMINAL_JS)
    pwd = re.search(r"pwd\n(.*)", text)
    if not pwd or Path(pwd.group(1).strip()) != lab.root:
        failures.append(f"the terminal does not start in {lab.root}: pwd says {pwd and pwd.group(1)!r}")
    if not re.search(r"progress|not started", text):
        failures.append("the terminal shows neither the progress table nor 'not started'")
    page.screenshot(path=str(shots / "chapter00-terminal.png"))
    return failures, text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path("."), help="the repository root (JupyterLab's root)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run-all", "chapter00"):
        p = sub.add_parser(name)
        if name == "run-all":
            p.add_argument("notebooks", nargs="+", help="paths relative to the repository root, or absolute")
        p.add_argument("--screenshots", type=Path, required=True)
        p.add_argument("--timeout", type=float, default=600, help="seconds per notebook (or for pytest)")
    args = parser.parse_args(argv)
    if why := missing():
        print(f"browser_check: {why}", file=sys.stderr)
        return 2
    root, shots = args.repo.resolve(), args.screenshots.resolve()
    start, ok = time.monotonic(), True
    with jupyter_lab(root) as lab, chromium() as (page, page_errors):
        print(f"JupyterLab up after {time.monotonic() - start:.1f} s (pid {lab.pid}, "
              f"CNNLIB_SOLUTIONS={os.environ.get('CNNLIB_SOLUTIONS', '')!r})")
        if args.command == "run-all":
            reports = [run_all(page, lab, (root / nb).resolve().relative_to(root).as_posix(), shots, args.timeout)
                       for nb in args.notebooks]
            print(f"\n{'notebook':<40} {'cells':>5} {'ran':>4} {'errors':>6} {'ref.':>4} {'time':>6}")
            for r in reports:
                print(f"{Path(r.notebook).name:<40} {r.cells:>5} {r.ran:>4} {len(r.errors):>6} "
                      f"{len(r.references):>4} {r.seconds:>5.0f}s {'ok' if r.ok else 'FAIL'}")
            for r in reports:
                for line in ([r.note] if r.note else []) + r.errors + [
                        f"cells {','.join(map(str, cells))}: {text}" for text, cells in r.references.items()]:
                    print(f"  {Path(r.notebook).stem}: {line}")
            ok = all(r.ok for r in reports)
        else:
            failures, text = check_chapter00(page, lab, shots, args.timeout)
            print("terminal (last 25 lines):\n" + "\n".join(text.splitlines()[-25:]))
            for f in failures:
                print(f"FAIL: {f}")
            ok = not failures
            print("chapter00: " + ("ok" if ok else "FAIL"))
        if page_errors:
            print("page errors:", *page_errors[:5], sep="\n  ")
    print(f"screenshots in {shots}; {time.monotonic() - start:.0f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
