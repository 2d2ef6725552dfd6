"""Chapter 12's protected pieces: Augment, the trainer's augment hook, the augment config key, the capstone
table (cnnlib.capstone) and the committed reference measurements."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import cnnlib
from cnnlib import capstone, runs
from cnnlib.config import ConfigError, config_from_dict, load_config
from cnnlib.layers import Flatten, Layer, Linear, Sequential
from cnnlib.optim import SGD
from cnnlib.trainer import Trainer
from cnnlib.transforms import Augment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def reference():
    with cnnlib.use_solutions("all"):
        yield


def digits(n=6, seed=0):
    return np.random.default_rng(seed).random((n, 1, 10, 10)).astype(np.float32)


# ---------------------------------------------------------------------------- Augment

def test_augment_chains_rotate_shift_erase_with_the_rng_it_is_given():
    x = digits()
    out = Augment(shift=2, rotate=15, erase=0.5)(x, np.random.default_rng(0))
    again = Augment(shift=2, rotate=15, erase=0.5)(x, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    assert out.shape == x.shape and out.dtype == x.dtype and not np.array_equal(out, x)
    np.testing.assert_array_equal(Augment()(x, np.random.default_rng(0)), x)  # all off: the batch itself


def test_augment_is_the_exercises_in_order():
    x, rng, ref = digits(), np.random.default_rng(3), np.random.default_rng(3)
    from solutions import augmentation as A
    expected = A.random_shift(A.rotate(x, ref.uniform(-10, 10, size=len(x))), 1, ref)
    np.testing.assert_array_equal(Augment(shift=1, rotate=10)(x, rng), expected)


@pytest.mark.parametrize("kwargs, words", [(dict(shift=-1), "shift must be >= 0"),
                                           (dict(shift=1.5), "shift must be an integer"),
                                           (dict(rotate=200), "rotate must be a number in [0, 180]"),
                                           (dict(erase=1.5), "erase must be a number in [0, 1]")])
def test_augment_refuses_bad_settings(kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words.replace("[", r"\[").replace("]", r"\]")):
        Augment(**kwargs)


# ---------------------------------------------------------------------------- the trainer

def test_the_trainer_augments_training_batches_only_with_its_own_rng():
    seen, calls = {"train": [], "eval": []}, []

    class Spy(Layer):
        def forward(self, x):
            seen["train" if self.training else "eval"].append(float(x.min()))
            return x

        def backward(self, dout):
            return dout

    def plus_ten(xb, rng):
        calls.append(rng)
        return xb + 10

    x = digits(40)
    y = np.arange(40) % 3
    model = Sequential(Spy(), Flatten(), Linear(100, 3, rng=0))
    trainer = Trainer(model, SGD(model, lr=1e-3), rng=0, augment=plus_ten)
    seen["eval"].clear()
    trainer.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=False)
    trainer.evaluate(x, y)
    assert len(calls) == 6 and all(r is trainer.rng for r in calls)
    assert min(seen["train"]) >= 10 and max(seen["eval"]) < 1


def test_the_trainer_refuses_an_augment_that_is_not_a_function():
    model = Sequential(Flatten(), Linear(100, 3, rng=0))
    with pytest.raises(TypeError, match="augment must be None or a function"):
        Trainer(model, SGD(model, lr=0.1), augment="shift")


# ---------------------------------------------------------------------------- the config key

def test_the_augment_key_builds_an_augment():
    config = config_from_dict({"model": "lenet", "augment": {"shift": 2, "rotate": 10}})
    augment = runs.augment_for(config)
    assert (augment.shift, augment.rotate, augment.erase) == (2, 10.0, 0.0)
    assert runs.augment_for(config_from_dict({"model": "lenet"})) is None


@pytest.mark.parametrize("augment, pattern", [
    ({"shift": -1}, r"'augment.shift' must be >= 0"), ({"rotate": 270}, r"'augment.rotate' must be in \[0, 180\]"),
    ({"erase": 2}, r"'augment.erase' must be in \[0, 1\]"),
    ({"rotation": 10}, r"unknown key 'augment.rotation'; did you mean 'augment.rotate'"),
    ({"shift": 1.5}, r"key 'augment.shift' must be int")])
def test_bad_augment_keys_are_named(augment, pattern):
    with pytest.raises(ConfigError, match=pattern):
        config_from_dict({"model": "lenet", "augment": augment})


@pytest.mark.parametrize("name, config", [("reference", "configs/mnist_capstone.yaml")] + [
    (p.stem.removeprefix("capstone_"), f"benchmarks/results/{p.name}")
    for p in sorted((ROOT / "benchmarks" / "results").glob("capstone_candidate_*.yaml"))])
def test_the_committed_measurements_are_of_their_configs_recipe(name, config):
    report = json.loads((ROOT / "benchmarks" / "results" / f"capstone_{name}.json").read_text())
    recipe = load_config(ROOT / config).to_dict()
    assert report["config"] == config
    assert {k: recipe[k] for k in report["recipe"]} == report["recipe"]
    for row in report["seeds"]:
        assert len(row["val_accuracy_per_epoch"]) == row["epochs"] == recipe["epochs"]
        assert row["val_accuracy"] == row["val_accuracy_per_epoch"][-1] and row["train_time_s"] > 0
        assert row["test_accuracy"] is not None or name != "reference"
    assert len(report["seeds"]) >= (3 if name == "reference" else 1)


# ---------------------------------------------------------------------------- the table

def test_record_appends_rows_and_keeps_every_earlier_one(tmp_path):
    path = tmp_path / "table.csv"
    capstone.record("a", {"model": "lenet", "epochs": 2}, 0.98, path=path)
    rows = capstone.record("b", {"model": "vgg_bn", "shift": 2}, 0.99, test_accuracy=0.9912, path=path)
    assert [r["name"] for r in rows] == ["a", "b"] == [r["name"] for r in capstone.load(path)]
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    assert header == ["name", "model", "epochs", "shift", "val_accuracy", "test_accuracy", "recorded"]
    first, second = capstone.load(path)
    assert (first["epochs"], first["shift"], first["test_accuracy"]) == ("2", "", "")
    assert (second["val_accuracy"], second["test_accuracy"]) == ("0.9900", "0.9912")


def test_record_refuses_a_name_twice_unless_told_and_bad_values(tmp_path):
    path = tmp_path / "table.csv"
    capstone.record("a", {"epochs": 2}, 0.98, path=path)
    with pytest.raises(ValueError, match="'a' is already in"):
        capstone.record("a", {"epochs": 3}, 0.99, path=path)
    assert capstone.load(path)[0]["epochs"] == "2"
    capstone.record("a", {"epochs": 3}, 0.99, path=path, replace=True)
    assert [r["epochs"] for r in capstone.load(path)] == ["3"]
    for kwargs, words in [(dict(val_accuracy=99.1), r"fraction in \[0, 1\] \(0.993, not 99.3\)"),
                          (dict(choices={"lr": [0.1]}), "one cell each"), (dict(name=" "), "non-empty"),
                          (dict(choices={"name": 1}), "keys must be strings other than"),
                          (dict(test_accuracy="high"), "test_accuracy must be a fraction")]:
        args = {"name": "z", "choices": {}, "val_accuracy": 0.9, "path": path, **kwargs}
        with pytest.raises((ValueError, TypeError), match=words):
            capstone.record(**args)
    assert len(capstone.load(path)) == 1


def test_load_refuses_a_file_that_is_not_a_table(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="must be a table written by capstone.record"):
        capstone.load(path)
