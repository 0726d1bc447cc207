"""DataLoader with worker processes (num_workers > 0) against torch.utils.data: batch order,
IterableDataset sharding and interleaving, seeds, errors, timeouts, shutdown and transport."""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest

import autodiff as ad
from autodiff.utils import data as D
from autodiff.utils.data import _worker

Pair = collections.namedtuple("Pair", "x y")


def _lib(torch, name):
    """autodiff.utils.data or torch.utils.data."""
    return D if name == "ad" else torch.utils.data


def _values(batch):
    """A batch of either library as nested Python lists/dicts, for comparison."""
    if hasattr(batch, "tolist"):
        return batch.tolist()
    if isinstance(batch, dict):
        return {k: _values(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_values(b) for b in batch]
    return batch


class _Numbers:
    """A map-style dataset of plain Python samples (both libraries accept it)."""

    def __init__(self, n=10, sleep=0.0, fail_at=None, exc=ValueError):
        self.n, self.sleep, self.fail_at, self.exc = n, sleep, fail_at, exc

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if self.sleep:
            time.sleep(self.sleep)
        if i == self.fail_at:
            raise self.exc(f"bad index {i}")
        return {"i": i, "f": i / 2, "pair": (i, -i)}


class _Sharded:
    """A stream sharded by worker id, as PyTorch documents; ``uneven`` gives worker 0 more."""

    def __init__(self, lib, n=11, shard=True):
        self.lib, self.n, self.shard = lib, n, shard

    def __iter__(self):
        info = self.lib.get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def _iterable(lib, **kw):
    return type("Stream", (lib.IterableDataset,), {"__iter__": _Sharded.__iter__,
                                                   "__init__": _Sharded.__init__})(lib, **kw)


class _Probe:
    """Samples that report the worker, its seeds and draws of every RNG it seeds."""

    def __init__(self, lib, n=8):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = self.lib.get_worker_info()
        return (info.id, info.seed, info.num_workers, random.random(), float(np.random.rand()),
                os.getpid())


def _no_children():
    gc.collect()
    for _ in range(100):
        if not multiprocessing.active_children():
            return True
        time.sleep(0.02)
    return False


# --------------------------------------------------------------------------- order
@pytest.mark.parametrize("batch_size", [3, None])
def test_map_style_batches_match_torch_in_sampler_order(torch, batch_size):
    def load(name):
        lib = _lib(torch, name)
        return [_values(b) for b in lib.DataLoader(_Numbers(10), batch_size=batch_size,
                                                   num_workers=2)]

    got = load("ad")
    assert got == load("torch")
    assert got == [_values(b) for b in D.DataLoader(_Numbers(10), batch_size=batch_size)]


def test_batch_sampler_prefetch_and_len():
    sampler = D.BatchSampler(D.SequentialSampler(range(9)), 2, drop_last=False)
    loader = D.DataLoader(_Numbers(9), batch_sampler=sampler, num_workers=2, prefetch_factor=1)
    assert len(loader) == 5
    assert [b["i"].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]


def test_in_order_false_yields_every_batch():
    loader = D.DataLoader(_Numbers(12), batch_size=2, num_workers=2, in_order=False)
    got = sorted(b["i"].tolist() for b in loader)
    assert got == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]


def test_tensor_dataset_shuffle_same_generator_same_batches():
    x, y = ad.randn(30, 3), ad.arange(30)

    def epochs(seed):
        loader = D.DataLoader(D.TensorDataset(x, y), batch_size=4, shuffle=True, num_workers=2,
                              generator=ad.Generator().manual_seed(seed))
        return [[b[1].tolist() for b in loader] for _ in range(2)]

    first, again = epochs(0), epochs(0)
    assert first == again and first[0] != first[1]
    assert sorted(i for b in first[0] for i in b) == list(range(30))
    xb, _ = next(iter(D.DataLoader(D.TensorDataset(x, y), batch_size=4, num_workers=2)))
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[:4])
    assert (xb.dtype, xb.device) == (x.dtype, x.device)


# --------------------------------------------------------------------------- IterableDataset
@pytest.mark.parametrize(("batch_size", "drop_last", "shard"), [
    (3, False, True), (3, True, True), (None, False, True), (4, False, False)])
def test_iterable_interleaves_like_torch(torch, batch_size, drop_last, shard):
    def load(name):
        lib = _lib(torch, name)
        ds = _iterable(lib, n=11, shard=shard)
        return [_values(b) for b in lib.DataLoader(ds, batch_size=batch_size, num_workers=2,
                                                   drop_last=drop_last)]

    assert load("ad") == load("torch")


def test_iterable_persistent_workers_restart_their_streams():
    loader = D.DataLoader(_iterable(D, n=7), batch_size=2, num_workers=2,
                          persistent_workers=True)
    first = [b.tolist() for b in loader]
    assert first == [[0, 2], [1, 3], [4, 6], [5]]
    assert [b.tolist() for b in loader] == first
    del loader
    assert _no_children()


