"""``ad.utils.benchmark``: PyTorch's ``Timer`` and ``Measurement`` (``torch.utils.benchmark``).

``Timer`` times a statement with ``timeit`` after running ``setup`` once, with the C++ kernels
limited to ``num_threads`` threads (1 by default, as torch) and the GPU synchronized around each
block when the CUDA backend is loaded. ``timeit(number)`` is one measurement of ``number`` runs;
``blocked_autorange`` picks a block size whose timer overhead is negligible and repeats blocks
for ``min_run_time`` seconds; ``adaptive_autorange`` repeats until the interquartile range is
below ``threshold`` of the median. ``Compare`` prints Measurements as one table per label:
a row per (threads, sub_label), a column per description, medians in one unit per table.

Example:
    >>> from autodiff.utils.benchmark import Timer
    >>> m = Timer("x @ x", setup="x = ad.randn(64, 64)", globals={"ad": ad}).blocked_autorange()
    >>> m.median  # seconds per run
"""

from __future__ import annotations

import contextlib
import sys
import textwrap
import timeit as _timeit
from typing import Any, Callable

import numpy as np

__all__ = ["Compare", "Measurement", "TaskSpec", "Timer"]

_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.5


def timer() -> float:
    """``timeit.default_timer``, after a GPU synchronize when the CUDA backend is in use."""
    if "autodiff.backends.cupy_backend" in sys.modules:
        from .. import cuda

        cuda.synchronize()
    return _timeit.default_timer()


class TaskSpec:
    """What was timed: the statement, its setup and the labels shown in a Measurement."""

    def __init__(self, stmt: str, setup: str, global_setup: str = "", label: str | None = None,
                 sub_label: str | None = None, description: str | None = None,
                 env: str | None = None, num_threads: int = 1) -> None:
        self.stmt, self.setup, self.global_setup = stmt, setup, global_setup
        self.label, self.sub_label, self.description = label, sub_label, description
        self.env, self.num_threads = env, num_threads

    @property
    def title(self) -> str:
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n" \
            + textwrap.indent(self.stmt, "  ")

    def setup_str(self) -> str:
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{s}\n" if "\n" in s else s for s in sections if s)


