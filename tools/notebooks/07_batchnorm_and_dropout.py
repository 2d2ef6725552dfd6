# %% [markdown]
# # Chapter 07: Batch normalization and dropout
#
# Two layers with no counterpart in the classical picture of a neural network, and
# both in almost every CNN of the last decade:
#
# - **Batch normalization** (Ioffe and Szegedy, 2015) rescales every channel of a
#   batch to mean 0 and variance 1, then lets the network choose its own scale and
#   shift. Deep networks with it train faster, tolerate larger learning rates and
#   care much less about their initialisation (the experiment at the end of this
#   chapter tests the first claim at a small scale).
# - **Dropout** (Srivastava et al., 2014) zeroes random units during training, so that
#   no unit can rely on a particular other one being there: a cheap regulariser that
#   behaves like training a huge ensemble of networks that share their weights.
#
# Both behave differently in **training** and in **evaluation** (`training=True` or
# `False`, the `train()` / `eval()` of the layers in `cnnlib.layers`), and getting that
# difference right is half of this chapter.
#
# Exercises:
#
# | id | function | file |
# | --- | --- | --- |
# | 7.1 | `batchnorm_forward` | `cnnlib/normalization.py` |
# | 7.2 | `batchnorm_backward` | `cnnlib/normalization.py` |
# | 7.3 | `spatial_batchnorm_forward` | `cnnlib/normalization.py` |
# | 7.4 | `spatial_batchnorm_backward` | `cnnlib/normalization.py` |
# | 7.5 | `dropout_forward` | `cnnlib/dropout.py` |
# | 7.6 | `dropout_backward` | `cnnlib/dropout.py` |
# | 7.7 | `spatial_dropout_forward` | `cnnlib/dropout.py` |

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.ops import batchnorm_backward, batchnorm_forward, conv2d_forward, dropout_backward, dropout_forward, spatial_batchnorm_backward, spatial_batchnorm_forward, spatial_dropout_forward
from cnnlib.data import load_mnist_sample
from cnnlib.gradients import gradient_check

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## What goes into a layer: activations of real digits
#
# Take 500 MNIST digits and one convolution with 8 random 3 x 3 filters, as a freshly
# initialised network would have. Each output channel has its own mean and spread,
# set by the accidents of its filter: the sum of the filter's weights times the mean
# brightness of the digits, plus the bias. The next layer receives all of them at once,
# and as training changes the filters, those means and spreads keep moving.

# %%
images, labels = load_mnist_sample()  # (2000, 1, 28, 28) float32 in [0, 1]
rng = np.random.default_rng(0)
weight = (rng.standard_normal((8, 1, 3, 3)) / 3).astype(np.float32)  # (C_out, C_in, kH, kW)
bias = rng.uniform(-0.5, 0.5, 8).astype(np.float32)
features, _ = conv2d_forward(images, weight, bias, stride=1, padding=0)  # (2000, 8, 26, 26)
batch = features[:500]
print("feature maps:", batch.shape, batch.dtype)
for c in range(4):
    print(f"channel {c}: mean {batch[:, c].mean():+.2f}, std {batch[:, c].std():.2f}")

