"""Input normalization (none / z-score / min-max) and regularization (none / L1 / L2 /
dropout) compared on one task: few training samples with features on wildly different
scales, only some of them informative.

    python -m examples.regularization --device cpp --steps 200
"""

from __future__ import annotations

import autodiff as ad
from autodiff import nn, optim
from autodiff.models import MLP

from ._common import parser, progress, setup

N_FEATURES, N_INFORMATIVE = 20, 5


def make_data(dev, n: int, scales, gen):
    z = ad.randn(n, N_FEATURES, generator=gen, device=dev)
    score = (z[:, :N_INFORMATIVE] ** 2).sum(-1) - N_INFORMATIVE + z[:, 0] * z[:, 1]
    return z * scales, (score > 0).long()


def normalizer(kind: str, x_train):
    """A function that normalizes inputs with statistics of the training set only."""
    if kind == "zscore":
        mean, std = x_train.mean(0), x_train.std(0) + 1e-8
        return lambda x: (x - mean) / std
    if kind == "minmax":
        lo, hi = x_train.min(0)[0], x_train.max(0)[0]
        return lambda x: (x - lo) / (hi - lo + 1e-8)
    return lambda x: x


def run(dev, data, norm: str, reg: str, steps: int, lr: float, quiet: bool) -> float:
    (x_tr, y_tr), (x_te, y_te) = data
    scale = normalizer(norm, x_tr)
    x_tr, x_te = scale(x_tr), scale(x_te)
    ad.manual_seed(1)
    model = MLP(N_FEATURES, [64, 64], 2, dropout=0.5 if reg == "dropout" else 0.0).to(dev)
    opt = optim.Adam(model.parameters(), lr=lr)
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    for _ in progress(range(steps), steps, f"{norm}/{reg}", quiet):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x_tr), y_tr)
        if reg == "l2":
            loss = loss + 1e-3 * sum((w * w).sum() for w in weights)
        elif reg == "l1":
            loss = loss + 1e-4 * sum(w.abs().sum() for w in weights)
        loss.backward()
        opt.step()
    model.eval()
    with ad.no_grad():
        return float((model(x_te).argmax(-1) == y_te).float().mean())


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=200, lr=3e-3)
    args = p.parse_args(argv)
    dev = setup(args)
    gen = ad.Generator().manual_seed(args.seed)
    scales = 10 ** (ad.rand(N_FEATURES, generator=gen, device=dev) * 5 - 2)  # 0.01 .. 1000
    data = (make_data(dev, 200, scales, gen), make_data(dev, 2000, scales, gen))
    results = {}
    for norm in ("none", "zscore", "minmax"):
        results[f"{norm}/none"] = run(dev, data, norm, "none", args.steps, args.lr, args.quiet)
    for reg in ("l1", "l2", "dropout"):
        results[f"zscore/{reg}"] = run(dev, data, "zscore", reg, args.steps, args.lr,
                                       args.quiet)
    print("test accuracy (200 training samples, 20 features scaled 0.01..1000):")
    for name, acc in results.items():
        norm, reg = name.split("/")
        print(f"  normalization {norm:6s}  regularization {reg:7s}  {acc:.3f}")
    return results


if __name__ == "__main__":
    main()
