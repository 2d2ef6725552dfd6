"""Wall time to train the LeNet-style network on all of MNIST to a test accuracy.

    python benchmarks/time_to_accuracy.py --data ../shared/data/mnist                # seed 0
    python benchmarks/time_to_accuracy.py --data ../shared/data/mnist --seeds 0 1 2

Trains with the settings of configs/mnist_lenet.yaml (the recipe of chapter 08) on
all 60,000 training digits (no validation split), with the reference solutions,
and evaluates on the 10,000 test digits after every epoch. For each seed it prints
the test accuracy after each epoch and the wall time, training and evaluation
included, at which the accuracy first reached the target (99.2 % by default).
The recipe is fixed in advance: the test set never changes what is trained.
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib import runs
from cnnlib.config import load_config
from cnnlib.trainer import Trainer

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "mnist_lenet.yaml"


def run(seed: int, data, config_path: Path, target: float) -> tuple[list[float], list[float], float | None]:
    """Train one seed; return (test accuracy per epoch, seconds at each epoch's end, seconds to target)."""
    config = load_config(config_path, seed=seed, validation_split=0.0,
                         callbacks={"early_stopping": None, "checkpoint": None})  # nothing to monitor
    (x_train, y_train), test = data
    rng = np.random.default_rng(config.seed)
    model = runs.model_for(config, rng)
    optimizer = runs.optimizer_for(config, model)
    scheduler = runs.scheduler_for(config, optimizer, steps_per_epoch=-(-len(x_train) // config.batch_size))
    trainer = Trainer(model, optimizer, loss=config.loss, scheduler=scheduler, rng=rng,
                      scheduler_interval=config.scheduler.interval if config.scheduler else "epoch")
    history = trainer.fit(x_train, y_train, epochs=config.epochs, batch_size=config.batch_size,
                          validation_data=test, verbose=False)
    accuracies = [row["val_accuracy"] for row in history.rows]
    seconds = list(itertools.accumulate(row["time"] for row in history.rows))  # each includes its evaluation
    reached = next((s for a, s in zip(accuracies, seconds) if a >= target), None)
    return accuracies, seconds, reached


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="directory of the MNIST files (default: CNNLIB_DATA, then the cache)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--target", type=float, default=0.992, help="test accuracy to reach (default 0.992)")
    parser.add_argument("--config", type=Path, default=CONFIG)
    args = parser.parse_args(argv)

    cnnlib.use_solutions("all")
    data = runs.load_data(load_config(args.config), args.data)
    print(f"{args.config.name}: {len(data[0][0]):,} training digits, {len(data[1][0]):,} test digits, "
          f"target {args.target:.1%}")
    for seed in args.seeds:
        accuracies, seconds, reached = run(seed, data, args.config, args.target)
        epochs = ", ".join(f"{a:.2%} at {s:.0f} s" for a, s in zip(accuracies, seconds))
        verdict = f"reached {args.target:.1%} after {reached:.0f} s" if reached else f"did not reach {args.target:.1%}"
        print(f"seed {seed}: {verdict} (test accuracy per epoch: {epochs})")


if __name__ == "__main__":
    main()
