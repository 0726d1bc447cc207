"""PyTorch's ``out=`` keyword on the functions that take it (``ad.add(a, b, out=c)``).

The result is computed as without ``out``, then written into ``out``, which is returned.
As PyTorch: ``out`` is resized when its shape differs (with PyTorch's deprecation warning if
it had elements); the result must cast to ``out``'s dtype by PyTorch's rules (no float into
an integer tensor, nothing but bool into a bool one); ``out`` must be on the result's device;
nothing may require grad (out= results are not differentiable); functions returning
(values, indices) take a tuple of two tensors. Creation functions (``zeros``, ``arange``, ...)
take ``out``'s dtype and device unless given.
"""

from __future__ import annotations

import functools
import warnings

from .autograd.grad_mode import no_grad
from .tensor import Tensor
from .torch_misc_extra import can_cast


def _words(text: str) -> list:
    return text.split()

CREATION = frozenset(_words("""
    arange empty eye full linspace logspace ones rand randint randn randperm range zeros
"""))

# PyTorch's functions with an out= overload (torch.overrides' signatures, 2.13) that autodiff
# has, and the reductions and creation functions whose override signatures omit it.
OUT_FUNCTIONS = CREATION | frozenset(_words("""
    abs absolute acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin aminmax
    any arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin asin asinh atan atan2
    atanh baddbmm bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift
    bitwise_xor bmm bucketize cat ceil cholesky cholesky_inverse cholesky_solve clamp
    clamp_max clamp_min clip column_stack concat concatenate copysign cos cosh cross cummax
    cummin cumprod cumsum deg2rad diag diag_embed diff digamma div divide dot dstack eq erf
    erfc erfinv exp exp2 expm1 fix float_power floor floor_divide fmax fmin fmod frac frexp
    gather gcd ge ger greater greater_equal gt heaviside histc hstack hypot i0 igamma igammac
    index_select inner inverse isneginf isposinf kron kthvalue lcm ldexp le lerp less
    less_equal lgamma log log10 log1p log2 logaddexp logaddexp2 logcumsumexp logical_and
    logical_not logical_or logical_xor logit logsumexp lt masked_select matmul max maximum mean
    median min minimum mm mode msort mul multinomial multiply mv nan_to_num nanmean nanmedian
    nanquantile nansum ne neg negative nextafter norm normal not_equal outer polygamma pow
    prod quantile rad2deg reciprocal remainder renorm round row_stack rsqrt searchsorted sgn
    sigmoid sign signbit sin sinc sinh sort sqrt square stack std sub subtract sum take
    take_along_dim tan tanh tensordot topk tril triu trunc var vdot vstack where xlogy
"""))


def install(namespace: dict) -> None:
    """Give the functions of OUT_FUNCTIONS found in ``namespace`` (autodiff's) out=."""
    for name in OUT_FUNCTIONS:
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type):
            namespace[name] = _with_out(name, fn, name in CREATION)


def _with_out(name: str, fn, creation: bool):
    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if creation and isinstance(out, Tensor):
            kwargs.setdefault("dtype", out.dtype)
            kwargs.setdefault("device", out.device)
        return write_out(name, fn(*args, **kwargs), out)

    return call


def write_out(name: str, result, out):
    """Write ``result`` (a Tensor or a tuple of them) into ``out`` as PyTorch does; returns
    ``out`` (as the result's named tuple type for several)."""
    if isinstance(result, tuple):
        if not (isinstance(out, (tuple, list)) and len(out) == len(result)):
            raise TypeError(f"{name}(): out= expects a tuple of {len(result)} tensors, got "
                            f"{type(out).__name__}")
        outs = [write_out(name, r, o) for r, o in zip(result, out)]
        return type(result)(*outs) if hasattr(result, "_fields") else tuple(outs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad or out.requires_grad:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"{name}(): result type {result.dtype.name} can't be cast to the "
                           f"desired output type {out.dtype.name}")
    if out.device != result.device:
        raise RuntimeError(f"{name}(): expected the out tensor on device {result.device}, but got "
                           f"{out.device}; allocate out there or move the inputs")
    if tuple(out.shape) != tuple(result.shape):
        _resize(name, out, tuple(result.shape))
    with no_grad():
        out.copy_(result)
    return out


def _resize(name: str, out: Tensor, shape: tuple) -> None:
    if out._base is not None:
        raise RuntimeError(f"{name}(): the out tensor of shape {tuple(out.shape)} is a view and "
                           f"cannot be resized to the result's shape {shape}")
    if out.numel():
        warnings.warn(f"An output with one or more elements was resized since it had shape "
                      f"{list(out.shape)}, which does not match the required output shape "
                      f"{list(shape)}. This behavior is deprecated, and in a future PyTorch "
                      f"release outputs will not be resized unless they have zero elements. "
                      f"You can explicitly reuse an out tensor t by resizing it, inplace, to "
                      f"zero elements with t.resize_(0).", UserWarning, stacklevel=4)
    out._data = out._dev.backend.xp.empty(shape, dtype=out._data.dtype)
    out._vc[0] += 1
