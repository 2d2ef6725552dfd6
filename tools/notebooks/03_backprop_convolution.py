# %% [markdown]
# # Chapter 03: Backpropagation through convolution
#
# To train a CNN we need the gradient of the loss with respect to every kernel, every
# bias and every input of every layer. Backpropagation computes them layer by layer,
# from the output back: each layer receives the gradient with respect to its output,
# `dout`, and returns the gradients with respect to its inputs and parameters.
#
# This chapter derives those gradients for the convolution (for any stride and padding),
# shows that they are themselves convolutions, and builds the tool that tells a right
# backward pass from a wrong one: the **numerical gradient**.
#
# Exercises: **3.1 `numerical_gradient`** (in `cnnlib/gradcheck.py`) and
# **3.2 `conv2d_backward`** (in `cnnlib/conv.py`).

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.ops import col2im, conv2d_backward, conv2d_forward, conv2d_naive, numerical_gradient
from cnnlib.data import load_mnist_sample
from cnnlib.gradients import gradient_check
from cnnlib.core.numeric import rel_error

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## What a backward function computes
#
# A layer computes $\text{out} = f(x, w, b)$, and somewhere downstream a scalar loss $L$
# depends on out. The backward function receives
# $\texttt{dout} = \partial L / \partial\,\text{out}$ (same shape as out) and returns, by
# the chain rule,
#
# $$\frac{\partial L}{\partial x_m} = \sum_{k} \texttt{dout}_k\,
#   \frac{\partial\, \text{out}_k}{\partial x_m},$$
#
# and likewise for $w$ and $b$: a sum over every output that $x_m$ influences, each
# weighted by how much the loss cares about that output. It never needs $L$ itself.
# A handy way to say the same thing: the backward function returns the gradient of the
# scalar
#
# $$\ell(x, w, b) = \sum_k \text{out}_k \cdot \texttt{dout}_k$$
#
# with `dout` held fixed. That is also how we will test it.
#
# ## Deriving the gradients
#
# The forward pass, with stride $s$ and padding $p$:
#
# $$\text{out}[n, o, i, j] = b[o] + \sum_{c, u, v} w[o, c, u, v]\;
#   x_\text{pad}[n, c,\; i s + u,\; j s + v].$$
#
# **Bias.** $b[o]$ is added to every output of channel $o$, with derivative 1:
#
# $$\texttt{dbias}[o] = \sum_{n, i, j} \texttt{dout}[n, o, i, j].$$
#
# **Weight.** $w[o, c, u, v]$ multiplies one input pixel in each output of channel $o$:
#
# $$\texttt{dweight}[o, c, u, v] = \sum_{n, i, j} \texttt{dout}[n, o, i, j]\;
#   x_\text{pad}[n, c,\; i s + u,\; j s + v].$$
#
# This is the forward formula again with the roles swapped: a **cross-correlation of the
# input with `dout`**, where dout plays the kernel (for stride 1; with stride $s$, dout's
# entries are $s$ apart, as if $s - 1$ zeros sat between them). In im2col terms,
# $\texttt{dweight}$ in the layout of `W_rows` (chapter 02), (C_out, kH kW C_in), is
# $\mathtt{dout\_rows}^\top\, \text{cols}$, where
# `dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C_out)` lists dout in the row order
# of cols.
#
# **Input.** A padded pixel $x_\text{pad}[n, c, h, w']$ is used by every output whose
# window covers it, that is by every $(i, j, u, v)$ with $i s + u = h$ and
# $j s + v = w'$:
#
# $$\texttt{dx}_\text{pad}[n, c, h, w'] = \sum_{o}\; \sum_{\substack{i, u:\; i s + u = h \\
#   j, v:\; j s + v = w'}} \texttt{dout}[n, o, i, j]\; w[o, c, u, v],$$
#
# and $\texttt{dx}$ is $\texttt{dx}_\text{pad}$ with the padding border cut off (those
# zeros were not inputs). For stride 1, $u = h - i$, and the sum is
# $\sum_{o, i, j} \texttt{dout}[n, o, i, j]\, w[o, c, h - i, w' - j]$: a **full
# convolution** of dout with the kernel, which is a cross-correlation of dout, padded by
# $k - 1$, with the **flipped** kernel (and input and output channels swapped). For
# stride $s$, the same applies to dout with $s - 1$ zeros inserted between its entries.
#
# In im2col terms it is simpler still. The forward pass is
# $\mathrm{out\_rows} = \text{cols}\, W_\text{rows}^\top$ with $\text{cols} = \text{im2col}(x)$,
# so the gradient with respect to cols is $\texttt{dcols} = \mathtt{dout\_rows}\,
# W_\text{rows}$, and the gradient with respect to $x$ goes through the adjoint of
# im2col, from chapter 02:
#
# $$\texttt{dx} = \text{col2im}(\mathtt{dout\_rows}\; W_\text{rows}).$$
#
# ## The gradient flowing back, in pictures
#
# Take a `dout` that is zero except for a single 1 at output position $(i, j)$. Only that
# output's window receives gradient, and each of its pixels receives the kernel weight
# that multiplied it: **dx is the kernel, placed on the window of $(i, j)$** (not flipped:
# the two flips of the full convolution cancel). A general dout is a weighted sum of
# such placed kernels, overlapping where windows overlap. The kernel below holds the
# numbers 1 to 9 so that its orientation shows.

