"""nn.utils.prune against torch.nn.utils.prune (same weights in both, float64): the masks of
every deterministic method, iterative (combined) pruning, global pruning, remove, is_pruned,
state_dict keys and values both ways, the forward output, training through the mask, and the
errors for bad amounts; plus module-level behaviour without PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn as nn
from autodiff.nn.utils import prune

INF = float("inf")
RNG = np.random.default_rng(0)
X_LIN = RNG.standard_normal((3, 6))
X_CONV = RNG.standard_normal((2, 4, 7, 7))

LAYERS = {  # name: (ours, theirs' constructor name and arguments, input)
    "linear": (lambda: nn.Linear(6, 5), ("Linear", (6, 5)), X_LIN),
    "conv2d": (lambda: nn.Conv2d(4, 5, 3), ("Conv2d", (4, 5, 3)), X_CONV),
}


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune  # noqa: F401  (not imported by torch.nn.utils itself)

    return torch


def _pair(torch, layer: str, device: str | None = None):
    """Ours and PyTorch's layer in float64 with the same weights, and the input."""
    make, (cls, args), x = LAYERS[layer]
    theirs = getattr(torch.nn, cls)(*args).double()
    ours = make().to(ad.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return (ours.to(device) if device else ours), theirs, x


def _np(t) -> np.ndarray:
    return t.detach().numpy() if hasattr(t, "numpy") else np.asarray(t)


def _same_state(ours, theirs) -> None:
    """Equal state_dict keys (in order) and values; equal pruned attributes."""
    a, t = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(t)
    for k in a:
        np.testing.assert_array_equal(_np(a[k]), t[k].numpy(), err_msg=k)
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(_np(getattr(ours, name)), _np(getattr(theirs, name)))


def _same_forward(ours, theirs, x, torch) -> None:
    device = next(ours.parameters()).device
    np.testing.assert_allclose(_np(ours(ad.tensor(x, device=device))), _np(theirs(torch.tensor(x))),
                               rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------- single methods vs torch
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
@pytest.mark.parametrize("amount", [0, 7, 0.3, 1.0])
def test_l1_unstructured_matches_torch(layer, amount, cpu_device, torch):
    ours, theirs, x = _pair(torch, layer, cpu_device)
    assert prune.l1_unstructured(ours, "weight", amount=amount) is ours
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=amount)
    _same_state(ours, theirs)
    _same_forward(ours, theirs, x, torch)
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in ours.named_buffers()] == ["weight_mask"]
    assert "weight" not in ours._parameters and isinstance(ours.weight, ad.Tensor)


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_l1_unstructured_importance_scores_matches_torch(layer, torch):
    ours, theirs, _ = _pair(torch, layer)
    scores = RNG.standard_normal(tuple(theirs.weight.shape))
    prune.l1_unstructured(ours, "weight", amount=0.4, importance_scores=ad.tensor(scores))
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.4,
                                         importance_scores=torch.tensor(scores))
    _same_state(ours, theirs)


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("n", [1, 2, INF, -INF])
def test_ln_structured_matches_torch(layer, dim, n, torch):
    ours, theirs, x = _pair(torch, layer)
    prune.ln_structured(ours, "weight", amount=0.4, n=n, dim=dim)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=0.4, n=n, dim=dim)
    _same_state(ours, theirs)
    _same_forward(ours, theirs, x, torch)
    assert (ours.weight_mask.numpy().sum(axis=tuple(
        d for d in range(ours.weight.ndim) if d != dim % ours.weight.ndim)) == 0).sum() >= 1


def test_ln_structured_importance_scores_matches_torch(torch):
    ours, theirs, _ = _pair(torch, "conv2d")
    scores = RNG.standard_normal(tuple(theirs.weight.shape))
    prune.ln_structured(ours, "weight", 2, n=1, dim=0, importance_scores=ad.tensor(scores))
    torch.nn.utils.prune.ln_structured(theirs, "weight", 2, n=1, dim=0,
                                       importance_scores=torch.tensor(scores))
    _same_state(ours, theirs)


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_custom_from_mask_and_identity_match_torch(layer, torch):
    ours, theirs, x = _pair(torch, layer)
    mask = (RNG.random(tuple(theirs.bias.shape)) > 0.5).astype(np.int64)
    prune.custom_from_mask(ours, "bias", mask=ad.tensor(mask))
    torch.nn.utils.prune.custom_from_mask(theirs, "bias", mask=torch.tensor(mask))
    prune.identity(ours, "weight")
    torch.nn.utils.prune.identity(theirs, "weight")
    _same_state(ours, theirs)
    _same_forward(ours, theirs, x, torch)
    assert ours.bias_mask.dtype == ad.float64


