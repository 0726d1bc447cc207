"""Attention layers: PyTorch's MultiheadAttention, and our AdditiveAttention and
DotProductAttention (the d2l.ai definitions, with ``valid_lens`` masking)."""

from __future__ import annotations

import math

from ... import creation, dtypes
from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .dropout import Dropout
from .linear import Linear
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """Linear under the class name PyTorch's MultiheadAttention uses for ``out_proj``."""


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q_h K_h^T / sqrt(d_h) + mask) V_h per head, concatenated
    and projected by ``out_proj``.

    Parameters as PyTorch: ``in_proj_weight`` (3E, E) (or q/k/v_proj_weight when kdim/vdim
    differ from E) from xavier_uniform_, ``in_proj_bias`` (3E) = 0, ``out_proj`` Linear(E, E)
    with bias 0; bias_k / bias_v (1, 1, E) from xavier_normal_ with add_bias_kv.

    Args:
        embed_dim, num_heads; dropout=0.0 (on the attention weights); bias=True;
        add_bias_kv=False; add_zero_attn=False; kdim, vdim; batch_first=False.

    Shape:
        query (L, N, E) ((N, L, E) with batch_first, or unbatched (L, E)); key, value
        (S, N, E_k / E_v); key_padding_mask (N, S) bool (True = ignore) or float;
        attn_mask (L, S) or (N * num_heads, L, S) bool (True = not allowed) or float.
        Returns (attn_output (L, N, E), attn_weights (N, L, S) or (N, H, L, S) or None).

    Example:
        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> out, w = mha(x, x, x)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        fk = {"device": device, "dtype": dtype}
        e = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * e, e, **fk))
            for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(n, None)
        else:
            self.q_proj_weight = Parameter(creation.empty(e, e, **fk))
            self.k_proj_weight = Parameter(creation.empty(e, self.kdim, **fk))
            self.v_proj_weight = Parameter(creation.empty(e, self.vdim, **fk))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * e, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(e, e, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, e, **fk))
            self.bias_v = Parameter(creation.empty(1, 1, e, **fk))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            raise ShapeError(f"MultiheadAttention: expected query with last dimension "
                             f"{self.embed_dim} (embed_dim), got shape {tuple(query.shape)}")
        if self.batch_first and query.ndim == 3:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(0, 1)
                else:
                    query, key = query.transpose(0, 1), key.transpose(0, 1)
                    value = key
            else:
                query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights


def masked_softmax(scores: Tensor, valid_lens: Tensor | None) -> Tensor:
    """Softmax over the last dim keeping only the first valid_lens[i] keys (the others get
    -1e6 before the softmax, so a row with no valid key becomes uniform, as d2l.ai).

    Args:
        scores: (N, Q, K); valid_lens: None, (N,) or (N, Q).
    """
    if valid_lens is None:
        return scores.softmax(-1)
    n, q, k = scores.shape
    lens = valid_lens if valid_lens.ndim == 2 else valid_lens.reshape(n, 1)
    keys = creation.arange(k, device=scores.device).reshape(1, 1, k)
    keep = keys < lens.to(dtypes.int64).reshape(n, lens.shape[-1], 1)
    return scores.masked_fill(keep.logical_not(), -1e6).softmax(-1)


class DotProductAttention(Module):
    """Scaled dot-product attention with ``valid_lens`` masking (our definition):
    softmax(Q K^T / sqrt(d)) V, with keys past each valid length masked out.

    Args:
        dropout: dropout on the attention weights (training only).

    Shape:
        queries (N, Q, d), keys (N, K, d), values (N, K, v), valid_lens None, (N,) or
        (N, Q); output (N, Q, v). The weights of the last call are kept in
        ``attention_weights``.
    """

    def __init__(self, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries: Tensor, keys: Tensor, values: Tensor,
                valid_lens: Tensor | None = None) -> Tensor:
        if queries.shape[-1] != keys.shape[-1]:
            raise ShapeError(f"DotProductAttention: queries {tuple(queries.shape)} and keys "
                             f"{tuple(keys.shape)} must share the last dimension")
        scores = (queries @ keys.mT) * (1.0 / math.sqrt(queries.shape[-1]))
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values


class AdditiveAttention(Module):
    """Additive (Bahdanau) attention, our definition: a(q, k) = w_v^T tanh(W_q q + W_k k),
    masked softmax over the keys, weighted sum of the values.

    Parameters: W_q = Linear(query_size, num_hiddens, bias=False), W_k = Linear(key_size,
    num_hiddens, bias=False), w_v = Linear(num_hiddens, 1, bias=False) (PyTorch Linear init).

    Shape:
        queries (N, Q, query_size), keys (N, K, key_size), values (N, K, v), valid_lens None,
        (N,) or (N, Q); output (N, Q, v).
    """

    def __init__(self, query_size: int, key_size: int, num_hiddens: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.W_k = Linear(key_size, num_hiddens, bias=False)
        self.W_q = Linear(query_size, num_hiddens, bias=False)
        self.w_v = Linear(num_hiddens, 1, bias=False)
        self.dropout = Dropout(dropout)
        self.attention_weights = None

    def forward(self, queries: Tensor, keys: Tensor, values: Tensor,
                valid_lens: Tensor | None = None) -> Tensor:
        q, k = self.W_q(queries), self.W_k(keys)
        features = (q.unsqueeze(2) + k.unsqueeze(1)).tanh()  # (N, Q, K, h)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return self.dropout(self.attention_weights) @ values


__all__ = ["AdditiveAttention", "DotProductAttention", "MultiheadAttention", "masked_softmax"]

