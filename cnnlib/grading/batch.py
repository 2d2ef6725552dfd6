"""Grading a class, the instructor's seat: ``cnnlib grade SUBMISSION ...``.

Each submission (an archive of ``cnnlib submit``, or a folder) is graded as the
learner's own ``pytest tests/`` grades it, by the same checks with the same
messages, and apart from every other:

- its exercise files go over the stubs in a fresh copy of the course (its
  ``cnnlib/`` and ``solutions/``), in a temporary folder removed afterwards;
- a grading process of its own (``child``, in a fresh interpreter)
  grades it there, with a minimal environment, limits on its CPU time and the
  size of what it writes, and a wall-clock limit kept from here; the learner's
  code runs in the sandbox below it (``sandbox.py``), contained
  (``containment.py``) so that it writes nowhere but its scratch folder;
- the grading process imports every reference solution and check before any
  learner code runs, and ends whatever learner code left running;
- submissions are graded ``jobs`` at a time (the machine's cores).

A submission that is malformed, crashes, hangs, floods its output or patches
NumPy gets verdicts for that (broken, crashed, wrong) and the batch goes on.
What comes out is written only once every submission is graded, each file
atomically: ``gradebook.csv`` (one row per submission, sorted by name, one
column per exercise and concept check, the points of ``points.yaml``, a total),
``verdicts.csv`` (the same table in status words), ``details.json`` (every
verdict in full, hidden checks included) and ``feedback/<name>.md`` (or
``.html``) for each learner. No timestamps and no timings go into them, so the
same submissions give the same files, byte for byte.

Instructor-only checks (``--extra-checks DIR``, nbgrader's hidden tests) are
``.py`` files registering more checks with ``@check``, as the course's graders
do; they run after the shipped ones, and the learner's feedback says they ran
and whether they passed, never what they check.
"""
from __future__ import annotations

import compileall
import csv
import dataclasses
import html
import importlib.util
import io
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import submission as submissions
from ..config import _UniqueKeyLoader
from ..exercises import CHAPTERS, exercises_of, get_exercise
from ..files import atomic_write
from ..questions import QUESTIONS, questions_of
from . import containment
from .core import Result, checks_of, status_table
from .sandbox import TIME_LIMIT

OUTPUT_BYTES = 16 << 20       # what a grading process may write (its verdicts are a few KB)
GRADER_MEMORY = 4 << 30       # address space of a grading process (its workers have the sandbox's 3 GiB)
FEEDBACK_FORMATS = ("md", "html")


class PointsError(ValueError):
    """points.yaml is not valid: the message names the key, the rule and what was received."""


# ----------------------------------------------------------------------------
# What each exercise is worth

@dataclass(frozen=True)
class Column:
    key: str       # what grade_all() calls it: an exercise's name, a concept check's id
    number: str    # "2.3", "1.q1"
    label: str     # "2.3 conv2d_forward", "1.q1 concept check"
    points: float
    chapter: int


POINTS_HELP = """\
# points.yaml: what each exercise and concept check is worth in the gradebook
default: 1        # every exercise not listed under points
questions: 1      # every concept check not listed under points
points:           # by id or name, e.g.
  "3.2": 3
  "1.q1": 0.5
chapters: [1, 2, 3, 4]   # optional: grade these chapters only (default: all)
"""


