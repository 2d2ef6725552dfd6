# %% [markdown]
# # Chapter 02: Fast convolution: im2col and one GEMM
#
# Your `conv2d_naive` runs a Python loop over every output position: 784 iterations for a
# 28 x 28 output, each paying Python's overhead for a small amount of arithmetic. Fast
# libraries avoid that by rearranging the input so that the whole convolution becomes a
# single matrix multiplication (a GEMM, "general matrix multiply"), which optimized
# linear-algebra libraries (BLAS) run at close to the machine's peak speed.
#
# The rearrangement is called **im2col** ("image to columns"; here the windows become
# rows). Its adjoint **col2im** folds rows back into an image, and chapter 03 needs it for
# the backward pass.
#
# Exercises, all in `cnnlib/conv.py`: **2.1 `im2col`**, **2.2 `col2im`** and
# **2.3 `conv2d_forward`**.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import timeit

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.ops import col2im, conv2d_forward, conv2d_naive, im2col
from cnnlib.data import load_mnist_sample

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## Receptive fields as rows
#
# Recall the convolution of chapter 01:
#
# $$\text{out}[n, o, i, j] = b[o] + \sum_{c, u, v} w[o, c, u, v]\;
#   x_\text{pad}[n, c,\; i s + u,\; j s + v].$$
#
# For a fixed output position $(n, i, j)$ the sum runs over one **receptive field**: the
# $C_\text{in} \times kH \times kW$ block of the padded input under the kernel. Copy
# that block into a row, pixel by pixel, each pixel's $C_\text{in}$ channels side by
# side: that is $(u, v, c)$ order, **channels last**:
#
# $$\text{cols}[n, i, j, k] = x_\text{pad}[n, c,\; i s + u,\; j s + v], \qquad
#   k = (u \cdot kW + v) \cdot C_\text{in} + c.$$
#
# Why channels last rather than $(c, u, v)$? Either order gives a correct convolution,
# as long as the kernels are flattened the same way. But the copy is the slow part of
# im2col, and once the feature maps are stored channels-last in memory (see the end of
# this chapter) the $(u, v, c)$ order copies runs of $C_\text{in}$ adjacent values
# instead of one value at a time: about 2.5 times faster on chapter 08's second layer.
#
# Flatten each kernel the same way, `W_rows = weight.transpose(0, 2, 3, 1).reshape(C_out, -1)`
# of shape (C_out, kH kW C_in), and the sum is a dot product of two rows:
#
# $$\text{out}[n, o, i, j] = b[o] + \sum_{k} \text{cols}[n, i, j, k]\; W_\text{rows}[o, k].$$
#
# For all positions and all output channels at once that is one matrix product:
#
# $$\underbrace{\text{cols}}_{(N H_\text{out} W_\text{out}) \times (kH kW C_\text{in})}
#   \;\; @ \;\; \underbrace{W_\text{rows}^\top}_{(kH kW C_\text{in}) \times C_\text{out}}
#   \;=\; \underbrace{\text{out}}_{(N H_\text{out} W_\text{out}) \times C_\text{out}}.$$
#
# Here is `im2col` on a tiny input with two channels (values 0 to 8 and 10 to 18), a
# 2 x 2 kernel and stride 1: four windows, each a row of $2 \cdot 2 \cdot 2 = 8$ values.

# %%
x_small = np.concatenate([np.arange(9.0), np.arange(10.0, 19.0)]).reshape(1, 2, 3, 3)   # (N, C_in, H, W)
cols_small = im2col(x_small, 2)                                    # (N, H_out, W_out, kH*kW*C_in) = (1, 2, 2, 8)
print("x:", x_small.shape, "-> cols:", cols_small.shape)
print(cols_small.reshape(-1, 8))                                  # (N*H_out*W_out, kH*kW*C_in)

# %%
fig = plt.figure(figsize=(11, 3.4))
grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 2.8], wspace=0.35)
highlight = (0, 1)                                                 # the window of output (i, j) = (0, 1)
for c in range(2):
    ax = fig.add_subplot(grid[0, c])
    ax.imshow(x_small[0, c], cmap="Blues", vmin=-5, vmax=25)
    for (h, w), val in np.ndenumerate(x_small[0, c]):
        ax.text(w, h, f"{val:g}", ha="center", va="center")
    ax.add_patch(plt.Rectangle((highlight[1] - 0.45, highlight[0] - 0.45), 1.9, 1.9, fill=False,
                               edgecolor="tab:orange", linewidth=2.5))
    ax.set_title(f"x channel c = {c}")
    ax.set_xticks([])
    ax.set_yticks([])
