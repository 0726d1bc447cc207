"""word2vec (Mikolov et al., 2013): skip-gram and CBOW with negative sampling."""

from __future__ import annotations

from .. import nn


def _neg_log_sigmoid(x):
    """-log(sigmoid(x)) = softplus(-x), computed without overflow."""
    return (-x).relu() + (-x.abs()).exp().log1p()


class SkipGram(nn.Module):
    """Skip-gram: predict each context word from the centre word.

    Loss per pair (negative sampling): ``-log s(u_o . v_c) - sum_k log s(-u_k . v_c)``
    with ``v`` the centre ("input") embeddings, ``u`` the context ("output") embeddings,
    ``s`` the sigmoid and ``k`` over sampled negative words. Both tables start uniform in
    +-0.5/dim (input) and at zero (output), as in the original code.

    Shape:
        center (N,), context (N,), negatives (N, K) int64 -> scalar mean loss.

    Example:
        >>> sg = SkipGram(100, 16)
        >>> sg(ad.randint(0, 100, (8,)), ad.randint(0, 100, (8,)),
        ...    ad.randint(0, 100, (8, 5))).backward()
    """

    def __init__(self, vocab_size: int, embed_dim: int) -> None:
        super().__init__()
        self.in_embed = nn.Embedding(vocab_size, embed_dim)
        self.out_embed = nn.Embedding(vocab_size, embed_dim)
        nn.init.uniform_(self.in_embed.weight, -0.5 / embed_dim, 0.5 / embed_dim)
        nn.init.zeros_(self.out_embed.weight)

    def _loss(self, v, context, negatives):
        pos = (self.out_embed(context) * v).sum(-1)                    # (N,)
        neg = (self.out_embed(negatives) @ v.unsqueeze(-1)).squeeze(-1)  # (N, K)
        return (_neg_log_sigmoid(pos) + _neg_log_sigmoid(-neg).sum(-1)).mean()

    def forward(self, center, context, negatives):
        return self._loss(self.in_embed(center), context, negatives)

    @property
    def embeddings(self):
        """The learned word vectors (the input table), (V, dim)."""
        return self.in_embed.weight


class CBOW(SkipGram):
    """Continuous bag of words: predict the centre word from the mean of its context
    embeddings; same negative-sampling loss and tables as SkipGram.

    Shape:
        context (N, 2W), target (N,), negatives (N, K) int64 -> scalar mean loss.
    """

    def forward(self, context, target, negatives):
        return self._loss(self.in_embed(context).mean(1), target, negatives)
