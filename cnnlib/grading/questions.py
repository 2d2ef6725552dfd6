"""Grading the concept checks: the recorded answer against the reference, with a hint for the usual mistakes.

An answer is data (a number, a letter, a shape read from ``answers.json``), never
code, so it is graded here without a sandbox. A hint names the mistake behind a
wrong answer, not the answer.
"""
from __future__ import annotations

import math

from ..questions import QUESTIONS, get_question, load_answers, normalize
from .core import Result

# question id -> [(a wrong answer, what is behind it)]
MISTAKES = {
    "1.q1": [(12, "count the first window (+ 1) and the padding on both sides (2p)."),
             (14, "the division rounds down: a window that does not fit is not computed.")],
    "1.q2": [(9, "the windows of successive layers overlap: each 3x3 layer adds 3 - 1 pixels, not 3."),
             (27, "with stride 1, receptive fields grow by addition, not multiplication.")],
    "2.q1": [(64, "that is one image: the batch has two."), (384, "channels live inside a window: they are not "
                                                                  "separate windows."),
             (1152, "that counts window entries (windows x C_in kH kW); count the windows.")],
    "2.q2": [((16, 128), "the windows are the rows: (windows, K) @ (K, C_out)."),
             ((2, 8, 8, 16), "that is after a reshape: the GEMM itself is 2-D.")],
    "3.q1": [("a", "dweight pairs dout with what the weight multiplied in the forward pass."),
             ("c", "dweight pairs dout with what the weight multiplied in the forward pass.")],
    "3.q2": [("a", "1e-2 is what a bug (or float32) looks like."),
             ("c", "finite differences carry truncation and rounding error: never exactly 0.")],
    "4.q1": [(4, "a pooling layer has a window, but nothing is learned.")],
    "4.q2": [(4, "that is average pooling: max pooling's output depends on one entry of the window.")],
    "5.q1": [(3136 * 128, "the bias adds one parameter per output."),
             (3136 + 128, "the weight has one entry per (input, output) pair.")],
    "5.q2": [(1.0, "the gradient is p - y, and both p and y sum to 1."),
             (-1.0, "the gradient is p - y, and both p and y sum to 1.")],
    "6.q1": [(0.01, "the velocity builds up over steps: solve v = mu v + g for the steady v."),
             (0.009, "the velocity builds up over steps: solve v = mu v + g for the steady v.")],
    "6.q2": [(0.0, "the warm-up's first step already moves: step s uses (s + 1) / W of the peak."),
             (1.0, "the rate climbs during the warm-up: it starts far below the peak.")],
    "7.q1": [(256, "the running mean and variance are buffers, updated but not learned."),
             (64, "each channel has a scale and a shift.")],
    "7.q2": [(0.75, "kept values are divided by the probability of keeping them, not multiplied."),
             (4.0, "the probability of keeping a value is 1 - p.")],
    "8.q1": [(421, "54,000 / 128 = 421.9: the last, smaller batch is a step too (round up)."),
             (469, "the validation digits are held out: count the 54,000 training digits only.")],
    "8.q2": [("b", "the update moves the parameters but runs no forward pass: the caches are those of the forward "
                   "before it."),
             ("c", "the optimizer only reads the gradients and writes the parameters; nothing clears a cache.")],
    "10.q1": [(2 / 288, "that is the variance: the standard deviation is its square root."),
              (math.sqrt(1 / 288), "check the gain (what ReLU keeps of E[z**2]) and the fan (fan_in or fan_out?)."),
              (math.sqrt(2 / 9), "fan_in counts every input channel too: C_in kH kW.")],
    "10.q2": [(0.1, "that is the probability of each class; the loss is -log of the true class's probability."),
              (-math.log(10), "the loss is -log p: positive.")],
    "11.q1": [(64 * 128 * 3 * 3, "that is a full 3x3 convolution 64 -> 128: the separable block splits it into "
                                  "a per-channel 3x3 and a 1x1 that mixes."),
              (64 * 64 * 9 + 64 * 128, "a depthwise filter sees one channel only: 3 x 3 weights per channel, not "
                                       "per pair of channels."),
              (64 * 9, "the 1x1 convolution has weights too: one per (input, output) channel pair."),
              (64 * 128, "the depthwise convolution has weights too: 3 x 3 per channel."),
              (64 * 9 + 64 * 128 + 64 + 128, "both layers are without bias.")],
    "11.q2": [("a", "a dead branch stops only its own path: the shortcut still carries the gradient to x."),
              ("c", "the branch's path contributes 0 here: the sum at the fork is dL/dout + 0.")],
    "12.q1": [("a", "a digit two pixels to the left is still the same digit: that is why shifting helps."),
              ("b", "people write digits a few degrees tilted either way: a 10-degree turn keeps the label."),
              ("d", "a small patch hides part of the stroke, but the digit is still readable.")],
    "12.q2": [(5, "5 corners along each axis, and the two axes are drawn independently."),
              (16, "the corner runs over 0 .. 2 * max_shift inclusive: 5 values per axis, not 4."),
              (9, "max_shift = 2 moves up to 2 pixels either way: -2 .. 2 is 5 values per axis."),
              (1024, "the padded image has 32 x 32 pixels, but a 28 x 28 window fits at only 5 positions per axis.")],
}


def matches(q, given, expected) -> bool:
    if q.kind == "float":
        return math.isclose(float(given), float(expected), rel_tol=5e-3, abs_tol=1e-9)
    if q.kind == "shape":
        return tuple(given) == tuple(expected)
    return given == expected


def check_answer(qid: str, value) -> Result:
    """The verdict on one answer (not recorded): done, or wrong with the hint for the mistake it matches."""
    from solutions.answers import ANSWERS
    q = get_question(qid)
    given = normalize(q, value)
    if matches(q, given, ANSWERS[q.id]):
        return Result(q.id, "done", 1, 1)
    hint = next((h for wrong, h in MISTAKES.get(q.id, ()) if matches(q, given, normalize(q, wrong))),
                "go back to the derivation in the chapter and redo it on paper.")
    return Result(q.id, "wrong", 0, 1, "the answer", f"your answer {value!r} is not right.\nHint: {hint}")


def grade_questions(ids=()) -> dict[str, Result]:
    """Every question's verdict from the answers file (or the given ids): not started when unanswered."""
    try:
        answers = load_answers()
    except ValueError as e:
        return {q.id: Result(q.id, "broken", 0, 1, "", str(e)) for q in QUESTIONS if not ids or q.id in ids}
    results = {}
    for q in QUESTIONS:
        if ids and q.id not in ids:
            continue
        if q.id not in answers:
            results[q.id] = Result(q.id, "not started", 0, 1)
            continue
        try:
            results[q.id] = check_answer(q.id, answers[q.id])
        except (TypeError, ValueError) as e:
            results[q.id] = Result(q.id, "broken", 0, 1, "", f"answers.json holds {answers[q.id]!r}: {e}")
    return results
