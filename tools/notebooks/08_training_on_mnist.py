# %% [markdown]
# # Chapter 08: Training a CNN on full MNIST
#
# Every piece is in place. Convolution and its backward pass (chapters 01-03), ReLU and
# pooling (04), the linear layer and softmax cross-entropy (05), the optimizers and
# learning-rate schedules (06), batch norm and dropout (07): the layer classes of
# `cnnlib.layers` call *your* exercise functions, so the network trained in this chapter
# runs on the code you wrote. Here we put the pieces together and train a LeNet-style
# CNN on all 60,000 MNIST training digits, then test it on the 10,000 digits it has
# never seen. The goal: **more than 99 % test accuracy** in a few minutes of plain
# NumPy on a laptop.
#
# This chapter has one exercise, the one that joins all the others: **8.1
# `training_step`** (in `cnnlib/training.py`), one step of training, which the trainer
# then runs for every batch of every epoch. The rest of the chapter introduces the
# infrastructure that turns functions into training: `cnnlib.trainer.Trainer` (the training loop),
# `cnnlib.callbacks` (early stopping, checkpoints, logs), `cnnlib.checkpoint` (saving a
# model) and the `cnnlib` command, which trains from a YAML configuration file.
#
# If an exercise of an earlier chapter is not done yet, training runs its reference
# solution instead, and a line starting with `[reference]` names it (in strict mode,
# `cnnlib.strict()`, training stops with `NotImplementedError` naming it). To choose
# yourself, switch reference solutions on, `cnnlib.use_solutions("4.3")` (or `"all"`):
# the first cell tells you which exercises run reference code.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib import profiling, viz
from cnnlib.callbacks import CSVLogger
from cnnlib.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.data import load_mnist
from cnnlib.ops import softmax_cross_entropy, training_step
from cnnlib.models import lenet
from cnnlib.optim import SGD, CosineLR
from cnnlib.trainer import Trainer

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## The data
#
# `load_mnist()` returns the standard split: 60,000 training and 10,000 test digits,
# as float32 arrays of shape (N, 1, 28, 28) with grey levels scaled to [0, 1], and int64
# labels. It reads the four IDX files from the folder you name (`load_mnist(path)`), or
# from the folder in the environment variable `CNNLIB_DATA`, or from its cache, and
# downloads them (once, checking their SHA-256) only if they are nowhere.

# %%
(x_train, y_train), (x_test, y_test) = load_mnist()
print("train:", x_train.shape, x_train.dtype, y_train.shape, y_train.dtype)
print("test: ", x_test.shape, x_test.dtype, y_test.shape, y_test.dtype)
print(f"pixel range [{x_train.min():.1f}, {x_train.max():.1f}]")
print("digits per class (train):", np.bincount(y_train))
assert x_train.shape == (60000, 1, 28, 28) and x_test.shape == (10000, 1, 28, 28)

# %%
fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
for digit in range(10):
    for row in range(2):
        ax = axes[row, digit]
        ax.imshow(x_train[np.flatnonzero(y_train == digit)[row], 0], cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, digit].set_title(str(digit))
fig.suptitle("MNIST training digits, two of each class")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The network
#
# `cnnlib.models.lenet` is a small modern variant of LeCun's LeNet: two convolution
# blocks that detect local patterns and halve the resolution, then two fully connected
# layers that combine them into ten class scores (the *logits*):
#
# | layer | output shape | parameters |
# | --- | --- | --- |
# | Conv2d(1, 32, 3, padding=1) | (N, 32, 28, 28) | $32 \cdot 1 \cdot 3 \cdot 3 + 32 = 320$ |
# | ReLU, MaxPool2d(2) | (N, 32, 14, 14) | |
# | Conv2d(32, 64, 3, padding=1) | (N, 64, 14, 14) | $64 \cdot 32 \cdot 3 \cdot 3 + 64 = 18{,}496$ |
# | ReLU, MaxPool2d(2) | (N, 64, 7, 7) | |
# | Flatten, Linear(3136, 128) | (N, 128) | $3136 \cdot 128 + 128 = 401{,}536$ |
# | ReLU, Linear(128, 10) | (N, 10) | $128 \cdot 10 + 10 = 1{,}290$ |
#
# Almost all of the 421,642 parameters sit in the first linear layer, but almost all of
# the *computation* is in the second convolution: $14 \cdot 14 \cdot 64 \cdot (32 \cdot 9)
# \approx 3.6$ million multiply-adds per digit, against 0.4 million for the linear layer.
#
# One trick makes the network faster without changing what it computes. Max pooling
# and ReLU commute, $\max_i \mathrm{relu}(x_i) = \mathrm{relu}(\max_i x_i)$, because ReLU
# never changes the order of two numbers. With `relu_after_pool=True` the ReLU runs after
# the pooling, on a quarter of the values, forward and backward.

