"""The capstone's table of choices and results (chapter 12): one CSV row per recipe you tried.

    cnnlib.capstone.record("lenet+shift2", {"model": "lenet", "epochs": 4, "shift": 2}, val_accuracy=0.991)
    cnnlib.capstone.load()   # every row so far, oldest first

Each call adds one row to ``runs/capstone_results.csv`` (under the folder you run
from: ``chapters/runs/`` from a notebook, which git ignores; ``path`` names another file): the recipe's name, its choices (one column per
key; a key that an earlier row lacks gets its own column, and the rows without
it are left blank), its validation accuracy and, once, for the recipe you chose,
its test accuracy. The file is rewritten whole through ``files.atomic_write``,
so a crash leaves the old table or the new one, never half of one, and no
earlier row is ever lost: a name already in the table is refused unless
``replace=True``.
"""
from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

from .core.validation import fail, require
from .files import atomic_write

PATH = "runs/capstone_results.csv"
FIRST, LAST = ["name"], ["val_accuracy", "test_accuracy", "recorded"]


def load(path=PATH) -> list[dict]:
    """The rows of the table as dicts of strings (``[]`` when there is no file yet)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        require(reader.fieldnames is not None and set(FIRST + LAST) <= set(reader.fieldnames), "capstone.load",
                f"{path} must be a table written by capstone.record, with the columns {', '.join(FIRST + LAST)}",
                f"columns {reader.fieldnames}")
        return list(reader)


def _accuracy(name: str, value, optional: bool = False):
    if value is None and optional:
        return ""
    require(isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1, "capstone.record",
            f"{name} must be a fraction in [0, 1] (0.993, not 99.3)" + (" or None" if optional else ""),
            f"{name}={value!r}", TypeError if not isinstance(value, (int, float)) else ValueError)
    return f"{float(value):.4f}"


def record(name: str, choices: dict, val_accuracy: float, test_accuracy: float | None = None, path=PATH,
           replace: bool = False) -> list[dict]:
    """Add one recipe's row to the table; return every row.

    Parameters
    ----------
    name : a short name of the recipe, unique in the table
    choices : dict of what you chose, e.g. ``{"model": "lenet", "epochs": 4, "shift": 2, "lr": 0.05}``
        (keys are strings; values are numbers, strings, booleans or None)
    val_accuracy : float in [0, 1], measured on your validation split
    test_accuracy : float in [0, 1] or None: leave it None until the very end, and fill it
        in for the one recipe you chose
    path : the CSV file (made if missing)
    replace : allow a name already in the table (its old row is dropped, the new one added at the end)

    Returns
    -------
    list of dict, every row of the table, oldest first
    """
    func = "capstone.record"
    require(isinstance(name, str) and name.strip() != "", func, "name must be a non-empty string",
            f"name={name!r}", TypeError if not isinstance(name, str) else ValueError)
    require(isinstance(choices, dict), func, "choices must be a dict, e.g. {'model': 'lenet', 'epochs': 4}",
            f"choices of type {type(choices).__name__}", TypeError)
    for key, value in choices.items():
        require(isinstance(key, str) and key not in FIRST + LAST, func, "choices' keys must be strings other than "
                + ", ".join(FIRST + LAST), f"key {key!r}")
        require(value is None or isinstance(value, (str, int, float, bool)), func, "choices' values must be "
                "numbers, strings, booleans or None (one cell each)", f"choices[{key!r}] of type "
                f"{type(value).__name__}", TypeError)
    row = {"name": name.strip(), **{k: "" if v is None else str(v) for k, v in choices.items()},
           "val_accuracy": _accuracy("val_accuracy", val_accuracy),
           "test_accuracy": _accuracy("test_accuracy", test_accuracy, optional=True),
           "recorded": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    rows = load(path)
    taken = [i for i, r in enumerate(rows) if r["name"] == row["name"]]
    if taken and not replace:
        fail(func, f"a recipe named {row['name']!r} is already in {path}: choose another name, or pass "
             "replace=True to replace its row", f"name={name!r}")
    rows = [r for r in rows if r["name"] != row["name"]] + [row]
    middle = list(dict.fromkeys(k for r in rows for k in r if k not in FIRST + LAST))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIRST + middle + LAST, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", newline="") as f:
        f.write(text.getvalue())
    return rows
