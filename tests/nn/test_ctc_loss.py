"""F.ctc_loss against PyTorch: losses and gradients (through log_softmax and of log_probs
themselves) for padded and concatenated targets, every reduction, blanks other than 0,
repeated labels, impossible alignments (inf loss, NaN gradients unless zero_infinity) and
steps past a sequence's input length. The first test holds PyTorch 2.13's values written
out, so it needs no PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


@pytest.mark.parametrize("dev", DEVICES)
def test_literal_values(dev):
    x = ad.tensor(np.linspace(-1, 1, 40).reshape(5, 2, 4).round(3), device=dev,
                  requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), ad.tensor([[1, 2], [3, 0]]), [5, 4], [2, 1],
                      reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [3.519365961950095, 3.237101175819438])
    np.testing.assert_allclose(x.grad.numpy()[:, 1], [
        [-0.3357498164, 0.2431820376, 0.2561620594, -0.1635942806],
        [-0.1218600282, 0.2433661294, 0.2560997494, -0.3776058506],
        [-0.1218658245, 0.2433098883, 0.2560405656, -0.3774846294],
        [-0.3357894359, 0.2432443164, 0.2559715628, -0.1634264434],
        [0, 0, 0, 0]], atol=1e-9)


CASES = [  # T, N, C, S, input lengths, target lengths, reduction, zero_infinity, concat, blank
    (6, 2, 4, 3, [6, 5], [3, 2], "mean", False, False, 0),
    (6, 2, 4, 3, [6, 5], [3, 2], "sum", False, True, 0),
    (10, 3, 5, 4, [10, 7, 3], [4, 0, 2], "none", False, False, 0),
    (4, 2, 3, 4, [4, 2], [4, 3], "none", False, False, 0),  # impossible: inf, NaN grads
    (4, 2, 3, 4, [4, 2], [4, 3], "mean", True, False, 0),
    (8, 2, 5, 3, [8, 8], [3, 3], "none", False, False, 4),
    (12, 2, 3, 5, [12, 12], [5, 5], "none", False, False, 0),  # repeated labels
]


@pytest.mark.parametrize("dev", DEVICES)
@pytest.mark.parametrize("case", CASES)
def test_like_torch(torch, dev, case):
    t_max, n, c, s, in_len, tg_len, reduction, zero_inf, concat, blank = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t_max, n, c))
    tg = rng.integers(1, c, (n, s)) if blank == 0 else rng.integers(0, c - 1, (n, s))
    if concat:
        tg = np.concatenate([tg[i, :tg_len[i]] for i in range(n)])
    kw = dict(blank=blank, reduction=reduction, zero_infinity=zero_inf)
    xt = torch.tensor(x, requires_grad=True)
    lpt = xt.log_softmax(2)
    lpt.retain_grad()
    lt = torch.nn.functional.ctc_loss(lpt, torch.tensor(tg), torch.tensor(in_len),
                                      torch.tensor(tg_len), **kw)
    w = rng.random(tuple(lt.shape))
    (lt * torch.tensor(w)).sum().backward()
    xa = ad.tensor(x, requires_grad=True, device=dev)
    lpa = xa.log_softmax(2)
    lpa.retain_grad()
    la = F.ctc_loss(lpa, ad.tensor(tg), ad.tensor(in_len), ad.tensor(tg_len), **kw)
    (la * ad.tensor(w, device=dev)).sum().backward()
    np.testing.assert_allclose(la.detach().numpy(), lt.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(lpa.grad.numpy(), lpt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_unbatched_and_float32(torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5)).astype(np.float32)
    la = F.ctc_loss(ad.tensor(x).log_softmax(1), ad.tensor([1, 3, 3]), [7], [3])
    lt = torch.nn.functional.ctc_loss(torch.tensor(x).log_softmax(1), torch.tensor([1, 3, 3]),
                                      [7], [3])
    assert la.dtype == ad.float32
    np.testing.assert_allclose(la.numpy(), lt.numpy(), rtol=1e-5)


def test_errors():
    lp = ad.randn(5, 2, 4).log_softmax(2)
    with pytest.raises(ValueError, match="input_lengths must be in"):
        F.ctc_loss(lp, ad.tensor([[1, 2], [1, 2]]), [6, 5], [2, 2])
    with pytest.raises(IndexError, match="target labels must be in"):
        F.ctc_loss(lp, ad.tensor([[1, 4], [1, 2]]), [5, 5], [2, 2])
    with pytest.raises(ad.ShapeError, match="target_lengths sum to"):
        F.ctc_loss(lp, ad.tensor([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, ad.tensor([[1, 2], [1, 2]]), [5, 5], [2, 2], reduction="avg")
