"""Where the data sets come from (chapter 08): your folders, the user cache, public mirrors.

``fetch(dataset, ...)`` returns the parsed arrays of a data set's files (all, or the ones named).
It looks, in order, in

1. the folder ``path`` that the caller names,
2. the folder named by the environment variable ``CNNLIB_DATA``,
3. the user cache, ``~/.cache/cnnlib/<dataset>`` (``$XDG_CACHE_HOME/cnnlib/<dataset>``).

Folders 1 and 2 may hold the files directly or in a subfolder named after the
data set (``mnist/``, ``fashion_mnist/``, ``cifar10/``, or torchvision's
``MNIST/raw/``). IDX files may be gzip-compressed (``NAME.gz``) or not. Only
then, with ``download=True``, are the missing files downloaded into the cache,
from the mirrors of ``MIRRORS`` tried in order.

Every file is checked against the SHA-256 of its *decompressed* content, which
holds whatever gzip settings a mirror used, and downloads are written
atomically: into a temporary file in the same folder, renamed into place only
once verified. So the cache never holds a half-written or unverified file, and
a file already there is never overwritten.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead
from pathlib import Path

from ..files import atomic_write
from .formats import DataFileError

IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",)


@dataclass(frozen=True)
class Dataset:
    title: str                    # for messages
    files: tuple[str, ...]        # the files to load, by their uncompressed names
    subfolders: tuple[str, ...]   # subfolders of a data folder that may hold them
    archive: str | None = None    # one archive served with all the files; None: each served as NAME.gz


DATASETS = {
    "mnist": Dataset("MNIST", IDX_FILES, ("mnist", "MNIST/raw")),
    "fashion_mnist": Dataset("Fashion-MNIST", IDX_FILES, ("fashion_mnist", "fashion-mnist", "FashionMNIST/raw")),
    "cifar10": Dataset("CIFAR-10", CIFAR10_FILES, ("cifar10", "cifar-10-batches-bin", "cifar10/cifar-10-batches-bin"),
                       archive="cifar-10-binary.tar.gz"),
}

# Tried in this order. Tests replace these lists with servers of their own.
MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion_mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/"],
}

# SHA-256 of each file's decompressed content, checked wherever the file comes from.
# MNIST: as listed in the README of the course's copy (shared/data/mnist), the same
# values that independent projects publish for the uncompressed IDX files.
# Fashion-MNIST and CIFAR-10: NOT VERIFIED (None). We found no published SHA-256 of
# their uncompressed files, and we had no copy to compute one from. Their local
# files get only the format checks (header, size, labels); downloads are checked
# against SERVED_SHA256 below.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": dict.fromkeys(IDX_FILES),
    "cifar10": dict.fromkeys(CIFAR10_FILES),
}

# SHA-256 of the files exactly as the mirrors serve them, for the data sets whose
# content hashes are unknown: checked on download only (a local copy compressed
# differently is still good). Published by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/fashion_mnist.txt and cifar10.txt) for the
# first mirror of each; another mirror serving different bytes is rejected.
SERVED_SHA256 = {
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar10": {"cifar-10-binary.tar.gz": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"},
}

TIMEOUT = 30  # seconds without data before a mirror counts as dead

# In-process cache: repeated loads in one notebook skip reading and hashing.
# key -> (the files read with their (mtime, size), the arrays)
_MEMORY: dict[tuple, tuple[list, dict]] = {}


def clear_cache() -> None:
    """Forget the data sets kept in memory (the files on disk stay)."""
    _MEMORY.clear()


def cache_dir(dataset: str) -> Path:
    """The user cache folder of ``dataset``: ``$XDG_CACHE_HOME/cnnlib/<dataset>``,
    by default ``~/.cache/cnnlib/<dataset>``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnnlib" / dataset


def _roots(dataset: str, path) -> list[tuple[Path, str, tuple[str, ...]]]:
    """The folders to look in, in order: (folder, where it came from, subfolders to try first)."""
    subs = DATASETS[dataset].subfolders
    roots = []
    if path is not None:
        roots.append((Path(path).expanduser().absolute(), "the path argument", subs))
    if os.environ.get("CNNLIB_DATA"):
        roots.append((Path(os.environ["CNNLIB_DATA"]).expanduser().absolute(), "CNNLIB_DATA", subs))
    roots.append((cache_dir(dataset), "the user cache", ()))
    return roots


def _folders(roots) -> list[Path]:
    # A named subfolder comes before the folder itself: MNIST and Fashion-MNIST
    # use the same file names, so mnist/ is a surer sign than a bare folder.
    return [f for root, _, subs in roots for f in [root / s for s in subs] + [root]]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gunzip(data: bytes, source) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise DataFileError(f"file {source} is truncated or damaged: it is not a complete gzip file ({e})") from None


