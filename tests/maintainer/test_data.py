"""Tests of cnnlib.data's loaders (chapter 08).

Full MNIST is read from the course's copy (shared/data/mnist). Everything about
downloads runs on tiny synthetic files served by a local HTTP server on
127.0.0.1: no test ever touches the internet, the real user cache or the real
mirrors (the autouse fixture empties MIRRORS and points the cache at tmp_path).
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import re
import socket
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest

import cnnlib.data as data
from cnnlib.data import DataFileError, download, formats

SHARED_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
NAMES = download.IDX_FILES


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    """Temporary files left in a folder (there must never be any)."""
    return sorted(p.name for p in folder.glob(".*")) if folder.exists() else []


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    for dataset in download.MIRRORS:
        monkeypatch.setitem(download.MIRRORS, dataset, [])  # a test that wants a mirror names its own
    monkeypatch.setattr(download, "TIMEOUT", 10)
    data.clear_cache()
    yield
    data.clear_cache()


# ----------------------------------------------------------------------------- a local HTTP server

class Server:
    """Serves the files under ``root`` on 127.0.0.1; under /cut/ it sends half of each
    file while announcing all of it, then hangs up (a broken transfer)."""

    def __init__(self, root: Path):
        self.root, self.requests = root, []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):
                server.requests.append(self.path)
                if self.path.startswith("/cut/"):
                    body = (root / "good" / self.path[len("/cut/"):]).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    return
                super().do_GET()

            def log_message(self, *args):
                pass  # keep test output clean

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, folder: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{folder}/"

    def put(self, folder: str, files: dict[str, bytes]) -> None:
        (self.root / folder).mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (self.root / folder / name).write_bytes(content)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    yield s
    s.stop()


@pytest.fixture
def dead_url():
    """A mirror nobody answers at: a port just freed on 127.0.0.1 (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


# ----------------------------------------------------------------------------- tiny synthetic data sets

def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


@pytest.fixture
def tiny(monkeypatch):
    """Six training and four test 'digits' as IDX bytes, their hashes patched into the loader's table."""
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, 6, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 4, dtype=np.uint8)}
    raw = {name: idx_bytes(a) for name, a in arrays.items()}
    monkeypatch.setitem(download.SHA256, "mnist", {name: _sha256(b) for name, b in raw.items()})
    return arrays, raw


def gz_files(raw: dict[str, bytes], level=9) -> dict[str, bytes]:
    return {f"{name}.gz": gzip.compress(b, compresslevel=level, mtime=0) for name, b in raw.items()}


def assert_is_tiny(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (6, 1, 28, 28) and x_test.shape == (4, 1, 28, 28)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(x_train[:, 0], arrays["train-images-idx3-ubyte"].astype(np.float32) / 255)
    np.testing.assert_array_equal(x_test[:, 0], arrays["t10k-images-idx3-ubyte"].astype(np.float32) / 255)
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


# ----------------------------------------------------------------------------- full MNIST, the course's copy

needs_mnist = pytest.mark.skipif(not (SHARED_MNIST / "README.md").is_file(),
                                 reason=f"the course's MNIST copy is not at {SHARED_MNIST}")


def _readme():
    return (SHARED_MNIST / "README.md").read_text()


def _readme_counts(split: str) -> np.ndarray:
    return np.array(re.search(split + r" \[([\d\s]+)\]", _readme()).group(1).split(), dtype=np.int64)


@needs_mnist
def test_full_mnist_from_path():
    (x_train, y_train), (x_test, y_test) = data.load_mnist(SHARED_MNIST, download=False)
    assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.min() == 0 and x_train.max() == 1 and x_test.min() == 0 and x_test.max() == 1
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), _readme_counts("train"))
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), _readme_counts("test"))
    # The shipped sample is a subset of the test set: both loaders must give the same pixels.
    images, labels = data.load_mnist_sample()
    with np.load(data.SAMPLE) as f:
        index = f["test_index"]
    np.testing.assert_array_equal(x_test[index], images)
    np.testing.assert_array_equal(y_test[index], labels)


