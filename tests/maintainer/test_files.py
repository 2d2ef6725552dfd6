"""``files.atomic_write``: the old file or the whole new one, no temporary file left behind."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

import pytest

from cnnlib.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.files import atomic_write, remove_stale_temporaries
from cnnlib.layers import Linear, Sequential


def temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(target, "w") as f:
            f.write("half of the new")
            raise OSError(28, "disk full")
    assert target.read_text() == "old"
    assert temporaries(tmp_path) == []


def test_the_new_file_has_the_permissions_of_a_normally_created_one(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.csv", "w") as f:
            f.write("x")
        (tmp_path / "b.csv").write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == (tmp_path / "b.csv").stat().st_mode & 0o777 == 0o644


def test_only_the_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / f".best.npz.abc123.{dead}.tmp").write_bytes(b"half")
    (tmp_path / f".best.npz.def456.{os.getpid()}.tmp").write_bytes(b"mine, in progress")
    (tmp_path / ".notes.tmp").write_text("not ours")
    assert [p.name for p in remove_stale_temporaries(tmp_path)] == [f".best.npz.abc123.{dead}.tmp"]
    assert temporaries(tmp_path) == [f".best.npz.def456.{os.getpid()}.tmp", ".notes.tmp"]


SAVER = """
import sys
from cnnlib.checkpoint import save_checkpoint
from cnnlib.layers import Linear, Sequential
model = Sequential(Linear(2000, 2000, rng=0))  # 16 MB of weights: each save takes a while
print("ready", flush=True)
while True:
    save_checkpoint(sys.argv[1], model)
"""


def test_twenty_kills_during_saves_then_one_save_leave_a_loadable_checkpoint_and_no_temporary(tmp_path):
    path = tmp_path / "best.npz"
    rng, left = random.Random(0), []
    for _ in range(20):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "ready"
        try:
            saver.wait(timeout=rng.uniform(0.02, 0.4))
        except subprocess.TimeoutExpired:
            os.kill(saver.pid, signal.SIGKILL)  # the process started here, by its id
        saver.wait()
        saver.stdout.close()
        left += temporaries(tmp_path)  # what the killed save left (the next save removes it)
    assert left, "no kill hit a save in progress: the test would prove nothing"
    save_checkpoint(path, Sequential(Linear(3, 2, rng=0)))
    assert temporaries(tmp_path) == []
    assert load_checkpoint(path)["model"].layers[0].params["weight"].shape == (2, 3)
