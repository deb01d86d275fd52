"""MNIST-1D's reference CNN (Greydanus & Kobak, ICML 2024): three strided 1-D convolutions.

The reference uses PyTorch ``Conv1d(..., stride=2, padding=1)``, which gives lengths
40 -> 19 -> 10 -> 5. Keras layers only have 'valid' and 'same' padding; 'same' with stride 2
gives ceil(n / 2): 40 -> 20 -> 10 -> 5, so the flattened size (5 x 25 = 125) and the parameter
count (5,210) match the reference while 'valid' (40 -> 18 -> 8 -> 3) would not. The deviation:
'same' pads one zero on the left and two on the right of the first layer (the reference one on
each side, dropping the last window), and zero left / one right in the others, so the windows sit
one step off the reference's. Training as in the authors' ``train.py``: Adam at 1e-2, batch 100,
8,000 steps = 200 epochs of 40 steps.
"""

from benchbench import Sequential
from benchbench.layers import Conv1D, Dense, Flatten
from benchbench.optimizers import Adam
from benchbench.workloads import AccuracyBand, Profile, Workload


def build() -> Sequential:
    return Sequential(
        [
            Conv1D(25, 5, strides=2, padding="same", activation="relu", input_shape=(40, 1)),
            Conv1D(25, 3, strides=2, padding="same", activation="relu"),
            Conv1D(25, 3, strides=2, padding="same", activation="relu"),
            Flatten(),
            Dense(10, activation="softmax"),
        ],
        name="mnist1d_cnn",
    )


def optimizer() -> Adam:
    return Adam(
        learning_rate=1e-2,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        decay=0.0,
        amsgrad=False,
        clipnorm=0.0,
        clipvalue=0.0,
    )


WORKLOAD = Workload(
    name="mnist1d_cnn",
    description="MNIST-1D, three strided Conv1D layers + linear classifier (Greydanus & Kobak)",
    dataset="mnist1d",
    input_shape=(40, 1),
    num_classes=10,
    build=build,
    optimizer=optimizer,
    loss="sparse_categorical_crossentropy",
    batch_size=100,
    default=Profile(epochs=200),
    quick=Profile(epochs=3, train_samples=2_000, test_samples=500),
    params=5_210,
    reference=AccuracyBand(
        low=0.88,
        high=0.97,
        source="Greydanus & Kobak, 'Scaling down deep learning with MNIST-1D' (ICML 2024): CNN "
        "94%; the authors' notebook run 92.3%; human 96%",
    ),
)
