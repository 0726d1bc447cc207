"""Reflect, replicate and circular padding: one primitive and its adjoint.

A primitive for speed (measured): the composite, one integer-array gather per padded dim,
took 11.5 ms to reflect-pad a (32, 64, 32, 32) batch by 1 on each side, the backend's
slice-filling kernel (backends/pad_kernels.py) 0.9 ms; forward and backward 13.9 -> 3.8 ms.
"""

from __future__ import annotations

from ..autograd.node import Op

MODES = ("reflect", "replicate", "circular")


class EdgePad(Op):
    """y = x padded from its own entries (reflect / replicate / circular); dx = the padded
    entries' gradients folded back (EdgePadAdjoint)."""

    def forward(self, x, widths, mode):
        self.kw = {"widths": widths, "mode": mode}
        return self.backend.edge_pad(x._data, widths, mode)

    def backward(self, g):
        return (EdgePadAdjoint.apply(g, **self.kw),)


class EdgePadAdjoint(Op):
    """y = the adjoint of EdgePad (x's padded entries added onto their sources); dx = EdgePad(dy)."""

    def forward(self, g, widths, mode):
        self.kw = {"widths": widths, "mode": mode}
        return self.backend.edge_pad_backward(g._data, widths, mode)

    def backward(self, g):
        return (EdgePad.apply(g, **self.kw),)


def edge_pad(x, widths: tuple, mode: str):
    """x padded by ``widths`` ((lo, hi) per dim, all >= 0) in ``mode`` (one of MODES)."""
    return EdgePad.apply(x, widths=tuple(widths), mode=mode)
