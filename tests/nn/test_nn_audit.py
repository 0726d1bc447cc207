"""Options and edge cases a user porting a PyTorch model hits, checked against torch with
copied weights (outputs, input and parameter gradients, float64), plus regression tests for
the discrepancies the nn audit found: norm layers' ``bias=False``, Module API details
(``assign=True``, ``remove_duplicate=False``, ``get_buffer``), RNN cells, and reprs."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import compare_with_torch

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn

pytestmark = pytest.mark.filterwarnings(
    "ignore:enable_nested_tensor is True:UserWarning",  # PyTorch's notice, on its side only
    "ignore:Support for mismatched key_padding_mask:UserWarning")


def rn(*shape):
    return np.random.default_rng(0).standard_normal(shape)


KPM = np.zeros((3, 5), bool)
KPM[0, 3:] = True
CAUSAL = np.triu(np.ones((4, 5), bool), 1)


# (id, constructor taking the nn namespace, inputs, call(module, *xs) or None)
ATTENTION = [
    ("mha_bias_kv_zero_attn_avg_false",
     lambda M: M.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
     [rn(4, 3, 8), rn(5, 3, 8), rn(5, 3, 8)],
     lambda m, q, k, v: m(q, k, v, average_attn_weights=False)),
    ("mha_kdim_vdim_batch_first",
     lambda M: M.MultiheadAttention(8, 2, kdim=3, vdim=5, batch_first=True, bias=False),
     [rn(2, 4, 8), rn(2, 5, 3), rn(2, 5, 5)], None),
    ("mha_kpm_bool_attn_mask_bool", lambda M: M.MultiheadAttention(8, 2, add_zero_attn=True),
     [rn(4, 3, 8), rn(5, 3, 8), rn(5, 3, 8), CAUSAL, KPM],
     lambda m, q, k, v, am, kpm: m(q, k, v, attn_mask=am, key_padding_mask=kpm)),
    ("mha_float_masks_3d", lambda M: M.MultiheadAttention(8, 2, add_bias_kv=True),
     [rn(4, 3, 8), rn(5, 3, 8), rn(5, 3, 8), rn(6, 4, 5), rn(3, 5)],
     lambda m, q, k, v, am, kpm: m(q, k, v, attn_mask=am, key_padding_mask=kpm)),
    ("mha_unbatched_bias_kv", lambda M: M.MultiheadAttention(8, 2, add_bias_kv=True),
     [rn(4, 8), rn(5, 8), rn(5, 8)], lambda m, q, k, v: m(q, k, v, average_attn_weights=False)),
    ("mha_self_is_causal", lambda M: M.MultiheadAttention(8, 2, dropout=0.5),
     [rn(4, 3, 8), np.triu(np.ones((4, 4), bool), 1)],
     lambda m, x, am: m(x, x, x, attn_mask=am, is_causal=True)),
    ("encoder_layer_norm_first_gelu",
     lambda M: M.TransformerEncoderLayer(8, 2, 16, 0.0, activation="gelu", norm_first=True,
                                         batch_first=True), [rn(3, 5, 8)], None),
    ("decoder_layer_callable_act_no_bias",
     lambda M: M.TransformerDecoderLayer(8, 2, 16, 0.0, activation=M.functional.silu,
                                         bias=False), [rn(4, 3, 8), rn(5, 3, 8)], None),
    ("transformer_masks",
     lambda M: M.Transformer(8, 2, 1, 1, 16, 0.0),
     [rn(5, 3, 8), rn(4, 3, 8), np.triu(np.full((4, 4), -np.inf), 1), KPM],
     lambda m, s, t, tm, kpm: m(s, t, tgt_mask=tm, tgt_is_causal=True,
                                src_key_padding_mask=kpm, memory_key_padding_mask=kpm)),
    ("encoder_stack_no_nested",
     lambda M: M.TransformerEncoder(M.TransformerEncoderLayer(8, 2, 16, 0.0), 2,
                                    norm=M.LayerNorm(8), enable_nested_tensor=False),
     [rn(5, 3, 8), KPM], lambda m, s, kpm: m(s, src_key_padding_mask=kpm)),
]

NORM_BIAS_FALSE = [
    ("batchnorm1d", lambda M: M.BatchNorm1d(3, bias=False), [rn(4, 3, 5)]),
    ("batchnorm2d_momentum_none", lambda M: M.BatchNorm2d(3, momentum=None, bias=False),
     [rn(4, 3, 2, 2)]),
    ("batchnorm3d", lambda M: M.BatchNorm3d(3, bias=False), [rn(2, 3, 2, 2, 2)]),
    ("instancenorm2d_tracked",
     lambda M: M.InstanceNorm2d(3, affine=True, bias=False, track_running_stats=True),
     [rn(2, 3, 4, 4)]),
    ("groupnorm", lambda M: M.GroupNorm(3, 6, bias=False), [rn(2, 6, 3)]),
    ("syncbatchnorm", lambda M: M.SyncBatchNorm(3, bias=False), [rn(4, 3, 2)]),
    ("layernorm_2d", lambda M: M.LayerNorm((4, 5), bias=False), [rn(2, 3, 4, 5)]),
]


def _twice(m, x):
    """Two calls, so running statistics are used and updated."""
    m(x * 0.5 + 1.0)
    return m(x)


@pytest.mark.parametrize("make,inputs,call", [c[1:] for c in ATTENTION],
                         ids=[c[0] for c in ATTENTION])
def test_attention_options_vs_torch(make, inputs, call, cpu_device, torch):
    torch.manual_seed(0)
    compare_with_torch(make(nn), make(torch.nn), inputs, cpu_device, torch, train=False,
                       call=call)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("make,inputs", [c[1:] for c in NORM_BIAS_FALSE],
                         ids=[c[0] for c in NORM_BIAS_FALSE])
def test_norm_bias_false_vs_torch(make, inputs, train, cpu_device, torch):
    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    compare_with_torch(ours, theirs, inputs, cpu_device, torch, train=train, call=_twice)


def test_lazy_batchnorm_bias_false(torch):
    ours, theirs = nn.LazyBatchNorm2d(bias=False), torch.nn.LazyBatchNorm2d(bias=False)
    ours(ad.randn(2, 3, 2, 2))
    theirs(torch.randn(2, 3, 2, 2))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


REPRS = [
    lambda M: M.LayerNorm(5, elementwise_affine=False),
    lambda M: M.BatchNorm2d(3, affine=False),
    lambda M: M.InstanceNorm1d(3),
    lambda M: M.GroupNorm(2, 4),
    lambda M: M.Conv1d(4, 4, 3, padding="same", groups=2),
    lambda M: M.AvgPool1d(3),
    lambda M: M.AvgPool1d([3], 2, 1),
    lambda M: M.Hardtanh(-2, 2),
    lambda M: M.Hardtanh(inplace=True),
    lambda M: M.Embedding(5, 3, norm_type=1.0, scale_grad_by_freq=True, sparse=True),
    lambda M: M.RNNCell(4, 6, nonlinearity="relu"),
    lambda M: M.RNNCell(4, 6, bias=False),
]


@pytest.mark.parametrize("make", REPRS, ids=range(len(REPRS)))
def test_repr_matches_torch(make, torch):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_avgpool1d_and_hardtanh_inplace_forward(torch):
    m = nn.AvgPool1d(3, 2, 1)
    assert m.kernel_size == (3,) and tuple(m(ad.randn(2, 3, 10)).shape) == (2, 3, 5)
    x = ad.tensor([-3.0, 0.5, 3.0])
    nn.Hardtanh(-1.0, 2.0, inplace=True)(x)
    np.testing.assert_allclose(x.numpy(), [-1.0, 0.5, 2.0])
    with pytest.raises(ValueError):
        nn.Hardtanh(1.0, -1.0)


def _net(M):
    class Net(M.Module):
        def __init__(self):
            super().__init__()
            self.body = M.Sequential(M.Linear(3, 4), M.ReLU(), M.Linear(4, 2))
            self.bn = M.BatchNorm1d(2)
            self.tie = self.body[2]  # the same Linear under a second name
    return Net()


def test_named_members_without_dedup(torch):
    ours, theirs = _net(nn), _net(torch.nn)
    for method in ("named_parameters", "named_buffers", "named_modules"):
        got = [n for n, _ in getattr(ours, method)(remove_duplicate=False)]
        assert got == [n for n, _ in getattr(theirs, method)(remove_duplicate=False)], method
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))


def test_load_state_dict_assign(torch):
    lin = nn.Linear(3, 2)
    lin.bias.requires_grad_(False)
    w, b = ad.randn(2, 3, dtype=ad.float64), ad.zeros(2, dtype=ad.float64)
    result = lin.load_state_dict({"weight": w, "bias": b}, assign=True)
    assert repr(result) == "<All keys matched successfully>"
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.dtype is ad.float64
    assert lin.weight.requires_grad and not lin.bias.requires_grad
    w.numpy()[0, 0] = 7.0  # assign puts the given tensor in place: it shares the storage
    assert lin.weight.numpy()[0, 0] == 7.0
    net = _net(nn)
    sd = {k: v.detach().numpy() for k, v in _net(torch.nn).state_dict().items()}
    net.load_state_dict(sd, assign=True)
    assert net.bn.running_mean is net.get_buffer("bn.running_mean")
    out = net.load_state_dict({"bn.weight": np.ones(2), "x": np.ones(1)}, strict=False)
    assert "bn.bias" in out.missing_keys and out.unexpected_keys == ["x"]


def test_get_buffer_get_parameter_and_register_conflicts():
    net = _net(nn)
    assert tuple(net.get_buffer("bn.running_var").shape) == (2,)
    assert tuple(net.get_parameter("body.0.weight").shape) == (4, 3)
    for bad in (lambda: net.get_parameter("bn.running_mean"),
                lambda: net.get_buffer("bn.weight"), lambda: net.get_parameter("bn.nope")):
        with pytest.raises(AttributeError):
            bad()
    with pytest.raises(KeyError):  # was: silently replaced the submodule
        net.register_buffer("body", ad.zeros(1))
    with pytest.raises(KeyError):
        net.bn.register_parameter("running_mean", None)
    with pytest.raises(KeyError, match="attribute 'keys' already exists"):  # as PyTorch 2.13
        nn.ParameterDict({"keys": ad.zeros(1)})


def test_rnn_cells_reject_bad_hidden_and_nonlinearity():
    with pytest.raises(ValueError):
        nn.RNNCell(4, 6, nonlinearity="gelu")
    with pytest.raises(RuntimeError):  # was: broadcast (6,) over the batch silently
        nn.RNNCell(4, 6)(ad.randn(3, 4), ad.randn(6))
    with pytest.raises(RuntimeError):
        nn.GRUCell(4, 6)(ad.randn(3, 4), ad.randn(2, 6))
    with pytest.raises(RuntimeError):
        nn.LSTMCell(4, 6)(ad.randn(3, 4), (ad.randn(3, 6), ad.randn(3, 5)))
    assert tuple(nn.LSTMCell(4, 6)(ad.randn(4), (ad.randn(6), ad.randn(6)))[1].shape) == (6,)


def test_rnn_flatten_parameters_and_all_weights(torch):
    for kw in ({}, {"num_layers": 2, "bidirectional": True}, {"proj_size": 2, "bias": False}):
        ours, theirs = nn.LSTM(4, 6, **kw), torch.nn.LSTM(4, 6, **kw)
        ours.flatten_parameters()
        assert ([[tuple(p.shape) for p in ws] for ws in ours.all_weights]
                == [[tuple(p.shape) for p in ws] for ws in theirs.all_weights])


def test_interpolate_size_rank_and_pad_errors():
    x = ad.randn(1, 2, 4, 4)
    with pytest.raises(ValueError):
        F.interpolate(x, size=(3, 3, 3))
    with pytest.raises(ValueError):
        nn.Upsample(scale_factor=(2, 2, 2))(x)
    with pytest.raises(RuntimeError):  # PyTorch raises RuntimeError for both
        F.pad(x, (1,))
    with pytest.raises(RuntimeError):
        F.pad(x, (4, 4), mode="reflect")


def test_transformer_encoder_keeps_flags():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1,
                                enable_nested_tensor=False, mask_check=False)
    assert enc.enable_nested_tensor is False and enc.mask_check is False