# --------------------------------------------------------------------------- seeds
def test_worker_seeds_follow_torch_structure(torch):
    def probe(name, seed):
        lib = _lib(torch, name)
        gen = ad.Generator().manual_seed(seed) if name == "ad" else torch.Generator().manual_seed(
            seed)
        return [tuple(s) for b in lib.DataLoader(_Probe(lib), batch_size=2, num_workers=2,
                                                 generator=gen) for s in zip(*_values(b))]

    for name in ("ad", "torch"):
        rows = probe(name, 0)
        assert [r[0] for r in rows] == [0, 0, 1, 1, 0, 0, 1, 1]
        assert {r[2] for r in rows} == {2}
        seed0 = rows[0][1]
        assert all(r[1] == seed0 + r[0] for r in rows)  # worker seed = base_seed + worker id
        py = random.Random(seed0)  # random seeded with the worker seed, NumPy with _generate_state
        assert [rows[0][3], rows[1][3]] == [py.random(), py.random()]
        rng = np.random.RandomState(_worker._generate_state(seed0, 0))
        assert [rows[0][4], rows[1][4]] == pytest.approx(rng.rand(2).tolist())
        assert [r[:5] for r in probe(name, 0)] == [r[:5] for r in rows]
        assert probe(name, 1)[0][1] != seed0


def test_generate_state_is_torchs(torch):
    from torch.utils.data._utils.worker import _generate_state

    for base, wid in [(0, 0), (1, 3), (2**63 - 5, 1), (123456789012345, 7)]:
        assert _worker._generate_state(base, wid) == _generate_state(base, wid)


