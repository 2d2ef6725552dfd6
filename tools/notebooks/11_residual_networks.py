# %% [markdown]
# # Chapter 11: Residual networks and modern blocks
#
# The networks so far were a few layers deep. Stacking more layers should never hurt: a
# deeper network could copy a shallower one and make its extra layers the identity. In
# practice a deep *plain* stack trains worse than a shallow one, on the training set
# itself (He et al., 2016, call this the degradation problem). The fix that made
# networks of 50, 100 and 1000 layers trainable is small: let each block add its input
# back to its output, `out = relu(branch(x) + x)`. This chapter builds that block and
# the two other pieces of modern CNNs:
#
# 1. **Global average pooling**: the head of a ResNet, one mean per channel instead of
#    flatten and a large linear layer.
# 2. **1×1 and depthwise convolutions**: a convolution that only mixes channels, and one
#    that never mixes them. Together they make MobileNet's cheap depthwise-separable block.
# 3. **The residual block**: its forward pass, and its backward pass, where the gradient
#    reaches the input along two paths and the two contributions add; then the 1 × 1
#    convolution of its projection shortcut, written as what it is: a linear layer at
#    every pixel.
#
# Then an experiment: plain and residual networks of 5, 13 and 33 convolutions on the
# same digits, with the gradient that reaches each layer and the training curves.
#
# Exercises, in `cnnlib/blocks.py`:
#
# | id | function | what |
# | --- | --- | --- |
# | 11.1 | `global_avgpool_forward` | one mean per channel, as `F.adaptive_avg_pool2d(x, 1)` |
# | 11.2 | `global_avgpool_backward` | its gradient |
# | 11.3 | `depthwise_conv2d_forward` | one filter per channel, as `F.conv2d(..., groups=C)` |
# | 11.4 | `depthwise_conv2d_backward` | its gradients |
# | 11.5 | `residual_forward` | the join: add the shortcut, then ReLU |
# | 11.6 | `residual_backward` | the fork: gradients add |
# | 11.7 | `pointwise_conv2d_forward` | a 1×1 convolution as one matrix product, as `F.conv2d` with a 1×1 kernel |
# | 11.8 | `pointwise_conv2d_backward` | its gradients |
#
# The hints are folded away: open one only when you are stuck, and the first one first.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib import diagnostics, ops
from cnnlib.callbacks import Callback
from cnnlib.data import load_mnist_sample
from cnnlib.layers import Conv2d, DepthwiseConv2d, ResidualBlock
from cnnlib.models import resnet_small
from cnnlib.optim import SGD
from cnnlib.trainer import Trainer

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())
images, labels = load_mnist_sample()  # 2,000 real digits, shipped with the course
print(images.shape, labels.shape)

# %% [markdown]
# ## Global average pooling
#
# LeNet (chapter 08) ends with flatten and a linear layer from 64 × 7 × 7 = 3,136 numbers:
# 400,000 of its 420,000 parameters sit there, and the network accepts 28 × 28 images
# only. A ResNet ends with **global average pooling** instead: each channel of the last
# feature map becomes one number, its mean over all H × W positions,
#
# $$\text{out}[n, c] = \frac{1}{HW} \sum_{i=1}^{H} \sum_{j=1}^{W} x[n, c, i, j],$$
#
# and a small linear layer reads the (N, C) result. No parameters, any input size.
#
# For the backward pass, ask which outputs each input entered. $x[n, c, i, j]$ appears in
# exactly one sum, the one for $\text{out}[n, c]$, with weight $1/(HW)$. So
#
# $$\frac{\partial L}{\partial x[n, c, i, j]} = \frac{1}{HW}\, \frac{\partial L}{\partial \text{out}[n, c]} :$$
#
# the gradient of each channel is spread evenly over its H × W positions. Compare with
# max pooling (chapter 04), which sends it all to one position.
#
# ## Exercise 11.1: `global_avgpool_forward` (in `cnnlib/blocks.py`)
#
# Return the (N, C) means and, as the cache, `x.shape`: the backward needs nothing else.
#
# <details><summary>Hint</summary>
#
# NumPy's reductions take a tuple of axes: the spatial axes are 2 and 3.
# </details>

# %%
cnnlib.check("11.1")

