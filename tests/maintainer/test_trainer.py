"""Tests of the trainer, its History and the callbacks (chapter 08), on tiny synthetic data."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from cnnlib.callbacks import Callback, CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint
from cnnlib.checkpoint import load_checkpoint
from cnnlib.layers import Dropout, Flatten, Layer, Linear, Sequential
from cnnlib.optim import SGD, CosineLR, StepLR
from cnnlib.history import History
from cnnlib.trainer import Trainer, TrainingDiverged


def blobs(n=240, seed=0, classes=3):
    """A separable problem: class k lights up pixel k of a 4x4 image, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, size=n)
    x = 0.3 * rng.standard_normal((n, 1, 4, 4))
    x[np.arange(n), 0, 0, y] += 2.0
    return x.astype(np.float32), y.astype(np.int64)


def linear_model(seed=0, classes=3):
    return Sequential(Flatten(), Linear(16, classes, rng=seed))


def trainer_for(model=None, lr=0.1, **kw):
    model = model or linear_model()
    return Trainer(model, SGD(model, lr=lr), rng=kw.pop("rng", 0), **kw)


class Recorder(Callback):
    """Records every hook call and the model's weights at each epoch's end."""

    def __init__(self):
        self.calls, self.weights = [], []

    def on_train_begin(self, trainer):
        self.calls.append("train_begin")

    def on_epoch_begin(self, trainer, epoch):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, trainer, step, logs):
        self.calls.append("batch")

    def on_epoch_end(self, trainer, epoch, logs):
        self.calls.append(f"epoch_end {epoch}")
        self.weights.append(trainer.model.state_dict())

    def on_train_end(self, trainer):
        self.calls.append("train_end")


# ----------------------------------------------------------------------------
# Training

def test_learns_a_separable_problem_and_fills_the_history():
    x, y = blobs()
    xv, yv = blobs(90, seed=1)
    trainer = trainer_for()
    before = trainer.evaluate(xv, yv)
    history = trainer.fit(x, y, epochs=4, batch_size=16, validation_data=(xv, yv), verbose=False)
    after = trainer.evaluate(xv, yv)
    assert after["accuracy"] >= 0.95 > before["accuracy"]
    assert after["loss"] < before["loss"] / 4
    assert len(history) == 4 and history is trainer.history
    assert history["epoch"] == [1, 2, 3, 4]
    assert history.keys() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] == pytest.approx(after["accuracy"])
    assert history["val_loss"][-1] == pytest.approx(after["loss"], rel=1e-5)
    assert history["lr"] == [0.1] * 4 and all(t > 0 for t in history["time"])
    assert trainer.global_step == 4 * 15  # 240 samples in batches of 16


def test_every_step_runs_the_learners_training_step_and_a_broken_loss_stops_before_its_backward(monkeypatch):
    import cnnlib.ops
    calls = []
    reference = cnnlib.ops.training_step

    def recorded(model, optimizer, loss_fn, x, y):
        calls.append(len(x))
        return reference(model, optimizer, loss_fn, x, y)

    monkeypatch.setattr(cnnlib.ops, "training_step", recorded)
    x, y = blobs(40)
    trainer = trainer_for()
    trainer.fit(x, y, epochs=2, batch_size=16, verbose=False)
    assert calls == [16, 16, 8] * 2 and trainer.global_step == 6
    model = trainer.model
    before = model.state_dict()
    with pytest.raises(TrainingDiverged, match="the loss became nan"):
        trainer._checked_loss(np.full((2, 3), np.nan, np.float32), y[:2])
    with pytest.raises(TrainingDiverged):
        trainer.train_step(np.full_like(x[:2], np.nan), y[:2])
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items()), "the update ran"


def test_a_second_fit_continues_the_history():
    x, y = blobs()
    trainer = trainer_for()
    trainer.fit(x, y, epochs=2, batch_size=32, verbose=False)
    history = trainer.fit(x, y, epochs=1, batch_size=32, verbose=False)
    assert history["epoch"] == [1, 2, 3]
    assert history.keys() == ["epoch", "loss", "accuracy", "lr", "time"]  # no validation data: no val_ columns


