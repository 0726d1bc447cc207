"""Attention: scaled dot-product attention and the multi-head attention forward."""

from __future__ import annotations

import functools
import math
import warnings

from ... import creation, dtypes, ops
from ...autograd.function import Function
from ...errors import ShapeError
from ...ops._util import constant
from ...tensor import Tensor
from ._basic import dropout, linear


def _causal_keep(n_q: int, n_k: int, dev) -> Tensor:
    return creation.ones(n_q, n_k, dtype=dtypes.bool_, device=dev).tril()


@functools.lru_cache(maxsize=32)
def _causal_masked(n_q: int, n_k: int, backend):
    """The causal mask's masked-out positions (keys after each query) as a backend array,
    made once per shape: the mask and the check that no query is fully masked had cost
    six ops a call (half of a small attention's forward)."""
    return backend.xp.triu(backend.ones((n_q, n_k), bool), 1)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V.

    Args:
        query: (*, L, E); key: (*, S, E); value: (*, S, Ev).
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to
            (*, L, S).
        dropout_p: dropout on the attention weights (always applied when > 0, as PyTorch).
        is_causal: mask out keys after each query (upper-left aligned).
        scale: defaults to 1 / sqrt(E).
    Returns:
        Tensor (*, L, Ev).
    """
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: query {tuple(query.shape)}, key "
                         f"{tuple(key.shape)} and value {tuple(value.shape)} do not fit "
                         f"(expected (*, L, E), (*, S, E), (*, S, Ev))")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query * s) @ key.mT
    if is_causal and attn_mask is None and key.shape[-2]:  # no query attends to nothing
        masked = _causal_masked(query.shape[-2], key.shape[-2], query.device.backend)
        scores = scores.masked_fill(constant(masked, query.device), float("-inf"))
        is_causal = False
    if is_causal:  # with attn_mask too, both apply (PyTorch 2.13)
        keep = _causal_keep(query.shape[-2], key.shape[-2], query.device)
        attn_mask = keep if attn_mask is None else attn_mask & keep if (
            attn_mask.dtype is dtypes.bool_) else attn_mask.masked_fill(~keep, float("-inf"))
    fully_masked = None
    if attn_mask is not None:
        if attn_mask.dtype is dtypes.bool_:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
            fully_masked = attn_mask.logical_not().all(-1, keepdim=True)
        else:
            scores = scores + attn_mask
            fully_masked = (attn_mask == float("-inf")).all(-1, keepdim=True)
        if not bool(fully_masked.any()):
            fully_masked = None
    if fully_masked is not None:  # a query that may attend to nothing gets 0, not NaN (PyTorch)
        scores = scores.masked_fill(fully_masked, 0.0)
    attn = scores.softmax(-1)
    if fully_masked is not None:
        attn = attn.masked_fill(fully_masked, 0.0)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p)
    return attn @ value


def _float_mask(mask: Tensor | None, dtype) -> Tensor | None:
    """A bool mask (True = masked out) as an additive float mask of -inf / 0."""
    if mask is None or mask.dtype is not dtypes.bool_:
        return mask if mask is None else mask.to(dtype)
    zeros = creation.zeros(mask.shape, dtype=dtype, device=mask.device)
    return zeros.masked_fill(mask, float("-inf"))


class _SplitLast(Function):
    """Equal parts of the last dim of a packed projection (views), as one node whose
    backward concatenates the parts' gradients, as PyTorch's SplitBackward. As separate
    slices, each part's backward zero-fills a gradient of the packed shape and the engine
    adds them up: ~4x the memory traffic. Internal: the parts never reach user code, so
    they need no view tracking for in-place changes."""

    @staticmethod
    def forward(ctx, x, parts):
        return tuple(x.chunk(parts, -1))

    @staticmethod
    def backward(ctx, *grads):
        return ops.cat(list(grads), -1), None


def _project(query, key, value, e, in_proj_weight, in_proj_bias, separate, qw, kw, vw):
    if not separate:
        if query is key and key is value:
            return _SplitLast.apply(linear(query, in_proj_weight, in_proj_bias), 3)
        ws = in_proj_weight.chunk(3)
        bs = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        if key is value:
            q = linear(query, ws[0], bs[0])
            kv_b = None if in_proj_bias is None else in_proj_bias[e:]
            k, v = _SplitLast.apply(linear(key, in_proj_weight[e:], kv_b), 2)
            return q, k, v
        return (linear(query, ws[0], bs[0]), linear(key, ws[1], bs[1]),
                linear(value, ws[2], bs[2]))
    bs = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    return linear(query, qw, bs[0]), linear(key, kw, bs[1]), linear(value, vw, bs[2])


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """Multi-head attention on sequence-first inputs, as PyTorch's.

    Shape:
        query (L, N, E) or (L, E); key/value (S, N, E_k/E_v); key_padding_mask (N, S) (bool,
        True = ignore, or float added); attn_mask (L, S) or (N*num_heads, L, S) (bool, True =
        masked out, or float added).
    Returns:
        (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S), or None).
    """
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.ndim != 3:
        raise ShapeError(f"multi_head_attention_forward: expected query (L, N, E) or (L, E), "
                         f"got shape {tuple(query.shape)}")
    tgt_len, bsz, e = query.shape
    if e != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: expected query with embed_dim "
                         f"{embed_dim_to_check}, got shape {tuple(query.shape)}")
    if e % num_heads:
        raise ValueError(f"multi_head_attention_forward: embed_dim {e} not divisible by "
                         f"num_heads {num_heads}")
    hd = e // num_heads
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    q, k, v = _project(query, key, value, e, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    if key_padding_mask is not None and attn_mask is not None and (
            key_padding_mask.dtype is not attn_mask.dtype):  # as PyTorch's _canonical_mask
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    attn_mask = _float_mask(attn_mask, q.dtype)
    key_padding_mask = _float_mask(key_padding_mask, q.dtype)
    if bias_k is not None and bias_v is not None:
        k = ops.cat([k, bias_k.reshape(1, 1, e).expand(1, bsz, e)])
        v = ops.cat([v, bias_v.reshape(1, 1, e).expand(1, bsz, e)])
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask,
                                                                         (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, hd).transpose(0, 1)
    k = (static_k if static_k is not None else
         k.reshape(k.shape[0], bsz * num_heads, hd).transpose(0, 1))
    v = (static_v if static_v is not None else
         v.reshape(v.shape[0], bsz * num_heads, hd).transpose(0, 1))
    if add_zero_attn:
        k = ops.cat([k, creation.zeros(bsz * num_heads, 1, hd, dtype=k.dtype,
                                       device=k.device)], 1)
        v = ops.cat([v, creation.zeros(bsz * num_heads, 1, hd, dtype=v.dtype,
                                       device=v.device)], 1)
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask,
                                                                         (0, 1))
    src_len = k.shape[1]
    mask = _merge_masks(attn_mask, key_padding_mask, bsz, num_heads, tgt_len, src_len)
    if not training:
        dropout_p = 0.0
    q = q.reshape(bsz, num_heads, tgt_len, hd)
    k = k.reshape(bsz, num_heads, src_len, hd)
    v = v.reshape(bsz, num_heads, src_len, hd)
    scores = (q * (1.0 / math.sqrt(hd))) @ k.mT
    if mask is not None:
        scores = scores + mask
    attn = scores.softmax(-1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p)
    out = (attn @ v).permute(2, 0, 1, 3).reshape(tgt_len * bsz, e)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, e)
    weights = None
    if need_weights:
        weights = attn.mean(1) if average_attn_weights else attn
        if unbatched:
            weights = weights.squeeze(0)
    if unbatched:
        out = out.squeeze(1)
    return out, weights


def _merge_masks(attn_mask, key_padding_mask, bsz, num_heads, tgt_len, src_len):
    """One additive mask broadcastable to (N, H, L, S)."""
    mask = None
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ShapeError(f"multi_head_attention_forward: the shape of the 2D attn_mask "
                                 f"is {tuple(attn_mask.shape)}, but should be "
                                 f"{(tgt_len, src_len)}")
            mask = attn_mask
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise ShapeError(f"multi_head_attention_forward: the shape of the 3D attn_mask "
                                 f"is {tuple(attn_mask.shape)}, but should be "
                                 f"{(bsz * num_heads, tgt_len, src_len)}")
            mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
        else:
            raise ShapeError(f"multi_head_attention_forward: attn_mask must be 2-D or 3-D, got "
                             f"shape {tuple(attn_mask.shape)}")
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ShapeError(f"multi_head_attention_forward: expected key_padding_mask of shape "
                             f"{(bsz, src_len)}, got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        mask = kpm if mask is None else mask + kpm
    return mask
