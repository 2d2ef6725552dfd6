"""Quick subsets (chapter 08's command line): ``cnnlib train --train-limit N --validation-size M``,
the config keys behind them (``train_samples``, ``validation_size``), ``cnnlib evaluate --limit N``,
the errors for sizes the data set cannot give, and the subset named in the run's metrics.

The runs use the MNIST sample shipped with cnnlib (1,600 digits to train, 400 to test).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from cnnlib.checkpoint import load_checkpoint
from cnnlib.cli import main
from cnnlib.config import ConfigError, config_from_dict, load_config
from cnnlib.data import load_mnist_sample
from cnnlib.runs import split_validation
from cnnlib.trainer import Trainer

SMALL = """\
model: small_cnn
dataset: mnist_sample
train_samples: 400
test_samples: 200
epochs: 1
batch_size: 50
optimizer: sgd
lr: 0.1
momentum: 0.9
callbacks:
  checkpoint:
    monitor: val_accuracy
seed: 0
validation_split: 0.25
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL + f"run_dir: {tmp_path / 'runs'}\n")
    return path


def test_train_limit_and_validation_size_choose_the_images_and_the_metrics_name_them(small, tmp_path, capsys):
    assert main(["train", "--config", str(small), "--reference", "--no-progress", "--train-limit", "300",
                 "--validation-size", "60"]) == 0
    out = capsys.readouterr().out
    subset = ("the first 300 of 1,600 mnist_sample training images (240 to train, 60 to validate: "
              "validation_size 60), the first 200 of 400 test images")
    assert "Training small_cnn on 240 mnist_sample images, validating on 60, for 1 epochs." in out
    assert f"Data: {subset}." in out
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["subset"] == subset
    assert (metrics["train_samples"], metrics["validation_samples"], metrics["test_samples"]) == (240, 60, 200)
    # The configuration as run: the command line's sizes replaced the file's, validation_split included.
    as_run = load_config(run / "config.yaml")
    assert (as_run.train_samples, as_run.validation_size, as_run.validation_split) == (300, 60, None)

    # evaluate: by default the images the run was tested on; --limit N the first N of the test set.
    ckpt = run / "best.npz"
    assert main(["evaluate", "--checkpoint", str(ckpt), "--reference"]) == 0
    assert f"test accuracy {metrics['test_accuracy']:.2%}" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", str(ckpt), "--reference", "--limit", "350"]) == 0
    out = capsys.readouterr().out
    x, y = load_mnist_sample()
    expected = Trainer(load_checkpoint(ckpt)["model"], optimizer=None).evaluate(x[1600:1950], y[1600:1950])
    assert f"test accuracy {expected['accuracy']:.2%}, loss {expected['loss']:.4f} " \
           "(the first 350 of 400 mnist_sample test images)" in out
    assert main(["evaluate", "--checkpoint", str(ckpt), "--reference", "--limit", "400"]) == 0
    assert "(all 400 mnist_sample test images)" in capsys.readouterr().out


NO_CHANGE = ("", "")


