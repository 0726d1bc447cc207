"""XOR with a two-layer MLP: the smallest problem a linear model cannot solve.

    python -m examples.xor --device cpp --steps 500
"""

from __future__ import annotations

import autodiff as ad
from autodiff import nn, optim
from autodiff.models import MLP

from ._common import parser, progress, setup


def main(argv=None) -> dict:
    args = parser(__doc__.split("\n")[0], steps=500, lr=0.05).parse_args(argv)
    dev = setup(args)
    x = ad.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=ad.float32, device=dev)
    y = ad.tensor([[0], [1], [1], [0]], dtype=ad.float32, device=dev)
    model = MLP(2, [8], 1, activation=nn.Tanh).to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in progress(range(args.steps), args.steps, "xor", args.quiet):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    with ad.no_grad():
        pred = (model(x) > 0).float()
    acc = float((pred == y).float().mean())
    print(f"loss {float(loss):.4f}  accuracy {acc:.2f}  predictions {pred.reshape(-1).tolist()}")
    return {"loss": float(loss), "accuracy": acc}


if __name__ == "__main__":
    main()
