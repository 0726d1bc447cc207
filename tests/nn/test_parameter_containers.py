"""nn.ParameterList and nn.ParameterDict: registration (parameters, named_parameters,
state_dict and load_state_dict, .to), list and dict behaviour side by side with PyTorch's,
and an optimizer stepping them as PyTorch's does."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn as nn
import autodiff.optim as optim

R = np.random.default_rng(0)


def _arrays():
    return [R.standard_normal((3, 2)), R.standard_normal((4,)), R.standard_normal((2, 2))]


def _model(m, arrays):
    """A module holding a ParameterList and a ParameterDict, built from ``m`` (ad or torch)."""

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = m.nn.ParameterList([m.nn.Parameter(m.tensor(arrays[0]))])
            self.plist.append(m.tensor(arrays[1]))  # a plain tensor becomes a Parameter
            self.pdict = m.nn.ParameterDict(OrderedDict(w=m.nn.Parameter(m.tensor(arrays[2]))))
            self.pdict["b"] = m.tensor(arrays[1] * 2)

        def forward(self, x):
            h = x @ self.plist[0] + self.plist[1][:2]
            return (h @ self.pdict["w"]).sum() + self.pdict["b"].sum()

    return Net()


def test_registration_matches_torch(torch):
    arrays = _arrays()
    ours, theirs = _model(ad, arrays), _model(torch, arrays)
    names = [k for k, _ in ours.named_parameters()]
    assert names == [k for k, _ in theirs.named_parameters()]
    assert names == ["plist.0", "plist.1", "pdict.w", "pdict.b"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    assert len(list(ours.plist.parameters())) == len(ours.plist) == 2


def test_state_dict_round_trip(torch):
    arrays = _arrays()
    ours, theirs = _model(ad, [a * 0 for a in arrays]), _model(torch, arrays)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (k, a), (_, t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), t.numpy(), err_msg=k)
    other = _model(ad, [a * 0 for a in arrays])
    other.load_state_dict(ours.state_dict())
    np.testing.assert_array_equal(other.pdict["b"].numpy(), arrays[1] * 2)
    with pytest.raises(RuntimeError, match="Missing key"):
        other.load_state_dict({k: v for k, v in ours.state_dict().items() if k != "plist.1"})


def test_to_moves_and_casts_in_place(device):
    net = _model(ad, _arrays())
    first = net.plist[0]
    net.to(device).to(ad.float64)
    assert net.plist[0] is first  # identity kept: an optimizer still holds it
    for p in net.parameters():
        assert str(p.device).startswith(device) and p.dtype is ad.float64
    x = ad.tensor(R.standard_normal((5, 3)), device=device)
    net(x).backward()
    assert all(p.grad is not None for p in net.parameters())


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_steps_the_contained_parameters_like_torch(opt, torch):
    arrays = _arrays()
    ours, theirs = _model(ad, arrays), _model(torch, arrays)
    theirs.double()
    ours.to(ad.float64)
    kw = {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {"lr": 0.05}
    o_ours = getattr(optim, opt)(ours.parameters(), **kw)
    o_theirs = getattr(torch.optim, opt)(theirs.parameters(), **kw)
    x = R.standard_normal((5, 3))
    before = [p.detach().numpy().copy() for p in ours.parameters()]
    for _ in range(3):
        for model, o, t in ((ours, o_ours, ad.tensor(x)), (theirs, o_theirs, torch.tensor(x))):
            o.zero_grad()
            model(t).backward()
            o.step()
    for (k, a), (_, t), b in zip(ours.named_parameters(), theirs.named_parameters(), before):
        assert not np.allclose(a.detach().numpy(), b), f"{k} did not move"
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   err_msg=k)


def test_list_behaviour_matches_torch(torch):
    def build(m):
        pl = m.nn.ParameterList(m.tensor(a) for a in _fixed())
        pl += [m.tensor(np.ones(2))]
        pl.extend((m.nn.Parameter(m.zeros(1)), "label"))
        pl[-2] = m.nn.Parameter(m.full((3,), 2.0))
        return pl

    ours, theirs = build(ad), build(torch)
    assert len(ours) == len(theirs) == 5
    assert [tuple(p.shape) if hasattr(p, "shape") else p for p in ours] == \
        [tuple(p.shape) if hasattr(p, "shape") else p for p in theirs]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert ours[4] == "label" and ours[-1] == "label"
    sliced = ours[1:4:2]
    assert isinstance(sliced, nn.ParameterList) and len(sliced) == 2
    assert sliced[0] is ours[1] and sliced[1] is ours[3]
    assert repr(ours).replace("autodiff.", "torch.") == repr(theirs)
    assert "0" not in dir(ours)
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ours[5]
    with pytest.raises(IndexError, match="out of range"):
        ours[-6] = ad.zeros(1)
    with pytest.raises(TypeError, match="should be called with an iterable"):
        ours.extend(ad.zeros(3))
    with pytest.raises(RuntimeError, match="should not be called"):
        ours(ad.zeros(1))


def _fixed():
    return [np.arange(6.0).reshape(2, 3), np.arange(4.0)]


def test_list_wraps_tensors_sharing_memory_and_insert():
    t = ad.zeros(3)
    pl = nn.ParameterList([t])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad
    pl[0].data.fill_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    pl.insert(0, nn.Parameter(ad.ones(2)))
    pl.insert(-1, ad.ones(4))
    assert [tuple(p.shape) for p in pl] == [(2,), (4,), (3,)]
    assert [k for k, _ in pl.named_parameters()] == ["0", "1", "2"]


def test_dict_behaviour_matches_torch(torch):
    def build(m):
        pd = m.nn.ParameterDict({"z": m.tensor([1.0]), "a": m.nn.Parameter(m.zeros(2))})
        pd.update([("m", m.ones(3)), ("b", m.ones(1))])
        pd.update(OrderedDict(y=m.zeros(4), c=m.zeros(1)))
        pd["note"] = 7
        pd.setdefault("s", m.ones(2))
        return pd

    ours, theirs = build(ad), build(torch)
    assert list(ours) == list(theirs) == ["a", "z", "m", "b", "y", "c", "note", "s"]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(reversed(ours)) == list(reversed(theirs))
    assert ours["note"] == 7 and "note" in ours and "x" not in ours
    assert ours.get("x", 3) == 3 and ours.get("a") is ours["a"]
    assert isinstance(ours["z"], nn.Parameter)
    popped = ours.pop("m")
    assert tuple(popped.shape) == (3,) and "m" not in ours and "m" not in dict(
        ours.named_parameters())
    assert ours.popitem()[0] == theirs.popitem()[0] == "s"
    cp = ours.copy()
    assert list(cp) == list(ours) and cp["a"] is ours["a"]
    merged = ours | {"q": ad.zeros(1)}
    assert list(merged)[-1] == "q" and "q" not in ours
    ours |= nn.ParameterDict({"q": ad.zeros(1)})
    assert "q" in ours
    del ours["a"]
    assert "a" not in ours and "a" not in dict(ours.named_parameters())
    fk = ours.fromkeys(["u", "v"], nn.Parameter(ad.ones(2)))
    assert list(fk) == ["u", "v"] and fk["u"] is fk["v"]
    ours.clear()
    assert len(ours) == 0 and not list(ours.parameters())


def test_dict_repr_and_errors(torch):
    pd = nn.ParameterDict({"w": ad.zeros(2, 3)})
    pd["x"] = "text"
    assert repr(pd) == ("ParameterDict(\n    (w): Parameter containing: [autodiff.float32 of size "
                        "2x3]\n    (x): Object of type: str\n)")
    with pytest.raises(TypeError, match="not a string"):
        pd[0] = ad.zeros(1)
    with pytest.raises(KeyError):
        pd["a.b"] = ad.zeros(1)
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(TypeError, match="iterable of key/value pairs"):
        pd.update(3)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        pd.update([("a", ad.zeros(1), 1)])
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter"):
        pd["w"] = 3
    with pytest.raises(RuntimeError, match="should not be called"):
        pd()


def test_dict_keys_that_shadow_methods():
    # PyTorch 2.13 refuses them (a key becomes an attribute): "attribute 'keys' already exists"
    for key in ("keys", "update"):
        with pytest.raises(KeyError, match=f"attribute '{key}' already exists"):
            nn.ParameterDict({key: ad.zeros(1)})