def load_points(path=None) -> list[Column]:
    """The gradebook's columns, in course order, with their points (``POINTS_HELP`` shows the file)."""
    spec, where = {}, "points"
    if path is not None:
        where = str(path)
        try:
            spec = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
        except OSError as e:
            raise PointsError(f"--points: {path} cannot be read ({e.strerror})") from None
        except yaml.YAMLError as e:
            raise PointsError(f"{where} is not valid YAML: {e}") from None
        if not isinstance(spec, dict):
            raise PointsError(f"{where} must be a mapping of the keys default, questions, points, chapters. "
                              f"Received: {type(spec).__name__}")
    unknown = sorted(set(spec) - {"default", "questions", "points", "chapters"})
    if unknown:
        raise PointsError(f"{where}: unknown key {unknown[0]!r}; the keys are default, questions, points and "
                          f"chapters. Received: {unknown[0]}: {spec[unknown[0]]!r}")

    def number(key, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PointsError(f"{where}: {key} must be a number of points >= 0. Received: {key}: {value!r}")
        return float(value)

    default, per_question = number("default", spec.get("default", 1)), number("questions", spec.get("questions", 1))
    gradable = [c for c in CHAPTERS if exercises_of(c) or questions_of(c)]
    chapters = spec.get("chapters", gradable)
    if not isinstance(chapters, list) or not chapters or any(c not in gradable for c in chapters):
        raise PointsError(f"{where}: chapters must be a list of chapters with exercises ({', '.join(map(str, gradable))})."
                          f" Received: chapters: {chapters!r}")
    questions = {q.id: q for q in QUESTIONS}
    given = spec.get("points") or {}
    if not isinstance(given, dict):
        raise PointsError(f"{where}: points must map exercise ids or names to points. Received: {given!r}")
    points = {}
    for key, value in given.items():
        key = str(key).strip()
        if key in questions:
            name = key
        else:
            try:
                name = get_exercise(key).name
            except ValueError:
                raise PointsError(f"{where}: points[{key!r}] must name an exercise (an id such as 2.3 or a name such as "
                                  f"conv2d_forward) or a concept check (such as 1.q1). Received: {key!r}") from None
        if name in points:
            raise PointsError(f"{where}: points names {key!r} twice (by its id and its name); keep one")
        points[name] = number(f"points[{key!r}]", value)
    columns = []
    for chapter in sorted(set(chapters)):
        columns += [Column(e.name, e.id, f"{e.id} {e.name}", points.get(e.name, default), chapter)
                    for e in exercises_of(chapter)]
        columns += [Column(q.id, q.id, f"{q.id} concept check", points.get(q.id, per_question), chapter)
                    for q in questions_of(chapter)]
    return columns


def write_points(columns: list[Column], path: Path) -> None:
    """``columns`` as a points.yaml that load_points reads back to the same columns (the Gradescope bundle)."""
    spec = {"default": 0, "questions": 0, "points": {c.number: c.points for c in columns},
            "chapters": sorted({c.chapter for c in columns})}
    with atomic_write(path, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)


# ----------------------------------------------------------------------------
# Hidden checks

def load_extra_checks(folder: Path) -> dict[str, int]:
    """Import the instructor's checks in ``folder`` (``*.py``, in name order); return {exercise: how many}."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--extra-checks must be a folder of .py files with more checks. Received: {str(folder)!r}")
    files = sorted(folder.glob("*.py"))
    if not files:
        raise ValueError(f"--extra-checks: {folder} holds no .py files")
    from ..exercises import EXERCISES, describe_error
    before = {e.name: len(checks_of(e.name)) for e in EXERCISES}  # the shipped checks, loaded first
    for path in files:
        spec = importlib.util.spec_from_file_location(f"cnnlib_extra_checks.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise ValueError(f"--extra-checks: {path.name} does not load: {describe_error(e)}") from e
    return {e.name: len(checks_of(e.name)) - before[e.name] for e in EXERCISES
            if len(checks_of(e.name)) > before[e.name]}


def _at_hidden(res: Result, hidden: int) -> bool:
    """Whether ``res`` was reached in one of the ``hidden`` checks (a verdict with no checks run was not)."""
    return 0 < hidden <= res.total and res.passed >= res.total - hidden


def learner_view(res: Result, hidden: int) -> Result:
    """``res`` as the learner may see it: a verdict reached by a hidden check does not say what it checked."""
    if not res.done and _at_hidden(res, hidden):
        return dataclasses.replace(res, failed_check="a hidden check", message=(
            "one of the instructor's hidden checks failed; what it checks is not shown. Test your function on "
            "more cases than the shipped checks do (shapes, strides, dtypes, edge cases)."))
    return res


def hidden_note(res: Result, hidden: int) -> str:
    """What the learner is told of an exercise's hidden checks."""
    if res.done:
        return f"{hidden} hidden check{'s' if hidden > 1 else ''} ran: passed"
    if _at_hidden(res, hidden):
        return (f"hidden checks ran: {res.passed - (res.total - hidden)} of {hidden} passed, then one failed "
                "(not shown)")
    return f"{hidden} hidden check{'s' if hidden > 1 else ''}: not run, a check before them failed"


# ----------------------------------------------------------------------------
# Grading submissions

@dataclass
class Graded:
    name: str
    results: dict[str, Result]                       # column key -> verdict, in full
    hidden: dict[str, int] = field(default_factory=dict)  # exercise -> its hidden checks
    about: str = ""                                  # the submission's files and manifest, in words
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0                             # not written anywhere a re-run compares

    def view(self) -> dict[str, Result]:
        return {k: learner_view(r, self.hidden.get(k, 0)) for k, r in self.results.items()}


@dataclass
class Batch:
    """How a class is graded: against which course, worth what, with which limits."""
    columns: list[Column]
    course: Path = field(default_factory=lambda: Path(__file__).resolve().parents[2])
    extra_checks: Path | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    time_limit: float = TIME_LIMIT             # seconds per check, as for the learner
    submission_time_limit: float | None = None  # seconds per submission (default: 30 checks' worth)
    protect: tuple = ()                        # more paths learner code may not read (the outputs)

    def __post_init__(self):
        self.course = Path(self.course).resolve()
        for part in ("cnnlib", "solutions"):
            if not (self.course / part).is_dir():
                raise ValueError(f"--course must be the course's folder, with cnnlib/ and solutions/. Received: "
                                 f"{str(self.course)!r}, which has no {part}/")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise ValueError(f"--jobs must be a whole number >= 1. Received: {self.jobs!r}")
        for name in ("time_limit", "submission_time_limit"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"--{name.replace('_', '-')} must be a number of seconds > 0. Received: {v!r}")
        if self.submission_time_limit is None:
            self.submission_time_limit = 30 * self.time_limit


def grade_submissions(paths, batch: Batch, progress=None) -> list[Graded]:
    """Grade every submission in ``paths`` (archives or folders), ``batch.jobs`` at a time; sorted by name."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("grade: name at least one submission (an archive of `cnnlib submit`, or a folder)")
    names: dict[str, Path] = {}
    for p in paths:
        if not p.exists():
            raise ValueError(f"grade: submission {str(p)!r} does not exist")
        name = submissions.submission_name(p)
        if name in names:
            raise ValueError(f"grade: two submissions would share the name {name!r} in the gradebook: "
                             f"{names[name]} and {p}; rename one")
        names[name] = p
    hidden = load_extra_checks(batch.extra_checks) if batch.extra_checks else {}
    contain = containment.landlock_abi() > 0
    order = sorted(names)
    graded = []
    with tempfile.TemporaryDirectory(prefix="cnnlib-grade-") as tmp:
        root = Path(tmp)
        pristine = _pristine_course(batch.course, root / "course")
        hidden_copy = None
        if batch.extra_checks:
            hidden_copy = root / "hidden"
            hidden_copy.mkdir()
            for f in sorted(Path(batch.extra_checks).glob("*.py")):
                shutil.copy2(f, hidden_copy / f.name)
        protect = [root, *batch.protect, *paths] + ([batch.extra_checks] if batch.extra_checks else [])
        stop = threading.Event()  # Ctrl-C or SIGTERM: every grading process is ended, no verdict kept
        pool = ThreadPoolExecutor(batch.jobs)
        try:
            futures = [pool.submit(_grade_one, names[name], name, i, root, pristine, hidden_copy, batch,
                                   protect if contain else None, stop) for i, name in enumerate(order)]
            for future in as_completed(futures):
                g = future.result()
                g.hidden = {k: n for k, n in hidden.items() if k in g.results}
                graded.append(g)
                if progress:
                    progress(f"[{len(graded)}/{len(order)}] {g.name}: {_counts(g.results.values())} "
                             f"({g.seconds:.1f} s)")
        except BaseException:
            stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return sorted(graded, key=lambda g: g.name)


def _pristine_course(course: Path, dest: Path) -> Path:
    """The course's cnnlib/ and solutions/, copied once and compiled, for each submission to start from."""
    for part in ("cnnlib", "solutions"):
        shutil.copytree(course / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compileall.compile_dir(dest, quiet=1)  # each submission's copy then imports without compiling
    return dest


def _grade_one(path, name, index, root, pristine, hidden, batch, protect, stop) -> Graded:
    start = time.monotonic()
    keys = [c.key for c in batch.columns]
    try:
        sub = submissions.read(path)
    except (submissions.SubmissionError, OSError) as e:
        message = str(e) if isinstance(e, submissions.SubmissionError) else f"{path.name} cannot be read: {e}"
        return Graded(name, _all(batch.columns, "broken", message), about="a malformed submission",
                      notes=[message], seconds=time.monotonic() - start)
    work = root / f"{index:04d}"
    course, scratch, tmp = work / "course", work / "scratch", work / "tmp"
    shutil.copytree(pristine, course)
    scratch.mkdir()
    tmp.mkdir()
    for rel, data in sub.files.items():  # only exercise files and answers.json: read() takes nothing else
        (course / rel).write_bytes(data)
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
           "HOME": str(scratch), "TMPDIR": str(tmp), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONPATH": str(course), "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONNOUSERSITE": "1", "CNNLIB_ANSWERS": str(course / submissions.ANSWERS),
           "CNNLIB_TIME_LIMIT": repr(float(batch.time_limit)), "CNNLIB_SPEED_NOTES": "0",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if protect is not None:  # Python's own folders stay readable even below a protected path
        readable = [course, sys.prefix, sys.base_prefix, *sysconfig.get_paths().values()]
        env[containment.ENV] = containment.policy(str(scratch), [str(p) for p in readable], [str(p) for p in protect])
    # -c, not -m: the sandbox's workers would each import a main module again (multiprocessing's spawn)
    cmd = [sys.executable, "-c", "import sys; from cnnlib.grading.batch import child; child(sys.argv[1:])",
           ",".join(keys), *([str(hidden)] if hidden is not None else [])]
    why = ""
    with open(work / "out.jsonl", "wb") as out, open(work / "err.txt", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=course, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        deadline = time.monotonic() + batch.submission_time_limit
        try:
            while proc.poll() is None and time.monotonic() < deadline and not stop.is_set():
                try:
                    proc.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:  # out of time (or the batch is stopping)
                why = f"grading this submission took longer than {batch.submission_time_limit:.0f} s, and was stopped"
                proc.send_signal(signal.SIGTERM)  # the grading process ends what learner code left running
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # anything left in its session
            except (ProcessLookupError, PermissionError):
                pass
    results, imported = _parse(work / "out.jsonl", keys)
    if imported is not None and Path(imported).resolve() != (course / "cnnlib").resolve():
        raise RuntimeError(f"the grading process imported cnnlib from {imported}, not from the submission's copy "
                           f"{course / 'cnnlib'}: is PYTHONPATH ignored by {sys.executable}?")
    if not why and proc.returncode != 0:
        tail = (work / "err.txt").read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
        why = f"the grading process ended early (exit code {proc.returncode})" + (f": {tail[-1]}" if tail else "")
    for column in batch.columns:
        if column.key not in results:
            results[column.key] = _all([column], "crashed", why or "the grading process gave no verdict")[column.key]
    shutil.rmtree(work, ignore_errors=True)
    notes = list(sub.notes) + ([why] if why else [])
    return Graded(name, {c.key: _clean(results[c.key], work) for c in batch.columns},
                  about=submissions.describe(sub), notes=notes, seconds=time.monotonic() - start)


def _parse(path: Path, keys) -> tuple[dict[str, Result], str | None]:
    results, imported = {}, None
    names = {f.name for f in dataclasses.fields(Result)}
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "cnnlib" in item:
            imported = str(item["cnnlib"])
        elif isinstance(item, dict) and item.get("key") in keys and isinstance(item.get("result"), dict) \
                and set(item["result"]) == names:
            results[item["key"]] = Result(**item["result"])
    return results, imported


def _all(columns, status: str, message: str) -> dict[str, Result]:
    return {c.key: Result(c.key, status, 0, 0, "", message) for c in columns}


def _clean(res: Result, work: Path) -> Result:
    """The verdict without the temporary folder's name (random, so it would differ between runs)."""
    def clean(text: str) -> str:
        for base in {str(work), os.path.realpath(work)}:
            text = text.replace(base + "/course/", "").replace(base, "<submission>")
        return text
    return dataclasses.replace(res, message=clean(res.message), failed_check=clean(res.failed_check))


def _counts(results) -> str:
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))


# ----------------------------------------------------------------------------
# The grading process of one submission (runs in the submission's copy of the course)

def child(argv: list[str]) -> None:
    """``KEYS [HIDDEN_DIR]``: grade these (comma-separated), printing one JSON line each, then exit."""
    keys, hidden = argv[0].split(","), (argv[1] if len(argv) > 1 else None)
    for limit, value in ((resource.RLIMIT_FSIZE, OUTPUT_BYTES), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_AS, GRADER_MEMORY)):
        resource.setrlimit(limit, (value, value))
    import ctypes
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: what learner code starts stays below us
    signal.signal(signal.SIGTERM, lambda *_: _end(124))  # the wall-clock limit, from the batch
    import cnnlib
    from solutions import answers  # noqa: F401  (the concept checks' answers)

    from ..exercises import EXERCISES, reference
    from . import grade_all
    print(json.dumps({"cnnlib": str(Path(cnnlib.__file__).resolve().parent)}), flush=True)
    for e in EXERCISES:  # every check and reference in memory before learner code runs
        checks_of(e.name)
        reference(e.name)
    if hidden:
        load_extra_checks(Path(hidden))
    for key in keys:
        res = grade_all([key])[key]
        print(json.dumps({"key": key, "result": dataclasses.asdict(res)}), flush=True)
    _end(0)


