# %% [markdown]
# # Chapter 10: Initialization and debugging a network
#
# Chapter 08 trained a CNN to 99 % and it just worked. It worked because of choices that
# were made for you: the scale of the initial weights (`init="he"`), a learning rate that
# was known to be good, and layers whose backward passes had been checked one by one. This
# chapter is about what to do when you make those choices yourself, and when a network
# does *not* just work:
#
# 1. **Initialization.** Follow the variance of the signal through one linear layer and
#    one ReLU, and the right scale of the weights falls out: He (Kaiming) initialization.
#    Then watch a ten-layer network whose signal vanishes or explodes at the wrong scale
#    and stays steady at the right one.
# 2. **Debugging**, as a sequence of checks that each catch a different kind of bug: the
#    loss at initialization, overfitting a tiny batch, a gradient check of the *whole*
#    network, a learning-rate range test, and statistics of every layer.
#
# Exercises, in `cnnlib/initialization.py` and `cnnlib/debugging.py`:
#
# | id | function | what |
# | --- | --- | --- |
# | 10.1 | `fan_in_and_fan_out` | the fans of a linear or convolution weight |
# | 10.2 | `kaiming_normal` | He initialization, as `torch.nn.init.kaiming_normal_` |
# | 10.3 | `xavier_uniform` | Glorot initialization, as `torch.nn.init.xavier_uniform_` |
# | 10.4 | `network_gradient_errors` | a whole network's backward pass against finite differences |
#
# The hints are folded away: open one only when you are stuck, and the first one first.

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import math

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib import diagnostics, ops, widgets
from cnnlib.data import load_mnist_sample
from cnnlib.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from cnnlib.models import lenet
from cnnlib.optim import SGD, Adam
from cnnlib.trainer import Trainer, TrainingDiverged

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())
images, labels = load_mnist_sample()  # 2,000 real digits, shipped with the course
print(images.shape, labels.shape)

# %% [markdown]
# ## How the variance of a signal moves through a layer
#
# Take one linear layer, $y_i = \sum_{j=1}^{n} W_{ij}\, x_j$, with $n$ inputs (its
# **fan-in**). At initialization the weights are independent random numbers with mean 0
# and variance $\sigma^2$, independent of the inputs. Each term $W_{ij} x_j$ then has mean
# 0 and variance $\mathrm{E}[W_{ij}^2]\,\mathrm{E}[x_j^2] = \sigma^2\, \mathrm{E}[x^2]$, and
# variances of independent terms add:
#
# $$\mathrm{Var}(y_i) = n\, \sigma^2\, \mathrm{E}[x^2] .$$
#
# Note $\mathrm{E}[x^2]$, not $\mathrm{Var}(x)$: the inputs need not have mean 0, and after a
# ReLU they do not. Now let $x = \mathrm{ReLU}(z)$, where $z$ is the previous layer's output:
# symmetric around 0, so half of its mass is cut to 0 and the other half kept. Work out
# $\mathrm{E}[\mathrm{ReLU}(z)^2]$ in terms of $\mathrm{Var}(z)$ yourself before you read on.
#
# <details><summary>The step</summary>
#
# $\mathrm{E}[\mathrm{ReLU}(z)^2] = \mathrm{E}[z^2 \mathbb{1}_{z > 0}] = \tfrac12 \mathrm{E}[z^2] =
# \tfrac12 \mathrm{Var}(z)$, by symmetry (the positive half carries half of $\mathrm{E}[z^2]$).
# </details>
#
# From one layer's pre-activation to the next one's, then,
#
# $$\mathrm{Var}(z^{(l+1)}) = \tfrac12\, n_l\, \sigma_l^2\, \mathrm{Var}(z^{(l)}) ,$$
#
# and after $L$ layers the variance is multiplied by $\prod_l \tfrac12 n_l \sigma_l^2$. A
# product of $L$ factors slightly below 1 vanishes and one of factors slightly above 1
# explodes; the one choice that keeps the signal steady at every depth is a factor of
# exactly 1:
#
# $$\sigma^2 = \frac{2}{n_{\text{in}}}, \qquad \sigma = \frac{\text{gain}}{\sqrt{\text{fan\_in}}}
#   \text{ with gain } \sqrt 2 .$$
#
# This is **He initialization** (He et al., 2015). The **gain** undoes what the
# nonlinearity takes away. Derive it for a leaky ReLU with slope $a$ on the negative side
# (exercise 10.2 needs it), and for no nonlinearity at all ("linear").
#
# The backward pass has the same structure with the roles swapped: each input gradient
# $\partial L / \partial x_j = \sum_i W_{ij}\, \partial L / \partial y_i$ sums over the $n_{\text{out}}$
# outputs that $x_j$ feeds (its **fan-out**), so dividing by fan-out instead keeps the
# gradients steady (`mode="fan_out"`). Glorot and Bengio (2010), for networks that are
# linear around 0 (tanh), split the difference: $\sigma^2 = 2 / (n_{\text{in}} + n_{\text{out}})$,
# usually drawn uniformly on $[-b, b]$, a distribution whose variance is $b^2 / 3$.
#
# ## Exercise 10.1: `fan_in_and_fan_out` (in `cnnlib/initialization.py`)
#
# A linear weight has shape (out, in). A convolution weight has shape
# (C_out, C_in, kH, kW): how many inputs is each output value a weighted sum of? Count
# the fans as PyTorch does, where the input's height and width do not enter.
#
# <details><summary>Hint 1</summary>
#
# One output value of a convolution sees a kH × kW window of every input channel.
# </details>
# <details><summary>Hint 2</summary>
#
# Everything after the first two axes is the kernel: call the product of those axes the
# receptive field; both fans are multiplied by it.
# </details>

