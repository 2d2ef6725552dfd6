# %% [markdown]
# # Chapter 00: How the course works, and the NumPy you need
#
# In this course you build a convolutional neural network (CNN) from scratch, in plain
# NumPy, and train it to 99 % accuracy on handwritten digits. Nothing is hidden in a
# framework: convolution, pooling, the losses, backpropagation, the optimizers and batch
# normalization are all code you write.
#
# This chapter has two parts:
#
# 1. **How the course works**: where you write code, how it is graded, and what to do
#    when you are stuck.
# 2. **The NumPy you need**: broadcasting, strides, views and copies. Convolution code
#    is mostly about getting these right, and fast code depends on them.
#
# It ends with the first two exercises, **0.1 `zero_pad`** and **0.2 `one_hot`**.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import cnnlib
from cnnlib.ops import one_hot, zero_pad
from cnnlib.data import load_mnist_sample

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## Part 1: How the course works
#
# ### The chapters
#
# Every chapter is a notebook in `chapters/`. It explains the math, asks you to write a
# few functions, checks them, and shows what they do, mostly on real MNIST digits.

# %%
for number, title in cnnlib.exercises.CHAPTERS.items():
    print(f"{number:02d}  {title}")

# %% [markdown]
# ### Where you write code: the stubs in `cnnlib/`
#
# The package `cnnlib` is the library you grow. Each exercise is a function in one of its
# modules, named after a concept (`cnnlib/conv.py`, `cnnlib/pooling.py`, ...). Here is
# every exercise of the course, with the file that holds it:

# %%
for ex in cnnlib.EXERCISES:
    print(f"{ex.id:>4}  {ex.name:<28} cnnlib/{ex.module}.py")

# %% [markdown]
# Open a file in JupyterLab's file browser and it opens in the editor. The file browser
# (left sidebar) starts in `chapters/`, this notebook's folder; the house icon at the
# start of the path above its list goes up to the course's folder, with `chapters/`,
# `cnnlib/` and `tests/`: double-click `cnnlib`. A right click on a file's tab, *New View
# for File*, lets you see it next to this notebook.
# Each exercise file says at its top which parts are yours: the bodies of the functions
# marked `@exercise`. An exercise stub looks like this:
#
# ```python
# @exercise
# def zero_pad(x: np.ndarray, padding: int) -> np.ndarray:
#     """Pad the two spatial axes of a batch of images with zeros.
#     ...
#     """
#     check_array("zero_pad", "x", x, 4, "(N, C, H, W)")
#     padding = check_int("zero_pad", "padding", padding, 0)
#     raise NotImplementedError("exercise 0.1 zero_pad (chapter 00): write it here")
# ```
#
# Keep the signature, the docstring and the lines that check the arguments; replace the
# `raise NotImplementedError(...)` line with your code. The docstring says what the
# function receives and returns, with the shape of every array. `help(zero_pad)` shows it
# here too.
#
# Everything else in `cnnlib` (layers, models, the trainer, data loading, plots) is
# complete and calls your functions through `cnnlib.ops`, so in chapter 08 your network
# trains on your own math. What your functions rely on (the argument checks, the
# output-size formula, `rel_error`) lives in `cnnlib/core/`, which you never edit: a
# mistake in one of your files, even one that stops it from importing, breaks only the
# exercises of that file.
#
# **Run All works from day 1.** A cell that needs an exercise you have not written yet
# (or whose file does not import) runs the reference solution instead and says so in a
# line that starts with `[reference]`, so every chapter runs to its end and you see what
# your code should produce. If you prefer to stop at your first unwritten exercise, run
# `cnnlib.strict()` (or start JupyterLab with `CNNLIB_STRICT=1`).
#
# **Autoreload.** The first code cell ran `%autoreload 2`: when you save a file in
# `cnnlib/`, the notebook uses the new version the next time a cell runs. No kernel
# restart is needed (restart anyway if something behaves strangely).
#
# ### How your code is graded
#
# Every exercise has a set of checks, smallest first: a case small enough to compute by
# hand, then agreement with a reference solution on random inputs (batch size 1, odd and
# non-square sizes, strides and paddings), gradient checks for backward functions, and
# invariants (your inputs are left unchanged, float32 stays float32). When a check fails
# you get which check, which input, what was expected and, for common mistakes, a hint.
#
# Your code runs in a process of its own while it is graded, apart from the grader: if it
# crashes, exits, hangs (20 s per check) or prints without end, that exercise is graded
# **crashed** and every other exercise is still graded; if its file does not import (a
# syntax error, say), its exercises are **broken**, with the file, the line and the error.
# An exercise that the training of chapter 08 calls is also timed against the reference
# at that chapter's shapes: if it is correct but much slower, it is **done** with a line
# saying how much longer chapter 08 would take (and how to run the reference meanwhile).
#
# In a notebook, grade one exercise with `cnnlib.check`. It prints **done**, **wrong**
# (with the message), **crashed**, **broken** or **not started**. `cnnlib.grade` returns
# the same result as an object instead, for code that needs its `.status`:

