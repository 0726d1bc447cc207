"""A recurrent language model: embedding -> RNN / LSTM / GRU -> linear decoder."""

from __future__ import annotations

from .. import nn

_CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


class RNNLanguageModel(nn.Module):
    """Predicts the next token at every position of a batch of token sequences.

    Args:
        vocab_size: number of tokens V.
        embed_dim: embedding size E.
        hidden_size: recurrent state size H.
        num_layers: stacked recurrent layers (default 1).
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"`` (tanh).
        dropout: dropout on the embeddings, between layers and before the decoder.
        tie_weights: share the decoder weight with the embedding (needs E == H).

    Shape:
        tokens (N, T) int64 -> logits (N, T, V); ``state`` is the recurrent layer's
        ``(h, c)`` for LSTM, else ``h``, each (num_layers, N, H).

    Example:
        >>> lm = RNNLanguageModel(50, 32, 64, cell="gru")
        >>> logits, state = lm(ad.randint(0, 50, (4, 10)))
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0, tie_weights: bool = False) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"RNNLanguageModel: cell must be one of {sorted(_CELLS)}, got "
                             f"{cell!r}")
        if tie_weights and embed_dim != hidden_size:
            raise ValueError(f"RNNLanguageModel: tie_weights needs embed_dim == hidden_size, "
                             f"got {embed_dim} and {hidden_size}")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.rnn = getattr(nn, _CELLS[cell])(embed_dim, hidden_size, num_layers,
                                             batch_first=True,
                                             dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, tokens, state=None):
        out, state = self.rnn(self.drop(self.embedding(tokens)), state)
        return self.decoder(self.drop(out)), state
