"""Datasets: map-style (``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``StackDataset``), streams (``IterableDataset``, ``ChainDataset``) and ``random_split``."""

from __future__ import annotations

import bisect
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ... import creation
from ...random import Generator, default_generator
from ...tensor import Tensor
from .sampler import _perm

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]


# --------------------------------------------------------------------------- datasets
class Dataset:
    """A map-style dataset: ``__getitem__(i)`` for ``0 <= i < len(ds)``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: implement ``__iter__``; the DataLoader batches what it yields."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``; every tensor has the same first dimension.

    Example:
        >>> ds = TensorDataset(ad.randn(100, 3), ad.randint(0, 2, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, "
                                f"expected a Tensor")
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError(f"TensorDataset: size mismatch between tensors; expected "
                                 f"first dimension {n}, got shape {tuple(t.shape)} for "
                                 f"tensor {i}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _batch(self, indices: list) -> list:
        """The collated batch of ``indices`` in one gather per tensor (the fast path): a
        list, as ``default_collate`` makes of tuple samples (and PyTorch's DataLoader yields)."""
        out = []
        for t in self.tensors:
            idx = creation.tensor(indices, dtype="int64", device=t.device)
            out.append(t[idx])
        return out


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        """A batch through the dataset's own batched fetch when it has one (the DataLoader
        calls this), as PyTorch's Subset."""
        fetch = getattr(self.dataset, "__getitems__", None)
        if callable(fetch):
            return fetch([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):  # ValueError, as PyTorch's
                raise ValueError(f"absolute value of index {index} should not exceed dataset "
                                 f"length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which >= len(self.datasets):
            raise IndexError(f"index {index} out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class _NotIterableError(TypeError, AssertionError):
    """A map-style dataset where a stream is needed (PyTorch raises AssertionError)."""


class ChainDataset(IterableDataset):
    """Several IterableDatasets one after the other, chained lazily.

    Example:
        >>> for sample in ChainDataset([stream_a, stream_b]): ...
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            _check_iterable(d)
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            _check_iterable(d)
            total += len(d)
        return total


def _check_iterable(d) -> None:
    if not isinstance(d, IterableDataset):
        raise _NotIterableError(f"ChainDataset only supports IterableDataset, got "
                                f"{type(d).__name__}")


class StackDataset(Dataset):
    """Datasets of one length side by side: sample ``i`` is ``(d[i] for d in args)``, or
    ``{name: d[i]}`` for keyword datasets.

    Example:
        >>> ds = StackDataset(image=images, label=labels)
        >>> ds[0]  # {"image": images[0], "label": labels[0]}
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(d) for d in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """The samples at ``indices``, each part fetched in one ``__getitems__`` call where
        the part dataset has one (the DataLoader uses this for a batch)."""
        named = isinstance(self.datasets, dict)
        items = self.datasets.items() if named else enumerate(self.datasets)
        columns = {}
        for key, d in items:
            fetch = getattr(d, "__getitems__", None)
            if callable(fetch):
                column = fetch(indices)
                if len(column) != len(indices):
                    raise ValueError(f"Nested dataset's output size mismatch. Expected "
                                     f"{len(indices)}, got {len(column)}")
            else:
                column = [d[i] for i in indices]
            columns[key] = column
        if named:
            return [{k: col[j] for k, col in columns.items()} for j in range(len(indices))]
        return [tuple(col[j] for col in columns.values()) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


# --------------------------------------------------------------------------- splitting
def random_split(dataset: Dataset, lengths: Sequence, generator: Generator | None = None
                 ) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: sizes that sum to ``len(dataset)`` (ints, NumPy integers or one-element
            integer tensors), or fractions that sum to 1 (each ``floor(n * fraction)``, the
            remainder handed out one by one from the first; a split of size 0 warns).
        generator: the ``ad.Generator`` for the permutation (default: the global one).

    Example:
        >>> train, val = random_split(ds, [0.8, 0.2], generator=ad.Generator().manual_seed(42))
    """
    n = len(dataset)
    lengths = [_length_value(x) for x in lengths]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(x < 0 or x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions must be in [0, 1], got {lengths}")
        sizes = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:  # PyTorch's warning, word for word
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              f"empty dataset.", stacklevel=2)
        lengths = sizes
    for x in lengths:
        if not isinstance(x, numbers.Integral):
            raise ValueError(f"random_split: lengths must be integers or fractions summing to "
                            f"1, got {type(x).__name__} {x!r} in {lengths}")
        if x < 0:
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal "
                         f"the length of the input dataset ({n})")
    perm = _perm(n, generator if generator is not None else default_generator)
    out, start = [], 0
    for size in lengths:
        out.append(Subset(dataset, perm[start:start + size]))
        start += size
    return out


def _length_value(x):
    """A length or fraction as a number: one-element tensors (ours, or anything with
    ``.item()``) become NumPy scalars of their dtype, so float32 fractions sum to 1 in float32
    as PyTorch's ``sum`` of its tensors does; NumPy bools become Python bools."""
    if isinstance(x, np.ndarray) or (hasattr(x, "item") and not isinstance(x, np.generic)
                                     and not isinstance(x, numbers.Number)):
        x = np.asarray(x.detach().cpu().numpy() if isinstance(x, Tensor) else x)
        if x.size != 1:
            raise ValueError(f"random_split: a length must be one number, got shape {x.shape}")
        x = x.reshape(())[()]
    return bool(x) if isinstance(x, np.bool_) else x
