# %% [markdown]
# # Chapter 09: Looking inside the network
#
# The LeNet-style network of chapter 08 classifies more than 99 % of the test digits
# correctly. But *how*? A CNN is not a black box: every number it computes can be
# looked at. This chapter opens the trained network up, layer by layer:
#
# 1. the **filters** it learned, and how they compare with the hand-made kernels of
#    chapter 01;
# 2. the **feature maps**, what each layer computes from one digit;
# 3. **saliency maps**, which pixels a decision depends on, computed with the very
#    backward pass you wrote in chapters 03-05;
# 4. its **predictions**, its most confident **mistakes** and its **confusion matrix**.
#
# There are no new exercises. The pictures come from `cnnlib.viz` (each function returns
# a matplotlib figure) and the interactive views from `cnnlib.widgets`. Each widget is
# followed by a static figure of the same content, so the notebook also reads well where
# widgets do not run (on GitHub, in a PDF).

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib import viz, widgets
from cnnlib.checkpoint import load_checkpoint
from cnnlib.data import load_mnist
from cnnlib.models import lenet
from cnnlib.optim import SGD, CosineLR
from cnnlib.trainer import Trainer

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## The trained network
#
# Chapter 08 saved its trained network in `checkpoints/lenet_mnist.npz`. If that file is
# here, we load it: `load_checkpoint` rebuilds the model from the architecture stored
# in the file and loads its weights. If it is not (you have not run chapter 08 yet), we
# train the same network briefly instead, with a progress bar: one epoch over the first
# 20,000 training digits, which takes a minute or two and is enough for about 97-98 %
# test accuracy. As in chapter 08, an exercise you have not written runs its reference
# solution (a `[reference]` line names it); `cnnlib.use_solutions("all")` runs them all.
# Either way the rest of the chapter works the same; the exact numbers and pictures
# differ a little.

# %%
(x_train, y_train), (x_test, y_test) = load_mnist()
CHECKPOINT = Path("checkpoints/lenet_mnist.npz")

# %% tags=["nbval-ignore-output"]
if CHECKPOINT.exists():
    model = load_checkpoint(CHECKPOINT)["model"]
    print(f"loaded the network trained in chapter 08 from {CHECKPOINT}")