# %%
kernel = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)               # (C_out, C_in, kH, kW)
x = np.zeros((1, 1, 7, 7))                                       # dx does not depend on x's values
cases = [("one pixel, stride 1", 1, [(1, 3)]), ("two pixels, stride 1", 1, [(1, 1), (3, 2)]),
         ("two pixels, stride 2", 2, [(0, 0), (1, 1)]), ("all ones, stride 2", 2, "all")]

fig, axes = plt.subplots(2, len(cases), figsize=(13, 6.6))
for col, (title, stride, pixels) in enumerate(cases):
    out, cache = conv2d_forward(x, kernel, None, stride, 0)
    dout = np.zeros(out.shape)                                   # (1, 1, H_out, W_out)
    if pixels == "all":
        dout[:] = 1.0
    else:
        for i, j in pixels:
            dout[0, 0, i, j] = 1.0
    dx, dweight, _ = conv2d_backward(dout, cache)
    for row, (img, name, cmap, vmax) in enumerate([(dout[0, 0], "dout", "Greys", 1.5),
                                                   (dx[0, 0], "dx", "Blues", 25)]):
        ax = axes[row, col]
        ax.imshow(img, cmap=cmap, vmin=0, vmax=vmax)
        for (h, w), val in np.ndenumerate(img):
            if val:
                ax.text(w, h, f"{val:g}", ha="center", va="center", fontsize=9,
                        color="white" if val > 0.6 * vmax else "black")
        ax.set_xticks(np.arange(-0.5, img.shape[1]), minor=True)
        ax.set_yticks(np.arange(-0.5, img.shape[0]), minor=True)
        ax.grid(which="minor", color="0.8", linewidth=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"{name}: {title}\n{img.shape[0]} x {img.shape[1]}" if row == 0 else f"dx ({img.shape[0]} x {img.shape[1]})")
plt.show()

# %% [markdown]
# With stride 1 the single pixel at $(1, 3)$ puts the kernel at rows 1 to 3, columns 3
# to 5. Two pixels add two copies, summing where they overlap. With stride 2 the windows
# start two pixels apart; with dout all ones, the overlapping borders of neighbouring
# windows collect two (or four) contributions. The last picture is `col2im` of chapter
# 02 at work.
#
# The same on a real digit: the loss $L = \frac12 \sum \text{out}^2$ of a Sobel edge
# filter's output has $\texttt{dout} = \text{out}$, and dx says how to change each pixel
# to make the edges stronger.

# %%
digit, _ = load_mnist_sample(1, dtype=np.float64)               # (1, 1, 28, 28)
sobel_x = np.array([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]])
out, cache = conv2d_forward(digit, sobel_x, None, 1, 1)
dx, _, _ = conv2d_backward(out, cache)                           # dout = out

fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
for ax, img, title, signed in zip(axes, [digit[0, 0], out[0, 0], dx[0, 0]],
                                  ["x: the digit", "out = Sobel x (x) = dout", "dx: gradient of ½ Σ out²"],
                                  [False, True, True]):
    if signed:
        lim = np.abs(img).max()
        ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
    else:
        ax.imshow(img, cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# The gradient is positive (red) along the middle of the stroke and negative (blue) just
# outside it: brightening the stroke and darkening its surroundings would make its left
# and right edges stronger. The horizontal bar of the 7 barely matters to a filter that
# looks for changes from left to right.
#
# ## Checking the derivation
#
# The three descriptions of dx (the reference backward, a full convolution with the
# flipped kernel, col2im of dcols) and the two of dweight must agree, for every stride
# and padding. We check it with `conv2d_naive` from chapter 01, on random inputs whose
# height and width do not fit the stride exactly (so the floor drops a row and a column).

# %%
def dilate(a, stride):
    """Insert stride - 1 zeros between the entries of a's last two axes."""
    N, C, H, W = a.shape
    out = np.zeros((N, C, (H - 1) * stride + 1, (W - 1) * stride + 1), dtype=a.dtype)
    out[:, :, ::stride, ::stride] = a
    return out


rng = np.random.default_rng(0)
for stride, padding in [(1, 0), (1, 1), (2, 1), (3, 2)]:
    x = rng.standard_normal((2, 3, 8, 7))                        # (N, C_in, H, W)
    w = rng.standard_normal((4, 3, 3, 2))                        # (C_out, C_in, kH, kW)
    b = rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)                        # (N, C_out, H_out, W_out)
    dx, dweight, dbias = conv2d_backward(dout, cache)
    C_out, C_in, kH, kW = w.shape
    N, _, H, W = x.shape
    Hp, Wp = H + 2 * padding, W + 2 * padding

    # dx as a full convolution: dilated dout, padded by k - 1, against the flipped, channel-swapped kernel
    w_flip = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)           # (C_in, C_out, kH, kW)
    d = dilate(dout, stride)
    d = np.pad(d, ((0, 0), (0, 0), (kH - 1, kH - 1 + Hp - (d.shape[2] + kH - 1)),
                   (kW - 1, kW - 1 + Wp - (d.shape[3] + kW - 1))))
    dx_full = conv2d_naive(d, w_flip)[:, :, padding:padding + H, padding:padding + W]

    # dx as col2im of dcols
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C_out)    # (N*H_out*W_out, C_out)
    w_rows = w.transpose(0, 2, 3, 1).reshape(C_out, -1)          # (C_out, kH*kW*C_in), the order of cols
    dcols = (dout_rows @ w_rows).reshape(cache[5].shape)         # (N, H_out, W_out, kH*kW*C_in)
    dx_col2im = col2im(dcols, x.shape, (kH, kW), stride, padding)

    # dweight as a cross-correlation of the padded input with the dilated dout (batch and channels swapped)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw_corr = conv2d_naive(x_pad.transpose(1, 0, 2, 3), dilate(dout, stride).transpose(1, 0, 2, 3))
    dw_corr = dw_corr[:, :, :kH, :kW].transpose(1, 0, 2, 3)      # (C_out, C_in, kH, kW)

    ok = [np.allclose(dx, dx_full), np.allclose(dx, dx_col2im), np.allclose(dweight, dw_corr),
          np.allclose(dbias, dout.sum(axis=(0, 2, 3)))]
    print(f"stride {stride}, padding {padding}: out {out.shape[2]} x {out.shape[3]} | dx = full conv: {ok[0]}, "
          f"dx = col2im(dcols): {ok[1]}, dweight = x_pad * dout: {ok[2]}, dbias = sum: {ok[3]}")
    assert all(ok)

# %% [markdown]
# ## The numerical gradient
#
# Any backward function can be checked against the definition of the derivative. By
# Taylor's theorem,
#
# $$f(x \pm h) = f(x) \pm h f'(x) + \frac{h^2}{2} f''(x) \pm \frac{h^3}{6} f'''(x) + \dots$$
#
# The **forward difference** $\frac{f(x + h) - f(x)}{h} = f'(x) + \frac{h}{2} f''(x) + \dots$
# has an error proportional to $h$. Subtracting the two expansions cancels the even
# terms, so the **centred difference**
#
# $$\frac{f(x + h) - f(x - h)}{2h} = f'(x) + \frac{h^2}{6} f'''(x) + \dots$$
#
# is accurate to $O(h^2)$. Making $h$ tiny does not help forever: $f(x + h)$ and
# $f(x - h)$ are rounded to about 16 significant digits (float64, machine epsilon
# $\varepsilon \approx 2.2 \cdot 10^{-16}$), and their difference, divided by $h$, carries a
# rounding error of about $\varepsilon |f| / h$. The total error is smallest around
# $h \approx \varepsilon^{1/3} \approx 10^{-5}$ for the centred difference
# ($\sqrt{\varepsilon} \approx 10^{-8}$ for the forward one):

