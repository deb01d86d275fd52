"""What makes two cells comparable in a report: their *setting*.

A setting is the profile (quick or default), the epochs, the number of training samples, the
batch size, the threads and whether the data was synthetic. A report puts two cells in one
column only when their settings agree; `describe_setting` names what the columns of a workload
share (said once, above its tables) and what tells them apart (in the column headings).
"""

from __future__ import annotations

from benchbench.results import CellResult

SETTING_FIELDS = ("profile", "epochs", "samples", "batch_size", "threads", "synthetic")


def settings_of(results: list[CellResult]) -> dict[int, dict]:
    """Index of each result -> its setting: profile, epochs, training samples, batch size,
    threads, synthetic. A cell that ran reports what it used; one that did not takes the setting
    of a cell of the same run and spec that did, on any machine of the run (a cluster run's
    machines share its id), else what its spec says."""
    own = {i: _setting(r) for i, r in enumerate(results)}
    ran: dict[tuple, dict] = {}
    for i, r in enumerate(results):
        if r.status == "ok" and r.workload_info:
            ran.setdefault(_spec_key(r), own[i])
    return {
        i: own[i] if results[i].status == "ok" else ran.get(_spec_key(results[i]), own[i])
        for i in own
    }


def _spec_key(r: CellResult) -> tuple:
    s = r.spec
    return (
        r.run_id,
        s.workload,
        s.device,
        s.quick,
        s.epochs,
        s.batch_size,
        s.threads,
        s.synthetic,
    )


def _setting(r: CellResult) -> dict:
    info = r.workload_info or {}
    return {
        "profile": "quick" if r.spec.quick else "default",
        "epochs": info.get("epochs", r.spec.epochs),
        "samples": info.get("train_samples"),
        "batch_size": info.get("batch_size", r.spec.batch_size),
        "threads": r.spec.threads,
        "synthetic": bool(r.spec.synthetic),
    }


def setting_key(setting: dict) -> str:
    return "|".join(f"{k}={setting.get(k)}" for k in SETTING_FIELDS)


def _setting_part(field: str, value, varying: bool = False) -> str:
    """One field of a setting as words; an unknown value ('' if the field is shared, else
    what the default was) reads as what decided it."""
    if field == "profile":
        return f"{value} profile"
    if value is None:
        defaults = {"batch_size": "default batch", "threads": "default threads"}
        if varying:
            defaults.update(epochs="the profile's epochs", samples="all training samples")
        return defaults.get(field, "")
    if field == "synthetic":
        return "synthetic data" if value else "real data"
    if field == "samples":
        return f"{value:,} training samples"
    if field == "batch_size":
        return f"batch {value}"
    if field == "threads":
        return f"{value} thread{'s' * (value != 1)}"
    return f"{value} {field}"


def describe_setting(
    settings: dict[str, dict], keys: list[str], only: str | None = None, common: bool = False
) -> str:
    """Text of the fields that differ among `keys`' settings, for the setting `only`; or, with
    `common`, of the fields that all of them share."""
    chosen = [settings[k] for k in keys if k in settings]
    if not chosen:
        return ""
    varying = {f for f in SETTING_FIELDS if len({repr(s.get(f)) for s in chosen}) > 1}
    fields = [f for f in SETTING_FIELDS if (f not in varying) == common]
    source = chosen[0] if common else settings.get(only, {})
    parts = (_setting_part(f, source.get(f), not common) for f in fields)
    return ", ".join(p for p in parts if p)
