"""MNIST-1D's reference MLP (Greydanus & Kobak, ICML 2024): 40-100-100-10 with a residual block.

The reference computes ``h = relu(W1 x); h = h + relu(W2 h); logits = W3 h``; the functional API
writes the skip connection with `Add`. Training follows the authors' ``train.py``: Adam at 1e-2
(PyTorch's betas and epsilon), batch 100, 8,000 steps, which is 200 epochs of 40 steps. The
reference walks the training set in order; benchbench's fit loop shuffles every epoch.
"""

from benchbench import Input, Model
from benchbench.layers import Add, Dense
from benchbench.optimizers import Adam
from benchbench.workloads import AccuracyBand, Profile, Workload


def build() -> Model:
    x = Input((40,))
    h = Dense(100, activation="relu")(x)
    h = Add()([h, Dense(100, activation="relu")(h)])
    y = Dense(10, activation="softmax")(h)
    return Model(x, y, name="mnist1d_mlp")


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
    name="mnist1d_mlp",
    description="MNIST-1D, 40-100-100-10 residual MLP (Greydanus & Kobak)",
    dataset="mnist1d",
    input_shape=(40,),
    num_classes=10,
    build=build,
    optimizer=optimizer,
    loss="sparse_categorical_crossentropy",
    batch_size=100,
    default=Profile(epochs=200),
    quick=Profile(epochs=5),
    params=15_210,
    reference=AccuracyBand(
        low=0.60,
        high=0.72,
        source="Greydanus & Kobak, 'Scaling down deep learning with MNIST-1D' (ICML 2024): MLP "
        "68%; the authors' notebook run 65.1%; band of a few points either side",
    ),
)
