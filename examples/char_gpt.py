"""A character-level GPT trained on examples/data/tiny_corpus.txt; saves its loss curve as a
PNG and prints a sample.

    python -m examples.char_gpt --device cpp --steps 300
"""

from __future__ import annotations

import math
import os

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import optim
from autodiff.models import GPT

from ._common import parser, progress, pyplot, save_figure, setup

CORPUS = os.path.join(os.path.dirname(__file__), "data", "tiny_corpus.txt")


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=300, lr=3e-3)
    p.add_argument("--context", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args(argv)
    dev = setup(args)
    with open(CORPUS, encoding="utf-8") as fh:
        text = fh.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = ad.tensor([stoi[c] for c in text], dtype=ad.int64, device=dev)
    model = GPT(len(chars), d_model=64, nhead=4, num_layers=2, dim_feedforward=128,
                max_len=args.context).to(dev)
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    gen = ad.Generator().manual_seed(args.seed)
    offsets = ad.arange(args.context + 1, device=dev)
    losses = []
    for _ in progress(range(args.steps), args.steps, "gpt", args.quiet):
        starts = ad.randint(0, len(data) - args.context - 1, (args.batch_size, 1),
                            generator=gen, device=dev)
        chunk = data[starts + offsets]                 # (B, context + 1)
        x, y = chunk[:, :-1], chunk[:, 1:]
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
    model.eval()
    prompt = ad.tensor([[stoi[c] for c in "Beautiful"]], dtype=ad.int64, device=dev)
    sample = model.generate(prompt, 80, temperature=0.8, top_k=5, generator=gen)
    print("sample:", "".join(chars[i] for i in sample[0].tolist()).replace("\n", " / "))
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} (uniform would be {len(chars)} chars: "
          f"{math.log(len(chars)):.3f})")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(losses)
        ax.set(xlabel="step", ylabel="cross-entropy (nats/char)", title="char-level GPT")
        save_figure(plt, fig, args.out, "char_gpt_loss.png")
    return {"first_loss": losses[0], "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
