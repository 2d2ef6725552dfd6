"""Runs (chapter 08): from a YAML configuration to a trained, saved and evaluated network.

``run_training(config)`` makes a new directory for the run (``runs/<name>-<date>-<time>``,
never an existing one) and writes into it: ``config.yaml`` (the configuration as run),
``history.csv`` (one row per epoch, written as each epoch ends), ``best.npz`` (the best
model so far), ``metrics.json`` (the test results of the best model, or that the run
diverged) and, with matplotlib, ``curves.png`` and ``confusion_matrix.png``.
``evaluate_checkpoint`` and ``export_checkpoint`` work on what a run saved. The
``cnnlib`` command (``cli.py``), the notebooks and the benchmarks all call these.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from .config import ConfigError, TrainConfig, dump_config, validation_count
from .core.validation import require
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
    Sizes the data set cannot give (``train_samples`` above its size, a validation
    set that leaves nothing to train on, ...) are a ``ConfigError``: ``TrainConfig.check_data``.
    """
    return take_subset(config, *read_data(config, data_dir, test_only))


def read_data(config: TrainConfig, data_dir=None, test_only: bool = False):
    """The whole of the config's dataset, ``((x_train, y_train), (x_test, y_test))``, as ``load_data``
    reads it but before it takes the first ``train_samples`` and ``test_samples``."""
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
    return (x_train, y_train), (x_test, y_test)


def take_subset(config: TrainConfig, train, test):
    """The first ``config.train_samples`` and ``config.test_samples`` of ``train`` and ``test`` (each
    ``(x, y)``; ``x`` None for a split not read), after checking that the data set holds them."""
    (x_train, y_train), (x_test, y_test) = train, test
    config.check_data(None if x_train is None else len(x_train), len(x_test))
    if config.train_samples and x_train is not None:
        x_train, y_train = x_train[:config.train_samples], y_train[:config.train_samples]
    if config.test_samples:
        x_test, y_test = x_test[:config.test_samples], y_test[:config.test_samples]
    return (x_train, y_train), (x_test, y_test)


def split_validation(x, y, fraction: float | None, rng: np.random.Generator, *, size: int | None = None):
    """Hold out ``fraction`` of ``(x, y)`` (or ``size`` images, if given), chosen at random:
    ``(x_train, y_train), (x_val, y_val)``; ``(x, y), None`` when nothing is held out."""
    n_val = validation_count(len(x), fraction, size)
    if n_val == 0:
        return (x, y), None
    order = rng.permutation(len(x))
    train, val = np.sort(order[n_val:]), np.sort(order[:n_val])  # sorted: keep the data's own order
    return (x[train], y[train]), (x[val], y[val])


def model_for(config: TrainConfig, rng: np.random.Generator):
    """The model preset the config names, with its ``model_args`` (``TrainConfig`` has checked both)."""
    from . import models
    return models.build_model(config.model, rng=rng, **config.model_args)


def optimizer_for(config: TrainConfig, model):
    from . import optim
    if config.optimizer == "sgd":
        return optim.SGD(model, lr=config.lr, momentum=config.momentum, nesterov=config.nesterov,
                         weight_decay=config.weight_decay)
    cls = optim.Adam if config.optimizer == "adam" else optim.AdamW
    return cls(model, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay)


def scheduler_for(config: TrainConfig, optimizer, steps_per_epoch: int):
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
    if s.warmup_steps >= total:  # CosineLR would refuse it too, in words that do not say how to fix the config
        what = (f"{total:,} optimizer steps ({config.epochs} epoch(s) of {steps_per_epoch:,} batches)"
                if s.interval == "step" else f"{total} epoch(s)")
        raise ConfigError(f"config key 'scheduler.warmup_steps' must be smaller than the run's {what}; lower it, "
                          f"or train on more images (--train-limit, --validation-size) or for more epochs. "
                          f"Received: {s.warmup_steps}")
    return optim.CosineLR(optimizer, total_steps=total, min_lr=s.min_lr, warmup_steps=s.warmup_steps)


