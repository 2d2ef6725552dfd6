# %% [markdown]
# # Appendix (chapter 13): Your network in PyTorch
#
# Everything you wrote in this course has a name in PyTorch. The LeNet-style network of
# chapter 08 is ten lines of `torch.nn`; its forward pass is what your `conv2d_forward`,
# `relu_forward`, `maxpool2d_forward` and `linear_forward` compute; its backward pass, which
# you derived layer by layer, is what PyTorch's autograd records and replays; and the
# update is your `sgd_step`. This appendix makes that concrete with the network itself:
#
# 1. **Train and export.** The course's LeNet is trained on your own code (for a minute, on
#    a few thousand digits), and `cnnlib export` writes its weights as plain arrays and its
#    architecture as JSON.
# 2. **The same network in `torch.nn`**, checked layer by layer against the exported JSON,
#    with your weights loaded into it.
# 3. **Identical logits**: both networks classify the 10,000 test digits, and their outputs
#    agree to float32 rounding.
# 4. **One training step side by side**: the loss, every gradient and the updated weights,
#    and the time each side takes.
# 5. **A map** from each exercise of the course to the PyTorch call it became.
#
# There are no exercises here, and the chapter needs PyTorch. The next cells say whether it
# is installed and, if it is not, how to install it; without it, the cells that need it
# say "skipped" and the rest still runs.

# %%
%load_ext autoreload
%autoreload 2

import json
import time
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib import ops
from cnnlib.cli import main as cnnlib_command
from cnnlib.config import load_config
from cnnlib.data import load_mnist
from cnnlib.exercises import EXERCISES
from cnnlib.layers import Sequential
from cnnlib.optim import SGD
from cnnlib.runs import run_training
from cnnlib.trainer import Trainer

np.set_printoptions(precision=4, suppress=True)
print(cnnlib.describe_switch())

# %%
try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    torch = None
    print("PyTorch is not installed: the cells that start with %%needs_torch will say 'skipped'.\n"
          "To run them, install it into the environment of this notebook, in a terminal:\n"
          "    pip install torch==2.13.0    (the version the course is tested with; the CPU build is enough)\n"
          "or, from the course's folder, pip install -e \".[torch]\" (the same pin). Other platforms and GPUs:\n"
          "the command that https://pytorch.org/get-started/locally/ gives. Then restart the kernel and run all.")
else:
    # In one process, PyTorch's OpenMP threads and NumPy's BLAS threads wait for each other and
    # both slow down several times: PyTorch gets one thread here (benchmarks/bench.py runs each
    # side in a process of its own, with every core).
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__.split('+')[0]} is installed: every cell of this chapter runs.")

from IPython.core.magic import register_cell_magic


@register_cell_magic
def needs_torch(line, cell):
    """%%needs_torch: run the cell where PyTorch is installed; elsewhere say that it is skipped."""
    if torch is None:
        print("skipped: PyTorch is not installed (the cell at the top says how to install it)")
    else:
        get_ipython().run_cell(cell).raise_error()

# %% [markdown]
# ## 1. Your network, trained on your code, exported
#
# The cell below trains the network of `configs/mnist_lenet.yaml` (chapter 08's LeNet, with
# the ReLU after each pooling) with the function that `cnnlib train` runs, on the first
# 5,000 training digits (500 of them held out for validation) for one epoch, with a warm-up
# of 20 steps instead of 200 (an epoch here has 71), and tests it on the first 2,000 test
# digits (section 3 uses all 10,000). On the command line it would be
#
# ```bash
# cnnlib train --config configs/mnist_lenet.yaml --epochs 1 --train-limit 5000 --validation-size 500
# ```
#
# with `warmup_steps: 20` and `test_samples: 2000` in a copy of the config. The layers call
# your exercise functions: where one is not written yet, its reference runs, and a
# `[reference]` line says so. If you trained a network with `cnnlib train` yourself, you can
# carry it over instead: export its `runs/<run>/best.npz` below. (The accuracy's last digits change from run to run, with the
# number of threads the matrix products get: this cell's output is not compared when the
# notebooks are tested, its assertion is.)

