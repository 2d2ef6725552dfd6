"""The runs behind the trainer's divergence rule: one epoch of chapter 08's LeNet recipe per learning rate.

    python benchmarks/divergence_runs.py --data ../shared/data/mnist [--samples 10000]

For each learning rate it prints the first batch's loss, the epoch's mean training loss
and accuracy, and the validation accuracy after the epoch (the reference solutions run;
the trainer's divergence check is switched off so that every run finishes its epoch).
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import cnnlib
from cnnlib.callbacks import Callback
from cnnlib.data import load_mnist
from cnnlib.models import lenet
from cnnlib.optim import SGD
from cnnlib.trainer import Trainer


class FirstLoss(Callback):
    """Keeps the loss of the first batch (what an untrained network scores: about log 10)."""

    def __init__(self, out: list):
        self.out = out

    def on_batch_end(self, trainer, step, logs):
        if step == 1:
            self.out.append(logs["loss"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="folder with the MNIST files (default: CNNLIB_DATA, the cache)")
    parser.add_argument("--samples", type=int, default=10_000, help="training digits per run")
    parser.add_argument("--lrs", type=float, nargs="*", default=[1e-5, 1e-3, 1e-2, 0.1, 0.3, 1, 3, 10, 100, 1000])
    args = parser.parse_args()
    cnnlib.use_solutions("all")
    (x, y), _ = load_mnist(args.data)
    x_fit, y_fit, x_val, y_val = x[:args.samples], y[:args.samples], x[-5000:], y[-5000:]
    print(f"LeNet, SGD with Nesterov momentum 0.9, batch 64, one epoch on {args.samples:,} digits; "
          f"log(10) = {math.log(10):.3f}, chance accuracy 0.10")
    print(f"{'lr':>8} {'first loss':>11} {'epoch loss':>11} {'train acc':>10} {'val acc':>8} {'s':>5}")
    for lr in args.lrs:
        model = lenet(seed=0, relu_after_pool=True)
        trainer = Trainer(model, SGD(model, lr=lr, momentum=0.9, nesterov=True), rng=np.random.default_rng(0),
                          divergence_check=False)
        first = []
        trainer.callbacks.append(FirstLoss(first))
        start = time.perf_counter()
        with np.errstate(all="ignore"):
            try:
                h = trainer.fit(x_fit, y_fit, epochs=1, batch_size=64, validation_data=(x_val, y_val), verbose=False)
                row = h.rows[-1]
                loss, acc, val = row["loss"], row["accuracy"], row["val_accuracy"]
            except FloatingPointError:
                loss, acc, val = float("nan"), float("nan"), float("nan")
        print(f"{lr:>8g} {first[0] if first else float('nan'):>11.4g} {loss:>11.4g} {acc:>10.3f} {val:>8.3f} "
              f"{time.perf_counter() - start:>5.1f}")


if __name__ == "__main__":
    main()
