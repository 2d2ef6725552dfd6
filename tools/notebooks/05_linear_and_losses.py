# %% [markdown]
# # Chapter 05: The linear layer and the losses
#
# The convolutions and pooling layers of chapters 01 to 04 turn an image into feature
# maps. At the top of a classifier those maps are flattened into one long vector per
# image, and a **linear** (fully connected) layer turns that vector into one score per
# class, the **logits**. **Softmax** turns the logits into probabilities, and the
# **cross-entropy** of those probabilities with the true labels is the number that
# training makes small. Its gradient with respect to the logits is where every
# backward pass starts.
#
# This chapter derives all of that, has you write it, and then trains the simplest
# classifier there is, a single linear layer on raw pixels (multinomial logistic
# regression), on real MNIST digits with a loop of a dozen lines.
#
# Exercises:
#
# | id | function | file |
# | --- | --- | --- |
# | 5.1 | `linear_forward` | `cnnlib/linear.py` |
# | 5.2 | `linear_backward` | `cnnlib/linear.py` |
# | 5.3 | `softmax` | `cnnlib/losses.py` |
# | 5.4 | `softmax_cross_entropy` | `cnnlib/losses.py` |
# | 5.5 | `mse_loss` | `cnnlib/losses.py` |

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.data import load_mnist_sample
from cnnlib.gradients import gradient_check
from cnnlib.ops import linear_backward, linear_forward, mse_loss, softmax, softmax_cross_entropy

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## The linear layer
#
# A batch of $N$ inputs with $D$ features each is a matrix $x$ of shape (N, in_features).
# The layer has a weight $W$ of shape (out_features, in_features), the layout of
# PyTorch's `nn.Linear`, and a bias $b$ of shape (out_features,):
#
# $$\text{out}[n, o] = b[o] + \sum_{i} W[o, i]\, x[n, i]
#   \qquad\Longleftrightarrow\qquad \text{out} = x W^\top + b .$$
#
# Row $o$ of $W$ is a *template* with one number per input feature: output $o$ is the
# dot product of the input with that template, plus a bias. For a classifier of
# flattened 28 x 28 digits each row is itself a 28 x 28 picture; at the end of this
# chapter we look at the ten templates a linear classifier learns.
#
# ## Exercise 5.1: `linear_forward` (in `cnnlib/linear.py`)
#
# Return `(out, cache)` with `out = x @ weight.T + bias` (no bias term when `bias is
# None`) and `cache = (x, weight, bias)`, exactly these three, because the reference
# `linear_backward` unpacks them (the grader checks your cache with it). Keep the dtype
# of `x`. The first check is small enough to do by hand:
#
# $$x = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix},\;
#   W = \begin{pmatrix} 1 & -1 \\ 0.5 & 2 \end{pmatrix},\; b = (0.5, -1):\qquad
#   x W^\top + b = \begin{pmatrix} 1 - 2 + 0.5 & 0.5 + 4 - 1 \\ 3 - 4 + 0.5 & 1.5 + 8 - 1 \end{pmatrix}
#   = \begin{pmatrix} -0.5 & 3.5 \\ -0.5 & 8.5 \end{pmatrix}.$$

# %%
cnnlib.check("5.1")

# %%
x = np.array([[1.0, 2.0], [3.0, 4.0]])          # (N, in_features) = (2, 2)
W = np.array([[1.0, -1.0], [0.5, 2.0]])         # (out_features, in_features) = (2, 2)
b = np.array([0.5, -1.0])
out, cache = linear_forward(x, W, b)
print(out)
assert np.allclose(out, [[-0.5, 3.5], [-0.5, 8.5]])

