"""Nadaraya-Watson kernel regression as attention pooling (d2l.ai, section 11.2).

The prediction at a query x is a softmax-weighted average of the training targets:
``f(x) = sum_i softmax_i(-((x - x_i) * w)^2 / 2) * y_i``. With w = 1 it is the classic
non-parametric Gaussian-kernel estimator; with w learned (leave-one-out on the training
set) the kernel width adapts. Both are plotted against the true function.

    python -m examples.kernel_regression --device cpp --steps 100
"""

from __future__ import annotations

import autodiff as ad
from autodiff import optim

from ._common import parser, progress, pyplot, save_figure, setup


def f(x):
    return 2 * x.sin() + x ** 0.8


def nw(queries, keys, values, w):
    """Attention pooling: queries (Q,), keys/values (K,) -> (Q,)."""
    diff = (queries.unsqueeze(1) - keys.unsqueeze(0)) * w
    attn = (-diff * diff / 2).softmax(-1)
    return attn @ values, attn


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=100, lr=0.5)
    args = p.parse_args(argv)
    dev = setup(args)
    n = 50
    x_train = (ad.rand(n, device=dev) * 5).sort()[0]
    y_train = f(x_train) + 0.5 * ad.randn(n, device=dev)
    x_test = ad.arange(0, 5, 0.1, device=dev)
    y_true = f(x_test)
    with ad.no_grad():
        y_fixed, _ = nw(x_test, x_train, y_train, 1.0)
    w = ad.ones(1, device=dev, requires_grad=True)
    opt = optim.SGD([w], lr=args.lr)
    # leave-one-out: each training point is predicted from all the others
    others = ~ad.eye(n, dtype=ad.bool, device=dev)
    keys = x_train.expand(n, n)[others].reshape(n, n - 1)
    vals = y_train.expand(n, n)[others].reshape(n, n - 1)
    for _ in progress(range(args.steps), args.steps, "width", args.quiet):
        opt.zero_grad()
        diff = (x_train.unsqueeze(1) - keys) * w
        pred = ((-diff * diff / 2).softmax(-1) * vals).sum(-1)
        loss = ((pred - y_train) ** 2).mean()
        loss.backward()
        opt.step()
    with ad.no_grad():
        y_learned, attn = nw(x_test, x_train, y_train, w)
    mse_fixed = float(((y_fixed - y_true) ** 2).mean())
    mse_learned = float(((y_learned - y_true) ** 2).mean())
    print(f"learned width w = {float(w):.3f}; test MSE against the true function: "
          f"non-parametric {mse_fixed:.4f}, learned {mse_learned:.4f}")
    plt = pyplot()
    if plt is not None:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
        xs = x_test.cpu().numpy()
        a1.plot(xs, y_true.cpu().numpy(), label="true f(x)")
        a1.plot(xs, y_fixed.cpu().numpy(), "--", label="non-parametric (w=1)")
        a1.plot(xs, y_learned.cpu().numpy(), "-.", label=f"learned (w={float(w):.2f})")
        a1.plot(x_train.cpu().numpy(), y_train.cpu().numpy(), "o", alpha=0.4, label="data")
        a1.legend()
        a1.set(xlabel="x", ylabel="y", title="Nadaraya-Watson regression")
        a2.imshow(attn.cpu().numpy(), aspect="auto", cmap="Reds")
        a2.set(xlabel="training inputs (sorted)", ylabel="test inputs",
               title="attention weights (learned)")
        save_figure(plt, fig, args.out, "kernel_regression.png")
    return {"w": float(w), "mse_fixed": mse_fixed, "mse_learned": mse_learned}


if __name__ == "__main__":
    main()