# %%
model = lenet(seed=0, relu_after_pool=True)
print(model)
print(model.summary((1, 28, 28)))
assert sum(p.size for p in model.params.values()) == 421_642

# %% [markdown]
# Before training, a sanity check that catches many bugs. The weights are small and
# random, so the ten logits are close to each other and softmax gives each class a
# probability near $1/10$. The cross-entropy loss, $-\log p_{\text{true class}}$, should
# therefore start near $\log 10 \approx 2.3026$.

# %%
logits = model.forward(x_train[:256])
loss, dlogits = softmax_cross_entropy(logits, y_train[:256])
print(f"initial loss {loss:.2f} (log 10 = {np.log(10):.2f})")
assert abs(loss - np.log(10)) < 0.1

# %% [markdown]
# ## Exercise 8.1: `training_step` (in `cnnlib/training.py`)
#
# One step of mini-batch gradient descent has four parts, one for each thing the earlier
# chapters built: the **forward** pass gives the outputs (the logits), the **loss** gives
# a number and its gradient with respect to those outputs, the **backward** pass sends
# that gradient through every layer (each layer overwrites the gradients of its
# parameters in `layer.grads`), and the optimizer's **update** moves every parameter
# against its gradient.
#
# Write `training_step(model, optimizer, loss_fn, x, y)`: one step on the batch `x` with
# targets `y`, returning the outputs and the loss of the batch, as they were *before* the
# update. `loss_fn(out, y)` returns the pair `(loss, dout)`, as `softmax_cross_entropy`
# does. The trainer below calls your function for each of its 2,814 steps, so what you
# write here is what trains the network.
#
# <details><summary>Hint 1</summary>
#
# Each part needs what the part before it produced. Which of the four produces nothing
# that you return, but changes what the *next* step sees?
# </details>
# <details><summary>Hint 2</summary>
#
# `model.backward` takes the gradient of the loss with respect to the outputs, not the
# loss. And nothing is called twice: a second forward pass would cost as much again.
# </details>

# %%
cnnlib.check("8.1")

# %% [markdown]
# We use SGD with Nesterov momentum 0.9 (chapter 06). After one step on a batch, the
# loss on that same batch must be lower.

# %%
x_batch, y_batch = x_train[:64], y_train[:64]
optimizer = SGD(model, lr=0.05, momentum=0.9, nesterov=True)

logits, before = training_step(model, optimizer, softmax_cross_entropy, x_batch, y_batch)
after, _ = softmax_cross_entropy(model.forward(x_batch), y_batch)
print(f"loss on the batch: {before:.4f} before the step, {after:.4f} after")
assert logits.shape == (64, 10)
assert after < before, "the step did not lower the loss: cnnlib.check('8.1') says why"

