"""The commands of the instructor's seat (and the learner's ``submit``), for ``cnnlib.cli``.

    cnnlib submit [--out submission.zip]                 the learner hands in their exercise files
    cnnlib grade SUBMISSION ... [--out grading] [--points points.yaml] [--extra-checks DIR]
                 [--feedback md|html] [--jobs N] [--time-limit S] [--submission-time-limit S]
    cnnlib publish gradescope [--out autograder.zip] [--points ...] [--extra-checks DIR]
    cnnlib publish classroom [--out .github/workflows/classroom.yml] [--points ...]

The machinery is elsewhere: ``cnnlib.submission`` packs and reads submissions,
``cnnlib.grading.batch`` grades a class, ``cnnlib.grading.platforms`` writes
what Gradescope and GitHub Classroom run. This module parses and prints.
"""
from __future__ import annotations

import time
from pathlib import Path

COMMANDS = ("submit", "grade", "publish")


def add_commands(sub) -> None:
    """Add submit, grade and publish to the ``cnnlib`` parser's subcommands ``sub``."""
    p = sub.add_parser("submit", help="pack your exercise files and answers into one archive to hand in",
                       description="Pack exactly your exercise files (cnnlib/<module>.py) and concept-check "
                       "answers (answers.json) into one zip, with a manifest of their SHA-256 hashes, the "
                       "course version and the date. A missing or unreadable file is named and nothing is packed.")
    p.add_argument("--out", metavar="PATH", default=None,
                   help="the archive to write, ending in .zip (default: submission.zip in the course's folder)")

    points = {"metavar": "FILE", "help": "a YAML file of points per exercise (default: 1 each); "
              "`cnnlib grade --points-help` shows one"}
    extra = {"metavar": "DIR", "help": "a folder of .py files registering checks the learners do not have"}
    p = sub.add_parser("grade", help="grade a class's submissions: a gradebook and feedback",
                       description="Grade submissions (archives of cnnlib submit, or folders) against the "
                       "reference with the checks the learners run, each in its own contained process, in "
                       "parallel; write gradebook.csv, verdicts.csv, details.json and feedback/<name>.md.")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION", help="archives (.zip, .tar.gz) or folders")
    p.add_argument("--out", metavar="DIR", default="grading", help="folder for the gradebook and feedback "
                   "(default: %(default)s)")
    p.add_argument("--points", **points)
    p.add_argument("--points-help", action="store_true", help="print an example points file and stop")
    p.add_argument("--extra-checks", **extra)
    p.add_argument("--feedback", choices=("md", "html"), default="md", help="feedback files as Markdown or "
                   "HTML (default: %(default)s)")
    p.add_argument("--jobs", type=int, metavar="N", help="submissions graded at once (default: the cores)")
    p.add_argument("--time-limit", type=float, metavar="S", help="seconds a check may take (default: the "
                   "learner's, 20)")
    p.add_argument("--submission-time-limit", type=float, metavar="S",
                   help="seconds one submission may take in all (default: 30 checks' time limits)")
    p.add_argument("--course", metavar="DIR", help="the course folder whose reference and checks grade "
                   "(default: the one cnnlib is installed from)")

    p = sub.add_parser("publish", help="write a Gradescope autograder or a GitHub Classroom workflow",
                       description="Write what a platform runs to grade with this course: a Gradescope "
                       "autograder zip (setup.sh, run_autograder and the course's grader), or a GitHub "
                       "Classroom autograding workflow with one step per exercise.")
    p.add_argument("platform", choices=("gradescope", "classroom"))
    p.add_argument("--out", metavar="PATH", help="default: autograder.zip (gradescope), "
                   ".github/workflows/classroom.yml (classroom)")
    p.add_argument("--points", **points)
    p.add_argument("--extra-checks", **extra)


def run(args) -> int:
    """Run ``args.command``; errors are raised as ValueError or OSError for cnnlib.cli to print."""
    return {"submit": _submit, "grade": _grade, "publish": _publish}[args.command](args)


def _course() -> Path:
    return Path(__file__).resolve().parents[1]


def _submit(args) -> int:
    from .submission import ANSWERS, pack
    course = _course()
    out = Path(args.out) if args.out else course / "submission.zip"
    manifest = pack(course, out)
    files = manifest["files"]
    print(f"Wrote {out}: {len(files)} files, {sum(f['bytes'] for f in files.values()):,} bytes, course version "
          f"{manifest['course_version']}, {manifest['date']}.")
    if ANSWERS not in files:
        print("No concept check is answered yet (no answers.json): they will be graded 'not started'.")
    print("Hand in that file. Run `pytest tests/` first to see what the grader will say.")
    return 0


def _grade(args) -> int:
    from .grading import batch, containment
    if args.points_help:
        print(batch.POINTS_HELP, end="")
        return 0
    if not args.submissions:
        raise ValueError("grade: name at least one submission (an archive of `cnnlib submit`, or a folder)")
    columns = batch.load_points(args.points)
    out = Path(args.out)
    options = {k: v for k, v in (("jobs", args.jobs), ("time_limit", args.time_limit),
                                 ("submission_time_limit", args.submission_time_limit)) if v is not None}
    config = batch.Batch(columns, course=Path(args.course) if args.course else _course(),
                         extra_checks=Path(args.extra_checks) if args.extra_checks else None,
                         protect=(out,), **options)
    print(containment.describe())
    start = time.monotonic()
    graded = batch.grade_submissions(args.submissions, config, progress=print)
    seconds = time.monotonic() - start
    written = batch.write_outputs(graded, columns, out, args.feedback)
    print(f"Graded {len(graded)} submissions in {seconds:.1f} s ({config.jobs} at a time).")
    print(batch.summary(graded, columns))
    print(f"Wrote {written[0]}, {written[1].name}, {written[2].name} and {len(written) - 3} feedback files in "
          f"{out / 'feedback'}.")
    return 0


def _publish(args) -> int:
    from .grading import batch, platforms
    columns = batch.load_points(args.points)
    if args.platform == "gradescope":
        out = Path(args.out or "autograder.zip")
        platforms.write_gradescope_bundle(out, columns, _course(),
                                          Path(args.extra_checks) if args.extra_checks else None)
        print(f"Wrote {out}: upload it as the assignment's autograder (Gradescope: Configure Autograder, "
              "zip file upload). Learners upload the submission.zip of `cnnlib submit`.")
    else:
        if args.extra_checks:
            raise ValueError("publish classroom: --extra-checks cannot be kept from learners on GitHub Classroom "
                             "(the workflow runs in the learner's repository); grade hidden checks with "
                             "`cnnlib grade` or Gradescope")
        out = Path(args.out or ".github/workflows/classroom.yml")
        steps = platforms.write_classroom_workflow(out, columns)
        print(f"Wrote {out}: {steps} grading steps, one per exercise and concept check. Commit it to the "
              "assignment's template repository.")
    return 0
