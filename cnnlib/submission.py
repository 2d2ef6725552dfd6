"""A submission (chapter 00): the learner's exercise files and concept-check answers, to hand in.

``cnnlib submit`` packs exactly the files a learner edits, ``cnnlib/<module>.py``
for every exercise module and ``answers.json`` when there are answers, into one
zip with ``manifest.json`` (each file's SHA-256 and size, the course version,
the date). A file that is missing or cannot be read is named, and nothing is
packed: a submission is whole or it is not made.

The instructor's side (``cnnlib grade``, the Gradescope autograder) reads a
submission from such an archive (or a tar of the same files) or from a folder
(the archive unpacked, or a learner's course folder, as GitHub Classroom has
it). Unpacking refuses, naming the member, anything that could write outside
its target folder (an absolute path, a ``..``, a link, a device) or more than
``MAX_TOTAL_BYTES``; it refuses before it writes anything.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tarfile
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .exercises import EXERCISES
from .files import atomic_write

EXERCISE_FILES = tuple(f"cnnlib/{m}.py" for m in sorted({e.module for e in EXERCISES}))
ANSWERS = "answers.json"
MANIFEST = "manifest.json"
MAX_FILE_BYTES = 1 << 20     # one exercise file: the largest shipped is about 20 KB
MAX_TOTAL_BYTES = 8 << 20    # a whole archive, unpacked
MAX_MEMBERS = 256
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


class SubmissionError(ValueError):
    """A submission that cannot be packed or read: the message names the file or member and the rule."""


@dataclass
class Submission:
    name: str                                       # from the archive's or folder's name
    files: dict[str, bytes]                         # "cnnlib/conv.py" or "answers.json" -> content
    manifest: dict | None = None
    hashes_match: bool = False                      # every file is the one the manifest lists
    notes: list[str] = field(default_factory=list)  # what a grader should say about the files themselves


def course_version() -> str:
    """``cnnlib.__version__``, read from the package (imported before any of its modules runs) rather
    than imported from it: the package's ``__init__`` sits above this module."""
    return sys.modules[__name__.rpartition(".")[0]].__version__


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------
# Packing (the learner's side)

