"""Keras-like layers, written once on top of the backend contract.

Split by concept as Keras splits its layers; every layer is importable from here::

    from benchbench.layers import LSTM, Dense, Embedding

- `benchbench.layers.base`: `Layer`, `WeightSpec`.
- `benchbench.layers.core`: Dense, Activation, Flatten, Dropout, RepeatVector.
- `benchbench.layers.convolutional`: Conv1D, Conv2D.
- `benchbench.layers.pooling`: MaxPooling1D/2D, GlobalAveragePooling1D, GlobalMaxPooling1D.
- `benchbench.layers.recurrent`: SimpleRNN, LSTM, GRU.
- `benchbench.layers.embeddings`: Embedding.
- `benchbench.layers.merge`: Add, Concatenate.
- `benchbench.layers.wrappers`: TimeDistributed, Bidirectional.
"""

from benchbench.layers.base import Layer, Shape, WeightSpec, default_name
from benchbench.layers.convolutional import PADDINGS, Conv1D, Conv2D, conv_output_length
from benchbench.layers.core import Activation, Dense, Dropout, Flatten, RepeatVector
from benchbench.layers.embeddings import Embedding
from benchbench.layers.merge import Add, Concatenate
from benchbench.layers.pooling import (
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    MaxPooling2D,
)
from benchbench.layers.recurrent import GRU, LSTM, Recurrent, SimpleRNN
from benchbench.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "PADDINGS",
    "GRU",
    "LSTM",
    "Recurrent",
    "Activation",
    "Add",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Layer",
    "MaxPooling1D",
    "MaxPooling2D",
    "RepeatVector",
    "Shape",
    "SimpleRNN",
    "TimeDistributed",
    "WeightSpec",
    "conv_output_length",
    "default_name",
]
