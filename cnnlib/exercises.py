"""The exercise registry and the solution switch (chapter 00).

Every exercise of the course has an id (``"2.3"``), a name (``conv2d_forward``),
a chapter and a one-line description, listed once in ``EXERCISES``. The
autograder, the notebooks, the CLI and the docs all read this list.

In ``cnnlib`` each exercise is a stub decorated with ``@exercise``. The
decorator lets any exercise run its reference twin from ``solutions/``
instead, so a learner stuck in chapter 3 can still train in chapter 8:

    CNNLIB_SOLUTIONS=all            every exercise runs reference code
    CNNLIB_SOLUTIONS=2.3,relu_forward   just these (ids or names)

or from Python, ``cnnlib.use_solutions("2.3")`` (also a context manager).
"""
from __future__ import annotations

import functools
import importlib
import os
import time
from dataclasses import dataclass

from cnnlib import threads


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    chapter: int
    module: str  # cnnlib.<module> holds the stub, solutions.<module> the reference
    description: str
    uses: tuple = ()  # exercises it calls (through cnnlib.ops): graded with their reference, so verdicts stay apart

    @property
    def pytorch(self) -> str:
        """What the exercise is called in PyTorch (where the course's name differs, the one it mirrors)."""
        return PYTORCH_NAMES[self.name]

    @property
    def marker(self) -> str:
        """The pytest marker that grades this exercise alone: ``pytest -m ex2_3``."""
        return "ex" + self.id.replace(".", "_")


CHAPTERS = {
    0: "How the course works, and the NumPy you need",
    1: "Convolution by hand",
    2: "Fast convolution: im2col and one GEMM",
    3: "Backpropagation through convolution",
    4: "Activations and pooling",
    5: "The linear layer and the losses",
    6: "Optimizers and learning-rate schedules",
    7: "Batch normalization and dropout",
    8: "Training a CNN on full MNIST",
    9: "Looking inside the network",
    10: "Initialization and debugging a network",
    11: "Residual networks and modern blocks",
    12: "Data augmentation and the capstone",
}

