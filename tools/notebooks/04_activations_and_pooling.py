# %% [markdown]
# # Chapter 04: Activations and pooling
#
# A convolution is linear, and so is a stack of them: two convolutions in a row are one
# bigger convolution. What turns a stack of layers into something more powerful is a
# **nonlinearity** between them, the **activation function**, applied to every value
# separately. In CNNs it is almost always the ReLU, $\max(x, 0)$.
#
# The second ingredient of this chapter is **pooling**: summarising each small window of
# a feature map by one number, its maximum or its mean. Pooling halves the height and
# width of the maps (a quarter of the values), so the next layers cost less and each of
# their units sees a larger part of the image; and max pooling makes the features
# tolerant to small shifts.
#
# Both are simple forward, and their backward passes are instructive: ReLU lets the
# gradient through or stops it, max pooling *routes* it to one element of each window,
# average pooling *spreads* it over the window.
#
# Exercises:
#
# | id | function | file |
# | --- | --- | --- |
# | 4.1 | `relu_forward` | `cnnlib/activations.py` |
# | 4.2 | `relu_backward` | `cnnlib/activations.py` |
# | 4.3 | `maxpool2d_forward` | `cnnlib/pooling.py` |
# | 4.4 | `maxpool2d_backward` | `cnnlib/pooling.py` |
# | 4.5 | `avgpool2d_forward` | `cnnlib/pooling.py` |
# | 4.6 | `avgpool2d_backward` | `cnnlib/pooling.py` |

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import timeit

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.nonlinearities import leaky_relu_backward, leaky_relu_forward, sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward
from cnnlib.ops import avgpool2d_backward, avgpool2d_forward, conv2d_forward, maxpool2d_backward, maxpool2d_forward, relu_backward, relu_forward
from cnnlib.data import load_mnist_sample
from cnnlib.exercises import reference
from cnnlib.gradients import gradient_check

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## Activation functions and their derivatives
#
# An activation $f$ acts elementwise, $\text{out} = f(x)$, so its backward pass is
# elementwise too. By the chain rule, with $\text{dout} = \partial L / \partial \text{out}$
# arriving from the layer above,
#
# $$\frac{\partial L}{\partial x} = \text{dout} \cdot f'(x) \qquad \text{(entry by entry)}.$$
#
# So each activation needs its derivative, preferably computed from what the forward
# pass already has. The four you will meet:
#
# | name | $f(x)$ | $f'(x)$ | cache |
# | --- | --- | --- | --- |
# | ReLU | $\max(x, 0)$ | $1$ if $x > 0$, else $0$ | `(out,)` |
# | leaky ReLU | $x$ if $x > 0$, else $a x$ | $1$ if $x > 0$, else $a$ | `(x, a)` |
# | sigmoid | $\sigma(x) = \dfrac{1}{1 + e^{-x}}$ | $\sigma(x)\,(1 - \sigma(x))$ | `(out,)` |
# | tanh | $\tanh x$ | $1 - \tanh^2 x$ | `(out,)` |
#
# Sigmoid and tanh have the neat property that the derivative is a function of the
# output, so the output is all the backward pass needs. For ReLU the output is enough
# too: $\text{out} > 0$ exactly where $x > 0$.
#
# **At $x = 0$** ReLU has a kink and no derivative. Any value in $[0, 1]$ is a valid
# *subgradient*; PyTorch uses 0, and so do we, so that your gradients match PyTorch's
# exactly. (After a ReLU many values are exactly 0, so the choice is not academic.)
#
# Why ReLU? Its derivative is exactly 1 wherever the unit is active, so gradients pass
# through many layers undiminished. Sigmoid's derivative is at most $1/4$ and tanh's at
# most 1, and both vanish for large $|x|$ (the unit *saturates*): multiplied over many
# layers the gradient shrinks towards zero. Leaky ReLU keeps a small slope $a$ (0.01 by
# default) for negative inputs, so a unit that is never active still gets some gradient.
# Leaky ReLU, sigmoid and tanh are provided, complete, in `cnnlib/activations.py`: read
# them, they are a few lines each.
#
# ## Exercise 4.1: `relu_forward` (in `cnnlib/activations.py`)
#
# Return `(out, cache)` with `out = max(x, 0)` elementwise, the same shape and dtype as
# `x` (`np.maximum(x, 0)` keeps float32 float32), and `cache = (out,)`. Do not modify
# `x`: the caller may still need it.

# %%
cnnlib.check("4.1")

# %% [markdown]
# ## Exercise 4.2: `relu_backward` (in `cnnlib/activations.py`)
#
# Return `dx`: `dout` where the input was positive, 0 elsewhere, including at exactly
# 0. The cache holds `out`; the mask is `out > 0`.