# %% [markdown]
# ## The gradients of the linear layer
#
# Backward receives $G = \partial L / \partial\,\text{out}$, of shape (N, out_features),
# and returns the gradients of the loss $L$ with respect to $x$, $W$ and $b$. Each entry
# of the output depends on the inputs through $\text{out}[n, o] = b[o] + \sum_i W[o, i]
# x[n, i]$, so the chain rule sums over every output the variable influences:
#
# $$\frac{\partial L}{\partial x[n, i]} = \sum_{o} \frac{\partial L}{\partial\,\text{out}[n, o]}
#   \frac{\partial\,\text{out}[n, o]}{\partial x[n, i]} = \sum_{o} G[n, o]\, W[o, i]
#   \qquad\Longrightarrow\qquad dx = G\, W,$$
#
# $$\frac{\partial L}{\partial W[o, i]} = \sum_{n} G[n, o]\, x[n, i]
#   \qquad\Longrightarrow\qquad dW = G^\top x,$$
#
# $$\frac{\partial L}{\partial b[o]} = \sum_{n} G[n, o]
#   \qquad\Longrightarrow\qquad db = \textstyle\sum_n G[n, :]\quad\text{(a sum over the batch)}.$$
#
# $x[n, i]$ influences only row $n$ of the output, but through every column $o$: a sum
# over $o$. $W[o, i]$ and $b[o]$ are shared by all $N$ examples, so their gradients
# *add up* the contributions of the whole batch: a sum over $n$, not a mean (the mean
# is already inside $G$ when the loss is a mean, as ours will be).
#
# A useful habit: **every gradient has the shape of its variable**, and here there is
# only one way to multiply the matrices to get it. $dx$ must be (N, in) from $G$ (N, out)
# and $W$ (out, in): $G W$. $dW$ must be (out, in) from $G$ and $x$ (N, in): $G^\top x$.
#
# ## Exercise 5.2: `linear_backward` (in `cnnlib/linear.py`)
#
# Return `(dx, dweight, dbias)`, with `dbias = None` when the forward had no bias. With
# the 2 x 2 case above and $G = \begin{pmatrix} 1 & 0 \\ 2 & 1 \end{pmatrix}$:
# $dx = G W = \begin{pmatrix} 1 & -1 \\ 2.5 & 0 \end{pmatrix}$,
# $dW = G^\top x = \begin{pmatrix} 7 & 10 \\ 3 & 4 \end{pmatrix}$,
# $db = (3, 1)$.

# %%
cnnlib.check("5.2")

# %%
dx, dW, db = linear_backward(np.array([[1.0, 0.0], [2.0, 1.0]]), cache)
print("dx\n", dx, "\ndweight\n", dW, "\ndbias", db)
assert np.allclose(dW, [[7, 10], [3, 4]]) and np.allclose(db, [3, 1])

# %% [markdown]
# And the test that needs no pencil: chapter 03's `gradient_check` compares each
# gradient with centred finite differences, on random float64 inputs (a flattened
# batch of 4 vectors of 50 features, 10 outputs). It runs your `numerical_gradient`
# (exercise 3.1); if that is not written yet, `cnnlib.use_solutions("3.1")` lends you
# the reference one.

# %% tags=["nbval-ignore-output"]
rng = np.random.default_rng(0)
errors = gradient_check(linear_forward, linear_backward,
                        (rng.standard_normal((4, 50)), rng.standard_normal((10, 50)), rng.standard_normal(10)))
assert max(errors.values()) < 1e-7, errors

# %% [markdown]
# ## Softmax: from scores to probabilities
#
# A row of $K$ logits $z_1, \dots, z_K$ becomes a probability distribution by
#
# $$p_k = \operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=1}^{K} e^{z_j}} .$$
#
# Every $p_k$ is positive, they sum to 1, and the order of the logits is kept: the
# largest logit gets the largest probability ("soft" arg-max). Two properties matter for
# what follows:
#
# - **Shifting a row changes nothing**: $\frac{e^{z_k + c}}{\sum_j e^{z_j + c}} =
#   \frac{e^c e^{z_k}}{e^c \sum_j e^{z_j}} = p_k$ for any constant $c$.
# - **Scaling does**: dividing the logits by a *temperature* $T$ makes the
#   distribution sharper ($T < 1$, towards a one-hot arg-max) or flatter ($T > 1$,
#   towards uniform). Only the differences between logits count, and scaling them up
#   makes the largest one dominate.
#
# ## Exercise 5.3: `softmax` (in `cnnlib/losses.py`)
#
# Softmax of each row of an (N, K) array, in the dtype of the input, and **finite for
# any finite logits**. Why that needs care is shown right after the check.

# %%
cnnlib.check("5.3")

# %%
logits = np.array([[1.0, -0.5, 3.0, 0.2, -1.0, 0.5, -2.0, 2.2, 0.0, -0.3]])   # (1, 10): a "2" that looks like a "7"
temperatures = [0.25, 1.0, 4.0]
fig, axes = plt.subplots(1, len(temperatures), figsize=(12, 3), sharey=True)
for ax, T in zip(axes, temperatures):
    p = softmax(logits / T)[0]
    ax.bar(np.arange(10), p, color=["tab:red" if k == p.argmax() else "tab:blue" for k in range(10)])
    ax.set_xticks(range(10))
    ax.set_xlabel("class")
    ax.set_title(f"softmax(logits / {T:g}): max p = {p.max():.3f}")
