"""PyTorch tutorial programs, ported: each program is written once against the PyTorch API and
run twice, with ``lib`` = torch and ``lib`` = autodiff, from identical initial weights (copied
through NumPy) and identical data; losses, metrics, learning rates and final weights must agree.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

import functools
import operator

from torch.utils import data as torch_data

from autodiff.utils import data as ad_data

DATA = {torch: torch_data, ad: ad_data}


def _port(build, dtype="double"):
    """The same model built by both libraries, autodiff's loaded from PyTorch's weights."""
    torch.manual_seed(0)
    tm = getattr(build(torch), dtype)()
    am = getattr(build(ad), dtype)()
    am.load_state_dict({k: ad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, am


def _run(build, program, dtype="double", rtol=1e-9, atol=1e-10, state_atol=None):
    """Run ``program`` on both ports and compare what it returns and the final state dicts.
    ``state_atol``: Adam-like steps turn float32 rounding noise in a zero gradient (a bias
    before a norm) into an lr-sized step, so such weights agree only to about lr."""
    tm, am = _port(build, dtype)
    t, a = program(torch, tm), program(ad, am)
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(t, float), rtol=rtol, atol=atol)
    tsd, asd = tm.state_dict(), am.state_dict()
    assert list(asd) == list(tsd)
    for k, v in tsd.items():
        np.testing.assert_allclose(
            asd[k].numpy(),
            v.numpy(),
            rtol=rtol,
            err_msg=k,
            atol=atol if state_atol is None else state_atol,
        )
    return tm, am


# 1. MNIST-style MLP and CNN: TensorDataset + DataLoader, SGD (nesterov), train/eval, accuracy


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.0), nn.Linear(32, 10)
    )


def _cnn(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 8, 3)
            self.fc = nn.Linear(8 * 2 * 2, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)
            x = lib.flatten(F.relu(self.conv2(x)), 1)
            return F.log_softmax(self.fc(x), dim=1)

    return Net()


def _mnist(lib, model):
    nn, optim, data = lib.nn, lib.optim, DATA[lib]
    rng = np.random.default_rng(0)
    ds = data.TensorDataset(
        lib.tensor(rng.standard_normal((48, 1, 8, 8)).astype(np.float32)),
        lib.tensor(rng.integers(0, 10, 48)),
    )
    loader = data.DataLoader(ds, batch_size=16, shuffle=False)
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
    out = []
    for _ in range(2):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            out.append(loss.item())
        model.eval()
        correct = 0
        with lib.no_grad():
            for xb, yb in loader:
                _, predicted = lib.max(model(xb).data, 1)
                correct += (predicted == yb).sum().item()
        out.append(correct / len(ds))
    return out


@pytest.mark.parametrize("build", [_mlp, _cnn], ids=["mlp", "cnn"])
def test_mnist_classifier(dev, build):
    tm, am = _run(build, _mnist, "float", rtol=1e-4, atol=1e-5)
    buf = io.BytesIO()  # checkpoint round trip through autodiff's own (pickle-free) format
    ad.save({"model": am.state_dict(), "epoch": 2}, buf)
    buf.seek(0)
    ckpt = ad.load(buf)
    fresh = build(ad)
    assert ckpt["epoch"] == 2
    fresh.load_state_dict(ckpt["model"])
    x = ad.tensor(np.random.default_rng(1).standard_normal((4, 1, 8, 8)).astype(np.float32))
    fresh.eval(), am.eval()
    np.testing.assert_array_equal(fresh(x).detach().numpy(), am(x).detach().numpy())
    np.testing.assert_allclose(
        am(x).detach().numpy(), tm(torch.tensor(x.numpy())).detach().numpy(), rtol=1e-4, atol=1e-5
    )


def test_seeded_shuffle_is_reproducible(dev):
    ds = ad_data.TensorDataset(ad.arange(10))

    def epoch(seed):
        loader = ad_data.DataLoader(
            ds, batch_size=4, shuffle=True, generator=ad.Generator().manual_seed(seed)
        )
        return [b[0].tolist() for b in loader]

    assert epoch(0) == epoch(0) and [len(b) for b in epoch(0)] == [4, 4, 2]
    assert sorted(functools.reduce(operator.iadd, epoch(0), [])) == list(range(10))


# 2. Text classification: Embedding(padding_idx) + 2-layer bidirectional LSTM/GRU over packed
# sequences, clip_grad_norm_, Adam (amsgrad, weight decay), a learning-rate schedule


def _text_model(cell):
    def build(lib):
        nn, rnn_utils = lib.nn, lib.nn.utils.rnn

        class TextClassifier(nn.Module):
            def __init__(self, vocab=20, emb=8, hidden=6, classes=3):
                super().__init__()
                self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
                self.rnn = getattr(nn, cell)(
                    emb, hidden, num_layers=2, batch_first=True, bidirectional=True, dropout=0.0
                )
                self.fc = nn.Linear(2 * hidden, classes)

            def forward(self, text, lengths):
                packed = rnn_utils.pack_padded_sequence(
                    self.embedding(text), lengths, batch_first=True, enforce_sorted=False
                )
                out, h = self.rnn(packed)
                h = h[0] if isinstance(h, tuple) else h
                padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=True)
                return self.fc(lib.cat((h[-2], h[-1]), dim=1)), padded, out_lengths

        return TextClassifier()

    return build


def _text(schedule):
    def program(lib, model):
        nn, optim = lib.nn, lib.optim
        lengths = np.array([5, 3, 7, 2, 4])
        rng = np.random.default_rng(0)
        tokens = np.zeros((5, 7), dtype=np.int64)
        for i, n in enumerate(lengths):
            tokens[i, :n] = rng.integers(1, 20, n)
        text, lens, y = lib.tensor(tokens), lib.tensor(lengths), lib.tensor([0, 2, 1, 1, 0])
        opt = optim.Adam(
            model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=1e-3, amsgrad=True
        )
        sched = {
            "step": lambda: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
            "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-4),
            "onecycle": lambda: optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=6),
        }[schedule]()
        criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        out = []
        for _ in range(4):
            opt.zero_grad()
            logits, padded, out_lengths = model(text, lens)
            loss = criterion(logits, y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            opt.step()
            sched.step()
            out += [
                loss.item(),
                float(norm),
                sched.get_last_lr()[0],
                opt.param_groups[0]["lr"],
                padded.shape[1],
                padded.sum().item(),
                *out_lengths.tolist(),
            ]
        return out + [model.embedding.weight.grad[0].abs().sum().item()]

    return program


@pytest.mark.parametrize(
    "cell,schedule", [("LSTM", "step"), ("GRU", "cosine"), ("LSTM", "onecycle")]
)
def test_text_classifier(dev, cell, schedule):
    _run(_text_model(cell), _text(schedule))


# 3. A tiny transformer language model: positional encoding buffer, TransformerEncoder with
# causal and padding masks, MultiheadAttention weights, AdamW, cross_entropy(ignore_index,
# label_smoothing)


def _transformer(norm_first, activation):
    def build(lib):
        nn = lib.nn

        class PositionalEncoding(nn.Module):
            def __init__(self, d_model, max_len=16):
                super().__init__()
                position = lib.arange(max_len).unsqueeze(1)
                div_term = lib.exp(lib.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
                pe = lib.zeros(max_len, 1, d_model)
                pe[:, 0, 0::2] = lib.sin(position * div_term)
                pe[:, 0, 1::2] = lib.cos(position * div_term)
                self.register_buffer("pe", pe)

            def forward(self, x):
                return x + self.pe[: x.size(1)].transpose(0, 1)

        class LM(nn.Module):
            def __init__(self, ntoken=12, d_model=16, nhead=4):
                super().__init__()
                self.emb = nn.Embedding(ntoken, d_model)
                self.pos = PositionalEncoding(d_model)
                layer = nn.TransformerEncoderLayer(
                    d_model,
                    nhead,
                    dim_feedforward=32,
                    dropout=0.0,
                    batch_first=True,
                    norm_first=norm_first,
                    activation=activation,
                )
                self.encoder = nn.TransformerEncoder(
                    layer, num_layers=2, enable_nested_tensor=False
                )
                self.mha = nn.MultiheadAttention(d_model, nhead, batch_first=True)
                self.head = nn.Linear(d_model, ntoken)

            def forward(self, src, mask, pad):
                x = self.pos(self.emb(src) * math.sqrt(16))
                x = self.encoder(x, mask=mask, src_key_padding_mask=pad)
                y, w = self.mha(x, x, x, attn_mask=mask, key_padding_mask=pad)
                return self.head(x + y), w

        return LM()

    return build


def _lm(mask_kind):
    def program(lib, model):
        nn, F = lib.nn, lib.nn.functional
        rng = np.random.default_rng(0)
        tokens = rng.integers(1, 12, (3, 6))
        tokens[1, 4:] = 0
        tokens[2, 5:] = 0
        target = np.roll(tokens, -1, 1)
        target[:, -1] = 0
        src, tgt = lib.tensor(tokens), lib.tensor(target)
        n = src.size(1)
        dtype = model.head.weight.dtype
        mask = {
            "triu": lambda: lib.triu(lib.ones(n, n) * float("-inf"), diagonal=1).to(dtype),
            "generate": lambda: nn.Transformer.generate_square_subsequent_mask(n, dtype=dtype),
            "bool": lambda: lib.triu(lib.ones(n, n, dtype=lib.bool), diagonal=1),
        }[mask_kind]()
        pad = src == 0
        if mask_kind != "bool":  # a float padding mask, like the float causal one
            pad = lib.zeros(src.shape, dtype=dtype).masked_fill(pad, float("-inf"))
        opt = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
        out = []
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            logits, w = model(src, mask, pad)
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)),
                tgt.reshape(-1),
                ignore_index=0,
                label_smoothing=0.1,
            )
            loss.backward()
            opt.step()
            out += [loss.item(), w.sum().item(), w[0, 2].max().item()]
        return out + logits.detach().flatten()[:24].tolist()

    return program


@pytest.mark.parametrize(
    "norm_first,activation,mask_kind,dtype",
    [
        (False, "relu", "triu", "double"),
        (True, "gelu", "generate", "double"),
        (False, "gelu", "bool", "float"),
    ],
)
def test_transformer_lm(dev, norm_first, activation, mask_kind, dtype):
    tol = (
        {"rtol": 1e-9, "atol": 1e-10}
        if dtype == "double"
        else {"rtol": 1e-4, "atol": 1e-4, "state_atol": 3e-3}
    )
    _run(_transformer(norm_first, activation), _lm(mask_kind), dtype, **tol)


# 4. A convolutional autoencoder: strided Conv2d, BatchNorm2d (train, then eval running
# stats), MaxPool2d(return_indices) + MaxUnpool2d / Upsample / interpolate, ConvTranspose2d
# (output_padding), MSELoss, RMSprop


def _autoencoder(up):
    def build(lib):
        nn, F = lib.nn, lib.nn.functional

        class AE(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.Sequential(
                    nn.Conv2d(1, 4, 3, stride=2, padding=1),
                    nn.BatchNorm2d(4),
                    nn.LeakyReLU(0.2, inplace=True),
                )
                self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
                self.pool = nn.MaxPool2d(2, 2, return_indices=True)
                self.unpool = nn.MaxUnpool2d(2, 2)
                self.up = nn.Upsample(scale_factor=2, mode="nearest")
                self.dec = nn.Sequential(
                    nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
                    nn.BatchNorm2d(4, momentum=0.2),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(4, 1, 3, padding=1),
                    nn.Sigmoid(),
                )

            def forward(self, x):
                h = F.relu(self.conv2(self.enc(x)))
                p, idx = self.pool(h)
                if up == "unpool":
                    h = self.unpool(p, idx, output_size=h.size())
                elif up == "upsample":
                    h = self.up(p)
                else:
                    h = F.interpolate(p, size=h.shape[2:], mode="bilinear", align_corners=False)
                return self.dec(h)

        return AE()

    return build


def _reconstruct(lib, model):
    x = lib.tensor(np.random.default_rng(0).random((4, 1, 8, 8))).to(model.dec[3].weight.dtype)
    opt = lib.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, momentum=0.5)
    criterion = lib.nn.MSELoss()
    out = []
    model.train()
    for _ in range(3):
        opt.zero_grad()
        loss = criterion(model(x), x)
        loss.backward()
        opt.step()
        out.append(loss.item())
    model.eval()
    with lib.no_grad():
        out.append(criterion(model(x), x).item())
    return out + model.enc[0].weight.grad.flatten().tolist()


@pytest.mark.parametrize("up", ["unpool", "upsample", "interpolate"])
def test_conv_autoencoder(dev, up):
    _run(_autoencoder(up), _reconstruct)


# 5. A custom autograd.Function (ctx.save_for_backward, a non-tensor argument), tensor hooks,
# gradient accumulation over micro-batches, parameter groups, zero_grad(set_to_none=True)


def _custom_fn_net(lib):
    nn = lib.nn

    class LeakyClamp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, slope):
            ctx.save_for_backward(input)
            ctx.slope = slope
            return input.clamp(min=0) + slope * input.clamp(max=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] *= ctx.slope
            return grad_input, None

    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8))
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            h = LeakyClamp.apply(self.backbone(x), 0.1)
            return self.head(LegendrePolynomial3.apply(h * 0.5))

    return Net()


def _accumulate(lib, model):
    rng = np.random.default_rng(0)
    x, y = lib.tensor(rng.standard_normal((16, 5))), lib.tensor(rng.standard_normal((16, 2)))
    opt = lib.optim.SGD(
        [
            {"params": model.backbone.parameters()},
            {"params": model.head.parameters(), "lr": 0.05, "momentum": 0.5},
        ],
        lr=0.01,
        momentum=0.9,
    )
    hook_norms, out = [], []
    for _ in range(3):
        opt.zero_grad(set_to_none=True)
        out.append(model.head.weight.grad is None)
        for mb in range(4):
            xb, yb = x[mb * 4 : (mb + 1) * 4], y[mb * 4 : (mb + 1) * 4]
            h = model.backbone(xb)
            h.register_hook(lambda g: hook_norms.append(g.norm().item()))
            h.register_hook(lambda g: g * 2)
            loss = lib.nn.functional.smooth_l1_loss(model(xb), yb) / 4
            loss.backward()
            out.append(loss.item())
        opt.step()
        out.append(model.backbone[0].weight.grad.abs().sum().item())
    return out + hook_norms + [g["lr"] for g in opt.param_groups]


def test_custom_function_accumulation(dev):
    _run(_custom_fn_net, _accumulate)
    ad.manual_seed(3)
    first = (ad.randn(3, 4), ad.nn.Linear(3, 3).weight)
    ad.manual_seed(3)
    assert ad.equal(first[0], ad.randn(3, 4)) and ad.equal(first[1], ad.nn.Linear(3, 3).weight)


# 6. More of PyTorch's tutorials: DCGAN, VAE, EmbeddingBag text classification, seq2seq with
# Bahdanau attention, DQN (target-network soft update), spatial transformer network


# DCGAN
def _dcgan(L):
    nn = L.nn

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(4, 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(8),
                nn.ReLU(True),
                nn.ConvTranspose2d(8, 1, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        def forward(self, x):
            return self.main(x)

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(1, 8, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, x):
            return self.main(x)

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    m = nn.ModuleDict({"G": G(), "D": D()})
    m.apply(weights_init)
    return m


def _dcgan_prog(L, m):
    nn = L.nn
    netG, netD = m["G"], m["D"]
    crit = nn.BCELoss()
    optD = L.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = L.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(1)
    real = L.tensor(rng.standard_normal((3, 1, 8, 8)))
    out = []
    for i in range(2):
        noise = L.tensor(rng.standard_normal((3, 4, 1, 1)))
        netD.zero_grad()
        label = L.full((3,), 1.0, dtype=L.float64)
        output = netD(real).view(-1)
        errD_real = crit(output, label)
        errD_real.backward()
        fake = netG(noise)
        label.fill_(0.0)
        output = netD(fake.detach()).view(-1)
        errD_fake = crit(output, label)
        errD_fake.backward()
        optD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake).view(-1)
        errG = crit(output, label)
        errG.backward()
        optG.step()
        out += [errD_real.item(), errD_fake.item(), errG.item(), output.mean().item()]
    return out + [p.sum().item() for p in m.parameters()]


def _vae(L):
    nn, F = L.nn, L.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 8)
            self.fc21 = nn.Linear(8, 2)
            self.fc22 = nn.Linear(8, 2)
            self.fc3 = nn.Linear(2, 8)
            self.fc4 = nn.Linear(8, 16)

        def forward(self, x, eps):
            h1 = F.relu(self.fc1(x.view(-1, 16)))
            mu, logvar = self.fc21(h1), self.fc22(h1)
            std = L.exp(0.5 * logvar)
            z = mu + eps * std
            return L.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar

    return VAE()


def _vae_prog(L, m):
    F = L.nn.functional
    rng = np.random.default_rng(2)
    x = L.tensor(rng.random((4, 1, 4, 4)))
    opt = L.optim.Adam(m.parameters(), lr=1e-3)
    out = []
    for _ in range(3):
        eps = L.tensor(rng.standard_normal((4, 2)))
        opt.zero_grad()
        recon, mu, logvar = m(x, eps)
        BCE = F.binary_cross_entropy(recon, x.view(-1, 16), reduction="sum")
        KLD = -0.5 * L.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = BCE + KLD
        loss.backward()
        opt.step()
        out += [loss.item(), KLD.item()]
    return out


def _bag(L):
    nn = L.nn

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size=20, embed_dim=6, num_class=3):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    return TextClassificationModel()


def _bag_prog(L, m):
    text = L.tensor([1, 4, 5, 2, 9, 9, 3, 11, 15, 2])
    offsets = L.tensor([0, 3, 4, 8])
    label = L.tensor([0, 2, 1, 1])
    crit = L.nn.CrossEntropyLoss()
    opt = L.optim.SGD(m.parameters(), lr=5)
    sch = L.optim.lr_scheduler.StepLR(opt, 1.0, gamma=0.1)
    out = []
    for ep in range(3):
        m.train()
        opt.zero_grad()
        pred = m(text, offsets)
        loss = crit(pred, label)
        loss.backward()
        L.nn.utils.clip_grad_norm_(m.parameters(), 0.1)
        opt.step()
        acc = (pred.argmax(1) == label).sum().item()
        sch.step()
        out += [loss.item(), acc, sch.get_last_lr()[0]]
    emb2 = L.nn.EmbeddingBag.from_pretrained(m.embedding.weight.detach(), mode="max")
    out += emb2(text.view(2, 5)).flatten().tolist()
    out += (
        L.nn.functional.embedding_bag(
            text,
            m.embedding.weight,
            offsets,
            mode="sum",
            per_sample_weights=L.ones(10, dtype=L.float64) * 0.5,
        )
        .flatten()
        .tolist()
    )
    return out


def _seq2seq(L):
    nn, F = L.nn, L.nn.functional

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super().__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(L.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = L.bmm(weights, keys)
            return context, weights

    class M(nn.Module):
        def __init__(self, V=10, H=6):
            super().__init__()
            self.emb = nn.Embedding(V, H)
            self.enc = nn.GRU(H, H, batch_first=True)
            self.demb = nn.Embedding(V, H)
            self.attn = BahdanauAttention(H)
            self.gru = nn.GRU(2 * H, H, batch_first=True)
            self.out = nn.Linear(H, V)

        def forward(self, src, steps=4):
            enc_out, h = self.enc(self.emb(src))
            inp = L.empty(src.size(0), 1, dtype=L.long).fill_(0)
            outs = []
            for i in range(steps):
                e = self.demb(inp)
                ctx, _w = self.attn(h.permute(1, 0, 2), enc_out)
                o, h = self.gru(L.cat((e, ctx), dim=2), h)
                o = self.out(o)
                outs.append(o)
                _, topi = o.topk(1)
                inp = topi.squeeze(-1).detach()
            return F.log_softmax(L.cat(outs, dim=1), dim=-1)

    return M()


def _seq2seq_prog(L, m):
    src = L.tensor([[1, 5, 3, 2], [4, 4, 7, 9]])
    tgt = L.tensor([[5, 3, 2, 1], [4, 7, 9, 1]])
    opt = L.optim.Adam(m.parameters(), lr=0.01)
    crit = L.nn.NLLLoss()
    out = []
    for _ in range(3):
        opt.zero_grad()
        dec = m(src)
        loss = crit(dec.view(-1, dec.size(-1)), tgt.view(-1))
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


def _dqn(L):
    nn = L.nn
    return nn.ModuleDict(
        {
            "policy": nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)),
            "target": nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)),
        }
    )


def _dqn_prog(L, m):
    policy, target = m["policy"], m["target"]
    target.load_state_dict(policy.state_dict())
    opt = L.optim.AdamW(policy.parameters(), lr=1e-3, amsgrad=True)
    rng = np.random.default_rng(3)
    out = []
    for _ in range(3):
        state = L.tensor(rng.standard_normal((8, 4)))
        action = L.tensor(rng.integers(0, 2, (8, 1)))
        reward = L.tensor(rng.standard_normal(8))
        nxt = L.tensor(rng.standard_normal((8, 4)))
        non_final_mask = L.tensor(
            tuple(s is not None for s in [1, None, 1, 1, None, 1, 1, 1]), dtype=L.bool
        )
        sav = policy(state).gather(1, action)
        nsv = L.zeros(8, dtype=L.float64)
        with L.no_grad():
            nsv[non_final_mask] = target(nxt[non_final_mask]).max(1).values
        expected = (nsv * 0.99) + reward
        loss = L.nn.SmoothL1Loss()(sav, expected.unsqueeze(1))
        opt.zero_grad()
        loss.backward()
        L.nn.utils.clip_grad_value_(policy.parameters(), 100)
        opt.step()
        tsd = target.state_dict()
        psd = policy.state_dict()
        for key in psd:
            tsd[key] = psd[key] * 0.005 + tsd[key] * (1 - 0.005)
        target.load_state_dict(tsd)
        out.append(loss.item())
    return out + [p.sum().item() for p in target.parameters()]


def _stn(L):
    nn = L.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(4 * 3 * 3, 6))
            self.fc_loc[0].weight.data.zero_()
            self.fc_loc[0].bias.data.copy_(L.tensor([1, 0, 0, 0, 1, 0], dtype=L.float))

        def forward(self, x):
            xs = self.loc(x).view(-1, 4 * 3 * 3)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = L.nn.functional.affine_grid(theta, x.size(), align_corners=False)
            return L.nn.functional.grid_sample(x, grid, align_corners=False)

    return Net()


def _stn_prog(L, m):
    x = L.tensor(np.random.default_rng(4).random((2, 1, 8, 8)))
    opt = L.optim.SGD(m.parameters(), lr=0.1)
    out = []
    for _ in range(3):
        opt.zero_grad()
        y = m(x)
        loss = ((y - x.flip(-1)) ** 2).mean()
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


@pytest.mark.parametrize(
    "build,program",
    [
        (_dcgan, _dcgan_prog),
        (_vae, _vae_prog),
        (_bag, _bag_prog),
        (_seq2seq, _seq2seq_prog),
        (_dqn, _dqn_prog),
        (_stn, _stn_prog),
    ],
    ids=["dcgan", "vae", "embedding_bag", "seq2seq", "dqn", "stn"],
)
def test_more_tutorials(dev, build, program):
    _run(build, program)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_and_identity_affine_grid_match_bitwise(dev, dtype):
    """The STN tutorial starts from the identity transform: its grid lands on pixel centres,
    a kink of bilinear sampling, so the grid's gradient depends on the last bit of each point."""
    for start, end in ((-1, 1), (0.3, 7.9), (2, -2.5)):
        for steps in (0, 1, 2, 7, 8, 13, 100, 1001):
            want = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
            np.testing.assert_array_equal(
                ad.linspace(start, end, steps, dtype=getattr(ad, dtype)).numpy(), want
            )
    theta = np.array([[[1.0, 0, 0], [0, 1, 0]]] * 2)
    for align in (False, True):
        want = torch.nn.functional.affine_grid(
            torch.tensor(theta, dtype=getattr(torch, dtype)), (2, 1, 7, 9), align_corners=align
        ).numpy()
        got = ad.nn.functional.affine_grid(
            ad.tensor(theta, dtype=getattr(ad, dtype)), (2, 1, 7, 9), align_corners=align
        )
        assert got.dtype is getattr(ad, dtype)
        np.testing.assert_array_equal(got.numpy(), want)


