"""Training-time augmentation (chapter 12): ``Augment``, the exercises 12.1-12.3 chained for the trainer.

    augment = Augment(shift=2, rotate=10, erase=0.25)
    trainer = Trainer(model, optimizer, rng=0, augment=augment)  # training batches only

``Augment(x_batch, rng)`` returns a new batch: each image turned by an angle
drawn uniformly in ``[-rotate, rotate]`` degrees (``ops.rotate``), then shifted
by up to ``shift`` pixels along each axis (``ops.random_shift``), then, with
probability ``erase``, given one random erased rectangle (``ops.random_erasing``).
A setting of 0 skips its step. Every draw comes from ``rng`` (the trainer
passes its own), so a seeded run is repeatable. The ``augment:`` key of a
training configuration (``cnnlib.config.AugmentConfig``) builds one.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .core.validation import check_int, require


class Augment:
    """Random shift, rotation and erasing of a training batch: ``augment(x, rng) -> x_augmented``.

    Parameters
    ----------
    shift : int >= 0, the largest shift in pixels along each axis
    rotate : float >= 0, the largest rotation in degrees, either way
    erase : float in [0, 1], the probability that an image gets an erased rectangle
    """

    def __init__(self, shift: int = 0, rotate: float = 0.0, erase: float = 0.0):
        self.shift = check_int("Augment", "shift", shift, 0)
        for name, value, high in (("rotate", rotate, 180), ("erase", erase, 1)):
            require(isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= high,
                    "Augment", f"{name} must be a number in [0, {high}]", f"{name}={value!r}")
        self.rotate, self.erase = float(rotate), float(erase)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.rotate:
            x = ops.rotate(x, rng.uniform(-self.rotate, self.rotate, size=len(x)))
        if self.shift:
            x = ops.random_shift(x, self.shift, rng)
        if self.erase:
            x = ops.random_erasing(x, rng, p=self.erase)
        return x

    def __repr__(self) -> str:
        return f"Augment(shift={self.shift}, rotate={self.rotate:g}, erase={self.erase:g})"