def _read_archive(archive, names, source) -> dict[str, bytes]:
    """The members of a .tar.gz whose base names are in ``names``, read in memory
    (never extracted by tarfile, so no member path can escape the folder)."""
    out = {}
    try:
        with (tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") if isinstance(archive, bytes)
              else tarfile.open(archive, "r:gz")) as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in names and base not in out:
                    out[base] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DataFileError(f"file {source} is truncated or damaged: not a complete .tar.gz archive ({e})") from None
    return out


def _owner(digest: str, dataset: str) -> str | None:
    """The title of the *other* data set whose file has this content hash, if any."""
    for other, hashes in SHA256.items():
        if other != dataset and digest in hashes.values():
            return DATASETS[other].title
    return None


def _check(dataset, name, content, source, parse, digest=None):
    """Parse ``content`` (format checks first: their messages are the most precise),
    then compare its SHA-256 with the published one."""
    array = parse(name, content, source)
    expected = SHA256[dataset].get(name)
    digest = digest or _sha256(content)
    if expected is not None and digest != expected:
        same_names = " (MNIST and Fashion-MNIST files have the same names: keep each data set " \
                     "in its own subfolder, mnist/ and fashion_mnist/)" if name in IDX_FILES else ""
        raise DataFileError(f"file {source} is damaged or not {DATASETS[dataset].title}'s {name}: its "
                            f"decompressed content has SHA-256 {digest}, expected {expected}{same_names}")
    return array


def _remedy(func: str) -> str:
    return f"delete it and call {func}() again (with download=True it fetches a fresh copy), or put a good copy there"


def fetch(dataset: str, func: str, path, download: bool, parse, names=None, path_hint=None) -> dict:
    """Return ``{name: parse(name, content, source)}`` for the files ``names`` of ``dataset``.

    Parameters
    ----------
    dataset : str
        A key of ``DATASETS``.
    func : str
        The public function that asks, for messages.
    path : str or Path, optional
        A folder to look in first.
    download : bool
        Download what is found nowhere, into the user cache.
    parse : callable (name, content: bytes, source: str) -> object
        Checks the format (raises ``DataFileError``) and returns the parsed file.
    names : list of str, optional
        The files to load (default: all of ``DATASETS[dataset].files``).
    path_hint : str, optional
        How the caller names a data folder, for the message when files are missing
        (default ``"<func>(path=...)"``; the cnnlib command says ``"--data DIR"``).

    Raises
    ------
    DataFileError
        A file found is truncated, damaged or has the wrong SHA-256 (the message names it).
    FileNotFoundError
        Some files were found nowhere and could not be downloaded: the message says
        which files to put into which folder, and which mirrors failed and why.
    """
    spec = DATASETS[dataset]
    names = list(spec.files if names is None else names)
    roots = _roots(dataset, path)
    key = (dataset, tuple(str(r) for r, _, _ in roots), tuple(names))
    if key in _MEMORY:
        stamps, arrays = _MEMORY[key]
        if all(_stamp(p) == s for p, s in stamps):
            return arrays
    arrays, read, notes = {}, [], []
    try:
        for name in names:
            for folder in _folders(roots):
                source = next((p for p in (folder / f"{name}.gz", folder / name) if p.is_file()), None)
                if source is None:
                    continue
                content = source.read_bytes()
                if source.suffix == ".gz":
                    content = _gunzip(content, source)
                digest = _sha256(content)
                other = _owner(digest, dataset)
                if other is not None:
                    notes.append(f"{source} is {other}'s file, not {spec.title}'s: skipped")
                    continue
                arrays[name] = _check(dataset, name, content, source, parse, digest)
                read.append(source)
                break
        missing = [n for n in names if n not in arrays]
        if missing and spec.archive:
            for folder in _folders(roots):
                archive = folder / spec.archive
                if archive.is_file():
                    for name, content in _read_archive(archive, missing, archive).items():
                        arrays[name] = _check(dataset, name, content, f"{archive}:{name}", parse)
                    read.append(archive)
                    missing = [n for n in names if n not in arrays]
                    if not missing:
                        break
    except DataFileError as e:
        raise DataFileError(f"{func}: {e}; {_remedy(func)}.") from None
    errors = []
    if missing and download:
        got = _download(dataset, missing, func, parse, errors)
        for name, (array, dest) in got.items():
            if name in missing:  # an archive brings the other files too: they are stored, not returned
                arrays[name] = array
                read.append(dest)
        missing = [n for n in names if n not in arrays]
    if missing:
        path_hint = path_hint or f"{func}(path=...)"
        raise FileNotFoundError(_not_found(dataset, func, missing, roots, download, errors, notes, path_hint))
    _MEMORY[key] = ([(p, _stamp(p)) for p in read], arrays)
    return arrays