# %% [markdown]
# ## The forward pass
#
# Batch normalization treats every feature (for maps: every channel) on its own. Over
# the $M$ values $x_1, \dots, x_M$ that a feature takes in the batch ($M = N$ for (N, D)
# features, $M = N H W$ for (N, C, H, W) maps) it computes
#
# $$\mu = \frac{1}{M} \sum_{i=1}^{M} x_i, \qquad
#   \sigma^2 = \frac{1}{M} \sum_{i=1}^{M} (x_i - \mu)^2, \qquad
#   \hat{x}_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad
#   y_i = \gamma\, \hat{x}_i + \beta .$$
#
# - $\hat{x}$ has mean 0 and variance (almost exactly) 1, whatever $x$ was. The small
#   $\varepsilon$ (PyTorch: $10^{-5}$) sits *inside* the square root, so a feature that is
#   constant in the batch ($\sigma^2 = 0$) divides by $\sqrt{\varepsilon}$, not by zero.
# - $\gamma$ and $\beta$ (PyTorch's `weight` and `bias`, one per feature, initialised to 1
#   and 0) are learned. With $\gamma = \sqrt{\sigma^2 + \varepsilon}$ and $\beta = \mu$ the
#   layer would be the identity, so normalising takes nothing away from what the network
#   can express: it changes how the parameters are *parametrised*, which is what makes
#   the optimisation easier.
# - $\sigma^2$ is the **biased** variance (divide by $M$, `np.var`'s default): it is the
#   exact variance of the batch at hand.
#
# ### Training and evaluation
#
# In **training** mode the batch's own $\mu$ and $\sigma^2$ normalise it, so each
# example's output depends on the other examples of its batch. That is fine for training
# (it even adds a little useful noise) but not for a model in use: a prediction must not
# depend on what else happens to be in the batch, and a single image has no batch
# statistics to speak of. So training mode also keeps **running** estimates of the
# population's mean and variance, and **eval** mode normalises with those instead:
#
# $$\hat{x}_i = \frac{x_i - \mu_{\text{run}}}{\sqrt{\sigma^2_{\text{run}} + \varepsilon}} .$$
#
# After every training batch the running statistics move a fraction `momentum` of the
# way towards the batch's (PyTorch's convention, `momentum=0.1` by default):
#
# $$\mu_{\text{run}} \leftarrow (1 - m)\, \mu_{\text{run}} + m\, \mu, \qquad
#   \sigma^2_{\text{run}} \leftarrow (1 - m)\, \sigma^2_{\text{run}} + m\, \frac{M}{M - 1}\, \sigma^2 .$$
#
# Two details trip people up. The running variance takes the **unbiased** batch
# variance $\frac{M}{M-1}\sigma^2$ (Bessel's correction: it estimates the variance of the
# population, not of the batch), while the batch itself is normalised with the biased
# one. And "momentum" means opposite things in different libraries: Keras writes
# `momentum=0.99` for the weight of the *old* value, where PyTorch writes `momentum=0.01`
# for the weight of the *new* one. This course follows PyTorch.
#
# Running statistics are state, and state is where bugs hide. Here they are never
# written into the arrays you pass: the forward *returns* new ones,
# `(out, cache, new_running_mean, new_running_var)`, and the `BatchNorm1d` /
# `BatchNorm2d` layers store them.
#
# ## Exercise 7.1: `batchnorm_forward` (in `cnnlib/normalization.py`)
#
# For (N, D) features. Return `(out, cache, new_running_mean, new_running_var)` with
# `cache = (x_hat, gamma, inv_std, training)`, where `inv_std` $= 1/\sqrt{\sigma^2 +
# \varepsilon}$ of shape (D,), computed from the batch statistics in training mode and
# from the running ones in eval mode: with this cache the same backward works in both
# modes. In eval mode the running statistics come back unchanged (as copies).
#
# The grader's first case can be checked by hand: feature 0 takes the values
# $-5, 3, 1, 9$ (mean 2, variance 25, so $\hat{x} = -1.4, 0.2, -0.2, 1.4$) and feature 1
# the values $0, 4, 4, 0$ (mean 2, variance 4, $\hat{x} = \mp 1$); with $\gamma = (2, 0.5)$,
# $\beta = (1, -1)$ and $\varepsilon = 0$, the output is $2\hat{x} + 1$ and
# $0.5\hat{x} - 1$. The running mean moves from 0 to $0.1 \cdot 2 = 0.2$ and the running
# variance from 1 to $0.9 + 0.1 \cdot \tfrac{4}{3} \cdot 25 = 4.2\overline{3}$ and
# $0.9 + 0.1 \cdot \tfrac{4}{3} \cdot 4 = 1.4\overline{3}$.

# %%
cnnlib.check("7.1")

# %%
x = np.array([[-5.0, 0.0], [3.0, 4.0], [1.0, 4.0], [9.0, 0.0]])  # (N, D) = (4, 2)
gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
running_mean, running_var = np.zeros(2), np.ones(2)
out, cache, new_mean, new_var = batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                                  training=True, momentum=0.1, eps=0.0)
print("out\n", out)
print("new running mean", new_mean, " new running var", new_var)
assert np.allclose(out, [[-1.8, -1.5], [1.4, -0.5], [0.6, -0.5], [3.8, -1.5]])
assert np.allclose(new_mean, [0.2, 0.2]) and np.allclose(new_var, [127 / 30, 43 / 30])
assert np.array_equal(running_mean, [0, 0]) and np.array_equal(running_var, [1, 1])  # untouched

# %% [markdown]
# ## Exercise 7.3: `spatial_batchnorm_forward` (in `cnnlib/normalization.py`)
#
# After a convolution, a feature is a *channel*: all $N \cdot H \cdot W$ values of
# channel $c$ share one $\mu_c$, one $\sigma_c^2$, one $\gamma_c$ and one $\beta_c$, because
# the same filter produced them at every position (PyTorch's `BatchNorm2d`). So the
# statistics are taken over axes (0, 2, 3).
#
# The neatest way to write it reuses exercise 7.1: if every position of every image
# were one row of an (N·H·W, C) batch, with channel c in column c, exercise 7.1 would do
# the rest. (`x.reshape(-1, C)` runs, and mixes channels: a classic bug. Why?)
#
# <details><summary>Hint</summary>
#
# A reshape keeps the memory order of the last axes together: the channels must be the
# last axis before you reshape, and the result needs the inverse moves on the way back.
# </details>
# This is also the fast way: chapter 02's convolution returns its output as an
# (N, C, H, W) *view* of channels-last memory, so that transpose costs nothing, and the
# result can go back as the same kind of view for the next layer.
#
# The cache is `(x_hat, gamma, inv_std, training)` with `x_hat` of shape (N, C, H, W).
# The running variance's unbiased correction uses $M = N H W$.

# %%
cnnlib.check("7.3")

# %% [markdown]
# Now the digits' feature maps, before and after, in training mode with $\gamma = 1$
# and $\beta = 0$: every channel comes out centred with unit variance, whatever it was.

