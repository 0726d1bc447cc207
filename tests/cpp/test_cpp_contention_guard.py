"""The C++ kernels' contention guard (csrc/dispatch.cpp): the switch and its environment
variable, unchanged results with it on or off, and (slow) the drop to one thread while other
processes hold every core."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from cpp_helpers import C, num_threads

pytestmark = pytest.mark.skipif(not C.has_openmp, reason="the guard needs OpenMP")


def test_switch_and_configured_threads():
    before = C.contention_guard()
    try:
        C.set_contention_guard(False)
        assert C.contention_guard() is False
        C.set_contention_guard(True)
        assert C.contention_guard() is True
        with num_threads(2):
            assert C.get_num_threads() == 2  # the configured count, whatever the guard says
    finally:
        C.set_contention_guard(before)


def test_environment_variable_turns_it_off():
    code = "import autodiff, autodiff._C as C; autodiff.ones(2) + 1; print(C.contention_guard())"
    env = dict(os.environ, AUTODIFF_CONTENTION_GUARD="0", AUTODIFF_DEVICE="cpp")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_results_equal_with_and_without_guard():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((300, 200), np.float32), rng.standard_normal((200, 150), np.float32)
    before = C.contention_guard()
    try:
        with num_threads(2):
            C.set_contention_guard(True)
            on = C.matmul(a, b), C.softmax(a, 1)
            C.set_contention_guard(False)
            off = C.matmul(a, b), C.softmax(a, 1)
    finally:
        C.set_contention_guard(before)
    for x, y in zip(on, off):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)


def _hog() -> None:
    while True:
        pass


@pytest.mark.slow
def test_guard_drops_to_one_thread_under_contention():
    """With every core busy, a probe finds the worker late and the kernels go single-threaded
    (measured in benchmarks/contention.py: a 2-thread MLP step 33 ms without, 1.6 with)."""
    hogs = [mp.Process(target=_hog, daemon=True) for _ in range(os.cpu_count() or 2)]
    for p in hogs:
        p.start()
    before, threads = C.contention_guard(), C.get_num_threads()
    try:
        C.set_num_threads(2)
        C.set_contention_guard(True)  # (resets the probe clock: the next call probes)
        late = C.contention_late_probes()
        a = np.ones((256, 256), np.float32)
        end = time.monotonic() + 20
        while C.contention_late_probes() == late and time.monotonic() < end:
            C.matmul(a, a)
        assert C.contention_late_probes() > late
    finally:
        for p in hogs:
            p.terminate()
        C.set_num_threads(threads)
        C.set_contention_guard(before)


def test_lateness_threshold_is_checked():
    before = C.contention_guard()
    try:
        C.set_contention_guard(True, 200)
        with pytest.raises(ValueError, match="late_us"):
            C.set_contention_guard(True, 0)
    finally:
        C.set_contention_guard(before)
