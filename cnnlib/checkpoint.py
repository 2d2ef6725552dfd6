"""Checkpoints: a trained model (and its optimizer) in one ``.npz`` file (chapter 08).

``save_checkpoint`` writes a single NumPy ``.npz`` archive, readable with
``np.load(path, allow_pickle=False)`` (no pickle, so loading a file cannot run code):

=====================  ===============================================================
entry                  holds
=====================  ===============================================================
``cnnlib_checkpoint``  the format version (1)
``architecture``       ``model.to_config()`` as JSON: the model can be rebuilt from it
``model/<name>``       every parameter and buffer (``model/0.weight``, ``model/1.running_mean``)
``rng_state``          the state of every dropout generator, as JSON
``optimizer/<key>``    the optimizer's arrays (``optimizer/velocity.0.weight``)
``optimizer``          the optimizer's scalars (type, lr, step, hyper-parameters), as JSON
``scheduler``          the scheduler's state, as JSON
``config``             the training configuration, as JSON
``epoch``              the epoch, as JSON
``extra/<key>``        arrays from ``extra``; its other values as JSON under ``extra``
=====================  ===============================================================

The file is written to a temporary file in the same directory and then renamed
over the target (``os.replace`` is atomic), so an interrupted save never destroys
the previous checkpoint. Because the dropout generators' states are saved too,
training N steps, saving, loading into fresh objects and training M more steps
gives exactly the weights of N + M uninterrupted steps (the trainer's own
shuffling generator can be saved through ``extra``, e.g.
``extra={"trainer_rng": rng.bit_generator.state}``).
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from .files import atomic_write
from .layers import LAYERS, layer_from_config
from .core.validation import require

__all__ = ["save_checkpoint", "load_checkpoint", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _json_default(value):
    """What ``json.dumps`` cannot encode on its own: dataclasses, paths, NumPy scalars and small arrays."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _to_json(value, what: str) -> np.ndarray:
    try:
        text = json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as e:
        raise TypeError(f"save_checkpoint: {what} must be JSON-able (dicts, lists, str, numbers, bools, None). "
                        f"Received: {e}") from None
    return np.array(text)  # a 0-d str array: np.load reads it without pickle


def save_checkpoint(path, model, optimizer=None, config=None, epoch=None, extra=None, *, scheduler=None) -> Path:
    """Save a model (and optionally its optimizer, scheduler and training state) to one ``.npz`` file.

    Parameters
    ----------
    path : str or Path
        The file to write (parent directories are created). Written atomically:
        a temporary file in the same directory, then ``os.replace``.
    model : Sequential (or any layer)
        Its architecture (``to_config()``), parameters, buffers and dropout generators are saved.
    optimizer : an optimizer from ``cnnlib.optim``, optional
    config : dict or dataclass, optional
        The training configuration, saved as JSON.
    epoch : int, optional
    extra : dict, optional
        More state by name: arrays are stored as arrays, everything else as JSON.
    scheduler : a scheduler from ``cnnlib.optim``, optional

    Returns
    -------
    Path
        The path written.
    """
    require(isinstance(path, (str, os.PathLike)), "save_checkpoint", "path must be a str or Path",
            f"path of type {type(path).__name__}", TypeError)
    for name in ("to_config", "state_dict", "rng_state"):
        require(callable(getattr(model, name, None)), "save_checkpoint",
                f"model must be a cnnlib layer or Sequential (it needs {name}())",
                f"model of type {type(model).__name__}", TypeError)
    require(extra is None or (isinstance(extra, dict) and all(isinstance(k, str) for k in extra)),
            "save_checkpoint", "extra must be a dict with str keys", f"extra={extra!r}", TypeError)
    path = Path(path)

    entries = {"cnnlib_checkpoint": np.array(FORMAT_VERSION),
               "architecture": _to_json(model.to_config(), "the architecture"),
               "rng_state": _to_json(model.rng_state(), "the generators' state"),
               "config": _to_json(config, "config"),
               "epoch": _to_json(epoch, "epoch")}
    entries.update({f"model/{name}": np.asarray(a) for name, a in model.state_dict().items()})
    if optimizer is not None:
        state = optimizer.state_dict()
        entries.update({f"optimizer/{k}": v for k, v in state.items() if isinstance(v, np.ndarray)})
        entries["optimizer"] = _to_json({k: v for k, v in state.items() if not isinstance(v, np.ndarray)},
                                        "the optimizer's state")
    if scheduler is not None:
        entries["scheduler"] = _to_json(scheduler.state_dict(), "the scheduler's state")
    extra = extra or {}
    entries.update({f"extra/{k}": v for k, v in extra.items() if isinstance(v, np.ndarray)})
    entries["extra"] = _to_json({k: v for k, v in extra.items() if not isinstance(v, np.ndarray)}, "extra")

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:  # whatever goes wrong (a full disk, Ctrl-C), the old checkpoint is untouched
        np.savez(f, **entries)
    return path


