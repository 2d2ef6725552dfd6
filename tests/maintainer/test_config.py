"""Tests of the YAML training configurations (chapter 08): the shipped presets and the error messages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cnnlib import models
from cnnlib.config import (ConfigError, SchedulerConfig, TrainConfig, config_from_dict, dump_config,
                           load_config)

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "configs").glob("*.yaml"))


def test_the_course_ships_the_seven_presets():
    assert [p.stem for p in PRESETS] == ["cifar10_tiny_vgg", "fashion_mnist_lenet", "mnist_capstone", "mnist_fast",
                                         "mnist_lenet", "mnist_small", "mnist_vgg_bn"]


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_every_preset_loads_and_names_a_real_model(path):
    config = load_config(path)
    assert isinstance(config, TrainConfig) and config.name == path.stem
    assert config.model in models.MODELS
    assert path.stem.startswith(config.dataset.replace("_", "")) or path.stem.startswith(config.dataset)
    assert config.scheduler is None or isinstance(config.scheduler, SchedulerConfig)
    assert config.callbacks.checkpoint is not None and 0 < config.validation_split < 1


def test_round_trip_through_yaml(tmp_path):
    config = load_config(ROOT / "configs" / "mnist_lenet.yaml", epochs=1)
    assert config.epochs == 1
    dump_config(config, tmp_path / "copy.yaml")
    assert load_config(tmp_path / "copy.yaml") == config
    assert config_from_dict(config.to_dict()) == config


def test_defaults_and_yaml_quirks():
    config = config_from_dict({"model": "lenet", "lr": "1e-3", "epochs": 2, "momentum": 0,
                               "callbacks": {"early_stopping": None}})
    assert config.lr == 0.001  # PyYAML reads 1e-3 as a string; it means the number
    assert isinstance(config.momentum, float) and config.callbacks.early_stopping is None
    assert config.callbacks.checkpoint.monitor == "val_loss"
    off = config_from_dict(yaml.safe_load("model: lenet\ncallbacks:\n  early_stopping:\n"))
    assert off.callbacks.early_stopping is None  # an empty optional section is null: off
    default = config_from_dict(yaml.safe_load("model: lenet\ncallbacks:\n"))
    assert default.callbacks == TrainConfig(model="lenet").callbacks  # an empty required section: defaults


@pytest.mark.parametrize("data, pattern", [
    ({"model": "lenet", "learning_rate": 0.1}, r"unknown key 'learning_rate'; did you mean 'lr'\? Valid keys: model"),
    ({"model": "lenet", "batchsize": 8}, r"unknown key 'batchsize'; did you mean 'batch_size'\?"),
    ({"model": "lenet", "epocs": 8}, r"unknown key 'epocs'; did you mean 'epochs'\?"),
    ({"model": "lenet", "zzz": 1}, r"unknown key 'zzz'\. Valid keys: model, dataset"),
    ({"model": "lenet", "scheduler": {"name": "cosine", "warmup": 3}},
     r"unknown key 'scheduler.warmup'; did you mean 'scheduler.warmup_steps'\? Valid keys in scheduler: name"),
    ({"model": "lenet", "callbacks": {"early_stoping": {}}},
     r"unknown key 'callbacks.early_stoping'; did you mean 'callbacks.early_stopping'\?"),
    ({"model": "lenet", "epochs": "three"}, r"key 'epochs' must be int\. Received: 'three' \(str\)"),
    ({"model": "lenet", "epochs": 2.5}, r"key 'epochs' must be int\. Received: 2.5 \(float\)"),
    ({"model": "lenet", "epochs": True}, r"key 'epochs' must be int\. Received: True \(bool\)"),
    ({"model": "lenet", "lr": "fast"}, r"key 'lr' must be float \(a number\)\. Received: 'fast' \(str\)"),
    ({"model": "lenet", "nesterov": "yes"}, r"key 'nesterov' must be bool \(true or false\)\. Received: 'yes'"),
    ({"model": "lenet", "scheduler": "cosine"}, r"scheduler must be a mapping.*Received: 'cosine' \(str\)"),
    ({"model": "lenet", "optimizer": "adm"}, r"key 'optimizer' must be one of 'sgd', 'adam', 'adamw' "
                                             r"\(did you mean 'adam'\?\)\. Received: 'adm'"),
    ({"model": "lenet", "dataset": "cifar"}, r"key 'dataset' must be one of .*did you mean 'cifar10'"),
    ({"model": 3}, r"key 'model' must be str\. Received: 3 \(int\)"),
    ({"epochs": 1}, r"missing key 'model' \(required\)"),
    ({"model": "lenet", "lr": -1}, r"'lr' must be > 0\. Received: -1.0"),
    ({"model": "lenet", "batch_size": 0}, r"'batch_size' must be >= 1\. Received: 0"),
    ({"model": "lenet", "validation_split": 1.0}, r"'validation_split' must be in \[0, 1\)"),
    ({"model": "lenet", "optimizer": "adam", "momentum": 0.9}, r"'momentum' applies to optimizer 'sgd' only"),
    ({"model": "lenet", "scheduler": {"name": "step", "interval": "step"}}, r"'step' works with the cosine"),
    ({"model": "lenet", "validation_split": 0}, r"'callbacks.checkpoint.monitor' needs validation data"),
])
def test_errors_name_the_key_and_suggest_a_fix(data, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        config_from_dict(data, source="my.yaml")
    assert str(info.value).startswith("my.yaml: ")


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no config file at .*configs/: cifar10_tiny_vgg.yaml"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [lenet\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- model\n- lenet\n")
    with pytest.raises(ConfigError, match=r"the config must be a mapping"):
        load_config(bad)
    bad.write_text("model: lenet\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: unknown key 'learning_rate'; did you mean 'lr'"):
        load_config(bad)


@pytest.mark.parametrize("changes, words", [
    ({"seed": -1}, "'seed' must be >= 0"),
    ({"model_args": {"dropout": 0.3}}, "small_cnn does not take (dropout); it takes num_classes"),
    ({"name": "../../escape"}, "'name' must be a plain folder name"),
    ({"name": "a/b"}, "'name' must be a plain folder name"),
    ({"callbacks": {"checkpoint": {"monitor": "val_acc"}}}, "did you mean 'val_accuracy'?"),
    ({"model": "lenett"}, "did you mean 'lenet'?"),
])
def test_a_config_is_checked_whole_before_anything_trains(changes, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        config_from_dict({"model": "small_cnn", **changes})


def test_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("model: lenet\nepochs: 2\nepochs: 3\n")
    with pytest.raises(ConfigError, match=r"key 'epochs' appears twice \(line 3\)"):
        load_config(path)


def test_vgg_bn_takes_its_dropout_from_model_args():
    assert config_from_dict({"model": "vgg_bn", "model_args": {"dropout": 0.3}}).model_args == {"dropout": 0.3}
