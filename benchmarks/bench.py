"""Speed and memory of the reference NumPy path, side by side with PyTorch's CPU eager mode.

    python benchmarks/bench.py            # every layer and every preset, batch 64 and 128
    python benchmarks/bench.py --quick    # under a minute; last line: LeNet B=128 full-step ratio

Everything is float32 and measured in this one process, alternating cnnlib and
PyTorch, with warm-up and the median of several repetitions. A ratio below 1
means cnnlib is faster. GFLOP/s are compared with the float32 GEMM rate NumPy
reaches on this machine (measured first). Peak memory (RSS) is measured in a
child process that trains one epoch of 60,000 images at batch 128.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

import cnnlib
from cnnlib import models
from cnnlib.ops import softmax_cross_entropy
from cnnlib.optim import SGD

try:
    import torch
    import torch.nn as tnn
except ImportError:  # the comparison is optional
    torch = None


def median_time(fn, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def gemm_peak() -> float:
    """float32 GFLOP/s of one large NumPy matmul."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    t = median_time(lambda: a @ a, repeat=5)
    return 2 * 2048 ** 3 / t / 1e9


def gemm_time(shapes, repeat: int) -> float:
    """Seconds for these float32 products alone, with contiguous operands (their fastest case)."""
    rng = np.random.default_rng(0)
    total = 0.0
    for m, k, n in shapes:
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        total += median_time(lambda: a @ b, repeat)
    return total


# ---------------------------------------------------------------------------- per-layer timings

def layer_cases(batch: int):
    """(name, cnnlib layer, torch module or None, input shape, forward+backward FLOPs) at the presets' shapes."""
    from cnnlib import layers as L
    rng = np.random.default_rng(0)
    cases = []
    for c_in, c_out, hw in [(1, 32, 28), (32, 64, 14), (1, 8, 28), (8, 16, 14)]:
        flops = 3 * 2 * batch * hw * hw * c_out * c_in * 9  # forward, dx and dweight GEMMs
        cases.append((f"Conv2d {c_in}->{c_out} 3x3 pad 1 @ {hw}x{hw}", L.Conv2d(c_in, c_out, 3, padding=1, rng=rng),
                      torch and tnn.Conv2d(c_in, c_out, 3, padding=1), (batch, c_in, hw, hw), flops))
    cases.append(("MaxPool2d 2 @ 32x28x28", L.MaxPool2d(2), torch and tnn.MaxPool2d(2), (batch, 32, 28, 28), 0))
    cases.append(("ReLU @ 32x28x28", L.ReLU(), torch and tnn.ReLU(), (batch, 32, 28, 28), 0))
    cases.append(("BatchNorm2d 32 @ 28x28", L.BatchNorm2d(32), torch and tnn.BatchNorm2d(32), (batch, 32, 28, 28), 0))
    cases.append(("Linear 3136->128", L.Linear(3136, 128, rng=rng), torch and tnn.Linear(3136, 128), (batch, 3136),
                  3 * 2 * batch * 3136 * 128))
    return cases


def channels_last_input(shape):
    """Inputs to layers after a conv are NCHW views of NHWC memory, as the conv produces them."""
    x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    if len(shape) == 4:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return x


def time_layer(layer, tmod, shape, repeat):
    x = channels_last_input(shape)
    layer.train()

    def ours():
        out = layer.forward(x)
        layer.backward(np.ones_like(out))

    t_ours = median_time(ours, repeat)
    t_torch = None
    if tmod is not None:
        xt = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(True)

        def theirs():
            out = tmod(xt)
            out.backward(torch.ones_like(out))

        t_torch = median_time(theirs, repeat)
    return t_ours, t_torch


# ---------------------------------------------------------------------------- full training steps

def torch_twin(model):
    """The same architecture in torch.nn (layers by class name; weights need not match for timing)."""
    mods = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2d":
            mods.append(tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                   stride=layer.stride, padding=layer.padding))
        elif kind == "Linear":
            mods.append(tnn.Linear(layer.in_features, layer.out_features))
        elif kind in ("MaxPool2d", "AvgPool2d"):
            mods.append(getattr(tnn, kind)(layer.kernel_size, layer.stride))
        elif kind in ("BatchNorm2d", "BatchNorm1d"):
            mods.append(getattr(tnn, kind)(layer.num_features))
        elif kind in ("Dropout", "Dropout2d"):
            mods.append(getattr(tnn, kind)(layer.p))
        elif kind in ("ReLU", "Flatten", "Tanh", "Sigmoid"):
            mods.append(getattr(tnn, kind)())
        else:
            raise ValueError(f"no torch twin for {kind}")
    return tnn.Sequential(*mods)


def model_gemms(model, shape) -> list[list[tuple[int, int, int]]]:
    """The matrix products (m, k, n) of one training step, for each conv and linear layer in order:
    forward, dweight and dx (what an im2col formulation computes; m = output positions, n = outputs)."""
    gemms, x = [], np.zeros(shape, np.float32)
    for layer in model.layers:
        out = layer.forward(x)
        if type(layer).__name__ in ("Conv2d", "Linear"):
            k, n = layer.params["weight"][0].size, out.shape[1]
            m = out.size // n
            gemms.append([(m, k, n), (k, m, n), (m, n, k)])
        x = out
    return gemms


def step_flops(model, shape) -> float:
    """Forward + backward FLOPs of the convolutions and linear layers."""
    return sum(2 * m * k * n for products in model_gemms(model, shape) for m, k, n in products)


# The course trains LeNet with ReLU after pooling (chapter 08, configs/mnist_lenet.yaml):
# the same function, a quarter of the ReLU work. The PyTorch twin keeps the same order.
PRESET_ARGS = {"lenet": {"relu_after_pool": True}}