EXERCISES = [
    Exercise("0.1", "zero_pad", 0, "arrays", "pad the two spatial axes of an (N, C, H, W) batch with zeros"),
    Exercise("0.2", "one_hot", 0, "arrays", "turn integer labels into one-hot rows"),
    Exercise("1.1", "conv_output_size", 1, "conv", "the output-size formula of a convolution"),
    Exercise("1.2", "conv2d_naive", 1, "conv", "2-D cross-correlation with explicit loops"),
    Exercise("2.1", "im2col", 2, "conv", "unfold every receptive field into a row"),
    Exercise("2.2", "col2im", 2, "conv", "fold rows back, summing where windows overlap"),
    Exercise("2.3", "conv2d_forward", 2, "conv", "convolution as one matrix multiplication"),
    Exercise("3.1", "numerical_gradient", 3, "gradcheck", "centred finite differences of a function's output"),
    Exercise("3.2", "conv2d_backward", 3, "conv", "gradients of a convolution for any stride and padding"),
    Exercise("4.1", "relu_forward", 4, "activations", "ReLU"),
    Exercise("4.2", "relu_backward", 4, "activations", "gradient of ReLU"),
    Exercise("4.3", "maxpool2d_forward", 4, "pooling", "max pooling with any kernel, stride and padding"),
    Exercise("4.4", "maxpool2d_backward", 4, "pooling", "gradient of max pooling"),
    Exercise("4.5", "avgpool2d_forward", 4, "pooling", "average pooling"),
    Exercise("4.6", "avgpool2d_backward", 4, "pooling", "gradient of average pooling"),
    Exercise("5.1", "linear_forward", 5, "linear", "the fully connected layer"),
    Exercise("5.2", "linear_backward", 5, "linear", "gradients of the fully connected layer"),
    Exercise("5.3", "softmax", 5, "losses", "numerically stable softmax"),
    Exercise("5.4", "softmax_cross_entropy", 5, "losses", "mean cross-entropy of logits and its gradient"),
    Exercise("5.5", "mse_loss", 5, "losses", "mean squared error and its gradient"),
    Exercise("6.1", "sgd_step", 6, "updates", "SGD with momentum, Nesterov and weight decay"),
    Exercise("6.2", "adam_step", 6, "updates", "Adam"),
    Exercise("6.3", "adamw_step", 6, "updates", "AdamW: Adam with decoupled weight decay"),
    Exercise("6.4", "cosine_lr", 6, "updates", "cosine learning-rate schedule with linear warm-up"),
    Exercise("7.1", "batchnorm_forward", 7, "normalization", "batch normalization of (N, D) features"),
    Exercise("7.2", "batchnorm_backward", 7, "normalization", "gradients of batch normalization"),
    Exercise("7.3", "spatial_batchnorm_forward", 7, "normalization", "batch normalization of (N, C, H, W) maps"),
    Exercise("7.4", "spatial_batchnorm_backward", 7, "normalization", "gradients of spatial batch normalization"),
    Exercise("7.5", "dropout_forward", 7, "dropout", "inverted dropout"),
    Exercise("7.6", "dropout_backward", 7, "dropout", "gradient of dropout"),
    Exercise("7.7", "spatial_dropout_forward", 7, "dropout", "dropout of whole channels"),
    Exercise("8.1", "training_step", 8, "training", "one optimizer step: forward, loss, backward, update"),
    Exercise("10.1", "fan_in_and_fan_out", 10, "initialization", "the fans of a linear or convolution weight"),
    Exercise("10.2", "kaiming_normal", 10, "initialization", "He initialization, for ReLU networks"),
    Exercise("10.3", "xavier_uniform", 10, "initialization", "Glorot initialization, for tanh or linear layers"),
    Exercise("10.4", "network_gradient_errors", 10, "debugging",
             "a whole network's backward pass against finite differences", uses=("numerical_gradient",)),
    Exercise("11.1", "global_avgpool_forward", 11, "blocks", "global average pooling: one mean per channel"),
    Exercise("11.2", "global_avgpool_backward", 11, "blocks", "gradient of global average pooling"),
    Exercise("11.3", "depthwise_conv2d_forward", 11, "blocks", "depthwise convolution: one filter per channel"),
    Exercise("11.4", "depthwise_conv2d_backward", 11, "blocks", "gradients of depthwise convolution"),
    Exercise("11.5", "residual_forward", 11, "blocks", "a residual block's join: add the shortcut, then ReLU"),
    Exercise("11.6", "residual_backward", 11, "blocks", "a residual block's backward: gradients add at the fork"),
    Exercise("11.7", "pointwise_conv2d_forward", 11, "blocks", "1x1 convolution: one matrix product over channels"),
    Exercise("11.8", "pointwise_conv2d_backward", 11, "blocks", "gradients of the 1x1 convolution"),
    Exercise("12.1", "random_shift", 12, "augmentation", "shift each image at random: zero-pad, then crop"),
    Exercise("12.2", "rotate", 12, "augmentation", "rotate images about their centre by bilinear interpolation"),
    Exercise("12.3", "random_erasing", 12, "augmentation", "fill one random rectangle of some images"),
]

# The PyTorch function (or class) each exercise mirrors; F is torch.nn.functional.
PYTORCH_NAMES = {
    "zero_pad": "F.pad", "one_hot": "F.one_hot", "conv_output_size": "the Shape formula of nn.Conv2d",
    "conv2d_naive": "F.conv2d", "im2col": "F.unfold", "col2im": "F.fold", "conv2d_forward": "F.conv2d",
    "numerical_gradient": "torch.autograd.gradcheck (its numerical half)",
    "conv2d_backward": "autograd through F.conv2d", "relu_forward": "F.relu", "relu_backward": "autograd through F.relu",
    "maxpool2d_forward": "F.max_pool2d", "maxpool2d_backward": "autograd through F.max_pool2d",
    "avgpool2d_forward": "F.avg_pool2d", "avgpool2d_backward": "autograd through F.avg_pool2d",
    "linear_forward": "F.linear", "linear_backward": "autograd through F.linear", "softmax": "F.softmax",
    "softmax_cross_entropy": "F.cross_entropy", "mse_loss": "F.mse_loss", "sgd_step": "torch.optim.SGD",
    "adam_step": "torch.optim.Adam", "adamw_step": "torch.optim.AdamW",
    "cosine_lr": "torch.optim.lr_scheduler.CosineAnnealingLR (after LinearLR warm-up)",
    "batchnorm_forward": "F.batch_norm (nn.BatchNorm1d)", "batchnorm_backward": "autograd through F.batch_norm",
    "spatial_batchnorm_forward": "F.batch_norm (nn.BatchNorm2d)",
    "spatial_batchnorm_backward": "autograd through F.batch_norm", "dropout_forward": "F.dropout",
    "dropout_backward": "autograd through F.dropout", "spatial_dropout_forward": "F.dropout2d",
    "fan_in_and_fan_out": "torch.nn.init._calculate_fan_in_and_fan_out", "kaiming_normal": "torch.nn.init.kaiming_normal_",
    "xavier_uniform": "torch.nn.init.xavier_uniform_", "network_gradient_errors": "torch.autograd.gradcheck",
    "random_shift": "torchvision.transforms.RandomCrop(28, padding=2)",
    "rotate": "F.grid_sample(x, F.affine_grid(theta, ...), align_corners=True)",
    "random_erasing": "torchvision.transforms.RandomErasing",
    "global_avgpool_forward": "F.adaptive_avg_pool2d(x, 1).flatten(1)",
    "global_avgpool_backward": "autograd through F.adaptive_avg_pool2d",
    "depthwise_conv2d_forward": "F.conv2d(..., groups=C)", "depthwise_conv2d_backward": "autograd through F.conv2d(..., groups=C)",
    "residual_forward": "F.relu(branch(x) + shortcut(x)) (torchvision's BasicBlock)",
    "residual_backward": "autograd through a BasicBlock",
    "pointwise_conv2d_forward": "F.conv2d with a 1x1 kernel (nn.Conv2d(C_in, C_out, 1))",
    "pointwise_conv2d_backward": "autograd through F.conv2d with a 1x1 kernel",
    "training_step": "the loop body: optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()",
}

