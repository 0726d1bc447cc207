"""More PyTorch tutorial programs, ported as in test_ported_tutorials.py: each is written once
against the PyTorch API and run with ``lib`` = torch and ``lib`` = autodiff from the same
weights and NumPy-made data; what it returns (losses, outputs, gradients) and the final state
dicts must agree. Programs 6-10 are in test_ported_tutorials3.py, 11-14 in
test_ported_tutorials4.py.
"""

from __future__ import annotations

import copy
import io
import math
import random

import numpy as np
import pytest
from test_ported_tutorials import DATA, _run

import autodiff as ad

torch = pytest.importorskip("torch")


def _compare(t, a, rtol=1e-9):
    """Item by item: floats (or lists of them) to rtol, everything else exactly."""
    assert len(a) == len(t)
    for i, (av, tv) in enumerate(zip(a, t)):
        if isinstance(tv, float) or isinstance(tv, list) and tv and isinstance(tv[0], float):
            np.testing.assert_allclose(av, tv, rtol=rtol, err_msg=str(i))
        else:
            assert av == tv, i


def _both(program, rtol=1e-9, atol=1e-10):
    """Run a program that makes its own data from NumPy under both libraries; compare."""
    t, a = program(torch), program(ad)
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(t, float), rtol=rtol, atol=atol)
    return t, a


# 1. Learning PyTorch with Examples: a custom autograd.Function fit by hand, nn.Sequential
# with Flatten(0, 1) and RMSprop, and the DynamicNet (Python control flow reusing a weight)


def _legendre_fit(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    dtype = lib.float
    x = lib.linspace(-math.pi, math.pi, 200, dtype=dtype)
    y = lib.sin(x)
    a = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    b = lib.full((), -1.0, dtype=dtype, requires_grad=True)
    c = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    d = lib.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate, out = 5e-5, []
    for t in range(60):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 10 == 9:
            out.append(loss.item())
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return out + [a.item(), b.item(), c.item(), d.item()]


def _poly_nn(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))


def _poly_nn_prog(lib, model):
    x = lib.linspace(-math.pi, math.pi, 100, dtype=lib.float64)
    y = lib.sin(x)
    xx = x.unsqueeze(-1).pow(lib.tensor([1, 2, 3]))
    loss_fn = lib.nn.MSELoss(reduction="sum")
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3)
    out = []
    for _ in range(20):
        loss = loss_fn(model(xx), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out.append(loss.item())
    linear_layer = model[0]
    return out + [linear_layer.bias.item(), *linear_layer.weight[:, 0:3].flatten().tolist()]


def _dynamic_net(lib):
    class DynamicNet(lib.nn.Module):
        def __init__(self):
            super().__init__()
            for name in "abcde":
                setattr(self, name, lib.nn.Parameter(lib.randn(())))
            self.rng = random.Random(0)  # the tutorial's random.randint, seeded

        def forward(self, x):
            y = self.a + self.b * x + self.c * x**2 + self.d * x**3
            for exp in range(4, self.rng.randint(4, 6)):
                y = y + self.e * x**exp
            return y

        def string(self):
            return f"y = {self.a.item()} + {self.b.item()} x + ... {self.e.item()} x^5 ?"

    return DynamicNet()


def _dynamic_prog(lib, model):
    x = lib.linspace(-math.pi, math.pi, 100, dtype=lib.float64)
    y = lib.sin(x)
    criterion = lib.nn.MSELoss(reduction="sum")
    optimizer = lib.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    out = []
    for _ in range(30):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        out.append(loss.item())
    return out + [model.string().count(" x")]


def test_learning_pytorch_with_examples(dev):
    _both(_legendre_fit, rtol=1e-4, atol=1e-5)
    _run(_poly_nn, _poly_nn_prog)
    _run(_dynamic_net, _dynamic_prog)


# 2. What is torch.nn really?: MNIST from scratch (manual log_softmax, nll by fancy indexing,
# in-place updates under no_grad), then the refactor: Lambda modules, a WrappedDataLoader,
# Conv2d + AdaptiveAvgPool2d, fit() with train()/eval() and no_grad validation


def _mnist_data(n, seed):
    rng = np.random.default_rng(seed)
    return rng.random((n, 64), dtype=np.float32), rng.integers(0, 10, n)


def _mnist_from_scratch(lib):
    x_train, y_train = map(lib.tensor, _mnist_data(64, 0))
    weights = lib.tensor(np.random.default_rng(1).standard_normal((64, 10)).astype(np.float32))
    weights = weights / math.sqrt(64)
    weights.requires_grad_()
    bias = lib.zeros(10, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    def accuracy(out, yb):
        preds = lib.argmax(out, dim=1)
        return (preds == yb).float().mean()

    bs, lr, n, out = 16, 0.5, 64, []
    for _ in range(2):
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb, yb = x_train[start_i:end_i], y_train[start_i:end_i]
            loss = nll(model(xb), yb)
            loss.backward()
            with lib.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad.zero_()
                bias.grad.zero_()
            out.append(loss.item())
        out.append(accuracy(model(x_train), y_train).item())
    return out


def _mnist_cnn(lib):
    nn = lib.nn

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )


def _fit_prog(lib, model):
    F, data = lib.nn.functional, DATA[lib]
    train_ds = data.TensorDataset(*map(lib.tensor, _mnist_data(48, 0)))
    valid_ds = data.TensorDataset(*map(lib.tensor, _mnist_data(32, 1)))

    class WrappedDataLoader:
        def __init__(self, dl, func):
            self.dl, self.func = dl, func

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            for b in self.dl:
                yield (self.func(*b))

    def preprocess(x, y):
        return x.view(-1, 1, 8, 8).to(model[0].weight.dtype), y

    def get_data(train_ds, valid_ds, bs):
        return (data.DataLoader(train_ds, batch_size=bs),
                data.DataLoader(valid_ds, batch_size=bs * 2))

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    out = []

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
        for _ in range(epochs):
            model.train()
            for xb, yb in train_dl:
                out.append(loss_batch(model, loss_func, xb, yb, opt)[0])
            model.eval()
            with lib.no_grad():
                losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            out.append(np.sum(np.multiply(losses, nums)) / np.sum(nums))

    train_dl, valid_dl = get_data(train_ds, valid_ds, 16)
    train_dl, valid_dl = WrappedDataLoader(train_dl, preprocess), WrappedDataLoader(valid_dl, preprocess)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(2, model, F.cross_entropy, opt, train_dl, valid_dl)
    return out + [len(train_dl), len(valid_dl)]


def test_what_is_nn_really(dev):
    _both(_mnist_from_scratch, rtol=1e-5, atol=1e-6)
    _run(_mnist_cnn, _fit_prog)


# 3. Transfer learning: a frozen backbone (requires_grad_(False)), a new head, SGD over
# filter(lambda p: p.requires_grad, ...), StepLR, set_grad_enabled phases, the best weights
# kept by copy.deepcopy(model.state_dict()) and loaded back


def _frozen_backbone(lib):
    nn = lib.nn

    class TinyResNet(nn.Module):  # a stand-in for torchvision's resnet18, same attribute names
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(8), nn.ReLU())
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8, 1000)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer1(x) + x
            return self.fc(lib.flatten(self.avgpool(x), 1))

    model_conv = TinyResNet()
    for param in model_conv.parameters():
        param.requires_grad_(False)
    num_ftrs = model_conv.fc.in_features
    model_conv.fc = nn.Linear(num_ftrs, 2)
    return model_conv


