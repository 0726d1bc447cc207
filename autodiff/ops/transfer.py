"""Ops that move data between devices or write through views."""

from __future__ import annotations

from ..autograd import node
from . import _util


class CopySlices(node.Op):
    """base' = base with the view region (the view chain applied to base) replaced by v;
    dbase = dy with the region zeroed, dv = the region of dy. The memory was already written,
    so forward returns base's array itself."""

    def forward(self, base, v, chain):
        self.chain = chain
        return base._data

    def backward(self, g):
        gb = gv = None
        if self.next[0] is not None:
            keep = _util.Tensor._make(self.backend.ones(g._data.shape, g._data.dtype), g._dev, False, None)
            region = keep
            for cls, kw in self.chain:
                region = cls.apply(region, **kw)
            region._data[...] = 0
            gb = g * keep
        if self.next[1] is not None:
            gv = g
            for cls, kw in self.chain:
                gv = cls.apply(gv, **kw)
        return gb, gv


class ToDevice(node.Op):
    """y = x on another device (NumPy <-> C++ share memory); dx = dy moved back."""

    def forward(self, x, target):
        self.source = x._dev
        self._dev = target
        self.backend = target.backend
        src = x._dev.backend
        if src.is_cpu and target.backend.is_cpu:
            return x._data
        return target.backend.from_numpy(src.to_numpy(x._data))

    def backward(self, g):
        return (g.to(self.source),)
