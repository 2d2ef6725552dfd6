"""Callbacks for the trainer (chapter 08): early stopping, checkpoints, LR schedules, CSV logs.

A callback is an object with any of these methods, which ``Trainer.fit`` calls
at the named moments (the trainer passes itself, so a callback can reach
``trainer.model``, ``trainer.optimizer``, ``trainer.history`` and set
``trainer.stop_training = True``):

    on_train_begin(trainer)
    on_epoch_begin(trainer, epoch)              epoch counts from 1
    on_batch_end(trainer, step, logs)           logs = {"loss": ..., "accuracy": ...} of that batch
    on_epoch_end(trainer, epoch, logs)          logs = the epoch's row of the History
    on_train_end(trainer)

Subclass ``Callback`` and override what you need; the others do nothing.
"""
from __future__ import annotations

import csv
import difflib
import math
import os
from pathlib import Path

from .core.validation import check_int, fail, require
from .history import History, auto_mode


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        pass

    def on_batch_end(self, trainer, step: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass


class _Monitor:
    """Reads one metric from an epoch's logs and says whether it improved on the best so far."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0):
        require(isinstance(monitor, str) and monitor != "", owner, "monitor must be a metric name "
                "such as 'val_loss' or 'val_accuracy'", f"monitor={monitor!r}", TypeError)
        require(mode in ("auto", "min", "max"), owner, "mode must be 'auto', 'min' or 'max'", f"mode={mode!r}")
        require(isinstance(min_delta, (int, float)) and min_delta >= 0, owner, "min_delta must be a number >= 0",
                f"min_delta={min_delta!r}")
        mode = auto_mode(monitor) if mode == "auto" else mode
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def value(self, logs: dict) -> float:
        value = logs.get(self.monitor)
        if value is None:
            known = [k for k, v in logs.items() if v is not None and k != "epoch"]
            close = difflib.get_close_matches(self.monitor, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if self.monitor.startswith("val_"):
                hint += "; pass validation_data to fit() to measure val_ metrics"
            fail(self.owner, f"monitor={self.monitor!r} is not measured in this run{hint}; "
                 f"the metrics are {', '.join(known)}", f"monitor={self.monitor!r}")
        return float(value)

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop training when a metric has stopped improving.

    Parameters
    ----------
    monitor : str
        A History metric: ``"val_loss"`` (default), ``"val_accuracy"``, ``"loss"``, ...
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; ``"auto"`` means "max" for
        accuracies and "min" for everything else.
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        A change smaller than this does not count as an improvement.
    restore_best : bool
        At the end of training, put back the weights of the best epoch
        (default True: the model you keep is the best one seen, not the last).

    Attributes
    ----------
    best, best_epoch : the best value seen and its epoch
    stopped_epoch : the epoch after which training stopped, or None
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", patience: int = 5,
                 min_delta: float = 0.0, restore_best: bool = True):
        self._monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience = check_int("EarlyStopping", "patience", patience, 0)
        self.restore_best = bool(restore_best)
        self.best, self.best_epoch, self.stopped_epoch = None, None, None
        self._wait, self._best_state, self._last_epoch = 0, None, None

    @property
    def monitor(self) -> str:
        return self._monitor.monitor

    def on_train_begin(self, trainer) -> None:
        self._monitor.reset()
        self.best, self.best_epoch, self.stopped_epoch = None, None, None
        self._wait, self._best_state, self._last_epoch = 0, None, None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = self._monitor.value(logs)
        self._last_epoch = epoch
        if self._monitor.improved(value):
            self._monitor.best = self.best = value
            self.best_epoch, self._wait = epoch, 0
            if self.restore_best:  # copies: the live arrays keep changing as training goes on
                self._best_state = {k: v.copy() for k, v in trainer.model.state_dict().items()}
            return
        self._wait += 1
        if self._wait >= max(self.patience, 1):
            trainer.stop_training = True
            self.stopped_epoch = epoch
            trainer.log(f"EarlyStopping: {self.monitor} has not improved for {self._wait} epoch(s); "
                        f"stopping after epoch {epoch}.")

    def on_train_end(self, trainer) -> None:
        if self.restore_best and self._best_state is not None and self.best_epoch != self._last_epoch:
            trainer.model.load_state_dict(self._best_state)
            trainer.log(f"EarlyStopping: restored the weights of epoch {self.best_epoch} "
                        f"({self.monitor}={self.best:.4f}).")


class ModelCheckpoint(Callback):
    """Save the model, optimizer and schedule with ``cnnlib.checkpoint.save_checkpoint`` after epochs.

    Parameters
    ----------
    path : str or Path
        Where to save. May contain ``{epoch}`` (and any metric, e.g.
        ``"ckpt-{epoch:02d}-{val_accuracy:.4f}.npz"``) to keep one file per save.
    monitor, mode, min_delta : as in EarlyStopping
    save_best_only : bool
        Save only when ``monitor`` improved (default); otherwise after every epoch.
    config : dict or dataclass, optional
        The training configuration, stored in every file.
    extra : dict, optional
        More JSON-able information stored in every file (under ``extra``,
        next to the epoch's ``metrics`` and the shuffling generator's state).

    Saving is atomic (a temporary file, then a rename), so an interrupted run
    never leaves a half-written checkpoint behind, nor destroys the last one.
    ``cnnlib.checkpoint.load_checkpoint(path)["model"]`` gives the model back.

    Attributes
    ----------
    best, best_epoch, last_saved : the best value, its epoch, and the path last written
    """

    def __init__(self, path, monitor: str = "val_loss", mode: str = "auto", save_best_only: bool = True,
                 min_delta: float = 0.0, config=None, extra: dict | None = None):
        require(isinstance(path, (str, os.PathLike)), "ModelCheckpoint", "path must be a str or Path",
                f"path of type {type(path).__name__}", TypeError)
        self.path = str(path)
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode, min_delta)
        self.save_best_only = bool(save_best_only)
        self.config, self.extra = config, dict(extra or {})
        self.best, self.best_epoch, self.last_saved = None, None, None

    @property
    def monitor(self) -> str:
        return self._monitor.monitor

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        # A second fit() continues the same run: the best so far is kept, so a worse model never replaces it.
        value = self._monitor.value(logs)
        improved = self._monitor.improved(value)
        if improved:
            self._monitor.best = self.best = value
            self.best_epoch = epoch
        if self.save_best_only and not improved:
            return
        from .checkpoint import save_checkpoint  # imported late: training does not need checkpoints
        path = self.path.format(epoch=epoch, **{k: v for k, v in logs.items() if k != "epoch"})
        extra = {**self.extra, "metrics": {k: v for k, v in logs.items() if v is not None},
                 "trainer_rng": trainer.rng.bit_generator.state}
        save_checkpoint(path, trainer.model, trainer.optimizer, config=self.config, epoch=epoch, extra=extra,
                        scheduler=getattr(trainer, "scheduler", None))
        self.last_saved = path


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (``interval="epoch"``) or every batch (``"step"``).

    ``Trainer(..., scheduler=s)`` wraps its scheduler in one of these. A
    per-step schedule (e.g. ``CosineLR`` with ``total_steps = epochs * batches
    per epoch``) changes the rate smoothly within an epoch.
    """

    def __init__(self, scheduler, interval: str = "epoch"):
        require(hasattr(scheduler, "step"), "LRSchedulerCallback", "scheduler must have a step() method",
                f"scheduler of type {type(scheduler).__name__}", TypeError)
        require(interval in ("epoch", "step"), "LRSchedulerCallback", "interval must be 'epoch' or 'step'",
                f"interval={interval!r}")
        self.scheduler, self.interval = scheduler, interval

    def on_batch_end(self, trainer, step: int, logs: dict) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.interval == "epoch":
            self.scheduler.step()


class CSVLogger(Callback):
    """Write the History to a CSV file, one row per epoch, as soon as the epoch ends.

    Parameters
    ----------
    path : str or Path
    append : bool
        Add rows to an existing log (its columns must match).
    overwrite : bool
        Replace an existing log. Without ``append`` or ``overwrite`` an existing
        file is an error: it is most likely the log of another run.

    Each row is written and the file closed at once, so the log survives a
    crash or an interrupted run up to the last finished epoch.
    """

    def __init__(self, path, append: bool = False, overwrite: bool = False):
        require(isinstance(path, (str, os.PathLike)), "CSVLogger", "path must be a str or Path",
                f"path of type {type(path).__name__}", TypeError)
        require(not (append and overwrite), "CSVLogger", "choose append or overwrite, not both",
                f"append={append}, overwrite={overwrite}")
        self.path, self.append, self.overwrite = Path(path), bool(append), bool(overwrite)
        self._columns: list[str] | None = None
        self._started = False  # True once this logger owns the file (a second fit() appends)

    def on_train_begin(self, trainer) -> None:
        if self._started:
            return
        if self.path.exists() and not (self.append or self.overwrite):
            fail("CSVLogger", f"{self.path} already exists (probably the log of another run); pass "
                 "append=True to add to it, overwrite=True to replace it, or choose another path",
                 f"path={str(self.path)!r}", FileExistsError)
        if self.path.exists() and self.append:
            with open(self.path, newline="") as f:
                header = next(csv.reader(f), None)
            self._columns = header or None
        elif self.path.exists():  # overwrite was asked for
            self.path.unlink()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._started = True

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        columns = History.columns_of([logs])
        if self._columns is None:
            self._columns = columns
        elif set(columns) - set(self._columns):
            fail("CSVLogger", f"the metrics of this run do not match the columns of {self.path}",
                 f"columns {self._columns}, metrics {columns}")
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if new_file:
                writer.writerow(self._columns)
            writer.writerow(["" if logs.get(c) is None else logs[c] for c in self._columns])