# %%
C = batch.shape[1]
ones, zeros = np.ones(C, np.float32), np.zeros(C, np.float32)
normalized, _, _, _ = spatial_batchnorm_forward(batch, ones, zeros, zeros, ones, training=True)
assert normalized.dtype == np.float32
assert np.allclose(normalized.mean(axis=(0, 2, 3), dtype=np.float64), 0, atol=1e-5)
assert np.allclose(normalized.std(axis=(0, 2, 3), dtype=np.float64), 1, atol=1e-3)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
bins_before, bins_after = np.linspace(-2.5, 2.5, 101), np.linspace(-5, 5, 101)
for c in range(4):
    ax1.hist(batch[:, c].ravel(), bins=bins_before, histtype="step", lw=1.5, density=True,
             label=f"channel {c}: mean {batch[:, c].mean():+.2f}, std {batch[:, c].std():.2f}")
    ax2.hist(normalized[:, c].ravel(), bins=bins_after, histtype="step", lw=1.5, density=True,
             label=f"channel {c}: mean 0, std 1")
ax1.set_title("conv outputs (500 digits, 4 of 8 channels)")
ax2.set_title("after spatial batch norm (training mode)")
ax1.set_xlabel("activation")
ax2.set_xlabel("normalised activation")
ax1.set_yscale("log")
ax2.set_yscale("log")
ax1.legend(fontsize=8)
ax2.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# (A log scale, because most of every map is background: the tall spike of each
# channel is the value its filter gives on blank paper, the bias plus nothing. After
# normalisation each channel's background sits at its own spot, but every channel has
# the same mean and spread.)
#
# ## The running statistics over training steps
#
# Feed the layer one random batch of 64 digits at a time, as training would, and watch
# the running mean of the three channels whose means are farthest from 0. It starts at 0 and approaches the mean of the
# whole population (dashed, computed over all 2,000 digits) like an exponential moving
# average: after $k$ steps the starting value still weighs $(1 - m)^k$, so on average
# that fraction of the initial gap to the population mean is left. Since
# $(1 - m)^{1/m} \approx e^{-1}$ for small $m$, $1/m$ steps (10 for `momentum=0.1`, 100
# for 0.01) still leave about a third of the gap (35 % and 37 %), and $3/m$ steps (30
# and 300) leave about 5 % (4.2 % and 4.9 %). Over the 150 steps drawn below, momentum
# 0.1 forgets its start entirely, while momentum 0.01 still carries about a fifth of it
# (22 %). The smaller momentum is slower but averages over more batches, so it wobbles
# less.

# %%
print("fraction of the starting value left after k steps, (1 - m)^k:")
for m in (0.1, 0.01):
    print(f"  momentum {m:<4}: " + ", ".join(f"k = {k}: {(1 - m) ** k:.1%}"
                                           for k in (round(1 / m), round(3 / m), 150)))
assert abs(0.9 ** 10 - 0.349) < 1e-3 and abs(0.99 ** 100 - 0.366) < 1e-3      # about e^-1 = 36.8 %
assert abs(0.9 ** 30 - 0.042) < 1e-3 and abs(0.99 ** 300 - 0.049) < 1e-3      # about 5 %
assert 0.9 ** 150 < 1e-6 and abs(0.99 ** 150 - 0.221) < 1e-3                  # the 150 steps below

# %%
population_mean = features.mean(axis=(0, 2, 3))
steps, batch_size = 150, 64
history = {}
for momentum in (0.1, 0.01):
    rng = np.random.default_rng(1)  # the same batches for both momenta
    mean, var = np.zeros(C, np.float32), np.ones(C, np.float32)
    history[momentum] = []
    for step in range(steps):
        idx = rng.choice(len(features), batch_size, replace=False)
        _, _, mean, var = spatial_batchnorm_forward(features[idx], ones, zeros, mean, var,
                                                    training=True, momentum=momentum)
        history[momentum].append(mean)
    history[momentum] = np.array(history[momentum])  # (steps, C)

shown = np.argsort(-np.abs(population_mean))[:3]
fig, ax = plt.subplots(figsize=(9, 3.6))
for c, color in zip(shown, ("C0", "C1", "C2")):
    ax.plot(history[0.1][:, c], color=color, lw=1.5, label=f"channel {c}, momentum 0.1")
    ax.plot(history[0.01][:, c], color=color, lw=1.5, ls=":", label=f"channel {c}, momentum 0.01")
    ax.axhline(population_mean[c], color=color, ls="--", lw=0.8)
ax.set_xlabel("training step")
ax.set_ylabel("running mean")
ax.set_title("running means approach the population means (dashed)")
ax.legend(fontsize=7, ncol=3, loc="lower right")
plt.tight_layout()
plt.show()

error_fast = np.abs(history[0.1][-1] - population_mean).max()
error_slow = np.abs(history[0.01][-1] - population_mean).max()
assert error_fast < 0.05 < error_slow, (error_fast, error_slow)

# %% [markdown]
# With the running statistics in place, eval mode gives every image the same output
# whatever batch it comes in, a single image included. Training mode does not: the
# same digit, normalised with two different batches, comes out differently.