def _train_model(lib, model):
    nn, optim, data = lib.nn, lib.optim, DATA[lib]
    rng = np.random.default_rng(0)
    datasets = {p: data.TensorDataset(lib.tensor(rng.standard_normal((n, 3, 6, 6))),
                                      lib.tensor(rng.integers(0, 2, n)))
                for p, n in (("train", 12), ("val", 8))}
    dataloaders = {p: data.DataLoader(datasets[p], batch_size=4) for p in datasets}
    dataset_sizes = {p: len(datasets[p]) for p in datasets}
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.05,
                          momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc, out = 0.0, []
    for _ in range(3):
        for phase in ["train", "val"]:
            model.train() if phase == "train" else model.eval()
            running_loss, running_corrects = 0.0, 0
            for inputs, labels in dataloaders[phase]:
                optimizer.zero_grad()
                with lib.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = lib.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += lib.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            out += [running_loss / dataset_sizes[phase], epoch_acc.item(), scheduler.get_last_lr()[0]]
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    lib.save(best_model_wts, buf := io.BytesIO())
    buf.seek(0)
    model.load_state_dict(lib.load(buf, weights_only=True))
    was_training = model.training
    model.eval()
    with lib.no_grad():
        out += model(datasets["val"][0:2][0]).flatten().tolist()
    model.train(mode=was_training)
    out.append(model.training)
    frozen = [p.grad is None and not p.requires_grad for n, p in model.named_parameters()
              if not n.startswith("fc.")]
    return out + [best_acc.item(), all(frozen), len(optimizer.param_groups[0]["params"])]


def test_transfer_learning(dev):
    _run(_frozen_backbone, _train_model)


# 4. Adversarial examples (FGSM): a LeNet in eval mode, the input's gradient, sign(), clamp,
# denorm with view(1, -1, 1, 1)