# %%
hs = np.logspace(-13, -1, 49)
x0 = 1.0
err_forward = np.abs((np.sin(x0 + hs) - np.sin(x0)) / hs - np.cos(x0))
err_centred = np.abs((np.sin(x0 + hs) - np.sin(x0 - hs)) / (2 * hs) - np.cos(x0))

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(hs, np.maximum(err_forward, 1e-17), "o-", markersize=3, label="forward difference")
ax.loglog(hs, np.maximum(err_centred, 1e-17), "o-", markersize=3, label="centred difference")
ax.axvline(1e-5, color="0.5", linestyle="--", linewidth=1)
ax.text(1.3e-5, 1e-15, "h = 1e-5", color="0.4")
ax.set_xlabel("step h")
ax.set_ylabel("|error| of the derivative")
ax.set_title("Derivative of sin at x = 1 in float64")
ax.set_ylim(1e-17, 1)
ax.legend()
plt.show()

# %% [markdown]
# Right of the minimum the truncation error dominates (slope 1 for the forward
# difference, 2 for the centred one); left of it, rounding takes over.
#
# For a function of many inputs with many outputs we want exactly what a backward
# function returns: the gradient of $\ell(x) = \sum_k f(x)_k \cdot \texttt{dout}_k$.
# Perturb one entry of $x$ at a time:
#
# $$\texttt{grad}[m] = \frac{\ell(x + h e_m) - \ell(x - h e_m)}{2h},$$
#
# where $e_m$ is 1 at entry $m$ and 0 elsewhere. That costs two evaluations of $f$ per
# entry of $x$: far too slow for training, perfect for testing on small inputs.
#
# ## Exercise 3.1: `numerical_gradient` (in `cnnlib/gradcheck.py`)
#
# Write `numerical_gradient(f, x, dout, h=1e-5)`. The details that the checks insist on:
#
# - visit every entry of `x` whatever its shape: `for idx in np.ndindex(x.shape)` gives
#   index tuples. Do not flatten: `x.reshape(-1)` is a *copy* when `x` is not contiguous
#   (chapter 00), and nudging a copy leaves `x` unchanged;
# - perturb `x` itself, in place (`x[idx] = old + h`), and call `f(x)`: then `f` may
#   also read `x` through a closure, as when checking a layer's weight;
# - reduce `np.sum(f(x) * dout)` before changing `x` again: `f(x)` may be a view of `x`;
# - put every entry back exactly, `x[idx] = old` (not `x[idx] += h`: in floating point
#   $x + h - 2h + h$ is not always $x$).

# %%
cnnlib.check("3.1")

# %%
x = np.array([1.0, -2.0, 3.0])
grad = numerical_gradient(lambda v: v ** 2, x, np.array([1.0, 2.0, 0.5]))
print("gradient of sum(x**2 * dout):", np.round(grad, 6), " (exact: 2 * x * dout = [2, -8, 3])")
print("x afterwards:", x)

# %% [markdown]
# **Always check gradients in float64.** In float32 ($\varepsilon \approx 1.2 \cdot
# 10^{-7}$) the rounding error $\varepsilon |f| / h$ swamps the result. The same
# convolution, checked in float32 and in float64 (`rel_error`, the largest difference
# relative to the largest entry, is explained below):

# %%
rng = np.random.default_rng(1)
x64 = rng.standard_normal((1, 2, 5, 5))
w64 = rng.standard_normal((3, 2, 3, 3))
out64, cache64 = conv2d_forward(x64, w64, None, 1, 1)
dout64 = rng.standard_normal(out64.shape)
dx64 = conv2d_backward(dout64, cache64)[0]
for dtype in (np.float32, np.float64):
    x_, w_, dout_ = x64.astype(dtype), w64.astype(dtype), dout64.astype(dtype)
    num = numerical_gradient(lambda v: conv2d_forward(v, w_, None, 1, 1)[0], x_, dout_)
    err = rel_error(num, dx64)
    print(f"{np.dtype(dtype).name}: relative error {'above 1e-3' if err > 1e-3 else 'below 1e-7' if err < 1e-7 else 'in between'}")
    assert (err > 1e-3) if dtype == np.float32 else (err < 1e-7)

# %% [markdown]
# ## Exercise 3.2: `conv2d_backward` (in `cnnlib/conv.py`)
#
# Write `conv2d_backward(dout, cache)`, returning `(dx, dweight, dbias)` (dbias `None`
# when the forward had no bias), with the cache `(x, weight, bias, stride, padding, cols)`
# of your `conv2d_forward`. Start from the forward's matrix form, out_rows = cols @
# W_rowsᵀ + b, and the im2col form of the derivation above: each of the three gradients is
# one step of matrix calculus on it, and the shapes tell you which. Keep the dtype
# (float32 stays float32) and do not modify `dout` or the cache.
#
# <details><summary>Hint 1: where to start</summary>
#
# `dout` is (N, C_out, H_out, W_out). The forward's product had one row per window, in
# (n, i, j) order, and one column per output channel: bring `dout` into that layout first.
# </details>
# <details><summary>Hint 2: dweight and dbias</summary>
#
# For Y = A Bᵀ, the gradient with respect to B is dYᵀ A; the bias was added to every row.
# The result is in the flattened (C_out, kH·kW·C_in) layout: undo the forward's
# flattening of the weight, axis by axis.
# </details>
# <details><summary>Hint 3: dx</summary>
#
# For Y = A Bᵀ, the gradient with respect to A is dY B: that is the gradient of the windows.
# Which function of chapter 02 turns a gradient of the windows into a gradient of x?
# </details>

