"""Build a chapter notebook from its percent-format source, execute it and save it.

    python tools/build_notebook.py tools/notebooks/01_convolution_by_hand.py

Sources live in tools/notebooks/NN_name.py: ``# %% [markdown]`` starts a
markdown cell (its lines start with ``# ``), ``# %%`` a code cell, and
``# %% tags=["nbval-ignore-output"]`` a tagged code cell. The notebook is
executed with every reference solution switched on (as CI runs it), the
widget state is dropped, and it is written to chapters/NN_name.ipynb.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from cnnlib.threads import repeatable_environment

ROOT = Path(__file__).resolve().parents[1]
_HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse(source: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4  # cells without ids: stable diffs
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    cells, current = [], None
    for line in source.splitlines():
        m = _HEADER.match(line)
        if m:
            current = {"md": bool(m.group("md")), "tags": json.loads(m.group("tags") or "[]"), "lines": []}
            cells.append(current)
        elif current is not None:
            current["lines"].append(line)
    for c in cells:
        lines = c["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if c["md"]:
            text = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines)
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if c["tags"]:
            cell.metadata["tags"] = c["tags"]
        cell.pop("id", None)
        nb.cells.append(cell)
    return nb


def build(src: Path, execute: bool = True) -> Path:
    nb = parse(src.read_text())
    out = ROOT / "chapters" / (src.stem + ".ipynb")
    nbformat.write(nb, out)
    if execute:
        # BLAS on every core and the same CPU kernels on every machine, as nbval runs it (conftest.py):
        # float32 products round differently on one thread and on several, and on AVX2 and AVX-512.
        env = dict(os.environ, CNNLIB_SOLUTIONS="all", PYTHONHASHSEED="0", **repeatable_environment())
        env.setdefault("CNNLIB_DATA", str(ROOT.parent / "shared" / "data" / "mnist"))
        allow = ["--allow-errors"] if any("raises-exception" in c.metadata.get("tags", []) for c in nb.cells) else []
        subprocess.run(["timeout", "1800", sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                        "--execute", "--inplace", "--ExecutePreprocessor.timeout=1200",
                        "--ExecutePreprocessor.record_timing=False", *allow, str(out)],
                       cwd=out.parent, env=env, check=True)
        nb = nbformat.read(out, as_version=4)
        nb.metadata.pop("widgets", None)
        for cell in nb.cells:
            cell.pop("id", None)
        nb.nbformat_minor = 4
        nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("built", build(Path(arg)))
