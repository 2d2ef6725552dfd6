"""Wall time to train a recipe on all of MNIST, and the test accuracy it ends at.

    python benchmarks/time_to_accuracy.py --data ../shared/data/mnist --seeds 0 1 2
    python benchmarks/time_to_accuracy.py --data ../shared/data/mnist --validate   # choosing a recipe

The recipe is a config (``configs/mnist_lenet.yaml``, chapter 08's, by default). With
``--validate`` it trains on the config's training part and is evaluated on the digits
it holds out (``validation_split``) after the last epoch: this is what a recipe is
chosen on, and the test set is not read. Without it, the chosen recipe trains on all
60,000 training digits and is evaluated on the 10,000 test digits once, at the end;
the test set changes nothing that is trained. For each seed it prints the accuracy,
the wall time of training and that one evaluation, and the process's peak memory
(RSS). Reference solutions throughout; cnnlib chooses the BLAS threads
(cnnlib/threads.py).
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib import runs
from cnnlib.config import load_config
from cnnlib.trainer import Trainer

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "mnist_lenet.yaml"
NO_CALLBACKS = {"callbacks": {"early_stopping": None, "checkpoint": None}}  # nothing to monitor: fixed epochs


def run(config, train, evaluation) -> dict:
    """Train one seed on ``train`` for the config's epochs, then evaluate once on ``evaluation``."""
    (x_train, y_train), (x_eval, y_eval) = train, evaluation
    rng = np.random.default_rng(config.seed)
    model = runs.model_for(config, rng)
    optimizer = runs.optimizer_for(config, model)
    scheduler = runs.scheduler_for(config, optimizer, steps_per_epoch=-(-len(x_train) // config.batch_size))
    trainer = Trainer(model, optimizer, loss=config.loss, scheduler=scheduler, rng=rng, augment=runs.augment_for(config),
                      scheduler_interval=config.scheduler.interval if config.scheduler else "epoch")
    start = time.perf_counter()
    trainer.fit(x_train, y_train, epochs=config.epochs, batch_size=config.batch_size, verbose=False)
    train_seconds = time.perf_counter() - start
    accuracy = trainer.evaluate(x_eval, y_eval)["accuracy"]
    return {"accuracy": accuracy, "train_s": train_seconds, "wall_s": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="directory of the MNIST files (default: CNNLIB_DATA, then the cache)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--validate", action="store_true",
                        help="train on the config's training part, evaluate on its held-out part (not the test set)")
    args = parser.parse_args(argv)

    cnnlib.use_solutions("all")
    base = load_config(args.config, **NO_CALLBACKS)
    if args.validate and not base.validation_split > 0:
        parser.error(f"--validate: the config must hold out a validation split; got validation_split="
                     f"{base.validation_split} in {args.config}")
    (x_all, y_all), test = runs.load_data(base, args.data)
    what = "validation" if args.validate else "test"
    print(f"{args.config.name}: {base.model}, {base.epochs} epochs at batch {base.batch_size}; "
          f"{what} accuracy after the last epoch")
    for seed in args.seeds:
        config = load_config(args.config, seed=seed, **NO_CALLBACKS)
        if args.validate:
            train, evaluation = runs.split_validation(x_all, y_all, config.validation_split,
                                                      np.random.default_rng(seed))
        else:
            train, evaluation = (x_all, y_all), test
        row = run(config, train, evaluation)
        print(f"seed {seed}: {row['accuracy']:.2%} {what} accuracy on {len(evaluation[0]):,} digits after "
              f"{row['wall_s']:.0f} s ({row['train_s']:.0f} s training {len(train[0]):,} digits, then one "
              f"evaluation); peak RSS {row['peak_rss_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
