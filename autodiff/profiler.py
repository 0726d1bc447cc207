"""``ad.profiler`` (and ``ad.autograd.profiler``): PyTorch's profiler API for user ranges.

What is timed: every ``record_function(name)`` range entered while a ``profile`` is recording
(wall-clock, per thread; a range's self time excludes the ranges nested in it), and the whole
profiled region. Engine ops are not timed one by one (that would need hooks in the core), so
a table lists only the ``record_function`` ranges. ``key_averages().table(...)`` prints torch's
columns (Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of Calls);
``export_chrome_trace(path)`` writes the ranges as Chrome trace JSON (chrome://tracing,
Perfetto). ``schedule``, ``step()`` and ``on_trace_ready`` work as in torch.

Example:
    >>> from autodiff.profiler import ProfilerActivity, profile, record_function
    >>> with profile(activities=[ProfilerActivity.CPU]) as prof:
    ...     with record_function("forward"):
    ...         model(x)
    >>> print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
"""

from __future__ import annotations

import _thread  # not threading: this module is imported with autodiff and must stay cheap
import contextlib
import enum
import os
import time
from collections.abc import Iterable
from typing import Any, Callable

__all__ = ["EventList", "FunctionEvent", "ProfilerAction", "ProfilerActivity", "profile",
           "record_function", "schedule", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
_active: list[profile] = []  # profilers inside their ``with`` block, outermost first
_local = _thread._local()  # .stack: open ranges of this thread, [name, start_ns, child_ns]


class FunctionEvent:
    """One timed range: ``name``, start and duration in microseconds, self time, thread."""

    def __init__(self, name: str, start_us: float, dur_us: float, self_us: float, tid: int):
        self.name = self.key = name
        self.time_range_start, self.cpu_time_total = start_us, dur_us
        self.self_cpu_time_total, self.thread, self.count = self_us, tid, 1

    def __repr__(self) -> str:
        return f"<FunctionEvent name={self.name} cpu_time_total={self.cpu_time_total:.3f}us>"


class FunctionEventAvg:
    """Ranges of one name, summed: ``count``, ``cpu_time_total``, ``self_cpu_time_total``."""

    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0
    cpu_memory_usage = self_cpu_memory_usage = 0

    def __init__(self, key: str) -> None:
        self.key, self.count = key, 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0

    def add(self, e) -> FunctionEventAvg:
        self.count += e.count
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_fmt(self.self_cpu_time_total)}"
                f" cpu_time={_fmt(self.cpu_time_total)} count={self.count}>")


def _fmt(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    return f"{us / 1e3:.3f}ms" if us >= 1e3 else f"{us:.3f}us"


_SORT_KEYS = ("cpu_time", "cpu_time_total", "self_cpu_time_total", "count", "device_time_total",
              "self_device_time_total", "cuda_time_total", "self_cuda_time_total",
              "cpu_memory_usage", "self_cpu_memory_usage")


class EventList(list):
    """A list of events with torch's ``table``, ``total_average`` and ``export_chrome_trace``."""

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """torch's table: one row per entry, sorted by ``sort_by`` (descending)."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"table: sort_by must be one of {_SORT_KEYS}, got {sort_by!r}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total = sum(e.self_cpu_time_total for e in self) or 1.0
        width = min(max([len(e.key) for e in rows] + [4]) + 4, max_name_column_width)
        heads = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                 "# of Calls"]
        line = "-" * width + "  " + "".join("-" * 12 + "  " for _ in heads)

        def row(cells):
            name = cells[0] if len(cells[0]) <= width else cells[0][: width - 3] + "..."
            return name.rjust(width) + "  " + "".join(c.rjust(12) + "  " for c in cells[1:])

        out = [header] if header else []
        out += [line, row(["Name", *heads]), line]
        for e in rows:
            out.append(row([e.key, f"{e.self_cpu_time_total / total * 100:.2f}%",
                             _fmt(e.self_cpu_time_total),
                             f"{e.cpu_time_total / total * 100:.2f}%", _fmt(e.cpu_time_total),
                             _fmt(e.cpu_time_total / max(e.count, 1)), str(e.count)]))
        out += [line, f"Self CPU time total: {_fmt(sum(e.self_cpu_time_total for e in self))}"]
        return "\n".join(out) + "\n"

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    def __str__(self) -> str:
        return self.table()


class record_function(contextlib.ContextDecorator):
    """Time the enclosed block (or each call of a decorated function) as one range ``name``.

    Nothing is recorded unless a ``profile`` is recording; nesting is allowed, and one
    instance may be entered again (recursion, threads): open ranges live on a per-thread stack.
    """

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args

    def __enter__(self) -> record_function:  # noqa: PYI034 (py39: no typing.Self)
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append([self.name, time.perf_counter_ns(), 0])
        return self

    def __exit__(self, *exc: object) -> bool:
        end = time.perf_counter_ns()
        stack = _local.stack
        name, start, child = stack.pop()
        if stack:
            stack[-1][2] += end - start
        recording = [p for p in _active if p._recording]
        if recording:
            event = FunctionEvent(name, start / 1e3, (end - start) / 1e3,
                                  (end - start - child) / 1e3, _thread.get_ident())
            for p in recording:
                p._events.append(event)
        return False


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """torch's schedule: skip ``skip_first`` steps, then cycles of wait / warmup / active
    steps (``repeat`` cycles, 0 = forever); the last active step of a cycle saves."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("schedule: invalid profiler schedule arguments")

    def schedule_fn(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait and step < wait:  # the first cycle's wait is skipped
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        mod = step % cycle
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False) -> Callable[[profile], None]:
    """An ``on_trace_ready`` that writes each trace to ``dir_name`` as Chrome trace JSON."""
    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{os.uname().nodename}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(
            dir_name, f"{name}.{time.time_ns() // 1000000}.pt.trace.json"))

    if use_gzip:
        raise ValueError("tensorboard_trace_handler: use_gzip is not supported by autodiff")
    return handler


