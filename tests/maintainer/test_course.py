"""Tests of the course itself: stubs and solutions agree, the set-up files agree,
and the shipped stubs grade as "not started" and nothing else."""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnlib.exercises import EXERCISES, get_exercise, reference, use_solutions
from cnnlib.grading.core import checks_of
from cnnlib.questions import QUESTIONS, answers_path

ROOT = Path(__file__).resolve().parents[2]


def _stub(ex):
    return getattr(importlib.import_module(f"cnnlib.{ex.module}"), ex.name)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: f"{e.id}-{e.name}")
def test_stub_and_solution_agree(ex):
    stub, ref = _stub(ex), reference(ex.name)
    assert getattr(stub, "exercise", None) is ex, f"cnnlib.{ex.module}.{ex.name} must be decorated with @exercise"
    assert inspect.signature(stub.learner) == inspect.signature(ref), f"{ex.name}: signatures differ"
    assert inspect.getdoc(stub.learner) == inspect.getdoc(ref), f"{ex.name}: docstrings differ"
    assert "Parameters" in inspect.getdoc(ref) and "Returns" in inspect.getdoc(ref), f"{ex.name}: numpydoc sections"
    assert checks_of(ex.name), f"{ex.name} has no grading checks"


def _stub_is_pristine(ex) -> bool:
    """True when the stub still ends in `raise NotImplementedError(...)` (the learner has not started)."""
    fn = ast.parse(inspect.getsource(_stub(ex).learner).lstrip()).body[0]
    last = fn.body[-1]
    return (isinstance(last, ast.Raise) and isinstance(last.exc, ast.Call)
            and getattr(last.exc.func, "id", "") == "NotImplementedError")


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: f"{e.id}-{e.name}")
def test_stub_raises_not_implemented_naming_the_exercise(ex):
    if not _stub_is_pristine(ex):
        pytest.skip(f"{ex.name} has been written by the learner")
    src = inspect.getsource(_stub(ex).learner)
    assert f"exercise {ex.id} {ex.name} (chapter {ex.chapter:02d})" in src


def test_every_solution_module_mirrors_a_cnnlib_module():
    exercise_modules = {e.module for e in EXERCISES}
    # answers.py holds the concept checks' answers (cnnlib.questions): no functions
    solution_modules = {p.stem for p in (ROOT / "solutions").glob("*.py") if p.stem not in ("__init__", "answers")}
    assert solution_modules == exercise_modules
    for module in solution_modules:
        names = {n for n, v in vars(importlib.import_module(f"solutions.{module}")).items()
                 if inspect.isfunction(v) and v.__module__ == f"solutions.{module}" and not n.startswith("_")}
        registered = {e.name for e in EXERCISES if e.module == module}
        assert names == registered, f"solutions/{module}.py: public functions {sorted(names - registered)} " \
                                    f"are not exercises; exercises missing: {sorted(registered - names)}"


def _requirements(lines):
    return {re.split(r"[<>=!\s\[]", ln.strip(), maxsplit=1)[0].lower() for ln in lines if ln.strip()}


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11 on")
    import yaml
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = _requirements(d for d in env if isinstance(d, str) and not d.startswith(("python", "pip")))
    pips = [d for d in env if isinstance(d, dict)]
    assert pips == [{"pip": ["-e ."]}]
    assert conda == _requirements(project["dependencies"])


def test_unknown_exercise_in_the_switch_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown exercise 'conv3d'.*2\.3 conv2d_forward"):
        use_solutions("conv3d")
    with pytest.raises(ValueError, match=r"unknown exercise '9\.9'"):
        get_exercise("9.9")


def test_the_environment_variable_switches_exercises_on():
    code = "import cnnlib; print([e.id for e in cnnlib.solutions_in_use()]); print(cnnlib.describe_switch())"
    env = dict(os.environ, CNNLIB_SOLUTIONS="2.3,relu_forward")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "['2.3', '4.1']"
    assert "2.3 conv2d_forward, 4.1 relu_forward" in out
    env["CNNLIB_SOLUTIONS"] = "2.3,nope"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown exercise 'nope'" in bad.stderr


