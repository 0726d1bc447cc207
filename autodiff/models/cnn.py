"""Classic convolutional nets: LeNet-5, AlexNet and VGG-16, with a width multiplier so they
can run small."""

from __future__ import annotations

from .. import nn


def _w(channels: int, width: float) -> int:
    return max(1, round(channels * width))


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, as in most modern ports.

    conv5x5(6) -> pool -> conv5x5(16) -> pool -> fc120 -> fc84 -> fc(num_classes). With
    ``padding=2`` on the first conv a 28x28 input gives the classic 5x5x16 map; inputs
    under 16 pixels (the 8x8 digits) pad the second conv too, and the first fc layer is
    sized from ``input_size``.

    Args:
        num_classes: number of output logits (default 10).
        in_channels: input channels (default 1).
        input_size: height (= width) of the input images (default 28).

    Shape:
        Input (N, in_channels, input_size, input_size); output (N, num_classes).

    Example:
        >>> LeNet5(10, input_size=8)(ad.randn(4, 1, 8, 8)).shape
        (4, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28
                 ) -> None:
        super().__init__()
        pad2 = 0 if input_size >= 16 else 2  # small inputs (8x8 digits) keep conv2 "same"
        s = (input_size // 2 - 4 + 2 * pad2) // 2  # conv1 "same", pool, conv2, pool
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=pad2), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * s * s, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) in torchvision's single-GPU layout.

    Five convs (11x11/4, 5x5, 3x3 x3) with max pooling, adaptive average pooling to
    ``pool_size``, then three fully connected layers with dropout. ``width`` scales every
    channel count and hidden size (1.0 = 64..256 channels, 4096 hidden units).

    Args:
        num_classes: output logits (default 1000).
        in_channels: input channels (default 3).
        width: channel multiplier (default 1.0).
        pool_size: side of the adaptive pooling output (default 6, as torchvision).
        dropout: dropout probability in the classifier (default 0.5).

    Shape:
        Input (N, in_channels, H, W) with H, W >= 63; output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 pool_size: int = 6, dropout: float = 0.5) -> None:
        super().__init__()
        c = [_w(n, width) for n in (64, 192, 384, 256, 256)]
        hidden = _w(4096, width)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c[0], 11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c[4] * pool_size * pool_size, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M")


class VGG16(nn.Module):
    """VGG-16 (Simonyan & Zisserman, 2014): 13 3x3 convs in five blocks, each block ending
    in 2x2 max pooling, then three fully connected layers.

    Args:
        num_classes: output logits (default 1000).
        in_channels: input channels (default 3).
        width: channel multiplier (1.0 = 64..512 channels; hidden 4096 scaled the same).
        batch_norm: BatchNorm after each conv (VGG-16-BN).
        pool_size: side of the adaptive pooling output (default 7, as torchvision).
        dropout: dropout probability in the classifier (default 0.5).

    Shape:
        Input (N, in_channels, H, W) with H, W >= 32; output (N, num_classes).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0,
                 batch_norm: bool = False, pool_size: int = 7, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list = []
        c_in = in_channels
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            c_out = _w(v, width)
            layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU())
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        hidden = _w(4096, width)
        self.classifier = nn.Sequential(
            nn.Linear(c_in * pool_size * pool_size, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))