else:
    model = lenet(seed=0, relu_after_pool=True)
    N_TRAIN, BATCH_SIZE = 20_000, 32
    optimizer = SGD(model, lr=0.05, momentum=0.9, nesterov=True)
    scheduler = CosineLR(optimizer, total_steps=-(-N_TRAIN // BATCH_SIZE))
    trainer = Trainer(model, optimizer, scheduler=scheduler, scheduler_interval="step",
                      rng=np.random.default_rng(0))
    print(f"no {CHECKPOINT}: training the network for one epoch on {N_TRAIN:,} digits (a minute or two)")
    trainer.fit(x_train[:N_TRAIN], y_train[:N_TRAIN], epochs=1, batch_size=BATCH_SIZE)
model.eval()
probs = viz.predict_proba(model, x_test)          # (10000, 10)
predictions = probs.argmax(axis=1)
accuracy = np.mean(predictions == y_test)
print(f"test accuracy: {accuracy:.2%}")
print(model)
assert accuracy >= 0.97, f"expected at least 97 % test accuracy, got {accuracy:.2%}"

# %% [markdown]
# We will keep coming back to the conv layers, so we look up where they are in
# `model.layers` (a conv layer is one with a 4-D weight $(C_\text{out}, C_\text{in}, kH, kW)$),
# and pick one test digit to follow through the network.

# %%
convs = viz.conv_layer_indices(model)
for i in convs:
    print(viz.layer_label(model, i), "weight", model.layers[i].params["weight"].shape)
digit = x_test[0]                                  # (1, 28, 28)
print("the digit we follow is a", y_test[0])
assert convs == [0, 3] and len(model.layers) == 10

# %% [markdown]
# ## 1. Filters: what the first layer looks for
#
# The first conv layer has 32 filters of shape $(1, 3, 3)$. Output channel $o$ at position
# $(i, j)$ is the cross-correlation of chapter 01,
#
# $$a_o[i, j] = b_o + \sum_{u=0}^{2} \sum_{v=0}^{2} w_{o,0,u,v}\; x_\text{pad}[i + u,\, j + v],$$
#
# so it is large where the $3 \times 3$ patch of the digit *looks like* the filter: a
# dot product between the filter and the patch. Drawn on one colour scale (red positive,
# blue negative), many learned filters resemble the hand-made ones of chapter 01: a
# positive side next to a negative side is an edge detector (like Sobel), for edges in
# the direction across the two sides; an all-positive filter is a blur; a centre of one
# sign surrounded by the other detects spots and thin strokes. Nobody designed them: they
# came out of gradient descent on 60,000 digits. A few filters may have all small
# weights: they contribute little.

# %%
viz.plot_filters(model, convs[0])
plt.show()

# %% [markdown]
# The second conv layer has 64 filters of shape $(32, 3, 3)$: each looks at all 32 channels
# of the first layer at once, so one filter is 32 small patches, one per input channel.
# These are hard to read as pictures, because their inputs are not pixels but the feature
# maps of the first layer. The filter viewer shows them one input channel at a time:
# choose the conv layer and the input channel.

# %% tags=["nbval-ignore-output"]
widgets.filter_viewer(model)

# %% [markdown]
# The same view, static: the first 32 filters of the second conv layer, input channel 0.

# %%
viz.plot_filters(model, convs[1], channel=0, max_filters=32)
plt.show()

# %% [markdown]
# A learned filter is just a kernel, so we can put it in the kernel playground of chapter
# 01 and watch what it does to the digit. Here are the four first-layer filters with the
# largest weights (the colour scale of each output is its own).

# %%
first = model.layers[convs[0]].params["weight"]                  # (32, 1, 3, 3)
strongest = np.argsort(-np.abs(first).sum(axis=(1, 2, 3)), kind="stable")[:4]
fig, axes = plt.subplots(2, 4, figsize=(10, 5))
for col, o in enumerate(strongest):
    state = widgets.kernel_playground_state(digit, first[o, 0], padding=1)
    lim = np.abs(state["kernel"]).max()
    axes[0, col].imshow(state["kernel"], cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[0, col].set_title(f"filter {o}")
    lim = np.abs(state["output"]).max()
    axes[1, col].imshow(state["output"], cmap="RdBu_r", vmin=-lim, vmax=lim)
    assert np.allclose(state["output"] + model.layers[convs[0]].params["bias"][o],
                       viz.activations(model, digit, convs[0])[o], atol=1e-5)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Top: the strongest learned filters. Bottom: their cross-correlation with the digit (before the bias)")
fig.tight_layout()
plt.show()

# %% [markdown]
# (The cell also checks that the playground's output plus the filter's bias is exactly
# what the network's first layer computes for that channel.)
#
# ## 2. Feature maps: what each layer computes
#
# A `Sequential` network is a chain of functions,
#
# $$a^{(0)} = x, \qquad a^{(l)} = f_l\big(a^{(l-1)}\big), \quad l = 1, \dots, L,$$
#
# and `viz.activations(model, image, l)` runs the layers $0..l$ on one image and returns
# $a^{(l+1)}$, the output of layer $l$ (in evaluation mode, so dropout and batch norm
# would behave as at test time). For this network:
#
# | layers | output | one value sees |
# | --- | --- | --- |
# | conv 1 | (32, 28, 28) | a $3 \times 3$ patch |
# | max pool, ReLU | (32, 14, 14) | $4 \times 4$ |
# | conv 2 | (64, 14, 14) | $8 \times 8$ |
# | max pool, ReLU | (64, 7, 7) | $10 \times 10$ |
# | flatten, linear, ReLU, linear | (10,) | the whole digit |
#
# The last column is the **receptive field**: each conv adds $(k - 1)$ times the current
# step between neighbouring values, each pooling doubles that step. Deeper channels
# respond to larger, more complex parts of the digit (a stroke ending, a loop, a
# crossing) and their maps get coarser.
#
# The outputs of the first conv layer look like filtered copies of the digit, as in the
# kernel playground:

# %%
viz.plot_feature_maps(model, digit, convs[0], max_channels=16)
plt.show()

# %% [markdown]
# After max pooling and ReLU, half the resolution and no negative values. Many values are
# exactly zero: ReLU keeps only where a pattern is present. These sparse maps are the input
# of the second conv layer.

# %% tags=["nbval-ignore-output"]
block1 = viz.activations(model, digit, convs[1] - 1)           # (32, 14, 14)
block2 = viz.activations(model, digit, convs[1] + 2)           # (64, 7, 7)
print("after block 1:", block1.shape, f"{np.mean(block1 == 0):.0%} zeros")
print("after block 2:", block2.shape, f"{np.mean(block2 == 0):.0%} zeros")
assert block1.shape == (32, 14, 14) and block2.shape == (64, 7, 7)
assert block1.min() == 0 and np.mean(block2 == 0) > 0.2

# %%
viz.plot_feature_maps(model, digit, convs[1] - 1, max_channels=16)
plt.show()

# %% [markdown]
# The second block's 64 maps are $7 \times 7$: each value summarizes a $10 \times 10$
# region of the digit. They are no longer pictures of the digit but answers to
# questions such as "is there the end of a horizontal stroke in this region?". The
# flatten and linear layers then combine these 3,136 answers into ten class scores.

# %%
viz.plot_feature_maps(model, digit, convs[1] + 2, max_channels=32)
plt.show()

# %% [markdown]
# The feature-map explorer lets you choose the digit, the layer (0 to 9) and the channel,
# and shows the statistics of the map and of the whole layer. Try the last layer, 9: its
# ten values are the logits, the scores of the ten classes.

# %% tags=["nbval-ignore-output"]
widgets.feature_map_explorer(model, x_test[:100])

# %% [markdown]
# The same view, static: the explorer's first setting (digit 0, layer 0, channel 0).

# %%
widgets.feature_map_figure(widgets.feature_map_state(model, digit, 0, 0))
plt.show()

# %% [markdown]
# ## 3. Saliency: which pixels does a decision depend on?
#
# Let $s_k(x)$ be the score (logit) of class $k$ for image $x$. Its gradient with respect to
# the input pixels says how much the score changes when a pixel changes a little:
#
# $$s_k(x + \varepsilon d) \approx s_k(x) + \varepsilon\, \langle \nabla_x s_k(x),\, d \rangle .$$
#
# The **saliency map** is $S[i, j] = \max_c \left|\partial s_k / \partial x_{c,i,j}\right|$:
# bright pixels are those the score is most sensitive to (Simonyan et al., 2014).
#
# Computing it needs no new code: it is backpropagation with a different upstream
# gradient. Training sends $\partial L / \partial s$ down through the network; here we send
# $e_k$, the vector that is 1 at class $k$ and 0 elsewhere, and keep the gradient the
# backward pass returns for the *input* (which training throws away):
#
# ```python
# scores = model.forward(x[None])        # (1, 10)
# dscores = np.zeros_like(scores)
# dscores[0, k] = 1
# dx = model.backward(dscores)           # (1, 1, 28, 28) = d s_k / d x
# ```
#
# That is what `viz.saliency_map(model, image, k)` does (with the model in evaluation
# mode). We can check the first-order formula above. A network of convolutions, ReLUs,
# max pooling and linear layers is piecewise *linear* in its input, so for a small enough
# step the formula holds almost exactly, except where the input sits on a kink. Our digit
# does: its background is exactly 0, so max pooling compares equal numbers there, and
# at such a tie the score is not differentiable (the backward pass picks one of the
# tied inputs, as PyTorch does). A faint random noise moves the digit off the ties.

# %% tags=["nbval-ignore-output"]
k = int(predictions[0])
noisy = digit + 0.01 * np.random.default_rng(0).standard_normal(digit.shape).astype(np.float32)
grad = viz.saliency_map(model, noisy, k)                  # (1, 28, 28)
direction = grad / np.linalg.norm(grad)                  # the steepest way up
eps = 1e-3


def score(image):
    return model.forward(image[None])[0, k]


change = score(noisy + eps * direction) - score(noisy)
predicted = eps * np.sum(grad * direction)               # = eps * |grad|
rel_error = abs(change - predicted) / abs(predicted)
print(f"class {k}: score change {change:.6f}, predicted by the gradient {predicted:.6f}, "
      f"relative error {rel_error:.1e}")
assert rel_error < 1e-2

# %% [markdown]
# The saliency maps of the first test digits, for the class each is predicted as. The
# bright pixels lie on and right next to the strokes: the network looks at the digit,
# not at the empty background. Pixels just *off* a stroke matter too: ink there would
# change the shape (an open loop closing, a 1 becoming a 7).

# %%
viz.plot_saliency(model, x_test[:8])
plt.show()

# %% [markdown]
# The same digit asked about different classes: the gradient of the score of another class
# shows where ink would have to be added or removed to make the digit look more like it.

# %%
viz.plot_saliency(model, np.repeat(digit[None], 4, axis=0), targets=[k, 1, 2, 9])
plt.show()

# %% [markdown]
# ## 4. Predictions and mistakes
#
# The network's output is turned into probabilities by softmax,
# $p_k = e^{s_k} / \sum_j e^{s_j}$. For most digits it is almost certain: the bar charts
# of the first test digits show one bar near 1 (the predicted class, in green when it is
# right, in red when wrong).

# %%
viz.plot_predictions(model, x_test[:8], y_test[:8], n=8, probs=probs[:8])
plt.show()

# %% [markdown]
# More telling are the digits it is *least* sure about, those whose largest probability
# is the smallest. Their bar charts split the probability between two or three classes
# (the true class is outlined in black), and often the digit could be read either way.

# %%
unsure = np.argsort(probs.max(axis=1), kind="stable")[:8]
viz.plot_predictions(model, x_test[unsure], y_test[unsure], n=8, probs=probs[unsure])
plt.show()

# %% [markdown]
# Browse the test digits with the prediction explorer:

# %% tags=["nbval-ignore-output"]
widgets.prediction_explorer(model, x_test[:200], y_test[:200])

# %% [markdown]
# The same view, static, for the first test digit:

# %%
widgets.prediction_figure(widgets.prediction_state(model, x_test, y_test, 0))
plt.show()

# %% [markdown]
# The digits the network gets wrong with the highest confidence. Many are badly written,
# some have a debatable label; a few are plain errors of the network.

# %% tags=["nbval-ignore-output"]
wrong = np.flatnonzero(predictions != y_test)
print(f"{len(wrong)} of {len(y_test):,} test digits misclassified")
assert len(wrong) == round((1 - accuracy) * len(y_test))

# %%
viz.plot_misclassified(model, x_test, y_test, n=12, probs=probs)
plt.show()

# %% [markdown]
# The **confusion matrix** $C[t, p]$ counts the test digits of true class $t$ predicted
# as class $p$; the diagonal holds the correct answers. The largest entries off the
# diagonal name the pairs of digits the network confuses.

# %%
viz.plot_confusion_matrix(y_test, predictions)
plt.show()

# %% tags=["nbval-ignore-output"]
cm = viz.confusion_matrix(y_test, predictions, 10)
off = cm - np.diag(np.diag(cm))
pairs = sorted(((off[t, p], t, p) for t in range(10) for p in range(10)), reverse=True)[:3]
for count, t, p in pairs:
    print(f"{count} digits {t} taken for {p}")
assert np.trace(cm) == np.sum(predictions == y_test) and cm.sum() == len(y_test)

# %% [markdown]
# ## Things to try
#
# - Load a checkpoint of a network you trained yourself (chapter 08, or
#   `cnnlib train --config configs/mnist_small.yaml`) and compare its filters.
# - Look at the filters of the *untrained* network, `lenet(seed=0, relu_after_pool=True)`:
#   random noise. Everything you saw above was learned.
# - Saliency maps of misclassified digits: what did the network look at?
# - Put a learned filter in the kernel playground, `widgets.kernel_playground(x_test[:20])`,
#   by typing its nine numbers into the boxes.
#
# ## Summary
#
# - The first conv layer learns small edge, stroke and blur detectors, much like the
#   hand-made kernels of chapter 01; deeper layers combine them into detectors of larger
#   parts of the digit, on coarser maps.
# - `viz.activations(model, image, l)` runs the layers up to $l$: a feature map is just
#   an intermediate array of the forward pass.
# - A saliency map is one backward pass with upstream gradient $e_k$: the gradient of a
#   class score with respect to the input pixels.
# - Predictions, the most confident mistakes and the confusion matrix show where the
#   network is sure, where it fails, and which digits it confuses.
