"""The training loop (chapter 08): ``Trainer``, which records a ``History`` (``cnnlib.history``).

One training step (``Trainer.train_step``) is the whole course in four lines,
which you assemble in exercise 8.1 (``cnnlib/training.py``)::

    logits = model.forward(x_batch)                              # chapters 01-07
    loss, dlogits = softmax_cross_entropy(logits, y_batch)       # chapter 05
    model.backward(dlogits)                                      # fills every layer's grads
    optimizer.step()                                             # chapter 06

``Trainer.fit`` repeats it over shuffled mini-batches for some epochs, switches
the model between ``train()`` and ``eval()`` (dropout and batch norm behave
differently), evaluates on validation data, steps the learning-rate schedule,
calls the callbacks and records one History row per epoch.
"""
from __future__ import annotations

import difflib
import math
import time
from contextlib import contextmanager

import numpy as np

from . import ops
from .callbacks import Callback, LRSchedulerCallback
from .history import History
from .core.validation import check_array, check_int, fail, require


def _softmax_cross_entropy(logits, labels):
    return ops.softmax_cross_entropy(logits, labels)


def _mse(pred, y):
    # Integer labels with several outputs: regress the one-hot vectors (as in early neural networks).
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and pred.ndim == 2:
        y = np.eye(pred.shape[1], dtype=pred.dtype)[y]  # (N, K)
    return ops.mse_loss(pred, y.astype(pred.dtype, copy=False))


LOSSES = {"cross_entropy": _softmax_cross_entropy, "mse": _mse}


MIN_STEPS = 100  # optimizer steps before an epoch's loss and accuracy are judged (short runs are noisy)


class TrainingDiverged(FloatingPointError):
    """Training went nowhere: a NaN or infinite loss, a loss far above guessing, or chance accuracy."""