# %%
cnnlib.check("0.1")
print("status:", cnnlib.grade("0.1").status)

# %% [markdown]
# The same checks run from a terminal: *File, New, Terminal* in JupyterLab opens one in
# the course's folder (the folder you started JupyterLab in), where these work:
#
# | command | what it does |
# | --- | --- |
# | `pytest tests/` | grades every exercise and ends with a table, chapter by chapter |
# | `pytest tests/test_ch00_course_and_numpy.py` | grades one chapter |
# | `pytest -m ex0_1` | grades exercise 0.1 alone (the marker is `ex` + the id with `_`) |
# | `cnnlib progress` | prints the table without pytest (from any folder) |
#
# The table is also one function call away. Here it is for this chapter:

# %%
print(cnnlib.progress(chapters=[0]))

# %% [markdown]
# ### Concept checks
#
# Most chapters end with a few **concept checks**: questions whose answer is a number, a
# shape or a letter ("how many parameters does this layer have?"). Work the answer out on
# paper, then write it in the cell, `cnnlib.answer("1.q1", 13)` in place of
# `cnnlib.answer("1.q1", None)`, and run it: it says at once whether you are right and, if
# not, what the usual mistake behind your answer is (never the answer). Your answers are
# kept in `answers.json` in the course's folder, and `pytest tests/` and `cnnlib progress`
# grade them with the exercises (`pytest -m ex1_q1` grades one).

# %% [markdown]
# ### The solution switch
#
# Every exercise has a reference solution in `solutions/`. You can tell `cnnlib` to run
# the reference instead of your code, for any set of exercises. That is how you keep going
# when you are stuck: if chapter 03 resists, switch on its solutions and train your
# network in chapter 08 anyway.
#
# - Before starting JupyterLab: `CNNLIB_SOLUTIONS=all jupyter lab chapters/00_how_the_course_works.ipynb`
#   (everything), or a list of ids and names, `CNNLIB_SOLUTIONS=3.2,relu_forward jupyter lab ...`.
# - From Python: `cnnlib.use_solutions("3.2", "relu_forward")`, `cnnlib.use_solutions("all")`,
#   and `cnnlib.use_solutions(None)` to run all your own code again.
# - As a context manager, for a few lines only: `with cnnlib.use_solutions("2.3"): ...`
#
# Every chapter prints `cnnlib.describe_switch()` in its first cell, so you always know
# which code runs. Note that `cnnlib.check` grades *what runs*: with the switch on for an
# exercise it grades the reference. To grade your own code, switch it off:

# %%
with cnnlib.use_solutions("0.2", "conv2d_forward"):
    print(cnnlib.describe_switch())

with cnnlib.use_solutions(None):
    print(cnnlib.describe_switch())
    cnnlib.check("0.1")

print(cnnlib.describe_switch())  # back to what it was before the `with` blocks

# %% [markdown]
# (These notebooks are stored as they run with every solution switched on, which is why
# the outputs above say "done". When you run them yourself, you see your own progress.)
#
# ### When you are stuck
#
# 1. Read the docstring again (`help(function)`), especially the shapes.
# 2. Read the failing check's message and its hint. Every check names its input: rebuild
#    it in a cell and print your intermediate arrays.
# 3. Work a tiny case by hand: a 3x3 image, a 2x2 kernel, a batch of 1. The first check
#    of every exercise is such a case.
# 4. Print shapes after every reshape and transpose. Most bugs here are an axis in the
#    wrong place.
# 5. Still stuck? Read the reference in `solutions/` (after trying: you learn far more
#    from the struggle than from the answer), or switch the exercise's solution on and
#    move on. You can come back later.

# %% [markdown]
# ### Handing in your work
#
# If your course is graded, run `cnnlib submit` in a terminal in the course's folder. It
# writes `submission.zip` there with exactly your exercise files and your concept-check
# answers (`answers.json`), and a manifest of their hashes, the course version and the
# date; a missing or unreadable file is named and nothing is packed. Hand in that file as
# your instructor says. It is graded by the same checks, with the same messages, as
# `pytest tests/`, so run that first.

# %% [markdown]
# ## Part 2: The NumPy you need
#
# ### Arrays of images
#
# The course stores a batch of images like PyTorch does, as a 4-D array of shape
# **(N, C, H, W)**: N images, C channels (1 for grey MNIST digits, 3 for colour), H rows
# and W columns. 2,000 real MNIST digits ship with `cnnlib`:

# %%
images, labels = load_mnist_sample()
print("images:", images.shape, images.dtype, f"values in [{images.min():.1f}, {images.max():.1f}]")
print("labels:", labels.shape, labels.dtype, labels[:12])