# %% [markdown]
# ## Exercise 11.2: `global_avgpool_backward`
#
# From the formula above: every position of channel $c$ of sample $n$ gets the same share.
#
# <details><summary>Hint 1</summary>
#
# Give `dout` two axes of length 1 at the end, (N, C, 1, 1), and broadcasting does the spreading.
# </details>
# <details><summary>Hint 2</summary>
#
# The share is `dout / (H*W)`, not `dout`: the mean divided by H·W, so its gradient does too.
# </details>

# %%
cnnlib.check("11.2")

# %% [markdown]
# The same network head, two ways, on a (32, 64, 7, 7) batch of features:

# %%
features = np.random.default_rng(0).standard_normal((32, 64, 7, 7)).astype(np.float32)
pooled, cache = ops.global_avgpool_forward(features)
dx = ops.global_avgpool_backward(np.ones_like(pooled), cache)
print("after global average pooling:", pooled.shape, "  gradient of each input:", np.unique(dx))
print(f"parameters of the linear layer after it: {64 * 10 + 10:,}; after flatten instead: {64 * 7 * 7 * 10 + 10:,}")
assert pooled.shape == (32, 64) and np.allclose(dx, 1 / 49)

# %% [markdown]
# ## 1 × 1 convolutions
#
# A convolution with a 1 × 1 kernel looks at one position at a time:
#
# $$\text{out}[n, o, i, j] = \sum_{c} W[o, c]\, x[n, c, i, j] + b[o] .$$
#
# That is a linear layer from $C_\text{in}$ to $C_\text{out}$ channels, applied at every position
# with the same weights. It changes the number of channels and mixes them, but sees no
# neighbours. Your `conv2d_forward` (chapter 02) already computes it: with kH = kW = 1,
# im2col's windows are the pixels themselves, and its GEMM is exactly this product.
# Its backward pass is `conv2d_backward` with a 1 × 1 kernel. A ResNet uses one on the
# shortcut of a block that changes the number of channels; MobileNet after every
# depthwise convolution. After the residual block, exercises 11.7 and 11.8 write it as a
# function of its own: one matrix product over the channels, no im2col.

# %%
x = np.random.default_rng(1).standard_normal((2, 16, 5, 5))
w = np.random.default_rng(2).standard_normal((32, 16, 1, 1))
out, _ = ops.conv2d_forward(x, w, None, 1, 0)
by_hand = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)  # one matrix product over channels, at every position
print(out.shape, "largest difference from the matrix product:", f"{np.abs(out - by_hand).max():.1e}")
assert np.allclose(out, by_hand)

# %% [markdown]
# ## Depthwise convolution
#
# A full 3 × 3 convolution from $C$ to $C'$ channels has $C' \cdot C \cdot 9$ weights: every
# output channel looks at a 3 × 3 window of every input channel. A **depthwise**
# convolution keeps the channels apart: channel $c$ is filtered by its own kernel
# $w[c, 0]$ and nothing else,
#
# $$\text{out}[n, c, i, j] = \sum_{u, v} x_\text{pad}[n, c, i s + u, j s + v]\; w[c, 0, u, v] + b[c] ,$$
#
# so the weight has shape (C, 1, kH, kW), PyTorch's `Conv2d(C, C, k, groups=C)`. It is
# chapter 01's convolution done C times, on one channel each. The backward pass is
# chapter 03's, channel by channel: within a channel nothing changes, and across channels
# there is nothing to sum.
#
# - $\partial L / \partial w[c, 0, u, v]$: the sum, over the batch and every output position,
#   of $\text{dout}[n, c, i, j]$ times the input the weight multiplied, $x_\text{pad}[n, c, is + u, js + v]$.
# - $\partial L / \partial b[c]$: the sum of $\text{dout}[n, c]$ over the batch and positions.
# - $\partial L / \partial x_\text{pad}[n, c, is + u, js + v]$ collects $\text{dout}[n, c, i, j]\, w[c, 0, u, v]$
#   from every window that read it; where windows overlap (stride < kernel) the
#   contributions add. Then crop the padding.
#
# Followed by a 1 × 1 convolution that mixes the channels, this is the **depthwise-separable**
# convolution of MobileNet: a 3 × 3 filter per channel, then a $C \to C'$ matrix per position.
#
# ## Exercise 11.3: `depthwise_conv2d_forward`
#
# Same arguments as `conv2d_forward` (stride, padding, optional bias), a weight of shape
# (C, 1, kH, kW). Any correct method is fine; a loop over the kH·kW kernel offsets, each
# one multiply-add over the whole batch, is short and fast.
#
# <details><summary>Hint 1</summary>
#
# For a fixed offset (u, v), the inputs that meet $w[:, 0, u, v]$ across all output
# positions form a strided slice of the padded input, of shape (N, C, H_out, W_out).
# </details>
# <details><summary>Hint 2</summary>
#
# The slice starts at row u and takes every `stride`-th row, H_out of them (likewise the
# columns). Multiply it by the C weights of that offset, broadcast over N and the
# positions, and accumulate.
# </details>

