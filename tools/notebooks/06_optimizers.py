# %% [markdown]
# # Chapter 06: Optimizers and learning-rate schedules
#
# Backpropagation gives the gradient of the loss with respect to every parameter. How
# far to move along it, and how to combine the gradients of successive minibatches, is
# the job of the **optimizer**. This chapter derives the update rules used to train
# almost every network today: SGD, momentum, Nesterov momentum, Adam and AdamW, in
# exactly PyTorch's conventions (so a run here can be compared with `torch.optim` step by
# step), and the learning-rate **schedules** that change the step size during training.
# We then watch the optimizers race on two 2-D loss surfaces and on the linear MNIST
# classifier of chapter 05.
#
# Each update rule is a pure function of one parameter array, its gradient and the
# optimizer's state for that parameter; it returns new arrays and never modifies its
# inputs. The optimizer classes of `cnnlib.optim`, used from chapter 08 on, walk a model's
# parameters and call these functions.
#
# Exercises, all in `cnnlib/updates.py`:
#
# | id | function | what |
# | --- | --- | --- |
# | 6.1 | `sgd_step` | SGD with momentum, dampening, Nesterov and weight decay |
# | 6.2 | `adam_step` | Adam (weight decay as an L2 term) |
# | 6.3 | `adamw_step` | AdamW (decoupled weight decay) |
# | 6.4 | `cosine_lr` | cosine learning-rate schedule with linear warm-up |

# %%
%matplotlib inline
%load_ext autoreload
%autoreload 2

import matplotlib.pyplot as plt
import numpy as np

import cnnlib
from cnnlib.data import load_mnist_sample
from cnnlib.ops import adam_step, adamw_step, cosine_lr, linear_backward, linear_forward, sgd_step, softmax_cross_entropy

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %% [markdown]
# ## Gradient descent, and why it is slow
#
# Gradient descent moves the parameters $\theta$ against the gradient $g = \nabla L(\theta)$
# with a **learning rate** $\eta$:
#
# $$\theta \leftarrow \theta - \eta\, g .$$
#
# **Stochastic** gradient descent (SGD) uses the gradient of a random minibatch, an
# unbiased but noisy estimate of the full gradient, which is far cheaper to compute.
#
# How large may $\eta$ be? Take the quadratic $L(\theta) = \tfrac12 (a\,\theta_1^2 +
# b\,\theta_2^2)$ with $a < b$. Its gradient is $(a\theta_1, b\theta_2)$, so one step
# multiplies each coordinate by a constant:
#
# $$\theta_1 \leftarrow (1 - \eta a)\,\theta_1, \qquad \theta_2 \leftarrow (1 - \eta b)\,\theta_2 .$$
#
# The steep direction converges only if $|1 - \eta b| < 1$, i.e. $\eta < 2/b$; for $\eta$
# between $1/b$ and $2/b$ it overshoots and zig-zags. With $\eta$ close to that limit the
# flat direction shrinks by only $1 - \eta a \approx 1 - 2a/b$ per step, so the number of
# steps grows with the **condition number** $b/a$. Real loss surfaces are like this in
# many directions at once: steep walls, flat valley floors.
#
# ## Momentum
#
# Momentum keeps a running sum of past gradients, the buffer $v$ (PyTorch's
# `momentum_buffer`), and steps along it:
#
# $$v \leftarrow \mu\, v + (1 - d)\, g, \qquad \theta \leftarrow \theta - \eta\, v,$$
#
# with momentum $\mu$ (typically 0.9) and dampening $d$ (usually 0). On the first step
# PyTorch sets $v = g$ (no zero start, no dampening). Unrolled, with $d = 0$,
#
# $$v_t = g_t + \mu\, g_{t-1} + \mu^2 g_{t-2} + \dots,$$
#
# an exponentially weighted sum of the gradients. Where successive gradients agree (the
# valley floor), the steps add up to $1 / (1 - \mu)$ times a plain step, 10 times for
# $\mu = 0.9$; where they alternate in sign (across the valley), they cancel.
#
# *Conventions.* CS231n and many textbooks write $v \leftarrow \mu v - \eta g,\ \theta
# \leftarrow \theta + v$, with $\eta$ inside the buffer. With a constant learning rate the
# two give the same parameters ($v_\text{CS231n} = -\eta\, v_\text{PyTorch}$); they differ
# when a schedule changes $\eta$, and this course follows PyTorch.
#
# ## Nesterov momentum
#
# Plain momentum steps with the current buffer $v_t = \mu v_{t-1} + g_t$. Nesterov's idea
# is to look one step ahead: if the next gradient were the same as this one, the next
# buffer would be $\mu v_t + g_t$, so step with that:
#
# $$v \leftarrow \mu\, v + g, \qquad \theta \leftarrow \theta - \eta\,(g + \mu\, v) .$$
#
# This is PyTorch's form (`nesterov=True`, which needs $\mu > 0$ and $d = 0$). It is
# equivalent to the classical formulation, which evaluates the gradient at the
# look-ahead point $\theta - \eta\mu v$, after the change of variables of Sutskever et
# al. (2013), and it damps the oscillations of plain momentum.
#
# ## Weight decay
#
# An L2 penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ added to the loss adds $\lambda\theta$
# to the gradient. `torch.optim.SGD` and `torch.optim.Adam` implement their
# `weight_decay` exactly so, before anything else: $g \leftarrow g + \lambda\theta$.
#
# ## Exercise 6.1: `sgd_step` (in `cnnlib/updates.py`)
#
# `sgd_step(param, grad, velocity, lr, momentum=0, dampening=0, nesterov=False,
# weight_decay=0)` returns `(new_param, new_velocity)`: all of the above, with
# `velocity=None` before the first step and `new_velocity=None` when `momentum == 0`.
# Build new arrays (`momentum * velocity + ...`), never update in place
# (`velocity *= momentum`), and store a copy of the gradient as the first buffer, not
# the caller's `grad` array itself. Hand case: $\theta = (1, -2)$, $v = (0.5, 1)$,
# $g = (1, -1)$, $\eta = 0.1$, $\mu = 0.9$, $d = 0.5$: $v = 0.9\,(0.5, 1) + 0.5\,(1, -1)
# = (0.95, 0.4)$ and $\theta = (1, -2) - 0.1\,(0.95, 0.4) = (0.905, -2.04)$.