@needs_mnist
@pytest.mark.parametrize("layout", ["folder holds the files", "root with a mnist/ subfolder"])
def test_full_mnist_through_cnnlib_data(layout, tmp_path, monkeypatch):
    if layout.startswith("root"):
        (tmp_path / "root").mkdir()
        (tmp_path / "root" / "mnist").symlink_to(SHARED_MNIST, target_is_directory=True)
        monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "root"))
    else:
        monkeypatch.setenv("CNNLIB_DATA", str(SHARED_MNIST))
    (x_train, y_train), (x_test, y_test) = data.load_mnist(download=False, flatten=True, dtype=np.float64)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784) and x_train.dtype == np.float64
    assert 0 <= x_test.min() and x_test.max() == 1
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), _readme_counts("test"))
    assert not (tmp_path / "cache").exists(), "nothing may be written to the cache when the files are found"


@needs_mnist
def test_the_hash_table_matches_the_readme_and_the_files():
    listed = dict(re.findall(r"\| (\S+)\.gz \| [^|]+ \| ([0-9a-f]{64}) \|", _readme()))
    assert listed == download.SHA256["mnist"]
    for name, expected in listed.items():
        assert _sha256(gzip.decompress((SHARED_MNIST / f"{name}.gz").read_bytes())) == expected


@needs_mnist
def test_real_files_are_checked_against_their_hash(monkeypatch):
    bad = dict(download.SHA256["mnist"], **{"t10k-labels-idx1-ubyte": "0" * 64})
    monkeypatch.setitem(download.SHA256, "mnist", bad)
    with pytest.raises(DataFileError) as info:
        data.load_mnist(SHARED_MNIST, download=False)
    msg = str(info.value)
    assert msg.startswith("load_mnist: file ") and str(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz") in msg
    assert "expected " + "0" * 64 in msg and "delete it" in msg


# ----------------------------------------------------------------------------- local files

def test_reads_gz_and_uncompressed_files_and_keeps_them_in_memory(tiny, tmp_path, monkeypatch):
    arrays, raw = tiny
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in raw.items():  # the images compressed, the labels not
        if "images" in name:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    reads = []
    real_read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real_read(self))
    first = data.load_mnist(folder, download=False)
    assert_is_tiny(first, arrays)
    assert len(reads) == 4
    first[0][0][:] = -1  # the caller's arrays are theirs to change
    assert_is_tiny(data.load_mnist(folder, download=False), arrays)
    assert len(reads) == 4, "a second load in the same process must not read the files again"
    (folder / "train-labels-idx1-ubyte").write_bytes(raw["train-labels-idx1-ubyte"][:-1] + b"\x09")
    monkeypatch.setitem(download.SHA256["mnist"], "train-labels-idx1-ubyte",
                        _sha256(raw["train-labels-idx1-ubyte"][:-1] + b"\x09"))
    (_, y_train), _ = data.load_mnist(folder, download=False)
    assert y_train[-1] == 9 and len(reads) > 4, "a changed file must be read again"


def test_truncated_local_file_is_named(tiny, tmp_path):
    _, raw = tiny
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in raw.items():
        (folder / name).write_bytes(content)
    cut = raw["train-images-idx3-ubyte"][:-100]
    (folder / "train-images-idx3-ubyte").write_bytes(cut)
    with pytest.raises(DataFileError) as info:
        data.load_mnist(folder, download=False)
    assert str(info.value).startswith(
        f"load_mnist: file {folder / 'train-images-idx3-ubyte'} is truncated: "
        f"expected {len(cut) + 100} bytes, got {len(cut)}; delete it and call load_mnist() again")


