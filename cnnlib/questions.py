"""Concept checks: short questions with a checkable answer, graded like the exercises.

Each chapter asks a few questions whose answer is a number, a shape or a
choice: "how many parameters does this layer have?", "what is the receptive
field after these three layers?". You answer in the notebook,

    cnnlib.answer("1.q1", 13)

which says at once whether the answer is right (and, when it is not, what the
usual mistake behind it is, never the answer), and keeps it in ``answers.json``
in the course's folder, so that ``pytest tests/`` and ``cnnlib progress`` grade
it with the exercises. A new answer replaces the old one; ``answers.json`` is
written atomically, so it is never half-written. ``CNNLIB_ANSWERS`` names
another file.

The questions are listed once, in ``QUESTIONS``; their answers are in
``solutions/answers.py``, like every other reference.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from .core.validation import fail, require
from .files import atomic_write

KINDS = ("int", "float", "choice", "shape")


@dataclass(frozen=True)
class Question:
    id: str        # "1.q1"
    chapter: int
    kind: str      # "int", "float" (checked to 0.5 %), "choice" (a letter), "shape" (a tuple of ints)
    prompt: str    # one line, as the progress table shows it
    choices: str = ""  # for "choice": the valid letters, e.g. "abc"


QUESTIONS = [
    Question("1.q1", 1, "int", "output height: 28x28 input, 5x5 kernel, stride 2, padding 1"),
    Question("1.q2", 1, "int", "receptive field (in pixels, one side) of three stacked 3x3 convolutions, stride 1"),
    Question("2.q1", 2, "int", "windows im2col unfolds: x (2, 3, 8, 8), 3x3 kernel, stride 1, padding 1"),
    Question("2.q2", 2, "shape", "shape of the GEMM's output for x (2, 3, 8, 8), weight (16, 3, 3, 3), padding 1, "
                                 "before any reshape: (windows, C_out)"),
    Question("3.q1", 3, "choice", "conv2d_backward's dweight is a product of dout and (a) the weight (b) the "
                                  "input's windows (c) the output", "abc"),
    Question("3.q2", 3, "choice", "relative error of a correct float64 gradient against centred differences, "
                                  "h = 1e-5: (a) about 1e-2 (b) 1e-7 or below (c) exactly 0", "abc"),
    Question("4.q1", 4, "int", "parameters of MaxPool2d(2)"),
    Question("4.q2", 4, "int", "entries of one 2x2 window that get a gradient in max pooling's backward (no ties)"),
    Question("5.q1", 5, "int", "parameters of Linear(3136, 128), bias included"),
    Question("5.q2", 5, "float", "sum over the classes of softmax_cross_entropy's gradient for one sample, times N"),
    Question("6.q1", 6, "float", "the steady step, in units of the gradient, of SGD with lr 0.01 and momentum 0.9 "
                                 "under a constant gradient"),
    Question("6.q2", 6, "float", "cosine_lr's rate at step 0 with 200 warm-up steps, as a fraction of the peak"),
    Question("7.q1", 7, "int", "learned parameters of BatchNorm2d(64) (running statistics are not parameters)"),
    Question("7.q2", 7, "float", "the factor inverted dropout with p = 0.25 scales kept values by, in training"),
    Question("8.q1", 8, "int", "optimizer steps in one epoch over 54,000 digits at batch size 128 (the last batch "
                               "smaller)"),
    Question("8.q2", 8, "choice", "after training_step returns, the layers' caches belong to (a) the batch before the "
                                  "update (b) the batch after the update (c) no batch: the update clears them", "abc"),
    Question("10.q1", 10, "float", "He (fan_in, ReLU) standard deviation of a Conv2d(32, 64, 3) weight"),
    Question("10.q2", 10, "float", "the cross-entropy of a 10-class network that is equally unsure of every class"),
    Question("11.q1", 11, "int", "parameters of DepthwiseConv2d(64, 3) followed by Conv2d(64, 128, 1), both "
                                 "without bias"),
    Question("11.q2", 11, "choice", "in out = relu(branch(x) + x), where out > 0 and the branch's gradient is 0, "
                                    "dL/dx is (a) 0 (b) dL/dout (c) 2 dL/dout", "abc"),
    Question("12.q1", 12, "choice", "which changes a digit's label: (a) a 2-pixel shift (b) a 10-degree rotation "
                                    "(c) a 180-degree rotation of a 6 (d) erasing 4 % of the image", "abcd"),
    Question("12.q2", 12, "int", "different windows random_shift can choose for one 28x28 image with max_shift=2"),
]

_BY_ID = {q.id: q for q in QUESTIONS}
_ORDER = {q.id: i for i, q in enumerate(QUESTIONS)}  # answers.json lists answers in course order


def get_question(key: str) -> Question:
    try:
        return _BY_ID[str(key).strip()]
    except KeyError:
        fail("answer", "question must be one of " + ", ".join(_BY_ID), f"question={key!r}")


def questions_of(chapter: int) -> list[Question]:
    return [q for q in QUESTIONS if q.chapter == chapter]


def answers_path() -> Path:
    """``answers.json`` in the course's folder (beside ``cnnlib/``), or ``CNNLIB_ANSWERS``."""
    return Path(os.environ.get("CNNLIB_ANSWERS") or Path(__file__).resolve().parents[1] / "answers.json")


def normalize(q: Question, value):
    """The answer as JSON stores it, or ValueError/TypeError naming the rule."""
    func = f"answer({q.id!r}, ...)"
    if q.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
        require(ok, func, "the answer must be a whole number", f"{value!r}", TypeError)
        return int(value)
    if q.kind == "float":
        require(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), func,
                "the answer must be a finite number", f"{value!r}", TypeError)
        return float(value)
    if q.kind == "choice":
        require(isinstance(value, str) and value.strip().lower() in q.choices, func,
                f"the answer must be one of the letters {', '.join(q.choices)}", f"{value!r}")
        return value.strip().lower()
    require(isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value),
            func, "the answer must be a shape: a tuple of ints such as (3, 4)", f"{value!r}", TypeError)
    return list(value)


def load_answers(path: Path | None = None) -> dict:
    """The recorded answers ``{id: value}``; {} when there are none. A damaged file is named, not ignored."""
    path = Path(path or answers_path())
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} cannot be read as JSON ({e}): fix it, or delete it to answer again") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object {{question id: answer}}")
    return data


def record(q: Question, value) -> None:
    """Keep ``value`` as the answer to ``q`` in the answers file (atomically; other answers kept)."""
    path = answers_path()
    answers = load_answers(path)
    answers[q.id] = value
    with atomic_write(path, "w") as f:
        json.dump(dict(sorted(answers.items(), key=lambda kv: _ORDER.get(kv[0], len(QUESTIONS)))), f, indent=1)
        f.write("\n")