# ------------------------------------------------------------------------ global pruning
def _nets(torch):
    """A Conv2d -> Flatten -> Linear -> Linear stack in both frameworks, same weights."""
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.Flatten(),
                                 torch.nn.Linear(12, 4), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(12, 4),
                         nn.Linear(4, 2)).to(ad.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _targets(net) -> list:
    return [(net[0], "weight"), (net[2], "weight"), (net[3], "weight"), (net[3], "bias")]


@pytest.mark.parametrize("amount", [20, 0.45])
def test_global_unstructured_matches_torch(amount, torch):
    ours, theirs = _nets(torch)
    prune.global_unstructured(iter(_targets(ours)), pruning_method=prune.L1Unstructured,
                              amount=amount)
    torch.nn.utils.prune.global_unstructured(
        _targets(theirs), pruning_method=torch.nn.utils.prune.L1Unstructured, amount=amount)
    for a, t in zip(ours, theirs):
        if not isinstance(a, nn.Flatten):
            _same_state(a, t)
    x = RNG.standard_normal((2, 2, 4, 4))
    _same_forward(ours, theirs, x, torch)
    zeros = sum(int((b.numpy() == 0).sum()) for b in ours.buffers())
    total = sum(m.get_parameter(n + "_orig").numel() for m, n in _targets(ours))
    assert zeros == (amount if isinstance(amount, int) else round(amount * total))


def test_global_unstructured_importance_scores_and_repeat_match_torch(torch):
    ours, theirs = _nets(torch)
    scores = RNG.standard_normal((4, 12))
    TP = torch.nn.utils.prune
    prune.l1_unstructured(ours[2], "weight", amount=5)  # a pruned member: only its rest counts
    TP.l1_unstructured(theirs[2], "weight", amount=5)
    prune.global_unstructured(_targets(ours), prune.L1Unstructured, amount=15,
                              importance_scores={(ours[2], "weight"): ad.tensor(scores)})
    TP.global_unstructured(_targets(theirs), TP.L1Unstructured, amount=15,
                           importance_scores={(theirs[2], "weight"): torch.tensor(scores)})
    for i in (0, 2, 3):
        _same_state(ours[i], theirs[i])
    (hook,) = ours[2]._forward_pre_hooks.values()
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2


# ---------------------------------------------------------------------- iterative pruning
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
@pytest.mark.parametrize("order", ["l1_then_ln", "ln_then_l1", "ln_twice"])
def test_iterative_pruning_combines_masks_as_torch(layer, order, torch):
    ours, theirs, x = _pair(torch, layer)
    steps = {"l1_then_ln": [("l1_unstructured", dict(amount=0.3)),
                            ("ln_structured", dict(amount=2, n=2, dim=0))],
             "ln_then_l1": [("ln_structured", dict(amount=1, n=1, dim=1)),
                            ("l1_unstructured", dict(amount=6))],
             "ln_twice": [("ln_structured", dict(amount=1, n=INF, dim=0)),
                          ("ln_structured", dict(amount=0.5, n=2, dim=0))]}[order]
    for fn, kw in steps:
        getattr(prune, fn)(ours, "weight", **kw)
        getattr(torch.nn.utils.prune, fn)(theirs, "weight", **kw)
        _same_state(ours, theirs)
    _same_forward(ours, theirs, x, torch)
    (hook,) = ours._forward_pre_hooks.values()
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    assert [type(m).__name__ for m in hook] == [
        "L1Unstructured" if fn == "l1_unstructured" else "LnStructured" for fn, _ in steps]


# ------------------------------------------------------------- remove, state_dict, training
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_remove_matches_torch(layer, torch):
    ours, theirs, x = _pair(torch, layer)
    prune.l1_unstructured(ours, "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    prune.ln_structured(ours, "weight", amount=1, n=2, dim=0)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=1, n=2, dim=0)
    orig = ours.weight_orig
    assert prune.is_pruned(ours) and torch.nn.utils.prune.is_pruned(theirs)
    assert prune.remove(ours, "weight") is ours
    torch.nn.utils.prune.remove(theirs, "weight")
    _same_state(ours, theirs)
    _same_forward(ours, theirs, x, torch)
    assert ours.weight is orig and isinstance(ours.weight, nn.Parameter)
    assert not ours._forward_pre_hooks and not list(ours.buffers())
    assert not prune.is_pruned(ours) and not torch.nn.utils.prune.is_pruned(theirs)


def test_state_dict_round_trips_with_torch(torch):
    ours, theirs, x = _pair(torch, "conv2d")
    prune.ln_structured(ours, "weight", amount=2, n=1, dim=0)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.6)  # a different mask
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    _same_forward(ours, theirs, x, torch)  # the hook rebuilds weight from the loaded tensors
    _same_state(ours, theirs)
    back = torch.nn.Conv2d(4, 5, 3).double()
    torch.nn.utils.prune.identity(back, "weight")
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    _same_forward(ours, back, x, torch)


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_training_updates_orig_only_where_unmasked(layer, cpu_device, torch):
    ours, theirs, x = _pair(torch, layer, cpu_device)
    prune.l1_unstructured(ours, "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    before = ours.weight_orig.numpy().copy()
    opt_a = ad.optim.SGD(ours.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(2):
        (ours(ad.tensor(x, device=cpu_device)) ** 2).sum().backward()
        (theirs(torch.tensor(x)) ** 2).sum().backward()
        opt_a.step(), opt_t.step(), opt_a.zero_grad(), opt_t.zero_grad()
    mask = ours.weight_mask.numpy()
    after = ours.weight_orig.numpy()
    np.testing.assert_array_equal(after[mask == 0], before[mask == 0])
    assert (after[mask == 1] != before[mask == 1]).all()
    np.testing.assert_allclose(after, theirs.weight_orig.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    _same_forward(ours, theirs, x, torch)  # the pre-hook refreshed weight


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("amount, err", [(-1, ValueError), (1.5, ValueError), (-0.1, ValueError),
                                         ("a", TypeError), (None, TypeError)])
def test_bad_amount_raises_as_torch(amount, err, torch):
    for mod, lin in ((prune, nn.Linear(3, 2)), (torch.nn.utils.prune, torch.nn.Linear(3, 2))):
        for call in (lambda: mod.l1_unstructured(lin, "weight", amount=amount),
                     lambda: mod.ln_structured(lin, "weight", amount=amount, n=2, dim=0),
                     lambda: mod.RandomUnstructured(amount)):
            with pytest.raises(err, match="amount"):
                call()
        assert not mod.is_pruned(lin) and "weight" in lin._parameters


def test_errors_match_torch(torch):
    TP = torch.nn.utils.prune
    for mod, lib in ((prune, nn), (TP, torch.nn)):
        lin = lib.Linear(3, 2)
        with pytest.raises(ValueError, match="smaller than the number of parameters"):
            mod.l1_unstructured(lin, "weight", amount=7)
        with pytest.raises(ValueError, match="smaller than the number of parameters"):
            mod.random_structured(lin, "weight", amount=3, dim=0)
        with pytest.raises(IndexError, match="Invalid index 2"):
            mod.ln_structured(lin, "weight", amount=1, n=2, dim=2)
        with pytest.raises(ValueError, match="Structured pruning can only be applied"):
            mod.ln_structured(lin, "bias", amount=1, n=2, dim=0)
        with pytest.raises(AssertionError, match="importance_scores should have the same"):
            mod.l1_unstructured(lin, "weight", 1, importance_scores=lin.weight[:1])
        assert sorted(dict(lin.named_parameters())) == ["bias", "weight"]  # rolled back
        assert not mod.is_pruned(lin) and not list(lin.buffers())
        with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
            mod.global_unstructured([(lin, "weight")], mod.RandomStructured, amount=1)
        with pytest.raises(TypeError, match="not an Iterable"):
            mod.global_unstructured(3, mod.L1Unstructured, amount=1)
        with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
            mod.remove(lin, "weight")
    with pytest.raises(ValueError):  # also a ValueError here
        prune.l1_unstructured(nn.Linear(3, 2), "weight", 1, importance_scores=ad.ones(2))


# ------------------------------------------------------------------- without PyTorch
def test_module_behaviour_without_torch():
    ad.manual_seed(0)
    lin = nn.Linear(4, 3)
    w = lin.weight.numpy().copy()
    prune.l1_unstructured(lin, "weight", amount=5)
    mask = lin.weight_mask.numpy()
    assert mask.sum() == 7 and set(np.unique(mask)) == {0.0, 1.0}
    assert np.abs(w[mask == 0]).max() < np.abs(w[mask == 1]).min()
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    with ad.no_grad():
        lin.weight_orig.fill_(2.0)  # the pre-hook refreshes weight before the next forward
    x = ad.randn(2, 4)
    np.testing.assert_allclose(lin(x).numpy(), x.numpy() @ (2 * mask).T + lin.bias.numpy(),
                               rtol=1e-6)
    lin(x).sum().backward()
    np.testing.assert_array_equal(lin.weight_orig.grad.numpy() != 0, mask == 1)
    prune.random_unstructured(lin, "weight", amount=0.5)  # half of the 7 left: 4 (round)
    assert lin.weight_mask.numpy().sum() == 3
    assert (lin.weight_mask.numpy() <= mask).all()
    net = nn.Sequential(nn.Linear(2, 2), lin)
    assert prune.is_pruned(net) and not prune.is_pruned(nn.Sequential(nn.Linear(2, 2)))
    final = lin.weight_mask.numpy()
    prune.remove(lin, "weight")
    assert list(lin.state_dict()) == ["bias", "weight"] and not prune.is_pruned(net)
    np.testing.assert_array_equal(lin.weight.numpy(), 2 * final)


def test_random_methods_are_seeded_and_structured():
    def masks(seed):
        ad.manual_seed(seed)
        conv = nn.Conv2d(3, 6, 2)
        prune.random_structured(conv, "weight", amount=2, dim=0)
        prune.random_unstructured(conv, "bias", amount=0.5)
        return conv.weight_mask.numpy(), conv.bias_mask.numpy()

    (w1, b1), (w2, b2) = masks(1), masks(1)
    np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(b1, b2)
    channels = w1.reshape(6, -1)
    assert (channels.min(1) == channels.max(1)).all()  # whole channels
    assert channels.max(1).sum() == 4 and b1.sum() == 3


def test_pruning_method_api_without_torch():
    t = ad.tensor([[1.0, -3.0, 2.0], [0.5, 4.0, -0.1]])
    np.testing.assert_array_equal(prune.L1Unstructured(2).prune(t).numpy(),
                                  [[1.0, -3.0, 2.0], [0.0, 4.0, 0.0]])
    np.testing.assert_array_equal(
        prune.LnStructured(1, n=1, dim=-1).compute_mask(t, ad.ones(2, 3)).numpy(),
        [[0, 1, 1], [0, 1, 1]])  # column norms 1.5, 7, 2.1
    assert prune.L1Unstructured.PRUNING_TYPE == "unstructured"
    assert prune.LnStructured.PRUNING_TYPE == prune.RandomStructured.PRUNING_TYPE == "structured"
    assert prune.CustomFromMask.PRUNING_TYPE == "global"
    with pytest.raises(TypeError):
        prune.BasePruningMethod()  # abstract: compute_mask is missing
    a, b = prune.L1Unstructured(1), prune.Identity()
    a._tensor_name = b._tensor_name = "weight"
    container = prune.PruningContainer(a, b)
    assert len(container) == 2 and container[0] is a and container._tensor_name == "weight"
    c = prune.Identity()
    c._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on"):
        container.add_pruning_method(c)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        container.add_pruning_method(3)
