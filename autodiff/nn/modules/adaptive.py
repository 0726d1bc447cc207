"""``AdaptiveLogSoftmaxWithLoss``: Grave et al.'s adaptive softmax for large vocabularies.

The ``cutoffs`` split the classes into a shortlist (classes below ``cutoffs[0]``, scored by the
head) and clusters; the head scores the shortlist and one logit per cluster, and each cluster
has its own two-layer bottleneck (``in_features // div_value ** (i + 1)`` hidden features).
Every Linear is initialised as ``nn.Linear``; parameter names follow PyTorch (``head.weight``,
``tail.0.0.weight``, ``tail.0.1.weight``), so a PyTorch state dict loads unchanged.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from ... import creation, ops
from ...tensor import Tensor
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: the log-probability of each target and the mean negative one.

    Args:
        in_features: features of the input; n_classes: classes in the dataset.
        cutoffs: increasing, unique ints in [1, n_classes - 1] that bound the clusters.
        div_value: how much narrower each cluster's bottleneck is than the last (4.0).
        head_bias: give the head a bias (default False).

    Shape:
        input (N, in_features) or (in_features,); target (N,) or (); output (N,) or ();
        loss ().

    Example:
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 100, cutoffs=[10, 50])
        >>> out, loss = asm(ad.randn(4, 16), ad.tensor([1, 20, 60, 99]))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        fk = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **fk)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **fk),
                                        Linear(hsz, osz, bias=False, **fk)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def _check(self, input: Tensor, target: Tensor) -> None:
        if target.ndim == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {tuple(input.shape)}")
        elif target.ndim == 0:
            if input.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {tuple(input.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        """(output, loss): each row's log-probability of its target and -mean(output)."""
        self._check(input_, target_)
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        t = target_._dev.backend.to_numpy(target_._data).reshape(-1).astype(np.int64)
        if t.size and (t.min() < 0 or t.max() > self.n_classes - 1):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{t.min()}, {t.max()}] were found. ")
        gather = t.copy()  # the head's column per row: the class, or its cluster's logit
        rows, parts = [], []
        for i in range(self.n_clusters):
            lo, hi = self.cutoffs[i], self.cutoffs[i + 1]
            idx = np.nonzero((t >= lo) & (t < hi))[0]
            if idx.size == 0:
                continue
            gather[idx] = self.shortlist_size + i
            logp = F.log_softmax(self.tail[i](input[idx]), dim=1)
            rel = creation.tensor(t[idx] - lo, device=input.device)
            rows.append(idx)
            parts.append(logp.gather(1, rel.unsqueeze(1)).squeeze(1))
        head_logp = F.log_softmax(self.head(input), dim=1)
        cols = creation.tensor(gather, device=input.device).unsqueeze(1)
        output = head_logp.gather(1, cols).squeeze(1)
        if parts:  # add each clustered row's within-cluster log-probability
            short = np.nonzero(t < self.shortlist_size)[0]
            order = np.concatenate([short] + rows)
            zeros = creation.zeros(short.size, dtype=output.dtype, device=output.device)
            output = output + ops.cat([zeros] + parts)[np.argsort(order)]
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logp = F.log_softmax(head_output, dim=1)
        cols = [head_logp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logp = F.log_softmax(self.tail[i](input), dim=1)
            k = self.shortlist_size + i
            cols.append(cluster_logp + head_logp[:, k:k + 1])
        return ops.cat(cols, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class.

        Shape:
            input (N, in_features); output (N, n_classes).
        """
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row; the full distribution is computed only for
        rows whose head argmax is a cluster.

        Shape:
            input (N, in_features); output (N,).
        """
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        out = output._dev.backend.to_numpy(output._data).copy()
        outside = np.nonzero(out >= self.shortlist_size)[0]
        if outside.size == 0:
            return output
        if outside.size == out.size:
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        best = self._get_full_log_prob(input[outside], head_output[outside]).argmax(dim=1)
        out[outside] = best._dev.backend.to_numpy(best._data)
        return creation.tensor(out, device=input.device)