def _end(code: int) -> None:
    """End every process below this one (learner code that outlived its sandbox), then exit."""
    sys.stdout.flush()
    for _ in range(100):
        children = _children()
        if not children:
            break
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    os._exit(code)


def _children() -> list[int]:
    me, found = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == me:
                        found.append(int(entry))
            except (OSError, IndexError):
                pass
    return found


# ----------------------------------------------------------------------------
# What comes out: the gradebook, the verdicts, the feedback

def fmt(x: float) -> str:
    return f"{x:g}"


def score(g: Graded, columns) -> float:
    return sum(c.points for c in columns if g.results[c.key].done)


def write_outputs(graded: list[Graded], columns: list[Column], out: Path, feedback: str = "md") -> list[Path]:
    """gradebook.csv, verdicts.csv, details.json and feedback/<name>.<md|html> in ``out``; return them."""
    if feedback not in FEEDBACK_FORMATS:
        raise ValueError(f"--feedback must be one of {', '.join(FEEDBACK_FORMATS)}. Received: {feedback!r}")
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    header = ["submission", *[c.label for c in columns], "total"]
    book = [header, ["points possible", *[fmt(c.points) for c in columns], fmt(sum(c.points for c in columns))]]
    verdicts = [header[:-1]]
    for g in graded:
        book.append([g.name, *[fmt(c.points if g.results[c.key].done else 0) for c in columns], fmt(score(g, columns))])
        verdicts.append([g.name, *[g.results[c.key].status for c in columns]])
    written = [out / "gradebook.csv", out / "verdicts.csv", out / "details.json"]
    for path, rows in zip(written, (book, verdicts)):
        with atomic_write(path, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    details = {g.name: {"about": g.about, "notes": g.notes, "hidden": g.hidden,
                        "results": {k: dataclasses.asdict(r) for k, r in g.results.items()}} for g in graded}
    with atomic_write(written[2], "w") as f:
        json.dump(details, f, indent=1)
        f.write("\n")
    for g in graded:
        path = out / "feedback" / f"{g.name}.{feedback}"
        with atomic_write(path, "w") as f:
            f.write(render(feedback_blocks(g, columns), feedback))
        written.append(path)
    return written


def feedback_blocks(g: Graded, columns: list[Column]) -> list[tuple]:
    """The learner's feedback as blocks (``render`` writes them as Markdown or HTML)."""
    view = g.view()
    total = sum(c.points for c in columns)
    blocks = [("h1", f"Feedback: {g.name}"),
              ("p", f"Graded with cnnlib {submissions.course_version()}, by the checks `pytest tests/` runs on your machine"
                    + (" and hidden checks of your instructor's" if g.hidden else "") + f". Submission: {g.about}."),
              ("p", f"Score: {fmt(score(g, columns))} of {fmt(total)} points."),
              ("table", ["exercise", "status", "points"],
               [[c.label, view[c.key].status, f"{fmt(c.points if view[c.key].done else 0)} / {fmt(c.points)}"]
                for c in columns])]
    if g.hidden:
        blocks += [("h2", "Hidden checks"),
                   ("ul", [f"{get_exercise(k).id} {k}: {hidden_note(g.results[k], n)}" for k, n in g.hidden.items()])]
    blocks += [("h2", "What the autograder says"),
               ("p", "The first failing check of each exercise, with its hint; fix them in this order."),
               ("pre", status_table(view))]
    if g.notes:
        blocks += [("h2", "About your submission"), ("ul", g.notes)]
    return blocks


def render(blocks, fmt_: str) -> str:
    out = io.StringIO()
    if fmt_ == "html":
        out.write('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
                  f"{html.escape(blocks[0][1])}</title></head><body>\n")
    for kind, *content in blocks:
        if fmt_ == "md":
            if kind in ("h1", "h2"):
                out.write(f"{'#' if kind == 'h1' else '##'} {content[0]}\n\n")
            elif kind == "p":
                out.write(content[0] + "\n\n")
            elif kind == "ul":
                out.write("".join(f"- {item}\n" for item in content[0]) + "\n")
            elif kind == "pre":
                fence = "`" * max(3, _longest_run(content[0], "`") + 1)
                out.write(f"{fence}text\n{content[0]}\n{fence}\n\n")
            elif kind == "table":
                head, rows = content
                out.write("| " + " | ".join(head) + " |\n|" + " --- |" * len(head) + "\n")
                out.write("".join("| " + " | ".join(row) + " |\n" for row in rows) + "\n")
        else:
            e = html.escape
            if kind in ("h1", "h2", "p"):
                out.write(f"<{kind}>{e(content[0])}</{kind}>\n")
            elif kind == "ul":
                out.write("<ul>\n" + "".join(f"<li>{e(i)}</li>\n" for i in content[0]) + "</ul>\n")
            elif kind == "pre":
                out.write(f"<pre>{e(content[0])}</pre>\n")
            elif kind == "table":
                head, rows = content
                out.write("<table>\n<tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>\n")
                out.write("".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>\n" for row in rows))
                out.write("</table>\n")
    if fmt_ == "html":
        out.write("</body></html>\n")
    return out.getvalue()


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def summary(graded: list[Graded], columns: list[Column]) -> str:
    """A few lines on the batch for the instructor (not written into the gradebook)."""
    total = sum(c.points for c in columns)
    scores = sorted(score(g, columns) for g in graded)
    counts = _counts(r for g in graded for r in g.results.values())
    full = sum(s == total for s in scores)
    mean = fmt(round(sum(scores) / len(scores), 2))
    lines = [(f"{len(graded)} submissions; score out of {fmt(total)}: mean {mean}, median "
              f"{fmt(statistics.median(scores))}, min {fmt(scores[0])}, max {fmt(scores[-1])}; {full} with full marks"),
             f"verdicts: {counts}"]
    notes = sum(bool(g.notes) for g in graded)
    if notes:
        lines.append(f"{notes} submissions have notes (details.json and their feedback say what)")
    return "\n".join(lines)

