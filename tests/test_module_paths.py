"""PyTorch module paths that ported scripts import: testing, autograd.Variable, per-family
distributions modules, nn.parallel, backends flags, nn.attention, utils.benchmark, jit,
compiler, profiler and memory formats; compared with torch where it is installed."""

from __future__ import annotations

import importlib
import json
import pkgutil

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _outcome(lib, case):
    try:
        case(lib)
        return "OK"
    except Exception as e:  # noqa: BLE001 (the message is what is compared)
        return f"{type(e).__name__}: {e}".replace("autodiff", "torch")


_CLOSE_CASES = [
    lambda L: L.testing.assert_close(L.tensor([1.0, 2.0, 3.0]), L.tensor([1.0, 2.5, 3.0])),
    lambda L: L.testing.assert_close(L.tensor([[1.0, 2], [3, 4]]), L.tensor([[1.0, 2], [3, 5]])),
    lambda L: L.testing.assert_close(L.tensor([1, 2, 3]), L.tensor([1, 2, 6])),
    lambda L: L.testing.assert_close(L.tensor([True, False]), L.tensor([True, True])),
    lambda L: L.testing.assert_close(L.tensor([1.0, float("nan")]), L.tensor([1.0, float("nan")])),
    lambda L: L.testing.assert_close(L.tensor([float("nan")]), L.tensor([float("nan")]),
                                     equal_nan=True),
    lambda L: L.testing.assert_close(L.tensor([float("inf")]), L.tensor([-float("inf")])),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0], dtype=L.float64)),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.1], dtype=L.float64),
                                     check_dtype=False),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0, 3.0])),
    lambda L: L.testing.assert_close(L.ones(2, 2), L.ones(2, 2).t(), check_stride=True),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2], dtype=L.float16),
                                     L.tensor([1.0, 2.01], dtype=L.float16)),
    lambda L: L.testing.assert_close(L.tensor(1.0), L.tensor(2.0)),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2]), L.tensor([1.0, 2.5]), rtol=1e-3),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2]), L.tensor([1.0, 2.5]), rtol=0, atol=1),
    lambda L: L.testing.assert_close(L.tensor([1.0, 2]), L.tensor([1.0, 2.5]), msg="custom"),
    lambda L: L.testing.assert_close([L.tensor([1.0])], [L.tensor([2.0])], msg=lambda s: "X" + s),
    lambda L: L.testing.assert_close({"a": L.tensor(1.0), "b": [L.tensor(2.0)]},
                                     {"a": L.tensor(1.0), "b": [L.tensor(3.0)]}),
    lambda L: L.testing.assert_close({"a": 1}, {"b": 1}),
    lambda L: L.testing.assert_close([1, 2], [1]),
    lambda L: L.testing.assert_close(1.0, 1.1),
    lambda L: L.testing.assert_close(1, 1.0),
    lambda L: L.testing.assert_close(1, 1.0, check_dtype=False),
    lambda L: L.testing.assert_close(None, 1),
    lambda L: L.testing.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    lambda L: L.testing.assert_close("a", "a"),
]


@needs_torch
@pytest.mark.parametrize("i", range(len(_CLOSE_CASES)))
def test_assert_close_matches_torch(i):
    case = _CLOSE_CASES[i]
    assert _outcome(ad, case) == _outcome(torch, case)


def test_make_tensor():
    from autodiff.testing import make_tensor

    t = make_tensor(3, 4, dtype=ad.float32, device="cpu", low=0, high=1, requires_grad=True)
    assert t.shape == (3, 4) and t.requires_grad and 0 <= float(t.min()) and float(t.max()) < 1
    assert not make_tensor((3, 4), dtype=ad.int64, device="cpu", noncontiguous=True).is_contiguous()
    assert int((make_tensor(50, dtype=ad.int8, device="cpu", low=-1, high=1,
                            exclude_zero=True) == 0).sum()) == 0
    assert make_tensor(2, 3, 4, 5, dtype=ad.float32, device="cpu",
                       memory_format=ad.channels_last).stride() == (60, 1, 15, 3)
    with pytest.raises(ValueError, match="must be less than"):
        make_tensor(3, dtype=ad.float32, device="cpu", low=2, high=1)


def test_variable():
    from autodiff.autograd import Variable
    from autodiff.autograd.variable import Variable as V

    t = ad.ones(2)
    v = Variable(t, requires_grad=True)
    assert V is Variable and type(v) is ad.Tensor and v.requires_grad and isinstance(t, Variable)
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable(3)


@needs_torch
def test_distribution_submodules_export_torch_names():
    import torch.distributions as td

    for m in pkgutil.iter_modules(td.__path__):
        names = importlib.import_module(f"torch.distributions.{m.name}").__all__
        ours = getattr(ad.distributions, m.name)
        assert all(hasattr(ours, n) for n in names), m.name
    from autodiff.distributions.normal import Normal

    assert Normal is ad.distributions.Normal