# %%
cnnlib.check("11.3")

# %% [markdown]
# ## Exercise 11.4: `depthwise_conv2d_backward`
#
# Return `(dx, dweight, dbias)`, dbias None when the forward had no bias.
#
# <details><summary>Hint 1</summary>
#
# The same loop over offsets works backwards: for offset (u, v), the slice of the padded
# input from the forward pairs with `dout` entry by entry.
# </details>
# <details><summary>Hint 2</summary>
#
# `dweight[:, 0, u, v]` sums `dout * slice` over the batch and positions (axes 0, 2, 3);
# `dout * w[:, 0, u, v]` is added (`+=`) into the same slice of a zero padded gradient.
# </details>

# %%
cnnlib.check("11.4")

# %% [markdown]
# A depthwise convolution is a full convolution whose weight is zero between different
# channels. Build that block-diagonal weight and chapter 02's `conv2d_forward` agrees,
# at nine times the work for 9 channels. Then count what the separable block saves:

# %%
rng = np.random.default_rng(3)
x, w = rng.standard_normal((2, 9, 8, 8)), rng.standard_normal((9, 1, 3, 3))
full = np.zeros((9, 9, 3, 3))
full[np.arange(9), np.arange(9)] = w[:, 0]  # w[c] on the diagonal, zeros between channels
depthwise, _ = ops.depthwise_conv2d_forward(x, w, None, 2, 1)
print("largest difference from conv2d_forward with the block-diagonal weight:",
      f"{np.abs(depthwise - ops.conv2d_forward(x, full, None, 2, 1)[0]).max():.1e}")
assert np.allclose(depthwise, ops.conv2d_forward(x, full, None, 2, 1)[0])

C, C_out, H = 64, 128, 14
separable = DepthwiseConv2d(C, 3, padding=1, bias=False).num_parameters() + \
    Conv2d(C, C_out, 1, bias=False).num_parameters()
standard = Conv2d(C, C_out, 3, padding=1, bias=False).num_parameters()
print(f"3x3 convolution {C} -> {C_out}: {standard:,} weights, {standard * H * H:,} multiply-adds per {H}x{H} map")
print(f"depthwise 3x3 + 1x1:         {separable:,} weights, {separable * H * H:,} multiply-adds "
      f"({standard / separable:.1f} times fewer)")
assert separable == C * 9 + C * C_out and standard / separable > 8