def _api_tour(lib):
    """Small things tutorials touch: printing, module walks, init via apply, freezing,
    ReduceLROnPlateau, max/topk/gather/where/einsum/interpolate/one_hot."""
    nn, F = lib.nn, lib.nn.functional
    x = lib.tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)))
    net = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU(),
                        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(6, 4))

    def init_fn(m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.constant_(m.weight, 0.1)
            nn.init.zeros_(m.bias)
    net.apply(init_fn).double()
    for p in net[:2].parameters():
        p.requires_grad_(False)
    out = [repr(net), repr(net[1:3]), [(n, type(m).__name__) for n, m in net.named_modules()],
           [n for n, p in net.named_parameters() if p.requires_grad],
           sum(p.numel() for p in net.parameters() if p.requires_grad), net(x).tolist()]
    opt = lib.optim.SGD([nn.Parameter(lib.zeros(1))], lr=1.0)
    plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1,
                                                       threshold=0.01, cooldown=1, min_lr=0.1)
    for metric in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5]:
        plateau.step(metric)
        out.append(opt.param_groups[0]["lr"])
    a = x[:, 0, 0]
    idx = lib.tensor([[0, 1], [4, 0]])
    values, indices = lib.max(a, 1)
    out += [values.tolist(), indices.tolist(), a.argmax(dim=1, keepdim=True).tolist(),
            [t.tolist() for t in a.topk(2, dim=1, largest=False)], a.gather(1, idx).tolist(),
            lib.where(a > 0, a, 0.0).tolist(), lib.einsum("bij,bjk->bik", x[0], x[1]).tolist(),
            lib.einsum("ii", x[0, 0]).item(), F.one_hot(lib.tensor([0, 2]), 4).tolist()]
    for mode in ("nearest", "bilinear", "bicubic", "area"):
        out.append(F.interpolate(x, scale_factor=2, mode=mode).sum().item())
    return out


def test_api_tour(dev):
    t, a = _api_tour(torch), _api_tour(ad)
    assert len(t) == len(a)
    for tv, av in zip(t, a):
        if isinstance(tv, str) or (isinstance(tv, list) and isinstance(tv[0], tuple | str)):
            assert av == tv
        else:
            np.testing.assert_allclose(np.asarray(av, float), np.asarray(tv, float), rtol=1e-12)
