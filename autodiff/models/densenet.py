"""DenseNet (Huang et al., 2017), with torchvision's memory-efficient option.

With ``memory_efficient=True`` each dense layer's bottleneck -- concatenate every earlier
feature map, BatchNorm, ReLU, 1x1 conv -- runs under ``ad.utils.checkpoint``: the
concatenation and the BN/ReLU outputs (the activations that grow quadratically with depth)
are not kept for backward but recomputed from the layer's inputs, trading one extra forward
of the bottleneck for memory. tests/models/test_densenet_memory.py measures the saving.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn, ops
from ..utils import checkpoint


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1(bn_size * growth) -> BN-ReLU-Conv3x3(growth) on the concatenation of
    all earlier feature maps; returns the ``growth_rate`` new channels."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0, memory_efficient: bool = False) -> None:
        super().__init__()
        mid = bn_size * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, growth_rate, 3, padding=1, bias=False)
        self.drop = nn.Dropout(drop_rate) if drop_rate else nn.Identity()
        self.memory_efficient = memory_efficient

    def bottleneck(self, *features):
        return self.conv1(self.norm1(ops.cat(list(features), 1)).relu())

    def forward(self, features: list):
        if self.memory_efficient and any(f.requires_grad for f in features):
            out = checkpoint(self.bottleneck, *features)
        else:
            out = self.bottleneck(*features)
        return self.drop(self.conv2(self.norm2(out).relu()))


class DenseBlock(nn.Module):
    """``num_layers`` dense layers; each sees every earlier output. Returns them all
    concatenated: in_channels + num_layers * growth_rate channels."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0, memory_efficient: bool = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList([
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, drop_rate,
                       memory_efficient) for i in range(num_layers)])

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return ops.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 (channel compression) then 2x2 average pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.AvgPool2d(2, 2))


class DenseNet(nn.Module):
    """DenseNet-BC: a stem, dense blocks separated by transitions that halve the channels
    and the resolution, a final BN-ReLU, global average pooling and a linear head.

    Args:
        growth_rate: channels each dense layer adds (k; 32 in DenseNet-121).
        block_config: layers per dense block ((6, 12, 24, 16) for DenseNet-121).
        num_init_features: channels of the stem conv.
        bn_size: bottleneck width multiplier (4).
        drop_rate: dropout after each dense layer.
        num_classes: output logits.
        in_channels: input channels.
        small_input: a 3x3 stride-1 stem without pooling (small images).
        memory_efficient: checkpoint each bottleneck (see the module docstring).

    Shape:
        Input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, growth_rate: int = 32, block_config: Sequence[int] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, in_channels: int = 3, small_input: bool = False,
                 memory_efficient: bool = False) -> None:
        super().__init__()
        c = num_init_features
        if small_input:
            layers = [nn.Conv2d(in_channels, c, 3, padding=1, bias=False)]
        else:
            layers = [nn.Conv2d(in_channels, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c),
                      nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        for i, n in enumerate(block_config):
            layers.append(DenseBlock(n, c, growth_rate, bn_size, drop_rate, memory_efficient))
            c += n * growth_rate
            if i != len(block_config) - 1:
                layers.append(Transition(c, c // 2))
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))
