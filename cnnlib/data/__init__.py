"""Data sets (chapters 01 and 08): the MNIST sample shipped with cnnlib, and loaders.

``load_mnist_sample()`` needs no download: 2,000 real MNIST test digits (200 per
class) ship inside the package (see cnnlib/data/README.md for the credit).

``load_mnist()``, ``load_fashion_mnist()`` and ``load_cifar10()`` load the full
data sets: from a folder you name (``path=`` or the environment variable
``CNNLIB_DATA``), else from the user cache (``~/.cache/cnnlib``), else they
download them there, checking every file's SHA-256. ``cnnlib.data.download``
says where files are looked for; ``cnnlib.data.formats`` how they are read.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.validation import fail, require
from .download import DATASETS, MIRRORS, SERVED_SHA256, SHA256, cache_dir, clear_cache, fetch
from .formats import DataFileError, parse_cifar10_batch, parse_idx

SAMPLE = Path(__file__).with_name("mnist_sample.npz")

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


def load_mnist_sample(n: int | None = None, dtype=np.float32):
    """Return ``(images, labels)`` of the shipped sample.

    Parameters
    ----------
    n : int, optional
        Keep the first ``n`` digits (all 2,000 by default).
    dtype : NumPy float dtype of the images

    Returns
    -------
    images : ndarray, shape (n, 1, 28, 28), values in [0, 1]
    labels : ndarray of int64, shape (n,)
    """
    with np.load(SAMPLE, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"]
    if n is not None:
        if not (isinstance(n, (int, np.integer)) and 1 <= n <= len(labels)):
            raise ValueError(f"load_mnist_sample: n must be an integer in 1 .. {len(labels)}. Received: n={n!r}")
        images, labels = images[:n], labels[:n]
    return (images[:, None].astype(dtype) / 255).astype(dtype), labels.astype(np.int64)


def _check_arguments(func, path, split, download, dtype, flatten) -> np.dtype:
    require(split in (None, "train", "test"), func, 'split must be None (both), "train" or "test"',
            f"split={split!r}")
    require(path is None or isinstance(path, (str, os.PathLike)), func,
            "path must be a folder (str or pathlib.Path) or None", f"path of type {type(path).__name__}", TypeError)
    if path is not None:
        folder = Path(path).expanduser()
        require(folder.is_dir(), func, "path must be an existing folder",
                f"path={str(path)!r} ({'a file' if folder.exists() else 'does not exist'})")
    for name, value in (("download", download), ("flatten", flatten)):
        require(isinstance(value, bool), func, f"{name} must be True or False", f"{name}={value!r}", TypeError)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        fail(func, "dtype must be a NumPy float dtype such as np.float32", f"dtype={dtype!r}", TypeError)
    require(np.issubdtype(dt, np.floating), func, "dtype must be a NumPy float dtype such as np.float32",
            f"dtype={dt}", TypeError)
    return dt


def _images(x: np.ndarray, dtype, flatten: bool) -> np.ndarray:
    # One pass, no float64 temporary; the same division as load_mnist_sample, so
    # the two give identical pixels.
    x = np.divide(x, dtype.type(255), out=np.empty(x.shape, dtype), dtype=dtype)
    return x.reshape(len(x), -1) if flatten else x


def _parse_idx_file(name, content, source):
    array = parse_idx(content, source, ndim=3 if "images" in name else 1)
    if array.ndim == 1 and len(array) and array.max() > 9:
        raise DataFileError(f"file {source} is damaged: a label is {array.max()}, expected 0 .. 9")
    return array


def _load_idx(dataset, func, path, split, download, dtype, flatten, path_hint):
    dtype = _check_arguments(func, path, split, download, dtype, flatten)
    prefixes = {None: ("train", "t10k"), "train": ("train",), "test": ("t10k",)}[split]
    names = [f"{p}-{kind}" for p in prefixes for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")]
    files = fetch(dataset, func, path, download, _parse_idx_file, names, path_hint)
    out = []
    for prefix in prefixes:
        images, labels = files[f"{prefix}-images-idx3-ubyte"], files[f"{prefix}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise DataFileError(f"{func}: {prefix}-images-idx3-ubyte holds {len(images)} images but "
                                f"{prefix}-labels-idx1-ubyte {len(labels)} labels: one of them is not from "
                                f"this copy of {DATASETS[dataset].title}")
        out.append((_images(images[:, None], dtype, flatten), labels.astype(np.int64)))  # (N, 1, H, W)
    return out[0] if split else tuple(out)


def load_mnist(path=None, *, split=None, download: bool = True, dtype=np.float32, flatten: bool = False,
               path_hint=None):
    """Load MNIST: 70,000 handwritten digits, 28x28 grey levels.

    Looks for the files in ``path``, then in the folder named by the environment
    variable ``CNNLIB_DATA``, then in the user cache ``~/.cache/cnnlib/mnist``
    (``$XDG_CACHE_HOME/cnnlib/mnist``); a folder may hold them directly or in a
    subfolder ``mnist/``. Only if they are found nowhere and ``download`` is true,
    downloads them into the cache. Each file's decompressed content must have its
    published SHA-256. Repeated calls in one process reuse what was read.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
        t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or uncompressed).
    split : None, "train" or "test"
        None loads both; "train" or "test" reads only that split's files and returns its ``(x, y)``.
    download : bool
        Download missing files from the public mirrors in ``cnnlib.data.MIRRORS``.
    dtype : NumPy float dtype
        The dtype of the images.
    flatten : bool
        Return each image as a row of 784 numbers.
    path_hint : str, optional
        How your code names the folder, for the message when files are missing
        (default ``"load_mnist(path=...)"``; the cnnlib command passes ``"--data DIR"``).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)   (only ``(x, y)`` of one split if ``split`` names it)
        x : ndarray of ``dtype``, shape (N, 1, 28, 28) (or (N, 784)), values in [0, 1];
        N = 60,000 for training, 10,000 for test.
        y : ndarray of int64, shape (N,), the digit 0 .. 9.

    Raises
    ------
    FileNotFoundError
        The files are nowhere and could not be downloaded; the message says which
        files to put into which folder.
    cnnlib.data.DataFileError
        A file is truncated, damaged or not the published one; the message names it.
    """
    return _load_idx("mnist", "load_mnist", path, split, download, dtype, flatten, path_hint)


def load_fashion_mnist(path=None, *, split=None, download: bool = True, dtype=np.float32, flatten: bool = False,
                       path_hint=None):
    """Load Fashion-MNIST: 70,000 pictures of clothes, a drop-in for MNIST.

    The same files, shapes, arguments and lookup as ``load_mnist`` (the user cache
    is ``~/.cache/cnnlib/fashion_mnist``; a data folder's subfolder ``fashion_mnist/``
    is tried before the folder itself, because the file names are MNIST's). The
    class names are ``FASHION_MNIST_CLASSES``.

    Only downloads are checked against a published SHA-256 (of the .gz files as
    served): none is published for the decompressed files, so local copies get the
    format checks only, and a copy of MNIST's files is recognised and skipped.
    """
    return _load_idx("fashion_mnist", "load_fashion_mnist", path, split, download, dtype, flatten, path_hint)


def load_cifar10(path=None, *, split=None, download: bool = True, dtype=np.float32, flatten: bool = False,
                 path_hint=None):
    """Load CIFAR-10: 60,000 colour photos, 32x32 RGB, in 10 classes.

    Reads the binary release (data_batch_1.bin .. data_batch_5.bin, test_batch.bin,
    or the archive cifar-10-binary.tar.gz that holds them), never the pickled one:
    unpickling a downloaded file can run any code. Lookup as ``load_mnist`` (the user
    cache is ``~/.cache/cnnlib/cifar10``; data folder subfolders ``cifar10/`` and
    ``cifar-10-batches-bin/``). A download is checked against the archive's published
    SHA-256, then its six files are stored in the cache; no hash of those files is
    published, so local copies get the format checks only (size, labels).

    Parameters
    ----------
    path, split, download, dtype, path_hint
        As for ``load_mnist`` (``split="test"`` reads test_batch.bin only).
    flatten : bool
        Return each image as a row of 3*32*32 = 3072 numbers (red, green, blue planes).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)   (only ``(x, y)`` of one split if ``split`` names it)
        x : ndarray of ``dtype``, shape (N, 3, 32, 32) (or (N, 3072)), values in [0, 1];
        N = 50,000 for training, 10,000 for test.
        y : ndarray of int64, shape (N,), the class 0 .. 9, names in ``CIFAR10_CLASSES``.
    """
    dtype = _check_arguments("load_cifar10", path, split, download, dtype, flatten)
    train_names = [f"data_batch_{i}.bin" for i in range(1, 6)]
    names = {None: train_names + ["test_batch.bin"], "train": train_names, "test": ["test_batch.bin"]}[split]
    files = fetch("cifar10", "load_cifar10", path, download,
                  lambda name, content, source: parse_cifar10_batch(content, source), names, path_hint)
    out = []
    if split != "test":
        train = [files[name] for name in train_names]
        x_train = np.concatenate([images for images, _ in train])  # (5 * N, 3, 32, 32)
        y_train = np.concatenate([labels for _, labels in train])
        out.append((_images(x_train, dtype, flatten), y_train.astype(np.int64)))
    if split != "train":
        x_test, y_test = files["test_batch.bin"]
        out.append((_images(x_test, dtype, flatten), y_test.astype(np.int64)))
    return out[0] if split else tuple(out)


__all__ = ["CIFAR10_CLASSES", "DATASETS", "DataFileError", "FASHION_MNIST_CLASSES", "MIRRORS", "SERVED_SHA256",
           "SHA256", "cache_dir", "clear_cache", "load_cifar10", "load_fashion_mnist", "load_mnist",
           "load_mnist_sample"]