# %% [markdown]
# The separable block costs $1/C' + 1/9$ of the full one: almost 9 times less for wide
# layers. The price is a restriction: filtering in space and mixing the channels are now
# two separate steps. MobileNet spends the saving on more and wider layers.
#
# ## The residual block
#
# A ResNet's basic block computes a **branch** $F(x)$: conv 3 × 3, batch norm, ReLU,
# conv 3 × 3, batch norm. Its output is
#
# $$\text{out} = \mathrm{relu}\big(F(x) + S(x)\big),$$
#
# where the **shortcut** $S$ is the identity, $S(x) = x$, or, when the branch changes the
# number of channels or halves the size with stride 2, a 1 × 1 convolution with the same
# stride (a projection, so that the two shapes agree). If the best a block can do is
# nothing, it only has to learn $F = 0$, which is what small weights already give; a
# plain block would have to learn the identity through two convolutions and a ReLU.
#
# **The backward pass.** Write $z = F(x) + S(x)$ and $\text{out} = \mathrm{relu}(z)$. The ReLU at the
# join gives $\partial L / \partial z = \text{dout} \odot \mathbb{1}[z > 0]$ (chapter 04), and $z > 0$
# exactly where $\text{out} > 0$. Then $z$ splits back into its two terms, and $x$ feeds
# both. When a variable is used twice, the chain rule sums over its uses:
#
# $$\frac{\partial L}{\partial x} = \underbrace{J_F^\top \frac{\partial L}{\partial z}}_{\text{through the branch}}
#   + \underbrace{J_S^\top \frac{\partial L}{\partial z}}_{\text{through the shortcut}} ,$$
#
# with $J_S^\top$ the identity for an identity shortcut: **gradients add at the fork**.
# The same masked gradient goes down both paths. A stack of blocks then has a path from
# the loss to the first layer that crosses no convolution at all, only the joins' ReLU
# masks: the gradient does not have to survive a product of many Jacobians, as in a plain
# network, $\partial L/\partial x_0 = J_1^\top J_2^\top \cdots J_L^\top\, \partial L/\partial x_L$.
#
# ## Exercise 11.5: `residual_forward`
#
# The block's layers are not yours to write here: they come in as functions. `branch(x)`
# returns `(y, branch_cache)`, `shortcut(x)` returns `(s, shortcut_cache)`, and
# `shortcut=None` means the identity (its cache is then None). Call each once, join, and
# return `(out, (branch_cache, shortcut_cache, out))`.
#
# <details><summary>Hint</summary>
#
# One ReLU, after the sum: not one on each path, and not before the addition.
# </details>

# %%
cnnlib.check("11.5")

# %% [markdown]
# ## Exercise 11.6: `residual_backward`
#
# `branch_backward(d, branch_cache)` and `shortcut_backward(d, shortcut_cache)` are the
# two paths' backward passes (each returns the gradient with respect to x, and keeps the
# gradients of its own parameters); `shortcut_backward=None` means the identity. Return
# $\partial L / \partial x$.
#
# <details><summary>Hint 1</summary>
#
# First the join: the ReLU's mask comes from the output in the cache, and applies to
# `dout` before it splits.
# </details>
# <details><summary>Hint 2</summary>
#
# Then the fork: the masked gradient goes down each path once, and the two results add.
# The identity's backward passes its gradient through unchanged.
# </details>

# %%
cnnlib.check("11.6")

# %% [markdown]
# ## The 1 × 1 convolution, as a function of its own
#
# The projection on a shortcut is a 1 × 1 convolution with stride 2, and MobileNet runs one
# after every depthwise convolution. `conv2d_forward` computes it, through im2col, whose
# windows are single pixels here. Written for what it is, a 1 × 1 convolution is **a
# linear layer applied at every pixel**, with the same weights everywhere: with
# $W = \text{weight}[:, :, 0, 0]$, of shape $(C_\text{out}, C_\text{in})$, and stride $s$,
#
# $$\text{out}[n, :, i, j] = W\, x[n, :, i s, j s] + b .$$
#
# The pixels between the strided ones are skipped, and there is no padding. Move the
# channels last and stack the $N H_\text{out} W_\text{out}$ pixels the forward reads as the rows
# of a matrix $X$, of shape $(N H_\text{out} W_\text{out}, C_\text{in})$: then the output's rows are
# $X W^\top + b$, chapter 05's `linear_forward` with one "sample" per pixel; a reshape and a
# transpose put them back as (N, C_out, H_out, W_out).
#
# So the backward pass is chapter 05's too (exercise 5.2), with $D$ the rows of `dout` in
# the same pixel order:
#
# - $\partial L / \partial W = D^\top X$: one outer product per pixel, summed over the batch
#   and every position, because the same $W$ served them all;
# - $\partial L / \partial b$: the rows of $D$ summed, that is `dout` summed over axes 0, 2 and 3;
# - $\partial L / \partial X = D\, W$, at each pixel $W^\top \text{dout}[n, :, i, j]$. That is the
#   gradient at the pixels the forward read, $(i s, j s)$; the pixels a stride skipped did
#   not enter the output, so their gradient is 0.
#
# ## Exercise 11.7: `pointwise_conv2d_forward`
#
# The arguments are `(x, weight, bias=None, stride=1)`, with the weight of shape
# (C_out, C_in, 1, 1), as PyTorch's `nn.Conv2d(C_in, C_out, 1)` stores it. Return
# `(out, (x, weight, bias, stride))`: no im2col and no loops.
#
# <details><summary>Hint 1</summary>
#
# The stride first: `x[:, :, ::stride, ::stride]` holds the pixels a strided 1 × 1
# convolution reads.
# </details>
# <details><summary>Hint 2</summary>
#
# `transpose(0, 2, 3, 1)` moves the channels last; then `reshape(-1, C_in)` makes one row
# per pixel. A reshape without the transpose mixes pixels and channels.
# </details>
# <details><summary>Hint 3</summary>
#
# The rows times `weight[:, :, 0, 0].T` give (N·H_out·W_out, C_out). Add the bias, reshape to
# (N, H_out, W_out, C_out), and move the channels back to axis 1.
# </details>