def test_truncated_gz_file_is_named(tiny, tmp_path):
    _, raw = tiny
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in gz_files(raw).items():
        (folder / name).write_bytes(content)
    target = folder / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:200])
    with pytest.raises(DataFileError, match=re.escape(f"file {target} is truncated or damaged")):
        data.load_mnist(folder, download=False)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "is damaged or not MNIST's train-images-idx3-ubyte"),
    (lambda b: b"\x00\x00\x08\x01" + b[4:], "is not an IDX file of 3-D unsigned bytes"),
    (lambda b: b + b"\x00", "is damaged: expected {n} bytes, got {n_plus_1} (1 bytes too many)"),
])
def test_damaged_local_file_is_named(tiny, tmp_path, damage, message):
    _, raw = tiny
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in raw.items():
        (folder / name).write_bytes(damage(content) if name == "train-images-idx3-ubyte" else content)
    n = len(raw["train-images-idx3-ubyte"])
    message = message.format(n=n, n_plus_1=n + 1)
    with pytest.raises(DataFileError, match=re.escape(f"{folder / 'train-images-idx3-ubyte'} {message}")):
        data.load_mnist(folder, download=False)


def test_labels_out_of_range_are_rejected(tiny, tmp_path, monkeypatch):
    arrays, raw = tiny
    labels = arrays["t10k-labels-idx1-ubyte"].copy()
    labels[0] = 10
    raw = dict(raw, **{"t10k-labels-idx1-ubyte": idx_bytes(labels)})
    monkeypatch.setitem(download.SHA256, "mnist", {n: _sha256(b) for n, b in raw.items()})
    for name, content in raw.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(DataFileError, match="a label is 10, expected 0 .. 9"):
        data.load_mnist(tmp_path, download=False)


# ----------------------------------------------------------------------------- downloads

def test_dead_mirror_then_a_good_one(tiny, server, dead_url, monkeypatch):
    arrays, raw = tiny
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [dead_url, server.url("good")])
    assert_is_tiny(data.load_mnist(), arrays)
    assert sorted(server.requests) == sorted(f"/good/{name}.gz" for name in NAMES)
    cache = download.cache_dir("mnist")
    assert cache == Path(os.environ["XDG_CACHE_HOME"]) / "cnnlib" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    for name in NAMES:
        assert gzip.decompress((cache / f"{name}.gz").read_bytes()) == raw[name]
    # Later loads come from the cache, with no mirror at all.
    data.clear_cache()
    monkeypatch.setitem(download.MIRRORS, "mnist", [])
    assert_is_tiny(data.load_mnist(download=False), arrays)


def test_cache_under_home_when_xdg_cache_home_is_unset(tiny, server, tmp_path, monkeypatch):
    arrays, raw = tiny
    monkeypatch.delenv("XDG_CACHE_HOME")
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("good")])
    assert_is_tiny(data.load_mnist(), arrays)
    assert sorted(p.name for p in (tmp_path / "home" / ".cache" / "cnnlib" / "mnist").iterdir()) == \
        sorted(f"{n}.gz" for n in NAMES)


def test_corrupt_download_is_rejected_and_not_cached(tiny, server, monkeypatch):
    _, raw = tiny
    files = gz_files(raw)
    damaged = bytearray(raw["train-images-idx3-ubyte"])
    damaged[500] ^= 0xFF  # the header is fine, one pixel is not: only the hash can tell
    files["train-images-idx3-ubyte.gz"] = gzip.compress(bytes(damaged))
    server.put("bad", files)
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("bad")])
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist()
    msg = str(info.value)
    assert f"{server.url('bad')}train-images-idx3-ubyte.gz: rejected: " in msg and "SHA-256" in msg
    cache = download.cache_dir("mnist")
    assert not (cache / "train-images-idx3-ubyte.gz").exists() and not _leftovers(cache)
    # The three good files were verified and kept; the next load fetches only the missing one.
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in NAMES[1:])
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("bad"), server.url("good")])
    server.requests.clear()
    data.load_mnist()
    assert server.requests == ["/bad/train-images-idx3-ubyte.gz", "/good/train-images-idx3-ubyte.gz"]
    assert gzip.decompress((cache / "train-images-idx3-ubyte.gz").read_bytes()) == raw["train-images-idx3-ubyte"]


