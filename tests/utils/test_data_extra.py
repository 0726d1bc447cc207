"""ChainDataset, StackDataset, DistributedSampler and get_worker_info against
torch.utils.data (index lists, samples, lengths and errors)."""

from __future__ import annotations

import pytest

import autodiff as ad
from autodiff.utils import data as D


class _Stream(D.IterableDataset):
    def __init__(self, items, length=True):
        self.items, self.length = list(items), length

    def __iter__(self):
        yield from self.items

    def __len__(self):
        if not self.length:
            raise TypeError("no length")
        return len(self.items)


class _Squares(D.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


def test_chain_dataset_iterates_and_counts():
    chain = D.ChainDataset([_Stream([1, 2]), _Stream([]), _Stream([3, 4, 5])])
    assert list(chain) == [1, 2, 3, 4, 5]
    assert len(chain) == 5
    batches = list(D.DataLoader(chain, batch_size=2))
    assert [b.tolist() for b in batches] == [[1, 2], [3, 4], [5]]


def test_chain_dataset_rejects_map_style_as_torch(torch):
    for lib, stream in ((D, _Stream([1])), (torch.utils.data, None)):
        if stream is None:
            class TStream(torch.utils.data.IterableDataset):
                def __iter__(self):
                    yield 1

                def __len__(self):
                    return 1
            stream = TStream()
        chain = lib.ChainDataset([stream, [7, 8]])
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(chain)
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            len(chain)
    with pytest.raises(TypeError):  # ours is a TypeError too
        len(D.ChainDataset([[1]]))


def test_stack_dataset_tuple_and_dict_match_torch(torch):
    a, b = _Squares(5), list("abcde")
    for lib in (D, torch.utils.data):
        tup = lib.StackDataset(a, b)
        named = lib.StackDataset(sq=a, ch=b)
        assert len(tup) == len(named) == 5
        assert tup[3] == (9, "d")
        assert named[2] == {"sq": 4, "ch": "c"}
        assert tup.__getitems__([0, 4]) == [(0, "a"), (16, "e")]
        assert named.__getitems__([1]) == [{"sq": 1, "ch": "b"}]


def test_stack_dataset_uses_nested_getitems_and_checks_its_size():
    class Batched(_Squares):
        def __getitems__(self, indices):
            return [-i for i in indices][: self.cut]

    nested = Batched(4)
    nested.cut = None
    ds = D.StackDataset(nested, _Squares(4))
    assert ds.__getitems__([1, 3]) == [(-1, 1), (-3, 9)]
    nested.cut = 1
    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2, "
                                         "got 1"):
        ds.__getitems__([1, 3])


def test_stack_dataset_in_a_dataloader():
    x = ad.arange(6).reshape(3, 2)
    ds = D.StackDataset(D.TensorDataset(x), _Squares(3))
    (xb,), sq = next(iter(D.DataLoader(ds, batch_size=3)))
    assert xb.tolist() == x.tolist() and sq.tolist() == [0, 1, 4]
    named = next(iter(D.DataLoader(D.StackDataset(sq=_Squares(3), i=list(range(3))),
                                   batch_size=2)))
    assert named["sq"].tolist() == [0, 1] and named["i"].tolist() == [0, 1]


@pytest.mark.parametrize("args,kwargs,message", [
    ((), {}, "At least one dataset should be passed"),
    (([1, 2],), {"b": [1, 2]}, "Supported either"),
    (([1, 2], [1]), {}, "Size mismatch between datasets"),
    ((), {"a": [1, 2], "b": [1]}, "Size mismatch between datasets"),
])
def test_stack_dataset_errors_match_torch(args, kwargs, message, torch):
    for lib in (D, torch.utils.data):
        with pytest.raises(ValueError, match=message):
            lib.StackDataset(*args, **kwargs)


DIST_CASES = [
    # n, num_replicas, shuffle, seed, drop_last
    (10, 3, False, 0, False),
    (10, 3, False, 0, True),
    (10, 3, True, 0, False),
    (10, 3, True, 7, True),
    (12, 4, True, 123, False),
    (12, 4, True, 123, True),
    (2, 5, True, 1, False),     # padding longer than the dataset
    (2, 5, False, 0, True),     # drop_last down to nothing
    (1, 1, True, 2**33 + 5, False),
    (257, 8, True, 42, False),
    (0, 2, True, 0, False),
]


@pytest.mark.parametrize("n,replicas,shuffle,seed,drop_last", DIST_CASES,
                         ids=[str(i) for i in range(len(DIST_CASES))])
def test_distributed_sampler_index_lists_match_torch(n, replicas, shuffle, seed, drop_last,
                                                     torch):
    ours_ds, theirs_ds = list(range(n)), list(range(n))
    for epoch in (0, 1, 5):
        for rank in range(replicas):
            ours = D.DistributedSampler(ours_ds, num_replicas=replicas, rank=rank,
                                        shuffle=shuffle, seed=seed, drop_last=drop_last)
            theirs = torch.utils.data.DistributedSampler(
                theirs_ds, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                drop_last=drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (epoch, rank)
            assert len(ours) == len(theirs)
            assert (ours.num_samples, ours.total_size) == (theirs.num_samples,
                                                           theirs.total_size)


def test_distributed_sampler_in_a_dataloader():
    x = ad.arange(10)
    sampler = D.DistributedSampler(D.TensorDataset(x), num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in D.DataLoader(D.TensorDataset(x), batch_size=2,
                                                   sampler=sampler)]
    assert batches == [[1, 3], [5, 7], [9]]


def test_distributed_sampler_errors(torch):
    for lib in (D, torch.utils.data):
        with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                             r"\[0, 2\]"):
            lib.DistributedSampler(list(range(4)), num_replicas=3, rank=3)
        with pytest.raises(ValueError, match="Invalid rank -1"):
            lib.DistributedSampler(list(range(4)), num_replicas=3, rank=-1)
    with pytest.raises(RuntimeError, match="pass num_replicas explicitly"):
        D.DistributedSampler(list(range(4)), rank=0)
    with pytest.raises(RuntimeError, match="pass rank explicitly"):
        D.DistributedSampler(list(range(4)), num_replicas=2)


def test_get_worker_info_is_none_in_this_process(torch):
    assert D.get_worker_info() is None
    assert torch.utils.data.get_worker_info() is None

    class Sharded(D.IterableDataset):
        def __iter__(self):
            info = D.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            yield from range(start, 6, step)

    # in the main process the stream is whole; two workers each read their own share
    assert [b.tolist() for b in D.DataLoader(Sharded(), batch_size=3)] == [[0, 1, 2], [3, 4, 5]]
    got = [b.tolist() for b in D.DataLoader(Sharded(), batch_size=3, num_workers=2)]
    class TorchSharded(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            yield from range(info.id, 6, info.num_workers)

    loader = torch.utils.data.DataLoader(TorchSharded(), batch_size=3, num_workers=2)
    want = [b.tolist() for b in loader]
    assert got == want == [[0, 2, 4], [1, 3, 5]]