# %% tags=["nbval-ignore-output"]
config = load_config("../configs/mnist_lenet.yaml", epochs=1, train_samples=5000, validation_size=500,
                     test_samples=2000, scheduler={"name": "cosine", "interval": "step", "warmup_steps": 20})
result = run_training(config, run_dir="runs/13_your_network", verbose=False)
print(f"{config.model}, {config.epochs} epoch: {result['subset']}")
print(f"test accuracy {result['test_accuracy']:.1%}")
assert result["test_accuracy"] > 0.9
checkpoint = Path(result["run_dir"]) / "best.npz"

# %% [markdown]
# `cnnlib export` writes the two files a network needs to leave cnnlib: `lenet.npz`, one
# plain array per parameter, named as PyTorch names them (`"0.weight"`, `"0.bias"`,
# `"3.weight"`, ... : the index of the layer, then the parameter), and `lenet.json`, the
# architecture, from which `Sequential.from_config` rebuilds the network in cnnlib. In a
# terminal: `cnnlib export --checkpoint runs/<run>/best.npz --out lenet.npz`. Here we call
# the same command from Python:

# %%
cnnlib_command(["export", "--checkpoint", str(checkpoint), "--out", "runs/13_your_network/lenet.npz", "--force"])
description = json.loads(Path("runs/13_your_network/lenet.json").read_text())
with np.load("runs/13_your_network/lenet.npz") as f:
    weights = dict(f)
architecture = description["architecture"]["layers"]
for i, spec in enumerate(architecture):
    arrays = [f"{name} {weights[name].shape}" for name in weights if name.split(".")[0] == str(i)]
    args = {k: v for k, v in spec.items() if k not in ("type", "init", "dtype")}
    print(f"{i}: {spec['type']:<9} {args}  " + ", ".join(arrays))

# %% [markdown]
# ## 2. The same network in `torch.nn`
#
# PyTorch's layers take the arguments that cnnlib's take, in the same order, with the same
# names: `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)`, the weight
# `(C_out, C_in, kH, kW)`, images `(N, C, H, W)`. So the network is written as the JSON
# reads:

# %%
%%needs_torch
net = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
    nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
    nn.Flatten(),
    nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
    nn.Linear(128, 10),
)
print(net)

# %% [markdown]
# Is it really the network that was exported? Each `torch.nn` layer's numbers are compared
# with the JSON's, layer by layer; then the weights are loaded with
# `load_state_dict(..., strict=True)`, which fails unless every exported array finds a
# parameter of the same name and shape, and every parameter gets one.

# %%
%%needs_torch
def numbers(module):
    """The numbers that define a torch layer, under the names that cnnlib's JSON gives them."""
    if isinstance(module, nn.Conv2d):
        return {"in_channels": module.in_channels, "out_channels": module.out_channels,
                "kernel_size": module.kernel_size[0], "stride": module.stride[0], "padding": module.padding[0],
                "bias": module.bias is not None}
    if isinstance(module, nn.Linear):
        return {"in_features": module.in_features, "out_features": module.out_features,
                "bias": module.bias is not None}
    if isinstance(module, nn.MaxPool2d):
        return {"kernel_size": module.kernel_size, "padding": module.padding}
    return {}


for spec, module in zip(architecture, net, strict=True):
    assert spec["type"] == type(module).__name__, (spec, module)
    assert {k: spec[k] for k in numbers(module)} == numbers(module), (spec, module)
net.load_state_dict({name: torch.from_numpy(array) for name, array in weights.items()}, strict=True)
print(f"all {len(architecture)} layers agree with lenet.json; {len(weights)} arrays loaded "
      f"({sum(a.size for a in weights.values()):,} numbers)")