# %%
cnnlib.check("10.1")

# %%
for shape in [(10, 784), (32, 1, 3, 3), (64, 32, 3, 3), (128, 3136)]:
    print(f"{str(shape):16} fan_in, fan_out = {ops.fan_in_and_fan_out(shape)}")

# %% [markdown]
# ## Exercise 10.2: `kaiming_normal`
#
# Normal weights with mean 0 and standard deviation gain / √fan, where fan is fan-in or
# fan-out by `mode`, and the gain is the one you derived for `nonlinearity` ("relu",
# "leaky_relu" with slope `a`, "linear"). PyTorch's default is `"leaky_relu"` with `a=0`,
# which is ReLU. Draw from `rng` only, so that the same seed gives the same weights.
#
# The grader measures your weights: over 300,000 draws their standard deviation is known
# to about 0.1 %, so a gain that is off by a few percent shows.
#
# <details><summary>Hint 1</summary>
#
# With a leaky ReLU the negative half is multiplied by $a$, so its share of
# $\mathrm{E}[z^2]$ is multiplied by $a^2$.
# </details>
# <details><summary>Hint 2</summary>
#
# The standard deviation is the square root of the variance you derived; `rng.normal`
# takes the standard deviation.
# </details>

# %%
cnnlib.check("10.2")

# %% [markdown]
# ## Exercise 10.3: `xavier_uniform`
#
# Uniform weights on $[-b, b]$ with variance $\text{gain}^2 \cdot 2 / (\text{fan\_in} +
# \text{fan\_out})$. Find $b$.
#
# <details><summary>Hint</summary>
#
# A uniform distribution on $[-b, b]$ has variance $b^2/3$: set that equal to the variance
# you want.
# </details>

# %%
cnnlib.check("10.3")

# %% [markdown]
# ## Ten layers deep
#
# A plain network of ten linear layers of 256 units, each followed by a ReLU, and 500
# digits. Four ways to draw its weights: normal with std 0.01 (a common choice in early
# code), Glorot, He, and normal with std 0.2. The histograms show each layer's
# pre-activations $z$, every row on the x range of its own first layer.
#
# Before you run it, **predict** from the formula above: with std 0.01 and 256 inputs, by
# what factor does the standard deviation shrink from one layer to the next? And with 0.2?
#
# <details><summary>Answer</summary>
#
# $\sqrt{\tfrac12 \cdot 256 \cdot 0.01^2} = 0.113$ and $\sqrt{\tfrac12 \cdot 256 \cdot 0.2^2} =
# 2.26$. Glorot gives $\sqrt{\tfrac12 \cdot 256 \cdot 2/512} = 0.707$: correct for tanh, too
# small for ReLU.
# </details>

