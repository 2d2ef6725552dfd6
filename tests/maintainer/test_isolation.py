"""A learner's mistakes stay in their own exercises.

Each case copies the course, writes every exercise with its reference solution
(so every exercise should grade "done"), injects one fault into one exercise
file, and grades every exercise with ``python -m cnnlib.grading --json``, as
``cnnlib.check`` does. The faulty exercises must get the expected verdict and
every other exercise must still be graded "done".
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from make_class import reference_file

from cnnlib.exercises import EXERCISES
from solutions.answers import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
NAMES = {e.name for e in EXERCISES}


def solved_copy(dest: Path) -> Path:
    """The course with every exercise file replaced by its solution (plus the @exercise marks)."""
    for part in ("cnnlib", "solutions"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    for sol in (ROOT / "solutions").glob("*.py"):
        if sol.stem in ("__init__", "answers"):  # answers.py: the concept checks' answers, written below
            continue
        (dest / "cnnlib" / sol.name).write_text(reference_file(sol.stem))
    (dest / "answers.json").write_text(json.dumps(ANSWERS))  # the concept checks answered right too
    return dest


def grade(root: Path, **env) -> dict:
    env = {**{k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}, "PYTHONPATH": str(root),
           "CNNLIB_TIME_LIMIT": "8", **env}
    proc = subprocess.run([sys.executable, "-m", "cnnlib.grading", "--json"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {r["exercise"]: r for r in json.loads(proc.stdout)}


def inject(root: Path, module: str, function: str | None, code: str, top: bool = False) -> None:
    """Put ``code`` at the top of ``function``'s body, or (``top``) at the top of the module."""
    path = root / "cnnlib" / f"{module}.py"
    lines = path.read_text().splitlines(keepends=True)
    if top:
        at = next(i for i, ln in enumerate(lines) if "exercises import exercise" in ln)
        lines.insert(at + 1, code + "\n")
    else:
        node = next(n for n in ast.parse("".join(lines)).body if isinstance(n, ast.FunctionDef) and n.name == function)
        lines.insert(node.body[0].lineno - 1 if not isinstance(node.body[0], ast.Expr) else node.body[0].end_lineno,
                     "".join(f"    {ln}\n" for ln in code.splitlines()))
    path.write_text("".join(lines))


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    root = solved_copy(tmp_path_factory.mktemp("solved"))
    results = grade(root)
    assert all(r["status"] == "done" for r in results.values()), {n: r["message"] for n, r in results.items()
                                                                  if r["status"] != "done"}
    return root


CASES = {
    # case: (module, function or None for the module's top, code, {exercise: (status, words in the message)})
    "syntax error": ("activations", None, "def broken(:", {"relu_forward": ("broken", "SyntaxError at line"),
                                                            "relu_backward": ("broken", "SyntaxError at line")}),
    "error at import": ("pooling", None, "raise RuntimeError('oops at import')",
                        {n: ("broken", "RuntimeError: oops at import") for n in
                         ("maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward")}),
    "failing import": ("linear", None, "from .core.contracts import no_such_helper",
                       {"linear_forward": ("broken", "ImportError"), "linear_backward": ("broken", "ImportError")}),
    "deleted helper": ("activations", "relu_backward", "del check_dout",
                       {"relu_backward": ("wrong", "check_dout")}),
    "os._exit": ("activations", "relu_forward", "import os; os._exit(1)",
                 {"relu_forward": ("crashed", "exit code 1")}),
    "sys.exit": ("activations", "relu_forward", "import sys; sys.exit()", {"relu_forward": ("crashed", "sys.exit")}),
    "bare-except loop": ("activations", "relu_forward", "while True:\n    try:\n        pass\n    except:\n        pass",
                         {"relu_forward": ("crashed", "did not finish in 8 s")}),
    "patched np.allclose, zeros returned": (
        "activations", "relu_forward", "np.allclose = lambda *a, **k: True\nreturn np.zeros_like(x), (x,)",
        {"relu_forward": ("wrong", "differs from the reference")}),
    "10 MB print": ("activations", "relu_forward", "print('x' * 10_000_000)",
                    {"relu_forward": ("crashed", "printed more than 1 MB")}),
    "20 GB allocation": ("activations", "relu_forward", "big = np.ones(20 * 2**30 // 8)",
                         {"relu_forward": ("crashed", "ran out of memory")}),
    "eval mode returns x itself (identity survives the process boundary)": (
        "dropout", "dropout_forward", "if not training:\n    return x, (None, p, training)",
        {"dropout_forward": ("wrong", "returned x itself")}),
    "defined twice": ("activations", None, "def relu_forward(x):\n    return x\n",
                      {"relu_forward": ("broken", "defines relu_forward 2 times")}),
}


