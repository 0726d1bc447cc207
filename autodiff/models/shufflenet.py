"""ShuffleNet V1 (Zhang et al., 2018) and V2 (Ma et al., 2018) units and small nets."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn, ops


def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1,
             relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.ReLU()) if relu else nn.Sequential(*layers)


class ShuffleV1Unit(nn.Module):
    """ShuffleNet V1 unit: grouped 1x1 conv -> channel shuffle -> 3x3 depthwise conv ->
    grouped 1x1 conv, added to the input (stride 1) or concatenated with its 3x3 average
    pool (stride 2, the branch then makes ``out_channels - in_channels`` channels).

    Args:
        in_channels, out_channels: channel counts (equal when stride is 1).
        groups: groups of the 1x1 convs (g in the paper).
        stride: 1 or 2.
        first_group_conv: use groups in the first 1x1 conv (False in the first unit of the
            net, whose input has too few channels).
    """

    def __init__(self, in_channels: int, out_channels: int, groups: int = 3, stride: int = 1,
                 first_group_conv: bool = True) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ShuffleV1Unit: stride must be 1 or 2, got {stride}")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(f"ShuffleV1Unit: stride 1 needs in_channels == out_channels, got "
                             f"{in_channels} and {out_channels}")
        branch_out = out_channels - in_channels if stride == 2 else out_channels
        mid = max(groups, out_channels // 4 // groups * groups)
        g1 = groups if first_group_conv else 1
        self.stride = stride
        self.reduce = _conv_bn(in_channels, mid, 1, groups=g1)
        self.shuffle = nn.ChannelShuffle(g1)
        self.depthwise = _conv_bn(mid, mid, 3, stride, groups=mid, relu=False)
        self.expand = _conv_bn(mid, branch_out, 1, groups=groups, relu=False)
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x):
        out = self.expand(self.depthwise(self.shuffle(self.reduce(x))))
        if self.stride == 1:
            return (x + out).relu()
        return ops.cat([self.pool(x), out], 1).relu()


class ShuffleV2Unit(nn.Module):
    """ShuffleNet V2 unit. Stride 1: split the channels in half, transform one half with
    1x1 conv -> 3x3 depthwise -> 1x1 conv, concatenate with the other half, shuffle.
    Stride 2: both halves see the full input (one a depthwise + 1x1 path) and the output
    has ``out_channels`` channels at half resolution.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ShuffleV2Unit: stride must be 1 or 2, got {stride}")
        if out_channels % 2 or (stride == 1 and in_channels != out_channels):
            raise ValueError(f"ShuffleV2Unit: out_channels must be even (and equal to "
                             f"in_channels at stride 1), got {in_channels} -> {out_channels}")
        half = out_channels // 2
        self.stride = stride
        branch_in = in_channels if stride == 2 else half
        if stride == 2:
            self.branch1 = nn.Sequential(
                _conv_bn(in_channels, in_channels, 3, 2, groups=in_channels, relu=False),
                _conv_bn(in_channels, half, 1))
        self.branch2 = nn.Sequential(
            _conv_bn(branch_in, half, 1),
            _conv_bn(half, half, 3, stride, groups=half, relu=False),
            _conv_bn(half, half, 1))
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = ops.chunk(x, 2, 1)
            out = ops.cat([x1, self.branch2(x2)], 1)
        else:
            out = ops.cat([self.branch1(x), self.branch2(x)], 1)
        return self.shuffle(out)


class ShuffleNet(nn.Module):
    """A small ShuffleNet: 3x3 conv stem, stages of units (each starting with a stride-2
    unit), global average pooling and a linear head.

    Args:
        version: 1 or 2.
        stage_channels: output channels of each stage.
        stage_repeats: units per stage.
        num_classes, in_channels: head size and input channels.
        groups: groups of the V1 units.
        stem_channels: channels of the stem conv.

    Shape:
        Input (N, in_channels, H, W); output (N, num_classes).
    """

    def __init__(self, version: int = 2, stage_channels: Sequence[int] = (48, 96, 192),
                 stage_repeats: Sequence[int] = (2, 2, 2), num_classes: int = 10,
                 in_channels: int = 3, groups: int = 3, stem_channels: int = 24) -> None:
        super().__init__()
        if version not in (1, 2):
            raise ValueError(f"ShuffleNet: version must be 1 or 2, got {version}")
        self.stem = _conv_bn(in_channels, stem_channels, 3)
        units, c = [], stem_channels
        for i, (c_out, n) in enumerate(zip(stage_channels, stage_repeats)):
            for j in range(n):
                stride = 2 if j == 0 else 1
                if version == 1:
                    units.append(ShuffleV1Unit(c, c_out, groups, stride,
                                               first_group_conv=not (i == 0 and j == 0)))
                else:
                    units.append(ShuffleV2Unit(c, c_out, stride))
                c = c_out
        self.stages = nn.Sequential(*units)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(c, num_classes))

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))
