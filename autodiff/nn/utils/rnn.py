"""nn.utils.rnn: ``pad_sequence`` (variable-length sequences into one padded batch) and its
inverse ``unpad_sequence``. Packed sequences (``pack_padded_sequence``) are not provided:
autodiff's RNNs take padded batches."""

from __future__ import annotations

from ... import ops
from ...tensor import Tensor


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (B, L_max, *) (batch_first) or (L_max, B, *),
    filling with ``padding_value`` after (``padding_side='right'``) or before each."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        gap = longest - s.shape[0]
        widths = [0, 0] * (s.ndim - 1) + ([0, gap] if padding_side == "right" else [gap, 0])
        padded.append(ops.pad(s, tuple(widths), value=padding_value) if gap else s)
    out = ops.stack(padded, 0)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences of a right-padded batch, each cut to its length."""
    if not batch_first:
        padded = padded.transpose(0, 1)
    return [padded[i, : int(n)] for i, n in enumerate(lengths)]
