"""Handwritten digits (scikit-learn's bundled 8x8 set) with an MLP or LeNet-5.

    python -m examples.digits --model mlp   --device cpp    # test accuracy ~0.97
    python -m examples.digits --model lenet --device cpp    # test accuracy ~0.97

--steps defaults to 600 (mlp) / 1000 (lenet).
"""

from __future__ import annotations

from autodiff import nn, optim
from autodiff.models import MLP, LeNet5
from autodiff.utils.data import DataLoader, TensorDataset

from ._common import accuracy, digits, parser, progress, setup


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=0)
    p.add_argument("--model", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--lr", type=float, help="default 2e-3 (mlp), 5e-3 (lenet)")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    lenet_defaults = args.model == "lenet"
    args.steps = args.steps or (1000 if lenet_defaults else 600)
    args.lr = args.lr or (5e-3 if lenet_defaults else 2e-3)
    dev = setup(args)
    lenet = args.model == "lenet"
    x_train, y_train, x_test, y_test = digits(dev, images=lenet, seed=args.seed)
    model = (LeNet5(10, input_size=8) if lenet else MLP(64, [256, 256], 10)).to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, drop_last=True)
    loss_fn = nn.CrossEntropyLoss()
    step, bar = 0, progress(range(args.steps), args.steps, args.model, args.quiet)
    batches = iter(loader)
    for step in bar:
        try:
            xb, yb = next(batches)
        except StopIteration:
            batches = iter(loader)
            xb, yb = next(batches)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()
    acc = accuracy(model, x_test, y_test)
    print(f"{args.model}: {sum(p.numel() for p in model.parameters())} parameters, "
          f"final batch loss {float(loss):.4f}, test accuracy {acc:.4f} on {len(y_test)} images")
    return {"loss": float(loss), "test_accuracy": acc}


if __name__ == "__main__":
    main()