# %%
cnnlib.check("4.2")

# %% [markdown]
# The backward functions give the derivatives: with `dout = 1` everywhere,
# $\text{dx} = f'(x)$. Here are the four activations and their derivatives, both computed
# by the functions of `cnnlib/activations.py` (yours for ReLU):

# %%
x_axis = np.linspace(-4, 4, 801)
activations = {
    "ReLU": (relu_forward, relu_backward),
    "leaky ReLU (a = 0.1)": (lambda x: leaky_relu_forward(x, 0.1), leaky_relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2), sharey=True)
for ax, (name, (forward, backward)) in zip(axes, activations.items()):
    out, cache = forward(x_axis)
    derivative = backward(np.ones_like(x_axis), cache)
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.axvline(0, color="0.8", linewidth=0.8)
    ax.plot(x_axis, out, label="f(x)", linewidth=2)
    ax.plot(x_axis, derivative, label="f'(x)", linewidth=2, linestyle="--")
    ax.set_title(name)
    ax.set_xlabel("x")
    ax.set_ylim(-1.3, 2.2)
axes[0].legend(loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# The dashed derivatives show the story above: ReLU's is a step from 0 to 1, sigmoid's
# peaks at $1/4$ and tanh's at 1, both fading to 0 away from the origin.
#
# The ReLU gradient at 0, and on a tiny example:

# %%
x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
out, cache = relu_forward(x)
dx = relu_backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), cache)
print("x    ", x)
print("out  ", out)
print("dx   ", dx, " (dout = [1, 2, 3, 4, 5])")
assert dx[2] == 0.0  # at x == 0 the gradient is 0, as in PyTorch

# %% [markdown]
# ## Pooling
#
# Pooling slides a $kH \times kW$ window over each channel separately, with a stride of
# $(sH, sW)$, and replaces each window by one number:
#
# $$\text{max pooling:}\quad \text{out}[n, c, i, j] = \max_{u, v}\; x_\text{pad}[n, c,\; i\, sH + u,\; j\, sW + v]$$
#
# $$\text{average pooling:}\quad \text{out}[n, c, i, j] = \frac{1}{kH\, kW} \sum_{u, v}\;
#   x_\text{pad}[n, c,\; i\, sH + u,\; j\, sW + v]$$
#
# with $0 \le u < kH$, $0 \le v < kW$ and the output size of a convolution,
# $H_\text{out} = \lfloor (H + 2p - kH) / sH \rfloor + 1$ (likewise $W_\text{out}$). Unlike
# a convolution, pooling has no weights and never mixes channels: $C$ maps in, $C$ maps
# out.
#
# Conventions, all PyTorch's (`MaxPool2d`, `AvgPool2d`):
#
# - **The stride defaults to the kernel size** (`stride=None`): the windows tile the
#   map without overlap, and a 2 x 2 pooling halves height and width. A stride smaller
#   than the kernel gives overlapping windows.
# - **Padding** is at most half the kernel. Max pooling pads with $-\infty$, so the
#   border never wins (zeros would beat every negative value). Average pooling pads with
#   zeros that *count* in the mean: every window is divided by $kH \cdot kW$, also at the
#   border (`count_include_pad=True`).
# - Rows and columns that fit no window (odd sizes with stride 2) are dropped, as the
#   floor in the formula says.
#
# A 4 x 4 example with 2 x 2 windows (stride 2):

# %%
x_hand = np.array([[1.0, 5.0, 2.0, 0.0],
                   [3.0, 4.0, 8.0, 1.0],
                   [0.0, 2.0, 6.0, 7.0],
                   [9.0, 1.0, 3.0, 5.0]]).reshape(1, 1, 4, 4)     # (N, C, H, W)


