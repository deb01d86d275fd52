"""Keras 2's ``examples/mnist_mlp.py``: a 784-512-512-10 perceptron with dropout on MNIST."""

from benchbench import Sequential
from benchbench.layers import Dense, Dropout
from benchbench.optimizers import RMSprop
from benchbench.workloads import AccuracyBand, Profile, Workload


def build() -> Sequential:
    return Sequential(
        [
            Dense(512, activation="relu", input_shape=(784,)),
            Dropout(0.2),
            Dense(512, activation="relu"),
            Dropout(0.2),
            Dense(10, activation="softmax"),
        ],
        name="mnist_mlp",
    )


def optimizer() -> RMSprop:
    return RMSprop(
        learning_rate=0.001, rho=0.9, epsilon=1e-7, decay=0.0, clipnorm=0.0, clipvalue=0.0
    )


WORKLOAD = Workload(
    name="mnist_mlp",
    description="MNIST, 784-512-512-10 MLP with dropout (Keras 2 example)",
    dataset="mnist",
    input_shape=(784,),
    num_classes=10,
    build=build,
    optimizer=optimizer,
    loss="categorical_crossentropy",
    batch_size=128,
    default=Profile(epochs=20),
    quick=Profile(epochs=2, train_samples=6_000, test_samples=1_000),
    params=669_706,
    reference=AccuracyBand(
        low=0.9796,
        high=0.9843,
        source="keras-team/keras examples/mnist_mlp.py: 98.40% after 20 epochs (script header); "
        "independent runs 97.96-98.43%",
    ),
)
