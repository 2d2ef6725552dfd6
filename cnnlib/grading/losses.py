"""Checks for softmax and the losses (chapter 05: softmax, softmax_cross_entropy, mse_loss)."""
from __future__ import annotations

import numpy as np

from .core import (REF, Frozen, GradingError, check, compare, compare_gradient, describe_inputs, expect_raises,
                   expect_tuple)

# (N, K): batch 1, two classes, ten classes, more classes than rows and the other way round
CONFIGS = [(1, 3), (2, 2), (4, 10), (7, 3), (3, 11), (16, 10), (5, 1)]


def random_logits(cfg, seed: int, scale: float = 3.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    N, K = cfg
    return (scale * rng.standard_normal((N, K))).astype(dtype), rng.integers(0, K, N)


def extreme_logits(dtype=np.float64):
    """Rows around +1000, -1000, 0 and 500, one with a label 1000 below its row's maximum (fresh copies)."""
    logits = np.array([[1000.0, 999.0, 998.0],
                       [-1000.0, -1001.0, -999.5],
                       [0.5, -0.5, 0.0],
                       [500.0, -500.0, 0.0]], dtype=dtype)
    return logits, np.array([0, 2, 1, 1])


def _quiet(fn, *args):
    """Call learner code with NumPy's overflow warnings silenced (the check reports what they lead to)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return fn(*args)


def _loss_pair(impl, name, *args):
    """Call a loss; return (loss as a float, gradient), failing helpfully when the loss is not one number."""
    loss, grad = expect_tuple(_quiet(getattr(impl, name), *args), 2, name)
    if not isinstance(loss, (float, np.floating)):
        hint = "return the loss as a Python float, e.g. float(np.mean(...))."
        if np.ndim(loss) >= 1:
            hint = "average the per-element losses into one number (np.mean), then return float(...)."
        raise GradingError(f"{name} must return the loss as a float, received {type(loss).__name__} "
                           f"of shape {np.shape(loss)}", hint)
    return float(loss), grad


def _require_finite(value, what: str, hint: str) -> None:
    if not np.all(np.isfinite(value)):
        raise GradingError(f"{what} contains NaN or inf for logits around +-1000", hint)


# ---------------------------------------------------------------------------- 5.3 softmax

def softmax_hints(logits):
    e = np.exp(logits - logits.max())
    return [(e / e.sum(axis=0, keepdims=True), "normalise each row: sum over the classes (axis=1), not over the "
                                               "batch (axis=0)."),
            (e / e.sum(), "divide by each row's own sum (axis=1, keepdims=True), not by the sum of everything.")]


@check("softmax", "hand-computed case")
def _(impl):
    logits = np.log(np.array([[1.0, 2.0, 5.0], [1.0, 1.0, 2.0]])) + np.array([[7.0], [-3.0]])
    compare(impl.softmax(logits.copy()), [[0.125, 0.25, 0.625], [0.25, 0.25, 0.5]], "softmax",
            "logits = log([[1, 2, 5], [1, 1, 2]]) + [[7], [-3]]", hints=softmax_hints(logits))


@check("softmax", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        logits, _ = random_logits(cfg, seed=i)
        compare(impl.softmax(logits), REF.softmax(logits), "softmax", describe_inputs(logits=logits),
                rtol=1e-7, atol=1e-12, hints=softmax_hints(logits))


@check("softmax", "stays finite for logits around +-1000 (no overflow)")
def _(impl):
    logits, _ = extreme_logits()
    probs = _quiet(impl.softmax, logits)
    _require_finite(probs, "softmax", "exp(1000) overflows to inf and exp(-1000) underflows to 0. Subtract "
                    "each row's own maximum first (logits.max(axis=1, keepdims=True)): softmax does not change, "
                    "and the largest exponential of every row becomes exp(0) = 1.")
    compare(probs, REF.softmax(logits), "softmax", "logits around +-1000")


@check("softmax", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    logits, _ = random_logits((6, 10), seed=20, dtype=np.float32)
    frozen = Frozen(logits=logits)
    probs = impl.softmax(logits)
    frozen.verify("softmax")
    compare(probs, REF.softmax(logits), "softmax", "float32 logits", rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------- 5.4 softmax_cross_entropy

def ce_hints(logits, labels):
    """(loss hints, gradient hints) for the mistakes learners make most."""
    N, K = logits.shape
    loss, grad = REF.softmax_cross_entropy(logits, labels)
    p, y = REF.softmax(logits), np.eye(K)[labels]
    with np.errstate(divide="ignore"):  # log(0) where a probability underflowed: no hint matches, no warning
        picked_columns = float(np.mean(-np.log(p[:, labels])))
    loss_hints = [(loss * N, "average over the batch: divide the summed loss by N."),
                  (-loss, "the cross-entropy is -log(p[n, label]): mind the minus sign."),
                  (picked_columns, "logits[:, labels] picks whole columns, an (N, N) "
                   "array: each row needs one entry, the one in its own label's column.")]
    grad_hints = [(p - y, "divide the gradient by N: the loss is a mean over the batch."),
                  ((y - p) / N, "the sign is flipped: the loss falls as the true class's logit rises."),
                  (p / N, "subtract 1 at each row's true class: (softmax - one_hot) / N."),
                  ((p - y) / (N * K), "divide by N (the batch size) only, not by N*K.")]
    return loss_hints, grad_hints


def _ce_compare(impl, logits, labels, desc, rtol=1e-7, atol=1e-10):
    loss, grad = _loss_pair(impl, "softmax_cross_entropy", logits.copy(), labels.copy())
    exp_loss, exp_grad = REF.softmax_cross_entropy(logits, labels)
    loss_hints, grad_hints = ce_hints(logits, labels)
    compare(loss, exp_loss, "the loss", desc, rtol=rtol, atol=atol, check_dtype=False, hints=loss_hints)
    compare(grad, exp_grad, "dlogits", desc, rtol=rtol, atol=atol, hints=grad_hints)


@check("softmax_cross_entropy", "hand-computed case")
def _(impl):
    logits = np.log(np.array([[1.0, 2.0, 5.0], [1.0, 1.0, 2.0]]))
    labels = np.array([2, 0])
    desc = "logits = log([[1, 2, 5], [1, 1, 2]]), labels = [2, 0]"
    loss, grad = _loss_pair(impl, "softmax_cross_entropy", logits.copy(), labels.copy())
    loss_hints, grad_hints = ce_hints(logits, labels)
    # softmax rows [1/8, 2/8, 5/8] and [1/4, 1/4, 2/4]: loss = (-log(5/8) - log(1/4)) / 2
    compare(loss, 0.928149, "the loss", desc, check_dtype=False, hints=loss_hints)
    compare(grad, [[0.0625, 0.125, -0.1875], [-0.375, 0.125, 0.25]], "dlogits", desc, hints=grad_hints)


@check("softmax_cross_entropy", "matches the reference on random inputs")
def _(impl):
    for i, cfg in enumerate(CONFIGS):
        logits, labels = random_logits(cfg, seed=30 + i)
        if i == 3:
            labels = labels.astype(np.uint8)  # any integer dtype is a valid label
        _ce_compare(impl, logits, labels, describe_inputs(logits=logits) + f", labels={labels.tolist()}")


@check("softmax_cross_entropy", "dlogits agrees with the numerical gradient of the loss (float64)")
def _(impl):
    logits, labels = random_logits((4, 5), seed=40, scale=1.0)
    _, grad = _loss_pair(impl, "softmax_cross_entropy", logits.copy(), labels.copy())
    compare_gradient(grad, lambda v: REF.softmax_cross_entropy(v, labels)[0], logits, np.array(1.0),
                     "dlogits", describe_inputs(logits=logits))


@check("softmax_cross_entropy", "stays finite for logits around +-1000 (no overflow)")
def _(impl):
    logits, labels = extreme_logits()
    loss, grad = _loss_pair(impl, "softmax_cross_entropy", logits, labels)
    _require_finite(loss, "the loss", "compute log(softmax) as shifted - log(sum(exp(shifted))) with "
                    "shifted = logits - row max; never take the log of a probability that underflowed to 0.")
    _require_finite(grad, "dlogits", "subtract each row's maximum before exp (see softmax).")
    _ce_compare(impl, logits, labels, "logits around +-1000", rtol=1e-6)


@check("softmax_cross_entropy", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    logits, labels = random_logits((8, 10), seed=50, dtype=np.float32)
    frozen = Frozen(logits=logits, labels=labels)
    loss, grad = _loss_pair(impl, "softmax_cross_entropy", logits, labels)
    frozen.verify("softmax_cross_entropy")
    exp_loss, exp_grad = REF.softmax_cross_entropy(logits, labels)
    compare(loss, exp_loss, "the loss", "float32 logits", rtol=1e-5, check_dtype=False)
    compare(grad, exp_grad, "dlogits", "float32 logits", rtol=1e-4, atol=1e-6)


@check("softmax_cross_entropy", "rejects bad labels with a clear error")
def _(impl):
    logits, labels = random_logits((4, 3), seed=60)
    impl.softmax_cross_entropy(logits, labels)  # a valid call first
    expect_raises(TypeError, impl.softmax_cross_entropy, logits, labels.astype(np.float64),
                  what="softmax_cross_entropy with float labels")
    expect_raises(ValueError, impl.softmax_cross_entropy, logits, labels[:3],
                  what="softmax_cross_entropy with 3 labels for 4 rows")
    for bad in (np.array([0, 1, 3, 2]), np.array([0, -1, 2, 1])):
        try:
            impl.softmax_cross_entropy(logits, bad)
        except ValueError as e:
            if "0 .. 2" not in str(e):
                raise GradingError(f"the ValueError for labels {bad.tolist()} with K = 3 classes should name the "
                                   f"valid range 0 .. 2; its message was: {e}") from None
        else:
            raise GradingError(f"softmax_cross_entropy with labels {bad.tolist()} and K = 3 classes: expected "
                               "ValueError, but nothing was raised", "keep the check_labels line of the stub.")


# ---------------------------------------------------------------------------- 5.5 mse_loss

def mse_hints(pred, target):
    diff = pred - target
    return ([(float(np.sum(diff ** 2)), "average over all elements (np.mean), not the sum."),
             (float(np.sum(diff ** 2) / len(pred)), "average over every element (pred.size), not only over N."),
             (float(np.mean(np.abs(diff))), "square the differences (that is the L1 loss).")],
            [(diff / diff.size, "the derivative of d**2 is 2*d: multiply by 2."),
             (2 * diff, "divide by the number of elements, pred.size: the loss is a mean."),
             (2 * diff / len(pred), "divide by pred.size (all elements), not by N."),
             (-2 * diff / diff.size, "the sign is flipped: d/dpred (pred - target)**2 = 2 * (pred - target).")])


def _mse_compare(impl, pred, target, desc, rtol=1e-7, atol=1e-10):
    loss, grad = _loss_pair(impl, "mse_loss", pred.copy(), target.copy())
    exp_loss, exp_grad = REF.mse_loss(pred, target)
    loss_hints, grad_hints = mse_hints(pred, target)
    compare(loss, exp_loss, "the loss", desc, rtol=rtol, atol=atol, check_dtype=False, hints=loss_hints)
    compare(grad, exp_grad, "dpred", desc, rtol=rtol, atol=atol, hints=grad_hints)


@check("mse_loss", "hand-computed case")
def _(impl):
    pred, target = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [5.0, 1.0]])
    desc = "pred = [[1, 2], [3, 4]], target = [[0, 2], [5, 1]]"
    loss, grad = _loss_pair(impl, "mse_loss", pred.copy(), target.copy())
    loss_hints, grad_hints = mse_hints(pred, target)
    compare(loss, 3.5, "the loss", desc, check_dtype=False, hints=loss_hints)  # (1 + 0 + 4 + 9) / 4
    compare(grad, [[0.5, 0.0], [-1.0, 1.5]], "dpred", desc, hints=grad_hints)  # 2 * (pred - target) / 4


@check("mse_loss", "matches the reference on random inputs of any shape")
def _(impl):
    rng = np.random.default_rng(70)
    for shape in [(1,), (5,), (1, 1), (4, 3), (2, 10), (3, 2, 4), (2, 1, 5, 5)]:
        pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
        _mse_compare(impl, pred, target, describe_inputs(pred=pred))


@check("mse_loss", "dpred agrees with the numerical gradient of the loss (float64)")
def _(impl):
    rng = np.random.default_rng(80)
    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _, grad = _loss_pair(impl, "mse_loss", pred.copy(), target.copy())
    compare_gradient(grad, lambda v: REF.mse_loss(v, target)[0], pred, np.array(1.0), "dpred",
                     describe_inputs(pred=pred))


@check("mse_loss", "keeps dtype float32 and leaves inputs unmodified")
def _(impl):
    rng = np.random.default_rng(90)
    pred, target = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32)
    frozen = Frozen(pred=pred, target=target)
    loss, grad = _loss_pair(impl, "mse_loss", pred, target)
    frozen.verify("mse_loss")
    exp_loss, exp_grad = REF.mse_loss(pred, target)
    compare(loss, exp_loss, "the loss", "float32 inputs", rtol=1e-5, check_dtype=False)
    compare(grad, exp_grad, "dpred", "float32 inputs", rtol=1e-5, atol=1e-7)


@check("mse_loss", "rejects mismatched shapes with a clear error")
def _(impl):
    pred, target = np.ones((4, 1)), np.zeros((4, 1))
    impl.mse_loss(pred, target)  # a valid call first
    expect_raises(ValueError, impl.mse_loss, pred, np.zeros(4),
                  what="mse_loss with pred.shape=(4, 1), target.shape=(4,) (broadcasting would give 16 terms)")
