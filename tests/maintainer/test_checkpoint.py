"""Tests of cnnlib.checkpoint: round trips, exact resumption, atomic writes, and clear errors
for damaged files and mismatched models."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import cnnlib.checkpoint as checkpoint
from cnnlib.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.layers import Conv2d, Flatten, Linear, ReLU, Sequential, Tanh
from cnnlib.ops import softmax_cross_entropy
from cnnlib.models import lenet, vgg_bn
from cnnlib.optim import SGD, Adam, CosineLR, StepLR


def small_vgg(seed=0):
    return vgg_bn(input_size=8, widths=(4, 6), hidden=12, dropout=0.2, seed=seed)


def batches(n, seed=123):
    rng = np.random.default_rng(seed)
    return [(rng.random((8, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 8)) for _ in range(n)]


def train(model, opt, sched, data):
    model.train()
    for x, y in data:
        _, dlogits = softmax_cross_entropy(model(x), y)
        model.backward(dlogits)
        opt.step()
        sched.step()


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


# ----------------------------------------------------------------------------
# Round trips

def test_round_trip_restores_weights_buffers_optimizer_scheduler_and_metadata(tmp_path):
    model = small_vgg()
    opt = SGD(model, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    train(model, opt, sched, batches(3))
    config = {"model": "vgg_bn", "lr": 0.1, "epochs": 3}
    extra = {"history": {"loss": [2.3, 2.1]}, "trainer_rng": np.random.default_rng(9).bit_generator.state,
             "confusion": np.eye(3, dtype=np.int64)}
    path = save_checkpoint(tmp_path / "run" / "ckpt.npz", model, opt, config=config, epoch=3, extra=extra,
                           scheduler=sched)
    assert path == tmp_path / "run" / "ckpt.npz" and os.listdir(tmp_path / "run") == ["ckpt.npz"]

    with np.load(path, allow_pickle=False) as z:  # plain npz, no pickle
        files = set(z.files)
        assert json.loads(z["architecture"].item()) == model.to_config()
    assert {"cnnlib_checkpoint", "architecture", "rng_state", "optimizer", "scheduler", "config", "epoch",
            "extra", "model/0.weight", "model/1.running_mean", "optimizer/velocity.0.weight",
            "extra/confusion"} <= files

    fresh = small_vgg(seed=5)
    opt2 = SGD(fresh, lr=0.5)
    sched2 = StepLR(opt2, step_size=7)
    ck = load_checkpoint(path, fresh, opt2, scheduler=sched2)
    assert ck["model"] is fresh and ck["optimizer"] is opt2 and ck["scheduler"] is sched2
    assert_same_weights(model, fresh)
    assert fresh.rng_state() == model.rng_state()
    assert opt2.state_dict().keys() == opt.state_dict().keys()
    assert opt2.lr == opt.lr and opt2.t == 3 and opt2.nesterov and sched2.state_dict() == sched.state_dict()
    assert ck["config"] == config and ck["epoch"] == 3
    assert ck["extra"]["history"] == extra["history"] and ck["extra"]["trainer_rng"] == extra["trainer_rng"]
    np.testing.assert_array_equal(ck["extra"]["confusion"], np.eye(3))


def test_load_without_a_model_rebuilds_it_from_the_architecture(tmp_path):
    model = lenet(seed=1)
    save_checkpoint(tmp_path / "lenet.npz", model)
    ck = load_checkpoint(tmp_path / "lenet.npz")
    rebuilt = ck["model"]
    assert repr(rebuilt) == repr(model) and ck["optimizer_state"] is None and ck["config"] is None
    assert_same_weights(model, rebuilt)
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(model(x), rebuilt(x))


def test_config_may_be_a_dataclass_but_must_be_json_able(tmp_path):
    @dataclasses.dataclass
    class Config:
        lr: float = 0.1
        run_dir: os.PathLike = tmp_path
        sizes: tuple = (1, 2)

    model = Sequential(Linear(2, 2, rng=0))
    save_checkpoint(tmp_path / "a.npz", model, config=Config())
    assert load_checkpoint(tmp_path / "a.npz")["config"] == {"lr": 0.1, "run_dir": str(tmp_path), "sizes": [1, 2]}
    with pytest.raises(TypeError, match="save_checkpoint: config must be JSON-able"):
        save_checkpoint(tmp_path / "b.npz", model, config={"f": object()})
    assert not (tmp_path / "b.npz").exists()


# ----------------------------------------------------------------------------
# Resuming gives exactly the uninterrupted run

@pytest.mark.parametrize("make_opt", [lambda m: SGD(m, lr=0.05, momentum=0.9),
                                      lambda m: Adam(m, lr=3e-3, weight_decay=1e-4)], ids=["sgd-momentum", "adam"])
def test_save_load_resume_equals_uninterrupted_training(tmp_path, make_opt):
    data = batches(7)
    n = 4

    straight = small_vgg()
    opt = make_opt(straight)
    train(straight, opt, CosineLR(opt, total_steps=7, warmup_steps=2), data)

    first = small_vgg()
    opt = make_opt(first)
    sched = CosineLR(opt, total_steps=7, warmup_steps=2)
    train(first, opt, sched, data[:n])
    save_checkpoint(tmp_path / "mid.npz", first, opt, epoch=n, scheduler=sched)
    del first, opt, sched

    ck = load_checkpoint(tmp_path / "mid.npz")  # fresh objects from the file alone
    resumed = ck["model"]
    opt = make_opt(resumed)
    opt.load_state_dict(ck["optimizer_state"])
    sched = CosineLR(opt, total_steps=7, warmup_steps=2)
    sched.load_state_dict(ck["scheduler_state"])
    train(resumed, opt, sched, data[n:])

    assert_same_weights(straight, resumed)  # bit for bit: weights, running statistics
    assert straight.rng_state() == resumed.rng_state()  # and the dropout generators


def test_without_the_generator_state_dropout_would_draw_other_masks(tmp_path):
    """Why the checkpoint stores the dropout generators: a fresh generator gives other masks."""
    model = small_vgg()
    save_checkpoint(tmp_path / "c.npz", model)
    other = small_vgg(seed=1)
    other.load_state_dict(model.state_dict())  # weights only
    x = np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)
    loaded = load_checkpoint(tmp_path / "c.npz")["model"]
    expected = model(x)
    np.testing.assert_array_equal(loaded(x), expected)
    assert not np.array_equal(other(x), expected)


# ----------------------------------------------------------------------------
# Errors

def _conv_model(width):
    return Sequential(Conv2d(1, width, 3, rng=0), ReLU(), Flatten(), Linear(width * 4, 3, rng=0))


def test_loading_into_a_mismatched_model_names_the_layer_and_shapes(tmp_path):
    path = save_checkpoint(tmp_path / "w8.npz", _conv_model(8))
    target = _conv_model(16)
    before = target.state_dict()
    with pytest.raises(ValueError) as e:
        load_checkpoint(path, target)
    message = str(e.value)
    assert str(path) in message and "does not fit the model" in message
    assert "'0.weight' of layer Conv2d(1, 16, kernel_size=3) must have shape (16, 1, 3, 3)" in message
    assert "Received: 0.weight.shape=(8, 1, 3, 3)" in message
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # untouched

    other = Sequential(Conv2d(1, 8, 3, rng=0), Tanh(), Flatten(), Linear(32, 3, rng=0))
    with pytest.raises(ValueError, match=r"layer 1 is a Tanh in the model but a ReLU in the checkpoint"):
        load_checkpoint(path, other)
    with pytest.raises(ValueError, match=r"the model has 2 layers, the checkpoint 4"):
        load_checkpoint(path, Sequential(Conv2d(1, 8, 3, rng=0), ReLU()))


def test_optimizer_state_must_fit(tmp_path):
    model = _conv_model(8)
    opt = SGD(model, lr=0.1, momentum=0.9)
    path = save_checkpoint(tmp_path / "m.npz", model, opt)
    with pytest.raises(ValueError, match=r"the optimizer state does not fit: Adam.load_state_dict: state must come "
                                         r"from a Adam optimizer"):
        load_checkpoint(path, model, Adam(model))
    bare = save_checkpoint(tmp_path / "bare.npz", model)
    with pytest.raises(ValueError, match=r"holds no optimizer state"):
        load_checkpoint(bare, model, SGD(model, lr=0.1))
    with pytest.raises(ValueError, match="optimizer must be built for the model given"):
        load_checkpoint(path, None, SGD(model, lr=0.1))


def test_a_truncated_file_is_reported_with_its_name(tmp_path):
    path = save_checkpoint(tmp_path / "big.npz", lenet(seed=0))
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        broken = tmp_path / f"cut{cut}.npz"
        broken.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"load_checkpoint: {broken} is not a readable checkpoint .*truncated"):
            load_checkpoint(broken)


def test_other_files_are_reported_with_their_name(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match=rf"{text} is not a readable checkpoint"):
        load_checkpoint(text)
    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    with pytest.raises(ValueError, match=rf"{npy} is not a readable checkpoint.*not an .npz archive"):
        load_checkpoint(npy)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with pytest.raises(ValueError, match=rf"{other} is an .npz file but not a cnnlib checkpoint"):
        load_checkpoint(other)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.npz")


# ----------------------------------------------------------------------------
# Atomic writes

@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_failed_save_leaves_the_previous_checkpoint_intact_and_no_temp_file(tmp_path, monkeypatch, failure):
    model = _conv_model(8)
    path = save_checkpoint(tmp_path / "ckpt.npz", model, epoch=1)
    original = path.read_bytes()
    real_savez = np.savez

    def failing_savez(file, **entries):
        real_savez(file, **dict(list(entries.items())[:3]))  # part of the archive is written...
        raise failure  # ...then the disk fills up or the user presses Ctrl-C

    monkeypatch.setattr(checkpoint.np, "savez", failing_savez)
    model[0].params["weight"] += 1
    with pytest.raises(type(failure)):
        save_checkpoint(path, model, epoch=2)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


def test_a_failed_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"

    def failing_replace(src, dst):
        raise PermissionError("read-only")

    monkeypatch.setattr(checkpoint.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        save_checkpoint(path, _conv_model(4))
    assert os.listdir(tmp_path) == []


def _with_architecture(src, dest, architecture: dict):
    """A copy of checkpoint ``src`` whose architecture entry says ``architecture``."""
    import json
    with np.load(src) as f:
        entries = {k: f[k] for k in f.files}
    entries["architecture"] = np.array(json.dumps(architecture))
    np.savez(dest, **entries)
    return dest


def test_an_architecture_that_contradicts_the_arrays_is_refused_before_anything_is_allocated(tmp_path):
    small = save_checkpoint(tmp_path / "small.npz", Sequential(Linear(3, 2, rng=0)))
    huge = {"type": "Sequential", "layers": [{"type": "Linear", "in_features": 30000, "out_features": 30000,
                                              "bias": True, "init": "pytorch", "dtype": "float64"}]}
    hostile = _with_architecture(small, tmp_path / "hostile.npz", huge)
    assert hostile.stat().st_size < 10_000
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))  # 6.7 GiB would fail loudly\n"
            "from cnnlib.checkpoint import load_checkpoint\n"
            "try:\n    load_checkpoint(sys.argv[1])\nexcept ValueError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(hostile)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "contradicts itself" in proc.stdout and "shape (30000, 30000), dtype float64" in proc.stdout
    assert "holds shape (2, 3), dtype float32" in proc.stdout


def test_float32_weights_are_not_cast_silently_into_a_float64_model(tmp_path):
    path = save_checkpoint(tmp_path / "f32.npz", Sequential(Linear(3, 2, rng=0)))
    with pytest.raises(ValueError, match=r"holds float32 weights but the model's are float64: build the model "
                                         r"with dtype=np.float32"):
        load_checkpoint(path, Sequential(Linear(3, 2, rng=0, dtype=np.float64)))
