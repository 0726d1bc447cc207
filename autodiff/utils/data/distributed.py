"""DistributedSampler: each of ``num_replicas`` processes reads its own share of a dataset.

Shuffled orders are PyTorch's exactly: ``torch.randperm(n, generator=g)`` with ``g`` seeded
by ``seed + epoch`` is a Fisher-Yates pass driven by MT19937 (seeded as ``init_genrand``
with the low 32 bits of the seed), which NumPy's legacy ``RandomState`` reproduces, so
the same ``seed``/``epoch`` give every rank the same index lists as PyTorch's sampler.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _torch_randperm(n: int, seed: int) -> list:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()`` on CPU
    (PyTorch's path for n < 2^32 / 20: ``swap(r[i], r[i + u32() % (n - i)])``)."""
    draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(
        0, 2**32, size=max(n - 1, 0), dtype=np.uint32).tolist()
    perm = list(range(n))
    for i, u in enumerate(draws):
        j = i + u % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` reads, as PyTorch's.

    Indices (shuffled with ``seed + epoch`` when ``shuffle``) are padded by repeating the
    first ones, or with ``drop_last`` cut, to a multiple of ``num_replicas``; rank ``r``
    takes every ``num_replicas``-th index from position ``r``. Call ``set_epoch(epoch)``
    before each epoch for a new order.

    Args:
        dataset: a map-style dataset (only its length is used).
        num_replicas: the number of processes; required here (there is no process group).
        rank: this process's rank in ``[0, num_replicas - 1]``; required here.
        shuffle: shuffle the indices (default True).
        seed: the shuffling seed, the same on every rank (default 0).
        drop_last: drop the tail instead of padding (default False).

    Example:
        >>> sampler = DistributedSampler(ds, num_replicas=4, rank=1, seed=0)
        >>> loader = DataLoader(ds, batch_size=8, sampler=sampler)
        >>> for epoch in range(3):
        ...     sampler.set_epoch(epoch)
        ...     for batch in loader: ...
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            missing = "num_replicas" if num_replicas is None else "rank"
            raise RuntimeError(f"Requires distributed package to be available: autodiff has "
                               f"no process group, so pass {missing} explicitly")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = _torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank:self.total_size:self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which (with ``seed``) picks the shuffled order."""
        self.epoch = epoch