# %%
cnnlib.check("3.2")

# %% [markdown]
# ## Gradient check
#
# `cnnlib.gradients.gradient_check(forward, backward, inputs)` runs the forward pass,
# draws a random `dout`, calls the backward function and compares each gradient with
# `numerical_gradient` (your exercise 3.1), printing one line per gradient. Use it for
# every backward function you write in this course.
#
# What error to expect? `rel_error(a, b)` is $\max |a - b| / \max(|a| + |b|)$: the
# largest difference relative to the largest entry. Not $10^{-16}$: each numerical
# derivative carries a rounding error of about $\varepsilon |\ell| / h$, some $10^{-10}$
# here. In float64 a correct gradient gives about $10^{-10}$; a wrong one gives $10^{-3}$
# to 1. (Dividing entry by entry instead, another common choice, inflates the error
# wherever a gradient entry happens to be close to zero.) The exact digits depend on the
# CPU, so this cell's printed text is not compared when the notebooks are tested; its
# assert is.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(0)
configs = [((2, 3, 7, 6), (4, 3, 3, 3), 1, 1, True),      # (x shape, weight shape, stride, padding, bias)
           ((2, 2, 9, 7), (3, 2, 3, 2), 2, 1, True),      # non-square kernel, stride 2
           ((1, 3, 8, 8), (2, 3, 5, 5), 3, 2, False)]     # batch 1, no bias, stride 3
worst = 0.0
for x_shape, w_shape, stride, padding, has_bias in configs:
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if has_bias else None
    print(f"x {x_shape}, weight {w_shape}, stride {stride}, padding {padding}, bias {has_bias}:")
    errors = gradient_check(conv2d_forward, conv2d_backward, (x, w, b, stride, padding), rng=rng)
    worst = max(worst, *errors.values())
print(f"largest relative error: {worst:.1e}")
assert worst < 1e-7, worst

# %% [markdown]
# A gradient check also catches the bugs that matter. Here is a backward function with
# a classic mistake, the bias gradient averaged instead of summed:

# %%
def backward_with_a_bug(dout, cache):
    dx, dweight, dbias = conv2d_backward(dout, cache)
    return dx, dweight, dout.mean(axis=(0, 2, 3))             # should be a sum


x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
errors = gradient_check(conv2d_forward, backward_with_a_bug, (x, w, b, 1, 1), rng=rng, verbose=False)
for name, err in errors.items():
    print(f"{name:<8} {'ok' if err < 1e-7 else 'WRONG'}")
assert errors["dbias"] > 1e-3 and errors["dx"] < 1e-7

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **3.q1** `dweight` of a convolution is a product of `dout` with (a) the weight, (b) the windows of the input, (c) the output? Answer a letter.

# %%
cnnlib.answer("3.q1", None)

# %% [markdown]
# **3.q2** A correct float64 backward against centred differences with h = 1e-5 gives a relative error of (a) about 1e-2, (b) 1e-7 or below, (c) exactly 0?

# %%
cnnlib.answer("3.q2", None)

# %% [markdown]
# ## Summary
#
# - $\texttt{dbias}$ sums dout; $\texttt{dweight}$ correlates the padded input with dout
#   ($\mathtt{dout\_rows}^\top\,\text{cols}$); $\texttt{dx}$ is a full convolution of dout
#   with the flipped kernel, or $\text{col2im}(\mathtt{dout\_rows}\,W_\text{rows})$, with
#   the padding cut off. Stride inserts zeros between dout's entries.
# - For a single dout pixel, dx is the kernel placed on that output's window.
# - The centred difference is accurate to $O(h^2)$; check gradients in float64 with
#   $h \approx 10^{-5}$, and expect relative errors below $10^{-7}$.
#
# With a forward and a backward pass, a convolution can learn. Chapter 04 adds the
# other pieces of a CNN layer: activations and pooling.
#
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[3]))
