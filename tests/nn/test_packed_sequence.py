"""nn.utils.rnn packed sequences and RNN / LSTM / GRU on packed input, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import copy_weights

import autodiff as ad
import autodiff.nn as nn
from autodiff.nn.modules import rnn as rnn_module
from autodiff.nn.utils import rnn as U

# PyTorch's own float32 CPU path warns that oneDNN has no projected LSTM; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

R = np.random.default_rng(0)


def rn(*shape):
    return R.standard_normal(shape)


def np_of(t):
    return t.detach().numpy()


def both(x, device, torch):
    """The same array as our tensor and a torch tensor, both requiring grad when float."""
    grad = x.dtype.kind == "f"
    return (ad.tensor(x, device=device, requires_grad=grad),
            torch.tensor(x, requires_grad=grad))


def assert_packed_equal(ours, theirs, atol=0.0):
    np.testing.assert_allclose(np_of(ours.data), np_of(theirs.data), atol=atol)
    np.testing.assert_array_equal(np_of(ours.batch_sizes), np_of(theirs.batch_sizes))
    for a, t in [(ours.sorted_indices, theirs.sorted_indices),
                 (ours.unsorted_indices, theirs.unsorted_indices)]:
        assert (a is None) == (t is None)
        if a is not None:
            np.testing.assert_array_equal(np_of(a), np_of(t))


PACK_CASES = [  # lengths, batch_first, enforce_sorted, padded shape
    ([5, 4, 2, 2], False, True, (5, 4, 3)),
    ([3, 5, 1, 4], False, False, (6, 4, 3)),
    ([3, 5, 1, 4], True, False, (4, 5, 3)),
    ([2, 3], True, False, (2, 3, 2, 2)),
    ([1], False, True, (1, 1, 3)),
]


@pytest.mark.parametrize("lengths,batch_first,enforce_sorted,shape", PACK_CASES)
def test_pack_pad_roundtrip_matches_torch(lengths, batch_first, enforce_sorted, shape,
                                          cpu_device, torch):
    xa, xt = both(rn(*shape), cpu_device, torch)
    pa = U.pack_padded_sequence(xa, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    assert_packed_equal(pa, pt)
    ya, la = U.pad_packed_sequence(pa, batch_first, padding_value=-2.5, total_length=7)
    yt, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, -2.5, 7)
    np.testing.assert_array_equal(ya.numpy(), np_of(yt))
    np.testing.assert_array_equal(la.numpy(), lt.numpy())
    assert la.dtype == ad.int64
    seed = rn(*yt.shape)
    (ya * ad.tensor(seed, device=cpu_device)).sum().backward()
    (yt * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy())


def test_pack_sequence_and_unpack_match_torch(cpu_device, torch):
    arrays = [rn(2, 3), rn(4, 3), rn(1, 3)]
    ours = [ad.tensor(a, device=cpu_device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    pa = U.pack_sequence(ours, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    assert_packed_equal(pa, pt)
    seed = rn(*pt.data.shape)
    (pa.data * ad.tensor(seed, device=cpu_device)).sum().backward()
    (pt.data * torch.tensor(seed)).sum().backward()
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())
    back = U.unpack_sequence(pa)
    assert [tuple(b.shape) for b in back] == [(2, 3), (4, 3), (1, 3)]
    for b, a in zip(back, arrays):
        np.testing.assert_array_equal(b.numpy(), a)


def test_pack_sequence_integer_data_as_torch_docs(torch):
    p = U.pack_sequence([ad.tensor([1, 2, 3]), ad.tensor([4, 5]), ad.tensor([6])])
    assert p.data.tolist() == [1, 4, 6, 2, 5, 3] and p.batch_sizes.tolist() == [3, 2, 1]
    assert p.sorted_indices is None and p.unsorted_indices is None
    seq = ad.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    p = U.pack_padded_sequence(seq, ad.tensor([2, 1, 3]), batch_first=True,
                               enforce_sorted=False)
    assert p.data.tolist() == [4, 1, 3, 5, 2, 6] and p.batch_sizes.tolist() == [3, 2, 1]
    assert p.sorted_indices.tolist() == [2, 0, 1] and p.unsorted_indices.tolist() == [1, 2, 0]
    padded, lengths = U.pad_packed_sequence(p, batch_first=True)
    assert padded.tolist() == seq.tolist() and lengths.tolist() == [2, 1, 3]


def test_packed_sequence_is_a_named_tuple():
    p = U.pack_sequence([ad.randn(3, 2), ad.randn(2, 2)], enforce_sorted=False)
    data, batch_sizes, order, back = p
    assert isinstance(p, tuple) and p._fields == ("data", "batch_sizes", "sorted_indices",
                                                  "unsorted_indices")
    assert data is p.data and batch_sizes.tolist() == [2, 2, 1]
    assert order.tolist() == [0, 1] and back.tolist() == [0, 1]
    assert p.to(p.data.dtype) is p
    q = p.double()
    assert q.data.dtype == ad.float64 and q.batch_sizes is p.batch_sizes and not q.is_cuda
    assert U.invert_permutation(ad.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert U.invert_permutation(None) is None


ERROR_CASES = [
    (dict(lengths=[3, 4, 2]), "must be sorted in decreasing order"),
    (dict(lengths=[4, 0, 2], enforce_sorted=False), "has to be greater than 0"),
    (dict(lengths=[4, 3, 0]), "has to be greater than 0"),
    (dict(lengths=[4, 2]), r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 "
                           r"\(batch_size=3\)"),
    (dict(lengths=[[4, 3, 2]]), "'lengths' argument should be a 1D"),
    (dict(lengths=[5, 3, 2]), r"a length of 5 is longer than the 4 time steps"),
]


@pytest.mark.parametrize("kwargs,match", ERROR_CASES)
def test_pack_padded_sequence_errors(kwargs, match, torch):
    with pytest.raises(RuntimeError, match=match):
        U.pack_padded_sequence(ad.randn(4, 3, 2), **kwargs)
    if "longer" not in match:  # PyTorch reads past the end there instead of raising
        with pytest.raises(RuntimeError, match=match.split(" (")[0][:30]):
            torch.nn.utils.rnn.pack_padded_sequence(torch.randn(4, 3, 2), **kwargs)


def test_pad_packed_sequence_and_pack_errors():
    p = U.pack_padded_sequence(ad.randn(4, 3, 2), [4, 3, 2])
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 4"):
        U.pad_packed_sequence(p, total_length=3)
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
        U.pack_padded_sequence(ad.zeros(0, 3, 2), [1, 1, 1])
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(4,\)"):
        U.pack_padded_sequence(ad.randn(4), [4])
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        U.pad_packed_sequence(ad.randn(4, 3))
    with pytest.raises(ValueError, match=r"packed data of shape \(sum\(lengths\), 3\).*got "
                                         r"shape \(9, 2\)"):
        nn.GRU(3, 4)(p)


def with_states(mode, n_states, shape_h, shape_c):
    """Random initial states in the caller's batch order, or None."""
    if not n_states:
        return []
    return [rn(*shape_h)] + ([rn(*shape_c)] if mode == "LSTM" else [])


