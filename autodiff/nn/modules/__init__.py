"""Every layer of ``autodiff.nn``, one family per module."""

from __future__ import annotations

from .activation import (  # noqa: F401
    ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, Mish, ReLU, Sigmoid, SiLU, Softmax, Softplus,
    Tanh,
)
from .attention import (  # noqa: F401
    AdditiveAttention, DotProductAttention, MultiheadAttention, masked_softmax,
)
from .cluster_norm import ClusterNorm  # noqa: F401
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .conv import Conv1d, Conv2d, ConvTranspose2d  # noqa: F401
from .dropout import Dropout, Dropout1d, Dropout2d  # noqa: F401
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .loss import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss,
    NLLLoss, SmoothL1Loss,
)
from .misc import (  # noqa: F401
    ChannelShuffle, Embedding, Flatten, PixelShuffle, PixelUnshuffle, PositionalEncoding,
    Unflatten,
)
from .module import Module  # noqa: F401
from .normalization import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm, RMSNorm,
)
from .pooling import (  # noqa: F401
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
from .transformer import (  # noqa: F401
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)