def _lenet(lib):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3, 1)
            self.conv2 = nn.Conv2d(4, 8, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(8 * 2 * 2, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = lib.flatten(self.dropout1(x), 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def _fgsm(lib, model):
    F, data = lib.nn.functional, DATA[lib]

    def fgsm_attack(image, epsilon, data_grad):
        sign_data_grad = data_grad.sign()
        perturbed_image = image + epsilon * sign_data_grad
        return lib.clamp(perturbed_image, 0, 1)

    def denorm(batch, mean=[0.1307], std=[0.3081]):  # noqa: B006 (the tutorial's defaults)
        if isinstance(mean, list):
            mean = lib.tensor(mean)
        if isinstance(std, list):
            std = lib.tensor(std)
        return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)

    model.eval()
    images = lib.tensor(np.random.default_rng(0).random((12, 1, 8, 8)))
    with lib.no_grad():
        targets = model(images).argmax(1)
    targets[::3] = (targets[::3] + 1) % 10  # some misclassified from the start
    test_loader = data.DataLoader(data.TensorDataset(images, targets), batch_size=1)
    out = []
    for epsilon in [0, 0.05, 0.3]:
        correct = 0
        for x, target in test_loader:
            x.requires_grad = True
            output = model(x)
            init_pred = output.max(1, keepdim=True)[1]
            if init_pred.item() != target.item():
                continue
            loss = F.nll_loss(output, target)
            model.zero_grad()
            loss.backward()
            data_grad = x.grad.data
            perturbed_data = fgsm_attack(denorm(x), epsilon, data_grad)
            output = model((perturbed_data - 0.1307) / 0.3081)
            final_pred = output.max(1, keepdim=True)[1]
            correct += final_pred.item() == target.item()
            out += [loss.item(), data_grad.abs().sum().item(), perturbed_data.sum().item()]
        out.append(correct / float(len(test_loader)))
    return out


def test_fgsm(dev):
    _run(_lenet, _fgsm)


# 5. Neural style transfer: gram matrices by view + mm, a Normalization module, content and
# style loss modules inserted into a copy of a CNN, model[:(i + 1)], LBFGS over the input image
# with a closure that clamps it under no_grad


def _features(lib):  # a stand-in for vgg19().features
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2, 2), nn.Conv2d(4, 6, 3, padding=1),
                         nn.ReLU(inplace=True), nn.Conv2d(6, 6, 3, padding=1))


def _style_transfer(lib, cnn):
    nn, F = lib.nn, lib.nn.functional

    class ContentLoss(nn.Module):
        def __init__(self, target):
            super().__init__()
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    def gram_matrix(input):
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = lib.mm(features, features.t())
        return G.div(a * b * c * d)

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super().__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, input):
            self.loss = F.mse_loss(gram_matrix(input), self.target)
            return input

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean = mean.clone().detach().view(-1, 1, 1)
            self.std = std.clone().detach().view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    def get_style_model_and_losses(cnn, style_img, content_img):
        normalization = Normalization(lib.tensor([0.485, 0.456, 0.406]),
                                      lib.tensor([0.229, 0.224, 0.225]))
        content_losses, style_losses = [], []
        model = nn.Sequential(normalization)
        i = 0
        for layer in cnn.children():
            if isinstance(layer, nn.Conv2d):
                i += 1
                name = f"conv_{i}"
            elif isinstance(layer, nn.ReLU):
                name = f"relu_{i}"
                layer = nn.ReLU(inplace=False)
            elif isinstance(layer, nn.MaxPool2d):
                name = f"pool_{i}"
            else:
                raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")  # noqa: TRY004
            model.add_module(name, layer)
            if name in ["conv_3"]:
                content_loss = ContentLoss(model(content_img).detach())
                model.add_module(f"content_loss_{i}", content_loss)
                content_losses.append(content_loss)
            if name in ["conv_1", "conv_2", "conv_3"]:
                style_loss = StyleLoss(model(style_img).detach())
                model.add_module(f"style_loss_{i}", style_loss)
                style_losses.append(style_loss)
        for i in range(len(model) - 1, -1, -1):
            if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):  # noqa: SIM101
                break
        return model[: (i + 1)], style_losses, content_losses

    rng = np.random.default_rng(0)
    content_img, style_img = (lib.tensor(rng.random((1, 3, 8, 8))) for _ in range(2))
    input_img = content_img.clone()
    model, style_losses, content_losses = get_style_model_and_losses(cnn, style_img, content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = lib.optim.LBFGS([input_img])
    run, log = [0], []
    while run[0] <= 8:

        def closure():
            with lib.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0
            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss
            style_score *= 1e4
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            log.extend([style_score.item(), content_score.item()])
            return style_score + content_score

        optimizer.step(closure)
    with lib.no_grad():
        input_img.clamp_(0, 1)
    names = [n for n, _ in model.named_children()]
    return log + input_img.flatten().tolist() + [len(names), len(optimizer.state)]


def test_neural_style_transfer(dev):
    _run(_features, _style_transfer, rtol=1e-7, atol=1e-9)
