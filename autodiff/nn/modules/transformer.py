"""Transformer layers and stacks (post-norm by default, pre-norm with norm_first=True)."""

from __future__ import annotations

import copy
import warnings
from typing import Callable

from ... import creation, dtypes
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional._attention import _float_mask
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _activation(activation) -> Callable:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _add_feedforward_and_norms(layer, d_model, dim_feedforward, dropout, eps, norm_first,
                               bias, n_norms, fk) -> None:
    """The parts every transformer layer shares, registered in PyTorch's order (so state
    dict keys line up): linear1, dropout, linear2, norm1..norm{n_norms}."""
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
    layer.norm_first = norm_first
    for i in range(1, n_norms + 1):
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, **fk))


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above."""
    full = creation.full((sz, sz), float("-inf"), dtype=dtype or dtypes.get_default_dtype(),
                         device=device)
    return full.triu(1)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual connection and
    LayerNorm (after the residual by default, before the sublayer with norm_first).

    Args:
        d_model, nhead; dim_feedforward=2048; dropout=0.1; activation="relu" ("gelu" or a
        callable); layer_norm_eps=1e-5; batch_first=False; norm_first=False; bias=True.

    Shape:
        src (S, N, E) ((N, S, E) with batch_first); output the same.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **fk)
        _add_feedforward_and_norms(self, d_model, dim_feedforward, dropout, layer_norm_eps,
                                   norm_first, bias, 2, fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)
        act = self.activation
        self.activation_relu_or_gelu = (1 if act is F.relu or type(act).__name__ == "ReLU" else
                                        2 if act is F.gelu or type(act).__name__ == "GELU" else 0)

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention over ``memory`` and a feed-forward block, each with
    dropout, residual and LayerNorm (post-norm, or pre-norm with norm_first).

    Shape:
        tgt (T, N, E), memory (S, N, E) (batch first with batch_first); output as tgt.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **fk)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, **fk)
        _add_feedforward_and_norms(self, d_model, dim_feedforward, dropout, layer_norm_eps,
                                   norm_first, bias, 3, fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _why_not_nested(layer) -> str:
    """Why PyTorch's TransformerEncoder would not use nested tensors with this layer ('' if
    it would)."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    attn = layer.self_attn
    for why, bad in (("encoder_layer.norm_first was True", layer.norm_first),
                     ("encoder_layer.self_attn.batch_first was not True(use batch_first for "
                      "better inference performance)", not attn.batch_first),
                     ("encoder_layer.self_attn._qkv_same_embed_dim was not True",
                      not attn._qkv_same_embed_dim),
                     ("encoder_layer.self_attn was passed bias=False", attn.in_proj_bias is None),
                     ("encoder_layer.activation_relu_or_gelu was not True",
                      not layer.activation_relu_or_gelu),
                     ("encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps",
                      layer.norm1.eps != layer.norm2.eps),
                     ("encoder_layer.self_attn.num_heads is odd", attn.num_heads % 2 == 1)):
        if bad:
            return why
    return ""


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then ``norm``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm=None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}")
        self.use_nested_tensor = enable_nested_tensor and not why_not

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        if mask is not None and src_key_padding_mask is not None and (
                mask.dtype is not src_key_padding_mask.dtype):  # once here, as PyTorch
            warnings.warn("Support for mismatched src_key_padding_mask and mask is deprecated. "
                          "Use same type for both instead.", stacklevel=2)
            mask, src_key_padding_mask = (_float_mask(m, src.dtype)
                                          for m in (mask, src_key_padding_mask))
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        x = self.norm(x) if self.norm is not None else x
        if self._nested_fast_path(src, mask, src_key_padding_mask):
            # PyTorch's inference path runs on a nested tensor of the unpadded tokens and pads
            # the result with zeros: the padded positions come out 0, not computed
            x = x.masked_fill(src_key_padding_mask.unsqueeze(-1), 0.0)
        return x

    def _nested_fast_path(self, src, mask, pad) -> bool:
        """Whether PyTorch would take its nested-tensor path for this call (eval mode, a
        left-aligned bool padding mask, no attention mask, no grad needed, no autocast)."""
        if not (self.use_nested_tensor and pad is not None and mask is None and src.ndim == 3
                and not self.layers[0].training and pad.dtype is dtypes.bool_):
            return False
        from ... import is_autocast_enabled
        from ...autograd.grad_mode import is_grad_enabled

        if is_autocast_enabled() or (is_grad_enabled() and (src.requires_grad or any(
                p.requires_grad for p in self.layers[0].parameters()))):
            return False
        keep = ~pad  # left-aligned: the kept tokens of each row come first
        return not self.mask_check or bool((keep.int().cummin(-1).values == keep.int()).all())


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn, then ``norm``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm=None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need" (PyTorch's layout:
    ``encoder`` and ``decoder`` stacks each ending in a LayerNorm; every matrix parameter
    re-initialised with xavier_uniform_).

    Shape:
        src (S, N, E), tgt (T, N, E) (batch first with batch_first); output (T, N, E).
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*args, **fk), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*args, **fk), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False) -> Tensor:
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above."""
        return _generate_square_subsequent_mask(sz, device, dtype)