# %%
draws = diagnostics.WEIGHT_DRAWS  # std 0.01, Glorot and He (your 10.2 and 10.3, through cnnlib.ops), std 0.2
x = images[:500].reshape(500, -1).astype(np.float64)
pre = {name: diagnostics.layer_outputs(diagnostics.plain_network(draw, depth=10), x)[0::2]  # each Linear's z
       for name, draw in draws.items()}
for name, zs in pre.items():
    stds = [z.std() for z in zs]
    factor = (stds[-1] / stds[1]) ** (1 / 8)  # per layer, from layer 2 on (layer 1 sees pixels, not ReLUs)
    print(f"{name:9} std of z in layer 1: {stds[0]:9.2e}, layer 10: {stds[-1]:9.2e}, per layer x{factor:.3f}")
assert abs((pre["std 0.01"][-1].std() / pre["std 0.01"][1].std()) ** (1 / 8) - 0.113) < 0.01
assert abs((pre["std 0.2"][-1].std() / pre["std 0.2"][1].std()) ** (1 / 8) - 2.26) < 0.15
assert 0.5 < pre["He"][-1].std() / pre["He"][0].std() < 2, \
    "He does not hold the spread here: your kaiming_normal (10.2) is not right yet; cnnlib.check('10.2') says why"
diagnostics.plot_layer_histograms(pre)
plt.show()

# %% [markdown]
# The measured factors are the predicted ones. With std 0.01 the signal is a millionth of
# its size by layer 7: whatever the input, the last layer sees almost nothing, and its
# gradients (which are scaled by the same factors on the way back) are as small. With std
# 0.2 it grows 2.26 times per layer, to thousands, where a softmax saturates and float32
# soon overflows. He keeps every layer's spread the same, so a network of any depth starts
# out able to learn. Glorot shrinks by 0.71 per layer in a ReLU network: harmless over
# the few layers of LeNet, a problem at twenty.
#
# The widget below builds such a plain network, with a classifier layer at the end, and
# shows the statistics of every layer at the start of training (the fifth check below
# explains each panel). Change the weights, the depth and the activation: with std 0.2
# and tanh, for example, the outputs do not explode (tanh saturates at ±1) but the
# gradient shrinks layer after layer on its way back.

# %% tags=["nbval-ignore-output"]
widgets.layer_statistics_explorer(images[:256], labels[:256])

# %% [markdown]
# If you do not see the widget (the notebook viewed on GitHub, or widgets switched off),
# here is what it shows for its first setting, and the spread of each Linear layer's output:

# %%
state = widgets.layer_statistics_state(images[:256], labels[:256], "He", depth=6)
print(state["title"])
print("std of each Linear's output:", " ".join(f"{r['std']:.2f}" for r in state["rows"][::2]))
assert all(0.2 < r["std"] < 1.0 for r in state["rows"][:-1:2]), "cnnlib.check('10.2') says why He does not hold"
diagnostics.plot_layer_statistics(state["rows"])
plt.show()

# %% [markdown]
# ## Debugging a network: five checks, cheapest first
#
# A bug in a network rarely raises an error: the network trains, a bit worse, and you
# never learn why. These checks each catch a different kind of bug, and the first ones
# take seconds:
#
# 1. the loss at initialization;
# 2. overfitting a tiny batch;
# 3. a gradient check of the whole network;
# 4. a learning-rate range test;
# 5. the statistics of every layer.
#
# ### 1. The loss at initialization
#
# An untrained network should be unsure of every class: its softmax close to uniform, so
# its cross-entropy close to $-\log(1/10) = \log 10 \approx 2.303$. A loss far above that
# means the logits start out large and confidently wrong, which wastes the first part of
# training undoing it (and with a large learning rate can throw it off).

