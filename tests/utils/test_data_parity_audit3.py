"""utils.data against PyTorch (fifteenth session's audit): Subset passes batches through the
dataset's __getitems__, samplers check their arguments, IterableDatasets chain with +, a
DataLoader's batching cannot be changed after construction, and PyTorch's exception types."""

from __future__ import annotations

import pytest

import autodiff as ad
from autodiff.utils import data as D


class _Batched:
    """A dataset with its own batched fetch (which the plain __getitem__ does not match)."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return i

    def __getitems__(self, indices):
        return [100 * (i + 1) for i in indices]


def test_subset_uses_the_datasets_batched_fetch():
    loader = D.DataLoader(D.Subset(_Batched(), [0, 1, 2, 3]), batch_size=2)
    assert [b.tolist() for b in loader] == [[100, 200], [300, 400]]
    assert D.Subset(_Batched(), [3, 1])[0] == 3  # one sample: __getitem__


@pytest.mark.parametrize("build, error, match", [
    (lambda: D.WeightedRandomSampler([[1.0, 2.0]], 3), ValueError, "1d sequence"),
    (lambda: D.WeightedRandomSampler([1.0, 2.0], 0), ValueError, "positive integer"),
    (lambda: D.WeightedRandomSampler([1.0, 2.0], 2, replacement=1), ValueError, "boolean"),
    (lambda: D.BatchSampler(range(5), 2, 1), ValueError, "drop_last should be a boolean"),
    (lambda: D.RandomSampler(range(5), replacement=1), TypeError, "boolean"),
    (lambda: D.random_split(range(10), [0.5, 0.6]), ValueError, "lengths"),
    (lambda: D.ConcatDataset([[0, 1, 2], [3, 4]])[-6], ValueError, "should not exceed"),
])
def test_bad_arguments_raise_as_pytorch(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_iterable_datasets_chain_with_plus():
    class Count(D.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    both = Count(2) + Count(3)
    assert isinstance(both, D.ChainDataset) and list(both) == [0, 1, 0, 1, 2]


def test_dataloader_batching_is_fixed_after_construction():
    loader = D.DataLoader(ad.arange(5), batch_size=2)
    for name in ("batch_size", "sampler", "drop_last"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set"):
            setattr(loader, name, None)
    loader.num_workers = 0  # others may change
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
