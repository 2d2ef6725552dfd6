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
# dot product between the filter and the patch. A filter with a positive side next to a
# negative side is an edge detector, like the Sobel kernels of chapter 01; an
# all-positive one is a blur.
#
# Do the learned filters look like that? To tell what training made from what chance
# put there, we draw the filters twice: first as they were before the first step of
# chapter 08 (the same network, `lenet(seed=0, relu_after_pool=True)`, freshly
# initialised: the very weights chapter 08 started from), then after training, both on
# one colour scale (red positive, blue negative, white 0).

# %%
initial = lenet(seed=0, relu_after_pool=True)  # chapter 08's network before its first step
scale = max(float(np.abs(net.layers[convs[0]].params["weight"]).max()) for net in (initial, model))
fig = viz.plot_filters(initial, convs[0], vmax=scale)
fig.suptitle("Before training: the random filters of layer 0 that chapter 08 started from (3x3)", fontsize=10)
plt.show()
fig = viz.plot_filters(model, convs[0], vmax=scale)
fig.suptitle("After training: the same 32 filters of layer 0 (3x3), on the same colour scale", fontsize=10)
plt.show()

# %% [markdown]
# Put side by side, filter by filter, the two grids tell a plainer story than "the
# network learned edge detectors". Most trained filters are still recognisably the
# random pattern they started from, with the same signs in mostly the same places, and
# stronger (about one and a half times larger, in the median). In a
# quarter of them training pushed one side clearly positive and the opposite side
# clearly negative: edge detectors, for horizontal edges (filters 2, 4, 16 and 24), a
# vertical one (7) and diagonal ones (3, 19, 20); in five of these eight (2, 3, 4, 19,
# 20) the edge was already there, fainter, in the random start. None became a blur (all
# weights of one sign), and four (6, 14, 23, 29) look exactly as they started: they
# answer the digits with small values, so they received almost no gradient.
#
# The cell measures this, for each filter: how much it grew (the ratio of the norms,
# trained over initial), how similar its pattern stayed (the cosine of the angle between
# the two $3 \times 3$ arrays, 1 for the same pattern) and how edge-like it is (the
# largest $|\cos|$ with the four Sobel kernels: horizontal, vertical and the two
# diagonals). It counts as an edge detector when that cosine is at least 0.8; random
# $3 \times 3$ filters get there about 2 % of the time.

# %% tags=["nbval-ignore-output"]
def unit(w):
    """Each (3, 3) filter scaled to norm 1, flattened: (n, 9)."""
    w = w.reshape(len(w), -1).astype(np.float64)
    return w / np.linalg.norm(w, axis=1, keepdims=True)


sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
sobel_diag = np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]])
edges = unit(np.stack([sobel_y, sobel_y.T, sobel_diag, np.fliplr(sobel_diag)]))  # (4, 9)
before = initial.layers[convs[0]].params["weight"][:, 0]                        # (32, 3, 3)
after = model.layers[convs[0]].params["weight"][:, 0]                           # (32, 3, 3)
growth = np.linalg.norm(after.reshape(32, -1), axis=1) / np.linalg.norm(before.reshape(32, -1), axis=1)
same_pattern = np.sum(unit(after) * unit(before), axis=1)                       # cosine, (32,)
edge_before = np.abs(unit(before) @ edges.T).max(axis=1)                        # (32,)
edge_after = np.abs(unit(after) @ edges.T).max(axis=1)
unchanged = np.flatnonzero(np.linalg.norm((after - before).reshape(32, -1), axis=1)
                           < 0.1 * np.linalg.norm(before.reshape(32, -1), axis=1))
random_edges = np.abs(unit(np.random.default_rng(0).standard_normal((100_000, 3, 3))) @ edges.T).max(axis=1)
print(f"growth of the filters (norm after / before): median {np.median(growth):.2f}, "
      f"range {growth.min():.2f} to {growth.max():.2f}")
print(f"cosine between a trained filter and its start: median {np.median(same_pattern):.2f}, "
      f"lowest {same_pattern.min():.2f}")
print(f"edge detectors (|cos| >= 0.8 with a Sobel kernel): {np.sum(edge_before >= 0.8)} of 32 before training, "
      f"{np.sum(edge_after >= 0.8)} of 32 after: filters {np.flatnonzero(edge_after >= 0.8).tolist()}")