# %% [markdown]
# ## The training loop
#
# Training repeats that step over **mini-batches** of 64 digits. One pass over the
# whole training set is an **epoch** (938 steps). Before each epoch the trainer shuffles
# the training set with a seeded generator, so that every epoch sees the digits in a new
# order, and the run is still reproducible. `Trainer.fit` also:
#
# - puts the model in training mode (`model.train()`) for the steps and in evaluation
#   mode (`model.eval()`) to measure it, which matters for dropout and batch norm;
# - measures loss and accuracy on `validation_data` after every epoch and records
#   everything in a `History` (one row per epoch);
# - steps the learning-rate schedule, and calls the **callbacks**: here `CSVLogger`
#   writes each epoch's row to a file as soon as the epoch ends; `EarlyStopping` and
#   `ModelCheckpoint` from `cnnlib.callbacks` stop a run that no longer improves and
#   save the best model;
# - stops with a clear error if the loss becomes NaN or infinite (a learning rate that
#   is too high), naming the epoch and the step.
#
# The learning rate follows a **cosine schedule** (exercise 6.4), updated after every
# step: it warms up linearly over the first 200 steps, step $s$ (counted from 0) using
# $0.1 \cdot (s + 1) / 200$, so the first step uses $0.1 / 200 = 0.0005$ and step 199 the
# full 0.1 (the untrained network's first gradients are large and erratic), then it
# falls along a cosine towards 0, which it reaches at step 2,814, the end of the 3
# epochs: large steps early to make fast progress, small steps at the end to settle
# into a minimum. The cell prints the rate at a few steps. The validation data here is the test
# set, only *watched* to draw the learning curves; we make no choice based on it. (The
# settings were checked on runs that held out 6,000 of the training digits, as
# `configs/mnist_lenet.yaml` does; see the end of this chapter.)

