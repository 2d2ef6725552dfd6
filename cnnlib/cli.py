"""The ``cnnlib`` command (chapter 08): train, evaluate and export networks, show your progress.

    cnnlib train --config configs/mnist_lenet.yaml [--reference] [--epochs N] [--data DIR] [--run-dir DIR]
    cnnlib evaluate --checkpoint runs/mnist_lenet-20250101-120000/best.npz [--data DIR] [--reference]
    cnnlib export --checkpoint PATH [--out model.npz] [--force]
    cnnlib progress

The layers call your exercise functions, so ``cnnlib train`` trains on your
own math; ``--reference`` switches every reference solution on instead (the
command always prints which exercises run reference code).

``train`` makes a new directory for each run (``runs/<config name>-<date>-<time>``,
never an existing one) and writes into it: ``config.yaml`` (the configuration
as run), ``history.csv`` (one row per epoch, written as each epoch ends),
``best.npz`` (the best model so far), ``metrics.json`` (the test results of
the best model) and, with matplotlib, ``curves.png`` and ``confusion_matrix.png``.

``run_training(config, run_dir)`` does the same from Python.
"""
from __future__ import annotations

import argparse
import datetime
import errno
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig, dump_config, load_config
from .files import atomic_write

CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "mnist_sample": [str(d) for d in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}


# ----------------------------------------------------------------------------
# From a configuration to data, model, optimizer, schedule and callbacks

def load_data(config: TrainConfig, data_dir=None, test_only: bool = False):
    """``((x_train, y_train), (x_test, y_test))`` of the config's dataset (first n if it says so).

    ``"mnist_sample"`` splits the 2,000 digits shipped with cnnlib: the first
    1,600 to train, the last 400 to test. ``test_only`` reads only the test
    files (``cnnlib evaluate``) and returns ``(None, None)`` for the training set.
    """
    from . import data
    data_dir = data_dir or config.data_dir
    if config.dataset == "mnist_sample":
        x, y = data.load_mnist_sample()
        (x_train, y_train), (x_test, y_test) = (x[:1600], y[:1600]), (x[1600:], y[1600:])
    else:
        loader = getattr(data, f"load_{config.dataset}", None)
        if loader is None:
            raise ValueError(f"load_data: cnnlib.data has no loader for dataset {config.dataset!r}. "
                             f"Received: dataset={config.dataset!r}")
        # path_hint: a message about missing files names this command's flag, not load_mnist(path=...).
        kwargs = {"path": data_dir, "path_hint": "--data DIR"}
        if test_only:
            (x_train, y_train), (x_test, y_test) = (None, None), loader(**kwargs, split="test")
        else:
            (x_train, y_train), (x_test, y_test) = loader(**kwargs)
    if test_only:  # the sample is one file: drop its training part too
        x_train = y_train = None
    if config.train_samples and x_train is not None:
        x_train, y_train = x_train[:config.train_samples], y_train[:config.train_samples]
    if config.test_samples:
        x_test, y_test = x_test[:config.test_samples], y_test[:config.test_samples]
    return (x_train, y_train), (x_test, y_test)


def split_validation(x, y, fraction: float, rng: np.random.Generator):
    """Hold out ``fraction`` of ``(x, y)``, chosen at random: ``(x_train, y_train), (x_val, y_val)``."""
    n_val = int(round(len(x) * fraction))
    if n_val == 0:
        return (x, y), None
    order = rng.permutation(len(x))
    train, val = np.sort(order[n_val:]), np.sort(order[:n_val])  # sorted: keep the data's own order
    return (x[train], y[train]), (x[val], y[val])