# %%
digit = features[:1]  # (1, 8, 26, 26): one image
mean, var = history[0.1][-1], np.ones(C, np.float32)  # running statistics as trained above
_, _, _, var = spatial_batchnorm_forward(features[:500], ones, zeros, mean, var, training=True, momentum=1.0)
alone, _, _, _ = spatial_batchnorm_forward(digit, ones, zeros, mean, var, training=False)
in_batch, _, _, _ = spatial_batchnorm_forward(features[:64], ones, zeros, mean, var, training=False)
print("eval mode, the digit alone and in a batch give the same output:", np.allclose(alone[0], in_batch[0], atol=1e-6))
assert np.allclose(alone[0], in_batch[0], atol=1e-6)

ones_digits = np.flatnonzero(labels == 1)[:63]  # thin strokes: a batch with other statistics
train_a, _, _, _ = spatial_batchnorm_forward(features[:64], ones, zeros, mean, var, training=True)
train_b, _, _, _ = spatial_batchnorm_forward(features[np.r_[0, ones_digits]], ones, zeros, mean, var,
                                             training=True)
print("training mode, the digit with 63 others and with 63 ones: outputs differ by up to",
      f"{np.abs(train_a[0] - train_b[0]).max():.1f}")
assert np.abs(train_a[0] - train_b[0]).max() > 0.01

# %% [markdown]
# (The running variance above was set with `momentum=1.0`, which simply copies the
# unbiased variance of 500 digits: one more way to read the update rule.)
#
# ## The backward pass, one node at a time
#
# Batch normalization is the first layer of the course in which every output depends
# on every input of the same feature: $\mu$ and $\sigma^2$ are computed from the whole
# batch, and they sit in every $\hat{x}_i$. Draw the computation for one feature as a
# graph and walk back through it:
#
# ```
#        x ──────────────┐
#        │               ▼
#        └──► mu ──► c = x - mu ──► var ──► s = 1/sqrt(var + eps)
#                        │                   │
#                        └───────► x_hat = c * s ──► y = gamma * x_hat + beta
# ```
#
# Write $g_i = \partial L / \partial y_i$ (that is `dout`). From the last node backwards:
#
# $$\frac{\partial L}{\partial \beta} = \sum_i g_i, \qquad
#   \frac{\partial L}{\partial \gamma} = \sum_i g_i\, \hat{x}_i, \qquad
#   h_i := \frac{\partial L}{\partial \hat{x}_i} = \gamma\, g_i .$$
#
# $s$ multiplies every $c_i$, and the variance reaches the loss only through $s$:
#
# $$\frac{\partial L}{\partial s} = \sum_i h_i\, c_i, \qquad
#   \frac{\partial L}{\partial \sigma^2} = \frac{\partial L}{\partial s} \cdot
#   \left(-\tfrac12\right)(\sigma^2 + \varepsilon)^{-3/2} = -\frac{s^3}{2} \sum_i h_i\, c_i .$$
#
# $c_i$ reaches the loss along two paths, directly through $\hat{x}_i$ and through the
# variance $\sigma^2 = \frac1M \sum_i c_i^2$; the gradients of the two paths add up:
#
# $$\frac{\partial L}{\partial c_i} = h_i\, s + \frac{\partial L}{\partial \sigma^2}\,
#   \frac{2 c_i}{M} .$$
#
# Finally $x_i$ reaches the loss through $c_i$ and through the mean, which every $c_j =
# x_j - \mu$ subtracts:
#
# $$\frac{\partial L}{\partial \mu} = -\sum_j \frac{\partial L}{\partial c_j}, \qquad
#   \frac{\partial L}{\partial x_i} = \frac{\partial L}{\partial c_i} + \frac{1}{M}
#   \frac{\partial L}{\partial \mu} .$$
#
# This staged version is correct and a fine first implementation. It simplifies a lot.
#
# ## The compact formula
#
# Derive it yourself before you open the steps: substitute the staged gradients into
# each other, and use two facts, $\sum_i c_i = 0$ (the centred values sum to zero) and
# $c_i = \hat{x}_i / s$. The goal is $\partial L / \partial x_i$ in terms of $h_i$, $s$,
# $\hat{x}_i$ and two sums over the batch; then write those two sums with $d\beta$ and
# $d\gamma$, which backward computes anyway.
#
# <details><summary>Step 1: the mean's gradient</summary>
#
# The variance term of $\partial L / \partial \mu$ carries $\sum_j c_j = 0$, so
# $\frac{\partial L}{\partial \mu} = -s \sum_j h_j$.
# </details>
# <details><summary>Step 2: the variance path</summary>
#
# $\frac{\partial L}{\partial \sigma^2} \frac{2c_i}{M} = -\frac{s}{M}\, \hat{x}_i \sum_j h_j
# \hat{x}_j$, and collecting the three terms,
# $\frac{\partial L}{\partial x_i} = \frac{s}{M} \big( M h_i - \sum_j h_j - \hat{x}_i
# \sum_j h_j \hat{x}_j \big)$.
# </details>
# <details><summary>The compact formula (check yours against it)</summary>
#
# With $h = \gamma g$: $dx = \frac{\gamma\, s}{M} \big( M \cdot \text{dout} - d\beta -
# \hat{x} \odot d\gamma \big)$, $d\gamma = \sum \text{dout} \odot \hat{x}$,
# $d\beta = \sum \text{dout}$ (sums over the batch, one value per feature).
# </details>
#
# Read the result as: take the upstream gradient,
# remove its mean and its component along $\hat{x}$, scale by $\gamma s$. That is no
# accident: the output does not change when the whole batch of a feature is shifted or
# scaled (the normalisation undoes it), so the gradient can have no component along
# those two directions, $\sum_i dx_i = 0$ and $\sum_i dx_i\, \hat{x}_i = 0$ (the second
# exactly when $\varepsilon = 0$; a positive $\varepsilon$ lets scaling through a little).
#
# In **eval** mode the running statistics are constants, nothing flows through $\mu$ or
# $\sigma^2$, and the layer is a per-feature affine map: $dx = \gamma\, s \cdot
# \text{dout}$ with $s$ from the running variance. The `training` flag in the cache
# tells backward which formula applies.
#
# ## Exercise 7.2: `batchnorm_backward` (in `cnnlib/normalization.py`)
#
# Return `(dx, dgamma, dbeta)`, in training mode with the compact formula (write the
# staged version first if you like, and compare), in eval mode with the affine one.