# %%
cnnlib.check("6.1")

# %%
param, velocity = np.array([1.0, -2.0]), np.array([0.5, 1.0])
new_param, new_velocity = sgd_step(param, np.array([1.0, -1.0]), velocity, 0.1, momentum=0.9, dampening=0.5)
print("new param", new_param, " new velocity", new_velocity)
assert np.allclose(new_param, [0.905, -2.04]) and np.allclose(velocity, [0.5, 1.0]), "inputs stay unchanged"

# %% [markdown]
# ## Adam
#
# Adam (Kingma and Ba, 2015) keeps two exponential moving averages per parameter, of the
# gradient and of its square, and divides one by the square root of the other:
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
#   v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2,$$
#
# $$\hat m = \frac{m}{1 - \beta_1^{\,t}}, \qquad \hat v = \frac{v}{1 - \beta_2^{\,t}}, \qquad
#   \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon},$$
#
# all element-wise, with $t = 1, 2, \dots$ the step number and, by default,
# $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$.
#
# **Why the bias correction.** $m$ and $v$ start at 0. Unrolled,
# $m_t = (1 - \beta_1)\sum_{s=1}^{t} \beta_1^{\,t-s} g_s$; if the gradients have a
# constant mean $\bar g$, then
# $\mathbb{E}[m_t] = \bar g\,(1 - \beta_1)\sum_{s=1}^{t}\beta_1^{\,t-s} = \bar g\,(1 - \beta_1^{\,t})$:
# too small early on (by a factor 0.1 at $t = 1$, and for $v$ by 0.001), so both are
# divided by that factor. On the first step $\hat m = g$, $\hat v = g^2$ and the step is
# $\eta\, g / |g| = \eta\,\operatorname{sign}(g)$: every parameter moves by $\eta$.
#
# **Why it works.** $\hat m / \sqrt{\hat v}$ is a signal-to-noise ratio per parameter: an
# average of the gradient over the average of its square, so the scale of the gradient
# cancels: multiplying the loss by 1000 changes nothing (apart from $\epsilon$). For a
# steady gradient the ratio is 1 and for a noisy one it is smaller, so typically
# $|\Delta\theta| \lesssim \eta$. Each parameter gets its own effective step size: small
# where the gradient is noisy, close to $\eta$ where it is consistent. That is why one
# learning rate (1e-3) works for many networks.
#
# It is not a hard limit, though. Kingma and Ba (2015, section 2.1) bound the step by
# $|\Delta\theta| \le \eta\,(1 - \beta_1)/\sqrt{1 - \beta_2}$ when
# $1 - \beta_1 > \sqrt{1 - \beta_2}$, and by $\eta$ otherwise. The defaults are in the
# first case ($0.1 > \sqrt{0.001} \approx 0.032$): a gradient that was 0 for a long time
# and then is not (a *sparse* gradient) enters $m$ with weight 0.1 but $v$ with weight only
# 0.001, and the step reaches $0.1/\sqrt{0.001} \approx 3.16\,\eta$. The cell computes
# $\hat m / \sqrt{\hat v}$ after 5,000 steps of three kinds of gradient, from the
# unrolled averages.