def pack(course: Path, out: Path) -> dict:
    """Write ``out`` (a zip) with the learner's files from the course folder ``course``; return its manifest."""
    course, out = Path(course), Path(out)
    if out.suffix != ".zip":
        raise SubmissionError(f"submit: --out must end in .zip. Received: {str(out)!r}")
    files, problems = {}, []
    for rel in EXERCISE_FILES + (ANSWERS,):
        path = course / rel
        if rel == ANSWERS and not path.exists():
            continue  # no concept check answered yet: said by the caller, not an error
        problem, data = _read_regular(path, rel)
        if problem:
            problems.append(problem)
            continue
        if rel == ANSWERS:
            try:
                json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                problems.append(f"{rel} cannot be read as JSON ({e}): fix it, or delete it and answer again")
                continue
        files[rel] = data
    if problems:
        raise SubmissionError(f"submit: nothing was packed, because {len(problems)} file(s) cannot be: "
                              + "; ".join(problems))
    now = datetime.now(timezone.utc)
    manifest = {"course": "cnnlib", "course_version": course_version(),
                "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "files": {rel: {"sha256": _sha256(data), "bytes": len(data)} for rel, data in files.items()}}
    stamp = now.timetuple()[:6]
    with atomic_write(out, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in [(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode()), *files.items()]:
            info = zipfile.ZipInfo(rel, stamp)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return manifest


def _read_regular(path: Path, rel: str) -> tuple[str | None, bytes]:
    """(None, content), or (why not, b""): the file must be a regular file (not a link) within the bound."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return f"{rel} is missing (restore its stub with `git checkout {rel}`)", b""
    except OSError as e:
        return f"{rel} cannot be read ({e.strerror})", b""
    if stat.S_ISLNK(st.st_mode):
        return f"{rel} is a symbolic link; submit the file itself", b""
    if not stat.S_ISREG(st.st_mode):
        return f"{rel} is not a regular file", b""
    if st.st_size > MAX_FILE_BYTES:
        return f"{rel} has {st.st_size:,} bytes, more than the {MAX_FILE_BYTES:,} a file may have", b""
    try:
        return None, path.read_bytes()
    except OSError as e:
        return f"{rel} cannot be read ({e.strerror})", b""


# ----------------------------------------------------------------------------
# Unpacking and reading (the grader's side)

def is_archive(path: Path) -> bool:
    return Path(path).name.lower().endswith(ARCHIVE_SUFFIXES)


def submission_name(path: Path) -> str:
    """``alice.zip`` -> ``alice``: the name a submission has in the gradebook and its feedback file."""
    name = Path(path).name
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[:-len(suffix)]
            break
    safe = "".join(c if c.isalnum() or c in "-_.@+" else "_" for c in name).strip(".")
    return safe or "submission"


@contextmanager
def _members(archive: Path):
    """[(name, kind, size, read)] of a zip or tar, kind being "file", "dir" or what else it is."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            out = []
            for info in z.infolist():
                mode = info.external_attr >> 16
                kind = "dir" if info.is_dir() else "file"
                if stat.S_ISLNK(mode):
                    kind = "symbolic link"
                elif stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                    kind = "special file"
                out.append((info.filename, kind, info.file_size, lambda info=info: z.read(info)))
            yield out
        return
    try:
        t = tarfile.open(archive)  # noqa: SIM115  (closed below; tarfile.open cannot say what it failed on otherwise)
    except (tarfile.TarError, OSError):
        raise SubmissionError(f"{archive.name} is not a zip or tar archive (or is damaged)") from None
    with t:
        out = []
        for m in t.getmembers():
            kind = "file" if m.isfile() else "dir" if m.isdir() else \
                "symbolic link" if m.issym() else "hard link" if m.islnk() else "special file"
            out.append((m.name, kind, m.size, lambda m=m: t.extractfile(m).read()))
        yield out


def _member_problem(name: str) -> str | None:
    if not name or "\x00" in name:
        return "has an empty or invalid name"
    if "\\" in name:
        return "has a backslash in its path"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "has '..' in its path, which would leave the target folder"
    return None


def unpack(archive: Path, target: Path) -> list[str]:
    """Unpack ``archive`` into the folder ``target``; return the files written (relative, sorted).

    Every member is checked first; one that breaks a rule refuses the whole archive with a
    SubmissionError naming it, and nothing is written.
    """
    archive, target = Path(archive), Path(target)
    try:
        with _members(archive) as members:
            return _unpack(archive, members, target)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise SubmissionError(f"{archive.name} cannot be read as an archive ({e})") from None


def _unpack(archive: Path, members, target: Path) -> list[str]:
    refuse = f"{archive.name} is refused (nothing was unpacked): member"
    if len(members) > MAX_MEMBERS:
        raise SubmissionError(f"{archive.name} is refused (nothing was unpacked): it has {len(members)} members, "
                              f"more than {MAX_MEMBERS}")
    total, seen = 0, set()
    for name, kind, size, _ in members:
        problem = _member_problem(name)
        if problem:
            raise SubmissionError(f"{refuse} {name!r} {problem}")
        if kind not in ("file", "dir"):
            raise SubmissionError(f"{refuse} {name!r} is a {kind}; only files and folders are unpacked")
        key = PurePosixPath(name).as_posix().rstrip("/")
        if kind == "file" and key in seen:
            raise SubmissionError(f"{refuse} {name!r} appears twice")
        seen.add(key)
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{refuse} {name!r} takes the archive past its size bound ({size:,} bytes; at most "
                                  f"{MAX_FILE_BYTES:,} a file and {MAX_TOTAL_BYTES:,} in all)")
    root = target.resolve()
    written = []
    for name, kind, size, read in members:
        path = (root / name).resolve()
        if root not in path.parents and path != root:  # cannot happen after the checks; kept as the last word
            raise SubmissionError(f"{refuse} {name!r} resolves outside the target folder")
        if kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
            continue
        data = read()
        if len(data) != size:
            raise SubmissionError(f"{archive.name}: member {name!r} holds {len(data):,} bytes, not the {size:,} "
                                  "its header says; the archive is damaged")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as f:  # x: never through a link or over a file already there
            f.write(data)
        written.append(PurePosixPath(name).as_posix())
    return sorted(written)


def read(path: Path) -> Submission:
    """The submission in ``path``: an archive, or a folder holding the files (or one archive of them)."""
    path = Path(path)
    name = submission_name(path)
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="cnnlib-unpack-") as tmp:
            unpack(path, Path(tmp))
            return _read_folder(Path(tmp), name)
    if not path.is_dir():
        raise SubmissionError(f"{path} is neither a folder nor an archive ({', '.join(ARCHIVE_SUFFIXES)})")
    return _read_folder(path, name)


def _flat(folder: Path) -> bool:
    """The exercise files uploaded one by one (``conv.py``, not ``cnnlib/conv.py``), as Gradescope allows."""
    return not (folder / "cnnlib").is_dir() and any((folder / Path(rel).name).is_file() for rel in EXERCISE_FILES)


def _submission_root(folder: Path) -> Path:
    """Where the files are: ``folder``, its one archive, or its one subfolder (a folder zipped whole)."""
    if (folder / "cnnlib").is_dir() or (folder / MANIFEST).is_file() or _flat(folder):
        return folder
    entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".") and p.name != "__MACOSX"]
    subfolders = [p for p in entries if p.is_dir() and not p.is_symlink() and
                  ((p / "cnnlib").is_dir() or (p / MANIFEST).is_file())]
    if len(subfolders) == 1:
        return subfolders[0]
    raise SubmissionError(f"{folder.name} holds no exercise files: expected cnnlib/<module>.py (as `cnnlib submit` "
                          f"packs them) in it. Received: {', '.join(p.name for p in entries[:10]) or 'an empty folder'}")


