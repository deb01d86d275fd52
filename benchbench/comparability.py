"""Whether two sets of results can be compared: environments, settings, and noise.

`benchbench.check` asks this module three questions about a cell (workload, backend, device)
present on both sides: did both run in the same environment (fingerprints), with the same
settings (profile, epochs, batch size, synthetic data, threads), and was either side measured
while other processes used its CPUs (the cell's repeats flagged noisy by
`benchbench.interference`)? Differences in the first two are warnings; noise makes a change in
a timing metric 'unclear (noisy)' instead of a regression or an improvement.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchbench.results import CellResult

#: Spec fields that must match for a comparison to mean anything.
SETTINGS = ("quick", "epochs", "batch_size", "synthetic", "threads")
#: Metrics that other processes on the cell's CPUs can change (memory and accuracy they cannot).
TIMING_METRICS = ("epoch_time", "first_epoch_time", "step_time", "throughput")


def noisy_repeats(results: Sequence[CellResult]) -> list[int]:
    """Repeats flagged noisy among the cell's results that ran."""
    return [r.spec.repeat for r in results if r.status == "ok" and r.noisy]


def noise_note(baseline: Sequence[CellResult], current: Sequence[CellResult]) -> str:
    """'' when neither side is noisy, else which repeats of which side were, with the figures
    of the noisiest one, e.g. 'current: 3 of 5 repeats noisy (others used 48%...)'."""
    parts = []
    for side, results in (("baseline", baseline), ("current", current)):
        ran = [r for r in results if r.status == "ok"]
        noisy = [r for r in ran if r.noisy]
        if not noisy:
            continue
        worst = max(noisy, key=lambda r: r.interference.others_cpu)
        parts.append(
            f"{side}: {len(noisy)} of {len(ran)} repeats noisy ({worst.interference.describe()})"
        )
    return "; ".join(parts)


def unstable_note(baseline: Sequence[CellResult], current: Sequence[CellResult]) -> str:
    """'' when no repeat is unstable, else which side's repeats were."""
    parts = []
    for side, results in (("baseline", baseline), ("current", current)):
        unstable = [r.spec.repeat for r in results if r.status == "ok" and r.unstable]
        if unstable:
            parts.append(f"{side} repeats {', '.join(map(str, unstable))}")
    return "; ".join(parts)


def environment_difference(
    baseline: Sequence[CellResult], current: Sequence[CellResult]
) -> str | None:
    """A warning if the two sides ran in different environments (by fingerprint), else None."""
    prints = [
        {r.environment.get("fingerprint") for r in side} - {None} for side in (baseline, current)
    ]
    if prints[0] == prints[1]:
        return None
    if not prints[0] or not prints[1]:
        which = "baseline" if not prints[0] else "current"
        return (
            f"the {which} results carry no environment fingerprint: cannot tell whether "
            "both ran in the same environment"
        )
    envs = (baseline[0].environment, current[0].environment)
    keys = sorted(
        k
        for k in set(envs[0]) | set(envs[1])
        if k != "fingerprint" and envs[0].get(k) != envs[1].get(k)
    )
    shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
    detail = f" (differing: {shown})" if keys else ""
    return (
        f"environment fingerprints differ: baseline {_short(prints[0])}, current "
        f"{_short(prints[1])}{detail}; differences may come from the environment, not "
        "the code"
    )


def _short(fingerprints: set) -> str:
    return ", ".join(sorted(str(f)[:12] for f in fingerprints))


def settings_difference(baseline: CellResult, current: CellResult) -> str:
    a, b = baseline.spec, current.spec
    return ", ".join(
        f"{name} {getattr(a, name)} -> {getattr(b, name)}"
        for name in SETTINGS
        if getattr(a, name) != getattr(b, name)
    )
