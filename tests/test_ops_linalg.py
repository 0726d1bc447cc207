"""Linear algebra: batched broadcasting matmul, 1-D matmul, dot/outer/mv/bmm and einsum,
forward against NumPy and gradcheck in float64 on every device."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    Case,
    op_table_tests,
)

import autodiff as ad


def _es(spec):
    return lambda *xs: ad.einsum(spec, *xs)


def _npes(spec):
    return lambda *xs: np.einsum(spec, *xs)


F32 = {"fwd_tol": {"rtol": 1e-4, "atol": 1e-4}}
CASES = [
    Case("matmul", lambda a, b: a @ b, np.matmul, (3, 4), (4, 5), **F32),
    Case("matmul_batched", lambda a, b: a @ b, np.matmul, (2, 3, 4), (2, 4, 5), **F32),
    Case("matmul_bcast_rhs", lambda a, b: a @ b, np.matmul, (2, 3, 4), (4, 5), **F32),
    Case("matmul_bcast_lhs", lambda a, b: ad.matmul(a, b), np.matmul, (3, 4), (2, 4, 5), **F32),
    Case("matmul_bcast_batch", lambda a, b: a @ b, np.matmul, (2, 1, 3, 4), (3, 4, 2), **F32),
    Case("matmul_1d_2d", lambda a, b: a @ b, np.matmul, (4,), (4, 5), **F32),
    Case("matmul_2d_1d", lambda a, b: a @ b, np.matmul, (3, 4), (4,), **F32),
    Case("matmul_1d_1d", lambda a, b: a @ b, np.matmul, (4,), (4,), **F32),
    Case("matmul_1d_3d", lambda a, b: a @ b, np.matmul, (4,), (2, 4, 3), **F32),
    Case("matmul_3d_1d", lambda a, b: a @ b, np.matmul, (2, 3, 4), (4,), **F32),
    Case("dot", ad.dot, np.dot, (5,), (5,), **F32),
    Case("outer", ad.outer, np.outer, (3,), (4,), **F32),
    Case("mv", lambda a, v: a.mv(v), np.matmul, (3, 4), (4,), **F32),
    Case("bmm", lambda a, b: a.bmm(b), np.matmul, (2, 3, 4), (2, 4, 2), **F32),
    Case("einsum_mm", _es("ij,jk->ik"), _npes("ij,jk->ik"), (3, 4), (4, 5), **F32),
    Case("einsum_bmm", _es("bij,bjk->bik"), _npes("bij,bjk->bik"), (2, 3, 4), (2, 4, 2),
         **F32),
    Case("einsum_attn", _es("bhqd,bhkd->bhqk"), _npes("bhqd,bhkd->bhqk"), (1, 2, 3, 4),
         (1, 2, 2, 4), **F32),
    Case("einsum_attn_v", _es("bhqk,bhkd->bhqd"), _npes("bhqk,bhkd->bhqd"), (1, 2, 3, 2),
         (1, 2, 2, 4), **F32),
    Case("einsum_bilinear", _es("bi,oij,bj->bo"), _npes("bi,oij,bj->bo"), (2, 3), (4, 3, 2),
         (2, 2), **F32),
    Case("einsum_transpose", _es("ij->ji"), _npes("ij->ji"), (3, 4)),
    Case("einsum_sum", _es("ij->"), _npes("ij->"), (3, 4), **F32),
    Case("einsum_rowsum", _es("ij->i"), _npes("ij->i"), (3, 4), **F32),
    Case("einsum_inner", _es("i,i->"), _npes("i,i->"), (4,), (4,), **F32),
    Case("einsum_outer_implicit", _es("i,j"), _npes("i,j"), (3,), (4,), **F32),
    Case("einsum_implicit_mm", _es("ij,jk"), _npes("ij,jk"), (3, 4), (4, 2), **F32),
    Case("einsum_list", lambda a, b: ad.einsum("ij,kj->ik", [a, b]), _npes("ij,kj->ik"),
         (3, 4), (2, 4), **F32),
    # repeated letters within an operand read diagonals (views, not products with an eye)
    Case("einsum_trace", _es("ii"), _npes("ii"), (4, 4), **F32),
    Case("einsum_diag_moved", _es("iij->ji"), _npes("iij->ji"), (3, 3, 2), **F32),
    Case("einsum_diag_apart", _es("iji,j->ij"), _npes("iji,j->ij"), (3, 2, 3), (2,), **F32),
    Case("einsum_diag_triple", _es("iii->i"), _npes("iii->i"), (3, 3, 3), **F32),
    # zero-size
    Case("matmul_empty_m", lambda a, b: a @ b, np.matmul, (0, 3), (3, 4), layouts=("contig",)),
    Case("matmul_empty_k", lambda a, b: a @ b, np.matmul, (2, 0), (0, 4), layouts=("contig",)),
    Case("matmul_empty_batch", lambda a, b: a @ b, np.matmul, (0, 2, 3), (3, 4),
         layouts=("contig",)),
]


test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)


def test_matmul_empty_k_is_zeros(device):
    a = ad.zeros(2, 0, device=device, requires_grad=True)
    b = ad.zeros(0, 3, device=device, requires_grad=True)
    y = a @ b
    assert y.shape == (2, 3) and y.tolist() == [[0.0] * 3] * 2
    y.sum().backward()
    assert a.grad.shape == (2, 0) and b.grad.shape == (0, 3)


@pytest.mark.parametrize("n", [1, 17, 64, 130])
def test_matmul_sizes_float32(n, device):
    """Sizes around the kernels' blocking (the C++ GEMM runs for the large ones)."""
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((n, n + 3)), rng.standard_normal((n + 3, n - 1 or 1))
    got = ad.tensor(a, dtype=ad.float32, device=device) @ ad.tensor(b, dtype=ad.float32,
                                                                     device=device)
    np.testing.assert_allclose(got.cpu().numpy(), a @ b, rtol=1e-4, atol=1e-4 * n)