# %%
beta1, beta2, t = 0.9, 0.999, 5000
age = np.arange(t)[::-1]                                 # t - s for s = 1..t


def adam_ratio(g):
    """m_hat / sqrt(v_hat) after the gradients g[0], ..., g[t-1] of one parameter (epsilon left out)."""
    m_hat = (1 - beta1) * np.sum(beta1 ** age * g) / (1 - beta1 ** t)
    v_hat = (1 - beta2) * np.sum(beta2 ** age * g ** 2) / (1 - beta2 ** t)
    return m_hat / np.sqrt(v_hat)


sparse = np.zeros(t)
sparse[-1] = 5.0                                         # zero for 4,999 steps, then 5
kinds = {"steady (always 3)": np.full(t, 3.0),
         "noisy (mean 1, std 1)": 1.0 + np.random.default_rng(0).standard_normal(t),
         "sparse (0, then 5)": sparse}
ratios = {name: adam_ratio(g) for name, g in kinds.items()}
for name, r in ratios.items():
    print(f"{name:22} step = {r:.2f} * lr")
bound = (1 - beta1) / np.sqrt(1 - beta2)
print(f"Kingma and Ba's bound (1 - beta1) / sqrt(1 - beta2) = {bound:.2f}")
assert abs(ratios["steady (always 3)"] - 1) < 1e-9 and abs(ratios["noisy (mean 1, std 1)"]) < 1
assert 3.1 < ratios["sparse (0, then 5)"] <= bound and abs(bound - 3.16) < 0.01
#
# `torch.optim.Adam`'s `weight_decay` is the L2 term of SGD, added to the gradient before
# the moments: $g \leftarrow g + \lambda\theta$.
#
# ## AdamW: decoupled weight decay
#
# With Adam, an L2 term in the gradient is divided by $\sqrt{\hat v}$ like the rest of
# it, so parameters with large or noisy gradients are barely decayed, and the decay is
# no longer the simple shrinking it was for SGD. Loshchilov and Hutter (2019) decouple it:
# shrink the parameter directly and let the moments see only the loss's gradient,
#
# $$\theta \leftarrow \theta\,(1 - \eta\lambda) - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon},
#   \qquad m, v \text{ from } g \text{ alone.}$$
#
# PyTorch's `AdamW` scales the decay by the learning rate as written (default
# $\lambda = 10^{-2}$), and decays the *old* parameter before subtracting the Adam step.
# For plain SGD the two forms coincide: $\theta - \eta(g + \lambda\theta) =
# \theta(1 - \eta\lambda) - \eta g$.
#
# ## Exercises 6.2 `adam_step` and 6.3 `adamw_step` (in `cnnlib/updates.py`)
#
# Both return `(new_param, m, v)`; `m` and `v` are `None` before the first step (zeros;
# the stub's first lines turn them into zeros for you) and `t` counts from 1. Return the
# moments $m$, $v$ themselves (not $\hat m$, $\hat v$), put $\epsilon$ outside the square
# root, and keep float32 float32: the bias corrections `1 - beta1 ** t` are Python floats,
# while a NumPy float64 scalar such as `np.power(beta1, t)` would turn float32 arrays into
# float64.

# %%
cnnlib.check("6.2")
cnnlib.check("6.3")