_BY_KEY = {**{e.id: e for e in EXERCISES}, **{e.name: e for e in EXERCISES}}


def get_exercise(key: str) -> Exercise:
    """Look an exercise up by id (``"2.3"``) or name (``"conv2d_forward"``)."""
    try:
        return _BY_KEY[str(key).strip()]
    except KeyError:
        valid = ", ".join(f"{e.id} {e.name}" for e in EXERCISES)
        raise ValueError(f"unknown exercise {key!r}; valid ids and names are: {valid}") from None


def exercises_of(chapter: int) -> list[Exercise]:
    return [e for e in EXERCISES if e.chapter == chapter]


# ----------------------------------------------------------------------------
# The solution switch

_switched_on: set[str] = set()  # names of exercises that run reference code


def _parse(spec) -> set[str]:
    if spec is None or spec is False:
        return set()
    if spec is True:
        spec = "all"
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names = set()
    for item in items:
        item = str(item).strip()
        if item.lower() == "all":
            names |= {e.name for e in EXERCISES}
        elif item:
            names.add(get_exercise(item).name)
    return names


class _Restore:
    """What ``use_solutions`` and ``strict`` return: ``with`` puts the previous setting back on exit."""

    def __init__(self, restore):
        self._restore = restore

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._restore()


def use_solutions(*which) -> _Restore:
    """Run the reference solution of the given exercises instead of yours.

    ``use_solutions("all")``, ``use_solutions("2.3", "relu_forward")``,
    ``use_solutions(None)`` (everything back to your code). Works as a
    context manager too: ``with use_solutions("all"): ...``.
    """
    previous = set(_switched_on)

    def restore():
        _switched_on.clear()
        _switched_on.update(previous)

    names = set()
    for spec in which:
        names |= _parse(spec)
    _switched_on.clear()
    _switched_on.update(names)
    return _Restore(restore)


def solutions_in_use() -> list[Exercise]:
    """The exercises that currently run reference code, in course order."""
    return [e for e in EXERCISES if e.name in _switched_on]


def describe_switch() -> str:
    """One line saying which exercises run reference code (shown by notebooks and the CLI)."""
    on = solutions_in_use()
    if not on:
        return "Reference solutions: off (every exercise runs your code)."
    if len(on) == len(EXERCISES):
        return "Reference solutions: ON for every exercise."
    return "Reference solutions: ON for " + ", ".join(f"{e.id} {e.name}" for e in on) + "."


def reference(name: str):
    """The reference implementation of an exercise (from ``solutions/``)."""
    ex = get_exercise(name)
    return getattr(importlib.import_module(f"solutions.{ex.module}"), ex.name)


# ----------------------------------------------------------------------------
# Calling an exercise: yours, or the reference when yours cannot run yet

_strict = os.environ.get("CNNLIB_STRICT", "").strip().lower() in ("1", "true", "yes", "on")
_noted: set = set()  # (exercise name, notebook cell) pairs already announced


def strict(on: bool = True) -> _Restore:
    """Strict mode: an exercise that is not started (or whose file does not import) raises.

    Off by default, so that Run All reaches the end of a chapter on day 1: such an
    exercise runs the reference instead, and the cell says so. ``CNNLIB_STRICT=1``
    switches it on from the start; the autograder always grades strictly. Works
    as a context manager too: ``with cnnlib.strict(): ...``.
    """
    global _strict
    previous, _strict = _strict, bool(on)

    def restore():
        global _strict
        _strict = previous

    return _Restore(restore)


