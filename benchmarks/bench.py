"""Speed and memory of the reference NumPy path, side by side with PyTorch's CPU eager mode.

    python benchmarks/bench.py                # every layer and preset, batch 64 and 128
    python benchmarks/bench.py --quick        # a minute; last line: LeNet B=128 full-step ratio
    python benchmarks/bench.py --contention   # the LeNet step quiet and beside a busy process

Each side runs in its own process (PyTorch's OpenMP threads and OpenBLAS's disturb
each other in one), in alternating rounds: NumPy, PyTorch, PyTorch, NumPy, ...
Each round prints the median of several repetitions after a warm-up; the tables
show the median of those medians and, after ±, half their spread. A ratio below 1
means cnnlib is faster. Everything is float32. GFLOP/s count the convolutions' and
linear layers' matrix products; "GEMM floor" is the time of those products alone in
NumPy (contiguous operands, no im2col, pooling, ReLU, bias, loss or optimizer),
divided by the step's time. Peak memory (RSS) is measured in a child process that
trains one epoch of 60,000 images at batch 128.

NumPy's side runs with cnnlib's thread policy (cnnlib/threads.py): BLAS gets the
cores that other processes leave free. ``--contention`` shows why, timing the step
with a competing busy loop on one core, with that policy and with BLAS on every core.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ROUNDS = 3


def median_time(fn, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------------------- what is timed

LAYERS = [  # (name, kind, constructor arguments, input shape without the batch, forward+backward FLOPs per image)
    *[(f"Conv2d {c}->{o} 3x3 pad 1 @ {hw}x{hw}", "Conv2d", (c, o, 3), (c, hw, hw), 3 * 2 * hw * hw * o * c * 9)
      for c, o, hw in [(1, 32, 28), (32, 64, 14), (1, 8, 28), (8, 16, 14)]],
    ("MaxPool2d 2 @ 32x28x28", "MaxPool2d", (2,), (32, 28, 28), 0),
    ("ReLU @ 32x28x28", "ReLU", (), (32, 28, 28), 0),
    ("BatchNorm2d 32 @ 28x28", "BatchNorm2d", (32,), (32, 28, 28), 0),
    ("Linear 3136->128", "Linear", (3136, 128), (3136,), 3 * 2 * 3136 * 128),
]
# (preset, its arguments, input shape): the course trains LeNet with ReLU after pooling
# (chapter 08, configs/mnist_lenet.yaml), the same function with a quarter of the ReLU work;
# "lenet relu-pool" is the usual order. The PyTorch twin keeps each order.
STEPS = [("small_cnn", {}, (1, 28, 28)), ("lenet", {"relu_after_pool": True}, (1, 28, 28)),
         ("lenet", {"relu_after_pool": False}, (1, 28, 28)), ("vgg_bn", {}, (1, 28, 28)),
         ("tiny_vgg", {}, (3, 32, 32))]
QUICK = [("lenet", {"relu_after_pool": True}, (1, 28, 28))]


def step_name(preset, kwargs):
    return preset + (" relu-pool" if kwargs.get("relu_after_pool") is False else "")


def channels_last_input(shape):
    """Inputs to layers after a conv are NCHW views of NHWC memory, as the conv produces them."""
    x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    if len(shape) == 4:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return x


def model_gemms(model, shape) -> list[list[tuple[int, int, int]]]:
    """The matrix products (m, k, n) of one training step, for each conv and linear layer in order:
    forward, dweight and dx (what an im2col formulation computes; m = output positions, n = outputs)."""
    gemms, x = [], np.zeros(shape, np.float32)
    for layer in model.layers:
        out = layer.forward(x)
        if type(layer).__name__ in ("Conv2d", "Linear"):
            k, n = layer.params["weight"][0].size, out.shape[1]
            gemms.append([(out.size // n, k, n), (k, out.size // n, n), (out.size // n, n, k)])
        x = out
    return gemms


def gemm_floor(products, repeat: int) -> float:
    """Seconds for these float32 products alone, with contiguous operands (their fastest case)."""
    rng = np.random.default_rng(0)
    total = 0.0
    for m, k, n in products:
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        total += median_time(lambda a=a, b=b: a @ b, repeat)
    return total


# ---------------------------------------------------------------------------- one side, in its own process

def numpy_side(cases, batches, repeat, with_layers) -> dict:
    import cnnlib
    from cnnlib import layers as L
    from cnnlib import models
    from cnnlib.ops import softmax_cross_entropy
    from cnnlib.optim import SGD
    cnnlib.use_solutions("all")
    out = {}
    if with_layers:
        for name, kind, args, shape, _ in LAYERS:
            layer = getattr(L, kind)(*args, **({"rng": np.random.default_rng(0)} if kind in ("Conv2d", "Linear") else {}))
            layer.train()
            x = channels_last_input((128, *shape))
            out[f"layer {name}"] = median_time(lambda layer=layer, x=x: layer.backward(np.ones_like(layer.forward(x))),
                                               repeat)
    for preset, kwargs, shape in cases:
        for batch in batches:
            model = models.build_model(preset, rng=np.random.default_rng(0), **kwargs)
            opt = SGD(model, lr=0.01, momentum=0.9)
            rng = np.random.default_rng(1)
            x, y = rng.random((batch, *shape), dtype=np.float32), rng.integers(0, 10, batch)
            model.train()

            def step(model=model, opt=opt, x=x, y=y):
                _, dlogits = softmax_cross_entropy(model.forward(x), y)
                model.backward(dlogits)
                opt.step()

            key = f"step {step_name(preset, kwargs)} {batch}"
            out[key] = median_time(step, repeat)
            gemms = model_gemms(model, x.shape)
            out[key + " flops"] = sum(2 * m * k * n for products in gemms for m, k, n in products)
            first, *rest = gemms  # the first layer needs no input gradient
            out[key + " floor"] = gemm_floor(first[:2] + [p for products in rest for p in products], repeat)
    return out


def torch_twin(model):
    """The same architecture in torch.nn (layers by class name; weights need not match for timing)."""
    import torch.nn as tnn
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


def torch_side(cases, batches, repeat, with_layers) -> dict:
    import torch
    import torch.nn as tnn

    from cnnlib import models
    out = {}
    if with_layers:
        for name, kind, args, shape, _ in LAYERS:
            mod = getattr(tnn, kind)(*args)
            x = torch.from_numpy(np.ascontiguousarray(channels_last_input((128, *shape)))).requires_grad_(True)

            def fwd_bwd(mod=mod, x=x):
                y = mod(x)
                y.backward(torch.ones_like(y))

            out[f"layer {name}"] = median_time(fwd_bwd, repeat)
    for preset, kwargs, shape in cases:
        model = torch_twin(models.build_model(preset, rng=np.random.default_rng(0), **kwargs))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        for batch in batches:
            rng = np.random.default_rng(1)
            x = torch.from_numpy(rng.random((batch, *shape), dtype=np.float32))
            y = torch.from_numpy(rng.integers(0, 10, batch))

            def step(model=model, opt=opt, x=x, y=y):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()

            out[f"step {step_name(preset, kwargs)} {batch}"] = median_time(step, repeat)
    out["threads"] = torch.get_num_threads()
    return out


def child(args) -> None:
    spec = json.loads(args.child)
    if spec.get("blas_threads"):
        from cnnlib import threads
        threads.set_threads(spec["blas_threads"])
    side = numpy_side if spec["side"] == "numpy" else torch_side
    cases = [tuple(c) for c in spec["cases"]]
    print(json.dumps(side(cases, spec["batches"], spec["repeat"], spec["layers"])))


def run_side(side, cases, batches, repeat, layers=False, blas_threads=None) -> dict:
    spec = {"side": side, "cases": cases, "batches": batches, "repeat": repeat, "layers": layers,
            "blas_threads": blas_threads}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"the {side} side failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def rounds(sides: dict, n: int) -> dict[str, dict[str, list[float]]]:
    """Run each side's zero-argument runner n times, alternating the order; every value of every round."""
    got = {name: {} for name in sides}
    for r in range(n):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            for key, value in sides[name]().items():
                got[name].setdefault(key, []).append(value)
    return got