print(f"random 3x3 filters that count as edge detectors: {np.mean(random_edges >= 0.8):.1%}")
print(f"filters that changed by less than 10 %: {unchanged.tolist()}")
assert np.median(same_pattern) > 0.7 and np.median(growth) > 1.1, "most filters: their start, grown"
assert np.sum(edge_before >= 0.8) < np.sum(edge_after >= 0.8) <= 12, "a minority became edge detectors"
assert np.mean(random_edges >= 0.8) < 0.05
assert not np.any(np.all(after > 0, axis=(1, 2)) | np.all(after < 0, axis=(1, 2))), "no blur"
if CHECKPOINT.exists():  # the filters the text names are those of chapter 08's network
    named_edges, named_unchanged = {2, 3, 4, 7, 16, 19, 20, 24}, {6, 14, 23, 29}
    assert len(named_edges & set(np.flatnonzero(edge_after >= 0.8))) >= 6, np.flatnonzero(edge_after >= 0.8)
    assert named_unchanged <= set(unchanged), unchanged

# %% [markdown]
# So the first layer of this small network, after 3 epochs, is mostly its random start
# made stronger, with a minority of filters that became edge detectors. Those few are
# what the edge-detector story is about; the rest still work, as random projections of
# each patch whose usefulness the second layer decides.
#
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
# bright pixels are those the score is most sensitive to (Simonyan et al., 2014). The
# absolute value throws the sign away; we look at the signed gradient further down.
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
# **The sign.** $|\partial s_k / \partial x|$ says how much a pixel matters, not which
# way. The gradient itself does: where $\partial s_k / \partial x_{i,j} > 0$, more ink
# (a brighter pixel; MNIST ink is 1, paper 0) raises the score of class $k$; where it
# is $< 0$, more ink lowers it, so on a stroke a negative gradient marks ink whose
# removal would raise the score. `viz.plot_saliency(..., signed=True)` draws the gradient
# on a diverging scale centred at 0 and shared by all panels: **red where more ink
# raises the class score, blue where it lowers it**, white where it does not matter.
#
# Here is the same digit asked about four classes, the one it is predicted as and three
# others.

# %%
asked = [k, 1, 2, 9]
viz.plot_saliency(model, np.repeat(digit[None], 4, axis=0), targets=asked, signed=True)
plt.show()

# %% [markdown]
# For the 7 it is predicted as, the strongest pixels are on the left half of the top
# bar, in red: more ink there, a firmer bar, raises the score of 7. Just above and below
# the bar the map turns blue: ink there, a thicker or doubled bar, would lower it. For
# 1 the right half of the bar is blue: that ink speaks against a 1, and removing it
# would raise the score of 1, while the slanted stroke is pale red. The maps of the
# classes the digit is not are fainter (the largest value is about half that of 7)
# and patchier, both colours mixed along the strokes. The cell checks these readings on
# the pixels of the bar (rows 7 to 9 of the digit's ink).

# %% tags=["nbval-ignore-output"]
signed_maps = np.stack([viz.saliency_map(model, digit, c)[0] for c in asked])   # (4, 28, 28)
ink = digit[0] > 0.5
bar = np.zeros_like(ink)
bar[7:10] = ink[7:10]                                                # the top bar of the 7
left = np.arange(28) < 14                                            # columns 0..13
for c, g in zip(asked, signed_maps):
    print(f"class {c}: largest |gradient| {np.abs(g).max():.2f}; mean gradient on the bar: left half "
          f"{g[bar & left].mean():+.2f}, right half {g[bar & ~left].mean():+.2f}")
strength = np.abs(signed_maps).max(axis=(1, 2))
assert asked[0] == 7 and strength[0] > 1.5 * strength[1:].max(), strength
assert signed_maps[0][bar & left].mean() > 0 > signed_maps[1][bar & ~left].mean()
assert np.unravel_index(np.abs(signed_maps[0]).argmax(), ink.shape)[0] in (7, 8, 9)  # strongest: on the bar

# %% [markdown]
# **Two refinements.** The gradient of a ReLU network jumps from pixel to pixel: it is
# the slope of one linear piece, and the next piece, a small step away, can have another
# slope. **SmoothGrad** (Smilkov et al., 2017) averages the gradient over $n$ noisy copies
# of the image, $\frac{1}{n} \sum_i \nabla_x s_k(x + \sigma z_i)$ with $z_i$ standard normal
# noise, and keeps what holds in a neighbourhood of the image:
# `viz.smoothgrad(model, image, k, n=50, sigma=0.15, rng=0)` (seeded, so the picture is
# reproducible; with $\sigma = 0$ it is the plain gradient). **Gradient times input**,
# `viz.gradient_x_input(model, image, k)` $= x \odot \nabla_x s_k(x)$, is each pixel's
# first-order share of the score: 0 on blank paper whatever the gradient there, so it
# shows how the ink that *is* there counts for (red) or against (blue) the class.
#
# The three signed maps of the first four test digits, for their predicted classes,
# each row on its own colour scale:

# %%
fig, axes = plt.subplots(4, 4, figsize=(8, 8.4))
for col, (image, c) in enumerate(zip(x_test[:4], predictions[:4])):
    maps = {"gradient": viz.saliency_map(model, image, int(c))[0],
            "SmoothGrad": viz.smoothgrad(model, image, int(c))[0],
            "gradient x input": viz.gradient_x_input(model, image, int(c))[0]}
    axes[0, col].imshow(image[0], cmap="gray")
    axes[0, col].set_title(f"class {c}", fontsize=9)
    for row, (name, m) in enumerate(maps.items(), start=1):
        lim = np.abs(m).max()
        axes[row, col].imshow(m, cmap=viz.SIGNED_CMAP, vmin=-lim, vmax=lim)
        if col == 0:
            axes[row, col].set_ylabel(name, fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Signed saliency: red = more ink raises the class score, blue = lowers it", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The plain gradient and SmoothGrad show the same pattern: red on the strokes and blue
# just beside them (clearest on the 1 and on the bar of the 7). Ink on the stroke
# raises the score; ink next to it, a fatter or blurred stroke, lowers it. SmoothGrad is
# only a little calmer here. Gradient times input is drawn on the ink alone, and there
# it is mostly red: the ink of each digit counts for its class, with a few blue spots
# where a piece of the stroke counts against it (on the lower left of the 2, inside the
# left side of the 0). The cell measures these claims: the mean map on the ink and on
# the blank ring of pixels next to it, how rough each map is (the mean jump between
# neighbouring pixels, relative to the mean magnitude) and how the first-order shares
# of gradient times input add up.

# %% tags=["nbval-ignore-output"]
def roughness(m):
    """Mean jump between neighbouring pixels, relative to the mean magnitude."""
    return (np.abs(np.diff(m, axis=0)).mean() + np.abs(np.diff(m, axis=1)).mean()) / np.abs(m).mean()


def grow(mask):
    """``mask`` and its 4 neighbours (one pixel wider)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


for image, c in zip(x_test[:4], predictions[:4]):
    plain, smooth = viz.saliency_map(model, image, int(c))[0], viz.smoothgrad(model, image, int(c))[0]
    gxi = viz.gradient_x_input(model, image, int(c))[0]
    ink, blank = image[0] > 0.5, image[0] == 0
    ring = grow(ink) & blank                                             # blank pixels touching the ink
    print(f"class {c}: mean on the ink / beside it: gradient {plain[ink].mean():+.2f} / {plain[ring].mean():+.2f}, "
          f"SmoothGrad {smooth[ink].mean():+.2f} / {smooth[ring].mean():+.2f}; "
          f"roughness {roughness(plain):.2f} and {roughness(smooth):.2f}")
    print(f"          gradient x input: {gxi[gxi > 0].sum():.1f} for, {gxi[gxi < 0].sum():.1f} against, "
          f"0 on all {blank.sum()} blank pixels")
    assert plain[ink].mean() > 0 > plain[ring].mean() and smooth[ink].mean() > 0 > smooth[ring].mean()
    assert roughness(smooth) < roughness(plain), "SmoothGrad is calmer"
    assert np.all(gxi[blank] == 0) and gxi[gxi > 0].sum() > 2 * -gxi[gxi < 0].sum(), "mostly red, on the ink"

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
# - Train longer (10 epochs in chapter 08) or with Adam, and compare the first-layer
#   filters with their start again: do more of them become edge detectors?
# - Saliency maps of misclassified digits: what did the network look at?
# - Put a learned filter in the kernel playground, `widgets.kernel_playground(x_test[:20])`,
#   by typing its nine numbers into the boxes.
#
# ## Summary
#
# - Compared with their random start, most first-layer filters of this network kept
#   their pattern and grew; a minority became edge detectors like the Sobel kernels of
#   chapter 01. Deeper layers combine the first layer's maps into detectors of larger
#   parts of the digit, on coarser maps.
# - `viz.activations(model, image, l)` runs the layers up to $l$: a feature map is just
#   an intermediate array of the forward pass.
# - A saliency map is one backward pass with upstream gradient $e_k$: the gradient of a
#   class score with respect to the input pixels. Its sign says whether more ink raises
#   (red) or lowers (blue) the score; SmoothGrad averages it over noisy copies, gradient
#   times input keeps only the ink that is there.
# - Predictions, the most confident mistakes and the confusion matrix show where the
#   network is sure, where it fails, and which digits it confuses.