def test_shuffling_is_seeded_and_the_last_batch_is_used():
    x, y = blobs(100)

    def weights(seed):
        trainer = trainer_for(rng=np.random.default_rng(seed))
        trainer.fit(x, y, epochs=2, batch_size=32, verbose=False)  # 32 + 32 + 32 + 4
        assert trainer.global_step == 8
        return trainer.model.state_dict()["1.weight"]

    np.testing.assert_array_equal(weights(3), weights(3))
    assert not np.allclose(weights(3), weights(4))


def test_every_sample_is_seen_once_per_epoch():
    seen = []

    class Spy(Layer):
        def forward(self, x):
            if self.training:
                seen.append(x[:, 0, 1, 1].copy())  # each sample carries its index here
            return x

        def backward(self, dout):
            return dout

    x, y = blobs(50)
    x[:, 0, 1, 1] = np.arange(50)
    model = Sequential(Spy(), Flatten(), Linear(16, 3, rng=0))
    trainer_for(model, lr=1e-6).fit(x, y, epochs=2, batch_size=8, verbose=False)
    first, second = np.concatenate(seen[:7]), np.concatenate(seen[7:])
    assert sorted(first) == sorted(second) == list(range(50))
    assert not np.array_equal(first, second)  # shuffled anew each epoch


def test_train_and_eval_modes_are_switched_and_restored():
    modes = []

    class Spy(Layer):
        def forward(self, x):
            modes.append(self.training)
            return x

        def backward(self, dout):
            return dout

    x, y = blobs(40)
    model = Sequential(Spy(), Flatten(), Linear(16, 3, rng=0), Dropout(0.5, rng=0))
    trainer = trainer_for(model)
    model.eval()
    trainer.fit(x, y, epochs=1, batch_size=20, validation_data=(x, y), verbose=False)
    # The shape probe and the validation pass run in eval mode, the two batches in train mode.
    assert True in modes and False in modes
    assert modes.count(True) == 2
    modes.clear()
    model.train()
    trainer.evaluate(x, y, batch_size=10)
    trainer.predict(x, batch_size=10)
    assert modes and not any(modes)
    assert model.training and model[3].training  # evaluate/predict put the mode back


def test_callbacks_are_called_in_order_and_can_stop_training():
    class StopAfterTwo(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 2:
                trainer.stop_training = True

    x, y = blobs(40)
    recorder = Recorder()
    trainer = trainer_for(callbacks=[recorder, StopAfterTwo()])
    history = trainer.fit(x, y, epochs=5, batch_size=20, verbose=False)
    assert len(history) == 2
    assert recorder.calls == ["train_begin", "epoch_begin 1", "batch", "batch", "epoch_end 1",
                              "epoch_begin 2", "batch", "batch", "epoch_end 2", "train_end"]


def test_schedulers_step_per_epoch_or_per_batch():
    x, y = blobs(64)
    model = linear_model()
    opt = SGD(model, lr=0.1)
    trainer = Trainer(model, opt, scheduler=StepLR(opt, step_size=1, gamma=0.5), rng=0)
    history = trainer.fit(x, y, epochs=3, batch_size=16, verbose=False)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert opt.lr == pytest.approx(0.0125)

    model = linear_model()
    opt = SGD(model, lr=0.1)
    cosine = CosineLR(opt, total_steps=3 * 4)
    trainer = Trainer(model, opt, scheduler=cosine, scheduler_interval="step", rng=0)
    history = trainer.fit(x, y, epochs=3, batch_size=16, verbose=False)
    assert cosine.last_step == 12 and opt.lr == pytest.approx(0.0, abs=1e-12)
    assert history["lr"][0] == pytest.approx(0.1) and 0 < history["lr"][2] < history["lr"][1] < 0.1

    with pytest.raises(ValueError, match="interval must be 'epoch' or 'step'"):
        LRSchedulerCallback(cosine, interval="batch")


def test_mse_loss_trains_on_one_hot_targets():
    x, y = blobs()
    trainer = trainer_for(loss="mse", lr=0.2)
    history = trainer.fit(x, y, epochs=5, batch_size=16, validation_data=(x, y), verbose=False)
    assert history["val_accuracy"][-1] >= 0.9
    assert history["loss"][-1] < history["loss"][0]


def test_evaluate_predict_and_predict_proba_work_in_batches():
    x, y = blobs(50)
    trainer = trainer_for()
    trainer.fit(x, y, epochs=2, batch_size=16, verbose=False)
    logits = trainer.predict(x, batch_size=7)
    assert logits.shape == (50, 3) and logits.dtype == np.float32
    np.testing.assert_allclose(logits, trainer.predict(x, batch_size=1000), rtol=1e-6)
    np.testing.assert_allclose(logits, trainer.model.forward(x), rtol=1e-6)
    probs = trainer.predict_proba(x, batch_size=7)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    result = trainer.evaluate(x, y, batch_size=7)
    assert result["accuracy"] == pytest.approx(np.mean(logits.argmax(axis=1) == y))
    expected_loss = -np.mean(np.log(probs[np.arange(50), y]))
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-4)