class ExerciseFileError(ImportError):
    """A learner's exercise file that does not import (a syntax error, an error at import time)."""


def learner_function(ex: Exercise):
    """Your function for ``ex``, from ``cnnlib/<module>.py``, whatever the switch says.

    Raises ExerciseFileError when the file does not import or does not define it.
    """
    try:
        module = importlib.import_module(f"cnnlib.{ex.module}")
    except Exception as e:  # a SyntaxError, or anything the file raises while it is imported
        raise ExerciseFileError(f"cnnlib/{ex.module}.py does not import: {describe_error(e)}") from e
    fn = getattr(module, ex.name, None)
    if not callable(fn):
        raise ExerciseFileError(f"cnnlib/{ex.module}.py has no function {ex.name} (deleted or renamed?)")
    return getattr(fn, "learner", fn)


def describe_error(e: BaseException) -> str:
    """``SyntaxError at line 12: invalid syntax``: an error with the place in a learner file that raised it."""
    if isinstance(e, SyntaxError):
        return f"{type(e).__name__} at line {e.lineno}: {e.msg}"
    tb, line = e.__traceback__, None
    while tb is not None:  # the innermost frame in a cnnlib exercise file
        name = tb.tb_frame.f_code.co_filename.replace(os.sep, "/")
        if any(name.endswith(f"/cnnlib/{m}.py") for m in _MODULES):
            line = f"cnnlib/{name.rsplit('/cnnlib/', 1)[1]}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(e).__name__}: {e}" + (f" ({line})" if line else "")


def note_reference(ex: Exercise, why: str) -> None:
    """Say once per notebook cell (once per process outside IPython) that reference code ran."""
    try:
        cell = __import__("IPython").get_ipython().execution_count
    except Exception:
        cell = None
    if (ex.name, cell) not in _noted:
        hint = "" if _noted else " (cnnlib.strict() stops here instead)"  # said once is enough
        _noted.add((ex.name, cell))
        shows = "this cell shows the reference result" if cell is not None else "the reference runs instead"
        print(f"[reference] {ex.id} {ex.name} {why}: {shows}; write yours in cnnlib/{ex.module}.py{hint}.")


observers: list = []  # functions observe(ex, args, seconds) told of every call (cnnlib.profiling)
_nested: list = []    # while observed: the seconds spent in the exercises each running call has called


def call(ex: Exercise, learner, args, kwargs):
    """Run exercise ``ex``: the reference when switched on, else the learner's function.

    ``learner`` is the learner's function, or None to look it up in its file.
    Outside strict mode, an exercise that is not started, or whose file does not
    import, runs the reference and says so. Observers are told the seconds the
    call took, less those of the exercises it called. Each call first lets
    ``cnnlib.threads`` re-choose the BLAS threads for the machine's load.
    """
    threads.adapt()
    if not observers:
        return _call(ex, learner, args, kwargs)
    _nested.append(0.0)
    start = time.perf_counter()
    try:
        return _call(ex, learner, args, kwargs)
    finally:
        seconds = time.perf_counter() - start
        own = seconds - _nested.pop()
        if _nested:
            _nested[-1] += seconds
        for observe in list(observers):
            observe(ex, args, own)


def _call(ex: Exercise, learner, args, kwargs):
    if ex.name in _switched_on:
        return reference(ex.name)(*args, **kwargs)
    try:
        fn = learner or learner_function(ex)
    except ExerciseFileError as e:
        if _strict:
            raise
        note_reference(ex, f"cannot run ({e})")
        return reference(ex.name)(*args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        if _strict:
            raise
        note_reference(ex, "is not started")
        return reference(ex.name)(*args, **kwargs)


def exercise(stub):
    """Mark a function in ``cnnlib`` as the stub of a registered exercise.

    The returned function calls the learner's code, or the reference solution
    when the switch is on for this exercise (see ``call``).
    """
    ex = get_exercise(stub.__name__)

    @functools.wraps(stub)
    def dispatch(*args, **kwargs):
        return call(ex, stub, args, kwargs)

    dispatch.exercise = ex
    dispatch.learner = stub  # the learner's code, whatever the switch says
    return dispatch


_MODULES = sorted({e.module for e in EXERCISES})
use_solutions(os.environ.get("CNNLIB_SOLUTIONS"))