def _stamp(p: Path):
    try:
        st = p.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _download(dataset, names, func, parse, errors) -> dict:
    """Download ``names`` into the cache; return {name: (array, file written)}.
    Each failure (per URL) is appended to ``errors``."""
    spec, folder = DATASETS[dataset], cache_dir(dataset)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        errors.append(f"cannot create the cache folder {folder}: {e}")
        return {}
    got, dead = {}, set()
    # An archive holds every file; otherwise each file is served gzip-compressed.
    for served in [spec.archive] if spec.archive else [f"{n}.gz" for n in names]:
        for mirror in MIRRORS[dataset]:
            if mirror in dead:
                continue
            url = mirror + served
            print(f"{func}: downloading {url}", flush=True)
            try:
                data = _fetch_bytes(url)
            except urllib.error.HTTPError as e:
                errors.append(f"{url}: {e}")
                continue
            except (OSError, HTTPException) as e:
                # Could not connect or the transfer broke: do not try this mirror again.
                dead.add(mirror)
                errors.append(f"{url}: {getattr(e, 'reason', None) or e} (mirror not tried again)")
                continue
            try:
                expected = SERVED_SHA256.get(dataset, {}).get(served)
                if expected is not None and _sha256(data) != expected:
                    raise DataFileError(f"file {url} is damaged or not the published one: "
                                        f"SHA-256 {_sha256(data)}, expected {expected}")
                if spec.archive:
                    # Store every file of the archive, so that one download serves both splits.
                    members = _read_archive(data, spec.files, url)
                    checked = {n: _check(dataset, n, content, f"{url}:{n}", parse) for n, content in members.items()}
                    absent = [n for n in names if n not in members]
                    if absent:
                        raise DataFileError(f"archive {url} lacks {', '.join(absent)}")
                    for n, array in checked.items():
                        got[n] = (array, _write_atomic(folder / n, members[n]))
                else:
                    name = served[:-len(".gz")]
                    got[name] = (_check(dataset, name, _gunzip(data, url), url, parse),
                                 _write_atomic(folder / served, data))
            except DataFileError as e:
                errors.append(f"{url}: rejected: {e}")
                continue
            break
    return got


def _fetch_bytes(url: str) -> bytes:
    """The whole body at ``url``, in memory: nothing is written until it has been verified."""
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        expected = response.headers.get("Content-Length")
        try:
            data = response.read()
        except IncompleteRead as e:
            data = e.partial
    # A dropped connection gives a short body (or IncompleteRead), not always an error.
    if expected is not None and len(data) != int(expected):
        raise ConnectionError(f"the transfer stopped after {len(data)} of {expected} bytes")
    return data


def _write_atomic(dest: Path, data: bytes) -> Path:
    """Write verified ``data`` to ``dest`` in one step, unless ``dest`` exists (another process
    got there first: keep its file)."""
    if not dest.exists():
        with atomic_write(dest) as out:
            out.write(data)
    return dest


def _not_found(dataset, func, missing, roots, download, errors, notes, path_hint) -> str:
    spec = DATASETS[dataset]
    if spec.archive:
        files = f"{', '.join(missing)} (or the archive {spec.archive} that holds them)"
    else:
        files = f"{', '.join(n + '.gz' for n in missing)} (or uncompressed, without .gz)"
    lines = [f"{func}: {spec.title} files not found: {files}.", "Looked in:"]
    for root, origin, subs in roots:
        if not root.exists():
            state = ", does not exist"
        elif not root.is_dir():
            state = ", a file, not a folder"
        elif not os.access(root, os.R_OK | os.X_OK):
            state = ", not readable: check its permissions"
        else:
            state = ""
        where = f"  {root} ({origin}{state})"
        lines.append(where + (f" and its subfolders {', '.join(s + '/' for s in subs)}" if subs else ""))
    if not any(origin == "CNNLIB_DATA" for _, origin, _ in roots):
        lines.append("  (CNNLIB_DATA is not set)")
    lines += [f"  note: {n}" for n in notes]
    if not download:
        lines.append("download=False, so nothing was downloaded.")
    else:
        lines.append("Downloading failed:" if errors else "No mirror to download from (MIRRORS is empty).")
        lines += [f"  {e}" for e in errors]
    cache = cache_dir(dataset)
    lines.append(f"To fix it, put the files into {cache} (the user cache), or into any folder that you pass "
                 f"as {path_hint} or name in the environment variable CNNLIB_DATA. "
                 f"They are published at: {', '.join(MIRRORS[dataset]) or '(no mirror listed)'}")
    return "\n".join(lines)
