"""Grading on a platform: a Gradescope autograder, a GitHub Classroom workflow (``cnnlib publish``).

**Gradescope** runs an autograder zip in a container: ``setup.sh`` once, when the
image is built, and ``run_autograder`` for every submission, with the learner's
upload in ``/autograder/submission``, the zip's contents in ``/autograder/source``,
and the verdict expected in ``/autograder/results/results.json`` (the layout of
https://gradescope-autograders.readthedocs.io/en/latest/specs/). The bundle holds
the course's ``cnnlib/`` and ``solutions/``, the points (``points.yaml``) and the
hidden checks; ``run_autograder`` grades the one submission exactly as
``cnnlib grade`` grades a class (``batch.py``) and writes one test per exercise
and concept check: name, number, score, max_score, output (the learner's
feedback on it) and visibility. ``CNNLIB_AUTOGRADER_ROOT`` names another folder
than ``/autograder`` (the tests run the bundle in a temporary one).

**GitHub Classroom** runs a workflow in the learner's own repository, the course
folder: one ``education/autograding-command-grader`` step per exercise whose
command, ``python -m cnnlib.grading --require-done ID``, passes when the exercise
is done and earns its points, then ``education/autograding-grading-reporter``
adds them up. The learner can read (and edit) everything there, so hidden
checks have no place in it.
"""
from __future__ import annotations

import argparse
import json
import os
import stat
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

from ..files import atomic_write
from . import batch
from .core import report

GRADESCOPE_ROOT = "/autograder"
REQUIREMENTS = ("numpy", "pyyaml", "threadpoolctl")  # what grading imports (the rest is for notebooks)

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
# Grading needs Python 3.10+ and {requirements}: not the notebooks' dependencies.
set -euo pipefail
apt-get install -y python3 python3-pip
python3 -m pip install --break-system-packages {pinned} || python3 -m pip install {pinned}
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades /autograder/submission with the course in
# /autograder/source and writes /autograder/results/results.json (cnnlib.grading.platforms).
set -uo pipefail
root="${CNNLIB_AUTOGRADER_ROOT:-/autograder}"
cd "$root"
PYTHONPATH="$root/source" exec "${PYTHON:-python3}" -c \\
    "import sys; from cnnlib.grading.platforms import gradescope_main; sys.exit(gradescope_main(sys.argv[1:]))" \\
    --root "$root"
"""


def _requirements() -> list[str]:
    """The grader's requirements as the course's package states them (``numpy>=1.24``, ...)."""
    from importlib.metadata import PackageNotFoundError, requires
    try:
        stated = requires("cnnlib") or []
    except PackageNotFoundError:  # the course used from its folder, not installed
        stated = []
    found = {}
    for req in stated:
        name = req.split(";")[0].strip()
        base = name.split("=")[0].split(">")[0].split("<")[0].strip().lower()
        if base in REQUIREMENTS:
            found[base] = name
    return [found.get(r, r) for r in REQUIREMENTS]


def write_gradescope_bundle(out: Path, columns: list[batch.Column], course: Path,
                            extra_checks: Path | None = None) -> list[str]:
    """Write the autograder zip ``out``; return its members."""
    out, course = Path(out), Path(course)
    if out.suffix != ".zip":
        raise ValueError(f"publish gradescope: --out must end in .zip. Received: {str(out)!r}")
    hidden = batch.load_extra_checks(extra_checks) if extra_checks else {}  # fails here, not on Gradescope
    pinned = " ".join(f"'{r}'" for r in _requirements())
    members: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP_SH.format(requirements=", ".join(REQUIREMENTS), pinned=pinned).encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.encode(), 0o755),
    }
    with tempfile.TemporaryDirectory() as tmp:
        points = Path(tmp) / "points.yaml"
        batch.write_points(columns, points)
        members["points.yaml"] = (points.read_bytes(), 0o644)
    for part in ("cnnlib", "solutions"):
        for path in sorted((course / part).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                members[path.relative_to(course).as_posix()] = (path.read_bytes(), 0o644)
    if extra_checks:
        for path in sorted(Path(extra_checks).glob("*.py")):
            members[f"hidden/{path.name}"] = (path.read_bytes(), 0o644)
    members["README.md"] = (
        f"# cnnlib autograder\n\nMade by `cnnlib publish gradescope`: {len(columns)} tests worth "
        f"{batch.fmt(sum(c.points for c in columns))} points"
        + (f", and hidden checks on {len(hidden)} exercises" if hidden else "")
        + ". Learners upload the `submission.zip` that `cnnlib submit` writes.\n").encode(), 0o644
    with atomic_write(out, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return list(members)


def gradescope_results(g: batch.Graded, columns: list[batch.Column]) -> dict:
    """results.json for one graded submission, in Gradescope's format."""
    view = g.view()
    tests = []
    for c in columns:
        r = view[c.key]
        output = r.summary() if r.status == "not started" else report(r)  # report() speaks to a notebook there
        if c.key in g.hidden:
            output += "\n" + batch.hidden_note(g.results[c.key], g.hidden[c.key])
        tests.append({"name": c.label, "number": c.number, "score": c.points if r.done else 0.0,
                      "max_score": c.points, "output": output, "visibility": "visible"})
    total = sum(t["score"] for t in tests)
    lines = [f"{batch.fmt(total)} of {batch.fmt(sum(c.points for c in columns))} points. Submission: {g.about}."]
    if g.hidden:
        lines.append(f"Your instructor's hidden checks ran on {len(g.hidden)} exercises; each test says whether "
                     "they passed, never what they check.")
    lines += [f"Note: {n}" for n in g.notes]
    return {"score": total, "output": "\n".join(lines), "stdout_visibility": "hidden", "tests": tests}


