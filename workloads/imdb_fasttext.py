"""Keras 2's ``examples/imdb_fasttext.py`` with unigrams (its default ``ngram_range = 1``).

fastText (Joulin et al., 'Bag of Tricks for Efficient Text Classification'): an embedding of
every word, averaged over the review (GlobalAveragePooling1D), and a logistic regression on the
average. As the script: ``imdb.load_data(num_words=20000)`` with Keras's defaults, reviews cut or
padded to their last 400 ids at the front, 50-dimensional embeddings, Adam with Keras 2's
defaults (``optimizer='adam'``), batch 32, 5 epochs, the test set as validation data. The
script's table: 0.8813 after 5 epochs with unigrams (8 s/epoch on an i7 CPU); Jeong-Yoon Lee's
runs 0.8856. The bigram variant (0.9056) is not this workload.
"""

from benchbench import Sequential
from benchbench.layers import Dense, Embedding, GlobalAveragePooling1D
from benchbench.optimizers import Adam
from benchbench.workloads import Band, Profile, Workload

MAX_FEATURES, MAXLEN, EMBEDDING_DIMS = 20_000, 400, 50


def build() -> Sequential:
    return Sequential(
        [
            Embedding(MAX_FEATURES, EMBEDDING_DIMS, input_length=MAXLEN),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ],
        name="imdb_fasttext",
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
    name="imdb_fasttext",
    description="IMDB sentiment, fastText: Embedding + average + logistic regression (Keras 2)",
    dataset="imdb",
    input_shape=(MAXLEN,),
    num_classes=2,
    build=build,
    optimizer=optimizer,
    loss="binary_crossentropy",
    batch_size=32,
    default=Profile(epochs=5),
    quick=Profile(epochs=1, train_samples=5_000, test_samples=2_000),
    params=1_000_051,
    reference=Band(
        low=0.87,
        high=0.895,
        source="keras-team/keras examples/imdb_fasttext.py: 0.8813 after 5 epochs with "
        "unigrams (script's table); Jeong-Yoon Lee's Keras backend benchmark 0.8856; band of "
        "about a point either side",
    ),
    vocabulary=MAX_FEATURES,
    dataset_options={"num_words": MAX_FEATURES, "maxlen": MAXLEN},
)
