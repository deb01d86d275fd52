"""A tiny MLP on blobs: 8 steps per epoch, 2 epochs quick, 3 by default."""

from benchbench import Sequential
from benchbench.layers import Dense
from benchbench.optimizers import Adam
from benchbench.workloads import Profile, Workload
from tests.fake_workloads._data import CLASSES, FEATURES, blobs


def build() -> Sequential:
    return Sequential(
        [
            Dense(16, activation="relu", input_shape=(FEATURES,)),
            Dense(CLASSES, activation="softmax"),
        ],
        name="tiny",
    )


def optimizer() -> Adam:
    return Adam(
        learning_rate=1e-2,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        decay=0.0,
        amsgrad=False,
        clipnorm=0.0,
        clipvalue=0.0,
    )


def data(quick: bool, synthetic: bool, seed: int):
    return blobs(seed=seed)


WORKLOAD = Workload(
    name="tiny",
    description="a tiny MLP on Gaussian blobs (tests)",
    dataset="blobs",
    input_shape=(FEATURES,),
    num_classes=CLASSES,
    build=build,
    optimizer=optimizer,
    loss="categorical_crossentropy",
    batch_size=32,
    default=Profile(epochs=3),
    quick=Profile(epochs=2),
    params=FEATURES * 16 + 16 + 16 * CLASSES + CLASSES,
    data=data,
)