def _read(path: Path) -> dict:
    """Every entry of the archive, read eagerly so that a damaged file fails here, naming itself."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"it holds a single {type(archive).__name__}, not an .npz archive")
        with archive:
            data = {k: archive[k] for k in archive.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:
        raise ValueError(f"load_checkpoint: {path} is not a readable checkpoint (an .npz file written by "
                         f"save_checkpoint); it may be truncated or damaged. Received: {type(e).__name__}: {e}") from e
    if "cnnlib_checkpoint" not in data:
        raise ValueError(f"load_checkpoint: {path} is an .npz file but not a cnnlib checkpoint. "
                         f"Received: entries {sorted(data)[:10]}")
    version = int(data["cnnlib_checkpoint"])
    if version > FORMAT_VERSION:
        raise ValueError(f"load_checkpoint: {path} has format version {version}; this cnnlib reads versions up "
                         f"to {FORMAT_VERSION} (update cnnlib). Received: version {version}")
    return data


def _json(data: dict, key: str, path: Path, default=None):
    if key not in data:
        return default
    try:
        return json.loads(data[key].item())
    except (ValueError, AttributeError) as e:
        raise ValueError(f"load_checkpoint: {path}: entry '{key}' is not valid JSON. Received: {e}") from None


def _with_prefix(data: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix)}


def _check_layers(model, architecture: dict, path: Path) -> None:
    """Name the first layer whose type differs (shapes are checked by load_state_dict)."""
    own = model.to_config()
    mine, theirs = own.get("layers", [own]), architecture.get("layers", [architecture])
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a.get("type") != b.get("type"):
            raise ValueError(f"load_checkpoint: {path} does not fit the model: layer {i} is a {a.get('type')} in "
                             f"the model but a {b.get('type')} in the checkpoint. Received: checkpoint layers "
                             f"{[c.get('type') for c in theirs]}")
    if len(mine) != len(theirs):
        raise ValueError(f"load_checkpoint: {path} does not fit the model: the model has {len(mine)} layers, "
                         f"the checkpoint {len(theirs)}. Received: checkpoint layers "
                         f"{[c.get('type') for c in theirs]}")


def _check_declared(architecture, data: dict, path: Path) -> None:
    """The architecture's parameters are the file's arrays, shape and dtype, so that rebuilding the
    model allocates no more than the file holds (a damaged or hostile architecture fails here)."""
    if not isinstance(architecture, dict) or architecture.get("type") != "Sequential":
        return  # layer_from_config reports what is wrong with it
    for i, config in enumerate(architecture.get("layers", [])):
        cls = LAYERS.get(config.get("type")) if isinstance(config, dict) else None
        if cls is None:
            continue
        try:
            shapes = cls.state_shapes(config)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"load_checkpoint: {path}: layer {i} ({config.get('type')}) of the architecture is "
                             f"not valid. Received: {type(e).__name__}: {e}") from None
        for key, shape in shapes.items():
            stored = data.get(f"model/{i}.{key}")
            declared = np.dtype(config.get("dtype", "float32"))
            if stored is None or stored.shape != shape or stored.dtype != declared:
                held = "nothing" if stored is None else f"shape {stored.shape}, dtype {stored.dtype}"
                raise ValueError(f"load_checkpoint: {path} contradicts itself: its architecture gives layer {i} "
                                 f"({config['type']}) a {key} of shape {shape}, dtype {declared}, but the file "
                                 f"holds {held} for it. Received: a damaged or hand-made checkpoint")


def _check_dtypes(model, data: dict, path: Path) -> None:
    """Refuse weights of another dtype than the model's (no silent cast)."""
    for name, layer, key in model.parameter_slots():
        stored = data.get(f"model/{name}")
        if stored is not None and stored.dtype != layer.params[key].dtype:
            raise ValueError(f"load_checkpoint: {path} holds {stored.dtype} weights but the model's are "
                             f"{layer.params[key].dtype}: build the model with dtype=np.{stored.dtype}, or pass "
                             f"model=None to rebuild it as saved. Received: {name} of dtype {stored.dtype}")