# %%
def initial_loss(model, n=500):
    return ops.softmax_cross_entropy(model.forward(images[:n]), labels[:n])[0]


model = lenet(seed=0, init="he")
print(f"log 10                            {math.log(10):.3f}")
print(f"LeNet, PyTorch's default init     {initial_loss(lenet(seed=0)):.3f}")
print(f"LeNet, He init                    {initial_loss(model):.3f}")
last = model.layers[-1].params["weight"]
last[...] = ops.kaiming_normal(last.shape, np.random.default_rng(1), nonlinearity="linear")
print(f"  ... last layer with gain 1      {initial_loss(model):.3f}")
last *= 0.1
print(f"  ... last layer scaled by 0.1    {initial_loss(model):.3f}")
last *= 100
print(f"  ... last layer scaled by 10     {initial_loss(model):.3f}")
assert abs(initial_loss(lenet(seed=0)) - math.log(10)) < 0.05
assert initial_loss(lenet(seed=0, init="he")) > math.log(10) + 0.2

# %% [markdown]
# He's initialization is for layers followed by a ReLU, and the last layer is not: its
# outputs are the logits. Giving it the gain of "linear" brings the loss closer to log 10;
# scaling it down further (some recipes start it at zero) brings it to log 10 exactly,
# and a too-large last layer starts the loss at several times log 10. Chapter 08's LeNet
# uses PyTorch's default initialization (uniform in $\pm 1/\sqrt{\text{fan\_in}}$, smaller than
# He's) and starts at 2.30.
#
# ### 2. Overfit 50 digits
#
# LeNet has 421,642 parameters: it must be able to memorise 50 examples perfectly. If
# it cannot, something between the data and the update is broken (labels misaligned with
# images, a gradient with the wrong sign, an optimizer that does not step, a learning rate
# off by orders of magnitude), and no amount of data or training will fix it. It takes a
# second:

# %%
model = lenet(seed=0, init="he")
trainer = Trainer(model, Adam(model, lr=1e-3), rng=0)
xb, yb = images[:50], labels[:50]
for step in range(1, 201):
    out, loss = trainer.train_step(xb, yb)
    if (out.argmax(axis=1) == yb).all() and loss < 0.01:
        break
print(f"50 digits memorised after {step} steps: training accuracy 100 %, loss {loss:.4f}")
assert (model.forward(xb).argmax(axis=1) == yb).all() and step < 200

# %% [markdown]
# ### 3. A gradient check of the whole network
#
# In chapter 03 you checked each backward function against finite differences, one at a
# time. A network can still be wrong where the pieces meet: a layer that returns the
# wrong gradient to the layer before it, a parameter whose gradient is never written, a
# cache overwritten by a second forward pass. The whole-network check perturbs every
# parameter entry, reruns the *whole* forward pass and the loss, and compares with what
# backprop said.
#
# ## Exercise 10.4: `network_gradient_errors` (in `cnnlib/debugging.py`)
#
# You get `loss`, a function of no arguments that runs the network on a fixed batch and
# returns the loss at the parameters' current values; `params` and `grads`, two dicts
# of arrays by name (a model's `named_parameters()`, and the gradients its backward
# pass filled in). Return, for every name, the relative error between `grads[name]` and
# the numerical gradient of `loss()` with respect to `params[name]`, using your
# `numerical_gradient` of chapter 03 (as `ops.numerical_gradient`) and `rel_error`.
#
# <details><summary>Hint 1</summary>
#
# `numerical_gradient(f, x, dout, h)` perturbs `x` in place and calls `f(x)`. What must
# `x` be so that `loss()` sees the perturbation, and what is `dout` for a scalar output?
# </details>
# <details><summary>Hint 2</summary>
#
# `loss` takes no argument, and `numerical_gradient` passes one: wrap it in a function that
# ignores its argument.
# </details>

# %%
cnnlib.check("10.4")

# %% [markdown]
# A small CNN, in float64 (the check's errors are about $10^{-10}$ there; in float32
# rounding alone makes them about $10^{-2}$), on four 8×8 crops of digits:

