"""An LSTM that forecasts a noisy sum of sines one step ahead from a window of past values,
compared with the naive "repeat the last value" forecast.

    python -m examples.lstm_sequence --device cpp --steps 300
"""

from __future__ import annotations

import math

import autodiff as ad
from autodiff import nn, optim

from ._common import parser, progress, setup


class Forecaster(nn.Module):
    """LSTM over the window, a linear read-out of the last hidden state."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):                      # x (N, T, 1)
        out, _ = self.lstm(x)
        return self.head(out[:, -1])           # (N, 1)


def series(n: int, dev):
    t = ad.arange(n, dtype=ad.float32, device=dev)
    clean = (t * (2 * math.pi / 25)).sin() + 0.5 * (t * (2 * math.pi / 9)).sin()
    return clean + 0.05 * ad.randn(n, device=dev)


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=200, lr=1e-2)
    p.add_argument("--window", type=int, default=24)
    args = p.parse_args(argv)
    dev = setup(args)
    s, w = series(1200, dev), args.window
    idx = ad.arange(len(s) - w, device=dev).unsqueeze(1) + ad.arange(w + 1, device=dev)
    windows = s[idx]                                  # (M, w + 1)
    x, y = windows[:, :w].unsqueeze(-1), windows[:, w:]
    split = int(0.8 * len(y))
    model = Forecaster().to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.StepLR(opt, step_size=max(1, args.steps // 3), gamma=0.3)
    gen = ad.Generator().manual_seed(args.seed)
    for _ in progress(range(args.steps), args.steps, "lstm", args.quiet):
        b = ad.randint(0, split, (64,), generator=gen, device=dev)
        opt.zero_grad()
        loss = ((model(x[b]) - y[b]) ** 2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    with ad.no_grad():
        mse = float(((model(x[split:]) - y[split:]) ** 2).mean())
    naive = float(((x[split:, -1] - y[split:]) ** 2).mean())
    print(f"test MSE: LSTM {mse:.4f}, repeat-last-value {naive:.4f}")
    return {"test_mse": mse, "naive_mse": naive}


if __name__ == "__main__":
    main()
