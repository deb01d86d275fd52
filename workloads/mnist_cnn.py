"""Keras 2's ``examples/mnist_cnn.py``: two convolutions, max pooling and dropout on MNIST.

Adadelta's learning rate is 1.0 as in Keras <= 2.3; tf.keras's default of 0.001 reaches only
about 84% (keras-team/keras#13815), which is why every optimizer argument is written out.
"""

from benchbench import Sequential
from benchbench.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from benchbench.optimizers import Adadelta
from benchbench.workloads import AccuracyBand, Profile, Workload


def build() -> Sequential:
    return Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            Conv2D(64, (3, 3), activation="relu"),
            MaxPooling2D(pool_size=(2, 2)),
            Dropout(0.25),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.5),
            Dense(10, activation="softmax"),
        ],
        name="mnist_cnn",
    )


def optimizer() -> Adadelta:
    return Adadelta(
        learning_rate=1.0, rho=0.95, epsilon=1e-7, decay=0.0, clipnorm=0.0, clipvalue=0.0
    )


WORKLOAD = Workload(
    name="mnist_cnn",
    description="MNIST, 2 conv + max pool + dropout CNN (Keras 2 example)",
    dataset="mnist",
    input_shape=(28, 28, 1),
    num_classes=10,
    build=build,
    optimizer=optimizer,
    loss="categorical_crossentropy",
    batch_size=128,
    default=Profile(epochs=12),
    quick=Profile(epochs=2, train_samples=2_000, test_samples=500),
    params=1_199_882,
    reference=AccuracyBand(
        low=0.9892,
        high=0.9925,
        source="keras-team/keras examples/mnist_cnn.py: 99.25% after 12 epochs (script header); "
        "independent runs 98.92-99.16%",
    ),
)