def gradescope_main(argv=None) -> int:
    """``run_autograder``: grade ``ROOT/submission`` and write ``ROOT/results/results.json``."""
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--root", default=os.environ.get("CNNLIB_AUTOGRADER_ROOT", GRADESCOPE_ROOT))
    args = parser.parse_args(argv)
    root = Path(args.root)
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    source = root / "source"
    start = time.monotonic()
    try:
        from . import containment
        print(containment.describe())  # results/stdout: the instructor sees it, the learner does not
        columns = batch.load_points(source / "points.yaml")
        hidden = source / "hidden"
        config = batch.Batch(columns, course=source, extra_checks=hidden if hidden.is_dir() else None, jobs=1,
                             protect=(results_path.parent,))
        [g] = batch.grade_submissions([root / "submission"], config, progress=print)
        results = gradescope_results(g, columns)
        code = 0
    except Exception as e:  # noqa: BLE001  (the autograder's own failure: say so on Gradescope, not leave no result)
        import traceback
        traceback.print_exc()
        results = {"score": 0.0, "output": f"The autograder itself failed ({type(e).__name__}: {e}); your "
                   "instructor can see the details. This is not a verdict on your code.", "tests": []}
        code = 1
    results["execution_time"] = round(time.monotonic() - start)
    with atomic_write(results_path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"Wrote {results_path}: score {results['score']}")
    return code


def classroom_workflow(columns: list[batch.Column], timeout_minutes: int = 5) -> dict:
    """The GitHub Actions workflow (as data) that grades one step per exercise and concept check."""
    ids = [f"ex{c.number.replace('.', '-')}" for c in columns]
    steps = [{"name": "Check out the learner's repository", "uses": "actions/checkout@v4"},
             {"name": "Set up Python", "uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
             {"name": "Install what grading needs",
              "run": "python -m pip install " + " ".join(f"'{r}'" for r in _requirements())}]
    for c, step_id in zip(columns, ids):
        steps.append({"name": c.label, "id": step_id, "uses": "education/autograding-command-grader@v1",
                      "with": {"test-name": c.label, "command": f"python -m cnnlib.grading --require-done {c.number}",
                               "timeout": timeout_minutes, "max-score": batch.fmt(c.points)}})
    steps.append({"name": "Autograding Reporter", "uses": "education/autograding-grading-reporter@v1",
                  "env": {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids},
                  "with": {"runners": ",".join(ids)}})
    return {"name": "Autograding Tests", "on": ["push", "repository_dispatch"],
            "permissions": {"checks": "write", "actions": "read", "contents": "read"},
            "jobs": {"run-autograding-tests": {"runs-on": "ubuntu-latest",
                                               "if": "github.actor != 'github-classroom[bot]'", "steps": steps}}}


def write_classroom_workflow(out: Path, columns: list[batch.Column]) -> int:
    """Write the workflow to ``out`` (made by ``cnnlib publish classroom``); return its grading steps."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = ("# GitHub Classroom autograding, made by `cnnlib publish classroom`: one step per exercise and\n"
            "# concept check, each passing (and earning its points) when `python -m cnnlib.grading\n"
            "# --require-done ID` finds it done. Commit it to the assignment's template repository.\n"
            + yaml.safe_dump(classroom_workflow(columns), sort_keys=False, width=120))
    with atomic_write(out, "w") as f:
        f.write(text)
    return len(columns)
