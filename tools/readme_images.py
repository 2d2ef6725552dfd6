"""Draw the pictures in docs/images/ from the network chapter 08 trained.

    python tools/build_notebook.py tools/notebooks/08_training_on_mnist.py   # saves the checkpoint
    python tools/readme_images.py

Reads chapters/checkpoints/lenet_mnist.npz and the MNIST test set (CNNLIB_DATA or
the cache), and overwrites the three PNG files in docs/images/.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import cnnlib  # noqa: E402
from cnnlib import viz  # noqa: E402
from cnnlib.checkpoint import load_checkpoint  # noqa: E402
from cnnlib.data import load_mnist  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "chapters" / "checkpoints" / "lenet_mnist.npz"
OUT = ROOT / "docs" / "images"
SALIENCY_CLASSES = [7, 3, 2, 6, 8, 9]  # the first test digit of each


def main() -> None:
    cnnlib.use_solutions("all")
    if not CHECKPOINT.is_file():
        raise SystemExit(f"readme_images: no checkpoint at {CHECKPOINT}; build chapter 08 first "
                         "(python tools/build_notebook.py tools/notebooks/08_training_on_mnist.py)")
    model = load_checkpoint(CHECKPOINT)["model"]
    _, (x_test, y_test) = load_mnist()
    first_conv = viz.conv_layer_indices(model)[0]
    picks = [int(np.flatnonzero(y_test == k)[0]) for k in SALIENCY_CLASSES]
    drawings = {
        "lenet_filters.png": lambda path: viz.plot_filters(model, first_conv, path=path),
        "lenet_feature_maps.png": lambda path: viz.plot_feature_maps(model, x_test[0], first_conv,
                                                                     max_channels=16, path=path),
        "lenet_saliency.png": lambda path: viz.plot_saliency(model, x_test[picks], path=path),
    }
    for name, draw in drawings.items():
        plt.close(draw(OUT / name))
        print(f"wrote {OUT / name}")

if __name__ == "__main__":
    main()