def test_data_parallel():
    inner = nn.Linear(2, 3)
    dp = nn.DataParallel(inner)
    assert nn.parallel.DataParallel is nn.DataParallel and dp.module is inner
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    x = ad.ones(4, 2)
    assert np.allclose(dp(x).numpy(), inner(x).numpy())


def test_ddp_without_process_group():
    with pytest.raises(ValueError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_backend_flags():
    cudnn = ad.backends.cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (False, False, True)
    assert cudnn.is_available() == ad.cuda.is_available()
    assert not ad.backends.mps.is_available() and not ad.backends.mkl.is_available()
    assert isinstance(ad.backends.openmp.is_available(), bool)
    ad.backends.cuda.matmul.allow_tf32 = ad.backends.cuda.matmul.allow_tf32


@needs_torch
def test_sdpa_kernel():
    from torch.nn.attention import SDPBackend as TB

    from autodiff.nn.attention import SDPBackend, current_backends, sdpa_kernel

    assert {k: int(v) for k, v in SDPBackend.__members__.items()} == \
        {k: int(v) for k, v in TB.__members__.items()}
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.MATH]) as r:
        assert r == {} and current_backends() == [SDPBackend.MATH]
    assert len(current_backends()) == 5
    with pytest.raises(AssertionError, match="instance of SDPBackend"), sdpa_kernel("math"):
        pass
    import inspect

    ours = inspect.signature(nn.functional.scaled_dot_product_attention).parameters
    theirs = ["query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale",
              "enable_gqa"]
    assert list(ours) == theirs


def test_benchmark_timer():
    from autodiff.utils.benchmark import Timer

    t = Timer("x.sum()", setup="x = ad.ones(10)", globals={"ad": ad}, label="sum", sub_label="10")
    m = t.timeit(20)
    assert m.number_per_run == 20 and len(m.times) == 1 and m.mean == m.median > 0
    assert "sum: 10" in repr(m) and "1 measurement, 20 runs , 1 thread" in repr(m)
    m = t.blocked_autorange(min_run_time=0.01)  # one block when the machine is slow
    assert m.iqr >= 0 and sum(m.raw_times) >= 0.01 and "runs" in repr(m)
    # as torch, max_run_time may stop before 4 blocks: leave room for a loaded machine
    m = t.adaptive_autorange(threshold=1.0, max_run_time=2.0)
    assert len(m.times) >= 4


def test_jit_and_compiler():
    model = nn.Linear(2, 2)
    assert ad.jit.script(model) is model and ad.jit.trace(model, ad.ones(1, 2)) is model
    assert not ad.jit.is_scripting() and not ad.jit.is_tracing()
    assert ad.jit.ignore(len) is len and ad.jit.ignore(drop=True)(len) is len
    assert ad.jit.unused(len) is len and ad.jit.export(len) is len
    assert ad.compiler.disable(len) is len and ad.compiler.disable(reason="x")(len) is len
    assert not ad.compiler.is_compiling() and ad.compile(model) is model


def test_profiler_table_and_trace(tmp_path):
    from autodiff.profiler import ProfilerActivity, profile, record_function

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof, \
            record_function("outer"):
        for _ in range(3):
            with ad.autograd.profiler.record_function("inner"):
                ad.ones(10).sum()
    rows = {e.key: e for e in prof.key_averages()}
    assert rows["inner"].count == 3 and rows["outer"].count == 1
    assert rows["outer"].cpu_time_total >= rows["inner"].cpu_time_total
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    assert "Self CPU %" in table and "# of Calls" in table and "Self CPU time total" in table
    prof.export_chrome_trace(str(tmp_path / "t.json"))
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert {e["name"] for e in events} >= {"inner", "outer"}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)


def test_profiler_schedule():
    from autodiff.profiler import profile, record_function, schedule

    saved = []
    with profile(schedule=schedule(wait=1, warmup=1, active=2),
                 on_trace_ready=lambda p: saved.append(p.key_averages()[0].count)) as p:
        for _ in range(8):
            with record_function("step"):
                pass
            p.step()
    assert saved == [2, 2]


@needs_torch
def test_memory_formats():
    for name in ("channels_last", "channels_last_3d", "contiguous_format", "preserve_format"):
        assert isinstance(getattr(ad, name), ad.memory_format)
        assert repr(getattr(ad, name)) == repr(getattr(torch, name)).replace("torch", "autodiff")
    from autodiff._memory_format import is_contiguous_in, to_memory_format

    x = to_memory_format(ad.ones(2, 3, 4, 5, 6), ad.channels_last_3d)
    ref = torch.ones(2, 3, 4, 5, 6).contiguous(memory_format=torch.channels_last_3d)
    assert x.stride() == ref.stride() and is_contiguous_in(x, ad.channels_last_3d)
    with pytest.raises(RuntimeError, match="rank 4"):
        to_memory_format(ad.ones(2, 3), ad.channels_last)