def test_pristine_stubs_grade_as_not_started_and_nothing_else():
    """The learner's first run: `pytest tests/` on untouched stubs is green, and every exercise is "not started"."""
    pristine = [e for e in EXERCISES if _stub_is_pristine(e)]
    if len(pristine) != len(EXERCISES) or answers_path().exists():
        pytest.skip("some exercises have been written, or concept checks answered")
    env = {k: v for k, v in os.environ.items() if k not in ("CNNLIB_SOLUTIONS", "CNNLIB_MAINTAINER")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    graded = len(EXERCISES) + len(QUESTIONS)  # the concept checks are unanswered too
    assert f"Total: 0 of {graded} done, {graded} not started" in proc.stdout
    assert re.search(rf"=+ {graded} not started in [\d.]+s", proc.stdout), proc.stdout[-500:]
    assert "maintainer" in proc.stdout and "passed" not in proc.stdout.splitlines()[-1]


LEARNER_MODULES = sorted({e.module for e in EXERCISES})


def _imports(path: Path) -> list[str]:
    """The modules a file imports, relative imports resolved against its package."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found = []
    text = re.sub(r"^\s*[%!].*$", "", path.read_text(), flags=re.M)  # notebook sources: IPython magics
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [module] + [f"{module}.{a.name}" for a in node.names]
    return found


def test_nothing_but_the_registry_imports_a_file_the_learner_edits():
    """The protected core, solutions, graders, layers, tests, tools and benchmarks never import an
    exercise file (cnnlib/conv.py, ...): they call exercises through cnnlib.ops, which looks them up
    at the call. Exercise files themselves import only the core, the registry, NumPy and cnnlib.ops (the
    gate through which one exercise calls another: 10.4 calls 3.1)."""
    learner = {f"cnnlib.{m}" for m in LEARNER_MODULES}
    offenders = []
    for path in sorted(ROOT.glob("**/*.py")):
        if any(part.startswith(".") or part in ("build", "runs") for part in path.relative_to(ROOT).parts):
            continue
        mine = path.parent == ROOT / "cnnlib" and path.stem in LEARNER_MODULES
        for module in _imports(path):
            if module in learner and not mine:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
            if mine and module.startswith("cnnlib") and module not in ("cnnlib", "cnnlib.ops") \
                    and not module.startswith(("cnnlib.core", "cnnlib.exercises")):
                offenders.append(f"{path.relative_to(ROOT)} (an exercise file) imports {module}")
    assert not offenders, "\n".join(offenders)


def test_each_exercise_file_says_which_parts_are_the_learners():
    for m in LEARNER_MODULES:
        doc = ast.get_docstring(ast.parse((ROOT / "cnnlib" / f"{m}.py").read_text()))
        assert "Yours to edit" in doc and "cnnlib.core" in doc, f"cnnlib/{m}.py"


def _chapter_sources():
    return sorted((ROOT / "tools" / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("src", _chapter_sources(), ids=lambda p: p.stem)
def test_chapter_notebook_matches_its_source_and_has_outputs(src):
    import nbformat
    sys.path.insert(0, str(ROOT / "tools"))
    from build_notebook import parse
    nb_path = ROOT / "chapters" / f"{src.stem}.ipynb"
    assert nb_path.exists(), f"{nb_path.name} is missing: python tools/build_notebook.py {src.relative_to(ROOT)}"
    built, stored = parse(src.read_text()), nbformat.read(nb_path, as_version=4)
    assert [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in built.cells] == \
           [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in stored.cells], \
        f"{nb_path.name} differs from {src.name}: rebuild it with tools/build_notebook.py"
    code = [c for c in stored.cells if c.cell_type == "code" and c.source.strip()]
    assert code and all(c.execution_count is not None for c in code), f"{nb_path.name}: cells without stored outputs"
    assert "widgets" not in stored.metadata, f"{nb_path.name}: drop metadata.widgets (tools/build_notebook.py does)"


def test_learner_code_that_hangs_is_wrong_and_grading_carries_on(monkeypatch):
    from cnnlib.grading import core

    def hangs(size, kernel_size, stride=1, padding=0):
        while True:
            pass

    monkeypatch.setattr(core, "TIME_LIMIT", 0.5)
    res = core.grade("conv_output_size", core.learner_impl(conv_output_size=hangs))
    assert res.status == "wrong" and "did not finish within" in res.message
    assert core.grade("conv_output_size").done  # the next grade runs normally


def test_learner_code_that_returns_the_wrong_type_or_crashes_is_wrong():
    from cnnlib.grading import core
    res = core.grade("im2col", core.learner_impl(im2col=lambda x, k, s=1, p=0: x.tolist()))
    assert res.status == "wrong" and "expected a NumPy array, received list" in res.message
    res = core.grade("conv2d_forward", core.learner_impl(conv2d_forward=lambda *a: np.zeros(3)))
    assert res.status == "wrong" and "must return a tuple of 2 items" in res.message
    res = core.grade("zero_pad", core.learner_impl(zero_pad=lambda x, p: 1 / 0))
    assert res.status == "wrong" and "raised ZeroDivisionError" in res.message


def test_wrong_answers_carry_expected_received_index_and_hint():
    from cnnlib.grading import core

    def flipped(x, weight, bias=None, stride=1, padding=0):
        return reference("conv2d_naive")(x, weight[:, :, ::-1, ::-1].copy(), bias, stride, padding)

    res = core.grade("conv2d_naive", core.learner_impl(conv2d_naive=flipped))
    assert res.status == "wrong" and res.failed_check == "hand-computed 3x3 case"
    assert "first at index (0, 0, 0, 0): expected -3.5, received 4.5" in res.message
    assert "max abs error" in res.message and "Hint: you flipped the kernel" in res.message
    table = core.status_table({"conv2d_naive": res})
    assert "1.2 conv2d_naive" in table and "wrong" in table and "Hint: you flipped the kernel" in table


# The layering, bottom up: a module may import its own level and the ones below, never one above.
LAYERS = [
    ["cnnlib.core", "cnnlib.exercises", "cnnlib.files", "cnnlib.questions", "cnnlib.threads"],
    [*(f"cnnlib.{m}" for m in LEARNER_MODULES), "solutions", "cnnlib.ops", "cnnlib.nonlinearities",
     "cnnlib.gradients", "cnnlib.data", "cnnlib.grading", "cnnlib.transforms", "cnnlib.submission"],
    ["cnnlib.layers"],
    ["cnnlib.models", "cnnlib.optim", "cnnlib.checkpoint"],
    ["cnnlib.history", "cnnlib.callbacks", "cnnlib.trainer", "cnnlib.profiling"],
    ["cnnlib.config", "cnnlib.runs", "cnnlib.viz", "cnnlib.widgets", "cnnlib.diagnostics", "cnnlib.capstone",
     "cnnlib.grading.batch", "cnnlib.grading.platforms"],  # grading a class: runs of the grader
    ["cnnlib.cli", "cnnlib.instructor", "cnnlib"],
]


def _level(module: str) -> int | None:
    best = None
    for level, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > best[1]):
                best = (level, len(name))
    return None if best is None else best[0]


def test_no_module_imports_one_above_it():
    """exercise math -> layers -> models -> trainer -> runs -> CLI: imports point down (or sideways)."""
    wrong = []
    for path in sorted([*(ROOT / "cnnlib").rglob("*.py"), *(ROOT / "solutions").glob("*.py")]):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        mine = _level(module)
        assert mine is not None, f"{module} is in no layer of LAYERS"
        for imported in _imports(path):
            if imported in ("cnnlib", "solutions"):  # `from . import ops` also names the package itself
                continue
            theirs = _level(imported)
            if imported.startswith(("cnnlib", "solutions")) and theirs is not None and theirs > mine:
                wrong.append(f"{module} (layer {mine}) imports {imported} (layer {theirs})")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_every_exercise_names_the_pytorch_call_it_mirrors():
    assert all(ex.pytorch for ex in EXERCISES)
    assert get_exercise("maxpool2d_forward").pytorch == "F.max_pool2d"
