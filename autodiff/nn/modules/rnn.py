"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their cells.

Parameter names, shapes and gate order follow PyTorch (``weight_ih_l0`` of shape
(gates * hidden_size, input_size), ``weight_hh_l0_reverse``, LSTM gates i, f, g, o, GRU gates
r, z, n), so a PyTorch state dict loads unchanged. Every parameter is initialised from
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)). ``LSTM(proj_size=P)`` adds ``weight_hr_l0`` of
shape (P, hidden_size) and projects every hidden state to P features.

RNN, LSTM and GRU also take a ``nn.utils.rnn.PackedSequence``: the packed data is unpacked to
a zero-padded batch, each layer runs the usual whole-sequence kernel over it (the reverse
direction over each sequence reversed within its own length), and every sequence's final
state is read at its own last step. Steps past a sequence's end are computed and discarded.
"""

from __future__ import annotations

import math

import numpy as np

from ... import creation, ops
from ...errors import ShapeError
from ...ops.rnn import GATES, gru_cell, lstm_cell, rnn_cell, rnn_layer
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import (PackedSequence, _as_int_array, _gather_padded, _lengths_of, _pack_index,
                         _unpack_index)
from .module import Module


def _check_proj_size(name: str, mode: str, proj_size: int, hidden_size: int) -> None:
    if proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable "
                         f"projections, got {proj_size}")
    if proj_size and mode != "LSTM":
        raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or "
                         f"GRU")
    if proj_size and proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got "
                         f"proj_size={proj_size} and hidden_size={hidden_size}")


def lstm_proj_layer(xproj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None,
                    w_hr: Tensor, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """An LSTM layer with projections, composed from cells: h_t = (o tanh(c_t)) W_hr^T.

    Returns the hidden states (L, N, P) and cell states (L, N, H) of every step. The C++
    time loop (``rnn_layer``) has no projection, so this path runs the loop in Python.
    """
    steps = xproj.unbind(0)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    hs, cs = [None] * len(steps), [None] * len(steps)
    h, c = h0, c0
    for t in order:
        h, c = lstm_cell(None, h, c, None, w_hh, None, b_hh, xproj=steps[t])
        h = h @ w_hr.mT
        hs[t], cs[t] = h, c
    return ops.stack(hs, 0), ops.stack(cs, 0)


def _reverse_index(lengths: np.ndarray, n_steps: int) -> np.ndarray:
    """(L, N) time index that reverses each sequence within its length (an involution)."""
    t = np.arange(n_steps)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def run_direction(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, weights: tuple,
                  reverse: bool, lengths: np.ndarray | None = None):
    """One direction of one recurrent layer over x (L, N, H_in).

    Returns (output (L, N, H_out), h_n (N, H_out), c_n (N, H) or None). With ``lengths``
    (N,), x holds right-padded sequences: the reverse direction runs over each sequence's own
    steps reversed (a gather, so the C++ time loop still runs), and the final states are read
    at each sequence's last step. Outputs at padded steps are then meaningless and get a zero
    gradient; tanh / sigmoid layers keep them bounded, but a relu RNN whose weights grow the
    state over a long padding could overflow them, and an inf there makes weight grads NaN.
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    n_steps, n = x.shape[0], x.shape[1]
    flip = None
    if lengths is not None and reverse:
        flip = (_reverse_index(lengths, n_steps), np.arange(n)[None, :])
        x, reverse = x[flip], False
    xproj = F.linear(x, w_ih, b_ih)
    if w_hr is not None:
        hs, cs = lstm_proj_layer(xproj, h0, c0, w_hh, b_hh, w_hr, reverse)
    else:
        y = rnn_layer(xproj, h0, c0, w_hh, b_hh, mode, reverse=reverse)
        hid = h0.shape[-1]
        hs, cs = (y[..., :hid], y[..., hid:]) if mode == "LSTM" else (y, None)
    at = (0 if reverse else -1,) if lengths is None else (lengths - 1, np.arange(n))
    h_n, c_n = hs[at], (None if cs is None else cs[at])
    return (hs if flip is None else hs[flip]), h_n, c_n


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        if not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1], got "
                             f"{dropout}")
        _check_proj_size(name, mode, proj_size, hidden_size)
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = int(proj_size)
        gate = GATES[mode] * hidden_size
        out_size = self.proj_size or hidden_size
        dirs = 2 if bidirectional else 1
        fk = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else out_size * dirs
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(creation.empty(*shape, **fk)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -std, std)

    def flatten_parameters(self) -> None:
        """A no-op: PyTorch compacts the weights for cuDNN; ours need no compaction."""

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, as lists in ``_flat_weights_names``
        order (PyTorch's ``all_weights``)."""
        per = len(self._flat_weights_names) // (self.num_layers * (1 + self.bidirectional))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer: int, d: int):
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr) of one layer and direction."""
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        # getattr, not _parameters: weight_norm / parametrize replace a weight by a computed one
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return tuple(getattr(self, n + sfx, None) for n in names)

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: expected input of shape (L, N, "
                             f"{self.input_size}) or (L, {self.input_size}) (input_size), got "
                             f"shape {tuple(x.shape)}")

    def _state_size(self, what: str) -> int:
        return self.hidden_size if what == "c_0" else (self.proj_size or self.hidden_size)

    def _zeros_state(self, x: Tensor, n: int, what: str = "hx") -> Tensor:
        dirs = 2 if self.bidirectional else 1
        return creation.zeros(self.num_layers * dirs, n, self._state_size(what),
                              dtype=x.dtype, device=x.device)

    def _check_state(self, h: Tensor, n: int, what: str) -> None:
        dirs = 2 if self.bidirectional else 1
        want = (self.num_layers * dirs, n, self._state_size(what))
        if tuple(h.shape) != want:
            raise ShapeError(f"{type(self).__name__}: expected {what} of shape {want}, got "
                             f"{tuple(h.shape)}")

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None, lengths=None):
        """x (L, N, H_in) -> output (L, N, D*H_out), h_n (D*num_layers, N, H_out) and c_n
        (D*num_layers, N, H); ``lengths`` (N,) marks x as right-padded sequences, each
        sequence's state is then taken at its own last step."""
        dirs = 2 if self.bidirectional else 1
        lstm = self.mode == "LSTM"
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, h, c = run_direction(self.mode, layer_in, h0[k],
                                          None if c0 is None else c0[k],
                                          self._weights(layer, d), bool(d), lengths)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_in = outs[0] if dirs == 1 else ops.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout)
        return layer_in, ops.stack(h_n, 0), (ops.stack(c_n, 0) if lstm else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _prepare(self, x: Tensor):
        self._check_input(x)
        if x.shape[1 if self.batch_first and x.ndim == 3 else 0] == 0:
            raise RuntimeError(f"{type(self).__name__}: Expected sequence length to be larger "
                               f"than 0 in RNN, got input of shape {tuple(x.shape)}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, unbatched

    def _finish(self, out: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return out.squeeze(1)
        return out.transpose(0, 1) if self.batch_first else out

    def _state(self, hx, x, unbatched, what):
        if hx is None:
            return self._zeros_state(x, x.shape[1], what)
        if unbatched:
            hx = hx.unsqueeze(1)
        self._check_state(hx, x.shape[1], what)
        return hx

    def _run_packed(self, seq: PackedSequence, states: tuple):
        """The layers over a PackedSequence: ``states`` are None or given in the caller's batch
        order; returns (PackedSequence output, h_n, c_n or None), states in that order."""
        data = seq.data
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: expected packed data of shape (sum("
                             f"lengths), {self.input_size}) (input_size), got shape "
                             f"{tuple(data.shape)}")
        batch_sizes = _as_int_array(seq.batch_sizes)
        x = _gather_padded(data, _unpack_index(batch_sizes, batch_sizes.size), 0.0)
        order = seq.sorted_indices
        names = ("h_0", "c_0") if self.mode == "LSTM" else ("hx",)
        init = []
        for h, what in zip(states, names):
            if h is None:
                init.append(self._zeros_state(data, int(batch_sizes[0]), what))
                continue
            self._check_state(h, int(batch_sizes[0]), what)
            init.append(h if order is None else h[:, _as_int_array(order)])
        out, h_n, c_n = self._run(x, init[0], init[1] if len(init) > 1 else None,
                                  _lengths_of(batch_sizes))
        packed = PackedSequence(out[_pack_index(batch_sizes)], seq.batch_sizes,
                                seq.sorted_indices, seq.unsorted_indices)
        if seq.unsorted_indices is not None:
            back = _as_int_array(seq.unsorted_indices)
            h_n, c_n = h_n[:, back], (None if c_n is None else c_n[:, back])
        return packed, h_n, c_n

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None):
        if isinstance(input, PackedSequence):
            out, h_n, _ = self._run_packed(input, (hx,))
            return out, h_n
        input, unbatched = self._prepare(input)
        h0 = self._state(hx, input, unbatched, "hx")
        out, h_n, _ = self._run(input, h0, None)
        return self._finish(out, unbatched), (h_n.squeeze(1) if unbatched else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args:
        input_size, hidden_size; num_layers=1, nonlinearity="tanh", bias=True,
        batch_first=False, dropout=0.0 (between layers), bidirectional=False.

    Shape:
        input (L, N, H_in) ((N, L, H_in) with batch_first, or unbatched (L, H_in)); hx
        (D * num_layers, N, H); output (L, N, D * H); h_n (D * num_layers, N, H). A
        PackedSequence input gives a PackedSequence output with the same batch_sizes; hx and
        h_n are then in the batch order of the sequences before packing.

    Example:
        >>> rnn = nn.RNN(4, 8, num_layers=2)
        >>> out, h = rnn(ad.randn(5, 3, 4))
        >>> seq = nn.utils.rnn.pack_sequence([ad.randn(5, 4), ad.randn(2, 4)])
        >>> out, h = rnn(seq)  # out is a PackedSequence, h[:, 1] the state after 2 steps
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, proj_size: int = 0) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (tanh or relu)")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh),
    c_t = sigma(f) c_{t-1} + sigma(i) tanh(g), h_t = sigma(o) tanh(c_t).

    With ``proj_size`` P > 0, h_t = (sigma(o) tanh(c_t)) W_hr^T has P features (weight_hh is
    then (4 H, P), and a later layer's weight_ih (4 H, D * P)); this path runs its time loop
    in Python, without the backend's fused LSTM kernel.

    Shape:
        as RNN; forward(x, (h_0, c_0)) returns (output, (h_n, c_n)); with proj_size P, output
        is (L, N, D * P), h_0 and h_n (D * num_layers, N, P), c_0 and c_n
        (D * num_layers, N, H).

    Example:
        >>> lstm = nn.LSTM(4, 8, proj_size=3, bidirectional=True)
        >>> out, (h, c) = lstm(ad.randn(5, 2, 4))  # out (5, 2, 6), h (2, 2, 3), c (2, 2, 8)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input: Tensor | PackedSequence, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        if isinstance(input, PackedSequence):
            out, h_n, c_n = self._run_packed(input, (h0, c0))
            return out, (h_n, c_n)
        input, unbatched = self._prepare(input)
        h0 = self._state(h0, input, unbatched, "h_0")
        c0 = self._state(c0, input, unbatched, "c_0")
        out, h_n, c_n = self._run(input, h0, c0)
        if unbatched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(out, unbatched), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit: r, z = sigma(...), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}.

    Shape:
        as RNN.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None,
                 proj_size: int = 0) -> None:  # proj_size: PyTorch's ValueError (LSTM only)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, device,
                 dtype) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        fk = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(gates * hidden_size, input_size, **fk))
        self.weight_hh = Parameter(creation.empty(gates * hidden_size, hidden_size, **fk))
        if bias:
            self.bias_ih = Parameter(creation.empty(gates * hidden_size, **fk))
            self.bias_hh = Parameter(creation.empty(gates * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -std, std)

    def _prep(self, x: Tensor, h: Tensor | None):
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: expected input of shape (N, "
                             f"{self.input_size}) or ({self.input_size},) (input_size), got "
                             f"shape {tuple(x.shape)}")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
            h = None if h is None else h.unsqueeze(0)
        if h is None:
            h = creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        if tuple(h.shape) != (x.shape[0], self.hidden_size):  # no silent broadcasting
            raise ShapeError(f"{type(self).__name__}: expected hidden state of shape "
                             f"{(x.shape[0], self.hidden_size)} for input {tuple(x.shape)}, "
                             f"got {tuple(h.shape) if not unbatched else tuple(h.shape[1:])}")
        return x, h, unbatched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        s = s if self.bias else s + ", bias=False"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        return s if nonlinearity == "tanh" else s + f", nonlinearity={nonlinearity}"


class RNNCell(RNNCellBase):
    """One Elman step h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shape:
        input (N, H_in) or (H_in,); hidden (N, H); output (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (tanh or relu)")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, h, unbatched = self._prep(input, hx)
        h = rnn_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                     self.nonlinearity)
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(x, (h, c)) returns (h', c').

    Shape:
        input (N, H_in); h, c (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        input, h, unbatched = self._prep(input, h0)
        _, c, _ = self._prep(input if not unbatched else input[0], c0)
        h, c = lstm_cell(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step.

    Shape:
        input (N, H_in); hidden (N, H); output (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, h, unbatched = self._prep(input, hx)
        h = gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if unbatched else h
