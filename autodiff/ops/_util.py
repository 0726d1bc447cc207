"""Helpers shared by the ops: operand promotion, dims, constants, error messages."""

from __future__ import annotations

import numbers

import numpy as np

from .. import dtypes
from ..errors import DTypeError, ShapeError

Tensor = None  # set by autodiff.tensor
_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def constant(data, dev):
    """Wrap a raw array as a Tensor that needs no grad."""
    return Tensor._make(data, dev, False, None)


def _category(dt) -> int:
    return 0 if dt is dtypes.bool_ else (2 if dt.is_floating_point else 1)


def _scalar_category(x) -> int:
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, (numbers.Integral,)):
        return 1
    if isinstance(x, (numbers.Real,)):
        return 2
    raise TypeError(f"unsupported operand type {type(x).__name__}")


def result_type(a, b):
    """PyTorch's promotion: dimensioned tensors > 0-d tensors > Python scalars by category."""
    da, db = a.dtype, b.dtype
    if da is db:
        return da
    ca, cb = _category(da), _category(db)
    a0, b0 = a._data.ndim == 0, b._data.ndim == 0
    if a0 != b0:
        (big, dbig, cbig), (small, dsmall, csmall) = (
            ((b, db, cb), (a, da, ca)) if a0 else ((a, da, ca), (b, db, cb)))
        return dbig if csmall <= cbig else dsmall
    return dtypes.promote(da, db)


def scalar_result_type(dt, x):
    cs = _scalar_category(x)
    c = _category(dt)
    if cs <= c:
        return dt
    return dtypes.get_default_dtype() if cs == 2 else dtypes.int64


def to_tensor_like(x, ref):
    """A Python scalar, list or array as a Tensor on ``ref``'s device (dtype by promotion)."""
    if isinstance(x, _SCALARS):
        dt = scalar_result_type(ref.dtype, x)
        return constant(ref._dev.backend.asarray(x, dt.np), ref._dev)
    from ..creation import tensor

    return tensor(x, device=ref._dev)


def operands(a, b):
    """Two Tensors of one dtype from any mix of Tensors and Python scalars."""
    kind = type(b)
    if (kind is float or kind is int) and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        # x + 1, x * 0.5 (the common mix): the float tensor's dtype wins, the scalar joins it
        return a, constant(a._dev.backend.asarray(b, a._data.dtype), a._dev)
    kind = type(a)
    if (kind is float or kind is int) and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return constant(b._dev.backend.asarray(a, b._data.dtype), b._dev), b
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
            return a, b
        dt = result_type(a, b)
    elif ta or tb:
        t, other = (a, b) if ta else (b, a)
        if isinstance(other, _SCALARS):
            dt = scalar_result_type(t.dtype, other)
            if dt is not t.dtype:
                t = t.to(dt)
            if dt.np.kind in "iu" and not isinstance(other, bool):  # wraps, as PyTorch's cast
                other = np.int64(other).astype(dt.np)
            c = constant(t._dev.backend.asarray(other, dt.np), t._dev)
            return (t, c) if ta else (c, t)
        other = to_tensor_like(other, t)
        a, b = (t, other) if ta else (other, t)
        dt = result_type(a, b)
    else:
        raise TypeError(f"expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.dtype is not dt:
        a = a.to(dt)
    if b.dtype is not dt:
        b = b.to(dt)
    return a, b


def no_bool(kernel: str, a) -> None:
    """PyTorch has no bool kernel for //, % and **: the same NotImplementedError."""
    if a.dtype is dtypes.bool_:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def float_operand(x):
    """x itself when floating, else x cast to the default float dtype (PyTorch promotes)."""
    return x if x.dtype.is_floating_point else x.to(dtypes.get_default_dtype())


def float_operands(a, b):
    """``operands`` of a function with a floating result: integer tensors become floats first,
    each from its own dtype (as PyTorch casts each input), so that a negative scalar beside a
    uint8 tensor, or a uint8 255 beside an int8 one, keeps its value."""
    x, y = operands(a, b)
    if x.dtype.is_floating_point:  # each was cast to the float type from its own dtype
        return x, y
    a = float_operand(a) if isinstance(a, Tensor) else a
    b = float_operand(b) if isinstance(b, Tensor) else b
    return operands(a, b)


def require_float(name: str, x) -> None:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}: expected a floating dtype, got {x.dtype.name}")


def broadcast_error(name: str, a, b) -> ShapeError:
    return ShapeError(f"{name}: cannot broadcast {tuple(a.shape)} with {tuple(b.shape)}")


def norm_dim(dim: int, ndim: int, op: str = "") -> int:
    # dim in [0, ndim); a 0-d tensor has dim 0 (or -1), unless ``op`` needs a real one
    if op and not ndim:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    if dim.__class__ is bool:  # an int subclass, so a slip like x.sum(True) would pass as dim 1
        raise TypeError(f"dim must be an int, got bool ({dim})")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def norm_dims(dim, ndim: int):
    """None -> None (all dims); int or sequence -> sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        dims = (norm_dim(dim if dim.__class__ is bool else int(dim), ndim),)
    else:
        dims = tuple(sorted({norm_dim(int(d), ndim) for d in dim}))
        if len(dims) != len(tuple(dim)):
            raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    # dim=() reduces over every dim, as in PyTorch; so does dim 0 or -1 of a 0-d tensor
    return dims if dims and ndim else None


def shape_arg(shape) -> tuple:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def composite_grads(op, g, inputs: tuple, build) -> tuple:
    """Gradients of ``build(*inputs)`` (the op's forward, written in differentiable ops) for
    the inputs the op's node needs, as graph expressions: a fused kernel's backward under
    create_graph.  Each input enters through a fresh alias node, so autograd.grad gives the
    partial derivative: with the saved tensors themselves, the gradient of w would also follow
    the path through x where x depends on w (a weight applied twice) and count it twice."""
    from ..autograd import functional
    from ..autograd.grad_mode import enable_grad

    wanted = [i for i, t in enumerate(inputs) if t is not None and op.next[i] is not None]
    with enable_grad():
        alias = [t.view_as(t) if i in wanted else t for i, t in enumerate(inputs)]
        grads = functional.grad([build(*alias)], [alias[i] for i in wanted], [g],
                                create_graph=True, allow_unused=True)
    out = [None] * len(inputs)
    for i, gr in zip(wanted, grads):
        out[i] = gr
    return tuple(out)