@pytest.mark.parametrize("case", CASES)
def test_a_fault_breaks_only_its_own_exercises(case, solved, tmp_path):
    module, function, code, expected = CASES[case]
    root = tmp_path / "course"
    shutil.copytree(solved, root)
    inject(root, module, function, code, top=function is None)
    results = grade(root)
    for name, (status, words) in expected.items():
        assert results[name]["status"] == status, (case, name, results[name])
        assert words in results[name]["message"], (case, name, results[name]["message"])
    others = {n: r["status"] for n, r in results.items() if n not in expected and r["status"] != "done"}
    assert not others, (case, others)
    if expected and all(s == "broken" for s, _ in expected.values()):  # the rescue switch still works
        switched = grade(root, CNNLIB_SOLUTIONS=",".join(expected))
        assert all(switched[n]["status"] == "done" for n in expected), case


def test_an_exercise_that_calls_another_is_graded_on_its_own(solved, tmp_path):
    """10.4 calls numerical_gradient (3.1) through cnnlib.ops, as a learner writes it: a broken 3.1 leaves it done."""
    root = tmp_path / "course"
    shutil.copytree(solved, root)
    path = root / "cnnlib" / "debugging.py"
    path.write_text(path.read_text() + "\nfrom cnnlib.ops import numerical_gradient  # noqa: E402,F811\n")
    inject(root, "gradcheck", None, "def broken(:", top=True)
    results = grade(root)
    assert results["numerical_gradient"]["status"] == "broken"
    assert results["network_gradient_errors"]["status"] == "done", results["network_gradient_errors"]


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_a_deleted_or_emptied_file_is_named(damage, solved, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(solved, root)
    path = root / "cnnlib" / "losses.py"
    path.unlink() if damage == "deleted" else path.write_text("")
    results = grade(root)
    for name in ("softmax", "softmax_cross_entropy", "mse_loss"):
        assert results[name]["status"] == "broken"
        assert ("is missing" if damage == "deleted" else "has no function") in results[name]["message"]
    assert sum(r["status"] == "done" for n, r in results.items() if n in NAMES) == len(EXERCISES) - 3


def test_a_broken_file_leaves_import_cnnlib_and_the_reference_working(solved, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(solved, root)
    inject(root, "conv", None, "def broken(:", top=True)
    code = ("import numpy as np, cnnlib, cnnlib.layers\n"
            "x = np.ones((1, 1, 4, 4), np.float32)\n"
            "out = cnnlib.layers.Conv2d(1, 2, 3, rng=0)(x)\n"  # falls back to the reference, with a note
            "print(out.shape)\n"
            "cnnlib.strict()\n"
            "try:\n    cnnlib.layers.Conv2d(1, 2, 3, rng=0)(x)\nexcept ImportError as e:\n    print('strict:', e)\n")
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("CNNLIB_SOLUTIONS", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "(1, 2, 2, 2)" in proc.stdout
    assert "[reference] 2.3 conv2d_forward cannot run (cnnlib/conv.py does not import: SyntaxError" in proc.stdout
    assert "strict: cnnlib/conv.py does not import: SyntaxError" in proc.stdout