def load_checkpoint(path, model=None, optimizer=None, *, scheduler=None) -> dict:
    """Load a checkpoint written by ``save_checkpoint``.

    Parameters
    ----------
    path : str or Path
    model : Sequential, optional
        Load the weights into this model (same architecture). When None, the
        model is rebuilt from the architecture stored in the file.
    optimizer : an optimizer from ``cnnlib.optim``, optional
        Built for ``model`` (the returned one when ``model`` is None); its state
        (step count, lr, momentum buffers, moments) is restored.
    scheduler : a scheduler from ``cnnlib.optim``, optional
        Its state is restored (after the optimizer's).

    Returns
    -------
    dict
        ``model``, ``optimizer``, ``scheduler`` (the objects, loaded), ``architecture``,
        ``config``, ``epoch``, ``extra`` (arrays and JSON values merged),
        ``optimizer_state`` and ``scheduler_state`` (to build an optimizer later and
        call its ``load_state_dict``; None when not saved), and ``path``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable checkpoint (truncated, damaged, not an .npz) or
        does not fit ``model`` / ``optimizer`` (the message names the layer and shapes).
    """
    require(isinstance(path, (str, os.PathLike)), "load_checkpoint", "path must be a str or Path",
            f"path of type {type(path).__name__}", TypeError)
    require(optimizer is None or model is not None and getattr(optimizer, "model", model) is model,
            "load_checkpoint", "optimizer must be built for the model given (with model=None, build one for the "
            "returned model and call its load_state_dict(result['optimizer_state']))",
            f"model={'None' if model is None else type(model).__name__}, optimizer={optimizer!r}")
    path = Path(path)
    data = _read(path)
    architecture = _json(data, "architecture", path)
    _check_declared(architecture, data, path)  # before anything is allocated
    if model is None:
        model = layer_from_config(architecture)
    else:
        _check_layers(model, architecture, path)
        _check_dtypes(model, data, path)
    try:
        model.load_state_dict(_with_prefix(data, "model/"))
        model.set_rng_state(_json(data, "rng_state", path, {}))
    except ValueError as e:
        raise ValueError(f"load_checkpoint: {path} does not fit the model: {e}") from None

    optimizer_state = None
    if "optimizer" in data:
        optimizer_state = {**_json(data, "optimizer", path), **_with_prefix(data, "optimizer/")}
    scheduler_state = _json(data, "scheduler", path)
    for obj, state, what in ((optimizer, optimizer_state, "optimizer"), (scheduler, scheduler_state, "scheduler")):
        if obj is None:
            continue
        if state is None:
            raise ValueError(f"load_checkpoint: {path} holds no {what} state; save it with "
                             f"save_checkpoint(..., {what}={what}) or load without {what}=. Received: {what}={obj!r}")
        try:
            obj.load_state_dict(state)
        except ValueError as e:
            raise ValueError(f"load_checkpoint: {path}: the {what} state does not fit: {e}") from None

    extra = {**_json(data, "extra", path, {}), **_with_prefix(data, "extra/")}
    return {"model": model, "optimizer": optimizer, "scheduler": scheduler, "architecture": architecture,
            "config": _json(data, "config", path), "epoch": _json(data, "epoch", path), "extra": extra,
            "optimizer_state": optimizer_state, "scheduler_state": scheduler_state, "path": path}