# %%
param, grad = np.array([1.0, -2.0]), np.array([0.5, -1.0])
p_adam, m, v = adam_step(param, grad, None, None, t=1, lr=0.1)
print("first Adam step:", p_adam - param, "(lr * sign(grad), up to eps)")
p_l2, _, _ = adam_step(param, grad, None, None, t=1, lr=0.1, eps=0.5, weight_decay=0.5)
p_w, _, _ = adamw_step(param, grad, None, None, t=1, lr=0.1, eps=0.5, weight_decay=0.5)
print("with eps=0.5, weight_decay=0.5:  Adam (L2)", p_l2, "  AdamW", p_w)
assert np.allclose(p_adam - param, -0.1 * np.sign(grad))
assert np.allclose(p_l2, [0.9333333, -1.92]) and np.allclose(p_w, [0.9, -1.8333333])

# %% [markdown]
# ## The optimizers on two 2-D surfaces
#
# Left, the ill-conditioned quadratic $L = \tfrac12(\theta_1^2 + 25\,\theta_2^2)$
# (condition number 25, minimum at the origin), 60 steps from $(-4, 1.5)$: SGD with
# $\eta = 0.07$, close to its stability limit $2/25 = 0.08$, momentum and Nesterov with
# $\eta = 0.04$, $\mu = 0.7$. Right, the Rosenbrock function
# $L = (1 - \theta_1)^2 + 100\,(\theta_2 - \theta_1^2)^2$, a curved, narrow valley with its
# minimum at $(1, 1)$, 1000 steps from $(-1.5, 1.5)$: the SGD family with $\eta = 10^{-3}$
# (larger rates diverge on the steep walls) and $\mu = 0.9$. Adam and AdamW (weight
# decay 0.1) use $\eta = 0.1$ on both.

# %%
def quadratic_grad(theta):
    return np.array([1.0, 25.0]) * theta


def rosenbrock_grad(theta):
    t1, t2 = theta
    return np.array([-2 * (1 - t1) - 400 * t1 * (t2 - t1 ** 2), 200 * (t2 - t1 ** 2)])


def run(rule, grad_fn, start, steps, **kw):
    """The path of one optimizer: our update functions called in a loop, as cnnlib.optim does."""
    theta, velocity, m, v = np.array(start, dtype=np.float64), None, None, None
    path = [theta]
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        if rule == "sgd":
            theta, velocity = sgd_step(theta, g, velocity, **kw)
        elif rule == "adam":
            theta, m, v = adam_step(theta, g, m, v, t, **kw)
        else:
            theta, m, v = adamw_step(theta, g, m, v, t, **kw)
        path.append(theta)
    return np.array(path)                                # (steps + 1, 2)


surfaces = {
    "quadratic": dict(grad_fn=quadratic_grad, start=(-4.0, 1.5), steps=60, minimum=(0.0, 0.0),
                      loss=lambda a, b: 0.5 * (a ** 2 + 25 * b ** 2), lim=((-4.5, 1.5), (-2.0, 2.0))),
    "Rosenbrock": dict(grad_fn=rosenbrock_grad, start=(-1.5, 1.5), steps=1000, minimum=(1.0, 1.0),
                       loss=lambda a, b: (1 - a) ** 2 + 100 * (b - a ** 2) ** 2, lim=((-2.0, 2.0), (-0.8, 3.0))),
}
optimizers = {  # name: (rule, keywords on the quadratic, keywords on Rosenbrock)
    "Adam": ("adam", dict(lr=0.1), dict(lr=0.1)),
    "AdamW": ("adamw", dict(lr=0.1, weight_decay=0.1), dict(lr=0.1, weight_decay=0.1)),
    "SGD": ("sgd", dict(lr=0.07), dict(lr=1e-3)),
    "momentum": ("sgd", dict(lr=0.04, momentum=0.7), dict(lr=1e-3, momentum=0.9)),
    "Nesterov": ("sgd", dict(lr=0.04, momentum=0.7, nesterov=True), dict(lr=1e-3, momentum=0.9, nesterov=True)),
}
paths = {s: {name: run(rule, cfg["grad_fn"], cfg["start"], cfg["steps"], **(kq if s == "quadratic" else kr))
             for name, (rule, kq, kr) in optimizers.items()}
         for s, cfg in surfaces.items()}