def augment_for(config: TrainConfig):
    """The config's training-batch augmentation (``cnnlib.transforms.Augment``), or None."""
    from .transforms import Augment
    a = config.augment
    return None if a is None else Augment(shift=a.shift, rotate=a.rotate, erase=a.erase)


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
    everything = read_data(config, data_dir)
    (x_train, y_train), (x_test, y_test) = take_subset(config, *everything)
    (x_fit, y_fit), val = split_validation(x_train, y_train, config.validation_split, rng,
                                           size=config.validation_size)
    subset = describe_subset(config, len(everything[0][0]), len(x_train), 0 if val is None else len(val[0]),
                             len(everything[1][0]), len(x_test))
    model = model_for(config, rng)
    optimizer = optimizer_for(config, model)
    steps_per_epoch = -(-len(x_fit) // config.batch_size)
    scheduler = scheduler_for(config, optimizer, steps_per_epoch)
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
                      scheduler_interval=config.scheduler.interval if config.scheduler else "epoch",
                      augment=augment_for(config))
    say(f"Training {config.model} on {len(x_fit):,} {config.dataset} images"
        + (f", validating on {len(val[0]):,}" if val else "") + f", for {config.epochs} epochs"
        + (f", training batches augmented by {trainer.augment}." if trainer.augment else ".")
        + (f" Data: {subset}." if config.train_samples or config.test_samples or config.validation_size else ""))
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
               "train_samples": len(x_fit), "validation_samples": 0 if val is None else len(val[0]), "subset": subset,
               "epochs_trained": len(history), "best_epoch": checkpoint.best_epoch if checkpoint else None,
               "train_time_s": round(train_time, 1), "checkpoint": "best.npz" if checkpoint else None,
               "reference_solutions": describe_switch()}
    _write_json(run / "metrics.json", metrics)
    _save_plots(run, history, trainer, x_test, y_test, CLASS_NAMES.get(config.dataset), say)
    say(f"Test accuracy {test['accuracy']:.2%} (loss {test['loss']:.4f}) on {len(x_test):,} images. "
        f"Saved in {run}")
    return {**metrics, "run_dir": str(run)}


def describe_subset(config: TrainConfig, n_train: int, n_kept: int, n_val: int, n_test: int, n_tested: int) -> str:
    """In words, which images a run used: ``n_kept`` of the ``n_train`` training images (``n_val`` of
    them held out for validation) and ``n_tested`` of the ``n_test`` test images."""
    def part(kept, total, what):
        return f"all {total:,} {what}" if kept == total else f"the first {kept:,} of {total:,} {what}"

    how = (f"validation_size {config.validation_size}" if config.validation_size is not None
           else f"validation_split {config.validation_split}")
    return (part(n_kept, n_train, f"{config.dataset} training images")
            + f" ({n_kept - n_val:,} to train, {n_val:,} to validate: {how}), " + part(n_tested, n_test, "test images"))


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


def evaluate_checkpoint(path, data_dir=None, limit: int | None = None) -> dict:
    """Test loss and accuracy of a saved model on the test set of the data it was trained on.

    ``limit`` (``cnnlib evaluate --limit N``): the first ``limit`` test images only; by default
    those the run was tested on (its config's ``test_samples``, else all of them). The result
    says how many of how many were used (``test_samples``, ``test_available``, ``subset``).
    """
    from .config import config_from_dict
    from .trainer import Trainer
    require(limit is None or (isinstance(limit, (int, np.integer)) and not isinstance(limit, bool) and limit >= 1),
            "evaluate_checkpoint", "limit (--limit) must be a whole number >= 1", f"limit={limit!r}")
    ckpt = _load(path)
    if not isinstance(ckpt["config"], dict):
        raise ValueError(f"evaluate_checkpoint: {path} does not say which data it was trained on (it holds no training "
                         "config; cnnlib train's checkpoints do). Received: config=None")
    config = config_from_dict(ckpt["config"], source=f"{path} (its config)")
    _, (x_all, y_all) = read_data(config, data_dir, test_only=True)
    if limit is not None:
        require(limit <= len(x_all), "evaluate_checkpoint", f"limit (--limit) must be at most {len(x_all):,}, the "
                f"number of {config.dataset} test images", f"limit={limit}")
        config = dataclasses.replace(config, test_samples=limit)
    _, (x_test, y_test) = take_subset(config, (None, None), (x_all, y_all))
    result = Trainer(ckpt["model"], optimizer=None).evaluate(x_test, y_test)
    subset = (f"all {len(x_all):,}" if len(x_test) == len(x_all) else f"the first {len(x_test):,} of {len(x_all):,}") \
        + f" {config.dataset} test images"
    return {"dataset": config.dataset, "test_samples": len(x_test), "test_available": len(x_all), "subset": subset,
            "test_loss": result["loss"], "test_accuracy": result["accuracy"], "epoch": ckpt["epoch"]}


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
