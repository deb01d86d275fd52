"""Three-digit addition as Keras's ``addition_rnn.py`` poses it, generated from a seed.

Keras's script draws 50,000 distinct questions ``a+b`` (each number has 1 to 3 digits, the count
and every digit uniform, so leading zeros make shorter numbers; a pair and its swap count as one
question), pads each with spaces to 7 characters and reverses it (``'12+345 '`` becomes
``' 543+21'``; the script's comment shows two spaces, one too many), pads the answer to 4
characters, one-hot encodes both over the 12 characters ``'0123456789+ '`` (sorted:
``' +0123456789'``), shuffles, and holds out the last tenth (5,000) for validation. The same
here, from ``numpy.random.RandomState(seed)`` with the cell's seed (Keras's script uses
NumPy's unseeded global generator, so no run of it is reproducible), in batches of candidates
rather than one question at a time: the questions follow the script's distribution, not its
sequence of draws.
"""

from __future__ import annotations

import numpy as np

from benchbench.datasets.base import DatasetInfo

DIGITS = 3
QUESTIONS = 50_000
MAXLEN = DIGITS + 1 + DIGITS
CHARS = "".join(sorted("0123456789+ "))  # Keras's CharacterTable sorts them
INFO = DatasetInfo("addition", (MAXLEN, len(CHARS)), 45_000, 5_000, len(CHARS), 1.0, seeded=True)


def availability() -> tuple[bool, str]:
    return True, "generated from each cell's seed (nothing to download)"


def _numbers(rng: np.random.RandomState, n: int, digits: int) -> np.ndarray:
    """`n` numbers of 1 to `digits` uniform digits each, read as integers."""
    lengths = rng.randint(1, digits + 1, n)
    draws = rng.randint(0, 10, (n, digits))
    kept = np.arange(digits)[None, :] < lengths[:, None]
    powers = np.where(kept, 10 ** np.maximum(lengths[:, None] - 1 - np.arange(digits), 0), 0)
    return (draws * powers).sum(axis=1)


def questions(
    rng: np.random.RandomState, n: int = QUESTIONS, digits: int = DIGITS
) -> tuple[list[str], list[str]]:
    """`n` distinct reversed questions and their answers, as Keras's script writes them."""
    seen: set[tuple[int, int]] = set()
    pairs: list[tuple[int, int]] = []
    while len(pairs) < n:
        for a, b in zip(_numbers(rng, n, digits), _numbers(rng, n, digits), strict=True):
            key = (min(a, b), max(a, b))
            if key not in seen:
                seen.add(key)
                pairs.append((int(a), int(b)))
                if len(pairs) == n:
                    break
    maxlen = 2 * digits + 1
    queries = [f"{a}+{b}".ljust(maxlen)[::-1] for a, b in pairs]
    answers = [str(a + b).ljust(digits + 1) for a, b in pairs]
    return queries, answers


def encode(strings: list[str]) -> np.ndarray:
    """Each character's position in `CHARS`: ``(len(strings), length)`` uint8."""
    table = {c: i for i, c in enumerate(CHARS)}
    return np.array([[table[c] for c in s] for s in strings], dtype=np.uint8)


def load(*, download: bool | None = None, seed: int = 0):
    """``(x_train (45000, 7, 12) one-hot uint8, y_train (45000, 4) ids, x_val, y_val, source)``.

    `download` is accepted for the common signature; nothing is downloaded.
    """
    rng = np.random.RandomState(seed)
    queries, answers = questions(rng)
    x, y = encode(queries), encode(answers)
    order = np.arange(len(x))
    rng.shuffle(order)  # as the script does before splitting
    x, y = np.eye(len(CHARS), dtype=np.uint8)[x[order]], y[order]
    split = len(x) - len(x) // 10
    source = f"generated: {len(x):,} distinct {DIGITS}-digit additions, reversed (seed {seed})"
    return x[:split], y[:split], x[split:], y[split:], source
