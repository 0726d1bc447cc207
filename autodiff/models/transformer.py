"""Transformers: an encoder-decoder for sequence-to-sequence tasks and a decoder-only GPT,
both with sinusoidal positional encoding (``nn.PositionalEncoding``)."""

from __future__ import annotations

import math

from .. import creation, nn, ops
from ..autograd.grad_mode import no_grad


def causal_mask(size: int, device=None):
    """A (size, size) float mask: 0 on and below the diagonal, -inf above (future tokens)."""
    return creation.full((size, size), float("-inf"), device=device).triu(1)


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder Transformer (Vaswani et al., 2017) over token ids.

    Source and target tokens are embedded, scaled by sqrt(d_model), given sinusoidal
    positions, run through ``nn.Transformer`` (the decoder causally masked) and projected
    to target-vocabulary logits.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes.
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout:
            as ``nn.Transformer``.
        max_len: longest sequence.

    Shape:
        src (N, S), tgt (N, T) int64 -> logits (N, T, tgt_vocab). Padding masks are
        (N, S) / (N, T) bools, True where padded.

    Example:
        >>> m = Seq2SeqTransformer(20, 20, d_model=32, nhead=4)
        >>> m(ad.randint(0, 20, (2, 7)), ad.randint(0, 20, (2, 5))).shape
        (2, 5, 20)
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 128, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2,
                 dim_feedforward: int = 512, dropout: float = 0.1, max_len: int = 512) -> None:
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        self.pos = nn.PositionalEncoding(d_model, max_len, dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers,
                                          num_decoder_layers, dim_feedforward, dropout,
                                          batch_first=True)
        self.out = nn.Linear(d_model, tgt_vocab)

    def _embed(self, emb, tokens):
        return self.pos(emb(tokens) * math.sqrt(self.d_model))

    def forward(self, src, tgt, src_key_padding_mask=None, tgt_key_padding_mask=None):
        mask = causal_mask(tgt.shape[1], tgt.device)
        h = self.transformer(self._embed(self.src_embed, src), self._embed(self.tgt_embed, tgt),
                             tgt_mask=mask, src_key_padding_mask=src_key_padding_mask,
                             tgt_key_padding_mask=tgt_key_padding_mask,
                             memory_key_padding_mask=src_key_padding_mask)
        return self.out(h)

    @no_grad()
    def greedy_decode(self, src, bos: int, max_len: int):
        """Decode greedily from ``bos`` for ``max_len`` steps; returns (N, max_len + 1)."""
        memory = self.transformer.encoder(self._embed(self.src_embed, src))
        ys = creation.full((src.shape[0], 1), bos, dtype="int64", device=src.device)
        for _ in range(max_len):
            mask = causal_mask(ys.shape[1], src.device)
            h = self.transformer.decoder(self._embed(self.tgt_embed, ys), memory, tgt_mask=mask)
            nxt = self.out(h[:, -1]).argmax(-1, keepdim=True)
            ys = ops.cat([ys, nxt], 1)
        return ys


class GPT(nn.Module):
    """A decoder-only (GPT-style) causal language model.

    Token embedding + sinusoidal positions -> ``num_layers`` pre-norm Transformer blocks
    with causal self-attention (``nn.TransformerEncoderLayer`` with a causal mask, GELU)
    -> LayerNorm -> a linear head tied to the token embedding (initialised N(0, 1/d) and
    scaled by sqrt(d) on the way in, so token codes match the positions' amplitude).

    Args:
        vocab_size: number of tokens V.
        d_model, nhead, num_layers, dim_feedforward, dropout: block sizes.
        max_len: longest context.

    Shape:
        tokens (N, T) int64 -> logits (N, T, V).

    Example:
        >>> gpt = GPT(65, d_model=64, nhead=4, num_layers=2)
        >>> gpt.generate(ad.zeros((1, 1), dtype=ad.int64), 20)
    """

    def __init__(self, vocab_size: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 512, dropout: float = 0.0, max_len: int = 512) -> None:
        super().__init__()
        self.max_len = max_len
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.PositionalEncoding(d_model, max_len, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.embed.weight
        # N(0, 1/d) embeddings scaled by sqrt(d) in forward: token codes as large as the
        # sinusoidal positions (amplitude 1), while the tied head starts with unit logits
        self.scale = math.sqrt(d_model)
        nn.init.normal_(self.embed.weight, std=1.0 / self.scale)

    def forward(self, tokens):
        t = tokens.shape[1]
        if t > self.max_len:
            raise ValueError(f"GPT: sequence length {t} exceeds max_len {self.max_len}")
        h = self.blocks(self.pos(self.embed(tokens) * self.scale),
                        mask=causal_mask(t, tokens.device),
                        is_causal=True)
        return self.head(self.norm(h))

    @no_grad()
    def generate(self, tokens, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator=None):
        """Sample ``max_new_tokens`` tokens after ``tokens`` (N, T); returns (N, T + new)."""
        for _ in range(max_new_tokens):
            logits = self(tokens[:, -self.max_len:])[:, -1] / temperature
            if top_k is not None:
                kth = logits.topk(min(top_k, logits.shape[-1]), -1)[0][:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = logits.softmax(-1)
            nxt = creation.multinomial(probs, 1, generator=generator)
            tokens = ops.cat([tokens, nxt], 1)
        return tokens
