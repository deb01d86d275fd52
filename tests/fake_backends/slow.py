"""Sleeps ``$BENCHBENCH_FAKE_SLEEP`` seconds (default 0) before every step."""

import os
import time

from tests.fake_backends import fake_backend


def _sleep(step: int) -> None:
    time.sleep(float(os.environ.get("BENCHBENCH_FAKE_SLEEP", "0")))


probe, Backend = fake_backend("slow", _sleep)
