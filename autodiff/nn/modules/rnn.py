"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their cells.

Parameter names, shapes and gate order follow PyTorch (``weight_ih_l0`` of shape
(gates * hidden_size, input_size), ``weight_hh_l0_reverse``, LSTM gates i, f, g, o, GRU gates
r, z, n), so a PyTorch state dict loads unchanged. Every parameter is initialised from
U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math

from ... import creation, ops
from ...errors import ShapeError
from ...ops.rnn import GATES, gru_cell, lstm_cell, rnn_cell, rnn_layer
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


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
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        gate = GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        fk = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else hidden_size * dirs
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(creation.empty(*shape, **fk)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -std, std)

    def _weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx))

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: expected input of shape (L, N, "
                             f"{self.input_size}) or (L, {self.input_size}) (input_size), got "
                             f"shape {tuple(x.shape)}")

    def _zeros_state(self, x: Tensor, n: int) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        return creation.zeros(self.num_layers * dirs, n, self.hidden_size, dtype=x.dtype,
                              device=x.device)

    def _check_state(self, h: Tensor, n: int, what: str) -> None:
        dirs = 2 if self.bidirectional else 1
        want = (self.num_layers * dirs, n, self.hidden_size)
        if tuple(h.shape) != want:
            raise ShapeError(f"{type(self).__name__}: expected {what} of shape {want}, got "
                             f"{tuple(h.shape)}")

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None):
        """x (L, N, H_in) -> output (L, N, D*H), h_n and c_n (D*num_layers, N, H)."""
        dirs = 2 if self.bidirectional else 1
        hid = self.hidden_size
        lstm = self.mode == "LSTM"
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                k = layer * dirs + d
                xproj = F.linear(layer_in, w_ih, b_ih)
                y = rnn_layer(xproj, h0[k], None if c0 is None else c0[k], w_hh, b_hh,
                              self.mode, reverse=bool(d))
                last = 0 if d else -1
                if lstm:
                    outs.append(y[..., :hid])
                    h_n.append(y[last, :, :hid])
                    c_n.append(y[last, :, hid:])
                else:
                    outs.append(y)
                    h_n.append(y[last])
            layer_in = outs[0] if dirs == 1 else ops.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout)
        return layer_in, ops.stack(h_n, 0), (ops.stack(c_n, 0) if lstm else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
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
            return self._zeros_state(x, x.shape[1])
        if unbatched:
            hx = hx.unsqueeze(1)
        self._check_state(hx, x.shape[1], what)
        return hx

    def forward(self, x: Tensor, hx: Tensor | None = None):
        x, unbatched = self._prepare(x)
        h0 = self._state(hx, x, unbatched, "hx")
        out, h_n, _ = self._run(x, h0, None)
        return self._finish(out, unbatched), (h_n.squeeze(1) if unbatched else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args:
        input_size, hidden_size; num_layers=1, nonlinearity="tanh", bias=True,
        batch_first=False, dropout=0.0 (between layers), bidirectional=False.

    Shape:
        input (L, N, H_in) ((N, L, H_in) with batch_first, or unbatched (L, H_in)); hx
        (D * num_layers, N, H); output (L, N, D * H); h_n (D * num_layers, N, H).

    Example:
        >>> rnn = nn.RNN(4, 8, num_layers=2)
        >>> out, h = rnn(ad.randn(5, 3, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (tanh or relu)")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh),
    c_t = sigma(f) c_{t-1} + sigma(i) tanh(g), h_t = sigma(o) tanh(c_t).

    Shape:
        as RNN; forward(x, (h_0, c_0)) returns (output, (h_n, c_n)).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, x: Tensor, hx=None):
        x, unbatched = self._prepare(x)
        h0, c0 = (None, None) if hx is None else hx
        h0 = self._state(h0, x, unbatched, "h_0")
        c0 = self._state(c0, x, unbatched, "c_0")
        out, h_n, c_n = self._run(x, h0, c0)
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
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


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
        return x, h, unbatched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(RNNCellBase):
    """One Elman step h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shape:
        input (N, H_in) or (H_in,); hidden (N, H); output (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unbatched = self._prep(x, hx)
        h = rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
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

    def forward(self, x: Tensor, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        x, h, unbatched = self._prep(x, h0)
        _, c, _ = self._prep(x if not unbatched else x[0], c0)
        h, c = lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step.

    Shape:
        input (N, H_in); hidden (N, H); output (N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, unbatched = self._prep(x, hx)
        h = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h.squeeze(0) if unbatched else h
