"""Every model of the zoo runs forward and backward on a tiny input, with the expected
output shape, finite values and a gradient on every parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

from .conftest import need_nn


def _check(model, *inputs, out_shape=None, loss_fn=None):
    out = model(*inputs)
    logits = out[0] if isinstance(out, tuple) else out
    if out_shape is not None:
        assert tuple(logits.shape) == out_shape
    loss = loss_fn(out) if loss_fn else (logits * logits).mean()
    loss.backward()
    assert math.isfinite(float(loss))
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert np.isfinite(p.grad.detach().cpu().numpy()).all(), name
    return out


def _img(n=2, c=3, s=16):
    return ad.randn(n, c, s, s)


def test_mlp():
    need_nn("Linear", "Sequential")
    from autodiff.models import MLP

    m = MLP(64, [32, 16], 10, dropout=0.1)
    assert sum(p.numel() for p in m.parameters()) == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    _check(m, ad.randn(5, 64), out_shape=(5, 10))


def test_lenet5():
    need_nn("Conv2d", "MaxPool2d")
    from autodiff.models import LeNet5

    _check(LeNet5(10, input_size=8), _img(3, 1, 8), out_shape=(3, 10))
    _check(LeNet5(10, input_size=28), _img(2, 1, 28), out_shape=(2, 10))


def test_alexnet_and_vgg16_small():
    need_nn("Conv2d", "AdaptiveAvgPool2d", "Dropout")
    from autodiff.models import VGG16, AlexNet

    m = AlexNet(7, width=1 / 16, pool_size=1)
    _check(m, _img(2, 3, 63), out_shape=(2, 7))
    v = VGG16(5, width=1 / 16, pool_size=1, batch_norm=True)
    assert sum(isinstance(x, ad.nn.Conv2d) for x in v.modules()) == 13
    assert sum(isinstance(x, ad.nn.Linear) for x in v.modules()) == 3
    _check(v, _img(2, 3, 32), out_shape=(2, 5))


@pytest.mark.parametrize("se", [None, 4])
def test_resnet(se):
    need_nn("Conv2d", "BatchNorm2d")
    from autodiff.models import resnet18

    m = resnet18(num_classes=4, width=4, small_input=True, se_reduction=se)
    assert sum(isinstance(x, ad.nn.Conv2d) and x.kernel_size == (3, 3)
               for x in m.modules()) == 17  # the 17 3x3 convs of ResNet-18
    _check(m, _img(2, 3, 16), out_shape=(2, 4))
    _check(resnet18(num_classes=3, width=4), _img(1, 3, 64), out_shape=(1, 3))


def test_se_block_gates_channels():
    need_nn("Conv2d", "AdaptiveAvgPool2d")
    from autodiff.models import SEBlock

    se = SEBlock(8, reduction=4)
    x = _img(2, 8, 5)
    y = _check(se, x, out_shape=(2, 8, 5, 5))
    ratio = (y / x).detach().cpu().numpy()  # one gate in (0, 1) per (sample, channel)
    assert np.allclose(ratio, ratio[:, :, :1, :1], atol=1e-5) and (ratio > 0).all()
    assert (ratio < 1).all()


def test_inception():
    need_nn("Conv2d", "MaxPool2d")
    from autodiff.models import Inception, InceptionNet

    block = Inception(8, 4, (4, 6), (2, 3), 5)
    _check(block, _img(2, 8, 6), out_shape=(2, 18, 6, 6))
    _check(InceptionNet(6, width=1 / 16), _img(2, 3, 8), out_shape=(2, 6))


@pytest.mark.parametrize("memory_efficient", [False, True])
def test_densenet(memory_efficient):
    need_nn("Conv2d", "BatchNorm2d", "AvgPool2d")
    from autodiff.models import DenseNet

    m = DenseNet(4, (2, 2), 8, num_classes=3, small_input=True,
                 memory_efficient=memory_efficient)
    _check(m, _img(2, 3, 8), out_shape=(2, 3))


@pytest.mark.parametrize("version", [1, 2])
def test_shufflenet(version):
    need_nn("Conv2d", "ChannelShuffle")
    from autodiff.models import ShuffleNet, ShuffleV1Unit, ShuffleV2Unit

    _check(ShuffleV1Unit(12, 12, groups=3), _img(2, 12, 6), out_shape=(2, 12, 6, 6))
    _check(ShuffleV1Unit(12, 24, groups=3, stride=2), _img(2, 12, 6), out_shape=(2, 24, 3, 3))
    _check(ShuffleV2Unit(8, 8), _img(2, 8, 6), out_shape=(2, 8, 6, 6))
    _check(ShuffleV2Unit(8, 16, stride=2), _img(2, 8, 6), out_shape=(2, 16, 3, 3))
    m = ShuffleNet(version, stage_channels=(24, 48), stage_repeats=(2, 1), num_classes=5,
                   stem_channels=12)
    _check(m, _img(2, 3, 8), out_shape=(2, 5))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnn_language_model(cell):
    need_nn("Embedding", {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell])
    from autodiff.models import RNNLanguageModel

    lm = RNNLanguageModel(11, 8, 8, num_layers=2, cell=cell, dropout=0.1, tie_weights=True)
    tokens = ad.randint(0, 11, (3, 5))
    _, state = _check(lm, tokens, out_shape=(3, 5, 11))
    h = state[0] if cell == "lstm" else state
    assert tuple(h.shape) == (2, 3, 8)
    assert lm.decoder.weight is lm.embedding.weight


def test_gpt():
    need_nn("TransformerEncoderLayer", "TransformerEncoder", "Embedding", "PositionalEncoding")
    from autodiff.models import GPT

    gpt = GPT(13, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, max_len=16)
    tokens = ad.randint(0, 13, (2, 6))
    _check(gpt, tokens, out_shape=(2, 6, 13))
    # causal: changing a later token leaves earlier logits unchanged
    gpt.eval()
    a = gpt(tokens).detach().cpu().numpy()
    t2 = tokens.clone()
    t2[:, 4] = (t2[:, 4] + 1) % 13
    b = gpt(t2).detach().cpu().numpy()
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-5)
    assert not np.allclose(a[:, 4:], b[:, 4:])
    out = gpt.generate(tokens[:, :2], 5, top_k=3)
    assert tuple(out.shape) == (2, 7) and int(out.max()) < 13


def test_seq2seq_transformer():
    need_nn("Transformer", "Embedding", "PositionalEncoding")
    from autodiff.models import Seq2SeqTransformer

    m = Seq2SeqTransformer(9, 7, d_model=16, nhead=2, num_encoder_layers=1,
                           num_decoder_layers=1, dim_feedforward=32, dropout=0.0)
    src, tgt = ad.randint(0, 9, (2, 6)), ad.randint(0, 7, (2, 4))
    _check(m, src, tgt, out_shape=(2, 4, 7))
    m.eval()
    assert tuple(m.greedy_decode(src, bos=0, max_len=3).shape) == (2, 4)


@pytest.mark.parametrize("kind", ["SkipGram", "CBOW"])
def test_word2vec(kind):
    need_nn("Embedding")
    import autodiff.models as M

    m = getattr(M, kind)(20, 8)
    # skip-gram takes (center (N,), context (N,)); CBOW takes (context (N, 2W), target (N,))
    first = ad.randint(0, 20, (6,) if kind == "SkipGram" else (6, 4))
    loss = m(first, ad.randint(0, 20, (6,)), ad.randint(0, 20, (6, 3)))
    # zero output table at init: every score is 0, so the loss is (1 + K) log 2
    assert float(loss) == pytest.approx(4 * math.log(2), rel=1e-5)
    loss.backward()
    assert m.out_embed.weight.grad is not None
    assert tuple(m.embeddings.shape) == (20, 8)
