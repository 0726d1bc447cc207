"""nn.Module against PyTorch (fifteenth session's audit): a child's own train() is called,
the state-dict extension points (_save_to_state_dict, _load_from_state_dict, get/set_extra_state,
the four hooks, _metadata versions), _apply overrides, forward hooks with kwargs / always_call,
container indexing, name checks, init argument checks and trunc_normal_'s distribution."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn

torch = pytest.importorskip("torch")


def _both(build):
    """build(L) for L = torch and autodiff, as a pair."""
    return build(torch), build(ad)


def test_train_calls_each_childs_own_train():
    def build(L):
        class Frozen(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = L.nn.BatchNorm1d(3)

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()  # the usual "freeze BatchNorm" override
                return self

        return L.nn.Sequential(L.nn.Linear(3, 3), Frozen()).train()

    t, a = _both(build)
    assert a[1].bn.training is t[1].bn.training is False
    assert a[0].training is t[0].training is True


def test_extra_state_and_state_dict_overrides():
    def build(L):
        class M(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = L.nn.Linear(1, 1)
                self.x = 5

            def get_extra_state(self):
                return {"x": self.x}

            def set_extra_state(self, state):
                self.x = state["x"]

            def _save_to_state_dict(self, dest, prefix, keep_vars):
                super()._save_to_state_dict(dest, prefix, keep_vars)
                dest[prefix + "custom"] = L.ones(1)

            def _load_from_state_dict(self, sd, prefix, *args):
                sd.pop(prefix + "custom", None)  # the checkpoint-migration pattern
                sd.pop(prefix + "old_key", None)
                super()._load_from_state_dict(sd, prefix, *args)

        return L.nn.Sequential(M())

    t, a = _both(build)
    sd_t, sd_a = t.state_dict(), a.state_dict()
    assert list(sd_a) == list(sd_t) == ["0._extra_state", "0.custom", "0.lin.weight",
                                        "0.lin.bias"]
    assert sd_a._metadata == {"": {"version": 1}, "0": {"version": 1},
                              "0.lin": {"version": 1}} == dict(sd_t._metadata)
    b = build(ad)
    b[0].x = 0
    sd_a["0.old_key"] = ad.ones(1)
    assert repr(b.load_state_dict(sd_a)) == "<All keys matched successfully>"
    assert b[0].x == 5
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0._extra_state"'):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if "extra" not in k})


def test_state_dict_hooks():
    m = nn.Linear(2, 2)
    seen = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: seen.append(("pre", prefix)))
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: [sd.pop(prefix + "bias")] and None)
    m.register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, *rest: sd.setdefault(prefix + "bias", ad.zeros(2)))
    h = m.register_load_state_dict_post_hook(
        lambda mod, keys: seen.append(("post", list(keys.missing_keys))))
    sd = m.state_dict()
    assert list(sd) == ["weight"] and seen == [("pre", "")]
    m.load_state_dict(sd)
    assert seen[-1] == ("post", []) and m.bias.tolist() == [0.0, 0.0]
    h.remove()
    m.load_state_dict(sd)
    assert len(seen) == 2  # the removed hook did not run


def test_apply_override_converts_a_cache():
    def build(L):
        class Cache(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.cache = L.ones(3)

            def _apply(self, fn, *args, **kwargs):
                self.cache = fn(self.cache)
                return super()._apply(fn, *args, **kwargs)

        return L.nn.Sequential(Cache()).double()

    t, a = _both(build)
    assert a[0].cache.dtype is ad.float64 and t[0].cache.dtype is torch.float64


def test_batchnorm_loads_a_state_dict_without_num_batches_tracked():
    src = nn.BatchNorm1d(3)
    src.running_mean.fill_(2.0)
    sd = {k: v for k, v in src.state_dict().items() if k != "num_batches_tracked"}
    dst = nn.BatchNorm1d(3)
    dst.num_batches_tracked.fill_(7)
    assert repr(dst.load_state_dict(sd)) == "<All keys matched successfully>"  # plain dict
    assert dst.num_batches_tracked.item() == 0 and dst.running_mean.tolist() == [2.0] * 3
    with_meta = src.state_dict()
    del with_meta["num_batches_tracked"]  # version 2 metadata: it is really missing
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        dst.load_state_dict(with_meta)


def test_one_element_checkpoint_loads_into_a_scalar():
    m = nn.Module()
    m.register_buffer("scale", ad.tensor(1.0))
    m.load_state_dict({"scale": ad.tensor([3.0])})
    assert m.scale.shape == () and m.scale.item() == 3.0


def test_forward_hooks_with_kwargs_prepend_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, *, k=1.0):
            if k < 0:
                raise ValueError("negative k")
            return x * k

    m, order = Scale(), []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"k": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs["k"])),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    assert m(ad.ones(2), k=2.0).tolist() == [3.0, 3.0]
    assert order == ["first", ("kw", 3.0)]
    calls = []
    m2 = Scale()
    m2.register_forward_hook(lambda mod, args, out: calls.append(out), always_call=True)
    m2.register_forward_hook(lambda mod, args, out: calls.append("plain"))
    with pytest.raises(ValueError, match="negative k"):
        m2(ad.ones(1), k=-1.0)
    assert calls == [None]
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 1, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"\(new_args, new_kwargs\)"):
        bad(ad.ones(1))


@pytest.mark.parametrize("register", [
    lambda m: m.add_module("weight", nn.ReLU()),
    lambda m: m.register_buffer("forward", ad.ones(1)),
    lambda m: m.register_parameter("forward", None),
    lambda m: m.add_module("a.b", nn.ReLU()),
    lambda m: m.add_module("", nn.ReLU()),
])
def test_member_names_are_checked_as_in_pytorch(register):
    m = nn.Linear(1, 1)
    with pytest.raises(KeyError):
        register(m)
    assert isinstance(m.weight, nn.Parameter)


def test_containers():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ml[5] = nn.Sigmoid()
    ml[-1] = nn.Sigmoid()
    assert [type(m).__name__ for m in ml] == ["ReLU", "Sigmoid"]
    both = ml + nn.ModuleList([nn.Tanh()])
    assert [type(m).__name__ for m in both] == ["ReLU", "Sigmoid", "Tanh"]
    assert type(both.pop()).__name__ == "Tanh" and len(both) == 2
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    twice = seq * 2
    assert len(twice) == 4 and twice[2] is seq[0] and len(2 * seq) == 4
    seq *= 3
    assert list(seq._modules) == [str(i) for i in range(6)]
    with pytest.raises(ValueError):
        seq * 0


def test_type_to_empty_and_share_memory():
    m = nn.BatchNorm1d(2)
    m.type(ad.float64)
    assert m.weight.dtype is ad.float64 and m.num_batches_tracked.dtype is ad.float64
    m.to_empty(device="numpy")
    assert m.weight.shape == (2,) and m.share_memory() is m
    assert nn.init._calculate_correct_fan(ad.empty(3, 5), "fan_in") == 5


@pytest.mark.parametrize("bad, error", [
    (lambda: nn.init.uniform_(ad.empty(3), 1, 0), RuntimeError),
    (lambda: nn.init.normal_(ad.empty(3), 0, -1), RuntimeError),
    (lambda: nn.init.trunc_normal_(ad.empty(3), a=1, b=0), RuntimeError),
    (lambda: nn.init.normal_(ad.zeros(3, dtype=ad.int64)), NotImplementedError),
    (lambda: nn.Parameter(ad.zeros(3, dtype=ad.int64)), RuntimeError),
])
def test_invalid_init_arguments_raise(bad, error):
    with pytest.raises(error):
        bad()


def test_integer_parameter_without_grad():
    p = nn.Parameter(ad.zeros(3, dtype=ad.int64), requires_grad=False)
    assert p.requires_grad is False


@pytest.mark.parametrize("a, b", [(-0.2, 0.2), (2.0, 3.0), (-2.0, 2.0)])
def test_trunc_normal_matches_pytorchs_distribution(a, b):
    ours = nn.init.trunc_normal_(ad.empty(200_000), a=a, b=b, generator=ad.Generator()
                                 .manual_seed(0)).numpy()
    theirs = torch.nn.init.trunc_normal_(torch.empty(200_000), a=a, b=b).numpy()
    assert ours.min() >= a and ours.max() <= b
    assert np.mean(ours == a) < 1e-4 and np.mean(ours == b) < 1e-4  # no mass at the bounds
    assert abs(ours.mean() - theirs.mean()) < 0.01 and abs(ours.std() - theirs.std()) < 0.01


def test_deepcopy_of_a_parameter_drops_its_grad():
    m = nn.Linear(2, 2)
    m(ad.ones(1, 2)).sum().backward()
    c = copy.deepcopy(m)
    assert c.weight.grad is None and m.weight.grad is not None
    np.testing.assert_array_equal(c.weight.numpy(), m.weight.numpy())