axes[0].set_ylabel("probability")
plt.show()

sharp, plain, flat = (softmax(logits / T)[0] for T in temperatures)
print("T = 1:", plain)
assert np.isclose(plain.sum(), 1.0) and sharp.max() > 0.9 and flat.max() < 0.25
assert np.allclose(softmax(logits + 100.0), plain), "shifting the logits must not change softmax"

# %% [markdown]
# At $T = 1$ class 2 gets 0.53 and class 7 (logit 2.2) 0.24. At $T = 0.25$ the
# differences are four times larger and class 2 takes almost everything; at $T = 4$
# the distribution is nearly flat.
#
# ## Why the maximum is subtracted
#
# $e^{z}$ overflows quickly: the largest float64 is about $1.8 \times 10^{308} = e^{709.8}$,
# and the largest float32 only about $3.4 \times 10^{38} = e^{88.7}$. Logits of a few
# hundred are not unusual in a network that is badly initialised or diverging. Then
# $e^{z}$ is `inf`, and `inf / inf` is `nan`. Very negative logits fail the other way:
# every $e^{z_j}$ underflows to 0 and $0 / 0$ is `nan` too.
#
# The cure is the shift invariance above with $c = -\max_j z_j$: after subtracting each
# row's own maximum, every exponent is $\le 0$ (no overflow) and the largest term of the
# sum is $e^0 = 1$ (the sum cannot underflow to 0). Same probabilities, always finite.

# %%
def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


big = np.array([[1000.0, 999.0, 998.0],          # exp overflows: inf / inf
                [-1000.0, -1001.0, -1002.0],     # exp underflows: 0 / 0
                [2.0, 1.0, 0.0]])                # harmless
with np.errstate(over="ignore", invalid="ignore"):   # the overflow is the point here: no warnings
    naive = naive_softmax(big)
stable = softmax(big)
print("naive:\n", naive)
print("stable:\n", stable)
assert np.isnan(naive[:2]).all() and np.isfinite(stable).all()
assert np.allclose(stable, stable[2]), "the three rows differ by a shift only"

with np.errstate(over="ignore", invalid="ignore"):
    naive32 = naive_softmax(np.array([[100.0, 90.0, 80.0]], dtype=np.float32))
print("float32 logits of 100, naive:", naive32, "  stable:", softmax(np.array([[100.0, 90.0, 80.0]], np.float32)))
assert np.isnan(naive32).any()

# %% [markdown]
# All three rows are the same distribution, shifted; the naive formula gets only the
# last one. In float32, the dtype networks train in, logits of 100 are already too
# much for it.
#
# ## Cross-entropy, and its famous gradient
#
# For an example with true class $y$ the network should give $p_y$ close to 1. The
# **cross-entropy** loss is the negative log-likelihood of the true class,
#
# $$\ell = -\log p_y = -z_y + \log \sum_{j} e^{z_j},$$
#
# 0 for a certain, correct prediction and large when $p_y$ is small. Over a batch we use
# the mean, as PyTorch's `F.cross_entropy` does: $L = \frac{1}{N}\sum_n \ell_n$.
#
# **The gradient.** Differentiate the right-hand form with respect to $z_k$:
#
# $$\frac{\partial \ell}{\partial z_k} = -[k = y] + \frac{e^{z_k}}{\sum_j e^{z_j}}
#   = p_k - [k = y],$$
#
# where $[k = y]$ is 1 for the true class and 0 otherwise: the one-hot label
# $Y_k$. The same result through the softmax Jacobian
# $\partial p_y / \partial z_k = p_y([k = y] - p_k)$:
# $\frac{\partial \ell}{\partial z_k} = -\frac{1}{p_y}\, p_y([k = y] - p_k) = p_k - [k = y]$.
# For the batch mean, each row gets a factor $1/N$:
#
# $$\frac{\partial L}{\partial z[n, k]} = \frac{p[n, k] - Y[n, k]}{N},
#   \qquad\text{i.e.}\qquad dlogits = \frac{\operatorname{softmax}(z) - Y}{N} .$$
#
# Predicted minus true, the simplest gradient imaginable: the true class's logit is
# pushed up by $1 - p_y$, every other logit down by its probability. It never vanishes
# while the prediction is wrong (compare MSE below).
#
# **Stable evaluation.** $\log p_y$ computed as `np.log(softmax(z)[y])` fails when $p_y$
# underflows to 0 (a confident, wrong prediction: exactly when the loss matters). Use the
# right-hand form with the maximum $m$ subtracted, the **log-sum-exp** trick:
#
# $$\ell = -(z_y - m) + \log \sum_j e^{z_j - m}, \qquad m = \max_j z_j .$$
#
# ## Exercise 5.4: `softmax_cross_entropy` (in `cnnlib/losses.py`)
#
# Return `(loss, dlogits)`: the mean loss as a Python `float` and the gradient above, in
# the dtype of the logits. Labels are integer class indices (the stub's first lines
# reject floats and values outside $0 \dots K-1$). Each row needs one entry of its own, the
# logit of its label; `z[:, labels]` would pick whole columns (exercise 0.2, `one_hot`,
# picked one entry per row too). The hand-computed
# check uses logits $\log(1, 2, 5)$ and $\log(1, 1, 2)$, whose softmax rows are
# $(1/8, 2/8, 5/8)$ and $(1/4, 1/4, 2/4)$, with labels 2 and 0:
# $L = \frac{1}{2}(-\log\frac{5}{8} - \log\frac{1}{4}) = 0.9281$.