# %%
def small_network(dtype, relu=ReLU):
    return Sequential(Conv2d(1, 3, 3, padding=1, rng=0, dtype=dtype), relu(), MaxPool2d(2), Flatten(),
                      Linear(3 * 4 * 4, 10, rng=1, dtype=dtype))


def check_network(net, dtype):
    xb, yb = images[:4, :, 10:18, 10:18].astype(dtype), labels[:4]
    loss, dout = ops.softmax_cross_entropy(net.forward(xb), yb)
    net.backward(dout)
    grads = {name: layer.grads[key].copy() for name, layer, key in net.parameter_slots()}
    return ops.network_gradient_errors(lambda: ops.softmax_cross_entropy(net.forward(xb), yb)[0],
                                       dict(net.named_parameters()), grads)


def show(errors):
    return "  ".join(f"{name} {err:.0e}" for name, err in errors.items())


errors64 = check_network(small_network(np.float64), np.float64)
errors32 = check_network(small_network(np.float32), np.float32)
print("float64:", show(errors64))
print("float32:", show(errors32))
assert max(errors64.values()) < 1e-7 and min(errors32.values()) > 1e-4, \
    "cnnlib.check('10.4') and the checks of chapters 02-05 say which exercise to look at"

# %% [markdown]
# Now a bug of the kind that only the whole-network check sees: a ReLU layer whose
# backward forgets the mask and passes `dout` straight through. Every layer's own
# backward function is still correct; what is wrong is what one layer hands to the next.
# Which parameters should the check blame: those before the broken layer, or those after
# it? Predict, then run.

# %%
class LeakyGradientReLU(ReLU):
    """A ReLU whose backward forgets the mask (a bug, on purpose)."""

    def backward(self, dout):
        return dout


errors = check_network(small_network(np.float64, relu=LeakyGradientReLU), np.float64)
print("broken ReLU:", show(errors))
assert errors["0.weight"] > 1e-2 and errors["0.bias"] > 1e-2 and errors["4.weight"] < 1e-7

# %% [markdown]
# The gradients of the linear layer after the broken ReLU are still exact: the error
# flows backwards, so it shows in every parameter *before* the bug and in none after it.
# That is how the check localises a bug: the first parameter (going backwards from the
# loss) with a large error sits just before the broken layer.
#
# ### 4. A learning-rate range test
#
# Which learning rate? Rather than guess, train once while the rate grows geometrically
# from $10^{-4}$ to 10, a little every step, and watch the loss (Smith, 2017; fast.ai's
# `lr_find`). Too small a rate and the loss barely moves; in the right range it falls
# fastest; too large and it climbs. The loss is smoothed with a moving average, the run
# stops when it is 4 times its lowest value, and the model is put back as it was.

# %%
x_train, y_train, x_val, y_val = images[:1500], labels[:1500], images[1500:], labels[1500:]
result = diagnostics.lr_range_test(lenet(seed=0, init="he"), x_train, y_train, steps=100)
print(f"{len(result['lrs'])} steps; lowest smoothed loss at lr {result['best_lr']:.2g}; "
      f"suggested (a tenth of it): {result['suggested_lr']:.2g}")
assert 0.03 < result["best_lr"] < 0.6
diagnostics.plot_lr_range(result)
plt.show()

# %% [markdown]
# The rate at the lowest point is already at the edge: a little further and the loss
# climbs. The usual rule takes a rate several times smaller, on the steep part of the
# curve; here a tenth. Is it a good choice? Train the same network from the same start for
# 3 epochs of the 1,500 training digits at a tenth of the suggestion, at the suggestion,
# and at 4 times the lowest point, and compare on the 500 held-out digits (chapter 08 can
# go up to 0.1 because its rate warms up and then decays; a constant rate has to stay
# lower):

# %%
rates = {"a tenth of the suggestion": result["suggested_lr"] / 10, "the suggestion": result["suggested_lr"],
         "4 x the lowest point": 4 * result["best_lr"]}
