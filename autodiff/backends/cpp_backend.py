"""The C++ backend: NumPy storage, hot kernels from the ``autodiff._C`` extension.

``CppBackend`` subclasses the NumPy reference backend and overrides the kernels that
``autodiff._C`` implements (binary ops with broadcasting, sum_to, unary math, reductions,
matmul, softmax family, layer norm, batch-norm statistics; conv2d comes from the ``cpp_nn``
mixin, the LSTM/GRU layers' time loop from ``cpp_rnn``, copies (concatenate, padding,
tril/triu) from ``cpp_copy``).  Each override checks that the C++
kernel applies -- float32/float64 ndarrays, one dtype, a supported layout, a size above the
measured break-even point -- and otherwise declines to the NumPy kernel (logged once per
(op, dtype, reason) with AUTODIFF_DEBUG=1).

Thresholds are element counts below which NumPy is as fast or faster, measured on a
2-core Zen 3 (see docs/benchmarks.md, "C++ kernels"): a pybind11 call plus output
allocation costs ~1 us more than a NumPy ufunc call, so cheap streaming ops only pay off
once they are large enough to use both cores, while transcendental ops pay off early.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from .._config import config
from ..errors import index_range_error
from .cpp_copy import MIN_COPY, CppCopyKernels
from .cpp_nn import CppNNKernels
from .cpp_rnn import CppRnnKernels
from .fp_quiet import _QUIET, _fp_off, _fp_on
from .numpy_backend import NumpyBackend, axis_index

_C = None  # autodiff._C, imported by the first CppBackend()

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOATS = frozenset((_F32, _F64))
_ND = np.ndarray
_INDEX_INTS = frozenset((np.dtype(np.int64), np.dtype(np.int32)))
_DEBUG = config.debug

# Break-even sizes (elements of the largest operand / output; flops for matmul), measured
# with `python benchmarks/kernels.py --thresholds` (2 threads, Zen 3; table in
# docs/benchmarks.md).  Below them the NumPy kernel is as fast or faster.
MIN_BINARY = 32768  # add/sub/mul/div: a NumPy ufunc call is ~1 us cheaper than ours
MIN_ERF = 256  # below this the call overhead is the cost either way
_RESHAPE_NO_COPY = np.lib.NumpyVersion(np.__version__) >= "2.1.0"  # reshape(copy=False)
MIN_FILL = 1 << 18  # copies of broadcast arrays (1024 x 1024 from a column: 105 -> 69 us)
MIN_RELU = 1024  # np.maximum and g * (y > 0) are slow: C++ wins from ~256 elements
MIN_ABS = 1 << 17  # np.abs is vectorised too: ours wins by its second thread, from ~100K
MIN_MATH = 512  # float32 exp/log/tanh/sigmoid: vector math wins from ~512 elements
# float64 exp/log/tanh/sigmoid run libm in C++, no faster than NumPy: always declined.
MIN_REDUCE = 4096  # sum/mean/amax/var, sum_to, batch_norm_stats
MIN_INDEX = 1  # gather / scatter_add on the last axis: faster than NumPy from 4 x 8 up
MIN_SOFTMAX = 1  # one C++ call beats NumPy's 4-5 ufunc composite at every size
MIN_NORM = 1  # likewise for layer_norm (forward and backward)
# Smaller GEMMs go to NumPy: OpenBLAS runs them on one thread (it threads above
# M*N*K = 4 * 65536). Larger ones stay here even where OpenBLAS is 10-20% faster, because
# OpenBLAS's worker threads spin after each call and two thread pools (its and our OpenMP
# team) fighting over 2 cores made an MLP training step 3-10x slower.
MIN_MATMUL_FLOPS = 2 * 4 * 65536


def _load():
    """Import the extension and apply AUTODIFF_SIMD / AUTODIFF_NUM_THREADS once."""
    global _C
    if _C is None:
        from .. import _C as ext

        if config.simd is not None:
            try:
                ext.set_simd(config.simd)
            except ValueError as exc:
                warnings.warn(f"AUTODIFF_SIMD={config.simd}: {exc}; using {ext.simd_level()}",
                              RuntimeWarning, stacklevel=3)
        if config.num_threads is not None:
            ext.set_num_threads(config.num_threads)
        if not config.contention_guard:
            ext.set_contention_guard(False)
        _C = ext
    return _C


def _float(a) -> bool:
    return type(a) is np.ndarray and a.dtype in _FLOATS


def _axes_ok(axis) -> bool:
    return axis is None or (type(axis) is tuple and all(type(i) is int for i in axis))


def _scalar_if_0d(r):
    # NumPy's full reductions return a scalar, not a 0-d array: mirror it exactly.
    return r[()] if r.ndim == 0 else r


def _binary(op):
    """The backend's kernel for ``op`` (add, sub, mul, div): ``_C``'s for large float operands
    of one dtype, else NumPy's, quiet as NumpyBackend's (``_quiet_binary``).  Written out in
    one function: on tiny tensors every call layered on NumPy's would make the cpp backend
    slower than the numpy one (a check and a NumPy kernel of their own: 1.14 us a mul of 16
    elements, against 0.82)."""
    name = {operator.truediv: "div"}.get(op, op.__name__)

    def kernel(self, a, b):
        if type(a) is _ND and type(b) is _ND and (a.size >= MIN_BINARY or b.size >= MIN_BINARY):
            if a.dtype is b.dtype and a.dtype in _FLOATS:
                return getattr(_C, name)(a, b)
            self._decline(name, "dtype", a.dtype)
        elif _DEBUG:
            self._decline(name, "small or not an ndarray", getattr(a, "dtype", None))
        token = _fp_on(_QUIET)
        try:
            return op(a, b)
        finally:
            _fp_off(token)

    kernel.__name__ = name
    return kernel


def _reduction(name: str):
    """The backend's ``name`` (sum, mean, amax): ``_C``'s on float arrays from MIN_REDUCE
    elements, else NumpyBackend's, called directly (no *args: they cost 0.25 us a call)."""
    fallback = getattr(NumpyBackend, name)

    def kernel(self, a, axis, keepdims):
        if type(a) is _ND and a.size >= MIN_REDUCE:
            if self._reduce_ok(name, a, axis):
                return _scalar_if_0d(getattr(_C, name)(a, axis, keepdims))
        elif _DEBUG:
            self._decline(name, "small or not an ndarray", getattr(a, "dtype", None))
        return fallback(self, a, axis, keepdims)

    kernel.__name__ = name
    return kernel


