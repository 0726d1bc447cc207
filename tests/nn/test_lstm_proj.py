"""nn.LSTM(proj_size=P) against PyTorch: parameter names, outputs, states and gradients."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import compare_with_torch, copy_weights

import autodiff as ad
import autodiff.nn as nn

# PyTorch's own float32 CPU path warns that oneDNN has no projected LSTM; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

R = np.random.default_rng(0)


def rn(*shape):
    return R.standard_normal(shape)


def with_state(m, x, h, c):
    return m(x, (h, c))


PROJ_CASES = [
    ("proj", lambda m: m.LSTM(3, 5, proj_size=2), [rn(4, 2, 3)], None),
    ("proj_2l_bi", lambda m: m.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=3),
     [rn(4, 2, 3)], None),
    ("proj_bf_nobias", lambda m: m.LSTM(3, 5, batch_first=True, bias=False, proj_size=2),
     [rn(2, 4, 3)], None),
    ("proj_unbatched_2l", lambda m: m.LSTM(3, 4, num_layers=2, proj_size=1), [rn(4, 3)], None),
    ("proj_2l_bi_state", lambda m: m.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
     [rn(3, 2, 3), rn(4, 2, 2), rn(4, 2, 5)], with_state),
]


@pytest.mark.parametrize("ctor,inputs,call", [c[1:] for c in PROJ_CASES],
                         ids=[c[0] for c in PROJ_CASES])
def test_lstm_proj_matches_torch(ctor, inputs, call, cpu_device, torch):
    compare_with_torch(ctor(nn), ctor(torch.nn), inputs, cpu_device, torch, call=call)


def test_lstm_proj_float32_matches_torch(cpu_device, torch):
    theirs = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=3)
    ours = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=3)
    copy_weights(ours, theirs)
    ours.to(cpu_device)
    x = rn(2, 5, 4).astype(np.float32)
    xa = ad.tensor(x, device=cpu_device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    oa, (ha, ca) = ours(xa)
    ot, (ht, ct) = theirs(xt)
    assert oa.dtype == ad.float32 and tuple(oa.shape) == (2, 5, 6)
    for a, t in [(oa, ot), (ha, ht), (ca, ct)]:
        np.testing.assert_allclose(a.numpy(), t.detach().numpy(), atol=1e-5)
    (oa.sum() + (ha * ha).sum() + ca.sum()).backward()
    (ot.sum() + (ht * ht).sum() + ct.sum()).backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), atol=1e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), atol=1e-5,
                                   err_msg=name)


def test_lstm_proj_parameters_match_torch(torch):
    kw = dict(num_layers=2, bidirectional=True, proj_size=2)
    ours = {k: tuple(v.shape) for k, v in nn.LSTM(3, 5, **kw).state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch.nn.LSTM(3, 5, **kw).state_dict().items()}
    assert list(ours) == list(theirs) and ours == theirs
    assert repr(nn.LSTM(3, 5, **kw)) == repr(torch.nn.LSTM(3, 5, **kw))
    assert nn.LSTM(3, 5, proj_size=2).proj_size == 2


def test_lstm_proj_init_bound():
    lstm = nn.LSTM(3, 16, proj_size=4)
    w = lstm.weight_hr_l0.numpy()
    assert w.shape == (4, 16) and np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.1


def test_lstm_proj_gradcheck(cpu_device):
    lstm = nn.LSTM(2, 3, proj_size=2, bidirectional=True).to(ad.float64).to(cpu_device)
    x = ad.randn(3, 1, 2, dtype=ad.float64, device=cpu_device, requires_grad=True)
    assert ad.autograd.gradcheck(lambda x: lstm(x)[0], (x,))


@pytest.mark.parametrize("proj,match", [
    (-1, "proj_size should be a positive integer or zero"),
    (5, "proj_size has to be smaller than hidden_size"),
    (7, "proj_size has to be smaller than hidden_size"),
])
def test_lstm_proj_size_errors(proj, match):
    with pytest.raises(ValueError, match=match):
        nn.LSTM(3, 5, proj_size=proj)


def test_lstm_proj_state_shape_errors_name_expected_shape():
    lstm = nn.LSTM(3, 5, num_layers=2, proj_size=2)
    x = ad.randn(4, 3, 3)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 3, 2\), got \(2, 3, 5\)"):
        lstm(x, (ad.zeros(2, 3, 5), ad.zeros(2, 3, 5)))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(2, 3, 5\), got \(2, 3, 2\)"):
        lstm(x, (ad.zeros(2, 3, 2), ad.zeros(2, 3, 2)))