# %%
cnnlib.check("7.2")

# %% [markdown]
# Check it with chapter 03's numerical gradient on random float64 inputs, in both
# modes (the running statistics are fixed inputs, not differentiated), and check the
# two directions the gradient must avoid.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(2)
x = rng.standard_normal((8, 5)) * 3 + 1
gamma, beta = rng.uniform(0.5, 2, 5), rng.standard_normal(5)
running_mean, running_var = rng.standard_normal(5), rng.uniform(0.5, 2, 5)


def bn_train(x, gamma, beta):
    out, cache, _, _ = batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True)
    return out, cache


def bn_eval(x, gamma, beta):
    out, cache, _, _ = batchnorm_forward(x, gamma, beta, running_mean, running_var, training=False)
    return out, cache


print("training mode")
errors = gradient_check(bn_train, batchnorm_backward, (x, gamma, beta))
assert max(errors.values()) < 1e-6, errors
print("eval mode")
errors = gradient_check(bn_eval, batchnorm_backward, (x, gamma, beta))
assert max(errors.values()) < 1e-6, errors

# %%
out, cache, _, _ = batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, eps=0.0)
dx, dgamma, dbeta = batchnorm_backward(rng.standard_normal(out.shape), cache)
x_hat = cache[0]
print("sum of dx over the batch:       ", np.round(np.abs(dx.sum(axis=0)), 10))
print("sum of dx * x_hat over the batch:", np.round(np.abs((dx * x_hat).sum(axis=0)), 10))
assert np.allclose(dx.sum(axis=0), 0, atol=1e-12) and np.allclose((dx * x_hat).sum(axis=0), 0, atol=1e-12)

# %% [markdown]
# ## Exercise 7.4: `spatial_batchnorm_backward` (in `cnnlib/normalization.py`)
#
# The same formulas with $M = N H W$ values per channel: sums over axes (0, 2, 3), or
# move `dout` and `x_hat` to channels-last rows and call your `batchnorm_backward`, then
# turn `dx` back into (N, C, H, W).

# %%
cnnlib.check("7.4")

# %% tags=["nbval-ignore-output"]
x4 = rng.standard_normal((3, 4, 5, 2)) * 2 - 1
gamma4, beta4 = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
mean4, var4 = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
for training in (True, False):
    print("training" if training else "eval", "mode")
    errors = gradient_check(
        lambda x, gamma, beta: spatial_batchnorm_forward(x, gamma, beta, mean4, var4, training)[:2],
        spatial_batchnorm_backward, (x4, gamma4, beta4))
    assert max(errors.values()) < 1e-6, errors

