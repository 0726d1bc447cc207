"""Shared plumbing of the examples: command-line flags, progress bars, plotting, data."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable

import autodiff as ad


def parser(description: str, steps: int, lr: float | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser with the flags every example takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--device", default="cpu", help="numpy, cpp, cuda or cpu (default)")
    p.add_argument("--steps", type=int, default=steps, help=f"training steps (default {steps})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="examples_out", help="folder for plots and checkpoints")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    if lr is not None:
        p.add_argument("--lr", type=float, default=lr)
    return p


def setup(args) -> ad.Device:
    """Seed everything and return the device the example runs on."""
    ad.manual_seed(args.seed)
    return ad.device(args.device)


def progress(iterable: Iterable, total: int | None = None, desc: str = "", quiet=False):
    """A tqdm progress bar when tqdm is installed (and not ``quiet``), else the iterable."""
    if quiet:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def pyplot():
    """matplotlib.pyplot with a file-only backend, or None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'autodiff[examples]')")
        return None
    return plt


def save_figure(plt, fig, out: str, name: str) -> str:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    print(f"saved {path}")
    return path


def digits(device, test_fraction: float = 0.25, seed: int = 0, images: bool = False):
    """scikit-learn's bundled 8x8 digits as tensors scaled to [0, 1]:
    (x_train, y_train, x_test, y_test); images (N, 1, 8, 8) when ``images``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn (pip install 'autodiff[examples]')")
    data = load_digits()
    x = ad.tensor(data.data / 16.0, dtype=ad.float32, device=device)
    y = ad.tensor(data.target, dtype=ad.int64, device=device)
    if images:
        x = x.reshape(-1, 1, 8, 8)
    n = len(y)
    perm = ad.randperm(n, generator=ad.Generator().manual_seed(seed), device=device)
    n_test = int(n * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def accuracy(model, x, y, batch: int = 512) -> float:
    """Fraction of correct argmax predictions, in eval mode without graph."""
    was_training = model.training
    model.eval()
    correct = 0
    with ad.no_grad():
        for i in range(0, len(y), batch):
            correct += int((model(x[i:i + batch]).argmax(-1) == y[i:i + batch]).sum())
    model.train(was_training)
    return correct / len(y)