def _read_folder(folder: Path, name: str) -> Submission:
    archives = [p for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink() and is_archive(p)]
    if not (folder / "cnnlib").is_dir() and not (folder / MANIFEST).is_file() and not _flat(folder) \
            and len(archives) == 1:
        sub = read(archives[0])  # Gradescope keeps an uploaded archive as it is
        sub.name = name
        return sub
    root = _submission_root(folder)
    flat = _flat(root)
    sub = Submission(name, {})
    problems = []
    for rel in EXERCISE_FILES + (ANSWERS,):
        path = root / (Path(rel).name if flat else rel)
        if not os.path.lexists(path):
            continue
        problem, data = _read_regular(path, rel)
        if problem:
            problems.append(problem)
        else:
            sub.files[rel] = data
    if problems:
        raise SubmissionError(f"{name}: " + "; ".join(problems))
    if not sub.files:
        raise SubmissionError(f"{name} holds no exercise files: expected cnnlib/<module>.py (as `cnnlib submit` "
                              "packs them)")
    _check_manifest(root, sub)
    return sub


def _check_manifest(root: Path, sub: Submission) -> None:
    missing = [rel for rel in EXERCISE_FILES if rel not in sub.files]
    if missing:
        sub.notes.append(f"not in the submission, so graded as the stubs: {', '.join(missing)}")
    path = root / MANIFEST
    if not path.is_file() or path.is_symlink():
        sub.notes.append("no manifest.json: these files were not packed by `cnnlib submit`")
        return
    try:
        manifest = json.loads(_read_regular(path, MANIFEST)[1].decode("utf-8"))
        listed = manifest["files"]
        assert isinstance(listed, dict)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AssertionError):
        sub.notes.append("manifest.json cannot be read: the files' hashes were not checked")
        return
    sub.manifest = manifest
    changed = [rel for rel, data in sub.files.items()
               if not isinstance(listed.get(rel), dict) or listed[rel].get("sha256") != _sha256(data)]
    gone = [rel for rel in listed if rel not in sub.files]
    sub.hashes_match = not changed and not gone
    if changed:
        sub.notes.append(f"differ from the manifest's hashes (changed after `cnnlib submit`?): {', '.join(changed)}")
    if gone:
        sub.notes.append(f"listed in the manifest but missing: {', '.join(gone)}")
    version = manifest.get("course_version")
    if version != course_version():
        sub.notes.append(f"packed with course version {version}, graded with {course_version()}")


def describe(sub: Submission) -> str:
    """``submitted 2026-01-05T10:00:00Z with course version 0.1.0; 15 files, their hashes match the manifest``."""
    m = sub.manifest
    when = f"submitted {m.get('date', '?')} with course version {m.get('course_version', '?')}; " if m else ""
    return when + f"{len(sub.files)} files" + (", their hashes match the manifest" if sub.hashes_match else "")