# %% [markdown]
# ## Dropout: an ensemble for the price of one network
#
# In training mode, dropout keeps each unit with probability $1 - p$ and zeroes it
# with probability $p$, with a fresh random mask for every batch. Every mask picks a
# *thinned* network out of the full one; with $n$ units there are $2^n$ of them, all
# sharing the same weights, and each training step trains one of them on one batch. No
# unit can count on any other being present, so units cannot form fragile
# co-adaptations; each has to be useful on its own.
#
# At test time we would like the average prediction of that whole ensemble. Computing
# $2^n$ networks is out of the question, but a cheap approximation works remarkably well:
# run the full network once, with every unit's activation replaced by its *expected*
# value during training (exact for a linear layer, an approximation through the
# nonlinearities). With a keep-mask $m_i \sim \text{Bernoulli}(1 - p)$:
#
# $$\mathbb{E}[m_i x_i] = (1 - p)\, x_i .$$
#
# The original paper therefore multiplied activations by $1 - p$ at test time.
# **Inverted dropout**, what PyTorch and everyone else do now, moves the correction into
# training instead:
#
# $$\text{out}_i = \frac{m_i}{1 - p}\, x_i, \qquad \mathbb{E}[\text{out}_i] = x_i,$$
#
# so that at test time dropout is simply the identity, and a trained model needs no
# knowledge of $p$ to be used. The mask is a constant of the forward pass, so the
# backward pass multiplies by the same thing:
#
# $$\text{out} = x \odot \text{mask} \quad\Longrightarrow\quad dx = \text{dout} \odot
#   \text{mask}, \qquad \text{mask}_i \in \left\{0, \tfrac{1}{1-p}\right\} .$$
#
# Randomness is explicit in this course: the functions take an `np.random.Generator`
# (`rng`), the same seed gives the same mask, and the `Dropout` layers own their
# generator (seeded from the model's) so that a training run can be repeated exactly.
#
# ## Exercise 7.5: `dropout_forward` (in `cnnlib/dropout.py`)
#
# Return `(out, cache)` with `cache = (mask, p, training)`: `mask` has x's shape and
# dtype (a float32 network stays float32) and holds $0$ or $1/(1-p)$; with
# `training=False` or `p == 0` return a copy of `x` and `mask = None`. `p` is the
# probability of **dropping** a unit (PyTorch's convention, not Keras's old
# `keep_prob`). The grader cannot know which units your generator drops, so its checks
# are statistical, with a seeded generator: every value is 0 or $x/(1-p)$, about a
# fraction $p$ is dropped, the mean is kept, the same seed repeats the mask.

# %%
cnnlib.check("7.5")

# %%
x = np.ones((1000, 100), np.float32)
for p in (0.1, 0.5, 0.8):
    out, (mask, _, _) = dropout_forward(x, p, training=True, rng=np.random.default_rng(3))
    kept = out[out != 0]
    print(f"p={p}: dropped {np.mean(out == 0):.3f}, kept values {np.unique(kept)}, "
          f"mean of out {out.mean():.3f}, dtype {out.dtype}")
    assert abs(np.mean(out == 0) - p) < 0.01 and abs(out.mean() - 1) < 0.02
    assert np.allclose(kept, 1 / (1 - p)) and mask.dtype == np.float32
out, _ = dropout_forward(x, 0.5, training=False, rng=np.random.default_rng(3))
assert np.array_equal(out, x)  # eval mode: the identity

# %% [markdown]
# The expectation is exact, so averaging over many masks recovers the input: the
# error of the average of $K$ dropout outputs falls like $1/\sqrt{K}$. That is the
# ensemble at work, and what the single deterministic pass at test time stands in for.

# %%
v = rng.uniform(1, 2, 1000)  # one activation vector
drop_rng = np.random.default_rng(4)
errors, lines = [], []
for K in (1, 10, 100, 1000):
    average = np.mean([dropout_forward(v, 0.5, True, drop_rng)[0] for _ in range(K)], axis=0)
    errors.append(np.abs(average - v).mean() / v.mean())
    lines.append(f"K = {K:4d} masks: mean relative error of the average {errors[-1]:.3f}")
print("\n".join(lines))
assert all(a > b for a, b in zip(errors, errors[1:]))

# %% [markdown]
# ## Exercise 7.6: `dropout_backward` (in `cnnlib/dropout.py`)
#
# `dx = dout * mask`, or a copy of `dout` when the mask is None. Write it so that the
# mask may also be (N, C, 1, 1) and broadcast over H and W: the next exercise relies on
# that. With a fixed seed the forward is a fixed linear map, so the numerical gradient
# applies as usual.

# %%
cnnlib.check("7.6")

# %% tags=["nbval-ignore-output"]
x = rng.standard_normal((6, 10))
errors = gradient_check(lambda x: dropout_forward(x, 0.3, True, np.random.default_rng(5)),
                        dropout_backward, (x,))
assert max(errors.values()) < 1e-7, errors

# %% [markdown]
# ## Spatial dropout: whole channels at a time
#
# In a feature map, neighbouring values are strongly correlated: they come from
# overlapping windows of the same image through the same filter. Dropping single values
# there removes little, because the neighbours still carry almost the same information,
# and the regularising effect is weak (Tompson et al., 2015). **Spatial dropout**
# (PyTorch's `Dropout2d`) drops whole channels instead: one coin per (sample, channel),
# a mask of shape (N, C, 1, 1) that broadcasts over H and W. The scaling by $1/(1-p)$
# and the backward pass are the same.
#
# ## Exercise 7.7: `spatial_dropout_forward` (in `cnnlib/dropout.py`)
#
# Return `(out, cache)` with `cache = (mask, p, training)` and `mask` of shape
# (N, C, 1, 1) (or None), so that your `dropout_backward` works unchanged.

# %%
cnnlib.check("7.7")

# %% [markdown]
# The difference in pictures: the first digit's 8 feature maps (after a ReLU), the two
# kinds of mask with $p = 0.5$ (white: kept, scaled by 2; black: dropped), and what
# they leave of the maps (each channel on its own grey scale, doubled after dropout so
# that a kept value keeps its shade).

