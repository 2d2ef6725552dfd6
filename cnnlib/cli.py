"""The ``cnnlib`` command (chapter 08): train, evaluate and export networks, show your progress.

    cnnlib train --config configs/mnist_lenet.yaml [--reference] [--epochs N] [--data DIR] [--run-dir DIR]
                 [--train-limit N] [--validation-size M]
    cnnlib evaluate --checkpoint runs/mnist_lenet-20250101-120000/best.npz [--data DIR] [--reference] [--limit N]
    cnnlib export --checkpoint PATH [--out model.npz] [--force]   (default: export.npz beside the checkpoint)
    cnnlib lab [CHAPTER]
    cnnlib progress
    cnnlib submit | grade SUBMISSION ... | publish gradescope|classroom   (cnnlib.instructor)

The layers call your exercise functions, so ``cnnlib train`` trains on your
own math; ``--reference`` switches every reference solution on instead (the
command always prints which exercises run reference code).

``train`` makes a new directory for each run (``runs/<config name>-<date>-<time>``,
never an existing one) and writes into it: ``config.yaml`` (the configuration
as run), ``history.csv`` (one row per epoch, written as each epoch ends),
``best.npz`` (the best model so far), ``metrics.json`` (the test results of
the best model) and, with matplotlib, ``curves.png`` and ``confusion_matrix.png``.

The library behind each command is ``cnnlib.runs`` (``run_training``,
``evaluate_checkpoint``, ``export_checkpoint``); this module parses the arguments and
prints.
"""
from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from pathlib import Path


from . import instructor
from .config import ConfigError, load_config
from .runs import evaluate_checkpoint, export_checkpoint, run_training

# ----------------------------------------------------------------------------
# The command line

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnlib", description="CNNs from scratch: train, evaluate and export "
                                     "networks built on your own exercise code, and show your progress.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reference = argparse.ArgumentParser(add_help=False)
    reference.add_argument("--reference", action="store_true",
                           help="run every exercise's reference solution instead of your code")

    p = sub.add_parser("train", parents=[reference], help="train a network from a YAML config",
                       description="Train a network from a YAML config into a new run directory.")
    p.add_argument("--config", required=True, metavar="FILE", help="a YAML file, e.g. configs/mnist_lenet.yaml")
    p.add_argument("--epochs", type=int, metavar="N", help="override the config's number of epochs")
    p.add_argument("--train-limit", type=int, metavar="N", help="use only the first N training images, "
                   "validation set included (config key train_samples)")
    p.add_argument("--validation-size", type=int, metavar="M", help="hold out M of the training images for "
                   "validation (config key validation_size; replaces the config's validation_split, a fraction)")
    p.add_argument("--data", metavar="DIR", help="folder with the data files (default: data_dir of the config, "
                   "then CNNLIB_DATA, then the cache)")
    p.add_argument("--run-dir", metavar="DIR",
                   help="folder in which the run's own new directory is made (default: run_dir of the config)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = sub.add_parser("evaluate", parents=[reference], help="test accuracy of a saved checkpoint",
                       description="Test loss and accuracy of a saved checkpoint, on the test set of the data it "
                       "was trained on (only the test files are read).")
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint of cnnlib train, e.g. "
                   "runs/<run>/best.npz")
    p.add_argument("--data", metavar="DIR", help="folder with the data files (default: data_dir of the "
                   "checkpoint's config, then CNNLIB_DATA, then the cache)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N test images (default: those the run "
                   "was tested on)")

    p = sub.add_parser("export", help="write a checkpoint's weights (.npz) and architecture (.json)",
                       description="Write a checkpoint's weights (.npz of plain arrays) and architecture (.json "
                       "of the same name; Sequential.from_config rebuilds the model). Never overwrites files "
                       "unless --force.")
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint of cnnlib train, e.g. "
                   "runs/<run>/best.npz")
    p.add_argument("--out", metavar="PATH", help="weights file, ending in .npz (default: export.npz beside the "
                   "checkpoint; the architecture goes beside it as .json)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")

    p = sub.add_parser("progress", help="the autograder's table: which exercises are done",
                       description="Grade your exercises (each in its own process, as pytest tests/ does) and "
                       "concept checks, and print the table. Exit code 1 if any is wrong, crashed or broken.")
    p.add_argument("exercises", nargs="*", metavar="EXERCISE",
                   help="ids or names to grade, or concept checks such as 1.q1 (default: all)")

    p = sub.add_parser("lab", help="open JupyterLab on the course, at chapter 00",
                       description="Start JupyterLab with the course's folder as its root (the file browser "
                       "shows chapters/, cnnlib/ and tests/, and a new terminal opens there) and open chapter "
                       "00. Other arguments go to jupyter lab.")
    p.add_argument("chapter", nargs="?", default="00_how_the_course_works.ipynb",
                   help="the notebook to open, in chapters/ (default: %(default)s)")
    instructor.add_commands(sub)
    return parser


