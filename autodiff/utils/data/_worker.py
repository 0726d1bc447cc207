"""DataLoader worker processes, as PyTorch runs them (``num_workers > 0``).

The main process draws indices from the sampler and puts ``(task, indices)`` on one index
queue per worker, round-robin, at most ``prefetch_factor * num_workers`` tasks ahead; each
worker fetches the samples, collates them and puts ``(task, batch)`` on a shared result
queue; the main process hands batches out in task order (``in_order=True``) or as they
arrive. A worker's exception travels back as text (type, traceback) and is raised again in
the main process; a worker that dies is noticed within ``_POLL_S`` seconds.

Tensors cross the process boundary as NumPy arrays plus a device name (a reducer registered
with multiprocessing's own pickler, so ordinary ``pickle`` is unaffected) and are rebuilt as
Tensors on that device; nothing here reads files.

Seeds, as in PyTorch: the iterator draws ``base_seed`` once from the loader's generator (or
the global one); worker ``i`` seeds ``random``, ``ad.manual_seed`` with ``base_seed + i`` and
NumPy's legacy global RNG with ``_generate_state(base_seed, i)``.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.queues
import os
import queue
import random
import time
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ... import random as ad_random
from ...device import device as _device
from ...tensor import Tensor

_POLL_S = 0.25  # the main process checks that its workers are alive this often while waiting
_IDLE_S = 0.1  # an idle worker checks this often that it should go on (see _worker_loop)
_JOIN_S = 5.0  # shutdown waits this long for a worker before terminating it
_exiting = False  # set at interpreter exit: multiprocessing then terminates daemon workers


def _set_exiting() -> None:
    global _exiting
    _exiting = True


atexit.register(_set_exiting)  # after multiprocessing's own handler, so it runs before it


# --------------------------------------------------------------------------- worker info
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a DataLoader worker: ``id``,
    ``num_workers``, ``seed`` and ``dataset`` (read-only)."""

    __slots__ = ("dataset", "id", "num_workers", "seed")

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed),
                            ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Information about the DataLoader worker this code runs in, or None in the main
    process (and with ``num_workers=0``), as in PyTorch.

    Returns:
        A ``WorkerInfo`` with ``id``, ``num_workers``, ``seed`` and ``dataset`` (this
        worker's copy), or None.

    Example:
        >>> info = get_worker_info()
        >>> start, step = (0, 1) if info is None else (info.id, info.num_workers)
    """
    return _worker_info


# --------------------------------------------------------------------------- transport
def _rebuild_tensor(arr: np.ndarray, dev: str, requires_grad: bool) -> Tensor:
    d = _device(dev)
    return Tensor._make(d.backend.from_numpy(arr), d, requires_grad, None)


def _reduce_tensor(t: Tensor):
    if t._dev.type == "cuda":  # PyTorch: CUDA cannot be re-initialized in a forked worker
        raise RuntimeError(f"DataLoader workers cannot send {t._dev} tensors: CUDA does not "
                           f"survive fork. Keep the dataset on the CPU and move each batch to "
                           f"{t._dev} in the main loop (or use num_workers=0).")
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, "
                           "since autograd does not support crossing process boundaries. If "
                           "you just want to transfer the data, call detach() on the tensor "
                           "before serializing (e.g., putting it on the queue).")
    return _rebuild_tensor, (t._dev.backend.to_numpy(t._data), str(t._dev), t.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)  # multiprocessing's pickler only


# --------------------------------------------------------------------------- messages
class _ResumeIteration:
    """Sent to persistent workers at a new epoch; echoed back as the acknowledgement."""


class _IterableStop:
    """An IterableDataset worker's stream has ended."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _KeyErrorMessage(str):
    """KeyError reprs its argument; this string reprs as itself, so tracebacks stay legible."""

    def __repr__(self) -> str:
        return self


class _ExceptionWrapper:
    """An exception caught in a worker: its type and formatted traceback, re-raised in the
    main process as ``Caught <Type> in DataLoader worker process <id>.`` + the traceback."""

    def __init__(self, exc_info, where: str) -> None:
        exc_type = exc_info[0]
        try:  # a class defined in a function cannot travel; RuntimeError carries the text
            ForkingPickler.loads(ForkingPickler.dumps(exc_type))
        except Exception:  # noqa: BLE001 (any failure to pickle)
            exc_type = RuntimeError
        self.exc_type, self.name, self.where = exc_type, exc_info[0].__name__, where
        self.exc_msg = "".join(traceback.format_exception(*exc_info))

    def reraise(self):
        msg = f"Caught {self.name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # noqa: BLE001 (needs more than one message argument)
            raise RuntimeError(msg) from None
        try:
            raise exc
        finally:
            del exc  # no frame -> traceback -> frame cycle keeping the iterator alive


class _ResultQueue(multiprocessing.queues.Queue):
    """The workers' result queue: a batch that cannot be pickled is reported to the main
    process as that task's error instead of being dropped (which would hang it)."""

    worker_id = -1

    def _on_queue_feeder_error(self, e, obj) -> None:
        if not (isinstance(obj, tuple) and len(obj) == 2):
            return super()._on_queue_feeder_error(e, obj)
        where = f"in DataLoader worker process {self.worker_id}"
        self.put((obj[0], _ExceptionWrapper((type(e), e, e.__traceback__), where)))


# --------------------------------------------------------------------------- worker side
def _generate_state(base_seed: int, worker_id: int) -> list:
    """NumPy's seed for a worker: four uint32 words hashed from (worker_id, base_seed).

    PyTorch's ``_generate_state`` (torch/utils/data/_utils/worker.py), which adapts NumPy's
    ``SeedSequence`` mixing (MIT licence, (c) 2015 Melissa E. O'Neill, 2019 NumPy Developers).
    """
    mask = 0xFFFFFFFF
    mult_a, mult_b, shift = 0x931E8875, 0x58F38DED, 16
    hash_a = 0x43B0D7E5

    def hash_(value: int) -> int:
        nonlocal hash_a
        value ^= hash_a
        hash_a = (hash_a * mult_a) & mask
        value = (value * hash_a) & mask
        return (value ^ (value >> shift)) & mask

    def mix(x: int, y: int) -> int:
        r = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (r ^ (r >> shift)) & mask

    pool = [hash_(v) for v in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_(pool[src]))
    hash_b, state = 0x8B51F9DD, []
    for v in pool:
        v ^= hash_b
        hash_b = (hash_b * mult_b) & mask
        v = (v * hash_b) & mask
        state.append((v ^ (v >> shift)) & mask)
    return state


class _Fetcher:
    """Turns one task into one batch in a worker, the way the single-process loader does."""

    def __init__(self, dataset, iterable: bool, auto_collation: bool, collate_fn, drop_last: bool,
                 batch_size, fast: bool) -> None:
        self.dataset, self.iterable, self.auto, self.collate_fn = (dataset, iterable,
                                                                   auto_collation, collate_fn)
        self.drop_last, self.batch_size, self.fast = drop_last, batch_size, fast
        self.stream, self.ended = (iter(dataset) if iterable else None), False

    def fetch(self, index):
        if not self.iterable:
            if not self.auto:
                return self.collate_fn(self.dataset[index])
            if self.fast:
                return self.dataset._batch(list(index))
            many = getattr(self.dataset, "__getitems__", None)
            if callable(many):
                return self.collate_fn(many(list(index)))
            return self.collate_fn([self.dataset[i] for i in index])
        if self.ended:
            raise StopIteration
        if not self.auto:
            return self.collate_fn(next(self.stream))
        batch = list(itertools.islice(self.stream, self.batch_size))
        self.ended = len(batch) < self.batch_size
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _seed_worker(base_seed: int, worker_id: int) -> None:
    from ...torch_names import set_num_threads

    set_num_threads(1)  # as PyTorch: one intra-op thread per worker
    random.seed(base_seed + worker_id)
    ad_random.manual_seed(base_seed + worker_id)
    np.random.seed(_generate_state(base_seed, worker_id))


def _worker_loop(dataset, index_queue, data_queue, done_event, fetch_args: tuple, base_seed: int,
                 init_fn, worker_id: int, num_workers: int, parent_pid: int) -> None:
    """A worker's life: seed, ``worker_init_fn``, then fetch tasks until told None."""
    global _worker_info
    where = f"in DataLoader worker process {worker_id}"
    try:
        _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, base_seed + worker_id, dataset)
        data_queue.worker_id = worker_id
        fetcher, init_error = None, None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _Fetcher(dataset, *fetch_args)
        except Exception as e:  # noqa: BLE001 (reported to the main process)
            init_error = _ExceptionWrapper((type(e), e, e.__traceback__), where)
        ended = False  # this worker's stream ended: skip tasks until told to resume or stop
        while True:
            try:
                r = index_queue.get(timeout=_IDLE_S)
            except queue.Empty:
                # the main process is gone, or shut down from a garbage collection, where the
                # index queue's feeder thread may already be finalised before it sent our None
                if done_event.is_set() or os.getppid() != parent_pid:
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                ended = False
                if init_error is None:
                    try:
                        fetcher = _Fetcher(dataset, *fetch_args)
                    except Exception as e:  # noqa: BLE001 (reported to the main process)
                        init_error = _ExceptionWrapper((type(e), e, e.__traceback__), where)
                continue
            if r is None:
                break
            if done_event.is_set() or ended:
                continue
            task, index = r
            data = init_error
            if data is None:
                try:
                    data = fetcher.fetch(index)
                except StopIteration as e:
                    if not fetcher.iterable:
                        data = _ExceptionWrapper((type(e), e, e.__traceback__), where)
                    else:
                        data, ended = _IterableStop(worker_id), True
                except Exception as e:  # noqa: BLE001 (reported to the main process)
                    data = _ExceptionWrapper((type(e), e, e.__traceback__), where)
            data_queue.put((task, data))
            del data, task, index, r  # do not hold the last batch while waiting
    except KeyboardInterrupt:  # the main process gets it too and shuts us down
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()


