"""The two binary file formats the loaders read (chapter 08).

IDX (MNIST, Fashion-MNIST): a header, then the numbers in C order. The header
is a 4-byte magic number (two zero bytes, a type code, 0x08 for unsigned
bytes, and the number of dimensions), then each dimension as a big-endian
uint32. ``train-images-idx3-ubyte`` starts ``00 00 08 03``, then 60000, 28, 28,
then 60000*28*28 pixel bytes: 47,040,016 bytes in all.

CIFAR-10's binary release: records of 1 + 3*32*32 bytes, the label, then the
red, green and blue planes of a 32x32 image, each row by row; 10,000 records a
file. We never read the pickled release: unpickling runs code from the file.

Both parsers check sizes against the header (or the record count) so that a
truncated download is caught and named, not turned into garbage images.
"""
from __future__ import annotations

import numpy as np

CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32
CIFAR10_RECORDS_PER_FILE = 10_000  # tests that build tiny files set this lower


class DataFileError(ValueError):
    """A data file is truncated, damaged, or not the file its name says."""


def _wrong_size(source: str, expected: int, got: int) -> DataFileError:
    if got < expected:
        return DataFileError(f"file {source} is truncated: expected {expected} bytes, got {got}")
    return DataFileError(f"file {source} is damaged: expected {expected} bytes, got {got} "
                         f"({got - expected} bytes too many)")


def parse_idx(data: bytes, source: str, ndim: int) -> np.ndarray:
    """Return the uint8 array held by the IDX bytes ``data``.

    Parameters
    ----------
    data : bytes
        The whole (decompressed) file.
    source : str
        The file's name, for error messages.
    ndim : int
        The number of dimensions the file must have (3 for images, 1 for labels).

    Returns
    -------
    array : ndarray of uint8, read-only view of ``data``, shape given by the header

    Raises
    ------
    DataFileError
        If the magic number is wrong or the size disagrees with the header.
    """
    header = 4 + 4 * ndim
    magic = bytes([0, 0, 0x08, ndim])
    if data[:4] != magic:
        raise DataFileError(f"file {source} is not an IDX file of {ndim}-D unsigned bytes: its magic "
                            f"number is {data[:4].hex(' ') or 'missing'}, expected {magic.hex(' ')}")
    if len(data) < header:
        raise _wrong_size(source, header, len(data))
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise _wrong_size(source, expected, len(data))
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def parse_cifar10_batch(data: bytes, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of one CIFAR-10 binary batch file.

    Returns
    -------
    images : ndarray of uint8, shape (N, 3, 32, 32), read-only view of ``data``
    labels : ndarray of uint8, shape (N,), values 0 .. 9

    Raises
    ------
    DataFileError
        If the file does not hold ``CIFAR10_RECORDS_PER_FILE`` records or a label is > 9.
    """
    expected = CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES
    if len(data) != expected:
        raise _wrong_size(source, expected, len(data))
    records = np.frombuffer(data, np.uint8).reshape(-1, CIFAR10_RECORD_BYTES)  # (N, 1 + 3*32*32)
    labels = records[:, 0]
    if labels.max() > 9:
        raise DataFileError(f"file {source} is damaged: a label is {labels.max()}, CIFAR-10 has 10 classes (0 .. 9)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels  # (N, C, H, W)