# %%
cnnlib.check("11.7")

# %% [markdown]
# ## Exercise 11.8: `pointwise_conv2d_backward`
#
# Return `(dx, dweight, dbias)`: dx of x's shape, dweight of the weight's shape
# (C_out, C_in, 1, 1), dbias None when the forward had no bias.
#
# <details><summary>Hint 1</summary>
#
# Build the rows of x as in the forward, and the rows of `dout` in the same pixel order
# (`dout.transpose(0, 2, 3, 1).reshape(-1, C_out)`): from there it is `linear_backward`'s
# three products.
# </details>
# <details><summary>Hint 2</summary>
#
# For dx, start from zeros of x's shape (channels-last, (N, H, W, C_in), is convenient)
# and write the product's rows into the pixels the forward read, `[:, ::stride, ::stride]`.
# </details>

# %%
cnnlib.check("11.8")

# %% [markdown]
# A projection from 16 to 32 channels at stride 2, both ways: your function, and chapter
# 02's `conv2d_forward` with the 1 × 1 kernel.

# %%
rng = np.random.default_rng(4)
x = rng.standard_normal((8, 16, 14, 14)).astype(np.float32)
w = (rng.standard_normal((32, 16, 1, 1)) / 4).astype(np.float32)
out, cache = ops.pointwise_conv2d_forward(x, w, None, 2)
conv_out, conv_cache = ops.conv2d_forward(x, w, None, 2, 0)
dout = rng.standard_normal(out.shape).astype(np.float32)
dx, dweight, _ = ops.pointwise_conv2d_backward(dout, cache)
conv_dx, conv_dweight, _ = ops.conv2d_backward(dout, conv_cache)
print(out.shape, "the same as conv2d_forward's:", np.allclose(out, conv_out, atol=1e-5))
print("dx and dweight the same as conv2d_backward's:",
      np.allclose(dx, conv_dx, atol=1e-5) and np.allclose(dweight, conv_dweight, atol=1e-4))
print("largest gradient at a pixel the stride skipped:", f"{np.abs(dx[:, :, 1::2]).max():.1f}",
      f"{np.abs(dx[:, :, :, 1::2]).max():.1f}")
assert np.allclose(out, conv_out, atol=1e-5) and np.allclose(dx, conv_dx, atol=1e-5)
assert np.allclose(dweight, conv_dweight, atol=1e-4) and not dx[:, :, 1::2].any() and not dx[:, :, :, 1::2].any()

# %% [markdown]
# The library's `ResidualBlock` calls your functions with its own layers: 11.5 and 11.6 at
# the join and the fork, and on a projection shortcut a `PointwiseConv2d` layer, which runs
# your 11.7 and 11.8 (with the reference solutions it gives a 1 × 1 `Conv2d`'s numbers to
# the last bit). Its branch and its shortcut are lists of layers, run forwards and
# backwards as a `Sequential` would. `resnet_small` stacks them: a 3 × 3 stem, stages of blocks (each stage after the
# first starts with a stride-2 block and a projection), global average pooling and a
# linear layer. `residual=False` builds the *plain* twin, the same layers without the
# shortcuts.

# %%
print(resnet_small(seed=0).summary((1, 28, 28)))
print(ResidualBlock(16, 32, stride=2, rng=0).params.keys())
print(ResidualBlock(16, 32, stride=2, rng=0).shortcut)

