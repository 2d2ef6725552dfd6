"""Plausible wrong implementations of softmax and the losses (chapter 05), and correct alternatives."""
import numpy as np

from cnnlib.core.contracts import check_labels, check_logits
from cnnlib.core.validation import check_array, require
from solutions import losses as ref


def _softmax_naive(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _softmax_global_max(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum(axis=1, keepdims=True)


def _softmax_in_place(logits):
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _softmax_wrong_axis(logits):
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_no_keepdims(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    s = e.sum(axis=1)
    return e / (s if s.shape[0] == e.shape[1] else s[:, None])  # "fixes" the shape error only when N != K


def _ce(logits, labels, grad_scale=None, loss_sum=False, stable=True, log_prob=False, columns=False,
        sign=1.0, one_hot=True, upcast=False):
    """Cross-entropy with the knobs of common mistakes."""
    x = logits.astype(np.float64) if upcast else logits
    N = len(x)
    shifted = x - x.max(axis=1, keepdims=True) if stable else x
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(N)
    if log_prob:
        per_row = -np.log(p[rows, labels])
    elif columns:
        per_row = (np.log(e.sum(axis=1, keepdims=True)) - shifted[:, labels]).mean(axis=1)
    else:
        per_row = np.log(e.sum(axis=1)) - shifted[rows, labels]
    loss = float(per_row.sum() if loss_sum else per_row.mean())
    grad = p.copy()
    if one_hot:
        grad[rows, labels] -= 1
    grad = sign * grad / (N if grad_scale is None else grad_scale(N, x.shape[1]))
    return loss, grad


def _ce_modifies_logits(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    return ref.softmax_cross_entropy(logits, labels)


def _ce_no_label_checks(logits, labels):
    return _ce(logits, np.asarray(labels).astype(np.int64) % logits.shape[1])


def _mse(pred, target, loss_fn=np.mean, grad_fn=None, upcast=False):
    diff = (pred.astype(np.float64) if upcast else pred) - target
    loss = float(loss_fn(diff ** 2))
    return loss, (2 * diff / diff.size if grad_fn is None else grad_fn(diff))


WRONG = {
    "softmax": {
        "no max subtracted (overflows)": _softmax_naive,
        "global max subtracted": _softmax_global_max,
        "subtracts the max in place": _softmax_in_place,
        "normalises columns": _softmax_wrong_axis,
        "sum without keepdims": _softmax_no_keepdims,
        "upcasts to float64": lambda logits: ref.softmax(logits.astype(np.float64)),
    },
    "softmax_cross_entropy": {
        "gradient not divided by N": lambda lo, la: _ce(lo, la, grad_scale=lambda n, k: 1),
        "gradient divided by N*K": lambda lo, la: _ce(lo, la, grad_scale=lambda n, k: n * k),
        "loss summed": lambda lo, la: _ce(lo, la, loss_sum=True),
        "no max subtracted (overflows)": lambda lo, la: _ce(lo, la, stable=False),
        "log of the softmax probability (underflows)": lambda lo, la: _ce(lo, la, log_prob=True),
        "logits[:, labels] picks columns": lambda lo, la: _ce(lo, la, columns=True),
        "gradient sign flipped": lambda lo, la: _ce(lo, la, sign=-1.0),
        "one-hot not subtracted": lambda lo, la: _ce(lo, la, one_hot=False),
        "loss returned per row": lambda lo, la: (np.log(np.exp(lo - lo.max(1, keepdims=True)).sum(1))
                                                 - (lo - lo.max(1, keepdims=True))[np.arange(len(lo)), la],
                                                 ref.softmax_cross_entropy(lo, la)[1]),
        "upcasts to float64": lambda lo, la: _ce(lo, la, upcast=True),
        "modifies the logits": _ce_modifies_logits,
        "no label checks": _ce_no_label_checks,
    },
    "mse_loss": {
        "sum instead of mean": lambda p, t: _mse(p, t, loss_fn=np.sum),
        "mean over N only": lambda p, t: _mse(p, t, loss_fn=lambda d: d.sum() / len(d)),
        "gradient without the 2": lambda p, t: _mse(p, t, grad_fn=lambda d: d / d.size),
        "gradient not divided": lambda p, t: _mse(p, t, grad_fn=lambda d: 2 * d),
        "gradient divided by N": lambda p, t: _mse(p, t, grad_fn=lambda d: 2 * d / len(d)),
        "gradient sign flipped": lambda p, t: _mse(p, t, grad_fn=lambda d: -2 * d / d.size),
        "L1 loss": lambda p, t: _mse(p, t, loss_fn=lambda d2: np.mean(np.sqrt(d2)),
                                     grad_fn=lambda d: np.sign(d) / d.size),
        "upcasts to float64": lambda p, t: _mse(p, t, upcast=True),
        "no shape check ((4, 1) - (4,) broadcasts to (4, 4))": _mse,
    },
}


def _softmax_logsumexp(logits):
    check_logits("softmax", logits)
    m = logits.max(axis=1, keepdims=True)
    log_z = m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True))  # (N, 1)
    return np.exp(logits - log_z)


def _ce_one_hot(logits, labels):
    N, K = check_logits("softmax_cross_entropy", logits)
    check_labels("softmax_cross_entropy", labels, N, K)
    y = np.eye(K, dtype=logits.dtype)[labels]  # (N, K)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax
    return float(-(y * log_p).sum() / N), (np.exp(log_p) - y) / N


def _mse_square(pred, target):
    check_array("mse_loss", "pred", pred, floating=True)
    require(target.shape == pred.shape, "mse_loss", "target must have the shape of pred",
            f"pred.shape={pred.shape}, target.shape={target.shape}")
    diff = pred - target.astype(pred.dtype)
    return float(np.square(diff).mean()), np.multiply(diff, 2 / pred.size, dtype=pred.dtype)


RIGHT = {
    "softmax": {"via log-sum-exp": _softmax_logsumexp},
    "softmax_cross_entropy": {"one-hot and log-softmax": _ce_one_hot},
    "mse_loss": {"np.square": _mse_square},
}