def lenet_gemms(batch: int = 128):
    """``model_gemms`` of the LeNet-style preset on MNIST-sized images."""
    model = models.build_model("lenet", rng=np.random.default_rng(0), **PRESET_ARGS["lenet"])
    return model_gemms(model, (batch, 1, 28, 28))


def time_step(preset: str, batch: int, repeat: int, input_shape):
    model = models.build_model(preset, rng=np.random.default_rng(0), **PRESET_ARGS.get(preset, {}))
    opt = SGD(model, lr=0.01, momentum=0.9)
    rng = np.random.default_rng(1)
    x = rng.random((batch,) + input_shape, dtype=np.float32)
    y = rng.integers(0, 10, batch)
    model.train()

    def ours():
        logits = model.forward(x)
        loss, dlogits = softmax_cross_entropy(logits, y)
        model.backward(dlogits)
        opt.step()

    t_ours = median_time(ours, repeat)
    flops = step_flops(model, x.shape)
    t_torch = None
    if torch is not None:
        tm = torch_twin(model)
        topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def theirs():
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tm(xt), yt)
            loss.backward()
            topt.step()

        t_torch = median_time(theirs, repeat)
    return t_ours, t_torch, flops


# ---------------------------------------------------------------------------- peak memory

def rss_child(batch: int, n: int) -> None:
    """Train one epoch of n random MNIST-shaped images with the LeNet preset; print peak RSS in MB."""
    model = models.build_model("lenet", rng=np.random.default_rng(0), **PRESET_ARGS["lenet"])
    opt = SGD(model, lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model.train()
    for i in range(0, n, batch):
        logits = model.forward(x[i:i + batch])
        _, d = softmax_cross_entropy(logits, y[i:i + batch])
        model.backward(d)
        opt.step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def fmt_ms(t):
    return "-" if t is None else f"{t * 1e3:8.2f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="LeNet-style preset at batch 128 only, under a minute")
    ap.add_argument("--rss-child", type=int, nargs=2, metavar=("BATCH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cnnlib.use_solutions("all")
    if args.rss_child:
        rss_child(*args.rss_child)
        return
    threads = torch.get_num_threads() if torch is not None else "-"
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent (comparison skipped)'}, "
          f"torch threads {threads}, cores {os.cpu_count()}")
    peak = gemm_peak()
    print(f"NumPy float32 GEMM peak (2048^3): {peak:.1f} GFLOP/s")
    repeat = 5 if args.quick else 10

    if not args.quick:
        print("\nPer layer, forward + backward, batch 128 (ms)")
        print(f"{'layer':<36}{'cnnlib':>9}{'torch':>9}{'ratio':>8}{'GFLOP/s':>9}")
        for name, layer, tmod, shape, flops in layer_cases(128):
            t_ours, t_torch = time_layer(layer, tmod, shape, repeat)
            ratio = f"{t_ours / t_torch:8.2f}" if t_torch else "       -"
            gf = f"{flops / t_ours / 1e9:9.1f}" if flops else "        -"
            print(f"{name:<36}{fmt_ms(t_ours):>9}{fmt_ms(t_torch):>9}{ratio}{gf}")
        conv2 = lenet_gemms()[1]
        print(f"(Conv2d 32->64: its three GEMMs alone take {fmt_ms(gemm_time(conv2, repeat)).strip()} ms in NumPy)")

    presets = [("lenet", (1, 28, 28))] if args.quick else [
        ("small_cnn", (1, 28, 28)), ("lenet", (1, 28, 28)), ("vgg_bn", (1, 28, 28)), ("tiny_vgg", (3, 32, 32))]
    batches = [128] if args.quick else [64, 128]
    print("\nFull training step: forward, cross-entropy, backward, SGD momentum (ms)")
    print(f"{'preset':<12}{'batch':>6}{'cnnlib':>9}{'torch':>9}{'ratio':>8}{'img/s':>9}{'GFLOP/s':>9}"
          f"{'% peak':>8}{'s/60k':>7}")
    last = None
    for preset, shape in presets:
        for batch in batches:
            t_ours, t_torch, flops = time_step(preset, batch, repeat, shape)
            ratio = t_ours / t_torch if t_torch else None
            gf = flops / t_ours / 1e9
            print(f"{preset:<12}{batch:>6}{fmt_ms(t_ours):>9}{fmt_ms(t_torch):>9}"
                  f"{(f'{ratio:8.2f}' if ratio else '       -')}{batch / t_ours:9.0f}{gf:9.1f}"
                  f"{100 * gf / peak:7.0f}%{60000 / batch * t_ours:7.1f}")
            if preset == "lenet" and batch == 128:
                last, torch_step = ratio, t_torch

    first, *rest = lenet_gemms()
    floor = gemm_time(first[:2] + [p for products in rest for p in products], repeat)  # no dx for the input
    print(f"\nLeNet-style step at batch 128, its matrix products alone (no im2col, pooling, ReLU, bias, "
          f"loss or optimizer): {fmt_ms(floor).strip()} ms"
          + (f", {floor / torch_step:.2f} of PyTorch's whole step" if last is not None else ""))

    n = 128 * 40 if args.quick else 60000
    out = subprocess.run([sys.executable, __file__, "--rss-child", "128", str(n)], capture_output=True,
                         text=True, check=True).stdout.split()[-1]
    print(f"\nPeak RSS, one epoch of {n} images at batch 128 (LeNet-style): {float(out):.0f} MB")
    if last is not None:
        print(f"LeNet-style B=128 full step, cnnlib/PyTorch ratio: {last:.2f}")
    else:
        print("LeNet-style B=128 full step, cnnlib/PyTorch ratio: - (torch not installed)")


if __name__ == "__main__":
    main()