# %% [markdown]
# ## 3. Identical logits on the test set
#
# Both networks now classify the 10,000 test digits: cnnlib's, rebuilt from the same two
# files (`Sequential.from_config` and `load_state_dict`), running your exercise code, and
# PyTorch's. Both compute in float32, but not in the same order (cnnlib's convolution is
# one matrix product over unfolded windows, PyTorch's is oneDNN's), so the logits may differ
# in their last bits: by about float32's relative precision, $2^{-23} \approx 1.2 \times
# 10^{-7}$, times the square root of the number of terms summed. The cell asserts that the
# largest difference is below $10^{-5}$ of the largest logit, and that both networks pick
# the same class for every digit. (The differences themselves change a little from run to
# run, with the number of threads the matrix products get: the next cell's output is not
# compared when the notebooks are tested, its assertions are.)

# %% tags=["nbval-ignore-output"]
%%needs_torch
(x_train, y_train), (x_test, y_test) = load_mnist()
mine = Sequential.from_config(description["architecture"])
mine.load_state_dict(weights)
logits_mine = Trainer(mine, optimizer=None).predict(x_test)
with torch.no_grad():
    logits_torch = torch.cat([net.eval()(torch.from_numpy(x_test[i:i + 1000])) for i in range(0, len(x_test), 1000)])
logits_torch = logits_torch.numpy()
difference = np.abs(logits_mine - logits_torch).max()
largest = np.abs(logits_torch).max()
same_class = int((logits_mine.argmax(1) == logits_torch.argmax(1)).sum())
print(f"{logits_mine.shape[0]:,} x {logits_mine.shape[1]} logits, the largest of them {largest:.1f} in size")
print(f"largest |cnnlib - PyTorch|: {difference:.1e} ({difference / largest:.1e} of the largest logit)")
print(f"test accuracy: cnnlib {(logits_mine.argmax(1) == y_test).mean():.2%}, "
      f"PyTorch {(logits_torch.argmax(1) == y_test).mean():.2%}")
assert logits_mine.dtype == logits_torch.dtype == np.float32
assert difference <= 1e-5 * largest, difference

# %%
%%needs_torch
print(f"the same class for {same_class:,} of {len(x_test):,} test digits, "
      f"largest difference below 1e-5 of the largest logit: {difference <= 1e-5 * largest}")
assert same_class == len(x_test)

# %% [markdown]
# ## 4. One training step, side by side
#
# A training step is forward, loss, backward, update: your `training_step` (exercise 8.1)
# on the left, PyTorch's four lines on the right, from the same weights, on the same 64
# training digits, with the optimizer of `configs/mnist_lenet.yaml` (SGD with Nesterov
# momentum 0.9; the learning rate 0.1 it reaches after the warm-up).
#
# | cnnlib (yours) | PyTorch |
# | --- | --- |
# | `out = model.forward(x)` | `out = net(x)` |
# | `loss, dout = softmax_cross_entropy(out, y)` | `loss = F.cross_entropy(out, y)` |
# | `model.backward(dout)` (every layer's backward, in reverse) | `optimizer.zero_grad(); loss.backward()` (autograd) |
# | `optimizer.step()` (your `sgd_step` for each parameter) | `optimizer.step()` |
#
# The gradients are compared parameter by parameter, then the weights after the step.

# %% tags=["nbval-ignore-output"]
%%needs_torch
xb, yb = x_train[:64], y_train[:64]
opt_mine = SGD(mine, lr=0.1, momentum=0.9, nesterov=True)
opt_torch = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)


def torch_step():
    opt_torch.zero_grad()
    loss = F.cross_entropy(net(torch.from_numpy(xb)), torch.from_numpy(yb))
    loss.backward()
    opt_torch.step()
    return loss


mine.train(), net.train()
_, loss_mine = ops.training_step(mine, opt_mine, ops.softmax_cross_entropy, xb, yb)
loss_torch = torch_step().item()
print(f"loss on the batch: cnnlib {loss_mine:.4f}, PyTorch {loss_torch:.4f}")
assert abs(loss_mine - loss_torch) <= 1e-5 * abs(loss_torch)