def show_grid(ax, values, title, cmap="Blues", vmin=0, vmax=10, windows=0, fmt="{:g}"):
    """Draw a 2-D array with its numbers; outline `windows` x `windows` blocks."""
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    for (h, w), val in np.ndenumerate(values):
        ax.text(w, h, fmt.format(val), ha="center", va="center", fontsize=11,
                color="white" if val > 0.7 * vmax else "black")
    for k in range(windows):
        for m in range(windows):
            ax.add_patch(plt.Rectangle((2 * m - 0.45, 2 * k - 0.45), 1.9, 1.9, fill=False,
                                       edgecolor=f"C{1 + 2 * k + m}", linewidth=2.5))
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [2, 1, 1]})
show_grid(axes[0], x_hand[0, 0], "x: four 2 x 2 windows", windows=2)
show_grid(axes[1], maxpool2d_forward(x_hand, 2)[0][0, 0], "max pooling")
show_grid(axes[2], avgpool2d_forward(x_hand, 2)[0][0, 0], "average pooling", fmt="{:.2f}")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each window (one colour) becomes one number: its maximum, or its mean.
#
# ## Exercise 4.3: `maxpool2d_forward` (in `cnnlib/pooling.py`)
#
# The first lines of the stub validate the arguments and give you `kH, kW, sH, sW`
# (the stride already resolved when it was None), `padding`, `H_out` and `W_out`. Return
# `(out, cache)` with `cache = (x, (kH, kW), (sH, sW), padding, argmax)`, where `argmax`
# (N, C, H_out, W_out) holds, for every window, the position of its maximum as the offset
# $u \cdot kW + v$ inside the window. On a tie take the **first** maximum in row-major
# order, which is what `np.argmax` returns and what PyTorch does. The backward pass
# needs `argmax` to know where the gradient goes.
#
# Two ways, as for im2col in chapter 02:
#
# - pad with `-np.inf`, then loop over the **kernel offsets** $(u, v)$ only: the strided
#   slice `x_pad[:, :, u:u + sH*H_out:sH, v:v + sW*W_out:sW]` is the $(u, v)$ entry of
#   *every* window at once. Keep a running maximum, and update the running argmax where
#   the new entry is strictly greater (so the first of tied maxima stays);
# - or take every window with `sliding_window_view`, flatten each window into its last
#   axis, and use `argmax` and `np.take_along_axis`.

# %%
cnnlib.check("4.3")

# %% [markdown]
# ## Exercise 4.5: `avgpool2d_forward` (in `cnnlib/pooling.py`)
#
# The same windows, averaged: pad with zeros, sum the $kH \cdot kW$ strided slices and
# divide by $kH \cdot kW$. Return `(out, cache)` with `cache = (x, (kH, kW), (sH, sW),
# padding)`.

# %%
cnnlib.check("4.5")

# %% [markdown]
# ## Backward: routing and spreading the gradient
#
# Take one window $(i, j)$ and one input $x[h, w]$ in it.
#
# **Max pooling.** Near the input, the maximum *is* one of its entries: moving any other
# entry a little does not change it, moving the winner moves the output by the same
# amount. So
#
# $$\frac{\partial\, \text{out}[i, j]}{\partial x[h, w]} =
#   \begin{cases} 1 & \text{if } (h, w) \text{ is the argmax of window } (i, j) \\
#   0 & \text{otherwise}\end{cases}
#   \qquad\Longrightarrow\qquad
#   \text{dx}[h, w] = \sum_{(i, j):\ \text{argmax}(i, j) = (h, w)} \text{dout}[i, j].$$
#
# Each window hands its whole gradient to its winner; every other input gets nothing.
# When windows overlap (stride < kernel), one input can win several windows and collects
# all their gradients: **add**, do not overwrite. On a tie the maximum is not
# differentiable; like PyTorch we give the whole gradient to the first maximum (the one
# `argmax` recorded), not to all of them (that would count the gradient twice).
#
# **Average pooling.** Every entry of the window contributes $1/(kH\,kW)$ of its value:
#
# $$\frac{\partial\, \text{out}[i, j]}{\partial x[h, w]} = \frac{1}{kH\, kW}
#   \qquad\Longrightarrow\qquad
#   \text{dx}[h, w] = \sum_{(i, j):\ (h, w) \in \text{window}(i, j)} \frac{\text{dout}[i, j]}{kH\, kW}.$$
#
# The gradient is spread evenly over the window, again summed where windows overlap. The
# shares that land on the padding are dropped, like the padding itself.
#
# Here is where a gradient `dout = [[1, 2], [3, 4]]` goes in the 4 x 4 example:

# %%
dout_hand = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)   # (N, C, H_out, W_out)
_, max_cache = maxpool2d_forward(x_hand, 2)
_, avg_cache = avgpool2d_forward(x_hand, 2)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2), gridspec_kw={"width_ratios": [2, 1, 2, 2]})
show_grid(axes[0], x_hand[0, 0], "x", windows=2)
show_grid(axes[1], dout_hand[0, 0], "dout", cmap="Oranges", vmax=5)
show_grid(axes[2], maxpool2d_backward(dout_hand, max_cache)[0, 0], "dx of max pooling", cmap="Oranges",
          vmax=5, windows=2)
show_grid(axes[3], avgpool2d_backward(dout_hand, avg_cache)[0, 0], "dx of average pooling", cmap="Oranges",
          vmax=5, windows=2, fmt="{:.2f}")
