"""Tests of the ``cnnlib`` command (chapter 08): train, evaluate, export, progress.

They train the small CNN for two epochs on 400 digits of the MNIST sample
shipped with cnnlib (no network, no data files), in temporary directories.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cnnlib
from cnnlib.checkpoint import load_checkpoint
from cnnlib.cli import main
from cnnlib.runs import new_run_dir
from cnnlib.config import load_config
from cnnlib.data import load_mnist_sample
from cnnlib.layers import Sequential

ROOT = Path(__file__).resolve().parents[2]

TINY = """\
model: small_cnn
dataset: mnist_sample
train_samples: 400
test_samples: 200
epochs: 2
batch_size: 50
optimizer: sgd
lr: 0.1
momentum: 0.9
scheduler:
  name: cosine
  interval: step
callbacks:
  checkpoint:
    monitor: val_accuracy
seed: 0
validation_split: 0.25
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY + f"run_dir: {tmp_path / 'runs'}\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training run through main([...]), shared by the tests that only read its results."""
    tmp = tmp_path_factory.mktemp("cli")
    config = tmp / "tiny.yaml"
    config.write_text(TINY)
    with cnnlib.use_solutions(None):  # --reference must switch them on by itself
        code = main(["train", "--config", str(config), "--reference", "--run-dir", str(tmp / "runs"),
                     "--no-progress"])
    assert code == 0
    (run,) = (tmp / "runs").iterdir()
    return tmp, run


def _history_rows(run):
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_a_complete_run_directory(trained):
    tmp, run = trained
    assert run.name.startswith("tiny-")
    names = {p.name for p in run.iterdir()}
    assert {"config.yaml", "history.csv", "best.npz", "metrics.json"} <= names
    assert {"curves.png", "confusion_matrix.png"} <= names  # cnnlib.viz is installed
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind
    config = load_config(run / "config.yaml")
    assert config.model == "small_cnn" and config.epochs == 2
    rows = _history_rows(run)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_samples"] == 200 and metrics["epochs_trained"] == 2
    assert metrics["reference_solutions"] == "Reference solutions: ON for every exercise."
    assert metrics["test_accuracy"] > 0.3  # ten classes: far above chance after 2 epochs on 300 digits
    best = max(float(r["val_accuracy"]) for r in rows)
    saved = load_checkpoint(run / "best.npz")
    assert saved["extra"]["metrics"]["val_accuracy"] == pytest.approx(best)
    assert metrics["best_epoch"] == saved["epoch"]