# %% tags=["nbval-ignore-output"]
%%needs_torch
def relative(a, b):
    """max |a - b| relative to the largest |b|."""
    return float(np.abs(a - b).max() / np.abs(b).max())


print(f"{'parameter':<10} {'shape':<18} {'gradient':>10} {'weight after the step':>22}")
worst = 0.0
for name, param in net.named_parameters():
    grad_error = relative(mine.grads[name], param.grad.numpy())
    weight_error = relative(mine.params[name], param.detach().numpy())
    worst = max(worst, grad_error, weight_error)
    print(f"{name:<10} {str(tuple(param.shape)):<18} {grad_error:10.1e} {weight_error:22.1e}")
print(f"(relative differences, cnnlib against PyTorch; the largest {worst:.1e})")
assert worst < 1e-4, worst

# %%
%%needs_torch
print(f"the loss and all {len(mine.grads)} gradients and updated weights agree to 1e-4 (relative): {worst < 1e-4}")

# %% [markdown]
# Every gradient and every updated weight agrees to float32 rounding: the backward passes
# you derived compute what autograd computes. Then the time of one step on each side,
# the median of 10, in this one process, with PyTorch on one thread (see the top of the
# chapter; `benchmarks/bench.py` runs each side in its own process, and its table in the
# README is the careful comparison):

# %% tags=["nbval-ignore-output"]
%%needs_torch
def median_ms(step, repeat=10):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


ms_mine = median_ms(lambda: ops.training_step(mine, opt_mine, ops.softmax_cross_entropy, xb, yb))
ms_torch = median_ms(torch_step)
print(f"one training step, batch 64: cnnlib {ms_mine:.1f} ms, PyTorch {ms_torch:.1f} ms "
      f"({ms_mine / ms_torch:.1f} times PyTorch's)")

# %% [markdown]
# ## 5. Each exercise, and the PyTorch call it became
#
# The course's exercise registry (`cnnlib.exercises`) names the PyTorch function or class
# that each exercise mirrors; the graders of `tests/maintainer/test_torch_*.py` check each
# reference solution against it. The backward functions have no call of their own in
# PyTorch: autograd derives them from the forward, as you did by hand.

# %%
print(f"{'id':<5} {'exercise':<27} PyTorch")
for ex in EXERCISES:
    print(f"{ex.id:<5} {ex.name:<27} {ex.pytorch}")

# %% [markdown]
# And the layers of the network above, each with the exercises it calls:
#
# | cnnlib layer | exercises it runs | `torch.nn` |
# | --- | --- | --- |
# | `Conv2d` | 2.3 `conv2d_forward`, 3.2 `conv2d_backward` | `nn.Conv2d` |
# | `MaxPool2d` | 4.3 `maxpool2d_forward`, 4.4 `maxpool2d_backward` | `nn.MaxPool2d` |
# | `ReLU` | 4.1 `relu_forward`, 4.2 `relu_backward` | `nn.ReLU` |
# | `Flatten` | (a reshape) | `nn.Flatten` |
# | `Linear` | 5.1 `linear_forward`, 5.2 `linear_backward` | `nn.Linear` |
# | the loss | 5.4 `softmax_cross_entropy` | `F.cross_entropy` |
# | `SGD` | 6.1 `sgd_step` | `torch.optim.SGD` |
# | `CosineLR` | 6.4 `cosine_lr` | `LinearLR`, then `CosineAnnealingLR` |
# | `Trainer` | 8.1 `training_step` | your own loop |
#
# ## What you have now
#
# - Your trained network in PyTorch: `cnnlib export` writes plain arrays under PyTorch's
#   parameter names and the architecture as JSON, and `load_state_dict` takes them as they are.
# - Proof that it is the same network: identical classes for all 10,000 test digits,
#   logits equal to float32 rounding, and one training step (loss, gradients, updated
#   weights) that agrees with PyTorch's.
# - A map from every exercise to its PyTorch name, to read PyTorch code with, and to go on
#   from: GPUs, mixed precision, `torchvision`'s data sets and models all start from the
#   `nn.Sequential` above.