# %%
EPOCHS, BATCH_SIZE = 3, 64
model = lenet(seed=0, relu_after_pool=True)  # a fresh network
optimizer = SGD(model, lr=0.1, momentum=0.9, nesterov=True)
steps_per_epoch = -(-len(x_train) // BATCH_SIZE)  # 938: the last batch is smaller
scheduler = CosineLR(optimizer, total_steps=EPOCHS * steps_per_epoch, warmup_steps=200)
Path("runs").mkdir(exist_ok=True)
trainer = Trainer(model, optimizer, loss="cross_entropy", scheduler=scheduler, scheduler_interval="step",
                  callbacks=[CSVLogger("runs/08_lenet_history.csv", overwrite=True)],
                  rng=np.random.default_rng(0))
total_steps = EPOCHS * steps_per_epoch
for step in (0, 1, 199, 200, total_steps // 2, total_steps - 1):
    print(f"step {step:>4}: lr {scheduler.lr_at(step):.6f}")
assert steps_per_epoch == 938 and total_steps == 2814
assert scheduler.lr_at(0) == optimizer.lr == 0.1 / 200 and scheduler.lr_at(199) == scheduler.lr_at(200) == 0.1

# %% [markdown]
# How long will it take? The next cell times a few steps of this network with your code
# and with the reference, and names the exercise of yours that costs the most time when
# your step is much slower (a correct function written with Python loops can make this
# chapter take hours; `cnnlib.check` says so too, exercise by exercise). The cell after it
# trains on all 60,000 digits; the progress bars show the running loss and accuracy of
# the epoch.

# %% tags=["nbval-ignore-output"]
def fresh_trainer():
    net = lenet(seed=0, relu_after_pool=True)
    return Trainer(net, SGD(net, lr=0.1, momentum=0.9, nesterov=True))


estimate = profiling.estimate_training(fresh_trainer, x_train, y_train, batch_size=BATCH_SIZE, total_steps=total_steps)
print(estimate["report"])

# %% tags=["nbval-ignore-output"]
start = time.perf_counter()
history = trainer.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
                      validation_data=(x_test, y_test))
train_seconds = time.perf_counter() - start
print(f"trained {EPOCHS} epochs in {train_seconds:.0f} s ({train_seconds / EPOCHS:.0f} s per epoch)")

# %%
print(f"{trainer.global_step:,} optimizer steps, {scheduler.last_step:,} scheduler steps")
assert trainer.global_step == scheduler.last_step == total_steps == 2814

# %% [markdown]
# ## How well does it do?
#
# `Trainer.evaluate` runs the model in evaluation mode over the test set, in batches, and
# returns the mean loss and the accuracy.

# %% tags=["nbval-ignore-output"]
result = trainer.evaluate(x_test, y_test)
accuracy = result["accuracy"]
print(f"test accuracy: {accuracy:.2%} ({round(accuracy * len(y_test))} of {len(y_test):,} digits), "
      f"test loss {result['loss']:.4f}")
assert accuracy >= 0.99, f"expected at least 99 % test accuracy, got {accuracy:.2%}"

# %% [markdown]
# (The exact number can differ in the last digit from one computer to another: floating
# point sums are rounded differently by different CPUs, and over 2,814 training steps the
# small differences grow. The assertion holds everywhere.)
#
# The **learning curves** show loss and accuracy per epoch, on the training digits
# (averaged over the epoch, while the weights were still changing, and in training
# mode) and on the test digits (at the end of each epoch). The training curve starts
# worse because its first point averages over the whole first epoch, including the
# first steps of an untrained network. In the last epoch the test loss levels off while
# the training loss keeps falling: trained much longer, the network would fit the
# training digits ever better without doing better on new ones (it would *overfit*).
# After 3 epochs the gap is still small.

# %% tags=["nbval-ignore-output"]
print("epoch  loss    accuracy  val_loss  val_accuracy  lr")
for row in history.rows:
    print(f"{row['epoch']:>5}  {row['loss']:.3f}   {row['accuracy']:.3f}     {row['val_loss']:.3f}     "
          f"{row['val_accuracy']:.3f}         {row['lr']:.4f}")
assert history["val_accuracy"][-1] >= 0.99 and history["loss"][-1] < history["loss"][0]

# %%
viz.plot_history(history)
plt.show()

# %% [markdown]
# The **confusion matrix** counts, for each true class (row), how often the network
# predicted each class (column). The diagonal holds the correct answers.

# %%
probs = trainer.predict_proba(x_test)
predictions = probs.argmax(axis=1)
assert np.mean(predictions == y_test) == accuracy
viz.plot_confusion_matrix(y_test, predictions)
plt.show()

# %% [markdown]
# The mistakes are few and spread thinly over many pairs of classes: in the run stored
# with this notebook no cell off the diagonal holds more than 5 of the 10,000 digits.
# The largest are 9 taken for 8 (5 digits), then 9 for 4, 9 for 5, 2 for 7, 5 for 3 and
# 6 for 5 (4 each); the 9s are the digits misread most often (17 of the 74 mistakes).
# With counts this small, another run (another seed, another CPU) may rank them
# differently. The cell lists the largest counts off the diagonal, and checks that the
# pairs named here are among the ten largest and that the 9s lead.

# %% tags=["nbval-ignore-output"]
cm = viz.confusion_matrix(y_test, predictions, 10)
off = cm - np.diag(np.diag(cm))                         # the mistakes only
order = np.argsort(-off, axis=None, kind="stable")[:10]  # the 10 largest, flat indices into (10, 10)
largest = [(int(t), int(p)) for t, p in zip(*np.unravel_index(order, off.shape))]
for t, p in largest[:8]:
    print(f"{off[t, p]} digits {t} taken for {p}")
print("mistakes per true class:", off.sum(axis=1))
named = [(9, 8), (9, 4), (9, 5), (2, 7), (5, 3), (6, 5)]
assert off.max() <= 10, f"a pair stands out: {off.max()} mistakes"
assert set(named) <= set(largest), f"the text names {named}; the 10 largest are {largest}"
assert off.sum(axis=1).argmax() == 9, "the text says the 9s are misread most often"

# %% [markdown]
# The digits the network got wrong *with the highest confidence* show what it still
# finds hard. Many of them would puzzle a person too; some are labelled in a way one can
# argue with.

# %%
viz.plot_misclassified(model, x_test, y_test, n=12, probs=probs)
plt.show()

# %% [markdown]
# ## Saving the trained network
#
# `save_checkpoint` writes the model's architecture (as JSON), its weights, and the
# optimizer's state into one `.npz` file, atomically: a temporary file renamed into
# place, so an interrupted save never leaves a broken checkpoint. Chapter 09 loads this
# checkpoint to look inside the trained network. `load_checkpoint` rebuilds the model
# from the file alone; it must give exactly the same predictions.

# %%
CHECKPOINT = Path("checkpoints/lenet_mnist.npz")
save_checkpoint(CHECKPOINT, model, optimizer, epoch=len(history), scheduler=scheduler,
                config={"model": "lenet", "relu_after_pool": True, "epochs": EPOCHS, "batch_size": BATCH_SIZE},
                extra={"test_accuracy": accuracy})
restored = load_checkpoint(CHECKPOINT)["model"]
same = np.array_equal(restored.eval().forward(x_test[:500]), model.eval().forward(x_test[:500]))
print(f"saved {CHECKPOINT}; the restored model predicts the same: {same}")
assert same

# %% [markdown]
# ## The same from the command line
#
# The `cnnlib` command trains from a YAML configuration, so that runs are recorded and
# repeatable. A configuration names the model, the data, the optimizer and its settings,
# the schedule, the callbacks and the seed; a typo in a key is an error that suggests the
# right name. This is `configs/mnist_lenet.yaml`:

# %% tags=["nbval-ignore-output"]
print(Path("../configs/mnist_lenet.yaml").read_text())

# %% [markdown]
# In a terminal, from the course folder:
#
# ```
# cnnlib train --config configs/mnist_lenet.yaml             # on your exercise code
# cnnlib train --config configs/mnist_lenet.yaml --reference # on the reference solutions
# cnnlib evaluate --checkpoint runs/mnist_lenet-<date>-<time>/best.npz
# cnnlib export --checkpoint runs/mnist_lenet-<date>-<time>/best.npz   # export.npz and .json beside it
# cnnlib progress                                            # which exercises are done
# ```
#
# Each run gets a new directory under `runs/`, never an existing one, with a copy of
# the configuration, the history as CSV (written as each epoch ends), the best model so
# far (judged on the 10 % of the training set held out for validation), the final test
# metrics as JSON and the plots. Other configurations in `configs/` train a small CNN,
# a VGG-style network with batch norm and dropout, and the same network on Fashion-MNIST
# and CIFAR-10.
#
# ## Things to try
#
# - Train with your own code only: restart the kernel with no reference solution
#   switched on. If the accuracy is far below this chapter's, an exercise has a bug that
#   the graders missed (tell us!).
# - Replace SGD with `Adam(model, lr=1e-3)` or `AdamW`, or train without the schedule.
#   Which reaches 99 % first?
# - Raise the learning rate to 1.0 and watch the trainer stop with a clear error.
# - Train `cnnlib.models.vgg_bn`, with batch norm and dropout, for a few epochs.
#
# ## Summary
#
# - Training is the loop forward, loss, backward, step over shuffled mini-batches, epoch
#   after epoch, with the model in training mode for the steps and in evaluation mode
#   to measure it.
# - A LeNet-style CNN of 421,642 parameters, trained for 3 epochs with SGD, Nesterov
#   momentum and a cosine schedule with warm-up, reaches more than 99 % accuracy on the MNIST test
#   set, in plain NumPy, on your own code.
# - Learning curves, the confusion matrix and the most confident mistakes show how a
#   network learns and where it fails; a checkpoint keeps the trained network for later.
#
# Chapter 09 opens the trained network up: its filters, its feature maps, and which
# pixels its decisions depend on.

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **8.q1** How many optimizer steps does one epoch over 54,000 training digits take at
# batch size 128, the last batch being smaller?

# %%
cnnlib.answer("8.q1", None)

# %% [markdown]
# **8.q2** After `training_step` returns, whose activations do the layers' caches hold:
# (a) the batch's, from before the update, (b) the batch's after the update, or (c) none,
# the update clears them?

# %%
cnnlib.answer("8.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[8]))
