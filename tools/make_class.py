"""A class of made-up learners, to measure (and test) how ``cnnlib grade`` grades a class.

    python tools/make_class.py OUT_DIR [--learners 200] [--seed 0]      write OUT_DIR/learner-000.zip, ...
    python tools/make_class.py OUT_DIR --grade [--jobs N] [--out DIR]   then time `cnnlib grade` on them

Each learner is packed with ``cnnlib submit``'s own ``pack``, from a course folder
whose exercise files are one of:

- the pristine stubs (a learner who has not started: every exercise "not started");
- reference copies (every exercise the solution, marked ``@exercise``, and every
  concept check answered right: everything "done");
- learners under way: the reference up to some chapter, the stubs after it, and a
  few exercises replaced by catalogued mistakes (``tests/maintainer/catalogue``),
  some concept checks answered wrong.

``--grade`` reports the wall time of ``cnnlib grade`` on them, the peak resident
memory of its largest process (``getrusage(RUSAGE_CHILDREN)``) and of all its
processes together (sampled from ``/proc`` every 0.1 s), and the gradebook's summary.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "maintainer"))  # the catalogue

from cnnlib.exercises import EXERCISES
from cnnlib.submission import ANSWERS, EXERCISE_FILES, pack

NAMES = {e.name for e in EXERCISES}


def stub_file(module: str) -> str:
    """The exercise file as the course ships it."""
    return (ROOT / "cnnlib" / f"{module}.py").read_text()


def reference_file(module: str) -> str:
    """``solutions/<module>.py`` as a learner's exercise file: every exercise function marked ``@exercise``."""
    lines = (ROOT / "solutions" / f"{module}.py").read_text().splitlines(keepends=True)
    defs = [n for n in ast.parse("".join(lines)).body if isinstance(n, ast.FunctionDef) and n.name in NAMES]
    for node in sorted(defs, key=lambda n: -n.lineno):
        lines.insert(node.lineno - 1, "@exercise\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("from cnnlib."))
    lines.insert(at, "from cnnlib.exercises import exercise\n")
    return "".join(lines)


def mutant_file(module: str, mistakes: dict[str, str]) -> str:
    """The reference file with each exercise in ``mistakes`` replaced by a catalogued wrong implementation,
    ``{exercise name: label in catalogue WRONG}``; the catalogue module's source runs in a namespace of its
    own, so its helpers cannot shadow the file's."""
    catalogue = (ROOT / "tests" / "maintainer" / "catalogue" / f"{module}.py").read_text()
    source = reference_file(module) + ("\n\n# Catalogued mistakes (tools/make_class.py):\n_CATALOGUE = {}\n"
                                       f"exec(compile({catalogue!r}, 'catalogue/{module}.py', 'exec'), _CATALOGUE)\n")
    for name, label in sorted(mistakes.items()):
        source = replace_function(source, name, f"def {name}(*args, **kwargs):  # {label}\n"
                                                f"    return _CATALOGUE['WRONG'][{name!r}][{label!r}](*args, **kwargs)\n")
    return source


def replace_function(source: str, name: str, new: str) -> str:
    """``source`` without its function ``name`` (and its decorators), and with ``new`` (marked
    ``@exercise``) at its end instead."""
    lines = source.splitlines(keepends=True)
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    del lines[min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1:node.end_lineno]
    return "".join(lines) + f"\n\n@exercise\n{new}"


def wrong_labels() -> dict[str, list[str]]:
    """{exercise name: the catalogue's labels of its wrong implementations}."""
    import importlib
    import pkgutil

    import catalogue
    found: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(catalogue.__path__):
        for name, impls in getattr(importlib.import_module(f"catalogue.{info.name}"), "WRONG", {}).items():
            found.setdefault(name, []).extend(impls)
    return found


def reference_answers() -> dict:
    from solutions.answers import ANSWERS as answers
    return json.loads(json.dumps(answers))  # tuples as lists, as answers.json holds them


def write_course(folder: Path, files: dict[str, str], answers: dict | None) -> Path:
    """A course folder holding just what ``pack`` reads: cnnlib/<module>.py and answers.json."""
    (folder / "cnnlib").mkdir(parents=True, exist_ok=True)
    for rel in EXERCISE_FILES:
        module = rel[len("cnnlib/"):-3]
        (folder / rel).write_text(files.get(module, stub_file(module)))
    if answers is not None:
        (folder / ANSWERS).write_text(json.dumps(answers))
    return folder


def learner(i: int, rng: random.Random, labels: dict[str, list[str]]):
    """(kind, {module: source}, answers) of learner ``i``."""
    modules = sorted({e.module for e in EXERCISES})
    kind = ("pristine", "reference", "under way", "under way", "under way")[i % 5]
    if kind == "pristine":
        return kind, {}, None
    answers = reference_answers()
    if kind == "reference":
        return kind, {m: reference_file(m) for m in modules}, answers
    last = rng.choice([4, 6, 8, 12, 12])  # the chapters written so far
    written = [e for e in EXERCISES if e.chapter <= last]
    mistakes: dict[str, dict[str, str]] = {}
    for e in rng.sample(written, k=min(len(written), rng.choice([1, 1, 2, 3]))):
        mistakes.setdefault(e.module, {})[e.name] = rng.choice(labels[e.name])
    files = {}
    for m in modules:  # the cut points fall between modules: a module is written whole, or not at all
        if all(e.chapter <= last for e in EXERCISES if e.module == m):
            files[m] = mutant_file(m, mistakes[m]) if m in mistakes else reference_file(m)
    for qid in rng.sample(sorted(answers), k=rng.choice([0, 2, 5])):
        answers[qid] = {"int": 1, "float": 1.5, "choice": "a", "shape": [1, 2]}[_kind(qid)]
    return kind, files, {q: v for q, v in answers.items() if int(q.split(".")[0]) <= last}


def _kind(qid: str) -> str:
    from cnnlib.questions import get_question
    return get_question(qid).kind


def make_class(out: Path, learners: int = 200, seed: int = 0) -> list[Path]:
    """Write ``learners`` submissions into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rng, labels, paths = random.Random(seed), wrong_labels(), []
    with tempfile.TemporaryDirectory(prefix="make-class-") as tmp:
        for i in range(learners):
            _, files, answers = learner(i, rng, labels)
            folder = write_course(Path(tmp) / f"{i:03d}", files, answers)
            path = out / f"learner-{i:03d}.zip"
            pack(folder, path)
            paths.append(path)
    return paths


def measure(paths, out: Path, jobs: int | None) -> dict:
    """Run ``cnnlib grade`` on ``paths``: wall time, peak memory, and what it printed."""
    cmd = [sys.executable, "-m", "cnnlib.cli", "grade", *map(str, paths), "--out", str(out)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    peak, load = [0], os.getloadavg()[0]  # other processes' load makes the wall time longer
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample():
        while not stop.wait(0.1):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    seconds = time.monotonic() - start
    stop.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"returncode": proc.returncode, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "largest_process_bytes": usage.ru_maxrss * 1024, "all_processes_peak_bytes": peak[0],
            "load_at_start": load, "output": output}


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, now."""
    parents, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return sum(rss.get(p, 0) for p in tree)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="folder for the submissions")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grade", action="store_true", help="then time `cnnlib grade` on them")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--out", type=Path, help="the gradebook's folder (default: DIR/grading)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    paths = make_class(args.dir, args.learners, args.seed)
    print(f"Wrote {len(paths)} submissions in {args.dir} ({time.monotonic() - start:.1f} s).")
    if args.grade:
        r = measure(paths, args.out or args.dir / "grading", args.jobs)
        print(r["output"], end="")
        print(f"cnnlib grade: exit code {r['returncode']}, {r['seconds']:.1f} s wall time and {r['cpu_seconds']:.0f} s "
              f"of CPU on {os.cpu_count()} cores (load average {r['load_at_start']:.1f} at the start); peak memory "
              f"{r['largest_process_bytes'] / 2**20:.0f} MiB in its largest process, "
              f"{r['all_processes_peak_bytes'] / 2**20:.0f} MiB in all its processes together")
        return r["returncode"]
    return 0


if __name__ == "__main__":
    sys.exit(main())
