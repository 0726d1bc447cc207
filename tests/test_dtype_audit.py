"""Result dtypes, values and errors of mixed-dtype ops against PyTorch's promotion rules:
a table of literal expectations, tests of the gaps closed since, and a sweep over every
pair of our dtypes (dimensioned and 0-d tensors, Python scalars) with PyTorch as the oracle."""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest

import autodiff as ad

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
_VALUES = {  # (left operand, right operand) values per kind: f(loat), i(nt), u(int8), b(ool)
    "f": ([-3.5, -1.0, 0.0, 2.25, 7.0], [2.0, -1.5, 3.0, 1.0, 0.5]),
    "i": ([-3, -1, 0, 2, 7], [2, -1, 3, 1, 4]),
    "u": ([3, 1, 0, 2, 7], [2, 1, 3, 1, 4]),
    "b": ([True, False, False, True, True], [True, True, False, True, True]),
}


def _kind(name: str) -> str:
    return "b" if name == "bool" else name[0] if name[0] in "fu" else "i"


def t(values, dtype, device):
    return ad.tensor(values, dtype=getattr(ad, dtype), device=device)


# ------------------------------------------------------------------ literal expectations
# (expression of a device string, expected dtype name or exception type); PyTorch 2.x's
# answers, written out so the table also runs without torch.
LITERAL = [
    ("int8 + 0-d int64", lambda d: t([1], "int8", d) + t(5, "int64", d), "int8"),
    ("int8 + 0-d float64", lambda d: t([1], "int8", d) + t(5, "float64", d), "float64"),
    ("float16 + 0-d float64", lambda d: t([1], "float16", d) + t(5, "float64", d), "float16"),
    ("0-d int8 + 0-d int64", lambda d: t(1, "int8", d) + t(5, "int64", d), "int64"),
    ("int32 + 2.5", lambda d: t([1], "int32", d) + 2.5, "float32"),
    ("int32 + True", lambda d: t([1], "int32", d) + True, "int32"),
    ("bool + True", lambda d: t([True], "bool", d) + True, "bool"),
    ("bool + 2", lambda d: t([True], "bool", d) + 2, "int64"),
    ("uint8 + int8", lambda d: t([1], "uint8", d) + t([1], "int8", d), "int16"),
    ("float16 * int64", lambda d: t([1], "float16", d) * t([1], "int64", d), "float16"),
    ("int / int", lambda d: t([1], "int64", d) / t([2], "int64", d), "float32"),
    ("int // 2", lambda d: t([7], "int32", d) // 2, "int32"),
    ("int % 2.5", lambda d: t([7], "int32", d) % 2.5, "float32"),
    ("int ** 2.0", lambda d: t([3], "int16", d) ** 2.0, "float32"),
    ("bool ** 2", lambda d: t([True], "bool", d) ** 2, "int64"),
    ("int < 2.5", lambda d: t([3], "int16", d) < 2.5, "bool"),
    ("uint8 << 1", lambda d: t([3], "uint8", d) << 1, "uint8"),
    ("1 << int8", lambda d: 1 << t([3], "int8", d), "int8"),
    ("int16 >> int64", lambda d: t([8], "int16", d) >> t([1], "int64", d), "int64"),
    ("bool << bool", lambda d: t([True], "bool", d) << True, RuntimeError),
    (
        "where(c, int8, 2.5)",
        lambda d: ad.where(t([True], "bool", d), t([1], "int8", d), 2.5),
        "float32",
    ),
    ("atan2(int, int)", lambda d: ad.atan2(t([1], "int64", d), t([1], "int8", d)), "float32"),
    (
        "fmod(bool, bool)",
        lambda d: ad.fmod(t([True], "bool", d), t([True], "bool", d)),
        RuntimeError,
    ),
    ("clamp(int, 0.5)", lambda d: t([1], "int32", d).clamp(0.5), "float32"),
    ("exp(int)", lambda d: t([1], "int32", d).exp(), "float32"),
    ("sqrt(bool)", lambda d: t([True], "bool", d).sqrt(), "float32"),
    ("square(bool)", lambda d: t([True], "bool", d).square(), "int64"),
    ("sign(bool)", lambda d: t([True, False], "bool", d).sign(), "bool"),
    ("-bool", lambda d: -t([True], "bool", d), Exception),
    ("sum(int32)", lambda d: t([1], "int32", d).sum(), "int64"),
    ("sum(bool)", lambda d: t([True, True], "bool", d).sum(), "int64"),
    (
        "sum(float, dtype=int32)",
        lambda d: t([1.5] * 300, "float32", d).sum(dtype=ad.int32),
        "int32",
    ),
    ("sum(int64, dtype=int16)", lambda d: t([1], "int64", d).sum(dtype=ad.int16), "int16"),
    ("prod(bool)", lambda d: t([True], "bool", d).prod(), "int64"),
    ("prod(float, dtype=int32)", lambda d: t([2.0], "float32", d).prod(dtype=ad.int32), "int32"),
    ("cumsum(int32)", lambda d: t([1], "int32", d).cumsum(0), "int64"),
    ("mean(int)", lambda d: t([1], "int64", d).mean(), RuntimeError),
    ("var(int)", lambda d: t([1, 2], "int64", d).var(), RuntimeError),
    ("std(bool)", lambda d: t([True, False], "bool", d).std(), RuntimeError),
    ("argmax", lambda d: t([1.0, 2.0], "float16", d).argmax(), "int64"),
    ("nan_to_num(bool)", lambda d: t([True], "bool", d).nan_to_num(), "bool"),
    ("int.add_(0.5)", lambda d: t([1], "int64", d).add_(0.5), RuntimeError),
    ("int.div_(2)", lambda d: t([1], "int64", d).div_(2), RuntimeError),
    ("float16.add_(float64)", lambda d: t([1], "float16", d).add_(t([1], "float64", d)), "float16"),
    ("int8 <<= 1", lambda d: operator.ilshift(t([1], "int8", d), 1), "int8"),
    ("tensor([1, 2.0])", lambda d: ad.tensor([1, 2.0], device=d), "float32"),
    ("tensor([True, 1])", lambda d: ad.tensor([True, 1], device=d), "int64"),
    ("tensor(True)", lambda d: ad.tensor(True, device=d), "bool"),
    ("arange(0, 1, 0.25)", lambda d: ad.arange(0, 1, 0.25, device=d), "float32"),
    ("arange(5)", lambda d: ad.arange(5, device=d), "int64"),
    ("full int", lambda d: ad.full((2,), 3, device=d), "int64"),
    ("full bool", lambda d: ad.full((2,), True, device=d), "bool"),
    ("full float", lambda d: ad.full((2,), 2.5, device=d), "float32"),
    (
        "zeros_like(int, dtype=half)",
        lambda d: ad.zeros_like(t([1], "int64", d), dtype=ad.float16),
        "float16",
    ),
    ("ones(dtype=float)", lambda d: ad.ones(2, dtype=float, device=d), "float64"),
    ("ones(dtype=int)", lambda d: ad.ones(2, dtype=int, device=d), "int64"),
    (".to(float)", lambda d: t([1], "int32", d).to(float), "float64"),
    (".half()", lambda d: t([1], "int32", d).half(), "float16"),
    (".int()", lambda d: t([1.7], "float32", d).int(), "int32"),
    (".bool()", lambda d: t([0.5], "float32", d).bool(), "bool"),
]


@pytest.mark.parametrize("expr, want", [pytest.param(f, w, id=n) for n, f, w in LITERAL])
def test_literal_dtypes(cpu_device, expr, want):
    if isinstance(want, type):
        with pytest.raises(want):
            expr(cpu_device)
    else:
        assert expr(cpu_device).dtype.name == want


def test_fixed_values(cpu_device):
    d = cpu_device
    # each integer input of atan2 goes to float from its own dtype (-1 stays -1, not 255)
    got = ad.atan2(t([3, 1], "uint8", d), t(-1, "int8", d))
    np.testing.assert_allclose(got.numpy(), np.arctan2([3.0, 1.0], -1.0), rtol=1e-6)
    assert (t([1, 2, 3], "int16", d) << 2).tolist() == [4, 8, 12]
    assert (t([-8, 9], "int32", d) >> 1).tolist() == [-4, 4]
    x = t([1, 2], "int64", d)
    y = x
    x <<= 3
    assert x is y and y.tolist() == [8, 16]
    assert t([200, 100], "uint8", d).sum(dtype=ad.uint8).item() == 44  # wraps, as PyTorch


# ------------------------------------------------------------------ gaps closed
def test_int_pow_negative_tensor_exponent(cpu_device):
    """PyTorch: 0 where the exponent is negative, unless |base| == 1."""
    got = t([0, 2, 1, -1, -1, 3], "int64", cpu_device) ** t([-1, -1, -1, -1, -2, -3], "int64",
                                                            cpu_device)
    assert got.tolist() == [0, 0, 1, -1, 1, 0] and got.dtype == ad.int64
    got = t([2, -1], "int8", cpu_device) ** t([-1, -3], "int8", cpu_device)
    assert got.tolist() == [0, -1] and got.dtype == ad.int8


def test_python_int_outside_a_small_int_dtype_wraps(cpu_device):
    """PyTorch casts the scalar to the tensor's dtype with C's wrap-around."""
    assert (t([3], "uint8", cpu_device) + -1).tolist() == [2]
    assert (t([1], "uint8", cpu_device) + 300).tolist() == [45]
    assert (t([1], "int8", cpu_device) - 200).tolist() == [57]
    assert (t([3], "uint8", cpu_device) * -1).tolist() == [253]


def test_true_division_casts_each_int_to_float(cpu_device):
    """Not through their common int type: uint8 / 0-d int8 -1 is -3, not 3 / 255."""
    assert (t([3], "uint8", cpu_device) / t(-1, "int8", cpu_device)).tolist() == [-3.0]
    assert (t([3], "uint8", cpu_device) / -1).tolist() == [-3.0]


def test_sub_with_bool_raises(cpu_device):
    b = t([True], "bool", cpu_device)
    with pytest.raises(RuntimeError, match="two bool tensors"):
        b - b
    for expr in (lambda: b - 2, lambda: 2 - b, lambda: t([1], "int64", cpu_device) - True):
        with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
            expr()


def test_floor_divide_remainder_pow_of_two_bools_raise(cpu_device):
    b = t([True], "bool", cpu_device)
    for op, kernel in ((operator.floordiv, "div_floor_cpu"), (operator.mod, "remainder_cpu"),
                       (operator.pow, "pow")):
        with pytest.raises(NotImplementedError, match=kernel):
            op(b, b)
    assert (b // 2).tolist() == [0] and (b % 2).tolist() == [1] and (b**2).tolist() == [1]


def test_float_remainder_by_zero_is_nan_without_warning(cpu_device):
    assert np.isnan((t([1.0], "float32", cpu_device) % 0.0).item())


# ------------------------------------------------------------------ the PyTorch oracle
_SCALARS = [True, 2, 2.5]
_BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "lt": operator.lt,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
    "lshift": operator.lshift,
    "rshift": operator.rshift,
}
_FUNCS = {  # PyTorch's function forms take tensors only (no Python scalars)
    "maximum": lambda L, a, b: L.maximum(a, b),
    "minimum": lambda L, a, b: L.minimum(a, b),
    "atan2": lambda L, a, b: L.atan2(a, b),
    "fmod": lambda L, a, b: L.fmod(a, b),
    "clamp_min": lambda L, a, b: L.clamp(a, min=b),
    "where": lambda L, a, b: L.where(a > 0, a, b),
}
_INPLACE = ["add_", "sub_", "mul_", "div_"]


def _operand(spec, side, lib, device, nonneg=False):
    kind, val = spec
    if kind == "s":
        return val
    v = _VALUES[_kind(val)][side]
    arr = np.array(v[1] if kind == "0d" else v, dtype=np.dtype(val))
    if nonneg:
        arr = np.asarray(np.abs(arr))  # negative integer exponents: see the gap test above
    return ad.tensor(arr, device=device) if lib is ad else lib.from_numpy(arr.copy())


def _known_gap(op, a, b) -> bool:
    return op == "clamp_min" and a[1] == "bool"


def _outcome(fn, *args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # values, not NumPy's divide-by-zero notes
            return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001 - the outcome is what is compared
        return "err", type(e).__name__


def _compare(torch, name, fn, pairs, device):
    bad = []
    for a, b in pairs:
        if _known_gap(name, a, b):
            continue
        nonneg = name in ("pow", "lshift", "rshift")
        want = _outcome(
            fn, torch, _operand(a, 0, torch, device), _operand(b, 1, torch, device, nonneg)
        )
        got = _outcome(fn, ad, _operand(a, 0, ad, device), _operand(b, 1, ad, device, nonneg))
        case = f"{name}({a[1]!r}:{a[0]}, {b[1]!r}:{b[0]})"
        if want[0] != got[0]:
            bad.append(
                f"{case}: torch {want[0]} {want[1] if want[0] == 'err' else ''}, "
                f"ours {got[0]} {got[1] if got[0] == 'err' else got[1].dtype}"
            )
            continue
        if want[0] == "err":
            continue
        wd, gd = str(want[1].dtype).replace("torch.", ""), got[1].dtype.name
        wv, gv = want[1].numpy(), got[1].numpy()
        if wd != gd:
            bad.append(f"{case}: dtype torch {wd}, ours {gd}")
        elif wv.dtype.kind == "f":
            tol = 1e-2 if wd == "float16" else 1e-5
            if not np.allclose(
                wv.astype(float), gv.astype(float), rtol=tol, atol=tol, equal_nan=True
            ):
                bad.append(f"{case}: values torch {wv.tolist()}, ours {gv.tolist()}")
        elif not np.array_equal(wv, gv):
            bad.append(f"{case}: values torch {wv.tolist()}, ours {gv.tolist()}")
    return bad


def _pairs(with_scalars: bool):
    tensors = [("t", d) for d in DTYPES]
    zero_d = [("0d", d) for d in DTYPES]
    pairs = [(a, b) for a in tensors for b in tensors + zero_d]
    pairs += [(b, a) for a in tensors for b in zero_d]
    if with_scalars:
        scalars = [("s", s) for s in _SCALARS]
        pairs += [(a, s) for a in tensors + zero_d for s in scalars]
        pairs += [(s, a) for a in tensors for s in scalars]
    return pairs


@pytest.mark.parametrize("name", list(_BINARY) + list(_FUNCS))
def test_binary_promotion_matches_torch(torch, cpu_device, name):
    if name in _BINARY:
        op = _BINARY[name]
        fn, pairs = (lambda L, a, b: op(a, b)), _pairs(True)
    else:
        fn, pairs = _FUNCS[name], _pairs(False)
    bad = _compare(torch, name, fn, pairs, cpu_device)
    assert not bad, "\n".join(bad[:30])


@pytest.mark.parametrize("name", _INPLACE)
def test_inplace_promotion_matches_torch(torch, cpu_device, name):
    tensors = [("t", d) for d in DTYPES]
    others = tensors + [("0d", d) for d in DTYPES] + [("s", s) for s in _SCALARS]
    pairs = [(a, b) for a in tensors for b in others]

    def fn(L, a, b):
        out = getattr(a, name)(b)
        assert out is a
        return out

    bad = _compare(torch, name, fn, pairs, cpu_device)
    assert not bad, "\n".join(bad[:30])


_UNARY = {
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: x.sqrt(),
    "sin": lambda x: x.sin(),
    "neg": lambda x: -x,
    "sign": lambda x: x.sign(),
    "square": lambda x: x.square(),
    "sum": lambda x: x.sum(),
    "prod": lambda x: x.prod(),
    "cumsum": lambda x: x.cumsum(0),
    "mean": lambda x: x.mean(),
    "var": lambda x: x.var(),
    "argmax": lambda x: x.argmax(),
    "sum_int32": lambda x: x.sum(dtype=x.int().dtype),
    "float": lambda x: x.float(),
    "int": lambda x: x.int(),
    "bool": lambda x: x.bool(),
    "half": lambda x: x.half(),
    "nan_to_num": lambda x: x.nan_to_num(),
    "reciprocal": lambda x: x.reciprocal(),
}


@pytest.mark.parametrize("name", list(_UNARY))
def test_unary_dtypes_match_torch(torch, cpu_device, name):
    f = _UNARY[name]
    bad = []
    for dt in DTYPES:
        if name == "argmax" and dt == "bool":
            continue  # PyTorch refuses argmax of bool; autodiff answers (left as it is)
        for kind in ("t", "0d"):
            want = _outcome(f, _operand((kind, dt), 0, torch, cpu_device))
            got = _outcome(f, _operand((kind, dt), 0, ad, cpu_device))
            if want[0] != got[0]:
                bad.append(f"{name}({dt}:{kind}): torch {want[0]}, ours {got[0]}")
            elif want[0] == "ok":
                wd = str(want[1].dtype).replace("torch.", "")
                if wd != got[1].dtype.name:
                    bad.append(f"{name}({dt}:{kind}): dtype torch {wd}, ours {got[1].dtype}")
                elif not np.allclose(
                    want[1].numpy().astype(float),
                    got[1].numpy().astype(float),
                    rtol=1e-2,
                    equal_nan=True,
                ):
                    bad.append(f"{name}({dt}:{kind}): values differ")
    assert not bad, "\n".join(bad)
