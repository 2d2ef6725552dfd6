"""The appendix, chapter 13 (your network in PyTorch), where PyTorch is not installed: one cell
says how to install it, with the version pyproject.toml pins, and every other cell that needs
torch is marked ``%%needs_torch`` (it then prints "skipped" instead of failing).

nbval runs the chapter with torch (CI's maintainer path); executing it without torch takes a
minute and was done by hand (PYTHONPATH holding a ``torch`` package that raises ImportError).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tools" / "notebooks" / "13_your_network_in_pytorch.py"
USES_TORCH = re.compile(r"(?<![\w.])(torch|nn|F)\.")  # torch.x, nn.X, F.x (not ex.pytorch)


def _code_cells() -> list[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    from build_notebook import parse
    return [c.source for c in parse(SOURCE.read_text()).cells if c.cell_type == "code"]


def test_one_cell_says_how_to_install_the_pinned_torch():
    tomllib = __import__("pytest").importorskip("tomllib", reason="tomllib is in the standard library from 3.11 on")
    (pin,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["torch"]
    install = [c for c in _code_cells() if "pip install torch" in c]
    assert len(install) == 1, "exactly one cell says how to install PyTorch"
    assert f"pip install {pin}" in install[0] and "except ImportError" in install[0]
    assert "def needs_torch" in install[0]  # and defines the marker the other cells use


def test_every_other_cell_that_uses_torch_is_marked():
    cells = _code_cells()
    unmarked = [c.splitlines()[0] for c in cells
                if USES_TORCH.search(c) and "pip install torch" not in c and not c.startswith("%%needs_torch")]
    assert not unmarked, f"cells that use torch without %%needs_torch: {unmarked}"
    assert sum(c.startswith("%%needs_torch") for c in cells) >= 5
    misplaced = [c for c in cells if "%%needs_torch\n" in c and not c.startswith("%%needs_torch")]
    assert not misplaced, "a cell magic works on a cell's first line only"