def test_train_prints_the_switch_and_the_run_directory(tiny, tmp_path, capsys):
    code = main(["train", "--config", str(tiny), "--reference", "--epochs", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert out.splitlines()[0] == "Reference solutions: ON for every exercise."
    assert f"Run directory: {run}" in out and "Test accuracy" in out
    assert len(_history_rows(run)) == 1  # --epochs overrides the config


def test_each_run_gets_a_new_directory(tmp_path):
    first = new_run_dir(tmp_path, "cfg")
    (first / "best.npz").write_text("keep me")
    second, third = new_run_dir(tmp_path, "cfg"), new_run_dir(tmp_path, "cfg")
    assert len({first, second, third}) == 3  # within one second: numbered
    assert (first / "best.npz").read_text() == "keep me"
    assert all(p.is_dir() and p.parent == tmp_path and p.name.startswith("cfg-") for p in (first, second, third))


def test_evaluate_reports_what_train_measured(trained, capsys):
    tmp, run = trained
    metrics = json.loads((run / "metrics.json").read_text())
    assert main(["evaluate", "--checkpoint", str(run / "best.npz"), "--reference"]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy {metrics['test_accuracy']:.2%}" in out
    assert f"loss {metrics['test_loss']:.4f}" in out and "(the first 200 of 400 mnist_sample test images)" in out


def test_export_writes_weights_and_architecture_and_never_overwrites(trained, tmp_path, capsys):
    tmp, run = trained
    out = tmp_path / "export" / "model.npz"
    assert main(["export", "--checkpoint", str(run / "best.npz"), "--out", str(out)]) == 0
    description = json.loads(out.with_suffix(".json").read_text())
    assert description["input_shape"] == [1, 28, 28] and description["class_names"][3] == "3"
    model = Sequential.from_config(description["architecture"])
    with np.load(out, allow_pickle=False) as weights:
        model.load_state_dict(dict(weights))
    original = load_checkpoint(run / "best.npz")["model"]
    x = load_mnist_sample(8)[0]
    np.testing.assert_array_equal(model.eval().forward(x), original.eval().forward(x))

    before = out.read_bytes()
    capsys.readouterr()
    assert main(["export", "--checkpoint", str(run / "best.npz"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "already exist" in err and "pass --force to overwrite" in err
    assert out.read_bytes() == before
    assert main(["export", "--checkpoint", str(run / "best.npz"), "--out", str(out), "--force"]) == 0
    assert main(["export", "--checkpoint", str(run / "best.npz"), "--out", str(tmp_path / "m.json")]) == 1


def test_bad_config_fails_before_creating_a_run_directory(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace("lr: 0.1", "learning_rate: 0.1") + f"run_dir: {tmp_path / 'runs'}\n")
    assert main(["train", "--config", str(bad), "--reference"]) == 1
    err = capsys.readouterr().err
    assert "unknown key 'learning_rate'; did you mean 'lr'?" in err
    assert not (tmp_path / "runs").exists()
    assert main(["evaluate", "--checkpoint", str(tmp_path / "nope.npz")]) == 1
    assert "no checkpoint file" in capsys.readouterr().err


def test_a_diverging_run_keeps_what_it_saved_and_touches_no_other_run(tiny, tmp_path, capsys):
    other = tmp_path / "runs" / "tiny-older"
    other.mkdir(parents=True)
    (other / "best.npz").write_bytes(b"another run's checkpoint")
    diverging = tmp_path / "diverge.yaml"
    diverging.write_text(tiny.read_text().replace("lr: 0.1", "lr: 1.0e+30"))
    assert main(["train", "--config", str(diverging), "--reference", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "the loss became" in err and "lower learning rate" in err and "Training diverged after" in err
    assert (other / "best.npz").read_bytes() == b"another run's checkpoint"
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p != other]
    assert (run / "config.yaml").exists()
    assert json.loads((run / "metrics.json").read_text())["status"] == "diverged"


def _run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "cnnlib.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def test_the_command_runs_as_a_program(tiny, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}
    proc = _run("train", "--config", str(tiny), "--reference", "--epochs", "1", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Reference solutions: ON for every exercise." in proc.stdout
    assert "Epoch 1/1" in proc.stderr  # the progress bar
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "best.npz").exists()

    help_text = _run("--help").stdout
    assert all(cmd in help_text for cmd in ("train", "evaluate", "export", "progress"))
    script = shutil.which("cnnlib", path=str(Path(sys.executable).parent))  # the console script of pyproject.toml
    if script:
        proc = subprocess.run([script, "train", "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "--reference" in proc.stdout


def test_without_reference_the_learners_code_runs_and_unwritten_exercises_say_so(tiny, tmp_path):
    """On untouched stubs, `cnnlib train` runs the reference for each unwritten exercise and says which."""
    from cnnlib.exercises import get_exercise, learner_function
    try:
        learner_function(get_exercise("conv2d_forward"))(np.zeros((1, 1, 3, 3), np.float32),
                                                         np.zeros((1, 1, 3, 3), np.float32), None)
    except NotImplementedError:
        pass
    else:
        pytest.skip("conv2d_forward has been written by the learner")
    env = {k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}
    proc = _run("train", "--config", str(tiny), "--no-progress", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Reference solutions: off" in proc.stdout
    assert "[reference] 2.3 conv2d_forward is not started: the reference runs instead" in proc.stdout
    assert proc.stdout.count("[reference] 2.3 conv2d_forward") == 1  # once, not once per batch
    env["CNNLIB_STRICT"] = "1"  # strict mode: the first unwritten exercise stops the run, with a message
    proc = _run("train", "--config", str(tiny), "--no-progress", env=env, cwd=tmp_path)
    assert proc.returncode == 1 and "write it here" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_prints_the_autograder_table():
    env = dict(os.environ, CNNLIB_SOLUTIONS="all")
    proc = _run("progress", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "conv2d_forward" in proc.stdout and "done" in proc.stdout


@pytest.mark.parametrize("scheduler, expected", [
    (None, type(None)), ({"name": "step", "step_size": 2, "gamma": 0.5}, "StepLR"),
    ({"name": "exponential", "gamma": 0.9}, "ExponentialLR"), ({"name": "cosine"}, "CosineLR"),
    ({"name": "cosine", "interval": "step", "warmup_steps": 3}, "CosineLR"),
])
def test_every_scheduler_and_optimizer_of_a_config_can_be_built(scheduler, expected):
    from cnnlib.runs import model_for, optimizer_for, scheduler_for
    from cnnlib.config import config_from_dict
    for optimizer in ("sgd", "adam", "adamw"):
        config = config_from_dict({"model": "small_cnn", "epochs": 3, "optimizer": optimizer, "lr": 0.02,
                                   "scheduler": scheduler, "momentum": 0.9 if optimizer == "sgd" else 0.0})
        model = model_for(config, np.random.default_rng(0))
        opt = optimizer_for(config, model)
        assert type(opt).__name__.lower() == optimizer and opt.lr == pytest.approx(0.02)
        sched = scheduler_for(config, opt, steps_per_epoch=10)
        assert type(sched).__name__ == expected if isinstance(expected, str) else sched is None
        if scheduler and scheduler["name"] == "cosine":
            assert sched.total_steps == (30 if scheduler.get("interval") == "step" else 3)
    with pytest.raises(ValueError, match="did you mean 'lenet'"):  # the config refuses it before any model
        model_for(config_from_dict({"model": "lenett"}), np.random.default_rng(0))


# ----------------------------------------------------------------------------
# Data files from the command line: only the test split for evaluate, the command's own flags in messages

@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No data anywhere: an empty user cache, no CNNLIB_DATA, no mirrors."""
    from cnnlib.data import clear_cache, download
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    for dataset in download.MIRRORS:
        monkeypatch.setitem(download.MIRRORS, dataset, [])
    clear_cache()
    yield
    clear_cache()


def _checkpoint(path, dataset, model="small_cnn"):
    """An untrained model's checkpoint whose config names ``dataset`` (3 test images)."""
    from cnnlib.checkpoint import save_checkpoint
    from cnnlib.runs import model_for
    from cnnlib.config import config_from_dict
    config = config_from_dict({"model": model, "dataset": dataset, "test_samples": 3})
    return save_checkpoint(path, model_for(config, np.random.default_rng(0)), config=config.to_dict())


def _idx(array: np.ndarray) -> bytes:
    """The IDX file of a uint8 array (as MNIST's files are)."""
    return bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape) + array.tobytes()


def test_evaluate_names_the_commands_flag_and_only_the_test_files_when_data_is_missing(no_data, tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "run" / "best.npz", "mnist")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data", str(empty), "--reference"]) == 1
    err = capsys.readouterr().err
    assert "MNIST files not found: t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz " in err
    assert "train-" not in err  # evaluate needs the test split only
    assert "any folder that you pass as --data DIR or name in the environment variable CNNLIB_DATA" in err
    assert "path=..." not in err and "Traceback" not in err


def test_train_names_the_commands_flag_when_data_is_missing(no_data, tmp_path, capsys):
    config = tmp_path / "mnist.yaml"
    config.write_text(TINY.replace("dataset: mnist_sample", "dataset: mnist") + f"run_dir: {tmp_path / 'runs'}\n")
    assert main(["train", "--config", str(config), "--reference", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and "pass as --data DIR" in err and "path=..." not in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("dataset", ["fashion_mnist", "cifar10"])
def test_evaluate_reads_only_the_test_files(dataset, no_data, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    rng = np.random.default_rng(1)
    if dataset == "cifar10":
        from cnnlib.data import formats
        monkeypatch.setattr(formats, "CIFAR10_RECORDS_PER_FILE", 3)
        images, labels = rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8), [1, 2, 3]
        (folder / "test_batch.bin").write_bytes(b"".join(bytes([y]) + x.tobytes() for x, y in zip(images, labels)))
    else:
        (folder / "t10k-images-idx3-ubyte").write_bytes(_idx(rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)))
        (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.arange(5, dtype=np.uint8)))
    ckpt = _checkpoint(tmp_path / "best.npz", dataset, model="tiny_vgg" if dataset == "cifar10" else "small_cnn")
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data", str(folder), "--reference"]) == 0, \
        capsys.readouterr().err
    used = "all 3" if dataset == "cifar10" else "the first 3 of 5"  # the checkpoint's config: test_samples 3
    assert f"({used} {dataset} test images)" in capsys.readouterr().out


def test_export_writes_beside_the_checkpoint_by_default_and_never_over_it(trained, tmp_path, capsys, monkeypatch):
    _, run = trained
    mine = tmp_path / "runs" / "mine"
    mine.mkdir(parents=True)
    ckpt = mine / "best.npz"
    shutil.copy(run / "best.npz", ckpt)
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--checkpoint", str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote {mine / 'export.npz'} (weights) and {mine / 'export.json'} (architecture)." in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # nothing in the current directory
    before = (mine / "export.npz").read_bytes()
    assert main(["export", "--checkpoint", str(ckpt)]) == 1
    err = capsys.readouterr().err
    assert "already exist" in err and "(the default: beside the checkpoint)" in err
    assert "pass --force to overwrite" in err and "--out with another .npz file" in err
    assert (mine / "export.npz").read_bytes() == before
    assert main(["export", "--checkpoint", str(ckpt), "--force"]) == 0
    # Not even --force replaces the checkpoint itself.
    saved = ckpt.read_bytes()
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(ckpt), "--force"]) == 1
    assert "must not replace its own checkpoint" in capsys.readouterr().err
    assert ckpt.read_bytes() == saved
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert "runs/" in gitignore  # the default place is never committed


@pytest.mark.parametrize("command, expected", [
    ("train", ["--config FILE", "--epochs N", "data_dir of the config"]),
    ("evaluate", ["on the test set of the data it was trained on", "runs/<run>/best.npz",
                  "data_dir of the checkpoint's config"]),
    ("export", ["[--out PATH]", "default: export.npz beside the checkpoint", "unless --force"]),
])
def test_help_of_each_command(command, expected, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option: the phrases are not wrapped
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(phrase in out for phrase in expected), out


def test_an_unwritable_run_folder_is_a_message_not_a_traceback(tiny, tmp_path):
    runs = tmp_path / "locked"
    runs.mkdir()
    runs.chmod(0o500)
    try:
        proc = _run("train", "--config", str(tiny), "--reference", "--run-dir", str(runs), "--no-progress")
    finally:
        runs.chmod(0o700)
    if os.geteuid() == 0 and proc.returncode == 0:
        pytest.skip("root may write into a read-only folder")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cnnlib train: error: permission denied" in proc.stderr and str(runs) in proc.stderr


def test_a_full_disk_is_named_and_the_failure_lists_only_what_the_run_kept(tiny, tmp_path, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "runs" / "best.npz"))

    monkeypatch.setattr("cnnlib.checkpoint.save_checkpoint", full)
    code = main(["train", "--config", str(tiny), "--reference", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "cnnlib train: error: the disk is full (" in err
    assert "keeps config.yaml, history.csv." in err  # no best.npz: its save is what failed


@pytest.mark.parametrize("sig, code, words", [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_an_interrupted_run_says_so_with_the_shells_exit_code(tiny, tmp_path, sig, code, words):
    proc = subprocess.Popen([sys.executable, "-m", "cnnlib.cli", "train", "--config", str(tiny), "--reference",
                             "--epochs", "5000", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path,
                            # a learner's shell delivers Ctrl-C; pytest-xdist's workers ignore SIGINT, and a
                            # child inherits that, so give the run the default a terminal gives it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:  # wait until training has begun
        if line.startswith("Training"):
            break
    time.sleep(1.0)
    proc.send_signal(sig)  # the process started here, by its handle
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert f"cnnlib train: stopped by {words}." in err and "Traceback" not in err


def test_a_run_dir_that_is_a_file_is_named(tiny, tmp_path, capsys):
    afile = tmp_path / "runs-file"
    afile.write_text("not a folder")
    assert main(["train", "--config", str(tiny), "--reference", "--run-dir", str(afile), "--no-progress"]) == 1
    assert "run_dir must be a folder" in capsys.readouterr().err and afile.read_text() == "not a folder"
