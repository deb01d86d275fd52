"""FLOPs per sample against counts worked out by hand from the layer shapes (no framework)."""

from __future__ import annotations

import pytest

from benchbench import flops, initializers, workloads
from benchbench.errors import ModelBuildError
from benchbench.layers import (
    GRU,
    LSTM,
    Add,
    Bidirectional,
    Conv1D,
    Dense,
    Embedding,
    Flatten,
    Layer,
    SimpleRNN,
    TimeDistributed,
    WeightSpec,
)
from benchbench.models import Input, Model, Sequential


def _mnist_mlp_by_hand() -> tuple[int, int]:
    # 784-512-512-10; dropout and activations are not counted.
    matmuls = [2 * 784 * 512, 2 * 512 * 512, 2 * 512 * 10]
    biases = [512, 512, 10]
    forward = sum(matmuls) + sum(biases)
    # weights' gradients cost the forward again; inputs' gradients all but the first matmul
    return forward, 2 * forward + sum(matmuls[1:])


def _mnist_cnn_by_hand() -> tuple[int, int]:
    # conv 3x3x1x32 on 26x26 outputs, conv 3x3x32x64 on 24x24, pool to 12x12x64, 9216-128-10
    matmuls = [
        2 * 26 * 26 * 3 * 3 * 1 * 32,
        2 * 24 * 24 * 3 * 3 * 32 * 64,
        2 * 9216 * 128,
        2 * 128 * 10,
    ]
    biases = [26 * 26 * 32, 24 * 24 * 64, 128, 10]
    forward = sum(matmuls) + sum(biases)
    return forward, 2 * forward + sum(matmuls[1:])


def test_keras_mnist_mlp():
    model = workloads.get("mnist_mlp").build()
    assert model.count_params() == 669_706
    assert _mnist_mlp_by_hand() == (1_338_378, 3_211_284)
    assert flops.forward_flops_per_sample(model) == 1_338_378
    assert flops.training_flops_per_sample(model) == 3_211_284


def test_keras_mnist_cnn():
    model = workloads.get("mnist_cnn").build()
    assert model.count_params() == 1_199_882
    assert _mnist_cnn_by_hand() == (24_043_530, 71_682_580)
    assert flops.forward_flops_per_sample(model) == 24_043_530
    assert flops.training_flops_per_sample(model) == 71_682_580


def test_strided_same_padded_conv1d_without_bias():
    model = Sequential(
        [Conv1D(8, 3, strides=2, padding="same", use_bias=False, input_shape=(40, 2)), Flatten()]
    )
    macs = 20 * 3 * 2 * 8  # ceil(40 / 2) output positions
    assert flops.forward_flops_per_sample(model) == 2 * macs
    assert flops.training_flops_per_sample(model) == 4 * macs  # no input gradient: data


def test_input_gradient_only_below_a_weight():
    x = Input((6,))
    a = Dense(4)(x)
    b = Dense(4)(x)  # fed by data: no input gradient
    out = Dense(3)(Add()([a, b]))  # fed by weights: input gradient
    model = Model(x, out)
    forward = (2 * 6 * 4 + 4) * 2 + 2 * 4 * 3 + 3
    assert flops.forward_flops_per_sample(model) == forward
    assert flops.training_flops_per_sample(model) == 2 * forward + 2 * 4 * 3


class Scale(Layer):
    def weight_specs(self, input_shape):
        return [WeightSpec("scale", input_shape, initializers.get("ones"))]


def test_an_unknown_weighted_layer_is_refused_with_its_name():
    model = Sequential([Dense(4, input_shape=(3,)), Scale(name="scale_1")])
    with pytest.raises(ValueError, match=r"'scale_1' \(Scale\).*add a rule"):
        flops.training_flops_per_sample(model)
    assert flops.training_flops_or_none(model) is None
    assert flops.layer_flops(Flatten(), (4, 2)) == (0, 0)


def test_unbuilt_model_is_a_build_error():
    model = Sequential([Dense(4)])
    with pytest.raises(ModelBuildError, match="input shape"):
        flops.training_flops_per_sample(model)
    assert flops.training_flops_or_none(Sequential([Dense(2, input_shape=(3,))])) == 2 * (
        2 * 3 * 2 + 2
    )


# -- recurrent and embedding layers --------------------------------------------------------------


def test_lstm_counts_its_products_and_the_state_gradient():
    model = Sequential([LSTM(4, input_shape=(5, 3)), Dense(2)])
    lstm = 5 * (2 * 3 * 16 + 2 * 4 * 16 + 16)  # 5 steps: input, recurrent products, bias
    dense = 2 * 4 * 2 + 2
    assert flops.forward_flops_per_sample(model) == lstm + dense
    # no input gradient for the LSTM (fed by data), but the state's through the recurrent kernel
    state = 5 * 2 * 4 * 16
    assert flops.training_flops_per_sample(model) == 2 * (lstm + dense) + 2 * 4 * 2 + state


def test_embedding_counts_nothing_but_makes_the_next_layer_count_its_input_gradient():
    model = Sequential([Embedding(50, 4, input_length=5), GRU(3, reset_after=True)])
    per_step = 2 * 4 * 9 + 2 * 3 * 9 + 2 * 9  # two bias rows
    forward = 5 * per_step
    assert flops.forward_flops_per_sample(model) == forward
    training = 2 * forward + 5 * 2 * 4 * 9 + 5 * 2 * 3 * 9
    assert flops.training_flops_per_sample(model) == training


def test_bidirectional_and_time_distributed():
    model = Sequential(
        [
            Bidirectional(SimpleRNN(2, return_sequences=True), input_shape=(3, 2)),
            TimeDistributed(Dense(3)),
        ]
    )
    one_direction = 3 * (2 * 2 * 2 + 2 * 2 * 2 + 2)
    dense = 3 * (2 * 4 * 3 + 3)  # 3 steps of Dense(3) on the 4 concatenated features
    assert flops.forward_flops_per_sample(model) == 2 * one_direction + dense
    state = 2 * 3 * 2 * 2 * 2
    training = 2 * (2 * one_direction + dense) + state + 3 * 2 * 4 * 3
    assert flops.training_flops_per_sample(model) == training