RNN_CASES = [  # id, mode, kwargs, lengths, batch_first, enforce_sorted, initial state
    ("lstm_bf_unsorted", "LSTM", {}, [3, 5, 1, 4], True, False, False),
    ("lstm_2l_bi_unsorted_state", "LSTM", dict(num_layers=2, bidirectional=True),
     [3, 5, 1, 4], False, False, True),
    ("lstm_proj_2l_bi_bf", "LSTM", dict(num_layers=2, bidirectional=True, proj_size=2),
     [2, 5, 4], True, False, True),
    ("gru_bi_bf_unsorted", "GRU", dict(bidirectional=True), [2, 4, 4, 1], True, False, False),
    ("gru_2l_sorted_state", "GRU", dict(num_layers=2), [5, 3, 3], False, True, True),
    ("rnn_relu_2l_bi_unsorted", "RNN", dict(num_layers=2, bidirectional=True,
                                            nonlinearity="relu"), [1, 4, 2], False, False,
     True),
    ("rnn_tanh_sorted_nobias", "RNN", dict(bias=False), [4, 4, 2], False, True, False),
]


def run_packed(lib, module, x, lengths, batch_first, enforce_sorted, states):
    rnn = lib.nn.utils.rnn
    packed = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    if not states:
        out, hidden = module(packed)
    else:
        out, hidden = module(packed, tuple(states) if len(states) == 2 else states[0])
    padded, _ = rnn.pad_packed_sequence(out, batch_first)
    return out, padded, list(hidden) if isinstance(hidden, tuple) else [hidden]