class Trainer:
    """Fit a model with mini-batch gradient descent.

    Parameters
    ----------
    model : Sequential (or any object with forward, backward, train, eval,
        state_dict, load_state_dict)
    optimizer : an optimizer from ``cnnlib.optim`` (``.step()``, ``.lr``), or None for
        a Trainer that only evaluates and predicts
    loss : "cross_entropy" (softmax cross-entropy of logits and integer labels),
        "mse" (mean squared error; integer labels are one-hot encoded), or a
        function ``loss(out, y) -> (loss, dout)``
    scheduler : a learning-rate scheduler from ``cnnlib.optim``, optional
    callbacks : sequence of ``cnnlib.callbacks.Callback``
    rng : np.random.Generator or int seed, shuffles the training data each epoch
    scheduler_interval : "epoch" (default) or "step": when to call ``scheduler.step()``
    augment : a function ``augment(x_batch, rng) -> x_batch`` (e.g. ``cnnlib.transforms.Augment``),
        optional, applied to each training batch with the trainer's rng (never to validation data,
        ``evaluate`` or ``predict``)

    Attributes
    ----------
    history : History of every epoch trained so far (a second ``fit`` continues it)
    stop_training : a callback sets this to True to end ``fit`` after the current epoch

    Examples
    --------
    >>> trainer = Trainer(model, SGD(model, lr=0.05, momentum=0.9), rng=np.random.default_rng(0))
    >>> history = trainer.fit(x_train, y_train, epochs=3, batch_size=128, validation_data=(x_test, y_test))
    >>> trainer.evaluate(x_test, y_test)["accuracy"]
    """

    def __init__(self, model, optimizer, loss="cross_entropy", scheduler=None, callbacks=(), rng=None,
                 *, scheduler_interval: str = "epoch", divergence_check: bool = True, augment=None):
        for method in ("forward", "backward", "train", "eval"):
            require(callable(getattr(model, method, None)), "Trainer", f"model must have a {method}() method",
                    f"model of type {type(model).__name__}", TypeError)
        require(optimizer is None or callable(getattr(optimizer, "step", None)), "Trainer",
                "optimizer must have a step() method (or be None, to evaluate and predict only)",
                f"optimizer of type {type(optimizer).__name__}", TypeError)
        if isinstance(loss, str):
            if loss not in LOSSES:
                close = difflib.get_close_matches(loss, LOSSES, n=1)
                fail("Trainer", "loss must be one of " + ", ".join(map(repr, LOSSES)) + " or a function"
                     + (f" (did you mean {close[0]!r}?)" if close else ""), f"loss={loss!r}")
            self.loss_name, self.loss_fn = loss, LOSSES[loss]
        else:
            require(callable(loss), "Trainer", "loss must be a name or a function (out, y) -> (loss, dout)",
                    f"loss of type {type(loss).__name__}", TypeError)
            self.loss_name, self.loss_fn = getattr(loss, "__name__", "custom"), loss
        self.callbacks: list = list(callbacks)
        for cb in self.callbacks:
            require(isinstance(cb, Callback), "Trainer", "each callback must be a cnnlib.callbacks.Callback",
                    f"{type(cb).__name__}", TypeError)
        self.scheduler = scheduler
        if scheduler is not None:
            self.callbacks.insert(0, LRSchedulerCallback(scheduler, scheduler_interval))
        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(rng)
        require(isinstance(rng, np.random.Generator), "Trainer", "rng must be a np.random.Generator or an int seed",
                f"rng of type {type(rng).__name__}", TypeError)
        self.model, self.optimizer, self.rng = model, optimizer, rng
        self.history = History()
        self.stop_training = False
        self.global_step = 0  # optimizer steps taken so far
        self.verbose = True
        self.divergence_check = bool(divergence_check)
        require(augment is None or callable(augment), "Trainer", "augment must be None or a function "
                "augment(x_batch, rng) -> x_batch", f"augment of type {type(augment).__name__}", TypeError)
        self.augment = augment

    # ------------------------------------------------------------------ helpers

    def log(self, message: str) -> None:
        """Print a message from the trainer or a callback (silent when fit(verbose=False))."""
        if self.verbose:
            print(message)

    def _check_data(self, func: str, x, y, name: str = "x") -> int:
        """Validate inputs and labels against the model; return the number of classes (outputs)."""
        yname = "y" if name == "x" else name.replace("x", "y")
        check_array(func, name, x, floating=True)
        require(x.ndim >= 2 and len(x) >= 1, func, f"{name} must be a batch of samples, shape (N, ...) with N >= 1",
                f"{name}.shape={x.shape}")
        check_array(func, yname, y)
        require(len(y) == len(x), func, f"{name} and {yname} must have the same number of samples",
                f"{name}.shape={x.shape}, {yname}.shape={y.shape}")
        out = self._probe(func, x, name)
        if self.loss_fn is _softmax_cross_entropy or (y.ndim == 1 and not np.issubdtype(y.dtype, np.floating)):
            require(y.ndim == 1 and np.issubdtype(y.dtype, np.integer), func,
                    f"{yname} must hold integer class labels, shape (N,); convert with {yname}.astype(np.int64)",
                    f"{yname}.shape={y.shape}, {yname}.dtype={y.dtype}", TypeError)
            require(out.ndim == 2, func, "the model must output (N, num_classes) scores for labels",
                    f"output shape {out.shape} for input shape {x[:1].shape}")
            k = out.shape[1]
            lo, hi = int(y.min()), int(y.max())
            require(lo >= 0 and hi < k, func, f"labels in {yname} must be in 0 .. {k - 1} "
                    f"(the model has {k} outputs)", f"labels from {lo} to {hi}")
            return k
        require(y.shape[1:] == out.shape[1:], func, f"targets {yname} must have the shape of the model's output",
                f"{yname}.shape={y.shape}, model output {out.shape} for one sample")
        return out.shape[-1]

    def _probe(self, func: str, x, name: str):
        """Run one sample through the model (eval mode) to check that the shapes fit."""
        with self._mode(training=False):
            try:
                return self.model.forward(x[:1])
            except (ValueError, TypeError) as e:  # same type, with what the trainer knows in front
                raise type(e)(f"{func}: the model does not accept {name}: inputs of shape {x.shape[1:]} per "
                              f"sample, dtype {x.dtype}. Received: {name}.shape={x.shape}. "
                              f"The model says: {e}") from e

    @contextmanager
    def _mode(self, training: bool):
        """The model in train or eval mode inside the ``with`` block, then back to what it was."""
        previous = getattr(self.model, "training", True)
        self._set_mode(training)
        try:
            yield
        finally:
            self._set_mode(previous)

    def _set_mode(self, training: bool) -> None:
        if training:
            self.model.train()
        else:
            self.model.eval()

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook, lambda *a: None)(self, *args)

    # ------------------------------------------------------------------ training

    def fit(self, x, y, epochs: int, batch_size: int = 64, validation_data=None, verbose: bool = True,
            progress: bool | None = None) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches.

        Parameters
        ----------
        x : ndarray, shape (N, C, H, W) (or whatever the model takes), float
        y : ndarray of int, shape (N,) class labels (or float targets for "mse")
        epochs : int, >= 1
        batch_size : int, >= 1 (the last batch of an epoch may be smaller)
        validation_data : tuple (x_val, y_val), optional, evaluated after each epoch
        verbose : bool
            Show a progress bar per epoch with the running loss and accuracy,
            and the callbacks' messages (early stopping).
        progress : bool, optional
            Show the progress bars (default: ``verbose``); False keeps the messages only.

        Returns
        -------
        History
            ``self.history``, one row per epoch (it continues across calls).

        Raises
        ------
        TrainingDiverged (a FloatingPointError)
            If the loss becomes NaN or infinite, or, for a classifier once it has
            taken ``MIN_STEPS`` steps, if an epoch ends with a mean loss above twice
            that of guessing uniformly (2 log K for K classes) or with an accuracy
            at chance (at most 1.5 / K). ``benchmarks/divergence_runs.py`` shows the
            runs behind these thresholds.
        """
        func = "Trainer.fit"
        require(self.optimizer is not None, func, "training needs an optimizer: Trainer(model, optimizer)",
                "optimizer=None")
        epochs = check_int(func, "epochs", epochs, 1)
        batch_size = check_int(func, "batch_size", batch_size, 1)
        self._check_data(func, x, y)
        if validation_data is not None:
            require(isinstance(validation_data, (tuple, list)) and len(validation_data) == 2, func,
                    "validation_data must be a pair (x_val, y_val)", f"{type(validation_data).__name__}", TypeError)
            self._check_data(func, validation_data[0], validation_data[1], name="x_val")
        self.verbose = bool(verbose)
        show_bar = self.verbose if progress is None else bool(progress)
        self.stop_training = False
        first = len(self.history) + 1
        last = first + epochs - 1
        self._call("on_train_begin")
        for epoch in range(first, last + 1):
            self._call("on_epoch_begin", epoch)
            row, classes = self._train_epoch(func, x, y, epoch, last, batch_size, validation_data, show_bar)
            self.history.append(row)
            if self.divergence_check and row["accuracy"] is not None and self.global_step >= MIN_STEPS:
                self._check_progress(func, epoch, row, classes, row["lr"])
            self._call("on_epoch_end", epoch, row)
            if self.stop_training:
                break
        self._call("on_train_end")
        return self.history

    def train_step(self, xb, yb):
        """One optimizer step on a batch, with your ``training_step`` (exercise 8.1); returns ``(out, loss)``."""
        out, loss = ops.training_step(self.model, self.optimizer, self._checked_loss, xb, yb)
        self.global_step += 1
        return out, loss

    def _checked_loss(self, out, y):
        """The loss, stopping the step before its backward pass when the loss is not finite."""
        loss, dout = self.loss_fn(out, y)
        if self.divergence_check and not np.isfinite(loss):
            raise TrainingDiverged(f"the loss became {float(loss)}")  # fit says where, and what to try
        return loss, dout

    def _train_epoch(self, func, x, y, epoch, last, batch_size, validation_data, show_bar):
        """One pass over shuffled mini-batches, with a progress bar; returns (History row, number of outputs)."""
        from tqdm.auto import tqdm
        lr, start = float(self.optimizer.lr), time.perf_counter()
        steps = math.ceil(len(x) / batch_size)
        order = self.rng.permutation(len(x))
        loss_sum, correct, seen, labels = 0.0, 0, 0, y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
        bar = tqdm(total=steps, desc=f"Epoch {epoch}/{last}", unit="batch", disable=not show_bar, leave=True)
        try:
            self.model.train()
            for step in range(1, steps + 1):
                idx = order[(step - 1) * batch_size:step * batch_size]
                try:
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # the check says it
                        xb = x[idx] if self.augment is None else self.augment(x[idx], self.rng)
                        out, loss = self.train_step(xb, y[idx])
                except TrainingDiverged as e:
                    now = self.optimizer.lr  # the rate of this step (a schedule may have changed it)
                    raise TrainingDiverged(
                        f"{func}: {e} at epoch {epoch}, step {step} of {steps} (learning rate {now:g}): training "
                        f"diverged. Try a lower learning rate (e.g. lr={now / 10:g}), and check that the inputs "
                        "are scaled (e.g. to [0, 1]).") from None
                loss_sum, seen = loss_sum + float(loss) * len(idx), seen + len(idx)
                batch_logs = {"loss": float(loss)}
                if labels and out.ndim == 2:
                    hits = int((out.argmax(axis=1) == y[idx]).sum())
                    correct += hits
                    batch_logs["accuracy"] = hits / len(idx)
                self._call("on_batch_end", step, batch_logs)
                bar.update(1)
                if step % 20 == 0 or step == steps:  # postfix updates cost time: not every batch
                    bar.set_postfix({"loss": f"{loss_sum / seen:.4f}", **({"accuracy": f"{correct / seen:.4f}"}
                                     if "accuracy" in batch_logs else {})}, refresh=False)
            row = {"epoch": epoch, "loss": loss_sum / seen,
                   "accuracy": correct / seen if "accuracy" in batch_logs else None}
            if validation_data is not None:
                val = self.evaluate(*validation_data, batch_size=max(batch_size, 256))
                row["val_loss"], row["val_accuracy"] = val["loss"], val["accuracy"]
                bar.set_postfix({k: f"{v:.4f}" for k, v in row.items()
                                 if k in ("loss", "accuracy", "val_loss", "val_accuracy") and v is not None})
        finally:
            bar.close()
        row["lr"], row["time"] = lr, time.perf_counter() - start
        return row, out.shape[-1]

    def _check_progress(self, func: str, epoch: int, row: dict, classes: int, lr: float) -> None:
        """Stop a classifier whose epoch ended far above the loss of guessing, or at chance accuracy."""
        guess, chance = math.log(classes), 1 / classes
        said = (f"after epoch {epoch} the mean training loss is {row['loss']:.4g} (guessing uniformly gives "
                f"log {classes} = {guess:.3f}) and the accuracy {row['accuracy']:.1%} (chance: {chance:.0%})")
        if row["loss"] > 2 * guess:
            raise TrainingDiverged(f"{func}: training diverged: {said}. Try a lower learning rate (lr={lr:g} now; "
                                   f"e.g. lr={lr / 10:g}), and check that the inputs are scaled (e.g. to [0, 1]).")
        if row["accuracy"] <= 1.5 * chance:
            raise TrainingDiverged(f"{func}: training is not learning: {said}. The learning rate (lr={lr:g}) may be "
                                   "too high (units that died early) or too low (nothing moved yet): try ten times "
                                   "lower and ten times higher, and check the labels match the inputs.")

    # ------------------------------------------------------------------ inference

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """The model's outputs (logits) for ``x``, in eval mode, ``batch_size`` samples at a time.

        Returns
        -------
        ndarray, shape (N, num_classes)
        """
        func = "Trainer.predict"
        batch_size = check_int(func, "batch_size", batch_size, 1)
        check_array(func, "x", x, floating=True)
        require(x.ndim >= 2 and len(x) >= 1, func, "x must be a batch of samples, shape (N, ...) with N >= 1",
                f"x.shape={x.shape}")
        first = self._probe(func, x, "x")
        out = np.empty((len(x),) + first.shape[1:], dtype=first.dtype)
        with self._mode(training=False):
            for i in range(0, len(x), batch_size):
                out[i:i + batch_size] = self.model.forward(x[i:i + batch_size])
        return out

    def predict_proba(self, x, batch_size: int = 256) -> np.ndarray:
        """Class probabilities: the softmax of ``predict(x)``, shape (N, num_classes)."""
        return ops.softmax(self.predict(x, batch_size))

    def evaluate(self, x, y, batch_size: int = 256) -> dict:
        """Mean loss and accuracy on ``(x, y)`` in eval mode: ``{"loss": ..., "accuracy": ...}``.

        ``accuracy`` is None when ``y`` holds float targets (an "mse" regression).
        """
        func = "Trainer.evaluate"
        batch_size = check_int(func, "batch_size", batch_size, 1)
        self._check_data(func, x, y)
        loss_sum, correct = 0.0, 0
        labels = y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
        with self._mode(training=False):
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                out = self.model.forward(xb)
                loss, _ = self.loss_fn(out, yb)
                loss_sum += float(loss) * len(xb)
                if labels:
                    correct += int((out.argmax(axis=1) == yb).sum())
        return {"loss": loss_sum / len(x), "accuracy": correct / len(x) if labels else None}