fig, axes = plt.subplots(1, 2, figsize=(13, 5))
for ax, (s, cfg) in zip(axes, surfaces.items()):
    (x0, x1), (y0, y1) = cfg["lim"]
    a, b = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    ax.contour(a, b, cfg["loss"](a, b), levels=np.logspace(-2, 3.5, 23), colors="0.7", linewidths=0.6)
    for name, path in paths[s].items():
        line, = ax.plot(path[:, 0], path[:, 1], ".-", markersize=2.5, linewidth=1.2, label=name)
        ax.plot(*path[-1], "o", color=line.get_color(), markersize=8, markeredgecolor="black")  # where it ended
    ax.plot(*cfg["start"], "ks", label="start")
    ax.plot(*cfg["minimum"], "r*", markersize=14, label="minimum")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"{s}: {cfg['steps']} steps (circles: last points)")
axes[0].legend(loc="lower right", fontsize=8)
plt.show()

distances = {s: {name: float(np.linalg.norm(path[-1] - np.array(surfaces[s]["minimum"])))
                 for name, path in paths[s].items()} for s in surfaces}
for s in surfaces:
    print(f"{s:<11}" + "  ".join(f"{name}: {d:.4f}" for name, d in distances[s].items()))

# %% [markdown]
# The distances to the minimum after the last step (printed above) say the same as the
# pictures:
#
# - On the quadratic, SGD zig-zags across the steep direction ($1 - 25\eta = -0.75$ per
#   step) and crawls along the flat one ($1 - \eta = 0.93$ per step). Momentum and
#   Nesterov, with a smaller $\eta$, arrive far sooner. Adam's per-coordinate
#   normalisation treats both directions alike: its first steps go diagonally, by
#   $\eta$ in each coordinate, whatever the steepness; near the minimum it circles
#   with steps of about $\eta$ (a smaller $\eta$ or a schedule would settle it).
# - In the Rosenbrock valley plain SGD, held back by the steep walls, is still far
#   away after 1000 steps; momentum builds up speed along the floor and arrives. Adam
#   arrives too, without tuning to the wall's steepness. AdamW stops short: decoupled
#   decay pulls the parameters towards 0 at every step, so it settles where that pull
#   balances the loss's gradient. In a network that pull is the regularisation we want;
#   here it shows that AdamW does not minimise the loss alone.

# %%
d_quad, d_rosen = distances["quadratic"], distances["Rosenbrock"]
first_adam_step = paths["quadratic"]["Adam"][1] - paths["quadratic"]["Adam"][0]
print("Adam's first step on the quadratic:", first_adam_step)
assert np.allclose(np.abs(first_adam_step), 0.1), "the first Adam step is lr * sign(g) in every coordinate"
assert d_quad["momentum"] < 0.01 * d_quad["SGD"] and d_quad["Nesterov"] < 0.01 * d_quad["SGD"]
assert d_quad["SGD"] > 0.02 and d_quad["Adam"] < 0.1
assert d_rosen["SGD"] > 1.0 and d_rosen["momentum"] < 0.05 and d_rosen["Nesterov"] < 0.05
assert d_rosen["Adam"] < 0.2 and d_rosen["AdamW"] > d_rosen["Adam"]
assert np.linalg.norm(paths["Rosenbrock"]["AdamW"][-1]) < np.linalg.norm(paths["Rosenbrock"]["Adam"][-1])

# %% [markdown]
# ## The optimizers on real digits
#
# The linear classifier of chapter 05 (784 pixels to 10 logits, softmax
# cross-entropy), trained for 200 minibatches of 100 digits with each optimizer, on the
# same minibatches. Plain SGD and momentum use $\eta = 0.1$, Adam and AdamW
# $\eta = 0.01$. The curves are the minibatch losses, smoothed over 10 steps (Adam's and
# AdamW's nearly coincide: a decay of 0.01 barely changes 200 small steps).
#
# A fair comparison needs one more pair of runs. With momentum $\mu$, a gradient that
# stays the same moves the parameters by $\eta / (1 - \mu)$ times itself per step once
# the buffer has built up: momentum 0.9 at $\eta = 0.1$ takes steps as large as plain
# SGD at $\eta = 1.0$. So we also run plain SGD at $\eta = 1.0$, and momentum 0.9 at
# $\eta = 0.01$ (the effective step of plain SGD at 0.1).