def _fused_activation(op: str):
    """The cpp backend's forward and backward of an activation _C.activation implements,
    NumPy's (activation_kernels.py) for what the C++ kernels do not take."""
    def forward(self, x, *params):
        if self._fused_ok(x):
            return _C.activation(op, x, *params)
        return getattr(super(CppBackend, self), op)(x, *params)

    def backward(self, x, g, *params):
        if self._grad_ok(x, g):
            return _C.activation_backward(op, x, g, *params)
        return getattr(super(CppBackend, self), op + "_backward")(x, g, *params)

    return forward, backward


class CppBackend(CppCopyKernels, CppNNKernels, CppRnnKernels, NumpyBackend):
    """NumPy storage with the hot kernels in C++ (AVX2+FMA / scalar, OpenMP)."""

    name = "cpp"

    def __init__(self, index: int | None = None) -> None:
        super().__init__(index)
        _load()

    @staticmethod
    def simd_level() -> str:
        return _load().simd_level()

    # ------------------------------------------------------------- binary elementwise
    add, sub, mul, div = (_binary(op) for op in (operator.add, operator.sub, operator.mul,
                                                  operator.truediv))

    def cumsum(self, a, axis: int, dtype, reverse: bool = False):  # threaded, no flips
        if _float(a) and a.dtype == dtype and a.size >= MIN_COPY:
            return _C.cumsum(a, axis, reverse)
        return super().cumsum(a, axis, dtype, reverse)

    def cumprod(self, a, axis: int, reverse=False):  # threaded, in double; None: NumPy's pass
        return _C.cumprod(a, axis, reverse) if _float(a) and a.size >= MIN_COPY else None

    def sum_to(self, g, shape):
        shape = tuple(shape)
        if g.shape == shape:
            return g
        g = self.fold_constant_sum(g, shape)
        if g.size >= MIN_REDUCE and _float(g):
            return _C.sum_to(g, shape)
        self._decline("sum_to", "small or dtype", g.dtype)
        return super().sum_to(g, shape)

    def mul_sum_to(self, g, h, shape):
        shape = tuple(shape)
        if g.size < MIN_REDUCE and type(g) is np.ndarray and 0 not in g.strides \
                and type(h) is np.ndarray and 0 not in h.strides:  # nothing to fold: no checks
            return NumpyBackend.sum_to(self, self.mul(g, h), shape)
        g, h = self.fold_constant_axes(g, h, shape)
        if g.size >= MIN_REDUCE and g.shape != shape and _float(g) and _same(g, h) \
                and h.shape == g.shape:
            return _C.mul_sum_to(g, h, shape)
        return self.sum_to(self.mul(g, h), shape)

    # ------------------------------------------------------------- layout
    # NumPy copies a transposed view element by element (4.8 ms for 1024 x 1024 float32);
    # ours moves 8 x 8 blocks through registers, threaded.
    def contiguous(self, a):
        if _copyable(a) and not a.flags.c_contiguous:
            return _C.copy_contiguous(a)
        return super().contiguous(a)

    def copy(self, a):  # glibc's rep-movsb slow case (kernels/copy.cpp); large broadcast grads
        ok = _copyable(a) or type(a) is np.ndarray and a.size >= MIN_FILL
        return _C.copy_contiguous(a) if ok else super().copy(a)

    def reshape(self, a, shape):
        if _copyable(a) and not a.flags.c_contiguous:
            if not _RESHAPE_NO_COPY:  # NumPy < 2.1: no copy= (and a failed view costs a copy)
                from ..ops.movement import _viewable

                return a.reshape(shape) if _viewable(a, shape) else _C.copy_contiguous(
                    a).reshape(shape)
            try:
                return a.reshape(shape, copy=False)  # a view where one exists
            except ValueError:
                return _C.copy_contiguous(a).reshape(shape)
        return super().reshape(a, shape)

    def where(self, cond, a, b):
        # np.where branches per element (4 ns each on a random mask); ours blends
        if type(cond) is np.ndarray and cond.dtype == np.bool_:
            rt = np.result_type(a, b)
            if rt.kind in "fiu" and rt.itemsize in (4, 8) and (
                    type(a) is np.ndarray and a.dtype == rt and a.size >= MIN_COPY
                    or type(b) is np.ndarray and b.dtype == rt and b.size >= MIN_COPY):
                a = a if type(a) is np.ndarray and a.dtype == rt else np.asarray(a, rt)
                b = b if type(b) is np.ndarray and b.dtype == rt else np.asarray(b, rt)
                return _C.where(cond, a, b)
        return super().where(cond, a, b)

    def _last_axis_index_ok(self, a, axis, idx) -> bool:
        return (axis in (-1, a.ndim - 1) and _float(a) and type(idx) is np.ndarray
                and idx.size >= MIN_INDEX and a.shape[:-1] == idx.shape[:-1])

    def gather_checks_range(self, a, axis, idx) -> bool:
        return self._last_axis_index_ok(a, axis, idx)  # then one pass, not a check and a gather

    def gather(self, a, axis, idx):  # threaded rows (np.take_along_axis: 7.2 ms, ours 0.8)
        if self._last_axis_index_ok(a, axis, idx):
            try:
                return _C.gather_last(a, idx)
            except IndexError:
                raise index_range_error("gather", a.ndim - 1, a.shape[-1]) from None
        return super().gather(a, axis, idx)

    def scatter_add(self, base, axis, idx, src, inplace=False):  # np.add.at: 21 ms, ours 1
        if self._last_axis_index_ok(base, axis, idx) and _same(base, src) and src.shape == idx.shape:
            _C.scatter_add_last(out := base if inplace else base.copy(), idx, src)
            return out
        return super().scatter_add(base, axis, idx, src, inplace)

    def _along_last(self, kernel, a, axis):
        """kernel(a)'s (values, indices) along ``axis``, for a kernel of the last axis."""
        if axis in (-1, a.ndim - 1):
            return kernel(a)
        v, i = kernel(self.contiguous(np.moveaxis(a, axis, -1)))
        return np.moveaxis(v, -1, axis), np.moveaxis(i, -1, axis)

    def topk(self, a, k, axis, largest, sorted_):
        # one pass per row keeping the k best (np.argpartition: 6 ms for 1024 x 1024)
        if _float(a) and 0 < k <= 64 and 4 * k <= a.shape[axis] and a.size >= MIN_COPY:
            return self._along_last(lambda r: _C.topk(r, k, largest), a, axis)
        return super().topk(a, k, axis, largest, sorted_)

    def sort(self, a, axis, descending, stable):
        # stable radix sort of each row, threaded: 1024 x 1024 floats in 7 ms, np.argsort and
        # take_along_axis 38 ms (int32 6.6 / 23); NumPy's quicksort still wins on rows of 33
        # to ~150 4-byte (~350 8-byte) elements, where the radix passes' fixed costs dominate
        n, size = (a.shape[axis], a.dtype.itemsize) if type(a) is np.ndarray and a.size else (0, 0)
        if size in (4, 8) and a.dtype.kind in "fi" and (n <= 32 or n >= (160 if size == 4 else 384)):
            return self._along_last(lambda r: _C.sort(r, descending), a, axis)
        return super().sort(a, axis, descending, stable)

    def addc(self, x, t1, t2, value, div):  # addcmul / addcdiv of one shape and dtype
        if (_float(x) and x.size >= MIN_COPY and _same(x, t1) and _same(x, t2)
                and x.shape == t1.shape == t2.shape):
            return _C.addc(x, t1, t2, value, div)
        return None

    def erfinv_float32(self, a):  # Acklam's rational in one threaded pass (special.py's)
        return _C.erfinv(a) if type(a) is np.ndarray and a.size >= MIN_COPY else None

    def adam_update(self, data, g, *state_and_scalars):  # one pass, not 13 ufunc calls
        if _float(data) and data.flags.c_contiguous and _same(data, g):
            return _C.adam_update(data, g, *state_and_scalars) or True
        return False

    def sgd_update(self, data, g, buf, *scalars):  # one pass, not 4-6 ufunc calls
        if _float(data) and data.flags.c_contiguous and _same(data, g) and _same(data, buf):
            return _C.sgd_update(data, g, buf, *scalars) or True
        return False

    def channel_affine(self, x, scale, shift):
        # one pass, not NumPy's two broadcast passes and a temporary
        if (type(x) is np.ndarray and x.dtype in (_F32, _F64) and x.ndim >= 3
                and x.size >= MIN_COPY and scale.dtype == x.dtype and shift.dtype == x.dtype):
            return _C.channel_affine(x, scale, shift)
        return super().channel_affine(x, scale, shift)

    def batch_norm_backward(self, gy, x, mean, rstd, weight, axes):
        # two fused passes per channel instead of ~9 NumPy array passes
        if (type(x) is np.ndarray and x.dtype in (_F32, _F64) and x.ndim >= 3 and _same(x, gy)
                and axes == (0,) + tuple(range(2, x.ndim)) and x.size >= MIN_COPY):
            return _C.batch_norm_backward(gy, x, mean, rstd, weight)
        return super().batch_norm_backward(gy, x, mean, rstd, weight, axes)

    # ------------------------------------------------------------- pooling
    def max_pool2d(self, x, kernel, dilation, pads, stride):
        if type(x) is np.ndarray and x.dtype in (_F32, _F64) and x.ndim == 4:
            return _C.max_pool2d(x, kernel, dilation, pads, stride)  # one pass, no window views
        return super().max_pool2d(x, kernel, dilation, pads, stride)

    def max_pool2d_scatter(self, g, idx, size, kernel, dilation, pads, stride):
        if type(g) is np.ndarray and g.dtype in (_F32, _F64) and type(idx) is np.ndarray:
            return _C.max_pool2d_backward(g, idx, size, kernel, dilation, pads, stride)
        return super().max_pool2d_scatter(g, idx, size, kernel, dilation, pads, stride)

    def avg_pool2d(self, x, kernel, pads, stride, div_h, div_w):
        if type(x) is np.ndarray and x.dtype in (_F32, _F64) and x.ndim == 4:
            return _C.avg_pool2d(x, kernel, pads, stride, div_h, div_w)  # one pass
        return super().avg_pool2d(x, kernel, pads, stride, div_h, div_w)

    def avg_pool2d_backward(self, gy, size, kernel, pads, stride, div_h, div_w):
        if type(gy) is np.ndarray and gy.dtype in (_F32, _F64) and gy.ndim == 4:
            return _C.avg_pool2d_backward(gy, size, kernel, pads, stride, div_h, div_w)
        return super().avg_pool2d_backward(gy, size, kernel, pads, stride, div_h, div_w)

    def getitem(self, a, idx):
        if (type(idx) is np.ndarray and idx.dtype.kind in "iu" and idx.ndim and a.ndim > 1
                and type(a) is np.ndarray and a.dtype.kind in "fiub"
                and idx.size * (a.size // max(a.shape[0], 1)) >= MIN_COPY):
            return _C.take_rows(a, idx)  # a row gather (embedding), threaded
        return super().getitem(a, idx)

    def any_outside(self, a, lo, hi, skip=None):  # one pass (NumPy: 2-4 passes, 3-5 us)
        if type(a) is _ND and a.dtype in _INDEX_INTS and a.flags.c_contiguous:
            return _C.index_outside(a, lo, hi, skip)
        return super().any_outside(a, lo, hi, skip)

    def index_add(self, shape, idx, g):
        # rows gathered by an integer array (x[index], embedding): their gradients added back
        # in one threaded pass (NumPy's sort + add.reduceat took 48 ms for 4096 x 1024)
        # (x[:, cols] and nearest upsampling's gathers along any axis likewise: np.add.at)
        along = axis_index(idx, len(shape))
        if (along is not None and along[1].size and type(g) is np.ndarray
                and g.dtype in (_F32, _F64) and g.shape == tuple(shape[:along[0]])
                + along[1].shape + tuple(shape[along[0] + 1:])):
            out = np.zeros(shape, dtype=g.dtype)
            _C.index_add_rows(out, along[1], g, along[0])
            return out
        return super().index_add(shape, idx, g)

    # ------------------------------------------------------------- unary math
    def _unary_ok(self, op: str, a, min_f32: int) -> bool:
        if type(a) is np.ndarray and a.size >= min_f32:
            dt = a.dtype
            if dt is _F32 or (dt is _F64 and op in ("relu", "relu_backward")):
                return True
            self._decline(op, "float64 math stays in NumPy" if dt is _F64 else "dtype", dt)
        elif _DEBUG:
            self._decline(op, "small or not an ndarray", getattr(a, "dtype", None))
        return False

    def exp(self, a):
        return _C.exp(a) if self._unary_ok("exp", a, MIN_MATH) else super().exp(a)

    def log(self, a):
        return _C.log(a) if self._unary_ok("log", a, MIN_MATH) else super().log(a)

    def tanh(self, a):
        return _C.tanh(a) if self._unary_ok("tanh", a, MIN_MATH) else super().tanh(a)

    def sigmoid(self, a):  # every size: NumPy's stable form is five ufunc calls (5 us on 64)
        return _C.sigmoid(a) if self._unary_ok("sigmoid", a, 0) else super().sigmoid(a)

    def relu(self, a):
        return _C.relu(a) if self._unary_ok("relu", a, MIN_RELU) else super().relu(a)

    def abs(self, a):
        return _C.abs(a) if self._fused_ok(a) and a.size >= MIN_ABS else super().abs(a)

    def clamp(self, a, lo, hi):  # 2-5x np.clip (3x on 16 elements: its Python wrappers)
        if type(a) is np.ndarray and a.dtype in (_F32, _F64) and lo == lo and hi == hi:
            return _C.clamp(a, lo, hi)
        return super().clamp(a, lo, hi)

    # NumPy has no erf: SciPy's (or math.erf per element) is 10-100x slower than ours in
    # float32 and single-threaded in float64 (libm's erf in the C++ loop).  GELU, SiLU and
    # the abs gradient are one fused pass each instead of 3-6 NumPy ufunc passes.
    def _fused_ok(self, a) -> bool:
        return type(a) is np.ndarray and a.dtype in (_F32, _F64) and a.size >= MIN_ERF

    def _grad_ok(self, x, g) -> bool:
        """A fused gradient kernel takes (x, g): both float arrays of one dtype and shape."""
        return self._fused_ok(x) and _same(x, g) and x.shape == g.shape

    def erf(self, a):
        return _C.erf(a) if self._fused_ok(a) else super().erf(a)

    def float_remainder(self, a, b, floor: bool):  # exact, one pass (NumPy: fmod + 3-6 passes)
        if _float(a) and _same(a, b):
            return (_C.remainder if floor else _C.fmod)(a, b)
        return None  # (math_functions' NumPy kernels)

    def sqrt(self, a):  # threaded and vectorized (NumPy's is one thread)
        return _C.sqrt(a) if self._fused_ok(a) else super().sqrt(a)

    def gelu(self, x, approximate):
        return _C.gelu(x, approximate) if self._fused_ok(x) else super().gelu(x, approximate)

    def lerp_scalar(self, a, b, w):  # one C++ pass (three in NumPy), with PyTorch's fma
        return _C.lerp(a, b, w) if self._grad_ok(a, b) else super().lerp_scalar(a, b, w)

    def silu(self, x):
        return _C.silu(x) if self._fused_ok(x) else super().silu(x)

    def silu_backward(self, x, g):
        return _C.silu_backward(x, g) if self._grad_ok(x, g) else super().silu_backward(x, g)

    # The piecewise activations (activation_kernels.py's formulas): one C++ pass each way.
    leaky_relu, leaky_relu_backward = _fused_activation("leaky_relu")
    hardsigmoid, hardsigmoid_backward = _fused_activation("hardsigmoid")
    hardswish, hardswish_backward = _fused_activation("hardswish")
    hardtanh_backward = _fused_activation("hardtanh")[1]  # (its forward is clamp)
    huber, huber_backward = _fused_activation("huber")
    hardshrink, hardshrink_backward = _fused_activation("hardshrink")
    softshrink, softshrink_backward = _fused_activation("softshrink")
    threshold, threshold_backward = _fused_activation("threshold")
    softplus, softplus_backward = _fused_activation("softplus")
    logsigmoid, logsigmoid_backward = _fused_activation("logsigmoid")
    elu, elu_backward = _fused_activation("elu")
    cube, cube_backward = _fused_activation("cube")

    def output_backward(self, op, y, g):
        if self._grad_ok(y, g):
            return _C.output_backward(op, y, g)
        return super().output_backward(op, y, g)

    def abs_backward(self, x, g):
        return _C.abs_backward(x, g) if self._grad_ok(x, g) else super().abs_backward(x, g)

    def gelu_backward(self, x, g, approximate):
        if self._grad_ok(x, g):
            return _C.gelu_backward(x, g, approximate)
        return super().gelu_backward(x, g, approximate)

    def relu_backward(self, y, g):
        if self._unary_ok("relu_backward", y, MIN_RELU) and _same(y, g) and y.shape == g.shape:
            return _C.relu_backward(y, g)
        return super().relu_backward(y, g)

    # ------------------------------------------------------------- reductions
    def _reduce_ok(self, op: str, a, axis) -> bool:
        if a.dtype in _FLOATS and _axes_ok(axis):
            return True
        return self._decline(op, "dtype or axis", a.dtype)

    sum, mean, amax, prod = (_reduction(k) for k in ("sum", "mean", "amax", "prod"))

    def var(self, a, axis, correction, keepdims):
        if type(a) is _ND and a.size >= MIN_REDUCE and self._reduce_ok("var", a, axis):
            return _scalar_if_0d(_C.var(a, axis, float(correction), keepdims))
        return NumpyBackend.var(self, a, axis, correction, keepdims)

    # ------------------------------------------------------------- linear algebra
    def matmul(self, a, b):
        if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim and b.ndim:
            m = a.shape[-2] if a.ndim > 1 else 1
            n = b.shape[-1] if b.ndim > 1 else 1
            if m * n <= 16 and m <= 4 and (a.ndim > 2 or b.ndim > 2):
                # batched dots and near-dots: NumPy's per-matrix loop beats packing each tiny
                # GEMM ((1024, 1, 64) @ (1024, 64, 1): 0.011 against 0.39 ms)
                return super().matmul(a, b)
            if 2 * max(a.size * n, b.size * m) >= MIN_MATMUL_FLOPS:  # = 2*batch*M*N*K
                if a.dtype is b.dtype and a.dtype in _FLOATS:
                    return _C.matmul(a, b)
                self._decline("matmul", "dtype", a.dtype)
            elif _DEBUG:
                self._decline("matmul", "small", a.dtype)
        return super().matmul(a, b)

    # ------------------------------------------------------------- softmax family
    def _softmax_ok(self, op: str, x, axis) -> bool:
        if _float(x) and type(axis) is int and x.ndim:
            if x.size >= MIN_SOFTMAX:
                return True
            self._decline(op, "small", x.dtype)
        else:
            self._decline(op, "dtype or axis", getattr(x, "dtype", None))
        return False

    def softmax(self, x, axis):
        if self._softmax_ok("softmax", x, axis):
            return _C.softmax(x, axis)
        return super().softmax(x, axis)

    def log_softmax(self, x, axis):
        if self._softmax_ok("log_softmax", x, axis):
            return _C.log_softmax(x, axis)
        return super().log_softmax(x, axis)

    def softmax_backward(self, y, gy, axis):
        if self._softmax_ok("softmax_backward", y, axis) and _same(y, gy):
            return _C.softmax_backward(y, gy, axis)
        return super().softmax_backward(y, gy, axis)

    def log_softmax_backward(self, y, gy, axis):
        if self._softmax_ok("log_softmax_backward", y, axis) and _same(y, gy):
            return _C.log_softmax_backward(y, gy, axis)
        return super().log_softmax_backward(y, gy, axis)

    def _ce_ok(self, logits, target) -> bool:
        if _float(logits) and logits.ndim == 2 and logits.shape[1] and type(target) is np.ndarray \
                and target.dtype.kind in "iu":
            return True
        return self._decline("cross_entropy", "dtype or shape", getattr(logits, "dtype", None))

    def cross_entropy(self, logits, target, ignore_index=-100):
        if self._ce_ok(logits, target):
            return _C.cross_entropy(logits, target, ignore_index)
        return super().cross_entropy(logits, target, ignore_index)

    def cross_entropy_backward(self, logits, target, stats, gloss, ignore_index=-100):
        if self._ce_ok(logits, target):
            g = np.asarray(gloss, dtype=logits.dtype)
            if g.ndim == 0 or g.shape == (logits.shape[0],):
                return _C.cross_entropy_backward(
                    logits, target, stats.astype(logits.dtype, copy=False), g, ignore_index)
        return super().cross_entropy_backward(logits, target, stats, gloss, ignore_index)

    # ------------------------------------------------------------- normalization
    def _norm_ok(self, op: str, x, params, n_norm_dims) -> bool:
        if not (_float(x) and type(n_norm_dims) is int and 1 <= n_norm_dims <= x.ndim):
            return self._decline(op, "dtype or n_norm_dims", getattr(x, "dtype", None))
        pshape = x.shape[x.ndim - n_norm_dims :]
        for p in params:
            if p is not None and not (_float(p) and p.dtype is x.dtype and p.shape == pshape):
                return self._decline(op, "parameter shape or dtype", x.dtype)
        if x.size < MIN_NORM:
            return self._decline(op, "small", x.dtype)
        return True

    def layer_norm(self, x, weight, bias, n_norm_dims, eps):
        if self._norm_ok("layer_norm", x, (weight, bias), n_norm_dims):
            return _C.layer_norm(x, weight, bias, n_norm_dims, float(eps))
        return super().layer_norm(x, weight, bias, n_norm_dims, eps)

    def layer_norm_backward(self, gy, x, mean, rstd, weight, n_norm_dims):
        if (self._norm_ok("layer_norm_backward", x, (weight,), n_norm_dims)
                and _same(x, gy) and _same(x, mean) and _same(x, rstd)):
            return _C.layer_norm_backward(gy, x, mean, rstd, weight, n_norm_dims)
        return super().layer_norm_backward(gy, x, mean, rstd, weight, n_norm_dims)

    def batch_norm_stats(self, x, axes):
        if (_float(x) and x.ndim >= 2 and type(axes) is tuple and len(set(axes)) == x.ndim - 1
                and x.size >= MIN_REDUCE):
            return _C.batch_norm_stats(x, axes)
        self._decline("batch_norm_stats", "dtype, axes or small", getattr(x, "dtype", None))
        return super().batch_norm_stats(x, axes)


def _copyable(a) -> bool:
    """A large ndarray with no broadcast (stride-0) dim: NumPy fills those well."""
    return type(a) is np.ndarray and a.size >= MIN_COPY and 0 not in a.strides


def _same(a, b) -> bool:
    """b is an ndarray of a's dtype (the kernels need one dtype)."""
    return type(b) is np.ndarray and b.dtype is a.dtype
