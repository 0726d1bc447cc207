"""PyTorch's top-level spellings of ``nn.functional``: the losses with an integer
``reduction`` (``torch.kl_div(input, target, 1)``), the ``native_*`` norms and dropout that
also return their statistics or mask, and the functional RNN cells (``torch.lstm_cell``).

Each one is a composite of ``nn.functional`` (imported on first call: ``nn`` loads lazily).

PyTorch's top-level losses take ``reduction`` as an int: 0 none, 1 mean, 2 sum; any other
value, and an omitted one, give no reduction (PyTorch 2.13's Python binding reads its
``at::Reduction::Mean`` default as 0), so ``torch.kl_div(a, b)`` is elementwise.
"""

from __future__ import annotations

from . import creation, dtypes
from .autograd.grad_mode import no_grad
from .tensor import Tensor

__all__ = [
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "ctc_loss",
    "gru_cell",
    "hinge_embedding_loss",
    "kl_div",
    "lstm_cell",
    "margin_ranking_loss",
    "native_batch_norm",
    "native_dropout",
    "native_group_norm",
    "native_layer_norm",
    "native_norm",
    "poisson_nll_loss",
    "rnn_relu_cell",
    "rnn_tanh_cell",
    "triplet_margin_loss",
]

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _F():
    from .nn import functional

    return functional


def _reduction(name: str, value, position: int) -> str:
    """PyTorch's int reduction as nn.functional's string (anything but 1 and 2 is 'none')."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}(): argument 'reduction' (position {position}) must be int, "
                        f"not {type(value).__name__}")
    return _REDUCTIONS.get(value, "none")


# ----------------------------------------------------------------- losses
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     pos_weight=None, reduction: int = 0) -> Tensor:
    """torch.binary_cross_entropy_with_logits: ``F.binary_cross_entropy_with_logits`` with
    an int reduction."""
    r = _reduction("binary_cross_entropy_with_logits", reduction, 5)
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=r,
                                                 pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 0) -> Tensor:
    """torch.cosine_embedding_loss: ``F.cosine_embedding_loss`` with an int reduction."""
    r = _reduction("cosine_embedding_loss", reduction, 5)
    return _F().cosine_embedding_loss(input1, input2, target, margin=margin, reduction=r)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 0) -> Tensor:
    """torch.hinge_embedding_loss: ``F.hinge_embedding_loss`` with an int reduction."""
    r = _reduction("hinge_embedding_loss", reduction, 4)
    return _F().hinge_embedding_loss(input, target, margin=margin, reduction=r)


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *,
           log_target: bool = False) -> Tensor:
    """torch.kl_div: the pointwise KL terms, averaged over every element for reduction 1
    (without the warning ``F.kl_div(reduction='mean')`` gives)."""
    r = _reduction("kl_div", reduction, 3)
    out = _F().kl_div(input, target, reduction="none", log_target=log_target)
    return out.mean() if r == "mean" else out.sum() if r == "sum" else out


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 0) -> Tensor:
    """torch.margin_ranking_loss: ``F.margin_ranking_loss`` with an int reduction."""
    r = _reduction("margin_ranking_loss", reduction, 5)
    return _F().margin_ranking_loss(input1, input2, target, margin=margin, reduction=r)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """torch.poisson_nll_loss: every argument required, as in PyTorch."""
    r = _reduction("poisson_nll_loss", reduction, 6)
    return _F().poisson_nll_loss(input, target, log_input=log_input, full=full, eps=eps,
                                 reduction=r)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: int = 0) -> Tensor:
    """torch.triplet_margin_loss: ``F.triplet_margin_loss`` with an int reduction."""
    r = _reduction("triplet_margin_loss", reduction, 8)
    return _F().triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps,
                                    swap=swap, reduction=r)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """torch.ctc_loss: ``F.ctc_loss`` with an int reduction (1: each loss divided by its
    target length, then averaged)."""
    r = _reduction("ctc_loss", reduction, 6)
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank,
                         reduction=r, zero_infinity=zero_infinity)


# ----------------------------------------------------------------- native_* (with statistics)
def _stats(x: Tensor, dims: tuple, eps: float) -> tuple[Tensor, Tensor]:
    """(mean, 1 / sqrt(biased var + eps)) over ``dims``, kept, outside autograd."""
    with no_grad():
        xd = x.detach()
        mean = xd.mean(dims, keepdim=True)
        var = ((xd - mean) ** 2).mean(dims, keepdim=True)
        return mean, (var + eps).rsqrt()


def native_layer_norm(input: Tensor, normalized_shape, weight, bias, eps: float):
    """(output, mean, rstd): ``F.layer_norm`` and the statistics over the normalized dims,
    shaped as the input with those dims 1 (the statistics carry no gradient).

    Example:
        >>> out, mean, rstd = ad.native_layer_norm(x, [4], None, None, 1e-5)
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    out = _F().layer_norm(input, shape, weight, bias, eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mean, rstd = _stats(input, dims, eps)
    return out, mean, rstd


def native_batch_norm(input: Tensor, weight, bias, running_mean, running_var, training: bool,
                      momentum: float, eps: float):
    """(output, save_mean, save_invstd): ``F.batch_norm`` (updating the running statistics in
    training) and the batch's per-channel mean and 1/sqrt(var + eps); empty (0,) tensors in
    evaluation, as PyTorch."""
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("native_batch_norm: running_mean and running_var must be defined "
                           "in evaluation mode")
    out = _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                          eps)
    if not training:
        empty = creation.empty(0, dtype=input.dtype, device=input.device)
        return out, empty, empty.clone()
    dims = (0,) + tuple(range(2, input.ndim))
    mean, invstd = _stats(input, dims, eps)
    return out, mean.reshape(-1), invstd.reshape(-1)


