"""Training configurations (chapter 08): YAML files in configs/ read into typed dataclasses.

    config = load_config("configs/mnist_lenet.yaml")
    config.lr, config.scheduler.name, config.callbacks.early_stopping.patience

Every key is checked: an unknown key is an error that suggests the nearest
valid one (a typo such as ``learning_rate`` must not be silently ignored), and
a value of the wrong type names the key, the expected type and the value.
``cnnlib train --config ...`` (``cnnlib.runs.run_training``) runs a configuration.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

import yaml

from .files import atomic_write


class ConfigError(ValueError):
    """A configuration file or dict is not valid (unknown key, wrong type or value)."""


MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")  # what a callback may watch (the History's metrics)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"key {key!r} appears twice (line {key_node.start_mark.line + 1}); "
                                  "keep one. Received: a duplicate key")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass
class SchedulerConfig:
    """A learning-rate schedule from cnnlib.optim.

    name: "step" (StepLR: lr *= gamma every step_size epochs), "exponential"
    (lr *= gamma every epoch) or "cosine" (CosineLR from lr down to min_lr,
    after warmup_steps of linear warm-up). interval: step the schedule after
    every "epoch" or every batch ("step"; cosine only; then warmup_steps counts
    batches).
    """
    name: Literal["step", "exponential", "cosine"]
    interval: Literal["epoch", "step"] = "epoch"
    step_size: int = 1
    gamma: float = 0.1
    min_lr: float = 0.0
    warmup_steps: int = 0

    def __post_init__(self):
        _check(self.step_size >= 1, "scheduler.step_size", "must be >= 1", self.step_size)
        _check(self.gamma > 0, "scheduler.gamma", "must be > 0", self.gamma)
        _check(self.min_lr >= 0, "scheduler.min_lr", "must be >= 0", self.min_lr)
        _check(self.warmup_steps >= 0, "scheduler.warmup_steps", "must be >= 0", self.warmup_steps)
        _check(self.interval == "epoch" or self.name == "cosine", "scheduler.interval",
               "'step' works with the cosine schedule only", self.interval)


@dataclass
class EarlyStoppingConfig:
    """cnnlib.callbacks.EarlyStopping: stop when ``monitor`` has not improved for ``patience`` epochs."""
    monitor: str = "val_loss"
    mode: Literal["auto", "min", "max"] = "auto"
    patience: int = 3
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self):
        _check(self.patience >= 0, "callbacks.early_stopping.patience", "must be >= 0", self.patience)
        _check(self.min_delta >= 0, "callbacks.early_stopping.min_delta", "must be >= 0", self.min_delta)


@dataclass
class CheckpointConfig:
    """cnnlib.callbacks.ModelCheckpoint: save the best model (by ``monitor``) as best.npz in the run directory."""
    monitor: str = "val_loss"
    mode: Literal["auto", "min", "max"] = "auto"
    save_best_only: bool = True


@dataclass
class AugmentConfig:
    """cnnlib.transforms.Augment, applied to training batches only (chapter 12).

    shift: the largest random shift in pixels (zero-pad and crop); rotate: the
    largest random rotation in degrees, either way; erase: the probability of
    erasing one random rectangle of an image. 0 turns a step off.
    """
    shift: int = 0
    rotate: float = 0.0
    erase: float = 0.0

    def __post_init__(self):
        _check(self.shift >= 0, "augment.shift", "must be >= 0 (pixels)", self.shift)
        _check(0 <= self.rotate <= 180, "augment.rotate", "must be in [0, 180] (degrees)", self.rotate)
        _check(0 <= self.erase <= 1, "augment.erase", "must be in [0, 1] (a probability)", self.erase)


@dataclass
class CallbacksConfig:
    early_stopping: Optional[EarlyStoppingConfig] = None
    checkpoint: Optional[CheckpointConfig] = field(default_factory=CheckpointConfig)


@dataclass
class TrainConfig:
    """Everything ``cnnlib train`` needs to run: model, data, optimizer, schedule, callbacks.

    Attributes
    ----------
    model : a name in cnnlib.models.MODELS ("small_cnn", "lenet", "vgg_bn", "tiny_vgg")
    model_args : extra keyword arguments for the model preset (e.g. {dropout: 0.3} for vgg_bn),
        checked against the preset's arguments
    dataset : "mnist", "fashion_mnist", "cifar10" or "mnist_sample" (the 2,000
        digits shipped with cnnlib: 1,600 to train, 400 to test; no files needed)
    data_dir : where the data files are (default: CNNLIB_DATA, then the user cache)
    train_samples : train (and validate) on the first n training images only
        (quick runs, tests; ``cnnlib train --train-limit N``); at most the data set's size
    test_samples : test on the first n test images only (``cnnlib evaluate --limit N`` chooses
        its own n for a saved run)
    epochs, batch_size : the training loop
    loss : "cross_entropy" or "mse"
    optimizer, lr, momentum, nesterov, weight_decay : cnnlib.optim (momentum and
        nesterov for "sgd" only)
    betas : Adam's and AdamW's (beta1, beta2)
    scheduler : SchedulerConfig or None (a constant learning rate)
    callbacks : early stopping (off unless given) and the best-model checkpoint
    augment : AugmentConfig or None (no augmentation): random shifts, rotations and
        erasing of the training batches (chapter 12)
    seed : seeds the weights, the validation split and the shuffling
    validation_split : the fraction of the training set held out for validation
        (the last part after a seeded shuffle); 0 trains on everything. Default 0.1,
        unless validation_size is given
    validation_size : the number of training images held out for validation, instead of
        a fraction (``cnnlib train --validation-size M``). Give validation_split or
        validation_size, not both; ``--validation-size`` replaces the file's validation_split
    run_dir : each run gets its own new directory inside this one
    name : the run's name (default: the config file's name)
    """
    model: str
    dataset: Literal["mnist", "fashion_mnist", "cifar10", "mnist_sample"] = "mnist"
    model_args: dict = field(default_factory=dict)
    data_dir: Optional[str] = None
    train_samples: Optional[int] = None
    test_samples: Optional[int] = None
    epochs: int = 5
    batch_size: int = 64
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    betas: list = field(default_factory=lambda: [0.9, 0.999])
    scheduler: Optional[SchedulerConfig] = None
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    augment: Optional[AugmentConfig] = None
    seed: int = 0
    validation_split: Optional[float] = None  # 0.1 unless validation_size is given
    validation_size: Optional[int] = None
    run_dir: str = "runs"
    name: str = ""

    def __post_init__(self):
        _check(self.epochs >= 1, "epochs", "must be >= 1", self.epochs)
        _check(self.batch_size >= 1, "batch_size", "must be >= 1", self.batch_size)
        _check(self.lr > 0, "lr", "must be > 0", self.lr)
        _check(0 <= self.momentum < 1, "momentum", "must be in [0, 1)", self.momentum)
        _check(not self.nesterov or (self.optimizer == "sgd" and self.momentum > 0), "nesterov",
               "needs optimizer 'sgd' with momentum > 0", self.nesterov)
        _check(self.momentum == 0 or self.optimizer == "sgd", "momentum",
               f"applies to optimizer 'sgd' only (optimizer is {self.optimizer!r}; use betas for Adam)",
               self.momentum)
        _check(self.weight_decay >= 0, "weight_decay", "must be >= 0", self.weight_decay)
        _check(len(self.betas) == 2 and all(isinstance(b, (int, float)) and 0 <= b < 1 for b in self.betas),
               "betas", "must be two numbers in [0, 1)", self.betas)
        _check(self.validation_split is None or self.validation_size is None, "validation_size",
               "and validation_split both size the validation set (a number of images, a fraction): keep one",
               {"validation_split": self.validation_split, "validation_size": self.validation_size})
        if self.validation_size is None and self.validation_split is None:
            self.validation_split = 0.1
        _check(self.validation_split is None or 0 <= self.validation_split < 1, "validation_split",
               "must be in [0, 1)", self.validation_split)
        _check(self.validation_size is None or self.validation_size >= 0, "validation_size",
               "must be >= 0 (a number of training images; 0 trains on all of them)", self.validation_size)
        for key, flag in (("train_samples", "(--train-limit) "), ("test_samples", "")):
            _check(getattr(self, key) is None or getattr(self, key) >= 1, key, f"{flag}must be >= 1", getattr(self, key))
        _check(all(isinstance(k, str) for k in self.model_args), "model_args", "keys must be strings",
               self.model_args)
        _check(self.seed >= 0, "seed", "must be >= 0 (it seeds np.random.default_rng)", self.seed)
        _check(self.name == "" or (re.fullmatch(r"[\w.-]+", self.name) is not None and self.name not in (".", "..")),
               "name", "must be a plain folder name (letters, digits, _ . -): the run's directory is made "
               "inside run_dir, never elsewhere", self.name)
        self._check_model()
        for key, section in (("checkpoint", self.callbacks.checkpoint),
                             ("early_stopping", self.callbacks.early_stopping)):
            if section is not None:
                close = difflib.get_close_matches(section.monitor, MONITORS, n=1)
                _check(section.monitor in MONITORS, f"callbacks.{key}.monitor",
                       f"must be one of {', '.join(MONITORS)}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                       section.monitor)
            if section is not None and section.monitor.startswith("val_"):
                _check((self.validation_size or 0) > 0 if self.validation_split is None else self.validation_split > 0,
                       f"callbacks.{key}.monitor", "needs validation data: set validation_split > 0 (or "
                       "validation_size > 0), or monitor 'loss' or 'accuracy'", section.monitor)

    def _check_model(self) -> None:
        """The preset exists and takes every key of model_args (checked before anything trains)."""
        import inspect

        from .models import MODELS
        close = difflib.get_close_matches(self.model, list(MODELS), n=1)
        _check(self.model in MODELS, "model", f"must be one of {', '.join(MODELS)}"
               + (f" (did you mean {close[0]!r}?)" if close else ""), self.model)
        accepted = [n for n, p in inspect.signature(MODELS[self.model]).parameters.items()
                    if n not in ("rng", "seed") and p.kind is not p.VAR_KEYWORD]
        unknown = [k for k in self.model_args if k not in accepted]
        _check(not unknown, "model_args", f"has keys that {self.model} does not take ({', '.join(unknown)}); "
               f"it takes {', '.join(accepted)}", self.model_args)

    def check_data(self, n_train: int | None, n_test: int) -> None:
        """The sizes this config asks for fit a data set of ``n_train`` training and ``n_test``
        test images (``n_train`` None: only the test set is read), checked once it is loaded
        and before anything trains: train_samples, the validation set it leaves something
        to train on, and test_samples (``runs.scheduler_for`` checks the warm-up against the run's steps)."""
        if n_train is not None:
            _check(self.train_samples is None or self.train_samples <= n_train, "train_samples",
                   f"(--train-limit) must be at most {n_train:,}, the number of {self.dataset} training images",
                   self.train_samples)
            kept = min(n_train, self.train_samples or n_train)
            n_val = validation_count(kept, self.validation_split, self.validation_size)
            key, flag = ("validation_split", "") if self.validation_size is None else \
                ("validation_size", "(--validation-size) ")
            _check(n_val < kept, key, f"{flag}must leave images to train on: it holds out {n_val:,} of the "
                   f"{kept:,} training images" + (" that train_samples keeps" if self.train_samples else ""),
                   getattr(self, key))
        _check(self.test_samples is None or self.test_samples <= n_test, "test_samples",
               f"must be at most {n_test:,}, the number of {self.dataset} test images", self.test_samples)

    def to_dict(self) -> dict:
        """Plain dicts and lists, as in the YAML file (``config_from_dict`` reads it back)."""
        return dataclasses.asdict(self)


def validation_count(n: int, fraction: float | None, size: int | None = None) -> int:
    """How many of ``n`` training images are held out for validation: ``size`` if given, else
    ``round(n * fraction)``."""
    return size if size is not None else int(round(n * fraction))


def _check(ok: bool, key: str, rule: str, value) -> None:
    if not ok:
        raise ConfigError(f"config key {key!r} {rule}. Received: {value!r}")


# ----------------------------------------------------------------------------
# Reading dicts into dataclasses, with messages that help fix the file

_TYPE_NAMES = {int: "int", float: "float (a number)", bool: "bool (true or false)", str: "str", dict: "mapping",
               list: "list"}


# Names other libraries use for our keys: difflib alone would not connect them.
_SYNONYMS = {"learning_rate": "lr", "learningrate": "lr", "epoch": "epochs", "num_epochs": "epochs",
             "n_epochs": "epochs", "batchsize": "batch_size", "optim": "optimizer", "wd": "weight_decay",
             "val_split": "validation_split", "valid_split": "validation_split", "schedule": "scheduler",
             "lr_scheduler": "scheduler", "output_dir": "run_dir", "out_dir": "run_dir", "arch": "model",
             "data": "dataset", "data_path": "data_dir", "random_seed": "seed", "type": "name",
             # the command line's names (--train-limit, --validation-size) for the config's keys
             "train_limit": "train_samples", "test_limit": "test_samples", "val_size": "validation_size"}


def _convert(tp, value, key: str, source: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, key, source)
    if origin is Literal:
        if value not in args:
            close = difflib.get_close_matches(str(value), [str(a) for a in args], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{source}: key {key!r} must be one of {', '.join(map(repr, args))}{hint}. "
                              f"Received: {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, value, source, prefix=key + ".")
    ok = isinstance(value, tp) and not (isinstance(value, bool) and tp is not bool)
    if tp is float and not ok:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # PyYAML reads 1e-3 (no dot) as a string: take it as the number it means
            try:
                return float(value)
            except ValueError:
                pass
    if not ok:
        raise ConfigError(f"{source}: key {key!r} must be {_TYPE_NAMES.get(tp, tp.__name__)}. "
                          f"Received: {value!r} ({type(value).__name__})")
    return value


def _from_dict(cls, data, source: str, prefix: str = ""):
    if data is None and prefix:  # an empty section such as "callbacks:" means "the defaults"
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'the config'} must be a mapping of keys to values. "
                          f"Received: {data!r} ({type(data).__name__})")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            close = [_SYNONYMS[key]] if _SYNONYMS.get(key) in names else \
                difflib.get_close_matches(str(key), names, n=1, cutoff=0.5)
            hint = f"; did you mean {prefix + close[0]!r}?" if close else "."
            raise ConfigError(f"{source}: unknown key {prefix + str(key)!r}{hint} Valid keys"
                              f"{' in ' + prefix.rstrip('.') if prefix else ''}: {', '.join(names)}")
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [k for k in required if k not in data]
    if missing:
        raise ConfigError(f"{source}: missing key {prefix + missing[0]!r} (required). Received keys: {list(data)}")
    kwargs = {k: _convert(hints[k], v, prefix + k, source) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def config_from_dict(data: dict, source: str = "config") -> TrainConfig:
    """Validate a dict (e.g. parsed YAML) and return a TrainConfig."""
    return _from_dict(TrainConfig, data, source)


def load_config(path, **overrides) -> TrainConfig:
    """Read a YAML training configuration.

    Parameters
    ----------
    path : str or Path
    **overrides : keys to replace after reading (e.g. ``epochs=1``), checked like the file's

    Returns
    -------
    TrainConfig, whose ``name`` defaults to the file's name without ``.yaml``
    """
    path = Path(path)
    if not path.is_file():
        shipped = sorted(p.name for p in (Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
        raise FileNotFoundError(f"load_config: no config file at {str(path)!r}. "
                                f"The course's configs are in configs/: {', '.join(shipped)}")
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    data = dict(data) if isinstance(data, dict) else data
    if isinstance(data, dict):
        # validation_size and validation_split exclude each other: overriding one replaces the file's other.
        for key, other in (("validation_size", "validation_split"), ("validation_split", "validation_size")):
            if overrides.get(key) is not None and other not in overrides:
                data.pop(other, None)
        data.update(overrides)
        data.setdefault("name", path.stem)
    return config_from_dict(data, source=str(path))


def dump_config(config: TrainConfig, path) -> None:
    """Write a TrainConfig as YAML (``load_config`` reads it back to an equal config)."""
    with atomic_write(path, "w") as f:
        f.write(yaml.safe_dump(config.to_dict(), sort_keys=False))
