"""Data loading with PyTorch's shapes: datasets, samplers, DataLoader and random_split.

    ds = TensorDataset(x, y)
    train, val = random_split(ds, [0.8, 0.2], generator=ad.Generator().manual_seed(0))
    for xb, yb in DataLoader(train, batch_size=32, shuffle=True):
        ...

With ``num_workers > 0`` batches are loaded in worker processes, as in PyTorch (``_worker``:
in-order delivery, ``prefetch_factor``, ``persistent_workers``, ``timeout``, per-worker seeds,
worker errors re-raised here); ``pin_memory`` is accepted and has no effect.
Shuffling draws from ``generator`` (an ``ad.Generator``) or, without one, from the global
generator that ``ad.manual_seed`` seeds, so a seeded run sees the same batches every time;
``DistributedSampler`` shuffles with PyTorch's own permutation of ``seed + epoch``.

Modules: ``dataset`` (datasets, random_split), ``sampler``, ``distributed``
(DistributedSampler) and ``dataloader`` (collation, DataLoader, get_worker_info).
"""

from __future__ import annotations

from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
