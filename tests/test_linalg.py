"""autodiff.linalg against torch.linalg (values and gradients, every device) and gradchecked
in float64, with the errors PyTorch raises."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch

import autodiff as ad

R = np.random.default_rng(5)
SQ = R.uniform(-1, 1, (4, 4)) + 3 * np.eye(4)          # well conditioned
BATCH = R.uniform(-1, 1, (2, 3, 3)) + 2 * np.eye(3)
SPD = SQ @ SQ.T + np.eye(4)
SYM = (SQ + SQ.T) / 2
TALL = R.uniform(-1, 1, (5, 3))
WIDE = R.uniform(-1, 1, (2, 5))
B = R.uniform(-1, 1, (4, 2))
VEC = R.uniform(-1, 1, (4,))

CASES = [
    ("norm_vec", lambda m, a: m.linalg.norm(a), VEC),
    ("norm_mat_fro", lambda m, a: m.linalg.norm(a), SQ),
    ("norm_ord1", lambda m, a: m.linalg.norm(a, 1), SQ),
    ("norm_inf", lambda m, a: m.linalg.norm(a, float("inf")), TALL),
    ("norm_nuc", lambda m, a: m.linalg.norm(a, "nuc"), TALL),
    ("norm_2", lambda m, a: m.linalg.norm(a, 2), TALL),
    ("norm_dim", lambda m, a: m.linalg.norm(a, dim=1, keepdim=True), TALL),
    ("vector_norm_3", lambda m, a: m.linalg.vector_norm(a, 3, dim=0), TALL),
    ("vector_norm_inf", lambda m, a: m.linalg.vector_norm(a, float("-inf")), TALL),
    ("vector_norm_0", lambda m, a: m.linalg.vector_norm(a, 0), TALL),
    ("matrix_norm_batch", lambda m, a: m.linalg.matrix_norm(a, -1, keepdim=True), BATCH),
    ("matrix_norm_dims", lambda m, a: m.linalg.matrix_norm(a, float("-inf"), dim=(0, 2)), BATCH),
    ("det", lambda m, a: m.linalg.det(a), SQ),
    ("det_batch", lambda m, a: m.det(a), BATCH),
    ("slogdet", lambda m, a: m.linalg.slogdet(-a), SQ),
    ("logdet", lambda m, a: a.logdet(), SPD),
    ("inv", lambda m, a: m.linalg.inv(a), SQ),
    ("inverse_batch", lambda m, a: a.inverse(), BATCH),
    ("solve", lambda m, a, b: m.linalg.solve(a, b), SQ, B),
    ("solve_vec", lambda m, a, b: m.linalg.solve(a, b), SQ, VEC),
    ("cholesky", lambda m, a: m.linalg.cholesky(a), SPD),
    ("cholesky_upper", lambda m, a: m.linalg.cholesky(a, upper=True), SPD),
    ("qr", lambda m, a: m.linalg.qr(a), TALL),
    ("qr_complete", lambda m, a: m.linalg.qr(a.detach(), mode="complete"), TALL),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a), SYM),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), TALL),
    ("svdvals_wide", lambda m, a: m.linalg.svdvals(a), WIDE),
    ("svd_abs", lambda m, a: tuple(t.abs() for t in m.linalg.svd(a, full_matrices=False)), TALL),
    ("pinv", lambda m, a: m.linalg.pinv(a), TALL),
    ("pinverse_wide", lambda m, a: a.pinverse(), WIDE),
    ("matrix_rank", lambda m, a: m.linalg.matrix_rank(a), np.outer(VEC, VEC)),
    ("matrix_power_3", lambda m, a: m.linalg.matrix_power(a, 3), SQ),
    ("matrix_power_neg", lambda m, a: a.matrix_power(-2), SQ),
    ("matrix_power_0", lambda m, a: m.linalg.matrix_power(a, 0), BATCH),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), VEC, SQ, B),
    ("vecdot", lambda m, a, b: m.linalg.vecdot(a, b), TALL, TALL[::-1].copy()),
    ("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), TALL, TALL[::-1].copy()),
    ("linalg_diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), BATCH),
]


@pytest.mark.parametrize("name,fn,arrays", [(c[0], c[1], c[2:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, arrays, device, torch):
    qr = name.startswith("qr")  # Q and R are unique up to the signs of R's diagonal
    compare_with_torch(name, fn, arrays, device, torch, tol=1e-7, grads=not qr,
                       values=np.abs if qr else None)


def _sym(x):
    return (x + x.transpose(-2, -1)) / 2


def _spd(x):
    return x @ x.transpose(-2, -1) + ad.eye(x.shape[-1], dtype=x.dtype)


@pytest.mark.parametrize("fn,data", [
    (lambda x: ad.linalg.inv(x), SQ),
    (lambda x: ad.linalg.det(x), BATCH),
    (lambda x: ad.linalg.slogdet(x)[1], SQ),
    (lambda x: ad.linalg.solve(x, x[:, :2] * 2), SQ),
    (lambda x: ad.linalg.cholesky(_spd(x)), SQ),
    (lambda x: ad.linalg.qr(x)[0].sum(-1) + ad.linalg.qr(x)[1].sum(0).sum(), TALL),
    (lambda x: ad.linalg.eigh(_sym(x))[0] * 2, SQ),
    (lambda x: ad.linalg.eigh(_sym(x))[1].abs(), SQ),
    (lambda x: ad.linalg.svdvals(x), TALL),
    (lambda x: ad.linalg.svd(x, full_matrices=False)[0].abs(), TALL),
    (lambda x: ad.linalg.svd(x, full_matrices=False)[2].abs().sum(0), WIDE),
    (lambda x: ad.linalg.pinv(x), TALL),
    (lambda x: ad.linalg.matrix_norm(x, "nuc"), TALL),
    (lambda x: ad.linalg.matrix_power(x, -3), SQ),
], ids=["inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh_values", "eigh_vectors",
        "svdvals", "svd_u", "svd_vh_wide", "pinv", "nuclear_norm", "matrix_power"])
def test_gradcheck_float64(fn, data):
    x = ad.tensor(data, dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(fn, (x,))
    assert ad.autograd.gradgradcheck(fn, (x,))


def test_errors_like_torch():
    with pytest.raises(RuntimeError, match="singular"):
        ad.linalg.inv(ad.zeros(3, 3))
    with pytest.raises(RuntimeError, match="positive-definite"):
        ad.linalg.cholesky(-ad.eye(3))
    with pytest.raises(ValueError, match="square"):  # (a ShapeError)
        ad.linalg.det(ad.tensor(TALL))


def test_torch_style_svd_returns_v():
    a = ad.tensor(TALL)
    u, s, v = ad.svd(a)
    np.testing.assert_allclose((u * s.unsqueeze(0) @ v.t()).numpy(), TALL, atol=1e-12)