# %% [markdown]
# ## Plain against residual, at growing depth
#
# Three depths, both kinds: networks of two stages (8 and 16 channels) with 1, 3 or 8
# blocks per stage, that is 5, 13 or 33 convolutions of 3 × 3, all with batch norm and He
# initialization. The digits are averaged down to 14 × 14 (a quarter of the work, the same
# digits), 1,500 to train on and 500 held out, and every network trains for 3 epochs of
# SGD with momentum 0.9 and rate 0.1, batch size 32, from the same seed.
#
# Before training, one forward and backward pass on 256 digits (through
# `diagnostics.layer_statistics`, chapter 10) fills every layer's gradient; the norm
# $\lVert \partial L / \partial W \rVert$ of each 3 × 3 convolution says how much the loss can reach
# it. A small callback records the loss of every step. This cell takes a minute or two.
#
# Before you run it, **predict**: which of the six trains worst?

# %% tags=["nbval-ignore-output"]
from cnnlib import threads

# A 33-layer plain network amplifies the last bits of rounding, and OpenBLAS rounds differently on
# one thread and on two: one thread (cnnlib/threads.py), for the same numbers at every run.
threads.set_threads(1)
small = images.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))  # 2 x 2 averages: 14 x 14 digits
x_train, y_train, x_val, y_val = small[:1500], labels[:1500], small[1500:], labels[1500:]
BLOCKS = {5: 1, 13: 3, 33: 8}  # 3x3 convolutions: the stem + 2 stages x blocks x 2