ax = fig.add_subplot(grid[0, 2])
rows = cols_small.reshape(-1, 8)
ax.imshow(rows, cmap="Blues", vmin=-5, vmax=25)
for (r, k), val in np.ndenumerate(rows):
    ax.text(k, r, f"{val:g}", ha="center", va="center")
row = highlight[0] * 2 + highlight[1]
ax.add_patch(plt.Rectangle((-0.45, row - 0.45), 7.9, 0.9, fill=False, edgecolor="tab:orange", linewidth=2.5))
ax.set_xticks(range(8), [f"({u},{v})\nc{c}" for u in range(2) for v in range(2) for c in range(2)], fontsize=8)
ax.set_yticks(range(4), [f"({i}, {j})" for i in range(2) for j in range(2)])
ax.set_ylabel("output (i, j)")
ax.set_title("cols: one row per output position, columns in (u, v, c) order")
plt.show()

# %% [markdown]
# The orange window of both channels becomes the orange row. Neighbouring windows
# overlap, so every interior pixel appears in several rows: cols holds up to
# $kH \cdot kW$ copies of the input. That costs memory, but it turns the convolution into
# the operation computers are best at.
#
# ## Exercise 2.1: `im2col` (in `cnnlib/conv.py`)
#
# Write `im2col(x, kernel_size, stride=1, padding=0)`, returning `cols` of shape
# (N, H_out, W_out, kH kW C_in) in the $(u, v, c)$ order above, with the dtype of `x`.
# Two good ways:
#
# - pad `x`, then loop over the **kernel offsets** $(u, v)$ only ($kH \cdot kW$
#   iterations, not $H_\text{out} W_\text{out}$): the strided slice
#   `x_pad[:, :, u:u + s*H_out:s, v:v + s*W_out:s]` is the $(u, v)$ entry of *every*
#   window at once, shape (N, C_in, H_out, W_out). Collect them in an array of shape
#   (N, H_out, W_out, kH, kW, C_in), then reshape;
# - or use `sliding_window_view` from chapter 00 and slice every `stride`-th window.
#
# Either way, put a shape comment after every transpose and reshape.

# %%
cnnlib.check("2.1")

# %% [markdown]
# On a real digit with a 3 x 3 kernel and padding 1, cols has 28 x 28 = 784 rows of 9
# values. Column $k$ of cols holds pixel $(u, v)$ of every window: as a 28 x 28 picture
# it is the digit shifted by $1 - u$ rows and $1 - v$ columns. Below, a zoom on the
# corner of the 7, with a red square at the same place in every picture to see the
# shifts: column 4, the centre of the kernel, is the digit itself, with the square on
# the corner of the 7. Convolution is a weighted sum of these nine shifted
# copies, one weight per copy.

# %%
digits, labels = load_mnist_sample(64)                        # (64, 1, 28, 28) float32
cols = im2col(digits[:1], 3, 1, 1)                            # (1, 28, 28, 9)
print("cols of one digit:", cols.shape, cols.dtype)

