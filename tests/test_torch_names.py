"""The PyTorch names of autodiff/torch_names.py, checked against NumPy's equivalents."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]
RNG = np.random.default_rng(0)
A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))


@pytest.fixture(params=DEVICES)
def dev(request):
    return request.param


def t(a, dev, **kw):
    return ad.tensor(a, device=dev, **kw)


def test_products_and_fused_updates(dev):
    np.testing.assert_allclose(ad.mm(t(A, dev), t(B, dev)).numpy(), A @ B, rtol=1e-6)
    with pytest.raises(ad.ShapeError):
        ad.mm(t(A[None], dev), t(B, dev))
    np.testing.assert_allclose(t(A, dev).addcmul(t(A, dev), t(A, dev), value=0.5).numpy(),
                               A + 0.5 * A * A, rtol=1e-6)
    x = t(A, dev)
    x.addcdiv_(t(A, dev), t(A + 5, dev), value=2)
    np.testing.assert_allclose(x.numpy(), A + 2 * A / (A + 5), rtol=1e-6)
    got = ad.tensordot(t(A.reshape(3, 2, 2), dev), t(B.reshape(2, 2, 5), dev), dims=2).numpy()
    np.testing.assert_allclose(got, np.tensordot(A.reshape(3, 2, 2), B.reshape(2, 2, 5), 2),
                               rtol=1e-6)
    w = t(A, dev, dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(lambda a: ad.tensordot(a, a, dims=([0], [0])), (w,))


def test_remainders(dev):
    x = t([-3.0, 3.0, -7.0, 7.5], dev)
    np.testing.assert_array_equal(ad.fmod(x, 2).numpy(), np.fmod(x.numpy(), 2))
    np.testing.assert_array_equal(x.fmod(t([2.0, -2.0, 3.0, -2.0], dev)).numpy(),
                                  np.fmod(x.numpy(), [2.0, -2.0, 3.0, -2.0]))
    np.testing.assert_array_equal(x.remainder(2).numpy(), np.remainder(x.numpy(), 2))


def test_stacking(dev):
    a, c = t(A, dev), t(A * 2, dev)
    np.testing.assert_array_equal(ad.hstack([a, c]).numpy(), np.hstack([A, A * 2]))
    np.testing.assert_array_equal(ad.vstack([t([1.0, 2.0], dev), t([3.0, 4.0], dev)]).numpy(),
                                  [[1, 2], [3, 4]])
    np.testing.assert_array_equal(ad.dstack([a, c]).numpy(), np.dstack([A, A * 2]))
    np.testing.assert_array_equal(
        ad.column_stack([t([1.0, 2.0, 3.0], dev), t(A[:, :2], dev)]).numpy(),
        np.column_stack([[1, 2, 3], A[:, :2]]))


def test_diff_isin_and_broadcasting(dev):
    np.testing.assert_allclose(ad.diff(t(A, dev), n=2, dim=1).numpy(), np.diff(A, 2, 1),
                               rtol=1e-6)
    assert ad.diff(t([1.0, 4.0, 9.0], dev), prepend=t([0.0], dev)).tolist() == [1, 3, 5]
    assert ad.diff(t([True, False, False], dev)).tolist() == [True, False]
    assert ad.isin(t([1, 2, 3, 4], dev), t([2, 4], dev)).tolist() == [False, True, False, True]
    x, y = ad.broadcast_tensors(t(A[:1], dev), t(A, dev))
    assert x.shape == y.shape == (3, 4) and ad.broadcast_shapes((3, 1), (1, 4)) == (3, 4)
    assert ad.moveaxis(t(A.reshape(3, 2, 2), dev), 0, -1).shape == (2, 2, 3)
    assert t(A, dev).swapdims(0, 1).shape == (4, 3)
    np.testing.assert_allclose(ad.logspace(0, 3, 4, base=2.0, device=dev).numpy(), [1, 2, 4, 8])
    assert ad.clip(t(A, dev), -0.5, 0.5).numpy().max() <= 0.5


def test_dtype_limits_modes_and_threads():
    assert ad.finfo(ad.float32).eps == float(np.finfo(np.float32).eps)
    assert ad.finfo().tiny == float(np.finfo(np.float32).tiny)
    assert ad.iinfo(ad.int32).min == -(2 ** 31) and ad.finfo(ad.float16).max == 65504.0
    with pytest.raises(TypeError):
        ad.finfo(ad.int64)
    with ad.inference_mode():
        assert not (ad.ones(2, requires_grad=True) * 2).requires_grad
    assert (ad.ones(2, requires_grad=True) * 2).requires_grad
    with ad.inference_mode(False):
        assert (ad.ones(2, requires_grad=True) * 2).requires_grad
    n = ad.get_num_threads()
    ad.set_num_threads(1)
    assert ad.get_num_threads() == 1 or "cpp" not in ad.available_devices()
    ad.set_num_threads(n)
    model = ad.nn.Linear(2, 2)
    assert ad.compile(model) is model and ad.pi == math.pi and ad.is_floating_point(ad.ones(1))


def test_random_in_place_methods(dev):
    ad.manual_seed(0)
    x = ad.zeros(20000, device=dev)
    assert set(np.unique(x.bernoulli_(0.3).numpy())) == {0.0, 1.0}
    assert abs(x.mean().item() - 0.3) < 0.02
    ints = ad.zeros(5000, dtype=ad.int64, device=dev).random_(3, 7)
    assert set(np.unique(ints.numpy())) == {3, 4, 5, 6}
    assert set(np.unique(ad.zeros(5000, device=dev).random_(4).numpy())) == {0, 1, 2, 3}
    assert 0.45 < ad.zeros(20000, device=dev).exponential_(2.0).mean().item() < 0.55
    assert set(np.unique(ad.full((4,), 0.5, device=dev).bernoulli().numpy())) <= {0.0, 1.0}
    assert ad.tensor([[0.0, 1.0, 0.0]], device=dev).multinomial(2, True).tolist() == [[1, 1]]
    with pytest.raises(RuntimeError, match="leaf"):
        ad.zeros(3, device=dev, requires_grad=True).bernoulli_()


def test_pad_sequence(dev):
    from autodiff.nn.utils.rnn import pad_sequence, unpad_sequence

    seqs = [ad.tensor([1.0, 2.0], device=dev), ad.tensor([3.0], device=dev)]
    assert pad_sequence(seqs).tolist() == [[1.0, 3.0], [2.0, 0.0]]
    assert pad_sequence(seqs, batch_first=True, padding_value=-1.0,
                        padding_side="left").tolist() == [[1.0, 2.0], [-1.0, 3.0]]
    xs = [ad.ones(n, 3, device=dev, requires_grad=True) for n in (4, 2)]
    pad_sequence(xs, batch_first=True).sum().backward()
    assert xs[1].grad.shape == (2, 3)
    back = unpad_sequence(pad_sequence(xs, batch_first=True), [4, 2], batch_first=True)
    assert [tuple(b.shape) for b in back] == [(4, 3), (2, 3)]