def course_root() -> Path:
    """The folder of the course (with chapters/, cnnlib/, tests/), from where cnnlib is installed."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "chapters").is_dir():
        raise ValueError(f"cnnlib must be installed from the course's folder (pip install -e . there), which has "
                         f"chapters/. Received: cnnlib at {root}")
    return root


def open_lab(chapter: str, extra: list[str]) -> None:
    """Replace this process with ``jupyter lab`` rooted at the course, opening ``chapters/<chapter>``."""
    root = course_root()
    notebook = root / "chapters" / chapter
    if not notebook.is_file():
        raise ValueError(f"chapter must be a notebook in chapters/ ("
                         f"{', '.join(sorted(p.name for p in (root / 'chapters').glob('*.ipynb')))}). "
                         f"Received: chapter={chapter!r}")
    # A terminal opened in JupyterLab runs a plain (not a login) shell, so it keeps this PATH, with
    # the course's pytest and cnnlib on it, however JupyterLab was started.
    shell = {"shell_command": [os.environ.get("SHELL") or "/bin/sh"]}
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--ServerApp.terminado_settings={shell!r}", str(notebook), *extra]
    print("Starting: jupyter lab", *argv[3:])
    os.chdir(root)
    os.execv(sys.executable, argv)


def main(argv=None) -> int:
    """Run the ``cnnlib`` command; returns the exit code (0 on success, 1 on an error, 130 after
    Ctrl-C, 143 after SIGTERM)."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv) -> int:
    from .exercises import ExerciseFileError, describe_switch, use_solutions
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.command != "lab":
        build_parser().parse_args(argv)  # the usual error for unknown arguments
    prog = f"cnnlib {args.command}"
    if getattr(args, "reference", False):
        use_solutions("all")
    try:
        if args.command == "train":
            print(describe_switch())
            overrides = {key: value for key, value in (("epochs", args.epochs), ("train_samples", args.train_limit),
                                                       ("validation_size", args.validation_size)) if value is not None}
            config = load_config(args.config, **overrides)
            run_training(config, run_dir=args.run_dir, data_dir=args.data, progress=not args.no_progress)
        elif args.command == "evaluate":
            print(describe_switch())
            r = evaluate_checkpoint(args.checkpoint, args.data, limit=args.limit)
            print(f"{args.checkpoint}: test accuracy {r['test_accuracy']:.2%}, loss {r['test_loss']:.4f} ({r['subset']})")
        elif args.command == "export":
            out, arch = export_checkpoint(args.checkpoint, args.out, force=args.force)
            print(f"Wrote {out} (weights) and {arch} (architecture).")
        elif args.command == "progress":
            from .grading import grade_all, status_table
            results = grade_all(args.exercises)
            print(status_table(results))
            return int(any(r.status in ("wrong", "crashed", "broken") for r in results.values()))
        elif args.command == "lab":
            open_lab(args.chapter, extra)
        elif args.command in instructor.COMMANDS:
            return instructor.run(args)
    except (NotImplementedError, ExerciseFileError) as e:
        print(f"{prog}: {e}\nWrite that exercise, or run with --reference to use the reference solutions "
              "(or CNNLIB_SOLUTIONS=<ids> for some of them).", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as e:
        if args.debug:
            raise
        print(f"{prog}: stopped by {'SIGTERM' if isinstance(e, Terminated) else 'Ctrl-C'}.", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except (ConfigError, ValueError, TypeError, KeyError, OSError, FloatingPointError) as e:
        if args.debug:
            raise
        print(f"{prog}: error: {_describe(e)}", file=sys.stderr)
        return 1
    return 0


class Terminated(Exception):
    """SIGTERM arrived: stop as Ctrl-C does, with exit code 143."""


def _terminate(signum, frame):
    raise Terminated()


def _describe(e: BaseException) -> str:
    """The error's message; for an OSError, what failed on which file, in words."""
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    if isinstance(e, OSError) and e.strerror and not isinstance(e, (FileNotFoundError, FileExistsError)):
        what = {errno.ENOSPC: "the disk is full", errno.EROFS: "the folder is on a read-only file system",
                errno.EACCES: "permission denied", errno.EPERM: "permission denied"}.get(e.errno, e.strerror)
        return f"{what} ({e.filename})" if e.filename else what
    return str(e)


if __name__ == "__main__":
    sys.exit(main())
