"""Collation (``default_collate``, ``default_convert``) and ``DataLoader``; worker processes
(``num_workers > 0``) and ``get_worker_info`` live in ``_worker``."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Callable

from ... import creation, ops
from ... import random as ad_random
from ...random import Generator
from ...tensor import Tensor
from ._worker import MultiProcessIter, WorkerInfo, get_worker_info, resolve_context
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "default_convert", "get_worker_info"]


# --------------------------------------------------------------------------- collation
def _is_array(x) -> bool:
    return not isinstance(x, Tensor) and hasattr(x, "__array__") and hasattr(x, "dtype") \
        and hasattr(x, "shape")


def default_convert(data):
    """Arrays to tensors, recursively through dicts and sequences (no batching)."""
    if _is_array(data) and getattr(data.dtype, "kind", "") not in "OSU":
        return creation.as_tensor(data)
    if isinstance(data, Mapping):
        return _same_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):  # a list, as PyTorch ("backwards compatibility")
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return type(data)(default_convert(d) for d in data)
    return data


def _same_mapping(like: Mapping, items: dict) -> Mapping:
    """``items`` in a mapping of ``like``'s type where it can be built (OrderedDict,
    defaultdict keep theirs, as in PyTorch), else a dict."""
    if type(like) is dict:
        return items
    try:
        clone = copy.copy(like)
        clone.update(items)
        return clone
    except Exception:  # noqa: BLE001 (a read-only or unusual mapping: a plain dict)
        return items


def default_collate(batch: list):
    """Stack a list of samples into a batch, as PyTorch does.

    Tensors and arrays are stacked along a new first dimension; Python ints become an
    int64 tensor (float32 when mixed with floats, as ``torch.tensor``), floats a float64
    tensor, bools a bool tensor; strings are left as the list (or tuple) they come in;
    dicts, named tuples and sequences are collated field by field (tuples and lists
    become lists). Numbers land on the default device, stacked tensors stay where they are.

    Example:
        >>> default_collate([(ad.zeros(2), 1), (ad.ones(2), 0)])
        [tensor([[0., 0.], [1., 1.]]), tensor([1, 0])]
    """
    if not isinstance(batch, (list, tuple)) or not batch:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got "
                        f"{type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return ops.stack(list(batch), 0)
    if _is_array(elem):
        if elem.dtype.kind in "OSU":
            raise TypeError(f"default_collate: arrays of dtype {elem.dtype} are not supported")
        return ops.stack([creation.as_tensor(b) for b in batch], 0)
    if isinstance(elem, int):  # bool included; the dtype is inferred, as torch.tensor(batch)
        return creation.tensor(list(batch))
    if isinstance(elem, float):
        return creation.tensor(list(batch), dtype="float64")
    if isinstance(elem, (str, bytes)):
        return batch  # as given: a list at the top, a tuple inside a sequence (as PyTorch)
    if isinstance(elem, Mapping):
        return _same_mapping(elem, {k: default_collate([d[k] for d in batch]) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size, got sizes {sorted({len(e) for e in batch})}")
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, arrays, numbers, strings, "
                    f"dicts or lists; found {type(elem).__name__}")


# --------------------------------------------------------------------------- loader
class DataLoader:
    """Iterates over ``dataset`` in batches.

    Args:
        dataset: a map-style Dataset (``__getitem__``/``__len__``) or an IterableDataset.
        batch_size: samples per batch (default 1); None yields single samples unbatched.
        shuffle: reshuffle the indices every epoch (uses ``generator``).
        sampler: an iterable of indices to use instead of the sequential/random order.
        batch_sampler: an iterable of index lists; excludes batch_size, shuffle, sampler,
            drop_last.
        num_workers: worker processes that fetch and collate batches (0: load here).
        collate_fn: merges a list of samples into a batch (default: ``default_collate``).
        pin_memory: accepted for compatibility (CPU only: no effect).
        drop_last: drop the last batch when it is smaller than batch_size (with an
            IterableDataset and workers: each worker's last partial batch, as PyTorch).
        timeout: seconds to wait for a batch from the workers before RuntimeError (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name (``"fork"``, ``"spawn"``,
            ``"forkserver"``) or a multiprocessing context; default: multiprocessing's.
        generator: the ``ad.Generator`` that shuffling and the workers' base seed draw from.
        prefetch_factor: batches loaded ahead per worker (default 2 with workers).
        persistent_workers: keep the workers alive from one epoch to the next.
        in_order: yield batches in sampler order (False: as workers finish them).

    With workers, each worker ``i`` seeds ``random``, ``ad.manual_seed`` (``base_seed + i``,
    ``base_seed`` drawn per iterator from ``generator`` or the global generator) and NumPy's
    global RNG; an IterableDataset is copied into every worker, so shard it with
    ``get_worker_info()`` or each worker yields the whole stream.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        >>> for xb, yb in loader: ...
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        self._check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.num_workers, self.generator = num_workers, generator
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device  # CPU: no-ops
        self.timeout, self.worker_init_fn, self.in_order = timeout, worker_init_fn, in_order
        self.persistent_workers = persistent_workers
        self.prefetch_factor = 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor
        self.multiprocessing_context = resolve_context(multiprocessing_context, num_workers)
        self._iterator = None  # the persistent workers' iterator, reused across epochs
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with an IterableDataset: shuffle, sampler and "
                             "batch_sampler must not be given")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = self.batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and
                                                             batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")

    def __setattr__(self, name: str, value) -> None:
        # as PyTorch: the batching is fixed at construction (a new batch_size would be ignored)
        if name in self._FROZEN and self.__dict__.get("_initialized"):
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @staticmethod
    def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
        """PyTorch's checks of the worker options, with its messages."""
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

    def _fast_path(self) -> bool:
        """Batches of a TensorDataset are gathered with one index per tensor."""
        return isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate

    def __iter__(self) -> Iterator:
        if self.num_workers == 0:
            # PyTorch draws the workers' base seed per iterator with or without workers, so the
            # shuffle order a generator gives does not depend on num_workers
            ad_random._generator(self.generator).integers(0, 2**63)
            return self._iter_here()
        if not self.persistent_workers:
            return MultiProcessIter(self)
        if self._iterator is None or self._iterator._shutdown:  # first epoch, or after a failure
            self._iterator = MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def _iter_here(self) -> Iterator:
        if self._iterable:
            yield from self._iter_stream()
            return
        if not self._auto_collation:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        fast = self._fast_path()
        # a dataset's own batched fetch, as PyTorch's fetcher uses it (StackDataset has one)
        fetch = getattr(self.dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            if fast:
                yield self.dataset._batch(list(indices))
            elif callable(fetch):
                yield self.collate_fn(fetch(list(indices)))
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
