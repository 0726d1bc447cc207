"""In-place methods of Tensor (``add_``, ``x[idx] = v``, ``+=``, ...), kept apart from
tensor.py for size. An in-place op that autograd must record is computed out of place from a
snapshot that keeps the tensor's place in the graph, written into the tensor's memory, and the
tensor's ``grad_fn`` moves to the new node; through a view, the base is rebased as well."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import ops
from .autograd.grad_mode import no_grad, state
from .autograd.node import _edge, _regenerate_view
from .ops import _util
from .ops.indexing import IndexPut, _convert_index
from .ops.transfer import CopySlices

if TYPE_CHECKING:
    from .tensor import Tensor


def _overwrite(s, v):
    """``v`` broadcast to ``s``'s shape, recorded so that ``s`` keeps a (zero) gradient edge."""
    return ops.where(_util.constant(s._dev.backend.ones(s.shape, np.bool_), s._dev), v, s)



class InplaceMixin:
    """The in-place methods of Tensor."""

    __slots__ = ()

    def _inplace(self, fn, *args, **kwargs) -> Tensor:
        """Apply ``fn(self, *args)`` and write the result into this tensor's memory."""
        grad_on = state.enabled
        self._check_leaf_inplace()
        graph = grad_on and (self._requires_grad or any(
            isinstance(a, _util.Tensor) and a._requires_grad for a in args))
        if not graph:
            with no_grad():
                r = fn(self, *args, **kwargs)
            self._write(r)
            return self
        if self._base is not None:
            return self._inplace_view(fn, *args, **kwargs)
        snapshot = _util.Tensor._make(self._dev.backend.copy(self._data), self._dev,
                                self._requires_grad, self.grad_fn)
        snapshot._output_nr = self._output_nr
        r = fn(snapshot, *args, **kwargs)
        self._write(r)
        self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        self._requires_grad = r._requires_grad  # not when r is cast to an integer (copy_)
        if self._retains_grad:  # .grad is the gradient of the new value (PyTorch)
            self.retain_grad()
        return self

    def _inplace_view(self, fn, *args, **kwargs) -> Tensor:
        """In-place op on a view, recorded by autograd."""
        if self._base._requires_grad and self._base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        _edge(self)  # re-derives its grad_fn if the base was changed in place since
        snapshot = _util.Tensor._make(self._dev.backend.copy(self._data), self._dev,
                                self._requires_grad, self.grad_fn)
        snapshot._output_nr = self._output_nr
        r = fn(snapshot, *args, **kwargs)
        self._write(r)
        return self._rebase_view(r)

    def _rebase_view(self, r) -> Tensor:
        """This view's memory now holds ``r`` (recorded): the base is rebased onto a CopySlices
        node and this view is re-derived from it (what PyTorch does)."""
        base = self._base
        old = _util.Tensor._make(base._data, base._dev, base._requires_grad, base.grad_fn)
        old._output_nr = base._output_nr
        new = CopySlices.apply(old, r, chain=self._view_chain)
        base.grad_fn, base._output_nr, base._requires_grad = new.grad_fn, 0, True
        if base._retains_grad:
            base.retain_grad()
        _regenerate_view(self)
        self._requires_grad = True
        return self

    def _writable(self):
        """This tensor's array, first made a writable 0-d array when it is a NumPy scalar (what
        NumPy gives for reductions and 0-d arithmetic): nothing else can share a scalar."""
        d = self._data
        if isinstance(d, np.generic):
            d = self._data = np.array(d)
        return d

    def _check_no_overlap(self, d=None) -> None:
        """An element-wise write into an expanded tensor (a stride-0 dim) raises, as in PyTorch
        (fill_ and zero_ are allowed: they write one value wherever it lands)."""
        d = self._data if d is None else d
        if 0 in getattr(d, "strides", ()) and d.size and any(
                s == 0 and n > 1 for s, n in zip(d.strides, d.shape)):
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")

    def _write(self, r: Tensor) -> None:
        if r._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {tuple(self.shape)} doesn't match the "
                               f"broadcast shape {tuple(r.shape)}")
        self._check_no_overlap()
        if _util._category(r.dtype) > _util._category(self.dtype):  # float into int, int into bool
            raise RuntimeError(f"result type {r.dtype.name} can't be cast to the desired output "
                               f"type {self.dtype.name}")
        if r._data is not self._data:
            self._writable()[...] = r._data
        self._vc[0] += 1

    def add_(self, other, alpha=1) -> Tensor:
        return self._inplace(ops.add, other, alpha=alpha)

    def sub_(self, other, alpha=1) -> Tensor:
        return self._inplace(ops.sub, other, alpha=alpha)

    def mul_(self, other) -> Tensor:
        return self._inplace(ops.mul, other)

    def div_(self, other, *, rounding_mode=None) -> Tensor:
        return self._inplace(ops.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent) -> Tensor:
        return self._inplace(ops.pow, exponent)

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace(ops.clamp, min, max)

    def clamp_min_(self, min) -> Tensor:
        return self._inplace(ops.clamp, min, None)

    def clamp_max_(self, max) -> Tensor:
        return self._inplace(ops.clamp, None, max)

    def floor_divide_(self, other) -> Tensor:
        return self._inplace(lambda a, b: a // b, other)

    def remainder_(self, other) -> Tensor:
        return self._inplace(lambda a, b: a % b, other)

    def bitwise_and_(self, other) -> Tensor:
        return self._inplace(lambda a, b: a & b, other)

    def bitwise_or_(self, other) -> Tensor:
        return self._inplace(lambda a, b: a | b, other)

    def bitwise_xor_(self, other) -> Tensor:
        return self._inplace(lambda a, b: a ^ b, other)

    def masked_fill_(self, mask, value) -> Tensor:
        return self._inplace(ops.masked_fill, mask, value)

    def relu_(self) -> Tensor:
        return self._inplace(ops.relu)

    def exp_(self) -> Tensor:
        return self._inplace(ops.exp)

    def copy_(self, src, non_blocking=False) -> Tensor:
        """Copy ``src`` (broadcast, cast) into this tensor; differentiable with respect to src."""
        if not isinstance(src, _util.Tensor):
            from .creation import tensor

            src = tensor(src, dtype=self.dtype, device=self._dev)
        if src._dev is not self._dev:
            src = src.to(self._dev)
        self._check_no_overlap()
        self._check_leaf_inplace()
        if not (state.enabled and (self._requires_grad or src._requires_grad)):
            self._writable()[...] = src._data
            self._vc[0] += 1
            return self
        return self._inplace(lambda s, v: _overwrite(s, v.to(s.dtype)), src)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        if isinstance(value, _util.Tensor) and value._requires_grad:
            return self.copy_(value.expand_as(self))
        self._check_leaf_inplace()
        if state.enabled and self._requires_grad:  # a non-leaf: record it (zero grad to self)
            return self._inplace(lambda s: _overwrite(s, value))
        with no_grad():
            self._writable()[...] = value.item() if isinstance(value, _util.Tensor) else value
            self._vc[0] += 1
        return self

    def _fill_random(self, draw: str, scale, shift, generator) -> Tensor:
        """self = backend.<draw>(...) * scale + shift (draw: randn or rand)."""
        from .random import _generator

        self._check_leaf_inplace()
        if not self.dtype.is_floating_point:
            raise NotImplementedError(f"{draw} fill of a {self.dtype.name} tensor: floating "
                                      f"point only, as PyTorch's normal_ / uniform_")
        sample = getattr(self._dev.backend, draw)(_generator(generator), self.shape,
                                                  self._data.dtype)
        self._writable()[...] = sample * scale + shift
        self._vc[0] += 1
        return self

    def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        return self._fill_random("randn", std, mean, generator)

    def uniform_(self, a=0.0, to=1.0, *, generator=None) -> Tensor:  # `from`: a Python keyword
        if a > to:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={a} > to={to}")
        return self._fill_random("rand", to - a, a, generator)

    def _check_leaf_inplace(self) -> None:
        if state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation. Do it under no_grad() or on a .clone().")
        # a view taken under no_grad of a tensor that requires grad: the write would bypass the
        # graph, so the base's gradient would silently ignore it
        if state.enabled and self._base is not None and self._base._requires_grad > self._requires_grad:
            raise RuntimeError("A view was created in no_grad mode and is being modified inplace "
                               "with grad mode enabled; clone() it or modify it under no_grad.")

    def __setitem__(self, idx, value) -> None:
        cidx, then = _convert_index(idx, self._dev, self._data.ndim)
        if then is not None:  # ints mixed with advanced indices: select a view, then index it
            ops.getitem(self, cidx).__setitem__(then, value)
            return
        if not isinstance(value, _util.Tensor):
            if not (state.enabled and self._requires_grad):
                self._check_leaf_inplace()
                if 0 in getattr(self._data, "strides", ()):  # the written region must not overlap
                    self._check_no_overlap(self._dev.backend.getitem(self._data, cidx))
                self._dev.backend.setitem(self._writable(), cidx, value)
                self._vc[0] += 1
                return
            from .creation import tensor

            value = tensor(value, dtype=self.dtype, device=self._dev)
        if value._dev is not self._dev:
            raise RuntimeError(f"setitem: value is on {value._dev} but the tensor is on "
                               f"{self._dev}")
        while value.ndim and value.shape[0] == 1:  # PyTorch drops a value's leading ones
            value = value[0]
        if value.dtype is not self.dtype:  # PyTorch's index_put_ refuses it, but for x[True]
            a = [i for i in (cidx if isinstance(cidx, tuple) else (cidx,)) if hasattr(i, "ndim")]
            if a and type(idx) is not bool and not (  # its masked_fill path: one mask, one value
                    value.numel() == 1 and len(a) == 1 and a[0].ndim and a[0].dtype.kind == "b"):
                raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                                   f"got {self.dtype.name} and {value.dtype.name}")
            value = value.to(self.dtype)
        self._inplace(lambda s, v: IndexPut.apply(s, v, idx=cidx), value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):  # x **= 2 changes x in place, as in PyTorch
        return self.pow_(other)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __imod__(self, other):
        return self.remainder_(other)

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

