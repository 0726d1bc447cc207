"""Session 9 cross audit: regressions for DataLoader collation and shuffling found while
comparing against torch.utils.data, plus torch round trips of optimizer checkpoints."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import autodiff as ad
from autodiff.utils import data as D

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _values(x):
    """Either library's collated batch as plain Python, keeping container types."""
    if hasattr(x, "tolist") and hasattr(x, "dtype"):
        return ("tensor", str(x.dtype).rsplit(".", 1)[-1], x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _values(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_values(v) for v in x])
    return x


_COLLATE_CASES = {
    "mixed_int_float": [1, 2.5],  # was int64 [1, 2]: 2.5 truncated
    "bool_int": [True, 2],
    "ordered_dict": [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
    "defaultdict": [collections.defaultdict(int, a=1.0), collections.defaultdict(int, a=2.0)],
    "str_in_tuple": [(1, "a"), (2, "b")],  # was a list of strings, torch keeps the tuple
    "str_top": ["a", "b"],
}


@needs_torch
@pytest.mark.parametrize("case", list(_COLLATE_CASES))
def test_default_collate_matches_torch(case):
    batch = _COLLATE_CASES[case]
    assert _values(D.default_collate(batch)) == _values(torch.utils.data.default_collate(batch))


@needs_torch
@pytest.mark.parametrize("sample", [(np.ones(1), "s"), collections.OrderedDict(a=np.ones(1))])
def test_default_convert_matches_torch(sample):
    got = D.default_convert(sample)
    assert _values(got) == _values(torch.utils.data.default_convert(sample))


def test_collate_keeps_defaultdict_factory():
    out = D.default_collate([collections.defaultdict(list, a=1)] * 2)
    assert isinstance(out, collections.defaultdict) and out["missing"] == []


def _order(num_workers, seed=3, epochs=2):
    g = ad.Generator().manual_seed(seed)
    loader = D.DataLoader(list(range(8)), batch_size=3, shuffle=True, generator=g,
                          num_workers=num_workers)
    return [b.tolist() for _ in range(epochs) for b in loader]


def test_shuffle_order_does_not_depend_on_num_workers():
    # torch draws the workers' base seed per iterator with or without workers
    assert _order(0) == _order(2)


@needs_torch
def test_torch_shuffle_order_does_not_depend_on_num_workers():
    def order(nw):
        g = torch.Generator().manual_seed(3)
        loader = torch.utils.data.DataLoader(list(range(8)), batch_size=3, shuffle=True,
                                             generator=g, num_workers=nw)
        return [b.tolist() for _ in range(2) for b in loader]

    assert order(0) == order(2)


@needs_torch
def test_torch_adam_checkpoint_continues_training(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    topt = torch.optim.Adam(tm.parameters(), lr=1e-2, amsgrad=True)
    xs = [torch.randn(5, 3) for _ in range(4)]
    for x in xs[:2]:
        topt.zero_grad()
        tm(x).sum().backward()
        topt.step()
    torch.save(tm.state_dict(), tmp_path / "m.pt")
    torch.save(topt.state_dict(), tmp_path / "o.pt", pickle_protocol=4)
    am = ad.nn.Sequential(ad.nn.Linear(3, 4), ad.nn.ReLU(), ad.nn.Linear(4, 2))
    am.load_state_dict(ad.load(tmp_path / "m.pt"))
    aopt = ad.optim.Adam(am.parameters(), lr=1e-2, amsgrad=True)
    aopt.load_state_dict(ad.load(tmp_path / "o.pt"))
    for x in xs[2:]:
        topt.zero_grad()
        tm(x).sum().backward()
        topt.step()
        aopt.zero_grad()
        am(ad.tensor(x.numpy())).sum().backward()
        aopt.step()
    for p, q in zip(am.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-6)


def test_nn_modules_utils_helpers_and_bilinear_keywords():
    from collections import OrderedDict

    from autodiff.nn.modules.utils import (
        _pair, _reverse_repeat_tuple, _triple, consume_prefix_in_state_dict_if_present)

    assert _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2) and _triple(1) == (1, 1, 1)
    assert _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    dp = ad.nn.DataParallel(ad.nn.Linear(2, 3))
    sd = OrderedDict(dp.state_dict())
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert sorted(sd) == ["bias", "weight"]
    ad.nn.Linear(2, 3).load_state_dict(sd)
    out = ad.nn.Bilinear(2, 2, 1)(ad.ones(3, 2), input2=ad.ones(3, 2))
    assert out.shape == (3, 1)