fig, axes = plt.subplots(3, 3, figsize=(6, 5.4))
for k, ax in enumerate(axes.flat):
    ax.imshow(cols[0, 4:14, 13:25, k], cmap="gray")           # column k as a (28, 28) picture, zoomed
    ax.add_patch(plt.Rectangle((6.5, 4.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_title(f"column {k}: (u, v) = ({k // 3}, {k % 3})", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## col2im, the adjoint of im2col
#
# `im2col` is linear: call it $A$, so $\text{cols} = A x$. In the backward pass (chapter
# 03) we receive the gradient of the loss with respect to cols and need it with respect
# to $x$. For a linear map that is the **adjoint** (transpose) $A^\top$: the map with
#
# $$\langle A x, c \rangle = \langle x, A^\top c \rangle \quad \text{for all } x, c.$$
#
# Since $A$ copies each pixel into several rows, $A^\top$ does the reverse: it **adds**
# every entry of $c$ back to the pixel it was copied from. Where windows overlap, the
# contributions sum; entries that came from the padding are dropped. That is `col2im`.
# (It is *not* the inverse of im2col: `col2im(im2col(x))` multiplies each pixel by the
# number of windows that contain it.)
#
# Folding a matrix of ones shows exactly that count:

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
for ax, (k, s, p) in zip(axes, [(3, 1, 1), (3, 2, 0), (2, 2, 0)]):
    shape = (1, 1, 7, 7)
    h_out = (7 + 2 * p - k) // s + 1
    count = col2im(np.ones((1, h_out, h_out, k * k)), shape, k, s, p)[0, 0]   # (7, 7)
    ax.imshow(count, cmap="Oranges", vmin=0, vmax=9)
    for (h, w), val in np.ndenumerate(count):
        ax.text(w, h, f"{val:g}", ha="center", va="center", color="white" if val > 5 else "black")
    ax.set_title(f"kernel {k}, stride {s}, padding {p}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("col2im(ones): in how many windows each pixel of a 7 x 7 image appears")
plt.show()

# %% [markdown]
# With stride 1 and padding 1 an interior pixel lies in all nine windows, an edge pixel
# in six and a corner in four. With stride 2 windows overlap only along every second row
# and column. With a 2 x 2 kernel and stride 2 they tile the image without overlap, and
# the last row and column (7 is odd) are never used, so their count is 0: the floor in
# the output-size formula.
#
# ## Exercise 2.2: `col2im` (in `cnnlib/conv.py`)
#
# Write `col2im(cols, x_shape, kernel_size, stride=1, padding=0)`. Mirror your im2col:
# allocate a zero *padded* image, loop over the kernel offsets $(u, v)$ and **add** (`+=`)
# the $(u, v)$ entries of all windows into the strided slice they came from, then cut the
# padding off. The check includes the adjoint identity:

# %%
cnnlib.check("2.2")

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 9, 7))
c = rng.standard_normal(im2col(x, (3, 2), 2, 1).shape)         # (N, H_out, W_out, kH*kW*C_in)
lhs = np.sum(im2col(x, (3, 2), 2, 1) * c)                       # <A x, c>
rhs = np.sum(x * col2im(c, x.shape, (3, 2), 2, 1))              # <x, A^T c>
print(f"<im2col(x), c> = {lhs:.8f}\n<x, col2im(c)> = {rhs:.8f}")
assert np.isclose(lhs, rhs, rtol=1e-12)

# %% [markdown]
# ## Exercise 2.3: `conv2d_forward` (in `cnnlib/conv.py`)
#
# Write the convolution as the one matrix product derived above. Return `(out, cache)`
# with `cache = (x, weight, bias, stride, padding, cols)`, exactly: chapter 03's backward
# pass reads it (the grader checks that your cache works with the reference backward).
# Write down the shape of every array before you write the line that makes it.
#
# <details><summary>Hint 1</summary>
#
# The kernels must be flattened in the same order as the windows were, (kH, kW, C_in):
# which axes of `weight` have to move before a reshape gives that order?
# </details>
# <details><summary>Hint 2</summary>
#
# The product's rows are the windows in (n, i, j) order and its columns the output
# channels. Which shape does that make after a reshape, and which axis must then move to
# give (N, C_out, H_out, W_out)?
# </details>

# %%
cnnlib.check("2.3")

# %% [markdown]
# It must agree with the loops of chapter 01, whatever the stride and padding. Here on 64
# real digits and 8 random 3 x 3 filters, in float32:

# %%
rng = np.random.default_rng(1)
weight = rng.standard_normal((8, 1, 3, 3)).astype(np.float32)     # (C_out, C_in, kH, kW)
bias = rng.standard_normal(8).astype(np.float32)
for stride, padding in [(1, 0), (1, 1), (2, 1), (3, 2)]:
    fast, _ = conv2d_forward(digits, weight, bias, stride, padding)
    slow = conv2d_naive(digits, weight, bias, stride, padding)
    err = np.max(np.abs(fast - slow))
    print(f"stride {stride}, padding {padding}: out {fast.shape}, {fast.dtype}, max |fast - naive| < 1e-5: {err < 1e-5}")
    assert fast.shape == slow.shape and fast.dtype == np.float32 and err < 1e-5

# %% [markdown]
# ## The channels-last trick
#
# Look at the memory layout of the GEMM's result. Its rows are ordered like the rows of
# cols, by $(n, i, j)$, and its columns are the output channels: reshaped to
# (N, H_out, W_out, C_out) it is the output in **channels-last** (NHWC) order, already
# contiguous. The reference `conv2d_forward` does not copy it into NCHW order; it returns
# the transposed *view* `out.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2)`:
# shape (N, C_out, H_out, W_out) as PyTorch expects, memory still channels-last.
#
# Why bother? The next convolution needs, for each pixel, all channels side by side (a
# receptive field is kH x kW runs of C values), so the first thing it does is
# `x.transpose(0, 2, 3, 1)`. On our view that transpose is the original contiguous
# memory again: no copy. An NCHW copy would cost two passes over the feature maps in
# every layer, for nothing. (Your own `conv2d_forward` may return a contiguous NCHW
# array: it is equally correct, just slower.)

# %%
out, _ = conv2d_forward(digits, weight, bias, 1, 1)             # (64, 8, 28, 28)
nhwc = out.transpose(0, 2, 3, 1)                                 # (64, 28, 28, 8)
print("out.shape      ", out.shape, " strides", out.strides, " C-contiguous:", out.flags["C_CONTIGUOUS"])
print("out as NHWC    ", nhwc.shape, " strides", nhwc.strides, " C-contiguous:", nhwc.flags["C_CONTIGUOUS"])
print("one view of the same memory:", np.shares_memory(out, nhwc))

# %% [markdown]
# The strides read: the next channel is 4 bytes away (one float32), the next column
# 32 bytes (past 8 channels), the next row $28 \cdot 32 = 896$ bytes. Every pixel's 8
# channels are adjacent in memory. (With your own `conv2d_forward` the output above may
# show NCHW strides instead: with the reference solution switched on it shows these.)
#
# ## How much faster?
#
# Timings depend on the machine and on what else runs on it, so this cell's output
# differs at every run. NumPy's matrix product runs on several threads (OpenBLAS); on a
# busy machine they wait for each other, so cnnlib gives it only the cores other
# programs leave free (`cnnlib/threads.py`), and the times still jump around.
#
# The loop in `conv2d_naive` costs about the same per output position whatever the batch
# size (it already handles all images and channels at once), while the GEMM's cost grows
# with the batch. So the speed-up is largest for small batches.

# %% tags=["nbval-ignore-output"]
def best_time(fn, number=3, repeat=5):
    """The fastest of `repeat` runs of `number` calls, per call, in seconds."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


speedups = {}
for n in (8, 64):
    batch = digits[:n]
    t_naive = best_time(lambda: conv2d_naive(batch, weight, bias, 1, 1))
    t_fast = best_time(lambda: conv2d_forward(batch, weight, bias, 1, 1))
    speedups[n] = t_naive / t_fast
    print(f"{n:3d} digits, 8 filters 3x3: conv2d_naive {t_naive * 1e3:7.2f} ms, "
          f"conv2d_forward {t_fast * 1e3:6.2f} ms, speed-up {speedups[n]:5.1f}x")
assert speedups[8] > 5, speedups

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **2.q1** `im2col` on `x` of shape (2, 3, 8, 8) with a 3×3 kernel, stride 1 and padding 1: how many windows (receptive fields) does it unfold?

# %%
cnnlib.answer("2.q1", None)

# %% [markdown]
# **2.q2** For that `x` and a weight of shape (16, 3, 3, 3), what is the shape of the matrix product's result, before any reshape? Answer `(rows, columns)` as a tuple.

# %%
cnnlib.answer("2.q2", None)

# %% [markdown]
# A chapter 08 network runs many such convolutions on batches of hundreds of images, for
# thousands of steps: that is the difference between minutes and hours.
#
# ## Summary
#
# - im2col copies every receptive field into a row, channels last, in the $(u, v, c)$
#   order of `weight.transpose(0, 2, 3, 1).reshape(C_out, -1)`; the convolution is then
#   one matrix product.
# - col2im is im2col's adjoint: it adds rows back where they came from (overlaps sum,
#   padding is dropped). Chapter 03 uses it to send gradients back to the input.
# - The GEMM's output is already channels-last; handing it back as an NCHW view saves a
#   copy in every layer.
#
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[2]))
