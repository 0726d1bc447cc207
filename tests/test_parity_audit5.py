"""Seventeenth session's PyTorch-parity fixes: gather's index range checked in the cpp kernel,
scatter(reduce="multiply"), as_strided_scatter, linalg.qr(mode="r"), linalg.solve(left=False),
linalg.matrix_rank(tol=, atol=, rtol=)."""

import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff.errors import IndexRangeError

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("bad", [-1, 64, 1 << 40])
def test_gather_index_out_of_range_raises_on_every_path(device, bad):
    # 64 x 64: the cpp backend's one-pass kernel checks the range itself
    x = ad.randn(64, 64, device=device)
    idx = np.zeros((64, 3), np.int64)
    idx[5, 1] = bad
    with pytest.raises(IndexRangeError, match="index out of bounds for dim 1 of size 64"):
        x.gather(1, ad.tensor(idx, device=device))
    with pytest.raises(RuntimeError):  # PyTorch raises a RuntimeError
        x.gather(1, ad.tensor(idx, device=device))


def test_gather_in_range_matches_torch(device):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 33)).astype(np.float32)
    idx = rng.integers(0, 33, (64, 40))
    got = ad.tensor(a, device=device).gather(1, ad.tensor(idx, device=device)).numpy()
    np.testing.assert_array_equal(got, torch.tensor(a).gather(1, torch.tensor(idx)).numpy())


def _torch_scatter(*args, **kwargs):
    with warnings.catch_warnings():  # PyTorch deprecates reduce= with a src tensor
        warnings.simplefilter("ignore", UserWarning)
        return torch.scatter(*args, **kwargs)


@pytest.mark.parametrize("src", ["tensor", "scalar"])
def test_scatter_reduce_multiply(src):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    idx = np.array([[1, 1, 0], [1, 0, 0]])
    s = np.array([[2.0, 3.0, 5.0], [7.0, 11.0, 13.0]]) if src == "tensor" else 2.5
    ours = ad.scatter(ad.tensor(x), 0, ad.tensor(idx),
                      ad.tensor(s) if src == "tensor" else s, reduce="multiply")
    ref = _torch_scatter(torch.tensor(x), 0, torch.tensor(idx),
                         torch.tensor(s) if src == "tensor" else s, reduce="multiply")
    np.testing.assert_allclose(ours.numpy(), ref.numpy())
    inplace = ad.tensor(x).scatter_(0, ad.tensor(idx), ad.tensor(s) if src == "tensor" else s,
                                    reduce="multiply")
    np.testing.assert_allclose(inplace.numpy(), ref.numpy())


def test_as_strided_scatter_values_and_grads():
    x = ad.arange(12.0).reshape(3, 4).requires_grad_()
    s = ad.tensor([[10.0, 20.0], [30.0, 40.0]], requires_grad=True)
    y = ad.as_strided_scatter(x, s, (2, 2), (4, 2), 1)
    ref = torch.as_strided_scatter(torch.arange(12.0).reshape(3, 4), torch.tensor(s.numpy()),
                                   (2, 2), (4, 2), 1)
    np.testing.assert_array_equal(y.detach().numpy(), ref.numpy())
    g = np.arange(12.0).reshape(3, 4)
    (y * ad.tensor(g)).sum().backward()
    # d/dx: g where x is kept, 0 where src replaced it; d/dsrc: g at the strided positions
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 2, 0], [4, 0, 6, 0], [8, 9, 10, 11]])
    np.testing.assert_array_equal(s.grad.numpy(), [[1, 3], [5, 7]])
    np.testing.assert_array_equal(x.detach().as_strided_scatter(s.detach(), (2, 2), (4, 2),
                                                                1).numpy(), ref.numpy())
    with pytest.raises(ad.errors.ShapeError, match="src size"):
        ad.as_strided_scatter(x, s, (2, 3), (4, 1))
    with pytest.raises(RuntimeError, match="out of bounds"):
        ad.as_strided_scatter(x, ad.ones(4, 2), (4, 2), (4, 1))


