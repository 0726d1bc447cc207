"""Small PyTorch-parity fixes: nanmean's gradient on an all-NaN slice, str and repeated
``...`` indices, ``nn.Buffer``'s type, nearest interpolation with a fractional scale factor,
``utils.benchmark.Compare``."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn
from autodiff.utils.benchmark import Compare, Measurement, TaskSpec


def test_nanmean_all_nan_slice_gradient_is_nan(torch):
    a = np.array([[np.nan, np.nan], [1.0, np.nan], [2.0, 4.0]])
    x, xt = ad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ad.nanmean(x, 1).sum().backward()
    torch.nanmean(xt, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())  # NaN where torch has NaN
    x.grad, xt.grad = None, None
    ad.nansum(x, 1).sum().backward()
    torch.nansum(xt, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("idx", ["a", b"a", ("a",), [0, "a"], 1.5, {0: 1}])
def test_bad_index_types_match_torch(torch, idx):
    xt, x = torch.zeros(2, 3), ad.zeros(2, 3)
    with warnings.catch_warnings(), pytest.raises(Exception) as want:
        warnings.simplefilter("ignore")  # torch's deprecation of non-tuple sequences
        xt[idx]
    with pytest.raises(want.type, match=re.escape(str(want.value))):
        x[idx]


ELLIPSES = ["..., ...", "..., ..., ...", "..., 0, ...", "0, ..., ...", "..., None, ...",
            "..., 0:2, ...", "None, ..., ...", "1, ..., 1, ...", "0, ..., 1, ..., 2",
            "..., [0, 1], ...", "..., ..., 0", "..., 1, ..., 2", "..., ..., None"]


@pytest.mark.parametrize("idx", ELLIPSES)
def test_repeated_ellipsis_matches_torch(torch, idx):
    a = np.arange(24.0).reshape(2, 3, 4)
    try:
        want = eval(f"t[{idx}]", {"t": torch.tensor(a)}).numpy()
    except IndexError:
        with pytest.raises(IndexError):
            eval(f"t[{idx}]", {"t": ad.tensor(a)})
        return
    np.testing.assert_array_equal(eval(f"t[{idx}]", {"t": ad.tensor(a)}).numpy(), want)
    t, tt = ad.tensor(a), torch.tensor(a)
    exec(f"t[{idx}] = -1.0", {"t": t})  # noqa: S102
    exec(f"t[{idx}] = -1.0", {"t": tt})  # noqa: S102
    np.testing.assert_array_equal(t.numpy(), tt.numpy())


def test_buffer_is_a_plain_marked_tensor(torch):
    m, tm = nn.Module(), torch.nn.Module()
    m.buf, tm.buf = nn.Buffer(ad.ones(2)), torch.nn.Buffer(torch.ones(2))
    assert (type(m.buf) is ad.Tensor) == (type(tm.buf) is torch.Tensor)
    assert isinstance(m.buf, nn.Buffer) == isinstance(tm.buf, torch.nn.Buffer) is True
    assert isinstance(ad.ones(2), nn.Buffer) == isinstance(torch.ones(2), torch.nn.Buffer)
    assert (type(nn.Buffer(ad.ones(1))) is ad.Tensor) == (
        type(torch.nn.Buffer(torch.ones(1))) is torch.Tensor)
    for mod in (m, tm):
        mod.register_buffer("b", mod.buf * 0, persistent=False)
    m.b, tm.b = nn.Buffer(ad.ones(2)), torch.nn.Buffer(torch.ones(2))  # now persistent
    m.c = nn.Buffer(ad.ones(2), persistent=False)
    tm.c = torch.nn.Buffer(torch.ones(2), persistent=False)
    m.c, tm.c = ad.zeros(3), torch.zeros(3)  # a plain tensor keeps the buffer non-persistent
    m.plain, tm.plain = ad.ones(1), torch.ones(1)  # an attribute, not a buffer
    assert list(m.state_dict()) == list(tm.state_dict()) == ["buf", "b"]
    assert list(dict(m.named_buffers())) == list(dict(tm.named_buffers()))
    t = ad.zeros(2)
    nn.Buffer(t)[0] = 5.0  # shares memory
    assert t.tolist() == [5.0, 0.0]


def _nearest_cases():
    rng = np.random.default_rng(0)
    for k in range(48):
        nd = 1 + k % 3
        sizes = tuple(int(v) for v in rng.integers(2, 40, nd))
        scale = [1.5, 0.7, 2.3, 1.1, 3.7, 0.55][k % 6]
        sf = scale if k % 4 else tuple(float(v) for v in rng.choice([0.7, 1.5, 2.3], nd))
        mode = ("nearest", "nearest-exact")[(k // 3) % 2]
        dtype = ("float32", "float64")[(k // 6) % 2]
        rsf = (None, False)[(k // 12) % 2]
        if nd == 2 and mode == "nearest-exact":  # torch's 4-D float64 kernel switches between
            dtype = "float32"  # float32 and float64 index math with the size (not matched)
        yield pytest.param(sizes, sf, mode, dtype, rsf, id=f"{nd}d-{mode}-{dtype}-{k}")


@pytest.mark.parametrize("sizes,sf,mode,dtype,rsf", list(_nearest_cases()))
def test_interpolate_nearest_fractional_scale(torch, sizes, sf, mode, dtype, rsf):
    a = np.random.default_rng(1).standard_normal((2, 3) + sizes).astype(dtype)
    want = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=sf, mode=mode,
                                           recompute_scale_factor=rsf).numpy()
    got = F.interpolate(ad.tensor(a), scale_factor=sf, mode=mode, recompute_scale_factor=rsf)
    np.testing.assert_array_equal(got.numpy(), want)


def test_interpolate_nearest_known_cases(torch):
    # 3-D input: no o == 2n shortcut; 4-D input: a dim of unchanged size is copied
    for shape, sf in [((1, 1, 2), 2.3), ((1, 1, 8), 1.1), ((1, 1, 1, 8), 1.1),
                      ((1, 1, 3, 33), 2.3)]:
        a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        want = torch.nn.functional.interpolate(torch.tensor(a), scale_factor=sf).numpy()
        np.testing.assert_array_equal(F.interpolate(ad.tensor(a), scale_factor=sf).numpy(), want)


def _m(label, sub, desc, seconds, threads=1):
    spec = TaskSpec("x @ x", "pass", label=label, sub_label=sub, description=desc,
                    num_threads=threads)
    return Measurement(10, [seconds * 10 * (1 + 0.01 * i) for i in range(5)], spec)


def test_compare_table(capsys):
    ms = [_m("matmul", s, d, t * (1 if s == "64" else 2), n)
          for n in (1, 4) for s in ("64", "128") for d, t in (("numpy", 2e-5), ("cpp", 7e-6))]
    c = Compare(ms + [_m("other", "a", "numpy", 1e-3)])
    c.trim_significant_figures()
    c.colorize()
    c.colorize(rowwise=True)
    c.print()
    out = capsys.readouterr().out
    assert "matmul" in out and "other" in out
    assert "1 threads:" in out and "4 threads:" in out
    assert "Times are in microseconds (us)." in out and "Times are in milliseconds (ms)." in out
    head = next(line for line in out.splitlines() if "numpy" in line and "cpp" in line)
    assert head.index("numpy") < head.index("cpp")
    row = next(line for line in out.splitlines() if line.strip().startswith("128"))
    assert [v.strip() for v in row.split("|")[1:]] == ["40", "10"]
    with pytest.raises(TypeError):
        Compare([1])