class Measurement:
    """Times of repeated blocks of ``number_per_run`` runs; statistics are per run, in seconds.

    Attributes:
        times: seconds per run of each block; ``mean``, ``median``, ``iqr`` summarize them.
        raw_times: seconds per block, as measured.
    """

    def __init__(self, number_per_run: int, raw_times: list[float], task_spec: TaskSpec,
                 metadata: dict | None = None) -> None:
        self.number_per_run, self.raw_times = number_per_run, list(raw_times)
        self.task_spec, self.metadata = task_spec, metadata

    @property
    def times(self) -> list[float]:
        return [t / self.number_per_run for t in self.raw_times]

    def _q(self, q: float) -> float:
        return float(np.quantile(np.asarray(self.times, dtype=np.float64), q))

    @property
    def median(self) -> float:
        return self._q(0.5)

    @property
    def mean(self) -> float:
        return float(np.mean(self.times))

    @property
    def iqr(self) -> float:
        return self._q(0.75) - self._q(0.25)

    @property
    def title(self) -> str:
        return self.task_spec.title

    @property
    def num_threads(self) -> int:
        return self.task_spec.num_threads

    @property
    def has_warnings(self) -> bool:
        return bool(self._warnings())

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        return self.iqr / self.median < threshold

    def _warnings(self) -> list[str]:
        if len(self.times) < 4 or self.meets_confidence():
            return []
        why = "This suggests significant environmental influence." \
            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD) \
            else "This could indicate system fluctuation."
        return [(f"  WARNING: Interquartile range is {self.iqr / self.median * 100:.1f}% "
                 f"of the median measurement.\n           {why}")]

    def __repr__(self) -> str:
        n, median = len(self.times), self.median
        unit, scale = _unit(median)
        lines = [object.__repr__(self), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({self._q(0.25) / scale:.2f} to {self._q(0.75) / scale:.2f})")
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {threads}")
        return "\n".join(lines + self._warnings()).strip()


def _unit(t: float) -> tuple[str, float]:
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(np.log10(t) // 3) if t > 0 else -3, "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


@contextlib.contextmanager
def _threads(n: int):
    from ..torch_names import get_num_threads, set_num_threads

    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


class Timer:
    """Time ``stmt`` (a string of Python run with ``globals``) after ``setup``.

    Args:
        stmt, setup: code strings; ``setup`` runs once before each measurement.
        global_setup: accepted for PyTorch compatibility (C++ only in torch).
        timer: the clock (default: ``timeit.default_timer`` with a GPU synchronize).
        globals: the namespace the code runs in.
        label, sub_label, description, env: shown in the Measurement's repr.
        num_threads: C++ kernel threads while timing (1, as torch).
        language: only ``"python"``.
    """

    def __init__(self, stmt: str = "pass", setup: str = "pass", global_setup: str = "",
                 timer: Callable[[], float] = timer, globals: dict[str, Any] | None = None,
                 label: str | None = None, sub_label: str | None = None,
                 description: str | None = None, env: str | None = None, num_threads: int = 1,
                 language: str = "python") -> None:
        if str(language).lower().rsplit(".", 1)[-1] not in ("python", "py"):
            raise ValueError(f"Timer: only Python statements can be timed, got {language!r}")
        if not isinstance(stmt, str):
            raise ValueError(  # noqa: TRY004 (torch raises ValueError here)
                f"Timer: stmt must be a string, got {type(stmt).__name__}")
        self._timer = _timeit.Timer(stmt, setup, timer=timer, globals=dict(globals or {}))
        self._task_spec = TaskSpec(stmt, setup, global_setup, label, sub_label, description,
                                   env, num_threads)

    def _run(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> Measurement:
        """One measurement of ``number`` runs (after a warm-up of ``number // 100``)."""
        with _threads(self._task_spec.num_threads):
            self._run(max(number // 100, 2))
            return Measurement(number, [self._run(number)], self._task_spec)

    def _block_size(self, min_run_time: float) -> int:
        overhead = float(np.median([self._run(0) for _ in range(5)]))
        number = 1
        while True:
            took = self._run(number)
            if (overhead / took <= 1e-4 and took >= min_run_time / 1000) or took > min_run_time \
                    or number * 10 > 2147483647:
                return number
            number *= 10

    def _loop(self, number, stop, min_run_time, max_run_time=None, callback=None) -> list:
        total, times, can_stop = 0.0, [], False
        while total < min_run_time or not can_stop:
            took = self._run(number)
            times.append(took)
            total += took
            if callback:
                callback(number, took)
            can_stop = stop(times)
            if max_run_time and total > max_run_time:
                break
        return times

    def blocked_autorange(self, callback: Callable[[int, float], Any] | None = None,
                          min_run_time: float = 0.2) -> Measurement:
        """Blocks of a size whose timer overhead is below 0.01%, for ``min_run_time`` seconds."""
        with _threads(self._task_spec.num_threads):
            number = self._block_size(min_run_time)
            times = self._loop(number, lambda t: True, min_run_time, callback=callback)
        return Measurement(number, times, self._task_spec)

    def adaptive_autorange(self, threshold: float = 0.1, *, min_run_time: float = 0.01,
                           max_run_time: float = 10.0,
                           callback: Callable[[int, float], Any] | None = None) -> Measurement:
        """Blocks until IQR / median < ``threshold`` (at least 4 and ``min_run_time`` seconds,
        at most ``max_run_time`` seconds)."""
        with _threads(self._task_spec.num_threads):
            number = self._block_size(0.05)

            def stop(times):
                return len(times) > 3 and Measurement(number, times, self._task_spec) \
                    .meets_confidence(threshold)

            times = self._loop(number, stop, min_run_time, max_run_time, callback)
        return Measurement(number, times, self._task_spec)


def _significant(m: Measurement) -> int:
    """Significant figures the spread supports (PyTorch's trimming): log10(median / IQR)."""
    if len(m.times) < 2 or m.iqr <= 0:
        return 4
    return int(max(1, min(4, np.floor(np.log10(m.median / m.iqr)))))


class Compare:
    """Measurements as tables, as ``torch.utils.benchmark.Compare``: one table per ``label``,
    a row per (``num_threads``, ``sub_label``), a column per ``description``, each cell the
    median in the table's unit (the smallest median's).

    Args:
        results: Measurements to show; ``extend_results`` adds more.

    Example:
        >>> Compare([m1, m2]).print()
    """

    def __init__(self, results: list[Measurement]) -> None:
        self._results: list[Measurement] = []
        self._trim = self._color = False
        self.extend_results(results)

    def extend_results(self, results: list[Measurement]) -> None:
        for r in results:
            if not isinstance(r, Measurement):
                raise TypeError(f"Compare: expected Measurements, got {type(r).__name__}")
        self._results.extend(results)

    def trim_significant_figures(self) -> None:
        """Print each cell with only the digits its interquartile range supports."""
        self._trim = True

    def colorize(self, rowwise: bool = False) -> None:
        """Accepted for PyTorch compatibility; the table is printed without colour."""
        self._color = True

    def highlight_warnings(self) -> None:
        """Accepted for PyTorch compatibility (no marks are added)."""

    def print(self) -> None:
        print(str(self))

    def __str__(self) -> str:
        labels: dict = {}
        for r in self._results:
            labels.setdefault(r.task_spec.label, []).append(r)
        return "\n".join(self._table(label, rs) for label, rs in labels.items())

    def _cell(self, m: Measurement, scale: float) -> str:
        v = m.median / scale
        if not self._trim:
            return f"{v:.1f}"
        digits = _significant(m)
        magnitude = int(np.floor(np.log10(abs(v)))) + 1 if v > 0 else 1
        return f"{round(v, digits - magnitude):.{max(digits - magnitude, 0)}f}"

    def _table(self, label, results: list[Measurement]) -> str:
        cols = list(dict.fromkeys(r.task_spec.description or "" for r in results))
        groups: dict = {}
        for r in results:
            row = groups.setdefault(r.num_threads, {}).setdefault(r.task_spec.sub_label or "", {})
            row[r.task_spec.description or ""] = r
        unit, scale = _unit(min(r.median for r in results))
        names = [n for rows in groups.values() for n in rows]
        left = max([len(n) + 6 for n in names] + [len("1 threads: ")])
        cells = {id(r): self._cell(r, scale) for r in results}
        width = [max([len(c)] + [len(cells[id(r)]) for r in results
                                 if (r.task_spec.description or "") == c]) for c in cols]
        header = " " * left + "".join(f"|  {c:>{w}}  " for c, w in zip(cols, width)).rstrip()
        total = len(header)
        lines = [header]
        for threads, rows in groups.items():
            lead = f"{threads} threads: "
            lines.append(lead.ljust(left) + "-" * (total - left))
            for name, row in rows.items():
                vals = "".join(f"|  {cells[id(row[c])] if c in row else '':>{w}}  "
                               for c, w in zip(cols, width))
                lines.append(f"      {name}".ljust(left) + vals.rstrip())
        title = f" {label} " if label else ""
        dashes = max(total - len(title) - 2, 2)
        top = f"[{'-' * (dashes // 2)}{title}{'-' * (dashes - dashes // 2)}]"
        units = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
        return "\n".join([top, *lines, "", f"Times are in {units[unit]} ({unit}).", ""])