def med(values) -> float:
    return statistics.median(values)


def spread(values) -> str:
    """Median ± half the range, in ms."""
    return f"{med(values) * 1e3:7.2f}±{(max(values) - min(values)) * 1e3 / 2:<5.2f}"


# ---------------------------------------------------------------------------- peak memory and contention

def rss_child(batch: int, n: int) -> None:
    """Train one epoch of n random MNIST-shaped images with the LeNet preset; print peak RSS in MB."""
    import cnnlib
    from cnnlib import models
    from cnnlib.ops import softmax_cross_entropy
    from cnnlib.optim import SGD
    cnnlib.use_solutions("all")
    model = models.build_model("lenet", rng=np.random.default_rng(0), relu_after_pool=True)
    opt = SGD(model, lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model.train()
    for i in range(0, n, batch):
        _, d = softmax_cross_entropy(model.forward(x[i:i + batch]), y[i:i + batch])
        model.backward(d)
        opt.step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def contention(n_rounds: int, repeat: int) -> None:
    """The LeNet step at batch 128, quiet and beside a busy loop, with cnnlib's policy and with BLAS on every core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nContention: LeNet-style step, batch 128, quiet and beside one busy process "
          f"({cores} cores; ms, median of {n_rounds} rounds ± half their range)")
    case = [list(QUICK[0])]
    key = "step lenet 128"
    results = {}
    for policy, pinned in [("cnnlib's policy", None), (f"BLAS on all {cores} cores", cores)]:
        for load in ("quiet", "busy"):
            times = []
            for _ in range(n_rounds):
                rival = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
                try:
                    times.append(run_side("numpy", case, [128], repeat, blas_threads=pinned)[key])
                finally:
                    if rival:
                        rival.kill()
                        rival.wait()
            results[policy, load] = times
    print(f"{'BLAS threads':<26}{'quiet':>14}{'busy':>14}{'busy/quiet':>12}")
    for policy, _ in [("cnnlib's policy", None), (f"BLAS on all {cores} cores", cores)]:
        q, b = results[policy, "quiet"], results[policy, "busy"]
        print(f"{policy:<26}{spread(q):>14}{spread(b):>14}{med(b) / med(q):12.2f}")


# ---------------------------------------------------------------------------- the tables

def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the LeNet-style preset at batch 128 only, about a minute")
    ap.add_argument("--contention", action="store_true", help="only the step quiet and beside a busy process")
    ap.add_argument("--rounds", type=int, default=ROUNDS, help=f"alternating rounds per side (default {ROUNDS})")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--rss-child", type=int, nargs=2, metavar=("BATCH", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if args.rss_child:
        return rss_child(*args.rss_child)
    if args.rounds < 1:
        ap.error(f"--rounds must be at least 1; got {args.rounds}")
    repeat = 5 if args.quick else 10
    if args.contention:
        return contention(args.rounds, repeat)

    try:
        import torch
        has_torch = True
        torch_version = torch.__version__
    except ImportError:  # the comparison is optional
        has_torch, torch_version = False, "absent (comparison skipped)"
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    peak = 2 * 2048 ** 3 / median_time(lambda: a @ a, repeat=5) / 1e9
    print(f"numpy {np.__version__}, torch {torch_version}, cores {os.cpu_count()}; "
          f"NumPy float32 GEMM peak (2048^3): {peak:.1f} GFLOP/s")

    cases, batches = (QUICK, [128]) if args.quick else (STEPS, [64, 128])
    cases = [list(c) for c in cases]
    sides = {"numpy": lambda: run_side("numpy", cases, batches, repeat, layers=not args.quick)}
    if has_torch:
        sides["torch"] = lambda: run_side("torch", cases, batches, repeat, layers=not args.quick)
    got = rounds(sides, args.rounds)
    ours, theirs = got["numpy"], got.get("torch", {})
    print(f"({args.rounds} alternating rounds, each side in its own process; ms: median of the rounds' medians "
          f"± half their range; torch threads {med(theirs['threads']) if theirs else '-'})")

    def ratio(key):
        return med(ours[key]) / med(theirs[key]) if key in theirs else None

    if not args.quick:
        print("\nPer layer, forward + backward, batch 128")
        print(f"{'layer':<36}{'cnnlib':>14}{'torch':>14}{'ratio':>7}{'GFLOP/s':>9}")
        for name, _, _, _, flops in LAYERS:
            key = f"layer {name}"
            r, t = ratio(key), theirs.get(key)
            print(f"{name:<36}{spread(ours[key]):>14}{spread(t) if t else '-':>14}"
                  f"{f'{r:7.2f}' if r else '      -'}{f'{128 * flops / med(ours[key]) / 1e9:9.1f}' if flops else '        -'}")

    print("\nFull training step: forward, cross-entropy, backward, SGD momentum")
    print(f"{'preset':<18}{'batch':>6}{'cnnlib':>14}{'torch':>14}{'ratio':>7}{'img/s':>7}{'GFLOP/s':>8}"
          f"{'% peak':>7}{'GEMM floor':>11}{'s/60k':>7}")
    for preset, kwargs, _ in cases:
        for batch in batches:
            key = f"step {step_name(preset, kwargs)} {batch}"
            t, r = med(ours[key]), ratio(key)
            gf = med(ours[key + " flops"]) / t / 1e9
            print(f"{step_name(preset, kwargs):<18}{batch:>6}{spread(ours[key]):>14}"
                  f"{spread(theirs[key]) if key in theirs else '-':>14}{f'{r:7.2f}' if r else '      -'}"
                  f"{batch / t:7.0f}{gf:8.1f}{100 * gf / peak:6.0f}%{med(ours[key + ' floor']) / t:11.2f}"
                  f"{60000 / batch * t:7.1f}")
    key = "step lenet 128"
    if key in theirs:
        print(f"LeNet-style B=128: its matrix products alone take {med(ours[key + ' floor']) / med(theirs[key]):.2f} "
              f"of PyTorch's whole step")

    n = 128 * 40 if args.quick else 60000
    out = subprocess.run([sys.executable, __file__, "--rss-child", "128", str(n)], capture_output=True,
                         text=True, check=True).stdout.split()[-1]
    print(f"\nPeak RSS, one epoch of {n} images at batch 128 (LeNet-style): {float(out):.0f} MB")
    if not args.quick:
        contention(args.rounds, repeat)
    r = ratio(key)
    print(f"LeNet-style B=128 full step, cnnlib/PyTorch ratio: {f'{r:.2f}' if r else '- (torch not installed)'}")


if __name__ == "__main__":
    main()
