"""A small model zoo, each model a short, readable ``nn.Module``:

MLP; LeNet5, AlexNet, VGG16 (with a width multiplier); ResNet with basic blocks (and the
SE block); an Inception net; DenseNet (``memory_efficient=True`` checkpoints its
bottlenecks); ShuffleNet V1/V2 units; an RNN/LSTM/GRU language model; a Transformer
encoder-decoder and a decoder-only GPT; word2vec (skip-gram and CBOW).
"""

from __future__ import annotations

from .cnn import VGG16, AlexNet, LeNet5  # noqa: F401
from .densenet import DenseBlock, DenseLayer, DenseNet, Transition  # noqa: F401
from .inception import Inception, InceptionNet  # noqa: F401
from .mlp import MLP  # noqa: F401
from .resnet import BasicBlock, ResNet, SEBlock, resnet18, resnet34  # noqa: F401
from .rnn_lm import RNNLanguageModel  # noqa: F401
from .shufflenet import ShuffleNet, ShuffleV1Unit, ShuffleV2Unit  # noqa: F401
from .transformer import GPT, Seq2SeqTransformer, causal_mask  # noqa: F401
from .word2vec import CBOW, SkipGram  # noqa: F401