def test_progress_bar_shows_loss_and_accuracy_and_can_be_disabled(capsys):
    x, y = blobs(40)
    trainer_for().fit(x, y, epochs=1, batch_size=20, verbose=False)
    quiet = capsys.readouterr()
    assert quiet.out == "" and quiet.err == ""
    trainer_for().fit(x, y, epochs=2, batch_size=20, validation_data=(x, y), verbose=True)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err
    assert "loss=" in err and "accuracy=" in err and "val_accuracy=" in err


# ----------------------------------------------------------------------------
# Errors

def test_a_diverging_loss_stops_with_a_clear_message():
    x, y = blobs(64)
    x[5] = 1e30  # overflows float32 logits as soon as the weights grow
    trainer = trainer_for(lr=1e30)
    with pytest.raises(FloatingPointError, match=r"at epoch 1, step \d+ of 4 .*lower learning rate") as info:
        trainer.fit(x, y, epochs=3, batch_size=16, verbose=False)
    assert "lr=1e+29" in str(info.value)
    assert len(trainer.history) == 0


@pytest.mark.parametrize("case, exc, pattern", [
    ("wrong image shape", ValueError,
     r"does not accept x: inputs of shape \(1, 5, 5\).*Received: x.shape=\(20, 1, 5, 5\)"),
    ("labels out of range", ValueError, r"labels in y must be in 0 \.\. 2 \(the model has 3 outputs\). "
                                        r"Received: labels from 1 to 3"),
    ("negative labels", ValueError, r"labels from -1 to"),
    ("float labels", TypeError, r"y must hold integer class labels.*astype\(np.int64\)"),
    ("integer images", TypeError, r"x must have a floating dtype"),
    ("float64 images", TypeError, r"does not accept x: .*dtype float64.*x.astype\(np.float32\)"),
    ("batch size 0", ValueError, r"batch_size must be >= 1. Received: batch_size=0"),
    ("epochs 0", ValueError, r"epochs must be >= 1"),
    ("length mismatch", ValueError, r"x and y must have the same number of samples"),
    ("bad validation data", TypeError, r"validation_data must be a pair"),
    ("validation shape", ValueError,
     r"does not accept x_val: inputs of shape \(1, 3, 4\).*Received: x_val.shape=\(20, 1, 3, 4\)"),
])
def test_bad_inputs_get_clear_errors(case, exc, pattern):
    x, y = blobs(20)
    kw = dict(epochs=1, batch_size=4, verbose=False)
    args = {
        "wrong image shape": lambda: ((np.zeros((20, 1, 5, 5), np.float32), y), kw),
        "labels out of range": lambda: ((x, np.where(y == 0, 3, y)), kw),
        "negative labels": lambda: ((x, y - 1), kw),
        "float labels": lambda: ((x, y.astype(np.float32)), kw),
        "integer images": lambda: ((x.astype(np.int64), y), kw),
        "float64 images": lambda: ((x.astype(np.float64), y), kw),
        "batch size 0": lambda: ((x, y), {**kw, "batch_size": 0}),
        "epochs 0": lambda: ((x, y), {**kw, "epochs": 0}),
        "length mismatch": lambda: ((x, y[:5]), kw),
        "bad validation data": lambda: ((x, y), {**kw, "validation_data": x}),
        "validation shape": lambda: ((x, y), {**kw, "validation_data": (x[:, :, :3], y)}),
    }[case]
    (xs, ys), kwargs = args()
    trainer = trainer_for()
    with pytest.raises(exc, match=pattern):
        trainer.fit(xs, ys, **kwargs)
    assert len(trainer.history) == 0 and trainer.global_step == 0


