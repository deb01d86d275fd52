"""scikit-learn's 8x8 digits with a small MLP: a real dataset that needs no download and trains
in seconds, for smoke runs and CI."""

from benchbench import Sequential
from benchbench.layers import Dense
from benchbench.optimizers import Adam
from benchbench.workloads import AccuracyBand, Profile, Workload


def build() -> Sequential:
    return Sequential(
        [
            Dense(64, activation="relu", input_shape=(64,)),
            Dense(10, activation="softmax"),
        ],
        name="digits_mlp",
    )


def optimizer() -> Adam:
    return Adam(
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        decay=0.0,
        amsgrad=False,
        clipnorm=0.0,
        clipvalue=0.0,
    )


WORKLOAD = Workload(
    name="digits_mlp",
    description="scikit-learn digits (8x8), 64-64-10 MLP",
    dataset="digits",
    input_shape=(64,),
    num_classes=10,
    build=build,
    optimizer=optimizer,
    loss="categorical_crossentropy",
    batch_size=32,
    default=Profile(epochs=30),
    quick=Profile(epochs=3),
    params=4_810,
    reference=AccuracyBand(
        low=0.95,
        high=1.0,
        source="benchbench's own target, not a published result: a small MLP on the fixed "
        "75/25 split of sklearn.datasets.load_digits",
    ),
)