def native_group_norm(input: Tensor, weight, bias, N: int, C: int, HxW: int, group: int,
                      eps: float):
    """(output, mean, rstd): ``F.group_norm`` and the (N, group) statistics."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"native_group_norm: expected an input of N * C * HxW = "
                           f"{N * C * HxW} elements, got shape {tuple(input.shape)}")
    out = _F().group_norm(input, group, weight, bias, eps)
    mean, rstd = _stats(input.reshape(N, group, -1), (2,), eps)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def native_dropout(input: Tensor, p: float, train):
    """(output, mask): inverted dropout and its bool keep-mask; ``train=False`` gives a copy
    and an all-True mask (``None`` counts as training, as PyTorch)."""
    if train is False:
        return input.clone(), creation.ones(*input.shape, dtype=dtypes.bool_, device=input.device)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"native_dropout: dropout probability has to be between 0 and 1, "
                           f"but got {p}")
    keep = creation.rand(*input.shape, dtype=input.dtype, device=input.device) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return input * (keep.to(input.dtype) * scale), keep


def native_norm(input: Tensor, p=2, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm of all elements (or over ``dim``), as ``linalg.vector_norm``. PyTorch
    implements it for sparse tensors only; here it takes dense ones."""
    from . import linalg

    p = 2.0 if p is None else p
    return linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


# ----------------------------------------------------------------- functional RNN cells
def _cell_args(name: str, hx, n: int):
    if n == 2:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{name}(): argument 'hx' (position 2) must be a tuple of two "
                            f"Tensors (h, c)")
        return hx
    if not isinstance(hx, Tensor):
        raise TypeError(f"{name}(): argument 'hx' (position 2) must be Tensor, not "
                        f"{type(hx).__name__}")
    return hx


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih=None, b_hh=None):
    """(h', c'): one LSTM step, gates i, f, g, o as ``nn.LSTMCell``."""
    from .ops.rnn import lstm_cell as cell

    h, c = _cell_args("lstm_cell", hx, 2)
    return cell(input, h, c, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih=None,
             b_hh=None) -> Tensor:
    """h': one GRU step, gates r, z, n as ``nn.GRUCell``."""
    from .ops.rnn import gru_cell as cell

    return cell(input, _cell_args("gru_cell", hx, 1), w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih=None,
                  b_hh=None) -> Tensor:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    from .ops.rnn import rnn_cell

    return rnn_cell(input, _cell_args("rnn_tanh_cell", hx, 1), w_ih, w_hh, b_ih, b_hh, "tanh")


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih=None,
                  b_hh=None) -> Tensor:
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    from .ops.rnn import rnn_cell

    return rnn_cell(input, _cell_args("rnn_relu_cell", hx, 1), w_ih, w_hh, b_ih, b_hh, "relu")