class profile:
    """Record ``record_function`` ranges while inside the ``with`` block (or start()/stop()).

    Args:
        activities: accepted (``ProfilerActivity.CPU``...); ranges are timed on the host. A bool
            here is ``torch.autograd.profiler.profile``'s ``enabled``.
        schedule, on_trace_ready: as torch: record only on the schedule's active steps
            (advanced by ``step()``); ``on_trace_ready(prof)`` after each saved cycle.
        record_shapes, profile_memory, with_stack, with_flops, with_modules, and the legacy
            ``enabled``, ``use_cuda``, ``use_device``: accepted; nothing more is recorded.
    """

    def __init__(self, activities: Iterable[ProfilerActivity] | bool | None = None, *,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 enabled: bool = True, **kwargs: Any) -> None:
        if isinstance(activities, bool):
            enabled, activities = activities, None
        self.activities = set(activities or (ProfilerActivity.CPU,))
        self.enabled, self.schedule, self.on_trace_ready = enabled, schedule, on_trace_ready
        self.record_shapes, self.profile_memory, self.with_stack = (record_shapes,
                                                                    profile_memory, with_stack)
        self.step_num, self._events, self._region = 0, EventList(), None
        self._action = schedule(0) if schedule else ProfilerAction.RECORD

    @property
    def _recording(self) -> bool:
        return self.enabled and self._action in _RECORDING

    def start(self) -> None:
        self._start_ns = time.perf_counter_ns()
        _active.append(self)

    def stop(self) -> None:
        if self in _active:
            _active.remove(self)
        start = self._start_ns / 1e3
        self._region = FunctionEvent("[profiled region]", start,
                                     time.perf_counter_ns() / 1e3 - start, 0.0,
                                     _thread.get_ident())
        if self.on_trace_ready and self._recording:
            self.on_trace_ready(self)

    def __enter__(self) -> profile:  # noqa: PYI034 (py39: no typing.Self)
        self.start()
        return self

    def __exit__(self, *exc: object) -> bool:
        self.stop()
        return False

    def step(self) -> None:
        """Advance the schedule by one step (a no-op without a schedule)."""
        if self.schedule is None:
            return
        previous = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num)
        if previous is ProfilerAction.RECORD_AND_SAVE:
            if self.on_trace_ready:
                self.on_trace_ready(self)
            if self._action in _RECORDING:
                self._events = EventList()
        elif previous not in _RECORDING and self._action in _RECORDING:
            self._events = EventList()

    def events(self) -> EventList:
        """Every recorded range, in the order they ended."""
        return EventList(self._events)

    def key_averages(self, group_by_input_shape: bool = False,
                     group_by_stack_n: int = 0) -> EventList:
        """One entry per range name: count and summed times."""
        groups: dict[str, FunctionEventAvg] = {}
        for e in self._events:
            groups.setdefault(e.key, FunctionEventAvg(e.key)).add(e)
        return EventList(groups.values())

    def export_chrome_trace(self, path: str) -> None:
        """Write the ranges (and the profiled region) as Chrome trace JSON to ``path``."""
        import json

        pid = os.getpid()
        spans = [*([self._region] if self._region else []), *self._events]
        events = [{"ph": "X", "cat": "user_annotation", "name": e.name, "pid": pid,
                   "tid": e.thread, "ts": e.time_range_start, "dur": e.cpu_time_total,
                   "args": {}} for e in spans]
        with open(path, "w") as f:
            json.dump({"schemaVersion": 1, "displayTimeUnit": "ms", "traceEvents": events}, f)