class StepLosses(Callback):
    """The loss of every training step."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, trainer, step, logs):
        self.losses.append(logs["loss"])


def conv_gradient_norms(model) -> np.ndarray:
    """|dL/dW| of every 3x3 convolution, input side first, after one forward and backward pass."""
    diagnostics.layer_statistics(model, x_train[:256], y_train[:256])
    return np.array([np.linalg.norm(layer.grads[key]) for _, layer, key in model.parameter_slots()
                     if isinstance(layer, Conv2d) and layer.kernel_size == (3, 3) and key == "weight"])


runs = {}
for convs, blocks in BLOCKS.items():
    for kind in ("plain", "residual"):
        model = resnet_small(input_size=14, widths=(8, 16), blocks_per_stage=blocks, residual=kind == "residual",
                             seed=0)
        norms = conv_gradient_norms(model)
        steps = StepLosses()
        trainer = Trainer(model, SGD(model, lr=0.1, momentum=0.9), callbacks=[steps], rng=0)
        history = trainer.fit(x_train, y_train, epochs=3, batch_size=32, verbose=False)
        runs[kind, convs] = {"norms": norms, "steps": np.array(steps.losses), "loss": history.rows[-1]["loss"],
                             "accuracy": trainer.evaluate(x_val, y_val)["accuracy"]}
        assert len(norms) == convs

print(f"{'network':14}{'|dW| first/last':>16}{'largest/smallest':>18}{'first 10 steps':>16}{'last epoch':>12}"
      f"{'held out':>10}")
for (kind, convs), r in runs.items():
    norms = r["norms"]
    print(f"{kind + ' ' + str(convs):14}{norms[0] / norms[-1]:16.2f}{norms.max() / norms.min():18.1f}"
          f"{r['steps'][:10].mean():16.2f}{r['loss']:12.2f}{r['accuracy']:10.0%}")

plain, residual = runs["plain", 33], runs["residual", 33]
assert plain["loss"] > 2 * residual["loss"] and residual["accuracy"] > plain["accuracy"] + 0.3
assert 1.4 < plain["loss"] < 1.9 and 0.45 < residual["loss"] < 0.75 and plain["accuracy"] < 0.5 < 0.7 < residual["accuracy"]
assert plain["loss"] > 2 * runs["plain", 5]["loss"], "the deepest plain network trains worse than the shallowest"
assert residual["loss"] < runs["residual", 5]["loss"], "the deepest residual network trains better than the shallowest"
assert all(abs(runs["plain", c]["loss"] - runs["residual", c]["loss"]) < 0.2 for c in (5, 13))
assert 5 < plain["norms"][0] / plain["norms"][-1] < 15 and plain["norms"].max() / plain["norms"].min() > 20
assert all(runs["residual", c]["norms"].max() / runs["residual", c]["norms"].min() < 6 for c in BLOCKS)
assert residual["steps"][:10].mean() > plain["steps"][:10].mean() + 0.3

# %% [markdown]
# The gradient that reaches each convolution, before any training, for the 13- and
# 33-convolution networks (log scale):

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for ax, convs in zip(axes, (13, 33)):
    for kind, color in (("plain", "tab:red"), ("residual", "tab:blue")):
        ax.semilogy(np.arange(1, convs + 1), runs[kind, convs]["norms"], "o-", ms=3, color=color, label=kind)
    ax.set(title=f"{convs} convolutions", xlabel="3x3 convolution (1 = next to the input)")
    ax.set_yticks([0.1, 0.3, 1, 3, 10], ["0.1", "0.3", "1", "3", "10"])
    ax.minorticks_off()
    ax.grid(True, alpha=0.4)
axes[0].set_ylabel("|dL/dW| at initialization")
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# And the training curves, the loss of every step averaged over the last 10 steps:

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
for ax, convs in zip(axes, BLOCKS):
    for kind, color in (("plain", "tab:red"), ("residual", "tab:blue")):
        losses = runs[kind, convs]["steps"]
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
        ax.plot(np.arange(10, len(losses) + 1), smooth, color=color, label=kind)
    ax.set(title=f"{convs} convolutions", xlabel="step")
    ax.grid(True, alpha=0.4)
axes[0].set_ylabel("training loss")
axes[0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# At 5 and 13 convolutions the two kinds train about equally well (their last-epoch
# losses within 0.2 of each other): the shortcuts are not needed yet. At 33 the plain
# network falls far behind on the training set itself: the loss of its last epoch is
# about 1.6 against about 0.6 with shortcuts, and it classifies under half of the
# held-out digits against over 70 % (the table has the exact numbers of this run). The
# residual network at 33 convolutions trains better than at 5; the plain one much worse.
# The extra layers of the plain network are not overfitting: it fits its own training
# digits worse.
#
# The left-hand figure shows one reason. In the 33-layer plain network the gradient grows
# from the output back towards the input, by a factor of 20 or more from the smallest to
# the largest, and about 5 to 15 times larger at the first convolution than at the last:
# batch norm keeps the forward signal steady, not the backward one, so a rate that suits
# the last layers is too large for the first ones. With the shortcuts every convolution
# gets a gradient of about the same size (within a factor of 6, at every depth). The
# residual network starts with a higher loss (its signal grows with every block's
# addition, so its first logits are large) and still falls fastest.
#
# **Try it** (not run here, it takes a few minutes): the same comparison with
# `batch_norm=False`. Predict first what happens to the residual network's signal. With
# an identity shortcut and a branch independent of its input at initialization,
# $\mathrm{Var}(x + F(x)) = \mathrm{Var}(x) + \mathrm{Var}(F(x))$: with He initialization each
# block roughly doubles the variance, and 16 blocks multiply it by tens of thousands.
# Real ResNets keep batch norm, or start each branch at zero (its last batch norm's scale
# at 0, torchvision's `zero_init_residual=True`), so that every block begins as the
# identity.
#
# ## What you have now
#
# - Global average pooling, a head with no parameters that accepts any input size.
# - 1 × 1 convolutions (your `pointwise_conv2d_forward`, chapter 05's linear layer at every
#   pixel, the same as `conv2d_forward` with a 1 × 1 kernel) and depthwise ones: together a
#   3 × 3 layer for about a ninth of the cost.
# - The residual block, and why its backward pass is a sum: the identity path hands the
#   gradient to earlier layers without passing it through any convolution. The library's
#   `ResidualBlock` and `resnet_small` run on your functions.
#
# In PyTorch: `nn.AdaptiveAvgPool2d(1)`, `nn.Conv2d(C, C, 3, groups=C)`,
# `nn.Conv2d(C_in, C_out, 1)` and torchvision's `BasicBlock` are these, and autograd does
# the sum at the fork for you, because a tensor used twice accumulates its gradients.

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **11.q1** How many parameters do `DepthwiseConv2d(64, 3)` followed by `Conv2d(64, 128, 1)` have, both without bias?

# %%
cnnlib.answer("11.q1", None)

# %% [markdown]
# **11.q2** In a block `out = relu(branch(x) + x)`, at a position where `out > 0` and the branch's
# gradient with respect to x is 0 (say its ReLUs are all off there), what is ∂L/∂x: (a) 0,
# (b) ∂L/∂out, (c) 2 ∂L/∂out?

# %%
cnnlib.answer("11.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[11]))
