"""Keras 2's ``examples/lstm_text_generation.py``: a character-level LSTM on Nietzsche.

As the script: ``nietzsche.txt`` lower-cased (57 characters), windows of 40 characters every 3
(200,285 samples), one-hot, each labelled with the character that follows it; LSTM(128) and a
softmax over the 57 characters; RMSprop(lr 0.01) with Keras 2's other defaults (rho 0.9,
epsilon 1e-7); batch 128. The script trains 60 epochs and prints generated text after each;
Jeong-Yoon Lee's benchmark ran 10 epochs and reported the **training loss**, 1.39-1.43 across
backends and GPUs, so this workload runs 10 epochs, has no test set (nor has the script), and is
judged on its last epoch's training loss, lower is better. On a CPU an epoch is 1,565 steps of
an LSTM over 40 steps at batch 128: minutes per epoch, so its published setting is meant for a
GPU (the script's header: 'It is recommended to run this script on GPU').
"""

from benchbench import Sequential
from benchbench.datasets.nietzsche import ALPHABET, MAXLEN
from benchbench.layers import LSTM, Dense
from benchbench.optimizers import RMSprop
from benchbench.workloads import Band, Profile, Workload


def build() -> Sequential:
    return Sequential(
        [
            LSTM(128, input_shape=(MAXLEN, len(ALPHABET))),
            Dense(len(ALPHABET), activation="softmax"),
        ],
        name="lstm_text_generation",
    )


def optimizer() -> RMSprop:
    return RMSprop(
        learning_rate=0.01, rho=0.9, epsilon=1e-7, decay=0.0, clipnorm=0.0, clipvalue=0.0
    )


WORKLOAD = Workload(
    name="lstm_text_generation",
    description="Nietzsche, character-level LSTM(128), judged on training loss (Keras 2 example)",
    dataset="nietzsche",
    input_shape=(MAXLEN, len(ALPHABET)),
    num_classes=len(ALPHABET),
    build=build,
    optimizer=optimizer,
    loss="categorical_crossentropy",
    batch_size=128,
    default=Profile(epochs=10),
    quick=Profile(epochs=1, train_samples=6_400),
    params=102_585,
    reference=Band(
        low=1.35,
        high=1.47,
        source="Jeong-Yoon Lee's Keras backend benchmark: training loss 1.39-1.43 after 10 "
        "epochs (every backend and GPU); the band adds 0.04 either side",
    ),
    quality="train_loss",
)
