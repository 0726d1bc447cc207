"""Module system, init, utils, LoRA and our own layers (PositionalEncoding, attention,
ClusterNorm)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from nn_helpers import gradcheck_module

import autodiff as ad
import autodiff.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2, bias=False))

    def forward(self, x):
        return self.head(self.bn(self.fc(x)))


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(ad.randn(2, 3))
    assert isinstance(p, ad.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:")
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q is not p and q.tolist() == p.tolist()


def test_registration_and_iterators_are_generators():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc.weight", "fc.bias", "bn.weight", "bn.bias", "head.1.weight"]
    assert not isinstance(net.parameters(), list)
    assert [n for n, _ in net.named_buffers()] == ["bn.running_mean", "bn.running_var",
                                                   "bn.num_batches_tracked"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "bn", "head", "head.0", "head.1"]
    assert len(list(net.children())) == 3


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    a(ad.randn(5, 3))
    b.load_state_dict(a.state_dict())
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(x.cpu().numpy(), y.cpu().numpy()), k
    sd = a.state_dict()
    sd.pop("fc.bias")
    sd["extra"] = ad.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc.bias"'
                                           r'.*\n.*Unexpected key\(s\) in state_dict: "extra"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc.bias"] and res.unexpected_keys == ["extra"]
    sd = a.state_dict()
    sd["fc.weight"] = ad.zeros(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        b.load_state_dict(sd, strict=False)


def test_state_dict_loads_pytorch_arrays(torch):
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3))
    ours = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_to_keeps_parameter_identity(cpu_device):
    net = Net()
    params = list(net.parameters())
    net(ad.randn(4, 3)).sum().backward()
    net.to(ad.float64).to(cpu_device)
    assert all(p is q for p, q in zip(params, net.parameters()))
    assert all(p.dtype is ad.float64 and str(p.device) == cpu_device for p in params)
    assert params[0].grad.dtype is ad.float64
    assert net.bn.running_mean.dtype is ad.float64
    assert net.bn.num_batches_tracked.dtype is ad.int64


def test_train_eval_zero_grad_apply_hooks_requires_grad():
    net = Net()
    net.eval()
    assert not net.training and not net.head[1].training
    net.train()
    net(ad.randn(4, 3)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net"
    h = net.fc.register_forward_hook(lambda m, i, o: o * 0)
    assert float(net.fc(ad.ones(1, 3)).abs().sum().item()) == 0.0
    h.remove()
    assert float(net.fc(ad.ones(1, 3)).abs().sum().item()) != 0.0
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_repr_prints_tree_with_arguments():
    r = repr(Net())
    assert "(fc): Linear(in_features=3, out_features=4, bias=True)" in r
    assert "(bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True" in r
    assert "(head): Sequential(\n    (0): ReLU()" in r


def test_containers():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Tanh())
    assert len(ml) == 3 and isinstance(ml[-1], nn.Tanh)
    md = nn.ModuleDict({"a": nn.Linear(2, 3)})
    assert "a" in md and len(list(md.parameters())) == 2
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2


def test_wrong_input_shape_errors():
    with pytest.raises(ValueError, match=r"Linear: expected input with last dimension 4 "
                                         r"\(in_features\), got shape \(2, 5\)"):
        nn.Linear(4, 2)(ad.randn(2, 5))
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, 3,"):
        nn.Conv2d(3, 4, 3)(ad.randn(1, 2, 5, 5))
    with pytest.raises(ValueError, match="BatchNorm2d: expected a 4-D input with 3 channels"):
        nn.BatchNorm2d(3)(ad.randn(2, 4, 2, 2))
    with pytest.raises(ValueError, match="LayerNorm: expected input with trailing shape"):
        nn.LayerNorm(4)(ad.randn(2, 3))


def test_init_functions():
    w = ad.empty(200, 100)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 100)
    assert float(w.abs().max().item()) <= bound + 1e-6
    nn.init.xavier_normal_(w)
    assert abs(float(w.std().item()) - math.sqrt(2 / 300)) < 0.01
    nn.init.orthogonal_(w)
    np.testing.assert_allclose((w.t() @ w).cpu().numpy(), np.eye(100), atol=1e-4)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert math.isclose(nn.init.calculate_gain("leaky_relu", 0.2), math.sqrt(2 / 1.04))
    nn.init.constant_(w, 0.5)
    assert float(w.mean().item()) == 0.5
    ad.manual_seed(1)
    a = nn.Linear(3, 3).weight.tolist()
    ad.manual_seed(1)
    assert nn.Linear(3, 3).weight.tolist() == a


def test_clip_and_vector_utils():
    net = nn.Linear(3, 2)
    net(ad.randn(4, 3) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    assert float(total.item()) > 1.0
    norm = math.sqrt(sum(float((p.grad * p.grad).sum().item()) for p in net.parameters()))
    assert abs(norm - 1.0) < 1e-3
    nn.utils.clip_grad_value_(net.parameters(), 0.01)
    assert all(float(p.grad.abs().max().item()) <= 0.01 + 1e-7 for p in net.parameters())
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert tuple(vec.shape) == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, net.parameters())
    assert float(net.weight.sum().item()) == 6.0


def test_lora_linear_and_apply_lora():
    base = nn.Linear(5, 3)
    x = ad.randn(2, 5)
    before = base(x).tolist()
    lora = nn.utils.lora.LoRALinear(base, r=2, alpha=4)
    assert tuple(lora.A.shape) == (2, 5) and tuple(lora.B.shape) == (3, 2)
    assert lora(x).tolist() == before  # B = 0
    with ad.no_grad():
        lora.B.fill_(0.1)
    y = lora(x)
    y.sum().backward()
    assert base.weight.grad is None and lora.A.grad is not None
    lora.merge()
    np.testing.assert_allclose(base(x).cpu().numpy(), y.detach().cpu().numpy(), atol=1e-5)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    nn.utils.lora.apply_lora(model, r=2, alpha=2, target=["0"])
    assert isinstance(model[0], nn.utils.lora.LoRALinear) and isinstance(model[2], nn.Linear)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["0.A", "0.B"]


def test_positional_encoding_formula(cpu_device):
    pe = nn.PositionalEncoding(6, max_len=10).to(cpu_device)
    out = pe(ad.zeros(1, 4, 6, device=cpu_device)).numpy()[0]
    i, j = 3, 1
    assert math.isclose(out[i, 2 * j], math.sin(i / 10000 ** (2 * j / 6)), rel_tol=1e-5)
    assert math.isclose(out[i, 2 * j + 1], math.cos(i / 10000 ** (2 * j / 6)), rel_tol=1e-5)
    assert "P" not in pe.state_dict()


def test_dot_product_and_additive_attention_mask(cpu_device):
    q, k, v = ad.randn(2, 3, 4), ad.randn(2, 5, 4), ad.randn(2, 5, 6)
    lens = ad.tensor([2, 5])
    att = nn.DotProductAttention()
    out = att(q, k, v, lens)
    assert tuple(out.shape) == (2, 3, 6)
    w = att.attention_weights.cpu().numpy()
    assert np.allclose(w[0, :, 2:], 0) and np.allclose(w.sum(-1), 1)
    add = nn.AdditiveAttention(4, 4, 8)
    assert tuple(add(q, k, v, lens).shape) == (2, 3, 6)
    assert np.allclose(add.attention_weights.cpu().numpy()[0, :, 2:], 0)
    gradcheck_module(nn.AdditiveAttention(2, 3, 4),
                     [np.random.randn(1, 2, 2), np.random.randn(1, 3, 3),
                      np.random.randn(1, 3, 2)], cpu_device)


def test_cluster_norm(cpu_device):
    ad.manual_seed(0)
    cn = nn.ClusterNorm(3, num_clusters=2).to(cpu_device)
    a = ad.randn(8, 3, device=cpu_device) + 10
    b = ad.randn(8, 3, device=cpu_device) - 10
    x = ad.cat([a, b])
    y = cn(x)
    assert tuple(y.shape) == (16, 3)
    # each cluster is normalized with its own statistics
    np.testing.assert_allclose(y[:8].numpy().mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(y[8:].numpy().mean(0), 0, atol=1e-4)
    assert int(cn.num_batches_tracked.item()) == 1
    cn.eval()
    assert tuple(cn(ad.randn(4, 3, 2, device=cpu_device)).shape) == (4, 3, 2)
    cn.train()
    cn.to(ad.float64)
    xs = np.concatenate([np.random.randn(3, 3, 2) + 5, np.random.randn(3, 3, 2) - 5])
    gradcheck_module(cn, [xs], cpu_device)

