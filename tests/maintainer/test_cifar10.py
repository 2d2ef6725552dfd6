"""CIFAR-10 end to end without the network: a small data set written in CIFAR-10's binary
release layout, read by ``load_cifar10`` and trained on by ``cnnlib train`` with the Tiny VGG
preset; and, where ``CNNLIB_DATA`` (or the user cache) holds the real CIFAR-10, one epoch of
the preset on it, with its test accuracy printed (``pytest ... -s`` shows it).

The synthetic images are random noise, but not labelled at random: each holds a white square
where its class says (one of ten cells of a 4x4 grid), so that there is something to learn
and the loss must fall.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from cnnlib import data
from cnnlib.cli import main
from cnnlib.data import CIFAR10_CLASSES, formats

ROOT = Path(__file__).resolve().parents[2]
PRESET = ROOT / "configs" / "cifar10_tiny_vgg.yaml"
RECORDS = 600  # per file, as the real files hold 10,000: 300 images per class to train, 60 to test


def write_cifar10(folder: Path, records: int, seed: int = 0) -> dict:
    """Write ``cifar-10-batches-bin/`` as the binary release unpacks: data_batch_1.bin .. data_batch_5.bin
    and test_batch.bin of ``records`` records each (1 label byte, then the 1,024 red, 1,024 green and
    1,024 blue bytes of a 32x32 image, row by row) and batches.meta.txt (the class names, one a line).
    Returns ``{file name: (images uint8 (N, 3, 32, 32), labels uint8 (N,))}``."""
    rng = np.random.default_rng(seed)
    out = folder / "cifar-10-batches-bin"
    out.mkdir(parents=True)
    written = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.permutation(np.arange(records) % 10).astype(np.uint8)  # every class equally often
        images = rng.integers(0, 128, (records, 3, 32, 32), dtype=np.uint8)  # dark noise
        for i, label in enumerate(labels):  # and a white 8x8 square in cell `label` of a 4x4 grid
            row, col = divmod(int(label), 4)
            images[i, :, 8 * row:8 * row + 8, 8 * col:8 * col + 8] = 255
        (out / name).write_bytes(b"".join(bytes([label]) + image.tobytes() for image, label in zip(images, labels)))
        written[name] = images, labels
    (out / "batches.meta.txt").write_text("".join(f"{c}\n" for c in CIFAR10_CLASSES) + "\n")
    return written


@pytest.fixture
def cifar(tmp_path, monkeypatch):
    """A small CIFAR-10 in tmp_path/cifar-10-batches-bin and nowhere else (no cache, no mirror, no CNNLIB_DATA)."""
    from cnnlib.data import download
    monkeypatch.setattr(formats, "CIFAR10_RECORDS_PER_FILE", RECORDS)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setitem(download.MIRRORS, "cifar10", [])
    data.clear_cache()
    written = write_cifar10(tmp_path / "data", RECORDS)
    yield tmp_path / "data", written
    data.clear_cache()


def test_load_cifar10_reads_the_binary_layout(cifar):
    folder, written = cifar
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(folder, download=False)
    assert x_train.shape == (5 * RECORDS, 3, 32, 32) and x_test.shape == (RECORDS, 3, 32, 32)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert np.bincount(y_train).tolist() == [5 * RECORDS // 10] * 10  # 300 of each class
    # The layout, byte by byte: record k of data_batch_2.bin starts at k * 3073 with its label, then red,
    # green and blue planes. Its green pixel at row 5, column 7 is byte 1 + 1024 + 5 * 32 + 7 of the record.
    raw = (folder / "cifar-10-batches-bin" / "data_batch_2.bin").read_bytes()
    assert len(raw) == RECORDS * 3073
    k = 17
    record = raw[k * 3073:(k + 1) * 3073]
    assert y_train[RECORDS + k] == record[0]
    assert x_train[RECORDS + k, 1, 5, 7] == np.float32(record[1 + 1024 + 5 * 32 + 7]) / np.float32(255)
    images = np.concatenate([written[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(x_train, images.astype(np.float32) / 255)
    np.testing.assert_array_equal(y_test, written["test_batch.bin"][1])


def _history(run: Path) -> list[dict]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_cnnlib_train_runs_the_tiny_vgg_preset_on_it_and_the_loss_falls(cifar, tmp_path, capsys):
    folder, _ = cifar
    quick = ["--data", str(folder), "--run-dir", str(tmp_path / "runs"), "--epochs", "2", "--train-limit", "1000",
             "--validation-size", "200", "--reference", "--no-progress"]
    # The preset as shipped warms up for 350 steps: more than 2 epochs of 800 images, and it says so.
    assert main(["train", "--config", str(PRESET), *quick]) == 1
    err = capsys.readouterr().err
    assert "config key 'scheduler.warmup_steps' must be smaller than the run's 14 optimizer steps (2 epoch(s) " \
           "of 7 batches)" in err and "Received: 350" in err
    assert not (tmp_path / "runs").exists()

    config = yaml.safe_load(PRESET.read_text())
    # Scaled to the small run: 5 warm-up steps, batches of 32 (50 steps in all); the network, the
    # optimizer, its rate and the cosine schedule as shipped.
    config["scheduler"]["warmup_steps"], config["batch_size"] = 5, 32
    short = tmp_path / "cifar10_tiny_vgg.yaml"
    short.write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(short), *quick]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Training tiny_vgg on 800 cifar10 images, validating on 200, for 2 epochs." in out
    (run,) = (tmp_path / "runs").iterdir()
    rows = _history(run)
    losses = [float(r["loss"]) for r in rows]
    assert len(rows) == 2 and losses[0] < 1.1 * math.log(10), losses  # starts near chance: ln 10 = 2.30
    assert losses[1] < 0.8 * losses[0], losses  # and falls within 50 steps
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["subset"] == ("the first 1,000 of 3,000 cifar10 training images (800 to train, 200 to validate: "
                                 "validation_size 200), all 600 test images")
    assert metrics["train_samples"] == 800 and metrics["validation_samples"] == 200
    assert metrics["test_accuracy"] > 0.3, metrics  # chance is 0.1
    saved = json.loads((run / "metrics.json").read_text())

    assert main(["evaluate", "--checkpoint", str(run / "best.npz"), "--data", str(folder), "--limit", "100"]) == 0
    assert "(the first 100 of 600 cifar10 test images)" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(run / "best.npz"), "--data", str(folder)]) == 0
    assert f"test accuracy {saved['test_accuracy']:.2%}" in capsys.readouterr().out


def test_the_real_cifar10_trains_and_reports_its_accuracy(tmp_path, capsys):
    """Where a real CIFAR-10 copy is found (CNNLIB_DATA, or the user cache; never downloaded here):
    one epoch of the preset as shipped on its 45,000 training images (5,000 held out), then the
    test accuracy on all 10,000 test images. About two minutes on a 2-core machine."""
    data.clear_cache()
    try:
        data.load_cifar10(split="test", download=False)
    except FileNotFoundError:
        pytest.skip("no CIFAR-10 copy in CNNLIB_DATA or the user cache")
    assert main(["train", "--config", str(PRESET), "--reference", "--epochs", "1", "--run-dir", str(tmp_path),
                 "--no-progress"]) == 0, capsys.readouterr().err
    (run,) = tmp_path.iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    print(f"\nCIFAR-10, {PRESET.name}, 1 epoch: test accuracy {metrics['test_accuracy']:.2%} "
          f"({metrics['subset']}; {metrics['train_time_s']} s of training)")
    assert metrics["test_samples"] == 10_000 and metrics["train_samples"] == 45_000
    assert metrics["test_accuracy"] > 0.2  # chance is 0.1 (the bar is a guess: no real copy was at hand to measure)
