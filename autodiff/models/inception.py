"""GoogLeNet's Inception module (Szegedy et al., 2015) and a small net built from it."""

from __future__ import annotations

from .. import nn, ops


class Inception(nn.Module):
    """Four parallel branches concatenated along channels: 1x1 conv; 1x1 then 3x3 conv;
    1x1 then 5x5 conv; 3x3 max pool then 1x1 conv. Every conv is followed by ReLU.

    Args:
        in_channels: input channels.
        c1: output channels of the 1x1 branch.
        c2: (reduce, out) channels of the 3x3 branch.
        c3: (reduce, out) channels of the 5x5 branch.
        c4: output channels of the pooling branch.

    Shape:
        Input (N, in_channels, H, W); output (N, c1 + c2[1] + c3[1] + c4, H, W).
    """

    def __init__(self, in_channels: int, c1: int, c2: tuple, c3: tuple, c4: int) -> None:
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(in_channels, c2[0], 1), nn.ReLU(),
                                nn.Conv2d(c2[0], c2[1], 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(in_channels, c3[0], 1), nn.ReLU(),
                                nn.Conv2d(c3[0], c3[1], 5, padding=2), nn.ReLU())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                nn.Conv2d(in_channels, c4, 1), nn.ReLU())
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x):
        return ops.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class InceptionNet(nn.Module):
    """A small GoogLeNet: a conv stem, two Inception modules, max pooling, a third module,
    global average pooling and a linear head. ``width`` scales every channel count
    (1.0 = GoogLeNet's inception 3a/3b/4a sizes).

    Args:
        num_classes: output logits (default 10).
        in_channels: input channels (default 3).
        width: channel multiplier (default 1.0).

    Shape:
        Input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: float = 1.0
                 ) -> None:
        super().__init__()

        def w(c):
            return max(1, round(c * width))

        self.stem = nn.Sequential(nn.Conv2d(in_channels, w(192), 3, padding=1), nn.ReLU())
        self.a3 = Inception(w(192), w(64), (w(96), w(128)), (w(16), w(32)), w(32))
        self.b3 = Inception(self.a3.out_channels, w(128), (w(128), w(192)), (w(32), w(96)),
                            w(64))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.a4 = Inception(self.b3.out_channels, w(192), (w(96), w(208)), (w(16), w(48)),
                            w(64))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(self.a4.out_channels, num_classes))

    def forward(self, x):
        x = self.b3(self.a3(self.stem(x)))
        return self.head(self.a4(self.pool(x)))