def test_autodiff_rng_in_workers_differs_per_epoch_and_worker():
    class Noise(D.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return ad.rand(1).item()

    loader = D.DataLoader(Noise(), batch_size=2, num_workers=2,
                          generator=ad.Generator().manual_seed(3))
    a, b = ([x.tolist() for x in loader] for _ in range(2))
    assert a != b and a[0] != a[1]
    again = D.DataLoader(Noise(), batch_size=2, num_workers=2,
                         generator=ad.Generator().manual_seed(3))
    assert [x.tolist() for x in again] == a


def test_worker_info_and_worker_init_fn():
    assert D.get_worker_info() is None

    class Tagged(D.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = D.get_worker_info()
            return info.id, info.dataset is self, _TAG[0]

    loader = D.DataLoader(Tagged(), batch_size=2, num_workers=2,
                          worker_init_fn=lambda wid: _TAG.__setitem__(0, 10 + wid))
    batches = [_values(b) for b in loader]
    assert batches == [[[0, 0], [True, True], [10, 10]], [[1, 1], [True, True], [11, 11]]]
    assert _TAG == [0] and D.get_worker_info() is None


_TAG = [0]


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("exc", [ValueError, KeyError, IndexError])
def test_worker_exception_reraises_like_torch(torch, exc):
    def first_error(name):
        lib = _lib(torch, name)
        it = iter(lib.DataLoader(_Numbers(8, fail_at=5, exc=exc), batch_size=2, num_workers=2))
        with pytest.raises(exc) as info:
            list(it)
        it._shutdown_workers()  # torch's re-raise leaves its iterator in a reference cycle
        return str(info.value)

    got, want = first_error("ad"), first_error("torch")
    head = f"Caught {exc.__name__} in DataLoader worker process 0.\nOriginal Traceback"
    for msg in (got, want):
        assert msg.startswith(head) and "bad index 5" in msg and "__getitem__" in msg


def test_worker_exception_other_types_and_iteration_goes_on():
    class TwoArgs(Exception):
        def __init__(self, a, b):
            super().__init__(a, b)

    class Failing(D.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            if i == 2:
                raise TwoArgs(1, 2)
            return i

    it = iter(D.DataLoader(Failing(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="Caught TwoArgs in DataLoader worker process 1"):
        next(it)
    assert next(it).tolist() == [4, 5]  # as PyTorch: the iterator stays usable
    with pytest.raises(StopIteration):
        next(it)
    del it
    assert _no_children()


def test_worker_init_fn_error_and_unpicklable_batch():
    def bad_init(wid):
        raise ValueError(f"init {wid}")

    with pytest.raises(ValueError, match=r"(?s)worker process 0.*init 0"):
        list(D.DataLoader(_Numbers(4), batch_size=2, num_workers=2, worker_init_fn=bad_init))
    loader = D.DataLoader(_Numbers(4), batch_size=2, num_workers=2,
                          collate_fn=lambda b: (lambda: b))
    with pytest.raises(Exception, match="in DataLoader worker process 0") as info:
        list(loader)
    assert "pickle" in str(info.value).lower()
    del info  # its traceback holds the iterator
    assert _no_children()


def test_timeout_raises_like_torch(torch):
    for lib in (D, torch.utils.data):
        loader = lib.DataLoader(_Numbers(4, sleep=0.15), batch_size=2, num_workers=2,
                                timeout=0.05)
        with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.05 seconds"):
            next(iter(loader))
    assert _no_children()


def test_killed_worker_raises_instead_of_hanging():
    class Dies(D.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            if i == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return i

    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly"):
        list(D.DataLoader(Dies(), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 5
    assert _no_children()


@pytest.mark.parametrize(("kw", "msg"), [
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multiprocessing"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"num_workers": 2, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
    ({"multiprocessing_context": "fork"}, "multiprocessing_context can only be used with"),
    ({"num_workers": 2, "multiprocessing_context": "nope"}, "should specify a valid start method"),
])
def test_option_errors_match_torch(torch, kw, msg):
    for lib in (D, torch.utils.data):
        with pytest.raises(ValueError, match=msg):
            lib.DataLoader(list(range(4)), **kw)


def test_option_defaults_and_context_type_error(torch):
    for lib in (D, torch.utils.data):
        with pytest.raises(TypeError, match="should be a valid context object"):
            lib.DataLoader(list(range(4)), num_workers=2, multiprocessing_context=3)
    assert D.DataLoader(list(range(4)), num_workers=2).prefetch_factor == 2
    assert D.DataLoader(list(range(4))).prefetch_factor is None


# --------------------------------------------------------------------------- lifetime
def test_break_early_and_epoch_end_stop_the_workers():
    loader = D.DataLoader(_Numbers(40), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        if i == 1:
            break
    assert _no_children()
    it = iter(loader)
    pids = [w.pid for w in it._workers]
    assert len(list(it)) == 20
    assert not any(w.is_alive() for w in it._workers) and len(set(pids)) == 2


def test_iterator_in_a_reference_cycle_shuts_down_promptly_when_collected():
    it = iter(D.DataLoader(_Numbers(40), batch_size=2, num_workers=2))
    next(it)
    it.loop = it  # only the garbage collector frees it; queues' finalisers run first there
    del it
    start = time.monotonic()
    assert _no_children() and time.monotonic() - start < 2


def test_persistent_workers_survive_epochs_and_restart_after_a_break():
    loader = D.DataLoader(_Probe(D, n=6), batch_size=2, num_workers=2, persistent_workers=True)
    pids = [{p for p in _values(b)[5]} for b in loader]
    for i, _ in enumerate(loader):  # a broken epoch, then a full one on the same workers
        if i == 0:
            break
    second = [_values(b) for b in loader]
    assert len(second) == 3 and {p for b in second for p in b[5]} == set.union(*pids)
    assert all(w.is_alive() for w in loader._iterator._workers)
    del loader, second
    assert _no_children()


@pytest.mark.parametrize("context", ["fork", "ctx", "spawn"])
def test_multiprocessing_context(context):
    ctx = multiprocessing.get_context("fork") if context == "ctx" else context
    x = ad.arange(6, dtype="float32")
    loader = D.DataLoader(D.TensorDataset(x), batch_size=2, num_workers=1 + (context != "spawn"),
                          multiprocessing_context=ctx)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    assert _no_children()


# --------------------------------------------------------------------------- transport
class _Typed(D.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {
            "f16": ad.full((2,), i, dtype="float16"),
            "b": ad.tensor(i % 2 == 0),
            "i32": ad.tensor([[i, i]], dtype="int32").T,  # a non-contiguous view
            "np": ad.tensor([i], device="numpy"),
            "pair": Pair(np.float32(i), [i, "s"]),
        }


def test_tensors_keep_dtype_shape_values_and_device():
    want = next(iter(D.DataLoader(_Typed(), batch_size=2)))
    got = next(iter(D.DataLoader(_Typed(), batch_size=2, num_workers=2)))
    for key in ("f16", "b", "i32", "np"):
        w, g = want[key], got[key]
        assert isinstance(g, ad.Tensor)
        assert (g.dtype, g.shape, g.device, g.requires_grad) == (w.dtype, w.shape, w.device,
                                                                  False)
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert str(got["np"].device) == "numpy"
    assert isinstance(got["pair"], Pair) and got["pair"].y[1] == ("s", "s")  # a tuple, as torch
    assert got["pair"].x.tolist() == [0.0, 1.0]


def test_leaf_requires_grad_travels_non_leaf_is_refused():
    leaf = ad.ones(2, requires_grad=True)
    assert D.DataLoader([leaf], batch_size=None, num_workers=1).__iter__().__next__().requires_grad
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        list(D.DataLoader([leaf * 2], batch_size=None, num_workers=1))
    assert _no_children()


def test_threaded_kernels_in_the_parent_do_not_hang_forked_workers():
    a = ad.randn(256, 256)
    (a @ a).sum()  # the C++ GEMM starts its thread pool here
    ds = D.TensorDataset(ad.randn(8, 64, 64))
    loader = D.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=lambda b: [s[0] @ s[0]
                                                                                   for s in b])
    got = [t.shape for batch in loader for t in batch]
    assert got == [(64, 64)] * 8