fig.tight_layout()
plt.show()

# %% [markdown]
# Max pooling sends each window's gradient to its maximum (5, 8, 9 and 7); average
# pooling gives a quarter of it to each of the four entries. Ties, on a window of equal
# values: the whole gradient goes to the first entry.

# %%
x_tie = np.array([[1.0, 1.0], [1.0, 1.0]]).reshape(1, 1, 2, 2)
out, cache = maxpool2d_forward(x_tie, 2)
print("argmax:", cache[4].ravel(), " dx:", maxpool2d_backward(np.ones((1, 1, 1, 1)), cache).ravel())

# %% [markdown]
# ## Exercise 4.4: `maxpool2d_backward` (in `cnnlib/pooling.py`)
#
# Allocate a zero gradient the size of the *padded* input, loop over the kernel offsets
# $(u, v)$ and add `dout` into the strided slice of offset $(u, v)$ where
# `argmax == u*kW + v` (zero elsewhere); then cut the padding off. No loop over windows
# and no `np.add.at` needed. (When stride == kernel the windows do not overlap, and you
# can even build dx in one broadcast expression: the reference solution does.)

# %%
cnnlib.check("4.4")

# %% [markdown]
# ## Exercise 4.6: `avgpool2d_backward` (in `cnnlib/pooling.py`)
#
# The same loop, adding `dout / (kH*kW)` into every strided slice.

# %%
cnnlib.check("4.6")

# %% [markdown]
# The graders compared your backward passes with numerical gradients; here is the same
# test with chapter 03's `gradient_check`, on overlapping windows with padding
# (kernel 3, stride 2, padding 1) and on a non-square kernel with the default stride:

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 7, 8))
errors = {}
for name, forward, backward in [("max", maxpool2d_forward, maxpool2d_backward),
                                ("avg", avgpool2d_forward, avgpool2d_backward)]:
    for kernel, stride, padding in [(3, 2, 1), ((2, 3), None, 0)]:
        print(f"{name} pooling, kernel {kernel}, stride {stride}, padding {padding}:")
        err = gradient_check(lambda x: forward(x, kernel, stride, padding), backward, (x,), rng=rng)
        errors[name, kernel] = err["dx"]
assert max(errors.values()) < 1e-6, errors

# %% [markdown]
# ## A real digit through convolution, ReLU and pooling
#
# Now the three steps of a CNN layer on an MNIST digit: a 3 x 3 **vertical-edge** kernel
# (a Sobel filter: positive where brightness increases to the left, negative where it
# increases to the right), then ReLU, then 2 x 2 pooling. The convolution is your
# `conv2d_forward` from chapter 02 (switch on its reference with
# `cnnlib.use_solutions("2.3")` if it is not written yet).

# %%
digits, labels = load_mnist_sample(8)                              # (8, 1, 28, 28) float32
digit = digits[:1]                                                  # (1, 1, 28, 28)
sobel = np.array([[1.0, 0.0, -1.0],
                  [2.0, 0.0, -2.0],
                  [1.0, 0.0, -1.0]], dtype=np.float32).reshape(1, 1, 3, 3)   # (C_out, C_in, kH, kW)
edges, _ = conv2d_forward(digit, sobel, None, 1, 1)                  # (1, 1, 28, 28)
rectified, _ = relu_forward(edges)                                  # (1, 1, 28, 28)
max_pooled, _ = maxpool2d_forward(rectified, 2)                     # (1, 1, 14, 14)
avg_pooled, _ = avgpool2d_forward(rectified, 2)                     # (1, 1, 14, 14)
print(f"label {labels[0]}: digit {digit.shape} -> edges {edges.shape} -> ReLU {rectified.shape}"
      f" -> pooled {max_pooled.shape}, dtype {max_pooled.dtype}")

top = float(np.abs(edges).max())
panels = [(digit, "the digit", "gray", 0, 1), (edges, "conv: vertical edges", "RdBu_r", -top, top),
          (rectified, "ReLU", "gray", 0, top), (max_pooled, "max pooling 2 x 2", "gray", 0, top),
          (avg_pooled, "average pooling 2 x 2", "gray", 0, top)]
