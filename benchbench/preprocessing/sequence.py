"""Keras 2's ``keras.preprocessing.sequence``: `pad_sequences`."""

from __future__ import annotations

import numpy as np


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> np.ndarray:
    """Cuts or pads every sequence to `maxlen`, as Keras 2 does.

    Args:
        sequences: a list of sequences (lists of ids, or of equal-shaped vectors).
        maxlen: the length of the result; default: the longest sequence.
        dtype: of the result.
        padding: 'pre' or 'post': where `value` fills a short sequence.
        truncating: 'pre' or 'post': which end of a long sequence is cut off.
        value: the padding value.

    Returns:
        An array ``(len(sequences), maxlen, *sample_shape)``.

    Raises:
        ValueError: an unknown `padding`/`truncating`, or sequences of different sample shapes.
    """
    for name, given in (("padding", padding), ("truncating", truncating)):
        if given not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {given!r}")
    sequences = list(sequences)
    lengths = [len(s) for s in sequences]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape = next((np.asarray(s).shape[1:] for s in sequences if len(s)), ())
    out = np.full((len(sequences), maxlen, *sample_shape), value, dtype=dtype)
    for i, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen])
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"pad_sequences: sequence {i} has samples of shape {kept.shape[1:]}, the first "
                f"non-empty one {sample_shape}"
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out
