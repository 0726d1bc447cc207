"""Skip-gram word2vec with negative sampling on examples/data/tiny_corpus.txt; prints each
probe word's nearest neighbours by cosine similarity.

    python -m examples.word2vec --device cpp --steps 400
"""

from __future__ import annotations

import os
import re
from collections import Counter

import autodiff as ad
from autodiff import optim
from autodiff.models import SkipGram

from ._common import parser, progress, setup

CORPUS = os.path.join(os.path.dirname(__file__), "data", "tiny_corpus.txt")


def skipgram_pairs(ids: list, window: int) -> tuple[list, list]:
    centers, contexts = [], []
    for i, c in enumerate(ids):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                centers.append(c)
                contexts.append(ids[j])
    return centers, contexts


def main(argv=None) -> dict:
    p = parser(__doc__.split("\n")[0], steps=400, lr=0.05)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--window", type=int, default=2)
    p.add_argument("--negatives", type=int, default=5)
    args = p.parse_args(argv)
    dev = setup(args)
    with open(CORPUS, encoding="utf-8") as fh:
        words = re.findall(r"[a-z']+", fh.read().lower())
    counts = Counter(words)
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    index = {w: i for i, w in enumerate(vocab)}
    centers, contexts = skipgram_pairs([index[w] for w in words], args.window)
    center_t = ad.tensor(centers, dtype=ad.int64, device=dev)
    context_t = ad.tensor(contexts, dtype=ad.int64, device=dev)
    # negatives from the unigram distribution raised to 3/4, as in the paper
    noise = ad.tensor([counts[w] ** 0.75 for w in vocab], dtype=ad.float64, device=dev)
    model = SkipGram(len(vocab), args.dim).to(dev)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    gen = ad.Generator().manual_seed(args.seed)
    batch = 256
    for _ in progress(range(args.steps), args.steps, "skip-gram", args.quiet):
        b = ad.randint(0, len(centers), (batch,), generator=gen, device=dev)
        neg = ad.multinomial(noise, batch * args.negatives, replacement=True, generator=gen)
        opt.zero_grad()
        loss = model(center_t[b], context_t[b], neg.reshape(batch, args.negatives))
        loss.backward()
        opt.step()
    emb = model.embeddings.detach()
    emb = emb / (emb * emb).sum(-1, keepdim=True).sqrt()
    for probe in ("better", "summer", "eternal"):
        sims = emb @ emb[index[probe]]
        top = sims.topk(4)[1].tolist()[1:]
        print(f"{probe:>8s}: {', '.join(vocab[i] for i in top)}")
    print(f"{len(vocab)} words, {len(centers)} (center, context) pairs, loss {float(loss):.3f}")
    return {"loss": float(loss), "vocab": len(vocab)}


if __name__ == "__main__":
    main()
