"""Two-operand einsum as one (batched) matmul: NumPy's einsum runs its own loops, not BLAS,
without optimize= (and its optimize= path does not batch): 'bij,bjk->bik' on (16, 16, 256)
operands took 0.77 ms against matmul's 0.03, 'ij,kj->ik' on (256, 1024) ones 12 ms against 1.
(A batched matmul of 1-row or 1-column matrices is the other way round: 'ij,ij->i' on
(256, 1024) took 0.47 ms on the cpp backend's GEMM against einsum's 0.05.)
"""

from __future__ import annotations

import functools
import math

# B * M * N * K below which einsum's loops beat the transposes and the matmul call (~10 us)
MIN_ELEMENTS = 32768


def einsum_as_matmul(backend, subscripts: str, a, b):
    """einsum(subscripts, a, b) through ``backend.matmul``, or None where that does not pay
    (nothing contracted: a broadcast product; batched dots and matrix-vector products; small
    operands) or does not apply (a letter repeated within an operand, or of another size in
    the other operand: einsum's size-1 broadcasting; not floating operands of one dtype)."""
    if a.dtype != b.dtype or a.dtype.kind not in "fc":
        return None
    plan = _plan(subscripts, a.shape, b.shape)
    if plan is None:
        return None
    (sum_a, perm_a, shape_a), (sum_b, perm_b, shape_b), shape, perm = plan
    y = backend.matmul(_arrange(backend, a, sum_a, perm_a, shape_a),
                       _arrange(backend, b, sum_b, perm_b, shape_b)).reshape(shape)
    return backend.contiguous(y.transpose(perm)) if perm else y


def _arrange(backend, x, summed, perm, shape):
    x = x.sum(axis=summed) if summed else x
    x = x.transpose(perm) if perm else x
    return backend.reshape(x, shape) if x.shape != shape else x


@functools.lru_cache(maxsize=256)
def _plan(subscripts: str, shape_a: tuple, shape_b: tuple):
    """((axes summed first, transpose, matmul shape) of each operand, the product's shape,
    the transpose to the output's order or None), or None (see einsum_as_matmul)."""
    lhs, arrow, out = subscripts.partition("->")
    sa, _, sb = lhs.partition(",")
    if (not arrow or len(sa) != len(shape_a) or len(sb) != len(shape_b)
            or len(set(sa)) != len(sa) or len(set(sb)) != len(sb)):
        return None
    size = dict(zip(sa, shape_a))
    if any(size.setdefault(c, n) != n for c, n in zip(sb, shape_b)) or math.prod(
            size.values()) < MIN_ELEMENTS:
        return None
    contracted = [c for c in sa if c in sb and c not in out]
    batch = [c for c in out if c in sa and c in sb]
    left = [c for c in out if c in sa and c not in sb]
    right = [c for c in out if c in sb and c not in sa]
    if (len(batch) + len(left) + len(right) != len(out)  # an output letter in no operand
            or math.prod(size[c] for c in contracted) <= 1
            or batch and min(math.prod(size[c] for c in left),
                             math.prod(size[c] for c in right)) == 1):
        return None  # (batched dots and matrix-vector products: einsum's loops are faster)
    groups_a, groups_b = (batch, left, contracted), (batch, contracted, right)
    if not batch:  # a plain 2-D product
        groups_a, groups_b = groups_a[1:], groups_b[1:]

    def operand(sub, groups):
        # letters of this operand only and not in the output are summed out first
        kept = [c for c in sub if any(c in g for g in groups)]
        summed = tuple(k for k, c in enumerate(sub) if c not in kept)
        perm = [kept.index(c) for g in groups for c in g]
        return (summed, None if perm == sorted(perm) else perm,
                tuple(math.prod(size[c] for c in g) for g in groups))

    order = batch + left + right
    perm = [order.index(c) for c in out]
    return (operand(sa, groups_a), operand(sb, groups_b), tuple(size[c] for c in order),
            None if perm == sorted(perm) else perm)
