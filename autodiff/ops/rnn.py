"""Recurrent layers: single-step cells composed from differentiable ops, and a whole-sequence
layer primitive (``RNNLayer``) whose time loop and backpropagation through time run in the
backend.

RNNLayer is a primitive for a measured speed-up: composing a 64-step LSTM from ops costs
~20 graph nodes per step, and slicing the precomputed input projections per step makes the
backward quadratic in the sequence length. Under create_graph its backward differentiates the
composite cells instead, so higher-order gradients stay exact.
"""

from __future__ import annotations

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ._util import composite_grads, constant
from .movement import stack

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, xproj=None):
    """One LSTM step: gates i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh);
    c' = f c + i g; h' = o tanh(c'). Returns (h', c')."""
    gates = _gates(x, h, w_ih, w_hh, b_ih, b_hh, xproj)
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, xproj=None):
    """One GRU step: r = sigma(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    gx = xproj if xproj is not None else _affine(x, w_ih, b_ih)
    gh = _affine(h, w_hh, b_hh)
    xr, xz, xn = gx.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", xproj=None):
    """One Elman step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    pre = _gates(x, h, w_ih, w_hh, b_ih, b_hh, xproj)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def _affine(x, w, b):
    y = x @ w.mT
    return y if b is None else y + b


def _gates(x, h, w_ih, w_hh, b_ih, b_hh, xproj):
    gx = xproj if xproj is not None else _affine(x, w_ih, b_ih)
    return gx + _affine(h, w_hh, b_hh)


def _composite_layer(xproj, h0, c0, w_hh, b_hh, mode, reverse):
    """The same result as RNNLayer (packed [h | c] for LSTM), built from cells."""
    steps = xproj.unbind(0)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    h, c = h0, c0
    outs = [None] * len(steps)
    for t in order:
        if mode == "LSTM":
            h, c = lstm_cell(None, h, c, None, w_hh, None, b_hh, xproj=steps[t])
            outs[t] = _cat2(h, c)
        elif mode == "GRU":
            h = gru_cell(None, h, None, w_hh, None, b_hh, xproj=steps[t])
            outs[t] = h
        else:
            h = rnn_cell(None, h, None, w_hh, None, b_hh,
                         "tanh" if mode == "RNN_TANH" else "relu", xproj=steps[t])
            outs[t] = h
    return stack(outs, 0)


def _cat2(a, b):
    from .movement import cat

    return cat([a, b], -1)


class RNNLayer(Op):
    """y = the hidden states of one recurrent layer over the sequence ([h | c] for LSTM);
    backward is backpropagation through time in the backend kernel."""

    def forward(self, xproj, h0, c0, w_hh, b_hh, mode, reverse):
        self.saved = (xproj, h0, c0, w_hh, b_hh)
        self.meta = (mode, reverse)
        y, self.cache = self.backend.rnn_forward(
            mode, xproj._data, h0._data, None if c0 is None else c0._data, w_hh._data,
            None if b_hh is None else b_hh._data, reverse)
        return self.save_output(y)

    def backward(self, g):
        xproj, h0, c0, w_hh, b_hh = self.saved
        mode, reverse = self.meta
        if state.enabled:  # create_graph: differentiate the composite cells
            return _composite_grads(self, g, mode, reverse)
        y = self.out_data
        dx, dh0, dc0, dw, db = self.backend.rnn_backward(
            mode, g._data, y, self.cache, h0._data, None if c0 is None else c0._data,
            w_hh._data, reverse)
        dev = g._dev
        return (constant(dx, dev), constant(dh0, dev),
                None if c0 is None else constant(dc0, dev), constant(dw, dev),
                None if b_hh is None else constant(db, dev))


def _composite_grads(op, g, mode, reverse):
    return composite_grads(op, g, op.saved, lambda *inputs: _composite_layer(
        *inputs, mode=mode, reverse=reverse))


def rnn_layer(xproj, h0, c0, w_hh, b_hh, mode: str, reverse: bool = False):
    """Run one recurrent layer over (L, N, G*H) input projections; returns the (L, N, H)
    hidden states ((L, N, 2H) [h | c] for LSTM)."""
    return RNNLayer.apply(xproj, h0, c0, w_hh, b_hh, mode=mode, reverse=reverse)
