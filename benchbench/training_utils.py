"""Helpers the fit loops share: batch slicing, Keras's argument defaults and checks."""

from __future__ import annotations


def slices(x, y, batch_size: int, order):
    """``(x, y)`` batches of `batch_size` in `order` (None: as stored)."""
    for lo in range(0, len(x), batch_size):
        if order is None:
            yield x[lo : lo + batch_size], y[lo : lo + batch_size]
        else:
            idx = order[lo : lo + batch_size]
            yield x[idx], y[idx]


def validates(epoch: int, freq) -> bool:
    """Keras's ``validation_freq``: every `freq` epochs, or after the listed (1-based) ones."""
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in set(freq)


def scores(logs: dict, verbose: int):
    if verbose:
        print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
    values = list(logs.values())
    return values if len(values) > 1 else values[0]


def batch_size_of(what: str, batch_size) -> int:
    """Keras's default of 32 for None; ValueError for anything but a positive int."""
    if batch_size is None:
        return 32
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"{what}: batch_size must be a positive int, got {batch_size!r}")
    return batch_size


def check_verbose(what: str, verbose) -> None:
    if verbose not in (0, 1, 2):
        raise ValueError(f"{what}: verbose must be 0, 1 or 2, got {verbose!r}")


def xy_pair(what: str, data) -> tuple:
    data = tuple(data)
    if len(data) != 2:
        raise ValueError(
            f"{what} must be (x, y); got {len(data)} items (sample weights are not supported)"
        )
    return data


def refuse_unsupported(what: str, **given) -> None:
    """ValueError naming the Keras 2 arguments benchbench does not support, when given."""
    used = [name for name, value in given.items() if value is not None]
    if used:
        raise ValueError(
            f"{what}: {', '.join(used)} {'is' if len(used) == 1 else 'are'} not supported by "
            "benchbench (every sample weighs the same, and arrays are used whole); remove "
            f"{'it' if len(used) == 1 else 'them'}"
        )
