"""Early stopping on a validation split: train a wide MLP on few noisy-labelled digits, keep
the weights of the best validation epoch, stop after ``--patience`` epochs without
improvement, and restore the best weights (via ad.save / ad.load).

    python -m examples.early_stopping --device cpp --steps 60
"""

from __future__ import annotations

import os

import autodiff as ad
from autodiff import nn, optim
from autodiff.models import MLP
from autodiff.utils.data import DataLoader, TensorDataset, random_split

from ._common import accuracy, digits, parser, progress, setup


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=60, lr=3e-3)
    p.add_argument("--patience", type=int, default=5)
    args = p.parse_args(argv)
    dev = setup(args)
    x, y, x_test, y_test = digits(dev, seed=args.seed)
    x, y = x[:400], y[:400].clone()
    noisy = ad.rand(len(y), device=dev) < 0.2                     # 20% label noise
    y[noisy] = ad.randint(0, 10, (int(noisy.sum()),), device=dev)
    gen = ad.Generator().manual_seed(args.seed)
    train_ds, val_ds = random_split(TensorDataset(x, y), [0.75, 0.25], generator=gen)
    loader = DataLoader(train_ds, batch_size=32, shuffle=True, generator=gen)
    xv, yv = DataLoader(val_ds, batch_size=len(val_ds)).__iter__().__next__()
    model = MLP(64, [512, 512], 10).to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "early_stopping_best.ad")
    best, best_epoch, waited, history = float("inf"), -1, 0, []
    bar = progress(range(args.steps), args.steps, "epochs", args.quiet)
    for epoch in bar:
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
        model.eval()
        with ad.no_grad():
            val = float(loss_fn(model(xv), yv))
        history.append(val)
        if val < best - 1e-4:
            best, best_epoch, waited = val, epoch, 0
            ad.save({"model": model.state_dict(), "epoch": epoch, "val_loss": val}, ckpt)
        else:
            waited += 1
            if waited >= args.patience:
                break
    last_acc = accuracy(model, x_test, y_test)
    saved = ad.load(ckpt, map_location=dev)
    model.load_state_dict(saved["model"])
    best_acc = accuracy(model, x_test, y_test)
    print(f"stopped after epoch {len(history) - 1}; best validation loss {best:.4f} at epoch "
          f"{saved['epoch']}; test accuracy {last_acc:.3f} (last) vs {best_acc:.3f} (best)")
    return {"best_epoch": best_epoch, "epochs": len(history), "best_val": best,
            "test_accuracy_best": best_acc, "test_accuracy_last": last_acc}


if __name__ == "__main__":
    main()
