"""Every module's forward takes PyTorch's parameter names, so keyword calls ported from PyTorch
work: ``nn.Linear(2, 2)(input=x)``, ``nn.LSTM(...)(input=x, hx=(h, c))``. The same for the
functions of nn.utils and nn.init."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn

torch = pytest.importorskip("torch")
import torch.nn.utils.rnn  # noqa: E402  (the submodules torch.nn.utils does not import itself)

# Classes whose forward keeps names of its own, each with the reason. Empty: every class in both
# namespaces matches.
ALLOWLIST: dict[str, str] = {}


def _names(fn) -> list[str] | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds and p.name not in ("self", "cls")]


def _torch_names(fn) -> list[str]:
    params = inspect.signature(fn).parameters.values()
    return [p.name for p in params
            if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name != "self"]


def _is_module(namespace, base, name: str) -> bool:
    cls = getattr(namespace, name)
    return isinstance(cls, type) and issubclass(cls, base)


MODULES = sorted(name for name in set(dir(torch.nn)) & set(dir(nn))
                 if _is_module(torch.nn, torch.nn.Module, name) and _is_module(nn, nn.Module, name))


def test_the_module_list_is_not_empty():
    assert len(MODULES) > 150 and "Linear" in MODULES and "MultiheadAttention" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_forward_takes_torch_names(name):
    if name in ALLOWLIST:
        pytest.skip(ALLOWLIST[name])
    theirs = _torch_names(getattr(torch.nn, name).forward)
    ours = _names(getattr(nn, name).forward)
    assert ours is not None and ours[: len(theirs)] == theirs, f"{name}: {ours} vs {theirs}"


def _functions(tmod, amod) -> list[tuple[object, object, str]]:
    out = []
    for name in sorted(set(dir(tmod)) & set(dir(amod))):
        t, a = getattr(tmod, name), getattr(amod, name)
        if name.startswith("_") or isinstance(t, (type, types.ModuleType)) or not callable(t):
            continue
        out.append((t, a, f"{tmod.__name__}.{name}"))
    return out


FUNCTIONS = (_functions(torch.nn.init, nn.init) + _functions(torch.nn.utils, nn.utils)
             + _functions(torch.nn.utils.rnn, nn.utils.rnn))


@pytest.mark.parametrize("theirs,ours,name", FUNCTIONS, ids=[f[2] for f in FUNCTIONS])
def test_utils_and_init_take_torch_names(theirs, ours, name):
    t, a = _names(theirs), _names(ours)
    if t is None or a is None:
        pytest.skip(f"{name}: no signature")
    assert a[: len(t)] == t, f"{name}: {a} vs {t}"


def _rand(*shape):
    return ad.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif a is None:
        assert b is None
    else:
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_linear_input_keyword():
    m, x = nn.Linear(3, 2), _rand(4, 3)
    _same(m(input=x), m(x))


def test_cross_entropy_input_target_keywords():
    logits, y = _rand(5, 4), ad.tensor([0, 3, 1, 2, 3])
    loss = nn.CrossEntropyLoss()
    _same(loss(input=logits, target=y), loss(logits, y))


def test_multihead_attention_query_key_value_keywords():
    m = nn.MultiheadAttention(8, 2)
    q, k, v = _rand(3, 2, 8), _rand(5, 2, 8) * 0.5, _rand(5, 2, 8) + 1.0
    _same(m(query=q, key=k, value=v, need_weights=True), m(q, k, v, None, True))


def test_lstm_input_hx_keywords():
    m = nn.LSTM(3, 4)
    x, h, c = _rand(5, 2, 3), _rand(1, 2, 4), _rand(1, 2, 4) * 2
    _same(m(input=x, hx=(h, c)), m(x, (h, c)))


def test_transformer_encoder_layer_src_keyword():
    m = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    x = _rand(3, 2, 8)
    _same(m(src=x), m(x))


def test_sequential_and_conv_transpose_keywords():
    seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    x = _rand(2, 3)
    _same(seq(input=x), seq(x))
    ct, y = nn.ConvTranspose1d(2, 2, 3, stride=2), _rand(1, 2, 5)
    _same(ct(input=y, output_size=[12]), ct(y, [12]))
