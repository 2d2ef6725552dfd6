"""The time of one CIFAR-10 epoch of the Tiny VGG preset, on synthetic images of CIFAR-10's shape.

    python benchmarks/cifar10_epoch.py                 # 50,000 images of 3x32x32, one epoch
    python benchmarks/cifar10_epoch.py --images 5000   # a tenth, to try it

No CIFAR-10 files are needed: the images are random float32 in [0, 1), the labels random
classes. The network, optimizer, batch size and schedule are those of
configs/cifar10_tiny_vgg.yaml (its warm-up cut to fit a shorter run), the reference
solutions are switched on, and the trainer is cnnlib.trainer.Trainer, as `cnnlib train`
runs it, without validation: the time is that of the training steps alone.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib import runs
from cnnlib.config import load_config
from cnnlib.trainer import Trainer

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "cifar10_tiny_vgg.yaml"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=50_000, help="images in the epoch (default: 50,000)")
    args = ap.parse_args(argv)
    if args.images < 1:
        ap.error(f"--images must be at least 1; got {args.images}")
    cnnlib.use_solutions("all")
    config = load_config(CONFIG, epochs=1)
    rng = np.random.default_rng(0)
    x = rng.random((args.images, 3, 32, 32), dtype=np.float32)  # (N, C, H, W), as load_cifar10 returns
    y = rng.integers(0, 10, args.images)
    model = runs.model_for(config, rng)
    optimizer = runs.optimizer_for(config, model)
    steps = -(-args.images // config.batch_size)
    # A short try (--images) keeps the schedule's shape: its warm-up is cut to fit the run.
    config.scheduler = dataclasses.replace(config.scheduler, warmup_steps=min(config.scheduler.warmup_steps, steps - 1))
    trainer = Trainer(model, optimizer, loss=config.loss, rng=rng, divergence_check=False,
                      scheduler=runs.scheduler_for(config, optimizer, steps), scheduler_interval="step")
    start = time.perf_counter()
    trainer.fit(x, y, epochs=1, batch_size=config.batch_size, verbose=False)
    seconds = time.perf_counter() - start
    print(f"{config.model} ({CONFIG.name}), one epoch of {args.images:,} images of 3x32x32 in {steps} steps of "
          f"batch {config.batch_size}: {seconds:.1f} s ({args.images / seconds:.0f} images/s, "
          f"{1000 * seconds / steps:.0f} ms a step)")


if __name__ == "__main__":
    main()