def test_broken_transfer_leaves_no_partial_file(tiny, server, monkeypatch):
    _, raw = tiny
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("cut")])
    with pytest.raises(FileNotFoundError, match="the transfer stopped after"):
        data.load_mnist()
    cache = download.cache_dir("mnist")
    assert list(cache.iterdir()) == [], "no partial or temporary file may stay in the cache"


def test_failure_while_storing_leaves_no_file(tiny, server, monkeypatch):
    _, raw = tiny
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("good")])

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(download.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        data.load_mnist()
    assert list(download.cache_dir("mnist").iterdir()) == []


def test_good_cached_file_is_neither_downloaded_nor_overwritten(tiny, server, monkeypatch):
    arrays, raw = tiny
    cache = download.cache_dir("mnist")
    cache.mkdir(parents=True)
    mine = gzip.compress(raw["train-images-idx3-ubyte"], compresslevel=1)  # other bytes, same content
    (cache / "train-images-idx3-ubyte.gz").write_bytes(mine)
    before = (cache / "train-images-idx3-ubyte.gz").stat()
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("good")])
    assert_is_tiny(data.load_mnist(), arrays)
    assert "/good/train-images-idx3-ubyte.gz" not in server.requests and len(server.requests) == 3
    after = (cache / "train-images-idx3-ubyte.gz").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (cache / "train-images-idx3-ubyte.gz").read_bytes() == mine


def test_offline_and_missing_says_what_to_put_where(tmp_path, dead_url, monkeypatch):
    other_dead = dead_url.replace("/mnist/", "/other/")
    monkeypatch.setitem(download.MIRRORS, "mnist", [dead_url, other_dead])
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist(tmp_path)
    msg = str(info.value)
    assert msg.startswith("load_mnist: MNIST files not found: ")
    for name in NAMES:
        assert f"{name}.gz" in msg
    cache = tmp_path / "cache" / "cnnlib" / "mnist"
    assert f"To fix it, put the files into {cache} (the user cache)" in msg
    assert f"{tmp_path} (the path argument) and its subfolders mnist/" in msg
    assert "(CNNLIB_DATA is not set)" in msg
    assert f"{dead_url}train-images-idx3-ubyte.gz: " in msg and f"{other_dead}train-images-idx3-ubyte.gz: " in msg
    assert "Connection refused" in msg
    assert not _leftovers(cache)


def test_download_false_never_touches_the_network(tiny, server, monkeypatch):
    _, raw = tiny
    server.put("good", gz_files(raw))
    monkeypatch.setitem(download.MIRRORS, "mnist", [server.url("good")])
    monkeypatch.setenv("CNNLIB_DATA", "/no/such/folder")
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist(download=False)
    assert server.requests == []
    msg = str(info.value)
    assert "download=False, so nothing was downloaded." in msg
    assert "/no/such/folder (CNNLIB_DATA, does not exist)" in msg


# ----------------------------------------------------------------------------- Fashion-MNIST

