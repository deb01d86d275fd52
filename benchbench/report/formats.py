"""How numbers read in a report: three significant figures, units spelled out."""

from __future__ import annotations

import math


def decimals(value: float) -> int:
    """Decimals that give about three significant figures (at least one)."""
    if value == 0 or not math.isfinite(value):
        return 2
    return min(6, max(1, 2 - math.floor(math.log10(abs(value)))))


def seconds(value: float, spread: float | None = None) -> str:
    """``4.70`` or, with a spread, ``4.70 ± 0.05`` (both to the median's precision)."""
    places = decimals(value)
    text = f"{value:.{places}f}"
    if spread is not None:
        text += f" ± {spread:.{places}f}"
    return text


def ratio(value: float) -> str:
    """``3.1x``, ``150x``; below 1, two significant figures (``0.9x``, ``0.0076x``)."""
    if value < 1:
        return f"{value:.2g}x"
    return f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.{decimals(value)}f}"


def size(value: float) -> str:
    if value >= 2**30:
        return f"{value / 2**30:.2f} GiB"
    return f"{value / 2**20:.0f} MiB"


def percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def band(low: float, high: float) -> str:
    return f"{100 * low:.2f}–{100 * high:.2f}%"


def loss(value: float) -> str:
    return f"{value:.4f}"


def loss_band(low: float, high: float) -> str:
    return f"{low:.2f}–{high:.2f}"


#: How a workload's quality measure reads: the value, its band, a difference between two values.
QUALITY = {
    "val_accuracy": (percent, band, lambda d: f"{100 * d:.2f} points"),
    "train_loss": (loss, loss_band, lambda d: f"{d:.4f}"),
}


def quality(value: float, metric: str) -> str:
    """A value of a quality measure: ``97.50%`` for accuracy, ``1.4012`` for a loss."""
    return QUALITY[metric][0](value)


def quality_band(low: float, high: float, metric: str) -> str:
    return QUALITY[metric][1](low, high)


def quality_spread(difference: float, metric: str) -> str:
    return QUALITY[metric][2](difference)
