"""SIGKILLs its own process at the trigger step, as the kernel's OOM killer would."""

import os
import signal

from tests.fake_backends import TRIGGER_STEP, fake_backend


def _kill(step: int) -> None:
    if step == TRIGGER_STEP:
        os.kill(os.getpid(), signal.SIGKILL)


probe, Backend = fake_backend("sigkill", _kill)