def test_fashion_mnist_download_and_mnist_files_are_not_taken_for_it(tiny, server, tmp_path, monkeypatch):
    mnist_arrays, mnist_raw = tiny
    rng = np.random.default_rng(1)
    arrays = {n: rng.integers(0, 10 if "labels" in n else 256, a.shape, dtype=np.uint8)
              for n, a in mnist_arrays.items()}
    served = gz_files({n: idx_bytes(a) for n, a in arrays.items()})
    monkeypatch.setitem(download.SERVED_SHA256, "fashion_mnist", {n: _sha256(b) for n, b in served.items()})
    # A folder of MNIST files (same names) named by CNNLIB_DATA must not pass for Fashion-MNIST.
    for name, content in mnist_raw.items():
        (tmp_path / name).write_bytes(content)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"{tmp_path / 'train-images-idx3-ubyte'} is MNIST's file, not Fashion-MNIST's: skipped")):
        data.load_fashion_mnist(download=False)
    # A mirror serving other bytes is rejected; the next one is used.
    server.put("bad", gz_files({n: idx_bytes(a) for n, a in mnist_arrays.items()}))
    server.put("good", served)
    monkeypatch.setitem(download.MIRRORS, "fashion_mnist", [server.url("bad"), server.url("good")])
    assert_is_tiny(data.load_fashion_mnist(), arrays)
    assert (tmp_path / "cache" / "cnnlib" / "fashion_mnist" / "t10k-images-idx3-ubyte.gz").read_bytes() == \
        served["t10k-images-idx3-ubyte.gz"]
    # A fashion_mnist/ subfolder of the CNNLIB_DATA root wins over the MNIST files beside it.
    (tmp_path / "fashion_mnist").mkdir()
    for name, a in arrays.items():
        (tmp_path / "fashion_mnist" / name).write_bytes(idx_bytes(a))
    data.clear_cache()
    monkeypatch.setitem(download.MIRRORS, "fashion_mnist", [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    assert_is_tiny(data.load_fashion_mnist(download=False), arrays)


# ----------------------------------------------------------------------------- CIFAR-10

CIFAR_NAMES = download.CIFAR10_FILES


@pytest.fixture
def tiny_cifar(monkeypatch):
    """Three records per batch file; returns ({name: (images, labels)}, {name: bytes}, tarball bytes)."""
    monkeypatch.setattr(formats, "CIFAR10_RECORDS_PER_FILE", 3)
    rng = np.random.default_rng(2)
    arrays, raw = {}, {}
    for name in CIFAR_NAMES:
        images = rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, 3, dtype=np.uint8)
        arrays[name] = images, labels
        # One record: the label byte, then the red, green and blue planes, row by row.
        raw[name] = b"".join(bytes([label]) + image.tobytes() for image, label in zip(images, labels))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in [("batches.meta.txt", b"airplane\n"), *raw.items()]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return arrays, raw, buffer.getvalue()


def assert_is_tiny_cifar(result, arrays, flatten=False):
    (x_train, y_train), (x_test, y_test) = result
    train_images = np.concatenate([arrays[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    train_labels = np.concatenate([arrays[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    test_images, test_labels = arrays["test_batch.bin"]
    if flatten:
        train_images, test_images = train_images.reshape(15, -1), test_images.reshape(3, -1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(x_train, train_images.astype(np.float32) / 255)
    np.testing.assert_array_equal(x_test, test_images.astype(np.float32) / 255)
    np.testing.assert_array_equal(y_train, train_labels)
    np.testing.assert_array_equal(y_test, test_labels)


def test_cifar10_from_a_local_archive(tiny_cifar, tmp_path):
    arrays, raw, tarball = tiny_cifar
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(tarball)
    result = data.load_cifar10(tmp_path, download=False)
    assert result[0][0].shape == (15, 3, 32, 32) and result[1][0].shape == (3, 3, 32, 32)
    assert_is_tiny_cifar(result, arrays)
    # Channel planes in file order: the red plane of the first record is bytes 1 .. 1024.
    first = raw["data_batch_1.bin"]
    np.testing.assert_array_equal(result[0][0][0, 0].ravel() * 255, np.frombuffer(first[1:1025], np.uint8))
    data.clear_cache()
    assert_is_tiny_cifar(data.load_cifar10(tmp_path, download=False, flatten=True), arrays, flatten=True)


def test_cifar10_from_batch_files_under_a_cnnlib_data_root(tiny_cifar, tmp_path, monkeypatch):
    arrays, raw, _ = tiny_cifar
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name, content in raw.items():
        (folder / name).write_bytes(content)
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path))
    assert_is_tiny_cifar(data.load_cifar10(download=False), arrays)


def test_cifar10_download_stores_the_verified_batch_files(tiny_cifar, server, dead_url, monkeypatch):
    arrays, raw, tarball = tiny_cifar
    server.put("good", {"cifar-10-binary.tar.gz": tarball})
    server.put("bad", {"cifar-10-binary.tar.gz": tarball[:-10] + bytes(10)})
    monkeypatch.setitem(download.SERVED_SHA256, "cifar10", {"cifar-10-binary.tar.gz": _sha256(tarball)})
    monkeypatch.setitem(download.MIRRORS, "cifar10", [dead_url, server.url("bad")])
    with pytest.raises(FileNotFoundError, match="rejected: .*SHA-256"):
        data.load_cifar10()
    cache = download.cache_dir("cifar10")
    assert list(cache.iterdir()) == []
    monkeypatch.setitem(download.MIRRORS, "cifar10", [dead_url, server.url("bad"), server.url("good")])
    assert_is_tiny_cifar(data.load_cifar10(), arrays)
    assert sorted(p.name for p in cache.iterdir()) == sorted(CIFAR_NAMES)
    assert all((cache / name).read_bytes() == raw[name] for name in CIFAR_NAMES)
    data.clear_cache()
    monkeypatch.setitem(download.MIRRORS, "cifar10", [])
    assert_is_tiny_cifar(data.load_cifar10(download=False), arrays)


def test_cifar10_truncated_batch_file_is_named(tiny_cifar, tmp_path):
    _, raw, _ = tiny_cifar
    for name, content in raw.items():
        (tmp_path / name).write_bytes(content[:-73] if name == "data_batch_3.bin" else content)
    with pytest.raises(DataFileError, match=re.escape(
            f"load_cifar10: file {tmp_path / 'data_batch_3.bin'} is truncated: expected {3 * 3073} bytes, "
            f"got {3 * 3073 - 73}; delete it")):
        data.load_cifar10(tmp_path, download=False)


def test_cifar10_offline_and_missing_names_the_files_and_the_archive(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.load_cifar10(download=False)
    msg = str(info.value)
    assert "data_batch_1.bin, data_batch_2.bin" in msg and "test_batch.bin" in msg
    assert "or the archive cifar-10-binary.tar.gz" in msg
    assert str(tmp_path / "cache" / "cnnlib" / "cifar10") in msg


# ----------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("loader", [data.load_mnist, data.load_fashion_mnist, data.load_cifar10],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(path=3), TypeError, "path must be a folder (str or pathlib.Path) or None. Received: path of type int"),
    (dict(path="/no/such/folder"), ValueError, "path must be an existing folder. Received: "
                                               "path='/no/such/folder' (does not exist)"),
    (dict(download="yes"), TypeError, "download must be True or False. Received: download='yes'"),
    (dict(flatten=1), TypeError, "flatten must be True or False. Received: flatten=1"),
    (dict(dtype=np.int32), TypeError, "dtype must be a NumPy float dtype such as np.float32. Received: dtype=int32"),
    (dict(dtype="pixels"), TypeError, "dtype must be a NumPy float dtype"),
])
def test_bad_arguments(loader, kwargs, exc, message):
    with pytest.raises(exc) as info:
        loader(**kwargs)
    assert str(info.value).startswith(f"{loader.__name__}: {message}")


def test_path_to_a_file_is_refused(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"path must be an existing folder\. Received: .* \(a file\)"):
        data.load_mnist(tmp_path / "train-images-idx3-ubyte.gz")


def test_cnnlib_data_naming_a_file_says_so(tmp_path, monkeypatch):
    afile = tmp_path / "mnist.zip"
    afile.write_bytes(b"not a folder")
    monkeypatch.setenv("CNNLIB_DATA", str(afile))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match=r"mnist.zip \(CNNLIB_DATA, a file, not a folder\)"):
        data.load_mnist(download=False)


def test_an_unreadable_data_folder_says_so(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    monkeypatch.setenv("CNNLIB_DATA", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(folder) else real(p, mode))
    with pytest.raises(FileNotFoundError, match=r"locked \(CNNLIB_DATA, not readable: check its permissions\)"):
        data.load_mnist(download=False)
