"""Differentiable ops. Primitives live in the family modules; this namespace lists them all."""

from __future__ import annotations

from .compare import (  # noqa: F401
    bitwise_and, bitwise_or, bitwise_xor, ceil, eq, floor, ge, gt, isfinite, isinf, isnan, le,
    logical_and, logical_not, logical_or, logical_xor, lt, ne, remainder, round, trunc,
)
from .elementwise import (  # noqa: F401
    abs, add, clamp, cos, div, exp, expand, log, log1p, masked_fill, maximum, minimum, mul, neg,
    pow, reciprocal, relu, rsqrt, rsub, sigmoid, sign, sin, sqrt, square, sub, sum_to,
    tanh, where,
)
from .linalg import bmm, dot, einsum, matmul, mv, outer  # noqa: F401
from .movement import (  # noqa: F401
    argsort, broadcast_to, cat, chunk, clone, concat, concatenate, contiguous, expand_,
    expand_as, flatten, flip, gather, getitem, movedim, narrow, pad, permute, repeat,
    repeat_interleave, reshape, reshape_as, scatter_add, select, sort, split, squeeze, stack,
    swapaxes, t, tile, topk, transpose, tril, triu, unbind, unflatten, unsqueeze, view, view_as,
)
from .nn_ops import layer_norm, log_softmax, softmax  # noqa: F401
from .reduce import (  # noqa: F401
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var,
)