# %%
images, labels = load_mnist_sample()
rng = np.random.default_rng(0)
order = rng.permutation(len(labels))
flat = images.reshape(len(images), -1)[order]                       # (2000, 784)
x_train, y_train, x_test, y_test = flat[:1500], labels[order][:1500], flat[1500:], labels[order][1500:]
batches = [rng.choice(len(x_train), 100, replace=False) for _ in range(200)]


def train_linear(rule, lrs=None, order=batches, **kw):
    """Train weight (10, 784) and bias (10,) from zeros on the minibatches ``order`` (lrs: one rate per
    step, instead of a constant lr); return the minibatch losses and the test accuracy."""
    params = {"weight": np.zeros((10, 784), np.float32), "bias": np.zeros(10, np.float32)}
    state = {name: (None, None) for name in params}                  # (velocity, None) or (m, v)
    losses = []
    for t, idx in enumerate(order, start=1):
        if lrs is not None:
            kw["lr"] = lrs[t - 1]
        logits, cache = linear_forward(x_train[idx], params["weight"], params["bias"])
        loss, dlogits = softmax_cross_entropy(logits, y_train[idx])
        _, dweight, dbias = linear_backward(dlogits, cache)
        for name, grad in (("weight", dweight), ("bias", dbias)):
            if rule == "sgd":
                params[name], velocity = sgd_step(params[name], grad, state[name][0], **kw)
                state[name] = (velocity, None)
            else:
                step_fn = adam_step if rule == "adam" else adamw_step
                params[name], m, v = step_fn(params[name], grad, *state[name], t, **kw)
                state[name] = (m, v)
        losses.append(loss)
    accuracy = float((linear_forward(x_test, params["weight"], params["bias"])[0].argmax(axis=1) == y_test).mean())
    return np.array(losses), accuracy


runs = {"SGD": train_linear("sgd", lr=0.1), "momentum 0.9": train_linear("sgd", lr=0.1, momentum=0.9),
        "Nesterov": train_linear("sgd", lr=0.1, momentum=0.9, nesterov=True),
        "Adam": train_linear("adam", lr=0.01), "AdamW, wd 0.01": train_linear("adamw", lr=0.01, weight_decay=0.01),
        "SGD, lr 1.0": train_linear("sgd", lr=1.0),                            # momentum 0.9's effective step
        "momentum 0.9, lr 0.01": train_linear("sgd", lr=0.01, momentum=0.9)}   # plain SGD's effective step

fig, ax = plt.subplots(figsize=(8, 4))
for name, (losses, _) in runs.items():
    ax.plot(np.arange(10, len(losses) + 1), np.convolve(losses, np.ones(10) / 10, mode="valid"), label=name)
ax.set_xlabel("step")
ax.set_ylabel("minibatch loss (mean of 10)")
ax.set_ylim(0, 1.5)
ax.legend()
plt.show()

final = {name: float(losses[-20:].mean()) for name, (losses, _) in runs.items()}
assert final["momentum 0.9"] < 0.6 * final["SGD"] and final["Adam"] < 0.6 * final["SGD"]
for fast, same_step in (("momentum 0.9", "SGD, lr 1.0"), ("momentum 0.9, lr 0.01", "SGD")):  # equal effective steps
    assert abs(final[fast] - final[same_step]) < 0.15 * final[same_step], (fast, same_step)
assert all(acc > 0.85 for _, acc in runs.values())

# %% tags=["nbval-ignore-output"]
for name, (losses, acc) in runs.items():
    print(f"{name:<22} loss over the last 20 steps {final[name]:.3f}   test accuracy {acc:.3f}")

