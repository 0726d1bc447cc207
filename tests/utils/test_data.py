"""Datasets, samplers, default_collate, DataLoader and random_split (PyTorch's semantics)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import autodiff as ad
from autodiff.utils import data as D


def _host(t):
    return t.detach().cpu().numpy()


def _ds(device, n=10):
    x = ad.arange(n * 2, device=device).float().reshape(n, 2)
    return D.TensorDataset(x, ad.arange(n, device=device))


def test_tensor_dataset(device):
    ds = _ds(device)
    assert len(ds) == 10
    x, y = ds[3]
    assert _host(x).tolist() == [6, 7] and int(y) == 3
    with pytest.raises(ValueError, match="size mismatch"):
        D.TensorDataset(ad.zeros(3), ad.zeros(4))


@pytest.mark.parametrize("drop_last,sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_loader_batches_in_order(drop_last, sizes, device):
    loader = D.DataLoader(_ds(device), batch_size=4, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [len(b[1]) for b in batches] == sizes
    assert np.concatenate([_host(b[1]) for b in batches]).tolist() == list(range(sum(sizes)))
    xb, yb = batches[0]
    assert xb.shape == (4, 2) and xb.device == ad.device(device) and yb.dtype == ad.int64


def test_shuffle_is_a_permutation_and_reproducible():
    ds = _ds("numpy", 50)
    order = lambda seed: np.concatenate([
        _host(y) for _, y in D.DataLoader(ds, batch_size=8, shuffle=True,
                                          generator=ad.Generator().manual_seed(seed))])
    a, b, c = order(1), order(1), order(2)
    assert sorted(a.tolist()) == list(range(50))
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    assert a.tolist() != list(range(50))
    # a loader reshuffles every epoch
    loader = D.DataLoader(ds, batch_size=50, shuffle=True)
    assert _host(next(iter(loader))[1]).tolist() != _host(next(iter(loader))[1]).tolist()


def test_global_seed_controls_shuffle():
    ds = _ds("numpy", 30)
    ad.manual_seed(5)
    a = [_host(y).tolist() for _, y in D.DataLoader(ds, batch_size=30, shuffle=True)]
    ad.manual_seed(5)
    b = [_host(y).tolist() for _, y in D.DataLoader(ds, batch_size=30, shuffle=True)]
    assert a == b


def test_collate_fn_and_custom_dataset():
    class Squares(D.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": float(i), "y": i * i, "name": f"s{i}"}

    batches = list(D.DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].dtype == ad.float64 and batches[0]["y"].tolist() == [0, 1]
    assert batches[2]["name"] == ["s4"]
    loader = D.DataLoader(Squares(), batch_size=3, collate_fn=lambda b: [s["y"] for s in b])
    assert list(loader) == [[0, 1, 4], [9, 16]]


def test_default_collate_structures():
    Point = namedtuple("Point", "x y")
    out = D.default_collate([Point(ad.zeros(2), 1), Point(ad.ones(2), 2)])
    assert isinstance(out, Point) and out.x.shape == (2, 2) and out.y.tolist() == [1, 2]
    out = D.default_collate([(np.zeros(3, np.float32), True), (np.ones(3, np.float32), False)])
    assert isinstance(out, list) and out[0].dtype == ad.float32 and out[1].dtype == ad.bool
    out = D.default_collate([[1, 2], [3, 4]])
    assert [t.tolist() for t in out] == [[1, 3], [2, 4]]
    with pytest.raises(RuntimeError, match="equal size"):
        D.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        D.default_collate([object(), object()])


def test_collate_matches_torch_on_generic_datasets(torch):
    samples = [{"a": (float(i), i), "b": [np.full(2, i, np.float32)]} for i in range(4)]
    ours = D.default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert ours["a"][0].tolist() == theirs["a"][0].tolist()
    assert str(ours["a"][0].dtype).split(".")[-1] == str(theirs["a"][0].dtype).split(".")[-1]
    assert ours["a"][1].tolist() == theirs["a"][1].tolist()
    assert ours["b"][0].tolist() == theirs["b"][0].tolist()


def test_sampler_and_batch_sampler():
    ds = _ds("numpy", 6)
    loader = D.DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [_host(y).tolist() for _, y in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = D.DataLoader(ds, batch_sampler=[[0, 5], [1]])
    assert [_host(y).tolist() for _, y in loader] == [[0, 5], [1]]
    with pytest.raises(ValueError, match="mutually exclusive"):
        D.DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="positive integer"):
        D.DataLoader(ds, batch_size=0)
    draws = list(D.RandomSampler(ds, replacement=True, num_samples=20))
    assert len(draws) == 20 and all(0 <= i < 6 for i in draws)
    assert sorted(D.SubsetRandomSampler([1, 3, 5])) == [1, 3, 5]
    assert list(D.WeightedRandomSampler([0, 0, 1.0], 4)) == [2, 2, 2, 2]


def test_unbatched_loader():
    ds = _ds("numpy", 3)
    items = list(D.DataLoader(ds, batch_size=None))
    assert len(items) == 3 and items[1][0].shape == (2,)


def test_iterable_dataset():
    class Stream(D.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    batches = list(D.DataLoader(Stream(), batch_size=3))
    assert [b.tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in D.DataLoader(Stream(), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset"):
        D.DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("lengths,sizes", [([3, 7], [3, 7]), ([0.5, 0.5], [5, 5]),
                                           ([0.33, 0.33, 0.34], [4, 3, 3]),
                                           ([0.7, 0.3], [7, 3])])
def test_random_split(lengths, sizes):
    ds = _ds("numpy", 10)
    parts = D.random_split(ds, lengths, generator=ad.Generator().manual_seed(0))
    assert [len(p) for p in parts] == sizes
    seen = sorted(int(p[i][1]) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    again = D.random_split(ds, lengths, generator=ad.Generator().manual_seed(0))
    assert [p.indices for p in parts] == [p.indices for p in again]


def test_random_split_fraction_sizes_match_torch(torch):
    for lengths in ([0.33, 0.33, 0.34], [0.1, 0.2, 0.7], [0.5, 0.5]):
        ours = D.random_split(range(11), lengths)
        theirs = torch.utils.data.random_split(range(11), lengths)
        assert [len(p) for p in ours] == [len(p) for p in theirs]


def test_random_split_errors():
    with pytest.raises(ValueError, match="does not equal"):
        D.random_split(_ds("numpy", 10), [3, 3])


def test_concat_and_subset():
    a, b = _ds("numpy", 3), _ds("numpy", 4)
    cat = a + b
    assert len(cat) == 7 and int(cat[3][1]) == 0 and int(cat[-1][1]) == 3
    with pytest.raises(IndexError):
        cat[7]
    sub = D.Subset(cat, [6, 0])
    assert int(sub[0][1]) == 3 and len(sub) == 2
    batches = list(D.DataLoader(cat, batch_size=4))
    assert _host(batches[0][1]).tolist() == [0, 1, 2, 0]


def test_loader_trains_a_model(device):
    """End to end: a linear regression through DataLoader batches converges."""
    from autodiff import optim

    ad.manual_seed(0)
    x = ad.randn(128, 2, device=device)
    y = x @ ad.tensor([[2.0], [-1.0]], device=device) + 0.5
    w = ad.zeros((2, 1), device=device, requires_grad=True)
    b = ad.zeros(1, device=device, requires_grad=True)
    opt = optim.Adam([w, b], lr=0.1)
    loader = D.DataLoader(D.TensorDataset(x, y), batch_size=32, shuffle=True)
    for _ in range(40):
        for xb, yb in loader:
            opt.zero_grad()
            loss = ((xb @ w + b - yb) ** 2).mean()
            loss.backward()
            opt.step()
    assert float(loss) < 1e-2
