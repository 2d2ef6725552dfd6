# %% [markdown]
# # Chapter 12: Data augmentation and the capstone
#
# A network trained on 1,000 digits has seen each of them exactly where and how it was
# drawn. Shift a digit by two pixels, or tilt it by a few degrees, and to the network it
# is a new image, although to you it is the same digit. **Data augmentation** shows the
# network a slightly different copy of each training image every time it meets it,
# changed in ways that keep the label. It costs no new data, and on small data sets it
# is often worth more than any change of architecture.
#
# 1. **Which changes keep the label.** Small shifts, small rotations, a hidden patch: yes.
#    A horizontal flip, or a half turn: not for digits, and the chapter shows why.
# 2. **Three augmentations**, written by you: a random shift (pad with zeros, then crop at
#    random), a rotation by bilinear interpolation, and random erasing.
# 3. **An experiment**: 1,000 training digits with and without augmentation, measured on
#    digits held out from the training set.
# 4. **The capstone**: choose your own architecture and recipe on a validation split, and
#    touch the test set once, at the end. The reference recipe, chosen that way, ends at
#    99.5 % or more on the full MNIST test set for each of three seeds; a table keeps your
#    choices and results.
#
# Exercises, in `cnnlib/augmentation.py`:
#
# | id | function | what |
# | --- | --- | --- |
# | 12.1 | `random_shift` | shift each image at random: zero-pad, then crop (`torchvision`'s `RandomCrop(28, padding=2)`) |
# | 12.2 | `rotate` | rotate images about their centre by bilinear interpolation (`F.grid_sample`) |
# | 12.3 | `random_erasing` | fill one random rectangle of some images (`torchvision`'s `RandomErasing`) |
#
# The hints are folded away: open one only when you are stuck, and the first one first.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib import capstone, ops
from cnnlib.data import load_mnist
from cnnlib.models import lenet
from cnnlib.optim import SGD, CosineLR
from cnnlib.trainer import Trainer
from cnnlib.transforms import Augment

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())
(x_train, y_train), _ = load_mnist()  # the test digits stay unread until the very end
print(x_train.shape, y_train.shape)
first = {d: int(np.flatnonzero(y_train == d)[0]) for d in range(10)}  # the first training digit of each class


