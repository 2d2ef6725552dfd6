"""Plausible wrong implementations of the chapter 00 exercises, and correct alternatives."""
import numpy as np


def _pad_all_axes(x, padding):
    return np.pad(x, padding)


def _pad_one_side(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))


def _pad_in_place_view(x, padding):
    return x if padding == 0 else np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _pad_float64(x, padding):
    return np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _pad_with_ones(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=1)


def _one_hot_transposed(labels, num_classes, dtype=np.float64):
    return np.eye(num_classes, dtype=dtype)[labels].T


def _one_hot_off_by_one(labels, num_classes, dtype=np.float64):
    return np.eye(num_classes, dtype=dtype)[(labels + 1) % num_classes]


def _one_hot_ignores_dtype(labels, num_classes, dtype=np.float64):
    return np.eye(num_classes)[labels]


WRONG = {
    "zero_pad": {"pads N and C too": _pad_all_axes, "pads one side only": _pad_one_side,
                 "returns x itself for padding 0": _pad_in_place_view, "upcasts to float64": _pad_float64,
                 "pads with ones": _pad_with_ones},
    "one_hot": {"transposed": _one_hot_transposed, "off by one": _one_hot_off_by_one,
                "ignores dtype": _one_hot_ignores_dtype},
}

RIGHT = {
    "zero_pad": {"np.pad": lambda x, p: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))},
    "one_hot": {"rows of the identity": lambda labels, k, dtype=np.float64: np.eye(k, dtype=dtype)[labels],
                "comparison with arange": lambda labels, k, dtype=np.float64:
                    (labels[:, None] == np.arange(k)).astype(dtype)},
}