# %%
maps = np.maximum(features[:1], 0)  # (1, 8, 26, 26): ReLU of the first digit's maps
plain, (plain_mask, _, _) = dropout_forward(maps, 0.5, True, np.random.default_rng(6))
spatial, (spatial_mask, _, _) = spatial_dropout_forward(maps, 0.5, True, np.random.default_rng(6))
spatial_mask_full = np.broadcast_to(spatial_mask, maps.shape)  # (1, 8, 1, 1) -> (1, 8, 26, 26)
rows = [("feature maps", maps), ("dropout mask", plain_mask), ("after dropout", plain),
        ("spatial mask", spatial_mask_full), ("after spatial dropout", spatial)]

fig, axes = plt.subplots(len(rows), 8, figsize=(12, 7.8))
for r, (title, a) in enumerate(rows):
    for c in range(8):
        ax = axes[r, c]
        vmax = 2 if "mask" in title else maps[0, c].max() * (1 if r == 0 else 2)
        ax.imshow(a[0, c], cmap="gray", vmin=0, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if r == 0:
            ax.set_title(f"channel {c}", fontsize=9)
    axes[r, 0].set_ylabel(title, fontsize=9)
plt.tight_layout()
plt.show()
assert set(np.unique(spatial_mask)) <= {0.0, 2.0} and spatial_mask.shape == (1, 8, 1, 1)
print("channels kept by spatial dropout:", np.flatnonzero(spatial_mask.ravel()))

# %% [markdown]
# Ordinary dropout leaves every map recognisable, speckled but with its shape intact;
# spatial dropout removes some maps entirely and leaves the others whole, which is what
# forces the following layers not to depend on any single channel.
#
# ## Do they work? Two small experiments
#
# The introduction made two claims: batch norm makes a network train faster, and
# dropout regularises. Both are easy to test at a small scale, with the layers you just
# wrote, on the 2,000 digits shipped with the course (a few seconds per run; two seeds
# each, so that one lucky run does not decide).
#
# **Batch norm.** The same small CNN (two 3×3 convolutions with 16 and 32 channels,
# ReLU, 2×2 pooling, a linear layer), with and without a `BatchNorm2d` after each
# convolution, trained with plain SGD (no momentum) for 4 epochs on 1,500 digits at two
# learning rates, 0.02 and 0.3; validation on the other 500. Before you run it: at which
# rate do you expect batch norm to help more?

# %%
from cnnlib.layers import BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential
from cnnlib.optim import SGD
from cnnlib.trainer import Trainer


def small_cnn(batch_norm=False, dropout=0.0, hidden=None, seed=0):
    """conv 16 [BN] ReLU pool, conv 32 [BN] ReLU pool, [dropout, linear hidden, ReLU, dropout], linear 10."""
    g = np.random.default_rng(seed)
    layers = []
    for c_in, c_out in [(1, 16), (16, 32)]:
        layers += [Conv2d(c_in, c_out, 3, padding=1, rng=g), *([BatchNorm2d(c_out)] if batch_norm else []),
                   ReLU(), MaxPool2d(2)]
    layers.append(Flatten())
    if hidden:
        layers += [*([Dropout(dropout, rng=g)] if dropout else []), Linear(32 * 7 * 7, hidden, rng=g), ReLU(),
                   *([Dropout(dropout, rng=g)] if dropout else [])]
    layers.append(Linear(hidden or 32 * 7 * 7, 10, rng=g))
    return Sequential(*layers)


def run(model, x, y, x_val, y_val, lr, epochs, momentum=0.0, seed=0):
    trainer = Trainer(model, SGD(model, lr=lr, momentum=momentum), rng=seed, divergence_check=False)
    return trainer.fit(x, y, epochs=epochs, batch_size=32, validation_data=(x_val, y_val), verbose=False)


x_train, y_train, x_val, y_val = images[:1500], labels[:1500], images[1500:], labels[1500:]
bn_runs = {(lr, bn, seed): run(small_cnn(batch_norm=bn, seed=seed), x_train, y_train, x_val, y_val, lr, 4, seed=seed)
           for lr in (0.02, 0.3) for bn in (False, True) for seed in (0, 1)}
final = {key: h["val_accuracy"][-1] for key, h in bn_runs.items()}
for lr in (0.02, 0.3):
    for bn in (False, True):
        accs = [final[(lr, bn, s)] for s in (0, 1)]
        print(f"lr {lr:4}: {'with' if bn else 'without':7} batch norm, validation accuracy after 4 epochs: "
              f"{accs[0]:.0%} and {accs[1]:.0%} (seeds 0 and 1)")
assert min(final[(0.02, True, s)] for s in (0, 1)) > max(final[(0.02, False, s)] for s in (0, 1)) + 0.05

fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for ax, lr in zip(axes, (0.02, 0.3)):
    for bn, colour in ((False, "tab:gray"), (True, "tab:blue")):
        for seed, style in ((0, "-"), (1, "--")):
            ax.plot(range(1, 5), bn_runs[(lr, bn, seed)]["val_accuracy"], style, color=colour, marker="o",
                    label=f"{'with' if bn else 'without'} batch norm, seed {seed}")
    ax.set_title(f"plain SGD, lr {lr}")
    ax.set_xlabel("epoch")
    ax.set_xticks(range(1, 5))
axes[0].set_ylabel("validation accuracy")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# At the small rate batch norm wins clearly: after 4 epochs the normalised network is at
# 94 % with both seeds, the plain one at about 80 % and still climbing. At 0.3 the
# picture turns around in this small network: the plain one reaches about 91 %, and the
# normalised one loses its first epoch and ends lower. So "batch norm tolerates larger
# learning rates" is not something this small run shows; what it shows is that a rate
# far too small for the plain network is about right for the normalised one. Why?
# Scale a convolution's weights by 10: what happens to its output after batch norm, and
# to the gradient with respect to those weights?
#
# **Dropout.** A network with a hidden layer of 256 units, trained for 40 epochs on only
# 300 digits with SGD (rate 0.01, momentum 0.9), with and without dropout (p = 0.5) before and
# after the hidden layer; validation on 1,000 other digits. With 300 examples both
# networks memorise the training set. What do you expect dropout to change?

# %%
x_small, y_small, x_held, y_held = images[:300], labels[:300], images[1000:], labels[1000:]
do_runs = {(p, seed): run(small_cnn(dropout=p, hidden=256, seed=seed), x_small, y_small, x_held, y_held, 0.01, 40,
                          momentum=0.9, seed=seed) for p in (0.0, 0.5) for seed in (0, 1)}
late = {key: (np.mean(h["val_loss"][-10:]), np.mean(h["val_accuracy"][-10:])) for key, h in do_runs.items()}
for (p, seed), (loss, accuracy) in late.items():
    h = do_runs[(p, seed)]
    print(f"dropout {p}, seed {seed}: lowest validation loss {min(h['val_loss']):.2f} (epoch "
          f"{int(np.argmin(h['val_loss'])) + 1}); over the last 10 epochs: validation loss {loss:.2f}, "
          f"validation accuracy {accuracy:.0%}")
for seed in (0, 1):
    without, with_dropout = do_runs[(0.0, seed)]["val_loss"], do_runs[(0.5, seed)]["val_loss"]
    assert late[(0.5, seed)][0] < 0.75 * late[(0.0, seed)][0]  # dropout: a much lower validation loss
    assert without[-1] > min(without) + 0.05 and with_dropout[-1] < min(with_dropout) + 0.05  # one climbs back
    assert abs(late[(0.5, seed)][1] - late[(0.0, seed)][1]) < 0.03  # and the accuracy barely moves

fig, ax = plt.subplots(figsize=(6, 3.4))
for p, colour in ((0.0, "tab:gray"), (0.5, "tab:blue")):
    for seed, style in ((0, "-"), (1, "--")):
        ax.plot(range(1, 41), do_runs[(p, seed)]["val_loss"], style, color=colour,
                label=f"dropout {p}, seed {seed}")
ax.set_xlabel("epoch")
ax.set_ylabel("validation loss")
ax.set_title("300 training digits")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Without dropout the network memorises the 300 digits, and its validation loss turns
# after about 15 epochs and climbs back while the accuracy stays put: it keeps making
# its training answers more confident, and its wrong validation answers with them. With
# dropout the loss keeps falling, to well below (about 0.44 against 0.72 over the last 10
# epochs). The validation *accuracy*, though, is about the same (86 %) either way: on so
# small a task dropout makes the network's probabilities more honest more than it makes
# its answers better. Why would the loss show overfitting long before the accuracy does?
#
# ## Summary
#
# - Batch norm: $\hat{x} = (x - \mu)/\sqrt{\sigma^2 + \varepsilon}$ per feature, then
#   $\gamma \hat{x} + \beta$. Training normalises with the batch (biased variance) and
#   updates running statistics, $(1 - m) \cdot \text{running} + m \cdot \text{batch}$
#   with the unbiased variance; eval normalises with the running statistics.
# - Its backward in training mode removes the mean and the $\hat{x}$-component of the
#   upstream gradient: $dx = \frac{\gamma s}{M}(M\,\text{dout} - d\beta - \hat{x}\,
#   d\gamma)$; in eval mode it is a per-feature scale.
# - For feature maps a channel is a feature: statistics over (N, H, W), most easily
#   by moving channels last.
# - Inverted dropout scales kept units by $1/(1-p)$ during training, so that eval mode
#   is the identity; spatial dropout drops whole channels. The backward multiplies by
#   the same mask.
#
# Chapter 08 puts these layers (`BatchNorm2d`, `Dropout`) into a CNN and trains it on the
# full MNIST training set.

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **7.q1** How many *learned* parameters does `BatchNorm2d(64)` have? (The running statistics are buffers.)

# %%
cnnlib.answer("7.q1", None)

# %% [markdown]
# **7.q2** Inverted dropout with p = 0.25, in training mode: by what factor are the kept values multiplied?

# %%
cnnlib.answer("7.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[7]))