def test_qr_mode_r():
    a = np.random.default_rng(1).standard_normal((2, 5, 3))
    q, r = ad.linalg.qr(ad.tensor(a), mode="r")
    tq, tr = torch.linalg.qr(torch.tensor(a), mode="r")
    assert tuple(q.shape) == tuple(tq.shape) == (0,)
    np.testing.assert_allclose(r.numpy(), tr.numpy(), atol=1e-12)


@pytest.mark.parametrize("b_shape", [(3, 2, 4), (2, 4)])
def test_solve_left_false(b_shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal(b_shape)
    ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    x = ad.linalg.solve(ta, tb, left=False)
    ref = torch.linalg.solve(torch.tensor(a), torch.tensor(b), left=False)
    np.testing.assert_allclose(x.detach().numpy(), ref.numpy(), atol=1e-12)
    assert ad.autograd.gradcheck(lambda p, q: ad.linalg.solve(p, q, left=False), (ta, tb))


@pytest.mark.parametrize("kwargs", [{}, {"tol": 0.5}, {"atol": 0.5}, {"rtol": 0.1},
                                    {"atol": 0.01, "rtol": 0.2}, {"atol": 0.0},
                                    {"hermitian": True}])
def test_matrix_rank_tolerances(kwargs):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 4))
    a = a + np.swapaxes(a, -1, -2)
    a[0, :, 3] = a[0, :, 1] + 1e-3 * a[0, :, 0]
    a[0, 3, :] = a[0, :, 3]
    np.testing.assert_array_equal(ad.linalg.matrix_rank(ad.tensor(a), **kwargs).numpy(),
                                  torch.linalg.matrix_rank(torch.tensor(a), **kwargs).numpy())


def test_matrix_rank_tensor_atol():
    a = np.random.default_rng(4).standard_normal((3, 4, 4))
    atol = np.array([0.1, 1.0, 3.0])
    np.testing.assert_array_equal(
        ad.linalg.matrix_rank(ad.tensor(a), atol=ad.tensor(atol)).numpy(),
        torch.linalg.matrix_rank(torch.tensor(a), atol=torch.tensor(atol)).numpy())


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_mask_and_is_causal_both_apply(causal, kind):
    # PyTorch 2.13 applies an explicit mask and is_causal together
    q = np.random.default_rng(5).standard_normal((2, 3, 5, 4)).astype(np.float32)
    if kind == "bool":
        mask = np.ones((5, 5), bool)
        mask[:, 1] = False
    else:
        mask = np.zeros((5, 5), np.float32)
        mask[:, 2], mask[0, 0] = -np.inf, -1.0
    ours = ad.nn.functional.scaled_dot_product_attention(
        *(ad.tensor(q),) * 3, attn_mask=ad.tensor(mask), is_causal=causal)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(q),) * 3, attn_mask=torch.tensor(mask), is_causal=causal)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=2e-6)


def test_multihead_attention_is_causal_needs_a_mask():
    m = ad.nn.MultiheadAttention(4, 2)
    x = ad.randn(5, 2, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    mask = ad.nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_allclose(m(x, x, x, attn_mask=mask, is_causal=True)[0].detach().numpy(),
                               m(x, x, x, attn_mask=mask)[0].detach().numpy())


def test_reregistering_keeps_the_position_in_state_dict():
    for lib in (torch.nn, ad.nn):
        bn = lib.BatchNorm1d(3)
        bn.register_buffer("running_mean", bn.running_mean * 0)
        lin = lib.Linear(2, 2)
        lin.register_parameter("weight", lin.weight)
        assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                         "num_batches_tracked"]
        assert list(lin.state_dict()) == ["weight", "bias"]


def test_iterative_pruning_state_dict_order_matches_torch():
    import torch.nn.utils.prune as torch_prune

    keys = []
    for lib, prune in ((torch.nn, torch_prune), (ad.nn, ad.nn.utils.prune)):
        m = lib.Conv2d(1, 6, 3)
        prune.random_unstructured(m, "weight", amount=0.3)
        prune.l1_unstructured(m, "bias", amount=3)
        prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
        keys.append(list(m.state_dict()))
    assert keys[0] == keys[1] == ["weight_orig", "bias_orig", "weight_mask", "bias_mask"]
