"""Chapter 12's capstone: train a recipe on MNIST for some seeds, choose on validation, test once.

    python benchmarks/capstone.py --data ../shared/data/mnist --seeds 0                 # a candidate
    python benchmarks/capstone.py --data ../shared/data/mnist --seeds 0 1 2 --test      # the chosen one

The recipe (``configs/mnist_capstone.yaml`` by default) trains on 54,000 of the 60,000
training digits and is evaluated after every epoch on the 6,000 it holds out (the
config's ``validation_split``, seeded by each seed): this is what a recipe is chosen on.
With ``--test``, once the last epoch is over, the network is also evaluated on the
10,000 test digits, once; the test set changes nothing that is trained. Both use the
reference solutions and write one JSON file (``--out``; by default
``benchmarks/results/capstone_reference.json`` with ``--test``, else
``capstone_candidate.json``) with the recipe, the command, the machine, the date and,
per seed, the validation accuracy after each epoch, the test accuracy and the wall time
of training; it is rewritten after every seed, so a stopped run keeps the seeds it
finished. Chapter 12 reads the files and asserts what they claim.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

import cnnlib
from cnnlib import runs
from cnnlib.config import load_config
from cnnlib.core.validation import require
from cnnlib.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "mnist_capstone.yaml"


def _cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def run(config, train, validation, test=None) -> dict:
    """Train one seed of ``config``, validating after each epoch; evaluate on ``test`` (if given) at the end."""
    (x_train, y_train) = train
    rng = np.random.default_rng(config.seed)
    model = runs.model_for(config, rng)
    optimizer = runs.optimizer_for(config, model)
    scheduler = runs.scheduler_for(config, optimizer, steps_per_epoch=-(-len(x_train) // config.batch_size))
    trainer = Trainer(model, optimizer, loss=config.loss, scheduler=scheduler, rng=rng, augment=runs.augment_for(config),
                      scheduler_interval=config.scheduler.interval if config.scheduler else "epoch")
    start = time.perf_counter()
    history = trainer.fit(x_train, y_train, epochs=config.epochs, batch_size=config.batch_size,
                          validation_data=validation, verbose=False)
    seconds = time.perf_counter() - start  # training and the validation after each epoch
    val = [row["val_accuracy"] for row in history.rows]
    return {"seed": config.seed, "val_accuracy": val[-1], "val_accuracy_per_epoch": val,
            "test_accuracy": None if test is None else trainer.evaluate(*test)["accuracy"],
            "train_time_s": round(seconds, 1), "seconds_per_epoch": round(seconds / len(history), 1),
            "epochs": len(history), "train_samples": len(x_train), "val_samples": len(validation[0])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="directory of the MNIST files (default: CNNLIB_DATA, then the cache)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--test", action="store_true",
                        help="after the last epoch, evaluate once on the 10,000 test digits")
    parser.add_argument("--out", type=Path, help="the JSON file to write")
    args = parser.parse_args(argv)

    cnnlib.use_solutions("all")
    out = args.out or ROOT / "benchmarks" / "results" / f"capstone_{'reference' if args.test else 'candidate'}.json"
    overrides = {"callbacks": {"early_stopping": None, "checkpoint": None}}  # the last epoch's network is measured
    base = load_config(args.config, **overrides)
    require(base.validation_split > 0, "capstone.py", "the config must hold out a validation split",
            f"validation_split={base.validation_split}")
    (x_all, y_all), test = runs.load_data(base, args.data)
    config_path = args.config.resolve()
    report = {"recipe": {k: v for k, v in base.to_dict().items() if k not in ("seed", "data_dir", "run_dir", "name",
                                                                             "callbacks")},
              "config": config_path.relative_to(ROOT).as_posix() if config_path.is_relative_to(ROOT) else str(args.config),
              "protocol": "trained on the config's training part, validated on its held-out part after every epoch"
              + ("; evaluated on the test set once, after the last epoch" if args.test else "; test set not read"),
              "command": "python benchmarks/capstone.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "machine": {"platform": platform.platform(), "processor": _cpu_name(),
                          "cpu_count": os.cpu_count(), "numpy": np.__version__,
                          "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                          "note": "shared with other jobs while it ran"},
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "seeds": []}
    for seed in args.seeds:
        config = load_config(args.config, seed=seed, **overrides)
        train, validation = runs.split_validation(x_all, y_all, config.validation_split, np.random.default_rng(seed))
        row = run(config, train, validation, test if args.test else None)
        report["seeds"].append(row)
        out.parent.mkdir(parents=True, exist_ok=True)
        runs._write_json(out, report)
        print(f"seed {seed}: {row['val_accuracy']:.2%} validation accuracy"
              + (f", {row['test_accuracy']:.2%} test accuracy" if args.test else "")
              + f" after {row['epochs']} epochs, {row['train_time_s']:.0f} s of training", flush=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