def test_bad_trainer_arguments():
    model = linear_model()
    with pytest.raises(ValueError, match="did you mean 'cross_entropy'"):
        Trainer(model, SGD(model, lr=0.1), loss="crossentropy")
    with pytest.raises(TypeError, match="optimizer must have a step"):
        Trainer(model, "sgd")
    with pytest.raises(TypeError, match="callback must be a cnnlib.callbacks.Callback"):
        Trainer(model, SGD(model, lr=0.1), callbacks=[print])
    with pytest.raises(ValueError, match="training needs an optimizer"):
        Trainer(model, None).fit(*blobs(8), epochs=1)


# ----------------------------------------------------------------------------
# History

def test_history_round_trips_through_csv_and_dict(tmp_path):
    x, y = blobs(40)
    history = trainer_for().fit(x, y, epochs=3, batch_size=10, validation_data=(x, y), verbose=False)
    history.to_csv(tmp_path / "h.csv")
    back = History.from_csv(tmp_path / "h.csv")
    assert back.keys() == history.keys()
    for key in history.keys():
        assert back[key] == pytest.approx(history[key], rel=1e-12)
    again = History.from_dict(history.to_dict())
    assert again.rows == history.rows and history.history == history.to_dict()
    assert history.best("val_loss")[0] == int(np.argmin(history["val_loss"])) + 1
    with pytest.raises(KeyError, match="did you mean 'val_loss'"):
        history["val_los"]
    with pytest.raises(ValueError, match="one value per epoch"):
        History.from_dict({"loss": [1.0, 2.0], "accuracy": [0.5]})


def test_history_plots_with_viz():
    viz = pytest.importorskip("cnnlib.viz")
    import matplotlib.pyplot as plt
    x, y = blobs(40)
    history = trainer_for().fit(x, y, epochs=2, batch_size=10, validation_data=(x, y), verbose=False)
    fig = viz.plot_history(history)
    assert sum(len(ax.lines) for ax in fig.axes) == 4  # loss, val_loss, accuracy, val_accuracy
    plt.close(fig)


# ----------------------------------------------------------------------------
# Callbacks

def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = blobs(60)
    recorder = Recorder()
    # With a huge min_delta only the first epoch counts as an improvement.
    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=10.0)
    trainer = trainer_for(callbacks=[recorder, stopper])
    history = trainer.fit(x, y, epochs=10, batch_size=20, validation_data=(x, y), verbose=False)
    assert len(history) == 3
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    assert stopper.best == pytest.approx(history["val_loss"][0])
    for name, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, recorder.weights[0][name])  # epoch 1's weights are back
    assert not np.allclose(recorder.weights[2]["1.weight"], recorder.weights[0]["1.weight"])


def test_early_stopping_on_accuracy_waits_while_it_improves():
    x, y = blobs(200)
    stopper = EarlyStopping(monitor="accuracy", patience=1, restore_best=False)
    assert stopper._monitor.mode == "max"
    history = trainer_for(lr=0.01, callbacks=[stopper]).fit(x, y, epochs=4, batch_size=50, verbose=False)
    improving = all(b > a for a, b in zip(history["accuracy"], history["accuracy"][1:]))
    assert len(history) == 4 or not improving


def test_early_stopping_names_a_metric_that_is_not_measured():
    x, y = blobs(20)
    trainer = trainer_for(callbacks=[EarlyStopping(monitor="val_loss")])
    with pytest.raises(ValueError, match=r"monitor='val_loss' is not measured.*did you mean 'loss'.*validation_data"):
        trainer.fit(x, y, epochs=2, batch_size=10, verbose=False)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="up")


def test_model_checkpoint_saves_the_best_model(tmp_path):
    x, y = blobs(60)
    xv, yv = blobs(30, seed=5)
    recorder = Recorder()
    ckpt = ModelCheckpoint(tmp_path / "ckpt" / "best.npz", monitor="val_accuracy", config={"note": "test"})
    trainer = trainer_for(lr=0.02, callbacks=[recorder, ckpt])
    history = trainer.fit(x, y, epochs=4, batch_size=20, validation_data=(xv, yv), verbose=False)
    best_epoch, best = history.best("val_accuracy")
    assert ckpt.best_epoch == min(e for e, v in zip(history["epoch"], history["val_accuracy"]) if v == best)
    saved = load_checkpoint(tmp_path / "ckpt" / "best.npz")
    assert saved["epoch"] == ckpt.best_epoch and saved["config"] == {"note": "test"}
    assert saved["extra"]["metrics"]["val_accuracy"] == pytest.approx(best)
    for name, value in saved["model"].state_dict().items():
        np.testing.assert_array_equal(value, recorder.weights[ckpt.best_epoch - 1][name])
    assert [p.name for p in (tmp_path / "ckpt").iterdir()] == ["best.npz"]  # no temporary files left