# %%
cnnlib.check("5.4")

# %%
loss, dlogits = softmax_cross_entropy(np.log(np.array([[1.0, 2.0, 5.0], [1.0, 1.0, 2.0]])), np.array([2, 0]))
print(f"loss = {loss:.4f}\ndlogits =\n{dlogits}")
assert abs(loss - 0.928149) < 1e-6

# %% [markdown]
# Each row of the gradient sums to 0 (probabilities sum to 1, and so does the one-hot
# row), and only the true class's entry is negative.
#
# A check worth remembering when you train a network: with random initial weights the
# logits are small, softmax is close to uniform, and the loss is close to
# $-\log(1/K) = \log K$, which is 2.303 for 10 classes. A first loss far from that means
# a bug or a bad initialisation.

# %%
rng = np.random.default_rng(1)
small_logits = 0.01 * rng.standard_normal((256, 10))
labels10 = rng.integers(0, 10, 256)
loss0, _ = softmax_cross_entropy(small_logits, labels10)
print(f"loss of near-zero logits: {loss0:.3f}   log(10) = {np.log(10):.3f}")
assert abs(loss0 - np.log(10)) < 0.01

huge_loss, huge_grad = softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([2]))
print(f"a confident wrong prediction: loss = {huge_loss:.1f}, dlogits = {huge_grad[0]}")
assert np.isclose(huge_loss, 2000.0) and np.isfinite(huge_grad).all()

# %% [markdown]
# A loss is a function with one output, so the same `gradient_check` works on it: the
# "forward" returns the loss and, as its cache, the gradient; the "backward" scales
# that gradient by the upstream gradient $\partial(\text{anything})/\partial L$, which
# is 1 at the top of a network.

# %% tags=["nbval-ignore-output"]
def ce_forward(logits):
    return softmax_cross_entropy(logits, labels10[:6])      # (loss, dlogits): dlogits is the cache


def ce_backward(dloss, dlogits):
    return dloss * dlogits


errors = gradient_check(ce_forward, ce_backward, (rng.standard_normal((6, 10)),))
assert errors["dlogits"] < 1e-7, errors

# %% [markdown]
# ## Mean squared error
#
# For regression (predicting numbers, not classes) the usual loss is the mean squared
# error over **all** $M$ elements of the prediction, as PyTorch's `F.mse_loss` computes it
# by default:
#
# $$L = \frac{1}{M} \sum_{m} (\hat{y}_m - y_m)^2,
#   \qquad \frac{\partial L}{\partial \hat{y}_m} = \frac{2\,(\hat{y}_m - y_m)}{M} .$$
#
# For an (N, D) prediction $M = N D$: dividing by $N$ alone gives a loss $D$ times larger
# (and a gradient to match), a common source of "why does my learning rate behave
# differently from PyTorch's?".
#
# ## Exercise 5.5: `mse_loss` (in `cnnlib/losses.py`)
#
# Return `(loss, dpred)`, the loss as a `float`, the gradient in the dtype of `pred`.
# Hand case: $\hat y = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}$,
# $y = \begin{pmatrix} 0 & 2 \\ 5 & 1 \end{pmatrix}$: the differences are $1, 0, -2, 3$,
# $L = (1 + 0 + 4 + 9)/4 = 3.5$ and $d\hat y = \frac{2}{4}(1, 0, -2, 3)$.