def show(rows, titles=None, row_names=None, size=1.2):
    """A grid of single-channel images: ``rows`` is a list of batches (N, 1, H, W), one row each."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows + 0.3), squeeze=False)
    for i, batch in enumerate(rows):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([]), ax.set_yticks([])
            if j < len(batch):
                ax.imshow(batch[j, 0], cmap="gray_r", vmin=0, vmax=1)
            else:
                ax.axis("off")
            if titles is not None and i == 0:
                ax.set_title(titles[j], fontsize=8)
        if row_names is not None:
            axes[i][0].set_ylabel(row_names[i], fontsize=8)
    fig.tight_layout()
    plt.show()


# %% [markdown]
# ## Which changes keep the label
#
# An augmentation is only useful if the changed image has the same label as the original:
# otherwise it teaches the network something false. What keeps a digit's label depends on
# how people write digits. They write them a little off-centre, a little tilted, thinner or
# thicker, sometimes with a stroke missing; so small shifts, small rotations and a hidden
# patch make copies that could have been in the data set. They never write them mirrored.
#
# A **horizontal flip** is the classic augmentation for photographs (a cat looking left is
# a cat), and it is wrong for digits: a flipped 2, 3, 4 or 7 is not a digit at all, and
# the network would learn to accept shapes that never occur. A **half turn** is worse,
# because some turned digits *are* digits, of another class: a 6 turned upside down looks
# like a 9, and the network would be taught that it is a 6.

# %%
picks = np.stack([x_train[first[d]] for d in (2, 3, 4, 7, 6, 9)])
show([picks, picks[:, :, :, ::-1], np.rot90(picks, 2, axes=(2, 3))],
     titles=["2", "3", "4", "7", "6", "9"], row_names=["original", "flipped", "half turn"])
upside_down_6 = np.rot90(x_train[y_train == 6][:500], 2, axes=(2, 3)).mean(axis=0)
nines, sixes = x_train[y_train == 9][:500].mean(axis=0), x_train[y_train == 6][:500].mean(axis=0)
closer_to_9 = np.abs(upside_down_6 - nines).sum() < np.abs(upside_down_6 - sixes).sum()
print(f"the mean upside-down 6 is closer to the mean 9 than to the mean 6: {closer_to_9}")
assert closer_to_9

# %% [markdown]
# The averages of 500 digits agree with the picture: an upside-down 6 is nearer to a 9 than
# to a 6, pixel for pixel. Flips and half turns are therefore out for digits (for letters,
# for text, for anything whose meaning depends on its orientation); the augmentations of
# this chapter are the ones that keep a digit a digit, used with small strengths.
#
# ## 12.1 A random shift: pad, then crop
#
# Shift an image by $(\delta_y, \delta_x)$ pixels and the pixels that leave the frame are
# lost, while the ones that enter must come from somewhere. Two ways to fill them: wrap
# around (`np.roll`: what leaves on the left comes back on the right), or fill with the
# background, 0. For a digit only the second makes sense: a stroke that leaves on the left
# does not reappear on the right.
#
# A neat way to get the zero fill is to **pad, then crop**: pad the $H \times W$ image with
# $s$ zeros on every side, to $(H + 2s) \times (W + 2s)$, and cut an $H \times W$ window out
# of the padded image. A window whose top-left corner is at $(d_y, d_x)$ holds the original
# moved by $s - d_y$ rows and $s - d_x$ columns, so drawing the corner uniformly from
# $0, \dots, 2s$ along each axis draws a shift uniformly from $-s, \dots, s$. That is what
# `torchvision.transforms.RandomCrop(28, padding=2)` does, and what you write:
#
# **Exercise 12.1** `random_shift(x, max_shift, rng)`: for each image of the batch its own
# corner, drawn from `rng`; every channel of an image moves together; `x` is not modified,
# and the result has its shape and dtype.
#
# <details><summary>Hint 1: the shapes</summary>
#
# `np.pad` pads the last two axes only if you give `(0, 0)` for the first two. A window is
# a slice `[dy:dy + H, dx:dx + W]` of the padded image.
# </details>
#
# <details><summary>Hint 2: the draws</summary>
#
# One draw of two integers per image, each in $0, \dots, 2s$ inclusive: `rng.integers`'
# upper bound is exclusive. One draw for the whole batch would move every image alike.
# </details>

# %%
cnnlib.check("12.1")

# %% [markdown]
# Eight shifted copies of one digit, `max_shift=2`. Each is a possible copy of the same 5;
# the network sees another one in every epoch.

# %%
five = x_train[first[5]][None]
shifted = ops.random_shift(np.repeat(five, 8, axis=0), 2, np.random.default_rng(0))
show([five, shifted], row_names=["original", "shifted"])
padded = np.pad(five, ((0, 0), (0, 0), (2, 2), (2, 2)))
windows = [padded[0, :, dy:dy + 28, dx:dx + 28] for dy in range(5) for dx in range(5)]
assert all(any(np.array_equal(s, w) for w in windows) for s in shifted)  # each is a window of the padded digit
print(f"{len(np.unique(shifted.reshape(8, -1), axis=0))} different copies out of 8")

# %% [markdown]
# ## 12.2 A rotation, by bilinear interpolation
#
# Rotating an image is less simple than shifting it, because a rotated pixel grid does not
# land on the pixel grid. Two things make it work.
#
# **Pull, do not push.** Sending every input pixel to where the rotation takes it leaves
# holes in the output (some output pixels receive nothing) and piles in others. Instead,
# go over the *output* pixels and ask, for each, where it came from: rotate its position
# back by the angle. Every output pixel then gets exactly one value.
#
# With the centre of the image at $(c_y, c_x) = (\frac{H-1}{2}, \frac{W-1}{2})$ (pixel
# centres run from $0$ to $H - 1$), write the output pixel $(r, c)$ relative to the centre,
# $u = c - c_x$ (to the right) and $v = r - c_y$ (down, since row 0 is at the top). Turning
# the image counter-clockwise by $a$, as you look at it, means that the output pixel came
# from
#
# $$\text{column} = c_x + \cos a \; u - \sin a \; v, \qquad
#   \text{row} = c_y + \sin a \; u + \cos a \; v .$$
#
# Check it on $a = 90°$: the top of the output ($u = 0$, $v < 0$) comes from the right of
# the input (column $c_x - v > c_x$, row $c_y$): what was on the right is now at the top, a
# counter-clockwise quarter turn, which is `np.rot90`.
#
# **Interpolate.** The point $(\text{row}, \text{column})$ is usually between pixels. Let
# $r_0 = \lfloor \text{row} \rfloor$, $c_0 = \lfloor \text{column} \rfloor$ and the fractions
# $f_r = \text{row} - r_0$, $f_c = \text{column} - c_0$. **Bilinear interpolation** blends
# the four pixels around the point, each weighted by how close the point is to it:
#
# $$(1 - f_r)(1 - f_c)\, x_{r_0, c_0} + (1 - f_r) f_c\, x_{r_0, c_0 + 1}
#   + f_r (1 - f_c)\, x_{r_0 + 1, c_0} + f_r f_c\, x_{r_0 + 1, c_0 + 1} .$$
#
# The four weights are positive and sum to 1; on a pixel they reduce to that pixel. A
# neighbour outside the image counts as 0, the background. This is exactly
# `F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=True), mode="bilinear",
# padding_mode="zeros", align_corners=True)` in PyTorch (`tests/maintainer/test_torch_augmentation.py`
# checks it). A rotation of the *input* needs no backward pass: no parameter comes before
# it, so no gradient has to flow through it.
#
# **Exercise 12.2** `rotate(x, angles)`: image `n` turned by `angles[n]` degrees. It draws
# nothing (the trainer's `Augment` draws the angles), so it is graded value for value.
#
# <details><summary>Hint 1: the grid</summary>
#
# `np.meshgrid(np.arange(H), np.arange(W), indexing="ij")` gives every output pixel's row
# and column; with the angles as an `(N, 1, 1)` array, the formulas above give the source
# rows and columns of every image at once, shape `(N, H, W)`.
# </details>
#
# <details><summary>Hint 2: the four neighbours</summary>
#
# For each of the four neighbours: a mask of where it lies inside the image, its indices
# clipped into the image (so that indexing never fails; the mask zeroes what clipping
# fetched), and its weight. Fancy indexing with the image index, rows and columns, each of
# shape `(N, H, W)`, gathers one value per output pixel; moving the channel axis last first
# gathers every channel at once.
# </details>

# %%
cnnlib.check("12.2")

# %%
angles = np.array([-30, -20, -10, -5, 5, 10, 20, 30, 90])
turned = ops.rotate(np.repeat(five, len(angles), axis=0), angles)
show([turned], titles=[f"{a}°" for a in angles])
assert np.allclose(turned[-1], np.rot90(five[0], 1, axes=(1, 2)), atol=1e-6)  # +90: counter-clockwise
ink = turned[5].sum() / five.sum()
print(f"ink kept at 10 degrees: {ink:.3f} of the original")
assert abs(ink - 1) < 0.01

# %% [markdown]
# Small angles keep the digit; 30° is already an unusual 5. Bilinear interpolation blurs a
# little (each output pixel is a weighted average of four), but as long as the digit stays
# inside the frame it keeps the total ink, as printed.
#
# ## 12.3 Random erasing
#
# Random erasing (Zhong et al., 2017) hides one random rectangle of an image. The network
# cannot rely on any single stroke, because any of them may be missing; it is a cousin of
# dropout (chapter 07), applied to the input and in patches. For each image, with
# probability $p$: draw the rectangle's area as a fraction of the image, uniform in
# `scale`, and its aspect ratio $h / w$, **log-uniform** in `ratio` (so that $h/w = 2$ and
# $h/w = 1/2$ are equally likely); then $h = \operatorname{round}\sqrt{\text{area} \cdot
# \text{aspect}}$ and $w = \operatorname{round}\sqrt{\text{area} / \text{aspect}}$, clipped
# to the image; then its top-left corner, uniform among the positions where it fits. Every
# channel of the rectangle becomes `value`.
#
# **Exercise 12.3** `random_erasing(x, rng, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3),
# value=0.0)`. The grader measures what your function did over a few thousand images: the
# fraction erased, the areas, the shapes and the positions of the rectangles.
#
# <details><summary>Hint 1: log-uniform</summary>
#
# Draw $\log(\text{aspect})$ uniformly between $\log(\text{low})$ and $\log(\text{high})$,
# then exponentiate.
# </details>
#
# <details><summary>Hint 2: the corner</summary>
#
# A rectangle of height $h$ fits with its top row at $0, \dots, H - h$: that is $H - h + 1$
# positions, and `rng.integers`' upper bound is exclusive.
# </details>

# %%
cnnlib.check("12.3")

# %%
erased = ops.random_erasing(np.repeat(five, 8, axis=0), np.random.default_rng(1), p=1.0)
show([five, erased], row_names=["original", "erased"])
fractions = (erased != five).mean(axis=(1, 2, 3))
print("fraction of the pixels changed (erasing white background changes nothing):", fractions)
assert np.all((0 < fractions) & (fractions < 0.4))

# %% [markdown]
# ## Augmentation in the trainer
#
# `cnnlib.transforms.Augment(shift, rotate, erase)` chains your three functions: each image
# turned by an angle drawn in $[-\text{rotate}, \text{rotate}]$, then shifted by up to
# `shift` pixels, then erased with probability `erase`. `Trainer(..., augment=Augment(...))`
# applies it to every training batch, with the trainer's own generator, and never to the
# validation data, to `evaluate` or to `predict`: the network is measured on the digits as
# they are. In a configuration file it is the key `augment: {shift: 2, rotate: 10}`.
#
# Here is one row of copies per digit, as the training loop would make them in one epoch
# each, with the settings of the experiment below.

# %%
augment = Augment(shift=2, rotate=10)
digits = np.stack([x_train[first[d]] for d in range(10)])
rng = np.random.default_rng(0)
show([digits] + [augment(digits, rng) for _ in range(3)], titles=[str(d) for d in range(10)],
     row_names=["original", "epoch 1", "epoch 2", "epoch 3"])

# %% [markdown]
# ## The experiment: 1,000 training digits, with and without augmentation
#
# Train the LeNet-style network of chapter 08 on the first 1,000 training digits, with the
# same recipe twice, once with `Augment(shift=2, rotate=10)` and once without, and measure
# both on 5,000 *other* training digits that neither run trains on: the last 5,000 of the
# 60,000, a validation set. The test set is not read (it is kept for the capstone's final
# number). Two seeds, since one run proves little.

# %%
x_small, y_small = x_train[:1000], y_train[:1000]
x_val, y_val = x_train[-5000:], y_train[-5000:]
print("digits per class in the 1,000:", np.bincount(y_small))
EPOCHS, BATCH = 20, 32


def train_small(seed, augment):
    model = lenet(rng=np.random.default_rng(seed), relu_after_pool=True)
    optimizer = SGD(model, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = CosineLR(optimizer, total_steps=EPOCHS * -(-len(x_small) // BATCH), warmup_steps=50)
    trainer = Trainer(model, optimizer, scheduler=schedule, scheduler_interval="step", rng=seed, augment=augment)
    history = trainer.fit(x_small, y_small, epochs=EPOCHS, batch_size=BATCH, verbose=False)
    return history.rows[-1]["accuracy"], trainer.evaluate(x_val, y_val)["accuracy"]


results = {}
for seed in (0, 1):
    for name, aug in (("without", None), ("with", Augment(shift=2, rotate=10))):
        results[seed, name] = train_small(seed, aug)
        train_acc, val_acc = results[seed, name]
        print(f"seed {seed}, {name:>7} augmentation: training accuracy {train_acc:.2%}, "
              f"validation accuracy {val_acc:.2%}")
gains = [results[s, "with"][1] - results[s, "without"][1] for s in (0, 1)]
print("gain in validation accuracy:", ", ".join(f"{g:+.2%}" for g in gains))
assert all(g > 0.005 for g in gains), "augmentation should help by more than half a point on 1,000 digits"

# %% [markdown]
# Augmentation wins by the margin printed above, for both seeds, on digits neither network
# was trained on. The training accuracies say why: without augmentation the network gets
# (nearly) every training digit right, because it can memorise 1,000 fixed images; with
# it, no image is ever seen twice in the same form, and what it learns has to hold for the
# copies, which is closer to what holds for new digits. With 60,000 digits the gain is
# smaller (there is less to memorise and more variety already), but with more epochs it
# still takes chapter 08's network from 99.2-99.4 % to 99.50-99.57 % on the test set, as
# the capstone shows.
#
# ## The capstone: your own recipe
#
# You now have every piece: convolutions, pooling, batch norm and dropout, the optimizers
# and schedules, initialization, and augmentation. The capstone is to combine them into a
# recipe of your own for full MNIST and to measure it honestly:
#
# 1. **Split.** Hold out part of the training set as validation (`validation_split: 0.1`
#    in a config holds out 6,000 of the 60,000 digits). Every choice is made on it: the
#    architecture (`lenet`, `vgg_bn` with its `widths`, `dropout`, `hidden`, or your own
#    `Sequential`), the augmentation, the optimizer and rate, the schedule, the epochs.
# 2. **Record.** Write each recipe you try, with its validation accuracy, into your table
#    (`capstone.record`, below). Recipes are cheap to try on fewer epochs first.
# 3. **Test once.** When you have chosen, train the chosen recipe (on all 60,000 digits, if
#    you like) and evaluate it on the 10,000 test digits, *once*. A test accuracy you look
#    at and then improve on is a validation accuracy, and no longer says how the network
#    does on digits it has never influenced.
#
# The reference recipe, `configs/mnist_capstone.yaml`, was chosen the same way, among four
# candidates with the same augmentation (shifts of up to 2 pixels, turns of up to 10
# degrees) and weight decay, by a rule fixed before they ran: the highest validation
# accuracy of seed 0. Three are the LeNet-style network of chapter 08: trained for 12
# epochs instead of 3, for 20, and for 20 with random erasing as well. The fourth is a small
# VGG with batch norm and dropout (chapter 07's layers; `vgg_bn` with `widths: [16, 32]`,
# about as many multiplications per image as LeNet but twice its time per epoch here),
# trained for 8. The runs are too long to repeat inside this notebook, so
# `benchmarks/capstone.py` made them, on this course's 2-core reference machine (shared
# with other jobs at the time, so the times are an upper bound), and wrote what it measured
# into `benchmarks/results/`. Each trains on 54,000 digits and validates on the same 6,000
# held-out digits after every epoch; the chosen recipe, on three seeds, each evaluated on
# the test set once, after its last epoch.

# %%
results_dir = Path("..") / "benchmarks" / "results"
candidates = {p.stem.removeprefix("capstone_candidate_"): json.loads(p.read_text())
              for p in sorted(results_dir.glob("capstone_candidate_*.json"))}
reference = json.loads((results_dir / "capstone_reference.json").read_text())


def describe(recipe):
    return (f"{recipe['model']} {recipe['model_args']}, {recipe['epochs']} epochs, batch {recipe['batch_size']}, "
            f"{recipe['optimizer']} lr {recipe['lr']}, weight decay {recipe['weight_decay']}, augment "
            f"shift {recipe['augment']['shift']} rotate {recipe['augment']['rotate']:g} "
            f"erase {recipe['augment']['erase']:g}")


for name, report in candidates.items():  # seed 0 of each: the same split
    row = report["seeds"][0]
    print(f"{name:>13}: {describe(report['recipe'])}\n{'':15}seed {row['seed']}: {row['val_accuracy']:.2%} "
          f"on the 6,000 validation digits ({row['seconds_per_epoch']:.0f} s per epoch)")
chosen = max(candidates, key=lambda name: candidates[name]["seeds"][0]["val_accuracy"])  # the choice, on validation
print(f"chosen on validation: {chosen}")
assert candidates[chosen]["recipe"] == reference["recipe"]  # configs/mnist_capstone.yaml is the winner's recipe
assert reference["seeds"][0] == candidates[chosen]["seeds"][0]  # and its seed 0 is the winner's run
print("machine:", reference["machine"]["processor"], f"{reference['machine']['cpu_count']} cores,", reference["date"])
for row in reference["seeds"]:
    print(f"seed {row['seed']}: validation {row['val_accuracy']:.2%}, test {row['test_accuracy']:.2%}, "
          f"{row['train_time_s'] / 60:.0f} min of training ({row['epochs']} epochs on {row['train_samples']:,} digits)")
tests = [row["test_accuracy"] for row in reference["seeds"]]
reached = sum(t >= 0.995 for t in tests)
print(f"seeds at 99.5 % or more on the test set: {reached} of {len(tests)}; mean {np.mean(tests):.2%}")
assert len(tests) >= 3 and all(t >= 0.995 for t in tests)
assert all(row["val_accuracy"] < row["test_accuracy"] for report in [reference, *candidates.values()]
           for row in report["seeds"])
print(f"command: {reference['command']}")

# %% [markdown]
# LeNet for 20 epochs won on validation, so it is the recipe, although its lead (6 digits
# out of 6,000 over the 12-epoch run) is within what another seed could change. On the test
# set its three seeds end at 99.50 to 99.57 %, in the times printed (training and the
# validation after each epoch): 99.5 % or more for each seed, the number this course
# reports because it is the one the protocol gives. The other candidates' runs happened to
# measure their test accuracy too (kept in their files, never used): the VGG's one seed
# reached 99.58 %, so had the test set chosen, it would have picked the VGG, and its
# 99.58 % would then no longer be a fair estimate of anything. That is the price of an
# honest number. Random erasing did not help here (99.22 % against 99.35 % on validation,
# one seed: a single comparison, not a rule). Note also that the validation
# digits are harder than the test digits for every network (asserted above): a validation
# accuracy compares recipes, and estimates the test accuracy only roughly.
#
# Can you do better, honestly? Wider or deeper networks (`vgg_bn` with `widths: [32, 64]`,
# or chapter 11's residual network), more epochs, a stronger augmentation: each is a
# candidate to compare on validation, and only the winner meets the test set.
# `cnnlib train --config configs/mnist_capstone.yaml --reference` trains the reference
# recipe and saves its best model. Your table starts with the four candidates' rows;
# `capstone.record` adds a row to `runs/capstone_results.csv` (under `chapters/`, which git
# ignores), never losing an earlier one.

# %%
table = "runs/capstone_results.csv"
for name, report in [*candidates.items(), ("reference", reference)]:
    recipe = report["recipe"]
    choices = {"model": recipe["model"], "widths": str(recipe["model_args"].get("widths", "")),
               "epochs": recipe["epochs"], "shift": recipe["augment"]["shift"], "rotate": recipe["augment"]["rotate"],
               "erase": recipe["augment"]["erase"], "lr": recipe["lr"], "weight_decay": recipe["weight_decay"]}
    tested = [row["test_accuracy"] for row in report["seeds"]] if report is reference else []  # the chosen one only
    rows = capstone.record(name, choices, val_accuracy=report["seeds"][0]["val_accuracy"],
                           test_accuracy=float(np.mean(tested)) if tested else None, path=table, replace=True)
for row in rows:
    if row["name"] in [*candidates, "reference"]:
        print({k: v for k, v in row.items() if k != "recorded"})
assert next(r for r in rows if r["name"] == "reference")["test_accuracy"] == f"{np.mean(tests):.4f}"

# %% [markdown]
# Your recipes go here. Here is one to start from, small enough to run in a few seconds:
# the reference recipe on 6,000 digits (5,400 to train, 600 to validate) for 2 epochs,
# built from the config the way `benchmarks/capstone.py` builds it, and recorded. Change
# the config's keys (`model`, `model_args`, `augment`, `epochs`, `lr`, ...), or build your
# own `Sequential`; give each recipe its own name. The test set is not read.

# %%
from cnnlib import runs
from cnnlib.config import load_config

config = load_config("../configs/mnist_capstone.yaml", epochs=2, train_samples=6000,
                     scheduler={"name": "cosine", "interval": "step", "warmup_steps": 50})
(x_all, y_all), _ = runs.load_data(config)
(x_fit, y_fit), (x_check, y_check) = runs.split_validation(x_all, y_all, config.validation_split,
                                                           np.random.default_rng(config.seed))
model = runs.model_for(config, np.random.default_rng(config.seed))
optimizer = runs.optimizer_for(config, model)
trainer = Trainer(model, optimizer, rng=config.seed, augment=runs.augment_for(config), scheduler_interval="step",
                  scheduler=runs.scheduler_for(config, optimizer, -(-len(x_fit) // config.batch_size)))
trainer.fit(x_fit, y_fit, epochs=config.epochs, batch_size=config.batch_size, verbose=False)
small_val = trainer.evaluate(x_check, y_check)["accuracy"]
print(f"{len(x_fit):,} digits, {config.epochs} epochs: {small_val:.2%} on {len(x_check)} validation digits")
capstone.record("lenet, 2 epochs, 5,400 digits", {"model": config.model, "epochs": config.epochs, "shift": 2,
                "rotate": 10, "lr": config.lr, "weight_decay": config.weight_decay},
                val_accuracy=small_val, path=table, replace=True)
assert small_val > 0.9

# %% [markdown]
# The whole table, with every recipe you have tried (its output is yours, so the course's
# tests do not compare it):

# %% tags=["nbval-ignore-output"]
for row in capstone.load(table):
    print(row)

# %% [markdown]
# ## What you have now
#
# - Three augmentations, written and graded: a random shift by padding and cropping, a
#   rotation by bilinear interpolation (the sampling `F.grid_sample` does), and random
#   erasing; `Augment` and the `augment:` config key apply them to training batches only.
# - Which changes keep a digit's label (small shifts and turns, a hidden patch) and which
#   do not (flips, half turns).
# - A measured gain: on 1,000 digits, augmentation is worth the points printed above on
#   held-out digits.
# - A protocol for choosing a recipe without fooling yourself: choose on validation, test
#   once; and a reference recipe measured that way, at 99.50-99.57 % on the full MNIST
#   test set for three seeds.

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **12.q1** Which of these changes a digit's label? (a) a 2-pixel shift (b) a 10-degree
# rotation (c) a 180-degree rotation of a 6 (d) erasing 4 % of the image. Answer with a letter.

# %%
cnnlib.answer("12.q1", None)

# %% [markdown]
# **12.q2** How many different windows can `random_shift` choose for one 28x28 image with
# `max_shift=2`?

# %%
cnnlib.answer("12.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[12]))