# --------------------------------------------------------------------------- main side
def resolve_context(context, num_workers: int):
    """A multiprocessing context from ``multiprocessing_context=`` (None: the default)."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got multiprocessing_context={context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got "
                        f"multiprocessing_context={context}")
    return context


class MultiProcessIter:
    """The iterator ``iter(loader)`` returns when ``num_workers > 0``; PyTorch's
    ``_MultiProcessingDataLoaderIter`` (see the module docstring)."""

    def __init__(self, loader) -> None:
        self._shutdown, self._workers, self._index_queues = False, [], []
        if loader.prefetch_factor <= 0:
            raise ValueError(f"DataLoader: prefetch_factor must be greater than 0 with workers, "
                             f"got {loader.prefetch_factor}")
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        n = self._num_workers = loader.num_workers
        self._iterable, self._timeout = loader._iterable, loader.timeout
        self._prefetch, self._in_order = loader.prefetch_factor, loader.in_order
        self._persistent = loader.persistent_workers
        self._base_seed = int(ad_random._generator(loader.generator).integers(0, 2**63))
        self._result_queue = _ResultQueue(ctx=ctx)
        self._done_event = ctx.Event()
        self._status = []  # True per started worker until _reset
        fetch_args = (loader._iterable, loader._auto_collation, loader.collate_fn,
                      loader.drop_last, loader.batch_size, loader._fast_path())
        for i in range(n):
            iq = ctx.Queue()
            iq.cancel_join_thread()  # never block exit on indices a dead worker left unread
            w = ctx.Process(target=_worker_loop, daemon=True,
                            args=(loader.dataset, iq, self._result_queue, self._done_event,
                                  fetch_args, self._base_seed, loader.worker_init_fn, i, n,
                                  os.getpid()))
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
            self._status.append(True)
        self._reset(loader, first=True)

    def __iter__(self) -> MultiProcessIter:
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def _reset(self, loader, first: bool = False) -> None:
        """Start an epoch: a fresh pass of the sampler, then fill the prefetch window."""
        n = self._num_workers
        self._index_sampler = loader.batch_sampler if loader.batch_sampler is not None \
            else loader.sampler  # both None for an IterableDataset: its workers just stream
        self._sampler_iter = itertools.repeat(None) if loader._iterable \
            else iter(self._index_sampler)
        self._send_idx = self._rcvd_idx = self._outstanding = 0
        self._task_info: dict = {}  # task -> (worker,) while pending, (worker, data) when in
        self._status, self._num_tasks = [True] * n, [0] * n
        self._cycle = itertools.cycle(range(n))
        if not first:  # persistent workers: drop what the last epoch left in flight
            for q in self._index_queues:
                q.put(_ResumeIteration())
            pending = n
            while pending:
                pending -= isinstance(self._get_data()[0], _ResumeIteration)
        for _ in range(self._prefetch * n):
            self._try_put_index()

    def _try_put_index(self) -> None:
        limit = self._prefetch * self._num_workers
        assert self._outstanding < limit
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next live worker (with room, out of order)
            wid = next(self._cycle)
            if self._status[wid] and (self._in_order or
                                      self._num_tasks[wid] < limit // sum(self._status)):
                break
        else:
            return
        self._index_queues[wid].put((self._send_idx, index))
        self._task_info[self._send_idx] = (wid,)
        self._num_tasks[wid] += 1
        self._outstanding += 1
        self._send_idx += 1

    def _get_data(self):
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            try:
                return self._result_queue.get(timeout=max(wait, 0.0))
            except queue.Empty:
                pass
            dead = [w for i, w in enumerate(self._workers) if self._status[i] and not w.is_alive()]
            if dead:
                self._shutdown_workers()
                pids = ", ".join(str(w.pid) for w in dead)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def __next__(self):
        if self._shutdown:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks of workers whose stream ended
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                wid, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process(data, wid)
            task, data = self._get_data()
            self._outstanding -= 1
            if isinstance(data, _IterableStop):
                self._status[data.worker_id] = False
                if not self._persistent:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if task != self._rcvd_idx and self._in_order:
                self._task_info[task] += (data,)
                continue
            wid = self._task_info.pop(task)[0]
            if task == self._rcvd_idx:
                self._rcvd_idx += 1
            return self._process(data, wid)

    def _process(self, data, wid: int):
        self._num_tasks[wid] -= 1
        self._try_put_index()
        if isinstance(data, _ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self) -> None:
        """Tell every worker to stop, join it (terminate after ``_JOIN_S``), close queues."""
        if self._shutdown or _exiting:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for wid, q in enumerate(self._index_queues):
                if self._persistent or self._status[wid]:
                    q.put(None)
                self._status[wid] = False
            for w in self._workers:
                w.join(timeout=_JOIN_S)
            for q in self._index_queues:
                q.cancel_join_thread()
                q.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_JOIN_S)
            self._result_queue.cancel_join_thread()
            self._result_queue.close()

    def __del__(self) -> None:
        try:
            self._shutdown_workers()
        except Exception:  # noqa: BLE001, S110 (teardown: multiprocessing ends daemon workers)
            pass

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")