def test_model_checkpoint_every_epoch_with_a_pattern(tmp_path):
    x, y = blobs(40)
    ckpt = ModelCheckpoint(tmp_path / "e{epoch:02d}-{loss:.3f}.npz", monitor="loss", save_best_only=False)
    history = trainer_for(callbacks=[ckpt]).fit(x, y, epochs=3, batch_size=20, verbose=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"e{e:02d}-{v:.3f}.npz" for e, v in zip(history["epoch"], history["loss"])]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_logger_writes_one_row_per_epoch_as_it_goes(tmp_path):
    x, y = blobs(40)
    path = tmp_path / "log.csv"
    counts = []

    class CountRows(Callback):  # runs after the logger: the row must already be on disk
        def on_epoch_end(self, trainer, epoch, logs):
            counts.append(len(_rows(path)))

    trainer = trainer_for(callbacks=[CSVLogger(path), CountRows()])
    history = trainer.fit(x, y, epochs=3, batch_size=20, validation_data=(x, y), verbose=False)
    assert counts == [1, 2, 3]
    rows = _rows(path)
    assert list(rows[0]) == list(History.COLUMNS)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history["val_loss"])
    trainer.fit(x, y, epochs=1, batch_size=20, validation_data=(x, y), verbose=False)  # same run: appends
    assert [int(r["epoch"]) for r in _rows(path)] == [1, 2, 3, 4]


def test_csv_logger_never_clobbers_another_runs_log(tmp_path):
    x, y = blobs(40)
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(FileExistsError, match="already exists.*append=True.*overwrite=True"):
        trainer_for(callbacks=[CSVLogger(path)]).fit(x, y, epochs=1, batch_size=20, verbose=False)
    assert path.read_text() == "epoch,loss\n1,0.5\n"

    path.write_text("")
    trainer_for(callbacks=[CSVLogger(path, overwrite=True)]).fit(x, y, epochs=2, batch_size=20, verbose=False)
    assert len(_rows(path)) == 2
    trainer_for(callbacks=[CSVLogger(path, append=True)]).fit(x, y, epochs=1, batch_size=20, verbose=False)
    rows = _rows(path)
    assert len(rows) == 3 and rows[2]["val_loss"] == ""  # columns kept; no validation in this run
    with pytest.raises(ValueError, match="append or overwrite, not both"):
        CSVLogger(path, append=True, overwrite=True)


def _digits_run(lr: float, n: int = 1600, **fit):
    """One epoch of a small CNN on the shipped digits (100 steps of batch 16) at learning rate ``lr``."""
    from cnnlib.data import load_mnist_sample
    from cnnlib.models import small_cnn
    x, y = load_mnist_sample(n)
    model = small_cnn(seed=0)
    trainer = Trainer(model, SGD(model, lr=lr, momentum=0.9), rng=np.random.default_rng(0))
    return trainer, lambda: trainer.fit(x, y, epochs=2, batch_size=16, verbose=False, **fit)


@pytest.mark.parametrize("lr, words", [
    (100.0, "training diverged: after epoch 1 the mean training loss is"),  # far above log 10
    (1e-6, "training is not learning: after epoch 1"),                       # at chance
])
def test_an_epoch_far_above_guessing_or_at_chance_stops_training(lr, words):
    trainer, fit = _digits_run(lr)
    with pytest.raises(TrainingDiverged, match=words) as info:
        fit()
    assert "log 10 = 2.303" in str(info.value) and f"lr={lr:g}" in str(info.value)
    assert len(trainer.history) == 1  # the epoch that showed it is recorded, then training stops


def test_a_learning_run_is_not_stopped():
    trainer, fit = _digits_run(0.05)
    fit()
    assert len(trainer.history) == 2 and trainer.history["accuracy"][-1] > 0.5