@pytest.mark.parametrize("mode,kwargs,lengths,batch_first,enforce_sorted,with_state",
                         [c[1:] for c in RNN_CASES], ids=[c[0] for c in RNN_CASES])
def test_rnn_on_packed_input_matches_torch(mode, kwargs, lengths, batch_first, enforce_sorted,
                                           with_state, cpu_device, torch):
    theirs = getattr(torch.nn, mode)(3, 4, batch_first=batch_first, **kwargs).double()
    ours = getattr(nn, mode)(3, 4, batch_first=batch_first, **kwargs).to(ad.float64)
    copy_weights(ours, theirs)
    ours.to(cpu_device)
    n, steps = len(lengths), max(lengths) + 1
    dirs = 2 if kwargs.get("bidirectional") else 1
    layers = dirs * kwargs.get("num_layers", 1)
    x = rn(n, steps, 3) if batch_first else rn(steps, n, 3)
    h_size = kwargs.get("proj_size") or 4
    states = with_states(mode, with_state, (layers, n, h_size), (layers, n, 4))
    xa, xt = both(x, cpu_device, torch)
    sa = [ad.tensor(s, device=cpu_device, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    oa, pa, ha = run_packed(ad, ours, xa, lengths, batch_first, enforce_sorted, sa)
    ot, pt, ht = run_packed(torch, theirs, xt, lengths, batch_first, enforce_sorted, st)
    assert isinstance(oa, U.PackedSequence)
    assert_packed_equal(oa, ot, atol=1e-12)
    np.testing.assert_allclose(pa.numpy(), np_of(pt), atol=1e-12)
    assert len(ha) == len(ht)
    for a, t in zip(ha, ht):
        assert tuple(a.shape) == tuple(t.shape)
        np.testing.assert_allclose(a.numpy(), np_of(t), atol=1e-12)
    seeds = [rn(*t.shape) for t in [pt] + ht]
    loss_a = sum((a * ad.tensor(s, device=cpu_device)).sum() for a, s in zip([pa] + ha, seeds))
    loss_t = sum((t * torch.tensor(s)).sum() for t, s in zip([pt] + ht, seeds))
    loss_a.backward()
    loss_t.backward()
    for a, t in zip([xa] + sa, [xt] + st):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(),
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_packed_float32_matches_torch_and_uses_the_fused_layer(mode, cpu_device, torch,
                                                               monkeypatch):
    calls = []
    fused = rnn_module.rnn_layer
    monkeypatch.setattr(rnn_module, "rnn_layer", lambda *a, **k: calls.append(1) or fused(*a, **k))
    kw = dict(num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, mode)(5, 6, **kw)
    ours = getattr(nn, mode)(5, 6, **kw)
    copy_weights(ours, theirs)
    ours.to(cpu_device)
    arrays = [rn(k, 5).astype(np.float32) for k in (4, 7, 1, 7, 3)]
    xa = [ad.tensor(a, device=cpu_device, requires_grad=True) for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    oa, ha = ours(U.pack_sequence(xa, enforce_sorted=False))
    ot, ht = theirs(torch.nn.utils.rnn.pack_sequence(xt, enforce_sorted=False))
    assert len(calls) == 4 and oa.data.dtype == ad.float32
    ha, ht = (ha, ht) if mode == "LSTM" else ((ha,), (ht,))
    for a, t in [(oa.data, ot.data)] + list(zip(ha, ht)):
        np.testing.assert_allclose(a.numpy(), np_of(t), atol=1e-5)
    (oa.data.sum() + sum((h * h).sum() for h in ha)).backward()
    (ot.data.sum() + sum((h * h).sum() for h in ht)).backward()
    for a, t in zip(xa, xt):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), atol=1e-4,
                                   err_msg=name)


def test_packed_state_shape_error_names_the_batch():
    p = U.pack_sequence([ad.randn(3, 2), ad.randn(2, 2)])
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"):
        nn.LSTM(2, 4)(p, (ad.zeros(1, 3, 4), ad.zeros(1, 3, 4)))