fig, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for ax, img, lab in zip(axes, images, labels):
    ax.imshow(img[0], cmap="gray")
    ax.set_title(str(lab))
    ax.axis("off")
plt.show()

# %% [markdown]
# ### Broadcasting
#
# An operation on two arrays of different shapes works when their shapes are
# *compatible*: align the shapes on the right; each pair of sizes must be equal, or one of
# them must be 1 (a missing axis counts as 1). An axis of size 1 is repeated to match,
# without copying any data.
#
# | x | y | x + y |
# | --- | --- | --- |
# | (N, C, H, W) | (C, 1, 1) | (N, C, H, W) |
# | (N, C, H, W) | (1, C, 1, 1) | (N, C, H, W) |
# | (N, 1) | (M,) | (N, M) |
# | (N, C, H, W) | (C,) | error, unless C == W (and then it is wrong!) |
#
# Adding one bias per channel is the example you will meet in every chapter:

# %%
x = np.zeros((2, 3, 4, 5))                      # (N, C, H, W)
bias = np.array([1.0, 2.0, 3.0])                # (C,)
out = x + bias.reshape(1, 3, 1, 1)              # (N, C, H, W): bias[c] added to channel c
print(out.shape, out[0, :, 0, 0], out[1, :, 3, 4])

try:
    x + bias                                    # aligned on the right: 5 (W) against 3 (C)
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# `keepdims=True` keeps reduced axes with size 1, so the result broadcasts back against
# the input. Subtracting each channel's mean over the batch and the pixels (you will meet
# this again in batch normalization):

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 3, 4, 4)) + np.array([5.0, -2.0, 0.5]).reshape(1, 3, 1, 1)  # (N, C, H, W)
mean = x.mean(axis=(0, 2, 3), keepdims=True)   # (1, C, 1, 1)
centred = x - mean                              # (N, C, H, W) - (1, C, 1, 1)
print("mean per channel before:", mean.ravel())
print("mean per channel after: ", np.round(centred.mean(axis=(0, 2, 3)), 10) + 0.0)  # + 0.0 turns -0 into 0

# %% [markdown]
# An outer operation by inserting axes with `None` (`np.newaxis`): every pair of a
# column vector (N, 1) and a row vector (1, M) gives an (N, M) table.

# %%
a, b = np.arange(4), np.arange(3)
print(a[:, None] * 10 + b[None, :])            # (4, 3): entry (i, j) is 10*i + j

# %% [markdown]
# ### Memory, strides and views
#
# An array is a block of memory plus a recipe to read it: the **strides** say how many
# bytes to jump to move one step along each axis. For a C-contiguous (row-major) array
# the last axis moves by one element:

# %%
a = np.arange(12, dtype=np.int64).reshape(3, 4)
print(a)
print("shape", a.shape, "strides", a.strides, "(8 bytes per int64: next row +32, next column +8)")

# %% [markdown]
# Many operations only write a new recipe for the *same* memory: they return a **view**.
# Transposing swaps the strides; slicing with a step multiplies them. Nothing is copied,
# which is why these are free, and why writing into a view changes the original.
# `np.shares_memory(a, b)` tells whether two arrays overlap in memory.

# %%
t = a.T                       # (4, 3)
s = a[:, ::2]                 # (3, 2): every other column
for name, v in [("a.T", t), ("a[:, ::2]", s), ("a.reshape(2, 6)", a.reshape(2, 6))]:
    print(f"{name:<16} shape {str(v.shape):<8} strides {str(v.strides):<9} "
          f"view of a: {np.shares_memory(a, v)}, C-contiguous: {v.flags['C_CONTIGUOUS']}")

s[0, 0] = 100                 # writes into a
print("a[0, 0] is now", a[0, 0])
a[0, 0] = 0

# %% [markdown]
# ### When reshape copies
#
# `reshape` returns a view when it can describe the result with strides, which is always
# the case for a contiguous array. After a transpose it often cannot: reading `a.T` row by
# row visits memory out of order, so `a.T.reshape(-1)` must copy. So can `ravel()`;
# `flatten()` always copies. Changing such a copy does not change the original, a classic
# source of silent bugs (exercise 3.1 will test for it).

# %%
flat_view = a.reshape(-1)
flat_copy = a.T.reshape(-1)
print("a.reshape(-1):   view?", np.shares_memory(a, flat_view))
print("a.T.reshape(-1): view?", np.shares_memory(a, flat_copy), flat_copy)
print("np.ascontiguousarray(a.T) copies into row-major order:", np.ascontiguousarray(a.T).strides)

# %% [markdown]
# The same holds for image batches. Moving the channels last, (N, C, H, W) to
# (N, H, W, C), is only a new set of strides; making that contiguous costs one copy of
# the whole batch. Chapter 02 uses this to make convolution fast.

