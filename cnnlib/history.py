"""``History``: the per-epoch metrics of a training run (chapter 08), and reading them back.

The trainer appends one row per epoch; the callbacks read it (``CSVLogger``
writes it as it grows, ``EarlyStopping`` and ``ModelCheckpoint`` watch one of
its metrics); ``History.to_csv`` and ``from_csv`` keep it in a file.
"""
from __future__ import annotations

import csv
import difflib
import math
from pathlib import Path

from .core.validation import require
from .files import atomic_write


def auto_mode(monitor: str) -> str:
    """The direction a metric improves in: accuracies grow ("max"), losses and the rest shrink ("min")."""
    return "max" if "acc" in monitor else "min"


class History:
    """Per-epoch metrics of a training run, like Keras' ``History``.

    ``history["val_accuracy"]`` is the list of that metric, one value per epoch
    (``None`` where it was not measured); ``history.rows`` holds one dict per
    epoch. Columns: epoch, loss, accuracy, val_loss, val_accuracy, lr (the
    learning rate the epoch started with) and time (seconds), plus any extra
    metric a callback added.
    """

    COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time")

    def __init__(self, rows=None):
        self.rows: list[dict] = [dict(r) for r in (rows or [])]

    @staticmethod
    def columns_of(rows) -> list[str]:
        """The standard columns, then any extra keys in the order they first appear."""
        extra = []
        for row in rows:
            extra += [k for k in row if k not in History.COLUMNS and k not in extra]
        return list(History.COLUMNS) + extra

    def append(self, row: dict) -> None:
        self.rows.append(dict(row))

    def __len__(self) -> int:
        return len(self.rows)

    def keys(self) -> list[str]:
        """The metrics measured in at least one epoch."""
        return [c for c in self.columns_of(self.rows) if any(r.get(c) is not None for r in self.rows)]

    def __getitem__(self, key: str) -> list:
        if key not in self.keys():
            close = difflib.get_close_matches(key, self.keys(), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"History: no metric {key!r}{hint} The metrics are {self.keys()}")
        return [r.get(key) for r in self.rows]

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def to_dict(self) -> dict[str, list]:
        """``{metric: [value per epoch]}``, ready for ``json.dump`` or ``History.from_dict``."""
        return {k: self[k] for k in self.keys()}

    @property
    def history(self) -> dict[str, list]:
        """The same as ``to_dict()`` (the name Keras uses; ``cnnlib.viz.plot_history`` reads it)."""
        return self.to_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        lengths = {k: len(v) for k, v in d.items()}
        require(len(set(lengths.values())) <= 1, "History.from_dict", "every metric needs one value per epoch",
                f"lengths {lengths}")
        n = next(iter(lengths.values()), 0)
        return cls([{k: d[k][i] for k in d} for i in range(n)])

    def to_csv(self, path) -> None:
        """Write every epoch to ``path`` (replaced atomically: no half-written file on a crash)."""
        path = Path(path)
        columns = [c for c in self.columns_of(self.rows) if c in self.keys()]
        with atomic_write(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for r in self.rows:
                writer.writerow(["" if r.get(c) is None else r[c] for c in columns])

    @classmethod
    def from_csv(cls, path) -> "History":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))

        def parse(key, text):
            if text == "":
                return None
            return int(text) if key == "epoch" else float(text)

        return cls([{k: parse(k, v) for k, v in r.items()} for r in rows])

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best epoch for ``monitor`` (max for accuracies, min otherwise)."""
        values = self[monitor]
        mode = auto_mode(monitor) if mode == "auto" else mode
        pairs = [(r["epoch"], v) for r, v in zip(self.rows, values) if v is not None and not math.isnan(v)]
        require(bool(pairs), "History.best", f"no epoch has a value for {monitor!r}", f"{monitor}={values}")
        return (max if mode == "max" else min)(pairs, key=lambda p: p[1])

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, metrics={self.keys()})"
