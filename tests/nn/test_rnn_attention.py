"""Recurrent and attention layers against PyTorch (copied weights), plus gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import compare_with_torch, gradcheck_module

import autodiff as ad
import autodiff.nn as nn

R = np.random.default_rng(0)


def rn(*shape):
    return R.standard_normal(shape)


RNN_CASES = [
    ("rnn", lambda m: m.RNN(3, 4), [rn(5, 2, 3)]),
    ("rnn_relu_2l_bi", lambda m: m.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True),
     [rn(4, 2, 3)]),
    ("lstm", lambda m: m.LSTM(3, 4), [rn(5, 2, 3)]),
    ("lstm_2l_bi_bf", lambda m: m.LSTM(3, 4, num_layers=2, bidirectional=True,
                                       batch_first=True), [rn(2, 4, 3)]),
    ("lstm_nobias_unbatched", lambda m: m.LSTM(3, 2, bias=False), [rn(4, 3)]),
    ("gru", lambda m: m.GRU(3, 4), [rn(5, 2, 3)]),
    ("gru_2l_bi", lambda m: m.GRU(3, 4, 2, bidirectional=True), [rn(3, 2, 3)]),
    ("rnncell", lambda m: m.RNNCell(3, 4), [rn(2, 3), rn(2, 4)]),
    ("lstmcell", lambda m: m.LSTMCell(3, 4), [rn(2, 3)]),
    ("grucell", lambda m: m.GRUCell(3, 4), [rn(2, 3), rn(2, 4)]),
]


@pytest.mark.parametrize("ctor,inputs", [c[1:] for c in RNN_CASES], ids=[c[0] for c in RNN_CASES])
def test_rnn_matches_torch(ctor, inputs, cpu_device, torch):
    compare_with_torch(ctor(nn), ctor(torch.nn), inputs, cpu_device, torch)


def test_lstm_with_initial_state_matches_torch(cpu_device, torch):
    x, h0, c0 = rn(4, 2, 3), rn(2, 2, 5), rn(2, 2, 5)
    compare_with_torch(nn.LSTM(3, 5, 2), torch.nn.LSTM(3, 5, 2), [x, h0, c0], cpu_device,
                       torch, call=lambda m, x, h, c: m(x, (h, c)))


@pytest.mark.parametrize("ctor,inputs", [c[1:] for c in RNN_CASES[:7:2]],
                         ids=[c[0] for c in RNN_CASES[:7:2]])
def test_rnn_gradcheck(ctor, inputs, cpu_device):
    mod = ctor(nn)
    gradcheck_module(mod, [inputs[0][:3, :1]] if inputs[0].ndim == 3 else inputs, cpu_device)


def test_lstm_double_backward_uses_composite(cpu_device):
    lstm = nn.LSTM(2, 3).to(ad.float64).to(cpu_device)
    x = ad.randn(3, 1, 2, dtype=ad.float64, device=cpu_device, requires_grad=True)
    assert ad.autograd.gradgradcheck(lambda x: lstm(x)[0], (x,))


def test_rnn_wrong_input_size_names_expected_and_got():
    with pytest.raises(ValueError, match=r"expected input of shape \(L, N, 3\).*got shape"):
        nn.LSTM(3, 4)(ad.randn(5, 2, 4))


def test_rnn_weight_names_match_pytorch(torch):
    ours = dict((k, tuple(v.shape)) for k, v in nn.GRU(3, 4, 2, bidirectional=True)
                .state_dict().items())
    theirs = dict((k, tuple(v.shape)) for k, v in torch.nn.GRU(3, 4, 2, bidirectional=True)
                  .state_dict().items())
    assert list(ours) == list(theirs) and ours == theirs


def mha_call(kpm=None, mask=None, need_weights=True, average=True, self_attn=True):
    def call(m, q, k, v):
        kw = dict(need_weights=need_weights, average_attn_weights=average)
        if kpm is not None:
            kw["key_padding_mask"] = kpm(m)
        if mask is not None:
            kw["attn_mask"] = mask(m)
        return m(q, q, q, **kw) if self_attn else m(q, k, v, **kw)
    return call


def _mask(arr):
    def make(m):
        if isinstance(m, nn.Module):
            return ad.tensor(arr, device=next(m.parameters()).device)
        import torch

        return torch.tensor(arr)
    return make


BOOL_KPM = np.array([[False, False, True, True], [False, False, False, True]])
CAUSAL = np.triu(np.ones((3, 4), dtype=bool), 1)
FLOAT_MASK = R.standard_normal((3, 4))

MHA_CASES = [
    ("self", lambda m: m.MultiheadAttention(8, 2), mha_call()),
    ("cross_kpm_bool", lambda m: m.MultiheadAttention(8, 2),
     mha_call(kpm=_mask(BOOL_KPM), self_attn=False)),
    ("cross_bool_mask_heads", lambda m: m.MultiheadAttention(8, 2),
     mha_call(mask=_mask(CAUSAL), average=False, self_attn=False)),
    ("cross_float_mask_no_weights", lambda m: m.MultiheadAttention(8, 4),
     mha_call(mask=_mask(FLOAT_MASK), need_weights=False, self_attn=False)),
    ("kdim_vdim_bias_kv", lambda m: m.MultiheadAttention(8, 2, kdim=5, vdim=6,
                                                         add_bias_kv=True, add_zero_attn=True),
     mha_call(self_attn=False)),
]


@pytest.mark.parametrize("ctor,call", [c[1:] for c in MHA_CASES], ids=[c[0] for c in MHA_CASES])
def test_mha_matches_torch(ctor, call, cpu_device, torch):
    mod_ours = ctor(nn)
    k_dim = mod_ours.kdim
    v_dim = mod_ours.vdim
    q, k, v = rn(3, 2, 8), rn(4, 2, k_dim), rn(4, 2, v_dim)
    compare_with_torch(mod_ours, ctor(torch.nn), [q, k, v], cpu_device, torch, call=call)


def test_mha_batch_first_matches_torch(cpu_device, torch):
    x = rn(2, 3, 8)
    compare_with_torch(nn.MultiheadAttention(8, 2, batch_first=True),
                       torch.nn.MultiheadAttention(8, 2, batch_first=True), [x], cpu_device,
                       torch, call=lambda m, x: m(x, x, x))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation, cpu_device, torch):
    args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True,
                norm_first=norm_first, activation=activation)
    x = rn(2, 3, 8)
    kpm = np.array([[False, False, True], [False, False, False]])

    def call(m, x):
        mask = ad.tensor(kpm) if isinstance(m, nn.Module) else torch.tensor(kpm)
        if isinstance(m, nn.Module):
            mask = mask.to(x.device)
        return m(x, src_key_padding_mask=mask)

    compare_with_torch(nn.TransformerEncoderLayer(**args),
                       torch.nn.TransformerEncoderLayer(**args), [x], cpu_device, torch,
                       call=call, atol=1e-6)


def test_transformer_matches_torch(cpu_device, torch):
    args = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                dim_feedforward=16, dropout=0.0, batch_first=True)
    src, tgt = rn(2, 4, 8), rn(2, 3, 8)

    def call(m, s, t):
        mask = m.generate_square_subsequent_mask(3)
        if isinstance(m, nn.Module):
            mask = mask.to(s.device).to(ad.float64)
        else:
            mask = mask.double()
        return m(s, t, tgt_mask=mask)

    compare_with_torch(nn.Transformer(**args), torch.nn.Transformer(**args), [src, tgt],
                       cpu_device, torch, call=call, atol=1e-6)


def test_decoder_stack_norm_first_matches_torch(cpu_device, torch):
    def build(m):
        layer = m.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
        return m.TransformerDecoder(layer, 2, norm=m.LayerNorm(8))

    compare_with_torch(build(nn), build(torch.nn), [rn(3, 2, 8), rn(4, 2, 8)], cpu_device,
                       torch, atol=1e-6)


def test_sdpa_matches_torch(cpu_device, torch):
    import autodiff.nn.functional as F

    q, k, v = rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 6)
    bool_mask = R.random((3, 5)) > 0.3
    bool_mask[:, 0] = True
    for kw in [{}, {"is_causal": True}, {"scale": 0.3}]:
        for mask in [None, bool_mask, FLOAT_MASK[:, :1].repeat(5, 1)]:
            if mask is not None and kw.get("is_causal"):
                continue
            ta = [ad.tensor(a, device=cpu_device) for a in (q, k, v)]
            ma = None if mask is None else ad.tensor(mask, device=cpu_device)
            mt = None if mask is None else torch.tensor(mask)
            ours = F.scaled_dot_product_attention(*ta, attn_mask=ma, **kw)
            theirs = torch.nn.functional.scaled_dot_product_attention(
                *[torch.tensor(a) for a in (q, k, v)], attn_mask=mt, **kw)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-10)


def test_sdpa_gradcheck(cpu_device):
    import autodiff.nn.functional as F

    q, k, v = (ad.randn(1, 2, 3, dtype=ad.float64, device=cpu_device, requires_grad=True)
               for _ in range(3))
    assert ad.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))


class _SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(4, 2)

    def forward(self, x):
        return self.mha(x, x, x)[0]


def test_mha_gradcheck(cpu_device):
    gradcheck_module(_SelfAttention(), [rn(2, 1, 4)], cpu_device)
