"""Keras 2's ``examples/imdb_bidirectional_lstm.py``: a bidirectional LSTM on IMDB sentiment.

As the script: ``imdb.load_data(num_words=20000)`` (Keras's defaults ``seed=113, start_char=1,
oov_char=2, index_from=3``), every review cut or padded to its last 100 ids at the front
(``pad_sequences``' defaults), ``model.compile('adam', ...)``, which is Adam with Keras 2's
defaults (lr 0.001, epsilon 1e-7), batch 32, 4 epochs, the test set as validation data. The
script's header quotes ~0.8146 after 4 epochs on a CPU; Jeong-Yoon Lee's runs gave 0.831-0.839.
On a CPU an epoch is minutes (the header: ~150 s on a Core i7), so the published setting is
affordable on one, as it was in 2017.
"""

from benchbench import Sequential
from benchbench.layers import LSTM, Bidirectional, Dense, Dropout, Embedding
from benchbench.optimizers import Adam
from benchbench.workloads import Band, Profile, Workload

MAX_FEATURES, MAXLEN = 20_000, 100


def build() -> Sequential:
    return Sequential(
        [
            Embedding(MAX_FEATURES, 128, input_length=MAXLEN),
            Bidirectional(LSTM(64)),
            Dropout(0.5),
            Dense(1, activation="sigmoid"),
        ],
        name="imdb_bilstm",
    )


def optimizer() -> Adam:
    return Adam(
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        decay=0.0,
        amsgrad=False,
        clipnorm=0.0,
        clipvalue=0.0,
    )


WORKLOAD = Workload(
    name="imdb_bilstm",
    description="IMDB sentiment, Embedding + bidirectional LSTM(64) (Keras 2 example)",
    dataset="imdb",
    input_shape=(MAXLEN,),
    num_classes=2,
    build=build,
    optimizer=optimizer,
    loss="binary_crossentropy",
    batch_size=32,
    default=Profile(epochs=4),
    quick=Profile(epochs=1, train_samples=2_000, test_samples=1_000),
    params=2_658_945,
    reference=Band(
        low=0.80,
        high=0.85,
        source="keras-team/keras examples/imdb_bidirectional_lstm.py: ~0.8146 after 4 epochs "
        "(script header); Jeong-Yoon Lee's Keras backend benchmark 0.831-0.839; the band runs "
        "from 1.5 points under the script's figure to 1 point over Lee's",
    ),
    vocabulary=MAX_FEATURES,
    dataset_options={"num_words": MAX_FEATURES, "maxlen": MAXLEN},
)