# %%
cnnlib.check("5.5")

# %% [markdown]
# ### Why classifiers use cross-entropy, not MSE on probabilities
#
# One could train a classifier with the MSE between its softmax probabilities and the
# one-hot labels. Take two classes with logits $(z, 0)$, the true class being the first:
# $p_1 = 1 / (1 + e^{-z})$. The plot shows both losses and the gradient each sends to $z$
# (for MSE, through softmax's backward, $dz = p \odot (dp - \sum_k dp_k\, p_k)$). When the
# prediction is confidently **wrong** ($z \ll 0$), the cross-entropy gradient tends to
# $-1$, a strong push, while the MSE gradient tends to 0: a saturated softmax barely
# learns from its worst mistakes.

# %%
z = np.linspace(-8, 8, 161)
two_class = np.stack([z, np.zeros_like(z)], axis=1)                   # (161, 2) logits (z, 0)
labels0 = np.zeros(len(z), dtype=np.int64)                            # the true class is 0
ce_loss, ce_grad = zip(*(softmax_cross_entropy(row[None], labels0[:1]) for row in two_class))
mse_curve, mse_grad = [], []
for row in two_class:
    p = softmax(row[None])                                            # (1, 2)
    loss_m, dp = mse_loss(p, np.array([[1.0, 0.0]]))
    dz = p * (dp - (dp * p).sum(axis=1, keepdims=True))               # softmax backward
    mse_curve.append(loss_m)
    mse_grad.append(dz[0, 0])
ce_grad = np.array([g[0, 0] for g in ce_grad])

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
ax1.plot(z, ce_loss, label="cross-entropy  $-\\log p_1$")
ax1.plot(z, mse_curve, label="MSE of (p, one-hot)")
ax1.set_xlabel("logit margin z of the true class")
ax1.set_title("loss")
ax1.legend()
ax2.plot(z, ce_grad, label="cross-entropy")
ax2.plot(z, mse_grad, label="MSE through softmax")
ax2.axhline(0, color="gray", linewidth=0.5)
ax2.set_xlabel("logit margin z of the true class")
ax2.set_title("gradient with respect to z")
ax2.legend()
plt.show()

print(f"at z = -8: cross-entropy gradient {ce_grad[0]:.4f}, MSE gradient {mse_grad[0]:.6f}")
assert ce_grad[0] < -0.99 and abs(mse_grad[0]) < 1e-3

# %% [markdown]
# ## A linear classifier on real digits
#
# Everything so far is enough to train a classifier: a linear layer from the 784 pixels
# of a digit to 10 logits, softmax cross-entropy, and gradient descent,
# $W \leftarrow W - \eta\, \partial L / \partial W$ (chapter 06 improves on that update).
# This is multinomial logistic regression. We use the 2,000 MNIST digits shipped with
# `cnnlib`: 1,500 to train on, 500 held out to measure accuracy on digits the model has
# never seen. Each step takes a random minibatch of 100 training digits.

# %%
images, labels = load_mnist_sample()                    # (2000, 1, 28, 28) float32 in [0, 1], (2000,) int64
rng = np.random.default_rng(0)
order = rng.permutation(len(labels))
flat = images.reshape(len(images), -1)[order]           # (2000, 784): flatten each digit into a row
x_train, y_train, x_test, y_test = flat[:1500], labels[order][:1500], flat[1500:], labels[order][1500:]

weight = np.zeros((10, 784), dtype=np.float32)          # (out_features, in_features)
bias = np.zeros(10, dtype=np.float32)
lr, steps, batch = 0.5, 300, 100
history = []
for step in range(steps):
    idx = rng.choice(len(x_train), batch, replace=False)
    logits_b, cache_b = linear_forward(x_train[idx], weight, bias)
    loss_b, dlogits_b = softmax_cross_entropy(logits_b, y_train[idx])
    _, dweight, dbias = linear_backward(dlogits_b, cache_b)
    weight = weight - lr * dweight                      # gradient descent: new arrays, float32 kept
    bias = bias - lr * dbias
    if step % 10 == 0 or step == steps - 1:
        test_acc = float((linear_forward(x_test, weight, bias)[0].argmax(axis=1) == y_test).mean())
        history.append((step, loss_b, test_acc))