accuracy = {}
for name, lr in rates.items():
    model = lenet(seed=0, init="he")
    trainer = Trainer(model, SGD(model, lr=lr, momentum=0.9), rng=0)
    try:
        trainer.fit(x_train, y_train, epochs=3, batch_size=64, verbose=False)
        accuracy[name] = trainer.evaluate(x_val, y_val)["accuracy"]
        print(f"lr {lr:7.4f} ({name}): validation accuracy {accuracy[name]:.0%}")
    except TrainingDiverged as e:  # a NaN loss, or a loss far above guessing
        accuracy[name] = 0.0
        print(f"lr {lr:7.4f} ({name}): the trainer stopped it, {type(e).__name__}")
assert accuracy["the suggestion"] > accuracy["a tenth of the suggestion"] + 0.03
assert accuracy["4 x the lowest point"] < 0.5

# %% [markdown]
# ### 5. The statistics of every layer
#
# The last check looks at every layer at once: the spread of its outputs, the fraction
# that are exactly 0, the spread of the gradient that reaches it, and for layers with a
# weight $\lVert dW \rVert / \lVert W \rVert$, how far one step of plain SGD would move the
# weight relative to its size (times the learning rate). A healthy network has no layer
# whose outputs are all 0 and no layer where the gradient collapses by orders of magnitude.
#
# Here is a LeNet at initialization, and the same network with a classic bug: the first
# convolution's bias set to −1, so that most of its outputs are negative and its ReLU
# outputs 0 almost everywhere ("dead ReLUs"). What do you expect to see in each panel?

# %%
healthy = diagnostics.layer_statistics(lenet(seed=0, init="he"), images[:256], labels[:256])
model = lenet(seed=0, init="he")
model.layers[0].params["bias"][...] = -1.0
dead = diagnostics.layer_statistics(model, images[:256], labels[:256])
print(f"{'layer':14}{'std':>9}{'zeros':>8}{'grad std':>10}   |   dead first ReLU:{'zeros':>7}{'grad std':>10}")
for h, d in zip(healthy, dead):
    print(f"{h['layer']:14}{h['std']:9.3f}{h['zeros']:8.1%}{h['grad_std']:10.1e}   |   "
          f"{'':16}{d['zeros']:7.1%}{d['grad_std']:10.1e}")
assert dead[1]["zeros"] > 0.95 and healthy[1]["zeros"] < 0.9
assert dead[0]["update_ratio"] < 0.5 * healthy[0]["update_ratio"] and dead[7]["std"] < 0.5 * healthy[7]["std"]
diagnostics.plot_layer_statistics({"healthy": healthy, "first conv's bias at -1": dead})
plt.show()

# %% [markdown]
# With the bias at −1, 97 % of the first ReLU's outputs are 0 (against 85 % at a healthy
# start, where most of a digit is blank paper). Those positions pass no gradient back: the
# first convolution's $\lVert dW \rVert / \lVert W \rVert$ drops to about a third, so it learns
# from the few windows that still fire, and every later layer's outputs shrink to about a
# third of their spread. The network still trains, more slowly, and nothing but a look
# like this says why.
#
# ## What you have now
#
# - The scale of the initial weights is not a detail: its effect compounds with depth,
#   and the right one follows from the variance of one layer. The library's `init="he"`
#   draws its weights with the reference twin of your exercise 10.2.
# - A sequence of checks for a network that misbehaves, cheapest first: the loss at
#   initialization, overfitting 50 digits, your whole-network gradient check, a
#   learning-rate range test, and the statistics of every layer.
#
# All of this carries over to PyTorch unchanged: `torch.nn.init.kaiming_normal_` and
# `xavier_uniform_` compute what you wrote, and `torch.autograd.gradcheck` is the gradient
# check.

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **10.q1** The He (`mode="fan_in"`, ReLU) standard deviation of a `Conv2d(32, 64, 3)` weight, of shape (64, 32, 3, 3)?

# %%
cnnlib.answer("10.q1", None)

# %% [markdown]
# **10.q2** The cross-entropy of a 10-class network whose softmax is exactly uniform?

# %%
cnnlib.answer("10.q2", None)

# %% [markdown]
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[10]))
