"""Training-step benchmark: ms per step (zero_grad, forward, loss, backward, optimizer step)
of three small models on every CPU backend of autodiff and on PyTorch CPU, in one run.

    python benchmarks/train.py                      # all models, numpy + cpp + torch
    python benchmarks/train.py --models mlp --steps 100 --json out.json
    python benchmarks/train.py --backends cuda,torch-cuda   # on a GPU: vs PyTorch CUDA eager

Models (the same code builds both libraries' versions, since the APIs match):
  mlp          digits MLP 64-256-256-10, batch 128, cross-entropy, SGD(lr=0.01)
  cnn          conv3x3 1->16, ReLU, conv3x3 16->32, ReLU, maxpool 2, linear 512->10;
               batch 64 of 8x8 images, SGD(lr=0.01, momentum=0.9)
  cifar_cnn    3 x (conv3x3 + BatchNorm + ReLU) of 32, 64, 128 channels with 2x2 max pools,
               global average pool, linear 128->10; batch 64 of 3x32x32, SGD(momentum=0.9)
               (not in the default --models: ~40 ms a step)
  transformer  decoder-only LM: embedding (vocab 65) + sinusoidal positions, 2 pre-norm
               layers (d 128, 4 heads, ff 512, causal mask, no dropout), LayerNorm, linear
               head; batch 16 x seq 64, Adam(lr=3e-4)

Each figure is the best over ``--rounds`` rounds of the median of ``--steps`` timed steps
(a third of them for the transformer) after ``--warmup`` steps (see ``time_rounds``);
ratios are autodiff / PyTorch (below 1 = faster than PyTorch). PyTorch runs with
``--threads`` (2) threads.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np

V, T, D, HEADS, FF, LAYERS = 65, 64, 128, 4, 512, 2


def _sinusoid(n: int, d: int) -> np.ndarray:
    pos = np.arange(n)[:, None]
    angle = pos * np.exp(np.arange(0, d, 2) * (-math.log(10000.0) / d))
    table = np.zeros((n, d), np.float32)
    table[:, 0::2], table[:, 1::2] = np.sin(angle), np.cos(angle)
    return table


def build(lib, nn, name: str, device):
    """(model, optimizer, loss_fn, inputs, targets) for ``name`` in library ``lib``."""
    rng = np.random.default_rng(0)

    def t(arr, dtype=None):
        x = lib.tensor(arr) if dtype is None else lib.tensor(arr, dtype=dtype)
        return x.to(device)

    if name == "mlp":
        model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        x = t(rng.random((128, 64), dtype=np.float32) * 16)
        y = t(rng.integers(0, 10, 128), lib.int64)
        opt_fn = lambda p: lib.optim.SGD(p, lr=0.01)
    elif name == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(32 * 4 * 4, 10))
        x = t(rng.random((64, 1, 8, 8), dtype=np.float32))
        y = t(rng.integers(0, 10, 64), lib.int64)
        opt_fn = lambda p: lib.optim.SGD(p, lr=0.01, momentum=0.9)
    elif name == "cifar_cnn":
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

        model = nn.Sequential(*block(3, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2),
                              *block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(128, 10))
        x = t(rng.standard_normal((64, 3, 32, 32), dtype=np.float32))
        y = t(rng.integers(0, 10, 64), lib.int64)
        opt_fn = lambda p: lib.optim.SGD(p, lr=0.01, momentum=0.9)
    elif name == "transformer":
        model = _lm(lib, nn, t)
        x = t(rng.integers(0, V, (16, T)), lib.int64)
        y = t(rng.integers(0, V, (16 * T,)), lib.int64)
        opt_fn = lambda p: lib.optim.Adam(p, lr=3e-4)
    else:
        raise ValueError(f"unknown model {name!r}; expected mlp, cnn, cifar_cnn or transformer")
    model = model.to(device)
    return model, opt_fn(model.parameters()), nn.functional.cross_entropy, x, y


def _lm(lib, nn, t):
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(V, D)
            self.register_buffer("pe", lib.tensor(_sinusoid(T, D)))
            self.register_buffer("mask", lib.triu(lib.full((T, T), float("-inf")), 1))
            layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(D)
            self.head = nn.Linear(D, V)

        def forward(self, x):
            h = self.blocks(self.embed(x) + self.pe, mask=self.mask, is_causal=True)
            return self.head(self.norm(h)).reshape(-1, V)

    return LM()


def make_step(lib, nn, name: str, device, sync=None):
    """A closure running one training step of ``name`` in library ``lib``; ``sync`` (for GPU
    devices) waits for the device so that host timers see the whole step."""
    model, opt, loss_fn, x, y = build(lib, nn, name, device)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sync is not None:
            sync()
        return loss

    return step


def time_rounds(steps_by_backend: dict, n: int, warmup: int, rounds: int) -> dict:
    """ms per step of each backend: in each round, every backend in turn runs ``warmup``
    then ``n`` timed steps; a backend's figure is its best per-round median. Backends run
    in blocks, not interleaved step by step: autodiff's and PyTorch's OpenMP pools spin
    after each call and would steal each other's cores; rounds absorb bursts of load from
    other processes on a shared machine."""
    best: dict = {}
    for _ in range(rounds):
        for label, step in steps_by_backend.items():
            for _ in range(warmup):
                step()
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                step()
                times.append((time.perf_counter() - t0) * 1e3)
            med = statistics.median(times)
            best[label] = min(best.get(label, med), med)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mlp,cnn,transformer")
    parser.add_argument("--backends", default="numpy,cpp,torch")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="report each backend's best")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    parser.add_argument("--json", help="write one record per (model, backend) here")
    args = parser.parse_args(argv)

    import autodiff as ad
    import autodiff.nn as adnn
    import autodiff.optim

    libs = []
    for b in args.backends.split(","):
        if b in ("torch", "torch-cuda"):
            try:
                import torch
            except ImportError:
                print("PyTorch is not installed: no reference column")
                continue
            if b == "torch-cuda" and not torch.cuda.is_available():
                print("PyTorch has no CUDA device here; torch-cuda skipped")
                continue
            torch.set_num_threads(args.threads)
            on_gpu = b == "torch-cuda"
            libs.append((b, torch, torch.nn, "cuda" if on_gpu else "cpu",
                         torch.cuda.synchronize if on_gpu else None))
        elif b in ad.available_devices() or (b == "cuda" and ad.cuda.is_available()):
            sync = None
            if b.startswith("cuda"):
                import cupy
                sync = cupy.cuda.Device().synchronize
            libs.append((b, ad, adnn, b, sync))
        else:
            print(f"backend {b} is not available here; skipped")
    records = []
    for name in args.models.split(","):
        steps = max(3, args.steps // 3) if name == "transformer" else args.steps
        steppers = {label: make_step(lib, nn, name, device, sync)
                    for label, lib, nn, device, sync in libs}
        rows = list(time_rounds(steppers, steps, args.warmup, args.rounds).items())
        for label, ms in rows:
            # GPU backends are compared with PyTorch CUDA, CPU ones with PyTorch CPU
            ref = dict(rows).get("torch-cuda" if "cuda" in label else "torch")
            ratio = ms / ref if ref else float("nan")
            records.append({"model": name, "backend": label, "ms_per_step": round(ms, 3),
                                "ratio_vs_torch": round(ratio, 3), "steps": steps})
            print(f"{name:12s} {label:10s} {ms:9.2f} ms/step   x{ratio:5.2f} vs torch")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1)


if __name__ == "__main__":
    main()