train_acc = float((linear_forward(x_train, weight, bias)[0].argmax(axis=1) == y_train).mean())
print(f"first loss {history[0][1]:.3f} (log 10 = 2.303), weight dtype {weight.dtype}")
assert abs(history[0][1] - np.log(10)) < 1e-3, "zero weights give uniform probabilities"

# %% tags=["nbval-ignore-output"]
print(f"after {steps} steps: minibatch loss {history[-1][1]:.3f}, "
      f"train accuracy {train_acc:.3f}, test accuracy {history[-1][2]:.3f}")
assert history[-1][2] > 0.85 and train_acc > 0.9

# %% [markdown]
# Close to 90 % of the held-out digits are classified correctly by one matrix
# multiplication: not bad, and far from the 99 % a CNN reaches in chapter 08.

# %%
steps_seen, losses_seen, accs_seen = zip(*history)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2))
ax1.plot(steps_seen, losses_seen)
ax1.set_xlabel("step")
ax1.set_ylabel("minibatch cross-entropy")
ax1.axhline(np.log(10), color="gray", linestyle=":", label="log 10 (uniform guess)")
ax1.legend()
ax2.plot(steps_seen, accs_seen, color="tab:green")
ax2.set_xlabel("step")
ax2.set_ylabel("test accuracy (500 digits)")
ax2.set_ylim(0, 1)
plt.show()

# %% [markdown]
# ## What the classifier learned
#
# Row $o$ of the weight is the template of digit $o$: a test digit's logit for class
# $o$ is its dot product with that template. Drawn as 28 x 28 images (red positive,
# blue negative), each template rewards ink where its digit usually has strokes and
# penalises ink where other digits have them and its own does not: the "0" has a blue
# hole in the middle, the "1" a red vertical bar flanked by blue.

# %%
templates = weight.reshape(10, 28, 28)
lim = np.abs(templates).max()
fig, axes = plt.subplots(2, 5, figsize=(11, 4.6))
for digit_class, ax in enumerate(axes.flat):
    ax.imshow(templates[digit_class], cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(f"class {digit_class}")
    ax.axis("off")
fig.suptitle("The rows of the learned weight, reshaped to 28 x 28 (red > 0, blue < 0)")
plt.show()

centre_of_zero = templates[0, 11:17, 11:17].mean()
print(f"mean weight of class 0 in the centre of the image: {centre_of_zero:.3f}")
assert centre_of_zero < 0, "a 0 has no ink in the middle"

# %% [markdown]
# A single template per class cannot capture the many ways a digit is written (a 7 with
# or without a bar, a slanted 1), which is where the linear classifier stops. Networks
# with hidden layers, and convolutions that look for local strokes wherever they are,
# go much further.
#
# ## Summary
#
# - Linear layer: $\text{out} = x W^\top + b$ with $W$ (out_features, in_features);
#   backward $dx = G W$, $dW = G^\top x$, $db = \sum_n G[n]$: every gradient has the
#   shape of its variable, and shared parameters sum over the batch.
# - Softmax is invariant to shifting a row: subtract the row maximum and it never
#   overflows.
# - Cross-entropy $-\log p_y$, computed with log-sum-exp; its gradient with respect to
#   the logits is $(\operatorname{softmax}(z) - Y)/N$.
# - MSE averages over all elements: $dL/d\hat y = 2(\hat y - y)/M$.
# - A linear classifier trained with these pieces reaches close to 90 % on MNIST.
#
# Chapter 06 replaces the plain update $W \leftarrow W - \eta\, dW$ with momentum, Adam
# and learning-rate schedules. Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[5]))

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **5.q1** How many parameters does `Linear(3136, 128)` have, bias included?

# %%
cnnlib.answer("5.q1", None)

# %% [markdown]
# **5.q2** Sum the gradient of `softmax_cross_entropy` with respect to one sample's logits over its classes (multiply by N first, to undo the mean). What do you get, whatever the logits?

# %%
cnnlib.answer("5.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[5]))