fig, axes = plt.subplots(1, 5, figsize=(14, 3.2))
for ax, (image, title, cmap, vmin, vmax) in zip(axes, panels):
    ax.imshow(image[0, 0], cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(f"{title}\n{image.shape[2]} x {image.shape[3]}")
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# The convolution responds with opposite signs on the two sides of each vertical
# stroke (red where the left neighbour is brighter: the right-hand edge of a stroke);
# ReLU keeps the red side, one kind of edge, and zeroes the rest. Max pooling keeps
# the strongest response of each 2 x 2 block: the edges stay crisp at half the
# resolution, and an edge that moves by a pixel within its block gives the same output.
# Average pooling blurs them and dims thin edges, since the zeros around them count in
# the mean. That is why CNNs for classification mostly use max pooling between their
# conv layers (and average pooling, if at all, at the very end).
#
# One more property: ReLU never decreases a value and the maximum respects order, so
# max pooling and ReLU **commute**: pooling first and then ReLU gives the same result,
# with a quarter of the ReLU work. Average pooling does not commute with ReLU:

# %%
maps, _ = conv2d_forward(digits, np.random.default_rng(1).standard_normal((8, 1, 3, 3)).astype(np.float32),
                         None, 1, 1)                                 # (8, 8, 28, 28)
relu_then_max = maxpool2d_forward(relu_forward(maps)[0], 2)[0]
max_then_relu = relu_forward(maxpool2d_forward(maps, 2)[0])[0]
relu_then_avg = avgpool2d_forward(relu_forward(maps)[0], 2)[0]
avg_then_relu = relu_forward(avgpool2d_forward(maps, 2)[0])[0]
print("max pooling and ReLU commute:    ", np.array_equal(relu_then_max, max_then_relu))
print("average pooling and ReLU commute:", np.array_equal(relu_then_avg, avg_then_relu))
assert np.array_equal(relu_then_max, max_then_relu) and not np.allclose(relu_then_avg, avg_then_relu)

# %% [markdown]
# ## How fast?
#
# A loop over the output positions, as in chapter 01's `conv2d_naive`, takes the
# maximum of every window with NumPy, but pays Python's overhead once per position. The
# reference solution loops over the $kH \cdot kW$ kernel offsets instead (4 iterations
# for 2 x 2 pooling), each an operation on whole arrays. It also works channels-last
# inside, the memory order in which `conv2d_forward` returns its output (chapter 02), so
# it reads that memory in order and returns its result in the same layout.
#
# Timings vary from run to run and machine to machine; this cell's output is not
# checked, but its assertion is.

# %% tags=["nbval-ignore-output"]
def maxpool_loops(x, k):
    """Max pooling with stride k and no padding, one output position at a time."""
    N, C, H, W = x.shape
    H_out, W_out = H // k, W // k
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * k:i * k + k, j * k:j * k + k].max(axis=(2, 3))
    return out


def best_time(fn, number=5, repeat=5):
    """The fastest of `repeat` runs of `number` calls, per call, in seconds."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


reference_maxpool = reference("maxpool2d_forward")       # the vectorised reference solution
digits64, _ = load_mnist_sample(64)
weight = np.random.default_rng(2).standard_normal((8, 1, 3, 3)).astype(np.float32)
speedups = {}
for n in (8, 64):
    maps, _ = relu_forward(conv2d_forward(digits64[:n], weight, None, 1, 1)[0])   # (n, 8, 28, 28)
    assert np.array_equal(maxpool_loops(maps, 2), reference_maxpool(maps, 2)[0])
    t_loops = best_time(lambda: maxpool_loops(maps, 2))
    t_fast = best_time(lambda: reference_maxpool(maps, 2))
    speedups[n] = t_loops / t_fast
    print(f"{n:2d} maps of 8 x 28 x 28, 2 x 2 max pooling: loops {t_loops * 1e3:6.2f} ms, "
          f"vectorised {t_fast * 1e3:5.2f} ms, speed-up {speedups[n]:4.1f}x")
assert speedups[8] > 3, speedups

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **4.q1** How many learned parameters does `MaxPool2d(2)` have?

# %%
cnnlib.answer("4.q1", None)

# %% [markdown]
# **4.q2** In max pooling's backward with 2×2 windows (and no ties), how many of the 4 entries of a window receive a nonzero gradient?

# %%
cnnlib.answer("4.q2", None)

# %% [markdown]
# ## Summary
#
# - An activation acts elementwise; its backward pass multiplies `dout` by its
#   derivative. ReLU's derivative is 1 where the input was positive and 0 elsewhere
#   (also at 0, as in PyTorch), so the output is all the cache needs.
# - Pooling summarises each window of each channel; the stride defaults to the kernel
#   size. Max pooling pads with $-\infty$; average pooling pads with zeros that count.
# - Max pooling routes each window's gradient to its maximum (the first one on a tie);
#   average pooling spreads it evenly. Where windows overlap, gradients add up.
# - Max pooling commutes with ReLU, so pooling first saves work.
#
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[4]))
