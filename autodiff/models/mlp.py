"""Multi-layer perceptron."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from .. import nn


class MLP(nn.Sequential):
    """Linear layers with an activation (and optional dropout) between them.

    ``MLP(64, [256, 256], 10)`` is Linear(64, 256) -> ReLU -> Linear(256, 256) -> ReLU ->
    Linear(256, 10). Parameters use nn.Linear's default initialisation (Kaiming uniform).

    Args:
        in_features: size of each input sample.
        hidden_sizes: widths of the hidden layers.
        out_features: size of each output sample.
        activation: a callable returning the activation module (default ``nn.ReLU``).
        dropout: dropout probability after each hidden activation (default 0).

    Shape:
        Input (N, *, in_features); output (N, *, out_features).

    Example:
        >>> model = MLP(64, [256, 256], 10)
        >>> logits = model(ad.randn(128, 64))
    """

    def __init__(self, in_features: int, hidden_sizes: Sequence[int], out_features: int,
                 activation: Callable[[], nn.Module] = nn.ReLU, dropout: float = 0.0) -> None:
        layers: list = []
        width = in_features
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), activation()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