@pytest.mark.parametrize("args, change, message", [
    (["--train-limit", "1601"], NO_CHANGE, ("config key 'train_samples' (--train-limit) must be at most 1,600, the "
                                            "number of mnist_sample training images. Received: 1601")),
    (["--train-limit", "0"], NO_CHANGE, "config key 'train_samples' (--train-limit) must be >= 1. Received: 0"),
    (["--validation-size", "400"], NO_CHANGE, ("config key 'validation_size' (--validation-size) must leave images "
                                               "to train on: it holds out 400 of the 400 training images that "
                                               "train_samples keeps. Received: 400")),
    (["--train-limit", "1600", "--validation-size", "1600"], NO_CHANGE, "holds out 1,600 of the 1,600 training images"),
    (["--validation-size", "-1"], NO_CHANGE, "config key 'validation_size' must be >= 0"),
    (["--validation-size", "0"], NO_CHANGE, "config key 'callbacks.checkpoint.monitor' needs validation data"),
    ([], ("test_samples: 200", "test_samples: 401"), ("config key 'test_samples' must be at most 400, the number of "
                                                      "mnist_sample test images. Received: 401")),
    ([], ("seed: 0", "seed: 0\nvalidation_size: 10"),
     "config key 'validation_size' and validation_split both size the validation set"),
    (["--train-limit", "100"], ("seed: 0", "seed: 0\nscheduler: {name: cosine, interval: step, warmup_steps: 2}"),
     ("config key 'scheduler.warmup_steps' must be smaller than the run's 2 optimizer steps (1 epoch(s) of 2 "
      "batches); lower it, or train on more images (--train-limit, --validation-size) or for more epochs. "
      "Received: 2")),
])
def test_sizes_out_of_range_are_errors_before_a_run_directory_exists(tmp_path, capsys, args, change, message):
    path = tmp_path / "c.yaml"
    path.write_text(SMALL.replace(*change) + f"run_dir: {tmp_path / 'runs'}\n")
    assert main(["train", "--config", str(path), "--reference", "--no-progress", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "runs").exists()


def test_the_sizes_the_data_set_can_give_are_accepted_up_to_its_size():
    config = config_from_dict({"model": "small_cnn", "train_samples": 1600, "validation_size": 1599,
                               "test_samples": 400})
    config.check_data(1600, 400)  # the largest of each: one image left to train on
    with pytest.raises(ConfigError, match=r"'train_samples' \(--train-limit\) must be at most 1,599"):
        config.check_data(1599, 400)
    with pytest.raises(ConfigError, match=r"'test_samples' must be at most 399"):
        config.check_data(1600, 399)
    config.check_data(None, 400)  # evaluate reads only the test set: only test_samples is checked
    fraction = config_from_dict({"model": "small_cnn", "validation_split": 0.99})
    with pytest.raises(ConfigError, match=r"'validation_split' must leave images to train on: it holds out 1 of the "
                                          r"1 training images\. Received: 0\.99"):
        fraction.check_data(1, 1)


def test_evaluate_limit_out_of_range_names_the_flag(small, tmp_path, capsys):
    assert main(["train", "--config", str(small), "--reference", "--no-progress"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "best.npz"), "--limit", "401"]) == 1
    err = capsys.readouterr().err
    assert "cnnlib evaluate: error: evaluate_checkpoint: limit (--limit) must be at most 400, the number of " \
           "mnist_sample test images. Received: limit=401" in err
    assert main(["evaluate", "--checkpoint", str(run / "best.npz"), "--limit", "0"]) == 1
    assert "limit (--limit) must be a whole number >= 1. Received: limit=0" in capsys.readouterr().err


def test_validation_size_and_validation_split_exclude_each_other():
    by_count = config_from_dict({"model": "lenet", "validation_size": 500})
    assert (by_count.validation_split, by_count.validation_size) == (None, 500)
    assert config_from_dict(by_count.to_dict()) == by_count  # round trip
    assert config_from_dict({"model": "lenet"}).validation_split == 0.1  # the default fraction, without a count
    with pytest.raises(ConfigError, match=r"'validation_size' and validation_split both size the validation set "
                                          r"\(a number of images, a fraction\): keep one\. Received: "
                                          r"\{'validation_split': 0.1, 'validation_size': 500\}"):
        config_from_dict({"model": "lenet", "validation_split": 0.1, "validation_size": 500})


def test_an_override_of_one_replaces_the_files_other(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("model: small_cnn\nvalidation_split: 0.2\n")
    assert load_config(path, validation_size=30).validation_split is None  # what --validation-size does
    path.write_text("model: small_cnn\nvalidation_size: 30\n")
    replaced = load_config(path, validation_split=0.3)
    assert (replaced.validation_split, replaced.validation_size) == (0.3, None)
    with pytest.raises(ConfigError, match="both size the validation set"):  # both on the command line: refused
        load_config(path, validation_split=0.3, validation_size=30)


def test_the_flags_names_in_a_config_point_to_its_keys():
    with pytest.raises(ConfigError, match=r"unknown key 'train_limit'; did you mean 'train_samples'\?"):
        config_from_dict({"model": "lenet", "train_limit": 100})
    with pytest.raises(ConfigError, match=r"unknown key 'val_size'; did you mean 'validation_size'\?"):
        config_from_dict({"model": "lenet", "val_size": 100})


def test_split_validation_holds_out_exactly_size_images():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    (xt, yt), (xv, yv) = split_validation(x, y, None, np.random.default_rng(0), size=3)
    assert len(xv) == 3 and len(xt) == 7
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(10))  # a partition, nothing lost
    assert list(yt) == sorted(yt) and list(yv) == sorted(yv)  # each part in the data's own order
    (_, _), (xv, _) = split_validation(x, y, 0.25, np.random.default_rng(0))
    assert len(xv) == 2  # the fraction as before: round(10 * 0.25)
    assert split_validation(x, y, None, np.random.default_rng(0), size=0)[1] is None


@pytest.mark.parametrize("command, phrases", [
    ("train", ["--train-limit N", "(config key train_samples)", "--validation-size M",
               "replaces the config's validation_split"]),
    ("evaluate", ["--limit N", "only the first N test images"]),
])
def test_the_help_names_the_flags_and_the_config_keys(command, phrases, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert all(p in out for p in phrases), out