# %%
x = np.zeros((2, 3, 4, 5), dtype=np.float32)   # (N, C, H, W)
x_nhwc = x.transpose(0, 2, 3, 1)                # (N, H, W, C): a view
print("NCHW strides", x.strides, " NHWC view strides", x_nhwc.strides,
      " contiguous?", x_nhwc.flags["C_CONTIGUOUS"])

# %% [markdown]
# ### Sliding windows without copying
#
# Strides can do more than transpose. With `as_strided` you may give *any* shape and
# strides: here each row starts one element after the previous one, so the rows are the
# windows of length 3 of a 1-D array, all in the memory of that array. `as_strided` does
# not check anything (wrong strides read memory you do not own), so prefer its safe
# wrapper `sliding_window_view`, which computes the strides for you:

# %%
v = np.arange(7, dtype=np.float64)
windows = as_strided(v, shape=(5, 3), strides=(8, 8))   # (7 - 3 + 1, 3)
print(windows)
print("same as sliding_window_view:", np.array_equal(windows, sliding_window_view(v, 3)),
      "| view of v:", np.shares_memory(windows, v))

# %% [markdown]
# In 2-D, `sliding_window_view(img, (kH, kW))` returns, for every position (i, j), the
# kH x kW patch whose top-left corner is at (i, j). Every pixel appears in up to kH*kW
# patches, yet nothing is copied. These patches are the receptive fields of a convolution,
# and chapter 02 turns them into a matrix.

# %%
img = np.arange(16.0).reshape(4, 4)
patches = sliding_window_view(img, (2, 2))               # (3, 3, 2, 2)
print("patches.shape", patches.shape, "strides", patches.strides)
print("patch at (1, 2):\n", patches[1, 2])

# %% [markdown]
# ## Exercise 0.1: `zero_pad` (in `cnnlib/arrays.py`)
#
# Convolutions often pad their input with zeros, so that the kernel can be centred on
# border pixels too. Write `zero_pad(x, padding)`: given a batch `x` of shape
# (N, C, H, W), return a **new** array of shape (N, C, H + 2 padding, W + 2 padding),
# of the same dtype, with `x` in the middle and zeros around it. Only H and W are padded,
# never N or C. (NumPy's `np.pad` can do it; so can `np.zeros` and a slice assignment.)

# %%
cnnlib.check("0.1")

# %%
padded = zero_pad(images[:1], 4)
print(images[:1].shape, "->", padded.shape, padded.dtype)

fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
for ax, im, title in zip(axes, [images[0, 0], padded[0, 0]], ["x: 28 x 28", "zero_pad(x, 4): 36 x 36"]):
    ax.imshow(im, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
axes[1].add_patch(plt.Rectangle((3.5, 3.5), 28, 28, fill=False, edgecolor="tab:orange", linewidth=1.5))
plt.show()

# %% [markdown]
# ## Exercise 0.2: `one_hot` (in `cnnlib/arrays.py`)
#
# A classifier's training target is often written as a *one-hot* vector: for a label
# $y \in \{0, \dots, K-1\}$, the vector of length $K$ with a 1 at position $y$ and zeros
# elsewhere. Write `one_hot(labels, num_classes, dtype)`, returning an (N, num_classes)
# array with `out[n, labels[n]] == 1`. Try it without a Python loop: fancy indexing
# (`out[rows, cols] = 1`) or broadcasting both work.

# %%
cnnlib.check("0.2")

# %%
targets = one_hot(labels[:12], 10)
print(targets.shape, targets.dtype)
print(targets[:3])

fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(targets, cmap="Greys", vmin=0, vmax=1)
ax.set_xticks(range(10))
ax.set_yticks(range(12), [f"label {lab}" for lab in labels[:12]])
ax.set_xlabel("class")
ax.set_title("one_hot(labels[:12], 10)")
plt.show()

# %% [markdown]
# ## Your progress in this chapter

# %%
print(cnnlib.progress(chapters=[0]))

# %% [markdown]
# ## Summary
#
# - Exercises are stubs in `cnnlib/*.py`; `cnnlib.check("0.1")` grades one in a notebook,
#   `pytest tests/` (or `pytest -m ex0_1`, or `cnnlib progress`) grades them from a terminal.
# - The solution switch (`CNNLIB_SOLUTIONS`, `cnnlib.use_solutions`) runs reference code
#   for any exercise; `cnnlib.describe_switch()` says which.
# - Broadcasting aligns shapes on the right and stretches axes of size 1.
# - Transposes, strided slices and most reshapes are views (new strides, same memory);
#   `reshape` after a transpose usually copies. Check with `np.shares_memory`.
# - `sliding_window_view` gives every window of an array without copying: the seed of
#   fast convolution.
#
# Next, chapter 01 computes convolutions by hand.
