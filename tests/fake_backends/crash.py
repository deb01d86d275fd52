"""Raises an exception at the trigger step."""

from tests.fake_backends import TRIGGER_STEP, fake_backend


def _crash(step: int) -> None:
    if step == TRIGGER_STEP:
        raise RuntimeError(f"fake crash at step {step}")


probe, Backend = fake_backend("crash", _crash)
