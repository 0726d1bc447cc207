"""ResNet with basic blocks (He et al., 2016) and the squeeze-and-excitation block."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn


class SEBlock(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018): rescale each channel by a gate computed
    from the global average of all channels, ``x * sigmoid(W2 relu(W1 mean_hw(x)))``.

    Args:
        channels: number of channels C.
        reduction: bottleneck ratio of the gate's hidden layer (default 16).

    Shape:
        Input and output (N, C, H, W).
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        gate = self.fc2(self.fc1(self.pool(x)).relu()).sigmoid()
        return x * gate


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv) shortcut:
    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``; optional SE gate before the sum.

    Args:
        in_channels, out_channels: channel counts.
        stride: stride of the first conv (and of the shortcut projection).
        se_reduction: add an SEBlock with this reduction (None: no SE).
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 se_reduction: int | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.se = SEBlock(out_channels, se_reduction) if se_reduction else nn.Identity()
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        out = self.se(self.bn2(self.conv2(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return (out + identity).relu()


class ResNet(nn.Module):
    """ResNet of basic blocks: a stem conv, four stages (channels base, 2x, 4x, 8x; each
    after the first halves the resolution), global average pooling and a linear head.

    Args:
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        num_classes: output logits (default 1000).
        in_channels: input channels (default 3).
        width: channels of the first stage (default 64).
        small_input: a 3x3 stride-1 stem without max pooling (CIFAR/digits-sized inputs)
            instead of ImageNet's 7x7 stride-2 conv and max pool.
        se_reduction: squeeze-and-excitation in every block (SE-ResNet) when given.

    Shape:
        Input (N, in_channels, H, W); output (N, num_classes).

    Example:
        >>> resnet18(num_classes=10, width=8, small_input=True)(ad.randn(2, 3, 16, 16))
    """

    def __init__(self, layers: Sequence[int] = (2, 2, 2, 2), num_classes: int = 1000,
                 in_channels: int = 3, width: int = 64, small_input: bool = False,
                 se_reduction: int | None = None) -> None:
        super().__init__()
        if small_input:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU())
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        stages, c_in = [], width
        for i, n in enumerate(layers):
            c_out = width * 2**i
            blocks = [BasicBlock(c_in, c_out, 1 if i == 0 else 2, se_reduction)]
            blocks += [BasicBlock(c_out, c_out, 1, se_reduction) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            c_in = c_out
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        x = self.pool(self.layers(self.stem(x)))
        return self.fc(x.flatten(1))


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2)."""
    return ResNet((2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3)."""
    return ResNet((3, 4, 6, 3), **kwargs)