def build_model(config: TrainConfig, rng: np.random.Generator):
    """The model preset the config names, with its ``model_args``."""
    from . import models
    if config.model not in models.MODELS:
        import difflib
        close = difflib.get_close_matches(config.model, list(models.MODELS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"config key 'model' must be one of {', '.join(map(repr, models.MODELS))}{hint}. "
                          f"Received: {config.model!r}")
    return models.build_model(config.model, rng=rng, **config.model_args)


def build_optimizer(config: TrainConfig, model):
    from . import optim
    if config.optimizer == "sgd":
        return optim.SGD(model, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                         weight_decay=config.weight_decay)
    cls = optim.Adam if config.optimizer == "adam" else optim.AdamW
    return cls(model, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay)


def build_scheduler(config: TrainConfig, optimizer, steps_per_epoch: int):
    """The config's learning-rate schedule, or None. Cosine counts epochs or batches (``interval``)."""
    from . import optim
    s = config.scheduler
    if s is None:
        return None
    if s.name == "step":
        return optim.StepLR(optimizer, step_size=s.step_size, gamma=s.gamma)
    if s.name == "exponential":
        return optim.ExponentialLR(optimizer, gamma=s.gamma)
    total = config.epochs * (steps_per_epoch if s.interval == "step" else 1)
    return optim.CosineLR(optimizer, total_steps=total, min_lr=s.min_lr, warmup_steps=s.warmup_steps)


def new_run_dir(parent, name: str) -> Path:
    """Create and return a new directory ``parent/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``, ... if taken).

    ``mkdir`` fails on an existing directory, so two runs never share one, even started in the same second.
    """
    parent = Path(parent)
    if parent.exists() and not parent.is_dir():
        raise NotADirectoryError(f"new_run_dir: run_dir must be a folder (or a path where one can be made). "
                                 f"Received: {str(parent)!r}, a file")
    parent.mkdir(parents=True, exist_ok=True)
    stem = f"{name or 'run'}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    for i in range(1, 1000):
        path = parent / (stem if i == 1 else f"{stem}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"new_run_dir: could not find a free name for {stem} in {parent}")


def _write_json(path: Path, obj) -> None:
    """Write JSON atomically (``files.atomic_write``)."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def run_training(config: TrainConfig, run_dir=None, data_dir=None, verbose: bool = True,
                 progress: bool | None = None) -> dict:
    """Train as the config says and save everything into a new run directory.

    Parameters
    ----------
    config : TrainConfig
    run_dir : the directory in which the run's own new directory is made
        (default ``config.run_dir``)
    data_dir : where the data files are (default ``config.data_dir``, then CNNLIB_DATA)
    verbose : print messages (and progress bars, unless ``progress`` says otherwise)
    progress : show progress bars (default: ``verbose``)

    Returns
    -------
    dict
        The final metrics (also in ``metrics.json``), with ``"run_dir"``.
    """
    from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
    from .exercises import describe_switch
    from .trainer import Trainer, TrainingDiverged

    say = print if verbose else (lambda *a, **k: None)
    rng = np.random.default_rng(config.seed)
    # Everything that can fail on a bad config or missing data happens before the run directory exists.
    (x_train, y_train), (x_test, y_test) = load_data(config, data_dir)
    (x_fit, y_fit), val = split_validation(x_train, y_train, config.validation_split, rng)
    model = build_model(config, rng)
    optimizer = build_optimizer(config, model)
    steps_per_epoch = -(-len(x_fit) // config.batch_size)
    scheduler = build_scheduler(config, optimizer, steps_per_epoch)
    run = new_run_dir(run_dir or config.run_dir, config.name)
    say(f"Run directory: {run}")
    dump_config(config, run / "config.yaml")
    meta = {"dataset": config.dataset, "input_shape": list(x_train.shape[1:]),
            "class_names": CLASS_NAMES.get(config.dataset)}
    checkpoint = None
    callbacks = [CSVLogger(run / "history.csv")]
    if config.callbacks.checkpoint is not None:
        c = config.callbacks.checkpoint
        checkpoint = ModelCheckpoint(run / "best.npz", monitor=c.monitor, mode=c.mode,
                                     save_best_only=c.save_best_only, config=config.to_dict(), extra=meta)
        callbacks.append(checkpoint)
    if config.callbacks.early_stopping is not None:
        e = config.callbacks.early_stopping
        callbacks.append(EarlyStopping(monitor=e.monitor, mode=e.mode, patience=e.patience,
                                       min_delta=e.min_delta, restore_best=e.restore_best))
    trainer = Trainer(model, optimizer, loss=config.loss, scheduler=scheduler, callbacks=callbacks, rng=rng,
                      scheduler_interval=config.scheduler.interval if config.scheduler else "epoch")
    say(f"Training {config.model} on {len(x_fit):,} {config.dataset} images"
        + (f", validating on {len(val[0]):,}" if val else "") + f", for {config.epochs} epochs.")
    start = time.perf_counter()
    try:
        history = trainer.fit(x_fit, y_fit, epochs=config.epochs, batch_size=config.batch_size,
                              validation_data=val, verbose=verbose, progress=progress)
    except TrainingDiverged as e:  # a failure, written down as one
        _write_json(run / "metrics.json", {"status": "diverged", "message": str(e),
                                           "epochs_trained": len(trainer.history)})
        print(f"Training diverged after {len(trainer.history)} epoch(s); {run}/metrics.json says so.",
              file=sys.stderr)
        raise
    except BaseException:
        # Nothing is overwritten: the run directory keeps what the finished epochs wrote.
        kept = [n for n in ("config.yaml", "history.csv", "best.npz") if (run / n).is_file()]
        print(f"Training stopped after {len(trainer.history)} finished epoch(s); {run} keeps "
              + (", ".join(kept) if kept else "nothing") + ".", file=sys.stderr)
        raise
    train_time = time.perf_counter() - start

    if checkpoint is not None and checkpoint.last_saved is not None:
        # Report the model that was saved, so that `cnnlib evaluate best.npz` gives the same numbers.
        from .checkpoint import load_checkpoint
        load_checkpoint(checkpoint.last_saved, model)
    test = trainer.evaluate(x_test, y_test, batch_size=max(config.batch_size, 256))
    metrics = {"status": "completed", "test_loss": test["loss"], "test_accuracy": test["accuracy"], "test_samples": len(x_test),
               "epochs_trained": len(history), "best_epoch": checkpoint.best_epoch if checkpoint else None,
               "train_time_s": round(train_time, 1), "checkpoint": "best.npz" if checkpoint else None,
               "reference_solutions": describe_switch()}
    _write_json(run / "metrics.json", metrics)
    _save_plots(run, history, trainer, x_test, y_test, CLASS_NAMES.get(config.dataset), say)
    say(f"Test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on {len(x_test):,} images. "
        f"Saved in {run}")
    return {**metrics, "run_dir": str(run)}


def _save_plots(run: Path, history, trainer, x_test, y_test, class_names, say) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no window, also without a display
        import matplotlib.pyplot as plt
        from . import viz
    except ImportError as e:
        say(f"No plots ({e}).")
        return
    pred = trainer.predict(x_test).argmax(axis=1)
    for fig in (viz.plot_history(history, path=run / "curves.png"),
                viz.plot_confusion_matrix(y_test, pred, class_names, path=run / "confusion_matrix.png")):
        plt.close(fig)


# ----------------------------------------------------------------------------
# Checkpoints: evaluate and export

def _load(path) -> dict:
    """What ``load_checkpoint`` returns, for a checkpoint written by ``cnnlib train``."""
    from .checkpoint import load_checkpoint
    if not Path(path).is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {str(path)!r} (cnnlib train saves "
                                "best.npz in each run directory under runs/)")
    return load_checkpoint(path)


def evaluate_checkpoint(path, data_dir=None) -> dict:
    """Test loss and accuracy of a saved model on the test set of the data it was trained on."""
    from .config import config_from_dict
    from .trainer import Trainer
    ckpt = _load(path)
    if not isinstance(ckpt["config"], dict):
        raise ValueError(f"evaluate_checkpoint: {path} does not say which data it was trained on (it holds no training "
                         "config; cnnlib train's checkpoints do). Received: config=None")
    config = config_from_dict(ckpt["config"], source=f"{path} (its config)")
    _, (x_test, y_test) = load_data(config, data_dir, test_only=True)
    result = Trainer(ckpt["model"], optimizer=None).evaluate(x_test, y_test)
    return {"dataset": config.dataset, "test_samples": len(x_test), "test_loss": result["loss"],
            "test_accuracy": result["accuracy"], "epoch": ckpt["epoch"]}


def export_checkpoint(path, out=None, force: bool = False) -> tuple[Path, Path]:
    """Write a model's weights (``out``, plain .npz arrays named like ``"0.weight"``) and its
    architecture (``out`` with suffix .json: ``Sequential.from_config`` rebuilds it).

    ``out`` defaults to ``export.npz`` beside the checkpoint, i.e. in its run directory
    (``runs/<run>/export.npz``; git ignores ``runs/``). Refuses to overwrite an existing
    file unless ``force``.
    """
    default = out is None
    out = Path(path).with_name("export.npz") if default else Path(out)
    received = f"--out {out}" + (" (the default: beside the checkpoint)" if default else "")
    if out.suffix != ".npz":
        raise ValueError(f"export_checkpoint: the weights file must end in .npz (the architecture goes next to it as "
                         f".json). Received: {received}")
    arch = out.with_suffix(".json")
    if Path(path).resolve() in (out.resolve(), arch.resolve()):
        raise ValueError(f"export_checkpoint: an export must not replace its own checkpoint. Received: {received} "
                         f"for --checkpoint {path}. Pass --out with another .npz file.")
    existing = [str(p) for p in (out, arch) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"export_checkpoint: an export does not overwrite files. Received: {received}, and "
                              f"{' and '.join(existing)} already exist(s). To replace them, pass --force to overwrite; "
                              "to keep them, pass --out with another .npz file.")
    ckpt = _load(path)
    model, meta = ckpt["model"], ckpt["extra"]
    description = {"architecture": model.to_config(), "weights": out.name,
                   "input_shape": meta.get("input_shape"), "class_names": meta.get("class_names"),
                   "dataset": meta.get("dataset"), "epoch": ckpt["epoch"], "metrics": meta.get("metrics"),
                   "exported_from": str(path)}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Both files are written to temporary names first, then renamed: never a half-written export.
    with atomic_write(out) as f:
        np.savez(f, **model.state_dict())
    _write_json(arch, description)
    return out, arch


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
                       "print the table. Exit code 1 if any is wrong, crashed or broken.")
    p.add_argument("exercises", nargs="*", metavar="EXERCISE", help="ids or names to grade (default: all)")

    p = sub.add_parser("lab", help="open JupyterLab on the course, at chapter 00",
                       description="Start JupyterLab with the course's folder as its root (the file browser "
                       "shows chapters/, cnnlib/ and tests/, and a new terminal opens there) and open chapter "
                       "00. Other arguments go to jupyter lab.")
    p.add_argument("chapter", nargs="?", default="00_how_the_course_works.ipynb",
                   help="the notebook to open, in chapters/ (default: %(default)s)")
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
            overrides = {"epochs": args.epochs} if args.epochs is not None else {}
            config = load_config(args.config, **overrides)
            run_training(config, run_dir=args.run_dir, data_dir=args.data, progress=not args.no_progress)
        elif args.command == "evaluate":
            print(describe_switch())
            r = evaluate_checkpoint(args.checkpoint, args.data)
            print(f"{args.checkpoint}: test accuracy {r['test_accuracy']:.2%}, loss {r['test_loss']:.4f} "
                  f"({r['test_samples']:,} {r['dataset']} images)")
        elif args.command == "export":
            out, arch = export_checkpoint(args.checkpoint, args.out, force=args.force)
            print(f"Wrote {out} (weights) and {arch} (architecture).")
        elif args.command == "progress":
            from .exercises import EXERCISES, get_exercise
            from .grading import grade, status_table
            names = [get_exercise(k).name for k in args.exercises] or [e.name for e in EXERCISES]
            results = {n: grade(n) for n in names}
            print(status_table(results))
            return int(any(r.status in ("wrong", "crashed", "broken") for r in results.values()))
        elif args.command == "lab":
            open_lab(args.chapter, extra)
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
