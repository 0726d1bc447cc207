"""ClusterNorm: mixture normalization with running cluster centres (our definition)."""

from __future__ import annotations

from ... import creation, dtypes
from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from ..parameter import Parameter
from .module import Module


class ClusterNorm(Module):
    """Mixture normalization (our definition; PyTorch has none).

    Each sample's feature vector f (its channel means over any spatial dims) is assigned to
    the nearest of K running cluster centres (squared Euclidean distance). In training, the
    samples of cluster k are normalized with cluster k's batch statistics (mean and biased
    variance per channel over its samples and spatial positions),
    y = (x - mu_k) / sqrt(var_k + eps), then a shared per-channel affine y * weight + bias.
    The running centres move to the mean feature of their samples and the running per-cluster
    mean / unbiased variance are updated with ``momentum``; a cluster with no sample in the
    batch keeps its state. The first training batch seeds the centres with K evenly spaced
    samples. In eval mode the running statistics of the assigned cluster normalize.

    Parameters: weight = 1, bias = 0 (C,). Buffers: running_centers (K, C), running_mean and
    running_var (K, C), num_batches_tracked.

    Args:
        num_features: C; num_clusters: K; eps=1e-5; momentum=0.1.

    Shape:
        input (N, C) or (N, C, *), output the same.

    Example:
        >>> cn = nn.ClusterNorm(8, num_clusters=3)
        >>> cn(ad.randn(16, 8)).shape
        (16, 8)
    """

    def __init__(self, num_features: int, num_clusters: int, eps: float = 1e-5,
                 momentum: float = 0.1, device=None, dtype=None) -> None:
        super().__init__()
        if num_clusters < 1:
            raise ValueError(f"ClusterNorm: num_clusters must be >= 1, got {num_clusters}")
        self.num_features, self.num_clusters = num_features, num_clusters
        self.eps, self.momentum = eps, momentum
        fk = {"device": device, "dtype": dtype}
        self.weight = Parameter(creation.ones(num_features, **fk))
        self.bias = Parameter(creation.zeros(num_features, **fk))
        self.register_buffer("running_centers", creation.zeros(num_clusters, num_features, **fk))
        self.register_buffer("running_mean", creation.zeros(num_clusters, num_features, **fk))
        self.register_buffer("running_var", creation.ones(num_clusters, num_features, **fk))
        self.register_buffer("num_batches_tracked",
                             creation.tensor(0, dtype=dtypes.int64, device=device))

    def _assign(self, feats: Tensor) -> Tensor:
        """(N, K) one-hot assignment of each feature row to its nearest centre."""
        c = self.running_centers.to(feats.dtype)
        d = (feats * feats).sum(1, keepdim=True) - 2 * feats @ c.t() + (c * c).sum(1)
        return F.one_hot(d.argmin(1), self.num_clusters).to(feats.dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ShapeError(f"ClusterNorm: expected input (N, {self.num_features}, *) "
                             f"(num_features), got shape {tuple(x.shape)}")
        n, c = x.shape[:2]
        xf = x.reshape(n, c, -1)  # (N, C, S)
        s = xf.shape[2]
        with no_grad():
            feats = xf.mean(2).detach()
            if self.training and int(self.num_batches_tracked.item()) == 0:
                self._seed(feats)
            r = self._assign(feats)  # (N, K)
        cs = (1,) * (xf.ndim - 2)
        if self.training:
            counts = r.sum(0) * s  # (K,)
            safe = counts.clamp(min=1.0).reshape(-1, 1)
            mean_k = (r.t() @ xf.sum(2)) / safe  # (K, C)
            xc = xf - (r @ mean_k).unsqueeze(-1)
            var_k = (r.t() @ (xc * xc).sum(2)) / safe
            y = xc * ((r @ var_k) + self.eps).rsqrt().unsqueeze(-1)
            self._update(r, feats, mean_k.detach(), var_k.detach(), counts)
        else:
            mean = r @ self.running_mean.to(x.dtype)
            var = r @ self.running_var.to(x.dtype)
            y = (xf - mean.unsqueeze(-1)) * (var + self.eps).rsqrt().unsqueeze(-1)
        y = y * self.weight.reshape(1, c, *cs) + self.bias.reshape(1, c, *cs)
        return y.reshape(x.shape)

    def _seed(self, feats: Tensor) -> None:
        n, k = feats.shape[0], self.num_clusters
        idx = [min(n - 1, (i * n) // k) for i in range(k)]
        self.running_centers.copy_(feats[creation.tensor(idx, dtype=dtypes.int64,
                                                         device=feats.device)])

    def _update(self, r, feats, mean_k, var_k, counts) -> None:
        with no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum
            present = (counts > 0).to(feats.dtype).reshape(-1, 1) * m  # (K, 1)
            n_k = r.sum(0).clamp(min=1.0).reshape(-1, 1)
            centre = (r.t() @ feats) / n_k
            unbiased = var_k * (counts / (counts - 1).clamp(min=1.0)).reshape(-1, 1)
            for buf, new in ((self.running_centers, centre), (self.running_mean, mean_k),
                             (self.running_var, unbiased)):
                buf.copy_(buf * (1 - present) + new.to(buf.dtype) * present)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, num_clusters={self.num_clusters}, eps={self.eps}, "
                f"momentum={self.momentum}")
