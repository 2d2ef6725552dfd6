"""Writing files so that a reader sees the old file or the whole new one, never half of one.

``atomic_write`` is the one way cnnlib writes a file it means to keep: checkpoints,
the history CSV, metrics and export JSON, exported weights and downloaded data.
It writes a temporary file beside the target, flushes it to disk (fsync), gives it
the permissions of a normally created file (0666 less the user's umask) and
renames it over the target (``os.replace`` is atomic within one folder). On any
exception (a full disk, Ctrl-C) the temporary file is removed and the old target
is untouched; a process killed outright (``kill -9``) cannot clean up, so each
write removes the temporary files that killed writers left in its folder.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``.<name>.<random>.<pid>.tmp`` files in ``folder`` whose writer is gone; return them."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


@contextmanager
def atomic_write(path, mode: str = "wb", newline: str | None = None):
    """``with atomic_write(path, "w") as f: ...``: ``path`` is replaced only if the block completes."""
    path = Path(path)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{os.getpid()}.tmp")
    try:
        with os.fdopen(fd, mode, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the rename makes it visible
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
