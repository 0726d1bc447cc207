"""LoRA: pretrain an MLP on the digits, then adapt it to a shifted task (the same digits
mirrored left-right) by training only low-rank adapters, and merge them back.

    python -m examples.lora --device cpp --steps 300
"""

from __future__ import annotations

import autodiff as ad
from autodiff import nn, optim
from autodiff.models import MLP
from autodiff.nn.utils.lora import apply_lora

from ._common import accuracy, digits, parser, progress, setup


def train(model, x, y, steps: int, lr: float, desc: str, quiet: bool, seed: int) -> None:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optim.Adam(params, lr=lr)
    gen = ad.Generator().manual_seed(seed)
    for _ in progress(range(steps), steps, desc, quiet):
        b = ad.randint(0, len(y), (64,), generator=gen, device=x.device)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[b]), y[b]).backward()
        opt.step()


def mirror(x):
    return x.reshape(-1, 8, 8).flip(-1).reshape(-1, 64)


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=300, lr=3e-3)
    p.add_argument("--rank", type=int, default=4)
    args = p.parse_args(argv)
    dev = setup(args)
    x_tr, y_tr, x_te, y_te = digits(dev, seed=args.seed)
    model = MLP(64, [128, 128], 10).to(dev)
    train(model, x_tr, y_tr, args.steps, args.lr, "pretrain", args.quiet, args.seed)
    base_acc = accuracy(model, x_te, y_te)
    shifted_before = accuracy(model, mirror(x_te), y_te)
    total = sum(p.numel() for p in model.parameters())
    apply_lora(model, r=args.rank, alpha=2 * args.rank)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    train(model, mirror(x_tr), y_tr, args.steps, args.lr, "lora", args.quiet, args.seed + 1)
    shifted_after = accuracy(model, mirror(x_te), y_te)
    for m in model.modules():
        if hasattr(m, "merge"):
            m.merge()
    merged = accuracy(model, mirror(x_te), y_te)
    print(f"pretrained: {base_acc:.3f} on digits, {shifted_before:.3f} on mirrored digits")
    print(f"LoRA r={args.rank}: {trainable} trainable of {total} parameters "
          f"({100 * trainable / total:.1f}%) -> {shifted_after:.3f} on mirrored digits "
          f"({merged:.3f} after merge)")
    return {"base": base_acc, "shifted_before": shifted_before, "shifted_after": shifted_after,
            "merged": merged, "trainable": trainable}


if __name__ == "__main__":
    main()