# %% [markdown]
# At the same $\eta$, momentum and Adam drive the training loss down much faster than
# plain SGD (0.17 and 0.13 against 0.49 over the last 20 steps). But compared at the same
# *effective* step, momentum and plain SGD end within a few percent of each other (0.17
# against 0.18 at step 1.0, 0.48 against 0.49 at step 0.1): on this smooth, convex loss,
# most of momentum's gain is its larger step. Its real advantage shows where a large
# plain step is unstable, as in the narrow valleys above, where plain SGD at a stable
# $\eta$ crawls along the floor. The test accuracies end up close together, about 90 %:
# 1,500 digits are few, and a linear classifier soon fits the training digits better
# than it generalises.
#
# ## Learning-rate schedules
#
# A large learning rate makes fast progress early; a small one settles into a minimum
# late. Schedules lower $\eta$ during training. Three common ones, for an epoch (or step)
# counter $e$ and a base rate $\eta_0$:
#
# - **step decay** (`StepLR`): $\eta_0\,\gamma^{\lfloor e / s \rfloor}$, divided by
#   $1/\gamma$ (often 10) every $s$ epochs;
# - **exponential decay** (`ExponentialLR`): $\eta_0\,\gamma^{e}$;
# - **cosine decay** (`CosineAnnealingLR`, Loshchilov and Hutter, 2017): from $\eta_0$
#   down to $\eta_\text{min}$ along half a cosine over $T$ steps,
#   $\eta_\text{min} + (\eta_0 - \eta_\text{min})\,\frac{1 + \cos(\pi e / T)}{2}$:
#   slow at first, fastest in the middle, gentle at the end.
#
# **Warm-up.** At the very start Adam's moment estimates rest on few gradients and the
# weights are random, so large steps can throw the network off; many recipes raise the
# rate linearly over the first $W$ steps. Our `cosine_lr` combines both. With steps
# counted from 0 and $T = $ `total_steps` $- W$:
#
# $$\eta(e) = \begin{cases}
#   \eta_0\,\dfrac{e + 1}{W} & e < W \quad\text{(warm-up: } \eta_0/W, 2\eta_0/W, \dots, \eta_0)\\[2ex]
#   \eta_\text{min} + (\eta_0 - \eta_\text{min})\,\dfrac{1 + \cos\big(\pi\,(e - W)/T\big)}{2}
#     & W \le e \le \text{total\_steps}\\[2ex]
#   \eta_\text{min} & e > \text{total\_steps}.
# \end{cases}$$
#
# The warm-up reaches $\eta_0$ on step $W - 1$, the cosine starts from $\eta_0$ on step
# $W$ and reaches $\eta_\text{min}$ on step `total_steps`, after which the rate stays
# there. Without warm-up ($W = 0$) this is exactly the closed form of PyTorch's
# `CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)` after `step` calls of
# `scheduler.step()` (and with warm-up, PyTorch's `LinearLR(start_factor=1/W,
# total_iters=W-1)` followed by `CosineAnnealingLR` in a `SequentialLR`; the course's
# tests compare both).
#
# ## Exercise 6.4: `cosine_lr` (in `cnnlib/updates.py`)
#
# `cosine_lr(step, total_steps, base_lr, min_lr=0.0, warmup_steps=0)` returns the
# formula above as a Python float (use `math.cos`). Hand cases: with `total_steps=10`,
# `base_lr=1` the rates of steps 0, 5 and 10 are 1, 0.5 and 0; with `warmup_steps=4` and
# `base_lr=0.4`, steps 0 to 4 give 0.1, 0.2, 0.3, 0.4, 0.4 and step 7 gives 0.2.

# %%
cnnlib.check("6.4")

