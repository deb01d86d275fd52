"""Hangs (sleeps for an hour) at the trigger step."""

import time

from tests.fake_backends import TRIGGER_STEP, fake_backend


def _hang(step: int) -> None:
    if step == TRIGGER_STEP:
        time.sleep(3600)


probe, Backend = fake_backend("hang", _hang)