# %%
epochs, base = 100, 0.1
e = np.arange(epochs + 1)
schedules = {
    "step (gamma 0.1 every 30)": base * 0.1 ** (e // 30),
    "exponential (gamma 0.95)": base * 0.95 ** e,
    "cosine": np.array([cosine_lr(int(k), epochs, base) for k in e]),
    "cosine, warm-up 10, min 0.01": np.array([cosine_lr(int(k), epochs, base, 0.01, 10) for k in e]),
}
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
for name, lrs in schedules.items():
    for ax in axes:
        ax.plot(e, lrs, label=name)
axes[0].set_ylabel("learning rate")
axes[1].set_yscale("log")
axes[1].set_ylim(5e-5, 0.2)
axes[1].set_title("the same on a log scale")
for ax in axes:
    ax.set_xlabel("epoch (or step)")
axes[0].legend(fontsize=8)
plt.show()

warm = schedules["cosine, warm-up 10, min 0.01"]
print("warm-up:", warm[:11])
print(f"cosine: lr(55) = {warm[55]:.4f} (half-way: (0.1 + 0.01) / 2), lr(100) = {warm[100]:.4f}")
assert np.allclose(warm[:10], base * np.arange(1, 11) / 10) and np.isclose(warm[10], base)
assert np.isclose(warm[55], 0.055) and np.isclose(warm[100], 0.01) and np.all(np.diff(warm[10:]) <= 0)
assert np.isclose(schedules["cosine"][50], base / 2) and cosine_lr(150, epochs, base, 0.01, 10) == 0.01

# %% [markdown]
# Does a schedule beat a constant rate? Back to the linear classifier: momentum 0.9 for the
# same 200 minibatches, at a constant rate and with the cosine schedule from a peak down to
# 0, at two rates and for two orders of the minibatches. A fair comparison again needs
# care: a cosine from $\eta_0$ to 0 averages $\eta_0 / 2$, so it is compared both at the
# same peak and at the same *total* step (a peak of $2\eta$ against a constant $\eta$).
# Before you run it: which do you expect to end lower?

# %%
steps = len(batches)
rng1 = np.random.default_rng(1)
orders = {0: batches, 1: [rng1.choice(len(x_train), 100, replace=False) for _ in range(steps)]}
end_loss = {}
for lr in (0.1, 0.3):
    for seed, order in orders.items():
        settings = {"constant": [lr] * steps, "cosine, same peak": [cosine_lr(t, steps - 1, lr) for t in range(steps)],
                    "cosine, same total": [cosine_lr(t, steps - 1, 2 * lr) for t in range(steps)]}
        for name, lrs in settings.items():
            losses, accuracy = train_linear("sgd", lrs=lrs, order=order, momentum=0.9)
            end_loss[(lr, seed, name)] = float(losses[-20:].mean())
        print(f"lr {lr}, minibatch order {seed}: loss over the last 20 steps: " +
              ", ".join(f"{name} {end_loss[(lr, seed, name)]:.3f}" for name in settings))
for lr in (0.1, 0.3):
    for seed in orders:
        assert end_loss[(lr, seed, "cosine, same total")] < end_loss[(lr, seed, "constant")] \
            < end_loss[(lr, seed, "cosine, same peak")]

# %% [markdown]
# At the same peak the schedule loses: it has taken only half the total step. At the same
# total step it wins, in every case: it takes its large steps early, where they make
# progress, and its small ones at the end, where a large step would only bounce the
# parameters around the minimum from one minibatch to the next. (Chapter 08's recipe uses
# the cosine with warm-up.) Why does the end of the run matter so much more than its
# middle for the final loss?

# %% [markdown]
# ## Concept checks
#
# Answer on paper first, then replace `None` with your answer and run the cell: it says
# whether you are right (and, if not, what the usual mistake is), and `pytest tests/`
# grades it with the exercises.

# %% [markdown]
# **6.q1** SGD with `lr=0.01` and `momentum=0.9` under a constant gradient g: once the velocity is steady, each step moves the parameter by how many times g?

# %%
cnnlib.answer("6.q1", None)

# %% [markdown]
# **6.q2** `cosine_lr` with 200 warm-up steps: the rate of step 0 is what fraction of the peak rate?

# %%
cnnlib.answer("6.q2", None)

# %% [markdown]
# Step decay drops abruptly (training curves often show a sudden improvement at each
# drop); exponential decay is a straight line on the log scale, fast early and slow late;
# the cosine stays high for longer and lands softly on its minimum. In chapter 08, `cnnlib.optim.CosineLR` steps
# this schedule once per minibatch.
#
# ## Summary
#
# - SGD: $\theta \leftarrow \theta - \eta g$; its speed is limited by the condition number
#   of the loss surface.
# - Momentum (PyTorch's convention): $v \leftarrow \mu v + (1 - d) g$ (first $v = g$),
#   $\theta \leftarrow \theta - \eta v$; Nesterov steps with $g + \mu v$.
# - Adam: moving averages $m$, $v$ of $g$ and $g^2$, bias-corrected by $1 - \beta^t$, step
#   $\eta \hat m / (\sqrt{\hat v} + \epsilon)$; weight decay as L2 in the gradient.
# - AdamW: decoupled decay $\theta (1 - \eta\lambda)$, separate from the normalised step.
# - Schedules: step, exponential, cosine with linear warm-up.
#
# Your progress in this chapter:

# %%
print(cnnlib.progress(chapters=[6]))
